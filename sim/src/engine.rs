//! The simulation: the time loop over the agenda, the state of the kernel, the clients and each
//! family, and the audit. What belongs to which family is the registry's business (`registry.rs`).

use crate::clients::Clients;
use crate::clients::EMPTY_HEADERS;
use crate::event::{Event, EventKind, EventSink, TraceDigest};
use crate::families::jms::Jms;
use crate::families::kafka::Kafka;
use crate::families::pulsar::Pulsar;
use crate::families::rabbitmq::RabbitMq;
use crate::families::redis_pubsub::RedisPubSub;
use crate::families::redis_streams::RedisStreams;
use crate::families::service::Services;
use crate::families::sqs::Sqs;
use crate::families::zeromq::ZeroMq;
use crate::kernel::agenda::Scheduled;
use crate::kernel::guard::Halt;
use crate::kernel::World;
use crate::ledger::{CopyState, Ledger};
use crate::registry::Work;
use crate::scenario::{Scenario, ScenarioError};
use crate::time::SimTime;
use crate::wire::Wire;
use std::collections::BTreeMap;

pub use crate::kernel::MAX_LIVE_COPIES;

pub(crate) use crate::kernel::ms_to_us;

/// The simulation. See the crate docs for the model. A clone is a checkpoint: advanced to
/// the same time with the same commands, it gives the same trace as the original.
#[derive(Clone)]
pub struct Simulation {
    pub(crate) scenario: Scenario,
    pub(crate) world: World<Work>,
    pub(crate) clients: Clients,
    pub(crate) rabbitmq: RabbitMq,
    pub(crate) redis: RedisPubSub,
    pub(crate) kafka: Kafka,
    pub(crate) service: Services,
    pub(crate) jms: Jms,
    pub(crate) sqs: Sqs,
    pub(crate) wire: Wire,
    pub(crate) pulsar: Pulsar,
    pub(crate) streams: RedisStreams,
    pub(crate) zeromq: ZeroMq,
}

impl Simulation {
    /// Builds the topology of a validated scenario and schedules its producers and script.
    pub fn new(scenario: &Scenario, seed: u64) -> Result<Simulation, ScenarioError> {
        scenario.validate()?;
        let mut sim = Simulation {
            scenario: scenario.clone(),
            world: World::new(seed, ms_to_us(scenario.latency_ms)),
            clients: Clients::default(),
            rabbitmq: RabbitMq::default(),
            redis: RedisPubSub::default(),
            kafka: Kafka::default(),
            service: Services::default(),
            jms: Jms::default(),
            sqs: Sqs::default(),
            wire: Wire::default(),
            pulsar: Pulsar::default(),
            streams: RedisStreams::default(),
            zeromq: ZeroMq::default(),
        };
        let empty = sim
            .world
            .header_sets
            .intern((u32::MAX, 0, 0), BTreeMap::new);
        debug_assert_eq!(empty, EMPTY_HEADERS);
        sim.build_families(scenario)?;
        for p in &scenario.producers {
            sim.add_producer(p.clone())
                .map_err(|e| ScenarioError::new("producers", e.to_string()))?;
        }
        sim.clients.stages =
            crate::clients::Stages::build(&scenario.stages, |n| sim.clients.producer_id(n).ok());
        for c in &scenario.consumers {
            sim.add_consumer(c.clone())
                .map_err(|e| ScenarioError::new("consumers", e.to_string()))?;
        }
        for (index, s) in scenario.script.iter().enumerate() {
            sim.world
                .schedule(SimTime(ms_to_us(s.at_ms)), Work::Scripted { index });
        }
        Ok(sim)
    }

    pub fn now(&self) -> SimTime {
        self.world.now
    }

    /// Why the run stopped for good, if it did: a zero-time loop or a spent work budget.
    /// A halted simulation does no more work and its clock stays where it stopped.
    pub fn halted(&self) -> Option<&Halt> {
        self.world.guard.halt.as_ref()
    }

    /// Caps the total work items of the run (unlimited by default); past it the run halts
    /// with [`Halt::WorkBudget`].
    pub fn set_work_budget(&mut self, max_work: u64) {
        self.world.guard.work_budget = max_work;
    }

    /// Work items run so far.
    pub fn work_done(&self) -> u64 {
        self.world.guard.work_done
    }

    /// Keeps (default) or skips the moving-message list that snapshots carry for drawing.
    /// Skipping it changes no event, only what `snapshot().transits` shows.
    pub fn set_track_transits(&mut self, on: bool) {
        self.wire.track = on;
        if !on {
            self.wire.moving.clear();
        }
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// A rough size of this state in bytes, for checkpoint budgets: the message copies, the
    /// agenda and the sampled series dominate; per-family indexes are not counted.
    pub fn approx_bytes(&self) -> usize {
        std::mem::size_of::<Simulation>()
            + self.world.copies.heap_bytes()
            + self.world.agenda.heap_bytes()
            + 4 * crate::SERIES_CAPACITY * std::mem::size_of::<(u64, f64)>()
    }

    pub fn ledger(&self) -> &Ledger {
        &self.world.ledger
    }

    /// Fingerprint of every event so far.
    pub fn digest(&self) -> TraceDigest {
        self.world.digest()
    }

    /// Time of the next scheduled event, if any.
    pub fn next_event_time(&self) -> Option<SimTime> {
        self.world.agenda.peek_time()
    }

    /// Processes the single next event and returns what it produced.
    pub fn step(&mut self) -> Vec<Event> {
        if let Some(at) = self.world.agenda.peek_time() {
            if self.world.guard.admit(at) {
                let s = self.world.agenda.pop().expect("peeked");
                self.run(s);
            }
        }
        self.world.take_events()
    }

    /// Processes every event up to and including `t`, then sets the clock to `t`.
    pub fn advance_to(&mut self, t: SimTime) -> Vec<Event> {
        self.advance_to_bounded(t, usize::MAX).0
    }

    /// Like [`Simulation::advance_to`] but stops after `max_events` scheduled work items (one
    /// item may emit several [`Event`]s), so a UI frame can cap its work. Returns whether `t`
    /// was reached.
    pub fn advance_to_bounded(&mut self, t: SimTime, max_events: usize) -> (Vec<Event>, bool) {
        let mut events = Vec::new();
        let reached = self.advance_into(t, max_events, &mut events);
        (events, reached)
    }

    /// Streams instead of collecting: like [`Simulation::advance_to_bounded`], but hands every
    /// event to `sink` as soon as its work item has run, so memory stays flat over any run
    /// length. Returns whether `t` was reached.
    pub fn advance_into(
        &mut self,
        t: SimTime,
        max_events: usize,
        sink: &mut impl EventSink,
    ) -> bool {
        let mut done = 0;
        // Events emitted by commands applied since the last call come first.
        self.flush_into(sink);
        if self.world.guard.halt.is_some() {
            return false;
        }
        while let Some(at) = self.world.agenda.peek_time() {
            if at > t {
                break;
            }
            if done == max_events || !self.world.guard.admit(at) {
                return false;
            }
            let s = self.world.agenda.pop().expect("peeked");
            self.run(s);
            self.flush_into(sink);
            done += 1;
        }
        if t > self.world.now {
            self.sample_until(t);
            self.world.now = t;
        }
        true
    }

    fn flush_into(&mut self, sink: &mut impl EventSink) {
        for e in self.world.drain_events() {
            sink.accept(e);
        }
    }

    fn run(&mut self, s: Scheduled<Work>) {
        debug_assert!(s.at >= self.world.now, "time went backwards");
        self.sample_until(s.at);
        self.world.now = s.at;
        match s.work {
            Work::Scripted { index } => {
                let cmd = self.scenario.script[index].command.clone();
                // A scripted command that no longer applies (e.g. the entity was removed by the
                // user) is reported, not fatal.
                if let Err(e) = self.apply(cmd) {
                    self.world.emit(EventKind::CommandApplied {
                        summary: format!("script[{index}] refused: {e}"),
                    });
                }
            }
            work => self.run_work(work),
        }
        #[cfg(debug_assertions)]
        self.audit()
            .unwrap_or_else(|e| panic!("ledger audit failed at {}: {e}", self.world.now));
    }

    fn sample_until(&mut self, t: SimTime) {
        // A long jump with nothing happening is sampled from near its end, so advancing a year
        // costs the same as advancing a minute.
        let span = crate::SAMPLE_INTERVAL * crate::SERIES_CAPACITY as u64;
        if t.0 > self.world.next_sample.0.saturating_add(span) {
            let skip = (t.0 - span - self.world.next_sample.0) / crate::SAMPLE_INTERVAL;
            self.world.next_sample = self.world.next_sample.plus(skip * crate::SAMPLE_INTERVAL);
        }
        while self.world.next_sample <= t {
            let at = self.world.next_sample.0;
            self.world.sample_at(at);
            self.sample_families(at);
            self.world.next_sample = self.world.next_sample.plus(crate::SAMPLE_INTERVAL);
        }
    }

    /// Checks that the ledger agrees with where the copies actually are. Cheap enough to run
    /// after every event in debug builds: it compares counters, not copies.
    pub fn audit(&self) -> Result<(), String> {
        let l = &self.world.ledger;
        if !l.is_balanced() {
            return Err(format!(
                "unbalanced ledger: created {} but accounted {}",
                l.created,
                l.accounted()
            ));
        }
        let held_by = self.family_holdings();
        let ready = held_by.ready;
        if ready != l.ready {
            return Err(format!(
                "queues hold {ready} ready but the ledger says {}",
                l.ready
            ));
        }
        let unacked = held_by.unacked;
        let by_consumer: u64 = self
            .clients
            .consumers
            .iter()
            .map(|c| c.unacked.len() as u64)
            .sum();
        if unacked != l.unacked || by_consumer + held_by.leased != l.unacked {
            return Err(format!(
                "unacked: queues {unacked}, consumers {by_consumer}, ledger {}",
                l.unacked
            ));
        }
        let held: u64 = self
            .clients
            .consumers
            .iter()
            .map(|c| c.held.len() as u64)
            .sum::<u64>()
            + held_by.in_service;
        if held_by.retained != l.retained {
            return Err(format!(
                "logs hold {} records but the ledger says {} retained",
                held_by.retained, l.retained
            ));
        }
        if held_by.piped != l.piped {
            return Err(format!(
                "ZeroMQ processes hold {} but the ledger says {} piped",
                held_by.piped, l.piped
            ));
        }
        if held != l.processing {
            return Err(format!(
                "consumers hold {held} but the ledger says {} processing",
                l.processing
            ));
        }
        let live = (l.in_flight + l.ready + l.unacked + l.processing + l.piped)
            + held_by.pinned
            + held_by.log_slots;
        let live = live as usize;
        if live != self.world.copies.live() {
            return Err(format!(
                "{} live copies stored but the ledger counts {live} (with {} pinned)",
                self.world.copies.live(),
                held_by.pinned
            ));
        }
        Ok(())
    }

    /// A full audit that walks every live copy; for tests.
    pub fn audit_deep(&self) -> Result<(), String> {
        self.audit()?;
        let mut counts = [0u64; 5];
        for (_, c) in self.world.copies.iter_live() {
            let i = match c.state {
                CopyState::InFlight => 0,
                CopyState::Ready(_) | CopyState::JmsPending(_) | CopyState::SqsQueued(_) => 1,
                CopyState::Unacked(..)
                | CopyState::JmsDispatched(..)
                | CopyState::SqsInFlight(..) => 2,
                CopyState::Processing(_) | CopyState::InService(_) => 3,
                CopyState::Piped(_) => 4,
                s => return Err(format!("terminal state {s:?} in a live slot")),
            };
            counts[i] += 1;
        }
        let l = &self.world.ledger;
        let counted = [l.in_flight, l.ready, l.unacked, l.processing, l.piped];
        if counts != counted {
            return Err(format!("walked {counts:?} vs ledger {counted:?}"));
        }
        self.audit_families_deep()
    }
}
