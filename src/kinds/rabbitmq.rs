//! RabbitMQ: exchanges (a diamond) and queues (a lane of ready messages, head on the right),
//! their header cards (Ready, Unacked, Acked) and legend, and their inspector bodies with
//! queue settings, bindings and the forms that add bindings, queues, producers and consumers.
//! In a cluster, its nodes are boxes listing the queues they hold (★ on a quorum queue's
//! leader), greyed while stopped, each with its stop and start buttons.

use super::{Card, Inspect, Inspected, Kind, LegendItem, NodeText, Tone};
use crate::driver::Driver;
use crate::forms::{
    add_form, commit, fmt_num, fmt_opt, input, on_submit, options, parse_opt, run, section, select,
    stat, unique_name, AddConsumer, AddProducer, ChoiceField, TextField,
};
use crate::geom::Rect;
use crate::hooks::use_render_count;
use crate::i18n::{t, Key, Lang};
use crate::lab::use_frame_model;
use crate::lab::{use_lab, Lab};
use crate::layout::chips_that_fit;
use crate::model::format_count;
use crate::pen::{small, Pen, DANGER, DOWN_FILL, FONT, INK, MUTED};
use broker_sim::ids::{ExchangeId, QueueId};
use broker_sim::scenario::{
    BindingSpec, ConsumerSource, ExchangeType, Overflow, PublishTarget, QueueSpec, QueueType,
};
use broker_sim::snapshot::{Family, Figure, GraphNode, NodeRef, NodeStatus, QueueView, Role};
use broker_sim::{Command, DropReason, Snapshot};
use yew::prelude::*;

pub struct RabbitMq;

/// The queue's node, for views that pair a queue with its consumers.
pub fn queue_node(id: QueueId) -> NodeRef {
    NodeRef::Queue(id)
}

fn exchange_type(kind: ExchangeType) -> &'static str {
    match kind {
        ExchangeType::Direct => "direct",
        ExchangeType::Fanout => "fanout",
        ExchangeType::Topic => "topic",
        ExchangeType::Headers => "headers",
    }
}

impl Kind for RabbitMq {
    fn family(&self) -> Family {
        Family::RabbitMq
    }

    fn heading(&self, role: Role) -> Option<(Key, Key)> {
        match role {
            Role::Router => Some((Key::ColExchanges, Key::ColExchanges)),
            Role::Store => Some((Key::ColQueues, Key::ColQueues)),
            Role::Broker => Some((Key::ColRabbitMqNodes, Key::ColRabbitMqNodes)),
            _ => None,
        }
    }

    fn picker_heading(&self, role: Role) -> Option<Key> {
        match role {
            Role::Router => Some(Key::ColExchanges),
            Role::Store => Some(Key::ColQueues),
            Role::Broker => Some(Key::ColRabbitMqNodes),
            _ => None,
        }
    }

    fn word(&self, node: NodeRef) -> Option<&'static str> {
        match node {
            NodeRef::Exchange(_) => Some("exchange"),
            NodeRef::Queue(_) => Some("queue"),
            NodeRef::RabbitMqNode(_) => Some("node"),
            _ => None,
        }
    }

    fn encode(&self, node: NodeRef) -> Option<String> {
        match node {
            NodeRef::Exchange(x) => Some(format!("x:{}", x.0)),
            NodeRef::Queue(q) => Some(format!("q:{}", q.0)),
            NodeRef::RabbitMqNode(n) => Some(format!("rn:{n}")),
            _ => None,
        }
    }

    fn decode(&self, prefix: &str, a: u32, b: Option<u32>) -> Option<NodeRef> {
        match (prefix, b) {
            ("x", None) => Some(NodeRef::Exchange(ExchangeId(a))),
            ("q", None) => Some(NodeRef::Queue(QueueId(a))),
            ("rn", None) => Some(NodeRef::RabbitMqNode(a)),
            _ => None,
        }
    }

    fn label(&self, l: Lang, node: &GraphNode) -> String {
        display_name(l, &node.name)
    }

    fn text(&self, l: Lang, snap: &Snapshot, node: &GraphNode) -> NodeText {
        match node.node {
            NodeRef::RabbitMqNode(n) => {
                let down = node.status == NodeStatus::Crashed;
                let figure = |f| format_count(node.figure(f).unwrap_or(0));
                let leads = format!("{} {}", t(l, Key::NodeQuorumLeads), figure(Figure::Leaders));
                // Cut off, what it holds apart comes first, so a narrow box still shows it.
                let apart = match snap.rabbitmq_nodes.iter().find(|v| v.id == n) {
                    Some(v) if v.uncommitted > 0 => {
                        Some((Key::TagQuorumUncommitted, v.uncommitted))
                    }
                    Some(v) if v.behind > 0 => Some((Key::NodeBehind, v.behind)),
                    _ => None,
                };
                let stat = match apart {
                    Some((key, n)) => format!("{} {} · {leads}", t(l, key), format_count(n)),
                    None => format!(
                        "{leads} · {} {}",
                        t(l, Key::NodeQuorumMembers),
                        figure(Figure::Replicas)
                    ),
                };
                NodeText {
                    tag: format!("{}{}", t(l, Key::TagRabbitMqNode), stopped(l, node)),
                    stat,
                    tone: if down { Tone::Alert } else { Tone::Normal },
                }
            }
            NodeRef::Exchange(x) => {
                let kind = snap
                    .exchanges
                    .iter()
                    .find(|e| e.id == x)
                    .map_or("?", |e| exchange_type(e.kind));
                NodeText {
                    tag: format!("{}{}", t(l, Key::TagExchange), stopped(l, node)),
                    stat: format!("{} {kind}", t(l, Key::NodeType)),
                    tone: Tone::Quiet,
                }
            }
            _ => {
                let view = match node.node {
                    NodeRef::Queue(q) => snap.queues.iter().find(|v| v.id == q),
                    _ => None,
                };
                let kind = match view {
                    Some(v) if v.kind == QueueType::Quorum => " · quorum".to_string(),
                    Some(v) if v.transient => format!(" · {}", t(l, Key::TagTransient)),
                    _ => String::new(),
                };
                let state = match view {
                    Some(v) if !snap.rabbitmq_nodes.is_empty() => {
                        cluster_state(l, snap, v) + &uncommitted(l, v)
                    }
                    _ => stopped(l, node),
                };
                let figure = |f| format_count(node.figure(f).unwrap_or(0));
                // The length limit counts ready messages only (RMQ-22): "ready 3/3".
                let limit = view
                    .and_then(|v| v.max_length)
                    .map_or(String::new(), |m| format!("/{}", format_count(m)));
                NodeText {
                    tag: format!("{}{kind}{state}", t(l, Key::TagQueue)),
                    stat: format!(
                        "{} {}{limit} · {} {}",
                        t(l, Key::NodeReady),
                        figure(Figure::Ready),
                        t(l, Key::NodeUnacked),
                        figure(Figure::Unacked)
                    ),
                    tone: Tone::Normal,
                }
            }
        }
    }

    fn icon(&self, pen: &Pen, node: &GraphNode, x: f64, y: f64, r: f64, colour: &str) {
        let c = pen.ctx;
        c.set_fill_style_str(colour);
        c.begin_path();
        if let NodeRef::RabbitMqNode(_) = node.node {
            // A server: a box with two drive bays.
            c.fill_rect(x - r, y - r, 2.0 * r, 2.0 * r);
            c.set_fill_style_str("#ffffff");
            for i in 0..2 {
                c.fill_rect(
                    x - r * 0.6,
                    y - r * 0.55 + f64::from(i) * r * 0.7,
                    r * 1.2,
                    r * 0.35,
                );
            }
        } else if let NodeRef::Exchange(_) = node.node {
            // A diamond: it routes.
            c.move_to(x, y - r);
            c.line_to(x + r, y);
            c.line_to(x, y + r);
            c.line_to(x - r, y);
            c.close_path();
            c.fill();
        } else {
            // Three slots in a row: it stores in order.
            let w = r * 0.5;
            for i in 0..3 {
                c.fill_rect(x - r + f64::from(i) * (w + r * 0.25), y - r, w, 2.0 * r);
            }
        }
    }

    fn has_lane(&self, node: &GraphNode) -> bool {
        matches!(node.node, NodeRef::Queue(_) | NodeRef::RabbitMqNode(_))
    }

    /// A node cut off by a network partition keeps its colours inside the shared cut ring.
    fn outline(&self, pen: &Pen, snap: &Snapshot, node: &GraphNode, r: Rect, k: f64) {
        let NodeRef::RabbitMqNode(n) = node.node else {
            return;
        };
        if snap.rabbitmq_nodes.iter().any(|v| v.id == n && v.isolated) {
            super::cut_ring(pen, r, k);
        }
    }

    fn lane(&self, pen: &Pen, snap: &Snapshot, node: &GraphNode, lane: Rect, k: f64) {
        if let NodeRef::RabbitMqNode(n) = node.node {
            node_lane(pen, snap, n, node.status == NodeStatus::Crashed, lane, k);
        } else if let NodeRef::Queue(q) = node.node {
            if let Some(qv) = snap.queues.iter().find(|v| v.id == q) {
                queue_lane(pen, qv, lane, k);
            }
        }
    }

    fn cards(&self, d: &Driver, _: &Snapshot) -> Vec<Card> {
        let ledger = d.sim().ledger();
        vec![
            Card {
                id: "count-ready",
                class: "c-ready",
                label: Key::CountReady,
                hint: Key::HintReady,
                value: ledger.ready,
            },
            Card {
                id: "count-unacked",
                class: "c-unacked",
                label: Key::CountUnacked,
                hint: Key::HintUnacked,
                value: ledger.unacked,
            },
            Card {
                id: "count-acked",
                class: "c-acked",
                label: Key::CountAcked,
                hint: Key::HintAcked,
                value: ledger.acked,
            },
        ]
    }

    fn legend(&self, snap: &Snapshot) -> Vec<LegendItem> {
        // A poison message's mark is explained while one is on stage.
        let poison = snap.transits.iter().any(|t| t.chip.poison)
            || snap.queues.iter().flat_map(|q| &q.head).any(|c| c.poison)
            || snap
                .consumers
                .iter()
                .flat_map(|c| c.unacked.iter().chain(&c.processing))
                .any(|c| c.poison);
        let mut items = vec![
            LegendItem {
                swatch: "sw lane queue",
                inner: Some(("sw chip", "")),
                key: Key::LegendReady,
            },
            LegendItem {
                swatch: "sw lane consumer",
                inner: Some(("sw chip", "")),
                key: Key::LegendUnacked,
            },
            LegendItem {
                swatch: "sw chip redelivered",
                inner: Some(("", "↻")),
                key: Key::LegendRedelivered,
            },
            LegendItem::new("sw slot", Key::LegendFreeSlot),
        ];
        if poison {
            items.push(LegendItem {
                swatch: "sw chip poison",
                inner: Some(("", "×")),
                key: Key::LegendPoison,
            });
        }
        // The node boxes list their quorum-queue members only in a cluster.
        if !snap.rabbitmq_nodes.is_empty() {
            items.extend([
                LegendItem {
                    swatch: "sw replica qq-leader",
                    inner: Some(("sw-star", "★")),
                    key: Key::LegendQuorumLeader,
                },
                LegendItem::new("sw replica qq-member", Key::LegendQuorumFollower),
            ]);
        }
        items
    }

    fn tables(&self) -> Html {
        html! { <QueueTable /> }
    }

    fn inspect(&self, d: &Driver, snap: &Snapshot, node: NodeRef) -> Option<Inspected> {
        let specs = d.sim().specs();
        let names = Names {
            exchanges: snap.exchanges.iter().map(|x| x.name.clone()).collect(),
            queues: snap.queues.iter().map(|q| q.name.clone()).collect(),
            producers: snap.producers.iter().map(|p| p.name.clone()).collect(),
            consumers: snap.consumers.iter().map(|c| c.name.clone()).collect(),
        };
        let nodes = node_states(snap);
        match node {
            NodeRef::RabbitMqNode(n) => snap
                .rabbitmq_nodes
                .iter()
                .find(|v| v.id == n)
                .map(|v| Inspected::new(node_model(snap, v))),
            NodeRef::Exchange(id) => snap.exchanges.iter().find(|x| x.id == id).map(|x| {
                Inspected::new(ExchangeModel {
                    name: x.name.clone(),
                    kind: x.kind,
                    nodes,
                    bindings: specs
                        .bindings
                        .iter()
                        .filter(|b| b.exchange == x.name)
                        .cloned()
                        .collect(),
                    names,
                })
            }),
            NodeRef::Queue(id) => snap.queues.iter().find(|q| q.id == id).map(|q| {
                Inspected::new(QueueModel {
                    name: q.name.clone(),
                    kind: q.kind,
                    nodes,
                    members: (q.members.iter())
                        .map(|&m| (node_name(snap, m), m == q.node))
                        .collect(),
                    held: q.held,
                    ready: q.ready,
                    unacked: q.unacked,
                    consumers: snap
                        .consumers
                        .iter()
                        .filter(|c| q.consumers.contains(&c.id))
                        .map(|c| c.name.clone())
                        .collect(),
                    redelivered: snap
                        .consumers
                        .iter()
                        .filter(|c| c.source == Some(NodeRef::Queue(q.id)))
                        .map(|c| c.redelivered)
                        .sum(),
                    spec: specs.queue(&q.name).cloned(),
                    bindings: specs
                        .bindings
                        .iter()
                        .filter(|b| b.queue.as_deref() == Some(q.name.as_str()))
                        .cloned()
                        .collect(),
                    names,
                })
            }),
            _ => None,
        }
    }
}

/// How RabbitMQ loses a message, as the ledger names it: what the broker-or-brokerless view
/// counts on the broker's side.
pub const LOSSES: [DropReason; 13] = [
    DropReason::Unroutable,
    DropReason::Returned,
    DropReason::RejectedByQueue,
    DropReason::MaxLength,
    DropReason::Rejected,
    DropReason::LostInConsumerCrash,
    DropReason::DeliveryLimit,
    DropReason::DeadLetterUnroutable,
    DropReason::QueueDeleted,
    DropReason::LostInBrokerRestart,
    DropReason::BrokerDown,
    DropReason::TransientQueueLost,
    DropReason::NotYetOnDisk,
];

/// " · node stopped" on an exchange or queue of a stopped node (RMQ-32).
fn stopped(l: Lang, node: &GraphNode) -> String {
    if node.status == NodeStatus::Crashed {
        format!(" · {}", t(l, Key::TagNodeStopped))
    } else {
        String::new()
    }
}

/// Whether the RabbitMQ node is stopped: its exchanges are drawn down.
pub fn node_down(snap: &Snapshot) -> bool {
    (snap.graph.nodes.iter())
        .any(|n| matches!(n.node, NodeRef::Exchange(_)) && n.status == NodeStatus::Crashed)
}

/// Each node's name and whether it runs; one unnamed node outside a cluster.
fn node_states(snap: &Snapshot) -> Vec<(String, bool)> {
    if snap.rabbitmq_nodes.is_empty() {
        return vec![(String::new(), !node_down(snap))];
    }
    (snap.rabbitmq_nodes.iter())
        .map(|n| (n.name.clone(), n.up))
        .collect()
}

fn node_name(snap: &Snapshot, n: u32) -> String {
    (snap.rabbitmq_nodes.iter())
        .find(|v| v.id == n)
        .map_or_else(|| format!("rabbit-{}", n + 1), |v| v.name.clone())
}

/// `★rabbit-2 · rabbit-1 · rabbit-3`: the leader first.
fn members_text(members: &[(String, bool)]) -> String {
    let leader = members.iter().filter(|(_, lead)| *lead);
    let followers = members.iter().filter(|(_, lead)| !*lead);
    (leader.map(|(n, _)| format!("★{n}")))
        .chain(followers.map(|(n, _)| n.clone()))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The publishes a cut-off old leader of the queue took and cannot commit.
fn uncommitted(l: Lang, q: &QueueView) -> String {
    if q.uncommitted == 0 {
        return String::new();
    }
    let n = format_count(q.uncommitted);
    format!(" · {} {n}", t(l, Key::TagQuorumUncommitted))
}

/// A queue's state in a cluster: its leader (★) or node, or why it takes no writes
/// (quorum-queues#availability).
fn cluster_state(l: Lang, snap: &Snapshot, q: &QueueView) -> String {
    let up = |n: u32| snap.rabbitmq_nodes.iter().any(|v| v.id == n && v.up);
    if q.available {
        let star = if q.members.is_empty() { "" } else { "★" };
        return format!(" · {star}{}", node_name(snap, q.node));
    }
    if q.members.is_empty() || q.members.iter().all(|&m| !up(m)) {
        return format!(" · {}", t(l, Key::TagNodeStopped));
    }
    let running = q.members.iter().filter(|&&m| up(m)).count();
    if 2 * running > q.members.len() {
        format!(" · {}", t(l, Key::TagQuorumElecting))
    } else {
        format!(" · {}", t(l, Key::TagQuorumNoMajority))
    }
}

/// The stop or start button of one node; `name` is empty for the only node.
fn node_button(lab: &Lab, name: &str, up: bool) -> Html {
    let l = lab.lang;
    let node = (!name.is_empty()).then(|| name.to_string());
    let suffix = node.as_ref().map_or(String::new(), |n| format!("-{n}"));
    let (command, label, hint, id) = if up {
        (
            Command::CrashRabbitMqNode { node },
            Key::FxStopNode,
            Key::FxStopNodeHint,
            format!("insp-stop-node{suffix}"),
        )
    } else {
        (
            Command::RestartRabbitMqNode { node },
            Key::FxStartNode,
            Key::FxStartNodeHint,
            format!("insp-start-node{suffix}"),
        )
    };
    let onclick = {
        let lab = lab.clone();
        // A refusal would mean the panel is stale; the next frame corrects it.
        Callback::from(move |_: MouseEvent| {
            let _ = run(&lab, command.clone());
        })
    };
    // In a cluster the button names its node; the action is in its title.
    let text = if name.is_empty() {
        t(l, label).to_string()
    } else if up {
        format!("✕ {name}")
    } else {
        format!("↻ {name}")
    };
    let class = if up {
        "lab-btn small danger"
    } else {
        "lab-btn small restart"
    };
    html! {
        <button type="button" {class} data-testid={id} aria-label={format!("{} {name}", t(l, label))}
            title={t(l, hint)} {onclick}>
            { text }
        </button>
    }
}

/// Stops or starts the RabbitMQ node, or one node of the cluster (RMQ-32).
fn node_section(lab: &Lab, nodes: &[(String, bool)]) -> Html {
    let l = lab.lang;
    let title = if nodes.len() > 1 {
        t(l, Key::InspNodes)
    } else {
        t(l, Key::InspNode)
    };
    section(
        title,
        html! {
            <div class="fx-actions">
                { for nodes.iter().map(|(name, up)| node_button(lab, name, *up)) }
            </div>
        },
    )
}

/// One node of a cluster: what it holds, and its stop or start button.
#[derive(Clone, Debug, PartialEq)]
struct NodeModel {
    name: String,
    up: bool,
    isolated: bool,
    paused: bool,
    behind: u64,
    uncommitted: u64,
    /// (queue, role key, leads) for every queue with a copy here.
    queues: Vec<(String, Key, bool)>,
}

fn node_model(snap: &Snapshot, v: &broker_sim::snapshot::RabbitMqNodeView) -> NodeModel {
    NodeModel {
        name: v.name.clone(),
        up: v.up,
        isolated: v.isolated,
        paused: v.paused,
        behind: v.behind,
        uncommitted: v.uncommitted,
        queues: node_queues(snap, v.id)
            .map(|(q, leads)| {
                let role = match (q.members.is_empty(), leads) {
                    (true, _) => Key::InspClassicHere,
                    (false, true) => Key::InspKafkaLeader,
                    (false, false) => Key::InspQuorumFollower,
                };
                (q.name.clone(), role, leads)
            })
            .collect(),
    }
}

/// The queues with a copy on node `n`: classic queues that live there and quorum queues with a
/// member there, with whether it leads.
fn node_queues(snap: &Snapshot, n: u32) -> impl Iterator<Item = (&QueueView, bool)> {
    (snap.queues.iter())
        .filter(move |q| q.members.contains(&n) || (q.members.is_empty() && q.node == n))
        .map(move |q| (q, q.node == n && !q.members.is_empty()))
}

impl Inspect for NodeModel {
    fn title(&self, l: Lang) -> (String, String) {
        (t(l, Key::TagRabbitMqNode).to_string(), self.name.clone())
    }
    fn body(&self, lab: &Lab) -> Html {
        let l = lab.lang;
        let rows = self.queues.iter().map(|(name, role, _)| {
            html! { <tr><td>{ name.clone() }</td><td>{ t(l, *role) }</td></tr> }
        });
        let state = match (self.up, self.isolated, self.paused) {
            (_, true, true) => t(l, Key::InspNodePaused),
            (_, true, false) => t(l, Key::InspIsolated),
            (true, false, _) => t(l, Key::InspRunning),
            (false, false, _) => t(l, Key::TagNodeStopped),
        };
        let node = self.name.clone();
        let partition = |command: Command| {
            let lab = lab.clone();
            // A refusal would mean the panel is stale; the next frame corrects it.
            Callback::from(move |_: MouseEvent| {
                let _ = run(&lab, command.clone());
            })
        };
        // An isolated node can only heal: stopping it is refused until then.
        let actions = if self.isolated {
            html! {
                <button type="button" class="lab-btn restart" data-testid="insp-node-heal"
                    onclick={partition(Command::HealRabbitMqNode { node })}
                    title={t(l, Key::FxHealNodeHint)}>{ "⇄ " }{ t(l, Key::FxHealNode) }</button>
            }
        } else {
            html! {
                <>
                    if self.up {
                        <button type="button" class="lab-btn" data-testid="insp-node-isolate"
                            onclick={partition(Command::IsolateRabbitMqNode { node })}
                            title={t(l, Key::FxIsolateNodeHint)}>
                            { "✂ " }{ t(l, Key::FxIsolateNode) }</button>
                    }
                    { node_button(lab, &self.name, self.up) }
                </>
            }
        };
        html! {
            <>
                <dl class="insp-stats">
                    { stat(t(l, Key::InspState), state.to_string(), "insp-node-state") }
                    if self.behind > 0 {
                        { stat(t(l, Key::InspNodeBehind), format_count(self.behind), "insp-node-behind") }
                    }
                    if self.uncommitted > 0 {
                        { stat(t(l, Key::InspNodeUncommitted), format_count(self.uncommitted), "insp-node-uncommitted") }
                    }
                </dl>
                { section(t(l, Key::InspFailures), html! {
                    <div class="fx-actions">{ actions }</div>
                }) }
                { section(t(l, Key::InspNodeQueues), html! {
                    <table class="insp-table" data-testid="insp-node-table">
                        <thead><tr>
                            <th>{ t(l, Key::TagQueue) }</th>
                            <th>{ t(l, Key::InspQueueRole) }</th>
                        </tr></thead>
                        <tbody>{ for rows }</tbody>
                    </table>
                }) }
            </>
        }
    }
}

/// A node's box: a cell per queue it holds, the leader's marked ★ in bold; all grey while the
/// node is stopped.
fn node_lane(pen: &Pen, snap: &Snapshot, n: u32, down: bool, lane: Rect, k: f64) {
    let cells: Vec<(&QueueView, bool)> = node_queues(snap, n).collect();
    let c = pen.ctx;
    if cells.is_empty() {
        pen.lane_box(lane, k);
        return;
    }
    let gap = 6.0 * k;
    let slots = cells
        .len()
        .min(((lane.w + gap) / (80.0 * k + gap)).floor().max(1.0) as usize);
    let w = (lane.w - gap * (slots - 1) as f64) / slots as f64;
    for (i, (q, leads)) in cells.iter().take(slots).enumerate() {
        let r = Rect {
            x: lane.x + i as f64 * (w + gap),
            w,
            ..lane
        };
        pen.round_rect(r, 4.0 * k);
        c.set_fill_style_str(match (down, leads) {
            (true, _) => DOWN_FILL,
            (false, true) => "#dcfce7",
            (false, false) => "#f0fdf4",
        });
        c.fill();
        c.set_line_width(if *leads { 2.0 * k } else { 1.2 * k });
        c.set_stroke_style_str(if down { "#9ca3af" } else { "#15803d" });
        c.stroke();
        let name = if *leads {
            format!("★{}", q.name)
        } else {
            q.name.clone()
        };
        pen.font(if *leads { 700 } else { 600 }, small(13.0, k), FONT);
        let name = pen.fit(&name, r.w - 8.0 * k);
        c.set_fill_style_str(if down { MUTED } else { INK });
        c.set_text_align("center");
        c.set_text_baseline("middle");
        c.fill_text(&name, r.x + r.w / 2.0, r.mid_y()).ok();
    }
}

fn queue_lane(pen: &Pen, qv: &QueueView, lane: Rect, k: f64) {
    let c = pen.ctx;
    pen.lane_box(lane, k);
    let (chip_w, gap) = (16.0 * k, 5.0 * k);
    let all_fit = chips_that_fit(lane.w, chip_w, gap);
    let slot = |i: usize| Rect {
        x: lane.right() - (i as f64 + 1.0) * chip_w - i as f64 * gap,
        y: lane.y,
        w: chip_w,
        h: lane.h,
    };
    // A length limit that fits the lane is drawn as its places, free ones dashed, and a red
    // wall after the last: what arrives at a full queue has no place (RMQ-22).
    let limit = qv
        .max_length
        .map(|m| m as usize)
        .filter(|&m| m > 0 && m < all_fit);
    if let Some(m) = limit {
        for i in (qv.ready as usize).min(m)..m {
            pen.free_slot(slot(i), k);
        }
        let wall = slot(m - 1).x - gap / 2.0;
        c.set_fill_style_str(DANGER);
        c.fill_rect(wall - 1.5 * k, lane.y - 4.0 * k, 3.0 * k, lane.h + 8.0 * k);
    }
    pen.font(700, 15.0 * k, FONT);
    c.set_text_baseline("middle");
    if qv.ready == 0 {
        let room = limit.map_or(lane.w, |m| slot(m - 1).x - lane.x - gap);
        pen.empty_note(lane.x + 4.0 * k, lane.mid_y(), room - 8.0 * k);
        return;
    }
    // Head (next to be delivered) on the right, next to the consumers.
    let mut shown = qv.head.len().min(all_fit);
    let mut text_w = 0.0;
    if (shown as u64) < qv.ready {
        text_w = pen.text_w(&format!("+{}", format_count(qv.ready))) + 8.0 * k;
        shown = qv
            .head
            .len()
            .min(chips_that_fit(lane.w - text_w, chip_w, gap));
    }
    for (i, chip) in qv.head.iter().take(shown).enumerate() {
        pen.chip(chip, slot(i), k, false);
    }
    let rest = qv.ready.saturating_sub(shown as u64);
    if rest > 0 && text_w > 0.0 {
        c.set_fill_style_str(INK);
        c.set_text_align("left");
        c.fill_text(
            &format!("+{}", format_count(rest)),
            lane.x + 2.0 * k,
            lane.y + lane.h / 2.0,
        )
        .ok();
    }
}

// ------------------------------------------------------------------ the dashboard

/// A queue's row as the RabbitMQ management UI's queue list shows it (RMQ-34, RMQ-35).
#[derive(Clone, Debug, PartialEq)]
struct QueueRow {
    name: String,
    quorum: bool,
    ready: u64,
    unacked: u64,
    total: u64,
    /// incoming, deliver / get, redelivered, ack: per second over the last 5 s window.
    rates: [f64; 4],
}

fn queue_rows(_: &Driver, s: &Snapshot, _: &()) -> Vec<QueueRow> {
    s.queues
        .iter()
        .map(|q| QueueRow {
            name: q.name.clone(),
            quorum: q.kind == QueueType::Quorum,
            ready: q.ready,
            unacked: q.unacked,
            total: q.total,
            rates: [
                q.rates.publish,
                q.rates.deliver,
                q.rates.redeliver,
                q.rates.ack,
            ],
        })
        .collect()
}

/// A rate as RabbitMQ shows it: blank while zero (RMQ-35), else per second.
pub fn format_rate(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec <= 0.0 {
        String::new()
    } else if per_sec >= 100.0 {
        format!("{}/s", format_count(per_sec.round() as u64))
    } else {
        format!("{per_sec:.1}/s")
    }
}

#[function_component(QueueTable)]
fn queue_table() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let renders = use_render_count();
    let rows = use_frame_model((), queue_rows);
    if rows.is_empty() {
        return html! {};
    }
    let body = rows.iter().map(|r| {
        let rate = |i: usize| html! { <td class="num rate">{ format_rate(r.rates[i]) }</td> };
        html! {
            <tr key={r.name.clone()} data-queue={r.name.clone()}>
                <th scope="row" class="name">
                    <span class="ename" title={r.name.clone()}>{ r.name.clone() }</span>
                    if r.quorum { <span class="qtype">{ "quorum" }</span> }
                </th>
                <td class="num" data-col="ready">{ format_count(r.ready) }</td>
                <td class="num" data-col="unacked">{ format_count(r.unacked) }</td>
                <td class="num" data-col="total">{ format_count(r.total) }</td>
                { rate(0) }{ rate(1) }{ rate(2) }{ rate(3) }
            </tr>
        }
    });
    html! {
        <table class="dash-table" data-testid="queue-table" data-renders={renders.to_string()}>
            <thead>
                <tr class="group-head">
                    <th></th>
                    <th colspan="3">{ t(l, Key::DashMessages) }</th>
                    <th colspan="4" title={t(l, Key::DashRatesHint)}>{ t(l, Key::DashRates) }</th>
                </tr>
                <tr>
                    <th scope="col" class="name">{ t(l, Key::DashQueue) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashReady) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashUnacked) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashTotal) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashRateIncoming) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashRateDeliver) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashRateRedeliver) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashRateAck) }</th>
                </tr>
            </thead>
            <tbody>{ for body }</tbody>
        </table>
    }
}

// ------------------------------------------------------------------ the inspector

/// The default exchange's name is empty; it is shown as "(default)".
pub fn display_name(l: Lang, name: &str) -> String {
    if name.is_empty() {
        t(l, Key::DefaultExchange).to_string()
    } else {
        name.to_string()
    }
}

/// Names the forms offer as choices and avoid as new names.
#[derive(Clone, Debug, Default, PartialEq)]
struct Names {
    exchanges: Vec<String>,
    queues: Vec<String>,
    producers: Vec<String>,
    consumers: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
struct ExchangeModel {
    name: String,
    kind: ExchangeType,
    nodes: Vec<(String, bool)>,
    bindings: Vec<BindingSpec>,
    names: Names,
}

#[derive(Clone, Debug, PartialEq)]
struct QueueModel {
    name: String,
    kind: QueueType,
    nodes: Vec<(String, bool)>,
    /// A quorum queue's members in a cluster: (node, leads).
    members: Vec<(String, bool)>,
    held: u64,
    ready: u64,
    unacked: u64,
    consumers: Vec<String>,
    redelivered: u64,
    spec: Option<QueueSpec>,
    bindings: Vec<BindingSpec>,
    names: Names,
}

impl Inspect for ExchangeModel {
    fn title(&self, l: Lang) -> (String, String) {
        (
            t(l, Key::TagExchange).to_string(),
            display_name(l, &self.name),
        )
    }
    fn body(&self, lab: &Lab) -> Html {
        exchange_body(lab, self)
    }
}

impl Inspect for QueueModel {
    fn title(&self, l: Lang) -> (String, String) {
        (t(l, Key::TagQueue).to_string(), self.name.clone())
    }
    fn body(&self, lab: &Lab) -> Html {
        queue_body(lab, self)
    }
}

fn edit_queue(lab: &Lab, name: &str, f: impl FnOnce(&mut QueueSpec)) -> Option<String> {
    let spec = lab.driver.borrow().sim().specs().queue(name).cloned();
    let Some(mut spec) = spec else {
        return Some(format!("no queue named {name:?}"));
    };
    f(&mut spec);
    run(lab, Command::UpdateQueue { queue: spec })
}

// ---- queue

const OVERFLOWS: [(&str, &str); 3] = [
    ("drop-head", "drop-head"),
    ("reject-publish", "reject-publish"),
    ("reject-publish-dlx", "reject-publish-dlx"),
];

fn overflow_value(o: Overflow) -> &'static str {
    match o {
        Overflow::DropHead => "drop-head",
        Overflow::RejectPublish => "reject-publish",
        Overflow::RejectPublishDlx => "reject-publish-dlx",
    }
}

fn queue_body(lab: &Lab, q: &QueueModel) -> Html {
    let names = &q.names;
    let l = lab.lang;
    let name = q.name.clone();
    let stats = html! {
        <dl class="insp-stats">
            { stat(t(l, Key::CountReady), format_count(q.ready), "insp-ready") }
            { stat(t(l, Key::CountUnacked), format_count(q.unacked), "insp-queue-unacked") }
            { stat(t(l, Key::LegendRedelivered), format_count(q.redelivered), "insp-queue-redelivered") }
            { stat(t(l, Key::InspType), match q.kind { QueueType::Classic => "classic", QueueType::Quorum => "quorum" }.to_string(), "insp-queue-type") }
            if q.members.len() > 1 {
                { stat(t(l, Key::InspQuorumMembers), members_text(&q.members), "insp-queue-members") }
                { stat(t(l, Key::InspQuorumHeld), format_count(q.held), "insp-queue-held") }
            }
            <div class="stat wide">
                <dt>{ t(l, Key::ColConsumers) }</dt>
                <dd>{ if q.consumers.is_empty() { "—".to_string() } else { q.consumers.join(", ") } }</dd>
            </div>
        </dl>
    };
    let bindings = bindings_view(lab, &q.bindings, BindingSide::Queue);
    let add_binding = html! {
        <AddBinding queue={Some(AttrValue::from(name.clone()))} exchange={None::<AttrValue>}
            choices={names.exchanges.iter().filter(|x| !x.is_empty()).cloned().collect::<Vec<_>>()} />
    };
    let add_consumer = html! {
        <AddConsumer source={ConsumerSource::Queue(name.clone())} base="worker" prefetch={true}
            title={Key::InspAddConsumer} testid="add-consumer" taken={names.consumers.clone()} />
    };
    let Some(spec) = &q.spec else {
        return html! { <>{ stats }{ node_section(lab, &q.nodes) }{ bindings }{ add_binding }{ add_consumer }</> };
    };
    let n = name.clone();
    let max_length = html! {
        <TextField label={t(l, Key::InspMaxLength)} value={fmt_opt(spec.max_length)} testid="insp-max-length"
            placeholder={t(l, Key::InspNoLimit)}
            on_commit={commit(lab, |l, s| parse_opt::<u64>(l, s, Key::InspNotAWholeNumber), move |lab, v| edit_queue(lab, &n, |q| q.max_length = v))} />
    };
    let on_overflow = {
        let (lab, n) = (lab.clone(), name.clone());
        Callback::from(move |v: String| {
            edit_queue(&lab, &n, |q| {
                q.overflow = match v.as_str() {
                    "reject-publish" => Overflow::RejectPublish,
                    "reject-publish-dlx" => Overflow::RejectPublishDlx,
                    _ => Overflow::DropHead,
                }
            })
        })
    };
    let n = name.clone();
    let ttl = html! {
        <TextField label={t(l, Key::InspTtl)} value={spec.message_ttl_ms.map(fmt_num).unwrap_or_default()} testid="insp-ttl"
            unit={AttrValue::from("ms")} placeholder={t(l, Key::InspNoLimit)}
            on_commit={commit(lab, |l, s| parse_opt::<f64>(l, s, Key::InspNotANumber), move |lab, v| edit_queue(lab, &n, |q| q.message_ttl_ms = v))} />
    };
    // "-" for none, "=name" for an exchange (the default exchange's name is empty).
    let mut dlx_options = vec![(AttrValue::from("-"), AttrValue::from(t(l, Key::InspNone)))];
    dlx_options.extend(names.exchanges.iter().map(|x| {
        (
            AttrValue::from(format!("={x}")),
            AttrValue::from(display_name(l, x)),
        )
    }));
    let on_dlx = {
        let (lab, n) = (lab.clone(), name.clone());
        Callback::from(move |v: String| {
            edit_queue(&lab, &n, |q| {
                q.dead_letter_exchange = v.strip_prefix('=').map(str::to_string)
            })
        })
    };
    let n = name.clone();
    let dlx_key = html! {
        <TextField label={t(l, Key::InspDlxRouting)} value={spec.dead_letter_routing_key.clone().unwrap_or_default()}
            testid="insp-dlx-key" placeholder={t(l, Key::InspOwnRouting)}
            on_commit={commit(lab, |_, s| Ok::<_, String>((!s.trim().is_empty()).then(|| s.trim().to_string())), move |lab, v| edit_queue(lab, &n, |q| q.dead_letter_routing_key = v))} />
    };
    let n = name.clone();
    let delivery_limit = if spec.kind == QueueType::Quorum {
        html! {
            <TextField label={t(l, Key::InspDeliveryLimit)} value={fmt_opt(spec.delivery_limit)} testid="insp-delivery-limit"
                placeholder="20"
                on_commit={commit(lab, |l, s| parse_opt::<i64>(l, s, Key::InspNotAWholeNumber), move |lab, v| edit_queue(lab, &n, |q| q.delivery_limit = v))} />
        }
    } else {
        html! { <p class="insp-hint">{ t(l, Key::InspDeliveryLimitQuorum) }</p> }
    };
    html! {
        <>
            { stats }
            { node_section(lab, &q.nodes) }
            { section(t(l, Key::InspSettings), html! {
                <>
                    { max_length }
                    <ChoiceField label={t(l, Key::InspOverflow)} value={overflow_value(spec.overflow)}
                        options={options(&OVERFLOWS)} testid="insp-overflow" on_commit={on_overflow} />
                    { ttl }
                    <ChoiceField label={t(l, Key::InspDlx)}
                        value={spec.dead_letter_exchange.as_ref().map_or_else(|| "-".to_string(), |x| format!("={x}"))}
                        options={dlx_options} testid="insp-dlx" on_commit={on_dlx} />
                    { dlx_key }
                    { delivery_limit }
                </>
            }) }
            { bindings }
            { add_binding }
            { add_consumer }
        </>
    }
}

#[derive(Clone, Copy, PartialEq)]
enum BindingSide {
    Exchange,
    Queue,
}

/// The bindings of an exchange or a queue, each with a remove button.
fn bindings_view(lab: &Lab, bindings: &[BindingSpec], side: BindingSide) -> Html {
    let l = lab.lang;
    let rows = bindings.iter().enumerate().map(|(i, b)| {
        let other = match side {
            BindingSide::Exchange => b
                .queue
                .clone()
                .or_else(|| b.to_exchange.clone())
                .unwrap_or_default(),
            BindingSide::Queue => b.exchange.clone(),
        };
        let remove = {
            let (lab, b) = (lab.clone(), b.clone());
            Callback::from(move |_: MouseEvent| {
                // A refusal here would mean the list is stale; the next frame corrects it.
                let _ = run(&lab, Command::RemoveBinding { binding: b.clone() });
            })
        };
        html! {
            <li>
                <span class="binding-text">
                    { other }{ " · " }{ t(l, Key::VerbBind) }{ " " }
                    <code>{ if b.routing_key.is_empty() { "\"\"".to_string() } else { b.routing_key.clone() } }</code>
                </span>
                <button type="button" class="lab-btn small" data-testid={format!("insp-unbind-{i}")} onclick={remove}
                    aria-label={format!("{} {}", t(l, Key::InspUnbind), b.routing_key)}>
                    { t(l, Key::InspUnbind) }
                </button>
            </li>
        }
    });
    section(
        t(l, Key::InspBindings),
        if bindings.is_empty() {
            html! { <p class="insp-note">{ "—" }</p> }
        } else {
            html! { <ul class="insp-bindings" data-testid="insp-bindings">{ for rows }</ul> }
        },
    )
}

// ---- exchange

fn exchange_body(lab: &Lab, x: &ExchangeModel) -> Html {
    let names = &x.names;
    let l = lab.lang;
    let kind = exchange_type(x.kind);
    let is_default = x.name.is_empty();
    html! {
        <>
            <dl class="insp-stats">
                { stat(t(l, Key::InspType), kind.to_string(), "insp-exchange-type") }
            </dl>
            { node_section(lab, &x.nodes) }
            if is_default {
                <p class="insp-note">{ t(l, Key::InspDefaultExchangeNote) }</p>
            } else {
                { bindings_view(lab, &x.bindings, BindingSide::Exchange) }
                <AddBinding exchange={Some(AttrValue::from(x.name.clone()))} queue={None::<AttrValue>}
                    choices={names.queues.clone()} />
            }
            <AddQueue exchange={x.name.clone()} taken={names.queues.clone()} />
            <AddProducer target={PublishTarget::Exchange(x.name.clone())}
                key_hint={Some(if is_default { names.queues.first().cloned().unwrap_or_default() } else { String::new() })}
                taken={names.producers.clone()} />
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct AddBindingProps {
    /// The fixed side: an exchange (choose a queue) or a queue (choose an exchange).
    pub exchange: Option<AttrValue>,
    pub queue: Option<AttrValue>,
    pub choices: Vec<String>,
}

#[function_component(AddBinding)]
pub fn add_binding(p: &AddBindingProps) -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let other = use_state(|| p.choices.first().cloned().unwrap_or_default());
    let key = use_state(String::new);
    let error = use_state(|| None::<String>);
    if p.choices.is_empty() {
        return html! {};
    }
    let onsubmit = {
        let (lab, other, key) = (lab.clone(), other.clone(), key.clone());
        let (exchange, queue) = (p.exchange.clone(), p.queue.clone());
        on_submit(&error, move || {
            let binding = BindingSpec {
                exchange: exchange
                    .as_ref()
                    .map_or_else(|| (*other).clone(), |x| x.to_string()),
                queue: Some(
                    queue
                        .as_ref()
                        .map_or_else(|| (*other).clone(), |q| q.to_string()),
                ),
                to_exchange: None,
                routing_key: key.trim().to_string(),
                arguments: Default::default(),
            };
            run(&lab, Command::AddBinding { binding })
        })
    };
    let choices: Vec<(String, String)> = p.choices.iter().map(|c| (c.clone(), c.clone())).collect();
    let label = if p.exchange.is_some() {
        Key::TagQueue
    } else {
        Key::TagExchange
    };
    add_form(
        l,
        Key::InspAddBinding,
        "add-binding",
        html! {
            <>
                { select(t(l, label), &other, &choices, "add-binding-target") }
                { input(t(l, Key::InspRouting), &key, "add-binding-key") }
            </>
        },
        onsubmit,
        &error,
    )
}

#[derive(Properties, PartialEq)]
pub struct AddQueueProps {
    /// The exchange the new queue is bound to; "" (the default exchange) binds nothing.
    pub exchange: String,
    pub taken: Vec<String>,
}

#[function_component(AddQueue)]
pub fn add_queue(p: &AddQueueProps) -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let name = use_state(|| unique_name("queue", p.taken.iter().map(String::as_str)));
    {
        let name = name.clone();
        use_effect_with(p.taken.clone(), move |taken| {
            if taken.contains(&*name) {
                name.set(unique_name("queue", taken.iter().map(String::as_str)));
            }
        });
    }
    let key = use_state(String::new);
    let error = use_state(|| None::<String>);
    let bound = !p.exchange.is_empty();
    let onsubmit = {
        let (lab, name, key, exchange) =
            (lab.clone(), name.clone(), key.clone(), p.exchange.clone());
        on_submit(&error, move || {
            let queue = name.trim().to_string();
            if let Some(e) = run(
                &lab,
                Command::AddQueue {
                    queue: QueueSpec {
                        name: queue.clone(),
                        ..QueueSpec::default()
                    },
                },
            ) {
                return Some(e);
            }
            if exchange.is_empty() {
                return None;
            }
            let binding = BindingSpec {
                exchange: exchange.clone(),
                queue: Some(queue),
                to_exchange: None,
                routing_key: key.trim().to_string(),
                arguments: Default::default(),
            };
            run(&lab, Command::AddBinding { binding })
        })
    };
    add_form(
        l,
        Key::InspAddQueue,
        "add-queue",
        html! {
            <>
                { input(t(l, Key::InspName), &name, "add-queue-name") }
                if bound { { input(t(l, Key::InspRouting), &key, "add-queue-key") } }
            </>
        },
        onsubmit,
        &error,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_blank_when_zero() {
        assert_eq!(format_rate(0.0), "");
        assert_eq!(format_rate(f64::NAN), "");
        assert_eq!(format_rate(0.2), "0.2/s");
        assert_eq!(format_rate(12.34), "12.3/s");
        assert_eq!(format_rate(2_345.6), "2,346/s");
    }

    /// Issue 10: lesson 7 never showed its length limit. A limited queue's node says how
    /// full it is against the limit, in ready messages (RMQ-22).
    #[test]
    fn rmq_22_a_queue_node_shows_its_length_limit() {
        let scenario = crate::presets::scenario("07-full-queue").unwrap();
        let mut d = Driver::new(&scenario, 1).unwrap();
        d.run_to(broker_sim::SimTime::from_millis(2_300));
        let snap = d.snapshot();
        let stat = |name: &str| {
            let node = snap.graph.nodes.iter().find(|n| n.name == name).unwrap();
            RabbitMq.text(Lang::En, &snap, node).stat
        };
        assert!(
            stat("drop-head").starts_with("ready 3/3 "),
            "{}",
            stat("drop-head")
        );
        // Without a limit there is no "/".
        assert!(
            !stat("overflow-dlq").contains('/'),
            "{}",
            stat("overflow-dlq")
        );
    }

    #[test]
    fn queue_rows_follow_the_counters() {
        let mut d = Driver::with_default_scenario();
        d.run_to(broker_sim::SimTime::from_secs(12));
        let snap = d.snapshot();
        let rows = queue_rows(&d, &snap, &());
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.total, r.ready + r.unacked);
        assert_eq!(r.ready, snap.ledger.ready);
        assert!(r.rates[0] > 0.0, "publish rate after 5 s: {:?}", r.rates);
    }
}
