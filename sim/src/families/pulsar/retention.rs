//! Backlog, retention and TTL as three different things (PUL-12), subscriptions created by an
//! admin (PUL-2) and replay by moving a cursor (PUL-13).
//!
//! A message acked by every durable subscription is only marked for deletion: its ledger goes
//! whole, when it is closed and the slowest durable cursor has passed it, unless retention
//! keeps it. Unlike Kafka, consumption is what frees space; retention only delays it.

use super::{Pulsar, PulsarWork};
use crate::clients::{ClientWork, ConsumerStatus, Cx};
use crate::command::CommandError;
use crate::event::{CursorReason, EventKind};
use crate::kernel::ms_to_us;
use crate::ledger::{CopyState, DropReason};
use crate::scenario::pulsar::{CursorTarget, PulsarSubscriptionSpec, Retention};
use crate::time::SimTime;

/// The first point of a check's grid (every `period` from time 0) after `now` and not before
/// `due`.
fn grid_after(now: SimTime, due: SimTime, period: u64) -> SimTime {
    let from = due.0.max(now.0 + 1);
    SimTime(from.div_ceil(period) * period)
}

impl Pulsar {
    /// The topic a new admin subscription goes on; refused if it has one of that name.
    pub(crate) fn new_subscription_target(
        &self,
        spec: &PulsarSubscriptionSpec,
    ) -> Result<u32, CommandError> {
        let topic = self.known_topic(&spec.topic)?;
        if self.topics[topic as usize]
            .subscription_id(&spec.name)
            .is_some()
        {
            return Err(CommandError::Duplicate {
                kind: "subscription",
                name: spec.name.clone(),
            });
        }
        Ok(topic)
    }

    /// The (topic, subscription) a `reset_cursor` names, checked before anything changes.
    pub(crate) fn reset_target(
        &self,
        topic: &str,
        subscription: &str,
        to: &CursorTarget,
    ) -> Result<(u32, u32), CommandError> {
        let t = self.known_topic(topic)?;
        let sub = self.topics[t as usize]
            .subscription_id(subscription)
            .ok_or_else(|| CommandError::UnknownEntity {
                kind: "subscription",
                name: subscription.to_string(),
            })?;
        if let CursorTarget::TimestampMs(ms) = to {
            crate::scenario::check_ms("to.timestamp_ms", *ms)?;
        }
        Ok((t, sub))
    }

    fn known_topic(&self, name: &str) -> Result<u32, CommandError> {
        self.topic_id(name)
            .ok_or_else(|| CommandError::UnknownEntity {
                kind: "pulsar topic",
                name: name.to_string(),
            })
    }

    /// The slowest durable cursor's mark-delete position + 1 in a partition; everything below
    /// it is consumed. With no durable subscription, everything is.
    pub(crate) fn consumed_below(&self, topic: u32, p: u32) -> u64 {
        (self.topics[topic as usize].subscriptions.iter())
            .filter(|s| s.holds_backlog())
            .map(|s| s.parts[p as usize].cursor.acked_below)
            .min()
            .unwrap_or(u64::MAX)
    }

    /// Messages stored and consumed by every durable subscription: "marked for deletion",
    /// waiting for their ledger to go (PUL-12).
    pub(crate) fn marked_for_deletion(&self, topic: u32, p: u32) -> u64 {
        let ml = &self.topics[topic as usize].partitions[p as usize];
        ml.messages_in(ml.start(), self.consumed_below(topic, p))
    }

    /// A subscription's backlog in one partition: messages stored and not acked (PUL-12).
    pub(crate) fn backlog(&self, topic: u32, sub: u32, p: u32) -> u64 {
        let ml = &self.topics[topic as usize].partitions[p as usize];
        let cursor =
            &self.topics[topic as usize].subscriptions[sub as usize].parts[p as usize].cursor;
        let acked: u64 = (cursor.acked.iter())
            .map(|e| ml.messages_in(*e, e + 1))
            .sum();
        ml.messages_in(cursor.acked_below, ml.end()) - acked
    }
}

impl<W: From<PulsarWork> + From<ClientWork>> Cx<'_, &mut Pulsar, W> {
    /// A durable subscription with no consumer, declared in the scenario's
    /// `pulsar.subscriptions`: it exists from the start, without an event. The topic was
    /// checked by [`Pulsar::new_subscription_target`].
    pub(crate) fn declare_subscription(&mut self, topic: u32, spec: PulsarSubscriptionSpec) -> u32 {
        let sub = self.new_subscription(topic, &spec.name, true, spec.initial_position);
        self.family.admin_subscriptions.push(spec);
        sub
    }

    /// `pulsar-admin topics create-subscription`.
    pub(crate) fn create_subscription(&mut self, topic: u32, spec: PulsarSubscriptionSpec) {
        let sub = self.declare_subscription(topic, spec);
        self.announce_subscription(topic, sub);
    }

    /// Whether a consumed, closed ledger may go (`ManagedLedgerImpl.internalTrimLedgers`): its
    /// retention time expired, or the topic is over its retention size. Retention `0, 0` keeps
    /// nothing; −1 is unlimited.
    fn retention_lets_go(&self, r: Retention, closed: SimTime, bytes: u64) -> bool {
        let expired = r.time_ms >= 0.0 && self.world.now.since(closed) > ms_to_us(r.time_ms);
        let over_size = r.size_bytes >= 0 && bytes > r.size_bytes as u64;
        expired || over_size
    }

    /// Entries a client still holds in this partition: their ledger waits (the client has the
    /// message even after the broker forgets it; the simulator keeps the copy until then).
    fn held_by_clients(&self, topic: u32, p: u32, from: u64, to: u64) -> bool {
        self.family.consumers.values().any(|pc| {
            pc.topic == topic
                && pc
                    .deliveries
                    .values()
                    .any(|d| d.partition == p && (from..to).contains(&d.entry))
        })
    }

    /// Deletes the consumed closed ledgers retention allows, oldest first; the current ledger
    /// never goes (PUL-1, PUL-12), so "a topic with no subscription keeps nothing" (semantics.md)
    /// holds only for closed ledgers (`ManagedLedgerImpl.internalTrimLedgers`):
    /// https://github.com/apache/pulsar/blob/branch-4.0/managed-ledger/src/main/java/org/apache/bookkeeper/mledger/impl/ManagedLedgerImpl.java
    /// A ledger whose message a client still holds waits for the next trim (a model choice: the
    /// simulator keeps one copy per message). Each message ends as: `Expired` if TTL acked it somewhere,
    /// `RemovedByRetention` if retention is set, `Dropped(no_subscription)` if no durable
    /// subscription ever had it, else `Acked`.
    pub(crate) fn try_trim(&mut self, topic: u32, p: u32) {
        let consumed = self.family.consumed_below(topic, p);
        let retention = self.family.topics[topic as usize].spec.retention;
        loop {
            let ml = &self.family.topics[topic as usize].partitions[p as usize];
            let Some(l) = ml.oldest_closed().copied() else {
                break;
            };
            if l.end() > consumed
                || !self.retention_lets_go(retention, l.closed.expect("closed"), ml.bytes())
                || self.held_by_clients(topic, p, l.first, l.end())
            {
                break;
            }
            // Only a non-durable subscription can still count one of these entries as sent to a
            // consumer (one that crashed, not yet seen by the broker): it is forgotten first.
            for sid in 0..self.family.topics[topic as usize].subscriptions.len() as u32 {
                let cursor = &self.family.topics[topic as usize].subscriptions[sid as usize].parts
                    [p as usize]
                    .cursor;
                let held: Vec<u64> = cursor
                    .pending
                    .range(l.first..l.end())
                    .map(|(e, _)| *e)
                    .collect();
                for e in held {
                    self.release_pending(topic, sid, p, e);
                }
            }
            let ml = &mut self.family.topics[topic as usize].partitions[p as usize];
            let (ledger, entries) = ml.trim_oldest();
            for entry in entries {
                for slot in entry.slots {
                    match () {
                        _ if entry.ttl_acked => self.world.set_state(slot, CopyState::Expired),
                        _ if !retention.is_off() => {
                            self.world.set_state(slot, CopyState::RemovedByRetention)
                        }
                        _ if !entry.had_subscription => {
                            self.world.drop_copy(slot, DropReason::NoSubscription)
                        }
                        _ => self.world.set_state(slot, CopyState::Acked),
                    }
                }
            }
            self.world.emit(EventKind::PulsarLedgerTrimmed {
                topic,
                partition: p,
                ledger: ledger.id,
                entries: ledger.entries,
            });
        }
        // Non-durable cursors hold nothing: one the trim passed reads on from the first
        // stored entry.
        let start = self.family.topics[topic as usize].partitions[p as usize].start();
        for sub in &mut self.family.topics[topic as usize].subscriptions {
            let cursor = &mut sub.parts[p as usize].cursor;
            if cursor.acked_below < start {
                cursor.ack_up_to(start - 1);
            }
        }
        self.arm_retention(topic);
    }

    /// Schedules the next retention check that can do something: roll an idle ledger, or
    /// trim a consumed ledger that retention (or a client) still keeps.
    pub(crate) fn arm_retention(&mut self, topic: u32) {
        let roll = self.family.rollover();
        let period = ms_to_us(self.family.broker.retention_check_interval_ms).max(1);
        let t = &self.family.topics[topic as usize];
        let r = t.spec.retention;
        let mut due: Option<SimTime> = None;
        for (p, ml) in t.partitions.iter().enumerate() {
            let consumed = self.family.consumed_below(topic, p as u32);
            let trim = ml
                .oldest_closed()
                .filter(|l| l.end() <= consumed)
                .and_then(|l| {
                    if r.is_off() {
                        // Only a client still holding one of its messages keeps it.
                        Some(self.world.now)
                    } else if r.time_ms >= 0.0 {
                        Some(l.closed?.plus(ms_to_us(r.time_ms) + 1))
                    } else {
                        // Unlimited time: only growing past the size frees it, at a rollover.
                        None
                    }
                });
            for d in [ml.rollover_due(&roll), trim].into_iter().flatten() {
                due = Some(due.map_or(d, |x| x.min(d)));
            }
        }
        let Some(due) = due else {
            return;
        };
        let at = grid_after(self.world.now, due, period);
        let t = &mut self.family.topics[topic as usize];
        if t.retention_check_at.is_some_and(|x| x <= at) {
            return;
        }
        t.retention_check_at = Some(at);
        self.world
            .schedule(at, PulsarWork::RetentionCheck { topic, at });
    }

    /// `retentionCheckIntervalInSeconds`: rolls ledgers past their maximum age and trims.
    pub(crate) fn retention_check(&mut self, topic: u32, at: SimTime) {
        if self.family.topics[topic as usize].retention_check_at != Some(at) {
            return;
        }
        self.family.topics[topic as usize].retention_check_at = None;
        let roll = self.family.rollover();
        for p in 0..self.family.topics[topic as usize].partitions.len() as u32 {
            let ml = &mut self.family.topics[topic as usize].partitions[p as usize];
            if let Some(l) = ml.roll_if_full(self.world.now, &roll) {
                self.world.emit(EventKind::PulsarLedgerRolled {
                    topic,
                    partition: p,
                    ledger: l.id,
                    entries: l.entries,
                });
            }
            self.try_trim(topic, p);
        }
    }

    /// Arms the TTL check unless one is armed already (appends only make more to expire).
    pub(crate) fn arm_expiry_if_idle(&mut self, topic: u32) {
        if self.family.topics[topic as usize].expiry_check_at.is_none() {
            self.arm_expiry(topic);
        }
    }

    /// Schedules the next message-expiry check that finds an unacked message older than the
    /// TTL, on the broker's check grid.
    pub(crate) fn arm_expiry(&mut self, topic: u32) {
        let t = &self.family.topics[topic as usize];
        let ttl = ms_to_us(t.spec.ttl_ms);
        if ttl == 0 {
            return;
        }
        let period = ms_to_us(self.family.broker.message_expiry_check_interval_ms).max(1);
        let oldest = (t.subscriptions.iter())
            .filter(|s| !s.gone)
            .flat_map(|s| {
                s.parts.iter().zip(&t.partitions).filter_map(|(part, ml)| {
                    let from = part.cursor.acked_below.max(ml.start());
                    (ml.iter_from(from))
                        .find(|(e, _)| !part.cursor.is_acked(*e))
                        .map(|(_, en)| en.published_at)
                })
            })
            .min();
        let Some(oldest) = oldest else {
            return;
        };
        // Expired once strictly older than the TTL (`MessageImpl.isEntryExpired`).
        let at = grid_after(self.world.now, oldest.plus(ttl + 1), period);
        let t = &mut self.family.topics[topic as usize];
        if t.expiry_check_at.is_some_and(|x| x <= at) {
            return;
        }
        t.expiry_check_at = Some(at);
        self.world
            .schedule(at, PulsarWork::ExpiryCheck { topic, at });
    }

    /// `messageExpiryCheckIntervalInMinutes`: every subscription acks, on its own behalf, the
    /// messages published more than the TTL ago, even those a consumer is processing (PUL-12).
    pub(crate) fn expiry_check(&mut self, topic: u32, at: SimTime) {
        if self.family.topics[topic as usize].expiry_check_at != Some(at) {
            return;
        }
        self.family.topics[topic as usize].expiry_check_at = None;
        let now = self.world.now;
        let ttl = ms_to_us(self.family.topics[topic as usize].spec.ttl_ms);
        for sid in 0..self.family.topics[topic as usize].subscriptions.len() as u32 {
            if self.family.topics[topic as usize].subscriptions[sid as usize].gone {
                continue;
            }
            for p in 0..self.family.topics[topic as usize].partitions.len() as u32 {
                let t = &self.family.topics[topic as usize];
                let (ml, cursor) = (
                    &t.partitions[p as usize],
                    &t.subscriptions[sid as usize].parts[p as usize].cursor,
                );
                let expired: Vec<u64> = ml
                    .iter_from(cursor.acked_below)
                    .take_while(|(_, en)| en.published_at.plus(ttl) < now)
                    .map(|(e, _)| e)
                    .collect();
                let Some(&last) = expired.last() else {
                    continue;
                };
                let unacked: Vec<u64> = expired
                    .into_iter()
                    .filter(|e| !cursor.is_acked(*e))
                    .collect();
                for e in &unacked {
                    self.release_pending(topic, sid, p, *e);
                    let ml = &mut self.family.topics[topic as usize].partitions[p as usize];
                    ml.get_mut(*e).expect("stored").ttl_acked = true;
                }
                let sub = &mut self.family.topics[topic as usize].subscriptions[sid as usize];
                sub.parts[p as usize].cursor.ack_up_to(last);
                self.world.emit(EventKind::PulsarTtlExpired {
                    topic,
                    partition: p,
                    subscription: sid,
                    entries: unacked.len() as u64,
                });
                self.cursor_moved(topic, sid, p, CursorReason::Ttl);
                self.schedule_dispatch(topic, sid, p);
            }
        }
        self.arm_expiry(topic);
    }

    /// `seek` / `pulsar-admin topics reset-cursor` (PUL-13): every partition's mark-delete goes
    /// just before the target, individual acks after it are forgotten, and the subscription's
    /// consumers are disconnected; they reconnect and read from there. Replaying acked
    /// messages needs them still stored (retention).
    /// The target was checked by [`Pulsar::reset_target`].
    pub(crate) fn reset_cursor(&mut self, t: u32, sid: u32, to: &CursorTarget) {
        let consumers = self.family.topics[t as usize].subscriptions[sid as usize]
            .consumers
            .clone();
        for c in consumers {
            // Disconnected by the broker: the client drops its queue and reconnects.
            self.end_connection(c, ConsumerStatus::Running);
            self.reset_client(c);
            let pc = self.family.consumers.get_mut(&c).expect("pulsar consumer");
            pc.attached = None;
            let connection = pc.connection;
            self.unlink(t, sid, c);
            self.world.schedule(
                self.world.now.plus(self.world.latency),
                PulsarWork::Reconnect {
                    consumer: c,
                    connection,
                },
            );
        }
        self.settle_membership(t, sid);
        let partitions = self.family.topics[t as usize].partitions.len() as u32;
        for p in 0..partitions {
            let topic_ref = &mut self.family.topics[t as usize];
            let durable = topic_ref.subscriptions[sid as usize].holds_backlog();
            let ml = &mut topic_ref.partitions[p as usize];
            let target = match to {
                CursorTarget::Earliest => ml.start(),
                CursorTarget::Latest => ml.end(),
                CursorTarget::Entry(e) => (*e).clamp(ml.start(), ml.end()),
                CursorTarget::TimestampMs(ms) => ml.entry_at_time(SimTime(ms_to_us(*ms))),
            };
            if durable {
                for e in target..ml.end() {
                    ml.get_mut(e).expect("stored").had_subscription = true;
                }
            }
            let part = &mut topic_ref.subscriptions[sid as usize].parts[p as usize];
            part.cursor.reset(target);
            part.hash_owners.clear();
            part.draining_told.clear();
            part.unacked = 0;
            part.blocked = false;
            self.cursor_moved(t, sid, p, CursorReason::Reset);
            self.schedule_dispatch(t, sid, p);
        }
        self.arm_expiry(t);
    }
}
