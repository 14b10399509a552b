//! Events: what the simulation reports it did. The trace of a run is its list of events.

use crate::ids::{
    ChannelId, ConsumerId, EntryId, ExchangeId, GroupId, MessageId, ProducerId, QueueId,
    SqsQueueId, StreamId, TopicId,
};
use crate::ids::{JmsQueueId, JmsStore, JmsSubId, JmsTopicId, TraceId};
use crate::ledger::{DeadLetterReason, DropReason};
use crate::time::SimTime;
use serde::Serialize;
use std::fmt;

/// Something that happened at a simulated instant.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    pub time: SimTime,
    pub kind: EventKind,
}

/// Where [`crate::Simulation::advance_into`] streams events as they happen.
pub trait EventSink {
    fn accept(&mut self, event: Event);
}

/// Collects every event, as [`crate::Simulation::advance_to`] returns them.
impl EventSink for Vec<Event> {
    fn accept(&mut self, event: Event) {
        self.push(event);
    }
}

/// Why a Pulsar subscription's mark-delete position moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CursorReason {
    Ack,
    /// TTL acked old messages on the subscription's behalf (PUL-12).
    Ttl,
    /// `seek` or `reset-cursor` (PUL-13).
    Reset,
}

/// Why a Pulsar client asked for a redelivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RedeliveryReason {
    /// `negativeAcknowledge`, once its delay passed (PUL-8).
    Nack,
    /// `ackTimeout` (PUL-9).
    AckTimeout,
}

/// How an ack message from a consumer settles a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Settle {
    Ack,
    Nack { requeue: bool },
    Reject { requeue: bool },
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    Published {
        msg: MessageId,
        producer: ProducerId,
    },
    /// The exchange found these queues (after alternate exchanges and exchange-to-exchange hops).
    Routed {
        msg: MessageId,
        exchange: ExchangeId,
        queues: Vec<QueueId>,
    },
    Enqueued {
        msg: MessageId,
        queue: QueueId,
    },
    Delivered {
        msg: MessageId,
        queue: QueueId,
        consumer: ConsumerId,
        redelivered: bool,
    },
    /// The consumer finished processing (it then sends its ack, if manual).
    Processed {
        msg: MessageId,
        consumer: ConsumerId,
        failed: bool,
    },
    /// The broker received the consumer's settlement.
    Settled {
        msg: MessageId,
        queue: QueueId,
        consumer: ConsumerId,
        settle: Settle,
    },
    Requeued {
        msg: MessageId,
        queue: QueueId,
    },
    Expired {
        msg: MessageId,
        queue: QueueId,
    },
    DeadLettered {
        msg: MessageId,
        queue: QueueId,
        reason: DeadLetterReason,
    },
    Dropped {
        msg: MessageId,
        reason: DropReason,
    },
    /// `basic.nack` to a publisher with confirms on (RMQ-24, RMQ-31).
    PublisherNacked {
        msg: MessageId,
        producer: ProducerId,
    },
    /// Redis `PUBLISH`; `receivers` is the reply (RPS-1).
    ChannelPublished {
        msg: MessageId,
        channel: ChannelId,
        receivers: u32,
    },
    PubSubDelivered {
        msg: MessageId,
        consumer: ConsumerId,
    },
    ConsumerCrashed {
        consumer: ConsumerId,
        requeued: u32,
        lost: u32,
    },
    ConsumerRestarted {
        consumer: ConsumerId,
    },
    /// The broker closed the consumer's channel with a channel error (RMQ-11, RMQ-16).
    ChannelClosed {
        consumer: ConsumerId,
        reason: String,
    },
    /// A record was appended to a partition at this offset (KAF-1).
    Appended {
        msg: MessageId,
        topic: TopicId,
        partition: u32,
        offset: u64,
    },
    /// A group member processed a record; `duplicate` if the group had processed it before.
    RecordProcessed {
        msg: MessageId,
        consumer: ConsumerId,
        topic: TopicId,
        partition: u32,
        offset: u64,
        duplicate: bool,
    },
    /// The position was out of range and `auto.offset.reset` moved it (KAF-6, KAF-15).
    OffsetReset {
        consumer: ConsumerId,
        topic: TopicId,
        partition: u32,
        to: u64,
    },
    /// `auto.offset.reset=none` and no committed offset: the partition is not read (KAF-15).
    NoOffset {
        consumer: ConsumerId,
        topic: TopicId,
        partition: u32,
    },
    /// No heartbeat within `session.timeout.ms`: the member is out of the group (KAF-10).
    SessionExpired {
        consumer: ConsumerId,
    },
    RebalanceStarted {
        group: GroupId,
        generation: u32,
    },
    RebalanceDone {
        group: GroupId,
        generation: u32,
    },
    /// Retention deleted whole segments; the log start offset moved (KAF-5, KAF-6).
    RetentionDeleted {
        topic: TopicId,
        partition: u32,
        records: u64,
        log_start: u64,
    },
    /// `x-expires` deleted an unused queue (RMQ-28), or an exclusive or auto-delete queue went
    /// with its connection or last consumer (RMQ-33).
    QueueDeleted {
        queue: QueueId,
        dropped: u32,
    },
    /// The RabbitMQ node stopped; `lost` copies went with it (RMQ-32). `node` is its index in
    /// a cluster of several nodes.
    #[serde(rename = "rabbitmq_node_stopped")]
    RabbitMqNodeStopped {
        lost: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        node: Option<u32>,
    },
    /// The RabbitMQ node started again from what it had on disk (RMQ-32).
    #[serde(rename = "rabbitmq_node_started")]
    RabbitMqNodeStarted {
        #[serde(skip_serializing_if = "Option::is_none")]
        node: Option<u32>,
    },
    /// A network partition cut RabbitMQ node `node` off from the other nodes (partitions).
    #[serde(rename = "rabbitmq_node_isolated")]
    RabbitMqNodeIsolated {
        node: u32,
    },
    /// The isolated node found itself in a minority and paused (`pause_minority`): it closed
    /// its client connections, which reconnect to the majority.
    #[serde(rename = "rabbitmq_node_paused")]
    RabbitMqNodePaused {
        node: u32,
    },
    /// The partition healed; the node's quorum-queue members caught up `caught_up` entries
    /// committed while it was cut off.
    #[serde(rename = "rabbitmq_node_healed")]
    RabbitMqNodeHealed {
        node: u32,
        caught_up: u64,
    },
    /// A quorum queue's member on node `node` became its leader (quorum-queues#leader-election).
    QuorumLeaderElected {
        queue: QueueId,
        node: u32,
    },
    SubscriberDisconnected {
        consumer: ConsumerId,
        lost: u32,
    },
    /// A command was applied (scripted or from the UI).
    CommandApplied {
        summary: String,
    },
    /// The log cleaner compacted a partition: superseded records and expired tombstones are
    /// gone, offsets keep their gaps (KAF-7).
    Compacted {
        topic: TopicId,
        partition: u32,
        removed: u64,
        tombstones: u64,
    },
    /// A message was stored in a Pulsar entry; one entry holds a whole producer batch (PUL-1).
    PulsarEntryAdded {
        msg: MessageId,
        topic: u32,
        partition: u32,
        entry: u64,
    },
    /// A managed ledger closed its current ledger (PUL-1).
    PulsarLedgerRolled {
        topic: u32,
        partition: u32,
        ledger: u64,
        entries: u64,
    },
    /// A whole ledger was deleted (PUL-1, PUL-12).
    PulsarLedgerTrimmed {
        topic: u32,
        partition: u32,
        ledger: u64,
        entries: u64,
    },
    /// A subscription was created; its consumers start reading at `read_at` (PUL-2, PUL-13).
    PulsarSubscriptionCreated {
        topic: u32,
        subscription: u32,
        read_at: u64,
    },
    /// The broker refused a consumer's subscribe (PUL-2, PUL-3, PUL-6).
    PulsarConsumerRefused {
        consumer: ConsumerId,
        reason: String,
    },
    /// A partition's active consumer changed; reading starts again at `read_at` (PUL-3, PUL-4).
    PulsarActiveConsumer {
        topic: u32,
        partition: u32,
        subscription: u32,
        consumer: ConsumerId,
        read_at: SimTime,
    },
    /// The broker sent one message of an entry to a consumer (PUL-5, PUL-10).
    PulsarDispatched {
        msg: MessageId,
        topic: u32,
        partition: u32,
        entry: u64,
        subscription: u32,
        consumer: ConsumerId,
        redelivery_count: u32,
    },
    /// The application took a message from its receiver queue (PUL-9's clock starts).
    PulsarReceived {
        msg: MessageId,
        consumer: ConsumerId,
    },
    /// The broker applied an ack of a whole entry (PUL-7).
    PulsarAcked {
        msg: MessageId,
        topic: u32,
        partition: u32,
        entry: u64,
        subscription: u32,
        consumer: ConsumerId,
        cumulative: bool,
    },
    /// A subscription's mark-delete position moved; −1 is before the first entry (PUL-7).
    PulsarCursorMoved {
        topic: u32,
        partition: u32,
        subscription: u32,
        mark_delete: i64,
        reason: CursorReason,
    },
    /// The application negatively acknowledged a message (PUL-8).
    PulsarNacked {
        msg: MessageId,
        consumer: ConsumerId,
    },
    /// The client asked the broker to redeliver `entries` entries (PUL-8, PUL-9).
    PulsarRedeliveryRequested {
        consumer: ConsumerId,
        entries: u32,
        reason: RedeliveryReason,
    },
    /// Key_Shared holds a hash's messages for `to` until `from` acked its own (PUL-6).
    PulsarHashDraining {
        topic: u32,
        partition: u32,
        subscription: u32,
        hash: u32,
        from: ConsumerId,
        to: ConsumerId,
    },
    /// The client published a message to its dead-letter topic and acks the original (PUL-10).
    PulsarDeadLettered {
        msg: MessageId,
        consumer: ConsumerId,
        dead_letter_topic: u32,
        redelivery_count: u32,
    },
    /// TTL acked entries on a subscription's behalf (PUL-12).
    PulsarTtlExpired {
        topic: u32,
        partition: u32,
        subscription: u32,
        entries: u64,
    },
    /// ActiveMQ / JMS; its own `type` tags (`jms_dispatch`, ...).
    #[serde(untagged)]
    Jms(JmsEvent),
    /// AWS SQS; its own `type` tags (`sqs_…`), so event JSON stays flat.
    #[serde(untagged)]
    Sqs(SqsEvent),
    /// A service of a pipeline ran a step; its own `type` tags (`stage_…`).
    #[serde(untagged)]
    Stage(StageEvent),
    /// Kafka brokers and replication; its own `type` tags (`kafka_…`).
    #[serde(untagged)]
    KafkaRep(KafkaRepEvent),
    /// Redis Streams; its own `type` tags (`xadd`, `xreadgroup`, ...).
    #[serde(untagged)]
    Streams(StreamEvent),
    /// ZeroMQ; its own `type` tags (`zmq_…`, `peer_…`), so event JSON stays flat.
    #[serde(untagged)]
    Zmq(ZmqEvent),
}

/// Which service of the shop a stage is; each has its own database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageRole {
    Order,
    Payment,
    Inventory,
    Shipping,
    /// The caller waiting for the order's outcome on a reply queue (PAT-8).
    Client,
    /// A message translator: converts each message it consumes and publishes the result, a
    /// new message, before it acks the original (lesson 13). It keeps no table.
    Translator,
}

/// What a stage's message says (issue 14). Forward events go to the next service; the rest
/// travel back along a saga's chain of compensations (PAT-4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    OrderCreated,
    PaymentAuthorized,
    StockReserved,
    Shipped,
    PaymentDeclined,
    StockReservationFailed,
    PaymentVoided,
    StockReleased,
    /// Replies to the caller, correlated by the request's id (PAT-8).
    OrderConfirmed,
    OrderRefused,
    /// An orchestrator's commands to the participants (PAT-5); each participant answers on its
    /// `publish` producer, the orchestrator's reply channel.
    AuthorizePayment,
    ReserveStock,
    ScheduleShipment,
    /// The orchestrator's compensating command (C2, PAT-4); the cancel saga sends it too,
    /// as FTGO's `reverseAuthorization`.
    VoidPayment,
    /// The cancel saga's commands (PAT-7): stop a shipment that has not left, release the
    /// reservation. Shipping answers `ShipmentCancelled`, or `ShipmentCancelRefused` once the
    /// parcel has left; inventory answers `StockReleased`.
    CancelShipment,
    ReleaseStock,
    ShipmentCancelled,
    ShipmentCancelRefused,
    /// A translator's converted message.
    Translated,
}

impl StepKind {
    /// A compensation or a failure travelling back, not a forward step.
    pub fn is_back(self) -> bool {
        matches!(
            self,
            StepKind::PaymentDeclined
                | StepKind::StockReservationFailed
                | StepKind::PaymentVoided
                | StepKind::StockReleased
                | StepKind::VoidPayment
                | StepKind::ReleaseStock
        )
    }

    /// An orchestrator's command: its participant replies to the orchestrator (PAT-5).
    pub fn is_command(self) -> bool {
        matches!(
            self,
            StepKind::AuthorizePayment
                | StepKind::ReserveStock
                | StepKind::ScheduleShipment
                | StepKind::VoidPayment
                | StepKind::CancelShipment
                | StepKind::ReleaseStock
        )
    }
}

/// What a stage's local transaction did with one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageWrite {
    /// The order row was inserted as pending.
    OrderOpened,
    /// The order was approved after shipping.
    OrderApproved,
    /// Compensation C1: the order is rejected.
    OrderRejected,
    Paid,
    Declined,
    /// Compensation C2: the payment is voided.
    Voided,
    Reserved,
    OutOfStock,
    /// The reservation is released.
    Released,
    Shipped,
    /// A compensation for a step that never took effect: it succeeds doing nothing (PAT-9).
    NothingToUndo,
    /// The idempotent consumer saw this message id before: acked without running (PAT-3).
    Duplicate,
    /// The caller matched a reply to its outstanding request by correlation id (PAT-8).
    ReplyMatched,
    /// A reply whose request is no longer outstanding (a duplicate reply).
    ReplyUnmatched,
    /// The orchestrator recorded its saga instance's next step and sent that step's command
    /// (PAT-6).
    SagaAdvanced,
    /// A business failure reply: the instance turns `compensating` and sends the first
    /// compensation (PAT-6).
    SagaCompensating,
    /// The cancel saga's end (PAT-7): `confirmCancel`, the order is `CANCELLED`.
    OrderCancelled,
    /// Shipping stopped a shipment that had not left.
    ShipmentCancelled,
    /// Shipping refused to cancel: the parcel has left.
    CancelRefused,
    /// The cancel saga's compensation `undoBeginCancel`: the order is `APPROVED` again.
    CancelUndone,
    /// A translator converted the message and published the result.
    Translated,
}

/// A stage's step, its crash and its outbox relay (issue 14, PAT-1..PAT-4).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StageEvent {
    StageStep {
        consumer: ConsumerId,
        msg: MessageId,
        txn: u64,
        wrote: StageWrite,
    },
    /// The process died after its local commit and before its publish (PAT-1); `lost` events
    /// had no outbox row to survive in.
    StageCrashedAfterWrite {
        consumer: ConsumerId,
        txn: u64,
        lost: u32,
    },
    /// The relay published outbox rows; `crashed` means it died before marking them (PAT-2).
    OutboxRelayed {
        stage: StageRole,
        rows: u32,
        crashed: bool,
    },
    /// A request to cancel an order: refused while a saga holds the order's semantic lock or
    /// after it was rejected, accepted once approved (PAT-7).
    OrderCancel { txn: u64, accepted: bool },
}

impl StageEvent {
    pub fn message(&self) -> Option<MessageId> {
        match self {
            StageEvent::StageStep { msg, .. } => Some(*msg),
            StageEvent::StageCrashedAfterWrite { .. }
            | StageEvent::OutboxRelayed { .. }
            | StageEvent::OrderCancel { .. } => None,
        }
    }
}

/// ZeroMQ events (ZMQ-1…ZMQ-9). Sockets and peers are named by their index in the scenario's
/// `zeromq` object (`zs3` is the fourth socket declared, `zp1` the second peer).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ZmqEvent {
    /// A connection finished its handshake; both ends have their pipes (ZMQ-5).
    ZmqConnected {
        socket: u32,
        remote: u32,
        endpoint: String,
    },
    /// A connection broke; `dropped` copies went with the pipes it destroyed (ZMQ-1).
    ZmqDisconnected {
        socket: u32,
        remote: u32,
        dropped: u32,
    },
    /// A SUB's subscription reached its PUB: matching messages flow from now on (ZMQ-7, ZMQ-8).
    ZmqSubscribed {
        publisher: u32,
        subscriber: u32,
        prefix: String,
    },
    /// The application read a message from its socket (ZMQ-4).
    ZmqReceived {
        msg: MessageId,
        socket: u32,
        from: u32,
    },
    /// Every pipe was full (or none existed with `immediate`): `send` blocks (ZMQ-3).
    ZmqSendBlocked { socket: u32 },
    /// A blocked send went through.
    ZmqSendResumed { socket: u32, blocked_us: u64 },
    /// `send` failed: `EAGAIN` (would block, ZMQ-3) or `EFSM` (REQ/REP lockstep, ZMQ-9).
    ZmqSendFailed { socket: u32, error: String },
    /// A REP answered `request` with `reply` (ZMQ-9).
    ZmqReplied {
        request: MessageId,
        reply: MessageId,
        socket: u32,
    },
    /// A process died; `lost` copies were in its memory (ZMQ-1).
    PeerCrashed { peer: u32, lost: u32 },
    /// A process started again, a new incarnation with empty pipes.
    PeerRestarted { peer: u32 },
    /// A process closed its sockets and exited; `lost` copies were discarded by it (ZMQ-1).
    PeerClosed { peer: u32, lost: u32 },
    /// A closing process waits for `pending` queued messages its linger keeps (ZMQ-1).
    PeerExitBlocked { peer: u32, pending: u32 },
}

impl ZmqEvent {
    pub fn message(&self) -> Option<MessageId> {
        match self {
            ZmqEvent::ZmqReceived { msg, .. } | ZmqEvent::ZmqReplied { request: msg, .. } => {
                Some(*msg)
            }
            ZmqEvent::ZmqConnected { .. }
            | ZmqEvent::ZmqDisconnected { .. }
            | ZmqEvent::ZmqSubscribed { .. }
            | ZmqEvent::ZmqSendBlocked { .. }
            | ZmqEvent::ZmqSendResumed { .. }
            | ZmqEvent::ZmqSendFailed { .. }
            | ZmqEvent::PeerCrashed { .. }
            | ZmqEvent::PeerRestarted { .. }
            | ZmqEvent::PeerClosed { .. }
            | ZmqEvent::PeerExitBlocked { .. } => None,
        }
    }
}

impl fmt::Display for StageEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StageEvent::StageStep {
                consumer,
                msg,
                txn,
                wrote,
            } => write!(f, "stage {consumer} {msg} txn {txn}: {wrote:?}"),
            StageEvent::StageCrashedAfterWrite {
                consumer,
                txn,
                lost,
            } => {
                write!(
                    f,
                    "stage {consumer} crashed after writing txn {txn}, lost {lost}"
                )
            }
            StageEvent::OutboxRelayed {
                stage,
                rows,
                crashed,
            } => write!(f, "relay of {stage:?} published {rows} crashed={crashed}"),
            StageEvent::OrderCancel { txn, accepted } => {
                write!(f, "cancel order txn {txn}: accepted={accepted}")
            }
        }
    }
}

impl fmt::Display for ZmqEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ZmqEvent::ZmqConnected {
                socket,
                remote,
                endpoint,
            } => write!(f, "zconnect zs{socket} <- zs{remote} ({endpoint})"),
            ZmqEvent::ZmqDisconnected {
                socket,
                remote,
                dropped,
            } => write!(f, "zdisconnect zs{socket} zs{remote} dropped={dropped}"),
            ZmqEvent::ZmqSubscribed {
                publisher,
                subscriber,
                prefix,
            } => write!(f, "zsub zs{publisher} <- zs{subscriber} {prefix:?}"),
            ZmqEvent::ZmqReceived { msg, socket, from } => {
                write!(f, "zrecv {msg} zs{socket} <- zs{from}")
            }
            ZmqEvent::ZmqSendBlocked { socket } => write!(f, "zblock zs{socket}"),
            ZmqEvent::ZmqSendResumed { socket, blocked_us } => {
                write!(f, "zresume zs{socket} after {blocked_us}us")
            }
            ZmqEvent::ZmqSendFailed { socket, error } => write!(f, "zfail zs{socket} {error}"),
            ZmqEvent::ZmqReplied {
                request,
                reply,
                socket,
            } => write!(f, "zreply {request} -> {reply} by zs{socket}"),
            ZmqEvent::PeerCrashed { peer, lost } => write!(f, "pcrash zp{peer} lost={lost}"),
            ZmqEvent::PeerRestarted { peer } => write!(f, "prestart zp{peer}"),
            ZmqEvent::PeerClosed { peer, lost } => write!(f, "pclose zp{peer} lost={lost}"),
            ZmqEvent::PeerExitBlocked { peer, pending } => {
                write!(f, "pblock zp{peer} pending={pending}")
            }
        }
    }
}

/// What an acknowledgement frame from a JMS client did at the broker (AMQ-4, AMQ-6, AMQ-8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JmsAckKind {
    /// Removes the messages (AUTO, CLIENT `acknowledge()`, DUPS_OK batches).
    Standard,
    /// Removes one message (`INDIVIDUAL_ACKNOWLEDGE`).
    Individual,
    /// `commit` of a transacted session: removes the transaction's messages.
    Commit,
    /// Delivered but not acknowledged: widens the prefetch window only (AMQ-8).
    Delivered,
    /// Past the redelivery limit: the broker dead-letters the messages (AMQ-6).
    Poison,
    /// A `receive()` with prefetch 0 asks for one message (AMQ-8).
    Pull,
    /// The client dropped an expired message unseen; the broker expires it (AMQ-7).
    Expired,
}

/// A JMS subscription's life (AMQ-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JmsSubscriptionState {
    /// Its subscriber is connected; `stored` copies were kept while it was away.
    Online { stored: u64 },
    /// A durable subscription whose subscriber left: it keeps storing copies.
    Offline,
    /// Ended: a non-durable subscription with its subscriber, or a durable one unsubscribed.
    Closed,
}

/// ActiveMQ Classic / JMS events (AMQ-1..AMQ-11).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JmsEvent {
    /// A send reached a queue (AMQ-1, AMQ-3).
    JmsSend {
        msg: MessageId,
        queue: JmsQueueId,
        persistent: bool,
    },
    /// A send reached a topic; each of `subscriptions` keeps a copy (AMQ-1, AMQ-2).
    JmsTopicPublish {
        msg: MessageId,
        topic: JmsTopicId,
        subscriptions: u32,
    },
    /// A durable subscription stored a copy while its subscriber was offline (AMQ-2).
    JmsStored { msg: MessageId, sub: JmsSubId },
    /// The broker pushed a copy to a consumer; `delivery_count` is `JMSXDeliveryCount`, so above
    /// 1 it is redelivered (AMQ-5); `group_first` is `JMSXGroupFirstForConsumer` (AMQ-10).
    JmsDispatch {
        msg: MessageId,
        from: JmsStore,
        consumer: ConsumerId,
        delivery_count: u32,
        group_first: bool,
    },
    /// The client library hands a rolled-back message to the application again (AMQ-5).
    JmsRedeliver {
        msg: MessageId,
        consumer: ConsumerId,
        delivery_count: u32,
    },
    /// An acknowledgement frame reached the broker; `delivered` counts a delivered ack's window.
    JmsAck {
        consumer: ConsumerId,
        ack: JmsAckKind,
        msgs: Vec<MessageId>,
        delivered: u64,
    },
    /// The session rolled back (a listener exception, `rollback()`, `recover()`): the client
    /// redelivers these after `delay_ms`, holding everything else back (AMQ-5, AMQ-6).
    JmsRollback {
        consumer: ConsumerId,
        msgs: Vec<MessageId>,
        delay_ms: u64,
    },
    /// Moved to a dead-letter queue (AMQ-7).
    JmsDeadLetter {
        msg: MessageId,
        from: JmsStore,
        to: JmsQueueId,
        reason: DeadLetterReason,
    },
    /// Past its `JMSExpiration` and discarded, not dead-lettered (AMQ-7).
    JmsExpired { msg: MessageId, from: JmsStore },
    JmsSubscription {
        sub: JmsSubId,
        state: JmsSubscriptionState,
    },
    /// A message group's owner, for the message just dispatched (AMQ-10).
    JmsGroup {
        queue: JmsQueueId,
        group: String,
        consumer: ConsumerId,
    },
    /// The queue's exclusive consumer changed; `None` when no exclusive consumer is left (AMQ-11).
    JmsExclusive {
        queue: JmsQueueId,
        consumer: Option<ConsumerId>,
    },
    /// The broker stopped: non-persistent messages are gone, and it is back after `downtime_ms`
    /// (AMQ-3).
    JmsBrokerRestart { lost: u64, downtime_ms: u64 },
    /// The broker is back and accepts connections and sends again (AMQ-3).
    JmsBrokerUp,
}

impl fmt::Display for JmsEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msgs = |f: &mut fmt::Formatter<'_>, msgs: &[MessageId]| -> fmt::Result {
            for m in msgs {
                write!(f, " {m}")?;
            }
            Ok(())
        };
        match self {
            JmsEvent::JmsSend {
                msg,
                queue,
                persistent,
            } => {
                write!(f, "send {msg} to {queue}")?;
                if !persistent {
                    write!(f, " non-persistent")?;
                }
                Ok(())
            }
            JmsEvent::JmsTopicPublish {
                msg,
                topic,
                subscriptions,
            } => write!(
                f,
                "publish {msg} on {topic} -> {subscriptions} subscriptions"
            ),
            JmsEvent::JmsStored { msg, sub } => write!(f, "store {msg} for {sub} (offline)"),
            JmsEvent::JmsDispatch {
                msg,
                from,
                consumer,
                delivery_count,
                group_first,
            } => {
                write!(
                    f,
                    "dispatch {msg} from {from} to {consumer} #{delivery_count}"
                )?;
                if *delivery_count > 1 {
                    write!(f, " redelivered")?;
                }
                if *group_first {
                    write!(f, " group first")?;
                }
                Ok(())
            }
            JmsEvent::JmsRedeliver {
                msg,
                consumer,
                delivery_count,
            } => write!(
                f,
                "redeliver {msg} to {consumer} #{delivery_count} (client)"
            ),
            JmsEvent::JmsAck {
                consumer,
                ack,
                msgs: list,
                delivered,
            } => match ack {
                JmsAckKind::Delivered => write!(f, "delivered-ack {delivered} by {consumer}"),
                JmsAckKind::Pull => write!(f, "pull by {consumer}"),
                _ => {
                    let s = serde_json::to_value(ack).ok();
                    let kind = s.as_ref().and_then(|v| v.as_str()).unwrap_or("?");
                    write!(f, "{kind} ack")?;
                    msgs(f, list)?;
                    write!(f, " by {consumer}")
                }
            },
            JmsEvent::JmsRollback {
                consumer,
                msgs: list,
                delay_ms,
            } => {
                write!(f, "rollback {consumer}:")?;
                msgs(f, list)?;
                write!(f, " again in {delay_ms}ms")
            }
            JmsEvent::JmsDeadLetter {
                msg,
                from,
                to,
                reason,
            } => write!(f, "dead-letter {msg} from {from} to {to} ({reason})"),
            JmsEvent::JmsExpired { msg, from } => write!(f, "expire {msg} in {from} (discarded)"),
            JmsEvent::JmsSubscription { sub, state } => match state {
                JmsSubscriptionState::Online { stored } => {
                    write!(f, "{sub} online, {stored} stored")
                }
                JmsSubscriptionState::Offline => write!(f, "{sub} offline"),
                JmsSubscriptionState::Closed => write!(f, "{sub} closed"),
            },
            JmsEvent::JmsGroup {
                queue,
                group,
                consumer,
            } => write!(f, "group {group} of {queue} -> {consumer}"),
            JmsEvent::JmsExclusive { queue, consumer } => match consumer {
                Some(c) => write!(f, "exclusive consumer of {queue} is {c}"),
                None => write!(f, "no exclusive consumer of {queue}"),
            },
            JmsEvent::JmsBrokerRestart { lost, downtime_ms } => write!(
                f,
                "broker restart: lost {lost} non-persistent, down {downtime_ms}ms"
            ),
            JmsEvent::JmsBrokerUp => write!(f, "broker up"),
        }
    }
}

/// Writes each literal and the id after it in turn: the busiest trace lines skip `write!`'s
/// argument handling, which cost as much as hashing the line into the digest.
macro_rules! parts {
    ($f:ident; $($text:literal $id:expr),+) => {{
        $($f.write_str($text)?; $id.write_to($f)?;)+
        Ok(())
    }};
}

impl fmt::Display for Event {
    /// One compact line per event: the golden-trace format.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_line(f)
    }
}

impl Event {
    /// The trace line without its newline. Generic so that the digest hashes the busiest lines
    /// (publish .. requeue) with its state in a register, not through `fmt::Formatter` and a
    /// call per piece; the other lines go through [`OtherLine`].
    fn write_line<W: fmt::Write>(&self, f: &mut W) -> fmt::Result {
        self.time.write_to(f)?;
        f.write_str(" ")?;
        match &self.kind {
            EventKind::Published { msg, producer } => parts!(f; "publish " msg, " by " producer),
            EventKind::Routed {
                msg,
                exchange,
                queues,
            } => {
                parts!(f; "route " msg, " at " exchange)?;
                f.write_str(" ->")?;
                for q in queues {
                    parts!(f; " " q)?;
                }
                Ok(())
            }
            EventKind::Enqueued { msg, queue } => parts!(f; "enqueue " msg, " in " queue),
            EventKind::Delivered {
                msg,
                queue,
                consumer,
                redelivered,
            } => {
                parts!(f; "deliver " msg, " from " queue, " to " consumer)?;
                if *redelivered {
                    f.write_str(" redelivered")?;
                }
                Ok(())
            }
            EventKind::Processed {
                msg,
                consumer,
                failed,
            } => {
                parts!(f; "processed " msg, " by " consumer)?;
                f.write_str(if *failed { " FAILED" } else { "" })
            }
            EventKind::Settled {
                msg,
                queue,
                consumer,
                settle,
            } => {
                parts!(f; "settle " msg, " in " queue, " by " consumer)?;
                write!(f, ": {settle:?}")
            }
            EventKind::Requeued { msg, queue } => parts!(f; "requeue " msg, " in " queue),
            kind => write!(f, "{}", OtherLine(kind)),
        }
    }
}

/// The trace lines of every kind but the busiest ones, which [`Event::write_line`] writes.
struct OtherLine<'a>(&'a EventKind);

impl fmt::Display for OtherLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            EventKind::Published { .. }
            | EventKind::Routed { .. }
            | EventKind::Enqueued { .. }
            | EventKind::Delivered { .. }
            | EventKind::Processed { .. }
            | EventKind::Settled { .. }
            | EventKind::Requeued { .. } => unreachable!("written by Event::write_line"),
            EventKind::Expired { msg, queue } => write!(f, "expire {msg} in {queue}"),
            EventKind::DeadLettered { msg, queue, reason } => {
                write!(f, "dead-letter {msg} from {queue} ({reason})")
            }
            EventKind::Dropped { msg, reason } => write!(f, "drop {msg} ({reason})"),
            EventKind::PublisherNacked { msg, producer } => write!(f, "nack {msg} to {producer}"),
            EventKind::ChannelPublished {
                msg,
                channel,
                receivers,
            } => {
                write!(f, "PUBLISH {msg} on {channel} -> {receivers}")
            }
            EventKind::PubSubDelivered { msg, consumer } => write!(f, "push {msg} to {consumer}"),
            EventKind::ConsumerCrashed {
                consumer,
                requeued,
                lost,
            } => {
                write!(f, "crash {consumer} requeued={requeued} lost={lost}")
            }
            EventKind::ConsumerRestarted { consumer } => write!(f, "restart {consumer}"),
            EventKind::ChannelClosed { consumer, reason } => {
                write!(f, "channel of {consumer} closed: {reason}")
            }
            EventKind::Compacted {
                topic,
                partition,
                removed,
                tombstones,
            } => write!(
                f,
                "compact {topic}p{partition} removed {removed}, tombstones {tombstones}"
            ),
            EventKind::QueueDeleted { queue, dropped } => {
                write!(f, "delete {queue} dropped={dropped}")
            }
            EventKind::RabbitMqNodeStopped { lost, node } => {
                write!(f, "rabbitmq node stopped lost={lost}")?;
                match node {
                    Some(n) => write!(f, " node=rabbit-{}", n + 1),
                    None => Ok(()),
                }
            }
            EventKind::RabbitMqNodeStarted { node } => {
                write!(f, "rabbitmq node started")?;
                match node {
                    Some(n) => write!(f, " node=rabbit-{}", n + 1),
                    None => Ok(()),
                }
            }
            EventKind::RabbitMqNodeIsolated { node } => {
                write!(f, "rabbitmq node isolated node=rabbit-{}", node + 1)
            }
            EventKind::RabbitMqNodePaused { node } => {
                write!(f, "rabbitmq node paused node=rabbit-{}", node + 1)
            }
            EventKind::RabbitMqNodeHealed { node, caught_up } => write!(
                f,
                "rabbitmq node healed node=rabbit-{} caught_up={caught_up}",
                node + 1
            ),
            EventKind::QuorumLeaderElected { queue, node } => {
                write!(f, "quorum leader {queue} on rabbit-{}", node + 1)
            }
            EventKind::Appended {
                msg,
                topic,
                partition,
                offset,
            } => {
                write!(f, "append {msg} to {topic}p{partition}@{offset}")
            }
            EventKind::RecordProcessed {
                msg,
                consumer,
                topic,
                partition,
                offset,
                duplicate,
            } => write!(
                f,
                "process {msg} {topic}p{partition}@{offset} by {consumer}{}",
                if *duplicate { " DUPLICATE" } else { "" }
            ),
            EventKind::OffsetReset {
                consumer,
                topic,
                partition,
                to,
            } => {
                write!(f, "reset {consumer} {topic}p{partition} to {to}")
            }
            EventKind::NoOffset {
                consumer,
                topic,
                partition,
            } => write!(f, "no offset for {consumer} {topic}p{partition}"),
            EventKind::SessionExpired { consumer } => write!(f, "session of {consumer} expired"),
            EventKind::RebalanceStarted { group, generation } => {
                write!(f, "rebalance {group} gen {generation} started")
            }
            EventKind::RebalanceDone { group, generation } => {
                write!(f, "rebalance {group} gen {generation} done")
            }
            EventKind::RetentionDeleted {
                topic,
                partition,
                records,
                log_start,
            } => write!(
                f,
                "retention {topic}p{partition} deleted {records}, log start {log_start}"
            ),
            EventKind::SubscriberDisconnected { consumer, lost } => {
                write!(f, "disconnect {consumer} lost={lost}")
            }
            EventKind::CommandApplied { summary } => write!(f, "command {summary}"),
            EventKind::Jms(e) => e.fmt(f),
            EventKind::Sqs(e) => write!(f, "{e}"),
            EventKind::Stage(e) => write!(f, "{e}"),
            EventKind::KafkaRep(e) => write!(f, "{e}"),
            EventKind::Streams(e) => write!(f, "{e}"),
            EventKind::Zmq(e) => write!(f, "{e}"),
            EventKind::PulsarEntryAdded {
                msg,
                topic,
                partition,
                entry,
            } => write!(f, "padd {msg} to pt{topic}p{partition}@{entry}"),
            EventKind::PulsarLedgerRolled {
                topic,
                partition,
                ledger,
                entries,
            } => write!(f, "roll pt{topic}p{partition} ledger {ledger} ({entries})"),
            EventKind::PulsarLedgerTrimmed {
                topic,
                partition,
                ledger,
                entries,
            } => write!(f, "trim pt{topic}p{partition} ledger {ledger} ({entries})"),
            EventKind::PulsarSubscriptionCreated {
                topic,
                subscription,
                read_at,
            } => write!(f, "subscription pt{topic}s{subscription} at {read_at}"),
            EventKind::PulsarConsumerRefused { consumer, reason } => {
                write!(f, "refuse {consumer}: {reason}")
            }
            EventKind::PulsarActiveConsumer {
                topic,
                partition,
                subscription,
                consumer,
                read_at,
            } => write!(
                f,
                "active pt{topic}s{subscription}p{partition} -> {consumer} reads at {read_at}"
            ),
            EventKind::PulsarDispatched {
                msg,
                topic,
                partition,
                entry,
                subscription,
                consumer,
                redelivery_count,
            } => write!(
                f,
                "dispatch {msg} pt{topic}p{partition}@{entry} s{subscription} -> {consumer} \
                 rc={redelivery_count}"
            ),
            EventKind::PulsarReceived { msg, consumer } => write!(f, "receive {msg} by {consumer}"),
            EventKind::PulsarAcked {
                msg,
                topic,
                partition,
                entry,
                subscription,
                consumer,
                cumulative,
            } => write!(
                f,
                "pack {msg} pt{topic}p{partition}@{entry} s{subscription} by {consumer}{}",
                if *cumulative { " cumulative" } else { "" }
            ),
            EventKind::PulsarCursorMoved {
                topic,
                partition,
                subscription,
                mark_delete,
                reason,
            } => write!(
                f,
                "cursor pt{topic}s{subscription}p{partition} -> {mark_delete} ({reason:?})"
            ),
            EventKind::PulsarNacked { msg, consumer } => write!(f, "pnack {msg} by {consumer}"),
            EventKind::PulsarRedeliveryRequested {
                consumer,
                entries,
                reason,
            } => write!(f, "redeliver {entries} for {consumer} ({reason:?})"),
            EventKind::PulsarHashDraining {
                topic,
                partition,
                subscription,
                hash,
                from,
                to,
            } => write!(
                f,
                "drain pt{topic}s{subscription}p{partition} hash {hash} {from} -> {to}"
            ),
            EventKind::PulsarDeadLettered {
                msg,
                consumer,
                dead_letter_topic,
                redelivery_count,
            } => write!(
                f,
                "dlq {msg} by {consumer} -> pt{dead_letter_topic} rc={redelivery_count}"
            ),
            EventKind::PulsarTtlExpired {
                topic,
                partition,
                subscription,
                entries,
            } => write!(
                f,
                "ttl pt{topic}s{subscription}p{partition} acked {entries}"
            ),
        }
    }
}

impl EventKind {
    /// The message this event is about, for tracing one message's journey.
    pub fn message(&self) -> Option<MessageId> {
        match self {
            EventKind::Published { msg, .. }
            | EventKind::Routed { msg, .. }
            | EventKind::Enqueued { msg, .. }
            | EventKind::Delivered { msg, .. }
            | EventKind::Processed { msg, .. }
            | EventKind::Settled { msg, .. }
            | EventKind::Requeued { msg, .. }
            | EventKind::Expired { msg, .. }
            | EventKind::DeadLettered { msg, .. }
            | EventKind::Dropped { msg, .. }
            | EventKind::PublisherNacked { msg, .. }
            | EventKind::ChannelPublished { msg, .. }
            | EventKind::PubSubDelivered { msg, .. }
            | EventKind::Appended { msg, .. }
            | EventKind::RecordProcessed { msg, .. }
            | EventKind::PulsarEntryAdded { msg, .. }
            | EventKind::PulsarDispatched { msg, .. }
            | EventKind::PulsarReceived { msg, .. }
            | EventKind::PulsarAcked { msg, .. }
            | EventKind::PulsarNacked { msg, .. }
            | EventKind::PulsarDeadLettered { msg, .. } => Some(*msg),
            EventKind::Jms(e) => e.message(),
            EventKind::Sqs(e) => e.message(),
            EventKind::Stage(e) => e.message(),
            EventKind::KafkaRep(e) => e.message(),
            EventKind::Streams(e) => e.message(),
            EventKind::Zmq(e) => e.message(),
            EventKind::ConsumerCrashed { .. }
            | EventKind::ConsumerRestarted { .. }
            | EventKind::ChannelClosed { .. }
            | EventKind::QueueDeleted { .. }
            | EventKind::RabbitMqNodeStopped { .. }
            | EventKind::RabbitMqNodeStarted { .. }
            | EventKind::RabbitMqNodeIsolated { .. }
            | EventKind::RabbitMqNodePaused { .. }
            | EventKind::RabbitMqNodeHealed { .. }
            | EventKind::QuorumLeaderElected { .. }
            | EventKind::OffsetReset { .. }
            | EventKind::SessionExpired { .. }
            | EventKind::NoOffset { .. }
            | EventKind::RebalanceStarted { .. }
            | EventKind::RebalanceDone { .. }
            | EventKind::RetentionDeleted { .. }
            | EventKind::Compacted { .. }
            | EventKind::SubscriberDisconnected { .. }
            | EventKind::CommandApplied { .. }
            | EventKind::PulsarLedgerRolled { .. }
            | EventKind::PulsarLedgerTrimmed { .. }
            | EventKind::PulsarSubscriptionCreated { .. }
            | EventKind::PulsarConsumerRefused { .. }
            | EventKind::PulsarActiveConsumer { .. }
            | EventKind::PulsarCursorMoved { .. }
            | EventKind::PulsarRedeliveryRequested { .. }
            | EventKind::PulsarHashDraining { .. }
            | EventKind::PulsarTtlExpired { .. } => None,
        }
    }
}

/// Why an SQS message can be received again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SqsVisibleWhy {
    /// Its `DelaySeconds` ended (SQS-11).
    Delay,
    /// Its visibility timeout ran out before anyone deleted it (SQS-2).
    Timeout,
    /// `ChangeMessageVisibility` to 0 (SQS-2).
    VisibilityZero,
    /// The copy a server kept after a delete lost its in-flight lock (SQS-1).
    Duplicate,
}

/// What a `DeleteMessage` did (SQS-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SqsDeleteOutcome {
    Deleted,
    /// An older receipt handle: a standard queue deletes anyway, even while another consumer
    /// holds the message.
    StaleHandle,
    /// The message was gone already; the call succeeds and changes nothing.
    Gone,
    /// A FIFO queue refuses an expired receipt handle; the message stays.
    ReceiptHandleIsInvalid,
}

/// Why SQS refused a `ChangeMessageVisibility` (SQS-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SqsRefusal {
    /// The handle is not the message's current in-flight receipt.
    MessageNotInflight,
    /// Beyond 12 hours since the receive, or above 43,200 s.
    InvalidParameterValue,
    /// The message is gone.
    ReceiptHandleIsInvalid,
}

/// Where an SQS message was when retention deleted it (SQS-5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SqsMessageState {
    Delayed,
    Visible,
    InFlight,
}

/// What AWS SQS did (SQS-1..SQS-11). Trace lines name queues `sq0`, consumers `c0`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SqsEvent {
    /// `SendMessage` stored a message; `visible_at` when it is delayed (SQS-11).
    SqsSend {
        msg: MessageId,
        queue: SqsQueueId,
        #[serde(skip_serializing_if = "Option::is_none")]
        group: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        visible_at: Option<SimTime>,
    },
    /// A FIFO send repeated a deduplication id within 5 minutes: accepted, not stored (SQS-9).
    SqsDeduplicated {
        msg: MessageId,
        queue: SqsQueueId,
        original: MessageId,
    },
    SqsVisible {
        msg: MessageId,
        queue: SqsQueueId,
        why: SqsVisibleWhy,
    },
    /// `ReceiveMessage` returned this message; `receive_count` is its
    /// `ApproximateReceiveCount` after this receive (SQS-3).
    SqsReceive {
        msg: MessageId,
        queue: SqsQueueId,
        consumer: ConsumerId,
        receive_count: u32,
    },
    /// `ReceiveMessage` returned nothing; `over_limit` when the in-flight limit refused it
    /// (SQS-6, SQS-7).
    SqsEmptyReceive {
        queue: SqsQueueId,
        consumer: ConsumerId,
        over_limit: bool,
    },
    /// `ChangeMessageVisibility`: hidden until `until` (counted from the call), or refused.
    SqsVisibilityChanged {
        msg: MessageId,
        queue: SqsQueueId,
        consumer: ConsumerId,
        timeout_ms: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        until: Option<SimTime>,
        #[serde(skip_serializing_if = "Option::is_none")]
        refused: Option<SqsRefusal>,
    },
    SqsDelete {
        msg: MessageId,
        queue: SqsQueueId,
        consumer: ConsumerId,
        outcome: SqsDeleteOutcome,
    },
    /// A server missed the delete: a copy survives and is received again (SQS-1).
    SqsDuplicate {
        msg: MessageId,
        queue: SqsQueueId,
        visible_at: SimTime,
    },
    /// A receive found the message at `maxReceiveCount` and moved it to the DLQ (SQS-4).
    SqsRedrive {
        msg: MessageId,
        from: SqsQueueId,
        to: SqsQueueId,
        receives: u32,
    },
    /// `MessageRetentionPeriod` ran out (SQS-5).
    SqsExpired {
        msg: MessageId,
        queue: SqsQueueId,
        state: SqsMessageState,
    },
}

impl SqsEvent {
    pub fn message(&self) -> Option<MessageId> {
        match self {
            SqsEvent::SqsSend { msg, .. }
            | SqsEvent::SqsDeduplicated { msg, .. }
            | SqsEvent::SqsVisible { msg, .. }
            | SqsEvent::SqsReceive { msg, .. }
            | SqsEvent::SqsVisibilityChanged { msg, .. }
            | SqsEvent::SqsDelete { msg, .. }
            | SqsEvent::SqsDuplicate { msg, .. }
            | SqsEvent::SqsRedrive { msg, .. }
            | SqsEvent::SqsExpired { msg, .. } => Some(*msg),
            SqsEvent::SqsEmptyReceive { .. } => None,
        }
    }
}

impl fmt::Display for SqsEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqsEvent::SqsSend {
                msg,
                queue,
                group,
                visible_at,
            } => {
                write!(f, "send {msg} to {queue}")?;
                if let Some(g) = group {
                    write!(f, " group {g}")?;
                }
                if let Some(t) = visible_at {
                    write!(f, " delayed until {t}")?;
                }
                Ok(())
            }
            SqsEvent::SqsDeduplicated {
                msg,
                queue,
                original,
            } => write!(f, "dedup {msg} at {queue} as {original}"),
            SqsEvent::SqsVisible { msg, queue, why } => {
                let why = match why {
                    SqsVisibleWhy::Delay => "delay",
                    SqsVisibleWhy::Timeout => "timeout",
                    SqsVisibleWhy::VisibilityZero => "visibility 0",
                    SqsVisibleWhy::Duplicate => "duplicate",
                };
                write!(f, "visible {msg} in {queue} ({why})")
            }
            SqsEvent::SqsReceive {
                msg,
                queue,
                consumer,
                receive_count,
            } => write!(
                f,
                "receive {msg}#{receive_count} from {queue} by {consumer}"
            ),
            SqsEvent::SqsEmptyReceive {
                queue,
                consumer,
                over_limit,
            } => {
                let what = if *over_limit { "OverLimit" } else { "empty" };
                write!(f, "receive from {queue} by {consumer}: {what}")
            }
            SqsEvent::SqsVisibilityChanged {
                msg,
                queue,
                consumer,
                timeout_ms,
                until,
                refused,
            } => {
                write!(
                    f,
                    "change visibility {msg} in {queue} by {consumer} to {timeout_ms}ms"
                )?;
                if let Some(t) = until {
                    write!(f, " (until {t})")?;
                }
                if let Some(r) = refused {
                    write!(f, " refused: {r:?}")?;
                }
                Ok(())
            }
            SqsEvent::SqsDelete {
                msg,
                queue,
                consumer,
                outcome,
            } => {
                write!(f, "delete {msg} from {queue} by {consumer}")?;
                match outcome {
                    SqsDeleteOutcome::Deleted => Ok(()),
                    SqsDeleteOutcome::StaleHandle => write!(f, ": stale handle"),
                    SqsDeleteOutcome::Gone => write!(f, ": gone"),
                    SqsDeleteOutcome::ReceiptHandleIsInvalid => {
                        write!(f, " refused: ReceiptHandleIsInvalid")
                    }
                }
            }
            SqsEvent::SqsDuplicate {
                msg,
                queue,
                visible_at,
            } => write!(
                f,
                "duplicate of {msg} survives in {queue}, visible at {visible_at}"
            ),
            SqsEvent::SqsRedrive {
                msg,
                from,
                to,
                receives,
            } => write!(
                f,
                "redrive {msg} from {from} to {to} after {receives} receives"
            ),
            SqsEvent::SqsExpired { msg, queue, state } => {
                let state = match state {
                    SqsMessageState::Delayed => "delayed",
                    SqsMessageState::Visible => "visible",
                    SqsMessageState::InFlight => "in flight",
                };
                write!(f, "retention deletes {msg} from {queue} ({state})")
            }
        }
    }
}

impl JmsEvent {
    /// The one message this event is about, if it names exactly one.
    pub fn message(&self) -> Option<MessageId> {
        match self {
            JmsEvent::JmsSend { msg, .. }
            | JmsEvent::JmsTopicPublish { msg, .. }
            | JmsEvent::JmsStored { msg, .. }
            | JmsEvent::JmsDispatch { msg, .. }
            | JmsEvent::JmsRedeliver { msg, .. }
            | JmsEvent::JmsDeadLetter { msg, .. }
            | JmsEvent::JmsExpired { msg, .. } => Some(*msg),
            JmsEvent::JmsAck { .. }
            | JmsEvent::JmsRollback { .. }
            | JmsEvent::JmsSubscription { .. }
            | JmsEvent::JmsGroup { .. }
            | JmsEvent::JmsExclusive { .. }
            | JmsEvent::JmsBrokerRestart { .. }
            | JmsEvent::JmsBrokerUp => None,
        }
    }
}

/// FNV-1a over the trace lines: a cheap fingerprint to compare runs (native vs wasm, seed vs seed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceDigest(pub u64);

impl Default for TraceDigest {
    fn default() -> Self {
        TraceDigest(0xcbf2_9ce4_8422_2325)
    }
}

impl TraceDigest {
    /// Hashes the event's trace line and a newline, streaming the text without allocating.
    pub fn add(&mut self, event: &Event) {
        use std::fmt::Write;
        // A local copy, so the state can stay in a register for the inlined pieces.
        let mut h = *self;
        // Writing into the hasher never fails.
        let _ = event.write_line(&mut h);
        let _ = h.write_str("\n");
        *self = h;
    }
}

impl std::fmt::Write for TraceDigest {
    #[inline]
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        for b in s.bytes() {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        Ok(())
    }
}

/// Why a Kafka produce request failed (KAF-22, KAF-23).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProduceError {
    /// The partition has no live leader (`NOT_LEADER_OR_FOLLOWER`, or the connection failed).
    NotLeader,
    /// ISR smaller than `min.insync.replicas`: refused before the append.
    NotEnoughReplicas,
    /// The ISR shrank below the minimum after the append: the record stays in the log.
    NotEnoughReplicasAfterAppend,
    /// An idempotent producer's record came before an earlier one it is still retrying; it is
    /// sent again after that one, so order holds (KAF-25).
    OutOfOrderSequence,
    /// `request.timeout.ms` passed with no answer: the leader was cut off from its followers.
    RequestTimeout,
}

/// What Kafka's brokers and replication did (KAF-19..KAF-26). Trace lines name brokers `b0`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum KafkaRepEvent {
    KafkaBrokerCrashed {
        broker: u32,
    },
    /// The controller noticed the crash (`broker.session.timeout.ms`) and fenced the broker.
    KafkaBrokerFenced {
        broker: u32,
    },
    KafkaBrokerRestarted {
        broker: u32,
    },
    /// A network partition cut the broker off from the others and the controller.
    KafkaBrokerIsolated {
        broker: u32,
    },
    KafkaBrokerHealed {
        broker: u32,
    },
    /// An isolated old leader took a record from a producer that still thinks it leads: the
    /// record exists on that broker only (KAF-21, KAF-24).
    KafkaStaleLeaderAppended {
        msg: MessageId,
        broker: u32,
        topic: TopicId,
        partition: u32,
        offset: u64,
    },
    /// The controller made `leader` the partition's leader; `clean` unless it came from outside
    /// the ISR (KAF-23). `leader: None`: the partition is offline.
    KafkaLeaderElected {
        topic: TopicId,
        partition: u32,
        leader: Option<u32>,
        epoch: u32,
        clean: bool,
    },
    KafkaIsrShrunk {
        topic: TopicId,
        partition: u32,
        broker: u32,
        isr: Vec<u32>,
    },
    KafkaIsrExpanded {
        topic: TopicId,
        partition: u32,
        broker: u32,
        isr: Vec<u32>,
    },
    /// The log was cut back to `to` by an election: `records` readable records went (KAF-23).
    KafkaTruncated {
        topic: TopicId,
        partition: u32,
        to: u64,
        records: u64,
    },
    /// A rejoining broker cut its replica back to the leader's log (KAF-21).
    KafkaReplicaTruncated {
        topic: TopicId,
        partition: u32,
        broker: u32,
        to: u64,
    },
    /// A record its producer had been told was written is gone (KAF-24).
    KafkaLostOnFailover {
        msg: MessageId,
        topic: TopicId,
        partition: u32,
        offset: u64,
    },
    /// The producer's request succeeded: `offset` −1 for `acks=0` (KAF-21).
    KafkaProduceAcked {
        msg: MessageId,
        topic: TopicId,
        partition: u32,
        offset: i64,
    },
    /// A transactional producer's transaction on a partition ended (KAF-27).
    KafkaTxnEnded {
        producer: u32,
        topic: TopicId,
        partition: u32,
        records: u64,
        committed: bool,
    },
    /// The request failed; `retry` if the producer sends it again.
    KafkaProduceFailed {
        msg: MessageId,
        topic: TopicId,
        partition: u32,
        error: ProduceError,
        retry: bool,
    },
}

impl KafkaRepEvent {
    pub fn message(&self) -> Option<MessageId> {
        match self {
            KafkaRepEvent::KafkaLostOnFailover { msg, .. }
            | KafkaRepEvent::KafkaProduceAcked { msg, .. }
            | KafkaRepEvent::KafkaProduceFailed { msg, .. }
            | KafkaRepEvent::KafkaStaleLeaderAppended { msg, .. } => Some(*msg),
            KafkaRepEvent::KafkaBrokerCrashed { .. }
            | KafkaRepEvent::KafkaBrokerIsolated { .. }
            | KafkaRepEvent::KafkaBrokerHealed { .. }
            | KafkaRepEvent::KafkaBrokerFenced { .. }
            | KafkaRepEvent::KafkaBrokerRestarted { .. }
            | KafkaRepEvent::KafkaLeaderElected { .. }
            | KafkaRepEvent::KafkaIsrShrunk { .. }
            | KafkaRepEvent::KafkaIsrExpanded { .. }
            | KafkaRepEvent::KafkaTruncated { .. }
            | KafkaRepEvent::KafkaTxnEnded { .. }
            | KafkaRepEvent::KafkaReplicaTruncated { .. } => None,
        }
    }
}

/// One entry in a Redis stream reply: its id, the delivery count a group's PEL now gives it
/// (0 for `XREAD`), and whether its body is gone (a trimmed pending entry reads as nil, RST-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct StreamItem {
    pub id: EntryId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg: Option<MessageId>,
    pub count: u32,
}

impl fmt::Display for StreamItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.id)?;
        if self.msg.is_none() {
            f.write_str("(nil)")?;
        }
        if self.count > 1 {
            write!(f, "#{}", self.count)?;
        }
        Ok(())
    }
}

fn write_items(f: &mut fmt::Formatter<'_>, items: &[StreamItem]) -> fmt::Result {
    if items.is_empty() {
        return f.write_str(" empty");
    }
    for i in items {
        write!(f, " {i}")?;
    }
    Ok(())
}

/// A group is printed `rs0:g1`: the stream and the group's index on it.
fn group_name(stream: StreamId, group: u32) -> String {
    format!("{stream}:g{group}")
}

/// Redis Streams events (RST-1..RST-9).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// `XADD`: the entry's id, or why it was refused (RST-1).
    Xadd {
        msg: MessageId,
        stream: StreamId,
        id: EntryId,
        /// The stream's top id when an explicit id was not above it.
        #[serde(skip_serializing_if = "Option::is_none")]
        refused_by: Option<EntryId>,
    },
    /// Trimming removed entries (RST-2).
    Xtrim {
        stream: StreamId,
        removed: u64,
        maxlen: u64,
        approx: bool,
        len: u64,
    },
    /// `XREAD` answered a reader (RST-3).
    Xread {
        consumer: ConsumerId,
        stream: StreamId,
        after: EntryId,
        items: Vec<StreamItem>,
    },
    /// `XREADGROUP` answered a group consumer: `>` (new entries) or its own pending entries
    /// after `pending_after` (RST-5, RST-6).
    Xreadgroup {
        consumer: ConsumerId,
        stream: StreamId,
        group: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        pending_after: Option<EntryId>,
        items: Vec<StreamItem>,
    },
    /// `XACK`: how many ids it removed from the group's PEL (RST-7).
    Xack {
        stream: StreamId,
        group: u32,
        id: EntryId,
        acked: u32,
    },
    /// `XCLAIM`: what moved to the claimer, and what was too fresh or gone (RST-8).
    Xclaim {
        stream: StreamId,
        group: u32,
        consumer: ConsumerId,
        claimed: Vec<StreamItem>,
        /// Trimmed entries removed from the PEL.
        deleted: Vec<EntryId>,
        /// Ids not claimed: idle below the minimum, or not pending.
        skipped: Vec<EntryId>,
    },
    /// `XAUTOCLAIM`: claimed, deleted, and the cursor to continue from (`0-0`: done) (RST-8).
    Xautoclaim {
        stream: StreamId,
        group: u32,
        consumer: ConsumerId,
        claimed: Vec<StreamItem>,
        deleted: Vec<EntryId>,
        cursor: EntryId,
    },
    /// `XGROUP CREATE` or `SETID` (RST-4).
    Xgroup {
        stream: StreamId,
        group: u32,
        id: EntryId,
        created: bool,
    },
    /// A replica took over: entries, acks and reads it had not received are undone (RST-9).
    RedisFailover {
        stream: StreamId,
        lost: u64,
        acks_undone: u64,
    },
}

impl StreamEvent {
    pub fn message(&self) -> Option<MessageId> {
        match self {
            StreamEvent::Xadd { msg, .. } => Some(*msg),
            StreamEvent::Xtrim { .. }
            | StreamEvent::Xread { .. }
            | StreamEvent::Xreadgroup { .. }
            | StreamEvent::Xack { .. }
            | StreamEvent::Xclaim { .. }
            | StreamEvent::Xautoclaim { .. }
            | StreamEvent::Xgroup { .. }
            | StreamEvent::RedisFailover { .. } => None,
        }
    }
}

impl fmt::Display for KafkaRepEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KafkaRepEvent::KafkaBrokerCrashed { broker } => write!(f, "broker b{broker} crashed"),
            KafkaRepEvent::KafkaBrokerFenced { broker } => write!(f, "broker b{broker} fenced"),
            KafkaRepEvent::KafkaBrokerRestarted { broker } => {
                write!(f, "broker b{broker} restarted")
            }
            KafkaRepEvent::KafkaBrokerIsolated { broker } => write!(f, "broker b{broker} isolated"),
            KafkaRepEvent::KafkaBrokerHealed { broker } => write!(f, "broker b{broker} healed"),
            KafkaRepEvent::KafkaStaleLeaderAppended {
                msg,
                broker,
                topic,
                partition,
                offset,
            } => write!(
                f,
                "{msg} {topic}p{partition}@{offset} on isolated b{broker} only"
            ),
            KafkaRepEvent::KafkaLeaderElected {
                topic,
                partition,
                leader,
                epoch,
                clean,
            } => match leader {
                Some(b) => write!(
                    f,
                    "{topic}p{partition} leader b{b} epoch {epoch}{}",
                    if *clean { "" } else { " (unclean)" }
                ),
                None => write!(f, "{topic}p{partition} offline epoch {epoch}"),
            },
            KafkaRepEvent::KafkaIsrShrunk {
                topic,
                partition,
                broker,
                isr,
            } => write!(f, "{topic}p{partition} isr shrink -b{broker} {isr:?}"),
            KafkaRepEvent::KafkaIsrExpanded {
                topic,
                partition,
                broker,
                isr,
            } => write!(f, "{topic}p{partition} isr expand +b{broker} {isr:?}"),
            KafkaRepEvent::KafkaTruncated {
                topic,
                partition,
                to,
                records,
            } => write!(
                f,
                "{topic}p{partition} truncated to {to}, {records} records"
            ),
            KafkaRepEvent::KafkaReplicaTruncated {
                topic,
                partition,
                broker,
                to,
            } => write!(f, "{topic}p{partition} replica b{broker} truncated to {to}"),
            KafkaRepEvent::KafkaLostOnFailover {
                msg,
                topic,
                partition,
                offset,
            } => write!(f, "lost {msg} {topic}p{partition}@{offset} on failover"),
            KafkaRepEvent::KafkaProduceAcked {
                msg,
                topic,
                partition,
                offset,
            } => write!(f, "produce ack {msg} {topic}p{partition}@{offset}"),
            KafkaRepEvent::KafkaTxnEnded {
                producer,
                topic,
                partition,
                records,
                committed,
            } => write!(
                f,
                "txn of p{producer} on {topic}p{partition}: {records} records {}",
                if *committed { "committed" } else { "aborted" }
            ),
            KafkaRepEvent::KafkaProduceFailed {
                msg,
                topic,
                partition,
                error,
                retry,
            } => write!(
                f,
                "produce {msg} {topic}p{partition} failed {error:?}{}",
                if *retry { ", retry" } else { "" }
            ),
        }
    }
}

impl fmt::Display for StreamEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamEvent::Xadd {
                msg,
                stream,
                id,
                refused_by: None,
            } => write!(f, "XADD {msg} to {stream} as {id}"),
            StreamEvent::Xadd {
                msg,
                stream,
                id,
                refused_by: Some(top),
            } => write!(f, "XADD {msg} to {stream} refused: id {id} <= {top}"),
            StreamEvent::Xtrim {
                stream,
                removed,
                maxlen,
                approx,
                len,
            } => {
                let op = if *approx { "~" } else { "=" };
                write!(
                    f,
                    "XTRIM {stream} removed {removed} (MAXLEN {op} {maxlen}), length {len}"
                )
            }
            StreamEvent::Xread {
                consumer,
                stream,
                after,
                items,
            } => {
                write!(f, "XREAD {consumer} {stream} after {after} ->")?;
                write_items(f, items)
            }
            StreamEvent::Xreadgroup {
                consumer,
                stream,
                group,
                pending_after,
                items,
            } => {
                let g = group_name(*stream, *group);
                match pending_after {
                    None => write!(f, "XREADGROUP {consumer} {g} > ->")?,
                    Some(id) => write!(f, "XREADGROUP {consumer} {g} {id} ->")?,
                }
                write_items(f, items)
            }
            StreamEvent::Xack {
                stream,
                group,
                id,
                acked,
            } => write!(f, "XACK {} {id} -> {acked}", group_name(*stream, *group)),
            StreamEvent::Xclaim {
                stream,
                group,
                consumer,
                claimed,
                deleted,
                skipped,
            } => {
                write!(f, "XCLAIM {} by {consumer} ->", group_name(*stream, *group))?;
                write_items(f, claimed)?;
                for (what, ids) in [("deleted", deleted), ("skipped", skipped)] {
                    if !ids.is_empty() {
                        write!(f, ", {what}")?;
                        for id in ids {
                            write!(f, " {id}")?;
                        }
                    }
                }
                Ok(())
            }
            StreamEvent::Xautoclaim {
                stream,
                group,
                consumer,
                claimed,
                deleted,
                cursor,
            } => {
                write!(
                    f,
                    "XAUTOCLAIM {} by {consumer} ->",
                    group_name(*stream, *group)
                )?;
                write_items(f, claimed)?;
                if !deleted.is_empty() {
                    f.write_str(", deleted")?;
                    for id in deleted {
                        write!(f, " {id}")?;
                    }
                }
                write!(f, ", cursor {cursor}")
            }
            StreamEvent::Xgroup {
                stream,
                group,
                id,
                created,
            } => {
                let op = if *created { "CREATE" } else { "SETID" };
                write!(f, "XGROUP {op} {} at {id}", group_name(*stream, *group))
            }
            StreamEvent::RedisFailover {
                stream,
                lost,
                acks_undone,
            } => write!(
                f,
                "failover {stream}: lost {lost} entries, {acks_undone} acks undone"
            ),
        }
    }
}
