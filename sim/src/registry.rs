//! The registry: where the engine hands what clients do to the family that owns the target or
//! the consumer. The one place, with the `Work` enum in `engine.rs`, that lists the families.

use crate::clients::producers::Route;
use crate::clients::{ClientWork, Closure, ConsumerStatus, Cx, Finished};
use crate::command::CommandError;
use crate::engine::{Simulation, Work};
use crate::families::kafka::{Kafka, KafkaWork};
use crate::families::rabbitmq::RabbitMqWork;
use crate::families::redis_pubsub::RedisPubSubWork;
use crate::families::service::ServiceWork;
use crate::ids::{ConsumerId, ExchangeId, ProducerId};
use crate::kernel::World;
use crate::message::Slot;
use crate::scenario::ScenarioError;
use crate::scenario::{self, ConsumerSource, ConsumerSpec, ProducerSpec, PublishTarget};
use crate::wire::NodeRef;

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
pub(crate) use cx;

/// Where a copy published to `target` arrives, and the work that runs then. Kafka's producer
/// picks the partition before sending (KAF-3, KAF-4).
fn arrival(
    kafka: &mut Kafka,
    world: &mut World<Work>,
    target: NodeRef,
    slot: Slot,
    key: u32,
    size: u32,
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
            let partition = kafka.choose_partition(world, topic, key, size);
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
        NodeRef::Producer(_)
        | NodeRef::Queue(_)
        | NodeRef::Consumer(_)
        | NodeRef::Partition(..) => {
            unreachable!("a producer publishes to an exchange, a channel, a topic or a service")
        }
    }
}

impl Simulation {
    /// Runs `publish` with the route to every family a producer can publish to.
    fn publishing(&mut self, publish: impl FnOnce(&mut Cx<'_, (), Work>, &mut Route<Work>)) {
        let kafka = &mut self.kafka;
        let mut route = |world: &mut World<Work>, target, slot, key, size| {
            arrival(kafka, world, target, slot, key, size)
        };
        publish(&mut cx!(self), &mut route);
    }

    pub(crate) fn publish(&mut self, id: ProducerId, poison: bool) {
        self.publishing(|cx, route| cx.publish(id, poison, route));
    }

    pub(crate) fn publish_many(&mut self, id: ProducerId, count: u64, poison: bool) {
        self.publishing(|cx, route| cx.publish_many(id, count, poison, route));
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
            })
            .collect()
    }

    pub(crate) fn check_producer(&self, spec: &ProducerSpec) -> Result<(), ScenarioError> {
        let known = scenario::Known {
            exchange: &|n| self.rabbitmq.exchange_id(n).is_some(),
            topic: &|n| self.kafka.topic_id(n).is_some(),
            service: &|n| self.service.service_id(n).is_some(),
        };
        scenario::validate_producer("producer", spec, &known)
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
        Ok(cx!(self).add_producer(spec, targets))
    }

    pub(crate) fn check_consumer(&self, spec: &ConsumerSpec) -> Result<(), ScenarioError> {
        let queue_known = |n: &str| self.rabbitmq.queue_id(n).is_some();
        let group_known = |n: &str| self.kafka.group_id(n).is_some();
        scenario::validate_consumer("consumer", spec, &queue_known, &group_known)
    }

    pub(crate) fn add_consumer(&mut self, spec: ConsumerSpec) -> Result<ConsumerId, CommandError> {
        if self.clients.consumer_id(&spec.name).is_ok() {
            return Err(CommandError::Duplicate {
                kind: "consumer",
                name: spec.name,
            });
        }
        self.check_consumer(&spec)?;
        let (queue, group) = match &spec.source {
            ConsumerSource::Queue(q) => (self.rabbitmq.queue_id(q), None),
            ConsumerSource::Group(g) => (None, self.kafka.group_id(g)),
            ConsumerSource::Subscribe { .. } => (None, None),
        };
        let stopped = spec.stopped;
        let id = cx!(self).push_consumer(spec);
        if let Some(q) = queue {
            self.rabbitmq.consumers.insert(id, q);
        }
        if let Some(g) = group {
            self.kafka.consumer_groups.insert(id, g);
        }
        // Redis matches every new consumer once, whatever its source.
        cx!(self, redis).redis_consumer_added();
        if !stopped {
            self.subscribe(id);
        }
        Ok(id)
    }

    /// The consumer starts (or restarts) receiving from its source.
    pub(crate) fn subscribe(&mut self, cid: ConsumerId) {
        match self.clients.consumers[cid.index()].spec.source {
            ConsumerSource::Queue(_) => cx!(self, rabbitmq).consume(cid),
            ConsumerSource::Group(_) => cx!(self, kafka).rejoin(cid),
            ConsumerSource::Subscribe { .. } => {
                self.clients.consumers[cid.index()].status = ConsumerStatus::Running;
            }
        }
    }

    pub(crate) fn update_consumer(&mut self, spec: ConsumerSpec) -> Result<(), CommandError> {
        let id = self.clients.consumer_id(&spec.name)?;
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
        cx!(self, rabbitmq).consumer_updated(id);
        Ok(())
    }

    /// The consumer's connection or channel ends; its family takes back what it held.
    pub(crate) fn close_consumer(&mut self, cid: ConsumerId, status: ConsumerStatus, why: Closure) {
        match self.clients.consumers[cid.index()].spec.source {
            ConsumerSource::Queue(_) => cx!(self, rabbitmq).close_consumer(cid, status, why),
            ConsumerSource::Group(_) => cx!(self, kafka).close_member(cid, status, why),
            ConsumerSource::Subscribe { .. } => cx!(self).close_holding_nothing(cid, status, &why),
        }
    }

    pub(crate) fn run_client(&mut self, work: ClientWork) {
        match work {
            ClientWork::ProducerTick {
                producer,
                generation,
            } => self.publishing(|cx, route| cx.producer_tick(producer, generation, route)),
            ClientWork::DeliveryArrives {
                consumer,
                slot,
                tag,
                epoch,
            } => {
                let mut cx = cx!(self);
                cx.wire.arrived(cx.world.now, slot);
                if cx.accept_delivery(consumer, slot, tag, epoch) {
                    cx.start_next(consumer);
                }
            }
            ClientWork::ProcessingDone { consumer, epoch } => {
                match cx!(self).processing_done(consumer, epoch) {
                    Finished::Stale => return,
                    Finished::Done => {}
                    Finished::Settle {
                        tag,
                        failed,
                        failure,
                    } => cx!(self, rabbitmq).processed(consumer, tag, failed, &failure),
                }
                cx!(self).start_next(consumer);
            }
        }
    }
}
