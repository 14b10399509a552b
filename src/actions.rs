//! Failure buttons for one producer (burst, poison, pause/resume) and one consumer (crash or
//! restart, slow down), shown by the lab bar and by the inspector; a consumer's status text.

use crate::i18n::{t, Key, Lang};
use crate::lab::{use_lab, Lab};
use broker_sim::Command;
use broker_sim::ConsumerStatus;
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

pub fn status_text(l: Lang, s: ConsumerStatus) -> &'static str {
    match s {
        ConsumerStatus::Running => t(l, Key::InspRunning),
        ConsumerStatus::Crashed => t(l, Key::StatusCrashed),
        ConsumerStatus::Disconnected => t(l, Key::StatusDisconnected),
        ConsumerStatus::Removed => t(l, Key::StatusRemoved),
    }
}

pub fn status_class(s: ConsumerStatus) -> &'static str {
    match s {
        ConsumerStatus::Running => "lab-status running",
        ConsumerStatus::Crashed => "lab-status crashed",
        ConsumerStatus::Disconnected | ConsumerStatus::Removed => "lab-status stopped",
    }
}
