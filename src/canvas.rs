//! Draws the topology, queued and unacked messages, partition logs with their consumer-group
//! markers, and messages on the wire onto the canvas, straight from a snapshot (never through
//! the virtual DOM). What is selected, highlighted and how messages are coloured comes from
//! [`DrawOptions`], which panels change through [`use_draw_options`].

use crate::i18n::{t, Key, Lang};
use crate::layout::{
    chips_that_fit, progress, BandKind, Curve, GroupFrame, Item, Layout, NodeBox, PartitionRow,
    Path, Point, Rect, StripGeom, TopicFrame, Topology, BASE_HEIGHT, GROUP_PAD, MAX_MARKER_ROWS,
    MORE_H, PRODUCERS, QUEUES, ROUTERS, TOPIC_PAD,
};
use crate::model::format_count;
use broker_sim::ids::{ConsumerId, ExchangeId, MessageId};
use broker_sim::scenario::{AckMode, ExchangeType, QueueType, Scenario};
use broker_sim::snapshot::{
    Chip, ConsumerView, GroupView, NodeRef, PartitionView, QueueView, ServiceView, Snapshot,
    TopicView,
};
use broker_sim::ConsumerStatus;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::f64::consts::PI;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};
use yew::prelude::*;

pub const FONT: &str =
    "system-ui, -apple-system, 'Segoe UI', 'Noto Sans KR', 'Malgun Gothic', 'Apple SD Gothic Neo', 'NanumGothic', sans-serif";
pub const MONO: &str =
    "ui-monospace, 'SFMono-Regular', Menlo, Consolas, 'DejaVu Sans Mono', monospace";

/// Message colours, one per producer (Okabe–Ito, readable on white and for most colour-blind
/// viewers).
pub const PRODUCER_COLOURS: [&str; 7] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#7F3C8D",
];
pub const NO_PRODUCER: &str = "#6b7280";

/// Message colours by priority bucket (see [`priority_bucket`]), cool to hot.
pub const PRIORITY_COLOURS: [&str; 6] = [
    "#56B4E9", "#009E73", "#E69F00", "#D55E00", "#CC79A7", "#7F3C8D",
];
/// The priorities each colour of [`PRIORITY_COLOURS`] stands for.
pub const PRIORITY_LABELS: [&str; 6] = ["0", "1–2", "3–4", "5–6", "7–8", "9+"];
/// Consumer-group colours: group frames, their ownership links and their offset markers.
const GROUP_COLOURS: [&str; 5] = ["#0f766e", "#9333ea", "#b45309", "#be123c", "#1d4ed8"];

const INK: &str = "#111827";
const MUTED: &str = "#4b5563";
const FAINT: &str = "#6b7280";
const LINK: &str = "#94a3b8";
const PROCESSING: &str = "#f59e0b";
const DANGER: &str = "#dc2626";
/// Share of a band's heading row its title may take (style.css places the compare controls
/// after it: keep the two in step).
const HEADING_SHARE: f64 = 0.34;
const SELECTED: &str = "#1d4ed8";
const HIGHLIGHT: &str = "#f59e0b";
const TOPIC_FILL: &str = "#ecfeff";
const TOPIC_STROKE: &str = "#0e7490";
const MEMBER_FILL: &str = "#f1ecfb";
const MEMBER_STROKE: &str = "#6d28d9";
const SERVICE_FILL: &str = "#fff1f2";
const SERVICE_STROKE: &str = "#be123c";

/// Fill and stroke of a node kind.
fn palette(column: usize, node: NodeRef) -> (&'static str, &'static str) {
    match (column, node) {
        (_, NodeRef::Channel(_)) => ("#fdecec", "#b91c1c"),
        (_, NodeRef::Service(_)) => (SERVICE_FILL, SERVICE_STROKE),
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

/// The priority bucket (index into [`PRIORITY_COLOURS`]) of a priority.
pub fn priority_bucket(p: u8) -> usize {
    match p {
        0 => 0,
        1..=2 => 1,
        3..=4 => 2,
        5..=6 => 3,
        7..=8 => 4,
        _ => 5,
    }
}

fn group_colour(group: u32) -> &'static str {
    GROUP_COLOURS[group as usize % GROUP_COLOURS.len()]
}

/// What a message's colour stands for. Record keys would be a third choice, but the snapshot's
/// chips do not carry them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColourMode {
    #[default]
    Producer,
    Priority,
}

impl ColourMode {
    pub const ALL: [ColourMode; 2] = [ColourMode::Producer, ColourMode::Priority];

    pub fn code(self) -> &'static str {
        match self {
            ColourMode::Producer => "producer",
            ColourMode::Priority => "priority",
        }
    }

    pub fn from_code(code: &str) -> Option<ColourMode> {
        ColourMode::ALL.into_iter().find(|m| m.code() == code)
    }

    pub fn label(self) -> Key {
        match self {
            ColourMode::Producer => Key::ColourProducer,
            ColourMode::Priority => Key::ColourPriority,
        }
    }

    /// A message's fill.
    pub fn colour(self, chip: &Chip) -> &'static str {
        match self {
            ColourMode::Producer => producer_colour(chip.producer),
            ColourMode::Priority => chip
                .priority
                .map_or(NO_PRODUCER, |p| PRIORITY_COLOURS[priority_bucket(p)]),
        }
    }
}

/// How the canvas draws, set by panels: the selected node (thick outline), entities to
/// highlight by name (narration steps; a partition is `topic-N`, as Kafka names it) and what
/// a message's colour means.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DrawOptions {
    pub selection: Option<NodeRef>,
    pub highlight: Vec<String>,
    pub colour_mode: ColourMode,
    /// `prefers-reduced-motion`: messages on the wire are drawn still, halfway along their
    /// link, instead of gliding.
    pub reduced_motion: bool,
}

/// The app's shared [`DrawOptions`]; the frame loop redraws when they change.
#[derive(Clone, Default)]
pub struct DrawOptionsHandle(pub Rc<RefCell<DrawOptions>>);

impl PartialEq for DrawOptionsHandle {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl DrawOptionsHandle {
    /// Changes the options; the canvas shows the change on the next frame.
    pub fn update(&self, f: impl FnOnce(&mut DrawOptions)) {
        f(&mut self.0.borrow_mut());
    }
}

/// The app's draw options (provided by the App as a context).
#[hook]
pub fn use_draw_options() -> DrawOptionsHandle {
    use_context::<DrawOptionsHandle>().unwrap_or_default()
}

/// A node's stable name for tests and links: `queue:orders`, `partition:orders-log-0`.
pub fn node_key(snap: &Snapshot, node: NodeRef) -> Option<String> {
    let (kind, name) = match node {
        NodeRef::Producer(p) => (
            "producer",
            snap.producers.iter().find(|v| v.id == p)?.name.clone(),
        ),
        NodeRef::Exchange(x) => (
            "exchange",
            snap.exchanges.iter().find(|v| v.id == x)?.name.clone(),
        ),
        NodeRef::Channel(ch) => ("channel", snap.channels.get(ch.index())?.clone()),
        NodeRef::Queue(q) => (
            "queue",
            snap.queues.iter().find(|v| v.id == q)?.name.clone(),
        ),
        NodeRef::Consumer(c) => (
            "consumer",
            snap.consumers.iter().find(|v| v.id == c)?.name.clone(),
        ),
        NodeRef::Topic(id) => (
            "topic",
            snap.topics.iter().find(|v| v.id == id)?.name.clone(),
        ),
        NodeRef::Partition(id, p) => (
            "partition",
            format!("{}-{p}", snap.topics.iter().find(|v| v.id == id)?.name),
        ),
        NodeRef::Service(id) => (
            "service",
            snap.services.iter().find(|v| v.id == id)?.name.clone(),
        ),
        NodeRef::PulsarTopic(_) | NodeRef::PulsarPartition(..) => return None,
    };
    Some(format!("{kind}:{name}"))
}

/// The selection after a click on the canvas: the node under the pointer, or nothing when
/// the click hits the selected node again or empty space.
pub fn click_selection(
    painter: &Option<Painter>,
    e: &web_sys::MouseEvent,
    current: Option<NodeRef>,
) -> Option<NodeRef> {
    let hit = painter
        .as_ref()?
        .hit_test(f64::from(e.offset_x()), f64::from(e.offset_y()));
    toggled(hit, current)
}

/// A click on the selected node again clears the selection.
fn toggled(hit: Option<NodeRef>, current: Option<NodeRef>) -> Option<NodeRef> {
    if hit == current {
        None
    } else {
        hit
    }
}

/// The selection after a key press on the focused canvas, or `None` for a key it ignores:
/// arrows step through the nodes in reading order, Escape clears.
pub fn key_selection(
    painter: &Option<Painter>,
    key: &str,
    current: Option<NodeRef>,
) -> Option<Option<NodeRef>> {
    let step: isize = match key {
        "ArrowRight" | "ArrowDown" => 1,
        "ArrowLeft" | "ArrowUp" => -1,
        "Escape" => return Some(None),
        _ => return None,
    };
    stepped(&painter.as_ref()?.reading_order(), current, step)
}

/// The node `step` places after `current` in `order`, wrapping; from no selection, the first
/// (or the last, going back).
fn stepped(order: &[NodeRef], current: Option<NodeRef>, step: isize) -> Option<Option<NodeRef>> {
    if order.is_empty() {
        return None;
    }
    let n = order.len() as isize;
    let next = match current.and_then(|c| order.iter().position(|&o| o == c)) {
        Some(i) => (i as isize + step).rem_euclid(n),
        None if step > 0 => 0,
        None => n - 1,
    };
    Some(Some(order[next as usize]))
}

/// Room around a moving message's dot for its white halo and redelivery ring, at scale 1.
const DOT_MARGIN: f64 = 5.0;

/// Pre-drawn dots by (colour, redelivered), for the scale and pixel ratio they were drawn at.
#[derive(Default)]
struct Sprites {
    dpr: f64,
    dots: HashMap<(&'static str, bool), Option<HtmlCanvasElement>>,
}

/// A dot of `radius` CSS px in `colour` with a white halo (and a dark ring when redelivered),
/// drawn at the device pixel ratio; `None` if the page cannot make a canvas.
fn dot_sprite(colour: &str, redelivered: bool, radius: f64, dpr: f64) -> Option<HtmlCanvasElement> {
    let s = radius / 8.0;
    let half = radius + DOT_MARGIN * s;
    let size = (2.0 * half * dpr).ceil().max(1.0);
    let canvas = web_sys::window()?
        .document()?
        .create_element("canvas")
        .ok()?
        .dyn_into::<HtmlCanvasElement>()
        .ok()?;
    canvas.set_width(size as u32);
    canvas.set_height(size as u32);
    let ctx = canvas
        .get_context("2d")
        .ok()??
        .dyn_into::<CanvasRenderingContext2d>()
        .ok()?;
    let k = size / (2.0 * half);
    ctx.scale(k, k).ok()?;
    ctx.begin_path();
    ctx.arc(half, half, radius, 0.0, 2.0 * PI).ok()?;
    ctx.set_fill_style_str(colour);
    ctx.fill();
    ctx.set_line_width(2.0 * s);
    ctx.set_stroke_style_str("#ffffff");
    ctx.stroke();
    if redelivered {
        ctx.begin_path();
        ctx.arc(half, half, radius + 2.5 * s, 0.0, 2.0 * PI).ok()?;
        ctx.set_stroke_style_str(INK);
        ctx.stroke();
    }
    Some(canvas)
}

type LinkCache = RefCell<HashMap<(NodeRef, NodeRef), Option<Path>>>;

/// Owns the canvas, its backing-store size and the cached layout.
pub struct Painter {
    canvas: HtmlCanvasElement,
    ctx: CanvasRenderingContext2d,
    css_w: f64,
    css_h: f64,
    dpr: f64,
    cache: Option<(Topology, Layout)>,
    /// Link paths of the cached layout, so moving messages cost a lookup, not an allocation.
    links: LinkCache,
    /// Moving messages' dots, drawn once per colour.
    sprites: RefCell<Sprites>,
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
            links: RefCell::default(),
            sprites: RefCell::default(),
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

    pub fn draw(&mut self, snap: &Snapshot, scenario: &Scenario, lang: Lang, opts: &DrawOptions) {
        if !self.has_area() {
            return;
        }
        let topo = Topology::from_snapshot(snap, scenario);
        let stale = self.cache.as_ref().is_none_or(|(t, _)| *t != topo);
        if stale {
            let layout = Layout::compute(&topo, self.css_w, self.css_h);
            self.publish_bands(&layout);
            self.cache = Some((topo, layout));
            self.links.borrow_mut().clear();
            *self.sprites.borrow_mut() = Sprites {
                dpr: self.dpr,
                dots: HashMap::new(),
            };
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
            opts,
            links: &self.links,
            sprites: &self.sprites,
        };
        scene.headings(topo);
        scene.links(topo);
        scene.captions(topo);
        for b in &layout.boxes {
            if let Item::Node(node) = b.item {
                scene.node(b, node);
            }
        }
        for frame in &layout.topics {
            scene.topic(frame);
        }
        for row in &layout.partitions {
            scene.partition(row);
        }
        for frame in &layout.groups {
            scene.group(frame);
        }
        scene.transits();
        scene.outlines();
    }

    /// The node at (x, y) in CSS pixels of the canvas, as last drawn.
    pub fn hit_test(&self, x: f64, y: f64) -> Option<NodeRef> {
        self.cache.as_ref()?.1.hit_test(x, y)
    }

    /// The drawn nodes in reading order (for moving the selection with the keyboard).
    pub fn reading_order(&self) -> Vec<NodeRef> {
        self.cache
            .as_ref()
            .map_or_else(Vec::new, |(_, l)| l.reading_order())
    }

    /// Tells the page where the bands' heading rows and the colour key's room are (CSS
    /// custom properties on the canvas's parent), so controls can sit there.
    fn publish_bands(&self, layout: &Layout) {
        let Some(parent) = self.canvas.parent_element() else {
            return;
        };
        // `style.setProperty` through Reflect: web-sys's CssStyleDeclaration is not enabled.
        let Ok(style) = js_sys::Reflect::get(&parent, &"style".into()) else {
            return;
        };
        let Some(set) = js_sys::Reflect::get(&style, &"setProperty".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        else {
            return;
        };
        let bands = layout.bands.iter().map(|band| {
            let name = match band.kind {
                BandKind::Message => "band-message",
                BandKind::Event => "band-event",
            };
            (name, band.heading)
        });
        for (name, r) in bands.chain(std::iter::once(("key", layout.key))) {
            for (prop, v) in [("top", r.y), ("left", r.x), ("width", r.w), ("height", r.h)] {
                let _ = set.call2(
                    &style,
                    &format!("--{name}-{prop}").into(),
                    &format!("{v:.1}px").into(),
                );
            }
        }
    }
}

struct Scene<'a> {
    ctx: &'a CanvasRenderingContext2d,
    layout: &'a Layout,
    snap: &'a Snapshot,
    lang: Lang,
    s: f64,
    opts: &'a DrawOptions,
    links: &'a LinkCache,
    sprites: &'a RefCell<Sprites>,
}

impl Scene<'_> {
    /// A link's path, computed once per layout.
    fn link(&self, from: NodeRef, to: NodeRef) -> Option<Path> {
        if let Some(p) = self.links.borrow().get(&(from, to)) {
            return p.clone();
        }
        let p = self.layout.link(from, to);
        self.links.borrow_mut().insert((from, to), p.clone());
        p
    }

    /// Runs `f` on a link's cached path without cloning it (moving messages: one per frame each).
    fn with_link(&self, from: NodeRef, to: NodeRef, f: impl FnOnce(&Path)) {
        if !self.links.borrow().contains_key(&(from, to)) {
            let p = self.layout.link(from, to);
            self.links.borrow_mut().insert((from, to), p);
        }
        if let Some(Some(p)) = self.links.borrow().get(&(from, to)) {
            f(p);
        }
    }

    fn chip_colour(&self, chip: &Chip) -> &'static str {
        if chip.poison {
            INK
        } else {
            self.opts.colour_mode.colour(chip)
        }
    }

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

    /// A filled rounded box; a consumer that is down gets a dashed red outline.
    fn framed_box(&self, r: Rect, radius: f64, width: f64, fill: &str, stroke: &str, down: bool) {
        let c = self.ctx;
        let k = width / 2.0;
        self.round_rect(r, radius);
        c.set_fill_style_str(fill);
        c.fill();
        c.set_line_width(width);
        if down {
            c.set_stroke_style_str(DANGER);
            let dash = js_sys::Array::of2(&(6.0 * k).into(), &(4.0 * k).into());
            c.set_line_dash(&dash).ok();
        } else {
            c.set_stroke_style_str(stroke);
        }
        c.stroke();
        c.set_line_dash(&js_sys::Array::new()).ok();
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
        if !self.layout.bands.is_empty() {
            self.band_headings();
            return;
        }
        let c = self.ctx;
        self.font(700, 15.0 * self.s, FONT);
        c.set_fill_style_str(FAINT);
        c.set_text_align("center");
        c.set_text_baseline("middle");
        let event_only = !topo.topics.is_empty() && !topo.has_message();
        let slots = &self.layout.slots;
        for (col, slot) in slots.iter().enumerate() {
            if !slot.used {
                continue;
            }
            let has = |col: usize, f: fn(&NodeRef) -> bool| {
                topo.columns[col]
                    .iter()
                    .any(|i| matches!(i, Item::Node(n) if f(n)))
            };
            let (key, x, w) = match col {
                PRODUCERS => (Key::ColProducers, slot.x, slot.w),
                // Topics span the routers' and queues' columns: one heading across both.
                ROUTERS if event_only => (
                    Key::ColTopics,
                    slot.x,
                    slots[QUEUES].x + slots[QUEUES].w - slot.x,
                ),
                QUEUES if event_only => continue,
                ROUTERS => {
                    let ex = has(ROUTERS, |n| matches!(n, NodeRef::Exchange(_)));
                    let ch = has(ROUTERS, |n| matches!(n, NodeRef::Channel(_)));
                    let key = match (ex, ch) {
                        (true, true) => Key::ColExchangesChannels,
                        (false, true) => Key::ColChannels,
                        _ => Key::ColExchanges,
                    };
                    (key, slot.x, slot.w)
                }
                QUEUES => {
                    let q = has(QUEUES, |n| matches!(n, NodeRef::Queue(_)));
                    let sv = has(QUEUES, |n| matches!(n, NodeRef::Service(_)));
                    let key = match (q, sv) {
                        (true, true) => Key::ColQueuesServices,
                        (false, true) => Key::ColServices,
                        _ => Key::ColQueues,
                    };
                    (key, slot.x, slot.w)
                }
                _ if !topo.groups.is_empty() => (Key::ColGroups, slot.x, slot.w),
                _ => (Key::ColConsumers, slot.x, slot.w),
            };
            let text = self.fit(t(self.lang, key), w - 8.0);
            c.fill_text(&text, x + w / 2.0, self.layout.heading_y).ok();
        }
        // A faint rule under the headings.
        c.set_stroke_style_str("#e5e7eb");
        c.set_line_width(1.0);
        c.begin_path();
        let y = self.layout.heading_y + 15.0 * self.s;
        c.move_to(slots[0].x, y);
        let last = slots[3];
        c.line_to(last.x + last.w, y);
        c.stroke();
    }

    /// Two bands, message broker above event broker: a tinted panel each, a heading that says
    /// what happens to a message once it is handled, and the column kinds in small type.
    fn band_headings(&self) {
        let c = self.ctx;
        let s = self.s;
        for band in &self.layout.bands {
            let (key, colour, tint) = match band.kind {
                BandKind::Message => (Key::BandMessage, "#15803d", "#f6fbf7"),
                BandKind::Event => (Key::BandEvent, TOPIC_STROKE, "#f3fafc"),
            };
            let panel = Rect {
                x: band.rect.x - 6.0 * s,
                ..band.rect
            };
            self.round_rect(panel, 10.0 * s);
            c.set_fill_style_str(tint);
            c.fill();
            // An accent bar down the band's left edge.
            c.set_fill_style_str(colour);
            c.fill_rect(panel.x, panel.y + 8.0 * s, 4.0 * s, panel.h - 16.0 * s);
            let h = band.heading;
            // The heading keeps to the left third; the compare controls use the rest.
            let text =
                self.fit_shrinking(t(self.lang, key), h.w * HEADING_SHARE, 17.0 * s, 13.0 * s);
            c.set_fill_style_str(colour);
            c.set_text_align("left");
            c.set_text_baseline("middle");
            c.fill_text(&text, h.x + 10.0 * s, h.mid_y()).ok();
        }
    }

    fn links(&self, topo: &Topology) {
        let c = self.ctx;
        c.set_line_cap("round");
        for e in &topo.edges {
            let Some(curve) = self.link(e.from, e.to) else {
                continue;
            };
            // A partition's link to the member that owns it takes the group's colour.
            let colour = match (e.from, e.to) {
                (NodeRef::Partition(..), NodeRef::Consumer(m)) => self
                    .consumer(m)
                    .and_then(|cv| cv.group)
                    .map_or(LINK, group_colour),
                _ => LINK,
            };
            c.set_stroke_style_str(colour);
            c.set_line_width(2.5 * self.s);
            c.begin_path();
            let start = curve.start();
            c.move_to(start.x, start.y);
            for seg in &curve.segments {
                c.bezier_curve_to(seg.p1.x, seg.p1.y, seg.p2.x, seg.p2.y, seg.p3.x, seg.p3.y);
            }
            c.stroke();
            self.arrow_head(curve.last(), colour);
        }
        // Labels after all lines, so no line crosses a label.
        for e in &topo.edges {
            let (Some(label), Some(curve)) = (&e.label, self.link(e.from, e.to)) else {
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
            let Some(curve) = self.link(e.from, e.to) else {
                continue;
            };
            let key = match (e.from, e.to) {
                // One caption per topic, and one for all the partitions' fetches.
                (NodeRef::Producer(_), NodeRef::Partition(_, p)) if p > 0 => continue,
                (NodeRef::Partition(..), NodeRef::Consumer(_)) => {
                    let first = topo
                        .edges
                        .iter()
                        .find(|f| matches!(f.from, NodeRef::Partition(..)));
                    if first != Some(e) {
                        continue;
                    }
                    Key::VerbFetch
                }
                (NodeRef::Producer(_), NodeRef::Service(_)) => Key::VerbRequest,
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

    fn arrow_head(&self, curve: &Curve, colour: &str) {
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
        c.set_fill_style_str(colour);
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
        self.framed_box(r, 10.0 * k, 2.0 * k, fill, stroke, crashed);

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
        let has_lane = matches!(
            node,
            NodeRef::Queue(_) | NodeRef::Consumer(_) | NodeRef::Service(_)
        );

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
            // Without the lane, the figures may fit again.
            show_stat = !stat.is_empty() && need(show_tag, true, false, pad) <= r.h;
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
            NodeRef::Service(id) => {
                if let Some(sv) = self.snap.services.iter().find(|v| v.id == id) {
                    self.service_lane(sv, lane, k);
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
            NodeRef::Service(id) => {
                let stat =
                    self.snap
                        .services
                        .iter()
                        .find(|v| v.id == id)
                        .map_or(String::new(), |v| {
                            format!(
                                "{} {}/{} · {} {}",
                                t(l, Key::NodeBusy),
                                v.busy,
                                v.concurrency,
                                t(l, Key::NodeWaiting),
                                format_count(v.waiting)
                            )
                        });
                (t(l, Key::TagService).to_string(), stat, false)
            }
            NodeRef::Topic(_)
            | NodeRef::Partition(..)
            | NodeRef::PulsarTopic(_)
            | NodeRef::PulsarPartition(..) => (String::new(), String::new(), false),
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
            NodeRef::Service(id) => self
                .snap
                .services
                .iter()
                .find(|v| v.id == id)
                .map(|v| v.name.clone()),
            NodeRef::Topic(id) => self.topic_view(id).map(|v| v.name.clone()),
            // Kafka's own name for a partition: `topic-N`.
            NodeRef::Partition(id, p) => self.topic_view(id).map(|v| format!("{}-{p}", v.name)),
            NodeRef::PulsarTopic(_) | NodeRef::PulsarPartition(..) => None,
        }
        .unwrap_or_default()
    }

    fn topic_view(&self, id: u32) -> Option<&TopicView> {
        self.snap.topics.iter().find(|v| v.id == id)
    }

    fn group_view(&self, id: u32) -> Option<&GroupView> {
        self.snap.groups.iter().find(|v| v.id == id)
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
            NodeRef::Service(_) => {
                // A square with a cut corner: a server that answers directly.
                c.move_to(x - r, y - r);
                c.line_to(x + r * 0.4, y - r);
                c.line_to(x + r, y - r * 0.4);
                c.line_to(x + r, y + r);
                c.line_to(x - r, y + r);
                c.close_path();
                c.fill();
            }
            NodeRef::Topic(_)
            | NodeRef::Partition(..)
            | NodeRef::PulsarTopic(_)
            | NodeRef::PulsarPartition(..) => {
                // Stacked lines: an append-only log.
                for i in 0..3 {
                    let w = if i == 2 { r * 1.2 } else { 2.0 * r };
                    c.fill_rect(x - r, y - r + f64::from(i) * r * 0.8, w, r * 0.45);
                }
            }
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

    /// One message, coloured as the user chose; redelivered ones get a dark outline and ↻.
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
        c.set_fill_style_str(self.chip_colour(chip));
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

    /// Messages on the wire: a dot per message, interpolated between send and arrival. Up to
    /// 2,000 a frame, so each is one copy of a pre-drawn sprite of its colour.
    fn transits(&self) {
        let c = self.ctx;
        let radius = 8.0 * self.s;
        let mut sprites = self.sprites.borrow_mut();
        for tv in &self.snap.transits {
            self.with_link(tv.from, tv.to, |path| {
                let at = if self.opts.reduced_motion {
                    0.5
                } else {
                    progress(self.snap.time, tv.sent_at, tv.arrive_at)
                };
                let p = path.at(at);
                let colour = self.chip_colour(&tv.chip);
                let key = (colour, tv.chip.redelivered);
                if !sprites.dots.contains_key(&key) {
                    let sprite = dot_sprite(colour, tv.chip.redelivered, radius, sprites.dpr);
                    sprites.dots.insert(key, sprite);
                }
                if let Some(Some(sprite)) = sprites.dots.get(&key) {
                    let half = radius + DOT_MARGIN * self.s;
                    // Whole pixels: fractional positions make the software rasteriser blend
                    // every dot, about twice the cost with 2,000 dots on screen.
                    c.draw_image_with_html_canvas_element_and_dw_and_dh(
                        sprite,
                        (p.x - half).round(),
                        (p.y - half).round(),
                        2.0 * half,
                        2.0 * half,
                    )
                    .ok();
                }
            });
        }
    }

    fn service_lane(&self, sv: &ServiceView, lane: Rect, k: f64) {
        let c = self.ctx;
        self.lane_box(lane, k);
        // One slot per worker: filled while it serves a request.
        let (slot_w, gap) = (16.0 * k, 6.0 * k);
        let fit = chips_that_fit(lane.w * 0.45, slot_w, gap);
        let mut x = lane.x + 3.0 * k;
        for i in 0..(sv.concurrency as usize).min(fit) {
            let r = Rect {
                x,
                y: lane.y,
                w: slot_w,
                h: lane.h,
            };
            self.round_rect(r, 3.0 * k);
            if i < sv.busy as usize {
                c.set_fill_style_str(PROCESSING);
                c.fill();
            } else {
                c.set_stroke_style_str("#9ca3af");
                c.set_line_width(1.0);
                c.stroke();
            }
            x += slot_w + gap;
        }
        // What the caller lost: refused (backlog full) and timed out.
        let lost = sv.rejected + sv.timed_out > 0;
        let text = if lost {
            format!(
                "{} {} · {} {}",
                t(self.lang, Key::NodeRejected),
                format_count(sv.rejected),
                t(self.lang, Key::NodeTimedOut),
                format_count(sv.timed_out)
            )
        } else {
            format!(
                "{} {}",
                t(self.lang, Key::NodeServed),
                format_count(sv.served)
            )
        };
        self.font(700, 14.0 * k, FONT);
        let text = self.fit(&text, lane.right() - x - 6.0 * k);
        c.set_fill_style_str(if lost { DANGER } else { MUTED });
        c.set_text_align("right");
        c.set_text_baseline("middle");
        c.fill_text(&text, lane.right() - 4.0 * k, lane.mid_y())
            .ok();
    }

    /// A topic's frame and header: icon, tag, name and retention.
    fn topic(&self, frame: &TopicFrame) {
        let c = self.ctx;
        let k = self.layout.event_k;
        let r = frame.rect;
        self.round_rect(r, 10.0 * k);
        c.set_fill_style_str(TOPIC_FILL);
        c.fill();
        c.set_line_width(2.0 * k);
        c.set_stroke_style_str(TOPIC_STROKE);
        c.stroke();
        let Some(tv) = self.topic_view(frame.id) else {
            return;
        };
        let h = frame.header;
        let mid = h.y + h.h * 0.45;
        self.icon(
            NodeRef::Topic(frame.id),
            h.x + 8.0 * k,
            mid,
            7.0 * k,
            TOPIC_STROKE,
        );
        self.font(500, small(14.0, k), FONT);
        c.set_fill_style_str(MUTED);
        c.set_text_align("left");
        c.set_text_baseline("middle");
        let tag = t(self.lang, Key::TagTopic);
        let mut x = h.x + 22.0 * k;
        c.fill_text(tag, x, mid).ok();
        x += self.text_w(tag) + 8.0 * k;
        // Records held and retention on the right, the name in what is left.
        let records: u64 = tv.partitions.iter().map(|p| p.log_end - p.log_start).sum();
        let retention = format!(
            "{} {} · {}",
            format_count(records),
            t(self.lang, Key::NodeRecords),
            retention_text(self.lang, tv)
        );
        self.font(500, small(14.0, k), FONT);
        let retention = self.fit(&retention, h.w * 0.4);
        let rw = self.text_w(&retention);
        c.set_text_align("right");
        c.fill_text(&retention, h.right(), mid).ok();
        let name = self.fit_shrinking(&tv.name, h.right() - rw - 12.0 * k - x, 20.0 * k, 14.0 * k);
        c.set_fill_style_str(INK);
        c.set_text_align("left");
        c.fill_text(&name, x, mid).ok();
        if frame.hidden_partitions > 0 {
            self.more_line(
                frame.hidden_partitions as usize,
                Rect {
                    x: h.x,
                    y: r.bottom() - (TOPIC_PAD + MORE_H) * k,
                    w: h.w,
                    h: MORE_H * k,
                },
                k,
            );
        }
    }

    /// "+N more" for rows a frame had no room for.
    fn more_line(&self, n: usize, r: Rect, k: f64) {
        let c = self.ctx;
        self.font(600, small(14.0, k), FONT);
        c.set_fill_style_str(MUTED);
        c.set_text_align("left");
        c.set_text_baseline("middle");
        let text = format!(
            "+{} {}",
            format_count(n as u64),
            t(self.lang, Key::NodeMore)
        );
        c.fill_text(&self.fit(&text, r.w), r.x + 4.0 * k, r.mid_y())
            .ok();
    }

    /// One partition: its name, its log strip (deleted / older / records / next slot), the
    /// offset ruler and one marker row per consumer group.
    fn partition(&self, row: &PartitionRow) {
        let Some(pv) = self
            .topic_view(row.topic)
            .and_then(|tv| tv.partitions.iter().find(|p| p.index == row.partition))
        else {
            return;
        };
        let c = self.ctx;
        let k = self.layout.event_k;
        // The partition's name.
        self.font(700, 16.0 * k, FONT);
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
        self.lane_box(strip, k);
        let l = self.lang;
        let deleted_text = |full: bool| {
            let range = offset_range(0, pv.log_start);
            if full {
                format!("{range} {}", t(l, Key::LogDeleted))
            } else {
                range
            }
        };
        let tail_first = pv.tail.first().map_or(pv.log_end, |(o, _)| *o);
        self.font(600, small(13.0, k), FONT);
        let pad = 12.0 * k;
        let deleted_w = self.text_w(&deleted_text(true)) + pad;
        let older_w = self.text_w(&offset_range(pv.log_start, pv.log_end)) + pad;
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
            self.round_rect(d, 3.0 * k);
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
            self.font(600, small(13.0, k), FONT);
            let full = deleted_text(true);
            let text = if self.text_w(&full) <= d.w - 4.0 * k {
                full
            } else {
                self.fit(&deleted_text(false), d.w - 4.0 * k)
            };
            c.set_fill_style_str(MUTED);
            c.set_text_align("center");
            c.fill_text(&text, d.x + d.w / 2.0, d.mid_y()).ok();
        }
        // Older retained records the snapshot does not list: their offsets.
        if let Some(o) = g.older {
            self.round_rect(o, 3.0 * k);
            c.set_fill_style_str("#e5e7eb");
            c.fill();
            self.font(600, small(13.0, k), FONT);
            c.set_fill_style_str(INK);
            c.set_text_align("center");
            let range = offset_range(g.log_start, g.first_chip);
            c.fill_text(&self.fit(&range, o.w), o.x + o.w / 2.0, o.mid_y())
                .ok();
        }
        // Records: they stay after every group has read them.
        for (offset, chip) in &pv.tail {
            if let Some(r) = g.chip(*offset) {
                self.chip(chip, r, k, false);
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
        self.round_rect(g.next, 3.0 * k);
        c.stroke();
        c.set_line_dash(&js_sys::Array::new()).ok();

        if let Some(y) = row.ruler_y {
            self.ruler(pv, &g, y, strip, k);
        }
        self.markers(pv, &g, row, k);
    }

    /// Offset numbers under the strip: the log start, segment bases and the log end (the next
    /// offset), left out where they would collide.
    fn ruler(&self, pv: &PartitionView, g: &StripGeom, y: f64, strip: Rect, k: f64) {
        let c = self.ctx;
        self.font(500, small(13.0, k), MONO);
        c.set_fill_style_str(FAINT);
        c.set_text_baseline("middle");
        c.set_text_align("center");
        let mut offsets: Vec<u64> = Vec::with_capacity(pv.segments.len() + 2);
        offsets.push(g.log_end);
        offsets.push(g.log_start);
        offsets.extend(pv.segments.iter().map(|s| s.0));
        let mut taken: Vec<(f64, f64)> = Vec::with_capacity(offsets.len());
        for o in offsets {
            // Offsets inside a block are written in the block.
            if o < g.first_chip {
                continue;
            }
            let x = g.marker_x(o);
            let text = o.to_string();
            let w = self.text_w(&text) + 6.0 * k;
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
    fn markers(&self, pv: &PartitionView, g: &StripGeom, row: &PartitionRow, k: f64) {
        let c = self.ctx;
        let size = 6.0 * k;
        for (i, m) in pv.groups.iter().take(MAX_MARKER_ROWS as usize).enumerate() {
            let id = self
                .snap
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
            let l = self.lang;
            let at = m.committed.map_or(String::new(), |o| format!(" @{o}"));
            let full = format!(
                "{}{at} · {} {}",
                m.group,
                t(l, Key::NodeLag),
                format_count(m.lag)
            );
            self.font(600, small(13.0, k), FONT);
            let room_right = row.rect.right() - right - 6.0 * k;
            let left_edge = anchor.unwrap_or(right) - size - 6.0 * k;
            let room_left = left_edge - row.strip.x;
            c.set_fill_style_str(colour);
            c.set_text_baseline("middle");
            if self.text_w(&full) <= room_right || room_right >= room_left {
                c.set_text_align("left");
                c.fill_text(&self.fit(&full, room_right), right + 4.0 * k, mid)
                    .ok();
            } else {
                c.set_text_align("right");
                c.fill_text(&self.fit(&full, room_left), left_edge, mid)
                    .ok();
            }
        }
    }

    /// A consumer group: a frame in the group's colour with its name and lag (or that it is
    /// rebalancing), and its members inside.
    fn group(&self, frame: &GroupFrame) {
        let c = self.ctx;
        let k = self.layout.event_k;
        let Some(gv) = self.group_view(frame.id) else {
            return;
        };
        let colour = group_colour(frame.id);
        let r = frame.rect;
        self.round_rect(r, 10.0 * k);
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
        self.round_rect(
            Rect {
                x: h.x + 2.0 * k,
                y: mid - 6.0 * k,
                w: 12.0 * k,
                h: 12.0 * k,
            },
            3.0 * k,
        );
        c.fill();
        let l = self.lang;
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
        self.font(600, small(14.0, k), FONT);
        let short = if gv.rebalancing {
            "⟳".to_string()
        } else {
            status.clone()
        };
        let name_room = h.right() - x - self.text_w(&short) - 10.0 * k;
        let name = self.fit_shrinking(&gv.name, name_room, 18.0 * k, 14.0 * k);
        let name_w = self.text_w(&name);
        c.set_fill_style_str(INK);
        c.set_text_align("left");
        c.set_text_baseline("middle");
        c.fill_text(&name, x, mid).ok();
        self.font(600, small(14.0, k), FONT);
        let room = h.right() - x - name_w - 10.0 * k;
        let status = if self.text_w(&status) <= room {
            status
        } else {
            self.fit(&short, room)
        };
        c.set_fill_style_str(status_colour);
        c.set_text_align("right");
        c.fill_text(&status, h.right(), mid).ok();

        if frame.members.is_empty() && frame.hidden_members == 0 {
            self.font(500, small(14.0, k), FONT);
            c.set_fill_style_str(MUTED);
            c.fill_text(
                t(l, Key::NodeNoMembers),
                h.x + 4.0 * k,
                h.bottom() + 10.0 * k,
            )
            .ok();
        }
        for &(m, mr) in &frame.members {
            self.member(gv, m, mr, k);
        }
        if frame.hidden_members > 0 {
            self.more_line(
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
    fn member(&self, gv: &GroupView, id: ConsumerId, r: Rect, k: f64) {
        let c = self.ctx;
        let Some(cv) = self.consumer(id) else {
            return;
        };
        let crashed = matches!(
            cv.status,
            ConsumerStatus::Crashed | ConsumerStatus::Disconnected
        );
        self.framed_box(r, 8.0 * k, 1.5 * k, MEMBER_FILL, MEMBER_STROKE, crashed);

        let pad = 10.0 * k;
        let (line1, line2) = (r.y + r.h * 0.3, r.y + r.h * 0.72);
        let l = self.lang;
        // Right of the name: the record being processed.
        let mut name_right = r.right() - pad;
        if let Some(chip) = &cv.processing {
            let cr = Rect {
                x: r.right() - pad - 14.0 * k,
                y: r.y + 6.0 * k,
                w: 14.0 * k,
                h: r.h - 12.0 * k,
            };
            self.chip(chip, cr, k, true);
            name_right = cr.x - 10.0 * k;
        }
        let name = self.fit_shrinking(&cv.name, name_right - r.x - pad, 17.0 * k, 13.0 * k);
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
                        self.topic_view(topic)
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
        let text = self.fit_shrinking_weight(
            weight,
            &text,
            r.w - 2.0 * pad,
            small(14.0, k),
            small(12.0, k),
        );
        c.set_fill_style_str(colour);
        c.fill_text(&text, r.x + pad, line2).ok();
    }

    /// Selection (a thick blue ring) and highlights by name (a thick amber ring), over
    /// everything else.
    fn outlines(&self) {
        let opts = self.opts;
        if opts.selection.is_none() && opts.highlight.is_empty() {
            return;
        }
        let s = self.s;
        let ring = |r: Rect, colour: &str, grow: f64| {
            let c = self.ctx;
            self.round_rect(r.grow(grow), 12.0 * s);
            c.set_stroke_style_str(colour);
            c.set_line_width(4.0 * s);
            c.stroke();
        };
        if !opts.highlight.is_empty() {
            let lit = |name: &str| opts.highlight.iter().any(|h| h == name);
            for b in &self.layout.boxes {
                if let Item::Node(n) = b.item {
                    if lit(&self.label(n)) {
                        ring(b.rect, HIGHLIGHT, 4.0 * s);
                    }
                }
            }
            for f in &self.layout.topics {
                if lit(&self.label(NodeRef::Topic(f.id))) {
                    ring(f.rect, HIGHLIGHT, 4.0 * s);
                }
            }
            for p in &self.layout.partitions {
                if lit(&self.label(NodeRef::Partition(p.topic, p.partition))) {
                    ring(p.rect, HIGHLIGHT, 2.0 * s);
                }
            }
            for g in &self.layout.groups {
                if self.group_view(g.id).is_some_and(|gv| lit(&gv.name)) {
                    ring(g.rect, HIGHLIGHT, 4.0 * s);
                }
                for &(m, r) in &g.members {
                    if lit(&self.label(NodeRef::Consumer(m))) {
                        ring(r, HIGHLIGHT, 2.0 * s);
                    }
                }
            }
        }
        if let Some(node) = opts.selection {
            let rect = match node {
                // A partition's whole row, not just the strip its links meet.
                NodeRef::Partition(topic, p) => self
                    .layout
                    .partitions
                    .iter()
                    .find(|r| r.topic == topic && r.partition == p)
                    .map(|r| r.rect),
                _ => self.layout.find(node).map(|b| b.rect),
            };
            if let Some(r) = rect {
                ring(r, SELECTED, 7.0 * s);
            }
        }
    }
}

/// A small text size in the event band: `base` at factor `k`, but never under 11 px (a crowded
/// band keeps its labels legible; their rows are sized for that).
fn small(base: f64, k: f64) -> f64 {
    (base * k).max(11.0)
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

#[cfg(test)]
mod tests {
    use super::*;
    use broker_sim::ids::QueueId;

    #[test]
    fn clicks_toggle_and_keys_step_through_the_nodes() {
        let (a, b, c) = (
            NodeRef::Queue(QueueId(0)),
            NodeRef::Topic(0),
            NodeRef::Partition(0, 1),
        );
        assert_eq!(toggled(Some(a), None), Some(a));
        assert_eq!(toggled(Some(a), Some(a)), None);
        assert_eq!(toggled(Some(b), Some(a)), Some(b));
        assert_eq!(toggled(None, Some(a)), None);
        let order = [a, b, c];
        assert_eq!(stepped(&order, None, 1), Some(Some(a)));
        assert_eq!(stepped(&order, None, -1), Some(Some(c)));
        assert_eq!(stepped(&order, Some(c), 1), Some(Some(a)));
        assert_eq!(stepped(&order, Some(a), -1), Some(Some(c)));
        assert_eq!(stepped(&order, Some(NodeRef::Topic(9)), 1), Some(Some(a)));
        assert_eq!(stepped(&[], Some(a), 1), None);
    }

    #[test]
    fn colours_and_node_keys() {
        let chip = Chip {
            msg: broker_sim::MessageId(1),
            producer: Some(broker_sim::ProducerId(1)),
            priority: Some(9),
            redelivered: false,
            poison: false,
            dead_lettered: false,
            expired: false,
        };
        assert_eq!(ColourMode::Producer.colour(&chip), PRODUCER_COLOURS[1]);
        assert_eq!(ColourMode::Priority.colour(&chip), PRIORITY_COLOURS[5]);
        let plain = Chip {
            priority: None,
            ..chip
        };
        assert_eq!(ColourMode::Priority.colour(&plain), NO_PRODUCER);
        assert_eq!(priority_bucket(0), 0);
        assert_eq!(priority_bucket(4), 2);
        assert_eq!(priority_bucket(255), 5);
        for m in ColourMode::ALL {
            assert_eq!(ColourMode::from_code(m.code()), Some(m));
        }
        let d = crate::driver::Driver::new(&crate::compare::scenario(), 1).unwrap();
        let snap = d.snapshot();
        assert_eq!(
            node_key(&snap, NodeRef::Queue(QueueId(0))).as_deref(),
            Some("queue:orders")
        );
        assert_eq!(
            node_key(&snap, NodeRef::Partition(0, 1)).as_deref(),
            Some("partition:orders-log-1")
        );
        assert_eq!(node_key(&snap, NodeRef::Topic(7)), None);
    }

    #[test]
    fn retention_and_offsets_read_naturally() {
        assert_eq!(offset_range(0, 25), "0–24");
        assert_eq!(offset_range(3, 4), "3");
        let d = crate::driver::Driver::new(&crate::compare::scenario(), 1).unwrap();
        let tv = &d.snapshot().topics[0];
        assert_eq!(retention_text(Lang::En, tv), "retention 1 min");
    }
}
