//! The client runtime: producers and consumers.

mod consumers;
mod producers;

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
