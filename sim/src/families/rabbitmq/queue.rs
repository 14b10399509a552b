//! A RabbitMQ queue: priority sub-queues, the quorum "returns" list, length limits and TTL
//! bookkeeping. It stores slots only; the simulation owns the copies.

use crate::ids::{ConsumerId, ExchangeId};
use crate::message::Slot;
use crate::scenario::{QueueSpec, QueueType};
use crate::stats::{RateMeter, Series};
use crate::time::SimTime;
use std::collections::{btree_map, BTreeMap, VecDeque};

/// Quorum queues in 4.3 have 32 priority levels, and a message without one counts as 4 (RMQ-20).
pub const QUORUM_PRIORITY_LEVELS: usize = 32;
pub const QUORUM_DEFAULT_PRIORITY: u8 = 4;
/// Quorum queues dead-letter after 20 deliveries unless configured (RMQ-30, since 4.0).
pub const QUORUM_DEFAULT_DELIVERY_LIMIT: i64 = 20;

/// One of a queue's internal FIFO lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubQueue {
    Returns,
    Level(usize),
}

#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub seq: u64,
    pub slot: Slot,
}

/// One priority level's FIFO, ordered by publish sequence. Appends go to a deque; a requeued
/// message that belongs before the tail waits in an ordered map, so putting back n messages
/// costs O(n log n) instead of shifting the deque for each (RMQ-13).
#[derive(Clone, Debug, Default)]
struct Level {
    main: VecDeque<Entry>,
    requeued: BTreeMap<u64, Slot>,
}

impl Level {
    fn push_back(&mut self, e: Entry) {
        self.main.push_back(e);
    }

    fn insert_in_order(&mut self, e: Entry) {
        if self.main.back().is_none_or(|b| b.seq < e.seq) {
            self.main.push_back(e);
        } else {
            self.requeued.insert(e.seq, e.slot);
        }
    }

    fn front(&self) -> Option<Entry> {
        let req = self
            .requeued
            .first_key_value()
            .map(|(&seq, &slot)| Entry { seq, slot });
        match (self.main.front(), req) {
            (Some(m), Some(r)) if r.seq < m.seq => Some(r),
            (Some(m), _) => Some(*m),
            (None, r) => r,
        }
    }

    fn pop_front(&mut self) -> Option<Entry> {
        let e = self.front()?;
        if self.main.front().is_some_and(|m| m.seq == e.seq) {
            self.main.pop_front();
        } else {
            self.requeued.pop_first();
        }
        Some(e)
    }

    fn iter(&self) -> LevelIter<'_> {
        LevelIter {
            main: self.main.iter().peekable(),
            requeued: self.requeued.iter().peekable(),
        }
    }
}

/// A level's entries in order: the merge of its two sorted parts.
struct LevelIter<'a> {
    main: std::iter::Peekable<std::collections::vec_deque::Iter<'a, Entry>>,
    requeued: std::iter::Peekable<btree_map::Iter<'a, u64, Slot>>,
}

impl Iterator for LevelIter<'_> {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        let take_requeued = match (self.main.peek(), self.requeued.peek()) {
            (Some(m), Some((&seq, _))) => seq < m.seq,
            (None, Some(_)) => true,
            (_, None) => false,
        };
        if take_requeued {
            self.requeued
                .next()
                .map(|(&seq, &slot)| Entry { seq, slot })
        } else {
            self.main.next().copied()
        }
    }
}

#[derive(Clone, Debug)]
pub struct Queue {
    pub spec: QueueSpec,
    /// Index = priority level; fetches take from the highest non-empty level (RMQ-19).
    levels: Vec<Level>,
    /// Quorum-queue returns, served before every ready message (RMQ-14).
    returns: VecDeque<Entry>,
    ready_len: u64,
    ready_bytes: u64,
    next_seq: u64,
    pub unacked: u64,
    /// Consumers with free capacity, in round-robin order (RMQ-8).
    pub rotation: VecDeque<ConsumerId>,
    /// All consumers subscribed, blocked or not.
    pub consumers: Vec<ConsumerId>,
    pub dead_letter_exchange: Option<ExchangeId>,
    /// Deleted (`x-expires`, RMQ-28; exclusive, auto-delete or transient, RMQ-32, RMQ-33);
    /// kept so ids stay stable.
    pub deleted: bool,
    /// Sequence numbers below this are on disk (RMQ-31).
    synced_seq: u64,
    /// Has had a consumer since it was declared or recovered (RMQ-33).
    pub had_consumer: bool,
    /// Since when the queue has had no consumers, if `x-expires` is set.
    pub unused_since: Option<SimTime>,
    /// The pending head-expiry timer, so only one is scheduled at a time.
    pub expiry_timer: Option<SimTime>,
    pub publish_rate: RateMeter,
    pub deliver_rate: RateMeter,
    pub redeliver_rate: RateMeter,
    pub ack_rate: RateMeter,
    pub depth: Series,
    /// The node the queue runs on: a classic queue's node, a quorum queue's leader (RMQ-32).
    pub node: u32,
    /// A quorum queue's members, leader included; empty for a classic queue.
    pub members: Vec<u32>,
    /// A quorum queue's followers are electing a new leader (quorum-queues#leader-election).
    pub electing: bool,
    /// Publishes a quorum queue without a leader or a majority has not taken yet: the
    /// publisher's channel keeps and resends them to the next leader, unconfirmed
    /// (`rabbit_fifo_client` `resend_all_pending`). Their copies stay in flight.
    pub held: Vec<Slot>,
    /// Publishes its leader took while cut off from the other members (a network partition):
    /// in its log, never committed, never confirmed. Their copies stay in flight until the
    /// partition heals (quorum-queues#data-safety).
    pub uncommitted: Vec<Slot>,
}

impl Queue {
    pub fn new(spec: QueueSpec, dead_letter_exchange: Option<ExchangeId>) -> Queue {
        let levels = match (spec.kind, spec.max_priority) {
            (QueueType::Quorum, _) => QUORUM_PRIORITY_LEVELS,
            (QueueType::Classic, Some(max)) => max as usize + 1,
            (QueueType::Classic, None) => 1,
        };
        Queue {
            spec,
            levels: vec![Level::default(); levels],
            returns: VecDeque::new(),
            ready_len: 0,
            ready_bytes: 0,
            next_seq: 0,
            unacked: 0,
            rotation: VecDeque::new(),
            consumers: Vec::new(),
            dead_letter_exchange,
            deleted: false,
            synced_seq: 0,
            had_consumer: false,
            unused_since: None,
            expiry_timer: None,
            publish_rate: RateMeter::new(crate::COLLECT_STATISTICS_INTERVAL),
            deliver_rate: RateMeter::new(crate::COLLECT_STATISTICS_INTERVAL),
            redeliver_rate: RateMeter::new(crate::COLLECT_STATISTICS_INTERVAL),
            ack_rate: RateMeter::new(crate::COLLECT_STATISTICS_INTERVAL),
            depth: Series::new(crate::SERIES_CAPACITY, crate::SAMPLE_INTERVAL),
            node: 0,
            members: Vec::new(),
            electing: false,
            held: Vec::new(),
            uncommitted: Vec::new(),
        }
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn is_quorum(&self) -> bool {
        self.spec.kind == QueueType::Quorum
    }

    /// A durable classic queue: it writes persistent messages to disk in batches (RMQ-31).
    pub fn stores(&self) -> bool {
        !self.is_quorum() && self.spec.survives_restart()
    }

    /// The fsync: everything enqueued so far is on disk.
    pub fn mark_synced(&mut self) {
        self.synced_seq = self.next_seq;
    }

    pub fn on_disk(&self, seq: u64) -> bool {
        seq < self.synced_seq
    }

    /// Takes every ready entry out, for the caller to put back those a restart keeps (RMQ-32).
    pub fn drain_ready(&mut self) -> Vec<Entry> {
        let mut all: Vec<Entry> = self.returns.drain(..).collect();
        for level in &mut self.levels {
            all.extend(std::mem::take(level).iter());
        }
        self.ready_len = 0;
        self.ready_bytes = 0;
        all
    }

    /// The sub-queue a message of this priority belongs to (RMQ-17, RMQ-20).
    pub fn level_of(&self, priority: Option<u8>) -> usize {
        let top = self.levels.len() - 1;
        let p = match self.spec.kind {
            QueueType::Quorum => priority.unwrap_or(QUORUM_DEFAULT_PRIORITY),
            QueueType::Classic => priority.unwrap_or(0),
        };
        (p as usize).min(top)
    }

    /// `x-delivery-limit`, if it is enforced.
    pub fn delivery_limit(&self) -> Option<u32> {
        if !self.is_quorum() {
            return None;
        }
        match self
            .spec
            .delivery_limit
            .unwrap_or(QUORUM_DEFAULT_DELIVERY_LIMIT)
        {
            -1 => None,
            n => Some(n.max(0) as u32),
        }
    }

    pub fn ready_len(&self) -> u64 {
        self.ready_len
    }

    pub fn ready_bytes(&self) -> u64 {
        self.ready_bytes
    }

    /// Whether one more message of `size` would break `x-max-length(-bytes)` (RMQ-22, RMQ-24).
    /// Quorum queues check before the enqueue, so they can end one message over (RMQ-24).
    pub fn would_overflow(&self, size: u64) -> bool {
        // rabbit_fifo refuses only once Ready is already over the limit, so a quorum queue
        // can end one message over it (RMQ-24).
        let (len, bytes) = if self.is_quorum() {
            (self.ready_len, self.ready_bytes)
        } else {
            (self.ready_len + 1, self.ready_bytes + size)
        };
        self.spec.max_length.is_some_and(|m| len > m)
            || self.spec.max_length_bytes.is_some_and(|m| bytes > m)
    }

    /// Whether the queue is now over a limit, so drop-head must remove from the head (RMQ-23).
    pub fn is_over_limit(&self) -> bool {
        self.spec.max_length.is_some_and(|m| self.ready_len > m)
            || self
                .spec
                .max_length_bytes
                .is_some_and(|m| self.ready_bytes > m)
    }

    /// Appends at the tail of its priority level.
    pub fn push(&mut self, slot: Slot, level: usize, size: u32) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.levels[level].push_back(Entry { seq, slot });
        self.ready_len += 1;
        self.ready_bytes += u64::from(size);
        seq
    }

    /// Puts a returned message back: at its original position in a classic queue (RMQ-13),
    /// at the back of the returns list in a quorum queue (RMQ-14).
    pub fn requeue(&mut self, slot: Slot, seq: u64, level: usize, size: u32) {
        let entry = Entry { seq, slot };
        if self.is_quorum() {
            self.returns.push_back(entry);
        } else {
            self.levels[level].insert_in_order(entry);
        }
        self.ready_len += 1;
        self.ready_bytes += u64::from(size);
    }

    /// The next message to deliver, without removing it.
    pub fn head(&self) -> Option<Entry> {
        if let Some(e) = self.returns.front() {
            return Some(*e);
        }
        self.levels.iter().rev().find_map(Level::front)
    }

    /// The fronts where expiry is checked: the head only in a classic queue (RMQ-27), the
    /// front of every priority level in a quorum queue (RMQ-21).
    pub fn expiry_fronts(&self) -> impl Iterator<Item = (SubQueue, Entry)> + '_ {
        let all = self.is_quorum();
        let returns = self.returns.front().map(|e| (SubQueue::Returns, *e));
        let levels = self
            .levels
            .iter()
            .enumerate()
            .rev()
            .filter_map(|(i, l)| l.front().map(|e| (SubQueue::Level(i), e)));
        returns
            .into_iter()
            .chain(levels)
            .take(if all { usize::MAX } else { 1 })
    }

    /// Removes the front of one sub-queue.
    pub fn pop_front_of(&mut self, sub: SubQueue, size: u32) {
        let popped = match sub {
            SubQueue::Returns => self.returns.pop_front(),
            SubQueue::Level(i) => self.levels[i].pop_front(),
        };
        if popped.is_some() {
            self.ready_len -= 1;
            self.ready_bytes -= u64::from(size);
        }
    }

    /// Removes the head (the entry [`Queue::head`] returned).
    pub fn pop_head(&mut self, size: u32) -> Option<Entry> {
        let e = if let Some(e) = self.returns.pop_front() {
            Some(e)
        } else {
            self.levels.iter_mut().rev().find_map(Level::pop_front)
        };
        if e.is_some() {
            self.ready_len -= 1;
            self.ready_bytes -= u64::from(size);
        }
        e
    }

    /// Ready messages in delivery order, up to `limit`, for display.
    pub fn ready_in_order(&self, limit: usize) -> Vec<Slot> {
        self.returns
            .iter()
            .copied()
            .chain(self.levels.iter().rev().flat_map(Level::iter))
            .take(limit)
            .map(|e| e.slot)
            .collect()
    }

    /// Every ready slot, for audits and final reports.
    pub fn all_ready(&self) -> impl Iterator<Item = Slot> + '_ {
        self.returns
            .iter()
            .copied()
            .chain(self.levels.iter().rev().flat_map(Level::iter))
            .map(|e| e.slot)
    }

    pub fn add_consumer(&mut self, c: ConsumerId) {
        if !self.consumers.contains(&c) {
            self.consumers.push(c);
        }
    }

    pub fn remove_consumer(&mut self, c: ConsumerId) {
        self.consumers.retain(|x| *x != c);
        self.rotation.retain(|x| *x != c);
    }

    /// A consumer with free capacity rejoins at the back of the rotation (RMQ-8).
    pub fn unblock(&mut self, c: ConsumerId) {
        if self.consumers.contains(&c) && !self.rotation.contains(&c) {
            self.rotation.push_back(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classic() -> Queue {
        Queue::new(
            serde_json::from_str(r#"{"name":"q"}"#).expect("a queue spec"),
            None,
        )
    }

    #[test]
    fn rmq_13_requeue_restores_publish_order_across_interleaved_consumers() {
        let mut q = classic();
        let seqs: Vec<u64> = (0..1_000).map(|i| q.push(i, 0, 1)).collect();
        let all: Vec<Entry> = std::iter::from_fn(|| q.pop_head(1)).collect();
        assert_eq!(all.len(), 1_000);
        // Two consumers held alternate messages; the odd ones come back first, then the even.
        for e in all.iter().filter(|e| e.seq % 2 == 1) {
            q.requeue(e.slot, e.seq, 0, 1);
        }
        for e in all.iter().filter(|e| e.seq % 2 == 0) {
            q.requeue(e.slot, e.seq, 0, 1);
        }
        let order: Vec<Slot> = q.all_ready().collect();
        assert_eq!(order, (0..1_000).collect::<Vec<Slot>>());
        assert_eq!(q.ready_in_order(3), vec![0, 1, 2]);
        let popped: Vec<u64> = std::iter::from_fn(|| q.pop_head(1))
            .map(|e| e.seq)
            .collect();
        assert_eq!(popped, seqs);
        assert_eq!(q.ready_len(), 0);
    }

    #[test]
    fn rmq_13_new_publishes_queue_behind_requeued_ones() {
        let mut q = classic();
        let a = q.push(10, 0, 1);
        let b = q.push(11, 0, 1);
        q.pop_head(1);
        q.requeue(10, a, 0, 1);
        let c = q.push(12, 0, 1);
        assert!(a < b && b < c);
        assert_eq!(q.all_ready().collect::<Vec<_>>(), vec![10, 11, 12]);
    }
}
