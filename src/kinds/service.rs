//! The no-broker service: a box with one slot per worker and what callers lost, its header
//! cards and its read-only inspector body.

use super::{Card, Inspect, Inspected, Kind, NodeText, Tone};
use crate::driver::Driver;
use crate::forms::stat;
use crate::geom::Rect;
use crate::i18n::{t, Key, Lang};
use crate::lab::{use_frame_model, use_lab, Lab};
use crate::layout::chips_that_fit;
use crate::model::format_count;
use crate::pen::{Pen, DANGER, FONT, MUTED, PROCESSING};
use broker_sim::ids::ServiceId;
use broker_sim::snapshot::{Family, Figure, GraphNode, NodeRef, Role, ServiceView};
use broker_sim::Snapshot;
use yew::prelude::*;

pub struct Service;

const SERVICE_FILL: &str = "#fff1f2";
const SERVICE_STROKE: &str = "#be123c";

impl Kind for Service {
    fn family(&self) -> Family {
        Family::Service
    }

    fn heading(&self, role: Role) -> Option<(Key, Key)> {
        (role == Role::Service).then_some((Key::ColServices, Key::ColServicesAfter))
    }

    fn picker_heading(&self, role: Role) -> Option<Key> {
        (role == Role::Service).then_some(Key::InspServices)
    }

    fn palette(&self, role: Role) -> Option<(&'static str, &'static str)> {
        (role == Role::Service).then_some((SERVICE_FILL, SERVICE_STROKE))
    }

    fn word(&self, node: NodeRef) -> Option<&'static str> {
        matches!(node, NodeRef::Service(_)).then_some("service")
    }

    fn encode(&self, node: NodeRef) -> Option<String> {
        match node {
            NodeRef::Service(s) => Some(format!("s:{}", s.0)),
            _ => None,
        }
    }

    fn decode(&self, prefix: &str, a: u32, b: Option<u32>) -> Option<NodeRef> {
        (prefix == "s" && b.is_none()).then_some(NodeRef::Service(ServiceId(a)))
    }

    fn text(&self, l: Lang, _: &Snapshot, node: &GraphNode) -> NodeText {
        let figure = |f| node.figure(f).unwrap_or(0);
        NodeText {
            tag: t(l, Key::TagService).to_string(),
            stat: format!(
                "{} {}/{} · {} {}",
                t(l, Key::NodeBusy),
                figure(Figure::Busy),
                figure(Figure::Concurrency),
                t(l, Key::NodeWaiting),
                format_count(figure(Figure::Waiting))
            ),
            tone: Tone::Normal,
        }
    }

    /// A square with a cut corner: a server that answers directly.
    fn icon(&self, pen: &Pen, _: &GraphNode, x: f64, y: f64, r: f64, colour: &str) {
        let c = pen.ctx;
        c.set_fill_style_str(colour);
        c.begin_path();
        c.move_to(x - r, y - r);
        c.line_to(x + r * 0.4, y - r);
        c.line_to(x + r, y - r * 0.4);
        c.line_to(x + r, y + r);
        c.line_to(x - r, y + r);
        c.close_path();
        c.fill();
    }

    fn has_lane(&self, _: &GraphNode) -> bool {
        true
    }

    fn lane(&self, pen: &Pen, snap: &Snapshot, node: &GraphNode, lane: Rect, k: f64) {
        let NodeRef::Service(id) = node.node else {
            return;
        };
        if let Some(sv) = snap.services.iter().find(|v| v.id == id) {
            service_lane(pen, sv, lane, k);
        }
    }

    fn cards(&self, _: &Driver, snap: &Snapshot) -> Vec<Card> {
        let sum = |f: Figure| -> u64 {
            (snap.graph.nodes.iter())
                .filter(|n| n.family == Family::Service && n.role == Role::Service)
                .filter_map(|n| n.figure(f))
                .sum()
        };
        vec![
            Card {
                id: "count-served",
                class: "c-served",
                label: Key::CountServed,
                hint: Key::HintServed,
                value: sum(Figure::Served),
            },
            Card {
                id: "count-waiting",
                class: "c-waiting",
                label: Key::CountWaiting,
                hint: Key::HintWaiting,
                value: sum(Figure::Waiting),
            },
        ]
    }

    fn tables(&self) -> Html {
        html! { <ServiceTable /> }
    }

    fn inspect(&self, _: &Driver, snap: &Snapshot, node: NodeRef) -> Option<Inspected> {
        let NodeRef::Service(id) = node else {
            return None;
        };
        let s = snap.services.iter().find(|s| s.id == id)?;
        Some(Inspected::new(ServiceModel {
            name: s.name.clone(),
            concurrency: s.concurrency,
            busy: s.busy,
            waiting: s.waiting,
            served: s.served,
            rejected: s.rejected,
            timed_out: s.timed_out,
        }))
    }
}

fn service_lane(pen: &Pen, sv: &ServiceView, lane: Rect, k: f64) {
    let c = pen.ctx;
    pen.lane_box(lane, k);
    // One slot per worker: filled while it serves a request.
    let (slot_w, gap) = (16.0 * k, 6.0 * k);
    let fit = chips_that_fit(lane.w * 0.45, slot_w, gap);
    let mut x = lane.x + 3.0 * k;
    for i in 0..(sv.concurrency as usize).min(fit) {
        let r = Rect {
            x,
            y: lane.y,
            w: slot_w,
            h: lane.h,
        };
        pen.round_rect(r, 3.0 * k);
        if i < sv.busy as usize {
            c.set_fill_style_str(PROCESSING);
            c.fill();
        } else {
            c.set_stroke_style_str("#9ca3af");
            c.set_line_width(1.0);
            c.stroke();
        }
        x += slot_w + gap;
    }
    // What the caller lost: refused (backlog full) and timed out.
    let lost = sv.rejected + sv.timed_out > 0;
    let text = if lost {
        format!(
            "{} {} · {} {}",
            t(pen.lang, Key::NodeRejected),
            format_count(sv.rejected),
            t(pen.lang, Key::NodeTimedOut),
            format_count(sv.timed_out)
        )
    } else {
        format!(
            "{} {}",
            t(pen.lang, Key::NodeServed),
            format_count(sv.served)
        )
    };
    pen.font(700, 14.0 * k, FONT);
    let text = pen.fit(&text, lane.right() - x - 6.0 * k);
    c.set_fill_style_str(if lost { DANGER } else { MUTED });
    c.set_text_align("right");
    c.set_text_baseline("middle");
    c.fill_text(&text, lane.right() - 4.0 * k, lane.mid_y())
        .ok();
}

// ------------------------------------------------------------------ the dashboard

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

// ------------------------------------------------------------------ the inspector

#[derive(Clone, Debug, PartialEq)]
struct ServiceModel {
    name: String,
    concurrency: u32,
    busy: u32,
    waiting: u64,
    served: u64,
    rejected: u64,
    timed_out: u64,
}

impl Inspect for ServiceModel {
    fn title(&self, l: Lang) -> (String, String) {
        (t(l, Key::InspService).to_string(), self.name.clone())
    }

    fn body(&self, lab: &Lab) -> Html {
        let (l, s) = (lab.lang, self);
        html! {
            <>
                <dl class="insp-stats">
                    { stat(t(l, Key::InspConcurrency), format!("{} / {}", s.busy, s.concurrency), "insp-busy") }
                    { stat(t(l, Key::InspWaiting), format_count(s.waiting), "insp-waiting") }
                    { stat(t(l, Key::InspServed), format_count(s.served), "insp-served") }
                    { stat(t(l, Key::InspRejected), format_count(s.rejected), "insp-rejected") }
                    { stat(t(l, Key::InspTimedOut), format_count(s.timed_out), "insp-timed-out") }
                </dl>
                <p class="insp-note">{ t(l, Key::InspReadOnlyNote) }</p>
            </>
        }
    }
}
