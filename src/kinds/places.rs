//! Where an event finds its message, for the sequence diagram (issue 15): the node it is at,
//! and, for a hand-over that travels one latency (a delivery), the node it leaves for. The
//! shared event vocabulary names entities by id; turning those ids into nodes belongs here,
//! with the other per-family knowledge.

use broker_sim::event::{StageEvent, ZmqEvent};
use broker_sim::snapshot::NodeRef;
use broker_sim::EventKind;

/// A message's place in one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    pub at: NodeRef,
    /// The event sends the message from `at` to this node; it arrives one latency later.
    pub to: Option<NodeRef>,
}

fn at(node: NodeRef) -> Option<Place> {
    Some(Place { at: node, to: None })
}

/// The place `kind` puts its message; `None` for events about no message, and for the
/// families whose own events the diagram does not follow yet (JMS, SQS, Redis Streams).
pub fn place(kind: &EventKind) -> Option<Place> {
    match kind {
        EventKind::Published { producer, .. } | EventKind::PublisherNacked { producer, .. } => {
            at(NodeRef::Producer(*producer))
        }
        EventKind::Routed { exchange, .. } => at(NodeRef::Exchange(*exchange)),
        EventKind::Enqueued { queue, .. }
        | EventKind::Requeued { queue, .. }
        | EventKind::Expired { queue, .. }
        | EventKind::DeadLettered { queue, .. } => at(NodeRef::Queue(*queue)),
        EventKind::Delivered {
            queue, consumer, ..
        } => Some(Place {
            at: NodeRef::Queue(*queue),
            to: Some(NodeRef::Consumer(*consumer)),
        }),
        EventKind::Processed { consumer, .. }
        | EventKind::Settled { consumer, .. }
        | EventKind::PubSubDelivered { consumer, .. }
        | EventKind::RecordProcessed { consumer, .. }
        | EventKind::PulsarReceived { consumer, .. }
        | EventKind::PulsarAcked { consumer, .. }
        | EventKind::PulsarNacked { consumer, .. }
        | EventKind::PulsarDeadLettered { consumer, .. } => at(NodeRef::Consumer(*consumer)),
        EventKind::ChannelPublished { channel, .. } => at(NodeRef::Channel(*channel)),
        EventKind::Appended {
            topic, partition, ..
        } => at(NodeRef::Partition(*topic, *partition)),
        EventKind::PulsarEntryAdded {
            topic, partition, ..
        } => at(NodeRef::PulsarPartition(*topic, *partition)),
        EventKind::PulsarDispatched {
            topic,
            partition,
            consumer,
            ..
        } => Some(Place {
            at: NodeRef::PulsarPartition(*topic, *partition),
            to: Some(NodeRef::Consumer(*consumer)),
        }),
        // A stage's crash between write and publish has no message, but its place.
        EventKind::Stage(
            StageEvent::StageStep { consumer, .. }
            | StageEvent::StageCrashedAfterWrite { consumer, .. },
        ) => at(NodeRef::Consumer(*consumer)),
        EventKind::Zmq(ZmqEvent::ZmqReceived { socket, .. }) => at(NodeRef::ZmqSocket(*socket)),
        EventKind::Dropped { .. }
        | EventKind::Stage(_)
        | EventKind::Zmq(_)
        | EventKind::Jms(_)
        | EventKind::Sqs(_)
        | EventKind::Streams(_)
        | EventKind::KafkaRep(_)
        | EventKind::ConsumerCrashed { .. }
        | EventKind::ConsumerRestarted { .. }
        | EventKind::ChannelClosed { .. }
        | EventKind::OffsetReset { .. }
        | EventKind::NoOffset { .. }
        | EventKind::SessionExpired { .. }
        | EventKind::RebalanceStarted { .. }
        | EventKind::RebalanceDone { .. }
        | EventKind::RetentionDeleted { .. }
        | EventKind::QueueDeleted { .. }
        | EventKind::RabbitMqNodeStopped { .. }
        | EventKind::RabbitMqNodeStarted { .. }
        | EventKind::QuorumLeaderElected { .. }
        | EventKind::RabbitMqNodeIsolated { .. }
        | EventKind::RabbitMqNodePaused { .. }
        | EventKind::RabbitMqNodeHealed { .. }
        | EventKind::SubscriberDisconnected { .. }
        | EventKind::CommandApplied { .. }
        | EventKind::Compacted { .. }
        | EventKind::PulsarLedgerRolled { .. }
        | EventKind::PulsarLedgerTrimmed { .. }
        | EventKind::PulsarSubscriptionCreated { .. }
        | EventKind::PulsarConsumerRefused { .. }
        | EventKind::PulsarActiveConsumer { .. }
        | EventKind::PulsarCursorMoved { .. }
        | EventKind::PulsarRedeliveryRequested { .. }
        | EventKind::PulsarHashDraining { .. }
        | EventKind::PulsarTtlExpired { .. } => None,
    }
}
