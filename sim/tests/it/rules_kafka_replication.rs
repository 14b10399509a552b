//! KAF-19..KAF-26: Kafka replication and broker failure (`reference/semantics.md` §2.5). Brokers
//! crash and restart by command; the controller fences a crashed broker after
//! `broker.session.timeout.ms` and elects new leaders. Every hop takes 10 ms here, so a record
//! appended at t reaches the followers at t+10 and the HW at t+20.

use crate::helpers::{
    apply, burst_rate, events_of_type, group_member, manual_rate, run_file, run_ms, sim_of, trace,
    With,
};
use broker_sim::{DropReason, Event, EventKind, Simulation};
use serde_json::{json, Value};

/// A scenario with a cluster of `brokers` and one one-partition topic `t` replicated `rf` times.
fn cluster(brokers: u32, rf: u32, topic: Value) -> Value {
    json!({
        "version": 1, "latency_ms": 10,
        "kafka": { "brokers": brokers },
        "topics": [json!({ "name": "t", "replication_factor": rf }).with(topic)],
    })
}

fn producer(name: &str, kafka: Value) -> Value {
    json!({ "name": name, "targets": [{ "topic": "t" }], "rate": manual_rate(), "kafka": kafka })
}

fn crash(broker: u32) -> Value {
    json!({ "crash_kafka_broker": { "broker": broker } })
}

fn restart(broker: u32) -> Value {
    json!({ "restart_kafka_broker": { "broker": broker } })
}

fn burst(producer: &str, count: u64) -> Value {
    json!({ "burst": { "producer": producer, "count": count } })
}

/// (ms, JSON) of the events whose `type` is `ty`.
fn of(events: &[Event], ty: &str) -> Vec<(u64, Value)> {
    events_of_type(events, ty)
        .into_iter()
        .map(|(t, v)| (t.micros() / 1000, v))
        .collect()
}

/// (ms, offset) of each produce acknowledgement.
fn acks(events: &[Event]) -> Vec<(u64, i64)> {
    of(events, "kafka_produce_acked")
        .into_iter()
        .map(|(t, v)| (t, v["offset"].as_i64().unwrap()))
        .collect()
}

/// (ms, partition, offset, msg) of each record a group member processed.
fn processed(events: &[Event]) -> Vec<(u64, u64, u64)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::RecordProcessed { offset, msg, .. } => {
                Some((e.time.micros() / 1000, *offset, msg.0))
            }
            _ => None,
        })
        .collect()
}

fn dropped(s: &Simulation, reason: DropReason) -> u64 {
    crate::helpers::dropped(s, reason)
}

fn run(s: &mut Simulation, script: &[(f64, Value)], until_ms: u64) -> Vec<Event> {
    let mut events = Vec::new();
    for (ms, command) in script {
        events.extend(run_ms(s, *ms as u64));
        apply(s, command.clone());
    }
    events.extend(run_ms(s, until_ms));
    events
}

#[test]
fn kaf_19_isr_drops_a_follower_behind_for_the_lag_time_and_takes_it_back() {
    // The controller is slow to notice (60 s), so the leader's own lag check acts first.
    let mut s = sim_of(cluster(3, 3, json!({})).with(json!({
        "kafka": { "brokers": 3, "replica_lag_time_max_ms": 10000, "broker_session_timeout_ms": 60000 },
        "producers": [producer("p", json!({}))],
    })));
    let events = run(
        &mut s,
        &[
            (1000.0, crash(2)),
            (2000.0, burst("p", 1)),
            (20000.0, restart(2)),
        ],
        21000,
    );
    // b2 last caught up at its fetch at 10 ms; the check runs every 5 s: at 15 s it is 14.99 s
    // behind, more than 10 s.
    let shrunk = of(&events, "kafka_isr_shrunk");
    assert_eq!(shrunk.len(), 1, "{}", trace(&events));
    assert_eq!(shrunk[0].0, 15000);
    assert_eq!(shrunk[0].1["broker"], 2);
    assert_eq!(shrunk[0].1["isr"], json!([0, 1]));
    // Back at 20 s: its fetch (20.01 s, offset 0) is below the HW 1, its next (20.03 s) reaches it.
    let expanded = of(&events, "kafka_isr_expanded");
    assert_eq!(expanded.len(), 1);
    assert_eq!(expanded[0].0, 20030);
    assert_eq!(expanded[0].1["isr"], json!([0, 1, 2]));
    // acks=all waited for every ISR member: the record was acked when b2 left.
    assert_eq!(acks(&events), vec![(15000, 0)]);
}

fn slow(broker: u32, delay_ms: f64) -> Value {
    json!({ "slow_kafka_broker": { "broker": broker, "delay_ms": delay_ms } })
}

#[test]
fn kaf_19_a_slowed_follower_leaves_the_isr_and_acks_all_stops_waiting_for_it() {
    let kafka = json!({ "brokers": 3, "replica_lag_time_max_ms": 10000, "broker_session_timeout_ms": 60000 });
    let scenario = cluster(3, 3, json!({})).with(json!({
        "kafka": kafka,
        "producers": [producer("p", json!({}))],
    }));
    let script = |slowed: bool| {
        let mut script = vec![(2000.0, burst("p", 1)), (3000.0, burst("p", 1))];
        if slowed {
            script.insert(0, (1000.0, slow(2, 15000.0)));
        }
        script
    };
    // Not slowed: each record is appended 10 ms after its send and acked 20 ms later.
    let mut s = sim_of(scenario.clone());
    let events = run(&mut s, &script(false), 33000);
    assert_eq!(acks(&events), vec![(2030, 0), (3030, 1)]);
    assert!(of(&events, "kafka_isr_shrunk").is_empty());
    // b2 slowed by 15 s at 1 s. Its waiting fetch takes record 0 at once, but its next one
    // leaves 15 s later, so record 1 waits: acks=all waits for every ISR member. The lag check
    // at 15 s finds b2 behind since its last caught-up fetch (near 0 s), more than 10 s, and
    // drops it; record 1 is acked at once. b2's late fetch (17.03 s) is answered, and the one
    // after (32.05 s) finds it caught up: it rejoins.
    let mut s = sim_of(scenario);
    let events = run(&mut s, &script(true), 33000);
    assert_eq!(
        acks(&events),
        vec![(2030, 0), (15000, 1)],
        "{}",
        trace(&events)
    );
    let shrunk = of(&events, "kafka_isr_shrunk");
    assert_eq!(shrunk.len(), 1);
    assert_eq!((shrunk[0].0, &shrunk[0].1["broker"]), (15000, &json!(2)));
    let expanded = of(&events, "kafka_isr_expanded");
    assert_eq!(expanded.len(), 1);
    assert_eq!(expanded[0].0, 32050);
    assert_eq!(expanded[0].1["isr"], json!([0, 1, 2]));
}

#[test]
fn kaf_19_slowing_names_a_broker_of_the_cluster_and_a_sane_delay() {
    let mut s = sim_of(cluster(3, 3, json!({})));
    for bad in [slow(3, 100.0), slow(0, -1.0), slow(0, 1e12)] {
        let command = serde_json::from_value(bad.clone()).unwrap();
        assert!(s.apply(command).is_err(), "{bad}");
    }
    assert!(s
        .apply(serde_json::from_value(slow(1, 0.0)).unwrap())
        .is_ok());
}

#[test]
fn kaf_20_consumers_see_only_records_below_the_high_watermark() {
    let mut s = sim_of(cluster(2, 2, json!({})).with(json!({
        "producers": [producer("p", json!({}))],
        "groups": [{ "name": "g", "topics": ["t"], "auto_offset_reset": "earliest" }],
        "consumers": [group_member("c", "g", 1.0)],
    })));
    let events = run(&mut s, &[(500.0, crash(1)), (1000.0, burst("p", 1))], 12000);
    let appended: Vec<u64> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Appended { .. }))
        .map(|e| e.time.micros() / 1000)
        .collect();
    assert_eq!(appended, vec![1010]);
    // Only on the leader until the controller fences b1 (0.5 s + 9 s): then the HW moves to 1.
    assert_eq!(of(&events, "kafka_broker_fenced")[0].0, 9500);
    let p = processed(&events);
    assert_eq!(p.len(), 1, "{}", trace(&events));
    assert!(p[0].0 > 9500, "{p:?}");
    assert_eq!(acks(&events), vec![(9500, 0)]);
}

#[test]
fn kaf_21_acks_0_1_all_answer_at_send_at_append_and_at_the_high_watermark() {
    let mut s = sim_of(cluster(3, 3, json!({})).with(json!({
        "producers": [
            producer("zero", json!({ "acks": "0" })),
            producer("one", json!({ "acks": "1" })),
            producer("all", json!({ "acks": "all" })),
        ],
    })));
    let events = run(
        &mut s,
        &[
            (100.0, burst("zero", 1)),
            (200.0, burst("one", 1)),
            (300.0, burst("all", 1)),
        ],
        1000,
    );
    // acks=0: offset −1 at once; acks=1 at the leader's append; acks=all two hops later.
    assert_eq!(acks(&events), vec![(110, -1), (210, 1), (330, 2)]);
}

#[test]
fn kaf_21_acks_1_loses_what_the_leader_had_not_replicated() {
    let mut s = sim_of(cluster(3, 3, json!({})).with(json!({
        "producers": [producer("one", json!({ "acks": "1" }))],
    })));
    // Five records appended and acked at 110 ms. The waiting followers are sent the first at
    // once; the leader dies at 115 ms, before their next fetch takes the other four.
    let events = run(
        &mut s,
        &[(100.0, burst("one", 5)), (115.0, crash(0))],
        20000,
    );
    assert_eq!(acks(&events), (0..5).map(|o| (110, o)).collect::<Vec<_>>());
    let elected = of(&events, "kafka_leader_elected");
    assert_eq!(elected.len(), 1);
    assert_eq!((elected[0].0, &elected[0].1["leader"]), (9115, &json!(1)));
    assert_eq!(elected[0].1["clean"], true);
    let lost: Vec<(u64, Value)> = of(&events, "kafka_lost_on_failover")
        .into_iter()
        .map(|(t, v)| (t, v["offset"].clone()))
        .collect();
    assert_eq!(lost, (1..5).map(|o| (9115, json!(o))).collect::<Vec<_>>());
    assert_eq!(dropped(&s, DropReason::LostOnFailover), 4);
    // The old leader truncates its copy when it rejoins.
    let events = run(&mut s, &[(21000.0, restart(0))], 22000);
    let cut = of(&events, "kafka_replica_truncated");
    assert_eq!(cut.len(), 1);
    assert_eq!(
        (cut[0].1["broker"].clone(), cut[0].1["to"].clone()),
        (json!(0), json!(1))
    );
}

#[test]
fn kaf_21_acks_all_keeps_the_records_through_the_same_failure() {
    let mut s = sim_of(cluster(3, 3, json!({})).with(json!({
        "producers": [producer("all", json!({ "acks": "all" }))],
        "groups": [{ "name": "g", "topics": ["t"], "auto_offset_reset": "earliest" }],
        "consumers": [group_member("c", "g", 1.0)],
    })));
    let events = run(
        &mut s,
        &[(100.0, burst("all", 5)), (115.0, crash(0))],
        20000,
    );
    // Never acked by the dead leader: its four unreplicated copies are truncated, and the
    // producer's retries land on the new leader; the retry of the replicated one is recognised.
    assert_eq!(dropped(&s, DropReason::LostOnFailover), 0);
    assert_eq!(dropped(&s, DropReason::TruncatedOnElection), 4);
    assert_eq!(dropped(&s, DropReason::Deduplicated), 1);
    let mut a: Vec<i64> = acks(&events).iter().map(|(_, o)| *o).collect();
    a.sort_unstable();
    assert_eq!(a, vec![0, 1, 2, 3, 4], "{}", trace(&events));
    assert!(acks(&events).iter().all(|(t, _)| *t >= 9115));
    let p: Vec<(u64, u64)> = processed(&events)
        .iter()
        .map(|(_, o, m)| (*o, *m))
        .collect();
    assert_eq!(p, (0..5).map(|i| (i, i)).collect::<Vec<_>>());
}

/// RF 3, `min.insync.replicas` 2: both followers die at 15 ms, after the append at 10 ms and
/// before they fetch it.
fn min_isr_2(kafka: Value) -> Simulation {
    sim_of(
        cluster(3, 3, json!({ "min_insync_replicas": 2 })).with(json!({
            "producers": [producer("p", kafka)],
            "groups": [{ "name": "g", "topics": ["t"], "auto_offset_reset": "earliest" }],
            "consumers": [group_member("c", "g", 1.0)],
        })),
    )
}

#[test]
fn kaf_22_not_enough_replicas_refuses_the_write() {
    let mut s = min_isr_2(json!({ "retries": 0 }));
    let events = run(
        &mut s,
        &[(0.0, crash(1)), (0.0, crash(2)), (10000.0, burst("p", 1))],
        11000,
    );
    let failed = of(&events, "kafka_produce_failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0, 10010);
    assert_eq!(failed[0].1["error"], "not_enough_replicas");
    assert_eq!(failed[0].1["retry"], false);
    assert_eq!(dropped(&s, DropReason::DeliveryTimeout), 1);
    assert!(events
        .iter()
        .all(|e| !matches!(e.kind, EventKind::Appended { .. })));
}

#[test]
fn kaf_22_not_enough_replicas_after_append_and_a_retry_duplicates() {
    let mut s = min_isr_2(json!({ "enable_idempotence": false }));
    let events = run(
        &mut s,
        &[
            (0.0, burst("p", 1)),
            (15.0, crash(1)),
            (15.0, crash(2)),
            (9500.0, restart(1)),
        ],
        12000,
    );
    let failed = of(&events, "kafka_produce_failed");
    assert_eq!(failed[0].0, 9015, "{}", trace(&events));
    assert_eq!(failed[0].1["error"], "not_enough_replicas_after_append");
    assert!(failed[1..]
        .iter()
        .all(|(_, v)| v["error"] == "not_enough_replicas"));
    // The retry lands once b1 is back in the ISR: the record is in the log twice.
    assert_eq!(of(&events, "kafka_isr_expanded")[0].0, 9530);
    assert_eq!(acks(&events), vec![(9635, 1)]);
    let p = processed(&events);
    assert_eq!(
        p.iter().map(|(_, o, m)| (*o, *m)).collect::<Vec<_>>(),
        vec![(0, 0), (1, 0)]
    );
}

#[test]
fn kaf_23_clean_election_picks_the_first_live_isr_replica() {
    let mut s = sim_of(cluster(3, 3, json!({})));
    let events = run(&mut s, &[(100.0, crash(0))], 10000);
    let elected = of(&events, "kafka_leader_elected");
    assert_eq!(elected.len(), 1);
    assert_eq!(elected[0].0, 9100);
    assert_eq!(
        (
            &elected[0].1["leader"],
            &elected[0].1["epoch"],
            &elected[0].1["clean"]
        ),
        (&json!(1), &json!(1), &json!(true))
    );
    let shrunk = of(&events, "kafka_isr_shrunk");
    assert_eq!(shrunk[0].1["isr"], json!([1, 2]));
}

/// RF 2: b1 dies and leaves the ISR; the leader b0 takes 3 acked records alone, then dies too;
/// b1 comes back.
fn last_isr_member_dies(unclean: bool) -> (Simulation, Vec<Event>) {
    let mut s = sim_of(
        cluster(2, 2, json!({ "unclean_leader_election_enable": unclean })).with(json!({
            "producers": [producer("p", json!({}))],
        })),
    );
    let events = run(
        &mut s,
        &[
            (0.0, crash(1)),
            (10000.0, burst("p", 3)),
            (11000.0, crash(0)),
            (12000.0, restart(1)),
        ],
        30000,
    );
    (s, events)
}

#[test]
fn kaf_23_with_no_live_isr_member_the_partition_goes_offline() {
    let (s, events) = last_isr_member_dies(false);
    assert_eq!(acks(&events).len(), 3);
    let elected = of(&events, "kafka_leader_elected");
    assert_eq!(elected.len(), 1, "{}", trace(&events));
    assert_eq!(elected[0].0, 20000);
    assert_eq!(elected[0].1["leader"], Value::Null);
    assert_eq!(dropped(&s, DropReason::LostOnFailover), 0);
}

#[test]
fn kaf_23_unclean_election_truncates_acked_records() {
    let (s, events) = last_isr_member_dies(true);
    let elected = of(&events, "kafka_leader_elected");
    assert_eq!(elected.len(), 1);
    assert_eq!(elected[0].0, 20000);
    assert_eq!(
        (&elected[0].1["leader"], &elected[0].1["clean"]),
        (&json!(1), &json!(false))
    );
    let lost: Vec<Value> = of(&events, "kafka_lost_on_failover")
        .into_iter()
        .map(|(_, v)| v["offset"].clone())
        .collect();
    assert_eq!(lost, vec![json!(0), json!(1), json!(2)]);
    assert_eq!(dropped(&s, DropReason::LostOnFailover), 3);
    assert_eq!(of(&events, "kafka_truncated")[0].1["records"], 3);
}

#[test]
fn kaf_24_acks_all_with_min_isr_2_loses_nothing_while_an_isr_member_lives() {
    let mut s = min_isr_2(json!({}));
    let events = run(
        &mut s,
        &[
            (0.0, burst("p", 5)),
            (500.0, crash(0)),
            (10000.0, burst("p", 5)),
        ],
        20000,
    );
    assert_eq!(dropped(&s, DropReason::LostOnFailover), 0);
    assert_eq!(acks(&events).len(), 10);
    let mut msgs: Vec<u64> = processed(&events).iter().map(|p| p.2).collect();
    msgs.sort_unstable();
    assert_eq!(msgs, (0..10).collect::<Vec<_>>());
}

#[test]
fn kaf_25_the_idempotent_producer_discards_its_retry() {
    // The same failure as the duplicating case, with idempotence on (the default for acks=all).
    let mut s = min_isr_2(json!({}));
    let events = run(
        &mut s,
        &[
            (0.0, burst("p", 1)),
            (15.0, crash(1)),
            (15.0, crash(2)),
            (9500.0, restart(1)),
        ],
        12000,
    );
    assert_eq!(dropped(&s, DropReason::Deduplicated), 1);
    // The retry is answered with the first write's offset.
    assert_eq!(acks(&events), vec![(9615, 0)]);
    let p = processed(&events);
    assert_eq!(
        p.iter().map(|(_, o, m)| (*o, *m)).collect::<Vec<_>>(),
        vec![(0, 0)]
    );
}

#[test]
fn kaf_25_idempotence_is_off_silently_when_acks_conflict() {
    use broker_sim::scenario::kafka::KafkaProducerSpec;
    let spec = |v: Value| serde_json::from_value::<KafkaProducerSpec>(v).unwrap();
    assert!(spec(json!({})).idempotent());
    assert!(!spec(json!({ "acks": "1" })).idempotent());
    assert!(!spec(json!({ "retries": 0 })).idempotent());
    // Asked for explicitly with acks=1: a configuration error.
    let bad = cluster(1, 1, json!({})).with(json!({
        "producers": [producer("p", json!({ "acks": "1", "enable_idempotence": true }))],
    }));
    let err = broker_sim::Scenario::from_json(&bad.to_string()).unwrap_err();
    assert_eq!(err.path, "producers[0].kafka.enable_idempotence");
}

#[test]
fn kaf_single_broker_default_has_no_replication_events() {
    // Without a `kafka` cluster, the topic lives on one broker as before: no replication work.
    let mut s = sim_of(json!({
        "version": 1, "latency_ms": 10,
        "topics": [{ "name": "t" }],
        "producers": [{ "name": "p", "targets": [{ "topic": "t" }], "rate": burst_rate(3, 0.0) }],
    }));
    let events = run_ms(&mut s, 1000);
    assert!(of(&events, "kafka_produce_acked").is_empty());
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Appended { .. }))
            .count(),
        3
    );
}

/// RF 2, min ISR 2: b1 is down until 9.5 s. Message 0 (sent at 9.4 s) is refused and retried at
/// 9.53 s; message 1 (sent at 9.505 s) arrives at 9.515 s, after b1 rejoined the ISR (9.51 s).
fn retry_overtaken(kafka: Value) -> Vec<(u64, u64, u64)> {
    let mut s = sim_of(
        cluster(2, 2, json!({ "min_insync_replicas": 2 })).with(json!({
            "producers": [producer("p", kafka)],
            "groups": [{ "name": "g", "topics": ["t"], "auto_offset_reset": "earliest" }],
            "consumers": [group_member("c", "g", 1.0)],
        })),
    );
    let events = run(
        &mut s,
        &[
            (0.0, crash(1)),
            (9400.0, burst("p", 1)),
            (9500.0, restart(1)),
            (9505.0, burst("p", 1)),
        ],
        11000,
    );
    assert_eq!(
        of(&events, "kafka_isr_expanded")[0].0,
        9510,
        "{}",
        trace(&events)
    );
    processed(&events)
}

#[test]
fn kaf_26_without_idempotence_a_retry_lands_after_a_later_record() {
    let p = retry_overtaken(json!({ "enable_idempotence": false }));
    assert_eq!(
        p.iter().map(|(_, o, m)| (*o, *m)).collect::<Vec<_>>(),
        vec![(0, 1), (1, 0)]
    );
}

#[test]
fn kaf_25_the_idempotent_producer_keeps_order_through_a_retry() {
    let p = retry_overtaken(json!({}));
    assert_eq!(
        p.iter().map(|(_, o, m)| (*o, *m)).collect::<Vec<_>>(),
        vec![(0, 0), (1, 1)]
    );
}

fn example(name: &str) -> String {
    format!("{}/../scenarios/kafka/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn kaf_24_file_the_leader_dies_acks_1_loses_what_acks_all_keeps() {
    let (s, events, _) = run_file(&example("kaf-21-leader-dies-acks-1-loses.json"), 20_000);
    let lost: Vec<(u64, Value, Value)> = of(&events, "kafka_lost_on_failover")
        .into_iter()
        .map(|(t, v)| (t, v["topic"].clone(), v["offset"].clone()))
        .collect();
    assert_eq!(
        lost,
        (1..5)
            .map(|o| (11020, json!(0), json!(o)))
            .collect::<Vec<_>>()
    );
    assert_eq!(dropped(&s, DropReason::TruncatedOnElection), 4);
    let read = |topic: u64| {
        let p = processed_in(&events, topic);
        p.iter().map(|(o, _)| *o).collect::<Vec<_>>()
    };
    assert_eq!(read(0), vec![0]);
    assert_eq!(read(1), vec![0, 1, 2, 3, 4]);
}

#[test]
fn kaf_22_file_min_insync_2_refuses_instead_of_losing() {
    let (s, events, _) = run_file(&example("kaf-22-min-insync-refuses.json"), 30_000);
    assert_eq!(dropped(&s, DropReason::LostOnFailover), 0);
    let errors = |e: &str| {
        of(&events, "kafka_produce_failed")
            .iter()
            .filter(|(_, v)| v["error"] == e)
            .count()
    };
    assert_eq!(errors("not_enough_replicas_after_append"), 18);
    assert!(errors("not_enough_replicas") > 0);
    // Every record the producer sent is read exactly once, in order.
    let offsets: Vec<u64> = processed_in(&events, 0).iter().map(|(o, _)| *o).collect();
    assert_eq!(offsets, (0..offsets.len() as u64).collect::<Vec<_>>());
    let mut msgs: Vec<u64> = processed_in(&events, 0).iter().map(|(_, m)| *m).collect();
    msgs.dedup();
    assert_eq!(msgs.len(), offsets.len());
    assert!(msgs.windows(2).all(|w| w[0] < w[1]), "{msgs:?}");
}

/// (offset, msg) of the records a group processed from topic `topic`.
fn processed_in(events: &[Event], topic: u64) -> Vec<(u64, u64)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::RecordProcessed {
                topic: t,
                offset,
                msg,
                ..
            } if u64::from(t.0) == topic => Some((*offset, msg.0)),
            _ => None,
        })
        .collect()
}

#[test]
fn kaf_19_snapshot_shows_brokers_replicas_leader_isr_and_high_watermark() {
    use broker_sim::snapshot::{Family, Figure, NodeRef, NodeStatus, Role};
    let mut s = sim_of(cluster(3, 2, json!({})).with(json!({
        "producers": [producer("p", json!({ "acks": "1" }))],
    })));
    run(&mut s, &[(100.0, burst("p", 2)), (200.0, crash(1))], 300);
    let snap = s.snapshot();
    let r = snap.topics[0].partitions[0]
        .replication
        .clone()
        .expect("replicated");
    assert_eq!((r.leader, r.epoch, r.high_watermark), (Some(0), 0, 2));
    assert_eq!(r.replicas, vec![(0, 2), (1, 2)]);
    assert_eq!(r.isr, vec![0, 1], "b1 is not fenced before 9.2 s");
    let brokers: Vec<_> = (snap.graph.nodes.iter())
        .filter(|n| n.role == Role::Broker)
        .map(|n| {
            (
                n.node,
                n.family,
                n.status,
                n.figure(Figure::Leaders),
                n.figure(Figure::Replicas),
            )
        })
        .collect();
    assert_eq!(
        brokers,
        vec![
            (
                NodeRef::KafkaBroker(0),
                Family::Kafka,
                NodeStatus::Running,
                Some(1),
                Some(1)
            ),
            (
                NodeRef::KafkaBroker(1),
                Family::Kafka,
                NodeStatus::Crashed,
                Some(0),
                Some(1)
            ),
            (
                NodeRef::KafkaBroker(2),
                Family::Kafka,
                NodeStatus::Running,
                Some(0),
                Some(0)
            ),
        ]
    );
    let partition = snap
        .graph
        .node(NodeRef::Partition(snap.topics[0].id, 0))
        .unwrap();
    assert_eq!(partition.figure(Figure::HighWatermark), Some(2));
    assert_eq!(partition.figure(Figure::Isr), Some(2));
}

#[test]
fn kaf_27_read_committed_skips_aborted_and_open_transactions() {
    // Transactions of 2 records, every second one aborted: m0 m1 commit, m2 m3 abort, m4 open.
    let group = |name: &str, isolation: &str| {
        json!({
            "name": name, "topics": ["t"], "auto_offset_reset": "earliest",
            "isolation_level": isolation,
        })
    };
    let mut s = sim_of(cluster(1, 1, json!({})).with(json!({
        "producers": [producer("p", json!({ "transactions": { "records": 2, "abort_every": 2 } }))],
        "groups": [group("rc", "read_committed"), group("ru", "read_uncommitted")],
        "consumers": [group_member("c-rc", "rc", 1.0), group_member("c-ru", "ru", 1.0)],
    })));
    let events = run(&mut s, &[(100.0, burst("p", 5))], 10000);
    let ended: Vec<(Value, Value)> = of(&events, "kafka_txn_ended")
        .into_iter()
        .map(|(_, v)| (v["records"].clone(), v["committed"].clone()))
        .collect();
    assert_eq!(
        ended,
        vec![(json!(2), json!(true)), (json!(2), json!(false))]
    );
    let read = |consumer: u32| -> Vec<u64> {
        events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::RecordProcessed {
                    consumer: c, msg, ..
                } if c.0 == consumer => Some(msg.0),
                _ => None,
            })
            .collect()
    };
    // read_committed: only the committed transaction; the open one waits, the aborted is skipped.
    assert_eq!(read(0), vec![0, 1]);
    // read_uncommitted (the default) sees everything, aborted records included (KAF-27).
    assert_eq!(read(1), vec![0, 1, 2, 3, 4]);
}

fn isolate(broker: u32) -> Value {
    json!({ "isolate_kafka_broker": { "broker": broker } })
}

fn heal(broker: u32) -> Value {
    json!({ "heal_kafka_broker": { "broker": broker } })
}

#[test]
fn kaf_23_the_controller_fences_an_isolated_broker_after_the_session_timeout() {
    let mut s = sim_of(cluster(3, 3, json!({})).with(json!({
        "producers": [producer("p", json!({}))],
    })));
    let events = run(
        &mut s,
        &[
            (1000.0, isolate(0)),
            (2000.0, heal(0)),
            (3000.0, isolate(0)),
        ],
        13000,
    );
    // Healed within the session: no fencing, no election. Isolated again at 3 s: fenced 9 s
    // later, b0 leaves the ISR and b1, first alive in-ISR replica in assignment order, leads
    // with epoch 1.
    assert_eq!(
        of(&events, "kafka_broker_fenced"),
        vec![(12000, json!({ "type": "kafka_broker_fenced", "broker": 0 }))],
        "{}",
        trace(&events)
    );
    let shrunk = of(&events, "kafka_isr_shrunk");
    assert_eq!(shrunk.len(), 1);
    assert_eq!((shrunk[0].0, &shrunk[0].1["isr"]), (12000, &json!([1, 2])));
    let elected = of(&events, "kafka_leader_elected");
    assert_eq!(elected.len(), 1);
    assert_eq!(elected[0].0, 12000);
    assert_eq!(
        (&elected[0].1["leader"], &elected[0].1["epoch"]),
        (&json!(1), &json!(1))
    );
    let b0 = &s.snapshot().kafka_brokers[0];
    assert!(b0.isolated && b0.fenced && b0.alive);
}

#[test]
fn kaf_19_an_isolated_follower_leaves_the_isr_and_acks_all_goes_on_without_it() {
    // b2 follows; the leader b0 waits for it until the controller fences it (1 s + 9 s). After
    // the heal it fetches again and rejoins once it reaches the HW.
    let mut s = sim_of(cluster(3, 3, json!({})).with(json!({
        "producers": [producer("p", json!({}))],
    })));
    let events = run(
        &mut s,
        &[
            (1000.0, isolate(2)),
            (2000.0, burst("p", 1)),
            (20000.0, heal(2)),
        ],
        21000,
    );
    assert_eq!(acks(&events), vec![(10000, 0)], "{}", trace(&events));
    let shrunk = of(&events, "kafka_isr_shrunk");
    assert_eq!((shrunk[0].0, &shrunk[0].1["broker"]), (10000, &json!(2)));
    assert!(of(&events, "kafka_leader_elected").is_empty());
    // Its fetch reaches b0 at 20.01 s with offset 0, below the HW; the next one (20.03 s) is at 1.
    let expanded = of(&events, "kafka_isr_expanded");
    assert_eq!(expanded.len(), 1);
    assert_eq!(
        (expanded[0].0, &expanded[0].1["isr"]),
        (20030, &json!([0, 1, 2]))
    );
}

#[test]
fn kaf_21_kaf_24_an_isolated_leader_acks_1_loses_its_writes_on_heal() {
    // b0 leads and is cut off at 2 s. `old` never learns the new leader before the heal (its
    // metadata is refreshed every 300 s); `fresh` refreshes every 15 s, so at 15 s.
    let mut s = sim_of(cluster(3, 3, json!({})).with(json!({
        "producers": [
            producer("old", json!({ "acks": "1" })),
            producer("fresh", json!({ "acks": "1", "metadata_max_age_ms": 15000 })),
        ],
        "groups": [{ "name": "g", "topics": ["t"], "auto_offset_reset": "earliest" }],
        "consumers": [group_member("c", "g", 1.0)],
    })));
    let events = run(
        &mut s,
        &[
            (1000.0, burst("old", 1)),
            (2000.0, isolate(0)),
            (3000.0, burst("old", 2)),
            (12000.0, burst("old", 1)),
            (16000.0, burst("fresh", 1)),
            (20000.0, heal(0)),
        ],
        21000,
    );
    // Offset 0 reached every replica. Offsets 1 and 2 are acked by b0 alone; the controller
    // fences it at 11 s and elects b1, whose log ends at 1. At 12 s `old` still writes to b0
    // (offset 3, acked); at 16 s `fresh` writes to b1 (offset 1 of the new log).
    assert_eq!(
        acks(&events),
        vec![(1010, 0), (3010, 1), (3010, 2), (12010, 3), (16010, 1)],
        "{}",
        trace(&events)
    );
    let stale: Vec<(u64, Value)> = of(&events, "kafka_stale_leader_appended")
        .into_iter()
        .map(|(t, v)| (t, v["offset"].clone()))
        .collect();
    assert_eq!(stale, vec![(12010, json!(3))]);
    // The heal: b0 learns epoch 1, cuts its log back to 1 and loses what only it held.
    let truncated = of(&events, "kafka_replica_truncated");
    assert_eq!(truncated.len(), 1);
    assert_eq!((truncated[0].0, &truncated[0].1["to"]), (20000, &json!(1)));
    let lost: Vec<(u64, Value)> = of(&events, "kafka_lost_on_failover")
        .into_iter()
        .map(|(t, v)| (t, v["offset"].clone()))
        .collect();
    assert_eq!(
        lost,
        vec![(20000, json!(1)), (20000, json!(2)), (20000, json!(3))]
    );
    assert_eq!(dropped(&s, DropReason::LostOnFailover), 3);
    // The group read only committed records (KAF-20): offset 0, then `fresh`'s record.
    let read: Vec<(u64, u64)> = processed(&events).iter().map(|p| (p.1, p.2)).collect();
    assert_eq!(read, vec![(0, 0), (1, 4)]);
    // b0 follows b1 again and rejoins the ISR.
    let expanded = of(&events, "kafka_isr_expanded");
    assert_eq!(expanded.last().unwrap().1["isr"], json!([0, 1, 2]));
    assert_eq!(s.snapshot().kafka_brokers[0].stale_records, 0);
}

#[test]
fn kaf_22_an_isolated_leader_times_out_acks_all_instead_of_losing() {
    let mut s = sim_of(cluster(3, 3, json!({})).with(json!({
        "producers": [producer("p", json!({ "acks": "all" }))],
        "groups": [{ "name": "g", "topics": ["t"], "auto_offset_reset": "earliest" }],
        "consumers": [group_member("c", "g", 1.0)],
    })));
    let events = run(
        &mut s,
        &[
            (2000.0, isolate(0)),
            (3000.0, burst("p", 1)),
            (40000.0, heal(0)),
        ],
        41000,
    );
    // b0 appends at 3.01 s, but no follower can fetch it and its ISR cannot shrink: the HW
    // stays at 0. At 11 s b1 leads; the record stays on b0 alone, its request open. At
    // 33.01 s (request.timeout.ms 30 s) it fails; the producer retries (20 ms round trip +
    // 100 ms backoff) to b1, where it is acked once b2 has it.
    let failed = of(&events, "kafka_produce_failed");
    assert_eq!(failed.len(), 1, "{}", trace(&events));
    assert_eq!(
        (failed[0].0, &failed[0].1["error"], &failed[0].1["retry"]),
        (33010, &json!("request_timeout"), &json!(true))
    );
    assert_eq!(acks(&events), vec![(33150, 0)]);
    assert!(of(&events, "kafka_stale_leader_appended").is_empty());
    // The heal drops b0's copy, which nobody was told is written.
    assert_eq!(dropped(&s, DropReason::LostOnFailover), 0);
    assert_eq!(dropped(&s, DropReason::TruncatedOnElection), 1);
    assert_eq!(s.ledger().retry_copies, 1);
    let read: Vec<(u64, u64)> = processed(&events).iter().map(|p| (p.1, p.2)).collect();
    assert_eq!(read, vec![(0, 0)]);
}

#[test]
fn kaf_23_isolating_and_healing_name_a_broker_in_the_right_state() {
    let mut s = sim_of(cluster(3, 3, json!({})));
    let mut apply_ok = |command: Value| s.apply(serde_json::from_value(command).unwrap());
    assert!(apply_ok(isolate(3)).is_err());
    assert!(apply_ok(heal(1)).is_err(), "not isolated");
    assert!(apply_ok(crash(2)).is_ok());
    assert!(apply_ok(isolate(2)).is_err(), "down");
    assert!(apply_ok(isolate(1)).is_ok());
    assert!(apply_ok(isolate(1)).is_err(), "already isolated");
    assert!(apply_ok(isolate(0)).is_err(), "one at a time");
    assert!(apply_ok(crash(1)).is_err(), "heal it first");
    assert!(apply_ok(heal(1)).is_ok());
}

#[test]
fn kaf_24_file_an_isolated_leader_acks_1_loses_what_acks_all_times_out_on() {
    let (s, events, _) = run_file(&example("kaf-24-isolated-leader-split-brain.json"), 45_000);
    // Acked by b0 alone: offsets 2..4 at 4.01 s, 5 and 6 at 14.01 s (after the election at 11 s).
    let acked_1: Vec<(u64, Value)> = of(&events, "kafka_produce_acked")
        .into_iter()
        .filter(|(_, v)| v["topic"] == 0)
        .map(|(t, v)| (t, v["offset"].clone()))
        .collect();
    assert_eq!(
        acked_1,
        vec![
            (1010, json!(0)),
            (1010, json!(1)),
            (4010, json!(2)),
            (4010, json!(3)),
            (4010, json!(4)),
            (14010, json!(5)),
            (14010, json!(6)),
        ],
        "{}",
        trace(&events)
    );
    let lost: Vec<(u64, Value, Value)> = of(&events, "kafka_lost_on_failover")
        .into_iter()
        .map(|(t, v)| (t, v["topic"].clone(), v["offset"].clone()))
        .collect();
    assert_eq!(
        lost,
        (2..7)
            .map(|o| (38000, json!(0), json!(o)))
            .collect::<Vec<_>>()
    );
    // acks=all: three timeouts at 34.01 s, the retries acked on b1; b0's copies were never acked.
    let timeouts: Vec<u64> = of(&events, "kafka_produce_failed")
        .into_iter()
        .filter(|(_, v)| v["error"] == "request_timeout")
        .map(|(t, _)| t)
        .collect();
    assert_eq!(timeouts, vec![34010; 3]);
    assert_eq!(dropped(&s, DropReason::TruncatedOnElection), 3);
    assert_eq!(dropped(&s, DropReason::LostOnFailover), 5);
    let read = |topic: u64| {
        let p = processed_in(&events, topic);
        p.iter().map(|(o, _)| *o).collect::<Vec<_>>()
    };
    assert_eq!(read(0), vec![0, 1]);
    assert_eq!(read(1), vec![0, 1, 2, 3, 4]);
}

#[test]
fn kaf_23_truncation_past_compacted_records_keeps_the_log_sizes() {
    // The last ISR member b0 takes three records of one key alone; the cleaner removes the
    // superseded offset 0 (offset 1 is in the segment it has not cleaned yet, 2 in the active
    // one); the unclean election cuts all three. Offset 0 had already given its bytes back, so
    // only 1 and 2 are taken off (and lost) again.
    let topic = json!({
        "unclean_leader_election_enable": true, "cleanup_policy": "compact",
        "segment_bytes": 1, "log_cleaner_backoff_ms": 100,
    });
    let mut s = sim_of(cluster(2, 2, topic).with(json!({
        "producers": [producer("p", json!({ "acks": "1" }))
            .with(json!({ "message": { "keys": ["k"] } }))],
    })));
    let events = run(
        &mut s,
        &[
            (0.0, crash(1)),
            (10000.0, burst("p", 3)),
            (11000.0, crash(0)),
            (12000.0, restart(1)),
        ],
        30000,
    );
    assert!(!of(&events, "compacted").is_empty(), "{}", trace(&events));
    let lost: Vec<Value> = of(&events, "kafka_lost_on_failover")
        .into_iter()
        .map(|(_, v)| v["offset"].clone())
        .collect();
    assert_eq!(lost, vec![json!(1), json!(2)]);
    let p = &s.snapshot().topics[0].partitions[0];
    assert_eq!((p.log_end, p.bytes), (0, 0));
}
