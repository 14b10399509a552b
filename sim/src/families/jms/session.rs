//! A JMS consumer's session: the client library's state (`ActiveMQMessageConsumer`) and the
//! broker's view of the subscription (`PrefetchSubscription`), with the acknowledgement frames
//! between them.

use crate::ids::JmsStore;
use crate::message::Slot;
use crate::scenario::{JmsAckMode, JmsApi, JmsConsumerSpec, JmsOnFailure, RedeliveryPolicySpec};
use std::collections::BTreeMap;

/// `ActiveMQPrefetchPolicy` defaults (AMQ-8). The docs give 32766 for topics; the code's
/// `DEFAULT_TOPIC_PREFETCH` is `MAX_PREFETCH_SIZE` = `Short.MAX_VALUE`
/// (apache/activemq `activemq-client/.../ActiveMQPrefetchPolicy.java`).
pub const QUEUE_PREFETCH: u32 = 1_000;
pub const DURABLE_TOPIC_PREFETCH: u32 = 100;
pub const TOPIC_PREFETCH: u32 = crate::scenario::JMS_MAX_PREFETCH;

/// A frame from the client to the broker, applied when it arrives (or when the connection
/// closes, since the frames precede the close on the same TCP stream).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Frame {
    /// Standard, individual or commit ack of these delivery tags.
    Ack {
        kind: crate::event::JmsAckKind,
        tags: Vec<u64>,
    },
    /// DUPS_OK on a topic: a standard ack of the dispatched range `first..=last` (AMQ-4).
    AckRange { first: u64, last: u64 },
    /// Widens the prefetch window by `count` (AMQ-8).
    Delivered { count: u64 },
    /// Dead-letter these (AMQ-6).
    Poison { tags: Vec<u64> },
    /// `receive()` with prefetch 0 asks for one message.
    Pull,
    /// Artemis: the session hands rolled-back deliveries back to the broker (AMQ-9).
    Cancel { tags: Vec<u64> },
    /// The client dropped an expired message it had prefetched (AMQ-7).
    Expired { tag: u64 },
}

/// The session's settings, with the defaults for its source filled in.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub ack_mode: JmsAckMode,
    pub api: JmsApi,
    pub prefetch: u32,
    pub ack_every: u32,
    pub commit_every: u32,
    pub on_failure: JmsOnFailure,
    pub exclusive: bool,
    pub redelivery: RedeliveryPolicySpec,
    /// DUPS_OK on a topic acks in batches; on a queue it acks each message like AUTO
    /// (`isAutoAcknowledgeBatch` / `isAutoAcknowledgeEach`).
    pub batch: bool,
}

impl Settings {
    pub fn new(spec: Option<&JmsConsumerSpec>, source: JmsStore, durable: bool) -> Settings {
        let spec = spec.cloned().unwrap_or_default();
        let default_prefetch = match (source, durable) {
            (JmsStore::Queue(_), _) => QUEUE_PREFETCH,
            (JmsStore::Sub(_), true) => DURABLE_TOPIC_PREFETCH,
            (JmsStore::Sub(_), false) => TOPIC_PREFETCH,
        };
        Settings {
            ack_mode: spec.ack_mode,
            api: spec.api,
            prefetch: spec.prefetch.unwrap_or(default_prefetch),
            ack_every: spec.ack_every.unwrap_or(1),
            commit_every: spec.commit_every.unwrap_or(1),
            on_failure: spec.on_failure,
            exclusive: spec.exclusive,
            redelivery: spec.redelivery,
            batch: spec.ack_mode == JmsAckMode::DupsOk && matches!(source, JmsStore::Sub(_)),
        }
    }

    /// AUTO, or DUPS_OK on a queue: every consumed message is acked at once.
    pub fn acks_each(&self) -> bool {
        self.ack_mode == JmsAckMode::Auto || (self.ack_mode == JmsAckMode::DupsOk && !self.batch)
    }

    pub fn transacted(&self) -> bool {
        self.ack_mode == JmsAckMode::Transacted
    }

    /// The delay before redelivering a rolled-back message whose counter is now `counter`:
    /// the initial delay, then `getNextRedeliveryDelay` once per further redelivery
    /// (`ActiveMQMessageConsumer.rollback`, `RedeliveryPolicy.getNextRedeliveryDelay`; AMQ-6).
    pub fn redelivery_delay_ms(&self, counter: u32) -> u64 {
        let p = &self.redelivery;
        let mut delay = p.initial_redelivery_delay_ms as i64;
        for _ in 1..counter {
            delay = if delay > 0 && p.use_exponential_backoff && p.backoff_multiplier > 1.0 {
                let next = (delay as f64 * p.backoff_multiplier) as i64;
                if p.maximum_redelivery_delay_ms != -1 && next > p.maximum_redelivery_delay_ms {
                    p.maximum_redelivery_delay_ms
                        .max(p.redelivery_delay_ms as i64)
                } else {
                    next
                }
            } else {
                p.redelivery_delay_ms as i64
            };
        }
        delay.max(0) as u64
    }

    /// Whether a message rolled back to `counter` is past the limit: the client poison-acks it.
    pub fn exceeded(&self, counter: u32) -> bool {
        let max = self.redelivery.maximum_redeliveries;
        max != -1 && i64::from(counter) > i64::from(max)
    }
}

/// One consumer's session, client side and broker side.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub source: JmsStore,
    pub settings: Settings,
    /// Broker: `prefetchExtension`, widened by delivered acks and pulls (AMQ-8).
    pub extension: u64,
    /// Broker: each dispatched copy's redelivery counter as the broker knows it. The client's
    /// own counter rises on every rollback; the broker's only when a consumer closes (AMQ-5).
    pub broker_counts: BTreeMap<u64, u32>,
    /// Client: tags handed to the application and not yet acknowledged, oldest first
    /// (`deliveredMessages`).
    pub delivered: Vec<u64>,
    /// Client: `deliveredCounter`, which sends a delivered ack at half the prefetch (AMQ-8).
    pub delivered_counter: i64,
    /// Client: DUPS_OK-topic messages consumed since the last batch ack, as a tag range.
    pub batch: Option<(u64, u64)>,
    /// Client: messages the application handled since its last `acknowledge()` or `commit()`.
    pub handled: u32,
    /// Client: rolled-back messages waiting out the redelivery delay, oldest first.
    pub parked: Vec<(u64, Slot)>,
    /// Frames on their way to the broker, by id.
    pub frames: BTreeMap<u64, Frame>,
    pub next_frame: u64,
}

impl Session {
    pub fn new(source: JmsStore, settings: Settings) -> Session {
        Session {
            source,
            settings,
            extension: 0,
            broker_counts: BTreeMap::new(),
            delivered: Vec::new(),
            delivered_counter: 0,
            batch: None,
            handled: 0,
            parked: Vec::new(),
            frames: BTreeMap::new(),
            next_frame: 0,
        }
    }

    /// The connection ended: the client's state goes with it.
    pub fn reset(&mut self) {
        self.extension = 0;
        self.broker_counts.clear();
        self.delivered.clear();
        self.delivered_counter = 0;
        self.batch = None;
        self.handled = 0;
        self.parked.clear();
        self.frames.clear();
    }

    /// Broker: whether the subscription may take no more (`PrefetchSubscription.isFull`).
    pub fn is_full(&self, dispatched: usize) -> bool {
        if self.settings.prefetch == 0 {
            self.extension == 0
        } else {
            (dispatched as u64).saturating_sub(self.extension) >= u64::from(self.settings.prefetch)
        }
    }
}
