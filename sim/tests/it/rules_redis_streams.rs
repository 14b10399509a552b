//! Redis Streams rules (RST-1..RST-9 in `reference/semantics.md`).
//!
//! The usual rig: every hop takes 1 ms; a producer bursts at 10 ms, so `XADD` happens at 11;
//! group consumers block (`BLOCK 0`) and start at 0, so their first read reaches Redis at 1.

use crate::helpers::{at, burst_rate, cmd, manual_rate, run_ms, sim_1ms, trace, With};
use broker_sim::event::{StreamEvent, StreamItem};
use broker_sim::snapshot::StreamView;
use broker_sim::{DropReason, Event, EventKind, Simulation};
use serde_json::{json, Value};

// ------------------------------------------------------------------ local helpers

fn stream(key: &str, groups: &[(&str, &str)]) -> Value {
    let groups: Vec<Value> = (groups.iter())
        .map(|(name, start)| json!({ "name": name, "start": start }))
        .collect();
    json!({ "key": key, "groups": groups })
}

fn producer(name: &str, key: &str, rate: Value) -> Value {
    json!({ "name": name, "targets": [{ "stream": key }], "rate": rate })
}

/// A group consumer reading `count` at a time, blocking for ever, with fixed processing.
fn member(name: &str, key: &str, group: &str, ms: f64) -> Value {
    json!({
        "name": name, "source": { "stream_group": { "stream": key, "group": group } },
        "processing": { "kind": "fixed", "ms": ms }
    })
}

fn reader(name: &str, key: &str, from: &str, ms: f64) -> Value {
    json!({
        "name": name, "source": { "stream_read": { "stream": key, "from": from } },
        "processing": { "kind": "fixed", "ms": ms }
    })
}

fn view(sim: &Simulation, key: &str) -> StreamView {
    let snap = sim.snapshot();
    snap.streams
        .into_iter()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("no stream {key}"))
}

fn ids(items: &[StreamItem]) -> Vec<String> {
    items.iter().map(|i| i.to_string()).collect()
}

/// The ids each `XADD` gave, in order.
fn added(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Streams(StreamEvent::Xadd {
                id,
                refused_by: None,
                ..
            }) => Some(id.to_string()),
            _ => None,
        })
        .collect()
}

/// Every `XREADGROUP` reply to consumer `c`, as trace text after the arrow.
fn group_reads(events: &[Event], c: u32) -> Vec<(u64, Option<String>, Vec<String>)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Streams(StreamEvent::Xreadgroup {
                consumer,
                pending_after,
                items,
                ..
            }) if consumer.0 == c => Some((
                e.time.micros() / 1000,
                pending_after.map(|p| p.to_string()),
                ids(items),
            )),
            _ => None,
        })
        .collect()
}

fn processed_by(events: &[Event], c: u32) -> Vec<u64> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Processed { msg, consumer, .. } if consumer.0 == c => Some(msg.0),
            _ => None,
        })
        .collect()
}

// ------------------------------------------------------------------ RST-1

#[test]
fn rst_01_ids_increase_and_reading_removes_nothing() {
    let p = producer("p", "s", manual_rate()).with(json!({
        "message": { "stream_ids": ["*", "*", "5-0"] }
    }));
    let mut sim = sim_1ms(json!({
        "streams": [stream("s", &[("g", "0")])],
        "producers": [p],
        "consumers": [member("c", "s", "g", 1.0)],
        "script": [at(10.0, cmd::burst("p", 2)), at(20.0, cmd::burst("p", 1))]
    }));
    let events = run_ms(&mut sim, 100);
    assert_eq!(added(&events), ["11-0", "11-1"], "{}", trace(&events));
    assert_eq!(
        timed(&events, "refused"),
        [(21, "XADD m2 to rs0 refused: id 5-0 <= 11-1".into())]
    );
    let l = sim.snapshot().ledger;
    assert_eq!(l.dropped.get(&DropReason::StreamIdRejected), Some(&1));
    assert_eq!(processed_by(&events, 0), [0, 1]);
    let v = view(&sim, "s");
    assert_eq!(
        (v.length, v.groups[0].pending),
        (2, 0),
        "read and acked, still there"
    );
    assert_eq!(l.retained, 2);
}

/// The stream events whose trace line contains `what`, with their times in ms.
fn timed(events: &[Event], what: &str) -> Vec<(u64, String)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Streams(s) => Some((e.time.micros() / 1000, s.to_string())),
            _ => None,
        })
        .filter(|(_, l)| l.contains(what))
        .collect()
}

/// The stream events whose trace line contains `what`.
fn lines(events: &[Event], what: &str) -> Vec<String> {
    timed(events, what).into_iter().map(|(_, l)| l).collect()
}

#[test]
fn rst_01_pubsub_forgets_stream_remembers_the_same_traffic() {
    let p = json!({
        "name": "p", "targets": [{ "channel": "events" }, { "stream": "events" }],
        "rate": manual_rate()
    });
    let sub = json!({
        "name": "sub", "source": { "subscribe": { "channels": ["events"] } },
        "processing": { "kind": "fixed", "ms": 1 }
    });
    let mut sim = sim_1ms(json!({
        "streams": [stream("events", &[("g", "$")])],
        "producers": [p],
        "consumers": [sub, member("c", "events", "g", 1.0)],
        "script": [
            at(50.0, cmd::burst("p", 1)), at(100.0, cmd::crash("sub")), at(100.0, cmd::crash("c")),
            at(150.0, cmd::burst("p", 1)), at(250.0, cmd::burst("p", 1)),
            at(300.0, cmd::restart("sub")), at(300.0, cmd::restart("c")),
            at(350.0, cmd::burst("p", 1))
        ]
    }));
    let events = run_ms(&mut sim, 500);
    assert_eq!(processed_by(&events, 0), [0, 3], "Pub/Sub forgot m1 and m2");
    assert_eq!(processed_by(&events, 1), [0, 1, 2, 3], "{}", trace(&events));
    let l = sim.snapshot().ledger;
    assert_eq!(l.dropped.get(&DropReason::NoSubscriber), Some(&2));
    let reads = group_reads(&events, 1);
    assert!(
        reads.contains(&(303, None, vec!["151-0".into(), "251-0".into()])),
        "{reads:?}"
    );
    assert_eq!(view(&sim, "events").length, 4);
}

// ------------------------------------------------------------------ RST-2

fn capped(count: u64, approx: bool, adds: u64, size: u32) -> Simulation {
    let mut s = stream("s", &[]);
    s["maxlen"] = json!({ "count": count, "approx": approx });
    let p = producer("p", "s", burst_rate(adds, 10.0)).with(json!({
        "message": { "size_bytes": size }
    }));
    let mut sim = sim_1ms(json!({ "streams": [s], "producers": [p] }));
    run_ms(&mut sim, 100);
    sim
}

#[test]
fn rst_02_maxlen_exact_keeps_n_approx_keeps_whole_nodes() {
    assert_eq!(capped(10, false, 150, 16).snapshot().streams[0].length, 10);
    let approx = capped(10, true, 150, 16).snapshot().streams[0].clone();
    assert_eq!(
        (approx.length, approx.nodes),
        (50, 1),
        "MAXLEN ~ 10 keeps 50"
    );
    assert_eq!(
        approx.first_id.map(|i| i.to_string()).as_deref(),
        Some("11-100")
    );
    assert_eq!(capped(10, true, 109, 16).snapshot().streams[0].length, 109);
    assert_eq!(capped(10, true, 110, 16).snapshot().streams[0].length, 10);
    // 256-byte entries: 15 to a 4096-byte node.
    assert_eq!(capped(10, true, 150, 256).snapshot().streams[0].length, 15);
    let l = capped(10, true, 150, 16).snapshot().ledger;
    assert_eq!((l.retained, l.removed_by_retention), (50, 100));
}

#[test]
fn rst_02_trimmed_pending_entry_reads_nil_and_claim_drops_it() {
    let mut sim = sim_1ms(json!({
        "streams": [stream("s", &[("g", "0")])],
        "producers": [producer("p", "s", burst_rate(1, 10.0))],
        "consumers": [member("c0", "s", "g", 1000.0), member("c1", "s", "g", 1.0)],
        "script": [
            at(20.0, cmd::crash("c0")),
            at(30.0, json!({ "xtrim": { "stream": "s", "maxlen": { "count": 0 } } })),
            at(40.0, cmd::restart("c0")),
            at(100.0, json!({ "xautoclaim": {
                "stream": "s", "group": "g", "consumer": "c1", "min_idle_ms": 0 } }))
        ]
    }));
    let events = run_ms(&mut sim, 90);
    let reads = group_reads(&events, 0);
    assert_eq!(
        reads[2..],
        [
            (41, Some("0-0".into()), vec!["11-0(nil)#2".into()]),
            (43, Some("11-0".into()), vec![])
        ],
        "{}",
        trace(&events)
    );
    let g = &view(&sim, "s").groups[0];
    assert_eq!(
        (g.pending, g.pel[0].deleted),
        (1, true),
        "XPENDING still lists it"
    );
    let events = run_ms(&mut sim, 200);
    assert_eq!(
        lines(&events, "XAUTOCLAIM"),
        ["XAUTOCLAIM rs0:g0 by c1 -> empty, deleted 11-0, cursor 0-0"]
    );
    assert_eq!(view(&sim, "s").groups[0].pending, 0);
    assert!(processed_by(&events, 1).is_empty());
}

// ------------------------------------------------------------------ RST-3

#[test]
fn rst_03_xread_fans_out_from_0_or_dollar() {
    let stopped = json!({ "stopped": true });
    let from = json!({ "stream": { "resume": "from" } });
    let mut sim = sim_1ms(json!({
        "streams": [stream("s", &[])],
        "producers": [producer("p", "s", manual_rate())],
        "consumers": [
            reader("x0", "s", "0", 1.0).with(stopped.clone()),
            reader("x1", "s", "$", 1.0).with(stopped.clone()).with(from),
            reader("x2", "s", "$", 1.0).with(stopped)
        ],
        "script": [
            at(100.0, cmd::burst("p", 3)),
            at(500.0, cmd::restart("x0")), at(500.0, cmd::restart("x1")),
            at(500.0, cmd::restart("x2")),
            at(600.0, cmd::burst("p", 2)),
            at(700.0, cmd::crash("x1")), at(700.0, cmd::crash("x2")),
            at(750.0, cmd::burst("p", 2)),
            at(800.0, cmd::restart("x1")), at(800.0, cmd::restart("x2")),
            at(900.0, cmd::burst("p", 1))
        ]
    }));
    let events = run_ms(&mut sim, 1000);
    assert_eq!(
        processed_by(&events, 0),
        [0, 1, 2, 3, 4, 5, 6, 7],
        "{}",
        trace(&events)
    );
    assert_eq!(
        processed_by(&events, 1),
        [3, 4, 7],
        "`$` again skips m5 and m6"
    );
    assert_eq!(
        processed_by(&events, 2),
        [3, 4, 5, 6, 7],
        "the last id resumes"
    );
    assert_eq!(
        lines(&events, "XREAD c2 rs0 after 601-1"),
        ["XREAD c2 rs0 after 601-1 -> 751-0 751-1"]
    );
    assert_eq!(view(&sim, "s").length, 8);
}

// ------------------------------------------------------------------ RST-4

#[test]
fn rst_04_groups_are_independent_and_start_at_dollar_or_zero() {
    let mut sim = sim_1ms(json!({
        "streams": [stream("s", &[("g1", "$")])],
        "producers": [producer("p", "s", manual_rate())],
        "consumers": [member("a", "s", "g1", 1.0)],
        "script": [
            at(100.0, cmd::burst("p", 3)),
            at(500.0, json!({ "add_stream_group": { "stream": "s",
                "group": { "name": "g2", "start": "0" } } })),
            at(500.0, cmd::add_consumer(member("b", "s", "g2", 1.0))),
            at(600.0, cmd::burst("p", 2)),
            at(1000.0, json!({ "xgroup_setid": { "stream": "s", "group": "g2", "id": "101-1" } })),
            at(1100.0, cmd::burst("p", 1))
        ]
    }));
    let events = run_ms(&mut sim, 999);
    assert_eq!(processed_by(&events, 0), [0, 1, 2, 3, 4]);
    assert_eq!(
        processed_by(&events, 1),
        [0, 1, 2, 3, 4],
        "g2 reads the history"
    );
    let v = view(&sim, "s");
    for g in &v.groups {
        assert_eq!(
            (
                g.last_delivered_id.to_string(),
                g.entries_read,
                g.lag,
                g.pending
            ),
            ("601-1".to_string(), Some(5), Some(0), 0),
            "{}",
            g.name
        );
    }
    run_ms(&mut sim, 1050);
    let g2 = &view(&sim, "s").groups[1];
    assert_eq!(
        (g2.last_delivered_id.to_string(), g2.lag),
        ("101-1".into(), None)
    );
    let events = run_ms(&mut sim, 1200);
    let g2 = &view(&sim, "s").groups[1];
    assert_eq!(
        (g2.last_delivered_id.to_string(), g2.entries_read, g2.lag),
        ("1101-0".into(), Some(6), Some(0))
    );
    assert_eq!(
        processed_by(&events, 1),
        [2, 3, 4, 5],
        "SETID back re-reads"
    );
    assert_eq!(processed_by(&events, 0), [5]);
}

// ------------------------------------------------------------------ RST-5

#[test]
fn rst_05_first_come_first_served_and_noack_skips_the_pel() {
    let one = json!({ "stream": { "count": 1 } });
    let mut sim = sim_1ms(json!({
        "streams": [stream("s", &[("g", "$")])],
        "producers": [producer("p", "s", json!({ "kind": "constant", "per_sec": 100 }))
            .with(json!({ "limit": 100 }))],
        "consumers": [
            member("fast", "s", "g", 1.0).with(one.clone()),
            member("slow", "s", "g", 100.0).with(one)
        ]
    }));
    let events = run_ms(&mut sim, 2000);
    let (fast, slow) = (processed_by(&events, 0), processed_by(&events, 1));
    assert_eq!(fast.len() + slow.len(), 100, "each entry once");
    assert!(
        fast.len() > 3 * slow.len(),
        "fast {} slow {}",
        fast.len(),
        slow.len()
    );
    let counts: Vec<u32> = pick_items(&events).iter().map(|i| i.count).collect();
    assert!(counts.iter().all(|&c| c == 1), "{counts:?}");

    let mut sim = sim_1ms(json!({
        "streams": [stream("s", &[("g", "$")])],
        "producers": [producer("p", "s", burst_rate(5, 10.0))],
        "consumers": [member("n", "s", "g", 100.0).with(json!({ "stream": { "count": 1, "noack": true } }))],
        "script": [at(150.0, cmd::crash("n")), at(300.0, cmd::restart("n"))]
    }));
    let events = run_ms(&mut sim, 140);
    assert_eq!(view(&sim, "s").groups[0].pending, 0, "NOACK: no PEL");
    let events2 = run_ms(&mut sim, 1000);
    assert_eq!(processed_by(&events, 0), [0]);
    assert_eq!(
        processed_by(&events2, 0),
        [2, 3, 4],
        "m1 died with n: lost to the group"
    );
    assert_eq!(view(&sim, "s").length, 5, "though it stays in the stream");
}

fn pick_items(events: &[Event]) -> Vec<StreamItem> {
    events
        .iter()
        .flat_map(|e| match &e.kind {
            EventKind::Streams(StreamEvent::Xreadgroup {
                pending_after: None,
                items,
                ..
            }) => items.clone(),
            _ => Vec::new(),
        })
        .collect()
}

// ------------------------------------------------------------------ RST-6

#[test]
fn rst_06_explicit_id_returns_only_own_pending_and_counts_a_delivery() {
    let mut sim = sim_1ms(json!({
        "streams": [stream("s", &[("g", "$")])],
        "producers": [producer("p", "s", burst_rate(3, 10.0))],
        "consumers": [
            member("c0", "s", "g", 100.0),
            member("c1", "s", "g", 1.0).with(json!({ "stream": { "block_ms": 5000 } }))
        ],
        "script": [
            at(50.0, cmd::crash("c0")), at(60.0, cmd::crash("c1")), at(70.0, cmd::restart("c1")),
            at(1000.0, cmd::restart("c0"))
        ]
    }));
    let events = run_ms(&mut sim, 2000);
    assert_eq!(
        group_reads(&events, 1)[1..],
        [(71, Some("0-0".into()), vec![])],
        "answered at once despite BLOCK 5000"
    );
    let reads: Vec<_> = group_reads(&events, 0)
        .into_iter()
        .filter(|r| r.0 > 1000)
        .collect();
    assert_eq!(
        reads,
        [
            (
                1001,
                Some("0-0".into()),
                vec!["11-0#2".into(), "11-1#2".into(), "11-2#2".into()]
            ),
            (1303, Some("11-2".into()), vec![])
        ],
        "{}",
        trace(&events)
    );
    assert_eq!(processed_by(&events, 0), [0, 1, 2]);
    assert_eq!(view(&sim, "s").groups[0].pending, 0);
}

// ------------------------------------------------------------------ RST-7

#[test]
fn rst_07_xack_removes_from_the_pel_only_and_nothing_redelivers() {
    let mut sim = sim_1ms(json!({
        "streams": [stream("s", &[("g", "$")])],
        "producers": [producer("p", "s", burst_rate(1, 10.0))],
        "consumers": [member("c0", "s", "g", 500.0), member("c1", "s", "g", 10.0)],
        "script": [at(200.0, json!({ "xclaim": { "stream": "s", "group": "g",
            "consumer": "c1", "min_idle_ms": 100, "ids": ["11-0"] } }))]
    }));
    let events = run_ms(&mut sim, 1000);
    assert_eq!(
        timed(&events, "XACK"),
        [
            (213, "XACK rs0:g0 11-0 -> 1".into()),
            (513, "XACK rs0:g0 11-0 -> 0".into())
        ],
        "c1 acks c0's former entry; c0's own XACK then finds nothing"
    );
    assert_eq!(view(&sim, "s").length, 1, "the entry stays");

    let mut sim = sim_1ms(json!({
        "streams": [stream("s", &[("g", "$")])],
        "producers": [producer("p", "s", burst_rate(1, 10.0))],
        "consumers": [member("c0", "s", "g", 100.0), member("c1", "s", "g", 1.0)],
        "script": [at(20.0, cmd::crash("c0"))]
    }));
    let events = run_ms(&mut sim, 3_600_000);
    let pel = &view(&sim, "s").groups[0].pel;
    assert_eq!(pel.len(), 1);
    assert_eq!((pel[0].owner.0, pel[0].delivery_count), (0, 1));
    assert_eq!(pel[0].idle_ms, 3_600_000.0 - 11.0);
    assert!(processed_by(&events, 1).is_empty(), "nobody gets it back");
    assert_eq!(pick_items(&events).len(), 1, "delivered once, at 11");
}

// ------------------------------------------------------------------ RST-8

#[test]
fn rst_08_claim_needs_min_idle_and_only_one_claimer_wins() {
    let keeps = json!({ "decisions": [{ "when": { "msg": 0 }, "then": "leave_unacked" }] });
    let claim = |c: &str, min: f64, justid: bool| {
        json!({ "xclaim": { "stream": "s", "group": "g", "consumer": c,
            "min_idle_ms": min, "ids": ["11-0"], "justid": justid } })
    };
    let mut sim = sim_1ms(json!({
        "streams": [stream("s", &[("g", "$")])],
        "producers": [producer("p", "s", burst_rate(1, 10.0))],
        "consumers": [
            member("c0", "s", "g", 100.0),
            member("c1", "s", "g", 1.0).with(keeps.clone()),
            member("c2", "s", "g", 1.0).with(keeps)
        ],
        "script": [
            at(20.0, cmd::crash("c0")),
            at(499.0, claim("c1", 1000.0, false)),
            at(1499.0, claim("c1", 1000.0, false)), at(1499.0, claim("c2", 1000.0, false)),
            at(9999.0, json!({ "xautoclaim": { "stream": "s", "group": "g", "consumer": "c2",
                "min_idle_ms": 1000 } })),
            at(19999.0, claim("c1", 1000.0, true))
        ]
    }));
    let events = run_ms(&mut sim, 30_000);
    assert_eq!(
        timed(&events, "CLAIM"),
        [
            (500, "XCLAIM rs0:g0 by c1 -> empty, skipped 11-0".into()),
            (1500, "XCLAIM rs0:g0 by c1 -> 11-0#2".into()),
            (1500, "XCLAIM rs0:g0 by c2 -> empty, skipped 11-0".into()),
            (
                10000,
                "XAUTOCLAIM rs0:g0 by c2 -> 11-0#3, cursor 0-0".into()
            ),
            (20000, "XCLAIM rs0:g0 by c1 -> 11-0#3".into()),
        ]
    );
    assert_eq!(processed_by(&events, 1), [0], "JUSTID delivers nothing");
    assert_eq!(processed_by(&events, 2), [0]);
    let pel = &view(&sim, "s").groups[0].pel;
    assert_eq!(
        (pel[0].owner.0, pel[0].delivery_count),
        (1, 3),
        "JUSTID keeps the count"
    );
}

#[test]
fn rst_08_consumer_autoclaim_takes_over_a_dead_consumers_entries() {
    let claims = json!({ "stream": { "claim": { "every_ms": 1000, "min_idle_ms": 500 } } });
    let mut sim = sim_1ms(json!({
        "streams": [stream("s", &[("g", "$")])],
        "producers": [producer("p", "s", burst_rate(3, 10.0))],
        "consumers": [member("c0", "s", "g", 100.0), member("c1", "s", "g", 1.0).with(claims)],
        "script": [at(20.0, cmd::crash("c0"))]
    }));
    let events = run_ms(&mut sim, 2500);
    assert_eq!(
        lines(&events, "XAUTOCLAIM"),
        [
            "XAUTOCLAIM rs0:g0 by c1 -> 11-0#2 11-1#2 11-2#2, cursor 0-0",
            "XAUTOCLAIM rs0:g0 by c1 -> empty, cursor 0-0"
        ]
    );
    assert_eq!(processed_by(&events, 1), [0, 1, 2]);
    assert_eq!(view(&sim, "s").groups[0].pending, 0);
}

// ------------------------------------------------------------------ RST-9

fn failover(lag_ms: f64) -> (Simulation, Vec<Event>) {
    let mut s = stream("s", &[("g", "$")]);
    s["replication_lag_ms"] = json!(lag_ms);
    let mut sim = sim_1ms(json!({
        "streams": [s],
        "producers": [producer("p", "s", manual_rate())],
        "consumers": [member("c", "s", "g", 158.0)],
        "script": [
            at(899.0, cmd::burst("p", 1)), at(1049.0, cmd::burst("p", 1)),
            at(1100.0, json!({ "redis_failover": { "stream": "s" } }))
        ]
    }));
    let events = run_ms(&mut sim, 1500);
    (sim, events)
}

#[test]
fn rst_09_failover_loses_recently_acknowledged_xadds() {
    let (sim, events) = failover(100.0);
    assert_eq!(
        lines(&events, "failover"),
        ["failover rs0: lost 1 entries, 1 acks undone"],
        "{}",
        trace(&events)
    );
    assert_eq!(
        lines(&events, "XACK"),
        ["XACK rs0:g0 900-0 -> 1", "XACK rs0:g0 1050-0 -> 0"]
    );
    let v = view(&sim, "s");
    assert_eq!(v.length, 1);
    let g = &v.groups[0];
    assert_eq!(
        (g.pending, g.last_delivered_id.to_string()),
        (1, "900-0".into())
    );
    let l = sim.snapshot().ledger;
    assert_eq!(l.dropped.get(&DropReason::LostInFailover), Some(&1));

    let (sim, events) = failover(0.0);
    assert_eq!(
        lines(&events, "failover"),
        ["failover rs0: lost 0 entries, 0 acks undone"]
    );
    assert_eq!(view(&sim, "s").length, 2, "lag 0: lucky, nothing lost");
}
