//! Round trips with real brokers: a RabbitMQ definitions export read into a scenario, and a
//! scenario written out as what starts the same topology on real brokers (a definitions file,
//! Kafka topic commands, a `docker-compose.yml`).
//!
//! A view layer: it reads and writes the scenario vocabulary and never the engine. Every entry
//! point takes text or a `&Scenario` and returns text or a `Result` whose error names the JSON
//! path of what it refuses (docs/interop.md).

pub mod compose;
pub mod kafka_commands;
pub mod rabbitmq_definitions;

pub use compose::docker_compose;
pub use kafka_commands::{kafka_script, kafka_setup, KafkaSetup};
pub use rabbitmq_definitions::{
    export_definitions, import_definitions, scenario_from_definitions, ImportOptions, Imported,
};

use crate::scenario::ScenarioError;
use std::fmt;

/// Something the importer left out or changed on purpose, and where it was in the file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Note {
    pub path: String,
    pub text: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.text)
    }
}

/// A scenario duration as the whole milliseconds real brokers take.
fn whole_ms(path: &str, ms: f64) -> Result<i64, ScenarioError> {
    if ms.fract() != 0.0 || !ms.is_finite() {
        return Err(ScenarioError::new(
            path,
            format!("{ms} ms: real brokers take whole milliseconds"),
        ));
    }
    Ok(ms as i64)
}
