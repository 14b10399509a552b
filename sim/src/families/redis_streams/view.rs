//! What the UI and reports show of Redis streams, in the words of `XINFO` and `XPENDING`.

use super::RedisStreams;
use crate::ids::{ConsumerId, EntryId, StreamId};
use crate::kernel::World;
use crate::wire::Chip;
use serde::Serialize;

/// Entries and PEL rows listed per stream and group; the figures count them all.
const MAX_LISTED: usize = 50;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StreamView {
    pub id: StreamId,
    pub key: String,
    /// `XLEN`.
    pub length: u64,
    /// `XINFO STREAM`: `last-generated-id`, `entries-added`, `radix-tree-nodes`.
    pub last_id: EntryId,
    pub entries_added: u64,
    pub first_id: Option<EntryId>,
    pub nodes: u64,
    /// The newest entries, oldest first, with their ids.
    pub tail: Vec<(EntryId, Chip)>,
    pub groups: Vec<StreamGroupView>,
    /// `XREAD` readers and where each is.
    pub readers: Vec<(ConsumerId, Option<EntryId>)>,
}

/// `XINFO GROUPS` and the `XPENDING` summary of one group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StreamGroupView {
    pub name: String,
    pub last_delivered_id: EntryId,
    pub entries_read: Option<u64>,
    /// `None` is Redis's NULL: it cannot tell (RST-4).
    pub lag: Option<u64>,
    /// `XPENDING` count, smallest and largest id.
    pub pending: u64,
    pub pending_range: Option<(EntryId, EntryId)>,
    /// Consumers the group knows, with their pending counts.
    pub consumers: Vec<(ConsumerId, u64)>,
    /// `XPENDING … IDLE`: the oldest pending entries.
    pub pel: Vec<PendingView>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PendingView {
    pub id: EntryId,
    pub owner: ConsumerId,
    pub idle_ms: f64,
    pub delivery_count: u32,
    /// Its entry was trimmed: reads return it with a nil body (RST-2).
    pub deleted: bool,
}

impl RedisStreams {
    pub(crate) fn views<W>(&self, world: &World<W>) -> Vec<StreamView> {
        let now = world.now;
        (self.streams.iter().enumerate())
            .map(|(i, s)| {
                let groups = (s.groups.iter().enumerate())
                    .map(|(g, group)| {
                        let by_owner = group.pending_by_owner();
                        StreamGroupView {
                            name: group.name.clone(),
                            last_delivered_id: group.last_delivered,
                            entries_read: group.entries_read,
                            lag: s.lag(g),
                            pending: group.pel.len() as u64,
                            pending_range: group
                                .pel
                                .first_key_value()
                                .zip(group.pel.last_key_value())
                                .map(|((a, _), (b, _))| (*a, *b)),
                            consumers: (group.consumers.iter())
                                .map(|c| (*c, by_owner.get(c).copied().unwrap_or(0)))
                                .collect(),
                            pel: (group.pel.iter().take(MAX_LISTED))
                                .map(|(id, n)| PendingView {
                                    id: *id,
                                    owner: n.owner,
                                    idle_ms: now.since(n.delivered_at) as f64 / 1_000.0,
                                    delivery_count: n.count,
                                    deleted: !s.entries.contains_key(id),
                                })
                                .collect(),
                        }
                    })
                    .collect();
                let skip = s.entries.len().saturating_sub(MAX_LISTED);
                StreamView {
                    id: StreamId(i as u32),
                    key: s.key().to_string(),
                    length: s.len(),
                    last_id: s.last_id,
                    entries_added: s.entries_added,
                    first_id: s.entries.first_key_value().map(|(id, _)| *id),
                    nodes: s.nodes.len() as u64,
                    tail: (s.entries.iter().skip(skip))
                        .map(|(id, e)| (*id, Chip::of(world, e.slot)))
                        .collect(),
                    groups,
                    readers: (self.readers.iter())
                        .filter(|(_, r)| r.stream.index() == i && r.group.is_none())
                        .map(|(c, r)| (*c, r.cursor))
                        .collect(),
                }
            })
            .collect()
    }

    /// Entries a group consumer owns in its group's PEL (its `XPENDING` count).
    pub(crate) fn pending_of(&self, cid: ConsumerId) -> Option<u64> {
        let r = self.readers.get(&cid)?;
        let g = r.group?;
        let group = &self.streams[r.stream.index()].groups[g];
        Some(group.pel.values().filter(|n| n.owner == cid).count() as u64)
    }
}
