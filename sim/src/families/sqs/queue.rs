//! One SQS queue's storage: its messages in send order, the visible ones, FIFO message groups,
//! the deduplication window and the long polls waiting. Bookkeeping only; the rules that move
//! messages between states are in `mod.rs`.

use crate::ids::{ConsumerId, MessageId};
use crate::message::Slot;
use crate::scenario::{SqsQueueSpec, SqsQueueType};
use crate::time::SimTime;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Where a stored message is (SQS-2, SQS-11).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MsgState {
    /// Hidden by `DelaySeconds` until `until`.
    Delayed { until: SimTime },
    /// Any receive may return it.
    Visible,
    /// Returned by a receive and hidden by the visibility timeout until `until`.
    InFlight {
        consumer: ConsumerId,
        until: SimTime,
        received_at: SimTime,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct SqsMsg {
    pub slot: Slot,
    pub msg: MessageId,
    /// The retention clock starts here (SQS-5).
    pub enqueued_at: SimTime,
    /// When it came into this queue: `ApproximateAgeOfOldestMessage` counts from here, also in a
    /// standard dead-letter queue whose retention counts from `enqueued_at` (SQS-4).
    pub arrived_at: SimTime,
    pub state: MsgState,
    /// `ApproximateReceiveCount`: every receive counts, across queues (SQS-3).
    pub receive_count: u32,
    /// `ApproximateFirstReceiveTimestamp`.
    pub first_receive_at: Option<SimTime>,
    /// Interned `MessageGroupId` on FIFO queues, `NO_KEY` otherwise (SQS-8).
    pub group: u32,
    /// The virtual server that stores it, for short-poll sampling (SQS-6).
    pub server: u32,
    /// For the copy a server kept after a delete, the receive count then: such a copy never
    /// leaves another, and its first return is the duplicate (SQS-1).
    pub duplicate_of_receive: Option<u32>,
    /// A receive passed it over once already (SQS-1).
    pub passed_over: bool,
}

/// A long poll waiting for a message (SQS-6).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Waiting {
    pub consumer: ConsumerId,
    /// The consumer's connection when it sent the request; SQS answers it whatever happened
    /// to that connection since.
    pub epoch: u32,
    pub request: u32,
    pub max: u32,
    pub visibility_us: u64,
    /// Short poll: answered at once, after sampling servers.
    pub short: bool,
}

/// A FIFO message group: its messages in order and how many are in flight (SQS-8).
#[derive(Clone, Debug, Default)]
struct Group {
    seqs: BTreeSet<u64>,
    in_flight: u32,
    /// The head's sequence number while the group is receivable (listed in `ready_groups`).
    ready_at: Option<u64>,
}

/// Counts in console words.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    pub sent: u64,
    pub received: u64,
    pub deleted: u64,
    /// `NumberOfEmptyReceives`.
    pub empty_receives: u64,
    pub redriven: u64,
    pub expired: u64,
    pub deduplicated: u64,
    pub duplicates: u64,
}

/// A deduplication key: (scope, id). The scope is the message group under
/// `DeduplicationScope=messageGroup`, `NO_KEY` for the whole queue (SQS-9).
type DedupKey = (u32, u32);

#[derive(Clone, Debug)]
pub(crate) struct SqsQueue {
    pub spec: SqsQueueSpec,
    /// Every stored message (delayed, visible or in flight) by sequence number: send order.
    pub messages: BTreeMap<u64, SqsMsg>,
    visible: BTreeSet<u64>,
    in_flight: BTreeSet<u64>,
    groups: BTreeMap<u32, Group>,
    /// FIFO groups with nothing in flight whose head is visible, by head: the oldest first.
    ready_groups: BTreeSet<(u64, u32)>,
    /// Deduplication ids accepted, until when they count, and the message they kept.
    dedup: BTreeMap<DedupKey, (SimTime, MessageId)>,
    dedup_expiry: VecDeque<(SimTime, DedupKey)>,
    /// How many stored messages arrived at each instant, for the oldest one's age.
    arrivals: BTreeMap<SimTime, u32>,
    /// Receives waiting for a message, in arrival order (SQS-6).
    pub waiting: VecDeque<Waiting>,
    /// The instant a serve of the waiting receives is already scheduled for.
    pub serve_at: Option<SimTime>,
    pub delayed: u64,
    pub counters: Counters,
}

impl SqsQueue {
    pub fn new(spec: SqsQueueSpec) -> SqsQueue {
        SqsQueue {
            spec,
            messages: BTreeMap::new(),
            visible: BTreeSet::new(),
            in_flight: BTreeSet::new(),
            groups: BTreeMap::new(),
            ready_groups: BTreeSet::new(),
            dedup: BTreeMap::new(),
            dedup_expiry: VecDeque::new(),
            arrivals: BTreeMap::new(),
            waiting: VecDeque::new(),
            serve_at: None,
            delayed: 0,
            counters: Counters::default(),
        }
    }

    pub fn is_fifo(&self) -> bool {
        self.spec.kind == SqsQueueType::Fifo
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// `ApproximateNumberOfMessagesVisible` (exact here).
    pub fn visible_len(&self) -> u64 {
        self.visible.len() as u64
    }

    /// `ApproximateNumberOfMessagesNotVisible`: in flight.
    pub fn in_flight_len(&self) -> u64 {
        self.in_flight.len() as u64
    }

    /// In-flight messages in send order.
    pub fn in_flight_seqs(&self) -> impl Iterator<Item = u64> + '_ {
        self.in_flight.iter().copied()
    }

    /// Stored and not in flight: delayed or visible.
    pub fn queued_len(&self) -> u64 {
        self.visible_len() + self.delayed
    }

    /// Visible messages in send order.
    pub fn visible_seqs(&self) -> impl Iterator<Item = u64> + '_ {
        self.visible.iter().copied()
    }

    /// When the oldest stored message came into this queue.
    pub fn oldest_arrival(&self) -> Option<SimTime> {
        self.arrivals.keys().next().copied()
    }

    /// The first visible message from `from` on whose server is in `servers` (a bit mask).
    pub fn next_visible(&self, from: u64, servers: u64) -> Option<u64> {
        self.visible
            .range(from..)
            .copied()
            .find(|s| servers & (1 << self.messages[s].server) != 0)
    }

    /// The oldest receivable FIFO group: (its head, the group).
    pub fn first_ready_group(&self) -> Option<(u64, u32)> {
        self.ready_groups.first().copied()
    }

    /// The group's next message after `seq`.
    pub fn group_after(&self, group: u32, seq: u64) -> Option<u64> {
        let g = self.groups.get(&group)?;
        g.seqs.range(seq + 1..).next().copied()
    }

    /// Stores a message, in whatever state it is.
    pub fn insert(&mut self, seq: u64, m: SqsMsg) {
        let (group, at) = (m.group, m.arrived_at);
        *self.arrivals.entry(at).or_default() += 1;
        self.messages.insert(seq, m);
        if self.is_fifo() {
            self.groups.entry(group).or_default().seqs.insert(seq);
        }
        self.enter(seq);
    }

    /// Removes a message from every index.
    pub fn remove(&mut self, seq: u64) -> SqsMsg {
        self.leave(seq);
        let m = self.messages.remove(&seq).expect("stored message");
        if let Some(n) = self.arrivals.get_mut(&m.arrived_at) {
            *n -= 1;
            if *n == 0 {
                self.arrivals.remove(&m.arrived_at);
            }
        }
        if let Some(g) = self.groups.get_mut(&m.group) {
            g.seqs.remove(&seq);
            self.refresh_group(m.group);
        }
        m
    }

    pub fn set_state(&mut self, seq: u64, state: MsgState) {
        self.leave(seq);
        self.messages.get_mut(&seq).expect("stored message").state = state;
        self.enter(seq);
    }

    /// Counts the message's state in the indexes.
    fn enter(&mut self, seq: u64) {
        let m = &self.messages[&seq];
        let group = m.group;
        match m.state {
            MsgState::Delayed { .. } => self.delayed += 1,
            MsgState::Visible => {
                self.visible.insert(seq);
            }
            MsgState::InFlight { .. } => {
                self.in_flight.insert(seq);
                if let Some(g) = self.groups.get_mut(&group) {
                    g.in_flight += 1;
                }
            }
        }
        self.refresh_group(group);
    }

    /// Takes the message's state out of the indexes.
    fn leave(&mut self, seq: u64) {
        let m = &self.messages[&seq];
        match m.state {
            MsgState::Delayed { .. } => self.delayed -= 1,
            MsgState::Visible => {
                self.visible.remove(&seq);
            }
            MsgState::InFlight { .. } => {
                self.in_flight.remove(&seq);
                if let Some(g) = self.groups.get_mut(&m.group) {
                    g.in_flight -= 1;
                }
            }
        }
    }

    /// A FIFO group is receivable while nothing of it is in flight and its head is visible.
    fn refresh_group(&mut self, group: u32) {
        let Some(g) = self.groups.get_mut(&group) else {
            return;
        };
        if let Some(head) = g.ready_at.take() {
            self.ready_groups.remove(&(head, group));
        }
        let Some(&head) = g.seqs.first() else {
            self.groups.remove(&group);
            return;
        };
        if g.in_flight == 0 && self.messages[&head].state == MsgState::Visible {
            g.ready_at = Some(head);
            self.ready_groups.insert((head, group));
        }
    }

    /// The message a deduplication key kept within its window, if any; forgets expired keys.
    pub fn deduplicated(&mut self, key: DedupKey, now: SimTime) -> Option<MessageId> {
        while let Some(&(until, k)) = self.dedup_expiry.front() {
            if until > now {
                break;
            }
            self.dedup_expiry.pop_front();
            if self.dedup.get(&k).is_some_and(|(u, _)| *u == until) {
                self.dedup.remove(&k);
            }
        }
        self.dedup.get(&key).map(|(_, m)| *m)
    }

    /// Starts a deduplication window for an accepted message.
    pub fn remember_dedup(&mut self, key: DedupKey, until: SimTime, msg: MessageId) {
        self.dedup.insert(key, (until, msg));
        self.dedup_expiry.push_back((until, key));
    }
}
