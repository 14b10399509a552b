//! Apache Pulsar: registered so that its topics and partitions are nodes like any other; its
//! own drawing (one log with a cursor per subscription) is still to come.

use super::{Inspected, Kind};
use crate::driver::Driver;
use broker_sim::snapshot::{Family, NodeRef};
use broker_sim::Snapshot;

pub struct Pulsar;

impl Kind for Pulsar {
    fn family(&self) -> Family {
        Family::Pulsar
    }

    fn word(&self, node: NodeRef) -> Option<&'static str> {
        match node {
            NodeRef::PulsarTopic(_) => Some("pulsar-topic"),
            NodeRef::PulsarPartition(..) => Some("pulsar-partition"),
            _ => None,
        }
    }

    fn encode(&self, node: NodeRef) -> Option<String> {
        match node {
            NodeRef::PulsarTopic(t) => Some(format!("pl:{t}")),
            NodeRef::PulsarPartition(t, p) => Some(format!("plp:{t}:{p}")),
            _ => None,
        }
    }

    fn decode(&self, prefix: &str, a: u32, b: Option<u32>) -> Option<NodeRef> {
        match (prefix, b) {
            ("pl", None) => Some(NodeRef::PulsarTopic(a)),
            ("plp", Some(p)) => Some(NodeRef::PulsarPartition(a, p)),
            _ => None,
        }
    }

    fn inspect(&self, _: &Driver, _: &Snapshot, _: NodeRef) -> Option<Inspected> {
        None
    }
}
