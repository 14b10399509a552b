//! A Kafka partition's log: append-only records with offsets, split into segments, retention
//! that deletes whole closed segments (KAF-1, KAF-5, KAF-6), and the log cleaner's compaction,
//! which removes superseded records but never moves an offset (KAF-7). A log knows nothing of
//! the broker hosting it, so replicas can be added later.

use crate::ids::{MessageId, ProducerId};
use crate::message::PipeTag;
use crate::time::SimTime;
use std::collections::{BTreeMap, VecDeque};

/// One record. Kept small: a million retained records must fit in 64 MB of core state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    pub msg: MessageId,
    pub timestamp: SimTime,
    pub producer: ProducerId,
    /// Interned key, or `u32::MAX` for none.
    pub key: u32,
    pub size: u32,
    /// A null value: deletes its key when compacted (KAF-7).
    pub tombstone: bool,
    /// Removed by compaction: its offset stays a gap that reads skip (KAF-7).
    pub compacted: bool,
}

/// A segment: a run of offsets starting at `base`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub base: u64,
    /// Offsets the segment spans, compacted ones included.
    pub records: u64,
    /// Of those, removed by compaction.
    pub compacted: u64,
    pub bytes: u64,
    /// Largest record timestamp; time retention looks at this (KAF-5).
    pub max_timestamp: SimTime,
    pub created: SimTime,
}

/// Segment and retention settings of a topic, in microseconds and bytes; `None` is off.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogConfig {
    pub segment_bytes: u64,
    pub segment_us: u64,
    pub retention_us: Option<u64>,
    pub retention_bytes: Option<u64>,
    /// `None` unless `cleanup.policy` includes `compact`.
    pub compaction: Option<CompactionConfig>,
}

/// The log cleaner's settings for a compacted topic (KAF-7).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CompactionConfig {
    /// `delete.retention.ms`: a tombstone stays this long after the cleaning that first kept it.
    pub delete_retention_us: u64,
    /// `min.compaction.lag.ms`: a segment holding a younger record is not cleaned.
    pub min_lag_us: u64,
    /// `min.cleanable.dirty.ratio`: dirty bytes / (clean + dirty bytes) that starts a cleaning.
    pub min_dirty_ratio: f64,
}

/// What one cleaning removed from a partition (KAF-7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cleaned {
    /// Records with a later value for their key.
    pub superseded: u64,
    /// Tombstones whose `delete.retention.ms` had passed.
    pub tombstones: u64,
}

#[derive(Clone, Debug)]
pub struct PartitionLog {
    records: VecDeque<Record>,
    segments: VecDeque<Segment>,
    /// The log start offset: the first offset still readable (KAF-6).
    start: u64,
    bytes: u64,
    /// Records removed by compaction still between `start` and the end (gaps).
    compacted: u64,
    /// The cleaner's checkpoint: offsets below it have been cleaned once (KAF-7).
    first_dirty: u64,
    /// Tombstones kept by a cleaning, by offset, with the time from which the next cleaning
    /// removes them (`delete.retention.ms` after that first cleaning).
    tombstone_horizons: BTreeMap<u64, SimTime>,
    /// The high watermark when replicas keep it behind the end; `None`: at the end (KAF-20).
    high_watermark: Option<u64>,
    /// The transaction tags of stage records, by offset (issue 14): beside the records, so a
    /// plain record stays small.
    pipes: BTreeMap<u64, PipeTag>,
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
            compacted: 0,
            first_dirty: 0,
            tombstone_horizons: BTreeMap::new(),
            high_watermark: None,
            pipes: BTreeMap::new(),
        }
    }

    /// The offset just past the last committed record: consumers read below it (KAF-20).
    pub fn high_watermark(&self) -> u64 {
        (self.high_watermark).map_or(self.end_offset(), |hw| hw.max(self.start))
    }

    /// Sets the high watermark kept by replication (KAF-20); at most the end offset.
    pub fn set_high_watermark(&mut self, hw: u64) {
        self.high_watermark = Some(hw.clamp(self.start, self.end_offset()));
    }

    /// Cuts the log back to end at `offset` (a leader election, KAF-23); returns the readable
    /// records removed, with their offsets.
    pub fn truncate_to(&mut self, offset: u64) -> Vec<(u64, Record)> {
        let mut gone = Vec::new();
        while self.end_offset() > offset.max(self.start) {
            let at = self.end_offset() - 1;
            let r = self.records.pop_back().expect("a record below the end");
            let seg = self.segments.back_mut().expect("a segment holds it");
            seg.records -= 1;
            if r.compacted {
                // Compaction already took its bytes off.
                seg.compacted -= 1;
                self.compacted -= 1;
            } else {
                seg.bytes -= u64::from(r.size);
                self.bytes -= u64::from(r.size);
                gone.push((at, r));
            }
            if seg.records == 0 {
                self.segments.pop_back();
            }
        }
        if let Some(seg) = self.segments.back_mut() {
            let from = (seg.base - self.start) as usize;
            seg.max_timestamp = self
                .records
                .range(from..)
                .map(|r| r.timestamp)
                .max()
                .unwrap_or(seg.created);
        }
        self.tombstone_horizons.split_off(&offset);
        self.pipes.split_off(&offset);
        self.first_dirty = self.first_dirty.min(self.end_offset());
        if let Some(hw) = self.high_watermark {
            self.high_watermark = Some(hw.min(self.end_offset()));
        }
        gone.reverse();
        gone
    }

    /// Tags the record at `offset` with its stage transaction.
    pub fn set_pipe(&mut self, offset: u64, tag: PipeTag) {
        self.pipes.insert(offset, tag);
    }

    pub fn pipe(&self, offset: u64) -> Option<PipeTag> {
        self.pipes.get(&offset).copied()
    }

    pub fn start_offset(&self) -> u64 {
        self.start
    }

    /// The log end offset: the next offset to be assigned. With one replica it is also the
    /// high watermark (KAF-18).
    pub fn end_offset(&self) -> u64 {
        self.start + self.records.len() as u64
    }

    /// Records still readable: offsets removed by compaction do not count.
    pub fn len(&self) -> u64 {
        self.records.len() as u64 - self.compacted
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
                compacted: 0,
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
            .filter(|r| !r.compacted)
    }

    /// Readable records from `from` (clamped to the log start), in offset order; compacted
    /// offsets are skipped (KAF-7).
    pub fn iter_from(&self, from: u64) -> impl Iterator<Item = (u64, &Record)> {
        let skip = from.saturating_sub(self.start) as usize;
        self.records
            .iter()
            .enumerate()
            .skip(skip)
            .filter(|(_, r)| !r.compacted)
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
            // A segment reaching the high watermark is never deleted (KAF-5, KAF-20).
            if !(by_time || by_size) || oldest.base + oldest.records > self.high_watermark() {
                break;
            }
            self.segments.pop_front();
            self.bytes -= oldest.bytes;
            for _ in 0..oldest.records {
                let r = (self.records.pop_front()).expect("segment records are in the log");
                if r.compacted {
                    self.compacted -= 1;
                } else {
                    removed.push(r);
                }
            }
            // The log start offset moves to the oldest remaining segment, or to the end (KAF-6).
            self.start = self
                .segments
                .front()
                .map_or(oldest.base + oldest.records, |s| s.base);
        }
        self.tombstone_horizons = self.tombstone_horizons.split_off(&self.start);
        self.pipes = self.pipes.split_off(&self.start);
        removed
    }

    /// The first offset the cleaner must not touch: the active segment's base, or the base of
    /// the first closed segment holding a record younger than `min.compaction.lag.ms`.
    fn first_uncleanable(&self, now: SimTime, c: &CompactionConfig) -> u64 {
        let closed = self.segments.len().saturating_sub(1);
        let active = self.segments.back().map_or(self.end_offset(), |s| s.base);
        (self.segments.iter().take(closed))
            .find(|s| now.since(s.max_timestamp) < c.min_lag_us)
            .map_or(active, |s| s.base)
    }

    /// Live bytes in `[from, to)`.
    fn live_bytes(&self, from: u64, to: u64) -> u64 {
        let (from, to) = (from.max(self.start), to.max(self.start));
        let range = (from - self.start) as usize..(to - self.start) as usize;
        (self.records.range(range))
            .filter(|r| !r.compacted)
            .map(|r| u64::from(r.size))
            .sum()
    }

    /// Whether the cleaner would clean this partition now: its dirty part is at least
    /// `min.cleanable.dirty.ratio` of what it may clean, or a kept tombstone's time is up.
    pub fn needs_cleaning(&self, now: SimTime, c: &CompactionConfig) -> bool {
        let end = self.first_uncleanable(now, c);
        let dirty_from = self.first_dirty.max(self.start);
        let tombstone_due =
            (self.tombstone_horizons.iter()).any(|(&o, &t)| t <= now && o < dirty_from.min(end));
        if tombstone_due {
            return true;
        }
        if dirty_from >= end {
            return false;
        }
        let dirty = self.live_bytes(dirty_from, end) as f64;
        let clean = self.live_bytes(self.start, dirty_from) as f64;
        dirty > 0.0 && dirty / (clean + dirty) >= c.min_dirty_ratio
    }

    /// Whether only time (a tombstone's horizon, the compaction lag) stands between this log and
    /// its next cleaning; appends aside.
    pub fn waits_for_time(&self, now: SimTime, c: &CompactionConfig) -> bool {
        let active = self.segments.back().map_or(self.end_offset(), |s| s.base);
        !self.tombstone_horizons.is_empty()
            || (c.min_lag_us > 0 && self.first_uncleanable(now, c) < active)
    }

    /// One cleaning (KAF-7): every record in the cleanable part whose key has a later record in
    /// the dirty part goes, and so does a tombstone kept by an earlier cleaning once
    /// `delete.retention.ms` has passed. Offsets never change; the active segment and records
    /// younger than the compaction lag are not touched.
    pub fn clean(&mut self, now: SimTime, c: &CompactionConfig) -> Cleaned {
        let end = self.first_uncleanable(now, c);
        let dirty_from = self.first_dirty.max(self.start).min(end);
        let mut latest: BTreeMap<u32, u64> = BTreeMap::new();
        for (offset, r) in self.iter_from(dirty_from).take_while(|(o, _)| *o < end) {
            latest.insert(r.key, offset);
        }
        let mut cleaned = Cleaned::default();
        let mut seg = 0;
        for offset in self.start..end {
            let i = (offset - self.start) as usize;
            let r = self.records[i];
            if r.compacted {
                continue;
            }
            let superseded = latest.get(&r.key).is_some_and(|&o| o > offset);
            let tombstone_due = r.tombstone
                && offset < dirty_from
                && self
                    .tombstone_horizons
                    .get(&offset)
                    .is_some_and(|&t| t <= now);
            if superseded || tombstone_due {
                if superseded {
                    cleaned.superseded += 1;
                } else {
                    cleaned.tombstones += 1;
                }
                self.records[i].compacted = true;
                self.compacted += 1;
                self.bytes -= u64::from(r.size);
                self.tombstone_horizons.remove(&offset);
                while self.segments[seg].base + self.segments[seg].records <= offset {
                    seg += 1;
                }
                self.segments[seg].compacted += 1;
                self.segments[seg].bytes -= u64::from(r.size);
            } else if r.tombstone && offset >= dirty_from {
                // First cleaned now: it stays for delete.retention.ms from here.
                let horizon = now.plus(c.delete_retention_us);
                self.tombstone_horizons.insert(offset, horizon);
            }
        }
        self.first_dirty = end.max(self.first_dirty);
        cleaned
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
            tombstone: false,
            compacted: false,
        }
    }

    fn config(segment_bytes: u64) -> LogConfig {
        LogConfig {
            segment_bytes,
            segment_us: u64::MAX,
            retention_us: None,
            retention_bytes: None,
            compaction: None,
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
    fn pat_10_stage_tags_live_beside_their_records_until_retention_or_truncation() {
        use crate::event::StepKind;
        let mut log = PartitionLog::new();
        let mut c = config(200);
        for i in 0..6 {
            let offset = log.append(rec(i, 0, 100), &c);
            let kind = StepKind::PaymentAuthorized;
            log.set_pipe(offset, PipeTag { txn: 10 + i, kind });
        }
        assert_eq!(log.pipe(3).map(|p| p.txn), Some(13));
        c.retention_bytes = Some(1);
        log.apply_retention(SimTime(1), &c);
        assert_eq!((log.pipe(3), log.pipe(4).map(|p| p.txn)), (None, Some(14)));
        log.truncate_to(5);
        assert_eq!((log.pipe(4).map(|p| p.txn), log.pipe(5)), (Some(14), None));
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

    fn keyed(i: u64, key: u32, tombstone: bool) -> Record {
        Record {
            key,
            tombstone,
            ..rec(i, 0, 10)
        }
    }

    const COMPACT: CompactionConfig = CompactionConfig {
        delete_retention_us: 1_000,
        min_lag_us: 0,
        min_dirty_ratio: 0.5,
    };

    #[test]
    fn kaf_07_clean_keeps_the_latest_per_key_and_leaves_gaps() {
        let mut log = PartitionLog::new();
        let c = config(1);
        for (i, k) in [1, 2, 1, 2, 1, 3].into_iter().enumerate() {
            log.append(keyed(i as u64, k, false), &c);
        }
        assert!(log.needs_cleaning(SimTime(0), &COMPACT));
        let done = log.clean(SimTime(0), &COMPACT);
        assert_eq!(
            done,
            Cleaned {
                superseded: 3,
                tombstones: 0
            }
        );
        let offsets: Vec<u64> = log.iter_from(0).map(|(o, _)| o).collect();
        assert_eq!(offsets, [3, 4, 5]);
        assert_eq!((log.start_offset(), log.end_offset(), log.len()), (0, 6, 3));
        assert_eq!(log.bytes(), 30);
        assert!(log.get(0).is_none() && log.get(3).is_some());
        let live: Vec<u64> = log.segments().map(|s| s.records - s.compacted).collect();
        assert_eq!(live, [0, 0, 0, 1, 1, 1]);
        assert!(
            !log.needs_cleaning(SimTime(0), &COMPACT),
            "nothing dirty is left"
        );
    }

    #[test]
    fn kaf_07_a_kept_tombstone_goes_once_its_horizon_passes() {
        let mut log = PartitionLog::new();
        let c = config(1);
        log.append(keyed(0, 1, false), &c);
        log.append(keyed(1, 1, true), &c);
        log.append(keyed(2, 2, false), &c);
        assert_eq!(log.clean(SimTime(10), &COMPACT).superseded, 1);
        assert!(log.waits_for_time(SimTime(10), &COMPACT));
        assert!(!log.needs_cleaning(SimTime(1_009), &COMPACT));
        assert!(log.needs_cleaning(SimTime(1_010), &COMPACT));
        let done = log.clean(SimTime(1_010), &COMPACT);
        assert_eq!(
            done,
            Cleaned {
                superseded: 0,
                tombstones: 1
            }
        );
        assert!(!log.waits_for_time(SimTime(1_010), &COMPACT));
        assert_eq!(log.iter_from(0).map(|(o, _)| o).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn kaf_07_retention_after_compaction_counts_only_live_records() {
        let mut log = PartitionLog::new();
        let mut c = config(1);
        for i in 0..3 {
            log.append(keyed(i, 1, false), &c);
        }
        log.clean(SimTime(0), &COMPACT);
        c.retention_us = Some(0);
        let removed = log.apply_retention(SimTime(5), &c);
        assert_eq!(
            removed.len(),
            2,
            "offset 0 was compacted already; 1 and 2 were live"
        );
        assert!(log.is_empty());
    }
}
