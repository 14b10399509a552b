//! The lab bar below the play controls: seed and reset, the entity picker, then a producer and
//! a consumer to act on with their failure buttons: burst, poison, pause/resume; crash/restart,
//! slow down. The targets follow the selection (canvas or picker) and start as the first of
//! each kind. The same buttons appear in the inspector.

use crate::actions::{status_class, status_text, ConsumerActions, ProducerActions};
use crate::controls::RunControls;
use crate::driver::Driver;
use crate::i18n::{t, Key};
use crate::lab::{use_frame_model, use_lab};
use crate::model::format_count;
use crate::picker::EntityPicker;
use broker_sim::snapshot::{NodeRef, NodeStatus, Role};
use broker_sim::ConsumerStatus;
use broker_sim::Snapshot;
use yew::prelude::*;

#[derive(Clone, PartialEq)]
struct ProducerRow {
    node: NodeRef,
    name: String,
    paused: bool,
}

#[derive(Clone, PartialEq)]
struct ConsumerRow {
    node: NodeRef,
    name: String,
    status: ConsumerStatus,
    slow_factor: f64,
    redelivered: u64,
}

#[derive(Clone, PartialEq)]
struct ToolbarModel {
    producers: Vec<ProducerRow>,
    consumers: Vec<ConsumerRow>,
}

fn toolbar_model(_: &Driver, snap: &Snapshot, _: &()) -> ToolbarModel {
    let nodes = |role: Role| snap.graph.nodes.iter().filter(move |n| n.role == role);
    ToolbarModel {
        producers: nodes(Role::Producer)
            .map(|n| ProducerRow {
                node: n.node,
                name: n.name.clone(),
                paused: n.status == NodeStatus::Paused,
            })
            .collect(),
        // Live consumers (the graph leaves removed ones out), with their failure state.
        consumers: nodes(Role::Consumer)
            .filter_map(|n| {
                let c = snap.consumers.iter().find(|c| c.name == n.name)?;
                Some(ConsumerRow {
                    node: n.node,
                    name: c.name.clone(),
                    status: c.status,
                    slow_factor: c.slow_factor,
                    redelivered: c.redelivered,
                })
            })
            .collect(),
    }
}

/// A group's heading: what it acts on, e.g. "CONSUMER worker-a".
fn target_label(kind: &str, name: &str, testid: &'static str) -> Html {
    html! {
        <span class="fx-label">
            <span class="speed-label">{ kind.to_string() }</span>
            <b class="fx-name" data-testid={testid}>{ name.to_string() }</b>
        </span>
    }
}

#[function_component(FailureToolbar)]
pub fn failure_toolbar() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let m = use_frame_model((), toolbar_model);
    let producer = use_state(|| None::<String>);
    let consumer = use_state(|| None::<String>);
    {
        // Selecting a producer or consumer (canvas, picker) makes it the toolbar's target.
        let (producer, consumer, m) = (producer.clone(), consumer.clone(), m.clone());
        use_effect_with(lab.selection, move |selection| {
            if let Some(p) = m.producers.iter().find(|p| Some(p.node) == *selection) {
                producer.set(Some(p.name.clone()));
            }
            if let Some(c) = m.consumers.iter().find(|c| Some(c.node) == *selection) {
                consumer.set(Some(c.name.clone()));
            }
        });
    }
    // The chosen target while it exists, else the first one.
    let p = m
        .producers
        .iter()
        .find(|p| Some(&p.name) == producer.as_ref())
        .or(m.producers.first());
    let c = m
        .consumers
        .iter()
        .find(|c| Some(&c.name) == consumer.as_ref())
        .or(m.consumers.first());
    html! {
        <section class="labbar" data-testid="failure-toolbar" aria-label={t(l, Key::FxToolbar)}>
            <RunControls />
            <EntityPicker />
            if let Some(p) = p {
                <div class="fx-group" role="group" aria-label={t(l, Key::TagProducer)}>
                    { target_label(t(l, Key::TagProducer), &p.name, "tb-producer") }
                    <ProducerActions scope="tb" producer={p.name.clone()} paused={p.paused} />
                </div>
            }
            if let Some(c) = c {
                <div class="fx-group" role="group" aria-label={t(l, Key::TagConsumer)}>
                    <span class="fx-label">
                        <span class="speed-label">{ t(l, Key::TagConsumer) }</span>
                        <b class="fx-name" data-testid="tb-consumer">{ c.name.clone() }</b>
                        <span class="fx-status" data-testid="tb-consumer-status"
                            data-status={format!("{:?}", c.status).to_lowercase()}>
                            <span class={status_class(c.status)}>{ status_text(l, c.status) }</span>
                            <span class="fx-redelivered" title={t(l, Key::LegendRedelivered)}
                                data-testid="tb-consumer-redelivered">
                                { "↻ " }{ format_count(c.redelivered) }
                            </span>
                        </span>
                    </span>
                    <ConsumerActions scope="tb" consumer={c.name.clone()} status={c.status}
                        slow_factor={c.slow_factor} />
                </div>
            }
        </section>
    }
}
