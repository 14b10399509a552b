//! Redis Pub/Sub: channels (a ring with a dot, in red) and the subscribers they push to, a
//! header card of copies delivered, and the channel's inspector body.

use super::{Card, Inspect, Inspected, Kind, NodeText};
use crate::driver::Driver;
use crate::forms::stat;
use crate::i18n::{t, Key, Lang};
use crate::lab::Lab;
use crate::pen::Pen;
use broker_sim::ids::ChannelId;
use broker_sim::snapshot::{Family, Figure, GraphNode, LinkKind, NodeRef, Role};
use broker_sim::Snapshot;
use std::f64::consts::PI;
use yew::prelude::*;

pub struct RedisPubSub;

impl Kind for RedisPubSub {
    fn family(&self) -> Family {
        Family::RedisPubSub
    }

    fn heading(&self, role: Role) -> Option<(Key, Key)> {
        (role == Role::Router).then_some((Key::ColChannels, Key::ColChannelsAfter))
    }

    fn picker_heading(&self, role: Role) -> Option<Key> {
        (role == Role::Router).then_some(Key::ColChannels)
    }

    fn palette(&self, role: Role) -> Option<(&'static str, &'static str)> {
        (role == Role::Router).then_some(("#fdecec", "#b91c1c"))
    }

    fn word(&self, node: NodeRef) -> Option<&'static str> {
        matches!(node, NodeRef::Channel(_)).then_some("channel")
    }

    fn encode(&self, node: NodeRef) -> Option<String> {
        match node {
            NodeRef::Channel(c) => Some(format!("ch:{}", c.0)),
            _ => None,
        }
    }

    fn decode(&self, prefix: &str, a: u32, b: Option<u32>) -> Option<NodeRef> {
        (prefix == "ch" && b.is_none()).then_some(NodeRef::Channel(ChannelId(a)))
    }

    fn text(&self, l: Lang, _: &Snapshot, _: &GraphNode) -> NodeText {
        NodeText {
            tag: t(l, Key::TagChannel).to_string(),
            ..NodeText::default()
        }
    }

    /// A ring with a dot: it broadcasts.
    fn icon(&self, pen: &Pen, _: &GraphNode, x: f64, y: f64, r: f64, colour: &str) {
        let c = pen.ctx;
        c.set_fill_style_str(colour);
        c.set_stroke_style_str(colour);
        c.begin_path();
        c.set_line_width(1.6 * r / 6.0);
        c.arc(x, y, r * 0.85, 0.0, 2.0 * PI).ok();
        c.stroke();
        c.begin_path();
        c.arc(x, y, r * 0.3, 0.0, 2.0 * PI).ok();
        c.fill();
    }

    fn cards(&self, _: &Driver, snap: &Snapshot) -> Vec<Card> {
        // Copies the subscribers were pushed: one per matching subscription (RPS-2).
        let delivered = (snap.graph.nodes.iter())
            .filter(|n| n.family == Family::RedisPubSub && n.role == Role::Consumer)
            .filter_map(|n| n.figure(Figure::Delivered))
            .sum();
        vec![Card {
            id: "count-pushed",
            class: "c-pushed",
            label: Key::CountPushed,
            hint: Key::HintPushed,
            value: delivered,
        }]
    }

    fn inspect(&self, _: &Driver, snap: &Snapshot, node: NodeRef) -> Option<Inspected> {
        let NodeRef::Channel(id) = node else {
            return None;
        };
        let name = snap.channels.get(id.index())?.clone();
        // Every subscriber the channel reaches, by name or by pattern (the core matched them).
        let subscribers = (snap.graph.edges.iter())
            .filter(|e| e.from == node && e.kind == LinkKind::Push)
            .filter_map(|e| snap.graph.node(e.to))
            .map(|n| n.name.clone())
            .collect();
        Some(Inspected::new(ChannelModel { name, subscribers }))
    }
}

#[derive(Clone, Debug, PartialEq)]
struct ChannelModel {
    name: String,
    subscribers: Vec<String>,
}

impl Inspect for ChannelModel {
    fn title(&self, l: Lang) -> (String, String) {
        (t(l, Key::TagChannel).to_string(), self.name.clone())
    }

    fn body(&self, lab: &Lab) -> Html {
        let l = lab.lang;
        html! {
            <>
                <dl class="insp-stats">
                    { stat(t(l, Key::InspSubscribers), self.subscribers.len().to_string(), "insp-subscribers") }
                </dl>
                <p class="insp-note">{ t(l, Key::InspChannelNote) }</p>
            </>
        }
    }
}
