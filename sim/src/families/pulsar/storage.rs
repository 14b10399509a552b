//! A partition's managed ledger: entries in a chain of BookKeeper ledgers. Space is freed one
//! whole closed ledger at a time, and the current ledger is never deleted (PUL-1).

use crate::message::Slot;
use crate::time::SimTime;
use std::collections::VecDeque;

/// One entry: a message, or a whole producer batch (PUL-7).
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// The messages' copies, which stay in the copy store as `Retained` so consumers can be
    /// handed them.
    pub slots: Vec<Slot>,
    /// The interned key of the first message (a batch is dispatched under it, PUL-6).
    pub key: u32,
    /// Publish time of the first message (TTL and `reset_cursor` by time use it).
    pub published_at: SimTime,
    pub bytes: u64,
    /// Messages appended to the managed ledger before this entry, so that counting the
    /// messages of a range of entries (batches hold several) costs nothing.
    pub messages_before: u64,
    /// Some durable subscription had it in its backlog (else its deletion is a loss, PUL-12).
    pub had_subscription: bool,
    /// Some subscription's ack of it came from TTL.
    pub ttl_acked: bool,
}

/// One BookKeeper ledger of the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ledger {
    pub id: u64,
    /// Its first entry id (entry ids run on across ledgers).
    pub first: u64,
    pub entries: u64,
    pub bytes: u64,
    pub created: SimTime,
    pub closed: Option<SimTime>,
}

impl Ledger {
    /// One past its last entry.
    pub fn end(&self) -> u64 {
        self.first + self.entries
    }
}

/// Rollover settings in microseconds (`managedLedger…`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rollover {
    pub max_entries: u64,
    pub min_us: u64,
    pub max_us: u64,
}

impl Rollover {
    /// `ManagedLedgerImpl.currentLedgerIsFull`: full by entries or age, but never younger than
    /// the minimum rollover time.
    fn is_full(&self, ledger: &Ledger, now: SimTime) -> bool {
        let age = now.since(ledger.created);
        let full = ledger.entries >= self.max_entries || age >= self.max_us;
        full && (self.min_us == 0 || age > self.min_us)
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct ManagedLedger {
    /// Stored entries, the first being `start`.
    entries: VecDeque<Entry>,
    start: u64,
    /// Oldest first; the last is the current ledger, which is open.
    pub ledgers: VecDeque<Ledger>,
    next_ledger: u64,
    /// Messages ever appended.
    appended: u64,
}

impl ManagedLedger {
    pub fn start(&self) -> u64 {
        self.start
    }

    /// The id the next entry gets.
    pub fn end(&self) -> u64 {
        self.start + self.entries.len() as u64
    }

    pub fn get(&self, entry: u64) -> Option<&Entry> {
        entry
            .checked_sub(self.start)
            .and_then(|i| self.entries.get(i as usize))
    }

    pub fn get_mut(&mut self, entry: u64) -> Option<&mut Entry> {
        entry
            .checked_sub(self.start)
            .and_then(|i| self.entries.get_mut(i as usize))
    }

    /// Stored entries from `from` on, with their ids.
    pub fn iter_from(&self, from: u64) -> impl Iterator<Item = (u64, &Entry)> {
        let skip = from.saturating_sub(self.start) as usize;
        let start = self.start;
        self.entries
            .iter()
            .enumerate()
            .skip(skip)
            .map(move |(i, e)| (start + i as u64, e))
    }

    /// The first entry published at or after `t`, or the end.
    pub fn entry_at_time(&self, t: SimTime) -> u64 {
        self.start + self.entries.partition_point(|e| e.published_at < t) as u64
    }

    /// Messages appended before entry `e`, for `e` from the start to the end.
    fn messages_before(&self, e: u64) -> u64 {
        self.get(e).map_or(self.appended, |en| en.messages_before)
    }

    /// Messages stored in entries `from..to` (an entry holds a batch).
    pub fn messages_in(&self, from: u64, to: u64) -> u64 {
        let (end, start) = (self.end(), self.start);
        let (from, to) = (from.clamp(start, end), to.clamp(start, end));
        self.messages_before(to.max(from)) - self.messages_before(from)
    }

    /// Messages stored.
    pub fn messages(&self) -> u64 {
        self.messages_in(self.start, self.end())
    }

    pub fn slots(&self) -> impl Iterator<Item = Slot> + '_ {
        self.entries.iter().flat_map(|e| e.slots.iter().copied())
    }

    /// The current (open) ledger, created on first use.
    fn current(&mut self, now: SimTime) -> &mut Ledger {
        if self.ledgers.back().is_none_or(|l| l.closed.is_some()) {
            self.open(now);
        }
        self.ledgers.back_mut().expect("opened")
    }

    fn open(&mut self, now: SimTime) {
        let first = self.end();
        self.ledgers.push_back(Ledger {
            id: self.next_ledger,
            first,
            entries: 0,
            bytes: 0,
            created: now,
            closed: None,
        });
        self.next_ledger += 1;
    }

    /// Appends an entry; returns its id and the ledger closed by this append, if it filled up.
    pub fn append(
        &mut self,
        mut entry: Entry,
        now: SimTime,
        roll: &Rollover,
    ) -> (u64, Option<Ledger>) {
        let id = self.end();
        entry.messages_before = self.appended;
        self.appended += entry.slots.len() as u64;
        let ledger = self.current(now);
        ledger.entries += 1;
        ledger.bytes += entry.bytes;
        self.entries.push_back(entry);
        (id, self.roll_if_full(now, roll))
    }

    /// Closes the current ledger if it is full or old enough, opening the next one at once;
    /// returns the closed ledger.
    pub fn roll_if_full(&mut self, now: SimTime, roll: &Rollover) -> Option<Ledger> {
        let current = self.ledgers.back_mut()?;
        if current.closed.is_some() || current.entries == 0 || !roll.is_full(current, now) {
            return None;
        }
        current.closed = Some(now);
        let closed = *current;
        self.open(now);
        Some(closed)
    }

    /// When an idle current ledger becomes old enough to roll.
    pub fn rollover_due(&self, roll: &Rollover) -> Option<SimTime> {
        let current = self.ledgers.back().filter(|l| l.entries > 0)?;
        let due = current.created.plus(roll.max_us.max(roll.min_us + 1));
        Some(due)
    }

    /// The oldest closed ledger, which is the next trim candidate.
    pub fn oldest_closed(&self) -> Option<&Ledger> {
        self.ledgers.front().filter(|l| l.closed.is_some())
    }

    /// Bytes stored in every ledger.
    pub fn bytes(&self) -> u64 {
        self.ledgers.iter().map(|l| l.bytes).sum()
    }

    /// Removes the oldest ledger (closed) and returns it with its entries.
    pub fn trim_oldest(&mut self) -> (Ledger, Vec<Entry>) {
        let ledger = self.ledgers.pop_front().expect("a closed ledger");
        debug_assert!(ledger.closed.is_some() && ledger.first == self.start);
        let entries: Vec<Entry> = self.entries.drain(..ledger.entries as usize).collect();
        self.start = ledger.end();
        (ledger, entries)
    }
}
