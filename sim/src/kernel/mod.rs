//! The kernel: virtual time, the agenda, the one RNG, the copy store, the ledger, event emission
//! with the trace digest, and statistics. It knows no broker noun: no queue, topic, exchange or
//! channel appears here, and the work it schedules is a type parameter.

pub mod agenda;
pub mod event;
pub mod guard;
pub mod ledger;
pub mod message;
pub mod meter;
pub mod rng;
pub mod stats;
pub mod time;

use crate::event::{Event, EventKind, TraceDigest};
use agenda::{Agenda, TimerId};
use guard::Guard;
use ledger::{CopyState, DropReason, Ledger};
use message::{CopyStore, Interner, MessageCopy, Slot};
use meter::Meters;
use rng::SimRng;
use serde_json::Value;
use stats::{LatencyHistogram, Series};
use std::collections::BTreeMap;
use time::SimTime;

/// Live copies beyond this are dropped with [`DropReason::SimulatorCapacity`], so a runaway
/// producer or fan-out cannot exhaust memory. The drop is counted like any other loss.
pub const MAX_LIVE_COPIES: usize = 2_000_000;

/// Micro-seconds from a validated millisecond value.
pub fn ms_to_us(ms: f64) -> u64 {
    (ms * 1_000.0).round() as u64
}

/// The state every family shares. `W` is the engine's work type.
#[derive(Clone)]
pub struct World<W> {
    pub now: SimTime,
    pub agenda: Agenda<W>,
    pub rng: SimRng,
    /// One-way network latency between any two nodes.
    pub latency: u64,
    pub copies: CopyStore,
    pub ledger: Ledger,
    /// Interned routing keys and record keys.
    pub keys: Interner<String, String>,
    /// Header sets keyed by (producer, template version, index); JSON values have no order to key by.
    pub header_sets: Interner<(u32, u32, usize), BTreeMap<String, Value>>,
    pub next_msg: u64,
    out: Vec<Event>,
    digest: TraceDigest,
    pub latency_hist: LatencyHistogram,
    pub throughput_in: Series,
    pub throughput_out: Series,
    pub next_sample: SimTime,
    pub sampled_published: u64,
    pub sampled_completed: u64,
    pub completed: u64,
    pub interval_latency: LatencyHistogram,
    pub latency_p50: Series,
    pub latency_p99: Series,
    /// Zero-time loop detection and the work budget.
    pub guard: Guard,
    /// Arrivals and waits per store, for queueing theory (`theory`).
    pub meters: Meters,
}

impl<W> World<W> {
    pub fn new(seed: u64, latency: u64) -> World<W> {
        World {
            now: SimTime::ZERO,
            agenda: Agenda::default(),
            rng: SimRng::new(seed),
            latency,
            copies: CopyStore::default(),
            ledger: Ledger::default(),
            keys: Interner::default(),
            header_sets: Interner::default(),
            next_msg: 0,
            out: Vec::new(),
            digest: TraceDigest::default(),
            latency_hist: LatencyHistogram::default(),
            throughput_in: Series::new(crate::SERIES_CAPACITY, crate::SAMPLE_INTERVAL),
            throughput_out: Series::new(crate::SERIES_CAPACITY, crate::SAMPLE_INTERVAL),
            next_sample: SimTime::ZERO,
            sampled_published: 0,
            sampled_completed: 0,
            completed: 0,
            interval_latency: LatencyHistogram::default(),
            latency_p50: Series::new(crate::SERIES_CAPACITY, crate::SAMPLE_INTERVAL),
            latency_p99: Series::new(crate::SERIES_CAPACITY, crate::SAMPLE_INTERVAL),
            guard: Guard::default(),
            meters: Meters::default(),
        }
    }

    pub fn schedule(&mut self, at: SimTime, work: impl Into<W>) {
        self.agenda.settle(self.now);
        self.agenda.push(at, work.into());
    }

    /// Schedules `work` at the end of this instant, once however often it is asked for:
    /// `served_at` remembers the instant it was scheduled for. Requests waiting on a broker
    /// (long polls, blocked reads) are answered this way, so everything arriving now counts.
    pub fn schedule_once_now(&mut self, served_at: &mut Option<SimTime>, work: impl Into<W>) {
        if *served_at != Some(self.now) {
            *served_at = Some(self.now);
            self.schedule(self.now, work);
        }
    }

    /// A periodic timer, asleep, first firing at `at` (see [`Agenda::add_timer`]).
    pub fn add_timer(&mut self, at: SimTime, period: u64, work: impl Into<W>) -> TimerId {
        self.agenda.settle(self.now);
        self.agenda.add_timer(at, period, work.into())
    }

    /// Puts an awake timer to sleep, next firing at `at` (see [`Agenda::sleep`]).
    pub fn sleep_timer(&mut self, id: TimerId, at: SimTime, work: impl Into<W>) {
        self.agenda.settle(self.now);
        self.agenda.sleep(id, at, work.into());
    }

    /// Wakes a sleeping timer; its next firing becomes a real item (see [`Agenda::wake`]).
    pub fn wake_timer(&mut self, id: TimerId) -> bool {
        self.agenda.settle(self.now);
        self.agenda.wake(id)
    }

    /// A sleeping timer's next firing time, or `None` while it is awake.
    pub fn timer_sleeping_until(&mut self, id: TimerId) -> Option<SimTime> {
        self.agenda.settle(self.now);
        self.agenda.sleeping_until(id)
    }

    pub fn emit(&mut self, kind: EventKind) {
        let e = Event {
            time: self.now,
            kind,
        };
        self.digest.add(&e);
        self.out.push(e);
    }

    /// Events emitted since the last call.
    pub fn drain_events(&mut self) -> std::vec::Drain<'_, Event> {
        self.out.drain(..)
    }

    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.out)
    }

    pub fn digest(&self) -> TraceDigest {
        self.digest
    }

    /// Moves a copy to a new state and keeps the ledger in step; frees terminal copies.
    pub fn set_state(&mut self, slot: Slot, to: CopyState) {
        self.set_state_keeping_slot(slot, to);
        if to.is_terminal() {
            self.copies.release(slot);
        }
    }

    /// Like [`World::set_state`], but a terminal copy keeps its slot until the caller releases
    /// it: a consumer still reads a copy its broker is done with.
    pub fn set_state_keeping_slot(&mut self, slot: Slot, to: CopyState) {
        let c = self.copies.get_mut(slot);
        let from = c.state;
        c.state = to;
        self.meters
            .moved(self.now, Some(from), to, &mut c.waiting_since);
        self.ledger.leave(from);
        self.ledger.enter(to);
    }

    /// The next message id.
    pub fn new_message_id(&mut self) -> crate::ids::MessageId {
        let id = crate::ids::MessageId(self.next_msg);
        self.next_msg += 1;
        id
    }

    pub fn new_copy(&mut self, mut copy: MessageCopy) -> Slot {
        self.ledger.created += 1;
        self.ledger.enter(copy.state);
        self.meters
            .moved(self.now, None, copy.state, &mut copy.waiting_since);
        self.copies.insert(copy)
    }

    /// A copy goes round once more (requeue, dead-letter); too often at one instant halts.
    pub fn note_cycle(&mut self, slot: Slot) {
        let now = self.now;
        let c = self.copies.get_mut(slot);
        if c.cycle_at == now {
            c.cycles += 1;
        } else {
            c.cycle_at = now;
            c.cycles = 1;
        }
        let (msg, cycles) = (c.msg, c.cycles);
        self.guard.count_cycle(now, msg, cycles);
    }

    /// A new copy, unless the store is full: then it is destroyed at once as
    /// `simulator_capacity` (named in the ledger, like any loss) and `None` comes back.
    pub fn new_copy_within_capacity(&mut self, copy: MessageCopy) -> Option<Slot> {
        let slot = self.new_copy(copy);
        if self.copies.live() > MAX_LIVE_COPIES {
            self.drop_copy(slot, DropReason::SimulatorCapacity);
            return None;
        }
        Some(slot)
    }

    /// Destroys a copy with a named reason: never a silent loss.
    pub fn drop_copy(&mut self, slot: Slot, reason: DropReason) {
        let msg = self.copies.get(slot).msg;
        self.set_state(slot, CopyState::Dropped(reason));
        self.emit(EventKind::Dropped { msg, reason });
    }

    /// A message's work is done (acked, processed, served): end-to-end latency and throughput.
    pub fn complete(&mut self, published_at: SimTime) {
        let us = self.now.since(published_at);
        self.latency_hist.record(us);
        self.interval_latency.record(us);
        self.completed += 1;
    }

    /// Pushes the throughput and latency points of one sampling instant.
    pub fn sample_at(&mut self, at: u64) {
        let per_sec = 1e6 / crate::SAMPLE_INTERVAL as f64;
        let published = self.ledger.published;
        let completed = self.completed;
        self.throughput_in
            .push(at, (published - self.sampled_published) as f64 * per_sec);
        self.throughput_out
            .push(at, (completed - self.sampled_completed) as f64 * per_sec);
        self.sampled_published = published;
        self.sampled_completed = completed;
        if self.interval_latency.count() > 0 {
            let h = std::mem::take(&mut self.interval_latency);
            self.latency_p50.push(at, h.quantile(0.50) as f64 / 1_000.0);
            self.latency_p99.push(at, h.quantile(0.99) as f64 / 1_000.0);
        }
    }
}
