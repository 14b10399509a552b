//! Drawing primitives shared by the canvas and every family's drawing: fonts that fit, boxes,
//! lanes and message chips, and the colours they use.

use crate::geom::Rect;
use crate::i18n::{t, Key, Lang};
use crate::model::format_count;
use broker_sim::snapshot::Chip;
use broker_sim::MessageId;
use std::cell::{Cell, RefCell};
use web_sys::CanvasRenderingContext2d;

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
pub const INK: &str = "#111827";
pub const MUTED: &str = "#4b5563";
pub const FAINT: &str = "#6b7280";
pub const LINK: &str = "#94a3b8";
pub const PROCESSING: &str = "#f59e0b";
pub const DANGER: &str = "#dc2626";
/// The fill of a box whose process is down (a crashed consumer or broker).
pub const DOWN_FILL: &str = "#e5e7eb";

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

/// What a message's colour stands for. Record keys would be a third choice, but the snapshot's
/// chips do not carry them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ColourMode {
    #[default]
    Producer,
    Priority,
    /// By record key: where a log's keys went (KAF-3), which consumer got a key (PUL-5).
    Key,
}

impl ColourMode {
    pub const ALL: [ColourMode; 3] = [ColourMode::Producer, ColourMode::Priority, ColourMode::Key];

    pub fn code(self) -> &'static str {
        match self {
            ColourMode::Producer => "producer",
            ColourMode::Priority => "priority",
            ColourMode::Key => "key",
        }
    }

    pub fn from_code(code: &str) -> Option<ColourMode> {
        ColourMode::ALL.into_iter().find(|m| m.code() == code)
    }

    pub fn label(self) -> Key {
        match self {
            ColourMode::Producer => Key::ColourProducer,
            ColourMode::Priority => Key::ColourPriority,
            ColourMode::Key => Key::ColourKeyed,
        }
    }

    /// The mode a drawing starts in: by key when the producers write record keys (a log's
    /// lesson is about where the keys go), else by producer.
    pub fn auto(keys: &[(u32, String)]) -> ColourMode {
        if keys.is_empty() {
            ColourMode::Producer
        } else {
            ColourMode::Key
        }
    }

    /// A message's fill; `keys` is the snapshot's `record_keys`.
    pub fn colour(self, chip: &Chip, keys: &[(u32, String)]) -> &'static str {
        match self {
            ColourMode::Key => key_colour(keys, chip.key),
            ColourMode::Producer => producer_colour(chip.producer),
            ColourMode::Priority => chip
                .priority
                .map_or(NO_PRODUCER, |p| PRIORITY_COLOURS[priority_bucket(p)]),
        }
    }
}

/// A record key's colour, by the key's place among the producers' keys, so the first keys of
/// a lesson get distinct colours.
pub fn key_colour(keys: &[(u32, String)], key: Option<u32>) -> &'static str {
    key.and_then(|k| keys.iter().position(|(id, _)| *id == k))
        .map_or(NO_PRODUCER, |i| {
            PRODUCER_COLOURS[i % PRODUCER_COLOURS.len()]
        })
}

/// Text colour that reads on a `#rrggbb` fill: ink on light fills, white on dark ones.
pub fn text_on(fill: &str) -> &'static str {
    let channel = |i: usize| {
        fill.get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .map_or(0.0, f64::from)
    };
    // Rec. 709 luma.
    let luma = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    if luma > 140.0 {
        INK
    } else {
        "#ffffff"
    }
}

/// Sizes `canvas`'s backing store to its CSS box at the device pixel ratio and sets that
/// scale, so a side panel's drawing is sharp when projected. Returns the context and the CSS
/// width and height, or `None` when there is no 2D context or the box is under `min_w` ×
/// `min_h` (a collapsed panel draws nothing).
pub fn hidpi_context(
    canvas: &web_sys::HtmlCanvasElement,
    min_w: f64,
    min_h: f64,
) -> Option<(CanvasRenderingContext2d, f64, f64)> {
    use wasm_bindgen::JsCast;
    let ctx = (canvas.get_context("2d").ok().flatten())
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())?;
    let dpr = (web_sys::window().map(|w| w.device_pixel_ratio()))
        .filter(|d| d.is_finite() && *d > 0.0)
        .unwrap_or(1.0);
    let (w, h) = (
        f64::from(canvas.client_width()),
        f64::from(canvas.client_height()),
    );
    if w < min_w || h < min_h {
        return None;
    }
    let (bw, bh) = ((w * dpr).round() as u32, (h * dpr).round() as u32);
    if canvas.width() != bw || canvas.height() != bh {
        canvas.set_width(bw);
        canvas.set_height(bh);
    }
    let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
    Some((ctx, w, h))
}

/// No canvas text is drawn smaller than this, whatever the scale: a projected drawing must be
/// read from the back of a room (a label that no longer fits is cut with an ellipsis instead).
pub const MIN_TEXT_PX: f64 = 14.0;
/// The same floor in presenter mode, where the room is the whole audience.
pub const PRESENT_MIN_TEXT_PX: f64 = 18.0;
/// Node names and their figures, the words a class reads first, are larger still (issue 10:
/// 16 px, 22 px in presenter mode); a name that does not fit is cut, not shrunk further.
pub const NAME_MIN_PX: f64 = 16.0;
pub const PRESENT_NAME_MIN_PX: f64 = 22.0;

/// Whether the page is in presenter mode (class `present` on `<html>`, set by the presenter).
pub fn presenting() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .is_some_and(|r| r.class_list().contains("present"))
}

/// A poison message's mark: a white cross of half-size `r` centred on its dot or chip.
pub fn poison_cross(ctx: &CanvasRenderingContext2d, x: f64, y: f64, r: f64, width: f64) {
    ctx.begin_path();
    ctx.move_to(x - r, y - r);
    ctx.line_to(x + r, y + r);
    ctx.move_to(x + r, y - r);
    ctx.line_to(x - r, y + r);
    ctx.set_line_width(width);
    ctx.set_stroke_style_str("#ffffff");
    ctx.stroke();
}

/// The smallest canvas text for the current mode.
pub fn min_text_px() -> f64 {
    if presenting() {
        PRESENT_MIN_TEXT_PX
    } else {
        MIN_TEXT_PX
    }
}

/// A small text size in a frame of rows: `base` at factor `k`, but never under `MIN_TEXT_PX`
/// (a crowded band keeps its labels legible; its rows are sized for that).
pub fn small(base: f64, k: f64) -> f64 {
    (base * k).max(MIN_TEXT_PX)
}

/// The canvas's 2D context with the drawing's language, scale and colour choice.
pub struct Pen<'a> {
    pub ctx: &'a CanvasRenderingContext2d,
    pub lang: Lang,
    /// The drawing's scale: 1.0 at a 1100×400 canvas.
    pub s: f64,
    pub colour_mode: ColourMode,
    /// The snapshot's record keys, for [`ColourMode::Key`].
    pub record_keys: &'a [(u32, String)],
    /// No text is drawn smaller: [`MIN_TEXT_PX`], or [`PRESENT_MIN_TEXT_PX`] when presenting.
    pub min_px: f64,
    /// Messages the lesson step names, and where their chips were drawn this frame (id, the
    /// middle of the chip's top): labelled last, over everything.
    pub named: &'a [MessageId],
    pub labels: RefCell<Vec<(MessageId, f64, f64)>>,
    /// The smallest size a node name or figure was drawn at this frame (the room test reads
    /// it from the canvas's `data-name-px`).
    pub name_drawn: Cell<f64>,
}

impl Pen<'_> {
    /// The first letter of a chip's record key, when messages are coloured by key.
    fn key_initial(&self, chip: &Chip) -> Option<String> {
        if self.colour_mode != ColourMode::Key {
            return None;
        }
        let name = &self
            .record_keys
            .iter()
            .find(|(id, _)| Some(*id) == chip.key)?
            .1;
        name.chars().next().map(|ch| ch.to_string())
    }

    pub fn chip_colour(&self, chip: &Chip) -> &'static str {
        if chip.poison {
            INK
        } else {
            self.colour_mode.colour(chip, self.record_keys)
        }
    }

    /// The floor for node names and figures in the pen's mode.
    pub fn name_px(&self) -> f64 {
        if self.min_px >= PRESENT_MIN_TEXT_PX {
            PRESENT_NAME_MIN_PX
        } else {
            NAME_MIN_PX
        }
    }

    /// A node's name or figure line fitted to `max_w`: from `max_px` down to the name floor,
    /// then cut. Records the size it chose.
    pub fn fit_name(&self, weight: u32, text: &str, max_w: f64, max_px: f64) -> String {
        let floor = self.name_px();
        let max_px = max_px.max(floor);
        self.font(weight, max_px, FONT);
        let w = self.text_w(text);
        let px = if w <= max_w || w <= 0.0 {
            max_px
        } else {
            (max_px * max_w / w).floor().max(floor)
        };
        self.font(weight, px, FONT);
        self.name_drawn.set(self.name_drawn.get().min(px));
        self.fit(text, max_w)
    }

    /// "empty" at (x, middle y) in a lane with `room` for it; nothing when it does not fit
    /// whole (an empty lane says so by itself).
    pub fn empty_note(&self, x: f64, y: f64, room: f64) {
        let text = t(self.lang, Key::NodeEmpty);
        if self.text_w(text) <= room {
            self.ctx.set_fill_style_str(FAINT);
            self.ctx.set_text_align("left");
            self.ctx.fill_text(text, x, y).ok();
        }
    }

    /// Sets the font, at the pen's `min_px` at least.
    pub fn font(&self, weight: u32, px: f64, family: &str) {
        let px = px.max(self.min_px);
        self.ctx.set_font(&format!("{weight} {px:.1}px {family}"));
    }

    pub fn text_w(&self, text: &str) -> f64 {
        self.ctx
            .measure_text(text)
            .map(|m| m.width())
            .unwrap_or(0.0)
    }

    /// `text` cut with an ellipsis to fit `max_w` in the current font.
    pub fn fit(&self, text: &str, max_w: f64) -> String {
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
    pub fn fit_shrinking(&self, text: &str, max_w: f64, max_px: f64, min_px: f64) -> String {
        self.fit_shrinking_weight(700, text, max_w, max_px, min_px)
    }

    pub fn fit_shrinking_weight(
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

    /// A filled rounded box; one that is down is grey with a dashed red outline.
    pub fn framed_box(
        &self,
        r: Rect,
        radius: f64,
        width: f64,
        fill: &str,
        stroke: &str,
        down: bool,
    ) {
        let c = self.ctx;
        let k = width / 2.0;
        self.round_rect(r, radius);
        // Something down is greyed out, whatever it is.
        c.set_fill_style_str(if down { DOWN_FILL } else { fill });
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

    pub fn round_rect(&self, r: Rect, radius: f64) {
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

    pub fn lane_box(&self, lane: Rect, k: f64) {
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

    /// Remembers where a named message was drawn, for [`chip_labels`](Self::chip_labels).
    pub fn note_label(&self, chip: &Chip, x: f64, top: f64) {
        if self.named.contains(&chip.msg) {
            self.labels.borrow_mut().push((chip.msg, x, top));
        }
    }

    /// Each named message's id in a dark tag just above where it was drawn: "m9" can be
    /// found on stage when the narration says it.
    pub fn chip_labels(&self) {
        let c = self.ctx;
        let labels = std::mem::take(&mut *self.labels.borrow_mut());
        let px = (14.0 * self.s).max(self.min_px);
        self.font(700, px, FONT);
        c.set_text_align("center");
        c.set_text_baseline("middle");
        let mut placed: Vec<Rect> = Vec::new();
        for (msg, x, top) in labels {
            let text = msg.to_string();
            let h = px + 6.0;
            let w = self.text_w(&text) + 10.0;
            let mut r = Rect {
                x: x - w / 2.0,
                y: top - h - 2.0,
                w,
                h,
            };
            // Tags of neighbouring chips stack upwards instead of covering each other.
            for _ in 0..3 {
                if !placed.iter().any(|p| p.overlaps(&r)) {
                    break;
                }
                r.y -= h + 2.0;
            }
            placed.push(r);
            self.round_rect(r, h / 2.0);
            c.set_fill_style_str(INK);
            c.fill();
            c.set_fill_style_str("#ffffff");
            c.fill_text(&text, x, r.mid_y() + 0.5).ok();
        }
    }

    /// A place a message may still take (a free prefetch slot, room under a length limit):
    /// a dashed outline.
    pub fn free_slot(&self, r: Rect, k: f64) {
        let c = self.ctx;
        let dash = js_sys::Array::of2(&(3.0 * k).into(), &(3.0 * k).into());
        c.set_line_dash(&dash).ok();
        c.set_stroke_style_str("#9ca3af");
        c.set_line_width(1.0);
        self.round_rect(r, 3.0 * k);
        c.stroke();
        c.set_line_dash(&js_sys::Array::new()).ok();
    }

    /// One message, coloured as the user chose; redelivered ones get a dark outline and ↻.
    pub fn chip(&self, chip: &Chip, r: Rect, k: f64, processing: bool) {
        let c = self.ctx;
        self.note_label(chip, r.x + r.w / 2.0, r.y);
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
        let colour = self.chip_colour(chip);
        c.set_fill_style_str(colour);
        c.fill();
        c.set_global_alpha(1.0);
        if let Some(initial) = self.key_initial(chip).filter(|_| !chip.redelivered) {
            // By key, a record shows its key's first letter: "alice went to P0" can be read.
            if r.w >= 11.0 && r.h >= self.min_px {
                self.font(700, (13.0 * k).min(r.h), FONT);
                c.set_fill_style_str(text_on(colour));
                c.set_text_align("center");
                c.set_text_baseline("middle");
                c.fill_text(&initial, r.x + r.w / 2.0, r.y + r.h / 2.0 + 0.5)
                    .ok();
            }
        }
        if chip.poison && r.w >= 8.0 && r.h >= 8.0 {
            let half = 0.3 * r.w.min(r.h);
            poison_cross(c, r.x + r.w / 2.0, r.y + r.h / 2.0, half, 1.5 * k);
        }
        if chip.redelivered && !chip.poison {
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

    /// "+N more" for rows a frame had no room for.
    pub fn more_line(&self, n: usize, r: Rect, k: f64) {
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
}
