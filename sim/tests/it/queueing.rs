//! QT-1..QT-4 (`reference/semantics.md` §8): the load model against queueing theory.
//!
//! Model (QT-5): one classic queue on the default exchange, one Poisson producer, `c` consumers
//! with prefetch 1 and manual acks, exponential (or fixed) processing, and `"latency_ms": 0` so
//! the delivery and ack round trips take no time. A consumer then holds a message from its
//! delivery until its ack, exactly like a server in M/M/c, and the broker hands the next message
//! out the instant the ack arrives.
//!
//! Measurement, from the events only (`Event::time` and `Event::kind`):
//! - Wq = `Delivered` − `Enqueued`, W = `Settled` − `Enqueued`, per message, in publish order;
//! - L, Lq and busy servers are time averages of Ready + Unacked, Ready and Unacked, integrated
//!   event by event; the event-derived counts are checked against the ledger between chunks.
//!
//! The first [`WARMUP`] messages are discarded (the run starts empty). The uncertainty is the
//! batch-means standard error over [`BATCHES`] consecutive batches of messages. The seed is
//! fixed, so every run gives the same numbers; the tolerances below are set from the measured
//! standard errors (each is at least ~3 SE) so that a change of seed would not break them either.
//! The figures are recorded in `docs/performance.md`.

use crate::helpers::assert_no_leaks;
use broker_sim::snapshot::{NodeRef, StoreTheory};
use broker_sim::theory::{erlang_c, Model as Formula};
use broker_sim::{EventKind, QueueId, Scenario, Settle, SimTime, Simulation};

/// Messages discarded at the start, while the queue fills from empty to its steady state.
const WARMUP: usize = 10_000;
/// Batches for the batch-means standard error.
const BATCHES: usize = 100;
/// Simulated time advanced per chunk, so the event list of a chunk stays small.
const CHUNK: SimTime = SimTime::from_secs(500);

#[derive(Clone, Copy, Debug)]
enum Service {
    Exponential,
    Fixed,
}

#[derive(Clone, Copy, Debug)]
struct Model {
    /// λ, arrivals per second.
    lambda: f64,
    /// μ, services per second per consumer.
    mu: f64,
    /// c, consumers.
    c: u32,
    service: Service,
}

impl Model {
    fn scenario(&self, messages: usize) -> Scenario {
        let mean_ms = 1_000.0 / self.mu;
        let processing = match self.service {
            Service::Exponential => {
                serde_json::json!({ "kind": "exponential", "mean_ms": mean_ms })
            }
            Service::Fixed => serde_json::json!({ "kind": "fixed", "ms": mean_ms }),
        };
        let consumers: Vec<_> = (0..self.c)
            .map(|i| {
                serde_json::json!({
                    "name": format!("server{i}"),
                    "source": { "queue": "q" },
                    "prefetch": 1,
                    "ack": "manual",
                    "processing": processing,
                })
            })
            .collect();
        let json = serde_json::json!({
            "version": 1,
            "latency_ms": 0,
            "queues": [{ "name": "q" }],
            "producers": [{
                "name": "arrivals",
                "targets": [{ "exchange": "" }],
                "rate": { "kind": "poisson", "per_sec": self.lambda },
                "message": { "routing_keys": ["q"] },
                "limit": messages,
            }],
            "consumers": consumers,
        });
        Scenario::from_json(&json.to_string()).unwrap_or_else(|e| panic!("model scenario: {e}"))
    }
}

/// Mean and batch-means standard error of a series taken in arrival order.
#[derive(Clone, Copy, Debug)]
struct Estimate {
    mean: f64,
    se: f64,
}

impl Estimate {
    fn of(xs: &[f64]) -> Estimate {
        let n = xs.len();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let size = n / BATCHES;
        let batch_means: Vec<f64> = xs
            .chunks_exact(size)
            .take(BATCHES)
            .map(|b| b.iter().sum::<f64>() / size as f64)
            .collect();
        let bm = batch_means.iter().sum::<f64>() / BATCHES as f64;
        let var = batch_means.iter().map(|m| (m - bm).powi(2)).sum::<f64>() / (BATCHES - 1) as f64;
        Estimate {
            mean,
            se: (var / BATCHES as f64).sqrt(),
        }
    }

    /// Asserts `|mean - expected| <= rel_tol * expected` and prints the figures.
    fn check(&self, what: &str, expected: f64, rel_tol: f64) {
        let err = (self.mean - expected) / expected;
        println!(
            "{what}: measured {:.5} (batch-means SE {:.5}, {:.2}% of theory), theory {expected:.5}, error {:+.2}% (tolerance ±{:.0}%)",
            self.mean,
            self.se,
            100.0 * self.se / expected,
            100.0 * err,
            100.0 * rel_tol
        );
        // The tolerance must stay meaningful: at least 3 standard errors of this run.
        assert!(
            rel_tol * expected >= 3.0 * self.se,
            "{what}: ±{:.0}% is under 3 SE ({:.5}); lengthen the run",
            100.0 * rel_tol,
            self.se
        );
        assert!(
            err.abs() <= rel_tol,
            "{what}: measured {:.5} vs theory {expected:.5}: {:+.2}% is outside ±{:.0}%",
            self.mean,
            100.0 * err,
            100.0 * rel_tol
        );
    }
}

/// Everything measured from one run.
#[derive(Debug)]
struct Measured {
    /// Time in queue (Enqueued → Delivered), seconds, per message after the warm-up.
    wq: Estimate,
    /// Time in system (Enqueued → Settled ack), seconds.
    w: Estimate,
    /// Fraction of messages that had to wait at all (Erlang C).
    p_wait: f64,
    /// Observed arrival rate over the measurement window.
    lambda: f64,
    /// Time averages over the window [first counted arrival, last counted arrival].
    l: f64,
    lq: f64,
    busy: f64,
    /// Mean W of the messages that arrived in that window (for Little's law on the same window).
    w_window: f64,
    wq_window: f64,
    /// What the inspector's theory section shows for the queue at the end of the run.
    theory: StoreTheory,
}

/// Runs the model until `messages` have been published and all of them acked.
fn measure(model: Model, messages: usize, seed: u64) -> Measured {
    let mut sim = Simulation::new(&model.scenario(messages), seed).expect("valid scenario");
    // Short runs (the theory view's) keep their second half.
    let warmup = WARMUP.min(messages / 2);
    const NONE: u64 = u64::MAX;
    let mut enq = vec![NONE; messages];
    let mut deq = vec![NONE; messages];
    let mut done = vec![NONE; messages];
    // Counts rebuilt from events, and their integrals over the window.
    let (mut ready, mut unacked) = (0u64, 0u64);
    let (mut area_ready, mut area_unacked) = (0f64, 0f64);
    let mut window: Option<(u64, u64)> = None;
    let mut last_t = 0u64;
    let mut until = SimTime::ZERO;
    while sim.next_event_time().is_some() {
        until = until.plus(CHUNK.micros());
        for e in sim.advance_to(until) {
            let t = e.time.micros();
            assert!(t >= last_t, "event times must not go backwards");
            if let Some((from, to)) = window {
                let (a, b) = (last_t.clamp(from, to), t.clamp(from, to));
                area_ready += ready as f64 * (b - a) as f64;
                area_unacked += unacked as f64 * (b - a) as f64;
            }
            last_t = t;
            match e.kind {
                EventKind::Enqueued { msg, .. } => {
                    let i = msg.0 as usize;
                    assert_eq!(enq[i], NONE, "m{i} enqueued twice");
                    enq[i] = t;
                    ready += 1;
                    if i == warmup {
                        // Window end: the last message's arrival, known in advance only as an
                        // index; close it when that message arrives (below).
                        window = Some((t, u64::MAX));
                    }
                    if i == messages - 1 {
                        window = window.map(|(from, _)| (from, t));
                    }
                }
                EventKind::Delivered {
                    msg, redelivered, ..
                } => {
                    assert!(!redelivered, "nothing fails, so nothing is redelivered");
                    deq[msg.0 as usize] = t;
                    ready -= 1;
                    unacked += 1;
                }
                EventKind::Settled { msg, settle, .. } => {
                    assert_eq!(settle, Settle::Ack);
                    done[msg.0 as usize] = t;
                    unacked -= 1;
                }
                EventKind::Published { .. }
                | EventKind::Routed { .. }
                | EventKind::Processed { .. } => {}
                other => panic!("unexpected event in a plain M/M/c run: {other:?}"),
            }
        }
        // The event-derived counts are the queue's counters (RMQ-34: Total = Ready + Unacked).
        let l = sim.ledger();
        assert_eq!((ready, unacked), (l.ready, l.unacked), "at {}", sim.now());
    }
    assert_no_leaks(&sim);
    assert_eq!(sim.ledger().acked, messages as u64);

    let secs = |us: u64| us as f64 / 1e6;
    let counted = warmup..messages;
    let wq: Vec<f64> = counted.clone().map(|i| secs(deq[i] - enq[i])).collect();
    let w: Vec<f64> = counted.clone().map(|i| secs(done[i] - enq[i])).collect();
    // The store's meter measures the same waits from the copies' states as the events show.
    let theory = sim.theory(NodeRef::Queue(QueueId(0))).expect("a queue");
    let all_wq = (0..messages).map(|i| secs(deq[i] - enq[i])).sum::<f64>() / messages as f64;
    assert_eq!(
        (theory.arrivals, theory.services),
        (messages as u64, messages as u64)
    );
    assert!(
        (theory.wq.expect("waits") - all_wq).abs() < 1e-9,
        "meter Wq vs events"
    );
    let (from, to) = window.expect("window closed");
    let span = secs(to - from);
    Measured {
        wq: Estimate::of(&wq),
        w: Estimate::of(&w),
        p_wait: wq.iter().filter(|x| **x > 0.0).count() as f64 / wq.len() as f64,
        lambda: (counted.len() - 1) as f64 / span,
        l: (area_ready + area_unacked) / 1e6 / span,
        lq: area_ready / 1e6 / span,
        busy: area_unacked / 1e6 / span,
        w_window: w.iter().sum::<f64>() / w.len() as f64,
        wq_window: wq.iter().sum::<f64>() / wq.len() as f64,
        theory,
    }
}

#[test]
fn qt_00_erlang_c_matches_the_reference_values() {
    // QT-3's worked examples, to 4 digits as printed.
    assert!((erlang_c(2.0, 1.0 / 3.0, 10) - 0.1013).abs() < 5e-5);
    assert!((erlang_c(8.0, 5.0, 2) - 0.7111).abs() < 5e-5);
    // c = 1 reduces to M/M/1: P(wait) = ρ.
    assert!((erlang_c(8.0, 10.0, 1) - 0.8).abs() < 1e-12);
}

/// QT-1 Little's law on the simulator's own counters: the time-average of Ready + Unacked equals
/// arrival rate × mean time in system over the same window, Ready alone equals λ·Wq, and the
/// mean number of busy consumers (Unacked) equals λ/μ.
///
/// Over a window, L̄ and λ̂·Ŵ differ only by the messages straddling its two ends (a handful out
/// of 190,000), so the first two checks are tight: 1%. The third compares with theory (λ/μ = 0.8)
/// and has a batch-means SE around 0.3%, so 3%.
#[test]
fn qt_01_littles_law_total_equals_publish_rate_times_time_in_queue() {
    let m = measure(
        Model {
            lambda: 8.0,
            mu: 10.0,
            c: 1,
            service: Service::Exponential,
        },
        200_000,
        11,
    );
    let l_little = m.lambda * m.w_window;
    let lq_little = m.lambda * m.wq_window;
    println!(
        "L = {:.4} vs λW = {l_little:.4}; Lq = {:.4} vs λWq = {lq_little:.4}; busy = {:.4} vs λ/μ = 0.8",
        m.l, m.lq, m.busy
    );
    assert!((m.l - l_little).abs() / l_little < 0.01, "L vs λW");
    assert!((m.lq - lq_little).abs() / lq_little < 0.01, "Lq vs λWq");
    assert!((m.busy - 0.8).abs() / 0.8 < 0.03, "busy servers vs λ/μ");
    // And against M/M/1 theory for L = ρ/(1−ρ) = 4 through the measured λ and W.
    assert!(
        (m.lambda - 8.0).abs() / 8.0 < 0.01,
        "arrival rate {}",
        m.lambda
    );
}

/// QT-2 M/M/1 with λ = 8/s, μ = 10/s: Wq = 0.4 s, W = 0.5 s (and L = 4, Lq = 3.2 by QT-1).
///
/// At ρ = 0.8 the waiting times are strongly autocorrelated: with 300,000 messages the
/// batch-means SE was 2.4% of Wq, too close to 5%, so this run has 600,000 (SE 1.2–1.6% of Wq
/// and W over seeds 1–6); the tolerance is 5% (≥ 3 SE). Six release runs of 4,000,000
/// messages averaged Wq = 0.3989 s (pooled SE 0.0009 s): no bias beyond noise.
#[test]
fn qt_02_mm1_waiting_and_system_times_match_theory() {
    let m = measure(
        Model {
            lambda: 8.0,
            mu: 10.0,
            c: 1,
            service: Service::Exponential,
        },
        600_000,
        2,
    );
    m.wq.check("M/M/1 Wq (s)", 0.4, 0.05);
    m.w.check("M/M/1 W (s)", 0.5, 0.05);
    println!("P(wait) = {:.4} (theory ρ = 0.8)", m.p_wait);
    assert!((m.p_wait - 0.8).abs() < 0.01);
}

/// QT-3 M/M/c (Erlang C), first worked example: λ = 8, μ = 5, c = 2 (ρ = 0.8): Wq = 0.3556 s,
/// W = 0.5556 s, C = 0.7111. Same autocorrelation as M/M/1 at ρ = 0.8, so 600,000 messages; the
/// SE of Wq is 1.4–1.7% of theory over seeds 1–6, so Wq's tolerance is 6% and W's (SE ≤ 1.1%)
/// 5%. Six release runs of 4,000,000 messages averaged Wq = 0.3551 s (pooled SE 0.0009 s).
#[test]
fn qt_03_mmc_erlang_c_two_consumers_match_theory() {
    let c2 = Model {
        lambda: 8.0,
        mu: 5.0,
        c: 2,
        service: Service::Exponential,
    };
    let m = measure(c2, 600_000, 3);
    let c = erlang_c(8.0, 5.0, 2);
    let wq = c / (2.0 * 5.0 - 8.0);
    m.wq.check("M/M/2 Wq (s)", wq, 0.06);
    m.w.check("M/M/2 W (s)", wq + 0.2, 0.05);
    println!("M/M/2 P(wait) = {:.4} (Erlang C {c:.4})", m.p_wait);
    assert!((m.p_wait - c).abs() < 0.02);
    // QT-5: two separate M/M/1 queues at λ/2 would wait 0.8 s; one shared queue must be well below.
    assert!(
        m.wq.mean < 0.5,
        "a shared queue with prefetch 1 is M/M/2, not 2 × M/M/1"
    );
}

/// QT-3 M/M/c (Erlang C), second worked example: λ = 2, μ = 1/3, c = 10 (ρ = 0.6):
/// Wq = 0.0760 s, C = 0.1013. Only one message in ten waits and Wq is small against the 3 s
/// service time, so Wq's relative SE is larger (3.4% with 300,000 messages, about 3% with
/// 400,000); its tolerance is 10%. W = Wq + 3 s is checked at 1%.
#[test]
fn qt_03_mmc_erlang_c_ten_consumers_match_theory() {
    let c10 = Model {
        lambda: 2.0,
        mu: 1.0 / 3.0,
        c: 10,
        service: Service::Exponential,
    };
    let m = measure(c10, 400_000, 4);
    let c = erlang_c(2.0, 1.0 / 3.0, 10);
    let wq = c / (10.0 / 3.0 - 2.0);
    m.wq.check("M/M/10 Wq (s)", wq, 0.10);
    m.w.check("M/M/10 W (s)", wq + 3.0, 0.01);
    println!("M/M/10 P(wait) = {:.4} (Erlang C {c:.4})", m.p_wait);
    assert!((m.p_wait - c).abs() < 0.01);
}

/// QT-4 M/D/1 (Pollaczek–Khinchine with C_s² = 0) with λ = 8/s and a fixed 100 ms service:
/// Wq = 0.2 s (half of M/M/1) and W = 0.3 s (not half). The SE is about 1.2% of Wq; 5%.
#[test]
fn qt_04_md1_pollaczek_khinchine_matches_theory() {
    let m = measure(
        Model {
            lambda: 8.0,
            mu: 10.0,
            c: 1,
            service: Service::Fixed,
        },
        300_000,
        5,
    );
    m.wq.check("M/D/1 Wq (s)", 0.2, 0.05);
    m.w.check("M/D/1 W (s)", 0.3, 0.05);
}

/// QT-5 on screen: the queue's meter measures λ, μ, c and both C² from the run, picks the model
/// they call for, and that model's prediction lands near the observed wait (within its
/// batch-means band, widened by the prediction's own error from the measured λ and μ).
#[test]
fn qt_05_theory_view_picks_the_model_from_the_measured_variation() {
    for (service, c, mu, want) in [
        (Service::Exponential, 2, 5.0, Formula::Mmc),
        (Service::Fixed, 1, 10.0, Formula::Md1),
    ] {
        let model = Model {
            lambda: 8.0,
            mu,
            c,
            service,
        };
        let t = measure(model, 40_000, 7).theory;
        println!("{want:?}: {t:?}");
        assert_eq!((t.model, t.c), (Some(want), c));
        let (lambda, mu_m) = (t.lambda.unwrap(), t.mu.unwrap());
        assert!((lambda - 8.0).abs() < 0.08, "λ {lambda}");
        assert!((mu_m - mu).abs() < 0.05 * mu, "μ {mu_m}");
        assert!((t.ca2.unwrap() - 1.0).abs() < 0.05, "C_a² {:?}", t.ca2);
        let rho = t.rho.unwrap();
        assert!((rho - 0.8).abs() < 0.03, "ρ {rho}");
        let (obs, half) = t.wq_band.unwrap();
        let pred = t.predicted.unwrap().wq;
        assert!(
            (obs - pred).abs() < half + 0.1 * pred,
            "Wq observed {obs} ± {half}, predicted {pred}"
        );
        assert_eq!(t.growth_per_sec, None);
    }
    let t = measure(
        Model {
            lambda: 12.0,
            mu: 5.0,
            c: 2,
            service: Service::Exponential,
        },
        3_000,
        8,
    )
    .theory;
    assert!(t.rho.unwrap() > 1.1);
    assert_eq!(t.predicted, None);
    let g = t.growth_per_sec.unwrap();
    assert!((g - 2.0).abs() < 0.6, "grows by λ − cμ ≈ 2/s: {g}");
}

/// A Kafka group of two members on two round-robin partitions, Poisson 8/s and 200 ms
/// exponential processing. A partition is read by one member only, so the group is two queues
/// of λ = 4 each (arrivals every other one of a Poisson stream: C²ₐ ≈ 0.5), not one queue with
/// two servers: the prediction is Kingman's for one server per member, and the shared-queue
/// figure beside it is lower (QT-5, KAF-2).
#[test]
fn qt_5_kaf_2_a_consumer_group_is_one_queue_per_member_not_one_shared_queue() {
    let scenario = Scenario::from_json(
        &serde_json::json!({
            "version": 1,
            "title": { "en": "t", "ko": "t" },
            "latency_ms": 0,
            "topics": [{ "name": "events", "partitions": 2, "unkeyed": "round_robin" }],
            "groups": [{ "name": "g", "topics": ["events"], "auto_offset_reset": "earliest",
                "commit": { "kind": "after_processing", "every": 1 } }],
            "producers": [{ "name": "p", "targets": [{ "topic": "events" }],
                "rate": { "kind": "poisson", "per_sec": 8 } }],
            "consumers": [
                { "name": "a", "source": { "group": "g" }, "processing": { "kind": "exponential", "mean_ms": 200 } },
                { "name": "b", "source": { "group": "g" }, "processing": { "kind": "exponential", "mean_ms": 200 } }
            ]
        })
        .to_string(),
    )
    .unwrap();
    let mut sim = Simulation::new(&scenario, 7).unwrap();
    sim.advance_to(SimTime::from_secs(4_000));
    let topic = sim.snapshot().topics[0].id;
    let [group] = sim.reader_theory(NodeRef::Topic(topic)).try_into().unwrap();
    assert_eq!(group.reader, "g");
    let t = group.theory;
    let (l, u, a2, s2) = (
        t.lambda.unwrap(),
        t.mu.unwrap(),
        t.ca2.unwrap(),
        t.cs2.unwrap(),
    );
    assert_eq!(t.c, 2);
    assert!((l - 8.0).abs() < 0.3 && (u - 5.0).abs() < 0.2, "{t:?}");
    assert!((a2 - 0.5).abs() < 0.1, "every other Poisson arrival: {a2}");
    assert_eq!(t.model, Some(Formula::Ggc));
    let p = t.predicted.unwrap();
    let per_member = broker_sim::theory::kingman(l / 2.0, u, 1, a2, s2).unwrap();
    assert!((p.wq - per_member.wq).abs() < 0.02, "{p:?} {per_member:?}");
    let observed = t.wq.unwrap();
    assert!(
        (observed - p.wq).abs() / p.wq < 0.2,
        "observed {observed} predicted {}",
        p.wq
    );
    let shared = t.shared.unwrap();
    assert!(
        shared.wq < 0.6 * observed,
        "a shared queue would wait less: {shared:?}"
    );
    // One partition: its member is its one server, fed by λ/2.
    let [one] = sim
        .reader_theory(NodeRef::Partition(topic, 0))
        .try_into()
        .unwrap();
    let t = one.theory;
    assert_eq!(t.c, 1);
    assert!((t.lambda.unwrap() - 4.0).abs() < 0.2, "{t:?}");
    assert!((t.predicted.unwrap().wq - per_member.wq).abs() < 0.05);
    assert_no_leaks(&sim);
}

/// A Redis stream group read with `XREADGROUP … COUNT 1 … >` by two readers is one queue they
/// share: whichever reader asks gets the next entry. Poisson 8/s against two readers at 200 ms
/// exponential is M/M/2, Erlang C's 0.36 s (QT-3, RST-5).
#[test]
fn qt_3_rst_5_a_stream_group_is_one_queue_its_readers_share() {
    let reader = |name: &str| {
        serde_json::json!({ "name": name,
            "source": { "stream_group": { "stream": "jobs", "group": "workers" } },
            "stream": { "count": 1 },
            "processing": { "kind": "exponential", "mean_ms": 200 } })
    };
    let scenario = Scenario::from_json(
        &serde_json::json!({
            "version": 1,
            "title": { "en": "t", "ko": "t" },
            "latency_ms": 0,
            "streams": [{ "key": "jobs", "groups": [{ "name": "workers", "start": "$" }] }],
            "producers": [{ "name": "p", "targets": [{ "stream": "jobs" }],
                "rate": { "kind": "poisson", "per_sec": 8 } }],
            "consumers": [reader("a"), reader("b")]
        })
        .to_string(),
    )
    .unwrap();
    let mut sim = Simulation::new(&scenario, 7).unwrap();
    sim.advance_to(SimTime::from_secs(4_000));
    let stream = sim.snapshot().streams[0].id;
    let [group] = sim
        .reader_theory(NodeRef::Stream(stream))
        .try_into()
        .unwrap();
    assert_eq!((group.reader.as_str(), group.separate), ("workers", false));
    let t = group.theory;
    assert_eq!((t.c, t.model), (2, Some(Formula::Mmc)));
    let p = t.predicted.unwrap();
    let erlang = erlang_c(t.lambda.unwrap(), t.mu.unwrap(), 2);
    assert!((p.p_wait.unwrap() - erlang).abs() < 1e-9);
    let observed = t.wq.unwrap();
    assert!(
        (observed - p.wq).abs() / p.wq < 0.15,
        "observed {observed} predicted {}",
        p.wq
    );
    assert!((p.wq - 0.356).abs() < 0.05, "{p:?}");
    assert_no_leaks(&sim);
}
