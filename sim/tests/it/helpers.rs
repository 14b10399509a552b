//! Short helpers so each rule test reads as given / when / then.

use broker_sim::report::Report;
use broker_sim::snapshot::QueueView;
use broker_sim::{Command, DropReason, Event, EventKind, MessageId, Scenario, SimTime, Simulation};
use serde_json::{json, Value};

/// Parses a scenario written as JSON in the test, panicking with the located error if invalid.
pub fn scenario(json: &str) -> Scenario {
    Scenario::from_json(json).unwrap_or_else(|e| panic!("test scenario invalid: {e}"))
}

/// A simulation of `json` with seed 1.
pub fn sim(json: &str) -> Simulation {
    Simulation::new(&scenario(json), 1).expect("valid scenario")
}

/// Runs to `ms` and returns every event, checking the deep ledger audit at the end.
pub fn run_ms(sim: &mut Simulation, ms: u64) -> Vec<Event> {
    let events = sim.advance_to(SimTime::from_millis(ms));
    assert_no_leaks(sim);
    events
}

/// The ledger balances and agrees with where every copy is.
pub fn assert_no_leaks(sim: &Simulation) {
    if let Err(e) = sim.audit_deep() {
        panic!("ledger audit failed at {}: {e}", sim.now());
    }
}

pub fn apply(sim: &mut Simulation, cmd: serde_json::Value) {
    let cmd: Command = serde_json::from_value(cmd).expect("command JSON");
    sim.apply(cmd).expect("command applies");
}

/// Message ids in the order a consumer received them, as (id, redelivered).
pub fn received_by(events: &[Event], sim: &Simulation, consumer: &str) -> Vec<(u64, bool)> {
    let id = consumer_id(sim, consumer);
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Delivered {
                msg,
                consumer,
                redelivered,
                ..
            } if *consumer == id => Some((msg.0, *redelivered)),
            EventKind::PubSubDelivered { msg, consumer } if *consumer == id => Some((msg.0, false)),
            _ => None,
        })
        .collect()
}

/// The ready contents of a queue in delivery order, as message ids.
pub fn queue_contents(sim: &Simulation, queue: &str) -> Vec<u64> {
    let r = sim.report(1, &[]);
    r.queue_contents
        .get(queue)
        .unwrap_or_else(|| panic!("no queue {queue}"))
        .iter()
        .map(|m| m.0)
        .collect()
}

// ---- Added for the rule tests (rules_routing, rules_dispatch, rules_redis).

/// Loads an example scenario file the way the headless runner does (`Scenario::from_json`,
/// `Simulation::new` with seed 1, then `report`), after checking it has a title and a
/// description in both languages. Runs it to `ms` with the deep ledger audit.
pub fn run_file(path: &str, ms: u64) -> (Simulation, Vec<Event>, broker_sim::report::Report) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let scenario = Scenario::from_json(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    for (what, t) in [
        ("title", &scenario.title),
        ("description", &scenario.description),
    ] {
        let t = t.as_ref().unwrap_or_else(|| panic!("{path}: no {what}"));
        assert!(
            !t.en.trim().is_empty() && !t.ko.trim().is_empty(),
            "{path}: {what} needs en and ko"
        );
    }
    let mut sim = Simulation::new(&scenario, 1).unwrap_or_else(|e| panic!("{path}: {e}"));
    let events = run_ms(&mut sim, ms);
    let report = sim.report(1, &events);
    assert!(report.balanced, "{path}: ledger not balanced");
    (sim, events, report)
}

/// A consumer's received list from a report, as (id, redelivered).
pub fn report_received(report: &broker_sim::report::Report, consumer: &str) -> Vec<(u64, bool)> {
    report
        .received
        .get(consumer)
        .unwrap_or_else(|| panic!("no consumer {consumer} in the report"))
        .iter()
        .map(|m| (m.msg.0, m.redelivered))
        .collect()
}

/// Just the ids of [`received_by`].
pub fn ids_received_by(events: &[Event], sim: &Simulation, consumer: &str) -> Vec<u64> {
    received_by(events, sim, consumer)
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

pub fn consumer_id(sim: &Simulation, name: &str) -> broker_sim::ConsumerId {
    sim.snapshot()
        .consumers
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no consumer {name}"))
        .id
}

pub fn queue_view(sim: &Simulation, name: &str) -> broker_sim::snapshot::QueueView {
    sim.snapshot()
        .queues
        .into_iter()
        .find(|q| q.name == name)
        .unwrap_or_else(|| panic!("no queue {name}"))
}

/// How many copies were dropped for `reason`.
pub fn dropped(sim: &Simulation, reason: broker_sim::DropReason) -> u64 {
    sim.ledger().dropped.get(&reason).copied().unwrap_or(0)
}

/// Events whose serialised `type` tag is `ty` (e.g. "channel_closed"), as (time, JSON of the
/// kind). Matching by tag lets tests name event kinds that a build may not have yet.
pub fn events_of_type(events: &[Event], ty: &str) -> Vec<(SimTime, serde_json::Value)> {
    events
        .iter()
        .filter_map(|e| {
            let v = serde_json::to_value(&e.kind).expect("events serialise");
            (v["type"] == ty).then_some((e.time, v))
        })
        .collect()
}

/// The trace as text, for failure messages.
pub fn trace(events: &[Event]) -> String {
    events.iter().map(|e| format!("{e}\n")).collect()
}

// ---- Scenario builders: the JSON pieces the rule tests repeat. Each returns exactly the JSON
// a test would write inline, so a scenario built from them is the same scenario.

/// `base` with `over` laid on top: objects merge key by key (recursively); any other value in
/// `over` (a number, a string, an array) replaces the one in `base`.
pub fn merged(mut base: Value, over: Value) -> Value {
    match (&mut base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                let slot = b.entry(k).or_insert(Value::Null);
                *slot = merged(slot.take(), v);
            }
            base
        }
        (_, over) => over,
    }
}

/// `piece.with(json!({ ... }))`: a scenario piece with fields added or overridden ([`merged`]).
pub trait With {
    fn with(self, over: Value) -> Value;
}

impl With for Value {
    fn with(self, over: Value) -> Value {
        merged(self, over)
    }
}

/// A simulation (seed 1) of the scenario `v`.
pub fn sim_of(v: Value) -> Simulation {
    sim(&v.to_string())
}

/// A simulation (seed 1) of `{ "version": 1, "latency_ms": 1 }` plus `parts` (queues, topics,
/// producers, consumers, ...): every network hop takes 1 ms.
pub fn sim_1ms(parts: Value) -> Simulation {
    sim_of(json!({ "version": 1, "latency_ms": 1 }).with(parts))
}

/// `count` messages at once at `at_ms`.
pub fn burst_rate(count: u64, at_ms: f64) -> Value {
    json!({ "kind": "burst", "count": count, "at_ms": at_ms })
}

/// Evenly spaced, `per_sec` a second.
pub fn constant_rate(per_sec: f64) -> Value {
    json!({ "kind": "constant", "per_sec": per_sec })
}

/// Publishes only on `burst` commands.
pub fn manual_rate() -> Value {
    json!({ "kind": "manual" })
}

/// A producer publishing to `queue` through the default exchange (routing key = queue name).
pub fn queue_producer(name: &str, queue: &str, rate: Value) -> Value {
    keyed_producer(name, &[queue], rate)
}

/// A producer publishing through the default exchange, cycling `routing_keys` message by message.
pub fn keyed_producer(name: &str, routing_keys: &[&str], rate: Value) -> Value {
    json!({
        "name": name, "targets": [{ "exchange": "" }], "rate": rate,
        "message": { "routing_keys": routing_keys }
    })
}

/// A consumer on `queue` with `prefetch` (0 = unlimited) and a fixed processing time.
pub fn queue_consumer(name: &str, queue: &str, prefetch: u32, ms: f64) -> Value {
    json!({
        "name": name, "source": { "queue": queue }, "prefetch": prefetch,
        "processing": { "kind": "fixed", "ms": ms }
    })
}

/// Fields for [`With::with`]: the consumer fails every message, settling it with `action`
/// (`"nack"` or `"reject"`) and `requeue`.
pub fn always_fails(action: &str, requeue: bool) -> Value {
    json!({ "failure": { "probability": 1, "action": action, "requeue": requeue } })
}

/// A producer writing to a Kafka topic.
pub fn topic_producer(name: &str, topic: &str, rate: Value) -> Value {
    json!({ "name": name, "targets": [{ "topic": topic }], "rate": rate })
}

/// A Kafka consumer-group member with a fixed processing time.
pub fn group_member(name: &str, group: &str, ms: f64) -> Value {
    json!({
        "name": name, "source": { "group": group },
        "processing": { "kind": "fixed", "ms": ms }
    })
}

/// A scenario `script` entry: `command` applied at `at_ms`.
pub fn at(at_ms: f64, command: Value) -> Value {
    json!({ "at_ms": at_ms, "command": command })
}

/// Commands as JSON, for [`apply`] and for [`at`].
pub mod cmd {
    use serde_json::{json, Value};

    pub fn burst(producer: &str, count: u64) -> Value {
        json!({ "burst": { "producer": producer, "count": count } })
    }

    pub fn crash(consumer: &str) -> Value {
        json!({ "crash_consumer": { "consumer": consumer } })
    }

    pub fn restart(consumer: &str) -> Value {
        json!({ "restart_consumer": { "consumer": consumer } })
    }

    pub fn remove_consumer(consumer: &str) -> Value {
        json!({ "remove_consumer": { "consumer": consumer } })
    }

    pub fn add_consumer(spec: Value) -> Value {
        json!({ "add_consumer": { "consumer": spec } })
    }

    pub fn add_producer(spec: Value) -> Value {
        json!({ "add_producer": { "producer": spec } })
    }
}

/// The path of `scenarios/rules/<file>`.
pub fn rule_file(file: &str) -> String {
    format!("{}/../scenarios/rules/{file}", env!("CARGO_MANIFEST_DIR"))
}

// ---- Event filters.

/// What `f` picks out of the events, in order.
pub fn pick<T>(events: &[Event], f: impl FnMut(&Event) -> Option<T>) -> Vec<T> {
    events.iter().filter_map(f).collect()
}

/// How many events are of a kind `pred` accepts.
pub fn count_kind(events: &[Event], pred: impl Fn(&EventKind) -> bool) -> usize {
    events.iter().filter(|e| pred(&e.kind)).count()
}

/// Whether any event is of a kind `pred` accepts.
pub fn any_kind(events: &[Event], pred: impl Fn(&EventKind) -> bool) -> bool {
    events.iter().any(|e| pred(&e.kind))
}

/// Times of the events of a kind `pred` accepts.
pub fn times(events: &[Event], pred: impl Fn(&EventKind) -> bool) -> Vec<SimTime> {
    events
        .iter()
        .filter(|e| pred(&e.kind))
        .map(|e| e.time)
        .collect()
}

/// Time of the first event of a kind `pred` accepts; panics with the trace if there is none.
pub fn first_time(events: &[Event], pred: impl Fn(&EventKind) -> bool) -> SimTime {
    events
        .iter()
        .find(|e| pred(&e.kind))
        .map(|e| e.time)
        .unwrap_or_else(|| panic!("no matching event in\n{}", trace(events)))
}

/// Every drop as (message, reason).
pub fn drops(events: &[Event]) -> Vec<(u64, DropReason)> {
    pick(events, |e| match &e.kind {
        EventKind::Dropped { msg, reason } => Some((msg.0, *reason)),
        _ => None,
    })
}

/// Messages dropped for `reason`, in order.
pub fn dropped_for(events: &[Event], reason: DropReason) -> Vec<u64> {
    pick(events, |e| match &e.kind {
        EventKind::Dropped { msg, reason: r } if *r == reason => Some(msg.0),
        _ => None,
    })
}

/// Messages requeued, in order.
pub fn requeued(events: &[Event]) -> Vec<u64> {
    pick(events, |e| match &e.kind {
        EventKind::Requeued { msg, .. } => Some(msg.0),
        _ => None,
    })
}

/// Every consumer crash as (copies requeued, copies lost).
pub fn crashes(events: &[Event]) -> Vec<(u32, u32)> {
    pick(events, |e| match &e.kind {
        EventKind::ConsumerCrashed { requeued, lost, .. } => Some((*requeued, *lost)),
        _ => None,
    })
}

/// Message ids published by a producer, in order.
pub fn published_by(events: &[Event], sim: &Simulation, producer: &str) -> Vec<u64> {
    let id = sim
        .snapshot()
        .producers
        .iter()
        .find(|p| p.name == producer)
        .unwrap_or_else(|| panic!("no producer {producer}"))
        .id;
    pick(events, |e| match &e.kind {
        EventKind::Published { msg, producer } if *producer == id => Some(msg.0),
        _ => None,
    })
}

// ---- Report readers.

/// Just the ids of [`report_received`].
pub fn report_received_ids(report: &Report, consumer: &str) -> Vec<u64> {
    report_received(report, consumer)
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

/// The report's dead-letterings as (message, source queue, reason).
pub fn report_dead_letters(report: &Report) -> Vec<(u64, &str, &str)> {
    report
        .dead_letters
        .iter()
        .map(|d| (d.msg.0, d.from_queue.as_str(), d.reason.as_str()))
        .collect()
}

/// A queue's view in the report.
pub fn report_queue<'a>(report: &'a Report, queue: &str) -> &'a QueueView {
    report
        .queues
        .iter()
        .find(|q| q.name == queue)
        .unwrap_or_else(|| panic!("no queue {queue} in the report"))
}

/// Message ids as plain numbers.
pub fn msg_ids(list: &[MessageId]) -> Vec<u64> {
    list.iter().map(|m| m.0).collect()
}
