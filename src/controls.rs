//! Time controls: play/pause, step to the next event and speed ([`Controls`], beside the
//! clock), seed, reset and the help overlay ([`RunControls`], in the lab bar below), and the
//! keyboard shortcuts for all of them (Space, →, + / −, R, ?, Esc).

use crate::driver::{Driver, SPEEDS};
use crate::help::HelpOverlay;
use crate::i18n::{t, Key, Lang};
use crate::lab::{use_frame_model, use_lab};
use crate::model::{format_clock, format_speed};
use broker_sim::{Halt, SimTime, Snapshot};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// What the controls show. `next_event` is only known while paused: while playing it would
/// change every frame and re-render the controls for nothing.
#[derive(Clone, PartialEq)]
struct ControlsModel {
    playing: bool,
    speed: f64,
    lagging: bool,
    halted: Option<Halt>,
    seed: u64,
    next_event: Option<SimTime>,
}

fn controls_model(d: &Driver, snap: &Snapshot, _: &()) -> ControlsModel {
    ControlsModel {
        playing: d.playing(),
        speed: d.speed(),
        lagging: d.lagging(),
        halted: d.halted().cloned(),
        seed: d.seed(),
        next_event: if d.playing() { None } else { snap.next_event },
    }
}

/// The next offered speed above (`up`) or below the current one; stays put at either end.
pub fn next_speed(current: f64, up: bool) -> f64 {
    let found = if up {
        SPEEDS.iter().copied().find(|&s| s > current + 1e-9)
    } else {
        SPEEDS.iter().rev().copied().find(|&s| s < current - 1e-9)
    };
    found.unwrap_or(current)
}

/// Why the clock stopped, in the reader's language.
pub fn halt_text(l: Lang, halt: &Halt) -> String {
    let (key, at, n, msg) = match *halt {
        Halt::ZeroTimeCycle { at, msg, cycles } => {
            (Key::HaltZeroTimeCycle, at, u64::from(cycles), Some(msg))
        }
        Halt::ZeroTimeLoop { at, work } => (Key::HaltZeroTimeLoop, at, work, None),
        Halt::WorkBudget { at, limit } => (Key::HaltWorkBudget, at, limit, None),
    };
    t(l, key)
        .replace("{t}", &format_clock(at))
        .replace("{n}", &n.to_string())
        .replace("{msg}", &msg.map_or(String::new(), |m| format!("m{}", m.0)))
}

/// A seed as typed: a whole number that fits in 64 bits.
pub fn parse_seed(text: &str) -> Option<u64> {
    text.trim().parse::<u64>().ok()
}

/// Whether keys typed now belong to a form field rather than to the shortcuts.
fn is_typing(target: Option<&web_sys::Element>) -> bool {
    target.is_some_and(|el| {
        matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
            || el
                .dyn_ref::<web_sys::HtmlElement>()
                .is_some_and(|h| h.is_content_editable())
    })
}

/// Whether the help overlay is open; the other shortcuts wait while it is (it is modal).
fn help_is_open() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(".help-backdrop").ok().flatten())
        .is_some()
}

/// Listens to keydown on the window for the component's life, always calling the latest
/// `handler` (which sees the state of the latest render).
#[hook]
fn use_keydown(handler: Callback<KeyboardEvent>) {
    let latest = use_mut_ref(|| handler.clone());
    *latest.borrow_mut() = handler;
    use_effect_with((), move |_| {
        let listener = Closure::<dyn FnMut(KeyboardEvent)>::new(move |e: KeyboardEvent| {
            let handler = latest.borrow().clone();
            if !(e.ctrl_key() || e.meta_key() || e.alt_key() || e.default_prevented()) {
                handler.emit(e);
            }
        });
        let window = web_sys::window();
        if let Some(w) = &window {
            let _ =
                w.add_event_listener_with_callback("keydown", listener.as_ref().unchecked_ref());
        }
        move || {
            if let Some(w) = &window {
                let _ = w.remove_event_listener_with_callback(
                    "keydown",
                    listener.as_ref().unchecked_ref(),
                );
            }
            drop(listener);
        }
    });
}

fn target_element(e: &KeyboardEvent) -> Option<web_sys::Element> {
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
}

/// Play/pause, step and speed, with their shortcuts: Space, →, + and −; Esc closes the inspector.
#[function_component(Controls)]
pub fn controls() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let m = use_frame_model((), controls_model);
    let toggle_play = {
        let lab = lab.clone();
        move || lab.with_driver(Driver::toggle_playing)
    };
    let step = {
        let lab = lab.clone();
        move || lab.with_driver(Driver::step_event)
    };
    let change_speed = {
        let lab = lab.clone();
        move |up: bool| lab.with_driver(|d| d.set_speed(next_speed(d.speed(), up)))
    };
    {
        let (lab, toggle_play, step, change_speed) = (
            lab.clone(),
            toggle_play.clone(),
            step.clone(),
            change_speed.clone(),
        );
        use_keydown(Callback::from(move |e: KeyboardEvent| {
            let target = target_element(&e);
            if help_is_open() || is_typing(target.as_ref()) {
                return;
            }
            let on_button = target.as_ref().is_some_and(|el| el.tag_name() == "BUTTON");
            match e.key().as_str() {
                // A focused button handles Space itself (it clicks).
                " " | "Spacebar" if !on_button && !e.repeat() => toggle_play(),
                "ArrowRight" => step(),
                "+" | "=" => change_speed(true),
                "-" | "_" => change_speed(false),
                "Escape" if lab.selection.is_some() => lab.on_select.emit(None),
                _ => return,
            }
            e.prevent_default();
        }));
    }

    let on_speed = {
        let lab = lab.clone();
        Callback::from(move |e: Event| {
            let value = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
                .map(|s| s.value());
            if let Some(speed) = value.and_then(|v| v.parse::<f64>().ok()) {
                lab.with_driver(|d| d.set_speed(speed));
            }
        })
    };
    let on_play = Callback::from(move |_: MouseEvent| toggle_play());
    let on_step = Callback::from(move |_: MouseEvent| step());
    let on_slower = {
        let change_speed = change_speed.clone();
        Callback::from(move |_: MouseEvent| change_speed(false))
    };
    let on_faster = Callback::from(move |_: MouseEvent| change_speed(true));

    let (icon, text, class) = if m.playing {
        ("❚❚", t(l, Key::Pause), "play playing")
    } else {
        ("▶", t(l, Key::Play), "play paused")
    };
    let step_title = match m.next_event {
        Some(next) => format!(
            "{} · {} {}",
            t(l, Key::StepHint),
            t(l, Key::NextEventAt),
            format_clock(next)
        ),
        None => t(l, Key::StepHint).to_string(),
    };
    html! {
        <div class="controls">
            <button type="button" class={class} data-testid="play" onclick={on_play}
                aria-pressed={m.playing.to_string()} aria-keyshortcuts="Space" title={t(l, Key::PlayHint)}>
                <span class="play-icon" aria-hidden="true">{ icon }</span>
                <span class="play-text">{ text }</span>
            </button>
            <button type="button" class="ctl step" data-testid="step" onclick={on_step}
                aria-keyshortcuts="ArrowRight" title={step_title}
                data-next-event={m.next_event.map(format_clock)}>
                <span aria-hidden="true">{ "▶❙ " }</span>{ t(l, Key::Step) }
            </button>
            <div class="speed" role="group" aria-labelledby="speed-label" title={t(l, Key::SpeedHint)}>
                <span class="speed-label" id="speed-label">{ t(l, Key::Speed) }</span>
                <div class="speed-row">
                    <button type="button" class="ctl speed-step" data-testid="slower"
                        onclick={on_slower} aria-keyshortcuts="-"
                        aria-label={t(l, Key::Slower)} title={t(l, Key::Slower)}
                        disabled={m.speed <= SPEEDS[0] + 1e-9}>{ "−" }</button>
                    <select data-testid="speed" onchange={on_speed} aria-label={t(l, Key::Speed)}>
                        { for SPEEDS.iter().map(|&s| html! {
                            <option key={s.to_string()} value={s.to_string()}
                                selected={(s - m.speed).abs() < 1e-9}>
                                { format_speed(s) }
                            </option>
                        }) }
                    </select>
                    <button type="button" class="ctl speed-step" data-testid="faster"
                        onclick={on_faster} aria-keyshortcuts="+"
                        aria-label={t(l, Key::Faster)} title={t(l, Key::Faster)}
                        disabled={m.speed >= SPEEDS[SPEEDS.len() - 1] - 1e-9}>{ "+" }</button>
                </div>
            </div>
            if let Some(halt) = &m.halted {
                <span class="halt-badge" role="alert" data-testid="halted">
                    { halt_text(l, halt) }
                </span>
            }
            if m.lagging {
                <span class="lag-badge" role="status" title={t(l, Key::Lagging)}>
                    { "⚠ " }{ t(l, Key::Lagging) }
                </span>
            }
        </div>
    }
}

/// The seed field, Reset and the help button, with the shortcuts R, ? and Esc (closes help).
#[function_component(RunControls)]
pub fn run_controls() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let seed = use_frame_model((), |d: &Driver, _: &Snapshot, _: &()| d.seed());
    // What is typed, until a reset applies it; None shows the run's seed.
    let seed_text = use_state(|| None::<String>);
    let seed_error = use_state(|| false);
    let help_open = use_state(|| false);
    // What had focus before the help opened, to give it back on close.
    let focus_before = use_mut_ref(|| None::<web_sys::HtmlElement>);

    // Starts over with the seed field's value, paused at 0 s so the class sees the start; an
    // invalid seed only shows the error.
    let reset = {
        let (lab, seed_text, seed_error) = (lab.clone(), seed_text.clone(), seed_error.clone());
        move || {
            let text = (*seed_text)
                .clone()
                .unwrap_or_else(|| lab.driver.borrow().seed().to_string());
            match parse_seed(&text) {
                Some(seed) => {
                    lab.with_driver(|d| {
                        d.reset(seed);
                        d.set_playing(false);
                    });
                    seed_text.set(None);
                    seed_error.set(false);
                }
                None => seed_error.set(true),
            }
        }
    };
    let open_help = {
        let (help_open, focus_before) = (help_open.clone(), focus_before.clone());
        move || {
            *focus_before.borrow_mut() = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.active_element())
                .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
            help_open.set(true);
        }
    };
    let close_help = {
        let help_open = help_open.clone();
        move || {
            help_open.set(false);
            if let Some(el) = focus_before.borrow_mut().take() {
                let _ = el.focus();
            }
        }
    };
    {
        let (reset, open_help, close_help, help_open) = (
            reset.clone(),
            open_help.clone(),
            close_help.clone(),
            help_open.clone(),
        );
        use_keydown(Callback::from(move |e: KeyboardEvent| {
            let key = e.key();
            if *help_open {
                if key == "Escape" || key == "?" {
                    e.prevent_default();
                    close_help();
                }
                return;
            }
            if is_typing(target_element(&e).as_ref()) {
                return;
            }
            match key.as_str() {
                "r" | "R" if !e.repeat() => reset(),
                "?" => open_help(),
                _ => return,
            }
            e.prevent_default();
        }));
    }

    let on_seed_input = {
        let (seed_text, seed_error) = (seed_text.clone(), seed_error.clone());
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                seed_text.set(Some(input.value()));
                seed_error.set(false);
            }
        })
    };
    let on_seed_key = {
        let reset = reset.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" {
                e.prevent_default();
                reset();
            }
        })
    };
    let on_reset = Callback::from(move |_: MouseEvent| reset());
    let on_help = Callback::from(move |_: MouseEvent| open_help());
    let on_close_help = Callback::from(move |()| close_help());
    let seed_value = (*seed_text).clone().unwrap_or_else(|| seed.to_string());
    let invalid = *seed_error;
    html! {
        <div class="run-controls">
            <div class="seed-reset">
                <button type="button" class="ctl reset" data-testid="reset"
                    onclick={on_reset} aria-keyshortcuts="R" title={t(l, Key::ResetHint)}>
                    <span aria-hidden="true">{ "↺ " }</span>{ t(l, Key::Reset) }
                </button>
                <label class="seed" title={t(l, Key::SeedHint)}>
                    <span class="speed-label">{ t(l, Key::Seed) }</span>
                    <input type="number" min="0" step="1" inputmode="numeric" data-testid="seed"
                        value={seed_value} oninput={on_seed_input} onkeydown={on_seed_key}
                        aria-invalid={invalid.to_string()}
                        aria-describedby={invalid.then_some("seed-error")}
                        title={t(l, Key::SeedHint)} />
                </label>
                if invalid {
                    <span class="lab-error" id="seed-error" role="alert" data-testid="seed-error">
                        { t(l, Key::SeedInvalid) }
                    </span>
                }
            </div>
            <button type="button" class="ctl help-button" data-testid="help-button"
                onclick={on_help} aria-keyshortcuts="?"
                aria-label={t(l, Key::HelpTitle)} title={t(l, Key::HelpTitle)}>{ "?" }</button>
            if *help_open {
                <HelpOverlay lang={l} on_close={on_close_help} />
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_steps_through_the_offered_speeds() {
        assert_eq!(next_speed(1.0, true), 2.0);
        assert_eq!(next_speed(1.0, false), 0.5);
        assert_eq!(next_speed(100.0, true), 100.0);
        assert_eq!(next_speed(0.1, false), 0.1);
        // A speed between two offered ones goes to the neighbour on that side.
        assert_eq!(next_speed(3.0, true), 5.0);
        assert_eq!(next_speed(3.0, false), 2.0);
        let mut s = 1.0;
        for _ in 0..3 {
            s = next_speed(s, true);
        }
        assert_eq!(s, 10.0);
    }

    #[test]
    fn seeds_are_whole_numbers() {
        assert_eq!(parse_seed(" 42 "), Some(42));
        assert_eq!(parse_seed("0"), Some(0));
        assert_eq!(parse_seed("18446744073709551615"), Some(u64::MAX));
        for bad in ["", "-1", "1.5", "1e3", "abc", "18446744073709551616"] {
            assert_eq!(parse_seed(bad), None, "{bad:?}");
        }
    }
}
