//! Inspector building blocks: fields that apply on Enter through core commands, read-only
//! figures, sections and the collapsible "add" forms. Family-neutral; each family's inspector
//! body (`kinds/`) is made of these.

use crate::i18n::{t, Key, Lang};
use crate::lab::{use_lab, Lab};
use broker_sim::scenario::{
    ConsumerSource, ConsumerSpec, ProducerSpec, PublishTarget, RatePattern,
};
use broker_sim::Command;
use wasm_bindgen::JsCast;
use yew::prelude::*;

pub fn parse_num<T: std::str::FromStr>(l: Lang, text: &str, what: Key) -> Result<T, String> {
    text.trim()
        .parse::<T>()
        .map_err(|_| format!("{} {:?}", t(l, what), text.trim()))
}

pub fn parse_f64(l: Lang, text: &str) -> Result<f64, String> {
    parse_num(l, text, Key::InspNotANumber)
}

/// Blank means "not set".
pub fn parse_opt<T: std::str::FromStr>(
    l: Lang,
    text: &str,
    what: Key,
) -> Result<Option<T>, String> {
    if text.trim().is_empty() {
        Ok(None)
    } else {
        parse_num(l, text, what).map(Some)
    }
}

/// Applies a command; the refusal, if any, as the text to show next to the field.
pub fn run(lab: &Lab, command: Command) -> Option<String> {
    lab.apply(command).err().map(|e| e.to_string())
}

/// A field's commit handler: parse the text, then edit. Both steps may refuse.
pub type Commit = Callback<String, Option<String>>;

pub fn commit<T: 'static>(
    lab: &Lab,
    parse: impl Fn(Lang, &str) -> Result<T, String> + 'static,
    edit: impl Fn(&Lab, T) -> Option<String> + 'static,
) -> Commit {
    let lab = lab.clone();
    Callback::from(move |text: String| match parse(lab.lang, &text) {
        Ok(v) => edit(&lab, v),
        Err(e) => Some(e),
    })
}

/// An `oninput` that writes the input's text into one field of the form kept in `state`.
pub fn write_on_input<F: Clone + 'static>(
    state: &UseStateHandle<F>,
    set: fn(&mut F, String),
) -> Callback<InputEvent> {
    let state = state.clone();
    Callback::from(move |e: InputEvent| {
        if let Some(i) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
            let mut f = (*state).clone();
            set(&mut f, i.value());
            state.set(f);
        }
    })
}

pub fn fmt_num(x: f64) -> String {
    // Rust prints 2.0 as "2" and 0.25 as "0.25": what a teacher would type.
    format!("{x}")
}

pub fn fmt_opt<T: ToString>(x: Option<T>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

#[derive(Properties, PartialEq)]
pub struct FieldProps {
    pub label: AttrValue,
    /// The current value as text; "" when not set.
    pub value: AttrValue,
    pub testid: AttrValue,
    pub on_commit: Commit,
    #[prop_or_default]
    pub unit: Option<AttrValue>,
    #[prop_or_default]
    pub placeholder: Option<AttrValue>,
}

/// A text field that applies its value on Enter or when it loses focus. A refused value stays
/// in the field with the reason beside it; Esc puts the current value back.
#[function_component(TextField)]
pub fn text_field(p: &FieldProps) -> Html {
    let draft = use_state(|| None::<String>);
    let error = use_state(|| None::<String>);
    {
        // The value changed underneath (an applied edit, a reset): show it.
        let (draft, error) = (draft.clone(), error.clone());
        use_effect_with(p.value.clone(), move |_| {
            draft.set(None);
            error.set(None);
        });
    }
    let oninput = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(i) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                draft.set(Some(i.value()));
            }
        })
    };
    let onchange = {
        let (draft, error, on_commit) = (draft.clone(), error.clone(), p.on_commit.clone());
        Callback::from(move |e: Event| {
            if let Some(i) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                let text = i.value();
                error.set(on_commit.emit(text.clone()));
                draft.set(Some(text));
            }
        })
    };
    let onkeydown = {
        let (draft, error) = (draft.clone(), error.clone());
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                e.stop_propagation();
                draft.set(None);
                error.set(None);
            }
        })
    };
    let shown = (*draft).clone().unwrap_or_else(|| p.value.to_string());
    let error_id = format!("{}-error", p.testid);
    html! {
        <div class="field">
            <label class="field-row">
                <span class="field-label">{ p.label.clone() }</span>
                <span class="field-input">
                    <input type="text" inputmode="decimal" value={shown} data-testid={p.testid.clone()}
                        placeholder={p.placeholder.clone()} {oninput} {onchange} {onkeydown}
                        aria-invalid={error.is_some().to_string()}
                        aria-describedby={error.is_some().then(|| error_id.clone())} />
                    if let Some(unit) = &p.unit { <span class="field-unit">{ unit.clone() }</span> }
                </span>
            </label>
            if let Some(e) = &*error {
                <span class="lab-error" role="alert" id={error_id.clone()} data-testid={error_id.clone()}>{ e.clone() }</span>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct ChoiceProps {
    pub label: AttrValue,
    pub value: AttrValue,
    /// (value, text)
    pub options: Vec<(AttrValue, AttrValue)>,
    pub testid: AttrValue,
    pub on_commit: Commit,
}

/// A select applied on change; a refused choice goes back to the current one, with the reason.
#[function_component(ChoiceField)]
pub fn choice_field(p: &ChoiceProps) -> Html {
    let error = use_state(|| None::<String>);
    let select = use_node_ref();
    {
        let error = error.clone();
        use_effect_with(p.value.clone(), move |_| error.set(None));
    }
    let onchange = {
        let (error, on_commit, select, current) = (
            error.clone(),
            p.on_commit.clone(),
            select.clone(),
            p.value.clone(),
        );
        Callback::from(move |_: Event| {
            let Some(s) = select.cast::<web_sys::HtmlSelectElement>() else {
                return;
            };
            let refused = on_commit.emit(s.value());
            if refused.is_some() {
                s.set_value(&current);
            }
            error.set(refused);
        })
    };
    let error_id = format!("{}-error", p.testid);
    html! {
        <div class="field">
            <label class="field-row">
                <span class="field-label">{ p.label.clone() }</span>
                <select ref={select} data-testid={p.testid.clone()} {onchange}
                    aria-describedby={error.is_some().then(|| error_id.clone())}>
                    { for p.options.iter().map(|(v, text)| html! {
                        <option value={v.clone()} selected={*v == p.value}>{ text.clone() }</option>
                    }) }
                </select>
            </label>
            if let Some(e) = &*error {
                <span class="lab-error" role="alert" id={error_id.clone()} data-testid={error_id.clone()}>{ e.clone() }</span>
            }
        </div>
    }
}

pub fn options(items: &[(&str, &str)]) -> Vec<(AttrValue, AttrValue)> {
    items
        .iter()
        .map(|(v, text)| {
            (
                AttrValue::from(v.to_string()),
                AttrValue::from(text.to_string()),
            )
        })
        .collect()
}

/// A read-only figure.
pub fn stat(label: &str, value: String, testid: &'static str) -> Html {
    html! {
        <div class="stat">
            <dt>{ label.to_string() }</dt>
            <dd data-testid={testid}>{ value }</dd>
        </div>
    }
}

pub fn section(title: &str, content: Html) -> Html {
    html! {
        <section class="insp-section">
            <h3>{ title.to_string() }</h3>
            { content }
        </section>
    }
}

/// A collapsible "add" form: its fields, an Add button and the refusal, if any.
pub fn add_form(
    l: Lang,
    title: Key,
    testid: &'static str,
    fields: Html,
    onsubmit: Callback<SubmitEvent>,
    error: &Option<String>,
) -> Html {
    html! {
        <details class="insp-add" data-testid={testid}>
            <summary>{ "＋ " }{ t(l, title) }</summary>
            <form {onsubmit}>
                { fields }
                <button type="submit" class="lab-btn primary" data-testid={format!("{testid}-submit")}>{ t(l, Key::InspAdd) }</button>
                if let Some(e) = error {
                    <span class="lab-error" role="alert" data-testid={format!("{testid}-error")}>{ e.clone() }</span>
                }
            </form>
        </details>
    }
}

/// A plain input bound to a state handle.
pub fn input(label: &str, state: &UseStateHandle<String>, testid: &'static str) -> Html {
    let oninput = {
        let state = state.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(i) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                state.set(i.value());
            }
        })
    };
    html! {
        <label class="field-row">
            <span class="field-label">{ label.to_string() }</span>
            <input type="text" value={(**state).clone()} data-testid={testid} {oninput} />
        </label>
    }
}

pub fn select(
    label: &str,
    state: &UseStateHandle<String>,
    choices: &[(String, String)],
    testid: &'static str,
) -> Html {
    let onchange = {
        let state = state.clone();
        Callback::from(move |e: Event| {
            if let Some(s) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
            {
                state.set(s.value());
            }
        })
    };
    html! {
        <label class="field-row">
            <span class="field-label">{ label.to_string() }</span>
            <select data-testid={testid} {onchange}>
                { for choices.iter().map(|(v, text)| html! {
                    <option value={v.clone()} selected={**state == *v}>{ text.clone() }</option>
                }) }
            </select>
        </label>
    }
}

/// Runs `f` on submit without reloading the page; its refusal goes to `error`.
pub fn on_submit(
    error: &UseStateHandle<Option<String>>,
    f: impl Fn() -> Option<String> + 'static,
) -> Callback<SubmitEvent> {
    let error = error.clone();
    Callback::from(move |e: SubmitEvent| {
        e.prevent_default();
        error.set(f());
    })
}

/// A name that none of `taken` has: `base-1`, `base-2`, ...
pub fn unique_name<'a>(base: &str, taken: impl Iterator<Item = &'a str> + Clone) -> String {
    (1..)
        .map(|i| format!("{base}-{i}"))
        .find(|name| !taken.clone().any(|t| t == name))
        .unwrap_or_else(|| base.to_string())
}

// ------------------------------------------------------------------ adding clients

#[derive(Properties, PartialEq)]
pub struct AddConsumerProps {
    /// What the new consumer reads.
    pub source: ConsumerSource,
    /// The stem of the name offered ("worker", a group's name).
    pub base: AttrValue,
    /// Whether it asks for a prefetch (a queue's consumer does).
    pub prefetch: bool,
    pub title: Key,
    pub testid: &'static str,
    pub taken: Vec<String>,
}

#[function_component(AddConsumer)]
pub fn add_consumer(p: &AddConsumerProps) -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let base = p.base.to_string();
    let name = use_state(|| unique_name(&base, p.taken.iter().map(String::as_str)));
    {
        // After an add, offer the next free name.
        let (name, base) = (name.clone(), base.clone());
        use_effect_with(p.taken.clone(), move |taken| {
            if taken.contains(&*name) {
                name.set(unique_name(&base, taken.iter().map(String::as_str)));
            }
        });
    }
    let prefetch = use_state(|| "1".to_string());
    let ms = use_state(|| "500".to_string());
    let error = use_state(|| None::<String>);
    let onsubmit = {
        let (lab, name, prefetch, ms, source) = (
            lab.clone(),
            name.clone(),
            prefetch.clone(),
            ms.clone(),
            p.source.clone(),
        );
        on_submit(&error, move || {
            let l = lab.lang;
            let prefetch = match parse_num::<u32>(l, &prefetch, Key::InspNotAWholeNumber) {
                Ok(v) => v,
                Err(e) => return Some(e),
            };
            let ms = match parse_f64(l, &ms) {
                Ok(v) => v,
                Err(e) => return Some(e),
            };
            let mut spec = ConsumerSpec::on_queue(name.trim(), "", ms);
            spec.prefetch = prefetch;
            spec.source = source.clone();
            run(&lab, Command::AddConsumer { consumer: spec })
        })
    };
    let with_prefetch = p.prefetch;
    add_form(
        l,
        p.title,
        p.testid,
        html! {
            <>
                { input(t(l, Key::InspName), &name, "add-consumer-name") }
                if with_prefetch { { input(t(l, Key::InspPrefetch), &prefetch, "add-consumer-prefetch") } }
                { input(t(l, Key::InspProcessingTime), &ms, "add-consumer-ms") }
            </>
        },
        onsubmit,
        &error,
    )
}

#[derive(Properties, PartialEq)]
pub struct AddProducerProps {
    pub target: PublishTarget,
    /// The routing key offered at first (a queue's name for the default exchange); `None`
    /// when the target ignores keys, so the form asks for none.
    pub key_hint: Option<String>,
    pub taken: Vec<String>,
}

#[function_component(AddProducer)]
pub fn add_producer(p: &AddProducerProps) -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let name = use_state(|| unique_name("producer", p.taken.iter().map(String::as_str)));
    {
        let name = name.clone();
        use_effect_with(p.taken.clone(), move |taken| {
            if taken.contains(&*name) {
                name.set(unique_name("producer", taken.iter().map(String::as_str)));
            }
        });
    }
    let key = use_state(|| p.key_hint.clone().unwrap_or_default());
    let rate = use_state(|| "1".to_string());
    let error = use_state(|| None::<String>);
    let with_key = p.key_hint.is_some();
    let onsubmit = {
        let (lab, name, key, rate, target) = (
            lab.clone(),
            name.clone(),
            key.clone(),
            rate.clone(),
            p.target.clone(),
        );
        on_submit(&error, move || {
            let per_sec = match parse_f64(lab.lang, &rate) {
                Ok(v) => v,
                Err(e) => return Some(e),
            };
            let message = broker_sim::scenario::MessageTemplate {
                routing_keys: vec![key.trim().to_string()],
                ..Default::default()
            };
            let spec = ProducerSpec {
                name: name.trim().to_string(),
                targets: vec![target.clone()],
                rate: RatePattern::Constant { per_sec },
                message,
                limit: None,
                mandatory: false,
                confirms: false,
                paused: false,
                pulsar: Default::default(),
                kafka: Default::default(),
            };
            run(&lab, Command::AddProducer { producer: spec })
        })
    };
    add_form(
        l,
        Key::InspAddProducer,
        "add-producer",
        html! {
            <>
                { input(t(l, Key::InspName), &name, "add-producer-name") }
                if with_key { { input(t(l, Key::InspRouting), &key, "add-producer-key") } }
                { input(&format!("{} ({})", t(l, Key::InspRate), t(l, Key::InspPerSec)), &rate, "add-producer-rate") }
            </>
        },
        onsubmit,
        &error,
    )
}
