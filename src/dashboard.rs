//! The dock under the canvas: tabs for the dashboard (management-UI tables, losses by reason,
//! charts), the event log and the message trace; it collapses to its tab strip.

use crate::charts::ChartsPanel;
use crate::driver::Driver;
use crate::eventlog::EventLog;
use crate::i18n::{t, Key, Lang};
use crate::kinds;
use crate::lab::{use_frame_model, use_lab};
use crate::model::format_count;
use crate::trace::{dead_letter_reason_key, drop_reason_key, TracePanel};
use broker_sim::Snapshot;
use yew::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    Dashboard,
    EventLog,
    Trace,
    Sequence,
    Sweep,
}

impl Tab {
    const ALL: [Tab; 5] = [
        Tab::Dashboard,
        Tab::EventLog,
        Tab::Trace,
        Tab::Sequence,
        Tab::Sweep,
    ];

    fn key(self) -> Key {
        match self {
            Tab::Dashboard => Key::TabDashboard,
            Tab::EventLog => Key::TabEventLog,
            Tab::Trace => Key::TabTrace,
            Tab::Sequence => Key::TabSequence,
            Tab::Sweep => Key::TabSweep,
        }
    }

    /// What the tab shows, for a newcomer (its tooltip).
    fn hint(self) -> Key {
        match self {
            Tab::Dashboard => Key::TabDashboardHint,
            Tab::EventLog => Key::TabEventLogHint,
            Tab::Trace => Key::TabTraceHint,
            Tab::Sequence => Key::TabSequenceHint,
            Tab::Sweep => Key::TabSweepHint,
        }
    }

    fn id(self) -> &'static str {
        match self {
            Tab::Dashboard => "dashboard",
            Tab::EventLog => "eventlog",
            Tab::Trace => "trace",
            Tab::Sequence => "sequence",
            Tab::Sweep => "sweep",
        }
    }
}

/// The dock: collapsed (tab strip only) until a tab is chosen; choosing the open tab again,
/// or the hide button, collapses it.
#[function_component(Dock)]
pub fn dock() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let open = use_state(|| false);
    let tab = use_state(|| Tab::Dashboard);
    // Kept here so the filter survives switching tabs.
    let filter = use_state(String::new);

    // A trace request (from the log or the canvas) opens the trace tab.
    {
        let (open, tab) = (open.clone(), tab.clone());
        use_effect_with(lab.trace.seq, move |&seq| {
            if seq > 0 {
                tab.set(Tab::Trace);
                open.set(true);
            }
        });
    }

    let tabs = Tab::ALL.iter().map(|&which| {
        let selected = *open && *tab == which;
        let onclick = {
            let (open, tab) = (open.clone(), tab.clone());
            Callback::from(move |_: MouseEvent| {
                if *open && *tab == which {
                    open.set(false);
                } else {
                    tab.set(which);
                    open.set(true);
                }
            })
        };
        html! {
            <button type="button" role="tab" class={classes!("dock-tab", selected.then_some("active"))}
                aria-selected={selected.to_string()} aria-controls="dock-body"
                data-testid={format!("tab-{}", which.id())} title={t(l, which.hint())} {onclick}>
                { t(l, which.key()) }
            </button>
        }
    });
    let toggle = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(!*open))
    };
    let on_filter = {
        let filter = filter.clone();
        Callback::from(move |s: String| filter.set(s))
    };
    let (toggle_text, toggle_hint) = if *open {
        ("▾", t(l, Key::DockCollapse))
    } else {
        ("▴", t(l, Key::DockExpand))
    };
    html! {
        <section class={classes!("dock", (*open).then_some("open"))} data-testid="dock"
            data-open={open.to_string()}>
            <div class="dock-tabs" role="tablist">
                { for tabs }
                <button type="button" class="dock-toggle" data-testid="dock-toggle"
                    aria-expanded={open.to_string()} aria-controls="dock-body"
                    title={toggle_hint} aria-label={toggle_hint} onclick={toggle}>
                    { toggle_text }
                </button>
            </div>
            if *open {
                <div class="dock-body" id="dock-body" role="tabpanel">
                    { match *tab {
                        Tab::Dashboard => html! { <DashboardTab /> },
                        Tab::EventLog => html! {
                            <EventLog filter={AttrValue::from((*filter).clone())} {on_filter} />
                        },
                        Tab::Trace => html! { <TracePanel /> },
                        Tab::Sequence => html! { <crate::sequence::SequencePanel /> },
                        Tab::Sweep => html! { <crate::sweep::SweepPanel /> },
                    } }
                </div>
            }
        </section>
    }
}

#[function_component(DashboardTab)]
fn dashboard_tab() -> Html {
    html! {
        <div class="dashboard" data-testid="dashboard">
            <div class="dash-left">
                // Each family's tables, in registry order; a table with no rows draws nothing.
                <div class="dash-tables">
                    { for kinds::KINDS.iter().map(|k| k.tables()) }
                </div>
                <Losses />
            </div>
            <ChartsPanel />
        </div>
    }
}

/// Every way a copy left without being acked, by reason, largest first.
#[derive(Clone, Debug, Default, PartialEq)]
struct LossModel {
    /// (class, reason key, machine name, count).
    items: Vec<(&'static str, Key, String, u64)>,
}

fn loss_model(_: &Driver, s: &Snapshot, _: &()) -> LossModel {
    let ledger = &s.ledger;
    let mut items: Vec<(&'static str, Key, String, u64)> = Vec::new();
    for (r, &n) in &ledger.dropped {
        if n > 0 {
            items.push(("dropped", drop_reason_key(*r), r.to_string(), n));
        }
    }
    for (r, &n) in &ledger.dead_lettered {
        if n > 0 {
            items.push((
                "dead_lettered",
                dead_letter_reason_key(*r),
                r.to_string(),
                n,
            ));
        }
    }
    if ledger.expired > 0 {
        items.push((
            "expired",
            Key::StateExpired,
            "expired".into(),
            ledger.expired,
        ));
    }
    if ledger.removed_by_retention > 0 {
        items.push((
            "removed_by_retention",
            Key::StateRemovedByRetention,
            "removed_by_retention".into(),
            ledger.removed_by_retention,
        ));
    }
    if ledger.removed_by_compaction > 0 {
        items.push((
            "removed_by_compaction",
            Key::StateRemovedByCompaction,
            "removed_by_compaction".into(),
            ledger.removed_by_compaction,
        ));
    }
    items.sort_by_key(|item| std::cmp::Reverse(item.3));
    LossModel { items }
}

#[function_component(Losses)]
fn losses() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let model = use_frame_model((), loss_model);
    let class_label = |class: &str, lang: Lang| match class {
        "dropped" => t(lang, Key::StateDropped),
        "dead_lettered" => t(lang, Key::StateDeadLettered),
        _ => "",
    };
    html! {
        <div class="losses" data-testid="losses">
            <h3 class="dash-heading">{ t(l, Key::DashLossesTitle) }</h3>
            if model.items.is_empty() {
                <p class="losses-none">{ "✓ " }{ t(l, Key::DashLossesNone) }</p>
            } else {
                <ul class="loss-list">
                    { for model.items.iter().map(|(class, key, name, n)| {
                        let prefix = class_label(class, l);
                        html! {
                            <li key={format!("{class}/{name}")} class={classes!("loss", *class)}
                                data-reason={name.clone()} data-kind={*class}>
                                if !prefix.is_empty() {
                                    <span class="loss-kind">{ prefix }</span>
                                }
                                <span class="loss-reason">{ t(l, *key) }</span>
                                <b class="loss-count">{ format_count(*n) }</b>
                            </li>
                        }
                    }) }
                </ul>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losses_list_reasons() {
        let json = include_str!("../scenarios/rules/rmq-07-unroutable.json");
        let scenario = broker_sim::Scenario::from_json(json).unwrap();
        let mut d = Driver::new(&scenario, 1).unwrap();
        d.run_to(broker_sim::SimTime::from_secs(10));
        let snap = d.snapshot();
        let m = loss_model(&d, &snap, &());
        assert!(
            m.items
                .iter()
                .any(|(_, key, name, n)| *key == Key::ReasonUnroutable
                    && name == "unroutable"
                    && *n > 0),
            "{m:?}"
        );
    }
}
