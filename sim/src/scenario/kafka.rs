//! Kafka replication settings: the cluster, a topic's replication and a producer's delivery
//! settings (KAF-19..KAF-26). All optional: a scenario without them runs one broker, as before.

use super::{check_ms, ScenarioError};
use serde::{Deserialize, Serialize};

/// The Kafka cluster: its brokers and the controller's timings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaClusterSpec {
    /// Broker nodes, ids 0..brokers.
    pub brokers: u32,
    /// `replica.lag.time.max.ms`: a follower not caught up for this long leaves the ISR (KAF-19).
    #[serde(default = "default_lag_ms")]
    pub replica_lag_time_max_ms: f64,
    /// `broker.session.timeout.ms`: how long the controller takes to fence a crashed broker.
    #[serde(default = "default_session_ms")]
    pub broker_session_timeout_ms: f64,
}

fn default_lag_ms() -> f64 {
    30_000.0
}
fn default_session_ms() -> f64 {
    9_000.0
}

/// `acks` (KAF-21).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Acks {
    #[serde(rename = "0")]
    Zero,
    #[serde(rename = "1")]
    One,
    /// `all` (= -1), the default since 3.0.
    #[default]
    #[serde(rename = "all", alias = "-1")]
    All,
}

/// A producer's Kafka delivery settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaProducerSpec {
    #[serde(default)]
    pub acks: Acks,
    /// `enable.idempotence`; unset means the default, on unless `acks` or `retries` conflict
    /// (then off silently, KAF-25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_idempotence: Option<bool>,
    /// `retries`: unset is Kafka's default (2147483647); 0 turns retrying off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// `retry.backoff.ms` (100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_backoff_ms: Option<f64>,
    /// `delivery.timeout.ms` (120000): after this a record's retries stop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_timeout_ms: Option<f64>,
    /// `request.timeout.ms` (30000): an `acks=all` request a leader cut off from its followers
    /// cannot answer fails after this, and the producer looks for the leader again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timeout_ms: Option<f64>,
    /// `metadata.max.age.ms` (300000): the producer refreshes its metadata at every multiple of
    /// this, and so learns a new leader even when no request failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_max_age_ms: Option<f64>,
    /// A transactional producer (`transactional.id`, KAF-27).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transactions: Option<KafkaTransactions>,
}

/// How a transactional producer groups its records (KAF-27): a transaction per `records`
/// records of a partition, every `abort_every`th of them aborted (0: none).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaTransactions {
    pub records: u32,
    #[serde(default)]
    pub abort_every: u32,
}

/// `isolation.level` of a consumer group's members (KAF-27).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IsolationLevel {
    /// The default: every record below the high watermark, aborted ones included.
    #[default]
    ReadUncommitted,
    /// Only committed transactions' records, up to the last stable offset.
    ReadCommitted,
}

impl IsolationLevel {
    pub fn is_default(&self) -> bool {
        *self == IsolationLevel::ReadUncommitted
    }
}

impl KafkaProducerSpec {
    pub fn is_default(&self) -> bool {
        *self == KafkaProducerSpec::default()
    }

    /// Whether the producer is idempotent: explicitly, or by default when nothing conflicts
    /// (KAF-25).
    pub fn idempotent(&self) -> bool {
        self.enable_idempotence
            .unwrap_or(self.acks == Acks::All && self.retries != Some(0))
    }

    pub fn retries(&self) -> bool {
        self.retries != Some(0) && self.acks != Acks::Zero
    }
}

pub(crate) fn validate_cluster(path: &str, c: &KafkaClusterSpec) -> Result<(), ScenarioError> {
    if !(1..=16).contains(&c.brokers) {
        return Err(ScenarioError::new(
            format!("{path}.brokers"),
            format!("must be 1 to 16, got {}", c.brokers),
        ));
    }
    for (name, ms) in [
        ("replica_lag_time_max_ms", c.replica_lag_time_max_ms),
        ("broker_session_timeout_ms", c.broker_session_timeout_ms),
    ] {
        check_ms(&format!("{path}.{name}"), ms)?;
        if ms < 1.0 {
            return Err(ScenarioError::new(
                format!("{path}.{name}"),
                "must be at least 1 ms",
            ));
        }
    }
    Ok(())
}

pub(crate) fn validate_producer(path: &str, p: &KafkaProducerSpec) -> Result<(), ScenarioError> {
    if p.enable_idempotence == Some(true) && (p.acks != Acks::All || p.retries == Some(0)) {
        // An explicit request with conflicting settings is a ConfigException (KAF-25).
        return Err(ScenarioError::new(
            format!("{path}.enable_idempotence"),
            "idempotence needs acks=all and retries > 0",
        ));
    }
    if let Some(t) = &p.transactions {
        if t.records == 0 || p.acks != Acks::All || p.enable_idempotence == Some(false) {
            // A transactional producer is idempotent (KAF-27).
            return Err(ScenarioError::new(
                format!("{path}.transactions"),
                "transactions need records >= 1, acks=all and idempotence",
            ));
        }
    }
    for (name, ms) in [
        ("retry_backoff_ms", p.retry_backoff_ms),
        ("delivery_timeout_ms", p.delivery_timeout_ms),
    ] {
        if let Some(ms) = ms {
            check_ms(&format!("{path}.{name}"), ms)?;
        }
    }
    Ok(())
}
