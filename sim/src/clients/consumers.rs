//! The consumer runtime: buffers, processing, epochs, crash and restart.

use crate::clients::{Clients, Cx, Unacked, MAX_LOGGED_DELIVERIES};
use crate::command::CommandError;
use crate::event::EventKind;
use crate::ids::ProducerId;
use crate::ids::{ConsumerId, MessageId};
use crate::kernel::ms_to_us;
use crate::ledger::{CopyState, DropReason};
use crate::message::Slot;
use crate::scenario::{ConsumerSpec, Decision, DecisionAction, FailureSpec, Processing};
use crate::theory::Moments;
use crate::time::SimTime;
use crate::wire::NodeRef;
use std::collections::{BTreeSet, VecDeque};

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

#[derive(Clone, Debug)]
pub(crate) struct Consumer {
    pub spec: ConsumerSpec,
    pub status: ConsumerStatus,
    /// Bumped at every crash, so deliveries and acks of the old connection are ignored.
    pub epoch: u32,
    /// Manual-ack deliveries in delivery-tag order; the broker still holds these.
    pub unacked: Unacked,
    pub next_tag: u64,
    /// Copies in the consumer's hands that the broker no longer holds (auto-ack, Pub/Sub).
    pub held: BTreeSet<Slot>,
    /// Arrived, waiting to be processed, with their delivery tags (0 when not manual-ack).
    pub buffer: VecDeque<(u64, Slot)>,
    pub buffer_bytes: u64,
    pub current: Option<(u64, Slot)>,
    pub slow_factor: f64,
    pub busy_since: Option<SimTime>,
    pub busy_us: u64,
    /// Processing times drawn so far (μ and C_s² for queueing theory).
    pub service: Moments,
    pub delivered: u64,
    pub acked: u64,
    pub redelivered: u64,
    pub log: Vec<(MessageId, bool)>,
    /// Since when a subscriber's buffer has been above its soft limit.
    pub soft_since: Option<SimTime>,
    /// The client library holds its buffer back (a JMS session waiting out a redelivery
    /// delay, AMQ-5): nothing starts until it is cleared.
    pub paused: bool,
}

impl Consumer {
    /// Keeps what the runner's report lists, up to [`MAX_LOGGED_DELIVERIES`].
    pub fn log_delivery(&mut self, msg: MessageId, redelivered: bool) {
        if self.log.len() < MAX_LOGGED_DELIVERIES {
            self.log.push((msg, redelivered));
        }
    }
}

impl Clients {
    pub(crate) fn consumer_id(&self, name: &str) -> Result<ConsumerId, CommandError> {
        self.consumers
            .iter()
            .position(|c| c.spec.name == name && c.status != ConsumerStatus::Removed)
            .map(|i| ConsumerId(i as u32))
            .ok_or_else(|| CommandError::UnknownEntity {
                kind: "consumer",
                name: name.to_string(),
            })
    }
}

/// Which of a consumer's scripted decisions applies to a message: the first whose every given
/// field matches. `delivery` is the consumer's own count, `attempt` the broker's for the message.
pub(crate) fn decide(
    decisions: &[Decision],
    msg: MessageId,
    delivery: u64,
    attempt: u32,
) -> Option<DecisionAction> {
    decisions
        .iter()
        .find(|d| {
            let w = &d.when;
            w.msg.is_none_or(|m| m == msg.0)
                && w.delivery.is_none_or(|n| n == delivery)
                && w.attempt.is_none_or(|a| a == attempt)
        })
        .map(|d| d.then)
}

/// How a consumer's processing of one copy ended, for the family that delivered it.
pub(crate) enum Finished {
    /// The work belonged to an earlier connection, or there was none.
    Stale,
    /// The broker had forgotten the copy already (auto-ack, Pub/Sub): done.
    Done,
    /// The broker still holds the copy under `tag`; the family settles it.
    Settle {
        tag: u64,
        failed: bool,
        failure: FailureSpec,
    },
}

impl<F, W: From<ClientWork>> Cx<'_, F, W> {
    /// Processing time of one message by this consumer, scaled by its slow-down factor.
    pub(crate) fn draw_processing_us(&mut self, cid: ConsumerId) -> u64 {
        let c = &self.clients.consumers[cid.index()];
        let (p, factor) = (c.spec.processing.clone(), c.slow_factor);
        let us = (self.draw_us(&p) as f64 * factor).round() as u64;
        self.clients.consumers[cid.index()].service.record(us);
        us
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
        self.wire.send(
            self.world,
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

    /// A copy reaches the consumer's buffer; false when its connection died while it was on
    /// the wire (closing it already accounted the copy).
    pub(crate) fn accept_delivery(
        &mut self,
        cid: ConsumerId,
        slot: Slot,
        tag: u64,
        epoch: u32,
    ) -> bool {
        let consumer = &mut self.clients.consumers[cid.index()];
        if consumer.epoch != epoch || consumer.status != ConsumerStatus::Running {
            return false;
        }
        let size = self.world.copies.get(slot).size;
        consumer.buffer.push_back((tag, slot));
        consumer.buffer_bytes += u64::from(size);
        true
    }

    pub(crate) fn start_next(&mut self, cid: ConsumerId) {
        let consumer = &mut self.clients.consumers[cid.index()];
        if consumer.current.is_some()
            || consumer.paused
            || consumer.status != ConsumerStatus::Running
        {
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

    /// Processing ended: draws whether it failed, and completes a copy the broker already
    /// forgot; a copy the broker still holds is left to its family to settle.
    pub(crate) fn processing_done(&mut self, cid: ConsumerId, epoch: u32) -> Finished {
        if self.clients.consumers[cid.index()].epoch != epoch {
            return Finished::Stale;
        }
        let Some((tag, slot)) = self.clients.consumers[cid.index()].current.take() else {
            return Finished::Stale;
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
            Finished::Done
        } else {
            Finished::Settle {
                tag,
                failed,
                failure,
            }
        }
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
        consumer.paused = false;
        let held = std::mem::take(&mut consumer.held);
        self.set_busy(cid, false);
        self.wire.forget_to(NodeRef::Consumer(cid));
        for s in &held {
            self.world.drop_copy(*s, reason);
        }
        held.len() as u32
    }

    /// The consumer's connection ends: what it held that the broker had forgotten is lost
    /// (RMQ-10); returns that count and the deliveries the broker still holds, which the
    /// consumer's family takes back.
    pub(crate) fn end_connection(
        &mut self,
        cid: ConsumerId,
        status: ConsumerStatus,
    ) -> (u32, Unacked) {
        let lost = self.drop_held(cid, DropReason::LostInConsumerCrash);
        let consumer = &mut self.clients.consumers[cid.index()];
        consumer.status = status;
        (lost, std::mem::take(&mut consumer.unacked))
    }

    /// The broker closed the channel (a protocol error): said before the family takes back
    /// what the channel held.
    pub(crate) fn channel_closed(&mut self, cid: ConsumerId, why: &Closure) {
        if let Closure::ChannelError(reason) = why {
            self.world.emit(EventKind::ChannelClosed {
                consumer: cid,
                reason: reason.clone(),
            });
        }
    }

    /// Closes a consumer whose broker holds nothing for it (Pub/Sub): only what it held is lost.
    pub(crate) fn close_holding_nothing(
        &mut self,
        cid: ConsumerId,
        status: ConsumerStatus,
        why: &Closure,
    ) {
        let (lost, _) = self.end_connection(cid, status);
        self.channel_closed(cid, why);
        if *why == Closure::Crash {
            self.crashed(cid, 0, lost);
        }
    }

    /// The event that ends a crash, after the family took back what the broker held (RMQ-15).
    pub(crate) fn crashed(&mut self, cid: ConsumerId, requeued: u32, lost: u32) {
        self.world.emit(EventKind::ConsumerCrashed {
            consumer: cid,
            requeued,
            lost,
        });
    }

    /// Adds a consumer, stopped; its family subscribes it.
    pub(crate) fn push_consumer(&mut self, spec: ConsumerSpec) -> ConsumerId {
        self.clients.consumers.push(Consumer {
            spec,
            status: ConsumerStatus::Crashed,
            epoch: 0,
            unacked: Unacked::default(),
            next_tag: 1,
            held: BTreeSet::new(),
            buffer: VecDeque::new(),
            buffer_bytes: 0,
            current: None,
            slow_factor: 1.0,
            busy_since: None,
            busy_us: 0,
            service: Moments::default(),
            delivered: 0,
            acked: 0,
            redelivered: 0,
            log: Vec::new(),
            soft_since: None,
            paused: false,
        });
        ConsumerId((self.clients.consumers.len() - 1) as u32)
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
    /// A stage's outbox relay polls its table (PAT-2).
    RelayPoll {
        stage: crate::event::StageRole,
    },
    /// A stage consumer that crashed after its write comes back (PAT-1).
    StageRestart {
        consumer: ConsumerId,
    },
}
