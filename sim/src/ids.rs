//! Newtype ids for every entity, so a queue index can never be passed where a consumer is meant.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Writes `n` in decimal so that it ends just before `end`; returns where it starts.
pub(crate) fn decimal_before(buf: &mut [u8], end: usize, mut n: u64) -> usize {
    let mut i = end;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return i;
        }
    }
}

/// Writes `prefix` and `n` in decimal with one `write_str`: every event's trace line is hashed
/// into the digest, and the general formatter was a third of a run's time.
pub(crate) fn write_prefixed(f: &mut impl fmt::Write, prefix: &str, n: u64) -> fmt::Result {
    let mut buf = [0u8; 24];
    let i = decimal_before(&mut buf, 24, n);
    let start = i - prefix.len();
    buf[start..i].copy_from_slice(prefix.as_bytes());
    // SAFETY: the slice holds a whole &str (the prefix) followed by ASCII digits.
    f.write_str(unsafe { std::str::from_utf8_unchecked(&buf[start..]) })
}

/// An id's trace form ("m12", "q0") written into any writer, so the trace digest can take it
/// without `fmt::Formatter` (see `Event::write_line`); `Display` writes the same.
pub(crate) trait TraceId {
    fn write_to<W: fmt::Write>(&self, f: &mut W) -> fmt::Result;
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub u32);

        impl $name {
            pub const fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl TraceId for $name {
            fn write_to<W: fmt::Write>(&self, f: &mut W) -> fmt::Result {
                write_prefixed(f, $prefix, u64::from(self.0))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.write_to(f)
            }
        }
    };
}

id_type!(/// A producer (publisher) in the scenario.
    ProducerId, "p");
id_type!(/// A RabbitMQ exchange; id 0 is always the default exchange `""`.
    ExchangeId, "x");
id_type!(/// A RabbitMQ queue.
    QueueId, "q");
id_type!(/// A consumer: a queue consumer or a Redis subscriber.
    ConsumerId, "c");
id_type!(/// A Redis Pub/Sub channel name that has been published to or subscribed.
    ChannelId, "ch");
id_type!(/// A Kafka topic.
    TopicId, "t");
id_type!(/// A Kafka consumer group.
    GroupId, "g");
id_type!(/// A service called with no broker in front.
    ServiceId, "s");
id_type!(/// An AWS SQS queue, standard or FIFO.
    SqsQueueId, "sq");

/// One published message. Every copy made from it by routing or dead-lettering shares this id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MessageId(pub u64);

impl TraceId for MessageId {
    fn write_to<W: fmt::Write>(&self, f: &mut W) -> fmt::Result {
        write_prefixed(f, "m", self.0)
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

id_type!(/// An ActiveMQ / JMS queue.
    JmsQueueId, "aq");
id_type!(/// An ActiveMQ / JMS topic.
    JmsTopicId, "at");
id_type!(/// A subscription to a JMS topic, durable or not: it stores the topic's copies for one
    /// subscriber (AMQ-1, AMQ-2).
    JmsSubId, "sub");

/// Where a JMS copy is stored: a queue, or one subscription of a topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JmsStore {
    Queue(JmsQueueId),
    Sub(JmsSubId),
}

impl fmt::Display for JmsStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JmsStore::Queue(q) => q.fmt(f),
            JmsStore::Sub(s) => s.fmt(f),
        }
    }
}

id_type!(/// A Redis stream (a key holding a stream).
    StreamId, "rs");

/// A Redis stream entry id, `<ms>-<seq>` (RST-1). Ordered as Redis orders them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryId {
    pub ms: u64,
    pub seq: u64,
}

impl EntryId {
    pub const ZERO: EntryId = EntryId { ms: 0, seq: 0 };

    pub const fn new(ms: u64, seq: u64) -> EntryId {
        EntryId { ms, seq }
    }

    /// Parses `ms-seq`, or `ms` alone (seq 0), as Redis reads an id argument.
    pub fn parse(s: &str) -> Option<EntryId> {
        let (ms, seq) = match s.split_once('-') {
            Some((ms, seq)) => (ms, seq),
            None => (s, "0"),
        };
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if !digits(ms) || !digits(seq) {
            return None;
        }
        Some(EntryId::new(ms.parse().ok()?, seq.parse().ok()?))
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl Serialize for EntryId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
