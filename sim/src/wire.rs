//! The wire: how a copy moves between two nodes of the topology, for every family, and the
//! moving messages kept for drawing. Names nodes by id; knows no rule of any family.

use crate::ids::{
    ChannelId, ConsumerId, ExchangeId, MessageId, ProducerId, QueueId, ServiceId, SqsQueueId,
    StreamId, TopicId,
};
use crate::ids::{JmsQueueId, JmsSubId, JmsTopicId};
use crate::kernel::World;
use crate::ledger::CopyState;
use crate::message::{Slot, NO_KEY};
use crate::time::SimTime;
use serde::Serialize;
use std::collections::BTreeMap;

/// A node of the topology, for links and moving messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum NodeRef {
    Producer(ProducerId),
    Exchange(ExchangeId),
    Queue(QueueId),
    Consumer(ConsumerId),
    Channel(ChannelId),
    /// A Kafka topic, as a whole.
    Topic(TopicId),
    /// A Kafka partition: (topic, partition).
    Partition(TopicId, u32),
    /// A service called with no broker.
    Service(ServiceId),
    /// An ActiveMQ / JMS queue.
    JmsQueue(JmsQueueId),
    /// An ActiveMQ / JMS topic.
    JmsTopic(JmsTopicId),
    /// One subscription of a JMS topic, which stores copies for its subscriber.
    JmsSubscription(JmsSubId),
    /// An AWS SQS queue.
    SqsQueue(SqsQueueId),
    /// An Apache Pulsar topic, as a whole.
    PulsarTopic(u32),
    /// One partition of a Pulsar topic (a non-partitioned topic has partition 0): (topic,
    /// partition).
    PulsarPartition(u32, u32),
    /// A Kafka broker node of a cluster (KAF-19).
    KafkaBroker(u32),
    /// A RabbitMQ node of a cluster (RMQ-32).
    RabbitMqNode(u32),
    /// A Redis stream.
    Stream(StreamId),
    /// A ZeroMQ socket, inside its peer's process: its pipes are drawn on its edges.
    ZmqSocket(u32),
}

/// One message as drawn in a queue or at a consumer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Chip {
    pub msg: MessageId,
    pub producer: Option<ProducerId>,
    pub priority: Option<u8>,
    pub redelivered: bool,
    pub poison: bool,
    pub dead_lettered: bool,
    /// Already past its TTL but not yet at the head (RMQ-27).
    pub expired: bool,
    /// Its record key as an index into [`Snapshot::keys`](crate::Snapshot), so a drawing can
    /// colour records by key (KAF-3: one key, one partition).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<u32>,
}

impl Chip {
    /// How a stored copy looks now.
    pub(crate) fn of<W>(world: &World<W>, slot: Slot) -> Chip {
        let c = world.copies.get(slot);
        Chip {
            msg: c.msg,
            producer: c.producer,
            priority: c.priority,
            redelivered: c.redelivered,
            poison: c.poison,
            dead_lettered: c.deaths.is_some(),
            expired: matches!(c.state, CopyState::Ready(_) | CopyState::JmsPending(_))
                && c.expires_at < world.now,
            key: (c.key != NO_KEY).then_some(c.key),
        }
    }
}

/// A copy moving on the wire, for drawing.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Transit {
    pub from: NodeRef,
    pub to: NodeRef,
    pub sent_at: SimTime,
    pub msg: MessageId,
    pub chip: Chip,
}

/// Moving messages keyed by (arrival, key): copies use their slot, log records a counter
/// above `u32::MAX`.
#[derive(Clone, Debug)]
pub(crate) struct Wire {
    next_key: u64,
    /// Whether moving messages are kept for drawing; headless runs turn it off.
    pub track: bool,
    pub moving: BTreeMap<(SimTime, u64), Transit>,
}

impl Default for Wire {
    fn default() -> Wire {
        Wire {
            next_key: u64::from(u32::MAX) + 1,
            track: true,
            moving: BTreeMap::new(),
        }
    }
}

impl Wire {
    /// Puts a stored copy on the wire; `work` runs when it arrives.
    pub fn send<W>(
        &mut self,
        world: &mut World<W>,
        from: NodeRef,
        to: NodeRef,
        slot: Slot,
        work: impl Into<W>,
    ) {
        let arrive = world.now.plus(world.latency);
        if self.track {
            let chip = Chip::of(world, slot);
            let msg = chip.msg;
            let sent_at = world.now;
            let t = Transit {
                from,
                to,
                sent_at,
                msg,
                chip,
            };
            self.moving.insert((arrive, u64::from(slot)), t);
        }
        world.schedule(arrive, work);
    }

    /// A copy sent with [`Wire::send`] arrived now.
    pub fn arrived(&mut self, now: SimTime, slot: Slot) {
        self.moving.remove(&(now, u64::from(slot)));
    }

    /// A key for something that is not a stored copy (a log record on its way to a consumer).
    pub fn next_key(&mut self) -> u64 {
        self.next_key += 1;
        self.next_key
    }

    /// Forgets every message on its way to `node` (its connection ended).
    pub fn forget_to(&mut self, node: NodeRef) {
        self.moving.retain(|_, t| t.to != node);
    }
}
