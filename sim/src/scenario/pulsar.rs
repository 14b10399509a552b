//! Apache Pulsar's part of the scenario (PUL-1…PUL-14): broker settings, topics, subscriptions
//! created by an admin, and the client settings of producers and consumers. Defaults are those
//! of the Pulsar 4.0 broker and Java client (`reference/semantics.md` §7A, §9).

use super::{check_len, check_ms, limits, ConsumerSpec, ScenarioError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Key_Shared hashes live in 0..65536 (`StickyKeyConsumerSelector.DEFAULT_RANGE_SIZE`).
pub const HASH_RANGE_SIZE: u32 = 65_536;

/// The top-level `"pulsar"` object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PulsarSpec {
    #[serde(default)]
    pub broker: PulsarBroker,
    #[serde(default)]
    pub topics: Vec<PulsarTopicSpec>,
    /// Durable subscriptions created before any consumer (`pulsar-admin topics
    /// create-subscription`): they hold their backlog from the start (PUL-2, PUL-12).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<PulsarSubscriptionSpec>,
}

/// How Key_Shared maps a hash to a consumer (`subscriptionKeySharedUseConsistentHashing`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySharedSelector {
    /// 4.0 default: `replica_points` points per consumer on a ring.
    #[default]
    ConsistentHashing,
    /// The older auto-split: a joining consumer takes the lower half of the largest range.
    HashRanges,
}

/// Broker settings (`broker.conf`); names in `reference/semantics.md` §9.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PulsarBroker {
    /// `activeConsumerFailoverDelayTimeMillis`.
    #[serde(default = "d_failover_delay")]
    pub active_consumer_failover_delay_ms: f64,
    /// `dispatcherMaxRoundRobinBatchSize`: entries one Shared consumer gets per turn.
    #[serde(default = "d_round_robin_batch")]
    pub dispatcher_max_round_robin_batch_size: u32,
    /// `dispatcherMaxReadBatchSize`: entries read from the ledger per dispatch.
    #[serde(default = "d_read_batch")]
    pub dispatcher_max_read_batch_size: u32,
    #[serde(default = "d_max_unacked_consumer")]
    pub max_unacked_messages_per_consumer: u32,
    #[serde(default = "d_max_unacked_subscription")]
    pub max_unacked_messages_per_subscription: u32,
    #[serde(default)]
    pub key_shared_selector: KeySharedSelector,
    /// `subscriptionKeySharedConsistentHashingReplicaPoints`.
    #[serde(default = "d_replica_points")]
    pub key_shared_replica_points: u32,
    /// `managedLedgerMaxEntriesPerLedger`.
    #[serde(default = "d_ledger_entries")]
    pub ledger_max_entries: u64,
    /// `managedLedgerMinLedgerRolloverTimeMinutes`, in ms.
    #[serde(default = "d_min_rollover")]
    pub ledger_min_rollover_ms: f64,
    /// `managedLedgerMaxLedgerRolloverTimeMinutes`, in ms.
    #[serde(default = "d_max_rollover")]
    pub ledger_max_rollover_ms: f64,
    /// `retentionCheckIntervalInSeconds`, in ms: trims consumed ledgers, rolls idle ones.
    #[serde(default = "d_retention_check")]
    pub retention_check_interval_ms: f64,
    /// `messageExpiryCheckIntervalInMinutes`, in ms: when TTL acks old messages.
    #[serde(default = "d_expiry_check")]
    pub message_expiry_check_interval_ms: f64,
}

fn d_failover_delay() -> f64 {
    1_000.0
}
fn d_round_robin_batch() -> u32 {
    20
}
fn d_read_batch() -> u32 {
    100
}
fn d_max_unacked_consumer() -> u32 {
    50_000
}
fn d_max_unacked_subscription() -> u32 {
    200_000
}
fn d_replica_points() -> u32 {
    100
}
fn d_ledger_entries() -> u64 {
    50_000
}
fn d_min_rollover() -> f64 {
    600_000.0
}
fn d_max_rollover() -> f64 {
    14_400_000.0
}
fn d_retention_check() -> f64 {
    120_000.0
}
fn d_expiry_check() -> f64 {
    300_000.0
}

impl Default for PulsarBroker {
    fn default() -> Self {
        PulsarBroker {
            active_consumer_failover_delay_ms: d_failover_delay(),
            dispatcher_max_round_robin_batch_size: d_round_robin_batch(),
            dispatcher_max_read_batch_size: d_read_batch(),
            max_unacked_messages_per_consumer: d_max_unacked_consumer(),
            max_unacked_messages_per_subscription: d_max_unacked_subscription(),
            key_shared_selector: KeySharedSelector::default(),
            key_shared_replica_points: d_replica_points(),
            ledger_max_entries: d_ledger_entries(),
            ledger_min_rollover_ms: d_min_rollover(),
            ledger_max_rollover_ms: d_max_rollover(),
            retention_check_interval_ms: d_retention_check(),
            message_expiry_check_interval_ms: d_expiry_check(),
        }
    }
}

/// `pulsar-admin namespaces set-retention --time --size`: −1 is unlimited, `0, 0` is off, and
/// `0` paired with a non-zero value is invalid (PUL-12).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    pub time_ms: f64,
    pub size_bytes: i64,
}

impl Retention {
    pub fn is_off(&self) -> bool {
        self.time_ms == 0.0 && self.size_bytes == 0
    }
}

/// A persistent topic: `partitions` 0 is non-partitioned, N ≥ 1 makes N internal topics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PulsarTopicSpec {
    pub name: String,
    #[serde(default)]
    pub partitions: u32,
    #[serde(default, skip_serializing_if = "Retention::is_off")]
    pub retention: Retention,
    /// `set-message-ttl` in ms; 0 is off (`ttlDurationDefaultInSeconds`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ttl_ms: f64,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

impl PulsarTopicSpec {
    /// A non-partitioned topic with the broker's defaults (how a dead-letter topic is created).
    pub fn auto_created(name: &str) -> PulsarTopicSpec {
        PulsarTopicSpec {
            name: name.to_string(),
            partitions: 0,
            retention: Retention::default(),
            ttl_ms: 0.0,
        }
    }
}

/// `subscriptionInitialPosition`: applies only when the subscription is created (PUL-13).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InitialPosition {
    #[default]
    Latest,
    Earliest,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PulsarSubscriptionSpec {
    pub topic: String,
    pub name: String,
    #[serde(default)]
    pub initial_position: InitialPosition,
}

/// `subscriptionType` (PUL-3…PUL-6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionType {
    #[default]
    Exclusive,
    Failover,
    Shared,
    KeyShared,
}

impl SubscriptionType {
    /// Exclusive and Failover have one active consumer per partition; it gets everything.
    pub fn single_active(self) -> bool {
        matches!(
            self,
            SubscriptionType::Exclusive | SubscriptionType::Failover
        )
    }
}

/// `subscriptionMode`: a non-durable cursor holds no backlog (PUL-2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionMode {
    #[default]
    Durable,
    NonDurable,
}

/// A consumer's `{"pulsar": {...}}` source: the subscription it attaches to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PulsarSource {
    pub topic: String,
    pub subscription: String,
    #[serde(default, rename = "type")]
    pub kind: SubscriptionType,
    #[serde(default)]
    pub initial_position: InitialPosition,
    #[serde(default)]
    pub mode: SubscriptionMode,
}

/// `MessageRoutingMode` for messages without a key (PUL-14).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutingMode {
    #[default]
    RoundRobin,
    SinglePartition,
}

/// `HashingScheme` of keyed messages (PUL-14).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashingScheme {
    #[default]
    JavaStringHash,
    Murmur3_32,
}

/// Producer batching (`enableBatching`, on by default): messages of one producer to one
/// partition within `max_delay_ms` of the first become one entry (PUL-7).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batching {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `batchingMaxPublishDelay`.
    #[serde(default = "d_batch_delay")]
    pub max_delay_ms: f64,
    /// `batchingMaxMessages`.
    #[serde(default = "d_batch_messages")]
    pub max_messages: u32,
    /// `batchingMaxBytes`.
    #[serde(default = "d_batch_bytes")]
    pub max_bytes: u32,
    /// `BatcherBuilder.KEY_BASED`: one batch per key, as Key_Shared needs (PUL-6).
    #[serde(default)]
    pub key_based: bool,
}

fn yes() -> bool {
    true
}
fn d_batch_delay() -> f64 {
    1.0
}
fn d_batch_messages() -> u32 {
    1_000
}
fn d_batch_bytes() -> u32 {
    131_072
}

impl Default for Batching {
    fn default() -> Self {
        Batching {
            enabled: true,
            max_delay_ms: d_batch_delay(),
            max_messages: d_batch_messages(),
            max_bytes: d_batch_bytes(),
            key_based: false,
        }
    }
}

/// A producer's Pulsar client settings; used when it publishes to a Pulsar topic.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PulsarProducerSpec {
    #[serde(default)]
    pub routing_mode: RoutingMode,
    #[serde(default)]
    pub hashing_scheme: HashingScheme,
    #[serde(default)]
    pub batching: Batching,
}

impl PulsarProducerSpec {
    pub fn is_default(&self) -> bool {
        *self == PulsarProducerSpec::default()
    }
}

/// `acknowledge` or `acknowledgeCumulative` (PUL-7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PulsarAck {
    #[default]
    Individual,
    /// One cumulative ack every `ack_batch` successes; Exclusive and Failover only.
    Cumulative,
}

/// What the application does with a message it failed to process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    /// `negativeAcknowledge` (PUL-8).
    #[default]
    Nack,
    /// Nothing: only an ack timeout or a disconnect brings it back (PUL-9).
    NoAck,
}

/// `MultiplierRedeliveryBackoff`: the delay for redelivery count n is min(max, min × mult^n).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeliveryBackoff {
    pub min_ms: f64,
    pub max_ms: f64,
    #[serde(default = "d_multiplier")]
    pub multiplier: f64,
}

fn d_multiplier() -> f64 {
    2.0
}

/// `deadLetterPolicy` (PUL-10), enforced by the client on Shared and Key_Shared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterPolicy {
    pub max_redeliver_count: u32,
    /// Default `<topic>-<subscription>-DLQ`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_topic: Option<String>,
    /// A subscription created with the dead-letter topic, so its messages are kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_subscription_name: Option<String>,
}

/// `KeySharedPolicy` (PUL-6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeySharedMode {
    #[default]
    AutoSplit,
    /// The consumer declares its own hash ranges, inclusive.
    Sticky,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySharedPolicy {
    #[serde(default)]
    pub mode: KeySharedMode,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<[u32; 2]>,
}

/// A consumer's Pulsar client settings (`ConsumerConfigurationData`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PulsarConsumerSpec {
    /// `receiverQueueSize`: the flow permits the consumer grants.
    #[serde(default = "d_receiver_queue")]
    pub receiver_queue_size: u32,
    /// `priorityLevel`: 0 is the highest.
    #[serde(default)]
    pub priority_level: u32,
    #[serde(default)]
    pub ack: PulsarAck,
    /// `acknowledgementsGroupTimeMicros`, in ms; 0 sends each ack at once.
    #[serde(default = "d_ack_group_time")]
    pub ack_group_time_ms: f64,
    /// `maxAcknowledgmentGroupSize`.
    #[serde(default = "d_ack_group_max")]
    pub ack_group_max: u32,
    #[serde(default)]
    pub on_failure: OnFailure,
    /// `negativeAckRedeliveryDelay`.
    #[serde(default = "d_nack_delay")]
    pub negative_ack_redelivery_delay_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative_ack_backoff: Option<RedeliveryBackoff>,
    /// `ackTimeout`; 0 is off, else at least 1000.
    #[serde(default)]
    pub ack_timeout_ms: f64,
    /// `ackTimeoutTickTime`.
    #[serde(default = "d_ack_timeout_tick")]
    pub ack_timeout_tick_ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_policy: Option<DeadLetterPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_shared_policy: Option<KeySharedPolicy>,
}

fn d_receiver_queue() -> u32 {
    1_000
}
fn d_ack_group_time() -> f64 {
    100.0
}
fn d_ack_group_max() -> u32 {
    1_000
}
fn d_nack_delay() -> f64 {
    60_000.0
}
fn d_ack_timeout_tick() -> f64 {
    1_000.0
}

impl Default for PulsarConsumerSpec {
    fn default() -> Self {
        PulsarConsumerSpec {
            receiver_queue_size: d_receiver_queue(),
            priority_level: 0,
            ack: PulsarAck::default(),
            ack_group_time_ms: d_ack_group_time(),
            ack_group_max: d_ack_group_max(),
            on_failure: OnFailure::default(),
            negative_ack_redelivery_delay_ms: d_nack_delay(),
            negative_ack_backoff: None,
            ack_timeout_ms: 0.0,
            ack_timeout_tick_ms: d_ack_timeout_tick(),
            dead_letter_policy: None,
            key_shared_policy: None,
        }
    }
}

impl PulsarConsumerSpec {
    pub fn is_default(&self) -> bool {
        *self == PulsarConsumerSpec::default()
    }
}

/// Where `reset_cursor` moves a subscription (`seek`, `pulsar-admin topics reset-cursor`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CursorTarget {
    Earliest,
    Latest,
    /// The same entry id in every partition.
    Entry(u64),
    /// The first entry published at or after this simulated time.
    TimestampMs(f64),
}

fn bad(path: impl Into<String>, reason: impl Into<String>) -> ScenarioError {
    ScenarioError::new(path, reason)
}

impl PulsarSpec {
    /// Names of declared topics and whether each is partitioned.
    pub fn topic(&self, name: &str) -> Option<&PulsarTopicSpec> {
        self.topics.iter().find(|t| t.name == name)
    }

    pub fn validate(&self) -> Result<(), ScenarioError> {
        validate_broker("pulsar.broker", &self.broker)?;
        if self.topics.len() > limits::MAX_ENTITIES {
            return Err(bad(
                "pulsar.topics",
                format!("at most {} topics", limits::MAX_ENTITIES),
            ));
        }
        let mut names = BTreeSet::new();
        for (i, t) in self.topics.iter().enumerate() {
            let path = format!("pulsar.topics[{i}]");
            validate_topic(&path, t)?;
            if !names.insert(t.name.as_str()) {
                return Err(bad(
                    format!("{path}.name"),
                    format!("{:?} is declared twice", t.name),
                ));
            }
        }
        let mut subs = BTreeSet::new();
        for (i, s) in self.subscriptions.iter().enumerate() {
            let path = format!("pulsar.subscriptions[{i}]");
            if !names.contains(s.topic.as_str()) {
                return Err(bad(
                    format!("{path}.topic"),
                    format!("no Pulsar topic named {:?} is declared", s.topic),
                ));
            }
            check_name(&format!("{path}.name"), &s.name)?;
            if !subs.insert((s.topic.as_str(), s.name.as_str())) {
                return Err(bad(
                    format!("{path}.name"),
                    format!("{:?} is declared twice on {:?}", s.name, s.topic),
                ));
            }
        }
        Ok(())
    }
}

fn check_name(path: &str, name: &str) -> Result<(), ScenarioError> {
    if name.is_empty() {
        return Err(bad(path, "a name is needed"));
    }
    check_len(path, name, limits::MAX_NAME_LEN)
}

fn validate_broker(path: &str, b: &PulsarBroker) -> Result<(), ScenarioError> {
    for (field, ms) in [
        (
            "active_consumer_failover_delay_ms",
            b.active_consumer_failover_delay_ms,
        ),
        ("ledger_min_rollover_ms", b.ledger_min_rollover_ms),
        ("ledger_max_rollover_ms", b.ledger_max_rollover_ms),
        ("retention_check_interval_ms", b.retention_check_interval_ms),
        (
            "message_expiry_check_interval_ms",
            b.message_expiry_check_interval_ms,
        ),
    ] {
        check_ms(&format!("{path}.{field}"), ms)?;
    }
    for (field, ms) in [
        ("retention_check_interval_ms", b.retention_check_interval_ms),
        (
            "message_expiry_check_interval_ms",
            b.message_expiry_check_interval_ms,
        ),
    ] {
        if ms < 1.0 {
            return Err(bad(format!("{path}.{field}"), "must be at least 1 ms"));
        }
    }
    if b.ledger_max_rollover_ms < b.ledger_min_rollover_ms {
        return Err(bad(
            format!("{path}.ledger_max_rollover_ms"),
            "must not be below ledger_min_rollover_ms",
        ));
    }
    for (field, n) in [
        (
            "dispatcher_max_round_robin_batch_size",
            u64::from(b.dispatcher_max_round_robin_batch_size),
        ),
        (
            "dispatcher_max_read_batch_size",
            u64::from(b.dispatcher_max_read_batch_size),
        ),
        (
            "max_unacked_messages_per_consumer",
            u64::from(b.max_unacked_messages_per_consumer),
        ),
        (
            "max_unacked_messages_per_subscription",
            u64::from(b.max_unacked_messages_per_subscription),
        ),
        (
            "key_shared_replica_points",
            u64::from(b.key_shared_replica_points),
        ),
        ("ledger_max_entries", b.ledger_max_entries),
    ] {
        if !(1..=10_000_000).contains(&n) {
            return Err(bad(
                format!("{path}.{field}"),
                format!("must be 1 to 10000000, got {n}"),
            ));
        }
    }
    if b.key_shared_replica_points > 1_000 {
        return Err(bad(
            format!("{path}.key_shared_replica_points"),
            "at most 1000 points per consumer",
        ));
    }
    Ok(())
}

fn validate_topic(path: &str, t: &PulsarTopicSpec) -> Result<(), ScenarioError> {
    check_name(&format!("{path}.name"), &t.name)?;
    if t.partitions > 1024 {
        return Err(bad(
            format!("{path}.partitions"),
            format!("must be 0 (non-partitioned) to 1024, got {}", t.partitions),
        ));
    }
    let r = t.retention;
    if r.time_ms != -1.0 {
        check_ms(&format!("{path}.retention.time_ms"), r.time_ms)?;
    }
    if r.size_bytes < -1 {
        return Err(bad(
            format!("{path}.retention.size_bytes"),
            "must be -1 (unlimited), 0 or a byte count",
        ));
    }
    if (r.time_ms == 0.0) != (r.size_bytes == 0) {
        return Err(bad(
            format!("{path}.retention"),
            "Invalid retention policy: give both limits, or 0 for both (0 with a non-zero value \
             is refused)",
        ));
    }
    check_ms(&format!("{path}.ttl_ms"), t.ttl_ms)
}

/// A producer's Pulsar settings.
pub fn validate_producer(path: &str, p: &PulsarProducerSpec) -> Result<(), ScenarioError> {
    let b = &p.batching;
    check_ms(&format!("{path}.batching.max_delay_ms"), b.max_delay_ms)?;
    if b.enabled && b.max_delay_ms <= 0.0 {
        return Err(bad(
            format!("{path}.batching.max_delay_ms"),
            "batching needs a delay above 0 ms",
        ));
    }
    if b.max_messages == 0 || b.max_bytes == 0 {
        return Err(bad(
            format!("{path}.batching"),
            "max_messages and max_bytes must be at least 1",
        ));
    }
    Ok(())
}

/// A Pulsar consumer: its source against the declared topics, and its settings against the
/// subscription type. `topic` looks up a declared topic.
pub fn validate_consumer(
    path: &str,
    c: &ConsumerSpec,
    source: &PulsarSource,
    topic: &dyn Fn(&str) -> Option<bool>,
) -> Result<(), ScenarioError> {
    let spath = format!("{path}.source.pulsar");
    let Some(partitioned) = topic(&source.topic) else {
        return Err(bad(
            format!("{spath}.topic"),
            format!("no Pulsar topic named {:?} is declared", source.topic),
        ));
    };
    check_name(&format!("{spath}.subscription"), &source.subscription)?;
    let s = &c.pulsar;
    let ppath = format!("{path}.pulsar");
    let shared = !source.kind.single_active();
    if !(1..=65_535).contains(&s.receiver_queue_size) {
        return Err(bad(
            format!("{ppath}.receiver_queue_size"),
            format!(
                "must be 1 to 65535 (a zero-queue consumer is not modelled), got {}",
                s.receiver_queue_size
            ),
        ));
    }
    if s.ack == PulsarAck::Cumulative && shared {
        // ConsumerImpl.acknowledgeCumulativeAsync refuses it on the client.
        return Err(bad(
            format!("{ppath}.ack"),
            "Cannot use cumulative acks on a non-exclusive subscription",
        ));
    }
    check_ms(&format!("{ppath}.ack_group_time_ms"), s.ack_group_time_ms)?;
    if s.ack_group_max == 0 {
        return Err(bad(format!("{ppath}.ack_group_max"), "must be at least 1"));
    }
    check_ms(
        &format!("{ppath}.negative_ack_redelivery_delay_ms"),
        s.negative_ack_redelivery_delay_ms,
    )?;
    if let Some(b) = &s.negative_ack_backoff {
        check_ms(&format!("{ppath}.negative_ack_backoff.min_ms"), b.min_ms)?;
        check_ms(&format!("{ppath}.negative_ack_backoff.max_ms"), b.max_ms)?;
        if b.max_ms < b.min_ms || !b.multiplier.is_finite() || b.multiplier < 1.0 {
            return Err(bad(
                format!("{ppath}.negative_ack_backoff"),
                "needs min_ms <= max_ms and a multiplier of at least 1",
            ));
        }
    }
    check_ms(&format!("{ppath}.ack_timeout_ms"), s.ack_timeout_ms)?;
    if s.ack_timeout_ms != 0.0 && s.ack_timeout_ms < 1_000.0 {
        // ConsumerBuilderImpl.ackTimeout: MIN_ACK_TIMEOUT_MILLIS = 1000.
        return Err(bad(
            format!("{ppath}.ack_timeout_ms"),
            "Ack timeout should be greater than 1000 ms",
        ));
    }
    check_ms(
        &format!("{ppath}.ack_timeout_tick_ms"),
        s.ack_timeout_tick_ms,
    )?;
    if s.ack_timeout_tick_ms < 1.0 {
        return Err(bad(
            format!("{ppath}.ack_timeout_tick_ms"),
            "must be at least 1 ms",
        ));
    }
    if let Some(d) = &s.dead_letter_policy {
        // The client accepts a policy here, but Exclusive and Failover dispatchers track no
        // redelivery count, so it could never fire (PUL-10): refused so a lesson cannot rely on it.
        if !shared {
            return Err(bad(
                format!("{ppath}.dead_letter_policy"),
                "a dead-letter policy works only on Shared and Key_Shared subscriptions",
            ));
        }
        if d.max_redeliver_count == 0 {
            return Err(bad(
                format!("{ppath}.dead_letter_policy.max_redeliver_count"),
                "must be at least 1",
            ));
        }
        // Each partition's consumer would name its own `<topic>-partition-N-...-DLQ`.
        if partitioned && d.dead_letter_topic.is_none() {
            return Err(bad(
                format!("{ppath}.dead_letter_policy.dead_letter_topic"),
                "a partitioned topic needs an explicit dead_letter_topic",
            ));
        }
        for (field, name) in [
            ("dead_letter_topic", &d.dead_letter_topic),
            ("initial_subscription_name", &d.initial_subscription_name),
        ] {
            if let Some(n) = name {
                check_name(&format!("{ppath}.dead_letter_policy.{field}"), n)?;
            }
        }
    }
    if let Some(k) = &s.key_shared_policy {
        if source.kind != SubscriptionType::KeyShared {
            return Err(bad(
                format!("{ppath}.key_shared_policy"),
                "only a Key_Shared consumer has a key-shared policy",
            ));
        }
        match k.mode {
            KeySharedMode::Sticky if k.ranges.is_empty() => {
                return Err(bad(
                    format!("{ppath}.key_shared_policy.ranges"),
                    "a sticky consumer declares at least one hash range",
                ));
            }
            KeySharedMode::AutoSplit if !k.ranges.is_empty() => {
                return Err(bad(
                    format!("{ppath}.key_shared_policy.ranges"),
                    "only a sticky consumer declares ranges",
                ));
            }
            _ => {}
        }
        if k.ranges.len() > 64 {
            return Err(bad(
                format!("{ppath}.key_shared_policy.ranges"),
                "at most 64 ranges",
            ));
        }
        for (i, [lo, hi]) in k.ranges.iter().enumerate() {
            if lo > hi || *hi >= HASH_RANGE_SIZE {
                return Err(bad(
                    format!("{ppath}.key_shared_policy.ranges[{i}]"),
                    format!("a range is [start, end] with start <= end <= 65535, got [{lo}, {hi}]"),
                ));
            }
        }
    }
    Ok(())
}
