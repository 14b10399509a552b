//! ActiveMQ Classic / JMS: queues and topics, durable and non-durable subscriptions, acknowledge
//! modes, client-side redelivery with the poison ack, dead-letter queues, expiry, prefetch,
//! message groups and exclusive consumers (AMQ-1..AMQ-11), and Artemis where AMQ-9 differs.
//!
//! A consumer is one connection with one session. The broker's side of it (what is dispatched,
//! the prefetch window) and the client library's side (what the application was handed, the
//! pending acks, redelivery) both live in its [`Session`]; acknowledgements travel between them
//! as frames one latency long.

mod session;
pub(crate) mod store;

use crate::clients::{ClientWork, Closure, ConsumerStatus, Cx};
use crate::command::{at_cap, CommandError};
use crate::event::{EventKind, JmsAckKind, JmsEvent, JmsSubscriptionState};
use crate::ids::{ConsumerId, JmsQueueId, JmsStore, JmsSubId, JmsTopicId, MessageId};
use crate::kernel::ms_to_us;
use crate::ledger::{CopyState, DeadLetterReason, DropReason};
use crate::message::Slot;
use crate::scenario::{
    self, ConsumerSource, DeadLetterStrategy, DurableName, JmsAckMode, JmsApi, JmsBroker,
    JmsOnFailure, JmsQueueSpec, JmsSpec, JmsTopicSpec,
};
use crate::time::SimTime;
use crate::wire::NodeRef;
use serde_json::Value;
use session::{Frame, Session, Settings};
use std::collections::{BTreeMap, BTreeSet};
use store::{JmsQueue, JmsTopic, Store, Subscription};

/// The JMS broker's state.
#[derive(Clone, Debug, Default)]
pub(crate) struct Jms {
    /// The broker's settings; the destinations live below, not in its lists.
    pub settings: JmsSpec,
    pub queues: Vec<JmsQueue>,
    pub topics: Vec<JmsTopic>,
    pub subs: Vec<Subscription>,
    /// Each JMS consumer's session.
    pub sessions: BTreeMap<ConsumerId, Session>,
    /// The broker's message sequence: a store's order.
    next_seq: u64,
    /// While the broker is down: until when (AMQ-3).
    pub down_until: Option<SimTime>,
    /// Consumers whose failover transport reconnects when the broker is back.
    reconnect: BTreeSet<ConsumerId>,
    /// The next expiry sweep, if one is scheduled.
    sweep_at: Option<SimTime>,
}

impl Jms {
    pub(crate) fn queue_id(&self, name: &str) -> Option<JmsQueueId> {
        let i = self.queues.iter().position(|q| q.name == name)?;
        Some(JmsQueueId(i as u32))
    }

    pub(crate) fn topic_id(&self, name: &str) -> Option<JmsTopicId> {
        let i = self.topics.iter().position(|t| t.name == name)?;
        Some(JmsTopicId(i as u32))
    }

    /// The live durable subscription with this client id and name.
    pub(crate) fn durable_id(&self, d: &DurableName) -> Option<JmsSubId> {
        let i = self
            .subs
            .iter()
            .position(|s| !s.closed && s.durable.as_ref() == Some(d))?;
        Some(JmsSubId(i as u32))
    }

    /// The durable subscription `Session.unsubscribe` would delete; refused while its
    /// subscriber is connected (AMQ-2).
    pub(crate) fn unsubscribable(&self, d: &DurableName) -> Result<JmsSubId, CommandError> {
        let Some(s) = self.durable_id(d) else {
            return Err(CommandError::UnknownEntity {
                kind: "durable subscription",
                name: format!("{}:{}", d.client_id, d.name),
            });
        };
        if self.subs[s.index()].consumer.is_some() {
            return Err(CommandError::NotApplicable {
                reason: "a durable subscription with an active subscriber cannot be unsubscribed"
                    .into(),
            });
        }
        Ok(s)
    }

    pub(crate) fn check_restart(&self, downtime_ms: f64) -> Result<(), CommandError> {
        scenario::check_ms("downtime_ms", downtime_ms)?;
        if self.down_until.is_some() {
            return Err(CommandError::NotApplicable {
                reason: "the JMS broker is down already".into(),
            });
        }
        Ok(())
    }

    /// A consumer may not take over a durable subscription of another topic.
    pub(crate) fn check_durable(&self, topic: &str, d: &DurableName) -> Result<(), CommandError> {
        match self.durable_id(d) {
            Some(s) if self.topics[self.subs[s.index()].topic.index()].name != topic => {
                Err(CommandError::NotApplicable {
                    reason: format!(
                        "durable subscription {}:{} belongs to another topic; unsubscribe it first",
                        d.client_id, d.name
                    ),
                })
            }
            _ => Ok(()),
        }
    }

    pub(crate) fn store(&self, s: JmsStore) -> &Store {
        match s {
            JmsStore::Queue(q) => &self.queues[q.index()].store,
            JmsStore::Sub(s) => &self.subs[s.index()].store,
        }
    }

    fn store_mut(&mut self, s: JmsStore) -> &mut Store {
        match s {
            JmsStore::Queue(q) => &mut self.queues[q.index()].store,
            JmsStore::Sub(s) => &mut self.subs[s.index()].store,
        }
    }

    /// Every store: the queues, then the subscriptions.
    pub(crate) fn stores(&self) -> impl Iterator<Item = (JmsStore, &Store)> {
        let queues = (self.queues.iter().enumerate())
            .map(|(i, q)| (JmsStore::Queue(JmsQueueId(i as u32)), &q.store));
        let subs = (self.subs.iter().enumerate())
            .map(|(i, s)| (JmsStore::Sub(JmsSubId(i as u32)), &s.store));
        queues.chain(subs)
    }

    /// Whether the scenario uses JMS at all: views and reports leave it out otherwise.
    pub(crate) fn is_used(&self) -> bool {
        !(self.queues.is_empty() && self.topics.is_empty())
    }

    /// Samples every queue's pending count for the charts.
    pub(crate) fn sample(&mut self, at: u64) {
        for q in &mut self.queues {
            q.depth.push(at, q.store.pending_count() as f64);
        }
    }

    /// The prefetch a JMS consumer's session uses.
    pub(crate) fn prefetch_of(&self, cid: ConsumerId) -> Option<u32> {
        self.sessions.get(&cid).map(|s| s.settings.prefetch)
    }

    /// A non-durable topic subscription: the broker keeps what it dispatched to it for
    /// statistics only (`TopicSubscription`), not for redelivery or dead-lettering.
    fn is_non_durable(&self, s: JmsStore) -> bool {
        matches!(s, JmsStore::Sub(s) if self.subs[s.index()].durable.is_none())
    }

    /// The node a consumer reads from, for drawing.
    pub(crate) fn source_of(&self, cid: ConsumerId) -> Option<NodeRef> {
        self.sessions.get(&cid).map(|s| node_of(s.source))
    }

    /// Copies stored and not dispatched, for the audit (counted as ready).
    pub(crate) fn pending_total(&self) -> u64 {
        self.stores().map(|(_, s)| s.stored()).sum()
    }

    /// Copies dispatched and not acknowledged, for the audit (counted as unacked).
    pub(crate) fn in_flight_total(&self) -> u64 {
        self.stores().map(|(_, s)| s.in_flight).sum()
    }
}

/// A message's group: the `JMSXGroupID` and `JMSXGroupSeq` properties, which producers set as
/// headers (AMQ-10).
fn group_of(properties: &BTreeMap<String, Value>) -> Option<(String, i64)> {
    let group = match properties.get("JMSXGroupID")? {
        Value::String(g) => g.clone(),
        other => other.to_string(),
    };
    let seq = (properties.get("JMSXGroupSeq"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    Some((group, seq))
}

pub(crate) fn node_of(s: JmsStore) -> NodeRef {
    match s {
        JmsStore::Queue(q) => NodeRef::JmsQueue(q),
        JmsStore::Sub(s) => NodeRef::JmsSubscription(s),
    }
}

impl<W: From<JmsWork> + From<ClientWork>> Cx<'_, &mut Jms, W> {
    // ------------------------------------------------------------------ destinations

    /// The broker and the destinations a scenario declares.
    pub(crate) fn build(&mut self, spec: Option<&JmsSpec>) {
        let spec = spec.cloned().unwrap_or_default();
        for q in &spec.queues {
            self.queue_or_create(&q.name);
        }
        for t in &spec.topics {
            self.topic_or_create(&t.name);
        }
        for d in &spec.durable_subscriptions {
            let topic = self.topic_or_create(&d.topic);
            let name = DurableName {
                client_id: d.client_id.clone(),
                name: d.name.clone(),
            };
            self.new_sub(topic, Some(name));
        }
        self.family.settings = JmsSpec {
            queues: Vec::new(),
            topics: Vec::new(),
            durable_subscriptions: Vec::new(),
            ..spec
        };
    }

    /// ActiveMQ creates a destination the first time a client names it.
    pub(crate) fn queue_or_create(&mut self, name: &str) -> JmsQueueId {
        if let Some(q) = self.family.queue_id(name) {
            return q;
        }
        self.family.queues.push(JmsQueue::new(name.to_string()));
        JmsQueueId((self.family.queues.len() - 1) as u32)
    }

    pub(crate) fn topic_or_create(&mut self, name: &str) -> JmsTopicId {
        if let Some(t) = self.family.topic_id(name) {
            return t;
        }
        self.family.topics.push(JmsTopic {
            name: name.to_string(),
            subs: Vec::new(),
            enqueued: 0,
        });
        JmsTopicId((self.family.topics.len() - 1) as u32)
    }

    fn new_sub(&mut self, topic: JmsTopicId, durable: Option<DurableName>) -> JmsSubId {
        let id = JmsSubId(self.family.subs.len() as u32);
        self.family.subs.push(Subscription {
            topic,
            // A non-durable subscription exists only while its subscriber is connected.
            closed: durable.is_none(),
            durable,
            consumer: None,
            store: Store::default(),
        });
        self.family.topics[topic.index()].subs.push(id);
        id
    }

    pub(crate) fn add_queue(&mut self, spec: JmsQueueSpec) -> Result<(), CommandError> {
        at_cap("JMS queues", self.family.queues.len())?;
        scenario::check_jms_name("queue.name", &spec.name)?;
        if self.family.queue_id(&spec.name).is_some() {
            return Err(CommandError::Duplicate {
                kind: "JMS queue",
                name: spec.name,
            });
        }
        self.queue_or_create(&spec.name);
        Ok(())
    }

    pub(crate) fn add_topic(&mut self, spec: JmsTopicSpec) -> Result<(), CommandError> {
        at_cap("JMS topics", self.family.topics.len())?;
        scenario::check_jms_name("topic.name", &spec.name)?;
        if self.family.topic_id(&spec.name).is_some() {
            return Err(CommandError::Duplicate {
                kind: "JMS topic",
                name: spec.name,
            });
        }
        self.topic_or_create(&spec.name);
        Ok(())
    }

    /// `Session.unsubscribe`: the subscription and what it stored are gone (AMQ-2).
    pub(crate) fn unsubscribe(&mut self, s: JmsSubId) {
        self.close_sub(s, DropReason::QueueDeleted);
    }

    /// Ends a subscription: what it stores is dropped for `reason`.
    fn close_sub(&mut self, s: JmsSubId, reason: DropReason) {
        let store = &mut self.family.subs[s.index()].store;
        let pending = std::mem::take(&mut store.pending);
        for slot in pending.into_values() {
            self.world.drop_copy(slot, reason);
        }
        self.family.subs[s.index()].closed = true;
        self.world.emit(EventKind::Jms(JmsEvent::JmsSubscription {
            sub: s,
            state: JmsSubscriptionState::Closed,
        }));
    }

    // ------------------------------------------------------------------ consumers

    /// A JMS consumer was added: its session and, for a topic, its subscription.
    pub(crate) fn add_session(&mut self, cid: ConsumerId) {
        let spec = self.clients.consumers[cid.index()].spec.clone();
        let (source, durable) = match &spec.source {
            ConsumerSource::JmsQueue(name) => (JmsStore::Queue(self.queue_or_create(name)), false),
            ConsumerSource::JmsTopic { topic, durable } => {
                let t = self.topic_or_create(topic);
                let sub = match durable {
                    Some(d) => match self.family.durable_id(d) {
                        Some(s) => s,
                        None => self.new_sub(t, Some(d.clone())),
                    },
                    None => self.new_sub(t, None),
                };
                (JmsStore::Sub(sub), durable.is_some())
            }
            _ => unreachable!("only JMS consumers have a session"),
        };
        let settings = Settings::new(spec.jms.as_ref(), source, durable);
        self.family
            .sessions
            .insert(cid, Session::new(source, settings));
    }

    /// The consumer's settings changed while it held nothing: its session starts afresh.
    pub(crate) fn consumer_updated(&mut self, cid: ConsumerId) {
        let spec = &self.clients.consumers[cid.index()].spec;
        let Some(session) = self.family.sessions.get_mut(&cid) else {
            return;
        };
        let durable = spec.durable_client_id().is_some();
        session.settings = Settings::new(spec.jms.as_ref(), session.source, durable);
        let source = session.source;
        self.dispatch(source);
    }

    /// The consumer connects; while the broker is down its failover transport waits for it.
    /// The broker registers the subscription as its own work item at the same instant, so a
    /// scenario's consumers subscribe at t = 0 as events of the run.
    pub(crate) fn consume(&mut self, cid: ConsumerId) {
        if self.family.down_until.is_some() {
            self.family.reconnect.insert(cid);
            return;
        }
        let consumer = &mut self.clients.consumers[cid.index()];
        consumer.status = ConsumerStatus::Running;
        let epoch = consumer.epoch;
        self.world.schedule(
            self.world.now,
            JmsWork::Subscribe {
                consumer: cid,
                epoch,
            },
        );
    }

    /// The broker adds the consumer to its queue or subscription and starts dispatching
    /// (AMQ-1, AMQ-2, AMQ-11).
    fn subscribe(&mut self, cid: ConsumerId) {
        let session = &self.family.sessions[&cid];
        let (source, exclusive, pull) = (
            session.source,
            session.settings.exclusive,
            session.settings.prefetch == 0,
        );
        match source {
            JmsStore::Queue(q) => {
                self.insert_by_priority(q, cid);
                let current = self.family.queues[q.index()].exclusive;
                let prio = |c: ConsumerId| self.clients.consumers[c.index()].spec.priority;
                // A new exclusive consumer takes over only with a higher priority, or the
                // highest there is (`Queue.addSubscription`).
                let takes_over =
                    exclusive && current.is_none_or(|e| prio(cid) >= 127 || prio(cid) > prio(e));
                if takes_over {
                    self.set_exclusive(q, Some(cid));
                }
            }
            JmsStore::Sub(s) => {
                let sub = &mut self.family.subs[s.index()];
                sub.consumer = Some(cid);
                sub.closed = false;
                let stored = sub.store.pending.len() as u64;
                self.world.emit(EventKind::Jms(JmsEvent::JmsSubscription {
                    sub: s,
                    state: JmsSubscriptionState::Online { stored },
                }));
            }
        }
        if pull {
            self.send_frame(cid, Frame::Pull);
        }
        self.dispatch(source);
    }

    /// Puts a consumer at the end of its priority in the queue's dispatch order.
    fn insert_by_priority(&mut self, q: JmsQueueId, cid: ConsumerId) {
        let consumers = &self.clients.consumers;
        let prio = |c: &ConsumerId| consumers[c.index()].spec.priority;
        let list = &mut self.family.queues[q.index()].consumers;
        list.retain(|c| *c != cid);
        let at = list
            .iter()
            .position(|c| prio(c) < prio(&cid))
            .unwrap_or(list.len());
        list.insert(at, cid);
    }

    fn set_exclusive(&mut self, q: JmsQueueId, consumer: Option<ConsumerId>) {
        self.family.queues[q.index()].exclusive = consumer;
        self.world.emit(EventKind::Jms(JmsEvent::JmsExclusive {
            queue: q,
            consumer,
        }));
    }

    /// The consumer's connection ends. Frames it sent arrive first; then what it was
    /// dispatched and did not acknowledge goes back. A clean close (`remove_consumer`) tells
    /// the broker the last message the application saw, so only those count as redelivered; a
    /// dropped connection does not, so all of them do (`Queue.removeSubscription`,
    /// `RemoveInfo.LAST_DELIVERED_UNKNOWN`; AMQ-5). A durable subscription keeps its persistent
    /// messages; a non-durable one ends (AMQ-2).
    pub(crate) fn close_consumer(&mut self, cid: ConsumerId, status: ConsumerStatus, why: Closure) {
        self.family.reconnect.remove(&cid);
        let Some(source) = self.family.sessions.get(&cid).map(|s| s.source) else {
            return;
        };
        let was_running = self.clients.consumers[cid.index()].status == ConsumerStatus::Running;
        // Out of the dispatch order first, so the frames applied below dispatch elsewhere.
        match source {
            JmsStore::Queue(q) => self.family.queues[q.index()]
                .consumers
                .retain(|c| *c != cid),
            JmsStore::Sub(s) => self.family.subs[s.index()].consumer = None,
        }
        let frames = std::mem::take(&mut self.session(cid).frames);
        for frame in frames.into_values() {
            self.apply_frame(cid, frame);
        }
        // `close()` sends the pending DUPS_OK batch ack (`dispose`, `deliverAcks`); a dropped
        // connection loses it, and those messages come again (AMQ-4).
        if let Some((first, last)) = self.session(cid).batch.take() {
            if status == ConsumerStatus::Removed {
                self.apply_frame(cid, Frame::AckRange { first, last });
            }
        }
        let consumer = &self.clients.consumers[cid.index()];
        let unseen: BTreeSet<u64> = consumer.buffer.iter().map(|(tag, _)| *tag).collect();
        let clean = status == ConsumerStatus::Removed;
        let (lost, unacked) = self.end_connection(cid, status);
        let mut requeued = 0;
        let mut dropped = 0;
        let durable = match source {
            JmsStore::Sub(s) => self.family.subs[s.index()].durable.is_some(),
            JmsStore::Queue(_) => false,
        };
        for (tag, slot) in unacked.iter() {
            let broker = self.session(cid).broker_counts.get(&tag).copied();
            let c = self.world.copies.get_mut(slot);
            let seen = !unseen.contains(&tag);
            c.delivery_count = broker.unwrap_or(c.delivery_count) + u32::from(!clean || seen);
            c.redelivered = c.delivery_count > 0;
            let persistent = c.persistent;
            self.family.store_mut(source).in_flight -= 1;
            // A queue keeps everything; a durable subscription its persistent messages, which
            // it recovers from the store (`DurableTopicSubscription.deactivate`).
            let keeps = matches!(source, JmsStore::Queue(_)) || (durable && persistent);
            if keeps {
                self.put_back(source, slot);
                requeued += 1;
            } else {
                self.world.drop_copy(slot, DropReason::LostInConsumerCrash);
                dropped += 1;
            }
        }
        self.session(cid).reset();
        match source {
            JmsStore::Queue(q) => {
                let queue = &mut self.family.queues[q.index()];
                queue.groups.remove_consumer(cid);
                if queue.exclusive == Some(cid) {
                    // The next exclusive consumer: the highest priority, the earliest first.
                    let consumers = &self.clients.consumers;
                    let sessions = &self.family.sessions;
                    let next = queue
                        .consumers
                        .iter()
                        .filter(|c| sessions[c].settings.exclusive)
                        .fold(None::<ConsumerId>, |best, c| match best {
                            Some(b)
                                if consumers[c.index()].spec.priority
                                    <= consumers[b.index()].spec.priority =>
                            {
                                Some(b)
                            }
                            _ => Some(*c),
                        });
                    self.set_exclusive(q, next);
                }
            }
            JmsStore::Sub(s) if was_running => {
                if durable {
                    self.world.emit(EventKind::Jms(JmsEvent::JmsSubscription {
                        sub: s,
                        state: JmsSubscriptionState::Offline,
                    }));
                } else {
                    let before = self.world.ledger.dropped_total();
                    self.close_sub(s, DropReason::LostInConsumerCrash);
                    dropped += (self.world.ledger.dropped_total() - before) as u32;
                }
            }
            JmsStore::Sub(_) => {}
        }
        if why == Closure::Crash {
            self.crashed(cid, requeued, lost + dropped);
        }
        self.dispatch(source);
    }

    fn session(&mut self, cid: ConsumerId) -> &mut Session {
        self.family
            .sessions
            .get_mut(&cid)
            .expect("a JMS consumer has a session")
    }

    // ------------------------------------------------------------------ arrival and storage

    /// `JMSExpiration` from the producer's time-to-live; 0 means never, as in JMS.
    fn stamp_expiration(&mut self, slot: Slot) {
        let c = self.world.copies.get_mut(slot);
        c.expires_at = if c.ttl == u64::MAX || c.ttl == 0 {
            SimTime::MAX
        } else {
            c.published_at.plus(c.ttl)
        };
    }

    /// `Message.isExpired`: strictly past its expiration.
    fn is_expired(&self, slot: Slot) -> bool {
        let at = self.world.copies.get(slot).expires_at;
        at != SimTime::MAX && self.world.now > at
    }

    pub(crate) fn arrive_at_queue(&mut self, slot: Slot, q: JmsQueueId) {
        self.wire.arrived(self.world.now, slot);
        if self.family.down_until.is_some() {
            self.world.drop_copy(slot, DropReason::BrokerDown);
            return;
        }
        self.stamp_expiration(slot);
        let c = self.world.copies.get(slot);
        let (msg, persistent) = (c.msg, c.persistent);
        self.world.emit(EventKind::Jms(JmsEvent::JmsSend {
            msg,
            queue: q,
            persistent,
        }));
        self.enqueue(JmsStore::Queue(q), slot);
        self.dispatch(JmsStore::Queue(q));
    }

    /// A copy for every subscription that takes it now; none means the message is gone
    /// (AMQ-1, AMQ-2).
    pub(crate) fn arrive_at_topic(&mut self, slot: Slot, t: JmsTopicId) {
        self.wire.arrived(self.world.now, slot);
        if self.family.down_until.is_some() {
            self.world.drop_copy(slot, DropReason::BrokerDown);
            return;
        }
        self.stamp_expiration(slot);
        let c = self.world.copies.get(slot);
        let (msg, persistent) = (c.msg, c.persistent);
        let subs = &self.family.subs;
        let receivers: Vec<JmsSubId> = (self.family.topics[t.index()].subs.iter())
            .copied()
            .filter(|s| subs[s.index()].takes(persistent))
            .collect();
        self.family.topics[t.index()].enqueued += 1;
        self.world.emit(EventKind::Jms(JmsEvent::JmsTopicPublish {
            msg,
            topic: t,
            subscriptions: receivers.len() as u32,
        }));
        if receivers.is_empty() {
            self.world.drop_copy(slot, DropReason::NoSubscriber);
            return;
        }
        let template = self.world.copies.get(slot).clone();
        for (n, s) in receivers.iter().enumerate() {
            let copy = if n == 0 {
                slot
            } else {
                self.world.ledger.fanout_copies += 1;
                match self.world.new_copy_within_capacity(template.clone()) {
                    Some(c) => c,
                    None => continue,
                }
            };
            if self.family.subs[s.index()].consumer.is_none() {
                self.world
                    .emit(EventKind::Jms(JmsEvent::JmsStored { msg, sub: *s }));
            }
            self.enqueue(JmsStore::Sub(*s), copy);
        }
        for s in receivers {
            self.dispatch(JmsStore::Sub(s));
        }
    }

    /// Stores a copy at the tail; one already expired is expired instead (AMQ-7).
    fn enqueue(&mut self, store: JmsStore, slot: Slot) {
        if self.is_expired(slot) {
            self.expire(slot, store);
            return;
        }
        let seq = self.family.next_seq;
        self.family.next_seq += 1;
        self.world.copies.get_mut(slot).queue_seq = seq;
        let s = self.family.store_mut(store);
        s.pending.insert(seq, slot);
        s.enqueued += 1;
        self.world.set_state(slot, CopyState::JmsPending(store));
        if self.world.copies.get(slot).expires_at != SimTime::MAX {
            self.ensure_sweep();
        }
    }

    /// A copy taken back from a consumer returns to its place in the store (AMQ-5).
    fn put_back(&mut self, store: JmsStore, slot: Slot) {
        let seq = self.world.copies.get(slot).queue_seq;
        self.family.store_mut(store).pending.insert(seq, slot);
        self.world.set_state(slot, CopyState::JmsPending(store));
        if self.world.copies.get(slot).expires_at != SimTime::MAX {
            self.ensure_sweep();
        }
    }

    // ------------------------------------------------------------------ dispatch

    /// Pushes pending copies to consumers with room in their prefetch (AMQ-1, AMQ-8).
    fn dispatch(&mut self, store: JmsStore) {
        if self.family.down_until.is_some() {
            return;
        }
        match store {
            JmsStore::Queue(q) => self.dispatch_queue(q),
            JmsStore::Sub(s) => self.dispatch_sub(s),
        }
    }

    fn is_full(&self, cid: ConsumerId) -> bool {
        let dispatched = self.clients.consumers[cid.index()].unacked.len();
        self.family.sessions[&cid].is_full(dispatched)
    }

    /// `Queue.doActualDispatch`: each pending message, in order, goes to the first consumer in
    /// dispatch order that has room, may take it (the exclusive consumer, the group's owner)
    /// and then moves to the back of its priority (AMQ-1, AMQ-10, AMQ-11). A message nobody
    /// may take now waits and the next one is tried.
    fn dispatch_queue(&mut self, q: JmsQueueId) {
        let store = JmsStore::Queue(q);
        let mut full = BTreeSet::new();
        let mut cursor = 0;
        loop {
            let queue = &self.family.queues[q.index()];
            let eligible: Vec<ConsumerId> = match queue.exclusive {
                Some(e) => vec![e],
                None => queue.consumers.clone(),
            };
            if eligible.is_empty() {
                return;
            }
            let Some((&seq, &slot)) = queue.store.pending.range(cursor..).next() else {
                return;
            };
            cursor = seq + 1;
            if self.is_expired(slot) {
                self.family.queues[q.index()].store.pending.remove(&seq);
                self.expire(slot, store);
                continue;
            }
            let mut target = None;
            for &c in &eligible {
                if full.contains(&c) {
                    continue;
                }
                if self.is_full(c) {
                    full.insert(c);
                    continue;
                }
                if let Some(first) = self.assign_group(q, c, slot) {
                    target = Some((c, first));
                    break;
                }
            }
            let Some((c, first)) = target else {
                if full.len() == eligible.len() {
                    return;
                }
                continue;
            };
            self.family.queues[q.index()].store.pending.remove(&seq);
            self.deliver(store, c, slot, first);
            let queue = &self.family.queues[q.index()];
            if queue.exclusive.is_none() && queue.consumers.len() > 1 {
                self.insert_by_priority(q, c);
            }
        }
    }

    /// Whether `c` may take the message as far as its group goes (`Queue.assignMessageGroup`):
    /// `None` when another consumer owns the group, `Some(first)` otherwise, where `first`
    /// says `c` just became the owner (`JMSXGroupFirstForConsumer`). `JMSXGroupSeq` 1 always
    /// reassigns; a negative one closes the group (AMQ-10).
    fn assign_group(&mut self, q: JmsQueueId, c: ConsumerId, slot: Slot) -> Option<bool> {
        let headers = self.world.copies.get(slot).headers;
        let Some((group, seq)) = group_of(self.world.header_sets.get(headers)) else {
            return Some(false);
        };
        let groups = &mut self.family.queues[q.index()].groups;
        match (seq, groups.get(&group)) {
            (1, _) | (_, None) => {
                groups.put(&group, c);
                self.world.emit(EventKind::Jms(JmsEvent::JmsGroup {
                    queue: q,
                    group,
                    consumer: c,
                }));
                Some(true)
            }
            (_, Some(owner)) if owner == c => {
                if seq < 0 {
                    groups.remove(&group);
                }
                Some(false)
            }
            _ => None,
        }
    }

    fn dispatch_sub(&mut self, s: JmsSubId) {
        let store = JmsStore::Sub(s);
        let Some(c) = self.family.subs[s.index()].consumer else {
            return;
        };
        while !self.is_full(c) {
            let Some((_, slot)) = self.family.subs[s.index()].store.pending.pop_first() else {
                return;
            };
            if self.is_expired(slot) {
                self.expire(slot, store);
                continue;
            }
            self.deliver(store, c, slot, false);
        }
    }

    fn deliver(&mut self, store: JmsStore, cid: ConsumerId, slot: Slot, group_first: bool) {
        let c = self.world.copies.get(slot);
        let (msg, count, redelivered) = (c.msg, c.delivery_count, c.redelivered);
        let consumer = &mut self.clients.consumers[cid.index()];
        let tag = consumer.next_tag;
        consumer.next_tag += 1;
        consumer.unacked.insert(tag, slot);
        consumer.delivered += 1;
        if redelivered {
            consumer.redelivered += 1;
        }
        consumer.log_delivery(msg, redelivered);
        let epoch = consumer.epoch;
        self.world
            .set_state(slot, CopyState::JmsDispatched(store, cid));
        let session = self.session(cid);
        session.broker_counts.insert(tag, count);
        if session.settings.prefetch == 0 {
            session.extension = session.extension.saturating_sub(1);
        }
        let s = self.family.store_mut(store);
        s.in_flight += 1;
        s.dispatched += 1;
        self.world.emit(EventKind::Jms(JmsEvent::JmsDispatch {
            msg,
            from: store,
            consumer: cid,
            delivery_count: count + 1,
            group_first,
        }));
        self.send_to_consumer(node_of(store), cid, slot, tag, epoch);
    }

    // ------------------------------------------------------------------ the client library

    /// Starts the next buffered message, as the session hands it to the application. First
    /// the client drops an expired one with an expired ack (`consumeExpiredMessage`, AMQ-7),
    /// and a transacted session poison-acks one already past its redelivery limit
    /// (`redeliveryExceeded`, AMQ-6); neither reaches the application.
    pub(crate) fn begin_next(&mut self, cid: ConsumerId) {
        loop {
            let consumer = &self.clients.consumers[cid.index()];
            if consumer.current.is_some()
                || consumer.paused
                || consumer.status != ConsumerStatus::Running
            {
                return;
            }
            let Some(&(tag, slot)) = consumer.buffer.front() else {
                break;
            };
            let settings = &self.family.sessions[&cid].settings;
            let count = self.world.copies.get(slot).delivery_count;
            let frame = if self.is_expired(slot) {
                Frame::Expired { tag }
            } else if settings.transacted() && settings.exceeded(count) {
                Frame::Poison { tags: vec![tag] }
            } else {
                break;
            };
            let size = self.world.copies.get(slot).size;
            let consumer = &mut self.clients.consumers[cid.index()];
            consumer.buffer.pop_front();
            consumer.buffer_bytes -= u64::from(size);
            self.send_frame(cid, frame);
        }
        self.start_next(cid);
        if let Some((tag, _)) = self.clients.consumers[cid.index()].current {
            self.before_consumed(cid, tag);
        }
    }

    /// `beforeMessageIsConsumed`, and for `receive()` also `afterMessageIsConsumed`, which
    /// acks AUTO at once, before the application processes the message (AMQ-4).
    fn before_consumed(&mut self, cid: ConsumerId, tag: u64) {
        let session = self.session(cid);
        let (transacted, receive) = (
            session.settings.transacted(),
            session.settings.api == JmsApi::Receive,
        );
        if !session.settings.batch {
            session.delivered.push(tag);
        }
        if transacted {
            self.ack_later(cid);
        }
        if receive {
            self.after_consumed(cid, tag);
        }
    }

    /// `afterMessageIsConsumed`: AUTO acks all delivered; DUPS_OK on a topic acks in batches
    /// of half the prefetch; CLIENT and INDIVIDUAL widen the window with a delivered ack
    /// (AMQ-4, AMQ-8).
    fn after_consumed(&mut self, cid: ConsumerId, tag: u64) {
        let session = self.session(cid);
        let settings = &session.settings;
        if settings.acks_each() {
            let tags = std::mem::take(&mut session.delivered);
            if !tags.is_empty() {
                self.send_frame(
                    cid,
                    Frame::Ack {
                        kind: JmsAckKind::Standard,
                        tags,
                    },
                );
            }
        } else if settings.batch {
            let prefetch = i64::from(settings.prefetch);
            session.delivered_counter += 1;
            let (first, _) = session.batch.unwrap_or((tag, tag));
            session.batch = Some((first, tag));
            if 2 * session.delivered_counter >= prefetch {
                session.delivered_counter = 0;
                session.batch = None;
                self.send_frame(cid, Frame::AckRange { first, last: tag });
            }
        } else if !settings.transacted() && session.delivered.contains(&tag) {
            self.ack_later(cid);
        }
    }

    /// `ackLater` with a delivered ack: once half the prefetch was consumed unacknowledged,
    /// the broker is told, which lets it dispatch more (AMQ-8).
    fn ack_later(&mut self, cid: ConsumerId) {
        let session = self.session(cid);
        session.delivered_counter += 1;
        if 2 * session.delivered_counter >= i64::from(session.settings.prefetch) {
            let count = session.delivered_counter as u64;
            session.delivered_counter = 0;
            self.send_frame(cid, Frame::Delivered { count });
        }
    }

    /// `acknowledge()` (CLIENT) or `commit()` (transacted): acks everything the session was
    /// handed so far (AMQ-4).
    fn acknowledge_all(&mut self, cid: ConsumerId, kind: JmsAckKind) {
        let session = self.session(cid);
        session.handled = 0;
        let tags = std::mem::take(&mut session.delivered);
        if tags.is_empty() {
            return;
        }
        session.delivered_counter = (session.delivered_counter - tags.len() as i64).max(0);
        self.send_frame(cid, Frame::Ack { kind, tags });
    }

    /// The application finished a message: the acknowledge mode decides what the session
    /// does, and a failure rolls back only where the client library does (AMQ-4, AMQ-5).
    pub(crate) fn processed(&mut self, cid: ConsumerId, tag: u64, failed: bool) {
        let settings = self.family.sessions[&cid].settings.clone();
        let listener = settings.api == JmsApi::Listener;
        match settings.ack_mode {
            JmsAckMode::Auto | JmsAckMode::DupsOk if !listener => {}
            JmsAckMode::Auto | JmsAckMode::DupsOk | JmsAckMode::Individual => {
                if failed && listener {
                    self.rollback(cid);
                } else if !failed {
                    if settings.ack_mode == JmsAckMode::Individual {
                        self.session(cid).delivered.retain(|t| *t != tag);
                        let tags = vec![tag];
                        let kind = JmsAckKind::Individual;
                        self.send_frame(cid, Frame::Ack { kind, tags });
                    }
                    if listener {
                        self.after_consumed(cid, tag);
                    }
                }
            }
            JmsAckMode::Client => {
                if failed && settings.on_failure == JmsOnFailure::Recover {
                    self.rollback(cid);
                } else {
                    let session = self.session(cid);
                    session.handled += 1;
                    if !failed && session.handled >= settings.ack_every {
                        self.acknowledge_all(cid, JmsAckKind::Standard);
                    }
                    if listener {
                        self.after_consumed(cid, tag);
                    }
                }
            }
            JmsAckMode::Transacted => {
                let session = self.session(cid);
                session.handled += 1;
                if failed && settings.on_failure == JmsOnFailure::Rollback {
                    self.rollback(cid);
                } else if session.handled >= settings.commit_every {
                    self.acknowledge_all(cid, JmsAckKind::Commit);
                }
            }
        }
        self.ready_for_next(cid);
    }

    /// The application is ready for its next message: `receive()` with prefetch 0 asks the
    /// broker for one when nothing is buffered (`sendPullCommand`), and the session hands over
    /// the next buffered message.
    pub(crate) fn ready_for_next(&mut self, cid: ConsumerId) {
        let pull = self.family.sessions[&cid].settings.prefetch == 0;
        if pull && self.clients.consumers[cid.index()].buffer.is_empty() {
            self.send_frame(cid, Frame::Pull);
        }
        self.begin_next(cid);
    }

    /// The session rolls back what it was handed and not acknowledged. Classic redelivers it
    /// itself, to the same consumer, after the policy's delay, holding every other message
    /// back meanwhile; past `maximumRedeliveries` it sends a poison ack instead
    /// (`ActiveMQMessageConsumer.rollback`; AMQ-5, AMQ-6). Artemis hands it back to the broker
    /// (AMQ-9).
    fn rollback(&mut self, cid: ConsumerId) {
        let session = self.session(cid);
        session.handled = 0;
        let delivered = std::mem::take(&mut session.delivered);
        session.delivered_counter -= delivered.len() as i64;
        let unacked = &self.clients.consumers[cid.index()].unacked;
        let parked: Vec<(u64, Slot)> = (delivered.iter())
            .filter_map(|t| Some((*t, unacked.get(*t)?)))
            .collect();
        let Some(&(_, newest)) = parked.last() else {
            return;
        };
        let tags: Vec<u64> = parked.iter().map(|(t, _)| *t).collect();
        if self.family.settings.broker == JmsBroker::Artemis {
            self.send_frame(cid, Frame::Cancel { tags });
            return;
        }
        let mut msgs = Vec::with_capacity(parked.len());
        for &(_, slot) in &parked {
            self.world.note_cycle(slot);
            let c = self.world.copies.get_mut(slot);
            c.delivery_count += 1;
            c.redelivered = true;
            msgs.push(c.msg);
        }
        let settings = &self.family.sessions[&cid].settings;
        let counter = self.world.copies.get(newest).delivery_count;
        if settings.exceeded(counter) {
            self.send_frame(cid, Frame::Poison { tags });
            return;
        }
        let delay_ms = settings.redelivery_delay_ms(counter);
        self.world.emit(EventKind::Jms(JmsEvent::JmsRollback {
            consumer: cid,
            msgs,
            delay_ms,
        }));
        self.session(cid).parked = parked;
        let consumer = &mut self.clients.consumers[cid.index()];
        consumer.paused = true;
        let epoch = consumer.epoch;
        if delay_ms == 0 {
            self.redeliver(cid);
        } else {
            let at = self.world.now.plus(ms_to_us(delay_ms as f64));
            self.world.schedule(
                at,
                JmsWork::Redeliver {
                    consumer: cid,
                    epoch,
                },
            );
        }
    }

    /// The redelivery delay is over: the rolled-back messages go first (AMQ-5).
    fn redeliver(&mut self, cid: ConsumerId) {
        let parked = std::mem::take(&mut self.session(cid).parked);
        for &(tag, slot) in parked.iter().rev() {
            let size = self.world.copies.get(slot).size;
            let consumer = &mut self.clients.consumers[cid.index()];
            consumer.buffer.push_front((tag, slot));
            consumer.buffer_bytes += u64::from(size);
        }
        for &(_, slot) in &parked {
            let c = self.world.copies.get(slot);
            let (msg, count) = (c.msg, c.delivery_count);
            let consumer = &mut self.clients.consumers[cid.index()];
            consumer.delivered += 1;
            consumer.redelivered += 1;
            consumer.log_delivery(msg, true);
            self.world.emit(EventKind::Jms(JmsEvent::JmsRedeliver {
                msg,
                consumer: cid,
                delivery_count: count + 1,
            }));
        }
        self.clients.consumers[cid.index()].paused = false;
        self.begin_next(cid);
    }

    // ------------------------------------------------------------------ frames at the broker

    /// Sends a frame from the client; it arrives one latency later.
    fn send_frame(&mut self, cid: ConsumerId, frame: Frame) {
        let session = self.session(cid);
        let id = session.next_frame;
        session.next_frame += 1;
        session.frames.insert(id, frame);
        let at = self.world.now.plus(self.world.latency);
        self.world.schedule(
            at,
            JmsWork::FrameArrives {
                consumer: cid,
                frame: id,
            },
        );
    }

    /// The broker applies a frame (`PrefetchSubscription.acknowledge`).
    fn apply_frame(&mut self, cid: ConsumerId, frame: Frame) {
        let source = self.family.sessions[&cid].source;
        let prefetch = self.family.sessions[&cid].settings.prefetch;
        let event = |ack, msgs, delivered| {
            EventKind::Jms(JmsEvent::JmsAck {
                consumer: cid,
                ack,
                msgs,
                delivered,
            })
        };
        match frame {
            Frame::Ack { kind, tags } => {
                let msgs = self.remove_acked(cid, source, &tags);
                self.world.emit(event(kind, msgs, 0));
            }
            Frame::AckRange { first, last } => {
                let unacked = &self.clients.consumers[cid.index()].unacked;
                let tags: Vec<u64> = unacked.tags_in(first, last).collect();
                let msgs = self.remove_acked(cid, source, &tags);
                self.world.emit(event(JmsAckKind::Standard, msgs, 0));
            }
            Frame::Delivered { count } => {
                if prefetch != 0 {
                    self.session(cid).extension += count;
                }
                self.world
                    .emit(event(JmsAckKind::Delivered, Vec::new(), count));
            }
            Frame::Pull => {
                self.session(cid).extension = 1;
                self.world.emit(event(JmsAckKind::Pull, Vec::new(), 0));
            }
            Frame::Poison { tags } => {
                let taken = self.take_dispatched(cid, source, &tags);
                let msgs = taken.iter().map(|(_, m)| *m).collect();
                self.world.emit(event(JmsAckKind::Poison, msgs, 0));
                let session = self.session(cid);
                session.extension = session.extension.saturating_sub(1);
                let non_durable = self.family.is_non_durable(source);
                for (slot, _) in taken {
                    self.family.store_mut(source).dequeued += 1;
                    if non_durable {
                        self.world.drop_copy(slot, DropReason::PoisonAckDiscarded);
                    } else {
                        self.dead_letter(slot, source, DeadLetterReason::PoisonAck);
                    }
                }
            }
            Frame::Cancel { tags } => self.cancel(cid, source, &tags),
            Frame::Expired { tag } => {
                let taken = self.take_dispatched(cid, source, &[tag]);
                let msgs = taken.iter().map(|(_, m)| *m).collect();
                self.world.emit(event(JmsAckKind::Expired, msgs, 0));
                let session = self.session(cid);
                session.extension = session.extension.saturating_sub(1);
                let non_durable = self.family.is_non_durable(source);
                for (slot, msg) in taken {
                    self.family.store_mut(source).dequeued += 1;
                    if non_durable {
                        // A non-durable subscription only counts it (`TopicSubscription`).
                        self.family.store_mut(source).expired += 1;
                        self.world.set_state(slot, CopyState::Expired);
                        let from = source;
                        self.world
                            .emit(EventKind::Jms(JmsEvent::JmsExpired { msg, from }));
                    } else {
                        self.expire(slot, source);
                    }
                }
            }
        }
        self.dispatch(source);
    }

    /// Takes dispatched copies back from a consumer by tag; tags already gone are skipped.
    fn take_dispatched(
        &mut self,
        cid: ConsumerId,
        source: JmsStore,
        tags: &[u64],
    ) -> Vec<(Slot, MessageId)> {
        let mut taken = Vec::new();
        for tag in tags {
            let Some(slot) = self.clients.consumers[cid.index()].unacked.remove(*tag) else {
                continue;
            };
            self.session(cid).broker_counts.remove(tag);
            self.family.store_mut(source).in_flight -= 1;
            taken.push((slot, self.world.copies.get(slot).msg));
        }
        taken
    }

    /// Standard, individual and commit acks remove the copies. One the application is still
    /// processing (acked when `receive()` returned) stays with the consumer alone (AMQ-4).
    fn remove_acked(&mut self, cid: ConsumerId, source: JmsStore, tags: &[u64]) -> Vec<MessageId> {
        let taken = self.take_dispatched(cid, source, tags);
        let mut msgs = Vec::with_capacity(taken.len());
        for (slot, msg) in taken {
            msgs.push(msg);
            let session = self.session(cid);
            session.extension = session.extension.saturating_sub(1);
            self.family.store_mut(source).dequeued += 1;
            let consumer = &mut self.clients.consumers[cid.index()];
            if consumer.current.is_some_and(|(_, s)| s == slot) {
                consumer.held.insert(slot);
                self.world.set_state(slot, CopyState::Processing(cid));
            } else {
                consumer.acked += 1;
                let published_at = self.world.copies.get(slot).published_at;
                self.world.complete(published_at);
                self.world.set_state(slot, CopyState::Acked);
            }
        }
        msgs
    }

    // ------------------------------------------------------------------ dead letters, expiry

    /// The dead-letter queue for a copy from `from` (AMQ-7).
    fn dead_letter_queue(&mut self, from: JmsStore) -> JmsQueueId {
        let name = match (&self.family.settings.dead_letter_strategy, from) {
            (DeadLetterStrategy::Shared { queue }, _) => queue.clone(),
            (DeadLetterStrategy::Individual { queue_prefix, .. }, JmsStore::Queue(q)) => {
                format!("{queue_prefix}{}", self.family.queues[q.index()].name)
            }
            (DeadLetterStrategy::Individual { topic_prefix, .. }, JmsStore::Sub(s)) => {
                let t = self.family.subs[s.index()].topic;
                format!("{topic_prefix}{}", self.family.topics[t.index()].name)
            }
        };
        self.queue_or_create(&name)
    }

    /// Moves a copy to its dead-letter queue as a new persistent copy that never expires. A
    /// non-persistent one is discarded unless `processNonPersistent`; one from the
    /// dead-letter queue itself is not re-added (`RegionBroker.sendToDeadLetterQueue`; AMQ-7).
    fn dead_letter(&mut self, slot: Slot, from: JmsStore, reason: DeadLetterReason) {
        let settings = &self.family.settings;
        let dlq = match settings.broker {
            JmsBroker::Classic => {
                if !self.world.copies.get(slot).persistent && !settings.process_non_persistent {
                    self.world
                        .drop_copy(slot, DropReason::NonPersistentDeadLetter);
                    return;
                }
                self.dead_letter_queue(from)
            }
            // Artemis moves what it gives up on to an address whatever its durability: the
            // dead-letter address after the last attempt, the expiry address when expired.
            JmsBroker::Artemis => {
                let a = settings.artemis.clone().unwrap_or_default();
                let address = match reason {
                    DeadLetterReason::Expired => a.expiry_address,
                    _ => a.dead_letter_address,
                };
                match (address, reason) {
                    (Some(name), _) => self.queue_or_create(&name),
                    (None, DeadLetterReason::Expired) => {
                        let msg = self.world.copies.get(slot).msg;
                        self.world.set_state(slot, CopyState::Expired);
                        self.world
                            .emit(EventKind::Jms(JmsEvent::JmsExpired { msg, from }));
                        return;
                    }
                    (None, _) => {
                        self.world.drop_copy(slot, DropReason::DeliveryLimit);
                        return;
                    }
                }
            }
        };
        if from == JmsStore::Queue(dlq) {
            self.world.drop_copy(slot, DropReason::DeadLetterUnroutable);
            return;
        }
        let mut copy = self.world.copies.get(slot).clone();
        let msg = copy.msg;
        self.world.set_state(slot, CopyState::DeadLettered(reason));
        self.world.emit(EventKind::Jms(JmsEvent::JmsDeadLetter {
            msg,
            from,
            to: dlq,
            reason,
        }));
        self.world.ledger.dead_letter_copies += 1;
        copy.state = CopyState::InFlight;
        copy.producer = None;
        copy.persistent = true;
        copy.ttl = u64::MAX;
        copy.expires_at = SimTime::MAX;
        copy.delivery_count = 0;
        copy.redelivered = false;
        if let Some(new) = self.world.new_copy_within_capacity(copy) {
            self.enqueue(JmsStore::Queue(dlq), new);
            self.dispatch(JmsStore::Queue(dlq));
        }
    }

    /// A copy past its expiration: a persistent one goes to the dead-letter queue, unless
    /// `processExpired` is off; a non-persistent one is discarded (AMQ-7).
    fn expire(&mut self, slot: Slot, from: JmsStore) {
        self.family.store_mut(from).expired += 1;
        let c = self.world.copies.get(slot);
        let settings = &self.family.settings;
        let artemis = settings.broker == JmsBroker::Artemis;
        if artemis
            || (settings.process_expired && (c.persistent || settings.process_non_persistent))
        {
            self.dead_letter(slot, from, DeadLetterReason::Expired);
        } else {
            let msg = c.msg;
            self.world.set_state(slot, CopyState::Expired);
            self.world
                .emit(EventKind::Jms(JmsEvent::JmsExpired { msg, from }));
        }
    }

    /// Schedules the next expiry sweep at the next multiple of `expireMessagesPeriod`.
    fn ensure_sweep(&mut self) {
        if self.family.sweep_at.is_some() {
            return;
        }
        let period = ms_to_us(self.family.settings.expire_messages_period_ms).max(1);
        let at = SimTime((self.world.now.0 / period + 1).saturating_mul(period));
        self.family.sweep_at = Some(at);
        self.world.schedule(at, JmsWork::ExpirySweep);
    }

    /// The periodic check expires stored messages that nobody dispatched (AMQ-7); a stopped
    /// broker checks nothing.
    fn sweep(&mut self) {
        self.family.sweep_at = None;
        if self.family.down_until.is_some() {
            self.ensure_sweep();
            return;
        }
        let stores: Vec<JmsStore> = self.family.stores().map(|(s, _)| s).collect();
        let mut expiring = false;
        for store in stores {
            let pending = &self.family.store(store).pending;
            let due: Vec<(u64, Slot)> = pending
                .iter()
                .filter(|(_, slot)| self.is_expired(**slot))
                .map(|(seq, slot)| (*seq, *slot))
                .collect();
            for (seq, slot) in due {
                self.family.store_mut(store).pending.remove(&seq);
                self.expire(slot, store);
            }
            expiring |= (self.family.store(store).pending.values())
                .any(|s| self.world.copies.get(*s).expires_at != SimTime::MAX);
        }
        if expiring {
            self.ensure_sweep();
        }
    }

    // ------------------------------------------------------------------ Artemis (AMQ-9)

    /// Artemis: a rolled-back delivery goes back to the broker, which counts it; at
    /// `max-delivery-attempts` deliveries it goes to the dead-letter address (or is removed
    /// without one), otherwise it is dispatchable again after the redelivery delay, to any
    /// consumer, while other messages carry on (AMQ-9).
    fn cancel(&mut self, cid: ConsumerId, source: JmsStore, tags: &[u64]) {
        let artemis = self.family.settings.artemis.clone().unwrap_or_default();
        let taken = self.take_dispatched(cid, source, tags);
        for (slot, _) in taken {
            self.world.note_cycle(slot);
            let c = self.world.copies.get_mut(slot);
            c.delivery_count += 1;
            c.redelivered = true;
            let (count, seq) = (c.delivery_count, c.queue_seq);
            if count >= artemis.max_delivery_attempts {
                self.family.store_mut(source).dequeued += 1;
                self.dead_letter(slot, source, DeadLetterReason::DeliveryLimit);
                continue;
            }
            let delay = artemis_delay_ms(&artemis, count);
            if delay == 0 {
                self.put_back(source, slot);
            } else {
                self.world.set_state(slot, CopyState::JmsPending(source));
                self.family.store_mut(source).delayed.insert(seq, slot);
                let at = self.world.now.plus(ms_to_us(delay as f64));
                self.world
                    .schedule(at, JmsWork::DelayOver { store: source, seq });
            }
        }
    }

    // ------------------------------------------------------------------ broker restart (AMQ-3)

    /// The broker stops: every connection drops, non-persistent messages are gone, the
    /// statistics start again, and the failover transport reconnects the clients when it is
    /// back. The redelivery counter is not persisted (`persistJMSRedelivered` is off).
    pub(crate) fn restart_broker(&mut self, downtime_ms: f64) {
        // Down first, so nothing is dispatched to connections about to drop.
        let up = self.world.now.plus(ms_to_us(downtime_ms));
        self.family.down_until = Some(up);
        let connected: Vec<ConsumerId> = (self.family.sessions.keys())
            .copied()
            .filter(|c| self.clients.consumers[c.index()].status == ConsumerStatus::Running)
            .collect();
        for &cid in &connected {
            self.close_consumer(cid, ConsumerStatus::Crashed, Closure::Crash);
        }
        self.family.reconnect.extend(connected);
        let stores: Vec<JmsStore> = self.family.stores().map(|(s, _)| s).collect();
        let mut lost = 0;
        for store in stores {
            let s = self.family.store_mut(store);
            let delayed = std::mem::take(&mut s.delayed);
            s.pending.extend(delayed);
            let pending = std::mem::take(&mut s.pending);
            let mut kept = BTreeMap::new();
            for (seq, slot) in pending {
                let c = self.world.copies.get_mut(slot);
                if c.persistent {
                    c.delivery_count = 0;
                    c.redelivered = false;
                    kept.insert(seq, slot);
                } else {
                    self.world.drop_copy(slot, DropReason::LostInBrokerRestart);
                    lost += 1;
                }
            }
            let s = self.family.store_mut(store);
            *s = Store {
                pending: kept,
                ..Store::default()
            };
        }
        for t in &mut self.family.topics {
            t.enqueued = 0;
        }
        self.world.emit(EventKind::Jms(JmsEvent::JmsBrokerRestart {
            lost,
            downtime_ms: downtime_ms.round() as u64,
        }));
        self.world.schedule(up, JmsWork::BrokerUp);
    }

    fn broker_up(&mut self) {
        self.family.down_until = None;
        self.world.emit(EventKind::Jms(JmsEvent::JmsBrokerUp));
        for cid in std::mem::take(&mut self.family.reconnect) {
            if self.clients.consumers[cid.index()].status == ConsumerStatus::Crashed {
                self.consume(cid);
                self.world
                    .emit(EventKind::ConsumerRestarted { consumer: cid });
            }
        }
        let stores: Vec<JmsStore> = self.family.stores().map(|(s, _)| s).collect();
        for store in stores {
            self.dispatch(store);
        }
    }

    // ------------------------------------------------------------------ work

    pub(crate) fn run_jms(&mut self, work: JmsWork) {
        match work {
            JmsWork::ArriveAtQueue { slot, queue } => self.arrive_at_queue(slot, queue),
            JmsWork::ArriveAtTopic { slot, topic } => self.arrive_at_topic(slot, topic),
            JmsWork::FrameArrives { consumer, frame } => {
                let frame = self
                    .family
                    .sessions
                    .get_mut(&consumer)
                    .and_then(|s| s.frames.remove(&frame));
                if let Some(f) = frame {
                    self.apply_frame(consumer, f);
                }
            }
            JmsWork::Redeliver { consumer, epoch } => {
                if self.clients.consumers[consumer.index()].epoch == epoch {
                    self.redeliver(consumer);
                }
            }
            JmsWork::DelayOver { store, seq } => {
                let s = self.family.store_mut(store);
                if let Some(slot) = s.delayed.remove(&seq) {
                    s.pending.insert(seq, slot);
                    self.dispatch(store);
                }
            }
            JmsWork::Subscribe { consumer, epoch } => {
                let c = &self.clients.consumers[consumer.index()];
                if c.epoch == epoch && c.status == ConsumerStatus::Running {
                    self.subscribe(consumer);
                }
            }
            JmsWork::ExpirySweep => self.sweep(),
            JmsWork::BrokerUp => self.broker_up(),
        }
    }
}

/// Artemis's redelivery delay before delivery `count + 1`: `redelivery-delay` times the
/// multiplier per earlier redelivery, capped at `max-redelivery-delay`.
fn artemis_delay_ms(a: &scenario::ArtemisSpec, count: u32) -> u64 {
    if a.redelivery_delay_ms == 0 {
        return 0;
    }
    let max = a
        .max_redelivery_delay_ms
        .unwrap_or(a.redelivery_delay_ms.saturating_mul(10));
    let scaled = a.redelivery_delay_ms as f64
        * a.redelivery_delay_multiplier
            .powi(count.saturating_sub(1) as i32);
    (scaled as u64).min(max)
}

/// Work this family schedules on the agenda.
#[derive(Clone, Debug)]
pub(crate) enum JmsWork {
    ArriveAtQueue {
        slot: Slot,
        queue: JmsQueueId,
    },
    ArriveAtTopic {
        slot: Slot,
        topic: JmsTopicId,
    },
    /// A frame from a consumer's session reaches the broker.
    FrameArrives {
        consumer: ConsumerId,
        frame: u64,
    },
    /// A session's redelivery delay is over (AMQ-5).
    Redeliver {
        consumer: ConsumerId,
        epoch: u32,
    },
    /// A connected consumer's subscription reaches the broker.
    Subscribe {
        consumer: ConsumerId,
        epoch: u32,
    },
    /// An Artemis redelivery delay is over: the copy is dispatchable again (AMQ-9).
    DelayOver {
        store: JmsStore,
        seq: u64,
    },
    /// The periodic expiry check (`expireMessagesPeriod`, AMQ-7).
    ExpirySweep,
    /// The broker is back after a restart (AMQ-3).
    BrokerUp,
}
