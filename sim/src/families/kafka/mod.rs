//! The event-broker family: Kafka-style topics, consumer groups and offsets (KAF-1..KAF-18), and
//! a service called with no broker, for the traffic-buffering comparison.

pub mod assignor;
mod compaction;
pub mod log;
pub mod partitioner;
pub(crate) mod replication;
mod retention;

use crate::clients::{ClientWork, Closure, ConsumerStatus, Cx};
use crate::command::{at_cap, CommandError, OffsetTarget};
use crate::event::EventKind;
use crate::ids::{ConsumerId, GroupId, MessageId, ProducerId, TopicId};
use crate::kernel::agenda::TimerId;
use crate::kernel::{ms_to_us, World};
use crate::ledger::{CopyState, DropReason, Store};
use crate::message::{PipeTag, Slot, NO_KEY};
use crate::scenario::kafka::IsolationLevel;
use crate::scenario::{CommitMode, GroupSpec, OffsetReset, TopicSpec, UnkeyedStrategy};
use crate::time::SimTime;
use crate::wire::{Chip, NodeRef};
use assignor::{assign, TopicPartition};
use log::{CompactionConfig, LogConfig, PartitionLog, Record};
use partitioner::{partition_for_key, StickyPartitioner};
use retention::RetentionSchedule;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

#[derive(Clone, Debug)]
pub(crate) struct Topic {
    pub spec: TopicSpec,
    pub config: LogConfig,
    pub partitions: Vec<PartitionLog>,
    pub sticky: StickyPartitioner,
    pub round_robin: u32,
    pub retention: RetentionSchedule,
    /// The log cleaner's periodic check and its period, for a compacted topic (KAF-7).
    pub cleaner: Option<(TimerId, u64)>,
    /// Groups reading this topic, with how many times each lists it (lag counts each listing).
    pub readers: Vec<(GroupId, u64)>,
    /// Per partition, its replicas; empty without a cluster (KAF-19).
    pub replicas: Vec<replication::Replicas>,
}

impl Topic {
    pub fn new(
        spec: TopicSpec,
        retention: RetentionSchedule,
        cleaner: Option<(TimerId, u64)>,
    ) -> Topic {
        let deletes = spec.cleanup_policy.deletes();
        let compaction = spec.cleanup_policy.compacts().then(|| CompactionConfig {
            delete_retention_us: ms_to_us(spec.delete_retention_ms.unwrap_or(86_400_000.0)),
            min_lag_us: ms_to_us(spec.min_compaction_lag_ms.unwrap_or(0.0)),
            min_dirty_ratio: spec.min_cleanable_dirty_ratio.unwrap_or(0.5),
        });
        let config = LogConfig {
            segment_bytes: spec.segment_bytes,
            segment_us: ms_to_us(spec.segment_ms),
            // `cleanup.policy=compact` alone deletes nothing by time or size (KAF-7).
            retention_us: (deletes && spec.retention_ms >= 0.0)
                .then(|| ms_to_us(spec.retention_ms)),
            retention_bytes: u64::try_from(spec.retention_bytes).ok().filter(|_| deletes),
            compaction,
        };
        Topic {
            partitions: (0..spec.partitions).map(|_| PartitionLog::new()).collect(),
            sticky: StickyPartitioner::new(spec.batch_size),
            round_robin: 0,
            retention,
            cleaner,
            readers: Vec::new(),
            replicas: Vec::new(),
            config,
            spec,
        }
    }
}

/// A record handed to a group member by a poll.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fetched {
    pub tp: TopicPartition,
    pub offset: u64,
    pub msg: MessageId,
    pub producer: ProducerId,
    pub published_at: SimTime,
    /// Interned record key, or `NO_KEY`.
    pub key: u32,
    pub pipe: Option<PipeTag>,
}

#[derive(Clone, Debug)]
pub(crate) struct Group {
    pub spec: GroupSpec,
    pub topic_ids: Vec<TopicId>,
    /// Members currently in the group (joined and not timed out), by consumer id.
    pub members: BTreeSet<ConsumerId>,
    pub assignment: BTreeMap<ConsumerId, Vec<TopicPartition>>,
    /// The same as (partition, owner) pairs, to find a partition's owner without a scan. A
    /// topic listed twice can give a partition two owners.
    pub owners: BTreeSet<(TopicPartition, ConsumerId)>,
    /// Committed offsets: the next offset to read (KAF-12).
    pub committed: BTreeMap<TopicPartition, u64>,
    /// Highest offset + 1 any member has processed, to count duplicates and skips.
    pub processed_upto: BTreeMap<TopicPartition, u64>,
    /// Per partition, the next offset queueing theory counts as waiting for this group: records
    /// from there on have arrived and not yet been started (QT-1). A re-read is not a new wait.
    pub waiting_from: BTreeMap<TopicPartition, u64>,
    pub generation: u32,
    pub rebalancing: bool,
    /// Partitions being moved by a cooperative rebalance; nobody consumes them meanwhile.
    pub moving: BTreeSet<TopicPartition>,
    /// Total lag (KAF-18), kept in step as offsets move so that sampling it costs nothing.
    pub lag: u64,
    /// Total lag over time, for charts.
    pub lag_series: crate::stats::Series,
    /// Since when the group has had no members (KAF-17).
    pub empty_since: Option<SimTime>,
    pub processed: u64,
    pub duplicates: u64,
    pub skipped: u64,
    pub rebalances: u64,
}

impl Group {
    /// The members that own `tp`, by id.
    pub fn owners_of(&self, tp: TopicPartition) -> impl Iterator<Item = ConsumerId> + '_ {
        self.owners
            .range((tp, ConsumerId(0))..=(tp, ConsumerId(u32::MAX)))
            .map(|(_, c)| *c)
    }

    /// Every partition of the group's topics, each once, unless `known` already holds them all.
    fn all_partitions(
        &self,
        topics: &[Topic],
        known: &BTreeSet<TopicPartition>,
    ) -> Option<BTreeSet<TopicPartition>> {
        let ids: BTreeSet<TopicId> = self.topic_ids.iter().copied().collect();
        let count: usize = ids.iter().map(|t| topics[t.index()].partitions.len()).sum();
        // `known` only ever holds the group's partitions, so the count tells.
        if known.len() == count {
            return None;
        }
        Some(
            ids.into_iter()
                .flat_map(|topic| {
                    (0..topics[topic.index()].partitions.len() as u32)
                        .map(move |partition| TopicPartition { topic, partition })
                })
                .collect(),
        )
    }
}

impl TopicPartition {
    /// The queueing meter's line for group `g` reading this partition (QT-1).
    fn line(self, g: u32) -> Store {
        Store::Log {
            log: self.topic.0,
            partition: self.partition,
            reader: g,
        }
    }
}

/// One group's side of queueing theory for some partitions of a topic: the lines shown, and
/// each running member that reads any of them with every line it reads in that topic.
pub(crate) struct ReaderLines {
    pub reader: String,
    pub shown: Vec<Store>,
    pub servers: Vec<(ConsumerId, Vec<Store>)>,
}

impl Kafka {
    /// Theory lines for a topic (all its partitions) or one partition, one per group reading it.
    pub(crate) fn reader_lines(
        &self,
        node: NodeRef,
        running: impl Fn(ConsumerId) -> bool,
    ) -> Vec<ReaderLines> {
        let (topic, only) = match node {
            NodeRef::Topic(t) => (t, None),
            NodeRef::Partition(t, p) => (t, Some(p)),
            _ => return Vec::new(),
        };
        let place = |g: usize, partition| TopicPartition { topic, partition }.line(g as u32);
        let partitions = self.topics[topic.index()].partitions.len() as u32;
        let shown = |p: &u32| only.is_none_or(|o| o == *p);
        (self.groups.iter().enumerate())
            .filter(|(_, group)| group.topic_ids.contains(&topic))
            .map(|(g, group)| {
                let shown: Vec<Store> =
                    (0..partitions).filter(shown).map(|p| place(g, p)).collect();
                let servers = (group.assignment.iter())
                    .filter(|(c, _)| running(**c))
                    .map(|(c, owned)| {
                        let mine = owned.iter().filter(|tp| tp.topic == topic);
                        (
                            *c,
                            mine.map(|tp| place(g, tp.partition)).collect::<Vec<_>>(),
                        )
                    })
                    .filter(|(_, lines)| lines.iter().any(|l| shown.contains(l)))
                    .collect();
                ReaderLines {
                    reader: group.spec.name.clone(),
                    shown,
                    servers,
                }
            })
            .collect()
    }
}

/// Partitions revoked from each member.
type Revoked = Vec<(ConsumerId, Vec<TopicPartition>)>;

/// The elements of sorted `a` (with repeats) that sorted `b` lacks, in one merge pass.
fn missing_from(a: &[TopicPartition], b: &[TopicPartition]) -> Vec<TopicPartition> {
    debug_assert!(a.is_sorted() && b.is_sorted());
    let mut j = 0;
    let mut out = Vec::new();
    for x in a {
        while j < b.len() && b[j] < *x {
            j += 1;
        }
        if b.get(j) != Some(x) {
            out.push(*x);
        }
    }
    out
}

/// A group member's client state.
#[derive(Clone, Debug, Default)]
pub(crate) struct Member {
    /// Ownership when the rebalance began, which sticky assignors try to keep.
    pub owned_before: Vec<TopicPartition>,
    pub positions: BTreeMap<TopicPartition, u64>,
    /// Positions as of the previous poll: what auto-commit commits (KAF-13).
    pub polled: BTreeMap<TopicPartition, u64>,
    /// Fetched and on the wire, arriving together.
    pub inbound: Vec<(Fetched, u64)>,
    pub buffer: VecDeque<Fetched>,
    pub current: Option<Fetched>,
    /// The earliest poll already scheduled, so wake-ups are not scheduled twice.
    pub poll_at: Option<SimTime>,
    pub last_commit: SimTime,
    pub since_commit: u32,
    /// Round-robin start among assigned partitions for the next fetch.
    pub fetch_cursor: usize,
    /// Deliveries with offsets, for the runner's report (capped).
    pub log: Vec<(TopicPartition, u64, MessageId, bool)>,
}

impl Member {
    /// Records fetched and not yet processed: the next poll waits for them.
    pub fn busy(&self) -> bool {
        self.current.is_some() || !self.buffer.is_empty() || !self.inbound.is_empty()
    }
}

/// Kafka's state: topics with their partition logs, consumer groups and their members.
#[derive(Clone, Debug, Default)]
pub(crate) struct Kafka {
    pub topics: Vec<Topic>,
    pub groups: Vec<Group>,
    pub members: BTreeMap<ConsumerId, Member>,
    /// The group each consumer of a group belongs to, for its whole life.
    pub consumer_groups: BTreeMap<ConsumerId, GroupId>,
    /// Brokers and replication, if the scenario has a cluster (KAF-19..KAF-26).
    pub cluster: Option<replication::Cluster>,
    /// Records of stage transactions that aborted while they were on the wire: each lands
    /// behind an abort marker (PAT-10, KAF-27).
    pub aborted_msgs: BTreeSet<MessageId>,
}

/// One partition's lag (KAF-18): end offset (the high watermark) − committed offset, or − log
/// start if none.
pub(crate) fn partition_lag(log: &PartitionLog, committed: Option<u64>) -> u64 {
    log.high_watermark()
        .saturating_sub(committed.unwrap_or(log.start_offset()))
}

impl Kafka {
    /// Samples every group's lag for the charts. The lag is a running total; debug builds
    /// recount it (KAF-18).
    pub(crate) fn sample(&mut self, at: u64) {
        for i in 0..self.groups.len() {
            let lag = self.groups[i].lag;
            let gid = GroupId(i as u32);
            debug_assert_eq!(lag, self.recount_lag(gid), "group {gid} lag");
            self.groups[i].lag_series.push(at, lag as f64);
        }
    }

    /// The partition a producer picks for a record: murmur2 of the key, else the unkeyed
    /// strategy (KAF-3, KAF-4). It runs in the producer, so the record travels to that partition.
    pub(crate) fn choose_partition<W>(
        &mut self,
        world: &mut World<W>,
        topic: TopicId,
        key: u32,
        size: u32,
    ) -> u32 {
        let random = world.rng.next_u64();
        let t = &mut self.topics[topic.index()];
        let n = t.partitions.len() as u32;
        if key != NO_KEY {
            return partition_for_key(world.keys.get(key).as_bytes(), n);
        }
        match t.spec.unkeyed {
            UnkeyedStrategy::Sticky => t.sticky.next(u64::from(size), n, random),
            UnkeyedStrategy::RoundRobin => {
                t.round_robin = t.round_robin.wrapping_add(1);
                (t.round_robin - 1) % n
            }
        }
    }

    /// The group's lag counted from scratch over every partition it reads.
    pub(crate) fn recount_lag(&self, gid: GroupId) -> u64 {
        let g = &self.groups[gid.index()];
        g.topic_ids
            .iter()
            .flat_map(|t| {
                self.topics[t.index()]
                    .partitions
                    .iter()
                    .enumerate()
                    .map(move |(p, log)| (*t, p as u32, log))
            })
            .map(|(topic, partition, log)| {
                partition_lag(
                    log,
                    g.committed
                        .get(&TopicPartition { topic, partition })
                        .copied(),
                )
            })
            .sum()
    }

    /// Stores a committed offset and keeps the group's lag in step.
    pub(crate) fn set_committed(&mut self, gid: GroupId, tp: TopicPartition, offset: u64) {
        let t = &self.topics[tp.topic.index()];
        let log = &t.partitions[tp.partition as usize];
        let times = t
            .readers
            .iter()
            .find(|(g, _)| *g == gid)
            .map_or(0, |(_, n)| *n);
        let g = &mut self.groups[gid.index()];
        let old = partition_lag(log, g.committed.insert(tp, offset));
        g.lag = g.lag + times * partition_lag(log, Some(offset)) - times * old;
    }

    /// A partition's log start or high watermark moved from `start`/`end`: every group reading it
    /// has its lag brought in step.
    pub(crate) fn offsets_moved(&mut self, tp: TopicPartition, start: u64, end: u64) {
        let t = &self.topics[tp.topic.index()];
        let log = &t.partitions[tp.partition as usize];
        for &(gid, times) in &t.readers {
            let g = &mut self.groups[gid.index()];
            let committed = g.committed.get(&tp).copied();
            let old = end.saturating_sub(committed.unwrap_or(start));
            g.lag = g.lag + times * partition_lag(log, committed) - times * old;
        }
    }
}

impl Kafka {
    pub(crate) fn topic_id(&self, name: &str) -> Option<TopicId> {
        self.topics
            .iter()
            .position(|t| t.spec.name == name)
            .map(|i| TopicId(i as u32))
    }

    pub(crate) fn group_id(&self, name: &str) -> Option<GroupId> {
        self.groups
            .iter()
            .position(|g| g.spec.name == name)
            .map(|i| GroupId(i as u32))
    }

    /// Retained records across every partition, isolated old leaders' own included; for the
    /// audit.
    pub(crate) fn log_records(&self) -> u64 {
        self.topics
            .iter()
            .flat_map(|t| t.partitions.iter())
            .map(PartitionLog::len)
            .sum::<u64>()
            + (self.topics.iter())
                .flat_map(|t| t.replicas.iter())
                .filter_map(|r| r.stale.as_ref())
                .map(|z| z.len())
                .sum::<u64>()
    }
}

impl<W: From<KafkaWork> + From<ClientWork>> Cx<'_, &mut Kafka, W> {
    pub(crate) fn group_of(&self, cid: ConsumerId) -> Option<GroupId> {
        self.family.consumer_groups.get(&cid).copied()
    }

    pub(crate) fn add_topic(&mut self, spec: TopicSpec) -> TopicId {
        let interval = ms_to_us(spec.retention_check_interval_ms).max(1);
        let id = TopicId(self.family.topics.len() as u32);
        // An empty topic has nothing to delete: its retention check starts asleep.
        let timer = self.world.add_timer(
            self.world.now.plus(interval),
            interval,
            KafkaWork::RetentionCheck { topic: id },
        );
        let partitions = spec.partitions as usize;
        let retention = RetentionSchedule::new(timer, interval, partitions);
        // Only a compacted topic has a cleaner, so other topics' agendas are unchanged.
        let cleaner = spec.cleanup_policy.compacts().then(|| {
            let backoff = ms_to_us(spec.log_cleaner_backoff_ms.unwrap_or(15_000.0)).max(1);
            let first = self.world.now.plus(backoff);
            let work = KafkaWork::CleanerRun { topic: id };
            (self.world.add_timer(first, backoff, work), backoff)
        });
        self.family
            .topics
            .push(Topic::new(spec, retention, cleaner));
        self.add_replicas(id);
        id
    }

    pub(crate) fn add_group(&mut self, spec: GroupSpec) {
        let topic_ids: Vec<TopicId> = spec
            .topics
            .iter()
            .filter_map(|t| self.family.topic_id(t))
            .collect();
        let gid = GroupId(self.family.groups.len() as u32);
        let mut listed: BTreeMap<TopicId, u64> = BTreeMap::new();
        for t in &topic_ids {
            *listed.entry(*t).or_default() += 1;
        }
        for (t, times) in listed {
            self.family.topics[t.index()].readers.push((gid, times));
        }
        self.family.groups.push(Group {
            spec,
            topic_ids,
            members: BTreeSet::new(),
            assignment: BTreeMap::new(),
            owners: BTreeSet::new(),
            committed: BTreeMap::new(),
            processed_upto: BTreeMap::new(),
            waiting_from: BTreeMap::new(),
            generation: 0,
            rebalancing: false,
            moving: BTreeSet::new(),
            empty_since: None,
            lag: 0,
            lag_series: crate::stats::Series::new(crate::SERIES_CAPACITY, crate::SAMPLE_INTERVAL),
            processed: 0,
            duplicates: 0,
            skipped: 0,
            rebalances: 0,
        });
        self.family.groups[gid.index()].lag = self.family.recount_lag(gid);
    }

    /// Appends an arriving record to its partition (KAF-2..KAF-4). The copy leaves the store: a
    /// log record is retained, not held by anyone.
    pub(crate) fn topic_append(&mut self, slot: Slot, topic: TopicId, partition: u32) {
        let c = self.world.copies.get(slot);
        let (msg, key, size, producer) = (c.msg, c.key, c.size, c.producer);
        let (tombstone, pipe) = (c.tombstone, c.pipe);
        let t = &mut self.family.topics[topic.index()];
        if key == NO_KEY && t.config.compaction.is_some() {
            // The broker refuses the batch: "Compacted topic cannot accept message without key".
            self.world
                .drop_copy(slot, DropReason::NoKeyForCompactedTopic);
            return;
        }
        let tp = TopicPartition { topic, partition };
        if !self.admit(slot, tp) {
            return;
        }
        let t = &mut self.family.topics[topic.index()];
        let record = Record {
            msg,
            timestamp: self.world.now,
            producer: producer.unwrap_or(ProducerId(u32::MAX)),
            key,
            size,
            tombstone,
            compacted: false,
        };
        let log = &mut t.partitions[partition as usize];
        let (start, hw) = (log.start_offset(), log.high_watermark());
        let segments = log.segments().count();
        let offset = log.append(record, &t.config);
        if let Some(tag) = pipe {
            log.set_pipe(offset, tag);
        }
        if log.segments().count() > segments {
            // A segment closed: the cleaner may have work again.
            if let Some((timer, _)) = t.cleaner {
                self.world.wake_timer(timer);
            }
        }
        self.family.offsets_moved(tp, start, hw);
        self.meter_arrival(tp, offset);
        self.retention_after_append(topic, partition);
        self.appended(slot, tp, offset);
        // The copy leaves the store and is counted as retained.
        self.world.set_state(slot, CopyState::Retained);
        self.world.copies.release(slot);
        self.world.emit(EventKind::Appended {
            msg,
            topic,
            partition,
            offset,
        });
        self.wake_members(TopicPartition { topic, partition });
    }

    /// The record at `offset` arrived for every group reading its topic (QT-1).
    fn meter_arrival(&mut self, tp: TopicPartition, offset: u64) {
        let now = self.world.now;
        for (g, group) in self.family.groups.iter_mut().enumerate() {
            if group.topic_ids.contains(&tp.topic) {
                group.waiting_from.entry(tp).or_insert(offset);
                let place = tp.line(g as u32);
                self.world
                    .meters
                    .stores
                    .entry(place)
                    .or_default()
                    .arrive(now);
            }
        }
    }

    /// A member starts `f`: it waited since its append. Records it passed over (a reset, an
    /// aborted transaction, compaction) leave the line unserved; a re-read changes nothing.
    fn meter_start(&mut self, cid: ConsumerId, f: Fetched) {
        let Some(&g) = self.family.consumer_groups.get(&cid) else {
            return;
        };
        let tp = f.tp;
        let group = &mut self.family.groups[g.index()];
        let Some(from) = group.waiting_from.get_mut(&tp) else {
            return;
        };
        if f.offset < *from {
            return;
        }
        let skipped = f.offset - *from;
        *from = f.offset + 1;
        let appended = (self.family.topics[tp.topic.index()].partitions[tp.partition as usize])
            .get(f.offset)
            .map_or(f.published_at, |r| r.timestamp);
        let place = tp.line(g.0);
        let meter = self.world.meters.stores.entry(place).or_default();
        meter.leave(self.world.now, skipped);
        meter.hand_out(self.world.now, appended);
    }

    /// Polls soon for idle members that own `tp`, so new records flow without busy polling.
    pub(crate) fn wake_members(&mut self, tp: TopicPartition) {
        let mut wake = Vec::new();
        for g in &self.family.groups {
            if g.rebalancing || g.moving.contains(&tp) {
                continue;
            }
            wake.extend(g.owners_of(tp));
        }
        for cid in wake {
            self.schedule_poll(cid, 0);
        }
    }

    pub(crate) fn schedule_poll(&mut self, cid: ConsumerId, delay: u64) {
        let epoch = self.clients.consumers[cid.index()].epoch;
        let Some(m) = self.family.members.get_mut(&cid) else {
            return;
        };
        let at = self.world.now.plus(delay);
        if m.poll_at.is_some_and(|t| t <= at) || m.busy() {
            return;
        }
        m.poll_at = Some(at);
        self.world.schedule(
            at,
            KafkaWork::Poll {
                consumer: cid,
                epoch,
            },
        );
    }

    // ------------------------------------------------------------ consuming

    /// `poll()`: fetch up to `max.poll.records` from the assigned partitions and commit as
    /// the group's mode says (KAF-12..KAF-14).
    pub(crate) fn poll(&mut self, cid: ConsumerId, epoch: u32) {
        let c = &self.clients.consumers[cid.index()];
        if c.epoch != epoch || c.status != ConsumerStatus::Running {
            return;
        }
        let Some(gid) = self.group_of(cid) else {
            return;
        };
        match self.family.members.get_mut(&cid) {
            Some(m) if m.poll_at.is_some_and(|t| t <= self.world.now) => m.poll_at = None,
            _ => {}
        }
        if self.family.members.get(&cid).is_none_or(Member::busy) {
            return;
        }
        let g = &self.family.groups[gid.index()];
        if g.rebalancing {
            return;
        }
        let assigned: Vec<TopicPartition> = g
            .assignment
            .get(&cid)
            .map(|v| {
                v.iter()
                    .filter(|tp| !g.moving.contains(tp))
                    .copied()
                    .collect()
            })
            .unwrap_or_default();
        let max = g.spec.max_poll_records as usize;
        let committed_only = g.spec.isolation_level == IsolationLevel::ReadCommitted;
        let commit = g.spec.commit.clone();
        let reset = g.spec.auto_offset_reset;
        // Auto-commit commits what earlier polls returned, once the interval has passed (KAF-13).
        if let CommitMode::Auto { interval_ms } = commit {
            let m = self.family.members.get(&cid).expect("member");
            if self.world.now.since(m.last_commit) >= ms_to_us(interval_ms) {
                let polled = m.polled.clone();
                self.commit_offsets(gid, cid, &polled);
            }
        }
        // Offsets deleted by retention are out of range: the reset policy applies (KAF-6, KAF-15).
        for tp in &assigned {
            let log = &self.family.topics[tp.topic.index()].partitions[tp.partition as usize];
            let (start, end, hw) = (log.start_offset(), log.end_offset(), log.high_watermark());
            let m = self.family.members.get_mut(&cid).expect("member");
            let Some(pos) = m.positions.get(tp).copied() else {
                continue; // `none` and no committed offset: nothing is read
            };
            // Past the end: an election truncated what this position had reached (KAF-23).
            if pos < start || pos > end {
                let to = match reset {
                    OffsetReset::Earliest => start,
                    OffsetReset::Latest => hw,
                    OffsetReset::None => pos,
                };
                m.positions.insert(*tp, to);
                self.world.emit(EventKind::OffsetReset {
                    consumer: cid,
                    topic: tp.topic,
                    partition: tp.partition,
                    to,
                });
            }
        }
        let mut fetched = Vec::new();
        if !assigned.is_empty() {
            let m = self.family.members.get_mut(&cid).expect("member");
            let n = assigned.len();
            let first = m.fetch_cursor % n;
            m.fetch_cursor = m.fetch_cursor.wrapping_add(1);
            for k in 0..n {
                let tp = assigned[(first + k) % n];
                let log = &self.family.topics[tp.topic.index()].partitions[tp.partition as usize];
                let Some(pos) = m.positions.get(&tp).copied() else {
                    continue;
                };
                if pos < log.start_offset() || pos > log.end_offset() {
                    continue; // reset policy `none`: stuck until the offsets are reset
                }
                if !replication::readable(&self.family.topics, self.family.cluster.as_ref(), tp) {
                    continue; // its leader is down
                }
                // Only committed records, below the high watermark (KAF-20); `read_committed`
                // stops at the last stable offset and skips aborted transactions (KAF-27).
                let hw = log.high_watermark();
                let txns = (self.family.topics[tp.topic.index()].replicas)
                    .get(tp.partition as usize)
                    .filter(|_| committed_only);
                let limit = txns.map_or(hw, |r| r.last_stable_offset(hw));
                let visible = (log.iter_from(pos))
                    .take_while(|(o, _)| *o < limit)
                    .filter(|(o, _)| txns.is_none_or(|r| !r.aborted.contains(o)));
                for (offset, r) in visible.take(max - fetched.len()) {
                    fetched.push(Fetched {
                        tp,
                        offset,
                        msg: r.msg,
                        producer: r.producer,
                        published_at: r.timestamp,
                        key: r.key,
                        pipe: log.pipe(offset),
                    });
                }
                if let Some(last) = fetched.last().filter(|f| f.tp == tp) {
                    m.positions.insert(tp, last.offset + 1);
                }
                if fetched.len() >= max {
                    break;
                }
            }
            m.polled = m.positions.clone();
        }
        if matches!(commit, CommitMode::BeforeProcessing) && !fetched.is_empty() {
            // Committing before processing: a crash now loses these records (KAF-14).
            let positions = self.family.members[&cid].positions.clone();
            self.commit_offsets(gid, cid, &positions);
        }
        if fetched.is_empty() {
            // An idle client keeps polling, so auto-commit still commits what it processed.
            if let CommitMode::Auto { interval_ms } = commit {
                let m = &self.family.members[&cid];
                let g = &self.family.groups[gid.index()];
                let uncommitted = m
                    .polled
                    .iter()
                    .any(|(tp, o)| g.committed.get(tp) != Some(o));
                if uncommitted {
                    let due = m.last_commit.plus(ms_to_us(interval_ms));
                    self.schedule_poll(cid, due.since(self.world.now).max(1));
                }
            }
            return;
        }
        let arrive = self.world.now.plus(self.world.latency);
        let mut inbound = Vec::with_capacity(fetched.len());
        for f in fetched {
            let key = self.wire.next_key();
            if self.wire.track {
                self.wire.moving.insert(
                    (arrive, key),
                    crate::wire::Transit {
                        from: NodeRef::Partition(f.tp.topic, f.tp.partition),
                        to: NodeRef::Consumer(cid),
                        sent_at: self.world.now,
                        msg: f.msg,
                        chip: record_chip(&f),
                    },
                );
            }
            inbound.push((f, key));
        }
        self.family.members.get_mut(&cid).expect("member").inbound = inbound;
        self.world.schedule(
            arrive,
            KafkaWork::BatchArrives {
                consumer: cid,
                epoch,
            },
        );
    }

    pub(crate) fn batch_arrives(&mut self, cid: ConsumerId, epoch: u32) {
        if self.clients.consumers[cid.index()].epoch != epoch {
            return;
        }
        let now = self.world.now;
        let m = self.family.members.get_mut(&cid).expect("member");
        let inbound = std::mem::take(&mut m.inbound);
        for (f, key) in inbound {
            self.wire.moving.remove(&(now, key));
            m.buffer.push_back(f);
        }
        self.kafka_start_next(cid);
    }

    pub(crate) fn kafka_start_next(&mut self, cid: ConsumerId) {
        let m = self.family.members.get_mut(&cid).expect("member");
        if m.current.is_some() {
            return;
        }
        let Some(f) = m.buffer.pop_front() else {
            self.set_busy(cid, false);
            self.schedule_poll(cid, 0);
            return;
        };
        m.current = Some(f);
        self.meter_start(cid, f);
        self.set_busy(cid, true);
        let us = self.draw_processing_us(cid);
        let epoch = self.clients.consumers[cid.index()].epoch;
        self.world.schedule(
            self.world.now.plus(us),
            KafkaWork::RecordProcessed {
                consumer: cid,
                epoch,
            },
        );
    }

    /// The member finished its current record. `in_txn`: a transactional stage commits the
    /// record's offset in the transaction that carried its output, whatever `every` says
    /// (PAT-10).
    pub(crate) fn record_processed(&mut self, cid: ConsumerId, epoch: u32, in_txn: bool) {
        if self.clients.consumers[cid.index()].epoch != epoch {
            return;
        }
        let Some(gid) = self.group_of(cid) else {
            return;
        };
        let Kafka {
            groups,
            topics,
            members,
            ..
        } = &mut *self.family;
        let m = members.get_mut(&cid).expect("member");
        let Some(f) = m.current.take() else {
            return;
        };
        let g = &mut groups[gid.index()];
        g.processed += 1;
        let upto = g.processed_upto.entry(f.tp).or_insert(f.offset);
        let duplicate = f.offset < *upto;
        if duplicate {
            g.duplicates += 1;
        } else {
            // Offsets between what was processed and this one were skipped (at-most-once),
            // but for aborted records, which `read_committed` passes over (KAF-27).
            let aborted = (topics[f.tp.topic.index()].replicas)
                .get(f.tp.partition as usize)
                .filter(|_| g.spec.isolation_level == IsolationLevel::ReadCommitted)
                .map_or(0, |r| r.aborted.range(*upto..f.offset).count() as u64);
            g.skipped += f.offset - *upto - aborted;
            *upto = f.offset + 1;
        }
        if m.log.len() < crate::clients::MAX_LOGGED_DELIVERIES {
            m.log.push((f.tp, f.offset, f.msg, duplicate));
        }
        let c = &mut self.clients.consumers[cid.index()];
        c.delivered += 1;
        c.acked += 1;
        if duplicate {
            c.redelivered += 1;
        }
        self.world.complete(f.published_at);
        self.world.emit(EventKind::RecordProcessed {
            msg: f.msg,
            consumer: cid,
            topic: f.tp.topic,
            partition: f.tp.partition,
            offset: f.offset,
            duplicate,
        });
        if let CommitMode::AfterProcessing { every } = self.family.groups[gid.index()].spec.commit {
            let m = self.family.members.get_mut(&cid).expect("member");
            m.since_commit += 1;
            if m.since_commit >= every || in_txn {
                m.since_commit = 0;
                let done = BTreeMap::from([(f.tp, f.offset + 1)]);
                self.commit_offsets(gid, cid, &done);
            }
        }
        self.kafka_start_next(cid);
    }

    /// The record a member is processing, if `epoch` is its consumer's current one.
    pub(crate) fn current_record(&self, cid: ConsumerId, epoch: u32) -> Option<Fetched> {
        let current = self.clients.consumers[cid.index()].epoch == epoch;
        self.family.members.get(&cid)?.current.filter(|_| current)
    }

    /// A stage's transaction aborted: its output records, sent or on the wire, are marked
    /// aborted as they land (PAT-10).
    pub(crate) fn abort_outputs(&mut self, msgs: Vec<MessageId>) {
        self.family.aborted_msgs.extend(msgs);
    }

    /// Stores committed offsets for partitions the member still owns.
    pub(crate) fn commit_offsets(
        &mut self,
        gid: GroupId,
        cid: ConsumerId,
        offsets: &BTreeMap<TopicPartition, u64>,
    ) {
        if let Some(m) = self.family.members.get_mut(&cid) {
            m.last_commit = self.world.now;
        }
        for (tp, off) in offsets {
            if self.family.groups[gid.index()].owners.contains(&(*tp, cid)) {
                self.family.set_committed(gid, *tp, *off);
            }
        }
    }

    // ------------------------------------------------------------ membership

    /// A member's connection ends: its partitions go to the others (KAF-8, KAF-9).
    pub(crate) fn close_member(&mut self, cid: ConsumerId, status: ConsumerStatus, why: Closure) {
        let (lost, _) = self.end_connection(cid, status);
        self.member_stopped(cid, status == ConsumerStatus::Removed);
        self.channel_closed(cid, &why);
        if why == Closure::Crash {
            self.crashed(cid, 0, lost);
        }
    }

    /// The member (re)joins its group.
    pub(crate) fn rejoin(&mut self, cid: ConsumerId) {
        self.clients.consumers[cid.index()].status = ConsumerStatus::Running;
        self.join_group(cid);
    }

    pub(crate) fn join_group(&mut self, cid: ConsumerId) {
        let Some(gid) = self.group_of(cid) else {
            return;
        };
        let log = self
            .family
            .members
            .remove(&cid)
            .map(|m| m.log)
            .unwrap_or_default();
        self.family.members.insert(
            cid,
            Member {
                last_commit: self.world.now,
                log,
                ..Member::default()
            },
        );
        let g = &mut self.family.groups[gid.index()];
        g.members.insert(cid);
        g.empty_since = None;
        self.rebalance(gid);
    }

    /// The member stops: its client state is gone. A clean leave rebalances at once; a crash
    /// only when the session times out (KAF-10).
    pub(crate) fn member_stopped(&mut self, cid: ConsumerId, clean: bool) {
        let Some(gid) = self.group_of(cid) else {
            return;
        };
        let keys: Vec<u64> = self
            .family
            .members
            .get(&cid)
            .map(|m| m.inbound.iter().map(|(_, k)| *k).collect())
            .unwrap_or_default();
        self.wire.moving.retain(|(_, k), _| !keys.contains(k));
        if clean {
            // close() commits under auto-commit before leaving (KAF-13).
            let owned = self.family.groups[gid.index()]
                .assignment
                .get(&cid)
                .cloned()
                .unwrap_or_default();
            self.revoke(gid, cid, &owned);
        }
        // The client's state is gone; only the delivery log is kept for reports.
        if let Some(m) = self.family.members.get_mut(&cid) {
            let log = std::mem::take(&mut m.log);
            *m = Member {
                log,
                ..Member::default()
            };
        }
        self.set_busy(cid, false);
        if clean {
            self.family.groups[gid.index()].members.remove(&cid);
            self.rebalance(gid);
        } else {
            let epoch = self.clients.consumers[cid.index()].epoch;
            let timeout = ms_to_us(self.family.groups[gid.index()].spec.session_timeout_ms);
            self.world.schedule(
                self.world.now.plus(timeout),
                KafkaWork::SessionTimeout {
                    consumer: cid,
                    epoch,
                },
            );
        }
    }

    pub(crate) fn session_timeout(&mut self, cid: ConsumerId, epoch: u32) {
        let c = &self.clients.consumers[cid.index()];
        if c.epoch != epoch || c.status == ConsumerStatus::Running {
            return;
        }
        let Some(gid) = self.group_of(cid) else {
            return;
        };
        if self.family.groups[gid.index()].members.remove(&cid) {
            self.world.emit(EventKind::SessionExpired { consumer: cid });
            self.rebalance(gid);
        }
    }

    /// Starts a rebalance. Eager assignors revoke everything first, so the whole group stops;
    /// cooperative ones revoke only what moves (KAF-11).
    pub(crate) fn rebalance(&mut self, gid: GroupId) {
        let g = &mut self.family.groups[gid.index()];
        if g.members.is_empty() && g.empty_since.is_none() {
            g.empty_since = Some(self.world.now);
            let at = self.world.now.plus(ms_to_us(g.spec.offsets_retention_ms));
            let since = self.world.now;
            self.world
                .schedule(at, KafkaWork::OffsetsExpire { group: gid, since });
        }
        let g = &mut self.family.groups[gid.index()];
        g.generation += 1;
        g.rebalances += 1;
        let generation = g.generation;
        let cooperative = g.spec.assignor.is_cooperative();
        let revoked = if cooperative {
            let (revoked, moving) = self.cooperative_moves(gid);
            if let Some(moving) = moving {
                self.family.groups[gid.index()].moving = moving;
            }
            revoked
        } else {
            // Eager: every member gives up everything first.
            let g = &mut self.family.groups[gid.index()];
            g.rebalancing = true;
            g.assignment
                .iter()
                .map(|(c, tps)| (*c, tps.clone()))
                .collect()
        };
        let Kafka {
            groups, members, ..
        } = &mut *self.family;
        for (cid, tps) in &groups[gid.index()].assignment {
            if let Some(m) = members.get_mut(cid) {
                if m.owned_before.is_empty() {
                    m.owned_before = tps.clone();
                }
            }
        }
        for (cid, tps) in &revoked {
            self.revoke(gid, *cid, tps);
        }
        self.world.emit(EventKind::RebalanceStarted {
            group: gid,
            generation,
        });
        let delay = ms_to_us(self.family.groups[gid.index()].spec.rebalance_ms);
        self.world.schedule(
            self.world.now.plus(delay),
            KafkaWork::RebalanceDone {
                group: gid,
                generation,
            },
        );
    }

    /// What a cooperative rebalance revokes (per member, what the new plan takes away) and the
    /// partitions that move meanwhile, or `None` if those are unchanged (KAF-11).
    fn cooperative_moves(&self, gid: GroupId) -> (Revoked, Option<BTreeSet<TopicPartition>>) {
        let g = &self.family.groups[gid.index()];
        if !g.members.is_empty() && g.assignment.values().all(Vec::is_empty) {
            // Nobody owns anything, so nothing is revoked and every partition moves in, whatever
            // the plan: joins in a row (as at setup) need no plan each.
            return (Vec::new(), g.all_partitions(&self.family.topics, &g.moving));
        }
        let target = self.target_assignment(gid);
        let revoked: Revoked = g
            .assignment
            .iter()
            .map(|(c, old)| {
                (
                    *c,
                    missing_from(old, target.get(c).map_or(&[], Vec::as_slice)),
                )
            })
            .filter(|(_, gone)| !gone.is_empty())
            .collect();
        let moving = target
            .iter()
            .flat_map(|(c, new)| missing_from(new, g.assignment.get(c).map_or(&[], Vec::as_slice)))
            .chain(revoked.iter().flat_map(|(_, gone)| gone.iter().copied()))
            .collect();
        (revoked, Some(moving))
    }

    /// Revoking commits what was processed (auto-commit commits on revoke and on close) and
    /// drops what was fetched but not processed; the next owner reads it again.
    pub(crate) fn revoke(&mut self, gid: GroupId, cid: ConsumerId, tps: &[TopicPartition]) {
        let auto = matches!(
            self.family.groups[gid.index()].spec.commit,
            CommitMode::Auto { .. }
        );
        let Some(m) = self.family.members.get_mut(&cid) else {
            return;
        };
        if tps.is_empty() {
            return;
        }
        let gone: BTreeSet<TopicPartition> = tps.iter().copied().collect();
        // Per partition, the earliest record fetched and not yet processed; else the position.
        let mut unprocessed: BTreeMap<TopicPartition, u64> = BTreeMap::new();
        for f in m
            .current
            .iter()
            .chain(m.buffer.iter())
            .chain(m.inbound.iter().map(|(f, _)| f))
            .filter(|f| gone.contains(&f.tp))
        {
            let e = unprocessed.entry(f.tp).or_insert(f.offset);
            *e = (*e).min(f.offset);
        }
        let done: Vec<(TopicPartition, u64)> = gone
            .iter()
            .filter_map(|tp| {
                let off = unprocessed.get(tp).or_else(|| m.positions.get(tp))?;
                Some((*tp, *off))
            })
            .collect();
        m.buffer.retain(|f| !gone.contains(&f.tp));
        let dropped: BTreeSet<u64> = m
            .inbound
            .iter()
            .filter(|(f, _)| gone.contains(&f.tp))
            .map(|(_, k)| *k)
            .collect();
        m.inbound.retain(|(f, _)| !gone.contains(&f.tp));
        for tp in &gone {
            m.positions.remove(tp);
        }
        if !dropped.is_empty() {
            self.wire.moving.retain(|(_, k), _| !dropped.contains(k));
        }
        if auto {
            for (tp, off) in done {
                self.family.set_committed(gid, tp, off);
            }
        }
        let g = &mut self.family.groups[gid.index()];
        if let Some(a) = g.assignment.get_mut(&cid) {
            a.retain(|x| !gone.contains(x));
        }
        for tp in &gone {
            g.owners.remove(&(*tp, cid));
        }
    }

    /// An empty group's committed offsets expire; the reset policy applies next time (KAF-17).
    pub(crate) fn offsets_expire(&mut self, gid: GroupId, since: SimTime) {
        let g = &mut self.family.groups[gid.index()];
        if g.empty_since == Some(since) {
            g.committed.clear();
            g.processed_upto.clear();
            self.family.groups[gid.index()].lag = self.family.recount_lag(gid);
        }
    }

    pub(crate) fn target_assignment(
        &self,
        gid: GroupId,
    ) -> BTreeMap<ConsumerId, Vec<TopicPartition>> {
        let g = &self.family.groups[gid.index()];
        let by_name: BTreeMap<String, ConsumerId> = g
            .members
            .iter()
            .map(|c| (self.clients.consumers[c.index()].spec.name.clone(), *c))
            .collect();
        let names: Vec<String> = by_name.keys().cloned().collect();
        let topics: Vec<(TopicId, String, u32)> = g
            .topic_ids
            .iter()
            .map(|t| {
                let topic = &self.family.topics[t.index()];
                (*t, topic.spec.name.clone(), topic.partitions.len() as u32)
            })
            .collect();
        let previous = g
            .members
            .iter()
            .filter_map(|c| {
                let owned = self
                    .family
                    .members
                    .get(c)
                    .map(|m| m.owned_before.clone())
                    .filter(|o| !o.is_empty())
                    .or_else(|| g.assignment.get(c).cloned())?;
                Some((self.clients.consumers[c.index()].spec.name.clone(), owned))
            })
            .collect();
        assign(g.spec.assignor, &names, &topics, &previous)
            .into_iter()
            .filter_map(|(name, tps)| by_name.get(&name).map(|c| (*c, tps)))
            .collect()
    }

    pub(crate) fn rebalance_done(&mut self, gid: GroupId, generation: u32) {
        if self.family.groups[gid.index()].generation != generation {
            return; // superseded by a later rebalance
        }
        let target = self.target_assignment(gid);
        let reset = self.family.groups[gid.index()].spec.auto_offset_reset;
        for (cid, tps) in &target {
            for tp in tps {
                let owned_before = self.family.groups[gid.index()]
                    .owners
                    .contains(&(*tp, *cid));
                if owned_before {
                    continue;
                }
                // A new owner resumes from the committed offset, or the reset policy (KAF-12, KAF-15).
                let log = &self.family.topics[tp.topic.index()].partitions[tp.partition as usize];
                let g = &mut self.family.groups[gid.index()];
                let start = match (g.committed.get(tp), reset) {
                    (Some(c), _) if *c >= log.start_offset() => Some(*c),
                    (_, OffsetReset::Earliest) => Some(log.start_offset()),
                    (_, OffsetReset::Latest) => Some(log.high_watermark()),
                    // `none`: the client throws NoOffsetForPartitionException (KAF-15).
                    (_, OffsetReset::None) => None,
                };
                let Some(start) = start else {
                    self.world.emit(EventKind::NoOffset {
                        consumer: *cid,
                        topic: tp.topic,
                        partition: tp.partition,
                    });
                    continue;
                };
                g.processed_upto.entry(*tp).or_insert(start);
                if let Some(m) = self.family.members.get_mut(cid) {
                    m.positions.insert(*tp, start);
                }
            }
        }
        let g = &mut self.family.groups[gid.index()];
        g.owners = target
            .iter()
            .flat_map(|(c, tps)| tps.iter().map(move |tp| (*tp, *c)))
            .collect();
        g.assignment = target.clone();
        g.rebalancing = false;
        g.moving.clear();
        for cid in target.keys() {
            if let Some(m) = self.family.members.get_mut(cid) {
                m.owned_before.clear();
            }
        }
        self.world.emit(EventKind::RebalanceDone {
            group: gid,
            generation,
        });
        for cid in target.keys() {
            self.schedule_poll(*cid, 0);
        }
    }

    /// Moves a group's committed offsets (`kafka-consumer-groups --reset-offsets`, KAF-16).
    /// Adds a consumer group from the UI or a script.
    pub(crate) fn create_group(&mut self, group: GroupSpec) -> Result<(), CommandError> {
        at_cap("groups", self.family.groups.len())?;
        if self.family.group_id(&group.name).is_some() {
            return Err(CommandError::Duplicate {
                kind: "group",
                name: group.name,
            });
        }
        let topics = &self.family;
        crate::scenario::validate_group("group", &group, &|t| topics.topic_id(t).is_some())?;
        self.add_group(group);
        Ok(())
    }

    /// `kafka-consumer-groups --reset-offsets` for a named group (KAF-16).
    pub(crate) fn reset_named_group(
        &mut self,
        group: &str,
        to: &OffsetTarget,
    ) -> Result<(), CommandError> {
        let gid = (self.family.group_id(group)).ok_or_else(|| CommandError::UnknownEntity {
            kind: "group",
            name: group.to_string(),
        })?;
        if let OffsetTarget::TimestampMs(ms) = to {
            crate::scenario::check_ms("to.timestamp_ms", *ms)?;
        }
        self.reset_offsets(gid, to);
        Ok(())
    }

    pub(crate) fn reset_offsets(&mut self, gid: GroupId, to: &OffsetTarget) {
        let topic_ids = self.family.groups[gid.index()].topic_ids.clone();
        for t in topic_ids {
            for p in 0..self.family.topics[t.index()].partitions.len() {
                let log = &self.family.topics[t.index()].partitions[p];
                let tp = TopicPartition {
                    topic: t,
                    partition: p as u32,
                };
                let off = match to {
                    crate::command::OffsetTarget::Earliest => log.start_offset(),
                    crate::command::OffsetTarget::Latest => log.high_watermark(),
                    crate::command::OffsetTarget::Offset(o) => {
                        (*o).clamp(log.start_offset(), log.high_watermark())
                    }
                    crate::command::OffsetTarget::TimestampMs(ms) => {
                        log.offset_for_time(SimTime(ms_to_us(*ms)))
                    }
                };
                self.family.set_committed(gid, tp, off);
                let g = &mut self.family.groups[gid.index()];
                // Reading again is a deliberate replay, not a duplicate.
                g.processed_upto.insert(tp, off);
                let owner = g.owners_of(tp).next();
                if let Some(m) = owner.and_then(|c| self.family.members.get_mut(&c)) {
                    m.positions.insert(tp, off);
                    m.buffer.retain(|f| f.tp != tp);
                }
            }
        }
        let members: Vec<ConsumerId> = self.family.groups[gid.index()]
            .members
            .iter()
            .copied()
            .collect();
        for c in members {
            self.schedule_poll(c, 0);
        }
    }

    // ------------------------------------------------------------ direct service
}

fn record_chip(f: &Fetched) -> Chip {
    Chip {
        msg: f.msg,
        producer: (f.producer.0 != u32::MAX).then_some(f.producer),
        priority: None,
        redelivered: false,
        poison: false,
        dead_lettered: false,
        expired: false,
        key: (f.key != NO_KEY).then_some(f.key),
    }
}

/// Work this part schedules on the agenda.
#[derive(Clone, Debug)]
pub(crate) enum KafkaWork {
    ArriveAtPartition {
        slot: Slot,
        topic: TopicId,
        partition: u32,
    },
    RetentionCheck {
        topic: TopicId,
    },
    /// Just before a check that can delete something: wakes the sleeping check.
    RetentionDue {
        topic: TopicId,
    },
    /// The log cleaner looks at a compacted topic (KAF-7).
    CleanerRun {
        topic: TopicId,
    },
    Poll {
        consumer: ConsumerId,
        epoch: u32,
    },
    BatchArrives {
        consumer: ConsumerId,
        epoch: u32,
    },
    RecordProcessed {
        consumer: ConsumerId,
        epoch: u32,
    },
    SessionTimeout {
        consumer: ConsumerId,
        epoch: u32,
    },
    RebalanceDone {
        group: GroupId,
        generation: u32,
    },
    OffsetsExpire {
        group: GroupId,
        since: SimTime,
    },
    /// Brokers, followers and the controller (KAF-19..KAF-23).
    Replication(replication::ReplicationWork),
}

impl<W: From<KafkaWork> + From<ClientWork>> Cx<'_, &mut Kafka, W> {
    pub(crate) fn run_kafka(&mut self, work: KafkaWork) {
        match work {
            KafkaWork::ArriveAtPartition {
                slot,
                topic,
                partition,
            } => {
                self.wire.arrived(self.world.now, slot);
                self.topic_append(slot, topic, partition);
            }
            KafkaWork::RetentionCheck { topic } => self.retention_check(topic),
            KafkaWork::RetentionDue { topic } => self.retention_due_item(topic),
            KafkaWork::CleanerRun { topic } => self.cleaner_run(topic),
            KafkaWork::Poll { consumer, epoch } => self.poll(consumer, epoch),
            KafkaWork::BatchArrives { consumer, epoch } => self.batch_arrives(consumer, epoch),
            KafkaWork::RecordProcessed { consumer, epoch } => {
                self.record_processed(consumer, epoch, false)
            }
            KafkaWork::SessionTimeout { consumer, epoch } => self.session_timeout(consumer, epoch),
            KafkaWork::RebalanceDone { group, generation } => {
                self.rebalance_done(group, generation)
            }
            KafkaWork::OffsetsExpire { group, since } => self.offsets_expire(group, since),
            KafkaWork::Replication(work) => self.run_replication(work),
        }
    }
}
