//! The broker families. Each folder owns one family's rules; none imports another.

pub mod kafka;
pub mod rabbitmq;
pub mod redis_pubsub;
pub mod service;

use crate::ids::{ChannelId, ExchangeId};

/// Where a producer sends, resolved to ids.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target {
    Exchange(ExchangeId),
    Channel(ChannelId),
    Topic(u32),
    Service(u32),
}
