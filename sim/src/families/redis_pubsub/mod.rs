//! Redis Pub/Sub: channels, patterns and subscribers' output buffers.

use crate::clients::{ClientWork, Cx};
use crate::clients::{Consumer, ConsumerStatus};
use crate::event::EventKind;
use crate::ids::{ChannelId, ConsumerId};
use crate::kernel::ms_to_us;
use crate::ledger::{CopyState, DropReason};
use crate::matching::Glob;
use crate::message::Slot;
use crate::scenario::ConsumerSource;
use crate::time::SimTime;
use crate::wire::NodeRef;
use std::collections::BTreeSet;

/// Redis Pub/Sub's state: the channel names seen so far, indexed by `ChannelId`, and which
/// subscribers each channel reaches.
#[derive(Clone, Debug, Default)]
pub(crate) struct RedisPubSub {
    pub channels: Vec<String>,
    /// Every consumer's compiled subscriptions, by consumer id; `None` for consumers of a queue
    /// or group. A consumer's source never changes once it is added (`update_consumer` refuses),
    /// so an entry never goes stale.
    subscriptions: Vec<Option<Subscription>>,
    /// For each channel: the subscribers it reaches and how many copies each gets, in
    /// consumer-id order. Extended when a consumer or a channel is added, never recomputed.
    receivers: Vec<Vec<(ConsumerId, u32)>>,
}

/// One client's subscriptions, each a set: a name or pattern listed twice counts once (RPS-2).
#[derive(Clone, Debug)]
struct Subscription {
    names: BTreeSet<String>,
    /// Compiled once, one per distinct pattern text.
    patterns: Vec<Glob>,
}

impl Subscription {
    fn new(source: &ConsumerSource) -> Option<Subscription> {
        let ConsumerSource::Subscribe { channels, patterns } = source else {
            return None;
        };
        let distinct: BTreeSet<&String> = patterns.iter().collect();
        Some(Subscription {
            names: channels.iter().cloned().collect(),
            patterns: distinct.into_iter().map(|p| Glob::new(p)).collect(),
        })
    }

    /// Copies of one message on `channel`: one for the name, one per matching pattern (RPS-2).
    fn copies(&self, channel: &str) -> u32 {
        let by_pattern = self.patterns.iter().filter(|g| g.matches(channel)).count();
        u32::from(self.names.contains(channel)) + by_pattern as u32
    }
}

impl RedisPubSub {
    /// Extends the cache to consumers and channels added since the last call; what is cached
    /// already stays valid, so each (subscriber, channel) pair is matched once.
    fn sync(&mut self, consumers: &[Consumer]) {
        for (i, c) in consumers.iter().enumerate().skip(self.subscriptions.len()) {
            let sub = Subscription::new(&c.spec.source);
            if let Some(sub) = &sub {
                // New consumers have the highest ids, so pushing keeps each list in id order.
                for (name, list) in self.channels.iter().zip(&mut self.receivers) {
                    let n = sub.copies(name);
                    if n > 0 {
                        list.push((ConsumerId(i as u32), n));
                    }
                }
            }
            self.subscriptions.push(sub);
        }
        for name in &self.channels[self.receivers.len()..] {
            let list = (self.subscriptions.iter().enumerate())
                .filter_map(|(i, sub)| {
                    let n = sub.as_ref()?.copies(name);
                    (n > 0).then_some((ConsumerId(i as u32), n))
                })
                .collect();
            self.receivers.push(list);
        }
    }

    /// The channels seen so far that a subscriber's names or patterns match (RPS-2).
    pub fn channels_matching(&self, cid: ConsumerId) -> Vec<ChannelId> {
        debug_assert!(
            cid.index() < self.subscriptions.len(),
            "consumer not cached"
        );
        (self.receivers.iter().enumerate())
            .filter(|(_, list)| list.binary_search_by_key(&cid, |r| r.0).is_ok())
            .map(|(i, _)| ChannelId(i as u32))
            .collect()
    }
}

impl<W: From<RedisPubSubWork> + From<ClientWork>> Cx<'_, &mut RedisPubSub, W> {
    pub(crate) fn channel_id(&mut self, name: &str) -> ChannelId {
        if let Some(i) = self.family.channels.iter().position(|c| c == name) {
            return ChannelId(i as u32);
        }
        self.family.channels.push(name.to_string());
        self.family.sync(&self.clients.consumers);
        ChannelId((self.family.channels.len() - 1) as u32)
    }

    /// Called for every consumer added, whatever its source: a subscriber's patterns are
    /// compiled and matched against the channels seen so far, once.
    pub(crate) fn redis_consumer_added(&mut self) {
        self.family.sync(&self.clients.consumers);
    }

    /// `PUBLISH`: a copy to every matching subscription present now; none means gone (RPS-1, RPS-2).
    pub(crate) fn pubsub_publish(&mut self, slot: Slot, channel: ChannelId) {
        debug_assert_eq!(
            self.family.subscriptions.len(),
            self.clients.consumers.len()
        );
        let mut receivers = Vec::new();
        for &(cid, n) in &self.family.receivers[channel.index()] {
            // Only subscribers present now, in consumer-id order (RPS-1).
            if self.clients.consumers[cid.index()].status == ConsumerStatus::Running {
                receivers.extend(std::iter::repeat_n(cid, n as usize));
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
                match self.world.new_copy_within_capacity(template.clone()) {
                    Some(s) => s,
                    None => continue,
                }
            };
            self.world.set_state(s, CopyState::Processing(cid));
            let consumer = &mut self.clients.consumers[cid.index()];
            consumer.held.insert(s);
            consumer.delivered += 1;
            consumer.log_delivery(msg, false);
            let epoch = consumer.epoch;
            self.world
                .emit(EventKind::PubSubDelivered { msg, consumer: cid });
            let arrives = RedisPubSubWork::DeliveryArrives {
                consumer: cid,
                slot: s,
                epoch,
            };
            let (from, to) = (NodeRef::Channel(channel), NodeRef::Consumer(cid));
            self.wire.send(self.world, from, to, s, arrives);
        }
    }

    /// A message reached a subscriber's output buffer: over the hard limit the client is
    /// disconnected at once, above the soft limit for too long later (RPS-3). Returns whether
    /// it was disconnected.
    fn over_buffer_limits(&mut self, cid: ConsumerId, epoch: u32) -> bool {
        let consumer = &mut self.clients.consumers[cid.index()];
        if consumer.buffer_bytes > consumer.spec.output_buffer_limit_bytes {
            self.disconnect_subscriber(cid);
            return true;
        }
        if consumer.buffer_bytes > consumer.spec.output_buffer_soft_limit_bytes
            && consumer.soft_since.is_none()
        {
            consumer.soft_since = Some(self.world.now);
            let at = self
                .world
                .now
                .plus(ms_to_us(consumer.spec.output_buffer_soft_seconds * 1000.0));
            let since = self.world.now;
            self.world.schedule(
                at,
                RedisPubSubWork::SoftLimitCheck {
                    consumer: cid,
                    epoch,
                    since,
                },
            );
        }
        false
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
    /// A copy reaches a subscriber's output buffer.
    DeliveryArrives {
        consumer: ConsumerId,
        slot: Slot,
        epoch: u32,
    },
    /// A subscriber went above its soft output-buffer limit at `since` (RPS-3).
    SoftLimitCheck {
        consumer: ConsumerId,
        epoch: u32,
        since: SimTime,
    },
}

impl<W: From<RedisPubSubWork> + From<ClientWork>> Cx<'_, &mut RedisPubSub, W> {
    pub(crate) fn run_redis_pubsub(&mut self, work: RedisPubSubWork) {
        match work {
            RedisPubSubWork::ArriveAtChannel { slot, channel } => {
                self.wire.arrived(self.world.now, slot);
                self.pubsub_publish(slot, channel);
            }
            RedisPubSubWork::DeliveryArrives {
                consumer,
                slot,
                epoch,
            } => {
                self.wire.arrived(self.world.now, slot);
                if self.accept_delivery(consumer, slot, 0, epoch)
                    && !self.over_buffer_limits(consumer, epoch)
                {
                    self.start_next(consumer);
                }
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
