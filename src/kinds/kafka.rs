//! Kafka: topics drawn as frames of partition logs (records, segments, retention's deletions,
//! offsets and each group's committed offset and position), consumer groups as frames around
//! their members, their header cards (records, lag, committed offsets) and legend, and their
//! inspector bodies with the forms that add groups, members and producers.

use super::{Card, Inspect, Inspected, Kind, LegendItem, NodeText, Tone};
use crate::driver::Driver;
use crate::forms::{
    add_form, fmt_num, input, on_submit, run, section, select, stat, unique_name, AddConsumer,
    AddProducer,
};
use crate::geom::Rect;
use crate::hooks::use_render_count;
use crate::i18n::{t, Key, Lang};
use crate::lab::use_frame_model;
use crate::lab::{use_lab, Lab};
use crate::layout::{
    BandKind, FrameBox, GroupBox, RowBox, StripGeom, FRAME_PAD, GROUP_PAD, MAX_MARKER_ROWS, MORE_H,
};
use crate::model::format_count;
use crate::pen::{small, Pen, DANGER, FAINT, FONT, INK, MONO, MUTED, PROCESSING};
use broker_sim::assignor::Assignor;
use broker_sim::ids::{GroupId, TopicId};
use broker_sim::scenario::{CommitMode, ConsumerSource, ConsumerSpec, GroupSpec, PublishTarget};
use broker_sim::snapshot::{
    ConsumerView, Family, Figure, GraphNode, GroupView, LinkKind, NodeRef, NodeStatus,
    PartitionView, Role, TopicView,
};
use broker_sim::specs::Specs;
use broker_sim::ConsumerStatus;
use broker_sim::{Command, Snapshot};
use yew::prelude::*;

pub struct Kafka;

/// Consumer-group colours: group frames, their ownership links and their offset markers.
const GROUP_COLOURS: [&str; 5] = ["#0f766e", "#9333ea", "#b45309", "#be123c", "#1d4ed8"];
const TOPIC_FILL: &str = "#ecfeff";
pub const TOPIC_STROKE: &str = "#0e7490";
const MEMBER_FILL: &str = "#f1ecfb";
const MEMBER_STROKE: &str = "#6d28d9";
/// The high watermark, on partition logs and on replicas.
const HW_COLOUR: &str = "#b91c1c";
/// Records past the high watermark: written, not yet on every ISR member.
const UNCOMMITTED: &str = "#fbbf24";
const LEADER_COLOUR: &str = "#b45309";

fn group_colour(group: GroupId) -> &'static str {
    GROUP_COLOURS[group.index() % GROUP_COLOURS.len()]
}

fn topic_view(snap: &Snapshot, id: TopicId) -> Option<&TopicView> {
    snap.topics.iter().find(|v| v.id == id)
}

fn group_view(snap: &Snapshot, id: GroupId) -> Option<&GroupView> {
    snap.groups.iter().find(|v| v.id == id)
}

fn consumer(snap: &Snapshot, node: NodeRef) -> Option<&ConsumerView> {
    let NodeRef::Consumer(id) = node else {
        return None;
    };
    snap.consumers.iter().find(|c| c.id == id)
}

/// Stacked lines: an append-only log.
fn icon(pen: &Pen, x: f64, y: f64, r: f64, colour: &str) {
    let c = pen.ctx;
    c.set_fill_style_str(colour);
    for i in 0..3 {
        let w = if i == 2 { r * 1.2 } else { 2.0 * r };
        c.fill_rect(x - r, y - r + f64::from(i) * r * 0.8, w, r * 0.45);
    }
}

impl Kind for Kafka {
    fn family(&self) -> Family {
        Family::Kafka
    }

    fn band(&self) -> BandKind {
        BandKind::Event
    }

    fn heading(&self, role: Role) -> Option<(Key, Key)> {
        match role {
            Role::Store => Some((Key::ColTopics, Key::ColTopics)),
            Role::Broker => Some((Key::ColKafkaBrokers, Key::ColKafkaBrokersAfter)),
            _ => None,
        }
    }

    fn groups_heading(&self) -> Option<Key> {
        Some(Key::ColGroups)
    }

    fn picker_heading(&self, role: Role) -> Option<Key> {
        match role {
            Role::Store => Some(Key::InspTopics),
            Role::Broker => Some(Key::ColKafkaBrokers),
            _ => None,
        }
    }

    fn word(&self, node: NodeRef) -> Option<&'static str> {
        match node {
            NodeRef::Topic(_) => Some("topic"),
            NodeRef::Partition(..) => Some("partition"),
            NodeRef::KafkaBroker(_) => Some("broker"),
            _ => None,
        }
    }

    fn encode(&self, node: NodeRef) -> Option<String> {
        match node {
            NodeRef::Topic(t) => Some(format!("t:{}", t.0)),
            NodeRef::Partition(t, p) => Some(format!("pt:{}:{p}", t.0)),
            NodeRef::KafkaBroker(b) => Some(format!("kb:{b}")),
            _ => None,
        }
    }

    fn decode(&self, prefix: &str, a: u32, b: Option<u32>) -> Option<NodeRef> {
        match (prefix, b) {
            ("t", None) => Some(NodeRef::Topic(TopicId(a))),
            ("pt", Some(b)) => Some(NodeRef::Partition(TopicId(a), b)),
            ("kb", None) => Some(NodeRef::KafkaBroker(a)),
            _ => None,
        }
    }

    /// A broker: the partitions it leads and the replicas it holds (KAF-19), or down.
    fn text(&self, l: Lang, _: &Snapshot, node: &GraphNode) -> NodeText {
        if !matches!(node.node, NodeRef::KafkaBroker(_)) {
            return NodeText::default();
        }
        let down = node.status == NodeStatus::Crashed;
        let figure = |f| format_count(node.figure(f).unwrap_or(0));
        NodeText {
            tag: t(
                l,
                if down {
                    Key::TagKafkaBrokerDown
                } else {
                    Key::TagKafkaBroker
                },
            )
            .to_string(),
            stat: format!(
                "{} {} · {} {}",
                t(l, Key::NodeKafkaLeaders),
                figure(Figure::Leaders),
                t(l, Key::NodeKafkaReplicas),
                figure(Figure::Replicas)
            ),
            tone: if down { Tone::Alert } else { Tone::Normal },
        }
    }

    /// An isolated broker is up but cut off: the shared cut ring (`super::cut_ring`), unlike a
    /// crashed broker's grey box with a red dashed edge.
    fn outline(&self, pen: &Pen, snap: &Snapshot, node: &GraphNode, r: Rect, k: f64) {
        if isolated(snap, node.node) {
            super::cut_ring(pen, r, k);
        }
    }

    /// A broker by its id, as Kafka's tools and the trace name it (`b0`).
    fn label(&self, _: Lang, node: &GraphNode) -> String {
        match node.node {
            NodeRef::KafkaBroker(b) => format!("b{b}"),
            _ => node.name.clone(),
        }
    }

    fn icon(&self, pen: &Pen, _: &GraphNode, x: f64, y: f64, r: f64, colour: &str) {
        icon(pen, x, y, r, colour);
    }

    fn has_lane(&self, node: &GraphNode) -> bool {
        matches!(node.node, NodeRef::KafkaBroker(_))
    }

    fn lane(&self, pen: &Pen, snap: &Snapshot, node: &GraphNode, lane: Rect, k: f64) {
        if let NodeRef::KafkaBroker(b) = node.node {
            broker_lane(pen, snap, b, node.status == NodeStatus::Crashed, lane, k);
        }
    }

    /// A partition's link to the member that owns it takes the group's colour.
    fn link_colour(&self, snap: &Snapshot, kind: LinkKind, to: NodeRef) -> Option<&'static str> {
        (kind == LinkKind::Fetch)
            .then(|| consumer(snap, to).and_then(|c| c.group).map(group_colour))
            .flatten()
    }

    fn frame(&self, pen: &Pen, snap: &Snapshot, frame: &FrameBox, k: f64) {
        topic(pen, snap, frame, k);
    }

    fn row(&self, pen: &Pen, snap: &Snapshot, row: &RowBox, k: f64) {
        partition(pen, snap, row, k);
    }

    fn group(&self, pen: &Pen, snap: &Snapshot, group: &GroupBox, k: f64) {
        self::group(pen, snap, group, k);
    }

    fn cards(&self, _: &Driver, snap: &Snapshot) -> Vec<Card> {
        let graph = &snap.graph;
        let topics = graph
            .nodes
            .iter()
            .filter(|n| n.family == Family::Kafka && n.role == Role::Store && n.parent.is_none());
        let sum = |f: Figure| -> u64 {
            graph
                .groups
                .iter()
                .filter(|g| g.family == Family::Kafka)
                .filter_map(|g| g.figure(f))
                .sum()
        };
        vec![
            Card {
                id: "count-records",
                class: "c-records",
                label: Key::CountRecords,
                hint: Key::HintRecords,
                value: topics.filter_map(|n| n.figure(Figure::Records)).sum(),
            },
            Card {
                id: "count-lag",
                class: "c-lag",
                label: Key::CountLag,
                hint: Key::HintLag,
                value: sum(Figure::Lag),
            },
            Card {
                id: "count-committed",
                class: "c-committed",
                label: Key::CountCommitted,
                hint: Key::HintCommitted,
                value: sum(Figure::Committed),
            },
        ]
    }

    fn legend(&self, snap: &Snapshot) -> Vec<LegendItem> {
        let mut items = vec![
            LegendItem {
                swatch: "sw lane log",
                inner: Some(("sw chip", "")),
                key: Key::LegendRecord,
            },
            LegendItem::new("sw marker committed", Key::LegendCommitted),
            LegendItem::new("sw marker position", Key::LegendPosition),
            LegendItem::new("sw deleted", Key::LegendDeleted),
        ];
        // The replica cells and the high watermark are drawn only for a replicated cluster.
        if !snap.kafka_brokers.is_empty() {
            items.extend([
                LegendItem {
                    swatch: "sw replica isr",
                    inner: Some(("sw-star", "★")),
                    key: Key::LegendLeader,
                },
                LegendItem::new("sw replica isr", Key::LegendIsr),
                LegendItem::new("sw replica out", Key::LegendOutOfSync),
                LegendItem::new("sw hw", Key::LegendHighWatermark),
                LegendItem::new("sw chip uncommitted", Key::LegendUncommitted),
            ]);
        }
        items
    }

    fn tables(&self) -> Html {
        html! { <GroupTable /> }
    }

    fn inspect(&self, d: &Driver, snap: &Snapshot, node: NodeRef) -> Option<Inspected> {
        if let NodeRef::KafkaBroker(b) = node {
            return broker_model(snap, b).map(Inspected::new);
        }
        let specs = d.sim().specs();
        let (NodeRef::Topic(id) | NodeRef::Partition(id, _)) = node else {
            return None;
        };
        let topic = snap.topics.iter().find(|t| t.id == id)?;
        Some(Inspected::new(TopicModel {
            name: topic.name.clone(),
            partitions: topic
                .partitions
                .iter()
                .map(|p| (p.index, p.log_start, p.log_end))
                .collect(),
            focus: match node {
                NodeRef::Partition(_, p) => Some(p),
                _ => None,
            },
            retention_ms: topic.retention_ms,
            retention_bytes: topic.retention_bytes,
            groups: specs
                .groups
                .iter()
                .filter(|g| g.topics.contains(&topic.name))
                .filter_map(|g| snap.groups.iter().find(|v| v.name == g.name))
                .filter_map(|g| group_info(snap, &specs, g.id))
                .collect(),
            names: Names {
                producers: snap.producers.iter().map(|p| p.name.clone()).collect(),
                consumers: snap.consumers.iter().map(|c| c.name.clone()).collect(),
                groups: snap.groups.iter().map(|g| g.name.clone()).collect(),
            },
        }))
    }
}

// ------------------------------------------------------------------ drawing

/// A topic's frame and header: icon, tag, name and retention.
fn topic(pen: &Pen, snap: &Snapshot, frame: &FrameBox, k: f64) {
    let c = pen.ctx;
    let r = frame.rect;
    pen.round_rect(r, 10.0 * k);
    c.set_fill_style_str(TOPIC_FILL);
    c.fill();
    c.set_line_width(2.0 * k);
    c.set_stroke_style_str(TOPIC_STROKE);
    c.stroke();
    let Some(tv) = (match frame.node {
        NodeRef::Topic(id) => topic_view(snap, id),
        _ => None,
    }) else {
        return;
    };
    let h = frame.header;
    let mid = h.y + h.h * 0.45;
    icon(pen, h.x + 8.0 * k, mid, 7.0 * k, TOPIC_STROKE);
    pen.font(500, small(14.0, k), FONT);
    c.set_fill_style_str(MUTED);
    c.set_text_align("left");
    c.set_text_baseline("middle");
    let tag = t(pen.lang, Key::TagTopic);
    let mut x = h.x + 22.0 * k;
    c.fill_text(tag, x, mid).ok();
    x += pen.text_w(tag) + 8.0 * k;
    // Records held and retention on the right, the name in what is left.
    let records: u64 = tv.partitions.iter().map(|p| p.log_end - p.log_start).sum();
    let retention = format!(
        "{} {} · {}",
        format_count(records),
        t(pen.lang, Key::NodeRecords),
        retention_text(pen.lang, tv)
    );
    pen.font(500, small(14.0, k), FONT);
    let retention = pen.fit(&retention, h.w * 0.4);
    let rw = pen.text_w(&retention);
    c.set_text_align("right");
    c.fill_text(&retention, h.right(), mid).ok();
    let name = pen.fit_shrinking(&tv.name, h.right() - rw - 12.0 * k - x, 20.0 * k, 14.0 * k);
    c.set_fill_style_str(INK);
    c.set_text_align("left");
    c.fill_text(&name, x, mid).ok();
    if frame.hidden_rows > 0 {
        pen.more_line(
            frame.hidden_rows as usize,
            Rect {
                x: h.x,
                y: r.bottom() - (FRAME_PAD + MORE_H) * k,
                w: h.w,
                h: MORE_H * k,
            },
            k,
        );
    }
}

/// One partition: its name, its log strip (deleted / older / records / next slot), the
/// offset ruler and one marker row per consumer group.
fn partition(pen: &Pen, snap: &Snapshot, row: &RowBox, k: f64) {
    let NodeRef::Partition(topic, index) = row.node else {
        return;
    };
    let Some(pv) =
        topic_view(snap, topic).and_then(|tv| tv.partitions.iter().find(|p| p.index == index))
    else {
        return;
    };
    let c = pen.ctx;
    // The partition's name.
    pen.font(700, 16.0 * k, FONT);
    c.set_fill_style_str(INK);
    c.set_text_align("left");
    c.set_text_baseline("middle");
    c.fill_text(
        &format!("P{}", pv.index),
        row.label.x + 2.0 * k,
        row.label.mid_y(),
    )
    .ok();

    let strip = row.strip;
    pen.lane_box(strip, k);
    let l = pen.lang;
    let deleted_text = |full: bool| {
        let range = offset_range(0, pv.log_start);
        if full {
            format!("{range} {}", t(l, Key::LogDeleted))
        } else {
            range
        }
    };
    let tail_first = pv.tail.first().map_or(pv.log_end, |(o, _)| *o);
    pen.font(600, small(13.0, k), FONT);
    let pad = 12.0 * k;
    let deleted_w = pen.text_w(&deleted_text(true)) + pad;
    let older_w = pen.text_w(&offset_range(pv.log_start, pv.log_end)) + pad;
    let g = StripGeom::new(
        strip,
        k,
        (pv.log_start, pv.log_end, tail_first),
        deleted_w,
        older_w,
    );

    // Retention's deletions: a hatched, faded block (a queue's acked messages simply
    // vanish; a log's records go only when retention deletes a whole segment).
    if let Some(d) = g.deleted {
        c.save();
        pen.round_rect(d, 3.0 * k);
        c.set_fill_style_str("#f3f4f6");
        c.fill();
        c.clip();
        c.set_stroke_style_str("#d1d5db");
        c.set_line_width(2.0 * k);
        c.begin_path();
        let step = 7.0 * k;
        let mut x = d.x - d.h;
        while x < d.right() {
            c.move_to(x, d.bottom());
            c.line_to(x + d.h, d.y);
            x += step;
        }
        c.stroke();
        c.restore();
        pen.font(600, small(13.0, k), FONT);
        let full = deleted_text(true);
        let text = if pen.text_w(&full) <= d.w - 4.0 * k {
            full
        } else {
            pen.fit(&deleted_text(false), d.w - 4.0 * k)
        };
        c.set_fill_style_str(MUTED);
        c.set_text_align("center");
        c.fill_text(&text, d.x + d.w / 2.0, d.mid_y()).ok();
    }
    // Older retained records the snapshot does not list: their offsets.
    if let Some(o) = g.older {
        pen.round_rect(o, 3.0 * k);
        c.set_fill_style_str("#e5e7eb");
        c.fill();
        pen.font(600, small(13.0, k), FONT);
        c.set_fill_style_str(INK);
        c.set_text_align("center");
        let range = offset_range(g.log_start, g.first_chip);
        c.fill_text(&pen.fit(&range, o.w), o.x + o.w / 2.0, o.mid_y())
            .ok();
    }
    // Records: they stay after every group has read them.
    for (offset, chip) in &pv.tail {
        if let Some(r) = g.chip(*offset) {
            pen.chip(chip, r, k, false);
        }
    }
    // Segment boundaries: retention deletes whole segments.
    c.set_stroke_style_str(INK);
    c.set_line_width(2.0 * k);
    c.begin_path();
    for &(base, _, _) in pv.segments.iter().skip(1) {
        if base > g.first_chip && base <= g.log_end {
            let x = g.chip_x0 + (base - g.first_chip) as f64 * g.pitch - g.pitch / 2.0
                + g.chip_w / 2.0
                - 1.5 * k;
            c.move_to(x, strip.y - 4.0 * k);
            c.line_to(x, strip.bottom() + 4.0 * k);
        }
    }
    c.stroke();
    // The slot the next record will take.
    let dash = js_sys::Array::of2(&(3.0 * k).into(), &(3.0 * k).into());
    c.set_line_dash(&dash).ok();
    c.set_stroke_style_str("#6b7280");
    c.set_line_width(1.2 * k);
    pen.round_rect(g.next, 3.0 * k);
    c.stroke();
    c.set_line_dash(&js_sys::Array::new()).ok();

    let hw = pv.replication.as_ref().map(|r| r.high_watermark);
    if let Some(hw) = hw {
        high_watermark(pen, &g, hw, strip, k);
    }
    if let Some(y) = row.ruler_y {
        ruler(pen, pv, &g, hw, y, strip, k);
    }
    markers(pen, snap, pv, &g, row, k);
}

/// Where the high watermark falls on a log strip: between its last committed record and the
/// first one that is not.
fn hw_x(g: &StripGeom, hw: u64) -> f64 {
    if hw >= g.first_chip {
        g.marker_x(hw) - g.pitch / 2.0
    } else {
        g.marker_x(hw)
    }
}

/// The high watermark on a replicated partition's log (KAF-20): records right of the line are
/// not yet on every ISR member, so no consumer reads them, and they are veiled.
fn high_watermark(pen: &Pen, g: &StripGeom, hw: u64, strip: Rect, k: f64) {
    let c = pen.ctx;
    let x = hw_x(g, hw);
    if hw < g.log_end {
        c.set_fill_style_str("rgba(255, 255, 255, 0.55)");
        c.fill_rect(x, strip.y, g.next.x - x, strip.h);
    }
    c.set_stroke_style_str(HW_COLOUR);
    c.set_line_width(3.0 * k);
    c.begin_path();
    c.move_to(x, strip.y - 3.0 * k);
    c.line_to(x, strip.bottom() + 3.0 * k);
    c.stroke();
}

/// Offset numbers under the strip: the high watermark first, then the log start, segment
/// bases and the log end (the next offset), left out where they would collide.
fn ruler(
    pen: &Pen,
    pv: &PartitionView,
    g: &StripGeom,
    hw: Option<u64>,
    y: f64,
    strip: Rect,
    k: f64,
) {
    let c = pen.ctx;
    c.set_text_baseline("middle");
    c.set_text_align("center");
    let mut taken: Vec<(f64, f64)> = Vec::with_capacity(pv.segments.len() + 3);
    if let Some(hw) = hw {
        pen.font(700, small(13.0, k), MONO);
        let text = format!("{} {hw}", t(pen.lang, Key::MarkHighWatermark));
        let w = pen.text_w(&text) + 6.0 * k;
        let x = hw_x(g, hw).max(strip.x + w / 2.0 - 8.0 * k);
        c.set_fill_style_str(HW_COLOUR);
        c.fill_text(&text, x, y).ok();
        taken.push((x - w / 2.0, x + w / 2.0));
    }
    pen.font(500, small(13.0, k), MONO);
    c.set_fill_style_str(FAINT);
    let mut offsets: Vec<u64> = Vec::with_capacity(pv.segments.len() + 2);
    offsets.push(g.log_end);
    offsets.push(g.log_start);
    offsets.extend(pv.segments.iter().map(|s| s.0));
    for o in offsets {
        // Offsets inside a block are written in the block.
        if o < g.first_chip {
            continue;
        }
        let x = g.marker_x(o);
        let text = o.to_string();
        let w = pen.text_w(&text) + 6.0 * k;
        let (l, r) = (x - w / 2.0, x + w / 2.0);
        if l < strip.x - 8.0 * k || taken.iter().any(|&(a, b)| l < b && a < r) {
            continue;
        }
        taken.push((l, r));
        c.fill_text(&text, x, y).ok();
    }
}

/// Each group's committed offset (a filled triangle) and its member's position (a hollow
/// one), with the group's name and lag.
fn markers(pen: &Pen, snap: &Snapshot, pv: &PartitionView, g: &StripGeom, row: &RowBox, k: f64) {
    let c = pen.ctx;
    let size = 6.0 * k;
    for (i, m) in pv.groups.iter().take(MAX_MARKER_ROWS as usize).enumerate() {
        let id = snap
            .groups
            .iter()
            .find(|gv| gv.name == m.group)
            .map(|gv| gv.id);
        let colour = id.map_or(MUTED, group_colour);
        let top = row.markers_y + i as f64 * row.marker_h;
        let mid = top + row.marker_h / 2.0;
        let tri = |x: f64, filled: bool| {
            c.begin_path();
            c.move_to(x, top + 1.0 * k);
            c.line_to(x + size, top + 2.0 * size);
            c.line_to(x - size, top + 2.0 * size);
            c.close_path();
            if filled {
                c.set_fill_style_str(colour);
                c.fill();
            } else {
                c.set_fill_style_str("#ffffff");
                c.fill();
                c.set_stroke_style_str(colour);
                c.set_line_width(1.8 * k);
                c.stroke();
            }
        };
        let mut right = row.strip.x;
        if let Some(p) = m.position.filter(|p| Some(*p) != m.committed) {
            let x = g.marker_x(p);
            tri(x, false);
            right = right.max(x + size);
        }
        let mut anchor = None;
        if let Some(o) = m.committed {
            let x = g.marker_x(o);
            tri(x, true);
            right = right.max(x + size);
            anchor = Some(x);
        }
        // The label goes right of the markers, or left of them near the strip's end.
        let l = pen.lang;
        let at = m.committed.map_or(String::new(), |o| format!(" @{o}"));
        let full = format!(
            "{}{at} · {} {}",
            m.group,
            t(l, Key::NodeLag),
            format_count(m.lag)
        );
        pen.font(600, small(13.0, k), FONT);
        let room_right = row.rect.right() - right - 6.0 * k;
        let left_edge = anchor.unwrap_or(right) - size - 6.0 * k;
        let room_left = left_edge - row.strip.x;
        c.set_fill_style_str(colour);
        c.set_text_baseline("middle");
        if pen.text_w(&full) <= room_right || room_right >= room_left {
            c.set_text_align("left");
            c.fill_text(&pen.fit(&full, room_right), right + 4.0 * k, mid)
                .ok();
        } else {
            c.set_text_align("right");
            c.fill_text(&pen.fit(&full, room_left), left_edge, mid).ok();
        }
    }
}

/// One replica a broker holds (KAF-19, KAF-20).
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaCell {
    /// The topic, and the partition if the topic has several.
    name: String,
    /// The replica's log end offset, and the partition's high watermark.
    leo: u64,
    hw: u64,
    /// The longest log among the partition's replicas, so every broker draws it to one scale.
    span: u64,
    leader: bool,
    in_isr: bool,
}

fn replicas_of(snap: &Snapshot, broker: u32) -> Vec<ReplicaCell> {
    (snap.topics.iter())
        .flat_map(|tv| tv.partitions.iter().map(move |pv| (tv, pv)))
        .filter_map(|(tv, pv)| {
            let r = pv.replication.as_ref()?;
            let &(_, leo) = r.replicas.iter().find(|(b, _)| *b == broker)?;
            Some(ReplicaCell {
                name: if tv.partitions.len() == 1 {
                    tv.name.clone()
                } else {
                    format!("{}-{}", tv.name, pv.index)
                },
                leo,
                hw: r.high_watermark,
                span: (r.replicas.iter().map(|(_, l)| *l)).fold(r.high_watermark, u64::max),
                leader: r.leader == Some(broker),
                in_isr: r.isr.contains(&broker),
            })
        })
        .collect()
}

/// A broker's lane: a cell per replica it holds, with as many as fit and a count of the rest.
fn broker_lane(pen: &Pen, snap: &Snapshot, broker: u32, down: bool, lane: Rect, k: f64) {
    let cells = replicas_of(snap, broker);
    if cells.is_empty() {
        pen.lane_box(lane, k);
        return;
    }
    let gap = 6.0 * k;
    let fit = (((lane.w + gap) / (70.0 * k + gap)).floor() as usize).max(1);
    let shown = if cells.len() > fit {
        fit - 1
    } else {
        cells.len()
    };
    let slots = shown + usize::from(shown < cells.len());
    let w = (lane.w - gap * (slots - 1) as f64) / slots as f64;
    let slot = |i: usize| Rect {
        x: lane.x + i as f64 * (w + gap),
        y: lane.y,
        w,
        h: lane.h,
    };
    for (i, cell) in cells.iter().take(shown).enumerate() {
        replica(pen, cell, down, slot(i), k);
    }
    if shown < cells.len() {
        let r = slot(shown);
        let c = pen.ctx;
        pen.font(600, small(13.0, k), FONT);
        c.set_fill_style_str(MUTED);
        c.set_text_align("center");
        c.set_text_baseline("middle");
        let more = format!("+{}", cells.len() - shown);
        c.fill_text(&pen.fit(&more, r.w), r.x + r.w / 2.0, r.mid_y())
            .ok();
    }
}

/// One replica: framed solid in the topic's colour while in the ISR, dashed grey outside it;
/// its name (★ on the leader); its log to its LEO, records below the high watermark filled and
/// the rest pale, and the high watermark as a red line.
fn replica(pen: &Pen, cell: &ReplicaCell, down: bool, r: Rect, k: f64) {
    let c = pen.ctx;
    // A dead broker stays in the ISR until the controller fences it: the frame says so.
    pen.round_rect(r, 4.0 * k);
    c.set_fill_style_str(if cell.in_isr && !down {
        TOPIC_FILL
    } else {
        "#f3f4f6"
    });
    c.fill();
    if cell.in_isr {
        c.set_line_width(2.0 * k);
        c.set_stroke_style_str(TOPIC_STROKE);
    } else {
        let dash = js_sys::Array::of2(&(4.0 * k).into(), &(3.0 * k).into());
        c.set_line_dash(&dash).ok();
        c.set_line_width(1.2 * k);
        c.set_stroke_style_str("#9ca3af");
    }
    c.stroke();
    c.set_line_dash(&js_sys::Array::new()).ok();

    let pad = 5.0 * k;
    let name = if cell.leader {
        format!("★{}", cell.name)
    } else {
        cell.name.clone()
    };
    pen.font(if cell.leader { 700 } else { 600 }, small(12.0, k), FONT);
    // The name first: a bar is read only once one knows whose it is.
    let name = pen.fit(&name, r.w - 2.0 * pad - 18.0 * k);
    let name_w = pen.text_w(&name);
    c.set_fill_style_str(match (down, cell.leader) {
        (true, _) => MUTED,
        (false, true) => LEADER_COLOUR,
        (false, false) => INK,
    });
    c.set_text_align("left");
    c.set_text_baseline("middle");
    c.fill_text(&name, r.x + pad, r.mid_y()).ok();

    let x0 = r.x + pad + name_w + 4.0 * k;
    let bar = Rect {
        x: x0,
        y: r.y + 6.0 * k,
        w: r.right() - pad - x0,
        h: (r.h - 12.0 * k).max(2.0 * k),
    };
    if bar.w < 8.0 * k {
        return;
    }
    c.set_fill_style_str("#ffffff");
    c.fill_rect(bar.x, bar.y, bar.w, bar.h);
    let unit = bar.w / cell.span.max(1) as f64;
    let committed = if down { "#9ca3af" } else { TOPIC_STROKE };
    let hw = cell.hw.min(cell.span);
    if unit >= 5.0 * k {
        // Few records: one block each.
        for o in 0..cell.leo.min(cell.span) {
            c.set_fill_style_str(if o < hw { committed } else { UNCOMMITTED });
            c.fill_rect(bar.x + o as f64 * unit, bar.y, unit - 1.0 * k, bar.h);
        }
    } else {
        let below = cell.leo.min(hw) as f64 * unit;
        c.set_fill_style_str(committed);
        c.fill_rect(bar.x, bar.y, below, bar.h);
        c.set_fill_style_str(UNCOMMITTED);
        c.fill_rect(
            bar.x + below,
            bar.y,
            cell.leo.saturating_sub(hw) as f64 * unit,
            bar.h,
        );
    }
    c.set_line_width(1.0 * k);
    c.set_stroke_style_str("#d1d5db");
    c.stroke_rect(bar.x, bar.y, bar.w, bar.h);
    let x = (bar.x + hw as f64 * unit).min(bar.right());
    c.set_stroke_style_str(HW_COLOUR);
    c.set_line_width(2.5 * k);
    c.begin_path();
    c.move_to(x, r.y + 2.0 * k);
    c.line_to(x, r.bottom() - 2.0 * k);
    c.stroke();
}

/// A consumer group: a frame in the group's colour with its name and lag (or that it is
/// rebalancing), and its members inside.
fn group(pen: &Pen, snap: &Snapshot, frame: &GroupBox, k: f64) {
    let c = pen.ctx;
    let Some(gv) = group_view(snap, frame.id) else {
        return;
    };
    let colour = group_colour(frame.id);
    let r = frame.rect;
    pen.round_rect(r, 10.0 * k);
    c.set_fill_style_str("#ffffff");
    c.fill();
    c.set_line_width(2.0 * k);
    if gv.rebalancing {
        let dash = js_sys::Array::of2(&(7.0 * k).into(), &(5.0 * k).into());
        c.set_line_dash(&dash).ok();
        c.set_stroke_style_str(PROCESSING);
    } else {
        c.set_stroke_style_str(colour);
    }
    c.stroke();
    c.set_line_dash(&js_sys::Array::new()).ok();

    let h = frame.header;
    let mid = h.mid_y();
    c.set_fill_style_str(colour);
    pen.round_rect(
        Rect {
            x: h.x + 2.0 * k,
            y: mid - 6.0 * k,
            w: 12.0 * k,
            h: 12.0 * k,
        },
        3.0 * k,
    );
    c.fill();
    let l = pen.lang;
    let (status, status_colour) = if gv.rebalancing {
        (format!("⟳ {}", t(l, Key::NodeRebalancing)), "#b45309")
    } else {
        (
            format!("{} {}", t(l, Key::NodeLag), format_count(gv.lag)),
            MUTED,
        )
    };
    // The name first; the status takes what is left, down to its symbol.
    let x = h.x + 20.0 * k;
    pen.font(600, small(14.0, k), FONT);
    let short = if gv.rebalancing {
        "⟳".to_string()
    } else {
        status.clone()
    };
    let name_room = h.right() - x - pen.text_w(&short) - 10.0 * k;
    let name = pen.fit_shrinking(&gv.name, name_room, 18.0 * k, 14.0 * k);
    let name_w = pen.text_w(&name);
    c.set_fill_style_str(INK);
    c.set_text_align("left");
    c.set_text_baseline("middle");
    c.fill_text(&name, x, mid).ok();
    pen.font(600, small(14.0, k), FONT);
    let room = h.right() - x - name_w - 10.0 * k;
    let status = if pen.text_w(&status) <= room {
        status
    } else {
        pen.fit(&short, room)
    };
    c.set_fill_style_str(status_colour);
    c.set_text_align("right");
    c.fill_text(&status, h.right(), mid).ok();

    if frame.members.is_empty() && frame.hidden_members == 0 {
        pen.font(500, small(14.0, k), FONT);
        c.set_fill_style_str(MUTED);
        c.fill_text(
            t(l, Key::NodeNoMembers),
            h.x + 4.0 * k,
            h.bottom() + 10.0 * k,
        )
        .ok();
    }
    for &(m, mr) in &frame.members {
        member(pen, snap, gv, m, mr, k);
    }
    if frame.hidden_members > 0 {
        pen.more_line(
            frame.hidden_members,
            Rect {
                x: h.x,
                y: r.bottom() - (GROUP_PAD + MORE_H) * k,
                w: h.w,
                h: MORE_H * k,
            },
            k,
        );
    }
}

/// A group member: its name, the record it is processing, and the partitions it owns (or
/// that it is idle: more members than partitions, KAF-8).
fn member(pen: &Pen, snap: &Snapshot, gv: &GroupView, node: NodeRef, r: Rect, k: f64) {
    let c = pen.ctx;
    let Some(cv) = consumer(snap, node) else {
        return;
    };
    let id = cv.id;
    let crashed = matches!(
        cv.status,
        ConsumerStatus::Crashed | ConsumerStatus::Disconnected
    );
    pen.framed_box(r, 8.0 * k, 1.5 * k, MEMBER_FILL, MEMBER_STROKE, crashed);

    let pad = 10.0 * k;
    let (line1, line2) = (r.y + r.h * 0.3, r.y + r.h * 0.72);
    let l = pen.lang;
    // Right of the name: the record being processed.
    let mut name_right = r.right() - pad;
    if let Some(chip) = &cv.processing {
        let cr = Rect {
            x: r.right() - pad - 14.0 * k,
            y: r.y + 6.0 * k,
            w: 14.0 * k,
            h: r.h - 12.0 * k,
        };
        pen.chip(chip, cr, k, true);
        name_right = cr.x - 10.0 * k;
    }
    let name = pen.fit_shrinking(&cv.name, name_right - r.x - pad, 17.0 * k, 13.0 * k);
    c.set_fill_style_str(INK);
    c.set_text_align("left");
    c.set_text_baseline("middle");
    c.fill_text(&name, r.x + pad, line1).ok();

    let owned = gv
        .members
        .iter()
        .find(|(m, _)| *m == id)
        .map(|(_, tps)| tps.as_slice())
        .unwrap_or_default();
    let (text, colour, weight) = if crashed {
        let key = if cv.status == ConsumerStatus::Crashed {
            Key::StatusCrashed
        } else {
            Key::StatusDisconnected
        };
        (t(l, key).to_string(), DANGER, 700)
    } else if owned.is_empty() && gv.rebalancing {
        (t(l, Key::NodeAwaiting).to_string(), "#b45309", 600)
    } else if owned.is_empty() {
        (t(l, Key::NodeIdle).to_string(), "#b45309", 700)
    } else {
        let parts: Vec<String> = owned
            .iter()
            .map(|&(topic, p)| {
                // Name the topic only when the group reads several.
                if gv
                    .members
                    .iter()
                    .flat_map(|(_, v)| v)
                    .any(|&(t2, _)| t2 != topic)
                {
                    topic_view(snap, topic)
                        .map_or_else(|| format!("P{p}"), |tv| format!("{}-{p}", tv.name))
                } else {
                    format!("P{p}")
                }
            })
            .collect();
        (
            format!(
                "{} · {} {}",
                parts.join(" "),
                t(l, Key::NodeProcessed),
                format_count(cv.acked)
            ),
            INK,
            600,
        )
    };
    let text = pen.fit_shrinking_weight(
        weight,
        &text,
        r.w - 2.0 * pad,
        small(14.0, k),
        small(12.0, k),
    );
    c.set_fill_style_str(colour);
    c.fill_text(&text, r.x + pad, line2).ok();
}

/// Offsets `from..to` as written in a block: `3–9`, or `3` for one.
fn offset_range(from: u64, to: u64) -> String {
    let last = to.saturating_sub(1).max(from);
    if last == from {
        from.to_string()
    } else {
        format!("{from}–{last}")
    }
}

/// "retention 60 s" / "retention 2 KB", as the topic is configured.
fn retention_text(lang: Lang, tv: &TopicView) -> String {
    let word = t(lang, Key::NodeRetention);
    let time = (tv.retention_ms >= 0.0).then(|| {
        let secs = tv.retention_ms / 1_000.0;
        if secs >= 86_400.0 {
            format!("{:.0} d", secs / 86_400.0)
        } else if secs >= 3_600.0 {
            format!("{:.0} h", secs / 3_600.0)
        } else if secs >= 60.0 && secs % 60.0 == 0.0 {
            format!("{:.0} min", secs / 60.0)
        } else {
            format!("{secs:.0} s")
        }
    });
    let bytes = (tv.retention_bytes >= 0).then(|| {
        let b = tv.retention_bytes as f64;
        if b >= 1_048_576.0 {
            format!("{:.0} MB", b / 1_048_576.0)
        } else if b >= 1_024.0 {
            format!("{:.0} KB", b / 1_024.0)
        } else {
            format!("{b:.0} B")
        }
    });
    match (time, bytes) {
        (Some(a), Some(b)) => format!("{word} {a} · {b}"),
        (Some(a), None) | (None, Some(a)) => format!("{word} {a}"),
        (None, None) => format!("{word} ∞"),
    }
}

// ------------------------------------------------------------------ the dashboard

/// A Kafka consumer group's row: its total lag, and the lag on each partition (KAF-18).
#[derive(Clone, Debug, PartialEq)]
struct GroupRow {
    name: String,
    lag: u64,
    processed: u64,
    duplicates: u64,
    skipped: u64,
    /// (`topic-partition`, lag).
    partitions: Vec<(String, u64)>,
}

fn group_rows(_: &Driver, s: &Snapshot, _: &()) -> Vec<GroupRow> {
    s.groups
        .iter()
        .map(|g| GroupRow {
            name: g.name.clone(),
            lag: g.lag,
            processed: g.processed,
            duplicates: g.duplicates,
            skipped: g.skipped,
            partitions: s
                .topics
                .iter()
                .flat_map(|topic| {
                    topic.partitions.iter().filter_map(move |p| {
                        p.groups
                            .iter()
                            .find(|m| m.group == g.name)
                            .map(|m| (format!("{}-{}", topic.name, p.index), m.lag))
                    })
                })
                .collect(),
        })
        .collect()
}

#[function_component(GroupTable)]
fn group_table() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let renders = use_render_count();
    let rows = use_frame_model((), group_rows);
    if rows.is_empty() {
        return html! {};
    }
    let body = rows.iter().map(|g| {
        let parts = g.partitions.iter().map(|(p, lag)| {
            html! {
                <span class={classes!("part-lag", (*lag == 0).then_some("zero"))}>
                    { p.clone() }{ " " }<b>{ format_count(*lag) }</b>
                </span>
            }
        });
        html! {
            <tr key={g.name.clone()} data-group={g.name.clone()}>
                <th scope="row" class="name"><span class="ename" title={g.name.clone()}>{ g.name.clone() }</span></th>
                <td class="num" data-col="lag"><b>{ format_count(g.lag) }</b></td>
                <td class="num">{ format_count(g.processed) }</td>
                <td class="num">{ format_count(g.duplicates) }</td>
                <td class="num">{ format_count(g.skipped) }</td>
                <td class="parts">{ for parts }</td>
            </tr>
        }
    });
    html! {
        <table class="dash-table" data-testid="group-table" data-renders={renders.to_string()}>
            <thead>
                <tr>
                    <th scope="col" class="name">{ t(l, Key::DashGroup) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashLag) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashProcessed) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashDuplicates) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashSkipped) }</th>
                    <th scope="col">{ t(l, Key::DashPartitionLag) }</th>
                </tr>
            </thead>
            <tbody>{ for body }</tbody>
        </table>
    }
}

// ------------------------------------------------------------------ the inspector

/// Names the forms offer as choices and avoid as new names.
#[derive(Clone, Debug, Default, PartialEq)]
struct Names {
    producers: Vec<String>,
    consumers: Vec<String>,
    groups: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GroupInfo {
    name: String,
    assignor: Assignor,
    commit: Option<CommitMode>,
    lag: u64,
    members: Vec<String>,
    rebalancing: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TopicModel {
    name: String,
    /// (index, log start, log end).
    partitions: Vec<(u32, u64, u64)>,
    focus: Option<u32>,
    retention_ms: f64,
    retention_bytes: i64,
    groups: Vec<GroupInfo>,
    names: Names,
}

pub fn group_info(snap: &Snapshot, specs: &Specs, id: GroupId) -> Option<GroupInfo> {
    let g = snap.groups.iter().find(|g| g.id == id)?;
    Some(GroupInfo {
        name: g.name.clone(),
        assignor: g.assignor,
        commit: specs
            .groups
            .iter()
            .find(|s| s.name == g.name)
            .map(|s| s.commit.clone()),
        lag: g.lag,
        members: g
            .members
            .iter()
            .filter_map(|(c, _)| snap.consumers.iter().find(|v| v.id == *c))
            .map(|c| c.name.clone())
            .collect(),
        rebalancing: g.rebalancing,
    })
}

impl Inspect for TopicModel {
    fn title(&self, l: Lang) -> (String, String) {
        (t(l, Key::InspTopic).to_string(), self.name.clone())
    }
    fn body(&self, lab: &Lab) -> Html {
        topic_body(lab, self)
    }
}

fn commit_text(l: Lang, c: &Option<CommitMode>) -> String {
    match c {
        Some(CommitMode::Auto { interval_ms }) => format!(
            "{} ({} ms)",
            t(l, Key::InspCommitAuto),
            fmt_num(*interval_ms)
        ),
        Some(CommitMode::AfterProcessing { every }) => {
            format!("{} ({every})", t(l, Key::InspCommitAfter))
        }
        Some(CommitMode::BeforeProcessing) => t(l, Key::InspCommitBefore).to_string(),
        None => "—".to_string(),
    }
}

fn assignor_text(a: Assignor) -> &'static str {
    match a {
        Assignor::Range => "range",
        Assignor::RoundRobin => "round-robin",
        Assignor::Sticky => "sticky",
        Assignor::CooperativeSticky => "cooperative-sticky",
    }
}

/// A consumer group's read-only settings and figures; `add_member` adds the member button.
pub fn group_section(l: Lang, g: &GroupInfo, add_member: Option<Html>) -> Html {
    html! {
        <section class="insp-section insp-group" data-testid={format!("insp-group-{}", g.name)}>
            <h3>{ t(l, Key::InspGroup) }{ " " }<span data-testid="insp-group-name">{ g.name.clone() }</span></h3>
            <dl class="insp-stats">
                { stat(t(l, Key::InspLag), format_count(g.lag), "insp-group-lag") }
                { stat(t(l, Key::InspAssignor), assignor_text(g.assignor).to_string(), "insp-group-assignor") }
                <div class="stat wide">
                    <dt>{ t(l, Key::InspCommit) }</dt>
                    <dd data-testid="insp-group-commit">{ commit_text(l, &g.commit) }</dd>
                </div>
                <div class="stat wide">
                    <dt>{ t(l, Key::InspMembers) }</dt>
                    <dd>{ if g.members.is_empty() { "—".to_string() } else { g.members.join(", ") } }
                        if g.rebalancing { { " · " }{ t(l, Key::InspRebalancing) } }</dd>
                </div>
            </dl>
            <p class="insp-hint">{ t(l, Key::InspGroupFixed) }</p>
            { for add_member }
        </section>
    }
}

// ---- broker

#[derive(Clone, Debug, PartialEq)]
pub struct BrokerModel {
    id: u32,
    alive: bool,
    fenced: bool,
    slowed: bool,
    isolated: bool,
    /// Records only it holds, as an isolated old leader (KAF-24).
    stale_records: u64,
    replicas: Vec<ReplicaCell>,
}

/// Whether the node is a Kafka broker cut off by a network partition.
fn isolated(snap: &Snapshot, node: NodeRef) -> bool {
    let NodeRef::KafkaBroker(b) = node else {
        return false;
    };
    snap.kafka_brokers.iter().any(|v| v.id == b && v.isolated)
}

/// How much longer a slowed broker's fetches take: more than the default
/// `replica.lag.time.max.ms` (30 s), so its follower replicas leave the ISR (KAF-19).
const SLOW_FETCH_MS: f64 = 40_000.0;

fn broker_model(snap: &Snapshot, broker: u32) -> Option<BrokerModel> {
    let v = snap.kafka_brokers.iter().find(|v| v.id == broker)?;
    Some(BrokerModel {
        id: broker,
        alive: v.alive,
        fenced: v.fenced,
        slowed: v.fetch_delay_ms > 0.0,
        isolated: v.isolated,
        stale_records: v.stale_records,
        replicas: replicas_of(snap, broker),
    })
}

impl Inspect for BrokerModel {
    fn title(&self, l: Lang) -> (String, String) {
        (
            t(l, Key::TagKafkaBroker).to_string(),
            format!("b{}", self.id),
        )
    }
    fn body(&self, lab: &Lab) -> Html {
        broker_body(lab, self)
    }
}

fn broker_body(lab: &Lab, b: &BrokerModel) -> Html {
    let l = lab.lang;
    let state = match (b.alive, b.fenced) {
        (true, false) if b.isolated => t(l, Key::InspIsolated),
        (true, true) => t(l, Key::InspKafkaIsolatedFenced),
        (true, false) => t(l, Key::InspRunning),
        (false, true) => t(l, Key::InspKafkaFenced),
        (false, false) => t(l, Key::InspKafkaUnnoticed),
    };
    let leaders = b.replicas.iter().filter(|r| r.leader).count();
    let rows = b.replicas.iter().map(|r| {
        let role = if r.leader {
            Key::InspKafkaLeader
        } else {
            Key::InspKafkaFollower
        };
        html! {
            <tr>
                <td>{ r.name.clone() }</td>
                <td>{ t(l, role) }</td>
                <td>{ format_count(r.leo) }</td>
                <td>{ format_count(r.hw) }</td>
                <td>{ if r.in_isr { "✓" } else { "—" } }</td>
            </tr>
        }
    });
    let apply = |command: Command| {
        let lab = lab.clone();
        // The button flips with the broker's state, so a refusal cannot outlive a frame.
        Callback::from(move |_: MouseEvent| {
            run(&lab, command.clone());
        })
    };
    let id = b.id;
    let actions = html! {
        <div class="fx-actions">
            // An isolated broker can only heal: crashing it is refused until then.
            if b.isolated {
                <button type="button" class="lab-btn restart" data-testid="insp-broker-heal"
                    onclick={apply(Command::HealKafkaBroker { broker: id })}
                    title={t(l, Key::FxHealBrokerHint)}>{ "⇄ " }{ t(l, Key::FxHealBroker) }</button>
            } else if b.alive {
                <button type="button" class="lab-btn" data-testid="insp-broker-isolate"
                    onclick={apply(Command::IsolateKafkaBroker { broker: id })}
                    title={t(l, Key::FxIsolateBrokerHint)}>{ "✂ " }{ t(l, Key::FxIsolateBroker) }</button>
                <button type="button" class="lab-btn danger" data-testid="insp-broker-crash"
                    onclick={apply(Command::CrashKafkaBroker { broker: id })}
                    title={t(l, Key::FxCrashBrokerHint)}>{ "✕ " }{ t(l, Key::FxCrashBroker) }</button>
            } else {
                <button type="button" class="lab-btn restart" data-testid="insp-broker-restart"
                    onclick={apply(Command::RestartKafkaBroker { broker: id })}
                    title={t(l, Key::FxRestartBrokerHint)}>{ "↻ " }{ t(l, Key::FxRestartBroker) }</button>
            }
            // Slower than the default lag time (30 s): its follower replicas leave the ISR.
            <button type="button" class="lab-btn" data-testid="insp-broker-slow"
                aria-pressed={b.slowed.to_string()}
                onclick={apply(Command::SlowKafkaBroker {
                    broker: id,
                    delay_ms: if b.slowed { 0.0 } else { SLOW_FETCH_MS },
                })}
                title={t(l, Key::FxSlowBrokerHint)}>
                { if b.slowed { t(l, Key::FxNormalSpeed) } else { t(l, Key::FxSlowBroker) } }
            </button>
        </div>
    };
    html! {
        <>
            <dl class="insp-stats">
                { stat(t(l, Key::InspState), state.to_string(), "insp-broker-state") }
                { stat(t(l, Key::NodeKafkaLeaders), leaders.to_string(), "insp-broker-leaders") }
                { stat(t(l, Key::NodeKafkaReplicas), b.replicas.len().to_string(), "insp-broker-replicas") }
                if b.stale_records > 0 {
                    { stat(t(l, Key::InspKafkaStaleRecords), format_count(b.stale_records), "insp-broker-stale") }
                }
            </dl>
            { section(t(l, Key::InspFailures), actions) }
            <table class="insp-table" data-testid="insp-broker-table">
                <thead><tr>
                    <th>{ t(l, Key::InspPartition) }</th>
                    <th>{ t(l, Key::InspKafkaRole) }</th>
                    <th>{ t(l, Key::InspKafkaLeo) }</th>
                    <th>{ t(l, Key::InspKafkaHw) }</th>
                    <th>{ "ISR" }</th>
                </tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
        </>
    }
}

// ---- topic

fn topic_body(lab: &Lab, tp: &TopicModel) -> Html {
    let names = &tp.names;
    let l = lab.lang;
    let rows = tp.partitions.iter().map(|(i, start, end)| {
        let class = if tp.focus == Some(*i) { "focus" } else { "" };
        html! {
            <tr class={class}>
                <td>{ format!("P{i}") }</td>
                <td>{ format_count(*start) }</td>
                <td>{ format_count(*end) }</td>
            </tr>
        }
    });
    let retention = if tp.retention_ms < 0.0 {
        "∞".to_string()
    } else {
        fmt_duration(tp.retention_ms)
    };
    let retention_bytes = if tp.retention_bytes < 0 {
        "∞".to_string()
    } else {
        format_count(tp.retention_bytes as u64)
    };
    let groups = tp.groups.iter().map(|g| {
        let add = html! {
            <AddConsumer source={ConsumerSource::Group(g.name.clone())} base={g.name.clone()} prefetch={false}
                title={Key::InspAddMember} testid="add-member" taken={names.consumers.clone()} />
        };
        group_section(l, g, Some(add))
    });
    // The groups (their lag) first: that is what a lag demo watches.
    html! {
        <>
            <dl class="insp-stats">
                { stat(t(l, Key::InspPartitions), tp.partitions.len().to_string(), "insp-partitions") }
                { stat(t(l, Key::InspRetention), retention, "insp-retention") }
                { stat(t(l, Key::InspRetentionBytes), retention_bytes, "insp-retention-bytes") }
            </dl>
            <p class="insp-hint">{ t(l, Key::InspTopicFixed) }</p>
            { for groups }
            <table class="insp-table">
                <thead><tr><th>{ t(l, Key::InspPartition) }</th><th>{ t(l, Key::InspLogStart) }</th><th>{ t(l, Key::InspLogEnd) }</th></tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
            <AddGroup topic={tp.name.clone()} taken={names.groups.clone()} taken_consumers={names.consumers.clone()} />
            <AddProducer target={PublishTarget::Topic(tp.name.clone())} key_hint={None::<String>} taken={names.producers.clone()} />
        </>
    }
}

/// A duration in the largest whole unit: `7 d`, `5 h`, `90 s`, `250 ms`.
fn fmt_duration(ms: f64) -> String {
    const UNITS: [(f64, &str); 4] = [
        (86_400_000.0, "d"),
        (3_600_000.0, "h"),
        (60_000.0, "min"),
        (1_000.0, "s"),
    ];
    UNITS
        .iter()
        .find(|(size, _)| ms >= *size && (ms / size).fract() == 0.0)
        .map_or_else(
            || format!("{} ms", fmt_num(ms)),
            |(size, unit)| format!("{} {unit}", fmt_num(ms / size)),
        )
}

#[derive(Properties, PartialEq)]
pub struct AddGroupProps {
    pub topic: String,
    pub taken: Vec<String>,
    pub taken_consumers: Vec<String>,
}

#[function_component(AddGroup)]
pub fn add_group(p: &AddGroupProps) -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let name = use_state(|| unique_name("group", p.taken.iter().map(String::as_str)));
    {
        let name = name.clone();
        use_effect_with(p.taken.clone(), move |taken| {
            if taken.contains(&*name) {
                name.set(unique_name("group", taken.iter().map(String::as_str)));
            }
        });
    }
    let assignor = use_state(|| "range".to_string());
    let commit_mode = use_state(|| "auto".to_string());
    let error = use_state(|| None::<String>);
    let onsubmit = {
        let (lab, name, assignor, commit_mode, topic, consumers) = (
            lab.clone(),
            name.clone(),
            assignor.clone(),
            commit_mode.clone(),
            p.topic.clone(),
            p.taken_consumers.clone(),
        );
        on_submit(&error, move || {
            let group_name = name.trim().to_string();
            // Serde names are the core's own spelling, so the choice parses as in a scenario file.
            let group: GroupSpec = match broker_sim::from_json(
                &serde_json::json!({
                    "name": group_name,
                    "topics": [topic],
                    "assignor": *assignor,
                    "commit": match commit_mode.as_str() {
                        "after" => serde_json::json!({ "kind": "after_processing" }),
                        "before" => serde_json::json!({ "kind": "before_processing" }),
                        _ => serde_json::json!({ "kind": "auto" }),
                    },
                })
                .to_string(),
            ) {
                Ok(g) => g,
                Err(e) => return Some(format!("{}: {}", e.path, e.reason)),
            };
            if let Some(e) = run(&lab, Command::AddGroup { group }) {
                return Some(e);
            }
            // A group without members reads nothing: start it with one.
            let member = unique_name(&group_name, consumers.iter().map(String::as_str));
            let mut spec = ConsumerSpec::on_queue(&member, "", 100.0);
            spec.source = ConsumerSource::Group(group_name.clone());
            run(&lab, Command::AddConsumer { consumer: spec })
        })
    };
    let assignors: Vec<(String, String)> = ["range", "round-robin", "sticky", "cooperative-sticky"]
        .iter()
        .map(|a| (a.to_string(), a.to_string()))
        .collect();
    let commits = vec![
        ("auto".to_string(), t(l, Key::InspCommitAuto).to_string()),
        ("after".to_string(), t(l, Key::InspCommitAfter).to_string()),
        (
            "before".to_string(),
            t(l, Key::InspCommitBefore).to_string(),
        ),
    ];
    add_form(
        l,
        Key::InspAddGroup,
        "add-group",
        html! {
            <>
                { input(t(l, Key::InspName), &name, "add-group-name") }
                { select(t(l, Key::InspAssignor), &assignor, &assignors, "add-group-assignor") }
                { select(t(l, Key::InspCommit), &commit_mode, &commits, "add-group-commit") }
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
    fn durations_read_naturally() {
        assert_eq!(fmt_duration(604_800_000.0), "7 d");
        assert_eq!(fmt_duration(7_200_000.0), "2 h");
        assert_eq!(fmt_duration(90_000.0), "90 s");
        assert_eq!(fmt_duration(250.0), "250 ms");
    }

    #[test]
    fn retention_and_offsets_read_naturally() {
        assert_eq!(offset_range(0, 25), "0–24");
        assert_eq!(offset_range(3, 4), "3");
        let d = crate::driver::Driver::new(&crate::compare::scenario(), 1).unwrap();
        let tv = &d.snapshot().topics[0];
        assert_eq!(retention_text(Lang::En, tv), "retention 1 min");
    }

    #[test]
    fn kaf_19_legend_names_the_replica_marks_only_for_a_replicated_cluster() {
        let keys = |id: &str| {
            let d = crate::driver::Driver::new(&crate::presets::scenario(id).unwrap(), 1).unwrap();
            let items = Kafka.legend(&d.snapshot());
            items.iter().map(|i| i.key).collect::<Vec<_>>()
        };
        let replicated = keys("17-kafka-leader-dies-acks");
        for k in [Key::LegendLeader, Key::LegendIsr, Key::LegendHighWatermark] {
            assert!(replicated.contains(&k), "{k:?} missing: {replicated:?}");
        }
        let single = keys("10-kafka-partitions");
        assert!(!single.contains(&Key::LegendLeader), "{single:?}");
        assert!(single.contains(&Key::LegendRecord));
    }
}
