//! Broker Lab's browser app: a Yew front end over the `broker-sim` core.
//!
//! - [`panic`]: the panic hook (installed first) that shows a readable error box.
//! - [`driver`]: the simulation and the play state; wall-clock frames → simulated time.
//! - [`app`]: the App component and its requestAnimationFrame loop.
//! - [`kinds`]: the per-family registry; everything one broker family shows lives there.
//! - [`canvas`], [`layout`], [`pen`], [`geom`]: the drawing from the snapshot's graph, by
//!   role and band, and its pure, tested geometry.
//! - [`lab`], [`hooks`]: the context every panel shares, and the frame bus that updates panels
//!   only when their own figures change.
//! - [`panels`], [`model`]: the panels and the small figures they show.
//! - [`i18n`]: every UI string in Korean and English.
//! - [`controls`], [`help`], [`inspector`], [`forms`], [`toolbar`], [`actions`], [`picker`]:
//!   time controls and shortcuts, the inspector that edits entities through commands, failure
//!   injection and the entity picker.
//! - [`dashboard`], [`charts`], [`eventlog`], [`trace`]: the management-UI table, charts,
//!   the virtualised event log and one message's journey.
//! - [`compare`]: the message-broker vs event-broker view.
//! - [`brokerless`]: the broker-or-brokerless view (RabbitMQ beside ZeroMQ).
//! - [`presets`], [`narration`], [`share`], [`presenter`]: seminar mode — the scenario
//!   library, the lesson player, links / files / autosave, and presenter and embed modes.

mod actions;
mod app;
mod brokerless;
mod canvas;
mod charts;
mod compare;
mod controls;
mod dashboard;
mod driver;
mod eventlog;
mod forms;
mod geom;
mod help;
mod hooks;
mod i18n;
mod inspector;
mod kinds;
mod lab;
mod layout;
mod model;
mod narration;
mod panels;
mod panic;
mod pen;
mod picker;
mod presenter;
mod presets;
mod saga;
mod sequence;
mod share;
mod sweep;
mod theory;
mod timeline;
mod toolbar;
mod trace;

fn main() {
    panic::install();
    // A page opened on a preset (`?scenario=<id>`) mounts once its file is here, so the app
    // shows it from its first frame, as when presets were embedded, never the default first.
    // A failed fetch mounts anyway: the app asks again and says why it could not open it.
    let wanted = presenter::query("scenario")
        .and_then(|id| presets::entry(&id))
        .filter(|e| presets::scenario(e.id).is_none());
    let Some(e) = wanted else { return mount() };
    wasm_bindgen_futures::spawn_local(async move {
        let _ = presets::fetch(e.id).await;
        mount();
    });
}

fn mount() {
    yew::Renderer::<app::App>::new().render();
}
