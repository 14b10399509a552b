//! Commands change a running simulation: the UI's edits, failure injection and scripted steps.
//! Commands and the scenario are the only inputs, so a command log replays a run exactly.

use crate::scenario::{
    BindingSpec, ConsumerSpec, ProducerSpec, QueueSpec, RatePattern, ScenarioError,
};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A change applied at the current simulated time. Entities are named as in the scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// The consumer's process dies before acking: its connection closes (RMQ-15).
    CrashConsumer {
        consumer: String,
    },
    /// The consumer reconnects and subscribes again.
    RestartConsumer {
        consumer: String,
    },
    /// Multiplies processing time (2.0 = twice as slow; 1.0 restores).
    SlowConsumer {
        consumer: String,
        factor: f64,
    },
    PauseProducer {
        producer: String,
    },
    ResumeProducer {
        producer: String,
    },
    SetRate {
        producer: String,
        rate: RatePattern,
    },
    /// Publishes `count` messages at once from the producer.
    Burst {
        producer: String,
        count: u64,
    },
    /// Publishes one message that every consumer fails to process.
    Poison {
        producer: String,
    },
    AddQueue {
        queue: QueueSpec,
    },
    /// Replaces a queue's arguments (limits, TTL, dead-lettering) keeping its contents.
    UpdateQueue {
        queue: QueueSpec,
    },
    AddBinding {
        binding: BindingSpec,
    },
    RemoveBinding {
        binding: BindingSpec,
    },
    AddProducer {
        producer: ProducerSpec,
    },
    UpdateProducer {
        producer: ProducerSpec,
    },
    RemoveProducer {
        producer: String,
    },
    AddConsumer {
        consumer: ConsumerSpec,
    },
    /// Replaces a consumer's settings (prefetch, ack mode, processing, failures).
    UpdateConsumer {
        consumer: ConsumerSpec,
    },
    /// A buggy client acks a delivery tag twice: PRECONDITION_FAILED closes its channel (RMQ-11).
    DoubleAck {
        consumer: String,
    },
    /// Creates a Kafka consumer group; add members with `add_consumer` (source `{"group": ..}`).
    AddGroup {
        group: crate::scenario::GroupSpec,
    },
    /// Moves a group's committed offsets, as `kafka-consumer-groups --reset-offsets` (KAF-16).
    ResetOffsets {
        group: String,
        to: OffsetTarget,
    },
    /// Cancels the consumer cleanly: unacked messages are requeued, as on a channel close.
    RemoveConsumer {
        consumer: String,
    },
}

/// Where `reset_offsets` moves a group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OffsetTarget {
    Earliest,
    Latest,
    Offset(u64),
    /// The first offset at or after this simulated time (`--to-datetime`).
    TimestampMs(f64),
}

/// Why a command was refused. A refused command changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum CommandError {
    /// No entity of that kind has that name.
    UnknownEntity { kind: &'static str, name: String },
    /// An entity of that name exists already.
    Duplicate { kind: &'static str, name: String },
    /// A field holds a value outside its range; names the field as a scenario path would.
    Invalid(ScenarioError),
    /// The command does not apply in the entity's current state (e.g. crashing a stopped consumer).
    NotApplicable { reason: String },
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::UnknownEntity { kind, name } => write!(f, "no {kind} named {name:?}"),
            CommandError::Duplicate { kind, name } => {
                write!(f, "a {kind} named {name:?} exists already")
            }
            CommandError::Invalid(e) => write!(f, "{e}"),
            CommandError::NotApplicable { reason } => write!(f, "{reason}"),
        }
    }
}

impl std::error::Error for CommandError {}

impl From<ScenarioError> for CommandError {
    fn from(e: ScenarioError) -> Self {
        CommandError::Invalid(e)
    }
}
