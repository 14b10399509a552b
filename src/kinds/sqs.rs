//! AWS SQS: a queue box in the console's words (available, in flight, delayed), a lane of its
//! visible messages, the redrive link to its DLQ, its header cards and legend, and a read-only
//! inspector body with the queue's attributes.

use super::{waiting_chips, Card, Inspect, Inspected, Kind, LegendItem, NodeText, Tone};
use crate::driver::Driver;
use crate::forms::{fmt_num, section, stat};
use crate::geom::Rect;
use crate::i18n::{t, Key, Lang};
use crate::lab::Lab;
use crate::model::format_count;
use crate::pen::{Pen, FONT, INK};
use broker_sim::ids::SqsQueueId;
use broker_sim::scenario::{DeduplicationScope, SqsQueueSpec, SqsQueueType};
use broker_sim::snapshot::{
    Family, Figure, GraphNode, NodeRef, Role, SqsInFlightView, SqsQueueView,
};
use broker_sim::{SimTime, Snapshot};
use yew::prelude::*;

pub struct Sqs;

/// AWS's orange, so an SQS queue is told from a RabbitMQ queue in the same column.
const SQS_FILL: &str = "#fff7ed";
const SQS_STROKE: &str = "#c2410c";

fn queue_view(snap: &Snapshot, node: NodeRef) -> Option<&SqsQueueView> {
    let NodeRef::SqsQueue(id) = node else {
        return None;
    };
    snap.sqs.queues.iter().find(|q| q.id == id)
}

impl Kind for Sqs {
    fn family(&self) -> Family {
        Family::Sqs
    }

    fn heading(&self, role: Role) -> Option<(Key, Key)> {
        (role == Role::Store).then_some((Key::ColSqsQueues, Key::ColSqsQueuesAfter))
    }

    fn picker_heading(&self, role: Role) -> Option<Key> {
        (role == Role::Store).then_some(Key::ColSqsQueues)
    }

    fn palette(&self, role: Role) -> Option<(&'static str, &'static str)> {
        (role == Role::Store).then_some((SQS_FILL, SQS_STROKE))
    }

    fn word(&self, node: NodeRef) -> Option<&'static str> {
        matches!(node, NodeRef::SqsQueue(_)).then_some("sqs_queue")
    }

    fn encode(&self, node: NodeRef) -> Option<String> {
        match node {
            NodeRef::SqsQueue(q) => Some(format!("sq:{}", q.0)),
            _ => None,
        }
    }

    fn decode(&self, prefix: &str, a: u32, b: Option<u32>) -> Option<NodeRef> {
        (prefix == "sq" && b.is_none()).then_some(NodeRef::SqsQueue(SqsQueueId(a)))
    }

    fn text(&self, l: Lang, snap: &Snapshot, node: &GraphNode) -> NodeText {
        let fifo = queue_view(snap, node.node).is_some_and(|q| q.kind == SqsQueueType::Fifo);
        let figure = |f| format_count(node.figure(f).unwrap_or(0));
        NodeText {
            tag: format!(
                "{}{}",
                t(l, Key::TagSqsQueue),
                if fifo { " · FIFO" } else { "" }
            ),
            stat: format!(
                "{} {} · {} {} · {} {}",
                t(l, Key::NodeSqsVisible),
                figure(Figure::Visible),
                t(l, Key::NodeSqsInFlight),
                figure(Figure::InFlight),
                t(l, Key::NodeSqsDelayed),
                figure(Figure::Delayed)
            ),
            tone: Tone::Normal,
        }
    }

    /// Three slots in a row, like any queue, with the middle one hollow: a message in flight
    /// is hidden, not gone.
    fn icon(&self, pen: &Pen, _: &GraphNode, x: f64, y: f64, r: f64, colour: &str) {
        let c = pen.ctx;
        c.set_fill_style_str(colour);
        c.set_stroke_style_str(colour);
        c.set_line_width(r * 0.15);
        let w = r * 0.5;
        for i in 0..3 {
            let left = x - r + f64::from(i) * (w + r * 0.25);
            if i == 1 {
                c.stroke_rect(left, y - r, w, 2.0 * r);
            } else {
                c.fill_rect(left, y - r, w, 2.0 * r);
            }
        }
    }

    fn has_lane(&self, _: &GraphNode) -> bool {
        true
    }

    fn lane(&self, pen: &Pen, snap: &Snapshot, node: &GraphNode, lane: Rect, k: f64) {
        if let Some(q) = queue_view(snap, node.node) {
            queue_lane(pen, snap.time, q, lane, k);
        }
    }

    fn cards(&self, _: &Driver, snap: &Snapshot) -> Vec<Card> {
        let sum = |f: Figure| -> u64 {
            (snap.graph.nodes.iter())
                .filter(|n| n.family == Family::Sqs && n.role == Role::Store)
                .filter_map(|n| n.figure(f))
                .sum()
        };
        vec![
            Card {
                id: "count-sqs-visible",
                class: "c-sqs-visible",
                label: Key::CountSqsVisible,
                hint: Key::HintSqsVisible,
                value: sum(Figure::Visible),
            },
            Card {
                id: "count-sqs-in-flight",
                class: "c-sqs-in-flight",
                label: Key::CountSqsInFlight,
                hint: Key::HintSqsInFlight,
                value: sum(Figure::InFlight),
            },
            Card {
                id: "count-sqs-deleted",
                class: "c-sqs-deleted",
                label: Key::CountSqsDeleted,
                hint: Key::HintSqsDeleted,
                value: snap.sqs.queues.iter().map(|q| q.deleted).sum(),
            },
        ]
    }

    fn legend(&self, _snap: &Snapshot) -> Vec<LegendItem> {
        vec![
            LegendItem {
                swatch: "sw lane queue",
                inner: Some(("sw chip", "")),
                key: Key::LegendSqsVisible,
            },
            LegendItem::new("sw ring", Key::LegendSqsInFlight),
        ]
    }

    fn inspect(&self, d: &Driver, snap: &Snapshot, node: NodeRef) -> Option<Inspected> {
        let q = queue_view(snap, node)?;
        let consumers = (snap.sqs.consumers.iter())
            .filter(|c| c.queue == q.id)
            .filter_map(|c| snap.consumers.iter().find(|v| v.id == c.id))
            .filter(|c| c.status != broker_sim::ConsumerStatus::Removed)
            .map(|c| c.name.clone())
            .collect();
        Some(Inspected::new(SqsQueueModel {
            name: q.name.clone(),
            visible: q.visible,
            in_flight: q.not_visible,
            delayed: q.delayed,
            age_of_oldest_ms: q.age_of_oldest_ms,
            sent: q.sent,
            received: q.received,
            deleted: q.deleted,
            redriven: q.redriven,
            expired: q.expired,
            deduplicated: q.deduplicated,
            empty_receives: q.empty_receives,
            consumers,
            spec: d.sim().specs().sqs_queue(&q.name).cloned(),
        }))
    }
}

/// The queue's lane: its in-flight messages on the left, each with a ring that empties as its
/// visibility timeout runs out and its `ApproximateReceiveCount`, then the visible messages, the
/// next to be received on the right, next to the consumers.
fn queue_lane(pen: &Pen, now: SimTime, q: &SqsQueueView, lane: Rect, k: f64) {
    pen.lane_box(lane, k);
    // In-flight messages take what the visible ones leave, at least 60 % when both are there.
    let room = if q.visible > 0 { lane.w * 0.6 } else { lane.w };
    let mut x = lane.x;
    let mut drawn = 0;
    for m in &q.in_flight {
        let w = in_flight_w(pen, m, lane.h, k);
        if x + w > lane.x + room {
            break;
        }
        in_flight(pen, now, q.visibility_timeout_ms, m, x, lane, k);
        x += w + 8.0 * k;
        drawn += 1;
    }
    let rest = q.not_visible.saturating_sub(drawn);
    let c = pen.ctx;
    if rest > 0 {
        let more = format!("+{}", format_count(rest));
        pen.font(700, 15.0 * k, FONT);
        c.set_fill_style_str(SQS_STROKE);
        c.set_text_align("left");
        c.set_text_baseline("middle");
        c.fill_text(&more, x, lane.mid_y()).ok();
        x += pen.text_w(&more) + 8.0 * k;
    }
    if q.visible > 0 || q.not_visible == 0 {
        let area = Rect {
            x,
            w: (lane.right() - x).max(0.0),
            ..lane
        };
        waiting_chips(pen, &q.head, q.visible, area, k);
    }
}

/// The id and receive-count texts of an in-flight message.
fn in_flight_texts(m: &SqsInFlightView) -> (String, String) {
    (
        format!("m{}", m.chip.msg.0),
        format!("×{}", m.receive_count),
    )
}

fn in_flight_w(pen: &Pen, m: &SqsInFlightView, h: f64, k: f64) -> f64 {
    let (id, count) = in_flight_texts(m);
    pen.font(700, 14.0 * k, FONT);
    let id_w = pen.text_w(&id);
    pen.font(700, 13.0 * k, FONT);
    h + 4.0 * k + id_w + 4.0 * k + pen.text_w(&count) + 10.0 * k
}

/// One in-flight message at `x`: the chip, faded (hidden), inside its countdown ring; its id;
/// and a dark badge with its receive count.
fn in_flight(
    pen: &Pen,
    now: SimTime,
    timeout_ms: f64,
    m: &SqsInFlightView,
    x: f64,
    lane: Rect,
    k: f64,
) {
    let c = pen.ctx;
    let radius = lane.h / 2.0 - 1.5 * k;
    let (cx, cy) = (x + lane.h / 2.0, lane.mid_y());
    let left_ms = m.visible_at.since(now) as f64 / 1_000.0;
    let share = if timeout_ms > 0.0 {
        (left_ms / timeout_ms).clamp(0.0, 1.0)
    } else {
        0.0
    };
    c.set_line_width(4.0 * k);
    c.begin_path();
    c.arc(cx, cy, radius, 0.0, std::f64::consts::TAU).ok();
    c.set_stroke_style_str("#d1d5db");
    c.stroke();
    // From twelve o'clock, clockwise, the share of the timeout still to run.
    let top = -std::f64::consts::FRAC_PI_2;
    c.begin_path();
    c.arc(cx, cy, radius, top, top + share * std::f64::consts::TAU)
        .ok();
    c.set_stroke_style_str(SQS_STROKE);
    c.stroke();
    c.set_global_alpha(0.5);
    let chip = Rect {
        x: cx - 5.0 * k,
        y: cy - 7.0 * k,
        w: 10.0 * k,
        h: 14.0 * k,
    };
    pen.chip(&m.chip, chip, k, false);
    c.set_global_alpha(1.0);

    let (id, count) = in_flight_texts(m);
    c.set_text_baseline("middle");
    c.set_text_align("left");
    pen.font(700, 14.0 * k, FONT);
    c.set_fill_style_str(INK);
    let id_x = x + lane.h + 4.0 * k;
    c.fill_text(&id, id_x, cy).ok();
    let badge_x = id_x + pen.text_w(&id) + 4.0 * k;
    pen.font(700, 13.0 * k, FONT);
    let badge = Rect {
        x: badge_x,
        y: cy - 9.0 * k,
        w: pen.text_w(&count) + 10.0 * k,
        h: 18.0 * k,
    };
    pen.round_rect(badge, 9.0 * k);
    c.set_fill_style_str(INK);
    c.fill();
    c.set_fill_style_str("#ffffff");
    c.fill_text(&count, badge.x + 5.0 * k, cy).ok();
}

// ------------------------------------------------------------------ the inspector

/// A duration as the console shows an attribute: the largest whole unit.
fn duration(ms: f64) -> String {
    const UNITS: [(f64, &str); 4] = [
        (86_400_000.0, "d"),
        (3_600_000.0, "h"),
        (60_000.0, "min"),
        (1_000.0, "s"),
    ];
    UNITS
        .iter()
        .find(|(unit, _)| ms >= *unit && (ms / unit).fract() == 0.0)
        .map_or_else(
            || format!("{} ms", fmt_num(ms)),
            |(unit, name)| format!("{} {name}", fmt_num(ms / unit)),
        )
}

#[derive(Clone, Debug, PartialEq)]
struct SqsQueueModel {
    name: String,
    visible: u64,
    in_flight: u64,
    delayed: u64,
    age_of_oldest_ms: f64,
    sent: u64,
    received: u64,
    deleted: u64,
    redriven: u64,
    expired: u64,
    deduplicated: u64,
    empty_receives: u64,
    consumers: Vec<String>,
    spec: Option<SqsQueueSpec>,
}

impl Inspect for SqsQueueModel {
    fn title(&self, l: Lang) -> (String, String) {
        (t(l, Key::TagSqsQueue).to_string(), self.name.clone())
    }

    fn body(&self, lab: &Lab) -> Html {
        let (l, s) = (lab.lang, self);
        let consumers = if s.consumers.is_empty() {
            "—".to_string()
        } else {
            s.consumers.join(", ")
        };
        html! {
            <>
                <dl class="insp-stats">
                    { stat(t(l, Key::InspSqsAvailable), format_count(s.visible), "insp-sqs-visible") }
                    { stat(t(l, Key::InspSqsInFlight), format_count(s.in_flight), "insp-sqs-in-flight") }
                    { stat(t(l, Key::InspSqsDelayed), format_count(s.delayed), "insp-sqs-delayed") }
                    { stat(t(l, Key::InspSqsOldest), duration(s.age_of_oldest_ms.round()), "insp-sqs-oldest") }
                    { stat(t(l, Key::InspSqsSent), format_count(s.sent), "insp-sqs-sent") }
                    { stat(t(l, Key::InspSqsReceived), format_count(s.received), "insp-sqs-received") }
                    { stat(t(l, Key::InspSqsDeleted), format_count(s.deleted), "insp-sqs-deleted") }
                    { stat(t(l, Key::InspSqsRedriven), format_count(s.redriven), "insp-sqs-redriven") }
                    { stat(t(l, Key::InspSqsExpired), format_count(s.expired), "insp-sqs-expired") }
                    { stat(t(l, Key::InspSqsDeduplicated), format_count(s.deduplicated), "insp-sqs-deduplicated") }
                    { stat(t(l, Key::InspSqsEmptyReceives), format_count(s.empty_receives), "insp-sqs-empty-receives") }
                    { stat(t(l, Key::InspSqsConsumers), consumers, "insp-sqs-consumers") }
                </dl>
                { s.spec.as_ref().map(|spec| section(t(l, Key::InspSettings), settings(l, spec))).unwrap_or_default() }
                <p class="insp-note">{ t(l, Key::InspSqsReadOnlyNote) }</p>
            </>
        }
    }
}

/// The queue's attributes, as the console's queue details list them.
fn settings(l: Lang, spec: &SqsQueueSpec) -> Html {
    let fifo = spec.kind == SqsQueueType::Fifo;
    let kind = t(
        l,
        if fifo {
            Key::InspSqsFifo
        } else {
            Key::InspSqsStandard
        },
    );
    let redrive = spec.redrive.as_ref().map_or_else(
        || t(l, Key::InspSqsNoRedrive).to_string(),
        |r| format!("{} → {}", r.max_receive_count, r.dead_letter_queue),
    );
    let on_off = |b: bool| t(l, if b { Key::InspSqsOn } else { Key::InspSqsOff }).to_string();
    let scope = t(
        l,
        match spec.deduplication_scope {
            DeduplicationScope::Queue => Key::InspSqsScopeQueue,
            DeduplicationScope::MessageGroup => Key::InspSqsScopeGroup,
        },
    );
    html! {
        <dl class="insp-stats">
            { stat(t(l, Key::InspSqsType), kind.to_string(), "insp-sqs-type") }
            { stat(t(l, Key::InspSqsVisibilityTimeout), duration(spec.visibility_timeout_ms), "insp-sqs-visibility-timeout") }
            { stat(t(l, Key::InspSqsRetention), duration(spec.message_retention_ms), "insp-sqs-retention") }
            { stat(t(l, Key::InspSqsDelay), duration(spec.delay_ms), "insp-sqs-delay") }
            { stat(t(l, Key::InspSqsWaitTime), duration(spec.receive_wait_time_ms), "insp-sqs-wait-time") }
            { stat(t(l, Key::InspSqsRedrive), redrive, "insp-sqs-redrive") }
            { stat(t(l, Key::InspSqsInFlightLimit), format_count(spec.in_flight_limit), "insp-sqs-in-flight-limit") }
            if fifo {
                { stat(t(l, Key::InspSqsContentDedup), on_off(spec.content_based_deduplication), "insp-sqs-content-dedup") }
                { stat(t(l, Key::InspSqsDedupScope), scope.to_string(), "insp-sqs-dedup-scope") }
            }
        </dl>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqs_durations_read_in_the_largest_whole_unit() {
        assert_eq!(duration(0.0), "0 ms");
        assert_eq!(duration(250.0), "250 ms");
        assert_eq!(duration(1_000.0), "1 s");
        assert_eq!(duration(1_500.0), "1500 ms");
        assert_eq!(duration(30_000.0), "30 s");
        assert_eq!(duration(120_000.0), "2 min");
        assert_eq!(duration(345_600_000.0), "4 d");
    }
}
