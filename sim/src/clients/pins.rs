//! Copies consumers read, for brokers that keep one copy per message and may be done with it
//! while a consumer still reads it (SQS after a delete by another consumer, a trimmed Redis
//! stream entry): such a copy ends in the ledger at once and keeps its slot until the last
//! reader finishes.

use crate::kernel::World;
use crate::ledger::CopyState;
use crate::message::Slot;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, Default)]
pub(crate) struct Readers {
    /// Copies consumers read (on the wire, buffered or being processed), by how many readings.
    readers: BTreeMap<Slot, u32>,
    /// Copies the broker is done with whose slots stay taken while consumers read them.
    pinned: BTreeSet<Slot>,
}

impl Readers {
    pub fn read(&mut self, slot: Slot) {
        *self.readers.entry(slot).or_default() += 1;
    }

    /// A consumer stopped reading a copy; a finished copy nobody reads frees its slot.
    pub fn unread<W>(&mut self, world: &mut World<W>, slot: Slot) {
        let n = self.readers.get_mut(&slot).expect("a read copy");
        *n -= 1;
        if *n == 0 {
            self.readers.remove(&slot);
            if self.pinned.remove(&slot) {
                world.copies.release(slot);
            }
        }
    }

    /// The broker is done with a copy: it ends now, but its slot stays taken while it is read.
    pub fn finish<W>(&mut self, world: &mut World<W>, slot: Slot, to: CopyState) {
        if self.readers.contains_key(&slot) {
            world.set_state_keeping_slot(slot, to);
            self.pinned.insert(slot);
        } else {
            world.set_state(slot, to);
        }
    }

    /// Slots of finished copies still read.
    pub fn pinned(&self) -> impl Iterator<Item = Slot> + '_ {
        self.pinned.iter().copied()
    }

    /// Copies consumers read, by slot.
    pub fn read_slots(&self) -> impl Iterator<Item = Slot> + '_ {
        self.readers.keys().copied()
    }
}
