//! The entity picker: a select listing every entity, grouped by kind (`kinds::picker`);
//! choosing one opens it in the inspector.

use crate::driver::Driver;
use crate::i18n::{t, Key, Lang};
use crate::kinds;
use crate::lab::{use_frame_model, use_lab};
use broker_sim::Snapshot;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Every entity that can be selected, grouped by kind: (kind, [(value, name)]).
#[derive(Clone, PartialEq)]
struct PickerModel {
    groups: Vec<(Key, Vec<(String, String)>)>,
}

fn picker_model(_: &Driver, snap: &Snapshot, lang: &Lang) -> PickerModel {
    PickerModel {
        groups: kinds::picker(*lang, snap),
    }
}

/// A select listing every entity; choosing one opens it in the inspector.
#[function_component(EntityPicker)]
pub fn entity_picker() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let m = use_frame_model(l, picker_model);
    let selected = lab.selection.map(kinds::encode).unwrap_or_default();
    let onchange = {
        let on_select = lab.on_select.clone();
        Callback::from(move |e: Event| {
            if let Some(s) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
            {
                on_select.emit(kinds::decode(&s.value()));
            }
        })
    };
    html! {
        <label class="lab-picker" title={t(l, Key::InspPickerHint)}>
            <span class="speed-label">{ t(l, Key::InspInspect) }</span>
            <select data-testid="inspect-select" {onchange} title={t(l, Key::InspPickerHint)}>
                <option value="" selected={selected.is_empty()}>{ t(l, Key::InspNone) }</option>
                { for m.groups.iter().map(|(kind, items)| html! {
                    <optgroup label={t(l, *kind)}>
                        { for items.iter().map(|(value, name)| html! {
                            <option value={value.clone()} selected={*value == selected}>
                                { name.clone() }
                            </option>
                        }) }
                    </optgroup>
                }) }
            </select>
        </label>
    }
}
