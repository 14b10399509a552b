//! The App component: owns the driver, runs the requestAnimationFrame loop (tick, draw the
//! canvas directly, update panel state only when a figure changed) and lays out the panels.

use crate::canvas::Painter;
use crate::driver::Driver;
use crate::i18n::{t, Key, Lang};
use crate::lab::{Bus, Lab};
use crate::model::PanelModel;
use crate::panels::{Clock, Controls, CounterCards, Header, LedgerLine, Legend};
use crate::panic;
use broker_sim::SimTime;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::HtmlCanvasElement;
use yew::prelude::*;

const LANG_STORAGE_KEY: &str = "broker-lab.lang";

/// The saved choice, else the browser's language.
fn initial_lang() -> Lang {
    let Some(window) = web_sys::window() else {
        return Lang::En;
    };
    let saved = window
        .local_storage()
        .ok()
        .flatten()
        .and_then(|s| s.get_item(LANG_STORAGE_KEY).ok().flatten());
    match saved.as_deref() {
        Some("ko") => Lang::Ko,
        Some("en") => Lang::En,
        _ => Lang::from_tag(&window.navigator().language().unwrap_or_default()),
    }
}

fn save_lang(lang: Lang) {
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item(LANG_STORAGE_KEY, lang.code());
    }
}

fn set_document_lang(lang: Lang) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("lang", lang.code());
    }
}

/// What the last drawn frame showed; the canvas is drawn again only when it changes.
#[derive(Clone, Copy, PartialEq)]
struct DrawnKey {
    time: SimTime,
    lang: Lang,
}

type FrameClosure = Closure<dyn FnMut(f64)>;

#[function_component(App)]
pub fn app() -> Html {
    let driver = use_mut_ref(|| {
        let mut d = Driver::with_default_scenario();
        d.set_playing(true); // the default scenario plays on load
        d
    });
    let lang = use_state(initial_lang);
    // The frame loop reads the language without re-subscribing to yew state.
    let lang_cell = use_mut_ref(|| *lang);
    let panel = use_state(|| PanelModel::from_driver(&driver.borrow()));
    let clock = use_state(|| driver.borrow().now());
    let canvas_ref = use_node_ref();
    let bus = use_memo((), |_| Bus::default());
    let selection = use_state(|| None::<broker_sim::snapshot::NodeRef>);

    {
        let lang = *lang;
        use_effect_with(lang, move |_| {
            set_document_lang(lang);
        });
    }

    // The animation loop: started once after mount, cancelled on unmount.
    {
        let driver = driver.clone();
        let lang_cell = lang_cell.clone();
        let panel = panel.clone();
        let clock = clock.clone();
        let canvas_ref = canvas_ref.clone();
        let bus = bus.clone();
        use_effect_with((), move |_| {
            let running = Rc::new(Cell::new(true));
            let frame_id = Rc::new(Cell::new(None::<i32>));
            let slot: Rc<RefCell<Option<FrameClosure>>> = Rc::new(RefCell::new(None));
            let panic_pending = Cell::new(panic::panic_requested());
            let mut last_ts: Option<f64> = None;
            let mut painter: Option<Painter> = None;
            let mut drawn: Option<DrawnKey> = None;
            let mut shown_panel = (*panel).clone();
            let mut shown_clock = *clock;
            let (running2, frame_id2, slot2) = (running.clone(), frame_id.clone(), slot.clone());
            let on_frame = move |ts: f64| {
                if !running2.get() || panic::has_panicked() {
                    return;
                }
                let dt = last_ts.map_or(0.0, |last| ts - last);
                last_ts = Some(ts);
                driver.borrow_mut().tick(dt);

                if painter.is_none() {
                    painter = canvas_ref
                        .cast::<HtmlCanvasElement>()
                        .and_then(Painter::new);
                }
                let d = driver.borrow();
                let key = DrawnKey {
                    time: d.now(),
                    lang: *lang_cell.borrow(),
                };
                let dirty = bus.take_dirty();
                let resized = painter.as_mut().is_some_and(Painter::sync_size);
                // One snapshot per frame that changed, shared by the canvas and every panel.
                if dirty || resized || drawn != Some(key) {
                    let snap = d.snapshot();
                    if let Some(p) = painter.as_mut() {
                        p.draw(&snap, d.scenario(), key.lang);
                    }
                    drawn = Some(key);
                    bus.publish(&d, &snap);
                }
                let model = PanelModel::from_driver(&d);
                if model != shown_panel {
                    shown_panel = model.clone();
                    panel.set(model);
                }
                // The clock shows milliseconds: update it only when those change.
                let now = SimTime(d.now().micros() / 1_000 * 1_000);
                if now != shown_clock {
                    shown_clock = now;
                    clock.set(now);
                }
                drop(d);

                if panic_pending.replace(false) {
                    panic!("deliberate panic requested by ?debug=panic (a test of the panic box)");
                }
                request_frame(&slot2, &frame_id2);
            };
            *slot.borrow_mut() = Some(Closure::new(on_frame));
            request_frame(&slot, &frame_id);
            move || {
                running.set(false);
                if let (Some(id), Some(w)) = (frame_id.get(), web_sys::window()) {
                    let _ = w.cancel_animation_frame(id);
                }
                // Breaks the closure's reference to itself.
                slot.borrow_mut().take();
            }
        });
    }

    let on_toggle_play = {
        let driver = driver.clone();
        let panel = panel.clone();
        Callback::from(move |()| {
            driver.borrow_mut().toggle_playing();
            panel.set(PanelModel::from_driver(&driver.borrow()));
        })
    };

    // Space toggles play/pause, unless a control has focus (a focused button handles Space).
    {
        let on_toggle_play = on_toggle_play.clone();
        use_effect_with((), move |_| {
            let listener = Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(
                move |e: web_sys::KeyboardEvent| {
                    if e.key() != " " || e.repeat() || e.ctrl_key() || e.meta_key() || e.alt_key() {
                        return;
                    }
                    let in_control = e
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                        .is_some_and(|el| {
                            matches!(
                                el.tag_name().as_str(),
                                "BUTTON" | "SELECT" | "INPUT" | "TEXTAREA" | "OPTION"
                            )
                        });
                    if !in_control {
                        e.prevent_default();
                        on_toggle_play.emit(());
                    }
                },
            );
            let window = web_sys::window();
            if let Some(w) = &window {
                let _ = w
                    .add_event_listener_with_callback("keydown", listener.as_ref().unchecked_ref());
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

    let on_speed = {
        let driver = driver.clone();
        let panel = panel.clone();
        Callback::from(move |speed: f64| {
            driver.borrow_mut().set_speed(speed);
            panel.set(PanelModel::from_driver(&driver.borrow()));
        })
    };

    let on_toggle_lang = {
        let lang = lang.clone();
        let lang_cell = lang_cell.clone();
        Callback::from(move |()| {
            let next = lang.other();
            *lang_cell.borrow_mut() = next;
            save_lang(next);
            lang.set(next);
        })
    };

    let l = *lang;
    let (title, description) = {
        let d = driver.borrow();
        let pick = |text: Option<&broker_sim::scenario::LocalizedText>| -> String {
            text.map(|x| match l {
                Lang::Ko => x.ko.clone(),
                Lang::En => x.en.clone(),
            })
            .unwrap_or_default()
            .trim()
            .to_string()
        };
        let scenario = d.scenario();
        let title = pick(scenario.title.as_ref());
        let title = if title.is_empty() {
            t(l, Key::Untitled).to_string()
        } else {
            title
        };
        (
            AttrValue::from(title),
            AttrValue::from(pick(scenario.description.as_ref())),
        )
    };
    let p = &*panel;
    let lab = Lab {
        driver: driver.clone(),
        bus: bus.clone(),
        lang: l,
        selection: *selection,
        on_select: {
            let selection = selection.clone();
            Callback::from(move |node| selection.set(node))
        },
    };

    html! {
        <ContextProvider<Lab> context={lab}>
        <div class="app">
            <Header lang={l} {title} {description} {on_toggle_lang} />
            <section class="toolbar">
                <Controls lang={l} playing={p.playing} speed={p.speed} lagging={p.lagging}
                    {on_toggle_play} {on_speed} />
                <Clock lang={l} time={*clock} />
                <CounterCards lang={l} counters={p.counters} />
            </section>
            <main class="stage">
                <canvas ref={canvas_ref} class="topology" data-testid="topology"
                    role="img" aria-label={t(l, Key::CanvasLabel)}></canvas>
            </main>
            <footer class="footer">
                <LedgerLine lang={l} ledger={p.ledger.clone()} />
                <Legend lang={l} />
            </footer>
        </div>
        </ContextProvider<Lab>>
    }
}

/// Schedules the loop's next frame.
fn request_frame(slot: &Rc<RefCell<Option<FrameClosure>>>, frame_id: &Rc<Cell<Option<i32>>>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Some(closure) = slot.borrow().as_ref() {
        frame_id.set(
            window
                .request_animation_frame(closure.as_ref().unchecked_ref())
                .ok(),
        );
    }
}
