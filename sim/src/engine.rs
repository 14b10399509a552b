//! The simulation: owns every entity, the event queue, the RNG and the ledger, and applies the
//! RabbitMQ and Redis Pub/Sub rules of `reference/semantics.md`.

use crate::clients::ClientWork;
use crate::clients::EMPTY_HEADERS;
use crate::clients::{Clients, Closure, ConsumerStatus, Cx};
use crate::command::{Command, CommandError};
use crate::event::{Event, EventKind, EventSink, TraceDigest};
use crate::families::kafka::Kafka;
use crate::families::kafka::KafkaWork;
use crate::families::rabbitmq::RabbitMqWork;
use crate::families::rabbitmq::{Exchange, RabbitMq};
use crate::families::redis_pubsub::RedisPubSub;
use crate::families::redis_pubsub::RedisPubSubWork;
use crate::families::service::ServiceWork;
use crate::families::service::Services;
use crate::ids::QueueId;
use crate::kernel::agenda::Scheduled;
use crate::kernel::guard::Halt;
use crate::kernel::World;
use crate::ledger::{CopyState, Ledger};
use crate::queue::Queue;
use crate::registry::cx;
use crate::scenario::{self, AckMode, Scenario, ScenarioError};
use crate::time::SimTime;
use crate::wire::Wire;
use std::collections::BTreeMap;

pub use crate::kernel::MAX_LIVE_COPIES;

pub(crate) use crate::kernel::ms_to_us;

/// Scheduled work: one variant per family (the registry of families), each family's own enum
/// inside. Ordered only by (time, insertion sequence).
#[derive(Clone, Debug)]
pub(crate) enum Work {
    Client(ClientWork),
    RabbitMq(RabbitMqWork),
    RedisPubSub(RedisPubSubWork),
    Kafka(KafkaWork),
    Service(ServiceWork),
    Scripted { index: usize },
}

macro_rules! work_from {
    ($($family:ident($work:ty)),*) => {
        $(impl From<$work> for Work {
            fn from(w: $work) -> Work {
                Work::$family(w)
            }
        })*
    };
}

work_from!(
    Client(ClientWork),
    RabbitMq(RabbitMqWork),
    RedisPubSub(RedisPubSubWork),
    Kafka(KafkaWork),
    Service(ServiceWork)
);

/// The simulation. See the crate docs for the model.
pub struct Simulation {
    pub(crate) scenario: Scenario,
    pub(crate) world: World<Work>,
    pub(crate) clients: Clients,
    pub(crate) rabbitmq: RabbitMq,
    pub(crate) redis: RedisPubSub,
    pub(crate) kafka: Kafka,
    pub(crate) service: Services,
    pub(crate) wire: Wire,
}

/// Adding to `kind`, which holds `len` already (removed ones keep their ids), is refused at
/// the scenario cap.
fn at_cap(kind: &'static str, len: usize) -> Result<(), CommandError> {
    if len >= scenario::limits::MAX_ENTITIES {
        return Err(CommandError::NotApplicable {
            reason: format!(
                "a run has at most {} {kind}",
                scenario::limits::MAX_ENTITIES
            ),
        });
    }
    Ok(())
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
            wire: Wire::default(),
        };
        let empty = sim
            .world
            .header_sets
            .intern((u32::MAX, 0, 0), BTreeMap::new);
        debug_assert_eq!(empty, EMPTY_HEADERS);
        for x in &scenario.exchanges {
            sim.rabbitmq.exchanges.push(Exchange {
                name: x.name.clone(),
                kind: x.kind,
                alternate: None,
                bindings: Vec::new(),
            });
        }
        for (i, x) in scenario.exchanges.iter().enumerate() {
            sim.rabbitmq.exchanges[i + 1].alternate = x
                .alternate_exchange
                .as_deref()
                .and_then(|n| sim.rabbitmq.exchange_id(n));
        }
        for q in &scenario.queues {
            cx!(sim, rabbitmq)
                .add_queue(q.clone())
                .map_err(|e| ScenarioError::new("queues", e.to_string()))?;
        }
        for b in &scenario.bindings {
            cx!(sim, rabbitmq)
                .add_binding(b.clone())
                .map_err(|e| ScenarioError::new("bindings", e.to_string()))?;
        }
        for t in &scenario.topics {
            cx!(sim, kafka).add_topic(t.clone());
        }
        for g in &scenario.groups {
            cx!(sim, kafka).add_group(g.clone());
        }
        for s in &scenario.services {
            cx!(sim, service).add_service(s.clone());
        }
        for p in &scenario.producers {
            sim.add_producer(p.clone())
                .map_err(|e| ScenarioError::new("producers", e.to_string()))?;
        }
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
            Work::Client(w) => self.run_client(w),
            Work::RabbitMq(w) => cx!(self, rabbitmq).run_rabbitmq(w),
            Work::RedisPubSub(w) => cx!(self, redis).run_redis_pubsub(w),
            Work::Kafka(w) => cx!(self, kafka).run_kafka(w),
            Work::Service(w) => cx!(self, service).run_service(w),
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
            for q in &mut self.rabbitmq.queues {
                q.depth.push(at, (q.ready_len() + q.unacked) as f64);
            }
            self.world.sample_at(at);
            for gid in 0..self.kafka.groups.len() {
                let lag = self.group_lag(gid as u32) as f64;
                self.kafka.groups[gid].lag_series.push(at, lag);
            }
            self.world.next_sample = self.world.next_sample.plus(crate::SAMPLE_INTERVAL);
        }
    }

    /// Applies a command at the current time. A refused command changes nothing.
    pub fn apply(&mut self, command: Command) -> Result<(), CommandError> {
        let summary = serde_json::to_string(&command).unwrap_or_default();
        match command {
            Command::CrashConsumer { consumer } => {
                let id = self.clients.consumer_id(&consumer)?;
                if self.clients.consumers[id.index()].status != ConsumerStatus::Running {
                    return Err(CommandError::NotApplicable {
                        reason: format!("{consumer} is not running"),
                    });
                }
                self.world.emit(EventKind::CommandApplied { summary });
                self.close_consumer(id, ConsumerStatus::Crashed, Closure::Crash);
                return Ok(());
            }
            Command::RestartConsumer { consumer } => {
                let id = self.clients.consumer_id(&consumer)?;
                if self.clients.consumers[id.index()].status == ConsumerStatus::Running {
                    return Err(CommandError::NotApplicable {
                        reason: format!("{consumer} is already running"),
                    });
                }
                self.world.emit(EventKind::CommandApplied { summary });
                self.subscribe(id);
                self.world
                    .emit(EventKind::ConsumerRestarted { consumer: id });
                return Ok(());
            }
            Command::SlowConsumer { consumer, factor } => {
                let id = self.clients.consumer_id(&consumer)?;
                if !factor.is_finite() || !(0.01..=1000.0).contains(&factor) {
                    return Err(ScenarioError::new(
                        "factor",
                        format!("must be between 0.01 and 1000, got {factor}"),
                    )
                    .into());
                }
                self.clients.consumers[id.index()].slow_factor = factor;
            }
            Command::PauseProducer { producer } => {
                let id = self.clients.producer_id(&producer)?;
                let p = &mut self.clients.producers[id.index()];
                p.spec.paused = true;
                p.generation += 1;
            }
            Command::ResumeProducer { producer } => {
                let id = self.clients.producer_id(&producer)?;
                let p = &mut self.clients.producers[id.index()];
                if p.spec.paused {
                    p.spec.paused = false;
                    p.generation += 1;
                    cx!(self).schedule_next_tick(id);
                }
            }
            Command::SetRate { producer, rate } => {
                let id = self.clients.producer_id(&producer)?;
                scenario::validate_rate("rate", &rate)?;
                let p = &mut self.clients.producers[id.index()];
                p.spec.rate = rate;
                p.generation += 1;
                p.started_at = self.world.now;
                p.sent = p.sent.min(p.spec.limit.unwrap_or(u64::MAX));
                cx!(self).schedule_next_tick(id);
            }
            Command::Burst { producer, count } => {
                let id = self.clients.producer_id(&producer)?;
                let targets = self.clients.producers[id.index()].plan.targets.len();
                scenario::check_burst_copies("count", count, targets)?;
                self.world.emit(EventKind::CommandApplied { summary });
                self.publish_many(id, count, false);
                return Ok(());
            }
            Command::Poison { producer } => {
                let id = self.clients.producer_id(&producer)?;
                self.world.emit(EventKind::CommandApplied { summary });
                self.publish(id, true);
                return Ok(());
            }
            Command::AddQueue { queue } => {
                at_cap("queues", self.rabbitmq.queues.len())?;
                cx!(self, rabbitmq).add_queue(queue)?;
            }
            Command::UpdateQueue { queue } => cx!(self, rabbitmq).update_queue(queue)?,
            Command::AddBinding { binding } => {
                let bindings = self.rabbitmq.exchanges.iter().map(|x| x.bindings.len());
                at_cap("bindings", bindings.sum())?;
                scenario::check_len(
                    "binding.routing_key",
                    &binding.routing_key,
                    scenario::limits::MAX_KEY_LEN,
                )?;
                cx!(self, rabbitmq).add_binding(binding)?;
            }
            Command::RemoveBinding { binding } => {
                let (from, _) = self.rabbitmq.resolve_binding(&binding)?;
                self.rabbitmq.topology_changed();
                let bindings = &mut self.rabbitmq.exchanges[from.index()].bindings;
                let before = bindings.len();
                bindings.retain(|b| b.spec != binding);
                if bindings.len() == before {
                    return Err(CommandError::UnknownEntity {
                        kind: "binding",
                        name: format!("{} -> {:?}", binding.exchange, binding.queue),
                    });
                }
            }
            Command::AddProducer { producer } => {
                at_cap("producers", self.clients.producers.len())?;
                self.add_producer(producer)?;
            }
            Command::UpdateProducer { producer } => {
                let id = self.clients.producer_id(&producer.name)?;
                self.check_producer(&producer)?;
                let version = self.clients.producers[id.index()].template_version + 1;
                let targets = self.resolve_targets(&producer);
                let plan = cx!(self).plan(id.0, version, &producer, targets);
                let p = &mut self.clients.producers[id.index()];
                let rate_changed = p.spec.rate != producer.rate || p.spec.paused != producer.paused;
                p.spec = producer;
                p.plan = plan;
                p.template_version = version;
                if rate_changed {
                    p.generation += 1;
                    p.started_at = self.world.now;
                    cx!(self).schedule_next_tick(id);
                }
            }
            Command::RemoveProducer { producer } => {
                let id = self.clients.producer_id(&producer)?;
                self.clients.producers[id.index()].removed = true;
            }
            Command::AddConsumer { consumer } => {
                at_cap("consumers", self.clients.consumers.len())?;
                self.add_consumer(consumer)?;
            }
            Command::UpdateConsumer { consumer } => self.update_consumer(consumer)?,
            Command::DoubleAck { consumer } => {
                let id = self.clients.consumer_id(&consumer)?;
                let c = &self.clients.consumers[id.index()];
                if c.status != ConsumerStatus::Running || c.spec.ack == AckMode::Auto {
                    return Err(CommandError::NotApplicable {
                        reason: format!("{consumer} must be running with manual acks"),
                    });
                }
                self.world.emit(EventKind::CommandApplied { summary });
                self.close_consumer(
                    id,
                    ConsumerStatus::Crashed,
                    Closure::ChannelError("PRECONDITION_FAILED: unknown delivery tag".into()),
                );
                return Ok(());
            }
            Command::AddGroup { group } => {
                at_cap("groups", self.kafka.groups.len())?;
                if self.kafka.group_id(&group.name).is_some() {
                    return Err(CommandError::Duplicate {
                        kind: "group",
                        name: group.name,
                    });
                }
                scenario::validate_group("group", &group, &|t| self.kafka.topic_id(t).is_some())?;
                cx!(self, kafka).add_group(group);
            }
            Command::ResetOffsets { group, to } => {
                let gid =
                    self.kafka
                        .group_id(&group)
                        .ok_or_else(|| CommandError::UnknownEntity {
                            kind: "group",
                            name: group.clone(),
                        })?;
                if let crate::command::OffsetTarget::TimestampMs(ms) = to {
                    scenario::check_ms("to.timestamp_ms", ms)?;
                }
                cx!(self, kafka).reset_offsets(gid, &to);
            }
            Command::RemoveConsumer { consumer } => {
                let id = self.clients.consumer_id(&consumer)?;
                self.world.emit(EventKind::CommandApplied { summary });
                self.close_consumer(id, ConsumerStatus::Removed, Closure::Crash);
                return Ok(());
            }
        }
        self.world.emit(EventKind::CommandApplied { summary });
        Ok(())
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
        let ready: u64 = self.rabbitmq.queues.iter().map(Queue::ready_len).sum();
        if ready != l.ready {
            return Err(format!(
                "queues hold {ready} ready but the ledger says {}",
                l.ready
            ));
        }
        let unacked: u64 = self.rabbitmq.queues.iter().map(|q| q.unacked).sum();
        let by_consumer: u64 = self
            .clients
            .consumers
            .iter()
            .map(|c| c.unacked.len() as u64)
            .sum();
        if unacked != l.unacked || by_consumer != l.unacked {
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
            + self.service.service_held();
        if self.kafka.log_records() != l.retained {
            return Err(format!(
                "logs hold {} records but the ledger says {} retained",
                self.kafka.log_records(),
                l.retained
            ));
        }
        if held != l.processing {
            return Err(format!(
                "consumers hold {held} but the ledger says {} processing",
                l.processing
            ));
        }
        let live = (l.in_flight + l.ready + l.unacked + l.processing) as usize;
        if live != self.world.copies.live() {
            return Err(format!(
                "{} live copies stored but the ledger counts {live}",
                self.world.copies.live()
            ));
        }
        Ok(())
    }

    /// A full audit that walks every live copy; for tests.
    pub fn audit_deep(&self) -> Result<(), String> {
        self.audit()?;
        let mut counts = [0u64; 4];
        for (_, c) in self.world.copies.iter_live() {
            let i = match c.state {
                CopyState::InFlight => 0,
                CopyState::Ready(_) => 1,
                CopyState::Unacked(..) => 2,
                CopyState::Processing(_) | CopyState::InService(_) => 3,
                s => return Err(format!("terminal state {s:?} in a live slot")),
            };
            counts[i] += 1;
        }
        let l = &self.world.ledger;
        if counts != [l.in_flight, l.ready, l.unacked, l.processing] {
            return Err(format!(
                "walked {counts:?} vs ledger {:?}",
                [l.in_flight, l.ready, l.unacked, l.processing]
            ));
        }
        for (i, q) in self.rabbitmq.queues.iter().enumerate() {
            for slot in q.all_ready() {
                if self.world.copies.get(slot).state != CopyState::Ready(QueueId(i as u32)) {
                    return Err(format!(
                        "{} holds a copy in state {:?}",
                        q.name(),
                        self.world.copies.get(slot).state
                    ));
                }
            }
        }
        Ok(())
    }
}
