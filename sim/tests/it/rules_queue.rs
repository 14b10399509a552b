//! Queue rules: priorities, length limits, TTL, dead-lettering, delivery limits, confirms and the
//! management UI's counts and rates (RMQ-17..RMQ-31, RMQ-34, RMQ-35 in `reference/semantics.md`).
//! Each rule also has an example scenario under `scenarios/rules/`, loaded by an `rmq_NN_file_*` test.

use crate::helpers::{
    always_fails, apply, at, burst_rate, cmd, constant_rate, dropped_for, drops, first_time,
    ids_received_by, keyed_producer, manual_rate, msg_ids, pick, published_by, queue_consumer,
    queue_contents, queue_producer, queue_view, received_by, report_dead_letters, report_queue,
    report_received_ids, rule_file, run_file, run_ms, sim_1ms, sim_of, trace, With,
};
use broker_sim::report::Report;
use broker_sim::{DeadLetterReason, DropReason, Event, EventKind, SimTime, Simulation};
use serde_json::{json, Value};

// ------------------------------------------------------------------ local helpers

/// Queue fields dead-lettering through the default exchange to queue `routing_key`.
fn dead_letter_to(routing_key: &str) -> Value {
    json!({ "dead_letter_exchange": "", "dead_letter_routing_key": routing_key })
}

fn queue_name(sim: &Simulation, id: broker_sim::QueueId) -> String {
    sim.snapshot().queues[id.index()].name.clone()
}

/// (message, source queue name, reason) of every dead-lettering.
fn dead_letters(events: &[Event], sim: &Simulation) -> Vec<(u64, String, DeadLetterReason)> {
    pick(events, |e| match &e.kind {
        EventKind::DeadLettered { msg, queue, reason } => {
            Some((msg.0, queue_name(sim, *queue), *reason))
        }
        _ => None,
    })
}

/// (message, time) of every expiry.
fn expirations(events: &[Event]) -> Vec<(u64, SimTime)> {
    pick(events, |e| match &e.kind {
        EventKind::Expired { msg, .. } => Some((msg.0, e.time)),
        _ => None,
    })
}

fn publisher_nacks(events: &[Event]) -> Vec<u64> {
    pick(events, |e| match &e.kind {
        EventKind::PublisherNacked { msg, .. } => Some(msg.0),
        _ => None,
    })
}

/// The ready contents of a queue in the report, as message ids.
fn contents(report: &Report, queue: &str) -> Vec<u64> {
    msg_ids(&report.queue_contents[queue])
}

// ------------------------------------------------------------------ RMQ-17

#[test]
fn rmq_17_classic_queue_without_max_priority_is_fifo() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q" }],
        "producers": [queue_producer("p", "q", burst_rate(5, 0.0))
            .with(json!({ "message": { "priorities": [1, 9, 0, 5, 3] } }))],
        "consumers": [queue_consumer("c", "q", 1, 1.0).with(json!({ "stopped": true }))],
        "script": [at(50.0, cmd::restart("c"))]
    }));
    let mut events = run_ms(&mut s, 20);
    assert_eq!(queue_contents(&s, "q"), vec![0, 1, 2, 3, 4]);
    events.extend(run_ms(&mut s, 500));
    assert_eq!(ids_received_by(&events, &s, "c"), vec![0, 1, 2, 3, 4]);
}

#[test]
fn rmq_17_max_priority_orders_missing_as_zero_clamps_high_and_keeps_equal_fifo() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q", "max_priority": 5 }],
        "producers": [
            queue_producer("plain", "q", manual_rate()),
            queue_producer("prio", "q", manual_rate())
                .with(json!({ "message": { "priorities": [0, 9, 5, 3, 200] } }))
        ],
        "consumers": [queue_consumer("c", "q", 1, 1.0).with(json!({ "stopped": true }))],
        "script": [at(0.0, cmd::burst("plain", 1)), at(0.0, cmd::burst("prio", 5)),
                   at(50.0, cmd::restart("c"))]
    }));
    // m0: no priority, m1: 0, m2: 9 (clamped to 5), m3: 5, m4: 3, m5: 200 (clamped to 5).
    let mut events = run_ms(&mut s, 20);
    assert_eq!(published_by(&events, &s, "plain"), vec![0]);
    let expected = vec![2, 3, 5, 4, 0, 1];
    assert_eq!(queue_contents(&s, "q"), expected);
    events.extend(run_ms(&mut s, 500));
    assert_eq!(ids_received_by(&events, &s, "c"), expected);
}

#[test]
fn rmq_17_file_priority_needs_opt_in() {
    let (_, _, r) = run_file(&rule_file("rmq-17-priority-needs-opt-in.json"), 10_000);
    // Priorities 1, 3, 10, 0, 200, 3: the plain queue ignores them, the priority queue
    // (x-max-priority 10) clamps 200 to 10 and keeps equal priorities in arrival order.
    assert_eq!(
        report_received_ids(&r, "plain-worker"),
        vec![0, 1, 2, 3, 4, 5]
    );
    assert_eq!(
        report_received_ids(&r, "prio-worker"),
        vec![2, 4, 1, 5, 0, 3]
    );
}

// ------------------------------------------------------------------ RMQ-18

#[test]
fn rmq_18_prefetch_full_of_low_priority_makes_top_priority_wait_for_an_ack() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q", "max_priority": 10 }],
        "producers": [
            queue_producer("low", "q", burst_rate(15, 0.0))
                .with(json!({ "message": { "priorities": [1] } })),
            queue_producer("high", "q", manual_rate())
                .with(json!({ "message": { "priorities": [10] } }))
        ],
        "consumers": [queue_consumer("c", "q", 10, 100.0)],
        "script": [at(50.0, cmd::burst("high", 1))]
    }));
    let mut events = run_ms(&mut s, 90);
    let high = published_by(&events, &s, "high");
    assert_eq!(high, vec![15]);
    // The consumer holds 10 low-priority messages; the top-priority one waits at the head.
    let q = queue_view(&s, "q");
    assert_eq!((q.ready, q.unacked, q.total), (6, 10, 16));
    assert_eq!(queue_contents(&s, "q"), vec![15, 10, 11, 12, 13, 14]);
    assert_eq!(
        ids_received_by(&events, &s, "c"),
        (0..10).collect::<Vec<_>>()
    );

    events.extend(run_ms(&mut s, 5_000));
    let order = ids_received_by(&events, &s, "c");
    assert_eq!(
        order,
        vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 10, 11, 12, 13, 14]
    );
    let first_ack = first_time(&events, |k| matches!(k, EventKind::Settled { .. }));
    let high_delivered = first_time(
        &events,
        |k| matches!(k, EventKind::Delivered { msg, .. } if msg.0 == 15),
    );
    assert_eq!(
        high_delivered,
        first_ack,
        "delivered on the first ack\n{}",
        trace(&events)
    );
    assert!(high_delivered > SimTime::from_millis(100));
}

fn steady_mixed_priorities(prefetch: u32) -> Vec<u64> {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q", "max_priority": 9 }],
        "producers": [queue_producer("p", "q", constant_rate(50.0))
            .with(json!({ "limit": 12, "message": { "priorities": [1, 9, 3, 7, 0, 5] } }))],
        "consumers": [queue_consumer("c", "q", prefetch, 100.0)]
    }));
    let events = run_ms(&mut s, 5_000);
    ids_received_by(&events, &s, "c")
}

#[test]
fn rmq_18_large_prefetch_sends_on_arrival_so_order_looks_fifo() {
    // Unlimited prefetch: every message leaves the queue the moment it arrives.
    assert_eq!(steady_mixed_priorities(0), (0..12).collect::<Vec<_>>());
    assert_eq!(steady_mixed_priorities(1000), (0..12).collect::<Vec<_>>());
    // Same workload with prefetch 1: messages wait in the queue and get reordered.
    let small = steady_mixed_priorities(1);
    assert_eq!(small.len(), 12);
    assert_eq!(&small[..3], &[0, 1, 7], "highest ready priority goes next");
}

#[test]
fn rmq_18_file_prefetch_holds_low_priority() {
    let (_, _, r) = run_file(
        &rule_file("rmq-18-prefetch-holds-low-priority.json"),
        10_000,
    );
    assert_eq!(
        report_received_ids(&r, "worker"),
        vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 10, 11, 12, 13, 14]
    );
}

// ------------------------------------------------------------------ RMQ-19

#[test]
fn rmq_19_classic_selection_is_strict_and_steady_high_traffic_starves_low() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q", "max_priority": 5 }],
        "producers": [
            queue_producer("low", "q", burst_rate(3, 0.0))
                .with(json!({ "message": { "priorities": [1] } })),
            queue_producer("high", "q", constant_rate(200.0))
                .with(json!({ "limit": 400, "message": { "priorities": [5] } }))
        ],
        "consumers": [queue_consumer("c", "q", 1, 10.0).with(json!({ "stopped": true }))],
        "script": [at(50.0, cmd::restart("c"))]
    }));
    let mut events = run_ms(&mut s, 2_000);
    let low = published_by(&events, &s, "low");
    assert_eq!(low, vec![0, 1, 2]);
    let got = ids_received_by(&events, &s, "c");
    assert!(got.len() > 100, "the consumer was busy: {}", got.len());
    assert!(
        got.iter().all(|m| !low.contains(m)),
        "no low-priority message while high ones wait: {got:?}"
    );
    let waiting = queue_contents(&s, "q");
    assert_eq!(
        &waiting[waiting.len() - 3..],
        &[0, 1, 2],
        "low ones wait at the back"
    );

    events.extend(run_ms(&mut s, 10_000));
    let got = ids_received_by(&events, &s, "c");
    assert_eq!(got.len(), 403);
    assert_eq!(
        &got[400..],
        &[0, 1, 2],
        "low ones only after every high one"
    );
}

#[test]
fn rmq_19_file_strict_priority_starvation() {
    let (s, events, r) = run_file(&rule_file("rmq-19-strict-priority-starvation.json"), 10_000);
    let low = published_by(&events, &s, "batch-report");
    assert_eq!(low.len(), 5);
    let got = report_received_ids(&r, "worker");
    assert!(got.len() > 50);
    assert!(got.iter().all(|m| !low.contains(m)), "{got:?}");
    let waiting = contents(&r, "tasks");
    assert_eq!(&waiting[waiting.len() - 5..], low.as_slice());
}

// ------------------------------------------------------------------ RMQ-20

#[test]
fn rmq_20_quorum_has_32_levels_default_4_and_ignores_max_priority() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q", "type": "quorum", "max_priority": 2 }],
        "producers": [
            queue_producer("plain", "q", manual_rate()),
            queue_producer("prio", "q", manual_rate())
                .with(json!({ "message": { "priorities": [3, 31, 4, 30, 0, 5] } }))
        ],
        "consumers": [queue_consumer("c", "q", 1, 1.0).with(json!({ "stopped": true }))],
        "script": [at(0.0, cmd::burst("plain", 1)), at(0.0, cmd::burst("prio", 6)),
                   at(50.0, cmd::restart("c"))]
    }));
    // m0: none (= 4), m1: 3, m2: 31, m3: 4, m4: 30, m5: 0, m6: 5.
    let mut events = run_ms(&mut s, 20);
    let expected = vec![2, 4, 6, 0, 3, 1, 5];
    assert_eq!(queue_contents(&s, "q"), expected);
    events.extend(run_ms(&mut s, 500));
    assert_eq!(ids_received_by(&events, &s, "c"), expected);
}

#[test]
fn rmq_20_quorum_priority_is_strict_under_steady_high_traffic() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q", "type": "quorum" }],
        "producers": [
            queue_producer("low", "q", burst_rate(2, 0.0)),
            queue_producer("high", "q", constant_rate(200.0))
                .with(json!({ "limit": 200, "message": { "priorities": [5] } }))
        ],
        "consumers": [queue_consumer("c", "q", 1, 10.0).with(json!({ "stopped": true }))],
        "script": [at(50.0, cmd::restart("c"))]
    }));
    let events = run_ms(&mut s, 10_000);
    let got = ids_received_by(&events, &s, "c");
    assert_eq!(got.len(), 202);
    assert_eq!(&got[200..], &[0, 1], "default priority 4 waits behind 5");
}

#[test]
fn rmq_20_file_quorum_priorities() {
    let (_, _, r) = run_file(&rule_file("rmq-20-quorum-priorities.json"), 10_000);
    // m0: no priority (= 4), then m1..m6 with priorities 3, 31, 4, 30, 0, 5.
    assert_eq!(report_received_ids(&r, "worker"), vec![2, 4, 6, 0, 3, 1, 5]);
}

// ------------------------------------------------------------------ RMQ-21

fn drop_head_priorities(priorities: Value, dlx: bool) -> (Simulation, Vec<Event>) {
    let mut q = json!({ "name": "q", "max_priority": 5, "max_length": 3 });
    if dlx {
        q = q.with(dead_letter_to("dlq"));
    }
    let mut s = sim_1ms(json!({
        "queues": [q, { "name": "dlq" }],
        "producers": [queue_producer("p", "q", burst_rate(4, 0.0))
            .with(json!({ "message": { "priorities": priorities } }))]
    }));
    let events = run_ms(&mut s, 100);
    (s, events)
}

#[test]
fn rmq_21_drop_head_removes_highest_priority_first() {
    let (s, events) = drop_head_priorities(json!([1, 5, 1, 1]), false);
    assert_eq!(drops(&events), vec![(1, DropReason::MaxLength)]);
    assert_eq!(queue_contents(&s, "q"), vec![0, 2, 3]);
    // The newest message is the head when it has the highest priority.
    let (s, events) = drop_head_priorities(json!([1, 1, 1, 5]), false);
    assert_eq!(drops(&events), vec![(3, DropReason::MaxLength)]);
    assert_eq!(queue_contents(&s, "q"), vec![0, 1, 2]);
}

#[test]
fn rmq_21_drop_head_dead_letters_the_highest_priority_with_a_dlx() {
    let (s, events) = drop_head_priorities(json!([1, 5, 1, 1]), true);
    assert_eq!(
        dead_letters(&events, &s),
        vec![(1, "q".to_string(), DeadLetterReason::Maxlen)]
    );
    assert_eq!(queue_contents(&s, "dlq"), vec![1]);
    assert!(drops(&events).is_empty());
}

#[test]
fn rmq_21_expired_low_priority_stays_in_classic_queue_until_it_reaches_the_head() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q", "max_priority": 5 }],
        "producers": [
            queue_producer("high", "q", manual_rate())
                .with(json!({ "message": { "priorities": [5] } })),
            queue_producer("low", "q", manual_rate())
                .with(json!({ "message": { "priorities": [0], "ttl_ms": 100 } }))
        ],
        "consumers": [queue_consumer("c", "q", 1, 10.0).with(json!({ "stopped": true }))],
        "script": [at(0.0, cmd::burst("high", 3)), at(0.0, cmd::burst("low", 1)),
                   at(600.0, cmd::restart("c"))]
    }));
    let mut events = run_ms(&mut s, 500);
    assert!(expirations(&events).is_empty(), "{}", trace(&events));
    let q = queue_view(&s, "q");
    assert_eq!((q.ready, q.total), (4, 4));
    let chips: Vec<(u64, bool)> = q.head.iter().map(|c| (c.msg.0, c.expired)).collect();
    assert_eq!(chips, vec![(0, false), (1, false), (2, false), (3, true)]);

    events.extend(run_ms(&mut s, 1_000));
    assert_eq!(ids_received_by(&events, &s, "c"), vec![0, 1, 2]);
    let exp = expirations(&events);
    assert_eq!(exp.len(), 1);
    assert_eq!(exp[0].0, 3);
    assert!(
        exp[0].1 > SimTime::from_millis(600),
        "removed only at the head"
    );
    assert_eq!(s.ledger().expired, 1);
}

#[test]

fn rmq_21_quorum_expires_at_each_priority_level() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q", "type": "quorum" }],
        "producers": [
            queue_producer("high", "q", manual_rate())
                .with(json!({ "message": { "priorities": [10] } })),
            queue_producer("low", "q", manual_rate())
                .with(json!({ "message": { "priorities": [1], "ttl_ms": 100 } }))
        ],
        "script": [at(0.0, cmd::burst("high", 3)), at(0.0, cmd::burst("low", 1))]
    }));
    let events = run_ms(&mut s, 500);
    let exp = expirations(&events);
    assert_eq!(exp.len(), 1, "{}", trace(&events));
    assert_eq!(exp[0].0, 3);
    assert!(exp[0].1 <= SimTime::from_millis(102));
    assert_eq!(queue_view(&s, "q").ready, 3);
    assert_eq!(queue_contents(&s, "q"), vec![0, 1, 2]);
}

#[test]
fn rmq_21_file_drop_head_takes_highest_priority() {
    let (_, _, r) = run_file(
        &rule_file("rmq-21-drop-head-takes-highest-priority.json"),
        10_000,
    );
    // Priorities 1, 5, 1, 1, 5, 1 into x-max-length 3.
    let dl: Vec<(u64, &str)> = r
        .dead_letters
        .iter()
        .map(|d| (d.msg.0, d.reason.as_str()))
        .collect();
    assert_eq!(dl, vec![(1, "maxlen"), (4, "maxlen"), (0, "maxlen")]);
    assert_eq!(contents(&r, "tasks"), vec![2, 3, 5]);
    assert_eq!(contents(&r, "tasks-dlq"), vec![1, 4, 0]);
}

// ------------------------------------------------------------------ RMQ-22

#[test]
fn rmq_22_max_length_counts_ready_messages_only() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q", "max_length": 2 }],
        "producers": [queue_producer("p", "q", manual_rate())],
        "consumers": [queue_consumer("c", "q", 3, 60_000.0)],
        "script": [at(0.0, cmd::burst("p", 5)), at(100.0, cmd::burst("p", 1))]
    }));
    let events = run_ms(&mut s, 50);
    assert!(
        drops(&events).is_empty(),
        "3 unacked + 2 ready fit a limit of 2"
    );
    let q = queue_view(&s, "q");
    assert_eq!((q.ready, q.unacked, q.total), (2, 3, 5));
    let events = run_ms(&mut s, 200);
    assert_eq!(drops(&events), vec![(3, DropReason::MaxLength)]);
    assert_eq!(queue_contents(&s, "q"), vec![4, 5]);
    let q = queue_view(&s, "q");
    assert_eq!((q.ready, q.unacked, q.total), (2, 3, 5));
}

#[test]
fn rmq_22_max_length_bytes_counts_body_bytes_of_ready_messages() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q", "max_length_bytes": 250 }],
        "producers": [queue_producer("p", "q", manual_rate())
            .with(json!({ "message": { "size_bytes": 100 } }))],
        "consumers": [queue_consumer("c", "q", 2, 60_000.0)],
        "script": [at(0.0, cmd::burst("p", 5))]
    }));
    let events = run_ms(&mut s, 50);
    // Two unacked (200 bytes) are not counted; of three ready, 300 bytes > 250 drops the head.
    assert_eq!(drops(&events), vec![(2, DropReason::MaxLength)]);
    let q = queue_view(&s, "q");
    assert_eq!((q.ready, q.ready_bytes, q.unacked), (2, 200, 2));
    assert_eq!(queue_contents(&s, "q"), vec![3, 4]);
}

#[test]
fn rmq_22_whichever_limit_is_hit_first_applies() {
    let run = |max_length: u64, max_bytes: u64| {
        let mut s = sim_1ms(json!({
            "queues": [{ "name": "q", "max_length": max_length, "max_length_bytes": max_bytes }],
            "producers": [queue_producer("p", "q", burst_rate(6, 0.0))
                .with(json!({ "message": { "size_bytes": 100 } }))]
        }));
        run_ms(&mut s, 50);
        queue_contents(&s, "q")
    };
    assert_eq!(run(10, 250), vec![4, 5], "bytes first");
    assert_eq!(run(3, 100_000), vec![3, 4, 5], "length first");
}

#[test]
fn rmq_22_file_max_length_counts_ready_only() {
    let (_, events, r) = run_file(
        &rule_file("rmq-22-max-length-counts-ready-only.json"),
        10_000,
    );
    let q = report_queue(&r, "orders");
    assert_eq!((q.ready, q.unacked, q.total), (2, 3, 5));
    assert_eq!(contents(&r, "orders"), vec![4, 5]);
    assert_eq!(drops(&events), vec![(3, DropReason::MaxLength)]);
    assert_eq!(r.ledger.dropped.get(&DropReason::MaxLength), Some(&1));
}

// ------------------------------------------------------------------ RMQ-23

#[test]
fn rmq_23_drop_head_removes_oldest_and_dead_letters_maxlen_with_a_dlx() {
    let run = |dlx: bool| {
        let mut q = json!({ "name": "q", "max_length": 3 });
        if dlx {
            q = q.with(dead_letter_to("dlq"));
        }
        let mut s = sim_1ms(json!({
            "queues": [q, { "name": "dlq" }],
            "producers": [queue_producer("p", "q", burst_rate(5, 0.0))]
        }));
        let events = run_ms(&mut s, 50);
        (s, events)
    };
    let (s, events) = run(false);
    assert_eq!(
        drops(&events),
        vec![(0, DropReason::MaxLength), (1, DropReason::MaxLength)]
    );
    assert_eq!(queue_contents(&s, "q"), vec![2, 3, 4]);
    assert_eq!(s.ledger().dropped.get(&DropReason::MaxLength), Some(&2));

    let (s, events) = run(true);
    assert!(drops(&events).is_empty());
    assert_eq!(
        dead_letters(&events, &s),
        vec![
            (0, "q".to_string(), DeadLetterReason::Maxlen),
            (1, "q".to_string(), DeadLetterReason::Maxlen)
        ]
    );
    assert_eq!(queue_contents(&s, "q"), vec![2, 3, 4]);
    assert_eq!(queue_contents(&s, "dlq"), vec![0, 1]);
}

#[test]
fn rmq_23_drop_head_after_requeue_drops_the_requeued_message() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q", "max_length": 2 }],
        "producers": [queue_producer("p", "q", burst_rate(3, 0.0))],
        "consumers": [queue_consumer("c", "q", 1, 1_000.0)],
        "script": [at(100.0, cmd::crash("c"))]
    }));
    let events = run_ms(&mut s, 50);
    assert!(drops(&events).is_empty());
    assert_eq!(queue_contents(&s, "q"), vec![1, 2]);
    let events = run_ms(&mut s, 200);
    // m0 returns to its place at the head, the queue is over its limit, and the head goes.
    let requeued = first_time(
        &events,
        |k| matches!(k, EventKind::Requeued { msg, .. } if msg.0 == 0),
    );
    assert_eq!(
        drops(&events),
        vec![(0, DropReason::MaxLength)],
        "{}",
        trace(&events)
    );
    let dropped = first_time(&events, |k| matches!(k, EventKind::Dropped { .. }));
    assert_eq!(requeued, dropped);
    assert_eq!(queue_contents(&s, "q"), vec![1, 2]);
}

#[test]
fn rmq_23_file_drop_head_after_requeue() {
    let (_, _, r) = run_file(&rule_file("rmq-23-drop-head-after-requeue.json"), 10_000);
    assert_eq!(report_dead_letters(&r), vec![(0, "jobs", "maxlen")]);
    assert_eq!(contents(&r, "jobs-dlq"), vec![0]);
    let got: Vec<(u64, bool)> = r.received["worker"]
        .iter()
        .map(|m| (m.msg.0, m.redelivered))
        .collect();
    assert_eq!(got, vec![(0, false), (1, false), (2, false)]);
}

// ------------------------------------------------------------------ RMQ-24

#[test]
fn rmq_24_reject_publish_refuses_new_messages_and_nacks_the_publisher() {
    let run = |confirms: bool| {
        let mut s = sim_1ms(json!({
            "queues": [{ "name": "q", "max_length": 2, "overflow": "reject-publish" }],
            "producers": [queue_producer("p", "q", burst_rate(4, 0.0))
                .with(json!({ "confirms": confirms }))]
        }));
        let events = run_ms(&mut s, 50);
        (s, events)
    };
    let (s, events) = run(true);
    assert_eq!(
        queue_contents(&s, "q"),
        vec![0, 1],
        "the queue keeps what it has"
    );
    assert_eq!(
        drops(&events),
        vec![
            (2, DropReason::RejectedByQueue),
            (3, DropReason::RejectedByQueue)
        ]
    );
    assert_eq!(publisher_nacks(&events), vec![2, 3]);
    let p = &s.report(1, &events).publishers["p"];
    assert_eq!((p.confirms_acked, p.confirms_nacked), (2, 2));
    assert_eq!(msg_ids(&p.nacked), vec![2, 3]);

    // Without confirms the loss is silent to the publisher.
    let (s, events) = run(false);
    assert_eq!(queue_contents(&s, "q"), vec![0, 1]);
    assert!(publisher_nacks(&events).is_empty());
    assert_eq!(
        s.ledger().dropped.get(&DropReason::RejectedByQueue),
        Some(&2)
    );
}

#[test]
fn rmq_24_other_queues_still_store_a_refused_message_and_the_publisher_is_nacked() {
    let mut s = sim_1ms(json!({
        "exchanges": [{ "name": "fan", "type": "fanout" }],
        "queues": [
            { "name": "small", "max_length": 1, "overflow": "reject-publish" },
            { "name": "big" }
        ],
        "bindings": [{ "exchange": "fan", "queue": "small" }, { "exchange": "fan", "queue": "big" }],
        "producers": [{ "name": "p", "targets": [{ "exchange": "fan" }], "confirms": true,
                        "rate": { "kind": "burst", "count": 3, "at_ms": 0 } }]
    }));
    let events = run_ms(&mut s, 50);
    assert_eq!(queue_contents(&s, "small"), vec![0]);
    assert_eq!(queue_contents(&s, "big"), vec![0, 1, 2]);
    assert_eq!(publisher_nacks(&events), vec![1, 2]);
    let p = &s.report(1, &events).publishers["p"];
    assert_eq!((p.confirms_acked, p.confirms_nacked), (1, 2));
}

#[test]
fn rmq_24_reject_publish_dlx_dead_letters_the_refused_message() {
    let mut s = sim_1ms(json!({
        "queues": [
            { "name": "q", "max_length": 2, "overflow": "reject-publish-dlx",
              "dead_letter_exchange": "", "dead_letter_routing_key": "dlq" },
            { "name": "dlq" }
        ],
        "producers": [queue_producer("p", "q", burst_rate(4, 0.0))
            .with(json!({ "confirms": true }))]
    }));
    let events = run_ms(&mut s, 50);
    assert_eq!(queue_contents(&s, "q"), vec![0, 1]);
    assert_eq!(queue_contents(&s, "dlq"), vec![2, 3]);
    assert_eq!(
        dead_letters(&events, &s),
        vec![
            (2, "q".to_string(), DeadLetterReason::Maxlen),
            (3, "q".to_string(), DeadLetterReason::Maxlen)
        ]
    );
    assert_eq!(publisher_nacks(&events), vec![2, 3]);
}

#[test]

fn rmq_24_quorum_reject_publish_goes_one_message_over_the_limit() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q", "type": "quorum", "max_length": 2, "overflow": "reject-publish" }],
        "producers": [queue_producer("p", "q", burst_rate(5, 0.0))
            .with(json!({ "confirms": true }))]
    }));
    let events = run_ms(&mut s, 50);
    assert_eq!(queue_contents(&s, "q"), vec![0, 1, 2], "{}", trace(&events));
    assert_eq!(publisher_nacks(&events), vec![3, 4]);
}

#[test]
fn rmq_24_file_reject_publish() {
    let (_, _, r) = run_file(&rule_file("rmq-24-reject-publish.json"), 10_000);
    assert_eq!(contents(&r, "recent"), vec![0, 1]);
    assert_eq!(contents(&r, "archive"), vec![0, 1, 2, 3, 4]);
    let p = &r.publishers["checkout"];
    assert_eq!((p.sent, p.confirms_acked, p.confirms_nacked), (5, 2, 3));
    assert_eq!(msg_ids(&p.nacked), vec![2, 3, 4]);
}

// ------------------------------------------------------------------ RMQ-25

#[test]
fn rmq_25_queue_ttl_expires_each_copy_on_its_own_queue_clock() {
    let mut s = sim_1ms(json!({
        "exchanges": [{ "name": "fan", "type": "fanout" }],
        "queues": [{ "name": "short", "message_ttl_ms": 100 }, { "name": "long", "message_ttl_ms": 1000 }],
        "bindings": [{ "exchange": "fan", "queue": "short" }, { "exchange": "fan", "queue": "long" }],
        "producers": [{ "name": "p", "targets": [{ "exchange": "fan" }],
                        "rate": { "kind": "burst", "count": 1, "at_ms": 0 } }],
        "consumers": [queue_consumer("c", "short", 1, 1.0).with(json!({ "stopped": true }))],
        "script": [at(500.0, cmd::restart("c"))]
    }));
    let mut events = run_ms(&mut s, 500);
    assert_eq!(queue_contents(&s, "short"), Vec::<u64>::new());
    assert_eq!(queue_contents(&s, "long"), vec![0]);
    let exp = expirations(&events);
    assert_eq!(exp.len(), 1);
    assert!(exp[0].1 > SimTime::from_millis(100) && exp[0].1 <= SimTime::from_millis(102));
    events.extend(run_ms(&mut s, 2_000));
    assert!(received_by(&events, &s, "c").is_empty(), "never delivered");
    assert_eq!(queue_contents(&s, "long"), Vec::<u64>::new());
    assert_eq!(s.ledger().expired, 2);
}

#[test]
fn rmq_25_requeued_message_keeps_its_original_expiry_and_can_expire_at_once() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q", "message_ttl_ms": 100 }],
        "producers": [queue_producer("p", "q", burst_rate(1, 0.0))],
        "consumers": [queue_consumer("c", "q", 1, 150.0).with(always_fails("nack", true))]
    }));
    let events = run_ms(&mut s, 1_000);
    // Delivered at 1 ms, so TTL no longer runs; nacked back at 153 ms, past 101 ms: gone at once.
    assert_eq!(received_by(&events, &s, "c"), vec![(0, false)]);
    let requeued = first_time(&events, |k| matches!(k, EventKind::Requeued { .. }));
    assert_eq!(requeued, SimTime::from_millis(153));
    let exp = expirations(&events);
    assert_eq!(exp.len(), 1, "{}", trace(&events));
    assert!(
        exp[0].1 >= requeued && exp[0].1 <= requeued.plus(1),
        "{}",
        trace(&events)
    );
    assert_eq!(s.ledger().expired, 1);
}

#[test]
fn rmq_25_ttl_zero_expires_unless_a_consumer_takes_it_at_once() {
    let mut s = sim_1ms(json!({
        "queues": [
            { "name": "q", "message_ttl_ms": 0, "dead_letter_exchange": "", "dead_letter_routing_key": "dlq" },
            { "name": "dlq" }
        ],
        "producers": [queue_producer("p", "q", burst_rate(3, 0.0))
            .with(json!({ "mandatory": true, "confirms": true }))],
        "consumers": [queue_consumer("c", "q", 1, 100.0)]
    }));
    let events = run_ms(&mut s, 50);
    assert_eq!(received_by(&events, &s, "c"), vec![(0, false)]);
    assert_eq!(
        dead_letters(&events, &s),
        vec![
            (1, "q".to_string(), DeadLetterReason::Expired),
            (2, "q".to_string(), DeadLetterReason::Expired)
        ]
    );
    assert_eq!(queue_contents(&s, "dlq"), vec![1, 2]);
    let p = &s.report(1, &events).publishers["p"];
    assert!(p.returned.is_empty(), "no basic.return for expiry");
    assert_eq!((p.confirms_acked, p.confirms_nacked), (3, 0));
}

#[test]
fn rmq_25_ttl_zero_without_a_consumer_expires_without_dlx() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q", "message_ttl_ms": 0 }],
        "producers": [queue_producer("p", "q", burst_rate(2, 0.0))
            .with(json!({ "mandatory": true }))]
    }));
    let events = run_ms(&mut s, 50);
    assert_eq!(s.ledger().expired, 2);
    assert_eq!(
        s.ledger().dropped_total(),
        0,
        "expired, not returned or dropped"
    );
    assert!(expirations(&events)
        .iter()
        .all(|(_, t)| *t <= SimTime::from_millis(2)));
}

#[test]
fn rmq_25_file_queue_ttl() {
    let (_, _, r) = run_file(&rule_file("rmq-25-queue-ttl.json"), 10_000);
    let expired: Vec<u64> = r.dead_letters.iter().map(|d| d.msg.0).collect();
    assert!(!expired.is_empty(), "the backlog outgrows the 2 s TTL");
    assert!(r
        .dead_letters
        .iter()
        .all(|d| d.reason == "expired" && d.from_queue == "orders"));
    let got = report_received_ids(&r, "worker");
    assert!(
        got.iter().all(|m| !expired.contains(m)),
        "an expired message is never delivered"
    );
    assert_eq!(contents(&r, "orders-expired"), expired);
}

// ------------------------------------------------------------------ RMQ-26

#[test]
fn rmq_26_lower_of_queue_and_message_ttl_applies() {
    let expiry_after_enqueue = |queue_ttl: f64, msg_ttl: f64| {
        let mut s = sim_1ms(json!({
            "queues": [{ "name": "q", "message_ttl_ms": queue_ttl }],
            "producers": [queue_producer("p", "q", burst_rate(1, 0.0))
                .with(json!({ "message": { "ttl_ms": msg_ttl } }))]
        }));
        let events = run_ms(&mut s, 5_000);
        let exp = expirations(&events);
        assert_eq!(exp.len(), 1);
        // Enqueued at 1 ms; removed just after the expiry instant.
        exp[0].1.since(SimTime::from_millis(1)) / 1_000
    };
    assert_eq!(expiry_after_enqueue(1_000.0, 100.0), 100);
    assert_eq!(expiry_after_enqueue(100.0, 1_000.0), 100);
    assert_eq!(expiry_after_enqueue(300.0, 300.0), 300);
}

#[test]
fn rmq_26_per_message_ttl_alone_expires_the_message() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q" }],
        "producers": [
            queue_producer("quick", "q", manual_rate())
                .with(json!({ "message": { "ttl_ms": 200 } })),
            queue_producer("plain", "q", manual_rate())
        ],
        "script": [at(0.0, cmd::burst("quick", 2)), at(0.0, cmd::burst("plain", 1))]
    }));
    let events = run_ms(&mut s, 1_000);
    let exp = expirations(&events);
    assert_eq!(exp.iter().map(|e| e.0).collect::<Vec<_>>(), vec![0, 1]);
    assert!(exp
        .iter()
        .all(|(_, t)| t.since(SimTime::from_millis(201)) <= 1));
    assert_eq!(queue_contents(&s, "q"), vec![2]);
}

#[test]
fn rmq_26_file_per_message_ttl() {
    let (s, events, r) = run_file(&rule_file("rmq-26-per-message-ttl.json"), 10_000);
    let short = published_by(&events, &s, "flash-sale");
    let plain = published_by(&events, &s, "catalog");
    let long = published_by(&events, &s, "newsletter");
    assert_eq!(
        contents(&r, "offers-expired"),
        short,
        "1 s message TTL beats the 30 s queue TTL"
    );
    let mut left = plain.clone();
    left.extend(&long);
    assert_eq!(contents(&r, "offers"), left);
    // By 40 s the queue's 30 s TTL has removed the rest, including the 60 s message TTL.
    let (_, _, r) = run_file(&rule_file("rmq-26-per-message-ttl.json"), 40_000);
    assert!(contents(&r, "offers").is_empty());
    assert_eq!(r.dead_letters.len(), short.len() + left.len());
}

// ------------------------------------------------------------------ RMQ-27

#[test]
fn rmq_27_expired_message_behind_live_one_stays_in_ready() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q" }],
        "producers": [
            queue_producer("plain", "q", manual_rate()),
            queue_producer("quick", "q", manual_rate())
                .with(json!({ "message": { "ttl_ms": 100 } }))
        ],
        "consumers": [queue_consumer("c", "q", 1, 10.0).with(json!({ "stopped": true }))],
        "script": [at(0.0, cmd::burst("plain", 1)), at(0.0, cmd::burst("quick", 2)),
                   at(1_000.0, cmd::restart("c"))]
    }));
    let mut events = run_ms(&mut s, 900);
    assert!(expirations(&events).is_empty(), "{}", trace(&events));
    let q = queue_view(&s, "q");
    assert_eq!((q.ready, q.unacked, q.total), (3, 0, 3));
    let chips: Vec<(u64, bool)> = q.head.iter().map(|c| (c.msg.0, c.expired)).collect();
    assert_eq!(chips, vec![(0, false), (1, true), (2, true)]);
    assert_eq!(s.ledger().ready, 3);

    events.extend(run_ms(&mut s, 2_000));
    assert_eq!(received_by(&events, &s, "c"), vec![(0, false)]);
    let exp = expirations(&events);
    assert_eq!(exp.iter().map(|e| e.0).collect::<Vec<_>>(), vec![1, 2]);
    assert!(exp.iter().all(|(_, t)| *t >= SimTime::from_millis(1_000)));
    assert_eq!(queue_view(&s, "q").total, 0);
}

#[test]
fn rmq_27_queue_ttl_alone_expires_in_arrival_order_on_time_without_consumers() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q", "message_ttl_ms": 100 }],
        "producers": [queue_producer("p", "q", constant_rate(50.0)).with(json!({ "limit": 20 }))]
    }));
    let events = run_ms(&mut s, 2_000);
    let exp = expirations(&events);
    assert_eq!(
        exp.iter().map(|e| e.0).collect::<Vec<_>>(),
        (0..20).collect::<Vec<_>>()
    );
    for (msg, at) in exp {
        let enqueued = first_time(
            &events,
            |k| matches!(k, EventKind::Enqueued { msg: m, .. } if m.0 == msg),
        );
        let late = at.since(enqueued.plus(100_000));
        assert!(late <= 1, "m{msg} expired {late} us late");
    }
    assert_eq!(queue_view(&s, "q").total, 0);
}

#[test]
fn rmq_27_quorum_queue_also_expires_only_at_the_head() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q", "type": "quorum" }],
        "producers": [
            queue_producer("plain", "q", manual_rate()),
            queue_producer("quick", "q", manual_rate())
                .with(json!({ "message": { "ttl_ms": 100 } }))
        ],
        "script": [at(0.0, cmd::burst("plain", 1)), at(0.0, cmd::burst("quick", 1))]
    }));
    let events = run_ms(&mut s, 900);
    assert!(expirations(&events).is_empty());
    assert_eq!(queue_view(&s, "q").ready, 2);
}

#[test]
fn rmq_27_file_expired_behind_live_stays() {
    let (_, events, r) = run_file(&rule_file("rmq-27-expired-behind-live-stays.json"), 10_000);
    assert!(expirations(&events).is_empty());
    let q = report_queue(&r, "inbox");
    assert_eq!((q.ready, q.total), (4, 4));
    assert_eq!(q.head.iter().filter(|c| c.expired).count(), 3);
    assert_eq!(r.ledger.expired, 0);
    // The consumer arrives at 20 s: it gets the live message; the others expire at the head.
    let (_, _, r) = run_file(&rule_file("rmq-27-expired-behind-live-stays.json"), 30_000);
    assert_eq!(report_received_ids(&r, "reader"), vec![0]);
    assert_eq!(r.ledger.expired, 3);
    assert_eq!(report_queue(&r, "inbox").total, 0);
}

// ------------------------------------------------------------------ RMQ-28

#[test]
fn rmq_28_unused_queue_is_deleted_and_its_messages_are_not_dead_lettered() {
    let mut s = sim_1ms(json!({
        "queues": [
            { "name": "temp", "expires_ms": 1000,
              "dead_letter_exchange": "", "dead_letter_routing_key": "dlq" },
            { "name": "dlq" }
        ],
        "producers": [queue_producer("p", "temp", manual_rate())],
        "script": [at(0.0, cmd::burst("p", 3)), at(1_500.0, cmd::burst("p", 1))]
    }));
    let events = run_ms(&mut s, 900);
    assert_eq!(queue_contents(&s, "temp"), vec![0, 1, 2]);
    assert!(drops(&events).is_empty());
    let events = run_ms(&mut s, 2_000);
    assert_eq!(
        dropped_for(&events, DropReason::QueueDeleted),
        vec![0, 1, 2],
        "{}",
        trace(&events)
    );
    let deleted = first_time(&events, |k| {
        matches!(k, EventKind::QueueDeleted { dropped: 3, .. })
    });
    assert_eq!(
        deleted,
        SimTime::from_millis(1_000),
        "unused since the start"
    );
    assert!(dead_letters(&events, &s).is_empty(), "not dead-lettered");
    assert!(queue_contents(&s, "dlq").is_empty());
    // Published afterwards via the default exchange: nothing is bound under that name now.
    assert_eq!(drops(&events).last(), Some(&(3, DropReason::Unroutable)));
    let ledger = serde_json::to_value(s.ledger()).unwrap();
    assert_eq!(ledger["dropped"]["queue_deleted"], json!(3));
}

#[test]
fn rmq_28_queue_with_a_consumer_is_not_deleted() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "temp", "expires_ms": 1000 }],
        "producers": [queue_producer("p", "temp", constant_rate(1.0))],
        "consumers": [queue_consumer("c", "temp", 1, 1.0)]
    }));
    let events = run_ms(&mut s, 5_500);
    assert!(dropped_for(&events, DropReason::QueueDeleted).is_empty());
    assert_eq!(ids_received_by(&events, &s, "c"), vec![0, 1, 2, 3, 4]);
    assert_eq!(s.ledger().dropped_total(), 0);
}

#[test]
fn rmq_28_expiry_clock_starts_when_the_last_consumer_leaves() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "temp", "expires_ms": 1000 }],
        "producers": [queue_producer("p", "temp", burst_rate(2, 0.0))],
        "consumers": [queue_consumer("c", "temp", 1, 10_000.0)],
        "script": [{ "at_ms": 500, "command": { "remove_consumer": { "consumer": "c" } } }]
    }));
    let events = run_ms(&mut s, 1_400);
    assert!(
        dropped_for(&events, DropReason::QueueDeleted).is_empty(),
        "{}",
        trace(&events)
    );
    assert_eq!(
        queue_contents(&s, "temp"),
        vec![0, 1],
        "m0 came back on cancel"
    );
    let events = run_ms(&mut s, 2_000);
    let deleted = first_time(&events, |k| matches!(k, EventKind::QueueDeleted { .. }));
    assert_eq!(deleted, SimTime::from_millis(1_500));
    assert_eq!(dropped_for(&events, DropReason::QueueDeleted), vec![0, 1]);
}

#[test]
fn rmq_28_file_queue_expires() {
    let (_, events, r) = run_file(&rule_file("rmq-28-queue-expires.json"), 10_000);
    assert_eq!(
        dropped_for(&events, DropReason::QueueDeleted),
        vec![0, 1, 2]
    );
    assert!(r.dead_letters.is_empty());
    // The burst at 8 s finds no queue: returned to the mandatory publisher.
    assert_eq!(msg_ids(&r.publishers["report-job"].returned), vec![3, 4]);
}

// ------------------------------------------------------------------ RMQ-29

#[test]
fn rmq_29_each_reason_dead_letters_under_its_name() {
    let dl = |queue: Value| json!({ "dead_letter_exchange": "dlx" }).with(queue);
    let mut s = sim_1ms(json!({
        "exchanges": [{ "name": "dlx", "type": "fanout" }],
        "queues": [
            dl(json!({ "name": "rej" })),
            dl(json!({ "name": "ttl", "message_ttl_ms": 50 })),
            dl(json!({ "name": "len", "max_length": 1 })),
            dl(json!({ "name": "qq", "type": "quorum", "delivery_limit": 1 })),
            { "name": "dlq" }
        ],
        "bindings": [{ "exchange": "dlx", "queue": "dlq" }],
        "producers": [keyed_producer("p", &["rej", "ttl", "len", "len", "qq"], burst_rate(5, 0.0))],
        "consumers": [
            queue_consumer("rejecter", "rej", 1, 1.0).with(always_fails("reject", false)),
            queue_consumer("retrier", "qq", 1, 1.0).with(always_fails("reject", true))
        ]
    }));
    let events = run_ms(&mut s, 500);
    let mut got = dead_letters(&events, &s);
    got.sort();
    let q = |n: &str| n.to_string();
    assert_eq!(
        got,
        vec![
            (0, q("rej"), DeadLetterReason::Rejected),
            (1, q("ttl"), DeadLetterReason::Expired),
            (2, q("len"), DeadLetterReason::Maxlen),
            (4, q("qq"), DeadLetterReason::DeliveryLimit),
        ]
    );
    let mut dlq = queue_contents(&s, "dlq");
    dlq.sort();
    assert_eq!(dlq, vec![0, 1, 2, 4]);
    assert_eq!(s.ledger().dead_lettered_total(), 4);
    assert_eq!(s.ledger().dropped_total(), 0);
}

#[test]
fn rmq_29_dead_letter_routing_key_replaces_the_original_key_when_set() {
    let mut s = sim_1ms(json!({
        "exchanges": [{ "name": "in", "type": "direct" }, { "name": "dlx", "type": "direct" }],
        "queues": [
            { "name": "src-a", "message_ttl_ms": 10, "dead_letter_exchange": "dlx",
              "dead_letter_routing_key": "dead" },
            { "name": "src-b", "message_ttl_ms": 10, "dead_letter_exchange": "dlx" },
            { "name": "dlq-dead" }, { "name": "dlq-orders" }
        ],
        "bindings": [
            { "exchange": "in", "queue": "src-a", "routing_key": "orders" },
            { "exchange": "in", "queue": "src-b", "routing_key": "orders" },
            { "exchange": "dlx", "queue": "dlq-dead", "routing_key": "dead" },
            { "exchange": "dlx", "queue": "dlq-orders", "routing_key": "orders" }
        ],
        "producers": [{ "name": "p", "targets": [{ "exchange": "in" }],
                        "rate": { "kind": "burst", "count": 1, "at_ms": 0 },
                        "message": { "routing_keys": ["orders"] } }]
    }));
    let events = run_ms(&mut s, 200);
    assert_eq!(dead_letters(&events, &s).len(), 2);
    assert_eq!(
        queue_contents(&s, "dlq-dead"),
        vec![0],
        "src-a's copy uses the override"
    );
    assert_eq!(
        queue_contents(&s, "dlq-orders"),
        vec![0],
        "src-b's copy keeps `orders`"
    );
    assert_eq!(s.ledger().dropped_total(), 0);
}

#[test]
fn rmq_29_dead_letter_cycle_without_rejection_is_dropped() {
    // A queue that dead-letters expired messages back to itself.
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "loop", "message_ttl_ms": 10,
                     "dead_letter_exchange": "", "dead_letter_routing_key": "loop" }],
        "producers": [queue_producer("p", "loop", burst_rate(1, 0.0))]
    }));
    let events = run_ms(&mut s, 500);
    assert_eq!(
        dead_letters(&events, &s),
        vec![(0, "loop".to_string(), DeadLetterReason::Expired)]
    );
    assert_eq!(drops(&events), vec![(0, DropReason::DeadLetterUnroutable)]);
    assert_eq!(queue_view(&s, "loop").total, 0);

    // Two queues: a -> b -> a.
    let mut s = sim_1ms(json!({
        "queues": [
            { "name": "a", "message_ttl_ms": 10, "dead_letter_exchange": "", "dead_letter_routing_key": "b" },
            { "name": "b", "message_ttl_ms": 10, "dead_letter_exchange": "", "dead_letter_routing_key": "a" }
        ],
        "producers": [queue_producer("p", "a", burst_rate(1, 0.0))]
    }));
    let events = run_ms(&mut s, 500);
    assert_eq!(
        dead_letters(&events, &s),
        vec![
            (0, "a".to_string(), DeadLetterReason::Expired),
            (0, "b".to_string(), DeadLetterReason::Expired)
        ]
    );
    assert_eq!(drops(&events), vec![(0, DropReason::DeadLetterUnroutable)]);
}

#[test]
fn rmq_29_dead_letter_cycle_with_a_rejection_keeps_going() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "retry", "dead_letter_exchange": "", "dead_letter_routing_key": "retry" }],
        "producers": [queue_producer("p", "retry", burst_rate(1, 0.0))],
        "consumers": [queue_consumer("c", "retry", 1, 1.0).with(always_fails("reject", false))]
    }));
    let events = run_ms(&mut s, 100);
    let dl = dead_letters(&events, &s);
    assert!(dl.len() >= 10, "{}", trace(&events));
    assert!(dl.iter().all(|d| d.2 == DeadLetterReason::Rejected));
    assert!(drops(&events).is_empty());
    assert!(received_by(&events, &s, "c").len() >= 10);
}

#[test]
fn rmq_29_dlx_that_routes_nowhere_drops_silently() {
    let mut s = sim_1ms(json!({
        "exchanges": [{ "name": "dlx", "type": "direct" }],
        "queues": [{ "name": "q", "message_ttl_ms": 10, "dead_letter_exchange": "dlx" }],
        "producers": [queue_producer("p", "q", burst_rate(1, 0.0))
            .with(json!({ "mandatory": true, "confirms": true }))]
    }));
    let events = run_ms(&mut s, 100);
    assert_eq!(drops(&events), vec![(0, DropReason::DeadLetterUnroutable)]);
    let p = &s.report(1, &events).publishers["p"];
    assert!(p.returned.is_empty(), "no return to the publisher");
    assert_eq!((p.confirms_acked, p.confirms_nacked), (1, 0));
    assert!(publisher_nacks(&events).is_empty());
}

#[test]
fn rmq_29_no_dlx_means_expired_and_rejected_messages_are_just_removed() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "ttl", "message_ttl_ms": 10 }, { "name": "rej" }],
        "producers": [keyed_producer("p", &["ttl", "rej"], burst_rate(2, 0.0))],
        "consumers": [queue_consumer("c", "rej", 1, 1.0).with(always_fails("nack", false))]
    }));
    let events = run_ms(&mut s, 100);
    assert!(dead_letters(&events, &s).is_empty());
    assert_eq!(s.ledger().expired, 1);
    assert_eq!(drops(&events), vec![(1, DropReason::Rejected)]);
}

#[test]
fn rmq_29_dead_lettering_removes_the_expiration() {
    let mut s = sim_1ms(json!({
        "queues": [
            { "name": "src", "max_length": 1, "dead_letter_exchange": "", "dead_letter_routing_key": "dlq" },
            { "name": "dlq" }
        ],
        "producers": [queue_producer("p", "src", burst_rate(2, 0.0))
            .with(json!({ "message": { "ttl_ms": 100 } }))]
    }));
    // m0 is pushed out by m1 at once (maxlen); in the DLQ its 100 ms expiration no longer applies.
    let events = run_ms(&mut s, 1_000);
    assert_eq!(
        dead_letters(&events, &s),
        vec![
            (0, "src".to_string(), DeadLetterReason::Maxlen),
            (1, "src".to_string(), DeadLetterReason::Expired)
        ]
    );
    assert_eq!(queue_contents(&s, "dlq"), vec![0, 1]);
    let chips = queue_view(&s, "dlq").head;
    assert!(chips.iter().all(|c| c.dead_lettered && !c.expired));
}

#[test]
fn rmq_29_file_dead_letter_reasons() {
    let (_, _, r) = run_file(&rule_file("rmq-29-dead-letter-reasons.json"), 10_000);
    let mut got: Vec<(&str, &str)> = r
        .dead_letters
        .iter()
        .map(|d| (d.from_queue.as_str(), d.reason.as_str()))
        .collect();
    got.sort();
    got.dedup();
    assert_eq!(
        got,
        vec![
            ("payments", "rejected"),
            ("quotes", "expired"),
            ("tickets", "maxlen"),
            ("webhooks", "delivery_limit")
        ]
    );
    assert_eq!(r.ledger.dropped_total(), 0);
    assert_eq!(contents(&r, "dead-letters").len(), r.dead_letters.len());
}

// ------------------------------------------------------------------ RMQ-30

fn delivery_limit_run(
    limit: Option<i64>,
    action: &str,
    dlx: bool,
    until_ms: u64,
) -> (Simulation, Vec<Event>) {
    let mut q = json!({ "name": "qq", "type": "quorum" });
    if let Some(l) = limit {
        q["delivery_limit"] = json!(l);
    }
    if dlx {
        q = q.with(dead_letter_to("dlq"));
    }
    let mut s = sim_1ms(json!({
        "queues": [q, { "name": "dlq" }],
        "producers": [queue_producer("p", "qq", burst_rate(1, 0.0))],
        "consumers": [queue_consumer("c", "qq", 1, 1.0).with(always_fails(action, true))]
    }));
    let events = run_ms(&mut s, until_ms);
    (s, events)
}

#[test]
fn rmq_30_default_delivery_limit_is_20_returns() {
    let (s, events) = delivery_limit_run(None, "reject", true, 1_000);
    let got = received_by(&events, &s, "c");
    assert_eq!(got.len(), 21, "first delivery plus 20 counted returns");
    assert_eq!(got[0], (0, false));
    assert!(got[1..].iter().all(|d| *d == (0, true)));
    assert_eq!(
        dead_letters(&events, &s),
        vec![(0, "qq".to_string(), DeadLetterReason::DeliveryLimit)]
    );
    assert_eq!(queue_contents(&s, "dlq"), vec![0]);
}

#[test]
fn rmq_30_reject_counts_and_limit_exceeded_without_dlx_drops() {
    let (s, events) = delivery_limit_run(Some(2), "reject", false, 1_000);
    assert_eq!(received_by(&events, &s, "c").len(), 3);
    assert_eq!(drops(&events), vec![(0, DropReason::DeliveryLimit)]);
    assert!(dead_letters(&events, &s).is_empty());
    assert_eq!(queue_view(&s, "qq").total, 0);
}

#[test]
fn rmq_30_nack_does_not_count_in_4_3() {
    let (s, events) = delivery_limit_run(Some(2), "nack", true, 300);
    assert!(received_by(&events, &s, "c").len() > 50, "keeps looping");
    assert!(dead_letters(&events, &s).is_empty(), "{}", trace(&events));
    assert!(drops(&events).is_empty());
    assert_eq!(queue_view(&s, "qq").total, 1);
}

#[test]
fn rmq_30_minus_one_disables_the_limit() {
    let (s, events) = delivery_limit_run(Some(-1), "reject", true, 300);
    assert!(received_by(&events, &s, "c").len() > 50);
    assert!(dead_letters(&events, &s).is_empty());
    assert!(drops(&events).is_empty());
}

#[test]
fn rmq_30_crashes_count_and_push_a_whole_prefetch_batch_over_at_once() {
    let mut s = sim_1ms(json!({
        "queues": [
            { "name": "qq", "type": "quorum", "delivery_limit": 1,
              "dead_letter_exchange": "", "dead_letter_routing_key": "dlq" },
            { "name": "dlq" }
        ],
        "producers": [queue_producer("p", "qq", burst_rate(5, 0.0))],
        "consumers": [queue_consumer("c", "qq", 10, 10_000.0)],
        "script": [at(100.0, cmd::crash("c")), at(200.0, cmd::restart("c")),
                   at(300.0, cmd::crash("c"))]
    }));
    let events = run_ms(&mut s, 250);
    assert!(
        dead_letters(&events, &s).is_empty(),
        "one crash is within the limit"
    );
    assert_eq!(queue_view(&s, "qq").unacked, 5);
    let events = run_ms(&mut s, 400);
    let dl = dead_letters(&events, &s);
    assert_eq!(dl.len(), 5, "{}", trace(&events));
    assert!(dl.iter().all(|d| d.2 == DeadLetterReason::DeliveryLimit));
    let at = first_time(&events, |k| matches!(k, EventKind::DeadLettered { .. }));
    assert_eq!(at, SimTime::from_millis(300));
    assert_eq!(queue_contents(&s, "dlq"), vec![0, 1, 2, 3, 4]);
}

#[test]
fn rmq_30_classic_queue_has_no_delivery_limit() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q", "dead_letter_exchange": "", "dead_letter_routing_key": "dlq" }, { "name": "dlq" }],
        "producers": [queue_producer("p", "q", burst_rate(1, 0.0))],
        "consumers": [queue_consumer("c", "q", 1, 1.0).with(always_fails("reject", true))]
    }));
    let events = run_ms(&mut s, 300);
    assert!(received_by(&events, &s, "c").len() > 50);
    assert!(dead_letters(&events, &s).is_empty());
}

#[test]
fn rmq_30_file_quorum_delivery_limit() {
    let (_, _, r) = run_file(&rule_file("rmq-30-quorum-delivery-limit.json"), 10_000);
    let times = |c: &str, m: u64| r.received[c].iter().filter(|x| x.msg.0 == m).count();
    let mut poison: Vec<u64> = r.received["rejecter"]
        .iter()
        .map(|x| x.msg.0)
        .filter(|m| times("rejecter", *m) > 1)
        .collect();
    poison.sort();
    poison.dedup();
    assert_eq!(poison.len(), 1, "one poison message: {poison:?}");
    let p = poison[0];
    assert_eq!(
        report_dead_letters(&r),
        vec![(p, "with-reject", "delivery_limit")]
    );
    assert_eq!(times("rejecter", p), 21, "default delivery-limit 20");
    assert!(times("nacker", p) > 21, "nack does not count: it loops");
    assert_eq!(contents(&r, "poison-dlq"), vec![p]);
}

// ------------------------------------------------------------------ RMQ-31

#[test]
fn rmq_31_each_publish_is_confirmed_exactly_once() {
    let mut s = sim_1ms(json!({
        "exchanges": [{ "name": "fan", "type": "fanout" }],
        "queues": [
            { "name": "small", "max_length": 3, "overflow": "reject-publish" },
            { "name": "big" }, { "name": "capped", "max_length": 1 }
        ],
        "bindings": [
            { "exchange": "fan", "queue": "small" }, { "exchange": "fan", "queue": "big" },
            { "exchange": "fan", "queue": "capped" }
        ],
        "producers": [{ "name": "p", "targets": [{ "exchange": "fan" }], "confirms": true,
                        "rate": { "kind": "constant", "per_sec": 100 }, "limit": 10 }]
    }));
    let events = run_ms(&mut s, 1_000);
    let p = &s.report(1, &events).publishers["p"];
    assert_eq!(p.sent, 10);
    assert_eq!(
        p.confirms_acked + p.confirms_nacked,
        10,
        "one confirm per publish, not per queue"
    );
    assert_eq!((p.confirms_acked, p.confirms_nacked), (3, 7));
    assert_eq!(msg_ids(&p.nacked), (3..10).collect::<Vec<_>>());
    assert_eq!(publisher_nacks(&events), (3..10).collect::<Vec<_>>());
}

#[test]
fn rmq_31_unroutable_is_still_acked_and_drop_head_is_not_a_nack() {
    let mut s = sim_1ms(json!({
        "exchanges": [{ "name": "shop", "type": "direct" }],
        "queues": [{ "name": "orders", "max_length": 1 }],
        "bindings": [{ "exchange": "shop", "queue": "orders", "routing_key": "orders" }],
        "producers": [{ "name": "p", "targets": [{ "exchange": "shop" }],
                        "confirms": true, "mandatory": true,
                        "rate": { "kind": "burst", "count": 6, "at_ms": 0 },
                        "message": { "routing_keys": ["orders", "nowhere"] } }]
    }));
    let events = run_ms(&mut s, 100);
    let p = &s.report(1, &events).publishers["p"];
    assert_eq!((p.confirms_acked, p.confirms_nacked), (6, 0));
    assert_eq!(msg_ids(&p.returned), vec![1, 3, 5]);
    assert!(publisher_nacks(&events).is_empty());
    assert_eq!(
        drops(&events),
        vec![
            (1, DropReason::Returned),
            (0, DropReason::MaxLength),
            (3, DropReason::Returned),
            (2, DropReason::MaxLength),
            (5, DropReason::Returned)
        ]
    );
}

#[test]
fn rmq_31_without_confirms_nothing_is_counted() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q", "max_length": 1, "overflow": "reject-publish" }],
        "producers": [keyed_producer("p", &["q", "nowhere"], burst_rate(3, 0.0))]
    }));
    let events = run_ms(&mut s, 100);
    let p = &s.report(1, &events).publishers["p"];
    assert_eq!((p.confirms_acked, p.confirms_nacked), (0, 0));
    assert!(publisher_nacks(&events).is_empty());
}

#[test]
fn rmq_31_file_publisher_confirms() {
    let (_, _, r) = run_file(&rule_file("rmq-31-publisher-confirms.json"), 10_000);
    let p = &r.publishers["web-shop"];
    assert_eq!(p.sent, 10);
    assert_eq!((p.confirms_acked, p.confirms_nacked), (8, 2));
    assert_eq!(msg_ids(&p.returned), vec![1, 3, 5, 7, 9]);
    assert_eq!(msg_ids(&p.nacked), vec![6, 8]);
    assert_eq!(contents(&r, "orders"), vec![0, 2, 4]);
}

// ------------------------------------------------------------------ RMQ-34

#[test]
fn rmq_34_ready_unacked_and_total() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q" }],
        "producers": [queue_producer("p", "q", burst_rate(10, 0.0))
            .with(json!({ "message": { "size_bytes": 10 } }))],
        "consumers": [queue_consumer("c", "q", 3, 100.0)]
    }));
    run_ms(&mut s, 50);
    let snap = s.snapshot();
    let q = &snap.queues[0];
    assert_eq!((q.ready, q.unacked, q.total, q.ready_bytes), (7, 3, 10, 70));
    assert_eq!((snap.ledger.ready, snap.ledger.unacked), (7, 3));
    assert_eq!(snap.consumers[0].unacked_count, 3);
    // After the first ack (103 ms) the next message replaces it: total drops by one.
    run_ms(&mut s, 110);
    let q = queue_view(&s, "q");
    assert_eq!((q.ready, q.unacked, q.total), (6, 3, 9));
}

#[test]
fn rmq_34_auto_ack_deliveries_are_not_unacked() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q" }],
        "producers": [queue_producer("p", "q", burst_rate(10, 0.0))],
        "consumers": [{ "name": "c", "source": { "queue": "q" }, "ack": "auto",
                        "processing": { "kind": "fixed", "ms": 100 } }]
    }));
    run_ms(&mut s, 50);
    let q = queue_view(&s, "q");
    assert_eq!((q.ready, q.unacked, q.total), (0, 0, 0));
    assert_eq!(s.ledger().processing, 10);
}

#[test]
fn rmq_34_ready_includes_expired_messages_not_yet_removed() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q" }],
        "producers": [
            queue_producer("plain", "q", manual_rate()),
            queue_producer("quick", "q", manual_rate()).with(json!({ "message": { "ttl_ms": 10 } }))
        ],
        "consumers": [queue_consumer("c", "q", 1, 1_000.0)],
        "script": [at(0.0, cmd::burst("plain", 2)), at(0.0, cmd::burst("quick", 2))]
    }));
    run_ms(&mut s, 500);
    // m0 unacked; m1 live at the head; m2, m3 expired behind it but still counted.
    let q = queue_view(&s, "q");
    assert_eq!((q.ready, q.unacked, q.total), (3, 1, 4));
    assert_eq!(q.head.iter().filter(|c| c.expired).count(), 2);
}

#[test]
fn rmq_34_file_ui_counts() {
    let (_, _, r) = run_file(&rule_file("rmq-34-ui-counts.json"), 10_000);
    let q = report_queue(&r, "emails");
    assert_eq!((q.ready, q.unacked, q.total), (17, 5, 22));
    assert_eq!(q.head.iter().filter(|c| c.expired).count(), 2);
    assert_eq!(r.ledger.ready, 17);
    assert_eq!(r.ledger.unacked, 5);
}

// ------------------------------------------------------------------ RMQ-35

fn steady_rates(until_ms: u64) -> broker_sim::snapshot::Rates {
    let mut s = sim_of(json!({
        "version": 1, "latency_ms": 2,
        "queues": [{ "name": "q" }],
        "producers": [queue_producer("p", "q", constant_rate(10.0))],
        "consumers": [queue_consumer("c", "q", 10, 10.0)]
    }));
    run_ms(&mut s, until_ms);
    queue_view(&s, "q").rates
}

#[test]
fn rmq_35_rates_are_per_second_over_the_last_completed_5_s_window() {
    let r = steady_rates(3_000);
    assert_eq!(
        (r.publish, r.deliver, r.ack),
        (0.0, 0.0, 0.0),
        "first window not complete"
    );
    let r = steady_rates(12_000);
    assert_eq!(
        (r.publish, r.deliver, r.redeliver, r.ack),
        (10.0, 10.0, 0.0, 10.0)
    );
}

#[test]
fn rmq_35_a_burst_is_averaged_over_the_window_and_goes_back_to_zero() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q" }],
        "producers": [queue_producer("p", "q", burst_rate(25, 1000.0))],
        "consumers": [queue_consumer("c", "q", 0, 1.0)]
    }));
    run_ms(&mut s, 6_000);
    let r = queue_view(&s, "q").rates;
    assert_eq!((r.publish, r.deliver, r.ack), (5.0, 5.0, 5.0));
    run_ms(&mut s, 11_000);
    let r = queue_view(&s, "q").rates;
    assert_eq!((r.publish, r.deliver, r.ack), (0.0, 0.0, 0.0));
}

#[test]
fn rmq_35_redelivered_is_a_subset_of_deliver() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q" }],
        "producers": [queue_producer("p", "q", burst_rate(10, 1000.0))],
        "consumers": [queue_consumer("c", "q", 10, 60_000.0)],
        "script": [at(2_000.0, cmd::crash("c")), at(2_500.0, cmd::restart("c"))]
    }));
    run_ms(&mut s, 6_000);
    let r = queue_view(&s, "q").rates;
    assert_eq!(
        (r.publish, r.deliver, r.redeliver, r.ack),
        (2.0, 4.0, 2.0, 0.0)
    );
}

#[test]

fn rmq_35_auto_ack_counts_in_deliver_not_ack() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q" }],
        "producers": [queue_producer("p", "q", burst_rate(10, 1000.0))],
        "consumers": [{ "name": "c", "source": { "queue": "q" }, "ack": "auto",
                        "processing": { "kind": "fixed", "ms": 1 } }]
    }));
    run_ms(&mut s, 6_000);
    let r = queue_view(&s, "q").rates;
    assert_eq!((r.publish, r.deliver, r.ack), (2.0, 2.0, 0.0));
}

#[test]
fn rmq_35_file_ui_rates() {
    let (_, _, r) = run_file(&rule_file("rmq-35-ui-rates.json"), 10_000);
    let q = report_queue(&r, "events");
    // 50 steady messages plus a burst of 25 in [5 s, 10 s): 75 / 5 s.
    assert_eq!(
        (
            q.rates.publish,
            q.rates.deliver,
            q.rates.redeliver,
            q.rates.ack
        ),
        (15.0, 15.0, 0.0, 15.0)
    );
}

// ------------------------------------------------------------------ commands on a live queue

#[test]
fn rmq_23_lowering_max_length_by_command_drops_from_the_head() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q" }],
        "producers": [queue_producer("p", "q", burst_rate(5, 0.0))]
    }));
    run_ms(&mut s, 50);
    apply(
        &mut s,
        json!({ "update_queue": { "queue": { "name": "q", "max_length": 2 } } }),
    );
    let events = run_ms(&mut s, 60);
    assert_eq!(queue_contents(&s, "q"), vec![3, 4]);
    assert_eq!(
        drops(&events),
        vec![
            (0, DropReason::MaxLength),
            (1, DropReason::MaxLength),
            (2, DropReason::MaxLength)
        ]
    );
}
