//! The panic hook: after a Rust panic the wasm app cannot run any more, so the hook writes a
//! readable error box straight into the DOM, with a Reset button that is plain JavaScript (it
//! must work without the dead wasm instance).

use crate::i18n::{t, Key, Lang};
use std::panic::PanicHookInfo;
use std::sync::atomic::{AtomicBool, Ordering};
use wasm_bindgen::JsCast;

static PANICKED: AtomicBool = AtomicBool::new(false);

/// The query switch that makes the app panic once after mount (the e2e test's only hook).
pub const DEBUG_PANIC_QUERY: (&str, &str) = ("debug", "panic");

/// The Reset button's handler: reload without the URL fragment and without `?debug=panic`, so
/// a deliberate panic happens once.
const RESET_JS: &str = "var u = new URL(window.location.href); u.hash = ''; \
    u.searchParams.delete('debug'); \
    if (u.href === window.location.href) { window.location.reload(); } \
    else { window.location.replace(u.href); }";

/// Installs the hook. Must run before yew renders: yew's `set_custom_panic_hook` stops yew
/// from replacing it with `console_error_panic_hook` (which logs with `console.error`).
pub fn install() {
    yew::set_custom_panic_hook(Box::new(hook));
}

/// Whether a panic happened; the frame loop stops on it.
pub fn has_panicked() -> bool {
    PANICKED.load(Ordering::Relaxed)
}

fn hook(info: &PanicHookInfo<'_>) {
    PANICKED.store(true, Ordering::Relaxed);
    let message = info.to_string();
    // console.warn, not console.error: the details are for developers, and the box is for people.
    web_sys::console::warn_1(&format!("Broker Lab: {message}").into());
    // Nothing in here may panic again: every DOM step is fallible and ignored on failure.
    let _ = show_box(&message);
}

fn both(key: Key) -> String {
    format!("{} / {}", t(Lang::En, key), t(Lang::Ko, key))
}

fn show_box(message: &str) -> Option<()> {
    let document = web_sys::window()?.document()?;
    let body = document.body()?;
    if let Some(old) = document.query_selector("[data-testid=panic-box]").ok()? {
        // A second panic: keep the first box, add the message.
        let pre = old.query_selector("pre").ok()??;
        let text = pre.text_content().unwrap_or_default();
        pre.set_text_content(Some(&format!("{text}\n\n{message}")));
        return Some(());
    }
    let el = |tag: &str, class: &str| -> Option<web_sys::Element> {
        let e = document.create_element(tag).ok()?;
        e.set_class_name(class);
        Some(e)
    };
    let backdrop = el("div", "panic-backdrop")?;
    let boxed = el("div", "panic-box")?;
    boxed.set_attribute("data-testid", "panic-box").ok()?;
    boxed.set_attribute("role", "alert").ok()?;
    let title = el("h2", "panic-title")?;
    title.set_text_content(Some(&format!(
        "{}\n{}",
        t(Lang::En, Key::PanicTitle),
        t(Lang::Ko, Key::PanicTitle)
    )));
    let help = el("p", "panic-help")?;
    help.set_text_content(Some(&format!(
        "{}\n{}",
        t(Lang::En, Key::PanicHelp),
        t(Lang::Ko, Key::PanicHelp)
    )));
    let pre = el("pre", "panic-message")?;
    pre.set_text_content(Some(message));
    let button = el("button", "panic-reset")?;
    button.set_attribute("type", "button").ok()?;
    button.set_attribute("data-testid", "panic-reset").ok()?;
    button.set_text_content(Some(&both(Key::Reset)));
    let handler = js_sys::Function::new_no_args(RESET_JS);
    button
        .dyn_ref::<web_sys::HtmlElement>()?
        .set_onclick(Some(&handler));
    for child in [&title, &help, &pre, &button] {
        boxed.append_child(child).ok()?;
    }
    backdrop.append_child(&boxed).ok()?;
    body.append_child(&backdrop).ok()?;
    let _ = button.dyn_ref::<web_sys::HtmlElement>()?.focus();
    Some(())
}

/// Whether the page was opened with `?debug=panic`.
pub fn panic_requested() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let Ok(search) = window.location().search() else {
        return false;
    };
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else {
        return false;
    };
    params.get(DEBUG_PANIC_QUERY.0).as_deref() == Some(DEBUG_PANIC_QUERY.1)
}
