//! Read-only views of the simulation for panels, the canvas and reports.

use crate::clients::ConsumerStatus;
use crate::engine::Simulation;
use crate::families::rabbitmq::Destination;
use crate::ids::{ChannelId, ConsumerId, ExchangeId, MessageId, ProducerId, QueueId};
use crate::ledger::Ledger;
use crate::message::Slot;
use crate::scenario::pulsar::{Retention, SubscriptionType};
use crate::scenario::{AckMode, ExchangeType, Overflow, QueueType};
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
    pub group: Option<u32>,
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
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopicView {
    pub id: u32,
    pub name: String,
    pub partitions: Vec<PartitionView>,
    pub retention_ms: f64,
    pub retention_bytes: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupView {
    pub id: u32,
    pub name: String,
    pub assignor: crate::assignor::Assignor,
    pub rebalancing: bool,
    pub generation: u32,
    /// Each member and the partitions it owns; idle members own none (KAF-8).
    pub members: Vec<(ConsumerId, Vec<(u32, u32)>)>,
    pub lag: u64,
    pub processed: u64,
    pub duplicates: u64,
    pub skipped: u64,
    pub rebalances: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceView {
    pub id: u32,
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
    pub transits: Vec<TransitView>,
    pub transits_total: usize,
    pub latency: LatencyView,
    pub next_event: Option<SimTime>,
    /// Apache Pulsar, when the scenario uses it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pulsar: Option<PulsarView>,
}

impl Simulation {
    pub(crate) fn chip(&self, slot: Slot) -> Chip {
        Chip::of(&self.world, slot)
    }

    pub fn snapshot(&self) -> Snapshot {
        let now = self.world.now.0;
        let us_to_ms = |us: u64| us as f64 / 1_000.0;
        let queues = self
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
            })
            .collect();
        let exchanges = self
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
        let consumers = self
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
                    source: (self.rabbitmq.consumers.get(&ConsumerId(i as u32)))
                        .map(|q| NodeRef::Queue(*q))
                        .or_else(|| {
                            let pc = self.pulsar.consumers.get(&ConsumerId(i as u32))?;
                            Some(NodeRef::PulsarTopic(pc.topic))
                        }),
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
                    prefetch: c.spec.prefetch,
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
        let producers = self
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
        let h = &self.world.latency_hist;
        Snapshot {
            time: self.world.now,
            ledger: self.world.ledger.clone(),
            balanced: self.world.ledger.is_balanced(),
            exchanges,
            queues,
            consumers,
            producers,
            channels: self.redis.channels.clone(),
            topics: self.topic_views(),
            groups: self.group_views(),
            services: self.service_views(),
            transits,
            transits_total: self.wire.moving.len(),
            latency: LatencyView {
                count: h.count(),
                mean_ms: h.mean() / 1_000.0,
                p50_ms: us_to_ms(h.quantile(0.50)),
                p95_ms: us_to_ms(h.quantile(0.95)),
                p99_ms: us_to_ms(h.quantile(0.99)),
            },
            next_event: self.next_event_time(),
            pulsar: self.pulsar_view(),
        }
    }
}

impl Simulation {
    fn topic_views(&self) -> Vec<TopicView> {
        self.kafka
            .topics
            .iter()
            .enumerate()
            .map(|(t, topic)| (t, topic, self.readers_of(t as u32)))
            .map(|(t, topic, readers)| TopicView {
                id: t as u32,
                name: topic.spec.name.clone(),
                retention_ms: topic.spec.retention_ms,
                retention_bytes: topic.spec.retention_bytes,
                partitions: topic
                    .partitions
                    .iter()
                    .enumerate()
                    .map(|(p, log)| {
                        let tp = crate::assignor::TopicPartition {
                            topic: t as u32,
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
                                .map(|s| (s.base, s.records, s.bytes))
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
                                        lag: log.end_offset()
                                            - committed
                                                .unwrap_or(log.start_offset())
                                                .min(log.end_offset()),
                                    }
                                })
                                .collect(),
                        }
                    })
                    .collect(),
            })
            .collect()
    }

    /// The groups reading a topic, found once per topic rather than once per partition.
    fn readers_of(&self, topic: u32) -> Vec<&crate::families::kafka::Group> {
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
                id: i as u32,
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
                lag: self.group_lag(i as u32),
                processed: g.processed,
                duplicates: g.duplicates,
                skipped: g.skipped,
                rebalances: g.rebalances,
            })
            .collect()
    }

    /// Sum over the group's partitions of end offset − committed offset (KAF-18). Kept as a
    /// running total, so sampling it every 100 ms costs nothing; debug builds recount it.
    pub fn group_lag(&self, gid: u32) -> u64 {
        let lag = self.kafka.groups[gid as usize].lag;
        debug_assert_eq!(lag, self.kafka.recount_lag(gid), "group {gid} lag");
        lag
    }

    fn service_views(&self) -> Vec<ServiceView> {
        self.service
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| ServiceView {
                id: i as u32,
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

fn record_chip(r: &crate::log::Record) -> Chip {
    Chip {
        msg: r.msg,
        producer: (r.producer.0 != u32::MAX).then_some(r.producer),
        priority: None,
        redelivered: false,
        poison: false,
        dead_lettered: false,
        expired: false,
    }
}

/// Time series for the dashboard's charts: (time in µs, value) points, bounded in length.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Charts {
    /// Ready + Unacked per queue.
    pub queue_depth: Vec<(String, Vec<(u64, f64)>)>,
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
