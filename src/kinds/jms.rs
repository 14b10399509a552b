//! ActiveMQ / JMS: topics, queues and topic subscriptions in the web console's words. A topic
//! keeps nothing itself; each subscription is a box with its own stored copies, so a durable
//! subscription whose subscriber is offline is seen filling up (AMQ-1, AMQ-2). Inspector, cards
//! and forms are still to come.

use super::{waiting_chips, Inspected, Kind, LegendItem, NodeText, Tone};
use crate::driver::Driver;
use crate::geom::Rect;
use crate::i18n::{t, Key, Lang};
use crate::model::format_count;
use crate::pen::Pen;
use broker_sim::ids::{JmsQueueId, JmsSubId, JmsTopicId};
use broker_sim::snapshot::{Family, Figure, GraphNode, NodeRef, NodeStatus, Role};
use broker_sim::Snapshot;

pub struct Jms;

/// ActiveMQ's violet, so its destinations are told from RabbitMQ's in the same column.
const JMS_FILL: &str = "#f5f3ff";
const JMS_STROKE: &str = "#6d28d9";

impl Kind for Jms {
    fn family(&self) -> Family {
        Family::Jms
    }

    fn heading(&self, role: Role) -> Option<(Key, Key)> {
        match role {
            Role::Router => Some((Key::ColJmsTopics, Key::ColJmsTopics)),
            Role::Store => Some((Key::ColJmsStores, Key::ColJmsStoresAfter)),
            _ => None,
        }
    }

    fn picker_heading(&self, role: Role) -> Option<Key> {
        self.heading(role).map(|(key, _)| key)
    }

    fn palette(&self, role: Role) -> Option<(&'static str, &'static str)> {
        matches!(role, Role::Router | Role::Store).then_some((JMS_FILL, JMS_STROKE))
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

    fn text(&self, l: Lang, snap: &Snapshot, node: &GraphNode) -> NodeText {
        let figure = |f| format_count(node.figure(f).unwrap_or(0));
        let stored = || {
            format!(
                "{} {} · {} {}",
                t(l, Key::NodeJmsPending),
                figure(Figure::Pending),
                t(l, Key::NodeUnacked),
                figure(Figure::Unacked)
            )
        };
        let (tag, stat) = match node.node {
            NodeRef::JmsTopic(_) => (
                t(l, Key::TagJmsTopic).to_string(),
                format!(
                    "{} {}",
                    t(l, Key::NodeJmsSubscriptions),
                    figure(Figure::Subscribers)
                ),
            ),
            NodeRef::JmsQueue(_) => (t(l, Key::TagJmsQueue).to_string(), stored()),
            NodeRef::JmsSubscription(id) => {
                let durable = (snap.jms.subscriptions.iter())
                    .find(|s| s.id == id)
                    .is_some_and(|s| s.durable.is_some());
                let kind = t(
                    l,
                    if durable {
                        Key::TagJmsDurable
                    } else {
                        Key::TagJmsNonDurable
                    },
                );
                let tag = if node.status == NodeStatus::Paused {
                    format!("{kind} · {}", t(l, Key::TagJmsOffline))
                } else {
                    kind.to_string()
                };
                (tag, stored())
            }
            _ => (String::new(), String::new()),
        };
        NodeText {
            tag,
            stat,
            tone: Tone::Normal,
        }
    }

    fn has_lane(&self, node: &GraphNode) -> bool {
        matches!(
            node.node,
            NodeRef::JmsQueue(_) | NodeRef::JmsSubscription(_)
        )
    }

    /// The copies this queue or subscription stores, the next to be dispatched on the right;
    /// dispatched ones are drawn at their consumer.
    fn lane(&self, pen: &Pen, _: &Snapshot, node: &GraphNode, lane: Rect, k: f64) {
        pen.lane_box(lane, k);
        let figure = |f| node.figure(f).unwrap_or(0);
        let stored = figure(Figure::Pending).saturating_sub(figure(Figure::Unacked));
        waiting_chips(pen, &node.chips, stored, lane, k);
    }

    fn legend(&self, _snap: &Snapshot) -> Vec<LegendItem> {
        vec![LegendItem {
            swatch: "sw lane queue",
            inner: Some(("sw chip", "")),
            key: Key::LegendJmsPending,
        }]
    }

    fn inspect(&self, _: &Driver, _: &Snapshot, _: NodeRef) -> Option<Inspected> {
        None
    }
}
