//! What the JMS broker stores: queues, topics and their subscriptions, each holding its copies
//! in a [`Store`], and a queue's message-group owners.

use crate::ids::{ConsumerId, JmsTopicId};
use crate::message::Slot;
use crate::scenario::DurableName;
use crate::stats::Series;
use std::collections::BTreeMap;

/// Copies a queue or a subscription holds, and its web-console counters.
#[derive(Clone, Debug, Default)]
pub(crate) struct Store {
    /// Not dispatched, by broker sequence: a copy taken back from a consumer returns to its
    /// place, ahead of newer ones (AMQ-5).
    pub pending: BTreeMap<u64, Slot>,
    /// Artemis: rolled back and waiting out `redelivery-delay` before it may go out again
    /// (AMQ-9).
    pub delayed: BTreeMap<u64, Slot>,
    /// Dispatched and not yet acknowledged.
    pub in_flight: u64,
    /// `Messages Enqueued`.
    pub enqueued: u64,
    /// `Messages Dequeued`: acknowledged, or removed by a poison ack.
    pub dequeued: u64,
    pub dispatched: u64,
    pub expired: u64,
}

impl Store {
    /// `Number Of Pending Messages`: enqueued and not dequeued, dispatched ones included.
    pub fn pending_count(&self) -> u64 {
        self.stored() + self.in_flight
    }

    /// Copies held and not dispatched (counted as ready).
    pub fn stored(&self) -> u64 {
        (self.pending.len() + self.delayed.len()) as u64
    }
}

/// The message-group owners of a queue: `CachedMessageGroupMap`, an LRU of 1024 groups, so a
/// group pushed out is assigned afresh and its order can break (AMQ-10).
#[derive(Clone, Debug, Default)]
pub(crate) struct GroupOwners {
    owners: BTreeMap<String, (ConsumerId, u64)>,
    clock: u64,
}

/// `CachedMessageGroupMapFactory`'s default cache size.
const GROUP_CACHE: usize = 1024;

impl GroupOwners {
    /// The owner of `group`, marking it as recently used.
    pub fn get(&mut self, group: &str) -> Option<ConsumerId> {
        self.clock += 1;
        let clock = self.clock;
        self.owners.get_mut(group).map(|(c, used)| {
            *used = clock;
            *c
        })
    }

    /// Makes `owner` the group's owner, pushing out the least recently used group when full.
    pub fn put(&mut self, group: &str, owner: ConsumerId) {
        self.clock += 1;
        if !self.owners.contains_key(group) && self.owners.len() >= GROUP_CACHE {
            let eldest = self
                .owners
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(g, _)| g.clone());
            if let Some(g) = eldest {
                self.owners.remove(&g);
            }
        }
        self.owners.insert(group.to_string(), (owner, self.clock));
    }

    pub fn remove(&mut self, group: &str) {
        self.owners.remove(group);
    }

    /// A consumer left: every group it owned is free (`MessageGroupMap.removeConsumer`).
    pub fn remove_consumer(&mut self, consumer: ConsumerId) {
        self.owners.retain(|_, (c, _)| *c != consumer);
    }

    /// Each group and its owner, for views.
    pub fn owners(&self) -> impl Iterator<Item = (&str, ConsumerId)> {
        self.owners.iter().map(|(g, (c, _))| (g.as_str(), *c))
    }
}

#[derive(Clone, Debug)]
pub(crate) struct JmsQueue {
    pub name: String,
    pub store: Store,
    /// Consumers in dispatch order: highest priority first, each moved to the back of its
    /// priority after a dispatch, so equal consumers take turns (AMQ-1).
    pub consumers: Vec<ConsumerId>,
    /// The exclusive consumer, while there is one (AMQ-11).
    pub exclusive: Option<ConsumerId>,
    pub groups: GroupOwners,
    /// Pending messages over time, for the charts.
    pub depth: Series,
}

impl JmsQueue {
    pub fn new(name: String) -> JmsQueue {
        JmsQueue {
            name,
            store: Store::default(),
            consumers: Vec::new(),
            exclusive: None,
            groups: GroupOwners::default(),
            depth: Series::new(crate::SERIES_CAPACITY, crate::SAMPLE_INTERVAL),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct JmsTopic {
    pub name: String,
    pub subs: Vec<crate::ids::JmsSubId>,
    /// Messages sent to the topic.
    pub enqueued: u64,
}

/// One subscription of a topic: durable (kept while its subscriber is away) or the
/// subscription of one non-durable subscriber.
#[derive(Clone, Debug)]
pub(crate) struct Subscription {
    pub topic: JmsTopicId,
    pub durable: Option<DurableName>,
    /// The connected subscriber.
    pub consumer: Option<ConsumerId>,
    /// Ended: a non-durable subscription whose subscriber left, or an unsubscribed one.
    pub closed: bool,
    pub store: Store,
}

impl Subscription {
    /// Whether a message published now gets a copy: an active subscription, or a durable one
    /// whose subscriber is away, which stores persistent messages only (AMQ-2, AMQ-3).
    pub fn takes(&self, persistent: bool) -> bool {
        !self.closed && (self.consumer.is_some() || (self.durable.is_some() && persistent))
    }
}
