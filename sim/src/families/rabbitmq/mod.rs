//! RabbitMQ: exchanges, bindings, queues, dispatch, acks, dead-lettering, TTL and limits.

mod node;
pub mod queue;

use crate::clients::{ClientWork, Cx};
use crate::clients::{Closure, Consumer, ConsumerStatus};
use crate::command::{at_cap, CommandError};
use crate::event::{EventKind, Settle};
use crate::ids::{ConsumerId, ExchangeId, MessageId, ProducerId, QueueId};
use crate::kernel::ms_to_us;
use crate::ledger::{CopyState, DeadLetterReason, DropReason};
use crate::matching::{headers_match, TopicPattern};
use crate::message::{Death, Slot};
use crate::scenario;
use crate::scenario::{AckMode, BindingSpec, ExchangeType, Overflow, QueueSpec, ScenarioError};
use crate::scenario::{FailureAction, FailureSpec};
use crate::time::SimTime;
use crate::wire::NodeRef;
use queue::Queue;
use std::collections::{BTreeMap, BTreeSet};

/// A quorum queue's members: three nodes, or all when the cluster is smaller
/// (`x-quorum-initial-group-size`, quorum-queues#replication).
pub const QUORUM_MEMBERS: u32 = 3;
/// Quorum queues cap a consumer's prefetch (RMQ-9).
pub const QUORUM_MAX_PREFETCH: u32 = 2_000;
/// RabbitMQ's default `consumer_timeout`, and how often it is checked (RMQ-16).
pub const DEFAULT_CONSUMER_TIMEOUT_MS: f64 = 1_800_000.0;
const CONSUMER_TIMEOUT_CHECK_US: u64 = 60_000_000;

#[derive(Clone, Debug)]
pub(crate) struct Binding {
    pub spec: BindingSpec,
    pub destination: Destination,
    /// `spec.routing_key` split into words once, so topic routing does not re-split it (RMQ-4).
    pub topic: TopicPattern,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Destination {
    Queue(QueueId),
    Exchange(ExchangeId),
}

#[derive(Clone, Debug)]
pub(crate) struct Exchange {
    pub name: String,
    pub kind: ExchangeType,
    pub alternate: Option<ExchangeId>,
    pub bindings: Vec<Binding>,
}

/// RabbitMQ's state: exchanges (index 0 is the default exchange) and queues.
#[derive(Clone, Debug)]
pub(crate) struct RabbitMq {
    pub exchanges: Vec<Exchange>,
    pub queues: Vec<Queue>,
    /// Routing results by (exchange, interned key, interned headers): a topic exchange with
    /// many `#` bindings costs milliseconds per match, and producers repeat their keys.
    /// Cleared whenever a binding or queue goes or comes.
    routes: BTreeMap<(ExchangeId, u32, u32), Vec<QueueId>>,
    /// The queue each consumer consumes from.
    pub consumers: BTreeMap<ConsumerId, QueueId>,
    /// Successes not yet acked, for `ack_batch` > 1 (RMQ-11).
    pending_acks: BTreeMap<ConsumerId, u32>,
    /// Whether each node of the cluster runs; one node unless the scenario has a cluster
    /// (RMQ-32).
    pub up: Vec<bool>,
    /// How long a quorum queue's election takes.
    election_us: u64,
    /// Consumers whose connection a stop dropped; they reconnect when their queue is back.
    reconnect: Vec<ConsumerId>,
    /// Confirms waiting for the next fsync, one per message, with the node that writes it
    /// (RMQ-31).
    pending_confirms: Vec<(ProducerId, u32)>,
    /// Confirms waiting for quorum queues to take held publishes: the producer and how many
    /// held copies of the message are still waiting.
    held_confirms: BTreeMap<MessageId, (ProducerId, u32)>,
    sync_scheduled: bool,
    /// The node a network partition cuts off from the others (one at a time).
    pub isolated: Option<u32>,
    /// The isolated node has paused (`pause_minority`): it serves no client.
    pub paused: bool,
    /// Bumped by each isolation, so a pause meant for an earlier one is ignored.
    isolations: u32,
    /// Entries quorum queues committed without the isolated node's member: what it has to
    /// catch up when the partition heals.
    pub behind: u64,
}

/// Routing results kept at most; past it the cache starts again, so memory stays bounded.
const MAX_CACHED_ROUTES: usize = 100_000;

/// The prefetch limit in force; 0 means unlimited. Quorum queues cap it at 2,000 (RMQ-9).
pub(crate) fn effective_prefetch(c: &Consumer, quorum: bool) -> u32 {
    match (quorum, c.spec.prefetch) {
        (true, 0) => QUORUM_MAX_PREFETCH,
        (true, p) => p.min(QUORUM_MAX_PREFETCH),
        (false, p) => p,
    }
}

fn has_capacity(c: &Consumer, quorum: bool) -> bool {
    let prefetch = effective_prefetch(c, quorum);
    c.status == ConsumerStatus::Running
        && (c.spec.ack == AckMode::Auto
            || prefetch == 0
            || (c.unacked.len() as u64) < u64::from(prefetch))
}

impl RabbitMq {
    /// `queue.unbind`: removes the binding that matches `binding` exactly.
    pub(crate) fn unbind(&mut self, binding: &BindingSpec) -> Result<(), CommandError> {
        self.check_up()?;
        let (from, _) = self.resolve_binding(binding)?;
        self.topology_changed();
        let bindings = &mut self.exchanges[from.index()].bindings;
        let before = bindings.len();
        bindings.retain(|b| b.spec != *binding);
        if bindings.len() == before {
            return Err(CommandError::UnknownEntity {
                kind: "binding",
                name: format!("{} -> {:?}", binding.exchange, binding.queue),
            });
        }
        Ok(())
    }

    /// Samples every queue's depth for the charts.
    pub(crate) fn sample(&mut self, at: u64) {
        for q in &mut self.queues {
            q.depth.push(at, (q.ready_len() + q.unacked) as f64);
        }
    }

    /// Bindings or queues changed: every cached route may be wrong.
    pub fn topology_changed(&mut self) {
        self.routes.clear();
    }
}

impl Default for RabbitMq {
    fn default() -> Self {
        RabbitMq {
            exchanges: vec![Exchange {
                name: String::new(),
                kind: ExchangeType::Direct,
                alternate: None,
                bindings: Vec::new(),
            }],
            queues: Vec::new(),
            routes: BTreeMap::new(),
            consumers: BTreeMap::new(),
            pending_acks: BTreeMap::new(),
            up: vec![true],
            election_us: 0,
            reconnect: Vec::new(),
            pending_confirms: Vec::new(),
            held_confirms: BTreeMap::new(),
            sync_scheduled: false,
            isolated: None,
            paused: false,
            isolations: 0,
            behind: 0,
        }
    }
}

impl RabbitMq {
    pub(crate) fn exchange_id(&self, name: &str) -> Option<ExchangeId> {
        self.exchanges
            .iter()
            .position(|x| x.name == name)
            .map(|i| ExchangeId(i as u32))
    }

    pub(crate) fn queue_id(&self, name: &str) -> Option<QueueId> {
        self.queues
            .iter()
            .position(|q| q.name() == name && !q.deleted)
            .map(|i| QueueId(i as u32))
    }

    pub(crate) fn reaches(&self, from: ExchangeId, target: ExchangeId) -> bool {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from];
        while let Some(x) = todo.pop() {
            if x == target {
                return true;
            }
            if seen.insert(x) {
                let ex = &self.exchanges[x.index()];
                todo.extend(ex.bindings.iter().filter_map(|b| match b.destination {
                    Destination::Exchange(e) => Some(e),
                    Destination::Queue(_) => None,
                }));
                todo.extend(ex.alternate);
            }
        }
        false
    }
}

impl RabbitMq {
    pub(crate) fn resolve_binding(
        &self,
        spec: &BindingSpec,
    ) -> Result<(ExchangeId, Destination), CommandError> {
        let unknown = |kind, name: &str| CommandError::UnknownEntity {
            kind,
            name: name.to_string(),
        };
        if spec.exchange.is_empty() || spec.to_exchange.as_deref() == Some("") {
            return Err(CommandError::NotApplicable {
                reason: "ACCESS_REFUSED: the default exchange cannot be bound or unbound; every queue is bound to it by its own name".into(),
            });
        }
        let from = self
            .exchange_id(&spec.exchange)
            .ok_or_else(|| unknown("exchange", &spec.exchange))?;
        let to = match (&spec.queue, &spec.to_exchange) {
            (Some(q), None) => {
                Destination::Queue(self.queue_id(q).ok_or_else(|| unknown("queue", q))?)
            }
            (None, Some(x)) => Destination::Exchange(
                self.exchange_id(x)
                    .filter(|x| *x != ExchangeId(0))
                    .ok_or_else(|| unknown("exchange", x))?,
            ),
            _ => {
                return Err(ScenarioError::new(
                    "binding",
                    "set exactly one of `queue` and `to_exchange`",
                )
                .into())
            }
        };
        Ok((from, to))
    }
}

impl<W: From<RabbitMqWork> + From<ClientWork>> Cx<'_, &mut RabbitMq, W> {
    pub(crate) fn binding_matches(
        &self,
        kind: ExchangeType,
        b: &Binding,
        key: &str,
        headers: u32,
    ) -> bool {
        match kind {
            ExchangeType::Direct => b.spec.routing_key == key,
            ExchangeType::Fanout => true,
            ExchangeType::Topic => b.topic.matches(key),
            ExchangeType::Headers => {
                headers_match(&b.spec.arguments, self.world.header_sets.get(headers))
            }
        }
    }

    /// The set of queues a message reaches from `exchange` (RMQ-1..RMQ-7). A set, because a
    /// queue matched by several bindings still gets one copy (RMQ-2).
    pub(crate) fn route(&mut self, exchange: ExchangeId, key: u32, headers: u32) -> Vec<QueueId> {
        if let Some(queues) = self.family.routes.get(&(exchange, key, headers)) {
            return queues.clone();
        }
        let queues: Vec<QueueId> = self
            .route_uncached(exchange, key, headers)
            .into_iter()
            .collect();
        if self.family.routes.len() >= MAX_CACHED_ROUTES {
            self.family.routes.clear();
        }
        (self.family.routes).insert((exchange, key, headers), queues.clone());
        queues
    }

    fn route_uncached(&self, exchange: ExchangeId, key: u32, headers: u32) -> BTreeSet<QueueId> {
        let key = self.world.keys.get(key).as_str();
        let mut queues = BTreeSet::new();
        if exchange == ExchangeId(0) {
            // The default exchange binds every queue by its own name (RMQ-6).
            queues.extend(self.family.queue_id(key));
            return queues;
        }
        let mut seen = BTreeSet::new();
        let mut todo = vec![exchange];
        while let Some(x) = todo.pop() {
            if !seen.insert(x) {
                continue;
            }
            let ex = &self.family.exchanges[x.index()];
            let before = queues.len();
            let mut forwarded = false;
            for b in &ex.bindings {
                if self.binding_matches(ex.kind, b, key, headers) {
                    match b.destination {
                        Destination::Queue(q) => {
                            queues.insert(q);
                        }
                        Destination::Exchange(to) => {
                            forwarded = true;
                            todo.push(to);
                        }
                    }
                }
            }
            // Unroutable at this exchange: try its alternate exchange (RMQ-7).
            if queues.len() == before && !forwarded {
                todo.extend(ex.alternate);
            }
        }
        queues
    }

    pub(crate) fn route_and_enqueue(&mut self, slot: Slot, exchange: ExchangeId) {
        if let Some(p) = self.world.copies.get(slot).producer {
            // `delivery_mode` 2 only when asked: the AMQP default is transient (RMQ-32).
            let persistent = self.clients.producers[p.index()].spec.message.persistent;
            self.world.copies.get_mut(slot).persistent = persistent == Some(true);
        }
        let c = self.world.copies.get(slot);
        let (msg, key, headers, producer) = (c.msg, c.routing_key, c.headers, c.producer);
        let persistent = c.persistent;
        let queues = self.route(exchange, key, headers);
        self.world.emit(EventKind::Routed {
            msg,
            exchange,
            queues: queues.clone(),
        });
        let dead_lettered = producer.is_none();
        if queues.is_empty() {
            let mandatory =
                producer.is_some_and(|p| self.clients.producers[p.index()].spec.mandatory);
            let reason = if dead_lettered {
                DropReason::DeadLetterUnroutable
            } else if mandatory {
                DropReason::Returned
            } else {
                DropReason::Unroutable
            };
            self.world.drop_copy(slot, reason);
            if let Some(p) = producer {
                let p = &mut self.clients.producers[p.index()];
                if mandatory {
                    p.returned += 1;
                    p.returns.push(msg);
                }
                // Unroutable messages are still confirmed, after the return (RMQ-7).
                if p.spec.confirms {
                    p.confirms_acked += 1;
                }
            }
            return;
        }
        let mut accepted_all = true;
        let mut held = 0;
        let client = self.family.client_node();
        let mut slot = Some(slot);
        let template = self.world.copies.get(slot.expect("set")).clone();
        for (n, q) in queues.iter().enumerate() {
            let s = match slot.take() {
                Some(s) if n == 0 => s,
                _ => {
                    if dead_lettered {
                        self.world.ledger.dead_letter_copies += 1;
                    } else {
                        self.world.ledger.fanout_copies += 1;
                    }
                    let mut copy = template.clone();
                    copy.state = CopyState::InFlight;
                    match self.world.new_copy_within_capacity(copy) {
                        Some(s) => s,
                        None => {
                            accepted_all = false;
                            continue;
                        }
                    }
                }
            };
            if dead_lettered && self.is_dead_letter_cycle(s, *q) {
                self.world.drop_copy(s, DropReason::DeadLetterUnroutable);
                continue;
            }
            let queue = &self.family.queues[q.index()];
            let (quorum, node) = (queue.is_quorum(), queue.node);
            let reachable = self.family.reachable(client, node);
            if quorum && self.family.isolated == Some(node) && client == node {
                // A leader cut off from its followers appends but cannot commit: no confirm.
                self.family.queues[q.index()].uncommitted.push(s);
                held += 1;
                continue;
            }
            if quorum && !(self.family.available(*q) && reachable) {
                // No leader with a majority takes it yet: the channel resends it later.
                self.family.queues[q.index()].held.push(s);
                held += 1;
                continue;
            }
            if !quorum && (!self.family.up[node as usize] || !reachable) {
                // The classic queue's node is down or cut off: nothing takes the copy
                // (RMQ-32).
                self.world.drop_copy(s, DropReason::BrokerDown);
                accepted_all = false;
                continue;
            }
            accepted_all &= self.enqueue(*q, s);
        }
        // A persistent message in a durable classic queue is confirmed after the fsync (RMQ-31).
        let on_disk = persistent
            && queues
                .iter()
                .any(|q| self.family.queues[q.index()].stores());
        if let Some(id) = producer {
            let p = &mut self.clients.producers[id.index()];
            if p.spec.confirms {
                if accepted_all && held > 0 {
                    // Confirmed once the quorum queues have it (RMQ-31).
                    self.family.held_confirms.insert(msg, (id, held));
                } else if accepted_all && on_disk {
                    let node = (queues.iter())
                        .map(|q| &self.family.queues[q.index()])
                        .find(|q| q.stores())
                        .map_or(0, |q| q.node);
                    self.family.pending_confirms.push((id, node));
                } else if accepted_all {
                    p.confirms_acked += 1;
                } else {
                    p.confirms_nacked += 1;
                    p.nacks.push(msg);
                    self.world.emit(EventKind::PublisherNacked {
                        msg,
                        producer: producer.expect("some"),
                    });
                }
            }
        }
    }

    /// A dead-letter cycle is dropped unless the cycle, from the target queue's last death on,
    /// contains a rejection (RMQ-29; `mc.erl` `is_cycle_v2`).
    pub(crate) fn is_dead_letter_cycle(&self, slot: Slot, q: QueueId) -> bool {
        let deaths = self
            .world
            .copies
            .get(slot)
            .deaths
            .as_deref()
            .map_or(&[][..], Vec::as_slice);
        match deaths.iter().rposition(|d| d.queue == q) {
            None => false,
            Some(last) => deaths[last..]
                .iter()
                .all(|d| d.reason != DeadLetterReason::Rejected),
        }
    }

    /// Puts an arriving copy at the tail of a queue, applying overflow and TTL. Returns false
    /// if `reject-publish` refused it.
    pub(crate) fn enqueue(&mut self, q: QueueId, slot: Slot) -> bool {
        let (size, priority, ttl, msg) = {
            let c = self.world.copies.get(slot);
            (c.size, c.priority, c.ttl, c.msg)
        };
        let queue = &mut self.family.queues[q.index()];
        queue.publish_rate.record(self.world.now.0, 1);
        if queue.spec.overflow != Overflow::DropHead && queue.would_overflow(u64::from(size)) {
            if queue.spec.overflow == Overflow::RejectPublishDlx {
                self.dead_letter(slot, q, DeadLetterReason::Maxlen);
            } else {
                self.world.drop_copy(slot, DropReason::RejectedByQueue);
            }
            return false;
        }
        if let Some(cut) = self.family.isolated {
            // Committed by the majority; the cut-off member has it only after the heal.
            if queue.members.contains(&cut) && queue.node != cut {
                self.family.behind += 1;
            }
        }
        let queue = &mut self.family.queues[q.index()];
        let level = queue.level_of(priority);
        let seq = queue.push(slot, level, size);
        let stored = queue.stores() && self.world.copies.get(slot).persistent;
        // The lower of queue and message TTL applies; each queue's copy has its own clock (RMQ-25, RMQ-26).
        let queue_ttl = queue.spec.message_ttl_ms.map_or(u64::MAX, ms_to_us);
        let ttl = ttl.min(queue_ttl);
        let c = self.world.copies.get_mut(slot);
        c.queue_seq = seq;
        c.expires_at = if ttl == u64::MAX {
            SimTime::MAX
        } else {
            self.world.now.plus(ttl)
        };
        self.world.set_state(slot, CopyState::Ready(q));
        self.world.emit(EventKind::Enqueued { msg, queue: q });
        if stored {
            self.needs_sync();
        }
        self.enforce_max_length(q);
        self.dispatch(q);
        true
    }

    /// `drop-head`: remove from the head until within the limits (RMQ-23).
    pub(crate) fn enforce_max_length(&mut self, q: QueueId) {
        while self.family.queues[q.index()].spec.overflow == Overflow::DropHead
            && self.family.queues[q.index()].is_over_limit()
        {
            let Some(head) = self.family.queues[q.index()].head() else {
                break;
            };
            let size = self.world.copies.get(head.slot).size;
            self.family.queues[q.index()].pop_head(size);
            self.dead_letter_or_drop(
                head.slot,
                q,
                DeadLetterReason::Maxlen,
                DropReason::MaxLength,
            );
        }
    }

    /// TTL ran out: dead-lettered with reason `expired`, or removed (RMQ-25, RMQ-29).
    pub(crate) fn expire_or_dead_letter(&mut self, slot: Slot, q: QueueId) {
        if self.family.queues[q.index()].dead_letter_exchange.is_some() {
            self.dead_letter(slot, q, DeadLetterReason::Expired);
        } else {
            let msg = self.world.copies.get(slot).msg;
            self.world.set_state(slot, CopyState::Expired);
            self.world.emit(EventKind::Expired { msg, queue: q });
        }
    }

    pub(crate) fn dead_letter_or_drop(
        &mut self,
        slot: Slot,
        q: QueueId,
        reason: DeadLetterReason,
        otherwise: DropReason,
    ) {
        if self.family.queues[q.index()].dead_letter_exchange.is_some() {
            self.dead_letter(slot, q, reason);
        } else {
            self.world.drop_copy(slot, otherwise);
        }
    }

    /// Re-publishes a copy to the queue's dead-letter exchange as a new copy (RMQ-29).
    pub(crate) fn dead_letter(&mut self, slot: Slot, q: QueueId, reason: DeadLetterReason) {
        let queue = &self.family.queues[q.index()];
        let Some(dlx) = queue.dead_letter_exchange else {
            self.world.drop_copy(slot, DropReason::DeadLetterUnroutable);
            return;
        };
        let dl_key = queue.spec.dead_letter_routing_key.clone();
        self.world.note_cycle(slot);
        let mut copy = self.world.copies.get(slot).clone();
        let msg = copy.msg;
        if reason == DeadLetterReason::Expired {
            self.world.emit(EventKind::Expired { msg, queue: q });
        }
        self.world.set_state(slot, CopyState::DeadLettered(reason));
        self.world.emit(EventKind::DeadLettered {
            msg,
            queue: q,
            reason,
        });
        self.world.ledger.dead_letter_copies += 1;
        let mut deaths = copy.deaths.take().map(|b| *b).unwrap_or_default();
        deaths.push(Death { queue: q, reason });
        copy.deaths = Some(Box::new(deaths));
        copy.state = CopyState::InFlight;
        copy.producer = None;
        // The expiration is removed when dead-lettering (RMQ-29).
        copy.ttl = u64::MAX;
        copy.expires_at = SimTime::MAX;
        copy.redelivered = false;
        copy.delivery_count = 0;
        if let Some(k) = dl_key {
            copy.routing_key = self.world.keys.intern(k.clone(), || k);
        }
        let Some(new_slot) = self.world.new_copy_within_capacity(copy) else {
            return;
        };
        // Routed as its own event at the same instant, so chains of dead-lettering are
        // iterative and never deepen the stack.
        self.world.schedule(
            self.world.now,
            RabbitMqWork::ArriveAtExchange {
                slot: new_slot,
                exchange: dlx,
            },
        );
    }

    /// Removes expired messages at the head (RMQ-27) and arms the timer for the next head.
    pub(crate) fn expire_head(&mut self, q: QueueId) {
        loop {
            let mut expired = None;
            let mut next = SimTime::MAX;
            for (sub, e) in self.family.queues[q.index()].expiry_fronts() {
                let at = self.world.copies.get(e.slot).expires_at;
                if at < self.world.now {
                    expired = Some((sub, e.slot));
                    break;
                }
                next = next.min(at);
            }
            let Some((sub, slot)) = expired else {
                let queue = &mut self.family.queues[q.index()];
                // Just after the expiry instant, so a consumer free at that instant still gets
                // the message (RMQ-25, T=0). One timer per instant: duplicates would pile up.
                let at = next.plus(1);
                if next != SimTime::MAX && queue.expiry_timer.is_none_or(|t| t > at) {
                    queue.expiry_timer = Some(at);
                    self.world
                        .schedule(at, RabbitMqWork::ExpireHead { queue: q });
                }
                return;
            };
            let size = self.world.copies.get(slot).size;
            self.family.queues[q.index()].pop_front_of(sub, size);
            self.expire_or_dead_letter(slot, q);
        }
    }

    /// Hands ready messages to consumers with free capacity, in round-robin order (RMQ-8, RMQ-9).
    pub(crate) fn dispatch(&mut self, q: QueueId) {
        if !self.family.available(q) {
            return;
        }
        let quorum = self.family.queues[q.index()].is_quorum();
        loop {
            self.expire_head(q);
            let consumers = &self.clients.consumers;
            let queue = &mut self.family.queues[q.index()];
            let Some(head) = queue.head() else { return };
            // Round-robin runs among the highest-priority consumers only (RMQ-8).
            let prio = |c: &ConsumerId| consumers[c.index()].spec.priority;
            let Some(top) = queue.rotation.iter().map(prio).max() else {
                return;
            };
            let at = queue
                .rotation
                .iter()
                .position(|c| prio(c) == top)
                .unwrap_or(0);
            let Some(cid) = queue.rotation.remove(at) else {
                return;
            };
            let consumer = &self.clients.consumers[cid.index()];
            if !has_capacity(consumer, quorum) {
                continue;
            }
            let size = self.world.copies.get(head.slot).size;
            self.family.queues[q.index()].pop_head(size);
            self.deliver(q, cid, head.slot);
            if has_capacity(&self.clients.consumers[cid.index()], quorum) {
                self.family.queues[q.index()].rotation.push_back(cid);
            }
        }
    }

    pub(crate) fn deliver(&mut self, q: QueueId, cid: ConsumerId, slot: Slot) {
        let now = self.world.now;
        let auto = self.clients.consumers[cid.index()].spec.ack == AckMode::Auto;
        let c = self.world.copies.get(slot);
        let (msg, redelivered) = (c.msg, c.redelivered);
        let queue = &mut self.family.queues[q.index()];
        queue.deliver_rate.record(now.0, 1);
        if redelivered {
            queue.redeliver_rate.record(now.0, 1);
        }
        let tag = if auto {
            // Auto-ack: the broker forgets it the moment it is sent (RMQ-10); no ack is ever
            // sent, so the ack rate does not count it (RMQ-35).
            self.world.set_state(slot, CopyState::Processing(cid));
            self.clients.consumers[cid.index()].held.insert(slot);
            0
        } else {
            queue.unacked += 1;
            let timeout = queue.is_quorum().then(|| {
                queue
                    .spec
                    .consumer_timeout_ms
                    .unwrap_or(DEFAULT_CONSUMER_TIMEOUT_MS)
            });
            self.world.set_state(slot, CopyState::Unacked(q, cid));
            let consumer = &mut self.clients.consumers[cid.index()];
            let tag = consumer.next_tag;
            consumer.next_tag += 1;
            consumer.unacked.insert(tag, slot);
            if let Some(ms) = timeout {
                // The timeout is checked on a one-minute tick, not at the exact instant (RMQ-16).
                let due = now.plus(ms_to_us(ms)).0;
                let check = due.div_ceil(CONSUMER_TIMEOUT_CHECK_US) * CONSUMER_TIMEOUT_CHECK_US;
                let epoch = consumer.epoch;
                self.world.schedule(
                    SimTime(check),
                    RabbitMqWork::AckTimeout {
                        consumer: cid,
                        tag,
                        epoch,
                    },
                );
            }
            tag
        };
        let consumer = &mut self.clients.consumers[cid.index()];
        consumer.delivered += 1;
        if redelivered {
            consumer.redelivered += 1;
        }
        consumer.log_delivery(msg, redelivered);
        let epoch = consumer.epoch;
        self.world.emit(EventKind::Delivered {
            msg,
            queue: q,
            consumer: cid,
            redelivered,
        });
        self.send_to_consumer(NodeRef::Queue(q), cid, slot, tag, epoch);
    }

    /// A consumer finished processing a copy the queue still holds: it settles it, one by
    /// one or `multiple` every `ack_batch` successes (RMQ-11, RMQ-12).
    pub(crate) fn processed(
        &mut self,
        cid: ConsumerId,
        tag: u64,
        failed: bool,
        failure: &FailureSpec,
    ) {
        let consumer = &self.clients.consumers[cid.index()];
        let epoch = consumer.epoch;
        if !failed && consumer.spec.ack_batch > 1 {
            let pending = self.family.pending_acks.entry(cid).or_default();
            *pending += 1;
            if *pending >= consumer.spec.ack_batch {
                *pending = 0;
                self.world.schedule(
                    self.world.now.plus(self.world.latency),
                    RabbitMqWork::AckMultiple {
                        consumer: cid,
                        up_to: tag,
                        epoch,
                    },
                );
            }
            return;
        }
        let settle = match (failed, failure.action) {
            (false, _) => Settle::Ack,
            (true, FailureAction::Nack) => Settle::Nack {
                requeue: failure.requeue,
            },
            (true, FailureAction::Reject) => Settle::Reject {
                requeue: failure.requeue,
            },
        };
        self.world.schedule(
            self.world.now.plus(self.world.latency),
            RabbitMqWork::SettleArrives {
                consumer: cid,
                tag,
                settle,
                epoch,
            },
        );
    }

    /// The consumer's connection or channel ends: unacked deliveries are requeued, auto-ack ones
    /// are lost (RMQ-10, RMQ-15).
    pub(crate) fn close_consumer(&mut self, cid: ConsumerId, status: ConsumerStatus, why: Closure) {
        let (lost, unacked) = self.end_connection(cid, status);
        self.family.pending_acks.remove(&cid);
        let queue = self.family.consumers.get(&cid).copied();
        self.channel_closed(cid, &why);
        // A consumer timeout does not count toward the delivery limit; a crash does (RMQ-30).
        let counts = why == Closure::Crash
            || matches!(&why, Closure::ChannelError(r) if !r.contains("timed out"));
        if let Some(q) = queue {
            self.family.queues[q.index()].remove_consumer(cid);
            for slot in unacked.values() {
                self.family.queues[q.index()].unacked -= 1;
                self.requeue(q, *slot, counts);
            }
            self.mark_unused_if_idle(q);
        }
        if why == Closure::Crash {
            self.crashed(cid, unacked.len() as u32, lost);
        }
        if let Some(q) = queue {
            // An exclusive queue dies with its connection; an auto-delete one when its last
            // consumer leaves (RMQ-33). A stopping node decides for itself (RMQ-32).
            let queue = &self.family.queues[q.index()];
            let owner_gone = queue.spec.exclusive && why == Closure::Crash;
            let last_left =
                queue.spec.auto_delete && queue.had_consumer && queue.consumers.is_empty();
            if self.family.up[queue.node as usize] && !queue.deleted && (owner_gone || last_left) {
                self.delete_queue(q, DropReason::QueueDeleted);
            }
            self.dispatch(q);
        }
    }

    /// The consumer (re)subscribes to its queue (`basic.consume`).
    pub(crate) fn consume(&mut self, cid: ConsumerId) {
        self.clients.consumers[cid.index()].status = ConsumerStatus::Running;
        if let Some(&q) = self.family.consumers.get(&cid) {
            let queue = &mut self.family.queues[q.index()];
            if queue.deleted {
                return;
            }
            queue.had_consumer = true;
            queue.add_consumer(cid);
            queue.unblock(cid);
            queue.unused_since = None;
            self.dispatch(q);
        }
    }

    /// The consumer's settings changed: its prefetch may allow more deliveries now.
    pub(crate) fn consumer_updated(&mut self, cid: ConsumerId) {
        if let Some(&q) = self.family.consumers.get(&cid) {
            self.family.queues[q.index()].unblock(cid);
            self.dispatch(q);
        }
    }

    pub(crate) fn settle_arrives(&mut self, cid: ConsumerId, tag: u64, settle: Settle, epoch: u32) {
        let consumer = &mut self.clients.consumers[cid.index()];
        if consumer.epoch != epoch {
            // The channel closed first; the message was requeued then (RMQ-15).
            return;
        }
        let Some(slot) = consumer.unacked.remove(tag) else {
            return;
        };
        let q = self.settle(cid, slot, settle);
        self.family.queues[q.index()].unblock(cid);
        self.dispatch(q);
    }

    /// `multiple=true`: acks every outstanding tag up to and including `up_to` (RMQ-11).
    pub(crate) fn ack_multiple(&mut self, cid: ConsumerId, up_to: u64, epoch: u32) {
        let consumer = &mut self.clients.consumers[cid.index()];
        if consumer.epoch != epoch {
            return;
        }
        let acked = consumer.unacked.take_up_to(up_to);
        let mut queue = None;
        for &slot in acked.values() {
            queue = Some(self.settle(cid, slot, Settle::Ack));
        }
        if let Some(q) = queue {
            self.family.queues[q.index()].unblock(cid);
            self.dispatch(q);
        }
    }

    /// Applies one consumer settlement at the broker; returns the copy's queue.
    pub(crate) fn settle(&mut self, cid: ConsumerId, slot: Slot, settle: Settle) -> QueueId {
        let CopyState::Unacked(q, _) = self.world.copies.get(slot).state else {
            unreachable!("an unacked tag points at a copy that is not unacked")
        };
        let msg = self.world.copies.get(slot).msg;
        self.family.queues[q.index()].unacked -= 1;
        self.world.emit(EventKind::Settled {
            msg,
            queue: q,
            consumer: cid,
            settle,
        });
        match settle {
            Settle::Ack => {
                let published_at = self.world.copies.get(slot).published_at;
                self.world.complete(published_at);
                self.family.queues[q.index()]
                    .ack_rate
                    .record(self.world.now.0, 1);
                self.clients.consumers[cid.index()].acked += 1;
                self.world.set_state(slot, CopyState::Acked);
            }
            Settle::Nack { requeue: false } | Settle::Reject { requeue: false } => {
                self.dead_letter_or_drop(slot, q, DeadLetterReason::Rejected, DropReason::Rejected);
            }
            // In 4.3 basic.reject counts toward a quorum queue's delivery limit; basic.nack does not (RMQ-30).
            Settle::Nack { requeue: true } => self.requeue(q, slot, false),
            Settle::Reject { requeue: true } => self.requeue(q, slot, true),
        }
        q
    }

    /// Returns an unacked copy to its queue, flagged redelivered (RMQ-13, RMQ-14, RMQ-30).
    pub(crate) fn requeue(&mut self, q: QueueId, slot: Slot, counts: bool) {
        let limit = self.family.queues[q.index()].delivery_limit();
        self.world.note_cycle(slot);
        let c = self.world.copies.get_mut(slot);
        c.redelivered = true;
        if counts && self.family.queues[q.index()].is_quorum() {
            c.delivery_count += 1;
        }
        let (msg, seq, size, priority, count) =
            (c.msg, c.queue_seq, c.size, c.priority, c.delivery_count);
        if limit.is_some_and(|l| count > l) {
            self.dead_letter_or_drop(
                slot,
                q,
                DeadLetterReason::DeliveryLimit,
                DropReason::DeliveryLimit,
            );
            return;
        }
        let queue = &mut self.family.queues[q.index()];
        let level = queue.level_of(priority);
        queue.requeue(slot, seq, level, size);
        self.world.set_state(slot, CopyState::Ready(q));
        self.world.emit(EventKind::Requeued { msg, queue: q });
        self.enforce_max_length(q);
    }

    /// Starts the `x-expires` clock when a queue has no consumers left (RMQ-28).
    pub(crate) fn mark_unused_if_idle(&mut self, q: QueueId) {
        let queue = &mut self.family.queues[q.index()];
        let Some(ms) = queue.spec.expires_ms else {
            return;
        };
        if queue.consumers.is_empty() && queue.unused_since.is_none() && !queue.deleted {
            queue.unused_since = Some(self.world.now);
            let since = self.world.now;
            self.world.schedule(
                self.world.now.plus(ms_to_us(ms)),
                RabbitMqWork::QueueExpires { queue: q, since },
            );
        }
    }

    /// Deletes a queue: its bindings go and its messages are dropped for `reason`, not
    /// dead-lettered (RMQ-28, RMQ-32, RMQ-33).
    pub(crate) fn delete_queue(&mut self, q: QueueId, reason: DropReason) {
        self.family.queues[q.index()].deleted = true;
        self.family.topology_changed();
        for x in &mut self.family.exchanges {
            x.bindings
                .retain(|b| b.destination != Destination::Queue(q));
        }
        let ready: Vec<Slot> = self.family.queues[q.index()].all_ready().collect();
        for slot in &ready {
            let size = self.world.copies.get(*slot).size;
            self.family.queues[q.index()].pop_head(size);
            self.world.drop_copy(*slot, reason);
        }
        self.drop_held_publishes(q, reason);
        self.world.emit(EventKind::QueueDeleted {
            queue: q,
            dropped: ready.len() as u32,
        });
    }

    pub(crate) fn add_queue(&mut self, spec: QueueSpec) -> Result<QueueId, CommandError> {
        if self.family.queue_id(&spec.name).is_some() {
            return Err(CommandError::Duplicate {
                kind: "queue",
                name: spec.name,
            });
        }
        let known = |n: &str| self.family.exchange_id(n).is_some();
        scenario::validate_queue("queue", &spec, &known)?;
        let dlx = spec
            .dead_letter_exchange
            .as_deref()
            .and_then(|n| self.family.exchange_id(n));
        let mut queue = Queue::new(spec, dlx);
        // Declared on the client's node: the first running one (`client-local`).
        let nodes = self.family.up.len() as u32;
        queue.node = self.family.up.iter().position(|&u| u).unwrap_or(0) as u32;
        if queue.is_quorum() {
            let first = queue.node;
            queue.members = (0..nodes.min(QUORUM_MEMBERS))
                .map(|i| (first + i) % nodes)
                .collect();
        }
        self.family.queues.push(queue);
        let id = QueueId((self.family.queues.len() - 1) as u32);
        self.mark_unused_if_idle(id);
        Ok(id)
    }

    /// `queue.declare` from the UI or a script, within the scenario's cap.
    pub(crate) fn declare_queue(&mut self, queue: QueueSpec) -> Result<(), CommandError> {
        self.family.check_up()?;
        at_cap("queues", self.family.queues.len())?;
        self.add_queue(queue).map(|_| ())
    }

    /// `queue.bind` from the UI or a script, within the scenario's caps.
    pub(crate) fn bind(&mut self, binding: BindingSpec) -> Result<(), CommandError> {
        self.family.check_up()?;
        let bindings = self.family.exchanges.iter().map(|x| x.bindings.len());
        at_cap("bindings", bindings.sum())?;
        scenario::check_len(
            "binding.routing_key",
            &binding.routing_key,
            scenario::limits::MAX_KEY_LEN,
        )?;
        self.add_binding(binding)
    }

    pub(crate) fn add_binding(&mut self, spec: BindingSpec) -> Result<(), CommandError> {
        let (from, to) = self.family.resolve_binding(&spec)?;
        if self.family.exchanges[from.index()].kind == ExchangeType::Headers {
            crate::matching::headers_mode(&spec.arguments)
                .map_err(|r| ScenarioError::new("binding.arguments.x-match", r))?;
        }
        if let Destination::Exchange(to) = to {
            if self.family.reaches(to, from) {
                return Err(ScenarioError::new(
                    "binding.to_exchange",
                    "this binding would close a cycle of exchanges",
                )
                .into());
            }
        }
        // Binding twice is idempotent in RabbitMQ.
        if !self.family.exchanges[from.index()]
            .bindings
            .iter()
            .any(|b| b.spec == spec)
        {
            self.family.topology_changed();
            self.family.exchanges[from.index()].bindings.push(Binding {
                topic: TopicPattern::new(&spec.routing_key),
                spec,
                destination: to,
            });
        }
        Ok(())
    }

    pub(crate) fn update_queue(&mut self, spec: QueueSpec) -> Result<(), CommandError> {
        self.family.check_up()?;
        let id = self
            .family
            .queue_id(&spec.name)
            .ok_or_else(|| CommandError::UnknownEntity {
                kind: "queue",
                name: spec.name.clone(),
            })?;
        let known = |n: &str| self.family.exchange_id(n).is_some();
        scenario::validate_queue("queue", &spec, &known)?;
        let q = &self.family.queues[id.index()];
        let fixed = |s: &QueueSpec| (s.kind, s.max_priority, s.survives_restart(), s.auto_delete);
        if fixed(&q.spec) != fixed(&spec) {
            return Err(CommandError::NotApplicable {
                reason: "a queue's type, x-max-priority, durability and exclusive and auto-delete flags are fixed when it is declared; declare a new queue instead".into(),
            });
        }
        let dlx = spec
            .dead_letter_exchange
            .as_deref()
            .and_then(|n| self.family.exchange_id(n));
        let q = &mut self.family.queues[id.index()];
        q.spec = spec;
        q.dead_letter_exchange = dlx;
        self.mark_unused_if_idle(id);
        self.enforce_max_length(id);
        self.dispatch(id);
        Ok(())
    }
}

/// Work this part schedules on the agenda.
#[derive(Clone, Debug)]
pub(crate) enum RabbitMqWork {
    ArriveAtExchange {
        slot: Slot,
        exchange: ExchangeId,
    },
    SettleArrives {
        consumer: ConsumerId,
        tag: u64,
        settle: Settle,
        epoch: u32,
    },
    /// `basic.ack` with `multiple=true` (RMQ-11).
    AckMultiple {
        consumer: ConsumerId,
        up_to: u64,
        epoch: u32,
    },
    /// The periodic consumer-timeout check for one delivery (RMQ-16).
    AckTimeout {
        consumer: ConsumerId,
        tag: u64,
        epoch: u32,
    },
    /// `x-expires`: delete the queue if it is still unused since `since` (RMQ-28).
    QueueExpires {
        queue: QueueId,
        since: SimTime,
    },
    ExpireHead {
        queue: QueueId,
    },
    /// The fsync of persistent messages (RMQ-31).
    Sync,
    /// A quorum queue's followers have elected a new leader (quorum-queues#leader-election).
    Elect {
        queue: QueueId,
    },
    /// The isolated node notices it is in a minority and pauses (`pause_minority`).
    PauseMinority {
        round: u32,
    },
}

impl<W: From<RabbitMqWork> + From<ClientWork>> Cx<'_, &mut RabbitMq, W> {
    pub(crate) fn run_rabbitmq(&mut self, work: RabbitMqWork) {
        match work {
            RabbitMqWork::ArriveAtExchange { slot, exchange } => {
                self.wire.arrived(self.world.now, slot);
                if self.family.all_down() {
                    // The connection is gone; no confirm comes (RMQ-32).
                    self.world.drop_copy(slot, DropReason::BrokerDown);
                } else {
                    self.route_and_enqueue(slot, exchange);
                }
            }
            RabbitMqWork::SettleArrives {
                consumer,
                tag,
                settle,
                epoch,
            } => self.settle_arrives(consumer, tag, settle, epoch),
            RabbitMqWork::AckMultiple {
                consumer,
                up_to,
                epoch,
            } => self.ack_multiple(consumer, up_to, epoch),
            RabbitMqWork::AckTimeout {
                consumer,
                tag,
                epoch,
            } => {
                let c = &self.clients.consumers[consumer.index()];
                if c.epoch == epoch && c.unacked.contains_key(tag) {
                    self.close_consumer(
                        consumer,
                        ConsumerStatus::Crashed,
                        Closure::ChannelError(
                            "PRECONDITION_FAILED: delivery acknowledgement timed out".into(),
                        ),
                    );
                }
            }
            RabbitMqWork::QueueExpires { queue, since } => {
                let q = &self.family.queues[queue.index()];
                if !q.deleted && self.family.up[q.node as usize] && q.unused_since == Some(since) {
                    self.delete_queue(queue, DropReason::QueueDeleted);
                }
            }
            RabbitMqWork::ExpireHead { queue } => {
                self.family.queues[queue.index()].expiry_timer = None;
                self.dispatch(queue);
            }
            RabbitMqWork::Sync => self.sync(),
            RabbitMqWork::Elect { queue } => self.elect(queue),
            RabbitMqWork::PauseMinority { round } => self.pause_minority(round),
        }
    }
}
