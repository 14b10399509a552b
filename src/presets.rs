//! The scenario library: an index of every JSON file under scenarios/ (lessons, examples,
//! rule demonstrations) written by build.rs, the picker that lists it, and the loader behind
//! the picker and `?scenario=<id>`. The files are not in the wasm: trunk copies scenarios/
//! into dist/, and a file is fetched when first opened, then kept parsed (issue #16). Only
//! scenarios/default.json (`driver::DEFAULT_SCENARIO`, so the first paint never waits on a
//! fetch) and the comparison are embedded.

use crate::driver::{DEFAULT_SCENARIO, DEFAULT_SEED};
use crate::i18n::{t, Key, Lang};
use crate::lab::Lab;
use broker_sim::scenario::LocalizedText;
use broker_sim::Scenario;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use yew::prelude::*;

/// The picker's sections, in the order shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Lesson,
    Example,
    Rule,
}

impl Group {
    const ALL: [Group; 3] = [Group::Lesson, Group::Example, Group::Rule];

    fn key(self) -> Key {
        match self {
            Group::Lesson => Key::GroupLessons,
            Group::Example => Key::GroupExamples,
            Group::Rule => Key::GroupRules,
        }
    }
}

/// A text of the index in both languages.
pub struct Words {
    pub en: &'static str,
    pub ko: &'static str,
}

impl Words {
    fn get(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Ko => self.ko,
            Lang::En => self.en,
        }
    }
}

/// One file of the library, as the index knows it without its body.
pub struct Entry {
    pub group: Group,
    /// The file stem: `?scenario=<id>` and share links name it.
    pub id: &'static str,
    /// Under scenarios/, with `/` separators.
    path: &'static str,
    /// A hash of the content: part of the address, so a cached copy is never a stale one.
    version: &'static str,
    title: Option<Words>,
    /// A lesson's goal, shown under its title.
    goal: Option<Words>,
}

impl Entry {
    /// The title in `lang`, else the id.
    pub fn title(&self, lang: Lang) -> String {
        self.title
            .as_ref()
            .map(|w| w.get(lang))
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(self.id)
            .to_string()
    }

    pub fn goal(&self, lang: Lang) -> Option<&'static str> {
        self.goal.as_ref().map(|w| w.get(lang))
    }

    /// Where the file is, relative to the page (dist/scenarios/, static/sw.js keeps it).
    fn url(&self) -> String {
        format!("scenarios/{}?v={}", self.path, self.version)
    }

    /// The file's text as a scenario; a bad file is an error naming the file and the field.
    fn parse(&self, text: &str) -> Result<Scenario, (Key, String)> {
        Scenario::from_json(text).map_err(|e| {
            (
                Key::ProblemScenario,
                format!("scenarios/{}: {e}", self.path),
            )
        })
    }
}

/// Every file, sorted by path within each folder, folders in picker order.
const FILES: &[Entry] = include!(concat!(env!("OUT_DIR"), "/presets.rs"));

/// The message-broker vs event-broker comparison (scenarios/ui/compare.json).
pub const COMPARE_ID: &str = "compare";

/// The presets inside the wasm: the first paint's, and the comparison that the header's
/// Compare button (compare.rs) and the start screen open at once.
const EMBEDDED: [(&str, &str); 2] = [
    ("default", DEFAULT_SCENARIO),
    (COMPARE_ID, include_str!("../scenarios/ui/compare.json")),
];

/// The text of `x` in `lang`.
pub fn pick(x: &LocalizedText, lang: Lang) -> &str {
    match lang {
        Lang::Ko => &x.ko,
        Lang::En => &x.en,
    }
}

thread_local! {
    /// Presets parsed so far, by id: the embedded ones from the start, then each file once
    /// fetched, so going back to a lesson does not fetch it again.
    static CACHE: RefCell<BTreeMap<&'static str, Rc<Scenario>>> = RefCell::new(
        EMBEDDED
            .iter()
            .filter_map(|&(id, json)| Some((id, Rc::new(Scenario::from_json(json).ok()?))))
            .collect(),
    );
    /// The preset opened last, if it was fetched.
    static LOADED: Cell<Option<&'static str>> = const { Cell::new(None) };
}

/// The library, in picker order.
pub fn all() -> &'static [Entry] {
    FILES
}

/// The library's file named `id`.
pub fn entry(id: &str) -> Option<&'static Entry> {
    FILES.iter().find(|e| e.id == id)
}

/// The preset named `id`, if it is at hand (embedded or fetched before; `fetch` brings it).
/// Unit tests, which run natively, read the file from disk instead.
pub fn scenario(id: &str) -> Option<Scenario> {
    let cached = CACHE.with(|c| c.borrow().get(id).cloned());
    #[cfg(test)]
    let cached = cached.or_else(|| {
        let e = entry(id)?;
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let text = std::fs::read_to_string(path.join(e.path)).ok()?;
        let s = Rc::new(e.parse(&text).ok()?);
        CACHE.with(|c| c.borrow_mut().insert(e.id, s.clone()));
        Some(s)
    });
    cached.map(|s| (*s).clone())
}

/// Brings preset `id` from dist/scenarios/ and keeps it parsed. Errors are a reason and a
/// detail naming the file (and the field, for a bad file).
pub async fn fetch(id: &str) -> Result<Scenario, (Key, String)> {
    let e = entry(id).ok_or_else(|| (Key::ProblemUnknownPreset, format!("{id:?}")))?;
    if let Some(s) = scenario(id) {
        return Ok(s);
    }
    let text = fetch_text(&e.url())
        .await
        .map_err(|why| (Key::ProblemFetch, format!("scenarios/{}: {why}", e.path)))?;
    let s = e.parse(&text)?;
    CACHE.with(|c| c.borrow_mut().insert(e.id, Rc::new(s.clone())));
    Ok(s)
}

/// The body of `url`, or why not (the network's or the server's words).
async fn fetch_text(url: &str) -> Result<String, String> {
    let words = |v: wasm_bindgen::JsValue| {
        v.dyn_ref::<js_sys::Error>()
            .map_or_else(|| format!("{v:?}"), |e| String::from(e.message()))
    };
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(words)?
        .dyn_into()
        .map_err(words)?;
    if !response.ok() {
        return Err(format!(
            "HTTP {} {}",
            response.status(),
            response.status_text()
        ));
    }
    let text = JsFuture::from(response.text().map_err(words)?)
        .await
        .map_err(words)?;
    text.as_string().ok_or_else(|| "not text".to_string())
}

/// Remembers which preset is on stage (`None`: a file or an inline scenario).
pub fn remember(id: Option<&'static str>) {
    LOADED.with(|l| l.set(id));
}

/// The id of the preset `scenario` is, unchanged: the one opened last, or an embedded one
/// (the default, the comparison, which open without going through the library).
pub fn id_of(scenario: &Scenario) -> Option<&'static str> {
    let same = |id: &&str| CACHE.with(|c| c.borrow().get(id).is_some_and(|s| **s == *scenario));
    let loaded = LOADED.with(Cell::get);
    loaded.into_iter().chain(EMBEDDED.map(|e| e.0)).find(same)
}

/// Ids of the narrated lessons, in order (the page exposes them for the e2e tests).
pub fn lesson_ids() -> Vec<&'static str> {
    FILES
        .iter()
        .filter(|e| e.group == Group::Lesson)
        .map(|e| e.id)
        .collect()
}

/// Loads preset `id`, which must be at hand (`fetch`), with the default seed. A lesson waits
/// paused at its first step (the narration player moves the clock); anything else starts
/// playing, like the app on load.
pub fn load(lab: &Lab, id: &str) -> Result<(), (Key, String)> {
    let (Some(e), Some(scenario)) = (entry(id), scenario(id)) else {
        return Err((Key::ProblemUnknownPreset, format!("{id:?}")));
    };
    lab.with_driver(|d| {
        d.load(&scenario, DEFAULT_SEED)
            .map_err(|err| (Key::ProblemScenario, format!("scenarios/{}: {err}", e.path)))?;
        d.set_playing(scenario.narration.is_none());
        Ok(())
    })?;
    remember(Some(e.id));
    Ok(())
}

/// Hands the service worker the address of every file in the library, so it keeps them all
/// and a classroom without network can open any lesson after one visit (static/sw.js).
pub fn keep_offline() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let navigator = window.navigator();
    // Like static/boot.js, which registers the worker only where browsers allow one.
    let has_worker = js_sys::Reflect::has(&navigator, &"serviceWorker".into()).unwrap_or(false);
    if !has_worker || !window.is_secure_context() {
        return;
    }
    let Ok(ready) = navigator.service_worker().ready() else {
        return;
    };
    let urls: js_sys::Array = FILES
        .iter()
        .map(|e| wasm_bindgen::JsValue::from(e.url()))
        .collect();
    let message = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&message, &"scenarios".into(), &urls);
    wasm_bindgen_futures::spawn_local(async move {
        if let Ok(reg) = JsFuture::from(ready).await {
            let reg: web_sys::ServiceWorkerRegistration = reg.unchecked_into();
            if let Some(worker) = reg.active() {
                let _ = worker.post_message(&message);
            }
        }
    });
}

#[derive(Properties, PartialEq)]
pub struct PickerProps {
    pub lang: Lang,
    /// The start screen: a welcome, then where to begin, above the library.
    #[prop_or_default]
    pub welcome: bool,
    /// The entry chosen while its file is fetched: the picker stays until it is here.
    #[prop_or_default]
    pub loading: Option<&'static str>,
    pub on_choose: Callback<&'static str>,
    pub on_close: Callback<()>,
    /// Switches the UI language (the dialog covers the header's switch).
    pub on_lang: Callback<()>,
}

/// The scenario library as a modal dialog: sections of buttons, Escape or the backdrop closes.
#[function_component(ScenarioPicker)]
pub fn scenario_picker(props: &PickerProps) -> Html {
    let l = props.lang;
    let dialog = use_node_ref();
    // Focus the first entry (the start screen's first way in), so the keyboard works at once.
    {
        let dialog = dialog.clone();
        use_effect_with((), move |_| {
            let first = dialog
                .cast::<web_sys::Element>()
                .and_then(|d| {
                    d.query_selector("button.welcome-choice, button.preset")
                        .ok()
                        .flatten()
                })
                .and_then(|b| b.dyn_into::<web_sys::HtmlElement>().ok());
            if let Some(b) = first {
                let _ = b.focus();
            }
        });
    }
    let onkeydown = {
        let on_close = props.on_close.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                e.prevent_default();
                on_close.emit(());
            }
        })
    };
    let on_backdrop = {
        let on_close = props.on_close.clone();
        Callback::from(move |e: MouseEvent| {
            // Only a click on the backdrop itself, not one that bubbled from the dialog.
            if e.target() == e.current_target() {
                on_close.emit(());
            }
        })
    };
    let presets = all();
    let first_lesson = presets.iter().find(|p| p.group == Group::Lesson);
    let welcome = props.welcome.then(|| {
        let start = first_lesson.map(|p| {
            let id = p.id;
            let onclick = props.on_choose.reform(move |_: MouseEvent| id);
            html! {
                <button type="button" class="welcome-choice primary" data-testid="welcome-lesson" {onclick}>
                    <strong>{ t(l, Key::WelcomeLesson) }</strong>
                    <span>{ p.title(l) }</span>
                </button>
            }
        });
        let on_compare = props.on_choose.reform(|_: MouseEvent| COMPARE_ID);
        html! {
            <div class="welcome" data-testid="welcome">
                <p class="welcome-intro">{ t(l, Key::WelcomeIntro) }</p>
                <div class="welcome-choices">
                    { for start }
                    <button type="button" class="welcome-choice" data-testid="welcome-compare" onclick={on_compare}>
                        <strong>{ t(l, Key::WelcomeCompare) }</strong>
                        <span>{ t(l, Key::WelcomeCompareHint) }</span>
                    </button>
                    <button type="button" class="welcome-choice" data-testid="welcome-lab"
                        onclick={props.on_close.reform(|_: MouseEvent| ())}>
                        <strong>{ t(l, Key::WelcomeLab) }</strong>
                        <span>{ t(l, Key::WelcomeLabHint) }</span>
                    </button>
                </div>
            </div>
        }
    });
    let title = if props.welcome {
        Key::WelcomeTitle
    } else {
        Key::PickerTitle
    };
    let sections = Group::ALL.iter().map(|&group| {
        let items = presets.iter().filter(|p| p.group == group).map(|p| {
            let id = p.id;
            let onclick = props.on_choose.reform(move |_: MouseEvent| id);
            let goal = p.goal(l);
            let busy = props.loading == Some(id);
            html! {
                <li key={id}>
                    <button type="button" class="preset" data-testid={format!("preset-{id}")}
                        data-preset={id} aria-busy={busy.to_string()} {onclick}>
                        <span class="preset-title">{ p.title(l) }</span>
                        if let Some(goal) = goal {
                            <span class="preset-goal">{ goal }</span>
                        }
                        if busy {
                            <span class="preset-busy" role="status">{ t(l, Key::PresetLoading) }</span>
                        }
                    </button>
                </li>
            }
        });
        html! {
            <section class="picker-group" key={t(Lang::En, group.key())}>
                <h3>{ t(l, group.key()) }</h3>
                <ul class={classes!("picker-list", (group == Group::Lesson).then_some("lessons"))}>
                    { for items }
                </ul>
            </section>
        }
    });
    html! {
        <div class="seminar-backdrop" onclick={on_backdrop}>
            <div class="picker" role="dialog" aria-modal="true" aria-labelledby="picker-title"
                data-testid="picker" ref={dialog} {onkeydown}>
                <div class="picker-head">
                    <h2 id="picker-title">{ t(l, title) }</h2>
                    { crate::panels::lang_toggle(l, "picker-lang", &props.on_lang) }
                    <button type="button" class="seminar-close" data-testid="picker-close"
                        onclick={props.on_close.reform(|_: MouseEvent| ())}
                        aria-label={t(l, Key::Close)} title={t(l, Key::Close)}>{ "✕" }</button>
                </div>
                <div class="picker-body">{ for welcome }{ for sections }</div>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::Driver;
    use std::collections::BTreeSet;
    use std::path::Path;

    /// Every JSON file under the folders the library scans: each one parses, validates and
    /// builds, and the index shows its own title and goal.
    #[test]
    fn every_library_file_is_a_valid_scenario_that_builds() {
        for e in all() {
            let s = scenario(e.id).unwrap_or_else(|| {
                let text = std::fs::read_to_string(
                    Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("scenarios")
                        .join(e.path),
                );
                panic!("{}: {:?}", e.id, text.map(|t| e.parse(&t).err()))
            });
            Driver::new(&s, DEFAULT_SEED).unwrap_or_else(|err| panic!("{}: {err}", e.id));
            for lang in [Lang::Ko, Lang::En] {
                let title = s.title.as_ref().map_or(e.id, |x| pick(x, lang));
                assert_eq!(e.title(lang), title, "{}", e.id);
                let goal = s.narration.as_ref().map(|n| pick(&n.goal, lang));
                assert_eq!(e.goal(lang), goal, "{}", e.id);
            }
        }
    }

    /// The library leaves no folder of scenarios/ out (a new family's rule folder must be
    /// added to build.rs's FOLDERS), and the embedded presets are the files on disk.
    #[test]
    fn every_json_file_under_scenarios_is_in_the_library() {
        fn json_files(dir: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).expect("scenarios/ is readable") {
                let path = entry.expect("a directory entry").path();
                if path.is_dir() {
                    json_files(&path, out);
                } else if path.extension().is_some_and(|x| x == "json") {
                    out.push(path.display().to_string());
                }
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut files = Vec::new();
        json_files(&root, &mut files);
        let indexed: BTreeSet<_> = all()
            .iter()
            .map(|e| root.join(e.path).display().to_string())
            .collect();
        for f in &files {
            assert!(indexed.contains(f), "{f} is not in the library");
        }
        assert_eq!(files.len(), all().len());
        for family in ["sqs", "jms", "pulsar", "redis_streams", "zeromq"] {
            let rules = all().iter().filter(|e| e.path.starts_with(family));
            assert!(rules.clone().count() > 0, "no {family} rule files");
            assert!(rules.clone().all(|e| e.group == Group::Rule), "{family}");
        }
        for (id, json) in EMBEDDED {
            let e = entry(id).expect("an embedded preset is in the library");
            let text = std::fs::read_to_string(root.join(e.path)).expect("readable");
            assert_eq!(json, text, "{id}");
        }
    }

    #[test]
    fn ids_are_unique_and_every_group_is_present() {
        let ids: BTreeSet<_> = FILES.iter().map(|f| f.id).collect();
        assert_eq!(ids.len(), FILES.len(), "two files share a name");
        for group in Group::ALL {
            assert!(FILES.iter().any(|f| f.group == group), "{group:?} is empty");
        }
        assert!(scenario("default").is_some());
    }

    /// Addresses are distinct per content: a changed file gets a new one, so the service
    /// worker's cache-first copy of the old one is never served for it.
    #[test]
    fn a_file_address_names_its_content() {
        let e = entry("01-deleted-on-ack").expect("lesson 1");
        assert!(e
            .url()
            .starts_with("scenarios/lessons/01-deleted-on-ack.json?v="));
        let urls: BTreeSet<_> = all().iter().map(Entry::url).collect();
        assert_eq!(urls.len(), all().len());
    }

    #[test]
    fn lessons_are_narrated_and_have_titles_in_both_languages() {
        for e in all().iter().filter(|e| e.group == Group::Lesson) {
            assert!(e.goal(Lang::En).is_some(), "{} has no narration", e.id);
            assert_ne!(e.title(Lang::Ko), e.id, "{} has no Korean title", e.id);
            assert_ne!(e.title(Lang::En), e.id, "{} has no English title", e.id);
        }
    }

    /// The loaded preset is remembered by id, and only while the scenario is unchanged.
    #[test]
    fn an_unchanged_preset_is_recognised() {
        let compare = scenario(COMPARE_ID).expect("embedded");
        assert_eq!(id_of(&compare), Some(COMPARE_ID));
        let mut s = scenario("default").expect("default preset");
        assert_eq!(id_of(&s), Some("default"));
        s.latency_ms += 1.0;
        assert_eq!(id_of(&s), None);
        let lesson = scenario("01-deleted-on-ack").expect("lesson 1");
        assert_eq!(id_of(&lesson), None, "not loaded");
        remember(Some("01-deleted-on-ack"));
        assert_eq!(id_of(&lesson), Some("01-deleted-on-ack"));
        remember(None);
        assert_eq!(id_of(&lesson), None);
    }

    /// A bad file's error names the file and the field.
    #[test]
    fn a_bad_file_is_a_located_error() {
        let e = entry("01-deleted-on-ack").expect("lesson 1");
        let (key, detail) = e.parse(r#"{"version": 1, "latency_ms": "x"}"#).unwrap_err();
        assert_eq!(key, Key::ProblemScenario);
        assert!(
            detail.starts_with("scenarios/lessons/01-deleted-on-ack.json: "),
            "{detail}"
        );
        assert!(detail.contains("latency_ms"), "{detail}");
    }
}
