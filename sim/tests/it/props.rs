//! Property tests over random small scenarios, seeds and command scripts.
//!
//! (a) the ledger balances and `audit_deep()` passes after every `step()`;
//! (b) event times never go backwards and never run ahead of the clock;
//! (c) the same scenario, seed and commands give the identical event list and digest, whether
//!     driven one `step()` at a time or by `advance_to` in chunks, and the digest is the FNV of
//!     exactly the events returned; a refused command changes nothing;
//! (e) a clone is a checkpoint: a run cloned part-way (the original then run on and dropped)
//!     gives the identical events, digest and snapshot as the run never cloned;
//! (d) FIFO: a plain classic queue (no priorities, limits, TTL or requeues) delivers to its one
//!     consumer in publish order.
//!
//! About a third of the cases also get an Apache Pulsar side, drawn from the case's seed
//! (`pulsar_side`), with its own crashes, restarts and cursor resets; and as many a ZeroMQ side
//! (`zeromq_side`), with process crashes, restarts, closes and manual sends; and as many a
//! RabbitMQ node side (`rabbitmq_node_side`), with node stops and starts.
//!
//! 64 cases per property by default, from a fixed proptest seed so that runs are repeatable.
//! `BROKER_SIM_SEEDS=N` runs N cases instead (a longer seed sweep); `PROPTEST_RNG_SEED=S` picks
//! another sequence of cases. A failure prints the minimal case: the simulation seed, the
//! scenario JSON and the timed commands, ready to paste into a rule test.

use crate::helpers::With;
use broker_sim::event::KafkaRepEvent;
use broker_sim::rng::SimRng;
use broker_sim::{
    Command, DeadLetterReason, DropReason, Event, EventKind, Scenario, SimTime, Simulation,
    Snapshot, TraceDigest,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{json, Value};
use std::fmt;

/// Simulated time each case runs for.
const HORIZON_MS: u64 = 2_000;
/// A case that emits more events than this is a runaway (e.g. a zero-time requeue loop). Steps
/// that emit nothing are not counted: see `rmq_27_head_expiry_timer_is_armed_once_per_head`.
const MAX_EVENTS: usize = 100_000;

fn config() -> Config {
    let cases = std::env::var("BROKER_SIM_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let defaults = Config::default();
    // A fixed sequence of cases unless PROPTEST_RNG_SEED asks for another one.
    let rng_seed = if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        RngSeed::Fixed(0x5eed_b10c)
    } else {
        defaults.rng_seed
    };
    Config {
        cases,
        rng_seed,
        // The printed minimal case is the regression record; no files are written next to the
        // tests.
        failure_persistence: None,
        ..defaults
    }
}

/// One generated case: a scenario, a simulation seed and commands at simulated times.
#[derive(Clone)]
struct Case {
    seed: u64,
    scenario: Value,
    commands: Vec<(u64, Value)>,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "seed = {}", self.seed)?;
        writeln!(f, "scenario = {}", self.scenario)?;
        for (ms, c) in &self.commands {
            writeln!(f, "at {ms} ms: {c}")?;
        }
        Ok(())
    }
}

impl Case {
    fn build(&self) -> Scenario {
        Scenario::from_json(&self.scenario.to_string())
            .unwrap_or_else(|e| panic!("generated scenario invalid: {e}\n{self:?}"))
    }
}

// ------------------------------------------------------------------ generators

const KEYS: [&str; 6] = ["a", "b", "a.b", "q0", "q1", "zz"];
const BINDING_KEYS: [&str; 5] = ["a", "b", "a.b", "#", "*.b"];

fn queue(i: usize, queues: usize) -> impl Strategy<Value = Value> {
    (
        any::<bool>(),                                                   // quorum
        prop::option::weighted(0.3, 1u32..=5),                           // max_priority
        prop::option::weighted(0.4, 0u64..=8),                           // max_length
        prop::option::weighted(0.15, 0u64..=2_000),                      // max_length_bytes
        0u8..3,                                                          // overflow
        prop::option::weighted(0.3, 0u32..=300),                         // message_ttl_ms
        0u8..3,    // dead-lettering: none, "dlx", ""
        0..queues, // dead-letter routing target
        prop::option::weighted(0.7, prop_oneof![Just(-1i64), 1i64..=3]), // delivery_limit
        prop::option::weighted(0.2, 50u32..=400), // consumer_timeout_ms
        prop::option::weighted(0.15, 100u32..=1_500), // expires_ms
    )
        .prop_map(
            move |(quorum, prio, len, bytes, overflow, ttl, dl, dl_to, limit, timeout, expires)| {
                let mut q = json!({ "name": format!("q{i}") });
                if quorum {
                    q["type"] = json!("quorum");
                    if let Some(l) = limit {
                        q["delivery_limit"] = json!(l);
                    }
                    // In 4.3 only quorum queues enforce the consumer timeout (RMQ-16).
                    if let Some(t) = timeout {
                        q["consumer_timeout_ms"] = json!(t);
                    }
                } else if let Some(p) = prio {
                    q["max_priority"] = json!(p);
                }
                if let Some(l) = len {
                    q["max_length"] = json!(l);
                }
                if let Some(b) = bytes {
                    q["max_length_bytes"] = json!(b);
                }
                q["overflow"] = json!(match (overflow, quorum) {
                    (0, _) => "drop-head",
                    (1, _) | (2, true) => "reject-publish",
                    _ => "reject-publish-dlx",
                });
                if let Some(t) = ttl {
                    q["message_ttl_ms"] = json!(t);
                }
                if let Some(e) = expires {
                    q["expires_ms"] = json!(e);
                }
                match dl {
                    1 => q["dead_letter_exchange"] = json!("dlx"),
                    2 => {
                        q["dead_letter_exchange"] = json!("");
                        q["dead_letter_routing_key"] = json!(format!("q{dl_to}"));
                    }
                    _ => {}
                }
                q
            },
        )
}

fn rate() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => (1u32..=150).prop_map(|r| json!({ "kind": "poisson", "per_sec": r })),
        2 => (1u32..=150).prop_map(|r| json!({ "kind": "constant", "per_sec": r })),
        1 => Just(json!({ "kind": "manual" })),
        1 => (1u64..=60, 0u32..=1_500).prop_map(|(n, at)| json!({ "kind": "burst", "count": n, "at_ms": at })),
        1 => (0u32..=100, 0u32..=100, 10u32..=500).prop_map(|(h, l, p)| json!({
            "kind": "square", "high_per_sec": h, "low_per_sec": l, "period_ms": p, "duty": 0.5
        })),
    ]
}

fn producer(i: usize) -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just("ex"), Just("")],
        rate(),
        prop::collection::vec(prop::sample::select(KEYS.to_vec()), 1..4),
        prop::collection::vec(0u32..=6, 0..4),
        prop::option::weighted(0.2, 0u32..=400),
        1u32..=600,
        prop::option::weighted(0.3, 1u64..=200),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            move |(target, rate, keys, prios, ttl, size, limit, mandatory, confirms)| {
                let mut message =
                    json!({ "routing_keys": keys, "priorities": prios, "size_bytes": size });
                if let Some(t) = ttl {
                    message["ttl_ms"] = json!(t);
                }
                let mut p = json!({
                    "name": format!("p{i}"),
                    "targets": [{ "exchange": target }],
                    "rate": rate,
                    "message": message,
                    "mandatory": mandatory,
                    "confirms": confirms,
                });
                if let Some(l) = limit {
                    p["limit"] = json!(l);
                }
                p
            },
        )
}

fn processing() -> impl Strategy<Value = Value> {
    // At least 1 ms per message on average, so that a failing consumer with requeue cannot spin
    // at one instant forever (that is a real live-lock, not something to test here).
    prop_oneof![
        (1u32..=60).prop_map(|ms| json!({ "kind": "fixed", "ms": ms })),
        (1u32..=60).prop_map(|ms| json!({ "kind": "exponential", "mean_ms": ms })),
        (1u32..=20, 0u32..=40)
            .prop_map(|(a, d)| json!({ "kind": "uniform", "min_ms": a, "max_ms": a + d })),
    ]
}

fn failure() -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just(0.0), Just(0.1), Just(0.4), Just(1.0)],
        prop_oneof![Just("nack"), Just("reject")],
        any::<bool>(),
    )
        .prop_map(|(p, action, requeue)| json!({ "probability": p, "action": action, "requeue": requeue }))
}

fn consumer(i: usize, queues: usize) -> impl Strategy<Value = Value> {
    (
        0..queues,
        0u32..=4,
        prop::bool::weighted(0.25),
        processing(),
        failure(),
        prop::option::weighted(0.3, failure()),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            move |(q, prefetch, auto, processing, failure, poison, stopped)| {
                let mut c = json!({
                    "name": format!("c{i}"),
                    "source": { "queue": format!("q{q}") },
                    "prefetch": prefetch,
                    "ack": if auto { "auto" } else { "manual" },
                    "processing": processing,
                    "failure": failure,
                    "stopped": stopped,
                });
                if let Some(p) = poison {
                    c["poison"] = p;
                }
                c
            },
        )
}

/// A Redis Pub/Sub side: one publisher and subscribers, some with tiny output buffers (RPS-3).
fn pubsub() -> impl Strategy<Value = (Value, Vec<Value>)> {
    (
        rate(),
        prop::collection::vec(
            (
                prop_oneof![
                    Just(json!({ "channels": ["news"] })),
                    Just(json!({ "patterns": ["n*"] })),
                    Just(json!({ "channels": ["news"], "patterns": ["new?"] })),
                    Just(json!({ "channels": ["other"] })),
                ],
                processing(),
                prop::option::weighted(0.5, 200u64..=3_000),
            ),
            0..3,
        ),
    )
        .prop_map(|(rate, subs)| {
            let producer = json!({
                "name": "ps",
                "targets": [{ "channel": "news" }],
                "rate": rate,
                "message": { "size_bytes": 100 },
            });
            let subs = subs
                .into_iter()
                .enumerate()
                .map(|(i, (source, processing, limit))| {
                    let mut s = json!({
                        "name": format!("s{i}"),
                        "source": { "subscribe": source },
                        "processing": processing,
                    });
                    if let Some(l) = limit {
                        s["output_buffer_limit_bytes"] = json!(l);
                    }
                    s
                })
                .collect();
            (producer, subs)
        })
}

/// An SQS side: a standard queue `sq` with a dead-letter queue `sq-dlq`, a FIFO queue `sq.fifo`,
/// a producer for each and up to three polling consumers (SQS-1..SQS-11).
fn sqs_side() -> impl Strategy<Value = (Vec<Value>, Vec<Value>, Vec<Value>)> {
    let anomaly = || prop_oneof![Just(0.0), Just(0.3), Just(1.0)];
    (
        (
            1u32..=300,                            // visibility timeout
            prop::option::weighted(0.6, 1u32..=3), // maxReceiveCount
            0u32..=200,                            // delay
            anomaly(),                             // duplicate rate
            anomaly(),                             // reorder rate
            1u32..=4,                              // servers
            prop_oneof![Just(0.3), Just(1.0)],     // short-poll sample
            prop::option::weighted(0.3, 1u64..=4), // in-flight limit
        ),
        (
            1u32..=300,    // FIFO visibility timeout
            0u32..=200,    // FIFO delay
            any::<bool>(), // content-based deduplication
            any::<bool>(), // deduplication scope: group
        ),
        (rate(), rate(), prop::option::weighted(0.3, 0u32..=300)),
        prop::collection::vec(
            (
                any::<bool>(),                                // FIFO
                1u32..=10,                                    // max messages
                prop_oneof![Just(0u32), Just(50), Just(300)], // wait time
                processing(),
                prop_oneof![Just(0.0), Just(0.3), Just(1.0)], // failure
                prop::option::weighted(0.3, 1u32..=200),      // visibility override
                prop::option::weighted(0.3, (0u64..=20, 0usize..3)), // a decision
            ),
            0..=3,
        ),
    )
        .prop_map(|(standard, fifo, (rate0, rate1, delay), consumers)| {
            let (vt, max_receive, delay_ms, dup, reorder, servers, sample, limit) = standard;
            let mut sq = json!({
                "name": "sq", "visibility_timeout_ms": vt, "delay_ms": delay_ms,
                "duplicate_rate": dup, "reorder_rate": reorder,
                "servers": servers, "short_poll_sample": sample,
            });
            if let Some(m) = max_receive {
                sq["redrive"] = json!({ "dead_letter_queue": "sq-dlq", "max_receive_count": m });
            }
            if let Some(l) = limit {
                sq["in_flight_limit"] = json!(l);
            }
            let (fifo_vt, fifo_delay, content, group_scope) = fifo;
            let queues = vec![
                sq,
                json!({ "name": "sq-dlq" }),
                json!({
                    "name": "sq.fifo", "type": "fifo", "visibility_timeout_ms": fifo_vt,
                    "delay_ms": fifo_delay, "content_based_deduplication": content,
                    "deduplication_scope": if group_scope { "message_group" } else { "queue" },
                }),
            ];
            let mut standard = json!({
                "name": "sp0", "targets": [{ "sqs_queue": "sq" }], "rate": rate0,
            });
            if let Some(d) = delay {
                standard["message"] = json!({ "delay_ms": d });
            }
            let bodies: Vec<String> = (0..20).map(|i| format!("b{i}")).collect();
            let dedup: Vec<String> = (0..50).map(|i| format!("d{i}")).collect();
            let mut message = json!({ "group_ids": ["A", "B", "C"], "bodies": bodies });
            if !content {
                message["dedup_ids"] = json!(dedup);
            }
            let fifo_producer = json!({
                "name": "sp1", "targets": [{ "sqs_queue": "sq.fifo" }], "rate": rate1,
                "message": message,
            });
            let consumers = consumers
                .into_iter()
                .enumerate()
                .map(
                    |(i, (fifo, max, wait, processing, failure, vt, decision))| {
                        let mut receive = json!({ "max_messages": max, "wait_time_ms": wait });
                        if let Some(v) = vt {
                            receive["visibility_timeout_ms"] = json!(v);
                        }
                        let mut c = json!({
                            "name": format!("sc{i}"),
                            "source": { "sqs_queue": if fifo { "sq.fifo" } else { "sq" } },
                            "processing": processing,
                            "failure": { "probability": failure },
                            "sqs": receive,
                        });
                        if let Some((msg, action)) = decision {
                            let then = ["ack", "leave_unacked", "crash"][action];
                            c["decisions"] = json!([{ "when": { "msg": msg }, "then": then }]);
                        }
                        c
                    },
                )
                .collect();
            (queues, vec![standard, fifo_producer], consumers)
        })
}

/// An Apache Pulsar side, drawn from the case's seed (so the generated cases of the other
/// families stay as they were): one topic (maybe partitioned), a producer, consumers of every
/// subscription type on two subscriptions, and crashes, restarts and cursor resets. Small
/// ledgers, short nack delays, ack timeouts, TTL and dead-letter policies make their timers
/// fire within the horizon.
/// A Pulsar side: the `pulsar` object, its producer, its consumers and its timed commands.
struct PulsarSide {
    spec: Value,
    producer: Value,
    consumers: Vec<Value>,
    commands: Vec<(u64, Value)>,
}

fn pulsar_side(seed: u64) -> Option<PulsarSide> {
    let mut rng = SimRng::new(seed ^ 0x0050_756c_7361_7221);
    if !rng.chance(0.35) {
        return None;
    }
    let mut pick = |xs: &[Value]| xs[rng.range_u64(0, xs.len() as u64 - 1) as usize].clone();
    let topic = json!({
        "name": "pt",
        "partitions": pick(&[json!(0), json!(0), json!(1), json!(3)]),
        "retention": pick(&[
            json!({ "time_ms": 0, "size_bytes": 0 }),
            json!({ "time_ms": 300, "size_bytes": -1 }),
            json!({ "time_ms": -1, "size_bytes": 2_000 }),
        ]),
        "ttl_ms": pick(&[json!(0), json!(0), json!(150)]),
    });
    let mut spec = json!({
        "broker": {
            "ledger_max_entries": pick(&[json!(3), json!(3), json!(50_000)]),
            "ledger_min_rollover_ms": 0,
            "retention_check_interval_ms": 200,
            "message_expiry_check_interval_ms": 250,
            "active_consumer_failover_delay_ms": pick(&[json!(0), json!(100), json!(1_000)]),
            "dispatcher_max_round_robin_batch_size": pick(&[json!(1), json!(20)]),
            "max_unacked_messages_per_consumer": pick(&[json!(4), json!(50_000)]),
            "key_shared_selector": pick(&[json!("hash_ranges"), json!("consistent_hashing")]),
        },
        "topics": [topic],
    });
    if pick(&[json!(true), json!(false)]) == json!(true) {
        spec["subscriptions"] =
            json!([{ "topic": "pt", "name": "s0", "initial_position": "earliest" }]);
    }
    let mut producer = json!({
        "name": "pp", "targets": [{ "pulsar_topic": "pt" }],
        "rate": { "kind": "poisson", "per_sec": pick(&[json!(20), json!(80), json!(150)]) },
        "pulsar": { "batching": { "enabled": pick(&[json!(true), json!(false)]) } },
    });
    if pick(&[json!(true), json!(false)]) == json!(true) {
        producer["message"] = json!({ "keys": ["a", "b", "c", "red", "blue"] });
    }
    let n = rng.range_u64(0, 4) as usize;
    let consumers: Vec<Value> = (0..n)
        .map(|i| {
            let kind = ["exclusive", "failover", "shared", "key_shared"][rng.range_u64(0, 3) as usize];
            let shared = kind == "shared" || kind == "key_shared";
            let queue = [1, 2, 10, 1_000][rng.range_u64(0, 3) as usize];
            let group_ms = [0, 100][rng.range_u64(0, 1) as usize];
            let fail = [0.0, 0.3, 1.0][rng.range_u64(0, 2) as usize];
            let mut settings = json!({
                "receiver_queue_size": queue,
                "ack_group_time_ms": group_ms,
                "on_failure": if rng.chance(0.2) { "no_ack" } else { "nack" },
                "negative_ack_redelivery_delay_ms": rng.range_u64(100, 400),
                "priority_level": rng.range_u64(0, 1),
            });
            if rng.chance(0.3) {
                settings["ack_timeout_ms"] = json!(rng.range_u64(1_000, 1_500));
                settings["ack_timeout_tick_ms"] = json!(200);
            }
            if shared && rng.chance(0.4) {
                settings["dead_letter_policy"] = json!({
                    "max_redeliver_count": rng.range_u64(1, 3), "dead_letter_topic": "pt-dlq"
                });
            }
            if !shared && rng.chance(0.5) {
                settings["ack"] = json!("cumulative");
            }
            json!({
                "name": format!("pc{i}"),
                "source": { "pulsar": {
                    "topic": "pt", "subscription": format!("s{}", rng.range_u64(0, 1)), "type": kind,
                    "initial_position": if rng.chance(0.5) { "earliest" } else { "latest" },
                    "mode": if rng.chance(0.85) { "durable" } else { "non_durable" },
                } },
                "processing": { "kind": "exponential", "mean_ms": rng.range_u64(1, 60) },
                "failure": { "probability": fail },
                "ack_batch": 2,
                "stopped": rng.chance(0.1),
                "pulsar": settings,
            })
        })
        .collect();
    let mut commands: Vec<(u64, Value)> = (0..rng.range_u64(0, 6))
        .map(|_| {
            let at = rng.range_u64(0, HORIZON_MS - 1);
            let c = format!("pc{}", rng.range_u64(0, 3));
            let command = match rng.range_u64(0, 4) {
                0 | 1 => json!({ "crash_consumer": { "consumer": c } }),
                2 | 3 => json!({ "restart_consumer": { "consumer": c } }),
                _ => {
                    let to = [
                        json!("earliest"),
                        json!("latest"),
                        json!({ "entry": 3 }),
                        json!({ "timestamp_ms": 500 }),
                    ][rng.range_u64(0, 3) as usize]
                        .clone();
                    let sub = format!("s{}", rng.range_u64(0, 1));
                    json!({ "reset_cursor": { "topic": "pt", "subscription": sub, "to": to } })
                }
            };
            (at, command)
        })
        .collect();
    commands.sort_by_key(|(at, _)| *at);
    Some(PulsarSide {
        spec,
        producer,
        consumers,
        commands,
    })
}

/// A RabbitMQ node side, drawn from the case's seed by an RNG of its own (so the other cases
/// stay as they were): persistent messages from some producers, auto-delete queues, an
/// exclusive transient queue with its own producer and consumer, and the node stopping and
/// starting again (RMQ-31..RMQ-33). Returns the node's commands.
fn rabbitmq_node_side(seed: u64, scenario: &mut Value) -> Vec<(u64, Value)> {
    let mut rng = SimRng::new(seed ^ 0x0052_6162_6269_7421);
    if !rng.chance(0.35) {
        return Vec::new();
    }
    for p in scenario["producers"].as_array_mut().expect("producers") {
        if p["targets"][0].get("exchange").is_some() && rng.chance(0.6) {
            p["message"]["persistent"] = json!(true);
        }
    }
    for q in scenario["queues"].as_array_mut().expect("queues") {
        if q["type"] != "quorum" && rng.chance(0.3) {
            q["auto_delete"] = json!(true);
        }
    }
    scenario["queues"]
        .as_array_mut()
        .expect("queues")
        .push(json!({ "name": "qx", "durable": false, "exclusive": true }));
    scenario["producers"]
        .as_array_mut()
        .expect("producers")
        .push(json!({
            "name": "px", "targets": [{ "exchange": "" }],
            "rate": { "kind": "poisson", "per_sec": rng.range_u64(10, 100) },
            "message": { "routing_keys": ["qx"], "persistent": rng.chance(0.5) },
            "confirms": rng.chance(0.5),
        }));
    scenario["consumers"]
        .as_array_mut()
        .expect("consumers")
        .push(json!({
            "name": "cx", "source": { "queue": "qx" }, "prefetch": rng.range_u64(0, 3),
            "processing": { "kind": "fixed", "ms": rng.range_u64(1, 30) },
        }));
    // Half of these cases run a three-node cluster with a quorum queue of their own, and name
    // the node each command stops or starts (quorum-queues#availability). Its own RNG keeps
    // the single-node cases as they were.
    let mut cluster = SimRng::new(seed ^ 0x0051_7561_6f72_756d);
    let nodes = if cluster.chance(0.5) {
        scenario["rabbitmq"] = json!({ "nodes": 3, "election_ms": cluster.range_u64(50, 800) });
        scenario["queues"]
            .as_array_mut()
            .expect("queues")
            .push(json!({ "name": "qq", "type": "quorum" }));
        scenario["producers"]
            .as_array_mut()
            .expect("producers")
            .push(json!({
                "name": "pq", "targets": [{ "exchange": "" }],
                "rate": { "kind": "poisson", "per_sec": cluster.range_u64(10, 100) },
                "message": { "routing_keys": ["qq"] },
                "confirms": true,
            }));
        scenario["consumers"]
            .as_array_mut()
            .expect("consumers")
            .push(json!({
                "name": "cq", "source": { "queue": "qq" }, "prefetch": cluster.range_u64(0, 5),
                "processing": { "kind": "fixed", "ms": cluster.range_u64(1, 300) },
            }));
        3
    } else {
        1
    };
    // Stops and starts alternate, at sorted times, with the odd refused one.
    let mut times: Vec<u64> = (0..rng.range_u64(1, 4))
        .map(|_| rng.range_u64(0, HORIZON_MS - 1))
        .collect();
    times.sort_unstable();
    let mut commands: Vec<(u64, Value)> = times
        .into_iter()
        .enumerate()
        .map(|(i, at)| {
            let verb = if (i % 2 == 0) != rng.chance(0.1) {
                "crash_rabbitmq_node"
            } else {
                "restart_rabbitmq_node"
            };
            (at, json!({ verb: {} }))
        })
        .collect();
    if nodes > 1 {
        // Node by node, in any order: majorities lost and regained, leaders moved.
        for _ in 0..cluster.range_u64(2, 8) {
            let verb = if cluster.chance(0.5) {
                "crash_rabbitmq_node"
            } else {
                "restart_rabbitmq_node"
            };
            let node = format!("rabbit-{}", cluster.range_u64(1, nodes));
            let at = cluster.range_u64(0, HORIZON_MS - 1);
            commands.push((at, json!({ verb: { "node": node } })));
        }
        // Network partitions, drawn by an RNG of their own so the cases above stay as they
        // were: a node cut off and healed, before or after its election and pause.
        let mut cut = SimRng::new(seed ^ 0x0050_6172_7469_7469);
        for _ in 0..cut.range_u64(0, 3) {
            let node = format!("rabbit-{}", cut.range_u64(1, nodes));
            let at = cut.range_u64(0, HORIZON_MS - 1);
            let heal_at = (at + cut.range_u64(1, 1_500)).min(HORIZON_MS - 1);
            commands.push((at, json!({ "isolate_rabbitmq_node": { "node": node } })));
            commands.push((heal_at, json!({ "heal_rabbitmq_node": { "node": node } })));
        }
    }
    if rng.chance(0.3) {
        let at = rng.range_u64(0, HORIZON_MS - 1);
        commands.push((at, json!({ "restart_consumer": { "consumer": "cx" } })));
    }
    commands
}

/// A ZeroMQ side, drawn from the case's seed by an RNG of its own (so the other families'
/// cases stay as they were): PUSH/PULL, PUB/SUB and REQ/REP between processes with small
/// high-water marks, lingers and `immediate`, and process crashes, restarts and closes.
struct ZeroMqSide {
    spec: Value,
    producers: Vec<Value>,
    consumers: Vec<Value>,
    commands: Vec<(u64, Value)>,
}

fn zeromq_side(seed: u64) -> Option<ZeroMqSide> {
    let mut rng = SimRng::new(seed ^ 0x005a_6572_6f4d_5121);
    if !rng.chance(0.35) {
        return None;
    }
    let mut pick = |xs: &[Value]| xs[rng.range_u64(0, xs.len() as u64 - 1) as usize].clone();
    let hwm = [json!(0), json!(1), json!(2), json!(5), json!(1000)];
    let linger = [json!(-1), json!(0), json!(100)];
    let push_binds = pick(&[json!(true), json!(false)]) == json!(true);
    let (push_ep, pull_ep) = if push_binds {
        (json!({ "bind": ["zt"] }), json!({ "connect": ["zt"] }))
    } else {
        (json!({ "connect": ["zt0", "zt1"] }), Value::Null)
    };
    let pull = |i: usize, ep: &Value, hwm: Value, stopped: Value| {
        let ep = if ep.is_null() {
            json!({ "bind": [format!("zt{i}")] })
        } else {
            ep.clone()
        };
        let mut socket = json!({ "name": "in", "type": "pull", "rcvhwm": hwm });
        socket
            .as_object_mut()
            .unwrap()
            .extend(ep.as_object().unwrap().clone());
        json!({ "name": format!("zw{i}"), "sockets": [socket], "stopped": stopped })
    };
    let mut push = json!({
        "name": "out", "type": "push", "sndhwm": pick(&hwm), "linger_ms": pick(&linger),
        "immediate": pick(&[json!(false), json!(true)]), "dontwait": pick(&[json!(false), json!(true)]),
    });
    push.as_object_mut()
        .unwrap()
        .extend(push_ep.as_object().unwrap().clone());
    let prefixes = [json!([""]), json!(["a"]), json!([]), json!(["a", "b"])];
    let peers = json!([
        { "name": "zv", "sockets": [push] },
        pull(0, &pull_ep, pick(&hwm), json!(false)),
        pull(1, &pull_ep, pick(&hwm), pick(&[json!(false), json!(true)])),
        { "name": "zp", "sockets": [{ "name": "out", "type": "pub", "bind": ["zu"], "sndhwm": pick(&hwm) }] },
        { "name": "zs", "sockets": [{ "name": "in", "type": "sub", "connect": ["zu"],
            "rcvhwm": pick(&hwm), "subscribe": pick(&prefixes) }] },
        { "name": "zc", "sockets": [{ "name": "req", "type": "req", "connect": ["zr"],
            "linger_ms": pick(&linger) }] },
        { "name": "zr", "sockets": [{ "name": "rep", "type": "rep", "bind": ["zr"] }] },
    ]);
    let rate = |per_sec: Value| json!({ "kind": "poisson", "per_sec": per_sec });
    let producers = vec![
        json!({ "name": "zpush", "targets": [{ "zmq": "zv/out" }], "rate": rate(pick(&[json!(50), json!(400)])) }),
        json!({ "name": "zpub", "targets": [{ "zmq": "zp/out" }], "rate": rate(pick(&[json!(50), json!(400)])),
            "message": { "routing_keys": ["a.1", "b.2", "c.3"] } }),
        json!({ "name": "zreq", "targets": [{ "zmq": "zc/req" }], "rate": rate(json!(20)) }),
    ];
    let mut consumer = |name: &str, address: &str| {
        json!({ "name": name, "source": { "zmq": address },
            "processing": { "kind": "exponential", "mean_ms": rng.range_u64(1, 60) },
            "stopped": rng.chance(0.15) })
    };
    let consumers = vec![
        consumer("zc0", "zw0/in"),
        consumer("zc1", "zw1/in"),
        consumer("zcs", "zs/in"),
        consumer("zcr", "zr/rep"),
        consumer("zcq", "zc/req"),
    ];
    let names = ["zv", "zw0", "zw1", "zp", "zs", "zc", "zr"];
    let mut commands: Vec<(u64, Value)> = (0..rng.range_u64(0, 6))
        .map(|_| {
            let at = rng.range_u64(0, HORIZON_MS - 1);
            let peer = names[rng.range_u64(0, names.len() as u64 - 1) as usize];
            let command = match rng.range_u64(0, 6) {
                0 | 1 => json!({ "crash_peer": { "peer": peer } }),
                2 | 3 => json!({ "restart_peer": { "peer": peer } }),
                4 => json!({ "close_peer": { "peer": peer } }),
                5 => json!({ "zmq_send": { "peer": "zc", "socket": "req", "dontwait": rng.chance(0.5) } }),
                _ => json!({ "zmq_subscribe": { "peer": "zs", "socket": "in", "prefix": "c" } }),
            };
            (at, command)
        })
        .collect();
    commands.sort_by_key(|(at, _)| *at);
    Some(ZeroMqSide {
        spec: json!({ "peers": peers }),
        producers,
        consumers,
        commands,
    })
}

/// An ActiveMQ / JMS side: its broker settings, producers to two queues and a topic, and
/// consumers with every acknowledge mode, API, prefetch and redelivery policy (AMQ-1..AMQ-11).
fn jms_side() -> impl Strategy<Value = (Value, Vec<Value>, Vec<Value>)> {
    let settings = (
        prop::bool::weighted(0.25),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        50u32..=500,
        (
            1u32..=4,
            prop_oneof![Just(0u64), Just(50), Just(200)],
            any::<bool>(),
        ),
    )
        .prop_map(
            |(artemis, individual, non_persistent, expired, period, (attempts, delay, dla))| {
                let mut j = json!({
                    "process_non_persistent": non_persistent,
                    "process_expired": expired,
                    "expire_messages_period_ms": period,
                });
                if individual {
                    j["dead_letter_strategy"] = json!({ "kind": "individual" });
                }
                if artemis {
                    j["broker"] = json!("artemis");
                    j["artemis"] = json!({
                        "max_delivery_attempts": attempts,
                        "redelivery_delay_ms": delay,
                        "dead_letter_address": if dla { json!("DLQ") } else { Value::Null },
                    });
                }
                j
            },
        );
    let producer = (
        0usize..3,
        rate(),
        prop::bool::weighted(0.6),
        prop::option::weighted(0.3, 0u32..=300),
        any::<bool>(),
    )
        .prop_map(|(target, rate, persistent, ttl, groups)| {
            let target = match target {
                0 => json!({ "jms_queue": "jq0" }),
                1 => json!({ "jms_queue": "jq1" }),
                _ => json!({ "jms_topic": "jt" }),
            };
            let mut message = json!({ "persistent": persistent });
            if let Some(t) = ttl {
                message["ttl_ms"] = json!(t);
            }
            if groups {
                message["headers"] = json!([{ "JMSXGroupID": "A" }, { "JMSXGroupID": "B" }]);
            }
            json!({ "targets": [target], "rate": rate, "message": message })
        });
    let session = (
        0u8..5,
        any::<bool>(),
        prop::option::weighted(0.7, 0u32..=6),
        1u32..=3,
        0u8..3,
        prop::bool::weighted(0.4),
        (
            -1i32..=3,
            prop_oneof![Just(0u64), Just(20), Just(300)],
            any::<bool>(),
        ),
    );
    let consumer = (
        0usize..5,
        processing(),
        prop_oneof![Just(0.0), Just(0.3), Just(1.0)]
            .prop_map(|p| json!({ "probability": p })),
        prop::option::weighted(0.3, failure()),
        session,
        any::<i32>(),
        prop::bool::weighted(0.25),
    )
        .prop_map(|(source, processing, failure, poison, session, priority, stopped)| {
            let (mode, receive, prefetch, every, on_failure, exclusive, (max, delay, backoff)) = session;
            let mode = ["auto", "client", "dups_ok", "individual", "transacted"][mode as usize];
            let mut jms = json!({
                "ack_mode": mode,
                "api": if receive { "receive" } else { "listener" },
                "redelivery": {
                    "maximum_redeliveries": max,
                    "initial_redelivery_delay_ms": delay,
                    "redelivery_delay_ms": delay,
                    "use_exponential_backoff": backoff,
                },
            });
            // Prefetch 0 needs receive() (`setMessageListener` refuses it).
            if let Some(p) = prefetch.filter(|p| *p > 0 || receive) {
                jms["prefetch"] = json!(p);
            }
            match (mode, on_failure) {
                ("client", _) => {
                    jms["ack_every"] = json!(every);
                    if on_failure == 1 {
                        jms["on_failure"] = json!("recover");
                    }
                }
                ("transacted", _) => {
                    jms["commit_every"] = json!(every);
                    if on_failure == 1 {
                        jms["on_failure"] = json!("rollback");
                    }
                }
                _ => {}
            }
            let source = match source {
                0 => json!({ "jms_queue": "jq0" }),
                1 => json!({ "jms_queue": "jq1" }),
                2 => json!({ "jms_topic": { "topic": "jt" } }),
                // Durable, two times in five.
                _ => json!({ "jms_topic": { "topic": "jt", "durable": { "client_id": "", "name": "s" } } }),
            };
            if exclusive && source.get("jms_queue").is_some() {
                jms["exclusive"] = json!(true);
            }
            let mut c = json!({
                "source": source,
                "processing": processing,
                "failure": failure,
                "priority": priority % 3,
                "jms": jms,
                "stopped": stopped,
            });
            if let Some(p) = poison {
                c["poison"] = p;
            }
            c
        });
    (
        settings,
        prop::collection::vec(producer, 2..=2),
        prop::collection::vec(consumer, 1..=3),
    )
        .prop_map(|(settings, mut producers, mut consumers)| {
            // The first producer publishes on the topic and the first consumer subscribes to it
            // durably, so stored copies and offline subscribers come up (AMQ-2); the second
            // producer sends to a queue.
            producers[0]["targets"] = json!([{ "jms_topic": "jt" }]);
            if producers[1]["targets"][0].get("jms_topic").is_some() {
                producers[1]["targets"] = json!([{ "jms_queue": "jq0" }]);
            }
            consumers[0]["source"] =
                json!({ "jms_topic": { "topic": "jt", "durable": { "client_id": "", "name": "s" } } });
            if let Some(j) = consumers[0]["jms"].as_object_mut() {
                j.remove("exclusive");
            }
            let producers = (producers.into_iter().enumerate())
                .map(|(i, p)| p.with_name(format!("jp{i}")))
                .collect();
            let consumers = (consumers.into_iter().enumerate())
                .map(|(i, mut c)| {
                    // Each durable subscriber connects with its own client id.
                    if let Some(d) = c.pointer_mut("/source/jms_topic/durable/client_id") {
                        *d = json!(format!("client{i}"));
                    }
                    c.with_name(format!("j{i}"))
                })
                .collect();
            (settings, producers, consumers)
        })
}

/// A case's pipeline side (issue 14): four stage consumers on RabbitMQ queues with random
/// remedies, and crashes between write and publish, relay crashes and remedy flips; drawn from
/// the case's seed, so the other families' cases stay what they were. Some sides run over
/// Kafka topics instead, each stage a group member, with or without `kafka_transactions`
/// (PAT-10): then the crashes come between output and offset commit, and abort transactions.
struct PipelineSide {
    queues: Vec<Value>,
    /// Over Kafka: the topics and the stages' groups, and the scenario needs a cluster.
    topics: Vec<Value>,
    groups: Vec<Value>,
    producers: Vec<Value>,
    consumers: Vec<Value>,
    stages: Vec<Value>,
    commands: Vec<(u64, Value)>,
}

fn pipeline_side(seed: u64) -> Option<PipelineSide> {
    let mut rng = SimRng::new(seed ^ 0x0070_6970_6531_3421);
    if !rng.chance(0.3) {
        return None;
    }
    let queues = ["pipe-orders", "pipe-pay", "pipe-inv", "pipe-ship"];
    let roles = ["order", "payment", "inventory", "shipping"];
    // Its own draw, so a RabbitMQ side stays what it was.
    let over_kafka = SimRng::new(seed ^ 0x7061_7431_3000).chance(0.4);
    let to = |name: &str, queue: &str, rate: Value| {
        if over_kafka {
            return json!({ "name": name, "targets": [{ "topic": queue }], "rate": rate });
        }
        json!({
            "name": name, "targets": [{ "exchange": "" }], "rate": rate,
            "message": { "routing_keys": [queue] }
        })
    };
    let manual = json!({ "kind": "manual" });
    let per_sec = rng.range_u64(10, 100);
    let producers = vec![
        to(
            "pipe-shop",
            queues[0],
            json!({ "kind": "constant", "per_sec": per_sec }),
        ),
        to("pipe-order-ev", queues[1], manual.clone()),
        to("pipe-pay-ev", queues[2], manual.clone()),
        to("pipe-pay-back", queues[0], manual.clone()),
        to("pipe-inv-ev", queues[3], manual.clone()),
        to("pipe-inv-back", queues[1], manual),
    ];
    let links = [
        (Some("pipe-order-ev"), None),
        (Some("pipe-pay-ev"), Some("pipe-pay-back")),
        (Some("pipe-inv-ev"), Some("pipe-inv-back")),
        (None, None),
    ];
    let stage = |i: usize, rng: &mut SimRng| {
        let mut s = json!({
            "role": roles[i], "outbox": rng.chance(0.5), "relay_ms": rng.range_u64(10, 50),
            "idempotent": rng.chance(0.5), "saga": rng.chance(0.5),
        });
        if over_kafka && rng.chance(0.6) {
            s["kafka_transactions"] = json!(true);
            s["outbox"] = json!(false);
        }
        if let Some(p) = links[i].0 {
            s["publish"] = json!(p);
        }
        if let Some(c) = links[i].1 {
            s["compensate"] = json!(c);
        }
        if i == 1 {
            s["fail_probability"] = json!([0.0, 0.3][rng.range_u64(0, 1) as usize]);
        }
        if i == 2 && rng.chance(0.6) {
            s["stock"] = json!(rng.range_u64(0, 5));
            s["items"] = json!(rng.range_u64(1, 3));
        }
        s
    };
    let stages: Vec<Value> = (0..4).map(|i| stage(i, &mut rng)).collect();
    let consumers = (0..4)
        .map(|i| {
            if over_kafka {
                return json!({
                    "name": format!("pipe-{}", roles[i]),
                    "source": { "group": format!("pipe-g-{}", roles[i]) }, "stage": roles[i],
                    "processing": { "kind": "fixed", "ms": rng.range_u64(1, 5) },
                });
            }
            json!({
                "name": format!("pipe-{}", roles[i]), "source": { "queue": queues[i] },
                "stage": roles[i], "prefetch": rng.range_u64(1, 3),
                "ack": if rng.chance(0.3) { "auto" } else { "manual" },
                "processing": { "kind": "fixed", "ms": rng.range_u64(1, 5) },
            })
        })
        .collect();
    let groups = (0..4)
        .filter(|_| over_kafka)
        .map(|i| {
            let isolation = ["read_committed", "read_uncommitted"][rng.range_u64(0, 1) as usize];
            json!({
                "name": format!("pipe-g-{}", roles[i]), "topics": [queues[i]],
                "auto_offset_reset": "earliest", "rebalance_ms": rng.range_u64(0, 50),
                "commit": { "kind": "after_processing", "every": rng.range_u64(1, 3) },
                "isolation_level": isolation,
            })
        })
        .collect();
    let commands = (0..rng.range_u64(0, 4))
        .map(|_| {
            let at = rng.range_u64(0, HORIZON_MS - 1);
            let i = rng.range_u64(0, 3) as usize;
            let c = match rng.range_u64(0, 2) {
                0 => json!({ "crash_stage_after_write": {
                    "consumer": format!("pipe-{}", roles[i]), "restart_after_ms": rng.range_u64(1, 100)
                } }),
                1 => json!({ "crash_relay": { "stage": roles[i] } }),
                _ => json!({ "update_stage": { "stage": stage(i, &mut rng) } }),
            };
            (at, c)
        })
        .collect();
    let names = queues.iter().map(|q| json!({ "name": q })).collect();
    let (queues, topics) = if over_kafka {
        (Vec::new(), names)
    } else {
        (names, Vec::new())
    };
    Some(PipelineSide {
        queues,
        topics,
        groups,
        producers,
        consumers,
        stages,
        commands,
    })
}

/// A Redis Streams side, drawn from the case's seed like Pulsar's: a capped stream with two
/// groups, a producer (some messages also to a Pub/Sub channel), group members with claims
/// and NOACK, an `XREAD` reader, and the stream commands (RST-1..9).
struct StreamsSide {
    stream: Value,
    producer: Value,
    consumers: Vec<Value>,
    commands: Vec<(u64, Value)>,
}

fn streams_side(seed: u64) -> Option<StreamsSide> {
    let mut rng = SimRng::new(seed ^ 0x7374_7265_616d_7321);
    if !rng.chance(0.35) {
        return None;
    }
    let mut stream = json!({
        "key": "rs",
        "node_max_entries": ([2, 5, 100][rng.range_u64(0, 2) as usize]),
        "replication_lag_ms": ([0, 0, 150][rng.range_u64(0, 2) as usize]),
        "groups": [{ "name": "g0", "start": "$" }, { "name": "g1", "start": "0" }],
    });
    if rng.chance(0.6) {
        stream["maxlen"] = json!({ "count": rng.range_u64(0, 20), "approx": rng.chance(0.5) });
    }
    let mut targets = vec![json!({ "stream": "rs" })];
    if rng.chance(0.3) {
        targets.push(json!({ "channel": "rs" }));
    }
    let mut producer = json!({
        "name": "rsp", "targets": targets,
        "rate": { "kind": "poisson", "per_sec": ([20, 80, 150][rng.range_u64(0, 2) as usize]) },
    });
    if rng.chance(0.2) {
        producer["message"] = json!({ "stream_ids": ["*", "*", "1-0"] });
    }
    let mut consumers: Vec<Value> = (0..rng.range_u64(0, 3))
        .map(|i| {
            let noack = rng.chance(0.15);
            let mut read = json!({
                "count": rng.range_u64(1, 5),
                "noack": noack,
                "on_start": if rng.chance(0.7) { "pending_first" } else { "new_only" },
            });
            if rng.chance(0.3) {
                read["block_ms"] = json!(rng.range_u64(1, 300));
            }
            if !noack && rng.chance(0.4) {
                read["claim"] = json!({ "every_ms": rng.range_u64(50, 400), "min_idle_ms": rng.range_u64(0, 300) });
            }
            let mut c = json!({
                "name": format!("rc{i}"),
                "source": { "stream_group": { "stream": "rs", "group": format!("g{}", rng.range_u64(0, 1)) } },
                "processing": { "kind": "exponential", "mean_ms": rng.range_u64(1, 60) },
                "failure": { "probability": ([0.0, 0.3][rng.range_u64(0, 1) as usize]) },
                "stopped": rng.chance(0.1),
                "stream": read,
            });
            if rng.chance(0.3) {
                c["decisions"] = json!([{ "when": { "delivery": rng.range_u64(1, 4) }, "then": "crash" }]);
            }
            c
        })
        .collect();
    if rng.chance(0.5) {
        consumers.push(json!({
            "name": "rx", "source": { "stream_read": { "stream": "rs", "from": if rng.chance(0.5) { "0" } else { "$" } } },
            "processing": { "kind": "fixed", "ms": rng.range_u64(1, 20) },
            "stream": { "resume": if rng.chance(0.5) { "from" } else { "last_id" } },
        }));
    }
    let mut commands: Vec<(u64, Value)> = (0..rng.range_u64(0, 8))
        .map(|_| {
            let at = rng.range_u64(0, HORIZON_MS - 1);
            let c = format!("rc{}", rng.range_u64(0, 2));
            let g = format!("g{}", rng.range_u64(0, 1));
            let command = match rng.range_u64(0, 7) {
                0 => json!({ "crash_consumer": { "consumer": c } }),
                1 => json!({ "restart_consumer": { "consumer": c } }),
                2 => json!({ "xclaim": { "stream": "rs", "group": g, "consumer": c,
                    "min_idle_ms": rng.range_u64(0, 200), "ids": ["0-1", "5-0", "100-0"],
                    "justid": rng.chance(0.3) } }),
                3 => json!({ "xautoclaim": { "stream": "rs", "group": g, "consumer": c,
                    "min_idle_ms": rng.range_u64(0, 200), "count": rng.range_u64(1, 5) } }),
                4 => json!({ "xtrim": { "stream": "rs",
                    "maxlen": { "count": rng.range_u64(0, 10), "approx": rng.chance(0.5) } } }),
                5 => json!({ "xgroup_setid": { "stream": "rs", "group": g,
                    "id": (["0", "$", "300-0"][rng.range_u64(0, 2) as usize]) } }),
                6 => json!({ "redis_failover": { "stream": "rs" } }),
                _ => json!({ "add_stream_group": { "stream": "rs",
                    "group": { "name": "g2", "start": "0" } } }),
            };
            (at, command)
        })
        .collect();
    commands.sort_by_key(|(at, _)| *at);
    Some(StreamsSide {
        stream,
        producer,
        consumers,
        commands,
    })
}

/// A case's JMS side, drawn from its seed by a runner of its own: no draw from the case
/// generator, so the other families' cases stay what they were before JMS joined.
#[allow(clippy::type_complexity)]
fn jms_for(seed: u64) -> Option<(Value, Vec<Value>, Vec<Value>, Vec<(u64, Cmd)>)> {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let side = prop::option::weighted(0.4, jms_side()).new_tree(&mut runner);
    let (settings, producers, consumers) = side.ok()?.current()?;
    let cmds = prop::collection::vec((0u64..HORIZON_MS, jms_cmd()), 0..4)
        .new_tree(&mut runner)
        .ok()?
        .current();
    Some((settings, producers, consumers, cmds))
}

/// A case's Kafka cluster, when it has a Kafka topic: brokers, the topic's replication, the
/// producer's acks and broker crashes, restarts, slowdowns and network partitions. Drawn from the seed by a runner of its own
/// (seeded apart from the JMS one), so cases without it stay as they were (KAF-19..26).
#[allow(clippy::type_complexity)]
fn kafka_cluster_for(seed: u64) -> Option<(Value, Value, Value, Vec<(u64, Value)>, bool)> {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8] = 0x4b;
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let side = (
        1u32..=3,
        1u32..=3,
        any::<bool>(),
        prop_oneof![Just("0"), Just("1"), Just("all")],
        prop::option::of(any::<bool>()),
        prop::collection::vec((0u64..HORIZON_MS, 0u32..3, 0u8..5), 0..6),
        any::<bool>(),
    );
    let side = prop::option::weighted(0.5, side)
        .new_tree(&mut runner)
        .ok()?;
    let (rf, min_isr, unclean, acks, idempotent, failures, txns) = side.current()?;
    let cluster = json!({
        "brokers": 3, "replica_lag_time_max_ms": 300, "broker_session_timeout_ms": 200,
    });
    let topic = json!({
        "replication_factor": rf, "min_insync_replicas": min_isr.min(rf),
        "unclean_leader_election_enable": unclean,
    });
    // Timeouts within the run, so requests at an isolated leader fail and producers refresh.
    let mut producer = json!({
        "acks": acks, "delivery_timeout_ms": 1000, "request_timeout_ms": 300,
        "metadata_max_age_ms": 700,
    });
    if let Some(i) = idempotent.filter(|_| acks == "all") {
        producer["enable_idempotence"] = json!(i);
    }
    // Transactions, read by a `read_committed` group (KAF-27).
    let txns = txns && acks == "all" && idempotent != Some(false);
    if txns {
        producer["transactions"] = json!({ "records": 3, "abort_every": 2 });
    }
    let commands = failures
        .into_iter()
        .flat_map(|(at, broker, failure)| {
            let command = match failure {
                0 => json!({ "crash_kafka_broker": { "broker": broker } }),
                1 => json!({ "restart_kafka_broker": { "broker": broker } }),
                // Slower than the lag time: the follower drops out of the ISR (KAF-19).
                2 => json!({ "slow_kafka_broker": { "broker": broker, "delay_ms": 400 } }),
                // A network partition (KAF-21, KAF-23, KAF-24), healed past the session timeout.
                _ => json!({ "isolate_kafka_broker": { "broker": broker } }),
            };
            let heal = (failure >= 3).then(|| {
                let at = (at + 500).min(HORIZON_MS - 1);
                (at, json!({ "heal_kafka_broker": { "broker": broker } }))
            });
            std::iter::once((at, command)).chain(heal)
        })
        .collect();
    Some((cluster, topic, producer, commands, txns))
}

trait Named {
    fn with_name(self, name: String) -> Value;
}

impl Named for Value {
    fn with_name(mut self, name: String) -> Value {
        self["name"] = json!(name);
        self
    }
}

/// A Kafka side: a two-partition topic under any cleanup policy (compaction with tombstones,
/// unkeyed records a compacted topic refuses), a producer and a group's members (KAF-1..18, KAF-7).
fn kafka() -> impl Strategy<Value = (Value, Value, Value, Vec<Value>)> {
    (
        prop_oneof![Just("delete"), Just("compact"), Just("compact,delete")],
        prop_oneof![Just(1u64), Just(300), Just(1 << 30)],
        prop_oneof![
            Just(vec![]),
            Just(vec!["a", "b", "c"]),
            Just(vec!["a", "a", "b"])
        ],
        prop::collection::vec(any::<bool>(), 0..4),
        rate(),
        prop::collection::vec(processing(), 0..3),
    )
        .prop_map(|(policy, segment_bytes, keys, tombstones, rate, members)| {
            let topic = json!({
                "name": "kt", "partitions": 2, "cleanup_policy": policy,
                "segment_bytes": segment_bytes, "retention_ms": 400,
                "retention_check_interval_ms": 100, "delete_retention_ms": 500,
                "log_cleaner_backoff_ms": 250,
            });
            let group = json!({ "name": "kg", "topics": ["kt"], "auto_offset_reset": "earliest" });
            let producer = json!({
                "name": "kp",
                "targets": [{ "topic": "kt" }],
                "rate": rate,
                "message": { "keys": keys, "tombstones": tombstones, "size_bytes": 100 },
            });
            let members = members
                .into_iter()
                .enumerate()
                .map(|(i, processing)| {
                    json!({
                        "name": format!("k{i}"),
                        "source": { "group": "kg" },
                        "processing": processing,
                    })
                })
                .collect();
            (topic, group, producer, members)
        })
}

#[derive(Clone, Debug)]
enum Cmd {
    Crash(usize),
    Restart(usize),
    Remove(usize),
    Slow(usize, f64),
    Burst(usize, u64),
    Poison(usize),
    Pause(usize),
    Resume(usize),
    MaxLength(usize, Option<u64>),
    DoubleAck(usize),
    ChangeVisibility(usize, u32),
    FifoDelay(u32),
    RestartJmsBroker(u32),
    Unsubscribe(usize),
}

fn cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        3 => (0usize..5).prop_map(Cmd::Crash),
        3 => (0usize..5).prop_map(Cmd::Restart),
        1 => (0usize..5).prop_map(Cmd::Remove),
        2 => (0usize..5, prop_oneof![Just(0.5), Just(3.0), Just(1.0)]).prop_map(|(c, f)| Cmd::Slow(c, f)),
        3 => (0usize..4, 1u64..=40).prop_map(|(p, n)| Cmd::Burst(p, n)),
        2 => (0usize..4).prop_map(Cmd::Poison),
        1 => (0usize..4).prop_map(Cmd::Pause),
        1 => (0usize..4).prop_map(Cmd::Resume),
        1 => (0usize..3, prop::option::of(0u64..=5)).prop_map(|(q, l)| Cmd::MaxLength(q, l)),
        1 => (0usize..5).prop_map(Cmd::DoubleAck),
        2 => (0usize..9, 0u32..=400).prop_map(|(c, ms)| Cmd::ChangeVisibility(c, ms)),
        1 => (0u32..=300).prop_map(Cmd::FifoDelay),
    ]
}

/// JMS commands, drawn with the JMS side from the case's seed.
fn jms_cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        (0u32..=400).prop_map(Cmd::RestartJmsBroker),
        (0usize..3).prop_map(Cmd::Unsubscribe),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..=3, 1usize..=3, 0usize..=4)
        .prop_flat_map(|(nq, np, nc)| {
            (
                any::<u64>(),
                0u32..=10,
                prop_oneof![Just("direct"), Just("fanout"), Just("topic")],
                queues(nq),
                prop::collection::vec(
                    (0..nq, prop::sample::select(BINDING_KEYS.to_vec())),
                    0..5,
                ),
                prop::collection::vec(0..nq, 0..3),
                any::<bool>(),
                producers(np),
                consumers(nc, nq),
                prop::option::weighted(0.3, pubsub()),
                prop::collection::vec((0u64..HORIZON_MS, cmd()), 0..12),
                (
                    prop::option::weighted(0.35, sqs_side()),
                    prop::option::weighted(0.3, kafka()),
                ),
            )
        })
        .prop_map(
            |(
                seed,
                latency,
                kind,
                queues,
                bindings,
                dlx_bindings,
                alternate,
                producers,
                mut consumers,
                pubsub,
                cmds,
                (sqs, kafka),
            )| {
                let mut producers = producers;
                if let Some((p, subs)) = pubsub {
                    producers.push(p);
                    consumers.extend(subs);
                }
                let mut sqs_queues = Vec::new();
                if let Some((queues, ps, cs)) = sqs {
                    sqs_queues = queues;
                    producers.extend(ps);
                    consumers.extend(cs);
                }
                let (mut topics, mut groups) = (Vec::new(), Vec::new());
                let mut kafka_cluster = None;
                if let Some((mut t, mut g, mut p, members)) = kafka {
                    if let Some((cluster, topic, producer, commands, txns)) = kafka_cluster_for(seed) {
                        t = t.with(topic);
                        p["kafka"] = producer;
                        if txns {
                            g["isolation_level"] = json!("read_committed");
                        }
                        kafka_cluster = Some((cluster, commands));
                    }
                    topics.push(t);
                    groups.push(g);
                    producers.push(p);
                    consumers.extend(members);
                }
                let pulsar = pulsar_side(seed);
                if let Some(side) = &pulsar {
                    producers.push(side.producer.clone());
                    consumers.extend(side.consumers.iter().cloned());
                }
                let zeromq = zeromq_side(seed);
                if let Some(side) = &zeromq {
                    producers.extend(side.producers.iter().cloned());
                    consumers.extend(side.consumers.iter().cloned());
                }
                let jms = jms_for(seed).map(|(settings, jps, jcs, jcmds)| {
                    producers.extend(jps);
                    consumers.extend(jcs);
                    (settings, jcmds)
                });
                let pipeline = pipeline_side(seed);
                let mut queues = queues;
                if let Some(side) = &pipeline {
                    queues.extend(side.queues.iter().cloned());
                    topics.extend(side.topics.iter().cloned());
                    groups.extend(side.groups.iter().cloned());
                    producers.extend(side.producers.iter().cloned());
                    consumers.extend(side.consumers.iter().cloned());
                }
                let streams = streams_side(seed);
                if let Some(side) = &streams {
                    producers.push(side.producer.clone());
                    consumers.extend(side.consumers.iter().cloned());
                }
                let mut b: Vec<Value> = bindings
                    .iter()
                    .map(|(q, k)| json!({ "exchange": "ex", "queue": format!("q{q}"), "routing_key": k }))
                    .collect();
                b.extend(
                    dlx_bindings
                        .iter()
                        .map(|q| json!({ "exchange": "dlx", "queue": format!("q{q}") })),
                );
                let mut ex = json!({ "name": "ex", "type": kind });
                if alternate {
                    ex["alternate_exchange"] = json!("dlx");
                }
                let mut scenario = json!({
                    "version": 1,
                    "latency_ms": latency,
                    "exchanges": [ex, { "name": "dlx", "type": "fanout" }],
                    "queues": queues,
                    "bindings": b,
                    "topics": topics,
                    "groups": groups,
                    "producers": producers,
                    "consumers": consumers,
                });
                if !sqs_queues.is_empty() {
                    scenario["sqs_queues"] = json!(sqs_queues);
                }
                let mut jms_cmds = Vec::new();
                if let Some((j, jcmds)) = jms {
                    scenario["jms"] = j;
                    jms_cmds = jcmds;
                }
                let mut commands: Vec<(u64, Value)> = (cmds.into_iter())
                    .chain(jms_cmds)
                    .map(|(at, c)| (at, command_json(&c, &scenario)))
                    .collect();
                if let Some(side) = pulsar {
                    scenario["pulsar"] = side.spec;
                    commands.extend(side.commands);
                }
                if let Some(side) = pipeline {
                    scenario["stages"] = json!(side.stages);
                    commands.extend(side.commands);
                    if !side.topics.is_empty() {
                        // Transaction markers live in a cluster's replicas (KAF-27).
                        scenario["kafka"] = json!({ "brokers": 1 });
                    }
                }
                if let Some((cluster, failures)) = kafka_cluster {
                    scenario["kafka"] = cluster;
                    commands.extend(failures);
                }
                if let Some(side) = streams {
                    scenario["streams"] = json!([side.stream]);
                    commands.extend(side.commands);
                }
                if let Some(side) = zeromq {
                    scenario["zeromq"] = side.spec;
                    commands.extend(side.commands);
                }
                commands.extend(rabbitmq_node_side(seed, &mut scenario));
                commands.sort_by_key(|(at, _)| *at);
                Case {
                    seed,
                    scenario,
                    commands,
                }
            },
        )
}

fn queues(n: usize) -> Vec<BoxedStrategy<Value>> {
    (0..n).map(|i| queue(i, n).boxed()).collect()
}

fn producers(n: usize) -> Vec<BoxedStrategy<Value>> {
    (0..n).map(|i| producer(i).boxed()).collect()
}

fn consumers(n: usize, nq: usize) -> Vec<BoxedStrategy<Value>> {
    (0..n).map(|i| consumer(i, nq).boxed()).collect()
}

/// A command's JSON; names may refer to entities that do not exist, which must be refused.
fn command_json(c: &Cmd, scenario: &Value) -> Value {
    let consumer = |i: usize| {
        scenario["consumers"]
            .get(i)
            .and_then(|c| c["name"].as_str())
            .unwrap_or("nobody")
            .to_string()
    };
    let producer = |i: usize| {
        scenario["producers"]
            .get(i)
            .and_then(|p| p["name"].as_str())
            .unwrap_or("nobody")
            .to_string()
    };
    match c {
        Cmd::Crash(i) => json!({ "crash_consumer": { "consumer": consumer(*i) } }),
        Cmd::DoubleAck(i) => json!({ "double_ack": { "consumer": consumer(*i) } }),
        Cmd::Restart(i) => json!({ "restart_consumer": { "consumer": consumer(*i) } }),
        Cmd::Remove(i) => json!({ "remove_consumer": { "consumer": consumer(*i) } }),
        Cmd::Slow(i, f) => {
            json!({ "slow_consumer": { "consumer": consumer(*i), "factor": f } })
        }
        Cmd::Burst(i, n) => json!({ "burst": { "producer": producer(*i), "count": n } }),
        Cmd::Poison(i) => json!({ "poison": { "producer": producer(*i) } }),
        Cmd::Pause(i) => json!({ "pause_producer": { "producer": producer(*i) } }),
        Cmd::Resume(i) => json!({ "resume_producer": { "producer": producer(*i) } }),
        Cmd::ChangeVisibility(i, ms) => {
            json!({ "change_visibility": { "consumer": consumer(*i), "timeout_ms": ms } })
        }
        Cmd::FifoDelay(ms) => {
            let mut spec = scenario["sqs_queues"]
                .get(2)
                .cloned()
                .unwrap_or_else(|| json!({ "name": "nowhere.fifo", "type": "fifo" }));
            spec["delay_ms"] = json!(ms);
            json!({ "update_sqs_queue": { "queue": spec } })
        }
        Cmd::MaxLength(q, len) => {
            let mut spec = scenario["queues"]
                .get(*q)
                .cloned()
                .unwrap_or_else(|| json!({ "name": "nowhere" }));
            match len {
                Some(l) => spec["max_length"] = json!(l),
                None => {
                    if let Some(o) = spec.as_object_mut() {
                        o.remove("max_length");
                    }
                }
            }
            json!({ "update_queue": { "queue": spec } })
        }
        Cmd::RestartJmsBroker(ms) => json!({ "restart_jms_broker": { "downtime_ms": ms } }),
        Cmd::Unsubscribe(i) => {
            json!({ "unsubscribe_durable": { "client_id": format!("client{i}"), "name": "s" } })
        }
    }
}

// ------------------------------------------------------------------ driving

#[derive(Clone, Copy, PartialEq, Eq)]
enum Drive {
    /// One `step()` at a time, checking the ledger after each.
    Steps,
    /// `advance_to` each command time, then the horizon.
    Chunks,
    /// Like `Chunks`, but at this time the run goes on in a clone of the simulation, and the
    /// original is advanced to the horizon and dropped (so shared state would show).
    Checkpoint(SimTime),
}

struct Run {
    events: Vec<Event>,
    digest: TraceDigest,
    snapshot: Snapshot,
}

/// Appends a batch of events, checking (b).
fn take(batch: Vec<Event>, sim: &Simulation, events: &mut Vec<Event>) -> Result<(), String> {
    for e in batch {
        if let Some(last) = events.last() {
            if e.time < last.time {
                return Err(format!("(b) time went backwards: {last} then {e}"));
            }
        }
        if e.time > sim.now() {
            return Err(format!("(b) event {e} is after the clock {}", sim.now()));
        }
        events.push(e);
    }
    Ok(())
}

/// Runs every event up to `t`, checking (a) after each `step()` when stepping.
fn drive_to(
    t: SimTime,
    drive: Drive,
    sim: &mut Simulation,
    events: &mut Vec<Event>,
    steps: &mut usize,
) -> Result<(), String> {
    match drive {
        Drive::Checkpoint(at) if sim.now() < at && at <= t => {
            let batch = sim.advance_to(at);
            take(batch, sim, events)?;
            let mut original = std::mem::replace(sim, sim.clone());
            original.advance_to(SimTime::from_millis(HORIZON_MS));
            drop(original);
            drive_to(t, Drive::Chunks, sim, events, steps)
        }
        Drive::Chunks | Drive::Checkpoint(_) => {
            let batch = sim.advance_to(t);
            take(batch, sim, events)?;
            if events.len() > MAX_EVENTS {
                return Err(format!("runaway: more than {MAX_EVENTS} events"));
            }
            Ok(())
        }
        Drive::Steps => {
            while sim.next_event_time().is_some_and(|n| n <= t) {
                let batch = sim.step();
                take(batch, sim, events)?;
                if !sim.ledger().is_balanced() {
                    return Err(format!(
                        "(a) ledger unbalanced at {}: {:?}",
                        sim.now(),
                        sim.ledger()
                    ));
                }
                sim.audit_deep()
                    .map_err(|e| format!("(a) audit_deep failed at {}: {e}", sim.now()))?;
                *steps += 1;
                if events.len() > MAX_EVENTS {
                    return Err(format!("runaway: more than {MAX_EVENTS} events"));
                }
            }
            // Nothing is left at or before t; this only moves the clock.
            let batch = sim.advance_to(t);
            if batch.is_empty() {
                Ok(())
            } else {
                Err(format!("advance_to after stepping returned {batch:?}"))
            }
        }
    }
}

/// Runs a case to the horizon. Checks (a), (b) and "a refused command changes nothing" on the
/// way; `Err` carries the message for the property.
fn run(case: &Case, drive: Drive) -> Result<Run, String> {
    let scenario = case.build();
    let mut sim = Simulation::new(&scenario, case.seed).map_err(|e| e.to_string())?;
    let mut events: Vec<Event> = Vec::new();
    let mut steps = 0usize;
    // Building the topology can emit at time 0 (a Kafka group's first rebalance) before any
    // work is scheduled; take those first, so stepping to a command that comes before the first
    // work item does not find them left over.
    let (built, _) = sim.advance_to_bounded(sim.now(), 0);
    take(built, &sim, &mut events)?;
    for (ms, json) in &case.commands {
        drive_to(
            SimTime::from_millis(*ms),
            drive,
            &mut sim,
            &mut events,
            &mut steps,
        )?;
        let command: Command = serde_json::from_value(json.clone())
            .map_err(|e| format!("command JSON {json}: {e}"))?;
        let (digest, ledger) = (sim.digest(), sim.ledger().clone());
        let result = sim.apply(command);
        // Collect what the command emitted without processing anything.
        let (emitted, _) = sim.advance_to_bounded(sim.now(), 0);
        if result.is_err() {
            if sim.digest() != digest || &ledger != sim.ledger() || !emitted.is_empty() {
                return Err(format!(
                    "refused command {json} ({result:?}) changed the simulation"
                ));
            }
        } else if emitted.is_empty() {
            return Err(format!("applied command {json} emitted no event"));
        }
        take(emitted, &sim, &mut events)?;
        if drive == Drive::Steps {
            sim.audit_deep()
                .map_err(|e| format!("(a) audit_deep failed after {json}: {e}"))?;
        }
    }
    drive_to(
        SimTime::from_millis(HORIZON_MS),
        drive,
        &mut sim,
        &mut events,
        &mut steps,
    )?;
    sim.audit_deep()
        .map_err(|e| format!("(a) final audit_deep: {e}"))?;

    // The digest is the fingerprint of exactly the events handed out.
    let mut digest = TraceDigest::default();
    for e in &events {
        digest.add(e);
    }
    if digest != sim.digest() {
        return Err("sim.digest() differs from the digest of the returned events".into());
    }
    Ok(Run {
        events,
        digest: sim.digest(),
        snapshot: sim.snapshot(),
    })
}

fn first_difference(a: &[Event], b: &[Event]) -> String {
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(i) => format!("event {i}: {} vs {}", a[i], b[i]),
        None => format!("lengths {} vs {}", a.len(), b.len()),
    }
}

/// The generator is not vacuous: over the default number of cases, every kind of event and
/// every kind of command occurs, so the properties above are checked on all of them.
#[test]
fn prop_generator_covers_every_event_kind() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    use std::collections::BTreeMap;
    let mut runner = TestRunner::new(config());
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    for _ in 0..config().cases {
        let case = case().new_tree(&mut runner).expect("case").current();
        let run = run(&case, Drive::Chunks).unwrap_or_else(|e| panic!("{e}\n{case:?}"));
        for e in &run.events {
            let name = match &e.kind {
                EventKind::DeadLettered {
                    reason: DeadLetterReason::DeliveryLimit,
                    ..
                }
                | EventKind::Dropped {
                    reason: DropReason::DeliveryLimit,
                    ..
                } => "delivery_limit".to_string(),
                EventKind::Dropped { reason, .. } => format!("dropped:{reason}"),
                EventKind::DeadLettered { reason, .. } => format!("dead_lettered:{reason}"),
                EventKind::CommandApplied { summary } => {
                    let verb = summary.split('"').nth(1).unwrap_or(summary);
                    format!("command:{verb}")
                }
                other => serde_json::to_value(other).expect("json")["type"]
                    .as_str()
                    .expect("tag")
                    .to_string(),
            };
            *kinds.entry(name).or_default() += 1;
            // A pipeline producer's abort marker: a transactional stage crashed (PAT-10).
            if let EventKind::KafkaRep(KafkaRepEvent::KafkaTxnEnded {
                producer,
                committed: false,
                ..
            }) = &e.kind
            {
                let name = &case.scenario["producers"][*producer as usize]["name"];
                if name.as_str().is_some_and(|n| n.starts_with("pipe-")) {
                    *kinds.entry("stage_txn_aborted".into()).or_default() += 1;
                }
            }
        }
    }
    println!("{kinds:#?}");
    let expected = [
        "published",
        "routed",
        "enqueued",
        "delivered",
        "processed",
        "settled",
        "requeued",
        "expired",
        "dead_lettered:rejected",
        "dead_lettered:expired",
        "dead_lettered:maxlen",
        "delivery_limit",
        "dropped:unroutable",
        "dropped:returned",
        "dropped:rejected_by_queue",
        "dropped:max_length",
        "dropped:rejected",
        "dropped:lost_in_consumer_crash",
        "dropped:no_subscriber",
        "dropped:subscriber_disconnected",
        "dropped:dead_letter_unroutable",
        "publisher_nacked",
        "channel_published",
        "pub_sub_delivered",
        "consumer_crashed",
        "consumer_restarted",
        "subscriber_disconnected",
        "appended",
        "record_processed",
        "compacted",
        "retention_deleted",
        "dropped:no_key_for_compacted_topic",
        "command:crash_consumer",
        "command:restart_consumer",
        "command:remove_consumer",
        "command:slow_consumer",
        "command:burst",
        "command:poison",
        "command:pause_producer",
        "command:resume_producer",
        "command:update_queue",
        "sqs_send",
        "sqs_receive",
        "sqs_empty_receive",
        "sqs_delete",
        "sqs_visible",
        "sqs_redrive",
        "sqs_duplicate",
        "sqs_deduplicated",
        "sqs_visibility_changed",
        "command:change_visibility",
        "command:update_sqs_queue",
        "pulsar_entry_added",
        "pulsar_ledger_rolled",
        "pulsar_ledger_trimmed",
        "pulsar_subscription_created",
        "pulsar_consumer_refused",
        "pulsar_active_consumer",
        "pulsar_dispatched",
        "pulsar_received",
        "pulsar_acked",
        "pulsar_cursor_moved",
        "pulsar_nacked",
        "pulsar_redelivery_requested",
        "pulsar_ttl_expired",
        "dropped:no_subscription",
        "command:reset_cursor",
        "command:restart_jms_broker",
        "command:slow_kafka_broker",
        "command:isolate_kafka_broker",
        "command:heal_kafka_broker",
        "command:crash_rabbitmq_node",
        "command:restart_rabbitmq_node",
        "command:isolate_rabbitmq_node",
        "command:heal_rabbitmq_node",
        "rabbitmq_node_isolated",
        "rabbitmq_node_paused",
        "rabbitmq_node_healed",
        "rabbitmq_node_stopped",
        "rabbitmq_node_started",
        "quorum_leader_elected",
        "dropped:transient_queue_lost",
        "dropped:not_yet_on_disk",
        "jms_send",
        "jms_topic_publish",
        "jms_stored",
        "jms_dispatch",
        "jms_redeliver",
        "jms_ack",
        "jms_rollback",
        "jms_dead_letter",
        "jms_expired",
        "jms_subscription",
        "jms_group",
        "jms_exclusive",
        "jms_broker_restart",
        "jms_broker_up",
        "dropped:broker_down",
        "dropped:lost_in_broker_restart",
        "dropped:non_persistent_dead_letter",
        "xadd",
        "xtrim",
        "xread",
        "xreadgroup",
        "xack",
        "xclaim",
        "xautoclaim",
        "xgroup",
        "redis_failover",
        "dropped:stream_id_rejected",
        "dropped:lost_in_failover",
        "command:xclaim",
        "command:xautoclaim",
        "command:xtrim",
        "command:xgroup_setid",
        "command:redis_failover",
        "command:add_stream_group",
        "zmq_connected",
        "zmq_disconnected",
        "zmq_subscribed",
        "zmq_received",
        "zmq_send_blocked",
        "zmq_send_resumed",
        "zmq_replied",
        "peer_crashed",
        "peer_restarted",
        "peer_closed",
        "dropped:process_exit",
        "dropped:hwm_drop",
        "dropped:slow_joiner",
        "command:crash_peer",
        "command:restart_peer",
        "command:zmq_send",
        "stage_txn_aborted",
    ];
    let missing: Vec<_> = expected
        .iter()
        .filter(|k| !kinds.contains_key(**k))
        .collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
}

proptest! {
    #![proptest_config(config())]

    /// (a) + (b) + (c) on random topologies, workloads and failure scripts.
    #[test]
    fn prop_ledger_time_and_determinism_hold_for_random_scenarios(case in case()) {
        let seed = case.seed;
        let a = run(&case, Drive::Steps).map_err(|e| TestCaseError::fail(format!("seed {seed}: {e}")))?;
        let b = run(&case, Drive::Steps).map_err(|e| TestCaseError::fail(format!("seed {seed}: {e}")))?;
        prop_assert!(a.events == b.events, "(c) seed {seed}: rerun differs at {}", first_difference(&a.events, &b.events));
        prop_assert_eq!(a.digest, b.digest, "(c) seed {}: digest", seed);
        let c = run(&case, Drive::Chunks).map_err(|e| TestCaseError::fail(format!("seed {seed}: {e}")))?;
        prop_assert!(a.events == c.events, "(c) seed {seed}: step() vs advance_to differ at {}", first_difference(&a.events, &c.events));
        prop_assert_eq!(a.digest, c.digest, "(c) seed {}: digest step() vs advance_to", seed);
    }

    /// (e) a checkpoint (a clone) taken at a time drawn from the case's seed continues exactly
    /// as the original would have: same events, digest and snapshot, whatever the families.
    #[test]
    fn prop_clone_continues_as_the_original(case in case()) {
        let seed = case.seed;
        let at = SimTime::from_millis(1 + seed % (HORIZON_MS - 1));
        let plain = run(&case, Drive::Chunks).map_err(|e| TestCaseError::fail(format!("seed {seed}: {e}")))?;
        let cloned = run(&case, Drive::Checkpoint(at)).map_err(|e| TestCaseError::fail(format!("seed {seed}: {e}")))?;
        prop_assert!(plain.events == cloned.events, "(e) seed {seed}: clone at {at} differs at {}", first_difference(&plain.events, &cloned.events));
        prop_assert_eq!(plain.digest, cloned.digest, "(e) seed {}: digest", seed);
        prop_assert!(plain.snapshot == cloned.snapshot, "(e) seed {seed}: snapshot after clone at {at}");
    }

    /// (d) FIFO: one plain classic queue, one consumer that never fails, any prefetch and ack
    /// mode, several producers with random rates and bursts: deliveries come in publish order.
    #[test]
    fn prop_fifo_single_consumer_receives_in_publish_order(
        seed in any::<u64>(),
        latency in 0u32..=20,
        producers in prop::collection::vec((rate(), 1u32..=500), 1..=3),
        prefetch in 0u32..=10,
        auto in any::<bool>(),
        processing in processing(),
        bursts in prop::collection::vec((0u64..HORIZON_MS, 0usize..3, 1u64..=30), 0..5),
        slow in prop::option::of((0u64..HORIZON_MS, prop_oneof![Just(0.2), Just(5.0)])),
    ) {
        let producers: Vec<Value> = producers.iter().enumerate().map(|(i, (rate, size))| json!({
            "name": format!("p{i}"),
            "targets": [{ "exchange": "" }],
            "rate": rate,
            "message": { "routing_keys": ["fifo"], "size_bytes": size },
        })).collect();
        let scenario = json!({
            "version": 1,
            "latency_ms": latency,
            "queues": [{ "name": "fifo" }],
            "producers": producers,
            "consumers": [{
                "name": "only",
                "source": { "queue": "fifo" },
                "prefetch": prefetch,
                "ack": if auto { "auto" } else { "manual" },
                "processing": processing,
            }],
        });
        let np = producers.len();
        let mut commands: Vec<(u64, Value)> = bursts
            .iter()
            .map(|(at, p, n)| (*at, json!({ "burst": { "producer": format!("p{}", p % np), "count": n } })))
            .collect();
        if let Some((at, f)) = slow {
            commands.push((at, json!({ "slow_consumer": { "consumer": "only", "factor": f } })));
        }
        commands.sort_by_key(|(at, _)| *at);
        let case = Case { seed, scenario, commands };
        let run = run(&case, Drive::Chunks).map_err(|e| TestCaseError::fail(format!("seed {seed}: {e}")))?;
        let published: Vec<u64> = run.events.iter().filter_map(|e| match e.kind {
            EventKind::Published { msg, .. } => Some(msg.0),
            _ => None,
        }).collect();
        let delivered: Vec<u64> = run.events.iter().filter_map(|e| match e.kind {
            EventKind::Delivered { msg, redelivered, .. } => {
                assert!(!redelivered, "seed {seed}: nothing fails, so nothing is redelivered");
                Some(msg.0)
            }
            _ => None,
        }).collect();
        let processed: Vec<u64> = run.events.iter().filter_map(|e| match e.kind {
            EventKind::Processed { msg, .. } => Some(msg.0),
            _ => None,
        }).collect();
        prop_assert!(delivered.len() <= published.len());
        prop_assert_eq!(&delivered[..], &published[..delivered.len()], "seed {}: delivery order", seed);
        prop_assert_eq!(&processed[..], &published[..processed.len()], "seed {}: processing order", seed);
    }
}

/// Found by `prop_ledger_time_and_determinism_hold_for_random_scenarios`: RMQ-29 says a
/// dead-letter cycle is dropped unless a *newer* death than the target queue's last one was
/// `rejected` (`rabbitmq-server: deps/rabbit/src/mc.erl`, `is_cycle_v2`). The simulator's
/// `is_dead_letter_cycle` instead exempts any copy with a rejection anywhere in its history, so a
/// message rejected once and then dead-lettered by `maxlen` back into its own queue recurses
/// without bound at one instant (`enqueue` → `enforce_max_length` → `dead_letter` →
/// `route_and_enqueue` → `enqueue` …) and overflows the stack, aborting the process.
/// Expected: rejected from `work` → enqueued in `loop` → `maxlen` → dropped as a cycle.
#[test]
fn rmq_29_maxlen_loop_after_an_earlier_rejection_is_dropped_as_a_cycle() {
    let scenario = Scenario::from_json(
        &json!({
            "version": 1,
            "latency_ms": 1,
            "queues": [
                { "name": "work", "dead_letter_exchange": "", "dead_letter_routing_key": "loop" },
                { "name": "loop", "max_length": 0, "dead_letter_exchange": "", "dead_letter_routing_key": "loop" }
            ],
            "producers": [{
                "name": "p", "targets": [{ "exchange": "" }], "limit": 1,
                "rate": { "kind": "constant", "per_sec": 10 },
                "message": { "routing_keys": ["work"] }
            }],
            "consumers": [{
                "name": "c", "source": { "queue": "work" }, "prefetch": 1,
                "processing": { "kind": "fixed", "ms": 1 },
                "failure": { "probability": 1.0, "action": "reject", "requeue": false }
            }]
        })
        .to_string(),
    )
    .expect("valid");
    let mut sim = Simulation::new(&scenario, 1).expect("valid");
    let events = sim.advance_to(SimTime::from_secs(1));
    sim.audit_deep().expect("ledger");
    let l = sim.ledger();
    assert_eq!(
        l.dead_lettered_total(),
        2,
        "rejected once, maxlen once: {events:#?}"
    );
    assert_eq!(l.dropped_total(), 1, "then dropped as a dead-letter cycle");
}

/// Found by the property test (a case with a 10 ms queue TTL and no consumer needed 100,000
/// steps for 460 messages). `expire_head` arms a timer at `expires_at + 1` only if none is
/// pending sooner, but compares the pending time with `expires_at`, so the check always passes
/// and every `dispatch` of a queue whose head has a TTL schedules another `ExpireHead` for the
/// same instant; each firing clears `expiry_timer` and re-arms, so the duplicates carry over to
/// every later head. Work per expiry grows with the number of messages ever enqueued: quadratic
/// in run length (200 messages at 100/s: 20,299 steps; at 1,000/s the 200,000th step is reached at
/// 0.63 s). The trace is unaffected (the extra timers emit nothing), only the cost.
#[test]
fn rmq_27_head_expiry_timer_is_armed_once_per_head() {
    let scenario = Scenario::from_json(
        &json!({
            "version": 1,
            "latency_ms": 0,
            "queues": [{ "name": "q", "message_ttl_ms": 10 }],
            "producers": [{
                "name": "p", "targets": [{ "exchange": "" }],
                "rate": { "kind": "constant", "per_sec": 100 },
                "message": { "routing_keys": ["q"] }
            }]
        })
        .to_string(),
    )
    .expect("valid");
    let mut sim = Simulation::new(&scenario, 1).expect("valid");
    let mut steps = 0u64;
    while sim
        .next_event_time()
        .is_some_and(|t| t <= SimTime::from_secs(2))
    {
        sim.step();
        steps += 1;
    }
    let published = sim.ledger().published;
    assert_eq!(published, 200);
    // Per message: one producer tick, one arrival, at most one head-expiry timer.
    assert!(
        steps <= 3 * published + 10,
        "{steps} steps for {published} messages"
    );
}
