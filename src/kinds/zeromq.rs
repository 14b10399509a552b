//! ZeroMQ: no broker box. Each socket is a node in the peers' column, named `peer/socket`, with
//! what its pipes hold; a connection is the link between two sockets. Drawing the pipes as
//! small bounded buffers on the links is still to come.

use super::{Inspected, Kind, NodeText, Tone};
use crate::driver::Driver;
use crate::i18n::{t, Key, Lang};
use crate::model::format_count;
use broker_sim::snapshot::{Family, Figure, GraphNode, NodeRef, NodeStatus, Role};
use broker_sim::Snapshot;

pub struct ZeroMq;

/// ZeroMQ's red, so a peer is told from a broker's router in the same column.
const ZMQ_FILL: &str = "#fef2f2";
const ZMQ_STROKE: &str = "#b91c1c";

impl Kind for ZeroMq {
    fn family(&self) -> Family {
        Family::ZeroMq
    }

    fn heading(&self, role: Role) -> Option<(Key, Key)> {
        (role == Role::Peer).then_some((Key::ColZmqPeers, Key::ColZmqPeersAfter))
    }

    fn picker_heading(&self, role: Role) -> Option<Key> {
        (role == Role::Peer).then_some(Key::ColZmqPeers)
    }

    fn palette(&self, role: Role) -> Option<(&'static str, &'static str)> {
        (role == Role::Peer).then_some((ZMQ_FILL, ZMQ_STROKE))
    }

    fn text(&self, l: Lang, _snap: &Snapshot, node: &GraphNode) -> NodeText {
        let figure = |f| format_count(node.figure(f).unwrap_or(0));
        NodeText {
            tag: t(l, Key::TagZmqSocket).to_string(),
            stat: format!(
                "{} {} · {} {}",
                t(l, Key::NodeZmqOut),
                figure(Figure::Pending),
                t(l, Key::NodeZmqIn),
                figure(Figure::Waiting)
            ),
            tone: if node.status == NodeStatus::Running {
                Tone::Normal
            } else {
                Tone::Alert
            },
        }
    }

    fn word(&self, node: NodeRef) -> Option<&'static str> {
        matches!(node, NodeRef::ZmqSocket(_)).then_some("zmq_socket")
    }

    fn encode(&self, node: NodeRef) -> Option<String> {
        match node {
            NodeRef::ZmqSocket(s) => Some(format!("zs:{s}")),
            _ => None,
        }
    }

    fn decode(&self, prefix: &str, a: u32, b: Option<u32>) -> Option<NodeRef> {
        match (prefix, b) {
            ("zs", None) => Some(NodeRef::ZmqSocket(a)),
            _ => None,
        }
    }

    fn inspect(&self, _: &Driver, _: &Snapshot, _: NodeRef) -> Option<Inspected> {
        None
    }
}
