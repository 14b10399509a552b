//! Draws the topology, queued and unacked messages and messages on the wire onto the canvas,
//! straight from a snapshot (never through the virtual DOM).

use crate::i18n::{t, Key, Lang};
use crate::layout::{
    chips_that_fit, progress, Curve, Item, Layout, NodeBox, Point, Rect, Topology, BASE_HEIGHT,
    PRODUCERS, QUEUES, ROUTERS,
};
use crate::model::format_count;
use broker_sim::ids::{ConsumerId, ExchangeId, MessageId};
use broker_sim::scenario::{AckMode, ExchangeType, QueueType, Scenario};
use broker_sim::sim::ConsumerStatus;
use broker_sim::snapshot::{Chip, ConsumerView, NodeRef, QueueView, Snapshot};
use std::collections::BTreeSet;
use std::f64::consts::PI;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

pub const FONT: &str =
    "system-ui, -apple-system, 'Segoe UI', 'Noto Sans KR', 'Malgun Gothic', 'Apple SD Gothic Neo', 'NanumGothic', sans-serif";
pub const MONO: &str =
    "ui-monospace, 'SFMono-Regular', Menlo, Consolas, 'DejaVu Sans Mono', monospace";

/// Message colours, one per producer (Okabe–Ito, readable on white and for most colour-blind
/// viewers).
pub const PRODUCER_COLOURS: [&str; 7] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#7F3C8D",
];
const NO_PRODUCER: &str = "#6b7280";

const INK: &str = "#111827";
const MUTED: &str = "#4b5563";
const FAINT: &str = "#6b7280";
const LINK: &str = "#94a3b8";
const PROCESSING: &str = "#f59e0b";
const DANGER: &str = "#dc2626";

/// Fill and stroke of a node kind.
fn palette(column: usize, node: NodeRef) -> (&'static str, &'static str) {
    match (column, node) {
        (_, NodeRef::Channel(_)) => ("#fdecec", "#b91c1c"),
        (PRODUCERS, _) => ("#eaf1fd", "#1d4ed8"),
        (ROUTERS, _) => ("#fdf4e3", "#a16207"),
        (QUEUES, _) => ("#e8f6ee", "#15803d"),
        _ => ("#f1ecfb", "#6d28d9"),
    }
}

pub fn producer_colour(producer: Option<broker_sim::ProducerId>) -> &'static str {
    producer.map_or(NO_PRODUCER, |p| {
        PRODUCER_COLOURS[p.index() % PRODUCER_COLOURS.len()]
    })
}

/// Owns the canvas, its backing-store size and the cached layout.
pub struct Painter {
    canvas: HtmlCanvasElement,
    ctx: CanvasRenderingContext2d,
    css_w: f64,
    css_h: f64,
    dpr: f64,
    cache: Option<(Topology, Layout)>,
}

impl Painter {
    pub fn new(canvas: HtmlCanvasElement) -> Option<Painter> {
        let ctx = canvas
            .get_context("2d")
            .ok()??
            .dyn_into::<CanvasRenderingContext2d>()
            .ok()?;
        Some(Painter {
            canvas,
            ctx,
            css_w: 0.0,
            css_h: 0.0,
            dpr: 0.0,
            cache: None,
        })
    }

    /// Matches the backing store to the element's CSS size × devicePixelRatio; returns whether
    /// anything changed (the frame must then be drawn again).
    pub fn sync_size(&mut self) -> bool {
        let dpr = web_sys::window()
            .map(|w| w.device_pixel_ratio())
            .filter(|d| d.is_finite() && *d > 0.0)
            .unwrap_or(1.0);
        let w = f64::from(self.canvas.client_width());
        let h = f64::from(self.canvas.client_height());
        if w == self.css_w && h == self.css_h && dpr == self.dpr {
            return false;
        }
        self.css_w = w;
        self.css_h = h;
        self.dpr = dpr;
        self.canvas.set_width((w * dpr).round() as u32);
        self.canvas.set_height((h * dpr).round() as u32);
        self.cache = None;
        true
    }

    pub fn has_area(&self) -> bool {
        self.css_w >= 40.0 && self.css_h >= 40.0
    }

    pub fn draw(&mut self, snap: &Snapshot, scenario: &Scenario, lang: Lang) {
        if !self.has_area() {
            return;
        }
        let topo = Topology::from_snapshot(snap, scenario);
        let stale = self.cache.as_ref().is_none_or(|(t, _)| *t != topo);
        if stale {
            let layout = Layout::compute(&topo, self.css_w, self.css_h);
            self.cache = Some((topo, layout));
        }
        let Some((topo, layout)) = &self.cache else {
            return;
        };
        let ctx = &self.ctx;
        let _ = ctx.set_transform(self.dpr, 0.0, 0.0, self.dpr, 0.0, 0.0);
        ctx.set_fill_style_str("#ffffff");
        ctx.fill_rect(0.0, 0.0, self.css_w, self.css_h);
        let scene = Scene {
            ctx,
            layout,
            snap,
            lang,
            s: layout.scale,
        };
        scene.headings(topo);
        scene.links(topo);
        scene.captions(topo);
        for b in &layout.boxes {
            if let Item::Node(node) = b.item {
                scene.node(b, node);
            }
        }
        scene.transits();
    }
}

struct Scene<'a> {
    ctx: &'a CanvasRenderingContext2d,
    layout: &'a Layout,
    snap: &'a Snapshot,
    lang: Lang,
    s: f64,
}

impl Scene<'_> {
    fn font(&self, weight: u32, px: f64, family: &str) {
        self.ctx.set_font(&format!("{weight} {px:.1}px {family}"));
    }

    fn text_w(&self, text: &str) -> f64 {
        self.ctx
            .measure_text(text)
            .map(|m| m.width())
            .unwrap_or(0.0)
    }

    /// `text` cut with an ellipsis to fit `max_w` in the current font.
    fn fit(&self, text: &str, max_w: f64) -> String {
        if self.text_w(text) <= max_w {
            return text.to_string();
        }
        let mut chars: Vec<char> = text.chars().collect();
        while !chars.is_empty() {
            chars.pop();
            let candidate: String = chars.iter().collect::<String>() + "…";
            if self.text_w(&candidate) <= max_w {
                return candidate;
            }
        }
        String::new()
    }

    /// Sets a bold font between `max_px` and `min_px` so `text` fits `max_w`, then cuts it
    /// with an ellipsis if even `min_px` is too wide.
    fn fit_shrinking(&self, text: &str, max_w: f64, max_px: f64, min_px: f64) -> String {
        self.fit_shrinking_weight(700, text, max_w, max_px, min_px)
    }

    fn fit_shrinking_weight(
        &self,
        weight: u32,
        text: &str,
        max_w: f64,
        max_px: f64,
        min_px: f64,
    ) -> String {
        self.font(weight, max_px, FONT);
        let w = self.text_w(text);
        if w <= max_w || w <= 0.0 {
            return text.to_string();
        }
        let px = (max_px * max_w / w).floor().max(min_px);
        self.font(weight, px, FONT);
        self.fit(text, max_w)
    }

    fn round_rect(&self, r: Rect, radius: f64) {
        let c = self.ctx;
        let rad = radius.min(r.w / 2.0).min(r.h / 2.0).max(0.0);
        c.begin_path();
        c.move_to(r.x + rad, r.y);
        c.arc_to(r.right(), r.y, r.right(), r.bottom(), rad).ok();
        c.arc_to(r.right(), r.bottom(), r.x, r.bottom(), rad).ok();
        c.arc_to(r.x, r.bottom(), r.x, r.y, rad).ok();
        c.arc_to(r.x, r.y, r.right(), r.y, rad).ok();
        c.close_path();
    }

    fn headings(&self, topo: &Topology) {
        let c = self.ctx;
        self.font(700, 15.0 * self.s, FONT);
        c.set_fill_style_str(FAINT);
        c.set_text_align("center");
        c.set_text_baseline("middle");
        for (col, slot) in self.layout.slots.iter().enumerate() {
            if !slot.used {
                continue;
            }
            let key = match col {
                PRODUCERS => Key::ColProducers,
                ROUTERS => {
                    let nodes = &topo.columns[ROUTERS];
                    let ex = nodes
                        .iter()
                        .any(|n| matches!(n, Item::Node(NodeRef::Exchange(_))));
                    let ch = nodes
                        .iter()
                        .any(|n| matches!(n, Item::Node(NodeRef::Channel(_))));
                    match (ex, ch) {
                        (true, true) => Key::ColExchangesChannels,
                        (false, true) => Key::ColChannels,
                        _ => Key::ColExchanges,
                    }
                }
                QUEUES => Key::ColQueues,
                _ => Key::ColConsumers,
            };
            let text = self.fit(t(self.lang, key), slot.w - 8.0);
            c.fill_text(&text, slot.x + slot.w / 2.0, self.layout.heading_y)
                .ok();
        }
        // A faint rule under the headings.
        c.set_stroke_style_str("#e5e7eb");
        c.set_line_width(1.0);
        c.begin_path();
        let y = self.layout.heading_y + 15.0 * self.s;
        c.move_to(self.layout.slots[0].x, y);
        let last = self.layout.slots[3];
        c.line_to(last.x + last.w, y);
        c.stroke();
    }

    fn links(&self, topo: &Topology) {
        let c = self.ctx;
        c.set_line_cap("round");
        for e in &topo.edges {
            let Some(curve) = self.layout.link(e.from, e.to) else {
                continue;
            };
            c.set_stroke_style_str(LINK);
            c.set_line_width(2.5 * self.s);
            c.begin_path();
            let start = curve.start();
            c.move_to(start.x, start.y);
            for seg in &curve.segments {
                c.bezier_curve_to(seg.p1.x, seg.p1.y, seg.p2.x, seg.p2.y, seg.p3.x, seg.p3.y);
            }
            c.stroke();
            self.arrow_head(curve.last());
        }
        // Labels after all lines, so no line crosses a label.
        for e in &topo.edges {
            let (Some(label), Some(curve)) = (&e.label, self.layout.link(e.from, e.to)) else {
                continue;
            };
            if !self.has_label(e) {
                continue;
            }
            let text = if label.is_empty() {
                "\"\"".to_string()
            } else {
                label.clone()
            };
            self.font(600, 14.0 * self.s, MONO);
            let gap = curve.span_x().max(60.0);
            let text = self.fit(&text, gap - 12.0 * self.s);
            let w = self.text_w(&text) + 12.0 * self.s;
            let h = 22.0 * self.s;
            let mid = curve.at(0.5);
            let r = Rect {
                x: mid.x - w / 2.0,
                y: mid.y - h / 2.0,
                w,
                h,
            };
            self.round_rect(r, h / 2.0);
            c.set_fill_style_str("#ffffff");
            c.fill();
            c.set_stroke_style_str("#cbd5e1");
            c.set_line_width(1.0);
            c.stroke();
            c.set_fill_style_str("#334155");
            c.set_text_align("center");
            c.set_text_baseline("middle");
            c.fill_text(&text, mid.x, mid.y + 0.5).ok();
        }
    }

    /// Small verbs under the links of a small topology: what happens on each hop.
    fn captions(&self, topo: &Topology) {
        if topo.edges.len() > 8 {
            return;
        }
        let c = self.ctx;
        self.font(500, 13.0 * self.s, FONT);
        c.set_fill_style_str(FAINT);
        c.set_text_align("center");
        c.set_text_baseline("top");
        for e in &topo.edges {
            let Some(curve) = self.layout.link(e.from, e.to) else {
                continue;
            };
            let key = match (e.from, e.to) {
                (NodeRef::Producer(_), _) => Key::VerbPublish,
                (NodeRef::Exchange(_), NodeRef::Queue(_)) if self.has_label(e) => Key::VerbBind,
                (NodeRef::Queue(_), NodeRef::Consumer(_)) => Key::VerbDeliver,
                (NodeRef::Channel(_), NodeRef::Consumer(_)) => Key::VerbPush,
                _ => continue,
            };
            let span = curve.span_x();
            if span < 50.0 * self.s {
                continue;
            }
            let mid = curve.at(0.5);
            let below = if key == Key::VerbBind { 16.0 } else { 10.0 } * self.s;
            let text = self.fit(t(self.lang, key), span - 8.0);
            c.fill_text(&text, mid.x, mid.y + below).ok();
        }
    }

    /// Whether a binding's routing-key pill is drawn (not for an empty key on a fanout).
    fn has_label(&self, e: &crate::layout::Edge) -> bool {
        match &e.label {
            None => false,
            Some(label) => {
                let fanout = matches!(e.from, NodeRef::Exchange(x) if self.exchange_kind(x) == Some(ExchangeType::Fanout));
                !(label.is_empty() && fanout)
            }
        }
    }

    fn arrow_head(&self, curve: &Curve) {
        let c = self.ctx;
        let tip = curve.p3;
        let back = curve.at(0.97);
        let (dx, dy) = (tip.x - back.x, tip.y - back.y);
        let len = (dx * dx + dy * dy).sqrt().max(1e-6);
        let (ux, uy) = (dx / len, dy / len);
        let size = 9.0 * self.s;
        let base = Point {
            x: tip.x - ux * size,
            y: tip.y - uy * size,
        };
        c.set_fill_style_str(LINK);
        c.begin_path();
        c.move_to(tip.x, tip.y);
        c.line_to(base.x - uy * size * 0.55, base.y + ux * size * 0.55);
        c.line_to(base.x + uy * size * 0.55, base.y - ux * size * 0.55);
        c.close_path();
        c.fill();
    }

    fn exchange_kind(&self, x: ExchangeId) -> Option<ExchangeType> {
        self.snap
            .exchanges
            .iter()
            .find(|e| e.id == x)
            .map(|e| e.kind)
    }

    fn node(&self, b: &NodeBox, node: NodeRef) {
        let c = self.ctx;
        let r = b.rect;
        // Text keeps at least 80 % of its full size in a crowded column; lines that no longer
        // fit are left out instead (tag first, then figures, then the chip lane).
        let full = self.layout.scale * self.layout.zoom;
        let k = (r.h / BASE_HEIGHT[b.column]).clamp(full * 0.8, full);
        let (fill, stroke) = palette(b.column, node);
        let crashed = match node {
            NodeRef::Consumer(id) => self.consumer(id).is_some_and(|cv| {
                matches!(
                    cv.status,
                    ConsumerStatus::Crashed | ConsumerStatus::Disconnected
                )
            }),
            _ => false,
        };
        self.round_rect(r, 10.0 * k);
        c.set_fill_style_str(fill);
        c.fill();
        c.set_line_width(2.0 * k);
        if crashed {
            c.set_stroke_style_str(DANGER);
            let dash = js_sys::Array::of2(&(6.0 * k).into(), &(4.0 * k).into());
            c.set_line_dash(&dash).ok();
        } else {
            c.set_stroke_style_str(stroke);
        }
        c.stroke();
        c.set_line_dash(&js_sys::Array::new()).ok();

        let mut pad = 14.0 * k;
        let mut left = r.x + pad;
        if let NodeRef::Producer(p) = node {
            // The producer's colour strip: its messages are drawn in this colour.
            c.save();
            self.round_rect(r, 10.0 * k);
            c.clip();
            c.set_fill_style_str(producer_colour(Some(p)));
            c.fill_rect(r.x, r.y, 9.0 * k, r.h);
            c.restore();
            left += 5.0 * k;
        }
        let inner_w = (r.right() - pad - left).max(0.0);
        let (tag, stat, alert) = self.tag_and_stat(node);
        let has_lane = matches!(node, NodeRef::Queue(_) | NodeRef::Consumer(_));

        // Line heights, top to bottom.
        let (tag_h, name_h, stat_h, lane_h, lane_gap) =
            (29.0 * k, 24.0 * k, 27.0 * k, 26.0 * k, 12.0 * k);
        let mut show_tag = true;
        let mut show_stat = !stat.is_empty();
        let mut show_lane = has_lane;
        let need = |tag: bool, stat: bool, lane: bool, pad: f64| {
            2.0 * pad
                + if tag { tag_h } else { 0.0 }
                + name_h
                + if stat { stat_h } else { 0.0 }
                + if lane { lane_gap + lane_h } else { 0.0 }
        };
        if need(show_tag, show_stat, show_lane, pad) > r.h {
            pad = 8.0 * k;
        }
        if need(show_tag, show_stat, show_lane, pad) > r.h {
            show_tag = false;
        }
        if need(show_tag, show_stat, show_lane, pad) > r.h {
            show_stat = false;
        }
        if need(show_tag, show_stat, show_lane, pad) > r.h {
            show_lane = false;
        }
        if need(false, false, false, pad) > r.h {
            // Not even the name fits at 80 %: a small name, centred, is all there is room for.
            let px = (r.h * 0.6).min(22.0 * k);
            if px >= 6.0 {
                let label = self.label(node);
                let label = self.fit_shrinking(&label, inner_w, px, px);
                c.set_fill_style_str(INK);
                c.set_text_baseline("middle");
                c.set_text_align("left");
                c.fill_text(&label, left, r.mid_y()).ok();
            }
            return;
        }
        // The block of lines is centred in what is left.
        let spare = (r.h - need(show_tag, show_stat, show_lane, pad)).max(0.0);
        let mut y = r.y + pad + if has_lane { 0.0 } else { spare / 2.0 };

        c.set_text_baseline("middle");
        c.set_text_align("left");
        if show_tag {
            // Line 1: icon and type tag.
            let mid = y + 8.0 * k;
            self.icon(node, left + 7.0 * k, mid, 7.0 * k, stroke);
            self.font(500, 14.0 * k, FONT);
            c.set_fill_style_str(MUTED);
            let tag_x = left + 20.0 * k;
            let tag = self.fit(&tag, (r.right() - pad - tag_x).max(0.0));
            c.fill_text(&tag, tag_x, mid).ok();
            y += tag_h;
        }
        // Line 2: the name, large.
        let label = self.label(node);
        let label = self.fit_shrinking(&label, inner_w, 22.0 * k, 16.0 * k.min(1.0));
        c.set_fill_style_str(INK);
        c.fill_text(&label, left, y + 8.0 * k).ok();
        y += name_h;
        if show_stat {
            // Line 3: the node's figures.
            let (weight, colour) = match node {
                NodeRef::Exchange(_) => (500, MUTED),
                _ if alert => (600, DANGER),
                _ => (600, INK),
            };
            let stat = self.fit_shrinking_weight(weight, &stat, inner_w, 15.0 * k, 12.0 * k);
            c.set_fill_style_str(colour);
            c.fill_text(&stat, left, y + 11.0 * k).ok();
        }
        if !show_lane {
            return;
        }
        let lane = Rect {
            x: left,
            y: r.bottom() - pad - lane_h,
            w: inner_w,
            h: lane_h,
        };
        match node {
            NodeRef::Queue(q) => {
                if let Some(qv) = self.snap.queues.iter().find(|v| v.id == q) {
                    self.queue_lane(qv, lane, k);
                }
            }
            NodeRef::Consumer(id) => {
                if let Some(cv) = self.consumer(id) {
                    self.consumer_lane(cv, lane, k);
                }
            }
            _ => {}
        }
    }

    fn consumer(&self, id: ConsumerId) -> Option<&ConsumerView> {
        self.snap.consumers.iter().find(|c| c.id == id)
    }

    /// The type tag, the statistic shown beside the name, and whether that is an alert.
    fn tag_and_stat(&self, node: NodeRef) -> (String, String, bool) {
        let l = self.lang;
        match node {
            NodeRef::Producer(p) => {
                let pv = self.snap.producers.iter().find(|v| v.id == p);
                let (stat, alert) = match pv {
                    Some(v) if v.paused => (t(l, Key::NodePaused).to_string(), true),
                    Some(v) => (
                        format!("{} {}", t(l, Key::NodeSent), format_count(v.sent)),
                        false,
                    ),
                    None => (String::new(), false),
                };
                (t(l, Key::TagProducer).to_string(), stat, alert)
            }
            NodeRef::Exchange(x) => {
                let kind = match self.exchange_kind(x) {
                    Some(ExchangeType::Direct) => "direct",
                    Some(ExchangeType::Fanout) => "fanout",
                    Some(ExchangeType::Topic) => "topic",
                    Some(ExchangeType::Headers) => "headers",
                    None => "?",
                };
                let stat = format!("{} {kind}", t(l, Key::NodeType));
                (t(l, Key::TagExchange).to_string(), stat, false)
            }
            NodeRef::Channel(_) => (t(l, Key::TagChannel).to_string(), String::new(), false),
            NodeRef::Queue(q) => {
                let qv = self.snap.queues.iter().find(|v| v.id == q);
                let kind = match qv.map(|v| v.kind) {
                    Some(QueueType::Quorum) => " · quorum",
                    _ => "",
                };
                let stat = qv.map_or(String::new(), |v| {
                    format!(
                        "{} {} · {} {}",
                        t(l, Key::NodeReady),
                        format_count(v.ready),
                        t(l, Key::NodeUnacked),
                        format_count(v.unacked)
                    )
                });
                (format!("{}{kind}", t(l, Key::TagQueue)), stat, false)
            }
            NodeRef::Consumer(id) => {
                let Some(cv) = self.consumer(id) else {
                    return (t(l, Key::TagConsumer).to_string(), String::new(), false);
                };
                let key = if cv.source.is_none() {
                    Key::TagSubscriber
                } else {
                    Key::TagConsumer
                };
                let tag = t(l, key).to_string();
                let (stat, alert) = match cv.status {
                    ConsumerStatus::Crashed => (t(l, Key::StatusCrashed).to_string(), true),
                    ConsumerStatus::Disconnected => {
                        (t(l, Key::StatusDisconnected).to_string(), true)
                    }
                    ConsumerStatus::Removed => (t(l, Key::StatusRemoved).to_string(), true),
                    ConsumerStatus::Running => (
                        format!("{} {}", t(l, Key::NodeAcked), format_count(cv.acked)),
                        false,
                    ),
                };
                (tag, stat, alert)
            }
            _ => (String::new(), String::new(), false),
        }
    }

    fn label(&self, node: NodeRef) -> String {
        match node {
            NodeRef::Producer(p) => self
                .snap
                .producers
                .iter()
                .find(|v| v.id == p)
                .map(|v| v.name.clone()),
            NodeRef::Exchange(x) => self.snap.exchanges.iter().find(|v| v.id == x).map(|v| {
                if v.name.is_empty() {
                    t(self.lang, Key::DefaultExchange).to_string()
                } else {
                    v.name.clone()
                }
            }),
            NodeRef::Channel(ch) => self.snap.channels.get(ch.index()).cloned(),
            NodeRef::Queue(q) => self
                .snap
                .queues
                .iter()
                .find(|v| v.id == q)
                .map(|v| v.name.clone()),
            NodeRef::Consumer(id) => self.consumer(id).map(|v| v.name.clone()),
            _ => None,
        }
        .unwrap_or_default()
    }

    /// A small type icon centred at (x, y).
    fn icon(&self, node: NodeRef, x: f64, y: f64, r: f64, colour: &str) {
        let c = self.ctx;
        c.set_fill_style_str(colour);
        c.set_stroke_style_str(colour);
        c.begin_path();
        match node {
            NodeRef::Producer(_) => {
                // A play-like triangle: it emits.
                c.move_to(x - r * 0.7, y - r);
                c.line_to(x + r, y);
                c.line_to(x - r * 0.7, y + r);
                c.close_path();
                c.fill();
            }
            NodeRef::Exchange(_) => {
                // A diamond: it routes.
                c.move_to(x, y - r);
                c.line_to(x + r, y);
                c.line_to(x, y + r);
                c.line_to(x - r, y);
                c.close_path();
                c.fill();
            }
            NodeRef::Channel(_) => {
                c.set_line_width(1.6 * r / 6.0);
                c.arc(x, y, r * 0.85, 0.0, 2.0 * PI).ok();
                c.stroke();
                c.begin_path();
                c.arc(x, y, r * 0.3, 0.0, 2.0 * PI).ok();
                c.fill();
            }
            NodeRef::Queue(_) => {
                // Three slots in a row: it stores in order.
                let w = r * 0.5;
                for i in 0..3 {
                    c.fill_rect(x - r + f64::from(i) * (w + r * 0.25), y - r, w, 2.0 * r);
                }
            }
            NodeRef::Consumer(_) => {
                // A filled circle: it works.
                c.arc(x, y, r * 0.9, 0.0, 2.0 * PI).ok();
                c.fill();
            }
            _ => {}
        }
    }

    fn lane_box(&self, lane: Rect, k: f64) {
        let c = self.ctx;
        let r = Rect {
            x: lane.x - 3.0 * k,
            y: lane.y - 3.0 * k,
            w: lane.w + 6.0 * k,
            h: lane.h + 6.0 * k,
        };
        self.round_rect(r, 5.0 * k);
        c.set_fill_style_str("#ffffff");
        c.fill();
        c.set_stroke_style_str("#d1d5db");
        c.set_line_width(1.0);
        c.stroke();
    }

    fn queue_lane(&self, qv: &QueueView, lane: Rect, k: f64) {
        let c = self.ctx;
        self.lane_box(lane, k);
        let (chip_w, gap) = (16.0 * k, 5.0 * k);
        self.font(700, 15.0 * k, FONT);
        c.set_text_baseline("middle");
        if qv.ready == 0 {
            c.set_fill_style_str(FAINT);
            c.set_text_align("left");
            c.fill_text(
                t(self.lang, Key::NodeEmpty),
                lane.x + 4.0 * k,
                lane.y + lane.h / 2.0,
            )
            .ok();
            return;
        }
        // Head (next to be delivered) on the right, next to the consumers.
        let all_fit = chips_that_fit(lane.w, chip_w, gap);
        let mut shown = qv.head.len().min(all_fit);
        let mut text_w = 0.0;
        if (shown as u64) < qv.ready {
            text_w = self.text_w(&format!("+{}", format_count(qv.ready))) + 8.0 * k;
            shown = qv
                .head
                .len()
                .min(chips_that_fit(lane.w - text_w, chip_w, gap));
        }
        for (i, chip) in qv.head.iter().take(shown).enumerate() {
            let x = lane.right() - (i as f64 + 1.0) * chip_w - i as f64 * gap;
            self.chip(
                chip,
                Rect {
                    x,
                    y: lane.y,
                    w: chip_w,
                    h: lane.h,
                },
                k,
                false,
            );
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

    fn consumer_lane(&self, cv: &ConsumerView, lane: Rect, k: f64) {
        let c = self.ctx;
        self.lane_box(lane, k);
        let (chip_w, gap) = (16.0 * k, 8.0 * k);
        // Deliveries still on the wire are drawn as moving dots, not here.
        let travelling: BTreeSet<MessageId> = self
            .snap
            .transits
            .iter()
            .filter(|tv| tv.to == NodeRef::Consumer(cv.id))
            .map(|tv| tv.msg)
            .collect();
        let processing = cv.processing.as_ref();
        let mut chips: Vec<(&Chip, bool)> = Vec::new();
        if let Some(p) = processing {
            chips.push((p, true));
        }
        for chip in &cv.unacked {
            if Some(chip.msg) != processing.map(|p| p.msg) && !travelling.contains(&chip.msg) {
                chips.push((chip, false));
            }
        }
        let fit = chips_that_fit(lane.w - 40.0 * k, chip_w, gap).max(1);
        let mut x = lane.x + 3.0 * k;
        for &(chip, is_processing) in chips.iter().take(fit) {
            self.chip(
                chip,
                Rect {
                    x,
                    y: lane.y,
                    w: chip_w,
                    h: lane.h,
                },
                k,
                is_processing,
            );
            x += chip_w + gap;
        }
        // Free prefetch slots as dashed outlines: the window the broker may still fill.
        let used = chips.len() + travelling.len();
        if cv.ack == AckMode::Manual && cv.prefetch > 0 && cv.status == ConsumerStatus::Running {
            let free = (cv.prefetch as usize).saturating_sub(used);
            let dash = js_sys::Array::of2(&(3.0 * k).into(), &(3.0 * k).into());
            c.set_line_dash(&dash).ok();
            c.set_stroke_style_str("#9ca3af");
            c.set_line_width(1.0);
            let room = fit.saturating_sub(chips.len().min(fit));
            for _ in 0..free.min(room) {
                self.round_rect(
                    Rect {
                        x,
                        y: lane.y,
                        w: chip_w,
                        h: lane.h,
                    },
                    3.0 * k,
                );
                c.stroke();
                x += chip_w + gap;
            }
            c.set_line_dash(&js_sys::Array::new()).ok();
        }
        // What bounds the window, at the lane's right end: prefetch, or auto-ack.
        let window = match cv.ack {
            AckMode::Auto => t(self.lang, Key::AutoAck).to_string(),
            AckMode::Manual if cv.prefetch > 0 => format!("prefetch {}", cv.prefetch),
            AckMode::Manual => String::new(),
        };
        let hidden = chips.len().saturating_sub(fit);
        if hidden == 0 && !window.is_empty() && cv.source.is_some() {
            self.font(500, 13.0 * k, FONT);
            let room = lane.right() - x - 8.0 * k;
            if self.text_w(&window) <= room {
                c.set_fill_style_str(FAINT);
                c.set_text_align("right");
                c.set_text_baseline("middle");
                c.fill_text(&window, lane.right() - 4.0 * k, lane.y + lane.h / 2.0)
                    .ok();
            }
        }
        if hidden > 0 {
            self.font(700, 15.0 * k, FONT);
            c.set_fill_style_str(INK);
            c.set_text_align("right");
            c.set_text_baseline("middle");
            let text = format!("+{}", format_count(hidden as u64));
            c.fill_text(&text, lane.right() - 2.0 * k, lane.y + lane.h / 2.0)
                .ok();
        }
    }

    /// One message: coloured by producer; redelivered ones get a dark outline and ↻.
    fn chip(&self, chip: &Chip, r: Rect, k: f64, processing: bool) {
        let c = self.ctx;
        if processing {
            let halo = Rect {
                x: r.x - 4.0 * k,
                y: r.y - 4.0 * k,
                w: r.w + 8.0 * k,
                h: r.h + 8.0 * k,
            };
            self.round_rect(halo, 6.0 * k);
            c.set_fill_style_str(PROCESSING);
            c.fill();
        }
        self.round_rect(r, 3.0 * k);
        c.set_global_alpha(if chip.expired { 0.35 } else { 1.0 });
        c.set_fill_style_str(if chip.poison {
            INK
        } else {
            producer_colour(chip.producer)
        });
        c.fill();
        c.set_global_alpha(1.0);
        if chip.redelivered {
            c.set_stroke_style_str(INK);
            c.set_line_width(2.0 * k);
            c.stroke();
            self.font(700, 14.0 * k, FONT);
            c.set_fill_style_str("#ffffff");
            c.set_text_align("center");
            c.set_text_baseline("middle");
            c.fill_text("↻", r.x + r.w / 2.0, r.y + r.h / 2.0).ok();
        }
    }

    /// Messages on the wire: a dot per message, interpolated between send and arrival.
    fn transits(&self) {
        let c = self.ctx;
        let radius = 8.0 * self.s;
        c.set_line_width(2.0 * self.s);
        c.set_stroke_style_str("#ffffff");
        for tv in &self.snap.transits {
            let Some(curve) = self.layout.link(tv.from, tv.to) else {
                continue;
            };
            let p = curve.at(progress(self.snap.time, tv.sent_at, tv.arrive_at));
            c.begin_path();
            c.arc(p.x, p.y, radius, 0.0, 2.0 * PI).ok();
            c.set_fill_style_str(producer_colour(tv.chip.producer));
            c.fill();
            c.stroke();
            if tv.chip.redelivered {
                c.begin_path();
                c.arc(p.x, p.y, radius + 2.5 * self.s, 0.0, 2.0 * PI).ok();
                c.set_stroke_style_str(INK);
                c.stroke();
                c.set_stroke_style_str("#ffffff");
            }
        }
    }
}
