//! Draws the topology from the snapshot's graph — node boxes by role, links with what they
//! match, messages on the wire — onto the canvas, straight from a snapshot (never through the
//! virtual DOM). What a family draws itself (a node's tag, figures, icon and lane; frames of
//! rows; groups) comes from its module in `kinds/`; nothing here names a broker
//! (`tests/seam_app.rs`). What is selected, highlighted and how messages are coloured comes
//! from [`DrawOptions`], which panels change through [`use_draw_options`].

use crate::geom::{Point, Rect};
use crate::i18n::{t, Key, Lang};
use crate::kinds::{self, Tone};
use crate::layout::{
    progress, BandKind, Curve, Edge, Layout, NodeBox, Path, Topology, BASE_HEIGHT, CONSUMERS,
    PRODUCERS, ROUTERS, STORES,
};
use crate::pen::{ColourMode, Pen, DANGER, FAINT, FONT, INK, LINK, MONO, MUTED};
use broker_sim::snapshot::{Family, GraphNode, LinkKind, NodeRef, NodeStatus, Role, Snapshot};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::f64::consts::PI;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};
use yew::prelude::*;

/// Share of a band's heading row its title may take (style.css places the compare controls
/// after it: keep the two in step).
const HEADING_SHARE: f64 = 0.34;
/// The peer band's accent: no broker.
const PEER_ACCENT: &str = "#b91c1c";
const SELECTED: &str = "#1d4ed8";
const HIGHLIGHT: &str = "#f59e0b";
/// The event band's accent.
const EVENT_ACCENT: &str = "#0e7490";

/// Fill and stroke of a node box by its column, where its family keeps the role's.
fn column_palette(column: usize) -> (&'static str, &'static str) {
    match column {
        PRODUCERS => ("#eaf1fd", "#1d4ed8"),
        ROUTERS => ("#fdf4e3", "#a16207"),
        STORES => ("#e8f6ee", "#15803d"),
        _ => ("#f1ecfb", "#6d28d9"),
    }
}

/// How the canvas draws, set by panels: the selected node (thick outline), entities to
/// highlight by name (narration steps; a partition is `topic-N`, as Kafka names it) and what
/// a message's colour means.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DrawOptions {
    pub selection: Option<NodeRef>,
    pub highlight: Vec<String>,
    /// Messages the lesson step names: their chips and dots carry their ids.
    pub messages: Vec<broker_sim::MessageId>,
    /// What a message's colour means; `None` until the user picks: then by key when the
    /// producers write record keys, else by producer ([`ColourMode::auto`]).
    pub colour_mode: Option<ColourMode>,
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
    dots: HashMap<(&'static str, bool, bool), Option<HtmlCanvasElement>>,
}

/// A dot of `radius` CSS px in `colour` with a white halo (a dark ring when redelivered, a
/// white cross when poison), drawn at the device pixel ratio; `None` if the page cannot make
/// a canvas.
fn dot_sprite(
    colour: &str,
    redelivered: bool,
    poison: bool,
    radius: f64,
    dpr: f64,
) -> Option<HtmlCanvasElement> {
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
    if poison {
        crate::pen::poison_cross(&ctx, half, half, radius * 0.5, 2.0 * s);
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
    /// Each drawn node's name and role, for the hover hint (taken with the layout).
    roles: HashMap<NodeRef, (String, Role)>,
    /// Link paths of the cached layout, so moving messages cost a lookup, not an allocation.
    links: LinkCache,
    /// Moving messages' dots, drawn once per colour.
    sprites: RefCell<Sprites>,
    /// The smallest node name size last written to `data-name-px`, so a frame that draws the
    /// same touches no attribute.
    name_px: Option<f64>,
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
            roles: HashMap::new(),
            name_px: None,
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

    pub fn draw(&mut self, snap: &Snapshot, lang: Lang, opts: &DrawOptions) {
        if !self.has_area() {
            return;
        }
        let topo = Topology::from_graph(&snap.graph, kinds::band);
        let min_text = crate::pen::min_text_px();
        let stale = self
            .cache
            .as_ref()
            .is_none_or(|(t, l)| *t != topo || l.min_text != min_text);
        if stale {
            let layout = Layout::compute(&topo, self.css_w, self.css_h, min_text);
            self.publish_bands(&layout);
            self.cache = Some((topo, layout));
            self.roles = (snap.graph.nodes.iter())
                .map(|n| (n.node, (n.name.clone(), n.role)))
                .collect();
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
            pen: Pen {
                ctx,
                lang,
                s: layout.scale,
                colour_mode: (opts.colour_mode)
                    .unwrap_or_else(|| ColourMode::auto(&snap.record_keys)),
                record_keys: &snap.record_keys,
                min_px: layout.min_text,
                named: &opts.messages,
                labels: RefCell::default(),
                name_drawn: Cell::new(f64::INFINITY),
            },
            layout,
            snap,
            opts,
            links: &self.links,
            sprites: &self.sprites,
        };
        scene.headings(topo);
        scene.links(topo);
        scene.captions(topo);
        let nodes = || {
            (layout.boxes.iter())
                .filter_map(|b| Some((b, b.node().and_then(|n| snap.graph.node(n))?)))
        };
        for (b, node) in nodes() {
            scene.node(b, node);
        }
        // Frames of rows and groups: drawn by their family.
        let (pen, k) = (&scene.pen, layout.event_k);
        for f in &layout.frames {
            kinds::of(f.family).frame(pen, snap, f, k);
        }
        for r in &layout.rows {
            kinds::of(r.family).row(pen, snap, r, k);
        }
        for g in &layout.groups {
            kinds::of(g.family).group(pen, snap, g, k);
        }
        for p in &layout.pipes {
            kinds::of(p.family).pipes(pen, snap, p, layout.scale);
        }
        scene.transits();
        scene.pen.chip_labels();
        scene.outlines();
        // A family's marks around a box go over everything, so no box or highlight hides them.
        for (b, node) in nodes() {
            kinds::outline(&scene.pen, snap, node, b.rect, scene.box_k(b));
        }
        let name_px = Some(scene.pen.name_drawn.get()).filter(|px| px.is_finite());
        if self.name_px != name_px {
            self.name_px = name_px;
            let text = name_px.map_or_else(String::new, |px| format!("{px:.1}"));
            let _ = self.canvas.set_attribute("data-name-px", &text);
        }
    }

    /// The node at (x, y) in CSS pixels of the canvas, as last drawn.
    pub fn hit_test(&self, x: f64, y: f64) -> Option<NodeRef> {
        self.cache.as_ref()?.1.hit_test(x, y)
    }

    /// The hover hint at (x, y): the node's name and what its role means, from the glossary;
    /// elsewhere how to select.
    pub fn hint(&self, lang: Lang, x: f64, y: f64) -> String {
        match self.hit_test(x, y).and_then(|n| self.roles.get(&n)) {
            Some((name, role)) => format!("{name} — {}", t(lang, role_hint(*role))),
            None => t(lang, Key::CanvasSelectHint).to_string(),
        }
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
                BandKind::Peer => "band-peer",
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
    pen: Pen<'a>,
    layout: &'a Layout,
    snap: &'a Snapshot,
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

    fn headings(&self, topo: &Topology) {
        if !self.layout.bands.is_empty() {
            self.band_headings(topo);
            return;
        }
        let pen = &self.pen;
        let (c, l) = (pen.ctx, pen.lang);
        pen.font(700, 15.0 * pen.s, FONT);
        c.set_fill_style_str(FAINT);
        c.set_text_align("center");
        c.set_text_baseline("middle");
        let event_only = !topo.frames.is_empty() && !topo.has_message();
        let slots = &self.layout.slots;
        // The (family, role) of the nodes a column holds, for its heading.
        let present = |col: usize| -> Vec<(Family, Role)> {
            let mut v: Vec<(Family, Role)> = topo.columns[col]
                .iter()
                .filter_map(|i| i.node())
                .filter_map(|n| self.snap.graph.node(n))
                .map(|n| (n.family, n.role))
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let same_heading = slots[ROUTERS].used
            && slots[STORES].used
            && kinds::heading(l, &present(ROUTERS)) == kinds::heading(l, &present(STORES));
        for (col, slot) in slots.iter().enumerate() {
            if !slot.used {
                continue;
            }
            let (text, x, w) = match col {
                PRODUCERS => (Some(t(l, Key::ColProducers).to_string()), slot.x, slot.w),
                // Frames span the routers' and stores' columns: one heading across both.
                ROUTERS if event_only => {
                    let frames: Vec<(Family, Role)> = topo
                        .frames
                        .iter()
                        .map(|f| (f.family, Role::Store))
                        .collect();
                    let w = slots[STORES].x + slots[STORES].w - slot.x;
                    (kinds::heading(l, &frames), slot.x, w)
                }
                STORES if event_only || same_heading => continue,
                // Peers on both sides of their links: one heading across both columns.
                ROUTERS if same_heading => {
                    let w = slots[STORES].x + slots[STORES].w - slot.x;
                    (kinds::heading(l, &present(col)), slot.x, w)
                }
                ROUTERS | STORES => (kinds::heading(l, &present(col)), slot.x, slot.w),
                CONSUMERS if !topo.groups.is_empty() => {
                    let families: Vec<Family> = topo.groups.iter().map(|g| g.family).collect();
                    let key = kinds::groups_heading(&families).unwrap_or(Key::ColConsumers);
                    (Some(t(l, key).to_string()), slot.x, slot.w)
                }
                _ => (Some(t(l, Key::ColConsumers).to_string()), slot.x, slot.w),
            };
            let Some(text) = text else { continue };
            let text = pen.fit(&text, w - 8.0);
            c.fill_text(&text, x + w / 2.0, self.layout.heading_y).ok();
        }
        // A faint rule under the headings.
        c.set_stroke_style_str("#e5e7eb");
        c.set_line_width(1.0);
        c.begin_path();
        let y = self.layout.heading_y + 15.0 * pen.s;
        c.move_to(slots[0].x, y);
        let last = slots[3];
        c.line_to(last.x + last.w, y);
        c.stroke();
    }

    /// Two bands, message band above event band: a tinted panel each, a heading that says
    /// what happens to a message once it is handled, and the column kinds in small type.
    fn band_headings(&self, topo: &Topology) {
        let c = self.pen.ctx;
        let s = self.pen.s;
        // An event broker's own broker nodes, alone above its logs, are no message broker.
        let brokers_only = (topo.columns[ROUTERS..].iter().flatten())
            .filter_map(|i| i.node())
            .all(|n| {
                self.snap
                    .graph
                    .node(n)
                    .is_some_and(|g| g.role == Role::Broker)
            });
        // Beside a peer band, the message band is the broker the peers do without.
        let paired = self.layout.bands.iter().any(|b| b.kind == BandKind::Peer);
        for band in &self.layout.bands {
            let (key, colour, tint) = match band.kind {
                BandKind::Message if brokers_only => (Key::BandBrokers, EVENT_ACCENT, "#f3fafc"),
                BandKind::Message if paired => (Key::BandViaBroker, "#15803d", "#f6fbf7"),
                BandKind::Message => (Key::BandMessage, "#15803d", "#f6fbf7"),
                BandKind::Event => (Key::BandEvent, EVENT_ACCENT, "#f3fafc"),
                BandKind::Peer => (Key::BandBrokerless, PEER_ACCENT, "#fdf7f7"),
            };
            let panel = Rect {
                x: band.rect.x - 6.0 * s,
                ..band.rect
            };
            self.pen.round_rect(panel, 10.0 * s);
            c.set_fill_style_str(tint);
            c.fill();
            // An accent bar down the band's left edge.
            c.set_fill_style_str(colour);
            c.fill_rect(panel.x, panel.y + 8.0 * s, 4.0 * s, panel.h - 16.0 * s);
            let h = band.heading;
            // The heading keeps to the left third where the compare controls use the rest.
            let share = if paired { 1.0 } else { HEADING_SHARE };
            let text = self.pen.fit_shrinking(
                t(self.pen.lang, key),
                h.w * share - 20.0 * s,
                17.0 * s,
                13.0 * s,
            );
            c.set_fill_style_str(colour);
            c.set_text_align("left");
            c.set_text_baseline("middle");
            c.fill_text(&text, h.x + 10.0 * s, h.mid_y()).ok();
        }
    }

    fn links(&self, topo: &Topology) {
        let pen = &self.pen;
        let c = pen.ctx;
        c.set_line_cap("round");
        for e in &topo.edges {
            let Some(curve) = self.link(e.from, e.to) else {
                continue;
            };
            let colour = kinds::of(e.family)
                .link_colour(self.snap, e.kind, e.to)
                .unwrap_or(LINK);
            c.set_stroke_style_str(colour);
            c.set_line_width(2.5 * pen.s);
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
            if !e.has_pill() {
                continue;
            }
            let text = if label.is_empty() {
                "\"\"".to_string()
            } else {
                label.clone()
            };
            let gap = curve.span_x().max(60.0);
            let room = gap - 12.0 * pen.s;
            // What a binding matches is read whole: the type shrinks to the floor before a cut
            // (the layout leaves the gap the label needs).
            let px = 14.0 * pen.s;
            pen.font(600, px, MONO);
            let wide = pen.text_w(&text);
            if wide > room {
                pen.font(600, (px * room / wide).floor(), MONO);
            }
            let text = pen.fit(&text, room);
            let w = pen.text_w(&text) + 12.0 * pen.s;
            // A wire between two pipes keeps its pipes clear: its label only where it fits.
            if e.pipes && w > curve.span_x() - 4.0 {
                continue;
            }
            let h = 22.0 * pen.s;
            let mid = curve.at(0.5);
            let r = Rect {
                x: mid.x - w / 2.0,
                y: mid.y - h / 2.0,
                w,
                h,
            };
            pen.round_rect(r, h / 2.0);
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
        let pen = &self.pen;
        let c = pen.ctx;
        pen.font(500, 13.0 * pen.s, FONT);
        c.set_fill_style_str(FAINT);
        c.set_text_align("center");
        c.set_text_baseline("top");
        let first_fetch = topo.edges.iter().find(|f| f.kind == LinkKind::Fetch);
        // A fan-out says its verb once, and no caption covers another.
        let mut said: Vec<(NodeRef, Key)> = Vec::new();
        let mut placed: Vec<Rect> = Vec::new();
        for e in &topo.edges {
            let Some(curve) = self.link(e.from, e.to) else {
                continue;
            };
            let to_store = self
                .snap
                .graph
                .node(e.to)
                .is_some_and(|n| n.role == Role::Store);
            let key = match e.kind {
                // One caption per frame, and one for all the rows' fetches.
                LinkKind::Publish if topo.is_row(e.to) && !topo.is_first_row(e.to) => continue,
                LinkKind::Fetch if first_fetch != Some(e) => continue,
                LinkKind::Fetch => Key::VerbFetch,
                LinkKind::Request => Key::VerbRequest,
                LinkKind::Publish => Key::VerbPublish,
                LinkKind::Bind if e.has_pill() && to_store => Key::VerbBind,
                LinkKind::Bind => continue,
                LinkKind::Deliver if !e_acks(e) => Key::VerbDeliverNoAck,
                LinkKind::Deliver => Key::VerbDeliver,
                LinkKind::Push => Key::VerbPush,
                LinkKind::DeadLetter => Key::VerbRedrive,
            };
            let span = curve.span_x();
            if span < 50.0 * pen.s {
                continue;
            }
            let mid = curve.at(0.5);
            let below = if e.has_pill() { 16.0 } else { 10.0 } * pen.s;
            let text = pen.fit(t(pen.lang, key), span - 8.0);
            if text.chars().count() < 2 {
                continue; // nothing of the verb would be left
            }
            let w = pen.text_w(&text);
            let r = Rect {
                x: mid.x - w / 2.0,
                y: mid.y + below,
                w,
                h: pen.min_px + 2.0,
            };
            if said.contains(&(e.from, key)) || placed.iter().any(|p| p.overlaps(&r)) {
                continue;
            }
            said.push((e.from, key));
            placed.push(r);
            c.fill_text(&text, mid.x, mid.y + below).ok();
        }
    }

    fn arrow_head(&self, curve: &Curve, colour: &str) {
        let c = self.pen.ctx;
        let tip = curve.p3;
        let back = curve.at(0.97);
        let (dx, dy) = (tip.x - back.x, tip.y - back.y);
        let len = (dx * dx + dy * dy).sqrt().max(1e-6);
        let (ux, uy) = (dx / len, dy / len);
        let size = 9.0 * self.pen.s;
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

    /// A box's scale. Text keeps at least 80 % of its full size in a crowded column; lines that
    /// no longer fit are left out instead (tag first, then figures, then the lane).
    fn box_k(&self, b: &NodeBox) -> f64 {
        let full = self.layout.scale * self.layout.zoom;
        (b.rect.h / BASE_HEIGHT[b.column]).clamp(full * 0.8, full)
    }

    fn node(&self, b: &NodeBox, node: &GraphNode) {
        let pen = &self.pen;
        let c = pen.ctx;
        let r = b.rect;
        let k = self.box_k(b);
        let (fill, stroke) = kinds::palette(node).unwrap_or_else(|| column_palette(b.column));
        let down = matches!(node.status, NodeStatus::Crashed | NodeStatus::Disconnected);
        pen.framed_box(r, 10.0 * k, 2.0 * k, fill, stroke, down);

        let mut pad = 14.0 * k;
        let mut left = r.x + pad;
        if let Some(colour) = kinds::strip(node) {
            // A colour strip down the left edge (a producer's: its messages' colour).
            c.save();
            pen.round_rect(r, 10.0 * k);
            c.clip();
            c.set_fill_style_str(colour);
            c.fill_rect(r.x, r.y, 9.0 * k, r.h);
            c.restore();
            left += 5.0 * k;
        }
        let inner_w = (r.right() - pad - left).max(0.0);
        // Text may run closer to the right edge than the lane: at the type floor a box's
        // figures ("ready 1 · unacked 1") are a few pixels from fitting whole.
        let text_right = r.right() - 6.0 * k;
        let text_w = (text_right - left).max(0.0);
        let text = kinds::text(pen.lang, self.snap, node);
        let stat = text.stat;
        let has_lane = kinds::has_lane(node);

        // Line heights, top to bottom, never shorter than the type floor needs (presenter
        // mode's 18 px in a small box), so lines are left out rather than drawn over each other.
        let (floor, name_px) = (pen.min_px, pen.name_px());
        let (tag_h, name_h, stat_h, lane_h, lane_gap) = (
            (29.0 * k).max(1.6 * floor),
            (24.0 * k).max(1.2 * name_px),
            (27.0 * k).max(1.4 * name_px),
            26.0 * k,
            12.0 * k,
        );
        let mut show_tag = true;
        let mut show_stat = !stat.is_empty();
        let mut show_lane = has_lane;
        let need = |tag: bool, stat_rows: usize, lane: bool, pad: f64| {
            2.0 * pad
                + if tag { tag_h } else { 0.0 }
                + name_h
                + stat_rows as f64 * stat_h
                + if lane { lane_gap + lane_h } else { 0.0 }
        };
        let rows = |show: bool| usize::from(show);
        if need(show_tag, rows(show_stat), show_lane, pad) > r.h {
            pad = 8.0 * k;
        }
        if need(show_tag, rows(show_stat), show_lane, pad) > r.h {
            show_tag = false;
        }
        if need(show_tag, rows(show_stat), show_lane, pad) > r.h {
            show_stat = false;
        }
        if need(show_tag, rows(show_stat), show_lane, pad) > r.h {
            show_lane = false;
            // Without the lane, the figures may fit again.
            show_stat = !stat.is_empty() && need(show_tag, 1, false, pad) <= r.h;
        }
        let (weight, colour) = match text.tone {
            Tone::Quiet => (500, MUTED),
            Tone::Alert => (600, DANGER),
            Tone::Normal => (600, INK),
        };
        // Figures too wide for one line at the type floor take the tag's line for a second
        // one ("ready 1 ·" / "unacked 1"): they say more than the type word does.
        let mut stat_lines = vec![stat.clone()];
        if show_stat && show_tag {
            if let Some((a, b)) = wrapped(pen, weight, &stat, text_w, name_px) {
                stat_lines = vec![a, b];
                show_tag = false;
            }
        }
        let stat_rows = if show_stat { stat_lines.len() } else { 0 };
        let label = kinds::label(pen.lang, node);
        if need(false, 0, false, pad) > r.h {
            // Not even the name fits at 80 %: a small name, centred, is all there is room for.
            let px = (r.h * 0.6).min(22.0 * k).max(name_px);
            if r.h >= name_px {
                let label = pen.fit_name(700, &label, text_w, px);
                c.set_fill_style_str(INK);
                c.set_text_baseline("middle");
                c.set_text_align("left");
                c.fill_text(&label, left, r.mid_y()).ok();
                if has_lane {
                    let lane_x = left + pen.text_w(&label) + 8.0 * k;
                    self.lane_beside(b, node, lane_x, r.mid_y(), (r.h - 6.0 * k).min(lane_h), k);
                }
            }
            return;
        }
        // The block of lines is centred in what is left.
        let spare = (r.h - need(show_tag, stat_rows, show_lane, pad)).max(0.0);
        let mut y = r.y + pad + if has_lane { 0.0 } else { spare / 2.0 };

        c.set_text_baseline("middle");
        c.set_text_align("left");
        if show_tag {
            // Line 1: icon and type tag.
            let mid = y + tag_h * 8.0 / 29.0;
            kinds::icon(pen, node, left + 7.0 * k, mid, 7.0 * k, stroke);
            pen.font(500, 14.0 * k, FONT);
            c.set_fill_style_str(MUTED);
            let tag_x = left + 20.0 * k;
            let tag = pen.fit(&text.tag, (text_right - tag_x).max(0.0));
            c.fill_text(&tag, tag_x, mid).ok();
            y += tag_h;
        }
        // Line 2: the name, large.
        // A whole name at a smaller size beats a large cut one.
        let label = pen.fit_name(700, &label, text_w, 22.0 * k);
        c.set_fill_style_str(INK);
        let name_mid = y + name_h / 3.0;
        c.fill_text(&label, left, name_mid).ok();
        let name_w = pen.text_w(&label);
        let aside = (!show_tag).then(|| kinds::aside(self.snap, node)).flatten();
        if let Some(aside) = aside {
            // The tag line is left out: its key word goes beside the name, where it fits.
            pen.font(600, 14.0 * k, FONT);
            if name_w + 8.0 * k + pen.text_w(&aside) <= text_w {
                c.set_fill_style_str(MUTED);
                c.set_text_align("right");
                c.fill_text(&aside, text_right, name_mid).ok();
                c.set_text_align("left");
            }
        } else if has_lane && !show_lane {
            let x = left + name_w + 8.0 * k;
            self.lane_beside(b, node, x, name_mid, (name_h * 0.8).min(lane_h), k);
        }
        y += name_h;
        if show_stat {
            // Line 3 (and 4): the node's figures.
            for line in &stat_lines {
                let line = pen.fit_name(weight, line, text_w, 15.0 * k);
                c.set_fill_style_str(colour);
                c.fill_text(&line, left, y + stat_h * 11.0 / 27.0).ok();
                y += stat_h;
            }
        }
        if show_lane {
            let lane = Rect {
                x: left,
                y: r.bottom() - pad - lane_h,
                w: inner_w,
                h: lane_h,
            };
            kinds::lane(pen, self.snap, node, lane, k);
        }
    }

    /// A crowded column leaves out a box's lane: what it holds goes beside the name (from `x`,
    /// centred on `mid`, `h` high), so a queue's contents stay on stage (issue 10).
    fn lane_beside(&self, b: &NodeBox, node: &GraphNode, x: f64, mid: f64, h: f64, k: f64) {
        let beside = Rect {
            x,
            y: mid - h / 2.0,
            w: (b.rect.right() - 8.0 * k - x).max(0.0),
            h,
        };
        // Room for one chip at least.
        if beside.w >= 26.0 * k && h >= 8.0 * k {
            kinds::lane(&self.pen, self.snap, node, beside, k);
        }
    }

    /// Messages on the wire: a dot per message, interpolated between send and arrival. Up to
    /// 2,000 a frame, so each is one copy of a pre-drawn sprite of its colour.
    fn transits(&self) {
        let c = self.pen.ctx;
        let radius = 8.0 * self.pen.s;
        let mut sprites = self.sprites.borrow_mut();
        for tv in &self.snap.transits {
            self.with_link(tv.from, tv.to, |path| {
                let at = if self.opts.reduced_motion {
                    0.5
                } else {
                    progress(self.snap.time, tv.sent_at, tv.arrive_at)
                };
                let p = path.at(at);
                let colour = self.pen.chip_colour(&tv.chip);
                let key = (colour, tv.chip.redelivered, tv.chip.poison);
                if !sprites.dots.contains_key(&key) {
                    let (redelivered, poison) = (tv.chip.redelivered, tv.chip.poison);
                    let sprite = dot_sprite(colour, redelivered, poison, radius, sprites.dpr);
                    sprites.dots.insert(key, sprite);
                }
                self.pen.note_label(&tv.chip, p.x, p.y - radius);
                if let Some(Some(sprite)) = sprites.dots.get(&key) {
                    let half = radius + DOT_MARGIN * self.pen.s;
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

    /// Selection (a thick blue ring) and highlights by name (a thick amber ring), over
    /// everything else.
    fn outlines(&self) {
        let opts = self.opts;
        if opts.selection.is_none() && opts.highlight.is_empty() {
            return;
        }
        let s = self.pen.s;
        let ring = |r: Rect, colour: &str, grow: f64| {
            let c = self.pen.ctx;
            self.pen.round_rect(r.grow(grow), 12.0 * s);
            c.set_stroke_style_str(colour);
            c.set_line_width(4.0 * s);
            c.stroke();
        };
        if !opts.highlight.is_empty() {
            let lit = |name: &str| opts.highlight.iter().any(|h| h == name);
            let lit_node = |n: NodeRef| {
                self.snap
                    .graph
                    .node(n)
                    .is_some_and(|gn| lit(&kinds::label(self.pen.lang, gn)))
            };
            for b in &self.layout.boxes {
                if b.node().is_some_and(lit_node) {
                    ring(b.rect, HIGHLIGHT, 4.0 * s);
                }
            }
            for f in &self.layout.frames {
                if lit_node(f.node) {
                    ring(f.rect, HIGHLIGHT, 4.0 * s);
                }
            }
            for p in &self.layout.rows {
                if lit_node(p.node) {
                    ring(p.rect, HIGHLIGHT, 2.0 * s);
                }
            }
            for g in &self.layout.groups {
                if self.snap.graph.group(g.id).is_some_and(|gv| lit(&gv.name)) {
                    ring(g.rect, HIGHLIGHT, 4.0 * s);
                }
                for &(m, r) in &g.members {
                    if lit_node(m) {
                        ring(r, HIGHLIGHT, 2.0 * s);
                    }
                }
            }
        }
        if let Some(r) = opts.selection.and_then(|n| self.layout.outline(n)) {
            ring(r, SELECTED, 7.0 * s);
        }
    }
}

/// Whether a link's label is drawn as a pill: what a binding or subscription matches.
/// What a role means, for a newcomer hovering a node (the glossary's words).
fn role_hint(role: Role) -> Key {
    match role {
        Role::Producer => Key::HintRoleProducer,
        Role::Router => Key::HintRoleRouter,
        Role::Store => Key::HintRoleStore,
        Role::Consumer => Key::HintRoleConsumer,
        Role::Service => Key::HintRoleService,
        Role::Peer => Key::HintRolePeer,
        Role::Broker => Key::HintRoleBroker,
    }
}

/// Whether what travels `e` is acknowledged: the family it leaves says.
fn e_acks(e: &Edge) -> bool {
    kinds::of(e.family).acks()
}

/// `stat` as two lines split at its middle " · ", when one line at the type floor cuts it and
/// each half fits; `None` when one line does or no split helps.
fn wrapped(
    pen: &Pen,
    weight: u32,
    stat: &str,
    max_w: f64,
    min_px: f64,
) -> Option<(String, String)> {
    pen.font(weight, min_px, FONT);
    if pen.text_w(stat) <= max_w {
        return None;
    }
    let middle = stat.len() / 2;
    let (at, _) = (stat.match_indices(" · ")).min_by_key(|(i, _)| i.abs_diff(middle))?;
    let (a, b) = (
        format!("{} ·", &stat[..at]),
        stat[at + " · ".len()..].to_string(),
    );
    (pen.text_w(&a) <= max_w && pen.text_w(&b) <= max_w).then_some((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::testing;
    use crate::pen::{priority_bucket, NO_PRODUCER, PRIORITY_COLOURS, PRODUCER_COLOURS};
    use broker_sim::snapshot::Chip;

    #[test]
    fn clicks_toggle_and_keys_step_through_the_nodes() {
        let (a, b, c) = (
            testing::node(Role::Store, 0),
            testing::frame(0),
            testing::row(0, 1),
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
        assert_eq!(stepped(&order, Some(testing::frame(9)), 1), Some(Some(a)));
        assert_eq!(stepped(&[], Some(a), 1), None);
    }

    #[test]
    fn colours() {
        let chip = Chip {
            msg: broker_sim::MessageId(1),
            producer: Some(broker_sim::ProducerId(1)),
            priority: Some(9),
            redelivered: false,
            poison: false,
            dead_lettered: false,
            expired: false,
            key: Some(7),
        };
        // Interned ids 3 and 7 are record keys; other ids are routing keys.
        let keys = [(3, "alice".to_string()), (7, "bob".to_string())];
        assert_eq!(
            ColourMode::Producer.colour(&chip, &keys),
            PRODUCER_COLOURS[1]
        );
        assert_eq!(
            ColourMode::Priority.colour(&chip, &keys),
            PRIORITY_COLOURS[5]
        );
        assert_eq!(ColourMode::Key.colour(&chip, &keys), PRODUCER_COLOURS[1]);
        let plain = Chip {
            priority: None,
            key: None,
            ..chip
        };
        assert_eq!(ColourMode::Priority.colour(&plain, &keys), NO_PRODUCER);
        assert_eq!(ColourMode::Key.colour(&plain, &keys), NO_PRODUCER);
        assert_eq!(ColourMode::auto(&keys), ColourMode::Key);
        assert_eq!(ColourMode::auto(&[]), ColourMode::Producer);
        // A key's initial stays readable on its fill.
        assert_eq!(crate::pen::text_on("#0072B2"), "#ffffff");
        assert_eq!(crate::pen::text_on("#E69F00"), INK);
        assert_eq!(priority_bucket(0), 0);
        assert_eq!(priority_bucket(4), 2);
        assert_eq!(priority_bucket(255), 5);
        for m in ColourMode::ALL {
            assert_eq!(ColourMode::from_code(m.code()), Some(m));
        }
    }
}
