//! What-if sweeps (issue 15 item 5): variants built from one parameter, run headless for a
//! fixed simulated duration, summarised per variant, next to queueing theory where it applies.

use broker_sim::snapshot::NodeRef;
use broker_sim::sweep::{to_csv, Param, SweepRun, VariantSummary};
use broker_sim::theory::{mmc, Model};
use broker_sim::{Scenario, SimTime, Simulation};

/// Long enough for several hundred services per consumer count, so C² and the means settle.
const DURATION: SimTime = SimTime::from_secs(600);
const SEED: u64 = 7;

fn ui_scenario(file: &str) -> Scenario {
    let path = format!("{}/../scenarios/ui/{file}", env!("CARGO_MANIFEST_DIR"));
    Scenario::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// λ = 8/s, exponential service of mean 200 ms (μ = 5/s), prefetch 1, no network latency.
fn mmc_lab() -> Scenario {
    ui_scenario("theory-lab.json")
}

fn consumers() -> Param {
    Param::Consumers {
        queue: "requests".into(),
    }
}

fn sweep(param: Param, values: &[f64]) -> Vec<VariantSummary> {
    SweepRun::new(&mmc_lab(), param, values, DURATION, SEED)
        .unwrap()
        .run_to_end()
}

#[test]
fn qt_3_sweep_over_consumers_1_to_4_lowers_p95_and_saturates_throughput() {
    let rows = sweep(consumers(), &[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(rows.len(), 4);
    for pair in rows.windows(2) {
        assert!(
            pair[1].p95_ms < pair[0].p95_ms,
            "p95 should fall from c={} to c={}: {rows:#?}",
            pair[0].value,
            pair[1].value
        );
    }
    // One consumer serves at most μ = 5/s of the 8/s offered; from two on, all 8/s get through.
    assert!(
        (4.5..5.5).contains(&rows[0].throughput_per_sec),
        "{rows:#?}"
    );
    for r in &rows[1..] {
        assert!((7.2..8.8).contains(&r.throughput_per_sec), "{rows:#?}");
    }
    let gain = |a: &VariantSummary, b: &VariantSummary| b.throughput_per_sec - a.throughput_per_sec;
    assert!(gain(&rows[2], &rows[3]) < 0.1 * gain(&rows[0], &rows[1]));
    assert!(rows.iter().all(|r| r.drops == 0 && !r.halted));
}

#[test]
fn qt_3_sweep_theory_column_is_erlang_c_for_each_consumer_count() {
    let rows = sweep(consumers(), &[1.0, 2.0, 3.0, 4.0]);
    // c = 1: ρ = 1.6, the queue grows without bound and no wait is predicted.
    assert_eq!(rows[0].wq_theory_ms, None);
    for r in &rows[1..] {
        let c = r.value as u32;
        // The column is theory.rs's Erlang C at the λ and μ this variant measured...
        let variant = consumers().apply(&mmc_lab(), r.value).unwrap();
        let mut sim = Simulation::new(&variant, SEED).unwrap();
        sim.advance_to(DURATION);
        let t = sim.theory(NodeRef::Queue(broker_sim::QueueId(0))).unwrap();
        assert_eq!(t.c, c);
        assert_eq!(r.model, Some(Model::Mmc), "{r:?}");
        let want = mmc(t.lambda.unwrap(), t.mu.unwrap(), c).unwrap().wq * 1e3;
        assert_eq!(r.wq_theory_ms, Some(want));
        // ...which is close to the nominal M/M/c with λ = 8, μ = 5 (0.356 s at c = 2).
        let nominal = mmc(8.0, 5.0, c).unwrap().wq * 1e3;
        assert!(
            (want - nominal).abs() <= 0.3 * nominal + 5.0,
            "c={c}: {want} ms vs nominal {nominal} ms"
        );
    }
}

#[test]
fn sweep_same_seed_twice_gives_the_same_table() {
    let values = [1.0, 2.0, 3.0];
    let a = to_csv(&consumers(), &sweep(consumers(), &values));
    let b = to_csv(&consumers(), &sweep(consumers(), &values));
    assert_eq!(a, b);
}

#[test]
fn sweep_in_chunks_equals_one_shot() {
    let values = [1.0, 2.0, 3.0];
    let one_shot = sweep(consumers(), &values);
    let mut run = SweepRun::new(&mmc_lab(), consumers(), &values, DURATION, SEED).unwrap();
    let mut steps = 0;
    let mut last = 0.0;
    loop {
        let p = run.step(97);
        assert!(p.fraction >= last, "progress never goes back");
        last = p.fraction;
        steps += 1;
        if p.finished() {
            break;
        }
    }
    assert!(steps > 100, "a small budget takes many steps: {steps}");
    assert_eq!(last, 1.0);
    assert_eq!(run.rows(), &one_shot[..]);
}

#[test]
fn sweep_rate_raises_throughput_and_latency() {
    let rate = Param::Rate {
        producer: "clients".into(),
    };
    let rows = sweep(rate, &[2.0, 6.0, 9.0]);
    for pair in rows.windows(2) {
        assert!(pair[1].throughput_per_sec > pair[0].throughput_per_sec);
        assert!(pair[1].p95_ms > pair[0].p95_ms, "{rows:#?}");
    }
    // The only queue consumers read is the theory queue.
    assert!(rows.iter().all(|r| r.wq_theory_ms.is_some()), "{rows:#?}");
}

#[test]
fn rmq_9_sweep_prefetch_sets_every_consumer_on_the_queue() {
    let p = Param::Prefetch {
        queue: "requests".into(),
    };
    let s = p.apply(&mmc_lab(), 50.0).unwrap();
    assert!(s.consumers.iter().all(|c| c.prefetch == 50));
    // With prefetch 50, a consumer holds a backlog of its own: it waits behind the consumer's
    // own service rather than the shared queue's, so latency rises (the shared queue beats two
    // separate ones, QT-5).
    let rows = sweep(p, &[1.0, 50.0]);
    assert!(rows[1].p95_ms > rows[0].p95_ms, "{rows:#?}");
}

#[test]
fn sweep_partitions_sets_the_topic_partition_count() {
    let base = ui_scenario("kafka-lag-lab.json");
    let p = Param::Partitions {
        topic: "events".into(),
    };
    assert!(Param::candidates(&base).contains(&p));
    let rows = SweepRun::new(&base, p.clone(), &[1.0, 4.0], SimTime::from_secs(60), SEED)
        .unwrap()
        .run_to_end();
    for r in &rows {
        assert!((18.0..22.0).contains(&r.throughput_per_sec), "{rows:#?}");
        assert_eq!(r.wq_theory_ms, None, "a log is not a queue");
    }
    let four = p.apply(&base, 4.0).unwrap();
    let sim = Simulation::new(&four, SEED).unwrap();
    assert_eq!(sim.snapshot().topics[0].partitions.len(), 4);
}

#[test]
fn sweep_consumer_variants_trim_or_clone_the_queue_readers() {
    let base = mmc_lab();
    let one = consumers().apply(&base, 1.0).unwrap();
    assert_eq!(one.consumers.len(), 1);
    let five = consumers().apply(&base, 5.0).unwrap();
    let names: Vec<&str> = five.consumers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "worker-1",
            "worker-2",
            "worker-2-3",
            "worker-2-4",
            "worker-2-5"
        ]
    );
    assert!(consumers().apply(&base, 0.0).is_err());
    assert!(consumers().apply(&base, 1.5).is_err());
    assert!(SweepRun::new(&base, consumers(), &[2.0, 0.0], DURATION, SEED).is_err());
}

#[test]
fn sweep_candidates_list_the_queue_and_rate_parameters() {
    assert_eq!(
        Param::candidates(&mmc_lab()),
        [
            consumers(),
            Param::Prefetch {
                queue: "requests".into()
            },
            Param::Rate {
                producer: "clients".into()
            },
        ]
    );
}
