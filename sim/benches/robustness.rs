//! Robustness benchmarks (criterion; `harness = false`): the reproducers of
//! `sim/tests/robustness/` that used to hang, timed now that they do not.
//!
//! - `robustness/requeue_after_crash/N`: N messages delivered alternately to two consumers,
//!   both crash, and all N go back to the queue in publish order (F1). Quadratic before the
//!   fix (1M took 18 s); the figure per N shows the growth.
//! - `robustness/zero_time_loop_halts`: latency 0, processing 0 and a poison message that is
//!   always requeued (F2): the run halts with a named reason instead of hanging.
//! - `robustness/idle_wave_one_day`: a square wave idle at 0/s for a simulated day.
//!
//! `cargo bench -p broker-sim --bench robustness -- --warm-up-time 1 --measurement-time 5`
//! Under `cargo test --benches` the sizes drop so the smoke run stays quick.

use broker_sim::{Scenario, SimTime, Simulation};
use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/robustness/");

fn benching() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn reproducer(name: &str) -> Scenario {
    let bytes = std::fs::read(format!("{DIR}{name}")).expect("reproducer file");
    Scenario::from_bytes(&bytes).expect("valid reproducer")
}

fn run(scenario: &Scenario, until: SimTime) -> Simulation {
    let mut sim = Simulation::new(scenario, 1).expect("valid");
    sim.set_track_transits(false);
    sim.advance_into(until, usize::MAX, &mut Vec::new());
    sim
}

fn bench_requeue(c: &mut Criterion) {
    let sizes: &[u64] = if benching() {
        &[250_000, 500_000, 1_000_000]
    } else {
        &[1_000]
    };
    let mut group = c.benchmark_group("robustness");
    group.sample_size(10);
    for &n in sizes {
        let mut s = reproducer("F1-timeout-quadratic-requeue.json");
        s.producers[0].rate = broker_sim::scenario::RatePattern::Burst {
            count: n,
            at_ms: 100.0,
        };
        group.throughput(Throughput::Elements(n));
        group.bench_with_input(BenchmarkId::new("requeue_after_crash", n), &s, |b, s| {
            b.iter(|| {
                let sim = run(s, SimTime::from_secs(1));
                assert_eq!(sim.ledger().ready, n);
                black_box(sim.ledger().ready)
            })
        });
    }
    group.finish();
}

fn bench_loops_and_idle(c: &mut Criterion) {
    let mut group = c.benchmark_group("robustness");
    let f2 = reproducer("F2-timeout-zero-time-livelock.json");
    group.bench_function("zero_time_loop_halts", |b| {
        b.iter(|| {
            let sim = run(&f2, SimTime::from_millis(1));
            assert!(sim.halted().is_some());
            black_box(sim.work_done())
        })
    });
    let wave: Scenario = Scenario::from_json(
        r#"{"version":1,"queues":[{"name":"q"}],
        "producers":[{"name":"p","targets":[{"exchange":""}],
          "rate":{"kind":"square","high_per_sec":0,"low_per_sec":0,"period_ms":100,"duty":0.5},
          "message":{"routing_keys":["q"]}}]}"#,
    )
    .expect("valid");
    group.bench_function("idle_wave_one_day", |b| {
        b.iter(|| black_box(run(&wave, SimTime::from_secs(86_400)).work_done()))
    });
    group.finish();
}

criterion_group!(benches, bench_requeue, bench_loops_and_idle);

fn main() {
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
