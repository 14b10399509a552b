//! Apache Pulsar rules PUL-1…PUL-14 (`reference/semantics.md` §7A). Every hop takes 1 ms
//! (`sim_1ms`); unless a test is about them, producers do not batch and consumers send each
//! ack at once (`ack_group_time_ms: 0`).

use crate::helpers::{
    at, burst_rate, cmd, constant_rate, consumer_id, dropped, events_of_type, manual_rate, pick,
    run_ms, sim_1ms, trace, With,
};
use broker_sim::snapshot::{PulsarSubscriptionView, PulsarTopicView};
use broker_sim::{DropReason, Event, EventKind, Scenario, SimTime, Simulation};
use serde_json::{json, Value};

// ---------------------------------------------------------------- scenario pieces

/// `{"pulsar": {"topics": [...]}}` with each topic given as (name, partitions).
fn pulsar(topics: &[(&str, u32)]) -> Value {
    let topics: Vec<Value> = topics
        .iter()
        .map(|(name, partitions)| json!({ "name": name, "partitions": partitions }))
        .collect();
    json!({ "pulsar": { "topics": topics } })
}

/// A producer to a Pulsar topic, without batching.
fn producer(name: &str, topic: &str, rate: Value) -> Value {
    json!({
        "name": name, "targets": [{ "pulsar_topic": topic }], "rate": rate,
        "pulsar": { "batching": { "enabled": false } }
    })
}

/// A consumer on `topic`'s subscription `sub` of type `kind`, with a fixed processing time and
/// acks sent at once.
fn consumer(name: &str, topic: &str, sub: &str, kind: &str, ms: f64) -> Value {
    json!({
        "name": name,
        "source": { "pulsar": { "topic": topic, "subscription": sub, "type": kind } },
        "processing": { "kind": "fixed", "ms": ms },
        "pulsar": { "ack_group_time_ms": 0 }
    })
}

/// Fields for [`With::with`]: the application fails every message.
fn always_fails() -> Value {
    json!({ "failure": { "probability": 1 } })
}

fn ms(t: SimTime) -> f64 {
    t.0 as f64 / 1_000.0
}

// ---------------------------------------------------------------- event readers

/// What the broker sent `consumer`, as (time ms, message, redelivery count).
fn dispatched(events: &[Event], sim: &Simulation, consumer: &str) -> Vec<(f64, u64, u32)> {
    let id = consumer_id(sim, consumer);
    pick(events, |e| match &e.kind {
        EventKind::PulsarDispatched {
            msg,
            consumer,
            redelivery_count,
            ..
        } if *consumer == id => Some((ms(e.time), msg.0, *redelivery_count)),
        _ => None,
    })
}

/// Just the messages of [`dispatched`].
fn dispatched_ids(events: &[Event], sim: &Simulation, consumer: &str) -> Vec<u64> {
    dispatched(events, sim, consumer)
        .into_iter()
        .map(|(_, m, _)| m)
        .collect()
}

/// Messages the application of `consumer` finished, in order.
fn processed(events: &[Event], sim: &Simulation, consumer: &str) -> Vec<u64> {
    let id = consumer_id(sim, consumer);
    pick(events, |e| match &e.kind {
        EventKind::Processed { msg, consumer, .. } if *consumer == id => Some(msg.0),
        _ => None,
    })
}

/// Every entry stored, as (message, topic, partition, entry).
fn entries(events: &[Event]) -> Vec<(u64, u32, u32, u64)> {
    pick(events, |e| match &e.kind {
        EventKind::PulsarEntryAdded {
            msg,
            topic,
            partition,
            entry,
        } => Some((msg.0, *topic, *partition, *entry)),
        _ => None,
    })
}

/// Refusals as (time ms, consumer name, reason).
fn refusals(events: &[Event], sim: &Simulation) -> Vec<(f64, String, String)> {
    let snap = sim.snapshot();
    pick(events, |e| match &e.kind {
        EventKind::PulsarConsumerRefused { consumer, reason } => {
            let name = snap.consumers[consumer.index()].name.clone();
            Some((ms(e.time), name, reason.clone()))
        }
        _ => None,
    })
}

/// Mark-delete positions a subscription moved to, as (time ms, position).
fn cursor_moves(events: &[Event], sub: u32) -> Vec<(f64, i64)> {
    pick(events, |e| match &e.kind {
        EventKind::PulsarCursorMoved {
            subscription,
            mark_delete,
            ..
        } if *subscription == sub => Some((ms(e.time), *mark_delete)),
        _ => None,
    })
}

fn topic_view(sim: &Simulation, topic: &str) -> PulsarTopicView {
    let view = sim.snapshot().pulsar.expect("the scenario uses Pulsar");
    view.topics
        .into_iter()
        .find(|t| t.name == topic)
        .unwrap_or_else(|| panic!("no Pulsar topic {topic}"))
}

fn sub_view(sim: &Simulation, topic: &str, sub: &str) -> PulsarSubscriptionView {
    topic_view(sim, topic)
        .subscriptions
        .into_iter()
        .find(|s| s.name == sub)
        .unwrap_or_else(|| panic!("no subscription {sub} on {topic}"))
}

// ---------------------------------------------------------------- PUL-1

#[test]
fn pul_01_one_log_many_cursors_stores_each_message_once() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", burst_rate(10, 10.0))],
        "consumers": [
            consumer("c1", "t", "s1", "exclusive", 1.0),
            consumer("c2", "t", "s2", "exclusive", 1.0),
        ],
    })));
    let events = run_ms(&mut s, 2_000);
    let stored = entries(&events);
    assert_eq!(
        stored,
        (0..10).map(|i| (i, 0, 0, i)).collect::<Vec<_>>(),
        "one entry per message, in publish order"
    );
    for c in ["c1", "c2"] {
        assert_eq!(dispatched_ids(&events, &s, c), (0..10).collect::<Vec<_>>());
        assert_eq!(processed(&events, &s, c), (0..10).collect::<Vec<_>>());
    }
    // Two subscriptions read it all, yet each message is stored once.
    let l = s.ledger();
    assert_eq!((l.created, l.retained, l.acked), (10, 10, 0));
    for sub in ["s1", "s2"] {
        assert_eq!(sub_view(&s, "t", sub).backlog, 0);
    }
    // Acked by every subscription: marked for deletion, but still in the open ledger.
    let p = &topic_view(&s, "t").partitions[0];
    assert_eq!((p.messages, p.marked_for_deletion), (10, 10));
}

#[test]
fn pul_01_a_closed_ledger_is_freed_whole_and_the_current_never() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "pulsar": { "broker": { "ledger_max_entries": 4, "ledger_min_rollover_ms": 0 } },
        "producers": [producer("p", "t", burst_rate(10, 10.0))],
        "consumers": [consumer("c1", "t", "s", "exclusive", 10.0)],
    })));
    let events = run_ms(&mut s, 2_000);
    let rolled = events_of_type(&events, "pulsar_ledger_rolled");
    assert_eq!(rolled.len(), 2, "4 + 4 entries close two ledgers at 11 ms");
    assert!(rolled.iter().all(|(t, _)| ms(*t) == 11.0));
    // c1 acks m3 (the end of ledger 0) at 53 ms and m7 at 93 ms: each ledger goes whole then.
    let trimmed: Vec<(f64, u64, u64)> = events_of_type(&events, "pulsar_ledger_trimmed")
        .into_iter()
        .map(|(t, v)| {
            (
                ms(t),
                v["ledger"].as_u64().unwrap(),
                v["entries"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        trimmed,
        vec![(53.0, 0, 4), (93.0, 1, 4)],
        "{}",
        trace(&events)
    );
    let l = s.ledger();
    assert_eq!(
        (l.acked, l.retained),
        (8, 2),
        "the current ledger keeps m8, m9"
    );
    let p = &topic_view(&s, "t").partitions[0];
    assert_eq!((p.start, p.end, p.marked_for_deletion), (8, 10, 2));
}

// ---------------------------------------------------------------- PUL-2

#[test]
fn pul_02_each_subscription_gets_everything_the_first_consumer_fixes_the_type() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", burst_rate(20, 10.0))],
        "consumers": [
            consumer("c1", "t", "a", "shared", 1.0),
            consumer("c2", "t", "b", "shared", 1.0),
            consumer("c3", "t", "b", "shared", 1.0),
        ],
        "script": [
            at(500.0, cmd::add_consumer(consumer("c4", "t", "b", "failover", 1.0))),
            at(600.0, cmd::remove_consumer("c2")),
            at(600.0, cmd::remove_consumer("c3")),
            at(700.0, cmd::restart("c4")),
        ],
    })));
    let events = run_ms(&mut s, 1_000);
    assert_eq!(processed(&events, &s, "c1"), (0..20).collect::<Vec<_>>());
    let mut b: Vec<u64> = [processed(&events, &s, "c2"), processed(&events, &s, "c3")].concat();
    b.sort_unstable();
    assert_eq!(b, (0..20).collect::<Vec<_>>(), "b's consumers share the 20");
    assert_eq!(
        refusals(&events, &s),
        vec![(
            501.0,
            "c4".into(),
            "Subscription is of different type".into()
        )]
    );
    // Once every consumer left, the next one sets the type again.
    let b = sub_view(&s, "t", "b");
    assert_eq!(b.consumers, vec![consumer_id(&s, "c4")]);
    assert_eq!(format!("{:?}", b.kind), "Some(Failover)");
}

#[test]
fn pul_02_a_durable_subscription_keeps_its_backlog_without_consumers() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", manual_rate())],
        "consumers": [consumer("c", "t", "b", "exclusive", 1.0)],
        "script": [
            at(100.0, cmd::crash("c")),
            at(200.0, cmd::burst("p", 5)),
            at(1_000.0, cmd::restart("c")),
        ],
    })));
    let _ = run_ms(&mut s, 900);
    let b = sub_view(&s, "t", "b");
    assert_eq!((b.backlog, b.consumers.len()), (5, 0));
    let events = run_ms(&mut s, 1_100);
    assert_eq!(dispatched_ids(&events, &s, "c"), vec![0, 1, 2, 3, 4]);
    assert_eq!(sub_view(&s, "t", "b").backlog, 0);
}

#[test]
fn pul_02_a_non_durable_subscription_ends_with_its_last_consumer() {
    let mode = |m: &str| json!({ "source": { "pulsar": { "mode": m } } });
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", manual_rate())],
        "consumers": [
            consumer("nd1", "t", "nd", "exclusive", 1.0).with(mode("non_durable")),
            consumer("d1", "t", "dur", "exclusive", 1.0),
        ],
        "script": [
            at(10.0, cmd::burst("p", 3)),
            at(100.0, cmd::remove_consumer("nd1")),
            at(100.0, cmd::remove_consumer("d1")),
            at(200.0, cmd::burst("p", 3)),
            at(300.0, cmd::add_consumer(consumer("nd2", "t", "nd", "exclusive", 1.0).with(mode("non_durable")))),
            at(300.0, cmd::add_consumer(consumer("d2", "t", "dur", "exclusive", 1.0))),
            at(400.0, cmd::burst("p", 1)),
        ],
    })));
    let _ = run_ms(&mut s, 250);
    let names: Vec<String> = topic_view(&s, "t")
        .subscriptions
        .into_iter()
        .map(|x| x.name)
        .collect();
    assert_eq!(
        names,
        vec!["dur"],
        "the non-durable cursor went with its consumer"
    );
    let events = run_ms(&mut s, 1_000);
    // A new non-durable subscription starts at the latest entry; the durable one kept its place.
    assert_eq!(dispatched_ids(&events, &s, "nd2"), vec![6]);
    assert_eq!(dispatched_ids(&events, &s, "d2"), vec![3, 4, 5, 6]);
}

#[test]
fn pul_02_the_graph_shows_the_partitions_and_each_consumer_through_its_subscription() {
    use broker_sim::snapshot::{Family, LinkKind, NodeRef};
    let mut s = sim_1ms(pulsar(&[("t", 2)]).with(json!({
        "producers": [producer("p", "t", burst_rate(4, 10.0))],
        "consumers": [
            consumer("c1", "t", "audit", "exclusive", 1.0),
            consumer("c2", "t", "work", "shared", 1.0),
        ],
    })));
    let _ = run_ms(&mut s, 100);
    let snap = s.snapshot();
    let g = &snap.graph;
    let topic = NodeRef::PulsarTopic(0);
    assert_eq!(g.node(topic).map(|n| n.family), Some(Family::Pulsar));
    let parts: Vec<&str> = (g.nodes.iter())
        .filter(|n| n.parent == Some(topic))
        .map(|n| n.name.as_str())
        .collect();
    assert_eq!(parts, ["t-partition-0", "t-partition-1"]);
    let mut links: Vec<(String, Option<String>)> = (g.edges.iter())
        .filter(|e| e.from == topic && e.kind == LinkKind::Deliver)
        .map(|e| (g.node(e.to).unwrap().name.clone(), e.label.clone()))
        .collect();
    links.sort();
    assert_eq!(
        links,
        vec![
            ("c1".into(), Some("audit".into())),
            ("c2".into(), Some("work".into()))
        ]
    );
    let view = snap.pulsar.expect("Pulsar");
    assert_eq!(
        view.topics[0]
            .partitions
            .iter()
            .map(|p| p.messages)
            .sum::<u64>(),
        4
    );
}

// ---------------------------------------------------------------- PUL-3

#[test]
fn pul_03_exclusive_refuses_a_second_consumer_and_redelivers_after_crash() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", burst_rate(5, 100.0))],
        "consumers": [consumer("c1", "t", "s", "exclusive", 100.0)],
        "script": [
            at(50.0, cmd::add_consumer(consumer("c2", "t", "s", "exclusive", 1.0))),
            at(350.0, cmd::crash("c1")),
            at(1_000.0, cmd::restart("c1")),
        ],
    })));
    let events = run_ms(&mut s, 2_000);
    assert_eq!(
        refusals(&events, &s),
        vec![(
            51.0,
            "c2".into(),
            "Exclusive consumer is already connected".into()
        )]
    );
    // m0 and m1 were acked (203, 303 ms) before the crash at 350 ms; m2 was being processed.
    let sent = dispatched(&events, &s, "c1");
    assert_eq!(
        &sent[..5],
        &[
            (101.0, 0, 0),
            (101.0, 1, 0),
            (101.0, 2, 0),
            (101.0, 3, 0),
            (101.0, 4, 0)
        ]
    );
    // Nothing goes out while no consumer is attached; the returning one resumes at the cursor.
    assert_eq!(
        &sent[5..],
        &[(1_001.0, 2, 0), (1_001.0, 3, 0), (1_001.0, 4, 0)]
    );
}

// ---------------------------------------------------------------- PUL-4

#[test]
fn pul_04_failover_deals_partitions_by_index_mod_consumers() {
    let mut s = sim_1ms(pulsar(&[("t", 9)]).with(json!({
        "consumers": [
            consumer("C", "t", "s", "failover", 1.0),
            consumer("A", "t", "s", "failover", 1.0),
            consumer("B", "t", "s", "failover", 1.0),
        ],
    })));
    let _ = run_ms(&mut s, 100);
    let active: Vec<String> = sub_view(&s, "t", "s")
        .partitions
        .iter()
        .map(|p| {
            s.snapshot().consumers[p.active.unwrap().index()]
                .name
                .clone()
        })
        .collect();
    // Sorted by name whatever the join order: A = P0, P3, P6 (semantics.md's test).
    assert_eq!(active, ["A", "B", "C", "A", "B", "C", "A", "B", "C"]);
}

#[test]
fn pul_04_failover_first_delivery_waits_the_switch_delay() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", burst_rate(1, 10.0))],
        "consumers": [consumer("c1", "t", "s", "failover", 1.0)],
    })));
    let events = run_ms(&mut s, 2_000);
    let changes = events_of_type(&events, "pulsar_active_consumer");
    assert_eq!(changes.len(), 1);
    assert_eq!(
        (ms(changes[0].0), changes[0].1["read_at"].as_u64()),
        (1.0, Some(1_001_000)),
        "even the first consumer waits activeConsumerFailoverDelayTimeMillis"
    );
    assert_eq!(dispatched(&events, &s, "c1"), vec![(1_001.0, 0, 0)]);
    let received = events_of_type(&events, "pulsar_received");
    assert_eq!(ms(received[0].0), 1_002.0);
}

#[test]
fn pul_04_non_partitioned_active_comes_from_the_hash_ring_not_join_order() {
    let active_of = |topic: &str| {
        let mut s = sim_1ms(pulsar(&[(topic, 0)]).with(json!({
            "consumers": [consumer("c1", topic, "s", "failover", 1.0)],
            "script": [at(100.0, cmd::add_consumer(consumer("c2", topic, "s", "failover", 1.0)))],
        })));
        let _ = run_ms(&mut s, 500);
        let id = sub_view(&s, topic, "s").partitions[0].active.unwrap();
        s.snapshot().consumers[id.index()].name.clone()
    };
    // murmur3 of `persistent://public/default/<topic>` on a ring of 100 points per name.
    assert_eq!(active_of("payments"), "c2", "the later consumer took over");
    assert_eq!(active_of("orders"), "c1");

    let mut s = sim_1ms(pulsar(&[("orders", 0)]).with(json!({
        "consumers": [
            consumer("c1", "orders", "s", "failover", 1.0),
            consumer("c2", "orders", "s", "failover", 1.0),
        ],
        "script": [at(2_000.0, cmd::add_consumer(consumer("c3", "orders", "s", "failover", 1.0)))],
    })));
    let events = run_ms(&mut s, 4_000);
    let changes: Vec<(f64, u64)> = events_of_type(&events, "pulsar_active_consumer")
        .into_iter()
        .map(|(t, v)| (ms(t), v["read_at"].as_u64().unwrap()))
        .collect();
    assert_eq!(changes, vec![(1.0, 1_001_000), (2_001.0, 3_001_000)]);
    let id = sub_view(&s, "orders", "s").partitions[0].active.unwrap();
    assert_eq!(id, consumer_id(&s, "c3"));
}

#[test]
fn pul_04_failover_standby_takes_over_after_the_last_ack() {
    // semantics.md's test: c1 acks m1-m5 (here m0-m4) and crashes; c2 gets the rest in order.
    let mut s = sim_1ms(pulsar(&[("orders", 0)]).with(json!({
        "producers": [producer("p", "orders", burst_rate(10, 10.0))],
        "consumers": [
            consumer("c1", "orders", "s", "failover", 100.0).with(json!({ "pulsar": { "receiver_queue_size": 1 } })),
            consumer("c2", "orders", "s", "failover", 100.0),
        ],
        // c1's fifth ack reaches the broker at 1503 ms.
        "script": [at(1_503.5, cmd::crash("c1"))],
    })));
    let events = run_ms(&mut s, 5_000);
    assert_eq!(processed(&events, &s, "c1"), vec![0, 1, 2, 3, 4]);
    let c2 = dispatched(&events, &s, "c2");
    assert_eq!(
        c2.iter().map(|d| d.1).collect::<Vec<_>>(),
        vec![5, 6, 7, 8, 9]
    );
    assert_eq!(c2[0].0, 2_504.5, "crash + L + the 1 s failover delay");
    assert_eq!(processed(&events, &s, "c2"), vec![5, 6, 7, 8, 9]);
}

#[test]
fn pul_04_a_joining_consumer_takes_over_and_duplicates_appear() {
    let mut s = sim_1ms(pulsar(&[("orders", 0)]).with(json!({
        "producers": [producer("p", "orders", burst_rate(20, 10.0))],
        "consumers": [consumer("c1", "orders", "s", "failover", 200.0)],
        "script": [at(2_000.0, cmd::add_consumer(consumer("c3", "orders", "s", "failover", 1.0)))],
    })));
    let events = run_ms(&mut s, 6_000);
    // The ring gives "orders" to c3 over c1: it takes over at 2001 ms and reads at 3001 ms.
    let c3 = dispatched(&events, &s, "c3");
    assert_eq!(c3[0].0, 3_001.0);
    // c1 keeps what its receiver queue holds and acks it; c3 got those unacked at 3001 ms too.
    let c1 = processed(&events, &s, "c1");
    assert_eq!(c1, (0..20).collect::<Vec<_>>(), "c1 drains its queue");
    let c3: Vec<u64> = processed(&events, &s, "c3");
    let dupes = c3.iter().filter(|m| c1.contains(m)).count();
    assert!(dupes > 0, "{}", trace(&events));
    // c1 started at 1002 ms; its ack of m8 reached the broker at 2803 ms, of m9 at 3003 ms.
    assert_eq!(c3.first(), Some(&9), "the rewind starts after the last ack");
}

// ---------------------------------------------------------------- PUL-5

#[test]
fn pul_05_shared_round_robins_one_entry_per_turn_when_batch_size_is_1() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "pulsar": { "broker": { "dispatcher_max_round_robin_batch_size": 1 } },
        "producers": [producer("p", "t", burst_rate(10, 10.0))],
        "consumers": [
            consumer("c1", "t", "s", "shared", 1.0),
            consumer("c2", "t", "s", "shared", 1.0),
        ],
    })));
    let events = run_ms(&mut s, 1_000);
    // semantics.md's test (m1, m3, … counted from 1).
    assert_eq!(dispatched_ids(&events, &s, "c1"), vec![0, 2, 4, 6, 8]);
    assert_eq!(dispatched_ids(&events, &s, "c2"), vec![1, 3, 5, 7, 9]);
}

#[test]
fn pul_05_default_turn_is_up_to_20_entries() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", burst_rate(50, 10.0))],
        "consumers": [
            consumer("c1", "t", "s", "shared", 1.0),
            consumer("c2", "t", "s", "shared", 1.0),
        ],
    })));
    let events = run_ms(&mut s, 1_000);
    let c1: Vec<u64> = (0..20).chain(40..50).collect();
    assert_eq!(dispatched_ids(&events, &s, "c1"), c1);
    assert_eq!(
        dispatched_ids(&events, &s, "c2"),
        (20..40).collect::<Vec<_>>()
    );
}

#[test]
fn pul_05_receiver_queue_size_is_the_flow_permits() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", burst_rate(10, 10.0))],
        "consumers": [consumer("c", "t", "s", "shared", 1_000.0)
            .with(json!({ "pulsar": { "receiver_queue_size": 4 } }))],
    })));
    let events = run_ms(&mut s, 3_500);
    // Four permits at first; two go back each time the application took two more messages
    // (half the queue): at 1012 ms (m0, m1) and 3012 ms (m2, m3), reaching the broker 1 ms later.
    let sent = dispatched(&events, &s, "c");
    let times: Vec<(f64, u64)> = sent.iter().map(|d| (d.0, d.1)).collect();
    assert_eq!(
        times,
        vec![
            (11.0, 0),
            (11.0, 1),
            (11.0, 2),
            (11.0, 3),
            (1_013.0, 4),
            (1_013.0, 5),
            (3_013.0, 6),
            (3_013.0, 7)
        ]
    );
}

#[test]
fn pul_05_lower_priority_only_when_higher_has_no_permits() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", burst_rate(10, 10.0))],
        "consumers": [
            consumer("lo", "t", "s", "shared", 1.0).with(json!({ "pulsar": { "priority_level": 1 } })),
            consumer("hi", "t", "s", "shared", 1_000.0)
                .with(json!({ "pulsar": { "receiver_queue_size": 2 } })),
        ],
    })));
    let events = run_ms(&mut s, 3_000);
    // `hi` (level 0) attached after `lo` yet is served first, up to its 2 permits.
    assert_eq!(
        dispatched(&events, &s, "hi")[..2],
        [(11.0, 0, 0), (11.0, 1, 0)]
    );
    assert_eq!(dispatched_ids(&events, &s, "hi"), vec![0, 1]);
    assert_eq!(
        dispatched_ids(&events, &s, "lo"),
        (2..10).collect::<Vec<_>>()
    );
}

#[test]
fn pul_05_unacked_limit_blocks_until_half() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "pulsar": { "broker": { "max_unacked_messages_per_consumer": 4 } },
        "producers": [producer("p", "t", burst_rate(10, 10.0))],
        "consumers": [consumer("c", "t", "s", "shared", 100.0)],
    })));
    let events = run_ms(&mut s, 2_000);
    let times: Vec<f64> = dispatched(&events, &s, "c").iter().map(|d| d.0).collect();
    // Blocked at 4 unacked; the ack of m0 (113 ms) leaves 3, the ack of m1 (213 ms) leaves 2 =
    // half: unblocked, and blocked again at 4.
    assert_eq!(&times[..6], &[11.0, 11.0, 11.0, 11.0, 213.0, 213.0]);
    assert_eq!(times[6], 413.0);
}

// ---------------------------------------------------------------- PUL-6

/// A producer cycling through `keys`, without batching.
fn keyed(name: &str, topic: &str, keys: &[&str], rate: Value) -> Value {
    producer(name, topic, rate).with(json!({ "message": { "keys": keys } }))
}

fn hash_ranges() -> Value {
    json!({ "pulsar": { "broker": { "key_shared_selector": "hash_ranges" } } })
}

#[test]
fn pul_06_hash_ranges_split_the_largest_range_and_order_3459134_goes_to_c3() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(hash_ranges()).with(json!({
        "producers": [keyed("p", "t", &["Order-3459134"], burst_rate(1, 10.0))],
        "consumers": [
            consumer("C1", "t", "s", "key_shared", 1.0),
            consumer("C2", "t", "s", "key_shared", 1.0),
            consumer("C3", "t", "s", "key_shared", 1.0),
            consumer("C4", "t", "s", "key_shared", 1.0),
        ],
        "script": [at(100.0, cmd::remove_consumer("C1")), at(200.0, cmd::remove_consumer("C3"))],
    })));
    let [c1, c2, c3, c4] = ["C1", "C2", "C3", "C4"].map(|n| consumer_id(&s, n));
    let events = run_ms(&mut s, 50);
    assert_eq!(
        sub_view(&s, "t", "s").hash_ranges,
        vec![
            (0, 16_384, c3),
            (16_385, 32_768, c2),
            (32_769, 49_152, c4),
            (49_153, 65_535, c1),
        ]
    );
    // murmur3("Order-3459134") % 65536 = 6067.
    assert_eq!(dispatched_ids(&events, &s, "C3"), vec![0]);
    let _ = run_ms(&mut s, 150);
    // A leaving consumer's range goes to its right neighbour, the topmost to its left one.
    assert_eq!(sub_view(&s, "t", "s").hash_ranges[2], (32_769, 65_535, c4));
    let _ = run_ms(&mut s, 250);
    assert_eq!(sub_view(&s, "t", "s").hash_ranges[0], (0, 32_768, c2));
}

#[test]
fn pul_06_a_key_stays_on_one_consumer_in_order() {
    let keys: Vec<String> = (0..10).map(|k| format!("k{k}")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [keyed("p", "t", &keys, burst_rate(100, 10.0))],
        "consumers": [
            consumer("c1", "t", "s", "key_shared", 3.0),
            consumer("c2", "t", "s", "key_shared", 3.0),
            consumer("c3", "t", "s", "key_shared", 3.0),
        ],
    })));
    let events = run_ms(&mut s, 2_000);
    let mut keys_of = Vec::new();
    for c in ["c1", "c2", "c3"] {
        let got = processed(&events, &s, c);
        let mut mine: Vec<u64> = got.iter().map(|m| m % 10).collect();
        mine.sort_unstable();
        mine.dedup();
        for k in &mine {
            let of_key: Vec<u64> = got.iter().copied().filter(|m| m % 10 == *k).collect();
            assert_eq!(
                of_key,
                (0..10).map(|i| i * 10 + k).collect::<Vec<_>>(),
                "key k{k} at {c}"
            );
        }
        assert!(!mine.is_empty(), "{c} owns some key");
        keys_of.extend(mine);
    }
    keys_of.sort_unstable();
    assert_eq!(
        keys_of,
        (0..10).collect::<Vec<_>>(),
        "each key at exactly one consumer"
    );
}

#[test]
fn pul_06_new_owner_waits_until_the_old_owner_acks_the_key() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(hash_ranges()).with(json!({
        "producers": [keyed("p", "t", &["Order-3459134"], manual_rate())],
        "consumers": [consumer("c1", "t", "s", "key_shared", 2_000.0)],
        "script": [
            at(10.0, cmd::burst("p", 3)),
            at(100.0, cmd::add_consumer(consumer("c2", "t", "s", "key_shared", 1.0))),
            at(200.0, cmd::burst("p", 3)),
        ],
    })));
    let events = run_ms(&mut s, 8_000);
    // c2 takes hashes 0-32768, so hash 6067: its new messages wait for c1's three acks.
    let draining = events_of_type(&events, "pulsar_hash_draining");
    assert_eq!(draining.len(), 1);
    assert_eq!(
        (ms(draining[0].0), draining[0].1["hash"].as_u64()),
        (201.0, Some(6_067))
    );
    let acks: Vec<f64> = events_of_type(&events, "pulsar_acked")
        .iter()
        .map(|(t, _)| ms(*t))
        .collect();
    assert_eq!(&acks[..3], &[2_013.0, 4_013.0, 6_013.0]);
    assert_eq!(
        dispatched(&events, &s, "c2"),
        vec![(6_013.0, 3, 0), (6_013.0, 4, 0), (6_013.0, 5, 0)]
    );
    assert_eq!(processed(&events, &s, "c1"), vec![0, 1, 2]);
    assert_eq!(processed(&events, &s, "c2"), vec![3, 4, 5]);
}

#[test]
fn pul_06_unkeyed_messages_share_the_none_key() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", burst_rate(30, 10.0))],
        "consumers": [
            consumer("c1", "t", "s", "key_shared", 1.0),
            consumer("c2", "t", "s", "key_shared", 1.0),
            consumer("c3", "t", "s", "key_shared", 1.0),
        ],
    })));
    let events = run_ms(&mut s, 1_000);
    let counts: Vec<usize> = ["c1", "c2", "c3"]
        .iter()
        .map(|c| processed(&events, &s, c).len())
        .collect();
    let mut sorted = counts.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        vec![0, 0, 30],
        "all under the key NONE_KEY: {counts:?}"
    );
}

#[test]
fn pul_06_sticky_overlapping_ranges_are_refused() {
    let sticky = |ranges: Value| json!({ "pulsar": { "key_shared_policy": { "mode": "sticky", "ranges": ranges } } });
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "consumers": [
            consumer("c1", "t", "s", "key_shared", 1.0).with(sticky(json!([[0, 32767]]))),
            consumer("c2", "t", "s", "key_shared", 1.0).with(sticky(json!([[30000, 65535]]))),
            consumer("c3", "t", "s", "key_shared", 1.0).with(sticky(json!([[32768, 65535]]))),
        ],
    })));
    let events = run_ms(&mut s, 100);
    let refused = refusals(&events, &s);
    assert_eq!(refused.len(), 1);
    assert_eq!((refused[0].0, refused[0].1.as_str()), (1.0, "c2"));
    assert!(refused[0].2.contains("Range conflict"), "{refused:?}");
    let id = |n: &str| consumer_id(&s, n);
    assert_eq!(
        sub_view(&s, "t", "s").hash_ranges,
        vec![(0, 32_767, id("c1")), (32_768, 65_535, id("c3"))]
    );
}

// ---------------------------------------------------------------- PUL-7

#[test]
fn pul_07_cumulative_ack_is_refused_on_shared_and_key_shared() {
    for kind in ["shared", "key_shared"] {
        let v = json!({ "version": 1 }).with(pulsar(&[("t", 0)])).with(json!({
            "consumers": [consumer("c", "t", "s", kind, 1.0).with(json!({ "pulsar": { "ack": "cumulative" } }))],
        }));
        let e = Scenario::from_json(&v.to_string()).unwrap_err();
        assert_eq!(e.path, "consumers[0].pulsar.ack");
        assert!(e
            .reason
            .contains("Cannot use cumulative acks on a non-exclusive subscription"));
    }
}

#[test]
fn pul_07_cumulative_ack_moves_mark_delete_past_everything_before() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", burst_rate(10, 10.0))],
        "consumers": [consumer("c", "t", "s", "exclusive", 1.0)
            .with(json!({ "ack_batch": 5, "pulsar": { "ack": "cumulative" } }))],
    })));
    let events = run_ms(&mut s, 1_000);
    let acks: Vec<(u64, bool)> = events_of_type(&events, "pulsar_acked")
        .iter()
        .map(|(_, v)| {
            (
                v["entry"].as_u64().unwrap(),
                v["cumulative"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(acks, vec![(4, true), (9, true)]);
    let moves: Vec<i64> = cursor_moves(&events, 0).iter().map(|m| m.1).collect();
    assert_eq!(moves, vec![4, 9]);
}

#[test]
fn pul_07_out_of_order_acks_leave_holes() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "pulsar": { "broker": { "dispatcher_max_round_robin_batch_size": 1 } },
        "producers": [producer("p", "t", burst_rate(6, 10.0))],
        "consumers": [
            consumer("slow", "t", "s", "shared", 10_000.0),
            consumer("fast", "t", "s", "shared", 1.0),
        ],
    })));
    let _ = run_ms(&mut s, 5_000);
    let cursor = &sub_view(&s, "t", "s").partitions[0];
    // slow holds m0, m2, m4; fast acked m1, m3, m5: holes stop the mark-delete position.
    assert_eq!(
        (cursor.mark_delete, cursor.acked.clone()),
        (-1, vec![1, 3, 5])
    );
    let events = run_ms(&mut s, 40_000);
    // Each of slow's acks closes a hole: 10013, 20013, 30013 ms.
    assert_eq!(
        cursor_moves(&events, 0),
        vec![(10_013.0, 1), (20_013.0, 3), (30_013.0, 5)]
    );
}

#[test]
fn pul_07_grouped_acks_are_lost_in_a_crash() {
    // Acks wait for the 100 ms group timer (from the consumer's start at 0 ms).
    let run = |crash_ms: f64| {
        let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
            "producers": [producer("p", "t", burst_rate(1, 10.0))],
            "consumers": [consumer("c", "t", "s", "exclusive", 1.0)
                .with(json!({ "pulsar": { "ack_group_time_ms": 100 } }))],
            "script": [at(crash_ms, cmd::crash("c")), at(200.0, cmd::restart("c"))],
        })));
        let events = run_ms(&mut s, 1_000);
        dispatched(&events, &s, "c")
    };
    // Processed at 13 ms; the crash at 50 ms loses the ack still waiting in the client.
    assert_eq!(run(50.0), vec![(11.0, 0, 0), (201.0, 0, 0)]);
    // Flushed at 100 ms, it reached the broker before a crash at 150 ms.
    assert_eq!(run(150.0), vec![(11.0, 0, 0)]);
}

#[test]
fn pul_07_a_batch_is_one_entry_and_comes_back_whole() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        // Batching is on by default: the burst becomes one entry.
        "producers": [{ "name": "p", "targets": [{ "pulsar_topic": "t" }], "rate": manual_rate() }],
        "consumers": [consumer("c", "t", "s", "shared", 10.0)
            .with(json!({ "pulsar": { "negative_ack_redelivery_delay_ms": 1_000 } }))],
        "script": [at(10.0, cmd::burst("p", 4)), at(10.0, json!({ "poison": { "producer": "p" } }))],
    })));
    let events = run_ms(&mut s, 1_800);
    let stored = entries(&events);
    assert_eq!(stored, (0..5).map(|m| (m, 0, 0, 0)).collect::<Vec<_>>());
    // Sent 1 ms after the first message (batchingMaxPublishDelay), stored 1 ms later.
    assert!(events_of_type(&events, "pulsar_entry_added")
        .iter()
        .all(|(t, _)| ms(*t) == 12.0));
    // The poison message m4 is nacked; its whole batch comes back, m0-m3 included.
    assert_eq!(
        processed(&events, &s, "c"),
        vec![0, 1, 2, 3, 4, 0, 1, 2, 3, 4],
        "{}",
        trace(&events)
    );
    assert_eq!(dropped(&s, DropReason::NoSubscription), 0);
}

// ---------------------------------------------------------------- PUL-8

fn redelivery_requests(events: &[Event]) -> Vec<(f64, u64, String)> {
    events_of_type(events, "pulsar_redelivery_requested")
        .into_iter()
        .map(|(t, v)| {
            let reason = v["reason"].as_str().unwrap().to_string();
            (ms(t), v["entries"].as_u64().unwrap(), reason)
        })
        .collect()
}

#[test]
fn pul_08_nack_redelivers_after_one_minute() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", burst_rate(1, 10.0))],
        "consumers": [consumer("c", "t", "s", "shared", 10.0).with(always_fails())],
    })));
    let events = run_ms(&mut s, 61_000);
    // Nacked at 22 ms; the tracker ticks every 20 s from then and finds it due at 60.022 s.
    assert_eq!(
        redelivery_requests(&events),
        vec![(60_022.0, 1, "nack".into())]
    );
    assert_eq!(
        dispatched(&events, &s, "c"),
        vec![(11.0, 0, 0), (60_023.0, 0, 1)]
    );
}

#[test]
fn pul_08_nack_timer_ticks_every_third_of_the_delay() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", burst_rate(2, 10.0))],
        "consumers": [consumer("c", "t", "s", "shared", 5_000.0).with(always_fails())],
    })));
    let events = run_ms(&mut s, 90_000);
    // m0 nacked at T = 5.012 s, m1 at T + 5 s. Ticks at T + 20, 40, 60, 80 s: m0 is due at the
    // T + 60 s tick, m1 (due T + 65 s) waits for the T + 80 s one.
    let requests = redelivery_requests(&events);
    assert_eq!(
        requests[..2],
        [(65_012.0, 1, "nack".into()), (85_012.0, 1, "nack".into())]
    );
}

#[test]
fn pul_08_nack_backoff_doubles_to_the_cap() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", burst_rate(1, 10.0))],
        "consumers": [consumer("c", "t", "s", "shared", 1.0).with(always_fails()).with(json!({
            "pulsar": { "negative_ack_backoff": { "min_ms": 1_000, "max_ms": 60_000, "multiplier": 2 } }
        }))],
    })));
    let events = run_ms(&mut s, 250_000);
    let sent = dispatched(&events, &s, "c");
    assert!(sent.len() >= 9, "{sent:?}");
    // Between two sends: L + processing + L, then the backoff, then up to one tick (1 s / 3).
    for (i, want_s) in [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
        .iter()
        .enumerate()
    {
        let gap = sent[i + 1].0 - sent[i].0 - 3.0;
        let want = want_s * 1_000.0;
        assert!(
            (want..=want + 1_000.0 / 3.0 + 0.001).contains(&gap),
            "redelivery {} came {gap} ms after, want {want} + up to a tick",
            i + 1
        );
        assert_eq!(sent[i + 1].2, i as u32 + 1);
    }
}

#[test]
fn pul_08_nack_on_exclusive_rewinds_every_unacked_message() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", manual_rate())],
        "consumers": [consumer("c", "t", "s", "exclusive", 2_000.0).with(json!({
            "pulsar": { "receiver_queue_size": 10, "negative_ack_redelivery_delay_ms": 4_500 }
        }))],
        "script": [at(10.0, json!({ "poison": { "producer": "p" } })), at(10.0, cmd::burst("p", 4))],
    })));
    let events = run_ms(&mut s, 12_500);
    // m0 nacked at 2012 ms is due at the third 1.5 s tick, 6512 ms. By then m1, m2 are acked,
    // m3 is being processed and m4 waits in the receiver queue. The client cannot return m0
    // alone on Exclusive: it drops its queue and the cursor rewinds.
    assert_eq!(
        redelivery_requests(&events),
        vec![(6_512.0, 1, "nack".into())]
    );
    let again: Vec<(f64, u64, u32)> = (dispatched(&events, &s, "c").into_iter())
        .filter(|d| d.0 > 6_000.0)
        .collect();
    assert_eq!(
        again[..3],
        [(6_513.0, 0, 0), (6_513.0, 3, 0), (6_513.0, 4, 0)]
    );
    // m3 is finished (a duplicate is on its way); m4's first copy was dropped unprocessed.
    assert_eq!(processed(&events, &s, "c")[..6], [0, 1, 2, 3, 0, 3]);
}

// ---------------------------------------------------------------- PUL-9

#[test]
fn pul_09_no_ack_timeout_by_default() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", burst_rate(1, 10.0))],
        "consumers": [consumer("c", "t", "s", "shared", 1.0)
            .with(always_fails())
            .with(json!({ "pulsar": { "on_failure": "no_ack" } }))],
    })));
    let events = run_ms(&mut s, 600_000);
    assert_eq!(dispatched(&events, &s, "c"), vec![(11.0, 0, 0)]);
    assert_eq!(
        sub_view(&s, "t", "s").unacked,
        1,
        "held until the consumer leaves"
    );
}

#[test]
fn pul_09_ack_timeout_redelivers_within_one_tick_after_the_timeout() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", burst_rate(1, 10.0))],
        "consumers": [consumer("c", "t", "s", "shared", 15_000.0)
            .with(json!({ "pulsar": { "ack_timeout_ms": 10_000 } }))],
    })));
    let events = run_ms(&mut s, 40_000);
    // Received at 12 ms; asked back at the tick in (10.012 s, 11.012 s], while still processing.
    // (The duplicate is asked back too, at 26 s, but the broker has its ack by then.)
    assert_eq!(
        redelivery_requests(&events)[0],
        (11_000.0, 1, "ack_timeout".into())
    );
    assert_eq!(
        dispatched(&events, &s, "c"),
        vec![(11.0, 0, 0), (11_001.0, 0, 1)]
    );
    assert_eq!(processed(&events, &s, "c"), vec![0, 0], "a duplicate");
}

#[test]
fn pul_09_ack_timeout_below_one_second_is_refused() {
    let v = json!({ "version": 1 }).with(pulsar(&[("t", 0)])).with(json!({
        "consumers": [consumer("c", "t", "s", "shared", 1.0).with(json!({ "pulsar": { "ack_timeout_ms": 500 } }))],
    }));
    let e = Scenario::from_json(&v.to_string()).unwrap_err();
    assert_eq!(e.path, "consumers[0].pulsar.ack_timeout_ms");
    assert_eq!(e.reason, "Ack timeout should be greater than 1000 ms");
}

// ---------------------------------------------------------------- PUL-10

fn dead_letter(max: u32) -> Value {
    json!({ "pulsar": {
        "negative_ack_redelivery_delay_ms": 1_000,
        "dead_letter_policy": { "max_redeliver_count": max }
    } })
}

#[test]
fn pul_10_max_redeliver_3_shows_the_message_4_times_then_dlq() {
    let mut s = sim_1ms(pulsar(&[("orders", 0)]).with(json!({
        "producers": [producer("p", "orders", burst_rate(1, 10.0))],
        "consumers": [consumer("c", "orders", "billing", "shared", 1.0)
            .with(always_fails())
            .with(dead_letter(3))],
    })));
    let events = run_ms(&mut s, 10_000);
    let counts: Vec<u32> = dispatched(&events, &s, "c").iter().map(|d| d.2).collect();
    assert_eq!(counts, vec![0, 1, 2, 3], "seen four times");
    let dlq = events_of_type(&events, "pulsar_dead_lettered");
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0].1["redelivery_count"], 3);
    let topic = topic_view(&s, "orders-billing-DLQ");
    assert_eq!(dlq[0].1["dead_letter_topic"], topic.id);
    assert_eq!(s.ledger().dead_letter_copies, 1);
    assert_eq!(
        sub_view(&s, "orders", "billing").backlog,
        0,
        "acked after the DLQ send"
    );
    // No subscription on the dead-letter topic: its copy is at once marked for deletion.
    assert!(topic.subscriptions.is_empty());
    assert_eq!(topic.partitions[0].marked_for_deletion, 1);
}

#[test]
fn pul_10_initial_subscription_keeps_the_dlq_message() {
    let mut s = sim_1ms(pulsar(&[("orders", 0)]).with(json!({
        "producers": [producer("p", "orders", burst_rate(1, 10.0))],
        "consumers": [consumer("c", "orders", "billing", "shared", 1.0)
            .with(always_fails())
            .with(dead_letter(3))
            .with(json!({ "pulsar": { "dead_letter_policy": { "initial_subscription_name": "dlq" } } }))],
    })));
    let _ = run_ms(&mut s, 10_000);
    assert_eq!(sub_view(&s, "orders-billing-DLQ", "dlq").backlog, 1);
    assert_eq!(
        topic_view(&s, "orders-billing-DLQ").partitions[0].marked_for_deletion,
        0
    );
}

#[test]
fn pul_10_a_crash_does_not_count_as_a_redelivery() {
    let mut script = Vec::new();
    for i in 0..5 {
        script.push(at(50.0 + 100.0 * f64::from(i), cmd::crash("c")));
        script.push(at(100.0 + 100.0 * f64::from(i), cmd::restart("c")));
    }
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", burst_rate(1, 10.0))],
        "consumers": [consumer("c", "t", "s", "shared", 100.0).with(dead_letter(1))],
        "script": script,
    })));
    let events = run_ms(&mut s, 1_000);
    let counts: Vec<u32> = dispatched(&events, &s, "c").iter().map(|d| d.2).collect();
    assert_eq!(counts, vec![0; 6]);
    assert!(events_of_type(&events, "pulsar_dead_lettered").is_empty());
    assert_eq!(
        processed(&events, &s, "c"),
        vec![0],
        "only the last try finished"
    );
}

#[test]
fn pul_10_redelivery_count_resets_when_the_last_consumer_leaves() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", burst_rate(1, 10.0))],
        "consumers": [consumer("c", "t", "s", "shared", 1.0).with(always_fails()).with(json!({
            "pulsar": { "negative_ack_redelivery_delay_ms": 300 }
        }))],
        "script": [at(700.0, cmd::crash("c")), at(800.0, cmd::restart("c"))],
    })));
    let events = run_ms(&mut s, 820);
    let sent = dispatched(&events, &s, "c");
    // Nacked at 13, 316 and 619 ms, each due 300 ms later on the 100 ms tick.
    assert_eq!(
        sent,
        vec![(11.0, 0, 0), (314.0, 0, 1), (617.0, 0, 2), (801.0, 0, 0)]
    );
}

#[test]
fn pul_10_dead_letter_policy_is_refused_on_exclusive_and_failover() {
    for kind in ["exclusive", "failover"] {
        let v = json!({ "version": 1 })
            .with(pulsar(&[("t", 0)]))
            .with(json!({
                "consumers": [consumer("c", "t", "s", kind, 1.0).with(dead_letter(3))],
            }));
        let e = Scenario::from_json(&v.to_string()).unwrap_err();
        assert_eq!(e.path, "consumers[0].pulsar.dead_letter_policy", "{kind}");
    }
}

// ---------------------------------------------------------------- PUL-11

#[test]
fn pul_11_shared_crash_moves_unacked_to_the_other_consumer_for_good() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", burst_rate(3, 10.0))],
        "consumers": [
            consumer("A", "t", "s", "shared", 10_000.0).with(json!({ "pulsar": { "receiver_queue_size": 3 } })),
            consumer("B", "t", "s", "shared", 1.0),
        ],
        "script": [at(100.0, cmd::crash("A")), at(200.0, cmd::restart("A"))],
    })));
    let events = run_ms(&mut s, 30_000);
    assert_eq!(dispatched_ids(&events, &s, "A"), vec![0, 1, 2]);
    // semantics.md's test: B gets m1-m3 (here m0-m2) at once, and A none of them back.
    assert_eq!(
        dispatched(&events, &s, "B"),
        vec![(101.0, 0, 0), (101.0, 1, 0), (101.0, 2, 0)]
    );
    assert_eq!(processed(&events, &s, "B"), vec![0, 1, 2]);
}

#[test]
fn pul_11_key_shared_crash_reassigns_keys() {
    // Two consumers split the hashes: "red" (9981) is c2's, "blue" (61699) c1's.
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(hash_ranges()).with(json!({
        "producers": [keyed("p", "t", &["red", "blue"], manual_rate())],
        "consumers": [
            consumer("c1", "t", "s", "key_shared", 1_000.0),
            consumer("c2", "t", "s", "key_shared", 1.0),
        ],
        "script": [
            at(10.0, cmd::burst("p", 6)),
            at(500.0, cmd::crash("c1")),
            at(600.0, cmd::burst("p", 2)),
        ],
    })));
    let events = run_ms(&mut s, 2_000);
    assert_eq!(dispatched_ids(&events, &s, "c1"), vec![1, 3, 5]);
    // c1's unacked blue messages and the later ones go to c2, in order.
    assert_eq!(
        dispatched(&events, &s, "c2"),
        vec![
            (11.0, 0, 0),
            (11.0, 2, 0),
            (11.0, 4, 0),
            (501.0, 1, 0),
            (501.0, 3, 0),
            (501.0, 5, 0),
            (601.0, 6, 0),
            (601.0, 7, 0)
        ]
    );
}

#[test]
fn pul_11_crash_redelivery_ignores_the_nack_delay() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", manual_rate())],
        "consumers": [
            consumer("A", "t", "s", "shared", 1.0),
            consumer("B", "t", "s", "shared", 1.0),
        ],
        "script": [at(10.0, json!({ "poison": { "producer": "p" } })), at(5_000.0, cmd::crash("A"))],
    })));
    let events = run_ms(&mut s, 5_100);
    // A nacked m0 at 13 ms (1 min delay); its crash returns m0 at once, count unchanged.
    assert_eq!(dispatched(&events, &s, "A"), vec![(11.0, 0, 0)]);
    assert_eq!(dispatched(&events, &s, "B"), vec![(5_001.0, 0, 0)]);
}

// ---------------------------------------------------------------- PUL-12

#[test]
fn pul_12_acked_by_one_subscription_stays_for_the_other() {
    let mut s = sim_1ms(json!({
        "pulsar": {
            "topics": [{ "name": "t" }],
            "subscriptions": [{ "topic": "t", "name": "S1" }, { "topic": "t", "name": "S2" }]
        },
        "producers": [producer("p", "t", burst_rate(1, 10.0))],
        "consumers": [
            consumer("c1", "t", "S1", "exclusive", 1.0),
            consumer("c2", "t", "S2", "exclusive", 1.0).with(json!({ "stopped": true })),
        ],
        "script": [at(1_000.0, cmd::restart("c2"))],
    }));
    let _ = run_ms(&mut s, 500);
    // semantics.md's test: acked by S1 only, m1 stays stored with S2's backlog at 1.
    assert_eq!(sub_view(&s, "t", "S1").backlog, 0);
    assert_eq!(sub_view(&s, "t", "S2").backlog, 1);
    assert_eq!(topic_view(&s, "t").partitions[0].marked_for_deletion, 0);
    let _ = run_ms(&mut s, 1_500);
    assert_eq!(sub_view(&s, "t", "S2").backlog, 0);
    assert_eq!(topic_view(&s, "t").partitions[0].marked_for_deletion, 1);
    assert_eq!(
        s.ledger().retained,
        1,
        "marked, not deleted: its ledger is still open"
    );
}

#[test]
fn pul_12_no_subscription_keeps_only_the_current_ledger() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "pulsar": { "broker": { "ledger_max_entries": 4, "ledger_min_rollover_ms": 0 } },
        "producers": [producer("p", "t", burst_rate(10, 10.0))],
        "script": [at(100.0, cmd::add_consumer(consumer("late", "t", "s", "exclusive", 1.0)
            .with(json!({ "source": { "pulsar": { "initial_position": "earliest" } } }))))],
    })));
    let events = run_ms(&mut s, 1_000);
    // Each closed ledger goes as it closes; the current one (m8, m9) stays.
    let lost: Vec<u64> = pick(&events, |e| match &e.kind {
        EventKind::Dropped {
            msg,
            reason: DropReason::NoSubscription,
        } => Some(msg.0),
        _ => None,
    });
    assert_eq!(lost, (0..8).collect::<Vec<_>>());
    assert!(events_of_type(&events, "dropped")
        .iter()
        .all(|(t, _)| ms(*t) == 11.0));
    assert_eq!(
        dispatched_ids(&events, &s, "late"),
        vec![8, 9],
        "earliest = first stored"
    );
    assert_eq!(s.ledger().retained, 2);
}

#[test]
fn pul_12_retention_keeps_acked_messages_for_a_replay() {
    let mut s = sim_1ms(json!({
        "pulsar": {
            "broker": { "ledger_max_entries": 4, "ledger_min_rollover_ms": 0 },
            "topics": [{ "name": "t", "retention": { "time_ms": 60_000, "size_bytes": -1 } }]
        },
        "producers": [producer("p", "t", burst_rate(8, 0.0))],
        "consumers": [consumer("c", "t", "s", "exclusive", 1.0)],
        "script": [at(30_000.0, json!({ "reset_cursor": { "topic": "t", "subscription": "s", "to": "earliest" } }))],
    }));
    let events = run_ms(&mut s, 200_000);
    // Acked within milliseconds, still stored at 30 s: the reset replays all of them.
    let again: Vec<(f64, u64)> = (dispatched(&events, &s, "c").into_iter())
        .filter(|d| d.0 > 1_000.0)
        .map(|d| (d.0, d.1))
        .collect();
    assert_eq!(again, (0..8).map(|m| (30_002.0, m)).collect::<Vec<_>>());
    // Both ledgers closed at 1 ms; retention lets them go after 60 s, at the next check of
    // the 120 s grid: none at 60 s.
    let trimmed: Vec<f64> = events_of_type(&events, "pulsar_ledger_trimmed")
        .iter()
        .map(|(t, _)| ms(*t))
        .collect();
    assert_eq!(trimmed, vec![120_000.0, 120_000.0]);
    let l = s.ledger();
    assert_eq!((l.removed_by_retention, l.acked, l.retained), (8, 0, 0));
}

#[test]
fn pul_12_ttl_acks_only_at_the_expiry_check() {
    let mut s = sim_1ms(json!({
        "pulsar": {
            "broker": { "ledger_max_entries": 2, "ledger_min_rollover_ms": 0 },
            "topics": [{ "name": "t", "ttl_ms": 60_000 }],
            "subscriptions": [{ "topic": "t", "name": "S" }]
        },
        "producers": [producer("p", "t", burst_rate(5, 0.0))],
    }));
    let _ = run_ms(&mut s, 299_999);
    assert_eq!(
        sub_view(&s, "t", "S").backlog,
        5,
        "older than the TTL, not yet checked"
    );
    let events = run_ms(&mut s, 300_000);
    let ttl = events_of_type(&events, "pulsar_ttl_expired");
    assert_eq!(ttl.len(), 1);
    assert_eq!(
        (ms(ttl[0].0), ttl[0].1["entries"].as_u64()),
        (300_000.0, Some(5))
    );
    assert_eq!(sub_view(&s, "t", "S").backlog, 0);
    // The two closed ledgers go at once: their messages expired, they were not acked.
    let l = s.ledger();
    assert_eq!((l.expired, l.acked, l.retained), (4, 0, 1));
}

// ---------------------------------------------------------------- PUL-13

fn reset(sub: &str, to: Value) -> Value {
    json!({ "reset_cursor": { "topic": "t", "subscription": sub, "to": to } })
}

fn positioned(name: &str, sub: &str, position: &str) -> Value {
    consumer(name, "t", sub, "exclusive", 1.0)
        .with(json!({ "source": { "pulsar": { "initial_position": position } } }))
}

#[test]
fn pul_13_latest_earliest_and_seek_earliest() {
    let mut s = sim_1ms(json!({
        "pulsar": { "topics": [{ "name": "t", "retention": { "time_ms": -1, "size_bytes": -1 } }] },
        "producers": [producer("p", "t", manual_rate())],
        "script": [
            at(10.0, cmd::burst("p", 3)),
            at(100.0, cmd::add_consumer(positioned("cl", "L", "latest"))),
            at(100.0, cmd::add_consumer(positioned("ce", "E", "earliest"))),
            at(200.0, cmd::burst("p", 1)),
            at(300.0, reset("E", json!("earliest"))),
        ],
    }));
    let events = run_ms(&mut s, 1_000);
    // semantics.md's test: Latest gives m4 only (here m3), Earliest m1-m4, and a seek to the
    // earliest delivers them all again.
    assert_eq!(dispatched_ids(&events, &s, "cl"), vec![3]);
    assert_eq!(
        dispatched_ids(&events, &s, "ce"),
        vec![0, 1, 2, 3, 0, 1, 2, 3]
    );
}

#[test]
fn pul_13_initial_position_applies_only_at_creation() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", manual_rate())],
        "consumers": [positioned("c", "S", "earliest")],
        "script": [
            at(100.0, cmd::remove_consumer("c")),
            at(200.0, cmd::burst("p", 3)),
            at(300.0, cmd::add_consumer(positioned("c2", "S", "latest"))),
        ],
    })));
    let events = run_ms(&mut s, 1_000);
    assert_eq!(
        dispatched_ids(&events, &s, "c2"),
        vec![0, 1, 2],
        "the cursor wins"
    );
}

#[test]
fn pul_13_reset_clears_individual_acks_after_the_target() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "pulsar": { "broker": { "dispatcher_max_round_robin_batch_size": 1 } },
        "producers": [producer("p", "t", burst_rate(4, 10.0))],
        "consumers": [
            consumer("slow", "t", "S", "shared", 10_000.0).with(json!({ "pulsar": { "receiver_queue_size": 1 } })),
            consumer("fast", "t", "S", "shared", 1.0),
        ],
        "script": [at(1_000.0, reset("S", json!({ "entry": 1 })))],
    })));
    let _ = run_ms(&mut s, 999);
    let cursor = &sub_view(&s, "t", "S").partitions[0];
    assert_eq!(
        (cursor.mark_delete, cursor.acked.clone()),
        (-1, vec![1, 2, 3])
    );
    let events = run_ms(&mut s, 2_000);
    // Mark-delete goes just before entry 1 (so m0 counts as acked) and the individual acks of
    // m1-m3 are forgotten: they come again, to the reconnected consumers.
    assert_eq!(cursor_moves(&events, 0)[0], (1_000.0, 0));
    let mut again = [
        dispatched_ids(&events, &s, "slow"),
        dispatched_ids(&events, &s, "fast"),
    ]
    .concat();
    again.sort_unstable();
    assert_eq!(again, vec![1, 2, 3]);
}

#[test]
fn pul_13_reset_cursor_reaches_all_consumers_of_that_subscription_only() {
    let mut s = sim_1ms(pulsar(&[("t", 0)]).with(json!({
        "producers": [producer("p", "t", manual_rate())],
        "consumers": [
            consumer("c1", "t", "S", "shared", 1.0),
            consumer("c2", "t", "S", "shared", 1.0),
            consumer("c3", "t", "T", "exclusive", 1.0),
        ],
        "script": [
            at(10.0, cmd::burst("p", 5)),
            at(1_000.0, cmd::burst("p", 5)),
            at(2_000.0, reset("S", json!({ "timestamp_ms": 500 }))),
        ],
    })));
    let events = run_ms(&mut s, 3_000);
    let later = |c: &str| -> Vec<u64> {
        let mut v: Vec<u64> = (dispatched(&events, &s, c).into_iter())
            .filter(|d| d.0 > 2_000.0)
            .map(|d| d.1)
            .collect();
        v.sort_unstable();
        v
    };
    let mut s_again = [later("c1"), later("c2")].concat();
    s_again.sort_unstable();
    assert_eq!(s_again, vec![5, 6, 7, 8, 9], "published at or after 500 ms");
    assert!(later("c3").is_empty(), "T is not touched");
    assert_eq!(processed(&events, &s, "c3").len(), 10);
}

// ---------------------------------------------------------------- PUL-14

/// The partition each message went to, in publish order.
fn partitions_of(events: &[Event], topic: u32) -> Vec<u32> {
    entries(events)
        .into_iter()
        .filter(|e| e.1 == topic)
        .map(|e| e.2)
        .collect()
}

#[test]
fn pul_14_java_string_hash_partitions_key1() {
    let run = |scheme: &str| {
        let mut s = sim_1ms(pulsar(&[("a", 3), ("b", 4), ("c", 5)]).with(json!({
            "producers": [{
                "name": "p",
                "targets": [{ "pulsar_topic": "a" }, { "pulsar_topic": "b" }, { "pulsar_topic": "c" }],
                "rate": burst_rate(1, 10.0),
                "message": { "keys": ["key1"] },
                "pulsar": { "batching": { "enabled": false }, "hashing_scheme": scheme }
            }],
        })));
        let events = run_ms(&mut s, 100);
        (0..3)
            .map(|t| partitions_of(&events, t)[0])
            .collect::<Vec<_>>()
    };
    // semantics.md: "key1" hashes to 3288498: partition 0 of 3, 2 of 4, 3 of 5.
    assert_eq!(run("java_string_hash"), vec![0, 2, 3]);
    assert_eq!(run("murmur3_32"), vec![0, 1, 1], "murmur3: 462881061");
}

#[test]
fn pul_14_unkeyed_round_robin_switches_every_10_ms_with_batching() {
    let run = |batching: bool| {
        let mut s = sim_1ms(pulsar(&[("t", 4)]).with(json!({
            "producers": [{
                "name": "p", "targets": [{ "pulsar_topic": "t" }],
                "rate": constant_rate(1_000.0), "limit": 20,
                "pulsar": { "batching": { "enabled": batching } }
            }],
        })));
        let events = run_ms(&mut s, 100);
        partitions_of(&events, 0)
    };
    // Published at 1..20 ms from a random start partition: one partition per 10 ms window.
    let with = run(true);
    let start = with[0];
    assert_eq!(
        with,
        (1..=20).map(|t| (t / 10 + start) % 4).collect::<Vec<_>>()
    );
    // Without batching, each message moves to the next partition.
    let without = run(false);
    let start = without[0];
    assert_eq!(
        without,
        (0..20).map(|i| (start + i) % 4).collect::<Vec<_>>()
    );
}

#[test]
fn pul_14_single_partition_routes_all_unkeyed_to_one_partition() {
    let single = json!({ "pulsar": { "batching": { "enabled": false }, "routing_mode": "single_partition" } });
    let mut s = sim_1ms(pulsar(&[("t", 4)]).with(json!({
        "producers": [
            producer("p", "t", burst_rate(10, 10.0)).with(single.clone()),
            keyed("k", "t", &["key1"], burst_rate(3, 20.0)).with(single),
        ],
    })));
    let events = run_ms(&mut s, 100);
    let parts = partitions_of(&events, 0);
    assert!(parts[..10].iter().all(|p| *p == parts[0]), "{parts:?}");
    assert_eq!(&parts[10..], &[2, 2, 2], "keyed messages are still hashed");
}

#[test]
fn pul_14_order_holds_per_key_within_its_partition() {
    let keys: Vec<String> = (0..6).map(|k| format!("k{k}")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let mut s = sim_1ms(pulsar(&[("t", 3)]).with(json!({
        "producers": [keyed("p", "t", &keys, burst_rate(60, 10.0))],
        "consumers": [consumer("c", "t", "s", "exclusive", 1.0)],
    })));
    let events = run_ms(&mut s, 2_000);
    let stored = entries(&events);
    let got = processed(&events, &s, "c");
    for k in 0..6u64 {
        let of_key: Vec<u64> = got.iter().copied().filter(|m| m % 6 == k).collect();
        assert_eq!(
            of_key,
            (0..10).map(|i| i * 6 + k).collect::<Vec<_>>(),
            "k{k} in order"
        );
        let mut parts: Vec<u32> = (stored.iter())
            .filter(|e| e.0 % 6 == k)
            .map(|e| e.2)
            .collect();
        parts.dedup();
        assert_eq!(parts.len(), 1, "k{k} on one partition");
    }
    assert_ne!(
        got,
        (0..60).collect::<Vec<_>>(),
        "no order across partitions"
    );
}
