//! Time-series charts on small canvases: backlog (queue depth, group lag), throughput in vs
//! out, and latency p50 / p99. They are drawn straight to the canvas a few times per second,
//! and only when the series changed; yew never re-renders them. After a fork the other
//! branch's series are overlaid dashed from the fork point ("what if ...?").

use crate::hooks::{use_interval, use_render_count};
use crate::i18n::{t, Key, Lang};
use crate::lab::use_lab;
use broker_sim::snapshot::Charts;
use std::rc::Rc;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

/// How often the charts look for new points.
const CHART_POLL_MS: i32 = 333;
/// Lines per chart at most; more would not be told apart.
const MAX_LINES: usize = 6;
/// Okabe–Ito colours: distinct for colour-blind viewers and dark enough on white.
const PALETTE: [&str; MAX_LINES] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#b8860b", "#4b5563",
];
/// Throughput and latency are averaged over this much simulated time.
const SMOOTH_US: u64 = 1_000_000;
const FONT: &str = "system-ui, \"Noto Sans KR\", \"Malgun Gothic\", sans-serif";

#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub label: String,
    pub color: &'static str,
    /// (time µs, value).
    pub points: Vec<(u64, f64)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChartData {
    /// Title with its unit.
    pub title: String,
    pub lines: Vec<Line>,
}

impl ChartData {
    pub fn point_count(&self) -> usize {
        self.lines.iter().map(|l| l.points.len()).sum()
    }

    /// The time of the newest point.
    pub fn t_end(&self) -> u64 {
        self.lines
            .iter()
            .filter_map(|l| l.points.last().map(|p| p.0))
            .max()
            .unwrap_or(0)
    }
}

/// The three charts from the core's series.
pub fn chart_data(c: &Charts, lang: Lang) -> [ChartData; 3] {
    let backlog_title = match (c.queue_depth.is_empty(), c.group_lag.is_empty()) {
        (false, true) => Key::ChartDepth,
        (true, false) => Key::ChartLag,
        _ => Key::ChartBacklog,
    };
    let lag_suffix = t(lang, Key::ChartLagSuffix);
    let backlog = c
        .queue_depth
        .iter()
        .map(|(name, pts)| (name.clone(), pts))
        .chain(
            c.group_lag
                .iter()
                .map(|(name, pts)| (format!("{name} {lag_suffix}"), pts)),
        )
        .take(MAX_LINES)
        .enumerate()
        .map(|(i, (label, pts))| Line {
            label,
            color: PALETTE[i],
            points: pts.clone(),
        })
        .collect();
    [
        ChartData {
            title: t(lang, backlog_title).to_string(),
            lines: backlog,
        },
        ChartData {
            title: t(lang, Key::ChartThroughput).to_string(),
            lines: vec![
                Line {
                    label: t(lang, Key::ChartIn).to_string(),
                    color: PALETTE[0],
                    points: smooth(&c.throughput_in),
                },
                Line {
                    label: t(lang, Key::ChartOut).to_string(),
                    color: PALETTE[2],
                    points: smooth(&c.throughput_out),
                },
            ],
        },
        ChartData {
            title: t(lang, Key::ChartLatency).to_string(),
            lines: vec![
                Line {
                    label: "p50".into(),
                    color: PALETTE[0],
                    points: smooth(&c.latency_p50_ms),
                },
                Line {
                    label: "p99".into(),
                    color: PALETTE[1],
                    points: smooth(&c.latency_p99_ms),
                },
            ],
        },
    ]
}

/// A trailing moving average over at least 1 s. The core samples rates and latency
/// percentiles per 100 ms, which at slow rates is a few messages per sample and draws as a
/// comb; averaged, the trend is what shows.
pub fn smooth(points: &[(u64, f64)]) -> Vec<(u64, f64)> {
    let spacing = points
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .max()
        .unwrap_or(0);
    let window = SMOOTH_US.max(2 * spacing);
    let mut out = Vec::with_capacity(points.len());
    let (mut start, mut sum) = (0, 0.0);
    for (i, &(t, v)) in points.iter().enumerate() {
        sum += v;
        while points[start].0 + window <= t {
            sum -= points[start].1;
            start += 1;
        }
        out.push((t, sum / (i + 1 - start) as f64));
    }
    out
}

/// A round step (1, 2, 2.5 or 5 × 10ⁿ) so that `max` spans about `target` steps.
pub fn nice_step(max: f64, target: f64) -> f64 {
    if !max.is_finite() || max <= 0.0 {
        return 1.0;
    }
    let raw = max / target.max(1.0);
    let mag = 10f64.powf(raw.log10().floor());
    let m = raw / mag;
    let nice = if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 2.5 {
        2.5
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// A tick label: `0`, `2.5`, `40`, `1.5k`, `20k`, `3M`.
pub fn format_tick(v: f64) -> String {
    let (v, suffix) = if v.abs() >= 1e6 {
        (v / 1e6, "M")
    } else if v.abs() >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let text = if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    format!("{text}{suffix}")
}

/// The other branch of a fork on a chart: its lines (dashed) and the legend's words for them.
struct Ghost<'a> {
    data: &'a ChartData,
    label: &'static str,
}

/// The other branch's series from the fork point on, with the last point before it so the
/// dashed line starts where the branches part.
pub fn after_fork(data: ChartData, at_us: u64) -> ChartData {
    let lines = data
        .lines
        .into_iter()
        .map(|l| {
            let first = l.points.partition_point(|p| p.0 < at_us).saturating_sub(1);
            Line {
                points: l.points[first..].to_vec(),
                ..l
            }
        })
        .collect();
    ChartData { lines, ..data }
}

/// Draws a chart into `canvas`, matching its backing store to its CSS size. The time axis
/// runs from 0 to `t_end` (µs), the same for every chart so they line up.
/// Strokes one path through `points` in the current style.
fn polyline(ctx: &web_sys::CanvasRenderingContext2d, points: impl Iterator<Item = (f64, f64)>) {
    ctx.begin_path();
    for (i, (x, y)) in points.enumerate() {
        if i == 0 {
            ctx.move_to(x, y);
        } else {
            ctx.line_to(x, y);
        }
    }
    ctx.stroke();
}

fn draw(
    canvas: &HtmlCanvasElement,
    data: &ChartData,
    ghost: Option<Ghost>,
    lang: Lang,
    t_end: u64,
) {
    let Some((ctx, w, h)) = crate::pen::hidpi_context(canvas, 60.0, 60.0) else {
        return;
    };
    ctx.set_fill_style_str("#ffffff");
    ctx.fill_rect(0.0, 0.0, w, h);

    // Title, then a legend that wraps.
    ctx.set_text_baseline("alphabetic");
    ctx.set_text_align("left");
    ctx.set_fill_style_str("#111827");
    let mut px = 16.0;
    loop {
        ctx.set_font(&format!("700 {px}px {FONT}"));
        let tw = ctx.measure_text(&data.title).map_or(0.0, |m| m.width());
        if tw <= w - 12.0 || px <= 12.0 {
            break;
        }
        px -= 1.0;
    }
    let _ = ctx.fill_text(&data.title, 6.0, 17.0);
    ctx.set_font(&format!("600 14px {FONT}"));
    let (mut x, mut y) = (6.0, 37.0);
    for line in &data.lines {
        let tw = ctx.measure_text(&line.label).map_or(40.0, |m| m.width());
        if x > 6.0 && x + 22.0 + tw > w - 4.0 {
            x = 6.0;
            y += 18.0;
        }
        ctx.set_fill_style_str(line.color);
        ctx.fill_rect(x, y - 7.0, 16.0, 4.0);
        ctx.set_fill_style_str("#1f2937");
        let _ = ctx.fill_text(&line.label, x + 20.0, y);
        x += 20.0 + tw + 14.0;
    }
    // The other branch's entry, on a line of its own only where the plot keeps its room.
    let ghost_label = ghost.as_ref().and_then(|g| {
        let tw = ctx.measure_text(g.label).map_or(40.0, |m| m.width());
        if x > 6.0 && x + 22.0 + tw > w - 4.0 {
            if h - 22.0 - (y + 30.0) < 40.0 {
                return None;
            }
            x = 6.0;
            y += 18.0;
        }
        Some(g.label)
    });
    if let Some(label) = ghost_label {
        ctx.set_fill_style_str("#6b7280");
        for dx in [0.0, 6.0, 12.0] {
            ctx.fill_rect(x + dx, y - 7.0, 4.0, 4.0);
        }
        ctx.set_fill_style_str("#1f2937");
        let _ = ctx.fill_text(label, x + 20.0, y);
    }

    let ghost_lines = ghost.as_ref().map_or(&[][..], |g| &g.data.lines[..]);
    let v_max = data
        .lines
        .iter()
        .chain(ghost_lines)
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let plot_top = y + 12.0;
    let plot_bottom = h - 22.0;
    if data.point_count() == 0 || t_end == 0 || plot_bottom - plot_top < 20.0 {
        ctx.set_fill_style_str("#6b7280");
        ctx.set_font(&format!("500 14px {FONT}"));
        ctx.set_text_align("center");
        let _ = ctx.fill_text(
            t(lang, Key::ChartNoData),
            w / 2.0,
            (plot_top + plot_bottom) / 2.0,
        );
        return;
    }
    let step = nice_step(v_max, 3.0);
    let y_max = (v_max / step).ceil().max(1.0) * step;
    ctx.set_font(&format!("500 13px {FONT}"));
    let label_w = (0..=((y_max / step).round() as u32))
        .map(|i| {
            ctx.measure_text(&format_tick(f64::from(i) * step))
                .map_or(20.0, |m| m.width())
        })
        .fold(0.0_f64, f64::max);
    let plot_left = 6.0 + label_w + 6.0;
    let plot_right = w - 8.0;
    let sx = |t: u64| plot_left + (t as f64 / t_end as f64) * (plot_right - plot_left);
    let sy = |v: f64| plot_bottom - (v / y_max).clamp(0.0, 1.0) * (plot_bottom - plot_top);

    // Grid and y labels.
    ctx.set_line_width(1.0);
    ctx.set_text_align("right");
    ctx.set_text_baseline("middle");
    let mut v = 0.0;
    while v <= y_max + step / 2.0 {
        let py = sy(v).round() + 0.5;
        ctx.set_stroke_style_str(if v == 0.0 { "#9ca3af" } else { "#e5e7eb" });
        ctx.begin_path();
        ctx.move_to(plot_left, py);
        ctx.line_to(plot_right, py);
        ctx.stroke();
        ctx.set_fill_style_str("#374151");
        let _ = ctx.fill_text(&format_tick(v), plot_left - 5.0, py);
        v += step;
    }
    // Time axis: simulated seconds.
    let secs = t_end as f64 / 1e6;
    let t_step = nice_step(secs, ((plot_right - plot_left) / 70.0).max(1.0));
    ctx.set_text_align("center");
    ctx.set_text_baseline("top");
    let mut s = 0.0;
    while s <= secs + 1e-9 {
        let px = sx((s * 1e6) as u64);
        let _ = ctx.fill_text(&format!("{} s", format_tick(s)), px, plot_bottom + 5.0);
        s += t_step;
    }

    ctx.set_line_width(2.5);
    ctx.set_line_join("round");
    let plot = |line: &Line| {
        ctx.set_stroke_style_str(line.color);
        polyline(
            &ctx,
            line.points
                .iter()
                .map(|&(t, v)| (sx(t), sy(if v.is_finite() { v } else { 0.0 }))),
        );
    };
    for line in data.lines.iter().filter(|l| !l.points.is_empty()) {
        plot(line);
    }
    // The other branch: thinner, dashed and faded, so the playing branch stays in front.
    ctx.set_line_width(2.0);
    ctx.set_global_alpha(0.7);
    let _ = ctx.set_line_dash(&js_sys::Array::of2(&6.0.into(), &4.0.into()));
    for line in ghost_lines {
        plot(line);
    }
    let _ = ctx.set_line_dash(&js_sys::Array::new());
    ctx.set_global_alpha(1.0);
}

/// The other branch of a fork: where it parts, whether it is the original, its series.
type Other = Option<(u64, bool, Charts)>;

/// What was drawn last, to skip identical redraws.
type Drawn = Option<(Charts, Other, Lang, [(i32, i32); 3])>;

#[function_component(ChartsPanel)]
pub fn charts_panel() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let renders = use_render_count();
    let canvases = [use_node_ref(), use_node_ref(), use_node_ref()];
    let drawn = use_mut_ref(|| None as Drawn);
    let draws = use_mut_ref(|| 0u64);

    let redraw = {
        let driver = lab.driver.clone();
        let canvases = canvases.clone();
        Rc::new(move || {
            let Ok(d) = driver.try_borrow() else {
                return;
            };
            let els: Vec<HtmlCanvasElement> = canvases
                .iter()
                .filter_map(|r| r.cast::<HtmlCanvasElement>())
                .collect();
            let Ok(els) = <[HtmlCanvasElement; 3]>::try_from(els) else {
                return;
            };
            let sizes = els
                .each_ref()
                .map(|c| (c.client_width(), c.client_height()));
            let charts = d.sim().charts();
            let other: Other = d.fork().and_then(|f| {
                let c = d.other_charts()?;
                Some((f.at.micros(), !f.playing_original, c))
            });
            drop(d);
            let mut last = drawn.borrow_mut();
            if last.as_ref().is_some_and(|(c, o, lang, s)| {
                *c == charts && *o == other && *lang == l && *s == sizes
            }) {
                return;
            }
            let data = chart_data(&charts, l);
            let ghosts = other.as_ref().map(|(at, original, c)| {
                let label = t(l, crate::timeline::branch_key(*original));
                (chart_data(c, l).map(|d| after_fork(d, *at)), label)
            });
            let t_end = data
                .iter()
                .chain(ghosts.iter().flat_map(|g| g.0.iter()))
                .map(ChartData::t_end)
                .max()
                .unwrap_or(0);
            let mut n = draws.borrow_mut();
            *n += 1;
            for (i, (el, chart)) in els.iter().zip(&data).enumerate() {
                let ghost = ghosts
                    .as_ref()
                    .map(|(g, label)| Ghost { data: &g[i], label });
                let ghost_points = ghost.as_ref().map_or(0, |g| g.data.point_count());
                draw(el, chart, ghost, l, t_end);
                let _ = el.set_attribute("data-ghost-points", &ghost_points.to_string());
                let _ = el.set_attribute("data-points", &chart.point_count().to_string());
                let _ = el.set_attribute("data-draws", &n.to_string());
                let _ = el.set_attribute("aria-label", &chart.title);
            }
            *last = Some((charts, other, l, sizes));
        })
    };
    {
        let redraw = redraw.clone();
        use_effect_with(l, move |_| redraw());
    }
    use_interval(CHART_POLL_MS, move || redraw());

    let ids = ["chart-backlog", "chart-throughput", "chart-latency"];
    html! {
        <div class="charts" data-renders={renders.to_string()}>
            { for canvases.iter().zip(ids).map(|(r, id)| html! {
                <canvas ref={r.clone()} class="chart" data-testid={id} role="img"></canvas>
            }) }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::Driver;
    use broker_sim::SimTime;

    #[test]
    fn steps_are_round() {
        assert_eq!(nice_step(0.0, 3.0), 1.0);
        assert_eq!(nice_step(10.0, 3.0), 5.0);
        assert_eq!(nice_step(7.0, 3.0), 2.5);
        assert_eq!(nice_step(100.0, 4.0), 25.0);
        assert_eq!(nice_step(9_500.0, 3.0), 5_000.0);
        assert!((nice_step(0.3, 3.0) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn smoothing_averages_over_a_second() {
        // A comb: one message (10/s) every other 100 ms sample reads as 5/s.
        let comb: Vec<(u64, f64)> = (1..=40)
            .map(|i| (i * 100_000, if i % 2 == 0 { 10.0 } else { 0.0 }))
            .collect();
        let s = smooth(&comb);
        assert_eq!(s.len(), comb.len());
        assert!(s[20..].iter().all(|p| (p.1 - 5.0).abs() < 1e-9), "{s:?}");
        assert!(smooth(&[]).is_empty());
    }

    #[test]
    fn the_other_branch_is_overlaid_from_the_fork_point() {
        let mut d = Driver::with_default_scenario();
        d.run_to(SimTime::from_secs(20));
        d.scrub(SimTime::from_secs(8));
        d.apply(
            serde_json::from_str(r#"{"crash_consumer":{"consumer":"worker"}}"#).expect("command"),
        )
        .expect("crash applies");
        let other = d.other_charts().expect("the original runs past the fork");
        let [backlog, ..] = chart_data(&other, Lang::En).map(|c| after_fork(c, 8_000_000));
        let pts = &backlog.lines[0].points;
        assert!(
            pts[0].0 < 8_000_000 && pts[1].0 >= 8_000_000,
            "{:?}",
            &pts[..2]
        );
        assert!(pts.last().expect("points").0 >= 19_000_000);
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(format_tick(0.0), "0");
        assert_eq!(format_tick(2.5), "2.5");
        assert_eq!(format_tick(40.0), "40");
        assert_eq!(format_tick(1_500.0), "1.5k");
        assert_eq!(format_tick(20_000.0), "20k");
        assert_eq!(format_tick(3_000_000.0), "3M");
    }

    #[test]
    fn the_default_scenario_fills_every_chart() {
        let mut d = Driver::with_default_scenario();
        d.run_to(SimTime::from_secs(30));
        let [backlog, through, latency] = chart_data(&d.sim().charts(), Lang::Ko);
        assert_eq!(backlog.title, t(Lang::Ko, Key::ChartDepth));
        assert_eq!(backlog.lines[0].label, "orders");
        for c in [&backlog, &through, &latency] {
            assert!(
                c.point_count() > 10,
                "{} has {} points",
                c.title,
                c.point_count()
            );
        }
    }
}
