//! The narration player: a lesson's goal and steps, clicked through by the teacher. Arriving at
//! a step runs the clock to its `at_ms` and pauses; a step with a question first asks the class
//! to predict and reveals the answer on the next click; Back replays to the previous step
//! exactly (the run is deterministic). Clicker keys drive it: PageDown / → / Space forward,
//! PageUp / ← back.

use crate::driver::Driver;
use crate::i18n::{t, Key, Lang};
use crate::presets::pick;
use broker_sim::scenario::Narration;
use broker_sim::SimTime;
use serde::{Deserialize, Serialize};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Where the class is in a lesson: the step, and whether its answer is shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepPos {
    pub index: usize,
    #[serde(default)]
    pub revealed: bool,
}

fn has_question(n: &Narration, index: usize) -> bool {
    n.steps.get(index).is_some_and(|s| s.question.is_some())
}

/// The position after one click forward; `None` at the end of the lesson.
pub fn next_pos(n: &Narration, p: StepPos) -> Option<StepPos> {
    if has_question(n, p.index) && !p.revealed {
        return Some(StepPos {
            index: p.index,
            revealed: true,
        });
    }
    (p.index + 1 < n.steps.len()).then_some(StepPos {
        index: p.index + 1,
        revealed: false,
    })
}

/// The position after one click back; `None` at the first step. Stepping back to an earlier
/// step shows it whole, answer included, as the class last saw it.
pub fn back_pos(n: &Narration, p: StepPos) -> Option<StepPos> {
    if p.revealed {
        return Some(StepPos {
            index: p.index,
            revealed: false,
        });
    }
    let index = p.index.checked_sub(1)?;
    Some(StepPos {
        index,
        revealed: has_question(n, index),
    })
}

/// The simulated instant of step `index` (the core's own ms → µs rounding).
pub fn step_time(n: &Narration, index: usize) -> Option<SimTime> {
    n.steps
        .get(index)
        .map(|s| SimTime((s.at_ms * 1_000.0).round() as u64))
}

/// Puts the clock at step `index`: forward by playing to it (then it pauses), backward by
/// exact replay.
pub fn go_to_step(d: &mut Driver, n: &Narration, index: usize) {
    let Some(at) = step_time(n, index) else {
        return;
    };
    if d.now() < at {
        // Forward: the class watches the clock play to the step.
        d.play_to(at);
    } else if d.now() > at {
        d.seek(at);
        d.set_playing(false);
    } else {
        d.set_playing(false);
    }
}

/// Whether a keydown belongs to the narration: clicker and arrow keys, unless typing, a
/// modal dialog is open, or (for Space) a focused button will click itself.
fn narration_key(e: &web_sys::KeyboardEvent) -> Option<bool> {
    if e.ctrl_key() || e.meta_key() || e.alt_key() {
        return None;
    }
    let document = web_sys::window()?.document()?;
    let active = document
        .body()
        .and_then(|b| b.get_attribute("data-narration"))
        .is_some_and(|v| v == "active");
    if !active
        || document
            .query_selector("[aria-modal='true']")
            .ok()
            .flatten()
            .is_some()
    {
        return None;
    }
    let tag = e
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .map(|el| el.tag_name())
        .unwrap_or_default();
    if matches!(tag.as_str(), "INPUT" | "TEXTAREA" | "SELECT") {
        return None;
    }
    match e.key().as_str() {
        "PageDown" | "ArrowRight" => Some(true),
        " " | "Spacebar" if tag != "BUTTON" => Some(true),
        "PageUp" | "ArrowLeft" => Some(false),
        _ => None,
    }
}

/// Listens for the narration keys while `<body data-narration="active">`. The listener runs in
/// the capture phase on window and stops the event there, so the play/step shortcuts (bubble
/// listeners) never see a key the narration took.
#[hook]
pub fn use_narration_keys(on_move: Callback<bool>) {
    use_effect_with((), move |_| {
        let listener =
            Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(move |e: web_sys::KeyboardEvent| {
                if let Some(forward) = narration_key(&e) {
                    e.prevent_default();
                    e.stop_propagation();
                    if !e.repeat() {
                        on_move.emit(forward);
                    }
                }
            });
        let window = web_sys::window();
        if let Some(w) = &window {
            let _ = w.add_event_listener_with_callback_and_bool(
                "keydown",
                listener.as_ref().unchecked_ref(),
                true,
            );
        }
        move || {
            if let Some(w) = &window {
                let _ = w.remove_event_listener_with_callback_and_bool(
                    "keydown",
                    listener.as_ref().unchecked_ref(),
                    true,
                );
            }
            drop(listener);
        }
    });
}

#[derive(Properties, PartialEq)]
pub struct PlayerProps {
    pub lang: Lang,
    pub narration: Rc<Narration>,
    pub pos: StepPos,
    /// While the clock plays to this step: how far, in percent.
    #[prop_or_default]
    pub moving: Option<u8>,
    /// true = forward.
    pub on_move: Callback<bool>,
    /// Commands the teacher applied that the lesson does not script: the text may not hold.
    #[prop_or_default]
    pub differs: bool,
    /// Rebuilds the lesson's own run at the current step.
    #[prop_or_default]
    pub on_script: Callback<()>,
}

/// The lesson panel: goal, "3 / 8", the step's text, the prediction question and its answer,
/// and Back / Next.
#[function_component(NarrationPlayer)]
pub fn narration_player(props: &PlayerProps) -> Html {
    let l = props.lang;
    let n = &props.narration;
    let p = props.pos;
    let Some(step) = n.steps.get(p.index) else {
        return html! {};
    };
    let next = next_pos(n, p);
    let back = back_pos(n, p);
    let asking = step.question.is_some() && !p.revealed;
    let next_label = if props.moving.is_some() {
        t(l, Key::NarrationSkip)
    } else if asking {
        t(l, Key::NarrationReveal)
    } else if next.is_none() {
        t(l, Key::NarrationEnd)
    } else {
        t(l, Key::NarrationNext)
    };
    let on_next = props.on_move.reform(|_: MouseEvent| true);
    let on_back = props.on_move.reform(|_: MouseEvent| false);
    // After the first step the goal steps aside: the step, its question and answer are what the
    // room reads, and they must fit the panel.
    let goal_class = classes!(
        "narration-goal",
        (p.index > 0 || p.revealed).then_some("past")
    );
    let body = use_node_ref();
    {
        let body = body.clone();
        // Refitted when what the panel holds changes, and on a resize.
        let shown = (p, l, props.moving.is_some(), props.differs);
        use_effect_with(shown, move |_| {
            fit_to_panel(&body);
            let listener = Closure::<dyn FnMut()>::new(move || fit_to_panel(&body));
            let window = web_sys::window();
            if let Some(w) = &window {
                let _ =
                    w.add_event_listener_with_callback("resize", listener.as_ref().unchecked_ref());
            }
            move || {
                if let Some(w) = &window {
                    let _ = w.remove_event_listener_with_callback(
                        "resize",
                        listener.as_ref().unchecked_ref(),
                    );
                }
                drop(listener);
            }
        });
    }
    html! {
        <aside class="narration" data-testid="narration" lang={l.code()}
            aria-label={t(l, Key::NarrationLabel)}
            data-step={p.index.to_string()} data-steps={n.steps.len().to_string()}
            data-revealed={p.revealed.to_string()} data-at-end={next.is_none().to_string()}
            data-moving={props.moving.is_some().to_string()}
            data-highlight={step.highlight.join(" ")}>
            <div class="narration-nav">
                <button type="button" class="narration-back" data-testid="narration-back"
                    onclick={on_back} disabled={back.is_none()}
                    aria-label={t(l, Key::NarrationBack)} title={t(l, Key::NarrationBackHint)}>
                    { "◀" }
                </button>
                <span class="narration-counter" data-testid="narration-counter"
                    title={pick(&n.goal, l).to_string()}>
                    { format!("{} / {}", p.index + 1, n.steps.len()) }
                </span>
                <button type="button" class={classes!("narration-next", asking.then_some("reveal"))}
                    data-testid="narration-next" onclick={on_next} disabled={next.is_none()}
                    title={t(l, Key::NarrationNextHint)}>
                    { next_label }{ if next.is_some() { " ▶" } else { "" } }
                </button>
            </div>
            if let Some(percent) = props.moving {
                <div class="narration-progress" data-testid="narration-progress"
                    role="progressbar" aria-valuemin="0" aria-valuemax="100"
                    aria-valuenow={percent.to_string()}>
                    <span style={format!("width: {percent}%")}></span>
                </div>
            }
            if props.differs {
                <div class="narration-differs" data-testid="narration-differs" role="status">
                    <span>{ t(l, Key::NarrationDiffers) }</span>
                    <button type="button" data-testid="narration-to-script"
                        onclick={props.on_script.reform(|_: MouseEvent| ())}>
                        { t(l, Key::NarrationToScript) }
                    </button>
                </div>
            }
            <div class="narration-body" aria-live="polite" ref={body}>
                <div class={goal_class} title={pick(&n.goal, l).to_string()}>
                    <span class="narration-kicker">{ t(l, Key::NarrationGoal) }</span>
                    <p data-testid="narration-goal">{ pick(&n.goal, l) }</p>
                </div>
                <p class="narration-text" data-testid="narration-text">{ pick(&step.text, l) }</p>
                if let Some(q) = &step.question {
                    <div class="narration-question" data-testid="narration-question">
                        <span class="narration-kicker">{ t(l, Key::NarrationPredict) }</span>
                        <p>{ pick(q, l) }</p>
                    </div>
                }
                if let (Some(a), true) = (&step.answer, p.revealed) {
                    <div class="narration-answer" data-testid="narration-answer">
                        <span class="narration-kicker">{ t(l, Key::NarrationAnswer) }</span>
                        <p>{ pick(a, l) }</p>
                    </div>
                }
            </div>
        </aside>
    }
}

/// The smallest type scale the panel shrinks to before it lets the text scroll.
const MIN_FIT: f64 = 0.7;

/// Shrinks the panel's type (`--fit`, 1.0 down to `MIN_FIT`) until the step's text, question
/// and answer fit without scrolling: a clicker cannot scroll, and hidden text fails the room.
fn fit_to_panel(body: &NodeRef) {
    let Some(el) = body.cast::<web_sys::Element>() else {
        return;
    };
    let mut fit = 1.0;
    let _ = el.set_attribute("style", "--fit: 1");
    while el.scroll_height() > el.client_height() + 1 && fit > MIN_FIT {
        fit = (fit - 0.05_f64).max(MIN_FIT);
        let _ = el.set_attribute("style", &format!("--fit: {fit:.2}"));
    }
    let _ = el.set_attribute("data-fit", &format!("{fit:.2}"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_sim::scenario::{LocalizedText, NarrationStep};
    use broker_sim::Scenario;

    fn text(s: &str) -> LocalizedText {
        LocalizedText {
            en: s.into(),
            ko: s.into(),
        }
    }

    fn step(at_ms: f64, question: bool) -> NarrationStep {
        NarrationStep {
            at_ms,
            text: text("t"),
            highlight: Vec::new(),
            question: question.then(|| text("q")),
            answer: question.then(|| text("a")),
        }
    }

    fn lesson() -> Narration {
        Narration {
            goal: text("g"),
            steps: vec![step(0.0, false), step(1_000.0, true), step(2_500.0, false)],
        }
    }

    fn pos(index: usize, revealed: bool) -> StepPos {
        StepPos { index, revealed }
    }

    #[test]
    fn forward_asks_then_reveals_then_moves_on() {
        let n = lesson();
        let mut p = pos(0, false);
        let mut seen = vec![p];
        while let Some(next) = next_pos(&n, p) {
            p = next;
            seen.push(p);
        }
        assert_eq!(
            seen,
            vec![pos(0, false), pos(1, false), pos(1, true), pos(2, false)]
        );
    }

    #[test]
    fn back_retraces_forward_exactly() {
        let n = lesson();
        let mut p = pos(2, false);
        let mut seen = vec![p];
        while let Some(back) = back_pos(&n, p) {
            p = back;
            seen.push(p);
        }
        assert_eq!(
            seen,
            vec![pos(2, false), pos(1, true), pos(1, false), pos(0, false)]
        );
    }

    #[test]
    fn stepping_moves_the_clock_and_back_restores_the_exact_state() {
        let scenario = Scenario::from_json(crate::driver::DEFAULT_SCENARIO).expect("default");
        let mut d = Driver::new(&scenario, 1).expect("builds");
        d.set_playing(true);
        let n = lesson();
        // Forward plays to the step (the class sees the motion), then pauses there.
        go_to_step(&mut d, &n, 1);
        assert_eq!(d.moving().map(|m| m.to), Some(SimTime::from_secs(1)));
        while d.moving().is_some() {
            d.tick(16.0);
        }
        assert_eq!((d.now(), d.playing()), (SimTime::from_secs(1), false));
        let at_one = d.snapshot();
        go_to_step(&mut d, &n, 2);
        d.finish_move();
        assert_eq!(d.now(), SimTime::from_millis(2_500));
        go_to_step(&mut d, &n, 1);
        assert_eq!(d.snapshot(), at_one);
        go_to_step(&mut d, &n, 7); // out of range: nothing happens
        assert_eq!(d.now(), SimTime::from_secs(1));
    }
}
