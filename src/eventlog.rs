//! The event log: a virtualised list of the driver's recent events (up to 100,000). Only the
//! rows in view are in the DOM; it follows the newest events while scrolled to the bottom, can
//! be filtered by message id or text, and a message id starts a trace.

use crate::hooks::{use_interval, use_render_count};
use crate::i18n::{t, Key};
use crate::lab::{use_frame_model, use_lab};
use crate::model::{format_clock, format_count};
use crate::trace::{parse_msg_id, Names, StepKind};
use broker_sim::{Event, MessageId};
use std::collections::VecDeque;
use std::fmt::Write;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// How often the log looks at the driver's ring.
const LOG_POLL_MS: i32 = 250;
/// Rows rendered above and below the visible ones, so a fast scroll shows no gap.
const OVERSCAN: usize = 8;
/// Used until the real row height is measured.
const FALLBACK_ROW_PX: f64 = 28.0;

/// What the filter box asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Filter {
    #[default]
    All,
    /// `m42`: exactly this message's events (not m420's).
    Message(MessageId),
    /// Case-insensitive text in the event's trace line; stored lowercase.
    Text(String),
}

impl Filter {
    pub fn parse(query: &str) -> Filter {
        let q = query.trim();
        if q.is_empty() {
            Filter::All
        } else if q.starts_with(['m', 'M']) && parse_msg_id(q).is_some() {
            parse_msg_id(q).map_or(Filter::All, Filter::Message)
        } else {
            Filter::Text(q.to_lowercase())
        }
    }

    /// `buf` is reused between calls, so a text filter allocates once per scan.
    fn matches(&self, e: &Event, buf: &mut String) -> bool {
        match self {
            Filter::All => true,
            Filter::Message(m) => e.kind.message() == Some(*m),
            Filter::Text(text) => {
                buf.clear();
                let _ = write!(buf, "{e}");
                buf.make_ascii_lowercase();
                buf.contains(text.as_str())
            }
        }
    }
}

/// Gives the events of the driver's ring stable absolute positions, and keeps the positions
/// that match the filter. Both update incrementally: each sync looks only at new events, so a
/// text filter formats each event once, not the whole ring every time.
#[derive(Default)]
pub struct LogIndex {
    /// Absolute position of the ring's first event.
    base: u64,
    /// Ring length and newest event at the last sync.
    len: usize,
    last: Option<Event>,
    filter: Filter,
    /// Absolute positions of matching events, when a filter is set.
    matches: VecDeque<u64>,
}

impl LogIndex {
    /// Catches up with the ring; returns whether anything changed.
    pub fn sync(&mut self, ring: &VecDeque<Event>) -> bool {
        if ring.len() == self.len && ring.back() == self.last.as_ref() {
            return false;
        }
        let first_new = match (&self.last, ring.front()) {
            (Some(last), Some(front)) => {
                let last_abs = self.base + self.len as u64 - 1;
                if let Some(p) = find_last(ring, last) {
                    // The ring dropped events at the front: the old newest is now at `p`.
                    self.base = last_abs - p as u64;
                    p + 1
                } else if front.time >= last.time {
                    // Everything we saw was dropped; how many more is unknown, so positions
                    // continue from the last known one.
                    self.base = last_abs + 1;
                    0
                } else {
                    // Older events we never saw: the run was reset, reloaded or sought.
                    self.base = 0;
                    self.matches.clear();
                    0
                }
            }
            _ => {
                self.base = 0;
                self.matches.clear();
                0
            }
        };
        let base = self.base;
        while self.matches.front().is_some_and(|&a| a < base) {
            self.matches.pop_front();
        }
        self.scan(ring, first_new);
        self.len = ring.len();
        self.last = ring.back().cloned();
        true
    }

    /// Applies a new filter to the whole ring (call after [`sync`](Self::sync)).
    pub fn set_filter(&mut self, query: &str, ring: &VecDeque<Event>) -> bool {
        let filter = Filter::parse(query);
        if filter == self.filter {
            return false;
        }
        self.filter = filter;
        self.matches.clear();
        self.scan(ring, 0);
        true
    }

    fn scan(&mut self, ring: &VecDeque<Event>, from: usize) {
        if self.filter == Filter::All {
            return;
        }
        let mut buf = String::new();
        for (i, e) in ring.iter().enumerate().skip(from) {
            if self.filter.matches(e, &mut buf) {
                self.matches.push_back(self.base + i as u64);
            }
        }
    }

    pub fn filtering(&self) -> bool {
        self.filter != Filter::All
    }

    /// Rows in the list: matching events, or every kept event.
    pub fn rows(&self) -> usize {
        if self.filtering() {
            self.matches.len()
        } else {
            self.len
        }
    }

    /// Every kept event.
    pub fn kept(&self) -> usize {
        self.len
    }

    /// The absolute position shown in `row`.
    pub fn abs_at(&self, row: usize) -> Option<u64> {
        if self.filtering() {
            self.matches.get(row).copied()
        } else {
            (row < self.len).then(|| self.base + row as u64)
        }
    }

    /// The ring index of an absolute position still kept.
    pub fn ring_index(&self, abs: u64) -> Option<usize> {
        let i = abs.checked_sub(self.base)? as usize;
        (i < self.len).then_some(i)
    }

    /// The row showing `abs`, or the row after where it was if it is gone.
    pub fn row_of(&self, abs: u64) -> usize {
        if self.filtering() {
            self.matches.partition_point(|&a| a < abs)
        } else {
            abs.saturating_sub(self.base).min(self.len as u64) as usize
        }
    }
}

/// Where `last` is in the ring, searching back from the newest; events are in time order, so
/// the search stops at the first older event.
fn find_last(ring: &VecDeque<Event>, last: &Event) -> Option<usize> {
    for (i, e) in ring.iter().enumerate().rev() {
        if e.time < last.time {
            break;
        }
        if e == last {
            return Some(i);
        }
    }
    None
}

/// The list's geometry, as last measured.
#[derive(Clone, Copy, Debug, PartialEq)]
struct View {
    scroll_top: f64,
    height: f64,
    row_h: f64,
}

impl Default for View {
    fn default() -> Self {
        View {
            scroll_top: 0.0,
            height: 0.0,
            row_h: FALLBACK_ROW_PX,
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct EventLogProps {
    pub filter: AttrValue,
    pub on_filter: Callback<String>,
}

#[function_component(EventLog)]
pub fn event_log(props: &EventLogProps) -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let names = use_frame_model(l, |_, snap, l| Names::from_snapshot(snap, *l));
    let renders = use_render_count();
    let index = use_mut_ref(LogIndex::default);
    let view = use_state_eq(View::default);
    // Follows the newest events until the user scrolls up.
    let follow = use_mut_ref(|| true);
    // Where the list must be scrolled after this render (following, or keeping the top row
    // in place while old events drop out of the ring).
    let want_scroll = use_mut_ref(|| 0.0_f64);
    // The list's scroll position as last set by us or reported by a scroll event.
    let seen = use_mut_ref(|| 0.0_f64);
    let scroller = use_node_ref();
    let probe = use_node_ref();
    let refresh = use_force_update();

    let measure = {
        let (scroller, probe, view) = (scroller.clone(), probe.clone(), view.clone());
        move || {
            let Some(el) = scroller.cast::<web_sys::Element>() else {
                return;
            };
            let row_h = probe
                .cast::<web_sys::Element>()
                .map(|p| p.get_bounding_client_rect().height())
                .filter(|h| *h >= 8.0)
                .unwrap_or(FALLBACK_ROW_PX);
            // The scroll position is only taken from scroll events, which also decide
            // whether to follow; reading it here could undo a scroll whose event is pending.
            view.set(View {
                height: f64::from(el.client_height()),
                row_h,
                ..*view
            });
        }
    };
    {
        let measure = measure.clone();
        use_effect_with((), move |_| measure());
    }
    {
        let (driver, index, measure) = (lab.driver.clone(), index.clone(), measure.clone());
        use_interval(LOG_POLL_MS, move || {
            let changed = driver
                .try_borrow()
                .is_ok_and(|d| index.borrow_mut().sync(d.events()));
            measure();
            if changed {
                refresh.force_update();
            }
        });
    }
    {
        let (scroller, want_scroll, seen) = (scroller.clone(), want_scroll.clone(), seen.clone());
        use_effect(move || {
            if let Some(el) = scroller.cast::<web_sys::Element>() {
                let now = f64::from(el.scroll_top());
                let max = f64::from(el.scroll_height() - el.client_height());
                // Moved since we last saw it, and not by the list shrinking under it: the user
                // scrolled, and the scroll event, still to come, decides what happens next.
                if (now - *seen.borrow()).abs() >= 1.0 && now < max - 1.0 {
                    return;
                }
                let want = *want_scroll.borrow();
                if (now - want).abs() >= 1.0 {
                    el.set_scroll_top(want.round() as i32);
                    *seen.borrow_mut() = f64::from(el.scroll_top());
                }
            }
        });
    }

    let v = *view;
    let row_h = v.row_h.max(1.0);
    let (rows_html, rows, kept) = {
        let Ok(d) = lab.driver.try_borrow() else {
            return html! { <div class="eventlog" data-testid="eventlog"></div> };
        };
        let ring = d.events();
        let mut ix = index.borrow_mut();
        // The event at the top of the view, to keep it there when older events drop out.
        let anchor = ix.abs_at((v.scroll_top / row_h) as usize);
        let offset = v.scroll_top % row_h;
        ix.sync(ring);
        let refiltered = ix.set_filter(&props.filter, ring);
        let rows = ix.rows();
        let max_top = (rows as f64 * row_h - v.height).max(0.0);
        let top = if *follow.borrow() {
            max_top
        } else if refiltered {
            0.0
        } else if let Some(a) = anchor {
            (ix.row_of(a) as f64 * row_h + offset).min(max_top)
        } else {
            v.scroll_top.min(max_top)
        };
        *want_scroll.borrow_mut() = top;
        let first = ((top / row_h) as usize).saturating_sub(OVERSCAN);
        let last = (((top + v.height) / row_h).ceil() as usize + OVERSCAN).min(rows);
        let html = (first..last)
            .filter_map(|row| {
                let abs = ix.abs_at(row)?;
                let e = ring.get(ix.ring_index(abs)?)?;
                Some(log_row(e, abs, l, &names))
            })
            .collect::<Html>();
        let shift = first as f64 * row_h;
        (
            html! {
                <div class="log-window" style={format!("transform: translateY({shift}px)")}>
                    { html }
                </div>
            },
            rows,
            ix.kept(),
        )
    };

    let onscroll = {
        let (follow, view) = (follow.clone(), view.clone());
        Callback::from(move |e: web_sys::Event| {
            let Some(el) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            else {
                return;
            };
            let (top, height) = (f64::from(el.scroll_top()), f64::from(el.client_height()));
            // The echo of our own `set_scroll_top`: the list may have grown since, so it says
            // nothing about where the user wants to be.
            let ours = (top - *seen.borrow()).abs() < 1.0;
            *seen.borrow_mut() = top;
            if !ours {
                let at_bottom = top + height >= f64::from(el.scroll_height()) - view.row_h / 2.0;
                *follow.borrow_mut() = at_bottom;
            }
            view.set(View {
                scroll_top: top,
                height,
                ..*view
            });
        })
    };
    // One listener for every row: the row names its message.
    let onclick = {
        let on_trace = lab.trace.on_trace.clone();
        Callback::from(move |e: MouseEvent| {
            let msg = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest(".log-row").ok().flatten())
                .and_then(|row| row.get_attribute("data-msg"))
                .and_then(|m| parse_msg_id(&m));
            if let Some(msg) = msg {
                on_trace.emit(msg);
            }
        })
    };
    let oninput = {
        let on_filter = props.on_filter.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                on_filter.emit(input.value());
            }
        })
    };
    let jump = {
        let (follow, scroller) = (follow.clone(), scroller.clone());
        Callback::from(move |_: MouseEvent| {
            *follow.borrow_mut() = true;
            if let Some(el) = scroller.cast::<web_sys::Element>() {
                el.set_scroll_top(el.scroll_height());
            }
        })
    };
    let following = *follow.borrow();
    // "{n} events" puts the count where each language wants it.
    let (before, after) = t(l, Key::ElogEvents).split_once("{n}").unwrap_or(("", ""));
    let filtering = !props.filter.trim().is_empty();
    let empty = if rows > 0 {
        html! {}
    } else if filtering && kept > 0 {
        html! { <p class="dock-empty log-empty">{ t(l, Key::ElogNoMatch) }</p> }
    } else {
        html! { <p class="dock-empty log-empty">{ t(l, Key::ElogEmpty) }</p> }
    };

    html! {
        <div class="eventlog" data-testid="eventlog" data-renders={renders.to_string()}
            data-kept={kept.to_string()} data-rows={rows.to_string()}>
            <div class="dock-toolbar">
                <label class="log-filter">
                    <span class="sr-only">{ t(l, Key::ElogFilter) }</span>
                    <input type="search" data-testid="eventlog-filter" spellcheck="false"
                        autocomplete="off" placeholder={t(l, Key::ElogFilter)}
                        value={props.filter.clone()} {oninput} />
                </label>
                <span class="log-count" data-testid="eventlog-count" title={t(l, Key::ElogWindow)}>
                    { before }
                    if filtering {
                        <b>{ format_count(rows as u64) }</b>{ " / " }
                    }
                    <b>{ format_count(kept as u64) }</b>{ after }
                </span>
                <span class="log-hint">{ t(l, Key::ElogTraceHint) }</span>
                if following {
                    <span class="log-follow" data-testid="eventlog-following">{ "● " }{ t(l, Key::ElogFollowing) }</span>
                } else {
                    <button type="button" class="dock-button" data-testid="eventlog-jump"
                        onclick={jump}>{ t(l, Key::ElogJump) }</button>
                }
            </div>
            <div class="log-scroller" ref={scroller} {onscroll} {onclick} role="log"
                aria-label={t(l, Key::TabEventLog)} tabindex="0">
                <div class="log-spacer" style={format!("height: {}px", rows as f64 * row_h)}>
                    { rows_html }
                </div>
                { empty }
            </div>
            <div class="log-row log-probe" ref={probe} aria-hidden="true"></div>
        </div>
    }
}

/// A row reads in the UI language with entity names ("payments → worker-a"); its tooltip is
/// the core's trace line with ids, which the text filter searches.
fn log_row(e: &Event, abs: u64, l: crate::i18n::Lang, names: &Names) -> Html {
    let kind = StepKind::of(&e.kind);
    let line = e.to_string();
    // The trace line without its time, which has its own column.
    let trace = line.split_once(' ').map_or(line.as_str(), |(_, r)| r);
    let detail = names.detail(&e.kind, l);
    let msg = e.kind.message();
    let body = match msg.map(|m| m.to_string()) {
        // The message id is a button (keyboard reachable); the row's click handler traces it.
        Some(id) => html! {
            <>
                <button type="button" class="msg-link" title={t(l, Key::ElogTraceHint)}>{ id }</button>
                { " " }{ detail }
            </>
        },
        None => html! { { detail } },
    };
    html! {
        <div key={abs} class={classes!("log-row", msg.is_some().then_some("has-msg"))}
            data-msg={msg.map(|m| m.to_string())} title={trace.to_string()}>
            <span class="log-time">{ format_clock(e.time) }</span>
            <span class={classes!("ev-badge", kind.tone())}>{ t(l, kind.key()) }</span>
            <span class="log-text">{ body }</span>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::Driver;
    use broker_sim::{EventKind, QueueId, SimTime};

    fn ev(t: u64, msg: u64) -> Event {
        Event {
            time: SimTime(t),
            kind: EventKind::Enqueued {
                msg: MessageId(msg),
                queue: QueueId(0),
            },
        }
    }

    #[test]
    fn the_count_label_has_its_placeholder() {
        for lang in [crate::i18n::Lang::Ko, crate::i18n::Lang::En] {
            assert!(t(lang, Key::ElogEvents).contains("{n}"), "{lang:?}");
        }
    }

    #[test]
    fn filter_parses_ids_and_text() {
        assert_eq!(Filter::parse(""), Filter::All);
        assert_eq!(Filter::parse(" m42 "), Filter::Message(MessageId(42)));
        assert_eq!(Filter::parse("Deliver"), Filter::Text("deliver".into()));
        assert_eq!(Filter::parse("42"), Filter::Text("42".into()));
        assert_eq!(Filter::parse("m4x"), Filter::Text("m4x".into()));
    }

    #[test]
    fn positions_stay_stable_while_the_ring_drops_old_events() {
        let mut ring: VecDeque<Event> = (0..10).map(|i| ev(i, i)).collect();
        let mut ix = LogIndex::default();
        assert!(ix.sync(&ring));
        assert!(!ix.sync(&ring), "no change, no work");
        assert_eq!((ix.rows(), ix.abs_at(0)), (10, Some(0)));
        // Five new events arrive and five old ones drop out (a ring of ten).
        for i in 10..15 {
            ring.push_back(ev(i, i));
            ring.pop_front();
        }
        assert!(ix.sync(&ring));
        assert_eq!(ix.abs_at(0), Some(5));
        assert_eq!(ix.ring_index(12), Some(7));
        assert_eq!(ring[7].kind.message(), Some(MessageId(12)));
        assert_eq!(ix.row_of(3), 0, "a dropped event maps to the first row");
    }

    #[test]
    fn message_filter_is_exact_and_incremental() {
        let mut ring: VecDeque<Event> = (0..50).map(|i| ev(i, i % 5)).collect();
        let mut ix = LogIndex::default();
        ix.sync(&ring);
        ix.set_filter("m4", &ring);
        assert_eq!(ix.rows(), 10);
        ring.push_back(ev(50, 4));
        ring.push_back(ev(51, 40));
        ring.pop_front();
        ring.pop_front();
        ix.sync(&ring);
        assert_eq!(ix.rows(), 11, "m40 does not match m4");
        let abs = ix.abs_at(ix.rows() - 1).unwrap();
        let e = &ring[ix.ring_index(abs).unwrap()];
        assert_eq!(
            (e.time, e.kind.message()),
            (SimTime(50), Some(MessageId(4)))
        );
        ix.set_filter("", &ring);
        assert_eq!(ix.rows(), 50);
    }

    #[test]
    fn text_filter_and_reset() {
        let mut d = Driver::with_default_scenario();
        d.run_to(SimTime::from_secs(20));
        let mut ix = LogIndex::default();
        ix.sync(d.events());
        ix.set_filter("DELIVER", d.events());
        assert!(ix.rows() > 10);
        for row in 0..ix.rows() {
            let e = &d.events()[ix.ring_index(ix.abs_at(row).unwrap()).unwrap()];
            assert!(e.to_string().contains("deliver"), "{e}");
        }
        d.reset(1);
        d.run_to(SimTime::from_secs(1));
        assert!(ix.sync(d.events()));
        assert_eq!(
            ix.ring_index(0),
            Some(0),
            "positions start again at the reset"
        );
        let first = ix.abs_at(0).and_then(|a| ix.ring_index(a)).unwrap();
        assert!(d.events()[first].to_string().contains("deliver"));
        assert!(ix.rows() < d.events().len());
    }

    #[test]
    fn a_jump_past_the_whole_ring_starts_after_the_last_known() {
        let mut ring: VecDeque<Event> = (0..4).map(|i| ev(i, i)).collect();
        let mut ix = LogIndex::default();
        ix.sync(&ring);
        ring = (100..104).map(|i| ev(i, i)).collect();
        ix.sync(&ring);
        assert_eq!(ix.abs_at(0), Some(4));
        assert_eq!(ix.rows(), 4);
    }
}
