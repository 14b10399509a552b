//! ActiveMQ Classic / JMS rules (AMQ-1..AMQ-9 in `reference/semantics.md` §6 and §9, and the
//! proposed AMQ-10 message groups and AMQ-11 exclusive consumer of the issue 11 design notes).
//! Every scenario uses `latency_ms: 1`: a send at t reaches the broker at t+1 and a dispatch
//! reaches the consumer one millisecond after it leaves the broker.

use crate::helpers::{
    apply, at, burst_rate, cmd, constant_rate, count_kind, dropped, manual_rate, run_ms, sim_1ms,
    trace, With,
};
use broker_sim::event::{JmsAckKind, JmsEvent};
use broker_sim::snapshot::{JmsQueueView, JmsSubscriptionView};
use broker_sim::{DeadLetterReason, DropReason, Event, EventKind, Simulation};
use serde_json::{json, Value};

// ------------------------------------------------------------------ builders

/// A producer sending to a JMS queue.
fn queue_sender(name: &str, queue: &str, rate: Value) -> Value {
    json!({ "name": name, "targets": [{ "jms_queue": queue }], "rate": rate })
}

/// A producer publishing on a JMS topic.
fn topic_publisher(name: &str, topic: &str, rate: Value) -> Value {
    json!({ "name": name, "targets": [{ "jms_topic": topic }], "rate": rate })
}

/// A JMS queue consumer with a fixed processing time and session settings `jms`.
fn queue_receiver(name: &str, queue: &str, ms: f64, jms: Value) -> Value {
    json!({
        "name": name, "source": { "jms_queue": queue },
        "processing": { "kind": "fixed", "ms": ms }, "jms": jms
    })
}

/// A topic subscriber, durable when `durable` names a client id and subscription.
fn subscriber(name: &str, topic: &str, durable: Option<(&str, &str)>, ms: f64) -> Value {
    let mut source = json!({ "topic": topic });
    if let Some((client_id, sub)) = durable {
        source["durable"] = json!({ "client_id": client_id, "name": sub });
    }
    json!({
        "name": name, "source": { "jms_topic": source },
        "processing": { "kind": "fixed", "ms": ms }
    })
}

/// Fields for [`With::with`]: every message fails (the listener throws).
fn always_fails() -> Value {
    json!({ "failure": { "probability": 1 } })
}

fn poison(producer: &str) -> Value {
    json!({ "poison": { "producer": producer } })
}

// ------------------------------------------------------------------ readers

fn ms(e: &Event) -> u64 {
    assert_eq!(e.time.micros() % 1_000, 0, "not on a millisecond: {e}");
    e.time.micros() / 1_000
}

fn jms(events: &[Event]) -> impl Iterator<Item = (u64, &JmsEvent)> {
    events.iter().filter_map(|e| match &e.kind {
        EventKind::Jms(j) => Some((ms(e), j)),
        _ => None,
    })
}

fn consumer_name(sim: &Simulation, id: broker_sim::ConsumerId) -> String {
    sim.snapshot().consumers[id.index()].name.clone()
}

/// Every dispatch as (ms, message, consumer, JMSXDeliveryCount).
fn dispatches(events: &[Event], sim: &Simulation) -> Vec<(u64, u64, String, u32)> {
    jms(events)
        .filter_map(|(t, e)| match e {
            JmsEvent::JmsDispatch {
                msg,
                consumer,
                delivery_count,
                ..
            } => Some((t, msg.0, consumer_name(sim, *consumer), *delivery_count)),
            _ => None,
        })
        .collect()
}

/// Messages dispatched to `consumer`, in order, with their delivery counts.
fn dispatched_to(events: &[Event], sim: &Simulation, consumer: &str) -> Vec<(u64, u32)> {
    dispatches(events, sim)
        .into_iter()
        .filter(|d| d.2 == consumer)
        .map(|d| (d.1, d.3))
        .collect()
}

/// When `consumer` finished each message, and whether it failed: (ms, message, failed).
fn processed(events: &[Event], sim: &Simulation, consumer: &str) -> Vec<(u64, u64, bool)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Processed {
                msg,
                consumer: c,
                failed,
            } if consumer_name(sim, *c) == consumer => Some((ms(e), msg.0, *failed)),
            _ => None,
        })
        .collect()
}

/// Message ids `consumer` processed, in order.
fn processed_ids(events: &[Event], sim: &Simulation, consumer: &str) -> Vec<u64> {
    processed(events, sim, consumer)
        .into_iter()
        .map(|p| p.1)
        .collect()
}

/// Acks at the broker as (ms, kind, messages).
fn acks(events: &[Event]) -> Vec<(u64, JmsAckKind, Vec<u64>)> {
    jms(events)
        .filter_map(|(t, e)| match e {
            JmsEvent::JmsAck { ack, msgs, .. } => {
                Some((t, *ack, msgs.iter().map(|m| m.0).collect()))
            }
            _ => None,
        })
        .collect()
}

/// Dead letters as (ms, message, dead-letter queue name, reason).
fn dead_letters(events: &[Event], sim: &Simulation) -> Vec<(u64, u64, String, DeadLetterReason)> {
    let snap = sim.snapshot();
    jms(events)
        .filter_map(|(t, e)| match e {
            JmsEvent::JmsDeadLetter {
                msg, to, reason, ..
            } => Some((t, msg.0, snap.jms.queues[to.index()].name.clone(), *reason)),
            _ => None,
        })
        .collect()
}

fn jms_queue(sim: &Simulation, name: &str) -> JmsQueueView {
    sim.snapshot()
        .jms
        .queues
        .into_iter()
        .find(|q| q.name == name)
        .unwrap_or_else(|| panic!("no JMS queue {name}"))
}

fn durable_sub(sim: &Simulation, client_id: &str) -> JmsSubscriptionView {
    sim.snapshot()
        .jms
        .subscriptions
        .into_iter()
        .find(|s| s.durable.as_ref().is_some_and(|d| d.client_id == client_id))
        .unwrap_or_else(|| panic!("no durable subscription of {client_id}"))
}

fn is_jms(pred: impl Fn(&JmsEvent) -> bool) -> impl Fn(&EventKind) -> bool {
    move |k| matches!(k, EventKind::Jms(e) if pred(e))
}

// ------------------------------------------------------------------ AMQ-1

#[test]
fn amq_01_queue_gives_each_message_to_one_consumer_in_turn() {
    let mut s = sim_1ms(json!({
        "producers": [queue_sender("p", "q", burst_rate(10, 10.0))],
        "consumers": [
            queue_receiver("c0", "q", 10.0, json!({ "prefetch": 1 })),
            queue_receiver("c1", "q", 10.0, json!({ "prefetch": 1 }))
        ]
    }));
    let events = run_ms(&mut s, 1_000);
    let d = dispatches(&events, &s);
    assert_eq!(
        d.len(),
        10,
        "each message dispatched once\n{}",
        trace(&events)
    );
    assert_eq!(&d[..2], &[(11, 0, "c0".into(), 1), (11, 1, "c1".into(), 1)]);
    assert_eq!(processed_ids(&events, &s, "c0"), vec![0, 2, 4, 6, 8]);
    assert_eq!(processed_ids(&events, &s, "c1"), vec![1, 3, 5, 7, 9]);
    assert_eq!(s.ledger().acked, 10);
}

#[test]
fn amq_01_queue_keeps_messages_until_a_consumer_comes() {
    let mut s = sim_1ms(json!({
        "producers": [queue_sender("p", "q", burst_rate(3, 10.0))],
        "script": [at(1_000.0, cmd::add_consumer(queue_receiver("late", "q", 5.0, json!({}))))]
    }));
    let mut events = run_ms(&mut s, 999);
    let q = jms_queue(&s, "q");
    assert_eq!((q.pending, q.stored, q.enqueued, q.dequeued), (3, 3, 3, 0));
    events.extend(run_ms(&mut s, 2_000));
    let d = dispatches(&events, &s);
    assert_eq!(
        d.iter().map(|x| (x.0, x.1)).collect::<Vec<_>>(),
        vec![(1_000, 0), (1_000, 1), (1_000, 2)]
    );
    let q = jms_queue(&s, "q");
    assert_eq!((q.pending, q.enqueued, q.dequeued), (0, 3, 3));
}

#[test]
fn amq_01_topic_without_a_subscription_keeps_nothing() {
    let mut s = sim_1ms(json!({
        "producers": [topic_publisher("p", "prices", burst_rate(3, 10.0))]
    }));
    let events = run_ms(&mut s, 100);
    let published: Vec<u32> = jms(&events)
        .filter_map(|(_, e)| match e {
            JmsEvent::JmsTopicPublish { subscriptions, .. } => Some(*subscriptions),
            _ => None,
        })
        .collect();
    assert_eq!(published, vec![0, 0, 0]);
    assert_eq!(dropped(&s, DropReason::NoSubscriber), 3);
}

#[test]
fn amq_01_unacked_messages_of_a_closed_consumer_go_to_another() {
    let mut s = sim_1ms(json!({
        "producers": [queue_sender("p", "q", burst_rate(3, 10.0))],
        "consumers": [
            queue_receiver("c2", "q", 10.0, json!({ "ack_mode": "client", "ack_every": 100, "prefetch": 10 })),
            queue_receiver("c3", "q", 10.0, json!({})).with(json!({ "stopped": true }))
        ],
        "script": [at(500.0, cmd::remove_consumer("c2")), at(500.0, cmd::restart("c3"))]
    }));
    let events = run_ms(&mut s, 1_000);
    assert_eq!(processed_ids(&events, &s, "c2"), vec![0, 1, 2]);
    assert!(
        acks(&events).iter().all(|a| a.0 > 500),
        "c2 never reached its acknowledge()"
    );
    // c2 saw all three, so its clean close flags all three redelivered (AMQ-5).
    assert_eq!(
        dispatched_to(&events, &s, "c3"),
        vec![(0, 2), (1, 2), (2, 2)]
    );
    let restarted = dispatches(&events, &s);
    assert!(restarted[3..].iter().all(|d| d.0 == 500));
    assert_eq!(processed_ids(&events, &s, "c3"), vec![0, 1, 2]);
}

// ------------------------------------------------------------------ AMQ-2

/// M1..M7 every 10 ms from 10 (m0..m6 reach the broker at 11..71); the subscribers are away
/// from 35 to 55, while M4 and M5 arrive.
fn m1_to_m7(extra: Value) -> Simulation {
    sim_1ms(
        json!({
            "producers": [topic_publisher("p", "t", constant_rate(100.0)).with(json!({ "limit": 7 }))],
            "consumers": [
                subscriber("durable", "t", Some(("app", "s")), 1.0),
                subscriber("plain", "t", None, 1.0)
            ],
            "script": [
                at(35.0, cmd::crash("durable")), at(35.0, cmd::crash("plain")),
                at(55.0, cmd::restart("durable")), at(55.0, cmd::restart("plain"))
            ]
        })
        .with(extra),
    )
}

#[test]
fn amq_02_durable_gets_m1_to_m7_non_durable_misses_m4_m5() {
    let mut s = m1_to_m7(json!({}));
    let events = run_ms(&mut s, 1_000);
    assert_eq!(
        processed_ids(&events, &s, "durable"),
        vec![0, 1, 2, 3, 4, 5, 6]
    );
    assert_eq!(processed_ids(&events, &s, "plain"), vec![0, 1, 2, 5, 6]);
    let kept: Vec<(u64, u32)> = jms(&events)
        .filter_map(|(t, e)| match e {
            JmsEvent::JmsTopicPublish { subscriptions, .. } => Some((t, *subscriptions)),
            _ => None,
        })
        .collect();
    assert_eq!(
        kept,
        vec![
            (11, 2),
            (21, 2),
            (31, 2),
            (41, 1),
            (51, 1),
            (61, 2),
            (71, 2)
        ],
        "M4 and M5 only for the durable subscription"
    );
    let stored: Vec<(u64, u64)> = jms(&events)
        .filter_map(|(t, e)| match e {
            JmsEvent::JmsStored { msg, .. } => Some((t, msg.0)),
            _ => None,
        })
        .collect();
    assert_eq!(stored, vec![(41, 3), (51, 4)]);
    let durable = dispatched_to(&events, &s, "durable");
    assert_eq!(&durable[3..5], &[(3, 1), (4, 1)]);
    let at_55: Vec<u64> = dispatches(&events, &s)
        .into_iter()
        .filter(|d| d.0 == 55)
        .map(|d| d.1)
        .collect();
    assert_eq!(at_55, vec![3, 4], "the stored ones go out when S is back");
    assert!(jms(&events).any(|(t, e)| t == 55
        && matches!(
            e,
            JmsEvent::JmsSubscription {
                state: broker_sim::event::JmsSubscriptionState::Online { stored: 2 },
                ..
            }
        )));
    assert_eq!(dropped(&s, DropReason::NoSubscriber), 0);
}

#[test]
fn amq_02_offline_durable_subscription_keeps_only_persistent_messages() {
    // Classic stores a non-persistent message for no offline subscriber: it is not in the
    // topic's store and an inactive subscription takes nothing in memory
    // (apache/activemq `Topic.doMessageSend`, `DurableTopicSubscription.add`).
    let mut s = m1_to_m7(json!({
        "producers": [topic_publisher("p", "t", constant_rate(100.0))
            .with(json!({ "limit": 7, "message": { "persistent": false } }))]
    }));
    let events = run_ms(&mut s, 1_000);
    assert_eq!(processed_ids(&events, &s, "durable"), vec![0, 1, 2, 5, 6]);
    assert_eq!(processed_ids(&events, &s, "plain"), vec![0, 1, 2, 5, 6]);
    assert_eq!(dropped(&s, DropReason::NoSubscriber), 2, "M4 and M5");
}

#[test]
fn amq_02_declared_durable_subscription_stores_before_its_subscriber_first_connects() {
    let mut s = sim_1ms(json!({
        "jms": { "durable_subscriptions": [{ "topic": "t", "client_id": "app", "name": "s" }] },
        "producers": [topic_publisher("p", "t", burst_rate(3, 10.0))],
        "consumers": [subscriber("late", "t", Some(("app", "s")), 1.0).with(json!({ "stopped": true }))],
        "script": [at(500.0, cmd::restart("late"))]
    }));
    let mut events = run_ms(&mut s, 400);
    let sub = durable_sub(&s, "app");
    assert_eq!((sub.stored, sub.consumer, sub.closed), (3, None, false));
    events.extend(run_ms(&mut s, 1_000));
    assert_eq!(processed_ids(&events, &s, "late"), vec![0, 1, 2]);
}

#[test]
fn amq_02_unsubscribe_deletes_what_the_subscription_stored() {
    let mut s = sim_1ms(json!({
        "producers": [topic_publisher("p", "t", manual_rate())],
        "consumers": [subscriber("s", "t", Some(("app", "s")), 1.0)],
        "script": [at(10.0, cmd::crash("s")), at(20.0, cmd::burst("p", 2))]
    }));
    run_ms(&mut s, 100);
    assert_eq!(durable_sub(&s, "app").stored, 2);
    let unsubscribe = json!({ "unsubscribe_durable": { "client_id": "app", "name": "s" } });
    apply(&mut s, unsubscribe.clone());
    assert_eq!(dropped(&s, DropReason::QueueDeleted), 2);
    assert!(s.snapshot().jms.subscriptions[0].closed);
    // While the subscriber is connected the broker refuses.
    let mut s = sim_1ms(json!({ "consumers": [subscriber("s", "t", Some(("app", "s")), 1.0)] }));
    run_ms(&mut s, 10);
    let cmd: broker_sim::Command = serde_json::from_value(unsubscribe).unwrap();
    assert!(s.apply(cmd).is_err());
}

// ------------------------------------------------------------------ AMQ-3

#[test]
fn amq_03_restart_keeps_persistent_and_loses_non_persistent() {
    let non_persistent = json!({ "message": { "persistent": false } });
    let mut s = sim_1ms(json!({
        "producers": [
            queue_sender("qp", "q", burst_rate(3, 10.0)),
            queue_sender("qn", "q", burst_rate(3, 10.0)).with(non_persistent.clone()),
            topic_publisher("tp", "t", manual_rate()),
            topic_publisher("tn", "t", manual_rate()).with(non_persistent)
        ],
        "consumers": [
            subscriber("durable", "t", Some(("app", "d")), 10_000.0)
                .with(json!({ "jms": { "prefetch": 1 } })),
            subscriber("plain", "t", None, 1.0)
        ],
        "script": [
            at(20.0, cmd::burst("tp", 2)), at(30.0, cmd::burst("tn", 2)),
            at(100.0, json!({ "restart_jms_broker": { "downtime_ms": 1_000 } })),
            at(500.0, cmd::burst("qp", 1)),
            at(1_050.0, cmd::burst("tp", 1)),
            at(1_200.0, cmd::burst("tp", 1))
        ]
    }));
    let mut events = run_ms(&mut s, 99);
    assert_eq!(jms_queue(&s, "q").stored, 6);
    let sub = durable_sub(&s, "app");
    assert_eq!((sub.stored, sub.in_flight), (3, 1));
    events.extend(run_ms(&mut s, 1_099));
    let q = jms_queue(&s, "q");
    assert_eq!(
        (q.stored, q.enqueued, q.dequeued),
        (3, 0, 0),
        "statistics start again"
    );
    assert_eq!(durable_sub(&s, "app").stored, 2, "m6 and m7 survive");
    assert_eq!(
        dropped(&s, DropReason::LostInBrokerRestart),
        3 + 2,
        "three in the queue, two stored for the durable subscription"
    );
    assert_eq!(
        dropped(&s, DropReason::BrokerDown),
        2,
        "the sends at 500 and 1050"
    );
    assert!(jms(&events).any(|(t, e)| t == 100
        && matches!(
            e,
            JmsEvent::JmsBrokerRestart {
                lost: 5,
                downtime_ms: 1_000
            }
        )));
    events.extend(run_ms(&mut s, 2_000));
    // The clients reconnect when the broker is back; the redelivery flag was not persisted.
    let back: Vec<(u64, u64, String, u32)> = dispatches(&events, &s)
        .into_iter()
        .filter(|d| d.0 >= 1_100)
        .collect();
    assert_eq!(back[0], (1_100, 6, "durable".into(), 1));
    assert_eq!(processed_ids(&events, &s, "plain"), vec![6, 7, 8, 9, 12]);
}

// ------------------------------------------------------------------ AMQ-4

#[test]
fn amq_04_auto_listener_exception_redelivers_after_the_delay_and_holds_back_the_rest() {
    let mut s = sim_1ms(json!({
        "producers": [queue_sender("p", "q", manual_rate())],
        "consumers": [queue_receiver("c", "q", 10.0, json!({ "redelivery": { "maximum_redeliveries": 1 } }))],
        "script": [at(10.0, poison("p")), at(10.0, cmd::burst("p", 2))]
    }));
    let events = run_ms(&mut s, 3_000);
    assert_eq!(
        processed(&events, &s, "c"),
        vec![
            (22, 0, true),
            (1_032, 0, true),
            (1_042, 1, false),
            (1_052, 2, false)
        ],
        "m1 was prefetched at 12 but waits out m0's redelivery\n{}",
        trace(&events)
    );
    let rollbacks: Vec<(u64, Vec<u64>, u64)> = jms(&events)
        .filter_map(|(t, e)| match e {
            JmsEvent::JmsRollback { msgs, delay_ms, .. } => {
                Some((t, msgs.iter().map(|m| m.0).collect(), *delay_ms))
            }
            _ => None,
        })
        .collect();
    assert_eq!(rollbacks, vec![(22, vec![0], 1_000)]);
    assert!(jms(&events).any(|(t, e)| t == 1_022
        && matches!(e, JmsEvent::JmsRedeliver { msg, delivery_count: 2, .. } if msg.0 == 0)));
    assert_eq!(
        dead_letters(&events, &s),
        vec![(1_033, 0, "ActiveMQ.DLQ".into(), DeadLetterReason::PoisonAck)]
    );
}

#[test]
fn amq_04_auto_receive_acks_before_processing_so_a_crash_loses_the_message() {
    let run = |api: &str| {
        let mut s = sim_1ms(json!({
            "producers": [queue_sender("p", "q", burst_rate(1, 10.0))],
            "consumers": [
                queue_receiver("c0", "q", 10.0, json!({ "api": api, "prefetch": 1 })),
                queue_receiver("c1", "q", 10.0, json!({})).with(json!({ "stopped": true }))
            ],
            "script": [at(15.0, cmd::crash("c0")), at(100.0, cmd::restart("c1"))]
        }));
        let events = run_ms(&mut s, 1_000);
        (s, events)
    };
    let (s, events) = run("receive");
    assert_eq!(acks(&events), vec![(13, JmsAckKind::Standard, vec![0])]);
    assert_eq!(dropped(&s, DropReason::LostInConsumerCrash), 1);
    assert_eq!(dispatched_to(&events, &s, "c1"), vec![]);
    assert_eq!(processed_ids(&events, &s, "c0"), Vec::<u64>::new());
    // A listener acks when onMessage returns, so the crash leaves it to the other consumer.
    let (s, events) = run("listener");
    assert_eq!(dispatched_to(&events, &s, "c1"), vec![(0, 2)]);
    assert_eq!(s.ledger().acked, 1);
}

#[test]
fn amq_04_client_acknowledge_acks_everything_consumed_so_far() {
    let mut s = sim_1ms(json!({
        "producers": [queue_sender("p", "q", manual_rate())],
        "consumers": [queue_receiver("c", "q", 10.0, json!({ "ack_mode": "client", "ack_every": 3 }))],
        "script": [at(10.0, cmd::burst("p", 1)), at(10.0, poison("p")), at(10.0, cmd::burst("p", 1))]
    }));
    let events = run_ms(&mut s, 1_000);
    // m1's listener throws; a CLIENT session just delivers the next message (AMQ-4).
    assert_eq!(
        processed(&events, &s, "c"),
        vec![(22, 0, false), (32, 1, true), (42, 2, false)]
    );
    assert_eq!(
        acks(&events),
        vec![(43, JmsAckKind::Standard, vec![0, 1, 2])]
    );
    assert_eq!(
        count_kind(
            &events,
            is_jms(|e| matches!(e, JmsEvent::JmsRollback { .. }))
        ),
        0
    );
    assert_eq!(s.ledger().acked, 3);
}

#[test]
fn amq_04_client_recover_redelivers_everything_not_acknowledged() {
    let mut s = sim_1ms(json!({
        "producers": [queue_sender("p", "q", manual_rate())],
        "consumers": [queue_receiver("c", "q", 10.0,
            json!({ "ack_mode": "client", "ack_every": 3, "on_failure": "recover" }))],
        "script": [at(10.0, cmd::burst("p", 1)), at(10.0, poison("p"))]
    }));
    let events = run_ms(&mut s, 2_000);
    let first: Vec<(u64, u64, bool)> = processed(&events, &s, "c").into_iter().take(4).collect();
    assert_eq!(
        first,
        vec![
            (22, 0, false),
            (32, 1, true),
            (1_042, 0, false),
            (1_052, 1, true)
        ],
        "recover() hands back m0, which succeeded, with m1\n{}",
        trace(&events)
    );
}

#[test]
fn amq_04_individual_acknowledge_acks_one_message() {
    let mut s = sim_1ms(json!({
        "producers": [queue_sender("p", "q", manual_rate())],
        "consumers": [
            queue_receiver("c0", "q", 10.0, json!({ "ack_mode": "individual", "api": "receive", "prefetch": 10 })),
            queue_receiver("c1", "q", 10.0, json!({})).with(json!({ "stopped": true }))
        ],
        "script": [
            at(10.0, cmd::burst("p", 1)), at(10.0, poison("p")), at(10.0, cmd::burst("p", 1)),
            at(100.0, cmd::crash("c0")), at(200.0, cmd::restart("c1"))
        ]
    }));
    let events = run_ms(&mut s, 1_000);
    assert_eq!(
        acks(&events),
        vec![
            (23, JmsAckKind::Individual, vec![0]),
            (43, JmsAckKind::Individual, vec![2])
        ],
        "m1 failed, so the application never acknowledged it"
    );
    assert_eq!(
        dispatched_to(&events, &s, "c1"),
        vec![(1, 2)],
        "m1 alone comes back"
    );
}

#[test]
fn amq_04_dups_ok_batches_acks_on_topics_only() {
    // Crash while m7 is processed: on the topic the batch acked m0..m4 only, so m5 and m6
    // come again; on the queue DUPS_OK acks each message like AUTO (`isAutoAcknowledgeEach`).
    let topic = sim_1ms(json!({
        "producers": [topic_publisher("p", "t", burst_rate(10, 10.0))],
        "consumers": [subscriber("c", "t", Some(("app", "s")), 10.0)
            .with(json!({ "jms": { "ack_mode": "dups_ok", "prefetch": 10 } }))],
        "script": [at(85.0, cmd::crash("c")), at(200.0, cmd::restart("c"))]
    }));
    let queue = sim_1ms(json!({
        "producers": [queue_sender("p", "q", burst_rate(10, 10.0))],
        "consumers": [queue_receiver("c", "q", 10.0, json!({ "ack_mode": "dups_ok", "prefetch": 10 }))],
        "script": [at(85.0, cmd::crash("c")), at(200.0, cmd::restart("c"))]
    }));
    let mut topic = topic;
    let events = run_ms(&mut topic, 1_000);
    assert_eq!(
        acks(&events)[0],
        (63, JmsAckKind::Standard, vec![0, 1, 2, 3, 4])
    );
    assert_eq!(
        processed_ids(&events, &topic, "c"),
        vec![0, 1, 2, 3, 4, 5, 6, 5, 6, 7, 8, 9],
        "m5 and m6 twice"
    );
    let mut queue = queue;
    let events = run_ms(&mut queue, 1_000);
    assert_eq!(acks(&events)[0], (23, JmsAckKind::Standard, vec![0]));
    assert_eq!(
        processed_ids(&events, &queue, "c"),
        vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    );
}

#[test]
fn amq_04_transacted_rollback_redelivers_the_whole_transaction() {
    let mut s = sim_1ms(json!({
        "producers": [queue_sender("p", "q", manual_rate())],
        "consumers": [queue_receiver("c", "q", 10.0,
            json!({ "ack_mode": "transacted", "commit_every": 3, "on_failure": "rollback" }))],
        "script": [at(10.0, cmd::burst("p", 4)), at(10.0, poison("p")), at(10.0, cmd::burst("p", 1))]
    }));
    let events = run_ms(&mut s, 10_000);
    assert_eq!(acks(&events)[0], (43, JmsAckKind::Commit, vec![0, 1, 2]));
    let rollback = jms(&events).find_map(|(t, e)| match e {
        JmsEvent::JmsRollback { msgs, delay_ms, .. } => {
            Some((t, msgs.iter().map(|m| m.0).collect::<Vec<_>>(), *delay_ms))
        }
        _ => None,
    });
    assert_eq!(rollback, Some((62, vec![3, 4], 1_000)));
    let m3 = processed(&events, &s, "c")
        .into_iter()
        .filter(|p| p.1 == 3)
        .count();
    assert_eq!(
        m3, 7,
        "m3 succeeds each time but goes back with the transaction"
    );
    // The poison ack covers the whole transaction: m3 is dead-lettered with m4 (AMQ-6).
    assert_eq!(
        dead_letters(&events, &s)
            .into_iter()
            .map(|d| (d.0, d.1))
            .collect::<Vec<_>>(),
        vec![(6_183, 3), (6_183, 4)]
    );
    assert_eq!(processed_ids(&events, &s, "c").last(), Some(&5));
}

#[test]
fn amq_04_transacted_listener_exception_does_not_redeliver() {
    // A listener that throws in a transacted session: "Transacted or Client ack: Deliver the
    // next message" (`ActiveMQMessageConsumer.dispatch`); the commit takes the failed one too.
    let mut s = sim_1ms(json!({
        "producers": [queue_sender("p", "q", manual_rate())],
        "consumers": [queue_receiver("c", "q", 10.0, json!({ "ack_mode": "transacted", "commit_every": 2 }))],
        "script": [at(10.0, cmd::burst("p", 1)), at(10.0, poison("p")), at(10.0, cmd::burst("p", 2))]
    }));
    let events = run_ms(&mut s, 1_000);
    assert_eq!(
        acks(&events),
        vec![
            (33, JmsAckKind::Commit, vec![0, 1]),
            (53, JmsAckKind::Commit, vec![2, 3])
        ]
    );
    assert_eq!(
        count_kind(
            &events,
            is_jms(|e| matches!(e, JmsEvent::JmsRollback { .. }))
        ),
        0
    );
}

// ------------------------------------------------------------------ AMQ-5

#[test]
fn amq_05_redelivery_stays_with_the_same_consumer() {
    let mut s = sim_1ms(json!({
        "producers": [queue_sender("p", "q", manual_rate())],
        "consumers": [
            queue_receiver("c0", "q", 10.0, json!({ "prefetch": 1, "redelivery": { "maximum_redeliveries": 1 } })),
            queue_receiver("c1", "q", 10.0, json!({ "prefetch": 1 }))
        ],
        "script": [at(10.0, poison("p")), at(10.0, cmd::burst("p", 4))]
    }));
    let events = run_ms(&mut s, 3_000);
    assert_eq!(dispatched_to(&events, &s, "c0"), vec![(0, 1)]);
    assert!(jms(&events).any(|(t, e)| t == 1_022
        && matches!(e, JmsEvent::JmsRedeliver { msg, delivery_count: 2, .. } if msg.0 == 0)));
    assert_eq!(processed_ids(&events, &s, "c0"), vec![0, 0]);
    assert_eq!(processed_ids(&events, &s, "c1"), vec![1, 2, 3, 4]);
}

/// c0 takes all ten at once, is closed while it processes m0, and c1 comes at 100.
fn closed_while_processing(close: Value) -> (Simulation, Vec<Event>) {
    let mut s = sim_1ms(json!({
        "producers": [queue_sender("p", "q", burst_rate(10, 10.0))],
        "consumers": [
            queue_receiver("c0", "q", 10.0, json!({ "prefetch": 10 })),
            queue_receiver("c1", "q", 10.0, json!({})).with(json!({ "stopped": true }))
        ],
        "script": [at(15.0, close), at(100.0, cmd::restart("c1"))]
    }));
    let events = run_ms(&mut s, 1_000);
    (s, events)
}

#[test]
fn amq_05_clean_close_flags_only_messages_the_application_saw() {
    let (s, events) = closed_while_processing(cmd::remove_consumer("c0"));
    let mut expected = vec![(0, 2)];
    expected.extend((1..10).map(|m| (m, 1)));
    assert_eq!(dispatched_to(&events, &s, "c1"), expected);
}

#[test]
fn amq_05_a_dropped_connection_flags_every_unacked_message() {
    // No RemoveInfo with the last delivered message reaches the broker
    // (`RemoveInfo.LAST_DELIVERED_UNKNOWN`), so it flags all of them.
    let (s, events) = closed_while_processing(cmd::crash("c0"));
    let expected: Vec<(u64, u32)> = (0..10).map(|m| (m, 2)).collect();
    assert_eq!(dispatched_to(&events, &s, "c1"), expected);
}

#[test]
fn amq_05_client_rollbacks_do_not_count_at_the_broker() {
    // m0 failed three times on c0; the broker's counter rises only when c0's connection drops.
    let mut s = sim_1ms(json!({
        "producers": [queue_sender("p", "q", manual_rate())],
        "consumers": [
            queue_receiver("c0", "q", 10.0, json!({})),
            queue_receiver("c1", "q", 10.0, json!({})).with(json!({ "stopped": true }))
        ],
        "script": [at(10.0, poison("p")), at(2_500.0, cmd::crash("c0")), at(2_600.0, cmd::restart("c1"))]
    }));
    let events = run_ms(&mut s, 3_000);
    assert_eq!(
        processed(&events, &s, "c0"),
        vec![(22, 0, true), (1_032, 0, true), (2_042, 0, true)]
    );
    assert_eq!(dispatched_to(&events, &s, "c1"), vec![(0, 2)]);
}

// ------------------------------------------------------------------ AMQ-6

/// One message that always fails, with redelivery policy `policy`.
fn always_failing(policy: Value) -> Simulation {
    sim_1ms(json!({
        "producers": [queue_sender("p", "q", burst_rate(1, 10.0))],
        "consumers": [queue_receiver("c", "q", 10.0, json!({ "redelivery": policy })).with(always_fails())]
    }))
}

fn redelivery_starts(events: &[Event]) -> Vec<(u64, u32)> {
    jms(events)
        .filter_map(|(t, e)| match e {
            JmsEvent::JmsRedeliver { delivery_count, .. } => Some((t, *delivery_count)),
            _ => None,
        })
        .collect()
}

#[test]
fn amq_06_default_policy_seven_deliveries_then_poison_ack() {
    let mut s = always_failing(json!({}));
    let events = run_ms(&mut s, 20_000);
    assert_eq!(
        redelivery_starts(&events),
        vec![
            (1_022, 2),
            (2_032, 3),
            (3_042, 4),
            (4_052, 5),
            (5_062, 6),
            (6_072, 7)
        ]
    );
    assert_eq!(
        processed(&events, &s, "c").len(),
        7,
        "maximumRedeliveries 6 is 7 deliveries"
    );
    assert_eq!(acks(&events), vec![(6_083, JmsAckKind::Poison, vec![0])]);
    assert_eq!(
        dead_letters(&events, &s),
        vec![(6_083, 0, "ActiveMQ.DLQ".into(), DeadLetterReason::PoisonAck)]
    );
    assert_eq!(jms_queue(&s, "ActiveMQ.DLQ").stored, 1);
}

#[test]
fn amq_06_exponential_backoff_multiplies_the_delay_by_five() {
    let mut s = always_failing(json!({ "use_exponential_backoff": true }));
    let events = run_ms(&mut s, 4_000_000);
    let starts: Vec<u64> = redelivery_starts(&events)
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(
        starts,
        vec![1_022, 6_032, 31_042, 156_052, 781_062, 3_906_072]
    );
    assert_eq!(dead_letters(&events, &s)[0].0, 3_906_083);
}

#[test]
fn amq_06_maximum_redelivery_delay_caps_the_backoff() {
    let mut s = always_failing(json!({
        "use_exponential_backoff": true, "maximum_redelivery_delay_ms": 10_000
    }));
    let events = run_ms(&mut s, 100_000);
    let delays: Vec<u64> = jms(&events)
        .filter_map(|(_, e)| match e {
            JmsEvent::JmsRollback { delay_ms, .. } => Some(*delay_ms),
            _ => None,
        })
        .collect();
    assert_eq!(delays, vec![1_000, 5_000, 10_000, 10_000, 10_000, 10_000]);
}

#[test]
fn amq_06_unlimited_redeliveries_never_dead_letter() {
    let mut s = always_failing(json!({ "maximum_redeliveries": -1 }));
    let events = run_ms(&mut s, 100_000);
    assert!(dead_letters(&events, &s).is_empty());
    assert_eq!(processed(&events, &s, "c").len(), 99);
}

#[test]
fn amq_06_transacted_session_poison_acks_past_the_limit_before_delivery() {
    // c0's connection drops while it holds m0, so m0 comes back with counter 1; c1's
    // transacted session allows none and poison-acks it unseen (`redeliveryExceeded`).
    let mut s = sim_1ms(json!({
        "producers": [queue_sender("p", "q", burst_rate(1, 10.0))],
        "consumers": [
            queue_receiver("c0", "q", 100.0, json!({ "prefetch": 1 })),
            queue_receiver("c1", "q", 10.0, json!({
                "ack_mode": "transacted", "redelivery": { "maximum_redeliveries": 0 }
            })).with(json!({ "stopped": true }))
        ],
        "script": [at(50.0, cmd::crash("c0")), at(100.0, cmd::restart("c1"))]
    }));
    let events = run_ms(&mut s, 1_000);
    assert_eq!(dispatched_to(&events, &s, "c1"), vec![(0, 2)]);
    assert!(processed(&events, &s, "c1").is_empty());
    assert_eq!(acks(&events), vec![(102, JmsAckKind::Poison, vec![0])]);
    assert_eq!(dead_letters(&events, &s)[0].0, 102);
}

// ------------------------------------------------------------------ AMQ-7

/// A poison message on each of queues `a` and `b`, whose consumers give up at once.
fn poison_on_a_and_b(jms_settings: Value, message: Value) -> (Simulation, Vec<Event>) {
    let give_up = json!({ "redelivery": { "maximum_redeliveries": 0 } });
    let mut s = sim_1ms(json!({
        "jms": jms_settings,
        "producers": [
            queue_sender("pa", "a", manual_rate()).with(json!({ "message": message.clone() })),
            queue_sender("pb", "b", manual_rate()).with(json!({ "message": message }))
        ],
        "consumers": [
            queue_receiver("ca", "a", 10.0, give_up.clone()),
            queue_receiver("cb", "b", 10.0, give_up)
        ],
        "script": [at(10.0, poison("pa")), at(10.0, poison("pb"))]
    }));
    let events = run_ms(&mut s, 1_000);
    (s, events)
}

#[test]
fn amq_07_shared_dead_letter_queue_collects_every_destination() {
    let (s, events) = poison_on_a_and_b(json!({}), json!({}));
    let dlq: Vec<(u64, String)> = dead_letters(&events, &s)
        .into_iter()
        .map(|d| (d.1, d.2))
        .collect();
    assert_eq!(
        dlq,
        vec![(0, "ActiveMQ.DLQ".into()), (1, "ActiveMQ.DLQ".into())]
    );
    let report = s.report(1, &events);
    let jms_report = report.jms.expect("a JMS section");
    let from: Vec<&str> = jms_report
        .dead_letters
        .iter()
        .map(|d| d.from.as_str())
        .collect();
    assert_eq!(from, vec!["a", "b"]);
    assert_eq!(
        broker_sim::MessageId(0),
        jms_report.queue_contents["ActiveMQ.DLQ"][0]
    );
}

#[test]
fn amq_07_individual_strategy_gives_each_destination_its_own_queue() {
    let (s, events) = poison_on_a_and_b(
        json!({ "dead_letter_strategy": { "kind": "individual" } }),
        json!({}),
    );
    let names: Vec<String> = dead_letters(&events, &s).into_iter().map(|d| d.2).collect();
    assert_eq!(names, vec!["ActiveMQ.DLQ.Queue.a", "ActiveMQ.DLQ.Queue.b"]);
    let (s, events) = poison_on_a_and_b(
        json!({ "dead_letter_strategy": { "kind": "individual", "queue_prefix": "DLQ." } }),
        json!({}),
    );
    let names: Vec<String> = dead_letters(&events, &s).into_iter().map(|d| d.2).collect();
    assert_eq!(names, vec!["DLQ.a", "DLQ.b"]);
}

#[test]
fn amq_07_non_persistent_dead_letters_are_discarded_unless_processed() {
    let (s, events) = poison_on_a_and_b(json!({}), json!({ "persistent": false }));
    assert!(dead_letters(&events, &s).is_empty());
    assert_eq!(dropped(&s, DropReason::NonPersistentDeadLetter), 2);
    let (s, events) = poison_on_a_and_b(
        json!({ "process_non_persistent": true }),
        json!({ "persistent": false }),
    );
    assert_eq!(dead_letters(&events, &s).len(), 2);
    assert_eq!(jms_queue(&s, "ActiveMQ.DLQ").stored, 2);
}

/// One message with a 100 ms time-to-live sent at 10 to a queue nobody reads.
fn expiring(jms_settings: Value, persistent: bool) -> (Simulation, Vec<Event>) {
    let mut s = sim_1ms(json!({
        "jms": jms_settings,
        "producers": [queue_sender("p", "q", burst_rate(1, 10.0))
            .with(json!({ "message": { "ttl_ms": 100, "persistent": persistent } }))]
    }));
    let events = run_ms(&mut s, 100_000);
    (s, events)
}

#[test]
fn amq_07_expired_persistent_message_goes_to_the_dead_letter_queue_at_the_sweep() {
    let (s, events) = expiring(json!({}), true);
    assert_eq!(
        dead_letters(&events, &s),
        vec![(30_000, 0, "ActiveMQ.DLQ".into(), DeadLetterReason::Expired)],
        "the broker finds it at its next expiry check, every 30 s"
    );
    // Dead letters never expire: the copy is still there long after.
    assert_eq!(jms_queue(&s, "ActiveMQ.DLQ").stored, 1);
    assert_eq!(jms_queue(&s, "q").expired, 1);
    let (s, events) = expiring(json!({}), false);
    assert!(dead_letters(&events, &s).is_empty());
    assert!(jms(&events).any(|(t, e)| t == 30_000 && matches!(e, JmsEvent::JmsExpired { .. })));
    assert_eq!(s.ledger().expired, 1);
    let (s, _) = expiring(json!({ "process_expired": false }), true);
    assert_eq!(s.ledger().expired, 1);
    let (s, events) = expiring(json!({ "expire_messages_period_ms": 1_000 }), true);
    assert_eq!(dead_letters(&events, &s)[0].0, 1_000);
}

#[test]
fn amq_07_expired_message_is_not_dispatched() {
    let mut s = sim_1ms(json!({
        "producers": [queue_sender("p", "q", burst_rate(1, 10.0))
            .with(json!({ "message": { "ttl_ms": 100 } }))],
        "script": [at(500.0, cmd::add_consumer(queue_receiver("c", "q", 10.0, json!({}))))]
    }));
    let events = run_ms(&mut s, 1_000);
    assert_eq!(
        dead_letters(&events, &s),
        vec![(500, 0, "ActiveMQ.DLQ".into(), DeadLetterReason::Expired)]
    );
    assert!(dispatched_to(&events, &s, "c").is_empty());
}

// ------------------------------------------------------------------ AMQ-8

#[test]
fn amq_08_large_prefetch_lets_the_first_consumer_hoard() {
    let run = |jms: Value| {
        let mut s = sim_1ms(json!({
            "producers": [queue_sender("p", "q", burst_rate(100, 10.0))],
            "consumers": [queue_receiver("c0", "q", 10.0, jms.clone())],
            "script": [at(50.0, cmd::add_consumer(queue_receiver("c1", "q", 10.0, jms)))]
        }));
        let events = run_ms(&mut s, 1_100);
        (s, events)
    };
    let (s, events) = run(json!({}));
    let at_11 = dispatches(&events, &s).iter().filter(|d| d.0 == 11).count();
    assert_eq!(
        at_11, 100,
        "the default queue prefetch of 1000 takes the whole burst"
    );
    assert!(dispatched_to(&events, &s, "c1").is_empty());
    let (s, events) = run(json!({ "prefetch": 1 }));
    assert!(dispatched_to(&events, &s, "c1").len() >= 45);
}

#[test]
fn amq_08_client_mode_widens_the_window_with_delivered_acks_at_half_the_prefetch() {
    let mut s = sim_1ms(json!({
        "producers": [queue_sender("p", "q", burst_rate(30, 10.0))],
        "consumers": [queue_receiver("c", "q", 10.0,
            json!({ "ack_mode": "client", "ack_every": 1_000, "prefetch": 10 }))]
    }));
    let events = run_ms(&mut s, 150);
    let mut counts: Vec<(u64, usize)> = Vec::new();
    for d in dispatches(&events, &s) {
        match counts.last_mut() {
            Some((t, n)) if *t == d.0 => *n += 1,
            _ => counts.push((d.0, 1)),
        }
    }
    assert_eq!(counts, vec![(11, 10), (63, 5), (113, 5)]);
    let delivered: Vec<(u64, u64)> = jms(&events)
        .filter_map(|(t, e)| match e {
            JmsEvent::JmsAck {
                ack: JmsAckKind::Delivered,
                delivered,
                ..
            } => Some((t, *delivered)),
            _ => None,
        })
        .collect();
    assert_eq!(delivered, vec![(63, 5), (113, 5)]);
    assert_eq!(s.ledger().acked, 0);
}

#[test]
fn amq_08_prefetch_zero_pulls_one_message_at_a_time() {
    let mut s = sim_1ms(json!({
        "producers": [queue_sender("p", "q", burst_rate(3, 10.0))],
        "consumers": [queue_receiver("c", "q", 10.0, json!({ "api": "receive", "prefetch": 0 }))]
    }));
    let events = run_ms(&mut s, 200);
    let times: Vec<u64> = dispatches(&events, &s).iter().map(|d| d.0).collect();
    assert_eq!(
        times,
        vec![11, 23, 35],
        "each after the consumer's next pull"
    );
}

#[test]
fn amq_08_prefetch_defaults_follow_the_subscriber() {
    // Queue 1000, durable subscription 100, non-durable 32767 (`ActiveMQPrefetchPolicy`).
    let mut s = sim_1ms(json!({
        "producers": [
            queue_sender("pq", "q", burst_rate(1_200, 10.0)),
            topic_publisher("pt", "t", burst_rate(200, 10.0))
        ],
        "consumers": [
            queue_receiver("q", "q", 1_000_000.0, json!({})),
            subscriber("durable", "t", Some(("app", "s")), 1_000_000.0)
        ]
    }));
    run_ms(&mut s, 100);
    assert_eq!(jms_queue(&s, "q").in_flight, 1_000);
    assert_eq!(durable_sub(&s, "app").in_flight, 100);
    let mut s = sim_1ms(json!({
        "producers": [topic_publisher("pt", "t", burst_rate(32_800, 10.0))],
        "consumers": [subscriber("plain", "t", None, 1_000_000.0)]
    }));
    run_ms(&mut s, 100);
    assert_eq!(s.snapshot().jms.subscriptions[0].in_flight, 32_767);
}

// ------------------------------------------------------------------ AMQ-9

fn artemis(settings: Value, consumers: Value, script: Value) -> Simulation {
    sim_1ms(json!({
        "jms": { "broker": "artemis", "artemis": settings },
        "producers": [queue_sender("p", "q", manual_rate())],
        "consumers": consumers,
        "script": script
    }))
}

#[test]
fn amq_09_artemis_ten_deliveries_then_the_dead_letter_address() {
    let consumers = json!([queue_receiver("c", "q", 10.0, json!({})).with(always_fails())]);
    let script = json!([at(10.0, cmd::burst("p", 1))]);
    let mut s = artemis(json!({}), consumers.clone(), script.clone());
    let events = run_ms(&mut s, 1_000);
    let counts: Vec<u32> = dispatched_to(&events, &s, "c")
        .iter()
        .map(|d| d.1)
        .collect();
    assert_eq!(
        counts,
        (1..=10).collect::<Vec<_>>(),
        "max-delivery-attempts counts deliveries"
    );
    assert_eq!(
        dead_letters(&events, &s),
        vec![(131, 0, "DLQ".into(), DeadLetterReason::DeliveryLimit)]
    );
    let mut s = artemis(json!({ "dead_letter_address": null }), consumers, script);
    run_ms(&mut s, 1_000);
    assert_eq!(dropped(&s, DropReason::DeliveryLimit), 1);
}

#[test]
fn amq_09_artemis_redelivers_from_the_broker_to_any_consumer_without_blocking() {
    let prefetch = json!({ "prefetch": 1 });
    let mut s = artemis(
        json!({ "redelivery_delay_ms": 1_000 }),
        json!([
            queue_receiver("c0", "q", 10.0, prefetch.clone())
                .with(json!({ "poison": { "probability": 1 } })),
            queue_receiver("c1", "q", 10.0, prefetch)
                .with(json!({ "poison": { "probability": 0 } }))
        ]),
        json!([at(10.0, poison("p")), at(10.0, cmd::burst("p", 2))]),
    );
    let events = run_ms(&mut s, 3_000);
    assert_eq!(dispatched_to(&events, &s, "c0"), vec![(0, 1), (2, 1)]);
    assert_eq!(dispatched_to(&events, &s, "c1"), vec![(1, 1), (0, 2)]);
    assert_eq!(
        dispatches(&events, &s)[3].0,
        1_023,
        "after the broker's delay"
    );
    assert_eq!(
        processed(&events, &s, "c0")[1],
        (34, 2, false),
        "c0 carries on at once"
    );
}

// ------------------------------------------------------------------ AMQ-10 (proposed id)

/// Sends with `JMSXGroupID` cycling through `groups`.
fn grouped_sender(name: &str, rate: Value, groups: &[&str]) -> Value {
    let headers: Vec<Value> = groups.iter().map(|g| json!({ "JMSXGroupID": g })).collect();
    queue_sender(name, "q", rate).with(json!({ "message": { "headers": headers } }))
}

/// AMQ-10 (proposed in the issue 11 design notes): message groups.
#[test]
fn amq_10_message_group_sticks_to_one_consumer_and_fails_over() {
    let mut s = sim_1ms(json!({
        "producers": [grouped_sender("p", constant_rate(100.0), &["A", "B"]).with(json!({ "limit": 90 }))],
        "consumers": [
            queue_receiver("c0", "q", 5.0, json!({ "prefetch": 1 })),
            queue_receiver("c1", "q", 5.0, json!({ "prefetch": 1 }))
        ],
        "script": [at(500.0, cmd::remove_consumer("c0"))]
    }));
    let events = run_ms(&mut s, 2_000);
    let before: Vec<(u64, String)> = dispatches(&events, &s)
        .into_iter()
        .filter(|d| d.0 < 500)
        .map(|d| (d.1, d.2))
        .collect();
    assert!(!before.is_empty());
    for (msg, consumer) in &before {
        let owner = if msg % 2 == 0 { "c0" } else { "c1" };
        assert_eq!(
            consumer,
            owner,
            "m{msg} of group {}",
            if msg % 2 == 0 { "A" } else { "B" }
        );
    }
    // After c0 leaves, the next A message goes to c1 and is marked first for it.
    let next_a = jms(&events).find_map(|(t, e)| match e {
        JmsEvent::JmsDispatch {
            msg,
            consumer,
            group_first,
            ..
        } if t >= 500 && msg.0 % 2 == 0 => Some((consumer_name(&s, *consumer), *group_first)),
        _ => None,
    });
    assert_eq!(next_a, Some(("c1".into(), true)));
    let groups = jms_queue(&s, "q").groups;
    assert_eq!(
        groups,
        vec![
            ("A".into(), s.snapshot().consumers[1].id),
            ("B".into(), s.snapshot().consumers[1].id)
        ]
    );
}

/// AMQ-10 (proposed): a busy owner holds its group back while other groups pass.
#[test]
fn amq_10_busy_owner_holds_its_group_back_while_other_groups_pass() {
    let mut s = sim_1ms(json!({
        "producers": [grouped_sender("p", burst_rate(3, 10.0), &["A", "A", "B"])],
        "consumers": [
            queue_receiver("c0", "q", 100.0, json!({ "prefetch": 1 })),
            queue_receiver("c1", "q", 1.0, json!({ "prefetch": 1 }))
        ]
    }));
    let events = run_ms(&mut s, 1_000);
    assert_eq!(
        dispatches(&events, &s)
            .into_iter()
            .map(|d| (d.0, d.1, d.2))
            .collect::<Vec<_>>(),
        vec![
            (11, 0, "c0".into()),
            (11, 2, "c1".into()),
            (113, 1, "c0".into())
        ],
        "m1 waits for its owner although c1 is idle"
    );
}

/// AMQ-10 (proposed): `JMSXGroupSeq` -1 closes the group, so its next message is assigned
/// afresh.
#[test]
fn amq_10_group_sequence_minus_one_closes_the_group() {
    let headers = json!([
        { "JMSXGroupID": "A" },
        { "JMSXGroupID": "A", "JMSXGroupSeq": -1 },
        { "JMSXGroupID": "A" }
    ]);
    let mut s = sim_1ms(json!({
        "producers": [queue_sender("p", "q", constant_rate(50.0))
            .with(json!({ "limit": 3, "message": { "headers": headers } }))],
        "consumers": [
            queue_receiver("c0", "q", 1.0, json!({ "prefetch": 1 })),
            queue_receiver("c1", "q", 1.0, json!({ "prefetch": 1 }))
        ]
    }));
    let events = run_ms(&mut s, 1_000);
    let owners: Vec<(u64, String, bool)> = jms(&events)
        .filter_map(|(_, e)| match e {
            JmsEvent::JmsDispatch {
                msg,
                consumer,
                group_first,
                ..
            } => Some((msg.0, consumer_name(&s, *consumer), *group_first)),
            _ => None,
        })
        .collect();
    assert_eq!(
        owners,
        vec![
            (0, "c0".into(), true),
            (1, "c0".into(), false),
            (2, "c1".into(), true)
        ]
    );
    assert!(jms_queue(&s, "q").groups.len() == 1);
}

// ------------------------------------------------------------------ AMQ-11 (proposed id)

/// AMQ-11 (proposed in the issue 11 design notes): the exclusive consumer.
#[test]
fn amq_11_exclusive_consumer_gets_everything_until_it_closes() {
    let exclusive = json!({ "exclusive": true, "prefetch": 10 });
    let mut s = sim_1ms(json!({
        "producers": [queue_sender("p", "q", constant_rate(100.0)).with(json!({ "limit": 50 }))],
        "consumers": [
            queue_receiver("c0", "q", 50.0, exclusive.clone()),
            queue_receiver("c1", "q", 5.0, exclusive)
        ],
        "script": [at(300.0, cmd::crash("c0"))]
    }));
    let events = run_ms(&mut s, 2_000);
    let before: Vec<String> = dispatches(&events, &s)
        .into_iter()
        .filter(|d| d.0 < 300)
        .map(|d| d.2)
        .collect();
    assert!(
        before.iter().all(|c| c == "c0"),
        "c1 gets nothing while c0 lives"
    );
    let exclusives: Vec<(u64, Option<String>)> = jms(&events)
        .filter_map(|(t, e)| match e {
            JmsEvent::JmsExclusive { consumer, .. } => {
                Some((t, consumer.map(|c| consumer_name(&s, c))))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        exclusives,
        vec![(0, Some("c0".into())), (300, Some("c1".into()))]
    );
    let handed_over: Vec<(u64, u32)> = dispatched_to(&events, &s, "c1")
        .into_iter()
        .take_while(|d| d.1 == 2)
        .collect();
    assert_eq!(
        handed_over.len(),
        10,
        "c0's unacked messages, flagged (AMQ-5)"
    );
    assert_eq!(s.ledger().acked, 50);
}

/// AMQ-11 (proposed): a new exclusive consumer takes over only with a higher priority.
#[test]
fn amq_11_higher_priority_exclusive_consumer_takes_over() {
    let exclusive = json!({ "exclusive": true, "prefetch": 1 });
    let mut s = sim_1ms(json!({
        "producers": [queue_sender("p", "q", constant_rate(100.0)).with(json!({ "limit": 60 }))],
        "consumers": [queue_receiver("c0", "q", 1.0, exclusive.clone())],
        "script": [
            at(200.0, cmd::add_consumer(queue_receiver("same", "q", 1.0, exclusive.clone()))),
            at(300.0, cmd::add_consumer(queue_receiver("high", "q", 1.0, exclusive)
                .with(json!({ "priority": 5 }))))
        ]
    }));
    let events = run_ms(&mut s, 1_000);
    let exclusive_owner = |t0: u64, t1: u64| -> Vec<String> {
        let mut v: Vec<String> = dispatches(&events, &s)
            .into_iter()
            .filter(|d| (t0..t1).contains(&d.0))
            .map(|d| d.2)
            .collect();
        v.dedup();
        v
    };
    assert_eq!(exclusive_owner(0, 300), vec!["c0"]);
    assert_eq!(exclusive_owner(300, 1_000), vec!["high"]);
}

// ------------------------------------------------------------------ validation

/// A scenario with one JMS consumer whose fields are `over`; the located error it gives.
fn consumer_error(over: Value) -> broker_sim::ScenarioError {
    let v = json!({
        "version": 1,
        "consumers": [queue_receiver("c", "q", 1.0, json!({})).with(over)]
    });
    broker_sim::Scenario::from_json(&v.to_string()).expect_err("refused")
}

#[test]
fn amq_08_prefetch_zero_with_a_listener_is_refused() {
    // `setMessageListener` throws "Illegal prefetch size of zero".
    let e = consumer_error(json!({ "jms": { "prefetch": 0 } }));
    assert_eq!(e.path, "consumers[0].jms.prefetch");
    assert!(e.reason.contains("receive"), "{e}");
    let e = consumer_error(json!({ "jms": { "prefetch": 40_000 } }));
    assert_eq!(e.path, "consumers[0].jms.prefetch");
    let e = consumer_error(json!({ "prefetch": 5 }));
    assert_eq!(e.path, "consumers[0].prefetch", "{e}");
}

#[test]
fn amq_04_session_settings_must_fit_the_ack_mode() {
    let e = consumer_error(json!({ "jms": { "ack_every": 3 } }));
    assert_eq!(e.path, "consumers[0].jms.ack_every");
    let e = consumer_error(json!({ "jms": { "ack_mode": "client", "on_failure": "rollback" } }));
    assert_eq!(e.path, "consumers[0].jms.on_failure");
    let e = consumer_error(json!({ "jms": { "redelivery": { "maximum_redeliveries": -2 } } }));
    assert_eq!(e.path, "consumers[0].jms.redelivery.maximum_redeliveries");
    let e = consumer_error(json!({ "ack": "auto" }));
    assert_eq!(e.path, "consumers[0].ack");
}

#[test]
fn amq_02_a_client_id_belongs_to_one_connection() {
    let v = json!({
        "version": 1,
        "consumers": [
            subscriber("a", "t", Some(("app", "s1")), 1.0),
            subscriber("b", "t", Some(("app", "s2")), 1.0)
        ]
    });
    let e = broker_sim::Scenario::from_json(&v.to_string()).expect_err("refused");
    assert_eq!(e.path, "consumers[1].source.jms_topic.durable.client_id");
    let mut s = sim_1ms(json!({ "consumers": [subscriber("a", "t", Some(("app", "s1")), 1.0)] }));
    let add: broker_sim::Command = serde_json::from_value(cmd::add_consumer(subscriber(
        "b",
        "u",
        Some(("app", "s2")),
        1.0,
    )))
    .unwrap();
    assert!(s.apply(add).is_err());
}

#[test]
fn amq_09_artemis_settings_need_the_artemis_broker() {
    let v = json!({ "version": 1, "jms": { "artemis": { "max_delivery_attempts": 3 } } });
    let e = broker_sim::Scenario::from_json(&v.to_string()).expect_err("refused");
    assert_eq!(e.path, "jms.artemis");
}

#[test]
fn amq_01_scenarios_without_jms_serialise_as_before() {
    let v = json!({
        "version": 1,
        "queues": [{ "name": "q" }],
        "consumers": [{ "name": "c", "source": { "queue": "q" }, "processing": { "kind": "fixed", "ms": 1 } }]
    });
    let text = broker_sim::Scenario::from_json(&v.to_string())
        .unwrap()
        .to_json_pretty();
    assert!(
        !text.contains("jms") && !text.contains("persistent"),
        "{text}"
    );
    // And a JMS scenario reads back to the same scenario.
    let v = json!({
        "version": 1,
        "jms": { "dead_letter_strategy": { "kind": "individual" }, "queues": [{ "name": "q" }] },
        "producers": [queue_sender("p", "q", manual_rate()).with(json!({ "message": { "persistent": false } }))],
        "consumers": [queue_receiver("c", "q", 1.0, json!({ "ack_mode": "client", "ack_every": 2 }))]
    });
    let s = broker_sim::Scenario::from_json(&v.to_string()).unwrap();
    assert_eq!(
        broker_sim::Scenario::from_json(&s.to_json_pretty()).unwrap(),
        s
    );
}

#[test]
fn amq_09_artemis_moves_expired_messages_to_the_expiry_address() {
    let run = |artemis: Value| {
        let mut s = sim_1ms(json!({
            "jms": { "broker": "artemis", "artemis": artemis },
            "producers": [queue_sender("p", "q", burst_rate(1, 10.0))
                .with(json!({ "message": { "ttl_ms": 100, "persistent": false } }))]
        }));
        let events = run_ms(&mut s, 31_000);
        (s, events)
    };
    // Even a non-persistent message: Artemis has no Classic `processNonPersistent` rule.
    let (s, events) = run(json!({}));
    assert_eq!(
        dead_letters(&events, &s),
        vec![(30_000, 0, "ExpiryQueue".into(), DeadLetterReason::Expired)]
    );
    let (s, _) = run(json!({ "expiry_address": null }));
    assert_eq!(s.ledger().expired, 1);
}

#[test]
fn amq_07_the_client_drops_an_expired_prefetched_message() {
    // m1 waits in c's prefetch buffer past its expiration (60 ms): the client never hands it
    // to the application, it sends an expired ack and the broker dead-letters it.
    let mut s = sim_1ms(json!({
        "producers": [queue_sender("p", "q", burst_rate(2, 10.0))
            .with(json!({ "message": { "ttl_ms": 50 } }))],
        "consumers": [queue_receiver("c", "q", 100.0, json!({ "prefetch": 10 }))]
    }));
    let events = run_ms(&mut s, 1_000);
    assert_eq!(dispatched_to(&events, &s, "c"), vec![(0, 1), (1, 1)]);
    assert_eq!(processed_ids(&events, &s, "c"), vec![0]);
    assert_eq!(acks(&events)[0], (113, JmsAckKind::Standard, vec![0]));
    assert_eq!(acks(&events)[1], (113, JmsAckKind::Expired, vec![1]));
    assert_eq!(
        dead_letters(&events, &s),
        vec![(113, 1, "ActiveMQ.DLQ".into(), DeadLetterReason::Expired)]
    );
}

#[test]
fn amq_04_dups_ok_close_sends_the_pending_batch_a_crash_loses_it() {
    // As `amq_04_dups_ok_batches_acks_on_topics_only`, but the subscriber closes cleanly at
    // 85 and a new one takes the durable subscription at 200.
    let mut s = sim_1ms(json!({
        "producers": [topic_publisher("p", "t", burst_rate(10, 10.0))],
        "consumers": [subscriber("c", "t", Some(("app", "s")), 10.0)
            .with(json!({ "jms": { "ack_mode": "dups_ok", "prefetch": 10 } }))],
        "script": [
            at(85.0, cmd::remove_consumer("c")),
            at(200.0, cmd::add_consumer(subscriber("d", "t", Some(("app", "s")), 10.0)))
        ]
    }));
    let events = run_ms(&mut s, 1_000);
    assert_eq!(acks(&events)[1], (85, JmsAckKind::Standard, vec![5, 6]));
    // m7 was in the application's hands; m8 and m9 never reached it (AMQ-5).
    assert_eq!(
        dispatched_to(&events, &s, "d"),
        vec![(7, 2), (8, 1), (9, 1)]
    );
}

#[test]
fn amq_02_specs_list_the_destinations_and_durable_subscriptions_now() {
    let mut s = sim_1ms(json!({
        "jms": { "process_expired": false, "queues": [{ "name": "orders" }] },
        "producers": [topic_publisher("p", "prices", manual_rate())],
        "consumers": [subscriber("s", "prices", Some(("app", "s")), 1.0)]
    }));
    apply(
        &mut s,
        json!({ "add_jms_queue": { "queue": { "name": "audit" } } }),
    );
    let jms = s.specs().jms.expect("JMS settings");
    assert!(!jms.process_expired);
    let queues: Vec<&str> = jms.queues.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(queues, vec!["orders", "audit"]);
    assert_eq!(jms.topics[0].name, "prices");
    assert_eq!(jms.durable_subscriptions[0].client_id, "app");
    let plain = sim_1ms(json!({ "queues": [{ "name": "q" }] }));
    assert!(plain.specs().jms.is_none());
}

#[test]
fn amq_06_unlimited_instant_redelivery_is_halted_by_the_zero_time_guard() {
    // Redelivery delay 0, no limit and instant processing: the client would redeliver the
    // message forever without time moving on; the engine's guard names it and stops.
    let mut s = sim_1ms(json!({
        "producers": [queue_sender("p", "q", burst_rate(1, 10.0))],
        "consumers": [queue_receiver("c", "q", 0.0, json!({ "redelivery": {
            "maximum_redeliveries": -1, "initial_redelivery_delay_ms": 0, "redelivery_delay_ms": 0
        } })).with(always_fails())]
    }));
    s.advance_to(broker_sim::SimTime::from_millis(100));
    assert!(s.halted().is_some(), "the run halts");
    crate::helpers::assert_no_leaks(&s);
}

#[test]
fn amq_07_poison_from_a_non_durable_subscriber_is_not_dead_lettered() {
    // A durable subscription is a `PrefetchSubscription` that sends poison to the DLQ; a
    // non-durable one is a `TopicSubscription`, which keeps nothing to dead-letter.
    let run = |durable: Option<(&str, &str)>| {
        let mut s = sim_1ms(json!({
            "jms": { "dead_letter_strategy": { "kind": "individual" } },
            "producers": [topic_publisher("p", "t", burst_rate(1, 10.0))],
            "consumers": [subscriber("c", "t", durable, 10.0)
                .with(always_fails())
                .with(json!({ "jms": { "redelivery": { "maximum_redeliveries": 0 } } }))]
        }));
        let events = run_ms(&mut s, 1_000);
        (s, events)
    };
    let (s, events) = run(Some(("app", "s")));
    assert_eq!(
        dead_letters(&events, &s),
        vec![(
            23,
            0,
            "ActiveMQ.DLQ.Topic.t".into(),
            DeadLetterReason::PoisonAck
        )]
    );
    let (s, events) = run(None);
    assert!(dead_letters(&events, &s).is_empty());
    assert_eq!(dropped(&s, DropReason::PoisonAckDiscarded), 1);
}

#[test]
fn amq_02_graph_shows_one_stored_copy_per_durable_subscription_while_it_is_offline() {
    use broker_sim::snapshot::{Family, Figure, LinkKind, NodeRef, Role};
    let mut s = sim_1ms(json!({
        "producers": [topic_publisher("p", "t", burst_rate(3, 10.0))],
        "consumers": [
            subscriber("away", "t", Some(("app", "s")), 1.0).with(json!({ "stopped": true })),
            subscriber("here", "t", None, 1.0)
        ]
    }));
    run_ms(&mut s, 100);
    let g = s.snapshot().graph;
    let topic = g
        .nodes
        .iter()
        .find(|n| matches!(n.node, NodeRef::JmsTopic(_)))
        .expect("the topic");
    assert_eq!((topic.family, topic.role), (Family::Jms, Role::Router));
    let away = g
        .nodes
        .iter()
        .find(|n| n.name == "app:s")
        .expect("the durable subscription");
    assert_eq!(away.figure(Figure::Pending), Some(3));
    assert_eq!(away.chips.len(), 3);
    assert!(g
        .edges
        .iter()
        .any(|e| e.from == topic.node && e.to == away.node && e.kind == LinkKind::Push));
    let here = g
        .nodes
        .iter()
        .find(|n| n.name == "here" && n.role == Role::Store)
        .expect("its subscription");
    assert_eq!(here.figure(Figure::Pending), Some(0));
}
