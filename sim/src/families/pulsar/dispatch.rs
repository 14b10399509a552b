//! The broker side of a subscription: consumers attaching and leaving, the four dispatchers,
//! flow permits, acks and redelivery requests (PUL-2…PUL-7, PUL-10, PUL-11).

use super::cursor::{Attached, Subscription};
use super::hash::{failover_ring_pick, sticky_key_hash, Selector};
use super::{initial_entries, Delivery, Pulsar, PulsarWork};
use crate::clients::{ClientWork, ConsumerStatus, Cx};
use crate::event::{CursorReason, EventKind};
use crate::ids::{ConsumerId, MessageId};
use crate::kernel::ms_to_us;
use crate::message::NO_KEY;
use crate::scenario::pulsar::{
    InitialPosition, KeySharedMode, KeySharedSelector, SubscriptionType,
};
use crate::time::SimTime;
use crate::wire::NodeRef;
use std::collections::{BTreeMap, BTreeSet};

/// Key_Shared stops reading ahead while this many entries wait for their hash's consumer
/// (`keySharedLookAheadMsgInReplayThresholdPerConsumer` 2000, `…PerSubscription` 20000).
fn look_ahead_limit(consumers: usize) -> usize {
    (2_000 * consumers).min(20_000)
}

/// The sticky key Key_Shared hashes: the key, or `NONE_KEY` for unkeyed messages (PUL-6).
const NONE_KEY: &[u8] = b"NONE_KEY";

impl Pulsar {
    /// Messages in entry `entry` of a partition (0 if it is gone).
    pub(crate) fn entry_len(&self, topic: u32, partition: u32, entry: u64) -> u64 {
        self.topics[topic as usize].partitions[partition as usize]
            .get(entry)
            .map_or(0, |e| e.slots.len() as u64)
    }

    /// A consumer's receiver queue on one partition: `receiverQueueSize`, shared out over the
    /// partitions of a partitioned topic (`maxTotalReceiverQueueSizeAcrossPartitions` 50000).
    pub(crate) fn partition_queue(&self, topic: u32, receiver_queue_size: u32) -> u32 {
        let t = &self.topics[topic as usize];
        if t.partitioned() {
            receiver_queue_size.min(50_000 / t.spec.partitions).max(1)
        } else {
            receiver_queue_size
        }
    }
}

impl<W: From<PulsarWork> + From<ClientWork>> Cx<'_, &mut Pulsar, W> {
    fn sub(&mut self, topic: u32, sub: u32) -> &mut Subscription {
        &mut self.family.topics[topic as usize].subscriptions[sub as usize]
    }

    pub(crate) fn schedule_dispatch(&mut self, topic: u32, sub: u32, partition: u32) {
        let part = &mut self.sub(topic, sub).parts[partition as usize];
        if part.dispatch_due {
            return;
        }
        part.dispatch_due = true;
        self.world.schedule(
            self.world.now,
            PulsarWork::Dispatch {
                topic,
                sub,
                partition,
            },
        );
    }

    fn schedule_dispatch_all(&mut self, topic: u32, sub: u32) {
        for p in 0..self.sub(topic, sub).parts.len() as u32 {
            self.schedule_dispatch(topic, sub, p);
        }
    }

    /// Says a subscription was created, and where it starts reading.
    pub(crate) fn announce_subscription(&mut self, topic: u32, sub: u32) {
        let read_at = self.sub(topic, sub).parts[0].cursor.read;
        self.world.emit(EventKind::PulsarSubscriptionCreated {
            topic,
            subscription: sub,
            read_at,
        });
    }

    /// A new subscription at `position` (PUL-2, PUL-13); returns its id.
    pub(crate) fn new_subscription(
        &mut self,
        topic: u32,
        name: &str,
        durable: bool,
        position: InitialPosition,
    ) -> u32 {
        let t = &mut self.family.topics[topic as usize];
        let starts = initial_entries(t, position);
        if durable {
            for (ml, start) in t.partitions.iter_mut().zip(&starts) {
                for e in *start..ml.end() {
                    ml.get_mut(e).expect("stored").had_subscription = true;
                }
            }
        }
        t.subscriptions
            .push(Subscription::new(name, durable, &starts));
        let sub = (t.subscriptions.len() - 1) as u32;
        self.arm_expiry(topic);
        sub
    }

    /// The subscribe request reaches the broker: the subscription is created if needed, the
    /// type checked, and the consumer attached with its first flow permits.
    pub(crate) fn attach(&mut self, cid: ConsumerId, connection: u32) {
        let pc = &self.family.consumers[&cid];
        if pc.connection != connection
            || self.clients.consumers[cid.index()].status != ConsumerStatus::Running
        {
            return;
        }
        let topic = pc.topic;
        let source = self.family.source(cid).clone();
        let spec = &self.clients.consumers[cid.index()].spec;
        let settings = spec.pulsar.clone();
        let name = spec.name.clone();
        let durable = source.mode == crate::scenario::pulsar::SubscriptionMode::Durable;
        let sid = match self.family.topics[topic as usize].subscription_id(&source.subscription) {
            Some(s) => s,
            None => {
                let sub = self.new_subscription(
                    topic,
                    &source.subscription,
                    durable,
                    source.initial_position,
                );
                self.announce_subscription(topic, sub);
                sub
            }
        };
        let mode = settings
            .key_shared_policy
            .as_ref()
            .map_or(KeySharedMode::AutoSplit, |k| k.mode);
        let broker = self.family.broker.clone();
        let sub = self.sub(topic, sid);
        let refusal = match sub.kind {
            // `PersistentSubscription.addConsumer`.
            Some(kind) if kind != source.kind => Some("Subscription is of different type".into()),
            // `AbstractDispatcherSingleActiveConsumer.addConsumer`.
            Some(SubscriptionType::Exclusive) => {
                Some("Exclusive consumer is already connected".into())
            }
            Some(SubscriptionType::KeyShared) if sub.key_shared_mode != mode => Some(format!(
                "The key-shared mode {mode:?} differs from the subscription's {:?}",
                sub.key_shared_mode
            )),
            _ => None,
        };
        let refusal = refusal.or_else(|| {
            if source.kind != SubscriptionType::KeyShared {
                return None;
            }
            let selector = sub.selector.get_or_insert_with(|| match mode {
                KeySharedMode::Sticky => Selector::Sticky(BTreeMap::new()),
                KeySharedMode::AutoSplit => match broker.key_shared_selector {
                    KeySharedSelector::ConsistentHashing => Selector::Ring(BTreeMap::new()),
                    KeySharedSelector::HashRanges => Selector::Ranges(BTreeMap::new()),
                },
            });
            let ranges = settings
                .key_shared_policy
                .as_ref()
                .map_or(&[][..], |k| &k.ranges[..]);
            selector
                .add(cid, &name, broker.key_shared_replica_points, ranges)
                .err()
        });
        if let Some(reason) = refusal {
            if sub.consumers.is_empty() {
                sub.selector = None;
            }
            self.refuse(cid, reason);
            return;
        }
        sub.kind = Some(source.kind);
        sub.key_shared_mode = mode;
        let priority = settings.priority_level;
        // Stable by priority level: `consumerList.sort(comparingInt(getPriorityLevel))`.
        let at = sub.consumers.partition_point(|c| {
            sub.parts[0]
                .attached
                .get(c)
                .is_some_and(|a| a.priority <= priority)
        });
        sub.consumers.insert(at, cid);
        let queue = self
            .family
            .partition_queue(topic, settings.receiver_queue_size);
        let sub = self.sub(topic, sid);
        for part in &mut sub.parts {
            part.attached.insert(
                cid,
                Attached {
                    permits: i64::from(queue),
                    priority,
                    ..Attached::default()
                },
            );
        }
        let partitions = sub.parts.len();
        let pc = self
            .family
            .consumers
            .get_mut(&cid)
            .expect("pulsar consumer");
        pc.attached = Some(connection);
        pc.sub = Some(sid);
        pc.unreported = vec![0; partitions];
        for p in 0..partitions as u32 {
            if source.kind.single_active() {
                self.pick_active(topic, sid, p);
            } else {
                self.schedule_dispatch(topic, sid, p);
            }
        }
    }

    /// The broker refused the subscribe: the client gives up.
    fn refuse(&mut self, cid: ConsumerId, reason: String) {
        self.world.emit(EventKind::PulsarConsumerRefused {
            consumer: cid,
            reason,
        });
        self.end_connection(cid, ConsumerStatus::Disconnected);
        self.reset_client(cid);
    }

    /// The broker sees the connection end: the consumer leaves its subscription (PUL-11).
    pub(crate) fn detach(&mut self, cid: ConsumerId, connection: u32) {
        let pc = self
            .family
            .consumers
            .get_mut(&cid)
            .expect("pulsar consumer");
        if pc.attached != Some(connection) {
            return;
        }
        pc.attached = None;
        let (topic, sid) = (pc.topic, pc.sub.expect("attached"));
        self.leave(topic, sid, cid);
    }

    /// Takes a consumer out of its subscription. Shared and Key_Shared replay its unacked
    /// entries to the others at once (PUL-5, PUL-11); Exclusive and Failover pick the next
    /// active consumer, who reads again from the mark-delete position. semantics.md says the
    /// broker counts redeliveries per message; in the 4.0 broker only a client's redelivery
    /// request (nack, ack timeout) counts, a crash replay does not, so a consumer that crashes on
    /// a poison message never reaches the dead-letter topic:
    /// https://github.com/apache/pulsar/issues/23944
    pub(crate) fn leave(&mut self, topic: u32, sid: u32, cid: ConsumerId) {
        self.unlink(topic, sid, cid);
        self.settle_membership(topic, sid);
    }

    /// Takes the consumer out of the subscription's lists; its unacked entries wait for a
    /// replay.
    pub(crate) fn unlink(&mut self, topic: u32, sid: u32, cid: ConsumerId) {
        let lens: Vec<BTreeMap<u64, u64>> = {
            let sub = &self.family.topics[topic as usize].subscriptions[sid as usize];
            sub.parts
                .iter()
                .enumerate()
                .map(|(p, part)| {
                    (part.cursor.pending.iter())
                        .filter(|(_, c)| **c == cid)
                        .map(|(e, _)| (*e, self.family.entry_len(topic, p as u32, *e)))
                        .collect()
                })
                .collect()
        };
        let sub = self.sub(topic, sid);
        sub.consumers.retain(|c| *c != cid);
        if let Some(s) = &mut sub.selector {
            s.remove(cid);
        }
        for (p, part) in sub.parts.iter_mut().enumerate() {
            part.attached.remove(&cid);
            for (e, len) in &lens[p] {
                part.cursor.pending.remove(e);
                part.cursor.replay.insert(*e);
                part.unacked -= len;
            }
            // Its hashes are free: whoever waited for them may take them now.
            let freed: BTreeSet<u32> = (part.hash_owners.iter())
                .filter(|(_, (owner, _))| *owner == cid)
                .map(|(h, _)| *h)
                .collect();
            part.hash_owners.retain(|h, _| !freed.contains(h));
            part.draining_told
                .retain(|(h, to)| *to != cid && !freed.contains(h));
        }
    }

    /// After consumers left: an empty subscription loses its type (and a non-durable one is
    /// gone); otherwise Exclusive and Failover pick a new active consumer where it left.
    pub(crate) fn settle_membership(&mut self, topic: u32, sid: u32) {
        let sub = self.sub(topic, sid);
        let single = sub.kind.is_some_and(SubscriptionType::single_active);
        if sub.consumers.is_empty() {
            // The redelivery tracker is cleared when the last consumer leaves.
            sub.kind = None;
            sub.selector = None;
            sub.gone = !sub.durable;
            for part in &mut sub.parts {
                part.cursor.redeliveries.clear();
                part.active = None;
                part.switch_at = None;
                part.next = 0;
                part.unacked = 0;
                part.blocked = false;
            }
            return;
        }
        for p in 0..sub.parts.len() as u32 {
            if single {
                let sub = self.sub(topic, sid);
                let part = &mut sub.parts[p as usize];
                if part.active.is_some_and(|a| !sub.consumers.contains(&a)) {
                    part.active = None;
                    self.pick_active(topic, sid, p);
                }
            } else {
                self.schedule_dispatch(topic, sid, p);
            }
        }
    }

    fn entry_hash(&self, topic: u32, partition: u32, entry: u64) -> Option<u32> {
        let e = self.family.topics[topic as usize].partitions[partition as usize].get(entry)?;
        let key = if e.key == NO_KEY {
            NONE_KEY
        } else {
            self.world.keys.get(e.key).as_bytes()
        };
        Some(sticky_key_hash(key))
    }

    /// Exclusive, Failover: the active consumer among the highest priority level, sorted by
    /// name; partition i of a partitioned topic goes to i mod their number, a non-partitioned
    /// topic to the consumer its name hashes to on a ring. semantics.md says "the first to
    /// subscribe", but since apache/pulsar#19502 the 4.0 broker uses the ring, so a newcomer can
    /// take over from a live active consumer:
    /// https://github.com/apache/pulsar/blob/branch-4.0/pulsar-broker/src/main/java/org/apache/pulsar/broker/service/AbstractDispatcherSingleActiveConsumer.java
    /// Every change of active consumer on Failover (also the first attach) waits
    /// `activeConsumerFailoverDelayTimeMillis`, then reads again from the mark-delete position
    /// (`PersistentDispatcherSingleActiveConsumer.scheduleReadOnActiveConsumer`).
    pub(crate) fn pick_active(&mut self, topic: u32, sid: u32, p: u32) {
        let t = &self.family.topics[topic as usize];
        let sub = &t.subscriptions[sid as usize];
        let mut candidates: Vec<(u32, &str, ConsumerId)> = sub
            .consumers
            .iter()
            .map(|c| {
                let prio = sub.parts[p as usize].attached[c].priority;
                (
                    prio,
                    self.clients.consumers[c.index()].spec.name.as_str(),
                    *c,
                )
            })
            .collect();
        candidates.sort();
        let Some(top) = candidates.first().map(|c| c.0) else {
            return;
        };
        let best: Vec<&str> = (candidates.iter())
            .take_while(|c| c.0 == top)
            .map(|c| c.1)
            .collect();
        let index = if t.partitioned() {
            p as usize % best.len()
        } else {
            failover_ring_pick(&t.full_name(), &best)
        };
        let chosen = candidates[index].2;
        let delay = match sub.kind {
            Some(SubscriptionType::Failover) => {
                ms_to_us(self.family.broker.active_consumer_failover_delay_ms)
            }
            _ => 0,
        };
        let now = self.world.now;
        let part = &mut self.sub(topic, sid).parts[p as usize];
        if part.active == Some(chosen) {
            return;
        }
        part.active = Some(chosen);
        let read_at = now.plus(delay);
        if delay > 0 {
            part.switch_at = Some(read_at);
        }
        self.world.emit(EventKind::PulsarActiveConsumer {
            topic,
            partition: p,
            subscription: sid,
            consumer: chosen,
            read_at,
        });
        if delay == 0 {
            self.switch_now(topic, sid, p);
        } else {
            self.world.schedule(
                read_at,
                PulsarWork::SwitchActive {
                    topic,
                    sub: sid,
                    partition: p,
                    at: read_at,
                },
            );
        }
    }

    pub(crate) fn switch_active(&mut self, topic: u32, sid: u32, p: u32, at: SimTime) {
        if self.sub(topic, sid).parts[p as usize].switch_at == Some(at) {
            self.switch_now(topic, sid, p);
        }
    }

    /// The new active consumer reads from the mark-delete position (a cursor rewind): whatever
    /// the old one had not acked comes again (PUL-4, PUL-11).
    fn switch_now(&mut self, topic: u32, sid: u32, p: u32) {
        let part = &mut self.sub(topic, sid).parts[p as usize];
        part.switch_at = None;
        part.cursor.read = part.cursor.acked_below;
        self.schedule_dispatch(topic, sid, p);
    }

    pub(crate) fn dispatch(&mut self, topic: u32, sid: u32, p: u32) {
        let sub = self.sub(topic, sid);
        sub.parts[p as usize].dispatch_due = false;
        match sub.kind {
            None => {}
            Some(SubscriptionType::Exclusive | SubscriptionType::Failover) => {
                self.dispatch_single(topic, sid, p)
            }
            Some(SubscriptionType::Shared) => self.dispatch_shared(topic, sid, p),
            Some(SubscriptionType::KeyShared) => self.dispatch_key_shared(topic, sid, p),
        }
    }

    /// Up to `n` stored entries a read returns next: not acked, not out with a consumer, not
    /// waiting for a replay.
    fn new_entries(&self, topic: u32, sid: u32, p: u32, n: usize) -> Vec<u64> {
        let ml = &self.family.topics[topic as usize].partitions[p as usize];
        let sub = &self.family.topics[topic as usize].subscriptions[sid as usize];
        let cursor = &sub.parts[p as usize].cursor;
        (cursor.read.max(ml.start())..ml.end())
            .filter(|e| {
                !(cursor.is_acked(*e)
                    || cursor.pending.contains_key(e)
                    || cursor.replay.contains(e))
            })
            .take(n)
            .collect()
    }

    fn next_new(&self, topic: u32, sid: u32, p: u32) -> Option<u64> {
        self.new_entries(topic, sid, p, 1).first().copied()
    }

    /// Exclusive, Failover: everything, in order, to the active consumer while it has permits.
    fn dispatch_single(&mut self, topic: u32, sid: u32, p: u32) {
        let part = &self.sub(topic, sid).parts[p as usize];
        let Some(c) = part.active.filter(|_| part.switch_at.is_none()) else {
            return;
        };
        while self.sub(topic, sid).parts[p as usize].attached[&c].permits > 0 {
            let Some(e) = self.next_new(topic, sid, p) else {
                return;
            };
            self.sub(topic, sid).parts[p as usize].cursor.read = e + 1;
            self.send_entry(topic, sid, p, e, c);
        }
    }

    fn available(&self, topic: u32, sid: u32, p: u32, c: ConsumerId) -> bool {
        let part =
            &self.family.topics[topic as usize].subscriptions[sid as usize].parts[p as usize];
        part.attached
            .get(&c)
            .is_some_and(|a| a.permits > 0 && !a.blocked)
    }

    /// Permits of the consumers that can take messages now, and the read size they allow.
    fn read_budget(&self, topic: u32, sid: u32, p: u32) -> u64 {
        let part =
            &self.family.topics[topic as usize].subscriptions[sid as usize].parts[p as usize];
        if part.blocked {
            return 0;
        }
        let permits: i64 = (part.attached.values())
            .filter(|a| a.permits > 0 && !a.blocked)
            .map(|a| a.permits)
            .sum();
        (permits.max(0) as u64).min(u64::from(self.family.broker.dispatcher_max_read_batch_size))
    }

    /// `AbstractDispatcherMultipleConsumers.getNextConsumer`: round-robin from the last
    /// position within the highest priority level that has a consumer with permits; a lower
    /// level only when no higher one has any (PUL-5).
    fn next_consumer(&mut self, topic: u32, sid: u32, p: u32) -> Option<ConsumerId> {
        let sub = &self.family.topics[topic as usize].subscriptions[sid as usize];
        let list = &sub.consumers;
        let part = &sub.parts[p as usize];
        if list.is_empty() {
            return None;
        }
        let prio = |i: usize| part.attached[&list[i]].priority;
        let ok = |i: usize| {
            part.attached
                .get(&list[i])
                .is_some_and(|a| a.permits > 0 && !a.blocked)
        };
        let from = if part.next >= list.len() {
            0
        } else {
            part.next
        };
        let level = prio(from);
        let level_start = (0..list.len()).find(|i| prio(*i) == level).unwrap_or(0);
        let level_end = (level_start..list.len())
            .find(|i| prio(*i) != level)
            .unwrap_or(list.len());
        let order = (0..level_start)
            .chain(from..level_end)
            .chain(level_start..from)
            .chain(level_end..list.len());
        let found = order.into_iter().find(|i| ok(*i))?;
        let c = list[found];
        self.sub(topic, sid).parts[p as usize].next = found + 1;
        Some(c)
    }

    /// Shared (`PersistentDispatcherMultipleConsumers`): read up to min(permits, read batch)
    /// entries, replays first, and deal them in turns of up to `dispatcherMaxRoundRobinBatchSize`
    /// entries, within each consumer's permits and unacked room (PUL-5).
    fn dispatch_shared(&mut self, topic: u32, sid: u32, p: u32) {
        let turn = self.family.broker.dispatcher_max_round_robin_batch_size as usize;
        let max_unacked = u64::from(self.family.broker.max_unacked_messages_per_consumer);
        loop {
            let budget = self.read_budget(topic, sid, p) as usize;
            if budget == 0 {
                return;
            }
            let mut batch: Vec<(u64, bool)> = (self.sub(topic, sid).parts[p as usize].cursor)
                .replay
                .iter()
                .take(budget)
                .map(|e| (*e, true))
                .collect();
            let fresh = self.new_entries(topic, sid, p, budget - batch.len());
            batch.extend(fresh.into_iter().map(|e| (e, false)));
            let mut i = 0;
            while i < batch.len() {
                let Some(c) = self.next_consumer(topic, sid, p) else {
                    break;
                };
                let a = self.sub(topic, sid).parts[p as usize].attached[&c];
                let room = max_unacked.saturating_sub(a.unacked).max(1);
                let (mut dealt, mut msgs) = (0usize, 0u64);
                while i < batch.len() && dealt < turn && (dealt as u64) < room {
                    let (e, replayed) = batch[i];
                    let len = self.family.entry_len(topic, p, e);
                    if dealt > 0 && (msgs + len) as i64 > a.permits {
                        break;
                    }
                    // Only what is dealt is taken from the replay set or moves the read.
                    let cursor = &mut self.sub(topic, sid).parts[p as usize].cursor;
                    if replayed {
                        cursor.replay.remove(&e);
                    } else {
                        cursor.read = e + 1;
                    }
                    self.send_entry(topic, sid, p, e, c);
                    (dealt, msgs, i) = (dealt + 1, msgs + len, i + 1);
                }
            }
            if i == 0 {
                return;
            }
        }
    }

    /// Key_Shared (4.0, PIP-379): an entry goes to the consumer its key's hash maps to; it
    /// waits (in the replay set) while that consumer has no permits, or while another consumer
    /// still holds unacked entries of the same hash, so one key is never unacked at two
    /// consumers and stays in order (PUL-6).
    fn dispatch_key_shared(&mut self, topic: u32, sid: u32, p: u32) {
        loop {
            let budget = self.read_budget(topic, sid, p) as usize;
            if budget == 0 {
                return;
            }
            let mut sent = 0;
            let mut waiting: BTreeSet<u32> = BTreeSet::new();
            let replay: Vec<u64> = (self.sub(topic, sid).parts[p as usize].cursor.replay)
                .iter()
                .copied()
                .collect();
            for e in replay {
                if sent == budget {
                    break;
                }
                if let Some(c) = self.key_shared_target(topic, sid, p, e, &mut waiting) {
                    self.sub(topic, sid).parts[p as usize]
                        .cursor
                        .replay
                        .remove(&e);
                    self.send_entry(topic, sid, p, e, c);
                    sent += 1;
                }
            }
            let limit = look_ahead_limit(self.sub(topic, sid).consumers.len());
            while sent < budget
                && self.sub(topic, sid).parts[p as usize].cursor.replay.len() < limit
            {
                let Some(e) = self.next_new(topic, sid, p) else {
                    break;
                };
                let target = self.key_shared_target(topic, sid, p, e, &mut waiting);
                let cursor = &mut self.sub(topic, sid).parts[p as usize].cursor;
                cursor.read = e + 1;
                match target {
                    Some(c) => {
                        self.send_entry(topic, sid, p, e, c);
                        sent += 1;
                    }
                    None => {
                        cursor.replay.insert(e);
                    }
                }
            }
            if sent == 0 {
                return;
            }
        }
    }

    /// Who may take entry `e` now, or `None` (its hash then waits for the rest of this pass).
    fn key_shared_target(
        &mut self,
        topic: u32,
        sid: u32,
        p: u32,
        e: u64,
        waiting: &mut BTreeSet<u32>,
    ) -> Option<ConsumerId> {
        let hash = self.entry_hash(topic, p, e)?;
        if waiting.contains(&hash) {
            return None;
        }
        let sub = &self.family.topics[topic as usize].subscriptions[sid as usize];
        let target = sub.selector.as_ref().and_then(|s| s.select(hash));
        let owner = sub.parts[p as usize].hash_owners.get(&hash).copied();
        let Some(c) = target.filter(|c| self.available(topic, sid, p, *c)) else {
            waiting.insert(hash);
            return None;
        };
        if let Some((from, _)) = owner.filter(|(o, n)| *o != c && *n > 0) {
            waiting.insert(hash);
            let part = &mut self.sub(topic, sid).parts[p as usize];
            if part.draining_told.insert((hash, c)) {
                self.world.emit(EventKind::PulsarHashDraining {
                    topic,
                    partition: p,
                    subscription: sid,
                    hash,
                    from,
                    to: c,
                });
            }
            return None;
        }
        Some(c)
    }

    /// Sends every message of entry `e` to consumer `c` (PUL-5, PUL-7: a batch goes whole).
    fn send_entry(&mut self, topic: u32, sid: u32, p: u32, e: u64, c: ConsumerId) {
        let entry = &self.family.topics[topic as usize].partitions[p as usize]
            .get(e)
            .expect("a stored entry");
        let slots = entry.slots.clone();
        let len = slots.len() as u64;
        let hash = self.entry_hash(topic, p, e);
        let max_consumer = u64::from(self.family.broker.max_unacked_messages_per_consumer);
        let max_sub = u64::from(self.family.broker.max_unacked_messages_per_subscription);
        let sub = self.sub(topic, sid);
        let individual = !sub.kind.is_some_and(SubscriptionType::single_active);
        let key_shared = sub.kind == Some(SubscriptionType::KeyShared);
        let part = &mut sub.parts[p as usize];
        let redelivered = e < part.cursor.sent_below;
        part.cursor.sent_below = part.cursor.sent_below.max(e + 1);
        // Exclusive and Failover track no redelivery count (`RedeliveryTrackerDisabled`).
        let count = if individual {
            part.cursor.redeliveries.get(&e).copied().unwrap_or(0)
        } else {
            0
        };
        let a = part.attached.get_mut(&c).expect("attached");
        a.permits -= len as i64;
        if individual {
            // Only individual-ack subscriptions keep pending acks per consumer.
            part.cursor.pending.insert(e, c);
            a.unacked += len;
            a.blocked |= a.unacked >= max_consumer;
            part.unacked += len;
            part.blocked |= part.unacked >= max_sub;
        }
        if let (true, Some(h)) = (key_shared, hash) {
            let owner = part.hash_owners.entry(h).or_insert((c, 0));
            *owner = (c, owner.1 + 1);
        }
        let pc = self.family.consumers.get_mut(&c).expect("pulsar consumer");
        let batch = pc.next_batch;
        pc.next_batch += 1;
        pc.batch_left.insert(batch, len as u32);
        let epoch = pc.broker_epoch;
        let runtime_epoch = self.clients.consumers[c.index()].epoch;
        for slot in slots {
            let msg = self.world.copies.get(slot).msg;
            let consumer = &mut self.clients.consumers[c.index()];
            let tag = consumer.next_tag;
            consumer.next_tag += 1;
            consumer.delivered += 1;
            if redelivered {
                consumer.redelivered += 1;
            }
            consumer.log_delivery(msg, redelivered);
            let pc = self.family.consumers.get_mut(&c).expect("pulsar consumer");
            pc.deliveries.insert(
                tag,
                Delivery {
                    partition: p,
                    entry: e,
                    batch,
                    redelivery_count: count,
                    epoch,
                    slot,
                },
            );
            self.world.emit(EventKind::PulsarDispatched {
                msg,
                topic,
                partition: p,
                entry: e,
                subscription: sid,
                consumer: c,
                redelivery_count: count,
            });
            self.send_to_consumer(
                NodeRef::PulsarPartition(topic, p),
                c,
                slot,
                tag,
                runtime_epoch,
            );
        }
    }

    /// Flow permits from a consumer (PUL-5); on Failover they wait for the switch delay.
    pub(crate) fn flow(&mut self, cid: ConsumerId, connection: u32, p: u32, permits: u32) {
        let pc = &self.family.consumers[&cid];
        if pc.attached != Some(connection) {
            return;
        }
        let (topic, sid) = (pc.topic, pc.sub.expect("attached"));
        if let Some(a) = self.sub(topic, sid).parts[p as usize]
            .attached
            .get_mut(&cid)
        {
            a.permits += i64::from(permits);
            self.schedule_dispatch(topic, sid, p);
        }
    }

    /// An entry leaves the consumer holding it (acked or asked back): its unacked counts fall,
    /// and blocked consumers resume at half the limit (`Consumer.messageAcked`).
    pub(crate) fn release_pending(&mut self, topic: u32, sid: u32, p: u32, e: u64) {
        let len = self.family.entry_len(topic, p, e);
        let hash = self.entry_hash(topic, p, e);
        let max_consumer = u64::from(self.family.broker.max_unacked_messages_per_consumer);
        let max_sub = u64::from(self.family.broker.max_unacked_messages_per_subscription);
        let key_shared = self.sub(topic, sid).kind == Some(SubscriptionType::KeyShared);
        let part = &mut self.sub(topic, sid).parts[p as usize];
        let Some(owner) = part.cursor.pending.remove(&e) else {
            return;
        };
        if let Some(a) = part.attached.get_mut(&owner) {
            a.unacked = a.unacked.saturating_sub(len);
            if a.blocked && a.unacked <= max_consumer / 2 {
                a.blocked = false;
            }
        }
        part.unacked = part.unacked.saturating_sub(len);
        if part.blocked && part.unacked <= max_sub / 2 {
            part.blocked = false;
        }
        if let (true, Some(h)) = (key_shared, hash) {
            if let Some((_, n)) = part.hash_owners.get_mut(&h) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    part.hash_owners.remove(&h);
                    part.draining_told.retain(|(hash, _)| *hash != h);
                }
            }
        }
    }

    /// Acks reach the broker (PUL-7): the cursor moves, held hashes and blocked consumers are
    /// freed, and a mark-delete position that passed a ledger may let it be trimmed.
    pub(crate) fn acks_arrive(
        &mut self,
        cid: ConsumerId,
        topic: u32,
        sid: u32,
        individual: &[(u32, u64)],
        cumulative: &[(u32, u64)],
    ) {
        if self.sub(topic, sid).gone {
            return;
        }
        let mut moved = BTreeSet::new();
        for &(p, e) in individual {
            if self.sub(topic, sid).parts[p as usize].cursor.is_acked(e) {
                continue;
            }
            self.release_pending(topic, sid, p, e);
            if self.sub(topic, sid).parts[p as usize].cursor.ack(e) {
                moved.insert(p);
            }
            self.acked_event(topic, sid, p, e, cid, false);
        }
        for &(p, e) in cumulative {
            let cursor = &self.sub(topic, sid).parts[p as usize].cursor;
            if e < cursor.acked_below {
                continue;
            }
            let held: Vec<u64> = cursor.pending.range(..=e).map(|(e, _)| *e).collect();
            for h in held {
                self.release_pending(topic, sid, p, h);
            }
            self.sub(topic, sid).parts[p as usize].cursor.ack_up_to(e);
            moved.insert(p);
            self.acked_event(topic, sid, p, e, cid, true);
        }
        for p in moved {
            self.cursor_moved(topic, sid, p, CursorReason::Ack);
        }
        self.schedule_dispatch_all(topic, sid);
    }

    fn acked_event(
        &mut self,
        topic: u32,
        sid: u32,
        p: u32,
        e: u64,
        cid: ConsumerId,
        cumulative: bool,
    ) {
        let msg = (self.family.topics[topic as usize].partitions[p as usize].get(e))
            .map_or(MessageId(u64::MAX), |en| {
                self.world.copies.get(en.slots[0]).msg
            });
        self.world.emit(EventKind::PulsarAcked {
            msg,
            topic,
            partition: p,
            entry: e,
            subscription: sid,
            consumer: cid,
            cumulative,
        });
    }

    /// Says where the mark-delete position is now, and trims if a durable cursor passed the
    /// end of the oldest closed ledger ("only trigger a trimming when switching to the next
    /// ledger", `ManagedLedgerImpl.updateCursor`).
    pub(crate) fn cursor_moved(&mut self, topic: u32, sid: u32, p: u32, reason: CursorReason) {
        let sub = self.sub(topic, sid);
        let (mark_delete, acked_below, durable) = (
            sub.parts[p as usize].cursor.mark_delete(),
            sub.parts[p as usize].cursor.acked_below,
            sub.holds_backlog(),
        );
        self.world.emit(EventKind::PulsarCursorMoved {
            topic,
            partition: p,
            subscription: sid,
            mark_delete,
            reason,
        });
        let ml = &self.family.topics[topic as usize].partitions[p as usize];
        if durable && ml.oldest_closed().is_some_and(|l| l.end() <= acked_below) {
            self.try_trim(topic, p);
        }
    }

    /// A redelivery request reaches the broker (PUL-8, PUL-9). Shared, Key_Shared: the listed
    /// entries go to the replay set with their count + 1. Exclusive, Failover: the cursor
    /// rewinds to the mark-delete position and the consumer's epoch moves on.
    pub(crate) fn redeliver_arrives(
        &mut self,
        cid: ConsumerId,
        connection: u32,
        entries: Option<Vec<(u32, u64)>>,
        epoch: u32,
    ) {
        let pc = self
            .family
            .consumers
            .get_mut(&cid)
            .expect("pulsar consumer");
        if pc.attached != Some(connection) {
            return;
        }
        let (topic, sid) = (pc.topic, pc.sub.expect("attached"));
        match entries {
            Some(list) => {
                for (p, e) in list {
                    if self.sub(topic, sid).parts[p as usize]
                        .cursor
                        .pending
                        .get(&e)
                        != Some(&cid)
                    {
                        continue;
                    }
                    self.release_pending(topic, sid, p, e);
                    let cursor = &mut self.sub(topic, sid).parts[p as usize].cursor;
                    *cursor.redeliveries.entry(e).or_default() += 1;
                    cursor.replay.insert(e);
                }
            }
            None => {
                pc.broker_epoch = epoch;
                for part in &mut self.sub(topic, sid).parts {
                    if part.active == Some(cid) && part.switch_at.is_none() {
                        part.cursor.read = part.cursor.acked_below;
                    }
                }
            }
        }
        self.schedule_dispatch_all(topic, sid);
    }
}
