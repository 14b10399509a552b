//! The consumer runtime: buffers, processing, epochs, crash and restart.

use crate::clients::MAX_LOGGED_DELIVERIES;
use crate::command::CommandError;
use crate::engine::Simulation;
use crate::event::{EventKind, Settle};
use crate::families::rabbitmq::RabbitMqWork;
use crate::families::rabbitmq::QUORUM_MAX_PREFETCH;
use crate::families::redis_pubsub::RedisPubSubWork;
use crate::ids::ProducerId;
use crate::ids::{ConsumerId, MessageId, QueueId};
use crate::kernel::ms_to_us;
use crate::ledger::{CopyState, DropReason};
use crate::message::Slot;
use crate::scenario;
use crate::scenario::{
    AckMode, ConsumerSource, ConsumerSpec, FailureAction, Processing, ScenarioError,
};
use crate::time::SimTime;
use crate::wire::NodeRef;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Why a consumer's connection or channel ended.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Closure {
    /// The process died or the consumer was removed.
    Crash,
    /// The broker closed the channel (double ack, ack timeout).
    ChannelError(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsumerStatus {
    Running,
    Crashed,
    /// Redis subscriber disconnected by its output-buffer limit (RPS-3).
    Disconnected,
    Removed,
}

#[derive(Debug)]
pub(crate) struct Consumer {
    pub spec: ConsumerSpec,
    pub status: ConsumerStatus,
    /// Bumped at every crash, so deliveries and acks of the old connection are ignored.
    pub epoch: u32,
    pub queue: Option<QueueId>,
    /// Manual-ack deliveries in delivery-tag order; the broker still holds these.
    pub unacked: BTreeMap<u64, Slot>,
    pub next_tag: u64,
    /// Copies in the consumer's hands that the broker no longer holds (auto-ack, Pub/Sub).
    pub held: BTreeSet<Slot>,
    /// Arrived, waiting to be processed, with their delivery tags (0 when not manual-ack).
    pub buffer: VecDeque<(u64, Slot)>,
    pub buffer_bytes: u64,
    pub current: Option<(u64, Slot)>,
    /// Successes not yet acked, for `ack_batch` > 1; the highest tag among them.
    pub pending_acks: u32,
    pub last_success: u64,
    /// Quorum queues cap a consumer's prefetch at 2,000 (RMQ-9).
    pub quorum: bool,
    pub slow_factor: f64,
    pub busy_since: Option<SimTime>,
    pub busy_us: u64,
    pub delivered: u64,
    pub acked: u64,
    pub redelivered: u64,
    pub log: Vec<(MessageId, bool)>,
    /// The Kafka consumer group this consumer is a member of.
    pub group: Option<u32>,
    /// Since when a subscriber's buffer has been above its soft limit.
    pub soft_since: Option<SimTime>,
}

impl Consumer {
    /// Keeps what the runner's report lists, up to [`MAX_LOGGED_DELIVERIES`].
    pub fn log_delivery(&mut self, msg: MessageId, redelivered: bool) {
        if self.log.len() < MAX_LOGGED_DELIVERIES {
            self.log.push((msg, redelivered));
        }
    }

    /// The prefetch limit in force; 0 means unlimited.
    pub fn effective_prefetch(&self) -> u32 {
        match (self.quorum, self.spec.prefetch) {
            (true, 0) => QUORUM_MAX_PREFETCH,
            (true, p) => p.min(QUORUM_MAX_PREFETCH),
            (false, p) => p,
        }
    }

    pub(crate) fn has_capacity(&self) -> bool {
        let prefetch = self.effective_prefetch();
        self.status == ConsumerStatus::Running
            && (self.spec.ack == AckMode::Auto
                || prefetch == 0
                || (self.unacked.len() as u64) < u64::from(prefetch))
    }
}

impl Simulation {
    pub(crate) fn consumer_id(&self, name: &str) -> Result<ConsumerId, CommandError> {
        self.clients
            .consumers
            .iter()
            .position(|c| c.spec.name == name && c.status != ConsumerStatus::Removed)
            .map(|i| ConsumerId(i as u32))
            .ok_or_else(|| CommandError::UnknownEntity {
                kind: "consumer",
                name: name.to_string(),
            })
    }

    /// Processing time of one message by this consumer, scaled by its slow-down factor.
    pub(crate) fn draw_processing_us(&mut self, cid: ConsumerId) -> u64 {
        let c = &self.clients.consumers[cid.index()];
        let (p, factor) = (c.spec.processing.clone(), c.slow_factor);
        (self.draw_us(&p) as f64 * factor).round() as u64
    }

    pub(crate) fn draw_us(&mut self, p: &Processing) -> u64 {
        let ms = match *p {
            Processing::Fixed { ms } => ms,
            Processing::Exponential { mean_ms } => self.world.rng.exponential(mean_ms),
            Processing::Uniform { min_ms, max_ms } => {
                min_ms + (max_ms - min_ms) * self.world.rng.unit()
            }
        };
        ms_to_us(ms)
    }

    /// Utilisation bookkeeping: a consumer is busy while it processes something.
    pub(crate) fn set_busy(&mut self, cid: ConsumerId, busy: bool) {
        let c = &mut self.clients.consumers[cid.index()];
        match (busy, c.busy_since) {
            (true, None) => c.busy_since = Some(self.world.now),
            (false, Some(since)) => {
                c.busy_us += self.world.now.since(since);
                c.busy_since = None;
            }
            _ => {}
        }
    }

    /// Puts a copy on the wire to a consumer.
    pub(crate) fn send_to_consumer(
        &mut self,
        from: NodeRef,
        cid: ConsumerId,
        slot: Slot,
        tag: u64,
        epoch: u32,
    ) {
        self.send(
            from,
            NodeRef::Consumer(cid),
            slot,
            ClientWork::DeliveryArrives {
                consumer: cid,
                slot,
                tag,
                epoch,
            },
        );
    }

    pub(crate) fn delivery_arrives(&mut self, cid: ConsumerId, slot: Slot, tag: u64, epoch: u32) {
        let consumer = &mut self.clients.consumers[cid.index()];
        if consumer.epoch != epoch || consumer.status != ConsumerStatus::Running {
            // The connection died while it was on the wire; closing it already accounted the copy.
            return;
        }
        let size = self.world.copies.get(slot).size;
        consumer.buffer.push_back((tag, slot));
        consumer.buffer_bytes += u64::from(size);
        if matches!(consumer.spec.source, ConsumerSource::Subscribe { .. }) {
            if consumer.buffer_bytes > consumer.spec.output_buffer_limit_bytes {
                self.disconnect_subscriber(cid);
                return;
            }
            // Above the soft limit for too long also disconnects (RPS-3).
            if consumer.buffer_bytes > consumer.spec.output_buffer_soft_limit_bytes
                && consumer.soft_since.is_none()
            {
                consumer.soft_since = Some(self.world.now);
                let at = self
                    .world
                    .now
                    .plus(ms_to_us(consumer.spec.output_buffer_soft_seconds * 1000.0));
                let since = self.world.now;
                self.world.schedule(
                    at,
                    RedisPubSubWork::SoftLimitCheck {
                        consumer: cid,
                        epoch,
                        since,
                    },
                );
            }
        }
        self.start_next(cid);
    }

    pub(crate) fn start_next(&mut self, cid: ConsumerId) {
        let consumer = &mut self.clients.consumers[cid.index()];
        if consumer.current.is_some() || consumer.status != ConsumerStatus::Running {
            return;
        }
        let Some((tag, slot)) = consumer.buffer.pop_front() else {
            self.set_busy(cid, false);
            return;
        };
        let size = self.world.copies.get(slot).size;
        let consumer = &mut self.clients.consumers[cid.index()];
        consumer.buffer_bytes -= u64::from(size);
        if consumer.buffer_bytes <= consumer.spec.output_buffer_soft_limit_bytes {
            consumer.soft_since = None;
        }
        consumer.current = Some((tag, slot));
        let epoch = consumer.epoch;
        self.set_busy(cid, true);
        let us = self.draw_processing_us(cid);
        self.world.schedule(
            self.world.now.plus(us),
            ClientWork::ProcessingDone {
                consumer: cid,
                epoch,
            },
        );
    }

    pub(crate) fn processing_done(&mut self, cid: ConsumerId, epoch: u32) {
        if self.clients.consumers[cid.index()].epoch != epoch {
            return;
        }
        let Some((tag, slot)) = self.clients.consumers[cid.index()].current.take() else {
            return;
        };
        let copy = self.world.copies.get(slot);
        let (msg, poison, published_at) = (copy.msg, copy.poison, copy.published_at);
        let consumer = &self.clients.consumers[cid.index()];
        let failure = if poison {
            consumer.spec.poison.clone()
        } else {
            consumer.spec.failure.clone()
        };
        let failed = failure.probability > 0.0
            && (failure.probability >= 1.0 || self.world.rng.chance(failure.probability));
        self.world.emit(EventKind::Processed {
            msg,
            consumer: cid,
            failed,
        });
        let consumer = &mut self.clients.consumers[cid.index()];
        if consumer.held.remove(&slot) {
            // Auto-ack or Pub/Sub: the broker forgot it already; the work is done either way.
            consumer.acked += 1;
            self.world.complete(published_at);
            self.world.set_state(slot, CopyState::Acked);
        } else if !failed && consumer.spec.ack_batch > 1 {
            consumer.pending_acks += 1;
            consumer.last_success = tag;
            if consumer.pending_acks >= consumer.spec.ack_batch {
                consumer.pending_acks = 0;
                self.world.schedule(
                    self.world.now.plus(self.world.latency),
                    RabbitMqWork::AckMultiple {
                        consumer: cid,
                        up_to: tag,
                        epoch,
                    },
                );
            }
        } else {
            let settle = match (failed, failure.action) {
                (false, _) => Settle::Ack,
                (true, FailureAction::Nack) => Settle::Nack {
                    requeue: failure.requeue,
                },
                (true, FailureAction::Reject) => Settle::Reject {
                    requeue: failure.requeue,
                },
            };
            self.world.schedule(
                self.world.now.plus(self.world.latency),
                RabbitMqWork::SettleArrives {
                    consumer: cid,
                    tag,
                    settle,
                    epoch,
                },
            );
        }
        self.start_next(cid);
    }

    /// Ends the consumer's connection epoch and drops every copy it holds that the broker has
    /// already forgotten (auto-ack, Pub/Sub).
    pub(crate) fn drop_held(&mut self, cid: ConsumerId, reason: DropReason) -> u32 {
        let consumer = &mut self.clients.consumers[cid.index()];
        consumer.epoch += 1;
        consumer.buffer.clear();
        consumer.buffer_bytes = 0;
        consumer.soft_since = None;
        consumer.current = None;
        consumer.pending_acks = 0;
        let held = std::mem::take(&mut consumer.held);
        self.set_busy(cid, false);
        self.wire.forget_to(NodeRef::Consumer(cid));
        for s in &held {
            self.world.drop_copy(*s, reason);
        }
        held.len() as u32
    }

    /// The consumer's connection or channel ends: unacked deliveries are requeued, auto-ack ones
    /// are lost (RMQ-10, RMQ-15).
    pub(crate) fn close_connection(
        &mut self,
        cid: ConsumerId,
        status: ConsumerStatus,
        why: Closure,
    ) {
        let lost = self.drop_held(cid, DropReason::LostInConsumerCrash);
        let consumer = &mut self.clients.consumers[cid.index()];
        consumer.status = status;
        let unacked = std::mem::take(&mut consumer.unacked);
        let queue = consumer.queue;
        if consumer.group.is_some() {
            self.member_stopped(cid, status == ConsumerStatus::Removed);
        }
        if let Closure::ChannelError(reason) = &why {
            self.world.emit(EventKind::ChannelClosed {
                consumer: cid,
                reason: reason.clone(),
            });
        }
        // A consumer timeout does not count toward the delivery limit; a crash does (RMQ-30).
        let counts = why == Closure::Crash
            || matches!(&why, Closure::ChannelError(r) if !r.contains("timed out"));
        if let Some(q) = queue {
            self.rabbitmq.queues[q.index()].remove_consumer(cid);
            for slot in unacked.values() {
                self.rabbitmq.queues[q.index()].unacked -= 1;
                self.requeue(q, *slot, counts);
            }
            self.mark_unused_if_idle(q);
        }
        if why == Closure::Crash {
            self.world.emit(EventKind::ConsumerCrashed {
                consumer: cid,
                requeued: unacked.len() as u32,
                lost,
            });
        }
        if let Some(q) = queue {
            self.dispatch(q);
        }
    }

    pub(crate) fn subscribe(&mut self, cid: ConsumerId) {
        let consumer = &mut self.clients.consumers[cid.index()];
        consumer.status = ConsumerStatus::Running;
        if consumer.group.is_some() {
            self.join_group(cid);
            return;
        }
        if let Some(q) = consumer.queue {
            let queue = &mut self.rabbitmq.queues[q.index()];
            queue.add_consumer(cid);
            queue.unblock(cid);
            queue.unused_since = None;
            self.dispatch(q);
        }
    }

    pub(crate) fn check_consumer(&self, spec: &ConsumerSpec) -> Result<(), ScenarioError> {
        let queue_known = |n: &str| self.queue_id(n).is_some();
        let group_known = |n: &str| self.group_id(n).is_some();
        scenario::validate_consumer("consumer", spec, &queue_known, &group_known)
    }

    pub(crate) fn add_consumer(&mut self, spec: ConsumerSpec) -> Result<ConsumerId, CommandError> {
        if self.consumer_id(&spec.name).is_ok() {
            return Err(CommandError::Duplicate {
                kind: "consumer",
                name: spec.name,
            });
        }
        self.check_consumer(&spec)?;
        let queue = match &spec.source {
            ConsumerSource::Queue(q) => self.queue_id(q),
            ConsumerSource::Subscribe { .. } | ConsumerSource::Group(_) => None,
        };
        let group = match &spec.source {
            ConsumerSource::Group(g) => self.group_id(g),
            _ => None,
        };
        let quorum = queue.is_some_and(|q| self.rabbitmq.queues[q.index()].is_quorum());
        let stopped = spec.stopped;
        self.clients.consumers.push(Consumer {
            spec,
            status: ConsumerStatus::Crashed,
            epoch: 0,
            queue,
            unacked: BTreeMap::new(),
            next_tag: 1,
            held: BTreeSet::new(),
            buffer: VecDeque::new(),
            buffer_bytes: 0,
            current: None,
            pending_acks: 0,
            last_success: 0,
            quorum,
            slow_factor: 1.0,
            busy_since: None,
            busy_us: 0,
            delivered: 0,
            acked: 0,
            redelivered: 0,
            log: Vec::new(),
            group,
            soft_since: None,
        });
        let id = ConsumerId((self.clients.consumers.len() - 1) as u32);
        self.redis_consumer_added();
        if !stopped {
            self.subscribe(id);
        }
        Ok(id)
    }

    pub(crate) fn update_consumer(&mut self, spec: ConsumerSpec) -> Result<(), CommandError> {
        let id = self.consumer_id(&spec.name)?;
        self.check_consumer(&spec)?;
        let c = &mut self.clients.consumers[id.index()];
        if c.spec.source != spec.source {
            return Err(CommandError::NotApplicable {
                reason: "a consumer's source cannot change; remove it and add a new one".into(),
            });
        }
        if c.spec.ack != spec.ack && !(c.unacked.is_empty() && c.held.is_empty()) {
            return Err(CommandError::NotApplicable {
                reason: "the ack mode can change only while the consumer holds no messages".into(),
            });
        }
        c.spec = spec;
        if let Some(q) = c.queue {
            self.rabbitmq.queues[q.index()].unblock(id);
            self.dispatch(q);
        }
        Ok(())
    }
}

/// Work this part schedules on the agenda.
#[derive(Clone, Debug)]
pub(crate) enum ClientWork {
    ProducerTick {
        producer: ProducerId,
        generation: u32,
    },
    /// `tag` is the delivery tag for manual acks, 0 otherwise.
    DeliveryArrives {
        consumer: ConsumerId,
        slot: Slot,
        tag: u64,
        epoch: u32,
    },
    ProcessingDone {
        consumer: ConsumerId,
        epoch: u32,
    },
}

impl Simulation {
    pub(crate) fn run_client(&mut self, work: ClientWork) {
        match work {
            ClientWork::ProducerTick {
                producer,
                generation,
            } => self.producer_tick(producer, generation),
            ClientWork::DeliveryArrives {
                consumer,
                slot,
                tag,
                epoch,
            } => {
                self.wire.arrived(self.world.now, slot);
                self.delivery_arrives(consumer, slot, tag, epoch);
            }
            ClientWork::ProcessingDone { consumer, epoch } => self.processing_done(consumer, epoch),
        }
    }
}
