//! Seeded, structure-aware fuzzing of the engine with hostile scenarios and command scripts.
//!
//! Case `i` uses seed `S + i`. From that seed alone (the project's own RNG) the generator draws a
//! scenario across every family (exchanges of each type, queues with every argument, Redis
//! channels and globs, Kafka topics and groups, services, JMS queues, topics and sessions,
//! producers of every rate kind, consumers of every source) plus timed commands of every kind. Values sit at the edges of their ranges
//! (0, limits, huge, tiny), a few lie outside them, names are long, odd, duplicated or dangling.
//! A few cases start from a file in `scenarios/` instead, and some get blind JSON mutations.
//!
//! Each case goes through the runner's path: `Scenario::from_json`, `Simulation::new`, then
//! `advance_to_bounded` to each command's time and `apply`. Invalid input must be an `Err`, never
//! a panic. A valid case must not panic, must emit events in time order, pass `audit_deep` and
//! balance its ledger, and stop within `MAX_ITEMS` work items: reaching the horizon and being
//! cut off by the cap are both within budget, and so is a halt by the engine's zero-time guard,
//! which names its reason.
//!
//! ```text
//! BROKER_SIM_FUZZ=N         run N cases (default 300)
//! BROKER_SIM_FUZZ_SEED=S    first seed (default 0)
//! BROKER_SIM_FUZZ=1 BROKER_SIM_FUZZ_SEED=<seed> cargo test -p broker-sim --test fuzz
//!                           reruns one failing case
//! BROKER_SIM_FUZZ_VERBOSE=1 a line per case (outcome, time), commands applied and refused
//!                           by kind, and why invalid cases were refused; =2 also prints
//!                           each case's scenario and commands
//! ```
//!
//! A sweep in a release build: `cargo test -p broker-sim --release --test fuzz`, split into
//! seed ranges to use several cores.
//!
//! A failure prints every failing seed, and the scenario JSON and commands of the first few.

use broker_sim::report::EventTally;
use broker_sim::rng::SimRng;
use broker_sim::scenario::limits;
use broker_sim::{Command, EventSink, Scenario, SimTime, Simulation};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

const DEFAULT_CASES: u64 = 300;
/// Simulated time most cases run for; commands fall within it.
const HORIZON_MS: u64 = 3_000;
/// Some cases run on to this, so that timers of several seconds (session timeouts, expiry,
/// retention checks) fire too. Few: they are slow in a debug build.
const LONG_HORIZON_MS: u64 = 20_000;
/// Work items a case may run in all; past it the case stops as "capped".
const MAX_ITEMS: usize = 200_000;
/// Items per `advance_to_bounded` call, so that the budget is counted exactly when capped.
const CHUNK: usize = 4_096;
/// Failures printed in full (scenario and commands); the rest only by seed.
const PRINT_FULL: usize = 5;

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    match v.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name}={v:?} is not a non-negative integer"),
    }
}

// ------------------------------------------------------------------ the generator

/// Names declared so far, by kind, so that references mostly hit and sometimes dangle.
#[derive(Default)]
struct Pools {
    exchanges: Vec<String>,
    queues: Vec<String>,
    topics: Vec<String>,
    groups: Vec<String>,
    services: Vec<String>,
    producers: Vec<String>,
    consumers: Vec<String>,
    channels: Vec<String>,
    /// Declared bindings, so that `remove_binding` can name an existing one exactly.
    bindings: Vec<Value>,
    /// Declared queues and consumers, so that updates can keep what may not change.
    queue_specs: Vec<Value>,
    consumer_specs: Vec<Value>,
    sqs_queues: Vec<String>,
    sqs_queue_specs: Vec<Value>,
    /// Pulsar topics and the subscription names consumers use.
    pulsar_topics: Vec<String>,
    /// JMS destinations and durable client ids named so far.
    jms_queues: Vec<String>,
    jms_topics: Vec<String>,
    client_ids: Vec<String>,
}

impl Pools {
    /// Reads the names back from a scenario's JSON (after mutation, or from an example file).
    fn from_scenario(s: &Value) -> Pools {
        let names = |field: &str| -> Vec<String> {
            s.get(field)
                .and_then(Value::as_array)
                .map(|xs| {
                    xs.iter()
                        .filter_map(|x| x.get("name")?.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let specs = |field: &str| -> Vec<Value> {
            s.get(field)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let mut channels: Vec<String> = Vec::new();
        for p in s
            .get("producers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for t in p
                .get("targets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(c) = t.get("channel").and_then(Value::as_str) {
                    channels.push(c.to_string());
                }
            }
        }
        Pools {
            exchanges: names("exchanges"),
            queues: names("queues"),
            topics: names("topics"),
            groups: names("groups"),
            services: names("services"),
            producers: names("producers"),
            consumers: names("consumers"),
            channels,
            bindings: specs("bindings"),
            queue_specs: specs("queues"),
            consumer_specs: specs("consumers"),
            sqs_queues: names("sqs_queues"),
            sqs_queue_specs: specs("sqs_queues"),
            pulsar_topics: (s.get("pulsar").and_then(|p| p.get("topics")))
                .and_then(Value::as_array)
                .map(|ts| {
                    ts.iter()
                        .filter_map(|t| t.get("name")?.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            jms_queues: jms_names(s, "jms_queue", "/jms/queues"),
            jms_topics: jms_names(s, "jms_topic", "/jms/topics"),
            client_ids: (s
                .get("consumers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten())
            .filter_map(|c| {
                let id = c.pointer("/source/jms_topic/durable/client_id")?;
                id.as_str().map(str::to_string)
            })
            .collect(),
        }
    }
}

/// JMS destinations a scenario names: declared under `jms` (at `declared`), or named by a
/// producer's target or a consumer's source (`key`).
fn jms_names(s: &Value, key: &str, declared: &str) -> Vec<String> {
    let listed = |field: &str| -> Vec<Value> {
        s.get(field)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let mut names: Vec<String> = Vec::new();
    let mut add = |v: Option<&Value>| {
        if let Some(n) = v.and_then(Value::as_str) {
            if !names.iter().any(|x| x == n) {
                names.push(n.to_string());
            }
        }
    };
    for d in s
        .pointer(declared)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        add(d.get("name"));
    }
    for p in listed("producers") {
        for t in p
            .get("targets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            add(t.get(key));
        }
    }
    for c in listed("consumers") {
        let source = c.get("source");
        add(source
            .and_then(|s| s.get(key))
            .and_then(|v| v.get("topic").or(Some(v))));
    }
    names
}

/// Which families a generated scenario uses.
#[derive(Clone, Copy)]
struct Families {
    rabbit: bool,
    redis: bool,
    kafka: bool,
    service: bool,
    sqs: bool,
    pulsar: bool,
    jms: bool,
}

struct Gen {
    rng: SimRng,
    /// Decides only whether a case uses Pulsar, so that cases without it stay as they were.
    pulsar_rng: SimRng,
    /// Draws everything of Redis Streams, so that cases without it stay as they were.
    streams_rng: SimRng,
    /// Chance that a field takes a value outside its valid range (drawn per case).
    bad: f64,
    pools: Pools,
    families: Families,
}

/// One generated case: what it runs and how to print it.
struct Case {
    seed: u64,
    /// The scenario as the runner would read it from a file.
    text: String,
    /// Commands applied with `Simulation::apply`, at simulated milliseconds, in time order.
    commands: Vec<(u64, Value)>,
    /// Where the scenario came from (generated, an example file, mutated).
    origin: String,
    /// Simulated milliseconds the case runs to.
    horizon_ms: u64,
}

const KEYS: [&str; 18] = [
    "",
    "a",
    "b",
    "a.b",
    "a.b.c",
    "#",
    "*",
    "*.b",
    "a.#",
    "#.#",
    "#.*.#",
    "a..b",
    ".",
    "a.",
    "*.*.*",
    "주문.생성",
    "x-match",
    "\u{0}",
];
const CHANNELS: [&str; 8] = ["news", "n", "", "news.eu", "ch", "채널", "a*b", "[x]"];
const PATTERNS: [&str; 18] = [
    "*", "n*", "new?", "[a-n]ews", "[^a]*", "\\*", "[", "[]", "[]]", "*?*?*", "h[", "", "[z-a]",
    "\\", "news", "*[", "?", "**",
];
const GHOSTS: [&str; 4] = ["ghost", "", "Q0", "👻"];
const SUBSCRIPTIONS: [&str; 4] = ["s", "s", "audit", "구독"];
const SUB_TYPES: [&str; 4] = ["exclusive", "failover", "shared", "key_shared"];

impl Gen {
    fn new(seed: u64) -> Gen {
        // Decorrelated from the simulation, which is seeded with `seed` itself.
        let mut rng = SimRng::new(seed ^ 0x9e37_79b9_7f4a_7c15);
        let bad = [0.0, 0.0, 0.0, 0.002, 0.002, 0.01, 0.03, 0.15][rng.range_u64(0, 7) as usize];
        Gen {
            rng,
            pulsar_rng: SimRng::new(seed ^ 0x0050_756c_7361_7221),
            streams_rng: SimRng::new(seed ^ 0x7374_7265_616d_7321),
            bad,
            pools: Pools::default(),
            families: Families {
                rabbit: true,
                redis: false,
                kafka: false,
                service: false,
                sqs: false,
                pulsar: false,
                jms: false,
            },
        }
    }

    /// Uniform in `0..n` (`n >= 1`).
    fn below(&mut self, n: usize) -> usize {
        self.rng.range_u64(0, n as u64 - 1) as usize
    }

    fn coin(&mut self, p: f64) -> bool {
        self.rng.chance(p)
    }

    fn bad(&mut self) -> bool {
        self.rng.chance(self.bad)
    }

    fn one<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())].clone()
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.rng.unit()
    }

    /// How many entities of a kind: mostly a few, sometimes many, rarely the cap (or one past).
    fn count(&mut self, typical: usize) -> usize {
        match self.below(100) {
            0 if self.bad() => limits::MAX_ENTITIES + 1,
            0 => limits::MAX_ENTITIES,
            1..=3 => self.below(25),
            _ => self.below(typical + 1),
        }
    }

    /// A fresh name; sometimes long, unicode or odd, and sometimes (when hostile) a duplicate.
    fn name(&mut self, prefix: &str, i: usize, taken: &[String]) -> String {
        if !taken.is_empty() && self.bad() {
            return self.one(taken);
        }
        let base = format!("{prefix}{i}");
        match self.below(24) {
            0 => {
                // Up to the 255-byte cap, or past it when hostile.
                let len = if self.bad() {
                    256 + self.below(200)
                } else {
                    200 + self.below(56)
                };
                format!("{base}-{}", "x".repeat(len - base.len() - 1))
            }
            1 => format!("{base}-{}", "가".repeat(80)),
            2 => format!("{base}.#*?[]"),
            3 => format!("{base} \"q\"\n\t"),
            4 => format!("{base}\u{0}\u{202e}"),
            5 if self.bad() => String::new(),
            _ => base,
        }
    }

    /// A declared name, or (when hostile or none exists) one that is not declared.
    fn refer(&mut self, pool: &[String]) -> String {
        if pool.is_empty() || self.bad() {
            return self.one(&GHOSTS).to_string();
        }
        self.one(pool)
    }

    fn key(&mut self) -> String {
        match self.below(12) {
            0 if !self.pools.queues.is_empty() => {
                let q = self.pools.queues.clone();
                self.one(&q)
            }
            1 => vec!["w"; 1 + self.below(120)].join("."),
            2 => vec!["#"; 1 + self.below(40)].join("."),
            _ => self.one(&KEYS).to_string(),
        }
    }

    /// Milliseconds: 0, -0, tiny, typical, the one-year cap; out of range when hostile.
    fn ms(&mut self, typical: f64) -> Value {
        if self.bad() {
            return self.one(&[
                json!(-1.0),
                json!(-1e-9),
                json!(limits::MAX_DURATION_MS * 1.000_001),
                json!(1e300),
                json!("5"),
                Value::Null,
            ]);
        }
        match self.below(14) {
            0 | 1 => json!(0),
            2 => json!(-0.0),
            3 => json!(1e-300),
            4 => json!(0.001),
            5 => json!(1),
            6 => json!(limits::MAX_DURATION_MS),
            7 => json!(HORIZON_MS as f64 - 0.5),
            _ => json!(self.uniform(0.0, typical)),
        }
    }

    /// A duration that must be at least `min` ms.
    fn ms_at_least(&mut self, min: f64, typical: f64) -> Value {
        if self.bad() {
            return json!(min * 0.5);
        }
        match self.below(6) {
            0 => json!(min),
            1 => json!(limits::MAX_DURATION_MS),
            2 => json!(min + 0.5),
            _ => json!(min + self.uniform(0.0, typical)),
        }
    }

    fn per_sec(&mut self) -> Value {
        if self.bad() {
            return self.one(&[
                json!(limits::MAX_RATE_PER_SEC + 0.001),
                json!(-1),
                json!(1e308),
            ]);
        }
        // High rates are rare: they make a case slow (capped) in a debug build.
        match self.below(60) {
            0..=5 => json!(0),
            6 => json!(1e-9),
            7..=9 => json!(0.5),
            10 => json!(limits::MAX_RATE_PER_SEC),
            11 => json!(1_000 + self.below(5_000)),
            _ => json!(self.uniform(1.0, 150.0)),
        }
    }

    fn probability(&mut self) -> Value {
        if self.bad() {
            return self.one(&[json!(1.000_000_1), json!(-0.1), json!(2)]);
        }
        self.one(&[
            json!(0),
            json!(0),
            json!(1),
            json!(1),
            json!(0.5),
            json!(0.1),
            json!(0.999_999),
            json!(1e-300),
        ])
    }

    /// An unsigned count: 0, 1, small, large, the type's max.
    fn big_u64(&mut self, small: u64) -> Value {
        match self.below(10) {
            0 => json!(0),
            1 => json!(1),
            2 => json!(u64::MAX),
            3 => json!(u64::from(u32::MAX)),
            _ => json!(self.rng.range_u64(0, small)),
        }
    }

    fn burst_count(&mut self) -> Value {
        if self.bad() {
            return self.one(&[json!(limits::MAX_BURST + 1), json!(u64::MAX), json!(-1)]);
        }
        match self.below(200) {
            // A million messages in one work item: rare, it is slow in a debug build.
            0 => json!(limits::MAX_BURST),
            1..=4 => json!(10_000 + self.below(90_000)),
            5..=20 => json!(0),
            _ => json!(1 + self.below(200)),
        }
    }

    fn header_value(&mut self) -> Value {
        match self.below(10) {
            0 => Value::Null,
            1 => json!(true),
            2 => json!(1),
            3 => json!(1.5),
            4 => json!([1, "a", null]),
            5 => json!({"n": {"m": []}}),
            6 => json!("x".repeat(300)),
            7 => json!(-0.0),
            _ => json!(self.one(&["pdf", "zip", "", "all"])),
        }
    }

    fn headers(&mut self) -> Value {
        let mut m = Map::new();
        for _ in 0..self.below(4) {
            let k = self.one(&["format", "type", "a", "x-k", "x-match", "", "키"]);
            let v = self.header_value();
            m.insert(k.to_string(), v);
        }
        Value::Object(m)
    }

    fn binding_arguments(&mut self) -> Value {
        let Value::Object(mut m) = self.headers() else {
            unreachable!()
        };
        if self.coin(0.7) {
            let mode = if self.bad() {
                self.one(&[json!("none"), json!(1), json!(null), json!("ALL")])
            } else {
                json!(self.one(&["all", "any", "all-with-x", "any-with-x"]))
            };
            m.insert("x-match".into(), mode);
        }
        Value::Object(m)
    }

    fn rate(&mut self) -> Value {
        let kinds = if self.bad() { 8 } else { 7 };
        match self.below(kinds) {
            0 => json!({"kind": "manual"}),
            1 => json!({"kind": "constant", "per_sec": self.per_sec()}),
            2 => json!({"kind": "poisson", "per_sec": self.per_sec()}),
            3 => {
                json!({"kind": "burst", "count": self.burst_count(), "at_ms": self.ms(HORIZON_MS as f64)})
            }
            4 => json!({
                "kind": "square",
                "high_per_sec": self.per_sec(),
                "low_per_sec": self.per_sec(),
                "period_ms": self.ms_at_least(1.0, 1_000.0),
                "duty": self.probability(),
            }),
            5 => json!({
                "kind": "ramp",
                "from_per_sec": self.per_sec(),
                "to_per_sec": self.per_sec(),
                "over_ms": self.ms(2_000.0),
            }),
            6 => json!({"kind": "constant", "per_sec": self.uniform(1.0, 50.0)}),
            _ => json!({"kind": "sine", "per_sec": 1}),
        }
    }

    fn processing(&mut self) -> Value {
        let ms = |g: &mut Gen| -> Value {
            if g.coin(0.25) {
                json!(0)
            } else {
                g.ms(60.0)
            }
        };
        match self.below(3) {
            0 => json!({"kind": "fixed", "ms": ms(self)}),
            1 => json!({"kind": "exponential", "mean_ms": ms(self)}),
            _ => {
                let a = self.uniform(0.0, 30.0);
                let b = if self.bad() {
                    a - 1.0
                } else {
                    a + self.uniform(0.0, 50.0) * f64::from(self.below(2) as u32)
                };
                json!({"kind": "uniform", "min_ms": a, "max_ms": b})
            }
        }
    }

    fn failure(&mut self) -> Value {
        json!({
            "probability": self.probability(),
            "action": self.one(&["nack", "reject"]),
            "requeue": self.coin(0.5),
        })
    }

    fn exchange(&mut self, i: usize) -> Value {
        let taken = self.pools.exchanges.clone();
        let name = if self.bad() && self.coin(0.3) {
            String::new()
        } else {
            self.name("x", i, &taken)
        };
        let kind = if self.bad() {
            "x-consistent-hash"
        } else {
            self.one(&["direct", "fanout", "topic", "headers"])
        };
        let mut x = json!({"name": name, "type": kind});
        // Only earlier exchanges, so the alternates cannot form a cycle unless hostile.
        if self.coin(0.3) && (!taken.is_empty() || self.bad()) {
            x["alternate_exchange"] = json!(if self.bad() {
                name.clone()
            } else {
                self.refer(&taken)
            });
        }
        self.pools.exchanges.push(name);
        x
    }

    fn queue(&mut self, name: String) -> Value {
        let quorum = self.coin(0.4);
        let mut q = json!({"name": name});
        if quorum || self.coin(0.2) {
            q["type"] = json!(if quorum { "quorum" } else { "classic" });
        }
        if (!quorum || self.bad()) && self.coin(0.3) {
            q["max_priority"] = if self.bad() {
                json!(self.one(&[0, 256]))
            } else {
                json!(self.one(&[1, 2, 5, 10, 255]))
            };
        }
        if self.coin(0.4) {
            q["max_length"] = self.big_u64(8);
        }
        if self.coin(0.2) {
            q["max_length_bytes"] = self.big_u64(5_000);
        }
        if self.coin(0.6) {
            let modes: &[&str] = if quorum && !self.bad() {
                &["drop-head", "reject-publish"]
            } else {
                &["drop-head", "reject-publish", "reject-publish-dlx"]
            };
            q["overflow"] = json!(self.one(modes));
        }
        if self.coin(0.35) {
            q["message_ttl_ms"] = self.ms(500.0);
        }
        if self.coin(0.4) {
            let mut dlxs = self.pools.exchanges.clone();
            dlxs.push(String::new());
            q["dead_letter_exchange"] = json!(self.refer(&dlxs));
            if self.coin(0.6) {
                q["dead_letter_routing_key"] = json!(self.key());
            }
        }
        if quorum || self.bad() {
            if self.coin(0.6) {
                q["delivery_limit"] = if self.bad() {
                    json!(self.one(&[0, -2, 65_536, i64::MIN]))
                } else {
                    json!(self.one(&[-1, 1, 2, 3, 65_535]))
                };
            }
            if self.coin(0.3) {
                q["consumer_timeout_ms"] = self.ms(400.0);
            }
        }
        if self.coin(0.2) {
            q["expires_ms"] = self.ms_at_least(1.0, 1_500.0);
        }
        q
    }

    fn binding(&mut self) -> Value {
        let exchanges = self.pools.exchanges.clone();
        // The first exchange has no earlier one to bind to: it needs a queue.
        let from = if self.pools.queues.is_empty() && exchanges.len() > 1 {
            1 + self.below(exchanges.len() - 1)
        } else {
            self.below(exchanges.len().max(1))
        };
        let exchange = if self.bad() {
            self.refer(&[])
        } else {
            exchanges.get(from).cloned().unwrap_or_default()
        };
        let mut b = json!({"exchange": exchange});
        // Only to an earlier exchange, so exchange bindings cannot form a cycle.
        let earlier = exchanges[..from.min(exchanges.len())].to_vec();
        let queues = self.pools.queues.clone();
        let to_queue = if earlier.is_empty() {
            true
        } else if queues.is_empty() {
            false
        } else {
            self.coin(0.8)
        };
        if to_queue || self.bad() {
            b["queue"] = json!(self.refer(&queues));
        }
        if !to_queue || self.bad() {
            b["to_exchange"] = json!(self.refer(&earlier));
        }
        if self.coin(0.8) {
            b["routing_key"] = json!(self.key());
        }
        if self.coin(0.4) {
            b["arguments"] = self.binding_arguments();
        }
        b
    }

    fn topic(&mut self, i: usize) -> Value {
        let taken = self.pools.topics.clone();
        let name = self.name("t", i, &taken);
        self.pools.topics.push(name.clone());
        let mut t = json!({"name": name});
        if self.coin(0.8) {
            t["partitions"] = if self.bad() {
                json!(self.one(&[0, 1_025, -1]))
            } else {
                // 1024 partitions make every poll slow: rare.
                json!(if self.coin(0.03) {
                    1_024
                } else {
                    self.one(&[1, 1, 2, 3, 4, 8])
                })
            };
        }
        if self.coin(0.3) {
            t["segment_bytes"] = if self.bad() {
                json!(0)
            } else {
                json!(self.one(&[1, 100, 1_000, 1 << 30, u64::MAX]))
            };
        }
        if self.coin(0.3) {
            t["segment_ms"] = self.ms(1_000.0);
        }
        if self.coin(0.4) {
            t["retention_ms"] = if self.coin(0.3) {
                json!(-1)
            } else {
                self.ms(1_500.0)
            };
        }
        if self.coin(0.3) {
            t["cleanup_policy"] = if self.bad() {
                json!("shred")
            } else {
                json!(self.one(&["delete", "compact", "compact,delete", "delete,compact"]))
            };
            t["log_cleaner_backoff_ms"] = self.ms(500.0);
        }
        if self.coin(0.2) {
            t["delete_retention_ms"] = self.ms(1_000.0);
        }
        if self.coin(0.2) {
            t["min_compaction_lag_ms"] = self.ms(500.0);
        }
        if self.coin(0.2) {
            t["min_cleanable_dirty_ratio"] = if self.bad() {
                json!(1.5)
            } else {
                json!(self.one(&[0.0, 0.5, 1.0]))
            };
        }
        if self.coin(0.4) {
            t["retention_bytes"] = if self.bad() {
                json!(-2)
            } else {
                json!(self.one(&[-1, 0, 1, 500, 5_000, i64::MAX]))
            };
        }
        if self.coin(0.4) {
            t["retention_check_interval_ms"] = self.ms_at_least(1.0, 500.0);
        }
        if self.coin(0.4) {
            t["unkeyed"] = json!(self.one(&["sticky", "round_robin"]));
        }
        if self.coin(0.3) {
            t["batch_size"] = self.big_u64(2_000);
        }
        t
    }

    fn group(&mut self, name: String) -> Value {
        let topics = self.pools.topics.clone();
        let n = if self.bad() { 0 } else { 1 + self.below(3) };
        let subscribed: Vec<String> = (0..n).map(|_| self.refer(&topics)).collect();
        let mut g = json!({"name": name, "topics": subscribed});
        if self.coin(0.6) {
            g["assignor"] =
                json!(self.one(&["range", "round-robin", "sticky", "cooperative-sticky"]));
        }
        if self.coin(0.6) {
            g["auto_offset_reset"] = json!(self.one(&["earliest", "latest", "none"]));
        }
        if self.coin(0.6) {
            g["commit"] = match self.below(4) {
                0 => json!({"kind": "auto", "interval_ms": self.ms(1_000.0)}),
                1 => json!({"kind": "auto"}),
                2 => json!({
                    "kind": "after_processing",
                    "every": if self.bad() { 0 } else { self.one(&[1, 2, 5, 100]) },
                }),
                _ => json!({"kind": "before_processing"}),
            };
        }
        if self.coin(0.5) {
            g["session_timeout_ms"] = self.ms(1_000.0);
        }
        if self.coin(0.5) {
            g["max_poll_records"] = if self.bad() {
                json!(self.one(&[0, 100_001]))
            } else {
                json!(self.one(&[1, 2, 10, 500, 100_000]))
            };
        }
        if self.coin(0.5) {
            g["rebalance_ms"] = self.ms(500.0);
        }
        if self.coin(0.3) {
            g["offsets_retention_ms"] = self.ms(1_000.0);
        }
        g
    }

    fn service(&mut self, i: usize) -> Value {
        let taken = self.pools.services.clone();
        let name = self.name("svc", i, &taken);
        self.pools.services.push(name.clone());
        let concurrency = if self.bad() {
            json!(self.one(&[0, 100_001]))
        } else {
            json!(self.one(&[1, 1, 2, 4, 100_000]))
        };
        let backlog = if self.bad() {
            json!(1_000_001)
        } else {
            json!(self.one(&[0, 0, 1, 5, 1_000_000]))
        };
        json!({
            "name": name,
            "concurrency": concurrency,
            "backlog": backlog,
            "timeout_ms": self.ms(500.0),
            "processing": self.processing(),
        })
    }

    fn message(&mut self) -> Value {
        let mut m = Map::new();
        if self.coin(0.8) {
            let n = match self.below(50) {
                0 => limits::MAX_TEMPLATE_VALUES + usize::from(self.bad()),
                1 if self.bad() => 0,
                _ => 1 + self.below(4),
            };
            let keys: Vec<String> = (0..n).map(|_| self.key()).collect();
            m.insert("routing_keys".into(), json!(keys));
        }
        if self.coin(0.3) {
            let prios: Vec<Value> = (0..self.below(5))
                .map(|_| {
                    if self.bad() {
                        json!(256)
                    } else {
                        json!(self.one(&[0, 1, 2, 5, 9, 255]))
                    }
                })
                .collect();
            m.insert("priorities".into(), json!(prios));
        }
        if self.coin(0.6) {
            let size = if self.bad() {
                json!(u64::from(limits::MAX_MESSAGE_BYTES) + 1)
            } else {
                json!(self.one(&[0, 1, 100, 256, 4_096, 1 << 20, limits::MAX_MESSAGE_BYTES]))
            };
            m.insert("size_bytes".into(), size);
        }
        if self.coin(0.3) {
            let headers: Vec<Value> = (0..1 + self.below(3)).map(|_| self.headers()).collect();
            m.insert("headers".into(), json!(headers));
        }
        if self.coin(0.3) {
            let keys: Vec<String> = (0..1 + self.below(4))
                .map(|i| match self.below(5) {
                    0 => String::new(),
                    1 => "k".repeat(300),
                    2 => "키".into(),
                    _ => format!("k{i}"),
                })
                .collect();
            m.insert("keys".into(), json!(keys));
            if self.coin(0.4) {
                let tombstones: Vec<bool> =
                    (0..1 + self.below(3)).map(|_| self.coin(0.5)).collect();
                m.insert("tombstones".into(), json!(tombstones));
            }
        }
        if self.coin(0.2) {
            m.insert("ttl_ms".into(), self.ms(300.0));
        }
        if self.families.sqs {
            self.sqs_message(&mut m);
        }
        Value::Object(m)
    }

    /// SQS message attributes: groups, deduplication ids, bodies, a per-message delay.
    fn sqs_message(&mut self, m: &mut Map<String, Value>) {
        let id = |g: &mut Gen, prefix: &str| -> String {
            match g.below(12) {
                0 if g.bad() => String::new(),
                1 => "g".repeat(128 + usize::from(g.bad())),
                2 => format!("{prefix}-그룹"),
                _ => format!("{prefix}{}", g.below(6)),
            }
        };
        if self.coin(0.5) {
            let groups: Vec<String> = (0..1 + self.below(4)).map(|_| id(self, "A")).collect();
            m.insert("group_ids".into(), json!(groups));
        }
        if self.coin(0.4) {
            let ids: Vec<String> = (0..1 + self.below(30)).map(|_| id(self, "d")).collect();
            m.insert("dedup_ids".into(), json!(ids));
        }
        if self.coin(0.3) {
            let bodies: Vec<String> = (0..1 + self.below(5))
                .map(|i| {
                    if self.bad() {
                        String::new()
                    } else {
                        format!("body{i}")
                    }
                })
                .collect();
            m.insert("bodies".into(), json!(bodies));
        }
        if self.coin(0.1) {
            let delay = if self.bad() {
                json!(900_001)
            } else {
                self.ms(300.0)
            };
            m.insert("delay_ms".into(), delay);
        }
    }

    /// An SQS queue: FIFO when its name ends in `.fifo` (the type disagrees when hostile).
    fn sqs_queue(&mut self, name: String) -> Value {
        let fifo = name.ends_with(".fifo");
        let mut q = json!({"name": name});
        if fifo != self.bad() {
            if fifo {
                q["type"] = json!("fifo");
            }
        } else if !fifo {
            q["type"] = json!("fifo");
        }
        let bounded = |g: &mut Gen, max: f64, typical: f64| -> Value {
            if g.bad() {
                json!(max + 1.0)
            } else if g.coin(0.1) {
                json!(max)
            } else {
                json!(g.uniform(0.0, typical))
            }
        };
        if self.coin(0.6) {
            q["visibility_timeout_ms"] = bounded(self, 43_200_000.0, 400.0);
        }
        if self.coin(0.2) {
            q["delay_ms"] = bounded(self, 900_000.0, 300.0);
        }
        if self.coin(0.3) {
            q["receive_wait_time_ms"] = bounded(self, 20_000.0, 300.0);
        }
        if self.coin(0.2) {
            q["message_retention_ms"] = if self.bad() {
                json!(59_999)
            } else {
                json!(self.one(&[60_000, 345_600_000, 1_209_600_000]))
            };
        }
        if self.coin(0.2) {
            q["in_flight_limit"] = json!(if self.bad() {
                120_001
            } else {
                1 + self.below(5)
            });
        }
        if fifo && self.coin(0.5) {
            q["content_based_deduplication"] = json!(true);
        }
        if fifo && self.coin(0.3) {
            q["deduplication_scope"] = json!(self.one(&["queue", "message_group"]));
        }
        for field in ["duplicate_rate", "reorder_rate", "short_poll_sample"] {
            if !fifo && self.coin(0.4) {
                q[field] = self.probability();
            }
        }
        if !fifo && self.coin(0.3) {
            q["servers"] = json!(if self.bad() { 65 } else { 1 + self.below(8) });
        }
        q
    }

    /// Redrive policies to a later queue of the same type (any queue, when hostile).
    fn sqs_redrives(&mut self, queues: &mut [Value]) {
        for i in 0..queues.len() {
            if !self.coin(0.4) {
                continue;
            }
            let fifo = queues[i]["name"]
                .as_str()
                .is_some_and(|n| n.ends_with(".fifo"));
            let later: Vec<String> = queues[i + 1..]
                .iter()
                .filter_map(|q| q["name"].as_str())
                .filter(|n| n.ends_with(".fifo") == fifo)
                .map(str::to_string)
                .collect();
            let target = if later.is_empty() || self.bad() {
                let all = self.pools.sqs_queues.clone();
                self.refer(&all)
            } else {
                self.one(&later)
            };
            let count = if self.bad() { 1_001 } else { 1 + self.below(4) };
            queues[i]["redrive"] = json!({"dead_letter_queue": target, "max_receive_count": count});
        }
    }

    /// A `ReceiveMessage` setting of an SQS consumer, and sometimes a scripted decision.
    fn sqs_consumer(&mut self, c: &mut Value) {
        if self.coin(0.7) {
            let max = if self.bad() { 11 } else { 1 + self.below(10) };
            let mut r = json!({"max_messages": max});
            if self.coin(0.7) {
                r["wait_time_ms"] = if self.bad() {
                    json!(20_001)
                } else {
                    json!(self.one(&[0.0, 0.0004, 1.0, 50.0, 300.0, 20_000.0]))
                };
            }
            if self.coin(0.3) {
                r["visibility_timeout_ms"] = json!(self.uniform(0.0, 400.0));
            }
            if self.coin(0.3) {
                r["empty_backoff_ms"] = if self.bad() {
                    json!(0.5)
                } else {
                    json!(self.one(&[1, 100, 1_000]))
                };
            }
            c["sqs"] = r;
        }
        if self.coin(0.25) {
            let then = self.one(&["ack", "leave_unacked", "crash"]);
            let when = match self.below(4) {
                0 => json!({"delivery": 1 + self.below(5)}),
                1 => json!({"attempt": 1 + self.below(3)}),
                2 if self.bad() => json!({}),
                _ => json!({"msg": self.below(30)}),
            };
            c["decisions"] = json!([{"when": when, "then": then}]);
        }
    }

    /// A publish target of a family this scenario uses (or a dangling one when hostile).
    fn target(&mut self) -> Value {
        let f = self.families;
        let mut kinds = Vec::new();
        if f.rabbit {
            kinds.push("exchange");
        }
        if f.redis {
            kinds.push("channel");
        }
        if f.kafka && !self.pools.topics.is_empty() {
            kinds.push("topic");
        }
        if f.service && !self.pools.services.is_empty() {
            kinds.push("service");
        }
        if f.sqs && !self.pools.sqs_queues.is_empty() {
            kinds.push("sqs_queue");
        }
        if f.pulsar && !self.pools.pulsar_topics.is_empty() {
            kinds.push("pulsar_topic");
        }
        if f.jms {
            kinds.push("jms_queue");
            kinds.push("jms_topic");
        }
        if kinds.is_empty() {
            kinds.push("channel");
        }
        let kind = self.one(&kinds);
        let name = match kind {
            "exchange" => {
                let mut xs = self.pools.exchanges.clone();
                xs.push(String::new());
                self.refer(&xs)
            }
            "channel" => {
                if self.coin(0.8) && !self.pools.channels.is_empty() {
                    let cs = self.pools.channels.clone();
                    self.one(&cs)
                } else {
                    let c = self.one(&CHANNELS).to_string();
                    self.pools.channels.push(c.clone());
                    c
                }
            }
            "topic" => {
                let ts = self.pools.topics.clone();
                self.refer(&ts)
            }
            "sqs_queue" => {
                let qs = self.pools.sqs_queues.clone();
                self.refer(&qs)
            }
            "pulsar_topic" => {
                let ts = self.pools.pulsar_topics.clone();
                self.refer(&ts)
            }
            "jms_queue" => self.jms_name(false),
            "jms_topic" => self.jms_name(true),
            _ => {
                let ss = self.pools.services.clone();
                self.refer(&ss)
            }
        };
        json!({ kind: name })
    }

    fn producer(&mut self, name: String) -> Value {
        let n = match self.below(40) {
            0 => 16 + usize::from(self.bad()),
            1 if self.bad() => 0,
            _ => 1 + self.below(2),
        };
        let targets: Vec<Value> = (0..n).map(|_| self.target()).collect();
        let mut p = json!({"name": name, "targets": targets, "rate": self.rate()});
        if self.coin(0.8) {
            p["message"] = self.message();
        }
        if self.coin(0.25) {
            p["limit"] = self.big_u64(300);
        }
        for flag in ["mandatory", "confirms"] {
            if self.coin(0.3) {
                p[flag] = json!(self.coin(0.5));
            }
        }
        if self.coin(0.1) {
            p["paused"] = json!(true);
        }
        if !self.bad() {
            Self::fit_sqs_targets(&mut p);
        }
        if self.families.pulsar && self.coin(0.5) {
            p["pulsar"] = self.pulsar_producer();
        }
        p
    }

    /// What SQS requires of a template, so that most producers to SQS queues are valid: no
    /// per-message TTL; for FIFO, groups and deduplication ids and no per-message delay.
    fn fit_sqs_targets(p: &mut Value) {
        let targets: Vec<String> = p["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.get("sqs_queue")?.as_str().map(str::to_string))
            .collect();
        if targets.is_empty() {
            return;
        }
        if !p["message"].is_object() {
            p["message"] = json!({});
        }
        let m = p["message"].as_object_mut().expect("an object");
        m.remove("ttl_ms");
        if targets.iter().any(|t| t.ends_with(".fifo")) {
            m.remove("delay_ms");
            m.entry("group_ids").or_insert(json!(["A", "B"]));
            m.entry("dedup_ids")
                .or_insert(json!((0..40).map(|i| format!("k{i}")).collect::<Vec<_>>()));
        }
    }

    fn source(&mut self) -> Value {
        let f = self.families;
        let mut kinds = Vec::new();
        if f.rabbit && !self.pools.queues.is_empty() {
            kinds.push(0);
        }
        if f.redis || kinds.is_empty() {
            kinds.push(1);
        }
        if f.kafka && !self.pools.groups.is_empty() {
            kinds.push(2);
        }
        if f.sqs && !self.pools.sqs_queues.is_empty() {
            kinds.push(3);
        }
        if f.pulsar && !self.pools.pulsar_topics.is_empty() {
            kinds.push(4);
        }
        if f.jms {
            kinds.extend([5, 6]);
        }
        match self.one(&kinds) {
            5 => json!({"jms_queue": self.jms_name(false)}),
            6 => {
                let mut t = json!({"topic": self.jms_name(true)});
                if self.coin(0.5) {
                    // Mostly a fresh client id; a reused one is refused (one connection each).
                    let id = if self.bad() && !self.pools.client_ids.is_empty() {
                        let ids = self.pools.client_ids.clone();
                        self.one(&ids)
                    } else {
                        format!("client{}", self.pools.client_ids.len())
                    };
                    self.pools.client_ids.push(id.clone());
                    let name = if self.bad() {
                        ""
                    } else {
                        self.one(&["s", "audit"])
                    };
                    t["durable"] = json!({"client_id": id, "name": name});
                }
                json!({"jms_topic": t})
            }
            0 => {
                let qs = self.pools.queues.clone();
                json!({"queue": self.refer(&qs)})
            }
            1 => {
                let mut sub = Map::new();
                let n = self.below(3);
                if n > 0 || self.coin(0.5) {
                    let chans: Vec<String> = (0..n)
                        .map(|_| {
                            if self.coin(0.7) && !self.pools.channels.is_empty() {
                                let cs = self.pools.channels.clone();
                                self.one(&cs)
                            } else {
                                self.one(&CHANNELS).to_string()
                            }
                        })
                        .collect();
                    sub.insert("channels".into(), json!(chans));
                }
                let m = if n == 0 && !self.bad() {
                    1 + self.below(2)
                } else {
                    self.below(3)
                };
                if m > 0 || self.coin(0.5) {
                    let pats: Vec<String> = (0..m)
                        .map(|_| {
                            if self.coin(0.1) {
                                "*a".repeat(1 + self.below(60))
                            } else {
                                self.one(&PATTERNS).to_string()
                            }
                        })
                        .collect();
                    sub.insert("patterns".into(), json!(pats));
                }
                json!({"subscribe": sub})
            }
            3 => {
                let qs = self.pools.sqs_queues.clone();
                json!({"sqs_queue": self.refer(&qs)})
            }
            2 => {
                let gs = self.pools.groups.clone();
                json!({"group": self.refer(&gs)})
            }
            _ => {
                let ts = self.pools.pulsar_topics.clone();
                let kind = if self.bad() {
                    "round_robin"
                } else {
                    self.one(&SUB_TYPES)
                };
                let mut src = json!({
                    "topic": self.refer(&ts),
                    "subscription": if self.bad() { "" } else { self.one(&SUBSCRIPTIONS) },
                    "type": kind,
                });
                if self.coin(0.4) {
                    src["initial_position"] = json!(self.one(&["earliest", "latest"]));
                }
                if self.coin(0.2) {
                    src["mode"] = json!(self.one(&["durable", "non_durable"]));
                }
                json!({"pulsar": src})
            }
        }
    }

    fn consumer(&mut self, name: String) -> Value {
        let mut c = json!({"name": name, "source": self.source(), "processing": self.processing()});
        let jms_source =
            c["source"].get("jms_queue").is_some() || c["source"].get("jms_topic").is_some();
        if jms_source && !self.bad() {
            if self.coin(0.8) {
                c["jms"] = self.jms_session();
                // Exclusive consumers are a queue feature: mostly only there.
                if c["source"].get("jms_topic").is_some() && !self.bad() {
                    if let Some(j) = c["jms"].as_object_mut() {
                        j.remove("exclusive");
                    }
                }
            }
            if self.coin(0.5) {
                c["failure"] = self.failure();
            }
            if self.coin(0.3) {
                c["poison"] = self.failure();
            }
            if self.coin(0.3) {
                c["priority"] = json!(self.one(&[-1, 0, 5, 127]));
            }
            if self.coin(0.1) {
                c["stopped"] = json!(true);
            }
            return c;
        }
        let prefetch: u64 = if self.bad() {
            65_536
        } else {
            self.one(&[0, 0, 1, 1, 2, 3, 10, 2_000, 65_535])
        };
        if prefetch != 0 || self.coin(0.5) {
            c["prefetch"] = json!(prefetch);
        }
        if self.coin(0.3) {
            let cap = if prefetch == 0 {
                10
            } else {
                prefetch.min(65_535)
            };
            c["ack_batch"] = if self.bad() {
                json!(self.one(&[0, cap + 1]))
            } else if self.coin(0.3) {
                json!(cap)
            } else {
                json!(self.rng.range_u64(1, cap.min(5)))
            };
        }
        if self.coin(0.3) {
            c["ack"] = json!(self.one(&["manual", "auto"]));
        }
        if self.coin(0.3) {
            c["priority"] = json!(self.one(&[i32::MIN, -1, 0, 1, 5, i32::MAX]));
        }
        if self.coin(0.5) {
            c["failure"] = self.failure();
        }
        if self.coin(0.3) {
            c["poison"] = self.failure();
        }
        if self.coin(0.3) {
            c["output_buffer_limit_bytes"] = if self.bad() {
                json!(0)
            } else {
                json!(self.one(&[1, 100, 1_000, 33_554_432, u64::MAX]))
            };
        }
        if self.coin(0.2) {
            c["output_buffer_soft_limit_bytes"] = self.big_u64(2_000);
        }
        if self.coin(0.2) {
            // Seconds, checked as milliseconds against the one-year cap.
            c["output_buffer_soft_seconds"] = match self.ms(2.0) {
                Value::Number(n) if n.as_f64() == Some(limits::MAX_DURATION_MS) => {
                    json!(limits::MAX_DURATION_MS / 1_000.0)
                }
                v => v,
            };
        }
        if self.coin(0.1) {
            c["stopped"] = json!(true);
        }
        if c["source"].get("sqs_queue").is_some() {
            if !self.bad() {
                // SQS has no auto-ack.
                c.as_object_mut().expect("an object").remove("ack");
            }
            self.sqs_consumer(&mut c);
        }
        if self.families.pulsar && self.coin(0.5) {
            c["pulsar"] = self.pulsar_consumer();
        }
        c
    }

    // ------------------------------------------------------------ Apache Pulsar

    fn pulsar(&mut self) -> Value {
        let topics: Vec<Value> = (0..1 + self.count(2))
            .map(|i| self.pulsar_topic(i))
            .collect();
        let mut p = json!({ "topics": topics });
        if self.coin(0.6) {
            p["broker"] = self.pulsar_broker();
        }
        if self.coin(0.3) {
            let ts = self.pools.pulsar_topics.clone();
            let subs: Vec<Value> = (0..1 + self.below(3))
                .map(|_| {
                    json!({
                        "topic": self.refer(&ts),
                        "name": self.one(&SUBSCRIPTIONS),
                        "initial_position": self.one(&["earliest", "latest"]),
                    })
                })
                .collect();
            p["subscriptions"] = json!(subs);
        }
        p
    }

    fn pulsar_topic(&mut self, i: usize) -> Value {
        let taken = self.pools.pulsar_topics.clone();
        let name = self.name("pt", i, &taken);
        self.pools.pulsar_topics.push(name.clone());
        let mut t = json!({ "name": name });
        if self.coin(0.6) {
            t["partitions"] = if self.bad() {
                json!(self.one(&[1_025, -1]))
            } else if self.coin(0.03) {
                json!(1_024)
            } else {
                json!(self.one(&[0, 0, 1, 2, 5]))
            };
        }
        if self.coin(0.4) {
            t["retention"] = if self.bad() {
                self.one(&[
                    json!({ "time_ms": 0, "size_bytes": 5 }),
                    json!({ "time_ms": -2, "size_bytes": 0 }),
                    json!({ "time_ms": 5 }),
                ])
            } else {
                // Both limits or neither: 0 with a non-zero value is refused.
                let time = self.ms_at_least(1.0, 1_500.0);
                let size = json!(self.one(&[1i64, 500, 5_000, i64::MAX]));
                match self.below(5) {
                    0 => json!({ "time_ms": 0, "size_bytes": 0 }),
                    1 => json!({ "time_ms": -1, "size_bytes": -1 }),
                    2 => json!({ "time_ms": time, "size_bytes": -1 }),
                    3 => json!({ "time_ms": -1, "size_bytes": size }),
                    _ => json!({ "time_ms": time, "size_bytes": size }),
                }
            };
        }
        if self.coin(0.3) {
            t["ttl_ms"] = self.ms(800.0);
        }
        t
    }

    fn pulsar_broker(&mut self) -> Value {
        let mut b = Map::new();
        let mut count = |g: &mut Gen, field: &str, small: u64| {
            if g.coin(0.4) {
                let v = if g.bad() {
                    json!(g.one(&[0, 10_000_001]))
                } else {
                    json!(g.one(&[1, small, small, 10_000_000]))
                };
                b.insert(field.into(), v);
            }
        };
        count(self, "dispatcher_max_round_robin_batch_size", 2);
        count(self, "dispatcher_max_read_batch_size", 5);
        count(self, "max_unacked_messages_per_consumer", 3);
        count(self, "max_unacked_messages_per_subscription", 5);
        count(self, "ledger_max_entries", 3);
        if self.coin(0.3) {
            b.insert(
                "key_shared_replica_points".into(),
                json!(self.one(&[1, 100, 1_000])),
            );
        }
        if self.coin(0.4) {
            b.insert(
                "key_shared_selector".into(),
                json!(self.one(&["consistent_hashing", "hash_ranges"])),
            );
        }
        if self.coin(0.4) {
            b.insert("active_consumer_failover_delay_ms".into(), self.ms(1_000.0));
        }
        // The maximum rollover time may not be below the minimum (4 h by default).
        if self.coin(0.4) {
            let min = if self.bad() {
                json!(limits::MAX_DURATION_MS)
            } else {
                json!(self.one(&[0.0, 0.0, 100.0, 600_000.0]))
            };
            b.insert("ledger_min_rollover_ms".into(), min);
            if self.coin(0.5) {
                b.insert(
                    "ledger_max_rollover_ms".into(),
                    self.ms_at_least(600_000.0, 2_000.0),
                );
            }
        }
        for (field, typical) in [
            ("retention_check_interval_ms", 700.0),
            ("message_expiry_check_interval_ms", 700.0),
        ] {
            if self.coin(0.4) {
                b.insert(field.into(), self.ms_at_least(1.0, typical));
            }
        }
        Value::Object(b)
    }

    fn pulsar_producer(&mut self) -> Value {
        let mut p = json!({});
        if self.coin(0.5) {
            p["routing_mode"] = json!(self.one(&["round_robin", "single_partition"]));
        }
        if self.coin(0.5) {
            p["hashing_scheme"] = json!(self.one(&["java_string_hash", "murmur3_32"]));
        }
        if self.coin(0.7) {
            let mut b = json!({ "enabled": self.coin(0.6) });
            if self.coin(0.4) {
                b["max_delay_ms"] = self.ms(5.0);
            }
            if self.coin(0.3) {
                b["max_messages"] = json!(if self.bad() {
                    0
                } else {
                    self.one(&[1, 3, 1_000])
                });
            }
            if self.coin(0.3) {
                b["max_bytes"] = json!(self.one(&[1, 300, 131_072]));
            }
            if self.coin(0.3) {
                b["key_based"] = json!(self.coin(0.5));
            }
            p["batching"] = b;
        }
        p
    }

    fn pulsar_consumer(&mut self) -> Value {
        let mut c = Map::new();
        if self.coin(0.5) {
            let q = if self.bad() {
                self.one(&[0, 65_536])
            } else {
                self.one(&[1, 1, 2, 5, 1_000, 65_535])
            };
            c.insert("receiver_queue_size".into(), json!(q));
        }
        if self.coin(0.3) {
            c.insert("priority_level".into(), json!(self.one(&[0, 1, 5])));
        }
        if self.coin(0.3) {
            c.insert("ack".into(), json!(self.one(&["individual", "cumulative"])));
        }
        if self.coin(0.5) {
            c.insert("ack_group_time_ms".into(), self.ms(200.0));
        }
        if self.coin(0.2) {
            c.insert(
                "ack_group_max".into(),
                json!(if self.bad() {
                    0
                } else {
                    self.one(&[1, 3, 1_000])
                }),
            );
        }
        if self.coin(0.4) {
            c.insert("on_failure".into(), json!(self.one(&["nack", "no_ack"])));
        }
        if self.coin(0.6) {
            c.insert("negative_ack_redelivery_delay_ms".into(), self.ms(500.0));
        }
        if self.coin(0.2) {
            c.insert(
                "negative_ack_backoff".into(),
                json!({ "min_ms": self.ms(200.0), "max_ms": 1_000, "multiplier": self.one(&[1.0, 2.0, 0.5]) }),
            );
        }
        if self.coin(0.3) {
            let t = if self.bad() {
                json!(500)
            } else {
                json!(self.one(&[0, 1_000, 1_500, 2_500]))
            };
            c.insert("ack_timeout_ms".into(), t);
            c.insert("ack_timeout_tick_ms".into(), self.ms_at_least(1.0, 300.0));
        }
        if self.coin(0.3) {
            let ts = self.pools.pulsar_topics.clone();
            let mut d =
                json!({ "max_redeliver_count": if self.bad() { 0 } else { self.one(&[1, 2, 3]) } });
            if self.coin(0.5) {
                d["dead_letter_topic"] = json!(self.refer(&ts));
            }
            if self.coin(0.4) {
                d["initial_subscription_name"] = json!(self.one(&SUBSCRIPTIONS));
            }
            c.insert("dead_letter_policy".into(), d);
        }
        if self.coin(0.15) {
            let ranges = if self.bad() {
                json!([[5, 2]])
            } else {
                self.one(&[
                    json!([[0, 32_767]]),
                    json!([[32_768, 65_535]]),
                    json!([[0, 65_535]]),
                ])
            };
            c.insert(
                "key_shared_policy".into(),
                json!({ "mode": "sticky", "ranges": ranges }),
            );
        }
        Value::Object(c)
    }

    fn pulsar_command(&mut self) -> Value {
        let ts = self.pools.pulsar_topics.clone();
        let topic = self.refer(&ts);
        let subscription = self.one(&SUBSCRIPTIONS);
        if self.coin(0.3) {
            return json!({ "create_subscription": {
                "topic": topic, "subscription": subscription,
                "initial_position": self.one(&["earliest", "latest"]),
            } });
        }
        let to = match self.below(5) {
            0 => json!("earliest"),
            1 => json!("latest"),
            2 => json!({ "entry": self.big_u64(20) }),
            3 => json!({ "timestamp_ms": self.ms(HORIZON_MS as f64) }),
            _ if self.bad() => json!("middle"),
            _ => json!("earliest"),
        };
        json!({ "reset_cursor": { "topic": topic, "subscription": subscription, "to": to } })
    }

    /// A JMS destination name: mostly one named before, sometimes a new one (created on use).
    fn jms_name(&mut self, topic: bool) -> String {
        let pool = if topic {
            self.pools.jms_topics.clone()
        } else {
            self.pools.jms_queues.clone()
        };
        if !pool.is_empty() && self.coin(0.7) {
            return self.one(&pool);
        }
        let name = match self.below(8) {
            0 => "ActiveMQ.DLQ".to_string(),
            1 if self.bad() => String::new(),
            2 => "목록".to_string(),
            _ => format!("{}{}", if topic { "jt" } else { "jq" }, pool.len()),
        };
        if topic {
            self.pools.jms_topics.push(name.clone());
        } else {
            self.pools.jms_queues.push(name.clone());
        }
        name
    }

    /// A JMS session: every acknowledge mode, API, prefetch and redelivery policy; the odd
    /// combinations the client refuses come up now and then.
    fn jms_session(&mut self) -> Value {
        let mode = self.one(&["auto", "client", "dups_ok", "individual", "transacted"]);
        let mut j = json!({"ack_mode": mode});
        let receive = self.coin(0.3);
        if receive {
            j["api"] = json!("receive");
        }
        if self.coin(0.6) {
            let p = self.one(&[0u32, 1, 2, 5, 100, 32_767]);
            if p > 0 || receive || self.bad() {
                j["prefetch"] = json!(if self.bad() { 32_768 } else { p });
            }
        }
        let every = json!(if self.bad() { 0 } else { 1 + self.below(4) });
        match mode {
            "client" => {
                j["ack_every"] = every;
                if self.coin(0.3) {
                    j["on_failure"] = json!("recover");
                }
            }
            "transacted" => {
                j["commit_every"] = every;
                if self.coin(0.3) {
                    j["on_failure"] = json!("rollback");
                }
            }
            _ if self.bad() => j["on_failure"] = json!("rollback"),
            _ => {}
        }
        if self.coin(0.2) {
            j["exclusive"] = json!(true);
        }
        if self.coin(0.6) {
            let max = if self.bad() {
                -2
            } else {
                self.one(&[-1, 0, 1, 6])
            };
            j["redelivery"] = json!({
                "maximum_redeliveries": max,
                "initial_redelivery_delay_ms": self.one(&[0u64, 1, 100, 1_000]),
                "redelivery_delay_ms": self.one(&[0u64, 1, 100, 1_000]),
                "use_exponential_backoff": self.coin(0.5),
                "backoff_multiplier": if self.bad() { 0.5 } else { self.one(&[1.0, 2.0, 5.0]) },
                "maximum_redelivery_delay_ms": self.one(&[-1i64, 0, 500]),
            });
        }
        j
    }

    /// The broker's JMS settings, and destinations declared up front.
    fn jms_settings(&mut self) -> Value {
        let mut j = json!({});
        if self.coin(0.3) {
            j["broker"] = json!("artemis");
            if self.coin(0.7) {
                j["artemis"] = json!({
                    "max_delivery_attempts": if self.bad() { 0 } else { 1 + self.below(10) },
                    "dead_letter_address": self.one(&[json!("DLQ"), Value::Null, json!("dead")]),
                    "redelivery_delay_ms": self.one(&[0u64, 10, 1_000]),
                    "redelivery_delay_multiplier": self.one(&[1.0, 2.0]),
                });
            }
        } else if self.bad() {
            j["artemis"] = json!({});
        }
        if self.coin(0.4) {
            j["dead_letter_strategy"] = if self.coin(0.5) {
                json!({"kind": "individual", "queue_prefix": self.one(&["DLQ.", ""])})
            } else {
                json!({"kind": "shared", "queue": self.jms_name(false)})
            };
        }
        for flag in ["process_non_persistent", "process_expired"] {
            if self.coin(0.3) {
                j[flag] = json!(self.coin(0.5));
            }
        }
        if self.coin(0.5) {
            j["expire_messages_period_ms"] = self.ms_at_least(1.0, 500.0);
        }
        // Fresh names, each declared once (a duplicate when hostile).
        let declared = |g: &mut Gen, topic: bool| -> Vec<Value> {
            let prefix = if topic { "jt" } else { "jq" };
            (0..g.count(2))
                .map(|i| {
                    let pool = if topic {
                        &g.pools.jms_topics
                    } else {
                        &g.pools.jms_queues
                    };
                    let name = g.name(prefix, 10 + i, &pool.clone());
                    let pool = if topic {
                        &mut g.pools.jms_topics
                    } else {
                        &mut g.pools.jms_queues
                    };
                    pool.push(name.clone());
                    json!({"name": name})
                })
                .collect()
        };
        let qs = declared(self, false);
        let ts = declared(self, true);
        j["queues"] = json!(qs);
        j["topics"] = json!(ts);
        if self.coin(0.3) {
            let id = format!("declared{}", self.below(2));
            j["durable_subscriptions"] =
                json!([{"topic": self.jms_name(true), "client_id": id, "name": "s"}]);
        }
        j
    }

    /// A JMS command: destinations, unsubscribe, a broker restart.
    fn jms_command(&mut self) -> Value {
        match self.below(4) {
            0 => json!({"add_jms_queue": {"queue": {"name": self.jms_name(false)}}}),
            1 => json!({"add_jms_topic": {"topic": {"name": self.jms_name(true)}}}),
            2 => {
                let ids = self.pools.client_ids.clone();
                let id = self.refer(&ids);
                json!({"unsubscribe_durable": {"client_id": id, "name": self.one(&["s", "audit"])}})
            }
            _ => json!({"restart_jms_broker": {"downtime_ms": self.ms(800.0)}}),
        }
    }

    fn localized(&mut self) -> Value {
        if self.bad() {
            json!({"en": "", "ko": "x"})
        } else {
            json!({"en": "Title", "ko": "제목"})
        }
    }

    fn scenario(&mut self) -> Value {
        let rabbit = self.coin(0.65);
        let redis = self.coin(0.35);
        let kafka = self.coin(0.35);
        let service = self.coin(0.2);
        let sqs = self.coin(0.25);
        let pulsar = self.pulsar_rng.chance(0.3);
        let jms = self.coin(0.3);
        self.families = Families {
            rabbit: rabbit || !(redis || kafka || service || sqs || pulsar || jms),
            redis,
            kafka,
            service,
            sqs,
            pulsar,
            jms,
        };
        let f = self.families;
        let mut s = json!({"version": if self.bad() { 2 } else { 1 }});
        if self.coin(0.8) {
            s["latency_ms"] = match self.below(6) {
                0 | 1 => json!(0),
                2 => json!(1_000),
                _ => self.ms(20.0),
            };
        }
        if self.coin(0.2) {
            s["rabbitmq_version"] = json!(if self.bad() { "3.13" } else { "4.3" });
        }
        if self.coin(0.1) {
            s["title"] = self.localized();
        }
        if self.coin(0.05) {
            // The core ignores a lesson's steps but validates them.
            let steps: Vec<Value> = (0..self.below(4))
                .map(|i| {
                    let mut step = json!({
                        "at_ms": if self.bad() { json!(-1) } else { json!(i * 500) },
                        "text": self.localized(),
                        "highlight": ["q0", "ghost", ""],
                    });
                    if self.coin(0.5) {
                        step["question"] = self.localized();
                        if !self.bad() {
                            step["answer"] = self.localized();
                        }
                    }
                    step
                })
                .collect();
            s["narration"] = json!({"goal": self.localized(), "steps": steps});
        }
        if f.rabbit {
            let xs: Vec<Value> = (0..self.count(3)).map(|i| self.exchange(i)).collect();
            s["exchanges"] = json!(xs);
            let mut qs = Vec::new();
            for i in 0..self.count(4) {
                let taken = self.pools.queues.clone();
                let name = self.name("q", i, &taken);
                self.pools.queues.push(name.clone());
                qs.push(self.queue(name));
            }
            s["queues"] = json!(qs);
            let (nx, nq) = (self.pools.exchanges.len(), self.pools.queues.len());
            if nx > 1 || (nx == 1 && nq > 0) {
                let bs: Vec<Value> = (0..self.count(5)).map(|_| self.binding()).collect();
                self.pools.bindings = bs.clone();
                s["bindings"] = json!(bs);
            }
        }
        if f.kafka {
            let ts: Vec<Value> = (0..1 + self.count(2)).map(|i| self.topic(i)).collect();
            s["topics"] = json!(ts);
            let mut gs = Vec::new();
            for i in 0..self.count(2) {
                let taken = self.pools.groups.clone();
                let name = self.name("g", i, &taken);
                self.pools.groups.push(name.clone());
                gs.push(self.group(name));
            }
            s["groups"] = json!(gs);
        }
        if f.service {
            let ss: Vec<Value> = (0..1 + self.count(1)).map(|i| self.service(i)).collect();
            s["services"] = json!(ss);
        }
        if f.sqs {
            let mut qs = Vec::new();
            for i in 0..1 + self.count(3) {
                let taken = self.pools.sqs_queues.clone();
                let mut name = self.name("sq", i, &taken);
                if self.coin(0.4) {
                    name.push_str(".fifo");
                }
                self.pools.sqs_queues.push(name.clone());
                qs.push(self.sqs_queue(name));
            }
            self.sqs_redrives(&mut qs);
            self.pools.sqs_queue_specs = qs.clone();
            s["sqs_queues"] = json!(qs);
        }
        if f.pulsar {
            s["pulsar"] = self.pulsar();
        }
        if f.jms && self.coin(0.7) {
            s["jms"] = self.jms_settings();
        }
        let mut ps = Vec::new();
        for i in 0..self.count(3) {
            let taken = self.pools.producers.clone();
            let name = self.name("p", i, &taken);
            self.pools.producers.push(name.clone());
            ps.push(self.producer(name));
        }
        s["producers"] = json!(ps);
        let mut cs = Vec::new();
        for i in 0..self.count(4) {
            let taken = self.pools.consumers.clone();
            let name = self.name("c", i, &taken);
            self.pools.consumers.push(name.clone());
            cs.push(self.consumer(name));
        }
        s["consumers"] = json!(cs);
        if self.coin(0.3) {
            let script: Vec<Value> = (0..1 + self.below(6))
                .map(|_| {
                    let at = if self.coin(0.9) {
                        json!(self.below(HORIZON_MS as usize + 1))
                    } else {
                        self.ms(HORIZON_MS as f64)
                    };
                    json!({"at_ms": at, "command": self.command()})
                })
                .collect();
            s["script"] = json!(script);
        }
        s
    }

    // ------------------------------------------------------------ commands

    fn consumer_name(&mut self) -> String {
        let cs = self.pools.consumers.clone();
        self.refer(&cs)
    }

    fn producer_name(&mut self) -> String {
        let ps = self.pools.producers.clone();
        self.refer(&ps)
    }

    /// A command of any kind; names mostly exist, and added entities join the pools.
    fn command(&mut self) -> Value {
        if self.families.pulsar && self.coin(0.15) {
            return self.pulsar_command();
        }
        if self.families.jms && self.coin(0.15) {
            return self.jms_command();
        }
        match self.below(29) {
            0 | 1 => json!({"crash_consumer": {"consumer": self.consumer_name()}}),
            2 | 3 => json!({"restart_consumer": {"consumer": self.consumer_name()}}),
            4 => {
                let factor = if self.bad() {
                    self.one(&[json!(0), json!(1_000.001), json!(-1), json!(1e308)])
                } else {
                    self.one(&[json!(0.01), json!(0.5), json!(1), json!(3), json!(1_000)])
                };
                json!({"slow_consumer": {"consumer": self.consumer_name(), "factor": factor}})
            }
            5 => json!({"pause_producer": {"producer": self.producer_name()}}),
            6 => json!({"resume_producer": {"producer": self.producer_name()}}),
            7 => json!({"set_rate": {"producer": self.producer_name(), "rate": self.rate()}}),
            8 | 9 => {
                json!({"burst": {"producer": self.producer_name(), "count": self.burst_count()}})
            }
            10 => json!({"poison": {"producer": self.producer_name()}}),
            11 => {
                let taken = self.pools.queues.clone();
                let name = self.name("nq", taken.len(), &taken);
                self.pools.queues.push(name.clone());
                let q = self.queue(name);
                self.pools.queue_specs.push(q.clone());
                json!({"add_queue": {"queue": q}})
            }
            12 => {
                let qs = self.pools.queues.clone();
                let name = self.refer(&qs);
                let mut q = self.queue(name.clone());
                // Type and x-max-priority are fixed at declaration: mostly keep them.
                let old = self
                    .pools
                    .queue_specs
                    .iter()
                    .find(|q| q["name"] == name.as_str())
                    .cloned();
                if let (false, Some(old)) = (self.bad(), old) {
                    for field in ["type", "max_priority"] {
                        match old.get(field) {
                            Some(v) => q[field] = v.clone(),
                            None => {
                                q.as_object_mut().expect("an object").remove(field);
                            }
                        }
                    }
                }
                json!({"update_queue": {"queue": q}})
            }
            13 => json!({"add_binding": {"binding": self.binding()}}),
            14 => {
                let binding = if self.coin(0.7) && !self.pools.bindings.is_empty() {
                    let bs = self.pools.bindings.clone();
                    self.one(&bs)
                } else {
                    self.binding()
                };
                json!({"remove_binding": {"binding": binding}})
            }
            15 => {
                let taken = self.pools.producers.clone();
                let name = self.name("np", taken.len(), &taken);
                self.pools.producers.push(name.clone());
                json!({"add_producer": {"producer": self.producer(name)}})
            }
            16 => {
                let name = self.producer_name();
                json!({"update_producer": {"producer": self.producer(name)}})
            }
            17 => json!({"remove_producer": {"producer": self.producer_name()}}),
            18 => {
                let taken = self.pools.consumers.clone();
                let name = self.name("nc", taken.len(), &taken);
                self.pools.consumers.push(name.clone());
                let c = self.consumer(name);
                self.pools.consumer_specs.push(c.clone());
                json!({"add_consumer": {"consumer": c}})
            }
            19 => {
                let name = self.consumer_name();
                let mut c = self.consumer(name.clone());
                // A consumer's source cannot change: mostly keep it.
                let old = self
                    .pools
                    .consumer_specs
                    .iter()
                    .find(|c| c["name"] == name.as_str())
                    .cloned();
                if let (false, Some(old)) = (self.bad(), old) {
                    c["source"] = old["source"].clone();
                }
                json!({"update_consumer": {"consumer": c}})
            }
            20 => json!({"remove_consumer": {"consumer": self.consumer_name()}}),
            21 | 22 => json!({"double_ack": {"consumer": self.consumer_name()}}),
            23 => {
                let taken = self.pools.groups.clone();
                let name = self.name("ng", taken.len(), &taken);
                self.pools.groups.push(name.clone());
                json!({"add_group": {"group": self.group(name)}})
            }
            24 => {
                let gs = self.pools.groups.clone();
                let to = match self.below(5) {
                    0 => json!("earliest"),
                    1 => json!("latest"),
                    2 => json!({"offset": self.big_u64(50)}),
                    3 => json!({"timestamp_ms": self.ms(HORIZON_MS as f64)}),
                    _ if self.bad() => json!("middle"),
                    _ => json!("earliest"),
                };
                json!({"reset_offsets": {"group": self.refer(&gs), "to": to}})
            }
            26 => {
                let taken = self.pools.sqs_queues.clone();
                let name = self.name("nsq", taken.len(), &taken);
                self.pools.sqs_queues.push(name.clone());
                let q = self.sqs_queue(name);
                self.pools.sqs_queue_specs.push(q.clone());
                json!({"add_sqs_queue": {"queue": q}})
            }
            27 => {
                let qs = self.pools.sqs_queues.clone();
                let name = self.refer(&qs);
                let mut q = self.sqs_queue(name.clone());
                // The type is fixed: mostly keep it, and keep the redrive policy.
                let old = (self.pools.sqs_queue_specs.iter())
                    .find(|q| q["name"] == name.as_str())
                    .cloned();
                if let (false, Some(old)) = (self.bad(), old) {
                    for field in ["type", "redrive"] {
                        match old.get(field) {
                            Some(v) => q[field] = v.clone(),
                            None => {
                                q.as_object_mut().expect("an object").remove(field);
                            }
                        }
                    }
                }
                json!({"update_sqs_queue": {"queue": q}})
            }
            28 => {
                let timeout = if self.bad() {
                    json!(43_200_001)
                } else {
                    self.ms(500.0)
                };
                json!({"change_visibility": {"consumer": self.consumer_name(), "timeout_ms": timeout}})
            }
            // Not a command at all: `apply` is never reached, the JSON is refused.
            _ if self.bad() => json!({"explode": {}}),
            _ => json!({"poison": {"producer": self.producer_name()}}),
        }
    }

    /// Commands for `apply`, at whole milliseconds, in time order (some at the same instant).
    fn commands(&mut self) -> Vec<(u64, Value)> {
        let n = match self.below(10) {
            0 => 0,
            1 => 20 + self.below(40),
            _ => self.below(12),
        };
        let mut out: Vec<(u64, Value)> = (0..n)
            .map(|_| {
                let at = match self.below(8) {
                    0 => 0,
                    1 => HORIZON_MS,
                    _ => self.rng.range_u64(0, HORIZON_MS),
                };
                (at, self.command())
            })
            .collect();
        out.sort_by_key(|(at, _)| *at);
        out
    }

    // ------------------------------------------------------------ Redis Streams

    /// A stream with hostile caps, ids and groups, a producer and readers of it, and the stream
    /// commands, all drawn from `streams_rng` (RST-1..9).
    fn add_streams(&mut self, s: &mut Value, commands: &mut Vec<(u64, Value)>) {
        let r = &mut self.streams_rng;
        // A value marked `bad` is drawn only in a hostile case, so most cases stay runnable.
        let hostile = r.chance(0.15);
        let mut pick = |xs: &[Value]| {
            let ok: Vec<&Value> = (xs.iter())
                .filter(|v| hostile || v.get(BAD).is_none())
                .collect();
            let v = ok[r.range_u64(0, ok.len() as u64 - 1) as usize];
            v.get(BAD).cloned().unwrap_or_else(|| v.clone())
        };
        let max_id = json!("18446744073709551615-18446744073709551615");
        let key = pick(&[
            json!("events"),
            json!("events"),
            bad(json!("스트림")),
            bad(json!("")),
        ]);
        let group = |pick: &mut dyn FnMut(&[Value]) -> Value| {
            pick(&[json!("g"), json!("g2"), bad(json!("ghost"))])
        };
        let start = pick(&[
            json!("$"),
            json!("0"),
            json!("5-0"),
            bad(json!("x")),
            max_id.clone(),
        ]);
        let mut stream = json!({
            "key": "events",
            "node_max_entries": pick(&[json!(1), json!(2), json!(100), bad(json!(0)), json!(u32::MAX)]),
            "node_max_bytes": pick(&[json!(16), json!(4096), json!(1)]),
            "replication_lag_ms": pick(&[json!(0), json!(100), bad(json!(-1))]),
            "groups": [{ "name": "g", "start": start }, { "name": pick(&[json!("g2"), bad(json!("g"))]), "start": "0" }],
        });
        if pick(&[json!(true), json!(false)]) == json!(true) {
            stream["maxlen"] = json!({
                "count": pick(&[json!(0), json!(3), json!(u64::MAX)]),
                "approx": pick(&[json!(true), json!(false)]),
            });
        }
        let producer = json!({
            "name": "sp", "targets": [{ "stream": key.clone() }],
            "rate": { "kind": "constant", "per_sec": pick(&[json!(10), json!(200), json!(1000)]) },
            "message": { "stream_ids": pick(&[
                json!([]), json!(["*", "1-0"]), json!(["*", max_id.clone()]), bad(json!(["bad"]))
            ]) },
        });
        let n = pick(&[json!(0), json!(1), json!(2), json!(3)])
            .as_u64()
            .unwrap_or(0);
        let consumers: Vec<Value> = (0..n)
            .map(|i| {
                let source = if pick(&[json!(true), json!(false)]) == json!(true) {
                    json!({ "stream_group": { "stream": key.clone(), "group": group(&mut pick) } })
                } else {
                    let from = pick(&[json!("0"), json!("$"), json!("7-0"), bad(json!("x"))]);
                    json!({ "stream_read": { "stream": key.clone(), "from": from } })
                };
                let mut read = json!({
                    "count": pick(&[json!(1), json!(10), bad(json!(0)), json!(u32::MAX)]),
                    "noack": pick(&[json!(false), json!(false), json!(true)]),
                    "on_start": pick(&[json!("pending_first"), json!("new_only")]),
                    "resume": pick(&[json!("last_id"), json!("from")]),
                });
                if let Some(b) = pick(&[Value::Null, json!(0), json!(5), bad(json!(1e12))]).as_f64() {
                    read["block_ms"] = json!(b);
                }
                let noack = read["noack"] == json!(true);
                if pick(&[json!(true), json!(false)]) == json!(true) && (!noack || hostile) {
                    read["claim"] = json!({
                        "every_ms": pick(&[json!(1), json!(50), bad(json!(0))]),
                        "min_idle_ms": pick(&[json!(0), json!(100)]),
                        "count": pick(&[json!(1), json!(100), bad(json!(0)), json!(u32::MAX)]),
                    });
                }
                json!({
                    "name": format!("sc{i}"), "source": source, "stream": read,
                    "processing": { "kind": "fixed", "ms": pick(&[json!(0), json!(1), json!(20)]) },
                    "decisions": pick(&[json!([]), json!([{ "when": { "delivery": 2 }, "then": "crash" }])]),
                })
            })
            .collect();
        let n_cmds = pick(&[json!(0), json!(2), json!(6)]).as_u64().unwrap_or(0);
        for _ in 0..n_cmds {
            let at = r_time(&mut pick);
            let consumer = pick(&[json!("sc0"), json!("sc1"), json!("ghost")]);
            let ids = pick(&[json!(["0-1", "5-0"]), json!(["x"]), json!([max_id.clone()])]);
            let min_idle = pick(&[json!(0), json!(100), json!(-1)]);
            let command = match pick(&[json!(0), json!(1), json!(2), json!(3), json!(4), json!(5)])
                .as_u64()
            {
                Some(0) => json!({ "xclaim": { "stream": key.clone(), "group": group(&mut pick),
                    "consumer": consumer, "min_idle_ms": min_idle, "ids": ids,
                    "justid": pick(&[json!(false), json!(true)]) } }),
                Some(1) => {
                    json!({ "xautoclaim": { "stream": key.clone(), "group": group(&mut pick),
                    "consumer": consumer, "min_idle_ms": min_idle,
                    "count": pick(&[json!(1), json!(0), json!(u32::MAX)]) } })
                }
                Some(2) => json!({ "xtrim": { "stream": key.clone(),
                    "maxlen": { "count": pick(&[json!(0), json!(2)]), "approx": pick(&[json!(true), json!(false)]) } } }),
                Some(3) => {
                    json!({ "xgroup_setid": { "stream": key.clone(), "group": group(&mut pick),
                    "id": pick(&[json!("$"), json!("0"), json!("x"), max_id.clone()]) } })
                }
                Some(4) => json!({ "redis_failover": { "stream": key.clone() } }),
                _ => json!({ "add_stream_group": { "stream": key.clone(),
                    "group": { "name": group(&mut pick), "start": pick(&[json!("$"), json!("y")]) } } }),
            };
            commands.push((at, command));
        }
        commands.sort_by_key(|(at, _)| *at);
        s["streams"] = json!([stream]);
        for (field, add) in [("producers", vec![producer]), ("consumers", consumers)] {
            match s.get_mut(field).and_then(Value::as_array_mut) {
                Some(list) => list.extend(add),
                None => s[field] = json!(add),
            }
        }
    }

    // ------------------------------------------------------------ blind mutations

    /// Replaces, removes or adds something at a random place in the JSON tree.
    fn mutate(&mut self, v: &mut Value) {
        let depth = self.below(6);
        self.mutate_at(v, depth);
    }

    fn mutate_at(&mut self, node: &mut Value, depth: usize) {
        if depth > 0 {
            match node {
                Value::Object(m) if !m.is_empty() => {
                    let k = m
                        .keys()
                        .nth(self.below(m.len()))
                        .cloned()
                        .expect("in range");
                    return self.mutate_at(m.get_mut(&k).expect("present"), depth - 1);
                }
                Value::Array(a) if !a.is_empty() => {
                    let i = self.below(a.len());
                    return self.mutate_at(&mut a[i], depth - 1);
                }
                _ => {}
            }
        }
        match (self.below(6), &mut *node) {
            (0, Value::Object(m)) if !m.is_empty() => {
                let k = m
                    .keys()
                    .nth(self.below(m.len()))
                    .cloned()
                    .expect("in range");
                m.remove(&k);
            }
            (1, Value::Object(m)) => {
                m.insert("unexpected".into(), json!(1));
            }
            (2, Value::Array(a)) if !a.is_empty() => {
                let x = a[self.below(a.len())].clone();
                a.push(x);
            }
            (3, Value::String(s)) => s.push_str(&"z".repeat(300)),
            _ => {
                *node = self.one(&[
                    json!(0),
                    json!(-1),
                    json!(u64::MAX),
                    json!(1e300),
                    json!(""),
                    json!([]),
                    json!({}),
                    Value::Null,
                    json!(true),
                    json!("ghost"),
                ]);
            }
        }
    }

    fn case(seed: u64, examples: &[(String, Value)]) -> Case {
        let mut g = Gen::new(seed);
        let (mut scenario, mut origin) = if !examples.is_empty() && g.coin(0.08) {
            let (name, v) = g.one(examples);
            g.families = Families {
                rabbit: true,
                redis: true,
                kafka: true,
                service: true,
                sqs: true,
                pulsar: v.get("pulsar").is_some(),
                jms: true,
            };
            (v, format!("example {name}"))
        } else {
            (g.scenario(), "generated".to_string())
        };
        if g.coin(0.1) {
            let n = 1 + g.below(3);
            for _ in 0..n {
                g.mutate(&mut scenario);
            }
            origin.push_str(&format!(", {n} blind mutation(s)"));
        }
        // Commands name what the scenario really declares, whatever the generator meant.
        g.pools = Pools::from_scenario(&scenario);
        let mut commands = g.commands();
        if scenario.is_object() && g.streams_rng.chance(0.3) {
            g.add_streams(&mut scenario, &mut commands);
            origin.push_str(", Redis Streams");
        }
        let mut text = serde_json::to_string_pretty(&scenario).expect("JSON values serialise");
        if g.coin(0.02) {
            // Damaged text: cut at a char boundary.
            let mut cut = g.below(text.len() + 1);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            origin.push_str(", truncated");
        }
        let horizon_ms = if g.coin(0.05) {
            LONG_HORIZON_MS
        } else {
            HORIZON_MS
        };
        Case {
            seed,
            text,
            commands,
            origin,
            horizon_ms,
        }
    }
}

/// Marks a value the streams generator draws only in hostile cases.
const BAD: &str = "__bad";

fn bad(v: Value) -> Value {
    json!({ BAD: v })
}

/// A command time: mostly inside the horizon, sometimes at its edges.
fn r_time(pick: &mut dyn FnMut(&[Value]) -> Value) -> u64 {
    let at = pick(&[
        json!(0),
        json!(1),
        json!(250),
        json!(900),
        json!(1_700),
        json!(HORIZON_MS),
    ]);
    at.as_u64().unwrap_or(0)
}

/// Every scenario file under `scenarios/`, sorted, to start some cases from.
fn examples() -> Vec<(String, Value)> {
    fn walk(dir: &Path, out: &mut Vec<(String, Value)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut paths: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "json") {
                let text = std::fs::read_to_string(&p).expect("readable scenario file");
                let v = serde_json::from_str(&text).expect("scenario files are JSON");
                let name = p.file_name().unwrap_or_default().to_string_lossy();
                out.push((name.into_owned(), v));
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios"),
        &mut out,
    );
    out
}

// ------------------------------------------------------------------ running a case

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Refused with an `Err` by `Scenario::from_json` or `Simulation::new`.
    Invalid,
    /// Ran to the horizon within the item budget.
    Reached,
    /// Stopped by the item budget.
    Capped,
    /// Halted by the engine's guard (a zero-time loop), which names the reason.
    Halted,
}

#[derive(Default)]
struct Stats {
    outcomes: BTreeMap<&'static str, u64>,
    /// Commands by kind: (accepted, refused by `apply`).
    commands: BTreeMap<String, (u64, u64)>,
    malformed_commands: u64,
    events: u64,
    slowest: (Duration, u64),
    /// Why invalid cases were refused: the error path without indices, then a count.
    invalid: BTreeMap<String, u64>,
}

impl Stats {
    fn invalid_reason(&mut self, path: &str, reason: &str) {
        let field: String = path.chars().filter(|c| !c.is_ascii_digit()).collect();
        let why: String = reason.chars().take(40).collect();
        *self.invalid.entry(format!("{field}: {why}")).or_default() += 1;
    }
}

/// Counts events and checks that they come in time order, never ahead of the clock.
struct Checked<'a> {
    tally: &'a mut EventTally,
    last: SimTime,
    count: u64,
    error: Option<String>,
}

impl EventSink for Checked<'_> {
    fn accept(&mut self, event: broker_sim::Event) {
        if event.time < self.last && self.error.is_none() {
            self.error = Some(format!(
                "event at {} after one at {}: {:?}",
                event.time, self.last, event.kind
            ));
        }
        self.last = self.last.max(event.time);
        self.count += 1;
        self.tally.accept(event);
    }
}

/// Runs the simulation to `t` within `budget` items; false when the budget ran out first.
fn advance(
    sim: &mut Simulation,
    t: SimTime,
    budget: &mut usize,
    sink: &mut Checked,
) -> Result<bool, String> {
    loop {
        let chunk = CHUNK.min(*budget);
        if chunk == 0 {
            return Ok(false);
        }
        let (events, reached) = sim.advance_to_bounded(t, chunk);
        for e in events {
            sink.accept(e);
        }
        if let Some(e) = sink.error.take() {
            return Err(e);
        }
        if sink.last > sim.now() {
            return Err(format!(
                "an event at {} is ahead of the clock {}",
                sink.last,
                sim.now()
            ));
        }
        // Debug builds audit after every item; this also covers release sweeps, per chunk.
        sim.audit()
            .map_err(|e| format!("audit at {}: {e}", sim.now()))?;
        if reached {
            return Ok(true);
        }
        if sim.halted().is_some() {
            return Ok(false);
        }
        *budget -= chunk;
    }
}

fn command_kind(c: &Value) -> String {
    c.as_object()
        .and_then(|m| m.keys().next().cloned())
        .unwrap_or_else(|| "?".into())
}

/// Why a run ended before its horizon.
fn stopped(sim: &Simulation) -> Outcome {
    if sim.halted().is_some() {
        Outcome::Halted
    } else {
        Outcome::Capped
    }
}

fn execute(case: &Case, stats: &mut Stats) -> Result<Outcome, String> {
    let scenario = match Scenario::from_json(&case.text) {
        Ok(s) => s,
        Err(e) if e.reason.is_empty() => return Err(format!("an error without a reason: {e:?}")),
        Err(e) => {
            stats.invalid_reason(&e.path, &e.reason);
            return Ok(Outcome::Invalid);
        }
    };
    let mut sim = match Simulation::new(&scenario, case.seed) {
        Ok(sim) => sim,
        Err(e) => {
            stats.invalid_reason(&e.path, &e.reason);
            return Ok(Outcome::Invalid);
        }
    };
    // Both modes: the app draws transits, the runner skips them.
    sim.set_track_transits(case.seed % 2 == 0);
    let mut tally = EventTally::default();
    let mut sink = Checked {
        tally: &mut tally,
        last: SimTime::ZERO,
        count: 0,
        error: None,
    };
    let mut budget = MAX_ITEMS;
    let mut outcome = Outcome::Reached;
    for (at, c) in &case.commands {
        if !advance(&mut sim, SimTime::from_millis(*at), &mut budget, &mut sink)? {
            outcome = stopped(&sim);
            break;
        }
        let kind = command_kind(c);
        match serde_json::from_value::<Command>(c.clone()) {
            Ok(cmd) => {
                let entry = stats.commands.entry(kind).or_default();
                match sim.apply(cmd) {
                    Ok(()) => entry.0 += 1,
                    Err(_) => entry.1 += 1,
                }
            }
            Err(_) => stats.malformed_commands += 1,
        }
        sim.audit()
            .map_err(|e| format!("audit after a command: {e}"))?;
    }
    if outcome == Outcome::Reached
        && !advance(
            &mut sim,
            SimTime::from_millis(case.horizon_ms),
            &mut budget,
            &mut sink,
        )?
    {
        outcome = stopped(&sim);
    }
    stats.events += sink.count;
    sim.audit_deep().map_err(|e| format!("audit_deep: {e}"))?;
    let l = sim.ledger();
    if !l.is_balanced() {
        return Err(format!(
            "unbalanced ledger: created {} accounted {}",
            l.created,
            l.accounted()
        ));
    }
    // What the app and the runner read at the end must build too.
    let _ = sim.snapshot();
    let _ = sim.specs();
    serde_json::to_string(&sim.report_from(case.seed, &tally, true))
        .map_err(|e| format!("report does not serialise: {e}"))?;
    Ok(outcome)
}

/// Writes to stderr directly, so that it shows even when the test harness captures output.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with a non-string payload".into())
}

fn print_case(case: &Case, what: &str) {
    eprintln!(
        "\n=== fuzz failure: seed {} ({}, run to {} ms)",
        case.seed, case.origin, case.horizon_ms
    );
    eprintln!("{what}");
    eprintln!("--- scenario JSON\n{}", case.text);
    eprintln!("--- commands applied (ms: command)");
    for (at, c) in &case.commands {
        eprintln!("{at}: {c}");
    }
    eprintln!(
        "--- rerun: BROKER_SIM_FUZZ=1 BROKER_SIM_FUZZ_SEED={} cargo test -p broker-sim --test fuzz",
        case.seed
    );
}

#[test]
fn hostile_scenarios_and_commands_never_break_the_engine() {
    let cases = env_u64("BROKER_SIM_FUZZ").unwrap_or(DEFAULT_CASES);
    let first = env_u64("BROKER_SIM_FUZZ_SEED").unwrap_or(0);
    // 1: a line per case and a breakdown of commands and refusals; 2: also each case in full.
    let verbose = env_u64("BROKER_SIM_FUZZ_VERBOSE").unwrap_or(0);
    let examples = examples();
    assert!(!examples.is_empty(), "no scenario files found");
    let mut stats = Stats::default();
    let mut failures: Vec<(u64, String)> = Vec::new();
    let started = Instant::now();
    for i in 0..cases {
        let seed = first.wrapping_add(i);
        let case = Gen::case(seed, &examples);
        // Before running, so that a case that never ends can still be seen.
        if verbose >= 2 {
            say(&case.text);
            for (at, c) in &case.commands {
                say(&format!("  {at} ms: {c}"));
            }
        }
        let t0 = Instant::now();
        let result = panic::catch_unwind(AssertUnwindSafe(|| execute(&case, &mut stats)));
        let took = t0.elapsed();
        if verbose >= 1 {
            let r = match &result {
                Ok(Ok(o)) => format!("{o:?}"),
                Ok(Err(e)) => e.clone(),
                Err(_) => "panic".into(),
            };
            say(&format!("seed {seed}: {r} in {took:.1?} ({})", case.origin));
        }
        if took > stats.slowest.0 {
            stats.slowest = (took, seed);
        }
        let failure = match result {
            Ok(Ok(outcome)) => {
                let key = match outcome {
                    Outcome::Invalid => "invalid",
                    Outcome::Reached => "reached",
                    Outcome::Capped => "capped",
                    Outcome::Halted => "halted",
                };
                *stats.outcomes.entry(key).or_default() += 1;
                continue;
            }
            Ok(Err(e)) => e,
            Err(p) => format!("panic: {}", panic_message(&*p)),
        };
        if failures.len() < PRINT_FULL {
            print_case(&case, &failure);
        }
        failures.push((seed, failure));
    }
    let n = |k: &str| stats.outcomes.get(k).copied().unwrap_or(0);
    let accepted: u64 = stats.commands.values().map(|c| c.0).sum();
    let refused: u64 = stats.commands.values().map(|c| c.1).sum();
    say(&format!(
        "fuzz: {cases} cases from seed {first} in {:.1?}: {} valid ({} reached the horizon, {} capped \
         at {MAX_ITEMS} items, {} halted by the zero-time guard), {} invalid, {} failed; commands \
         {accepted} applied, {refused} refused, {} malformed; {} events; slowest case {:.1?} (seed {})",
        started.elapsed(),
        n("reached") + n("capped") + n("halted"),
        n("reached"),
        n("capped"),
        n("halted"),
        n("invalid"),
        failures.len(),
        stats.malformed_commands,
        stats.events,
        stats.slowest.0,
        stats.slowest.1,
    ));
    if verbose >= 1 {
        for (kind, (ok, no)) in &stats.commands {
            say(&format!("  {kind}: {ok} applied, {no} refused"));
        }
        for (why, count) in &stats.invalid {
            say(&format!("  invalid {count}x {why}"));
        }
    }
    if !failures.is_empty() {
        for (seed, what) in &failures {
            eprintln!("seed {seed}: {what}");
        }
        panic!(
            "{} of {cases} fuzz cases failed; seeds: {:?}",
            failures.len(),
            failures.iter().map(|f| f.0).collect::<Vec<_>>()
        );
    }
    // A generator that stopped producing runnable cases would pass while testing nothing.
    if cases >= DEFAULT_CASES {
        assert!(
            n("reached") + n("capped") >= cases / 3,
            "only {} of {cases} cases were valid",
            n("reached") + n("capped")
        );
    }
}

#[test]
fn a_seed_always_generates_the_same_case() {
    let examples = examples();
    for seed in [0, 1, 7, u64::MAX] {
        let (a, b) = (Gen::case(seed, &examples), Gen::case(seed, &examples));
        assert_eq!(a.text, b.text);
        assert_eq!(a.commands, b.commands);
    }
}
