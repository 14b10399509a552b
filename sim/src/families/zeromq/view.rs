//! What the stage and the runner's report show of ZeroMQ: processes, sockets and the pipes on
//! their connections.

use super::{ConnState, PeerStatus, ZeroMq};
use crate::kernel::World;
use crate::scenario::zeromq::SocketType;
use crate::time::SimTime;
use crate::wire::Chip;
use serde::Serialize;

/// Pipes drawn per socket; beyond this only counts grow.
const CHIPS: usize = 8;
/// Messages drawn per pipe: a pipe is drawn slot by slot up to a high-water mark of 10.
const PIPE_CHIPS: usize = 10;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ZeroMqView {
    pub peers: Vec<PeerView>,
    pub sockets: Vec<SocketView>,
    pub conns: Vec<ConnView>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PeerView {
    pub id: u32,
    pub name: String,
    pub status: PeerStatus,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SocketView {
    pub id: u32,
    pub peer: u32,
    /// `peer/socket`.
    pub name: String,
    pub kind: SocketType,
    pub sent: u64,
    pub received: u64,
    /// Messages in this socket's out-pipes and in-pipes.
    pub out_piped: u64,
    pub in_piped: u64,
    pub blocked: bool,
    /// A REQ waiting for its reply since then (ZMQ-9).
    pub awaiting_reply_since: Option<SimTime>,
    pub filters: Vec<String>,
    pub chips: Vec<Chip>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConnView {
    pub sender: u32,
    pub receiver: u32,
    pub endpoint: String,
    pub state: ConnState,
    /// Depth and limit of the out-pipe (at the sender) and the in-pipe (at the receiver).
    pub out: (u64, u32),
    pub inp: (u64, u32),
    /// Whether each writer sees no room: the pipe is at its high-water mark as far as its
    /// writer knows, which may be below the mark while the reader's credit is on its way
    /// (ZMQ-2: the limit is approximate).
    pub out_full: bool,
    pub inp_full: bool,
    /// The first messages in each, oldest first.
    pub out_chips: Vec<Chip>,
    pub inp_chips: Vec<Chip>,
}

impl ZeroMq {
    pub(crate) fn view<W>(&self, world: &World<W>) -> ZeroMqView {
        let peers = (self.peers.iter().enumerate())
            .map(|(i, p)| PeerView {
                id: i as u32,
                name: p.name.clone(),
                status: p.status,
            })
            .collect();
        let sockets = (self.sockets.iter().enumerate())
            .map(|(i, s)| {
                let id = i as u32;
                let outs = self.conns.iter().filter(|c| c.sender == id);
                let ins = self.conns.iter().filter(|c| c.receiver == id);
                let out_piped = outs.clone().map(|c| c.out.q.len() as u64).sum();
                let in_piped = ins.clone().map(|c| c.inp.q.len() as u64).sum();
                let chips = (outs.flat_map(|c| c.out.q.iter()))
                    .chain(ins.flat_map(|c| c.inp.q.iter()))
                    .chain(s.blocked.iter().map(|(b, _)| b))
                    .take(CHIPS)
                    .map(|slot| Chip::of(world, *slot))
                    .collect();
                SocketView {
                    id,
                    peer: s.peer,
                    name: format!("{}/{}", self.peers[s.peer as usize].name, s.name),
                    kind: s.spec.kind,
                    sent: s.sent,
                    received: s.received,
                    out_piped,
                    in_piped,
                    blocked: s.blocked.is_some(),
                    awaiting_reply_since: s.awaiting.map(|(_, t)| t),
                    filters: s.filters.clone(),
                    chips,
                }
            })
            .collect();
        // A broken connection is shown while either pipe still holds messages: the sender
        // keeps its out-pipe until it reconnects (ZMQ-1).
        let conns = (self.conns.iter())
            .filter(|c| c.state != ConnState::Down || !c.inp.q.is_empty() || !c.out.q.is_empty())
            .map(|c| ConnView {
                sender: c.sender,
                receiver: c.receiver,
                endpoint: c.endpoint.clone(),
                state: c.state,
                out: (c.out.q.len() as u64, c.out.hwm),
                inp: (c.inp.q.len() as u64, c.inp.hwm),
                out_full: !c.out.has_room(),
                inp_full: !c.inp.has_room(),
                out_chips: (c.out.q.iter().take(PIPE_CHIPS))
                    .map(|slot| Chip::of(world, *slot))
                    .collect(),
                inp_chips: (c.inp.q.iter().take(PIPE_CHIPS))
                    .map(|slot| Chip::of(world, *slot))
                    .collect(),
            })
            .collect();
        ZeroMqView {
            peers,
            sockets,
            conns,
        }
    }
}
