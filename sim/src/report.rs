//! The headless runner's report: what a teacher checks before class and what fidelity tests read.

use crate::event::{Event, EventKind};
use crate::ids::MessageId;
use crate::ledger::{CopyState, Ledger};
use crate::sim::Simulation;
use crate::snapshot::{LatencyView, QueueView};
use crate::time::SimTime;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Debug, Serialize)]
pub struct ReceivedMessage {
    pub msg: MessageId,
    pub redelivered: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct DeadLetterEntry {
    pub msg: MessageId,
    pub from_queue: String,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PublisherReport {
    pub sent: u64,
    pub confirms_acked: u64,
    pub confirms_nacked: u64,
    pub returned: Vec<MessageId>,
    pub nacked: Vec<MessageId>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub seed: u64,
    pub until: SimTime,
    pub events: usize,
    pub digest: String,
    pub ledger: Ledger,
    pub balanced: bool,
    pub queues: Vec<QueueView>,
    pub latency: LatencyView,
    /// Per consumer, every message id it received in order.
    pub received: BTreeMap<String, Vec<ReceivedMessage>>,
    /// Each queue's final ready contents in delivery order.
    pub queue_contents: BTreeMap<String, Vec<MessageId>>,
    pub dead_letters: Vec<DeadLetterEntry>,
    pub publishers: BTreeMap<String, PublisherReport>,
    /// Per partition (`topic/partition`), offset → message id.
    pub partitions: BTreeMap<String, Vec<(u64, MessageId)>>,
    /// Per group member, the records it processed with their offsets.
    pub group_deliveries: BTreeMap<String, Vec<GroupDelivery>>,
    pub topics: Vec<crate::snapshot::TopicView>,
    pub groups: Vec<crate::snapshot::GroupView>,
    pub services: Vec<crate::snapshot::ServiceView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct GroupDelivery {
    pub topic: String,
    pub partition: u32,
    pub offset: u64,
    pub msg: MessageId,
    pub duplicate: bool,
}

impl Simulation {
    /// Builds the runner's report from the events the caller collected.
    pub fn report(&self, seed: u64, events: &[Event]) -> Report {
        let snap = self.snapshot();
        let received = self
            .consumers
            .iter()
            .map(|c| {
                let list = c.log.iter().map(|(msg, redelivered)| ReceivedMessage {
                    msg: *msg,
                    redelivered: *redelivered,
                });
                (c.spec.name.clone(), list.collect())
            })
            .collect();
        let queue_contents = self
            .queues
            .iter()
            .map(|q| {
                let msgs = q.all_ready().map(|s| self.copies.get(s).msg).collect();
                (q.name().to_string(), msgs)
            })
            .collect();
        let dead_letters = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::DeadLettered { msg, queue, reason } => Some(DeadLetterEntry {
                    msg: *msg,
                    from_queue: self.queues[queue.index()].name().to_string(),
                    reason: reason.to_string(),
                }),
                _ => None,
            })
            .collect();
        let publishers = self
            .producers
            .iter()
            .map(|p| {
                (
                    p.spec.name.clone(),
                    PublisherReport {
                        sent: p.sent,
                        confirms_acked: p.confirms_acked,
                        confirms_nacked: p.confirms_nacked,
                        returned: p.returns.clone(),
                        nacked: p.nacks.clone(),
                    },
                )
            })
            .collect();
        let partitions = self
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions.iter().enumerate().map(move |(p, log)| {
                    let contents = log.iter_from(0).map(|(o, r)| (o, r.msg)).collect();
                    (format!("{}/{p}", t.spec.name), contents)
                })
            })
            .collect();
        let group_deliveries = self
            .members
            .iter()
            .map(|(c, m)| {
                let list = m
                    .log
                    .iter()
                    .map(|(tp, offset, msg, duplicate)| GroupDelivery {
                        topic: self.topics[tp.topic as usize].spec.name.clone(),
                        partition: tp.partition,
                        offset: *offset,
                        msg: *msg,
                        duplicate: *duplicate,
                    })
                    .collect();
                (self.consumers[c.index()].spec.name.clone(), list)
            })
            .collect();
        Report {
            partitions,
            group_deliveries,
            topics: snap.topics,
            groups: snap.groups,
            services: snap.services,
            seed,
            until: self.now,
            events: events.len(),
            digest: format!("{:016x}", self.digest().0),
            ledger: self.ledger.clone(),
            balanced: self.ledger.is_balanced(),
            queues: snap.queues,
            latency: snap.latency,
            received,
            queue_contents,
            dead_letters,
            publishers,
        }
    }

    /// The state of every live copy of a message, for tracing.
    pub fn copies_of(&self, msg: MessageId) -> Vec<CopyState> {
        self.copies
            .iter_live()
            .filter(|(_, c)| c.msg == msg)
            .map(|(_, c)| c.state)
            .collect()
    }
}
