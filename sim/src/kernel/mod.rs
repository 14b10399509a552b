//! The kernel: virtual time, the one RNG, the copy store, the ledger and statistics. It knows
//! no broker noun: no queue, topic, exchange or channel appears here.

pub mod ledger;
pub mod message;
pub mod rng;
pub mod stats;
pub mod time;
