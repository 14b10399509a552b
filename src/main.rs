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

mod app;
mod canvas;
mod driver;
mod i18n;
mod lab;
mod layout;
mod model;
mod panels;
mod panic;

fn main() {
    panic::install();
    yew::Renderer::<app::App>::new().render();
}
