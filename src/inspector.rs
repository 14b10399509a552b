//! The inspector: a side panel for the selected entity, with its live figures, its settings
//! (edited through core commands, so a refused value shows the core's reason and changes
//! nothing), failure buttons, and small forms that add entities around it. What it shows for
//! each kind of entity comes from `kinds/`; current settings come from the core (`specs()`),
//! so the app never replays commands.

use crate::driver::Driver;
use crate::i18n::{t, Key};
use crate::kinds::{self, Inspected};
use crate::lab::{use_frame_model, use_lab};
use broker_sim::snapshot::NodeRef;
use broker_sim::Snapshot;
use yew::prelude::*;

/// The selection's model: `None` without a selection, `Some(None)` when the selected entity no
/// longer exists (after a reset, say).
fn inspector_model(
    d: &Driver,
    snap: &Snapshot,
    selection: &Option<NodeRef>,
) -> Option<Option<Inspected>> {
    let node = (*selection)?;
    Some(kinds::inspect(d, snap, node))
}

#[function_component(Inspector)]
pub fn inspector() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let Some(m) = use_frame_model(lab.selection, inspector_model) else {
        return html! {};
    };
    let close = {
        let on_select = lab.on_select.clone();
        Callback::from(move |_: MouseEvent| on_select.emit(None))
    };
    let ((kind, name), body) = match &m {
        None => (
            (t(l, Key::InspGoneKind).to_string(), String::new()),
            html! { <p class="insp-note">{ t(l, Key::InspGone) }</p> },
        ),
        Some(entity) => (entity.title(l), entity.body(&lab)),
    };
    // Keyed by the selection, so a field's half-typed text never carries over to another entity.
    let key = lab.selection.map(kinds::encode).unwrap_or_default();
    html! {
        <aside class="inspector" data-testid="inspector" aria-labelledby="insp-title">
            <div class="insp-head">
                <div class="insp-titles">
                    <span class="insp-kind">{ kind }</span>
                    <h2 id="insp-title" data-testid="inspector-title">{ name }</h2>
                </div>
                <button type="button" class="insp-close" data-testid="inspector-close" onclick={close}
                    aria-label={t(l, Key::InspClose)} title={t(l, Key::InspClose)}>{ "✕" }</button>
            </div>
            <div class="insp-body" key={key}>
                { for lab.selection.map(|node| html! { <crate::theory::Theory {node} /> }) }
                { body }
            </div>
        </aside>
    }
}
