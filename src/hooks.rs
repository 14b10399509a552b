//! Hooks for panels that read the driver at their own pace: a timer and a render counter.

use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// The latest callback given to [`use_interval`].
type Latest = Rc<RefCell<Option<Box<dyn Fn()>>>>;

/// Calls `f` every `ms` milliseconds while the component is mounted; the latest `f` given is
/// the one called. For panels that read the driver at their own, slower pace.
#[hook]
pub fn use_interval<F: Fn() + 'static>(ms: i32, f: F) {
    let latest: Latest = use_mut_ref(|| None);
    *latest.borrow_mut() = Some(Box::new(f));
    use_effect_with(ms, move |&ms| {
        let tick = Closure::<dyn FnMut()>::new(move || {
            if let Some(f) = latest.borrow().as_ref() {
                f();
            }
        });
        let window = web_sys::window();
        let id = window.as_ref().and_then(|w| {
            w.set_interval_with_callback_and_timeout_and_arguments_0(
                tick.as_ref().unchecked_ref(),
                ms,
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

/// How many times the calling component has rendered: shown as `data-renders`, so tests can
/// check that a panel stays still while nothing changes.
#[hook]
pub fn use_render_count() -> u64 {
    let n = use_mut_ref(|| 0u64);
    *n.borrow_mut() += 1;
    let count = *n.borrow();
    count
}
