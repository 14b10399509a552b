//! The client runtime: producers and consumers.

/// Deliveries listed per consumer in reports; beyond this only counts grow.
pub const MAX_LOGGED_DELIVERIES: usize = 100_000;

mod consumers;
mod producers;
pub mod rates;

pub(crate) use consumers::Closure;
pub use consumers::ConsumerStatus;
pub(crate) use consumers::{ClientWork, Consumer};
pub(crate) use producers::{Producer, EMPTY_HEADERS};

/// The clients of every family: producers and consumers, indexed by their ids.
#[derive(Debug, Default)]
pub(crate) struct Clients {
    pub producers: Vec<Producer>,
    pub consumers: Vec<Consumer>,
}
