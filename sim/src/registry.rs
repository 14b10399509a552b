//! The registry: where the engine hands what clients do to the family that owns the target or
//! the consumer, and the command to the family it names. The one place that lists the families.

use crate::clients::producers::{Outgoing, Route};
use crate::clients::{ClientWork, Closure, ConsumerStatus, Cx, Finished, StageInput, StepOutcome};
use crate::command::{at_cap, Command, CommandError};
use crate::engine::Simulation;
use crate::event::EventKind;
use crate::families::jms::JmsWork;
use crate::families::kafka::replication::Cluster;
use crate::families::kafka::{Kafka, KafkaWork};
use crate::families::pulsar::{PulsarWork, Sender};
use crate::families::rabbitmq::Exchange;
use crate::families::rabbitmq::RabbitMqWork;
use crate::families::redis_pubsub::RedisPubSubWork;
use crate::families::redis_streams::{ClaimCall, StreamsWork};
use crate::families::service::ServiceWork;
use crate::families::sqs::queue::MsgState;
use crate::families::sqs::{Sqs, SqsWork};
use crate::families::zeromq::ZeroMqWork;
use crate::ids::{ConsumerId, ExchangeId, ProducerId, SqsQueueId};
use crate::ids::{JmsStore, QueueId};
use crate::kernel::World;
use crate::ledger::CopyState;
use crate::message::Slot;
use crate::queue::Queue;
use crate::scenario::ScenarioError;
use crate::scenario::{
    self, AckMode, ConsumerSource, ConsumerSpec, ProducerSpec, PublishTarget, Scenario,
};
use crate::wire::NodeRef;

/// Scheduled work: one variant per family, each family's own enum inside, plus the client
/// runtime's and the script's. Ordered only by (time, insertion sequence).
#[derive(Clone, Debug)]
pub(crate) enum Work {
    Client(ClientWork),
    RabbitMq(RabbitMqWork),
    RedisPubSub(RedisPubSubWork),
    Kafka(KafkaWork),
    Service(ServiceWork),
    Scripted { index: usize },
    Sqs(SqsWork),
    Pulsar(PulsarWork),
    Jms(JmsWork),
    RedisStreams(StreamsWork),
    ZeroMq(ZeroMqWork),
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
    Service(ServiceWork),
    Sqs(SqsWork),
    Pulsar(PulsarWork),
    Jms(JmsWork),
    RedisStreams(StreamsWork),
    ZeroMq(ZeroMqWork)
);

/// Copies the families hold, by ledger state.
pub(crate) struct Holdings {
    pub ready: u64,
    pub unacked: u64,
    /// Of `unacked`, those no consumer's unacked map lists: SQS in-flight messages, which the
    /// queue holds whatever became of the consumer that received them.
    pub leased: u64,
    pub retained: u64,
    pub in_service: u64,
    /// Finished copies whose slots stay taken while a consumer still reads them.
    pub pinned: u64,
    /// Retained copies a log keeps in the copy store (Pulsar entries hand them to consumers).
    pub log_slots: u64,
    /// Copies in ZeroMQ processes' pipes and blocked sends.
    pub piped: u64,
}

/// A context for one family's rules (`cx!(sim, kafka)`), or for the client runtime alone
/// (`cx!(sim)`): split borrows of the simulation's fields.
macro_rules! cx {
    ($sim:expr, $family:ident) => {
        Cx {
            family: &mut $sim.$family,
            world: &mut $sim.world,
            clients: &mut $sim.clients,
            wire: &mut $sim.wire,
        }
    };
    ($sim:expr) => {
        Cx {
            family: (),
            world: &mut $sim.world,
            clients: &mut $sim.clients,
            wire: &mut $sim.wire,
        }
    };
}

/// Where a copy published to `target` arrives, and the work that runs then. Kafka's producer
/// picks the partition before sending (KAF-3, KAF-4); SQS keeps what the message was sent with.
fn arrival(
    kafka: &mut Kafka,
    sqs: &mut Sqs,
    world: &mut World<Work>,
    target: NodeRef,
    slot: Slot,
    outgoing: &Outgoing,
) -> (NodeRef, Work) {
    match target {
        NodeRef::Exchange(exchange) => (
            target,
            RabbitMqWork::ArriveAtExchange { slot, exchange }.into(),
        ),
        NodeRef::Channel(channel) => (
            target,
            RedisPubSubWork::ArriveAtChannel { slot, channel }.into(),
        ),
        NodeRef::Topic(topic) => {
            let partition = kafka.choose_partition(world, topic, outgoing.key, outgoing.size);
            let work = KafkaWork::ArriveAtPartition {
                slot,
                topic,
                partition,
            };
            (NodeRef::Partition(topic, partition), work.into())
        }
        NodeRef::Service(service) => (
            target,
            ServiceWork::ArriveAtService { slot, service }.into(),
        ),
        NodeRef::SqsQueue(queue) => {
            sqs.sending(slot, outgoing);
            (target, SqsWork::SendArrives { slot, queue }.into())
        }
        NodeRef::PulsarTopic(topic) => {
            let producer = world.copies.get(slot).producer.expect("a producer's copy");
            let sender = Sender::Producer(producer);
            let work = PulsarWork::ArriveAtTopic {
                slot,
                topic,
                sender,
            };
            (target, work.into())
        }
        NodeRef::JmsQueue(queue) => (target, JmsWork::ArriveAtQueue { slot, queue }.into()),
        NodeRef::JmsTopic(topic) => (target, JmsWork::ArriveAtTopic { slot, topic }.into()),
        NodeRef::Stream(stream) => {
            let id = outgoing.stream_id;
            (target, StreamsWork::Xadd { slot, stream, id }.into())
        }
        NodeRef::Producer(_)
        | NodeRef::Queue(_)
        | NodeRef::Consumer(_)
        | NodeRef::Partition(..)
        | NodeRef::PulsarPartition(..)
        | NodeRef::KafkaBroker(_)
        | NodeRef::RabbitMqNode(_)
        | NodeRef::JmsSubscription(_)
        | NodeRef::ZmqSocket(_) => {
            unreachable!("a producer publishes to an exchange, a channel, a topic or a service")
        }
    }
}

impl Simulation {
    /// Builds each family's entities from a validated scenario.
    pub(crate) fn build_families(&mut self, scenario: &Scenario) -> Result<(), ScenarioError> {
        if let Some(cluster) = &scenario.rabbitmq {
            self.rabbitmq.set_cluster(cluster);
        }
        for x in &scenario.exchanges {
            self.rabbitmq.exchanges.push(Exchange {
                name: x.name.clone(),
                kind: x.kind,
                alternate: None,
                bindings: Vec::new(),
            });
        }
        for (i, x) in scenario.exchanges.iter().enumerate() {
            self.rabbitmq.exchanges[i + 1].alternate = x
                .alternate_exchange
                .as_deref()
                .and_then(|n| self.rabbitmq.exchange_id(n));
        }
        for q in &scenario.queues {
            cx!(self, rabbitmq)
                .add_queue(q.clone())
                .map_err(|e| ScenarioError::new("queues", e.to_string()))?;
        }
        for b in &scenario.bindings {
            cx!(self, rabbitmq)
                .add_binding(b.clone())
                .map_err(|e| ScenarioError::new("bindings", e.to_string()))?;
        }
        self.kafka.cluster = scenario.kafka.clone().map(Cluster::new);
        for t in &scenario.topics {
            cx!(self, kafka).add_topic(t.clone());
        }
        for g in &scenario.groups {
            cx!(self, kafka).add_group(g.clone());
        }
        for s in &scenario.services {
            cx!(self, service).add_service(s.clone());
        }
        for q in &scenario.sqs_queues {
            cx!(self, sqs).push_queue(q.clone());
        }
        if let Some(p) = &scenario.pulsar {
            cx!(self, pulsar).build(p);
        }
        cx!(self, jms).build(scenario.jms.as_ref());
        for s in &scenario.streams {
            cx!(self, streams).push_stream(s.clone());
        }
        if let Some(z) = &scenario.zeromq {
            let latency = self.world.latency;
            cx!(self, zeromq).build(z, latency);
        }
        Ok(())
    }

    /// Runs one work item in the client runtime or the family that scheduled it.
    pub(crate) fn run_work(&mut self, work: Work) {
        match work {
            Work::Client(w) => self.run_client(w),
            Work::RabbitMq(w) => cx!(self, rabbitmq).run_rabbitmq(w),
            Work::RedisPubSub(w) => cx!(self, redis).run_redis_pubsub(w),
            Work::Kafka(KafkaWork::RecordProcessed { consumer, epoch })
                if self.clients.consumers[consumer.index()]
                    .spec
                    .stage
                    .is_some() =>
            {
                self.stage_record_processed(consumer, epoch)
            }
            Work::Kafka(w) => cx!(self, kafka).run_kafka(w),
            Work::Service(w) => cx!(self, service).run_service(w),
            Work::Pulsar(w) => cx!(self, pulsar).run_pulsar(w),
            Work::Jms(w) => cx!(self, jms).run_jms(w),
            Work::ZeroMq(w) => cx!(self, zeromq).run_zeromq(w),
            Work::Scripted { .. } => unreachable!("the engine runs the script"),
            Work::Sqs(w) => cx!(self, sqs).run_sqs(w),
            Work::RedisStreams(w) => cx!(self, streams).run_redis_streams(w),
        }
    }

    /// What the families hold, to audit against the ledger.
    pub(crate) fn family_holdings(&self) -> Holdings {
        let sqs_in_flight = self.sqs.in_flight();
        Holdings {
            ready: self
                .rabbitmq
                .queues
                .iter()
                .map(Queue::ready_len)
                .sum::<u64>()
                + self.sqs.queued()
                + self.jms.pending_total(),
            unacked: self.rabbitmq.queues.iter().map(|q| q.unacked).sum::<u64>()
                + sqs_in_flight
                + self.jms.in_flight_total(),
            leased: sqs_in_flight,
            retained: self.kafka.log_records()
                + self.pulsar.stored_messages()
                + self.streams.stored_entries(),
            in_service: self.service.service_held(),
            pinned: (self.sqs.pinned().count() + self.streams.pinned().count()) as u64,
            log_slots: self.pulsar.stored_messages() + self.streams.stored_entries(),
            piped: self.zeromq.piped(),
        }
    }

    /// Walks every copy a family stores and checks its state names where it is.
    pub(crate) fn audit_families_deep(&self) -> Result<(), String> {
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
        for (i, q) in self.sqs.queues.iter().enumerate() {
            let id = SqsQueueId(i as u32);
            for m in q.messages.values() {
                let expected = match m.state {
                    MsgState::InFlight { consumer, .. } => CopyState::SqsInFlight(id, consumer),
                    MsgState::Delayed { .. } | MsgState::Visible => CopyState::SqsQueued(id),
                };
                let state = self.world.copies.get(m.slot).state;
                if state != expected {
                    return Err(format!("{} holds {} in state {state:?}", q.name(), m.msg));
                }
            }
        }
        for slot in self.sqs.pinned() {
            let state = self.world.copies.get(slot).state;
            if !state.is_terminal() {
                return Err(format!("a pinned SQS copy is in state {state:?}"));
            }
        }
        if let Some(slot) = self.sqs.read_slots().find(|s| {
            let state = self.world.copies.get(*s).state;
            state.is_terminal() && !self.sqs.pinned().any(|p| p == *s)
        }) {
            return Err(format!("a consumer reads slot {slot}, which is free"));
        }
        let (stored, batched) = self.pulsar.held_slots();
        for (slots, state) in [
            (stored, CopyState::Retained),
            (batched, CopyState::InFlight),
        ] {
            for slot in slots {
                if self.world.copies.get(slot).state != state {
                    return Err(format!(
                        "a Pulsar {state:?} copy is in state {:?}",
                        self.world.copies.get(slot).state
                    ));
                }
            }
        }
        for slot in self.streams.entry_slots() {
            let state = self.world.copies.get(slot).state;
            if state != CopyState::Retained {
                return Err(format!("a stream entry's copy is in state {state:?}"));
            }
        }
        if let Some(slot) = self.streams.pinned().find(|s| {
            let state = self.world.copies.get(*s).state;
            !state.is_terminal()
        }) {
            return Err(format!(
                "a pinned stream copy (slot {slot}) is not finished"
            ));
        }
        for (slot, peer) in self.zeromq.piped_slots() {
            let state = self.world.copies.get(slot).state;
            if state != CopyState::Piped(peer) {
                return Err(format!("zp{peer} holds a copy in state {state:?}"));
            }
        }
        if let Some(slot) = (self.zeromq.on_the_wire())
            .find(|s| self.world.copies.get(*s).state != CopyState::InFlight)
        {
            return Err(format!(
                "a ZeroMQ wire holds slot {slot}, which is not in flight"
            ));
        }
        self.audit_jms()
    }

    /// Every JMS store's copies are in the state that names it, and what each store counts as
    /// dispatched is what its consumers hold.
    fn audit_jms(&self) -> Result<(), String> {
        let mut dispatched: std::collections::BTreeMap<JmsStore, u64> = Default::default();
        for (i, c) in self.clients.consumers.iter().enumerate() {
            for slot in c.unacked.values() {
                if let CopyState::JmsDispatched(store, cid) = self.world.copies.get(*slot).state {
                    if cid.index() != i {
                        return Err(format!("c{i} holds a copy dispatched to {cid}"));
                    }
                    *dispatched.entry(store).or_default() += 1;
                }
            }
        }
        for (store, s) in self.jms.stores() {
            for slot in s.pending.values().chain(s.delayed.values()) {
                let state = self.world.copies.get(*slot).state;
                if state != CopyState::JmsPending(store) {
                    return Err(format!("{store} holds a copy in state {state:?}"));
                }
            }
            let held = dispatched.get(&store).copied().unwrap_or(0);
            if held != s.in_flight {
                return Err(format!(
                    "{store} counts {} in flight but its consumers hold {held}",
                    s.in_flight
                ));
            }
        }
        Ok(())
    }

    /// Samples each family's chart series at `at`.
    pub(crate) fn sample_families(&mut self, at: u64) {
        self.rabbitmq.sample(at);
        self.kafka.sample(at);
        self.jms.sample(at);
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
                if let Some(&q) = self.rabbitmq.consumers.get(&id) {
                    self.check_consumable(q, Some(id))?;
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
            Command::AddQueue { queue } => cx!(self, rabbitmq).declare_queue(queue)?,
            Command::UpdateQueue { queue } => cx!(self, rabbitmq).update_queue(queue)?,
            Command::AddBinding { binding } => cx!(self, rabbitmq).bind(binding)?,
            Command::RemoveBinding { binding } => self.rabbitmq.unbind(&binding)?,
            Command::AddProducer { producer } => {
                at_cap("producers", self.clients.producers.len())?;
                self.add_producer(producer)?;
            }
            Command::UpdateProducer { producer } => {
                let id = self.clients.producer_id(&producer.name)?;
                self.check_producer(&producer)?;
                for s in self.clients.stages.services.values() {
                    self.check_kafka_stage("producer.targets", &s.spec, None, Some(&producer))?;
                }
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
                if self.is_pulsar(id) {
                    return Err(CommandError::NotApplicable {
                        reason: format!("{consumer} is a Pulsar consumer: it has no delivery tags"),
                    });
                }
                if c.status != ConsumerStatus::Running
                    || c.spec.ack == AckMode::Auto
                    || matches!(c.spec.source, ConsumerSource::SqsQueue(_))
                    || c.spec.is_stream()
                    || c.spec.is_jms()
                {
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
            Command::AddGroup { group } => cx!(self, kafka).create_group(group)?,
            Command::ResetOffsets { group, to } => {
                cx!(self, kafka).reset_named_group(&group, &to)?
            }
            Command::RemoveConsumer { consumer } => {
                let id = self.clients.consumer_id(&consumer)?;
                self.world.emit(EventKind::CommandApplied { summary });
                self.close_consumer(id, ConsumerStatus::Removed, Closure::Crash);
                return Ok(());
            }
            Command::AddSqsQueue { queue } => cx!(self, sqs).create_queue(queue)?,
            Command::UpdateSqsQueue { queue } => cx!(self, sqs).update_queue(queue)?,
            Command::ChangeVisibility {
                consumer,
                timeout_ms,
            } => {
                let id = self.clients.consumer_id(&consumer)?;
                cx!(self, sqs).change_visibility(id, timeout_ms)?;
            }
            Command::ResetCursor {
                topic,
                subscription,
                to,
            } => {
                let (t, sub) = self.pulsar.reset_target(&topic, &subscription, &to)?;
                self.world.emit(EventKind::CommandApplied { summary });
                cx!(self, pulsar).reset_cursor(t, sub, &to);
                return Ok(());
            }
            Command::CreateSubscription {
                topic,
                subscription,
                initial_position,
            } => {
                let spec = scenario::pulsar::PulsarSubscriptionSpec {
                    topic,
                    name: subscription,
                    initial_position,
                };
                let topic = self.pulsar.new_subscription_target(&spec)?;
                self.world.emit(EventKind::CommandApplied { summary });
                cx!(self, pulsar).create_subscription(topic, spec);
                return Ok(());
            }
            Command::AddJmsQueue { queue } => cx!(self, jms).add_queue(queue)?,
            Command::AddJmsTopic { topic } => cx!(self, jms).add_topic(topic)?,
            Command::UnsubscribeDurable { client_id, name } => {
                let name = scenario::DurableName { client_id, name };
                let sub = self.jms.unsubscribable(&name)?;
                self.world.emit(EventKind::CommandApplied { summary });
                cx!(self, jms).unsubscribe(sub);
                return Ok(());
            }
            Command::CrashKafkaBroker { broker } => cx!(self, kafka).crash_broker(broker)?,
            Command::RestartKafkaBroker { broker } => cx!(self, kafka).restart_broker(broker)?,
            Command::SlowKafkaBroker { broker, delay_ms } => {
                cx!(self, kafka).slow_broker(broker, delay_ms)?
            }
            Command::IsolateKafkaBroker { broker } => cx!(self, kafka).isolate_broker(broker)?,
            Command::HealKafkaBroker { broker } => cx!(self, kafka).heal_broker(broker)?,
            Command::CrashPeer { peer } => {
                let peer = self.zeromq.check_running(&peer, true)?;
                self.world.emit(EventKind::CommandApplied { summary });
                cx!(self, zeromq).crash(peer);
                return Ok(());
            }
            Command::RestartPeer { peer } => {
                let peer = self.zeromq.check_stopped(&peer)?;
                self.world.emit(EventKind::CommandApplied { summary });
                cx!(self, zeromq).restart_peer(peer);
                return Ok(());
            }
            Command::ClosePeer { peer } => {
                let peer = self.zeromq.check_running(&peer, false)?;
                self.world.emit(EventKind::CommandApplied { summary });
                cx!(self, zeromq).close_peer(peer);
                return Ok(());
            }
            Command::ZmqSend {
                peer,
                socket,
                dontwait,
            } => {
                let socket = self.zeromq.check_send(&peer, &socket, dontwait)?;
                self.world.emit(EventKind::CommandApplied { summary });
                cx!(self, zeromq).burst(socket, 1);
                return Ok(());
            }
            Command::ZmqSubscribe {
                peer,
                socket,
                prefix,
            } => cx!(self, zeromq).subscribe(&peer, &socket, prefix)?,
            Command::ZmqConnect {
                peer,
                socket,
                endpoint,
            } => cx!(self, zeromq).connect_command(&peer, &socket, &endpoint)?,
            Command::CrashRabbitMqNode { node } => {
                let n = self.rabbitmq.node_to_stop(node.as_deref())?;
                self.world.emit(EventKind::CommandApplied { summary });
                cx!(self, rabbitmq).crash_node(n);
                return Ok(());
            }
            Command::RestartRabbitMqNode { node } => {
                let n = self.rabbitmq.node_to_start(node.as_deref())?;
                self.world.emit(EventKind::CommandApplied { summary });
                cx!(self, rabbitmq).restart_node(n);
                return Ok(());
            }
            Command::IsolateRabbitMqNode { node } => {
                let n = self.rabbitmq.node_to_isolate(&node)?;
                self.world.emit(EventKind::CommandApplied { summary });
                cx!(self, rabbitmq).isolate_node(n);
                return Ok(());
            }
            Command::HealRabbitMqNode { node } => {
                let n = self.rabbitmq.node_to_heal(&node)?;
                self.world.emit(EventKind::CommandApplied { summary });
                cx!(self, rabbitmq).heal_node(n);
                return Ok(());
            }
            Command::RestartJmsBroker { downtime_ms } => {
                self.jms.check_restart(downtime_ms)?;
                self.world.emit(EventKind::CommandApplied { summary });
                cx!(self, jms).restart_broker(downtime_ms);
                return Ok(());
            }
            Command::UpdateStage { stage } => {
                self.clients.stages.check_role(stage.role)?;
                let producer = |n: &str| self.clients.producer_id(n).is_ok();
                scenario::stage::validate_stage("stage", &stage, &producer)?;
                self.check_kafka_stage("stage", &stage, None, None)?;
                let links = stage
                    .links()
                    .map(|n| n.and_then(|n| self.clients.producer_id(n).ok()));
                self.clients.stages.update(stage, links);
            }
            Command::CrashStageAfterWrite {
                consumer,
                restart_after_ms,
            } => {
                let id = self.clients.consumer_id(&consumer)?;
                if self.clients.consumers[id.index()].spec.stage.is_none() {
                    return Err(CommandError::NotApplicable {
                        reason: format!("{consumer} works for no stage"),
                    });
                }
                if let Some(ms) = restart_after_ms {
                    scenario::check_ms("restart_after_ms", ms)?;
                }
                self.clients.stages.arm_crash(id, restart_after_ms);
            }
            Command::CrashRelay { stage } => {
                self.clients.stages.check_role(stage)?;
                self.clients.stages.arm_relay_crash(stage);
            }
            Command::CancelOrder { txn } => {
                let mut done = Ok(());
                self.publishing(|cx, route| done = cx.cancel_order(txn, route));
                done?
            }
            Command::AddStream { stream } => cx!(self, streams).add_stream(stream)?,
            Command::AddStreamGroup { stream, group } => {
                cx!(self, streams).add_group(&stream, group)?
            }
            Command::XgroupSetid { stream, group, id } => {
                cx!(self, streams).set_id(&stream, &group, &id)?
            }
            Command::Xtrim { stream, maxlen } => cx!(self, streams).xtrim(&stream, maxlen)?,
            Command::Xclaim {
                stream,
                group,
                consumer,
                min_idle_ms,
                ids,
                justid,
            } => {
                let id = self.clients.consumer_id(&consumer)?;
                let ids = (ids.iter().enumerate())
                    .map(|(i, id)| scenario::redis_streams::check_id(&format!("ids[{i}]"), id))
                    .collect::<Result<Vec<_>, _>>()?;
                let call = ClaimCall::Ids(ids);
                cx!(self, streams).send_claim(&stream, &group, id, min_idle_ms, call, justid)?
            }
            Command::Xautoclaim {
                stream,
                group,
                consumer,
                min_idle_ms,
                start,
                count,
                justid,
            } => {
                let id = self.clients.consumer_id(&consumer)?;
                let start = scenario::redis_streams::check_id("start", &start)?;
                let call = ClaimCall::Auto {
                    start,
                    count,
                    own: false,
                };
                cx!(self, streams).send_claim(&stream, &group, id, min_idle_ms, call, justid)?
            }
            Command::RedisFailover { stream } => cx!(self, streams).failover(&stream)?,
        }
        self.world.emit(EventKind::CommandApplied { summary });
        Ok(())
    }

    /// Runs `publish` with the route to every family a producer can publish to.
    fn publishing(&mut self, publish: impl FnOnce(&mut Cx<'_, (), Work>, &mut Route<Work>)) {
        let (kafka, sqs) = (&mut self.kafka, &mut self.sqs);
        let mut route = |world: &mut World<Work>, target, slot, outgoing: &Outgoing| {
            arrival(kafka, sqs, world, target, slot, outgoing)
        };
        publish(&mut cx!(self), &mut route);
    }

    /// The ZeroMQ socket whose application a producer is.
    fn zmq_socket(&self, id: ProducerId) -> Option<u32> {
        match self.clients.producers[id.index()].plan.targets.first() {
            Some(NodeRef::ZmqSocket(s)) => Some(*s),
            _ => None,
        }
    }

    pub(crate) fn publish(&mut self, id: ProducerId, poison: bool) {
        match self.zmq_socket(id) {
            Some(s) => cx!(self, zeromq).burst(s, 1),
            None => self.publishing(|cx, route| cx.publish(id, poison, route)),
        }
    }

    pub(crate) fn publish_many(&mut self, id: ProducerId, count: u64, poison: bool) {
        match self.zmq_socket(id) {
            Some(s) => cx!(self, zeromq).burst(s, count),
            None => self.publishing(|cx, route| cx.publish_many(id, count, poison, route)),
        }
    }

    /// The nodes a producer's spec names, resolved by their families.
    pub(crate) fn resolve_targets(&mut self, spec: &ProducerSpec) -> Vec<NodeRef> {
        spec.targets
            .iter()
            .map(|t| match t {
                PublishTarget::Exchange(name) => {
                    NodeRef::Exchange(self.rabbitmq.exchange_id(name).unwrap_or(ExchangeId(0)))
                }
                PublishTarget::Channel(name) => NodeRef::Channel(cx!(self, redis).channel_id(name)),
                PublishTarget::Topic(name) => {
                    NodeRef::Topic(self.kafka.topic_id(name).expect("validated topic"))
                }
                PublishTarget::Service(name) => {
                    NodeRef::Service(self.service.service_id(name).expect("validated service"))
                }
                PublishTarget::SqsQueue(name) => {
                    NodeRef::SqsQueue(self.sqs.queue_id(name).expect("validated SQS queue"))
                }
                PublishTarget::PulsarTopic(name) => {
                    NodeRef::PulsarTopic(self.pulsar.topic_id(name).expect("validated topic"))
                }
                PublishTarget::JmsQueue(name) => {
                    NodeRef::JmsQueue(cx!(self, jms).queue_or_create(name))
                }
                PublishTarget::JmsTopic(name) => {
                    NodeRef::JmsTopic(cx!(self, jms).topic_or_create(name))
                }
                PublishTarget::Stream(key) => {
                    NodeRef::Stream(self.streams.stream_id(key).expect("validated stream"))
                }
                PublishTarget::Zmq(address) => {
                    NodeRef::ZmqSocket(self.zeromq.socket_id(address).expect("validated socket"))
                }
            })
            .collect()
    }

    pub(crate) fn check_producer(&self, spec: &ProducerSpec) -> Result<(), ScenarioError> {
        let known = scenario::Known {
            exchange: &|n| self.rabbitmq.exchange_id(n).is_some(),
            topic: &|n| self.kafka.topic_id(n).is_some(),
            service: &|n| self.service.service_id(n).is_some(),
            sqs_queue: &|n| {
                let q = self.sqs.queue_id(n)?;
                Some(scenario::SqsTarget::of(&self.sqs.queues[q.index()].spec))
            },
            pulsar_topic: &|n| self.pulsar.topic_id(n).is_some(),
            stream: &|n| self.streams.stream_id(n).is_some(),
        };
        scenario::validate_producer("producer", spec, &known)?;
        let socket = |a: &str| self.zeromq.socket_kind(a);
        scenario::zeromq::validate_producer("producer", spec, &socket)?;
        if let Some(PublishTarget::Zmq(address)) = spec.targets.first() {
            let taken = (self.clients.producers.iter())
                .any(|p| !p.removed && p.spec.name != spec.name && p.spec.targets == spec.targets);
            if taken {
                return Err(scenario::zeromq::taken("producer.targets[0].zmq", address));
            }
        }
        Ok(())
    }

    pub(crate) fn add_producer(&mut self, spec: ProducerSpec) -> Result<ProducerId, CommandError> {
        if self.clients.producer_id(&spec.name).is_ok() {
            return Err(CommandError::Duplicate {
                kind: "producer",
                name: spec.name,
            });
        }
        self.check_producer(&spec)?;
        let targets = self.resolve_targets(&spec);
        let id = cx!(self).add_producer(spec, targets);
        cx!(self, zeromq).producer_added(id);
        Ok(id)
    }

    pub(crate) fn check_consumer(&self, spec: &ConsumerSpec) -> Result<(), ScenarioError> {
        let known = scenario::KnownSources {
            queue: &|n| self.rabbitmq.queue_id(n).is_some(),
            group: &|n| self.kafka.group_id(n).is_some(),
            sqs_queue: &|n| self.sqs.queue_id(n).is_some(),
            stream: &|n, g| self.streams.knows(n, g),
        };
        scenario::validate_consumer("consumer", spec, &known)?;
        if let ConsumerSource::Pulsar(source) = &spec.source {
            let topic = |n: &str| self.pulsar.topic_partitioned(n);
            scenario::pulsar::validate_consumer("consumer", spec, source, &topic)?;
        }
        let socket = |a: &str| self.zeromq.socket_kind(a);
        scenario::zeromq::validate_consumer("consumer", spec, &socket)?;
        if let ConsumerSource::Zmq(address) = &spec.source {
            let taken = self
                .clients
                .consumers
                .iter()
                .any(|c| c.status != ConsumerStatus::Removed && c.spec.source == spec.source);
            if taken {
                return Err(scenario::zeromq::taken("consumer.source.zmq", address));
            }
        }
        Ok(())
    }

    pub(crate) fn add_consumer(&mut self, spec: ConsumerSpec) -> Result<ConsumerId, CommandError> {
        if self.clients.consumer_id(&spec.name).is_ok() {
            return Err(CommandError::Duplicate {
                kind: "consumer",
                name: spec.name,
            });
        }
        self.check_consumer(&spec)?;
        self.check_jms_identity(&spec)?;
        if let Some(role) = spec.stage {
            self.clients.stages.check_role(role)?;
            let stage = &self.clients.stages.services[&role].spec;
            self.check_kafka_stage("consumer.stage", stage, Some(&spec), None)?;
        }
        let (queue, group) = match &spec.source {
            ConsumerSource::Queue(q) => (self.rabbitmq.queue_id(q), None),
            ConsumerSource::Group(g) => (None, self.kafka.group_id(g)),
            ConsumerSource::Subscribe { .. }
            | ConsumerSource::SqsQueue(_)
            | ConsumerSource::Pulsar(_)
            | ConsumerSource::JmsQueue(_)
            | ConsumerSource::JmsTopic { .. }
            | ConsumerSource::StreamGroup { .. }
            | ConsumerSource::StreamRead { .. }
            | ConsumerSource::Zmq(_) => (None, None),
        };
        if let Some(q) = queue {
            self.check_consumable(q, None)?;
        }
        let source = spec.source.clone();
        let sqs_queue = match &spec.source {
            ConsumerSource::SqsQueue(q) => self.sqs.queue_id(q),
            _ => None,
        };
        let jms = spec.is_jms();
        let stopped = spec.stopped;
        let id = cx!(self).push_consumer(spec);
        if let Some(q) = queue {
            self.rabbitmq.consumers.insert(id, q);
        }
        if let Some(g) = group {
            self.kafka.consumer_groups.insert(id, g);
        }
        if let Some(q) = sqs_queue {
            self.sqs.add_consumer(id, q);
        }
        self.streams.add_consumer(id, &source);
        cx!(self, pulsar).consumer_added(id);
        cx!(self, zeromq).consumer_added(id);
        if jms {
            cx!(self, jms).add_session(id);
        }
        // Redis matches every new consumer once, whatever its source.
        cx!(self, redis).redis_consumer_added();
        if !stopped {
            self.subscribe(id);
        }
        Ok(id)
    }

    /// A transactional stage, with its live consumers and `joining`, and its producers with
    /// `replacing` for the one of that name, stays within Kafka (PAT-10).
    fn check_kafka_stage(
        &self,
        path: &str,
        stage: &scenario::StageSpec,
        joining: Option<&ConsumerSpec>,
        replacing: Option<&ProducerSpec>,
    ) -> Result<(), CommandError> {
        let live = (self.clients.consumers.iter())
            .filter(|c| c.status != ConsumerStatus::Removed)
            .map(|c| &c.spec);
        let sides = scenario::stage::KafkaSides {
            consumers: &mut live.chain(joining),
            producer: &|n| {
                if let Some(p) = replacing.filter(|p| p.name == n) {
                    return Some(p);
                }
                let id = self.clients.producer_id(n).ok()?;
                Some(&self.clients.producers[id.index()].spec)
            },
            commit: &|g| {
                let id = self.kafka.group_id(g)?;
                Some(&self.kafka.groups[id.index()].spec.commit)
            },
            cluster: self.kafka.cluster.is_some(),
        };
        Ok(scenario::stage::check_kafka_only(path, stage, sides)?)
    }

    fn check_consumable(&self, q: QueueId, cid: Option<ConsumerId>) -> Result<(), CommandError> {
        let running =
            |c: ConsumerId| self.clients.consumers[c.index()].status == ConsumerStatus::Running;
        self.rabbitmq.check_consumable(q, cid, running)
    }

    /// The consumer starts (or restarts) receiving from its source.
    pub(crate) fn subscribe(&mut self, cid: ConsumerId) {
        match self.clients.consumers[cid.index()].spec.source {
            ConsumerSource::Queue(_) => cx!(self, rabbitmq).consume(cid),
            ConsumerSource::Group(_) => cx!(self, kafka).rejoin(cid),
            ConsumerSource::Subscribe { .. } => {
                self.clients.consumers[cid.index()].status = ConsumerStatus::Running;
            }
            ConsumerSource::SqsQueue(_) => cx!(self, sqs).start_polling(cid),
            ConsumerSource::Pulsar(_) => cx!(self, pulsar).consume(cid),
            ConsumerSource::JmsQueue(_) | ConsumerSource::JmsTopic { .. } => {
                cx!(self, jms).consume(cid)
            }
            ConsumerSource::StreamGroup { .. } | ConsumerSource::StreamRead { .. } => {
                cx!(self, streams).start(cid)
            }
            ConsumerSource::Zmq(_) => cx!(self, zeromq).consume(cid),
        }
    }

    /// A durable subscriber's client id is free, and its subscription, if it exists, is on
    /// the same topic.
    fn check_jms_identity(&self, spec: &ConsumerSpec) -> Result<(), CommandError> {
        let ConsumerSource::JmsTopic {
            topic,
            durable: Some(d),
        } = &spec.source
        else {
            return Ok(());
        };
        let taken = self.clients.consumers.iter().any(|c| {
            c.status != ConsumerStatus::Removed && c.spec.durable_client_id() == Some(&d.client_id)
        });
        if taken {
            return Err(scenario::duplicate_client_id("consumer", &d.client_id).into());
        }
        self.jms.check_durable(topic, d)
    }

    pub(crate) fn update_consumer(&mut self, spec: ConsumerSpec) -> Result<(), CommandError> {
        let id = self.clients.consumer_id(&spec.name)?;
        self.check_consumer(&spec)?;
        if let Some(role) = spec.stage {
            self.clients.stages.check_role(role)?;
        }
        let c = &mut self.clients.consumers[id.index()];
        if c.spec.source != spec.source {
            return Err(CommandError::NotApplicable {
                reason: "a consumer's source cannot change; remove it and add a new one".into(),
            });
        }
        let holds = !(c.unacked.is_empty() && c.held.is_empty());
        if (c.spec.ack != spec.ack || c.spec.jms != spec.jms) && holds {
            return Err(CommandError::NotApplicable {
                reason: "the ack mode can change only while the consumer holds no messages".into(),
            });
        }
        let jms_changed = c.spec.jms != spec.jms;
        c.spec = spec;
        cx!(self, rabbitmq).consumer_updated(id);
        if jms_changed {
            cx!(self, jms).consumer_updated(id);
        }
        Ok(())
    }

    /// The consumer's connection or channel ends; its family takes back what it held.
    pub(crate) fn close_consumer(&mut self, cid: ConsumerId, status: ConsumerStatus, why: Closure) {
        match self.clients.consumers[cid.index()].spec.source {
            ConsumerSource::Queue(_) => cx!(self, rabbitmq).close_consumer(cid, status, why),
            ConsumerSource::Group(_) => cx!(self, kafka).close_member(cid, status, why),
            ConsumerSource::Subscribe { .. } => cx!(self).close_holding_nothing(cid, status, &why),
            ConsumerSource::SqsQueue(_) => cx!(self, sqs).close_consumer(cid, status, why),
            ConsumerSource::Pulsar(_) => cx!(self, pulsar).close_consumer(cid, status, why),
            ConsumerSource::JmsQueue(_) | ConsumerSource::JmsTopic { .. } => {
                cx!(self, jms).close_consumer(cid, status, why)
            }
            ConsumerSource::StreamGroup { .. } | ConsumerSource::StreamRead { .. } => {
                cx!(self, streams).close_consumer(cid, status, why)
            }
            ConsumerSource::Zmq(_) => cx!(self, zeromq).close_consumer(cid, status),
        }
    }

    fn is_stream(&self, cid: ConsumerId) -> bool {
        self.clients.consumers[cid.index()].spec.is_stream()
    }

    fn is_pulsar(&self, cid: ConsumerId) -> bool {
        matches!(
            self.clients.consumers[cid.index()].spec.source,
            ConsumerSource::Pulsar(_)
        )
    }

    /// The consumer takes its next buffered message, if idle; a JMS session decides what it
    /// hands over, a Pulsar client notices it.
    fn next_message(&mut self, cid: ConsumerId) {
        if self.clients.consumers[cid.index()].spec.is_jms() {
            cx!(self, jms).begin_next(cid);
        } else if self.is_stream(cid) {
            cx!(self, streams).next(cid);
        } else {
            cx!(self).start_next(cid);
            if self.is_pulsar(cid) {
                cx!(self, pulsar).received(cid);
            }
        }
    }

    /// A stage's group member finished a record: the step runs, then the offset is committed
    /// (inside the step's transaction with `kafka_transactions`), unless the step crashed
    /// first, so the record is read again from the last commit (PAT-10).
    fn stage_record_processed(&mut self, cid: ConsumerId, epoch: u32) {
        let c = &self.clients.consumers[cid.index()];
        let role = c.spec.stage.expect("a stage's member");
        let Some(f) = cx!(self, kafka).current_record(cid, epoch) else {
            return cx!(self, kafka).record_processed(cid, epoch, false);
        };
        let input = StageInput::record(role, f.msg, f.pipe, f.published_at);
        let mut outcome = StepOutcome::Continue;
        self.publishing(|cx, route| outcome = cx.stage_step(cid, input, route));
        if let StepOutcome::Crash { restart, aborted } = outcome {
            cx!(self, kafka).abort_outputs(aborted);
            self.stage_crashed(cid, restart);
            return;
        }
        let in_txn = self.clients.stages.services[&role].spec.kafka_transactions;
        cx!(self, kafka).record_processed(cid, epoch, in_txn);
    }

    /// A stage's process died mid-step; it restarts after `restart` µs, if given.
    fn stage_crashed(&mut self, cid: ConsumerId, restart: Option<u64>) {
        self.close_consumer(cid, ConsumerStatus::Crashed, Closure::Crash);
        if let Some(us) = restart {
            let at = self.world.now.plus(us);
            self.world
                .schedule(at, ClientWork::StageRestart { consumer: cid });
        }
    }

    pub(crate) fn run_client(&mut self, work: ClientWork) {
        match work {
            ClientWork::ProducerTick {
                producer,
                generation,
            } => match self.zmq_socket(producer) {
                Some(_) => cx!(self, zeromq).app_tick(producer, generation),
                None => self.publishing(|cx, route| cx.producer_tick(producer, generation, route)),
            },
            ClientWork::DeliveryArrives {
                consumer,
                slot,
                tag,
                epoch,
            } => {
                self.wire.arrived(self.world.now, slot);
                let wanted =
                    !self.is_pulsar(consumer) || cx!(self, pulsar).delivery_wanted(consumer, tag);
                if wanted && cx!(self).accept_delivery(consumer, slot, tag, epoch) {
                    self.next_message(consumer);
                }
            }
            ClientWork::ProcessingDone { consumer, epoch } => {
                let input = self.clients.stage_input(&self.world, consumer, epoch);
                let finished = cx!(self).processing_done(consumer, epoch);
                let failed = matches!(finished, Finished::Settle { failed: true, .. });
                if let Some(input) = input.filter(|_| !failed) {
                    let mut outcome = StepOutcome::Continue;
                    self.publishing(|cx, route| outcome = cx.stage_step(consumer, input, route));
                    if let StepOutcome::Crash { restart, .. } = outcome {
                        // The broker never hears of this copy's end: it redelivers what the
                        // consumer still held unacked.
                        self.stage_crashed(consumer, restart);
                        return;
                    }
                }
                if self.clients.consumers[consumer.index()].spec.is_jms() {
                    match finished {
                        Finished::Stale => {}
                        Finished::Done => cx!(self, jms).ready_for_next(consumer),
                        Finished::Settle { tag, failed, .. } => {
                            cx!(self, jms).processed(consumer, tag, failed)
                        }
                    }
                    return;
                }
                let zmq = matches!(
                    self.clients.consumers[consumer.index()].spec.source,
                    ConsumerSource::Zmq(_)
                );
                match finished {
                    Finished::Stale => return,
                    Finished::Done if zmq => {
                        cx!(self, zeromq).processed(consumer);
                        return;
                    }
                    Finished::Done => {}
                    Finished::Settle {
                        tag,
                        failed,
                        failure,
                    } => match self.clients.consumers[consumer.index()].spec.source {
                        ConsumerSource::SqsQueue(_) => {
                            cx!(self, sqs).processed(consumer, tag, failed)
                        }
                        ConsumerSource::Pulsar(_) => {
                            cx!(self, pulsar).processed(consumer, tag, failed, &failure)
                        }
                        ConsumerSource::Queue(_)
                        | ConsumerSource::Subscribe { .. }
                        | ConsumerSource::Group(_) => {
                            cx!(self, rabbitmq).processed(consumer, tag, failed, &failure)
                        }
                        ConsumerSource::StreamGroup { .. } | ConsumerSource::StreamRead { .. } => {
                            cx!(self, streams).processed(consumer, tag, failed)
                        }
                        ConsumerSource::JmsQueue(_) | ConsumerSource::JmsTopic { .. } => {
                            unreachable!("a JMS session settled above")
                        }
                        ConsumerSource::Zmq(_) => unreachable!("ZeroMQ holds nothing delivered"),
                    },
                }
                self.next_message(consumer);
            }
            ClientWork::RelayPoll { stage } => {
                self.publishing(|cx, route| cx.relay_poll(stage, route));
            }
            ClientWork::StageRestart { consumer } => {
                if self.clients.consumers[consumer.index()].status == ConsumerStatus::Crashed {
                    self.subscribe(consumer);
                    self.world.emit(EventKind::ConsumerRestarted { consumer });
                }
            }
        }
    }
}
