//! Seminar mode: the state that ties the scenario library, the narration player, sharing and
//! presenter mode together, the header bar with their buttons, and presenter mode itself
//! (full screen, large type, colour-blind-safe colours, no editor chrome).
//!
//! The page's mode lives on `<html>`: class `present` / `embed` (the CSS hides editor chrome
//! by it), and `<body data-narration="active">` while a lesson's keys own PageDown / → / Space.

use crate::i18n::{t, Key, Lang};
use crate::lab::{use_frame_model, use_lab, Lab};
use crate::narration::{
    back_pos, go_to_step, next_pos, step_time, use_narration_keys, NarrationPlayer, StepPos,
};
use crate::presets::{self, ScenarioPicker};
use crate::share::{self, Loaded, Problem, ScenarioRef, Session};
use broker_sim::scenario::Narration;
use broker_sim::SimTime;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// How often the session is autosaved (only when it changed).
const AUTOSAVE_MS: i32 = 3_000;

/// A message box: what failed and why, or a plain confirmation.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub title: Key,
    pub problem: Option<Problem>,
}

/// The link the Share button made, and whether the clipboard took it (`None` while asking).
#[derive(Clone, Debug, PartialEq)]
pub struct ShareLink {
    pub url: String,
    pub copied: Option<bool>,
}

/// An autosaved session offered back on load.
#[derive(Clone, Debug, PartialEq)]
pub struct Offer {
    pub session: Session,
    pub title: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeminarState {
    /// The running scenario's lesson, if it has one.
    pub narration: Option<Rc<Narration>>,
    pub pos: StepPos,
    /// Bumped by every step the class takes; the clock follows it.
    pub nav: u64,
    pub present: bool,
    pub embed: bool,
    pub picker: bool,
    /// The picker is the start screen: a welcome above the lessons.
    pub welcome: bool,
    pub notice: Option<Notice>,
    pub share: Option<ShareLink>,
    pub offer: Option<Rc<Offer>>,
    /// The preset being fetched, while it is.
    pub loading: Option<&'static str>,
}

pub enum Action {
    /// The running scenario's lesson as the frame shows it; a new one starts at its first step.
    Narration(Option<Rc<Narration>>),
    /// Back to the first step (a lesson chosen again).
    Restart,
    /// One click: true = forward.
    Move(bool),
    /// A restored session: its lesson and step, with the clock already in place.
    Restored(Option<Rc<Narration>>, StepPos),
    Present(bool),
    Picker(bool),
    /// The start screen, on a first visit to `/`.
    Welcome,
    Notice(Option<Notice>),
    Share(Option<ShareLink>),
    Offer(Option<Rc<Offer>>),
    Loading(Option<&'static str>),
}

impl Reducible for SeminarState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            Action::Narration(n) if n == s.narration => return self,
            Action::Narration(n) => {
                s.narration = n;
                s.pos = StepPos::default();
                s.nav += 1;
            }
            Action::Restart => {
                s.pos = StepPos::default();
                s.nav += 1;
            }
            Action::Move(forward) => {
                let Some(n) = &s.narration else {
                    return self;
                };
                let to = if forward {
                    next_pos(n, s.pos)
                } else {
                    back_pos(n, s.pos)
                };
                let Some(to) = to else {
                    return self;
                };
                s.pos = to;
                s.nav += 1;
            }
            Action::Restored(n, pos) => {
                s.narration = n;
                s.pos = pos;
            }
            Action::Present(on) => s.present = on,
            Action::Picker(open) => {
                s.picker = open;
                s.welcome = false;
            }
            Action::Welcome => {
                s.picker = true;
                s.welcome = true;
            }
            Action::Notice(n) => s.notice = n,
            Action::Share(link) => s.share = link,
            Action::Offer(o) => s.offer = o,
            Action::Loading(id) if id == s.loading => return self,
            Action::Loading(id) => s.loading = id,
        }
        Rc::new(s)
    }
}

/// The seminar state, shared as a context.
pub type Seminar = UseReducerHandle<SeminarState>;

#[hook]
fn use_seminar() -> Seminar {
    use_context::<Seminar>().expect("mounted inside SeminarProvider")
}

/// Whether the page's query has `name=1` (or `name=true`).
fn query_flag(name: &str) -> bool {
    query(name).is_some_and(|v| v == "1" || v == "true")
}

/// The value of `name` in the page's query.
pub fn query(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}

/// The language the page shows now (`<html lang>`, which the app keeps current).
fn page_lang() -> Lang {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|e| e.get_attribute("lang"))
        .map_or(Lang::En, |tag| Lang::from_tag(&tag))
}

thread_local! {
    /// Counts requests to open a preset: only the latest one still loads once fetched.
    static REQUEST: Cell<u64> = const { Cell::new(0) };
}

/// What long-lived listeners (hash changes, the autosave timer) need from the latest render.
#[derive(Clone)]
struct Latest {
    lab: Lab,
    state: Seminar,
    on_set_lang: Callback<Lang>,
}

impl Latest {
    fn notice(&self, title: Key, problem: Problem) {
        self.state.dispatch(Action::Notice(Some(Notice {
            title,
            problem: Some(problem),
        })));
    }

    /// Installs a checked session or scenario, with its language and lesson step.
    fn install(&self, p: share::Prepared, title: Key) {
        if let Err(problem) = share::install(&self.lab, &p) {
            return self.notice(title, problem);
        }
        // Set, never toggled: the page's language may not be settled yet when a link opens.
        if let Some(l) = p.lang {
            self.on_set_lang.emit(l);
        }
        let narration = p.scenario.narration.map(Rc::new);
        let pos = p.step.unwrap_or_default();
        self.state.dispatch(Action::Restored(narration, pos));
        self.state.dispatch(Action::Notice(None));
        self.state.dispatch(Action::Offer(None));
    }

    /// Runs `then` once preset `id` is at hand: at once when it is (or when no preset has
    /// that name: `then` reports it), else after fetching it, while a "loading…" note shows
    /// (on the chosen entry, when the picker is open) and the page stays live. The picker
    /// closes once there is something to show. A later request wins over one still loading;
    /// a failed fetch or a bad file is a notice under `title`.
    fn with_preset(&self, id: &str, title: Key, then: impl FnOnce(&Latest) + 'static) {
        let ticket = REQUEST.with(|r| {
            r.set(r.get() + 1);
            r.get()
        });
        let Some(entry) = presets::entry(id).filter(|e| presets::scenario(e.id).is_none()) else {
            self.state.dispatch(Action::Loading(None));
            self.state.dispatch(Action::Picker(false));
            return then(self);
        };
        self.state.dispatch(Action::Loading(Some(entry.id)));
        let me = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let fetched = presets::fetch(entry.id).await;
            if REQUEST.with(Cell::get) != ticket {
                return;
            }
            me.state.dispatch(Action::Loading(None));
            me.state.dispatch(Action::Picker(false));
            match fetched {
                Ok(_) => then(&me),
                Err((key, detail)) => me.notice(title, Problem { key, detail }),
            }
        });
    }

    /// Loads preset `id` (fetched first if need be) at its start.
    fn open_preset(&self, id: &str, title: Key) {
        let owned = id.to_string();
        self.with_preset(id, title, move |me| match presets::load(&me.lab, &owned) {
            Ok(()) => {
                share::clear_fragment();
                me.state.dispatch(Action::Offer(None));
                me.state.dispatch(Action::Restart);
            }
            Err((key, detail)) => me.notice(title, Problem { key, detail }),
        });
    }

    /// Opens a session: the preset it names is fetched first, then its commands replay.
    fn open_session(&self, session: Result<Session, Problem>, title: Key) {
        let preset = match &session {
            Ok(Session {
                scenario: ScenarioRef::Preset(id),
                ..
            }) => Some(id.clone()),
            _ => None,
        };
        let open = move |me: &Latest| match session.and_then(share::prepare_session) {
            Ok(p) => me.install(p, title),
            Err(problem) => me.notice(title, problem),
        };
        match preset {
            Some(id) => self.with_preset(&id, title, open),
            None => open(self),
        }
    }

    /// Opens the link's `#s=` session, if the URL has one.
    fn open_fragment(&self) -> bool {
        let Some(payload) = share::fragment_payload() else {
            return false;
        };
        self.open_session(share::decode_fragment(&payload), Key::LinkRejected);
        true
    }

    fn open_text(&self, text: &str) {
        let prepared = share::parse_text(text).and_then(|loaded| match loaded {
            Loaded::Session(s) => share::prepare_session(*s),
            Loaded::Scenario(s) => share::prepare_scenario(*s),
        });
        match prepared {
            Ok(p) => {
                share::clear_fragment();
                self.install(p, Key::FileRejected)
            }
            Err(problem) => self.notice(Key::FileRejected, problem),
        }
    }

    fn session(&self, inline: bool) -> Session {
        let d = self.lab.driver.borrow();
        share::capture(&d, page_lang(), Some(self.state.pos), inline)
    }
}

/// Asks for full screen on the page; a refusal (no user gesture, a kiosk) is not an error.
fn request_fullscreen() {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    else {
        return;
    };
    swallow(call_method(&root, "requestFullscreen"));
}

fn exit_fullscreen() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if document.fullscreen_element().is_some() {
        swallow(call_method(&document, "exitFullscreen"));
    }
}

/// Calls a promise-returning method by name (web-sys drops these promises, and an unhandled
/// rejection would reach the console).
fn call_method(target: &JsValue, name: &str) -> Option<js_sys::Promise> {
    let f: js_sys::Function = js_sys::Reflect::get(target, &JsValue::from_str(name))
        .ok()?
        .dyn_into()
        .ok()?;
    f.call0(target).ok()?.dyn_into().ok()
}

/// Awaits the promise, so a refusal is handled rather than reported as uncaught.
fn swallow(promise: Option<js_sys::Promise>) {
    if let Some(p) = promise {
        wasm_bindgen_futures::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(p).await;
        });
    }
}

fn set_root_class(name: &str, on: bool) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.class_list().toggle_with_force(name, on);
    }
}

fn set_body_narration(active: bool) {
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        let _ = if active {
            body.set_attribute("data-narration", "active")
        } else {
            body.remove_attribute("data-narration")
        };
    }
}

fn frame_narration(
    d: &crate::driver::Driver,
    _: &broker_sim::Snapshot,
    _: &(),
) -> Option<Rc<Narration>> {
    d.scenario().narration.clone().map(Rc::new)
}

/// A window listener kept for the component's life.
fn listen(event: &str, f: impl FnMut(web_sys::Event) + 'static) -> impl FnOnce() {
    let closure = Closure::<dyn FnMut(web_sys::Event)>::new(f);
    let window = web_sys::window();
    if let Some(w) = &window {
        let _ = w.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
    }
    let event = event.to_string();
    move || {
        if let Some(w) = &window {
            let _ = w.remove_event_listener_with_callback(&event, closure.as_ref().unchecked_ref());
        }
        drop(closure);
    }
}

#[derive(Properties, PartialEq)]
pub struct ProviderProps {
    pub children: Html,
    /// Sets the UI language: a link or file carries the one it was made in.
    pub on_set_lang: Callback<Lang>,
    /// What the canvas should show for seminar mode, sent whenever it changes.
    #[prop_or_default]
    pub on_view: Callback<SeminarView>,
}

/// Seminar mode's part of the canvas: the entities the lesson step highlights.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeminarView {
    pub highlight: Vec<String>,
    /// Messages the step names ("m9"): the drawing labels their chips.
    pub messages: Vec<broker_sim::MessageId>,
}

/// The message ids ("m9", not "m9x" or "km9") named in `texts`, each once, in order.
pub fn named_messages<'a>(texts: impl Iterator<Item = &'a str>) -> Vec<broker_sim::MessageId> {
    let mut ids = Vec::new();
    for text in texts {
        let b = text.as_bytes();
        for (i, _) in text.match_indices('m') {
            let word_start = i == 0 || !b[i - 1].is_ascii_alphanumeric();
            let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            let end = i + 1 + digits;
            let word_end = end == b.len() || !b[end].is_ascii_alphanumeric();
            if word_start && digits > 0 && word_end {
                if let Ok(n) = text[i + 1..end].parse() {
                    let id = broker_sim::MessageId(n);
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
            }
        }
    }
    ids
}

/// Provides the seminar state and runs its effects: opening `#s=` links, `?scenario=`,
/// `?embed=1` and `?present=1` on load, the clock following the lesson, the narration keys,
/// the autosave, and the page-level mode classes. Also shows the messages and dialogs.
#[function_component(SeminarProvider)]
pub fn seminar_provider(props: &ProviderProps) -> Html {
    let lab = use_lab();
    let state = use_reducer(|| {
        let (embed, present) = (query_flag("embed"), query_flag("present"));
        // The page's mode classes from the first frame on, before any effect: the drawing is
        // never laid out, nor the timeline drawn, for a mode the page is not in.
        set_root_class("embed", embed);
        set_root_class("present", present);
        SeminarState {
            embed,
            present,
            ..SeminarState::default()
        }
    });
    let latest = use_mut_ref(|| None::<Latest>);
    *latest.borrow_mut() = Some(Latest {
        lab: lab.clone(),
        state: state.clone(),
        on_set_lang: props.on_set_lang.clone(),
    });
    let get = {
        let latest = latest.clone();
        move || latest.borrow().clone()
    };

    // The running scenario's lesson; a new one starts over.
    let narration = use_frame_model((), frame_narration);
    {
        let dispatcher = state.dispatcher();
        use_effect_with(narration, move |n| {
            dispatcher.dispatch(Action::Narration(n.clone()))
        });
    }

    // The clock follows the class through the lesson.
    {
        let (lab, state2) = (lab.clone(), state.clone());
        use_effect_with(state.nav, move |&nav| {
            if let (true, Some(n)) = (nav > 0, &state2.narration) {
                lab.with_driver(|d| go_to_step(d, n, state2.pos.index));
            }
        });
    }

    // Play in a lesson plays to the next pause point: the clock stops at the next step (or
    // at the question waiting to be answered) and the narration moves with it, as Next does.
    let free_play = use_frame_model((), |d, _, _| d.playing() && d.moving().is_none());
    {
        let (lab, state2) = (lab.clone(), state.clone());
        use_effect_with(free_play, move |&free| {
            if free && state2.narration.is_some() {
                narration_move(&lab, &state2.dispatcher(), true);
            }
        });
    }

    // On load: a shared link, else ?scenario=, else offer the autosaved session.
    {
        let get = get.clone();
        use_effect_with((), move |_| {
            let Some(me) = get() else { return };
            presets::keep_offline();
            if me.open_fragment() {
                return;
            }
            if let Some(id) = query("scenario") {
                me.open_preset(&id, Key::LinkRejected);
                return;
            }
            let offer = share::saved_session()
                .and_then(|json| share::session_from_json(&json).ok())
                .filter(|s| !me.state.embed && share::worth_offering(s));
            if let Some(session) = offer {
                let title = share::session_title(&session, page_lang());
                me.state
                    .dispatch(Action::Offer(Some(Rc::new(Offer { session, title }))));
            } else if !me.state.embed && share::first_visit() {
                // A newcomer sees the lessons first; the lab plays behind.
                me.state.dispatch(Action::Welcome);
            }
        });
    }

    // A link pasted into the address bar of an open page.
    {
        let get = get.clone();
        use_effect_with((), move |_| {
            listen("hashchange", move |_: web_sys::Event| {
                if let Some(me) = get() {
                    me.open_fragment();
                }
            })
        });
    }

    // Autosave, throttled: only when something changed, never while an offer waits (it would
    // overwrite the session being offered) and never in an embedded player.
    {
        let get = get.clone();
        use_effect_with((), move |_| {
            let last = RefCell::new(String::new());
            let tick = Closure::<dyn FnMut()>::new(move || {
                let Some(me) = get() else { return };
                if me.state.embed || me.state.offer.is_some() {
                    return;
                }
                let json = serde_json::to_string(&me.session(false)).unwrap_or_default();
                if *last.borrow() != json {
                    share::autosave(&json);
                    *last.borrow_mut() = json;
                }
            });
            let window = web_sys::window();
            let id = window.as_ref().and_then(|w| {
                w.set_interval_with_callback_and_timeout_and_arguments_0(
                    tick.as_ref().unchecked_ref(),
                    AUTOSAVE_MS,
                )
                .ok()
            });
            move || {
                if let (Some(w), Some(id)) = (window, id) {
                    w.clear_interval_with_handle(id);
                }
                drop(tick);
            }
        });
    }

    {
        let (lab, dispatcher) = (lab.clone(), state.dispatcher());
        use_narration_keys(Callback::from(move |forward| {
            narration_move(&lab, &dispatcher, forward)
        }));
    }

    // The page-level mode: classes on <html>, the narration flag on <body>.
    {
        let key = (
            state.present,
            state.embed,
            state.narration.is_some() && !state.picker,
        );
        use_effect_with(key, |&(present, embed, narrating)| {
            set_root_class("present", present);
            set_root_class("embed", embed);
            set_body_narration(narrating);
        });
    }

    // The canvas's part: the step's highlights, and the messages its text, question and
    // revealed answer name.
    {
        let step = state
            .narration
            .as_ref()
            .and_then(|n| n.steps.get(state.pos.index));
        let highlight = step.map(|s| s.highlight.clone()).unwrap_or_default();
        let messages = step.map_or_else(Vec::new, |s| {
            let answer = s.answer.as_ref().filter(|_| state.pos.revealed);
            let texts = [Some(&s.text), s.question.as_ref(), answer];
            named_messages(texts.into_iter().flatten().map(|x| x.en.as_str()))
        });
        let view = SeminarView {
            highlight,
            messages,
        };
        let on_view = props.on_view.clone();
        use_effect_with(view, move |view| on_view.emit(view.clone()));
    }

    html! {
        <ContextProvider<Seminar> context={state.clone()}>
            { props.children.clone() }
            <SeminarOverlays on_set_lang={props.on_set_lang.clone()} />
        </ContextProvider<Seminar>>
    }
}

#[derive(Properties, PartialEq)]
struct OverlaysProps {
    /// The picker's language switch: the start screen covers the header's.
    on_set_lang: Callback<Lang>,
}

/// Messages, the share link, the restore offer and the scenario picker: fixed overlays.
#[function_component(SeminarOverlays)]
fn seminar_overlays(props: &OverlaysProps) -> Html {
    let lab = use_lab();
    let state = use_seminar();
    let l = lab.lang;
    let close = |action: fn() -> Action| {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| state.dispatch(action()))
    };
    let notice = state.notice.as_ref().map(|n| {
        html! {
            <div class="seminar-toast notice error" role="alert" data-testid="notice">
                <div class="toast-text">
                    <strong data-testid="notice-title">{ t(l, n.title) }</strong>
                    if let Some(p) = &n.problem {
                        <p data-testid="notice-detail">{ p.text(l) }</p>
                    }
                </div>
                <button type="button" class="seminar-close" data-testid="notice-close"
                    aria-label={t(l, Key::Close)} title={t(l, Key::Close)}
                    onclick={close(|| Action::Notice(None))}>{ "✕" }</button>
            </div>
        }
    });
    let share = state.share.as_ref().map(|s| {
        let status = match s.copied {
            Some(true) => t(l, Key::ShareCopied),
            _ => t(l, Key::ShareCopyYourself),
        };
        let onfocus = Callback::from(|e: FocusEvent| {
            if let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
                input.select();
            }
        });
        html! {
            <div class="seminar-toast share-box" role="status" data-testid="share-box">
                <div class="toast-text">
                    <strong data-testid="share-status">{ status }</strong>
                    <input class="share-link" data-testid="share-link" readonly=true
                        value={s.url.clone()} {onfocus} aria-label={t(l, Key::Share)} />
                </div>
                <button type="button" class="seminar-close" data-testid="share-close"
                    aria-label={t(l, Key::Close)} title={t(l, Key::Close)}
                    onclick={close(|| Action::Share(None))}>{ "✕" }</button>
            </div>
        }
    });
    let offer = state.offer.as_ref().map(|o| {
        let on_restore = {
            let (lab, state, o) = (lab.clone(), state.clone(), o.clone());
            Callback::from(move |_: MouseEvent| {
                let me = Latest {
                    lab: lab.clone(),
                    state: state.clone(),
                    // The saved language was the user's own choice, which the app kept.
                    on_set_lang: Callback::noop(),
                };
                me.open_session(Ok(o.session.clone()), Key::SessionRejected);
            })
        };
        html! {
            <div class="seminar-toast offer" role="status" data-testid="restore-offer">
                <div class="toast-text">
                    <strong>{ t(l, Key::RestoreOffer) }</strong>
                    <p>{ &o.title }{ " · " }{ crate::model::format_clock(SimTime(o.session.time_us)) }</p>
                </div>
                <button type="button" class="seminar-action primary" data-testid="restore-yes"
                    onclick={on_restore}>{ t(l, Key::Restore) }</button>
                <button type="button" class="seminar-action" data-testid="restore-no"
                    onclick={close(|| Action::Offer(None))}>{ t(l, Key::Dismiss) }</button>
            </div>
        }
    });
    // The picker shows it on the chosen entry.
    let loading = state
        .loading
        .filter(|_| !state.picker)
        .and_then(presets::entry)
        .map(|e| {
            html! {
                <div class="seminar-toast" role="status" data-testid="preset-loading">
                    <div class="toast-text">
                        <strong>{ t(l, Key::PresetLoading) }</strong>
                        <p>{ e.title(l) }</p>
                    </div>
                </div>
            }
        });
    let picker = state.picker.then(|| {
        let on_choose = {
            let me = Latest {
                lab: lab.clone(),
                state: state.clone(),
                on_set_lang: Callback::noop(),
            };
            Callback::from(move |id: &'static str| me.open_preset(id, Key::PresetRejected))
        };
        let on_lang = props.on_set_lang.reform(move |()| l.other());
        html! { <ScenarioPicker lang={l} welcome={state.welcome} loading={state.loading} {on_choose} {on_lang} on_close={
            let state = state.clone();
            Callback::from(move |()| state.dispatch(Action::Picker(false)))
        } /> }
    });
    html! {
        <>
            <div class="seminar-toasts">{ for loading }{ for notice }{ for offer }{ for share }</div>
            { for picker }
        </>
    }
}

/// The header buttons: Scenarios, Share, Export, Import, Present. The root lists the lesson
/// ids (`data-lessons`) for tests and tools.
#[function_component(SeminarBar)]
pub fn seminar_bar() -> Html {
    let lab = use_lab();
    let state = use_seminar();
    let l = lab.lang;
    let me = Latest {
        lab: lab.clone(),
        state: state.clone(),
        on_set_lang: Callback::noop(),
    };
    let file_input = use_node_ref();

    let on_picker = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| state.dispatch(Action::Picker(true)))
    };
    let on_share = {
        let me = me.clone();
        Callback::from(move |_: MouseEvent| {
            let payload = share::encode_fragment(&me.session(false));
            let Some(url) = share::publish_fragment(&payload) else {
                return;
            };
            me.state.dispatch(Action::Share(Some(ShareLink {
                url: url.clone(),
                copied: None,
            })));
            let state = me.state.clone();
            let shown = url.clone();
            share::copy_text(
                &url,
                Callback::from(move |copied| {
                    state.dispatch(Action::Share(Some(ShareLink {
                        url: shown.clone(),
                        copied: Some(copied),
                    })))
                }),
            );
        })
    };
    let on_export = {
        let me = me.clone();
        Callback::from(move |_: MouseEvent| {
            let json = serde_json::to_string_pretty(&me.session(true)).unwrap_or_default();
            share::download("broker-lab-session.json", &json);
        })
    };
    let on_import_click = {
        let file_input = file_input.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(input) = file_input.cast::<web_sys::HtmlInputElement>() {
                input.click();
            }
        })
    };
    let on_file = {
        let me = me.clone();
        Callback::from(move |e: Event| {
            let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() else {
                return;
            };
            let file = input.files().and_then(|f| f.get(0));
            // Cleared, so choosing the same file again is a change too.
            input.set_value("");
            let Some(file) = file else { return };
            let me = me.clone();
            share::read_file(
                file,
                Callback::from(move |text: Result<String, Problem>| match text {
                    Ok(text) => me.open_text(&text),
                    Err(problem) => me.notice(Key::FileRejected, problem),
                }),
            );
        })
    };
    let on_present = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| {
            let on = !state.present;
            // Full screen needs this click's user gesture, so it is asked for here.
            if on {
                request_fullscreen();
            } else {
                exit_fullscreen();
            }
            state.dispatch(Action::Present(on));
        })
    };
    let lessons = presets::lesson_ids().join(" ");
    let button = |id: &'static str,
                  label: Key,
                  hint: Key,
                  icon: &'static str,
                  onclick: Callback<MouseEvent>| {
        html! {
            <button type="button" class="seminar-button" data-testid={id} {onclick}
                title={t(l, hint)}>
                <span class="seminar-icon" aria-hidden="true">{ icon }</span>
                <span class="seminar-label">{ t(l, label) }</span>
            </button>
        }
    };
    html! {
        <nav class="seminar-bar" data-testid="seminar-bar" data-lessons={lessons}
            aria-label={t(l, Key::SeminarBar)}>
            { button("open-picker", Key::Scenarios, Key::ScenariosHint, "☰", on_picker) }
            { button("share", Key::Share, Key::ShareHint, "↗", on_share) }
            { button("export", Key::Export, Key::ExportHint, "⤓", on_export) }
            { button("import", Key::Import, Key::ImportHint, "⤒", on_import_click) }
            <input type="file" accept=".json,application/json" class="visually-hidden"
                data-testid="import-file" ref={file_input} onchange={on_file} tabindex="-1"
                aria-hidden="true" />
            <button type="button" class="seminar-button present-toggle" data-testid="present"
                aria-pressed={state.present.to_string()} onclick={on_present}
                title={t(l, Key::PresentHint)}>
                <span class="seminar-icon" aria-hidden="true">{ "⤢" }</span>
                <span class="seminar-label">
                    { t(l, if state.present { Key::PresentExit } else { Key::Present }) }
                </span>
            </button>
        </nav>
    }
}

/// One press of Next or Back. Next while the clock still plays to the step finishes that move
/// instead of leaving the step: the teacher who does not want to wait presses twice.
fn narration_move(lab: &Lab, dispatcher: &UseReducerDispatcher<SeminarState>, forward: bool) {
    let finished = forward
        && lab.with_driver(|d| {
            let moving = d.moving().is_some();
            d.finish_move();
            moving
        });
    if !finished {
        dispatcher.dispatch(Action::Move(forward));
    }
}

/// How far the clock has played to the current step, in percent, while it moves.
fn move_percent(d: &crate::driver::Driver, _: &broker_sim::Snapshot, _: &()) -> Option<u8> {
    d.moving().map(|m| {
        let done = d.now().since(m.from) as f64 / m.to.since(m.from).max(1) as f64;
        (done * 100.0).clamp(0.0, 100.0) as u8
    })
}

/// The lesson panel beside the canvas, while the running scenario has a narration.
#[function_component(NarrationPanel)]
pub fn narration_panel() -> Html {
    let lab = use_lab();
    let state = use_seminar();
    let moving = use_frame_model((), move_percent);
    let differs = use_frame_model((), |d, _, _| !d.log().is_empty());
    let Some(n) = state.narration.clone() else {
        return html! {};
    };
    let on_script = {
        let (lab, n, pos) = (lab.clone(), n.clone(), state.pos);
        Callback::from(move |()| {
            if let Some(at) = step_time(&n, pos.index) {
                lab.with_driver(|d| d.drop_commands(at));
            }
        })
    };
    let on_move = {
        let (lab, dispatcher) = (lab.clone(), state.dispatcher());
        Callback::from(move |forward| narration_move(&lab, &dispatcher, forward))
    };
    html! {
        <NarrationPlayer lang={lab.lang} narration={n} pos={state.pos} {moving} {on_move}
            {differs} {on_script} />
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 10: "m2, m4 have no label". The ids a step names are found whole, once each.
    #[test]
    fn named_messages_are_whole_ids() {
        let ids = named_messages(
            [
                "m9 (entry 5050-0) and m10; not km9 or m9x",
                "m10 again, then m2.",
            ]
            .into_iter(),
        );
        assert_eq!(ids, [9, 10, 2].map(broker_sim::MessageId).to_vec());
    }
}
