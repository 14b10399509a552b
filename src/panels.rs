//! The panels around the canvas: header, clock, counters, ledger and legend (the play
//! controls are in `controls.rs`).
//! Each takes small `PartialEq` props, so it re-renders only when its own figures change.

use crate::i18n::{t, Key, Lang};
use crate::kinds;
use crate::lab::{use_frame_model, use_lab};
use crate::model::{format_clock, format_count, LedgerModel};
use crate::trace::{dead_letter_reason_key, drop_reason_key};
use broker_sim::SimTime;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    pub lang: Lang,
    pub title: AttrValue,
    pub description: AttrValue,
    pub on_toggle_lang: Callback<()>,
}

#[function_component(Header)]
pub fn header(props: &HeaderProps) -> Html {
    html! {
        <header class="topbar">
            <div class="brand">
                <span class="brand-mark" aria-hidden="true"></span>
                { t(props.lang, Key::AppName) }
            </div>
            <div class="scenario">
                <h1 class="scenario-title" data-testid="scenario-title">{ props.title.clone() }</h1>
                if !props.description.is_empty() {
                    <p class="scenario-description" title={props.description.clone()}>
                        { props.description.clone() }
                    </p>
                }
            </div>
            { lang_toggle(props.lang, "lang", &props.on_toggle_lang) }
        </header>
    }
}

/// The 한국어 / English switch, with the current language marked.
pub fn lang_toggle(lang: Lang, testid: &'static str, on_toggle: &Callback<()>) -> Html {
    let (ko, en) = match lang {
        Lang::Ko => ("active", ""),
        Lang::En => ("", "active"),
    };
    html! {
        <button type="button" class="lang-toggle" data-testid={testid}
            onclick={on_toggle.reform(|_: MouseEvent| ())}
            aria-label={t(lang, Key::LanguageToggle)} title={t(lang, Key::LanguageToggle)}>
            <span class={ko} lang="ko">{ "한국어" }</span>
            <span class="sep">{ " / " }</span>
            <span class={en} lang="en">{ "English" }</span>
        </button>
    }
}

#[derive(Properties, PartialEq)]
pub struct ClockProps {
    pub lang: Lang,
    pub time: SimTime,
}

#[function_component(Clock)]
pub fn clock(props: &ClockProps) -> Html {
    html! {
        <div class="clock">
            <span class="clock-label">{ t(props.lang, Key::SimClock) }</span>
            <span class="clock-value" data-testid="clock">{ format_clock(props.time) }</span>
        </div>
    }
}

/// The header cards: published, then the figures of each family on stage (`kinds/`).
#[function_component(CounterCards)]
pub fn counter_cards() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let cards = use_frame_model((), |d, snap, _| kinds::cards(d, snap));
    // Two families on stage: two rows of compact cards (style.css).
    let class = classes!("counters", (cards.len() > 4).then_some("compact"));
    html! {
        <div {class}>
            { for cards.iter().map(|c| html! {
                <div class={classes!("counter", c.class)} title={t(l, c.hint)}>
                    <span class="counter-label">{ t(l, c.label) }</span>
                    <span class="counter-value" data-testid={c.id}>{ format_count(c.value) }</span>
                </div>
            }) }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct LedgerProps {
    pub lang: Lang,
    pub ledger: LedgerModel,
}

/// The ledger states in the order a message lives through them; the flag hides a state while
/// it is zero (the event-log states mean nothing in a queue scenario).
const LEDGER_TERMS: [(&str, Key, bool); 12] = [
    ("in_flight", Key::StateInFlight, false),
    ("ready", Key::StateReady, false),
    ("unacked", Key::StateUnacked, false),
    ("processing", Key::StateProcessing, false),
    ("piped", Key::StatePiped, true),
    ("retained", Key::StateRetained, true),
    ("acked", Key::StateAcked, false),
    ("removed_by_retention", Key::StateRemovedByRetention, true),
    ("removed_by_compaction", Key::StateRemovedByCompaction, true),
    ("dead_lettered", Key::StateDeadLettered, false),
    ("expired", Key::StateExpired, false),
    ("dropped", Key::StateDropped, false),
];

/// "reason n · reason n" for the dropped and dead-lettered states, largest first.
fn reasons_text(l: Lang, m: &LedgerModel, state: &str) -> Option<String> {
    let mut items: Vec<(&str, u64)> = match state {
        "dropped" => m
            .dropped_by
            .iter()
            .map(|(r, n)| (t(l, drop_reason_key(*r)), *n))
            .collect(),
        "dead_lettered" => m
            .dead_lettered_by
            .iter()
            .map(|(r, n)| (t(l, dead_letter_reason_key(*r)), *n))
            .collect(),
        _ => return None,
    };
    items.retain(|(_, n)| *n > 0);
    items.sort_by_key(|item| std::cmp::Reverse(item.1));
    (!items.is_empty()).then(|| {
        items
            .iter()
            .map(|(r, n)| format!("{r} {}", format_count(*n)))
            .collect::<Vec<_>>()
            .join(" · ")
    })
}

#[function_component(LedgerLine)]
pub fn ledger_line(props: &LedgerProps) -> Html {
    let l = props.lang;
    let m = &props.ledger;
    // Losses by reason: in each term's tooltip, and inline once expanded.
    let expanded = use_state(|| false);
    // Known states in order, then any state this build has no name for, as the core calls it.
    let mut shown: Vec<(String, String, u64)> = LEDGER_TERMS
        .iter()
        .filter(|(name, _, optional)| !(*optional && m.state(name) == 0))
        .map(|(name, key, _)| (name.to_string(), t(l, *key).to_string(), m.state(name)))
        .collect();
    for (name, &n) in &m.states {
        if !LEDGER_TERMS.iter().any(|(known, _, _)| known == name) {
            shown.push((name.clone(), name.replace('_', " "), n));
        }
    }
    let terms = shown.into_iter().enumerate().map(|(i, (name, label, n))| {
        let class = if n == 0 { "term zero" } else { "term" };
        let term = match reasons_text(l, m, &name) {
            Some(reasons) => {
                let onclick = {
                    let expanded = expanded.clone();
                    Callback::from(move |_: MouseEvent| expanded.set(!*expanded))
                };
                html! {
                    <>
                        <button type="button" class={classes!(class, "has-reasons")} data-state={name.clone()}
                            title={format!("{} — {reasons}", t(l, Key::LedgerReasonsShow))}
                            aria-expanded={expanded.to_string()} {onclick}>
                            { label }{ " " }<b>{ format_count(n) }</b>
                            <span class="caret" aria-hidden="true">{ if *expanded { " ▾" } else { " ▸" } }</span>
                        </button>
                        if *expanded {
                            <span class="reasons" data-reasons={name}>{ "(" }{ reasons }{ ")" }</span>
                        }
                    </>
                }
            }
            None => html! {
                <span class={class} data-state={name}>
                    { label }{ " " }<b>{ format_count(n) }</b>
                </span>
            },
        };
        html! {
            <>
                if i > 0 { <span class="op">{ "+" }</span> }
                { term }
            </>
        }
    });
    let verdict = if m.balanced {
        html! { <span class="verdict ok">{ "✓ " }{ t(l, Key::Balanced) }</span> }
    } else {
        html! { <span class="verdict bad">{ "✗ " }{ t(l, Key::Unbalanced) }</span> }
    };
    html! {
        <div class="ledger" data-testid="ledger" data-ledger={m.to_json()}
            data-balanced={m.balanced.to_string()} title={t(l, Key::LedgerHint)}>
            <span class="ledger-title">{ t(l, Key::Ledger) }</span>
            <span class="term created">{ t(l, Key::LedgerCreated) }{ " " }<b>{ format_count(m.created) }</b></span>
            <span class="op">{ "=" }</span>
            { for terms }
            { verdict }
        </div>
    }
}

/// What the drawing's marks mean, for the families on stage.
#[function_component(Legend)]
pub fn legend() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let items = use_frame_model((), |_, snap, _| kinds::legend(snap, &snap.graph.families()));
    html! {
        <ul class="legend" data-testid="legend" aria-label={t(l, Key::Legend)}>
            { for items.iter().map(|item| html! {
                <li>
                    <span class={item.swatch}>
                        if let Some((class, text)) = item.inner {
                            <span class={class}>{ text }</span>
                        }
                    </span>
                    <span>{ t(l, item.key) }</span>
                </li>
            }) }
        </ul>
    }
}
