//! The order → payment → inventory → shipping pipeline (PAT-1..PAT-9 in
//! `reference/semantics.md`, issue 14).
//!
//! The rig: four RabbitMQ queues behind the default exchange, one stage consumer on each
//! (prefetch 1, manual acks, 1 ms of processing), every hop 1 ms. The shop bursts one order
//! request at 10 ms: the order service finishes it at 13, payment at 16, inventory at 19,
//! shipping at 22. Compensations travel back on the previous stage's queue.

use crate::helpers::{apply, cmd, run_ms, sim_1ms, With};
use broker_sim::event::StageRole;
use broker_sim::event::{StageEvent, StageWrite};
use broker_sim::{EventKind, PipelineView, SagaState, SagaStep, Simulation};
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
/// (ms, which service, 0 = crash after write, 1 = relay crash, 2 = plain consumer crash), or
/// a cancel request (3: the order listed at that index, modulo). Parcels leave 150 ms after
/// shipping schedules them.
fn run_case(
    seed: u64,
    mended: bool,
    orchestrate: bool,
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
        remedies.with(json!({ "departs_ms": 150 })),
    ];
    let rig = if orchestrate {
        orchestrated(stages)
    } else {
        pipeline(stages, none4())
    };
    let mut v = json!({ "version": 1, "latency_ms": 1 }).with(rig);
    v["producers"][0]["rate"] = json!({ "kind": "constant", "per_sec": 200 });
    v["producers"][0]["limit"] = json!(orders);
    let scenario = serde_json::from_value(v).expect("scenario");
    let mut sim = Simulation::new(&scenario, seed).expect("valid");
    for &(ms, i, kind) in failures {
        run_ms(&mut sim, ms);
        let c = SERVICES[i];
        if kind == 3 {
            let sagas = view(&sim).sagas;
            if let Some(s) = sagas.get(i % sagas.len().max(1)) {
                // Refused unless the order is approved: that is PAT-7's lock.
                apply(&mut sim, json!({ "cancel_order": { "txn": s.txn } }));
            }
            continue;
        }
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
    failures_of(3)
}

/// Failures, and cancels when `kinds` is 4.
fn failures_of(kinds: u8) -> impl Strategy<Value = Vec<(u64, usize, u8)>> {
    prop::collection::vec((0u64..400, 0usize..4, 0u8..kinds), 0..8).prop_map(|mut f| {
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
        let v = run_case(seed, true, false, orders, p, stock, &f);
        prop_assert_eq!(v.orders, orders);
        prop_assert_eq!(&v.anomalies, &Default::default());
        for s in &v.sagas {
            let shipped = s.shipments == 1 && s.order == Some(SagaState::Pending);
            let compensated = s.shipments == 0 && s.order == Some(SagaState::Compensated);
            prop_assert!(shipped || compensated, "{:?}", s);
        }
    }

    /// The same invariant when the order service orchestrates, and every saga instance ends:
    /// completed for a shipped order, rolled back for a rejected one.
    #[test]
    fn pat_2_3_6_mended_orchestration_ends_consistent(
        seed in any::<u64>(), orders in 1u64..30, p in 0.0f64..0.5, stock in 0u32..10,
        f in failures(),
    ) {
        let v = run_case(seed, true, true, orders, p, stock, &f);
        prop_assert_eq!(v.orders, orders);
        prop_assert_eq!(&v.anomalies, &Default::default());
        for s in &v.sagas {
            let i = s.instance.expect("orchestrated");
            let shipped = s.shipments == 1 && s.order == Some(SagaState::Shipped) && !i.failed;
            let rejected = s.shipments == 0 && s.order == Some(SagaState::Compensated) && i.failed;
            prop_assert!(i.end_state && (shipped || rejected), "{:?}", s);
        }
    }

    /// Random cancels in the mended orchestrated shop, among crashes: every saga instance
    /// ends, each order is approved, rejected or cancelled with every service agreeing, and no
    /// unit of stock leaks: what is on the shelf plus what is reserved is the starting stock.
    #[test]
    fn pat_6_7_random_cancels_end_every_instance_and_leak_no_stock(
        seed in any::<u64>(), orders in 1u64..30, p in 0.0f64..0.5, stock in 0u32..10,
        f in failures_of(4),
    ) {
        use SagaState::*;
        let v = run_case(seed, true, true, orders, p, stock, &f);
        prop_assert_eq!(v.orders, orders);
        prop_assert_eq!(&v.anomalies, &Default::default());
        prop_assert_eq!(v.locked, 0);
        let mut reserved = 0;
        for s in &v.sagas {
            let i = s.instance.expect("orchestrated");
            let approved = s.order == Some(Shipped) && s.shipping == Some(Shipped)
                && s.inventory == Some(Reserved) && s.payment == Some(Paid);
            let rejected = s.order == Some(Compensated) && s.shipments == 0;
            let cancelled = s.order == Some(Cancelled) && s.shipping == Some(Cancelled)
                && s.inventory == Some(Compensated) && s.payment == Some(Compensated);
            prop_assert!(i.end_state && (approved || rejected || cancelled), "{:?}", s);
            reserved += u32::from(s.inventory == Some(Reserved));
        }
        let shelf: u32 = stock_of(&v).iter().sum();
        prop_assert_eq!(shelf + reserved, stock * 3);
    }
}

#[test]
fn pat_1_3_4_naive_pipeline_shows_the_anomalies() {
    let f = [(30, 0, 0), (60, 1, 0), (90, 2, 0)];
    let naive = run_case(7, false, false, 20, 0.2, 3, &f);
    let a = &naive.anomalies;
    assert!(a.lost > 0 || a.charged_twice > 0, "{a:?}");
    assert!(a.paid_out_of_stock > 0, "{a:?}");
    let mended = run_case(7, true, false, 20, 0.2, 3, &f);
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

// ------------------------------------------------------------------ PAT-5..PAT-7

/// The choreographed saga on the rig, with shipping announcing `Shipped` back to the order
/// service, which approves the order.
fn choreography(inventory: Value) -> Value {
    let saga = json!({ "saga": true });
    let mut v = pipeline(
        [
            saga.clone(),
            saga.clone(),
            saga.with(inventory),
            json!({ "publish": "shipping-events" }),
        ],
        none4(),
    );
    let extra = to_queue("shipping-events", "orders");
    v["producers"].as_array_mut().expect("list").push(extra);
    v
}

/// The same shop orchestrated: the order service sends a command to each participant's queue
/// and every participant answers on `orders`, the orchestrator's own queue.
fn orchestration(inventory: Value) -> Value {
    orchestrated([json!({}), json!({}), inventory, json!({})])
}

/// The orchestrated shop with `over` laid on each stage (order, payment, inventory, shipping).
fn orchestrated(over: [Value; 4]) -> Value {
    let base = [
        json!({ "role": "order", "orchestrate": {
            "payment": "to-payments", "inventory": "to-inventory", "shipping": "to-shipping" } }),
        json!({ "role": "payment", "publish": "to-order" }),
        json!({ "role": "inventory", "publish": "to-order" }),
        json!({ "role": "shipping", "publish": "to-order" }),
    ];
    let stages: Vec<Value> = base.into_iter().zip(over).map(|(b, o)| b.with(o)).collect();
    json!({
        "queues": QUEUES.iter().map(|q| json!({ "name": q })).collect::<Vec<_>>(),
        "producers": [
            to_queue("shop", "orders"),
            to_queue("to-payments", "payments"),
            to_queue("to-inventory", "inventory"),
            to_queue("to-shipping", "shipping"),
            to_queue("to-order", "orders"),
        ],
        "consumers": (0..4).map(|i| consumer(SERVICES[i], QUEUES[i], ROLES[i]))
            .collect::<Vec<_>>(),
        "stages": stages,
    })
}

fn published(events: &[broker_sim::Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Published { .. }))
        .count()
}

/// Each order's row at order, payment, inventory and shipping.
type Ends = Vec<[Option<SagaState>; 4]>;

fn ends(v: &PipelineView) -> Ends {
    v.sagas
        .iter()
        .map(|s| [s.order, s.payment, s.inventory, s.shipping])
        .collect()
}

#[test]
fn pat_5_choreography_and_orchestration_reach_the_same_end_states() {
    // Three orders, one item in stock: order 0 ships, orders 1 and 2 fail at the pivot and
    // are compensated (payment voided, order rejected).
    let stock = json!({ "stock": 1 });
    let run = |parts: Value| {
        let mut sim = sim_1ms(parts);
        apply(&mut sim, cmd::burst("shop", 3));
        let events = run_ms(&mut sim, 500);
        (view(&sim), published(&events))
    };
    let (chor, chor_msgs) = run(choreography(stock.clone()));
    let (orch, orch_msgs) = run(orchestration(stock));
    use SagaState::*;
    let rejected = [Some(Compensated), Some(Compensated), Some(Failed), None];
    let expected = vec![
        [Some(Shipped), Some(Paid), Some(Reserved), Some(Shipped)],
        rejected,
        rejected,
    ];
    assert_eq!(ends(&chor), expected);
    assert_eq!(ends(&orch), expected);
    // Choreography: each event triggers the next step, 5 messages an order. Orchestration:
    // the request, then a command and a reply per step, 7 an order.
    assert_eq!((chor_msgs, orch_msgs), (15, 21));
    assert!(chor.sagas.iter().all(|s| s.instance.is_none()));
    assert!(orch
        .sagas
        .iter()
        .all(|s| s.instance.is_some_and(|i| i.end_state)));
}

#[test]
fn pat_5_a_happy_order_takes_longer_when_orchestrated() {
    let run = |parts: Value| {
        let mut sim = sim_1ms(parts);
        apply(&mut sim, cmd::burst("shop", 1));
        steps(&run_ms(&mut sim, 100))
    };
    use StageWrite::*;
    assert_eq!(
        run(choreography(json!({}))),
        vec![
            (3, 0, OrderOpened),
            (6, 0, Paid),
            (9, 0, Reserved),
            (12, 0, Shipped),
            (15, 0, OrderApproved)
        ]
    );
    // Every step goes back to the orchestrator before the next one starts.
    assert_eq!(
        run(orchestration(json!({}))),
        vec![
            (3, 0, OrderOpened),
            (6, 0, Paid),
            (9, 0, SagaAdvanced),
            (12, 0, Reserved),
            (15, 0, SagaAdvanced),
            (18, 0, Shipped),
            (21, 0, OrderApproved)
        ]
    );
}

/// The saga instance's step, flags and outstanding command at the end of each ms in `at`.
fn instance_over(
    sim: &mut Simulation,
    at: &[u64],
) -> Vec<(u64, broker_sim::SagaStep, bool, bool, bool, bool)> {
    at.iter()
        .map(|&ms| {
            run_ms(sim, ms);
            let i = view(sim).sagas[0].instance.expect("orchestrated");
            let outstanding = i.last_request_id.is_some();
            (
                ms,
                i.state_name,
                outstanding,
                i.compensating,
                i.end_state,
                i.failed,
            )
        })
        .collect()
}

#[test]
fn pat_6_instance_goes_step_by_step_to_a_completed_end() {
    let mut sim = sim_1ms(orchestration(json!({})));
    apply(&mut sim, cmd::burst("shop", 1));
    run_ms(&mut sim, 5);
    // lastRequestId is the id of the command the payment service is handed.
    let i = view(&sim).sagas[0].instance.expect("orchestrated");
    assert_eq!((i.saga_type, i.saga_id), ("CreateOrderSaga", 0));
    let events = run_ms(&mut sim, 6);
    let paid = steps(&events);
    assert_eq!(paid, vec![(6, 0, StageWrite::Paid)]);
    let handed = events.iter().find_map(|e| match &e.kind {
        EventKind::Stage(StageEvent::StageStep { msg, .. }) => Some(*msg),
        _ => None,
    });
    assert_eq!(i.last_request_id, handed);
    use broker_sim::SagaStep::*;
    assert_eq!(
        instance_over(&mut sim, &[8, 9, 15, 21]),
        vec![
            (8, AuthorizePayment, true, false, false, false),
            (9, ReserveStock, true, false, false, false),
            (15, ScheduleShipment, true, false, false, false),
            (21, ApproveOrder, false, false, true, false),
        ]
    );
}

#[test]
fn pat_6_a_failure_reply_turns_the_instance_compensating_then_failed() {
    let mut sim = sim_1ms(orchestration(json!({ "stock": 0 })));
    apply(&mut sim, cmd::burst("shop", 1));
    use broker_sim::SagaStep::*;
    assert_eq!(
        instance_over(&mut sim, &[9, 14, 15, 20, 21]),
        vec![
            (9, ReserveStock, true, false, false, false),
            // The out-of-stock reply (pivot failed) arrives at 15: compensation C2 is sent.
            (14, ReserveStock, true, false, false, false),
            (15, VoidPayment, true, true, false, false),
            (20, VoidPayment, true, true, false, false),
            // PaymentVoided: C1 rejects the order and the saga ends rolled back.
            (21, RejectOrder, false, true, true, true),
        ]
    );
    let v = view(&sim);
    assert_eq!(v.sagas[0].order, Some(SagaState::Compensated));
    assert_eq!(v.sagas[0].payment, Some(SagaState::Compensated));
}

#[test]
fn pat_6_a_restarted_orchestrator_continues_from_the_recorded_step() {
    let mut sim = sim_1ms(orchestration(json!({})));
    apply(&mut sim, cmd::burst("shop", 1));
    run_ms(&mut sim, 4);
    // The orchestrator's process dies while payment works; the reply waits in its queue.
    apply(&mut sim, cmd::crash("order-svc"));
    run_ms(&mut sim, 30);
    let i = view(&sim).sagas[0].instance.expect("orchestrated");
    assert_eq!(i.state_name, broker_sim::SagaStep::AuthorizePayment);
    apply(&mut sim, cmd::restart("order-svc"));
    run_ms(&mut sim, 100);
    let v = view(&sim);
    let i = v.sagas[0].instance.expect("orchestrated");
    assert_eq!(i.state_name, broker_sim::SagaStep::ApproveOrder);
    assert!(i.end_state && !i.failed);
    assert_eq!(v.sagas[0].order, Some(SagaState::Shipped));
}

/// What a cancel request did: (ms, txn, accepted).
fn cancels(events: &[broker_sim::Event]) -> Vec<(u64, u64, bool)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Stage(StageEvent::OrderCancel { txn, accepted }) => {
                Some((e.time.0 / 1_000, *txn, *accepted))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn pat_7_pending_lock_refuses_a_cancel_until_the_order_is_approved() {
    for parts in [choreography(json!({})), orchestration(json!({}))] {
        let mut sim = sim_1ms(parts);
        apply(&mut sim, cmd::burst("shop", 1));
        run_ms(&mut sim, 10);
        // Mid-saga every reader sees the order APPROVAL_PENDING: the semantic lock.
        assert_eq!(view(&sim).sagas[0].order, Some(SagaState::Pending));
        assert_eq!(view(&sim).locked, 1);
        apply(&mut sim, json!({ "cancel_order": { "txn": 0 } }));
        let refused = cancels(&run_ms(&mut sim, 10));
        assert_eq!(refused, vec![(10, 0, false)]);
        assert_eq!(view(&sim).sagas[0].order, Some(SagaState::Pending));
        run_ms(&mut sim, 100);
        // The saga ended: the lock is gone and the same request is accepted.
        assert_eq!(view(&sim).sagas[0].order, Some(SagaState::Shipped));
        assert_eq!(view(&sim).locked, 0);
        apply(&mut sim, json!({ "cancel_order": { "txn": 0 } }));
        assert_eq!(cancels(&run_ms(&mut sim, 100)), vec![(100, 0, true)]);
        assert_eq!(view(&sim).sagas[0].order, Some(SagaState::CancelPending));
    }
}

#[test]
fn pat_7_a_rejected_order_cannot_be_cancelled() {
    let mut sim = sim_1ms(orchestration(json!({ "stock": 0 })));
    apply(&mut sim, cmd::burst("shop", 1));
    run_ms(&mut sim, 100);
    apply(&mut sim, json!({ "cancel_order": { "txn": 0 } }));
    assert_eq!(cancels(&run_ms(&mut sim, 100)), vec![(100, 0, false)]);
    assert_eq!(view(&sim).sagas[0].order, Some(SagaState::Compensated));
    let unknown: broker_sim::Command =
        serde_json::from_value(json!({ "cancel_order": { "txn": 9 } })).expect("command");
    assert!(sim.apply(unknown).is_err());
}

/// The orchestrated shop, one item in stock, whose parcels leave `departs_ms` after shipping
/// schedules them; `order` is laid on the order service.
fn cancel_rig(departs_ms: u64, order: Value) -> Simulation {
    let mut sim = sim_1ms(orchestrated([
        order,
        json!({}),
        json!({ "stock": 1 }),
        json!({ "departs_ms": departs_ms }),
    ]));
    apply(&mut sim, cmd::burst("shop", 1));
    run_ms(&mut sim, 30);
    sim
}

fn stock_of(v: &PipelineView) -> Vec<u32> {
    let inventory = v.services.iter().find(|s| s.role == StageRole::Inventory);
    inventory.expect("inventory").stock.clone()
}

fn cancel_order(sim: &mut Simulation, txn: u64) {
    apply(sim, json!({ "cancel_order": { "txn": txn } }));
}

#[test]
fn pat_7_cancel_before_the_parcel_leaves_ends_cancelled_and_releases_the_stock() {
    let mut sim = cancel_rig(1_000, json!({}));
    use SagaState::*;
    let v = view(&sim);
    // Approved at 21; the parcel waits in the warehouse until 1018.
    assert_eq!(
        ends(&v),
        vec![[Some(Shipped), Some(Paid), Some(Reserved), Some(Scheduled)]]
    );
    assert_eq!(stock_of(&v), vec![0]);
    cancel_order(&mut sim, 0);
    let i = view(&sim).sagas[0].instance.expect("orchestrated");
    assert_eq!(
        (i.saga_type, i.state_name),
        ("CancelOrderSaga", SagaStep::CancelShipment)
    );
    assert!(i.last_request_id.is_some());
    assert_eq!(view(&sim).sagas[0].order, Some(CancelPending));
    assert_eq!(view(&sim).locked, 1);
    // Each participant undoes its part, one command and reply at a time.
    use StageWrite as W;
    assert_eq!(
        steps(&run_ms(&mut sim, 100)),
        vec![
            (33, 0, W::ShipmentCancelled),
            (36, 0, W::SagaAdvanced),
            (39, 0, W::Voided),
            (42, 0, W::SagaAdvanced),
            (45, 0, W::Released),
            (48, 0, W::OrderCancelled),
        ]
    );
    let v = view(&sim);
    assert_eq!(
        ends(&v),
        vec![[
            Some(Cancelled),
            Some(Compensated),
            Some(Compensated),
            Some(Cancelled)
        ]]
    );
    let i = v.sagas[0].instance.expect("orchestrated");
    assert_eq!(i.state_name, SagaStep::ConfirmCancel);
    assert!(i.end_state && !i.failed && !i.compensating);
    assert_eq!((v.cancelled, v.shipped, v.locked), (1, 0, 0));
    assert_eq!(stock_of(&v), vec![1]);
    assert_eq!(v.anomalies, Default::default());
    // Every command and reply was consumed and acked: nothing is left in the queues.
    let ledger = sim.snapshot().ledger;
    assert_eq!(ledger.acked, ledger.created);
    // The released unit ships the next order; a cancelled order cannot be cancelled again.
    apply(&mut sim, cmd::burst("shop", 1));
    run_ms(&mut sim, 200);
    let v = view(&sim);
    assert_eq!(v.sagas[1].shipping, Some(Scheduled));
    assert_eq!(stock_of(&v), vec![0]);
    cancel_order(&mut sim, 0);
    assert_eq!(cancels(&run_ms(&mut sim, 300)), vec![(200, 0, false)]);
}

#[test]
fn pat_7_cancel_after_the_parcel_left_is_undone_back_to_approved() {
    let mut sim = cancel_rig(0, json!({}));
    use SagaState::*;
    let approved = vec![[Some(Shipped), Some(Paid), Some(Reserved), Some(Shipped)]];
    assert_eq!(ends(&view(&sim)), approved);
    cancel_order(&mut sim, 0);
    run_ms(&mut sim, 34);
    // Shipping refused at 33; until the orchestrator reads that, the lock holds.
    assert_eq!(view(&sim).sagas[0].order, Some(CancelPending));
    use StageWrite as W;
    assert_eq!(
        steps(&run_ms(&mut sim, 100)),
        vec![(36, 0, W::CancelUndone)]
    );
    let v = view(&sim);
    assert_eq!(ends(&v), approved);
    let i = v.sagas[0].instance.expect("orchestrated");
    assert_eq!(i.state_name, SagaStep::UndoBeginCancel);
    assert!(i.end_state && i.failed && i.compensating);
    assert_eq!((v.cancelled, v.shipped, v.locked), (0, 1, 0));
    assert_eq!(stock_of(&v), vec![0]);
}

#[test]
fn pat_7_a_restarted_orchestrator_continues_the_cancel_from_the_recorded_step() {
    // The orchestrator's process dies while shipping works; the reply waits in its queue.
    let mut sim = cancel_rig(1_000, json!({}));
    cancel_order(&mut sim, 0);
    apply(&mut sim, cmd::crash("order-svc"));
    run_ms(&mut sim, 60);
    let v = view(&sim);
    assert_eq!(v.sagas[0].order, Some(SagaState::CancelPending));
    assert_eq!(v.sagas[0].shipping, Some(SagaState::Cancelled));
    let i = v.sagas[0].instance.expect("orchestrated");
    assert_eq!(i.state_name, SagaStep::CancelShipment);
    apply(&mut sim, cmd::restart("order-svc"));
    run_ms(&mut sim, 200);
    let v = view(&sim);
    assert_eq!(v.sagas[0].order, Some(SagaState::Cancelled));
    assert_eq!(stock_of(&v), vec![1]);
    // The process dies after writing the next step and before sending its command: the
    // outbox row survives, the relay sends it, and the redelivered reply is a duplicate.
    let mended = json!({ "outbox": true, "relay_ms": 20, "idempotent": true });
    let mut sim = cancel_rig(1_000, mended);
    // Each command waits for the relay's poll: the order is approved later.
    run_ms(&mut sim, 200);
    assert_eq!(view(&sim).sagas[0].order, Some(SagaState::Shipped));
    cancel_order(&mut sim, 0);
    let crash = json!({ "crash_stage_after_write": {
        "consumer": "order-svc", "restart_after_ms": 5 } });
    apply(&mut sim, crash);
    let events = run_ms(&mut sim, 600);
    let wrote = steps(&events);
    assert!(
        wrote.iter().any(|s| s.2 == StageWrite::Duplicate),
        "{wrote:?}"
    );
    let v = view(&sim);
    assert_eq!(v.sagas[0].order, Some(SagaState::Cancelled));
    assert_eq!(v.sagas[0].payment, Some(SagaState::Compensated));
    assert_eq!(stock_of(&v), vec![1]);
    assert_eq!(v.anomalies, Default::default());
}

#[test]
fn pat_5_only_the_order_service_orchestrates() {
    let mut v = json!({ "version": 1, "latency_ms": 1 }).with(orchestration(json!({})));
    v["stages"][1]["orchestrate"] = v["stages"][0]["orchestrate"].clone();
    let text = serde_json::to_string(&v).expect("json");
    let err = broker_sim::Scenario::from_json(&text).expect_err("refused");
    assert!(err.to_string().contains("stages[1].orchestrate"), "{err}");
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

#[test]
fn pat_7_orchestrated_pipeline_file_stops_a_waiting_parcel_but_not_one_that_left() {
    let path = format!(
        "{}/../scenarios/pipeline/orchestrated-pipeline.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("file");
    let scenario = broker_sim::Scenario::from_json(&text).expect("parses");
    let mut sim = Simulation::new(&scenario, 1).expect("valid");
    run_ms(&mut sim, 6_000);
    use SagaState::*;
    let v = view(&sim);
    let approved = |shipping| {
        let mut it = v.sagas.iter();
        it.find(|s| s.order == Some(Shipped) && s.shipping == Some(shipping))
            .map(|s| s.txn)
            .expect("an approved order")
    };
    // Parcels leave 3 s after they are scheduled: the first order's has left, a recent one's
    // waits in the warehouse.
    let (gone, waiting) = (approved(Shipped), approved(Scheduled));
    cancel_order(&mut sim, gone);
    cancel_order(&mut sim, waiting);
    run_ms(&mut sim, 8_000);
    let v = view(&sim);
    let of = |txn| v.sagas.iter().find(|s| s.txn == txn).expect("listed");
    assert_eq!(of(gone).order, Some(Shipped));
    assert_eq!(
        of(gone).instance.map(|i| i.state_name),
        Some(SagaStep::UndoBeginCancel)
    );
    let w = of(waiting);
    assert_eq!(
        [w.order, w.payment, w.inventory, w.shipping],
        [
            Some(Cancelled),
            Some(Compensated),
            Some(Compensated),
            Some(Cancelled)
        ]
    );
    assert_eq!(v.cancelled, 1);
}

/// The stages export as written: defaults stay out.
#[test]
fn stages_in_the_pipeline_files_round_trip_unchanged() {
    for name in [
        "naive-pipeline.json",
        "mended-pipeline.json",
        "orchestrated-pipeline.json",
        "kafka-transactional-pipeline.json",
    ] {
        let path = format!(
            "{}/../scenarios/pipeline/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).expect("file");
        let scenario = broker_sim::Scenario::from_json(&text).expect("parses");
        let again = serde_json::to_value(&scenario.stages).expect("serialises");
        let original: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(floats(again), floats(original["stages"].clone()), "{name}");
    }
}

/// Every number as a float: `3000` in a file reads back as the `f64` 3000.0.
fn floats(v: Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64()),
        Value::Array(a) => Value::Array(a.into_iter().map(floats).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, floats(v))).collect()),
        v => v,
    }
}
