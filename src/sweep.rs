//! The dock's What-if tab (issue 15 item 5): vary one parameter of the loaded scenario over a
//! range, run each variant headless in the page in small chunks so the stage keeps animating,
//! and plot and tabulate latency, throughput and drops against it, with the theory curve. The
//! runs and figures are the core's (`broker_sim::sweep`); this module schedules and draws.

use crate::hooks::use_interval;
use crate::i18n::{t, Key, Lang};
use crate::lab::use_lab;
use crate::pen::{DANGER, FAINT, FONT, INK, LINK, MUTED};
use broker_sim::sweep::{range, to_csv, Param, Progress, SweepRun, VariantSummary};
use broker_sim::{Scenario, SimTime};
use std::rc::Rc;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};
use yew::prelude::*;

/// How often the runner gets a turn, and how long it may work in one: the stage's frame gets
/// the rest of each 16 ms.
const TICK_MS: i32 = 16;
const WORK_MS: f64 = 6.0;
/// Work items between clock checks: small enough to stop near `WORK_MS`.
const CHUNK: u64 = 500;
/// Chart text in CSS px: read projected.
const TEXT_PX: f64 = 14.0;
const SMALL_PX: f64 = 12.0;
const P50: &str = "#2563eb";
const P95: &str = "#7c3aed";
const WAIT: &str = "#059669";
const THROUGHPUT: &str = "#0f766e";

/// The form as typed.
#[derive(Clone, Debug, PartialEq)]
struct Form {
    param: usize,
    from: String,
    to: String,
    step: String,
    secs: String,
}

/// A starting range per parameter: consumers 1–8, prefetch 1–100, half to one and a half
/// times the producer's rate, partitions 1–8.
fn defaults(param: Option<&Param>, scenario: &Scenario) -> (f64, f64, f64) {
    match param {
        Some(Param::Prefetch { .. }) => (1.0, 100.0, 11.0),
        Some(Param::Rate { producer }) => {
            let rate = (scenario.producers.iter())
                .find(|p| &p.name == producer)
                .and_then(|p| match p.rate {
                    broker_sim::scenario::RatePattern::Constant { per_sec }
                    | broker_sim::scenario::RatePattern::Poisson { per_sec } => Some(per_sec),
                    _ => None,
                })
                .unwrap_or(10.0);
            let step = (rate / 4.0).round().max(1.0);
            ((rate / 2.0).round().max(1.0), (rate * 1.5).round(), step)
        }
        _ => (1.0, 8.0, 1.0),
    }
}

fn form_for(param: usize, candidates: &[Param], scenario: &Scenario) -> Form {
    let (from, to, step) = defaults(candidates.get(param), scenario);
    Form {
        param,
        from: from.to_string(),
        to: to.to_string(),
        step: step.to_string(),
        secs: "120".into(),
    }
}

fn param_label(l: Lang, p: &Param) -> String {
    let key = match p {
        Param::Consumers { .. } => Key::SweepConsumers,
        Param::Prefetch { .. } => Key::SweepPrefetch,
        Param::Rate { .. } => Key::SweepRate,
        Param::Partitions { .. } => Key::SweepPartitions,
    };
    t(l, key).replace("{x}", p.target())
}

/// What the panel shows: the last sweep's rows, and how far the current one is.
#[derive(Clone, Debug, Default, PartialEq)]
struct View {
    param: Option<Param>,
    rows: Rc<Vec<VariantSummary>>,
    progress: Option<Progress>,
    running: bool,
    cancelled: bool,
    error: bool,
}

#[function_component(SweepPanel)]
pub fn sweep_panel() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let (scenario, seed) = {
        let d = lab.driver.borrow();
        (d.scenario().clone(), d.seed())
    };
    let candidates = Param::candidates(&scenario);
    let form = {
        let (candidates, scenario) = (candidates.clone(), scenario.clone());
        use_state(move || form_for(0, &candidates, &scenario))
    };
    let run = use_mut_ref(|| None::<SweepRun>);
    let view = use_state(View::default);
    let canvas = use_node_ref();

    {
        let (run, view) = (run.clone(), view.clone());
        use_interval(TICK_MS, move || {
            let mut slot = run.borrow_mut();
            let Some(sweep) = slot.as_mut() else {
                return;
            };
            let start = js_sys::Date::now();
            let mut p = sweep.step(CHUNK);
            while !p.finished() && js_sys::Date::now() - start < WORK_MS {
                p = sweep.step(CHUNK);
            }
            let mut next = (*view).clone();
            if next.rows.len() != sweep.rows().len() {
                next.rows = Rc::new(sweep.rows().to_vec());
            }
            next.progress = Some(p);
            next.running = !p.finished();
            if p.finished() {
                *slot = None;
            }
            view.set(next);
        });
    }
    {
        let canvas = canvas.clone();
        use_effect_with(
            (view.rows.clone(), view.param.clone(), l),
            move |(rows, param, l)| {
                if let Some(c) = canvas.cast::<HtmlCanvasElement>() {
                    draw(&c, rows, param.as_ref(), *l);
                }
            },
        );
    }

    if candidates.is_empty() {
        return html! {
            <div class="sweep-panel" data-testid="sweep">
                <p class="sweep-note">{ t(l, Key::SweepNone) }</p>
            </div>
        };
    }
    let on_param = {
        let (form, candidates, scenario) = (form.clone(), candidates.clone(), scenario.clone());
        Callback::from(move |e: web_sys::Event| {
            if let Some(s) = e.target_dyn_into::<web_sys::HtmlSelectElement>() {
                let i = s.selected_index().max(0) as usize;
                form.set(form_for(i, &candidates, &scenario));
            }
        })
    };
    let field = |key: Key, value: &str, id: &str, set: fn(&mut Form, String)| {
        let oninput = crate::forms::write_on_input(&form, set);
        html! {
            <label class="sweep-field">
                <span>{ t(l, key) }</span>
                <input type="number" value={value.to_string()} data-testid={format!("sweep-{id}")}
                    {oninput} />
            </label>
        }
    };
    let onsubmit = {
        let (form, run, view, candidates) =
            (form.clone(), run.clone(), view.clone(), candidates.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let num = |s: &str| s.trim().parse::<f64>().unwrap_or(f64::NAN);
            let values = range(num(&form.from), num(&form.to), num(&form.step));
            let secs = num(&form.secs);
            let param = candidates.get(form.param).cloned();
            let started = (param.clone())
                .filter(|_| !values.is_empty() && secs >= 1.0)
                .and_then(|p| {
                    let duration = SimTime((secs * 1e6) as u64);
                    SweepRun::new(&scenario, p, &values, duration, seed).ok()
                });
            view.set(View {
                param,
                error: started.is_none(),
                running: started.is_some(),
                progress: started.as_ref().map(SweepRun::progress),
                ..View::default()
            });
            *run.borrow_mut() = started;
        })
    };
    let on_cancel = {
        let (run, view) = (run.clone(), view.clone());
        Callback::from(move |_: MouseEvent| {
            *run.borrow_mut() = None;
            view.set(View {
                running: false,
                cancelled: true,
                ..(*view).clone()
            });
        })
    };
    let on_csv = {
        let view = view.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(p) = &view.param {
                let name = format!("broker-lab-sweep-{}.csv", p.column());
                crate::share::download(&name, &to_csv(p, &view.rows));
            }
        })
    };

    let options = candidates.iter().enumerate().map(|(i, p)| {
        html! { <option value={i.to_string()} selected={i == form.param}>{ param_label(l, p) }</option> }
    });
    let status = match (&view.progress, view.cancelled, view.error) {
        (_, _, true) => t(l, Key::SweepBadRange).to_string(),
        (_, true, _) => t(l, Key::SweepCancelled).to_string(),
        (Some(p), ..) => t(l, Key::SweepProgress)
            .replace("{done}", &p.done.to_string())
            .replace("{total}", &p.total.to_string()),
        (None, ..) => t(l, Key::SweepHint).to_string(),
    };
    let fraction = view.progress.map_or(0.0, |p| p.fraction);
    let done = view.progress.is_some_and(|p| p.finished());
    html! {
        <div class="sweep-panel" data-testid="sweep" data-running={view.running.to_string()}
            data-done={done.to_string()}>
            <form class="sweep-form" {onsubmit}>
                <label class="sweep-field">
                    <span>{ t(l, Key::SweepParam) }</span>
                    <select data-testid="sweep-param" onchange={on_param}>{ for options }</select>
                </label>
                { field(Key::SweepFrom, &form.from, "from", |f, v| f.from = v) }
                { field(Key::SweepTo, &form.to, "to", |f, v| f.to = v) }
                { field(Key::SweepStep, &form.step, "step", |f, v| f.step = v) }
                { field(Key::SweepSecs, &form.secs, "secs", |f, v| f.secs = v) }
                <button type="submit" class="dock-button" data-testid="sweep-run"
                    disabled={view.running}>{ t(l, Key::SweepRun) }</button>
                <button type="button" class="dock-button" data-testid="sweep-cancel"
                    disabled={!view.running} onclick={on_cancel}>{ t(l, Key::SweepCancel) }</button>
            </form>
            <div class="sweep-body">
                <canvas ref={canvas} class="sweep-chart" data-testid="sweep-chart" role="img"
                    aria-label={t(l, Key::SweepChartLabel)}></canvas>
                <div class="sweep-side">
                    <div class="sweep-bar">
                        <progress max="1" value={fraction.to_string()} data-testid="sweep-progress"></progress>
                        <span class="sweep-status" data-testid="sweep-status" aria-live="polite">{ status }</span>
                        <button type="button" class="dock-button" data-testid="sweep-csv"
                            disabled={view.rows.is_empty()} onclick={on_csv}>{ t(l, Key::SweepCsv) }</button>
                    </div>
                    { table(l, view.param.as_ref(), &view.rows) }
                </div>
            </div>
        </div>
    }
}

fn ms(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

fn table(l: Lang, param: Option<&Param>, rows: &[VariantSummary]) -> Html {
    let Some(param) = param.filter(|_| !rows.is_empty()) else {
        return html! {};
    };
    let or_dash = |x: Option<f64>| x.map_or_else(|| "—".to_string(), ms);
    let body = rows.iter().map(|r| {
        let model = r.model.map_or("", |m| t(l, crate::theory::model_key(m)));
        html! {
            <tr key={r.value.to_string()} data-testid="sweep-row" data-value={r.value.to_string()}
                data-p50={r.p50_ms.to_string()} data-p95={r.p95_ms.to_string()}>
                <td>{ r.value }</td>
                <td>{ ms(r.p50_ms) }</td>
                <td>{ ms(r.p95_ms) }</td>
                <td>{ format!("{:.2}", r.throughput_per_sec) }</td>
                <td>{ r.drops }</td>
                <td>{ or_dash(r.wq_ms) }</td>
                <td title={model}>{ or_dash(r.wq_theory_ms) }</td>
            </tr>
        }
    });
    html! {
        <div class="sweep-table-wrap">
            <table class="dash-table sweep-table" data-testid="sweep-table">
                <thead><tr>
                    <th>{ param_label(l, param) }</th>
                    <th>{ format!("{} (ms)", t(l, Key::SweepP50)) }</th>
                    <th>{ format!("{} (ms)", t(l, Key::SweepP95)) }</th>
                    <th>{ "msg/s" }</th>
                    <th>{ t(l, Key::SweepDrops) }</th>
                    <th>{ format!("{} (ms)", t(l, Key::SweepWq)) }</th>
                    <th>{ format!("{} (ms)", t(l, Key::SweepWqTheory)) }</th>
                </tr></thead>
                <tbody>{ for body }</tbody>
            </table>
        </div>
    }
}

/// One plotted line: its legend key, colour, dashed or not, and a y per row (`None` = gap).
struct Line {
    key: Key,
    colour: &'static str,
    dashed: bool,
    ys: Vec<Option<f64>>,
}

/// Draws three small charts side by side: latency (log scale, with the theory wait dashed),
/// throughput, drops; x is the swept value.
fn draw(canvas: &HtmlCanvasElement, rows: &[VariantSummary], param: Option<&Param>, l: Lang) {
    let Some((ctx, w, h)) = crate::pen::hidpi_context(canvas, 60.0, 40.0) else {
        return;
    };
    ctx.clear_rect(0.0, 0.0, w, h);
    ctx.set_text_baseline("middle");
    let Some(param) = param.filter(|_| !rows.is_empty()) else {
        ctx.set_font(&format!("400 {TEXT_PX}px {FONT}"));
        ctx.set_fill_style_str(MUTED);
        ctx.set_text_align("left");
        let _ = ctx.fill_text(t(l, Key::SweepEmptyChart), 8.0, h / 2.0);
        return;
    };
    let xs: Vec<f64> = rows.iter().map(|r| r.value).collect();
    let latency = [
        Line {
            key: Key::SweepP50,
            colour: P50,
            dashed: false,
            ys: rows.iter().map(|r| Some(r.p50_ms)).collect(),
        },
        Line {
            key: Key::SweepP95,
            colour: P95,
            dashed: false,
            ys: rows.iter().map(|r| Some(r.p95_ms)).collect(),
        },
        Line {
            key: Key::SweepWq,
            colour: WAIT,
            dashed: false,
            ys: rows.iter().map(|r| r.wq_ms).collect(),
        },
        Line {
            key: Key::SweepWqTheory,
            colour: INK,
            dashed: true,
            ys: rows.iter().map(|r| r.wq_theory_ms).collect(),
        },
    ];
    let throughput = [Line {
        key: Key::SweepThroughput,
        colour: THROUGHPUT,
        dashed: false,
        ys: rows.iter().map(|r| Some(r.throughput_per_sec)).collect(),
    }];
    let drops = [Line {
        key: Key::SweepDrops,
        colour: DANGER,
        dashed: false,
        ys: rows.iter().map(|r| Some(r.drops as f64)).collect(),
    }];
    let gap = 12.0;
    // Latency gets half the width: it carries four lines and their legend.
    let quarter = (w - 2.0 * gap) / 4.0;
    let x_name = param_label(l, param);
    let panels = [
        Panel {
            title: t(l, Key::SweepLatency),
            lines: &latency,
            log: true,
        },
        Panel {
            title: t(l, Key::SweepThroughput),
            lines: &throughput,
            log: false,
        },
        Panel {
            title: t(l, Key::SweepDrops),
            lines: &drops,
            log: false,
        },
    ];
    let boxes = [
        (0.0, 2.0 * quarter),
        (2.0 * quarter + gap, quarter),
        (3.0 * quarter + 2.0 * gap, quarter),
    ];
    for (panel, (x0, pw)) in panels.iter().zip(boxes) {
        chart(&ctx, (x0, 0.0, pw, h), panel, (&x_name, &xs), l);
    }
}

/// Axis ticks for a linear scale from 0: the top rounded up to 1, 2 or 5 × 10ⁿ.
fn nice_top(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|top| *top >= max)
        .unwrap_or(10.0 * p)
}

fn label(v: f64) -> String {
    if v >= 1000.0 {
        format!("{}k", v / 1000.0)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// One of the three charts: its title, its lines, and whether its y scale is in decades.
struct Panel<'a> {
    title: &'a str,
    lines: &'a [Line],
    log: bool,
}

fn chart(
    ctx: &CanvasRenderingContext2d,
    (x0, y0, w, h): (f64, f64, f64, f64),
    &Panel { title, lines, log }: &Panel,
    (x_name, xs): (&str, &[f64]),
    l: Lang,
) {
    // With several lines, their legend stands in a column right of the plot.
    let legend_w = if lines.len() > 1 {
        ctx.set_font(&format!("400 {SMALL_PX}px {FONT}"));
        let widest = (lines.iter())
            .map(|ln| ctx.measure_text(t(l, ln.key)).map_or(0.0, |m| m.width()))
            .fold(0.0, f64::max);
        widest + 34.0
    } else {
        0.0
    };
    let (left, top, bottom) = (x0 + 44.0, y0 + 22.0, y0 + h - 36.0);
    let right = x0 + w - 6.0 - legend_w;
    if right - left < 40.0 || bottom - top < 30.0 {
        return;
    }
    ctx.set_text_align("left");
    ctx.set_fill_style_str(INK);
    ctx.set_font(&format!("700 {TEXT_PX}px {FONT}"));
    // Narrow panels squeeze their text rather than run into the next one.
    let _ = ctx.fill_text_with_max_width(title, x0 + 4.0, y0 + 10.0, w - 8.0);
    // The y scale: decades for latency (one unstable variant's wait would flatten the rest),
    // 0 to a round top otherwise.
    let all: Vec<f64> = lines
        .iter()
        .flat_map(|ln| ln.ys.iter().flatten())
        .copied()
        .collect();
    let (lo, hi) = if log {
        let pos = all.iter().copied().filter(|v| *v > 0.0);
        let min = pos.clone().fold(f64::INFINITY, f64::min);
        let max = pos.fold(0.0, f64::max);
        if max <= 0.0 {
            (0.0, 1.0)
        } else {
            (
                min.log10().floor(),
                max.log10().ceil().max(min.log10().floor() + 1.0),
            )
        }
    } else {
        (0.0, nice_top(all.iter().copied().fold(0.0, f64::max)))
    };
    let to_y = |v: f64| {
        let s = if log {
            v.max(10f64.powf(lo)).log10()
        } else {
            v
        };
        bottom - (s - lo) / (hi - lo) * (bottom - top)
    };
    let (xmin, xmax) = (xs[0], xs[xs.len() - 1]);
    let to_x = |v: f64| {
        if xmax > xmin {
            left + (v - xmin) / (xmax - xmin) * (right - left)
        } else {
            (left + right) / 2.0
        }
    };
    ctx.set_font(&format!("400 {SMALL_PX}px {FONT}"));
    ctx.set_line_width(1.0);
    ctx.set_text_align("right");
    let ticks: Vec<f64> = if log {
        (lo as i32..=hi as i32).map(|e| 10f64.powi(e)).collect()
    } else {
        (0..=4).map(|k| hi * f64::from(k) / 4.0).collect()
    };
    for v in ticks {
        let y = to_y(v);
        ctx.set_stroke_style_str(LINK);
        ctx.begin_path();
        ctx.move_to(left, y);
        ctx.line_to(right, y);
        ctx.stroke();
        ctx.set_fill_style_str(MUTED);
        let _ = ctx.fill_text(&label(v), left - 4.0, y);
    }
    // x labels: every value when they fit, otherwise evenly thinned.
    ctx.set_text_align("center");
    let every = (xs.len() as f64 / ((right - left) / 36.0).max(1.0))
        .ceil()
        .max(1.0) as usize;
    for (i, x) in xs.iter().enumerate() {
        if i % every == 0 || i == xs.len() - 1 {
            let _ = ctx.fill_text(&label(*x), to_x(*x), bottom + 10.0);
        }
    }
    ctx.set_fill_style_str(FAINT);
    let _ = ctx.fill_text_with_max_width(x_name, x0 + w / 2.0, bottom + 27.0, w - 8.0);
    // Lines, then the legend along the top right when there is more than one.
    for ln in lines {
        ctx.set_stroke_style_str(ln.colour);
        ctx.set_fill_style_str(ln.colour);
        ctx.set_line_width(if ln.dashed { 2.0 } else { 2.5 });
        let dash = js_sys::Array::new();
        if ln.dashed {
            dash.push(&6.0.into());
            dash.push(&4.0.into());
        }
        let _ = ctx.set_line_dash(&dash);
        ctx.begin_path();
        let mut pen_down = false;
        for (x, y) in xs.iter().zip(&ln.ys) {
            match y {
                Some(y) => {
                    let (px, py) = (to_x(*x), to_y(*y));
                    if pen_down {
                        ctx.line_to(px, py);
                    } else {
                        ctx.move_to(px, py);
                    }
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        ctx.stroke();
        let _ = ctx.set_line_dash(&js_sys::Array::new());
        for (x, y) in xs.iter().zip(&ln.ys) {
            if let (Some(y), false) = (y, ln.dashed) {
                ctx.begin_path();
                let _ = ctx.arc(to_x(*x), to_y(*y), 3.0, 0.0, std::f64::consts::TAU);
                ctx.fill();
            }
        }
    }
    if lines.len() > 1 {
        ctx.set_font(&format!("400 {SMALL_PX}px {FONT}"));
        ctx.set_text_align("left");
        let mut y = top + 8.0;
        let x = right + 8.0;
        for ln in lines.iter().filter(|ln| ln.ys.iter().any(Option::is_some)) {
            let text = t(l, ln.key);
            ctx.set_stroke_style_str(ln.colour);
            ctx.set_line_width(2.5);
            let dash = js_sys::Array::new();
            if ln.dashed {
                dash.push(&5.0.into());
                dash.push(&3.0.into());
            }
            let _ = ctx.set_line_dash(&dash);
            ctx.begin_path();
            ctx.move_to(x, y);
            ctx.line_to(x + 22.0, y);
            ctx.stroke();
            let _ = ctx.set_line_dash(&js_sys::Array::new());
            ctx.set_fill_style_str(INK);
            let _ = ctx.fill_text(text, x + 26.0, y);
            y += 18.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_defaults_follow_the_parameter() {
        let json = include_str!("../scenarios/ui/theory-lab.json");
        let s = Scenario::from_json(json).unwrap();
        let c = Param::candidates(&s);
        assert_eq!(form_for(0, &c, &s).to, "8");
        assert_eq!(
            (form_for(1, &c, &s).from, form_for(1, &c, &s).to),
            ("1".into(), "100".into())
        );
        // The producer's 8/s: 4 to 12 in steps of 2.
        let rate = form_for(2, &c, &s);
        assert_eq!(
            (rate.from.as_str(), rate.to.as_str(), rate.step.as_str()),
            ("4", "12", "2")
        );
    }

    #[test]
    fn sweep_axis_tops_are_round() {
        assert_eq!(nice_top(7.9), 10.0);
        assert_eq!(nice_top(8.2), 10.0);
        assert_eq!(nice_top(120.0), 200.0);
        assert_eq!(nice_top(0.0), 1.0);
        assert_eq!(label(2500.0), "2.5k");
    }
}
