//! The keyboard help overlay (`?`): every shortcut of the lab, in a modal dialog that Esc,
//! the close button or a click on the backdrop closes.

use crate::i18n::{t, Key, Lang};
use yew::prelude::*;

/// The shortcuts, as (keys shown, what they do). The handler lives in `controls.rs`.
const SHORTCUTS: [(&str, Key); 10] = [
    ("Space", Key::HelpPlay),
    ("→", Key::HelpStep),
    ("+", Key::HelpFaster),
    ("−", Key::HelpSlower),
    ("R", Key::HelpReset),
    ("?", Key::HelpHelp),
    ("Esc", Key::HelpClose),
    ("PageDown · → · Space", Key::HelpLessonNext),
    ("PageUp · ←", Key::HelpLessonBack),
    ("← ↑ → ↓", Key::HelpCanvasKeys),
];

#[derive(Properties, PartialEq)]
pub struct HelpProps {
    pub lang: Lang,
    pub on_close: Callback<()>,
}

#[function_component(HelpOverlay)]
pub fn help_overlay(props: &HelpProps) -> Html {
    let l = props.lang;
    let close_ref = use_node_ref();
    // Focus goes into the dialog when it opens, so Enter or Space on the close button works
    // at once and screen readers announce the dialog.
    {
        let close_ref = close_ref.clone();
        use_effect_with((), move |_| {
            if let Some(button) = close_ref.cast::<web_sys::HtmlElement>() {
                let _ = button.focus();
            }
        });
    }
    let on_close = props.on_close.reform(|_: MouseEvent| ());
    let on_backdrop = {
        let on_close = props.on_close.clone();
        Callback::from(move |e: MouseEvent| {
            // Only a click on the backdrop itself, not one inside the dialog.
            if e.target() == e.current_target() {
                on_close.emit(());
            }
        })
    };
    html! {
        <div class="help-backdrop" onclick={on_backdrop}>
            <div class="help-dialog" role="dialog" aria-modal="true"
                aria-labelledby="help-title" data-testid="help">
                <div class="help-head">
                    <h2 id="help-title">{ t(l, Key::HelpTitle) }</h2>
                    <button type="button" class="help-close" ref={close_ref}
                        data-testid="help-close" onclick={on_close}
                        aria-label={t(l, Key::HelpClose)}>{ "✕" }</button>
                </div>
                <table class="help-keys">
                    <tbody>
                        { for SHORTCUTS.iter().map(|(keys, what)| html! {
                            <tr>
                                <td><kbd>{ *keys }</kbd></td>
                                <td>{ t(l, *what) }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
                <p class="help-note">{ t(l, Key::HelpTyping) }</p>
                <p class="help-note">{ t(l, Key::HelpInspect) }</p>
            </div>
        </div>
    }
}
