//! The scenario library: every JSON file under scenarios/ (lessons, examples, rule
//! demonstrations) embedded in the build by build.rs, the picker that lists them, and the
//! loader behind the picker and `?scenario=<id>`.

use crate::driver::DEFAULT_SEED;
use crate::i18n::{t, Key, Lang};
use crate::lab::Lab;
use broker_sim::scenario::LocalizedText;
use broker_sim::Scenario;
use std::rc::Rc;
use wasm_bindgen::JsCast;
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

/// (group, id = file stem, JSON text), sorted by path within each folder.
const FILES: &[(Group, &str, &str)] = include!(concat!(env!("OUT_DIR"), "/presets.rs"));

/// The message-broker vs event-broker comparison (scenarios/ui/compare.json).
const COMPARE_ID: &str = "compare";

/// An embedded scenario, parsed.
pub struct Preset {
    pub group: Group,
    pub id: &'static str,
    pub scenario: Scenario,
}

impl Preset {
    /// The title in `lang`, else the id.
    pub fn title(&self, lang: Lang) -> String {
        self.scenario
            .title
            .as_ref()
            .map(|x| pick(x, lang).to_string())
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| self.id.to_string())
    }
}

/// The text of `x` in `lang`.
pub fn pick(x: &LocalizedText, lang: Lang) -> &str {
    match lang {
        Lang::Ko => &x.ko,
        Lang::En => &x.en,
    }
}

thread_local! {
    /// Parsed once, on first use. A file that fails to parse is left out (a unit test keeps
    /// every embedded file valid, so this never hides one in practice).
    static PRESETS: Rc<Vec<Preset>> = Rc::new(
        FILES
            .iter()
            .filter_map(|&(group, id, json)| {
                Scenario::from_json(json).ok().map(|scenario| Preset { group, id, scenario })
            })
            .collect(),
    );
}

/// Every embedded scenario, in picker order.
pub fn all() -> Rc<Vec<Preset>> {
    PRESETS.with(Rc::clone)
}

/// The preset named `id`.
pub fn scenario(id: &str) -> Option<Scenario> {
    all()
        .iter()
        .find(|p| p.id == id)
        .map(|p| p.scenario.clone())
}

/// The id of the preset equal to `scenario`, if it is one unchanged.
pub fn id_of(scenario: &Scenario) -> Option<&'static str> {
    all().iter().find(|p| &p.scenario == scenario).map(|p| p.id)
}

/// Ids of the narrated lessons, in order (the page exposes them for the e2e tests). Read from
/// the file list, without parsing every preset: the first render needs it (first paint).
pub fn lesson_ids() -> Vec<&'static str> {
    FILES
        .iter()
        .filter(|&&(group, _, _)| group == Group::Lesson)
        .map(|&(_, id, _)| id)
        .collect()
}

/// Loads preset `id` with the default seed. A lesson waits paused at its first step (the
/// narration player moves the clock); anything else starts playing, like the app on load.
pub fn load(lab: &Lab, id: &str) -> bool {
    let Some(scenario) = scenario(id) else {
        return false;
    };
    lab.with_driver(|d| {
        // Embedded presets are tested to build, so this only fails on a broken build.
        let ok = d.load(&scenario, DEFAULT_SEED).is_ok();
        d.set_playing(ok && scenario.narration.is_none());
        ok
    })
}

#[derive(Properties, PartialEq)]
pub struct PickerProps {
    pub lang: Lang,
    /// The start screen: a welcome, then where to begin, above the library.
    #[prop_or_default]
    pub welcome: bool,
    pub on_choose: Callback<&'static str>,
    pub on_close: Callback<()>,
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
            let goal = p
                .scenario
                .narration
                .as_ref()
                .map(|n| pick(&n.goal, l).to_string());
            html! {
                <li key={id}>
                    <button type="button" class="preset" data-testid={format!("preset-{id}")}
                        data-preset={id} {onclick}>
                        <span class="preset-title">{ p.title(l) }</span>
                        if let Some(goal) = goal {
                            <span class="preset-goal">{ goal }</span>
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

    #[test]
    fn every_embedded_file_is_a_valid_scenario_that_builds() {
        for &(_, id, json) in FILES {
            let scenario = Scenario::from_json(json).unwrap_or_else(|e| panic!("{id}: {e}"));
            Driver::new(&scenario, DEFAULT_SEED).unwrap_or_else(|e| panic!("{id}: {e}"));
        }
        assert_eq!(all().len(), FILES.len());
    }

    #[test]
    fn ids_are_unique_and_every_group_is_present() {
        let ids: BTreeSet<_> = FILES.iter().map(|f| f.1).collect();
        assert_eq!(ids.len(), FILES.len(), "two files share a name");
        for group in Group::ALL {
            assert!(FILES.iter().any(|f| f.0 == group), "{group:?} is empty");
        }
        assert!(scenario("default").is_some());
    }

    #[test]
    fn lessons_are_narrated_and_have_titles_in_both_languages() {
        for p in all().iter().filter(|p| p.group == Group::Lesson) {
            assert!(p.scenario.narration.is_some(), "{} has no narration", p.id);
            assert_ne!(p.title(Lang::Ko), p.id, "{} has no Korean title", p.id);
            assert_ne!(p.title(Lang::En), p.id, "{} has no English title", p.id);
        }
    }

    #[test]
    fn an_unchanged_preset_is_recognised() {
        let mut s = scenario("default").expect("default preset");
        assert_eq!(id_of(&s), Some("default"));
        s.latency_ms += 1.0;
        assert_eq!(id_of(&s), None);
    }
}
