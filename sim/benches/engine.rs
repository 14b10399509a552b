//! Engine benchmarks (criterion; `harness = false`).
//!
//! - `throughput/1M_messages`: events per second of a whole run in which a constant producer
//!   publishes 1,000,000 messages into one queue drained by 4 consumers (prefetch 10, manual
//!   acks). Trace events are counted from `advance_to`'s return values; the run is driven in
//!   10 ms slices of simulated time, as the UI does per frame.
//! - bytes per queued message: 1,000,000 ready messages in a queue with no consumer, measured
//!   with a counting global allocator (live heap bytes after minus before). Printed before the
//!   criterion groups, and the fill itself is timed as `fill/1M_ready_messages`.
//!
//! - `kafka/1M_records`: events per second while 1,000,000 keyed records are appended to a
//!   12-partition topic (retention off) and a group of 4 consumers processes them all; and bytes
//!   of core state per retained record (the same records, no group), by the counting allocator.
//!
//! - `robustness_kafka`: robustness F3 and the largest Kafka topology. `idle_year_1024_partitions`
//!   runs a simulated year of one 1,024-partition topic checked every 1 ms with nothing
//!   published; `largest_setup` builds `benches/scenarios/kafka-largest.json` (256 topics of
//!   1,024 partitions, one group of 256 members) and runs until its rebalance is done;
//!   `largest_report` builds the runner's summary report of that state.
//!
//! `cargo bench -p broker-sim --bench engine -- --warm-up-time 1 --measurement-time 5`
//!
//! The bench profile has `debug_assertions` off, so the per-event ledger audit does not run.
//! Under `cargo test --benches` (no `--bench` argument) the sizes drop to 10,000 messages so the
//! smoke run stays quick in a debug build.

use broker_sim::{Scenario, SimTime, Simulation};
use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::Instant;

// ------------------------------------------------------------------ counting allocator

/// Counts live heap bytes while `COUNTING` is on; otherwise costs one relaxed load.
struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn count(delta: isize) {
    if COUNTING.load(Ordering::Relaxed) {
        let now = LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded to `System` unchanged; only counters are updated.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

// ------------------------------------------------------------------ scenarios

/// Whether this is a real `cargo bench` run (cargo passes `--bench`) or a `cargo test` smoke run.
fn benching() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn messages() -> u64 {
    if benching() {
        1_000_000
    } else {
        10_000
    }
}

/// 100,000 msg/s (the simulator's rate cap) into `work`, 4 consumers with prefetch 10 and 20 µs
/// of processing each (capacity 200,000/s), 1 ms one-way latency.
fn throughput_scenario(n: u64) -> Scenario {
    let consumers: Vec<_> = (0..4)
        .map(|i| {
            serde_json::json!({
                "name": format!("c{i}"),
                "source": { "queue": "work" },
                "prefetch": 10,
                "processing": { "kind": "fixed", "ms": 0.02 },
            })
        })
        .collect();
    let json = serde_json::json!({
        "version": 1,
        "latency_ms": 1,
        "queues": [{ "name": "work" }],
        "producers": [{
            "name": "load",
            "targets": [{ "exchange": "" }],
            "rate": { "kind": "constant", "per_sec": 100000 },
            "message": { "routing_keys": ["work"] },
            "limit": n,
        }],
        "consumers": consumers,
    });
    Scenario::from_json(&json.to_string()).expect("bench scenario")
}

/// `n` messages into a queue nobody consumes: at a constant 100,000/s, or as one burst.
fn fill_scenario(n: u64, burst: bool) -> Scenario {
    let rate = if burst {
        serde_json::json!({ "kind": "burst", "count": n, "at_ms": 0 })
    } else {
        serde_json::json!({ "kind": "constant", "per_sec": 100000 })
    };
    let json = serde_json::json!({
        "version": 1,
        "latency_ms": 1,
        "queues": [{ "name": "backlog" }],
        "producers": [{
            "name": "load",
            "targets": [{ "exchange": "" }],
            "rate": rate,
            "message": { "routing_keys": ["backlog"] },
            "limit": n,
        }],
    });
    Scenario::from_json(&json.to_string()).expect("bench scenario")
}

/// `n` keyed records at 100,000/s into a 12-partition topic that keeps everything; with
/// `group`, a group of 4 members (commit after every 100 records) reads them all.
fn kafka_scenario(n: u64, group: bool) -> Scenario {
    let keys: Vec<String> = (0..64).map(|k| format!("customer-{k}")).collect();
    let mut json = serde_json::json!({
        "version": 1,
        "latency_ms": 1,
        "topics": [{
            "name": "events", "partitions": 12, "retention_ms": -1,
            "retention_check_interval_ms": 3_600_000
        }],
        "producers": [{
            "name": "load",
            "targets": [{ "topic": "events" }],
            "rate": { "kind": "constant", "per_sec": 100000 },
            "message": { "keys": keys, "size_bytes": 200 },
            "limit": n,
        }],
    });
    if group {
        json["groups"] = serde_json::json!([{
            "name": "readers", "topics": ["events"], "auto_offset_reset": "earliest",
            "commit": { "kind": "after_processing", "every": 100 }, "rebalance_ms": 10
        }]);
        json["consumers"] = (0..4)
            .map(|i| {
                serde_json::json!({
                    "name": format!("r{i}"),
                    "source": { "group": "readers" },
                    "processing": { "kind": "fixed", "ms": 0.01 },
                })
            })
            .collect();
    }
    Scenario::from_json(&json.to_string()).expect("bench scenario")
}

/// Runs a Kafka scenario in 10 ms slices until `n` records are retained and, with a group,
/// processed; returns the trace events.
fn run_kafka(sim: &mut Simulation, n: u64, group: bool) -> u64 {
    let (mut events, mut processed) = (0u64, 0u64);
    let mut t = SimTime::ZERO;
    while sim.ledger().retained < n || (group && processed < n) {
        t = t.plus(10_000);
        let batch = sim.advance_to(t);
        processed += batch
            .iter()
            .filter(|e| matches!(e.kind, broker_sim::EventKind::RecordProcessed { .. }))
            .count() as u64;
        events += batch.len() as u64;
    }
    events
}

fn kafka_sim(scenario: &Scenario) -> Simulation {
    let mut sim = Simulation::new(scenario, 1).expect("valid");
    // Headless throughput, as the runner measures it: nothing is drawn.
    sim.set_track_transits(false);
    sim
}

fn kafka_report() {
    let n = messages();
    let scenario = kafka_scenario(n, false);
    COUNTING.store(true, Ordering::Relaxed);
    let before = live();
    let mut sim = kafka_sim(&scenario);
    run_kafka(&mut sim, n, false);
    let after = live();
    COUNTING.store(false, Ordering::Relaxed);
    assert_eq!(sim.ledger().retained, n);
    println!(
        "kafka memory: {n} records retained in 12 partitions: {:.1} bytes of core state per record (size_of::<Record>() = {})",
        (after - before) as f64 / n as f64,
        std::mem::size_of::<broker_sim::log::Record>()
    );
    drop(black_box(sim));
    let scenario = kafka_scenario(n, true);
    let mut sim = kafka_sim(&scenario);
    let start = Instant::now();
    let events = run_kafka(&mut sim, n, true);
    let secs = start.elapsed().as_secs_f64();
    println!(
        "kafka throughput (single run): {events} events for {n} records appended and processed in {secs:.3} s = {:.2} M events/s",
        events as f64 / secs / 1e6
    );
}

fn bench_kafka(c: &mut Criterion) {
    let n = messages();
    let scenario = kafka_scenario(n, true);
    let events = run_kafka(&mut kafka_sim(&scenario), n, true);
    let mut group = c.benchmark_group("kafka");
    group.sample_size(10);
    group.throughput(Throughput::Elements(events));
    group.bench_function(BenchmarkId::new("events", format!("{n}_records")), |b| {
        b.iter(|| black_box(run_kafka(&mut kafka_sim(&scenario), n, true)))
    });
    group.finish();
}

/// Runs to completion in 10 ms slices; returns (trace events, slices).
fn run_to_end(sim: &mut Simulation) -> (u64, u64) {
    let mut events = 0u64;
    let mut slices = 0u64;
    let mut t = SimTime::ZERO;
    while sim.next_event_time().is_some() {
        t = t.plus(10_000);
        events += sim.advance_to(t).len() as u64;
        slices += 1;
    }
    (events, slices)
}

fn fill(scenario: &Scenario) -> Simulation {
    let mut sim = Simulation::new(scenario, 1).expect("valid");
    // Headless throughput, as the runner measures it: nothing is drawn.
    sim.set_track_transits(false);
    run_to_end(&mut sim);
    sim
}

// ------------------------------------------------------------------ memory report

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// Heap bytes per ready message after filling a queue with `n` messages.
fn bytes_per_message(n: u64, burst: bool) -> (f64, f64) {
    let scenario = fill_scenario(n, burst);
    COUNTING.store(true, Ordering::Relaxed);
    let before = live();
    PEAK.store(before, Ordering::Relaxed);
    let sim = fill(&scenario);
    let after = live();
    let peak = PEAK.load(Ordering::Relaxed);
    COUNTING.store(false, Ordering::Relaxed);
    assert_eq!(sim.ledger().ready, n, "every message is ready");
    drop(black_box(sim));
    (
        (after - before) as f64 / n as f64,
        (peak - before) as f64 / n as f64,
    )
}

fn memory_report() {
    let n = messages();
    println!(
        "memory: size_of::<MessageCopy>() = {} bytes; a queue entry (seq, slot) = 16 bytes",
        std::mem::size_of::<broker_sim::message::MessageCopy>()
    );
    for burst in [false, true] {
        let how = if burst {
            "one burst"
        } else {
            "constant 100,000/s"
        };
        let (held, peak) = bytes_per_message(n, burst);
        println!(
            "memory: {n} ready messages ({how}): {held:.1} heap bytes per message held, {peak:.1} at peak"
        );
    }
    let scenario = throughput_scenario(n);
    let mut sim = Simulation::new(&scenario, 1).expect("valid");
    // Headless throughput, as the runner measures it: nothing is drawn.
    sim.set_track_transits(false);
    let start = Instant::now();
    let (events, slices) = run_to_end(&mut sim);
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(sim.ledger().acked, n);
    println!(
        "throughput (single run): {events} events for {n} messages in {secs:.3} s = {:.2} M events/s, {:.2} M messages/s ({slices} advance_to slices)",
        events as f64 / secs / 1e6,
        n as f64 / secs / 1e6,
    );
}

// ------------------------------------------------------------------ criterion

fn bench_throughput(c: &mut Criterion) {
    let n = messages();
    let scenario = throughput_scenario(n);
    let mut probe = Simulation::new(&scenario, 1).expect("valid");
    // Headless throughput, as the runner measures it: nothing is drawn.
    probe.set_track_transits(false);
    let (events, _) = run_to_end(&mut probe);
    let mut group = c.benchmark_group("throughput");
    group.sample_size(10);
    group.throughput(Throughput::Elements(events));
    group.bench_function(BenchmarkId::new("events", format!("{n}_messages")), |b| {
        b.iter(|| {
            let mut sim = Simulation::new(&scenario, 1).expect("valid");
            // Headless throughput, as the runner measures it: nothing is drawn.
            sim.set_track_transits(false);
            black_box(run_to_end(&mut sim))
        })
    });
    group.finish();
}

fn bench_fill(c: &mut Criterion) {
    let n = messages();
    let scenario = fill_scenario(n, false);
    let mut group = c.benchmark_group("fill");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n));
    group.bench_function(
        BenchmarkId::new("ready_messages", format!("{n}_messages")),
        |b| b.iter(|| black_box(fill(&scenario))),
    );
    group.finish();
}

/// The largest allowed Kafka topology; under `cargo test --benches`, 16 topics × 64 partitions
/// and 16 members instead.
fn largest_kafka_scenario() -> Scenario {
    if benching() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/benches/scenarios/kafka-largest.json"
        );
        let text = std::fs::read_to_string(path).expect("kafka-largest.json");
        return Scenario::from_json(&text).expect("bench scenario");
    }
    let topics: Vec<String> = (0..16).map(|t| format!("t{t:03}")).collect();
    let json = serde_json::json!({
        "version": 1,
        "topics": topics.iter().map(|t| serde_json::json!({ "name": t, "partitions": 64 })).collect::<Vec<_>>(),
        "groups": [{ "name": "g", "topics": topics }],
        "consumers": (0..16).map(|i| serde_json::json!({
            "name": format!("m{i:03}"), "source": { "group": "g" },
            "processing": { "kind": "fixed", "ms": 1 }
        })).collect::<Vec<_>>(),
    });
    Scenario::from_json(&json.to_string()).expect("bench scenario")
}

/// Builds the topology and runs past its rebalance (1 s), as the runner does.
fn largest_kafka_sim(scenario: &Scenario) -> Simulation {
    let mut sim = Simulation::new(scenario, 1).expect("valid");
    sim.set_track_transits(false);
    sim.advance_to(SimTime::from_secs(2));
    sim
}

fn bench_robustness(c: &mut Criterion) {
    let mut group = c.benchmark_group("robustness_kafka");
    group.sample_size(10);
    let idle = Scenario::from_json(
        r#"{ "version": 1, "topics": [{ "name": "t", "partitions": 1024, "retention_check_interval_ms": 1 }] }"#,
    )
    .expect("bench scenario");
    group.bench_function("idle_year_1024_partitions", |b| {
        b.iter(|| {
            let mut sim = Simulation::new(&idle, 1).expect("valid");
            black_box(sim.advance_to(SimTime::from_secs(365 * 24 * 3600)))
        })
    });
    let largest = largest_kafka_scenario();
    group.bench_function("largest_setup", |b| {
        b.iter(|| black_box(largest_kafka_sim(&largest)))
    });
    let sim = largest_kafka_sim(&largest);
    let tally = broker_sim::report::EventTally::default();
    group.bench_function("largest_report", |b| {
        b.iter(|| black_box(sim.report_from(1, &tally, false)))
    });
    group.finish();
}

criterion_group!(
    benches,
    bench_throughput,
    bench_fill,
    bench_kafka,
    bench_robustness
);

fn main() {
    memory_report();
    kafka_report();
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
