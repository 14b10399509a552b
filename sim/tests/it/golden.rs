//! Golden traces: the first 60 trace lines (`Event`'s `Display`) of a few small scenarios, the
//! event count and digest of the whole run, and the final ledger.
//!
//! Any change to the engine's behaviour, event wording or RNG use shows up here as a diff. If
//! the change is intended, regenerate with
//! `UPDATE_EXPECT=1 cargo test -p broker-sim --test it golden_` and review the diff.

use broker_sim::{Scenario, SimTime, Simulation};
use expect_test::{expect, Expect};

const LINES: usize = 60;

/// Runs `scenario` with `seed` until `until_ms` and renders the golden text.
fn trace(scenario: &Scenario, seed: u64, until_ms: u64) -> String {
    let mut sim = Simulation::new(scenario, seed).expect("valid scenario");
    let events = sim.advance_to(SimTime::from_millis(until_ms));
    sim.audit_deep().expect("ledger audit");
    let mut out = String::new();
    for e in events.iter().take(LINES) {
        out.push_str(&e.to_string());
        out.push('\n');
    }
    if events.len() > LINES {
        out.push_str(&format!("... {} more\n", events.len() - LINES));
    }
    out.push_str(&format!(
        "events {} digest {:016x} at {}\n",
        events.len(),
        sim.digest().0,
        sim.now()
    ));
    let ledger = serde_json::to_string_pretty(sim.ledger()).expect("ledger json");
    out.push_str(&format!("ledger {ledger}\n"));
    out.push_str(&format!("balanced {}\n", sim.ledger().is_balanced()));
    out
}

fn check(json: &str, seed: u64, until_ms: u64, expected: Expect) {
    let scenario = Scenario::from_json(json).unwrap_or_else(|e| panic!("scenario: {e}"));
    let first = trace(&scenario, seed, until_ms);
    // Stable: a second run from scratch renders the same text.
    assert_eq!(first, trace(&scenario, seed, until_ms), "not deterministic");
    expected.assert_eq(&first);
}

/// `scenarios/default.json`, the scenario the UI opens with.
#[test]
fn golden_default_scenario() {
    let json = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/default.json"
    ))
    .expect("scenarios/default.json");
    check(
        &json,
        1,
        10_000,
        expect![[r#"
        0.357s publish m0 by p0
        0.557s route m0 at x0 -> q0
        0.557s enqueue m0 in q0
        0.557s deliver m0 from q0 to c0
        0.714s publish m1 by p0
        0.914s route m1 at x0 -> q0
        0.914s enqueue m1 in q0
        0.914s deliver m1 from q0 to c0
        1.071s publish m2 by p0
        1.145s processed m0 by c0
        1.175s processed m1 by c0
        1.271s route m2 at x0 -> q0
        1.271s enqueue m2 in q0
        1.345s settle m0 in q0 by c0: Ack
        1.345s deliver m2 from q0 to c0
        1.375s settle m1 in q0 by c0: Ack
        1.428s publish m3 by p0
        1.628s route m3 at x0 -> q0
        1.628s enqueue m3 in q0
        1.628s deliver m3 from q0 to c0
        1.672s processed m2 by c0
        1.785s publish m4 by p0
        1.872s settle m2 in q0 by c0: Ack
        1.985s route m4 at x0 -> q0
        1.985s enqueue m4 in q0
        1.985s deliver m4 from q0 to c0
        2.087s processed m3 by c0
        2.142s publish m5 by p0
        2.278s processed m4 by c0
        2.287s settle m3 in q0 by c0: Ack
        2.342s route m5 at x0 -> q0
        2.342s enqueue m5 in q0
        2.342s deliver m5 from q0 to c0
        2.478s settle m4 in q0 by c0: Ack
        2.500s publish m6 by p0
        2.700s route m6 at x0 -> q0
        2.700s enqueue m6 in q0
        2.700s deliver m6 from q0 to c0
        2.705s processed m5 by c0
        2.857s publish m7 by p0
        2.905s settle m5 in q0 by c0: Ack
        2.999s processed m6 by c0
        3.057s route m7 at x0 -> q0
        3.057s enqueue m7 in q0
        3.057s deliver m7 from q0 to c0
        3.199s settle m6 in q0 by c0: Ack
        3.214s publish m8 by p0
        3.414s route m8 at x0 -> q0
        3.414s enqueue m8 in q0
        3.414s deliver m8 from q0 to c0
        3.526s processed m7 by c0
        3.571s publish m9 by p0
        3.648s processed m8 by c0
        3.726s settle m7 in q0 by c0: Ack
        3.771s route m9 at x0 -> q0
        3.771s enqueue m9 in q0
        3.771s deliver m9 from q0 to c0
        3.848s settle m8 in q0 by c0: Ack
        3.928s publish m10 by p0
        4.077s processed m9 by c0
        ... 99 more
        events 159 digest 9a997de7d2f2ea34 at 10.000s
        ledger {
          "created": 27,
          "published": 27,
          "fanout_copies": 0,
          "dead_letter_copies": 0,
          "in_flight": 0,
          "ready": 0,
          "unacked": 2,
          "processing": 0,
          "retained": 0,
          "acked": 25,
          "dead_lettered": {},
          "expired": 0,
          "removed_by_retention": 0,
          "dropped": {}
        }
        balanced true
    "#]],
    );
}

/// A topic exchange into a priority queue with a length limit and a dead-letter queue, a flaky
/// consumer, and a scripted crash, restart and poison message.
#[test]
fn golden_rabbitmq_priorities_limits_dead_letters_and_a_crash() {
    let json = r##"{
      "version": 1,
      "latency_ms": 5,
      "exchanges": [
        { "name": "events", "type": "topic" },
        { "name": "dlx", "type": "fanout" }
      ],
      "queues": [
        { "name": "work", "max_priority": 3, "max_length": 4, "dead_letter_exchange": "dlx" },
        { "name": "audit", "message_ttl_ms": 40 },
        { "name": "dead" }
      ],
      "bindings": [
        { "exchange": "events", "queue": "work", "routing_key": "order.*" },
        { "exchange": "events", "queue": "audit", "routing_key": "#" },
        { "exchange": "dlx", "queue": "dead" }
      ],
      "producers": [{
        "name": "shop",
        "targets": [{ "exchange": "events" }],
        "rate": { "kind": "constant", "per_sec": 40 },
        "message": { "routing_keys": ["order.new", "order.paid", "user.login"], "priorities": [0, 3, 1] },
        "limit": 30
      }],
      "consumers": [{
        "name": "worker",
        "source": { "queue": "work" },
        "prefetch": 2,
        "processing": { "kind": "fixed", "ms": 30 },
        "failure": { "probability": 0.3, "action": "nack", "requeue": false }
      }],
      "script": [
        { "at_ms": 150, "command": { "crash_consumer": { "consumer": "worker" } } },
        { "at_ms": 400, "command": { "restart_consumer": { "consumer": "worker" } } },
        { "at_ms": 450, "command": { "poison": { "producer": "shop" } } }
      ]
    }"##;
    check(
        json,
        7,
        2_000,
        expect![[r#"
        0.025s publish m0 by p0
        0.030s route m0 at x1 -> q0 q1
        0.030s enqueue m0 in q0
        0.030s deliver m0 from q0 to c0
        0.030s enqueue m0 in q1
        0.050s publish m1 by p0
        0.055s route m1 at x1 -> q0 q1
        0.055s enqueue m1 in q0
        0.055s deliver m1 from q0 to c0
        0.055s enqueue m1 in q1
        0.065s processed m0 by c0
        0.070s settle m0 in q0 by c0: Ack
        0.070s expire m0 in q1
        0.075s publish m2 by p0
        0.080s route m2 at x1 -> q1
        0.080s enqueue m2 in q1
        0.095s processed m1 by c0
        0.095s expire m1 in q1
        0.100s publish m3 by p0
        0.100s settle m1 in q0 by c0: Ack
        0.105s route m3 at x1 -> q0 q1
        0.105s enqueue m3 in q0
        0.105s deliver m3 from q0 to c0
        0.105s enqueue m3 in q1
        0.120s expire m2 in q1
        0.125s publish m4 by p0
        0.130s route m4 at x1 -> q0 q1
        0.130s enqueue m4 in q0
        0.130s deliver m4 from q0 to c0
        0.130s enqueue m4 in q1
        0.140s processed m3 by c0 FAILED
        0.145s settle m3 in q0 by c0: Nack { requeue: false }
        0.145s dead-letter m3 from q0 (rejected)
        0.145s route m3 at x2 -> q2
        0.145s enqueue m3 in q2
        0.145s expire m3 in q1
        0.150s command {"crash_consumer":{"consumer":"worker"}}
        0.150s requeue m4 in q0
        0.150s crash c0 requeued=1 lost=0
        0.150s publish m5 by p0
        0.155s route m5 at x1 -> q1
        0.155s enqueue m5 in q1
        0.170s expire m4 in q1
        0.175s publish m6 by p0
        0.180s route m6 at x1 -> q0 q1
        0.180s enqueue m6 in q0
        0.180s enqueue m6 in q1
        0.195s expire m5 in q1
        0.200s publish m7 by p0
        0.205s route m7 at x1 -> q0 q1
        0.205s enqueue m7 in q0
        0.205s enqueue m7 in q1
        0.220s expire m6 in q1
        0.225s publish m8 by p0
        0.230s route m8 at x1 -> q1
        0.230s enqueue m8 in q1
        0.245s expire m7 in q1
        0.250s publish m9 by p0
        0.255s route m9 at x1 -> q0 q1
        0.255s enqueue m9 in q0
        ... 168 more
        events 228 digest 3174bdd0ed2765fd at 2.000s
        ledger {
          "created": 60,
          "published": 30,
          "fanout_copies": 20,
          "dead_letter_copies": 10,
          "in_flight": 0,
          "ready": 10,
          "unacked": 0,
          "processing": 0,
          "retained": 0,
          "acked": 10,
          "dead_lettered": {
            "rejected": 7,
            "maxlen": 3
          },
          "expired": 30,
          "removed_by_retention": 0,
          "dropped": {}
        }
        balanced true
    "#]],
    );
}

/// Redis Pub/Sub: a channel and a pattern subscriber (two copies for one client, RPS-2), a slow
/// subscriber disconnected by its output buffer (RPS-3), and publishes with no subscriber (RPS-1).
#[test]
fn golden_redis_pubsub_patterns_and_a_slow_subscriber() {
    let json = r#"{
      "version": 1,
      "latency_ms": 1,
      "producers": [
        {
          "name": "ticker",
          "targets": [{ "channel": "prices.eur" }],
          "rate": { "kind": "poisson", "per_sec": 50 },
          "message": { "size_bytes": 400 }
        },
        {
          "name": "nobody-listens",
          "targets": [{ "channel": "void" }],
          "rate": { "kind": "constant", "per_sec": 5 }
        }
      ],
      "consumers": [
        {
          "name": "both",
          "source": { "subscribe": { "channels": ["prices.eur"], "patterns": ["prices.*"] } },
          "processing": { "kind": "fixed", "ms": 1 }
        },
        {
          "name": "slow",
          "source": { "subscribe": { "patterns": ["prices.?ur"] } },
          "processing": { "kind": "fixed", "ms": 200 },
          "output_buffer_limit_bytes": 2000
        }
      ],
      "script": [
        { "at_ms": 600, "command": { "restart_consumer": { "consumer": "slow" } } }
      ]
    }"#;
    check(
        json,
        3,
        1_000,
        expect![[r#"
        0.005s publish m0 by p0
        0.006s PUBLISH m0 on ch0 -> 3
        0.006s push m0 to c0
        0.006s push m0 to c0
        0.006s push m0 to c1
        0.008s processed m0 by c0
        0.009s processed m0 by c0
        0.029s publish m1 by p0
        0.030s PUBLISH m1 on ch0 -> 3
        0.030s push m1 to c0
        0.030s push m1 to c0
        0.030s push m1 to c1
        0.032s processed m1 by c0
        0.033s processed m1 by c0
        0.056s publish m2 by p0
        0.057s PUBLISH m2 on ch0 -> 3
        0.057s push m2 to c0
        0.057s push m2 to c0
        0.057s push m2 to c1
        0.059s processed m2 by c0
        0.060s processed m2 by c0
        0.062s publish m3 by p0
        0.063s PUBLISH m3 on ch0 -> 3
        0.063s push m3 to c0
        0.063s push m3 to c0
        0.063s push m3 to c1
        0.065s processed m3 by c0
        0.066s processed m3 by c0
        0.070s publish m4 by p0
        0.071s PUBLISH m4 on ch0 -> 3
        0.071s push m4 to c0
        0.071s push m4 to c0
        0.071s push m4 to c1
        0.073s processed m4 by c0
        0.074s processed m4 by c0
        0.075s publish m5 by p0
        0.076s PUBLISH m5 on ch0 -> 3
        0.076s push m5 to c0
        0.076s push m5 to c0
        0.076s push m5 to c1
        0.078s processed m5 by c0
        0.079s processed m5 by c0
        0.091s publish m6 by p0
        0.092s PUBLISH m6 on ch0 -> 3
        0.092s push m6 to c0
        0.092s push m6 to c0
        0.092s push m6 to c1
        0.093s drop m0 (subscriber_disconnected)
        0.093s drop m1 (subscriber_disconnected)
        0.093s drop m2 (subscriber_disconnected)
        0.093s drop m3 (subscriber_disconnected)
        0.093s drop m4 (subscriber_disconnected)
        0.093s drop m5 (subscriber_disconnected)
        0.093s drop m6 (subscriber_disconnected)
        0.093s disconnect c1 lost=7
        0.094s processed m6 by c0
        0.095s processed m6 by c0
        0.146s publish m7 by p0
        0.147s PUBLISH m7 on ch0 -> 2
        0.147s push m7 to c0
        ... 309 more
        events 369 digest 8e80462474daf24e at 1.000s
        ledger {
          "created": 128,
          "published": 60,
          "fanout_copies": 68,
          "dead_letter_copies": 0,
          "in_flight": 2,
          "ready": 0,
          "unacked": 0,
          "processing": 1,
          "retained": 0,
          "acked": 107,
          "dead_lettered": {},
          "expired": 0,
          "removed_by_retention": 0,
          "dropped": {
            "no_subscriber": 4,
            "subscriber_disconnected": 14
          }
        }
        balanced true
    "#]],
    );
}
