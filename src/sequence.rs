//! The sequence diagram (issue 15), which is also the saga panel's swimlane (issue 14): one
//! lane per entity, each hop of a message an arrow along a time axis running left to right,
//! a loss or dead letter a ✕ with its reason. It reads the driver's ring of recent events and
//! draws on a canvas; a click on an arrow opens that message's journey.

use crate::hooks::use_interval;
use crate::i18n::{t, Key, Lang};
use crate::kinds::clients::stage_key;
use crate::kinds::places::place;
use crate::lab::use_lab;
use crate::layout::column_of_role;
use crate::pen::{DANGER, FONT, INK, MONO, MUTED};
use crate::trace::{dead_letter_reason_key, drop_reason_key, parse_msg_id};
use broker_sim::event::{StageEvent, StageWrite};
use broker_sim::snapshot::{Graph, NodeRef, Role};
use broker_sim::specs::Specs;
use broker_sim::{Event, EventKind, MessageId, SimTime};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};
use yew::prelude::*;

/// How often the diagram looks for new events.
const POLL_MS: i32 = 250;
/// At most this many arrows are drawn; a wide window over a busy run would be a grey smear.
pub const MAX_ARROWS: usize = 2_000;
/// The diagram's text, in CSS px: it is read projected, larger in presenter mode.
const TEXT_PX: f64 = 14.0;
const PRESENT_TEXT_PX: f64 = 18.0;

/// Which messages the diagram shows. Empty means every message in the ring.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    pub msgs: Vec<MessageId>,
    /// The order's transaction id (issue 14): every message a stage sent for it.
    pub txn: Option<u64>,
    /// Only hops and ends inside this time window.
    pub window: Option<(SimTime, SimTime)>,
    /// Lanes for the senders and receivers only: routers and stores are passed through, so an
    /// arrow spans a message's wait in a queue (the saga's swimlane across the services).
    pub services_only: bool,
}

impl Filter {
    fn picks_any(&self) -> bool {
        !self.msgs.is_empty() || self.txn.is_some()
    }
}

/// One lane: an entity, or a service with the consumers and producers it works through.
#[derive(Clone, Debug, PartialEq)]
pub struct Lane {
    pub name: String,
    pub role: Role,
}

/// How a hop moved its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hop {
    /// Sent on: published, routed, delivered.
    Send,
    /// Delivered again after a requeue or a consumer failure.
    Redelivery,
    /// Taken back by the broker without travelling (a requeue after a crash or a nack).
    Returned,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arrow {
    pub msg: MessageId,
    pub from: usize,
    pub to: usize,
    pub sent: SimTime,
    pub arrived: SimTime,
    pub hop: Hop,
}

/// A note on a lane: a service's write, or a marked end with its reason.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    pub lane: usize,
    pub time: SimTime,
    pub text: String,
    /// A ✕: the message (or the transaction's next event) ends here.
    pub end: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diagram {
    pub lanes: Vec<Lane>,
    pub arrows: Vec<Arrow>,
    pub marks: Vec<Mark>,
    pub from: SimTime,
    pub to: SimTime,
    /// More than [`MAX_ARROWS`] hops matched; the first ones are drawn.
    pub capped: bool,
}

/// Entities folded into one lane: a stage's consumers and the producers it publishes through.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lanes {
    all: Vec<Lane>,
    /// Each node's lane; a node not listed (an implicit default exchange) is passed through.
    of: BTreeMap<NodeRef, usize>,
    /// The graph's links between lanes.
    edges: Vec<(usize, usize)>,
}

impl Lanes {
    /// The lanes of `graph`, with each stage of `specs` as one service lane.
    pub fn new(graph: &Graph, specs: &Specs, lang: Lang) -> Lanes {
        let mut l = Lanes::default();
        let parents: BTreeSet<NodeRef> = graph.nodes.iter().filter_map(|n| n.parent).collect();
        let mut service: BTreeMap<String, usize> = BTreeMap::new();
        for st in &specs.stages {
            let consumers: Vec<&str> = (specs.consumers.iter())
                .filter(|c| c.stage == Some(st.role))
                .map(|c| c.name.as_str())
                .collect();
            let name = match consumers.as_slice() {
                [one] => one.to_string(),
                _ => t(lang, stage_key(st.role)).to_string(),
            };
            let lane = l.all.len();
            l.all.push(Lane {
                name,
                role: Role::Consumer,
            });
            let producers = [&st.publish, &st.compensate, &st.reply];
            for n in consumers {
                service.insert(format!("c:{n}"), lane);
            }
            for p in producers.into_iter().flatten() {
                service.insert(format!("p:{p}"), lane);
            }
        }
        for n in &graph.nodes {
            if n.implicit || parents.contains(&n.node) {
                continue;
            }
            let folded = match n.role {
                Role::Consumer => service.get(&format!("c:{}", n.name)),
                Role::Producer => service.get(&format!("p:{}", n.name)),
                _ => None,
            };
            let lane = folded.copied().unwrap_or_else(|| {
                l.all.push(Lane {
                    name: n.name.clone(),
                    role: n.role,
                });
                l.all.len() - 1
            });
            l.of.insert(n.node, lane);
        }
        l.edges = (graph.edges.iter())
            .filter_map(|e| Some((*l.of.get(&e.from)?, *l.of.get(&e.to)?)))
            .collect();
        l
    }

    /// Each lane's rank: by graph position (breadth-first depth along the links, and the hops
    /// `events` show, from the producers nothing reaches), then by role, then graph order.
    /// The hops count because a link through a default exchange says not where it leads.
    fn ranks(&self, events: &VecDeque<Event>) -> Vec<usize> {
        let mut edges: BTreeSet<(usize, usize)> = self.edges.iter().copied().collect();
        let mut last: BTreeMap<MessageId, usize> = BTreeMap::new();
        for e in events {
            let (Some(msg), Some(p)) = (e.kind.message(), place(&e.kind)) else {
                continue;
            };
            for node in [Some(p.at), p.to].into_iter().flatten() {
                let Some(lane) = self.lane(node) else {
                    continue;
                };
                if let Some(prev) = last.insert(msg, lane).filter(|prev| *prev != lane) {
                    edges.insert((prev, lane));
                }
            }
        }
        let n = self.all.len();
        let mut depth = vec![usize::MAX; n];
        let reached: BTreeSet<usize> = edges
            .iter()
            .filter(|(a, b)| a != b)
            .map(|(_, b)| *b)
            .collect();
        let mut queue: VecDeque<usize> = (0..n)
            .filter(|i| self.all[*i].role == Role::Producer && !reached.contains(i))
            .collect();
        for &i in &queue {
            depth[i] = 0;
        }
        while let Some(a) = queue.pop_front() {
            for &(_, b) in edges.iter().filter(|(x, _)| *x == a) {
                if depth[b] == usize::MAX {
                    depth[b] = depth[a] + 1;
                    queue.push_back(b);
                }
            }
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| (depth[i], column_of_role(self.all[i].role), i));
        let mut rank = vec![0; n];
        for (pos, i) in order.into_iter().enumerate() {
            rank[i] = pos;
        }
        rank
    }

    fn lane(&self, node: NodeRef) -> Option<usize> {
        self.of.get(&node).copied()
    }

    fn hidden(&self, lane: usize, f: &Filter) -> bool {
        f.services_only && matches!(self.all[lane].role, Role::Router | Role::Store)
    }
}

/// Each message's transaction: from the stage that handled it, or, for a stage's publish,
/// from the step it directly follows (a stage writes, then publishes, at one instant).
pub fn txns(events: &VecDeque<Event>) -> BTreeMap<MessageId, u64> {
    let mut out = BTreeMap::new();
    let mut last: Option<(SimTime, u64)> = None;
    for e in events {
        match &e.kind {
            EventKind::Stage(StageEvent::StageStep { msg, txn, .. }) => {
                out.insert(*msg, *txn);
                last = Some((e.time, *txn));
                continue;
            }
            EventKind::Published { msg, .. } => {
                if let Some((_, txn)) = last.filter(|(time, _)| *time == e.time) {
                    out.insert(*msg, txn);
                }
            }
            _ => {}
        }
        last = None;
    }
    out
}

/// What a stage's write reads as: the state the service's table now holds, as the saga table
/// writes it.
fn write_text(lang: Lang, wrote: StageWrite) -> String {
    match wrote {
        StageWrite::OrderOpened => "PENDING",
        StageWrite::OrderApproved | StageWrite::Shipped | StageWrite::CancelUndone => "SHIPPED",
        StageWrite::OrderCancelled | StageWrite::ShipmentCancelled => "CANCELLED",
        StageWrite::CancelRefused => t(lang, Key::SeqCancelRefused),
        StageWrite::OrderRejected | StageWrite::Voided | StageWrite::Released => "COMPENSATED",
        StageWrite::Paid => "PAID",
        StageWrite::Declined | StageWrite::OutOfStock => "FAILED",
        StageWrite::Reserved => "RESERVED",
        StageWrite::NothingToUndo => t(lang, Key::SeqNothingToUndo),
        StageWrite::Duplicate => t(lang, Key::SeqDuplicate),
        StageWrite::ReplyMatched => t(lang, Key::SeqReply),
        StageWrite::ReplyUnmatched => t(lang, Key::SeqReplyUnmatched),
        StageWrite::SagaAdvanced => t(lang, Key::SeqSagaAdvanced),
        StageWrite::SagaCompensating => t(lang, Key::SeqSagaCompensating),
        StageWrite::Translated => t(lang, Key::SeqTranslated),
    }
    .to_string()
}

/// A message's walk: where it was last seen (lane and time), and last on a drawn lane.
#[derive(Clone, Copy, Default)]
struct Walk {
    at: Option<(usize, SimTime)>,
    seen: Option<(usize, SimTime)>,
}

/// Builds the diagram of the messages `filter` picks from `events` (oldest first). `latency`
/// is the one-way delay of every hop: a delivery event is its send, it arrives that much later.
pub fn build(
    events: &VecDeque<Event>,
    lanes: &Lanes,
    filter: &Filter,
    latency: SimTime,
    lang: Lang,
) -> Diagram {
    let txn_of = txns(events);
    let picked = |m: MessageId| {
        !filter.picks_any()
            || filter.msgs.contains(&m)
            || (filter.txn.is_some() && txn_of.get(&m).copied() == filter.txn)
    };
    let mut walks: BTreeMap<MessageId, Walk> = BTreeMap::new();
    let mut arrows = Vec::new();
    let mut marks = Vec::new();
    let mut capped = false;
    let in_window =
        |a: SimTime, b: SimTime| filter.window.is_none_or(|(from, to)| b >= from && a <= to);
    for e in events {
        // The transaction's own end: a service died between its write and its publish (PAT-1).
        if let EventKind::Stage(StageEvent::StageCrashedAfterWrite { txn, lost, .. }) = &e.kind {
            let lane = place(&e.kind).and_then(|p| lanes.lane(p.at));
            if let (Some(lane), true) = (lane, filter.txn == Some(*txn) || !filter.picks_any()) {
                if in_window(e.time, e.time) {
                    // The loss first: it is what the reader must not miss.
                    let mut text = t(lang, Key::SeqCrashedAfterWrite).to_string();
                    if *lost > 0 {
                        text = format!("{} · {text}", t(lang, Key::SeqEventLost));
                    }
                    marks.push(Mark {
                        lane,
                        time: e.time,
                        text,
                        end: true,
                    });
                }
            }
            continue;
        }
        let Some(msg) = e.kind.message() else {
            continue;
        };
        if !picked(msg) {
            continue;
        }
        let walk = walks.entry(msg).or_default();
        let mut end = |lane: Option<usize>, text: String| {
            if let Some(lane) = lane.filter(|l| !lanes.hidden(*l, filter)) {
                if in_window(e.time, e.time) {
                    marks.push(Mark {
                        lane,
                        time: e.time,
                        text,
                        end: true,
                    });
                }
            }
        };
        match &e.kind {
            EventKind::Dropped { reason, .. } => {
                let lane = walk.at.or(walk.seen).map(|(l, _)| l);
                end(lane, t(lang, drop_reason_key(*reason)).to_string());
                continue;
            }
            EventKind::Expired { .. } => {
                let lane = place(&e.kind).and_then(|p| lanes.lane(p.at));
                end(
                    lane.or(walk.seen.map(|(l, _)| l)),
                    t(lang, Key::EvExpired).to_string(),
                );
            }
            EventKind::DeadLettered { reason, .. } => {
                let lane = place(&e.kind).and_then(|p| lanes.lane(p.at));
                let text = format!(
                    "{}: {}",
                    t(lang, Key::EvDeadLettered),
                    t(lang, dead_letter_reason_key(*reason))
                );
                end(lane.or(walk.seen.map(|(l, _)| l)), text);
            }
            EventKind::Stage(StageEvent::StageStep { wrote, .. }) => {
                if let Some(lane) = place(&e.kind).and_then(|p| lanes.lane(p.at)) {
                    if in_window(e.time, e.time) {
                        marks.push(Mark {
                            lane,
                            time: e.time,
                            text: write_text(lang, *wrote),
                            end: false,
                        });
                    }
                }
            }
            _ => {}
        }
        let Some(p) = place(&e.kind) else {
            continue;
        };
        let redelivered = matches!(
            e.kind,
            EventKind::Delivered {
                redelivered: true,
                ..
            }
        );
        let requeued = matches!(e.kind, EventKind::Requeued { .. });
        let mut stops = vec![(p.at, e.time)];
        if let Some(to) = p.to {
            stops.push((to, e.time.plus(latency.micros())));
        }
        for (node, time) in stops {
            let Some(lane) = lanes.lane(node) else {
                continue;
            };
            let moved = walk.at.is_some_and(|(l, _)| l != lane) || p.to == Some(node);
            let shown = !lanes.hidden(lane, filter);
            if moved && shown {
                if let Some((from, sent)) = walk.seen {
                    let hop = if requeued {
                        Hop::Returned
                    } else if redelivered {
                        Hop::Redelivery
                    } else {
                        Hop::Send
                    };
                    if in_window(sent, time) {
                        if arrows.len() < MAX_ARROWS {
                            arrows.push(Arrow {
                                msg,
                                from,
                                to: lane,
                                sent,
                                arrived: time,
                                hop,
                            });
                        } else {
                            capped = true;
                        }
                    }
                }
            }
            walk.at = Some((lane, time));
            if shown {
                walk.seen = Some((lane, time));
            }
        }
    }
    // Only the lanes something happens on, in their rank.
    let mut used: Vec<usize> = arrows
        .iter()
        .flat_map(|a| [a.from, a.to])
        .chain(marks.iter().map(|m| m.lane))
        .collect();
    let rank = lanes.ranks(events);
    used.sort_by_key(|&l| rank[l]);
    used.dedup();
    let index = |l: usize| used.iter().position(|u| *u == l).expect("used");
    for a in &mut arrows {
        (a.from, a.to) = (index(a.from), index(a.to));
    }
    for m in &mut marks {
        m.lane = index(m.lane);
    }
    let times = arrows
        .iter()
        .flat_map(|a| [a.sent, a.arrived])
        .chain(marks.iter().map(|m| m.time));
    let (from, to) = match filter.window {
        Some(w) => w,
        None => times.fold((SimTime::MAX, SimTime::ZERO), |(lo, hi), t| {
            (lo.min(t), hi.max(t))
        }),
    };
    Diagram {
        lanes: used.iter().map(|&l| lanes.all[l].clone()).collect(),
        arrows,
        marks,
        from: from.min(to),
        to,
        capped,
    }
}

/// An arrow as drawn, for clicks.
#[derive(Clone, Copy)]
struct Drawn {
    msg: MessageId,
    x1: f64,
    y1: f64,
    x2: f64,
    y2: f64,
}

/// Distance from `(px, py)` to the segment.
fn distance(d: &Drawn, px: f64, py: f64) -> f64 {
    let (dx, dy) = (d.x2 - d.x1, d.y2 - d.y1);
    let len2 = dx * dx + dy * dy;
    let k = if len2 == 0.0 {
        0.0
    } else {
        (((px - d.x1) * dx + (py - d.y1) * dy) / len2).clamp(0.0, 1.0)
    };
    let (cx, cy) = (d.x1 + k * dx, d.y1 + k * dy);
    ((px - cx).powi(2) + (py - cy).powi(2)).sqrt()
}

/// Draws `d` into `canvas` at its CSS size; returns the arrows as drawn.
fn draw(canvas: &HtmlCanvasElement, d: &Diagram, lang: Lang) -> Vec<Drawn> {
    let Some((ctx, w, h)) = crate::pen::hidpi_context(canvas, 60.0, 40.0) else {
        return Vec::new();
    };
    ctx.clear_rect(0.0, 0.0, w, h);
    ctx.set_text_baseline("middle");
    let text_px = if crate::pen::presenting() {
        PRESENT_TEXT_PX
    } else {
        TEXT_PX
    };
    if d.lanes.is_empty() {
        ctx.set_font(&format!("400 {text_px}px {FONT}"));
        ctx.set_fill_style_str(MUTED);
        ctx.set_text_align("left");
        let _ = ctx.fill_text(t(lang, Key::SeqEmpty), 8.0, h / 2.0);
        return Vec::new();
    }
    let measure = |s: &str| ctx.measure_text(s).map_or(0.0, |m| m.width());
    // Lane names on the left, the time axis along the bottom.
    ctx.set_font(&format!("700 {text_px}px {FONT}"));
    let gutter = (d.lanes.iter().map(|l| measure(&l.name)).fold(0.0, f64::max) + 14.0).min(w * 0.3);
    let axis_h = text_px + 8.0;
    let top = 4.0;
    let pitch = (h - axis_h - top) / d.lanes.len() as f64;
    let lane_y = |i: usize| top + pitch * (i as f64 + 0.5);
    let (x0, x1) = (gutter + 6.0, w - 12.0);
    // Room after the last event for its ✕ and reason, and a little before the first.
    let data_span = d.to.since(d.from).max(1) as f64;
    let v0 = d.from.micros() as f64 - data_span * 0.02;
    let span = data_span * 1.4;
    let x_of = |t: SimTime| x0 + (x1 - x0) * (t.micros() as f64 - v0) / span;
    ctx.set_text_align("left");
    for (i, lane) in d.lanes.iter().enumerate() {
        let y = lane_y(i);
        ctx.set_fill_style_str(INK);
        let name = fit(&ctx, &lane.name, gutter - 8.0);
        let _ = ctx.fill_text(&name, 4.0, y);
        ctx.set_stroke_style_str("#cbd5e1");
        ctx.set_line_width(1.0);
        ctx.begin_path();
        ctx.move_to(x0, y);
        ctx.line_to(x1, y);
        ctx.stroke();
    }
    // Time ticks: a round step giving about one tick per 90 px.
    ctx.set_font(&format!("400 {text_px}px {FONT}"));
    ctx.set_fill_style_str(MUTED);
    ctx.set_text_align("center");
    let per_px = span / (x1 - x0);
    let step = [
        1_000u64, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000,
    ]
    .into_iter()
    .chain((0..6).map(|k| 1_000_000 * [1, 2, 5, 10, 30, 60][k]))
    .find(|s| *s as f64 / per_px >= 90.0)
    .unwrap_or(60_000_000);
    let mut tick = (v0.max(0.0) as u64).div_ceil(step) * step;
    while (tick as f64) <= v0 + span {
        let x = x_of(SimTime(tick));
        let label = if step >= 1_000_000 {
            format!("{} s", tick / 1_000_000)
        } else {
            format!("{:.2} s", tick as f64 / 1e6)
        };
        let _ = ctx.fill_text(&label, x, h - axis_h / 2.0);
        tick += step;
    }
    // Arrows: a solid line sent on, dashed when taken back, orange when delivered again.
    // Message ids on the arrows only when the lanes leave room between them for a line.
    let labels = d.arrows.len() <= 40 && pitch >= 2.6 * text_px;
    let mut drawn = Vec::with_capacity(d.arrows.len());
    for a in &d.arrows {
        let (ax, ay) = (x_of(a.sent), lane_y(a.from));
        let (bx, by) = (x_of(a.arrived), lane_y(a.to));
        let colour = match a.hop {
            Hop::Send => "#1d4ed8",
            Hop::Redelivery => "#c2410c",
            Hop::Returned => MUTED,
        };
        ctx.set_stroke_style_str(colour);
        ctx.set_fill_style_str(colour);
        ctx.set_line_width(2.0);
        let dash = js_sys::Array::new();
        if a.hop == Hop::Returned {
            dash.push(&5.0.into());
            dash.push(&4.0.into());
        }
        let _ = ctx.set_line_dash(&dash);
        ctx.begin_path();
        if a.from == a.to {
            // Back to the same lane: an arc above it.
            let lift = (pitch * 0.45).min(14.0);
            ctx.move_to(ax, ay);
            ctx.bezier_curve_to(ax, ay - lift, bx, by - lift, bx, by);
        } else {
            ctx.move_to(ax, ay);
            ctx.line_to(bx, by);
        }
        ctx.stroke();
        let _ = ctx.set_line_dash(&js_sys::Array::new());
        let angle = if a.from == a.to {
            std::f64::consts::FRAC_PI_2
        } else {
            (by - ay).atan2(bx - ax)
        };
        head(&ctx, bx, by, angle);
        if a.hop == Hop::Redelivery && a.from == a.to {
            ctx.set_font(&format!("700 {text_px}px {FONT}"));
            ctx.set_text_align("center");
            let _ = ctx.fill_text(t(lang, Key::EvRedelivered), (ax + bx) / 2.0, ay - text_px);
        }
        if labels && a.from != a.to {
            ctx.set_font(&format!("700 {text_px}px {MONO}"));
            ctx.set_text_align("left");
            let (mx, my) = ((ax + bx) / 2.0, (ay + by) / 2.0);
            let text = a.msg.to_string();
            let tw = measure(&text);
            ctx.set_fill_style_str("rgba(255,255,255,0.85)");
            ctx.fill_rect(mx + 3.0, my - text_px / 2.0 - 1.0, tw + 4.0, text_px + 2.0);
            ctx.set_fill_style_str(colour);
            let _ = ctx.fill_text(&text, mx + 5.0, my);
        }
        drawn.push(Drawn {
            msg: a.msg,
            x1: ax,
            y1: ay,
            x2: bx,
            y2: by,
        });
    }
    // Marks: a service's write in a small box; an end as ✕ and its reason.
    let mut right: Vec<f64> = vec![f64::MIN; d.lanes.len()];
    for (i, m) in d.marks.iter().enumerate() {
        let (x, y) = (x_of(m.time), lane_y(m.lane));
        ctx.set_text_align("left");
        if m.end {
            // After a write drawn at the same instant, so both read.
            let x = x.max(right[m.lane] + 8.0);
            ctx.set_font(&format!("700 {}px {FONT}", text_px + 2.0));
            ctx.set_fill_style_str(DANGER);
            ctx.set_text_align("center");
            let _ = ctx.fill_text("✕", x, y);
            right[m.lane] = right[m.lane].max(x + 8.0);
            // The reason fills the room up to the lane's next write, which stays readable
            // (a second PAID after a crash is the story), or up to the edge.
            let next = d.marks[i + 1..]
                .iter()
                .find(|n| n.lane == m.lane && !n.end)
                .map_or(w - 4.0, |n| x_of(n.time));
            ctx.set_font(&format!("700 {text_px}px {FONT}"));
            let text = fit(&ctx, &m.text, next - x - 16.0);
            if !text.is_empty() {
                let tw = measure(&text);
                ctx.set_text_align("left");
                ctx.set_fill_style_str("rgba(255,255,255,0.9)");
                ctx.fill_rect(x + 9.0, y - text_px / 2.0 - 1.0, tw + 4.0, text_px + 2.0);
                ctx.set_fill_style_str(DANGER);
                let _ = ctx.fill_text(&text, x + 11.0, y);
            }
        } else {
            ctx.set_font(&format!("700 {text_px}px {MONO}"));
            let tw = measure(&m.text);
            // Just after the instant, so the arrow arriving there stays in sight.
            let bx = (x + 3.0).min(w - tw - 8.0);
            if bx <= right[m.lane] {
                continue;
            }
            let r = (bx, y - text_px / 2.0 - 2.0, tw + 6.0, text_px + 4.0);
            ctx.set_fill_style_str("#ffffff");
            ctx.fill_rect(r.0, r.1, r.2, r.3);
            ctx.set_stroke_style_str(INK);
            ctx.set_line_width(1.0);
            ctx.stroke_rect(r.0, r.1, r.2, r.3);
            ctx.set_fill_style_str(INK);
            let _ = ctx.fill_text(&m.text, bx + 3.0, y);
            right[m.lane] = bx + tw + 8.0;
        }
    }
    drawn
}

fn head(ctx: &CanvasRenderingContext2d, x: f64, y: f64, angle: f64) {
    let (s, len) = (0.45, 9.0);
    ctx.begin_path();
    ctx.move_to(x, y);
    ctx.line_to(x - len * (angle - s).cos(), y - len * (angle - s).sin());
    ctx.line_to(x - len * (angle + s).cos(), y - len * (angle + s).sin());
    ctx.close_path();
    ctx.fill();
}

/// `text` cut with an ellipsis to fit `max_w` at the current font.
fn fit(ctx: &CanvasRenderingContext2d, text: &str, max_w: f64) -> String {
    let width = |s: &str| ctx.measure_text(s).map_or(0.0, |m| m.width());
    if width(text) <= max_w {
        return text.to_string();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let s: String = chars.iter().collect::<String>() + "…";
        if width(&s) <= max_w {
            return s;
        }
    }
    String::new()
}

#[derive(Properties, PartialEq)]
pub struct SequenceProps {
    pub filter: Filter,
    /// The canvas's `data-testid`.
    pub testid: AttrValue,
}

/// What the view last computed, and from which ring.
type CacheKey = (Filter, Lang, usize, Option<Event>);

#[function_component(SequenceView)]
pub fn sequence_view(props: &SequenceProps) -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let canvas = use_node_ref();
    let diagram = use_state_eq(|| Rc::new(Diagram::default()));
    let cache = use_mut_ref(|| None::<CacheKey>);
    let drawn = use_mut_ref(Vec::<Drawn>::new);
    let painted = use_mut_ref(|| None::<(usize, i32, i32)>);

    let refresh = {
        let (driver, diagram, filter) = (lab.driver.clone(), diagram.clone(), props.filter.clone());
        let (canvas, drawn, painted) = (canvas.clone(), drawn.clone(), painted.clone());
        Rc::new(move || {
            let Ok(d) = driver.try_borrow() else {
                return;
            };
            let ring = d.events();
            let key = Some((filter.clone(), l, ring.len(), ring.back().cloned()));
            let mut current = (*diagram).clone();
            if *cache.borrow() != key {
                *cache.borrow_mut() = key;
                let snap = d.snapshot();
                let lanes = Lanes::new(&snap.graph, &d.sim().specs(), l);
                let latency = SimTime((d.scenario().latency_ms * 1_000.0) as u64);
                current = Rc::new(build(ring, &lanes, &filter, latency, l));
                diagram.set(current.clone());
            }
            // Repaint when the diagram or the canvas size changed.
            if let Some(c) = canvas.cast::<HtmlCanvasElement>() {
                let now = (
                    Rc::as_ptr(&current) as usize,
                    c.client_width(),
                    c.client_height(),
                );
                if *painted.borrow() != Some(now) {
                    *painted.borrow_mut() = Some(now);
                    *drawn.borrow_mut() = draw(&c, &current, l);
                }
            }
        })
    };
    {
        let refresh = refresh.clone();
        use_effect_with((props.filter.clone(), l, diagram.clone()), move |_| {
            refresh()
        });
    }
    use_interval(POLL_MS, move || refresh());

    let onclick = {
        let (drawn, on_trace) = (drawn.clone(), lab.trace.on_trace.clone());
        Callback::from(move |e: MouseEvent| {
            let (x, y) = (f64::from(e.offset_x()), f64::from(e.offset_y()));
            let hit = drawn
                .borrow()
                .iter()
                .map(|d| (distance(d, x, y), d.msg))
                .filter(|(dist, _)| *dist <= 8.0)
                .min_by(|a, b| a.0.total_cmp(&b.0));
            if let Some((_, msg)) = hit {
                on_trace.emit(msg);
            }
        })
    };
    let d = &*diagram;
    let ends = d.marks.iter().filter(|m| m.end).count();
    html! {
        <canvas ref={canvas} class="sequence" data-testid={props.testid.clone()} role="img"
            aria-label={t(l, Key::SeqLabel)} title={t(l, Key::SeqClickHint)}
            data-lanes={d.lanes.len().to_string()}
            data-lane-names={d.lanes.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join("|")}
            data-arrows={d.arrows.len().to_string()}
            data-ends={ends.to_string()}
            data-notes={(d.marks.len() - ends).to_string()}
            {onclick}></canvas>
    }
}

/// The text of the panel's form: message ids, a transaction id, a window in seconds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FormText {
    pub msgs: String,
    pub txn: String,
    pub from: String,
    pub to: String,
    pub services_only: bool,
}

/// The filter the form asks for; what does not parse is left out.
pub fn parse_filter(f: &FormText) -> Filter {
    let secs = |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0 && *v < 1e9)
            .map(|v| SimTime((v * 1e6).round() as u64))
    };
    let window = match (secs(&f.from), secs(&f.to)) {
        (None, None) => None,
        (a, b) => Some((a.unwrap_or(SimTime::ZERO), b.unwrap_or(SimTime::MAX))),
    };
    Filter {
        msgs: f.msgs.split([' ', ',']).filter_map(parse_msg_id).collect(),
        txn: parse_msg_id(&f.txn).map(|m| m.0),
        window,
        services_only: f.services_only,
    }
}

/// The dock's sequence tab: the diagram of the messages its form picks.
#[function_component(SequencePanel)]
pub fn sequence_panel() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let form = use_state(FormText::default);
    let filter = use_state(Filter::default);
    let field = |key: Key, value: &str, id: &'static str, set: fn(&mut FormText, String)| {
        let oninput = crate::forms::write_on_input(&form, set);
        html! {
            <label class="seq-field">
                <span>{ t(l, key) }</span>
                <input type="text" spellcheck="false" autocomplete="off" value={value.to_string()}
                    data-testid={format!("seq-{id}")} {oninput} />
            </label>
        }
    };
    let on_services = {
        let form = form.clone();
        Callback::from(move |e: web_sys::Event| {
            if let Some(i) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                let mut f = (*form).clone();
                f.services_only = i.checked();
                form.set(f);
            }
        })
    };
    let onsubmit = {
        let (form, filter) = (form.clone(), filter.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            filter.set(parse_filter(&form));
        })
    };
    html! {
        <div class="seq-panel" data-testid="sequence">
            <form class="seq-form" {onsubmit}>
                { field(Key::SeqMsgs, &form.msgs, "msgs", |f, v| f.msgs = v) }
                { field(Key::SeqTxn, &form.txn, "txn", |f, v| f.txn = v) }
                { field(Key::SeqFrom, &form.from, "from", |f, v| f.from = v) }
                { field(Key::SeqTo, &form.to, "to", |f, v| f.to = v) }
                <label class="seq-field">
                    <input type="checkbox" checked={form.services_only} onchange={on_services}
                        data-testid="seq-services" />
                    <span>{ t(l, Key::SeqServicesOnly) }</span>
                </label>
                <button type="submit" class="dock-button" data-testid="seq-apply">{ t(l, Key::SeqApply) }</button>
            </form>
            <SequenceView filter={(*filter).clone()} testid="sequence-canvas" />
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::Driver;
    use broker_sim::{ConsumerId, ProducerId, QueueId, Scenario};

    fn run(path: &str, ms: u64) -> Driver {
        let json = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
            .expect("scenario file");
        let scenario = Scenario::from_json(&json).expect("valid scenario");
        let mut d = Driver::new(&scenario, 1).expect("builds");
        d.run_to(SimTime::from_millis(ms));
        d
    }

    fn lanes(d: &Driver) -> Lanes {
        Lanes::new(&d.snapshot().graph, &d.sim().specs(), Lang::En)
    }

    fn names(dg: &Diagram) -> Vec<&str> {
        dg.lanes.iter().map(|l| l.name.as_str()).collect()
    }

    const LESSON_23: &str = "scenarios/lessons/23-naive-pipeline.json";

    #[test]
    fn pipeline_lanes_follow_the_flow_and_fold_each_stage() {
        let d = run(LESSON_23, 1_000);
        let f = Filter::default();
        let dg = build(
            d.events(),
            &lanes(&d),
            &f,
            SimTime::from_millis(20),
            Lang::En,
        );
        // The default exchange is passed through; each stage's producer is its service's lane.
        assert_eq!(
            names(&dg),
            [
                "shop",
                "orders",
                "order-svc",
                "payments",
                "payment-svc",
                "inventory",
                "inventory-svc",
                "shipping",
                "shipping-svc"
            ]
        );
    }

    #[test]
    fn a_transaction_is_arrows_across_the_services() {
        // Order m0 at 1 s: shop → order-svc → payment-svc → inventory-svc → shipping-svc.
        let d = run(LESSON_23, 1_000);
        let f = Filter {
            txn: Some(0),
            services_only: true,
            ..Filter::default()
        };
        let dg = build(
            d.events(),
            &lanes(&d),
            &f,
            SimTime::from_millis(20),
            Lang::En,
        );
        assert_eq!(
            names(&dg),
            [
                "shop",
                "order-svc",
                "payment-svc",
                "inventory-svc",
                "shipping-svc"
            ]
        );
        let hops: Vec<(u64, usize, usize, u64, u64)> = dg
            .arrows
            .iter()
            .map(|a| {
                (
                    a.msg.0,
                    a.from,
                    a.to,
                    a.sent.micros() / 1_000,
                    a.arrived.micros() / 1_000,
                )
            })
            .collect();
        // m0 published at 0.5 s, delivered at 0.52 s, arriving 20 ms later; its step at 0.64 s
        // publishes m1 to payments, and so on down the chain.
        assert_eq!(hops[0], (0, 0, 1, 500, 540));
        assert_eq!(hops[1], (1, 1, 2, 640, 680));
        assert_eq!(hops[2].0, 2);
        assert_eq!((hops[2].1, hops[2].2), (2, 3));
        let notes: Vec<&str> = dg.marks.iter().map(|m| m.text.as_str()).collect();
        assert_eq!(notes[..3], ["PENDING", "PAID", "RESERVED"]);
        assert!(dg.marks.iter().all(|m| !m.end));
    }

    #[test]
    fn a_lost_order_ends_in_a_cross_at_order_svc() {
        // PAT-1: order-svc dies after writing m4 and before publishing it.
        let d = run(LESSON_23, 1_500);
        let f = Filter {
            txn: Some(4),
            services_only: true,
            ..Filter::default()
        };
        let dg = build(
            d.events(),
            &lanes(&d),
            &f,
            SimTime::from_millis(20),
            Lang::En,
        );
        assert_eq!(names(&dg), ["shop", "order-svc"]);
        assert_eq!(dg.arrows.len(), 1);
        let ends: Vec<&Mark> = dg.marks.iter().filter(|m| m.end).collect();
        assert_eq!(ends.len(), 1);
        assert_eq!((ends[0].lane, ends[0].time.micros()), (1, 1_140_000));
        assert!(ends[0].text.contains("lost"), "{}", ends[0].text);
    }

    #[test]
    fn a_redelivery_after_a_crash_is_drawn_and_charges_twice() {
        // m11 (txn 10) is charged at 2.33 s, payment-svc dies before its ack, and the broker
        // delivers it again at 2.63 s: back to the same lane, then PAID a second time.
        let d = run(LESSON_23, 3_000);
        let f = Filter {
            txn: Some(10),
            services_only: true,
            ..Filter::default()
        };
        let dg = build(
            d.events(),
            &lanes(&d),
            &f,
            SimTime::from_millis(20),
            Lang::En,
        );
        let again: Vec<&Arrow> = dg
            .arrows
            .iter()
            .filter(|a| a.hop == Hop::Redelivery)
            .collect();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].msg, MessageId(11));
        assert_eq!(again[0].from, again[0].to);
        assert_eq!(
            (again[0].sent.micros(), again[0].arrived.micros()),
            (2_330_000, 2_650_000)
        );
        let paid = dg.marks.iter().filter(|m| m.text == "PAID").count();
        assert_eq!(paid, 2);
    }

    #[test]
    fn a_requeue_after_a_crash_goes_back_to_the_queue_then_to_the_other_consumer() {
        // RMQ-15: worker-a crashes holding m0; the broker requeues it and worker-b gets it.
        let d = run("scenarios/rules/rmq-15-consumer-crash.json", 10_000);
        let f = Filter {
            msgs: vec![MessageId(0)],
            ..Filter::default()
        };
        let dg = build(
            d.events(),
            &lanes(&d),
            &f,
            SimTime::from_millis(100),
            Lang::En,
        );
        assert_eq!(names(&dg), ["scheduler", "tasks", "worker-a", "worker-b"]);
        let hops: Vec<(usize, usize, Hop)> =
            dg.arrows.iter().map(|a| (a.from, a.to, a.hop)).collect();
        assert_eq!(
            hops,
            [
                (0, 1, Hop::Send),
                (1, 2, Hop::Send),
                (2, 1, Hop::Returned),
                (1, 3, Hop::Redelivery)
            ]
        );
        assert!(dg.arrows.iter().all(|a| a.arrived >= a.sent));
    }

    #[test]
    fn the_form_parses_into_a_filter() {
        let f = parse_filter(&FormText {
            msgs: "m3, 7 x".into(),
            txn: "m10".into(),
            from: "1.5".into(),
            to: "".into(),
            services_only: true,
        });
        assert_eq!(f.msgs, [MessageId(3), MessageId(7)]);
        assert_eq!(f.txn, Some(10));
        assert_eq!(f.window, Some((SimTime(1_500_000), SimTime::MAX)));
        assert!(f.services_only);
        assert_eq!(parse_filter(&FormText::default()), Filter::default());
    }

    #[test]
    fn a_small_trace_gives_lanes_in_rank_and_arrows_per_hop() {
        // A hand-made ring: p0 → q0, delivered to c0 and acked; m1 dropped in q0.
        let d = run(LESSON_23, 0);
        let l = lanes(&d);
        let ev = |ms: u64, kind: EventKind| Event {
            time: SimTime::from_millis(ms),
            kind,
        };
        let (m0, m1, p0, q0, c0) = (
            MessageId(0),
            MessageId(1),
            ProducerId(0),
            QueueId(0),
            ConsumerId(0),
        );
        let ring: VecDeque<Event> = [
            ev(
                0,
                EventKind::Published {
                    msg: m0,
                    producer: p0,
                },
            ),
            ev(
                0,
                EventKind::Published {
                    msg: m1,
                    producer: p0,
                },
            ),
            ev(20, EventKind::Enqueued { msg: m0, queue: q0 }),
            ev(20, EventKind::Enqueued { msg: m1, queue: q0 }),
            ev(
                50,
                EventKind::Delivered {
                    msg: m0,
                    queue: q0,
                    consumer: c0,
                    redelivered: false,
                },
            ),
            ev(
                60,
                EventKind::Dropped {
                    msg: m1,
                    reason: broker_sim::DropReason::MaxLength,
                },
            ),
            ev(
                170,
                EventKind::Processed {
                    msg: m0,
                    consumer: c0,
                    failed: false,
                },
            ),
        ]
        .into_iter()
        .collect();
        let dg = build(
            &ring,
            &l,
            &Filter::default(),
            SimTime::from_millis(20),
            Lang::En,
        );
        assert_eq!(names(&dg), ["shop", "orders", "order-svc"]);
        let hops: Vec<(u64, usize, usize, u64, u64)> = dg
            .arrows
            .iter()
            .map(|a| {
                (
                    a.msg.0,
                    a.from,
                    a.to,
                    a.sent.micros() / 1_000,
                    a.arrived.micros() / 1_000,
                )
            })
            .collect();
        assert_eq!(
            hops,
            [(0, 0, 1, 0, 20), (1, 0, 1, 0, 20), (0, 1, 2, 50, 70)]
        );
        assert_eq!(dg.marks.len(), 1);
        assert!(dg.marks[0].end && dg.marks[0].lane == 1);
        assert_eq!((dg.from.micros(), dg.to.micros()), (0, 70_000));
        // Picking m1 and a window that ends before the drop leaves its first hop only.
        let f = Filter {
            msgs: vec![m1],
            window: Some((SimTime::ZERO, SimTime::from_millis(30))),
            ..Filter::default()
        };
        let dg = build(&ring, &l, &f, SimTime::from_millis(20), Lang::En);
        assert_eq!(dg.arrows.len(), 1);
        assert!(dg.marks.is_empty());
    }
}
