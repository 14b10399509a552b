//! Redis Streams rules (RST-1..RST-9 in `reference/semantics.md`).
//!
//! The usual rig: every hop takes 1 ms; a producer bursts at 10 ms, so `XADD` happens at 11;
//! group consumers block (`BLOCK 0`) and start at 0, so their first read reaches Redis at 1.

use crate::helpers::{apply, at, burst_rate, cmd, manual_rate, run_ms, sim_1ms, trace, With};
use broker_sim::event::{StreamEvent, StreamItem};
use broker_sim::snapshot::StreamView;
use broker_sim::{DropReason, Event, EventKind, SimTime, Simulation};
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

fn ms(t: u64) -> SimTime {
    SimTime::from_millis(t)
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
    let refused: Vec<String> = events.iter().map(|e| e.to_string()).filter(|l| l.contains("refused")).collect();
    assert_eq!(refused.len(), 1, "{}", trace(&events));
    assert!(refused[0].ends_with("XADD m2 to rs0 refused: id 5-0 <= 11-1"), "{refused:?}");
    let l = sim.snapshot().ledger;
    assert_eq!(l.dropped.get(&DropReason::StreamIdRejected), Some(&1));
    assert_eq!(processed_by(&events, 0), [0, 1]);
    let v = view(&sim, "s");
    assert_eq!((v.length, v.groups[0].pending), (2, 0), "read and acked, still there");
    assert_eq!(l.retained, 2);
}
