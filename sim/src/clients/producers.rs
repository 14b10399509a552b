//! Producers: rates, message templates, publishing to every target.

use crate::clients::{ClientWork, Clients, Cx};
use crate::command::CommandError;
use crate::event::EventKind;
use crate::ids::{EntryId, MessageId, ProducerId};
use crate::kernel::{ms_to_us, World};
use crate::ledger::CopyState;
use crate::message::{MessageCopy, PipeTag, Slot, NO_KEY};
use crate::scenario::{ProducerSpec, RatePattern};
use crate::time::SimTime;
use crate::wire::NodeRef;

/// Where a copy published to a target goes, and the work that runs when it arrives: the
/// engine asks the target's family.
pub(crate) type Route<'r, W> =
    dyn FnMut(&mut World<W>, NodeRef, Slot, &Outgoing) -> (NodeRef, W) + 'r;

/// What the template gives one message beyond its copy, for the target's family to read as
/// the message is sent: Kafka's record key and size, SQS's group, deduplication id, body and
/// delay. Interned strings, [`NO_KEY`] when the template has none.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Outgoing {
    pub key: u32,
    pub size: u32,
    pub group: u32,
    pub dedup: u32,
    pub body: u32,
    pub delay_us: Option<u64>,
    /// An explicit Redis `XADD` id; `None` is `*`.
    pub stream_id: Option<EntryId>,
}

/// A producer's spec resolved to ids: targets, interned keys and header sets.
#[derive(Clone, Debug, Default)]
pub(crate) struct ProducerPlan {
    /// The nodes it publishes to: an exchange, a channel, a topic, a service, an SQS queue.
    pub targets: Vec<NodeRef>,
    pub routing_keys: Vec<u32>,
    pub record_keys: Vec<u32>,
    pub header_sets: Vec<u32>,
    pub group_ids: Vec<u32>,
    pub dedup_ids: Vec<u32>,
    pub bodies: Vec<u32>,
    /// Explicit `XADD` ids, `None` for `*`.
    pub stream_ids: Vec<Option<EntryId>>,
}

/// The interned id of the empty header set.
pub(crate) const EMPTY_HEADERS: u32 = 0;

#[derive(Clone, Debug)]
pub(crate) struct Producer {
    pub spec: ProducerSpec,
    pub plan: ProducerPlan,
    pub removed: bool,
    /// Bumped when the rate changes, so stale ticks are ignored.
    pub generation: u32,
    /// Bumped when the message template is edited, so interned header sets are not reused.
    pub template_version: u32,
    pub sent: u64,
    pub cursor: u64,
    pub started_at: SimTime,
    pub confirms_acked: u64,
    pub confirms_nacked: u64,
    pub returned: u64,
    pub returns: Vec<MessageId>,
    pub nacks: Vec<MessageId>,
}

impl Clients {
    pub(crate) fn producer_id(&self, name: &str) -> Result<ProducerId, CommandError> {
        self.producers
            .iter()
            .position(|p| p.spec.name == name && !p.removed)
            .map(|i| ProducerId(i as u32))
            .ok_or_else(|| CommandError::UnknownEntity {
                kind: "producer",
                name: name.to_string(),
            })
    }
}

impl<F, W: From<ClientWork>> Cx<'_, F, W> {
    /// Schedules the producer's next publish according to its rate pattern.
    pub(crate) fn schedule_next_tick(&mut self, id: ProducerId) {
        let p = &self.clients.producers[id.index()];
        if p.removed || p.spec.paused || p.spec.limit.is_some_and(|l| p.sent >= l) {
            return;
        }
        let generation = p.generation;
        let gap = match p.spec.rate {
            RatePattern::Manual => return,
            RatePattern::Burst { at_ms, .. } => {
                let at = p.started_at.plus(ms_to_us(at_ms));
                if p.sent > 0 || at < self.world.now {
                    return;
                }
                at.since(self.world.now)
            }
            RatePattern::Poisson { per_sec } if per_sec > 0.0 => {
                (self.world.rng.exponential(1e6 / per_sec)).round().max(1.0) as u64
            }
            RatePattern::Constant { per_sec } | RatePattern::Poisson { per_sec } => {
                if per_sec <= 0.0 {
                    return;
                }
                (1e6 / per_sec).round().max(1.0) as u64
            }
            RatePattern::Square { .. } | RatePattern::Ramp { .. } => {
                let t = self.world.now.since(p.started_at) as f64 / 1e6;
                // A wave or ramp that never reaches one more message schedules nothing; a
                // command that changes the rate schedules again.
                let Some(secs) = super::rates::seconds_to_next(&p.spec.rate, t) else {
                    return;
                };
                (secs * 1e6).round().clamp(1.0, 1e15) as u64
            }
        };
        self.world.schedule(
            self.world.now.plus(gap),
            ClientWork::ProducerTick {
                producer: id,
                generation,
            },
        );
    }

    pub(crate) fn producer_tick(&mut self, id: ProducerId, generation: u32, route: &mut Route<W>) {
        let p = &self.clients.producers[id.index()];
        if p.removed || p.spec.paused || p.generation != generation {
            return;
        }
        match p.spec.rate {
            RatePattern::Burst { count, .. } => {
                self.publish_many(id, count, false, route);
                return;
            }
            _ => self.publish(id, false, route),
        }
        self.schedule_next_tick(id);
    }

    pub(crate) fn publish_many(
        &mut self,
        id: ProducerId,
        count: u64,
        poison: bool,
        route: &mut Route<W>,
    ) {
        for _ in 0..count {
            let p = &self.clients.producers[id.index()];
            if p.spec.limit.is_some_and(|l| p.sent >= l) {
                break;
            }
            self.publish(id, poison, route);
        }
    }

    /// Creates one message from the producer's template and sends a copy to each target.
    pub(crate) fn publish(&mut self, id: ProducerId, poison: bool, route: &mut Route<W>) {
        self.publish_stamped(id, poison, None, route);
    }

    /// Like [`Cx::publish`], for a stage's message: it carries its transaction, and an outbox
    /// row's id fixed when the row was written (PAT-2), so a relay's resend keeps it. Returns
    /// the message's id.
    pub(crate) fn publish_stamped(
        &mut self,
        id: ProducerId,
        poison: bool,
        stamp: Option<(PipeTag, Option<MessageId>)>,
        route: &mut Route<W>,
    ) -> MessageId {
        let (template, outgoing) = self.new_message(id, poison, stamp);
        let msg = template.msg;
        let targets = self.clients.producers[id.index()].plan.targets.len();
        self.world.emit(EventKind::Published { msg, producer: id });
        for n in 0..targets {
            if n > 0 {
                self.world.ledger.fanout_copies += 1;
            }
            let Some(slot) = self.world.new_copy_within_capacity(template.clone()) else {
                continue;
            };
            let target = self.clients.producers[id.index()].plan.targets[n];
            let (to, work) = route(self.world, target, slot, &outgoing);
            let from = NodeRef::Producer(id);
            self.wire.send(self.world, from, to, slot, work);
        }
        msg
    }

    /// The producer's next message from its template, counted as published; its copies are
    /// for the caller to create. `stamp` as in [`Cx::publish_stamped`].
    pub(crate) fn new_message(
        &mut self,
        id: ProducerId,
        poison: bool,
        stamp: Option<(PipeTag, Option<MessageId>)>,
    ) -> (MessageCopy, Outgoing) {
        let p = &mut self.clients.producers[id.index()];
        let i = p.cursor as usize;
        p.cursor += 1;
        p.sent += 1;
        let plan = &p.plan;
        let pick = |ids: &[u32], none: u32| {
            if ids.is_empty() {
                none
            } else {
                ids[i % ids.len()]
            }
        };
        let t = &p.spec.message;
        let priority =
            (!t.priorities.is_empty()).then(|| t.priorities[i % t.priorities.len()].min(255) as u8);
        let msg = match stamp.and_then(|(_, msg)| msg) {
            Some(msg) => msg,
            None => self.world.new_message_id(),
        };
        self.world.ledger.published += 1;
        let template = MessageCopy {
            msg,
            state: CopyState::InFlight,
            producer: Some(id),
            published_at: self.world.now,
            expires_at: SimTime::MAX,
            ttl: t.ttl_ms.map_or(u64::MAX, ms_to_us),
            queue_seq: 0,
            size: t.size_bytes,
            priority,
            routing_key: pick(&plan.routing_keys, 0),
            headers: pick(&plan.header_sets, EMPTY_HEADERS),
            key: pick(&plan.record_keys, NO_KEY),
            tombstone: !t.tombstones.is_empty() && t.tombstones[i % t.tombstones.len()],
            delivery_count: 0,
            redelivered: false,
            poison,
            persistent: t.persistent.unwrap_or(true),
            deaths: None,
            cycle_at: SimTime::MAX,
            cycles: 0,
            waiting_since: SimTime::ZERO,
            pipe: stamp.map(|(tag, _)| tag),
        };
        let outgoing = Outgoing {
            key: template.key,
            size: template.size,
            group: pick(&plan.group_ids, NO_KEY),
            dedup: pick(&plan.dedup_ids, NO_KEY),
            body: pick(&plan.bodies, NO_KEY),
            delay_us: t.delay_ms.map(ms_to_us),
            stream_id: (!plan.stream_ids.is_empty())
                .then(|| plan.stream_ids[i % plan.stream_ids.len()])
                .flatten(),
        };
        (template, outgoing)
    }

    /// Resolves a producer's names and template values to ids once, so publishing a message
    /// does no string lookups.
    /// `targets` are the spec's targets, resolved by their families.
    pub(crate) fn plan(
        &mut self,
        id: u32,
        version: u32,
        spec: &ProducerSpec,
        targets: Vec<NodeRef>,
    ) -> ProducerPlan {
        let m = &spec.message;
        let mut intern = |values: &[String]| -> Vec<u32> {
            values
                .iter()
                .map(|k| self.world.keys.intern(k.clone(), || k.clone()))
                .collect()
        };
        let routing_keys = intern(&m.routing_keys);
        let record_keys = intern(&m.keys);
        let group_ids = intern(&m.group_ids);
        let dedup_ids = intern(&m.dedup_ids);
        let bodies = intern(&m.bodies);
        let header_sets = m
            .headers
            .iter()
            .enumerate()
            .map(|(i, h)| {
                self.world
                    .header_sets
                    .intern((id, version, i), || h.clone())
            })
            .collect();
        ProducerPlan {
            targets,
            routing_keys,
            record_keys,
            header_sets,
            group_ids,
            dedup_ids,
            bodies,
            stream_ids: m.stream_ids.iter().map(|s| EntryId::parse(s)).collect(),
        }
    }

    /// Adds a checked producer whose targets its families resolved.
    pub(crate) fn add_producer(&mut self, spec: ProducerSpec, targets: Vec<NodeRef>) -> ProducerId {
        let id = self.clients.producers.len() as u32;
        let plan = self.plan(id, 0, &spec, targets);
        self.clients.producers.push(Producer {
            plan,
            spec,
            removed: false,
            generation: 0,
            template_version: 0,
            sent: 0,
            cursor: 0,
            started_at: self.world.now,
            confirms_acked: 0,
            confirms_nacked: 0,
            returned: 0,
            returns: Vec::new(),
            nacks: Vec::new(),
        });
        let id = ProducerId((self.clients.producers.len() - 1) as u32);
        self.schedule_next_tick(id);
        id
    }
}
