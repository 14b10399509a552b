//! AWS SQS: standard and FIFO queues and their pull consumers (SQS-1..SQS-11). A receive only
//! hides a message for the visibility timeout; the consumer deletes it once processed.
//!
//! The consumer's loop lives here: it sends `ReceiveMessage`, the response's messages go through
//! the client runtime's buffer and processing, each processed message is deleted (or left), and
//! when the consumer has nothing left it polls again. One copy per message: a consumer that
//! still reads a message SQS is done with (deleted by another consumer, expired, redriven)
//! keeps its slot pinned until it finishes.

pub mod queue;

use crate::clients::producers::Outgoing;
use crate::clients::{decide, ClientWork, Closure, ConsumerStatus, Cx, Readers};
use crate::command::{at_cap, CommandError};
use crate::event::{
    EventKind, SqsDeleteOutcome, SqsEvent, SqsMessageState, SqsRefusal, SqsVisibleWhy,
};
use crate::ids::{ConsumerId, MessageId, SqsQueueId};
use crate::kernel::ms_to_us;
use crate::ledger::{CopyState, DeadLetterReason, DropReason};
use crate::message::{Slot, NO_KEY};
use crate::scenario::sqs::{self as sqs_spec, MAX_VISIBILITY_TIMEOUT_MS};
use crate::scenario::{Decision, DecisionAction, DeduplicationScope};
use crate::scenario::{SqsQueueSpec, SqsQueueType, SqsReceiveSpec};
use crate::time::SimTime;
use crate::wire::{Chip, NodeRef, Transit};
use queue::{MsgState, SqsMsg, SqsQueue, Waiting};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Messages listed per consumer in the report's sent and seen logs; beyond, only counts grow.
const MAX_LOGGED: usize = crate::clients::MAX_LOGGED_DELIVERIES;

/// A receipt handle: the message and which of its receives issued it. Only the latest receive's
/// handle is current (SQS-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Handle {
    pub queue: SqsQueueId,
    pub seq: u64,
    pub receive: u32,
}

/// A received message the consumer has not finished processing.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reading {
    pub handle: Handle,
    pub slot: Slot,
    pub msg: MessageId,
    /// The consumer's own count when it started processing it; 0 before.
    pub delivery: u64,
}

/// A call on its way from a consumer to SQS.
#[derive(Clone, Copy, Debug)]
enum Action {
    Delete(Handle, MessageId),
    ChangeVisibility(Handle, MessageId, u64),
}

/// One SQS consumer's side of the `ReceiveMessage` loop.
#[derive(Clone, Debug)]
pub(crate) struct Puller {
    pub queue: SqsQueueId,
    /// A request is on the wire or being answered; the next one waits for its response.
    pub awaiting: bool,
    /// Requests sent so far: numbers them, so a long poll's deadline finds its own request.
    requests: u32,
    /// The response on the wire: delivery tags and their wire keys.
    inbound: Vec<(u64, u64)>,
    /// Pause before the next request once the response arrives (an empty short poll).
    retry_after_us: u64,
    /// Received and not yet processed, by delivery tag.
    pub reading: BTreeMap<u64, Reading>,
    /// Deletes and visibility changes on the wire, in the order sent.
    outbox: VecDeque<Action>,
    /// Messages it started processing, over its whole life (`delivery` in decisions).
    pub seen: u64,
    /// What SQS sent it, with the receive count: some of it it never saw (SQS-3).
    pub sent_log: Vec<(MessageId, u32)>,
    /// What its application started processing.
    pub seen_log: Vec<MessageId>,
}

impl Puller {
    fn new(queue: SqsQueueId) -> Puller {
        Puller {
            queue,
            awaiting: false,
            requests: 0,
            inbound: Vec::new(),
            retry_after_us: 0,
            reading: BTreeMap::new(),
            outbox: VecDeque::new(),
            seen: 0,
            sent_log: Vec::new(),
            seen_log: Vec::new(),
        }
    }
}

/// SQS's state: queues, each consumer's loop, and the copies consumers still read.
#[derive(Clone, Debug, Default)]
pub(crate) struct Sqs {
    pub queues: Vec<SqsQueue>,
    pub pullers: BTreeMap<ConsumerId, Puller>,
    /// What each message on its way to a queue was sent with.
    sending: BTreeMap<Slot, Outgoing>,
    /// Copies consumers are reading (one reading per receipt), and those SQS is done with
    /// whose slots stay taken meanwhile.
    readers: Readers,
    next_seq: u64,
}

impl Sqs {
    pub(crate) fn queue_id(&self, name: &str) -> Option<SqsQueueId> {
        self.queues
            .iter()
            .position(|q| q.name() == name)
            .map(|i| SqsQueueId(i as u32))
    }

    /// Messages stored and not in flight (delayed or visible), over every queue.
    pub(crate) fn queued(&self) -> u64 {
        self.queues.iter().map(SqsQueue::queued_len).sum()
    }

    pub(crate) fn in_flight(&self) -> u64 {
        self.queues.iter().map(SqsQueue::in_flight_len).sum()
    }

    /// Slots of finished copies still read by a consumer.
    pub(crate) fn pinned(&self) -> impl Iterator<Item = Slot> + '_ {
        self.readers.pinned()
    }

    /// Copies consumers read, by slot.
    pub(crate) fn read_slots(&self) -> impl Iterator<Item = Slot> + '_ {
        self.readers.read_slots()
    }

    /// Records what a message travelling to a queue was sent with.
    pub(crate) fn sending(&mut self, slot: Slot, outgoing: &Outgoing) {
        self.sending.insert(slot, *outgoing);
    }

    /// Registers an SQS consumer's loop (stopped).
    pub(crate) fn add_consumer(&mut self, cid: ConsumerId, queue: SqsQueueId) {
        self.pullers.insert(cid, Puller::new(queue));
    }

    /// The queue a redrive policy names and its `maxReceiveCount`.
    fn dead_letter_of(&self, q: SqsQueueId) -> Option<(SqsQueueId, u32)> {
        let r = self.queues[q.index()].spec.redrive.as_ref()?;
        Some((self.queue_id(&r.dead_letter_queue)?, r.max_receive_count))
    }

    fn kind_of(&self, name: &str) -> Option<SqsQueueType> {
        self.queue_id(name)
            .map(|q| self.queues[q.index()].spec.kind)
    }

    /// Checks a queue's attributes against the queues there are (SQS-4).
    fn check_queue(&self, spec: &SqsQueueSpec) -> Result<(), CommandError> {
        sqs_spec::validate_sqs_queue("queue", spec)?;
        sqs_spec::validate_sqs_redrive("queue", spec, &|n| self.kind_of(n))?;
        let policies = self
            .queues
            .iter()
            .filter(|q| q.name() != spec.name)
            .map(|q| &q.spec)
            .chain([spec])
            .filter_map(|q| {
                let r = q.redrive.as_ref()?;
                Some((q.name.as_str(), r.dead_letter_queue.as_str()))
            });
        sqs_spec::check_sqs_redrive_cycles(policies)?;
        Ok(())
    }
}

/// Which decision of the consumer applies to a message.
fn decision_for(decisions: &[Decision], r: &Reading) -> Option<DecisionAction> {
    decide(decisions, r.msg, r.delivery, r.handle.receive)
}

impl<W: From<SqsWork> + From<ClientWork>> Cx<'_, &mut Sqs, W> {
    // ------------------------------------------------------------ queues

    /// Adds a checked queue; the scenario's queues were checked together.
    pub(crate) fn push_queue(&mut self, spec: SqsQueueSpec) {
        self.family.queues.push(SqsQueue::new(spec));
    }

    /// `CreateQueue` from the UI or a script.
    pub(crate) fn create_queue(&mut self, spec: SqsQueueSpec) -> Result<(), CommandError> {
        at_cap("SQS queues", self.family.queues.len())?;
        if self.family.queue_id(&spec.name).is_some() {
            return Err(CommandError::Duplicate {
                kind: "SQS queue",
                name: spec.name,
            });
        }
        self.family.check_queue(&spec)?;
        self.push_queue(spec);
        Ok(())
    }

    /// `SetQueueAttributes`. A FIFO queue's new delay applies to the messages it delays already;
    /// a standard queue's only to new ones (SQS-11; semantics.md does not say, AWS does:
    /// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-delay-queues.html).
    /// A new retention applies to every message, as the `MessageRetentionPeriod` text says.
    pub(crate) fn update_queue(&mut self, spec: SqsQueueSpec) -> Result<(), CommandError> {
        let q = self
            .family
            .queue_id(&spec.name)
            .ok_or_else(|| CommandError::UnknownEntity {
                kind: "SQS queue",
                name: spec.name.clone(),
            })?;
        if self.family.queues[q.index()].spec.kind != spec.kind {
            return Err(CommandError::NotApplicable {
                reason: "an SQS queue's type is fixed when it is created".into(),
            });
        }
        self.family.check_queue(&spec)?;
        let queue = &mut self.family.queues[q.index()];
        let (delay_changed, retention_changed) = (
            queue.spec.delay_ms != spec.delay_ms,
            queue.spec.message_retention_ms != spec.message_retention_ms,
        );
        queue.spec = spec;
        let seqs: Vec<u64> = queue.messages.keys().copied().collect();
        if retention_changed {
            for &seq in &seqs {
                let at = self.family.queues[q.index()].messages[&seq].enqueued_at;
                self.schedule_retention(q, seq, at);
            }
        }
        if delay_changed && self.family.queues[q.index()].is_fifo() {
            let delay = ms_to_us(self.family.queues[q.index()].spec.delay_ms);
            for seq in seqs {
                let m = &self.family.queues[q.index()].messages[&seq];
                if let MsgState::Delayed { .. } = m.state {
                    let until = m.enqueued_at.plus(delay);
                    self.delay_until(q, seq, until);
                }
            }
        }
        self.wake(q);
        Ok(())
    }

    /// A delayed message's delay now ends at `until`: visible now if that has passed.
    fn delay_until(&mut self, q: SqsQueueId, seq: u64, until: SimTime) {
        if until <= self.world.now {
            self.make_visible(q, seq, SqsVisibleWhy::Delay);
        } else {
            let queue = &mut self.family.queues[q.index()];
            queue.set_state(seq, MsgState::Delayed { until });
            self.world.schedule(until, SqsWork::Due { queue: q, seq });
        }
    }

    fn schedule_retention(&mut self, q: SqsQueueId, seq: u64, enqueued_at: SimTime) {
        let retention = ms_to_us(self.family.queues[q.index()].spec.message_retention_ms);
        let at = enqueued_at.plus(retention).max(self.world.now);
        self.world.schedule(at, SqsWork::Due { queue: q, seq });
    }

    // ------------------------------------------------------------ sending

    /// `SendMessage` reaches the queue: FIFO deduplication (SQS-9), then the message is stored,
    /// delayed (SQS-11) or visible.
    pub(crate) fn send_arrives(&mut self, slot: Slot, q: SqsQueueId) {
        self.wire.arrived(self.world.now, slot);
        let out = self
            .family
            .sending
            .remove(&slot)
            .expect("sent with attributes");
        let now = self.world.now;
        let msg = self.world.copies.get(slot).msg;
        let queue = &mut self.family.queues[q.index()];
        let fifo = queue.is_fifo();
        if fifo {
            let id = if out.dedup != NO_KEY {
                Some(out.dedup)
            } else if queue.spec.content_based_deduplication && out.body != NO_KEY {
                Some(out.body)
            } else {
                None
            };
            let scope = match queue.spec.deduplication_scope {
                DeduplicationScope::Queue => NO_KEY,
                DeduplicationScope::MessageGroup => out.group,
            };
            if let Some(id) = id {
                if let Some(original) = queue.deduplicated((scope, id), now) {
                    queue.counters.deduplicated += 1;
                    self.world.emit(EventKind::Sqs(SqsEvent::SqsDeduplicated {
                        msg,
                        queue: q,
                        original,
                    }));
                    self.world.drop_copy(slot, DropReason::Deduplicated);
                    return;
                }
                let until = now.plus(ms_to_us(sqs_spec::DEDUPLICATION_WINDOW_MS));
                queue.remember_dedup((scope, id), until, msg);
            }
        }
        let servers = queue.spec.servers;
        let queue_delay = ms_to_us(queue.spec.delay_ms);
        let delay = if fifo {
            queue_delay
        } else {
            out.delay_us.unwrap_or(queue_delay)
        };
        let server = if fifo || servers <= 1 {
            0
        } else {
            self.world.rng.range_u64(0, u64::from(servers) - 1) as u32
        };
        let state = if delay > 0 {
            MsgState::Delayed {
                until: now.plus(delay),
            }
        } else {
            MsgState::Visible
        };
        let seq = self.next_seq();
        let group = if fifo { out.group } else { NO_KEY };
        self.world.set_state(slot, CopyState::SqsQueued(q));
        let queue = &mut self.family.queues[q.index()];
        queue.counters.sent += 1;
        queue.insert(
            seq,
            SqsMsg {
                slot,
                msg,
                enqueued_at: now,
                arrived_at: now,
                state,
                receive_count: 0,
                first_receive_at: None,
                group,
                server,
                duplicate_of_receive: None,
                passed_over: false,
            },
        );
        let visible_at = match state {
            MsgState::Delayed { until } => {
                self.world.schedule(until, SqsWork::Due { queue: q, seq });
                Some(until)
            }
            _ => None,
        };
        self.world.emit(EventKind::Sqs(SqsEvent::SqsSend {
            msg,
            queue: q,
            group: (group != NO_KEY).then(|| self.world.keys.get(group).clone()),
            visible_at,
        }));
        self.schedule_retention(q, seq, now);
        self.wake(q);
    }

    fn next_seq(&mut self) -> u64 {
        self.family.next_seq += 1;
        self.family.next_seq
    }

    // ------------------------------------------------------------ timers

    /// A message's delay, visibility timeout or retention may have ended (SQS-2, -5, -11).
    pub(crate) fn due(&mut self, q: SqsQueueId, seq: u64) {
        let queue = &self.family.queues[q.index()];
        let Some(m) = queue.messages.get(&seq) else {
            return;
        };
        let now = self.world.now;
        let retention = ms_to_us(queue.spec.message_retention_ms);
        if m.enqueued_at.plus(retention) <= now {
            self.expire(q, seq);
            return;
        }
        match m.state {
            MsgState::Delayed { until } if until <= now => {
                self.make_visible(q, seq, SqsVisibleWhy::Delay)
            }
            MsgState::InFlight { until, .. } if until <= now => {
                let why = if m.duplicate_of_receive == Some(m.receive_count) {
                    SqsVisibleWhy::Duplicate
                } else {
                    SqsVisibleWhy::Timeout
                };
                self.world.note_cycle(m.slot);
                self.make_visible(q, seq, why);
            }
            _ => {}
        }
    }

    fn make_visible(&mut self, q: SqsQueueId, seq: u64, why: SqsVisibleWhy) {
        let queue = &mut self.family.queues[q.index()];
        queue.set_state(seq, MsgState::Visible);
        let slot = queue.messages[&seq].slot;
        let msg = queue.messages[&seq].msg;
        self.world.set_state(slot, CopyState::SqsQueued(q));
        self.world
            .emit(EventKind::Sqs(SqsEvent::SqsVisible { msg, queue: q, why }));
        self.wake(q);
    }

    /// Retention deletes the message whatever its state (SQS-5).
    fn expire(&mut self, q: SqsQueueId, seq: u64) {
        let queue = &mut self.family.queues[q.index()];
        let m = queue.remove(seq);
        queue.counters.expired += 1;
        let state = match m.state {
            MsgState::Delayed { .. } => SqsMessageState::Delayed,
            MsgState::Visible => SqsMessageState::Visible,
            MsgState::InFlight { .. } => SqsMessageState::InFlight,
        };
        self.world.emit(EventKind::Sqs(SqsEvent::SqsExpired {
            msg: m.msg,
            queue: q,
            state,
        }));
        self.finish(m.slot, CopyState::Expired);
        self.wake(q);
    }

    // ------------------------------------------------------------ copies consumers read

    /// SQS is done with a copy: it ends now, but its slot stays taken while a consumer reads it.
    fn finish(&mut self, slot: Slot, to: CopyState) {
        self.family.readers.finish(self.world, slot, to);
    }

    fn read(&mut self, slot: Slot) {
        self.family.readers.read(slot);
    }

    fn unread(&mut self, slot: Slot) {
        self.family.readers.unread(self.world, slot);
    }

    // ------------------------------------------------------------ consumers

    /// The consumer (re)starts its loop: its first `ReceiveMessage` goes out now.
    pub(crate) fn start_polling(&mut self, cid: ConsumerId) {
        self.clients.consumers[cid.index()].status = ConsumerStatus::Running;
        self.send_receive(cid, 0);
    }

    /// The consumer's process ends. SQS never learns of it: what it received stays in flight
    /// until the visibility timeout, and a request it sent may still be answered.
    pub(crate) fn close_consumer(&mut self, cid: ConsumerId, status: ConsumerStatus, why: Closure) {
        let (lost, _) = self.end_connection(cid, status);
        let p = self.family.pullers.get_mut(&cid).expect("an SQS consumer");
        p.awaiting = false;
        p.inbound.clear();
        let reading = std::mem::take(&mut p.reading);
        for r in reading.values() {
            self.unread(r.slot);
        }
        self.channel_closed(cid, &why);
        if why == Closure::Crash {
            self.crashed(cid, 0, lost);
        }
    }

    fn receive_spec(&self, cid: ConsumerId) -> SqsReceiveSpec {
        self.clients.consumers[cid.index()]
            .spec
            .sqs
            .clone()
            .unwrap_or_default()
    }

    /// Sends the next `ReceiveMessage` after `after_us`.
    fn send_receive(&mut self, cid: ConsumerId, after_us: u64) {
        let epoch = self.clients.consumers[cid.index()].epoch;
        let p = self.family.pullers.get_mut(&cid).expect("an SQS consumer");
        p.awaiting = true;
        p.requests += 1;
        let request = p.requests;
        let at = self.world.now.plus(after_us).plus(self.world.latency);
        self.world.schedule(
            at,
            SqsWork::ReceiveArrives {
                consumer: cid,
                epoch,
                request,
            },
        );
    }

    /// A `ReceiveMessage` reaches the queue. A short poll is answered at once; a long poll waits
    /// and is answered at the end of the first instant something is receivable, or empty at its
    /// deadline (SQS-6). SQS answers a request whatever became of its sender.
    pub(crate) fn receive_arrives(&mut self, cid: ConsumerId, epoch: u32, request: u32) {
        let q = self.family.pullers[&cid].queue;
        let r = self.receive_spec(cid);
        let queue = &self.family.queues[q.index()];
        let wait = r.wait_time_ms.unwrap_or(queue.spec.receive_wait_time_ms);
        let visibility = r
            .visibility_timeout_ms
            .unwrap_or(queue.spec.visibility_timeout_ms);
        let w = Waiting {
            consumer: cid,
            epoch,
            request,
            max: r.max_messages,
            visibility_us: ms_to_us(visibility),
            // A wait below a microsecond is none: a long poll that never waits would spin.
            short: ms_to_us(wait) == 0,
        };
        if w.short {
            self.serve_short(q, w);
            return;
        }
        self.family.queues[q.index()].waiting.push_back(w);
        let deadline = self.world.now.plus(ms_to_us(wait));
        self.world.schedule(
            deadline,
            SqsWork::PollDeadline {
                queue: q,
                consumer: cid,
                request,
            },
        );
        self.wake(q);
    }

    /// Something may have become receivable: waiting long polls are answered at the end of
    /// this instant, so that everything arriving now can go in one response.
    fn wake(&mut self, q: SqsQueueId) {
        let queue = &mut self.family.queues[q.index()];
        if !queue.waiting.is_empty() {
            (self.world).schedule_once_now(&mut queue.serve_at, SqsWork::Serve { queue: q });
        }
    }

    /// Answers waiting long polls in arrival order while there is something to receive.
    pub(crate) fn serve_waiting(&mut self, q: SqsQueueId) {
        self.family.queues[q.index()].serve_at = None;
        while let Some(&w) = self.family.queues[q.index()].waiting.front() {
            if self.room(q) == 0 {
                return; // at the in-flight limit a long poll waits, with no error (SQS-7)
            }
            let batch = self.take_batch(q, &w, None);
            if batch.is_empty() {
                return;
            }
            self.family.queues[q.index()].waiting.pop_front();
            self.respond(q, &w, &batch, false);
        }
    }

    /// A long poll's wait ended with nothing received: an empty response (SQS-6).
    pub(crate) fn poll_deadline(&mut self, q: SqsQueueId, cid: ConsumerId, request: u32) {
        let waiting = &mut self.family.queues[q.index()].waiting;
        let Some(i) = waiting
            .iter()
            .position(|w| w.consumer == cid && w.request == request)
        else {
            return;
        };
        let w = waiting.remove(i).expect("found");
        self.respond(q, &w, &[], false);
    }

    /// A short poll: some servers are sampled, and the answer, maybe empty, goes out at once
    /// (SQS-6). At the in-flight limit a standard queue answers `OverLimit`, FIFO empty (SQS-7).
    fn serve_short(&mut self, q: SqsQueueId, w: Waiting) {
        if self.room(q) == 0 {
            let over_limit = !self.family.queues[q.index()].is_fifo();
            self.respond(q, &w, &[], over_limit);
            return;
        }
        let servers = self.sample_servers(q);
        let batch = self.take_batch(q, &w, servers);
        self.respond(q, &w, &batch, false);
    }

    /// The servers a standard short poll asks: each with `short_poll_sample`, at least one.
    fn sample_servers(&mut self, q: SqsQueueId) -> Option<u64> {
        let s = &self.family.queues[q.index()].spec;
        let (servers, p) = (s.servers, s.short_poll_sample);
        if s.is_fifo() || servers <= 1 || p >= 1.0 {
            return None;
        }
        let mut mask = 0u64;
        for i in 0..servers {
            if self.world.rng.chance(p) {
                mask |= 1 << i;
            }
        }
        if mask == 0 {
            mask = 1 << self.world.rng.range_u64(0, u64::from(servers) - 1);
        }
        Some(mask)
    }

    /// How many more messages may go in flight (SQS-7).
    fn room(&self, q: SqsQueueId) -> u64 {
        let queue = &self.family.queues[q.index()];
        queue
            .spec
            .in_flight_limit
            .saturating_sub(queue.in_flight_len())
    }

    fn draw(&mut self, p: f64) -> bool {
        p > 0.0 && (p >= 1.0 || self.world.rng.chance(p))
    }

    /// Picks and receives up to the request's maximum; a candidate at `maxReceiveCount` is
    /// redriven instead, and the receive goes on (SQS-4).
    fn take_batch(&mut self, q: SqsQueueId, w: &Waiting, servers: Option<u64>) -> Vec<u64> {
        let max = u64::from(w.max).min(self.room(q)) as usize;
        if self.family.queues[q.index()].is_fifo() {
            self.fifo_batch(q, w, max)
        } else {
            self.standard_batch(q, w, max, servers.unwrap_or(u64::MAX))
        }
    }

    /// Best-effort order: the oldest visible messages on the sampled servers, except that a
    /// receive may pass over the oldest once; it goes last if there is room (SQS-1).
    fn standard_batch(&mut self, q: SqsQueueId, w: &Waiting, max: usize, servers: u64) -> Vec<u64> {
        let mut batch = Vec::new();
        let mut passed = None;
        let mut from = 0;
        let mut first = true;
        while batch.len() < max {
            let Some(seq) = self.family.queues[q.index()].next_visible(from, servers) else {
                break;
            };
            from = seq + 1;
            if self.redrive_if_due(q, seq) {
                continue;
            }
            if std::mem::take(&mut first) {
                let rate = self.family.queues[q.index()].spec.reorder_rate;
                if !self.family.queues[q.index()].messages[&seq].passed_over && self.draw(rate) {
                    let m = self.family.queues[q.index()].messages.get_mut(&seq);
                    m.expect("visible").passed_over = true;
                    passed = Some(seq);
                    continue;
                }
            }
            self.receive_one(q, seq, w);
            batch.push(seq);
        }
        if let Some(seq) = passed.filter(|_| batch.len() < max) {
            self.receive_one(q, seq, w);
            batch.push(seq);
        }
        batch
    }

    /// Strict order per group: the oldest receivable group first, as many of its messages as
    /// are visible in a row, then the next group; a group with a message in flight is skipped
    /// (SQS-8). A redriven head lets the group's next message through at once (SQS-10).
    fn fifo_batch(&mut self, q: SqsQueueId, w: &Waiting, max: usize) -> Vec<u64> {
        let mut batch = Vec::new();
        while batch.len() < max {
            let Some((head, group)) = self.family.queues[q.index()].first_ready_group() else {
                break;
            };
            let mut next = Some(head);
            while let Some(seq) = next.filter(|_| batch.len() < max) {
                let queue = &self.family.queues[q.index()];
                if queue.messages[&seq].state != MsgState::Visible {
                    break;
                }
                next = queue.group_after(group, seq);
                if self.redrive_if_due(q, seq) {
                    continue;
                }
                self.receive_one(q, seq, w);
                batch.push(seq);
            }
        }
        batch
    }

    /// One receive of one message: in flight until the visibility timeout, its receive count
    /// up by one (SQS-2, SQS-3).
    fn receive_one(&mut self, q: SqsQueueId, seq: u64, w: &Waiting) {
        let now = self.world.now;
        let until = now.plus(w.visibility_us);
        let queue = &mut self.family.queues[q.index()];
        queue.set_state(
            seq,
            MsgState::InFlight {
                consumer: w.consumer,
                until,
                received_at: now,
            },
        );
        queue.counters.received += 1;
        let m = queue.messages.get_mut(&seq).expect("stored message");
        m.receive_count += 1;
        m.first_receive_at.get_or_insert(now);
        let (slot, msg, count) = (m.slot, m.msg, m.receive_count);
        self.world
            .set_state(slot, CopyState::SqsInFlight(q, w.consumer));
        self.world.copies.get_mut(slot).redelivered = count > 1;
        self.world.schedule(until, SqsWork::Due { queue: q, seq });
        self.world.emit(EventKind::Sqs(SqsEvent::SqsReceive {
            msg,
            queue: q,
            consumer: w.consumer,
            receive_count: count,
        }));
    }

    /// A candidate received `maxReceiveCount` times already goes to the dead-letter queue
    /// instead of to the consumer (SQS-4). Only a receive moves it: an unpolled queue keeps it.
    fn redrive_if_due(&mut self, q: SqsQueueId, seq: u64) -> bool {
        let Some((dlq, max)) = self.family.dead_letter_of(q) else {
            return false;
        };
        let queue = &mut self.family.queues[q.index()];
        if queue.messages[&seq].receive_count < max {
            return false;
        }
        let m = queue.remove(seq);
        queue.counters.redriven += 1;
        self.world.note_cycle(m.slot);
        let mut copy = self.world.copies.get(m.slot).clone();
        self.world.emit(EventKind::Sqs(SqsEvent::SqsRedrive {
            msg: m.msg,
            from: q,
            to: dlq,
            receives: m.receive_count,
        }));
        self.finish(
            m.slot,
            CopyState::DeadLettered(DeadLetterReason::MaxReceiveCount),
        );
        self.world.ledger.dead_letter_copies += 1;
        copy.state = CopyState::SqsQueued(dlq);
        let Some(slot) = self.world.new_copy_within_capacity(copy) else {
            return true;
        };
        // A standard DLQ keeps the original enqueue time for retention; a FIFO one starts it
        // again. semantics.md's SQS-4 says "kept" for both; AWS says otherwise for FIFO:
        // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/setting-up-dead-letter-queue-retention.html
        let target = &mut self.family.queues[dlq.index()];
        let enqueued_at = if target.is_fifo() {
            self.world.now
        } else {
            m.enqueued_at
        };
        let server = m.server % target.spec.servers;
        let seq = self.next_seq();
        self.family.queues[dlq.index()].insert(
            seq,
            SqsMsg {
                slot,
                enqueued_at,
                arrived_at: self.world.now,
                state: MsgState::Visible,
                server,
                passed_over: false,
                ..m
            },
        );
        self.schedule_retention(dlq, seq, enqueued_at);
        self.wake(dlq);
        true
    }

    /// The response to a request. It goes to the consumer only if the connection that asked is
    /// still there; SQS counted the receives either way (SQS-3).
    fn respond(&mut self, q: SqsQueueId, w: &Waiting, batch: &[u64], over_limit: bool) {
        let cid = w.consumer;
        if batch.is_empty() {
            if !over_limit {
                self.family.queues[q.index()].counters.empty_receives += 1;
            }
            self.world.emit(EventKind::Sqs(SqsEvent::SqsEmptyReceive {
                queue: q,
                consumer: cid,
                over_limit,
            }));
        }
        let items: Vec<(u64, Slot, MessageId, u32)> = batch
            .iter()
            .map(|seq| {
                let m = &self.family.queues[q.index()].messages[seq];
                (*seq, m.slot, m.msg, m.receive_count)
            })
            .collect();
        let backoff = ms_to_us(self.receive_spec(cid).empty_backoff_ms);
        let consumer = &mut self.clients.consumers[cid.index()];
        let p = self.family.pullers.get_mut(&cid).expect("an SQS consumer");
        for &(_, _, msg, count) in &items {
            consumer.delivered += 1;
            if count > 1 {
                consumer.redelivered += 1;
            }
            consumer.log_delivery(msg, count > 1);
            if p.sent_log.len() < MAX_LOGGED {
                p.sent_log.push((msg, count));
            }
        }
        if consumer.epoch != w.epoch || consumer.status != ConsumerStatus::Running {
            return; // sent to a connection that is gone: sent, never seen
        }
        let arrive = self.world.now.plus(self.world.latency);
        p.retry_after_us = if batch.is_empty() && w.short {
            backoff
        } else {
            0
        };
        for (seq, slot, msg, count) in items {
            let consumer = &mut self.clients.consumers[cid.index()];
            let tag = consumer.next_tag;
            consumer.next_tag += 1;
            let key = self.wire.next_key();
            if self.wire.track {
                let t = Transit {
                    from: NodeRef::SqsQueue(q),
                    to: NodeRef::Consumer(cid),
                    sent_at: self.world.now,
                    msg,
                    chip: Chip::of(self.world, slot),
                };
                self.wire.moving.insert((arrive, key), t);
            }
            let handle = Handle {
                queue: q,
                seq,
                receive: count,
            };
            let p = self.family.pullers.get_mut(&cid).expect("an SQS consumer");
            p.inbound.push((tag, key));
            let reading = Reading {
                handle,
                slot,
                msg,
                delivery: 0,
            };
            p.reading.insert(tag, reading);
            self.read(slot);
        }
        let epoch = w.epoch;
        self.world.schedule(
            arrive,
            SqsWork::ResponseArrives {
                consumer: cid,
                epoch,
            },
        );
    }

    /// The response reaches the consumer: its messages join the buffer, or, empty, the consumer
    /// asks again (after a pause for a short poll).
    pub(crate) fn response_arrives(&mut self, cid: ConsumerId, epoch: u32) {
        if self.clients.consumers[cid.index()].epoch != epoch {
            return;
        }
        let now = self.world.now;
        let p = self.family.pullers.get_mut(&cid).expect("an SQS consumer");
        p.awaiting = false;
        let inbound = std::mem::take(&mut p.inbound);
        if inbound.is_empty() {
            let after = p.retry_after_us;
            self.send_receive(cid, after);
            return;
        }
        for (tag, key) in inbound {
            self.wire.moving.remove(&(now, key));
            let slot = self.family.pullers[&cid].reading[&tag].slot;
            self.accept_delivery(cid, slot, tag, epoch);
        }
        self.next(cid);
    }

    /// Starts processing the next buffered message, or polls again when there is none.
    fn next(&mut self, cid: ConsumerId) {
        let c = &self.clients.consumers[cid.index()];
        if c.status != ConsumerStatus::Running {
            return;
        }
        let before = c.current.map(|(tag, _)| tag);
        self.start_next(cid);
        match self.clients.consumers[cid.index()].current {
            Some((tag, _)) if Some(tag) != before => self.started(cid, tag),
            Some(_) => {}
            None if !self.family.pullers[&cid].awaiting => self.send_receive(cid, 0),
            None => {}
        }
    }

    /// The application starts on a message: it counts as seen, and a `crash` decision for it
    /// kills the process now.
    fn started(&mut self, cid: ConsumerId, tag: u64) {
        let p = self.family.pullers.get_mut(&cid).expect("an SQS consumer");
        p.seen += 1;
        let seen = p.seen;
        let r = p.reading.get_mut(&tag).expect("a received message");
        r.delivery = seen;
        let r = *r;
        if p.seen_log.len() < MAX_LOGGED {
            p.seen_log.push(r.msg);
        }
        let decisions = &self.clients.consumers[cid.index()].spec.decisions;
        if decision_for(decisions, &r) == Some(DecisionAction::Crash) {
            self.close_consumer(cid, ConsumerStatus::Crashed, Closure::Crash);
        }
    }

    /// The consumer finished processing a message: it deletes it, unless it failed or a
    /// decision leaves it, and then it goes on (SQS-2).
    pub(crate) fn processed(&mut self, cid: ConsumerId, tag: u64, failed: bool) {
        let p = self.family.pullers.get_mut(&cid).expect("an SQS consumer");
        let r = p.reading.remove(&tag).expect("a message being processed");
        let decisions = &self.clients.consumers[cid.index()].spec.decisions;
        let delete = match decision_for(decisions, &r) {
            Some(DecisionAction::Ack) => true,
            Some(DecisionAction::LeaveUnacked) => false,
            Some(DecisionAction::Crash) | None => !failed,
        };
        self.unread(r.slot);
        if delete {
            self.call(cid, Action::Delete(r.handle, r.msg));
        }
        self.next(cid);
    }

    /// Sends a call to SQS; calls from one consumer arrive in the order sent.
    fn call(&mut self, cid: ConsumerId, action: Action) {
        let p = self.family.pullers.get_mut(&cid).expect("an SQS consumer");
        p.outbox.push_back(action);
        let at = self.world.now.plus(self.world.latency);
        self.world
            .schedule(at, SqsWork::ActionArrives { consumer: cid });
    }

    /// `ChangeMessageVisibility` for every message the consumer holds (arrived, not yet
    /// processed); each reaches the queue one hop later.
    pub(crate) fn change_visibility(
        &mut self,
        cid: ConsumerId,
        timeout_ms: f64,
    ) -> Result<(), CommandError> {
        let p = self
            .family
            .pullers
            .get(&cid)
            .ok_or_else(|| CommandError::NotApplicable {
                reason: "ChangeMessageVisibility needs an SQS consumer".into(),
            })?;
        crate::scenario::check_ms("timeout_ms", timeout_ms)?;
        let on_wire: BTreeSet<u64> = p.inbound.iter().map(|(tag, _)| *tag).collect();
        let held: Vec<Reading> = p
            .reading
            .iter()
            .filter(|(tag, _)| !on_wire.contains(tag))
            .map(|(_, r)| *r)
            .collect();
        if held.is_empty() {
            return Err(CommandError::NotApplicable {
                reason: "the consumer holds no received message".into(),
            });
        }
        let ms = timeout_ms.round() as u64;
        for r in held {
            self.call(cid, Action::ChangeVisibility(r.handle, r.msg, ms));
        }
        Ok(())
    }

    /// The next call from the consumer reaches SQS.
    pub(crate) fn action_arrives(&mut self, cid: ConsumerId) {
        let p = self.family.pullers.get_mut(&cid).expect("an SQS consumer");
        match p.outbox.pop_front().expect("a call on the wire") {
            Action::Delete(handle, msg) => self.delete(cid, handle, msg),
            Action::ChangeVisibility(handle, msg, ms) => self.set_visibility(cid, handle, msg, ms),
        }
    }

    /// Whether the handle is the message's current in-flight receipt. A kept duplicate has
    /// none until it is received again.
    fn is_current(m: &SqsMsg, handle: Handle) -> bool {
        m.receive_count == handle.receive
            && m.duplicate_of_receive != Some(m.receive_count)
            && matches!(m.state, MsgState::InFlight { .. })
    }

    /// `DeleteMessage` (SQS-2). A standard queue deletes with an old handle too, even while
    /// another consumer holds the message; a FIFO queue refuses it. A standard queue's delete
    /// may miss a server, which keeps a copy that comes back (SQS-1).
    fn delete(&mut self, cid: ConsumerId, handle: Handle, msg: MessageId) {
        let q = handle.queue;
        let queue = &self.family.queues[q.index()];
        let fifo = queue.is_fifo();
        let outcome = match queue.messages.get(&handle.seq) {
            None => SqsDeleteOutcome::Gone,
            Some(m) if Self::is_current(m, handle) => SqsDeleteOutcome::Deleted,
            Some(_) if fifo => SqsDeleteOutcome::ReceiptHandleIsInvalid,
            Some(_) => SqsDeleteOutcome::StaleHandle,
        };
        self.world.emit(EventKind::Sqs(SqsEvent::SqsDelete {
            msg,
            queue: q,
            consumer: cid,
            outcome,
        }));
        if !matches!(
            outcome,
            SqsDeleteOutcome::Deleted | SqsDeleteOutcome::StaleHandle
        ) {
            return;
        }
        let queue = &mut self.family.queues[q.index()];
        let m = queue.remove(handle.seq);
        queue.counters.deleted += 1;
        let rate = queue.spec.duplicate_rate;
        let published_at = self.world.copies.get(m.slot).published_at;
        self.world.complete(published_at);
        self.clients.consumers[cid.index()].acked += 1;
        if !fifo && m.duplicate_of_receive.is_none() && self.draw(rate) {
            self.keep_duplicate(q, handle.seq, &m);
        }
        self.finish(m.slot, CopyState::Acked);
        self.wake(q);
    }

    /// A server missed the delete: its copy keeps the message id and receive count and comes
    /// back when that server's in-flight lock lapses (SQS-1).
    fn keep_duplicate(&mut self, q: SqsQueueId, seq: u64, m: &SqsMsg) {
        let mut copy = self.world.copies.get(m.slot).clone();
        copy.state = match m.state {
            MsgState::InFlight { consumer, .. } => CopyState::SqsInFlight(q, consumer),
            _ => CopyState::SqsQueued(q),
        };
        self.world.ledger.broker_copies += 1;
        let Some(slot) = self.world.new_copy_within_capacity(copy) else {
            return;
        };
        let visible_at = match m.state {
            MsgState::InFlight { until, .. } => until,
            _ => self.world.now,
        };
        let state = match m.state {
            MsgState::InFlight { .. } => m.state,
            _ => MsgState::Visible,
        };
        let queue = &mut self.family.queues[q.index()];
        queue.counters.duplicates += 1;
        queue.insert(
            seq,
            SqsMsg {
                slot,
                state,
                duplicate_of_receive: Some(m.receive_count),
                ..m.clone()
            },
        );
        self.world.emit(EventKind::Sqs(SqsEvent::SqsDuplicate {
            msg: m.msg,
            queue: q,
            visible_at,
        }));
    }

    /// `ChangeMessageVisibility` (SQS-2): the new timeout counts from now, not from the receive
    /// or the old deadline; 0 makes the message visible at once; the total is 12 hours at most.
    fn set_visibility(&mut self, cid: ConsumerId, handle: Handle, msg: MessageId, ms: u64) {
        let q = handle.queue;
        let now = self.world.now;
        let refused = match self.family.queues[q.index()].messages.get(&handle.seq) {
            None => Some(SqsRefusal::ReceiptHandleIsInvalid),
            Some(m) if !Self::is_current(m, handle) => Some(SqsRefusal::MessageNotInflight),
            Some(m) => match m.state {
                MsgState::InFlight { received_at, .. }
                    if ms as f64 > MAX_VISIBILITY_TIMEOUT_MS
                        || now.plus(ms * 1_000).since(received_at)
                            > ms_to_us(MAX_VISIBILITY_TIMEOUT_MS) =>
                {
                    Some(SqsRefusal::InvalidParameterValue)
                }
                _ => None,
            },
        };
        let until = refused.is_none().then(|| now.plus(ms * 1_000));
        self.world
            .emit(EventKind::Sqs(SqsEvent::SqsVisibilityChanged {
                msg,
                queue: q,
                consumer: cid,
                timeout_ms: ms,
                until,
                refused,
            }));
        let Some(until) = until else {
            return;
        };
        if ms == 0 {
            self.make_visible(q, handle.seq, SqsVisibleWhy::VisibilityZero);
            return;
        }
        let queue = &mut self.family.queues[q.index()];
        let MsgState::InFlight {
            consumer,
            received_at,
            ..
        } = queue.messages[&handle.seq].state
        else {
            unreachable!("a current handle is in flight")
        };
        queue.set_state(
            handle.seq,
            MsgState::InFlight {
                consumer,
                until,
                received_at,
            },
        );
        self.world.schedule(
            until,
            SqsWork::Due {
                queue: q,
                seq: handle.seq,
            },
        );
    }
}

/// Work this family schedules on the agenda.
#[derive(Clone, Debug)]
pub(crate) enum SqsWork {
    /// `SendMessage` reaches the queue.
    SendArrives { slot: Slot, queue: SqsQueueId },
    /// `ReceiveMessage` reaches the queue.
    ReceiveArrives {
        consumer: ConsumerId,
        epoch: u32,
        request: u32,
    },
    /// End of an instant: answer the waiting long polls.
    Serve { queue: SqsQueueId },
    /// A long poll's `WaitTimeSeconds` ran out.
    PollDeadline {
        queue: SqsQueueId,
        consumer: ConsumerId,
        request: u32,
    },
    /// A response reaches its consumer.
    ResponseArrives { consumer: ConsumerId, epoch: u32 },
    /// The consumer's next delete or visibility change reaches the queue.
    ActionArrives { consumer: ConsumerId },
    /// A message's delay, visibility timeout or retention may end now.
    Due { queue: SqsQueueId, seq: u64 },
}

impl<W: From<SqsWork> + From<ClientWork>> Cx<'_, &mut Sqs, W> {
    pub(crate) fn run_sqs(&mut self, work: SqsWork) {
        match work {
            SqsWork::SendArrives { slot, queue } => self.send_arrives(slot, queue),
            SqsWork::ReceiveArrives {
                consumer,
                epoch,
                request,
            } => self.receive_arrives(consumer, epoch, request),
            SqsWork::Serve { queue } => self.serve_waiting(queue),
            SqsWork::PollDeadline {
                queue,
                consumer,
                request,
            } => self.poll_deadline(queue, consumer, request),
            SqsWork::ResponseArrives { consumer, epoch } => self.response_arrives(consumer, epoch),
            SqsWork::ActionArrives { consumer } => self.action_arrives(consumer),
            SqsWork::Due { queue, seq } => self.due(queue, seq),
        }
    }
}
