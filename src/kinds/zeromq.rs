//! ZeroMQ: no broker box. Each socket is a node named `peer/socket`, in the peer band (a band
//! of its own beside a message broker); a connection is the link from a sending socket to a
//! receiving one, which stands right of it. The link carries the connection's two pipes as
//! small bounded buffers, each filled up to its high-water mark (ZMQ-1, ZMQ-2): the out-pipe
//! at the sender, the in-pipe at the receiver. A full pipe is red; a link whose pipes are both
//! full turns red.

use super::{Inspected, Kind, NodeText, Tone};
use crate::driver::Driver;
use crate::geom::Rect;
use crate::i18n::{t, Key, Lang};
use crate::layout::{BandKind, PipeBox};
use crate::model::format_count;
use crate::pen::{Pen, DANGER, FAINT, FONT, INK};
use broker_sim::families::zeromq::{ConnView, PeerStatus};
use broker_sim::scenario::zeromq::SocketType;
use broker_sim::snapshot::{Family, GraphNode, LinkKind, NodeRef, NodeStatus, Role};
use broker_sim::{DropReason, Snapshot};

pub struct ZeroMq;

/// ZeroMQ's red, so a peer is told from a broker's router in the same column.
const ZMQ_FILL: &str = "#fef2f2";
const ZMQ_STROKE: &str = "#b91c1c";
/// A pipe's outline and its messages when they are not drawn one by one.
const PIPE_FILL: &str = "#475569";
/// A full pipe's inside.
const FULL_FILL: &str = "#fee2e2";
/// A high-water mark up to this is drawn slot by slot; a larger one as a gauge.
const MAX_SLOTS: u32 = 10;

fn type_word(kind: SocketType) -> &'static str {
    match kind {
        SocketType::Push => "PUSH",
        SocketType::Pull => "PULL",
        SocketType::Pub => "PUB",
        SocketType::Sub => "SUB",
        SocketType::Req => "REQ",
        SocketType::Rep => "REP",
    }
}

/// How ZeroMQ loses a message, as the ledger names it (ZMQ-1, ZMQ-6, ZMQ-8).
pub const LOSSES: [DropReason; 4] = [
    DropReason::ProcessExit,
    DropReason::HwmDrop,
    DropReason::SlowJoiner,
    DropReason::NoSubscriber,
];

/// The process owning the socket a consumer reads (`source`), and whether it runs.
pub fn reader_peer(snap: &Snapshot, source: Option<NodeRef>) -> Option<(String, bool)> {
    let Some(NodeRef::ZmqSocket(id)) = source else {
        return None;
    };
    let z = snap.zeromq.as_ref()?;
    let socket = z.sockets.iter().find(|s| s.id == id)?;
    let peer = z.peers.iter().find(|p| p.id == socket.peer)?;
    Some((peer.name.clone(), peer.status == PeerStatus::Running))
}

/// Messages in all pipes, both ends of every connection (ZMQ-1: memory inside the processes).
pub fn piped(snap: &Snapshot) -> u64 {
    (snap.zeromq.iter().flat_map(|z| &z.conns))
        .map(|c| c.out.0 + c.inp.0)
        .sum()
}

impl Kind for ZeroMq {
    fn family(&self) -> Family {
        Family::ZeroMq
    }

    /// A peer is a process, not a drawn node: its sockets are. The trace calls it `zp<i>`.
    fn trace_names(&self, snap: &Snapshot) -> Vec<(String, String)> {
        (snap.zeromq.iter().flat_map(|z| &z.peers))
            .map(|p| (format!("zp{}", p.id), p.name.clone()))
            .collect()
    }

    fn heading(&self, role: Role) -> Option<(Key, Key)> {
        (role == Role::Peer).then_some((Key::ColZmqPeers, Key::ColZmqPeersAfter))
    }

    fn picker_heading(&self, role: Role) -> Option<Key> {
        (role == Role::Peer).then_some(Key::ColZmqPeers)
    }

    fn palette(&self, role: Role) -> Option<(&'static str, &'static str)> {
        (role == Role::Peer).then_some((ZMQ_FILL, ZMQ_STROKE))
    }

    fn text(&self, l: Lang, snap: &Snapshot, node: &GraphNode) -> NodeText {
        let NodeRef::ZmqSocket(id) = node.node else {
            return NodeText::default();
        };
        let Some(s) = (snap.zeromq.iter().flat_map(|z| &z.sockets)).find(|s| s.id == id) else {
            return NodeText::default();
        };
        let tag = format!("{} {}", type_word(s.kind), t(l, Key::TagZmqSocket));
        let (stat, tone) = if node.status != NodeStatus::Running {
            (t(l, Key::NodeZmqDown).to_string(), Tone::Alert)
        } else if s.blocked {
            (t(l, Key::NodeZmqBlocked).to_string(), Tone::Alert)
        } else {
            let sent = (s.sent > 0)
                .then(|| format!("{} {}", t(l, Key::NodeZmqSent), format_count(s.sent)));
            let got = (s.received > 0).then(|| {
                format!(
                    "{} {}",
                    t(l, Key::NodeZmqReceived),
                    format_count(s.received)
                )
            });
            let line: Vec<String> = sent.into_iter().chain(got).collect();
            (line.join(" · "), Tone::Normal)
        };
        NodeText { tag, stat, tone }
    }

    fn band(&self) -> BandKind {
        BandKind::Peer
    }

    /// The out-pipe at the sender, the in-pipe at the receiver, each up to its high-water mark
    /// (ZMQ-1, ZMQ-2); at the mark a PUSH blocks (ZMQ-3) and a PUB drops (ZMQ-6).
    fn pipes(&self, pen: &Pen, snap: &Snapshot, p: &PipeBox, k: f64) {
        let (NodeRef::ZmqSocket(from), NodeRef::ZmqSocket(to)) = (p.from, p.to) else {
            return;
        };
        let Some(z) = snap.zeromq.as_ref() else {
            return;
        };
        let Some(conn) = (z.conns.iter()).find(|c| c.sender == from && c.receiver == to) else {
            return;
        };
        let kind = (z.sockets.iter()).find(|s| s.id == from).map(|s| s.kind);
        let word = match kind {
            Some(SocketType::Pub) => Some(t(pen.lang, Key::NodeZmqDrops)),
            Some(SocketType::Push | SocketType::Req) => Some(t(pen.lang, Key::NodeZmqBlockedShort)),
            _ => None,
        };
        pipe(pen, p.out, conn, true, word, k);
        pipe(pen, p.inp, conn, false, None, k);
    }

    /// A connection whose pipes are both at their high-water mark is red.
    fn link_colour(&self, snap: &Snapshot, kind: LinkKind, to: NodeRef) -> Option<&'static str> {
        let NodeRef::ZmqSocket(receiver) = to else {
            return None;
        };
        let z = snap.zeromq.as_ref()?;
        let stuck = |c: &ConnView| c.receiver == receiver && c.out_full && c.inp_full;
        (kind == LinkKind::Push && z.conns.iter().any(stuck)).then_some(DANGER)
    }

    fn word(&self, node: NodeRef) -> Option<&'static str> {
        matches!(node, NodeRef::ZmqSocket(_)).then_some("zmq_socket")
    }

    fn encode(&self, node: NodeRef) -> Option<String> {
        match node {
            NodeRef::ZmqSocket(s) => Some(format!("zs:{s}")),
            _ => None,
        }
    }

    fn decode(&self, prefix: &str, a: u32, b: Option<u32>) -> Option<NodeRef> {
        match (prefix, b) {
            ("zs", None) => Some(NodeRef::ZmqSocket(a)),
            _ => None,
        }
    }

    fn acks(&self) -> bool {
        false
    }

    fn inspect(&self, _: &Driver, _: &Snapshot, _: NodeRef) -> Option<Inspected> {
        None
    }
}

/// One pipe on a link: a bordered buffer with a slot per message up to its high-water mark
/// (a gauge when the mark is over [`MAX_SLOTS`] or 0, unlimited) and its messages in the
/// slots; "depth/hwm" above it. `out`: the connection's out-pipe at its sender, else its
/// in-pipe at its receiver. A full pipe (its writer sees no room, which may be below the mark
/// while credit is on its way) is red all over and says what its sender does then
/// (`full_word`: PUSH blocks, PUB drops).
fn pipe(pen: &Pen, r: Rect, conn: &ConnView, out: bool, full_word: Option<&str>, k: f64) {
    let ((depth, hwm), is_full, chips) = if out {
        (conn.out, conn.out_full, &conn.out_chips)
    } else {
        (conn.inp, conn.inp_full, &conn.inp_chips)
    };
    if r.w < 24.0 * k || r.h < 6.0 {
        return;
    }
    let c = pen.ctx;
    let limit = if hwm == 0 {
        "∞".to_string()
    } else {
        format_count(u64::from(hwm))
    };
    let mut figure = format!("{}/{limit}", format_count(depth));
    if let Some(word) = full_word.filter(|_| is_full) {
        figure = format!("{figure} {word}");
    }
    // The figure reaches over the wire, never over its node.
    pen.font(700, 15.0 * k, FONT);
    c.set_text_align(if out { "left" } else { "right" });
    c.set_text_baseline("bottom");
    c.set_fill_style_str(if is_full { DANGER } else { INK });
    let x = if out {
        r.x + 2.0 * k
    } else {
        r.right() - 2.0 * k
    };
    c.fill_text(&figure, x, r.y - 1.0 * k).ok();

    pen.round_rect(r, 4.0 * k);
    c.set_fill_style_str(if is_full { FULL_FILL } else { "#ffffff" });
    c.fill();
    c.set_stroke_style_str(if is_full { DANGER } else { PIPE_FILL });
    c.set_line_width(if is_full { 3.0 } else { 1.5 } * k);
    c.stroke();
    let pad = 3.0 * k;
    let area = Rect {
        x: r.x + pad,
        y: r.y + pad,
        w: (r.w - 2.0 * pad).max(0.0),
        h: (r.h - 2.0 * pad).max(0.0),
    };
    let gap = 2.0 * k;
    let slot_w = (1..=MAX_SLOTS)
        .contains(&hwm)
        .then(|| ((area.w - gap * f64::from(hwm - 1)) / f64::from(hwm)).min(16.0 * k))
        .filter(|w| *w >= 3.0);
    let Some(w) = slot_w else {
        // A gauge: the share of the mark in use.
        if hwm > 0 && depth > 0 {
            let part = (depth as f64 / f64::from(hwm)).min(1.0);
            c.set_fill_style_str(if is_full { DANGER } else { PIPE_FILL });
            c.fill_rect(area.x, area.y, (area.w * part).max(2.0 * k), area.h);
        }
        return;
    };
    // The slots fill the pipe from its far end, where messages leave it.
    let used = f64::from(hwm) * w + f64::from(hwm - 1) * gap;
    let x0 = area.x + (area.w - used) / 2.0;
    for i in 0..hwm {
        let slot = Rect {
            x: x0 + f64::from(hwm - 1 - i) * (w + gap),
            y: area.y,
            w,
            h: area.h,
        };
        match chips.get(i as usize) {
            Some(chip) if u64::from(i) < depth => pen.chip(chip, slot, k, false),
            _ if u64::from(i) < depth => {
                pen.round_rect(slot, 2.0 * k);
                c.set_fill_style_str(PIPE_FILL);
                c.fill();
            }
            _ => {
                pen.round_rect(slot, 2.0 * k);
                c.set_stroke_style_str(FAINT);
                c.set_line_width(1.0 * k);
                c.stroke();
            }
        }
    }
}
