//! One Redis stream: its entries in id order, the radix tree's macro nodes (which `MAXLEN ~`
//! trims whole), its consumer groups with their PELs, and the figures `XINFO` and `XPENDING`
//! report.

use crate::ids::{ConsumerId, EntryId, MessageId};
use crate::message::Slot;
use crate::scenario::StreamSpec;
use crate::time::SimTime;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// An entry: its message's copy stays in the copy store as `Retained` while the stream has it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub slot: Slot,
    pub msg: MessageId,
    pub size: u32,
    /// When `XADD` appended it: queueing theory's arrival (QT-1).
    pub added_at: SimTime,
}

/// A listpack node of the stream's radix tree (`t_stream.c`): appends go to the last node until
/// it holds `node_max_entries` (deleted ones count) or `node_max_bytes` (RST-2).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node {
    pub live: u32,
    pub deleted: u32,
    pub bytes: u64,
}

/// A pending entry: who owns it, when it was last delivered, how often (RST-4).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Nack {
    pub owner: ConsumerId,
    pub delivered_at: SimTime,
    pub count: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct Group {
    pub name: String,
    pub last_delivered: EntryId,
    /// `entries-read`; `None` when Redis cannot tell (after `SETID`, or an arbitrary start).
    pub entries_read: Option<u64>,
    pub pel: BTreeMap<EntryId, Nack>,
    /// Consumers the group knows: created on first mention (RST-5).
    pub consumers: BTreeSet<ConsumerId>,
    /// Queueing theory's line (QT-1): entries above this id have arrived for the group and not
    /// been read with `>`; `None` until the first entry arrives after the group exists. A
    /// re-read (a replica's rewind, `SETID` back) is not a new wait.
    pub metered_upto: Option<EntryId>,
}

impl Group {
    /// Pending entries per owner (`XPENDING` summary).
    pub fn pending_by_owner(&self) -> BTreeMap<ConsumerId, u64> {
        let mut by = BTreeMap::new();
        for n in self.pel.values() {
            *by.entry(n.owner).or_default() += 1;
        }
        by
    }
}

/// A change a lagging replica may not have yet (RST-9).
#[derive(Clone, Debug)]
pub(crate) enum Op {
    Add(EntryId),
    Ack {
        group: usize,
        id: EntryId,
        nack: Nack,
    },
    Read {
        group: usize,
        last_delivered: EntryId,
        entries_read: Option<u64>,
        ids: Vec<EntryId>,
    },
}

/// A consumer's `XREAD` or `XREADGROUP … >` waiting for entries (`BLOCK`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Blocked {
    pub consumer: ConsumerId,
    pub epoch: u32,
    pub request: u32,
    pub ask: super::Ask,
}

#[derive(Clone, Debug)]
pub(crate) struct Stream {
    pub spec: StreamSpec,
    pub entries: BTreeMap<EntryId, Entry>,
    pub nodes: VecDeque<Node>,
    pub last_id: EntryId,
    pub entries_added: u64,
    pub groups: Vec<Group>,
    /// Blocked readers, served first come first served (RST-3, RST-5).
    pub blocked: VecDeque<Blocked>,
    /// Blocked readers are served at the end of this instant.
    pub serve_at: Option<SimTime>,
    /// Changes within the replication lag, newest last (RST-9).
    pub oplog: VecDeque<(SimTime, Op)>,
}

impl Stream {
    pub fn new(spec: StreamSpec) -> Stream {
        Stream {
            spec,
            entries: BTreeMap::new(),
            nodes: VecDeque::new(),
            last_id: EntryId::ZERO,
            entries_added: 0,
            groups: Vec::new(),
            blocked: VecDeque::new(),
            serve_at: None,
            oplog: VecDeque::new(),
        }
    }

    pub fn key(&self) -> &str {
        &self.spec.key
    }

    /// `XLEN`.
    pub fn len(&self) -> u64 {
        self.entries.len() as u64
    }

    pub fn group_id(&self, name: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.name == name)
    }

    /// The id `XADD *` gives at `now` (RST-1): the millisecond, or the last id's if the clock
    /// is behind it, and the next sequence number within one millisecond; `None` once the last
    /// possible id is taken (`streamIncrID`).
    pub fn auto_id(&self, now: SimTime) -> Option<EntryId> {
        let last = self.last_id;
        let ms = (now.0 / 1_000).max(last.ms);
        if ms > last.ms || self.entries_added == 0 {
            return Some(EntryId::new(ms, 0));
        }
        match last.seq.checked_add(1) {
            Some(seq) => Some(EntryId::new(ms, seq)),
            None => Some(EntryId::new(ms.checked_add(1)?, 0)),
        }
    }

    /// Appends an accepted entry into the last node, or a new one when that is full.
    pub fn append(&mut self, id: EntryId, entry: Entry) {
        let (max_entries, max_bytes) = (self.spec.node_max_entries, self.spec.node_max_bytes);
        let size = u64::from(entry.size);
        match self.nodes.back_mut() {
            Some(n)
                if n.live + n.deleted < max_entries && n.bytes + size < u64::from(max_bytes) =>
            {
                n.live += 1;
                n.bytes += size;
            }
            _ => self.nodes.push_back(Node {
                live: 1,
                deleted: 0,
                bytes: size,
            }),
        }
        self.entries.insert(id, entry);
        self.last_id = id;
        self.entries_added += 1;
    }

    /// Takes the entries `MAXLEN` removes, oldest first (RST-2): exactly down to `n`, or with
    /// `approx` only whole nodes, while what is left stays at least `n`.
    pub fn trim(&mut self, n: u64, approx: bool) -> Vec<(EntryId, Entry)> {
        let mut removed = Vec::new();
        while let Some(&node) = self.nodes.front() {
            let len = self.len();
            if approx {
                if len - u64::from(node.live) < n {
                    break;
                }
                for _ in 0..node.live {
                    removed.push(self.entries.pop_first().expect("a live entry"));
                }
                self.nodes.pop_front();
                continue;
            }
            if len <= n {
                break;
            }
            let take = (len - n).min(u64::from(node.live)) as u32;
            for _ in 0..take {
                removed.push(self.entries.pop_first().expect("a live entry"));
            }
            let front = self.nodes.front_mut().expect("the node");
            front.live -= take;
            front.deleted += take;
            if front.live == 0 {
                self.nodes.pop_front();
            }
        }
        removed
    }

    /// Removes the newest entry (a failover undoing its `XADD`, RST-9).
    pub fn pop_last(&mut self, id: EntryId) -> Option<Entry> {
        let e = self.entries.remove(&id)?;
        if let Some(n) = self.nodes.back_mut() {
            n.live -= 1;
            n.bytes -= u64::from(e.size);
            if n.live == 0 {
                self.nodes.pop_back();
            }
        }
        self.entries_added -= 1;
        self.last_id = self
            .entries
            .last_key_value()
            .map_or(EntryId::ZERO, |(k, _)| *k);
        Some(e)
    }

    /// What Redis can tell of the entries read up to `id`
    /// (`streamEstimateDistanceFromFirstEverEntry`); `None` for an id inside the stream.
    pub fn estimate_read(&self, id: EntryId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if id == self.last_id || (self.entries.is_empty() && id < self.last_id) {
            return Some(self.entries_added);
        }
        if id > self.last_id {
            return None;
        }
        let first = *self.entries.first_key_value()?.0;
        if id < first {
            Some(self.entries_added - self.len())
        } else if id == first {
            Some(self.entries_added - self.len() + 1)
        } else {
            None
        }
    }

    /// `XINFO GROUPS` lag: entries added and not yet read by the group, or `None` (NULL) when
    /// Redis cannot tell (RST-4).
    pub fn lag(&self, g: usize) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        let group = &self.groups[g];
        let read = match group.entries_read {
            Some(r) => r,
            None => self.estimate_read(group.last_delivered)?,
        };
        Some(self.entries_added.saturating_sub(read))
    }

    /// A `>` read delivered `id`: the group's last id and read counter move (RST-5).
    pub fn advance_group(&mut self, g: usize, id: EntryId) {
        let read = match self.groups[g].entries_read {
            Some(r) => Some(r + 1),
            None => self.estimate_read(id),
        };
        let group = &mut self.groups[g];
        group.entries_read = read;
        group.last_delivered = id;
    }

    /// Keeps a change while the replica may lack it; forgets those older than the lag.
    pub fn log(&mut self, now: SimTime, lag_us: u64, op: Op) {
        if lag_us == 0 {
            return;
        }
        while self
            .oplog
            .front()
            .is_some_and(|(t, _)| t.0.saturating_add(lag_us) < now.0)
        {
            self.oplog.pop_front();
        }
        self.oplog.push_back((now, op));
    }
}
