//! The timeline under the stage: simulated time from 0 to the end of what was played, with
//! marks for lesson steps, commands (scripted or typed), and the first drop and first dead
//! letter. Drag or click to seek (checkpoints make it fast, see `Driver::scrub`); keys step by
//! event (`,` `.`), by second (`[` `]`) and by lesson step (`{` `}`). One small canvas, redrawn
//! only when what it shows changes. After a fork (`Driver::apply` behind the end) a second,
//! dimmed row shows the branch not playing from the fork point, and a button switches branches.

use crate::driver::{Driver, LoggedCommand};
use crate::hooks::use_interval;
use crate::i18n::{t, Key, Lang};
use crate::lab::use_lab;
use broker_sim::{Command, EventKind, SimTime};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};
use yew::prelude::*;

/// How often the timeline looks at the driver.
const POLL_MS: i32 = 100;

/// What a mark stands for; its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    Step,
    Crash,
    Restart,
    Burst,
    Edit,
    FirstDrop,
    FirstDead,
}

impl MarkKind {
    fn colour(self) -> &'static str {
        match self {
            MarkKind::Step => "#7c3aed",
            MarkKind::Crash => "#dc2626",
            MarkKind::Restart => "#16a34a",
            MarkKind::Burst => "#ea580c",
            MarkKind::Edit => "#2563eb",
            MarkKind::FirstDrop => "#b91c1c",
            MarkKind::FirstDead => "#6b7280",
        }
    }

    /// Commands are told apart by the words of their name, never by broker.
    fn of_command(c: &Command) -> MarkKind {
        let name = serde_json::to_value(c)
            .ok()
            .and_then(|v| match v {
                serde_json::Value::Object(m) => m.keys().next().cloned(),
                serde_json::Value::String(s) => Some(s),
                _ => None,
            })
            .unwrap_or_default();
        let has = |w: &str| name.split('_').any(|p| p == w);
        if has("crash") || has("stop") || has("kill") || has("partition") {
            MarkKind::Crash
        } else if has("restart") || has("start") || has("heal") || has("resume") {
            MarkKind::Restart
        } else if has("burst") || has("poison") || has("send") {
            MarkKind::Burst
        } else {
            MarkKind::Edit
        }
    }
}

/// Everything drawn, to skip identical redraws.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub now: SimTime,
    pub end: SimTime,
    pub marks: Vec<(SimTime, MarkKind)>,
    pub fork: Option<ForkRow>,
}

/// The branch not playing, drawn dimmed from where the branches part to its end.
#[derive(Clone, Debug, PartialEq)]
pub struct ForkRow {
    pub at: SimTime,
    pub end: SimTime,
    /// Its commands from the fork point on.
    pub marks: Vec<(SimTime, MarkKind)>,
    pub is_original: bool,
}

impl ForkRow {
    fn of(d: &Driver) -> Option<ForkRow> {
        d.fork().map(|f| ForkRow {
            at: f.at,
            end: f.other_end,
            marks: f
                .other_log
                .iter()
                .filter(|c| c.at >= f.at)
                .map(|c| (c.at, MarkKind::of_command(&c.command)))
                .collect(),
            is_original: !f.playing_original,
        })
    }

    /// The branch's name.
    fn name(&self, l: Lang) -> &'static str {
        t(l, branch_key(self.is_original))
    }
}

/// The name of the original branch or of the fork.
pub fn branch_key(original: bool) -> Key {
    if original {
        Key::BranchOriginal
    } else {
        Key::BranchFork
    }
}

/// The marks of a run: lesson steps, scripted and typed commands, first drop, first dead letter.
pub fn marks(d: &Driver, notable: &Notable) -> Vec<(SimTime, MarkKind)> {
    let scenario = d.scenario();
    let mut marks: Vec<(SimTime, MarkKind)> = Vec::new();
    if let Some(n) = &scenario.narration {
        marks.extend(
            (0..n.steps.len())
                .filter_map(|i| crate::narration::step_time(n, i))
                .map(|at| (at, MarkKind::Step)),
        );
    }
    marks.extend(scenario.script.iter().map(|s| {
        (
            SimTime((s.at_ms * 1_000.0).round() as u64),
            MarkKind::of_command(&s.command),
        )
    }));
    marks.extend(
        d.recorded()
            .iter()
            .map(|c: &LoggedCommand| (c.at, MarkKind::of_command(&c.command))),
    );
    marks.extend(notable.first_drop.map(|at| (at, MarkKind::FirstDrop)));
    marks.extend(notable.first_dead.map(|at| (at, MarkKind::FirstDead)));
    marks
}

/// The first drop and first dead letter seen in this run, found in the event log when the
/// ledger first counts one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Notable {
    first_drop: Option<SimTime>,
    first_dead: Option<SimTime>,
}

impl Notable {
    fn update(&mut self, d: &Driver) {
        let end = d.horizon();
        // A reset or a new scenario: what was seen later than the run's end is gone.
        self.first_drop = self.first_drop.filter(|&t| t <= end);
        self.first_dead = self.first_dead.filter(|&t| t <= end);
        let ledger = d.sim().ledger();
        let find = |want: fn(&EventKind) -> bool| {
            d.events().iter().find(|e| want(&e.kind)).map(|e| e.time)
        };
        if self.first_drop.is_none() && ledger.dropped.values().any(|&n| n > 0) {
            self.first_drop = find(|k| matches!(k, EventKind::Dropped { .. }));
        }
        if self.first_dead.is_none() && ledger.dead_lettered.values().any(|&n| n > 0) {
            self.first_dead = find(|k| matches!(k, EventKind::DeadLettered { .. }));
        }
    }
}

/// Where a key moves the clock: `None` when the key is not the timeline's.
pub fn key_target(d: &Driver, key: &str) -> Option<SimTime> {
    let now = d.now();
    let steps = || -> Vec<SimTime> {
        d.scenario().narration.as_ref().map_or(Vec::new(), |n| {
            (0..n.steps.len())
                .filter_map(|i| crate::narration::step_time(n, i))
                .collect()
        })
    };
    let second = SimTime::from_secs(1).micros();
    match key {
        "," => Some(
            d.events()
                .iter()
                .rev()
                .map(|e| e.time)
                .find(|&t| t < now)
                .unwrap_or(SimTime::ZERO),
        ),
        "." => d.sim().next_event_time(),
        "[" => Some(SimTime(now.micros().saturating_sub(second))),
        "]" => Some(now.plus(second)),
        "{" => Some(
            steps()
                .into_iter()
                .rev()
                .find(|&t| t < now)
                .unwrap_or(SimTime::ZERO),
        ),
        "}" => steps().into_iter().find(|&t| t > now),
        _ => None,
    }
}

/// The time under `x` of a track `width` pixels wide ending at `end`.
pub fn time_at(x: f64, width: f64, end: SimTime) -> SimTime {
    let f = if width > 0.0 {
        (x / width).clamp(0.0, 1.0)
    } else {
        0.0
    };
    SimTime((end.micros() as f64 * f).round() as u64)
}

/// The timeline's end: what was played on either branch, at least ten seconds.
fn end_of(d: &Driver) -> SimTime {
    let other = d.fork().map_or(SimTime::ZERO, |f| f.other_end);
    d.horizon().max(other).max(SimTime::from_secs(10))
}

/// Seeks and records how long it took on the element (`data-seek-ms`, read by the e2e test).
fn seek(lab: &crate::lab::Lab, el: Option<&HtmlCanvasElement>, to: SimTime) {
    let perf = web_sys::window().and_then(|w| w.performance());
    let start = perf.as_ref().map_or(0.0, |p| p.now());
    lab.with_driver(|d| {
        d.set_playing(false);
        d.scrub(to);
    });
    if let (Some(el), Some(p)) = (el, perf) {
        let _ = el.set_attribute("data-seek-ms", &format!("{:.2}", p.now() - start));
    }
}

fn draw(el: &HtmlCanvasElement, m: &Model, l: Lang) {
    // Hidden (embed and presenter modes) or squeezed: nothing to draw, and `clamp(1.0, w - 1.0)`
    // below needs some width.
    let Some((ctx, w, h)) = crate::pen::hidpi_context(el, 60.0, 20.0) else {
        return;
    };
    ctx.clear_rect(0.0, 0.0, w, h);
    let end = m.end.micros().max(1) as f64;
    let x_of = |t: SimTime| t.micros() as f64 / end * w;
    // The track and the part already played.
    ctx.set_fill_style_str("#e5e7eb");
    ctx.fill_rect(0.0, h - 8.0, w, 4.0);
    ctx.set_fill_style_str("#93c5fd");
    ctx.fill_rect(0.0, h - 8.0, x_of(m.now), 4.0);
    // Ticks at round seconds or minutes, labelled.
    let secs = end / 1e6;
    let step = [1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0, 1800.0, 3600.0]
        .into_iter()
        .find(|s| secs / s <= 10.0)
        .unwrap_or(7200.0);
    // The clock's label; on a one-row track it shares the top line with the tick labels.
    let clock = crate::model::format_clock(m.now);
    let clock_font = "600 14px system-ui, sans-serif";
    ctx.set_font(clock_font);
    let clock_x = (x_of(m.now).clamp(1.0, w - 1.0) + 4.0).min(w - 60.0);
    let clock_w = ctx.measure_text(&clock).map_or(60.0, |m| m.width());
    ctx.set_fill_style_str("#6b7280");
    ctx.set_font("14px system-ui, sans-serif");
    let mut s = 0.0;
    while s <= secs {
        let x = s / secs * w;
        ctx.fill_rect(x, h - 10.0, 1.0, 6.0);
        let label = if step >= 60.0 {
            format!("{}:{:02}", (s / 60.0) as u64, (s % 60.0) as u64)
        } else {
            format!("{s} s")
        };
        let tw = ctx.measure_text(&label).map_or(30.0, |m| m.width());
        let under_clock =
            m.fork.is_none() && x + 2.0 < clock_x + clock_w + 6.0 && x + tw + 8.0 > clock_x;
        if x + 30.0 < w && !under_clock {
            let _ = ctx.fill_text(&label, x + 2.0, 13.0);
        }
        s += step;
    }
    if let Some(f) = &m.fork {
        // The other branch, dimmed, on the row above, joined to this one at the fork point.
        let (xf, xe, y) = (x_of(f.at), x_of(f.end), FORK_ROW_Y);
        ctx.set_global_alpha(0.5);
        ctx.set_fill_style_str("#9ca3af");
        ctx.fill_rect(xf, y - 2.0, (xe - xf).max(2.0), 4.0);
        ctx.fill_rect(xf - 1.0, y, 2.0, h - 6.0 - y);
        draw_marks(&ctx, &f.marks, &x_of, w, y + 4.0);
        ctx.set_global_alpha(1.0);
        ctx.begin_path();
        let _ = ctx.arc(xf, h - 6.0, 4.0, 0.0, std::f64::consts::TAU);
        ctx.set_fill_style_str("#4b5563");
        ctx.fill();
        ctx.set_font("600 14px system-ui, sans-serif");
        let name = f.name(l);
        let tw = ctx.measure_text(name).map_or(60.0, |m| m.width());
        let lx = if xf - tw - 8.0 >= 0.0 {
            xf - tw - 8.0
        } else {
            xf + 8.0
        };
        let _ = ctx.fill_text(name, lx, y + 4.0);
    }
    draw_marks(&ctx, &m.marks, &x_of, w, h);
    // The clock.
    let x = x_of(m.now).clamp(1.0, w - 1.0);
    ctx.set_fill_style_str("#111827");
    ctx.fill_rect(x - 1.0, 0.0, 2.0, h);
    ctx.set_font(clock_font);
    let _ = ctx.fill_text(&clock, clock_x, h - 14.0);
    el.set_title(t(l, Key::TimelineLabel));
}

/// The row of the other branch in a forked timeline (its centre, px from the top).
const FORK_ROW_Y: f64 = 24.0;

/// Marks on a row whose bottom is `bottom`.
fn draw_marks(
    ctx: &CanvasRenderingContext2d,
    marks: &[(SimTime, MarkKind)],
    x_of: &dyn Fn(SimTime) -> f64,
    w: f64,
    bottom: f64,
) {
    for &(at, kind) in marks {
        let x = x_of(at).clamp(1.0, w - 1.0);
        ctx.set_fill_style_str(kind.colour());
        match kind {
            MarkKind::Step => {
                ctx.begin_path();
                let _ = ctx.arc(x, bottom - 6.0, 4.0, 0.0, std::f64::consts::TAU);
                ctx.fill();
            }
            MarkKind::FirstDrop | MarkKind::FirstDead => {
                ctx.begin_path();
                ctx.move_to(x, bottom - 12.0);
                ctx.line_to(x + 4.0, bottom - 6.0);
                ctx.line_to(x, bottom);
                ctx.line_to(x - 4.0, bottom - 6.0);
                ctx.close_path();
                ctx.fill();
            }
            _ => ctx.fill_rect(x - 1.0, bottom - 14.0, 2.0, 12.0),
        }
    }
}

#[function_component(Timeline)]
pub fn timeline() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let canvas = use_node_ref();
    let drawn = use_mut_ref(|| None as Option<(Model, Lang, (i32, i32))>);
    let notable = use_mut_ref(Notable::default);
    let dragging = use_mut_ref(|| false);
    // Whether the original branch plays, once the run has forked (the switch button shows).
    let branch = use_state(|| None::<bool>);

    let redraw = {
        let (driver, canvas, drawn, notable, branch) = (
            lab.driver.clone(),
            canvas.clone(),
            drawn.clone(),
            notable.clone(),
            branch.clone(),
        );
        Rc::new(move || {
            let Some(el) = canvas.cast::<HtmlCanvasElement>() else {
                return;
            };
            let Ok(d) = driver.try_borrow() else {
                return;
            };
            notable.borrow_mut().update(&d);
            let m = Model {
                now: d.now(),
                end: end_of(&d),
                marks: marks(&d, &notable.borrow()),
                fork: ForkRow::of(&d),
            };
            let playing_original = m.fork.as_ref().map(|f| !f.is_original);
            if *branch != playing_original {
                branch.set(playing_original);
            }
            let c = d.checkpoints();
            let _ = el.set_attribute("data-now-us", &d.now().micros().to_string());
            let _ = el.set_attribute("data-end-us", &m.end.micros().to_string());
            let _ = el.set_attribute("data-checkpoints", &c.len().to_string());
            let _ = el.set_attribute("data-checkpoint-bytes", &c.bytes().to_string());
            let _ = el.set_attribute("data-checkpoint-every-us", &c.every_us().to_string());
            let _ = el.set_attribute("data-marks", &m.marks.len().to_string());
            let _ = el.set_attribute("data-branches", if m.fork.is_some() { "2" } else { "1" });
            drop(d);
            let key = (m, l, (el.client_width(), el.client_height()));
            if drawn.borrow().as_ref() != Some(&key) {
                draw(&el, &key.0, l);
                *drawn.borrow_mut() = Some(key);
            }
        })
    };
    {
        let redraw = redraw.clone();
        use_effect_with(l, move |_| redraw());
    }
    {
        let redraw = redraw.clone();
        use_interval(POLL_MS, move || redraw());
    }

    let seek_at = {
        let (lab, canvas, redraw) = (lab.clone(), canvas.clone(), redraw.clone());
        Rc::new(move |e: &PointerEvent| {
            let Some(el) = canvas.cast::<HtmlCanvasElement>() else {
                return;
            };
            let end = end_of(&lab.driver.borrow());
            let to = time_at(e.offset_x() as f64, el.client_width() as f64, end);
            seek(&lab, Some(&el), to);
            redraw();
        })
    };
    let on_down = {
        let (seek_at, dragging, canvas) = (seek_at.clone(), dragging.clone(), canvas.clone());
        Callback::from(move |e: PointerEvent| {
            *dragging.borrow_mut() = true;
            if let Some(el) = canvas.cast::<HtmlCanvasElement>() {
                let _ = el.set_pointer_capture(e.pointer_id());
            }
            seek_at(&e);
        })
    };
    let on_move = {
        let (seek_at, dragging) = (seek_at.clone(), dragging.clone());
        Callback::from(move |e: PointerEvent| {
            if *dragging.borrow() {
                seek_at(&e);
            }
        })
    };
    let on_up = {
        let dragging = dragging.clone();
        Callback::from(move |_: PointerEvent| *dragging.borrow_mut() = false)
    };
    {
        let (lab, canvas, redraw) = (lab.clone(), canvas.clone(), redraw.clone());
        use_effect_with((), move |_| {
            let listener = Closure::<dyn FnMut(KeyboardEvent)>::new(move |e: KeyboardEvent| {
                if e.ctrl_key() || e.meta_key() || e.alt_key() || e.default_prevented() {
                    return;
                }
                let typing = e
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                    .is_some_and(|el| {
                        matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                    });
                if typing {
                    return;
                }
                let target = key_target(&lab.driver.borrow(), &e.key());
                if let Some(to) = target {
                    e.prevent_default();
                    seek(&lab, canvas.cast::<HtmlCanvasElement>().as_ref(), to);
                    redraw();
                }
            });
            let window = web_sys::window();
            if let Some(w) = &window {
                let _ = w
                    .add_event_listener_with_callback("keydown", listener.as_ref().unchecked_ref());
            }
            move || {
                if let Some(w) = &window {
                    let _ = w.remove_event_listener_with_callback(
                        "keydown",
                        listener.as_ref().unchecked_ref(),
                    );
                }
                drop(listener);
            }
        });
    }

    let switch = {
        let (lab, redraw) = (lab.clone(), redraw.clone());
        Callback::from(move |_: MouseEvent| {
            lab.with_driver(|d| {
                d.set_playing(false);
                d.switch_branch();
            });
            redraw();
        })
    };
    let branches = branch.map(|original| {
        html! {
            <div class="timeline-branches" title={t(l, Key::BranchForkHint)}>
                <span data-testid="branch-playing">
                    { format!("{}: {}", t(l, Key::BranchPlaying), t(l, branch_key(original))) }
                </span>
                <button type="button" data-testid="branch-switch" onclick={switch}>
                    { t(l, if original { Key::BranchSwitchToFork } else { Key::BranchSwitchToOriginal }) }
                </button>
            </div>
        }
    });
    html! {
        <div class={classes!("timeline", branch.is_some().then_some("forked"))}>
            <canvas ref={canvas} class="timeline-track" data-testid="timeline" role="slider"
                aria-label={t(l, Key::TimelineLabel)} aria-keyshortcuts=", . [ ] { }"
                onpointerdown={on_down} onpointermove={on_move} onpointerup={on_up.clone()}
                onpointercancel={on_up}></canvas>
            { for branches }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_marked_by_the_words_of_their_name() {
        let c = |j: &str| -> Command { serde_json::from_str(j).expect("command") };
        let kind = |j: &str| MarkKind::of_command(&c(j));
        assert_eq!(
            kind(r#"{"crash_consumer":{"consumer":"w"}}"#),
            MarkKind::Crash
        );
        assert_eq!(
            kind(r#"{"restart_consumer":{"consumer":"w"}}"#),
            MarkKind::Restart
        );
        assert_eq!(
            kind(r#"{"burst":{"producer":"p","count":3}}"#),
            MarkKind::Burst
        );
        assert_eq!(
            kind(r#"{"slow_consumer":{"consumer":"w","factor":2.0}}"#),
            MarkKind::Edit
        );
    }

    #[test]
    fn keys_step_by_event_second_and_lesson_step() {
        let mut d = Driver::with_default_scenario();
        d.run_to(SimTime::from_millis(2_500));
        let back = key_target(&d, ",").expect("an event before");
        assert!(back < d.now());
        assert!(d.events().iter().any(|e| e.time == back));
        assert!(!d.events().iter().any(|e| e.time > back && e.time < d.now()));
        assert_eq!(key_target(&d, "."), d.sim().next_event_time());
        assert_eq!(key_target(&d, "["), Some(SimTime::from_millis(1_500)));
        assert_eq!(key_target(&d, "]"), Some(SimTime::from_millis(3_500)));
        assert_eq!(
            key_target(&d, "{"),
            Some(SimTime::ZERO),
            "no lesson: the start"
        );
        assert_eq!(key_target(&d, "}"), None);
        assert_eq!(key_target(&d, "x"), None);
        assert_eq!(
            time_at(50.0, 200.0, SimTime::from_secs(40)),
            SimTime::from_secs(10)
        );
        assert_eq!(time_at(-5.0, 200.0, SimTime::from_secs(40)), SimTime::ZERO);
    }
}
