//! ActiveMQ / JMS: only what the registry needs so that JMS nodes are named, picked and
//! inspected as gone; its drawing, cards and forms are still to come.

use super::{Inspected, Kind};
use crate::driver::Driver;
use broker_sim::ids::{JmsQueueId, JmsSubId, JmsTopicId};
use broker_sim::snapshot::{Family, NodeRef};
use broker_sim::Snapshot;

pub struct Jms;

impl Kind for Jms {
    fn family(&self) -> Family {
        Family::Jms
    }

    fn word(&self, node: NodeRef) -> Option<&'static str> {
        match node {
            NodeRef::JmsQueue(_) => Some("jms-queue"),
            NodeRef::JmsTopic(_) => Some("jms-topic"),
            NodeRef::JmsSubscription(_) => Some("jms-subscription"),
            _ => None,
        }
    }

    fn encode(&self, node: NodeRef) -> Option<String> {
        match node {
            NodeRef::JmsQueue(q) => Some(format!("aq:{}", q.0)),
            NodeRef::JmsTopic(t) => Some(format!("at:{}", t.0)),
            NodeRef::JmsSubscription(s) => Some(format!("sub:{}", s.0)),
            _ => None,
        }
    }

    fn decode(&self, prefix: &str, a: u32, b: Option<u32>) -> Option<NodeRef> {
        match (prefix, b) {
            ("aq", None) => Some(NodeRef::JmsQueue(JmsQueueId(a))),
            ("at", None) => Some(NodeRef::JmsTopic(JmsTopicId(a))),
            ("sub", None) => Some(NodeRef::JmsSubscription(JmsSubId(a))),
            _ => None,
        }
    }

    fn inspect(&self, _: &Driver, _: &Snapshot, _: NodeRef) -> Option<Inspected> {
        None
    }
}
