//! Commands change a running simulation: the UI's edits, failure injection and scripted steps.
//! Commands and the scenario are the only inputs, so a command log replays a run exactly.

use crate::scenario::ScenarioError;
use serde::Serialize;
use std::fmt;

/// The commands themselves are part of the input vocabulary (a scenario's script holds them),
/// so they live beside the scenario's types.
pub use crate::scenario::{Command, OffsetTarget};

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

/// Adding to `kind`, which holds `len` already (removed ones keep their ids), is refused at
/// the scenario cap.
pub(crate) fn at_cap(kind: &'static str, len: usize) -> Result<(), CommandError> {
    if len >= crate::scenario::limits::MAX_ENTITIES {
        return Err(CommandError::NotApplicable {
            reason: format!(
                "a run has at most {} {kind}",
                crate::scenario::limits::MAX_ENTITIES
            ),
        });
    }
    Ok(())
}
