//! The narrated lessons in `scenarios/lessons/`: every file is a well-formed lesson (both
//! languages, pause points, highlights that name real entities, step times inside the run), and
//! for each of the thirteen shipped lessons the claim its narration makes is checked on the
//! simulation at the time of the step that makes it.

use crate::helpers::{assert_no_leaks, consumer_id, dropped, first_time, queue_view, trace};
use broker_sim::command::Command;
use broker_sim::event::ZmqEvent;
use broker_sim::scenario::{ConsumerSource, PublishTarget};
use broker_sim::ConsumerStatus;
use broker_sim::{DropReason, Event, EventKind, Scenario, Settle, SimTime, Simulation};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

const LESSONS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/lessons");

/// A lesson being played step by step, as the app does: the clock runs to each step's time.
struct Lesson {
    name: String,
    scenario: Scenario,
    sim: Simulation,
    /// Every event since time 0.
    events: Vec<Event>,
}

impl Lesson {
    fn load(file: &str) -> Lesson {
        let path = format!("{LESSONS}/{file}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let scenario = Scenario::from_json(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let sim = Simulation::new(&scenario, 1).unwrap_or_else(|e| panic!("{file}: {e}"));
        Lesson {
            name: file.to_string(),
            scenario,
            sim,
            events: Vec::new(),
        }
    }

    fn step_ms(&self, i: usize) -> f64 {
        self.scenario.narration.as_ref().expect("narration").steps[i].at_ms
    }

    /// Runs to narration step `i` (checking it is at `expect_ms`, so an edited time points here).
    fn run_to_step(&mut self, i: usize, expect_ms: f64) {
        let at = self.step_ms(i);
        assert_eq!(at, expect_ms, "{}: step {i} moved", self.name);
        self.run_to(at);
    }

    fn run_to(&mut self, ms: f64) {
        let t = SimTime((ms * 1_000.0).round() as u64);
        let new = self.sim.advance_to(t);
        self.events.extend(new);
        assert_no_leaks(&self.sim);
    }

    fn received(&self, consumer: &str) -> Vec<(u64, bool)> {
        crate::helpers::received_by(&self.events, &self.sim, consumer)
    }

    fn ids(&self, consumer: &str) -> Vec<u64> {
        self.received(consumer)
            .into_iter()
            .map(|(m, _)| m)
            .collect()
    }

    fn contents(&self, queue: &str) -> Vec<u64> {
        crate::helpers::queue_contents(&self.sim, queue)
    }

    /// Messages whose processing finished without failure, per consumer name.
    fn processed(&self, consumer: &str) -> Vec<u64> {
        let id = consumer_id(&self.sim, consumer);
        self.events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::Processed {
                    msg,
                    consumer,
                    failed: false,
                } if consumer == id => Some(msg.0),
                _ => None,
            })
            .collect()
    }

    fn consumer(&self, name: &str) -> broker_sim::snapshot::ConsumerView {
        self.sim
            .snapshot()
            .consumers
            .into_iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no consumer {name}"))
    }

    fn group(&self, name: &str) -> broker_sim::snapshot::GroupView {
        self.sim
            .snapshot()
            .groups
            .into_iter()
            .find(|g| g.name == name)
            .unwrap_or_else(|| panic!("no group {name}"))
    }

    /// A group's members by name, each with the partitions it owns.
    fn owners(&self, group: &str) -> BTreeMap<String, Vec<u32>> {
        let snap = self.sim.snapshot();
        self.group(group)
            .members
            .into_iter()
            .map(|(c, tps)| {
                let name = snap.consumers[c.index()].name.clone();
                (name, tps.into_iter().map(|(_, p)| p).collect())
            })
            .collect()
    }

    /// Ids of the messages a producer published, in order.
    fn published_by(&self, producer: &str) -> Vec<u64> {
        let id = self
            .sim
            .snapshot()
            .producers
            .into_iter()
            .find(|p| p.name == producer)
            .unwrap_or_else(|| panic!("no producer {producer}"))
            .id;
        self.events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::Published { msg, producer } if producer == id => Some(msg.0),
                _ => None,
            })
            .collect()
    }

    fn trace(&self) -> String {
        trace(&self.events)
    }
}

fn lesson_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(LESSONS)
        .expect("scenarios/lessons/")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// Every name a step may highlight: the entities of the scenario and those its script adds.
fn entity_names(s: &Scenario) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    names.extend(s.exchanges.iter().map(|x| x.name.clone()));
    names.extend(s.queues.iter().map(|q| q.name.clone()));
    names.extend(s.producers.iter().map(|p| p.name.clone()));
    names.extend(s.consumers.iter().map(|c| c.name.clone()));
    names.extend(s.topics.iter().map(|t| t.name.clone()));
    names.extend(s.groups.iter().map(|g| g.name.clone()));
    names.extend(s.services.iter().map(|x| x.name.clone()));
    names.extend(
        s.pulsar
            .iter()
            .flat_map(|p| p.topics.iter().map(|t| t.name.clone())),
    );
    for peer in s.zeromq.iter().flat_map(|z| &z.peers) {
        names.extend(
            peer.sockets
                .iter()
                .map(|k| format!("{}/{}", peer.name, k.name)),
        );
    }
    names.extend(s.sqs_queues.iter().map(|q| q.name.clone()));
    if let Some(jms) = &s.jms {
        names.extend(jms.queues.iter().map(|q| q.name.clone()));
        names.extend(jms.topics.iter().map(|t| t.name.clone()));
    }
    for st in &s.streams {
        names.insert(st.key.clone());
        names.extend(st.groups.iter().map(|g| g.name.clone()));
    }
    let mut producers: Vec<_> = s.producers.iter().collect();
    let mut consumers: Vec<_> = s.consumers.iter().collect();
    for sc in &s.script {
        match &sc.command {
            Command::AddConsumer { consumer } => {
                names.insert(consumer.name.clone());
                consumers.push(consumer);
            }
            Command::AddProducer { producer } => {
                names.insert(producer.name.clone());
                producers.push(producer);
            }
            Command::AddQueue { queue } => {
                names.insert(queue.name.clone());
            }
            Command::AddGroup { group } => {
                names.insert(group.name.clone());
            }
            _ => {}
        }
    }
    // Redis channels exist as soon as someone publishes or subscribes to them.
    for p in producers {
        for t in &p.targets {
            if let PublishTarget::Channel(ch) = t {
                names.insert(ch.clone());
            }
        }
    }
    for c in consumers {
        match &c.source {
            ConsumerSource::Subscribe { channels, .. } => names.extend(channels.iter().cloned()),
            // A durable subscription is named by its client id and name (AMQ-2).
            ConsumerSource::JmsTopic {
                durable: Some(d), ..
            } => {
                names.insert(format!("{}:{}", d.client_id, d.name));
            }
            _ => {}
        }
    }
    names
}

// ---------------------------------------------------------------- every lesson file

#[test]
fn every_lesson_is_a_complete_bilingual_narrated_scenario() {
    let files = lesson_files();
    assert!(
        files.len() >= 13,
        "13 lessons expected, found {}",
        files.len()
    );
    for path in &files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        // from_json refuses a missing translation anywhere in the narration.
        let s = Scenario::from_json(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        for (what, t) in [("title", &s.title), ("description", &s.description)] {
            let t = t.as_ref().unwrap_or_else(|| panic!("{file}: no {what}"));
            assert!(
                !t.en.trim().is_empty() && !t.ko.trim().is_empty(),
                "{file}: {what}"
            );
        }
        let n = s
            .narration
            .as_ref()
            .unwrap_or_else(|| panic!("{file}: no narration"));
        assert!(
            (4..=8).contains(&n.steps.len()),
            "{file}: a lesson has 4 to 8 steps, found {}",
            n.steps.len()
        );
        assert!(
            n.steps.iter().any(|st| st.question.is_some()),
            "{file}: at least one predict-then-reveal pause point"
        );
        let names = entity_names(&s);
        for (i, st) in n.steps.iter().enumerate() {
            assert!(
                !st.highlight.is_empty(),
                "{file}: step {i} highlights nothing"
            );
            for h in &st.highlight {
                assert!(
                    names.contains(h),
                    "{file}: step {i} highlights {h:?}, which is not an entity: {names:?}"
                );
            }
        }
        for w in n.steps.windows(2) {
            assert!(
                w[0].at_ms < w[1].at_ms,
                "{file}: two steps at {} ms",
                w[1].at_ms
            );
        }
        let first = n.steps[0].at_ms;
        let last = n.steps.last().unwrap().at_ms;
        assert!(first > 0.0, "{file}: the first step is after the start");
        assert!(
            last <= 60_000.0,
            "{file}: a class should not wait over a minute"
        );
        let last_command = s.script.iter().map(|c| c.at_ms).fold(0.0, f64::max);
        assert!(
            last >= last_command,
            "{file}: the script acts at {last_command} ms, after the last step at {last} ms"
        );

        // The run reaches every step with a balanced ledger, and the last step does not come
        // long after everything has stopped moving.
        let mut sim = Simulation::new(&s, 1).unwrap();
        let mut last_event = SimTime::ZERO;
        for st in &n.steps {
            let events = sim.advance_to(SimTime((st.at_ms * 1_000.0) as u64));
            assert_no_leaks(&sim);
            if let Some(e) = events.last() {
                last_event = e.time;
            }
            for e in &events {
                if let EventKind::CommandApplied { summary } = &e.kind {
                    assert!(!summary.contains("refused"), "{file}: {summary}");
                }
            }
        }
        assert!(
            last * 1_000.0 - last_event.0 as f64 <= 5_000_000.0,
            "{file}: nothing happens in the 5 s before the last step (last event at {last_event})"
        );
    }
}

// ---------------------------------------------------------------- the claims, lesson by lesson

#[test]
fn lesson_01_a_message_broker_deletes_acked_messages() {
    let mut l = Lesson::load("01-deleted-on-ack.json");
    l.run_to_step(0, 1_000.0);
    let q = queue_view(&l.sim, "orders");
    assert_eq!((q.ready, q.unacked), (0, 1), "the first order is Unacked");
    assert_eq!(l.sim.ledger().acked, 0);

    l.run_to_step(1, 1_800.0);
    assert_eq!(l.sim.ledger().acked, 1, "the first ack arrived");
    assert!(
        !l.contents("orders").contains(&0),
        "and the first order is gone"
    );
    assert!(
        queue_view(&l.sim, "orders").ready >= 1,
        "the others wait as Ready"
    );

    l.run_to_step(2, 3_300.0);
    assert_eq!(l.sim.ledger().published, 6);

    l.run_to_step(3, 6_000.0);
    let q = queue_view(&l.sim, "orders");
    assert_eq!(q.total, 0, "the queue is empty");
    let led = l.sim.ledger();
    assert_eq!((led.acked, led.published), (6, 6), "acked == published");
    assert_eq!(led.dropped_total() + led.expired, 0);

    l.run_to_step(4, 8_000.0);
    let late = l.consumer("late-worker");
    assert_eq!(late.status, ConsumerStatus::Running);
    assert_eq!(late.delivered, 0, "nothing is left to replay");
}

#[test]
fn lesson_02_the_log_is_kept_and_a_new_group_replays_it() {
    let mut l = Lesson::load("02-log-retained-replay.json");
    l.run_to_step(1, 5_500.0);
    let billing = l.group("billing");
    assert_eq!((billing.processed, billing.lag), (8, 0));
    let p = &l.sim.snapshot().topics[0].partitions[0];
    assert_eq!(
        (p.log_start, p.log_end),
        (0, 8),
        "all eight records still in the log"
    );
    assert_eq!(l.sim.ledger().retained, 8);
    assert_eq!(l.sim.ledger().acked, 0, "consuming deleted nothing");

    l.run_to_step(3, 9_500.0);
    let analytics = l.group("analytics");
    assert_eq!((analytics.processed, analytics.duplicates), (8, 0));
    let offsets: Vec<u64> = l.sim.report(1, &l.events).group_deliveries["analytics-1"]
        .iter()
        .map(|d| d.offset)
        .collect();
    assert_eq!(
        offsets,
        (0..8).collect::<Vec<_>>(),
        "replayed from offset 0"
    );
    let billing = l.group("billing");
    assert_eq!(
        (billing.processed, billing.duplicates),
        (8, 0),
        "billing unaffected"
    );
}

#[test]
fn lesson_03_a_queue_shares_work_and_an_exchange_copies_it() {
    let mut l = Lesson::load("03-queue-vs-pubsub.json");
    let jobs_of = |l: &Lesson| l.published_by("uploader");
    l.run_to_step(1, 1_300.0);
    let jobs = jobs_of(&l);
    assert_eq!(l.ids("worker-1").first(), Some(&jobs[0]));
    assert_eq!(l.ids("worker-2").first(), Some(&jobs[1]), "in rotation");

    l.run_to_step(2, 4_200.0);
    let jobs = jobs_of(&l);
    let news = l.published_by("newsroom");
    assert_eq!((jobs.len(), news.len()), (6, 6));
    let (w1, w2) = (l.processed("worker-1"), l.processed("worker-2"));
    assert_eq!((w1.len(), w2.len()), (3, 3), "three jobs each");
    let mut all: Vec<u64> = w1.iter().chain(&w2).copied().collect();
    all.sort();
    assert_eq!(all, jobs, "every job done exactly once");
    assert_eq!(l.processed("app"), news, "every subscriber gets every item");
    assert_eq!(l.processed("email"), news);
}

#[test]
fn lesson_04_a_queue_buffers_the_burst_a_direct_service_loses_most_of_it() {
    let mut l = Lesson::load("04-buffering.json");
    l.run_to_step(1, 1_300.0);
    let svc = l.sim.snapshot().services[0].clone();
    assert_eq!(
        svc.rejected, 7_997,
        "backlog of 2,000 + 3 busy; the rest refused"
    );
    assert_eq!(svc.waiting + u64::from(svc.busy) + svc.served, 2_003);
    let q = queue_view(&l.sim, "requests");
    assert_eq!(
        q.total + l.processed_total_from_queue(),
        10_000,
        "the queue took all"
    );

    l.run_to_step(2, 6_500.0);
    let svc = l.sim.snapshot().services[0].clone();
    assert_eq!((svc.served, svc.timed_out), (1_500, 503));
    assert_eq!((svc.busy, svc.waiting), (0, 0), "order-api is idle again");
    assert!(
        queue_view(&l.sim, "requests").total > 0,
        "the queue is still draining"
    );
    assert_eq!(
        l.sim.ledger().dropped_total(),
        7_997 + 503,
        "the only losses are the service's"
    );

    l.run_to_step(4, 36_000.0);
    assert_eq!(queue_view(&l.sim, "requests").total, 0);
    assert_eq!(
        l.processed_total_from_queue(),
        10_000,
        "every request served"
    );
    assert_eq!(dropped(&l.sim, DropReason::ServiceOverloaded), 7_997);
    assert_eq!(dropped(&l.sim, DropReason::RequestTimeout), 503);
    assert_eq!(l.sim.ledger().dropped_total(), 8_500);
}

impl Lesson {
    /// Acks settled by the queue's three workers.
    fn processed_total_from_queue(&self) -> u64 {
        ["worker-1", "worker-2", "worker-3"]
            .iter()
            .map(|w| self.consumer(w).acked)
            .sum()
    }
}

#[test]
fn lesson_05_a_crash_redelivers_and_a_lost_ack_duplicates() {
    let mut l = Lesson::load("05-crash-redelivery.json");
    l.run_to_step(0, 3_500.0);
    let a = l.consumer("worker-a");
    assert_eq!(a.unacked_count, 1, "worker-a holds m2, unacked");
    assert_eq!(l.ids("worker-a").last(), Some(&2));

    l.run_to_step(1, 4_000.0);
    assert_eq!(l.consumer("worker-a").status, ConsumerStatus::Crashed);
    assert_eq!(
        l.received("worker-b").last(),
        Some(&(2, true)),
        "m2 redelivered"
    );
    assert!(
        !l.processed("worker-a").contains(&2),
        "worker-a never finished m2"
    );

    l.run_to_step(2, 6_550.0);
    assert_eq!(l.processed("worker-b").last(), Some(&4), "m4 processed");
    let settled_m4 = l
        .events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Settled { msg, .. } if msg.0 == 4));
    assert!(!settled_m4, "its ack has not arrived yet\n{}", l.trace());

    l.run_to_step(3, 7_700.0);
    assert_eq!(
        l.received("worker-a").last(),
        Some(&(4, true)),
        "m4 redelivered"
    );

    l.run_to_step(4, 8_900.0);
    assert_eq!(
        l.processed("worker-a").last(),
        Some(&4),
        "m4 processed a second time"
    );

    l.run_to_step(5, 10_500.0);
    let led = l.sim.ledger();
    assert_eq!((led.published, led.acked), (8, 8), "nothing lost");
    assert_eq!(led.dropped_total(), 0);
    let processings = l.processed("worker-a").len() + l.processed("worker-b").len();
    assert_eq!(processings, 9, "nine processings of eight payments");
}

#[test]
fn lesson_06_priority_reorders_only_what_waits_in_the_queue() {
    let mut l = Lesson::load("06-priority.json");
    l.run_to_step(1, 1_400.0);
    let vip = l.published_by("vip");
    assert_eq!(vip.len(), 1);
    let vip = vip[0];
    assert_eq!(
        l.contents("prio").first(),
        Some(&vip),
        "head of the line in prio"
    );
    assert_eq!(l.contents("plain").last(), Some(&vip), "tail in plain");
    assert_eq!(
        l.contents("prio-prefetch-10"),
        vec![vip],
        "waits alone as Ready"
    );
    assert_eq!(l.consumer("agent-bulk").unacked_count, 10, "prefetch full");

    l.run_to_step(2, 2_300.0);
    let order = l.processed("agent-prio");
    assert_eq!(order.iter().position(|m| *m == vip), Some(1), "second");

    l.run_to_step(3, 6_500.0);
    let order = l.processed("agent-bulk");
    assert_eq!(order.len(), 11);
    assert_eq!(order.last(), Some(&vip), "after the ten it already held");

    l.run_to_step(4, 9_500.0);
    let order = l.processed("agent-plain");
    assert_eq!(order.len(), 11);
    assert_eq!(order.last(), Some(&vip), "no x-max-priority: plain FIFO");
}

#[test]
fn lesson_07_a_full_queue_drops_the_head_refuses_or_dead_letters() {
    let mut l = Lesson::load("07-full-queue.json");
    l.run_to_step(0, 1_800.0);
    for q in ["drop-head", "reject-publish", "drop-head-dlx"] {
        assert_eq!(l.contents(q), vec![0, 1, 2], "{q} is full");
    }

    l.run_to_step(1, 2_300.0);
    assert_eq!(l.contents("drop-head"), vec![1, 2, 3], "m0 thrown away");
    assert_eq!(l.contents("reject-publish"), vec![0, 1, 2], "m3 refused");
    assert_eq!(l.contents("drop-head-dlx"), vec![1, 2, 3]);
    assert_eq!(l.contents("overflow-dlq"), vec![0], "m0 kept in the DLQ");
    let r = l.sim.report(1, &l.events);
    assert_eq!(
        r.publishers["sensor"]
            .nacked
            .iter()
            .map(|m| m.0)
            .collect::<Vec<_>>(),
        [3]
    );

    l.run_to_step(2, 4_300.0);
    assert_eq!(l.contents("drop-head"), vec![5, 6, 7]);
    assert_eq!(l.contents("drop-head-dlx"), vec![5, 6, 7]);
    assert_eq!(l.contents("reject-publish"), vec![0, 1, 2]);
    assert_eq!(l.contents("overflow-dlq"), vec![0, 1, 2, 3, 4]);
    let r = l.sim.report(1, &l.events);
    let sensor = &r.publishers["sensor"];
    assert_eq!((sensor.confirms_acked, sensor.confirms_nacked), (3, 5));
    assert!(r
        .dead_letters
        .iter()
        .all(|d| d.reason == "maxlen" && d.from_queue == "drop-head-dlx"));
    assert_eq!(
        dropped(&l.sim, DropReason::MaxLength),
        5,
        "drop-head's losses"
    );
    assert_eq!(
        dropped(&l.sim, DropReason::RejectedByQueue),
        5,
        "reject-publish's refusals"
    );
}

#[test]
fn lesson_08_ttl_and_the_delivery_limit_send_messages_to_the_dlq() {
    let mut l = Lesson::load("08-ttl-dlq-poison.json");
    l.run_to_step(0, 2_300.0);
    assert_eq!(l.contents("quotes"), vec![0, 2], "quotes wait, unread");
    assert!(l.contents("dead-letters").is_empty());

    l.run_to_step(1, 3_400.0);
    let poison = l.published_by("shop")[2];
    assert_eq!(l.received("order-worker").last(), Some(&(poison, true)));

    l.run_to_step(2, 4_300.0);
    assert_eq!(
        l.contents("dead-letters"),
        vec![0],
        "m0 expired into the DLQ"
    );
    assert!(
        l.contents("orders").contains(&6),
        "m6 waits behind the poison message"
    );

    l.run_to_step(3, 5_300.0);
    let deliveries = l
        .ids("order-worker")
        .iter()
        .filter(|m| **m == poison)
        .count();
    assert_eq!(deliveries, 4, "delivered, then redelivered three times");
    let r = l.sim.report(1, &l.events);
    let dl: Vec<(u64, &str, &str)> = r
        .dead_letters
        .iter()
        .map(|d| (d.msg.0, d.from_queue.as_str(), d.reason.as_str()))
        .collect();
    assert!(dl.contains(&(poison, "orders", "delivery_limit")), "{dl:?}");
    assert_eq!(
        l.ids("order-worker").last(),
        Some(&6),
        "the queue flows again"
    );

    l.run_to_step(4, 6_500.0);
    let r = l.sim.report(1, &l.events);
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &r.dead_letters {
        *reasons.entry(d.reason.as_str()).or_default() += 1;
    }
    assert_eq!(
        reasons,
        BTreeMap::from([("delivery_limit", 1), ("expired", 3)])
    );
    assert_eq!(l.contents("dead-letters").len(), 4);
    assert_eq!(l.sim.ledger().dropped_total(), 0, "nothing lost silently");
}

#[test]
fn lesson_09_pubsub_misses_what_was_sent_while_away_the_queue_keeps_it() {
    let mut l = Lesson::load("09-pubsub-vs-queue.json");
    l.run_to_step(1, 2_400.0);
    assert_eq!(l.consumer("live-sub").status, ConsumerStatus::Crashed);
    assert_eq!(l.consumer("queue-reader").status, ConsumerStatus::Crashed);

    l.run_to_step(2, 4_200.0);
    assert_eq!(dropped(&l.sim, DropReason::NoSubscriber), 4);
    assert_eq!(l.contents("news-queue"), vec![4, 5, 6, 7]);

    l.run_to_step(4, 6_600.0);
    let all = l.published_by("newsroom");
    assert_eq!(all.len(), 12);
    // The items published while the subscriber was away are exactly those PUBLISH sent to no one.
    let (away_from, away_to) = (SimTime::from_millis(2_400), SimTime::from_millis(4_300));
    let published_away: BTreeSet<u64> = l
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::Published { msg, .. } if e.time > away_from && e.time < away_to => {
                Some(msg.0)
            }
            _ => None,
        })
        .collect();
    let sent_to_no_one: BTreeSet<u64> = l
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::ChannelPublished {
                msg, receivers: 0, ..
            } => Some(msg.0),
            _ => None,
        })
        .collect();
    assert_eq!(published_away, BTreeSet::from([4, 5, 6, 7]));
    assert_eq!(sent_to_no_one, published_away);
    let got: BTreeSet<u64> = l.processed("live-sub").into_iter().collect();
    let missed: BTreeSet<u64> = all.iter().copied().filter(|m| !got.contains(m)).collect();
    assert_eq!(missed, published_away, "live-sub missed exactly those");
    assert_eq!(
        l.processed("queue-reader"),
        all,
        "the queue kept them all, in order"
    );
}

#[test]
fn lesson_10_partitions_keep_key_order_and_cap_the_group() {
    let mut l = Lesson::load("10-kafka-partitions.json");
    let owners = |l: &Lesson| l.owners("shipping");
    l.run_to_step(0, 3_000.0);
    assert_eq!(owners(&l)["ship-1"], vec![0, 1, 2]);

    l.run_to_step(1, 4_600.0);
    assert!(l.group("shipping").rebalancing, "eager: everyone stopped");
    assert!(owners(&l).values().all(Vec::is_empty));

    l.run_to_step(2, 5_600.0);
    let o = owners(&l);
    assert_eq!(
        (o["ship-1"].clone(), o["ship-2"].clone()),
        (vec![0, 1], vec![2])
    );

    l.run_to_step(3, 9_500.0);
    let o = owners(&l);
    assert!(
        ["ship-1", "ship-2", "ship-3"]
            .iter()
            .all(|m| o[*m].len() == 1),
        "{o:?}"
    );

    l.run_to_step(4, 13_000.0);
    assert_eq!(
        owners(&l)["ship-4"],
        Vec::<u32>::new(),
        "the fourth member sits idle"
    );

    l.run_to_step(5, 15_500.0);
    let g = l.group("shipping");
    assert_eq!((g.processed, g.duplicates, g.lag), (60, 0, 0));
    let r = l.sim.report(1, &l.events);
    assert!(r.group_deliveries.get("ship-4").is_none_or(Vec::is_empty));
    // Same key, same partition: the producer cycles six keys, so a message's key is its id mod 6.
    let keys = ["alice", "bob", "carol", "dave", "erin", "frank"];
    let mut partition_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (tp, records) in &r.partitions {
        for (_, msg) in records {
            partition_of
                .entry(keys[(msg.0 % 6) as usize])
                .or_default()
                .insert(tp.as_str());
        }
    }
    assert!(
        partition_of.values().all(|p| p.len() == 1),
        "{partition_of:?}"
    );
    for (key, partition) in [
        ("alice", "orders/0"),
        ("bob", "orders/0"),
        ("dave", "orders/1"),
        ("frank", "orders/1"),
        ("carol", "orders/2"),
        ("erin", "orders/2"),
    ] {
        assert_eq!(
            partition_of[key],
            BTreeSet::from([partition]),
            "{key}, as step 0 says"
        );
    }
    // Each partition was processed in offset order across its changing owners.
    let mut by_partition: BTreeMap<u32, Vec<(SimTime, u64)>> = BTreeMap::new();
    for e in &l.events {
        if let EventKind::RecordProcessed {
            partition, offset, ..
        } = e.kind
        {
            by_partition
                .entry(partition)
                .or_default()
                .push((e.time, offset));
        }
    }
    for (p, seen) in by_partition {
        let offsets: Vec<u64> = seen.iter().map(|(_, o)| *o).collect();
        assert_eq!(offsets, (0..20).collect::<Vec<_>>(), "partition {p}");
    }
}

#[test]
fn lesson_11_the_producer_carries_on_and_the_consumer_catches_up() {
    let mut l = Lesson::load("11-decoupling.json");
    l.run_to_step(0, 2_500.0);
    assert!(
        queue_view(&l.sim, "orders").total <= 1,
        "the queue stays almost empty"
    );

    l.run_to_step(1, 3_700.0);
    assert_eq!(l.consumer("shipping").status, ConsumerStatus::Crashed);
    let acked_at_crash = l.sim.ledger().acked;
    let sent_at_crash = l.published_by("order-service").len();

    l.run_to_step(2, 6_500.0);
    let sent = l.published_by("order-service").len();
    assert_eq!(sent - sent_at_crash, 6, "still two per second");
    assert_eq!(
        l.sim.ledger().acked,
        acked_at_crash,
        "nothing consumed meanwhile"
    );

    l.run_to_step(3, 9_500.0);
    assert_eq!(
        queue_view(&l.sim, "orders").ready,
        12,
        "twelve orders waiting"
    );

    l.run_to_step(4, 11_700.0);
    assert_eq!(queue_view(&l.sim, "orders").ready, 0, "caught up");

    l.run_to_step(5, 15_800.0);
    let led = l.sim.ledger();
    assert_eq!((led.published, led.acked, led.dropped_total()), (30, 30, 0));
    let got = l.received("shipping");
    assert!(
        got.iter().all(|(_, redelivered)| !redelivered),
        "none lost or redone"
    );
    assert_eq!(
        got.into_iter().map(|(m, _)| m).collect::<Vec<_>>(),
        (0..30).collect::<Vec<_>>()
    );
}

#[test]
fn lesson_12_the_four_exchange_types_route_as_predicted() {
    let mut l = Lesson::load("12-routing.json");
    l.run_to_step(1, 2_000.0);
    assert_eq!(l.contents("eu-orders"), vec![0]);
    assert_eq!(l.contents("us-orders"), vec![1]);
    assert_eq!(dropped(&l.sim, DropReason::Unroutable), 1, "asia");

    // Messages by routing key or headers, in publish order.
    l.run_to_step(3, 4_800.0);
    let [app_error, db_error, app_web_error, app] = l.published_by("log-pub")[..] else {
        panic!("four log lines")
    };
    assert_eq!(l.contents("errors"), vec![app_error, db_error]);
    assert_eq!(l.contents("app-logs"), vec![app_error, app_web_error, app]);

    l.run_to_step(4, 6_800.0);
    let cache = l.published_by("cache-pub");
    assert_eq!(cache.len(), 2);
    assert_eq!(l.contents("cache-a"), cache);
    assert_eq!(l.contents("cache-b"), cache);

    l.run_to_step(6, 9_500.0);
    let [pdf_report, pdf_invoice, _csv_log] = l.published_by("doc-pub")[..] else {
        panic!("three documents")
    };
    assert_eq!(l.contents("pdf-reports"), vec![pdf_report]);
    assert_eq!(l.contents("pdf-or-report"), vec![pdf_report, pdf_invoice]);
    assert_eq!(
        dropped(&l.sim, DropReason::Unroutable),
        2,
        "asia and the csv document"
    );
}

/// Whether message `msg` has been acked by now.
fn acked(l: &Lesson, msg: u64) -> bool {
    l.events.iter().any(
        |e| matches!(e.kind, EventKind::Settled { msg: m, settle: Settle::Ack, .. } if m.0 == msg),
    )
}

#[test]
fn lesson_13_the_translator_stage_publishes_a_new_message_then_acks() {
    let mut l = Lesson::load("13-transform.json");
    l.run_to_step(0, 500.0);
    assert!(l.published_by("legacy-shop").is_empty());

    l.run_to_step(1, 1_400.0);
    // m0 is in the translator's hands, unacked, still counted in to-translate.
    assert_eq!(l.ids("translator"), vec![0]);
    assert!(l.processed("translator").is_empty());
    assert!(!acked(&l, 0));

    l.run_to_step(2, 2_100.0);
    // The translation is a new message, m1, published before m0's ack; billing reads m1.
    assert_eq!(l.published_by("to-canonical"), vec![1]);
    let publish = |m: u64| {
        l.events
            .iter()
            .position(|e| matches!(e.kind, EventKind::Published { msg, .. } if msg.0 == m))
    };
    let ack = l.events.iter().position(
        |e| matches!(e.kind, EventKind::Settled { msg, settle: Settle::Ack, .. } if msg.0 == 0),
    );
    assert!(publish(1) < ack && ack.is_some(), "publish, then ack");
    assert!(
        l.contents("to-translate").is_empty(),
        "the original is gone"
    );
    assert_eq!(l.ids("billing-service"), vec![1]);
    assert!(
        l.processed("billing-service").is_empty(),
        "still reading it"
    );

    l.run_to_step(3, 6_300.0);
    let direct = l.published_by("new-shop");
    assert_eq!(direct.len(), 1);
    assert!(
        l.ids("billing-service").contains(&direct[0]),
        "via the exchange binding"
    );
    assert!(
        !l.ids("translator").contains(&direct[0]),
        "skipping the translator"
    );

    l.run_to_step(4, 8_800.0);
    let legacy = l.published_by("legacy-shop");
    let translated = l.published_by("to-canonical");
    let direct = l.published_by("new-shop");
    assert_eq!((legacy.len(), translated.len(), direct.len()), (4, 4, 3));
    assert_eq!(l.processed("translator"), legacy);
    assert!(legacy.iter().all(|&m| acked(&l, m)));
    let mut billed = l.processed("billing-service");
    billed.sort();
    let mut all: Vec<u64> = translated.iter().chain(&direct).copied().collect();
    all.sort();
    assert_eq!(billed, all, "seven orders: four translations, three direct");
    assert!(l.sim.report(1, &l.events).dead_letters.is_empty());
    assert_eq!(l.sim.ledger().dropped_total(), 0);
}

#[test]
fn lesson_16_pubsub_forgets_a_stream_remembers_and_a_claim_takes_over() {
    let mut l = Lesson::load("16-redis-pubsub-vs-streams.json");
    l.run_to_step(0, 2_000.0);
    assert_eq!(l.processed("live-sub"), [0, 1, 2]);
    assert_eq!(l.processed("reader"), [0, 1, 2]);

    l.run_to_step(1, 2_400.0);
    assert_eq!(l.consumer("live-sub").status, ConsumerStatus::Crashed);
    assert_eq!(l.consumer("reader").status, ConsumerStatus::Crashed);

    l.run_to_step(2, 4_800.0);
    assert_eq!(dropped(&l.sim, DropReason::NoSubscriber), 4);
    assert_eq!(l.processed("live-sub"), [0, 1, 2, 3, 8], "m4-m7 are gone");
    assert_eq!(
        l.processed("reader"),
        [0, 1, 2, 3, 4, 5, 6, 7],
        "the group kept them"
    );
    let reads = l.stream_lines("XREADGROUP c1 rs0:g0 > -> 2550-0");
    assert_eq!(
        reads,
        ["XREADGROUP c1 rs0:g0 > -> 2550-0 3050-0 3550-0 4050-0"]
    );
    assert_eq!(l.sim.snapshot().streams[0].length, 9, "acked entries stay");

    l.run_to_step(3, 5_200.0);
    assert_eq!(l.consumer("reader").status, ConsumerStatus::Crashed);
    let g = l.sim.snapshot().streams[0].groups[0].clone();
    assert_eq!(g.pending, 1);
    assert_eq!(
        (g.pel[0].id.to_string(), g.pel[0].owner.0),
        ("5050-0".into(), 1)
    );

    l.run_to_step(4, 6_500.0);
    assert_eq!(
        l.processed("standby"),
        [10, 11],
        "`>` gives only new entries"
    );
    let g = l.sim.snapshot().streams[0].groups[0].clone();
    assert_eq!(
        (g.pending, g.pel[0].idle_ms, g.pel[0].delivery_count),
        (1, 1_450.0, 1)
    );

    l.run_to_step(5, 7_200.0);
    assert_eq!(
        l.stream_lines("XAUTOCLAIM"),
        ["XAUTOCLAIM rs0:g0 by c2 -> 5050-0#2, cursor 0-0"]
    );
    assert_eq!(l.processed("standby"), [10, 11, 9]);
    let v = l.sim.snapshot().streams[0].clone();
    assert_eq!((v.length, v.groups[0].pending), (12, 0));
}

impl Lesson {
    /// The Redis stream events whose trace line contains `what`.
    fn stream_lines(&self, what: &str) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Streams(s) => Some(s.to_string()),
                _ => None,
            })
            .filter(|l| l.contains(what))
            .collect()
    }
}

impl Lesson {
    /// (ms, message) of every Pulsar dispatch to `consumer`, in order.
    fn pulsar_dispatched(&self, consumer: &str) -> Vec<(u64, u64)> {
        let id = consumer_id(&self.sim, consumer);
        (self.events.iter())
            .filter_map(|e| match e.kind {
                EventKind::PulsarDispatched { msg, consumer, .. } if consumer == id => {
                    Some((e.time.0 / 1_000, msg.0))
                }
                _ => None,
            })
            .collect()
    }

    /// (ms, message) of every message `consumer` finished, in order.
    fn processed_at(&self, consumer: &str) -> Vec<(u64, u64)> {
        let id = consumer_id(&self.sim, consumer);
        (self.events.iter())
            .filter_map(|e| match e.kind {
                EventKind::Processed {
                    msg,
                    consumer,
                    failed: false,
                } if consumer == id => Some((e.time.0 / 1_000, msg.0)),
                _ => None,
            })
            .collect()
    }

    /// The messages dropped with `reason`, in order.
    fn dropped_ids(&self, reason: DropReason) -> Vec<u64> {
        (self.events.iter())
            .filter_map(|e| match e.kind {
                EventKind::Dropped { msg, reason: r } if r == reason => Some(msg.0),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn lesson_20_one_log_four_cursors_and_a_crash_under_each_type() {
    let mut l = Lesson::load("20-pulsar-four-subscriptions.json");
    let msgs = |v: Vec<(u64, u64)>| v.into_iter().map(|(_, m)| m).collect::<Vec<_>>();
    l.run_to_step(0, 600.0);
    assert_eq!(l.published_by("shop"), [0, 1]);

    // PUL-2..PUL-6: every subscription gets every message; its type picks the consumer.
    l.run_to_step(1, 1_600.0);
    assert_eq!(msgs(l.pulsar_dispatched("audit-1")), [0, 1, 2, 3, 4, 5]);
    assert_eq!(msgs(l.pulsar_dispatched("billing-2")), [0, 1, 2, 3, 4, 5]);
    assert_eq!(
        l.pulsar_dispatched("billing-2")[0].0,
        1_020,
        "the failover delay"
    );
    assert_eq!(l.pulsar_dispatched("billing-1"), []);
    assert_eq!(msgs(l.pulsar_dispatched("ship-1")), [0, 2, 4]);
    assert_eq!(msgs(l.pulsar_dispatched("ship-2")), [1, 3, 5]);
    assert_eq!(msgs(l.pulsar_dispatched("mail-1")), [1, 4], "bob's");
    assert_eq!(msgs(l.pulsar_dispatched("mail-2")), [0, 2, 3, 5]);
    assert_eq!(l.sim.ledger().created, 6, "one log: a cursor is not a copy");

    // Shared reorders a key; the others keep alice's m0, m3, m6 in order.
    l.run_to_step(2, 2_900.0);
    assert!(l.processed_at("ship-2").contains(&(1_940, 3)));
    assert!(l.processed_at("ship-1").contains(&(1_840, 6)));
    let alice = |names: &[&str]| {
        let mut done: Vec<(u64, u64)> = names.iter().flat_map(|c| l.processed_at(c)).collect();
        done.sort();
        msgs(done)
            .into_iter()
            .filter(|m| m % 3 == 0)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        alice(&["ship-1", "ship-2"]),
        [0, 6, 3],
        "m9 waits in ship-2"
    );
    assert_eq!(alice(&["mail-1", "mail-2"]), [0, 3, 6, 9]);
    assert_eq!(alice(&["audit-1"]), [0, 3, 6, 9]);
    assert_eq!(alice(&["billing-1", "billing-2"]), [0, 3, 6, 9]);

    l.run_to_step(3, 3_100.0);
    for c in ["audit-1", "billing-2", "ship-2", "mail-1"] {
        assert_eq!(l.consumer(c).status, ConsumerStatus::Crashed, "{c}");
    }
    assert_eq!(msgs(l.processed_at("ship-2")), [1, 3, 5]);
    assert_eq!(msgs(l.pulsar_dispatched("ship-2")), [1, 3, 5, 7, 9, 11]);

    // PUL-11 by type.
    l.run_to_step(4, 4_500.0);
    let after = |l: &Lesson, c: &str, ms: u64| -> Vec<(u64, u64)> {
        (l.pulsar_dispatched(c).into_iter())
            .filter(|(t, _)| *t > ms)
            .collect()
    };
    assert_eq!(
        &after(&l, "ship-1", 3_100)[..3],
        [(3_120, 7), (3_120, 9), (3_120, 11)]
    );
    assert_eq!(after(&l, "mail-2", 3_100)[..2], [(3_270, 12), (3_520, 13)]);
    assert_eq!(after(&l, "billing-1", 0)[0], (4_120, 11));
    assert!(l.processed("billing-2").contains(&11));
    assert_eq!(after(&l, "audit-1", 3_100), []);
    let snap = l.sim.snapshot();
    let topic = &snap.pulsar.as_ref().unwrap().topics[0];
    let audit = topic
        .subscriptions
        .iter()
        .find(|s| s.name == "audit")
        .unwrap();
    assert_eq!(audit.backlog, 6, "m11-m16");

    l.run_to_step(5, 5_200.0);
    assert_eq!(
        msgs(after(&l, "audit-1", 3_100)),
        [11, 12, 13, 14, 15, 16, 17, 18, 19]
    );
    assert_eq!(after(&l, "audit-1", 3_100)[0].0, 5_020);

    l.run_to_step(6, 6_500.0);
    let all: Vec<u64> = (0..24).collect();
    let sorted = |names: &[&str]| {
        let mut v: Vec<u64> = names.iter().flat_map(|c| l.processed(c)).collect();
        v.sort();
        v
    };
    let mut twice_11 = all.clone();
    twice_11.insert(12, 11);
    assert_eq!(sorted(&["audit-1"]), twice_11);
    assert_eq!(sorted(&["billing-1", "billing-2"]), twice_11);
    assert_eq!(sorted(&["ship-1", "ship-2"]), all);
    assert_eq!(sorted(&["mail-1", "mail-2"]), all);
    assert_eq!(l.sim.ledger().created, 24);
    for reason in [DropReason::ProcessExit, DropReason::NoSubscriber] {
        assert_eq!(dropped(&l.sim, reason), 0);
    }
}

#[test]
fn lesson_21_zeromq_loses_before_the_subscription_at_the_hwm_and_with_the_process() {
    let mut l = Lesson::load("21-zeromq-no-safety-net.json");
    let zmq = |l: &Lesson| l.sim.snapshot().zeromq.clone().expect("zeromq");
    l.run_to_step(0, 1_000.0);
    assert_eq!(dropped(&l.sim, DropReason::NoSubscriber), 10);
    assert!(
        !(zmq(&l).conns.iter()).any(|c| c.endpoint == "prices"),
        "no broker, and nobody on prices yet"
    );

    // ZMQ-8: before board's subscription reaches ticker, updates are lost.
    l.run_to_step(1, 1_400.0);
    assert_eq!(dropped(&l.sim, DropReason::NoSubscriber), 12);
    assert_eq!(l.dropped_ids(DropReason::SlowJoiner), [21]);
    let first_ms = |pred: fn(&ZmqEvent) -> bool| {
        first_time(&l.events, |k| matches!(k, EventKind::Zmq(z) if pred(z))).0 / 1_000
    };
    assert_eq!(
        first_ms(|z| matches!(z, ZmqEvent::ZmqSubscribed { .. })),
        1_330
    );
    assert_eq!(
        first_ms(|z| matches!(z, ZmqEvent::ZmqSendBlocked { .. })),
        700
    );

    // ZMQ-6 vs ZMQ-3: the PUB drops at the HWM, the PUSH blocks.
    l.run_to_step(2, 2_950.0);
    assert_eq!(dropped(&l.sim, DropReason::HwmDrop), 7);
    assert_eq!(l.published_by("tasks").len(), 15);
    assert_eq!(l.published_by("quotes").len(), 29);
    let v = zmq(&l);
    let jobs = v.conns.iter().find(|c| c.endpoint == "jobs").unwrap();
    assert_eq!(
        (jobs.out, jobs.inp),
        ((2, 2), (2, 2)),
        "both pipes at the HWM"
    );
    assert_eq!(
        l.consumer("job-runner").processing.map(|p| p.msg.0),
        Some(23)
    );

    // ZMQ-1: what the crashed process's pipes held is gone.
    l.run_to_step(3, 3_100.0);
    assert_eq!(l.dropped_ids(DropReason::ProcessExit), [23, 27, 31, 35, 39]);
    let v = zmq(&l);
    let vent = v.sockets.iter().find(|s| s.name == "vent/push").unwrap();
    assert!(vent.blocked, "m43 waits in vent's application");

    l.run_to_step(4, 4_500.0);
    let resumed: Vec<(u64, u64)> = (l.events.iter())
        .filter_map(|e| match &e.kind {
            EventKind::Zmq(ZmqEvent::ZmqSendResumed { blocked_us, .. }) => {
                Some((e.time.0 / 1_000, *blocked_us))
            }
            _ => None,
        })
        .filter(|(t, _)| *t > 3_000)
        .collect();
    assert_eq!(resumed[0], (4_060, 1_140_000));
    let after: Vec<u64> = (l.processed_at("job-runner").into_iter())
        .filter(|(t, _)| *t > 3_000)
        .map(|(_, m)| m)
        .collect();
    assert_eq!(after[0], 43);
    for m in [23, 27, 31, 35, 39] {
        assert!(!l.processed("job-runner").contains(&m));
    }
    let counts = [
        DropReason::NoSubscriber,
        DropReason::SlowJoiner,
        DropReason::HwmDrop,
        DropReason::ProcessExit,
    ]
    .map(|r| dropped(&l.sim, r));
    assert_eq!(counts, [12, 1, 14, 5]);
}

#[test]
fn lesson_17_kaf_21_24_the_leader_dies_acks_1_loses_what_acks_all_keeps() {
    use broker_sim::event::{KafkaRepEvent, ProduceError};
    let mut l = Lesson::load("17-kafka-leader-dies-acks.json");
    l.run_to_step(0, 1_500.0);
    for topic in ["acks-1", "acks-all"] {
        let r = l.replication(topic);
        assert_eq!(
            (r.leader, r.isr.clone(), r.high_watermark),
            (Some(0), vec![0, 1, 2], 0)
        );
    }
    assert_eq!(l.brokers_down(), Vec::<u32>::new());

    l.run_to_step(1, 2_015.0);
    assert_eq!(l.published_by("fast"), [0, 1, 2, 3, 4]);
    assert_eq!(l.published_by("safe"), [5, 6, 7, 8, 9]);
    // acks=1: answered at the leader's append; acks=all: nothing yet.
    assert_eq!(
        l.kafka(|e| match e {
            KafkaRepEvent::KafkaProduceAcked { msg, offset, .. } => Some((msg.0, *offset)),
            _ => None,
        }),
        [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4)]
    );
    for topic in ["acks-1", "acks-all"] {
        let r = l.replication(topic);
        assert_eq!(r.replicas, [(0, 5), (1, 1), (2, 1)], "{topic}");
        assert_eq!(
            r.high_watermark, 0,
            "{topic}: the followers' LEO is not reported yet"
        );
    }

    l.run_to_step(2, 5_000.0);
    assert_eq!(l.brokers_down(), [0]);
    assert_eq!(
        l.replication("acks-1").leader,
        Some(0),
        "not fenced before 11.02 s"
    );
    let not_leader = l.kafka(|e| match e {
        KafkaRepEvent::KafkaProduceFailed {
            msg, error, retry, ..
        } => {
            assert!(*retry);
            (*error == ProduceError::NotLeader).then_some(msg.0)
        }
        _ => None,
    });
    // Each of safe's five records fails every 0.12 s (0.1 s backoff and a round trip).
    assert_eq!(not_leader.len(), 5 * 25, "{}", l.trace());
    assert!(not_leader.iter().all(|m| (5..10).contains(m)));
    assert!(l.records("r1").is_empty() && l.records("rall").is_empty());

    l.run_to_step(3, 11_100.0);
    let lost = l.kafka(|e| match e {
        KafkaRepEvent::KafkaLostOnFailover { msg, offset, .. } => Some((msg.0, *offset)),
        _ => None,
    });
    assert_eq!(lost, [(1, 1), (2, 2), (3, 3), (4, 4)]);
    assert_eq!(dropped(&l.sim, DropReason::LostOnFailover), 4);
    assert_eq!(dropped(&l.sim, DropReason::TruncatedOnElection), 4);
    assert_eq!(dropped(&l.sim, DropReason::Deduplicated), 1);
    let elected = l.kafka(|e| match e {
        KafkaRepEvent::KafkaLeaderElected {
            leader,
            epoch,
            clean,
            ..
        } => Some((*leader, *epoch, *clean)),
        _ => None,
    });
    assert_eq!(elected, [(Some(1), 1, true), (Some(1), 1, true)]);
    for (topic, hw) in [("acks-1", 1), ("acks-all", 5)] {
        let r = l.replication(topic);
        assert_eq!((r.leader, r.epoch, r.isr.clone()), (Some(1), 1, vec![1, 2]));
        assert_eq!(r.high_watermark, hw, "{topic}");
    }
    assert_eq!(
        l.kafka(|e| match e {
            KafkaRepEvent::KafkaProduceAcked { msg, offset, .. } if msg.0 >= 5 =>
                Some((msg.0, *offset)),
            _ => None,
        }),
        [(5, 0), (6, 1), (7, 2), (8, 3), (9, 4)]
    );

    l.run_to_step(4, 13_000.0);
    assert_eq!(l.records("r1"), [(0, 0)]);
    assert_eq!(l.records("rall"), [(0, 5), (1, 6), (2, 7), (3, 8), (4, 9)]);

    l.run_to_step(5, 15_500.0);
    assert_eq!(l.brokers_down(), Vec::<u32>::new());
    let truncated = l.kafka(|e| match e {
        KafkaRepEvent::KafkaReplicaTruncated { broker, to, .. } => Some((*broker, *to)),
        _ => None,
    });
    assert_eq!(truncated, [(0, 1), (0, 1)]);
    let expanded: Vec<u64> = (l.events.iter())
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::KafkaRep(KafkaRepEvent::KafkaIsrExpanded { broker: 0, .. })
            )
        })
        .map(|e| e.time.0 / 1_000)
        .collect();
    assert_eq!(expanded, [15_010, 15_030]);
    for topic in ["acks-1", "acks-all"] {
        let r = l.replication(topic);
        assert_eq!(
            (r.leader, r.isr.clone()),
            (Some(1), vec![0, 1, 2]),
            "{topic}"
        );
    }
    assert_eq!(
        dropped(&l.sim, DropReason::LostOnFailover),
        4,
        "nothing comes back"
    );
}

impl Lesson {
    /// The replication of a Kafka topic's partition 0.
    fn replication(&self, topic: &str) -> broker_sim::snapshot::ReplicationView {
        let snap = self.sim.snapshot();
        let t = snap.topics.iter().find(|t| t.name == topic).expect(topic);
        t.partitions[0].replication.clone().expect("replicated")
    }

    /// The Kafka brokers that are down, by id.
    fn brokers_down(&self) -> Vec<u32> {
        use broker_sim::snapshot::{NodeRef, NodeStatus};
        (self.sim.snapshot().graph.nodes.iter())
            .filter_map(|n| match n.node {
                NodeRef::KafkaBroker(b) if n.status == NodeStatus::Crashed => Some(b),
                _ => None,
            })
            .collect()
    }

    /// (offset, message) of each record a group member processed, in order.
    fn records(&self, consumer: &str) -> Vec<(u64, u64)> {
        let id = consumer_id(&self.sim, consumer);
        (self.events.iter())
            .filter_map(|e| match e.kind {
                EventKind::RecordProcessed {
                    consumer,
                    offset,
                    msg,
                    ..
                } if consumer == id => Some((offset, msg.0)),
                _ => None,
            })
            .collect()
    }

    /// What `f` picks from the Kafka replication events so far.
    fn kafka<T>(&self, f: impl Fn(&broker_sim::event::KafkaRepEvent) -> Option<T>) -> Vec<T> {
        (self.events.iter())
            .filter_map(|e| match &e.kind {
                EventKind::KafkaRep(k) => f(k),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn lesson_18_kaf_22_min_insync_2_refuses_instead_of_acknowledging_on_one_broker() {
    use broker_sim::event::{KafkaRepEvent, ProduceError};
    let mut l = Lesson::load("18-kafka-min-insync-replicas.json");
    // (message, offset) of each acknowledgement of a topic's records.
    let acked = |l: &Lesson, topic: &str| {
        let id = l.topic_id(topic);
        l.kafka(|e| match e {
            KafkaRepEvent::KafkaProduceAcked {
                msg, topic, offset, ..
            } if *topic == id => Some((msg.0, *offset)),
            _ => None,
        })
    };
    let failed = |l: &Lesson, error: ProduceError| {
        l.kafka(|e| match e {
            KafkaRepEvent::KafkaProduceFailed { msg, error: e, .. } if *e == error => Some(msg.0),
            _ => None,
        })
    };
    l.run_to_step(0, 800.0);
    assert_eq!(acked(&l, "payments"), [(0, 0)]);
    assert_eq!(acked(&l, "clicks"), [(1, 0)]);
    for topic in ["payments", "clicks"] {
        let r = l.replication(topic);
        assert_eq!(
            (r.leader, r.isr.clone(), r.high_watermark),
            (Some(0), vec![0, 1, 2], 1)
        );
    }

    l.run_to_step(1, 5_000.0);
    assert_eq!(l.brokers_down(), [1, 2]);
    for topic in ["payments", "clicks"] {
        let r = l.replication(topic);
        assert_eq!(r.isr, [0, 1, 2], "{topic}: not fenced before 10 s");
        assert_eq!(r.replicas, [(0, 9), (1, 1), (2, 1)], "{topic}");
        assert_eq!(r.high_watermark, 1, "{topic}");
    }
    assert_eq!(acked(&l, "payments").len() + acked(&l, "clicks").len(), 2);
    assert_eq!(l.records("booker"), [(0, 0)]);
    assert_eq!(l.records("counter"), [(0, 1)]);

    l.run_to_step(2, 10_500.0);
    for topic in ["payments", "clicks"] {
        assert_eq!(l.replication(topic).isr, [0], "{topic}");
    }
    // clicks: the 18 waiting records acknowledged at once at 10 s, by the ISR {b0}.
    let clicks_at_10: Vec<(u64, i64)> = acked(&l, "clicks")[1..19].to_vec();
    assert_eq!(
        clicks_at_10,
        (1..19).map(|o| (2 * o + 1, o as i64)).collect::<Vec<_>>()
    );
    let after_append = failed(&l, ProduceError::NotEnoughReplicasAfterAppend);
    assert_eq!(after_append, (1..19).map(|i| 2 * i).collect::<Vec<_>>());
    assert_eq!(acked(&l, "payments"), [(0, 0)], "no payment acknowledged");
    // They passed the HW, so ledger read them; the first refusal came at 10.01 s (m38).
    assert_eq!(l.replication("payments").high_watermark, 19);
    assert_eq!(l.records("booker").len(), 19);
    let refused = failed(&l, ProduceError::NotEnoughReplicas);
    assert_eq!(refused[0], 38);
    assert_eq!(
        l.replication("payments").replicas[0],
        (0, 19),
        "refused: not written"
    );
    assert_eq!(l.replication("clicks").high_watermark, 20);

    l.run_to_step(3, 13_500.0);
    assert_eq!(acked(&l, "payments"), [(0, 0)]);
    assert_eq!(dropped(&l.sim, DropReason::LostOnFailover), 0);
    assert_eq!(l.sim.ledger().dropped_total(), 0);

    l.run_to_step(4, 14_500.0);
    let expanded: Vec<(u64, u32)> = (l.events.iter())
        .filter_map(|e| match &e.kind {
            EventKind::KafkaRep(KafkaRepEvent::KafkaIsrExpanded {
                topic, broker: 1, ..
            }) => Some((e.time.0 / 1_000, topic.0)),
            _ => None,
        })
        .collect();
    assert_eq!(expanded, [(14_030, 0), (14_050, 1)]);
    assert_eq!(dropped(&l.sim, DropReason::Deduplicated), 18);
    let payments = acked(&l, "payments");
    assert_eq!(
        &payments[1..19],
        &(1..19).map(|o| (2 * o, o as i64)).collect::<Vec<_>>()[..]
    );
    let offsets: Vec<i64> = payments.iter().map(|(_, o)| *o).collect();
    assert_eq!(
        offsets,
        (0..offsets.len() as i64).collect::<Vec<_>>(),
        "in order"
    );
    let read = l.records("booker");
    assert_eq!(
        read,
        (0..read.len() as u64)
            .map(|o| (o, 2 * o))
            .collect::<Vec<_>>(),
        "every payment once, in order"
    );

    l.run_to_step(5, 16_000.0);
    assert_eq!(l.replication("payments").isr, [0, 1]);
    assert_eq!(dropped(&l.sim, DropReason::LostOnFailover), 0);
}

impl Lesson {
    fn topic_id(&self, name: &str) -> broker_sim::ids::TopicId {
        let snap = self.sim.snapshot();
        snap.topics.iter().find(|t| t.name == name).expect(name).id
    }
}

#[test]
fn lesson_14_a_slow_consumer_outlives_its_visibility_timeout_and_a_poison_message_is_redriven() {
    use broker_sim::event::{SqsDeleteOutcome, SqsVisibleWhy};
    let mut l = Lesson::load("14-sqs-visibility-timeout.json");
    l.run_to_step(0, 1_500.0);
    assert_eq!(l.sqs_receives(), [(1_050.0, 0, 1, "slow".to_string())]);
    let q = l.sqs_queue("jobs");
    assert_eq!(
        (q.visible, q.not_visible, q.visibility_timeout_ms),
        (0, 1, 2_000.0)
    );
    assert_eq!(l.in_flight("jobs"), [(0, 1, "slow".into(), 3_050.0)]);

    l.run_to_step(1, 3_200.0);
    assert_eq!(
        l.sqs_receives(),
        [
            (1_050.0, 0, 1, "slow".into()),
            (2_050.0, 1, 1, "fast".into()),
            (3_050.0, 0, 2, "fast".into())
        ]
    );
    assert_eq!(l.sqs_visibles(), [(3_050.0, 0, SqsVisibleWhy::Timeout)]);
    assert_eq!(l.processed("fast"), [1]);
    assert_eq!(l.in_flight("jobs"), [(0, 2, "fast".into(), 5_050.0)]);
    // Both workers hold m0.
    assert_eq!(
        (l.busy_with("slow"), l.busy_with("fast")),
        (Some(0), Some(0))
    );

    l.run_to_step(2, 4_500.0);
    assert_eq!(
        l.sqs_deletes(),
        [
            (2_450.0, 1, "fast".into(), SqsDeleteOutcome::Deleted),
            (3_450.0, 0, "fast".into(), SqsDeleteOutcome::Deleted),
            (4_150.0, 0, "slow".into(), SqsDeleteOutcome::Gone)
        ]
    );
    assert_eq!(
        (l.processed("slow"), l.processed("fast")),
        (vec![0], vec![1, 0])
    );
    let q = l.sqs_queue("jobs");
    assert_eq!((q.visible, q.not_visible, q.deleted), (0, 0, 2));
    assert_eq!(l.sim.ledger().dropped_total(), 0);

    l.run_to_step(3, 6_200.0);
    assert_eq!(l.published_by("web"), [0, 1, 2]);
    assert_eq!(l.sqs_receives()[3], (6_050.0, 2, 1, "fast".into()));
    assert!(l.sqs_queue("jobs").in_flight[0].chip.poison);
    assert_eq!(l.sqs_queue("jobs").max_receive_count, Some(3));

    l.run_to_step(4, 10_200.0);
    let m2: Vec<_> = l.sqs_receives().into_iter().filter(|r| r.1 == 2).collect();
    assert_eq!(
        m2,
        [
            (6_050.0, 2, 1, "fast".into()),
            (8_050.0, 2, 2, "slow".into()),
            (10_050.0, 2, 3, "fast".into())
        ]
    );
    assert_eq!(l.in_flight("jobs"), [(2, 3, "fast".into(), 12_050.0)]);
    assert_eq!(l.busy_with("slow"), Some(2), "slow still works on its copy");
    assert_eq!(l.failed("fast"), [2]);
    assert!(l.failed("slow").is_empty());

    l.run_to_step(5, 12_300.0);
    assert_eq!(l.sqs_redrives(), [(12_050.0, 2, 3)]);
    assert_eq!(l.sqs_receives().len(), 6, "the attempt returned nothing");
    assert_eq!((l.failed("fast"), l.failed("slow")), (vec![2, 2], vec![2]));
    let (jobs, dlq) = (l.sqs_queue("jobs"), l.sqs_queue("jobs-dlq"));
    assert_eq!((jobs.visible, jobs.not_visible, jobs.redriven), (0, 0, 1));
    let fast = consumer_id(&l.sim, "fast");
    assert!(jobs.waiting.contains(&fast), "fast's long poll waits on");
    assert_eq!(dlq.visible, 1);
    assert_eq!(dlq.head[0].msg.0, 2);
}

#[test]
fn lesson_15_a_durable_subscription_stores_what_its_offline_subscriber_misses() {
    use broker_sim::event::JmsEvent;
    let mut l = Lesson::load("15-jms-durable-vs-non-durable.json");
    l.run_to_step(0, 3_400.0);
    assert_eq!(l.processed("audit"), [0, 1, 2]);
    assert_eq!(l.processed("ticker"), [0, 1, 2]);
    assert_eq!(l.subscriptions(), ["app:audit", "ticker"]);

    l.run_to_step(1, 3_600.0);
    assert_eq!(l.consumer("audit").status, ConsumerStatus::Crashed);
    assert_eq!(l.consumer("ticker").status, ConsumerStatus::Crashed);
    assert_eq!(l.subscriptions(), ["app:audit"], "ticker's ended");
    let jms = l.sim.snapshot().jms;
    let durable = &jms.subscriptions[0];
    assert_eq!((durable.consumer, durable.closed), (None, false));
    assert!(jms.subscriptions[1].closed);

    l.run_to_step(2, 5_200.0);
    let reached: Vec<(u64, u32)> = (l.events.iter())
        .filter_map(|e| match &e.kind {
            EventKind::Jms(JmsEvent::JmsTopicPublish {
                msg, subscriptions, ..
            }) => Some((msg.0, *subscriptions)),
            _ => None,
        })
        .collect();
    assert_eq!(reached, [(0, 2), (1, 2), (2, 2), (3, 1), (4, 1)]);
    let durable = l.sim.snapshot().jms.subscriptions[0].clone();
    let head: Vec<u64> = durable.head.iter().map(|c| c.msg.0).collect();
    assert_eq!((durable.stored, head), (2, vec![3, 4]));
    assert_eq!(l.subscriptions(), ["app:audit"], "nothing kept for ticker");

    l.run_to_step(3, 5_800.0);
    let handed: Vec<(f64, u64)> = (l.events.iter())
        .filter_map(|e| match &e.kind {
            EventKind::Jms(JmsEvent::JmsDispatch { msg, .. }) if e.time.0 >= 5_000_000 => {
                Some((e.time.0 as f64 / 1_000.0, msg.0))
            }
            _ => None,
        })
        .collect();
    assert_eq!(handed, [(5_500.0, 3), (5_500.0, 4)]);
    assert_eq!(l.subscriptions(), ["app:audit", "ticker"]);
    let jms = l.sim.snapshot().jms;
    let ticker = jms.subscriptions.iter().rev().find(|s| !s.closed).unwrap();
    assert_eq!(ticker.durable, None);
    assert_eq!(
        (ticker.stored, ticker.in_flight),
        (0, 0),
        "nothing waited for it"
    );
    assert_eq!(jms.subscriptions[0].stored, 0);

    l.run_to_step(4, 7_500.0);
    assert_eq!(l.processed("audit"), [0, 1, 2, 3, 4, 5, 6]);
    assert_eq!(l.processed("ticker"), [0, 1, 2, 5, 6]);
    assert_eq!(l.sim.ledger().dropped_total(), 0);
}

impl Lesson {
    fn sqs_queue(&self, name: &str) -> broker_sim::snapshot::SqsQueueView {
        (self.sim.snapshot().sqs.queues.into_iter())
            .find(|q| q.name == name)
            .unwrap_or_else(|| panic!("no SQS queue {name}"))
    }

    fn consumer_name(&self, id: broker_sim::ConsumerId) -> String {
        self.sim.snapshot().consumers[id.index()].name.clone()
    }

    fn sqs_events(&self) -> impl Iterator<Item = (f64, &broker_sim::event::SqsEvent)> {
        self.events.iter().filter_map(|e| match &e.kind {
            EventKind::Sqs(s) => Some((e.time.0 as f64 / 1_000.0, s)),
            _ => None,
        })
    }

    /// Every receive as (ms, message, `ApproximateReceiveCount`, consumer).
    fn sqs_receives(&self) -> Vec<(f64, u64, u32, String)> {
        use broker_sim::event::SqsEvent;
        self.sqs_events()
            .filter_map(|(t, e)| match e {
                SqsEvent::SqsReceive {
                    msg,
                    consumer,
                    receive_count,
                    ..
                } => Some((t, msg.0, *receive_count, self.consumer_name(*consumer))),
                _ => None,
            })
            .collect()
    }

    fn sqs_deletes(&self) -> Vec<(f64, u64, String, broker_sim::event::SqsDeleteOutcome)> {
        use broker_sim::event::SqsEvent;
        self.sqs_events()
            .filter_map(|(t, e)| match e {
                SqsEvent::SqsDelete {
                    msg,
                    consumer,
                    outcome,
                    ..
                } => Some((t, msg.0, self.consumer_name(*consumer), *outcome)),
                _ => None,
            })
            .collect()
    }

    fn sqs_visibles(&self) -> Vec<(f64, u64, broker_sim::event::SqsVisibleWhy)> {
        use broker_sim::event::SqsEvent;
        self.sqs_events()
            .filter_map(|(t, e)| match e {
                SqsEvent::SqsVisible { msg, why, .. } => Some((t, msg.0, *why)),
                _ => None,
            })
            .collect()
    }

    /// Every move to a DLQ as (ms, message, receives).
    fn sqs_redrives(&self) -> Vec<(f64, u64, u32)> {
        use broker_sim::event::SqsEvent;
        self.sqs_events()
            .filter_map(|(t, e)| match e {
                SqsEvent::SqsRedrive { msg, receives, .. } => Some((t, msg.0, *receives)),
                _ => None,
            })
            .collect()
    }

    /// A queue's in-flight messages as (message, receive count, holder, visible again at ms).
    fn in_flight(&self, queue: &str) -> Vec<(u64, u32, String, f64)> {
        (self.sqs_queue(queue).in_flight.iter())
            .map(|m| {
                (
                    m.chip.msg.0,
                    m.receive_count,
                    self.consumer_name(m.consumer),
                    m.visible_at.0 as f64 / 1_000.0,
                )
            })
            .collect()
    }

    /// The message a consumer is processing now.
    fn busy_with(&self, consumer: &str) -> Option<u64> {
        self.consumer(consumer).processing.map(|chip| chip.msg.0)
    }

    /// Messages whose processing failed, per consumer name.
    fn failed(&self, consumer: &str) -> Vec<u64> {
        let id = consumer_id(&self.sim, consumer);
        (self.events.iter())
            .filter_map(|e| match e.kind {
                EventKind::Processed {
                    msg,
                    consumer,
                    failed: true,
                } if consumer == id => Some(msg.0),
                _ => None,
            })
            .collect()
    }

    /// The names of the JMS subscriptions on stage (durable ones as `client:name`).
    fn subscriptions(&self) -> Vec<String> {
        (self.sim.snapshot().graph.nodes.iter())
            .filter(|n| matches!(n.node, broker_sim::snapshot::NodeRef::JmsSubscription(_)))
            .map(|n| n.name.clone())
            .collect()
    }
}

#[test]
fn lesson_19_a_restart_keeps_persistent_messages_in_durable_queues_only() {
    let mut l = Lesson::load("19-rabbitmq-restart.json");
    let confirms = |l: &Lesson| {
        let p = &l.sim.report(1, &[]).publishers["checkout"];
        (p.sent, p.confirms_acked, p.confirms_nacked)
    };
    l.run_to_step(0, 1_000.0);
    assert_eq!(l.contents("orders"), [1, 2, 3, 4]);
    assert_eq!(l.contents("live-feed"), [1, 2, 3, 4]);
    assert_eq!((l.ids("billing"), l.ids("dashboard")), (vec![0], vec![0]));
    assert_eq!(confirms(&l), (3, 3, 0));

    l.run_to_step(1, 2_000.0);
    assert_eq!(l.contents("orders"), [0, 1, 2], "on disk, m0 requeued");
    let dropped_ids = |l: &Lesson, r| crate::helpers::dropped_for(&l.events, r);
    assert_eq!(dropped_ids(&l, DropReason::LostInBrokerRestart), [3, 4]);
    assert_eq!(
        dropped_ids(&l, DropReason::TransientQueueLost),
        [0, 1, 2, 3, 4],
        "live-feed went with all five\n{}",
        l.trace()
    );
    assert!(l
        .sim
        .snapshot()
        .queues
        .iter()
        .all(|q| q.name != "live-feed"));
    for c in ["billing", "dashboard"] {
        assert_eq!(l.consumer(c).status, ConsumerStatus::Crashed, "{c}");
    }

    l.run_to_step(2, 4_000.0);
    assert_eq!(
        dropped_ids(&l, DropReason::BrokerDown),
        [5],
        "m5 sent while down"
    );
    assert_eq!(l.received("billing"), [(0, false), (0, true)]);
    assert_eq!(l.contents("orders"), [1, 2]);
    assert_eq!(confirms(&l), (4, 3, 0));
    assert_eq!(l.consumer("billing").status, ConsumerStatus::Running);
    assert_eq!(l.consumer("dashboard").status, ConsumerStatus::Crashed);

    l.run_to_step(3, 4_650.0);
    assert_eq!(l.contents("orders"), [1, 2, 6]);
    assert_eq!(confirms(&l), (5, 3, 0), "m6 waits for the fsync");

    l.run_to_step(4, 5_500.0);
    assert_eq!(dropped_ids(&l, DropReason::NotYetOnDisk), [6]);
    assert_eq!(l.received("billing"), [(0, false), (0, true), (0, true)]);
    assert_eq!(l.contents("orders"), [1, 2]);
    assert_eq!(confirms(&l), (5, 3, 0), "m5 and m6 never confirmed");
    assert_eq!(l.sim.ledger().dropped_total(), 9);
}

// ---------------------------------------------------------------- lessons 23, 24: the pipeline

fn pipeline_view(l: &Lesson) -> broker_sim::PipelineView {
    l.sim.snapshot().pipeline.expect("stages")
}

/// Each order as the saga panel lists it: "m<txn> order payment inventory shipping", `-` for
/// no row, then `x2` for a second charge or shipment and `lost`.
fn saga_rows(l: &Lesson) -> Vec<String> {
    let cell = |s: Option<broker_sim::SagaState>| {
        s.map_or("-".to_string(), |s| format!("{s:?}").to_uppercase())
    };
    pipeline_view(l)
        .sagas
        .iter()
        .map(|s| {
            let mut row = format!(
                "m{} {} {} {} {}",
                s.txn,
                cell(s.order),
                cell(s.payment),
                cell(s.inventory),
                cell(s.shipping)
            );
            if s.charges > 1 {
                row += " charged x2";
            }
            if s.shipments > 1 {
                row += " shipped x2";
            }
            if s.lost {
                row += " lost";
            }
            row
        })
        .collect()
}

/// (paid but out of stock, reserved but payment failed, shipped twice, charged twice, paid
/// and not shipped, lost), as the panel shows them.
fn anomaly_counts(l: &Lesson) -> [u64; 6] {
    let a = pipeline_view(l).anomalies;
    [
        a.paid_out_of_stock,
        a.reserved_payment_failed,
        a.shipped_twice,
        a.charged_twice,
        a.paid_never_shipped,
        a.lost,
    ]
}

#[test]
fn lesson_23_the_naive_pipeline_loses_charges_twice_ships_twice_and_keeps_the_money() {
    let mut l = Lesson::load("23-naive-pipeline.json");
    l.run_to_step(0, 1_000.0);
    assert_eq!(saga_rows(&l), ["m0 PENDING PAID RESERVED -"]);
    assert_eq!(anomaly_counts(&l), [0, 0, 0, 0, 1, 0]);

    // The dual write: m4 written at 1.14 s, order-svc dead before its publish.
    l.run_to_step(1, 1_500.0);
    assert_eq!(
        saga_rows(&l),
        ["m0 PENDING PAID RESERVED SHIPPED", "m4 PENDING - - - lost"]
    );
    assert_eq!(anomaly_counts(&l), [0, 0, 0, 0, 0, 1]);
    // Only m0's OrderCreated (m1) ever reached the payments queue.
    assert_eq!(l.published_by("order-events"), [1]);
    assert_eq!(l.consumer("order-svc").status, ConsumerStatus::Running);

    l.run_to_step(2, 2_200.0);
    assert_eq!(
        saga_rows(&l)[2..],
        ["m6 PENDING PAID RESERVED SHIPPED", "m10 PENDING - - -"]
    );
    assert_eq!(anomaly_counts(&l), [0, 0, 0, 0, 0, 1]);

    // The payment request m11 was processed twice: the card charged twice.
    l.run_to_step(3, 3_000.0);
    let twice: Vec<u64> = l.processed("payment-svc");
    assert_eq!(twice.iter().filter(|&&m| m == 11).count(), 2);
    assert_eq!(
        saga_rows(&l)[3..],
        [
            "m10 PENDING PAID RESERVED - charged x2",
            "m13 PENDING PAID - -"
        ]
    );
    assert_eq!(anomaly_counts(&l), [0, 0, 0, 1, 2, 1]);

    l.run_to_step(4, 4_000.0);
    assert_eq!(
        saga_rows(&l)[4..],
        [
            "m13 SHIPPED PAID RESERVED SHIPPED shipped x2",
            "m18 PENDING PAID RESERVED SHIPPED",
            "m24 PENDING PAID FAILED -"
        ]
    );
    assert_eq!(anomaly_counts(&l), [1, 0, 1, 1, 1, 1]);
    assert_eq!(pipeline_view(&l).services[2].stock, [0]);

    l.run_to_step(5, 5_000.0);
    assert_eq!(
        saga_rows(&l),
        [
            "m0 SHIPPED PAID RESERVED SHIPPED",
            "m4 PENDING - - - lost",
            "m6 SHIPPED PAID RESERVED SHIPPED",
            "m10 SHIPPED PAID RESERVED SHIPPED charged x2",
            "m13 SHIPPED PAID RESERVED SHIPPED shipped x2",
            "m18 SHIPPED PAID RESERVED SHIPPED",
            "m24 PENDING PAID FAILED -",
            "m29 PENDING PAID FAILED -",
        ]
    );
    assert_eq!(anomaly_counts(&l), [2, 0, 1, 1, 2, 1]);
    let v = pipeline_view(&l);
    assert_eq!((v.orders, v.shipped, v.compensated), (8, 5, 0));
    assert_eq!(v.mean_pending_ms, 710.0);
}

#[test]
fn lesson_24_outbox_idempotency_and_saga_settle_every_order_at_a_price() {
    let mut l = Lesson::load("24-mending-the-pipeline.json");
    let switches = |l: &Lesson| -> Vec<(bool, bool, bool)> {
        let v = pipeline_view(l);
        v.services
            .iter()
            .map(|s| (s.outbox, s.idempotent, s.saga))
            .collect()
    };
    l.run_to_step(0, 1_000.0);
    assert_eq!(switches(&l), [(true, false, false); 4]);
    assert_eq!(saga_rows(&l), ["m0 PENDING PAID RESERVED -"]);

    // order-svc died after writing m4 at 1.14 s; its outbox row went out at the 1.34 s poll.
    l.run_to_step(1, 1_600.0);
    assert_eq!(switches(&l), [(true, true, false); 4]);
    assert_eq!(
        saga_rows(&l),
        ["m0 SHIPPED PAID RESERVED SHIPPED", "m4 PENDING PAID - -"]
    );
    assert_eq!(anomaly_counts(&l), [0, 0, 0, 0, 1, 0]);
    assert_eq!(pipeline_view(&l).services[0].relayed, 1);

    // payment-svc died after charging m11; the redelivery was skipped.
    l.run_to_step(2, 3_600.0);
    assert_eq!(switches(&l), [(true, true, true); 4]);
    let v = pipeline_view(&l);
    let dups: Vec<u64> = v.services.iter().map(|s| s.duplicates_skipped).collect();
    assert_eq!(dups, [0, 1, 0, 0]);
    assert_eq!(
        saga_rows(&l)[3..],
        [
            "m11 SHIPPED PAID RESERVED SHIPPED",
            "m16 PENDING PAID RESERVED -",
            "m21 PENDING - - -"
        ]
    );
    assert_eq!(anomaly_counts(&l), [0, 0, 0, 0, 1, 0]);
    assert_eq!(v.services[2].stock, [0]);

    // Between StockReservationFailed (3.95 s) and PaymentVoided (4.34 s).
    l.run_to_step(3, 4_100.0);
    assert_eq!(saga_rows(&l)[5], "m21 PENDING PAID FAILED -");
    assert_eq!(anomaly_counts(&l)[0], 1);

    l.run_to_step(4, 6_000.0);
    assert_eq!(
        saga_rows(&l),
        [
            "m0 SHIPPED PAID RESERVED SHIPPED",
            "m4 SHIPPED PAID RESERVED SHIPPED",
            "m7 SHIPPED PAID RESERVED SHIPPED",
            "m11 SHIPPED PAID RESERVED SHIPPED",
            "m16 SHIPPED PAID RESERVED SHIPPED",
            "m21 COMPENSATED COMPENSATED FAILED -",
            "m25 COMPENSATED COMPENSATED FAILED -",
            "m31 COMPENSATED COMPENSATED FAILED -",
        ]
    );
    assert_eq!(anomaly_counts(&l), [0; 6]);
    let v = pipeline_view(&l);
    assert_eq!((v.orders, v.shipped, v.compensated), (8, 5, 3));
    // The price: rows relayed, compensations sent, duplicates skipped, time pending.
    let relayed: u64 = v.services.iter().map(|s| s.relayed).sum();
    let compensations: u64 = v.services.iter().map(|s| s.compensations).sum();
    let dups: u64 = v.services.iter().map(|s| s.duplicates_skipped).sum();
    assert_eq!((relayed, compensations, dups), (29, 6, 2));
    assert_eq!(v.mean_pending_ms, 1161.25);
    assert!(v.services.iter().all(|s| s.outbox_pending == 0));
}

#[test]
fn lesson_25_replies_overtake_each_other_and_match_by_correlation_id() {
    use broker_sim::event::{StageEvent, StageWrite};
    let matched = |l: &Lesson| -> Vec<(u64, u64)> {
        l.events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Stage(StageEvent::StageStep {
                    txn,
                    wrote: StageWrite::ReplyMatched,
                    ..
                }) => Some((e.time.0 / 1_000, *txn)),
                _ => None,
            })
            .collect()
    };
    let mut l = Lesson::load("25-request-reply.json");
    l.run_to_step(0, 700.0);
    assert_eq!(saga_rows(&l), ["m0 PENDING - - -"]);
    assert_eq!(l.published_by("web"), [0]);

    // The second request's refusal comes first, matched to m4 by its correlation id.
    l.run_to_step(1, 1_900.0);
    assert_eq!(l.published_by("web"), [0, 4]);
    assert_eq!(matched(&l), [(1_860, 4)]);
    assert_eq!(
        saga_rows(&l),
        [
            "m0 PENDING PAID RESERVED -",
            "m4 COMPENSATED COMPENSATED FAILED -"
        ]
    );
    let v = pipeline_view(&l);
    assert_eq!((v.replies, v.mean_reply_ms), (1, 860.0));

    l.run_to_step(2, 2_800.0);
    assert_eq!(matched(&l), [(1_860, 4), (2_710, 0)]);
    let v = pipeline_view(&l);
    assert_eq!((v.replies, v.mean_reply_ms), (2, 1_535.0));

    l.run_to_step(3, 3_500.0);
    assert_eq!(
        saga_rows(&l),
        [
            "m0 SHIPPED PAID RESERVED SHIPPED",
            "m4 COMPENSATED COMPENSATED FAILED -"
        ]
    );
    assert_eq!(queue_view(&l.sim, "web-replies").total, 0);
    assert_eq!(anomaly_counts(&l), [0; 6]);
}

/// Each orchestrated order's saga instance: (step, compensating, end_state, failed) (PAT-6).
fn instances(l: &Lesson) -> Vec<(broker_sim::SagaStep, bool, bool, bool)> {
    pipeline_view(l)
        .sagas
        .iter()
        .map(|s| {
            let i = s.instance.expect("orchestrated");
            (i.state_name, i.compensating, i.end_state, i.failed)
        })
        .collect()
}

#[test]
fn pat_5_pat_6_lesson_26_the_orchestrator_decides_compensates_by_command_and_survives_its_crash() {
    use broker_sim::SagaStep::*;
    let mut l = Lesson::load("26-orchestration-vs-choreography.json");
    // Who publishes: the request, the orchestrator's commands and the participants' replies.
    let senders = |l: &Lesson| -> BTreeMap<String, Vec<u64>> {
        [
            "shop",
            "to-payments",
            "to-inventory",
            "to-shipping",
            "to-order",
        ]
        .into_iter()
        .map(|p| (p.to_string(), l.published_by(p)))
        .filter(|(_, ms)| !ms.is_empty())
        .collect()
    };
    l.run_to_step(0, 680.0);
    assert_eq!(saga_rows(&l), ["m0 PENDING - - -"]);
    assert_eq!(instances(&l), [(AuthorizePayment, false, false, false)]);
    let i = pipeline_view(&l).sagas[0].instance.expect("orchestrated");
    assert_eq!(i.last_request_id.map(|m| m.0), Some(1));
    assert_eq!(l.published_by("to-payments"), [1]);
    assert_eq!(
        l.consumer("payment-svc").processing.map(|p| p.msg.0),
        Some(1)
    );

    // PAT-5: the participant only replies to the orchestrator; PAT-6: the crashed
    // orchestrator's instance keeps its step while the reply waits.
    l.run_to_step(1, 1_200.0);
    assert_eq!(l.consumer("order-svc").status, ConsumerStatus::Crashed);
    assert_eq!(saga_rows(&l), ["m0 PENDING PAID - -"]);
    assert_eq!(l.published_by("to-order"), [2]);
    assert_eq!(l.contents("orders"), [2, 3]);
    assert_eq!(instances(&l), [(AuthorizePayment, false, false, false)]);
    assert!(l.published_by("to-inventory").is_empty());

    l.run_to_step(2, 1_700.0);
    assert_eq!(l.consumer("order-svc").status, ConsumerStatus::Running);
    assert_eq!(
        saga_rows(&l),
        ["m0 PENDING PAID RESERVED -", "m3 PENDING - - -"]
    );
    assert_eq!(
        instances(&l),
        [
            (ReserveStock, false, false, false),
            (AuthorizePayment, false, false, false)
        ]
    );
    assert_eq!(l.published_by("to-inventory"), [4]);
    assert_eq!(pipeline_view(&l).services[2].stock, [0]);
    assert_eq!(
        l.consumer("payment-svc").processing.map(|p| p.msg.0),
        Some(6)
    );

    // The compensation is a command from the orchestrator, not an event of a participant.
    l.run_to_step(3, 2_350.0);
    assert_eq!(
        saga_rows(&l),
        [
            "m0 PENDING PAID RESERVED SHIPPED",
            "m3 PENDING PAID FAILED -"
        ]
    );
    assert_eq!(
        instances(&l),
        [
            (ScheduleShipment, false, false, false),
            (VoidPayment, true, false, false)
        ]
    );
    assert_eq!(l.published_by("to-payments"), [1, 6, 12]);
    assert_eq!(
        l.consumer("payment-svc").processing.map(|p| p.msg.0),
        Some(12)
    );
    assert_eq!(anomaly_counts(&l)[0], 1, "paid but out of stock");
    // PAT-7: the shipped order is still held PENDING.
    assert_eq!(pipeline_view(&l).locked, 2);

    l.run_to_step(4, 3_000.0);
    assert_eq!(
        saga_rows(&l),
        [
            "m0 SHIPPED PAID RESERVED SHIPPED",
            "m3 COMPENSATED COMPENSATED FAILED -"
        ]
    );
    assert_eq!(
        instances(&l),
        [
            (ApproveOrder, false, true, false),
            (RejectOrder, true, true, true)
        ]
    );
    assert_eq!(anomaly_counts(&l), [0; 6]);
    assert_eq!(pipeline_view(&l).locked, 0);
    // 7 messages an order: the request, then a command and a reply per step.
    let all: Vec<(String, Vec<u64>)> = senders(&l).into_iter().collect();
    let count: usize = all.iter().map(|(_, ms)| ms.len()).sum();
    assert_eq!(count, 14, "{all:?}");
    assert_eq!(l.published_by("to-order"), [2, 5, 8, 10, 11, 13]);
    assert_eq!(l.sim.ledger().published, 14, "nobody else published");

    // PAT-7: the cancel of the approved m0 is a saga of its own; its first command goes to
    // the one participant that may refuse.
    l.run_to_step(5, 3_400.0);
    assert_eq!(saga_rows(&l)[0], "m0 CANCELPENDING PAID RESERVED SHIPPED");
    assert_eq!(instances(&l)[0], (CancelShipment, false, false, false));
    assert_eq!(l.published_by("to-shipping"), [7, 14]);
    assert_eq!(pipeline_view(&l).locked, 1);

    // The parcel had left: shipping refuses and the orchestrator undoes its first step.
    l.run_to_step(6, 3_800.0);
    assert_eq!(saga_rows(&l)[0], "m0 SHIPPED PAID RESERVED SHIPPED");
    assert_eq!(instances(&l)[0], (UndoBeginCancel, true, true, true));
    assert_eq!(l.published_by("to-order"), [2, 5, 8, 10, 11, 13, 15]);
    assert_eq!(pipeline_view(&l).services[2].stock, [0]);
    assert_eq!(pipeline_view(&l).locked, 0);
}

#[test]
fn rmq_qq_lesson_27_one_node_lost_is_survived_two_hold_the_writes_and_a_return_resumes_them() {
    let mut l = Lesson::load("27-quorum-queues.json");
    let confirms = |l: &Lesson, p: &str| {
        let p = &l.sim.report(1, &[]).publishers[p];
        (p.sent, p.confirms_acked, p.confirms_nacked)
    };
    let elections = |l: &Lesson| -> Vec<(u64, u32)> {
        (l.events.iter())
            .filter_map(|e| match e.kind {
                EventKind::QuorumLeaderElected { node, .. } => Some((e.time.0 / 1_000, node)),
                _ => None,
            })
            .collect()
    };
    l.run_to_step(0, 1_900.0);
    let (orders, audit) = (queue_view(&l.sim, "orders"), queue_view(&l.sim, "audit"));
    assert_eq!((orders.members, orders.node), (vec![0, 1, 2], 0));
    assert_eq!(
        (audit.members, audit.node),
        (vec![], 0),
        "classic, on rabbit-1"
    );
    assert_eq!(confirms(&l, "shop"), (3, 3, 0));
    assert_eq!(confirms(&l, "tracker"), (1, 1, 0));
    assert_eq!(l.consumer("billing").processing.map(|p| p.msg.0), Some(3));

    // rabbit-1 stopped at 2.4 s: orders elects, audit is unreachable.
    l.run_to_step(1, 3_200.0);
    let (orders, audit) = (queue_view(&l.sim, "orders"), queue_view(&l.sim, "audit"));
    assert!(!orders.available && !audit.available);
    assert_eq!(
        (orders.ready, orders.held),
        (1, 2),
        "m5 back, m6 and m8 wait"
    );
    assert_eq!(l.contents("orders"), [5]);
    assert_eq!(l.consumer("billing").status, ConsumerStatus::Crashed);
    assert_eq!(confirms(&l, "shop"), (6, 4, 0));
    assert_eq!(l.dropped_ids(DropReason::BrokerDown), [7]);
    assert_eq!(confirms(&l, "tracker"), (3, 2, 1));
    let ledger = l.sim.ledger();
    assert_eq!((ledger.in_flight, ledger.dropped_total()), (2, 1));
    assert_eq!(l.contents("audit"), [1, 4], "kept on rabbit-1's disk");
    assert!(elections(&l).is_empty());

    l.run_to_step(2, 3_700.0);
    assert_eq!(elections(&l), [(3_400, 1)], "rabbit-2 after 1 s");
    let orders = queue_view(&l.sim, "orders");
    assert!(orders.available);
    assert_eq!((orders.node, orders.held), (1, 0));
    assert_eq!(confirms(&l, "shop"), (7, 7, 0));
    assert_eq!(l.received("billing").last(), Some(&(5, true)));
    assert_eq!(l.dropped_ids(DropReason::BrokerDown), [7]);

    // rabbit-2 stopped at 4.4 s: one member of three, no majority.
    l.run_to_step(3, 6_200.0);
    let orders = queue_view(&l.sim, "orders");
    assert!(!orders.available);
    assert_eq!(orders.held, 4);
    assert_eq!(confirms(&l, "shop"), (12, 8, 0), "m12, m14, m15, m17 wait");
    let since: Vec<u64> = (l.events.iter())
        .filter(|e| e.time.0 > 4_400_000)
        .filter_map(|e| match e.kind {
            EventKind::Delivered { msg, .. } => Some(msg.0),
            _ => None,
        })
        .collect();
    assert!(since.is_empty(), "nothing delivered without a majority");
    assert_eq!(l.consumer("billing").status, ConsumerStatus::Crashed);
    assert_eq!(l.dropped_ids(DropReason::BrokerDown), [7, 10, 13, 16]);
    let ledger = l.sim.ledger();
    assert_eq!((ledger.in_flight, ledger.dropped_total()), (4, 4));
    assert_eq!(elections(&l), [(3_400, 1)]);

    l.run_to_step(4, 8_300.0);
    assert_eq!(elections(&l), [(3_400, 1), (7_400, 2)], "rabbit-3");
    let orders = queue_view(&l.sim, "orders");
    assert!(orders.available);
    assert_eq!((orders.node, orders.held), (2, 0));
    assert_eq!(confirms(&l, "shop"), (16, 16, 0));
    // No order of shop's was dropped: every one is in orders or was acked by billing.
    let shop = l.published_by("shop");
    let dropped: Vec<u64> = (l.sim.ledger().dropped.keys())
        .flat_map(|r| l.dropped_ids(*r))
        .collect();
    assert!(shop.iter().all(|m| !dropped.contains(m)), "{dropped:?}");
    assert_eq!(dropped, l.published_by("tracker")[2..6]);
    assert_eq!(l.sim.ledger().in_flight, 0);
    assert_eq!(
        l.contents("audit")[..2],
        [1, 4],
        "back from rabbit-1's disk"
    );
    assert_eq!(confirms(&l, "tracker"), (7, 3, 4));
}

#[test]
fn rmq_qq_lesson_28_a_cut_off_leader_confirms_nothing_the_majority_goes_on_the_heal_discards() {
    let mut l = Lesson::load("28-network-partitions.json");
    let confirms = |l: &Lesson| {
        let p = &l.sim.report(1, &[]).publishers["shop"];
        (p.sent, p.confirms_acked, p.confirms_nacked)
    };
    let elections = |l: &Lesson| -> Vec<(u64, u32)> {
        (l.events.iter())
            .filter_map(|e| match e.kind {
                EventKind::QuorumLeaderElected { node, .. } => Some((e.time.0 / 1_000, node)),
                _ => None,
            })
            .collect()
    };
    let rabbit_1 = |l: &Lesson| l.sim.snapshot().rabbitmq_nodes[0].clone();
    l.run_to_step(0, 1_900.0);
    let orders = queue_view(&l.sim, "orders");
    assert_eq!((orders.members, orders.node), (vec![0, 1, 2], 0));
    assert_eq!(confirms(&l), (3, 3, 0), "every order confirmed at once");

    // Cut off at 2.4 s: rabbit-1 takes m4 and m5 and cannot commit them.
    l.run_to_step(1, 3_200.0);
    let orders = queue_view(&l.sim, "orders");
    assert!(!orders.available);
    assert_eq!((orders.node, orders.uncommitted), (0, 2));
    assert!(rabbit_1(&l).isolated && !rabbit_1(&l).paused);
    assert_eq!(rabbit_1(&l).uncommitted, 2);
    assert_eq!(confirms(&l), (6, 4, 0), "m4, m5 unconfirmed");
    assert_eq!(l.sim.ledger().in_flight, 2);
    let since: Vec<u64> = (l.received("billing").iter())
        .map(|&(m, _)| m)
        .filter(|&m| m >= 4)
        .collect();
    assert!(since.is_empty(), "billing gets nothing");
    assert!(elections(&l).is_empty());

    // 3.4 s: the majority elects rabbit-2, rabbit-1 pauses; orders goes on.
    l.run_to_step(2, 4_300.0);
    assert_eq!(elections(&l), [(3_400, 1)]);
    assert!(rabbit_1(&l).paused);
    let orders = queue_view(&l.sim, "orders");
    assert!(orders.available);
    assert_eq!((orders.node, orders.uncommitted), (1, 2));
    assert_eq!(confirms(&l), (8, 6, 0), "m6 and m7 confirmed");
    let got: Vec<u64> = l.received("billing").iter().map(|&(m, _)| m).collect();
    assert_eq!(got[4..], [6, 7]);
    assert_eq!(l.sim.ledger().dropped_total(), 0, "not lost yet");

    // Healed at 6.4 s: the old leader discards m4 and m5 and catches up six orders.
    l.run_to_step(3, 7_000.0);
    assert_eq!(l.dropped_ids(DropReason::TruncatedOnElection), [4, 5]);
    assert_eq!(l.sim.ledger().dropped_total(), 2);
    let healed: Vec<(u32, u64)> = (l.events.iter())
        .filter_map(|e| match e.kind {
            EventKind::RabbitMqNodeHealed { node, caught_up } => Some((node, caught_up)),
            _ => None,
        })
        .collect();
    assert_eq!(healed, [(0, 6)], "m6 to m11");
    assert!(!rabbit_1(&l).isolated);
    assert_eq!(queue_view(&l.sim, "orders").node, 1, "rabbit-1 follows");
    // m13, published at 7 s, is on its way; m4 and m5 will never be confirmed.
    assert_eq!(confirms(&l), (14, 11, 0));
    let got: Vec<u64> = l.received("billing").iter().map(|&(m, _)| m).collect();
    let confirmed_before: Vec<u64> = (0..12).filter(|m| *m != 4 && *m != 5).collect();
    assert!(confirmed_before.iter().all(|m| got.contains(m)), "{got:?}");
}

#[test]
fn zmq_1_rmq_32_lesson_22_the_broker_costs_a_hop_and_keeps_its_queue_the_pipes_die() {
    let mut l = Lesson::load("22-broker-or-brokerless.json");
    let zmq = |l: &Lesson| l.sim.snapshot().zeromq.clone().expect("zeromq");
    let vent_blocked = |l: &Lesson| {
        (zmq(l).sockets.iter())
            .find(|s| s.name == "vent/out")
            .expect("vent/out")
            .blocked
    };
    let settled_ms = |l: &Lesson, m: u64| {
        first_time(
            &l.events,
            |k| matches!(k, EventKind::Settled { msg, .. } if msg.0 == m),
        )
        .0 / 1_000
    };

    // One more hop, and an ACK, through the broker.
    l.run_to_step(0, 1_000.0);
    assert_eq!(l.published_by("shop")[0], 0);
    assert_eq!(l.published_by("feed")[0], 1);
    assert_eq!(l.processed_at("zmq-app")[0], (320, 1));
    assert_eq!(l.processed_at("rmq-worker")[0], (340, 0));
    assert_eq!(settled_ms(&l, 0), 360);

    l.run_to_step(1, 1_900.0);
    assert_eq!(l.processed("rmq-worker").len(), 8);
    assert_eq!(l.processed("zmq-app").len(), 8);
    assert_eq!(queue_view(&l.sim, "jobs").ready, 0);

    // ZMQ-2, ZMQ-3: slowed, the queue grows while the PUSH blocks and drops nothing.
    l.run_to_step(2, 5_900.0);
    let jobs = queue_view(&l.sim, "jobs");
    assert_eq!((jobs.ready, jobs.unacked), (12, 1));
    assert!(vent_blocked(&l));
    assert_eq!(l.published_by("feed").len(), 24);
    assert_eq!(l.published_by("shop").len(), 29);
    let piped: u64 = (zmq(&l).conns.iter()).map(|c| c.out.0 + c.inp.0).sum();
    assert_eq!(piped, 6);
    assert!(l.consumer("zmq-app").processing.is_some());
    assert!(l.sim.ledger().dropped.values().all(|n| *n == 0));

    // RMQ-32 and ZMQ-1: the durable queue keeps its persistent messages on disk, the
    // crashed process loses its pipes.
    l.run_to_step(3, 6_500.0);
    assert_eq!(queue_view(&l.sim, "jobs").total, 12);
    assert_eq!(l.dropped_ids(DropReason::NotYetOnDisk), [52]);
    assert_eq!(dropped(&l.sim, DropReason::ProcessExit), 7);
    assert!(dropped(&l.sim, DropReason::BrokerDown) > 0);
    assert!(vent_blocked(&l), "m48 waits in vent");
    assert!(zmq(&l).conns.is_empty());
    assert!(!l.dropped_ids(DropReason::ProcessExit).contains(&48));

    l.run_to_step(4, 8_500.0);
    assert!(l.received("rmq-worker").contains(&(32, true)));
    assert_eq!(l.consumer("zmq-app").processing.map(|p| p.msg.0), Some(48));
    let lost = l.dropped_ids(DropReason::ProcessExit);
    assert_eq!(lost.len(), 7);
    assert!(lost.iter().all(|m| !l.processed("zmq-app").contains(m)));
    assert_eq!(dropped(&l.sim, DropReason::BrokerDown), 10);
}
