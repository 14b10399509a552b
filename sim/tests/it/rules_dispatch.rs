//! RMQ-8..RMQ-16: dispatch, prefetch, acknowledgements and requeueing
//! (`reference/semantics.md` §1.2).
//!
//! Timing used throughout: every hop takes `latency_ms` (2 ms by default). A message published
//! at t reaches its queue at t+2 and, if a consumer has room, is delivered then; it reaches the
//! consumer at t+4, is processed for the consumer's fixed time P, and the ack arrives at t+6+P.

use crate::helpers::{
    always_fails, any_kind, apply, burst_rate, cmd, constant_rate, consumer_id, count_kind,
    crashes, dropped, events_of_type, ids_received_by, pick, queue_consumer, queue_contents,
    queue_producer, queue_view, received_by, report_dead_letters, report_queue, report_received,
    report_received_ids, requeued, rule_file, run_file, run_ms, sim_of, trace, With,
};
use broker_sim::{DropReason, Event, EventKind, MessageId, Settle, SimTime, Simulation};
use serde_json::{json, Value};

/// One queue `q` (`{ "name": "q" }` plus `queue_fields`), `producer` publishing to it, and
/// `consumers` on it; every hop takes the default 2 ms.
fn one_queue(queue_fields: Value, producer: Value, consumers: &[Value]) -> Simulation {
    sim_of(json!({
        "version": 1,
        "queues": [json!({ "name": "q" }).with(queue_fields)],
        "producers": [producer],
        "consumers": consumers
    }))
}

/// Producer `p` publishing `n` messages to `q` at once, at 0 ms.
fn burst(n: u64) -> Value {
    queue_producer("p", "q", burst_rate(n, 0.0))
}

/// Producer `p` publishing to `q` evenly, `per_sec` a second.
fn steady(per_sec: f64) -> Value {
    queue_producer("p", "q", constant_rate(per_sec))
}

fn worker(name: &str, prefetch: u32, ms: f64) -> Value {
    queue_consumer(name, "q", prefetch, ms)
}

fn delivered_count(events: &[Event]) -> usize {
    count_kind(events, |k| matches!(k, EventKind::Delivered { .. }))
}

/// (message id, time in ms, settlement) of every settlement the broker received.
fn settlements(events: &[Event]) -> Vec<(u64, u64, Settle)> {
    pick(events, |e| match &e.kind {
        EventKind::Settled { msg, settle, .. } => Some((msg.0, e.time.micros() / 1_000, *settle)),
        _ => None,
    })
}

/// `channel_closed` events as (time, consumer index, reason). Matched by serialised tag.
fn channel_closed(events: &[Event]) -> Vec<(SimTime, u64, String)> {
    events_of_type(events, "channel_closed")
        .into_iter()
        .map(|(t, v)| {
            (
                t,
                v["consumer"].as_u64().expect("consumer id"),
                v["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------- RMQ-8

#[test]
fn rmq_08_round_robin_ignores_how_busy_each_consumer_is() {
    // c1 takes 1 s per message, c2 10 ms; with unlimited prefetch both get every other message.
    let mut s = one_queue(
        json!({}),
        steady(10.0).with(json!({ "limit": 6 })),
        &[worker("c1", 0, 1000.0), worker("c2", 0, 10.0)],
    );
    let events = run_ms(&mut s, 5_000);
    assert_eq!(ids_received_by(&events, &s, "c1"), [0, 2, 4]);
    assert_eq!(ids_received_by(&events, &s, "c2"), [1, 3, 5]);
    assert_eq!(s.ledger().acked, 6);
}

#[test]
fn rmq_08_full_consumer_is_skipped_and_rejoins_at_the_back() {
    // c1 (prefetch 1, 25 ms) is busy for 29 ms after each delivery; messages come every 10 ms.
    // After its ack c1 rejoins behind c2 and c3, so the next message goes to c2, not c1.
    let mut s = one_queue(
        json!({}),
        steady(100.0).with(json!({ "limit": 11 })),
        &[
            worker("c1", 1, 25.0),
            worker("c2", 0, 1.0),
            worker("c3", 0, 1.0),
        ],
    );
    let events = run_ms(&mut s, 300);
    assert_eq!(
        ids_received_by(&events, &s, "c1"),
        [0, 5, 10],
        "{}",
        trace(&events)
    );
    assert_eq!(ids_received_by(&events, &s, "c2"), [1, 3, 6, 8]);
    assert_eq!(ids_received_by(&events, &s, "c3"), [2, 4, 7, 9]);
}

/// lo1 and lo2 subscribe before hi; all have prefetch 1 and 10 ms processing; 4 messages at once.
fn priority_scenario(hi_priority: Option<i32>) -> Simulation {
    let mut hi = worker("hi", 1, 10.0);
    if let Some(p) = hi_priority {
        hi = hi.with(json!({ "priority": p }));
    }
    one_queue(
        json!({}),
        burst(4),
        &[worker("lo1", 1, 10.0), worker("lo2", 1, 10.0), hi],
    )
}

#[test]
fn rmq_08_without_priorities_rotation_follows_subscription_order() {
    let mut s = priority_scenario(None);
    let events = run_ms(&mut s, 100);
    assert_eq!(ids_received_by(&events, &s, "lo1"), [0, 3]);
    assert_eq!(ids_received_by(&events, &s, "lo2"), [1]);
    assert_eq!(ids_received_by(&events, &s, "hi"), [2]);
}

#[test]

fn rmq_08_consumer_priority_lower_consumers_get_messages_only_while_higher_is_blocked() {
    let mut s = priority_scenario(Some(1));
    let events = run_ms(&mut s, 100);
    // hi takes m0 and is full; lo1, lo2 rotate; hi's ack arrives first, so hi gets m3.
    assert_eq!(
        ids_received_by(&events, &s, "hi"),
        [0, 3],
        "{}",
        trace(&events)
    );
    assert_eq!(ids_received_by(&events, &s, "lo1"), [1]);
    assert_eq!(ids_received_by(&events, &s, "lo2"), [2]);
}

#[test]

fn rmq_08_consumer_priority_rotation_runs_among_the_highest_only() {
    let hi1 = worker("hi1", 0, 10.0).with(json!({ "priority": 5 }));
    let hi2 = worker("hi2", 0, 10.0).with(json!({ "priority": 5 }));
    let neg = worker("neg", 0, 10.0).with(json!({ "priority": -3 }));
    let mut s = one_queue(json!({}), burst(4), &[worker("lo", 0, 10.0), neg, hi1, hi2]);
    let events = run_ms(&mut s, 100);
    assert_eq!(
        ids_received_by(&events, &s, "hi1"),
        [0, 2],
        "{}",
        trace(&events)
    );
    assert_eq!(ids_received_by(&events, &s, "hi2"), [1, 3]);
    assert!(ids_received_by(&events, &s, "lo").is_empty());
    assert!(ids_received_by(&events, &s, "neg").is_empty());
}

#[test]
fn rmq_08_example_scenario() {
    let path = &rule_file("rmq-08-round-robin.json");
    // At 2 s the fast worker is long done, but the slow one still holds four of its five.
    let (_, _, r) = run_file(path, 2_000);
    let q = report_queue(&r, "tasks");
    assert_eq!((q.ready, q.unacked, r.ledger.acked), (0, 4, 6));
    let (_, _, r) = run_file(path, 10_000);
    assert_eq!(report_received_ids(&r, "slow-worker"), [0, 2, 4, 6, 8]);
    assert_eq!(report_received_ids(&r, "fast-worker"), [1, 3, 5, 7, 9]);
    assert_eq!(r.ledger.acked, 10);
}

// ---------------------------------------------------------------- RMQ-9

#[test]
fn rmq_09_prefetch_caps_unacked_deliveries_per_consumer() {
    let mut s = one_queue(json!({}), burst(10), &[worker("c1", 3, 100.0)]);
    let events = run_ms(&mut s, 3);
    assert_eq!(delivered_count(&events), 3);
    let q = queue_view(&s, "q");
    assert_eq!((q.ready, q.unacked), (7, 3));
    // One ack frees one slot: exactly one more delivery.
    let events = run_ms(&mut s, 107);
    assert_eq!(ids_received_by(&events, &s, "c1"), [3]);
    assert_eq!(queue_view(&s, "q").unacked, 3);
}

#[test]
fn rmq_09_prefetch_zero_is_unlimited() {
    let mut s = one_queue(json!({}), burst(10), &[worker("c1", 0, 100.0)]);
    let events = run_ms(&mut s, 3);
    assert_eq!(delivered_count(&events), 10);
    assert_eq!(queue_view(&s, "q").unacked, 10);
}

#[test]
fn rmq_09_prefetch_one_gives_fair_dispatch() {
    // The same slow/fast pair as RMQ-8, but prefetch 1: the next message goes to whoever is free.
    let mut s = one_queue(
        json!({}),
        burst(10),
        &[worker("slow", 1, 100.0), worker("fast", 1, 10.0)],
    );
    let events = run_ms(&mut s, 1_000);
    assert_eq!(
        ids_received_by(&events, &s, "slow"),
        [0, 9],
        "{}",
        trace(&events)
    );
    assert_eq!(
        ids_received_by(&events, &s, "fast"),
        [1, 2, 3, 4, 5, 6, 7, 8]
    );
}

/// 2 500 messages at once into `q` (plus `queue_fields`), one slow consumer c1 with `prefetch`;
/// the events up to 3 ms.
fn big_burst(queue_fields: Value, prefetch: u32) -> (Simulation, Vec<Event>) {
    let mut s = one_queue(
        queue_fields,
        burst(2_500),
        &[worker("c1", prefetch, 1000.0)],
    );
    let events = run_ms(&mut s, 3);
    (s, events)
}

#[test]
fn rmq_09_classic_queue_unlimited_prefetch_is_not_capped() {
    let (_, events) = big_burst(json!({}), 0);
    assert_eq!(delivered_count(&events), 2_500);
}

#[test]

fn rmq_09_quorum_queue_caps_unlimited_prefetch_at_2000() {
    let (s, events) = big_burst(json!({ "type": "quorum" }), 0);
    assert_eq!(delivered_count(&events), 2_000);
    let q = queue_view(&s, "q");
    assert_eq!((q.ready, q.unacked), (500, 2_000));
}

#[test]

fn rmq_09_quorum_queue_caps_a_larger_prefetch_at_2000() {
    let (s, events) = big_burst(json!({ "type": "quorum" }), 5_000);
    assert_eq!(delivered_count(&events), 2_000);
    assert_eq!(queue_view(&s, "q").ready, 500);
}

#[test]
fn rmq_09_example_scenario() {
    let (_, _, r) = run_file(&rule_file("rmq-09-fair-dispatch.json"), 10_000);
    // The RMQ-8 example with prefetch 1: the fast worker takes most of the work.
    assert_eq!(report_received_ids(&r, "slow-worker"), [0, 9]);
    assert_eq!(
        report_received_ids(&r, "fast-worker"),
        [1, 2, 3, 4, 5, 6, 7, 8]
    );
    assert_eq!(r.ledger.acked, 10);
}

// ---------------------------------------------------------------- RMQ-10

fn auto_ack() -> Simulation {
    one_queue(
        json!({}),
        burst(5),
        &[worker("c1", 1, 100.0).with(json!({ "ack": "auto" }))],
    )
}

#[test]
fn rmq_10_auto_ack_ignores_prefetch_and_removes_message_when_sent() {
    let mut s = auto_ack();
    let events = run_ms(&mut s, 3);
    assert_eq!(
        delivered_count(&events),
        5,
        "prefetch 1 does not apply with no_ack"
    );
    let q = queue_view(&s, "q");
    assert_eq!((q.ready, q.unacked), (0, 0), "gone from the queue at send");
    assert_eq!((s.ledger().unacked, s.ledger().processing), (0, 5));
    let events = run_ms(&mut s, 1_000);
    assert!(settlements(&events).is_empty(), "no acks travel back");
    assert_eq!(s.ledger().acked, 5);
}

#[test]
fn rmq_10_auto_ack_messages_are_lost_when_the_consumer_dies() {
    let mut s = auto_ack();
    let mut events = run_ms(&mut s, 50);
    apply(&mut s, cmd::crash("c1"));
    events.extend(run_ms(&mut s, 1_000));
    assert_eq!(crashes(&events), [(0, 5)]);
    assert_eq!(dropped(&s, DropReason::LostInConsumerCrash), 5);
    assert!(requeued(&events).is_empty());
    assert_eq!(queue_view(&s, "q").total, 0);
    assert_eq!(s.ledger().acked, 0);
}

#[test]
fn rmq_10_example_scenario() {
    let (_, _, r) = run_file(&rule_file("rmq-10-auto-ack-crash.json"), 10_000);
    assert_eq!(
        report_received(&r, "worker").len(),
        10,
        "all 10 sent at once, no redelivery"
    );
    assert_eq!(r.ledger.acked, 1);
    assert_eq!(
        r.ledger
            .dropped
            .get(&DropReason::LostInConsumerCrash)
            .copied(),
        Some(9)
    );
    assert_eq!(r.queue_contents["jobs"].len(), 0);
}

// ---------------------------------------------------------------- RMQ-11

/// Consumer c1 (unlimited prefetch, 100 ms, manual acks) with `extra` fields on `n` messages.
fn manual(n: u64, extra: Value) -> Simulation {
    one_queue(json!({}), burst(n), &[worker("c1", 0, 100.0).with(extra)])
}

#[test]
fn rmq_11_delivered_message_stays_unacked_in_the_queue_until_acked() {
    let mut s = manual(3, json!({}));
    run_ms(&mut s, 3);
    let q = queue_view(&s, "q");
    assert_eq!((q.ready, q.unacked, q.total), (0, 3, 3));
    assert_eq!(s.ledger().unacked, 3);
    // m0 is processed at 104 and its ack lands at 106.
    run_ms(&mut s, 105);
    assert_eq!(queue_view(&s, "q").unacked, 3);
    let events = run_ms(&mut s, 106);
    assert_eq!(settlements(&events), [(0, 106, Settle::Ack)]);
    assert_eq!((queue_view(&s, "q").unacked, s.ledger().acked), (2, 1));
}

#[test]
fn rmq_11_acked_message_is_gone_for_good() {
    let mut s = manual(3, json!({}));
    let mut events = run_ms(&mut s, 400);
    assert_eq!(s.ledger().acked, 3);
    apply(&mut s, cmd::crash("c1"));
    apply(&mut s, cmd::restart("c1"));
    events.extend(run_ms(&mut s, 1_000));
    assert_eq!(
        received_by(&events, &s, "c1"),
        [(0, false), (1, false), (2, false)]
    );
    assert_eq!(queue_view(&s, "q").total, 0);
}

#[test]

fn rmq_11_ack_batch_acks_every_tag_up_to_the_latest_at_once() {
    // 10 ms each: m2 is done at 34, so m0..m2 are acked together at 36; m3..m5 at 66.
    let mut s = manual(
        6,
        json!({ "ack_batch": 3, "processing": { "kind": "fixed", "ms": 10 } }),
    );
    let events = run_ms(&mut s, 35);
    assert!(settlements(&events).is_empty(), "{}", trace(&events));
    assert_eq!(queue_view(&s, "q").unacked, 6);
    let more = run_ms(&mut s, 200);
    let ack = Settle::Ack;
    assert_eq!(
        settlements(&more),
        [
            (0, 36, ack),
            (1, 36, ack),
            (2, 36, ack),
            (3, 66, ack),
            (4, 66, ack),
            (5, 66, ack)
        ],
        "{}",
        trace(&more)
    );
    assert_eq!(s.ledger().acked, 6);
}

#[test]

fn rmq_11_double_ack_closes_the_channel_and_requeues_its_unacked() {
    // 10 ms each: m0 is acked at 16; at 17 m1 is in processing and m2..m4 are waiting.
    let mut s = manual(5, json!({ "processing": { "kind": "fixed", "ms": 10 } }));
    let mut events = run_ms(&mut s, 17);
    assert_eq!(s.ledger().acked, 1);
    apply(&mut s, json!({ "double_ack": { "consumer": "c1" } }));
    events.extend(run_ms(&mut s, 20));
    let closed = channel_closed(&events);
    assert_eq!(closed.len(), 1, "{}", trace(&events));
    assert_eq!(closed[0].1, u64::from(consumer_id(&s, "c1").0));
    assert!(
        closed[0].2.contains("PRECONDITION_FAILED"),
        "{}",
        closed[0].2
    );
    // Nothing unacked is left on the closed channel: m1..m4 are back, redelivered from now on.
    assert_eq!(s.ledger().unacked + s.ledger().ready, 4, "{:?}", s.ledger());
    assert_eq!(requeued(&events), [1, 2, 3, 4]);
    // Any later delivery of them carries redelivered=true; none was acked twice.
    apply(&mut s, cmd::add_consumer(worker("c2", 0, 10.0)));
    events.extend(run_ms(&mut s, 500));
    let redelivered: Vec<(u64, bool)> = events
        .iter()
        .filter(|e| e.time > closed[0].0)
        .filter_map(|e| match e.kind {
            EventKind::Delivered {
                msg, redelivered, ..
            } => Some((msg.0, redelivered)),
            _ => None,
        })
        .collect();
    assert_eq!(
        redelivered,
        [(1, true), (2, true), (3, true), (4, true)],
        "{}",
        trace(&events)
    );
    assert_eq!(s.ledger().acked, 5);
}

#[test]
fn rmq_11_example_scenario() {
    let path = &rule_file("rmq-11-manual-ack.json");
    // At 1.5 s: m0 acked, m1 and m2 unacked (prefetch 2), m3 still ready.
    let (_, _, r) = run_file(path, 1_500);
    let q = report_queue(&r, "jobs");
    assert_eq!((q.ready, q.unacked, r.ledger.acked), (1, 2, 1));
    let (_, _, r) = run_file(path, 10_000);
    assert_eq!(
        report_received(&r, "worker"),
        [(0, false), (1, false), (2, false), (3, false)]
    );
    assert_eq!(r.ledger.acked, 4);
    assert_eq!(r.queue_contents["jobs"].len(), 0);
}

// ---------------------------------------------------------------- RMQ-12

#[test]
fn rmq_12_reject_without_requeue_and_no_dlx_drops() {
    let mut s = manual(2, always_fails("reject", false));
    let events = run_ms(&mut s, 1_000);
    let rej = Settle::Reject { requeue: false };
    assert_eq!(settlements(&events), [(0, 106, rej), (1, 206, rej)]);
    assert_eq!(dropped(&s, DropReason::Rejected), 2);
    assert_eq!(queue_view(&s, "q").total, 0);
    assert!(requeued(&events).is_empty());
}

#[test]
fn rmq_12_nack_without_requeue_dead_letters_with_reason_rejected() {
    let mut s = sim_of(json!({
        "version": 1,
        "exchanges": [{ "name": "dlx", "type": "fanout" }],
        "queues": [{ "name": "q", "dead_letter_exchange": "dlx" }, { "name": "dlq" }],
        "bindings": [{ "exchange": "dlx", "queue": "dlq" }],
        "producers": [burst(3)],
        "consumers": [worker("c1", 0, 10.0).with(always_fails("nack", false))]
    }));
    let events = run_ms(&mut s, 500);
    assert_eq!(queue_contents(&s, "dlq"), [0, 1, 2]);
    assert_eq!(
        report_dead_letters(&s.report(1, &events)),
        [
            (0, "q", "rejected"),
            (1, "q", "rejected"),
            (2, "q", "rejected")
        ]
    );
    assert_eq!(dropped(&s, DropReason::Rejected), 0);
}

#[test]
fn rmq_12_example_scenario() {
    let (_, _, r) = run_file(&rule_file("rmq-12-reject-dead-letter.json"), 10_000);
    assert_eq!(report_received_ids(&r, "worker"), [0, 1, 2, 3, 4]);
    assert_eq!(
        report_received_ids(&r, "dlq-inspector"),
        [2],
        "only the poison message is dead-lettered"
    );
    assert_eq!(report_dead_letters(&r), [(2, "orders", "rejected")]);
    assert_eq!(r.ledger.acked, 5);
}

// ---------------------------------------------------------------- RMQ-13

/// c1 (prefetch 2, slow) takes m0 and m1 of five; c2 starts stopped.
fn requeue_scenario(kind: &str) -> Simulation {
    let c2 = worker("c2", 0, 10.0).with(json!({ "stopped": true }));
    one_queue(
        json!({ "type": kind }),
        burst(5),
        &[worker("c1", 2, 1000.0), c2],
    )
}

#[test]
fn rmq_13_cq_requeue_returns_to_original_position() {
    let mut s = requeue_scenario("classic");
    let mut events = run_ms(&mut s, 50);
    assert_eq!(queue_contents(&s, "q"), [2, 3, 4]);
    apply(&mut s, cmd::crash("c1"));
    assert_eq!(
        queue_contents(&s, "q"),
        [0, 1, 2, 3, 4],
        "back in place, not at the tail"
    );
    apply(&mut s, cmd::restart("c2"));
    events.extend(run_ms(&mut s, 500));
    assert_eq!(
        received_by(&events, &s, "c2"),
        [(0, true), (1, true), (2, false), (3, false), (4, false)]
    );
}

#[test]
fn rmq_13_nacked_message_is_redelivered_before_later_messages() {
    let mut s = one_queue(
        json!({}),
        burst(5),
        &[worker("c1", 2, 10.0).with(always_fails("nack", true))],
    );
    let events = run_ms(&mut s, 30);
    // m0's nack lands at 16 and m0 is at the head again: c1 gets m0, not m2.
    assert_eq!(
        received_by(&events, &s, "c1")[..4],
        [(0, false), (1, false), (0, true), (1, true)],
        "{}",
        trace(&events)
    );
    assert_eq!(queue_contents(&s, "q"), [2, 3, 4]);
}

#[test]
fn rmq_13_example_scenario() {
    let (_, _, r) = run_file(&rule_file("rmq-13-requeue-position.json"), 10_000);
    assert_eq!(report_received(&r, "worker-a"), [(0, false), (1, false)]);
    assert_eq!(
        report_received(&r, "worker-b"),
        [(0, true), (1, true), (2, false), (3, false), (4, false)]
    );
    assert_eq!(r.ledger.acked, 5);
}

// ---------------------------------------------------------------- RMQ-14

/// c1 and c2 (prefetch 1, slow) hold m0 and m1; c2 dies first, then c1.
fn returns_order(kind: &str) -> Vec<u64> {
    let mut s = one_queue(
        json!({ "type": kind }),
        burst(5),
        &[worker("c1", 1, 1000.0), worker("c2", 1, 1000.0)],
    );
    run_ms(&mut s, 50);
    apply(&mut s, cmd::crash("c2"));
    run_ms(&mut s, 60);
    apply(&mut s, cmd::crash("c1"));
    run_ms(&mut s, 70);
    queue_contents(&s, "q")
}

#[test]
fn rmq_14_qq_returns_are_served_first_in_return_order() {
    assert_eq!(returns_order("quorum"), [1, 0, 2, 3, 4]);
    // Contrast (RMQ-13): a classic queue restores the original order.
    assert_eq!(returns_order("classic"), [0, 1, 2, 3, 4]);
}

/// m0 (priority 1) is delivered at once; m1, m2 (priority 10) wait; then the consumer dies.
fn returned_vs_priority(queue: Value) -> Vec<u64> {
    let mut s = sim_of(json!({
        "version": 1,
        "queues": [queue],
        "producers": [burst(3).with(json!({ "message": { "priorities": [1, 10, 10] } }))],
        "consumers": [worker("c1", 1, 1000.0)]
    }));
    run_ms(&mut s, 50);
    assert_eq!(queue_contents(&s, "q"), [1, 2]);
    apply(&mut s, cmd::crash("c1"));
    run_ms(&mut s, 60);
    queue_contents(&s, "q")
}

#[test]
fn rmq_14_qq_returned_message_loses_its_priority() {
    assert_eq!(
        returned_vs_priority(json!({ "name": "q", "type": "quorum" })),
        [0, 1, 2]
    );
    // Contrast: a classic priority queue puts it back in its own (lower) level.
    assert_eq!(
        returned_vs_priority(json!({ "name": "q", "max_priority": 10 })),
        [1, 2, 0]
    );
}

#[test]
fn rmq_14_example_scenario() {
    let (_, _, r) = run_file(&rule_file("rmq-14-quorum-returns.json"), 10_000);
    assert_eq!(
        report_received(&r, "late-worker"),
        [(1, true), (0, true), (2, false), (3, false), (4, false)]
    );
    assert_eq!(r.ledger.acked, 5);
}

// ---------------------------------------------------------------- RMQ-15

#[test]
fn rmq_15_channel_close_requeues_unacked_to_another_consumer() {
    let mut s = one_queue(
        json!({}),
        burst(6),
        &[worker("c1", 3, 100.0), worker("c2", 3, 100.0)],
    );
    let mut events = run_ms(&mut s, 50);
    assert_eq!(ids_received_by(&events, &s, "c1"), [0, 2, 4]);
    apply(&mut s, cmd::crash("c1"));
    events.extend(run_ms(&mut s, 2_000));
    assert_eq!(crashes(&events), [(3, 0)]);
    assert_eq!(
        received_by(&events, &s, "c2"),
        [
            (1, false),
            (3, false),
            (5, false),
            (0, true),
            (2, true),
            (4, true)
        ]
    );
    assert_eq!(s.ledger().acked, 6);
}

#[test]
fn rmq_15_delivery_still_on_the_wire_is_requeued() {
    // Delivered at 2, would arrive at 4; the channel dies at 3.
    let c2 = worker("c2", 0, 10.0).with(json!({ "stopped": true }));
    let mut s = one_queue(json!({}), burst(1), &[worker("c1", 1, 10.0), c2]);
    let mut events = run_ms(&mut s, 3);
    apply(&mut s, cmd::crash("c1"));
    assert_eq!(queue_contents(&s, "q"), [0]);
    apply(&mut s, cmd::restart("c2"));
    events.extend(run_ms(&mut s, 100));
    assert_eq!(received_by(&events, &s, "c2"), [(0, true)]);
    let c1 = consumer_id(&s, "c1");
    assert!(!any_kind(
        &events,
        |k| matches!(k, EventKind::Processed { consumer, .. } if *consumer == c1)
    ));
    assert_eq!(s.ledger().acked, 1);
}

#[test]
fn rmq_15_example_scenario() {
    let (_, _, r) = run_file(&rule_file("rmq-15-consumer-crash.json"), 20_000);
    // worker-a held m0, m2, m4 when it crashed; worker-b gets them after its own, redelivered.
    assert_eq!(
        report_received(&r, "worker-a"),
        [(0, false), (2, false), (4, false)]
    );
    assert_eq!(
        report_received(&r, "worker-b"),
        [
            (1, false),
            (3, false),
            (5, false),
            (0, true),
            (2, true),
            (4, true)
        ]
    );
    assert_eq!(r.ledger.acked, 6);
}

// ---------------------------------------------------------------- RMQ-16

/// One quorum-queue consumer that never finishes in time.
fn stuck_quorum(queue_extra: Value) -> Simulation {
    let queue = json!({ "type": "quorum" }).with(queue_extra);
    one_queue(queue, burst(1), &[worker("c1", 1, 100_000_000.0)])
}

#[test]
fn rmq_16_classic_queue_does_not_enforce_ack_timeout() {
    // 40 minutes of processing, past the 30-minute default: RabbitMQ 4.3 lets a classic queue wait.
    let mut s = one_queue(json!({}), burst(1), &[worker("c1", 1, 2_400_000.0)]);
    let events = run_ms(&mut s, 45 * 60_000);
    assert!(channel_closed(&events).is_empty(), "{}", trace(&events));
    assert_eq!(received_by(&events, &s, "c1"), [(0, false)]);
    assert_eq!(settlements(&events), [(0, 2_400_006, Settle::Ack)]);
}

#[test]

fn rmq_16_qq_ack_timeout_closes_channel_and_requeues() {
    let mut s = stuck_quorum(json!({ "consumer_timeout_ms": 30_000 }));
    let mut events = run_ms(&mut s, 30_000);
    assert!(channel_closed(&events).is_empty(), "not before the timeout");
    events.extend(run_ms(&mut s, 100_000));
    let closed = channel_closed(&events);
    assert_eq!(closed.len(), 1, "{}", trace(&events));
    let (at, who, reason) = &closed[0];
    assert_eq!(*who, u64::from(consumer_id(&s, "c1").0));
    assert!(reason.contains("PRECONDITION_FAILED"), "{reason}");
    // Delivered at 2 ms; the check runs once a minute, so it fires within a minute of the deadline.
    assert!(
        *at >= SimTime::from_millis(30_002) && *at <= SimTime::from_millis(90_002),
        "closed at {at}"
    );
    assert!(
        events.iter().any(|e| e.time == *at
            && matches!(e.kind, EventKind::Requeued { msg, .. } if msg == MessageId(0))),
        "m0 requeued when the channel closed:\n{}",
        trace(&events)
    );
    assert_eq!(
        s.ledger().dropped_total() + s.ledger().dead_lettered_total(),
        0
    );
}

#[test]

fn rmq_16_qq_default_ack_timeout_is_30_minutes() {
    let mut s = stuck_quorum(json!({}));
    let mut events = run_ms(&mut s, 1_800_000);
    assert!(channel_closed(&events).is_empty(), "{}", trace(&events));
    events.extend(run_ms(&mut s, 1_900_000));
    let closed = channel_closed(&events);
    assert_eq!(closed.len(), 1, "{}", trace(&events));
    assert!(
        closed[0].0 <= SimTime::from_millis(1_860_002),
        "closed at {}",
        closed[0].0
    );
}

#[test]

fn rmq_16_ack_timeout_does_not_count_toward_delivery_limit() {
    // delivery_limit 1: a second counted return would drop the message. Time out three times.
    let mut s = stuck_quorum(json!({ "consumer_timeout_ms": 10_000, "delivery_limit": 1 }));
    let mut events = Vec::new();
    for round in 1..=3u64 {
        events.extend(run_ms(&mut s, round * 100_000));
        if s.snapshot().consumers[0].status != broker_sim::ConsumerStatus::Running {
            apply(&mut s, cmd::restart("c1"));
        }
    }
    events.extend(run_ms(&mut s, 400_000));
    assert!(channel_closed(&events).len() >= 3, "{}", trace(&events));
    assert_eq!(
        s.ledger().dropped_total() + s.ledger().dead_lettered_total(),
        0,
        "{:?}",
        s.ledger()
    );
    assert_eq!(
        s.copies_of(MessageId(0)).len(),
        1,
        "m0 is still in the queue"
    );
}

#[test]

fn rmq_16_example_scenario() {
    let (sim, events, r) = run_file(&rule_file("rmq-16-ack-timeout.json"), 45 * 60_000);
    let closed = channel_closed(&events);
    let quorum_worker = u64::from(consumer_id(&sim, "quorum-worker").0);
    assert!(
        !closed.is_empty() && closed.iter().all(|c| c.1 == quorum_worker),
        "{closed:?}"
    );
    assert_eq!(report_received(&r, "classic-worker"), [(0, false)]);
    assert_eq!(r.ledger.dropped_total(), 0);
}
