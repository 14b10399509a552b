//! Newtype ids for every entity, so a queue index can never be passed where a consumer is meant.

use serde::{Deserialize, Serialize};
use std::fmt;

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

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
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

/// One published message. Every copy made from it by routing or dead-lettering shares this id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MessageId(pub u64);

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m{}", self.0)
    }
}
