//! The RabbitMQ node stopping and starting: what survives on disk, publisher confirms after the
//! fsync, exclusive and auto-delete queues (RMQ-31..RMQ-33 in `reference/semantics.md`).

use crate::helpers::{
    apply, at, burst_rate, cmd, constant_rate, crashes, dropped_for, ids_received_by, manual_rate,
    queue_consumer, queue_contents, queue_producer, received_by, run_ms, sim_1ms, trace, With,
};
use broker_sim::{Command, DropReason, EventKind, Scenario, Simulation};
use serde_json::{json, Value};

fn crash_node() -> Value {
    json!({ "crash_rabbitmq_node": {} })
}

fn restart_node() -> Value {
    json!({ "restart_rabbitmq_node": {} })
}

/// A producer of persistent messages (`delivery_mode` 2) to `queue`.
fn persistent(name: &str, queue: &str, rate: Value) -> Value {
    queue_producer(name, queue, rate).with(json!({ "message": { "persistent": true } }))
}

fn confirms(s: &Simulation, producer: &str) -> (u64, u64) {
    let p = &s.report(1, &[]).publishers[producer];
    (p.confirms_acked, p.confirms_nacked)
}

fn refused(s: &mut Simulation, command: Value) -> String {
    let command: Command = serde_json::from_value(command).expect("command JSON");
    s.apply(command).expect_err("refused").to_string()
}

// ------------------------------------------------------------------ RMQ-31

#[test]
fn rmq_31_a_persistent_message_in_a_durable_queue_is_confirmed_after_the_fsync() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q" }],
        "producers": [
            persistent("disk", "q", burst_rate(1, 0.0)).with(json!({ "confirms": true })),
            queue_producer("mem", "q", burst_rate(1, 0.0)).with(json!({ "confirms": true }))
        ]
    }));
    run_ms(&mut s, 2);
    // Both are in the queue at 1 ms; only the transient one is confirmed at once.
    assert_eq!(queue_contents(&s, "q"), vec![0, 1]);
    assert_eq!(
        (confirms(&s, "disk"), confirms(&s, "mem")),
        ((0, 0), (1, 0))
    );
    run_ms(&mut s, 200);
    assert_eq!(
        confirms(&s, "disk"),
        (0, 0),
        "the fsync is 200 ms after 1 ms"
    );
    run_ms(&mut s, 201);
    assert_eq!(confirms(&s, "disk"), (1, 0));
}

#[test]
fn rmq_31_a_quorum_queue_confirms_without_the_classic_fsync() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q", "type": "quorum" }],
        "producers": [persistent("p", "q", burst_rate(1, 0.0)).with(json!({ "confirms": true }))]
    }));
    run_ms(&mut s, 2);
    assert_eq!(confirms(&s, "p"), (1, 0));
}

// ------------------------------------------------------------------ RMQ-32

#[test]
fn rmq_32_a_durable_queue_keeps_its_persistent_messages_and_loses_its_transient_ones() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "orders" }],
        "producers": [
            persistent("disk", "orders", manual_rate()),
            queue_producer("mem", "orders", manual_rate())
        ],
        "script": [
            at(0.0, cmd::burst("disk", 2)), at(0.0, cmd::burst("mem", 2)),
            at(10.0, cmd::burst("disk", 1)),
            at(1_000.0, crash_node()), at(2_000.0, restart_node())
        ]
    }));
    run_ms(&mut s, 999);
    assert_eq!(queue_contents(&s, "orders"), vec![0, 1, 2, 3, 4]);
    let events = run_ms(&mut s, 1_000);
    assert_eq!(
        dropped_for(&events, DropReason::LostInBrokerRestart),
        vec![2, 3],
        "{}",
        trace(&events)
    );
    assert_eq!(
        queue_contents(&s, "orders"),
        vec![0, 1, 4],
        "on disk, in order"
    );
    let stopped = events.iter().filter_map(|e| match e.kind {
        EventKind::RabbitMqNodeStopped { lost, .. } => Some(lost),
        _ => None,
    });
    assert_eq!(stopped.collect::<Vec<_>>(), vec![2]);
    run_ms(&mut s, 3_000);
    assert_eq!(queue_contents(&s, "orders"), vec![0, 1, 4]);
    assert_eq!(s.ledger().dropped_total(), 2);
}

#[test]
fn rmq_32_a_transient_queue_is_deleted_with_its_messages() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "live", "durable": false, "exclusive": true }, { "name": "orders" }],
        "producers": [persistent("p", "live", manual_rate())],
        "script": [
            at(0.0, cmd::burst("p", 3)),
            at(1_000.0, crash_node()), at(2_000.0, restart_node()),
            at(2_500.0, cmd::burst("p", 1))
        ]
    }));
    let events = run_ms(&mut s, 1_000);
    // Persistent and on disk, but its queue is not recovered.
    assert_eq!(
        dropped_for(&events, DropReason::TransientQueueLost),
        vec![0, 1, 2]
    );
    let events = run_ms(&mut s, 3_000);
    assert_eq!(
        dropped_for(&events, DropReason::Unroutable),
        vec![3],
        "no queue of that name after the restart"
    );
}

#[test]
fn rmq_32_rabbitmq_4_3_refuses_a_non_exclusive_transient_queue() {
    let e = Scenario::from_json(
        &json!({ "version": 1, "queues": [{ "name": "q", "durable": false }] }).to_string(),
    )
    .expect_err("refused");
    assert!(e.to_string().contains("queues[0].durable"), "{e}");
    let e = Scenario::from_json(
        &json!({ "version": 1, "queues": [{ "name": "q", "type": "quorum", "exclusive": true, "durable": false }] })
            .to_string(),
    )
    .expect_err("refused");
    assert!(
        e.to_string().contains("quorum queue is always durable"),
        "{e}"
    );
}

#[test]
fn rmq_32_a_persistent_message_not_yet_on_disk_is_lost_and_never_confirmed() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q" }],
        "producers": [persistent("p", "q", manual_rate()).with(json!({ "confirms": true }))],
        "script": [
            at(0.0, cmd::burst("p", 2)),
            at(300.0, cmd::burst("p", 2)),
            at(400.0, crash_node()), at(500.0, restart_node())
        ]
    }));
    let events = run_ms(&mut s, 1_000);
    // m0, m1 were synced at 201 ms; m2, m3 (enqueued at 301 ms) wait for the fsync at 501 ms.
    assert_eq!(dropped_for(&events, DropReason::NotYetOnDisk), vec![2, 3]);
    assert_eq!(queue_contents(&s, "q"), vec![0, 1]);
    assert_eq!(confirms(&s, "p"), (2, 0), "m2 and m3 are never confirmed");
}

#[test]
fn rmq_32_a_quorum_queue_keeps_even_transient_messages() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q", "type": "quorum" }],
        "producers": [queue_producer("p", "q", burst_rate(3, 0.0))],
        "script": [at(100.0, crash_node()), at(200.0, restart_node())]
    }));
    let events = run_ms(&mut s, 1_000);
    assert_eq!(queue_contents(&s, "q"), vec![0, 1, 2], "{}", trace(&events));
    assert_eq!(s.ledger().dropped_total(), 0);
}

#[test]
fn rmq_32_unacked_deliveries_come_back_redelivered_and_the_consumer_reconnects() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q" }],
        "producers": [persistent("p", "q", burst_rate(4, 0.0))],
        "consumers": [queue_consumer("c", "q", 2, 10_000.0)],
        "script": [at(1_000.0, crash_node()), at(2_000.0, restart_node())]
    }));
    let events = run_ms(&mut s, 1_999);
    assert_eq!(crashes(&events), vec![(2, 0)], "its connection dropped");
    assert_eq!(queue_contents(&s, "q"), vec![0, 1, 2, 3]);
    let events = run_ms(&mut s, 2_100);
    assert_eq!(
        received_by(&events, &s, "c"),
        vec![(0, true), (1, true)],
        "{}",
        trace(&events)
    );
    let restarted = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::ConsumerRestarted { .. }));
    assert_eq!(restarted.count(), 1);
}

#[test]
fn rmq_32_publishes_reaching_a_stopped_node_are_lost_unconfirmed() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q" }],
        "producers": [queue_producer("p", "q", constant_rate(10.0)).with(json!({ "confirms": true }))],
        "consumers": [queue_consumer("c", "q", 1, 1.0)],
        "script": [at(1_000.0, crash_node()), at(2_000.0, restart_node())]
    }));
    let events = run_ms(&mut s, 3_000);
    // One every 100 ms from 100 ms, arriving 1 ms later: m9 (at 1001 ms) to m18 find it stopped.
    let lost = dropped_for(&events, DropReason::BrokerDown);
    assert_eq!(lost, (9..19).collect::<Vec<_>>(), "{}", trace(&events));
    let got: Vec<u64> = (0..9).chain(19..29).collect();
    assert_eq!(ids_received_by(&events, &s, "c"), got);
    assert_eq!(
        confirms(&s, "p"),
        (19, 0),
        "no confirm, no nack for the lost ones"
    );
}

#[test]
fn rmq_32_commands_wait_for_the_node() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q" }],
        "consumers": [queue_consumer("c", "q", 1, 1.0)]
    }));
    assert!(refused(&mut s, restart_node()).contains("running"));
    apply(&mut s, crash_node());
    assert!(refused(&mut s, crash_node()).contains("stopped"));
    assert!(refused(&mut s, cmd::restart("c")).contains("stopped"));
    let declare = json!({ "add_queue": { "queue": { "name": "q2" } } });
    assert!(refused(&mut s, declare.clone()).contains("stopped"));
    apply(&mut s, restart_node());
    apply(&mut s, declare);
}

// ------------------------------------------------------------------ RMQ-33

#[test]
fn rmq_33_an_exclusive_queue_dies_with_its_consumers_connection() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "reply", "durable": false, "exclusive": true }],
        "producers": [queue_producer("p", "reply", burst_rate(3, 0.0))],
        "consumers": [queue_consumer("c", "reply", 1, 10_000.0)],
        "script": [at(100.0, cmd::crash("c"))]
    }));
    let events = run_ms(&mut s, 200);
    // m0 was unacked: back in the queue, then gone with it.
    assert_eq!(
        dropped_for(&events, DropReason::QueueDeleted),
        vec![0, 1, 2],
        "{}",
        trace(&events)
    );
    assert!(refused(&mut s, cmd::restart("c")).contains("NOT_FOUND"));
}

#[test]
fn rmq_33_an_exclusive_queue_refuses_a_second_connection() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "reply", "durable": false, "exclusive": true }],
        "consumers": [queue_consumer("c", "reply", 1, 1.0)]
    }));
    let second = cmd::add_consumer(queue_consumer("d", "reply", 1, 1.0));
    assert!(refused(&mut s, second).contains("RESOURCE_LOCKED"));
}

#[test]
fn rmq_33_an_auto_delete_queue_goes_when_its_last_consumer_leaves() {
    let mut s = sim_1ms(json!({
        "queues": [{ "name": "q", "auto_delete": true }, { "name": "never", "auto_delete": true }],
        "producers": [queue_producer("p", "q", burst_rate(3, 0.0))],
        "consumers": [queue_consumer("a", "q", 1, 10_000.0), queue_consumer("b", "q", 1, 10_000.0)],
        "script": [at(100.0, cmd::remove_consumer("a")), at(200.0, cmd::remove_consumer("b"))]
    }));
    let events = run_ms(&mut s, 150);
    assert!(dropped_for(&events, DropReason::QueueDeleted).is_empty());
    let events = run_ms(&mut s, 1_000);
    assert_eq!(
        dropped_for(&events, DropReason::QueueDeleted),
        vec![0, 1, 2],
        "{}",
        trace(&events)
    );
    // A queue that never had a consumer stays.
    assert_eq!(queue_contents(&s, "never"), Vec::<u64>::new());
}
