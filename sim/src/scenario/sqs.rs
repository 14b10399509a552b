//! AWS SQS in the scenario: queue attributes, a consumer's `ReceiveMessage` settings and their
//! checks (SQS-1..SQS-11 in `reference/semantics.md`; names and ranges as in the SQS API).

use super::{check_ms, check_probability, ScenarioError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `VisibilityTimeout`: 12 hours at most (SQS-2).
pub const MAX_VISIBILITY_TIMEOUT_MS: f64 = 43_200_000.0;
/// `MessageRetentionPeriod`: 60 s to 14 days (SQS-5).
pub const MIN_RETENTION_MS: f64 = 60_000.0;
pub const MAX_RETENTION_MS: f64 = 1_209_600_000.0;
/// `DelaySeconds`: 15 minutes at most (SQS-11).
pub const MAX_DELAY_MS: f64 = 900_000.0;
/// `WaitTimeSeconds`: 20 s at most (SQS-6).
pub const MAX_WAIT_TIME_MS: f64 = 20_000.0;
/// `MaxNumberOfMessages`: 1 to 10 (SQS-6).
pub const MAX_MESSAGES_PER_RECEIVE: u32 = 10;
/// In-flight messages a queue allows, standard and FIFO alike (SQS-7).
pub const IN_FLIGHT_LIMIT: u64 = 120_000;
/// A FIFO queue remembers a deduplication id this long (SQS-9).
pub const DEDUPLICATION_WINDOW_MS: f64 = 300_000.0;
/// `MessageGroupId` and `MessageDeduplicationId` are at most 128 characters.
pub const MAX_ID_LEN: usize = 128;
/// Queue names: at most 80 characters, `.fifo` included.
const MAX_QUEUE_NAME_LEN: usize = 80;
/// Virtual servers a standard queue spreads its messages over, for short-poll sampling.
const MAX_SERVERS: u32 = 64;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SqsQueueType {
    #[default]
    Standard,
    /// `FifoQueue`: the name ends in `.fifo` (SQS-8).
    Fifo,
}

/// `DeduplicationScope` of a FIFO queue (SQS-9).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeduplicationScope {
    #[default]
    Queue,
    MessageGroup,
}

/// `RedrivePolicy` (SQS-4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedrivePolicy {
    /// `deadLetterTargetArn`, by queue name; a queue of the same type.
    pub dead_letter_queue: String,
    /// `maxReceiveCount`, 1 to 1000.
    pub max_receive_count: u32,
}

/// An SQS queue and its attributes. The last four fields are simulator knobs with teaching
/// values: AWS publishes no figures for them, and a scenario can set each to 0 (or 1.0).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqsQueueSpec {
    pub name: String,
    #[serde(default, rename = "type")]
    pub kind: SqsQueueType,
    /// `VisibilityTimeout` (30 s).
    #[serde(default = "default_visibility_timeout_ms")]
    pub visibility_timeout_ms: f64,
    /// `MessageRetentionPeriod` (4 days).
    #[serde(default = "default_retention_ms")]
    pub message_retention_ms: f64,
    /// `DelaySeconds` (0).
    #[serde(default)]
    pub delay_ms: f64,
    /// `ReceiveMessageWaitTimeSeconds` (0: short polling).
    #[serde(default)]
    pub receive_wait_time_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive: Option<RedrivePolicy>,
    #[serde(default = "default_in_flight_limit")]
    pub in_flight_limit: u64,
    /// `ContentBasedDeduplication` (FIFO only).
    #[serde(default)]
    pub content_based_deduplication: bool,
    /// `DeduplicationScope` (FIFO only).
    #[serde(default)]
    pub deduplication_scope: DeduplicationScope,
    /// Standard queues: the chance that a delete misses one server, which keeps a copy that is
    /// received again (SQS-1).
    #[serde(default = "default_duplicate_rate")]
    pub duplicate_rate: f64,
    /// Standard queues: the chance that a receive passes over the oldest message once (SQS-1).
    #[serde(default = "default_reorder_rate")]
    pub reorder_rate: f64,
    /// Standard queues: servers the messages are spread over (SQS-6).
    #[serde(default = "default_servers")]
    pub servers: u32,
    /// Standard queues: the chance that a short poll asks a given server (SQS-6).
    #[serde(default = "default_short_poll_sample")]
    pub short_poll_sample: f64,
}

impl SqsQueueSpec {
    /// A queue with every attribute at its default; a FIFO queue if the name ends in `.fifo`.
    pub fn named(name: &str) -> SqsQueueSpec {
        SqsQueueSpec {
            name: name.to_string(),
            kind: if name.ends_with(".fifo") {
                SqsQueueType::Fifo
            } else {
                SqsQueueType::Standard
            },
            visibility_timeout_ms: default_visibility_timeout_ms(),
            message_retention_ms: default_retention_ms(),
            delay_ms: 0.0,
            receive_wait_time_ms: 0.0,
            redrive: None,
            in_flight_limit: default_in_flight_limit(),
            content_based_deduplication: false,
            deduplication_scope: DeduplicationScope::Queue,
            duplicate_rate: default_duplicate_rate(),
            reorder_rate: default_reorder_rate(),
            servers: default_servers(),
            short_poll_sample: default_short_poll_sample(),
        }
    }

    pub fn is_fifo(&self) -> bool {
        self.kind == SqsQueueType::Fifo
    }
}

fn default_visibility_timeout_ms() -> f64 {
    30_000.0
}
fn default_retention_ms() -> f64 {
    345_600_000.0
}
fn default_in_flight_limit() -> u64 {
    IN_FLIGHT_LIMIT
}
fn default_duplicate_rate() -> f64 {
    0.001
}
fn default_reorder_rate() -> f64 {
    0.01
}
fn default_servers() -> u32 {
    4
}
fn default_short_poll_sample() -> f64 {
    0.5
}

/// How an SQS consumer calls `ReceiveMessage` (SQS-6).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqsReceiveSpec {
    /// `MaxNumberOfMessages` (1).
    #[serde(default = "default_max_messages")]
    pub max_messages: u32,
    /// `WaitTimeSeconds`; the queue's `ReceiveMessageWaitTimeSeconds` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_time_ms: Option<f64>,
    /// `VisibilityTimeout` of the request; the queue's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility_timeout_ms: Option<f64>,
    /// The pause after an empty short poll before the next one. Real loops spin; spinning would
    /// spend the work budget (a simulator setting).
    #[serde(default = "default_empty_backoff_ms")]
    pub empty_backoff_ms: f64,
}

impl Default for SqsReceiveSpec {
    fn default() -> Self {
        SqsReceiveSpec {
            max_messages: default_max_messages(),
            wait_time_ms: None,
            visibility_timeout_ms: None,
            empty_backoff_ms: default_empty_backoff_ms(),
        }
    }
}

fn default_max_messages() -> u32 {
    1
}
fn default_empty_backoff_ms() -> f64 {
    100.0
}

fn range_ms(path: &str, ms: f64, min: f64, max: f64, real: &str) -> Result<(), ScenarioError> {
    check_ms(path, ms)?;
    if ms < min || ms > max {
        return Err(ScenarioError::new(
            path,
            format!("{real} must be {min} to {max} ms, got {ms}"),
        ));
    }
    Ok(())
}

/// A queue's own attributes: name, ranges and the knobs (SQS-2, -4..-7, -11).
pub(crate) fn validate_sqs_queue(path: &str, q: &SqsQueueSpec) -> Result<(), ScenarioError> {
    let stem = q.name.strip_suffix(".fifo").unwrap_or(&q.name);
    if stem.is_empty()
        || q.name.len() > MAX_QUEUE_NAME_LEN
        || !stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ScenarioError::new(
            format!("{path}.name"),
            "an SQS queue name is 1 to 80 letters, digits, hyphens and underscores (and `.fifo` for a FIFO queue)",
        ));
    }
    if q.name.ends_with(".fifo") != q.is_fifo() {
        return Err(ScenarioError::new(
            format!("{path}.type"),
            "a FIFO queue's name ends in `.fifo`, and only a FIFO queue's does",
        ));
    }
    range_ms(
        &format!("{path}.visibility_timeout_ms"),
        q.visibility_timeout_ms,
        0.0,
        MAX_VISIBILITY_TIMEOUT_MS,
        "VisibilityTimeout",
    )?;
    range_ms(
        &format!("{path}.message_retention_ms"),
        q.message_retention_ms,
        MIN_RETENTION_MS,
        MAX_RETENTION_MS,
        "MessageRetentionPeriod",
    )?;
    range_ms(
        &format!("{path}.delay_ms"),
        q.delay_ms,
        0.0,
        MAX_DELAY_MS,
        "DelaySeconds",
    )?;
    range_ms(
        &format!("{path}.receive_wait_time_ms"),
        q.receive_wait_time_ms,
        0.0,
        MAX_WAIT_TIME_MS,
        "ReceiveMessageWaitTimeSeconds",
    )?;
    if let Some(r) = &q.redrive {
        if !(1..=1000).contains(&r.max_receive_count) {
            return Err(ScenarioError::new(
                format!("{path}.redrive.max_receive_count"),
                format!(
                    "maxReceiveCount must be 1 to 1000, got {}",
                    r.max_receive_count
                ),
            ));
        }
    }
    if !(1..=IN_FLIGHT_LIMIT).contains(&q.in_flight_limit) {
        return Err(ScenarioError::new(
            format!("{path}.in_flight_limit"),
            format!("must be 1 to {IN_FLIGHT_LIMIT}, got {}", q.in_flight_limit),
        ));
    }
    if !q.is_fifo()
        && (q.content_based_deduplication || q.deduplication_scope != DeduplicationScope::Queue)
    {
        return Err(ScenarioError::new(
            format!("{path}.content_based_deduplication"),
            "deduplication is a FIFO queue attribute",
        ));
    }
    check_probability(&format!("{path}.duplicate_rate"), q.duplicate_rate)?;
    check_probability(&format!("{path}.reorder_rate"), q.reorder_rate)?;
    check_probability(&format!("{path}.short_poll_sample"), q.short_poll_sample)?;
    if !(1..=MAX_SERVERS).contains(&q.servers) {
        return Err(ScenarioError::new(
            format!("{path}.servers"),
            format!("must be 1 to {MAX_SERVERS}, got {}", q.servers),
        ));
    }
    Ok(())
}

/// The queue's redrive policy names an existing queue of the same type (SQS-4).
pub(crate) fn validate_sqs_redrive(
    path: &str,
    q: &SqsQueueSpec,
    kind_of: &dyn Fn(&str) -> Option<SqsQueueType>,
) -> Result<(), ScenarioError> {
    let Some(r) = &q.redrive else {
        return Ok(());
    };
    let at = format!("{path}.redrive.dead_letter_queue");
    match kind_of(&r.dead_letter_queue) {
        None => Err(ScenarioError::new(
            at,
            format!("no SQS queue named {:?} is declared", r.dead_letter_queue),
        )),
        Some(k) if k != q.kind => Err(ScenarioError::new(
            at,
            "a dead-letter queue must be of the same type as its source queue",
        )),
        Some(_) if r.dead_letter_queue == q.name => Err(ScenarioError::new(
            at,
            "a queue cannot be its own dead-letter queue",
        )),
        Some(_) => Ok(()),
    }
}

/// Redrive policies must not form a loop: following dead-letter queues ends.
pub(crate) fn check_sqs_redrive_cycles<'a>(
    policies: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<(), ScenarioError> {
    let next: BTreeMap<&str, &str> = policies.collect();
    for start in next.keys() {
        let mut at = *start;
        for _ in 0..=next.len() {
            match next.get(at) {
                Some(n) if n == start => {
                    return Err(ScenarioError::new(
                        "sqs_queues",
                        format!("redrive policies form a loop through {start:?}"),
                    ))
                }
                Some(n) => at = n,
                None => break,
            }
        }
    }
    Ok(())
}

/// A consumer's `ReceiveMessage` settings (SQS-2, SQS-6).
pub(crate) fn validate_sqs_receive(path: &str, r: &SqsReceiveSpec) -> Result<(), ScenarioError> {
    if !(1..=MAX_MESSAGES_PER_RECEIVE).contains(&r.max_messages) {
        return Err(ScenarioError::new(
            format!("{path}.max_messages"),
            format!(
                "MaxNumberOfMessages must be 1 to {MAX_MESSAGES_PER_RECEIVE}, got {}",
                r.max_messages
            ),
        ));
    }
    if let Some(w) = r.wait_time_ms {
        range_ms(
            &format!("{path}.wait_time_ms"),
            w,
            0.0,
            MAX_WAIT_TIME_MS,
            "WaitTimeSeconds",
        )?;
    }
    if let Some(v) = r.visibility_timeout_ms {
        range_ms(
            &format!("{path}.visibility_timeout_ms"),
            v,
            0.0,
            MAX_VISIBILITY_TIMEOUT_MS,
            "VisibilityTimeout",
        )?;
    }
    check_ms(&format!("{path}.empty_backoff_ms"), r.empty_backoff_ms)?;
    if r.empty_backoff_ms < 1.0 {
        return Err(ScenarioError::new(
            format!("{path}.empty_backoff_ms"),
            "at least 1 ms, so that an idle short-polling loop lets time move",
        ));
    }
    Ok(())
}
