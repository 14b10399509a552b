//! Redis Streams: a stream box in `XINFO` words (XLEN, pending, lag), so that streams are
//! named, drawn, picked and inspected as gone; the log drawing with each group's last id, the
//! PELs and the claim actions are still to come.

use super::{Inspected, Kind, NodeText, Tone};
use crate::driver::Driver;
use crate::i18n::{t, Key, Lang};
use crate::model::format_count;
use broker_sim::ids::StreamId;
use broker_sim::snapshot::{Family, Figure, GraphNode, NodeRef, Role};
use broker_sim::Snapshot;

pub struct RedisStreams;

/// Redis red, a shade apart from the Pub/Sub channels'.
const STREAM_FILL: &str = "#fef2f2";
const STREAM_STROKE: &str = "#b91c1c";

impl Kind for RedisStreams {
    fn family(&self) -> Family {
        Family::RedisStreams
    }

    fn heading(&self, role: Role) -> Option<(Key, Key)> {
        (role == Role::Store).then_some((Key::ColStreams, Key::ColStreamsAfter))
    }

    fn picker_heading(&self, role: Role) -> Option<Key> {
        (role == Role::Store).then_some(Key::ColStreams)
    }

    fn palette(&self, role: Role) -> Option<(&'static str, &'static str)> {
        (role == Role::Store).then_some((STREAM_FILL, STREAM_STROKE))
    }

    fn word(&self, node: NodeRef) -> Option<&'static str> {
        matches!(node, NodeRef::Stream(_)).then_some("stream")
    }

    fn encode(&self, node: NodeRef) -> Option<String> {
        match node {
            NodeRef::Stream(s) => Some(format!("rs:{}", s.0)),
            _ => None,
        }
    }

    fn decode(&self, prefix: &str, a: u32, b: Option<u32>) -> Option<NodeRef> {
        (prefix == "rs" && b.is_none()).then_some(NodeRef::Stream(StreamId(a)))
    }

    fn text(&self, l: Lang, _: &Snapshot, node: &GraphNode) -> NodeText {
        let figure = |f| format_count(node.figure(f).unwrap_or(0));
        NodeText {
            tag: t(l, Key::TagStream).to_string(),
            stat: format!(
                "XLEN {} · {} {} · {} {}",
                figure(Figure::Length),
                t(l, Key::NodeStreamPending),
                figure(Figure::Pending),
                t(l, Key::NodeStreamLag),
                figure(Figure::Lag)
            ),
            tone: Tone::Normal,
        }
    }

    fn inspect(&self, _: &Driver, _: &Snapshot, _: NodeRef) -> Option<Inspected> {
        None
    }
}
