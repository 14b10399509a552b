//! The pipeline over Kafka topics: stages as consumer-group members, and Kafka's log-based
//! alternative, each step one transaction over its output records and consumed offsets
//! (PAT-10, KAF-27 in `reference/semantics.md`).
//!
//! The rig: one broker, topics `orders` → `payments` → `inventory` → `shipping`, one stage
//! member per topic (its own group, committing after each record, 1 ms of processing), every
//! hop 1 ms. Two plain audit groups read the payment service's output (`inventory`), one
//! `read_committed` and one `read_uncommitted`. The shop bursts three orders at 100 ms; the
//! payment service dies in its first step, after its output and before its offset commit, and
//! restarts 50 ms later.

use crate::helpers::{apply, cmd, group_member, run_ms, sim_of, topic_producer, With};
use broker_sim::event::{KafkaRepEvent, StageEvent, StageWrite};
use broker_sim::{Command, EventKind, PipelineView, Scenario, Simulation};
use serde_json::{json, Value};

const TOPICS: [&str; 4] = ["orders", "payments", "inventory", "shipping"];
const ROLES: [&str; 4] = ["order", "payment", "inventory", "shipping"];
const ORDERS: u64 = 3;

/// The Kafka pipeline; `stage` is laid on every stage, `isolation` is the stage groups'.
fn rig(stage: Value, isolation: &str) -> Value {
    let group = |name: &str, topic: &str, isolation: &str| {
        json!({
            "name": name, "topics": [topic], "auto_offset_reset": "earliest",
            "commit": { "kind": "after_processing", "every": 1 },
            "rebalance_ms": 10, "isolation_level": isolation,
        })
    };
    let mut groups: Vec<Value> = (0..4)
        .map(|i| group(&format!("g-{}", ROLES[i]), TOPICS[i], isolation))
        .collect();
    groups.push(group("audit-rc", "inventory", "read_committed"));
    groups.push(group("audit-ru", "inventory", "read_uncommitted"));
    let mut consumers: Vec<Value> = (0..4)
        .map(|i| {
            group_member(
                &format!("{}-svc", ROLES[i]),
                &format!("g-{}", ROLES[i]),
                1.0,
            )
            .with(json!({ "stage": ROLES[i] }))
        })
        .collect();
    consumers.push(group_member("audit-rc", "audit-rc", 0.1));
    consumers.push(group_member("audit-ru", "audit-ru", 0.1));
    let stages: Vec<Value> = [
        json!({ "role": "order", "publish": "order-events" }),
        json!({ "role": "payment", "publish": "payment-events" }),
        json!({ "role": "inventory", "publish": "inventory-events" }),
        json!({ "role": "shipping" }),
    ]
    .into_iter()
    .map(|s| s.with(stage.clone()))
    .collect();
    json!({
        "version": 1, "latency_ms": 1,
        "kafka": { "brokers": 1 },
        "topics": TOPICS.iter().map(|t| json!({ "name": t })).collect::<Vec<_>>(),
        "groups": groups,
        "producers": [
            topic_producer("shop", "orders", json!({ "kind": "manual" })),
            topic_producer("order-events", "payments", json!({ "kind": "manual" })),
            topic_producer("payment-events", "inventory", json!({ "kind": "manual" })),
            topic_producer("inventory-events", "shipping", json!({ "kind": "manual" })),
        ],
        "consumers": consumers,
        "stages": stages,
    })
}

/// What a run shows.
struct Seen {
    view: PipelineView,
    events: Vec<broker_sim::Event>,
    /// Records each audit group processed: (`read_committed`, `read_uncommitted`).
    audit: (u64, u64),
}

/// Runs the rig; with `crash`, the payment service dies in its first step.
fn run(scenario: Value, crash: bool) -> Seen {
    let mut sim = sim_of(scenario);
    let mut events = run_ms(&mut sim, 50);
    if crash {
        apply(
            &mut sim,
            json!({ "crash_stage_after_write": { "consumer": "payment-svc", "restart_after_ms": 50 } }),
        );
    }
    events.extend(run_ms(&mut sim, 100));
    apply(&mut sim, cmd::burst("shop", ORDERS));
    events.extend(run_ms(&mut sim, 1_000));
    let processed_by = |name: &str| {
        let id = crate::helpers::consumer_id(&sim, name);
        let n = events.iter().filter(
            |e| matches!(&e.kind, EventKind::RecordProcessed { consumer, .. } if *consumer == id),
        );
        n.count() as u64
    };
    let audit = (processed_by("audit-rc"), processed_by("audit-ru"));
    Seen {
        view: sim.snapshot().pipeline.expect("stages"),
        events,
        audit,
    }
}

fn txns_on() -> Value {
    json!({ "kafka_transactions": true })
}

/// The payment service's steps, as (txn, what).
fn payment_steps(seen: &Seen) -> Vec<(u64, StageWrite)> {
    let payment = seen.events.iter().filter_map(|e| match &e.kind {
        EventKind::Stage(StageEvent::StageStep {
            consumer,
            txn,
            wrote,
            ..
        }) if consumer.0 == 1 => Some((*txn, *wrote)),
        _ => None,
    });
    payment.collect()
}

fn aborted_markers(seen: &Seen) -> usize {
    let aborted = seen.events.iter().filter(|e| {
        matches!(
            e.kind,
            EventKind::KafkaRep(KafkaRepEvent::KafkaTxnEnded {
                committed: false,
                ..
            })
        )
    });
    aborted.count()
}

#[test]
fn pat_10_kafka_stages_ship_every_order_as_group_members() {
    let seen = run(rig(json!({}), "read_uncommitted"), false);
    let v = &seen.view;
    assert_eq!((v.orders, v.shipped, v.compensated), (ORDERS, ORDERS, 0));
    assert_eq!(v.anomalies, Default::default());
    assert_eq!(seen.audit, (ORDERS, ORDERS));
}

#[test]
fn pat_10_without_transactions_a_crash_before_the_commit_duplicates_downstream() {
    let seen = run(rig(json!({}), "read_committed"), true);
    // The first step's output was sent; its offset was not committed, so after the restart the
    // order is paid again and its event sent again.
    let steps = payment_steps(&seen);
    assert_eq!(steps.iter().filter(|(t, _)| *t == 0).count(), 2);
    assert_eq!(aborted_markers(&seen), 0);
    let v = &seen.view;
    assert_eq!(v.anomalies.charged_twice, 1);
    assert_eq!(v.anomalies.shipped_twice, 1);
    // Nothing was transactional, so even read_committed readers see the duplicate.
    assert_eq!(seen.audit, (ORDERS + 1, ORDERS + 1));
}

#[test]
fn pat_10_a_transaction_aborted_by_the_crash_leaves_no_duplicate_downstream() {
    let seen = run(rig(txns_on(), "read_committed"), true);
    let crashed = seen.events.iter().find_map(|e| match &e.kind {
        EventKind::Stage(StageEvent::StageCrashedAfterWrite { txn, lost, .. }) => {
            Some((*txn, *lost))
        }
        _ => None,
    });
    assert_eq!(crashed, Some((0, 0)));
    // The offset rewound: order 0 is processed again after the restart.
    let steps = payment_steps(&seen);
    assert_eq!(steps.iter().filter(|(t, _)| *t == 0).count(), 2);
    assert_eq!(aborted_markers(&seen), 1);
    let v = &seen.view;
    // The aborted step's row was rolled back with its transaction: one charge per order.
    assert_eq!(v.anomalies, Default::default());
    assert_eq!((v.orders, v.shipped), (ORDERS, ORDERS));
    assert!(v.sagas.iter().all(|s| s.charges == 1 && s.shipments == 1));
    assert!(v.services.iter().all(|s| s.kafka_transactions));
}

#[test]
fn kaf_27_read_uncommitted_readers_see_the_aborted_output_of_a_stage() {
    let seen = run(rig(txns_on(), "read_committed"), true);
    // One record of the aborted transaction: only the read_uncommitted audit sees it.
    assert_eq!(seen.audit, (ORDERS, ORDERS + 1));
}

#[test]
fn pat_10_transactions_with_read_uncommitted_stages_still_ship_twice() {
    let seen = run(rig(txns_on(), "read_uncommitted"), true);
    let v = &seen.view;
    // The payment was rolled back, but the inventory service read the aborted event.
    assert_eq!(v.anomalies.charged_twice, 0);
    assert_eq!(v.anomalies.shipped_twice, 1);
}

/// Parses `v`, expecting an error at `path` whose reason contains `word`.
#[track_caller]
fn refused(v: Value, path: &str, word: &str) {
    let err = match Scenario::from_json(&v.to_string()) {
        Ok(_) => panic!("expected an error at {path}"),
        Err(e) => e,
    };
    assert_eq!(err.path, path, "reason: {}", err.reason);
    assert!(err.reason.contains(word), "{:?} lacks {word:?}", err.reason);
    assert!(err.reason.contains("PAT-10"), "{:?}", err.reason);
}

#[test]
fn pat_10_transactions_are_refused_for_a_stage_that_touches_anything_outside_kafka() {
    let on = rig(txns_on(), "read_committed");
    // The payment service reads a RabbitMQ queue.
    let mut queue = on.clone().with(json!({ "queues": [{ "name": "pay-q" }] }));
    queue["consumers"][1]["source"] = json!({ "queue": "pay-q" });
    queue["consumers"][1]["prefetch"] = json!(1);
    refused(
        queue,
        "stages[1].kafka_transactions",
        "consumer 'payment-svc' reads from outside Kafka",
    );
    // The payment service publishes to an exchange.
    let mut exchange = on.clone();
    exchange["producers"][2]["targets"] = json!([{ "exchange": "" }]);
    refused(
        exchange,
        "stages[1].kafka_transactions",
        "producer 'payment-events' writes outside Kafka",
    );
    // The outbox is a database table.
    let mut outbox = on.clone();
    outbox["stages"][0]["outbox"] = json!(true);
    refused(outbox, "stages[0].kafka_transactions", "outbox");
    // Auto-commit would commit offsets outside the transaction.
    let mut auto = on.clone();
    auto["groups"][0]["commit"] = json!({ "kind": "auto" });
    refused(
        auto,
        "stages[0].kafka_transactions",
        "commit after processing",
    );
    // The markers live in a cluster's replicas.
    let mut single = on;
    single.as_object_mut().unwrap().remove("kafka");
    refused(single, "stages[0].kafka_transactions", "cluster");
}

#[test]
fn pat_10_switching_transactions_on_over_a_queue_is_refused_at_run_time() {
    let mut plain = rig(json!({}), "read_committed").with(json!({ "queues": [{ "name": "q" }] }));
    plain["consumers"][1]["source"] = json!({ "queue": "q" });
    let mut sim = sim_of(plain);
    let update = |stage: Value| -> Command {
        serde_json::from_value(json!({ "update_stage": { "stage": stage } })).unwrap()
    };
    let payment = json!({ "role": "payment", "publish": "payment-events" });
    let err = sim
        .apply(update(payment.clone().with(txns_on())))
        .expect_err("refused");
    assert!(
        err.to_string().contains("reads from outside Kafka"),
        "{err}"
    );
    // Its Kafka-only neighbour may switch.
    let order = json!({ "role": "order", "publish": "order-events" });
    sim.apply(update(order.with(txns_on())))
        .expect("Kafka only");
    // A queue consumer cannot join a transactional stage either.
    let joining = json!({ "add_consumer": { "consumer": {
        "name": "order-2", "source": { "queue": "q" }, "stage": "order",
        "processing": { "kind": "fixed", "ms": 1 }
    } } });
    let err = sim
        .apply(serde_json::from_value(joining).unwrap())
        .expect_err("refused");
    assert!(err.to_string().contains("order-2"), "{err}");
    // Nor may its producer turn to an exchange.
    let retarget = json!({ "update_producer": { "producer": {
        "name": "order-events", "targets": [{ "exchange": "" }], "rate": { "kind": "manual" }
    } } });
    let err = sim
        .apply(serde_json::from_value(retarget).unwrap())
        .expect_err("refused");
    assert!(err.to_string().contains("writes outside Kafka"), "{err}");
}

#[test]
fn pat_10_a_transactional_kafka_pipeline_is_deterministic() {
    let trace = |seed| {
        let scenario = Scenario::from_json(&rig(txns_on(), "read_committed").to_string()).unwrap();
        let mut sim = Simulation::new(&scenario, seed).unwrap();
        apply(
            &mut sim,
            json!({ "crash_stage_after_write": { "consumer": "inventory-svc", "restart_after_ms": 5 } }),
        );
        run_ms(&mut sim, 100);
        apply(&mut sim, cmd::burst("shop", 20));
        let events = run_ms(&mut sim, 2_000);
        crate::helpers::trace(&events)
    };
    assert_eq!(trace(7), trace(7));
}

// ------------------------------------------------------------------ the example file

const FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../scenarios/pipeline/kafka-transactional-pipeline.json"
);

/// Records each group processed, by name.
fn group_processed(report: &broker_sim::report::Report) -> Vec<(String, u64)> {
    let groups = report.groups.iter();
    groups.map(|g| (g.name.clone(), g.processed)).collect()
}

#[test]
fn pat_10_file_ships_every_order_once_through_two_aborted_transactions() {
    let (_, events, report) = crate::helpers::run_file(FILE, 30_000);
    let v = report.pipeline.as_ref().expect("stages");
    assert_eq!((v.orders, v.shipped, v.compensated), (40, 40, 0));
    assert_eq!(v.anomalies, Default::default());
    // The payment and inventory services each ran one step twice: the aborted one and its
    // retry after the restart.
    let steps: Vec<u64> = v.services.iter().map(|s| s.steps).collect();
    assert_eq!(steps, vec![40, 41, 41, 40]);
    let aborted: Vec<u64> = v.services.iter().map(|s| s.transactions_aborted).collect();
    assert_eq!(aborted, vec![0, 1, 1, 0]);
    let aborted = events.iter().filter(|e| {
        matches!(
            e.kind,
            EventKind::KafkaRep(KafkaRepEvent::KafkaTxnEnded {
                committed: false,
                ..
            })
        )
    });
    assert_eq!(aborted.count(), 2);
    // Only the dirty reader (read_uncommitted) reads the aborted payment event; nobody skips a
    // record it should have read.
    let processed = group_processed(&report);
    let want = [
        ("order-svc", 40),
        ("payment-svc", 40),
        ("inventory-svc", 40),
        ("shipping-svc", 40),
        ("dirty-reader", 41),
    ];
    let want: Vec<(String, u64)> = want.iter().map(|(n, k)| (n.to_string(), *k)).collect();
    assert_eq!(processed, want);
    assert!(report.groups.iter().all(|g| g.skipped == 0));
}

#[test]
fn pat_10_file_without_transactions_charges_and_ships_twice() {
    let text = std::fs::read_to_string(FILE).unwrap();
    let mut scenario = Scenario::from_json(&text).unwrap();
    for s in &mut scenario.stages {
        s.kafka_transactions = false;
    }
    let mut sim = Simulation::new(&scenario, 1).unwrap();
    let events = run_ms(&mut sim, 30_000);
    let v = sim.snapshot().pipeline.expect("stages");
    // The payment crash charges one order twice; both crashes ship one twice each.
    assert_eq!(v.anomalies.charged_twice, 1);
    assert_eq!(v.anomalies.shipped_twice, 2);
    let report = sim.report(1, &events);
    let dirty = group_processed(&report).pop();
    assert_eq!(dirty, Some(("dirty-reader".to_string(), 41)));
}
