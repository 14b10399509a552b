//! The scenario file: a versioned JSON description of a topology and its workload, and its
//! validation into errors that name the field path.

use crate::matching::headers_mode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

pub mod sqs;
pub use sqs::{DeduplicationScope, RedrivePolicy, SqsQueueSpec, SqsQueueType, SqsReceiveSpec};
pub mod kafka;
pub mod pulsar;
pub mod stage;
pub use stage::{Orchestration, StageRole, StageSpec};
pub mod redis_streams;
pub use redis_streams::{StreamGroupSpec, StreamReadSpec, StreamSpec};
mod json_path;
pub mod zeromq;

/// The only scenario format version this build reads.
pub const SCENARIO_VERSION: u32 = 1;

/// Caps that keep an absurd but well-formed file from exhausting memory or freezing a tab.
pub mod limits {
    pub const MAX_ENTITIES: usize = 256;
    pub const MAX_RATE_PER_SEC: f64 = 100_000.0;
    pub const MAX_BURST: u64 = 1_000_000;
    /// AMQP's prefetch_count is a 16-bit field.
    pub const MAX_PREFETCH: u32 = 65_535;
    pub const MAX_DURATION_MS: f64 = 365.0 * 24.0 * 3_600_000.0;
    pub const MAX_MESSAGE_BYTES: u32 = 128 * 1024 * 1024;
    pub const MAX_SCRIPT: usize = 10_000;
    pub const MAX_NAME_LEN: usize = 255;
    /// Routing keys, binding keys, record keys, channels and patterns: AMQP's short string.
    pub const MAX_KEY_LEN: usize = 255;
    /// Any text a person writes: titles, descriptions, narration.
    pub const MAX_TEXT_LEN: usize = 4_000;
    pub const MAX_TEMPLATE_VALUES: usize = 1_000;
    /// Template values (keys, header sets, priorities) of all producers together, so the
    /// largest topology stays within tens of megabytes.
    pub const MAX_TEMPLATE_VALUES_TOTAL: usize = 50_000;
    /// Channel names and patterns of all subscribers together (a compiled pattern takes a few
    /// hundred bytes).
    pub const MAX_SUBSCRIPTIONS_TOTAL: usize = 50_000;
}

/// Text in both UI languages.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalizedText {
    pub en: String,
    pub ko: String,
}

/// A whole scenario. Only this and the command log are ever serialised.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub version: u32,
    /// The RabbitMQ release whose rules are modelled; shown in the UI (RMQ-14, -16, -20, -30 differ by version).
    #[serde(default)]
    pub rabbitmq_version: RabbitMqVersion,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<LocalizedText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<LocalizedText>,
    /// One-way network delay of every hop (producer to broker, broker to consumer, ack back).
    #[serde(default = "default_latency_ms")]
    pub latency_ms: f64,
    #[serde(default)]
    pub exchanges: Vec<ExchangeSpec>,
    #[serde(default)]
    pub queues: Vec<QueueSpec>,
    #[serde(default)]
    pub bindings: Vec<BindingSpec>,
    #[serde(default)]
    pub producers: Vec<ProducerSpec>,
    #[serde(default)]
    pub consumers: Vec<ConsumerSpec>,
    /// Kafka-style topics (the event-broker family).
    #[serde(default)]
    pub topics: Vec<TopicSpec>,
    /// Kafka consumer groups; members are consumers whose source is `{"group": name}`.
    #[serde(default)]
    pub groups: Vec<GroupSpec>,
    /// Services called directly, with no broker in between (for the buffering comparison).
    #[serde(default)]
    pub services: Vec<ServiceSpec>,
    /// AWS SQS queues, standard and FIFO.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sqs_queues: Vec<SqsQueueSpec>,
    /// Commands applied at scripted simulated times.
    #[serde(default)]
    pub script: Vec<ScriptedCommand>,
    /// An ActiveMQ / JMS broker: its settings and the destinations that exist from the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jms: Option<JmsSpec>,
    /// ZeroMQ processes and their sockets: no broker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zeromq: Option<zeromq::ZeroMqSpec>,
    /// The teaching script: a goal and ordered steps. The core ignores it; the app plays it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narration: Option<Narration>,
    /// Apache Pulsar topics, broker settings and admin-created subscriptions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pulsar: Option<pulsar::PulsarSpec>,
    /// The shop's services as stages: consumers that publish (issue 14).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageSpec>,
    /// A Kafka cluster of several brokers with replicated partitions (KAF-19..KAF-26); without
    /// it Kafka topics live on one broker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka: Option<kafka::KafkaClusterSpec>,
    /// Redis streams, with their caps and consumer groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub streams: Vec<StreamSpec>,
    /// A RabbitMQ cluster of several nodes, for quorum queues (RMQ-32); without it RabbitMQ is
    /// one node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rabbitmq: Option<RabbitMqClusterSpec>,
}

/// The RabbitMQ cluster: nodes `rabbit-1`..`rabbit-N`. Queues are declared on `rabbit-1`
/// (the client's node: a classic queue lives there, a quorum queue's first leader is there,
/// `queue_leader_locator` = `client-local`), and a quorum queue has members on the first three
/// nodes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RabbitMqClusterSpec {
    pub nodes: u32,
    /// How long a quorum queue's followers take to elect a new leader once the leader's node
    /// is gone (Raft's election timeout and a vote, at teacher scale).
    #[serde(default = "default_election_ms")]
    pub election_ms: f64,
}

fn default_election_ms() -> f64 {
    1_000.0
}

/// Nodes a RabbitMQ cluster may have in a scenario.
pub const MAX_RABBITMQ_NODES: u32 = 7;

/// `rabbit-1` for node 0.
pub fn rabbitmq_node_name(node: u32) -> String {
    format!("rabbit-{}", node + 1)
}

/// A narrated lesson: the learning goal and the steps a teacher clicks through.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Narration {
    pub goal: LocalizedText,
    pub steps: Vec<NarrationStep>,
}

/// One step: the clock runs to `at_ms` and pauses there; the text explains what happened.
/// With a `question`, the step first asks the class to predict, and the next click reveals
/// the `answer`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NarrationStep {
    pub at_ms: f64,
    pub text: LocalizedText,
    /// Names of entities to highlight (queues, consumers, producers, exchanges, topics).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub highlight: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<LocalizedText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<LocalizedText>,
}

/// RabbitMQ versions modelled. Only 4.3 so far; older rules are noted in the reference.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RabbitMqVersion {
    #[default]
    #[serde(rename = "4.3")]
    V4_3,
}

fn default_latency_ms() -> f64 {
    2.0
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExchangeType {
    Direct,
    Fanout,
    Topic,
    Headers,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ExchangeType,
    /// `alternate-exchange`: where unroutable messages go instead of being dropped (RMQ-7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternate_exchange: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueueType {
    #[default]
    Classic,
    Quorum,
}

/// `x-overflow` (RMQ-23, RMQ-24).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Overflow {
    #[default]
    DropHead,
    RejectPublish,
    RejectPublishDlx,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueSpec {
    pub name: String,
    #[serde(default, rename = "type")]
    pub kind: QueueType,
    /// `x-max-priority` (classic queues only; RMQ-17).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_priority: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length_bytes: Option<u64>,
    #[serde(default)]
    pub overflow: Overflow,
    /// `x-message-ttl` in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_ttl_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_exchange: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_routing_key: Option<String>,
    /// Quorum queues only: `x-delivery-limit`; default 20, `-1` disables (RMQ-30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_limit: Option<i64>,
    /// `consumer_timeout` in ms; in 4.3 only quorum queues enforce it (default 1800000; RMQ-16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_timeout_ms: Option<f64>,
    /// `x-expires` in ms: the queue is deleted after this long unused (RMQ-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_ms: Option<f64>,
    /// `durable`: absent is durable, because 4.3 refuses a non-exclusive transient queue. A
    /// transient queue is deleted, with its messages, when the node stops (RMQ-32).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub durable: Option<bool>,
    /// Owned by the connection of the one consumer that reads it, and deleted with it (RMQ-33).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exclusive: bool,
    /// Deleted when its last consumer leaves, provided it ever had one (RMQ-33).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_delete: bool,
}

impl QueueSpec {
    /// Whether the queue comes back when the node restarts (RMQ-32, RMQ-33).
    pub fn survives_restart(&self) -> bool {
        !self.exclusive && self.durable != Some(false)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingSpec {
    pub exchange: String,
    /// Exactly one of `queue` and `to_exchange` (exchange-to-exchange binding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_exchange: Option<String>,
    #[serde(default)]
    pub routing_key: String,
    /// Headers-exchange arguments, including `x-match`; `null` values test presence only.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub arguments: BTreeMap<String, Value>,
}

/// Where a producer sends. A list of several is a fan-out done by the producer itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PublishTarget {
    /// A RabbitMQ exchange; `""` is the default exchange.
    Exchange(String),
    /// A Redis Pub/Sub channel.
    Channel(String),
    /// A Kafka topic.
    Topic(String),
    /// A service called synchronously, with no broker.
    Service(String),
    /// An AWS SQS queue (`SendMessage`).
    SqsQueue(String),
    /// An Apache Pulsar topic.
    PulsarTopic(String),
    /// An ActiveMQ / JMS queue, created on first use like ActiveMQ's.
    JmsQueue(String),
    /// A ZeroMQ socket, `peer/socket`: the producer is that process's application (ZMQ-3).
    Zmq(String),
    /// An ActiveMQ / JMS topic, created on first use.
    JmsTopic(String),
    /// A Redis stream (`XADD key * …`).
    Stream(String),
}

/// How often a producer publishes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RatePattern {
    /// Publishes only on commands (bursts, poison).
    Manual,
    /// Evenly spaced.
    Constant { per_sec: f64 },
    /// Exponential gaps with the given mean rate.
    Poisson { per_sec: f64 },
    /// `count` messages at once, at `at_ms`.
    Burst { count: u64, at_ms: f64 },
    /// Alternates `high` for `duty` of each period, then `low`.
    Square {
        high_per_sec: f64,
        low_per_sec: f64,
        period_ms: f64,
        duty: f64,
    },
    /// Linear change from `from` to `to` over `over_ms`, then stays at `to`.
    Ramp {
        from_per_sec: f64,
        to_per_sec: f64,
        over_ms: f64,
    },
}

/// Properties of the messages a producer sends. List fields are cycled message by message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageTemplate {
    #[serde(default = "default_routing_keys")]
    pub routing_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub priorities: Vec<u32>,
    #[serde(default = "default_size")]
    pub size_bytes: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<BTreeMap<String, Value>>,
    /// Kafka record keys, cycled; empty means unkeyed records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    /// Cycled like `keys`: `true` sends a tombstone (a null value) for that message's key (KAF-7).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tombstones: Vec<bool>,
    /// Per-message `expiration` in milliseconds (RMQ-26); JMS time-to-live (AMQ-7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_ms: Option<f64>,
    /// SQS `MessageGroupId`, cycled; required by FIFO queues (SQS-8).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group_ids: Vec<String>,
    /// SQS `MessageDeduplicationId`, cycled (SQS-9).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dedup_ids: Vec<String>,
    /// Message bodies, cycled; SQS content-based deduplication compares them. Without any,
    /// every message's body is its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bodies: Vec<String>,
    /// SQS per-message `DelaySeconds` in ms; standard queues only (SQS-11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<f64>,
    /// JMS delivery mode: absent or true is `PERSISTENT`, the default (AMQ-3). RabbitMQ
    /// `delivery_mode`: only true is 2 (persistent); absent is the AMQP default 1 (RMQ-32).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent: Option<bool>,
    /// Redis `XADD` ids, cycled: `*` (the default) lets Redis pick, `ms-seq` is explicit (RST-1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stream_ids: Vec<String>,
}

impl Default for MessageTemplate {
    fn default() -> Self {
        MessageTemplate {
            routing_keys: default_routing_keys(),
            priorities: Vec::new(),
            size_bytes: default_size(),
            headers: Vec::new(),
            keys: Vec::new(),
            tombstones: Vec::new(),
            ttl_ms: None,
            group_ids: Vec::new(),
            dedup_ids: Vec::new(),
            bodies: Vec::new(),
            delay_ms: None,
            persistent: None,
            stream_ids: Vec::new(),
        }
    }
}

fn default_routing_keys() -> Vec<String> {
    vec![String::new()]
}

fn default_size() -> u32 {
    256
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProducerSpec {
    pub name: String,
    pub targets: Vec<PublishTarget>,
    pub rate: RatePattern,
    #[serde(default)]
    pub message: MessageTemplate,
    /// Stop after this many messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// `basic.publish mandatory`: unroutable messages come back (RMQ-7).
    #[serde(default)]
    pub mandatory: bool,
    /// Publisher confirms (RMQ-31).
    #[serde(default)]
    pub confirms: bool,
    #[serde(default)]
    pub paused: bool,
    /// Client settings used when publishing to a Pulsar topic.
    #[serde(
        default,
        skip_serializing_if = "pulsar::PulsarProducerSpec::is_default"
    )]
    pub pulsar: pulsar::PulsarProducerSpec,
    /// Client settings used when publishing to a Kafka topic (KAF-21, KAF-25).
    #[serde(default, skip_serializing_if = "kafka::KafkaProducerSpec::is_default")]
    pub kafka: kafka::KafkaProducerSpec,
}

/// What a consumer reads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ConsumerSource {
    Queue(String),
    /// A Redis Pub/Sub client: `SUBSCRIBE` channels and `PSUBSCRIBE` glob patterns. A client on
    /// both `foo` and `f*` gets two copies (RPS-2).
    Subscribe {
        #[serde(default)]
        channels: Vec<String>,
        #[serde(default)]
        patterns: Vec<String>,
    },
    /// A member of a Kafka consumer group.
    Group(String),
    /// An AWS SQS consumer: it polls with `ReceiveMessage` and deletes what it processed.
    SqsQueue(String),
    /// A consumer on an Apache Pulsar subscription.
    Pulsar(pulsar::PulsarSource),
    /// A JMS queue consumer, created on first use (AMQ-1).
    /// The application reading a ZeroMQ socket, `peer/socket` (ZMQ-4).
    Zmq(String),
    JmsQueue(String),
    /// A JMS topic subscriber: durable with a client id and subscription name, otherwise
    /// non-durable (AMQ-1, AMQ-2).
    JmsTopic {
        topic: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        durable: Option<DurableName>,
    },
    /// A Redis stream consumer group member: `XREADGROUP GROUP group <name>` (RST-4..RST-8).
    StreamGroup {
        stream: String,
        group: String,
    },
    /// A Redis `XREAD` reader, with no group: every reader sees every entry (RST-3).
    StreamRead {
        stream: String,
        /// `$` (entries added after its first read) or an id (`0`: everything).
        #[serde(default = "redis_streams_dollar")]
        from: String,
    },
}

fn redis_streams_dollar() -> String {
    "$".into()
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckMode {
    #[default]
    Manual,
    /// `no_ack`: acked by the broker the moment it is sent (RMQ-10).
    Auto,
}

/// Processing time of one message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Processing {
    Fixed { ms: f64 },
    Exponential { mean_ms: f64 },
    Uniform { min_ms: f64, max_ms: f64 },
}

/// How a consumer reports a message it failed to process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureAction {
    /// `basic.nack`.
    #[default]
    Nack,
    /// `basic.reject`.
    Reject,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureSpec {
    #[serde(default)]
    pub probability: f64,
    #[serde(default)]
    pub action: FailureAction,
    #[serde(default)]
    pub requeue: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumerSpec {
    pub name: String,
    pub source: ConsumerSource,
    /// `basic.qos prefetch_count`; 0 = unlimited (RMQ-9).
    #[serde(default)]
    pub prefetch: u32,
    /// Consumer priority `x-priority`: only the highest-priority consumers with capacity get messages (RMQ-8).
    #[serde(default)]
    pub priority: i32,
    /// Acks with `multiple=true` once this many successes have accumulated (RMQ-11); 1 = ack each.
    #[serde(default = "default_ack_batch")]
    pub ack_batch: u32,
    #[serde(default)]
    pub ack: AckMode,
    pub processing: Processing,
    /// Random processing failures.
    #[serde(default)]
    pub failure: FailureSpec,
    /// What the consumer does with a poison message: it always fails it this way.
    #[serde(default = "default_poison")]
    pub poison: FailureSpec,
    /// Redis output-buffer hard limit in bytes (`client-output-buffer-limit pubsub`, RPS-3).
    #[serde(default = "default_pubsub_hard_limit")]
    pub output_buffer_limit_bytes: u64,
    /// The soft limit: above it for `output_buffer_soft_seconds` also disconnects (RPS-3).
    #[serde(default = "default_pubsub_soft_limit")]
    pub output_buffer_soft_limit_bytes: u64,
    #[serde(default = "default_pubsub_soft_seconds")]
    pub output_buffer_soft_seconds: f64,
    /// Starts disconnected until a restart command.
    #[serde(default)]
    pub stopped: bool,
    /// How an SQS consumer calls `ReceiveMessage`; defaults when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sqs: Option<SqsReceiveSpec>,
    /// Scripted decisions per message; SQS and Redis stream consumers only so far.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decisions: Vec<Decision>,
    /// Client settings of a consumer whose source is a Pulsar subscription.
    #[serde(
        default,
        skip_serializing_if = "pulsar::PulsarConsumerSpec::is_default"
    )]
    pub pulsar: pulsar::PulsarConsumerSpec,
    /// A JMS consumer's session: ack mode, prefetch, redelivery policy (AMQ-4..AMQ-11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jms: Option<JmsConsumerSpec>,
    /// The service this consumer works for: it runs the stage's step on every message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<StageRole>,
    /// How a Redis stream consumer calls `XREADGROUP` / `XREAD`; defaults when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamReadSpec>,
}

/// A scripted decision about one message: the first rule whose `when` matches decides. With
/// none, the consumer's `failure` and `poison` settings apply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub when: DecisionWhen,
    pub then: DecisionAction,
}

/// Which message a decision is about; every field given must match.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionWhen {
    /// The message id (`m7` is 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg: Option<u64>,
    /// The consumer's own 1-based count of messages it started processing, over its life.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<u64>,
    /// The message's attempt number: SQS `ApproximateReceiveCount`, a Redis PEL entry's
    /// delivery count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
}

/// What the consumer does with the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionAction {
    /// Settles it as processed (SQS: `DeleteMessage`).
    Ack,
    /// Processes it and never settles it (SQS: no delete; it comes back after its visibility
    /// timeout).
    LeaveUnacked,
    /// The process dies as it starts processing the message.
    Crash,
}

fn default_ack_batch() -> u32 {
    1
}

fn default_poison() -> FailureSpec {
    FailureSpec {
        probability: 1.0,
        action: FailureAction::Reject,
        requeue: true,
    }
}

fn default_pubsub_hard_limit() -> u64 {
    32 * 1024 * 1024
}

fn default_pubsub_soft_limit() -> u64 {
    8 * 1024 * 1024
}

fn default_pubsub_soft_seconds() -> f64 {
    60.0
}

/// How records without a key pick a partition (KAF-4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnkeyedStrategy {
    /// 3.3+ built-in: stay on one partition for `batch_size` bytes, then switch.
    #[default]
    Sticky,
    /// `RoundRobinPartitioner`.
    RoundRobin,
}

/// A Kafka topic. Defaults are Kafka's, except where a teaching scenario sets smaller ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicSpec {
    pub name: String,
    #[serde(default = "one")]
    pub partitions: u32,
    #[serde(default = "default_segment_bytes")]
    pub segment_bytes: u64,
    #[serde(default = "default_week_ms")]
    pub segment_ms: f64,
    /// `retention.ms`; `-1` keeps forever.
    #[serde(default = "default_week_ms")]
    pub retention_ms: f64,
    /// `retention.bytes` per partition; `-1` is off.
    #[serde(default = "minus_one")]
    pub retention_bytes: i64,
    /// `log.retention.check.interval.ms`.
    #[serde(default = "default_retention_check_ms")]
    pub retention_check_interval_ms: f64,
    #[serde(default)]
    pub unkeyed: UnkeyedStrategy,
    /// `batch.size`, used by the sticky partitioner.
    #[serde(default = "default_batch_size")]
    pub batch_size: u64,
    /// `cleanup.policy`: delete (the default), compact, or both (KAF-7).
    #[serde(default, skip_serializing_if = "CleanupPolicy::is_delete")]
    pub cleanup_policy: CleanupPolicy,
    /// `delete.retention.ms`: how long a tombstone outlives the cleaning that kept it (24 h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_retention_ms: Option<f64>,
    /// `min.compaction.lag.ms`: records younger than this are not compacted (0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_compaction_lag_ms: Option<f64>,
    /// `min.cleanable.dirty.ratio`: the cleaner starts once this share of the log is dirty (0.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_cleanable_dirty_ratio: Option<f64>,
    /// `log.cleaner.backoff.ms`: how often the cleaner looks for work (15 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_cleaner_backoff_ms: Option<f64>,
    /// Replicas per partition (`default.replication.factor`, 1); at most the cluster's brokers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replication_factor: Option<u32>,
    /// `min.insync.replicas` (1), for `acks=all` (KAF-22).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_insync_replicas: Option<u32>,
    /// `unclean.leader.election.enable` (false, KAF-23).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unclean_leader_election_enable: bool,
}

/// `cleanup.policy` (KAF-5, KAF-7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CleanupPolicy {
    /// Retention deletes whole segments by time or size.
    #[default]
    #[serde(rename = "delete")]
    Delete,
    /// The latest value per key is kept; time and size retention are off.
    #[serde(rename = "compact")]
    Compact,
    /// Both: compaction, and retention deleting old segments.
    #[serde(rename = "compact,delete", alias = "delete,compact")]
    CompactDelete,
}

impl CleanupPolicy {
    pub fn is_delete(&self) -> bool {
        *self == CleanupPolicy::Delete
    }

    pub fn compacts(self) -> bool {
        self != CleanupPolicy::Delete
    }

    pub fn deletes(self) -> bool {
        self != CleanupPolicy::Compact
    }
}

fn one() -> u32 {
    1
}
fn default_segment_bytes() -> u64 {
    1_073_741_824
}
fn default_week_ms() -> f64 {
    604_800_000.0
}
fn minus_one() -> i64 {
    -1
}
fn default_retention_check_ms() -> f64 {
    300_000.0
}
fn default_batch_size() -> u64 {
    16_384
}

/// `auto.offset.reset` (KAF-15).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OffsetReset {
    Earliest,
    #[default]
    Latest,
    None,
}

/// When a group commits offsets (KAF-12..KAF-14).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CommitMode {
    /// `enable.auto.commit=true`: each poll commits what earlier polls returned, once the
    /// interval has passed. Records are processed before the next poll: at-least-once.
    Auto {
        #[serde(default = "default_auto_commit_ms")]
        interval_ms: f64,
    },
    /// Commit after processing every `every` records: at-least-once.
    AfterProcessing {
        #[serde(default = "default_every")]
        every: u32,
    },
    /// Commit right after each poll, before processing: at-most-once.
    BeforeProcessing,
}

impl Default for CommitMode {
    fn default() -> Self {
        CommitMode::Auto {
            interval_ms: default_auto_commit_ms(),
        }
    }
}

fn default_auto_commit_ms() -> f64 {
    5_000.0
}
fn default_every() -> u32 {
    1
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub name: String,
    pub topics: Vec<String>,
    /// The default strategy list `[Range, CooperativeSticky]` means Range (KAF-9).
    #[serde(default = "default_assignor")]
    pub assignor: Assignor,
    #[serde(default)]
    pub auto_offset_reset: OffsetReset,
    #[serde(default)]
    pub commit: CommitMode,
    /// `session.timeout.ms` (45 s since 3.0; KAF-10).
    #[serde(default = "default_session_timeout_ms")]
    pub session_timeout_ms: f64,
    /// `max.poll.records`.
    #[serde(default = "default_max_poll_records")]
    pub max_poll_records: u32,
    /// How long a rebalance round (JoinGroup + SyncGroup) takes.
    #[serde(default = "default_rebalance_ms")]
    pub rebalance_ms: f64,
    /// `offsets.retention.minutes` in ms: committed offsets of an empty group expire (KAF-17).
    #[serde(default = "default_offsets_retention_ms")]
    pub offsets_retention_ms: f64,
    /// `isolation.level` (KAF-27).
    #[serde(default, skip_serializing_if = "kafka::IsolationLevel::is_default")]
    pub isolation_level: kafka::IsolationLevel,
}

fn default_offsets_retention_ms() -> f64 {
    10_080.0 * 60_000.0
}

fn default_assignor() -> Assignor {
    Assignor::Range
}
fn default_session_timeout_ms() -> f64 {
    45_000.0
}
fn default_max_poll_records() -> u32 {
    500
}
fn default_rebalance_ms() -> f64 {
    1_000.0
}

/// A service called directly, with limited concurrency and a client timeout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub name: String,
    /// Requests served at once (worker threads).
    pub concurrency: u32,
    /// Requests that may wait for a worker (accept backlog); beyond it they are refused.
    #[serde(default)]
    pub backlog: u32,
    /// A waiting request whose client has waited this long gives up.
    pub timeout_ms: f64,
    pub processing: Processing,
}

/// A command scheduled by the scenario itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedCommand {
    pub at_ms: f64,
    pub command: Command,
}

/// Reads any of the format's types (a scenario, a command, a spec, or a type that holds them)
/// from JSON text, with the JSON path of the first bad field. Every reader goes through this one
/// deserializer type, so the wasm holds one copy of each type's parsing code, not one per reader.
pub fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ScenarioError> {
    read_located(text, "JSON")
}

/// [`from_json`], with `what` naming the top-level object in the trailing-text error.
pub(crate) fn read_located<T: serde::de::DeserializeOwned>(
    text: &str,
    what: &str,
) -> Result<T, ScenarioError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let value = T::deserialize(&mut *de).map_err(|e| {
        // Read again, spaced, to tell an error about a value from one about its container.
        let spaced = json_path::spaced(text);
        let again = T::deserialize(&mut serde_json::Deserializer::from_str(&spaced)).err();
        let path = again.map_or_else(String::new, |a| {
            let variant = a.to_string().starts_with("unknown variant");
            json_path::path_at(&spaced, a.line(), a.column(), variant)
        });
        ScenarioError::new(path, e.to_string())
    })?;
    de.end()
        .map_err(|e| ScenarioError::new("", format!("text after the {what} object: {e}")))?;
    Ok(value)
}

/// A validation failure: the JSON path of the offending field and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScenarioError {
    pub path: String,
    pub reason: String,
}

impl ScenarioError {
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> ScenarioError {
        ScenarioError {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "{}: {}", self.path, self.reason)
        }
    }
}

impl std::error::Error for ScenarioError {}

impl Scenario {
    /// Reads a file's bytes: UTF-8, with or without a byte-order mark. UTF-16 and invalid
    /// UTF-8 are refused with the byte offset where they show.
    pub fn from_bytes(bytes: &[u8]) -> Result<Scenario, ScenarioError> {
        Scenario::from_json(text_from_bytes(bytes)?)
    }

    /// Parses and validates JSON; errors name the field path (`queues[2].max_length`).
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioError> {
        // Editors on Windows start UTF-8 files with a byte-order mark; it is not part of the JSON.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // serde also reads a struct from an array; a scenario file is an object and nothing else.
        if !text.trim_start().starts_with('{') {
            return Err(ScenarioError::new(
                "",
                "expected a JSON object like { \"version\": 1, ... }",
            ));
        }
        let scenario: Scenario = from_json(text)?;
        scenario.validate()?;
        Ok(scenario)
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a Scenario always serialises")
    }

    /// Checks everything serde cannot: ranges, references between entities and cycles.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        if self.version != SCENARIO_VERSION {
            return Err(ScenarioError::new(
                "version",
                format!(
                    "unsupported version {}; this build reads version {SCENARIO_VERSION}",
                    self.version
                ),
            ));
        }
        check_ms("latency_ms", self.latency_ms)?;
        for (field, len) in [
            ("exchanges", self.exchanges.len()),
            ("queues", self.queues.len()),
            ("bindings", self.bindings.len()),
            ("producers", self.producers.len()),
            ("consumers", self.consumers.len()),
            ("topics", self.topics.len()),
            ("groups", self.groups.len()),
            ("services", self.services.len()),
            ("sqs_queues", self.sqs_queues.len()),
            ("streams", self.streams.len()),
        ] {
            if len > limits::MAX_ENTITIES {
                return Err(ScenarioError::new(
                    field,
                    format!(
                        "{len} entries; at most {} are allowed",
                        limits::MAX_ENTITIES
                    ),
                ));
            }
        }
        if self.script.len() > limits::MAX_SCRIPT {
            return Err(ScenarioError::new(
                "script",
                format!(
                    "{} commands; at most {} are allowed",
                    self.script.len(),
                    limits::MAX_SCRIPT
                ),
            ));
        }
        check_script_caps(self)?;
        for (field, text) in [("title", &self.title), ("description", &self.description)] {
            if let Some(t) = text {
                for (lang, s) in [("en", &t.en), ("ko", &t.ko)] {
                    check_len(&format!("{field}.{lang}"), s, limits::MAX_TEXT_LEN)?;
                }
            }
        }
        let exchanges = unique_names("exchanges", self.exchanges.iter().map(|e| &e.name))?;
        let queues = unique_names("queues", self.queues.iter().map(|q| &q.name))?;
        unique_names("producers", self.producers.iter().map(|p| &p.name))?;
        unique_names("consumers", self.consumers.iter().map(|c| &c.name))?;
        let topics = unique_names("topics", self.topics.iter().map(|t| &t.name))?;
        let groups = unique_names("groups", self.groups.iter().map(|g| &g.name))?;
        let services = unique_names("services", self.services.iter().map(|s| &s.name))?;
        unique_names("sqs_queues", self.sqs_queues.iter().map(|q| &q.name))?;
        let sqs_kind = |name: &str| {
            (self.sqs_queues.iter())
                .find(|q| q.name == name)
                .map(|q| q.kind)
        };
        for (i, q) in self.sqs_queues.iter().enumerate() {
            let path = format!("sqs_queues[{i}]");
            sqs::validate_sqs_queue(&path, q)?;
            sqs::validate_sqs_redrive(&path, q, &sqs_kind)?;
        }
        sqs::check_sqs_redrive_cycles(self.sqs_queues.iter().filter_map(|q| {
            let r = q.redrive.as_ref()?;
            Some((q.name.as_str(), r.dead_letter_queue.as_str()))
        }))?;
        let stream_keys = unique_names("streams", self.streams.iter().map(|s| &s.key))?;
        for (i, s) in self.streams.iter().enumerate() {
            redis_streams::validate_stream(&format!("streams[{i}]"), s)?;
        }
        let stream_known = |key: &str, group: Option<&str>| {
            (self.streams.iter())
                .any(|s| s.key == key && group.is_none_or(|g| s.groups.iter().any(|x| x.name == g)))
        };
        let sqs_target = |name: &str| {
            (self.sqs_queues.iter())
                .find(|q| q.name == name)
                .map(SqsTarget::of)
        };
        for (i, t) in self.topics.iter().enumerate() {
            validate_topic(&format!("topics[{i}]"), t)?;
        }
        for (i, g) in self.groups.iter().enumerate() {
            validate_group(&format!("groups[{i}]"), g, &|t| topics.contains(t))?;
        }
        for (i, s) in self.services.iter().enumerate() {
            validate_service(&format!("services[{i}]"), s)?;
        }
        let no_pulsar = pulsar::PulsarSpec::default();
        let pulsar_spec = self.pulsar.as_ref().unwrap_or(&no_pulsar);
        pulsar_spec.validate()?;
        let pulsar_topic = |n: &str| pulsar_spec.topic(n).map(|t| t.partitions > 0);
        let exchange_known = |name: &str| name.is_empty() || exchanges.contains(name);
        let no_zmq = zeromq::ZeroMqSpec::default();
        let zmq_spec = self.zeromq.as_ref().unwrap_or(&no_zmq);
        zmq_spec.validate()?;
        let zmq_socket = |a: &str| zmq_spec.socket(a).map(|s| s.kind);

        for (i, x) in self.exchanges.iter().enumerate() {
            if x.name.is_empty() {
                return Err(ScenarioError::new(
                    format!("exchanges[{i}].name"),
                    "the default exchange \"\" is pre-declared and cannot be redeclared",
                ));
            }
            if let Some(ae) = &x.alternate_exchange {
                if !exchange_known(ae) {
                    return Err(missing(
                        format!("exchanges[{i}].alternate_exchange"),
                        "exchange",
                        ae,
                    ));
                }
            }
        }
        for (i, q) in self.queues.iter().enumerate() {
            validate_queue(&format!("queues[{i}]"), q, &exchange_known)?;
        }
        for (i, b) in self.bindings.iter().enumerate() {
            let path = format!("bindings[{i}]");
            check_len(
                &format!("{path}.routing_key"),
                &b.routing_key,
                limits::MAX_KEY_LEN,
            )?;
            if b.exchange.is_empty() {
                return Err(ScenarioError::new(
                    format!("{path}.exchange"),
                    "bindings to the default exchange are refused (ACCESS_REFUSED); every queue is already bound to it by name",
                ));
            }
            if !exchanges.contains(b.exchange.as_str()) {
                return Err(missing(format!("{path}.exchange"), "exchange", &b.exchange));
            }
            match (&b.queue, &b.to_exchange) {
                (Some(q), None) if !queues.contains(q.as_str()) => {
                    return Err(missing(format!("{path}.queue"), "queue", q));
                }
                (None, Some(x)) if !exchanges.contains(x.as_str()) => {
                    return Err(missing(format!("{path}.to_exchange"), "exchange", x));
                }
                (Some(_), None) | (None, Some(_)) => {}
                _ => {
                    return Err(ScenarioError::new(
                        path,
                        "set exactly one of `queue` and `to_exchange`",
                    ))
                }
            }
            let kind = self
                .exchanges
                .iter()
                .find(|x| x.name == b.exchange)
                .map(|x| x.kind);
            if kind == Some(ExchangeType::Headers) {
                headers_mode(&b.arguments).map_err(|reason| {
                    ScenarioError::new(format!("{path}.arguments.x-match"), reason)
                })?;
            }
        }
        check_exchange_cycles(self)?;
        let mut template_values = 0;
        for (i, p) in self.producers.iter().enumerate() {
            let m = &p.message;
            template_values += m.routing_keys.len()
                + m.headers.len()
                + m.keys.len()
                + m.priorities.len()
                + m.group_ids.len()
                + m.dedup_ids.len()
                + m.bodies.len();
            if template_values > limits::MAX_TEMPLATE_VALUES_TOTAL {
                return Err(ScenarioError::new(
                    format!("producers[{i}].message"),
                    format!(
                        "the producers' message templates hold more than {} values together",
                        limits::MAX_TEMPLATE_VALUES_TOTAL
                    ),
                ));
            }
            let known = Known {
                exchange: &exchange_known,
                topic: &|t| topics.contains(t),
                service: &|s| services.contains(s),
                sqs_queue: &sqs_target,
                pulsar_topic: &|t| pulsar_topic(t).is_some(),
                stream: &|k| stream_keys.contains(k),
            };
            validate_producer(&format!("producers[{i}]"), p, &known)?;
            zeromq::validate_producer(&format!("producers[{i}]"), p, &zmq_socket)?;
            if let Some(PublishTarget::Zmq(address)) = p.targets.first() {
                if self.producers[..i].iter().any(|o| o.targets == p.targets) {
                    return Err(zeromq::taken(
                        &format!("producers[{i}].targets[0].zmq"),
                        address,
                    ));
                }
            }
        }
        let mut subscriptions = 0;
        for (i, c) in self.consumers.iter().enumerate() {
            if let ConsumerSource::Subscribe { channels, patterns } = &c.source {
                subscriptions += channels.len() + patterns.len();
                if subscriptions > limits::MAX_SUBSCRIPTIONS_TOTAL {
                    return Err(ScenarioError::new(
                        format!("consumers[{i}].source.subscribe"),
                        format!(
                            "the subscribers hold more than {} channels and patterns together",
                            limits::MAX_SUBSCRIPTIONS_TOTAL
                        ),
                    ));
                }
            }
            let known = KnownSources {
                queue: &|q| queues.contains(q),
                group: &|g| groups.contains(g),
                sqs_queue: &|q| sqs_kind(q).is_some(),
                stream: &stream_known,
            };
            validate_consumer(&format!("consumers[{i}]"), c, &known)?;
            if let ConsumerSource::Pulsar(source) = &c.source {
                pulsar::validate_consumer(&format!("consumers[{i}]"), c, source, &pulsar_topic)?;
            }
            zeromq::validate_consumer(&format!("consumers[{i}]"), c, &zmq_socket)?;
            if let ConsumerSource::Zmq(address) = &c.source {
                if self.consumers[..i].iter().any(|o| o.source == c.source) {
                    return Err(zeromq::taken(
                        &format!("consumers[{i}].source.zmq"),
                        address,
                    ));
                }
            }
            if let Some(role) = c.stage {
                if !self.stages.iter().any(|s| s.role == role) {
                    return Err(ScenarioError::new(
                        format!("consumers[{i}].stage"),
                        format!("no stage {role:?} is declared"),
                    ));
                }
            }
        }
        stage::unique_roles(&self.stages)?;
        for (i, s) in self.stages.iter().enumerate() {
            let producer = |n: &str| self.producers.iter().any(|p| p.name == n);
            stage::validate_stage(&format!("stages[{i}]"), s, &producer)?;
            let sides = stage::KafkaSides {
                consumers: &mut self.consumers.iter(),
                producer: &|n| self.producers.iter().find(|p| p.name == n),
                commit: &|g| self.groups.iter().find(|x| x.name == g).map(|x| &x.commit),
                cluster: self.kafka.is_some(),
            };
            stage::check_kafka_only(&format!("stages[{i}]"), s, sides)?;
        }
        for (i, s) in self.script.iter().enumerate() {
            check_ms(&format!("script[{i}].at_ms"), s.at_ms)?;
        }
        if let Some(j) = &self.jms {
            validate_jms("jms", j)?;
        }
        if let Some(r) = &self.rabbitmq {
            if r.nodes == 0 || r.nodes > MAX_RABBITMQ_NODES {
                return Err(ScenarioError::new(
                    "rabbitmq.nodes",
                    format!("{} nodes; 1 to {MAX_RABBITMQ_NODES} are allowed", r.nodes),
                ));
            }
            check_ms("rabbitmq.election_ms", r.election_ms)?;
        }
        if let Some(k) = &self.kafka {
            kafka::validate_cluster("kafka", k)?;
        }
        let brokers = self.kafka.as_ref().map_or(1, |k| k.brokers);
        for (i, t) in self.topics.iter().enumerate() {
            let rf = t.replication_factor.unwrap_or(1);
            if !(1..=brokers).contains(&rf) {
                return Err(ScenarioError::new(
                    format!("topics[{i}].replication_factor"),
                    format!("must be 1 to the {brokers} broker(s), got {rf}"),
                ));
            }
            if t.min_insync_replicas
                .is_some_and(|m| !(1..=rf).contains(&m))
            {
                return Err(ScenarioError::new(
                    format!("topics[{i}].min_insync_replicas"),
                    format!("must be 1 to the replication factor {rf}"),
                ));
            }
        }
        for (i, p) in self.producers.iter().enumerate() {
            kafka::validate_producer(&format!("producers[{i}].kafka"), &p.kafka)?;
            if p.kafka.transactions.is_some() && self.kafka.is_none() {
                return Err(ScenarioError::new(
                    format!("producers[{i}].kafka.transactions"),
                    "transactions need a `kafka` cluster",
                ));
            }
        }
        let mut client_ids = BTreeSet::new();
        for (i, c) in self.consumers.iter().enumerate() {
            if let Some(id) = c.durable_client_id() {
                if !client_ids.insert(id) {
                    return Err(duplicate_client_id(&format!("consumers[{i}]"), id));
                }
            }
        }
        if let Some(n) = &self.narration {
            validate_narration(n)?;
        }
        Ok(())
    }
}

/// The text of a file: UTF-8 without its byte-order mark, or an error that says which encoding
/// the bytes are in instead and at which byte offset it shows.
pub fn text_from_bytes(bytes: &[u8]) -> Result<&str, ScenarioError> {
    let utf16 = |why: &str| {
        ScenarioError::new(
            "",
            format!("the file is UTF-16 ({why}); save it as UTF-8 and load it again"),
        )
    };
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(utf16("byte-order mark at byte 0"));
    }
    // JSON text starts with an ASCII character, so a zero byte among the first two is UTF-16.
    if let Some(i) = bytes.iter().take(2).position(|b| *b == 0) {
        return Err(utf16(&format!("zero byte at byte {i}")));
    }
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let skipped = bytes.len() - body.len();
    std::str::from_utf8(body).map_err(|e| {
        ScenarioError::new(
            "",
            format!(
                "the file is not valid UTF-8: byte {} cannot start or continue a character",
                e.valid_up_to() + skipped
            ),
        )
    })
}

/// A burst is one step of work, so its copies (count × targets) are capped like its count.
pub fn check_burst_copies(path: &str, count: u64, targets: usize) -> Result<(), ScenarioError> {
    let copies = count.saturating_mul(targets.max(1) as u64);
    if copies > limits::MAX_BURST {
        return Err(ScenarioError::new(
            path,
            format!(
                "{count} messages to {targets} targets make {copies} copies; a burst makes at most {}",
                limits::MAX_BURST
            ),
        ));
    }
    Ok(())
}

/// A string longer than `max` bytes is refused, naming the field.
pub fn check_len(path: &str, s: &str, max: usize) -> Result<(), ScenarioError> {
    if s.len() > max {
        return Err(ScenarioError::new(
            path,
            format!("{} bytes; at most {max} are allowed", s.len()),
        ));
    }
    Ok(())
}

/// Entities the script adds count against the same caps as those the file declares.
fn check_script_caps(s: &Scenario) -> Result<(), ScenarioError> {
    use Command as C;
    let jms = s.jms.as_ref();
    let mut count = [
        s.queues.len(),
        s.bindings.len(),
        s.producers.len(),
        s.consumers.len(),
        s.groups.len(),
        s.sqs_queues.len(),
        jms.map_or(0, |j| j.queues.len()),
        jms.map_or(0, |j| j.topics.len()),
    ];
    const KINDS: [&str; 8] = [
        "queues",
        "bindings",
        "producers",
        "consumers",
        "groups",
        "sqs_queues",
        "JMS queues",
        "JMS topics",
    ];
    for (i, step) in s.script.iter().enumerate() {
        let kind = match step.command {
            C::AddQueue { .. } => 0,
            C::AddBinding { .. } => 1,
            C::AddProducer { .. } => 2,
            C::AddConsumer { .. } => 3,
            C::AddGroup { .. } => 4,
            C::AddSqsQueue { .. } => 5,
            C::AddJmsQueue { .. } => 6,
            C::AddJmsTopic { .. } => 7,
            _ => continue,
        };
        count[kind] += 1;
        if count[kind] > limits::MAX_ENTITIES {
            return Err(ScenarioError::new(
                format!("script[{i}].command"),
                format!(
                    "adds more {} than the {} a scenario may have",
                    KINDS[kind],
                    limits::MAX_ENTITIES
                ),
            ));
        }
    }
    Ok(())
}

fn missing(path: String, what: &str, name: &str) -> ScenarioError {
    ScenarioError::new(path, format!("no {what} named {name:?} is declared"))
}

fn unique_names<'a>(
    field: &str,
    names: impl Iterator<Item = &'a String>,
) -> Result<BTreeSet<&'a str>, ScenarioError> {
    let mut seen = BTreeSet::new();
    for (i, name) in names.enumerate() {
        if name.len() > limits::MAX_NAME_LEN {
            return Err(ScenarioError::new(
                format!("{field}[{i}].name"),
                format!("longer than {} bytes", limits::MAX_NAME_LEN),
            ));
        }
        if !seen.insert(name.as_str()) {
            return Err(ScenarioError::new(
                format!("{field}[{i}].name"),
                format!("{name:?} is declared twice"),
            ));
        }
    }
    Ok(seen)
}

/// A duration or time in milliseconds: finite, not negative, at most a year.
pub(crate) fn check_ms(path: &str, ms: f64) -> Result<(), ScenarioError> {
    if !ms.is_finite() || ms < 0.0 {
        return Err(ScenarioError::new(
            path,
            format!("must be a non-negative number of milliseconds, got {ms}"),
        ));
    }
    if ms > limits::MAX_DURATION_MS {
        return Err(ScenarioError::new(
            path,
            format!("{ms} ms is longer than the one-year cap"),
        ));
    }
    Ok(())
}

fn check_rate(path: &str, per_sec: f64) -> Result<(), ScenarioError> {
    if !per_sec.is_finite() || per_sec < 0.0 {
        return Err(ScenarioError::new(
            path,
            format!("must be a non-negative rate, got {per_sec}"),
        ));
    }
    if per_sec > limits::MAX_RATE_PER_SEC {
        return Err(ScenarioError::new(
            path,
            format!(
                "{per_sec}/s is above the simulator's cap of {}/s",
                limits::MAX_RATE_PER_SEC
            ),
        ));
    }
    Ok(())
}

pub(crate) fn check_probability(path: &str, p: f64) -> Result<(), ScenarioError> {
    if !(0.0..=1.0).contains(&p) {
        return Err(ScenarioError::new(
            path,
            format!("must be a probability between 0 and 1, got {p}"),
        ));
    }
    Ok(())
}

pub(crate) fn validate_queue(
    path: &str,
    q: &QueueSpec,
    exchange_known: &dyn Fn(&str) -> bool,
) -> Result<(), ScenarioError> {
    if q.name.is_empty() {
        return Err(ScenarioError::new(
            format!("{path}.name"),
            "a queue needs a name",
        ));
    }
    if let Some(p) = q.max_priority {
        if !(1..=255).contains(&p) {
            return Err(ScenarioError::new(
                format!("{path}.max_priority"),
                format!("x-max-priority must be 1 to 255, got {p}"),
            ));
        }
    }
    if let Some(ttl) = q.message_ttl_ms {
        check_ms(&format!("{path}.message_ttl_ms"), ttl)?;
    }
    if let Some(dlx) = &q.dead_letter_exchange {
        if !exchange_known(dlx) {
            return Err(missing(
                format!("{path}.dead_letter_exchange"),
                "exchange",
                dlx,
            ));
        }
    }
    if q.durable == Some(false) && !q.exclusive {
        return Err(ScenarioError::new(
            format!("{path}.durable"),
            "RabbitMQ 4.3 refuses a non-exclusive transient queue; make it durable or exclusive",
        ));
    }
    if q.kind == QueueType::Quorum && (!q.survives_restart() || q.auto_delete) {
        return Err(ScenarioError::new(
            format!("{path}.type"),
            "a quorum queue is always durable, never exclusive nor auto-delete",
        ));
    }
    if q.kind == QueueType::Quorum && q.overflow == Overflow::RejectPublishDlx {
        return Err(ScenarioError::new(
            format!("{path}.overflow"),
            "quorum queues do not support reject-publish-dlx",
        ));
    }
    if let Some(t) = q.consumer_timeout_ms {
        check_ms(&format!("{path}.consumer_timeout_ms"), t)?;
        if q.kind != QueueType::Quorum {
            return Err(ScenarioError::new(
                format!("{path}.consumer_timeout_ms"),
                "in RabbitMQ 4.3 only quorum queues enforce the consumer timeout",
            ));
        }
    }
    if let Some(t) = q.expires_ms {
        check_ms(&format!("{path}.expires_ms"), t)?;
        if t < 1.0 {
            return Err(ScenarioError::new(
                format!("{path}.expires_ms"),
                "x-expires must be at least 1 ms",
            ));
        }
    }
    if let Some(limit) = q.delivery_limit {
        if q.kind != QueueType::Quorum {
            return Err(ScenarioError::new(
                format!("{path}.delivery_limit"),
                "only quorum queues have a delivery limit",
            ));
        }
        if limit < -1 || limit == 0 || limit > i64::from(u16::MAX) {
            return Err(ScenarioError::new(
                format!("{path}.delivery_limit"),
                format!("must be -1 (off) or 1 to {}, got {limit}", u16::MAX),
            ));
        }
    }
    Ok(())
}

/// Name lookups a producer's targets are checked against.
pub(crate) struct Known<'a> {
    pub exchange: &'a dyn Fn(&str) -> bool,
    pub topic: &'a dyn Fn(&str) -> bool,
    pub service: &'a dyn Fn(&str) -> bool,
    pub sqs_queue: &'a dyn Fn(&str) -> Option<SqsTarget>,
    pub pulsar_topic: &'a dyn Fn(&str) -> bool,
    pub stream: &'a dyn Fn(&str) -> bool,
}

/// What a producer's message template must give an SQS queue it sends to.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SqsTarget {
    pub fifo: bool,
    pub content_based_deduplication: bool,
}

impl SqsTarget {
    pub fn of(q: &SqsQueueSpec) -> SqsTarget {
        SqsTarget {
            fifo: q.is_fifo(),
            content_based_deduplication: q.content_based_deduplication,
        }
    }
}

/// Name lookups a consumer's source is checked against.
pub(crate) struct KnownSources<'a> {
    pub queue: &'a dyn Fn(&str) -> bool,
    pub group: &'a dyn Fn(&str) -> bool,
    pub sqs_queue: &'a dyn Fn(&str) -> bool,
    /// Whether a stream exists, and with a group if one is named.
    pub stream: &'a dyn Fn(&str, Option<&str>) -> bool,
}

pub(crate) fn validate_producer(
    path: &str,
    p: &ProducerSpec,
    known: &Known,
) -> Result<(), ScenarioError> {
    if p.targets.is_empty() {
        return Err(ScenarioError::new(
            format!("{path}.targets"),
            "a producer needs at least one target",
        ));
    }
    if p.targets.len() > 16 {
        return Err(ScenarioError::new(
            format!("{path}.targets"),
            "at most 16 targets",
        ));
    }
    let mut sqs_targets = Vec::new();
    for (i, t) in p.targets.iter().enumerate() {
        let (kind, name, ok) = match t {
            PublishTarget::Exchange(x) => ("exchange", x, (known.exchange)(x)),
            PublishTarget::Topic(x) => ("topic", x, (known.topic)(x)),
            PublishTarget::Service(x) => ("service", x, (known.service)(x)),
            PublishTarget::SqsQueue(x) => {
                let target = (known.sqs_queue)(x);
                sqs_targets.extend(target);
                ("sqs_queue", x, target.is_some())
            }
            PublishTarget::PulsarTopic(x) => ("pulsar_topic", x, (known.pulsar_topic)(x)),
            PublishTarget::Stream(x) => ("stream", x, (known.stream)(x)),
            // The ZeroMQ part checks its sockets (`zeromq::validate_producer`).
            PublishTarget::Zmq(x) => ("zmq", x, true),
            PublishTarget::Channel(ch) => {
                check_len(
                    &format!("{path}.targets[{i}].channel"),
                    ch,
                    limits::MAX_KEY_LEN,
                )?;
                continue;
            }
            PublishTarget::JmsQueue(x) | PublishTarget::JmsTopic(x) => {
                check_jms_name(&format!("{path}.targets[{i}]"), x)?;
                continue;
            }
        };
        if !ok {
            return Err(missing(format!("{path}.targets[{i}].{kind}"), kind, name));
        }
        {}
    }
    validate_rate(&format!("{path}.rate"), &p.rate)?;
    pulsar::validate_producer(&format!("{path}.pulsar"), &p.pulsar)?;
    if let RatePattern::Burst { count, .. } = p.rate {
        check_burst_copies(&format!("{path}.rate.count"), count, p.targets.len())?;
    }
    let m = &p.message;
    let tpath = format!("{path}.message");
    if m.routing_keys.is_empty() {
        return Err(ScenarioError::new(
            format!("{tpath}.routing_keys"),
            "give at least one key (\"\" is fine)",
        ));
    }
    for (field, len) in [
        ("routing_keys", m.routing_keys.len()),
        ("priorities", m.priorities.len()),
        ("headers", m.headers.len()),
        ("group_ids", m.group_ids.len()),
        ("dedup_ids", m.dedup_ids.len()),
        ("bodies", m.bodies.len()),
    ] {
        if len > limits::MAX_TEMPLATE_VALUES {
            return Err(ScenarioError::new(
                format!("{tpath}.{field}"),
                format!("at most {} values", limits::MAX_TEMPLATE_VALUES),
            ));
        }
    }
    for (field, keys) in [("routing_keys", &m.routing_keys), ("keys", &m.keys)] {
        for (i, k) in keys.iter().enumerate() {
            check_len(&format!("{tpath}.{field}[{i}]"), k, limits::MAX_KEY_LEN)?;
        }
    }
    for (i, h) in m.headers.iter().enumerate() {
        for (k, v) in h {
            check_len(&format!("{tpath}.headers[{i}]"), k, limits::MAX_KEY_LEN)?;
            if let Value::String(v) = v {
                check_len(
                    &format!("{tpath}.headers[{i}].{k}"),
                    v,
                    limits::MAX_TEXT_LEN,
                )?;
            }
        }
    }
    if let Some(i) = m.priorities.iter().position(|p| *p > 255) {
        return Err(ScenarioError::new(
            format!("{tpath}.priorities[{i}]"),
            "a priority is 0 to 255",
        ));
    }
    if m.size_bytes > limits::MAX_MESSAGE_BYTES {
        return Err(ScenarioError::new(
            format!("{tpath}.size_bytes"),
            format!(
                "at most {} bytes (RabbitMQ's default max message size)",
                limits::MAX_MESSAGE_BYTES
            ),
        ));
    }
    if let Some(ttl) = m.ttl_ms {
        check_ms(&format!("{tpath}.ttl_ms"), ttl)?;
    }
    if m.stream_ids.len() > limits::MAX_TEMPLATE_VALUES {
        return Err(ScenarioError::new(
            format!("{tpath}.stream_ids"),
            format!("at most {} values", limits::MAX_TEMPLATE_VALUES),
        ));
    }
    for (i, id) in m.stream_ids.iter().enumerate() {
        if id != "*" {
            redis_streams::check_id(&format!("{tpath}.stream_ids[{i}]"), id)?;
        }
    }
    validate_sqs_template(&tpath, m, &sqs_targets)
}

/// What SQS requires of the messages sent to it (SQS-8, SQS-9, SQS-11).
fn validate_sqs_template(
    tpath: &str,
    m: &MessageTemplate,
    targets: &[SqsTarget],
) -> Result<(), ScenarioError> {
    for (field, ids) in [("group_ids", &m.group_ids), ("dedup_ids", &m.dedup_ids)] {
        for (i, id) in ids.iter().enumerate() {
            if id.is_empty() || id.chars().count() > sqs::MAX_ID_LEN {
                return Err(ScenarioError::new(
                    format!("{tpath}.{field}[{i}]"),
                    format!("1 to {} characters", sqs::MAX_ID_LEN),
                ));
            }
        }
    }
    for (i, b) in m.bodies.iter().enumerate() {
        if b.is_empty() {
            return Err(ScenarioError::new(
                format!("{tpath}.bodies[{i}]"),
                "an SQS message body has at least one character",
            ));
        }
        check_len(&format!("{tpath}.bodies[{i}]"), b, limits::MAX_TEXT_LEN)?;
    }
    if let Some(d) = m.delay_ms {
        check_ms(&format!("{tpath}.delay_ms"), d)?;
        if d > sqs::MAX_DELAY_MS {
            return Err(ScenarioError::new(
                format!("{tpath}.delay_ms"),
                format!("DelaySeconds is at most {} ms", sqs::MAX_DELAY_MS),
            ));
        }
    }
    if targets.is_empty() {
        return Ok(());
    }
    if m.ttl_ms.is_some() {
        return Err(ScenarioError::new(
            format!("{tpath}.ttl_ms"),
            "SQS has no per-message TTL; the queue's retention applies (SQS-5)",
        ));
    }
    for t in targets.iter().filter(|t| t.fifo) {
        if m.group_ids.is_empty() {
            return Err(ScenarioError::new(
                format!("{tpath}.group_ids"),
                "a FIFO queue needs a MessageGroupId on every message (SQS-8)",
            ));
        }
        if m.dedup_ids.is_empty() && !t.content_based_deduplication {
            return Err(ScenarioError::new(
                format!("{tpath}.dedup_ids"),
                "a FIFO queue without content-based deduplication needs a MessageDeduplicationId on every message (SQS-9)",
            ));
        }
        // Message timers are for standard queues only:
        // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-timers.html
        if m.delay_ms.is_some() {
            return Err(ScenarioError::new(
                format!("{tpath}.delay_ms"),
                "FIFO queues have no per-message delay; set the queue's delay_ms (SQS-11)",
            ));
        }
    }
    Ok(())
}

pub(crate) fn validate_rate(path: &str, rate: &RatePattern) -> Result<(), ScenarioError> {
    match rate {
        RatePattern::Manual => Ok(()),
        RatePattern::Constant { per_sec } | RatePattern::Poisson { per_sec } => {
            check_rate(&format!("{path}.per_sec"), *per_sec)
        }
        RatePattern::Burst { count, at_ms } => {
            if *count > limits::MAX_BURST {
                return Err(ScenarioError::new(
                    format!("{path}.count"),
                    format!(
                        "a burst of {count} is above the cap of {}",
                        limits::MAX_BURST
                    ),
                ));
            }
            check_ms(&format!("{path}.at_ms"), *at_ms)
        }
        RatePattern::Square {
            high_per_sec,
            low_per_sec,
            period_ms,
            duty,
        } => {
            check_rate(&format!("{path}.high_per_sec"), *high_per_sec)?;
            check_rate(&format!("{path}.low_per_sec"), *low_per_sec)?;
            check_ms(&format!("{path}.period_ms"), *period_ms)?;
            if *period_ms < 1.0 {
                return Err(ScenarioError::new(
                    format!("{path}.period_ms"),
                    "a period is at least 1 ms",
                ));
            }
            check_probability(&format!("{path}.duty"), *duty)
        }
        RatePattern::Ramp {
            from_per_sec,
            to_per_sec,
            over_ms,
        } => {
            check_rate(&format!("{path}.from_per_sec"), *from_per_sec)?;
            check_rate(&format!("{path}.to_per_sec"), *to_per_sec)?;
            check_ms(&format!("{path}.over_ms"), *over_ms)
        }
    }
}

pub(crate) fn validate_consumer(
    path: &str,
    c: &ConsumerSpec,
    known: &KnownSources,
) -> Result<(), ScenarioError> {
    match &c.source {
        ConsumerSource::Queue(q) if !(known.queue)(q) => {
            return Err(missing(format!("{path}.source.queue"), "queue", q));
        }
        ConsumerSource::Group(g) if !(known.group)(g) => {
            return Err(missing(format!("{path}.source.group"), "group", g));
        }
        ConsumerSource::SqsQueue(q) if !(known.sqs_queue)(q) => {
            return Err(missing(format!("{path}.source.sqs_queue"), "SQS queue", q));
        }
        ConsumerSource::StreamGroup { stream, group } if !(known.stream)(stream, Some(group)) => {
            return Err(ScenarioError::new(
                format!("{path}.source.stream_group"),
                format!("NOGROUP: no stream {stream:?} with a group {group:?}"),
            ));
        }
        ConsumerSource::StreamRead { stream, from } => {
            if !(known.stream)(stream, None) {
                return Err(missing(
                    format!("{path}.source.stream_read"),
                    "stream",
                    stream,
                ));
            }
            redis_streams::check_start(&format!("{path}.source.stream_read.from"), from)?;
        }
        ConsumerSource::Subscribe { channels, patterns } => {
            if channels.is_empty() && patterns.is_empty() {
                return Err(ScenarioError::new(
                    format!("{path}.source.subscribe"),
                    "subscribe to at least one channel or pattern",
                ));
            }
            if channels.len() + patterns.len() > limits::MAX_TEMPLATE_VALUES {
                return Err(ScenarioError::new(
                    format!("{path}.source.subscribe"),
                    format!("at most {} subscriptions", limits::MAX_TEMPLATE_VALUES),
                ));
            }
            for (field, names) in [("channels", channels), ("patterns", patterns)] {
                for (i, n) in names.iter().enumerate() {
                    let at = format!("{path}.source.subscribe.{field}[{i}]");
                    check_len(&at, n, limits::MAX_KEY_LEN)?;
                }
            }
        }
        ConsumerSource::Queue(_)
        | ConsumerSource::Group(_)
        | ConsumerSource::SqsQueue(_)
        | ConsumerSource::Pulsar(_)
        | ConsumerSource::StreamGroup { .. }
        | ConsumerSource::Zmq(_) => {}
        ConsumerSource::JmsQueue(_) | ConsumerSource::JmsTopic { .. } => {}
    }
    validate_sqs_consumer(path, c)?;
    validate_stream_consumer(path, c)?;
    validate_jms_consumer(path, c)?;
    check_ms(
        &format!("{path}.output_buffer_soft_seconds"),
        c.output_buffer_soft_seconds * 1000.0,
    )?;
    if c.output_buffer_limit_bytes == 0 {
        return Err(ScenarioError::new(
            format!("{path}.output_buffer_limit_bytes"),
            "must be at least 1 byte",
        ));
    }
    if c.prefetch > limits::MAX_PREFETCH {
        return Err(ScenarioError::new(
            format!("{path}.prefetch"),
            format!(
                "prefetch_count is a 16-bit field: 0 (unlimited) to {}, got {}",
                limits::MAX_PREFETCH,
                c.prefetch
            ),
        ));
    }
    validate_processing(&format!("{path}.processing"), &c.processing)?;
    if c.prefetch != 0 && c.ack_batch > c.prefetch {
        return Err(ScenarioError::new(
            format!("{path}.ack_batch"),
            format!(
                "a batch of {} can never fill with prefetch {}: the consumer would stall",
                c.ack_batch, c.prefetch
            ),
        ));
    }
    if c.ack_batch == 0 || c.ack_batch > limits::MAX_PREFETCH {
        return Err(ScenarioError::new(
            format!("{path}.ack_batch"),
            format!("must be 1 to {}, got {}", limits::MAX_PREFETCH, c.ack_batch),
        ));
    }
    check_probability(
        &format!("{path}.failure.probability"),
        c.failure.probability,
    )?;
    check_probability(&format!("{path}.poison.probability"), c.poison.probability)?;
    Ok(())
}

/// A Redis stream consumer's `XREADGROUP` / `XREAD` settings.
fn validate_stream_consumer(path: &str, c: &ConsumerSpec) -> Result<(), ScenarioError> {
    let group = match c.source {
        ConsumerSource::StreamGroup { .. } => true,
        ConsumerSource::StreamRead { .. } => false,
        _ if c.stream.is_some() => {
            return Err(ScenarioError::new(
                format!("{path}.stream"),
                "stream read settings need a `stream_group` or `stream_read` source",
            ))
        }
        _ => return Ok(()),
    };
    if c.ack == AckMode::Auto {
        return Err(ScenarioError::new(
            format!("{path}.ack"),
            "Redis streams have no auto-ack; use `stream.noack` for XREADGROUP NOACK (RST-5)",
        ));
    }
    let read = c.stream.clone().unwrap_or_default();
    redis_streams::validate_read(&format!("{path}.stream"), &read, group)
}

/// An SQS consumer's settings and scripted decisions; only SQS consumers have either so far.
fn validate_sqs_consumer(path: &str, c: &ConsumerSpec) -> Result<(), ScenarioError> {
    let sqs = matches!(c.source, ConsumerSource::SqsQueue(_));
    if let Some(r) = &c.sqs {
        if !sqs {
            return Err(ScenarioError::new(
                format!("{path}.sqs"),
                "ReceiveMessage settings need an `sqs_queue` source",
            ));
        }
        sqs::validate_sqs_receive(&format!("{path}.sqs"), r)?;
    }
    if sqs && c.ack == AckMode::Auto {
        return Err(ScenarioError::new(
            format!("{path}.ack"),
            "SQS has no auto-ack: a consumer deletes each message it processed (SQS-2)",
        ));
    }
    if !c.decisions.is_empty() && !sqs && !c.is_stream() {
        return Err(ScenarioError::new(
            format!("{path}.decisions"),
            "scripted decisions are supported for SQS and Redis stream consumers only so far",
        ));
    }
    if c.decisions.len() > limits::MAX_TEMPLATE_VALUES {
        return Err(ScenarioError::new(
            format!("{path}.decisions"),
            format!("at most {} decisions", limits::MAX_TEMPLATE_VALUES),
        ));
    }
    for (i, d) in c.decisions.iter().enumerate() {
        let w = &d.when;
        if w.msg.is_none() && w.delivery.is_none() && w.attempt.is_none() {
            return Err(ScenarioError::new(
                format!("{path}.decisions[{i}].when"),
                "give `msg`, `delivery` or `attempt`",
            ));
        }
        if w.delivery == Some(0) || w.attempt == Some(0) {
            return Err(ScenarioError::new(
                format!("{path}.decisions[{i}].when"),
                "`delivery` and `attempt` count from 1",
            ));
        }
    }
    Ok(())
}

/// Exchange-to-exchange bindings and alternate exchanges must not form a loop.
fn check_exchange_cycles(s: &Scenario) -> Result<(), ScenarioError> {
    let mut edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for b in &s.bindings {
        if let Some(to) = &b.to_exchange {
            edges
                .entry(b.exchange.as_str())
                .or_default()
                .push(to.as_str());
        }
    }
    for x in &s.exchanges {
        if let Some(ae) = &x.alternate_exchange {
            edges.entry(x.name.as_str()).or_default().push(ae.as_str());
        }
    }
    // Three-colour DFS; the path of names is reported so the cycle is easy to find.
    fn visit<'a>(
        node: &'a str,
        edges: &BTreeMap<&'a str, Vec<&'a str>>,
        state: &mut BTreeMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<&'a str>> {
        match state.get(node) {
            Some(2) => return None,
            Some(1) => {
                let start = stack.iter().position(|n| *n == node).unwrap_or(0);
                let mut cycle = stack[start..].to_vec();
                cycle.push(node);
                return Some(cycle);
            }
            _ => {}
        }
        state.insert(node, 1);
        stack.push(node);
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, edges, state, stack) {
                return Some(c);
            }
        }
        stack.pop();
        state.insert(node, 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in edges.keys() {
        if let Some(cycle) = visit(node, &edges, &mut state, &mut Vec::new()) {
            return Err(ScenarioError::new(
                "bindings",
                format!("exchange bindings form a cycle: {}", cycle.join(" -> ")),
            ));
        }
    }
    Ok(())
}

impl ConsumerSpec {
    /// A plain queue consumer with manual acks, prefetch 1 and fixed processing time.
    pub fn on_queue(name: &str, queue: &str, processing_ms: f64) -> ConsumerSpec {
        ConsumerSpec {
            name: name.to_string(),
            source: ConsumerSource::Queue(queue.to_string()),
            prefetch: 1,
            priority: 0,
            ack_batch: 1,
            ack: AckMode::Manual,
            processing: Processing::Fixed { ms: processing_ms },
            failure: FailureSpec::default(),
            poison: default_poison(),
            output_buffer_limit_bytes: default_pubsub_hard_limit(),
            output_buffer_soft_limit_bytes: default_pubsub_soft_limit(),
            output_buffer_soft_seconds: default_pubsub_soft_seconds(),
            stopped: false,
            sqs: None,
            decisions: Vec::new(),
            pulsar: pulsar::PulsarConsumerSpec::default(),
            jms: None,
            stage: None,
            stream: None,
        }
    }
}

pub(crate) fn validate_topic(path: &str, t: &TopicSpec) -> Result<(), ScenarioError> {
    if !(1..=1024).contains(&t.partitions) {
        return Err(ScenarioError::new(
            format!("{path}.partitions"),
            format!("must be 1 to 1024, got {}", t.partitions),
        ));
    }
    if t.segment_bytes == 0 {
        return Err(ScenarioError::new(
            format!("{path}.segment_bytes"),
            "must be at least 1",
        ));
    }
    check_ms(&format!("{path}.segment_ms"), t.segment_ms)?;
    if t.retention_ms != -1.0 {
        check_ms(&format!("{path}.retention_ms"), t.retention_ms)?;
    }
    if t.retention_bytes < -1 {
        return Err(ScenarioError::new(
            format!("{path}.retention_bytes"),
            "must be -1 (off) or a byte count",
        ));
    }
    check_ms(
        &format!("{path}.retention_check_interval_ms"),
        t.retention_check_interval_ms,
    )?;
    for (name, ms) in [
        ("delete_retention_ms", t.delete_retention_ms),
        ("min_compaction_lag_ms", t.min_compaction_lag_ms),
        ("log_cleaner_backoff_ms", t.log_cleaner_backoff_ms),
    ] {
        if let Some(ms) = ms {
            check_ms(&format!("{path}.{name}"), ms)?;
        }
    }
    if t.log_cleaner_backoff_ms.is_some_and(|ms| ms < 1.0) {
        return Err(ScenarioError::new(
            format!("{path}.log_cleaner_backoff_ms"),
            "must be at least 1 ms",
        ));
    }
    if let Some(r) = t.min_cleanable_dirty_ratio {
        if !(0.0..=1.0).contains(&r) {
            return Err(ScenarioError::new(
                format!("{path}.min_cleanable_dirty_ratio"),
                format!("must be between 0 and 1, got {r}"),
            ));
        }
    }
    if t.retention_check_interval_ms < 1.0 {
        return Err(ScenarioError::new(
            format!("{path}.retention_check_interval_ms"),
            "must be at least 1 ms",
        ));
    }
    Ok(())
}

pub(crate) fn validate_group(
    path: &str,
    g: &GroupSpec,
    topic_known: &dyn Fn(&str) -> bool,
) -> Result<(), ScenarioError> {
    if g.topics.is_empty() {
        return Err(ScenarioError::new(
            format!("{path}.topics"),
            "subscribe to at least one topic",
        ));
    }
    for (i, t) in g.topics.iter().enumerate() {
        if !topic_known(t) {
            return Err(missing(format!("{path}.topics[{i}]"), "topic", t));
        }
    }
    match &g.commit {
        CommitMode::Auto { interval_ms } => {
            check_ms(&format!("{path}.commit.interval_ms"), *interval_ms)?
        }
        CommitMode::AfterProcessing { every } if *every == 0 => {
            return Err(ScenarioError::new(
                format!("{path}.commit.every"),
                "must be at least 1",
            ));
        }
        _ => {}
    }
    check_ms(&format!("{path}.session_timeout_ms"), g.session_timeout_ms)?;
    check_ms(&format!("{path}.rebalance_ms"), g.rebalance_ms)?;
    check_ms(
        &format!("{path}.offsets_retention_ms"),
        g.offsets_retention_ms,
    )?;
    if !(1..=100_000).contains(&g.max_poll_records) {
        return Err(ScenarioError::new(
            format!("{path}.max_poll_records"),
            format!("must be 1 to 100000, got {}", g.max_poll_records),
        ));
    }
    Ok(())
}

pub(crate) fn validate_service(path: &str, s: &ServiceSpec) -> Result<(), ScenarioError> {
    if !(1..=100_000).contains(&s.concurrency) {
        return Err(ScenarioError::new(
            format!("{path}.concurrency"),
            format!("must be 1 to 100000, got {}", s.concurrency),
        ));
    }
    if s.backlog > 1_000_000 {
        return Err(ScenarioError::new(
            format!("{path}.backlog"),
            "at most 1000000",
        ));
    }
    check_ms(&format!("{path}.timeout_ms"), s.timeout_ms)?;
    validate_processing(&format!("{path}.processing"), &s.processing)
}

fn validate_processing(ppath: &str, p: &Processing) -> Result<(), ScenarioError> {
    match p {
        Processing::Fixed { ms } => check_ms(&format!("{ppath}.ms"), *ms),
        Processing::Exponential { mean_ms } => check_ms(&format!("{ppath}.mean_ms"), *mean_ms),
        Processing::Uniform { min_ms, max_ms } => {
            check_ms(&format!("{ppath}.min_ms"), *min_ms)?;
            check_ms(&format!("{ppath}.max_ms"), *max_ms)?;
            if max_ms < min_ms {
                return Err(ScenarioError::new(
                    format!("{ppath}.max_ms"),
                    "must not be below min_ms",
                ));
            }
            Ok(())
        }
    }
}

/// Both languages must be present: a lesson with a missing translation is refused.
fn check_text(path: &str, t: &LocalizedText) -> Result<(), ScenarioError> {
    for (lang, text) in [("en", &t.en), ("ko", &t.ko)] {
        if text.trim().is_empty() {
            return Err(ScenarioError::new(
                format!("{path}.{lang}"),
                "missing translation",
            ));
        }
        if text.len() > 4_000 {
            return Err(ScenarioError::new(
                format!("{path}.{lang}"),
                "longer than 4000 bytes",
            ));
        }
    }
    Ok(())
}

fn validate_narration(n: &Narration) -> Result<(), ScenarioError> {
    check_text("narration.goal", &n.goal)?;
    if n.steps.is_empty() || n.steps.len() > 200 {
        return Err(ScenarioError::new(
            "narration.steps",
            "a lesson has 1 to 200 steps",
        ));
    }
    let mut last = 0.0;
    for (i, step) in n.steps.iter().enumerate() {
        let path = format!("narration.steps[{i}]");
        check_ms(&format!("{path}.at_ms"), step.at_ms)?;
        if step.at_ms < last {
            return Err(ScenarioError::new(
                format!("{path}.at_ms"),
                "steps must be in time order",
            ));
        }
        last = step.at_ms;
        check_text(&format!("{path}.text"), &step.text)?;
        match (&step.question, &step.answer) {
            (Some(q), Some(a)) => {
                check_text(&format!("{path}.question"), q)?;
                check_text(&format!("{path}.answer"), a)?;
            }
            (None, None) => {}
            _ => {
                return Err(ScenarioError::new(
                    path,
                    "a pause point needs both a question and an answer",
                ))
            }
        }
        if step.highlight.len() > 32 {
            return Err(ScenarioError::new(
                format!("{path}.highlight"),
                "at most 32 names",
            ));
        }
    }
    Ok(())
}

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
        group: GroupSpec,
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
    /// `CreateQueue` for AWS SQS.
    AddSqsQueue {
        queue: SqsQueueSpec,
    },
    /// `SetQueueAttributes`: the type is fixed; a FIFO queue's delay change is retroactive.
    UpdateSqsQueue {
        queue: SqsQueueSpec,
    },
    /// `ChangeMessageVisibility` for every message the SQS consumer is processing or holds,
    /// counted from when it reaches the queue (SQS-2).
    ChangeVisibility {
        consumer: String,
        timeout_ms: f64,
    },
    /// Moves a Pulsar subscription's cursor (`seek`, `pulsar-admin topics reset-cursor`); its
    /// consumers are disconnected and reconnect (PUL-13).
    ResetCursor {
        topic: String,
        subscription: String,
        to: pulsar::CursorTarget,
    },
    /// Creates a durable Pulsar subscription with no consumer (PUL-2, PUL-12).
    CreateSubscription {
        topic: String,
        subscription: String,
        #[serde(default)]
        initial_position: pulsar::InitialPosition,
    },
    /// Creates a JMS queue (ActiveMQ also creates one on first use).
    AddJmsQueue {
        queue: JmsQueueSpec,
    },
    /// Creates a JMS topic.
    AddJmsTopic {
        topic: JmsTopicSpec,
    },
    /// `Session.unsubscribe`: deletes an offline durable subscription and what it stored (AMQ-2).
    UnsubscribeDurable {
        client_id: String,
        name: String,
    },
    /// Stops the JMS broker for `downtime_ms`: non-persistent messages are lost, persistent
    /// ones and durable subscriptions survive, and clients reconnect when it is back (AMQ-3).
    RestartJmsBroker {
        downtime_ms: f64,
    },
    /// A RabbitMQ node stops (`rabbit-1` unless `node` names another): connections to it drop,
    /// its transient queues and transient messages are gone, and so are persistent messages not
    /// yet on disk; quorum queues elect a leader elsewhere (RMQ-32, RMQ-33).
    #[serde(rename = "crash_rabbitmq_node")]
    CrashRabbitMqNode {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<String>,
    },
    /// A RabbitMQ node starts from disk (the first stopped one unless `node` names it); clients
    /// with automatic recovery reconnect (RMQ-32).
    #[serde(rename = "restart_rabbitmq_node")]
    RestartRabbitMqNode {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<String>,
    },
    /// A network partition cuts a RabbitMQ node off from the other nodes; its clients still
    /// reach it. A quorum queue it leads cannot commit there (its publishes stay unconfirmed)
    /// and the majority elects a leader after `election_ms`; then, under `pause_minority`, the
    /// node pauses and its clients reconnect to the majority (quorum-queues, partitions).
    #[serde(rename = "isolate_rabbitmq_node")]
    IsolateRabbitMqNode {
        node: String,
    },
    /// The partition heals: an old leader steps down and discards the publishes it never
    /// committed (`truncated_on_election`); the node's members catch up as followers.
    #[serde(rename = "heal_rabbitmq_node")]
    HealRabbitMqNode {
        node: String,
    },
    /// Replaces a stage's settings: flips a remedy (outbox, idempotency, saga) mid-run.
    UpdateStage {
        stage: StageSpec,
    },
    /// The consumer's next step commits its local write, then the process dies before it
    /// publishes (the dual write, PAT-1); it restarts after `restart_after_ms`.
    CrashStageAfterWrite {
        consumer: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        restart_after_ms: Option<f64>,
    },
    /// The stage's outbox relay dies after its next publish and before it marks the rows sent:
    /// it publishes them again (PAT-2).
    CrashRelay {
        stage: StageRole,
    },
    /// A second request against an order: `Order.cancel` (PAT-7). Refused while a saga holds
    /// the order `APPROVAL_PENDING`; accepted once approved, leaving it `CANCEL_PENDING`.
    CancelOrder {
        txn: u64,
    },
    /// A Kafka broker's process dies; the controller fences it after
    /// `broker.session.timeout.ms` and elects new leaders (KAF-23).
    CrashKafkaBroker {
        broker: u32,
    },
    /// The Kafka broker comes back: its replicas rejoin as followers, truncated to the leader's
    /// log (KAF-21, KAF-23).
    RestartKafkaBroker {
        broker: u32,
    },
    /// The broker's replica fetcher slows (a long GC pause, a slow disk): each fetch it makes
    /// as a follower comes back `delay_ms` later; 0 restores it. A follower behind for longer
    /// than `replica.lag.time.max.ms` leaves the ISR, and rejoins once caught up (KAF-19).
    SlowKafkaBroker {
        broker: u32,
        delay_ms: f64,
    },
    /// A network partition cuts the broker off from the other brokers and the controller;
    /// clients still reach it. Its followers stop fetching, the controller fences it after
    /// `broker.session.timeout.ms` and elects new leaders, and as an old leader it keeps taking
    /// writes from producers that still think it leads (KAF-19, KAF-21, KAF-23, KAF-24).
    IsolateKafkaBroker {
        broker: u32,
    },
    /// The partition heals: the broker learns the newer leader epochs, truncates what only it
    /// held (acked records are `lost_on_failover`) and catches up (KAF-21, KAF-24).
    HealKafkaBroker {
        broker: u32,
    },
    /// Creates a Redis stream.
    AddStream {
        stream: StreamSpec,
    },
    /// `XGROUP CREATE key group start` (RST-4).
    AddStreamGroup {
        stream: String,
        group: StreamGroupSpec,
    },
    /// `XGROUP SETID key group id`: the group's lag is unknown until it reaches the end (RST-4).
    XgroupSetid {
        stream: String,
        group: String,
        id: String,
    },
    /// `XTRIM key MAXLEN [=|~] n` (RST-2).
    Xtrim {
        stream: String,
        maxlen: redis_streams::MaxLen,
    },
    /// `XCLAIM key group consumer min-idle-time id… [JUSTID]`, sent by that consumer: it reaches
    /// Redis one hop later, and what it claims is delivered to the consumer (RST-8).
    Xclaim {
        stream: String,
        group: String,
        consumer: String,
        min_idle_ms: f64,
        ids: Vec<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        justid: bool,
    },
    /// `XAUTOCLAIM key group consumer min-idle-time start [COUNT n] [JUSTID]` (RST-8).
    Xautoclaim {
        stream: String,
        group: String,
        consumer: String,
        min_idle_ms: f64,
        #[serde(default = "zero_id")]
        start: String,
        #[serde(default = "autoclaim_count")]
        count: u32,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        justid: bool,
    },
    /// The Redis primary fails and its replica, `replication_lag_ms` behind, takes over: the
    /// stream changes it had not received are lost (RST-9).
    RedisFailover {
        stream: String,
    },
    /// Kills a ZeroMQ process: whatever its pipes and application held is lost (ZMQ-1).
    CrashPeer {
        peer: String,
    },
    /// Starts a crashed, closed or not yet started ZeroMQ process with empty pipes (ZMQ-1).
    RestartPeer {
        peer: String,
    },
    /// `zmq_close` and `zmq_ctx_term`: unread messages are discarded, queued ones are sent
    /// for up to each socket's linger (ZMQ-1).
    ClosePeer {
        peer: String,
    },
    /// One send by the application of a socket, refused with `EFSM` or `EAGAIN` (ZMQ-3, ZMQ-9).
    ZmqSend {
        peer: String,
        socket: String,
        #[serde(default)]
        dontwait: bool,
    },
    /// `ZMQ_SUBSCRIBE` on a SUB socket: the subscription travels to its PUBs (ZMQ-7, ZMQ-8).
    ZmqSubscribe {
        peer: String,
        socket: String,
        prefix: String,
    },
    /// `zmq_connect` to a bound endpoint (ZMQ-5, ZMQ-8).
    ZmqConnect {
        peer: String,
        socket: String,
        endpoint: String,
    },
}

fn zero_id() -> String {
    "0".into()
}

fn autoclaim_count() -> u32 {
    redis_streams::AUTOCLAIM_COUNT
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

/// `partition.assignment.strategy`; Kafka's default list `[range, cooperative-sticky]` means
/// Range is used (KAF-9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Assignor {
    Range,
    RoundRobin,
    Sticky,
    CooperativeSticky,
}

impl Assignor {
    /// KAF-11: only CooperativeSticky rebalances incrementally; the others are eager (every
    /// member revokes everything first).
    pub fn is_cooperative(self) -> bool {
        matches!(self, Assignor::CooperativeSticky)
    }
}

// ------------------------------------------------------------------ ActiveMQ / JMS

/// Which ActiveMQ is modelled: Classic, or Artemis only where AMQ-9 says it differs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JmsBroker {
    #[default]
    Classic,
    Artemis,
}

/// Where Classic moves dead letters (AMQ-7).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DeadLetterStrategy {
    /// `sharedDeadLetterStrategy`: one queue for every destination.
    Shared {
        #[serde(default = "default_dead_letter_queue")]
        queue: String,
    },
    /// `individualDeadLetterStrategy`: one queue per destination, named by prefix. The defaults
    /// are the code's (`IndividualDeadLetterStrategy`), not the docs' `DLQ.` example.
    Individual {
        #[serde(default = "default_dlq_queue_prefix")]
        queue_prefix: String,
        #[serde(default = "default_dlq_topic_prefix")]
        topic_prefix: String,
    },
}

impl Default for DeadLetterStrategy {
    fn default() -> Self {
        DeadLetterStrategy::Shared {
            queue: default_dead_letter_queue(),
        }
    }
}

fn default_dead_letter_queue() -> String {
    "ActiveMQ.DLQ".into()
}
fn default_dlq_queue_prefix() -> String {
    "ActiveMQ.DLQ.Queue.".into()
}
fn default_dlq_topic_prefix() -> String {
    "ActiveMQ.DLQ.Topic.".into()
}

/// Artemis address settings for AMQ-9 (`broker.xml` `<address-setting>`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtemisSpec {
    /// `max-delivery-attempts`: deliveries in all, not redeliveries.
    #[serde(default = "default_max_delivery_attempts")]
    pub max_delivery_attempts: u32,
    /// `dead-letter-address`; `null` removes the message after the last attempt. The default is
    /// the `DLQ` that `artemis create` writes into `broker.xml`.
    #[serde(default = "default_dead_letter_address")]
    pub dead_letter_address: Option<String>,
    /// `expiry-address`; `null` removes expired messages. The default is the `ExpiryQueue`
    /// that `artemis create` writes.
    #[serde(default = "default_expiry_address")]
    pub expiry_address: Option<String>,
    /// `redelivery-delay`.
    #[serde(default)]
    pub redelivery_delay_ms: u64,
    /// `redelivery-delay-multiplier`.
    #[serde(default = "one_f64")]
    pub redelivery_delay_multiplier: f64,
    /// `max-redelivery-delay`; absent means ten times `redelivery-delay`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_redelivery_delay_ms: Option<u64>,
}

impl Default for ArtemisSpec {
    fn default() -> Self {
        ArtemisSpec {
            max_delivery_attempts: default_max_delivery_attempts(),
            dead_letter_address: default_dead_letter_address(),
            expiry_address: default_expiry_address(),
            redelivery_delay_ms: 0,
            redelivery_delay_multiplier: 1.0,
            max_redelivery_delay_ms: None,
        }
    }
}

fn default_max_delivery_attempts() -> u32 {
    10
}
fn default_dead_letter_address() -> Option<String> {
    Some("DLQ".into())
}
fn default_expiry_address() -> Option<String> {
    Some("ExpiryQueue".into())
}
fn one_f64() -> f64 {
    1.0
}

/// The JMS broker: Classic by default, with its dead-letter and expiry policy, and the
/// destinations and durable subscriptions that exist from the start.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JmsSpec {
    #[serde(default)]
    pub broker: JmsBroker,
    #[serde(default)]
    pub dead_letter_strategy: DeadLetterStrategy,
    /// `processNonPersistent`: dead-letter non-persistent messages instead of discarding them.
    #[serde(default)]
    pub process_non_persistent: bool,
    /// `processExpired`: expired messages go to the dead-letter queue (AMQ-7).
    #[serde(default = "yes")]
    pub process_expired: bool,
    /// `expireMessagesPeriod`: how often stored messages are checked for expiry.
    #[serde(default = "default_expire_period_ms")]
    pub expire_messages_period_ms: f64,
    /// Artemis settings; only with `"broker": "artemis"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artemis: Option<ArtemisSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queues: Vec<JmsQueueSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<JmsTopicSpec>,
    /// Durable subscriptions that exist from t = 0, as if created in an earlier run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub durable_subscriptions: Vec<DurableSubscriptionSpec>,
}

impl Default for JmsSpec {
    fn default() -> Self {
        JmsSpec {
            broker: JmsBroker::Classic,
            dead_letter_strategy: DeadLetterStrategy::default(),
            process_non_persistent: false,
            process_expired: true,
            expire_messages_period_ms: default_expire_period_ms(),
            artemis: None,
            queues: Vec::new(),
            topics: Vec::new(),
            durable_subscriptions: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}
fn default_expire_period_ms() -> f64 {
    30_000.0
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JmsQueueSpec {
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JmsTopicSpec {
    pub name: String,
}

/// A durable subscription's identity: the connection's client id and the subscription name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DurableName {
    pub client_id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DurableSubscriptionSpec {
    pub topic: String,
    pub client_id: String,
    pub name: String,
}

/// The session's acknowledge mode (AMQ-4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JmsAckMode {
    /// `AUTO_ACKNOWLEDGE`.
    #[default]
    Auto,
    /// `CLIENT_ACKNOWLEDGE`: `acknowledge()` acks everything the session consumed so far.
    Client,
    /// `DUPS_OK_ACKNOWLEDGE`: lazy, batched acks on topics.
    DupsOk,
    /// ActiveMQ's `INDIVIDUAL_ACKNOWLEDGE`: acks one message.
    Individual,
    /// `SESSION_TRANSACTED`: `commit` acks, `rollback` redelivers.
    Transacted,
}

/// How the application takes messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JmsApi {
    /// A `MessageListener`: `onMessage` per message.
    #[default]
    Listener,
    /// `receive()` in a loop; AUTO acks when `receive()` returns, before processing (AMQ-4).
    Receive,
}

/// What the application does when processing fails (the consumer's `failure` or `poison`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JmsOnFailure {
    /// The listener throws: AUTO, DUPS_OK and INDIVIDUAL roll back and redeliver; CLIENT and
    /// transacted sessions carry on with the next message (AMQ-4).
    #[default]
    Throw,
    /// CLIENT: `Session.recover()`, redelivering everything not acknowledged (AMQ-5).
    Recover,
    /// Transacted: `Session.rollback()`, redelivering the whole transaction (AMQ-4).
    Rollback,
}

/// `RedeliveryPolicy` (AMQ-6); defaults are ActiveMQ Classic's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeliveryPolicySpec {
    /// `maximumRedeliveries`; -1 is unlimited.
    #[serde(default = "default_maximum_redeliveries")]
    pub maximum_redeliveries: i32,
    #[serde(default = "default_redelivery_delay_ms")]
    pub initial_redelivery_delay_ms: u64,
    #[serde(default = "default_redelivery_delay_ms")]
    pub redelivery_delay_ms: u64,
    #[serde(default)]
    pub use_exponential_backoff: bool,
    #[serde(default = "default_backoff_multiplier")]
    pub backoff_multiplier: f64,
    /// `maximumRedeliveryDelay`; -1 is no cap.
    #[serde(default = "minus_one")]
    pub maximum_redelivery_delay_ms: i64,
}

impl Default for RedeliveryPolicySpec {
    fn default() -> Self {
        RedeliveryPolicySpec {
            maximum_redeliveries: default_maximum_redeliveries(),
            initial_redelivery_delay_ms: default_redelivery_delay_ms(),
            redelivery_delay_ms: default_redelivery_delay_ms(),
            use_exponential_backoff: false,
            backoff_multiplier: default_backoff_multiplier(),
            maximum_redelivery_delay_ms: -1,
        }
    }
}

fn default_maximum_redeliveries() -> i32 {
    6
}
fn default_redelivery_delay_ms() -> u64 {
    1_000
}
fn default_backoff_multiplier() -> f64 {
    5.0
}

/// A JMS consumer: one connection with one session and one consumer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JmsConsumerSpec {
    #[serde(default)]
    pub ack_mode: JmsAckMode,
    #[serde(default)]
    pub api: JmsApi,
    /// `consumer.prefetchSize`; absent takes the default for the source: queue 1000, durable
    /// subscription 100, non-durable subscription 32767 (AMQ-8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefetch: Option<u32>,
    /// CLIENT: the application calls `acknowledge()` after every this many messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_every: Option<u32>,
    /// Transacted: the application commits after every this many messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_every: Option<u32>,
    #[serde(default)]
    pub on_failure: JmsOnFailure,
    /// `consumer.exclusive` (queues only, AMQ-11).
    #[serde(default)]
    pub exclusive: bool,
    #[serde(default)]
    pub redelivery: RedeliveryPolicySpec,
}

/// `ActiveMQPrefetchPolicy.MAX_PREFETCH_SIZE` (`Short.MAX_VALUE`).
pub const JMS_MAX_PREFETCH: u32 = 32_767;

impl ConsumerSpec {
    /// Whether the consumer reads a JMS queue or topic.
    pub fn is_jms(&self) -> bool {
        matches!(
            self.source,
            ConsumerSource::JmsQueue(_) | ConsumerSource::JmsTopic { .. }
        )
    }

    /// Whether the consumer reads a Redis stream, in a group or with `XREAD`.
    pub fn is_stream(&self) -> bool {
        matches!(
            self.source,
            ConsumerSource::StreamGroup { .. } | ConsumerSource::StreamRead { .. }
        )
    }

    /// The client id of a durable subscriber.
    pub fn durable_client_id(&self) -> Option<&str> {
        match &self.source {
            ConsumerSource::JmsTopic {
                durable: Some(d), ..
            } => Some(d.client_id.as_str()),
            _ => None,
        }
    }
}

/// ActiveMQ refuses a second connection with a client id that is in use.
pub(crate) fn duplicate_client_id(path: &str, id: &str) -> ScenarioError {
    ScenarioError::new(
        format!("{path}.source.jms_topic.durable.client_id"),
        format!("client id {id:?} is used by another consumer; ActiveMQ refuses a second connection with it"),
    )
}

pub(crate) fn check_jms_name(path: &str, name: &str) -> Result<(), ScenarioError> {
    if name.is_empty() {
        return Err(ScenarioError::new(path, "a JMS destination needs a name"));
    }
    check_len(path, name, limits::MAX_NAME_LEN)
}

pub(crate) fn validate_jms(path: &str, j: &JmsSpec) -> Result<(), ScenarioError> {
    check_ms(
        &format!("{path}.expire_messages_period_ms"),
        j.expire_messages_period_ms,
    )?;
    if j.expire_messages_period_ms < 1.0 {
        return Err(ScenarioError::new(
            format!("{path}.expire_messages_period_ms"),
            "must be at least 1 ms",
        ));
    }
    match &j.dead_letter_strategy {
        DeadLetterStrategy::Shared { queue } => {
            check_jms_name(&format!("{path}.dead_letter_strategy.queue"), queue)?
        }
        DeadLetterStrategy::Individual {
            queue_prefix,
            topic_prefix,
        } => {
            for (field, p) in [
                ("queue_prefix", queue_prefix),
                ("topic_prefix", topic_prefix),
            ] {
                check_len(
                    &format!("{path}.dead_letter_strategy.{field}"),
                    p,
                    limits::MAX_NAME_LEN,
                )?;
            }
        }
    }
    if let Some(a) = &j.artemis {
        let apath = format!("{path}.artemis");
        if j.broker != JmsBroker::Artemis {
            return Err(ScenarioError::new(
                apath,
                "Artemis settings need \"broker\": \"artemis\"",
            ));
        }
        if a.max_delivery_attempts == 0 {
            return Err(ScenarioError::new(
                format!("{apath}.max_delivery_attempts"),
                "must be at least 1",
            ));
        }
        for (field, address) in [
            ("dead_letter_address", &a.dead_letter_address),
            ("expiry_address", &a.expiry_address),
        ] {
            if let Some(d) = address {
                check_jms_name(&format!("{apath}.{field}"), d)?;
            }
        }
        check_ms(
            &format!("{apath}.redelivery_delay_ms"),
            a.redelivery_delay_ms as f64,
        )?;
        if !a.redelivery_delay_multiplier.is_finite()
            || !(1.0..=100.0).contains(&a.redelivery_delay_multiplier)
        {
            return Err(ScenarioError::new(
                format!("{apath}.redelivery_delay_multiplier"),
                "must be between 1 and 100",
            ));
        }
        if let Some(m) = a.max_redelivery_delay_ms {
            check_ms(&format!("{apath}.max_redelivery_delay_ms"), m as f64)?;
        }
    }
    for (field, len) in [
        ("queues", j.queues.len()),
        ("topics", j.topics.len()),
        ("durable_subscriptions", j.durable_subscriptions.len()),
    ] {
        if len > limits::MAX_ENTITIES {
            return Err(ScenarioError::new(
                format!("{path}.{field}"),
                format!(
                    "{len} entries; at most {} are allowed",
                    limits::MAX_ENTITIES
                ),
            ));
        }
    }
    unique_names(&format!("{path}.queues"), j.queues.iter().map(|q| &q.name))?;
    unique_names(&format!("{path}.topics"), j.topics.iter().map(|t| &t.name))?;
    for (i, q) in j.queues.iter().enumerate() {
        check_jms_name(&format!("{path}.queues[{i}].name"), &q.name)?;
    }
    for (i, t) in j.topics.iter().enumerate() {
        check_jms_name(&format!("{path}.topics[{i}].name"), &t.name)?;
    }
    let mut seen = BTreeSet::new();
    for (i, d) in j.durable_subscriptions.iter().enumerate() {
        let dpath = format!("{path}.durable_subscriptions[{i}]");
        check_jms_name(&format!("{dpath}.topic"), &d.topic)?;
        check_jms_name(&format!("{dpath}.client_id"), &d.client_id)?;
        check_jms_name(&format!("{dpath}.name"), &d.name)?;
        if !seen.insert((&d.client_id, &d.name)) {
            return Err(ScenarioError::new(
                dpath,
                "a durable subscription with this client id and name is declared twice",
            ));
        }
    }
    Ok(())
}

/// The JMS parts of a consumer: its source names, and its `jms` block only with a JMS source.
fn validate_jms_consumer(path: &str, c: &ConsumerSpec) -> Result<(), ScenarioError> {
    match &c.source {
        ConsumerSource::JmsQueue(q) => check_jms_name(&format!("{path}.source.jms_queue"), q)?,
        ConsumerSource::JmsTopic { topic, durable } => {
            let tpath = format!("{path}.source.jms_topic");
            check_jms_name(&format!("{tpath}.topic"), topic)?;
            if let Some(d) = durable {
                check_jms_name(&format!("{tpath}.durable.client_id"), &d.client_id)?;
                check_jms_name(&format!("{tpath}.durable.name"), &d.name)?;
            }
        }
        _ => {
            if c.jms.is_some() {
                return Err(ScenarioError::new(
                    format!("{path}.jms"),
                    "JMS settings apply only to a jms_queue or jms_topic source",
                ));
            }
            return Ok(());
        }
    }
    let refuse =
        |field: &str, reason: &str| Err(ScenarioError::new(format!("{path}.{field}"), reason));
    if c.prefetch != 0 {
        return refuse(
            "prefetch",
            "a JMS consumer sets its prefetch in jms.prefetch",
        );
    }
    if c.ack != AckMode::Manual {
        return refuse("ack", "a JMS consumer acknowledges as jms.ack_mode says");
    }
    if c.ack_batch != 1 {
        return refuse(
            "ack_batch",
            "a JMS consumer batches acks with jms.ack_every",
        );
    }
    let Some(j) = &c.jms else {
        return Ok(());
    };
    let jpath = format!("{path}.jms");
    let refuse =
        |field: &str, reason: String| Err(ScenarioError::new(format!("{jpath}.{field}"), reason));
    if let Some(p) = j.prefetch {
        if p > JMS_MAX_PREFETCH {
            return refuse(
                "prefetch",
                format!("at most {JMS_MAX_PREFETCH} (Short.MAX_VALUE), got {p}"),
            );
        }
        if p == 0 && j.api == JmsApi::Listener {
            return refuse(
                "prefetch",
                "prefetch 0 is not supported with a MessageListener; use \"api\": \"receive\""
                    .into(),
            );
        }
    }
    for (field, value, mode) in [
        ("ack_every", j.ack_every, JmsAckMode::Client),
        ("commit_every", j.commit_every, JmsAckMode::Transacted),
    ] {
        if let Some(n) = value {
            if j.ack_mode != mode {
                return refuse(field, format!("applies only to ack_mode {mode:?}"));
            }
            if n == 0 || n > limits::MAX_PREFETCH {
                return refuse(
                    field,
                    format!("must be 1 to {}, got {n}", limits::MAX_PREFETCH),
                );
            }
        }
    }
    match (j.on_failure, j.ack_mode) {
        (JmsOnFailure::Recover, m) if m != JmsAckMode::Client => {
            return refuse(
                "on_failure",
                "recover() applies to CLIENT_ACKNOWLEDGE sessions".into(),
            )
        }
        (JmsOnFailure::Rollback, m) if m != JmsAckMode::Transacted => {
            return refuse(
                "on_failure",
                "rollback() applies to transacted sessions".into(),
            )
        }
        _ => {}
    }
    if j.exclusive && !matches!(c.source, ConsumerSource::JmsQueue(_)) {
        return refuse(
            "exclusive",
            "exclusive consumers are a queue feature".into(),
        );
    }
    let r = &j.redelivery;
    let rpath = "redelivery";
    if r.maximum_redeliveries < -1 {
        return refuse(
            &format!("{rpath}.maximum_redeliveries"),
            "must be -1 (unlimited) or more".into(),
        );
    }
    if r.maximum_redelivery_delay_ms < -1 {
        return refuse(
            &format!("{rpath}.maximum_redelivery_delay_ms"),
            "must be -1 (no cap) or more".into(),
        );
    }
    for (field, ms) in [
        ("initial_redelivery_delay_ms", r.initial_redelivery_delay_ms),
        ("redelivery_delay_ms", r.redelivery_delay_ms),
    ] {
        check_ms(&format!("{jpath}.{rpath}.{field}"), ms as f64)?;
    }
    if !r.backoff_multiplier.is_finite() || !(1.0..=100.0).contains(&r.backoff_multiplier) {
        return refuse(
            &format!("{rpath}.backoff_multiplier"),
            "must be between 1 and 100".into(),
        );
    }
    Ok(())
}
