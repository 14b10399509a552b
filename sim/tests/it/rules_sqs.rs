//! AWS SQS rules (SQS-1..SQS-11 in `reference/semantics.md`).
//!
//! The usual rig: every hop takes 1 ms; a producer bursts at 10 ms, so its messages reach the
//! queue at 11; consumers long-poll (20 s) one message at a time, so their first request reaches
//! the queue at 1 and waits. The anomaly rates are 0 and short polls ask every server, unless a
//! test says otherwise.

use crate::helpers::{
    apply, at, burst_rate, cmd, manual_rate, run_file, run_ms, sim_1ms, sim_of, trace, With,
};
use broker_sim::event::{SqsDeleteOutcome, SqsEvent, SqsMessageState, SqsRefusal, SqsVisibleWhy};
use broker_sim::report::Report;
use broker_sim::snapshot::SqsQueueView;
use broker_sim::{DeadLetterReason, DropReason, Event, EventKind, Scenario, SimTime, Simulation};
use serde_json::{json, Value};

// ------------------------------------------------------------------ local helpers

/// A queue with the anomalies off: no duplicates, no reordering, every server asked.
fn queue(name: &str) -> Value {
    let mut q = json!({
        "name": name,
        "duplicate_rate": 0, "reorder_rate": 0, "short_poll_sample": 1.0
    });
    if name.ends_with(".fifo") {
        q["type"] = json!("fifo");
    }
    q
}

fn producer(name: &str, queue: &str, rate: Value) -> Value {
    json!({ "name": name, "targets": [{ "sqs_queue": queue }], "rate": rate })
}

/// A FIFO producer: every message in group `g`, deduplication ids `d0`, `d1`, … unless set.
fn fifo_producer(name: &str, queue: &str, rate: Value, groups: &[&str]) -> Value {
    let dedup: Vec<String> = (0..1000).map(|i| format!("d{i}")).collect();
    producer(name, queue, rate).with(json!({
        "message": { "group_ids": groups, "dedup_ids": dedup }
    }))
}

/// A consumer long-polling 20 s for one message at a time, with fixed processing.
fn consumer(name: &str, queue: &str, ms: f64) -> Value {
    json!({
        "name": name, "source": { "sqs_queue": queue },
        "processing": { "kind": "fixed", "ms": ms },
        "sqs": { "wait_time_ms": 20000, "max_messages": 1 }
    })
}

/// Fields for [`With::with`]: the consumer never deletes message `msg`.
fn leaves(msg: u64) -> Value {
    json!({ "decisions": [{ "when": { "msg": msg }, "then": "leave_unacked" }] })
}

fn ms(t: u64) -> SimTime {
    SimTime::from_millis(t)
}

fn at_ms(e: &Event) -> f64 {
    e.time.micros() as f64 / 1_000.0
}

fn sqs(events: &[Event]) -> impl Iterator<Item = (f64, &SqsEvent)> {
    events.iter().filter_map(|e| match &e.kind {
        EventKind::Sqs(s) => Some((at_ms(e), s)),
        _ => None,
    })
}

fn consumer_name(sim: &Simulation, id: broker_sim::ConsumerId) -> String {
    sim.snapshot().consumers[id.index()].name.clone()
}

/// Every receive as (time ms, message, receive count, consumer).
fn receives(events: &[Event], sim: &Simulation) -> Vec<(f64, u64, u32, String)> {
    sqs(events)
        .filter_map(|(t, e)| match e {
            SqsEvent::SqsReceive {
                msg,
                consumer,
                receive_count,
                ..
            } => Some((t, msg.0, *receive_count, consumer_name(sim, *consumer))),
            _ => None,
        })
        .collect()
}

/// Every receive as (time ms, message, receive count).
fn receive_times(events: &[Event]) -> Vec<(f64, u64, u32)> {
    sqs(events)
        .filter_map(|(t, e)| match e {
            SqsEvent::SqsReceive {
                msg, receive_count, ..
            } => Some((t, msg.0, *receive_count)),
            _ => None,
        })
        .collect()
}

/// Every empty receive as (time ms, consumer, over_limit).
fn empty_receives(events: &[Event], sim: &Simulation) -> Vec<(f64, String, bool)> {
    sqs(events)
        .filter_map(|(t, e)| match e {
            SqsEvent::SqsEmptyReceive {
                consumer,
                over_limit,
                ..
            } => Some((t, consumer_name(sim, *consumer), *over_limit)),
            _ => None,
        })
        .collect()
}

/// Every delete as (time ms, message, consumer, outcome).
fn deletes(events: &[Event], sim: &Simulation) -> Vec<(f64, u64, String, SqsDeleteOutcome)> {
    sqs(events)
        .filter_map(|(t, e)| match e {
            SqsEvent::SqsDelete {
                msg,
                consumer,
                outcome,
                ..
            } => Some((t, msg.0, consumer_name(sim, *consumer), *outcome)),
            _ => None,
        })
        .collect()
}

/// Every return to visibility as (time ms, message, why).
fn visibles(events: &[Event]) -> Vec<(f64, u64, SqsVisibleWhy)> {
    sqs(events)
        .filter_map(|(t, e)| match e {
            SqsEvent::SqsVisible { msg, why, .. } => Some((t, msg.0, *why)),
            _ => None,
        })
        .collect()
}

/// Every redrive as (time ms, message, receives).
fn redrives(events: &[Event]) -> Vec<(f64, u64, u32)> {
    sqs(events)
        .filter_map(|(t, e)| match e {
            SqsEvent::SqsRedrive { msg, receives, .. } => Some((t, msg.0, *receives)),
            _ => None,
        })
        .collect()
}

/// Every retention expiry as (time ms, message, state).
fn expiries(events: &[Event]) -> Vec<(f64, u64, SqsMessageState)> {
    sqs(events)
        .filter_map(|(t, e)| match e {
            SqsEvent::SqsExpired { msg, state, .. } => Some((t, msg.0, *state)),
            _ => None,
        })
        .collect()
}

fn sqs_queue(sim: &Simulation, name: &str) -> SqsQueueView {
    sim.snapshot()
        .sqs
        .queues
        .into_iter()
        .find(|q| q.name == name)
        .unwrap_or_else(|| panic!("no SQS queue {name}"))
}

/// (visible, not visible, delayed) of a queue now.
fn figures(sim: &Simulation, name: &str) -> (u64, u64, u64) {
    let q = sqs_queue(sim, name);
    (q.visible, q.not_visible, q.delayed)
}

fn seen(r: &Report, consumer: &str) -> Vec<u64> {
    r.sqs.consumers[consumer].seen.iter().map(|m| m.0).collect()
}

fn sent(r: &Report, consumer: &str) -> Vec<(u64, u32)> {
    r.sqs.consumers[consumer]
        .sent
        .iter()
        .map(|s| (s.msg.0, s.receive_count))
        .collect()
}

fn scenario_error(v: Value) -> (String, String) {
    let e = Scenario::from_json(&v.to_string()).expect_err("the scenario is refused");
    (e.path, e.reason)
}

fn example(name: &str) -> String {
    format!("{}/../scenarios/sqs/{name}", env!("CARGO_MANIFEST_DIR"))
}

// ------------------------------------------------------------------ SQS-1

#[test]
fn sqs_01_a_delete_that_misses_a_server_leaves_a_duplicate_that_comes_back_once() {
    let mut s = sim_1ms(json!({
        "sqs_queues": [queue("q").with(json!({ "duplicate_rate": 1.0 }))],
        "producers": [producer("p", "q", burst_rate(1, 10.0))],
        "consumers": [consumer("a", "q", 10.0)]
    }));
    let events = run_ms(&mut s, 40_000);
    assert_eq!(
        receives(&events, &s),
        vec![(11.0, 0, 1, "a".into()), (30_011.0, 0, 2, "a".into())],
        "{}",
        trace(&events)
    );
    let duplicates: Vec<(f64, SimTime)> = sqs(&events)
        .filter_map(|(t, e)| match e {
            SqsEvent::SqsDuplicate { visible_at, .. } => Some((t, *visible_at)),
            _ => None,
        })
        .collect();
    assert_eq!(
        duplicates,
        vec![(23.0, ms(30_011))],
        "one duplicate, never a second"
    );
    assert_eq!(
        visibles(&events),
        vec![(30_011.0, 0, SqsVisibleWhy::Duplicate)]
    );
    assert_eq!(
        deletes(&events, &s),
        vec![
            (23.0, 0, "a".into(), SqsDeleteOutcome::Deleted),
            (30_023.0, 0, "a".into(), SqsDeleteOutcome::Deleted)
        ]
    );
    let r = s.report(1, &events);
    assert_eq!(seen(&r, "a"), vec![0, 0]);
    let l = s.ledger();
    assert_eq!((l.published, l.broker_copies, l.acked), (1, 1, 2));
    assert!(l.is_balanced());
}

#[test]
fn sqs_01_a_receive_may_pass_over_the_oldest_message_once() {
    let mut s = sim_1ms(json!({
        "sqs_queues": [queue("q").with(json!({ "reorder_rate": 1.0 }))],
        "producers": [producer("p", "q", burst_rate(4, 10.0))],
        "consumers": [consumer("a", "q", 10.0)]
    }));
    let events = run_ms(&mut s, 1_000);
    let order: Vec<u64> = receive_times(&events).iter().map(|r| r.1).collect();
    assert_eq!(order, vec![1, 0, 3, 2], "{}", trace(&events));
    // With room, the passed-over message still goes, last.
    let mut s = sim_1ms(json!({
        "sqs_queues": [queue("q").with(json!({ "reorder_rate": 1.0 }))],
        "producers": [producer("p", "q", burst_rate(4, 10.0))],
        "consumers": [consumer("a", "q", 1.0).with(json!({ "sqs": { "max_messages": 10 } }))]
    }));
    let events = run_ms(&mut s, 1_000);
    assert_eq!(
        receive_times(&events),
        vec![(11.0, 1, 1), (11.0, 2, 1), (11.0, 3, 1), (11.0, 0, 1)]
    );
}

#[test]
fn sqs_01_rates_zero_give_exactly_once_in_order() {
    let mut s = sim_1ms(json!({
        "sqs_queues": [queue("q")],
        "producers": [producer("p", "q", burst_rate(100, 10.0))],
        "consumers": [consumer("a", "q", 1.0).with(json!({ "sqs": { "max_messages": 10 } }))]
    }));
    let events = run_ms(&mut s, 5_000);
    let order: Vec<u64> = receive_times(&events).iter().map(|r| r.1).collect();
    assert_eq!(order, (0..100).collect::<Vec<u64>>());
    let l = s.ledger();
    assert_eq!((l.acked, l.broker_copies), (100, 0));
}

#[test]
fn sqs_01_default_rates_make_occasional_duplicates_from_the_seeded_rng() {
    let run = || {
        let mut s = sim_1ms(json!({
            "sqs_queues": [{ "name": "q", "short_poll_sample": 1.0 }],
            "producers": [producer("p", "q", burst_rate(4_000, 10.0))],
            "consumers": [consumer("a", "q", 0.0).with(json!({ "sqs": { "max_messages": 10 } }))]
        }));
        let events = run_ms(&mut s, 200_000);
        (s, events)
    };
    let (s, events) = run();
    let l = s.ledger();
    let duplicates = sqs(&events)
        .filter(|(_, e)| matches!(e, SqsEvent::SqsDuplicate { .. }))
        .count() as u64;
    // duplicate_rate 0.001 over 4,000 deletes.
    assert!((1..=12).contains(&duplicates), "{duplicates} duplicates");
    assert_eq!(l.broker_copies, duplicates);
    assert_eq!(
        l.acked,
        4_000 + duplicates,
        "every copy is deleted in the end"
    );
    let order: Vec<u64> = receive_times(&events).iter().map(|r| r.1).collect();
    assert!(order.windows(2).any(|w| w[1] < w[0]), "best-effort order");
    // The same seed gives the same anomalies.
    let (again, _) = run();
    assert_eq!(again.digest(), s.digest());
}

// ------------------------------------------------------------------ SQS-2

#[test]
fn sqs_02_a_message_not_deleted_in_time_reappears_and_a_stale_delete_still_deletes() {
    let mut s = sim_1ms(json!({
        "sqs_queues": [queue("q").with(json!({ "visibility_timeout_ms": 1000 }))],
        "producers": [producer("p", "q", burst_rate(1, 10.0))],
        "consumers": [consumer("a", "q", 1500.0), consumer("b", "q", 2000.0)]
    }));
    let events = run_ms(&mut s, 2_000);
    assert_eq!(
        receives(&events, &s),
        vec![(11.0, 0, 1, "a".into()), (1_011.0, 0, 2, "b".into())]
    );
    assert_eq!(
        visibles(&events),
        vec![(1_011.0, 0, SqsVisibleWhy::Timeout)]
    );
    // A's handle is stale, yet a standard queue deletes, though B holds the message.
    assert_eq!(
        deletes(&events, &s),
        vec![(1_513.0, 0, "a".into(), SqsDeleteOutcome::StaleHandle)]
    );
    assert_eq!(figures(&s, "q"), (0, 0, 0));
    // B is still processing its copy: it finishes and its delete finds nothing.
    let more = run_ms(&mut s, 4_000);
    assert_eq!(
        deletes(&more, &s),
        vec![(3_013.0, 0, "b".into(), SqsDeleteOutcome::Gone)]
    );
    let all: Vec<Event> = events.into_iter().chain(more).collect();
    let r = s.report(1, &all);
    assert_eq!((seen(&r, "a"), seen(&r, "b")), (vec![0], vec![0]));
    assert_eq!(s.ledger().acked, 1);
}

#[test]
fn sqs_02_a_fifo_queue_refuses_an_expired_receipt_handle() {
    let mut s = sim_1ms(json!({
        "sqs_queues": [queue("q.fifo").with(json!({ "visibility_timeout_ms": 1000 }))],
        "producers": [fifo_producer("p", "q.fifo", burst_rate(1, 10.0), &["A"])],
        "consumers": [consumer("a", "q.fifo", 1500.0), consumer("b", "q.fifo", 500.0)]
    }));
    let events = run_ms(&mut s, 3_000);
    assert_eq!(
        receives(&events, &s),
        vec![(11.0, 0, 1, "a".into()), (1_011.0, 0, 2, "b".into())]
    );
    assert_eq!(
        deletes(&events, &s),
        vec![
            (
                1_513.0,
                0,
                "a".into(),
                SqsDeleteOutcome::ReceiptHandleIsInvalid
            ),
            (1_513.0, 0, "b".into(), SqsDeleteOutcome::Deleted)
        ],
        "{}",
        trace(&events)
    );
    assert_eq!(s.ledger().acked, 1);
}

#[test]
fn sqs_02_change_visibility_counts_from_the_call_and_is_not_remembered() {
    let mut s = sim_1ms(json!({
        "sqs_queues": [queue("q").with(json!({ "visibility_timeout_ms": 1000 }))],
        "producers": [producer("p", "q", burst_rate(1, 10.0))],
        "consumers": [
            consumer("a", "q", 3000.0).with(leaves(0)),
            consumer("b", "q", 10.0).with(leaves(0))
        ],
        "script": [at(500.0, json!({ "change_visibility": { "consumer": "a", "timeout_ms": 5000 } }))]
    }));
    let events = run_ms(&mut s, 7_000);
    let changes: Vec<(f64, Option<SimTime>, Option<SqsRefusal>)> = sqs(&events)
        .filter_map(|(t, e)| match e {
            SqsEvent::SqsVisibilityChanged { until, refused, .. } => Some((t, *until, *refused)),
            _ => None,
        })
        .collect();
    assert_eq!(
        changes,
        vec![(501.0, Some(ms(5_501)), None)],
        "not 1011 + 5000"
    );
    assert_eq!(
        visibles(&events),
        vec![
            (5_501.0, 0, SqsVisibleWhy::Timeout),
            (6_501.0, 0, SqsVisibleWhy::Timeout)
        ],
        "the next receive uses the queue's 1000 ms again"
    );
    assert_eq!(
        receives(&events, &s)[..2],
        [(11.0, 0, 1, "a".into()), (5_501.0, 0, 2, "b".into())]
    );
}

#[test]
fn sqs_02_change_visibility_to_zero_returns_the_message_at_once_and_beyond_twelve_hours_is_refused()
{
    let rig = |timeout_ms: f64| {
        sim_1ms(json!({
            "sqs_queues": [queue("q")],
            "producers": [producer("p", "q", burst_rate(1, 10.0))],
            "consumers": [consumer("a", "q", 3000.0).with(leaves(0)), consumer("b", "q", 10.0)],
            "script": [at(500.0, json!({ "change_visibility": { "consumer": "a", "timeout_ms": timeout_ms } }))]
        }))
    };
    let mut s = rig(0.0);
    let events = run_ms(&mut s, 1_000);
    assert_eq!(
        visibles(&events),
        vec![(501.0, 0, SqsVisibleWhy::VisibilityZero)]
    );
    assert_eq!(receives(&events, &s)[1], (501.0, 0, 2, "b".into()));

    let mut s = rig(43_200_001.0);
    let events = run_ms(&mut s, 1_000);
    let refused: Vec<Option<SqsRefusal>> = sqs(&events)
        .filter_map(|(_, e)| match e {
            SqsEvent::SqsVisibilityChanged { refused, .. } => Some(*refused),
            _ => None,
        })
        .collect();
    assert_eq!(refused, vec![Some(SqsRefusal::InvalidParameterValue)]);

    // A consumer holding nothing has nothing to change.
    let mut s = rig(1000.0);
    run_ms(&mut s, 5);
    let cmd: broker_sim::Command = serde_json::from_value(
        json!({ "change_visibility": { "consumer": "a", "timeout_ms": 1000 } }),
    )
    .unwrap();
    assert!(s.apply(cmd).is_err());
}

#[test]
fn sqs_02_a_crashed_consumers_message_stays_in_flight_until_the_timeout() {
    let mut s = sim_1ms(json!({
        "sqs_queues": [queue("q").with(json!({ "visibility_timeout_ms": 5000 }))],
        "producers": [producer("p", "q", burst_rate(2, 10.0))],
        "consumers": [
            consumer("a", "q", 100.0)
                .with(json!({ "decisions": [{ "when": { "delivery": 2 }, "then": "crash" }] })),
            consumer("b", "q", 10.0).with(json!({ "stopped": true }))
        ],
        "script": [at(1_000.0, cmd::restart("b"))]
    }));
    let events = run_ms(&mut s, 6_000);
    // A deletes m0, then dies as it starts on m1: nothing tells SQS.
    let crash = events
        .iter()
        .find(|e| matches!(e.kind, EventKind::ConsumerCrashed { .. }))
        .map(at_ms);
    assert_eq!(crash, Some(114.0));
    assert_eq!(figures(&s, "q").1, 0);
    assert_eq!(
        receives(&events, &s),
        vec![
            (11.0, 0, 1, "a".into()),
            (113.0, 1, 1, "a".into()),
            (5_113.0, 1, 2, "b".into())
        ],
        "{}",
        trace(&events)
    );
    let r = s.report(1, &events);
    assert_eq!(seen(&r, "a"), vec![0, 1]);
    assert_eq!(s.ledger().acked, 2);
}

// ------------------------------------------------------------------ SQS-3

#[test]
fn sqs_03_every_receive_increments_the_receive_count() {
    let mut s = sim_1ms(json!({
        "sqs_queues": [queue("q").with(json!({ "visibility_timeout_ms": 100 }))],
        "producers": [producer("p", "q", burst_rate(1, 10.0))],
        "consumers": [consumer("a", "q", 10.0).with(leaves(0))]
    }));
    let mut events = run_ms(&mut s, 150);
    // The console's view: in flight, with its receive count and when it turns visible.
    let q = sqs_queue(&s, "q");
    let in_flight: Vec<(u64, u32, SimTime)> = q
        .in_flight
        .iter()
        .map(|m| (m.chip.msg.0, m.receive_count, m.visible_at))
        .collect();
    assert_eq!(in_flight, vec![(0, 2, ms(211))]);
    events.extend(run_ms(&mut s, 350));
    assert_eq!(
        receive_times(&events),
        vec![(11.0, 0, 1), (111.0, 0, 2), (211.0, 0, 3), (311.0, 0, 4)]
    );
}

#[test]
fn sqs_03_a_receive_whose_response_is_lost_in_a_crash_still_counts() {
    let mut s = sim_1ms(json!({
        "sqs_queues": [queue("q")],
        "producers": [producer("p", "q", burst_rate(1, 10.0))],
        "consumers": [consumer("a", "q", 10.0), consumer("b", "q", 10.0)],
        "script": [at(11.5, cmd::crash("a"))]
    }));
    let events = run_ms(&mut s, 31_000);
    assert_eq!(
        receives(&events, &s),
        vec![(11.0, 0, 1, "a".into()), (30_011.0, 0, 2, "b".into())]
    );
    let r = s.report(1, &events);
    assert_eq!(sent(&r, "a"), vec![(0, 1)], "sent to a");
    assert!(seen(&r, "a").is_empty(), "but never seen by it");
    assert_eq!(seen(&r, "b"), vec![0]);
}

// ------------------------------------------------------------------ SQS-4

fn redrive_rig(extra: Value) -> Value {
    json!({
        "sqs_queues": [
            queue("q").with(json!({
                "visibility_timeout_ms": 100,
                "redrive": { "dead_letter_queue": "d", "max_receive_count": 3 }
            })),
            queue("d")
        ],
        "producers": [producer("p", "q", burst_rate(1, 10.0))],
        "consumers": [consumer("a", "q", 10.0).with(leaves(0))]
    })
    .with(extra)
}

#[test]
fn sqs_04_the_receive_after_max_receive_count_moves_it_to_the_dlq() {
    let mut s = sim_1ms(redrive_rig(json!({})));
    let events = run_ms(&mut s, 400);
    assert_eq!(
        receive_times(&events),
        vec![(11.0, 0, 1), (111.0, 0, 2), (211.0, 0, 3)]
    );
    assert_eq!(redrives(&events), vec![(311.0, 0, 3)]);
    assert_eq!(figures(&s, "q"), (0, 0, 0));
    assert_eq!(figures(&s, "d"), (1, 0, 0));
    let l = s.ledger();
    assert_eq!(
        l.dead_lettered.get(&DeadLetterReason::MaxReceiveCount),
        Some(&1)
    );
    assert_eq!(l.dead_letter_copies, 1);
    // The receive that found it goes on waiting, and ends empty.
    let more = run_ms(&mut s, 21_000);
    assert_eq!(
        empty_receives(&more, &s),
        vec![(20_223.0, "a".into(), false)]
    );
    let r = s.report(1, &events);
    let moved: Vec<(u64, &str, &str, u32)> = r
        .sqs
        .redrives
        .iter()
        .map(|d| {
            (
                d.msg.0,
                d.from_queue.as_str(),
                d.to_queue.as_str(),
                d.receive_count,
            )
        })
        .collect();
    assert_eq!(moved, vec![(0, "q", "d", 3)]);
    assert_eq!(r.sqs.queue_contents["d"], vec![broker_sim::MessageId(0)]);
}

#[test]
fn sqs_04_no_receive_attempt_means_no_redrive() {
    // A dies while processing its third receive, before it asks again; it restarts at 5 s.
    let mut s = sim_1ms(redrive_rig(json!({
        "script": [at(215.0, cmd::crash("a")), at(5_000.0, cmd::restart("a"))]
    })));
    let events = run_ms(&mut s, 4_999);
    assert!(redrives(&events).is_empty());
    assert_eq!(
        figures(&s, "q"),
        (1, 0, 0),
        "visible in the source all along"
    );
    let more = run_ms(&mut s, 5_100);
    assert_eq!(redrives(&more), vec![(5_001.0, 0, 3)]);
}

#[test]
fn sqs_04_a_dead_consumers_long_poll_still_waiting_at_sqs_is_a_receive_attempt() {
    // A dies after it asked again: its request waits at SQS, which knows nothing of the crash.
    let mut s = sim_1ms(redrive_rig(
        json!({ "script": [at(250.0, cmd::crash("a"))] }),
    ));
    let events = run_ms(&mut s, 400);
    assert_eq!(redrives(&events), vec![(311.0, 0, 3)]);
}

#[test]
fn sqs_04_dlq_retention_counts_from_the_original_send_on_standard_queues_only() {
    let mut s = sim_1ms(redrive_rig(json!({
        "sqs_queues": [
            queue("q").with(json!({
                "visibility_timeout_ms": 100,
                "redrive": { "dead_letter_queue": "d", "max_receive_count": 3 }
            })),
            queue("d").with(json!({ "message_retention_ms": 60000 }))
        ]
    })));
    let mut events = run_ms(&mut s, 1_000);
    // ApproximateAgeOfOldestMessage counts from the move; retention from the first send.
    assert_eq!(sqs_queue(&s, "d").age_of_oldest_ms, 689.0);
    events.extend(run_ms(&mut s, 61_000));
    assert_eq!(
        expiries(&events),
        vec![(60_011.0, 0, SqsMessageState::Visible)]
    );

    let mut s = sim_1ms(json!({
        "sqs_queues": [
            queue("q.fifo").with(json!({
                "visibility_timeout_ms": 100,
                "redrive": { "dead_letter_queue": "d.fifo", "max_receive_count": 3 }
            })),
            queue("d.fifo").with(json!({ "message_retention_ms": 60000 }))
        ],
        "producers": [fifo_producer("p", "q.fifo", burst_rate(1, 10.0), &["A"])],
        "consumers": [consumer("a", "q.fifo", 10.0).with(leaves(0))]
    }));
    let events = run_ms(&mut s, 61_000);
    assert_eq!(redrives(&events), vec![(311.0, 0, 3)]);
    assert_eq!(
        expiries(&events),
        vec![(60_311.0, 0, SqsMessageState::Visible)]
    );
}

// ------------------------------------------------------------------ SQS-5

#[test]
fn sqs_05_retention_deletes_a_message_even_in_flight() {
    let mut s = sim_1ms(json!({
        "sqs_queues": [queue("q").with(json!({
            "message_retention_ms": 60000, "visibility_timeout_ms": 43200000
        }))],
        "producers": [producer("p", "q", burst_rate(1, 10.0))],
        "consumers": [consumer("a", "q", 100_000.0)]
    }));
    let events = run_ms(&mut s, 70_000);
    assert_eq!(
        expiries(&events),
        vec![(60_011.0, 0, SqsMessageState::InFlight)]
    );
    assert_eq!(figures(&s, "q"), (0, 0, 0));
    // The consumer is still processing its copy; its delete later finds nothing.
    let more = run_ms(&mut s, 101_000);
    assert_eq!(
        deletes(&more, &s),
        vec![(100_013.0, 0, "a".into(), SqsDeleteOutcome::Gone)]
    );
    let l = s.ledger();
    assert_eq!((l.expired, l.acked), (1, 0));
}

// ------------------------------------------------------------------ SQS-6

fn short_poll_rig(sample: f64) -> Value {
    json!({
        "sqs_queues": [queue("q").with(json!({ "servers": 4, "short_poll_sample": sample }))],
        "producers": [producer("p", "q", burst_rate(1, 10.0))],
        "consumers": [{
            "name": "a", "source": { "sqs_queue": "q" },
            "processing": { "kind": "fixed", "ms": 10 },
            "sqs": { "wait_time_ms": 0, "empty_backoff_ms": 100 }
        }]
    })
}

/// Empty short polls while m0 was visible (after it was stored, before its receive).
fn empty_while_visible(events: &[Event], sim: &Simulation) -> usize {
    let received = receive_times(events).first().map_or(f64::MAX, |r| r.0);
    empty_receives(events, sim)
        .iter()
        .filter(|(t, _, _)| *t >= 11.0 && *t < received)
        .count()
}

#[test]
fn sqs_06_a_short_poll_can_return_empty_while_a_message_is_visible() {
    let mut empties = 0;
    for seed in 1..=20 {
        let scenario = Scenario::from_json(
            &json!({ "version": 1, "latency_ms": 1 })
                .with(short_poll_rig(0.5))
                .to_string(),
        )
        .unwrap();
        let mut s = Simulation::new(&scenario, seed).unwrap();
        let events = run_ms(&mut s, 2_100);
        let first = receive_times(&events).first().map(|r| r.0);
        assert!(
            first.is_some_and(|t| t < 2_100.0),
            "seed {seed}: within 20 polls"
        );
        empties += empty_while_visible(&events, &s);
    }
    assert!(
        empties > 0,
        "sampling misses the message's server now and then"
    );
    // Asking every server, a short poll never comes back empty while a message is visible.
    let mut s = sim_1ms(short_poll_rig(1.0));
    let events = run_ms(&mut s, 2_100);
    assert_eq!(empty_while_visible(&events, &s), 0);
    assert_eq!(receive_times(&events), vec![(103.0, 0, 1)]);
}

#[test]
fn sqs_06_a_long_poll_waits_returns_up_to_ten_and_times_out_empty() {
    let mut s = sim_1ms(json!({
        "sqs_queues": [queue("q")],
        "producers": [producer("p", "q", burst_rate(25, 10.0))],
        "consumers": [consumer("a", "q", 1.0).with(json!({ "sqs": { "max_messages": 10 } }))]
    }));
    let events = run_ms(&mut s, 100);
    let mut per_time: Vec<(f64, usize)> = Vec::new();
    for (t, _, _) in receive_times(&events) {
        match per_time.last_mut() {
            Some((last, n)) if *last == t => *n += 1,
            _ => per_time.push((t, 1)),
        }
    }
    assert_eq!(per_time, vec![(11.0, 10), (23.0, 10), (35.0, 5)]);

    // Nothing to receive: empty at the deadline, and the next request goes out on arrival.
    let mut s = sim_1ms(json!({
        "sqs_queues": [queue("q")],
        "consumers": [consumer("a", "q", 1.0)]
    }));
    let events = run_ms(&mut s, 45_000);
    let times: Vec<f64> = empty_receives(&events, &s).iter().map(|e| e.0).collect();
    assert_eq!(times, vec![20_001.0, 40_003.0]);
    assert_eq!(sqs_queue(&s, "q").empty_receives, 2);

    let (path, _) = scenario_error(json!({
        "version": 1,
        "sqs_queues": [queue("q")],
        "consumers": [consumer("a", "q", 1.0).with(json!({ "sqs": { "max_messages": 11 } }))]
    }));
    assert_eq!(path, "consumers[0].sqs.max_messages");
}

// ------------------------------------------------------------------ SQS-7

#[test]
fn sqs_07_the_in_flight_limit_answers_overlimit_to_a_standard_short_poll_only() {
    let rig = |name: &str, wait: f64| {
        let fifo = name.ends_with(".fifo");
        let groups: Vec<String> = (0..10).map(|i| format!("g{i}")).collect();
        let groups: Vec<&str> = groups.iter().map(String::as_str).collect();
        let p = if fifo {
            fifo_producer("p", name, burst_rate(10, 10.0), &groups)
        } else {
            producer("p", name, burst_rate(10, 10.0))
        };
        sim_1ms(json!({
            "sqs_queues": [queue(name).with(json!({ "in_flight_limit": 5 }))],
            "producers": [p],
            "consumers": [consumer("a", name, 1.0).with(json!({
                "sqs": { "max_messages": 10, "wait_time_ms": wait },
                "failure": { "probability": 1.0 }
            }))]
        }))
    };
    let got = |s: &Simulation, events: &[Event]| {
        (
            receive_times(events).len(),
            empty_receives(events, s)
                .into_iter()
                .map(|(t, _, over)| (t, over))
                .collect::<Vec<_>>(),
        )
    };
    // Short polls at 1 (empty), 103 (five: the limit), then 110, 212, …
    let mut s = rig("q", 0.0);
    let events = run_ms(&mut s, 300);
    assert_eq!(
        got(&s, &events),
        (5, vec![(1.0, false), (110.0, true), (212.0, true)]),
        "{}",
        trace(&events)
    );
    assert_eq!(
        sqs_queue(&s, "q").empty_receives,
        1,
        "an error is no empty receive"
    );
    // A long poll at the limit waits, with no error.
    let mut s = rig("q", 20_000.0);
    let events = run_ms(&mut s, 300);
    assert_eq!(got(&s, &events), (5, vec![]));
    // FIFO at the limit: empty, no error.
    let mut s = rig("q.fifo", 0.0);
    let events = run_ms(&mut s, 300);
    assert_eq!(
        got(&s, &events),
        (5, vec![(1.0, false), (110.0, false), (212.0, false)])
    );
}

// ------------------------------------------------------------------ SQS-8

#[test]
fn sqs_08_fifo_locks_a_group_while_in_flight_and_other_groups_go_on() {
    let mut s = sim_1ms(json!({
        "sqs_queues": [queue("q.fifo")],
        "producers": [fifo_producer("p", "q.fifo", burst_rate(3, 10.0), &["A", "A", "B"])],
        "consumers": [consumer("c0", "q.fifo", 10.0), consumer("c1", "q.fifo", 10.0)]
    }));
    let events = run_ms(&mut s, 100);
    assert_eq!(
        receives(&events, &s),
        vec![
            (11.0, 0, 1, "c0".into()),
            (11.0, 2, 1, "c1".into()),
            // m1 waits for m0's delete; the first consumer asking again gets it.
            (23.0, 1, 1, "c0".into())
        ]
    );
}

#[test]
fn sqs_08_a_fifo_receive_takes_a_whole_group_first() {
    let mut s = sim_1ms(json!({
        "sqs_queues": [queue("q.fifo")],
        "producers": [fifo_producer("p", "q.fifo", burst_rate(4, 10.0), &["A", "B"])],
        "consumers": [consumer("a", "q.fifo", 1.0).with(json!({ "sqs": { "max_messages": 10 } }))]
    }));
    let events = run_ms(&mut s, 100);
    assert_eq!(
        receive_times(&events),
        vec![(11.0, 0, 1), (11.0, 2, 1), (11.0, 1, 1), (11.0, 3, 1)]
    );
}

// ------------------------------------------------------------------ SQS-9

fn dedup_events(events: &[Event]) -> Vec<(f64, u64, u64)> {
    sqs(events)
        .filter_map(|(t, e)| match e {
            SqsEvent::SqsDeduplicated { msg, original, .. } => Some((t, msg.0, original.0)),
            _ => None,
        })
        .collect()
}

#[test]
fn sqs_09_a_fifo_dedup_id_within_five_minutes_is_accepted_but_not_stored() {
    let mut s = sim_1ms(json!({
        "sqs_queues": [queue("q.fifo")],
        "producers": [producer("p", "q.fifo", manual_rate()).with(json!({
            "message": { "group_ids": ["g"], "dedup_ids": ["x", "x", "y", "x", "x"] }
        }))],
        "consumers": [consumer("a", "q.fifo", 10.0)],
        "script": [at(10.0, cmd::burst("p", 3)), at(100.0, cmd::burst("p", 1)),
                   at(300_100.0, cmd::burst("p", 1))]
    }));
    let events = run_ms(&mut s, 301_000);
    // m3 comes after m0 was deleted: the window outlives the message.
    assert_eq!(dedup_events(&events), vec![(11.0, 1, 0), (101.0, 3, 0)]);
    let stored: Vec<u64> = sqs(&events)
        .filter_map(|(_, e)| match e {
            SqsEvent::SqsSend { msg, .. } => Some(msg.0),
            _ => None,
        })
        .collect();
    assert_eq!(stored, vec![0, 2, 4]);
    let l = s.ledger();
    assert_eq!(l.dropped.get(&DropReason::Deduplicated), Some(&2));
    assert_eq!(l.published, 5);
}

#[test]
fn sqs_09_deduplication_does_not_stop_redelivery_after_a_visibility_timeout() {
    let mut s = sim_1ms(json!({
        "sqs_queues": [queue("q.fifo").with(json!({ "visibility_timeout_ms": 100 }))],
        "producers": [fifo_producer("p", "q.fifo", burst_rate(1, 10.0), &["g"])],
        "consumers": [consumer("a", "q.fifo", 10.0).with(leaves(0))]
    }));
    let events = run_ms(&mut s, 150);
    assert_eq!(receive_times(&events), vec![(11.0, 0, 1), (111.0, 0, 2)]);
}

#[test]
fn sqs_09_content_based_deduplication_compares_bodies_and_the_scope_can_be_the_group() {
    let rig = |scope: &str| {
        sim_1ms(json!({
            "sqs_queues": [queue("q.fifo").with(json!({
                "content_based_deduplication": true, "deduplication_scope": scope
            }))],
            "producers": [producer("p", "q.fifo", burst_rate(4, 10.0)).with(json!({
                "message": { "group_ids": ["A", "B"], "bodies": ["same", "same", "same", "other"] }
            }))]
        }))
    };
    let mut s = rig("queue");
    let events = run_ms(&mut s, 100);
    assert_eq!(dedup_events(&events), vec![(11.0, 1, 0), (11.0, 2, 0)]);
    // Per group, m1 (group B) is new; m2 (group A again) repeats m0.
    let mut s = rig("message_group");
    let events = run_ms(&mut s, 100);
    assert_eq!(dedup_events(&events), vec![(11.0, 2, 0)]);
}

// ------------------------------------------------------------------ SQS-10

#[test]
fn sqs_10_a_fifo_poison_message_blocks_its_group_until_redriven() {
    let mut s = sim_1ms(json!({
        "sqs_queues": [
            queue("q.fifo").with(json!({
                "visibility_timeout_ms": 100,
                "redrive": { "dead_letter_queue": "d.fifo", "max_receive_count": 2 }
            })),
            queue("d.fifo")
        ],
        "producers": [fifo_producer("p", "q.fifo", burst_rate(3, 10.0), &["A", "A", "B"])],
        "consumers": [
            consumer("c0", "q.fifo", 10.0).with(leaves(0)),
            consumer("c1", "q.fifo", 10.0).with(leaves(0))
        ]
    }));
    let events = run_ms(&mut s, 300);
    assert_eq!(
        receives(&events, &s),
        vec![
            (11.0, 0, 1, "c0".into()),
            (11.0, 2, 1, "c1".into()),
            (111.0, 0, 2, "c0".into()),
            // The receive that redrives m0 gets m1 at once: the group's order is broken.
            (211.0, 1, 1, "c1".into())
        ],
        "{}",
        trace(&events)
    );
    assert_eq!(redrives(&events), vec![(211.0, 0, 2)]);
    let r = s.report(1, &events);
    assert_eq!(
        r.sqs.queue_contents["d.fifo"],
        vec![broker_sim::MessageId(0)]
    );
}

#[test]
fn sqs_10_without_a_redrive_policy_the_group_waits_for_retention() {
    let mut s = sim_1ms(json!({
        "sqs_queues": [queue("q.fifo").with(json!({
            "visibility_timeout_ms": 100, "message_retention_ms": 60000
        }))],
        "producers": [fifo_producer("p", "q.fifo", manual_rate(), &["A"])],
        "consumers": [consumer("a", "q.fifo", 10.0).with(leaves(0))],
        "script": [at(10.0, cmd::burst("p", 1)), at(1_000.0, cmd::burst("p", 1))]
    }));
    let events = run_ms(&mut s, 61_000);
    let m1: Vec<f64> = receive_times(&events)
        .iter()
        .filter(|r| r.1 == 1)
        .map(|r| r.0)
        .collect();
    assert_eq!(
        expiries(&events),
        vec![(60_011.0, 0, SqsMessageState::InFlight)]
    );
    assert_eq!(m1, vec![60_011.0], "m1, sent at 1 s, waited behind m0");
}

// ------------------------------------------------------------------ SQS-11

#[test]
fn sqs_11_a_queue_delay_hides_new_messages() {
    let mut s = sim_1ms(json!({
        "sqs_queues": [queue("q").with(json!({ "delay_ms": 5000 }))],
        "producers": [producer("p", "q", burst_rate(1, 10.0))],
        "consumers": [consumer("a", "q", 10.0)]
    }));
    run_ms(&mut s, 1_000);
    assert_eq!(figures(&s, "q"), (0, 0, 1));
    assert_eq!(sqs_queue(&s, "q").age_of_oldest_ms, 989.0);
    let events = run_ms(&mut s, 6_000);
    assert_eq!(visibles(&events), vec![(5_011.0, 0, SqsVisibleWhy::Delay)]);
    assert_eq!(receive_times(&events), vec![(5_011.0, 0, 1)]);
}

#[test]
fn sqs_11_a_per_message_delay_overrides_the_queue_on_standard_queues() {
    let mut s = sim_1ms(json!({
        "sqs_queues": [queue("q").with(json!({ "delay_ms": 5000 }))],
        "producers": [producer("p", "q", burst_rate(1, 10.0))
            .with(json!({ "message": { "delay_ms": 2000 } }))],
        "consumers": [consumer("a", "q", 10.0)]
    }));
    let events = run_ms(&mut s, 6_000);
    assert_eq!(visibles(&events), vec![(2_011.0, 0, SqsVisibleWhy::Delay)]);
    let (path, _) = scenario_error(json!({
        "version": 1,
        "sqs_queues": [queue("q.fifo")],
        "producers": [fifo_producer("p", "q.fifo", burst_rate(1, 10.0), &["A"])
            .with(json!({ "message": { "delay_ms": 2000 } }))]
    }));
    assert_eq!(path, "producers[0].message.delay_ms");
}

#[test]
fn sqs_11_a_delay_change_is_retroactive_on_fifo_queues_only() {
    let rig = |name: &str| {
        let p = if name.ends_with(".fifo") {
            fifo_producer("p", name, burst_rate(1, 10.0), &["A"])
        } else {
            producer("p", name, burst_rate(1, 10.0))
        };
        let mut updated = queue(name);
        updated["delay_ms"] = json!(0);
        sim_1ms(json!({
            "sqs_queues": [queue(name).with(json!({ "delay_ms": 5000 }))],
            "producers": [p],
            "script": [at(1_000.0, json!({ "update_sqs_queue": { "queue": updated } }))]
        }))
    };
    let mut s = rig("q");
    let events = run_ms(&mut s, 6_000);
    assert_eq!(visibles(&events), vec![(5_011.0, 0, SqsVisibleWhy::Delay)]);
    let mut s = rig("q.fifo");
    let events = run_ms(&mut s, 6_000);
    assert_eq!(visibles(&events), vec![(1_000.0, 0, SqsVisibleWhy::Delay)]);
}

// ------------------------------------------------------------------ scenario checks

#[test]
fn sqs_scenario_errors_name_the_field() {
    let base = |sqs_queues: Value, producers: Value, consumers: Value| json!({ "version": 1, "sqs_queues": sqs_queues, "producers": producers, "consumers": consumers });
    let cases = [
        (
            base(
                json!([{ "name": "q", "type": "fifo" }]),
                json!([]),
                json!([]),
            ),
            "sqs_queues[0].type",
        ),
        (
            base(json!([{ "name": "q.fifo" }]), json!([]), json!([])),
            "sqs_queues[0].type",
        ),
        (
            base(
                json!([{ "name": "q", "visibility_timeout_ms": 43200001 }]),
                json!([]),
                json!([]),
            ),
            "sqs_queues[0].visibility_timeout_ms",
        ),
        (
            base(
                json!([{ "name": "q", "redrive": { "dead_letter_queue": "d.fifo", "max_receive_count": 3 } },
                       { "name": "d.fifo", "type": "fifo" }]),
                json!([]),
                json!([]),
            ),
            "sqs_queues[0].redrive.dead_letter_queue",
        ),
        (
            base(
                json!([{ "name": "a", "redrive": { "dead_letter_queue": "b", "max_receive_count": 3 } },
                       { "name": "b", "redrive": { "dead_letter_queue": "a", "max_receive_count": 3 } }]),
                json!([]),
                json!([]),
            ),
            "sqs_queues",
        ),
        (
            base(
                json!([{ "name": "q", "redrive": { "dead_letter_queue": "d", "max_receive_count": 1001 } },
                       { "name": "d" }]),
                json!([]),
                json!([]),
            ),
            "sqs_queues[0].redrive.max_receive_count",
        ),
        (
            base(
                json!([{ "name": "q.fifo", "type": "fifo" }]),
                json!([producer("p", "q.fifo", manual_rate())]),
                json!([]),
            ),
            "producers[0].message.group_ids",
        ),
        (
            base(
                json!([{ "name": "q.fifo", "type": "fifo" }]),
                json!([producer("p", "q.fifo", manual_rate())
                    .with(json!({ "message": { "group_ids": ["g"] } }))]),
                json!([]),
            ),
            "producers[0].message.dedup_ids",
        ),
        (
            base(
                json!([{ "name": "q" }]),
                json!([
                    producer("p", "q", manual_rate()).with(json!({ "message": { "ttl_ms": 5 } }))
                ]),
                json!([]),
            ),
            "producers[0].message.ttl_ms",
        ),
        (
            base(json!([]), json!([]), json!([consumer("a", "nowhere", 1.0)])),
            "consumers[0].source.sqs_queue",
        ),
        (
            base(
                json!([{ "name": "q" }]),
                json!([]),
                json!([consumer("a", "q", 1.0).with(json!({ "ack": "auto" }))]),
            ),
            "consumers[0].ack",
        ),
        (
            base(
                json!([{ "name": "q" }]),
                json!([]),
                json!([consumer("a", "q", 1.0).with(json!({ "sqs": { "empty_backoff_ms": 0 } }))]),
            ),
            "consumers[0].sqs.empty_backoff_ms",
        ),
    ];
    for (scenario, path) in cases {
        assert_eq!(scenario_error(scenario.clone()).0, path, "{scenario}");
    }
    // Decisions and ReceiveMessage settings belong to SQS consumers.
    let rabbit = json!({
        "version": 1, "queues": [{ "name": "work" }],
        "consumers": [{ "name": "c", "source": { "queue": "work" },
                        "processing": { "kind": "fixed", "ms": 1 },
                        "decisions": [{ "when": { "msg": 0 }, "then": "ack" }] }]
    });
    assert_eq!(scenario_error(rabbit).0, "consumers[0].decisions");
}

#[test]
fn sqs_scenarios_without_sqs_serialise_as_before_and_commands_apply() {
    let plain = json!({ "version": 1, "queues": [{ "name": "work" }] });
    let s = Scenario::from_json(&plain.to_string()).unwrap();
    assert!(!s.to_json_pretty().contains("sqs"));
    // The runner's report of a run without SQS has no SQS section and no new ledger field.
    let mut run = sim_1ms(json!({
        "queues": [{ "name": "work" }],
        "producers": [crate::helpers::queue_producer("p", "work", burst_rate(3, 1.0))],
        "consumers": [crate::helpers::queue_consumer("c", "work", 1, 1.0)]
    }));
    let events = run_ms(&mut run, 100);
    let report = serde_json::to_value(run.report(1, &events)).unwrap();
    assert!(report.get("sqs").is_none());
    assert!(report["ledger"].get("broker_copies").is_none());
    // Queues and their attributes change at run time.
    let mut s = sim_of(json!({ "version": 1, "latency_ms": 1 }));
    apply(
        &mut s,
        json!({ "add_sqs_queue": { "queue": queue("late") } }),
    );
    assert_eq!(
        s.specs().sqs_queue("late").map(|q| q.visibility_timeout_ms),
        Some(30_000.0)
    );
    let mut changed = queue("late");
    changed["visibility_timeout_ms"] = json!(5000);
    apply(&mut s, json!({ "update_sqs_queue": { "queue": changed } }));
    assert_eq!(
        s.specs().sqs_queue("late").map(|q| q.visibility_timeout_ms),
        Some(5_000.0)
    );
    let mut fifo = queue("late");
    fifo["type"] = json!("fifo");
    let refused: broker_sim::Command =
        serde_json::from_value(json!({ "update_sqs_queue": { "queue": fifo } })).unwrap();
    assert!(s.apply(refused).is_err(), "the type is fixed");
    apply(
        &mut s,
        json!({ "add_producer": { "producer": producer("p", "late", burst_rate(2, 5.0)) } }),
    );
    apply(&mut s, cmd::add_consumer(consumer("c", "late", 1.0)));
    let events = run_ms(&mut s, 100);
    assert_eq!(receive_times(&events).len(), 2);
    // SQS has no delivery tags to ack twice.
    let double: broker_sim::Command =
        serde_json::from_value(json!({ "double_ack": { "consumer": "c" } })).unwrap();
    assert!(s.apply(double).is_err());
}

// ------------------------------------------------------------------ example scenarios

#[test]
fn sqs_02_file_slow_consumer_outlives_its_visibility_timeout() {
    let (s, events, r) = run_file(&example("sqs-02-slow-consumer.json"), 30_000);
    // m0 comes back while the slow worker still processes it; the fast one deletes it first.
    let m0: Vec<(u64, u32, String)> = receives(&events, &s)
        .into_iter()
        .filter(|r| r.1 == 0)
        .map(|(_, m, n, c)| (m, n, c))
        .collect();
    assert_eq!(m0[..2], [(0, 1, "slow".into()), (0, 2, "fast".into())]);
    assert!(deletes(&events, &s)
        .iter()
        .any(|d| d.1 == 0 && d.2 == "slow" && d.3 == SqsDeleteOutcome::Gone));
    assert!(r.balanced);
}

#[test]
fn sqs_04_file_poison_message_moves_to_the_dlq() {
    let (_, events, r) = run_file(&example("sqs-04-redrive-to-dlq.json"), 30_000);
    assert_eq!(redrives(&events).len(), 1);
    assert_eq!(r.sqs.redrives[0].msg.0, 3, "the message sent at 2 s");
    assert_eq!(r.sqs.redrives[0].to_queue, "orders-dlq");
    assert_eq!(r.sqs.redrives[0].receive_count, 3);
    // Its age in the DLQ counts from the move, though its retention counts from 2005 ms.
    let moved_at = redrives(&events)[0].0;
    let dlq = r
        .sqs
        .queues
        .iter()
        .find(|q| q.name == "orders-dlq")
        .unwrap();
    assert_eq!(dlq.age_of_oldest_ms, 30_000.0 - moved_at);
}

#[test]
fn sqs_08_file_fifo_groups_keep_order_per_group() {
    let (s, events, _) = run_file(&example("sqs-08-fifo-groups.json"), 30_000);
    // Within each group, the order received is the order sent.
    let groups = ["A", "B", "C"];
    for (g, group) in groups.iter().enumerate() {
        let order: Vec<u64> = receive_times(&events)
            .iter()
            .map(|r| r.1)
            .filter(|m| *m as usize % groups.len() == g)
            .collect();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(order, sorted, "group {group}");
    }
    assert_eq!(s.ledger().acked, 30);
}
