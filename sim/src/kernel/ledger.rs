//! The ledger: every message copy is in exactly one state, and the counts prove nothing was
//! silently lost (`created == sum of all states`).

use crate::ids::{ConsumerId, JmsStore, QueueId, ServiceId, SqsQueueId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Why a copy left its queue through the dead-letter exchange (RMQ-29). Names as in `x-death`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetterReason {
    Rejected,
    Expired,
    Maxlen,
    DeliveryLimit,
    /// An SQS receive found the message's `ApproximateReceiveCount` at the redrive policy's
    /// `maxReceiveCount` and moved it to the dead-letter queue instead (SQS-4).
    MaxReceiveCount,
    /// The JMS client gave up after its redelivery policy's limit: a poison ack (AMQ-6, AMQ-7).
    PoisonAck,
}

/// Why a copy was lost. Every loss has one of these; none is silent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// No binding matched and `mandatory` was off (RMQ-7).
    Unroutable,
    /// No binding matched and `mandatory` was on: returned to the publisher (RMQ-7).
    Returned,
    /// `reject-publish` refused it; the publisher gets a nack if confirms are on (RMQ-24).
    RejectedByQueue,
    /// Pushed out by `drop-head` with no dead-letter exchange (RMQ-23).
    MaxLength,
    /// Rejected or nacked without requeue and no dead-letter exchange (RMQ-12).
    Rejected,
    /// Delivered with auto-ack to a consumer that crashed (RMQ-10); or held for a JMS
    /// subscription that ended with its consumer, or non-persistent and dispatched to a durable
    /// subscriber that went offline (AMQ-2).
    LostInConsumerCrash,
    /// Redis Pub/Sub message with no subscriber at that instant (RPS-1); a JMS topic message
    /// with no subscription to keep it (AMQ-1).
    NoSubscriber,
    /// Redis subscriber disconnected for exceeding its output buffer (RPS-3).
    SubscriberDisconnected,
    /// A quorum queue's delivery limit was exceeded with no dead-letter exchange (RMQ-30).
    DeliveryLimit,
    /// Dead-lettered to an exchange that routed it nowhere, or in a dead-letter cycle (RMQ-29);
    /// a JMS dead letter of the dead-letter queue itself (AMQ-7).
    DeadLetterUnroutable,
    /// The simulator's live-message cap was reached; see `sim::MAX_LIVE_COPIES`.
    SimulatorCapacity,
    /// Its queue was deleted by `x-expires`; such messages are not dead-lettered (RMQ-28). Or
    /// its exclusive queue's connection closed, or its auto-delete queue's last consumer left
    /// (RMQ-33). Or its JMS durable subscription was unsubscribed (AMQ-2).
    QueueDeleted,
    /// A compacted topic refuses a record without a key (KAF-7).
    NoKeyForCompactedTopic,
    /// A service with no broker in front had no free worker and a full backlog.
    ServiceOverloaded,
    /// The caller gave up waiting for a service with no broker in front.
    RequestTimeout,
    /// An SQS FIFO send repeated a deduplication id accepted within 5 minutes: accepted, not
    /// stored (SQS-9); or a retry an idempotent Kafka producer had already written (KAF-25).
    Deduplicated,
    /// Its Pulsar ledger was deleted while no durable subscription had it in its backlog and
    /// no retention kept it (PUL-12).
    NoSubscription,
    /// A non-persistent JMS message the dead-letter strategy discards (`processNonPersistent`
    /// false, AMQ-7).
    NonPersistentDeadLetter,
    /// A non-persistent JMS message held by the broker when it restarted (AMQ-3); a transient
    /// RabbitMQ message (`delivery_mode` 1) in a durable queue when the node stopped (RMQ-32).
    LostInBrokerRestart,
    /// Sent to a JMS broker or RabbitMQ node while it was down (AMQ-3, RMQ-32); sent with
    /// `acks=0` to a Kafka leader that had crashed (KAF-21).
    BrokerDown,
    /// Poison-acked by a non-durable topic subscriber: the broker keeps no copy for such a
    /// subscription, so there is nothing to dead-letter (`TopicSubscription`, AMQ-7).
    PoisonAckDiscarded,
    /// A record the producer had been told was written, truncated when a replica lacking it
    /// became leader (KAF-21, KAF-24).
    LostOnFailover,
    /// A record never acknowledged to its producer, truncated by a leader election (KAF-23);
    /// the producer retries it if it can.
    TruncatedOnElection,
    /// The Kafka producer gave up: `retries` or `delivery.timeout.ms` ran out (KAF-22, KAF-25).
    DeliveryTimeout,
    /// A Redis `XADD` with an explicit id not above the stream's last id (RST-1).
    StreamIdRejected,
    /// A Redis stream entry the replica had not received when it was promoted (RST-9).
    LostInFailover,
    /// A ZeroMQ PUB's pipe to one subscriber was at its high-water mark (ZMQ-6).
    HwmDrop,
    /// Held in a ZeroMQ pipe or application of a process that exited (ZMQ-1).
    ProcessExit,
    /// Published by a ZeroMQ PUB before the subscription of a joining SUB reached it (ZMQ-8).
    SlowJoiner,
    /// Held by a transient (exclusive or non-durable) RabbitMQ queue when the node stopped: the
    /// queue is not recovered (RMQ-32).
    TransientQueueLost,
    /// A persistent RabbitMQ message not yet written to disk when the node stopped; its
    /// publisher had no confirm yet (RMQ-31, RMQ-32).
    NotYetOnDisk,
}

impl DropReason {
    pub const ALL: [DropReason; 31] = [
        DropReason::Unroutable,
        DropReason::Returned,
        DropReason::RejectedByQueue,
        DropReason::MaxLength,
        DropReason::Rejected,
        DropReason::LostInConsumerCrash,
        DropReason::NoSubscriber,
        DropReason::SubscriberDisconnected,
        DropReason::DeliveryLimit,
        DropReason::DeadLetterUnroutable,
        DropReason::SimulatorCapacity,
        DropReason::QueueDeleted,
        DropReason::NoKeyForCompactedTopic,
        DropReason::ServiceOverloaded,
        DropReason::RequestTimeout,
        DropReason::Deduplicated,
        DropReason::NoSubscription,
        DropReason::NonPersistentDeadLetter,
        DropReason::LostInBrokerRestart,
        DropReason::BrokerDown,
        DropReason::PoisonAckDiscarded,
        DropReason::LostOnFailover,
        DropReason::TruncatedOnElection,
        DropReason::DeliveryTimeout,
        DropReason::StreamIdRejected,
        DropReason::LostInFailover,
        DropReason::HwmDrop,
        DropReason::ProcessExit,
        DropReason::SlowJoiner,
        DropReason::TransientQueueLost,
        DropReason::NotYetOnDisk,
    ];
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self).ok();
        write!(f, "{}", s.as_ref().and_then(|v| v.as_str()).unwrap_or("?"))
    }
}

impl fmt::Display for DeadLetterReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self).ok();
        write!(f, "{}", s.as_ref().and_then(|v| v.as_str()).unwrap_or("?"))
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Where one copy is now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CopyState {
    /// On the wire from a producer (or a dead-lettering queue) to the broker.
    InFlight,
    /// In a queue, deliverable.
    Ready(QueueId),
    /// Delivered with manual ack; the broker keeps it until the ack arrives.
    Unacked(QueueId, ConsumerId),
    /// With the consumer while the broker holds nothing: auto-ack, or Redis Pub/Sub.
    Processing(ConsumerId),
    /// Waiting for, or being served by, a service called with no broker.
    InService(ServiceId),
    /// A record in a log (a Kafka partition, a Pulsar entry): consuming it changes nothing
    /// (KAF-1, PUL-1).
    Retained,
    /// Deleted with its segment by retention, not by consumption (KAF-5); a Redis stream entry
    /// removed by trimming (RST-2).
    RemovedByRetention,
    /// Superseded by a later record with the same key, or an expired tombstone (KAF-7).
    RemovedByCompaction,
    /// Acked (or processed under auto-ack / Pub/Sub) and deleted.
    Acked,
    /// Left its queue through the dead-letter exchange; the new copy continues from there.
    DeadLettered(DeadLetterReason),
    /// TTL ran out with no dead-letter exchange.
    Expired,
    Dropped(DropReason),
    /// In an SQS queue, delayed or visible; counted as ready (SQS-11).
    SqsQueued(SqsQueueId),
    /// Received from an SQS queue and hidden by its visibility timeout; counted as unacked
    /// (SQS-2).
    SqsInFlight(SqsQueueId, ConsumerId),
    /// Stored by a JMS queue or subscription, not dispatched; counted as ready (AMQ-1).
    JmsPending(JmsStore),
    /// Dispatched to a JMS consumer and not yet acknowledged; counted as unacked (AMQ-4).
    JmsDispatched(JmsStore, ConsumerId),
    /// In the memory of ZeroMQ process `n` (its peer index): in a pipe, or a send blocked in its
    /// application (ZMQ-1, ZMQ-2).
    Piped(u32),
}

/// A store copies wait in for consumers, as queueing theory sees it (`kernel::meter`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Store {
    Queue(QueueId),
    Sqs(SqsQueueId),
    Jms(JmsStore),
    /// A log's partition as one reader of it sees it: the records it has yet to start. The
    /// numbers are the family's (a Kafka topic, partition and group); the records stay
    /// retained, so the family reports arrivals and hand-outs itself.
    Log {
        log: u32,
        partition: u32,
        reader: u32,
    },
}

impl CopyState {
    /// The store a copy in this state is at, and whether it waits there (`true`) or has been
    /// handed to a consumer that holds it for the store (`false`).
    pub fn store(self) -> Option<(Store, bool)> {
        match self {
            CopyState::Ready(q) => Some((Store::Queue(q), true)),
            CopyState::Unacked(q, _) => Some((Store::Queue(q), false)),
            CopyState::SqsQueued(s) => Some((Store::Sqs(s), true)),
            CopyState::SqsInFlight(s, _) => Some((Store::Sqs(s), false)),
            CopyState::JmsPending(s) => Some((Store::Jms(s), true)),
            CopyState::JmsDispatched(s, _) => Some((Store::Jms(s), false)),
            _ => None,
        }
    }

    /// Terminal states end a copy's life; its slot is freed.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            CopyState::Acked
                | CopyState::DeadLettered(_)
                | CopyState::Expired
                | CopyState::Dropped(_)
                | CopyState::RemovedByRetention
                | CopyState::RemovedByCompaction
        )
    }

    /// Whether the copy lives in the copy store; log records live in their partition instead.
    /// (A Pulsar entry keeps its message's slot, so consumers can be handed it; the audit counts
    /// those slots apart.)
    pub fn is_stored(self) -> bool {
        !self.is_terminal() && self != CopyState::Retained
    }
}

/// Counts of copies per state. `created` is every copy ever made: published messages, extra
/// copies made by fan-out routing, and copies re-published by dead-lettering.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    pub created: u64,
    pub published: u64,
    pub fanout_copies: u64,
    pub dead_letter_copies: u64,
    /// Copies a broker made of a message it had deleted: SQS standard queues' at-least-once
    /// duplicates (SQS-1).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub broker_copies: u64,
    /// Copies a producer sent again after a failed request whose record had already been
    /// written: Kafka retries (KAF-22, KAF-26).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retry_copies: u64,
    pub in_flight: u64,
    pub ready: u64,
    pub unacked: u64,
    pub processing: u64,
    /// In a ZeroMQ process's pipes or blocked sends (ZMQ-1).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub piped: u64,
    pub retained: u64,
    pub acked: u64,
    pub dead_lettered: BTreeMap<DeadLetterReason, u64>,
    pub expired: u64,
    pub removed_by_retention: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub removed_by_compaction: u64,
    pub dropped: BTreeMap<DropReason, u64>,
}

impl Ledger {
    fn slot(&mut self, state: CopyState) -> &mut u64 {
        match state {
            CopyState::InFlight => &mut self.in_flight,
            CopyState::Ready(_) | CopyState::SqsQueued(_) | CopyState::JmsPending(_) => {
                &mut self.ready
            }
            CopyState::Unacked(..) | CopyState::SqsInFlight(..) | CopyState::JmsDispatched(..) => {
                &mut self.unacked
            }
            CopyState::Processing(_) | CopyState::InService(_) => &mut self.processing,
            CopyState::Retained => &mut self.retained,
            CopyState::Piped(_) => &mut self.piped,
            CopyState::RemovedByRetention => &mut self.removed_by_retention,
            CopyState::RemovedByCompaction => &mut self.removed_by_compaction,
            CopyState::Acked => &mut self.acked,
            CopyState::DeadLettered(r) => self.dead_lettered.entry(r).or_default(),
            CopyState::Expired => &mut self.expired,
            CopyState::Dropped(r) => self.dropped.entry(r).or_default(),
        }
    }

    pub(crate) fn enter(&mut self, state: CopyState) {
        *self.slot(state) += 1;
    }

    pub(crate) fn leave(&mut self, state: CopyState) {
        let n = self.slot(state);
        assert!(*n > 0, "ledger underflow leaving {state:?}");
        *n -= 1;
    }

    pub fn dropped_total(&self) -> u64 {
        self.dropped.values().sum()
    }

    pub fn dead_lettered_total(&self) -> u64 {
        self.dead_lettered.values().sum()
    }

    /// Sum over every state.
    pub fn accounted(&self) -> u64 {
        self.in_flight
            + self.ready
            + self.unacked
            + self.processing
            + self.piped
            + self.retained
            + self.removed_by_retention
            + self.removed_by_compaction
            + self.acked
            + self.dead_lettered_total()
            + self.expired
            + self.dropped_total()
    }

    /// The conservation law: every copy ever created is in exactly one state.
    pub fn is_balanced(&self) -> bool {
        self.accounted() == self.created
            && self.created
                == self.published
                    + self.fanout_copies
                    + self.dead_letter_copies
                    + self.broker_copies
                    + self.retry_copies
    }

    /// State name → count, for reports and the UI.
    pub fn states(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        m.insert("in_flight".into(), self.in_flight);
        m.insert("ready".into(), self.ready);
        m.insert("unacked".into(), self.unacked);
        m.insert("processing".into(), self.processing);
        if self.piped > 0 {
            m.insert("piped".into(), self.piped);
        }
        m.insert("retained".into(), self.retained);
        m.insert("removed_by_retention".into(), self.removed_by_retention);
        if self.removed_by_compaction > 0 {
            m.insert("removed_by_compaction".into(), self.removed_by_compaction);
        }
        m.insert("acked".into(), self.acked);
        m.insert("dead_lettered".into(), self.dead_lettered_total());
        m.insert("expired".into(), self.expired);
        m.insert("dropped".into(), self.dropped_total());
        m
    }
}
