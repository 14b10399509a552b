//! Kafka replication: broker nodes, replicas with a leader and fetching followers, the ISR, the
//! high watermark, `acks` and `min.insync.replicas`, the controller's leader election and the
//! truncation it causes, producer retries and idempotence (KAF-19..KAF-26). Present only when the
//! scenario has a `kafka` cluster, so single-broker runs keep their traces.
//!
//! The leader's log is the partition's `PartitionLog`; a follower's log is a prefix of it, kept as
//! its log end offset (LEO). An election truncates the log to the new leader's LEO.

use super::{Kafka, KafkaWork, Topic, TopicPartition};
use crate::clients::{ClientWork, Cx};
use crate::event::{EventKind, KafkaRepEvent, ProduceError};
use crate::ids::{MessageId, ProducerId, TopicId};
use crate::kernel::ms_to_us;
use crate::ledger::{CopyState, DropReason};
use crate::message::{MessageCopy, Slot};
use crate::scenario::kafka::{Acks, KafkaClusterSpec, KafkaProducerSpec};
use crate::time::SimTime;
use std::collections::{BTreeMap, BTreeSet};

/// A slowed broker's fetches wait at most an hour each.
const MAX_FETCH_DELAY_MS: f64 = 3_600_000.0;

#[derive(Clone, Debug)]
pub(crate) struct Cluster {
    pub spec: KafkaClusterSpec,
    pub brokers: Vec<Broker>,
}

impl Cluster {
    pub fn new(spec: KafkaClusterSpec) -> Cluster {
        let broker = Broker {
            alive: true,
            fenced: false,
            incarnation: 0,
            fetch_delay_us: 0,
            isolated: false,
        };
        Cluster {
            brokers: vec![broker; spec.brokers as usize],
            spec,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Broker {
    pub alive: bool,
    /// The controller has noticed the crash: the broker leads nothing and is in no ISR it
    /// could leave.
    pub fenced: bool,
    /// Bumped by each crash, isolation and heal, so a stale fencing is ignored.
    pub incarnation: u32,
    /// Extra time each of its follower fetches takes (`SlowKafkaBroker`).
    pub fetch_delay_us: u64,
    /// A network partition cuts it off from the other brokers and the controller; clients
    /// still reach it (`IsolateKafkaBroker`).
    pub isolated: bool,
}

impl Broker {
    pub fn serving(self) -> bool {
        self.alive && !self.fenced
    }
}

/// One replica of a partition, on one broker.
#[derive(Clone, Debug)]
pub(crate) struct Replica {
    pub broker: u32,
    /// Its log end offset as the leader last learnt it (the leader's own: the log's end).
    pub leo: u64,
    /// Kafka's `lastCaughtUpTimeMs` (KAF-19).
    pub last_caught_up: SimTime,
    last_fetch_at: SimTime,
    last_fetch_leader_leo: u64,
    /// Its fetch waits at the leader for the next append.
    parked: bool,
    /// Bumped whenever its fetch loop restarts, so the old loop's messages are ignored.
    fetch_gen: u32,
    /// A crashed broker's replica lost its tail to an election; it truncates to this on rejoining.
    cut_to: Option<u64>,
}

/// A record appended for an `acks=all` request that has not been answered yet (KAF-21).
#[derive(Clone, Debug)]
pub(crate) struct Unacked {
    /// What the producer would send again.
    copy: MessageCopy,
    /// The request is still open; false once it failed (the producer retries separately).
    waiting: bool,
    /// When the leader appended it, for `request.timeout.ms`.
    at: SimTime,
}

/// An isolated old leader after the controller elected another: it has not heard, and keeps
/// taking writes from producers that still think it leads. What it holds past the new leader's
/// log is lost when it heals (KAF-21, KAF-24).
#[derive(Clone, Debug)]
pub(crate) struct StaleLeader {
    pub broker: u32,
    /// Its own records by offset, with the open `acks=all` request of each one not acked.
    records: BTreeMap<u64, (MessageId, Option<Unacked>)>,
    /// Its next offset.
    end: u64,
    elected_at: SimTime,
    /// Producers that learnt the new leader from a failed request.
    informed: BTreeSet<ProducerId>,
}

impl StaleLeader {
    pub fn len(&self) -> u64 {
        self.records.len() as u64
    }
}

/// A partition's replicas, leader, ISR and the requests its leader has open.
#[derive(Clone, Debug)]
pub(crate) struct Replicas {
    /// In assignment order, which the controller's election follows (KAF-23).
    pub replicas: Vec<Replica>,
    pub leader: Option<u32>,
    pub epoch: u32,
    pub isr: BTreeSet<u32>,
    /// Records the producer has not been told were written, by offset. A truncated record not
    /// listed here had been acknowledged (acks 0 or 1, or all): its loss is `lost_on_failover`.
    unacked: BTreeMap<u64, Unacked>,
    /// Records of idempotent producers in the log, by message id (KAF-25).
    written: BTreeMap<MessageId, u64>,
    /// Records idempotent producers are retrying to this partition: a later record of the same
    /// producer waits behind them (its sequence would be out of order, KAF-25).
    retrying: BTreeSet<(ProducerId, MessageId)>,
    /// Open transactions: each producer's record offsets so far (KAF-27).
    txns: BTreeMap<ProducerId, Vec<u64>>,
    /// Transactions each producer has ended here, to pick the ones that abort.
    txns_ended: BTreeMap<ProducerId, u32>,
    /// Offsets of aborted transactions' records, which `read_committed` skips (KAF-27).
    pub aborted: BTreeSet<u64>,
    /// The isolated old leader, while one still thinks it leads.
    pub stale: Option<StaleLeader>,
}

impl Replicas {
    /// The last stable offset: below the first open transaction and the HW (KAF-27).
    pub fn last_stable_offset(&self, hw: u64) -> u64 {
        (self.txns.values())
            .filter_map(|offsets| offsets.first().copied())
            .fold(hw, u64::min)
    }

    fn replica(&mut self, broker: u32) -> Option<&mut Replica> {
        self.replicas.iter_mut().find(|r| r.broker == broker)
    }
}

/// Partition p's replicas: brokers (p + i) mod N, Kafka's assignment with its random start
/// index fixed at 0.
pub(crate) fn assignment(partition: u32, rf: u32, brokers: u32) -> Vec<u32> {
    (0..rf).map(|i| (partition + i) % brokers).collect()
}

/// Work the replication part schedules.
#[derive(Clone, Debug)]
pub(crate) enum ReplicationWork {
    /// A follower's fetch request reaches the leader, carrying its LEO.
    FetchArrives {
        tp: TopicPartition,
        broker: u32,
        offset: u64,
        gen: u32,
    },
    /// The leader's answer reaches the follower: its log now ends at `upto`.
    FetchReturns {
        tp: TopicPartition,
        broker: u32,
        upto: u64,
        gen: u32,
    },
    /// The leader's `isr-expiration` task, every `replica.lag.time.max.ms / 2` (KAF-19).
    IsrCheck { topic: TopicId },
    /// The controller's broker session timed out.
    Fence { broker: u32, incarnation: u32 },
    /// `request.timeout.ms` after an `acks=all` append at an isolated leader.
    RequestTimeout { tp: TopicPartition, msg: MessageId },
}

impl Kafka {
    /// A partition's replication, if the cluster replicates it.
    pub(crate) fn replicas(&self, tp: TopicPartition) -> Option<&Replicas> {
        self.topics[tp.topic.index()]
            .replicas
            .get(tp.partition as usize)
    }

    pub(crate) fn readable(&self, tp: TopicPartition) -> bool {
        readable(&self.topics, self.cluster.as_ref(), tp)
    }

    fn producer_spec_of(spec: Option<&KafkaProducerSpec>) -> KafkaProducerSpec {
        spec.cloned().unwrap_or_default()
    }
}

/// Whether the partition's leader is up, so that it takes records and fetches.
pub(crate) fn readable(topics: &[Topic], cluster: Option<&Cluster>, tp: TopicPartition) -> bool {
    let Some(r) = topics[tp.topic.index()].replicas.get(tp.partition as usize) else {
        return true;
    };
    let cluster = cluster.expect("replicas need a cluster");
    r.leader.is_some_and(|b| cluster.brokers[b as usize].alive)
}

fn rep(e: KafkaRepEvent) -> EventKind {
    EventKind::KafkaRep(e)
}

impl<W: From<KafkaWork> + From<ClientWork>> Cx<'_, &mut Kafka, W> {
    /// Sets up a new topic's replicas and starts its followers' fetch loops.
    pub(crate) fn add_replicas(&mut self, topic: TopicId) {
        let Some(cluster) = &self.family.cluster else {
            return;
        };
        let n = cluster.spec.brokers;
        let lag = ms_to_us(cluster.spec.replica_lag_time_max_ms);
        let rf = self.family.topics[topic.index()]
            .spec
            .replication_factor
            .unwrap_or(1);
        let now = self.world.now;
        for p in 0..self.family.topics[topic.index()].partitions.len() as u32 {
            let t = &mut self.family.topics[topic.index()];
            let brokers = assignment(p, rf, n);
            t.partitions[p as usize].set_high_watermark(0);
            t.replicas.push(Replicas {
                leader: Some(brokers[0]),
                epoch: 0,
                isr: brokers.iter().copied().collect(),
                replicas: brokers
                    .iter()
                    .map(|&broker| Replica {
                        broker,
                        leo: 0,
                        last_caught_up: now,
                        last_fetch_at: now,
                        last_fetch_leader_leo: 0,
                        parked: false,
                        fetch_gen: 0,
                        cut_to: None,
                    })
                    .collect(),
                unacked: BTreeMap::new(),
                written: BTreeMap::new(),
                retrying: BTreeSet::new(),
                txns: BTreeMap::new(),
                txns_ended: BTreeMap::new(),
                aborted: BTreeSet::new(),
                stale: None,
            });
            self.start_fetching(TopicPartition {
                topic,
                partition: p,
            });
        }
        if rf > 1 {
            let at = now.plus((lag / 2).max(1));
            self.world.schedule(
                at,
                KafkaWork::Replication(ReplicationWork::IsrCheck { topic }),
            );
        }
    }

    /// (Re)starts the fetch loop of every live follower of the partition's leader.
    fn start_fetching(&mut self, tp: TopicPartition) {
        let cluster = self.family.cluster.as_ref().expect("a cluster");
        let brokers: Vec<bool> = cluster.brokers.iter().map(|b| b.serving()).collect();
        let t = &mut self.family.topics[tp.topic.index()];
        let r = &mut t.replicas[tp.partition as usize];
        let Some(leader) = r.leader else {
            return;
        };
        let at = self.world.now.plus(self.world.latency);
        let mut sends = Vec::new();
        for rp in r.replicas.iter_mut().filter(|rp| rp.broker != leader) {
            rp.fetch_gen += 1;
            rp.parked = false;
            if brokers[rp.broker as usize] {
                sends.push((rp.broker, rp.leo, rp.fetch_gen));
            }
        }
        for (broker, offset, gen) in sends {
            self.world.schedule(
                at,
                KafkaWork::Replication(ReplicationWork::FetchArrives {
                    tp,
                    broker,
                    offset,
                    gen,
                }),
            );
        }
    }

    pub(crate) fn run_replication(&mut self, work: ReplicationWork) {
        match work {
            ReplicationWork::FetchArrives {
                tp,
                broker,
                offset,
                gen,
            } => self.fetch_arrives(tp, broker, offset, gen),
            ReplicationWork::FetchReturns {
                tp,
                broker,
                upto,
                gen,
            } => self.fetch_returns(tp, broker, upto, gen),
            ReplicationWork::IsrCheck { topic } => self.isr_check(topic),
            ReplicationWork::Fence {
                broker,
                incarnation,
            } => {
                let b = self.family.cluster.as_ref().expect("a cluster").brokers[broker as usize];
                if b.incarnation == incarnation && (!b.alive || b.isolated) && !b.fenced {
                    self.fence(broker);
                }
            }
            ReplicationWork::RequestTimeout { tp, msg } => self.request_timeout(tp, msg),
        }
    }

    /// A network partition lies between the follower on `broker` and the partition's leader.
    fn cut_off(&self, tp: TopicPartition, broker: u32) -> bool {
        let brokers = &self.family.cluster.as_ref().expect("a cluster").brokers;
        let leader = self.family.topics[tp.topic.index()].replicas[tp.partition as usize].leader;
        leader.is_some_and(|l| {
            l != broker && (brokers[l as usize].isolated || brokers[broker as usize].isolated)
        })
    }

    fn leader_log_end(&self, tp: TopicPartition) -> u64 {
        self.family.topics[tp.topic.index()].partitions[tp.partition as usize].end_offset()
    }

    /// The leader takes a follower's fetch: it learns the follower's LEO, updates the ISR and
    /// the HW, and answers at once if it has more, else holds the request (KAF-19, KAF-20).
    fn fetch_arrives(&mut self, tp: TopicPartition, broker: u32, offset: u64, gen: u32) {
        if !self.family.readable(tp) || self.cut_off(tp, broker) {
            return; // the leader is down or out of reach: the loop restarts later
        }
        let now = self.world.now;
        let end = self.leader_log_end(tp);
        let hw =
            self.family.topics[tp.topic.index()].partitions[tp.partition as usize].high_watermark();
        let r = &mut self.family.topics[tp.topic.index()].replicas[tp.partition as usize];
        let Some(rp) = r.replica(broker).filter(|rp| rp.fetch_gen == gen) else {
            return;
        };
        rp.leo = offset;
        // Kafka's `updateFetchState`: caught up now, or as of the previous fetch.
        if offset >= end {
            rp.last_caught_up = now;
        } else if offset >= rp.last_fetch_leader_leo {
            rp.last_caught_up = rp.last_fetch_at;
        }
        rp.last_fetch_leader_leo = end;
        rp.last_fetch_at = now;
        let respond = offset < end;
        rp.parked = !respond;
        if !r.isr.contains(&broker) && offset >= hw {
            r.isr.insert(broker);
            let isr = r.isr.iter().copied().collect();
            self.world.emit(rep(KafkaRepEvent::KafkaIsrExpanded {
                topic: tp.topic,
                partition: tp.partition,
                broker,
                isr,
            }));
        }
        self.advance_hw(tp);
        if respond {
            self.answer_fetch(tp, broker, end, gen);
        }
    }

    fn answer_fetch(&mut self, tp: TopicPartition, broker: u32, upto: u64, gen: u32) {
        let at = self.world.now.plus(self.world.latency);
        self.world.schedule(
            at,
            KafkaWork::Replication(ReplicationWork::FetchReturns {
                tp,
                broker,
                upto,
                gen,
            }),
        );
    }

    /// The follower appends what it fetched and fetches again (later on a slowed broker).
    fn fetch_returns(&mut self, tp: TopicPartition, broker: u32, upto: u64, gen: u32) {
        if self.cut_off(tp, broker) {
            return;
        }
        let delay = self.family.cluster.as_ref().expect("a cluster").brokers[broker as usize]
            .fetch_delay_us;
        let r = &mut self.family.topics[tp.topic.index()].replicas[tp.partition as usize];
        let Some(rp) = r.replica(broker).filter(|rp| rp.fetch_gen == gen) else {
            return;
        };
        rp.leo = rp.leo.max(upto);
        let offset = rp.leo;
        let at = self.world.now.plus(self.world.latency).plus(delay);
        self.world.schedule(
            at,
            KafkaWork::Replication(ReplicationWork::FetchArrives {
                tp,
                broker,
                offset,
                gen,
            }),
        );
    }

    /// HW = the smallest LEO in the ISR (KAF-20). Requests waiting for it are answered:
    /// success, or NotEnoughReplicasAfterAppend if the ISR is now below the minimum (KAF-22).
    fn advance_hw(&mut self, tp: TopicPartition) {
        let t = &mut self.family.topics[tp.topic.index()];
        let min_isr = t.spec.min_insync_replicas.unwrap_or(1) as usize;
        let log = &mut t.partitions[tp.partition as usize];
        let (start, end, old) = (log.start_offset(), log.end_offset(), log.high_watermark());
        let r = &mut t.replicas[tp.partition as usize];
        let Some(leader) = r.leader else {
            return;
        };
        let hw = r
            .replicas
            .iter()
            .filter(|rp| r.isr.contains(&rp.broker))
            .map(|rp| if rp.broker == leader { end } else { rp.leo })
            .min()
            .unwrap_or(end)
            .min(end);
        if hw <= old {
            return;
        }
        log.set_high_watermark(hw);
        let enough = r.isr.len() >= min_isr;
        let rest = r.unacked.split_off(&hw);
        let done = std::mem::replace(&mut r.unacked, rest);
        self.family.offsets_moved(tp, start, old);
        for (offset, u) in done.into_iter().filter(|(_, u)| u.waiting) {
            if enough {
                self.world.emit(rep(KafkaRepEvent::KafkaProduceAcked {
                    msg: u.copy.msg,
                    topic: tp.topic,
                    partition: tp.partition,
                    offset: offset as i64,
                }));
            } else {
                self.resend(tp, u.copy, ProduceError::NotEnoughReplicasAfterAppend);
            }
        }
        self.wake_members(tp);
    }

    /// The leader drops followers not caught up for `replica.lag.time.max.ms` (KAF-19).
    fn isr_check(&mut self, topic: TopicId) {
        let cluster = self.family.cluster.as_ref().expect("a cluster");
        let lag = ms_to_us(cluster.spec.replica_lag_time_max_ms);
        // An isolated leader's ISR change cannot reach the controller, so it never happens.
        let alive: Vec<bool> = (cluster.brokers.iter())
            .map(|b| b.alive && !b.isolated)
            .collect();
        let now = self.world.now;
        for p in 0..self.family.topics[topic.index()].partitions.len() as u32 {
            let tp = TopicPartition {
                topic,
                partition: p,
            };
            let end = self.leader_log_end(tp);
            let r = &self.family.topics[topic.index()].replicas[p as usize];
            let Some(leader) = r.leader.filter(|b| alive[*b as usize]) else {
                continue;
            };
            let out: Vec<u32> = r
                .replicas
                .iter()
                .filter(|rp| rp.broker != leader && r.isr.contains(&rp.broker))
                .filter(|rp| rp.leo < end && now.since(rp.last_caught_up) > lag)
                .map(|rp| rp.broker)
                .collect();
            for b in out {
                self.leave_isr(tp, b);
            }
            self.advance_hw(tp);
        }
        let at = now.plus((lag / 2).max(1));
        self.world.schedule(
            at,
            KafkaWork::Replication(ReplicationWork::IsrCheck { topic }),
        );
    }

    fn leave_isr(&mut self, tp: TopicPartition, broker: u32) {
        let r = &mut self.family.topics[tp.topic.index()].replicas[tp.partition as usize];
        if r.isr.remove(&broker) {
            let isr = r.isr.iter().copied().collect();
            self.world.emit(rep(KafkaRepEvent::KafkaIsrShrunk {
                topic: tp.topic,
                partition: tp.partition,
                broker,
                isr,
            }));
        }
    }

    // ------------------------------------------------------------ producing

    fn producer_spec(&self, slot: Slot) -> KafkaProducerSpec {
        self.spec_of(self.world.copies.get(slot).producer)
    }

    fn spec_of(&self, p: Option<ProducerId>) -> KafkaProducerSpec {
        Kafka::producer_spec_of(p.map(|p| &self.clients.producers[p.index()].spec.kafka))
    }

    fn leader_isolated(&self, tp: TopicPartition) -> bool {
        let cluster = self.family.cluster.as_ref().expect("a cluster");
        let r = &self.family.topics[tp.topic.index()].replicas[tp.partition as usize];
        r.leader
            .is_some_and(|l| cluster.brokers[l as usize].isolated)
    }

    /// A producer that has not learnt of the election still sends to the isolated old leader,
    /// which takes the record: acks 0 and 1 are answered, acks=all waits for a HW that cannot
    /// move. It learns from a failed request, or at its next metadata refresh (every
    /// `metadata.max.age.ms`, counted from time 0).
    fn sent_to_stale_leader(
        &mut self,
        slot: Slot,
        tp: TopicPartition,
        spec: &KafkaProducerSpec,
    ) -> bool {
        let now = self.world.now;
        let age = ms_to_us(spec.metadata_max_age_ms.unwrap_or(300_000.0)).max(1);
        let copy = self.world.copies.get(slot).clone();
        let (msg, producer) = (copy.msg, copy.producer.unwrap_or(ProducerId(u32::MAX)));
        let r = &mut self.family.topics[tp.topic.index()].replicas[tp.partition as usize];
        let Some(z) = r.stale.as_mut() else {
            return false;
        };
        if z.informed.contains(&producer) || now.0 / age != z.elected_at.0 / age {
            return false;
        }
        let offset = z.end;
        z.end += 1;
        let unacked = (spec.acks == Acks::All).then_some(Unacked {
            copy,
            waiting: true,
            at: now,
        });
        z.records.insert(offset, (msg, unacked));
        let broker = z.broker;
        self.world.set_state(slot, CopyState::Retained);
        self.world.copies.release(slot);
        self.world
            .emit(rep(KafkaRepEvent::KafkaStaleLeaderAppended {
                msg,
                broker,
                topic: tp.topic,
                partition: tp.partition,
                offset,
            }));
        let acked = match spec.acks {
            Acks::Zero => -1,
            Acks::One => offset as i64,
            Acks::All => {
                self.time_out_after(tp, msg, spec, now);
                return true;
            }
        };
        self.world.emit(rep(KafkaRepEvent::KafkaProduceAcked {
            msg,
            topic: tp.topic,
            partition: tp.partition,
            offset: acked,
        }));
        true
    }

    /// The producer gives up waiting `request.timeout.ms` after `sent`.
    fn time_out_after(
        &mut self,
        tp: TopicPartition,
        msg: MessageId,
        spec: &KafkaProducerSpec,
        sent: SimTime,
    ) {
        let timeout = ms_to_us(spec.request_timeout_ms.unwrap_or(30_000.0));
        let at = sent.plus(timeout).max(self.world.now);
        self.world.schedule(
            at,
            KafkaWork::Replication(ReplicationWork::RequestTimeout { tp, msg }),
        );
    }

    /// An `acks=all` request still open fails with a timeout: the record stays where it is and
    /// the producer, now looking for the leader again, retries it (KAF-22).
    fn request_timeout(&mut self, tp: TopicPartition, msg: MessageId) {
        let r = &mut self.family.topics[tp.topic.index()].replicas[tp.partition as usize];
        let stale = r.stale.iter_mut().flat_map(|z| z.records.values_mut());
        let Some(u) = (r.unacked.values_mut())
            .chain(stale.filter_map(|(_, u)| u.as_mut()))
            .find(|u| u.waiting && u.copy.msg == msg)
        else {
            return;
        };
        u.waiting = false;
        let copy = u.copy.clone();
        if let (Some(z), Some(p)) = (r.stale.as_mut(), copy.producer) {
            z.informed.insert(p);
        }
        self.resend(tp, copy, ProduceError::RequestTimeout);
    }

    /// Whether the partition's leader takes the arriving record. A refusal sends it back to the
    /// producer (KAF-21, KAF-22); a retry an idempotent producer already wrote is acked without
    /// a second append (KAF-25).
    pub(crate) fn admit(&mut self, slot: Slot, tp: TopicPartition) -> bool {
        if self.family.replicas(tp).is_none() {
            return true;
        }
        let spec = self.producer_spec(slot);
        if self.sent_to_stale_leader(slot, tp, &spec) {
            return false;
        }
        let r = self.family.replicas(tp).expect("replicas");
        let min_isr = self.family.topics[tp.topic.index()]
            .spec
            .min_insync_replicas
            .unwrap_or(1) as usize;
        let c = self.world.copies.get(slot);
        let (msg, producer) = (c.msg, c.producer.unwrap_or(ProducerId(u32::MAX)));
        let earlier = (producer, MessageId(0))..(producer, msg);
        let error = if !self.family.readable(tp) {
            Some(ProduceError::NotLeader)
        } else if spec.acks == Acks::All && r.isr.len() < min_isr {
            Some(ProduceError::NotEnoughReplicas)
        } else if spec.idempotent() && r.retrying.range(earlier).next().is_some() {
            Some(ProduceError::OutOfOrderSequence)
        } else {
            None
        };
        if let Some(error) = error {
            self.refuse(slot, tp, error, &spec);
            return false;
        }
        let r = &mut self.family.topics[tp.topic.index()].replicas[tp.partition as usize];
        r.retrying.remove(&(producer, msg));
        if let Some(&offset) = r.written.get(&msg).filter(|_| spec.idempotent()) {
            // Same producer id and sequence: the broker answers with the first write (KAF-25).
            self.world.emit(rep(KafkaRepEvent::KafkaProduceAcked {
                msg,
                topic: tp.topic,
                partition: tp.partition,
                offset: offset as i64,
            }));
            self.world.drop_copy(slot, DropReason::Deduplicated);
            return false;
        }
        true
    }

    /// The producer hears the error and retries the same copy, or gives up.
    fn refuse(
        &mut self,
        slot: Slot,
        tp: TopicPartition,
        error: ProduceError,
        spec: &KafkaProducerSpec,
    ) {
        let c = self.world.copies.get(slot);
        let (msg, producer) = (c.msg, c.producer.unwrap_or(ProducerId(u32::MAX)));
        let backoff = ms_to_us(spec.retry_backoff_ms.unwrap_or(100.0));
        let timeout = ms_to_us(spec.delivery_timeout_ms.unwrap_or(120_000.0));
        let retry_at = self.world.now.plus(2 * self.world.latency + backoff);
        let retry = spec.retries() && retry_at.since(c.published_at) < timeout;
        self.world.emit(rep(KafkaRepEvent::KafkaProduceFailed {
            msg,
            topic: tp.topic,
            partition: tp.partition,
            error,
            retry,
        }));
        let r = &mut self.family.topics[tp.topic.index()].replicas[tp.partition as usize];
        if retry && spec.idempotent() {
            r.retrying.insert((producer, msg));
        } else {
            r.retrying.remove(&(producer, msg));
        }
        if retry {
            self.world.schedule(
                retry_at,
                KafkaWork::ArriveAtPartition {
                    slot,
                    topic: tp.topic,
                    partition: tp.partition,
                },
            );
        } else if spec.acks == Acks::Zero {
            self.world.drop_copy(slot, DropReason::BrokerDown);
        } else {
            self.world.drop_copy(slot, DropReason::DeliveryTimeout);
        }
    }

    /// A request whose record is already in the log failed: the producer sends a new copy, which
    /// duplicates the record unless the producer is idempotent (KAF-22, KAF-26).
    fn resend(&mut self, tp: TopicPartition, mut copy: MessageCopy, error: ProduceError) {
        copy.state = CopyState::InFlight;
        self.world.ledger.retry_copies += 1;
        let Some(slot) = self.world.new_copy_within_capacity(copy) else {
            return;
        };
        let spec = self.producer_spec(slot);
        self.refuse(slot, tp, error, &spec);
    }

    /// After the leader appended the record at `offset`: acks=0 and acks=1 are answered now,
    /// acks=all when the HW passes it; waiting followers get it (KAF-20, KAF-21).
    pub(crate) fn appended(&mut self, slot: Slot, tp: TopicPartition, offset: u64) {
        if self.family.replicas(tp).is_none() {
            return;
        }
        let spec = self.producer_spec(slot);
        let copy = self.world.copies.get(slot).clone();
        let msg = copy.msg;
        let r = &mut self.family.topics[tp.topic.index()].replicas[tp.partition as usize];
        if spec.idempotent() {
            r.written.insert(msg, offset);
        }
        let acked = match spec.acks {
            Acks::Zero => Some(-1),
            Acks::One => Some(offset as i64),
            Acks::All => {
                r.unacked.insert(
                    offset,
                    Unacked {
                        copy,
                        waiting: true,
                        at: self.world.now,
                    },
                );
                None
            }
        };
        let parked: Vec<(u32, u32)> = r
            .replicas
            .iter_mut()
            .filter(|rp| rp.parked)
            .map(|rp| {
                rp.parked = false;
                (rp.broker, rp.fetch_gen)
            })
            .collect();
        if let Some(tx) = &spec.transactions {
            let producer = self
                .world
                .copies
                .get(slot)
                .producer
                .unwrap_or(ProducerId(u32::MAX));
            let r = &mut self.family.topics[tp.topic.index()].replicas[tp.partition as usize];
            let offsets = r.txns.entry(producer).or_default();
            offsets.push(offset);
            if offsets.len() >= tx.records as usize {
                // The producer ends the transaction; its marker is written at once.
                let offsets = r.txns.remove(&producer).unwrap_or_default();
                let n = r.txns_ended.entry(producer).or_default();
                *n += 1;
                let committed = tx.abort_every == 0 || *n % tx.abort_every != 0;
                if !committed {
                    r.aborted.extend(offsets.iter().copied());
                }
                self.world.emit(rep(KafkaRepEvent::KafkaTxnEnded {
                    producer: producer.0,
                    topic: tp.topic,
                    partition: tp.partition,
                    records: offsets.len() as u64,
                    committed,
                }));
                self.wake_members(tp);
            }
        }
        if self.family.aborted_msgs.contains(&msg) {
            // A stage's aborted transaction: the coordinator's marker follows its record.
            let r = &mut self.family.topics[tp.topic.index()].replicas[tp.partition as usize];
            r.aborted.insert(offset);
            self.world.emit(rep(KafkaRepEvent::KafkaTxnEnded {
                producer: self
                    .world
                    .copies
                    .get(slot)
                    .producer
                    .map_or(u32::MAX, |p| p.0),
                topic: tp.topic,
                partition: tp.partition,
                records: 1,
                committed: false,
            }));
        }
        if let Some(offset) = acked {
            self.world.emit(rep(KafkaRepEvent::KafkaProduceAcked {
                msg,
                topic: tp.topic,
                partition: tp.partition,
                offset,
            }));
        } else if self.leader_isolated(tp) {
            // Its followers cannot fetch and its ISR cannot shrink: the HW stays (KAF-20).
            let now = self.world.now;
            self.time_out_after(tp, msg, &spec, now);
        }
        for (broker, gen) in parked {
            self.answer_fetch(tp, broker, offset + 1, gen);
        }
        self.advance_hw(tp);
    }

    // ------------------------------------------------------------ brokers and the controller

    fn check_broker(&self, broker: u32) -> Result<(), crate::command::CommandError> {
        let n = self.family.cluster.as_ref().map_or(0, |c| c.brokers.len());
        if (broker as usize) < n {
            Ok(())
        } else {
            Err(crate::command::CommandError::NotApplicable {
                reason: format!("no Kafka broker {broker}: the cluster has {n}"),
            })
        }
    }

    /// The broker's follower fetches take `delay_ms` longer from now on (KAF-19): a fetch on
    /// its way keeps its time, the next ones wait.
    pub(crate) fn slow_broker(
        &mut self,
        broker: u32,
        delay_ms: f64,
    ) -> Result<(), crate::command::CommandError> {
        self.check_broker(broker)?;
        if !(0.0..=MAX_FETCH_DELAY_MS).contains(&delay_ms) {
            return Err(crate::command::CommandError::NotApplicable {
                reason: format!(
                    "delay_ms must be between 0 and {MAX_FETCH_DELAY_MS}, not {delay_ms}"
                ),
            });
        }
        let cluster = self.family.cluster.as_mut().expect("a cluster");
        cluster.brokers[broker as usize].fetch_delay_us = ms_to_us(delay_ms);
        Ok(())
    }

    /// A network partition cuts the broker off from the other brokers and the controller.
    /// Fetches across it are lost, its ISR changes cannot reach the controller, and the
    /// controller fences it after `broker.session.timeout.ms` (KAF-19, KAF-23). Clients still
    /// reach it, so `acks=all` requests it leads wait for `request.timeout.ms`.
    pub(crate) fn isolate_broker(
        &mut self,
        broker: u32,
    ) -> Result<(), crate::command::CommandError> {
        self.check_broker(broker)?;
        let cluster = self.family.cluster.as_mut().expect("a cluster");
        let fail = |reason: String| Err(crate::command::CommandError::NotApplicable { reason });
        if let Some(other) = cluster.brokers.iter().position(|b| b.isolated) {
            return fail(if other as u32 == broker {
                format!("broker {broker} is already isolated")
            } else {
                format!("broker {other} is isolated: heal it first (one partition at a time)")
            });
        }
        let b = &mut cluster.brokers[broker as usize];
        if !b.alive {
            return fail(format!("broker {broker} is down"));
        }
        b.isolated = true;
        b.incarnation += 1;
        let incarnation = b.incarnation;
        let session = ms_to_us(cluster.spec.broker_session_timeout_ms);
        self.world
            .emit(rep(KafkaRepEvent::KafkaBrokerIsolated { broker }));
        for tp in self.family.all_partitions() {
            let r = &self.family.topics[tp.topic.index()].replicas[tp.partition as usize];
            if r.leader != Some(broker) {
                continue;
            }
            let open: Vec<(MessageId, Option<ProducerId>, SimTime)> = (r.unacked.values())
                .filter(|u| u.waiting)
                .map(|u| (u.copy.msg, u.copy.producer, u.at))
                .collect();
            for (msg, producer, at) in open {
                let spec = self.spec_of(producer);
                self.time_out_after(tp, msg, &spec, at);
            }
        }
        self.schedule_fence(broker, incarnation, session);
        Ok(())
    }

    /// The network partition heals. Before the session timeout nothing else happened: its
    /// fetches resume. After it, the broker learns the newer leader epochs: as an old leader it
    /// truncates what only it held (acked records are lost, KAF-21, KAF-24), then catches up.
    pub(crate) fn heal_broker(&mut self, broker: u32) -> Result<(), crate::command::CommandError> {
        self.check_broker(broker)?;
        let b = &mut self.family.cluster.as_mut().expect("a cluster").brokers[broker as usize];
        if !b.isolated {
            return Err(crate::command::CommandError::NotApplicable {
                reason: format!("broker {broker} is not isolated"),
            });
        }
        b.isolated = false;
        b.fenced = false;
        b.incarnation += 1;
        self.world
            .emit(rep(KafkaRepEvent::KafkaBrokerHealed { broker }));
        self.broker_rejoins(broker);
        Ok(())
    }

    /// The broker's process dies. Requests waiting at it fail at once (their connections
    /// reset) and the producers retry; the controller notices after
    /// `broker.session.timeout.ms` (KAF-23).
    pub(crate) fn crash_broker(&mut self, broker: u32) -> Result<(), crate::command::CommandError> {
        self.check_broker(broker)?;
        let cluster = self.family.cluster.as_mut().expect("a cluster");
        let b = &mut cluster.brokers[broker as usize];
        if !b.alive {
            return Err(crate::command::CommandError::NotApplicable {
                reason: format!("broker {broker} is already down"),
            });
        }
        if b.isolated {
            return Err(crate::command::CommandError::NotApplicable {
                reason: format!("broker {broker} is isolated: heal it first"),
            });
        }
        b.alive = false;
        b.incarnation += 1;
        let incarnation = b.incarnation;
        let session = ms_to_us(cluster.spec.broker_session_timeout_ms);
        self.world
            .emit(rep(KafkaRepEvent::KafkaBrokerCrashed { broker }));
        for tp in self.family.all_partitions() {
            let r = &mut self.family.topics[tp.topic.index()].replicas[tp.partition as usize];
            if let Some(rp) = r.replica(broker) {
                rp.fetch_gen += 1;
                rp.parked = false;
            }
            if r.leader != Some(broker) {
                continue;
            }
            let failed: Vec<MessageCopy> = r
                .unacked
                .values_mut()
                .filter(|u| u.waiting)
                .map(|u| {
                    u.waiting = false;
                    u.copy.clone()
                })
                .collect();
            for copy in failed {
                self.resend(tp, copy, ProduceError::NotLeader);
            }
        }
        self.schedule_fence(broker, incarnation, session);
        Ok(())
    }

    /// The controller notices a broker that stopped heartbeating (crashed or cut off) after
    /// `broker.session.timeout.ms`, unless it came back first (`incarnation`).
    fn schedule_fence(&mut self, broker: u32, incarnation: u32, session: u64) {
        let at = self.world.now.plus(session);
        self.world.schedule(
            at,
            KafkaWork::Replication(ReplicationWork::Fence {
                broker,
                incarnation,
            }),
        );
    }

    /// The controller fences the broker: it leaves every ISR (but stays as the last member)
    /// and the partitions it led elect new leaders (KAF-23).
    fn fence(&mut self, broker: u32) {
        let cluster = self.family.cluster.as_mut().expect("a cluster");
        cluster.brokers[broker as usize].fenced = true;
        self.world
            .emit(rep(KafkaRepEvent::KafkaBrokerFenced { broker }));
        for tp in self.family.all_partitions() {
            let r = &self.family.topics[tp.topic.index()].replicas[tp.partition as usize];
            if !r.isr.contains(&broker) {
                continue;
            }
            let led = r.leader == Some(broker);
            if r.isr.len() > 1 {
                self.leave_isr(tp, broker);
            }
            if led {
                self.elect(tp);
            } else {
                self.advance_hw(tp);
            }
        }
    }

    /// The broker comes back. Its replicas rejoin as followers, cut back to the leader's log;
    /// offline partitions it can lead elect it (KAF-21, KAF-23).
    pub(crate) fn restart_broker(
        &mut self,
        broker: u32,
    ) -> Result<(), crate::command::CommandError> {
        self.check_broker(broker)?;
        let b = self.family.cluster.as_ref().expect("a cluster").brokers[broker as usize];
        if b.alive {
            return Err(crate::command::CommandError::NotApplicable {
                reason: format!("broker {broker} is running"),
            });
        }
        if !b.fenced {
            // It registers again with a new epoch: the controller fences the old one first.
            self.fence(broker);
        }
        let b = &mut self.family.cluster.as_mut().expect("a cluster").brokers[broker as usize];
        b.alive = true;
        b.fenced = false;
        self.world
            .emit(rep(KafkaRepEvent::KafkaBrokerRestarted { broker }));
        self.broker_rejoins(broker);
        Ok(())
    }

    /// The broker's replicas are back in touch: each cuts its log back to its leader's (an old
    /// leader loses what only it held, KAF-21, KAF-24) and fetches again; a partition it leads
    /// gets its followers back; an offline one elects (KAF-23).
    fn broker_rejoins(&mut self, broker: u32) {
        for tp in self.family.all_partitions() {
            let r = &mut self.family.topics[tp.topic.index()].replicas[tp.partition as usize];
            let stale = r.stale.take_if(|z| z.broker == broker);
            let Some(rp) = r.replica(broker) else {
                continue;
            };
            if let Some(to) = rp.cut_to.take() {
                self.world.emit(rep(KafkaRepEvent::KafkaReplicaTruncated {
                    topic: tp.topic,
                    partition: tp.partition,
                    broker,
                    to,
                }));
            }
            let records = stale.map(|z| z.records).unwrap_or_default();
            for (&offset, (msg, unacked)) in &records {
                self.drop_truncated(tp, offset, *msg, unacked.is_none());
            }
            // It answers what it still had open with NOT_LEADER_OR_FOLLOWER.
            self.resend_waiting(tp, records.into_values().filter_map(|(_, u)| u));
            let r = &self.family.topics[tp.topic.index()].replicas[tp.partition as usize];
            match r.leader {
                None => self.elect(tp),
                Some(leader) if leader == broker => self.start_fetching(tp),
                Some(_) => {
                    let r =
                        &mut self.family.topics[tp.topic.index()].replicas[tp.partition as usize];
                    let rp = r.replica(broker).expect("its replica");
                    rp.fetch_gen += 1;
                    let (offset, gen) = (rp.leo, rp.fetch_gen);
                    let at = self.world.now.plus(self.world.latency);
                    self.world.schedule(
                        at,
                        KafkaWork::Replication(ReplicationWork::FetchArrives {
                            tp,
                            broker,
                            offset,
                            gen,
                        }),
                    );
                }
            }
        }
    }

    /// The controller's choice: the first replica in assignment order that is alive and in the
    /// ISR; else, with `unclean.leader.election.enable`, the first alive one; else offline. The
    /// log is cut to the new leader's LEO (KAF-23, KAF-24).
    fn elect(&mut self, tp: TopicPartition) {
        let serving: Vec<bool> = (self.family.cluster.as_ref().expect("a cluster").brokers)
            .iter()
            .map(|b| b.serving())
            .collect();
        let end = self.leader_log_end(tp);
        let t = &mut self.family.topics[tp.topic.index()];
        let unclean_allowed = t.spec.unclean_leader_election_enable;
        let r = &mut t.replicas[tp.partition as usize];
        let old = r.leader;
        // The old leader's replica holds the whole log; its entry is kept only from here on.
        if let Some(rp) = r.leader.and_then(|old| r.replica(old)) {
            rp.leo = end;
        }
        let up = |rp: &&Replica| serving[rp.broker as usize];
        let clean = r
            .replicas
            .iter()
            .filter(up)
            .find(|rp| r.isr.contains(&rp.broker));
        let choice = match clean {
            Some(rp) => Some((rp.broker, true)),
            None if unclean_allowed => r.replicas.iter().find(up).map(|rp| (rp.broker, false)),
            None => None,
        };
        r.epoch += 1;
        r.leader = choice.map(|(b, _)| b);
        let epoch = r.epoch;
        self.world.emit(rep(KafkaRepEvent::KafkaLeaderElected {
            topic: tp.topic,
            partition: tp.partition,
            leader: r.leader,
            epoch,
            clean: choice.is_none_or(|(_, c)| c),
        }));
        let Some((leader, clean)) = choice else {
            return;
        };
        let r = &mut self.family.topics[tp.topic.index()].replicas[tp.partition as usize];
        if !clean {
            r.isr = BTreeSet::from([leader]);
        }
        let to = r.replica(leader).expect("the leader's replica").leo;
        for rp in &mut r.replicas {
            if rp.leo > to {
                rp.leo = to;
                if serving[rp.broker as usize] {
                    self.world.emit(rep(KafkaRepEvent::KafkaReplicaTruncated {
                        topic: tp.topic,
                        partition: tp.partition,
                        broker: rp.broker,
                        to,
                    }));
                } else {
                    rp.cut_to = Some(to);
                }
            }
        }
        // An isolated old leader has not heard: it keeps its log (KAF-24).
        let cluster = self.family.cluster.as_ref().expect("a cluster");
        let stale = old.filter(|&b| b != leader && cluster.brokers[b as usize].isolated);
        self.truncate(tp, to, stale);
        self.start_fetching(tp);
        self.advance_hw(tp);
    }

    /// Cuts the partition's log to `to`. Each record removed ends in the ledger: an acked one
    /// as `lost_on_failover` with its offset, an unacked one as `truncated_on_election`; but
    /// those an isolated old leader (`stale`) holds stay with it, their requests still open.
    fn truncate(&mut self, tp: TopicPartition, to: u64, stale: Option<u32>) {
        let t = &mut self.family.topics[tp.topic.index()];
        let log = &mut t.partitions[tp.partition as usize];
        let (start, old_hw) = (log.start_offset(), log.high_watermark());
        let end = log.end_offset();
        let gone = log.truncate_to(to);
        let r = &mut t.replicas[tp.partition as usize];
        let mut unacked = r.unacked.split_off(&to);
        r.written.retain(|_, o| *o < to);
        r.aborted.split_off(&to);
        for offsets in r.txns.values_mut() {
            offsets.retain(|o| *o < to);
        }
        r.txns.retain(|_, offsets| !offsets.is_empty());
        if let Some(broker) = stale {
            r.stale = Some(StaleLeader {
                broker,
                records: (gone.iter())
                    .map(|(offset, record)| (*offset, (record.msg, unacked.remove(offset))))
                    .collect(),
                end,
                elected_at: self.world.now,
                informed: BTreeSet::new(),
            });
        }
        if gone.is_empty() {
            return;
        }
        self.family.offsets_moved(tp, start, old_hw);
        self.world.emit(rep(KafkaRepEvent::KafkaTruncated {
            topic: tp.topic,
            partition: tp.partition,
            to,
            records: gone.len() as u64,
        }));
        if stale.is_some() {
            return;
        }
        for (offset, record) in gone {
            self.drop_truncated(tp, offset, record.msg, !unacked.contains_key(&offset));
        }
        self.resend_waiting(tp, unacked.into_values());
    }

    /// Requests still open on records cut from a log fail; their producers retry them.
    fn resend_waiting(&mut self, tp: TopicPartition, unacked: impl IntoIterator<Item = Unacked>) {
        for u in unacked.into_iter().filter(|u| u.waiting) {
            self.resend(tp, u.copy, ProduceError::NotLeader);
        }
    }

    /// A record cut from a log ends in the ledger: `lost_on_failover` if its producer was told
    /// it is written, else `truncated_on_election`.
    fn drop_truncated(&mut self, tp: TopicPartition, offset: u64, msg: MessageId, acked: bool) {
        let reason = match acked {
            false => DropReason::TruncatedOnElection,
            true => {
                self.world.emit(rep(KafkaRepEvent::KafkaLostOnFailover {
                    msg,
                    topic: tp.topic,
                    partition: tp.partition,
                    offset,
                }));
                DropReason::LostOnFailover
            }
        };
        self.world.ledger.leave(CopyState::Retained);
        self.world.ledger.enter(CopyState::Dropped(reason));
        self.world.emit(EventKind::Dropped { msg, reason });
    }
}

impl Kafka {
    /// Every partition of every topic, in order.
    fn all_partitions(&self) -> Vec<TopicPartition> {
        self.topics
            .iter()
            .enumerate()
            .flat_map(|(t, topic)| {
                (0..topic.replicas.len() as u32).map(move |partition| TopicPartition {
                    topic: TopicId(t as u32),
                    partition,
                })
            })
            .collect()
    }
}
