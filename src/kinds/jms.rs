//! ActiveMQ / JMS: topics, queues and topic subscriptions in the web console's words. A topic
//! keeps nothing itself; each subscription is a box with its own stored copies, so a durable
//! subscription whose subscriber is offline is seen filling up (AMQ-1, AMQ-2). The header cards
//! and the inspector speak the web console's words: Pending, Enqueued, Dequeued, Consumers.

use super::{waiting_chips, Card, Inspect, Inspected, Kind, LegendItem, NodeText, Tone};
use crate::driver::Driver;
use crate::forms::stat;
use crate::geom::Rect;
use crate::i18n::{t, Key, Lang};
use crate::lab::Lab;
use crate::model::format_count;
use crate::pen::Pen;
use broker_sim::ids::{JmsQueueId, JmsSubId, JmsTopicId};
use broker_sim::snapshot::{Family, Figure, GraphNode, NodeRef, NodeStatus, Role};
use broker_sim::{ConsumerId, Snapshot};
use yew::prelude::*;

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

    /// The broker's totals, as the web console's Queues and Topics pages would add them up.
    /// Consumers are on stage as nodes: three cards keep the header to one row at 1024 px.
    fn cards(&self, _: &Driver, snap: &Snapshot) -> Vec<Card> {
        let j = &snap.jms;
        let open = || j.subscriptions.iter().filter(|s| !s.closed);
        let card = |id, label, hint, value| Card {
            id,
            class: "c-jms",
            label,
            hint,
            value,
        };
        vec![
            card(
                "count-jms-pending",
                Key::CountJmsPending,
                Key::HintJmsPending,
                j.queues.iter().map(|q| q.pending).sum::<u64>()
                    + open().map(|s| s.pending).sum::<u64>(),
            ),
            card(
                "count-jms-enqueued",
                Key::CountJmsEnqueued,
                Key::HintJmsEnqueued,
                j.queues.iter().map(|q| q.enqueued).sum::<u64>()
                    + j.topics.iter().map(|t| t.enqueued).sum::<u64>(),
            ),
            card(
                "count-jms-dequeued",
                Key::CountJmsDequeued,
                Key::HintJmsDequeued,
                j.queues.iter().map(|q| q.dequeued).sum::<u64>()
                    + j.subscriptions.iter().map(|s| s.dequeued).sum::<u64>(),
            ),
        ]
    }

    fn inspect(&self, _: &Driver, snap: &Snapshot, node: NodeRef) -> Option<Inspected> {
        let name = |c: ConsumerId| {
            (snap.consumers.iter())
                .find(|v| v.id == c)
                .map_or_else(|| c.to_string(), |v| v.name.clone())
        };
        let j = &snap.jms;
        let model = match node {
            NodeRef::JmsQueue(id) => {
                let q = j.queues.iter().find(|q| q.id == id)?;
                JmsModel {
                    kind: Key::TagJmsQueue,
                    name: q.name.clone(),
                    figures: vec![
                        (Key::CountJmsPending, q.pending, "insp-jms-pending"),
                        (Key::CountJmsEnqueued, q.enqueued, "insp-jms-enqueued"),
                        (Key::CountJmsDequeued, q.dequeued, "insp-jms-dequeued"),
                        (Key::InspJmsExpired, q.expired, "insp-jms-expired"),
                        (
                            Key::CountJmsConsumers,
                            q.consumers.len() as u64,
                            "insp-jms-consumers",
                        ),
                    ],
                    lines: q
                        .exclusive
                        .map(|c| Line::new(Key::InspJmsExclusive, name(c)))
                        .into_iter()
                        .chain(q.groups.iter().map(|(g, c)| {
                            Line::new(Key::InspJmsGroup, format!("{g} → {}", name(*c)))
                        }))
                        .collect(),
                    note: Key::InspJmsQueueNote,
                }
            }
            NodeRef::JmsTopic(id) => {
                let topic = j.topics.iter().find(|t| t.id == id)?;
                JmsModel {
                    kind: Key::TagJmsTopic,
                    name: topic.name.clone(),
                    figures: vec![
                        (Key::CountJmsEnqueued, topic.enqueued, "insp-jms-enqueued"),
                        (
                            Key::NodeJmsSubscriptions,
                            topic.subscriptions.len() as u64,
                            "insp-jms-subscriptions",
                        ),
                    ],
                    lines: Vec::new(),
                    note: Key::InspJmsTopicNote,
                }
            }
            NodeRef::JmsSubscription(id) => {
                let s = j.subscriptions.iter().find(|s| s.id == id)?;
                let durable = s.durable.is_some();
                // The subscriber by name and whether it is connected now (AMQ-2).
                let subscriber = Line {
                    label: Key::InspJmsSubscriber,
                    text: s.consumer.map(name).unwrap_or_default(),
                    state: Some(if s.consumer.is_some() {
                        Key::InspJmsOnline
                    } else {
                        Key::TagJmsOffline
                    }),
                };
                JmsModel {
                    kind: if durable {
                        Key::TagJmsDurable
                    } else {
                        Key::TagJmsNonDurable
                    },
                    name: snap
                        .graph
                        .node(node)
                        .map_or_else(String::new, |n| n.name.clone()),
                    figures: vec![
                        (Key::CountJmsPending, s.pending, "insp-jms-pending"),
                        (Key::CountJmsEnqueued, s.enqueued, "insp-jms-enqueued"),
                        (Key::CountJmsDequeued, s.dequeued, "insp-jms-dequeued"),
                        (Key::InspJmsExpired, s.expired, "insp-jms-expired"),
                    ],
                    lines: vec![subscriber],
                    note: if durable {
                        Key::InspJmsDurableNote
                    } else {
                        Key::InspJmsNonDurableNote
                    },
                }
            }
            _ => return None,
        };
        Some(Inspected::new(model))
    }
}

/// A labelled line of the inspector, with a state word after the text.
#[derive(Clone, Debug, PartialEq)]
struct Line {
    label: Key,
    text: String,
    state: Option<Key>,
}

impl Line {
    fn new(label: Key, text: String) -> Line {
        Line {
            label,
            text,
            state: None,
        }
    }
}

/// A JMS destination or subscription in the inspector: the web console's figures, who holds
/// what (the exclusive consumer, message groups, the subscriber), and what the rule is.
#[derive(Clone, Debug, PartialEq)]
struct JmsModel {
    kind: Key,
    name: String,
    figures: Vec<(Key, u64, &'static str)>,
    lines: Vec<Line>,
    note: Key,
}

impl Inspect for JmsModel {
    fn title(&self, l: Lang) -> (String, String) {
        (t(l, self.kind).to_string(), self.name.clone())
    }

    fn body(&self, lab: &Lab) -> Html {
        let l = lab.lang;
        let figures =
            (self.figures.iter()).map(|&(key, value, id)| stat(t(l, key), format_count(value), id));
        let lines = self.lines.iter().map(|line| {
            let text = match line.state {
                Some(state) if line.text.is_empty() => t(l, state).to_string(),
                Some(state) => format!("{} · {}", line.text, t(l, state)),
                None => line.text.clone(),
            };
            stat(t(l, line.label), text, "insp-jms-line")
        });
        html! {
            <>
                <dl class="insp-stats">{ for figures }{ for lines }</dl>
                <p class="insp-note">{ t(l, self.note) }</p>
            </>
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_sim::SimTime;

    /// Lesson 15 at 5.2 s, both subscribers away: the durable subscription app:audit stores m3
    /// and m4 for its offline subscriber (AMQ-2), and the cards add up the web console's
    /// figures: nothing is pending anywhere else and no consumer is connected.
    #[test]
    fn amq_2_cards_and_inspector_show_the_offline_durable_subscription() {
        let scenario = crate::presets::scenario("15-jms-durable-vs-non-durable").unwrap();
        let mut d = Driver::new(&scenario, 1).unwrap();
        d.run_to(SimTime::from_millis(5_200));
        let snap = d.snapshot();
        let cards = Jms.cards(&d, &snap);
        let value = |id: &str| cards.iter().find(|c| c.id == id).unwrap().value;
        assert_eq!(value("count-jms-pending"), 2);
        assert_eq!(value("count-jms-enqueued"), 5);
        let audit = snap
            .jms
            .subscriptions
            .iter()
            .find(|s| !s.closed && s.durable.is_some())
            .unwrap();
        let model = Jms
            .inspect(&d, &snap, NodeRef::JmsSubscription(audit.id))
            .unwrap();
        assert!(model.title(Lang::En).0.contains("durable"));
        // Connected again at 5.5 s: the two stored copies are handed over.
        d.run_to(SimTime::from_millis(7_500));
        let snap = d.snapshot();
        let cards = Jms.cards(&d, &snap);
        let value = |id: &str| cards.iter().find(|c| c.id == id).unwrap().value;
        assert_eq!(value("count-jms-enqueued"), 7);
        assert_eq!(value("count-jms-pending"), 0);
    }
}
