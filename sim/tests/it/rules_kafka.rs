//! KAF-1..KAF-18: the event broker — partitioned logs, retention, consumer groups, offsets and
//! delivery semantics (`reference/semantics.md` §2.1–2.4), and compaction (KAF-7). KAF-19+
//! (replication) is out of scope here.
//!
//! Every test drives a whole `Simulation` (the unit tests in `log.rs`, `partitioner.rs` and
//! `assignor.rs` check the pieces on their own) and reads the outcome from events
//! (`Appended`, `RecordProcessed`, `RebalanceStarted`, ...) and from the snapshot's topic and
//! group views.

use crate::helpers::{
    any_kind, apply, at, burst_rate, cmd, constant_rate, group_member, manual_rate, pick, run_file,
    run_ms, sim_1ms, sim_of, times, topic_producer, trace, With,
};
use broker_sim::partitioner::partition_for_key;
use broker_sim::snapshot::{GroupMarker, GroupView};
use broker_sim::{Event, EventKind, SimTime, Simulation};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------- helpers

/// One `RecordProcessed` event.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Proc {
    time: SimTime,
    consumer: u32,
    topic: u32,
    partition: u32,
    offset: u64,
    msg: u64,
    duplicate: bool,
}

fn processed(events: &[Event]) -> Vec<Proc> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::RecordProcessed {
                msg,
                consumer,
                topic,
                partition,
                offset,
                duplicate,
            } => Some(Proc {
                time: e.time,
                consumer: consumer.0,
                topic: topic.0,
                partition: *partition,
                offset: *offset,
                msg: msg.0,
                duplicate: *duplicate,
            }),
            _ => None,
        })
        .collect()
}

fn cid(s: &Simulation, name: &str) -> u32 {
    crate::helpers::consumer_id(s, name).0
}

/// Records processed strictly between `from` and `to`.
fn processed_between(events: &[Event], from: SimTime, to: SimTime) -> Vec<Proc> {
    processed(events)
        .into_iter()
        .filter(|p| p.time > from && p.time < to)
        .collect()
}

/// Records processed by one consumer, in order.
fn processed_by(events: &[Event], s: &Simulation, name: &str) -> Vec<Proc> {
    let id = cid(s, name);
    processed(events)
        .into_iter()
        .filter(|p| p.consumer == id)
        .collect()
}

fn offsets(procs: &[Proc]) -> Vec<u64> {
    procs.iter().map(|p| p.offset).collect()
}

/// One `Appended` event: (time, msg, topic, partition, offset).
type Append = (SimTime, u64, u32, u32, u64);

fn appended(events: &[Event]) -> Vec<Append> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Appended {
                msg,
                topic,
                partition,
                offset,
            } => Some((e.time, msg.0, topic.0, *partition, *offset)),
            _ => None,
        })
        .collect()
}

fn group(s: &Simulation, name: &str) -> GroupView {
    s.snapshot()
        .groups
        .into_iter()
        .find(|g| g.name == name)
        .unwrap_or_else(|| panic!("no group {name}"))
}

/// The group's marker (committed offset, position, lag) on `topic`/`partition`, with the
/// partition's log start and end.
fn marker(s: &Simulation, topic: &str, partition: u32, grp: &str) -> (GroupMarker, u64, u64) {
    let snap = s.snapshot();
    let t = snap
        .topics
        .iter()
        .find(|t| t.name == topic)
        .unwrap_or_else(|| panic!("no topic {topic}"));
    let p = &t.partitions[partition as usize];
    let m = p
        .groups
        .iter()
        .find(|m| m.group == grp)
        .unwrap_or_else(|| panic!("group {grp} has no marker on {topic}/{partition}"))
        .clone();
    (m, p.log_start, p.log_end)
}

/// (log start, log end) of a partition.
fn log_range(s: &Simulation, topic: &str, partition: u32) -> (u64, u64) {
    let snap = s.snapshot();
    let t = snap.topics.iter().find(|t| t.name == topic).unwrap();
    let p = &t.partitions[partition as usize];
    (p.log_start, p.log_end)
}

/// Each member's partitions by consumer name, as (topic id, partition).
fn owners(s: &Simulation, grp: &str) -> BTreeMap<String, Vec<(u32, u32)>> {
    let snap = s.snapshot();
    let g = snap.groups.iter().find(|g| g.name == grp).unwrap();
    g.members
        .iter()
        .map(|(c, tps)| {
            let tps = tps.iter().map(|(t, p)| (t.0, *p)).collect();
            (snap.consumers[c.index()].name.clone(), tps)
        })
        .collect()
}

fn rebalance_starts(events: &[Event]) -> Vec<SimTime> {
    times(events, |k| matches!(k, EventKind::RebalanceStarted { .. }))
}

/// Commit after every processed record, so no auto-commit timer is involved.
fn every_1() -> Value {
    json!({ "kind": "after_processing", "every": 1 })
}

/// Offsets a member processed a second time, from the report.
fn duplicate_offsets(r: &broker_sim::report::Report, consumer: &str) -> Vec<u64> {
    r.group_deliveries[consumer]
        .iter()
        .filter(|d| d.duplicate)
        .map(|d| d.offset)
        .collect()
}

/// Topic `t` (one partition) on a 1 ms network, plus `parts` (groups, producers, consumers).
fn one_topic_sim(parts: Value) -> Simulation {
    sim_1ms(json!({ "topics": [{ "name": "t" }] }).with(parts))
}

/// A group reading `topic`, starting where `reset` says when it has no committed offset.
fn group_reading(name: &str, topic: &str, reset: &str) -> Value {
    json!({ "name": name, "topics": [topic], "auto_offset_reset": reset })
}

/// A group reading `topic` from the earliest offset when it has no committed offset.
fn earliest_group(name: &str, topic: &str) -> Value {
    group_reading(name, topic, "earliest")
}

/// The offsets `auto.offset.reset` moved positions to, in order.
fn offset_resets(events: &[Event]) -> Vec<u64> {
    pick(events, |e| match &e.kind {
        EventKind::OffsetReset { to, .. } => Some(*to),
        _ => None,
    })
}

fn ms(t: u64) -> SimTime {
    SimTime::from_millis(t)
}

fn example(name: &str) -> String {
    format!("{}/../scenarios/kafka/{name}", env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------- KAF-1

#[test]
fn kaf_01_offsets_count_up_per_partition_and_consuming_deletes_nothing() {
    let mut s = sim_of(json!({
        "version": 1,
        "topics": [{ "name": "t", "partitions": 2 }],
        "groups": [earliest_group("g", "t")],
        "producers": [topic_producer("p", "t", burst_rate(30, 0.0))
            .with(json!({ "message": { "keys": ["a", "b", "c", "d", "e"] } }))],
        "consumers": [group_member("c", "g", 1.0)]
    }));
    let mut events = run_ms(&mut s, 5_000);
    let app = appended(&events);
    assert_eq!(app.len(), 30);
    let mut per_partition: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for (_, _, _, p, o) in &app {
        per_partition.entry(*p).or_default().push(*o);
    }
    assert_eq!(per_partition.len(), 2, "both partitions used");
    for (p, offs) in &per_partition {
        let want: Vec<u64> = (0..offs.len() as u64).collect();
        assert_eq!(
            offs, &want,
            "partition {p}: offsets 0, 1, 2, ... in append order"
        );
    }
    // The group read everything, and the log still holds every record.
    assert_eq!(group(&s, "g").processed, 30);
    for (p, offs) in &per_partition {
        assert_eq!(log_range(&s, "t", *p), (0, offs.len() as u64));
    }
    assert_eq!(s.ledger().retained, 30);
    assert_eq!(
        s.ledger().acked,
        0,
        "processing a record does not ack it away"
    );
    let report = s.report(1, &events);
    let held: usize = report.partitions.values().map(Vec::len).sum();
    assert_eq!(held, 30);
    // A second group, added later, reads all 30 again; new records continue the offsets.
    apply(
        &mut s,
        json!({ "add_group": { "group": earliest_group("g2", "t") } }),
    );
    apply(&mut s, cmd::add_consumer(group_member("c2", "g2", 1.0)));
    apply(&mut s, cmd::burst("p", 10));
    events.extend(run_ms(&mut s, 10_000));
    assert_eq!(group(&s, "g2").processed, 40);
    assert_eq!(group(&s, "g").processed, 40);
    let later = appended(&events);
    for p in 0..2u32 {
        let offs: Vec<u64> = later.iter().filter(|a| a.3 == p).map(|a| a.4).collect();
        let want: Vec<u64> = (0..offs.len() as u64).collect();
        assert_eq!(offs, want, "offsets are never reused");
    }
    assert_eq!(s.ledger().retained, 40);
}

// ---------------------------------------------------------------- KAF-2

#[test]
fn kaf_02_a_partition_is_read_in_append_order_and_a_key_keeps_its_partition() {
    let keys = ["k0", "k1", "k2", "k3", "k4", "k5", "k6"];
    let mut s = sim_of(json!({
        "version": 1,
        "topics": [{ "name": "t", "partitions": 3 }],
        "groups": [earliest_group("g", "t")],
        "producers": [topic_producer("p", "t", constant_rate(200.0))
            .with(json!({ "limit": 210, "message": { "keys": keys } }))],
        "consumers": [group_member("c", "g", 2.0)]
    }));
    let events = run_ms(&mut s, 5_000);
    let app = appended(&events);
    assert_eq!(app.len(), 210);
    // Messages of one producer are numbered in publish order, keys cycled.
    let mut partition_of_key: BTreeMap<&str, BTreeSet<u32>> = BTreeMap::new();
    for (_, msg, _, p, _) in &app {
        partition_of_key
            .entry(keys[*msg as usize % keys.len()])
            .or_default()
            .insert(*p);
    }
    for (k, ps) in &partition_of_key {
        assert_eq!(ps.len(), 1, "key {k} went to partitions {ps:?}");
    }
    let used: BTreeSet<u32> = partition_of_key.values().flatten().copied().collect();
    assert!(used.len() > 1, "keys spread over partitions");
    // Within each partition the group reads records in append (offset) order.
    let procs = processed(&events);
    assert_eq!(procs.len(), 210);
    for p in 0..3u32 {
        let read: Vec<(u64, u64)> = procs
            .iter()
            .filter(|r| r.partition == p)
            .map(|r| (r.offset, r.msg))
            .collect();
        let written: Vec<(u64, u64)> = app
            .iter()
            .filter(|a| a.3 == p)
            .map(|a| (a.4, a.1))
            .collect();
        assert_eq!(read, written, "partition {p}");
    }
    // Across partitions there is no order: the group does not read in publish order.
    let msgs: Vec<u64> = procs.iter().map(|r| r.msg).collect();
    let mut sorted = msgs.clone();
    sorted.sort_unstable();
    assert_ne!(msgs, sorted, "no global order across partitions");
}

// ---------------------------------------------------------------- KAF-3

#[test]
fn kaf_03_keyed_records_go_to_the_murmur2_partition_and_more_partitions_remap_keys() {
    let mut s = sim_of(json!({
        "version": 1,
        "topics": [
            { "name": "three", "partitions": 3 },
            { "name": "four", "partitions": 4 }
        ],
        "producers": [{
            "name": "p", "targets": [{ "topic": "three" }, { "topic": "four" }],
            "rate": { "kind": "burst", "count": 3, "at_ms": 0 },
            "message": { "keys": ["foobar", "abc", "key"] }
        }]
    }));
    let events = run_ms(&mut s, 100);
    let app = appended(&events);
    let partition = |topic: u32, msg: u64| {
        app.iter()
            .find(|a| a.2 == topic && a.1 == msg)
            .unwrap_or_else(|| panic!("m{msg} not on topic {topic}:\n{}", trace(&events)))
            .3
    };
    // Spec vectors: "foobar" → 0 of 3 and 2 of 4; "abc" → 0 of 3 and 3 of 4; "key" → 1 of 3.
    assert_eq!(partition(0, 0), 0);
    assert_eq!(partition(1, 0), 2);
    assert_eq!(partition(0, 1), 0);
    assert_eq!(partition(1, 1), 3);
    assert_eq!(partition(0, 2), 1);
    assert_eq!(partition(1, 2), partition_for_key(b"key", 4));
    // The same key lands elsewhere once the partition count changes.
    assert_ne!(partition(0, 0), partition(1, 0));
}

#[test]
fn kaf_03_snapshot_names_the_key_of_every_drawn_record() {
    // The drawing colours records by key; the snapshot must say which key each record has.
    let mut s = sim_of(json!({
        "version": 1,
        "topics": [{ "name": "three", "partitions": 3 }],
        "producers": [{
            "name": "p", "targets": [{ "topic": "three" }],
            "rate": { "kind": "burst", "count": 6, "at_ms": 0 },
            "message": { "keys": ["foobar", "abc", "key"], "routing_keys": ["rk"] }
        }]
    }));
    run_ms(&mut s, 100);
    let snap = s.snapshot();
    let names: Vec<&str> = snap.record_keys.iter().map(|(_, k)| k.as_str()).collect();
    assert_eq!(
        names,
        ["foobar", "abc", "key"],
        "record keys only, not routing keys"
    );
    let name_of = |id: Option<u32>| {
        let id = id.expect("every record here has a key");
        snap.record_keys
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, k)| k.as_str())
    };
    let partitions = &snap.topics[0].partitions;
    let mut seen = Vec::new();
    for p in partitions {
        for (_, chip) in &p.tail {
            seen.push((p.index, name_of(chip.key).expect("a known key")));
        }
    }
    seen.sort_unstable();
    // Spec vectors of KAF-3: "foobar" and "abc" to partition 0, "key" to 1; twice each.
    assert_eq!(
        seen,
        [
            (0, "abc"),
            (0, "abc"),
            (0, "foobar"),
            (0, "foobar"),
            (1, "key"),
            (1, "key")
        ]
    );
}

// ---------------------------------------------------------------- KAF-4

#[test]
fn kaf_04_unkeyed_records_stick_to_one_partition_for_batch_size_bytes() {
    // 1 KiB records and batch.size 16384: 16 records per partition, then a switch.
    let mut s = sim_of(json!({
        "version": 1,
        "topics": [{ "name": "t", "partitions": 3 }],
        "producers": [topic_producer("p", "t", burst_rate(64, 0.0))
            .with(json!({ "message": { "size_bytes": 1024 } }))]
    }));
    let events = run_ms(&mut s, 100);
    let parts: Vec<u32> = appended(&events).iter().map(|a| a.3).collect();
    assert_eq!(parts.len(), 64);
    assert!(parts[..16].iter().all(|p| *p == parts[0]), "{parts:?}");
    let runs: Vec<&[u32]> = parts.chunks(16).collect();
    for run in &runs {
        assert!(
            run.iter().all(|p| *p == run[0]),
            "one partition per batch: {parts:?}"
        );
    }
    for w in runs.windows(2) {
        assert_ne!(
            w[0][0], w[1][0],
            "switches after batch.size bytes: {parts:?}"
        );
    }
}

#[test]
fn kaf_04_round_robin_partitioner_is_opt_in() {
    let mut s = sim_of(json!({
        "version": 1,
        "topics": [{ "name": "t", "partitions": 3, "unkeyed": "round_robin" }],
        "producers": [topic_producer("p", "t", burst_rate(7, 0.0))]
    }));
    let events = run_ms(&mut s, 100);
    let parts: Vec<u32> = appended(&events).iter().map(|a| a.3).collect();
    assert_eq!(parts, [0, 1, 2, 0, 1, 2, 0]);
}

// ---------------------------------------------------------------- KAF-5

/// One partition, 4 records of 250 bytes per 1000-byte segment, one record a second.
fn retention_by_time() -> Simulation {
    sim_1ms(json!({
        "topics": [{
            "name": "t", "segment_bytes": 1000, "retention_ms": 10000,
            "retention_check_interval_ms": 100
        }],
        "producers": [topic_producer("p", "t", constant_rate(1.0))
            .with(json!({ "limit": 12, "message": { "size_bytes": 250 } }))]
    }))
}

#[test]
fn kaf_05_time_retention_waits_for_the_newest_record_of_a_segment() {
    let mut s = retention_by_time();
    let events = run_ms(&mut s, 60_000);
    let app = appended(&events);
    assert_eq!(app.len(), 12);
    let deletions: Vec<(SimTime, u64, u64)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::RetentionDeleted {
                records, log_start, ..
            } => Some((e.time, *records, *log_start)),
            _ => None,
        })
        .collect();
    assert!(!deletions.is_empty(), "{}", trace(&events));
    // The first segment holds offsets 0..=3. Its oldest record expires 3 s before its newest,
    // but the segment goes only once the newest (offset 3) is older than retention.ms.
    let (first, records, start) = deletions[0];
    assert_eq!((records, start), (4, 4), "whole segment 0..=3 deleted");
    let oldest = app[0].0;
    let newest = app[3].0;
    assert!(
        first.since(oldest) > 10_000_000 + 2_000_000,
        "not deleted when only its oldest record expired"
    );
    assert!(first.since(newest) > 10_000_000);
    assert!(
        first.since(newest) <= 10_000_000 + 100_000,
        "deleted at the first check after the newest record expired (check every 100 ms)"
    );
    // The second segment (4..=7) follows the same rule.
    assert_eq!((deletions[1].1, deletions[1].2), (4, 8));
    assert!(deletions[1].0.since(app[7].0) > 10_000_000);
    assert!(deletions[1].0.since(app[7].0) <= 10_100_000);
    // The active segment (8..=11) goes too once its newest record expired: Kafka deletes an
    // expired active segment and rolls a new one.
    assert_eq!((deletions[2].1, deletions[2].2), (4, 12));
    assert!(deletions[2].0.since(app[11].0) > 10_000_000);
    assert_eq!(s.ledger().removed_by_retention, 12);
    assert_eq!(s.ledger().retained, 0);
}

#[test]
fn kaf_05_an_expired_active_segment_is_deleted_too() {
    // KAF-5: a segment goes once its largest timestamp is older than retention.ms; only
    // segments at or beyond the high watermark are kept. With one replica every appended record
    // is below the high watermark, so after 60 s all 12 records (the last written at ~11 s,
    // retention 10 s) are gone: Kafka deletes the active segment and rolls a new, empty one.
    let mut s = retention_by_time();
    run_ms(&mut s, 60_000);
    let (start, end) = log_range(&s, "t", 0);
    assert_eq!(end, 12);
    assert_eq!(
        start, 12,
        "every expired record deleted; log start = log end"
    );
    assert_eq!(s.ledger().removed_by_retention, 12);
    assert_eq!(s.ledger().retained, 0);
}

#[test]
fn kaf_05_size_retention_keeps_at_least_retention_bytes_per_partition() {
    // 400-byte segments of 100-byte records, retention.bytes 1000:
    // 400/400/400/400 → one segment goes, 1200 remain; 400/400/400 → nothing goes.
    let topic = |name: &str| {
        json!({
            "name": name, "segment_bytes": 400, "retention_bytes": 1000,
            "retention_check_interval_ms": 100
        })
    };
    let producer = |name: &str, topic: &str, n: u64| {
        topic_producer(name, topic, burst_rate(n, 0.0))
            .with(json!({ "message": { "size_bytes": 100 } }))
    };
    let mut s = sim_of(json!({
        "version": 1,
        "topics": [topic("sixteen"), topic("twelve")],
        "producers": [producer("a", "sixteen", 16), producer("b", "twelve", 12)]
    }));
    let events = run_ms(&mut s, 1_000);
    let snap = s.snapshot();
    let sixteen = &snap.topics[0].partitions[0];
    assert_eq!(sixteen.bytes, 1200, "{}", trace(&events));
    assert_eq!(sixteen.log_start, 4);
    assert_eq!(sixteen.segments.len(), 3);
    let twelve = &snap.topics[1].partitions[0];
    assert_eq!(twelve.bytes, 1200, "removing one would leave 800 < 1000");
    assert_eq!(twelve.log_start, 0);
    assert_eq!(s.ledger().removed_by_retention, 4);
    // Checks keep running; nothing more goes.
    run_ms(&mut s, 5_000);
    assert_eq!(s.ledger().removed_by_retention, 4);
}

/// A simulated year, the longest run a scenario allows.
const YEAR: SimTime = SimTime::from_secs(365 * 24 * 3600);

#[test]
fn kaf_05_retention_idle_partitions_cost_nothing() {
    // robustness F3: 1,024 empty partitions checked every 1 ms. Nothing can be deleted, so no
    // check runs: a year passes without a single work item.
    let mut s = sim_of(json!({
        "version": 1,
        "topics": [{ "name": "t", "partitions": 1024, "retention_check_interval_ms": 1 }]
    }));
    let (events, reached) = s.advance_to_bounded(YEAR, 10);
    assert!(reached, "an idle year took more than 10 work items");
    assert!(events.is_empty());

    // 2,048 records expire after 1 s. Once retention has deleted them the topic is idle again,
    // and the rest of the year costs nothing either.
    let keys: Vec<String> = (0..64).map(|k| format!("k{k}")).collect();
    let mut s = sim_1ms(json!({
        "topics": [{
            "name": "t", "partitions": 1024, "retention_ms": 1000,
            "retention_check_interval_ms": 1
        }],
        "producers": [topic_producer("p", "t", burst_rate(2048, 0.0))
            .with(json!({ "message": { "keys": keys } }))]
    }));
    // Per record: the arrival; then a handful of checks and wake-ups.
    let (events, reached) = s.advance_to_bounded(YEAR, 2048 + 100);
    assert!(reached, "the checks kept running after the log was empty");
    assert_eq!(s.ledger().removed_by_retention, 2048);
    assert_eq!(s.ledger().retained, 0);
    // Every record went at the first check after it expired: records arrive at 1 ms, expire
    // after 1001 ms, and checks run every 1 ms from 1 ms.
    let deleted_at = times(&events, |k| matches!(k, EventKind::RetentionDeleted { .. }));
    assert!(!deleted_at.is_empty());
    assert!(deleted_at.iter().all(|t| *t == SimTime::from_millis(1002)));
}

#[test]
fn kaf_05_retention_checks_keep_their_instants_and_order() {
    // Skipped checks must not move the ones that delete, not even among work at the same
    // instant. A check re-scheduled by the append that made it due would sort after work
    // scheduled in between; that changed the trace of 80 of 400 random retention scenarios.
    // These three are among them; the digests are those of the engine that ran every check.
    let cases = [
        (
            r#"{"version": 1, "latency_ms": 10, "topics": [{"name": "t0", "partitions": 2, "segment_bytes": 100, "retention_ms": -1, "retention_bytes": 3000, "retention_check_interval_ms": 3, "segment_ms": 1000}], "producers": [{"name": "p0", "targets": [{"topic": "t0"}], "rate": {"kind": "constant", "per_sec": 20}, "message": {"size_bytes": 50, "keys": ["k0", "k1", "k2", "k3"]}}, {"name": "p1", "targets": [{"topic": "t0"}], "rate": {"kind": "constant", "per_sec": 1000}, "message": {"size_bytes": 50, "keys": ["k0", "k1", "k2", "k3", "k4"]}}], "script": [{"at_ms": 2000, "command": {"burst": {"producer": "p0", "count": 1}}}]}"#,
            15011,
            0x8796dd71457c2271_u64,
        ),
        (
            r#"{"version": 1, "latency_ms": 100, "topics": [{"name": "t0", "partitions": 8, "segment_bytes": 400, "retention_ms": 1000, "retention_bytes": -1, "retention_check_interval_ms": 250, "segment_ms": 200}], "producers": [{"name": "p0", "targets": [{"topic": "t0"}], "rate": {"kind": "burst", "count": 5, "at_ms": 0}, "message": {"size_bytes": 250, "keys": ["k0", "k1"]}, "limit": 10}, {"name": "p1", "targets": [{"topic": "t0"}], "rate": {"kind": "constant", "per_sec": 10}, "message": {"size_bytes": 10, "keys": ["k0"]}, "limit": 100}, {"name": "p2", "targets": [{"topic": "t0"}], "rate": {"kind": "constant", "per_sec": 1000}, "message": {"size_bytes": 100, "keys": ["k0", "k1", "k2", "k3"]}}]}"#,
            12069,
            0x65e757d46ea54bc8,
        ),
        (
            r#"{"version": 1, "latency_ms": 5, "topics": [{"name": "t0", "partitions": 2, "segment_bytes": 100, "retention_ms": 2500, "retention_bytes": 500, "retention_check_interval_ms": 1, "segment_ms": 50}, {"name": "t1", "partitions": 3, "segment_bytes": 200, "retention_ms": 20, "retention_bytes": -1, "retention_check_interval_ms": 1, "segment_ms": 200}], "producers": [{"name": "p0", "targets": [{"topic": "t0"}], "rate": {"kind": "constant", "per_sec": 20}, "message": {"size_bytes": 50}}], "groups": [{"name": "g0", "topics": ["t0"], "assignor": "cooperative-sticky", "auto_offset_reset": "none", "commit": {"kind": "after_processing", "every": 10}, "rebalance_ms": 0, "session_timeout_ms": 1000, "max_poll_records": 5, "offsets_retention_ms": 500}], "consumers": [{"name": "g0c0", "source": {"group": "g0"}, "processing": {"kind": "fixed", "ms": 50}}, {"name": "g0c1", "source": {"group": "g0"}, "processing": {"kind": "fixed", "ms": 50}}], "script": [{"at_ms": 2000, "command": {"reset_offsets": {"group": "g0", "to": {"timestamp_ms": 500}}}}]}"#,
            434,
            0xec2442b623ebc73e,
        ),
    ];
    for (i, (json, events, digest)) in cases.into_iter().enumerate() {
        let mut s = crate::helpers::sim(json);
        let trace = s.advance_to(SimTime::from_secs(6));
        assert!(
            any_kind(&trace, |k| matches!(k, EventKind::RetentionDeleted { .. })),
            "case {i}"
        );
        assert_eq!(
            (trace.len(), format!("{:016x}", s.digest().0)),
            (events, format!("{digest:016x}")),
            "case {i}"
        );
    }
}

// ---------------------------------------------------------------- KAF-6

/// A slow member fetching one record at a time falls behind a log that size retention trims.
fn falls_behind_retention(reset: &str) -> Simulation {
    sim_1ms(json!({
        "topics": [{
            "name": "t", "segment_bytes": 1000, "retention_bytes": 1000,
            "retention_check_interval_ms": 100
        }],
        "groups": [group_reading("g", "t", reset)
            .with(json!({ "commit": every_1(), "max_poll_records": 1, "rebalance_ms": 100 }))],
        "producers": [topic_producer("p", "t", burst_rate(40, 2000.0))
            .with(json!({ "message": { "size_bytes": 250 } }))],
        "consumers": [group_member("c", "g", 1000.0)]
    }))
}

#[test]
fn kaf_06_log_start_moves_and_a_fetch_below_it_applies_auto_offset_reset() {
    let mut s = falls_behind_retention("earliest");
    let events = run_ms(&mut s, 10_000);
    // 10 segments of 4 records; size retention keeps only the last (1000 bytes).
    let deleted: Vec<u64> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::RetentionDeleted { log_start, .. } => Some(*log_start),
            _ => None,
        })
        .collect();
    assert_eq!(deleted, [36], "{}", trace(&events));
    assert_eq!(log_range(&s, "t", 0), (36, 40));
    // The member had read offset 0; its next fetch (offset 1) is below the log start.
    let resets = offset_resets(&events);
    assert_eq!(resets, [36]);
    assert_eq!(
        offsets(&processed_by(&events, &s, "c")),
        [0, 36, 37, 38, 39],
        "{}",
        trace(&events)
    );
    assert_eq!(group(&s, "g").skipped, 35);
}

#[test]
fn kaf_06_with_latest_the_reset_jumps_to_the_log_end() {
    let mut s = falls_behind_retention("latest");
    let events = run_ms(&mut s, 10_000);
    // The group joined an empty log (latest = 0), read offset 0, then fell out of range.
    let resets = offset_resets(&events);
    assert_eq!(resets, [40], "{}", trace(&events));
    assert_eq!(offsets(&processed_by(&events, &s, "c")), [0]);
}

// ---------------------------------------------------------------- KAF-7

/// A compacted topic `t`: one record per segment, the cleaner every 100 ms, plus `extra`
/// topic settings; a stopped member `c` of an earliest group `g`, and producer `p` sending
/// `keys` (with `tombstones`) in one burst at 0.
fn compacted(extra: Value, keys: &[&str], tombstones: &[bool]) -> Simulation {
    let topic = json!({
        "name": "t", "cleanup_policy": "compact", "segment_bytes": 1,
        "log_cleaner_backoff_ms": 100
    })
    .with(extra);
    sim_of(json!({
        "version": 1,
        "topics": [topic],
        "groups": [earliest_group("g", "t")],
        "producers": [topic_producer("p", "t", burst_rate(keys.len() as u64, 0.0))
            .with(json!({ "message": { "keys": keys, "tombstones": tombstones } }))],
        "consumers": [group_member("c", "g", 1.0).with(json!({ "stopped": true }))]
    }))
}

/// `Compacted` events: (time, superseded records removed, tombstones removed).
fn compactions(events: &[Event]) -> Vec<(SimTime, u64, u64)> {
    pick(events, |e| match &e.kind {
        EventKind::Compacted {
            removed,
            tombstones,
            ..
        } => Some((e.time, *removed, *tombstones)),
        _ => None,
    })
}

/// Restarts `c` at `at_ms` and returns the offsets it processes by `until_ms`.
fn read_from_earliest(s: &mut Simulation, at_ms: u64, until_ms: u64) -> Vec<u64> {
    run_ms(s, at_ms);
    apply(s, cmd::restart("c"));
    let events = run_ms(s, until_ms);
    offsets(&processed_by(&events, s, "c"))
}

#[test]
fn kaf_07_compaction_keeps_the_latest_value_per_key_and_offsets_keep_their_gaps() {
    // Keys a,b,a,b,a,c at offsets 0..=5, one record per segment: offset 5 is in the active
    // segment. The first cleaning (at 100 ms) keeps the latest a (4) and b (3); 0..=2 go, and
    // a group reading from the earliest offset sees [3, 4, 5]: offsets never change.
    let mut s = compacted(json!({}), &["a", "b", "a", "b", "a", "c"], &[]);
    let events = run_ms(&mut s, 5_000);
    assert_eq!(compactions(&events), [(ms(100), 3, 0)]);
    assert_eq!(s.ledger().removed_by_compaction, 3);
    assert_eq!(s.ledger().retained, 3);
    assert_eq!(log_range(&s, "t", 0), (0, 6), "the log start does not move");
    assert_eq!(read_from_earliest(&mut s, 5_000, 10_000), [3, 4, 5]);
}

#[test]
fn kaf_07_the_active_segment_is_never_compacted() {
    // One big segment (the default 1 GiB): every value of `a` stays readable.
    let mut s = compacted(
        json!({ "segment_bytes": 1_073_741_824 }),
        &["a", "a", "a"],
        &[],
    );
    let events = run_ms(&mut s, 5_000);
    assert!(compactions(&events).is_empty());
    assert_eq!(read_from_earliest(&mut s, 5_000, 10_000), [0, 1, 2]);
}

#[test]
fn kaf_07_a_tombstone_deletes_its_key_and_goes_after_delete_retention_ms() {
    // a, a (tombstone), b. At 100 ms the first `a` goes and the tombstone is kept for
    // delete.retention.ms = 1 s from that cleaning; at 1.1 s the next cleaning removes it.
    let mut s = compacted(
        json!({ "delete_retention_ms": 1000 }),
        &["a", "a", "b"],
        &[false, true, false],
    );
    let events = run_ms(&mut s, 3_000);
    assert_eq!(compactions(&events), [(ms(100), 1, 0), (ms(1_100), 0, 1)]);
    assert_eq!(s.ledger().removed_by_compaction, 2);
    assert_eq!(read_from_earliest(&mut s, 3_000, 6_000), [2]);
}

#[test]
fn kaf_07_a_reader_before_delete_retention_ms_still_sees_the_tombstone() {
    let mut s = compacted(
        json!({ "delete_retention_ms": 60_000 }),
        &["a", "a", "b"],
        &[false, true, false],
    );
    assert_eq!(read_from_earliest(&mut s, 1_000, 3_000), [1, 2]);
}

#[test]
fn kaf_07_records_younger_than_min_compaction_lag_ms_are_not_compacted() {
    // Three values of `a`, appended at 1 ms; lag 1 s: the cleaner (every 100 ms) waits until
    // the closed segments are 1 s old, so the first check after 1.001 s removes the older of
    // the two closed values (the third is in the active segment).
    let mut s = compacted(
        json!({ "min_compaction_lag_ms": 1000 }),
        &["a", "a", "a"],
        &[],
    );
    let events = run_ms(&mut s, 3_000);
    assert_eq!(compactions(&events), [(ms(1_100), 1, 0)]);
    assert_eq!(read_from_earliest(&mut s, 3_000, 6_000), [1, 2]);
}

/// Keys a,a,a,b at 0 (the first cleaning removes two `a`s), then a,b,c at 2 s: the new dirty
/// part is 3 of 4 live records. Returns the records compaction removed by 5 s.
fn removed_with_dirty_ratio(ratio: f64) -> u64 {
    let mut s = compacted(
        json!({ "min_cleanable_dirty_ratio": ratio }),
        &["a", "a", "a", "b"],
        &[],
    );
    run_ms(&mut s, 1_000);
    assert_eq!(s.ledger().removed_by_compaction, 2, "the first cleaning");
    let more = json!({ "message": { "keys": ["a", "b", "c"] } });
    let producer = topic_producer("q", "t", burst_rate(3, 1_000.0)).with(more);
    apply(&mut s, cmd::add_producer(producer));
    run_ms(&mut s, 5_000);
    s.ledger().removed_by_compaction
}

#[test]
fn kaf_07_the_cleaner_waits_for_min_cleanable_dirty_ratio() {
    // Dirty 3/4 = 0.75: enough for the default 0.5 (a@2 and b@3 go), not for 1.0.
    assert_eq!(removed_with_dirty_ratio(0.5), 4);
    assert_eq!(removed_with_dirty_ratio(1.0), 2);
}

#[test]
fn kaf_07_a_compacted_topic_refuses_records_without_a_key() {
    let mut s = sim_of(json!({
        "version": 1,
        "topics": [{ "name": "t", "cleanup_policy": "compact" }],
        "producers": [topic_producer("p", "t", burst_rate(2, 0.0))]
    }));
    let events = run_ms(&mut s, 1_000);
    let reasons: Vec<String> = crate::helpers::drops(&events)
        .iter()
        .map(|(_, r)| r.to_string())
        .collect();
    assert_eq!(reasons, ["no_key_for_compacted_topic"; 2]);
    assert_eq!(s.ledger().retained, 0);
}

#[test]
fn kaf_07_compact_alone_deletes_nothing_by_time_compact_delete_does() {
    let run = |policy: &str| {
        let mut s = sim_of(json!({
            "version": 1,
            "topics": [{
                "name": "t", "cleanup_policy": policy, "segment_bytes": 1,
                "retention_ms": 1000, "retention_check_interval_ms": 100
            }],
            "producers": [topic_producer("p", "t", burst_rate(3, 0.0))
                .with(json!({ "message": { "keys": ["a", "b", "c"] } }))]
        }));
        run_ms(&mut s, 5_000);
        (s.ledger().retained, s.ledger().removed_by_retention)
    };
    assert_eq!(run("compact"), (3, 0));
    assert_eq!(run("delete,compact"), (0, 3));
    assert_eq!(run("compact,delete"), (0, 3));
}

#[test]
fn kaf_07_retention_deleting_a_fully_compacted_segment_still_moves_the_log_start() {
    // compact,delete, one record per segment: `a` at 1 ms, then `a` and `c` at 1.001 s. At
    // 1.1 s the first `a` is compacted away, leaving its segment empty; at 1.6 s retention
    // (1.5 s) deletes that segment alone, moving the log start to 1. The group's lag must
    // follow (found by the property test: its running total missed a move that removed no
    // live record).
    let mut s = sim_of(json!({
        "version": 1,
        "topics": [{
            "name": "t", "cleanup_policy": "compact,delete", "segment_bytes": 1,
            "log_cleaner_backoff_ms": 100, "retention_ms": 1500,
            "retention_check_interval_ms": 100
        }],
        "groups": [earliest_group("g", "t")],
        "producers": [
            topic_producer("p", "t", burst_rate(1, 0.0))
                .with(json!({ "message": { "keys": ["a"] } })),
            topic_producer("q", "t", burst_rate(2, 1_000.0))
                .with(json!({ "message": { "keys": ["a", "c"] } }))
        ]
    }));
    let events = run_ms(&mut s, 2_000);
    assert_eq!(compactions(&events), [(ms(1_100), 1, 0)]);
    assert_eq!(log_range(&s, "t", 0), (1, 3));
    assert_eq!(
        s.ledger().removed_by_retention,
        0,
        "no live record was deleted"
    );
    let (m, _, _) = marker(&s, "t", 0, "g");
    assert_eq!(m.lag, 2);
}

#[test]
fn kaf_07_an_old_topic_serialises_without_the_new_settings() {
    let t: broker_sim::scenario::TopicSpec =
        serde_json::from_value(json!({ "name": "t" })).unwrap();
    let text = serde_json::to_string(&t).unwrap();
    assert!(
        !text.contains("cleanup") && !text.contains("compaction"),
        "{text}"
    );
}

// ---------------------------------------------------------------- KAF-8

#[test]
fn kaf_08_each_partition_has_one_owner_extra_members_idle_and_groups_read_independently() {
    let mut s = sim_of(json!({
        "version": 1,
        "topics": [{ "name": "t", "partitions": 2 }],
        "groups": [
            earliest_group("g", "t").with(json!({ "commit": every_1() })),
            earliest_group("other", "t").with(json!({ "commit": every_1() }))
        ],
        "producers": [topic_producer("p", "t", constant_rate(100.0))
            .with(json!({ "limit": 200, "message": { "keys": ["a", "b", "c", "d", "e", "f"] } }))],
        "consumers": [
            group_member("c1", "g", 1.0),
            group_member("c2", "g", 1.0),
            group_member("c3", "g", 1.0),
            group_member("solo", "other", 1.0)
        ]
    }));
    let events = run_ms(&mut s, 6_000);
    let own = owners(&s, "g");
    assert_eq!(own.len(), 3);
    let mut owned: Vec<(u32, u32)> = own.values().flatten().copied().collect();
    owned.sort_unstable();
    assert_eq!(
        owned,
        [(0, 0), (0, 1)],
        "each partition exactly once: {own:?}"
    );
    assert_eq!(
        own["c3"],
        [],
        "the member beyond the partition count is idle"
    );
    // Only a partition's owner reads it.
    let procs = processed(&events);
    let ids: BTreeMap<u32, &str> = ["c1", "c2", "c3"]
        .into_iter()
        .map(|n| (cid(&s, n), n))
        .collect();
    for p in 0..2u32 {
        let readers: BTreeSet<&str> = procs
            .iter()
            .filter(|r| r.partition == p && ids.contains_key(&r.consumer))
            .map(|r| ids[&r.consumer])
            .collect();
        assert_eq!(readers.len(), 1, "partition {p} read by {readers:?}");
    }
    assert!(processed_by(&events, &s, "c3").is_empty());
    // Each group reads everything with its own offsets.
    assert_eq!(group(&s, "g").processed, 200);
    assert_eq!(group(&s, "other").processed, 200);
    assert_eq!(processed_by(&events, &s, "solo").len(), 200);
    for p in 0..2 {
        let (g, _, end) = marker(&s, "t", p, "g");
        let (o, _, _) = marker(&s, "t", p, "other");
        assert_eq!(g.committed, Some(end));
        assert_eq!(o.committed, Some(end));
    }
}

// ---------------------------------------------------------------- KAF-9

fn two_topics(assignor: &str, members: &[&str]) -> Simulation {
    let consumers: Vec<Value> = members.iter().map(|m| group_member(m, "g", 1.0)).collect();
    sim_of(json!({
        "version": 1,
        "topics": [{ "name": "t0", "partitions": 3 }, { "name": "t1", "partitions": 3 }],
        "groups": [{ "name": "g", "topics": ["t0", "t1"], "assignor": assignor }],
        "consumers": consumers
    }))
}

#[test]
fn kaf_09_range_is_the_default_and_assigns_per_topic() {
    let mut s = sim_of(json!({
        "version": 1,
        "topics": [{ "name": "t0", "partitions": 3 }, { "name": "t1", "partitions": 3 }],
        "groups": [{ "name": "g", "topics": ["t0", "t1"] }],
        // Listed out of order: members are sorted by id.
        "consumers": [group_member("C1", "g", 1.0), group_member("C0", "g", 1.0)]
    }));
    run_ms(&mut s, 3_000);
    assert_eq!(
        format!("{:?}", group(&s, "g").assignor),
        "Range",
        "the default [Range, CooperativeSticky] list means Range"
    );
    let own = owners(&s, "g");
    assert_eq!(own["C0"], [(0, 0), (0, 1), (1, 0), (1, 1)]);
    assert_eq!(own["C1"], [(0, 2), (1, 2)]);
}

#[test]
fn kaf_09_round_robin_deals_all_partitions_in_turn() {
    let mut s = two_topics("round-robin", &["C0", "C1"]);
    run_ms(&mut s, 3_000);
    let own = owners(&s, "g");
    assert_eq!(own["C0"], [(0, 0), (0, 2), (1, 1)]);
    assert_eq!(own["C1"], [(0, 1), (1, 0), (1, 2)]);
}

/// Two members own 3 + 3 of six partitions and a third joins: how many (member, partition)
/// pairs survive. Counts must end 2/2/2 whatever the assignor.
fn ownership_kept_when_a_third_joins(assignor: &str) -> usize {
    let mut s = two_topics(assignor, &["C0", "C1"]);
    run_ms(&mut s, 3_000);
    let before = owners(&s, "g");
    apply(&mut s, cmd::add_consumer(group_member("C2", "g", 1.0)));
    run_ms(&mut s, 10_000);
    let after = owners(&s, "g");
    let counts: Vec<usize> = after.values().map(Vec::len).collect();
    assert_eq!(counts, [2, 2, 2], "{assignor}: {after:?}");
    before
        .iter()
        .map(|(m, tps)| tps.iter().filter(|tp| after[m].contains(tp)).count())
        .sum()
}

#[test]
fn kaf_09_cooperative_sticky_keeps_earlier_ownership_where_range_moves_it() {
    // Sticky plans keep 2 of each old member's 3; Range moves C1's t0p2/t1p2 to C2, and C1
    // takes t0p1/t1p1 from C0, so only C0's t0p0/t1p0 stay.
    assert_eq!(ownership_kept_when_a_third_joins("cooperative-sticky"), 4);
    assert_eq!(ownership_kept_when_a_third_joins("range"), 2);
}

#[test]
fn kaf_09_sticky_keeps_earlier_ownership() {
    // KAF-9: Sticky keeps as much earlier ownership as possible, eager or not (members report
    // what they owned in their subscription).
    assert_eq!(ownership_kept_when_a_third_joins("sticky"), 4);
}

// ---------------------------------------------------------------- KAF-10

/// Two members on two partitions, keyed records flowing, default session timeout (45 s).
fn two_members() -> Simulation {
    sim_of(json!({
        "version": 1,
        "topics": [{ "name": "t", "partitions": 2 }],
        "groups": [earliest_group("g", "t")],
        "producers": [topic_producer("p", "t", constant_rate(20.0))
            .with(json!({ "message": { "keys": ["a", "b", "c", "d", "e", "f"] } }))],
        "consumers": [group_member("c1", "g", 1.0)]
    }))
}

#[test]
fn kaf_10_a_member_joining_starts_a_rebalance_at_once() {
    let mut s = two_members();
    let mut events = run_ms(&mut s, 5_000);
    assert_eq!(owners(&s, "g")["c1"], [(0, 0), (0, 1)]);
    apply(&mut s, cmd::add_consumer(group_member("c2", "g", 1.0)));
    events.extend(run_ms(&mut s, 8_000));
    assert_eq!(
        rebalance_starts(&events),
        [ms(0), ms(5_000)],
        "{}",
        trace(&events)
    );
    // The rebalance round takes rebalance_ms (1 s by default).
    let done = times(&events, |k| matches!(k, EventKind::RebalanceDone { .. }));
    assert_eq!(done.last(), Some(&ms(6_000)));
    let own = owners(&s, "g");
    assert_eq!(own["c1"], [(0, 0)]);
    assert_eq!(own["c2"], [(0, 1)]);
    assert!(!processed_by(&events, &s, "c2").is_empty());
}

#[test]
fn kaf_10_a_clean_leave_rebalances_at_once() {
    let mut s = two_members();
    apply(&mut s, cmd::add_consumer(group_member("c2", "g", 1.0)));
    let mut events = run_ms(&mut s, 5_000);
    apply(&mut s, cmd::remove_consumer("c2"));
    events.extend(run_ms(&mut s, 8_000));
    let starts = rebalance_starts(&events);
    assert_eq!(starts.last(), Some(&ms(5_000)), "{}", trace(&events));
    assert!(
        !any_kind(&events, |k| matches!(k, EventKind::SessionExpired { .. })),
        "LeaveGroup needs no session timeout"
    );
    assert_eq!(owners(&s, "g")["c1"], [(0, 0), (0, 1)]);
    // The partition c2 owned is read again from 6 s (after the 1 s rebalance round).
    let p1_after: Vec<Proc> = processed_by(&events, &s, "c1")
        .into_iter()
        .filter(|p| p.partition == 1 && p.time > ms(5_000))
        .collect();
    assert!(!p1_after.is_empty());
    assert!(p1_after[0].time >= ms(6_000));
    assert!(p1_after[0].time < ms(6_500));
}

#[test]
fn kaf_10_a_crash_is_noticed_only_after_the_session_timeout() {
    let mut s = two_members();
    apply(&mut s, cmd::add_consumer(group_member("c2", "g", 1.0)));
    let mut events = run_ms(&mut s, 10_000);
    let c2_partitions = owners(&s, "g")["c2"].clone();
    assert_eq!(c2_partitions, [(0, 1)]);
    apply(&mut s, cmd::crash("c2"));
    events.extend(run_ms(&mut s, 70_000));
    let after_crash: Vec<SimTime> = rebalance_starts(&events)
        .into_iter()
        .filter(|t| *t >= ms(10_000))
        .collect();
    // session.timeout.ms defaults to 45 s (Kafka 3.0+): detected at 55 s, not at 10 s.
    assert_eq!(after_crash, [ms(55_000)], "{}", trace(&events));
    let expired = times(&events, |k| matches!(k, EventKind::SessionExpired { .. }));
    assert_eq!(expired, [ms(55_000)]);
    // Meanwhile nobody reads the crashed member's partition; c1 keeps its own.
    let procs = processed(&events);
    let gap: Vec<&Proc> = procs
        .iter()
        .filter(|p| p.partition == 1 && p.time > ms(10_010) && p.time < ms(56_000))
        .collect();
    assert!(
        gap.is_empty(),
        "partition 1 read while its owner was dead: {gap:?}"
    );
    assert!(procs
        .iter()
        .any(|p| p.partition == 0 && p.time > ms(20_000) && p.time < ms(55_000)));
    // After the rebalance c1 owns both and catches up.
    assert_eq!(owners(&s, "g")["c1"], [(0, 0), (0, 1)]);
    assert!(procs
        .iter()
        .any(|p| p.partition == 1 && p.time >= ms(56_000)));
}

// ---------------------------------------------------------------- KAF-11

/// Four partitions fed evenly; members c1, c2; c3 joins at 10 s; rebalance rounds take 2 s.
fn joining_third(assignor: &str) -> (Simulation, Vec<Event>, SimTime, SimTime) {
    let mut s = sim_1ms(json!({
        "topics": [{ "name": "t", "partitions": 4, "unkeyed": "round_robin" }],
        "groups": [{
            "name": "g", "topics": ["t"], "assignor": assignor,
            "auto_offset_reset": "earliest", "rebalance_ms": 2000, "commit": every_1()
        }],
        "producers": [topic_producer("p", "t", constant_rate(400.0))],
        "consumers": [group_member("c1", "g", 1.0), group_member("c2", "g", 1.0)]
    }));
    let mut events = run_ms(&mut s, 10_000);
    apply(&mut s, cmd::add_consumer(group_member("c3", "g", 1.0)));
    events.extend(run_ms(&mut s, 15_000));
    let start = *rebalance_starts(&events).last().unwrap();
    assert_eq!(start, ms(10_000));
    let done = *times(&events, |k| matches!(k, EventKind::RebalanceDone { .. }))
        .last()
        .unwrap();
    assert_eq!(done, ms(12_000));
    (s, events, start, done)
}

#[test]
fn kaf_11_eager_rebalance_stops_the_whole_group() {
    let (_, events, start, done) = joining_third("range");
    // Past the record being processed when the rebalance began (1 ms) nothing is consumed.
    let during = processed_between(&events, start.plus(5_000), done);
    assert!(
        during.is_empty(),
        "{} records processed during an eager rebalance, first {:?}",
        during.len(),
        during.first()
    );
    // Before and after, all four partitions flow.
    let procs = processed(&events);
    for p in 0..4 {
        assert!(procs
            .iter()
            .any(|r| r.partition == p && r.time > done && r.time < done.plus(500_000)));
    }
}

#[test]
fn kaf_11_cooperative_rebalance_keeps_unaffected_partitions_consuming() {
    let (s, events, start, done) = joining_third("cooperative-sticky");
    // Which partitions moved: owner at 9.9 s vs at the end.
    let procs = processed(&events);
    let owner_at = |p: u32, from: SimTime, to: SimTime| {
        procs
            .iter()
            .filter(|r| r.partition == p && r.time > from && r.time < to)
            .map(|r| r.consumer)
            .collect::<BTreeSet<u32>>()
    };
    let after = owners(&s, "g");
    let c3 = cid(&s, "c3");
    let moved: BTreeSet<u32> = after["c3"].iter().map(|tp| tp.1).collect();
    assert_eq!(moved.len(), 1, "{after:?}");
    for p in 0..4u32 {
        let during = owner_at(p, start.plus(5_000), done);
        if moved.contains(&p) {
            assert!(
                during.is_empty(),
                "moving partition {p} consumed during the rebalance by {during:?}"
            );
            assert_eq!(
                owner_at(p, done, done.plus(1_000_000)),
                BTreeSet::from([c3])
            );
        } else {
            assert_eq!(
                during.len(),
                1,
                "partition {p} should keep flowing with its owner"
            );
            assert_eq!(during, owner_at(p, ms(9_000), start), "same owner");
        }
    }
}

#[test]
fn kaf_11_eager_revoked_records_still_in_flight_are_not_processed() {
    // A 300 ms network: when c3 joins, c1 has a fetched batch on the wire. Eager revocation
    // gives up every partition, so that batch must be discarded, not processed during the
    // rebalance by a member that no longer owns the partition.
    let mut s = sim_of(json!({
        "version": 1,
        "latency_ms": 300,
        "topics": [{ "name": "t", "partitions": 2, "unkeyed": "round_robin" }],
        "groups": [earliest_group("g", "t")
            .with(json!({ "rebalance_ms": 2000, "commit": every_1() }))],
        "producers": [topic_producer("p", "t", constant_rate(20.0))],
        "consumers": [group_member("c1", "g", 1.0)]
    }));
    // c1 polls at ~9.99 s; that batch is on the wire until ~10.29 s.
    let mut events = run_ms(&mut s, 10_000);
    apply(&mut s, cmd::add_consumer(group_member("c2", "g", 1.0)));
    events.extend(run_ms(&mut s, 14_000));
    let start = ms(10_000);
    let done = *times(&events, |k| matches!(k, EventKind::RebalanceDone { .. }))
        .last()
        .unwrap();
    assert_eq!(done, ms(12_000));
    let during = processed_between(&events, start.plus(5_000), done);
    assert!(
        during.is_empty(),
        "processed during the eager rebalance: {during:?}\n{}",
        trace(
            &events
                .iter()
                .filter(|e| e.time >= ms(9_500) && e.time <= ms(12_500))
                .cloned()
                .collect::<Vec<_>>()
        )
    );
}

// ---------------------------------------------------------------- KAF-12

fn manual_topic(commit: Value, extra_members: &[&str]) -> Simulation {
    let mut consumers = vec![group_member("a", "g", 10.0)];
    consumers.extend(extra_members.iter().map(|m| group_member(m, "g", 10.0)));
    one_topic_sim(json!({
        "groups": [earliest_group("g", "t")
            .with(json!({ "commit": commit, "session_timeout_ms": 1000, "rebalance_ms": 100 }))],
        "producers": [topic_producer("p", "t", manual_rate())],
        "consumers": consumers
    }))
}

#[test]
fn kaf_12_committed_offset_is_last_processed_plus_one_and_a_restart_resumes_there() {
    let mut s = manual_topic(json!({ "kind": "after_processing", "every": 1 }), &[]);
    run_ms(&mut s, 500);
    apply(&mut s, cmd::burst("p", 10));
    let mut events = run_ms(&mut s, 2_000);
    assert_eq!(
        offsets(&processed_by(&events, &s, "a")),
        (0..10).collect::<Vec<_>>()
    );
    let (m, _, end) = marker(&s, "t", 0, "g");
    assert_eq!(m.committed, Some(10), "last processed (9) + 1");
    assert_eq!(m.position, Some(10));
    assert_eq!(end, 10);
    // a leaves, more records arrive, a new member joins: it reads exactly the new ones.
    apply(&mut s, cmd::remove_consumer("a"));
    run_ms(&mut s, 2_500);
    apply(&mut s, cmd::burst("p", 5));
    run_ms(&mut s, 3_000);
    apply(&mut s, cmd::add_consumer(group_member("a2", "g", 10.0)));
    events = run_ms(&mut s, 5_000);
    let again = processed_by(&events, &s, "a2");
    assert_eq!(offsets(&again), [10, 11, 12, 13, 14], "{}", trace(&events));
    assert!(again.iter().all(|p| !p.duplicate));
    let g = group(&s, "g");
    assert_eq!((g.processed, g.duplicates, g.skipped), (15, 0, 0));
}

#[test]
fn kaf_12_a_new_owner_resumes_from_the_committed_offset_not_the_old_position() {
    // Commit every 4: after processing 0..=9 the committed offset is 8 while the position is 10.
    let mut s = manual_topic(json!({ "kind": "after_processing", "every": 4 }), &["b"]);
    run_ms(&mut s, 500);
    apply(&mut s, cmd::burst("p", 10));
    run_ms(&mut s, 2_000);
    let (m, _, _) = marker(&s, "t", 0, "g");
    assert_eq!(m.committed, Some(8));
    assert_eq!(m.position, Some(10));
    apply(&mut s, cmd::crash("a"));
    let events = run_ms(&mut s, 5_000);
    let b = processed_by(&events, &s, "b");
    assert_eq!(offsets(&b), [8, 9], "{}", trace(&events));
    assert!(b.iter().all(|p| p.duplicate));
}

// ---------------------------------------------------------------- KAF-13

#[test]
fn kaf_13_auto_commit_commits_only_once_the_interval_has_passed() {
    let mut s = one_topic_sim(json!({
        "groups": [earliest_group("g", "t")
            .with(json!({ "rebalance_ms": 100, "max_poll_records": 10 }))],
        "producers": [topic_producer("p", "t", constant_rate(100.0))],
        // Slower than production: every poll returns 10 records (150 ms of work), so the
        // member polls every 150 ms and never idles.
        "consumers": [group_member("a", "g", 15.0)]
    }));
    let events = run_ms(&mut s, 4_900);
    assert!(processed(&events).len() > 250);
    // auto.commit.interval.ms defaults to 5000: nothing is committed yet.
    assert_eq!(marker(&s, "t", 0, "g").0.committed, None);
    run_ms(&mut s, 5_200);
    let (m, _, _) = marker(&s, "t", 0, "g");
    let committed = m.committed.expect("committed at the first poll after 5 s");
    assert!(
        committed > 250,
        "commits what earlier polls returned: {committed}"
    );
    // The next commit is another 5 s later.
    run_ms(&mut s, 9_900);
    assert_eq!(marker(&s, "t", 0, "g").0.committed, Some(committed));
    run_ms(&mut s, 10_400);
    assert!(marker(&s, "t", 0, "g").0.committed.unwrap() > committed + 250);
}

#[test]
fn kaf_13_an_idle_auto_commit_member_still_fetches_new_records_at_once() {
    // After an empty poll with uncommitted offsets, the member schedules its next poll at the
    // commit deadline, and `poll_pending` then swallows the wake-up that appending a record
    // sends. A real consumer keeps polling (fetch.max.wait.ms 500): records appended at 2 s are
    // returned within a fetch wait plus a round trip, whatever the commit interval.
    let mut s = one_topic_sim(json!({
        "groups": [earliest_group("g", "t").with(json!({ "rebalance_ms": 100 }))],
        "producers": [topic_producer("p", "t", burst_rate(3, 2000.0))],
        "consumers": [group_member("a", "g", 1.0)]
    }));
    let events = run_ms(&mut s, 10_000);
    let a = processed_by(&events, &s, "a");
    assert_eq!(offsets(&a), [0, 1, 2]);
    assert!(
        a[0].time < ms(2_600),
        "first record appended at 2.001 s processed at {}:\n{}",
        a[0].time,
        trace(&events)
    );
}

#[test]
fn kaf_13_auto_commit_crash_rereads_since_the_last_commit_at_least_once() {
    let mut s = one_topic_sim(json!({
        "groups": [earliest_group("g", "t")
            .with(json!({ "session_timeout_ms": 1000, "rebalance_ms": 100 }))],
        "producers": [topic_producer("p", "t", constant_rate(100.0))
            .with(json!({ "limit": 1000 }))],
        "consumers": [group_member("a", "g", 2.0), group_member("b", "g", 2.0)]
    }));
    let before = run_ms(&mut s, 7_500);
    let committed = marker(&s, "t", 0, "g")
        .0
        .committed
        .expect("auto-committed at ~5 s");
    let last = processed_by(&before, &s, "a").last().unwrap().offset;
    assert!(
        last + 1 > committed,
        "records processed since the last commit"
    );
    apply(&mut s, cmd::crash("a"));
    let after = run_ms(&mut s, 20_000);
    let b = processed_by(&after, &s, "b");
    assert_eq!(
        b.first().map(|p| p.offset),
        Some(committed),
        "{}",
        trace(&after)
    );
    let dups: Vec<u64> = b.iter().filter(|p| p.duplicate).map(|p| p.offset).collect();
    assert_eq!(dups, (committed..=last).collect::<Vec<_>>());
    let g = group(&s, "g");
    assert_eq!(g.duplicates, last + 1 - committed);
    assert_eq!(g.skipped, 0, "at-least-once loses nothing");
    let mut seen: Vec<u64> = processed(&before)
        .iter()
        .chain(processed(&after).iter())
        .map(|p| p.offset)
        .collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen, (0..1000).collect::<Vec<_>>());
}

#[test]
fn kaf_13_commit_before_processing_crash_loses_records_at_most_once() {
    let mut s = one_topic_sim(json!({
        "groups": [earliest_group("g", "t")
            .with(json!({
                "commit": { "kind": "before_processing" }, "max_poll_records": 10,
                "session_timeout_ms": 1000, "rebalance_ms": 100
            }))],
        "producers": [topic_producer("p", "t", burst_rate(20, 0.0))],
        "consumers": [group_member("a", "g", 100.0), group_member("b", "g", 100.0)]
    }));
    let before = run_ms(&mut s, 450);
    // a fetched 0..=9, committed 10 at once, and processed 0, 1, 2.
    assert_eq!(offsets(&processed_by(&before, &s, "a")), [0, 1, 2]);
    assert_eq!(marker(&s, "t", 0, "g").0.committed, Some(10));
    apply(&mut s, cmd::crash("a"));
    let after = run_ms(&mut s, 5_000);
    let b = processed_by(&after, &s, "b");
    assert_eq!(
        offsets(&b),
        (10..20).collect::<Vec<_>>(),
        "{}",
        trace(&after)
    );
    let g = group(&s, "g");
    assert_eq!(g.skipped, 7, "offsets 3..=9 were never processed");
    assert_eq!(g.duplicates, 0);
    assert_eq!(g.processed, 13);
}

#[test]
fn kaf_13_clean_close_commits_what_earlier_polls_returned() {
    // Batches of 100 records at 100 ms each take 10 s: a poll at ~10.1 s commits 100 and
    // fetches 100..=199. At 17 s, 7 s after that commit (> auto.commit.interval.ms), a closes
    // cleanly. close() commits, so b must not process 100..~168 a second time.
    let mut s = one_topic_sim(json!({
        "groups": [earliest_group("g", "t")
            .with(json!({ "max_poll_records": 100, "rebalance_ms": 100 }))],
        "producers": [topic_producer("p", "t", burst_rate(300, 0.0))],
        "consumers": [group_member("a", "g", 100.0), group_member("b", "g", 100.0)]
    }));
    let before = run_ms(&mut s, 17_000);
    assert_eq!(marker(&s, "t", 0, "g").0.committed, Some(100));
    let last = processed_by(&before, &s, "a").last().unwrap().offset;
    assert!(last > 150);
    apply(&mut s, cmd::remove_consumer("a"));
    let after = run_ms(&mut s, 60_000);
    let b = processed_by(&after, &s, "b");
    assert!(
        b.first().unwrap().offset > last,
        "b starts at {} but a had processed up to {last}",
        b.first().unwrap().offset
    );
    assert_eq!(group(&s, "g").duplicates, 0);
}

// ---------------------------------------------------------------- KAF-14

#[test]
fn kaf_14_manual_commit_every_10_crash_after_15_reprocesses_10_to_14() {
    // The spec's case: commit after every 10 records, process offsets 0..=14, crash.
    let mut s = one_topic_sim(json!({
        "groups": [earliest_group("g", "t")
            .with(json!({
                "commit": { "kind": "after_processing", "every": 10 },
                "session_timeout_ms": 1000, "rebalance_ms": 100
            }))],
        "producers": [topic_producer("p", "t", burst_rate(15, 0.0))],
        "consumers": [group_member("a", "g", 10.0), group_member("b", "g", 10.0)]
    }));
    let before = run_ms(&mut s, 500);
    let a = processed_by(&before, &s, "a");
    assert_eq!(offsets(&a), (0..15).collect::<Vec<_>>());
    assert!(a.iter().all(|p| !p.duplicate));
    assert_eq!(marker(&s, "t", 0, "g").0.committed, Some(10));
    apply(&mut s, cmd::crash("a"));
    let after = run_ms(&mut s, 5_000);
    let b = processed_by(&after, &s, "b");
    assert_eq!(offsets(&b), [10, 11, 12, 13, 14], "{}", trace(&after));
    assert!(b.iter().all(|p| p.duplicate), "10..=14 are processed twice");
    assert!(b[0].time >= ms(1_500), "after the session timeout");
    let g = group(&s, "g");
    assert_eq!(g.duplicates, 5);
    assert_eq!(g.skipped, 0);
    assert_eq!(g.processed, 20);
    // The report lists the same deliveries with the duplicate flag.
    let report = s.report(1, &after);
    let flagged = duplicate_offsets(&report, "b");
    assert_eq!(flagged, [10, 11, 12, 13, 14]);
}

#[test]
fn kaf_14_manual_commit_before_processing_is_at_most_once() {
    let mut s = manual_topic(json!({ "kind": "before_processing" }), &["b"]);
    run_ms(&mut s, 500);
    apply(&mut s, cmd::burst("p", 15));
    // a fetched all 15 and committed 15 before processing; it crashes after 5.
    let before = run_ms(&mut s, 555);
    assert_eq!(offsets(&processed_by(&before, &s, "a")), [0, 1, 2, 3, 4]);
    assert_eq!(marker(&s, "t", 0, "g").0.committed, Some(15));
    apply(&mut s, cmd::crash("a"));
    apply(&mut s, cmd::burst("p", 3));
    let after = run_ms(&mut s, 5_000);
    assert_eq!(offsets(&processed_by(&after, &s, "b")), [15, 16, 17]);
    let g = group(&s, "g");
    assert_eq!((g.duplicates, g.skipped), (0, 10));
}

// ---------------------------------------------------------------- KAF-15

#[test]
fn kaf_15_a_new_group_with_latest_misses_earlier_records_earliest_replays_them() {
    let mut s = sim_of(json!({
        "version": 1,
        "topics": [{ "name": "t", "partitions": 2 }],
        "producers": [topic_producer("p", "t", burst_rate(20, 0.0))
            .with(json!({ "message": { "keys": ["a", "b", "c"] } }))]
    }));
    run_ms(&mut s, 5_000);
    // "late" leaves auto_offset_reset at its default, latest.
    apply(
        &mut s,
        json!({ "add_group": { "group": { "name": "late", "topics": ["t"], "commit": every_1() } } }),
    );
    apply(
        &mut s,
        json!({ "add_group": { "group": earliest_group("replay", "t")
            .with(json!({ "commit": every_1() })) } }),
    );
    apply(&mut s, cmd::add_consumer(group_member("l", "late", 1.0)));
    apply(&mut s, cmd::add_consumer(group_member("r", "replay", 1.0)));
    let mut events = run_ms(&mut s, 8_000);
    assert!(
        processed_by(&events, &s, "l").is_empty(),
        "latest starts at the log end"
    );
    assert_eq!(processed_by(&events, &s, "r").len(), 20);
    apply(&mut s, cmd::burst("p", 6));
    events.extend(run_ms(&mut s, 10_000));
    let late: BTreeSet<u64> = processed_by(&events, &s, "l")
        .iter()
        .map(|p| p.msg)
        .collect();
    assert_eq!(
        late,
        (20..26).collect(),
        "only records produced after joining"
    );
    let replay: BTreeSet<u64> = processed_by(&events, &s, "r")
        .iter()
        .map(|p| p.msg)
        .collect();
    assert_eq!(replay, (0..26).collect());
}

/// Member a commits 0..=3 and leaves; retention deletes offsets 0..=7; a2 joins.
fn committed_offset_deleted(reset: &str) -> (Simulation, Vec<Event>) {
    let mut s = sim_1ms(json!({
        "topics": [{
            "name": "t", "segment_bytes": 1000, "retention_ms": 1000,
            "retention_check_interval_ms": 100
        }],
        "groups": [group_reading("g", "t", reset)
            .with(json!({ "commit": every_1(), "rebalance_ms": 100 }))],
        "producers": [topic_producer("p", "t", manual_rate())
            .with(json!({ "message": { "size_bytes": 250 } }))],
        "consumers": [group_member("a", "g", 10.0)]
    }));
    run_ms(&mut s, 1_000);
    apply(&mut s, cmd::burst("p", 4));
    let first = run_ms(&mut s, 2_000);
    assert_eq!(offsets(&processed_by(&first, &s, "a")), [0, 1, 2, 3]);
    apply(&mut s, cmd::remove_consumer("a"));
    run_ms(&mut s, 2_500);
    apply(&mut s, cmd::burst("p", 8));
    run_ms(&mut s, 4_600);
    // Offset 12 opens a new segment, which is not yet expired at 5 s.
    apply(&mut s, cmd::burst("p", 1));
    run_ms(&mut s, 5_000);
    let (m, start, end) = marker(&s, "t", 0, "g");
    assert_eq!(m.committed, Some(4));
    assert_eq!(
        (start, end),
        (12, 13),
        "segments 0..=3, 4..=7 and 8..=11 expired"
    );
    apply(&mut s, cmd::add_consumer(group_member("a2", "g", 10.0)));
    let mut events = run_ms(&mut s, 7_000);
    apply(&mut s, cmd::burst("p", 2));
    events.extend(run_ms(&mut s, 9_000));
    (s, events)
}

#[test]
fn kaf_15_when_retention_deleted_the_committed_offset_earliest_restarts_at_the_log_start() {
    let (s, events) = committed_offset_deleted("earliest");
    assert_eq!(
        offsets(&processed_by(&events, &s, "a2")),
        [12, 13, 14],
        "{}",
        trace(&events)
    );
    assert_eq!(
        group(&s, "g").skipped,
        8,
        "offsets 4..=11 were deleted unread"
    );
}

#[test]
fn kaf_15_when_retention_deleted_the_committed_offset_latest_restarts_at_the_log_end() {
    let (s, events) = committed_offset_deleted("latest");
    assert_eq!(
        offsets(&processed_by(&events, &s, "a2")),
        [13, 14],
        "{}",
        trace(&events)
    );
}

#[test]
fn kaf_15_a_committed_offset_wins_over_the_reset_policy() {
    // latest applies only without a committed offset: a returning member resumes.
    let mut s = one_topic_sim(json!({
        "groups": [{
            "name": "g", "topics": ["t"],
            "commit": every_1(), "rebalance_ms": 100
        }],
        "producers": [topic_producer("p", "t", manual_rate())],
        "consumers": [group_member("a", "g", 10.0)]
    }));
    run_ms(&mut s, 1_000);
    apply(&mut s, cmd::burst("p", 5));
    run_ms(&mut s, 2_000);
    apply(&mut s, cmd::remove_consumer("a"));
    apply(&mut s, cmd::burst("p", 5));
    run_ms(&mut s, 3_000);
    apply(&mut s, cmd::add_consumer(group_member("a2", "g", 10.0)));
    let events = run_ms(&mut s, 5_000);
    assert_eq!(offsets(&processed_by(&events, &s, "a2")), [5, 6, 7, 8, 9]);
}

#[test]
fn kaf_15_none_without_a_committed_offset_reads_nothing() {
    // `none` throws (NoOffsetForPartitionException) when there is no committed offset: the
    // member must not silently start anywhere.
    let mut s = sim_of(json!({
        "version": 1,
        "topics": [{ "name": "t" }],
        "groups": [{ "name": "g", "topics": ["t"], "auto_offset_reset": "none" }],
        "producers": [topic_producer("p", "t", burst_rate(5, 0.0))],
        "consumers": [group_member("a", "g", 1.0)]
    }));
    let events = run_ms(&mut s, 5_000);
    assert!(
        processed(&events).is_empty(),
        "processed {:?}",
        offsets(&processed(&events))
    );
}

// ---------------------------------------------------------------- KAF-16

/// Groups g and other each read offsets 0..=9 (ten a second); g's member a then leaves so g is
/// inactive, g's offsets are reset, and a new member a2 joins g.
fn reset_then_restart(to: Value) -> (Simulation, Vec<Event>, Vec<Append>) {
    let mut s = one_topic_sim(json!({
        "groups": [
            earliest_group("g", "t").with(json!({ "commit": every_1(), "rebalance_ms": 100 })),
            earliest_group("other", "t").with(json!({ "commit": every_1(), "rebalance_ms": 100 }))
        ],
        "producers": [topic_producer("p", "t", constant_rate(10.0)).with(json!({ "limit": 10 }))],
        "consumers": [group_member("a", "g", 1.0), group_member("o", "other", 1.0)]
    }));
    let first = run_ms(&mut s, 3_000);
    let app = appended(&first);
    assert_eq!(app.len(), 10);
    assert_eq!(group(&s, "g").processed, 10);
    apply(&mut s, cmd::remove_consumer("a"));
    run_ms(&mut s, 4_000);
    apply(
        &mut s,
        json!({ "reset_offsets": { "group": "g", "to": to } }),
    );
    run_ms(&mut s, 4_500);
    apply(&mut s, cmd::add_consumer(group_member("a2", "g", 1.0)));
    let events = run_ms(&mut s, 8_000);
    // The other group is untouched: same committed offset, nothing re-read.
    assert_eq!(marker(&s, "t", 0, "other").0.committed, Some(10));
    assert!(processed_by(&events, &s, "o").is_empty());
    assert_eq!(group(&s, "other").processed, 10);
    (s, events, app)
}

#[test]
fn kaf_16_reset_offsets_to_earliest_replays_everything_other_groups_unaffected() {
    let (s, events, _) = reset_then_restart(json!("earliest"));
    let replay = processed_by(&events, &s, "a2");
    assert_eq!(
        offsets(&replay),
        (0..10).collect::<Vec<_>>(),
        "{}",
        trace(&events)
    );
    assert!(replay.iter().all(|p| !p.duplicate), "a deliberate replay");
    assert_eq!(group(&s, "g").processed, 20);
}

#[test]
fn kaf_16_reset_offsets_to_an_offset_replays_from_there() {
    let (s, events, _) = reset_then_restart(json!({ "offset": 4 }));
    assert_eq!(
        offsets(&processed_by(&events, &s, "a2")),
        [4, 5, 6, 7, 8, 9]
    );
}

#[test]
fn kaf_16_reset_offsets_to_a_datetime_replays_from_the_first_record_at_or_after_it() {
    let (s, events, app) = reset_then_restart(json!({ "timestamp_ms": 450.0 }));
    let from = app
        .iter()
        .find(|a| a.0 >= ms(450))
        .map(|a| a.4)
        .expect("a record after 450 ms");
    assert!(
        from > 0 && from < 9,
        "timestamps spread over a second: {app:?}"
    );
    assert_eq!(
        offsets(&processed_by(&events, &s, "a2")),
        (from..10).collect::<Vec<_>>()
    );
}

#[test]
fn kaf_16_reset_offsets_to_latest_skips_the_backlog() {
    let (s, events, _) = reset_then_restart(json!("latest"));
    assert!(processed_by(&events, &s, "a2").is_empty());
    assert_eq!(marker(&s, "t", 0, "g").0.committed, Some(10));
}

// ---------------------------------------------------------------- KAF-17

#[test]
fn kaf_17_committed_offsets_expire_after_offsets_retention_once_the_group_is_empty() {
    // offsets.retention.minutes defaults to 7 days. The group commits 10, becomes empty, and
    // stays empty for 7 days and a minute: its committed offsets are discarded, so a returning
    // member falls back to auto.offset.reset (earliest → offset 0), replaying everything.
    let mut s = sim_1ms(json!({
        "topics": [{ "name": "t", "retention_ms": -1 }],
        "groups": [earliest_group("g", "t")
            .with(json!({ "commit": every_1(), "rebalance_ms": 100 }))],
        "producers": [topic_producer("p", "t", burst_rate(10, 0.0))],
        "consumers": [group_member("a", "g", 1.0)]
    }));
    run_ms(&mut s, 2_000);
    assert_eq!(marker(&s, "t", 0, "g").0.committed, Some(10));
    apply(&mut s, cmd::remove_consumer("a"));
    let week_and_a_minute = 2_000 + 7 * 24 * 3_600_000 + 60_000;
    run_ms(&mut s, week_and_a_minute);
    assert_eq!(
        marker(&s, "t", 0, "g").0.committed,
        None,
        "expired with the empty group"
    );
    apply(&mut s, cmd::add_consumer(group_member("a2", "g", 1.0)));
    let events = run_ms(&mut s, week_and_a_minute + 5_000);
    assert_eq!(
        offsets(&processed_by(&events, &s, "a2")),
        (0..10).collect::<Vec<_>>()
    );
}

// ---------------------------------------------------------------- KAF-18

#[test]
fn kaf_18_lag_is_end_offset_minus_committed_offset() {
    // Production (50/s) outruns the member (~33/s), which commits every 10 records.
    let mut s = sim_of(json!({
        "version": 1,
        "topics": [{ "name": "t", "partitions": 2 }],
        "groups": [earliest_group("g", "t")
            .with(json!({
                "commit": { "kind": "after_processing", "every": 10 }, "rebalance_ms": 100
            }))],
        "producers": [topic_producer("p", "t", constant_rate(50.0))
            .with(json!({ "limit": 300, "message": { "keys": ["a", "b", "c", "d"] } }))],
        "consumers": [group_member("c", "g", 30.0)]
    }));
    let mut checked_position_ahead = false;
    for t in (500..=20_000).step_by(500) {
        run_ms(&mut s, t);
        let mut sum = 0;
        for p in 0..2 {
            let (m, start, end) = marker(&s, "t", p, "g");
            let committed = m.committed.unwrap_or(start);
            assert_eq!(m.lag, end - committed, "at {t} ms, partition {p}: {m:?}");
            sum += m.lag;
            if m.position.is_some_and(|pos| pos > committed) {
                checked_position_ahead = true;
            }
        }
        assert_eq!(
            group(&s, "g").lag,
            sum,
            "group lag is the sum over partitions"
        );
        if t == 5_000 {
            assert!(
                sum > 50,
                "lag grows while production outruns the member: {sum}"
            );
        }
    }
    assert!(
        checked_position_ahead,
        "lag counts from the committed offset, not the position"
    );
    // Once production stops and everything is processed, only the uncommitted tail remains.
    run_ms(&mut s, 30_000);
    let g = group(&s, "g");
    assert_eq!(g.processed, 300);
    let tail: u64 = (0..2)
        .map(|p| {
            let (m, _, end) = marker(&s, "t", p, "g");
            end - m.committed.unwrap()
        })
        .sum();
    assert_eq!(g.lag, tail);
    assert!(tail < 20);
}

#[test]
fn kaf_18_lag_stays_exact_through_retention_resets_and_expiry() {
    // The group lag is a running total; every way an offset moves must keep it equal to the
    // sum over partition markers: appends, retention moving the log start (a group with no
    // committed offset counts from it), commits, expiry of an empty group's offsets, a reset,
    // a group added later, and a topic listed twice (its partitions count twice).
    let listed = [
        ("g", vec!["t", "u", "t"]),
        ("idle", vec!["t"]),
        ("late", vec!["u"]),
    ];
    let mut s = sim_1ms(json!({
        "topics": [
            { "name": "t", "partitions": 3, "segment_bytes": 200, "retention_ms": 2000,
              "retention_check_interval_ms": 100 },
            { "name": "u", "partitions": 2 }
        ],
        "groups": [
            { "name": "g", "topics": listed[0].1, "auto_offset_reset": "earliest",
              "commit": { "kind": "after_processing", "every": 3 }, "rebalance_ms": 50,
              "session_timeout_ms": 500, "offsets_retention_ms": 1000 },
            { "name": "idle", "topics": listed[1].1 }
        ],
        "producers": [
            topic_producer("p", "t", constant_rate(20.0))
                .with(json!({ "message": { "keys": ["a", "b", "c"], "size_bytes": 100 } })),
            topic_producer("q", "u", constant_rate(5.0))
        ],
        "consumers": [group_member("c", "g", 80.0)],
        "script": [
            at(3000.0, cmd::crash("c")),
            at(6000.0, cmd::restart("c")),
            at(7000.0, json!({ "reset_offsets": { "group": "g", "to": { "timestamp_ms": 5000 } } })),
            at(8000.0, json!({ "add_group": { "group": { "name": "late", "topics": ["u"] } } }))
        ]
    }));
    let mut events = Vec::new();
    for t in (100..=12_000).step_by(100) {
        events.extend(s.advance_to(ms(t)));
        let snap = s.snapshot();
        for g in &snap.groups {
            let topics = &listed.iter().find(|(n, _)| *n == g.name).unwrap().1;
            let expected: u64 = topics
                .iter()
                .flat_map(|name| snap.topics.iter().filter(move |t| t.name == *name))
                .flat_map(|t| t.partitions.iter())
                .flat_map(|p| p.groups.iter().filter(|m| m.group == g.name))
                .map(|m| m.lag)
                .sum();
            assert_eq!(g.lag, expected, "{} at {t} ms", g.name);
        }
    }
    // Each path was taken.
    assert!(any_kind(&events, |k| matches!(
        k,
        EventKind::RetentionDeleted { .. }
    )));
    assert!(any_kind(&events, |k| matches!(
        k,
        EventKind::SessionExpired { .. }
    )));
    assert!(group(&s, "idle").lag > 0);
    assert!(group(&s, "late").lag > 0);
    let charted = s.charts().group_lag;
    assert_eq!(charted.len(), 3);
    assert!(charted.iter().all(|(_, points)| !points.is_empty()));
}

// ---------------------------------------------------------------- example scenarios
// scenarios/kafka/*.json, loaded as the headless runner does, each showing its rule.

/// Message ids in a partition, from the report (`topic/partition` → offset, msg).
fn partition_msgs(r: &broker_sim::report::Report, key: &str) -> Vec<u64> {
    r.partitions[key].iter().map(|(_, m)| m.0).collect()
}

fn report_group<'a>(r: &'a broker_sim::report::Report, name: &str) -> &'a GroupView {
    r.groups.iter().find(|g| g.name == name).unwrap()
}

#[test]
fn kaf_03_example_scenario() {
    let (_, _, r) = run_file(&example("kaf-03-keyed-partitioner.json"), 10_000);
    // Keys cycle foobar, abc, key: message i has key i % 3.
    let with_key = |k: u64| (0..12).filter(|i| i % 3 == k).collect::<Vec<u64>>();
    let mut p0 = partition_msgs(&r, "events/0");
    p0.sort_unstable();
    let mut foobar_abc: Vec<u64> = (0..12).filter(|i| i % 3 != 2).collect();
    foobar_abc.sort_unstable();
    assert_eq!(p0, foobar_abc);
    assert_eq!(partition_msgs(&r, "events/1"), with_key(2));
    assert!(partition_msgs(&r, "events/2").is_empty());
    assert_eq!(partition_msgs(&r, "events-4/2"), with_key(0));
    assert_eq!(partition_msgs(&r, "events-4/3"), with_key(1));
}

#[test]
fn kaf_06_example_scenario() {
    let (s, events, r) = run_file(
        &example("kaf-06-retention-overtakes-a-slow-group.json"),
        30_000,
    );
    assert!(r.ledger.removed_by_retention > 0);
    let resets = offset_resets(&events);
    assert!(!resets.is_empty(), "the slow member falls out of range");
    // Each reset lands on a log start that retention set.
    let starts: BTreeSet<u64> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::RetentionDeleted { log_start, .. } => Some(*log_start),
            _ => None,
        })
        .collect();
    assert!(
        resets.iter().all(|t| starts.contains(t)),
        "{resets:?} vs {starts:?}"
    );
    assert!(report_group(&r, "archive").skipped > 0);
    let read = processed_by(&events, &s, "archiver");
    assert!(read.windows(2).any(|w| w[1].offset > w[0].offset + 1));
}

#[test]
fn kaf_07_example_scenario() {
    let (s, events, r) = run_file(
        &example("kaf-07-compaction-keeps-the-latest-value.json"),
        30_000,
    );
    // 14 records 0.5 s apart (offsets 0..=13), two per 200-byte segment: 12 and 13 are in the
    // active segment and stay. In the closed ones the cleaner keeps u3's latest (10) and u1's
    // (11); u2's tombstone (7) deleted u2 and went itself 5 s after the cleaning that kept it.
    let read: Vec<u64> = offsets(&processed_by(&events, &s, "rebuild-1"));
    assert_eq!(read, [10, 11, 12, 13]);
    assert_eq!(r.ledger.removed_by_compaction, 10);
    assert_eq!(r.ledger.removed_by_retention, 0);
    assert!(any_kind(&events, |k| matches!(
        k,
        EventKind::Compacted { tombstones: 1, .. }
    )));
}

#[test]
fn kaf_08_example_scenario() {
    let (s, events, r) = run_file(&example("kaf-08-one-owner-per-partition.json"), 20_000);
    let own = owners(&s, "shipping");
    assert_eq!(own["ship-3"], []);
    assert_eq!(own.values().map(Vec::len).sum::<usize>(), 2);
    assert!(processed_by(&events, &s, "ship-3").is_empty());
    assert_eq!(report_group(&r, "shipping").processed, 100);
    assert_eq!(report_group(&r, "audit").processed, 100);
    assert_eq!(r.group_deliveries["auditor"].len(), 100);
}

#[test]
fn kaf_10_example_scenario() {
    let (_, events, _) = run_file(
        &example("kaf-10-crash-waits-for-session-timeout.json"),
        30_000,
    );
    let after_start: Vec<SimTime> = rebalance_starts(&events)
        .into_iter()
        .filter(|t| *t > ms(0))
        .collect();
    assert_eq!(
        after_start,
        [ms(5_000), ms(20_000)],
        "clean leave at 5 s; crash at 10 s noticed at 20 s"
    );
    assert_eq!(
        times(&events, |k| matches!(k, EventKind::SessionExpired { .. })),
        [ms(20_000)]
    );
}

#[test]
fn kaf_11_example_scenario() {
    let (s, events, _) = run_file(&example("kaf-11-eager-vs-cooperative.json"), 20_000);
    let members = |names: &[&str]| names.iter().map(|n| cid(&s, n)).collect::<BTreeSet<u32>>();
    let eager = members(&["eager-1", "eager-2", "eager-3"]);
    let coop = members(&["coop-1", "coop-2", "coop-3"]);
    let during = processed_between(&events, ms(10_050), ms(13_000));
    assert!(!during.iter().any(|p| eager.contains(&p.consumer)));
    let coop_partitions: BTreeSet<u32> = during
        .iter()
        .filter(|p| coop.contains(&p.consumer))
        .map(|p| p.partition)
        .collect();
    assert_eq!(
        coop_partitions.len(),
        3,
        "all but the moving partition keep flowing"
    );
}

#[test]
fn kaf_13_example_scenario() {
    let (s, events, r) = run_file(&example("kaf-13-auto-commit-vs-commit-first.json"), 40_000);
    let auto = report_group(&r, "auto");
    assert!(auto.duplicates > 100, "{auto:?}");
    assert_eq!(auto.skipped, 0);
    let first = report_group(&r, "commit-first");
    assert!(first.skipped > 0, "{first:?}");
    assert_eq!(first.duplicates, 0);
    // The auto group processed every record at least once.
    let ids = [cid(&s, "auto-a"), cid(&s, "auto-b")];
    let seen: BTreeSet<u64> = processed(&events)
        .iter()
        .filter(|p| ids.contains(&p.consumer))
        .map(|p| p.offset)
        .collect();
    assert_eq!(seen.len(), 1500);
}

#[test]
fn kaf_14_example_scenario() {
    let (_, _, r) = run_file(&example("kaf-14-manual-commit-duplicates.json"), 10_000);
    assert_eq!(r.groups[0].duplicates, 5);
    let dups = duplicate_offsets(&r, "worker-b");
    assert_eq!(dups, [10, 11, 12, 13, 14]);
}

#[test]
fn kaf_15_example_scenario() {
    let (_, _, r) = run_file(&example("kaf-15-earliest-vs-latest.json"), 15_000);
    let latest: Vec<u64> = r.group_deliveries["latest-reader"]
        .iter()
        .map(|d| d.msg.0)
        .collect();
    assert_eq!(latest.len(), 30);
    assert!(
        latest.iter().all(|m| *m >= 50),
        "only records written after joining"
    );
    assert_eq!(r.group_deliveries["earliest-reader"].len(), 80);
}

#[test]
fn kaf_16_example_scenario() {
    let (_, _, r) = run_file(&example("kaf-16-reset-offsets-replay.json"), 12_000);
    assert_eq!(r.group_deliveries["report-1"].len(), 40);
    let replay = &r.group_deliveries["report-2"];
    assert_eq!(replay.len(), 40);
    assert!(replay.iter().all(|d| !d.duplicate));
    let reporting = report_group(&r, "reporting");
    assert_eq!((reporting.processed, reporting.duplicates), (80, 0));
    assert_eq!(report_group(&r, "search").processed, 40);
    assert_eq!(r.group_deliveries["indexer"].len(), 40);
}

#[test]
fn kaf_18_example_scenario() {
    let (mut s, _, r) = run_file(&example("kaf-18-lag.json"), 10_000);
    let peak = report_group(&r, "indexers").lag;
    assert!(peak > 100, "one member falls behind: lag {peak}");
    run_ms(&mut s, 16_000);
    let shrinking = group(&s, "indexers").lag;
    run_ms(&mut s, 45_000);
    let end = group(&s, "indexers").lag;
    assert!(
        shrinking < peak + 60 && end < 10,
        "{peak} → {shrinking} → {end}"
    );
}
