//! The Pulsar consumer client on the push-consumer runtime: the runtime's buffer is the
//! receiver queue; this part adds flow permits, grouped and cumulative acks, the negative-ack
//! tracker, the ack-timeout tracker and the dead-letter policy (PUL-5, PUL-7…PUL-11).

use super::{Delivery, Nacked, Pulsar, PulsarConsumer, PulsarWork, Sender};
use crate::clients::{ClientWork, Closure, ConsumerStatus, Cx};
use crate::event::{EventKind, RedeliveryReason};
use crate::ids::ConsumerId;
use crate::kernel::ms_to_us;
use crate::ledger::CopyState;
use crate::scenario::pulsar::{InitialPosition, OnFailure, PulsarAck, PulsarConsumerSpec};
use crate::scenario::FailureSpec;
use crate::time::SimTime;
use crate::wire::NodeRef;

/// `NegativeAcksTracker.MIN_NACK_DELAY_NANOS`.
const MIN_NACK_DELAY_US: u64 = 100_000;

/// The negative-ack delay for a message with `count` redeliveries (PUL-8).
fn nack_delay_us(s: &PulsarConsumerSpec, count: u32) -> u64 {
    let ms = match &s.negative_ack_backoff {
        Some(b) => (b.min_ms * b.multiplier.powi(count.min(64) as i32)).min(b.max_ms),
        None => s.negative_ack_redelivery_delay_ms,
    };
    ms_to_us(ms).max(MIN_NACK_DELAY_US)
}

/// The negative-ack tracker's timer period: a third of the delay (`timerIntervalNanos`), so a
/// nack comes back between its delay and a third more. Rounded up, so three ticks are never
/// short of the delay by a rounding error (the real timer fires a little late, not early).
fn nack_tick_us(s: &PulsarConsumerSpec) -> u64 {
    nack_delay_us(s, 0).div_ceil(3).max(1)
}

impl<W: From<PulsarWork> + From<ClientWork>> Cx<'_, &mut Pulsar, W> {
    fn settings(&self, cid: ConsumerId) -> &PulsarConsumerSpec {
        &self.clients.consumers[cid.index()].spec.pulsar
    }

    /// Forgets everything the client held for its connection.
    pub(crate) fn reset_client(&mut self, cid: ConsumerId) {
        let pc = self
            .family
            .consumers
            .get_mut(&cid)
            .expect("pulsar consumer");
        *pc = PulsarConsumer {
            topic: pc.topic,
            source: pc.source.take(),
            sub: pc.sub,
            connection: pc.connection,
            attached: pc.attached,
            next_batch: pc.next_batch,
            ..PulsarConsumer::default()
        };
    }

    /// `subscribe()`: a new connection; the request reaches the broker L later.
    pub(crate) fn consume(&mut self, cid: ConsumerId) {
        self.clients.consumers[cid.index()].status = ConsumerStatus::Running;
        self.reset_client(cid);
        let pc = self
            .family
            .consumers
            .get_mut(&cid)
            .expect("pulsar consumer");
        pc.connection += 1;
        pc.subscribed_at = self.world.now;
        let connection = pc.connection;
        self.world.schedule(
            self.world.now.plus(self.world.latency),
            PulsarWork::Subscribe {
                consumer: cid,
                connection,
            },
        );
    }

    /// The consumer closes (cleanly, flushing its grouped acks first) or crashes: what it held
    /// is gone from the client; the broker sees it L later and gives its unacked messages to
    /// others or to the next consumer, never losing one (PUL-11).
    pub(crate) fn close_consumer(&mut self, cid: ConsumerId, status: ConsumerStatus, why: Closure) {
        if status == ConsumerStatus::Removed {
            self.send_acks(cid);
        }
        let (lost, _) = self.end_connection(cid, status);
        let requeued = self.family.consumers[&cid].deliveries.len() as u32;
        self.reset_client(cid);
        let pc = &self.family.consumers[&cid];
        // A subscribe still on its way is refused by the broker: the consumer is not running.
        let connection = pc.attached.unwrap_or(pc.connection);
        self.world.schedule(
            self.world.now.plus(self.world.latency),
            PulsarWork::Detach {
                consumer: cid,
                connection,
            },
        );
        self.channel_closed(cid, &why);
        if why == Closure::Crash {
            self.crashed(cid, requeued, lost);
        }
    }

    /// A delivery reaches the client: dropped if the client asked for a rewind since the
    /// broker sent it (its consumer epoch is older), and the permit is given back.
    pub(crate) fn delivery_wanted(&mut self, cid: ConsumerId, tag: u64) -> bool {
        let pc = self
            .family
            .consumers
            .get_mut(&cid)
            .expect("pulsar consumer");
        let Some(d) = pc.deliveries.get(&tag).copied() else {
            return false;
        };
        if d.epoch < pc.epoch {
            pc.deliveries.remove(&tag);
            self.grant_permits(cid, d.partition, 1);
            return false;
        }
        true
    }

    /// The application took its next message from the receiver queue: a permit goes back
    /// (sent in bulk at half the queue), and the ack-timeout clock starts (PUL-9).
    pub(crate) fn received(&mut self, cid: ConsumerId) {
        let Some((tag, _)) = self.clients.consumers[cid.index()].current else {
            return;
        };
        let pc = self
            .family
            .consumers
            .get_mut(&cid)
            .expect("pulsar consumer");
        if pc.last_received == Some(tag) {
            return;
        }
        pc.last_received = Some(tag);
        let Some(d) = pc.deliveries.get(&tag).copied() else {
            return;
        };
        let msg = self.world.copies.get(d.slot).msg;
        self.world
            .emit(EventKind::PulsarReceived { msg, consumer: cid });
        self.grant_permits(cid, d.partition, 1);
        self.track_ack_timeout(cid, &d);
    }

    /// `increaseAvailablePermits`: flow permits go to the broker once half the receiver queue
    /// is free (`receiverQueueRefillThreshold`).
    fn grant_permits(&mut self, cid: ConsumerId, p: u32, n: u32) {
        let queue = self.settings(cid).receiver_queue_size;
        let pc = &self.family.consumers[&cid];
        let queue = self.family.partition_queue(pc.topic, queue);
        let pc = self
            .family
            .consumers
            .get_mut(&cid)
            .expect("pulsar consumer");
        let Some(unreported) = pc.unreported.get_mut(p as usize) else {
            return;
        };
        *unreported += n;
        if *unreported < (queue / 2).max(1) {
            return;
        }
        let permits = std::mem::take(unreported);
        let connection = pc.connection;
        self.world.schedule(
            self.world.now.plus(self.world.latency),
            PulsarWork::Flow {
                consumer: cid,
                connection,
                partition: p,
                permits,
            },
        );
    }

    /// The application finished a message the broker still counts as unacked (PUL-7, PUL-8).
    pub(crate) fn processed(&mut self, cid: ConsumerId, tag: u64, failed: bool, _: &FailureSpec) {
        let pc = self
            .family
            .consumers
            .get_mut(&cid)
            .expect("pulsar consumer");
        let Some(d) = pc.deliveries.remove(&tag) else {
            return;
        };
        if failed {
            if self.settings(cid).on_failure == OnFailure::Nack {
                self.nack(cid, &d);
            }
            return;
        }
        let published_at = self.world.copies.get(d.slot).published_at;
        self.world.complete(published_at);
        self.clients.consumers[cid.index()].acked += 1;
        let s = self.settings(cid);
        let (mode, every) = (s.ack, self.clients.consumers[cid.index()].spec.ack_batch);
        let pc = self
            .family
            .consumers
            .get_mut(&cid)
            .expect("pulsar consumer");
        let left = pc.batch_left.get_mut(&d.batch).map(|n| {
            *n -= 1;
            *n
        });
        let batch_done = left == Some(0);
        if batch_done {
            pc.batch_left.remove(&d.batch);
        }
        match mode {
            // A batch's entry is acked once all its messages are (batch-index ack is off).
            PulsarAck::Individual if batch_done => {
                pc.ack_timeouts.remove(&(d.partition, d.entry));
                pc.pending_acks.insert((d.partition, d.entry));
                self.acks_queued(cid);
            }
            PulsarAck::Individual => {}
            PulsarAck::Cumulative => {
                pc.since_cumulative += 1;
                if pc.since_cumulative < every {
                    return;
                }
                pc.since_cumulative = 0;
                // Part of a batch acks up to the entry before it.
                let Some(upto) = (if batch_done {
                    Some(d.entry)
                } else {
                    d.entry.checked_sub(1)
                }) else {
                    return;
                };
                pc.ack_timeouts
                    .retain(|(p, e), _| *p != d.partition || *e > upto);
                let c = pc.pending_cumulative.entry(d.partition).or_insert(upto);
                *c = (*c).max(upto);
                self.acks_queued(cid);
            }
        }
    }

    /// Acks are grouped for `ack_group_time_ms` or `ack_group_max` acks (PUL-7); 0 sends each.
    fn acks_queued(&mut self, cid: ConsumerId) {
        let s = self.settings(cid);
        let (period, max) = (ms_to_us(s.ack_group_time_ms), s.ack_group_max as usize);
        let pc = &self.family.consumers[&cid];
        if period == 0 || pc.pending_acks.len() >= max {
            self.send_acks(cid);
            return;
        }
        // The grouping tracker flushes on a fixed-rate timer started with the consumer.
        let since = self.world.now.since(pc.subscribed_at);
        let at = pc.subscribed_at.plus((since / period + 1) * period);
        if pc.flush_at.is_some_and(|t| t <= at) {
            return;
        }
        let connection = pc.connection;
        self.family
            .consumers
            .get_mut(&cid)
            .expect("pulsar")
            .flush_at = Some(at);
        self.world.schedule(
            at,
            PulsarWork::FlushAcks {
                consumer: cid,
                connection,
            },
        );
    }

    pub(crate) fn flush_acks_due(&mut self, cid: ConsumerId, connection: u32) {
        let pc = self
            .family
            .consumers
            .get_mut(&cid)
            .expect("pulsar consumer");
        if pc.connection == connection && pc.flush_at == Some(self.world.now) {
            pc.flush_at = None;
            self.send_acks(cid);
        }
    }

    /// Sends the grouped acks; they reach the broker L later.
    fn send_acks(&mut self, cid: ConsumerId) {
        let pc = self
            .family
            .consumers
            .get_mut(&cid)
            .expect("pulsar consumer");
        let individual: Vec<(u32, u64)> =
            std::mem::take(&mut pc.pending_acks).into_iter().collect();
        let cumulative: Vec<(u32, u64)> = std::mem::take(&mut pc.pending_cumulative)
            .into_iter()
            .collect();
        let Some(sub) = pc
            .sub
            .filter(|_| !(individual.is_empty() && cumulative.is_empty()))
        else {
            return;
        };
        let topic = pc.topic;
        self.world.schedule(
            self.world.now.plus(self.world.latency),
            PulsarWork::AcksArrive {
                consumer: cid,
                topic,
                sub,
                individual,
                cumulative,
            },
        );
    }

    /// `negativeAcknowledge`: the client holds the message for the nack delay, then asks for
    /// it back; its tracker checks every third of the delay (PUL-8).
    fn nack(&mut self, cid: ConsumerId, d: &Delivery) {
        let msg = self.world.copies.get(d.slot).msg;
        self.world
            .emit(EventKind::PulsarNacked { msg, consumer: cid });
        let s = self.settings(cid);
        let (delay, tick) = (nack_delay_us(s, d.redelivery_count), nack_tick_us(s));
        let now = self.world.now;
        let pc = self
            .family
            .consumers
            .get_mut(&cid)
            .expect("pulsar consumer");
        let key = (d.partition, d.entry);
        pc.ack_timeouts.remove(&key);
        pc.nacked.insert(
            key,
            Nacked {
                due: now.plus(delay),
                redelivery_count: d.redelivery_count,
            },
        );
        if pc.nack_tick_at.is_none() {
            pc.nack_tick_at = Some(now.plus(tick));
            let connection = pc.connection;
            self.world.schedule(
                now.plus(tick),
                PulsarWork::NackTick {
                    consumer: cid,
                    connection,
                },
            );
        }
    }

    pub(crate) fn nack_tick(&mut self, cid: ConsumerId, connection: u32) {
        let now = self.world.now;
        let tick = nack_tick_us(self.settings(cid));
        let pc = self
            .family
            .consumers
            .get_mut(&cid)
            .expect("pulsar consumer");
        if pc.connection != connection || pc.nack_tick_at != Some(now) {
            return;
        }
        pc.nack_tick_at = None;
        let due: Vec<((u32, u64), u32)> = (pc.nacked.iter())
            .filter(|(_, n)| n.due <= now)
            .map(|(k, n)| (*k, n.redelivery_count))
            .collect();
        for (k, _) in &due {
            pc.nacked.remove(k);
        }
        if !pc.nacked.is_empty() {
            pc.nack_tick_at = Some(now.plus(tick));
            self.world.schedule(
                now.plus(tick),
                PulsarWork::NackTick {
                    consumer: cid,
                    connection,
                },
            );
        }
        if !due.is_empty() {
            self.request_redelivery(cid, due, RedeliveryReason::Nack);
        }
    }

    /// `UnAckedMessageTracker`: `ceil(T/tick) + 1` time buckets turned every tick from the
    /// consumer's start, so a message is asked back between T and T + tick after the
    /// application received it (PUL-9).
    fn track_ack_timeout(&mut self, cid: ConsumerId, d: &Delivery) {
        let s = self.settings(cid);
        let timeout = ms_to_us(s.ack_timeout_ms);
        if timeout == 0 {
            return;
        }
        let tick = ms_to_us(s.ack_timeout_tick_ms).min(timeout).max(1);
        let buckets = timeout.div_ceil(tick) + 1;
        let pc = self
            .family
            .consumers
            .get_mut(&cid)
            .expect("pulsar consumer");
        let key = (d.partition, d.entry);
        if pc.ack_timeouts.contains_key(&key) {
            return;
        }
        let k = self.world.now.since(pc.subscribed_at) / tick;
        let due = pc.subscribed_at.plus((k + buckets) * tick);
        pc.ack_timeouts.insert(key, (due, d.redelivery_count));
        if pc.timeout_ticks.insert(due) {
            let connection = pc.connection;
            self.world.schedule(
                due,
                PulsarWork::AckTimeoutTick {
                    consumer: cid,
                    connection,
                    at: due,
                },
            );
        }
    }

    pub(crate) fn ack_timeout_tick(&mut self, cid: ConsumerId, connection: u32, at: SimTime) {
        let pc = self
            .family
            .consumers
            .get_mut(&cid)
            .expect("pulsar consumer");
        if pc.connection != connection || !pc.timeout_ticks.remove(&at) {
            return;
        }
        let due: Vec<((u32, u64), u32)> = (pc.ack_timeouts.iter())
            .filter(|(_, (t, _))| *t <= at)
            .map(|(k, (_, count))| (*k, *count))
            .collect();
        for (k, _) in &due {
            pc.ack_timeouts.remove(k);
        }
        if !due.is_empty() {
            self.request_redelivery(cid, due, RedeliveryReason::AckTimeout);
        }
    }

    /// `redeliverUnacknowledgedMessages(ids)`. Shared, Key_Shared: a message that arrived with
    /// a redelivery count of at least `max_redeliver_count` goes to the dead-letter topic
    /// instead; the others are asked back one by one. Exclusive, Failover cannot return single
    /// messages: the client empties its receiver queue, moves to a new epoch and asks for a
    /// rewind (PUL-8, PUL-10).
    fn request_redelivery(
        &mut self,
        cid: ConsumerId,
        entries: Vec<((u32, u64), u32)>,
        reason: RedeliveryReason,
    ) {
        let kind = self.family.source(cid).kind;
        let max = (self.settings(cid).dead_letter_policy.as_ref()).map(|d| d.max_redeliver_count);
        let now = self.world.now.plus(self.world.latency);
        let (asked, epoch) = if kind.single_active() {
            self.clear_receiver_queue(cid);
            let pc = self
                .family
                .consumers
                .get_mut(&cid)
                .expect("pulsar consumer");
            pc.epoch += 1;
            pc.ack_timeouts.clear();
            (None, pc.epoch)
        } else {
            let mut ask = Vec::new();
            for ((p, e), count) in entries.iter().copied() {
                if max.is_some_and(|m| count >= m) {
                    self.dead_letter(cid, p, e, count);
                } else {
                    ask.push((p, e));
                }
            }
            if ask.is_empty() {
                return;
            }
            (Some(ask), self.family.consumers[&cid].epoch)
        };
        let n = asked.as_ref().map_or(entries.len(), Vec::len);
        self.world.emit(EventKind::PulsarRedeliveryRequested {
            consumer: cid,
            entries: n as u32,
            reason,
        });
        let connection = self.family.consumers[&cid].connection;
        self.world.schedule(
            now,
            PulsarWork::Redeliver {
                consumer: cid,
                connection,
                entries: asked,
                epoch,
            },
        );
    }

    /// Drops what waits in the receiver queue and gives its permits back.
    fn clear_receiver_queue(&mut self, cid: ConsumerId) {
        let consumer = &mut self.clients.consumers[cid.index()];
        let waiting = std::mem::take(&mut consumer.buffer);
        consumer.buffer_bytes = 0;
        let pc = self
            .family
            .consumers
            .get_mut(&cid)
            .expect("pulsar consumer");
        let mut freed = vec![0u32; pc.unreported.len()];
        for (tag, _) in waiting {
            if let Some(d) = pc.deliveries.remove(&tag) {
                freed[d.partition as usize] += 1;
            }
        }
        for (p, n) in freed.into_iter().enumerate() {
            if n > 0 {
                self.grant_permits(cid, p as u32, n);
            }
        }
    }

    /// `processPossibleToDLQ`: the client publishes the entry's messages to the dead-letter
    /// topic (`<topic>-<subscription>-DLQ`, created if needed) and acks the original once the
    /// send is confirmed (PUL-10).
    fn dead_letter(&mut self, cid: ConsumerId, p: u32, e: u64, count: u32) {
        let pc = &self.family.consumers[&cid];
        let topic = pc.topic;
        let connection = pc.connection;
        let source = self.family.source(cid).clone();
        let policy = self
            .settings(cid)
            .dead_letter_policy
            .clone()
            .expect("a dead-letter policy");
        let name = policy.dead_letter_topic.clone().unwrap_or_else(|| {
            format!(
                "{}-{}-DLQ",
                self.family.topics[topic as usize].spec.name, source.subscription
            )
        });
        let dlq = self.topic_or_create(&name);
        if let Some(init) = &policy.initial_subscription_name {
            if self.family.topics[dlq as usize]
                .subscription_id(init)
                .is_none()
            {
                let sub = self.new_subscription(dlq, init, true, InitialPosition::Earliest);
                self.announce_subscription(dlq, sub);
            }
        }
        let slots = (self.family.topics[topic as usize].partitions[p as usize].get(e))
            .map(|en| en.slots.clone())
            .unwrap_or_default();
        for slot in slots {
            let mut copy = self.world.copies.get(slot).clone();
            let msg = copy.msg;
            copy.state = CopyState::InFlight;
            copy.producer = None;
            self.world.ledger.dead_letter_copies += 1;
            let Some(new) = self.world.new_copy_within_capacity(copy) else {
                continue;
            };
            self.world.emit(EventKind::PulsarDeadLettered {
                msg,
                consumer: cid,
                dead_letter_topic: dlq,
                redelivery_count: count,
            });
            self.wire.send(
                self.world,
                NodeRef::Consumer(cid),
                NodeRef::PulsarTopic(dlq),
                new,
                PulsarWork::ArriveAtTopic {
                    slot: new,
                    topic: dlq,
                    sender: Sender::DeadLetter(cid),
                },
            );
        }
        // The send is confirmed a round trip later; then the original is acked.
        self.world.schedule(
            self.world.now.plus(2 * self.world.latency),
            PulsarWork::DeadLetterStored {
                consumer: cid,
                connection,
                partition: p,
                entry: e,
            },
        );
    }

    pub(crate) fn dead_letter_stored(&mut self, cid: ConsumerId, connection: u32, p: u32, e: u64) {
        let pc = self
            .family
            .consumers
            .get_mut(&cid)
            .expect("pulsar consumer");
        if pc.connection == connection {
            pc.pending_acks.insert((p, e));
            self.acks_queued(cid);
        }
    }
}
