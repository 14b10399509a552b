//! The simulation: owns every entity, the event queue, the RNG and the ledger, and applies the
//! RabbitMQ and Redis Pub/Sub rules of `reference/semantics.md`.

use crate::command::{Command, CommandError};
use crate::event::{Event, EventKind, EventSink, Settle, TraceDigest};
use crate::ids::{ChannelId, ConsumerId, ExchangeId, MessageId, ProducerId, QueueId};
use crate::ledger::{CopyState, DeadLetterReason, DropReason, Ledger};
use crate::matching::{glob_matches, headers_match, topic_matches};
use crate::kernel::agenda::Scheduled;
use crate::kernel::World;
use crate::message::{Death, MessageCopy, Slot};
use crate::queue::Queue;
use crate::scenario::{
    self, AckMode, BindingSpec, ConsumerSource, ConsumerSpec, ExchangeType, FailureAction,
    Overflow, Processing, ProducerSpec, PublishTarget, QueueSpec, RatePattern, Scenario,
    ScenarioError,
};
use crate::snapshot::NodeRef;
use crate::time::SimTime;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Live copies beyond this are dropped with [`DropReason::SimulatorCapacity`], so a runaway
/// producer cannot exhaust memory. The drop is counted like any other loss.
pub const MAX_LIVE_COPIES: usize = 5_000_000;

/// Quorum queues cap a consumer's prefetch (RMQ-9).
pub const QUORUM_MAX_PREFETCH: u32 = 2_000;
/// RabbitMQ's default `consumer_timeout`, and how often it is checked (RMQ-16).
pub const DEFAULT_CONSUMER_TIMEOUT_MS: f64 = 1_800_000.0;
const CONSUMER_TIMEOUT_CHECK_US: u64 = 60_000_000;

/// Why a consumer's connection or channel ended.
#[derive(Clone, Debug, PartialEq)]
enum Closure {
    /// The process died or the consumer was removed.
    Crash,
    /// The broker closed the channel (double ack, ack timeout).
    ChannelError(String),
}

pub(crate) use crate::kernel::ms_to_us;

/// Internal scheduled work. Ordered only by (time, insertion sequence).
#[derive(Clone, Debug)]
pub(crate) enum Work {
    ProducerTick {
        producer: ProducerId,
        generation: u32,
    },
    ArriveAtExchange {
        slot: Slot,
        exchange: ExchangeId,
    },
    ArriveAtChannel {
        slot: Slot,
        channel: ChannelId,
    },
    ArriveAtPartition {
        slot: Slot,
        topic: u32,
        partition: u32,
    },
    ArriveAtService {
        slot: Slot,
        service: u32,
    },
    ServiceDone {
        service: u32,
        slot: Slot,
    },
    RequestTimeout {
        service: u32,
        request: u64,
        slot: Slot,
    },
    RetentionCheck {
        topic: u32,
    },
    Poll {
        consumer: ConsumerId,
        epoch: u32,
    },
    BatchArrives {
        consumer: ConsumerId,
        epoch: u32,
    },
    RecordProcessed {
        consumer: ConsumerId,
        epoch: u32,
    },
    SessionTimeout {
        consumer: ConsumerId,
        epoch: u32,
    },
    RebalanceDone {
        group: u32,
        generation: u32,
    },
    OffsetsExpire {
        group: u32,
        since: SimTime,
    },
    /// A subscriber went above its soft output-buffer limit at `since` (RPS-3).
    SoftLimitCheck {
        consumer: ConsumerId,
        epoch: u32,
        since: SimTime,
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
    SettleArrives {
        consumer: ConsumerId,
        tag: u64,
        settle: Settle,
        epoch: u32,
    },
    /// `basic.ack` with `multiple=true` (RMQ-11).
    AckMultiple {
        consumer: ConsumerId,
        up_to: u64,
        epoch: u32,
    },
    /// The periodic consumer-timeout check for one delivery (RMQ-16).
    AckTimeout {
        consumer: ConsumerId,
        tag: u64,
        epoch: u32,
    },
    /// `x-expires`: delete the queue if it is still unused since `since` (RMQ-28).
    QueueExpires {
        queue: QueueId,
        since: SimTime,
    },
    ExpireHead {
        queue: QueueId,
    },
    Scripted {
        index: usize,
    },
}

#[derive(Debug)]
pub(crate) struct Binding {
    pub spec: BindingSpec,
    pub destination: Destination,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Destination {
    Queue(QueueId),
    Exchange(ExchangeId),
}

#[derive(Debug)]
pub(crate) struct Exchange {
    pub name: String,
    pub kind: ExchangeType,
    pub alternate: Option<ExchangeId>,
    pub bindings: Vec<Binding>,
}

/// Where a producer sends, resolved to ids.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target {
    Exchange(ExchangeId),
    Channel(ChannelId),
    Topic(u32),
    Service(u32),
}

/// A producer's spec resolved to ids: targets, interned keys and header sets.
#[derive(Debug, Default)]
pub(crate) struct ProducerPlan {
    pub targets: Vec<Target>,
    pub routing_keys: Vec<u32>,
    pub kafka_keys: Vec<u32>,
    pub header_sets: Vec<u32>,
}

/// The interned id of the empty header set.
const EMPTY_HEADERS: u32 = 0;

#[derive(Debug)]
pub(crate) struct Producer {
    pub spec: ProducerSpec,
    pub plan: ProducerPlan,
    pub removed: bool,
    /// Bumped when the rate changes, so stale ticks are ignored.
    pub generation: u32,
    /// Bumped when the message template is edited, so interned header sets are not reused.
    pub template_version: u32,
    pub sent: u64,
    pub cursor: u64,
    pub started_at: SimTime,
    pub confirms_acked: u64,
    pub confirms_nacked: u64,
    pub returned: u64,
    pub returns: Vec<MessageId>,
    pub nacks: Vec<MessageId>,
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
    /// The prefetch limit in force; 0 means unlimited.
    pub fn effective_prefetch(&self) -> u32 {
        match (self.quorum, self.spec.prefetch) {
            (true, 0) => QUORUM_MAX_PREFETCH,
            (true, p) => p.min(QUORUM_MAX_PREFETCH),
            (false, p) => p,
        }
    }

    fn has_capacity(&self) -> bool {
        let prefetch = self.effective_prefetch();
        self.status == ConsumerStatus::Running
            && (self.spec.ack == AckMode::Auto
                || prefetch == 0
                || (self.unacked.len() as u64) < u64::from(prefetch))
    }
}

/// The simulation. See the crate docs for the model.
pub struct Simulation {
    pub(crate) scenario: Scenario,
    pub(crate) world: World<Work>,
    pub(crate) topics: Vec<crate::families::kafka::Topic>,
    pub(crate) groups: Vec<crate::families::kafka::Group>,
    pub(crate) members: BTreeMap<ConsumerId, crate::families::kafka::Member>,
    pub(crate) services: Vec<crate::families::kafka::Service>,
    pub(crate) request_seq: u64,
    next_transit: u64,
    /// Whether moving messages are kept for drawing; headless runs turn it off.
    pub(crate) track_transits: bool,
    pub(crate) exchanges: Vec<Exchange>,
    pub(crate) queues: Vec<Queue>,
    pub(crate) producers: Vec<Producer>,
    pub(crate) consumers: Vec<Consumer>,
    pub(crate) channels: Vec<String>,
    /// Moving messages keyed by (arrival, key): copies use their slot, log records a counter
    /// above `u32::MAX`.
    pub(crate) transit: BTreeMap<(SimTime, u64), Transit>,
}

/// A copy moving on the wire, for drawing.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Transit {
    pub from: NodeRef,
    pub to: NodeRef,
    pub sent_at: SimTime,
    pub msg: MessageId,
    pub chip: crate::snapshot::Chip,
}

impl Simulation {
    /// Builds the topology of a validated scenario and schedules its producers and script.
    pub fn new(scenario: &Scenario, seed: u64) -> Result<Simulation, ScenarioError> {
        scenario.validate()?;
        let mut sim = Simulation {
            scenario: scenario.clone(),
            world: World::new(seed, ms_to_us(scenario.latency_ms)),
            topics: Vec::new(),
            groups: Vec::new(),
            members: BTreeMap::new(),
            services: Vec::new(),
            request_seq: 0,
            next_transit: u64::from(u32::MAX) + 1,
            track_transits: true,
            exchanges: vec![Exchange {
                name: String::new(),
                kind: ExchangeType::Direct,
                alternate: None,
                bindings: Vec::new(),
            }],
            queues: Vec::new(),
            producers: Vec::new(),
            consumers: Vec::new(),
            channels: Vec::new(),
            transit: BTreeMap::new(),
        };
        let empty = sim.world.header_sets.intern((u32::MAX, 0, 0), BTreeMap::new);
        debug_assert_eq!(empty, EMPTY_HEADERS);
        for x in &scenario.exchanges {
            sim.exchanges.push(Exchange {
                name: x.name.clone(),
                kind: x.kind,
                alternate: None,
                bindings: Vec::new(),
            });
        }
        for (i, x) in scenario.exchanges.iter().enumerate() {
            sim.exchanges[i + 1].alternate = x
                .alternate_exchange
                .as_deref()
                .and_then(|n| sim.exchange_id(n));
        }
        for q in &scenario.queues {
            sim.add_queue(q.clone())
                .map_err(|e| ScenarioError::new("queues", e.to_string()))?;
        }
        for b in &scenario.bindings {
            sim.add_binding(b.clone())
                .map_err(|e| ScenarioError::new("bindings", e.to_string()))?;
        }
        for t in &scenario.topics {
            sim.add_topic(t.clone());
        }
        for g in &scenario.groups {
            sim.add_group(g.clone());
        }
        for s in &scenario.services {
            sim.add_service(s.clone());
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
            sim.world.schedule(SimTime(ms_to_us(s.at_ms)), Work::Scripted { index });
        }
        Ok(sim)
    }

    pub fn now(&self) -> SimTime {
        self.world.now
    }

    /// Keeps (default) or skips the moving-message list that snapshots carry for drawing.
    /// Skipping it changes no event, only what `snapshot().transits` shows.
    pub fn set_track_transits(&mut self, on: bool) {
        self.track_transits = on;
        if !on {
            self.transit.clear();
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
        if let Some(s) = self.world.agenda.pop() {
            self.run(s);
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
        while let Some(at) = self.world.agenda.peek_time() {
            if at > t {
                break;
            }
            if done == max_events {
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
            Work::ProducerTick {
                producer,
                generation,
            } => self.producer_tick(producer, generation),
            Work::ArriveAtExchange { slot, exchange } => {
                self.transit.remove(&(self.world.now, u64::from(slot)));
                self.route_and_enqueue(slot, exchange);
            }
            Work::ArriveAtChannel { slot, channel } => {
                self.transit.remove(&(self.world.now, u64::from(slot)));
                self.pubsub_publish(slot, channel);
            }
            Work::ArriveAtPartition {
                slot,
                topic,
                partition,
            } => {
                self.transit.remove(&(self.world.now, u64::from(slot)));
                self.topic_append(slot, topic, partition);
            }
            Work::ArriveAtService { slot, service } => {
                self.transit.remove(&(self.world.now, u64::from(slot)));
                self.service_arrive(slot, service);
            }
            Work::ServiceDone { service, slot } => self.service_done(service, slot),
            Work::RequestTimeout {
                service,
                request,
                slot,
            } => self.request_timeout(service, request, slot),
            Work::RetentionCheck { topic } => self.retention_check(topic),
            Work::Poll { consumer, epoch } => self.poll(consumer, epoch),
            Work::BatchArrives { consumer, epoch } => self.batch_arrives(consumer, epoch),
            Work::RecordProcessed { consumer, epoch } => self.record_processed(consumer, epoch),
            Work::SessionTimeout { consumer, epoch } => self.session_timeout(consumer, epoch),
            Work::RebalanceDone { group, generation } => self.rebalance_done(group, generation),
            Work::OffsetsExpire { group, since } => self.offsets_expire(group, since),
            Work::SoftLimitCheck {
                consumer,
                epoch,
                since,
            } => {
                let c = &self.consumers[consumer.index()];
                if c.epoch == epoch && c.soft_since == Some(since) {
                    self.disconnect_subscriber(consumer);
                }
            }
            Work::DeliveryArrives {
                consumer,
                slot,
                tag,
                epoch,
            } => {
                self.transit.remove(&(self.world.now, u64::from(slot)));
                self.delivery_arrives(consumer, slot, tag, epoch);
            }
            Work::ProcessingDone { consumer, epoch } => self.processing_done(consumer, epoch),
            Work::SettleArrives {
                consumer,
                tag,
                settle,
                epoch,
            } => self.settle_arrives(consumer, tag, settle, epoch),
            Work::AckMultiple {
                consumer,
                up_to,
                epoch,
            } => self.ack_multiple(consumer, up_to, epoch),
            Work::AckTimeout {
                consumer,
                tag,
                epoch,
            } => {
                let c = &self.consumers[consumer.index()];
                if c.epoch == epoch && c.unacked.contains_key(&tag) {
                    self.close_connection(
                        consumer,
                        ConsumerStatus::Crashed,
                        Closure::ChannelError(
                            "PRECONDITION_FAILED: delivery acknowledgement timed out".into(),
                        ),
                    );
                }
            }
            Work::QueueExpires { queue, since } => {
                let q = &self.queues[queue.index()];
                if !q.deleted && q.unused_since == Some(since) {
                    self.delete_queue(queue);
                }
            }
            Work::ExpireHead { queue } => {
                self.queues[queue.index()].expiry_timer = None;
                self.dispatch(queue);
            }
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
            for q in &mut self.queues {
                q.depth.push(at, (q.ready_len() + q.unacked) as f64);
            }
            self.world.sample_at(at);
            for gid in 0..self.groups.len() {
                let lag = self.group_lag(gid as u32) as f64;
                self.groups[gid].lag_series.push(at, lag);
            }
            self.world.next_sample = self.world.next_sample.plus(crate::SAMPLE_INTERVAL);
        }
    }

    // ---------------------------------------------------------------- lookups

    pub(crate) fn exchange_id(&self, name: &str) -> Option<ExchangeId> {
        self.exchanges
            .iter()
            .position(|x| x.name == name)
            .map(|i| ExchangeId(i as u32))
    }

    pub(crate) fn queue_id(&self, name: &str) -> Option<QueueId> {
        self.queues
            .iter()
            .position(|q| q.name() == name && !q.deleted)
            .map(|i| QueueId(i as u32))
    }

    fn producer_id(&self, name: &str) -> Result<ProducerId, CommandError> {
        self.producers
            .iter()
            .position(|p| p.spec.name == name && !p.removed)
            .map(|i| ProducerId(i as u32))
            .ok_or_else(|| CommandError::UnknownEntity {
                kind: "producer",
                name: name.to_string(),
            })
    }

    fn consumer_id(&self, name: &str) -> Result<ConsumerId, CommandError> {
        self.consumers
            .iter()
            .position(|c| c.spec.name == name && c.status != ConsumerStatus::Removed)
            .map(|i| ConsumerId(i as u32))
            .ok_or_else(|| CommandError::UnknownEntity {
                kind: "consumer",
                name: name.to_string(),
            })
    }

    fn channel_id(&mut self, name: &str) -> ChannelId {
        if let Some(i) = self.channels.iter().position(|c| c == name) {
            return ChannelId(i as u32);
        }
        self.channels.push(name.to_string());
        ChannelId((self.channels.len() - 1) as u32)
    }

    // ---------------------------------------------------------------- producers

    fn rate_at(&self, p: &Producer) -> f64 {
        let elapsed_ms = self.world.now.since(p.started_at) as f64 / 1_000.0;
        match p.spec.rate {
            RatePattern::Manual | RatePattern::Burst { .. } => 0.0,
            RatePattern::Constant { per_sec } | RatePattern::Poisson { per_sec } => per_sec,
            RatePattern::Square {
                high_per_sec,
                low_per_sec,
                period_ms,
                duty,
            } => {
                let phase = (elapsed_ms % period_ms) / period_ms;
                if phase < duty {
                    high_per_sec
                } else {
                    low_per_sec
                }
            }
            RatePattern::Ramp {
                from_per_sec,
                to_per_sec,
                over_ms,
            } => {
                let f = if over_ms <= 0.0 {
                    1.0
                } else {
                    (elapsed_ms / over_ms).min(1.0)
                };
                from_per_sec + (to_per_sec - from_per_sec) * f
            }
        }
    }

    /// Schedules the producer's next publish according to its rate pattern.
    fn schedule_next_tick(&mut self, id: ProducerId) {
        let p = &self.producers[id.index()];
        if p.removed || p.spec.paused || p.spec.limit.is_some_and(|l| p.sent >= l) {
            return;
        }
        let generation = p.generation;
        let gap = match p.spec.rate {
            RatePattern::Manual => return,
            RatePattern::Burst { at_ms, .. } => {
                let at = p.started_at.plus(ms_to_us(at_ms));
                if p.sent > 0 || at < self.world.now {
                    return;
                }
                at.since(self.world.now)
            }
            RatePattern::Poisson { per_sec } if per_sec > 0.0 => {
                (self.world.rng.exponential(1e6 / per_sec)).round().max(1.0) as u64
            }
            _ => {
                let rate = self.rate_at(p);
                if rate <= 0.0 {
                    // Idle phase of a square wave or the start of a ramp from zero: look again soon.
                    if matches!(
                        p.spec.rate,
                        RatePattern::Constant { .. } | RatePattern::Poisson { .. }
                    ) {
                        return;
                    }
                    crate::SAMPLE_INTERVAL
                } else {
                    (1e6 / rate).round().max(1.0) as u64
                }
            }
        };
        self.world.schedule(
            self.world.now.plus(gap),
            Work::ProducerTick {
                producer: id,
                generation,
            },
        );
    }

    fn producer_tick(&mut self, id: ProducerId, generation: u32) {
        let p = &self.producers[id.index()];
        if p.removed || p.spec.paused || p.generation != generation {
            return;
        }
        match p.spec.rate {
            RatePattern::Burst { count, .. } => {
                self.publish_many(id, count, false);
                return;
            }
            RatePattern::Square { .. } | RatePattern::Ramp { .. } if self.rate_at(p) <= 0.0 => {}
            _ => self.publish(id, false),
        }
        self.schedule_next_tick(id);
    }

    fn publish_many(&mut self, id: ProducerId, count: u64, poison: bool) {
        for _ in 0..count {
            let p = &self.producers[id.index()];
            if p.spec.limit.is_some_and(|l| p.sent >= l) {
                break;
            }
            self.publish(id, poison);
        }
    }

    /// Creates one message from the producer's template and sends a copy to each target.
    fn publish(&mut self, id: ProducerId, poison: bool) {
        let p = &mut self.producers[id.index()];
        let i = p.cursor as usize;
        p.cursor += 1;
        p.sent += 1;
        let plan = &p.plan;
        let pick = |ids: &[u32], none: u32| {
            if ids.is_empty() {
                none
            } else {
                ids[i % ids.len()]
            }
        };
        let t = &p.spec.message;
        let priority =
            (!t.priorities.is_empty()).then(|| t.priorities[i % t.priorities.len()].min(255) as u8);
        let msg = MessageId(self.world.next_msg);
        self.world.next_msg += 1;
        self.world.ledger.published += 1;
        let template = MessageCopy {
            msg,
            state: CopyState::InFlight,
            producer: Some(id),
            published_at: self.world.now,
            expires_at: SimTime::MAX,
            ttl: t.ttl_ms.map_or(u64::MAX, ms_to_us),
            queue_seq: 0,
            size: t.size_bytes,
            priority,
            routing_key: pick(&plan.routing_keys, 0),
            headers: pick(&plan.header_sets, EMPTY_HEADERS),
            kafka_key: pick(&plan.kafka_keys, crate::families::kafka::NO_KEY),
            delivery_count: 0,
            redelivered: false,
            poison,
            deaths: None,
        };
        let targets = plan.targets.len();
        self.world.emit(EventKind::Published { msg, producer: id });
        for n in 0..targets {
            if n > 0 {
                self.world.ledger.fanout_copies += 1;
            }
            let slot = self.world.new_copy(template.clone());
            if self.world.copies.live() > MAX_LIVE_COPIES {
                self.world.drop_copy(slot, DropReason::SimulatorCapacity);
                continue;
            }
            let from = NodeRef::Producer(id);
            let (to, work) = match self.producers[id.index()].plan.targets[n] {
                Target::Exchange(exchange) => (
                    NodeRef::Exchange(exchange),
                    Work::ArriveAtExchange { slot, exchange },
                ),
                Target::Channel(channel) => (
                    NodeRef::Channel(channel),
                    Work::ArriveAtChannel { slot, channel },
                ),
                Target::Topic(topic) => {
                    let partition = self.choose_partition(topic, template.kafka_key, template.size);
                    (
                        NodeRef::Partition(topic, partition),
                        Work::ArriveAtPartition {
                            slot,
                            topic,
                            partition,
                        },
                    )
                }
                Target::Service(service) => (
                    NodeRef::Service(service),
                    Work::ArriveAtService { slot, service },
                ),
            };
            self.send(from, to, slot, work);
        }
    }

    /// Resolves a producer's names and template values to ids once, so publishing a message
    /// does no string lookups.
    fn plan(&mut self, id: u32, version: u32, spec: &ProducerSpec) -> ProducerPlan {
        let targets = spec
            .targets
            .iter()
            .map(|t| match t {
                PublishTarget::Exchange(name) => {
                    Target::Exchange(self.exchange_id(name).unwrap_or(ExchangeId(0)))
                }
                PublishTarget::Channel(name) => Target::Channel(self.channel_id(name)),
                PublishTarget::Topic(name) => {
                    Target::Topic(self.topic_id(name).expect("validated topic"))
                }
                PublishTarget::Service(name) => {
                    Target::Service(self.service_id(name).expect("validated service"))
                }
            })
            .collect();
        let m = &spec.message;
        let routing_keys = m
            .routing_keys
            .iter()
            .map(|k| self.world.keys.intern(k.clone(), || k.clone()))
            .collect();
        let kafka_keys = m
            .keys
            .iter()
            .map(|k| self.world.keys.intern(k.clone(), || k.clone()))
            .collect();
        let header_sets = m
            .headers
            .iter()
            .enumerate()
            .map(|(i, h)| self.world.header_sets.intern((id, version, i), || h.clone()))
            .collect();
        ProducerPlan {
            targets,
            routing_keys,
            kafka_keys,
            header_sets,
        }
    }

    /// Puts a stored copy on the wire; `work` runs when it arrives.
    fn send(&mut self, from: NodeRef, to: NodeRef, slot: Slot, work: Work) {
        let arrive = self.world.now.plus(self.world.latency);
        if !self.track_transits {
            self.world.schedule(arrive, work);
            return;
        }
        let chip = self.chip(slot);
        let msg = chip.msg;
        self.transit.insert(
            (arrive, u64::from(slot)),
            Transit {
                from,
                to,
                sent_at: self.world.now,
                msg,
                chip,
            },
        );
        self.world.schedule(arrive, work);
    }

    /// A copy reaching a partition log leaves the store and is counted as retained.
    pub(crate) fn retain_copy(&mut self, slot: Slot) {
        self.world.set_state(slot, CopyState::Retained);
        self.world.copies.release(slot);
    }

    pub(crate) fn next_transit_key(&mut self) -> u64 {
        self.next_transit += 1;
        self.next_transit
    }

    /// Processing time of one message by this consumer, scaled by its slow-down factor.
    pub(crate) fn draw_processing_us(&mut self, cid: ConsumerId) -> u64 {
        let c = &self.consumers[cid.index()];
        let (p, factor) = (c.spec.processing.clone(), c.slow_factor);
        (self.draw_us(&p) as f64 * factor).round() as u64
    }

    pub(crate) fn draw_us(&mut self, p: &Processing) -> u64 {
        let ms = match *p {
            Processing::Fixed { ms } => ms,
            Processing::Exponential { mean_ms } => self.world.rng.exponential(mean_ms),
            Processing::Uniform { min_ms, max_ms } => min_ms + (max_ms - min_ms) * self.world.rng.unit(),
        };
        ms_to_us(ms)
    }

    /// Utilisation bookkeeping: a consumer is busy while it processes something.
    pub(crate) fn set_busy(&mut self, cid: ConsumerId, busy: bool) {
        let c = &mut self.consumers[cid.index()];
        match (busy, c.busy_since) {
            (true, None) => c.busy_since = Some(self.world.now),
            (false, Some(since)) => {
                c.busy_us += self.world.now.since(since);
                c.busy_since = None;
            }
            _ => {}
        }
    }

    // ---------------------------------------------------------------- routing

    fn binding_matches(
        &self,
        kind: ExchangeType,
        b: &BindingSpec,
        key: &str,
        headers: u32,
    ) -> bool {
        match kind {
            ExchangeType::Direct => b.routing_key == key,
            ExchangeType::Fanout => true,
            ExchangeType::Topic => topic_matches(&b.routing_key, key),
            ExchangeType::Headers => headers_match(&b.arguments, self.world.header_sets.get(headers)),
        }
    }

    /// The set of queues a message reaches from `exchange` (RMQ-1..RMQ-7). A set, because a
    /// queue matched by several bindings still gets one copy (RMQ-2).
    fn route(&self, exchange: ExchangeId, key: u32, headers: u32) -> BTreeSet<QueueId> {
        let key = self.world.keys.get(key).as_str();
        let mut queues = BTreeSet::new();
        if exchange == ExchangeId(0) {
            // The default exchange binds every queue by its own name (RMQ-6).
            queues.extend(self.queue_id(key));
            return queues;
        }
        let mut seen = BTreeSet::new();
        let mut todo = vec![exchange];
        while let Some(x) = todo.pop() {
            if !seen.insert(x) {
                continue;
            }
            let ex = &self.exchanges[x.index()];
            let before = queues.len();
            let mut forwarded = false;
            for b in &ex.bindings {
                if self.binding_matches(ex.kind, &b.spec, key, headers) {
                    match b.destination {
                        Destination::Queue(q) => {
                            queues.insert(q);
                        }
                        Destination::Exchange(to) => {
                            forwarded = true;
                            todo.push(to);
                        }
                    }
                }
            }
            // Unroutable at this exchange: try its alternate exchange (RMQ-7).
            if queues.len() == before && !forwarded {
                todo.extend(ex.alternate);
            }
        }
        queues
    }

    fn route_and_enqueue(&mut self, slot: Slot, exchange: ExchangeId) {
        let c = self.world.copies.get(slot);
        let (msg, key, headers, producer) = (c.msg, c.routing_key, c.headers, c.producer);
        let queues: Vec<QueueId> = self.route(exchange, key, headers).into_iter().collect();
        self.world.emit(EventKind::Routed {
            msg,
            exchange,
            queues: queues.clone(),
        });
        let dead_lettered = producer.is_none();
        if queues.is_empty() {
            let mandatory = producer.is_some_and(|p| self.producers[p.index()].spec.mandatory);
            let reason = if dead_lettered {
                DropReason::DeadLetterUnroutable
            } else if mandatory {
                DropReason::Returned
            } else {
                DropReason::Unroutable
            };
            self.world.drop_copy(slot, reason);
            if let Some(p) = producer {
                let p = &mut self.producers[p.index()];
                if mandatory {
                    p.returned += 1;
                    p.returns.push(msg);
                }
                // Unroutable messages are still confirmed, after the return (RMQ-7).
                if p.spec.confirms {
                    p.confirms_acked += 1;
                }
            }
            return;
        }
        let mut accepted_all = true;
        let mut slot = Some(slot);
        let template = self.world.copies.get(slot.expect("set")).clone();
        for (n, q) in queues.iter().enumerate() {
            let s = match slot.take() {
                Some(s) if n == 0 => s,
                _ => {
                    if dead_lettered {
                        self.world.ledger.dead_letter_copies += 1;
                    } else {
                        self.world.ledger.fanout_copies += 1;
                    }
                    let mut copy = template.clone();
                    copy.state = CopyState::InFlight;
                    self.world.new_copy(copy)
                }
            };
            if dead_lettered && self.is_dead_letter_cycle(s, *q) {
                self.world.drop_copy(s, DropReason::DeadLetterUnroutable);
                continue;
            }
            accepted_all &= self.enqueue(*q, s);
        }
        if let Some(p) = producer {
            let p = &mut self.producers[p.index()];
            if p.spec.confirms {
                if accepted_all {
                    p.confirms_acked += 1;
                } else {
                    p.confirms_nacked += 1;
                    p.nacks.push(msg);
                    self.world.emit(EventKind::PublisherNacked {
                        msg,
                        producer: producer.expect("some"),
                    });
                }
            }
        }
    }

    /// A dead-letter cycle is dropped unless the cycle, from the target queue's last death on,
    /// contains a rejection (RMQ-29; `mc.erl` `is_cycle_v2`).
    fn is_dead_letter_cycle(&self, slot: Slot, q: QueueId) -> bool {
        let deaths = self
            .world
            .copies
            .get(slot)
            .deaths
            .as_deref()
            .map_or(&[][..], Vec::as_slice);
        match deaths.iter().rposition(|d| d.queue == q) {
            None => false,
            Some(last) => deaths[last..]
                .iter()
                .all(|d| d.reason != DeadLetterReason::Rejected),
        }
    }

    /// Puts an arriving copy at the tail of a queue, applying overflow and TTL. Returns false
    /// if `reject-publish` refused it.
    fn enqueue(&mut self, q: QueueId, slot: Slot) -> bool {
        let (size, priority, ttl, msg) = {
            let c = self.world.copies.get(slot);
            (c.size, c.priority, c.ttl, c.msg)
        };
        let queue = &mut self.queues[q.index()];
        queue.publish_rate.record(self.world.now.0, 1);
        if queue.spec.overflow != Overflow::DropHead && queue.would_overflow(u64::from(size)) {
            if queue.spec.overflow == Overflow::RejectPublishDlx {
                self.dead_letter(slot, q, DeadLetterReason::Maxlen);
            } else {
                self.world.drop_copy(slot, DropReason::RejectedByQueue);
            }
            return false;
        }
        let level = queue.level_of(priority);
        let seq = queue.push(slot, level, size);
        // The lower of queue and message TTL applies; each queue's copy has its own clock (RMQ-25, RMQ-26).
        let queue_ttl = queue.spec.message_ttl_ms.map_or(u64::MAX, ms_to_us);
        let ttl = ttl.min(queue_ttl);
        let c = self.world.copies.get_mut(slot);
        c.queue_seq = seq;
        c.expires_at = if ttl == u64::MAX {
            SimTime::MAX
        } else {
            self.world.now.plus(ttl)
        };
        self.world.set_state(slot, CopyState::Ready(q));
        self.world.emit(EventKind::Enqueued { msg, queue: q });
        self.enforce_max_length(q);
        self.dispatch(q);
        true
    }

    /// `drop-head`: remove from the head until within the limits (RMQ-23).
    fn enforce_max_length(&mut self, q: QueueId) {
        while self.queues[q.index()].spec.overflow == Overflow::DropHead
            && self.queues[q.index()].is_over_limit()
        {
            let Some(head) = self.queues[q.index()].head() else {
                break;
            };
            let size = self.world.copies.get(head.slot).size;
            self.queues[q.index()].pop_head(size);
            self.dead_letter_or_drop(
                head.slot,
                q,
                DeadLetterReason::Maxlen,
                DropReason::MaxLength,
            );
        }
    }

    /// TTL ran out: dead-lettered with reason `expired`, or removed (RMQ-25, RMQ-29).
    fn expire_or_dead_letter(&mut self, slot: Slot, q: QueueId) {
        if self.queues[q.index()].dead_letter_exchange.is_some() {
            self.dead_letter(slot, q, DeadLetterReason::Expired);
        } else {
            let msg = self.world.copies.get(slot).msg;
            self.world.set_state(slot, CopyState::Expired);
            self.world.emit(EventKind::Expired { msg, queue: q });
        }
    }

    fn dead_letter_or_drop(
        &mut self,
        slot: Slot,
        q: QueueId,
        reason: DeadLetterReason,
        otherwise: DropReason,
    ) {
        if self.queues[q.index()].dead_letter_exchange.is_some() {
            self.dead_letter(slot, q, reason);
        } else {
            self.world.drop_copy(slot, otherwise);
        }
    }

    /// Re-publishes a copy to the queue's dead-letter exchange as a new copy (RMQ-29).
    fn dead_letter(&mut self, slot: Slot, q: QueueId, reason: DeadLetterReason) {
        let queue = &self.queues[q.index()];
        let Some(dlx) = queue.dead_letter_exchange else {
            self.world.drop_copy(slot, DropReason::DeadLetterUnroutable);
            return;
        };
        let dl_key = queue.spec.dead_letter_routing_key.clone();
        let mut copy = self.world.copies.get(slot).clone();
        let msg = copy.msg;
        if reason == DeadLetterReason::Expired {
            self.world.emit(EventKind::Expired { msg, queue: q });
        }
        self.world.set_state(slot, CopyState::DeadLettered(reason));
        self.world.emit(EventKind::DeadLettered {
            msg,
            queue: q,
            reason,
        });
        self.world.ledger.dead_letter_copies += 1;
        let mut deaths = copy.deaths.take().map(|b| *b).unwrap_or_default();
        deaths.push(Death { queue: q, reason });
        copy.deaths = Some(Box::new(deaths));
        copy.state = CopyState::InFlight;
        copy.producer = None;
        // The expiration is removed when dead-lettering (RMQ-29).
        copy.ttl = u64::MAX;
        copy.expires_at = SimTime::MAX;
        copy.redelivered = false;
        copy.delivery_count = 0;
        if let Some(k) = dl_key {
            copy.routing_key = self.world.keys.intern(k.clone(), || k);
        }
        let new_slot = self.world.new_copy(copy);
        // Routed as its own event at the same instant, so chains of dead-lettering are
        // iterative and never deepen the stack.
        self.world.schedule(
            self.world.now,
            Work::ArriveAtExchange {
                slot: new_slot,
                exchange: dlx,
            },
        );
    }

    // ---------------------------------------------------------------- dispatch

    /// Removes expired messages at the head (RMQ-27) and arms the timer for the next head.
    fn expire_head(&mut self, q: QueueId) {
        loop {
            let mut expired = None;
            let mut next = SimTime::MAX;
            for (sub, e) in self.queues[q.index()].expiry_fronts() {
                let at = self.world.copies.get(e.slot).expires_at;
                if at < self.world.now {
                    expired = Some((sub, e.slot));
                    break;
                }
                next = next.min(at);
            }
            let Some((sub, slot)) = expired else {
                let queue = &mut self.queues[q.index()];
                // Just after the expiry instant, so a consumer free at that instant still gets
                // the message (RMQ-25, T=0). One timer per instant: duplicates would pile up.
                let at = next.plus(1);
                if next != SimTime::MAX && queue.expiry_timer.is_none_or(|t| t > at) {
                    queue.expiry_timer = Some(at);
                    self.world.schedule(at, Work::ExpireHead { queue: q });
                }
                return;
            };
            let size = self.world.copies.get(slot).size;
            self.queues[q.index()].pop_front_of(sub, size);
            self.expire_or_dead_letter(slot, q);
        }
    }

    /// Hands ready messages to consumers with free capacity, in round-robin order (RMQ-8, RMQ-9).
    fn dispatch(&mut self, q: QueueId) {
        loop {
            self.expire_head(q);
            let consumers = &self.consumers;
            let queue = &mut self.queues[q.index()];
            let Some(head) = queue.head() else { return };
            // Round-robin runs among the highest-priority consumers only (RMQ-8).
            let prio = |c: &ConsumerId| consumers[c.index()].spec.priority;
            let Some(top) = queue.rotation.iter().map(prio).max() else {
                return;
            };
            let at = queue
                .rotation
                .iter()
                .position(|c| prio(c) == top)
                .unwrap_or(0);
            let Some(cid) = queue.rotation.remove(at) else {
                return;
            };
            let consumer = &self.consumers[cid.index()];
            if !consumer.has_capacity() {
                continue;
            }
            let size = self.world.copies.get(head.slot).size;
            self.queues[q.index()].pop_head(size);
            self.deliver(q, cid, head.slot);
            if self.consumers[cid.index()].has_capacity() {
                self.queues[q.index()].rotation.push_back(cid);
            }
        }
    }

    fn deliver(&mut self, q: QueueId, cid: ConsumerId, slot: Slot) {
        let now = self.world.now;
        let auto = self.consumers[cid.index()].spec.ack == AckMode::Auto;
        let c = self.world.copies.get(slot);
        let (msg, redelivered) = (c.msg, c.redelivered);
        let queue = &mut self.queues[q.index()];
        queue.deliver_rate.record(now.0, 1);
        if redelivered {
            queue.redeliver_rate.record(now.0, 1);
        }
        let tag = if auto {
            // Auto-ack: the broker forgets it the moment it is sent (RMQ-10); no ack is ever
            // sent, so the ack rate does not count it (RMQ-35).
            self.world.set_state(slot, CopyState::Processing(cid));
            self.consumers[cid.index()].held.insert(slot);
            0
        } else {
            queue.unacked += 1;
            let timeout = queue.is_quorum().then(|| {
                queue
                    .spec
                    .consumer_timeout_ms
                    .unwrap_or(DEFAULT_CONSUMER_TIMEOUT_MS)
            });
            self.world.set_state(slot, CopyState::Unacked(q, cid));
            let consumer = &mut self.consumers[cid.index()];
            let tag = consumer.next_tag;
            consumer.next_tag += 1;
            consumer.unacked.insert(tag, slot);
            if let Some(ms) = timeout {
                // The timeout is checked on a one-minute tick, not at the exact instant (RMQ-16).
                let due = now.plus(ms_to_us(ms)).0;
                let check = due.div_ceil(CONSUMER_TIMEOUT_CHECK_US) * CONSUMER_TIMEOUT_CHECK_US;
                let epoch = consumer.epoch;
                self.world.schedule(
                    SimTime(check),
                    Work::AckTimeout {
                        consumer: cid,
                        tag,
                        epoch,
                    },
                );
            }
            tag
        };
        let consumer = &mut self.consumers[cid.index()];
        consumer.delivered += 1;
        if redelivered {
            consumer.redelivered += 1;
        }
        if consumer.log.len() < crate::families::kafka::MAX_LOGGED_DELIVERIES {
            consumer.log.push((msg, redelivered));
        }
        let epoch = consumer.epoch;
        self.world.emit(EventKind::Delivered {
            msg,
            queue: q,
            consumer: cid,
            redelivered,
        });
        self.send_to_consumer(NodeRef::Queue(q), cid, slot, tag, epoch);
    }

    /// Puts a copy on the wire to a consumer.
    fn send_to_consumer(
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
            Work::DeliveryArrives {
                consumer: cid,
                slot,
                tag,
                epoch,
            },
        );
    }

    fn delivery_arrives(&mut self, cid: ConsumerId, slot: Slot, tag: u64, epoch: u32) {
        let consumer = &mut self.consumers[cid.index()];
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
                    Work::SoftLimitCheck {
                        consumer: cid,
                        epoch,
                        since,
                    },
                );
            }
        }
        self.start_next(cid);
    }

    fn start_next(&mut self, cid: ConsumerId) {
        let consumer = &mut self.consumers[cid.index()];
        if consumer.current.is_some() || consumer.status != ConsumerStatus::Running {
            return;
        }
        let Some((tag, slot)) = consumer.buffer.pop_front() else {
            self.set_busy(cid, false);
            return;
        };
        let size = self.world.copies.get(slot).size;
        let consumer = &mut self.consumers[cid.index()];
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
            Work::ProcessingDone {
                consumer: cid,
                epoch,
            },
        );
    }

    fn processing_done(&mut self, cid: ConsumerId, epoch: u32) {
        if self.consumers[cid.index()].epoch != epoch {
            return;
        }
        let Some((tag, slot)) = self.consumers[cid.index()].current.take() else {
            return;
        };
        let copy = self.world.copies.get(slot);
        let (msg, poison, published_at) = (copy.msg, copy.poison, copy.published_at);
        let consumer = &self.consumers[cid.index()];
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
        let consumer = &mut self.consumers[cid.index()];
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
                    Work::AckMultiple {
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
                Work::SettleArrives {
                    consumer: cid,
                    tag,
                    settle,
                    epoch,
                },
            );
        }
        self.start_next(cid);
    }

    fn settle_arrives(&mut self, cid: ConsumerId, tag: u64, settle: Settle, epoch: u32) {
        let consumer = &mut self.consumers[cid.index()];
        if consumer.epoch != epoch {
            // The channel closed first; the message was requeued then (RMQ-15).
            return;
        }
        let Some(slot) = consumer.unacked.remove(&tag) else {
            return;
        };
        let q = self.settle(cid, slot, settle);
        self.queues[q.index()].unblock(cid);
        self.dispatch(q);
    }

    /// `multiple=true`: acks every outstanding tag up to and including `up_to` (RMQ-11).
    fn ack_multiple(&mut self, cid: ConsumerId, up_to: u64, epoch: u32) {
        let consumer = &mut self.consumers[cid.index()];
        if consumer.epoch != epoch {
            return;
        }
        let rest = consumer.unacked.split_off(&(up_to + 1));
        let acked = std::mem::replace(&mut consumer.unacked, rest);
        let mut queue = None;
        for slot in acked.into_values() {
            queue = Some(self.settle(cid, slot, Settle::Ack));
        }
        if let Some(q) = queue {
            self.queues[q.index()].unblock(cid);
            self.dispatch(q);
        }
    }

    /// Applies one consumer settlement at the broker; returns the copy's queue.
    fn settle(&mut self, cid: ConsumerId, slot: Slot, settle: Settle) -> QueueId {
        let CopyState::Unacked(q, _) = self.world.copies.get(slot).state else {
            unreachable!("an unacked tag points at a copy that is not unacked")
        };
        let msg = self.world.copies.get(slot).msg;
        self.queues[q.index()].unacked -= 1;
        self.world.emit(EventKind::Settled {
            msg,
            queue: q,
            consumer: cid,
            settle,
        });
        match settle {
            Settle::Ack => {
                let published_at = self.world.copies.get(slot).published_at;
                self.world.complete(published_at);
                self.queues[q.index()].ack_rate.record(self.world.now.0, 1);
                self.consumers[cid.index()].acked += 1;
                self.world.set_state(slot, CopyState::Acked);
            }
            Settle::Nack { requeue: false } | Settle::Reject { requeue: false } => {
                self.dead_letter_or_drop(slot, q, DeadLetterReason::Rejected, DropReason::Rejected);
            }
            // In 4.3 basic.reject counts toward a quorum queue's delivery limit; basic.nack does not (RMQ-30).
            Settle::Nack { requeue: true } => self.requeue(q, slot, false),
            Settle::Reject { requeue: true } => self.requeue(q, slot, true),
        }
        q
    }

    /// Returns an unacked copy to its queue, flagged redelivered (RMQ-13, RMQ-14, RMQ-30).
    fn requeue(&mut self, q: QueueId, slot: Slot, counts: bool) {
        let limit = self.queues[q.index()].delivery_limit();
        let c = self.world.copies.get_mut(slot);
        c.redelivered = true;
        if counts && self.queues[q.index()].is_quorum() {
            c.delivery_count += 1;
        }
        let (msg, seq, size, priority, count) =
            (c.msg, c.queue_seq, c.size, c.priority, c.delivery_count);
        if limit.is_some_and(|l| count > l) {
            self.dead_letter_or_drop(
                slot,
                q,
                DeadLetterReason::DeliveryLimit,
                DropReason::DeliveryLimit,
            );
            return;
        }
        let queue = &mut self.queues[q.index()];
        let level = queue.level_of(priority);
        queue.requeue(slot, seq, level, size);
        self.world.set_state(slot, CopyState::Ready(q));
        self.world.emit(EventKind::Requeued { msg, queue: q });
        self.enforce_max_length(q);
    }

    // ---------------------------------------------------------------- Redis Pub/Sub

    /// `PUBLISH`: a copy to every matching subscription present now; none means gone (RPS-1, RPS-2).
    fn pubsub_publish(&mut self, slot: Slot, channel: ChannelId) {
        let name = &self.channels[channel.index()];
        let mut receivers = Vec::new();
        for (i, c) in self.consumers.iter().enumerate() {
            if c.status != ConsumerStatus::Running {
                continue;
            }
            if let ConsumerSource::Subscribe { channels, patterns } = &c.spec.source {
                // A client's subscriptions are sets: listing one twice is still one (RPS-2).
                let by_name = usize::from(channels.iter().any(|ch| ch == name));
                let by_pattern = patterns
                    .iter()
                    .filter(|p| glob_matches(p, name))
                    .collect::<BTreeSet<_>>()
                    .len();
                let n = by_name + by_pattern;
                receivers.extend(std::iter::repeat_n(ConsumerId(i as u32), n));
            }
        }
        let msg = self.world.copies.get(slot).msg;
        self.world.emit(EventKind::ChannelPublished {
            msg,
            channel,
            receivers: receivers.len() as u32,
        });
        if receivers.is_empty() {
            self.world.drop_copy(slot, DropReason::NoSubscriber);
            return;
        }
        let template = self.world.copies.get(slot).clone();
        for (n, cid) in receivers.into_iter().enumerate() {
            let s = if n == 0 {
                slot
            } else {
                self.world.ledger.fanout_copies += 1;
                self.world.new_copy(template.clone())
            };
            self.world.set_state(s, CopyState::Processing(cid));
            let consumer = &mut self.consumers[cid.index()];
            consumer.held.insert(s);
            consumer.delivered += 1;
            if consumer.log.len() < crate::families::kafka::MAX_LOGGED_DELIVERIES {
                consumer.log.push((msg, false));
            }
            let epoch = consumer.epoch;
            self.world.emit(EventKind::PubSubDelivered { msg, consumer: cid });
            self.send_to_consumer(NodeRef::Channel(channel), cid, s, 0, epoch);
        }
    }

    /// Output buffer over its limit: the client is closed and its buffered messages lost (RPS-3).
    fn disconnect_subscriber(&mut self, cid: ConsumerId) {
        let lost = self.drop_held(cid, DropReason::SubscriberDisconnected);
        self.consumers[cid.index()].status = ConsumerStatus::Disconnected;
        self.world.emit(EventKind::SubscriberDisconnected {
            consumer: cid,
            lost,
        });
    }

    /// Ends the consumer's connection epoch and drops every copy it holds that the broker has
    /// already forgotten (auto-ack, Pub/Sub).
    fn drop_held(&mut self, cid: ConsumerId, reason: DropReason) -> u32 {
        let consumer = &mut self.consumers[cid.index()];
        consumer.epoch += 1;
        consumer.buffer.clear();
        consumer.buffer_bytes = 0;
        consumer.soft_since = None;
        consumer.current = None;
        consumer.pending_acks = 0;
        let held = std::mem::take(&mut consumer.held);
        self.set_busy(cid, false);
        self.transit.retain(|_, t| t.to != NodeRef::Consumer(cid));
        for s in &held {
            self.world.drop_copy(*s, reason);
        }
        held.len() as u32
    }

    // ---------------------------------------------------------------- failures

    /// The consumer's connection or channel ends: unacked deliveries are requeued, auto-ack ones
    /// are lost (RMQ-10, RMQ-15).
    fn close_connection(&mut self, cid: ConsumerId, status: ConsumerStatus, why: Closure) {
        let lost = self.drop_held(cid, DropReason::LostInConsumerCrash);
        let consumer = &mut self.consumers[cid.index()];
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
            self.queues[q.index()].remove_consumer(cid);
            for slot in unacked.values() {
                self.queues[q.index()].unacked -= 1;
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

    fn subscribe(&mut self, cid: ConsumerId) {
        let consumer = &mut self.consumers[cid.index()];
        consumer.status = ConsumerStatus::Running;
        if consumer.group.is_some() {
            self.join_group(cid);
            return;
        }
        if let Some(q) = consumer.queue {
            let queue = &mut self.queues[q.index()];
            queue.add_consumer(cid);
            queue.unblock(cid);
            queue.unused_since = None;
            self.dispatch(q);
        }
    }

    /// Starts the `x-expires` clock when a queue has no consumers left (RMQ-28).
    fn mark_unused_if_idle(&mut self, q: QueueId) {
        let queue = &mut self.queues[q.index()];
        let Some(ms) = queue.spec.expires_ms else {
            return;
        };
        if queue.consumers.is_empty() && queue.unused_since.is_none() && !queue.deleted {
            queue.unused_since = Some(self.world.now);
            let since = self.world.now;
            self.world.schedule(
                self.world.now.plus(ms_to_us(ms)),
                Work::QueueExpires { queue: q, since },
            );
        }
    }

    /// Deletes a queue: its bindings go and its messages are dropped, not dead-lettered (RMQ-28).
    fn delete_queue(&mut self, q: QueueId) {
        self.queues[q.index()].deleted = true;
        for x in &mut self.exchanges {
            x.bindings
                .retain(|b| b.destination != Destination::Queue(q));
        }
        let ready: Vec<Slot> = self.queues[q.index()].all_ready().collect();
        for slot in &ready {
            let size = self.world.copies.get(*slot).size;
            self.queues[q.index()].pop_head(size);
            self.world.drop_copy(*slot, DropReason::QueueDeleted);
        }
        self.world.emit(EventKind::QueueDeleted {
            queue: q,
            dropped: ready.len() as u32,
        });
    }

    // ---------------------------------------------------------------- building

    fn add_queue(&mut self, spec: QueueSpec) -> Result<QueueId, CommandError> {
        if self.queue_id(&spec.name).is_some() {
            return Err(CommandError::Duplicate {
                kind: "queue",
                name: spec.name,
            });
        }
        let known = |n: &str| self.exchange_id(n).is_some();
        scenario::validate_queue("queue", &spec, &known)?;
        let dlx = spec
            .dead_letter_exchange
            .as_deref()
            .and_then(|n| self.exchange_id(n));
        self.queues.push(Queue::new(spec, dlx));
        let id = QueueId((self.queues.len() - 1) as u32);
        self.mark_unused_if_idle(id);
        Ok(id)
    }

    fn resolve_binding(
        &self,
        spec: &BindingSpec,
    ) -> Result<(ExchangeId, Destination), CommandError> {
        let unknown = |kind, name: &str| CommandError::UnknownEntity {
            kind,
            name: name.to_string(),
        };
        if spec.exchange.is_empty() || spec.to_exchange.as_deref() == Some("") {
            return Err(CommandError::NotApplicable {
                reason: "ACCESS_REFUSED: the default exchange cannot be bound or unbound; every queue is bound to it by its own name".into(),
            });
        }
        let from = self
            .exchange_id(&spec.exchange)
            .ok_or_else(|| unknown("exchange", &spec.exchange))?;
        let to = match (&spec.queue, &spec.to_exchange) {
            (Some(q), None) => {
                Destination::Queue(self.queue_id(q).ok_or_else(|| unknown("queue", q))?)
            }
            (None, Some(x)) => Destination::Exchange(
                self.exchange_id(x)
                    .filter(|x| *x != ExchangeId(0))
                    .ok_or_else(|| unknown("exchange", x))?,
            ),
            _ => {
                return Err(ScenarioError::new(
                    "binding",
                    "set exactly one of `queue` and `to_exchange`",
                )
                .into())
            }
        };
        Ok((from, to))
    }

    fn add_binding(&mut self, spec: BindingSpec) -> Result<(), CommandError> {
        let (from, to) = self.resolve_binding(&spec)?;
        if self.exchanges[from.index()].kind == ExchangeType::Headers {
            crate::matching::headers_mode(&spec.arguments)
                .map_err(|r| ScenarioError::new("binding.arguments.x-match", r))?;
        }
        if let Destination::Exchange(to) = to {
            if self.reaches(to, from) {
                return Err(ScenarioError::new(
                    "binding.to_exchange",
                    "this binding would close a cycle of exchanges",
                )
                .into());
            }
        }
        // Binding twice is idempotent in RabbitMQ.
        if !self.exchanges[from.index()]
            .bindings
            .iter()
            .any(|b| b.spec == spec)
        {
            self.exchanges[from.index()].bindings.push(Binding {
                spec,
                destination: to,
            });
        }
        Ok(())
    }

    fn reaches(&self, from: ExchangeId, target: ExchangeId) -> bool {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from];
        while let Some(x) = todo.pop() {
            if x == target {
                return true;
            }
            if seen.insert(x) {
                let ex = &self.exchanges[x.index()];
                todo.extend(ex.bindings.iter().filter_map(|b| match b.destination {
                    Destination::Exchange(e) => Some(e),
                    Destination::Queue(_) => None,
                }));
                todo.extend(ex.alternate);
            }
        }
        false
    }

    fn check_producer(&self, spec: &ProducerSpec) -> Result<(), ScenarioError> {
        let known = scenario::Known {
            exchange: &|n| self.exchange_id(n).is_some(),
            topic: &|n| self.topic_id(n).is_some(),
            service: &|n| self.service_id(n).is_some(),
        };
        scenario::validate_producer("producer", spec, &known)
    }

    fn check_consumer(&self, spec: &ConsumerSpec) -> Result<(), ScenarioError> {
        let queue_known = |n: &str| self.queue_id(n).is_some();
        let group_known = |n: &str| self.group_id(n).is_some();
        scenario::validate_consumer("consumer", spec, &queue_known, &group_known)
    }

    fn add_producer(&mut self, spec: ProducerSpec) -> Result<ProducerId, CommandError> {
        if self.producer_id(&spec.name).is_ok() {
            return Err(CommandError::Duplicate {
                kind: "producer",
                name: spec.name,
            });
        }
        self.check_producer(&spec)?;
        let id = self.producers.len() as u32;
        let plan = self.plan(id, 0, &spec);
        self.producers.push(Producer {
            plan,
            spec,
            removed: false,
            generation: 0,
            template_version: 0,
            sent: 0,
            cursor: 0,
            started_at: self.world.now,
            confirms_acked: 0,
            confirms_nacked: 0,
            returned: 0,
            returns: Vec::new(),
            nacks: Vec::new(),
        });
        let id = ProducerId((self.producers.len() - 1) as u32);
        self.schedule_next_tick(id);
        Ok(id)
    }

    fn add_consumer(&mut self, spec: ConsumerSpec) -> Result<ConsumerId, CommandError> {
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
        let quorum = queue.is_some_and(|q| self.queues[q.index()].is_quorum());
        let stopped = spec.stopped;
        self.consumers.push(Consumer {
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
        let id = ConsumerId((self.consumers.len() - 1) as u32);
        if !stopped {
            self.subscribe(id);
        }
        Ok(id)
    }

    // ---------------------------------------------------------------- commands

    /// Applies a command at the current time. A refused command changes nothing.
    pub fn apply(&mut self, command: Command) -> Result<(), CommandError> {
        let summary = serde_json::to_string(&command).unwrap_or_default();
        match command {
            Command::CrashConsumer { consumer } => {
                let id = self.consumer_id(&consumer)?;
                if self.consumers[id.index()].status != ConsumerStatus::Running {
                    return Err(CommandError::NotApplicable {
                        reason: format!("{consumer} is not running"),
                    });
                }
                self.world.emit(EventKind::CommandApplied { summary });
                self.close_connection(id, ConsumerStatus::Crashed, Closure::Crash);
                return Ok(());
            }
            Command::RestartConsumer { consumer } => {
                let id = self.consumer_id(&consumer)?;
                if self.consumers[id.index()].status == ConsumerStatus::Running {
                    return Err(CommandError::NotApplicable {
                        reason: format!("{consumer} is already running"),
                    });
                }
                self.world.emit(EventKind::CommandApplied { summary });
                self.subscribe(id);
                self.world.emit(EventKind::ConsumerRestarted { consumer: id });
                return Ok(());
            }
            Command::SlowConsumer { consumer, factor } => {
                let id = self.consumer_id(&consumer)?;
                if !factor.is_finite() || !(0.01..=1000.0).contains(&factor) {
                    return Err(ScenarioError::new(
                        "factor",
                        format!("must be between 0.01 and 1000, got {factor}"),
                    )
                    .into());
                }
                self.consumers[id.index()].slow_factor = factor;
            }
            Command::PauseProducer { producer } => {
                let id = self.producer_id(&producer)?;
                let p = &mut self.producers[id.index()];
                p.spec.paused = true;
                p.generation += 1;
            }
            Command::ResumeProducer { producer } => {
                let id = self.producer_id(&producer)?;
                let p = &mut self.producers[id.index()];
                if p.spec.paused {
                    p.spec.paused = false;
                    p.generation += 1;
                    self.schedule_next_tick(id);
                }
            }
            Command::SetRate { producer, rate } => {
                let id = self.producer_id(&producer)?;
                scenario::validate_rate("rate", &rate)?;
                let p = &mut self.producers[id.index()];
                p.spec.rate = rate;
                p.generation += 1;
                p.started_at = self.world.now;
                p.sent = p.sent.min(p.spec.limit.unwrap_or(u64::MAX));
                self.schedule_next_tick(id);
            }
            Command::Burst { producer, count } => {
                let id = self.producer_id(&producer)?;
                if count > scenario::limits::MAX_BURST {
                    return Err(ScenarioError::new(
                        "count",
                        format!("a burst is at most {}", scenario::limits::MAX_BURST),
                    )
                    .into());
                }
                self.world.emit(EventKind::CommandApplied { summary });
                self.publish_many(id, count, false);
                return Ok(());
            }
            Command::Poison { producer } => {
                let id = self.producer_id(&producer)?;
                self.world.emit(EventKind::CommandApplied { summary });
                self.publish(id, true);
                return Ok(());
            }
            Command::AddQueue { queue } => {
                self.add_queue(queue)?;
            }
            Command::UpdateQueue { queue } => self.update_queue(queue)?,
            Command::AddBinding { binding } => self.add_binding(binding)?,
            Command::RemoveBinding { binding } => {
                let (from, _) = self.resolve_binding(&binding)?;
                let bindings = &mut self.exchanges[from.index()].bindings;
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
                self.add_producer(producer)?;
            }
            Command::UpdateProducer { producer } => {
                let id = self.producer_id(&producer.name)?;
                self.check_producer(&producer)?;
                let version = self.producers[id.index()].template_version + 1;
                let plan = self.plan(id.0, version, &producer);
                let p = &mut self.producers[id.index()];
                let rate_changed = p.spec.rate != producer.rate || p.spec.paused != producer.paused;
                p.spec = producer;
                p.plan = plan;
                p.template_version = version;
                if rate_changed {
                    p.generation += 1;
                    p.started_at = self.world.now;
                    self.schedule_next_tick(id);
                }
            }
            Command::RemoveProducer { producer } => {
                let id = self.producer_id(&producer)?;
                self.producers[id.index()].removed = true;
            }
            Command::AddConsumer { consumer } => {
                self.add_consumer(consumer)?;
            }
            Command::UpdateConsumer { consumer } => self.update_consumer(consumer)?,
            Command::DoubleAck { consumer } => {
                let id = self.consumer_id(&consumer)?;
                let c = &self.consumers[id.index()];
                if c.status != ConsumerStatus::Running || c.spec.ack == AckMode::Auto {
                    return Err(CommandError::NotApplicable {
                        reason: format!("{consumer} must be running with manual acks"),
                    });
                }
                self.world.emit(EventKind::CommandApplied { summary });
                self.close_connection(
                    id,
                    ConsumerStatus::Crashed,
                    Closure::ChannelError("PRECONDITION_FAILED: unknown delivery tag".into()),
                );
                return Ok(());
            }
            Command::AddGroup { group } => {
                if self.group_id(&group.name).is_some() {
                    return Err(CommandError::Duplicate {
                        kind: "group",
                        name: group.name,
                    });
                }
                scenario::validate_group("group", &group, &|t| self.topic_id(t).is_some())?;
                self.add_group(group);
            }
            Command::ResetOffsets { group, to } => {
                let gid = self
                    .group_id(&group)
                    .ok_or_else(|| CommandError::UnknownEntity {
                        kind: "group",
                        name: group.clone(),
                    })?;
                if let crate::command::OffsetTarget::TimestampMs(ms) = to {
                    scenario::check_ms("to.timestamp_ms", ms)?;
                }
                self.reset_offsets(gid, &to);
            }
            Command::RemoveConsumer { consumer } => {
                let id = self.consumer_id(&consumer)?;
                self.world.emit(EventKind::CommandApplied { summary });
                self.close_connection(id, ConsumerStatus::Removed, Closure::Crash);
                return Ok(());
            }
        }
        self.world.emit(EventKind::CommandApplied { summary });
        Ok(())
    }

    fn update_queue(&mut self, spec: QueueSpec) -> Result<(), CommandError> {
        let id = self
            .queue_id(&spec.name)
            .ok_or_else(|| CommandError::UnknownEntity {
                kind: "queue",
                name: spec.name.clone(),
            })?;
        let known = |n: &str| self.exchange_id(n).is_some();
        scenario::validate_queue("queue", &spec, &known)?;
        let q = &self.queues[id.index()];
        if q.spec.kind != spec.kind || q.spec.max_priority != spec.max_priority {
            return Err(CommandError::NotApplicable {
                reason: "a queue's type and x-max-priority are fixed when it is declared; declare a new queue instead".into(),
            });
        }
        let dlx = spec
            .dead_letter_exchange
            .as_deref()
            .and_then(|n| self.exchange_id(n));
        let q = &mut self.queues[id.index()];
        q.spec = spec;
        q.dead_letter_exchange = dlx;
        self.mark_unused_if_idle(id);
        self.enforce_max_length(id);
        self.dispatch(id);
        Ok(())
    }

    fn update_consumer(&mut self, spec: ConsumerSpec) -> Result<(), CommandError> {
        let id = self.consumer_id(&spec.name)?;
        self.check_consumer(&spec)?;
        let c = &mut self.consumers[id.index()];
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
            self.queues[q.index()].unblock(id);
            self.dispatch(q);
        }
        Ok(())
    }

    // ---------------------------------------------------------------- audit

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
        let ready: u64 = self.queues.iter().map(Queue::ready_len).sum();
        if ready != l.ready {
            return Err(format!(
                "queues hold {ready} ready but the ledger says {}",
                l.ready
            ));
        }
        let unacked: u64 = self.queues.iter().map(|q| q.unacked).sum();
        let by_consumer: u64 = self.consumers.iter().map(|c| c.unacked.len() as u64).sum();
        if unacked != l.unacked || by_consumer != l.unacked {
            return Err(format!(
                "unacked: queues {unacked}, consumers {by_consumer}, ledger {}",
                l.unacked
            ));
        }
        let held: u64 = self
            .consumers
            .iter()
            .map(|c| c.held.len() as u64)
            .sum::<u64>()
            + self.service_held();
        if self.log_records() != l.retained {
            return Err(format!(
                "logs hold {} records but the ledger says {} retained",
                self.log_records(),
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
        for (i, q) in self.queues.iter().enumerate() {
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
