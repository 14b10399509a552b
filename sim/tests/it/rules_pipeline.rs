//! The order → payment → inventory → shipping pipeline (PAT-1..PAT-9 in
//! `reference/semantics.md`, issue 14).
//!
//! The rig: four RabbitMQ queues behind the default exchange, one stage consumer on each
//! (prefetch 1, manual acks, 1 ms of processing), every hop 1 ms. The shop bursts one order
//! request at 10 ms: the order service finishes it at 13, payment at 16, inventory at 19,
//! shipping at 22. Compensations travel back on the previous stage's queue.

use crate::helpers::{apply, cmd, run_ms, sim_1ms, With};
use broker_sim::event::{StageEvent, StageWrite};
use broker_sim::{EventKind, PipelineView, SagaState, Simulation};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{json, Value};

const QUEUES: [&str; 4] = ["orders", "payments", "inventory", "shipping"];
const ROLES: [&str; 4] = ["order", "payment", "inventory", "shipping"];
const SERVICES: [&str; 4] = ["order-svc", "payment-svc", "inventory-svc", "shipping-svc"];

fn to_queue(name: &str, queue: &str) -> Value {
    json!({
        "name": name, "targets": [{ "exchange": "" }], "rate": { "kind": "manual" },
        "message": { "routing_keys": [queue] }
    })
}

fn consumer(name: &str, queue: &str, stage: &str) -> Value {
    json!({
        "name": name, "source": { "queue": queue }, "prefetch": 1, "stage": stage,
        "processing": { "kind": "fixed", "ms": 1 }
    })
}

/// The naive pipeline; `over` lays fields on each stage (order, payment, inventory,
/// shipping) and on each consumer (same order).
fn pipeline(stages: [Value; 4], consumers: [Value; 4]) -> Value {
    let base_stages = [
        json!({ "role": "order", "publish": "order-events" }),
        json!({ "role": "payment", "publish": "payment-events", "compensate": "payment-back" }),
        json!({ "role": "inventory", "publish": "inventory-events",
                "compensate": "inventory-back" }),
        json!({ "role": "shipping" }),
    ];
    let stages: Vec<Value> = base_stages
        .into_iter()
        .zip(stages)
        .map(|(b, o)| b.with(o))
        .collect();
    let consumers: Vec<Value> = (0..4)
        .map(|i| consumer(SERVICES[i], QUEUES[i], ROLES[i]).with(consumers[i].clone()))
        .collect();
    json!({
        "queues": QUEUES.iter().map(|q| json!({ "name": q })).collect::<Vec<_>>(),
        "producers": [
            to_queue("shop", "orders"),
            to_queue("order-events", "payments"),
            to_queue("payment-events", "inventory"),
            to_queue("payment-back", "orders"),
            to_queue("inventory-events", "shipping"),
            to_queue("inventory-back", "payments"),
        ],
        "consumers": consumers,
        "stages": stages,
    })
}

fn none4() -> [Value; 4] {
    [json!({}), json!({}), json!({}), json!({})]
}

fn view(sim: &Simulation) -> PipelineView {
    sim.snapshot().pipeline.expect("stages")
}

/// The steps a service's consumer wrote, as (ms, txn, what).
fn steps(events: &[broker_sim::Event]) -> Vec<(u64, u64, StageWrite)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Stage(StageEvent::StageStep { txn, wrote, .. }) => {
                Some((e.time.0 / 1_000, *txn, *wrote))
            }
            _ => None,
        })
        .collect()
}

// ------------------------------------------------------------------ PAT-1

#[test]
fn pat_1_naive_pipeline_ships_one_order() {
    let mut sim = sim_1ms(pipeline(none4(), none4()));
    apply(&mut sim, cmd::burst("shop", 1));
    let events = run_ms(&mut sim, 100);
    use StageWrite::*;
    assert_eq!(
        steps(&events),
        vec![
            (3, 0, OrderOpened),
            (6, 0, Paid),
            (9, 0, Reserved),
            (12, 0, Shipped)
        ]
    );
    let v = view(&sim);
    assert_eq!((v.orders, v.shipped, v.compensated), (1, 1, 0));
    assert_eq!(v.anomalies, Default::default());
    assert_eq!(v.mean_pending_ms, 9.0);
}

#[test]
fn pat_1_dual_write_crash_loses_the_event() {
    // Auto-ack: the request is gone from the broker when the order service takes it.
    let auto = json!({ "ack": "auto" });
    let mut sim = sim_1ms(pipeline(none4(), [auto, json!({}), json!({}), json!({})]));
    apply(
        &mut sim,
        json!({ "crash_stage_after_write": { "consumer": "order-svc" } }),
    );
    apply(&mut sim, cmd::burst("shop", 1));
    let events = run_ms(&mut sim, 100);
    assert_eq!(steps(&events), vec![(3, 0, StageWrite::OrderOpened)]);
    let crashed: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Stage(StageEvent::StageCrashedAfterWrite { txn, lost, .. }) => {
                Some((e.time.0 / 1_000, *txn, *lost))
            }
            _ => None,
        })
        .collect();
    assert_eq!(crashed, vec![(3, 0, 1)]);
    // The order row is in place; the payments queue never saw a message.
    let v = view(&sim);
    assert_eq!(v.sagas[0].order, Some(SagaState::Pending));
    assert_eq!(v.sagas[0].payment, None);
    assert_eq!(crate::helpers::queue_view(&sim, "payments").total, 0);
    assert_eq!(sim.snapshot().producers[1].sent, 0);
    assert_eq!(v.anomalies.lost, 1);
}

// ------------------------------------------------------------------ PAT-2

#[test]
fn pat_2_outbox_survives_the_crash_and_lags_one_poll() {
    let auto = json!({ "ack": "auto" });
    let outbox = json!({ "outbox": true, "relay_ms": 50 });
    let mut sim = sim_1ms(pipeline(
        [outbox, json!({}), json!({}), json!({})],
        [auto, json!({}), json!({}), json!({})],
    ));
    apply(
        &mut sim,
        json!({ "crash_stage_after_write": { "consumer": "order-svc" } }),
    );
    apply(&mut sim, cmd::burst("shop", 1));
    let events = run_ms(&mut sim, 200);
    use StageWrite::*;
    // Written at 3 ms, relayed at 53, then the chain runs as usual: 56, 59, 62.
    assert_eq!(
        steps(&events),
        vec![
            (3, 0, OrderOpened),
            (56, 0, Paid),
            (59, 0, Reserved),
            (62, 0, Shipped)
        ]
    );
    let v = view(&sim);
    assert_eq!((v.shipped, v.anomalies.lost), (1, 0));
    assert_eq!(v.services[0].relayed, 1);
}

#[test]
fn pat_2_relay_crash_republishes_the_row_with_the_same_id() {
    let outbox = json!({ "outbox": true, "relay_ms": 50 });
    let mut sim = sim_1ms(pipeline([outbox, json!({}), json!({}), json!({})], none4()));
    apply(&mut sim, json!({ "crash_relay": { "stage": "order" } }));
    apply(&mut sim, cmd::burst("shop", 1));
    let events = run_ms(&mut sim, 300);
    let got = crate::helpers::ids_received_by(&events, &sim, "payment-svc");
    // Message 0 is the request; 1 is OrderCreated, its id fixed in the outbox row.
    assert_eq!(got, vec![1, 1]);
    let v = view(&sim);
    // Without an idempotent consumer the duplicate charges and ships twice.
    assert_eq!(v.sagas[0].charges, 2);
    assert_eq!(v.anomalies.shipped_twice, 1);
    assert_eq!(v.anomalies.charged_twice, 1);
}

// ------------------------------------------------------------------ PAT-3

#[test]
fn pat_3_idempotent_consumer_charges_once() {
    let outbox = json!({ "outbox": true, "relay_ms": 50 });
    let idem = json!({ "idempotent": true });
    let mut sim = sim_1ms(pipeline(
        [outbox, idem.clone(), idem.clone(), idem],
        none4(),
    ));
    apply(&mut sim, json!({ "crash_relay": { "stage": "order" } }));
    apply(&mut sim, cmd::burst("shop", 1));
    let events = run_ms(&mut sim, 300);
    use StageWrite::*;
    assert_eq!(
        steps(&events),
        vec![
            (3, 0, OrderOpened),
            (56, 0, Paid),
            (59, 0, Reserved),
            (62, 0, Shipped),
            (106, 0, Duplicate)
        ]
    );
    let v = view(&sim);
    assert_eq!(v.sagas[0].charges, 1);
    assert_eq!(v.services[1].duplicates_skipped, 1);
    assert_eq!(v.anomalies, Default::default());
}

#[test]
fn pat_3_redelivery_after_commit_is_skipped_then_acked() {
    // Payment commits (row, received id, outbox row), then dies before its ack: the broker
    // redelivers to the restarted consumer, which skips it and acks.
    let mended = json!({ "outbox": true, "relay_ms": 20, "idempotent": true });
    let mut sim = sim_1ms(pipeline([json!({}), mended, json!({}), json!({})], none4()));
    apply(
        &mut sim,
        json!({ "crash_stage_after_write": { "consumer": "payment-svc", "restart_after_ms": 5 } }),
    );
    apply(&mut sim, cmd::burst("shop", 1));
    let events = run_ms(&mut sim, 200);
    use StageWrite::*;
    assert_eq!(
        steps(&events),
        vec![
            (3, 0, OrderOpened),
            (6, 0, Paid),
            (13, 0, Duplicate),
            (29, 0, Reserved),
            (32, 0, Shipped)
        ]
    );
    let v = view(&sim);
    assert_eq!(v.sagas[0].charges, 1);
    assert_eq!(crate::helpers::queue_view(&sim, "payments").total, 0);
}

#[test]
fn pat_3_without_idempotency_the_redelivery_charges_again() {
    let outbox = json!({ "outbox": true, "relay_ms": 20 });
    let mut sim = sim_1ms(pipeline([json!({}), outbox, json!({}), json!({})], none4()));
    apply(
        &mut sim,
        json!({ "crash_stage_after_write": { "consumer": "payment-svc", "restart_after_ms": 5 } }),
    );
    apply(&mut sim, cmd::burst("shop", 1));
    run_ms(&mut sim, 200);
    let v = view(&sim);
    assert_eq!(v.sagas[0].charges, 2);
    assert_eq!(v.anomalies.shipped_twice, 1);
}

// ------------------------------------------------------------------ PAT-4

#[test]
fn pat_4_declined_card_compensates_the_order() {
    let saga = json!({ "saga": true });
    let pay = json!({ "saga": true, "fail_probability": 1.0 });
    let mut sim = sim_1ms(pipeline([saga.clone(), pay, saga.clone(), saga], none4()));
    apply(&mut sim, cmd::burst("shop", 1));
    let events = run_ms(&mut sim, 100);
    use StageWrite::*;
    assert_eq!(
        steps(&events),
        vec![(3, 0, OrderOpened), (6, 0, Declined), (9, 0, OrderRejected)]
    );
    let v = view(&sim);
    assert_eq!(v.sagas[0].order, Some(SagaState::Compensated));
    assert_eq!(v.sagas[0].payment, Some(SagaState::Failed));
    assert_eq!((v.compensated, v.shipped), (1, 0));
    assert_eq!(v.services[1].compensations, 1);
}

#[test]
fn pat_4_without_a_saga_the_order_stays_pending() {
    let pay = json!({ "fail_probability": 1.0 });
    let mut sim = sim_1ms(pipeline([json!({}), pay, json!({}), json!({})], none4()));
    apply(&mut sim, cmd::burst("shop", 1));
    let events = run_ms(&mut sim, 100);
    assert_eq!(steps(&events).len(), 2);
    let v = view(&sim);
    assert_eq!(v.sagas[0].order, Some(SagaState::Pending));
    assert_eq!(v.sagas[0].payment, Some(SagaState::Failed));
}

#[test]
fn pat_4_the_saga_switch_flips_mid_run() {
    let pay = json!({ "fail_probability": 1.0 });
    let mut sim = sim_1ms(pipeline([json!({}), pay, json!({}), json!({})], none4()));
    apply(&mut sim, cmd::burst("shop", 1));
    run_ms(&mut sim, 50);
    apply(
        &mut sim,
        json!({ "update_stage": { "stage": {
            "role": "payment", "publish": "payment-events", "compensate": "payment-back",
            "fail_probability": 1.0, "saga": true } } }),
    );
    apply(&mut sim, cmd::burst("shop", 1));
    run_ms(&mut sim, 100);
    let v = view(&sim);
    let orders: Vec<_> = v.sagas.iter().map(|s| s.order).collect();
    assert_eq!(
        orders,
        vec![Some(SagaState::Pending), Some(SagaState::Compensated)]
    );
}

// ------------------------------------------------------------------ PAT-9

#[test]
fn pat_9_paid_but_out_of_stock_is_visible_until_the_void() {
    let saga = json!({ "saga": true });
    let inv = json!({ "saga": true, "stock": 0 });
    let mut sim = sim_1ms(pipeline([saga.clone(), saga.clone(), inv, saga], none4()));
    apply(&mut sim, cmd::burst("shop", 1));
    let mut events = run_ms(&mut sim, 10);
    // Between StockReservationFailed (9 ms) and PaymentVoided (12 ms).
    assert_eq!(view(&sim).anomalies.paid_out_of_stock, 1);
    events.extend(run_ms(&mut sim, 100));
    use StageWrite::*;
    assert_eq!(
        steps(&events),
        vec![
            (3, 0, OrderOpened),
            (6, 0, Paid),
            (9, 0, OutOfStock),
            (12, 0, Voided),
            (15, 0, OrderRejected)
        ]
    );
    let v = view(&sim);
    assert_eq!(v.anomalies, Default::default());
    assert_eq!(v.sagas[0].payment, Some(SagaState::Compensated));
    assert_eq!(v.sagas[0].order, Some(SagaState::Compensated));
}

#[test]
fn pat_9_without_a_saga_paid_but_out_of_stock_stays() {
    let inv = json!({ "stock": 0 });
    let mut sim = sim_1ms(pipeline([json!({}), json!({}), inv, json!({})], none4()));
    apply(&mut sim, cmd::burst("shop", 1));
    run_ms(&mut sim, 100);
    let a = view(&sim).anomalies;
    assert_eq!((a.paid_out_of_stock, a.paid_never_shipped), (1, 1));
}

#[test]
fn pat_9_reserved_but_payment_failed_when_inventory_runs_first() {
    // Order → inventory → payment → shipping: a declined card leaves stock reserved until
    // the release comes back.
    let mut v = json!({ "version": 1, "latency_ms": 1 }).with(pipeline(none4(), none4()));
    v["producers"] = json!([
        to_queue("shop", "orders"),
        to_queue("order-events", "inventory"),
        to_queue("inventory-events", "payments"),
        to_queue("inventory-back", "orders"),
        to_queue("payment-events", "shipping"),
        to_queue("payment-back", "inventory"),
    ]);
    for s in v["stages"].as_array_mut().expect("stages") {
        s["saga"] = json!(true);
    }
    v["stages"][1]["fail_probability"] = json!(1.0);
    let mut sim = crate::helpers::sim_of(v);
    apply(&mut sim, cmd::burst("shop", 1));
    run_ms(&mut sim, 10);
    assert_eq!(view(&sim).anomalies.reserved_payment_failed, 1);
    let events = run_ms(&mut sim, 100);
    use StageWrite::*;
    assert_eq!(
        steps(&events),
        vec![(12, 0, Released), (15, 0, OrderRejected)]
    );
    assert_eq!(view(&sim).anomalies, Default::default());
}

// ------------------------------------------------------------------ the invariant

/// A case: the simulation seed, orders, a card's decline chance, the stock, and timed failures
/// (ms, which service, 0 = crash after write, 1 = relay crash, 2 = plain consumer crash).
fn run_case(
    seed: u64,
    mended: bool,
    orders: u64,
    p: f64,
    stock: u32,
    failures: &[(u64, usize, u8)],
) -> PipelineView {
    let remedies = if mended {
        json!({ "outbox": true, "relay_ms": 20, "idempotent": true, "saga": true })
    } else {
        json!({})
    };
    let stages = [
        remedies.clone(),
        remedies.clone().with(json!({ "fail_probability": p })),
        remedies.clone().with(json!({ "stock": stock, "items": 3 })),
        remedies,
    ];
    let mut v = json!({ "version": 1, "latency_ms": 1 }).with(pipeline(stages, none4()));
    v["producers"][0]["rate"] = json!({ "kind": "constant", "per_sec": 200 });
    v["producers"][0]["limit"] = json!(orders);
    let scenario = serde_json::from_value(v).expect("scenario");
    let mut sim = Simulation::new(&scenario, seed).expect("valid");
    for &(ms, i, kind) in failures {
        run_ms(&mut sim, ms);
        let c = SERVICES[i];
        let command = match kind {
            0 => json!({ "crash_stage_after_write": { "consumer": c, "restart_after_ms": 7 } }),
            1 => json!({ "crash_relay": { "stage": ROLES[i] } }),
            _ => cmd::crash(c),
        };
        let command: broker_sim::Command = serde_json::from_value(command).expect("command");
        if sim.apply(command).is_ok() && kind == 2 {
            run_ms(&mut sim, ms + 3);
            apply(&mut sim, cmd::restart(c));
        }
    }
    run_ms(&mut sim, 5_000);
    view(&sim)
}

fn failures() -> impl Strategy<Value = Vec<(u64, usize, u8)>> {
    prop::collection::vec((0u64..400, 0usize..4, 0u8..3), 0..8).prop_map(|mut f| {
        f.sort();
        f
    })
}

proptest! {
    #![proptest_config(Config {
        cases: 48,
        rng_seed: RngSeed::Fixed(14),
        failure_persistence: None,
        ..Config::default()
    })]

    /// With the outbox, idempotency and the saga on, every order ends shipped or compensated,
    /// once, whatever crashes and duplicates happen.
    #[test]
    fn pat_2_3_4_mended_pipeline_ends_consistent(
        seed in any::<u64>(), orders in 1u64..30, p in 0.0f64..0.5, stock in 0u32..10,
        f in failures(),
    ) {
        let v = run_case(seed, true, orders, p, stock, &f);
        prop_assert_eq!(v.orders, orders);
        prop_assert_eq!(&v.anomalies, &Default::default());
        for s in &v.sagas {
            let shipped = s.shipments == 1 && s.order == Some(SagaState::Pending);
            let compensated = s.shipments == 0 && s.order == Some(SagaState::Compensated);
            prop_assert!(shipped || compensated, "{:?}", s);
        }
    }
}

#[test]
fn pat_1_3_4_naive_pipeline_shows_the_anomalies() {
    let f = [(30, 0, 0), (60, 1, 0), (90, 2, 0)];
    let naive = run_case(7, false, 20, 0.2, 3, &f);
    let a = &naive.anomalies;
    assert!(a.lost > 0 || a.charged_twice > 0, "{a:?}");
    assert!(a.paid_out_of_stock > 0, "{a:?}");
    let mended = run_case(7, true, 20, 0.2, 3, &f);
    assert_eq!(mended.anomalies, Default::default());
}

// ------------------------------------------------------------------ any family connects

#[test]
fn pat_1_stages_connect_over_sqs_jms_and_rabbitmq() {
    // SQS orders → order service → a JMS queue → payment → an SQS queue → inventory → a
    // RabbitMQ queue → shipping.
    let sqs = |n: &str| json!({ "name": n, "duplicate_rate": 0, "reorder_rate": 0, "short_poll_sample": 1.0 });
    let manual = json!({ "kind": "manual" });
    let mut sim = sim_1ms(json!({
        "sqs_queues": [sqs("orders"), sqs("inventory")],
        "queues": [{ "name": "shipping" }],
        "producers": [
            { "name": "shop", "targets": [{ "sqs_queue": "orders" }], "rate": manual },
            { "name": "order-events", "targets": [{ "jms_queue": "payments" }], "rate": manual },
            { "name": "payment-events", "targets": [{ "sqs_queue": "inventory" }], "rate": manual },
            to_queue("inventory-events", "shipping"),
        ],
        "consumers": [
            { "name": "order-svc", "source": { "sqs_queue": "orders" }, "stage": "order",
              "processing": { "kind": "fixed", "ms": 1 } },
            { "name": "payment-svc", "source": { "jms_queue": "payments" }, "stage": "payment",
              "processing": { "kind": "fixed", "ms": 1 } },
            { "name": "inventory-svc", "source": { "sqs_queue": "inventory" }, "stage": "inventory",
              "processing": { "kind": "fixed", "ms": 1 } },
            consumer("shipping-svc", "shipping", "shipping"),
        ],
        "stages": [
            { "role": "order", "publish": "order-events" },
            { "role": "payment", "publish": "payment-events" },
            { "role": "inventory", "publish": "inventory-events" },
            { "role": "shipping" },
        ],
    }));
    apply(&mut sim, cmd::burst("shop", 3));
    run_ms(&mut sim, 5_000);
    let v = view(&sim);
    assert_eq!((v.orders, v.shipped), (3, 3));
    assert_eq!(v.anomalies, Default::default());
    let steps: Vec<u64> = v.services.iter().map(|s| s.steps).collect();
    assert_eq!(steps, vec![3, 3, 3, 3]);
}

#[test]
fn pat_1_a_kafka_group_member_is_refused_as_a_stage() {
    let s = json!({
        "version": 1, "topics": [{ "name": "t" }], "groups": [{ "name": "g", "topics": ["t"] }],
        "consumers": [{ "name": "c", "source": { "group": "g" }, "stage": "order",
                        "processing": { "kind": "fixed", "ms": 1 } }],
        "stages": [{ "role": "order" }],
    });
    let err = serde_json::from_value::<broker_sim::Scenario>(s)
        .expect("parses")
        .validate()
        .expect_err("refused");
    assert_eq!(err.path, "consumers[0].stage");
}

#[test]
fn pat_9_a_slow_service_keeps_the_order_pending_longer() {
    let mut sim = sim_1ms(pipeline(none4(), none4()));
    apply(
        &mut sim,
        json!({ "slow_consumer": { "consumer": "inventory-svc", "factor": 20 } }),
    );
    apply(&mut sim, cmd::burst("shop", 1));
    run_ms(&mut sim, 20);
    assert_eq!(view(&sim).anomalies.paid_never_shipped, 1);
    let events = run_ms(&mut sim, 100);
    assert_eq!(
        steps(&events),
        vec![(28, 0, StageWrite::Reserved), (31, 0, StageWrite::Shipped)]
    );
    // Written at 3 ms, shipped at 31: 28 ms pending instead of 9.
    assert_eq!(view(&sim).mean_pending_ms, 28.0);
}

// ------------------------------------------------------------------ PAT-8

#[test]
fn pat_8_replies_share_one_queue_and_match_by_correlation_id() {
    // Shipping is slow (20 ms) and approves the order back on `orders`; order 1's item is
    // out of stock, so its refusal overtakes order 0's confirmation on the reply queue.
    let saga = json!({ "saga": true });
    let mut v = json!({ "version": 1, "latency_ms": 1 }).with(pipeline(
        [
            json!({ "saga": true, "reply": "replies" }),
            saga.clone(),
            json!({ "saga": true, "stock": 1 }),
            json!({ "publish": "shipping-events" }),
        ],
        [
            json!({}),
            json!({}),
            json!({}),
            json!({ "processing": { "kind": "fixed", "ms": 20 } }),
        ],
    ));
    let extra = [
        to_queue("replies", "reply-queue"),
        to_queue("shipping-events", "orders"),
    ];
    v["producers"].as_array_mut().expect("list").extend(extra);
    v["queues"]
        .as_array_mut()
        .expect("list")
        .push(json!({ "name": "reply-queue" }));
    v["consumers"]
        .as_array_mut()
        .expect("list")
        .push(consumer("web", "reply-queue", "client"));
    v["stages"]
        .as_array_mut()
        .expect("list")
        .push(json!({ "role": "client" }));
    let mut sim = crate::helpers::sim_of(v);
    apply(&mut sim, cmd::burst("shop", 2));
    let events = run_ms(&mut sim, 200);
    let replies: Vec<_> = steps(&events)
        .into_iter()
        .filter(|s| s.2 == StageWrite::ReplyMatched)
        .collect();
    // Order 1 (the second request) is refused at 21 ms; order 0 confirmed at 37 ms.
    assert_eq!(
        replies,
        vec![
            (21, 1, StageWrite::ReplyMatched),
            (37, 0, StageWrite::ReplyMatched)
        ]
    );
    let v = view(&sim);
    // Both requests were sent at 0: the callers waited 21 and 37 ms.
    assert_eq!((v.replies, v.mean_reply_ms), (2, 29.0));
    assert_eq!((v.shipped, v.compensated), (1, 1));
}

/// The stages export as written: defaults stay out.
#[test]
fn stages_in_the_pipeline_files_round_trip_unchanged() {
    for name in ["naive-pipeline.json", "mended-pipeline.json"] {
        let path = format!(
            "{}/../scenarios/pipeline/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).expect("file");
        let scenario = broker_sim::Scenario::from_json(&text).expect("parses");
        let again = serde_json::to_value(&scenario.stages).expect("serialises");
        let original: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(again, original["stages"], "{name}");
    }
}
