//! Broker Lab's browser app: a Yew front end over the `broker-sim` core.
//!
//! - [`panic`]: the panic hook (installed first) that shows a readable error box.
//! - [`driver`]: the simulation and the play state; wall-clock frames → simulated time.
//! - [`app`]: the App component and its requestAnimationFrame loop.
//! - [`canvas`], [`layout`]: the topology drawing and its pure, tested geometry.
//! - [`lab`]: the context every panel shares, and the frame bus that updates panels only
//!   when their own figures change.
//! - [`panels`], [`model`]: the panels and the small figures they show.
//! - [`i18n`]: every UI string in Korean and English.
//! - [`presets`], [`narration`], [`share`], [`presenter`]: seminar mode — the scenario
//!   library, the lesson player, links / files / autosave, and presenter and embed modes.

mod app;
// The visual lab: the dock with dashboard, charts, event log and message trace.
mod canvas;
mod charts;
mod dashboard;
mod eventlog;
mod trace;
// The event-broker canvas's compare view and colour key.
mod compare;
mod driver;
mod i18n;
mod lab;
mod layout;
mod model;
mod panels;
mod panic;
// Time controls, inspector, failure toolbar and keyboard help.
mod controls;
mod help;
mod inspector;
mod toolbar;
// Seminar mode: scenario library, narration player, sharing, presenter mode.
mod narration;
mod presenter;
mod presets;
mod share;

fn main() {
    panic::install();
    yew::Renderer::<app::App>::new().render();
}
