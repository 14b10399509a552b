//! Redis Pub/Sub: channels, patterns and subscribers' output buffers.

use crate::clients::ConsumerStatus;
use crate::engine::Simulation;
use crate::event::EventKind;
use crate::ids::{ChannelId, ConsumerId};
use crate::ledger::{CopyState, DropReason};
use crate::matching::glob_matches;
use crate::message::Slot;
use crate::scenario::ConsumerSource;
use crate::snapshot::NodeRef;
use crate::time::SimTime;
use std::collections::BTreeSet;

/// Redis Pub/Sub's state: the channel names seen so far, indexed by `ChannelId`.
#[derive(Debug, Default)]
pub(crate) struct RedisPubSub {
    pub channels: Vec<String>,
}

impl RedisPubSub {
    /// The channels seen so far that a subscriber's names or patterns match (RPS-2).
    pub fn channels_matching(&self, source: &ConsumerSource) -> Vec<ChannelId> {
        let ConsumerSource::Subscribe { channels, patterns } = source else {
            return Vec::new();
        };
        (self.channels.iter().enumerate())
            .filter(|(_, ch)| channels.contains(ch) || patterns.iter().any(|p| glob_matches(p, ch)))
            .map(|(i, _)| ChannelId(i as u32))
            .collect()
    }
}

impl Simulation {
    pub(crate) fn channel_id(&mut self, name: &str) -> ChannelId {
        if let Some(i) = self.redis.channels.iter().position(|c| c == name) {
            return ChannelId(i as u32);
        }
        self.redis.channels.push(name.to_string());
        ChannelId((self.redis.channels.len() - 1) as u32)
    }

    /// `PUBLISH`: a copy to every matching subscription present now; none means gone (RPS-1, RPS-2).
    pub(crate) fn pubsub_publish(&mut self, slot: Slot, channel: ChannelId) {
        let name = &self.redis.channels[channel.index()];
        let mut receivers = Vec::new();
        for (i, c) in self.clients.consumers.iter().enumerate() {
            if c.status != ConsumerStatus::Running {
                continue;
            }
            if let ConsumerSource::Subscribe { channels, patterns } = &c.spec.source {
                // A client's subscriptions are sets: listing one twice is still one (RPS-2).
                let by_name = usize::from(channels.iter().any(|ch| ch == name));
                let by_pattern = patterns
                    .iter()
                    .filter(|p| glob_matches(p, name))
                    .collect::<BTreeSet<_>>()
                    .len();
                let n = by_name + by_pattern;
                receivers.extend(std::iter::repeat_n(ConsumerId(i as u32), n));
            }
        }
        let msg = self.world.copies.get(slot).msg;
        self.world.emit(EventKind::ChannelPublished {
            msg,
            channel,
            receivers: receivers.len() as u32,
        });
        if receivers.is_empty() {
            self.world.drop_copy(slot, DropReason::NoSubscriber);
            return;
        }
        let template = self.world.copies.get(slot).clone();
        for (n, cid) in receivers.into_iter().enumerate() {
            let s = if n == 0 {
                slot
            } else {
                self.world.ledger.fanout_copies += 1;
                self.world.new_copy(template.clone())
            };
            self.world.set_state(s, CopyState::Processing(cid));
            let consumer = &mut self.clients.consumers[cid.index()];
            consumer.held.insert(s);
            consumer.delivered += 1;
            consumer.log_delivery(msg, false);
            let epoch = consumer.epoch;
            self.world
                .emit(EventKind::PubSubDelivered { msg, consumer: cid });
            self.send_to_consumer(NodeRef::Channel(channel), cid, s, 0, epoch);
        }
    }

    /// Output buffer over its limit: the client is closed and its buffered messages lost (RPS-3).
    pub(crate) fn disconnect_subscriber(&mut self, cid: ConsumerId) {
        let lost = self.drop_held(cid, DropReason::SubscriberDisconnected);
        self.clients.consumers[cid.index()].status = ConsumerStatus::Disconnected;
        self.world.emit(EventKind::SubscriberDisconnected {
            consumer: cid,
            lost,
        });
    }
}

/// Work this part schedules on the agenda.
#[derive(Clone, Debug)]
pub(crate) enum RedisPubSubWork {
    ArriveAtChannel {
        slot: Slot,
        channel: ChannelId,
    },
    /// A subscriber went above its soft output-buffer limit at `since` (RPS-3).
    SoftLimitCheck {
        consumer: ConsumerId,
        epoch: u32,
        since: SimTime,
    },
}

impl Simulation {
    pub(crate) fn run_redis_pubsub(&mut self, work: RedisPubSubWork) {
        match work {
            RedisPubSubWork::ArriveAtChannel { slot, channel } => {
                self.transit.remove(&(self.world.now, u64::from(slot)));
                self.pubsub_publish(slot, channel);
            }
            RedisPubSubWork::SoftLimitCheck {
                consumer,
                epoch,
                since,
            } => {
                let c = &self.clients.consumers[consumer.index()];
                if c.epoch == epoch && c.soft_since == Some(since) {
                    self.disconnect_subscriber(consumer);
                }
            }
        }
    }
}
