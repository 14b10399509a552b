//! Message tracing: the kind of step each event is (shared with the event log's badges), one
//! message's journey read from the driver's ring of recent events, and the panel showing it.

use crate::driver::EVENT_LOG_CAPACITY;
use crate::hooks::{use_interval, use_render_count};
use crate::i18n::{t, Key, Lang};
use crate::lab::use_lab;
use crate::model::format_clock;
use broker_sim::event::{JmsEvent, KafkaRepEvent, StageEvent, StageWrite, ZmqEvent};
use broker_sim::{
    ConsumerId, DeadLetterReason, DropReason, Event, EventKind, MessageId, Settle, SimTime,
    Snapshot,
};
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// How often the trace panel looks for new events of its message.
const TRACE_POLL_MS: i32 = 250;
/// At most this many steps are listed; a replayed Kafka record can have thousands.
pub const MAX_STEPS: usize = 500;

/// What an event means for a message: the trace's steps and the event log's badges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    Published,
    Routed,
    Enqueued,
    Delivered,
    Redelivered,
    Processed,
    Failed,
    Acked,
    Nacked,
    Rejected,
    Requeued,
    Expired,
    DeadLettered,
    Dropped,
    PublisherNacked,
    ChannelPublished,
    Pushed,
    Appended,
    RecordProcessed,
    Duplicate,
    Crashed,
    Restarted,
    ChannelClosed,
    SessionExpired,
    Disconnected,
    OffsetReset,
    NoOffset,
    Rebalance,
    RebalanceDone,
    Retention,
    QueueDeleted,
    Command,
}

impl StepKind {
    pub fn of(kind: &EventKind) -> StepKind {
        match kind {
            EventKind::Published { .. } => StepKind::Published,
            EventKind::Routed { .. } => StepKind::Routed,
            EventKind::Enqueued { .. } => StepKind::Enqueued,
            EventKind::Delivered { redelivered, .. } => {
                if *redelivered {
                    StepKind::Redelivered
                } else {
                    StepKind::Delivered
                }
            }
            EventKind::Processed { failed, .. } => {
                if *failed {
                    StepKind::Failed
                } else {
                    StepKind::Processed
                }
            }
            EventKind::Settled { settle, .. } => match settle {
                Settle::Ack => StepKind::Acked,
                Settle::Nack { .. } => StepKind::Nacked,
                Settle::Reject { .. } => StepKind::Rejected,
            },
            EventKind::Requeued { .. } => StepKind::Requeued,
            EventKind::Expired { .. } => StepKind::Expired,
            EventKind::DeadLettered { .. } => StepKind::DeadLettered,
            EventKind::Dropped { .. } => StepKind::Dropped,
            EventKind::PublisherNacked { .. } => StepKind::PublisherNacked,
            EventKind::ChannelPublished { .. } => StepKind::ChannelPublished,
            EventKind::PubSubDelivered { .. } => StepKind::Pushed,
            EventKind::ConsumerCrashed { .. } => StepKind::Crashed,
            EventKind::ConsumerRestarted { .. } => StepKind::Restarted,
            EventKind::ChannelClosed { .. } => StepKind::ChannelClosed,
            EventKind::Appended { .. } => StepKind::Appended,
            EventKind::RecordProcessed { duplicate, .. } => {
                if *duplicate {
                    StepKind::Duplicate
                } else {
                    StepKind::RecordProcessed
                }
            }
            EventKind::OffsetReset { .. } => StepKind::OffsetReset,
            EventKind::NoOffset { .. } => StepKind::NoOffset,
            EventKind::SessionExpired { .. } => StepKind::SessionExpired,
            EventKind::RebalanceStarted { .. } => StepKind::Rebalance,
            EventKind::RebalanceDone { .. } => StepKind::RebalanceDone,
            EventKind::RetentionDeleted { .. } | EventKind::Compacted { .. } => StepKind::Retention,
            EventKind::QueueDeleted { .. } => StepKind::QueueDeleted,
            EventKind::RabbitMqNodeStopped { .. } => StepKind::Crashed,
            EventKind::RabbitMqNodeStarted { .. } => StepKind::Restarted,
            EventKind::QuorumLeaderElected { .. }
            | EventKind::RabbitMqNodeIsolated { .. }
            | EventKind::RabbitMqNodePaused { .. }
            | EventKind::RabbitMqNodeHealed { .. } => StepKind::Command,
            EventKind::SubscriberDisconnected { .. } => StepKind::Disconnected,
            EventKind::KafkaRep(e) => match e {
                KafkaRepEvent::KafkaLostOnFailover { .. } => StepKind::Dropped,
                KafkaRepEvent::KafkaProduceAcked { .. } => StepKind::Acked,
                KafkaRepEvent::KafkaStaleLeaderAppended { .. } => StepKind::Appended,
                KafkaRepEvent::KafkaProduceFailed { .. } => StepKind::PublisherNacked,
                _ => StepKind::Command,
            },
            EventKind::CommandApplied { .. } | EventKind::Sqs(_) | EventKind::Streams(_) => {
                StepKind::Command
            }
            EventKind::Zmq(e) => match e {
                ZmqEvent::ZmqReceived { .. } => StepKind::Delivered,
                _ => StepKind::Command,
            },
            EventKind::PulsarEntryAdded { .. } => StepKind::Appended,
            EventKind::PulsarDispatched { .. } => StepKind::Delivered,
            EventKind::PulsarAcked { .. } => StepKind::Acked,
            EventKind::PulsarNacked { .. } => StepKind::Nacked,
            EventKind::PulsarDeadLettered { .. } => StepKind::DeadLettered,
            EventKind::PulsarLedgerRolled { .. }
            | EventKind::PulsarLedgerTrimmed { .. }
            | EventKind::PulsarSubscriptionCreated { .. }
            | EventKind::PulsarConsumerRefused { .. }
            | EventKind::PulsarActiveConsumer { .. }
            | EventKind::PulsarReceived { .. }
            | EventKind::PulsarCursorMoved { .. }
            | EventKind::PulsarRedeliveryRequested { .. }
            | EventKind::PulsarHashDraining { .. }
            | EventKind::PulsarTtlExpired { .. } => StepKind::Command,
            EventKind::Stage(e) => match e {
                StageEvent::StageStep {
                    wrote: StageWrite::Duplicate,
                    ..
                } => StepKind::Duplicate,
                StageEvent::StageStep { .. } => StepKind::Processed,
                StageEvent::StageCrashedAfterWrite { .. } => StepKind::Crashed,
                StageEvent::OutboxRelayed { .. } => StepKind::Published,
                StageEvent::OrderCancel { .. } => StepKind::Command,
            },
            EventKind::Jms(e) => match e {
                JmsEvent::JmsSend { .. } | JmsEvent::JmsStored { .. } => StepKind::Enqueued,
                JmsEvent::JmsTopicPublish { .. } => StepKind::Routed,
                JmsEvent::JmsDispatch { delivery_count, .. } if *delivery_count > 1 => {
                    StepKind::Redelivered
                }
                JmsEvent::JmsDispatch { .. } => StepKind::Delivered,
                JmsEvent::JmsRedeliver { .. } => StepKind::Redelivered,
                JmsEvent::JmsAck { .. } => StepKind::Acked,
                JmsEvent::JmsRollback { .. } => StepKind::Requeued,
                JmsEvent::JmsDeadLetter { .. } => StepKind::DeadLettered,
                JmsEvent::JmsExpired { .. } => StepKind::Expired,
                _ => StepKind::Command,
            },
        }
    }

    pub fn key(self) -> Key {
        match self {
            StepKind::Published => Key::EvPublished,
            StepKind::Routed => Key::EvRouted,
            StepKind::Enqueued => Key::EvEnqueued,
            StepKind::Delivered => Key::EvDelivered,
            StepKind::Redelivered => Key::EvRedelivered,
            StepKind::Processed => Key::EvProcessed,
            StepKind::Failed => Key::EvFailed,
            StepKind::Acked => Key::EvAcked,
            StepKind::Nacked => Key::EvNacked,
            StepKind::Rejected => Key::EvRejected,
            StepKind::Requeued => Key::EvRequeued,
            StepKind::Expired => Key::EvExpired,
            StepKind::DeadLettered => Key::EvDeadLettered,
            StepKind::Dropped => Key::EvDropped,
            StepKind::PublisherNacked => Key::EvPublisherNacked,
            StepKind::ChannelPublished => Key::EvChannelPublished,
            StepKind::Pushed => Key::EvPushed,
            StepKind::Appended => Key::EvAppended,
            StepKind::RecordProcessed => Key::EvRecordProcessed,
            StepKind::Duplicate => Key::EvDuplicate,
            StepKind::Crashed => Key::EvCrashed,
            StepKind::Restarted => Key::EvRestarted,
            StepKind::ChannelClosed => Key::EvChannelClosed,
            StepKind::SessionExpired => Key::EvSessionExpired,
            StepKind::Disconnected => Key::EvDisconnected,
            StepKind::OffsetReset => Key::EvOffsetReset,
            StepKind::NoOffset => Key::EvNoOffset,
            StepKind::Rebalance => Key::EvRebalance,
            StepKind::RebalanceDone => Key::EvRebalanceDone,
            StepKind::Retention => Key::EvRetention,
            StepKind::QueueDeleted => Key::EvQueueDeleted,
            StepKind::Command => Key::EvCommand,
        }
    }

    /// The stable name tests and CSS use (`data-step`).
    pub fn name(self) -> &'static str {
        match self {
            StepKind::Published => "published",
            StepKind::Routed => "routed",
            StepKind::Enqueued => "enqueued",
            StepKind::Delivered => "delivered",
            StepKind::Redelivered => "redelivered",
            StepKind::Processed => "processed",
            StepKind::Failed => "failed",
            StepKind::Acked => "acked",
            StepKind::Nacked => "nacked",
            StepKind::Rejected => "rejected",
            StepKind::Requeued => "requeued",
            StepKind::Expired => "expired",
            StepKind::DeadLettered => "dead_lettered",
            StepKind::Dropped => "dropped",
            StepKind::PublisherNacked => "publisher_nacked",
            StepKind::ChannelPublished => "channel_published",
            StepKind::Pushed => "pushed",
            StepKind::Appended => "appended",
            StepKind::RecordProcessed => "record_processed",
            StepKind::Duplicate => "duplicate",
            StepKind::Crashed => "crashed",
            StepKind::Restarted => "restarted",
            StepKind::ChannelClosed => "channel_closed",
            StepKind::SessionExpired => "session_expired",
            StepKind::Disconnected => "disconnected",
            StepKind::OffsetReset => "offset_reset",
            StepKind::NoOffset => "no_offset",
            StepKind::Rebalance => "rebalance",
            StepKind::RebalanceDone => "rebalance_done",
            StepKind::Retention => "retention",
            StepKind::QueueDeleted => "queue_deleted",
            StepKind::Command => "command",
        }
    }

    /// The badge colour family: where the message is in its life.
    pub fn tone(self) -> &'static str {
        match self {
            StepKind::Published | StepKind::ChannelPublished | StepKind::Appended => "tone-in",
            StepKind::Routed | StepKind::Enqueued => "tone-queue",
            StepKind::Delivered | StepKind::Pushed | StepKind::Processed => "tone-deliver",
            StepKind::RecordProcessed => "tone-deliver",
            StepKind::Acked => "tone-done",
            StepKind::Redelivered
            | StepKind::Requeued
            | StepKind::Nacked
            | StepKind::Duplicate
            | StepKind::Failed => "tone-retry",
            StepKind::Rejected
            | StepKind::Expired
            | StepKind::DeadLettered
            | StepKind::Dropped
            | StepKind::PublisherNacked
            | StepKind::QueueDeleted => "tone-loss",
            StepKind::Crashed
            | StepKind::ChannelClosed
            | StepKind::SessionExpired
            | StepKind::Disconnected => "tone-fault",
            StepKind::Restarted
            | StepKind::OffsetReset
            | StepKind::NoOffset
            | StepKind::Rebalance
            | StepKind::RebalanceDone
            | StepKind::Retention
            | StepKind::Command => "tone-other",
        }
    }
}

/// The text of a drop reason, with the real names (RMQ-7, -23, -24, -28, RPS-1, -3 …).
pub fn drop_reason_key(reason: DropReason) -> Key {
    match reason {
        DropReason::Unroutable => Key::ReasonUnroutable,
        DropReason::Returned => Key::ReasonReturned,
        DropReason::RejectedByQueue => Key::ReasonRejectedByQueue,
        DropReason::MaxLength => Key::ReasonMaxLength,
        DropReason::Rejected => Key::ReasonRejected,
        DropReason::LostInConsumerCrash => Key::ReasonLostInConsumerCrash,
        DropReason::NoSubscriber => Key::ReasonNoSubscriber,
        DropReason::SubscriberDisconnected => Key::ReasonSubscriberDisconnected,
        DropReason::DeliveryLimit => Key::ReasonDeliveryLimit,
        DropReason::DeadLetterUnroutable => Key::ReasonDeadLetterUnroutable,
        DropReason::SimulatorCapacity => Key::ReasonSimulatorCapacity,
        DropReason::QueueDeleted => Key::ReasonQueueDeleted,
        DropReason::NoKeyForCompactedTopic => Key::ReasonNoKeyForCompactedTopic,
        DropReason::ServiceOverloaded => Key::ReasonServiceOverloaded,
        DropReason::RequestTimeout => Key::ReasonRequestTimeout,
        DropReason::Deduplicated => Key::ReasonDeduplicated,
        DropReason::NoSubscription => Key::ReasonNoSubscriber,
        DropReason::NonPersistentDeadLetter => Key::ReasonNonPersistentDeadLetter,
        DropReason::LostInBrokerRestart => Key::ReasonLostInBrokerRestart,
        DropReason::BrokerDown => Key::ReasonBrokerDown,
        DropReason::PoisonAckDiscarded => Key::ReasonPoisonAckDiscarded,
        DropReason::LostOnFailover => Key::ReasonLostOnFailover,
        DropReason::TruncatedOnElection => Key::ReasonTruncatedOnElection,
        DropReason::DeliveryTimeout => Key::ReasonDeliveryTimeout,
        DropReason::StreamIdRejected => Key::ReasonStreamIdRejected,
        DropReason::LostInFailover => Key::ReasonLostInFailover,
        DropReason::HwmDrop => Key::ReasonHwmDrop,
        DropReason::ProcessExit => Key::ReasonProcessExit,
        DropReason::SlowJoiner => Key::ReasonSlowJoiner,
        DropReason::TransientQueueLost => Key::ReasonTransientQueueLost,
        DropReason::NotYetOnDisk => Key::ReasonNotYetOnDisk,
    }
}

/// The text of an `x-death` reason (RMQ-29).
pub fn dead_letter_reason_key(reason: DeadLetterReason) -> Key {
    match reason {
        DeadLetterReason::Rejected => Key::DlReasonRejected,
        DeadLetterReason::Expired => Key::DlReasonExpired,
        DeadLetterReason::Maxlen => Key::DlReasonMaxlen,
        DeadLetterReason::DeliveryLimit => Key::DlReasonDeliveryLimit,
        DeadLetterReason::MaxReceiveCount => Key::DlReasonMaxReceiveCount,
        DeadLetterReason::PoisonAck => Key::DlReasonPoisonAck,
    }
}

/// Entity names by id, so a step reads "tasks → worker-b" rather than "q0 → c1".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Names {
    queues: BTreeMap<u32, String>,
    exchanges: BTreeMap<u32, String>,
    consumers: BTreeMap<u32, String>,
    producers: BTreeMap<u32, String>,
    topics: BTreeMap<u32, String>,
    groups: BTreeMap<u32, String>,
    channels: Vec<String>,
    /// Every other drawn node by its trace id, which is its picker code without the colon
    /// (`zs:3` → `zs3`), so a family's own ids read as names too.
    nodes: BTreeMap<String, String>,
}

impl Names {
    pub fn from_snapshot(s: &Snapshot, lang: Lang) -> Names {
        Names {
            queues: s.queues.iter().map(|q| (q.id.0, q.name.clone())).collect(),
            exchanges: s
                .exchanges
                .iter()
                .map(|x| {
                    let name = if x.name.is_empty() {
                        t(lang, Key::DefaultExchange).to_string()
                    } else {
                        x.name.clone()
                    };
                    (x.id.0, name)
                })
                .collect(),
            consumers: s
                .consumers
                .iter()
                .map(|c| (c.id.0, c.name.clone()))
                .collect(),
            producers: s
                .producers
                .iter()
                .map(|p| (p.id.0, p.name.clone()))
                .collect(),
            topics: s.topics.iter().map(|t| (t.id.0, t.name.clone())).collect(),
            groups: s.groups.iter().map(|g| (g.id.0, g.name.clone())).collect(),
            nodes: (s.graph.nodes.iter())
                .map(|n| (crate::kinds::encode(n.node), n.name.clone()))
                .filter(|(code, _)| code.matches(':').count() == 1)
                .map(|(code, name)| (code.replace(':', ""), name))
                .chain(crate::kinds::KINDS.iter().flat_map(|k| k.trace_names(s)))
                .collect(),
            channels: s.channels.clone(),
        }
    }

    /// A removed entity keeps its id as its name.
    fn get(map: &BTreeMap<u32, String>, id: u32, prefix: &str) -> String {
        map.get(&id)
            .cloned()
            .unwrap_or_else(|| format!("{prefix}{id}"))
    }

    fn queue(&self, id: broker_sim::QueueId) -> String {
        Names::get(&self.queues, id.0, "q")
    }

    fn consumer(&self, id: ConsumerId) -> String {
        Names::get(&self.consumers, id.0, "c")
    }

    fn producer(&self, id: broker_sim::ProducerId) -> String {
        Names::get(&self.producers, id.0, "p")
    }

    fn exchange(&self, id: broker_sim::ExchangeId) -> String {
        Names::get(&self.exchanges, id.0, "x")
    }

    /// Kafka's own spelling of a partition: `orders-0`.
    fn partition(&self, topic: broker_sim::ids::TopicId, partition: u32) -> String {
        format!("{}-{partition}", Names::get(&self.topics, topic.0, "t"))
    }

    fn channel(&self, id: broker_sim::ChannelId) -> String {
        self.channels
            .get(id.index())
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// Where the event happened, in names: the details column of a trace step.
    pub fn detail(&self, kind: &EventKind, lang: Lang) -> String {
        match kind {
            EventKind::Published { producer, .. } => self.producer(*producer),
            EventKind::Routed {
                exchange, queues, ..
            } => {
                let to = if queues.is_empty() {
                    "—".to_string()
                } else {
                    let names: Vec<String> = queues.iter().map(|q| self.queue(*q)).collect();
                    names.join(", ")
                };
                format!("{} → {to}", self.exchange(*exchange))
            }
            EventKind::Enqueued { queue, .. }
            | EventKind::Requeued { queue, .. }
            | EventKind::Expired { queue, .. } => self.queue(*queue),
            EventKind::Delivered {
                queue, consumer, ..
            } => format!("{} → {}", self.queue(*queue), self.consumer(*consumer)),
            EventKind::Processed { consumer, .. }
            | EventKind::PubSubDelivered { consumer, .. }
            | EventKind::ConsumerRestarted { consumer }
            | EventKind::SessionExpired { consumer } => self.consumer(*consumer),
            EventKind::Settled {
                queue,
                consumer,
                settle,
                ..
            } => {
                let flag = match settle {
                    Settle::Ack => "",
                    Settle::Nack { requeue } | Settle::Reject { requeue } => {
                        if *requeue {
                            " (requeue=true)"
                        } else {
                            " (requeue=false)"
                        }
                    }
                };
                format!(
                    "{} → {}{flag}",
                    self.consumer(*consumer),
                    self.queue(*queue)
                )
            }
            EventKind::DeadLettered { queue, reason, .. } => format!(
                "{} ({})",
                self.queue(*queue),
                t(lang, dead_letter_reason_key(*reason))
            ),
            EventKind::Dropped { reason, .. } => t(lang, drop_reason_key(*reason)).to_string(),
            EventKind::PublisherNacked { producer, .. } => self.producer(*producer),
            EventKind::ChannelPublished {
                channel, receivers, ..
            } => format!("{} → {receivers}", self.channel(*channel)),
            EventKind::ConsumerCrashed {
                consumer,
                requeued,
                lost,
            } => format!(
                "{} (requeued={requeued}, lost={lost})",
                self.consumer(*consumer)
            ),
            EventKind::ChannelClosed { consumer, reason } => {
                format!("{}: {reason}", self.consumer(*consumer))
            }
            EventKind::SubscriberDisconnected { consumer, lost } => {
                format!("{} (lost={lost})", self.consumer(*consumer))
            }
            EventKind::Appended {
                topic,
                partition,
                offset,
                ..
            } => format!("{} @{offset}", self.partition(*topic, *partition)),
            EventKind::RecordProcessed {
                consumer,
                topic,
                partition,
                offset,
                ..
            } => format!(
                "{} @{offset} → {}",
                self.partition(*topic, *partition),
                self.consumer(*consumer)
            ),
            other => {
                // Events about no message keep their trace text, without the time, with the
                // entities' names in place of their ids.
                let line = Event {
                    time: SimTime::ZERO,
                    kind: other.clone(),
                }
                .to_string();
                self.with_names(line.split_once(' ').map_or(line.as_str(), |(_, r)| r))
            }
        }
    }

    /// `text` with each whole-word id the trace format writes (`c0`, `q1`, `p2`, `x0`, `g0`,
    /// `t0p1`) replaced by the entity's name, where it has one.
    pub fn with_names(&self, text: &str) -> String {
        let named = |word: &str| -> Option<String> {
            let split = word.find(|c: char| c.is_ascii_digit())?;
            let (prefix, digits) = word.split_at(split);
            if prefix == "t" {
                let (topic, partition) = digits.split_once('p')?;
                let (topic, partition) = (topic.parse().ok()?, partition.parse().ok()?);
                return self
                    .topics
                    .contains_key(&topic)
                    .then(|| self.partition(broker_sim::ids::TopicId(topic), partition));
            }
            let id: u32 = digits.parse().ok()?;
            let map = match prefix {
                "c" => &self.consumers,
                "q" => &self.queues,
                "p" => &self.producers,
                "x" => &self.exchanges,
                "g" => &self.groups,
                _ => return self.nodes.get(word).cloned(),
            };
            map.get(&id).cloned()
        };
        let mut out = String::with_capacity(text.len());
        let mut word = String::new();
        for ch in text.chars().chain(std::iter::once(' ')) {
            if ch.is_ascii_alphanumeric() {
                word.push(ch);
                continue;
            }
            match named(&word) {
                Some(name) => out.push_str(&name),
                None => out.push_str(&word),
            }
            word.clear();
            out.push(ch);
        }
        out.pop();
        out
    }
}

/// One step of a journey.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub time: SimTime,
    pub kind: StepKind,
    pub detail: String,
}

/// A message's journey: every event about it still in the ring, and the consumer failures
/// that sent it back.
#[derive(Clone, Debug, PartialEq)]
pub struct Journey {
    pub msg: MessageId,
    pub steps: Vec<Step>,
    /// Its publish is no longer among the kept events: the start fell out of the window.
    pub truncated: bool,
    /// More than [`MAX_STEPS`] steps; the rest are not listed.
    pub capped: bool,
}

/// The consumer a failure event is about, if it is one that can take messages from it.
fn failed_consumer(kind: &EventKind) -> Option<ConsumerId> {
    match kind {
        EventKind::ConsumerCrashed { consumer, .. }
        | EventKind::ChannelClosed { consumer, .. }
        | EventKind::SessionExpired { consumer }
        | EventKind::SubscriberDisconnected { consumer, .. } => Some(*consumer),
        _ => None,
    }
}

/// Whether the step took a copy away from its consumer without that consumer settling it.
fn is_release(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Requeued { .. } | EventKind::Dropped { .. } | EventKind::DeadLettered { .. }
    )
}

/// Reads `msg`'s journey from the ring of recent events (oldest first).
pub fn journey(events: &VecDeque<Event>, msg: MessageId, names: &Names, lang: Lang) -> Journey {
    // (ring index, event) of the message's own events, and of failures of a consumer that held
    // a copy at the time; a failure is kept only if a copy was released at that same instant.
    let mut own: Vec<(usize, &Event)> = Vec::new();
    let mut failures: Vec<(usize, &Event)> = Vec::new();
    let mut holders: Vec<ConsumerId> = Vec::new();
    let mut published = false;
    for (i, e) in events.iter().enumerate() {
        if e.kind.message() == Some(msg) {
            match &e.kind {
                EventKind::Published { .. } | EventKind::ChannelPublished { .. } => {
                    published = true
                }
                EventKind::Delivered { consumer, .. }
                | EventKind::PubSubDelivered { consumer, .. } => holders.push(*consumer),
                EventKind::Settled { consumer, .. } => {
                    if let Some(p) = holders.iter().position(|c| c == consumer) {
                        holders.swap_remove(p);
                    }
                }
                _ => {}
            }
            own.push((i, e));
        } else if failed_consumer(&e.kind).is_some_and(|c| holders.contains(&c)) {
            failures.push((i, e));
        }
    }
    let release_times: Vec<SimTime> = own
        .iter()
        .filter(|(_, e)| is_release(&e.kind))
        .map(|(_, e)| e.time)
        .collect();
    failures.retain(|(_, e)| release_times.contains(&e.time));
    // The core reports a crash after the requeues it caused; the story reads better cause
    // first, so a failure is placed just before the first release at its instant.
    let first_release = |time: SimTime| {
        own.iter()
            .find(|(_, e)| e.time == time && is_release(&e.kind))
            .map_or(usize::MAX, |(i, _)| *i)
    };
    let mut ordered: Vec<((usize, u8), &Event)> = failures
        .iter()
        .map(|(i, e)| ((first_release(e.time).min(*i), 0), *e))
        .collect();
    ordered.extend(own.iter().map(|(i, e)| ((*i, 1), *e)));
    ordered.sort_by_key(|(k, _)| *k);
    let capped = ordered.len() > MAX_STEPS;
    let steps = ordered
        .into_iter()
        .take(MAX_STEPS)
        .map(|(_, e)| Step {
            time: e.time,
            kind: StepKind::of(&e.kind),
            detail: names.detail(&e.kind, lang),
        })
        .collect();
    Journey {
        msg,
        steps,
        truncated: !published && events.len() >= EVENT_LOG_CAPACITY,
        capped,
    }
}

/// `m42` (or `42`) as a message id.
pub fn parse_msg_id(text: &str) -> Option<MessageId> {
    let t = text.trim();
    let digits = t.strip_prefix(['m', 'M']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().map(MessageId)
}

/// What the panel last computed, and from which ring.
#[derive(Default)]
struct TraceCache {
    key: Option<(MessageId, Lang, usize, Option<Event>)>,
}

#[function_component(TracePanel)]
pub fn trace_panel() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let renders = use_render_count();
    let journey = use_state_eq(|| None::<Rc<Journey>>);
    let cache = use_mut_ref(TraceCache::default);
    let input = use_node_ref();

    // Recomputes when the message, the language or the ring changed; a scan of 100,000 events
    // is cheap, but not per frame.
    let refresh = {
        let driver = lab.driver.clone();
        let journey = journey.clone();
        let msg = lab.trace.msg;
        Rc::new(move || {
            let Some(msg) = msg else {
                journey.set(None);
                return;
            };
            let Ok(d) = driver.try_borrow() else {
                return;
            };
            let ring = d.events();
            let key = Some((msg, l, ring.len(), ring.back().cloned()));
            let mut c = cache.borrow_mut();
            if c.key == key {
                return;
            }
            c.key = key;
            let names = Names::from_snapshot(&d.snapshot(), l);
            journey.set(Some(Rc::new(self::journey(ring, msg, &names, l))));
        })
    };
    {
        let refresh = refresh.clone();
        use_effect_with((lab.trace.msg, l), move |_| refresh());
    }
    use_interval(TRACE_POLL_MS, move || refresh());

    let on_submit = {
        let on_trace = lab.trace.on_trace.clone();
        let input = input.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let text = input
                .cast::<web_sys::HtmlInputElement>()
                .map(|i| i.value())
                .unwrap_or_default();
            if let Some(msg) = parse_msg_id(&text) {
                on_trace.emit(msg);
            }
        })
    };
    let form = html! {
        <form class="trace-form" onsubmit={on_submit}>
            <label class="sr-only" for="trace-input">{ t(l, Key::JourneyInput) }</label>
            <input id="trace-input" ref={input} type="text" inputmode="numeric" spellcheck="false"
                autocomplete="off" placeholder="m42" data-testid="trace-input"
                value={lab.trace.msg.map(|m| m.to_string()).unwrap_or_default()} />
            <button type="submit" class="dock-button">{ t(l, Key::JourneyButton) }</button>
        </form>
    };

    let body = match journey.as_ref() {
        None => html! { <p class="dock-empty">{ t(l, Key::JourneyEmpty) }</p> },
        Some(j) => {
            let notes = html! {
                <>
                    if j.truncated {
                        <p class="trace-note" data-testid="trace-truncated">{ t(l, Key::JourneyTruncated) }</p>
                    }
                    if j.steps.is_empty() && !j.truncated {
                        <p class="dock-empty">{ t(l, Key::JourneyNotFound) }</p>
                    }
                    if j.capped {
                        <p class="trace-note">{ t(l, Key::JourneyCapped) }</p>
                    }
                </>
            };
            let steps = j.steps.iter().enumerate().map(|(i, s)| {
                html! {
                    <li key={i} class="trace-step" data-step={s.kind.name()}
                        data-time-us={s.time.micros().to_string()}>
                        <span class="trace-time">{ format_clock(s.time) }</span>
                        <span class={classes!("ev-badge", s.kind.tone())}>{ t(l, s.kind.key()) }</span>
                        <span class="trace-detail">{ s.detail.clone() }</span>
                    </li>
                }
            });
            html! {
                <>
                    { notes }
                    <ol class="trace-steps" data-testid="trace-steps">{ for steps }</ol>
                </>
            }
        }
    };
    let title = lab.trace.msg.map(|m| m.to_string());
    let onclick_focus = Callback::from(|e: MouseEvent| {
        // Clicking the empty area focuses the input, a small help for the presenter.
        if let Some(el) = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        {
            if el.class_list().contains("dock-empty") {
                if let Some(i) = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.get_element_by_id("trace-input"))
                    .and_then(|i| i.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = i.focus();
                }
            }
        }
    });
    html! {
        <div class="trace" data-testid="trace" data-renders={renders.to_string()}
            data-msg={title.clone().unwrap_or_default()} onclick={onclick_focus}>
            <div class="dock-toolbar">
                <h2 class="trace-title">
                    if let Some(m) = title {
                        <span class="trace-msg">{ m }</span>
                    }
                    <span>{ t(l, Key::JourneyTitle) }</span>
                </h2>
                { form }
            </div>
            <div class="trace-body">{ body }</div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::Driver;
    use broker_sim::Scenario;

    fn run(path: &str, secs: u64) -> Driver {
        let json = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
            .expect("scenario file");
        let scenario = Scenario::from_json(&json).expect("valid scenario");
        let mut d = Driver::new(&scenario, 1).expect("builds");
        d.run_to(SimTime::from_secs(secs));
        d
    }

    fn names(d: &Driver) -> Names {
        Names::from_snapshot(&d.snapshot(), Lang::En)
    }

    #[test]
    fn redelivered_message_journey_in_order() {
        // RMQ-15: worker-a crashes holding m0, m2, m4; worker-b gets them redelivered.
        let d = run("scenarios/rules/rmq-15-consumer-crash.json", 10);
        let j = journey(d.events(), MessageId(0), &names(&d), Lang::En);
        let kinds: Vec<StepKind> = j.steps.iter().map(|s| s.kind).collect();
        assert!(!j.truncated && !j.capped);
        assert_eq!(
            kinds,
            [
                StepKind::Published,
                StepKind::Routed,
                StepKind::Enqueued,
                StepKind::Delivered,
                StepKind::Crashed,
                StepKind::Requeued,
                StepKind::Redelivered,
                StepKind::Processed,
                StepKind::Acked,
            ],
            "{:#?}",
            j.steps
        );
        assert!(j.steps.windows(2).all(|w| w[0].time <= w[1].time));
        assert_eq!(j.steps[3].detail, "tasks → worker-a");
        assert_eq!(j.steps[6].detail, "tasks → worker-b");
        assert!(j.steps[4].detail.starts_with("worker-a"));
    }

    #[test]
    fn crash_of_another_consumer_is_not_in_the_journey() {
        // m1 went to worker-b, which never failed: worker-a's crash is not part of its story.
        let d = run("scenarios/rules/rmq-15-consumer-crash.json", 10);
        let j = journey(d.events(), MessageId(1), &names(&d), Lang::En);
        assert!(j.steps.iter().all(|s| s.kind != StepKind::Crashed));
        assert_eq!(j.steps.last().map(|s| s.kind), Some(StepKind::Acked));
    }

    #[test]
    fn dead_letter_copies_are_followed() {
        let d = run("scenarios/rules/rmq-12-reject-dead-letter.json", 20);
        let id = d
            .events()
            .iter()
            .find(|e| matches!(e.kind, EventKind::DeadLettered { .. }))
            .and_then(|e| e.kind.message())
            .expect("the scenario dead-letters a message");
        let j = journey(d.events(), id, &names(&d), Lang::En);
        let dl = j
            .steps
            .iter()
            .position(|s| s.kind == StepKind::DeadLettered)
            .expect("dead-letter step");
        assert!(
            j.steps[dl + 1..]
                .iter()
                .any(|s| s.kind == StepKind::Enqueued),
            "the dead-letter copy's queueing follows: {:#?}",
            j.steps
        );
    }

    #[test]
    fn kafka_appends_and_processing_are_steps() {
        let d = run("scenarios/kafka/kaf-18-lag.json", 20);
        let id = d
            .events()
            .iter()
            .find(|e| matches!(e.kind, EventKind::RecordProcessed { .. }))
            .and_then(|e| e.kind.message())
            .expect("a processed record");
        let j = journey(d.events(), id, &names(&d), Lang::En);
        let kinds: Vec<StepKind> = j.steps.iter().map(|s| s.kind).collect();
        assert!(kinds.contains(&StepKind::Appended), "{kinds:?}");
        assert!(kinds.contains(&StepKind::RecordProcessed), "{kinds:?}");
    }

    #[test]
    fn a_start_outside_the_window_is_reported() {
        let mut ring: VecDeque<Event> = VecDeque::new();
        let filler = Event {
            time: SimTime::ZERO,
            kind: EventKind::CommandApplied {
                summary: "x".into(),
            },
        };
        ring.extend(std::iter::repeat_n(filler, EVENT_LOG_CAPACITY - 1));
        ring.push_back(Event {
            time: SimTime::from_secs(1),
            kind: EventKind::Enqueued {
                msg: MessageId(7),
                queue: broker_sim::QueueId(0),
            },
        });
        let j = journey(&ring, MessageId(7), &Names::default(), Lang::En);
        assert!(j.truncated);
        assert_eq!(j.steps.len(), 1);
        assert_eq!(j.steps[0].detail, "q0");
    }

    /// A family's own ids read as names too: ZeroMQ's sockets (`zs0`).
    #[test]
    fn zeromq_socket_ids_become_names() {
        let d = run("scenarios/lessons/21-zeromq-no-safety-net.json", 3);
        let n = names(&d);
        let socket = d
            .snapshot()
            .graph
            .nodes
            .iter()
            .find(|g| crate::kinds::encode(g.node) == "zs:0")
            .map(|g| g.name.clone())
            .expect("socket zs:0");
        assert_eq!(n.with_names("zblock zs0"), format!("zblock {socket}"));
        // A peer is a process, not a drawn node; it reads as its name too.
        let peers: Vec<_> = (d.snapshot().zeromq.iter().flat_map(|z| &z.peers))
            .map(|p| (p.id, p.name.clone()))
            .collect();
        assert!(peers.len() >= 2, "{peers:?}");
        for (id, name) in peers {
            assert_eq!(
                n.with_names(&format!("pcrash zp{id} lost=3")),
                format!("pcrash {name} lost=3")
            );
        }
    }

    /// Issue 10: the event log spoke in ids ("rebalance g0", "crash c1"); it names them.
    #[test]
    fn trace_ids_become_names() {
        let d = run("scenarios/lessons/10-kafka-partitions.json", 12);
        let n = names(&d);
        assert_eq!(
            n.with_names("rebalance g0 gen 2 started; crash c0 requeued=0 lost=0; t0p1; q9 c99"),
            "rebalance shipping gen 2 started; crash ship-1 requeued=0 lost=0; orders-1; q9 c99"
        );
    }

    #[test]
    fn message_ids_parse() {
        assert_eq!(parse_msg_id("m42"), Some(MessageId(42)));
        assert_eq!(parse_msg_id(" M7 "), Some(MessageId(7)));
        assert_eq!(parse_msg_id("42"), Some(MessageId(42)));
        assert_eq!(parse_msg_id("m"), None);
        assert_eq!(parse_msg_id("m4x"), None);
        assert_eq!(parse_msg_id("m99999999999999999999999"), None);
    }
}
