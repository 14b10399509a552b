//! Apache Pulsar: a topic box with its subscriptions' types and names, each name in its own
//! colour, and a box per partition for its log (the managed ledger) with one cursor mark per
//! subscription (PUL-1, PUL-2). A consumer's link takes its subscription's colour, so the
//! consumers of one subscription read as one group.

use super::{Inspected, Kind, NodeText, Tone};
use crate::driver::Driver;
use crate::geom::Rect;
use crate::i18n::{t, Key, Lang};
use crate::layout::chips_that_fit;
use crate::model::format_count;
use crate::pen::{Pen, FAINT, FONT};
use broker_sim::scenario::pulsar::SubscriptionType;
use broker_sim::snapshot::{
    Family, GraphNode, LinkKind, NodeRef, PulsarSubscriptionView, PulsarTopicView,
};
use broker_sim::{ConsumerId, Snapshot};

pub struct Pulsar;

/// One colour per subscription of a topic, by its index: its cursor marks and its links.
const SUBSCRIPTION_COLOURS: [&str; 6] = [
    "#7c3aed", "#0e7490", "#b45309", "#be185d", "#15803d", "#1d4ed8",
];

fn sub_colour(index: usize) -> &'static str {
    SUBSCRIPTION_COLOURS[index % SUBSCRIPTION_COLOURS.len()]
}

fn topic(snap: &Snapshot, id: u32) -> Option<&PulsarTopicView> {
    snap.pulsar.as_ref()?.topics.iter().find(|t| t.id == id)
}

fn type_word(kind: Option<SubscriptionType>) -> &'static str {
    match kind {
        Some(SubscriptionType::Exclusive) => "Exclusive",
        Some(SubscriptionType::Failover) => "Failover",
        Some(SubscriptionType::Shared) => "Shared",
        Some(SubscriptionType::KeyShared) => "Key_Shared",
        None => "–",
    }
}

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

    fn text(&self, l: Lang, snap: &Snapshot, node: &GraphNode) -> NodeText {
        match node.node {
            NodeRef::PulsarTopic(id) => {
                let Some(tv) = topic(snap, id) else {
                    return NodeText::default();
                };
                // The types in the order of the lane's subscriptions.
                let types: Vec<&str> = (tv.subscriptions.iter())
                    .map(|s| type_word(s.kind))
                    .collect();
                NodeText {
                    tag: t(l, Key::TagPulsarTopic).to_string(),
                    stat: types.join(" · "),
                    tone: Tone::Normal,
                }
            }
            NodeRef::PulsarPartition(id, p) => {
                let Some(pv) = topic(snap, id).and_then(|tv| tv.partitions.get(p as usize)) else {
                    return NodeText::default();
                };
                NodeText {
                    tag: t(l, Key::TagPulsarLedger).to_string(),
                    stat: format!(
                        "{} {}–{} · {} {}",
                        t(l, Key::NodePulsarEntries),
                        pv.start,
                        pv.end.saturating_sub(1).max(pv.start),
                        format_count(pv.messages),
                        t(l, Key::NodePulsarStored)
                    ),
                    tone: Tone::Quiet,
                }
            }
            _ => NodeText::default(),
        }
    }

    fn has_lane(&self, node: &GraphNode) -> bool {
        matches!(
            node.node,
            NodeRef::PulsarTopic(_) | NodeRef::PulsarPartition(..)
        )
    }

    fn lane(&self, pen: &Pen, snap: &Snapshot, node: &GraphNode, lane: Rect, k: f64) {
        // Only the nodes `has_lane` names get here.
        let (NodeRef::PulsarTopic(id) | NodeRef::PulsarPartition(id, _)) = node.node else {
            return;
        };
        let Some(tv) = topic(snap, id) else {
            return;
        };
        if let NodeRef::PulsarPartition(_, p) = node.node {
            log_lane(pen, tv, p, lane, k);
        } else {
            subscriptions_lane(pen, tv, lane, k);
        }
    }

    /// A consumer's link is in its subscription's colour.
    fn link_colour(&self, snap: &Snapshot, kind: LinkKind, to: NodeRef) -> Option<&'static str> {
        let NodeRef::Consumer(c) = to else {
            return None;
        };
        if kind != LinkKind::Deliver {
            return None;
        }
        let pv = snap.pulsar.as_ref()?;
        let cv = pv.consumers.iter().find(|v| v.id == c)?;
        let tv = pv.topics.iter().find(|t| t.id == cv.topic)?;
        let index = tv
            .subscriptions
            .iter()
            .position(|s| Some(s.id) == cv.subscription)?;
        Some(sub_colour(index))
    }

    /// Consumers are framed by their subscription: each says which one, and of what type.
    fn consumer_tag(&self, _: Lang, snap: &Snapshot, consumer: ConsumerId) -> Option<String> {
        let sub = subscription_of(snap, consumer)?;
        Some(format!("{} · {}", sub.name, type_word(sub.kind)))
    }

    /// The type alone: a crowded consumer's name usually says its subscription already.
    fn consumer_aside(&self, snap: &Snapshot, consumer: ConsumerId) -> Option<String> {
        Some(type_word(subscription_of(snap, consumer)?.kind).to_string())
    }

    fn inspect(&self, _: &Driver, _: &Snapshot, _: NodeRef) -> Option<Inspected> {
        None
    }
}

/// The subscription `consumer` is attached to.
fn subscription_of(snap: &Snapshot, consumer: ConsumerId) -> Option<&PulsarSubscriptionView> {
    let p = snap.pulsar.as_ref()?;
    let c = p.consumers.iter().find(|c| c.id == consumer)?;
    let topic = p.topics.iter().find(|t| t.id == c.topic)?;
    (topic.subscriptions.iter()).find(|s| Some(s.id) == c.subscription)
}

/// Each subscription's name in its colour, the colour of its cursor mark and its links; the
/// names share the lane by their widths, in a smaller type when they do not fit.
fn subscriptions_lane(pen: &Pen, tv: &PulsarTopicView, lane: Rect, k: f64) {
    let c = pen.ctx;
    pen.lane_box(lane, k);
    c.set_text_baseline("middle");
    c.set_text_align("left");
    if tv.subscriptions.is_empty() {
        pen.font(600, 14.0 * k, FONT);
        c.set_fill_style_str(FAINT);
        c.fill_text(
            t(pen.lang, Key::NodePulsarNoSubs),
            lane.x + 4.0 * k,
            lane.mid_y(),
        )
        .ok();
        return;
    }
    let (bar, pad) = (4.0 * k, 4.0 * k);
    pen.font(700, 14.0 * k, FONT);
    let names: f64 = tv.subscriptions.iter().map(|s| pen.text_w(&s.name)).sum();
    let marks = tv.subscriptions.len() as f64 * (bar + 2.0 * pad);
    let px = (14.0 * k * (lane.w - marks) / names).clamp(10.0 * k, 14.0 * k);
    pen.font(700, px, FONT);
    let mut x = lane.x;
    for (i, s) in tv.subscriptions.iter().enumerate() {
        let colour = sub_colour(i);
        c.set_fill_style_str(colour);
        c.fill_rect(x + 1.0 * k, lane.y, bar, lane.h);
        let name = pen.fit(&s.name, (lane.right() - x - bar - pad).max(0.0));
        c.fill_text(&name, x + bar + pad, lane.mid_y()).ok();
        x += bar + 2.0 * pad + pen.text_w(&name);
    }
}

/// The newest entries of one partition's log, oldest on the left, and every subscription's
/// cursor as a mark in its colour before the first entry it has not acked.
fn log_lane(pen: &Pen, tv: &PulsarTopicView, p: u32, lane: Rect, k: f64) {
    let c = pen.ctx;
    pen.lane_box(lane, k);
    let Some(pv) = tv.partitions.get(p as usize) else {
        return;
    };
    let (chip_w, gap) = (12.0 * k, 4.0 * k);
    let fit = chips_that_fit(lane.w - 8.0 * k, chip_w, gap);
    let shown: Vec<&(u64, Vec<broker_sim::wire::Chip>)> = {
        let skip = pv.tail.len().saturating_sub(fit);
        pv.tail.iter().skip(skip).collect()
    };
    let x_of = |i: usize| lane.x + 4.0 * k + i as f64 * (chip_w + gap);
    for (i, (_, chips)) in shown.iter().enumerate() {
        if let Some(chip) = chips.first() {
            let r = Rect {
                x: x_of(i),
                y: lane.y + 3.0 * k,
                w: chip_w,
                h: lane.h - 6.0 * k,
            };
            pen.chip(chip, r, k, false);
        }
    }
    // A cursor sits before its first unacked entry; several at one place stand side by side.
    let first = shown.first().map_or(pv.end, |e| e.0);
    let mut at_x: Vec<f64> = Vec::new();
    for (i, s) in tv.subscriptions.iter().enumerate() {
        let Some(cursor) = s.partitions.get(p as usize) else {
            continue;
        };
        let next = (cursor.mark_delete + 1).max(0) as u64;
        let slot = shown
            .iter()
            .position(|e| e.0 >= next)
            .unwrap_or(shown.len());
        let mut x = if next < first {
            lane.x + 1.0 * k
        } else {
            x_of(slot) - gap / 2.0 - 1.5 * k
        };
        let same = at_x.iter().filter(|a| (**a - x).abs() < 0.5).count();
        at_x.push(x);
        x += same as f64 * 3.5 * k;
        c.set_fill_style_str(sub_colour(i));
        c.fill_rect(x, lane.y - 5.0 * k, 3.0 * k, lane.h + 10.0 * k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_sim::SimTime;

    /// Issue 13: consumers framed per subscription. Each of lesson 20's consumers names its
    /// subscription and type (PUL-2), so the four types can be told apart on stage.
    #[test]
    fn pul_2_each_consumer_names_its_subscription_and_type() {
        let scenario = crate::presets::scenario("20-pulsar-four-subscriptions").unwrap();
        let mut d = Driver::new(&scenario, 1).unwrap();
        d.run_to(SimTime::from_millis(2_900));
        let snap = d.snapshot();
        let tag = |name: &str| {
            let c = snap.consumers.iter().find(|c| c.name == name).unwrap();
            Pulsar.consumer_tag(Lang::En, &snap, c.id).unwrap()
        };
        assert_eq!(tag("audit-1"), "audit · Exclusive");
        assert_eq!(tag("billing-2"), "billing · Failover");
        assert_eq!(tag("ship-1"), "ship · Shared");
        assert_eq!(tag("mail-2"), "mail · Key_Shared");
    }
}
