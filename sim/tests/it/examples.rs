//! The example scenarios, checked for the outcomes they are meant to show, and a smoke
//! run of every scenario file shipped in `scenarios/`.

use crate::helpers::{consumer_id, dropped, msg_ids, queue_view, run_file, run_ms, trace};
use broker_sim::ConsumerStatus;
use broker_sim::{DropReason, Event, EventKind, Scenario, SimTime, Simulation};
use std::collections::BTreeMap;

const COMPARE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../scenarios/compare-queue-vs-log.json"
);
const BUFFERING_QUEUE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../scenarios/buffering-queue.json"
);
const BUFFERING_NO_BROKER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../scenarios/buffering-no-broker.json"
);
const SCENARIOS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios");

fn status(sim: &Simulation, consumer: &str) -> (ConsumerStatus, u64) {
    let snap = sim.snapshot();
    let c = snap
        .consumers
        .iter()
        .find(|c| c.name == consumer)
        .unwrap_or_else(|| panic!("no consumer {consumer}"));
    (c.status, c.delivered)
}

// ---------------------------------------------------------------- message broker vs event broker

#[test]
fn compare_queue_vs_log_queue_empties_log_keeps_replays_and_retention_removes() {
    // 100 orders at 5/s, each to the queue `orders` and to the 2-partition topic `orders-log`.
    let (mut s, events, r) = run_file(COMPARE, 29_999);

    // Both consumers are done: the worker acked all 100, billing processed all 100.
    assert_eq!(r.received["worker"].len(), 100);
    let billing = r.groups.iter().find(|g| g.name == "billing").unwrap();
    assert_eq!((billing.processed, billing.lag), (100, 0));
    // The queue is empty: acked messages are deleted.
    assert_eq!(queue_view(&s, "orders").total, 0);
    assert!(r.queue_contents["orders"].is_empty());
    // The log still holds every message: consuming deletes nothing.
    let l = s.ledger();
    assert_eq!(l.published, 100);
    assert_eq!(l.acked, 100, "the queue copies");
    assert_eq!(l.retained, l.published, "the log copies");
    let held: usize = r.partitions.values().map(Vec::len).sum();
    assert_eq!(held, 100);
    for t in &r.topics {
        for p in &t.partitions {
            assert_eq!(p.log_start, 0, "nothing deleted yet");
        }
    }
    let appended = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Appended { .. }))
        .count();
    assert_eq!(appended, 100);

    // At 30 s a late queue consumer and a new group (earliest) arrive.
    let later = run_ms(&mut s, 45_000);
    assert_eq!(
        status(&s, "late-worker"),
        (ConsumerStatus::Running, 0),
        "the queue has nothing left"
    );
    let r = s.report(1, &later);
    assert!(r.received["late-worker"].is_empty());
    let analytics = r.groups.iter().find(|g| g.name == "analytics").unwrap();
    assert_eq!(analytics.processed, 100, "replays the whole log");
    assert_eq!(analytics.duplicates, 0);
    let mut per_partition: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for d in &r.group_deliveries["analytics-1"] {
        per_partition.entry(d.partition).or_default().push(d.offset);
    }
    for (key, contents) in &r.partitions {
        let p: u32 = key.rsplit('/').next().unwrap().parse().unwrap();
        let all: Vec<u64> = contents.iter().map(|(o, _)| *o).collect();
        assert_eq!(
            per_partition.get(&p),
            Some(&all),
            "{key}: from the earliest offset, in order"
        );
        assert_eq!(all.first(), Some(&0));
    }

    // Later, retention (60 s, 2 KiB segments) deletes old segments. The ledger says
    // removed_by_retention, distinct from acked.
    let end = run_ms(&mut s, 120_000);
    let deleted: u64 = end
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::RetentionDeleted { records, .. } => Some(*records),
            _ => None,
        })
        .sum();
    assert!(deleted > 0, "{}", trace(&end));
    let l = s.ledger();
    assert_eq!(l.removed_by_retention, deleted);
    assert_eq!(l.acked, 100, "retention is not acking");
    assert_eq!(l.retained + l.removed_by_retention, 100);
    assert!(l.is_balanced());
    for t in &s.snapshot().topics {
        for p in &t.partitions {
            assert!(
                p.log_start > 0,
                "old segments gone from partition {}",
                p.index
            );
        }
    }
}

// ---------------------------------------------------------------- traffic buffering

#[test]
fn buffering_queue_absorbs_the_burst_and_drains_it_without_loss() {
    // 10,000 requests at 1 s; 3 workers × 100/s drain them in about 33 s.
    let (mut s, _, _) = run_file(BUFFERING_QUEUE, 0);
    let mut depth: Vec<(u64, u64)> = Vec::new();
    let mut enqueued = 0;
    for t in (100..=45_000).step_by(100) {
        let events = run_ms(&mut s, t);
        enqueued += events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Enqueued { .. }))
            .count();
        depth.push((t, queue_view(&s, "requests").total));
    }
    let (peak_at, peak) = *depth.iter().max_by_key(|(_, d)| *d).unwrap();
    assert!(
        (9_900..=10_000).contains(&peak),
        "depth rises to ~10,000: {peak}"
    );
    assert!(peak_at <= 1_200, "right after the burst: {peak_at} ms");
    let after: Vec<u64> = depth
        .iter()
        .filter(|(t, _)| *t >= peak_at)
        .map(|(_, d)| *d)
        .collect();
    assert!(
        after.windows(2).all(|w| w[1] <= w[0]),
        "drains steadily once the burst is in"
    );
    let drained_at = depth
        .iter()
        .find(|(t, d)| *t > peak_at && *d == 0)
        .unwrap()
        .0;
    assert!(
        (32_000..=36_000).contains(&drained_at),
        "about 33 s after the burst: {drained_at} ms"
    );
    // Every request served, none dropped.
    assert_eq!(enqueued, 10_000);
    let l = s.ledger();
    assert_eq!(l.published, 10_000);
    assert_eq!(l.acked, 10_000);
    assert_eq!(l.dropped_total(), 0);
    assert_eq!(l.expired + l.dead_lettered_total(), 0);
    for w in ["worker-1", "worker-2", "worker-3"] {
        let (_, delivered) = status(&s, w);
        assert!(
            (3_233..=3_433).contains(&delivered),
            "{w} took its share: {delivered}"
        );
    }
}

#[test]
fn buffering_without_a_broker_rejects_and_times_out_requests_as_losses() {
    // Same burst, straight to a service: 3 workers, backlog 2,000, 5 s client timeout.
    let (s, events, r) = run_file(BUFFERING_NO_BROKER, 30_000);
    let svc = &r.services[0];
    assert!(svc.rejected > 0, "backlog full → refused at once");
    assert!(svc.timed_out > 0, "waited more than 5 s → gave up");
    assert_eq!(svc.served + svc.rejected + svc.timed_out, 10_000);
    assert!(
        svc.served < 2_000,
        "only ~5 s of capacity reached anyone: {svc:?}"
    );
    // Lost, with the reason, in the ledger.
    assert_eq!(dropped(&s, DropReason::ServiceOverloaded), svc.rejected);
    assert_eq!(dropped(&s, DropReason::RequestTimeout), svc.timed_out);
    let l = s.ledger();
    assert_eq!(l.acked, svc.served);
    assert_eq!(l.dropped_total(), svc.rejected + svc.timed_out);
    assert_eq!(l.processing, 0, "nothing left waiting");
    assert!(r.balanced);
    let drops = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Dropped { .. }))
        .count() as u64;
    assert_eq!(drops, svc.rejected + svc.timed_out);
    // Refusals happen the instant the burst arrives; timeouts 5 s later.
    let first = |reason: DropReason| {
        events
            .iter()
            .find(|e| matches!(&e.kind, EventKind::Dropped { reason: r, .. } if *r == reason))
            .map(|e| e.time)
            .unwrap()
    };
    assert!(first(DropReason::ServiceOverloaded) < SimTime::from_millis(1_100));
    assert!(first(DropReason::RequestTimeout) >= SimTime::from_millis(6_000));
}

#[test]
fn buffering_without_a_broker_passes_the_deep_audit_while_requests_wait() {
    // At 1.5 s the service holds 3 requests in service and ~1,850 in its backlog.
    let (mut s, _, _) = run_file(BUFFERING_NO_BROKER, 0);
    run_ms(&mut s, 1_500);
}

// ---------------------------------------------------------------- Apache Pulsar (scenarios/pulsar)

fn pulsar_file(name: &str) -> String {
    format!("{SCENARIOS}/pulsar/{name}")
}

/// Messages a consumer's application finished, in order.
fn finished(events: &[Event], s: &Simulation, consumer: &str) -> Vec<u64> {
    let id = consumer_id(s, consumer);
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Processed { msg, consumer, .. } if *consumer == id => Some(msg.0),
            _ => None,
        })
        .collect()
}

/// A Pulsar subscription's view.
fn pulsar_sub(
    s: &Simulation,
    topic: &str,
    sub: &str,
) -> broker_sim::snapshot::PulsarSubscriptionView {
    let view = s.snapshot().pulsar.expect("Pulsar");
    let t = view
        .topics
        .into_iter()
        .find(|t| t.name == topic)
        .expect("topic");
    t.subscriptions
        .into_iter()
        .find(|x| x.name == sub)
        .expect("subscription")
}

#[test]
fn pulsar_four_subscription_types_read_one_stored_copy() {
    let (s, events, _) = run_file(&pulsar_file("pul-02-four-subscription-types.json"), 10_000);
    let got = |c: &str| finished(&events, &s, c);
    assert_eq!(
        got("audit-1"),
        (0..40).collect::<Vec<_>>(),
        "Exclusive: all, in order"
    );
    let (b1, b2) = (got("billing-1"), got("billing-2"));
    assert!(
        b1.is_empty() != b2.is_empty(),
        "Failover: one active consumer"
    );
    assert_eq!(b1.len() + b2.len(), 40);
    let (s1, s2) = (got("ship-1"), got("ship-2"));
    assert!(!s1.is_empty() && !s2.is_empty(), "Shared: both work");
    assert_eq!(s1.len() + s2.len(), 40);
    let (m1, m2) = (got("mail-1"), got("mail-2"));
    assert_eq!(m1.len() + m2.len(), 40);
    // Key_Shared: message i has key i mod 4; no key is at both consumers.
    let keys = |v: &[u64]| {
        v.iter()
            .map(|m| m % 4)
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert!(keys(&m1).is_disjoint(&keys(&m2)));
    // One stored copy per message, whatever the number of subscriptions.
    let l = s.ledger();
    assert_eq!((l.created, l.retained), (40, 40));
}

#[test]
fn pulsar_nack_then_dead_letter_after_three_redeliveries() {
    let (s, events, _) = run_file(&pulsar_file("pul-08-nack-and-dead-letter.json"), 10_000);
    // m9 is the poison message (published by the script at 2 s): seen four times.
    let seen = finished(&events, &s, "worker")
        .iter()
        .filter(|m| **m == 9)
        .count();
    assert_eq!(seen, 4);
    let dlq = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::PulsarDeadLettered { .. }))
        .count();
    assert_eq!(dlq, 1);
    assert_eq!(
        pulsar_sub(&s, "payments-workers-DLQ", "dlq-audit").backlog,
        1
    );
    assert_eq!(pulsar_sub(&s, "payments", "workers").backlog, 0);
    assert_eq!(s.ledger().dead_letter_copies, 1);
}

#[test]
fn pulsar_consumer_crash_loses_nothing_under_any_type() {
    let (s, events, _) = run_file(&pulsar_file("pul-11-consumer-crash-by-type.json"), 30_000);
    let got = |c: &str| finished(&events, &s, c);
    let union = |a: &str, b: &str| {
        let mut v = [got(a), got(b)].concat();
        v.sort_unstable();
        v.dedup();
        v
    };
    let all: Vec<u64> = (0..160).collect();
    // Acks grouped for 100 ms were lost in the crash: those messages come again (PUL-7).
    let mut solo = got("solo");
    let with_duplicates = solo.len();
    solo.sort_unstable();
    solo.dedup();
    assert_eq!(
        solo, all,
        "Exclusive resumes at its cursor after the restart"
    );
    assert!(with_duplicates > 160);
    assert_eq!(union("leader", "backup"), all);
    assert_eq!(union("worker-a", "worker-b"), all);
    // The standby starts reading 1 s after the broker saw the crash (3 s + L).
    let backup = consumer_id(&s, "backup");
    let first = events
        .iter()
        .find(|e| matches!(e.kind, EventKind::PulsarDispatched { consumer, .. } if consumer == backup))
        .map(|e| e.time);
    assert_eq!(first, Some(SimTime::from_millis(4_002)));
    // Nothing for the Exclusive subscription between the crash and the restart.
    let solo_id = consumer_id(&s, "solo");
    assert!(!events.iter().any(|e| matches!(e.kind,
        EventKind::PulsarDispatched { consumer, .. } if consumer == solo_id)
        && e.time > SimTime::from_millis(3_000)
        && e.time < SimTime::from_millis(6_000)));
}

#[test]
fn pulsar_backlog_retention_and_ttl_end_differently() {
    let (s, _, _) = run_file(&pulsar_file("pul-12-backlog-retention-ttl.json"), 30_000);
    let l = s.ledger();
    // plain: consumed ledgers deleted (acked); kept: held by retention, then removed; idle:
    // expired by TTL.
    assert_eq!(
        (l.acked, l.removed_by_retention, l.expired, l.retained),
        (30, 30, 30, 0)
    );
    assert_eq!(dropped(&s, DropReason::NoSubscription), 0);
}

#[test]
fn pulsar_reset_cursor_replays_what_retention_kept() {
    let (s, events, _) = run_file(&pulsar_file("pul-13-seek-replay.json"), 10_000);
    let reports = finished(&events, &s, "reports");
    let twice: Vec<u64> = (0..20).chain(0..20).collect();
    assert_eq!(reports[..40], twice[..], "all 20 again after the reset");
    // Published at 6.5 s, after the late subscription was created.
    assert_eq!(
        finished(&events, &s, "newcomer"),
        (20..25).collect::<Vec<_>>()
    );
}

#[test]
fn pulsar_partitioned_topic_keeps_order_per_key() {
    let (s, events, _) = run_file(&pulsar_file("pul-14-partitioned-routing.json"), 10_000);
    let mut by_key: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    let published: Vec<u64> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Published { msg, producer } if producer.0 == 0 => Some(msg.0),
            _ => None,
        })
        .collect();
    let processed = finished(&events, &s, "analytics");
    for (i, m) in published.iter().enumerate() {
        by_key.entry(i as u64 % 4).or_default().push(*m);
    }
    for (k, msgs) in by_key {
        let seen: Vec<u64> = processed
            .iter()
            .copied()
            .filter(|m| msgs.contains(m))
            .collect();
        assert_eq!(seen, msgs, "key {k} in publish order");
    }
    assert_eq!(processed.len(), 120);
}

// ---------------------------------------------------------------- every scenario file

fn scenario_files() -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(SCENARIOS)];
    for entry in std::fs::read_dir(SCENARIOS).expect("scenarios/") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            dirs.push(path);
        }
    }
    for dir in dirs {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_scenario_file_parses_runs_30_s_and_keeps_the_ledger_balanced() {
    let files = scenario_files();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for must in [
        "default.json",
        "compare-queue-vs-log.json",
        "buffering-queue.json",
        "buffering-no-broker.json",
        "kaf-14-manual-commit-duplicates.json",
    ] {
        assert!(names.iter().any(|n| n == must), "{must} not found");
    }
    for path in &files {
        let path = path.to_str().unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        let scenario = Scenario::from_json(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut s = Simulation::new(&scenario, 1).unwrap_or_else(|e| panic!("{path}: {e}"));
        // The full walk of every live copy, every second.
        for t in (1_000..30_000).step_by(1_000) {
            s.advance_to(SimTime::from_millis(t));
            s.audit_deep()
                .unwrap_or_else(|e| panic!("{path} at {t} ms: {e}"));
        }
        // run_file also checks the title and description in both languages.
        let (s, _, r) = run_file(path, 30_000);
        assert_eq!(s.now(), SimTime::from_secs(30));
        assert!(r.balanced, "{path}");
    }
}

// ---------------------------------------------------------------- ActiveMQ / JMS (AMQ-n)

fn jms_file(name: &str) -> String {
    format!("{SCENARIOS}/jms/{name}")
}

/// What `consumer` received, as (message, redelivered), from the report.
fn got(r: &broker_sim::report::Report, consumer: &str) -> Vec<(u64, bool)> {
    r.received[consumer]
        .iter()
        .map(|m| (m.msg.0, m.redelivered))
        .collect()
}

fn ids(list: &[(u64, bool)]) -> Vec<u64> {
    list.iter().map(|m| m.0).collect()
}

#[test]
fn amq_02_file_durable_vs_non_durable() {
    let (_, _, r) = run_file(&jms_file("amq-02-durable-vs-non-durable.json"), 1_000);
    assert_eq!(ids(&got(&r, "audit")), vec![0, 1, 2, 3, 4, 5, 6]);
    assert_eq!(ids(&got(&r, "ticker")), vec![0, 1, 2, 5, 6]);
}

#[test]
fn amq_03_file_broker_restart() {
    let (s, _, r) = run_file(&jms_file("amq-03-broker-restart.json"), 6_000);
    assert_eq!(ids(&got(&r, "worker")), vec![0, 1, 2, 3, 4]);
    assert_eq!(dropped(&s, DropReason::LostInBrokerRestart), 5);
    assert_eq!(dropped(&s, DropReason::BrokerDown), 1);
}

#[test]
fn amq_04_file_client_acknowledge() {
    let (_, _, r) = run_file(&jms_file("amq-04-client-acknowledge.json"), 5_000);
    assert_eq!(got(&r, "worker"), vec![(0, false), (1, false), (2, false)]);
    assert_eq!(
        got(&r, "auto-worker"),
        vec![(0, false), (1, false), (2, false), (1, true)]
    );
    let jms = r.jms.as_ref().expect("JMS section");
    let client_q = jms.queues.iter().find(|q| q.name == "client-q").unwrap();
    assert_eq!((client_q.pending, client_q.dequeued), (0, 3));
    assert_eq!(jms.dead_letters.len(), 1);
    assert_eq!(jms.dead_letters[0].from, "auto-q");
}

#[test]
fn amq_06_file_seven_deliveries_then_dlq() {
    let (_, _, r) = run_file(&jms_file("amq-06-redelivery-then-dlq.json"), 11_000);
    // m1 was sent with m0; the client redelivers m0 six times before it hands m1 over.
    let worker = got(&r, "worker");
    assert_eq!(ids(&worker), vec![0, 1, 0, 0, 0, 0, 0, 0]);
    assert_eq!(ids(&got(&r, "dlq-reader")), vec![0]);
    let jms = r.jms.as_ref().unwrap();
    assert_eq!(jms.dead_letters[0].to, "ActiveMQ.DLQ");
}

#[test]
fn amq_07_file_expiry_to_dlq() {
    let (s, _, r) = run_file(&jms_file("amq-07-expiry-to-dlq.json"), 29_999);
    assert_eq!(
        s.ledger().expired + s.ledger().dead_lettered_total(),
        0,
        "not before 30 s"
    );
    let (s, _, r2) = run_file(&jms_file("amq-07-expiry-to-dlq.json"), 30_000);
    assert_eq!(s.ledger().expired, 1);
    let jms = r2.jms.as_ref().unwrap();
    assert_eq!(msg_ids(&jms.queue_contents["ActiveMQ.DLQ"]), vec![0]);
    assert!(r.jms.as_ref().unwrap().dead_letters.is_empty());
}

#[test]
fn amq_08_file_prefetch_hoarding() {
    let (_, _, r) = run_file(&jms_file("amq-08-prefetch-hoarding.json"), 2_000);
    assert_eq!(got(&r, "fast-1").len(), 100);
    assert!(got(&r, "fast-2").is_empty());
    assert!(got(&r, "fair-2").len() >= 40);
}

#[test]
fn amq_09_file_artemis_redelivery() {
    let (_, _, r) = run_file(&jms_file("amq-09-artemis-redelivery.json"), 10_000);
    let poison = r.jms.as_ref().unwrap().dead_letters[0].msg.0;
    let deliveries: usize = ["worker-1", "worker-2"]
        .iter()
        .map(|c| got(&r, c).iter().filter(|m| m.0 == poison).count())
        .sum();
    assert_eq!(deliveries, 10);
    assert!(["worker-1", "worker-2"]
        .iter()
        .all(|c| got(&r, c).iter().any(|m| m.0 == poison)));
}

#[test]
fn amq_10_file_message_groups() {
    let (s, events, _) = run_file(&jms_file("amq-10-message-groups.json"), 4_000);
    let mut owner: BTreeMap<(bool, bool), std::collections::BTreeSet<u32>> = BTreeMap::new();
    for e in &events {
        if let EventKind::Jms(broker_sim::event::JmsEvent::JmsDispatch { msg, consumer, .. }) =
            &e.kind
        {
            let after = e.time >= SimTime::from_millis(2_000);
            owner
                .entry((msg.0 % 2 == 0, after))
                .or_default()
                .insert(consumer.0);
        }
    }
    assert_eq!(owner[&(true, false)].len(), 1, "IBM stays with one trader");
    assert_eq!(
        owner[&(false, false)].len(),
        1,
        "MSFT stays with one trader"
    );
    let trader_2 = s.snapshot().consumers[1].id.0;
    assert!(owner[&(true, true)]
        .iter()
        .chain(&owner[&(false, true)])
        .all(|c| *c == trader_2));
}

#[test]
fn amq_11_file_exclusive_consumer() {
    let (_, _, r) = run_file(&jms_file("amq-11-exclusive-consumer.json"), 2_999);
    assert!(got(&r, "standby").is_empty());
    let (_, _, r) = run_file(&jms_file("amq-11-exclusive-consumer.json"), 6_000);
    let standby = got(&r, "standby");
    assert!(
        standby.iter().take(5).all(|m| m.1),
        "primary's prefetched five, redelivered"
    );
}

#[test]
fn charts_sample_every_series_every_100_ms() {
    // The queue-vs-log comparison has queues, a group, traffic and acks: after 10 s every
    // series has a point per 100 ms sample, latency once the first messages finished (found
    // missing once when sampling moved).
    let (s, _, _) = run_file(COMPARE, 10_000);
    let c = s.charts();
    let samples = 80;
    for (name, points) in [
        ("throughput_in", c.throughput_in.len()),
        ("throughput_out", c.throughput_out.len()),
        ("latency_p50_ms", c.latency_p50_ms.len()),
        ("latency_p99_ms", c.latency_p99_ms.len()),
        ("queue_depth", c.queue_depth[0].1.len()),
        ("group_lag", c.group_lag[0].1.len()),
    ] {
        assert!(points >= samples, "{name} has {points} points");
    }
}

// ---------------------------------------------------------------- the pipeline (scenarios/pipeline)

/// A pipeline file's saga figures after 30 s, with the messages published.
fn pipeline_file(name: &str) -> (broker_sim::PipelineView, u64) {
    let path = format!("{SCENARIOS}/pipeline/{name}");
    let (_, _, report) = run_file(&path, 30_000);
    (report.pipeline.expect("stages"), report.ledger.published)
}

#[test]
fn pipeline_naive_file_shows_every_anomaly_but_one() {
    let (v, published) = pipeline_file("naive-pipeline.json");
    assert_eq!((v.orders, v.shipped, v.compensated), (40, 27, 0));
    assert_eq!(published, 140);
    assert_eq!((v.mean_pending_ms * 100.0).round(), 11_985.0);
    let a = v.anomalies;
    assert_eq!((a.lost, a.charged_twice, a.paid_out_of_stock), (1, 1, 7));
    assert_eq!((a.paid_never_shipped, a.shipped_twice), (7, 0));
}

#[test]
fn pipeline_mended_file_ends_every_order_shipped_or_compensated() {
    let (v, published) = pipeline_file("mended-pipeline.json");
    assert_eq!((v.orders, v.shipped, v.compensated), (40, 30, 10));
    // The costs in messages and time: compensations and the relay's resend, and three relay
    // polls of 100 ms on the way to shipping.
    assert_eq!(published, 161);
    assert_eq!((v.mean_pending_ms * 100.0).round(), 40_445.0);
    assert_eq!(v.anomalies, Default::default());
    // 41 relayed order events for 40 orders (the relay's crash resent one), and duplicates
    // skipped at the order and payment services.
    let costs: Vec<_> = v
        .services
        .iter()
        .map(|s| (s.relayed, s.duplicates_skipped, s.compensations))
        .collect();
    assert_eq!(costs, vec![(41, 1, 0), (45, 2, 10), (35, 0, 5), (0, 0, 0)]);
}

#[test]
fn pipeline_orchestrated_file_ends_every_saga_instance() {
    let (v, published) = pipeline_file("orchestrated-pipeline.json");
    // The same ends as the mended (choreographed) file: 30 shipped, 10 compensated.
    assert_eq!(
        (v.orders, v.shipped, v.compensated, v.locked),
        (40, 30, 10, 0)
    );
    // Mended choreography publishes 161: a command and a reply per step cost about 100 more.
    assert_eq!(published, 263);
    // And a longer time under the lock: 593 ms pending on average against 404 ms.
    assert_eq!((v.mean_pending_ms * 100.0).round(), 59_290.0);
    assert_eq!(v.anomalies, Default::default());
    assert!(v
        .sagas
        .iter()
        .all(|s| s.instance.is_some_and(|i| i.end_state)));
}

// ---------------------------------------------------------------- Redis Streams (scenarios/redis_streams)

fn streams_file(name: &str) -> String {
    format!("{SCENARIOS}/redis_streams/{name}")
}

#[test]
fn rst_01_file_pubsub_forgets_streams_remember() {
    let (s, events, r) = run_file(&streams_file("rst-01-pubsub-vs-streams.json"), 10_000);
    let missed = dropped(&s, DropReason::NoSubscriber);
    assert_eq!(missed, 8, "{}", trace(&events));
    assert_eq!(r.streams.consumers["biller"].seen.len(), 20);
    assert_eq!(r.received["notifier"].len() as u64, 20 - missed);
    let v = &r.streams.streams[0];
    assert_eq!(
        (v.length, v.groups[0].pending, v.groups[0].lag),
        (20, 0, Some(0))
    );
}

#[test]
fn rst_02_file_maxlen_approx_keeps_whole_nodes() {
    let (_, _, r) = run_file(&streams_file("rst-02-maxlen-exact-vs-approx.json"), 10_000);
    let len: Vec<(String, u64)> = (r.streams.streams.iter())
        .map(|v| (v.key.clone(), v.length))
        .collect();
    assert_eq!(len, [("exact".into(), 10), ("approx".into(), 50)]);
}

#[test]
fn rst_07_file_dead_consumers_entries_wait_for_a_claim() {
    let path = streams_file("rst-07-claim-a-dead-consumers-entries.json");
    let (s, _, r) = run_file(&path, 2_000);
    let pending = r.streams.consumers["w1"].pending;
    assert!(pending.is_some_and(|n| n > 0), "w1 died holding entries");
    assert_eq!(s.snapshot().streams[0].groups[0].pending, pending.unwrap());
    let (_, events, r) = run_file(&path, 10_000);
    let claims = events
        .iter()
        .filter(|e| e.to_string().contains("XAUTOCLAIM rs0:g0 by c1 -> 1"))
        .count();
    assert_eq!(claims, 1, "one claim takes them all");
    assert_eq!(r.streams.consumers["w1"].pending, Some(0));
    let g = &r.streams.streams[0].groups[0];
    assert_eq!((g.pending, g.lag), (0, Some(0)));
    let seen = r.streams.consumers["w1"].seen.len() + r.streams.consumers["w2"].seen.len();
    assert!(seen > 30, "the claimed entries were seen twice: {seen}");
}

// ---------------------------------------------------------------- ZeroMQ (scenarios/zeromq)

fn zmq_file(name: &str) -> String {
    format!("{SCENARIOS}/zeromq/{name}")
}

/// When each consumer finished its first message.
fn first_processed(events: &[Event], s: &Simulation, consumer: &str) -> SimTime {
    let id = consumer_id(s, consumer);
    (events.iter())
        .find(|e| matches!(e.kind, EventKind::Processed { consumer, .. } if consumer == id))
        .map(|e| e.time)
        .unwrap_or_else(|| panic!("{consumer} processed nothing"))
}

#[test]
fn zmq_broker_or_brokerless_a_crash_loses_the_pipes_not_the_queue() {
    let (s, events, r) = run_file(&zmq_file("zmq-01-broker-or-brokerless.json"), 30_000);
    // One hop fewer: the first job is done at 100 + 2 + 150 ms through ZeroMQ, 2 ms later
    // through the broker.
    assert_eq!(
        first_processed(&events, &s, "zmq-app"),
        SimTime::from_millis(252)
    );
    assert_eq!(
        first_processed(&events, &s, "rmq-worker"),
        SimTime::from_millis(254)
    );
    let l = s.ledger();
    assert_eq!(l.published, 120);
    // RabbitMQ requeued the one unacked job (RMQ-15) and did all 60.
    let rmq = &r.received["rmq-worker"];
    assert_eq!(rmq.len(), 61);
    assert_eq!(rmq.iter().filter(|m| m.redelivered).count(), 1);
    // ZeroMQ lost the job in hand and the 9 in the worker's pipe.
    assert_eq!(l.dropped.get(&DropReason::ProcessExit), Some(&10));
    assert_eq!(l.dropped_total(), 10);
    assert_eq!(r.received["zmq-app"].len(), 51);
    assert_eq!(l.acked, 110);
}

#[test]
fn zmq_push_slow_joiner_first_pull_takes_the_batch() {
    let (_, _, r) = run_file(&zmq_file("zmq-05-push-slow-joiner.json"), 5_000);
    assert_eq!(r.received["c1"].len(), 105);
    assert_eq!(r.received["c2"].len(), 5);
}

#[test]
fn zmq_pub_drops_only_for_the_slow_subscriber() {
    let (s, _, r) = run_file(&zmq_file("zmq-06-pub-hwm-drop.json"), 30_000);
    assert_eq!(r.received["fast-app"].len(), 100);
    assert_eq!(r.received["slow-app"].len(), 8);
    assert_eq!(dropped(&s, DropReason::HwmDrop), 92);
}

#[test]
fn zmq_pub_slow_joiner_loses_the_startup_burst() {
    let (s, _, r) = run_file(&zmq_file("zmq-08-pub-slow-joiner.json"), 1_000);
    assert_eq!(dropped(&s, DropReason::SlowJoiner), 1000);
    assert_eq!(r.received["viewer"].len(), 10);
}

#[test]
fn zmq_req_stays_stuck_after_its_rep_died() {
    let (s, _, r) = run_file(&zmq_file("zmq-09-req-stuck.json"), 60_000);
    assert_eq!(s.ledger().published, 1);
    assert_eq!(dropped(&s, DropReason::ProcessExit), 1);
    assert_eq!(r.received["svc"].len(), 1);
}
