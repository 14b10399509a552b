//! The entity picker: a select listing every entity, grouped by kind; choosing one opens it in
//! the inspector.

use crate::driver::Driver;
use crate::i18n::{t, Key};
use crate::inspector::{decode, display_name, encode};
use crate::lab::{use_frame_model, use_lab};
use broker_sim::ids::ChannelId;
use broker_sim::snapshot::NodeRef;
use broker_sim::ConsumerStatus;
use broker_sim::Snapshot;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Every entity that can be selected, grouped by kind: (kind, [(value, name)]).
#[derive(Clone, PartialEq)]
struct PickerModel {
    groups: Vec<(Key, Vec<(String, String)>)>,
}

fn picker_model(_: &Driver, snap: &Snapshot, _: &()) -> PickerModel {
    let list = |items: Vec<(NodeRef, &str)>| -> Vec<(String, String)> {
        items
            .into_iter()
            .map(|(n, name)| (encode(n), name.to_string()))
            .collect()
    };
    let groups = vec![
        (
            Key::ColProducers,
            list(
                snap.producers
                    .iter()
                    .map(|p| (NodeRef::Producer(p.id), p.name.as_str()))
                    .collect(),
            ),
        ),
        (
            Key::ColExchanges,
            list(
                snap.exchanges
                    .iter()
                    .map(|x| (NodeRef::Exchange(x.id), x.name.as_str()))
                    .collect(),
            ),
        ),
        (
            Key::ColQueues,
            list(
                snap.queues
                    .iter()
                    .map(|q| (NodeRef::Queue(q.id), q.name.as_str()))
                    .collect(),
            ),
        ),
        (
            Key::ColConsumers,
            list(
                snap.consumers
                    .iter()
                    .filter(|c| c.status != ConsumerStatus::Removed)
                    .map(|c| (NodeRef::Consumer(c.id), c.name.as_str()))
                    .collect(),
            ),
        ),
        (
            Key::ColChannels,
            list(
                snap.channels
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (NodeRef::Channel(ChannelId(i as u32)), c.as_str()))
                    .collect(),
            ),
        ),
        (
            Key::InspTopics,
            list(
                snap.topics
                    .iter()
                    .map(|t| (NodeRef::Topic(t.id), t.name.as_str()))
                    .collect(),
            ),
        ),
        (
            Key::InspServices,
            list(
                snap.services
                    .iter()
                    .map(|s| (NodeRef::Service(s.id), s.name.as_str()))
                    .collect(),
            ),
        ),
    ];
    PickerModel {
        groups: groups
            .into_iter()
            .filter(|(_, items)| !items.is_empty())
            .collect(),
    }
}

/// A select listing every entity; choosing one opens it in the inspector.
#[function_component(EntityPicker)]
pub fn entity_picker() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let m = use_frame_model((), picker_model);
    let selected = lab.selection.map(encode).unwrap_or_default();
    let onchange = {
        let on_select = lab.on_select.clone();
        Callback::from(move |e: Event| {
            if let Some(s) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
            {
                on_select.emit(decode(&s.value()));
            }
        })
    };
    html! {
        <label class="lab-picker">
            <span class="speed-label">{ t(l, Key::InspInspect) }</span>
            <select data-testid="inspect-select" {onchange} title={t(l, Key::InspPickerHint)}>
                <option value="" selected={selected.is_empty()}>{ t(l, Key::InspNone) }</option>
                { for m.groups.iter().map(|(kind, items)| html! {
                    <optgroup label={t(l, *kind)}>
                        { for items.iter().map(|(value, name)| html! {
                            <option value={value.clone()} selected={*value == selected}>
                                { display_name(l, name) }
                            </option>
                        }) }
                    </optgroup>
                }) }
            </select>
        </label>
    }
}
