//! Short helpers so each rule test reads as given / when / then.

use broker_sim::{Command, Event, EventKind, Scenario, SimTime, Simulation};

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
    let id = sim
        .snapshot()
        .consumers
        .iter()
        .find(|c| c.name == consumer)
        .unwrap_or_else(|| panic!("no consumer {consumer}"))
        .id;
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
