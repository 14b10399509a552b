//! The producer side: routing to a partition (PUL-14), batching into entries (PUL-7), and the
//! broker appending an entry to a managed ledger (PUL-1).

use super::hash::{java_string_hash, murmur3_32};
use super::storage::{Entry, Rollover};
use super::{BatchKey, OpenBatch, Pulsar, PulsarWork, Route, Sender};
use crate::clients::{ClientWork, Cx};
use crate::event::EventKind;
use crate::kernel::ms_to_us;
use crate::ledger::CopyState;
use crate::message::{Slot, NO_KEY};
use crate::scenario::pulsar::{Batching, HashingScheme, PulsarProducerSpec, RoutingMode};
use crate::time::SimTime;

impl Pulsar {
    pub(crate) fn rollover(&self) -> Rollover {
        Rollover {
            max_entries: self.broker.ledger_max_entries,
            min_us: ms_to_us(self.broker.ledger_min_rollover_ms),
            max_us: ms_to_us(self.broker.ledger_max_rollover_ms),
        }
    }
}

impl<W: From<PulsarWork> + From<ClientWork>> Cx<'_, &mut Pulsar, W> {
    /// The sender's client settings; a dead-letter producer does not batch.
    fn sender_settings(&self, sender: Sender) -> PulsarProducerSpec {
        match sender {
            Sender::Producer(p) => self.clients.producers[p.index()].spec.pulsar.clone(),
            Sender::DeadLetter(_) => PulsarProducerSpec {
                batching: Batching {
                    enabled: false,
                    ..Batching::default()
                },
                ..PulsarProducerSpec::default()
            },
        }
    }

    /// A message reaches the broker: the client's router picked its partition when sending
    /// (modelled here, from its publish time); then it is batched or stored.
    pub(crate) fn arrive(&mut self, slot: Slot, topic: u32, sender: Sender) {
        let settings = self.sender_settings(sender);
        let partition = self.choose_partition(slot, topic, sender, &settings);
        match (sender, settings.batching.enabled) {
            (Sender::Producer(p), true) => {
                self.add_to_batch((p, topic, partition, 0), slot, &settings.batching)
            }
            _ => self.append_entry(topic, partition, vec![slot]),
        }
    }

    /// `RoundRobinPartitionMessageRouterImpl` / `SinglePartitionMessageRouterImpl` (PUL-14):
    /// a key is hashed; unkeyed messages rotate from a random start partition, per message
    /// without batching and per `partitionSwitchMs` (10 × the batching delay) with it.
    fn choose_partition(
        &mut self,
        slot: Slot,
        topic: u32,
        sender: Sender,
        settings: &PulsarProducerSpec,
    ) -> u32 {
        let t = &self.family.topics[topic as usize];
        if !t.partitioned() {
            return 0;
        }
        let n = t.spec.partitions;
        let copy = self.world.copies.get(slot);
        let (key, published_at) = (copy.key, copy.published_at);
        if key != NO_KEY {
            let k = self.world.keys.get(key);
            let hash = match settings.hashing_scheme {
                HashingScheme::JavaStringHash => java_string_hash(k),
                HashingScheme::Murmur3_32 => murmur3_32(k.as_bytes()),
            };
            return hash % n;
        }
        if !self.family.routes.contains_key(&(sender, topic)) {
            let start = (self.world.rng.next_u64() % u64::from(n)) as u32;
            self.family
                .routes
                .insert((sender, topic), Route { start, sent: 0 });
        }
        let route = self.family.routes.get_mut(&(sender, topic)).expect("route");
        match settings.routing_mode {
            RoutingMode::SinglePartition => route.start,
            RoutingMode::RoundRobin if settings.batching.enabled => {
                let switch_ms = ((settings.batching.max_delay_ms as u64) * 10).max(1);
                let window = published_at.0 / 1_000 / switch_ms;
                ((window + u64::from(route.start)) % u64::from(n)) as u32
            }
            RoutingMode::RoundRobin => {
                let p = (route.start + route.sent) % n;
                route.sent = route.sent.wrapping_add(1);
                p
            }
        }
    }

    /// Producer batching, seen from the broker: messages one producer published to one
    /// partition within `max_delay_ms` of the batch's first message arrive as one entry,
    /// `max_delay_ms` + L after that first message, or as soon as the batch is full
    /// (`ProducerImpl.batchFlushTask`, `BatchMessageContainerImpl.haveEnoughSpace`).
    fn add_to_batch(&mut self, key: BatchKey, slot: Slot, b: &Batching) {
        let copy = self.world.copies.get(slot);
        let (size, published_at, msg_key) = (u64::from(copy.size), copy.published_at, copy.key);
        let key = if b.key_based {
            (key.0, key.1, key.2, msg_key)
        } else {
            (key.0, key.1, key.2, NO_KEY)
        };
        let delay = ms_to_us(b.max_delay_ms);
        if let Some(open) = self.family.batches.get(&key) {
            let late = published_at >= open.opened.plus(delay);
            let full = open.bytes + size > u64::from(b.max_bytes);
            if late || full {
                self.flush_batch(key);
            }
        }
        let open = match self.family.batches.entry(key) {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                // Sent `max_delay_ms` after its first message, stored L later.
                let at = published_at.plus(delay).plus(self.world.latency);
                self.world.schedule(
                    at,
                    PulsarWork::FlushBatch {
                        key,
                        opened: published_at,
                    },
                );
                v.insert(OpenBatch {
                    opened: published_at,
                    slots: Vec::new(),
                    bytes: 0,
                })
            }
        };
        open.slots.push(slot);
        open.bytes += size;
        if open.slots.len() >= b.max_messages as usize {
            self.flush_batch(key);
        }
    }

    /// The batch's send timer: it is flushed unless it was flushed (and maybe reopened) before.
    pub(crate) fn flush_batch_due(&mut self, key: BatchKey, opened: SimTime) {
        if self
            .family
            .batches
            .get(&key)
            .is_some_and(|b| b.opened == opened)
        {
            self.flush_batch(key);
        }
    }

    fn flush_batch(&mut self, key: BatchKey) {
        if let Some(batch) = self.family.batches.remove(&key) {
            self.append_entry(key.1, key.2, batch.slots);
        }
    }

    /// Stores one entry (PUL-1): its messages' copies become `Retained` in the ledger, once,
    /// however many subscriptions will read it. A full ledger rolls over and may be trimmed.
    pub(crate) fn append_entry(&mut self, topic: u32, partition: u32, slots: Vec<Slot>) {
        let now = self.world.now;
        let first = self.world.copies.get(slots[0]);
        let (key, published_at) = (first.key, first.published_at);
        let bytes = slots
            .iter()
            .map(|s| u64::from(self.world.copies.get(*s).size))
            .sum();
        let roll = self.family.rollover();
        let t = &mut self.family.topics[topic as usize];
        let had_subscription = t.subscriptions.iter().any(|s| s.holds_backlog());
        let ml = &mut t.partitions[partition as usize];
        let entry = Entry {
            slots: slots.clone(),
            key,
            published_at,
            bytes,
            messages_before: 0,
            had_subscription,
            ttl_acked: false,
        };
        let (id, closed) = ml.append(entry, now, &roll);
        let opened_ledger = ml.ledgers.back().is_some_and(|l| l.entries == 1);
        for slot in slots {
            self.world.set_state(slot, CopyState::Retained);
            let msg = self.world.copies.get(slot).msg;
            self.world.emit(EventKind::PulsarEntryAdded {
                msg,
                topic,
                partition,
                entry: id,
            });
        }
        if let Some(l) = closed {
            self.world.emit(EventKind::PulsarLedgerRolled {
                topic,
                partition,
                ledger: l.id,
                entries: l.entries,
            });
            // "The ledger that has just been closed" may go at once (`internalTrimLedgers`).
            self.try_trim(topic, partition);
        } else if opened_ledger {
            self.arm_retention(topic);
        }
        self.arm_expiry_if_idle(topic);
        for sub in 0..self.family.topics[topic as usize].subscriptions.len() as u32 {
            self.schedule_dispatch(topic, sub, partition);
        }
    }
}
