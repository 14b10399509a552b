//! Redis Streams (RST-1..RST-9): an append-only log per key, read by `XREAD` readers (each sees
//! everything) and by consumer groups (each entry once per group, then pending in the reader's
//! PEL until `XACK`). Reading and acking never remove an entry; only trimming does. Nothing is
//! ever redelivered by itself: pending entries wait for their owner's `0` read or a claim.
//!
//! The consumer's loop lives here, as SQS's does: a read goes out, the reply's entries go
//! through the client runtime's buffer and processing, each processed entry is acked (or left),
//! and a consumer with nothing left reads again. An entry's copy stays in the copy store as
//! `Retained`, and every reader is handed that one copy; a trimmed entry a consumer still reads
//! keeps its slot until it finishes.

pub mod stream;
pub mod view;

use crate::clients::{decide, ClientWork, Closure, ConsumerStatus, Cx, Readers};
use crate::command::{at_cap, CommandError};
use crate::event::{EventKind, StreamEvent, StreamItem};
use crate::ids::{ConsumerId, EntryId, MessageId, StreamId};
use crate::kernel::ms_to_us;
use crate::ledger::{CopyState, DropReason};
use crate::message::Slot;
use crate::scenario::redis_streams::{self as spec, OnStart, Resume};
use crate::scenario::StreamSpec;
use crate::scenario::{ConsumerSource, DecisionAction, StreamGroupSpec, StreamReadSpec};
use crate::wire::NodeRef;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use stream::{Blocked, Entry, Group, Nack, Op, Stream};

/// Queueing theory's line for group `g` of stream `s` (QT-1).
fn line(s: StreamId, g: usize) -> crate::ledger::Store {
    crate::ledger::Store::Log {
        log: s.0,
        partition: 0,
        reader: g as u32,
    }
}

/// Entries listed per consumer in the report's sent and seen logs; beyond, only counts grow.
const MAX_LOGGED: usize = crate::clients::MAX_LOGGED_DELIVERIES;

/// What a read asks Redis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ask {
    /// `XREAD … id`: entries after `after`; `None` is `$`, the last id when the call arrives.
    Xread { after: Option<EntryId> },
    /// `XREADGROUP … >`: entries no one in the group has had.
    New,
    /// `XREADGROUP … id`: the consumer's own pending entries after `after` (RST-6).
    Pending { after: EntryId },
}

/// A claim on its way to Redis (RST-8).
#[derive(Clone, Debug)]
pub(crate) enum ClaimCall {
    /// `XCLAIM … id…`.
    Ids(Vec<EntryId>),
    /// `XAUTOCLAIM … start COUNT n`; `own` when it is the consumer's periodic claim.
    Auto {
        start: EntryId,
        count: u32,
        own: bool,
    },
}

/// A delivered entry the consumer has not finished.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reading {
    pub id: EntryId,
    pub slot: Slot,
    pub msg: MessageId,
    /// The PEL's delivery count when it was delivered (1 for `XREAD`).
    pub count: u32,
    /// The consumer's own count when it started processing it; 0 before.
    pub delivery: u64,
}

/// One consumer's side of the `XREAD` / `XREADGROUP` loop.
#[derive(Clone, Debug)]
pub(crate) struct Reader {
    pub stream: StreamId,
    /// Its group on the stream; `None` for an `XREAD` reader.
    pub group: Option<usize>,
    /// `XREAD`: the last id its application saw, `None` for `$`.
    pub cursor: Option<EntryId>,
    /// `XREADGROUP`: while set, it reads its own pending entries after this id, then `>`.
    pub pending_after: Option<EntryId>,
    /// A read is on the wire or blocked; the next one waits for its reply.
    pub awaiting: bool,
    requests: u32,
    /// Delivered and not yet processed, by delivery tag.
    pub reading: BTreeMap<u64, Reading>,
    /// Where its next periodic `XAUTOCLAIM` starts.
    claim_cursor: EntryId,
    /// Entries it started processing, over its whole life (`delivery` in decisions).
    pub seen: u64,
    /// What Redis sent it, with the delivery count: some of it it never saw.
    pub sent_log: Vec<(MessageId, u32)>,
    /// What its application started processing.
    pub seen_log: Vec<MessageId>,
}

/// Redis Streams' state: streams, each consumer's loop, and the copies consumers read.
#[derive(Clone, Debug, Default)]
pub(crate) struct RedisStreams {
    pub streams: Vec<Stream>,
    pub readers: BTreeMap<ConsumerId, Reader>,
    reads: Readers,
}

impl RedisStreams {
    /// Each group of stream `node` as one queue its readers share (`XREADGROUP >` hands the
    /// next entries to whichever reader asks): the group's name, its meter line and readers.
    pub(crate) fn reader_lines(
        &self,
        node: NodeRef,
    ) -> Vec<(String, crate::ledger::Store, Vec<ConsumerId>)> {
        let NodeRef::Stream(s) = node else {
            return Vec::new();
        };
        let stream = &self.streams[s.index()];
        (stream.groups.iter().enumerate())
            .map(|(g, group)| {
                let readers = (self.readers.iter())
                    .filter(|(_, r)| r.stream == s && r.group == Some(g))
                    .map(|(c, _)| *c)
                    .collect();
                (group.name.clone(), line(s, g), readers)
            })
            .collect()
    }

    pub(crate) fn stream_id(&self, key: &str) -> Option<StreamId> {
        self.streams
            .iter()
            .position(|s| s.key() == key)
            .map(|i| StreamId(i as u32))
    }

    /// Whether a stream exists, with the group if one is named.
    pub(crate) fn knows(&self, key: &str, group: Option<&str>) -> bool {
        self.stream_id(key)
            .is_some_and(|s| group.is_none_or(|g| self.streams[s.index()].group_id(g).is_some()))
    }

    /// Each stream's settings, with the groups created since.
    pub(crate) fn specs(&self) -> Vec<StreamSpec> {
        self.streams.iter().map(|s| s.spec.clone()).collect()
    }

    /// Entries in every stream: each is one `Retained` copy with its slot.
    pub(crate) fn stored_entries(&self) -> u64 {
        self.streams.iter().map(Stream::len).sum()
    }

    pub(crate) fn entry_slots(&self) -> impl Iterator<Item = Slot> + '_ {
        self.streams
            .iter()
            .flat_map(|s| s.entries.values().map(|e| e.slot))
    }

    pub(crate) fn pinned(&self) -> impl Iterator<Item = Slot> + '_ {
        self.reads.pinned()
    }

    fn group_of(&self, key: &str, group: &str) -> Result<(StreamId, usize), CommandError> {
        let s = self
            .stream_id(key)
            .ok_or_else(|| CommandError::UnknownEntity {
                kind: "stream",
                name: key.to_string(),
            })?;
        let g =
            self.streams[s.index()]
                .group_id(group)
                .ok_or_else(|| CommandError::NotApplicable {
                    reason: format!("NOGROUP: no group {group:?} on stream {key:?}"),
                })?;
        Ok((s, g))
    }

    /// Registers a stream consumer's loop (stopped); its source was checked.
    pub(crate) fn add_consumer(&mut self, cid: ConsumerId, source: &ConsumerSource) {
        let (stream, group, from) = match source {
            ConsumerSource::StreamGroup { stream, group } => {
                let (s, g) = self.group_of(stream, group).expect("a checked group");
                (s, Some(g), None)
            }
            ConsumerSource::StreamRead { stream, from } => {
                let s = self.stream_id(stream).expect("a checked stream");
                (s, None, EntryId::parse(from))
            }
            _ => return,
        };
        self.readers.insert(
            cid,
            Reader {
                stream,
                group,
                cursor: from,
                pending_after: None,
                awaiting: false,
                requests: 0,
                reading: BTreeMap::new(),
                claim_cursor: EntryId::ZERO,
                seen: 0,
                sent_log: Vec::new(),
                seen_log: Vec::new(),
            },
        );
    }
}

fn parse_id(path: &str, id: &str) -> Result<EntryId, CommandError> {
    Ok(spec::check_id(path, id)?)
}

impl<W: From<StreamsWork> + From<ClientWork>> Cx<'_, &mut RedisStreams, W> {
    // ------------------------------------------------------------ streams and groups

    /// Adds a stream and its groups; the scenario's streams were checked together.
    pub(crate) fn push_stream(&mut self, spec: StreamSpec) {
        let groups = spec.groups.clone();
        let s = StreamId(self.family.streams.len() as u32);
        self.family.streams.push(Stream::new(spec));
        for g in groups {
            self.create_group(s, &g);
        }
    }

    pub(crate) fn add_stream(&mut self, spec: StreamSpec) -> Result<(), CommandError> {
        at_cap("streams", self.family.streams.len())?;
        spec::validate_stream("stream", &spec)?;
        if self.family.stream_id(&spec.key).is_some() {
            return Err(CommandError::Duplicate {
                kind: "stream",
                name: spec.key,
            });
        }
        self.push_stream(spec);
        Ok(())
    }

    /// `XGROUP CREATE` from a script or the UI.
    pub(crate) fn add_group(&mut self, key: &str, g: StreamGroupSpec) -> Result<(), CommandError> {
        spec::validate_group("group", &g)?;
        let s = self
            .family
            .stream_id(key)
            .ok_or_else(|| CommandError::UnknownEntity {
                kind: "stream",
                name: key.to_string(),
            })?;
        let stream = &self.family.streams[s.index()];
        at_cap("stream groups", stream.groups.len())?;
        if stream.group_id(&g.name).is_some() {
            return Err(CommandError::Duplicate {
                kind: "stream group",
                name: g.name,
            });
        }
        self.create_group(s, &g);
        self.family.streams[s.index()].spec.groups.push(g);
        Ok(())
    }

    /// `XGROUP CREATE key group start` (RST-4): `$` starts after the last entry with a known
    /// read counter; `0` or an id starts there, the counter estimated when asked.
    fn create_group(&mut self, s: StreamId, g: &StreamGroupSpec) {
        let stream = &mut self.family.streams[s.index()];
        let (id, read) = match EntryId::parse(&g.start) {
            Some(id) => (id, None),
            None => (stream.last_id, Some(stream.entries_added)),
        };
        stream.groups.push(Group {
            name: g.name.clone(),
            last_delivered: id,
            entries_read: read,
            pel: BTreeMap::new(),
            consumers: BTreeSet::new(),
            metered_upto: None,
        });
        let group = (stream.groups.len() - 1) as u32;
        self.world.emit(EventKind::Streams(StreamEvent::Xgroup {
            stream: s,
            group,
            id,
            created: true,
        }));
    }

    /// `XGROUP SETID` (RST-4): the read counter becomes unknown.
    pub(crate) fn set_id(&mut self, key: &str, group: &str, id: &str) -> Result<(), CommandError> {
        let (s, g) = self.family.group_of(key, group)?;
        let stream = &mut self.family.streams[s.index()];
        let (id, read) = match id {
            "$" => (stream.last_id, Some(stream.entries_added)),
            _ => (parse_id("id", id)?, None),
        };
        stream.groups[g].last_delivered = id;
        stream.groups[g].entries_read = read;
        self.meter_resync(s);
        self.world.emit(EventKind::Streams(StreamEvent::Xgroup {
            stream: s,
            group: g as u32,
            id,
            created: false,
        }));
        Ok(())
    }

    /// `XTRIM key MAXLEN [=|~] n` (RST-2).
    pub(crate) fn xtrim(&mut self, key: &str, maxlen: spec::MaxLen) -> Result<(), CommandError> {
        let s = self
            .family
            .stream_id(key)
            .ok_or_else(|| CommandError::UnknownEntity {
                kind: "stream",
                name: key.to_string(),
            })?;
        self.trim(s, maxlen);
        Ok(())
    }

    /// Removes what the cap allows, ignoring groups: pending ids stay in their PELs (RST-2).
    fn trim(&mut self, s: StreamId, maxlen: spec::MaxLen) {
        let removed = self.family.streams[s.index()].trim(maxlen.count, maxlen.approx);
        if removed.is_empty() {
            return;
        }
        for (_, e) in &removed {
            self.family
                .reads
                .finish(self.world, e.slot, CopyState::RemovedByRetention);
        }
        // Trimmed before a group read them: they leave its line unserved (QT-1). Counted from
        // what went, so a capped stream's XADD costs no scan of the stream.
        let now = self.world.now;
        for (g, group) in self.family.streams[s.index()].groups.iter().enumerate() {
            if let Some(upto) = group.metered_upto {
                let unread = removed.iter().filter(|(id, _)| *id > upto).count() as u64;
                let meter = self.world.meters.stores.entry(line(s, g)).or_default();
                meter.leave(now, unread);
            }
        }
        let len = self.family.streams[s.index()].len();
        self.world.emit(EventKind::Streams(StreamEvent::Xtrim {
            stream: s,
            removed: removed.len() as u64,
            maxlen: maxlen.count,
            approx: maxlen.approx,
            len,
        }));
    }

    /// Each group's waiting line counted again after its last id moved (`SETID`, a failover,
    /// which may also lose entries): the entries above the line (QT-1).
    fn meter_resync(&mut self, s: StreamId) {
        let now = self.world.now;
        let stream = &mut self.family.streams[s.index()];
        for (g, group) in stream.groups.iter_mut().enumerate() {
            let Some(upto) = group.metered_upto else {
                continue;
            };
            let upto = upto.max(group.last_delivered);
            group.metered_upto = Some(upto);
            let range = (Bound::Excluded(upto), Bound::Unbounded);
            let waiting = stream.entries.range(range).count() as u64;
            let meter = self.world.meters.stores.entry(line(s, g)).or_default();
            meter.leave(now, meter.waiting.saturating_sub(waiting));
        }
    }

    // ------------------------------------------------------------ XADD

    /// `XADD` reaches Redis (RST-1): an explicit id must be above the last one; the entry is
    /// appended, the stream capped, and blocked readers served at the end of the instant.
    pub(crate) fn xadd(&mut self, slot: Slot, s: StreamId, explicit: Option<EntryId>) {
        self.wire.arrived(self.world.now, slot);
        let now = self.world.now;
        let copy = self.world.copies.get(slot);
        let (msg, size) = (copy.msg, copy.size);
        let stream = &mut self.family.streams[s.index()];
        let auto = stream.auto_id(now);
        let id = explicit.or(auto).unwrap_or(stream.last_id);
        // An explicit id must be above the top; `*` fails only when every id is taken.
        if explicit.map_or(auto.is_none(), |e| {
            e == EntryId::ZERO || e <= stream.last_id
        }) {
            let top = stream.last_id;
            self.world.emit(EventKind::Streams(StreamEvent::Xadd {
                msg,
                stream: s,
                id,
                refused_by: Some(top),
            }));
            self.world.drop_copy(slot, DropReason::StreamIdRejected);
            return;
        }
        self.world.set_state(slot, CopyState::Retained);
        let before = stream.last_id;
        stream.append(
            id,
            Entry {
                slot,
                msg,
                size,
                added_at: now,
            },
        );
        for (g, group) in stream.groups.iter_mut().enumerate() {
            group.metered_upto.get_or_insert(before);
            self.world
                .meters
                .stores
                .entry(line(s, g))
                .or_default()
                .arrive(now);
        }
        let lag = ms_to_us(stream.spec.replication_lag_ms);
        stream.log(now, lag, Op::Add(id));
        self.world.emit(EventKind::Streams(StreamEvent::Xadd {
            msg,
            stream: s,
            id,
            refused_by: None,
        }));
        if let Some(cap) = self.family.streams[s.index()].spec.maxlen {
            self.trim(s, cap);
        }
        self.wake(s);
    }

    /// Blocked readers are served at the end of this instant, first come first served.
    fn wake(&mut self, s: StreamId) {
        let stream = &mut self.family.streams[s.index()];
        if !stream.blocked.is_empty() {
            (self.world).schedule_once_now(&mut stream.serve_at, StreamsWork::Serve { stream: s });
        }
    }

    pub(crate) fn serve_blocked(&mut self, s: StreamId) {
        let stream = &mut self.family.streams[s.index()];
        stream.serve_at = None;
        let blocked = std::mem::take(&mut stream.blocked);
        for b in blocked {
            if !self.serve(s, b) {
                self.family.streams[s.index()].blocked.push_back(b);
            }
        }
    }

    // ------------------------------------------------------------ reads

    /// A read reaches Redis: answered now, or blocked until entries come (`BLOCK`). Redis
    /// answers whatever became of the client until it learns the connection closed.
    pub(crate) fn request_arrives(&mut self, cid: ConsumerId, epoch: u32, request: u32, ask: Ask) {
        let s = self.family.readers[&cid].stream;
        let ask = match ask {
            Ask::Xread { after: None } => Ask::Xread {
                after: Some(self.family.streams[s.index()].last_id),
            },
            a => a,
        };
        let b = Blocked {
            consumer: cid,
            epoch,
            request,
            ask,
        };
        if self.serve(s, b) {
            return;
        }
        self.family.streams[s.index()].blocked.push_back(b);
        let block = self.read_spec(cid).block_ms.unwrap_or(0.0);
        if block > 0.0 {
            let at = self.world.now.plus(ms_to_us(block));
            self.world.schedule(
                at,
                StreamsWork::BlockTimeout {
                    stream: s,
                    consumer: cid,
                    request,
                },
            );
        }
    }

    /// A blocked read's `BLOCK` ran out: an empty (nil) reply.
    pub(crate) fn block_timeout(&mut self, s: StreamId, cid: ConsumerId, request: u32) {
        let blocked = &mut self.family.streams[s.index()].blocked;
        let Some(i) = blocked
            .iter()
            .position(|b| b.consumer == cid && b.request == request)
        else {
            return;
        };
        let b = blocked.remove(i).expect("found");
        self.reply(s, &b, Vec::new());
    }

    fn read_spec(&self, cid: ConsumerId) -> StreamReadSpec {
        let c = &self.clients.consumers[cid.index()];
        c.spec.stream.clone().unwrap_or_default()
    }

    /// Answers a read if it has something to return (a pending read always has: maybe the
    /// empty list that ends the pending phase); false when it must block.
    fn serve(&mut self, s: StreamId, b: Blocked) -> bool {
        let r = self.read_spec(b.consumer);
        let count = r.count as usize;
        let now = self.world.now;
        let cid = b.consumer;
        let stream = &mut self.family.streams[s.index()];
        let lag = ms_to_us(stream.spec.replication_lag_ms);
        let items: Vec<StreamItem> = match b.ask {
            Ask::Xread { after } => {
                let after = after.expect("resolved on arrival");
                let range = (Bound::Excluded(after), Bound::Unbounded);
                (stream.entries.range(range).take(count))
                    .map(|(id, e)| StreamItem {
                        id: *id,
                        msg: Some(e.msg),
                        count: 1,
                    })
                    .collect()
            }
            Ask::New => {
                let g = self.family.readers[&cid].group.expect("a group reader");
                let from = stream.groups[g].last_delivered;
                let range = (Bound::Excluded(from), Bound::Unbounded);
                let ids: Vec<(EntryId, MessageId)> = (stream.entries.range(range).take(count))
                    .map(|(id, e)| (*id, e.msg))
                    .collect();
                let before = (
                    stream.groups[g].last_delivered,
                    stream.groups[g].entries_read,
                );
                for &(id, _) in &ids {
                    stream.advance_group(g, id);
                    let group = &mut stream.groups[g];
                    if group.metered_upto.is_some_and(|upto| id > upto) {
                        group.metered_upto = Some(id);
                        let added = stream.entries[&id].added_at;
                        let meter = self.world.meters.stores.entry(line(s, g)).or_default();
                        meter.hand_out(now, added);
                    }
                    if !r.noack {
                        let nack = Nack {
                            owner: cid,
                            delivered_at: now,
                            count: 1,
                        };
                        stream.groups[g].pel.insert(id, nack);
                    }
                }
                if !ids.is_empty() {
                    let op = Op::Read {
                        group: g,
                        last_delivered: before.0,
                        entries_read: before.1,
                        ids: ids.iter().map(|(id, _)| *id).collect(),
                    };
                    stream.log(now, lag, op);
                }
                (ids.into_iter())
                    .map(|(id, msg)| StreamItem {
                        id,
                        msg: Some(msg),
                        count: if r.noack { 0 } else { 1 },
                    })
                    .collect()
            }
            Ask::Pending { after } => {
                let g = self.family.readers[&cid].group.expect("a group reader");
                let group = &mut stream.groups[g];
                let range = (Bound::Excluded(after), Bound::Unbounded);
                let mut items = Vec::new();
                for (id, n) in group.pel.range_mut(range) {
                    if items.len() == count {
                        break;
                    }
                    if n.owner != cid {
                        continue;
                    }
                    n.count += 1;
                    n.delivered_at = now;
                    items.push(StreamItem {
                        id: *id,
                        msg: stream.entries.get(id).map(|e| e.msg),
                        count: n.count,
                    });
                }
                let reader = self.family.readers.get_mut(&cid).expect("a reader");
                if let Some(last) = items.last() {
                    reader.pending_after = Some(last.id);
                }
                self.reply(s, &b, items);
                return true;
            }
        };
        if items.is_empty() {
            return false;
        }
        if let Some(g) = self.family.readers[&cid].group {
            self.family.streams[s.index()].groups[g]
                .consumers
                .insert(cid);
        }
        self.reply(s, &b, items);
        true
    }

    /// Sends a reply: its entries with bodies to the consumer's buffer, then the reply's end.
    fn reply(&mut self, s: StreamId, b: &Blocked, items: Vec<StreamItem>) {
        let cid = b.consumer;
        let reader = &self.family.readers[&cid];
        let event = match (reader.group, b.ask) {
            (None, Ask::Xread { after }) => StreamEvent::Xread {
                consumer: cid,
                stream: s,
                after: after.unwrap_or_default(),
                items: items.clone(),
            },
            (g, ask) => StreamEvent::Xreadgroup {
                consumer: cid,
                stream: s,
                group: g.unwrap_or_default() as u32,
                pending_after: match ask {
                    Ask::Pending { after } => Some(after),
                    _ => None,
                },
                items: items.clone(),
            },
        };
        self.world.emit(EventKind::Streams(event));
        self.deliver(s, cid, b.epoch, &items);
        let at = self.world.now.plus(self.world.latency);
        let empty = items.is_empty();
        self.world.schedule(
            at,
            StreamsWork::ReplyArrives {
                consumer: cid,
                epoch: b.epoch,
                empty,
            },
        );
    }

    /// Puts the entries that still have bodies on the wire to the consumer (nil ones, trimmed
    /// while pending, have nothing to process).
    fn deliver(&mut self, s: StreamId, cid: ConsumerId, epoch: u32, items: &[StreamItem]) {
        let consumer = &mut self.clients.consumers[cid.index()];
        let live = consumer.epoch == epoch && consumer.status == ConsumerStatus::Running;
        let reader = self.family.readers.get_mut(&cid).expect("a reader");
        for item in items {
            let Some(msg) = item.msg else {
                continue;
            };
            consumer.delivered += 1;
            if item.count > 1 {
                consumer.redelivered += 1;
            }
            consumer.log_delivery(msg, item.count > 1);
            if reader.sent_log.len() < MAX_LOGGED {
                reader.sent_log.push((msg, item.count));
            }
        }
        if !live {
            return; // sent to a connection that is gone: sent, never seen
        }
        for item in items {
            if item.msg.is_none() {
                continue;
            }
            let entry = self.family.streams[s.index()].entries[&item.id];
            let consumer = &mut self.clients.consumers[cid.index()];
            let tag = consumer.next_tag;
            consumer.next_tag += 1;
            self.world.copies.get_mut(entry.slot).redelivered = item.count > 1;
            let reading = Reading {
                id: item.id,
                slot: entry.slot,
                msg: entry.msg,
                count: item.count.max(1),
                delivery: 0,
            };
            let reader = self.family.readers.get_mut(&cid).expect("a reader");
            reader.reading.insert(tag, reading);
            self.family.reads.read(entry.slot);
            self.send_to_consumer(NodeRef::Stream(s), cid, entry.slot, tag, epoch);
        }
    }

    /// The reply's end reaches the consumer: an empty pending read ends the pending phase
    /// (RST-6); with nothing to process the consumer reads again.
    pub(crate) fn reply_arrives(&mut self, cid: ConsumerId, epoch: u32, empty: bool) {
        if self.clients.consumers[cid.index()].epoch != epoch {
            return;
        }
        let reader = self.family.readers.get_mut(&cid).expect("a reader");
        reader.awaiting = false;
        if empty && reader.group.is_some() {
            reader.pending_after = None;
        }
        self.next(cid);
    }

    /// Sends the next read: pending entries first after a (re)start, then `>` (or `XREAD`).
    fn send_request(&mut self, cid: ConsumerId) {
        let epoch = self.clients.consumers[cid.index()].epoch;
        let reader = self.family.readers.get_mut(&cid).expect("a reader");
        reader.awaiting = true;
        reader.requests += 1;
        let request = reader.requests;
        let ask = match (reader.group, reader.pending_after) {
            (None, _) => Ask::Xread {
                after: reader.cursor,
            },
            (Some(_), Some(after)) => Ask::Pending { after },
            (Some(_), None) => Ask::New,
        };
        let at = self.world.now.plus(self.world.latency);
        self.world.schedule(
            at,
            StreamsWork::Request {
                consumer: cid,
                epoch,
                request,
                ask,
            },
        );
    }

    // ------------------------------------------------------------ the consumer

    /// The consumer (re)connects: a group reader reads its own pending entries first (unless
    /// `new_only`), an `XREAD` reader resumes after its last id or from its `from` (RST-3, -6).
    pub(crate) fn start(&mut self, cid: ConsumerId) {
        let r = self.read_spec(cid);
        let from = match &self.clients.consumers[cid.index()].spec.source {
            ConsumerSource::StreamRead { from, .. } => EntryId::parse(from),
            _ => None,
        };
        self.clients.consumers[cid.index()].status = ConsumerStatus::Running;
        let reader = self.family.readers.get_mut(&cid).expect("a reader");
        reader.awaiting = false;
        reader.pending_after =
            (reader.group.is_some() && r.on_start == OnStart::PendingFirst && !r.noack)
                .then_some(EntryId::ZERO);
        if reader.group.is_none() && r.resume == Resume::From {
            reader.cursor = from;
        }
        self.send_request(cid);
        if let Some(c) = &r.claim {
            let epoch = self.clients.consumers[cid.index()].epoch;
            let at = self.world.now.plus(ms_to_us(c.every_ms));
            self.world.schedule(
                at,
                StreamsWork::ClaimTick {
                    consumer: cid,
                    epoch,
                },
            );
        }
    }

    /// The consumer's connection ends. Its pending entries stay in the PEL, owned by it, until
    /// claimed (RST-7); Redis learns of the close one hop later, and drops its blocked read.
    pub(crate) fn close_consumer(&mut self, cid: ConsumerId, status: ConsumerStatus, why: Closure) {
        let (lost, _) = self.end_connection(cid, status);
        let reader = self.family.readers.get_mut(&cid).expect("a reader");
        reader.awaiting = false;
        let reading = std::mem::take(&mut reader.reading);
        for r in reading.values() {
            self.family.reads.unread(self.world, r.slot);
        }
        let at = self.world.now.plus(self.world.latency);
        self.world
            .schedule(at, StreamsWork::Disconnect { consumer: cid });
        self.channel_closed(cid, &why);
        if why == Closure::Crash {
            self.crashed(cid, 0, lost);
        }
    }

    /// Redis sees the connection close: reads it had blocked are dropped.
    pub(crate) fn disconnect(&mut self, cid: ConsumerId) {
        let s = self.family.readers[&cid].stream;
        let epoch = self.clients.consumers[cid.index()].epoch;
        let running = self.clients.consumers[cid.index()].status == ConsumerStatus::Running;
        self.family.streams[s.index()]
            .blocked
            .retain(|b| b.consumer != cid || (running && b.epoch == epoch));
    }

    /// Starts processing the next buffered entry, or reads again when there is none.
    pub(crate) fn next(&mut self, cid: ConsumerId) {
        let c = &self.clients.consumers[cid.index()];
        if c.status != ConsumerStatus::Running {
            return;
        }
        let before = c.current.map(|(tag, _)| tag);
        self.start_next(cid);
        match self.clients.consumers[cid.index()].current {
            Some((tag, _)) if Some(tag) != before => self.started(cid, tag),
            Some(_) => {}
            None if !self.family.readers[&cid].awaiting => self.send_request(cid),
            None => {}
        }
    }

    /// The application starts on an entry: it counts as seen, an `XREAD` reader's last id
    /// moves, and a `crash` decision for it kills the process now.
    fn started(&mut self, cid: ConsumerId, tag: u64) {
        let reader = self.family.readers.get_mut(&cid).expect("a reader");
        reader.seen += 1;
        let seen = reader.seen;
        let r = reader.reading.get_mut(&tag).expect("a delivered entry");
        r.delivery = seen;
        let r = *r;
        if reader.group.is_none() {
            reader.cursor = reader.cursor.max(Some(r.id));
        }
        if reader.seen_log.len() < MAX_LOGGED {
            reader.seen_log.push(r.msg);
        }
        let decisions = &self.clients.consumers[cid.index()].spec.decisions;
        if decide(decisions, r.msg, r.delivery, r.count) == Some(DecisionAction::Crash) {
            self.close_consumer(cid, ConsumerStatus::Crashed, Closure::Crash);
        }
    }

    /// The consumer finished an entry: a group reader sends `XACK` unless it failed or a
    /// decision leaves it pending (RST-7).
    pub(crate) fn processed(&mut self, cid: ConsumerId, tag: u64, failed: bool) {
        let reader = self.family.readers.get_mut(&cid).expect("a reader");
        let r = reader
            .reading
            .remove(&tag)
            .expect("an entry being processed");
        let (s, group) = (reader.stream, reader.group);
        let decisions = &self.clients.consumers[cid.index()].spec.decisions;
        let ack = match decide(decisions, r.msg, r.delivery, r.count) {
            Some(DecisionAction::Ack) => true,
            Some(DecisionAction::LeaveUnacked) => false,
            Some(DecisionAction::Crash) | None => !failed,
        };
        let published_at = self.world.copies.get(r.slot).published_at;
        self.family.reads.unread(self.world, r.slot);
        if !ack {
            return;
        }
        self.world.complete(published_at);
        self.clients.consumers[cid.index()].acked += 1;
        let noack = self.read_spec(cid).noack;
        if let (Some(g), false) = (group, noack) {
            let at = self.world.now.plus(self.world.latency);
            self.world.schedule(
                at,
                StreamsWork::Ack {
                    stream: s,
                    group: g,
                    id: r.id,
                },
            );
        }
    }

    /// `XACK` reaches Redis: the id leaves the group's PEL whoever owns it; the entry stays in
    /// the stream (RST-7).
    pub(crate) fn xack(&mut self, s: StreamId, g: usize, id: EntryId) {
        let now = self.world.now;
        let stream = &mut self.family.streams[s.index()];
        let removed = stream.groups[g].pel.remove(&id);
        if let Some(nack) = removed {
            let lag = ms_to_us(stream.spec.replication_lag_ms);
            stream.log(now, lag, Op::Ack { group: g, id, nack });
        }
        self.world.emit(EventKind::Streams(StreamEvent::Xack {
            stream: s,
            group: g as u32,
            id,
            acked: u32::from(removed.is_some()),
        }));
    }

    // ------------------------------------------------------------ claims

    /// `XCLAIM` / `XAUTOCLAIM` from a script: sent by the named consumer, so it reaches Redis
    /// one hop later (RST-8).
    pub(crate) fn send_claim(
        &mut self,
        key: &str,
        group: &str,
        consumer: ConsumerId,
        min_idle_ms: f64,
        call: ClaimCall,
        justid: bool,
    ) -> Result<(), CommandError> {
        let (s, g) = self.family.group_of(key, group)?;
        crate::scenario::check_ms("min_idle_ms", min_idle_ms)?;
        if !(self.family.readers.get(&consumer)).is_some_and(|r| r.stream == s && r.group.is_some())
        {
            return Err(CommandError::NotApplicable {
                reason: format!("{consumer} is not a group consumer of stream {key:?}"),
            });
        }
        if let ClaimCall::Auto { count: 0, .. } = call {
            return Err(CommandError::NotApplicable {
                reason: "COUNT must be at least 1".into(),
            });
        }
        let at = self.world.now.plus(self.world.latency);
        self.world.schedule(
            at,
            StreamsWork::Claim {
                stream: s,
                group: g,
                consumer,
                min_idle_us: ms_to_us(min_idle_ms),
                call,
                justid,
            },
        );
        Ok(())
    }

    /// The consumer's own periodic `XAUTOCLAIM`, from where its last one stopped.
    pub(crate) fn claim_tick(&mut self, cid: ConsumerId, epoch: u32) {
        let c = &self.clients.consumers[cid.index()];
        if c.epoch != epoch || c.status != ConsumerStatus::Running {
            return;
        }
        let Some(claim) = self.read_spec(cid).claim else {
            return;
        };
        let reader = &self.family.readers[&cid];
        let (s, g) = (reader.stream, reader.group.expect("a group reader"));
        let call = ClaimCall::Auto {
            start: reader.claim_cursor,
            count: claim.count,
            own: true,
        };
        let at = self.world.now.plus(self.world.latency);
        self.world.schedule(
            at,
            StreamsWork::Claim {
                stream: s,
                group: g,
                consumer: cid,
                min_idle_us: ms_to_us(claim.min_idle_ms),
                call,
                justid: false,
            },
        );
        let next = self.world.now.plus(ms_to_us(claim.every_ms));
        self.world.schedule(
            next,
            StreamsWork::ClaimTick {
                consumer: cid,
                epoch,
            },
        );
    }

    /// A claim reaches Redis (RST-8): each pending id idle at least `min_idle` moves to the
    /// claimer with its idle time reset and, unless JUSTID, its count up by one; a trimmed one
    /// leaves the PEL. What it claims (with bodies) is delivered to the claimer.
    pub(crate) fn claim(
        &mut self,
        s: StreamId,
        g: usize,
        cid: ConsumerId,
        min_idle_us: u64,
        call: ClaimCall,
        justid: bool,
    ) {
        let now = self.world.now;
        let stream = &mut self.family.streams[s.index()];
        let (ids, scan_limit, claim_limit): (Vec<EntryId>, usize, usize) = match &call {
            ClaimCall::Ids(ids) => (ids.clone(), usize::MAX, usize::MAX),
            ClaimCall::Auto { start, count, .. } => {
                let range = (Bound::Included(*start), Bound::Unbounded);
                let n = *count as usize;
                let scan = n.saturating_mul(10);
                let ids = stream.groups[g].pel.range(range).map(|(id, _)| *id);
                (ids.take(scan.saturating_add(1)).collect(), scan, n)
            }
        };
        let (mut claimed, mut deleted, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
        let mut cursor = EntryId::ZERO;
        let group = &mut stream.groups[g];
        group.consumers.insert(cid);
        for (i, id) in ids.iter().enumerate() {
            if i == scan_limit || claimed.len() == claim_limit {
                cursor = *id;
                break;
            }
            let Some(n) = group.pel.get_mut(id) else {
                skipped.push(*id);
                continue;
            };
            let Some(e) = stream.entries.get(id) else {
                group.pel.remove(id);
                deleted.push(*id);
                continue;
            };
            // `xclaimCommand`: `if (this_idle < minidle) continue;`
            if now.since(n.delivered_at) < min_idle_us {
                skipped.push(*id);
                continue;
            }
            n.owner = cid;
            n.delivered_at = now;
            if !justid {
                n.count += 1;
            }
            claimed.push(StreamItem {
                id: *id,
                msg: Some(e.msg),
                count: n.count,
            });
        }
        let event = match call {
            ClaimCall::Ids(_) => StreamEvent::Xclaim {
                stream: s,
                group: g as u32,
                consumer: cid,
                claimed: claimed.clone(),
                deleted,
                skipped,
            },
            ClaimCall::Auto { own, .. } => {
                if own {
                    let reader = self.family.readers.get_mut(&cid).expect("a reader");
                    reader.claim_cursor = cursor;
                }
                StreamEvent::Xautoclaim {
                    stream: s,
                    group: g as u32,
                    consumer: cid,
                    claimed: claimed.clone(),
                    deleted,
                    cursor,
                }
            }
        };
        self.world.emit(EventKind::Streams(event));
        let is_reader = self.family.readers.get(&cid).is_some_and(|r| r.stream == s);
        if justid || !is_reader {
            return;
        }
        let epoch = self.clients.consumers[cid.index()].epoch;
        self.deliver(s, cid, epoch, &claimed);
    }

    // ------------------------------------------------------------ failover

    /// The replica, `replication_lag_ms` behind, takes over (RST-9): `XADD`s, `XACK`s and `>`
    /// reads it had not received are undone, newest first. An entry lost this way was
    /// acknowledged to its producer; a read undone delivers its entries again. Claims and
    /// trims are not undone (a model limit).
    pub(crate) fn failover(&mut self, key: &str) -> Result<(), CommandError> {
        let s = self
            .family
            .stream_id(key)
            .ok_or_else(|| CommandError::UnknownEntity {
                kind: "stream",
                name: key.to_string(),
            })?;
        let now = self.world.now;
        let stream = &mut self.family.streams[s.index()];
        let lag = ms_to_us(stream.spec.replication_lag_ms);
        let ops = std::mem::take(&mut stream.oplog);
        let (mut lost, mut acks_undone) = (0, 0);
        for (at, op) in ops.into_iter().rev() {
            if at.0.saturating_add(lag) <= now.0 {
                break;
            }
            let stream = &mut self.family.streams[s.index()];
            match op {
                Op::Add(id) => {
                    for group in &mut stream.groups {
                        group.pel.remove(&id);
                    }
                    let Some(e) = stream.pop_last(id) else {
                        continue;
                    };
                    lost += 1;
                    let reason = DropReason::LostInFailover;
                    self.family
                        .reads
                        .finish(self.world, e.slot, CopyState::Dropped(reason));
                    self.world.emit(EventKind::Dropped { msg: e.msg, reason });
                }
                Op::Ack { group, id, nack } => {
                    if stream.entries.contains_key(&id) {
                        stream.groups[group].pel.insert(id, nack);
                        acks_undone += 1;
                    }
                }
                Op::Read {
                    group,
                    last_delivered,
                    entries_read,
                    ids,
                } => {
                    let group = &mut stream.groups[group];
                    group.last_delivered = last_delivered;
                    group.entries_read = entries_read;
                    for id in ids {
                        group.pel.remove(&id);
                    }
                }
            }
        }
        self.meter_resync(s);
        self.world
            .emit(EventKind::Streams(StreamEvent::RedisFailover {
                stream: s,
                lost,
                acks_undone,
            }));
        Ok(())
    }
}

/// Work this family schedules on the agenda.
#[derive(Clone, Debug)]
pub(crate) enum StreamsWork {
    /// `XADD` reaches Redis, with an explicit id or `*`.
    Xadd {
        slot: Slot,
        stream: StreamId,
        id: Option<EntryId>,
    },
    /// `XREAD` / `XREADGROUP` reaches Redis.
    Request {
        consumer: ConsumerId,
        epoch: u32,
        request: u32,
        ask: Ask,
    },
    /// End of an instant: serve the blocked reads.
    Serve { stream: StreamId },
    /// A blocked read's `BLOCK` ran out.
    BlockTimeout {
        stream: StreamId,
        consumer: ConsumerId,
        request: u32,
    },
    /// A reply's end reaches its consumer (after its entries).
    ReplyArrives {
        consumer: ConsumerId,
        epoch: u32,
        empty: bool,
    },
    /// `XACK` reaches Redis.
    Ack {
        stream: StreamId,
        group: usize,
        id: EntryId,
    },
    /// `XCLAIM` / `XAUTOCLAIM` reaches Redis.
    Claim {
        stream: StreamId,
        group: usize,
        consumer: ConsumerId,
        min_idle_us: u64,
        call: ClaimCall,
        justid: bool,
    },
    /// The consumer's periodic `XAUTOCLAIM` goes out.
    ClaimTick { consumer: ConsumerId, epoch: u32 },
    /// Redis learns that the consumer's connection closed.
    Disconnect { consumer: ConsumerId },
}

impl<W: From<StreamsWork> + From<ClientWork>> Cx<'_, &mut RedisStreams, W> {
    pub(crate) fn run_redis_streams(&mut self, work: StreamsWork) {
        match work {
            StreamsWork::Xadd { slot, stream, id } => self.xadd(slot, stream, id),
            StreamsWork::Request {
                consumer,
                epoch,
                request,
                ask,
            } => self.request_arrives(consumer, epoch, request, ask),
            StreamsWork::Serve { stream } => self.serve_blocked(stream),
            StreamsWork::BlockTimeout {
                stream,
                consumer,
                request,
            } => self.block_timeout(stream, consumer, request),
            StreamsWork::ReplyArrives {
                consumer,
                epoch,
                empty,
            } => self.reply_arrives(consumer, epoch, empty),
            StreamsWork::Ack { stream, group, id } => self.xack(stream, group, id),
            StreamsWork::Claim {
                stream,
                group,
                consumer,
                min_idle_us,
                call,
                justid,
            } => self.claim(stream, group, consumer, min_idle_us, call, justid),
            StreamsWork::ClaimTick { consumer, epoch } => self.claim_tick(consumer, epoch),
            StreamsWork::Disconnect { consumer } => self.disconnect(consumer),
        }
    }
}
