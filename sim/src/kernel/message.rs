//! Message copies and their storage. A slot is reused once its copy reaches a terminal state,
//! so memory follows the number of live copies, not the length of the run.

use crate::event::StepKind;
use crate::ids::{MessageId, ProducerId, QueueId};
use crate::ledger::{CopyState, DeadLetterReason};
use crate::time::SimTime;

/// Index of a live copy in the [`CopyStore`].
pub type Slot = u32;

/// One `x-death` entry: the queue a copy was dead-lettered from and why (RMQ-29).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Death {
    pub queue: QueueId,
    pub reason: DeadLetterReason,
}

/// One copy of a message, as one queue (or subscriber) holds it.
#[derive(Clone, Debug)]
pub struct MessageCopy {
    pub msg: MessageId,
    pub state: CopyState,
    /// `None` for copies the broker made itself by dead-lettering.
    pub producer: Option<ProducerId>,
    pub published_at: SimTime,
    /// When the queue holding it lets it expire; `SimTime::MAX` for never.
    pub expires_at: SimTime,
    /// Per-message TTL in micros (`expiration`), or `u64::MAX`.
    pub ttl: u64,
    /// Position key in its queue, so a requeue can restore the original place (RMQ-13).
    pub queue_seq: u64,
    pub size: u32,
    pub priority: Option<u8>,
    /// Interned routing key.
    pub routing_key: u32,
    /// Interned header set.
    pub headers: u32,
    /// Interned record key (the key a log partitions by), or [`NO_KEY`].
    pub key: u32,
    /// A null value: deletes its key from a compacted log (KAF-7).
    pub tombstone: bool,
    /// `x-delivery-count` on quorum queues (RMQ-30).
    pub delivery_count: u32,
    pub redelivered: bool,
    pub poison: bool,
    /// JMS `DeliveryMode.PERSISTENT` (the default); other families ignore it (AMQ-3).
    pub persistent: bool,
    /// Dead-letter history, newest last; boxed because most copies never die.
    pub deaths: Option<Box<Vec<Death>>>,
    /// The instant of its latest requeue or dead-lettering, and how many at that instant, so a
    /// cycle that never lets time move is caught (`guard`).
    pub cycle_at: SimTime,
    pub cycles: u32,
    /// When it started waiting at its store, for the store's wait statistics (`meter`).
    pub waiting_since: SimTime,
    /// A stage's message: its order's transaction id and what it says (issue 14).
    pub pipe: Option<PipeTag>,
}

/// The transaction a stage's message belongs to and its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PipeTag {
    pub txn: u64,
    pub kind: StepKind,
}

/// Slab of live copies with a free list.
#[derive(Clone, Debug, Default)]
pub struct CopyStore {
    slots: Vec<MessageCopy>,
    free: Vec<Slot>,
    live: usize,
}

impl CopyStore {
    pub fn insert(&mut self, copy: MessageCopy) -> Slot {
        self.live += 1;
        if let Some(slot) = self.free.pop() {
            self.slots[slot as usize] = copy;
            slot
        } else {
            self.slots.push(copy);
            (self.slots.len() - 1) as Slot
        }
    }

    /// Frees a slot whose copy left the store (terminal, or appended to a log).
    pub fn release(&mut self, slot: Slot) {
        debug_assert!(!self.slots[slot as usize].state.is_stored());
        self.live -= 1;
        self.free.push(slot);
    }

    pub fn get(&self, slot: Slot) -> &MessageCopy {
        &self.slots[slot as usize]
    }

    pub fn get_mut(&mut self, slot: Slot) -> &mut MessageCopy {
        &mut self.slots[slot as usize]
    }

    pub fn live(&self) -> usize {
        self.live
    }

    /// Bytes of core state held for copies (capacity, not payloads, which are never stored).
    pub fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<MessageCopy>() + self.free.capacity() * 4
    }

    /// Live copies, for audits.
    pub fn iter_live(&self) -> impl Iterator<Item = (Slot, &MessageCopy)> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, c)| c.state.is_stored())
            .map(|(i, c)| (i as Slot, c))
    }
}

/// A copy without a record key.
pub const NO_KEY: u32 = u32::MAX;

/// Interns values under an ordered key so copies hold small ids.
#[derive(Clone, Debug)]
pub struct Interner<K: Ord, V> {
    values: Vec<V>,
    index: std::collections::BTreeMap<K, u32>,
}

impl<K: Ord, V> Default for Interner<K, V> {
    fn default() -> Self {
        Interner {
            values: Vec::new(),
            index: std::collections::BTreeMap::new(),
        }
    }
}

impl<K: Ord, V> Interner<K, V> {
    /// The id of `key`, storing `make()` the first time it is seen.
    pub fn intern(&mut self, key: K, make: impl FnOnce() -> V) -> u32 {
        if let Some(id) = self.index.get(&key) {
            return *id;
        }
        let id = self.values.len() as u32;
        self.values.push(make());
        self.index.insert(key, id);
        id
    }

    pub fn get(&self, id: u32) -> &V {
        &self.values[id as usize]
    }
}
