//! Read-only views of the simulation for panels, the canvas and reports.

use crate::clients::ConsumerStatus;
use crate::engine::Simulation;
use crate::families::rabbitmq::Destination;
pub use crate::families::redis_streams::view::{PendingView, StreamGroupView, StreamView};
use crate::ids::{
    ChannelId, ConsumerId, ExchangeId, GroupId, MessageId, ProducerId, QueueId, ServiceId,
    SqsQueueId, TopicId,
};
use crate::ids::{JmsQueueId, JmsSubId, JmsTopicId};
use crate::ledger::Ledger;
use crate::message::{Slot, NO_KEY};
use crate::scenario::pulsar::{Retention, SubscriptionType};
use crate::scenario::{AckMode, DurableName, ExchangeType, JmsBroker, Overflow, QueueType};
use crate::time::SimTime;
use serde::Serialize;

pub use crate::wire::{Chip, NodeRef};

/// How many messages of a queue are listed as chips; the rest are a count.
pub const CHIPS_PER_QUEUE: usize = 24;
/// How many of a partition's newest records a snapshot lists.
pub const RECORDS_PER_PARTITION: usize = 24;
/// How many moving messages a snapshot carries for drawing.
pub const MAX_TRANSITS: usize = 2_000;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rates {
    pub publish: f64,
    pub deliver: f64,
    pub redeliver: f64,
    pub ack: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueueView {
    pub id: QueueId,
    pub name: String,
    pub kind: QueueType,
    pub ready: u64,
    pub unacked: u64,
    pub total: u64,
    pub ready_bytes: u64,
    pub head: Vec<Chip>,
    pub rates: Rates,
    pub consumers: Vec<ConsumerId>,
    pub max_priority: Option<u32>,
    pub max_length: Option<u64>,
    pub overflow: Overflow,
    pub message_ttl_ms: Option<f64>,
    pub dead_letter_exchange: Option<String>,
    /// Not recovered by a node restart: exclusive or non-durable (RMQ-32, RMQ-33).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub transient: bool,
    /// The node it runs on (index): a classic queue's node, a quorum queue's leader.
    pub node: u32,
    /// A quorum queue's member nodes, leader included; empty for a classic queue.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<u32>,
    /// Takes publishes and delivers: its node runs, or a quorum queue has a leader and a
    /// majority (quorum-queues#availability).
    pub available: bool,
    /// Publishes a quorum queue without a majority has not taken: unconfirmed, resent later.
    #[serde(skip_serializing_if = "is_zero")]
    pub held: u64,
    /// Publishes its cut-off old leader took and cannot commit (a network partition).
    #[serde(skip_serializing_if = "is_zero")]
    pub uncommitted: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One node of the RabbitMQ cluster (RMQ-32).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RabbitMqNodeView {
    pub id: u32,
    /// `rabbit-1`, `rabbit-2`, …
    pub name: String,
    pub up: bool,
    /// Quorum queues it leads, and quorum-queue members it holds.
    pub leaders: u64,
    pub members: u64,
    /// Cut off from the other nodes by a network partition (`isolate_rabbitmq_node`).
    pub isolated: bool,
    /// Isolated and paused (`pause_minority`): it serves no client.
    pub paused: bool,
    /// Isolated: the entries its quorum-queue members have to catch up when it heals.
    pub behind: u64,
    /// Publishes it took as a cut-off leader and cannot commit; discarded if the majority
    /// elected another leader by the heal.
    pub uncommitted: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExchangeView {
    pub id: ExchangeId,
    pub name: String,
    pub kind: ExchangeType,
    pub links: Vec<(NodeRef, String)>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConsumerView {
    pub id: ConsumerId,
    pub name: String,
    pub status: ConsumerStatus,
    pub source: Option<NodeRef>,
    /// Redis channels and patterns this subscriber listens to.
    pub subscriptions: Vec<String>,
    /// The channels seen so far that those names or patterns match.
    pub channels: Vec<ChannelId>,
    /// The Kafka group this consumer is a member of.
    pub group: Option<GroupId>,
    pub prefetch: u32,
    pub ack: AckMode,
    pub unacked: Vec<Chip>,
    pub unacked_count: u64,
    pub processing: Option<Chip>,
    pub delivered: u64,
    pub acked: u64,
    pub redelivered: u64,
    pub utilisation: f64,
    pub slow_factor: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProducerView {
    pub id: ProducerId,
    pub name: String,
    pub sent: u64,
    pub paused: bool,
    pub targets: Vec<NodeRef>,
    pub confirms_acked: u64,
    pub confirms_nacked: u64,
    pub returned: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TransitView {
    pub msg: MessageId,
    pub from: NodeRef,
    pub to: NodeRef,
    pub sent_at: SimTime,
    pub arrive_at: SimTime,
    pub chip: Chip,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LatencyView {
    pub count: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

/// A consumer group's marker on a partition: its committed offset and its owner's position.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupMarker {
    pub group: String,
    pub committed: Option<u64>,
    pub position: Option<u64>,
    pub owner: Option<ConsumerId>,
    /// Log end offset − committed offset (KAF-18).
    pub lag: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartitionView {
    pub index: u32,
    pub log_start: u64,
    pub log_end: u64,
    pub bytes: u64,
    /// The newest records, oldest first, with their offsets.
    pub tail: Vec<(u64, Chip)>,
    /// (base offset, records, bytes) per segment, oldest first.
    pub segments: Vec<(u64, u64, u64)>,
    pub groups: Vec<GroupMarker>,
    /// Its replicas, leader, ISR and high watermark, when the cluster replicates it (KAF-19).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication: Option<ReplicationView>,
}

/// A partition's replication (KAF-19, KAF-20, KAF-23).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplicationView {
    /// `None`: offline, no live replica can lead.
    pub leader: Option<u32>,
    pub epoch: u32,
    /// (broker, log end offset) in assignment order.
    pub replicas: Vec<(u32, u64)>,
    pub isr: Vec<u32>,
    pub high_watermark: u64,
}

/// A Kafka broker node (KAF-19, KAF-23).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KafkaBrokerView {
    pub id: u32,
    pub alive: bool,
    /// The controller has noticed it is down.
    pub fenced: bool,
    /// Partitions it leads and replicas it holds.
    pub leaders: u64,
    pub replicas: u64,
    /// Extra time each of its follower fetches takes (`slow_kafka_broker`); 0 when not slowed.
    pub fetch_delay_ms: f64,
    /// Cut off from the other brokers and the controller (`isolate_kafka_broker`).
    pub isolated: bool,
    /// Records only it holds, taken as an isolated old leader after the election; lost when
    /// it heals (KAF-24).
    pub stale_records: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopicView {
    pub id: TopicId,
    pub name: String,
    pub partitions: Vec<PartitionView>,
    pub retention_ms: f64,
    pub retention_bytes: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupView {
    pub id: GroupId,
    pub name: String,
    pub assignor: crate::assignor::Assignor,
    pub rebalancing: bool,
    pub generation: u32,
    /// Each member and the partitions it owns; idle members own none (KAF-8).
    pub members: Vec<(ConsumerId, Vec<(TopicId, u32)>)>,
    pub lag: u64,
    pub processed: u64,
    pub duplicates: u64,
    pub skipped: u64,
    pub rebalances: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceView {
    pub id: ServiceId,
    pub name: String,
    pub concurrency: u32,
    pub busy: u32,
    pub waiting: u64,
    pub served: u64,
    pub rejected: u64,
    pub timed_out: u64,
}

/// One partition of a Pulsar topic: its managed ledger (PUL-1).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PulsarPartitionView {
    pub index: u32,
    /// The first stored entry and the id the next entry gets.
    pub start: u64,
    pub end: u64,
    pub messages: u64,
    pub bytes: u64,
    /// (ledger id, first entry, entries, closed), oldest first; the last is the current one.
    pub ledgers: Vec<(u64, u64, u64, bool)>,
    /// The newest entries, oldest first, with the messages each holds.
    pub tail: Vec<(u64, Vec<Chip>)>,
    /// Messages every durable subscription acked, stored until their ledger goes (PUL-12).
    pub marked_for_deletion: u64,
}

/// A subscription's cursor on one partition (PUL-7).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PulsarCursorView {
    /// The mark-delete position; −1 before the first entry.
    pub mark_delete: i64,
    /// Entries acked one by one beyond it (the rest are holes), at most `RECORDS_PER_PARTITION`.
    pub acked: Vec<u64>,
    /// The next entry a read returns.
    pub read: u64,
    /// Messages stored and not acked.
    pub backlog: u64,
    /// Exclusive, Failover: the active consumer.
    pub active: Option<ConsumerId>,
    /// Entries waiting to be sent again (Shared, Key_Shared).
    pub replay: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PulsarSubscriptionView {
    pub id: u32,
    pub name: String,
    /// `None` while no consumer is attached (PUL-2).
    pub kind: Option<SubscriptionType>,
    pub durable: bool,
    pub consumers: Vec<ConsumerId>,
    /// Messages stored and not acked, over all partitions.
    pub backlog: u64,
    /// Messages sent and not acked (Shared, Key_Shared).
    pub unacked: u64,
    pub partitions: Vec<PulsarCursorView>,
    /// Key_Shared: each consumer's inclusive hash ranges (PUL-6).
    pub hash_ranges: Vec<(u32, u32, ConsumerId)>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PulsarTopicView {
    pub id: u32,
    pub name: String,
    pub partitioned: bool,
    pub partitions: Vec<PulsarPartitionView>,
    pub subscriptions: Vec<PulsarSubscriptionView>,
    pub retention: Retention,
    pub ttl_ms: f64,
}

/// A Pulsar consumer's client: its permits and what it holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PulsarConsumerView {
    pub id: ConsumerId,
    pub topic: u32,
    pub subscription: Option<u32>,
    pub attached: bool,
    /// Flow permits the broker holds for it, over all partitions.
    pub permits: i64,
    /// Messages in its receiver queue.
    pub receiver_queue: u64,
    /// Messages sent to it and not finished by its application.
    pub holding: u64,
    /// Messages waiting in its negative-ack tracker.
    pub nacked: u64,
}

/// Apache Pulsar: every topic with its ledgers and cursors, and every consumer's client.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PulsarView {
    pub topics: Vec<PulsarTopicView>,
    pub consumers: Vec<PulsarConsumerView>,
}

/// A JMS queue in the web console's words (AMQ-1).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JmsQueueView {
    pub id: JmsQueueId,
    pub name: String,
    /// `Number Of Pending Messages`: stored plus dispatched and not yet acknowledged.
    pub pending: u64,
    /// Stored and not dispatched.
    pub stored: u64,
    pub in_flight: u64,
    /// `Messages Enqueued` and `Messages Dequeued`; both start again when the broker restarts.
    pub enqueued: u64,
    pub dequeued: u64,
    pub dispatched: u64,
    pub expired: u64,
    /// `Number Of Consumers`, in dispatch order.
    pub consumers: Vec<ConsumerId>,
    pub exclusive: Option<ConsumerId>,
    /// Message groups and their owners (AMQ-10).
    pub groups: Vec<(String, ConsumerId)>,
    pub head: Vec<Chip>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JmsTopicView {
    pub id: JmsTopicId,
    pub name: String,
    pub enqueued: u64,
    pub subscriptions: Vec<JmsSubId>,
}

/// A topic subscription: one stored copy per message while it lasts (AMQ-2).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JmsSubscriptionView {
    pub id: JmsSubId,
    pub topic: JmsTopicId,
    pub durable: Option<DurableName>,
    /// The connected subscriber.
    pub consumer: Option<ConsumerId>,
    /// Ended (non-durable without its subscriber, or unsubscribed).
    pub closed: bool,
    pub pending: u64,
    pub stored: u64,
    pub in_flight: u64,
    pub enqueued: u64,
    pub dequeued: u64,
    pub expired: u64,
    pub head: Vec<Chip>,
}

/// The JMS broker.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct JmsView {
    pub broker: JmsBroker,
    /// Restarting (AMQ-3).
    pub down: bool,
    pub queues: Vec<JmsQueueView>,
    pub topics: Vec<JmsTopicView>,
    pub subscriptions: Vec<JmsSubscriptionView>,
}

/// Everything a frame needs, at one instant.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Snapshot {
    pub time: SimTime,
    pub ledger: Ledger,
    pub balanced: bool,
    pub exchanges: Vec<ExchangeView>,
    pub queues: Vec<QueueView>,
    pub consumers: Vec<ConsumerView>,
    pub producers: Vec<ProducerView>,
    pub channels: Vec<String>,
    pub topics: Vec<TopicView>,
    pub groups: Vec<GroupView>,
    pub services: Vec<ServiceView>,
    pub jms: JmsView,
    pub transits: Vec<TransitView>,
    pub transits_total: usize,
    pub latency: LatencyView,
    pub next_event: Option<SimTime>,
    /// Every entity on stage as a node with its family and role, and the links between them;
    /// the views above are the typed detail per family.
    pub graph: Graph,
    /// AWS SQS queues and consumers.
    pub sqs: SqsView,
    /// Apache Pulsar, when the scenario uses it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pulsar: Option<PulsarView>,
    /// The services of a pipeline and their saga figures, when the scenario has stages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<crate::clients::PipelineView>,
    /// Kafka's brokers, when the scenario has a cluster.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kafka_brokers: Vec<KafkaBrokerView>,
    /// RabbitMQ's nodes, when the scenario has a cluster.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rabbitmq_nodes: Vec<RabbitMqNodeView>,
    /// Redis streams: `XINFO` and `XPENDING` figures.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub streams: Vec<StreamView>,
    /// ZeroMQ's processes, sockets and pipes, when the scenario uses it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zeromq: Option<crate::families::zeromq::ZeroMqView>,
    /// The producers' record keys as (id, key), by id: what a [`Chip::key`] names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub record_keys: Vec<(u32, String)>,
}

impl Simulation {
    pub(crate) fn chip(&self, slot: Slot) -> Chip {
        Chip::of(&self.world, slot)
    }

    pub fn snapshot(&self) -> Snapshot {
        let now = self.world.now.0;
        let queues: Vec<QueueView> = self
            .rabbitmq
            .queues
            .iter()
            .enumerate()
            .filter(|(_, q)| !q.deleted)
            .map(|(i, q)| QueueView {
                id: QueueId(i as u32),
                name: q.name().to_string(),
                kind: q.spec.kind,
                ready: q.ready_len(),
                unacked: q.unacked,
                total: q.ready_len() + q.unacked,
                ready_bytes: q.ready_bytes(),
                head: q
                    .ready_in_order(CHIPS_PER_QUEUE)
                    .into_iter()
                    .map(|s| self.chip(s))
                    .collect(),
                rates: Rates {
                    publish: q.publish_rate.per_sec(now),
                    deliver: q.deliver_rate.per_sec(now),
                    redeliver: q.redeliver_rate.per_sec(now),
                    ack: q.ack_rate.per_sec(now),
                },
                consumers: q.consumers.clone(),
                max_priority: q.spec.max_priority,
                max_length: q.spec.max_length,
                overflow: q.spec.overflow,
                message_ttl_ms: q.spec.message_ttl_ms,
                dead_letter_exchange: q.spec.dead_letter_exchange.clone(),
                transient: !q.spec.survives_restart(),
                node: q.node,
                members: q.members.clone(),
                available: self.rabbitmq.available(QueueId(i as u32)),
                held: q.held.len() as u64,
                uncommitted: q.uncommitted.len() as u64,
            })
            .collect();
        let exchanges: Vec<ExchangeView> = self
            .rabbitmq
            .exchanges
            .iter()
            .enumerate()
            .map(|(i, x)| ExchangeView {
                id: ExchangeId(i as u32),
                name: x.name.clone(),
                kind: x.kind,
                links: if i == 0 {
                    // The default exchange binds every queue by its own name (RMQ-6).
                    self.rabbitmq
                        .queues
                        .iter()
                        .enumerate()
                        .filter(|(_, q)| !q.deleted)
                        .map(|(qi, q)| (NodeRef::Queue(QueueId(qi as u32)), q.name().to_string()))
                        .collect()
                } else {
                    x.bindings
                        .iter()
                        .map(|b| {
                            let to = match b.destination {
                                Destination::Queue(q) => NodeRef::Queue(q),
                                Destination::Exchange(e) => NodeRef::Exchange(e),
                            };
                            (to, b.spec.routing_key.clone())
                        })
                        .collect()
                },
            })
            .collect();
        let consumers: Vec<ConsumerView> = self
            .clients
            .consumers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let busy = c.busy_us + c.busy_since.map_or(0, |s| self.world.now.since(s));
                ConsumerView {
                    id: ConsumerId(i as u32),
                    name: c.spec.name.clone(),
                    status: c.status,
                    source: self.consumer_source(ConsumerId(i as u32)),
                    subscriptions: match &c.spec.source {
                        crate::scenario::ConsumerSource::Subscribe { channels, patterns } => {
                            channels.iter().chain(patterns).cloned().collect()
                        }
                        _ => Vec::new(),
                    },
                    channels: self.redis.channels_matching(ConsumerId(i as u32)),
                    group: self
                        .kafka
                        .consumer_groups
                        .get(&ConsumerId(i as u32))
                        .copied(),
                    prefetch: (self.jms.prefetch_of(ConsumerId(i as u32)))
                        .unwrap_or(c.spec.prefetch),
                    ack: c.spec.ack,
                    unacked: c
                        .unacked
                        .values()
                        .take(CHIPS_PER_QUEUE)
                        .map(|s| self.chip(*s))
                        .collect(),
                    unacked_count: (c.unacked.len() + c.held.len()) as u64,
                    processing: c.current.map(|(_, s)| self.chip(s)),
                    delivered: c.delivered,
                    acked: c.acked,
                    redelivered: c.redelivered,
                    utilisation: if now == 0 {
                        0.0
                    } else {
                        busy as f64 / now as f64
                    },
                    slow_factor: c.slow_factor,
                }
            })
            .collect();
        let producers: Vec<ProducerView> = self
            .clients
            .producers
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.removed)
            .map(|(i, p)| ProducerView {
                id: ProducerId(i as u32),
                name: p.spec.name.clone(),
                sent: p.sent,
                paused: p.spec.paused,
                targets: p.plan.targets.clone(),
                confirms_acked: p.confirms_acked,
                confirms_nacked: p.confirms_nacked,
                returned: p.returned,
            })
            .collect();
        let topics = self.topic_views();
        let groups = self.group_views();
        let services = self.service_views();
        let sqs = self.sqs_view();
        let transits = self
            .wire
            .moving
            .iter()
            .take(MAX_TRANSITS)
            .map(|((arrive, _), t)| TransitView {
                msg: t.msg,
                from: t.from,
                to: t.to,
                sent_at: t.sent_at,
                arrive_at: *arrive,
                chip: t.chip.clone(),
            })
            .collect();
        let pulsar = self.pulsar_view();
        let jms = self.jms_view();
        let kafka_brokers = self.kafka_broker_views();
        let rabbitmq_nodes = self.rabbitmq_node_views(&queues);
        let record_keys = (self.clients.producers.iter())
            .flat_map(|p| p.plan.record_keys.iter().copied())
            .collect::<std::collections::BTreeSet<u32>>()
            .into_iter()
            .map(|id| (id, self.world.keys.get(id).clone()))
            .collect();
        let streams = self.streams.views(&self.world);
        let zeromq = (!self.zeromq.is_empty()).then(|| self.zeromq.view(&self.world));
        let graph = self.graph(GraphInput {
            producers: &producers,
            exchanges: &exchanges,
            queues: &queues,
            consumers: &consumers,
            topics: &topics,
            groups: &groups,
            services: &services,
            sqs: &sqs,
            pulsar: pulsar.as_ref(),
            jms: &jms,
            kafka_brokers: &kafka_brokers,
            rabbitmq_nodes: &rabbitmq_nodes,
            streams: &streams,
            zeromq: zeromq.as_ref(),
        });
        Snapshot {
            time: self.world.now,
            ledger: self.world.ledger.clone(),
            balanced: self.world.ledger.is_balanced(),
            exchanges,
            queues,
            consumers,
            producers,
            channels: self.redis.channels.clone(),
            topics,
            groups,
            services,
            jms,
            transits,
            transits_total: self.wire.moving.len(),
            latency: self.latency(),
            next_event: self.next_event_time(),
            pipeline: self.clients.stages.view(self.world.now),
            kafka_brokers,
            rabbitmq_nodes,
            graph,
            zeromq,
            record_keys,
            sqs,
            pulsar,
            streams,
        }
    }
}

impl Simulation {
    /// End-to-end latency (publish to ack or processed) of every completed message so far.
    pub fn latency(&self) -> LatencyView {
        let h = &self.world.latency_hist;
        let us_to_ms = |us: u64| us as f64 / 1_000.0;
        LatencyView {
            count: h.count(),
            mean_ms: h.mean() / 1_000.0,
            p50_ms: us_to_ms(h.quantile(0.50)),
            p95_ms: us_to_ms(h.quantile(0.95)),
            p99_ms: us_to_ms(h.quantile(0.99)),
        }
    }

    fn topic_views(&self) -> Vec<TopicView> {
        self.kafka
            .topics
            .iter()
            .enumerate()
            .map(|(t, topic)| (TopicId(t as u32), topic, self.readers_of(TopicId(t as u32))))
            .map(|(t, topic, readers)| TopicView {
                id: t,
                name: topic.spec.name.clone(),
                retention_ms: topic.spec.retention_ms,
                retention_bytes: topic.spec.retention_bytes,
                partitions: topic
                    .partitions
                    .iter()
                    .enumerate()
                    .map(|(p, log)| {
                        let tp = crate::assignor::TopicPartition {
                            topic: t,
                            partition: p as u32,
                        };
                        let from = log
                            .end_offset()
                            .saturating_sub(RECORDS_PER_PARTITION as u64);
                        PartitionView {
                            index: p as u32,
                            log_start: log.start_offset(),
                            log_end: log.end_offset(),
                            bytes: log.bytes(),
                            tail: log
                                .iter_from(from)
                                .map(|(o, r)| (o, record_chip(r)))
                                .collect(),
                            segments: log
                                .segments()
                                .map(|s| (s.base, s.records - s.compacted, s.bytes))
                                .collect(),
                            groups: readers
                                .iter()
                                .map(|g| {
                                    let owner = g.owners_of(tp).next();
                                    let committed = g.committed.get(&tp).copied();
                                    GroupMarker {
                                        group: g.spec.name.clone(),
                                        committed,
                                        position: owner
                                            .and_then(|c| self.kafka.members.get(&c))
                                            .and_then(|m| m.positions.get(&tp).copied()),
                                        owner,
                                        lag: crate::families::kafka::partition_lag(log, committed),
                                    }
                                })
                                .collect(),
                            replication: topic.replicas.get(p).map(|r| ReplicationView {
                                leader: r.leader,
                                epoch: r.epoch,
                                replicas: (r.replicas.iter())
                                    .map(|rp| {
                                        let leo = if r.leader == Some(rp.broker) {
                                            log.end_offset()
                                        } else {
                                            rp.leo
                                        };
                                        (rp.broker, leo)
                                    })
                                    .collect(),
                                isr: r.isr.iter().copied().collect(),
                                high_watermark: log.high_watermark(),
                            }),
                        }
                    })
                    .collect(),
            })
            .collect()
    }

    fn rabbitmq_node_views(&self, queues: &[QueueView]) -> Vec<RabbitMqNodeView> {
        let up = &self.rabbitmq.up;
        if up.len() < 2 {
            return Vec::new();
        }
        let quorum = || queues.iter().filter(|q| !q.members.is_empty());
        (0..up.len() as u32)
            .map(|n| RabbitMqNodeView {
                id: n,
                name: crate::scenario::rabbitmq_node_name(n),
                up: up[n as usize],
                leaders: quorum().filter(|q| q.node == n).count() as u64,
                members: quorum().filter(|q| q.members.contains(&n)).count() as u64,
                isolated: self.rabbitmq.isolated == Some(n),
                paused: self.rabbitmq.paused && self.rabbitmq.isolated == Some(n),
                behind: if self.rabbitmq.isolated == Some(n) {
                    self.rabbitmq.behind
                } else {
                    0
                },
                uncommitted: if self.rabbitmq.isolated == Some(n) {
                    (self.rabbitmq.queues.iter())
                        .map(|q| q.uncommitted.len() as u64)
                        .sum()
                } else {
                    0
                },
            })
            .collect()
    }

    fn kafka_broker_views(&self) -> Vec<KafkaBrokerView> {
        let Some(cluster) = &self.kafka.cluster else {
            return Vec::new();
        };
        let replicas = || self.kafka.topics.iter().flat_map(|t| &t.replicas);
        (cluster.brokers.iter().enumerate())
            .map(|(i, b)| {
                let id = i as u32;
                KafkaBrokerView {
                    id,
                    alive: b.alive,
                    fenced: b.fenced,
                    leaders: replicas().filter(|r| r.leader == Some(id)).count() as u64,
                    replicas: replicas()
                        .filter(|r| r.replicas.iter().any(|rp| rp.broker == id))
                        .count() as u64,
                    fetch_delay_ms: b.fetch_delay_us as f64 / 1000.0,
                    isolated: b.isolated,
                    stale_records: replicas()
                        .filter_map(|r| r.stale.as_ref().filter(|z| z.broker == id))
                        .map(|z| z.len())
                        .sum(),
                }
            })
            .collect()
    }

    /// The groups reading a topic, found once per topic rather than once per partition.
    fn readers_of(&self, topic: TopicId) -> Vec<&crate::families::kafka::Group> {
        self.kafka
            .groups
            .iter()
            .filter(|g| g.topic_ids.contains(&topic))
            .collect()
    }

    fn group_views(&self) -> Vec<GroupView> {
        self.kafka
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| GroupView {
                id: GroupId(i as u32),
                name: g.spec.name.clone(),
                assignor: g.spec.assignor,
                rebalancing: g.rebalancing || !g.moving.is_empty(),
                generation: g.generation,
                members: g
                    .members
                    .iter()
                    .map(|c| {
                        let tps = g.assignment.get(c).map_or_else(Vec::new, |v| {
                            v.iter().map(|tp| (tp.topic, tp.partition)).collect()
                        });
                        (*c, tps)
                    })
                    .collect(),
                lag: self.group_lag(GroupId(i as u32)),
                processed: g.processed,
                duplicates: g.duplicates,
                skipped: g.skipped,
                rebalances: g.rebalances,
            })
            .collect()
    }

    /// Sum over the group's partitions of end offset − committed offset (KAF-18). Kept as a
    /// running total, so sampling it every 100 ms costs nothing; debug builds recount it.
    pub fn group_lag(&self, gid: GroupId) -> u64 {
        let lag = self.kafka.groups[gid.index()].lag;
        debug_assert_eq!(lag, self.kafka.recount_lag(gid), "group {gid} lag");
        lag
    }

    fn service_views(&self) -> Vec<ServiceView> {
        self.service
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| ServiceView {
                id: ServiceId(i as u32),
                name: s.spec.name.clone(),
                concurrency: s.spec.concurrency,
                busy: s.busy,
                waiting: s.waiting.len() as u64,
                served: s.served,
                rejected: s.rejected,
                timed_out: s.timed_out,
            })
            .collect()
    }
}

impl Simulation {
    fn pulsar_view(&self) -> Option<PulsarView> {
        let p = &self.pulsar;
        if p.topics.is_empty() {
            return None;
        }
        let topics = (p.topics.iter().enumerate())
            .map(|(t, topic)| {
                let t = t as u32;
                let partitions = (topic.partitions.iter().enumerate())
                    .map(|(i, ml)| PulsarPartitionView {
                        index: i as u32,
                        start: ml.start(),
                        end: ml.end(),
                        messages: ml.messages(),
                        bytes: ml.bytes(),
                        ledgers: (ml.ledgers.iter())
                            .map(|l| (l.id, l.first, l.entries, l.closed.is_some()))
                            .collect(),
                        tail: ml
                            .iter_from(ml.end().saturating_sub(RECORDS_PER_PARTITION as u64))
                            .map(|(e, en)| (e, en.slots.iter().map(|s| self.chip(*s)).collect()))
                            .collect(),
                        marked_for_deletion: p.marked_for_deletion(t, i as u32),
                    })
                    .collect();
                let subscriptions = (topic.subscriptions.iter().enumerate())
                    .filter(|(_, s)| !s.gone)
                    .map(|(s, sub)| {
                        let s = s as u32;
                        let cursors: Vec<PulsarCursorView> = (sub.parts.iter().enumerate())
                            .map(|(i, part)| PulsarCursorView {
                                mark_delete: part.cursor.mark_delete(),
                                acked: (part.cursor.acked.iter())
                                    .take(RECORDS_PER_PARTITION)
                                    .copied()
                                    .collect(),
                                read: part.cursor.read,
                                backlog: p.backlog(t, s, i as u32),
                                active: part.active,
                                replay: part.cursor.replay.len() as u64,
                            })
                            .collect();
                        PulsarSubscriptionView {
                            id: s,
                            name: sub.name.clone(),
                            kind: sub.kind,
                            durable: sub.durable,
                            consumers: sub.consumers.clone(),
                            backlog: cursors.iter().map(|c| c.backlog).sum(),
                            unacked: sub.parts.iter().map(|part| part.unacked).sum(),
                            partitions: cursors,
                            hash_ranges: sub
                                .selector
                                .as_ref()
                                .map_or_else(Vec::new, |s| s.ranges()),
                        }
                    })
                    .collect();
                PulsarTopicView {
                    id: t,
                    name: topic.spec.name.clone(),
                    partitioned: topic.partitioned(),
                    partitions,
                    subscriptions,
                    retention: topic.spec.retention,
                    ttl_ms: topic.spec.ttl_ms,
                }
            })
            .collect();
        let consumers = (p.consumers.iter())
            .map(|(cid, pc)| {
                let permits = pc.sub.map_or(0, |s| {
                    let sub = &p.topics[pc.topic as usize].subscriptions[s as usize];
                    (sub.parts.iter())
                        .filter_map(|part| part.attached.get(cid))
                        .map(|a| a.permits)
                        .sum()
                });
                PulsarConsumerView {
                    id: *cid,
                    topic: pc.topic,
                    subscription: pc.sub,
                    attached: pc.attached.is_some(),
                    permits,
                    receiver_queue: self.clients.consumers[cid.index()].buffer.len() as u64,
                    holding: pc.deliveries.len() as u64,
                    nacked: pc.nacked.len() as u64,
                }
            })
            .collect();
        Some(PulsarView { topics, consumers })
    }
}

impl Simulation {
    /// The JMS broker's destinations and subscriptions in web-console words.
    pub(crate) fn jms_view(&self) -> JmsView {
        let head = |pending: &std::collections::BTreeMap<u64, Slot>| {
            (pending.values().take(CHIPS_PER_QUEUE))
                .map(|s| self.chip(*s))
                .collect()
        };
        let queues = (self.jms.queues.iter().enumerate())
            .map(|(i, q)| JmsQueueView {
                id: JmsQueueId(i as u32),
                name: q.name.clone(),
                pending: q.store.pending_count(),
                stored: q.store.stored(),
                in_flight: q.store.in_flight,
                enqueued: q.store.enqueued,
                dequeued: q.store.dequeued,
                dispatched: q.store.dispatched,
                expired: q.store.expired,
                consumers: q.consumers.clone(),
                exclusive: q.exclusive,
                groups: (q.groups.owners().take(CHIPS_PER_QUEUE))
                    .map(|(g, c)| (g.to_string(), c))
                    .collect(),
                head: head(&q.store.pending),
            })
            .collect();
        let topics = (self.jms.topics.iter().enumerate())
            .map(|(i, t)| JmsTopicView {
                id: JmsTopicId(i as u32),
                name: t.name.clone(),
                enqueued: t.enqueued,
                subscriptions: t.subs.clone(),
            })
            .collect();
        let subscriptions = (self.jms.subs.iter().enumerate())
            .map(|(i, s)| JmsSubscriptionView {
                id: JmsSubId(i as u32),
                topic: s.topic,
                durable: s.durable.clone(),
                consumer: s.consumer,
                closed: s.closed,
                pending: s.store.pending_count(),
                stored: s.store.stored(),
                in_flight: s.store.in_flight,
                enqueued: s.store.enqueued,
                dequeued: s.store.dequeued,
                expired: s.store.expired,
                head: head(&s.store.pending),
            })
            .collect();
        JmsView {
            broker: self.jms.settings.broker,
            down: self.jms.down_until.is_some(),
            queues,
            topics,
            subscriptions,
        }
    }
}

fn record_chip(r: &crate::log::Record) -> Chip {
    Chip {
        msg: r.msg,
        producer: (r.producer.0 != u32::MAX).then_some(r.producer),
        priority: None,
        redelivered: false,
        poison: false,
        dead_lettered: false,
        expired: false,
        key: (r.key != NO_KEY).then_some(r.key),
    }
}

/// AWS SQS in management-console words (SQS-1..SQS-11). The console's figures are
/// "Approximate" and lag; these are exact at the instant.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SqsView {
    pub queues: Vec<SqsQueueView>,
    pub consumers: Vec<SqsConsumerView>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SqsQueueView {
    pub id: SqsQueueId,
    pub name: String,
    pub kind: crate::scenario::SqsQueueType,
    /// `ApproximateNumberOfMessagesVisible`.
    pub visible: u64,
    /// `ApproximateNumberOfMessagesNotVisible`: in flight.
    pub not_visible: u64,
    /// `ApproximateNumberOfMessagesDelayed`.
    pub delayed: u64,
    /// `ApproximateAgeOfOldestMessage`, in ms.
    pub age_of_oldest_ms: f64,
    /// `NumberOfEmptyReceives` (an `OverLimit` error is not one).
    pub empty_receives: u64,
    pub sent: u64,
    pub received: u64,
    pub deleted: u64,
    pub redriven: u64,
    pub expired: u64,
    pub deduplicated: u64,
    /// Copies kept by a delete that missed a server (SQS-1).
    pub duplicates: u64,
    /// Consumers whose long poll is waiting here, in the order they are answered.
    pub waiting: Vec<ConsumerId>,
    /// The oldest visible messages.
    pub head: Vec<Chip>,
    /// Messages in flight, with their receive count and when they turn visible again.
    pub in_flight: Vec<SqsInFlightView>,
    pub visibility_timeout_ms: f64,
    pub dead_letter_queue: Option<String>,
    pub max_receive_count: Option<u32>,
}

/// One in-flight message: the countdown ring and the receive-count badge.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SqsInFlightView {
    pub chip: Chip,
    pub consumer: ConsumerId,
    /// `ApproximateReceiveCount`.
    pub receive_count: u32,
    pub visible_at: SimTime,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SqsConsumerView {
    pub id: ConsumerId,
    pub queue: SqsQueueId,
    /// Received and not yet processed (on the wire, buffered or being processed).
    pub holding: u64,
    /// Messages SQS sent it, and those its application started on.
    pub sent: u64,
    pub seen: u64,
    /// A `ReceiveMessage` is on the wire or waiting.
    pub polling: bool,
}

impl Simulation {
    fn sqs_view(&self) -> SqsView {
        use crate::families::sqs::queue::MsgState;
        let now = self.world.now;
        let queues = (self.sqs.queues.iter().enumerate())
            .map(|(i, q)| {
                let redrive = q.spec.redrive.as_ref();
                SqsQueueView {
                    id: SqsQueueId(i as u32),
                    name: q.name().to_string(),
                    kind: q.spec.kind,
                    visible: q.visible_len(),
                    not_visible: q.in_flight_len(),
                    delayed: q.delayed,
                    age_of_oldest_ms: q
                        .oldest_arrival()
                        .map_or(0.0, |t| now.since(t) as f64 / 1_000.0),
                    empty_receives: q.counters.empty_receives,
                    sent: q.counters.sent,
                    received: q.counters.received,
                    deleted: q.counters.deleted,
                    redriven: q.counters.redriven,
                    expired: q.counters.expired,
                    deduplicated: q.counters.deduplicated,
                    duplicates: q.counters.duplicates,
                    waiting: q.waiting.iter().map(|w| w.consumer).collect(),
                    head: q
                        .visible_seqs()
                        .take(CHIPS_PER_QUEUE)
                        .map(|s| self.chip(q.messages[&s].slot))
                        .collect(),
                    in_flight: q
                        .in_flight_seqs()
                        .take(CHIPS_PER_QUEUE)
                        .map(|s| &q.messages[&s])
                        .filter_map(|m| match m.state {
                            MsgState::InFlight {
                                consumer, until, ..
                            } => Some(SqsInFlightView {
                                chip: self.chip(m.slot),
                                consumer,
                                receive_count: m.receive_count,
                                visible_at: until,
                            }),
                            _ => None,
                        })
                        .collect(),
                    visibility_timeout_ms: q.spec.visibility_timeout_ms,
                    dead_letter_queue: redrive.map(|r| r.dead_letter_queue.clone()),
                    max_receive_count: redrive.map(|r| r.max_receive_count),
                }
            })
            .collect();
        let consumers = (self.sqs.pullers.iter())
            .map(|(id, p)| SqsConsumerView {
                id: *id,
                queue: p.queue,
                holding: p.reading.len() as u64,
                sent: self.clients.consumers[id.index()].delivered,
                seen: p.seen,
                polling: p.awaiting,
            })
            .collect();
        SqsView { queues, consumers }
    }
}

// ------------------------------------------------------------------ the graph

/// A broker family: whose rules a node follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    #[serde(rename = "rabbitmq")]
    RabbitMq,
    #[serde(rename = "redis_pubsub")]
    RedisPubSub,
    Kafka,
    Service,
    Sqs,
    Pulsar,
    Jms,
    RedisStreams,
    #[serde(rename = "zeromq")]
    ZeroMq,
}

impl Family {
    pub const ALL: [Family; 9] = [
        Family::RabbitMq,
        Family::RedisPubSub,
        Family::Kafka,
        Family::Service,
        Family::Sqs,
        Family::Pulsar,
        Family::Jms,
        Family::RedisStreams,
        Family::ZeroMq,
    ];

    /// The family's folder name: `rabbitmq`, `redis_pubsub`, `kafka`, `service`, `sqs`, `pulsar`,
    /// `jms`, `redis_streams`, `zeromq`.
    pub fn code(self) -> &'static str {
        match self {
            Family::RabbitMq => "rabbitmq",
            Family::RedisPubSub => "redis_pubsub",
            Family::Kafka => "kafka",
            Family::Service => "service",
            Family::Sqs => "sqs",
            Family::Pulsar => "pulsar",
            Family::Jms => "jms",
            Family::RedisStreams => "redis_streams",
            Family::ZeroMq => "zeromq",
        }
    }
}

/// What a node does with messages; the UI places nodes by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sends messages.
    Producer,
    /// Passes messages on without keeping them (an exchange, a channel).
    Router,
    /// Keeps messages until they are taken or expire (a queue, a topic and its partitions).
    Store,
    /// Takes and processes messages.
    Consumer,
    /// Answers a caller directly, with no broker.
    Service,
    /// Both sends and receives, broker-less (no family has one yet).
    Peer,
    /// A broker node of a cluster, holding replicas of stores (a Kafka broker).
    Broker,
}

/// A node's state as the drawing shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeStatus {
    Running,
    Paused,
    Crashed,
    Disconnected,
    Removed,
    Rebalancing,
}

impl From<ConsumerStatus> for NodeStatus {
    fn from(s: ConsumerStatus) -> NodeStatus {
        match s {
            ConsumerStatus::Running => NodeStatus::Running,
            ConsumerStatus::Crashed => NodeStatus::Crashed,
            ConsumerStatus::Disconnected => NodeStatus::Disconnected,
            ConsumerStatus::Removed => NodeStatus::Removed,
        }
    }
}

/// A figure a node or group shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    Sent,
    Bindings,
    Subscribers,
    Ready,
    Unacked,
    Consumers,
    Delivered,
    Acked,
    Redelivered,
    Prefetch,
    Partitions,
    Records,
    LogStart,
    LogEnd,
    Busy,
    Concurrency,
    Waiting,
    Served,
    Rejected,
    TimedOut,
    Members,
    Lag,
    /// Committed offsets, summed over a group's partitions.
    Committed,
    Generation,
    Processed,
    /// SQS `ApproximateNumberOfMessagesVisible`.
    Visible,
    /// SQS `ApproximateNumberOfMessagesNotVisible`: received, not yet deleted.
    InFlight,
    /// SQS `ApproximateNumberOfMessagesDelayed`.
    Delayed,
    /// JMS `Number Of Pending Messages`: stored plus dispatched and not acknowledged.
    Pending,
    /// JMS `Messages Enqueued` and `Messages Dequeued`.
    Enqueued,
    Dequeued,
    /// A Kafka partition's high watermark, ISR size and leader broker (KAF-19, KAF-20).
    HighWatermark,
    Isr,
    Leader,
    /// A Kafka broker's leaderships and replicas.
    Leaders,
    Replicas,
    /// Redis `XLEN`.
    Length,
    /// Redis `XINFO GROUPS`: groups on a stream.
    Groups,
}

/// How a link moves messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// A producer sends to a router or a store.
    Publish,
    /// A caller calls a service directly.
    Request,
    /// A router passes matching messages on (a binding).
    Bind,
    /// A store hands messages to its consumer.
    Deliver,
    /// A router pushes each message to its subscribers.
    Push,
    /// A consumer fetches from a store it was assigned, or polls a queue (SQS `ReceiveMessage`).
    Fetch,
    /// A store moves messages it gave up on to another store (an SQS redrive to its DLQ).
    DeadLetter,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GraphNode {
    pub node: NodeRef,
    pub family: Family,
    pub role: Role,
    pub name: String,
    pub status: NodeStatus,
    pub figures: Vec<(Figure, u64)>,
    /// The messages the node holds now, as drawn (capped like the views).
    pub chips: Vec<Chip>,
    /// The node this one is drawn inside: a partition's topic.
    pub parent: Option<NodeRef>,
    /// The group (`Graph::groups`, by id) this consumer shares work with.
    pub group: Option<GroupId>,
    /// Exists without being declared (the default exchange): shown only while a link uses it.
    pub implicit: bool,
    /// A producer a stage publishes through: the consumer that runs that stage (lesson 13's
    /// translator publishes through to-canonical).
    pub owner: Option<NodeRef>,
}

impl GraphNode {
    pub fn figure(&self, f: Figure) -> Option<u64> {
        figure(&self.figures, f)
    }
}

fn figure(figures: &[(Figure, u64)], f: Figure) -> Option<u64> {
    figures.iter().find(|(k, _)| *k == f).map(|(_, v)| *v)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GraphEdge {
    pub from: NodeRef,
    pub to: NodeRef,
    /// The family whose rules the link follows.
    pub family: Family,
    pub kind: LinkKind,
    /// What the link matches or means: a binding key or headers arguments, the patterns a
    /// subscriber matched, the group a fetch is for. `None` where it matches everything.
    pub label: Option<String>,
}

/// Consumers that share the work of what they read: a Kafka consumer group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GraphGroup {
    pub id: GroupId,
    pub family: Family,
    pub name: String,
    pub status: NodeStatus,
    pub figures: Vec<(Figure, u64)>,
    /// Live members, in the order they were added.
    pub members: Vec<NodeRef>,
    /// The stores it reads.
    pub reads: Vec<NodeRef>,
}

impl GraphGroup {
    pub fn figure(&self, f: Figure) -> Option<u64> {
        figure(&self.figures, f)
    }
}

/// The topology at one instant: nodes, the links between them and the groups consumers form.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Graph {
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
    pub groups: Vec<GraphGroup>,
}

impl Graph {
    pub fn node(&self, node: NodeRef) -> Option<&GraphNode> {
        self.nodes.iter().find(|n| n.node == node)
    }

    pub fn group(&self, id: GroupId) -> Option<&GraphGroup> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// The families with a node or group on stage, in [`Family::ALL`] order.
    pub fn families(&self) -> Vec<Family> {
        Family::ALL
            .into_iter()
            .filter(|f| {
                self.nodes.iter().any(|n| n.family == *f && !n.implicit)
                    || self.groups.iter().any(|g| g.family == *f)
            })
            .collect()
    }
}

impl NodeRef {
    /// The family of a broker's node; `None` for a client (a producer or consumer), which
    /// belongs to the family of what it uses (see [`GraphNode::family`]).
    pub fn family(self) -> Option<Family> {
        match self {
            NodeRef::Exchange(_) | NodeRef::Queue(_) | NodeRef::RabbitMqNode(_) => {
                Some(Family::RabbitMq)
            }
            NodeRef::Channel(_) => Some(Family::RedisPubSub),
            NodeRef::Topic(_) | NodeRef::Partition(..) | NodeRef::KafkaBroker(_) => {
                Some(Family::Kafka)
            }
            NodeRef::Service(_) => Some(Family::Service),
            NodeRef::SqsQueue(_) => Some(Family::Sqs),
            NodeRef::PulsarTopic(_) | NodeRef::PulsarPartition(..) => Some(Family::Pulsar),
            NodeRef::JmsQueue(_) | NodeRef::JmsTopic(_) | NodeRef::JmsSubscription(_) => {
                Some(Family::Jms)
            }
            NodeRef::Stream(_) => Some(Family::RedisStreams),
            NodeRef::ZmqSocket(_) => Some(Family::ZeroMq),
            NodeRef::Producer(_) | NodeRef::Consumer(_) => None,
        }
    }

    pub fn role(self) -> Role {
        match self {
            NodeRef::Producer(_) => Role::Producer,
            NodeRef::Exchange(_) | NodeRef::Channel(_) | NodeRef::JmsTopic(_) => Role::Router,
            NodeRef::Queue(_)
            | NodeRef::Topic(_)
            | NodeRef::Partition(..)
            | NodeRef::SqsQueue(_)
            | NodeRef::PulsarTopic(_)
            | NodeRef::PulsarPartition(..)
            | NodeRef::JmsQueue(_)
            | NodeRef::JmsSubscription(_)
            | NodeRef::Stream(_) => Role::Store,
            NodeRef::Consumer(_) => Role::Consumer,
            NodeRef::Service(_) => Role::Service,
            NodeRef::KafkaBroker(_) | NodeRef::RabbitMqNode(_) => Role::Broker,
            NodeRef::ZmqSocket(_) => Role::Peer,
        }
    }
}

/// The views the graph is read from.
struct GraphInput<'a> {
    producers: &'a [ProducerView],
    exchanges: &'a [ExchangeView],
    queues: &'a [QueueView],
    consumers: &'a [ConsumerView],
    topics: &'a [TopicView],
    groups: &'a [GroupView],
    services: &'a [ServiceView],
    sqs: &'a SqsView,
    pulsar: Option<&'a PulsarView>,
    jms: &'a JmsView,
    kafka_brokers: &'a [KafkaBrokerView],
    rabbitmq_nodes: &'a [RabbitMqNodeView],
    streams: &'a [StreamView],
    zeromq: Option<&'a crate::families::zeromq::ZeroMqView>,
}

/// What a binding matches, as a label: the routing key, or a headers binding's arguments
/// (`x-match=all: format=pdf, type=report`); `None` for a fanout's empty key, which matches
/// everything.
pub fn binding_label(kind: ExchangeType, spec: &crate::scenario::BindingSpec) -> Option<String> {
    match kind {
        ExchangeType::Headers => {
            let mode = spec
                .arguments
                .get("x-match")
                .and_then(|v| v.as_str())
                .unwrap_or("all");
            let args: Vec<String> = (spec.arguments.iter())
                .filter(|(k, _)| k.as_str() != "x-match")
                .map(|(k, v)| match v {
                    serde_json::Value::Null => k.clone(),
                    serde_json::Value::String(s) => format!("{k}={s}"),
                    other => format!("{k}={other}"),
                })
                .collect();
            Some(format!("x-match={mode}: {}", args.join(", ")))
        }
        ExchangeType::Fanout if spec.routing_key.is_empty() => None,
        _ => Some(spec.routing_key.clone()),
    }
}

impl Simulation {
    fn graph(&self, v: GraphInput<'_>) -> Graph {
        let mut g = Graph::default();
        let running = NodeStatus::Running;
        let node = |node: NodeRef, family: Family, name: &str| GraphNode {
            node,
            family,
            role: node.role(),
            name: name.to_string(),
            status: running,
            figures: Vec::new(),
            chips: Vec::new(),
            parent: None,
            group: None,
            implicit: false,
            owner: None,
        };
        let live = |c: &&ConsumerView| c.status != ConsumerStatus::Removed;
        // The routing keys sent to the default exchange: only those of its implicit bindings
        // are links (RMQ-6).
        let default_keys: Vec<&str> = (self.clients.producers.iter())
            .filter(|p| !p.removed)
            .filter(|p| {
                (p.spec.targets.iter()).any(
                    |t| matches!(t, crate::scenario::PublishTarget::Exchange(x) if x.is_empty()),
                )
            })
            .flat_map(|p| p.spec.message.routing_keys.iter().map(String::as_str))
            .collect();

        for p in v.producers {
            let family = (p.targets.iter().find_map(|t| t.family())).unwrap_or(Family::RabbitMq);
            g.nodes.push(GraphNode {
                status: if p.paused {
                    NodeStatus::Paused
                } else {
                    running
                },
                figures: vec![(Figure::Sent, p.sent)],
                owner: self.stage_consumer(p.id).map(NodeRef::Consumer),
                ..node(NodeRef::Producer(p.id), family, &p.name)
            });
        }
        // A stopped RabbitMQ node greys its exchanges and queues (RMQ-32).
        let rabbitmq = if self.rabbitmq.all_down() {
            NodeStatus::Crashed
        } else {
            running
        };
        for x in v.exchanges {
            g.nodes.push(GraphNode {
                status: rabbitmq,
                figures: vec![(Figure::Bindings, x.links.len() as u64)],
                implicit: x.id == ExchangeId(0),
                ..node(NodeRef::Exchange(x.id), Family::RabbitMq, &x.name)
            });
        }
        for (i, name) in self.redis.channels.iter().enumerate() {
            let id = ChannelId(i as u32);
            let subscribers = (v.consumers.iter().filter(live))
                .filter(|c| c.channels.contains(&id))
                .count() as u64;
            g.nodes.push(GraphNode {
                figures: vec![(Figure::Subscribers, subscribers)],
                ..node(NodeRef::Channel(id), Family::RedisPubSub, name)
            });
        }
        // A queue whose node is stopped, or a quorum queue without a leader and a majority,
        // is greyed like a stopped node (RMQ-32, quorum-queues#availability).
        for q in v.queues {
            g.nodes.push(GraphNode {
                status: if q.available {
                    rabbitmq
                } else {
                    NodeStatus::Crashed
                },
                figures: vec![
                    (Figure::Ready, q.ready),
                    (Figure::Unacked, q.unacked),
                    (Figure::Consumers, q.consumers.len() as u64),
                ],
                chips: q.head.clone(),
                ..node(NodeRef::Queue(q.id), Family::RabbitMq, &q.name)
            });
        }
        for s in v.services {
            g.nodes.push(GraphNode {
                figures: vec![
                    (Figure::Busy, u64::from(s.busy)),
                    (Figure::Concurrency, u64::from(s.concurrency)),
                    (Figure::Waiting, s.waiting),
                    (Figure::Served, s.served),
                    (Figure::Rejected, s.rejected),
                    (Figure::TimedOut, s.timed_out),
                ],
                ..node(NodeRef::Service(s.id), Family::Service, &s.name)
            });
        }
        for q in &v.sqs.queues {
            let mut chips = q.head.clone();
            chips.extend(q.in_flight.iter().map(|m| m.chip.clone()));
            g.nodes.push(GraphNode {
                figures: vec![
                    (Figure::Visible, q.visible),
                    (Figure::InFlight, q.not_visible),
                    (Figure::Delayed, q.delayed),
                    (
                        Figure::Consumers,
                        (v.sqs.consumers.iter())
                            .filter(|c| c.queue == q.id)
                            .filter(|c| v.consumers.iter().filter(live).any(|l| l.id == c.id))
                            .count() as u64,
                    ),
                ],
                chips,
                ..node(NodeRef::SqsQueue(q.id), Family::Sqs, &q.name)
            });
        }
        for s in v.streams {
            let known_lag = s.groups.iter().filter_map(|g| g.lag);
            g.nodes.push(GraphNode {
                figures: vec![
                    (Figure::Length, s.length),
                    (Figure::Groups, s.groups.len() as u64),
                    (Figure::Pending, s.groups.iter().map(|g| g.pending).sum()),
                    (Figure::Lag, known_lag.max().unwrap_or(0)),
                ],
                chips: s.tail.iter().map(|(_, c)| c.clone()).collect(),
                ..node(NodeRef::Stream(s.id), Family::RedisStreams, &s.key)
            });
        }
        for t in v.topics {
            let topic = NodeRef::Topic(t.id);
            let records: u64 = t.partitions.iter().map(|p| p.log_end - p.log_start).sum();
            g.nodes.push(GraphNode {
                figures: vec![
                    (Figure::Partitions, t.partitions.len() as u64),
                    (Figure::Records, records),
                ],
                ..node(topic, Family::Kafka, &t.name)
            });
            for p in &t.partitions {
                let mut figures = vec![
                    (Figure::LogStart, p.log_start),
                    (Figure::LogEnd, p.log_end),
                    (Figure::Records, p.log_end - p.log_start),
                ];
                if let Some(r) = &p.replication {
                    figures.push((Figure::HighWatermark, r.high_watermark));
                    figures.push((Figure::Isr, r.isr.len() as u64));
                    if let Some(l) = r.leader {
                        figures.push((Figure::Leader, u64::from(l)));
                    }
                }
                g.nodes.push(GraphNode {
                    figures,
                    chips: p.tail.iter().map(|(_, c)| c.clone()).collect(),
                    parent: Some(topic),
                    ..node(
                        NodeRef::Partition(t.id, p.index),
                        Family::Kafka,
                        &format!("{}-{}", t.name, p.index),
                    )
                });
            }
        }
        for b in v.kafka_brokers {
            g.nodes.push(GraphNode {
                status: if b.alive {
                    NodeStatus::Running
                } else {
                    NodeStatus::Crashed
                },
                figures: vec![(Figure::Leaders, b.leaders), (Figure::Replicas, b.replicas)],
                ..node(
                    NodeRef::KafkaBroker(b.id),
                    Family::Kafka,
                    &format!("broker-{}", b.id),
                )
            });
        }
        for n in v.rabbitmq_nodes {
            g.nodes.push(GraphNode {
                status: if n.up {
                    NodeStatus::Running
                } else {
                    NodeStatus::Crashed
                },
                figures: vec![(Figure::Leaders, n.leaders), (Figure::Replicas, n.members)],
                ..node(NodeRef::RabbitMqNode(n.id), Family::RabbitMq, &n.name)
            });
        }
        for t in v.pulsar.iter().flat_map(|p| &p.topics) {
            let topic = NodeRef::PulsarTopic(t.id);
            let messages: u64 = t.partitions.iter().map(|p| p.messages).sum();
            g.nodes.push(GraphNode {
                figures: vec![
                    (Figure::Partitions, t.partitions.len() as u64),
                    (Figure::Records, messages),
                ],
                ..node(topic, Family::Pulsar, &t.name)
            });
            for p in &t.partitions {
                let name = if t.partitioned {
                    format!("{}-partition-{}", t.name, p.index)
                } else {
                    t.name.clone()
                };
                g.nodes.push(GraphNode {
                    figures: vec![
                        (Figure::LogStart, p.start),
                        (Figure::LogEnd, p.end),
                        (Figure::Records, p.messages),
                    ],
                    chips: p.tail.iter().flat_map(|(_, c)| c.iter().cloned()).collect(),
                    parent: Some(topic),
                    ..node(
                        NodeRef::PulsarPartition(t.id, p.index),
                        Family::Pulsar,
                        &name,
                    )
                });
            }
        }
        for s in v.zeromq.iter().flat_map(|z| &z.sockets) {
            let peer = &v.zeromq.expect("sockets come from the view").peers[s.peer as usize];
            g.nodes.push(GraphNode {
                status: match peer.status {
                    crate::families::zeromq::PeerStatus::Running => running,
                    crate::families::zeromq::PeerStatus::Closing => NodeStatus::Paused,
                    _ => NodeStatus::Crashed,
                },
                figures: vec![
                    (Figure::Sent, s.sent),
                    (Figure::Delivered, s.received),
                    (Figure::Pending, s.out_piped),
                    (Figure::Waiting, s.in_piped),
                ],
                chips: s.chips.clone(),
                ..node(NodeRef::ZmqSocket(s.id), Family::ZeroMq, &s.name)
            });
        }
        for q in &v.jms.queues {
            g.nodes.push(GraphNode {
                figures: vec![
                    (Figure::Pending, q.pending),
                    (Figure::Unacked, q.in_flight),
                    (Figure::Consumers, q.consumers.len() as u64),
                    (Figure::Enqueued, q.enqueued),
                    (Figure::Dequeued, q.dequeued),
                ],
                chips: q.head.clone(),
                ..node(NodeRef::JmsQueue(q.id), Family::Jms, &q.name)
            });
        }
        let live_subs = || v.jms.subscriptions.iter().filter(|s| !s.closed);
        for t in &v.jms.topics {
            let subscribers = live_subs().filter(|s| s.topic == t.id).count() as u64;
            g.nodes.push(GraphNode {
                figures: vec![
                    (Figure::Subscribers, subscribers),
                    (Figure::Enqueued, t.enqueued),
                ],
                ..node(NodeRef::JmsTopic(t.id), Family::Jms, &t.name)
            });
        }
        for sv in live_subs() {
            // A durable subscription keeps its identity while its subscriber is away (AMQ-2).
            let name = match (&sv.durable, sv.consumer) {
                (Some(d), _) => format!("{}:{}", d.client_id, d.name),
                (None, Some(c)) => self.clients.consumers[c.index()].spec.name.clone(),
                (None, None) => sv.id.to_string(),
            };
            g.nodes.push(GraphNode {
                status: if sv.consumer.is_some() {
                    running
                } else {
                    NodeStatus::Paused
                },
                figures: vec![
                    (Figure::Pending, sv.pending),
                    (Figure::Unacked, sv.in_flight),
                    (Figure::Dequeued, sv.dequeued),
                ],
                chips: sv.head.clone(),
                ..node(NodeRef::JmsSubscription(sv.id), Family::Jms, &name)
            });
            g.edges.push(GraphEdge {
                from: NodeRef::JmsTopic(sv.topic),
                to: NodeRef::JmsSubscription(sv.id),
                family: Family::Jms,
                kind: LinkKind::Push,
                label: sv.durable.as_ref().map(|d| d.name.clone()),
            });
        }
        for c in v.consumers.iter().filter(live) {
            let spec = &self.clients.consumers[c.id.index()].spec;
            let family = match spec.source {
                crate::scenario::ConsumerSource::Queue(_) => Family::RabbitMq,
                crate::scenario::ConsumerSource::Subscribe { .. } => Family::RedisPubSub,
                crate::scenario::ConsumerSource::Group(_) => Family::Kafka,
                crate::scenario::ConsumerSource::SqsQueue(_) => Family::Sqs,
                crate::scenario::ConsumerSource::Pulsar(_) => Family::Pulsar,
                crate::scenario::ConsumerSource::JmsQueue(_)
                | crate::scenario::ConsumerSource::JmsTopic { .. } => Family::Jms,
                crate::scenario::ConsumerSource::StreamGroup { .. }
                | crate::scenario::ConsumerSource::StreamRead { .. } => Family::RedisStreams,
                crate::scenario::ConsumerSource::Zmq(_) => Family::ZeroMq,
            };
            let mut chips: Vec<Chip> = c.processing.iter().cloned().collect();
            let processing = c.processing.as_ref().map(|p| p.msg);
            chips.extend(
                (c.unacked.iter())
                    .filter(|u| Some(u.msg) != processing)
                    .cloned(),
            );
            let mut figures = vec![
                (Figure::Delivered, c.delivered),
                (Figure::Acked, c.acked),
                (Figure::Redelivered, c.redelivered),
                (Figure::Unacked, c.unacked_count),
                (Figure::Prefetch, u64::from(c.prefetch)),
            ];
            // A stream group consumer's own PEL: what XPENDING lists under its name.
            figures.extend(self.streams.pending_of(c.id).map(|n| (Figure::Pending, n)));
            g.nodes.push(GraphNode {
                status: c.status.into(),
                figures,
                chips,
                group: c.group,
                ..node(NodeRef::Consumer(c.id), family, &c.name)
            });
        }

        // Links, in the order the drawing has always used.
        for p in v.producers {
            for &to in &p.targets {
                let Some(family) = to.family() else { continue };
                if family == Family::Kafka {
                    continue; // to each partition, below
                }
                let kind = if to.role() == Role::Service {
                    LinkKind::Request
                } else {
                    LinkKind::Publish
                };
                g.edges.push(GraphEdge {
                    from: NodeRef::Producer(p.id),
                    to,
                    family,
                    kind,
                    label: None,
                });
            }
        }
        // A connection's two pipes are the edge between the sockets (ZMQ-1).
        for c in v.zeromq.iter().flat_map(|z| &z.conns) {
            g.edges.push(GraphEdge {
                from: NodeRef::ZmqSocket(c.sender),
                to: NodeRef::ZmqSocket(c.receiver),
                family: Family::ZeroMq,
                kind: LinkKind::Push,
                label: Some(c.endpoint.clone()),
            });
        }
        for x in v.exchanges {
            let from = NodeRef::Exchange(x.id);
            if x.id == ExchangeId(0) {
                for (to, key) in &x.links {
                    if default_keys.contains(&key.as_str()) {
                        g.edges.push(GraphEdge {
                            from,
                            to: *to,
                            family: Family::RabbitMq,
                            kind: LinkKind::Bind,
                            label: Some(key.clone()),
                        });
                    }
                }
                continue;
            }
            let bindings = &self.rabbitmq.exchanges[x.id.index()].bindings;
            for ((to, _), b) in x.links.iter().zip(bindings) {
                g.edges.push(GraphEdge {
                    from,
                    to: *to,
                    family: Family::RabbitMq,
                    kind: LinkKind::Bind,
                    label: binding_label(x.kind, &b.spec),
                });
            }
        }
        for c in v.consumers.iter().filter(live) {
            let to = NodeRef::Consumer(c.id);
            if c.group.is_some() {
                continue; // fetches, below
            }
            if let Some(from) = c.source {
                // A Pulsar consumer reads through its subscription.
                let label = match &self.clients.consumers[c.id.index()].spec.source {
                    crate::scenario::ConsumerSource::Pulsar(s) => Some(s.subscription.clone()),
                    crate::scenario::ConsumerSource::StreamGroup { group, .. } => {
                        Some(group.clone())
                    }
                    _ => None,
                };
                let family = from.family().unwrap_or(Family::RabbitMq);
                g.edges.push(GraphEdge {
                    from,
                    to,
                    family,
                    // An SQS consumer polls (`ReceiveMessage`); a RabbitMQ queue pushes.
                    kind: if matches!(family, Family::Sqs | Family::RedisStreams) {
                        LinkKind::Fetch
                    } else {
                        LinkKind::Deliver
                    },
                    label,
                });
                continue;
            }
            let crate::scenario::ConsumerSource::Subscribe { channels, patterns } =
                &self.clients.consumers[c.id.index()].spec.source
            else {
                continue;
            };
            for &ch in &c.channels {
                let name = &self.redis.channels[ch.index()];
                // The patterns that reach this channel, after its name if that is subscribed
                // too (two copies, RPS-2); no label when only the name reaches it.
                let mut by_pattern: Vec<&str> = (patterns.iter())
                    .filter(|p| crate::matching::Glob::new(p).matches(name))
                    .map(String::as_str)
                    .collect();
                by_pattern.sort_unstable();
                by_pattern.dedup();
                let label = (!by_pattern.is_empty()).then(|| {
                    let by_name = channels.contains(name).then_some(name.as_str());
                    by_name
                        .into_iter()
                        .chain(by_pattern)
                        .collect::<Vec<_>>()
                        .join(", ")
                });
                g.edges.push(GraphEdge {
                    from: NodeRef::Channel(ch),
                    to,
                    family: Family::RedisPubSub,
                    kind: LinkKind::Push,
                    label,
                });
            }
        }
        for p in v.producers {
            for &target in &p.targets {
                let NodeRef::Topic(tid) = target else {
                    continue;
                };
                let Some(t) = v.topics.iter().find(|t| t.id == tid) else {
                    continue;
                };
                for part in &t.partitions {
                    g.edges.push(GraphEdge {
                        from: NodeRef::Producer(p.id),
                        to: NodeRef::Partition(tid, part.index),
                        family: Family::Kafka,
                        kind: LinkKind::Publish,
                        label: None,
                    });
                }
            }
        }
        // A redrive policy moves a message received maxReceiveCount times to its DLQ (SQS-4).
        for q in &v.sqs.queues {
            let (Some(dlq), Some(max)) = (&q.dead_letter_queue, q.max_receive_count) else {
                continue;
            };
            let Some(to) = v.sqs.queues.iter().find(|d| &d.name == dlq) else {
                continue;
            };
            g.edges.push(GraphEdge {
                from: NodeRef::SqsQueue(q.id),
                to: NodeRef::SqsQueue(to.id),
                family: Family::Sqs,
                kind: LinkKind::DeadLetter,
                label: Some(format!("maxReceiveCount={max}")),
            });
        }
        for gv in v.groups {
            let members: Vec<NodeRef> = (v.consumers.iter().filter(live))
                .filter(|c| c.group == Some(gv.id))
                .map(|c| NodeRef::Consumer(c.id))
                .collect();
            for (c, tps) in &gv.members {
                let to = NodeRef::Consumer(*c);
                if !members.contains(&to) {
                    continue;
                }
                for &(topic, partition) in tps {
                    g.edges.push(GraphEdge {
                        from: NodeRef::Partition(topic, partition),
                        to,
                        family: Family::Kafka,
                        kind: LinkKind::Fetch,
                        label: Some(gv.name.clone()),
                    });
                }
            }
            let markers = (v.topics.iter())
                .flat_map(|t| &t.partitions)
                .flat_map(|p| &p.groups)
                .filter(|m| m.group == gv.name);
            let committed = markers.filter_map(|m| m.committed).sum();
            let reads = (v.topics.iter())
                .filter(|t| {
                    t.partitions
                        .iter()
                        .any(|p| p.groups.iter().any(|m| m.group == gv.name))
                })
                .map(|t| NodeRef::Topic(t.id))
                .collect();
            g.groups.push(GraphGroup {
                id: gv.id,
                family: Family::Kafka,
                name: gv.name.clone(),
                status: if gv.rebalancing {
                    NodeStatus::Rebalancing
                } else {
                    running
                },
                figures: vec![
                    (Figure::Members, members.len() as u64),
                    (Figure::Lag, gv.lag),
                    (Figure::Committed, committed),
                    (Figure::Generation, u64::from(gv.generation)),
                    (Figure::Processed, gv.processed),
                ],
                members,
                reads,
            });
        }
        g
    }
}

/// Time series for the dashboard's charts: (time in µs, value) points, bounded in length.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Charts {
    /// Ready + Unacked per queue.
    pub queue_depth: Vec<(String, Vec<(u64, f64)>)>,
    /// Pending messages per JMS queue (AMQ-1).
    pub jms_queue_depth: Vec<(String, Vec<(u64, f64)>)>,
    /// Total lag per consumer group (KAF-18).
    pub group_lag: Vec<(String, Vec<(u64, f64)>)>,
    /// Messages published per second.
    pub throughput_in: Vec<(u64, f64)>,
    /// Messages whose work finished per second (acked, processed, served).
    pub throughput_out: Vec<(u64, f64)>,
    /// End-to-end latency percentiles in ms, per sampling interval.
    pub latency_p50_ms: Vec<(u64, f64)>,
    pub latency_p99_ms: Vec<(u64, f64)>,
}

impl Simulation {
    /// Chart series. Cheap enough per frame, but the UI reads it only when a chart is shown.
    pub fn charts(&self) -> Charts {
        Charts {
            queue_depth: self
                .rabbitmq
                .queues
                .iter()
                .filter(|q| !q.deleted)
                .map(|q| (q.name().to_string(), q.depth.points().to_vec()))
                .collect(),
            jms_queue_depth: (self.jms.queues.iter())
                .map(|q| (q.name.clone(), q.depth.points().to_vec()))
                .collect(),
            group_lag: self
                .kafka
                .groups
                .iter()
                .map(|g| (g.spec.name.clone(), g.lag_series.points().to_vec()))
                .collect(),
            throughput_in: self.world.throughput_in.points().to_vec(),
            throughput_out: self.world.throughput_out.points().to_vec(),
            latency_p50_ms: self.world.latency_p50.points().to_vec(),
            latency_p99_ms: self.world.latency_p99.points().to_vec(),
        }
    }
}

impl Simulation {
    /// The store a consumer reads from, if it reads from one node.
    pub fn consumer_source(&self, id: ConsumerId) -> Option<NodeRef> {
        let c = &self.clients.consumers[id.index()];
        (self.rabbitmq.consumers.get(&id))
            .map(|q| NodeRef::Queue(*q))
            .or_else(|| {
                let sqs = (self.sqs.pullers.get(&id)).map(|p| NodeRef::SqsQueue(p.queue));
                let pulsar =
                    (self.pulsar.consumers.get(&id)).map(|pc| NodeRef::PulsarTopic(pc.topic));
                let stream = (self.streams.readers.get(&id)).map(|r| NodeRef::Stream(r.stream));
                sqs.or(pulsar).or(stream)
            })
            .or_else(|| self.jms.source_of(id))
            .or_else(|| match &c.spec.source {
                crate::scenario::ConsumerSource::Zmq(a) => {
                    self.zeromq.socket_id(a).map(NodeRef::ZmqSocket)
                }
                _ => None,
            })
    }
}

// ------------------------------------------------------------------ queueing theory

/// Arrivals and services seen before a store's figures count: fewer make C² meaningless.
pub const THEORY_MIN_SAMPLES: u64 = 30;

/// Queueing theory for one store (QT-1…QT-5): what was measured, the model its coefficients of
/// variation call for, and that model's prediction next to the observed values.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoreTheory {
    /// Copies that arrived, and services its consumers started.
    pub arrivals: u64,
    pub services: u64,
    /// λ per second and the squared coefficient of variation of the gaps between arrivals.
    pub lambda: Option<f64>,
    pub ca2: Option<f64>,
    /// μ per second per consumer, from their processing times, and those times' C².
    pub mu: Option<f64>,
    pub cs2: Option<f64>,
    /// Servers: the running consumers reading the store; each processes one copy at a time.
    pub c: u32,
    /// λ/(cμ).
    pub rho: Option<f64>,
    /// Observed wait in the store (seconds): mean, and the batch-means 95% band (mean,
    /// half-width) once there are enough batches.
    pub wq: Option<f64>,
    pub wq_band: Option<(f64, f64)>,
    /// Time-average of the copies waiting, and the share of copies that waited at all.
    pub lq: Option<f64>,
    pub p_wait: Option<f64>,
    /// Once enough is measured: the model and its prediction (`None` when ρ ≥ 1).
    pub model: Option<crate::theory::Model>,
    pub predicted: Option<crate::theory::Prediction>,
    /// λ − cμ when ρ ≥ 1: how many copies per second the queue grows by.
    pub growth_per_sec: Option<f64>,
    /// For a log's reader, whose members each read their own partitions: the model is one
    /// queue per member (`model` with one server), and this is what one queue shared by the
    /// same `c` members would predict instead. `None` for a store, which is that shared queue.
    pub shared: Option<crate::theory::Prediction>,
}

/// Queueing theory for one reader (a Kafka consumer group, a Redis stream group) of a log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReaderTheory {
    pub reader: String,
    /// Its members are separate queues (Kafka); otherwise one queue they share (a stream).
    pub separate: bool,
    pub theory: StoreTheory,
}

impl Simulation {
    /// The first live consumer running the stage that publishes through `p`, if one does.
    fn stage_consumer(&self, p: ProducerId) -> Option<ConsumerId> {
        let role = self.clients.stages.publisher_role(p)?;
        (self.clients.consumers.iter().enumerate())
            .find(|(_, c)| c.spec.stage == Some(role) && c.status != ConsumerStatus::Removed)
            .map(|(i, _)| ConsumerId(i as u32))
    }

    /// Queueing theory for a store copies wait in; `None` for any other node, and for logs
    /// (Kafka, Pulsar, Redis streams), whose records do not wait in a queue.
    pub fn theory(&self, node: NodeRef) -> Option<StoreTheory> {
        use crate::ids::JmsStore;
        use crate::ledger::Store;
        let store = match node {
            NodeRef::Queue(q) => Store::Queue(q),
            NodeRef::SqsQueue(s) => Store::Sqs(s),
            NodeRef::JmsQueue(q) => Store::Jms(JmsStore::Queue(q)),
            NodeRef::JmsSubscription(s) => Store::Jms(JmsStore::Sub(s)),
            _ => return None,
        };
        let readers = (0..self.clients.consumers.len() as u32).map(ConsumerId);
        let readers: Vec<ConsumerId> = readers
            .filter(|c| self.consumer_source(*c) == Some(node))
            .collect();
        Some(self.shared_theory(store, &readers))
    }

    /// One queue that `readers` serve, each one copy at a time (QT-1…QT-5): the meter of
    /// `line`, the processing times of all of them and the running ones as servers.
    fn shared_theory(&self, line: crate::ledger::Store, readers: &[ConsumerId]) -> StoreTheory {
        let empty = crate::kernel::meter::StoreMeter::default();
        let m = self.world.meters.stores.get(&line).unwrap_or(&empty);
        let mut service = crate::theory::Moments::default();
        let mut c = 0;
        for r in readers {
            let consumer = &self.clients.consumers[r.index()];
            service.merge(&consumer.service);
            c += u32::from(consumer.status == ConsumerStatus::Running);
        }
        let enough = m.interarrival.n >= THEORY_MIN_SAMPLES && service.n >= THEORY_MIN_SAMPLES;
        let lambda = m.arrival_rate();
        let mu = service.mean_secs().filter(|s| *s > 0.0).map(|s| 1.0 / s);
        let (ca2, cs2) = (m.interarrival.cv2(), service.cv2());
        let rho = lambda
            .zip(mu)
            .filter(|_| c > 0)
            .map(|(l, u)| crate::theory::utilisation(l, u, c));
        let mut view = StoreTheory {
            arrivals: m.arrivals,
            services: service.n,
            lambda,
            ca2,
            mu,
            cs2,
            c,
            rho,
            wq: m.wait.mean_secs(),
            wq_band: m.wait_batches.band(),
            lq: m.mean_waiting(self.world.now),
            p_wait: (m.wait.n > 0).then(|| m.waited as f64 / m.wait.n as f64),
            model: None,
            predicted: None,
            growth_per_sec: None,
            shared: None,
        };
        if let (true, Some(l), Some(u), Some(a2), Some(s2)) = (enough, lambda, mu, ca2, cs2) {
            let model = crate::theory::Model::choose(c.max(1), a2, s2);
            view.model = Some(model);
            view.predicted = model.predict(l, u, c, a2, s2);
            view.growth_per_sec = (rho.is_none_or(|r| r >= 1.0)).then(|| l - f64::from(c) * u);
        }
        view
    }

    /// Queueing theory for each consumer group reading a Kafka topic or partition, or a Redis
    /// stream (QT-1…QT-5). A stream group's readers share one queue. A Kafka partition is read
    /// by one member of a group, in order, so a group of `c` members is `c` separate queues,
    /// each fed by the partitions its member owns; not one queue shared by `c` servers. Records stay in the log: the wait is from append to the start of
    /// processing, the fetch's trip included.
    pub fn reader_theory(&self, node: NodeRef) -> Vec<ReaderTheory> {
        use crate::theory::{Model, Moments, Prediction};
        let running =
            |c: ConsumerId| self.clients.consumers[c.index()].status == ConsumerStatus::Running;
        let empty = crate::kernel::meter::StoreMeter::default();
        let meter = |l: &crate::ledger::Store| self.world.meters.stores.get(l).unwrap_or(&empty);
        let rate = |l: &crate::ledger::Store| meter(l).arrival_rate().unwrap_or(0.0);
        let now = self.world.now;
        if let NodeRef::Stream(_) = node {
            // A stream group is one queue its readers share, like a store.
            return (self.streams.reader_lines(node).into_iter())
                .map(|(reader, line, readers)| ReaderTheory {
                    reader,
                    separate: false,
                    theory: self.shared_theory(line, &readers),
                })
                .collect();
        }
        let lines = self.kafka.reader_lines(node, running);
        lines
            .into_iter()
            .map(|r| {
                let (mut arrivals, mut gaps, mut wait) = (0, 0, Moments::default());
                let (mut lq, mut waited, mut ca2_sum) = (None::<f64>, 0, 0.0);
                for l in &r.shown {
                    let m = meter(l);
                    arrivals += m.arrivals;
                    gaps += m.interarrival.n;
                    wait.merge(&m.wait);
                    waited += m.waited;
                    if let Some(x) = m.mean_waiting(now) {
                        lq = Some(lq.unwrap_or(0.0) + x);
                    }
                    ca2_sum += rate(l) * m.interarrival.cv2().unwrap_or(1.0);
                }
                let lambda_sum: f64 = r.shown.iter().map(rate).sum();
                let lambda = (lambda_sum > 0.0).then_some(lambda_sum);
                let ca2 = lambda.map(|l| ca2_sum / l);
                let mut service = Moments::default();
                for (c, _) in &r.servers {
                    service.merge(&self.clients.consumers[c.index()].service);
                }
                let mu = service.mean_secs().filter(|s| *s > 0.0).map(|s| 1.0 / s);
                let c = r.servers.len() as u32;
                let rho = lambda
                    .zip(mu)
                    .filter(|_| c > 0)
                    .map(|(l, u)| crate::theory::utilisation(l, u, c));
                let band = match r.shown.as_slice() {
                    [one] => meter(one).wait_batches.band(),
                    _ => None,
                };
                let mut view = StoreTheory {
                    arrivals,
                    services: service.n,
                    lambda,
                    ca2,
                    mu,
                    cs2: service.cv2(),
                    c,
                    rho,
                    wq: wait.mean_secs(),
                    wq_band: band,
                    lq,
                    p_wait: (wait.n > 0).then(|| waited as f64 / wait.n as f64),
                    model: None,
                    predicted: None,
                    growth_per_sec: None,
                    shared: None,
                };
                let enough = gaps >= THEORY_MIN_SAMPLES && service.n >= THEORY_MIN_SAMPLES;
                if let (true, Some(l), Some(u), Some(a2), Some(s2)) =
                    (enough, lambda, mu, ca2, view.cs2)
                {
                    let model = Model::choose(1, a2, s2);
                    view.model = Some(model);
                    // Each member's queue: fed by all its partitions; weighted by the share of
                    // the shown arrivals it serves.
                    let (mut wq, mut lq, mut p_wait) = (0.0, 0.0, Some(0.0));
                    let (mut stable, mut growth) = (c > 0, 0.0);
                    for (_, mine) in &r.servers {
                        let own: f64 = mine.iter().map(rate).sum();
                        let shown: f64 =
                            mine.iter().filter(|x| r.shown.contains(x)).map(rate).sum();
                        if own <= 0.0 {
                            continue;
                        }
                        match model.predict(own, u, 1, a2, s2) {
                            Some(p) => {
                                wq += shown / l * p.wq;
                                lq += shown / own * p.lq;
                                p_wait = p_wait.zip(p.p_wait).map(|(sum, x)| sum + shown / l * x);
                            }
                            None => {
                                stable = false;
                                growth += own - u;
                            }
                        }
                    }
                    view.predicted = stable.then_some(Prediction { wq, lq, p_wait });
                    view.growth_per_sec = (!stable && c > 0).then_some(growth);
                    view.shared = Model::choose(c.max(1), a2, s2).predict(l, u, c, a2, s2);
                }
                ReaderTheory {
                    reader: r.reader,
                    separate: true,
                    theory: view,
                }
            })
            .collect()
    }
}
