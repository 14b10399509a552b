//! The dock under the canvas: tabs for the dashboard (management-UI tables, losses by reason,
//! charts), the event log and the message trace; it collapses to its tab strip.

use crate::charts::ChartsPanel;
use crate::driver::Driver;
use crate::eventlog::EventLog;
use crate::hooks::use_render_count;
use crate::i18n::{t, Key, Lang};
use crate::lab::{use_frame_model, use_lab};
use crate::model::format_count;
use crate::trace::{dead_letter_reason_key, drop_reason_key, TracePanel};
use broker_sim::scenario::QueueType;
use broker_sim::Snapshot;
use yew::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    Dashboard,
    EventLog,
    Trace,
}

impl Tab {
    const ALL: [Tab; 3] = [Tab::Dashboard, Tab::EventLog, Tab::Trace];

    fn key(self) -> Key {
        match self {
            Tab::Dashboard => Key::TabDashboard,
            Tab::EventLog => Key::TabEventLog,
            Tab::Trace => Key::TabTrace,
        }
    }

    fn id(self) -> &'static str {
        match self {
            Tab::Dashboard => "dashboard",
            Tab::EventLog => "eventlog",
            Tab::Trace => "trace",
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
                data-testid={format!("tab-{}", which.id())} {onclick}>
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
                <div class="dash-tables">
                    <QueueTable />
                    <GroupTable />
                    <ServiceTable />
                </div>
                <Losses />
            </div>
            <ChartsPanel />
        </div>
    }
}

/// A queue's row as the RabbitMQ management UI's queue list shows it (RMQ-34, RMQ-35).
#[derive(Clone, Debug, PartialEq)]
struct QueueRow {
    name: String,
    quorum: bool,
    ready: u64,
    unacked: u64,
    total: u64,
    /// incoming, deliver / get, redelivered, ack: per second over the last 5 s window.
    rates: [f64; 4],
}

fn queue_rows(_: &Driver, s: &Snapshot, _: &()) -> Vec<QueueRow> {
    s.queues
        .iter()
        .map(|q| QueueRow {
            name: q.name.clone(),
            quorum: q.kind == QueueType::Quorum,
            ready: q.ready,
            unacked: q.unacked,
            total: q.total,
            rates: [
                q.rates.publish,
                q.rates.deliver,
                q.rates.redeliver,
                q.rates.ack,
            ],
        })
        .collect()
}

/// A rate as RabbitMQ shows it: blank while zero (RMQ-35), else per second.
pub fn format_rate(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec <= 0.0 {
        String::new()
    } else if per_sec >= 100.0 {
        format!("{}/s", format_count(per_sec.round() as u64))
    } else {
        format!("{per_sec:.1}/s")
    }
}

#[function_component(QueueTable)]
fn queue_table() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let renders = use_render_count();
    let rows = use_frame_model((), queue_rows);
    if rows.is_empty() {
        return html! {};
    }
    let body = rows.iter().map(|r| {
        let rate = |i: usize| html! { <td class="num rate">{ format_rate(r.rates[i]) }</td> };
        html! {
            <tr key={r.name.clone()} data-queue={r.name.clone()}>
                <th scope="row" class="name">
                    <span class="ename" title={r.name.clone()}>{ r.name.clone() }</span>
                    if r.quorum { <span class="qtype">{ "quorum" }</span> }
                </th>
                <td class="num" data-col="ready">{ format_count(r.ready) }</td>
                <td class="num" data-col="unacked">{ format_count(r.unacked) }</td>
                <td class="num" data-col="total">{ format_count(r.total) }</td>
                { rate(0) }{ rate(1) }{ rate(2) }{ rate(3) }
            </tr>
        }
    });
    html! {
        <table class="dash-table" data-testid="queue-table" data-renders={renders.to_string()}>
            <thead>
                <tr class="group-head">
                    <th></th>
                    <th colspan="3">{ t(l, Key::DashMessages) }</th>
                    <th colspan="4" title={t(l, Key::DashRatesHint)}>{ t(l, Key::DashRates) }</th>
                </tr>
                <tr>
                    <th scope="col" class="name">{ t(l, Key::DashQueue) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashReady) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashUnacked) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashTotal) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashRateIncoming) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashRateDeliver) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashRateRedeliver) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashRateAck) }</th>
                </tr>
            </thead>
            <tbody>{ for body }</tbody>
        </table>
    }
}

/// A Kafka consumer group's row: its total lag, and the lag on each partition (KAF-18).
#[derive(Clone, Debug, PartialEq)]
struct GroupRow {
    name: String,
    lag: u64,
    processed: u64,
    duplicates: u64,
    skipped: u64,
    /// (`topic-partition`, lag).
    partitions: Vec<(String, u64)>,
}

fn group_rows(_: &Driver, s: &Snapshot, _: &()) -> Vec<GroupRow> {
    s.groups
        .iter()
        .map(|g| GroupRow {
            name: g.name.clone(),
            lag: g.lag,
            processed: g.processed,
            duplicates: g.duplicates,
            skipped: g.skipped,
            partitions: s
                .topics
                .iter()
                .flat_map(|topic| {
                    topic.partitions.iter().filter_map(move |p| {
                        p.groups
                            .iter()
                            .find(|m| m.group == g.name)
                            .map(|m| (format!("{}-{}", topic.name, p.index), m.lag))
                    })
                })
                .collect(),
        })
        .collect()
}

#[function_component(GroupTable)]
fn group_table() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let renders = use_render_count();
    let rows = use_frame_model((), group_rows);
    if rows.is_empty() {
        return html! {};
    }
    let body = rows.iter().map(|g| {
        let parts = g.partitions.iter().map(|(p, lag)| {
            html! {
                <span class={classes!("part-lag", (*lag == 0).then_some("zero"))}>
                    { p.clone() }{ " " }<b>{ format_count(*lag) }</b>
                </span>
            }
        });
        html! {
            <tr key={g.name.clone()} data-group={g.name.clone()}>
                <th scope="row" class="name"><span class="ename" title={g.name.clone()}>{ g.name.clone() }</span></th>
                <td class="num" data-col="lag"><b>{ format_count(g.lag) }</b></td>
                <td class="num">{ format_count(g.processed) }</td>
                <td class="num">{ format_count(g.duplicates) }</td>
                <td class="num">{ format_count(g.skipped) }</td>
                <td class="parts">{ for parts }</td>
            </tr>
        }
    });
    html! {
        <table class="dash-table" data-testid="group-table" data-renders={renders.to_string()}>
            <thead>
                <tr>
                    <th scope="col" class="name">{ t(l, Key::DashGroup) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashLag) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashProcessed) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashDuplicates) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashSkipped) }</th>
                    <th scope="col">{ t(l, Key::DashPartitionLag) }</th>
                </tr>
            </thead>
            <tbody>{ for body }</tbody>
        </table>
    }
}

/// A service called with no broker: busy workers, waiting callers, and what it refused.
#[derive(Clone, Debug, PartialEq)]
struct ServiceRow {
    name: String,
    busy: u32,
    concurrency: u32,
    waiting: u64,
    served: u64,
    rejected: u64,
    timed_out: u64,
}

fn service_rows(_: &Driver, s: &Snapshot, _: &()) -> Vec<ServiceRow> {
    s.services
        .iter()
        .map(|v| ServiceRow {
            name: v.name.clone(),
            busy: v.busy,
            concurrency: v.concurrency,
            waiting: v.waiting,
            served: v.served,
            rejected: v.rejected,
            timed_out: v.timed_out,
        })
        .collect()
}

#[function_component(ServiceTable)]
fn service_table() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let rows = use_frame_model((), service_rows);
    if rows.is_empty() {
        return html! {};
    }
    let body = rows.iter().map(|s| {
        html! {
            <tr key={s.name.clone()}>
                <th scope="row" class="name"><span class="ename" title={s.name.clone()}>{ s.name.clone() }</span></th>
                <td class="num">{ format!("{} / {}", s.busy, s.concurrency) }</td>
                <td class="num">{ format_count(s.waiting) }</td>
                <td class="num">{ format_count(s.served) }</td>
                <td class="num">{ format_count(s.rejected) }</td>
                <td class="num">{ format_count(s.timed_out) }</td>
            </tr>
        }
    });
    html! {
        <table class="dash-table" data-testid="service-table">
            <thead>
                <tr>
                    <th scope="col" class="name">{ t(l, Key::DashService) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashBusy) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashWaiting) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashServed) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashRefused) }</th>
                    <th scope="col" class="num">{ t(l, Key::DashTimedOut) }</th>
                </tr>
            </thead>
            <tbody>{ for body }</tbody>
        </table>
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
    fn rates_are_blank_when_zero() {
        assert_eq!(format_rate(0.0), "");
        assert_eq!(format_rate(f64::NAN), "");
        assert_eq!(format_rate(0.2), "0.2/s");
        assert_eq!(format_rate(12.34), "12.3/s");
        assert_eq!(format_rate(2_345.6), "2,346/s");
    }

    #[test]
    fn queue_rows_follow_the_counters() {
        let mut d = Driver::with_default_scenario();
        d.run_to(broker_sim::SimTime::from_secs(12));
        let snap = d.snapshot();
        let rows = queue_rows(&d, &snap, &());
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.total, r.ready + r.unacked);
        assert_eq!(r.ready, snap.ledger.ready);
        assert!(r.rates[0] > 0.0, "publish rate after 5 s: {:?}", r.rates);
    }

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
