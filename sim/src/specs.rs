//! The settings every entity has now: the scenario's, as changed by the script and by commands.
//! The core answers this, so the app never replays commands to work it out.

use crate::clients::ConsumerStatus;
use crate::engine::Simulation;
use crate::scenario::pulsar::PulsarSpec;
use crate::scenario::{
    BindingSpec, ConsumerSpec, GroupSpec, ProducerSpec, QueueSpec, SqsQueueSpec, StageSpec,
    StreamSpec,
};
use crate::scenario::{DurableSubscriptionSpec, JmsQueueSpec, JmsSpec, JmsTopicSpec};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Specs {
    pub producers: Vec<ProducerSpec>,
    pub consumers: Vec<ConsumerSpec>,
    pub queues: Vec<QueueSpec>,
    pub bindings: Vec<BindingSpec>,
    pub groups: Vec<GroupSpec>,
    /// The JMS broker's settings and its destinations and durable subscriptions now, when the
    /// scenario uses JMS.
    pub jms: Option<JmsSpec>,
    pub sqs_queues: Vec<SqsQueueSpec>,
    /// Pulsar topics (with auto-created dead-letter topics) and admin-created subscriptions.
    pub pulsar: Option<PulsarSpec>,
    /// The pipeline's services with the remedies as flipped now (issue 14).
    pub stages: Vec<StageSpec>,
    /// Redis streams with every group created so far.
    pub streams: Vec<StreamSpec>,
}

impl Specs {
    pub fn producer(&self, name: &str) -> Option<&ProducerSpec> {
        self.producers.iter().find(|p| p.name == name)
    }

    pub fn consumer(&self, name: &str) -> Option<&ConsumerSpec> {
        self.consumers.iter().find(|c| c.name == name)
    }

    pub fn queue(&self, name: &str) -> Option<&QueueSpec> {
        self.queues.iter().find(|q| q.name == name)
    }

    pub fn sqs_queue(&self, name: &str) -> Option<&SqsQueueSpec> {
        self.sqs_queues.iter().find(|q| q.name == name)
    }
}

impl Simulation {
    /// Current settings of every live entity, in the order they were added.
    pub fn specs(&self) -> Specs {
        Specs {
            producers: (self.clients.producers.iter())
                .filter(|p| !p.removed)
                .map(|p| p.spec.clone())
                .collect(),
            consumers: (self.clients.consumers.iter())
                .filter(|c| c.status != ConsumerStatus::Removed)
                .map(|c| c.spec.clone())
                .collect(),
            queues: (self.rabbitmq.queues.iter())
                .filter(|q| !q.deleted)
                .map(|q| q.spec.clone())
                .collect(),
            bindings: (self.rabbitmq.exchanges.iter())
                .flat_map(|x| x.bindings.iter().map(|b| b.spec.clone()))
                .collect(),
            groups: self.kafka.groups.iter().map(|g| g.spec.clone()).collect(),
            jms: self.jms.is_used().then(|| self.jms_specs()),
            sqs_queues: self.sqs.queues.iter().map(|q| q.spec.clone()).collect(),
            pulsar: (!self.pulsar.topics.is_empty()).then(|| self.pulsar.spec()),
            stages: (self.clients.stages.services.values())
                .map(|s| s.spec.clone())
                .collect(),
            streams: self.streams.specs(),
        }
    }

    fn jms_specs(&self) -> JmsSpec {
        let jms = &self.jms;
        let durable_subscriptions = (jms.subs.iter())
            .filter(|s| !s.closed)
            .filter_map(|s| {
                let d = s.durable.as_ref()?;
                Some(DurableSubscriptionSpec {
                    topic: jms.topics[s.topic.index()].name.clone(),
                    client_id: d.client_id.clone(),
                    name: d.name.clone(),
                })
            })
            .collect();
        JmsSpec {
            queues: (jms.queues.iter())
                .map(|q| JmsQueueSpec {
                    name: q.name.clone(),
                })
                .collect(),
            topics: (jms.topics.iter())
                .map(|t| JmsTopicSpec {
                    name: t.name.clone(),
                })
                .collect(),
            durable_subscriptions,
            ..jms.settings.clone()
        }
    }
}
