//! The handle every panel shares: the driver, the language, the selected entity, and a bus
//! that hands each frame's snapshot to panels. A panel keeps a small model of what it shows
//! and re-renders only when that model changes, so nothing re-diffs per frame.

use crate::driver::Driver;
use crate::i18n::Lang;
use broker_sim::snapshot::NodeRef;
use broker_sim::{Command, CommandError, MessageId, Snapshot};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use yew::prelude::*;

type Subscriber = Box<dyn Fn(&Driver, &Snapshot)>;

/// Pushes frames to panel subscribers.
#[derive(Default)]
pub struct Bus {
    subscribers: RefCell<Vec<(u64, Rc<Subscriber>)>>,
    next_id: Cell<u64>,
    dirty: Cell<bool>,
}

impl Bus {
    fn subscribe(&self, f: Subscriber) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        self.subscribers.borrow_mut().push((id, Rc::new(f)));
        self.dirty.set(true);
        id
    }

    fn unsubscribe(&self, id: u64) {
        self.subscribers.borrow_mut().retain(|(i, _)| *i != id);
    }

    /// Asks for a publish on the next frame even if the clock did not move (after a command,
    /// a reset or a seek while paused).
    pub fn mark_dirty(&self) {
        self.dirty.set(true);
    }

    /// Whether a publish was requested; clears the request.
    pub fn take_dirty(&self) -> bool {
        self.dirty.replace(false)
    }

    /// Hands the frame to every subscriber. Subscribers are cloned out first, so one may
    /// (un)subscribe while being called.
    pub fn publish(&self, driver: &Driver, snapshot: &Snapshot) {
        let subs: Vec<Rc<Subscriber>> = self
            .subscribers
            .borrow()
            .iter()
            .map(|(_, f)| f.clone())
            .collect();
        for f in subs {
            f(driver, snapshot);
        }
    }
}

/// Shared state, provided as a yew context.
#[derive(Clone)]
pub struct Lab {
    pub driver: Rc<RefCell<Driver>>,
    pub bus: Rc<Bus>,
    pub lang: Lang,
    pub selection: Option<NodeRef>,
    pub on_select: Callback<Option<NodeRef>>,
    /// The message the trace panel follows; `trace.on_trace.emit(msg)` traces one.
    pub trace: TraceTarget,
}

impl PartialEq for Lab {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.driver, &other.driver)
            && Rc::ptr_eq(&self.bus, &other.bus)
            && self.lang == other.lang
            && self.selection == other.selection
            && self.trace == other.trace
    }
}

impl Lab {
    /// Applies a command through the core and refreshes panels; the error is for the UI to show.
    pub fn apply(&self, command: Command) -> Result<(), CommandError> {
        let result = self.driver.borrow_mut().apply(command);
        self.bus.mark_dirty();
        result
    }

    /// Runs `f` on the driver mutably, then refreshes panels.
    pub fn with_driver<R>(&self, f: impl FnOnce(&mut Driver) -> R) -> R {
        let r = f(&mut self.driver.borrow_mut());
        self.bus.mark_dirty();
        r
    }
}

/// The shared [`Lab`]; panics only if a component is mounted outside the app.
#[hook]
pub fn use_lab() -> Lab {
    use_context::<Lab>().expect("components are mounted inside the Lab context")
}

/// A model derived from each frame; the component re-renders only when it changes. `deps`
/// are the component's own inputs (e.g. which entity it shows); the model is rebuilt when
/// they change.
#[hook]
pub fn use_frame_model<D, M>(deps: D, make: fn(&Driver, &Snapshot, &D) -> M) -> M
where
    D: PartialEq + Clone + 'static,
    M: PartialEq + Clone + 'static,
{
    let lab = use_lab();
    let state = {
        let (lab, deps) = (lab.clone(), deps.clone());
        use_state_eq(move || {
            let d = lab.driver.borrow();
            let snap = d.snapshot();
            make(&d, &snap, &deps)
        })
    };
    {
        let state = state.clone();
        let bus = lab.bus.clone();
        use_effect_with(deps, move |deps| {
            let deps = deps.clone();
            let last = RefCell::new(None::<M>);
            let id = bus.subscribe(Box::new(move |d, snap| {
                let model = make(d, snap, &deps);
                if last.borrow().as_ref() != Some(&model) {
                    *last.borrow_mut() = Some(model.clone());
                    state.set(model);
                }
            }));
            move || bus.unsubscribe(id)
        });
    }
    (*state).clone()
}

/// Which message the trace panel follows. It lives in the [`Lab`], so any
/// panel (the event log, the canvas) can start a trace with `lab.trace.on_trace.emit(msg)`.
#[derive(Clone)]
pub struct TraceTarget {
    pub msg: Option<MessageId>,
    /// Bumped by every request, so asking again for the same message still opens the panel.
    pub seq: u32,
    pub on_trace: Callback<MessageId>,
}

impl PartialEq for TraceTarget {
    fn eq(&self, other: &Self) -> bool {
        (self.msg, self.seq) == (other.msg, other.seq)
    }
}

/// The App's trace state, to put in the Lab.
#[hook]
pub fn use_trace_target() -> TraceTarget {
    let state = use_state(|| (None::<MessageId>, 0u32));
    // A counter outside yew state, so two requests before a re-render still differ.
    let seq = use_mut_ref(|| 0u32);
    let on_trace = {
        let state = state.clone();
        Callback::from(move |msg: MessageId| {
            let mut n = seq.borrow_mut();
            *n = n.wrapping_add(1);
            state.set((Some(msg), *n));
        })
    };
    TraceTarget {
        msg: state.0,
        seq: state.1,
        on_trace,
    }
}
