//! The App component: owns the driver, runs the requestAnimationFrame loop (tick, draw the
//! canvas directly, update panel state only when a figure changed) and lays out the panels.

use crate::canvas::{DrawOptions, DrawOptionsHandle, Painter};
use crate::compare::{ColourKey, CompareButton, CompareOverlay};
use crate::driver::Driver;
use crate::i18n::{t, Key, Lang};
use crate::kinds::node_key;
use crate::lab::{Bus, Lab};
use crate::model::PanelModel;
use crate::panels::{Clock, CounterCards, Header, LedgerLine, Legend};
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

/// What the last drawn frame showed; the canvas is drawn again only when it (or the draw
/// options) changes.
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
    let trace = crate::lab::use_trace_target();
    // Shared by the frame loop (draws) and the canvas's click and key handlers (hit tests).
    let painter = use_mut_ref(|| None::<Painter>);
    // Selection, highlights and colour mode; panels change them via `use_draw_options`.
    let draw_options = use_memo((), |_| {
        let handle = DrawOptionsHandle::default();
        handle.update(|o| o.reduced_motion = prefers_reduced_motion());
        handle
    });
    {
        let draw_options = draw_options.clone();
        use_effect_with(*selection, move |sel| {
            draw_options.update(|o| o.selection = *sel)
        });
    }

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
        let painter = painter.clone();
        let draw_options = draw_options.clone();
        use_effect_with((), move |_| {
            let running = Rc::new(Cell::new(true));
            let frame_id = Rc::new(Cell::new(None::<i32>));
            let slot: Rc<RefCell<Option<FrameClosure>>> = Rc::new(RefCell::new(None));
            let panic_pending = Cell::new(panic::panic_requested());
            let mut last_ts: Option<f64> = None;
            let mut drawn: Option<DrawnKey> = None;
            let mut drawn_options: Option<DrawOptions> = None;
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

                let resized = {
                    let mut painter = painter.borrow_mut();
                    if painter.is_none() {
                        *painter = canvas_ref
                            .cast::<HtmlCanvasElement>()
                            .and_then(Painter::new);
                    }
                    painter.as_mut().is_some_and(Painter::sync_size)
                };
                let d = driver.borrow();
                let key = DrawnKey {
                    time: d.now(),
                    lang: *lang_cell.borrow(),
                };
                let dirty = bus.take_dirty();
                let restyled = drawn_options.as_ref() != Some(&*draw_options.0.borrow());
                // One snapshot per frame that changed, shared by the canvas and every panel.
                if dirty || resized || restyled || drawn != Some(key) {
                    let snap = d.snapshot();
                    // Borrows end before panels run: a panel may change the options.
                    {
                        let options = draw_options.0.borrow();
                        if let Some(p) = painter.borrow_mut().as_mut() {
                            p.draw(&snap, key.lang, &options);
                        }
                        if restyled {
                            drawn_options = Some(options.clone());
                        }
                    }
                    drawn = Some(key);
                    bus.publish(&d, &snap);
                    // The run's fingerprint, so anyone can check that a run in the browser is
                    // the same as the headless runner's (`broker-sim run --until <t>us`).
                    if let Some(c) = canvas_ref.cast::<web_sys::Element>() {
                        let _ = c.set_attribute("data-now-us", &d.now().micros().to_string());
                        let _ =
                            c.set_attribute("data-digest", &format!("{:016x}", d.sim().digest().0));
                    }
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

    let on_set_lang = {
        let lang = lang.clone();
        let lang_cell = lang_cell.clone();
        Callback::from(move |next: Lang| {
            *lang_cell.borrow_mut() = next;
            save_lang(next);
            lang.set(next);
        })
    };
    // From the cell, not the render's value: a toggle right after a set must see the set.
    let on_toggle_lang = {
        let (lang_cell, on_set_lang) = (lang_cell.clone(), on_set_lang.clone());
        Callback::from(move |()| {
            let next = lang_cell.borrow().other();
            on_set_lang.emit(next);
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
        trace,
    };

    // Canvas selection: a click selects the node under the pointer (again: clears); with the
    // canvas focused, arrow keys move through the nodes and Escape clears.
    let on_canvas_click = {
        let (painter, on_select, current) = (painter.clone(), lab.on_select.clone(), *selection);
        Callback::from(move |e: MouseEvent| {
            let hit = crate::canvas::click_selection(&painter.borrow(), &e, current);
            on_select.emit(hit);
        })
    };
    // Hovering a node tells what it is (the glossary); elsewhere, how to select.
    let on_canvas_hover = {
        let painter = painter.clone();
        Callback::from(move |e: MouseEvent| {
            let hint = painter
                .borrow()
                .as_ref()
                .map(|p| p.hint(l, f64::from(e.offset_x()), f64::from(e.offset_y())));
            let canvas = e.target_dyn_into::<web_sys::HtmlElement>();
            if let (Some(hint), Some(canvas)) = (hint, canvas) {
                if canvas.title() != hint {
                    canvas.set_title(&hint);
                }
            }
        })
    };
    let on_canvas_key = {
        let (painter, on_select, current) = (painter.clone(), lab.on_select.clone(), *selection);
        Callback::from(move |e: KeyboardEvent| {
            if let Some(next) = crate::canvas::key_selection(&painter.borrow(), &e.key(), current) {
                // The arrows are global shortcuts too (step, narration): not while here.
                e.prevent_default();
                e.stop_propagation();
                on_select.emit(next);
            }
        })
    };
    let selected_key = {
        let driver = driver.clone();
        use_memo(*selection, move |sel| {
            sel.and_then(|n| node_key(&driver.borrow().snapshot(), n))
        })
    };
    // Seminar mode's lesson step highlights its entities on the canvas.
    let on_view = {
        let draw_options = draw_options.clone();
        Callback::from(move |v: crate::presenter::SeminarView| {
            draw_options.update(|o| {
                o.highlight = v.highlight;
                o.messages = v.messages;
            })
        })
    };

    html! {
        <ContextProvider<Lab> context={lab}>
        <ContextProvider<DrawOptionsHandle> context={(*draw_options).clone()}>
        <crate::presenter::SeminarProvider {on_set_lang} {on_view}>
        <div class="app">
            <div class="topbar-row">
                <Header lang={l} {title} {description} {on_toggle_lang} />
                <CompareButton />
                <crate::presenter::SeminarBar />
            </div>
            <section class="toolbar">
                <crate::controls::Controls />
                <Clock lang={l} time={*clock} />
                <CounterCards />
            </section>
            <crate::toolbar::FailureToolbar />
            <main class="stage" data-selected={(*selected_key).clone()}>
                <canvas ref={canvas_ref} class="topology" data-testid="topology"
                    data-motion={if draw_options.0.borrow().reduced_motion { "reduced" } else { "full" }}
                    role="img" aria-label={t(l, Key::CanvasLabel)} tabindex="0"
                    title={t(l, Key::CanvasSelectHint)}
                    onclick={on_canvas_click} onmousemove={on_canvas_hover}
                    onkeydown={on_canvas_key}></canvas>
                <crate::brokerless::BrokerlessPanel />
                <crate::saga::SagaPanel />
                <crate::presenter::NarrationPanel />
                <crate::inspector::Inspector />
                <CompareOverlay />
                <ColourKey />
            </main>
            <crate::timeline::Timeline />
            <crate::dashboard::Dock />
            <footer class="footer">
                <LedgerLine lang={l} ledger={p.ledger.clone()} />
                <Legend />
            </footer>
        </div>
        </crate::presenter::SeminarProvider>
        </ContextProvider<DrawOptionsHandle>>
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

/// The user's `prefers-reduced-motion` setting (read once at start).
fn prefers_reduced_motion() -> bool {
    web_sys::window()
        .and_then(|w| {
            w.match_media("(prefers-reduced-motion: reduce)")
                .ok()
                .flatten()
        })
        .is_some_and(|m| m.matches())
}
