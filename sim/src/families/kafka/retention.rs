//! When a topic's retention check runs (KAF-5): every `log.retention.check.interval.ms`, on the
//! same grid as ever, but only the checks that can delete something are real work items. The
//! check is a sleeping kernel timer while no partition holds expirable data, so an idle topic
//! costs nothing however long the run, and a check visits only the partitions that are due.

use super::{Kafka, KafkaWork};
use crate::clients::{ClientWork, Cx};
use crate::event::EventKind;
use crate::ids::TopicId;
use crate::kernel::agenda::TimerId;
use crate::ledger::CopyState;
use crate::time::SimTime;
use std::collections::BTreeSet;

/// A topic's retention timer and, per partition, the earliest time its retention could delete
/// something.
#[derive(Clone, Debug)]
pub(crate) struct RetentionSchedule {
    pub timer: TimerId,
    pub period: u64,
    /// Per partition: a lower bound of [`super::log::PartitionLog::retention_due`]. Appends only
    /// lower it, so a check may find nothing to do, but none that deletes is ever missed.
    due: Vec<Option<SimTime>>,
    /// The same, ordered by (time, partition).
    by_time: BTreeSet<(SimTime, u32)>,
    /// The earliest pending `RetentionDue` item, so appends do not schedule one each.
    due_item: Option<SimTime>,
}

impl RetentionSchedule {
    pub fn new(timer: TimerId, period: u64, partitions: usize) -> RetentionSchedule {
        RetentionSchedule {
            timer,
            period,
            due: vec![None; partitions],
            by_time: BTreeSet::new(),
            due_item: None,
        }
    }

    /// The earliest time any partition could delete something.
    pub fn earliest(&self) -> Option<SimTime> {
        self.by_time.first().map(|(t, _)| *t)
    }

    fn set(&mut self, partition: u32, due: Option<SimTime>) {
        let slot = &mut self.due[partition as usize];
        if let Some(old) = slot.take() {
            self.by_time.remove(&(old, partition));
        }
        if let Some(t) = due {
            self.by_time.insert((t, partition));
        }
        *slot = due;
    }

    /// After an append: keeps the earlier of the two; true if it moved earlier.
    fn lower(&mut self, partition: u32, due: Option<SimTime>) -> bool {
        let Some(t) = due else {
            return false;
        };
        if self.due[partition as usize].is_some_and(|old| old <= t) {
            return false;
        }
        self.set(partition, Some(t));
        true
    }

    /// Removes and returns, in partition order, the partitions due by `now`.
    fn take_due(&mut self, now: SimTime) -> Vec<u32> {
        let mut due = Vec::new();
        while let Some(&(t, p)) = self.by_time.first() {
            if t > now {
                break;
            }
            self.by_time.pop_first();
            self.due[p as usize] = None;
            due.push(p);
        }
        due.sort_unstable();
        due
    }
}

impl<W: From<KafkaWork> + From<ClientWork>> Cx<'_, &mut Kafka, W> {
    /// An append to `partition` may make retention due earlier.
    pub(crate) fn retention_after_append(&mut self, topic: TopicId, partition: u32) {
        let t = &mut self.family.topics[topic.index()];
        let due = t.partitions[partition as usize].retention_due(&t.config);
        if t.retention.lower(partition, due) {
            self.arm_retention(topic);
        }
    }

    /// Deletes what time and size retention allow in the partitions that are due (KAF-5, KAF-6),
    /// then keeps the next check only if it can delete something.
    pub(crate) fn retention_check(&mut self, topic: TopicId) {
        let now = self.world.now;
        let t = &mut self.family.topics[topic.index()];
        let config = t.config;
        let mut removed_events = Vec::new();
        // Partitions that are not due would delete nothing.
        for p in t.retention.take_due(now) {
            let log = &mut t.partitions[p as usize];
            let (start, end) = (log.start_offset(), log.high_watermark());
            let removed = log.apply_retention(now, &config);
            // Segments of only compacted records hold nothing to count but still move the start.
            if !removed.is_empty() || log.start_offset() != start {
                removed_events.push((p, removed.len() as u64, start, end, log.start_offset()));
            }
            t.retention.set(p, log.retention_due(&config));
        }
        for (partition, count, before, end, start) in removed_events {
            let tp = super::TopicPartition { topic, partition };
            self.family.offsets_moved(tp, before, end);
            for _ in 0..count {
                self.world.ledger.leave(CopyState::Retained);
                self.world.ledger.enter(CopyState::RemovedByRetention);
            }
            if count > 0 {
                self.world.emit(EventKind::RetentionDeleted {
                    topic,
                    partition,
                    records: count,
                    log_start: start,
                });
            }
        }
        let r = &self.family.topics[topic.index()].retention;
        let next = now.plus(r.period);
        let work = KafkaWork::RetentionCheck { topic };
        if r.earliest().is_some_and(|due| due <= next) {
            self.world.schedule(next, work);
        } else {
            // Scheduling and sleeping take the same place in the order; asleep, the checks in
            // between cost nothing.
            self.world.sleep_timer(r.timer, next, work);
            self.arm_retention(topic);
        }
    }

    /// A `RetentionDue` item: the sleeping check may have to run at its next firing.
    pub(crate) fn retention_due_item(&mut self, topic: TopicId) {
        let r = &mut self.family.topics[topic.index()].retention;
        if r.due_item == Some(self.world.now) {
            r.due_item = None;
        }
        self.arm_retention(topic);
    }

    /// Makes sure the retention timer is awake for the first check that can delete something:
    /// wakes it if that is its next firing, or else schedules a `RetentionDue` item just before
    /// that check. Waking early is harmless: the check finds nothing and sleeps again.
    fn arm_retention(&mut self, topic: TopicId) {
        let r = &self.family.topics[topic.index()].retention;
        let (timer, period) = (r.timer, r.period);
        let Some(due) = r.earliest() else {
            return;
        };
        // Awake: its next check looks again.
        let Some(next) = self.world.timer_sleeping_until(timer) else {
            return;
        };
        if due <= next {
            self.world.wake_timer(timer);
            return;
        }
        // The first check at or after `due`, on the timer's grid; none before the end of time.
        let Some(check) = (due.0 - next.0)
            .div_ceil(period)
            .checked_mul(period)
            .and_then(|d| next.0.checked_add(d))
        else {
            return;
        };
        let at = SimTime(check - 1);
        let r = &mut self.family.topics[topic.index()].retention;
        if r.due_item.is_none_or(|pending| pending > at) {
            r.due_item = Some(at);
            self.world.schedule(at, KafkaWork::RetentionDue { topic });
        }
    }
}
