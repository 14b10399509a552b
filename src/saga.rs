//! The saga panel under the canvas (issue 14): while services run as stages, each order's state
//! at every service, the anomaly counts a reader of their tables would see right now, and what
//! the remedies cost. It reads the snapshot's `pipeline` and re-renders only when it changes.

use crate::hooks::use_render_count;
use crate::i18n::{t, Key, Lang};
use crate::kinds::clients::stage_key;
use crate::lab::{use_frame_model, use_lab};
use crate::model::format_count;
use crate::sequence::{Filter, SequenceView};
use broker_sim::event::StageRole;
use broker_sim::{Command, PipelineView, SagaInstance, SagaState, SagaStep, SagaView};
use yew::prelude::*;

/// The services in chain order; a caller (PAT-8) has no column.
const COLUMNS: [StageRole; 4] = [
    StageRole::Order,
    StageRole::Payment,
    StageRole::Inventory,
    StageRole::Shipping,
];

#[function_component(SagaPanel)]
pub fn saga_panel() -> Html {
    let lab = use_lab();
    let view = use_frame_model((), |_, snap, _| snap.pipeline.clone());
    let renders = use_render_count();
    // The transaction the swimlane draws: the clicked row's, else the first anomalous one.
    let picked = use_state_eq(|| None::<u64>);
    let rows = view.as_ref().map_or(0, |v| v.sagas.len());
    // The newest order is at the bottom: keep it in sight as orders arrive.
    let body = use_node_ref();
    {
        let body = body.clone();
        use_effect_with(rows, move |_| {
            if let Some(el) = body.cast::<web_sys::Element>() {
                el.set_scroll_top(el.scroll_height());
            }
        });
    }
    let Some(v) = view else {
        return html! {};
    };
    let l = lab.lang;
    let columns: Vec<StageRole> = COLUMNS
        .into_iter()
        .filter(|r| v.services.iter().any(|s| s.role == *r))
        .collect();
    // The orchestrator's instances get a column of their own, beside the order (PAT-6).
    let orchestrated = v.services.iter().any(|s| s.orchestrates);
    let txn = picked
        .filter(|p| v.sagas.iter().any(|s| s.txn == *p))
        .or_else(|| v.sagas.iter().find(|s| anomalous(s)).map(|s| s.txn))
        .or_else(|| v.sagas.first().map(|s| s.txn));
    let on_pick = {
        let picked = picked.clone();
        Callback::from(move |txn: u64| picked.set(Some(txn)))
    };
    // Only an orchestrating order service runs the cancel saga; a choreographed shop would
    // hold the order CANCEL_PENDING for good, so it offers no button (PAT-7).
    let on_cancel = orchestrated.then(|| {
        let (lab, picked) = (lab.clone(), picked.clone());
        Callback::from(move |txn: u64| {
            picked.set(Some(txn));
            // A listed order is in the order service's table, so the core accepts the request
            // or refuses the transition; a refusal shows in the row.
            let _ = lab.apply(Command::CancelOrder { txn });
        })
    });
    html! {
        <section class="saga" data-testid="saga" data-renders={renders.to_string()}
            aria-label={t(l, Key::SagaTitle)}>
            <div class="saga-table" ref={body}>
                <table>
                    <thead><tr>
                        <th scope="col">{ t(l, Key::SagaOrder) }</th>
                        if orchestrated {
                            <th scope="col" class="saga-instance-head"
                                title={t(l, Key::SagaInstanceHint)}>
                                { t(l, Key::SagaInstance) }
                            </th>
                        }
                        { for columns.iter().map(|&r| head(l, &v, r)) }
                    </tr></thead>
                    <tbody>{ for v.sagas.iter().map(|s| {
                        row(l, s, &columns, txn, &on_pick, on_cancel.as_ref())
                    }) }</tbody>
                </table>
            </div>
            { swimlane(l, txn) }
            { figures(l, &v) }
        </section>
    }
}

/// A service's name and its remedy switches, lit when on.
fn head(l: Lang, v: &PipelineView, role: StageRole) -> Html {
    let s = v
        .services
        .iter()
        .find(|s| s.role == role)
        .expect("filtered");
    // Only the switches that are on: one flipped mid-lesson appears in the header.
    let switch =
        |on: bool, key: Key| on.then(|| html! { <span class="saga-switch">{ t(l, key) }</span> });
    html! {
        <th scope="col" data-role={format!("{role:?}").to_lowercase()}>
            <span class="saga-service">{ t(l, stage_key(role)) }</span>
            <span class="saga-switches" title={t(l, Key::SagaSwitchHint)}>
                { switch(s.outbox, Key::SagaOutbox) }
                { switch(s.idempotent, Key::SagaIdempotent) }
                { switch(s.saga, Key::SagaSwitch) }
                { switch(s.orchestrates, Key::SagaOrchestrates) }
                { switch(s.kafka_transactions, Key::SagaKafkaTxn) }
            </span>
        </th>
    }
}

/// An order a reader of the tables would call wrong for good (not merely in progress).
fn anomalous(s: &SagaView) -> bool {
    use SagaState::*;
    s.lost
        || s.charges > 1
        || s.shipments > 1
        || (s.payment == Some(Paid) && s.inventory == Some(Failed))
        || (s.inventory == Some(Reserved) && s.payment == Some(Failed))
}

/// The swimlane of one transaction across the services (issue 14), the sequence diagram's
/// services-only view.
fn swimlane(l: Lang, txn: Option<u64>) -> Html {
    let Some(txn) = txn else {
        return html! {
            <div class="saga-lane">
                <h3 class="saga-lane-title">{ t(l, Key::SeqPickHint) }</h3>
            </div>
        };
    };
    let filter = Filter {
        txn: Some(txn),
        services_only: true,
        ..Filter::default()
    };
    html! {
        <div class="saga-lane">
            <h3 class="saga-lane-title" data-testid="saga-swimlane-title">
                { t(l, Key::SeqSwimlane).replace("{m}", &format!("m{txn}")) }
            </h3>
            <SequenceView {filter} testid="saga-swimlane" />
        </div>
    }
}

/// One order: its id (the request's message id), then its row at each service.
fn row(
    l: Lang,
    s: &SagaView,
    columns: &[StageRole],
    picked: Option<u64>,
    on_pick: &Callback<u64>,
    on_cancel: Option<&Callback<u64>>,
) -> Html {
    let cell = |role: StageRole| {
        let state = match role {
            StageRole::Order => s.order,
            StageRole::Payment => s.payment,
            StageRole::Inventory => s.inventory,
            _ => s.shipping,
        };
        let twice = match role {
            StageRole::Payment => s.charges > 1,
            StageRole::Shipping => s.shipments > 1,
            _ => false,
        };
        let (text, class) = state.map_or(("·", "none"), state_text);
        let locked = matches!(state, Some(SagaState::Pending | SagaState::CancelPending));
        html! {
            <td class={classes!("saga-state", class)}
                title={locked.then(|| t(l, Key::SagaLockHint))}>
                { text }
                if twice {
                    <span class="saga-twice" title={t(l, Key::SagaTwice)}>{ "×2" }</span>
                }
            </td>
        }
    };
    let onclick = {
        let (on_pick, txn) = (on_pick.clone(), s.txn);
        Callback::from(move |_: MouseEvent| on_pick.emit(txn))
    };
    // `Order.cancel` is allowed only from APPROVED (the order row's SHIPPED).
    let cancel = on_cancel
        .filter(|_| s.order == Some(SagaState::Shipped))
        .map(|on_cancel| {
            let (on_cancel, txn) = (on_cancel.clone(), s.txn);
            let onclick = Callback::from(move |e: MouseEvent| {
                e.stop_propagation();
                on_cancel.emit(txn)
            });
            html! {
                <button type="button" class="saga-cancel" {onclick}
                    data-testid={format!("saga-cancel-{}", s.txn)}
                    title={t(l, Key::SagaCancelHint)}>{ t(l, Key::SagaCancel) }</button>
            }
        });
    html! {
        <tr data-txn={s.txn.to_string()} {onclick} title={t(l, Key::SeqPickHint)}
            class={classes!(s.lost.then_some("lost"), (picked == Some(s.txn)).then_some("picked"))}>
            <th scope="row">
                { format!("m{}", s.txn) }
                if s.lost {
                    <span class="saga-lost">{ t(l, Key::SagaLost) }</span>
                }
                { for cancel }
            </th>
            if let Some(i) = s.instance {
                { instance_cell(l, &i) }
            }
            { for columns.iter().map(|&r| cell(r)) }
        </tr>
    }
}

/// The state as the services' tables write it, and its colour class.
fn state_text(s: SagaState) -> (&'static str, &'static str) {
    match s {
        SagaState::Pending => ("PENDING", "pending"),
        SagaState::Paid => ("PAID", "paid"),
        SagaState::Reserved => ("RESERVED", "reserved"),
        SagaState::Shipped => ("SHIPPED", "shipped"),
        SagaState::Failed => ("FAILED", "failed"),
        SagaState::Compensated => ("COMPENSATED", "compensated"),
        SagaState::CancelPending => ("CANCEL_PENDING", "pending"),
        SagaState::Cancelled => ("CANCELLED", "compensated"),
        SagaState::Scheduled => ("SCHEDULED", "reserved"),
    }
}

/// The orchestrator's instance: its step (`stateName`) and how it stands (PAT-6).
fn instance_cell(l: Lang, i: &SagaInstance) -> Html {
    let step = match i.state_name {
        SagaStep::AuthorizePayment => "AUTHORIZE_PAYMENT",
        SagaStep::ReserveStock => "RESERVE_STOCK",
        SagaStep::ScheduleShipment => "SCHEDULE_SHIPMENT",
        SagaStep::VoidPayment => "VOID_PAYMENT",
        SagaStep::ApproveOrder => "APPROVE_ORDER",
        SagaStep::RejectOrder => "REJECT_ORDER",
        SagaStep::CancelShipment => "CANCEL_SHIPMENT",
        SagaStep::ReverseAuthorization => "REVERSE_AUTHORIZATION",
        SagaStep::ReleaseStock => "RELEASE_STOCK",
        SagaStep::ConfirmCancel => "CONFIRM_CANCEL",
        SagaStep::UndoBeginCancel => "UNDO_BEGIN_CANCEL",
    };
    let (flag, class) = match (i.end_state, i.failed, i.compensating) {
        (true, false, _) => (Some(Key::SagaCompleted), "shipped"),
        (true, true, _) => (Some(Key::SagaRolledBack), "compensated"),
        (false, _, true) => (Some(Key::SagaCompensatingFlag), "failed"),
        (false, _, false) => (None, "pending"),
    };
    let title = i
        .last_request_id
        .map(|m| t(l, Key::SagaLastRequest).replace("{m}", &m.to_string()));
    html! {
        <td class={classes!("saga-state", "saga-instance", class)} {title}>
            { step }
            if let Some(key) = flag {
                <span class="saga-flag">{ t(l, key) }</span>
            }
        </td>
    }
}

/// The anomaly counts (lit while above zero) and the remedies' costs.
fn figures(l: Lang, v: &PipelineView) -> Html {
    let a = &v.anomalies;
    let anomalies = [
        (
            Key::SagaPaidOutOfStock,
            a.paid_out_of_stock,
            "paid-out-of-stock",
        ),
        (
            Key::SagaReservedPaymentFailed,
            a.reserved_payment_failed,
            "reserved-payment-failed",
        ),
        (Key::SagaChargedTwice, a.charged_twice, "charged-twice"),
        (Key::SagaShippedTwice, a.shipped_twice, "shipped-twice"),
        (
            Key::SagaPaidNotShipped,
            a.paid_never_shipped,
            "paid-not-shipped",
        ),
        (Key::SagaLostCount, a.lost, "lost"),
    ];
    let sum = |f: fn(&broker_sim::StageView) -> u64| v.services.iter().map(f).sum::<u64>();
    let mut costs = vec![
        (
            Key::SagaRelayed,
            format_count(sum(|s| s.relayed)),
            "relayed",
        ),
        (
            Key::SagaCompensations,
            format_count(sum(|s| s.compensations)),
            "compensations",
        ),
        (
            Key::SagaDuplicates,
            format_count(sum(|s| s.duplicates_skipped)),
            "duplicates",
        ),
        (Key::SagaPending, duration(v.mean_pending_ms), "pending"),
        (Key::SagaLocked, format_count(v.locked), "locked"),
    ];
    // An aborted Kafka transaction's step is done again after the restart (PAT-10).
    if v.services.iter().any(|s| s.kafka_transactions) {
        let aborted = format_count(sum(|s| s.transactions_aborted));
        costs.push((Key::SagaTxnAborted, aborted, "txn-aborted"));
    }
    // A caller waits on a reply queue (PAT-8): its wait is the pseudo-synchronous call's cost.
    if v.services.iter().any(|s| s.role == StageRole::Client) {
        costs.push((Key::SagaReplies, format_count(v.replies), "replies"));
        costs.push((Key::SagaReplyWait, duration(v.mean_reply_ms), "reply-wait"));
    }
    let mut totals = t(l, Key::SagaTotals)
        .replace("{n}", &format_count(v.orders))
        .replace("{s}", &format_count(v.shipped))
        .replace("{c}", &format_count(v.compensated));
    if v.cancelled > 0 {
        totals += &t(l, Key::SagaTotalsCancelled).replace("{x}", &format_count(v.cancelled));
    }
    html! {
        <div class="saga-figures">
            <p class="saga-totals" data-testid="saga-totals">{ totals }</p>
            <h3>{ t(l, Key::SagaAnomalies) }</h3>
            <dl class="saga-anomalies">
                { for anomalies.iter().map(|&(key, n, id)| html! {
                    <div class={classes!("saga-figure", (n > 0).then_some("hot"))}>
                        <dt>{ t(l, key) }</dt>
                        <dd data-testid={format!("saga-{id}")}>{ format_count(n) }</dd>
                    </div>
                }) }
            </dl>
            <h3>{ t(l, Key::SagaCost) }</h3>
            <dl class="saga-costs">
                { for costs.iter().map(|(key, n, id)| html! {
                    <div class="saga-figure">
                        <dt>{ t(l, *key) }</dt>
                        <dd data-testid={format!("saga-{id}")}>{ n.clone() }</dd>
                    </div>
                }) }
            </dl>
        </div>
    }
}

/// A mean time: milliseconds below a second, else seconds.
fn duration(ms: f64) -> String {
    if ms >= 1_000.0 {
        format!("{:.2} s", ms / 1_000.0)
    } else {
        format!("{ms:.0} ms")
    }
}
