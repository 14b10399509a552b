//! A Kafka partition's log: append-only records with offsets, split into segments, and
//! retention that deletes whole closed segments (KAF-1, KAF-5, KAF-6). A log knows nothing of
//! the broker hosting it, so replicas can be added later.

use crate::ids::{MessageId, ProducerId};
use crate::time::SimTime;
use std::collections::VecDeque;

/// One record. Kept small: a million retained records must fit in 64 MB of core state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    pub msg: MessageId,
    pub timestamp: SimTime,
    pub producer: ProducerId,
    /// Interned key, or `u32::MAX` for none.
    pub key: u32,
    pub size: u32,
}

/// A segment: a run of offsets starting at `base`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub base: u64,
    pub records: u64,
    pub bytes: u64,
    /// Largest record timestamp; time retention looks at this (KAF-5).
    pub max_timestamp: SimTime,
    pub created: SimTime,
}

/// Segment and retention settings of a topic, in microseconds and bytes; `None` is off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogConfig {
    pub segment_bytes: u64,
    pub segment_us: u64,
    pub retention_us: Option<u64>,
    pub retention_bytes: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct PartitionLog {
    records: VecDeque<Record>,
    segments: VecDeque<Segment>,
    /// The log start offset: the first offset still readable (KAF-6).
    start: u64,
    bytes: u64,
}

impl Default for PartitionLog {
    fn default() -> Self {
        PartitionLog::new()
    }
}

impl PartitionLog {
    pub fn new() -> PartitionLog {
        PartitionLog {
            records: VecDeque::new(),
            segments: VecDeque::new(),
            start: 0,
            bytes: 0,
        }
    }

    pub fn start_offset(&self) -> u64 {
        self.start
    }

    /// The log end offset: the next offset to be assigned. With one replica it is also the
    /// high watermark (KAF-18).
    pub fn end_offset(&self) -> u64 {
        self.start + self.records.len() as u64
    }

    pub fn len(&self) -> u64 {
        self.records.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn segments(&self) -> impl Iterator<Item = &Segment> {
        self.segments.iter()
    }

    /// Appends a record, rolling to a new segment by size or age; returns its offset (KAF-1).
    pub fn append(&mut self, record: Record, config: &LogConfig) -> u64 {
        let offset = self.end_offset();
        let roll = self.segments.back().is_none_or(|s| {
            s.bytes >= config.segment_bytes
                || record.timestamp.since(s.created) >= config.segment_us
        });
        if roll {
            self.segments.push_back(Segment {
                base: offset,
                records: 0,
                bytes: 0,
                max_timestamp: record.timestamp,
                created: record.timestamp,
            });
        }
        let seg = self
            .segments
            .back_mut()
            .expect("a segment exists after rolling");
        seg.records += 1;
        seg.bytes += u64::from(record.size);
        seg.max_timestamp = seg.max_timestamp.max(record.timestamp);
        self.bytes += u64::from(record.size);
        self.records.push_back(record);
        offset
    }

    pub fn get(&self, offset: u64) -> Option<&Record> {
        offset
            .checked_sub(self.start)
            .and_then(|i| self.records.get(i as usize))
    }

    /// Records from `from` (clamped to the log start), in offset order.
    pub fn iter_from(&self, from: u64) -> impl Iterator<Item = (u64, &Record)> {
        let skip = from.saturating_sub(self.start) as usize;
        self.records
            .iter()
            .enumerate()
            .skip(skip)
            .map(move |(i, r)| (self.start + i as u64, r))
    }

    /// The first offset whose timestamp is at or after `t` (`offsetsForTimes`, KAF-16).
    pub fn offset_for_time(&self, t: SimTime) -> u64 {
        let i = self.records.partition_point(|r| r.timestamp < t);
        self.start + i as u64
    }

    /// The earliest time at which [`PartitionLog::apply_retention`] deletes something if nothing
    /// is appended before: the oldest segment's newest record expires (KAF-5), or at once when
    /// size retention already allows deleting it. `None`: never (empty log, or retention off).
    pub fn retention_due(&self, config: &LogConfig) -> Option<SimTime> {
        let oldest = self.segments.front()?;
        let by_size = self.segments.len() > 1
            && config
                .retention_bytes
                .is_some_and(|r| self.bytes - oldest.bytes >= r);
        if by_size {
            return Some(SimTime::ZERO);
        }
        // `now.since(newest) > retention` first holds one microsecond after newest + retention.
        let r = config.retention_us?;
        oldest
            .max_timestamp
            .0
            .checked_add(r)?
            .checked_add(1)
            .map(SimTime)
    }

    /// Deletes whole segments that time or size retention allows (KAF-5) and returns the
    /// removed records. An expired active segment goes too (the next append rolls a new one);
    /// size retention never empties the log.
    pub fn apply_retention(&mut self, now: SimTime, config: &LogConfig) -> Vec<Record> {
        let mut removed = Vec::new();
        while let Some(&oldest) = self.segments.front() {
            let active = self.segments.len() == 1;
            let by_time = config
                .retention_us
                .is_some_and(|r| now.since(oldest.max_timestamp) > r);
            // Delete only if what remains still reaches the limit, so a partition can sit up to
            // one segment above it (KAF-5).
            let by_size = !active
                && config
                    .retention_bytes
                    .is_some_and(|r| self.bytes - oldest.bytes >= r);
            if !(by_time || by_size) {
                break;
            }
            self.segments.pop_front();
            self.bytes -= oldest.bytes;
            for _ in 0..oldest.records {
                removed.push(
                    self.records
                        .pop_front()
                        .expect("segment records are in the log"),
                );
            }
            // The log start offset moves to the oldest remaining segment, or to the end (KAF-6).
            self.start = self
                .segments
                .front()
                .map_or(oldest.base + oldest.records, |s| s.base);
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(i: u64, t: u64, size: u32) -> Record {
        Record {
            msg: MessageId(i),
            timestamp: SimTime(t),
            producer: ProducerId(0),
            key: u32::MAX,
            size,
        }
    }

    fn config(segment_bytes: u64) -> LogConfig {
        LogConfig {
            segment_bytes,
            segment_us: u64::MAX,
            retention_us: None,
            retention_bytes: None,
        }
    }

    #[test]
    fn kaf_01_offsets_are_sequential_and_never_reused() {
        let mut log = PartitionLog::new();
        let c = config(100);
        let offsets: Vec<u64> = (0..5).map(|i| log.append(rec(i, i, 10), &c)).collect();
        assert_eq!(offsets, vec![0, 1, 2, 3, 4]);
        assert_eq!(log.get(3).unwrap().msg, MessageId(3));
    }

    #[test]
    fn kaf_05_size_retention_keeps_at_least_the_limit() {
        // Segments 400/400/400/400 with a 1000-byte limit: one segment goes, 1200 remain.
        let mut log = PartitionLog::new();
        let mut c = config(400);
        for i in 0..16 {
            log.append(rec(i, i, 100), &c);
        }
        assert_eq!(log.segments().count(), 4);
        c.retention_bytes = Some(1000);
        let removed = log.apply_retention(SimTime(100), &c);
        assert_eq!(removed.len(), 4);
        assert_eq!(log.bytes(), 1200);
        assert_eq!(log.start_offset(), 4);
        // 400/400/400 = 1200: removing one would leave 800 < 1000, so nothing goes.
        assert!(log.apply_retention(SimTime(100), &c).is_empty());
    }

    #[test]
    fn kaf_05_time_retention_uses_the_newest_record_of_a_segment() {
        let mut log = PartitionLog::new();
        let mut c = config(300);
        for i in 0..6 {
            log.append(rec(i, i * 1_000, 100), &c);
        }
        c.retention_us = Some(2_500);
        // First segment's newest record is at 2000: 4000 - 2000 = 2000 is not > 2500.
        assert!(log.apply_retention(SimTime(4_000), &c).is_empty());
        assert_eq!(log.apply_retention(SimTime(4_501), &c).len(), 3);
        assert_eq!(log.start_offset(), 3);
    }

    #[test]
    fn kaf_05_retention_due_is_the_first_instant_that_deletes() {
        // Time: the first segment (newest record at 2000) can go from 2000 + 2500 + 1 on.
        let mut log = PartitionLog::new();
        let mut c = config(300);
        assert_eq!(log.retention_due(&c), None, "an empty log never deletes");
        for i in 0..6 {
            log.append(rec(i, i * 1_000, 100), &c);
        }
        assert_eq!(log.retention_due(&c), None, "retention off");
        c.retention_us = Some(2_500);
        let due = log.retention_due(&c).unwrap();
        assert_eq!(due, SimTime(4_501));
        assert!(log
            .clone()
            .apply_retention(SimTime(due.0 - 1), &c)
            .is_empty());
        assert_eq!(log.apply_retention(due, &c).len(), 3);
        assert_eq!(log.retention_due(&c), Some(SimTime(7_501)));
        // Size: due at once when deleting the oldest still leaves the limit; never for a lone
        // (active) segment.
        let mut log = PartitionLog::new();
        let mut c = config(400);
        c.retention_bytes = Some(1000);
        for i in 0..12 {
            log.append(rec(i, i, 100), &c);
        }
        assert_eq!(log.retention_due(&c), None, "400/400/400: nothing may go");
        log.append(rec(12, 12, 100), &c);
        assert_eq!(log.retention_due(&c), None, "1300 - 400 < 1000");
        log.append(rec(13, 13, 100), &c);
        assert_eq!(
            log.retention_due(&c),
            Some(SimTime::ZERO),
            "1400 - 400 >= 1000"
        );
        assert_eq!(log.apply_retention(SimTime(14), &c).len(), 4);
        c.segment_bytes = u64::MAX;
        let mut lone = PartitionLog::new();
        lone.append(rec(0, 0, 5000), &c);
        assert_eq!(lone.retention_due(&c), None);
    }

    #[test]
    fn kaf_06_log_start_offset_moves_to_the_oldest_remaining_segment() {
        let mut log = PartitionLog::new();
        let mut c = config(200);
        for i in 0..6 {
            log.append(rec(i, 0, 100), &c);
        }
        c.retention_bytes = Some(1);
        log.apply_retention(SimTime(1), &c);
        // The active segment stays, so its base is the new start.
        assert_eq!(log.start_offset(), 4);
        assert_eq!(log.end_offset(), 6);
        assert!(log.get(3).is_none());
        assert_eq!(log.iter_from(0).next().unwrap().0, 4);
    }
}
