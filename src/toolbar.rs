//! The lab bar below the play controls: seed and reset, the entity picker, then a producer and
//! a consumer to act on with their failure buttons: burst, poison, pause/resume; crash/restart,
//! slow down. The targets follow the selection (canvas or picker) and start as the first of
//! each kind. The same buttons appear in the inspector.

use crate::controls::RunControls;
use crate::driver::Driver;
use crate::i18n::{t, Key};
use crate::inspector::{status_class, status_text, EntityPicker};
use crate::lab::{use_frame_model, use_lab, Lab};
use crate::model::format_count;
use broker_sim::ids::{ConsumerId, ProducerId};
use broker_sim::snapshot::NodeRef;
use broker_sim::ConsumerStatus;
use broker_sim::{Command, Snapshot};
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// How much slower "slow down" makes a consumer.
pub const SLOW_FACTOR: f64 = 5.0;
/// The burst size offered at first.
const DEFAULT_BURST: &str = "20";

fn run(lab: &Lab, command: Command) -> Option<String> {
    lab.apply(command).err().map(|e| e.to_string())
}

#[derive(Properties, PartialEq)]
pub struct ProducerActionsProps {
    /// Prefixes the test ids, as the toolbar and the inspector both show these buttons.
    pub scope: AttrValue,
    pub producer: String,
    pub paused: bool,
}

/// Burst of N, poison message, pause/resume for one producer.
#[function_component(ProducerActions)]
pub fn producer_actions(p: &ProducerActionsProps) -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let count = use_state(|| DEFAULT_BURST.to_string());
    let error = use_state(|| None::<String>);
    let id = |what: &str| format!("{}-{what}", p.scope);
    let burst = {
        let (lab, count, error, name) = (
            lab.clone(),
            count.clone(),
            error.clone(),
            p.producer.clone(),
        );
        move || {
            let refused = match count.trim().parse::<u64>() {
                Ok(count) => run(
                    &lab,
                    Command::Burst {
                        producer: name.clone(),
                        count,
                    },
                ),
                Err(_) => Some(format!(
                    "{} {:?}",
                    t(lab.lang, Key::InspNotAWholeNumber),
                    count.trim()
                )),
            };
            error.set(refused);
        }
    };
    let on_burst = {
        let burst = burst.clone();
        Callback::from(move |_: MouseEvent| burst())
    };
    let on_count_key = Callback::from(move |e: KeyboardEvent| {
        if e.key() == "Enter" {
            e.prevent_default();
            burst();
        }
    });
    let on_count = {
        let (count, error) = (count.clone(), error.clone());
        Callback::from(move |e: InputEvent| {
            if let Some(i) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                count.set(i.value());
                error.set(None);
            }
        })
    };
    let simple = |command: Command| {
        let (lab, error) = (lab.clone(), error.clone());
        Callback::from(move |_: MouseEvent| error.set(run(&lab, command.clone())))
    };
    let name = p.producer.clone();
    let (pause_text, pause_cmd) = if p.paused {
        (
            format!("▶ {}", t(l, Key::FxResume)),
            Command::ResumeProducer {
                producer: name.clone(),
            },
        )
    } else {
        (
            format!("❚❚ {}", t(l, Key::FxPause)),
            Command::PauseProducer {
                producer: name.clone(),
            },
        )
    };
    html! {
        <div class="fx-actions">
            <span class="burst-group">
                <button type="button" class="lab-btn" data-testid={id("burst")} onclick={on_burst}
                    title={t(l, Key::FxBurstHint)}>{ t(l, Key::FxBurst) }</button>
                <input type="text" inputmode="numeric" class="burst-n" value={(*count).clone()}
                    data-testid={id("burst-n")} oninput={on_count} onkeydown={on_count_key}
                    aria-label={t(l, Key::FxBurstSize)} title={t(l, Key::FxBurstSize)} />
            </span>
            <button type="button" class="lab-btn" data-testid={id("poison")}
                onclick={simple(Command::Poison { producer: name.clone() })}
                title={t(l, Key::FxPoisonHint)}>{ "☠ " }{ t(l, Key::FxPoison) }</button>
            <button type="button" class="lab-btn" data-testid={id("pause")} aria-pressed={p.paused.to_string()}
                onclick={simple(pause_cmd)} title={t(l, Key::FxPauseHint)}>{ pause_text }</button>
            if let Some(e) = &*error {
                <span class="lab-error" role="alert" data-testid={id("producer-error")}>{ e.clone() }</span>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct ConsumerActionsProps {
    pub scope: AttrValue,
    pub consumer: String,
    pub status: ConsumerStatus,
    pub slow_factor: f64,
}

/// Crash or restart, and slow down, for one consumer.
#[function_component(ConsumerActions)]
pub fn consumer_actions(p: &ConsumerActionsProps) -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let error = use_state(|| None::<String>);
    let id = |what: &str| format!("{}-{what}", p.scope);
    let act = |command: Command| {
        let (lab, error) = (lab.clone(), error.clone());
        Callback::from(move |_: MouseEvent| error.set(run(&lab, command.clone())))
    };
    let name = p.consumer.clone();
    let running = p.status == ConsumerStatus::Running;
    let slowed = (p.slow_factor - 1.0).abs() > 1e-9;
    let (slow_text, factor) = if slowed {
        (format!("{} ×1", t(l, Key::FxNormalSpeed)), 1.0)
    } else {
        (format!("{} ×{SLOW_FACTOR}", t(l, Key::FxSlow)), SLOW_FACTOR)
    };
    html! {
        <div class="fx-actions">
            // One place for crash and restart, like pause and resume: it stays focused when it
            // flips, so the keyboard can crash and restart in a row.
            if running {
                <button type="button" class="lab-btn danger" data-testid={id("crash")}
                    onclick={act(Command::CrashConsumer { consumer: name.clone() })}
                    title={t(l, Key::FxCrashHint)}>{ "✕ " }{ t(l, Key::FxCrash) }</button>
            } else {
                <button type="button" class="lab-btn restart" data-testid={id("restart")}
                    disabled={p.status == ConsumerStatus::Removed}
                    onclick={act(Command::RestartConsumer { consumer: name.clone() })}
                    title={t(l, Key::FxRestartHint)}>{ "↻ " }{ t(l, Key::FxRestart) }</button>
            }
            <button type="button" class="lab-btn" data-testid={id("slow")} aria-pressed={slowed.to_string()}
                disabled={p.status == ConsumerStatus::Removed}
                onclick={act(Command::SlowConsumer { consumer: name.clone(), factor })}
                title={t(l, Key::FxSlowHint)}>{ slow_text }</button>
            if let Some(e) = &*error {
                <span class="lab-error" role="alert" data-testid={id("consumer-error")}>{ e.clone() }</span>
            }
        </div>
    }
}

#[derive(Clone, PartialEq)]
struct ProducerRow {
    id: ProducerId,
    name: String,
    paused: bool,
}

#[derive(Clone, PartialEq)]
struct ConsumerRow {
    id: ConsumerId,
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
    ToolbarModel {
        producers: snap
            .producers
            .iter()
            .map(|p| ProducerRow {
                id: p.id,
                name: p.name.clone(),
                paused: p.paused,
            })
            .collect(),
        consumers: snap
            .consumers
            .iter()
            .filter(|c| c.status != ConsumerStatus::Removed)
            .map(|c| ConsumerRow {
                id: c.id,
                name: c.name.clone(),
                status: c.status,
                slow_factor: c.slow_factor,
                redelivered: c.redelivered,
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
        use_effect_with(lab.selection, move |selection| match selection {
            Some(NodeRef::Producer(id)) => {
                if let Some(p) = m.producers.iter().find(|p| p.id == *id) {
                    producer.set(Some(p.name.clone()));
                }
            }
            Some(NodeRef::Consumer(id)) => {
                if let Some(c) = m.consumers.iter().find(|c| c.id == *id) {
                    consumer.set(Some(c.name.clone()));
                }
            }
            _ => {}
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
