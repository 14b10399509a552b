//! The client runtime: producers and consumers.

/// Deliveries listed per consumer in reports; beyond this only counts grow.
pub const MAX_LOGGED_DELIVERIES: usize = 100_000;

use crate::kernel::World;
use crate::wire::Wire;

mod consumers;
mod pins;
pub(crate) mod producers;
pub mod rates;
pub(crate) mod stages;
mod unacked;

pub(crate) use consumers::Closure;
pub use consumers::ConsumerStatus;
pub(crate) use consumers::{decide, ClientWork, Consumer, Finished};
pub(crate) use pins::Readers;
pub(crate) use producers::{Producer, EMPTY_HEADERS};
pub use stages::{Anomalies, PipelineView, SagaInstance, SagaState, SagaStep, SagaView, StageView};
pub(crate) use stages::{StageInput, Stages, StepOutcome};
pub(crate) use unacked::Unacked;

/// What rules run on: the kernel's world, the clients and the wire, plus `family`, the state of
/// the family whose rules run (`&mut` its struct), or `()` for the client runtime alone. Family
/// rules are methods on `Cx<&mut TheirFamily, W>`, so the compiler keeps each family to its own
/// state; the client runtime's methods take any `F`, so every family can call them.
pub(crate) struct Cx<'a, F, W> {
    pub family: F,
    pub world: &'a mut World<W>,
    pub clients: &'a mut Clients,
    pub wire: &'a mut Wire,
}

/// The clients of every family: producers and consumers, indexed by their ids.
#[derive(Clone, Debug, Default)]
pub(crate) struct Clients {
    pub producers: Vec<Producer>,
    pub consumers: Vec<Consumer>,
    /// The services whose consumers publish (issue 14).
    pub stages: Stages,
}
