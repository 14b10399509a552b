//! ZeroMQ: no broker box. Each socket is a node in the peers' column, named `peer/socket`; a
//! connection is the link between two sockets. A socket's lane draws its pipes as small
//! bounded buffers, each filled up to its high-water mark (ZMQ-1, ZMQ-2): a sender's out-pipes,
//! a receiver's in-pipes. A link whose pipes are full turns red.

use super::{Inspected, Kind, NodeText, Tone};
use crate::driver::Driver;
use crate::geom::Rect;
use crate::i18n::{t, Key, Lang};
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
/// A pipe's messages.
const PIPE_FILL: &str = "#475569";
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

/// The pipes at one socket: (depth, high-water mark) of its out-pipes, or of its in-pipes.
fn pipes(snap: &Snapshot, socket: u32) -> Vec<(u64, u32)> {
    let Some(z) = snap.zeromq.as_ref() else {
        return Vec::new();
    };
    let outs = (z.conns.iter().filter(|c| c.sender == socket)).map(|c| c.out);
    let ins = (z.conns.iter().filter(|c| c.receiver == socket)).map(|c| c.inp);
    outs.chain(ins).collect()
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

fn full((depth, hwm): (u64, u32)) -> bool {
    hwm > 0 && depth >= u64::from(hwm)
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

    fn has_lane(&self, node: &GraphNode) -> bool {
        matches!(node.node, NodeRef::ZmqSocket(_))
    }

    fn lane(&self, pen: &Pen, snap: &Snapshot, node: &GraphNode, lane: Rect, k: f64) {
        if let NodeRef::ZmqSocket(id) = node.node {
            let blocked =
                (snap.zeromq.iter().flat_map(|z| &z.sockets)).any(|s| s.id == id && s.blocked);
            pipes_lane(pen, &pipes(snap, id), blocked, lane, k);
        }
    }

    /// A connection whose pipes are both at their high-water mark is red.
    fn link_colour(&self, snap: &Snapshot, kind: LinkKind, to: NodeRef) -> Option<&'static str> {
        let NodeRef::ZmqSocket(receiver) = to else {
            return None;
        };
        let z = snap.zeromq.as_ref()?;
        let stuck = |c: &ConnView| c.receiver == receiver && full(c.out) && full(c.inp);
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

/// Each pipe as a bounded buffer: a slot per message up to its high-water mark (a gauge when
/// the mark is large or 0, unlimited), then "depth/hwm". A full pipe is red; a send blocked in
/// the application is said at the end.
fn pipes_lane(pen: &Pen, pipes: &[(u64, u32)], blocked: bool, lane: Rect, k: f64) {
    let c = pen.ctx;
    pen.lane_box(lane, k);
    c.set_text_baseline("middle");
    pen.font(700, 14.0 * k, FONT);
    let mut lane = lane;
    let word = t(pen.lang, Key::NodeZmqBlockedShort);
    // Said in the lane only where the pipes keep most of it (the node's text says it too).
    if blocked && pen.text_w(word) + 8.0 * k <= lane.w * 0.45 {
        c.set_text_align("right");
        c.set_fill_style_str(DANGER);
        c.fill_text(word, lane.right() - 2.0 * k, lane.mid_y()).ok();
        lane.w = (lane.w - pen.text_w(word) - 8.0 * k).max(0.0);
    }
    c.set_text_align("left");
    if pipes.is_empty() {
        c.set_fill_style_str(FAINT);
        c.fill_text(
            t(pen.lang, Key::NodeZmqNoPipe),
            lane.x + 4.0 * k,
            lane.mid_y(),
        )
        .ok();
        return;
    }
    let share = lane.w / pipes.len() as f64;
    for (i, &(depth, hwm)) in pipes.iter().enumerate() {
        let x0 = lane.x + i as f64 * share;
        let colour = if full((depth, hwm)) {
            DANGER
        } else {
            PIPE_FILL
        };
        let limit = if hwm == 0 {
            "∞".to_string()
        } else {
            format_count(u64::from(hwm))
        };
        let figure = format!("{}/{limit}", format_count(depth));
        let figure_w = pen.text_w(&figure) + 6.0 * k;
        let room = (share - figure_w - 6.0 * k).max(0.0);
        let (y, h) = (lane.y + 3.0 * k, lane.h - 6.0 * k);
        if (1..=MAX_SLOTS).contains(&hwm) {
            let gap = 3.0 * k;
            let w = ((room - gap * f64::from(hwm - 1)) / f64::from(hwm)).min(14.0 * k);
            for slot in 0..hwm {
                let r = Rect {
                    x: x0 + 2.0 * k + f64::from(slot) * (w + gap),
                    y,
                    w,
                    h,
                };
                pen.round_rect(r, 2.0 * k);
                if u64::from(slot) < depth {
                    c.set_fill_style_str(colour);
                    c.fill();
                } else {
                    c.set_stroke_style_str(FAINT);
                    c.set_line_width(1.0 * k);
                    c.stroke();
                }
            }
            let used = 2.0 * k + f64::from(hwm) * (w + gap);
            c.set_fill_style_str(if full((depth, hwm)) { DANGER } else { INK });
            c.fill_text(&figure, x0 + used + 2.0 * k, lane.mid_y()).ok();
        } else {
            let gauge = Rect {
                x: x0 + 2.0 * k,
                y,
                w: room,
                h,
            };
            pen.round_rect(gauge, 2.0 * k);
            c.set_stroke_style_str(FAINT);
            c.set_line_width(1.0 * k);
            c.stroke();
            if hwm > 0 && depth > 0 {
                let part = (depth as f64 / f64::from(hwm)).min(1.0);
                c.set_fill_style_str(colour);
                c.fill_rect(gauge.x, gauge.y, (gauge.w * part).max(2.0 * k), gauge.h);
            }
            c.set_fill_style_str(if full((depth, hwm)) { DANGER } else { INK });
            c.fill_text(&figure, gauge.right() + 4.0 * k, lane.mid_y())
                .ok();
        }
    }
}
