//! Apache Pulsar 4.0 (PUL-1…PUL-14): topics as managed ledgers that store each message once,
//! subscriptions as cursors over them, the four subscription types, push consumers with flow
//! permits, individual and cumulative acks, negative acks, ack timeouts, the redelivery count
//! and dead-letter topics, and retention, backlog and TTL as three different things.
//!
//! Timing model (L = the scenario's latency): a subscribe is handled L after it is sent, and the
//! initial flow permits ride with it (the Java client sends them after the reply, 2L later); a
//! dispatch runs at the instant something changes, so a burst's entries are read together;
//! deliveries, permits, acks and redelivery requests each take L; the broker sees a consumer's
//! crash L after it happens.

mod client;
mod cursor;
mod dispatch;
pub mod hash;
mod producer;
mod retention;
mod storage;

use crate::clients::{ClientWork, Cx};
use crate::ids::{ConsumerId, ProducerId};
use crate::message::Slot;
use crate::scenario::pulsar::{
    InitialPosition, PulsarBroker, PulsarSource, PulsarSpec, PulsarSubscriptionSpec,
    PulsarTopicSpec,
};
use crate::scenario::ConsumerSource;
use crate::time::SimTime;
use std::collections::{BTreeMap, BTreeSet};

pub(crate) use cursor::Subscription;
pub(crate) use storage::ManagedLedger;

#[derive(Clone, Debug)]
pub(crate) struct Topic {
    pub spec: PulsarTopicSpec,
    /// One managed ledger per partition; a non-partitioned topic has one.
    pub partitions: Vec<ManagedLedger>,
    pub subscriptions: Vec<Subscription>,
    /// The retention check and the message-expiry (TTL) check already scheduled.
    pub retention_check_at: Option<SimTime>,
    pub expiry_check_at: Option<SimTime>,
}

impl Topic {
    fn new(spec: PulsarTopicSpec) -> Topic {
        Topic {
            partitions: vec![ManagedLedger::default(); spec.partitions.max(1) as usize],
            spec,
            subscriptions: Vec::new(),
            retention_check_at: None,
            expiry_check_at: None,
        }
    }

    pub fn full_name(&self) -> String {
        format!("persistent://public/default/{}", self.spec.name)
    }

    pub fn partitioned(&self) -> bool {
        self.spec.partitions > 0
    }

    /// The live subscription of that name.
    pub fn subscription_id(&self, name: &str) -> Option<u32> {
        self.subscriptions
            .iter()
            .position(|s| s.name == name && !s.gone)
            .map(|i| i as u32)
    }
}

/// Who publishes: a producer, or a consumer's client sending to its dead-letter topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Sender {
    Producer(ProducerId),
    DeadLetter(ConsumerId),
}

/// A sender's partition router for one topic (`RoundRobinPartitionMessageRouterImpl`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Route {
    /// The random start partition (`startPtnIdx`), also `SinglePartition`'s choice.
    pub start: u32,
    /// Unkeyed messages routed without batching so far.
    pub sent: u32,
}

/// Messages of one producer to one partition waiting to become one entry (PUL-7).
#[derive(Clone, Debug)]
pub(crate) struct OpenBatch {
    /// Publish time of the first message; the batch is sent `max_delay_ms` later.
    pub opened: SimTime,
    pub slots: Vec<Slot>,
    pub bytes: u64,
}

/// (producer, topic, partition, key or `NO_KEY`) of an open batch.
pub(crate) type BatchKey = (ProducerId, u32, u32, u32);

/// One message the broker sent to a consumer's connection.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Delivery {
    pub partition: u32,
    pub entry: u64,
    /// The batch delivery it belongs to: the entry is acked when all of it is.
    pub batch: u64,
    pub redelivery_count: u32,
    /// The consumer epoch the broker sent it under (stale ones are dropped on arrival).
    pub epoch: u32,
    pub slot: Slot,
}

/// A negative ack waiting in the client (PUL-8).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Nacked {
    pub due: SimTime,
    pub redelivery_count: u32,
}

/// A Pulsar consumer's client, and which subscription it is attached to.
#[derive(Clone, Debug, Default)]
pub(crate) struct PulsarConsumer {
    pub topic: u32,
    pub source: Option<PulsarSource>,
    /// The subscription the broker attached it to.
    pub sub: Option<u32>,
    /// Bumped at every (re)connect, so work for an old connection is ignored.
    pub connection: u32,
    /// The connection the broker has attached, until it sees that connection end.
    pub attached: Option<u32>,
    /// Sent by the broker and not finished by the application: on the wire, in the receiver
    /// queue or being processed, by delivery tag.
    pub deliveries: BTreeMap<u64, Delivery>,
    /// The delivery tag the application took last, so each is noticed once.
    pub last_received: Option<u64>,
    /// The client's consumer epoch, bumped by an Exclusive/Failover redelivery request, and
    /// the broker's copy of it.
    pub epoch: u32,
    pub broker_epoch: u32,
    /// Per partition: messages taken from the receiver queue and not yet granted back.
    pub unreported: Vec<u32>,
    /// Messages of each batch delivery not yet acked: the entry is acked when none is left.
    pub batch_left: BTreeMap<u64, u32>,
    pub next_batch: u64,
    /// Acks waiting for the group flush (PUL-7).
    pub pending_acks: BTreeSet<(u32, u64)>,
    pub pending_cumulative: BTreeMap<u32, u64>,
    pub flush_at: Option<SimTime>,
    pub subscribed_at: SimTime,
    pub since_cumulative: u32,
    pub nacked: BTreeMap<(u32, u64), Nacked>,
    pub nack_tick_at: Option<SimTime>,
    /// Ack timeouts (PUL-9): entry → (due, redelivery count), and the ticks scheduled.
    pub ack_timeouts: BTreeMap<(u32, u64), (SimTime, u32)>,
    pub timeout_ticks: BTreeSet<SimTime>,
}

/// Pulsar's state: the broker's topics and each Pulsar client's routers, batches and consumers.
#[derive(Clone, Debug, Default)]
pub(crate) struct Pulsar {
    pub broker: PulsarBroker,
    pub topics: Vec<Topic>,
    pub consumers: BTreeMap<ConsumerId, PulsarConsumer>,
    pub routes: BTreeMap<(Sender, u32), Route>,
    pub batches: BTreeMap<BatchKey, OpenBatch>,
    /// Subscriptions created by the scenario or a command, for `specs()`.
    pub admin_subscriptions: Vec<PulsarSubscriptionSpec>,
}

impl Pulsar {
    pub(crate) fn topic_id(&self, name: &str) -> Option<u32> {
        self.topics
            .iter()
            .position(|t| t.spec.name == name)
            .map(|i| i as u32)
    }

    /// Whether `name` is a topic, and then whether it is partitioned.
    pub(crate) fn topic_partitioned(&self, name: &str) -> Option<bool> {
        self.topic_id(name)
            .map(|t| self.topics[t as usize].partitioned())
    }

    /// Messages stored in every managed ledger: each is one `Retained` copy.
    pub(crate) fn stored_messages(&self) -> u64 {
        self.topics
            .iter()
            .flat_map(|t| t.partitions.iter())
            .map(ManagedLedger::messages)
            .sum()
    }

    /// Every copy Pulsar holds: stored entries (`Retained`) and open batches (`InFlight`).
    pub(crate) fn held_slots(&self) -> (Vec<Slot>, Vec<Slot>) {
        let stored = (self.topics.iter())
            .flat_map(|t| t.partitions.iter())
            .flat_map(ManagedLedger::slots)
            .collect();
        let batched = (self.batches.values())
            .flat_map(|b| b.slots.iter().copied())
            .collect();
        (stored, batched)
    }

    /// The scenario's settings as they are now: topics (with auto-created ones) and
    /// admin-created subscriptions.
    pub(crate) fn spec(&self) -> PulsarSpec {
        PulsarSpec {
            broker: self.broker.clone(),
            topics: self.topics.iter().map(|t| t.spec.clone()).collect(),
            subscriptions: self.admin_subscriptions.clone(),
        }
    }

    fn source(&self, cid: ConsumerId) -> &PulsarSource {
        self.consumers[&cid]
            .source
            .as_ref()
            .expect("a Pulsar consumer has a source")
    }
}

/// Work Pulsar schedules: broker work, and the Pulsar client's timers and messages.
#[derive(Clone, Debug)]
pub(crate) enum PulsarWork {
    /// A message reaches the broker; `sender` routes it to a partition.
    ArriveAtTopic {
        slot: Slot,
        topic: u32,
        sender: Sender,
    },
    /// A producer's batch is complete; it was sent `L` ago.
    FlushBatch {
        key: BatchKey,
        opened: SimTime,
    },
    Subscribe {
        consumer: ConsumerId,
        connection: u32,
    },
    /// The broker sees the consumer's connection end.
    Detach {
        consumer: ConsumerId,
        connection: u32,
    },
    /// Disconnected by a cursor reset: the client subscribes again.
    Reconnect {
        consumer: ConsumerId,
        connection: u32,
    },
    Dispatch {
        topic: u32,
        sub: u32,
        partition: u32,
    },
    /// A Failover partition's new active consumer starts reading (PUL-4).
    SwitchActive {
        topic: u32,
        sub: u32,
        partition: u32,
        at: SimTime,
    },
    Flow {
        consumer: ConsumerId,
        connection: u32,
        partition: u32,
        permits: u32,
    },
    FlushAcks {
        consumer: ConsumerId,
        connection: u32,
    },
    AcksArrive {
        consumer: ConsumerId,
        topic: u32,
        sub: u32,
        individual: Vec<(u32, u64)>,
        cumulative: Vec<(u32, u64)>,
    },
    NackTick {
        consumer: ConsumerId,
        connection: u32,
    },
    AckTimeoutTick {
        consumer: ConsumerId,
        connection: u32,
        at: SimTime,
    },
    /// A redelivery request: some entries (Shared, Key_Shared) or all unacked (a rewind).
    Redeliver {
        consumer: ConsumerId,
        connection: u32,
        entries: Option<Vec<(u32, u64)>>,
        epoch: u32,
    },
    /// The dead-letter topic stored the copies; the client now acks the original (PUL-10).
    DeadLetterStored {
        consumer: ConsumerId,
        connection: u32,
        partition: u32,
        entry: u64,
    },
    RetentionCheck {
        topic: u32,
        at: SimTime,
    },
    ExpiryCheck {
        topic: u32,
        at: SimTime,
    },
}

impl<W: From<PulsarWork> + From<ClientWork>> Cx<'_, &mut Pulsar, W> {
    /// Builds the broker's topics and admin-created subscriptions.
    pub(crate) fn build(&mut self, spec: &PulsarSpec) {
        self.family.broker = spec.broker.clone();
        for t in &spec.topics {
            self.family.topics.push(Topic::new(t.clone()));
        }
        for s in &spec.subscriptions {
            let topic = self
                .family
                .new_subscription_target(s)
                .expect("validated subscription");
            self.declare_subscription(topic, s.clone());
        }
    }

    /// A consumer whose source is a Pulsar subscription was added.
    pub(crate) fn consumer_added(&mut self, cid: ConsumerId) {
        let ConsumerSource::Pulsar(source) = &self.clients.consumers[cid.index()].spec.source
        else {
            return;
        };
        let topic = self
            .family
            .topic_id(&source.topic)
            .expect("validated topic");
        self.family.consumers.insert(
            cid,
            PulsarConsumer {
                topic,
                source: Some(source.clone()),
                ..PulsarConsumer::default()
            },
        );
    }

    /// The topic named `name`, created with the broker's defaults if it does not exist
    /// (`allowAutoTopicCreation`; only dead-letter topics rely on it).
    pub(crate) fn topic_or_create(&mut self, name: &str) -> u32 {
        if let Some(t) = self.family.topic_id(name) {
            return t;
        }
        self.family
            .topics
            .push(Topic::new(PulsarTopicSpec::auto_created(name)));
        (self.family.topics.len() - 1) as u32
    }

    pub(crate) fn run_pulsar(&mut self, work: PulsarWork) {
        match work {
            PulsarWork::ArriveAtTopic {
                slot,
                topic,
                sender,
            } => {
                self.wire.arrived(self.world.now, slot);
                self.arrive(slot, topic, sender);
            }
            PulsarWork::FlushBatch { key, opened } => self.flush_batch_due(key, opened),
            PulsarWork::Subscribe {
                consumer,
                connection,
            } => self.attach(consumer, connection),
            PulsarWork::Detach {
                consumer,
                connection,
            } => self.detach(consumer, connection),
            PulsarWork::Reconnect {
                consumer,
                connection,
            } => {
                // Unless it crashed or was removed meanwhile.
                let running = self.clients.consumers[consumer.index()].status
                    == crate::clients::ConsumerStatus::Running;
                if running && self.family.consumers[&consumer].connection == connection {
                    self.consume(consumer);
                }
            }
            PulsarWork::Dispatch {
                topic,
                sub,
                partition,
            } => self.dispatch(topic, sub, partition),
            PulsarWork::SwitchActive {
                topic,
                sub,
                partition,
                at,
            } => self.switch_active(topic, sub, partition, at),
            PulsarWork::Flow {
                consumer,
                connection,
                partition,
                permits,
            } => self.flow(consumer, connection, partition, permits),
            PulsarWork::FlushAcks {
                consumer,
                connection,
            } => self.flush_acks_due(consumer, connection),
            PulsarWork::AcksArrive {
                consumer,
                topic,
                sub,
                individual,
                cumulative,
            } => self.acks_arrive(consumer, topic, sub, &individual, &cumulative),
            PulsarWork::NackTick {
                consumer,
                connection,
            } => self.nack_tick(consumer, connection),
            PulsarWork::AckTimeoutTick {
                consumer,
                connection,
                at,
            } => self.ack_timeout_tick(consumer, connection, at),
            PulsarWork::Redeliver {
                consumer,
                connection,
                entries,
                epoch,
            } => self.redeliver_arrives(consumer, connection, entries, epoch),
            PulsarWork::DeadLetterStored {
                consumer,
                connection,
                partition,
                entry,
            } => self.dead_letter_stored(consumer, connection, partition, entry),
            PulsarWork::RetentionCheck { topic, at } => self.retention_check(topic, at),
            PulsarWork::ExpiryCheck { topic, at } => self.expiry_check(topic, at),
        }
    }
}

/// Where a new subscription starts in each partition (PUL-13): `earliest` is the first entry
/// still stored, which may be acked and only waiting for its ledger to go.
pub(crate) fn initial_entries(topic: &Topic, position: InitialPosition) -> Vec<u64> {
    topic
        .partitions
        .iter()
        .map(|ml| match position {
            InitialPosition::Latest => ml.end(),
            InitialPosition::Earliest => ml.start(),
        })
        .collect()
}
