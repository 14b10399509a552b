//! # broker-sim
//!
//! The deterministic simulation core of Broker Lab. It knows nothing about browsers: no web
//! crates, no wall clock, one seeded RNG, integer virtual time.
//!
//! ```text
//!   Scenario ──► Simulation::new(&scenario, seed)
//!   Command  ──► apply(cmd) ─┐
//!                            ▼
//!             agenda: BinaryHeap ordered by (SimTime, insertion seq)
//!                            │ step() / advance_to(t)
//!                            ▼
//!   Vec<Event> ◄── producers → exchanges → queues → consumers ──► Ledger (every copy, one state)
//!                            │
//!   Snapshot   ◄── snapshot()
//! ```
//!
//! ## Layout
//! - [`scenario`]: the JSON format and its validation (errors name the field path).
//! - [`engine`]: the simulation; [`kernel`], [`clients`] and [`families`] beneath it.
//! - [`queue`]: one queue's ordering, priorities, limits.
//! - [`ledger`]: message states and the conservation law.
//! - [`matching`]: topic, headers and glob matchers.
//! - [`partitioner`], [`assignor`]: Kafka's key partitioner and group assignors.
//! - [`stats`]: bounded histograms, rates and series.
//! - [`theory`]: queueing formulas (QT-1…QT-5) and the running statistics they are fed.
//! - [`sweep`]: what-if sweeps, one scenario run per value of a parameter, in chunks.
//! - [`snapshot`]: read-only views for the UI and reports.
//! - [`report`]: the headless runner's JSON and CSV reports.
//! - [`interop`]: RabbitMQ definitions in and out, Kafka topic commands, `docker-compose.yml`.
//!
//! Rule ids such as RMQ-13 refer to `reference/semantics.md`; tests carry them in their names.

pub mod clients;
pub mod command;
pub mod engine;

pub mod families;
pub mod ids;
pub mod interop;
pub mod kernel;
pub mod matching;
pub mod registry;
pub mod report;
pub mod scenario;
pub mod snapshot;
pub mod specs;
pub mod sweep;
pub mod theory;
pub mod wire;

pub use families::kafka::{assignor, log, partitioner};
pub use families::rabbitmq::queue;
pub use kernel::{event, guard, ledger, message, rng, stats, time};

pub use clients::{
    Anomalies, ConsumerStatus, PipelineView, SagaInstance, SagaState, SagaStep, SagaView, StageView,
};
pub use command::{Command, CommandError};
pub use engine::Simulation;
pub use event::{Event, EventKind, EventSink, Settle, TraceDigest};
pub use guard::Halt;
pub use ids::{ChannelId, ConsumerId, ExchangeId, MessageId, ProducerId, QueueId, SqsQueueId};
pub use ledger::{CopyState, DeadLetterReason, DropReason, Ledger};
pub use scenario::{from_json, Scenario, ScenarioError};
pub use snapshot::Snapshot;
pub use time::SimTime;

/// RabbitMQ's `collect_statistics_interval`: rates are averaged over 5 s windows (RMQ-35).
pub const COLLECT_STATISTICS_INTERVAL: u64 = 5_000_000;
/// Chart sampling period of simulated time.
pub const SAMPLE_INTERVAL: u64 = 100_000;
/// Points kept per chart series; older points are merged, never dropped.
pub const SERIES_CAPACITY: usize = 600;
