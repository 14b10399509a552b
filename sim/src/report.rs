//! The headless runner's report: what a teacher checks before class and what fidelity tests read.

use crate::engine::Simulation;
use crate::event::{Event, EventKind, EventSink, JmsEvent, SqsEvent};
use crate::ids::{JmsQueueId, JmsStore, MessageId, QueueId, SqsQueueId};
use crate::ledger::{CopyState, DeadLetterReason, Ledger};
use crate::snapshot::{LatencyView, QueueView, SqsQueueView};
use crate::time::SimTime;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize)]
pub struct ReceivedMessage {
    pub msg: MessageId,
    pub redelivered: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct DeadLetterEntry {
    pub msg: MessageId,
    pub from_queue: String,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PublisherReport {
    pub sent: u64,
    pub confirms_acked: u64,
    pub confirms_nacked: u64,
    pub returned: Vec<MessageId>,
    pub nacked: Vec<MessageId>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub seed: u64,
    pub until: SimTime,
    pub events: usize,
    pub digest: String,
    pub ledger: Ledger,
    pub balanced: bool,
    pub queues: Vec<QueueView>,
    pub latency: LatencyView,
    /// Per consumer, every message id it received in order.
    pub received: BTreeMap<String, Vec<ReceivedMessage>>,
    /// Each queue's final ready contents in delivery order.
    pub queue_contents: BTreeMap<String, Vec<MessageId>>,
    pub dead_letters: Vec<DeadLetterEntry>,
    pub publishers: BTreeMap<String, PublisherReport>,
    /// Per partition (`topic/partition`), offset → message id.
    pub partitions: BTreeMap<String, Vec<(u64, MessageId)>>,
    /// Per group member, the records it processed with their offsets.
    pub group_deliveries: BTreeMap<String, Vec<GroupDelivery>>,
    pub topics: Vec<crate::snapshot::TopicView>,
    pub groups: Vec<crate::snapshot::GroupView>,
    pub services: Vec<crate::snapshot::ServiceView>,
    /// Apache Pulsar's topics, cursors and consumers, when the scenario uses it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pulsar: Option<crate::snapshot::PulsarView>,
    /// The JMS broker, when the scenario uses one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jms: Option<JmsReport>,
    /// Why the run stopped before `until`, when it did; the rest of the report is exact up to there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub halted: Option<crate::Halt>,
    /// AWS SQS, when the scenario has SQS queues.
    #[serde(skip_serializing_if = "SqsReport::is_empty")]
    pub sqs: SqsReport,
    /// The pipeline's services and saga figures, when the scenario has stages (issue 14).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<crate::clients::PipelineView>,
    /// Redis streams, when the scenario has any.
    #[serde(skip_serializing_if = "StreamsReport::is_empty")]
    pub streams: StreamsReport,
}

/// Redis streams in the words of `XINFO` and `XPENDING`, and what each reader was sent and saw.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StreamsReport {
    pub streams: Vec<crate::snapshot::StreamView>,
    pub consumers: BTreeMap<String, StreamConsumerReport>,
}

impl StreamsReport {
    pub fn is_empty(&self) -> bool {
        self.streams.is_empty()
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct StreamConsumerReport {
    /// Each entry Redis sent it, with its delivery count then.
    pub sent: Vec<(MessageId, u32)>,
    pub seen: Vec<MessageId>,
    /// Its entries in its group's PEL (`XPENDING` per consumer); none for an `XREAD` reader.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<u64>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct SqsReport {
    pub queues: Vec<SqsQueueView>,
    /// Per consumer: what SQS sent it and what its application saw. A message sent to a
    /// consumer that died first was sent and never seen (SQS-3).
    pub consumers: BTreeMap<String, SqsConsumerReport>,
    /// Each queue's stored messages (delayed, visible or in flight) in send order.
    pub queue_contents: BTreeMap<String, Vec<MessageId>>,
    /// Every move to a dead-letter queue (SQS-4).
    pub redrives: Vec<SqsRedriveEntry>,
}

impl SqsReport {
    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct SqsConsumerReport {
    pub sent: Vec<SqsSent>,
    pub seen: Vec<MessageId>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SqsSent {
    pub msg: MessageId,
    /// `ApproximateReceiveCount` after that receive.
    pub receive_count: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct SqsRedriveEntry {
    pub msg: MessageId,
    pub from_queue: String,
    pub to_queue: String,
    pub receive_count: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct GroupDelivery {
    pub topic: String,
    pub partition: u32,
    pub offset: u64,
    pub msg: MessageId,
    pub duplicate: bool,
}

/// The JMS broker in web-console words, with what its stores hold and what was dead-lettered.
#[derive(Clone, Debug, Serialize)]
pub struct JmsReport {
    pub queues: Vec<crate::snapshot::JmsQueueView>,
    pub topics: Vec<crate::snapshot::JmsTopicView>,
    pub subscriptions: Vec<crate::snapshot::JmsSubscriptionView>,
    /// Each queue's stored (not dispatched) messages, in order.
    pub queue_contents: BTreeMap<String, Vec<MessageId>>,
    pub dead_letters: Vec<JmsDeadLetterEntry>,
}

/// A message moved to a dead-letter queue (AMQ-7).
#[derive(Clone, Debug, Serialize)]
pub struct JmsDeadLetterEntry {
    pub msg: MessageId,
    /// The queue, or `topic:subscription` for a topic's copy.
    pub from: String,
    pub to: String,
    pub reason: DeadLetterReason,
}

/// What the report needs from the event stream, kept as the events go by so that a run of any
/// length can be reported without holding its events.
#[derive(Debug, Default)]
pub struct EventTally {
    pub events: usize,
    dead_letters: Vec<(MessageId, QueueId, String)>,
    sqs_redrives: Vec<(MessageId, SqsQueueId, SqsQueueId, u32)>,
    jms_dead_letters: Vec<(MessageId, JmsStore, JmsQueueId, DeadLetterReason)>,
}

impl EventSink for EventTally {
    fn accept(&mut self, event: Event) {
        self.events += 1;
        match &event.kind {
            EventKind::DeadLettered { msg, queue, reason } => {
                self.dead_letters.push((*msg, *queue, reason.to_string()));
            }
            EventKind::Sqs(SqsEvent::SqsRedrive {
                msg,
                from,
                to,
                receives,
            }) => self.sqs_redrives.push((*msg, *from, *to, *receives)),
            EventKind::Jms(JmsEvent::JmsDeadLetter {
                msg,
                from,
                to,
                reason,
            }) => self.jms_dead_letters.push((*msg, *from, *to, *reason)),
            _ => {}
        }
    }
}

impl Simulation {
    /// Builds the runner's report from the events the caller collected.
    pub fn report(&self, seed: u64, events: &[Event]) -> Report {
        let mut tally = EventTally::default();
        for e in events {
            tally.accept(e.clone());
        }
        self.report_from(seed, &tally, true)
    }

    /// Builds the report from a tally of the streamed events. Without `per_message`, the lists
    /// with an entry per message (received, queue contents, partitions, group deliveries, dead
    /// letters) are left empty, so the report's size does not grow with the run.
    pub fn report_from(&self, seed: u64, tally: &EventTally, per_message: bool) -> Report {
        let snap = self.snapshot();
        let received = if per_message {
            self.clients
                .consumers
                .iter()
                .map(|c| {
                    let list = c.log.iter().map(|(msg, redelivered)| ReceivedMessage {
                        msg: *msg,
                        redelivered: *redelivered,
                    });
                    (c.spec.name.clone(), list.collect())
                })
                .collect()
        } else {
            Default::default()
        };
        let queue_contents = if per_message {
            self.rabbitmq
                .queues
                .iter()
                .map(|q| {
                    let msgs = q
                        .all_ready()
                        .map(|s| self.world.copies.get(s).msg)
                        .collect();
                    (q.name().to_string(), msgs)
                })
                .collect()
        } else {
            Default::default()
        };
        let dead_letters = if per_message {
            tally
                .dead_letters
                .iter()
                .map(|(msg, queue, reason)| DeadLetterEntry {
                    msg: *msg,
                    from_queue: self.rabbitmq.queues[queue.index()].name().to_string(),
                    reason: reason.clone(),
                })
                .collect()
        } else {
            Default::default()
        };
        let publishers = self
            .clients
            .producers
            .iter()
            .map(|p| {
                (
                    p.spec.name.clone(),
                    PublisherReport {
                        sent: p.sent,
                        confirms_acked: p.confirms_acked,
                        confirms_nacked: p.confirms_nacked,
                        returned: if per_message {
                            p.returns.clone()
                        } else {
                            Vec::new()
                        },
                        nacked: if per_message {
                            p.nacks.clone()
                        } else {
                            Vec::new()
                        },
                    },
                )
            })
            .collect();
        let partitions = if per_message {
            self.kafka
                .topics
                .iter()
                .flat_map(|t| {
                    t.partitions.iter().enumerate().map(move |(p, log)| {
                        let contents = log.iter_from(0).map(|(o, r)| (o, r.msg)).collect();
                        (format!("{}/{p}", t.spec.name), contents)
                    })
                })
                .collect()
        } else {
            Default::default()
        };
        let group_deliveries = if per_message {
            self.kafka
                .members
                .iter()
                .map(|(c, m)| {
                    let list = m
                        .log
                        .iter()
                        .map(|(tp, offset, msg, duplicate)| GroupDelivery {
                            topic: self.kafka.topics[tp.topic.index()].spec.name.clone(),
                            partition: tp.partition,
                            offset: *offset,
                            msg: *msg,
                            duplicate: *duplicate,
                        })
                        .collect();
                    (self.clients.consumers[c.index()].spec.name.clone(), list)
                })
                .collect()
        } else {
            Default::default()
        };
        let sqs = self.sqs_report(tally, per_message, snap.sqs.queues);
        let streams = StreamsReport {
            streams: snap.streams,
            consumers: (self.streams.readers.iter())
                .filter(|_| per_message)
                .map(|(c, r)| {
                    let report = StreamConsumerReport {
                        sent: r.sent_log.clone(),
                        seen: r.seen_log.clone(),
                        pending: self.streams.pending_of(*c),
                    };
                    (self.clients.consumers[c.index()].spec.name.clone(), report)
                })
                .collect(),
        };
        let jms = self
            .jms
            .is_used()
            .then(|| self.jms_report(tally, per_message));
        Report {
            sqs,
            streams,
            jms,
            partitions,
            group_deliveries,
            topics: snap.topics,
            groups: snap.groups,
            services: snap.services,
            pulsar: snap.pulsar,
            pipeline: snap.pipeline,
            seed,
            until: self.world.now,
            halted: self.halted().cloned(),
            events: tally.events,
            digest: format!("{:016x}", self.digest().0),
            ledger: self.world.ledger.clone(),
            balanced: self.world.ledger.is_balanced(),
            queues: snap.queues,
            latency: snap.latency,
            received,
            queue_contents,
            dead_letters,
            publishers,
        }
    }

    fn jms_report(&self, tally: &EventTally, per_message: bool) -> JmsReport {
        let view = self.jms_view();
        let store_name = |s: JmsStore| match s {
            JmsStore::Queue(q) => self.jms.queues[q.index()].name.clone(),
            JmsStore::Sub(s) => {
                let sub = &self.jms.subs[s.index()];
                let topic = &self.jms.topics[sub.topic.index()].name;
                match &sub.durable {
                    Some(d) => format!("{topic}:{}:{}", d.client_id, d.name),
                    None => format!("{topic}:{s}"),
                }
            }
        };
        let (queue_contents, dead_letters) = if per_message {
            let contents = (self.jms.queues.iter())
                .map(|q| {
                    let msgs = q.store.pending.values();
                    let msgs = msgs.map(|s| self.world.copies.get(*s).msg).collect();
                    (q.name.clone(), msgs)
                })
                .collect();
            let dead = (tally.jms_dead_letters.iter())
                .map(|(msg, from, to, reason)| JmsDeadLetterEntry {
                    msg: *msg,
                    from: store_name(*from),
                    to: self.jms.queues[to.index()].name.clone(),
                    reason: *reason,
                })
                .collect();
            (contents, dead)
        } else {
            Default::default()
        };
        JmsReport {
            queues: view.queues,
            topics: view.topics,
            subscriptions: view.subscriptions,
            queue_contents,
            dead_letters,
        }
    }

    /// The report's summary figures as CSV, one row per figure: `section,name,figure,value`
    /// (docs/runner.md). Sections: `run`, `ledger`, `latency`, `queue`, `consumer`, `producer`,
    /// `topic`, `group`, `service`, `jms_queue`, `jms_topic`, `jms_subscription`.
    pub fn summary_csv(&self, seed: u64, tally: &EventTally) -> String {
        let report = self.report_from(seed, tally, false);
        let snap = self.snapshot();
        let mut csv = Csv(String::from("section,name,figure,value\n"));
        csv.row("run", "", "seed", seed);
        csv.row("run", "", "until_us", report.until.micros());
        csv.row("run", "", "events", report.events);
        csv.row("run", "", "digest", &report.digest);
        csv.row("run", "", "balanced", report.balanced);
        if let Some(halt) = &report.halted {
            csv.row("run", "", "halted", halt);
        }
        let ledger = serde_json::to_value(&report.ledger).expect("the ledger serialises");
        for (figure, value) in ledger.as_object().into_iter().flatten() {
            match value.as_object() {
                // Counts by reason: one figure per reason.
                Some(by_reason) => {
                    for (reason, n) in by_reason {
                        csv.row("ledger", "", &format!("{figure}.{reason}"), n);
                    }
                }
                None => csv.row("ledger", "", figure, value),
            }
        }
        let l = &report.latency;
        csv.row("latency", "", "count", l.count);
        for (figure, ms) in [
            ("mean_ms", l.mean_ms),
            ("p50_ms", l.p50_ms),
            ("p95_ms", l.p95_ms),
            ("p99_ms", l.p99_ms),
        ] {
            csv.row("latency", "", figure, ms);
        }
        for q in &report.queues {
            for (figure, n) in [
                ("ready", q.ready),
                ("unacked", q.unacked),
                ("total", q.total),
                ("ready_bytes", q.ready_bytes),
                ("consumers", q.consumers.len() as u64),
            ] {
                csv.row("queue", &q.name, figure, n);
            }
            for (figure, rate) in [
                ("publish_per_sec", q.rates.publish),
                ("deliver_per_sec", q.rates.deliver),
                ("redeliver_per_sec", q.rates.redeliver),
                ("ack_per_sec", q.rates.ack),
            ] {
                csv.row("queue", &q.name, figure, rate);
            }
        }
        for c in &snap.consumers {
            let status = serde_json::to_value(c.status).expect("a status serialises");
            csv.row(
                "consumer",
                &c.name,
                "status",
                status.as_str().unwrap_or_default(),
            );
            for (figure, n) in [
                ("delivered", c.delivered),
                ("acked", c.acked),
                ("redelivered", c.redelivered),
                ("unacked", c.unacked_count),
            ] {
                csv.row("consumer", &c.name, figure, n);
            }
            csv.row("consumer", &c.name, "utilisation", c.utilisation);
        }
        for p in &snap.producers {
            for (figure, n) in [
                ("sent", p.sent),
                ("confirms_acked", p.confirms_acked),
                ("confirms_nacked", p.confirms_nacked),
                ("returned", p.returned),
            ] {
                csv.row("producer", &p.name, figure, n);
            }
        }
        for t in &report.topics {
            let records: u64 = t.partitions.iter().map(|p| p.log_end - p.log_start).sum();
            let bytes: u64 = t.partitions.iter().map(|p| p.bytes).sum();
            csv.row("topic", &t.name, "partitions", t.partitions.len());
            csv.row("topic", &t.name, "records", records);
            csv.row("topic", &t.name, "bytes", bytes);
        }
        for g in &report.groups {
            for (figure, n) in [
                ("members", g.members.len() as u64),
                ("lag", g.lag),
                ("processed", g.processed),
                ("duplicates", g.duplicates),
                ("skipped", g.skipped),
                ("rebalances", g.rebalances),
                ("generation", u64::from(g.generation)),
            ] {
                csv.row("group", &g.name, figure, n);
            }
        }
        for sv in &report.services {
            for (figure, n) in [
                ("served", sv.served),
                ("rejected", sv.rejected),
                ("timed_out", sv.timed_out),
                ("waiting", sv.waiting),
                ("busy", u64::from(sv.busy)),
            ] {
                csv.row("service", &sv.name, figure, n);
            }
        }
        for q in report.jms.iter().flat_map(|j| &j.queues) {
            for (figure, n) in [
                ("pending", q.pending),
                ("enqueued", q.enqueued),
                ("dequeued", q.dequeued),
                ("consumers", q.consumers.len() as u64),
                ("in_flight", q.in_flight),
                ("expired", q.expired),
            ] {
                csv.row("jms_queue", &q.name, figure, n);
            }
        }
        for sv in &report.streams.streams {
            csv.row("stream", &sv.key, "xlen", sv.length);
            csv.row("stream", &sv.key, "entries_added", sv.entries_added);
            for g in &sv.groups {
                let name = format!("{}:{}", sv.key, g.name);
                csv.row("stream_group", &name, "pending", g.pending);
                csv.row("stream_group", &name, "entries_read", opt(g.entries_read));
                csv.row("stream_group", &name, "lag", opt(g.lag));
            }
        }
        for t in report.jms.iter().flat_map(|j| &j.topics) {
            csv.row("jms_topic", &t.name, "enqueued", t.enqueued);
        }
        for sv in report.jms.iter().flat_map(|j| &j.subscriptions) {
            let name = match &sv.durable {
                Some(d) => format!("{}:{}", d.client_id, d.name),
                None => sv.id.to_string(),
            };
            for (figure, n) in [
                ("pending", sv.pending),
                ("in_flight", sv.in_flight),
                ("enqueued", sv.enqueued),
                ("dequeued", sv.dequeued),
            ] {
                csv.row("jms_subscription", &name, figure, n);
            }
        }
        csv.0
    }

    fn sqs_report(
        &self,
        tally: &EventTally,
        per_message: bool,
        queues: Vec<SqsQueueView>,
    ) -> SqsReport {
        if !per_message {
            return SqsReport {
                queues,
                ..SqsReport::default()
            };
        }
        let queue_name = |q: SqsQueueId| self.sqs.queues[q.index()].name().to_string();
        SqsReport {
            queues,
            consumers: (self.sqs.pullers.iter())
                .map(|(c, p)| {
                    let report = SqsConsumerReport {
                        sent: (p.sent_log.iter())
                            .map(|(msg, receive_count)| SqsSent {
                                msg: *msg,
                                receive_count: *receive_count,
                            })
                            .collect(),
                        seen: p.seen_log.clone(),
                    };
                    (self.clients.consumers[c.index()].spec.name.clone(), report)
                })
                .collect(),
            queue_contents: (self.sqs.queues.iter())
                .map(|q| {
                    let msgs = q.messages.values().map(|m| m.msg).collect();
                    (q.name().to_string(), msgs)
                })
                .collect(),
            redrives: (tally.sqs_redrives.iter())
                .map(|(msg, from, to, receive_count)| SqsRedriveEntry {
                    msg: *msg,
                    from_queue: queue_name(*from),
                    to_queue: queue_name(*to),
                    receive_count: *receive_count,
                })
                .collect(),
        }
    }

    /// The state of every live copy of a message, for tracing.
    pub fn copies_of(&self, msg: MessageId) -> Vec<CopyState> {
        self.world
            .copies
            .iter_live()
            .filter(|(_, c)| c.msg == msg)
            .map(|(_, c)| c.state)
            .collect()
    }
}

/// CSV text (RFC 4180): a field with a comma, quote or line break is quoted, quotes doubled.
struct Csv(String);

impl Csv {
    fn row(&mut self, section: &str, name: &str, figure: &str, value: impl std::fmt::Display) {
        for field in [section, name, figure] {
            self.field(field);
            self.0.push(',');
        }
        self.field(&value.to_string());
        self.0.push('\n');
    }

    fn field(&mut self, text: &str) {
        if text.contains([',', '"', '\n', '\r']) {
            self.0.push('"');
            self.0.push_str(&text.replace('"', "\"\""));
            self.0.push('"');
        } else {
            self.0.push_str(text);
        }
    }
}

/// A figure Redis may report as NULL.
fn opt(n: Option<u64>) -> String {
    n.map_or_else(|| "null".into(), |n| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scenario;

    const DEAD_LETTERING: &str = r#"{
        "version": 1,
        "exchanges": [{ "name": "dlx", "type": "fanout" }],
        "queues": [
            { "name": "work", "message_ttl_ms": 50, "dead_letter_exchange": "dlx" },
            { "name": "dead" }
        ],
        "bindings": [{ "exchange": "dlx", "queue": "dead" }],
        "producers": [{ "name": "p", "targets": [{ "exchange": "" }], "rate": { "kind": "constant", "per_sec": 20 },
                        "message": { "routing_keys": ["work"] }, "limit": 10 }]
    }"#;

    fn sim() -> Simulation {
        Simulation::new(&Scenario::from_json(DEAD_LETTERING).unwrap(), 7).unwrap()
    }

    #[test]
    fn streamed_events_equal_collected_events_and_report_the_same() {
        let mut collected = sim();
        let events = collected.advance_to(SimTime::from_secs(2));
        let mut streamed = sim();
        let mut sink = Vec::new();
        assert!(streamed.advance_into(SimTime::from_secs(2), usize::MAX, &mut sink));
        assert_eq!(events, sink);
        assert_eq!(collected.digest(), streamed.digest());

        let mut tally = EventTally::default();
        for e in &events {
            tally.accept(e.clone());
        }
        let full = streamed.report_from(7, &tally, true);
        assert_eq!(full.events, events.len());
        assert_eq!(
            full.dead_letters.len(),
            10,
            "every message expires into dlx"
        );
        assert_eq!(full.queue_contents["dead"].len(), 10);
        let old = collected.report(7, &events);
        assert_eq!(
            serde_json::to_string(&old).unwrap(),
            serde_json::to_string(&full).unwrap()
        );
    }

    #[test]
    fn summary_report_leaves_out_per_message_lists_but_keeps_the_figures() {
        let mut s = sim();
        let mut tally = EventTally::default();
        s.advance_into(SimTime::from_secs(2), usize::MAX, &mut tally);
        let summary = s.report_from(7, &tally, false);
        assert!(summary.dead_letters.is_empty());
        assert!(summary.queue_contents.is_empty());
        assert!(summary.received.is_empty());
        assert_eq!(
            summary.ledger.created, 20,
            "10 originals and 10 dead-letter copies"
        );
        assert!(summary.balanced);
        assert_eq!(summary.events, tally.events);
    }
}
