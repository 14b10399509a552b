//! A subscription is a cursor per partition, not a copy of the messages: a mark-delete position
//! plus the entries acked individually beyond it (PUL-2, PUL-7), and the broker's dispatch
//! state for the consumers attached to it.

use super::hash::Selector;
use crate::ids::ConsumerId;
use crate::scenario::pulsar::{KeySharedMode, SubscriptionType};
use crate::time::SimTime;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, Default)]
pub(crate) struct Cursor {
    /// Every entry below this is acked: the mark-delete position is `acked_below − 1`.
    pub acked_below: u64,
    /// Entries at or above `acked_below` acked individually; the gaps are the holes.
    pub acked: BTreeSet<u64>,
    /// The next entry a read returns.
    pub read: u64,
    /// Entries to send again before new reads (Shared, Key_Shared).
    pub replay: BTreeSet<u64>,
    /// Entries sent and not acked, with the consumer holding each (Shared, Key_Shared).
    pub pending: BTreeMap<u64, ConsumerId>,
    /// Redeliveries the clients asked for, per entry (Shared, Key_Shared; PUL-10).
    pub redeliveries: BTreeMap<u64, u32>,
    /// Every entry below this was sent once already, so sending it again is a redelivery.
    pub sent_below: u64,
}

impl Cursor {
    pub fn at(entry: u64) -> Cursor {
        Cursor {
            acked_below: entry,
            read: entry,
            sent_below: entry,
            ..Cursor::default()
        }
    }

    pub fn is_acked(&self, entry: u64) -> bool {
        entry < self.acked_below || self.acked.contains(&entry)
    }

    /// The mark-delete position; −1 before the first entry.
    pub fn mark_delete(&self) -> i64 {
        self.acked_below as i64 - 1
    }

    /// Individual ack: the mark-delete position moves only over a run without holes (PUL-7).
    /// Returns whether it moved.
    pub fn ack(&mut self, entry: u64) -> bool {
        if self.is_acked(entry) {
            return false;
        }
        self.acked.insert(entry);
        let before = self.acked_below;
        while self.acked.remove(&self.acked_below) {
            self.acked_below += 1;
        }
        self.forget_below();
        self.acked_below != before
    }

    /// Cumulative ack (or TTL): everything up to and including `entry`.
    pub fn ack_up_to(&mut self, entry: u64) -> bool {
        if entry < self.acked_below {
            return false;
        }
        self.acked_below = entry + 1;
        while self.acked.remove(&self.acked_below) {
            self.acked_below += 1;
        }
        self.acked.retain(|e| *e >= self.acked_below);
        self.forget_below();
        true
    }

    fn forget_below(&mut self) {
        let keep = self.acked_below;
        self.replay = self.replay.split_off(&keep);
        self.redeliveries = self.redeliveries.split_off(&keep);
        self.read = self.read.max(keep);
    }

    /// `seek` / `reset-cursor`: mark-delete just before `entry`, and the individual acks after
    /// it are forgotten, so those messages come back too (PUL-13).
    pub fn reset(&mut self, entry: u64) {
        *self = Cursor {
            sent_below: self.sent_below,
            ..Cursor::at(entry)
        };
    }
}

/// The broker's view of one consumer on one partition of a subscription.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Attached {
    /// Flow permits left, in messages; may go below 0 when a batch is larger.
    pub permits: i64,
    /// Messages sent and not acked (Shared, Key_Shared).
    pub unacked: u64,
    /// Stopped at `max_unacked_messages_per_consumer` until half of them are acked.
    pub blocked: bool,
    /// `priorityLevel` as it was when the consumer attached.
    pub priority: u32,
}

/// One partition of a subscription: its cursor and its dispatcher.
#[derive(Clone, Debug, Default)]
pub(crate) struct SubPartition {
    pub cursor: Cursor,
    pub attached: BTreeMap<ConsumerId, Attached>,
    /// Shared round-robin position in the subscription's consumer order.
    pub next: usize,
    /// Exclusive, Failover: the consumer everything goes to.
    pub active: Option<ConsumerId>,
    /// Failover: no read until this time after the active consumer changed (PUL-4).
    pub switch_at: Option<SimTime>,
    /// Key_Shared: per hash, the consumer holding its unacked entries and how many (PIP-379).
    pub hash_owners: BTreeMap<u32, (ConsumerId, u32)>,
    /// Key_Shared: hashes whose waiting was reported, to say it once per change.
    pub draining_told: BTreeSet<(u32, ConsumerId)>,
    /// Messages unacked over the whole subscription (`maxUnackedMessagesPerSubscription`).
    pub unacked: u64,
    pub blocked: bool,
    pub dispatch_due: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Subscription {
    pub name: String,
    pub durable: bool,
    /// Fixed by the first consumer while any is attached; `None` with no consumer (PUL-2).
    pub kind: Option<SubscriptionType>,
    pub key_shared_mode: KeySharedMode,
    /// Attached consumers, stably sorted by priority level (attach order within a level).
    pub consumers: Vec<ConsumerId>,
    pub selector: Option<Selector>,
    pub parts: Vec<SubPartition>,
    /// A non-durable subscription is gone once its last consumer left.
    pub gone: bool,
}

impl Subscription {
    pub fn new(name: &str, durable: bool, starts: &[u64]) -> Subscription {
        Subscription {
            name: name.to_string(),
            durable,
            kind: None,
            key_shared_mode: KeySharedMode::AutoSplit,
            consumers: Vec::new(),
            selector: None,
            parts: starts
                .iter()
                .map(|s| SubPartition {
                    cursor: Cursor::at(*s),
                    ..SubPartition::default()
                })
                .collect(),
            gone: false,
        }
    }

    /// Whether the subscription holds its backlog against trimming.
    pub fn holds_backlog(&self) -> bool {
        self.durable && !self.gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pul_07_holes_stop_the_mark_delete_position() {
        let mut c = Cursor::at(0);
        assert!(!c.ack(1));
        assert!(!c.ack(3));
        assert_eq!(c.mark_delete(), -1);
        assert!(c.ack(0));
        assert_eq!(c.mark_delete(), 1);
        assert!(c.ack(2));
        assert_eq!(c.mark_delete(), 3);
        assert!(c.acked.is_empty());
        c.ack(9);
        assert!(c.ack_up_to(7));
        assert_eq!(c.mark_delete(), 7);
        assert!(!c.is_acked(8) && c.is_acked(9));
    }

    #[test]
    fn pul_13_reset_forgets_individual_acks() {
        let mut c = Cursor::at(0);
        c.ack(2);
        c.reset(1);
        assert!(!c.is_acked(2));
        assert_eq!((c.mark_delete(), c.read), (0, 1));
    }
}
