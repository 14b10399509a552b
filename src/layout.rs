//! Automatic layout of the topology in four columns by role — producers | routers | stores and
//! services | consumers — and the geometry the canvas draws with. The nodes of an event band's
//! family (stores whose children are rows: a log strip per partition) span the middle two
//! columns, and consumer groups frame their members in the last. A scenario with nodes in both
//! bands is drawn as two bands, message band above event band, so the two can be compared.
//! Pure functions of a snapshot's graph and a size, so they are tested natively; no broker is
//! named here (`tests/seam_app.rs`).

pub use crate::geom::{Point, Rect};
use broker_sim::ids::GroupId;
use broker_sim::snapshot::{Family, Graph, LinkKind, NodeRef, Role};
use broker_sim::SimTime;
use std::collections::{BTreeMap, BTreeSet};

/// Columns, left to right: producers, routers, stores (and services), consumers.
pub const PRODUCERS: usize = 0;
pub const ROUTERS: usize = 1;
pub const STORES: usize = 2;
pub const CONSUMERS: usize = 3;
pub const COLUMNS: usize = 4;

/// A link between two drawn nodes, as the core describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    pub from: NodeRef,
    pub to: NodeRef,
    pub family: Family,
    pub kind: LinkKind,
    pub label: Option<String>,
    /// A link between two peers: each end holds a bounded pipe, drawn on the link (the
    /// sender's out-pipe at its start, the receiver's in-pipe at its end).
    pub pipes: bool,
}

impl Edge {
    /// Whether the link carries a label pill: what a binding or a push matches.
    pub fn has_pill(&self) -> bool {
        self.label.is_some() && matches!(self.kind, LinkKind::Bind | LinkKind::Push)
    }
}

/// One slot of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    Node(NodeRef),
    /// A link passing a column it skips (a channel to its subscriber passes the stores): it
    /// takes a thin slot of its own, so the link runs between the nodes, never behind one.
    Via {
        from: NodeRef,
        to: NodeRef,
    },
}

impl Item {
    /// The node in this slot; `None` for a via.
    pub fn node(&self) -> Option<NodeRef> {
        match *self {
            Item::Node(n) => Some(n),
            Item::Via { .. } => None,
        }
    }
}

/// The column a role's nodes are placed in.
pub fn column_of_role(role: Role) -> usize {
    match role {
        Role::Producer => PRODUCERS,
        Role::Router | Role::Peer => ROUTERS,
        Role::Store | Role::Service | Role::Broker => STORES,
        Role::Consumer => CONSUMERS,
    }
}

/// At most this many consumer groups get a marker row under each row of a frame.
pub const MAX_MARKER_ROWS: u32 = 3;

/// A store drawn as a frame of rows (a topic and its partitions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameItem {
    pub node: NodeRef,
    pub family: Family,
    /// Its children, one row each, in order.
    pub rows: Vec<NodeRef>,
    /// Groups reading it, each a marker row under every row (capped).
    pub marker_rows: u32,
}

/// A group of consumers and its live members, drawn inside the group's frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupItem {
    pub id: GroupId,
    pub family: Family,
    pub members: Vec<NodeRef>,
}

/// Which nodes are drawn, by column, and how they are linked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Topology {
    pub columns: [Vec<Item>; COLUMNS],
    pub edges: Vec<Edge>,
    pub frames: Vec<FrameItem>,
    pub groups: Vec<GroupItem>,
    /// The column of every node placed in one.
    pub placed: BTreeMap<NodeRef, usize>,
    /// Nodes of a peer band's family, and the producers and consumers linked only to them.
    pub peer_band: BTreeSet<NodeRef>,
}

impl Topology {
    /// Reads the topology from the snapshot's graph. `band` says which band a family is drawn
    /// in (the registry in `kinds/` knows): a message band's nodes go to their role's column;
    /// an event band's stores become frames of rows, and consumers in a group are drawn in it.
    /// An implicit node (the default exchange) is drawn only while a link reaches it.
    pub fn from_graph(graph: &Graph, band: impl Fn(Family) -> BandKind) -> Topology {
        let mut t = Topology::default();
        let linked = |n: NodeRef| graph.edges.iter().any(|e| e.from == n || e.to == n);
        let mut rows: BTreeMap<NodeRef, usize> = BTreeMap::new();
        let role = |n: NodeRef| graph.node(n).map(|g| g.role);
        let between_peers = |e: &&broker_sim::snapshot::GraphEdge| {
            role(e.from) == Some(Role::Peer) && role(e.to) == Some(Role::Peer)
        };
        // A peer that receives from another peer stands right of it, so the link between them
        // runs left to right with room for its pipes; so does one that only hands messages to
        // its application, so it keeps its place while its connections are down.
        let senders: BTreeSet<NodeRef> = (graph.edges.iter())
            .filter(between_peers)
            .map(|e| e.from)
            .collect();
        let to_consumer = |e: &&broker_sim::snapshot::GraphEdge| {
            role(e.from) == Some(Role::Peer)
                && role(e.to) == Some(Role::Consumer)
                && !senders.contains(&e.from)
        };
        let receivers: BTreeSet<NodeRef> = (graph.edges.iter())
            .filter(|e| between_peers(e) || to_consumer(e))
            .map(|e| if between_peers(&e) { e.to } else { e.from })
            .collect();
        for n in &graph.nodes {
            if n.implicit && !linked(n.node) {
                continue;
            }
            let client = matches!(n.role, Role::Producer | Role::Consumer);
            if n.role == Role::Consumer && n.group.is_some() {
                continue; // drawn in its group
            }
            // A broker node is a box in any band; an event band draws only its stores as frames.
            if !client && n.role != Role::Broker && band(n.family) == BandKind::Event {
                if let Some(parent) = n.parent {
                    if let Some(f) = t.frames.iter_mut().find(|f| f.node == parent) {
                        rows.insert(n.node, f.rows.len());
                        f.rows.push(n.node);
                    }
                } else if n.role == Role::Store {
                    let readers = graph
                        .groups
                        .iter()
                        .filter(|g| g.reads.contains(&n.node))
                        .count() as u32;
                    t.frames.push(FrameItem {
                        node: n.node,
                        family: n.family,
                        rows: Vec::new(),
                        marker_rows: readers.min(MAX_MARKER_ROWS),
                    });
                }
                continue;
            }
            let c = if receivers.contains(&n.node) {
                STORES
            } else {
                column_of_role(n.role)
            };
            t.columns[c].push(Item::Node(n.node));
            t.placed.insert(n.node, c);
            if !client && band(n.family) == BandKind::Peer {
                t.peer_band.insert(n.node);
            }
        }
        // A producer or consumer joins the peer band when all its links lead there.
        for n in graph
            .nodes
            .iter()
            .filter(|n| matches!(n.role, Role::Producer | Role::Consumer))
        {
            let mut ends = (graph.edges.iter())
                .filter_map(|e| {
                    (e.from == n.node)
                        .then_some(e.to)
                        .or((e.to == n.node).then_some(e.from))
                })
                .peekable();
            if ends.peek().is_some() && ends.all(|m| t.peer_band.contains(&m)) {
                t.peer_band.insert(n.node);
            }
        }
        for g in &graph.groups {
            t.groups.push(GroupItem {
                id: g.id,
                family: g.family,
                members: g.members.clone(),
            });
        }
        let member = |n: NodeRef| graph.groups.iter().any(|g| g.members.contains(&n));
        let drawn = |n: NodeRef| t.placed.contains_key(&n) || rows.contains_key(&n) || member(n);
        let edges: Vec<Edge> = graph
            .edges
            .iter()
            .filter(|e| drawn(e.from) && drawn(e.to))
            .map(|e| Edge {
                from: e.from,
                to: e.to,
                family: e.family,
                kind: e.kind,
                label: e.label.clone(),
                pipes: between_peers(&e),
            })
            .collect();
        t.edges = edges;
        let mut vias = Vec::new();
        for e in &t.edges {
            let (Some(a), Some(b)) = (t.column_of(e.from), t.column_of(e.to)) else {
                continue;
            };
            for c in a + 1..b {
                vias.push((
                    c,
                    Item::Via {
                        from: e.from,
                        to: e.to,
                    },
                ));
            }
        }
        for (c, via) in vias {
            t.columns[c].push(via);
        }
        t.order();
        t
    }

    /// The column a node is placed in; `None` for frames, their rows and group members.
    pub fn column_of(&self, node: NodeRef) -> Option<usize> {
        self.placed.get(&node).copied()
    }

    /// Whether `node` is a row of a frame.
    pub fn is_row(&self, node: NodeRef) -> bool {
        self.frames.iter().any(|f| f.rows.contains(&node))
    }

    /// Whether `node` is the first row of its frame.
    pub fn is_first_row(&self, node: NodeRef) -> bool {
        self.frames.iter().any(|f| f.rows.first() == Some(&node))
    }

    /// Whether the message band's columns (routers, stores, services, consumers) hold a node.
    pub fn has_message(&self) -> bool {
        self.columns[ROUTERS..]
            .iter()
            .flatten()
            .any(|i| matches!(i, Item::Node(n) if !self.peer_band.contains(n)))
    }

    /// Whether any node is drawn in the peer band.
    pub fn has_peer(&self) -> bool {
        !self.peer_band.is_empty()
    }

    /// Whether a column's item is drawn in the peer band (a via with the link's start).
    pub fn in_peer_band(&self, item: Item) -> bool {
        match item {
            Item::Node(n) | Item::Via { from: n, .. } => self.peer_band.contains(&n),
        }
    }

    /// Whether any frame or group is drawn.
    pub fn has_event(&self) -> bool {
        !self.frames.is_empty() || !self.groups.is_empty()
    }

    /// The neighbours of `item` (in `column`) in the column before (`incoming`) or after.
    fn neighbours(&self, column: usize, item: Item, incoming: bool) -> Vec<Item> {
        let hop = |from: NodeRef, to: NodeRef| -> Item {
            // The neighbour across one column: the node itself, or the link's via there.
            let (target, c) = if incoming {
                (from, column.wrapping_sub(1))
            } else {
                (to, column + 1)
            };
            if self.column_of(target) == Some(c) {
                Item::Node(target)
            } else {
                Item::Via { from, to }
            }
        };
        match item {
            Item::Node(n) => self
                .edges
                .iter()
                .filter(|e| if incoming { e.to == n } else { e.from == n })
                .filter(|e| self.column_of(e.from) != self.column_of(e.to))
                .map(|e| hop(e.from, e.to))
                .collect(),
            Item::Via { from, to } => vec![hop(from, to)],
        }
    }

    /// Orders each column by the average height of its neighbours in the column before (after,
    /// for producers): one barycentre sweep, with heights as fractions of their column.
    fn order(&mut self) {
        for (col, incoming) in [(STORES, true), (CONSUMERS, true), (PRODUCERS, false)] {
            let other = if incoming { col - 1 } else { col + 1 };
            let rank = |item: Item| -> Option<f64> {
                let c = &self.columns[other];
                c.iter()
                    .position(|&p| p == item)
                    .map(|i| (i as f64 + 0.5) / c.len() as f64)
            };
            let own = &self.columns[col];
            let mut keyed: Vec<(f64, usize, Item)> = own
                .iter()
                .enumerate()
                .map(|(i, &item)| {
                    let ranks: Vec<f64> = self
                        .neighbours(col, item, incoming)
                        .into_iter()
                        .filter_map(rank)
                        .collect();
                    // Unlinked nodes (a cluster's broker boxes) follow the linked ones, in
                    // their own order, so none splits a fan of links.
                    let key = if ranks.is_empty() {
                        1.0 + (i as f64 + 0.5) / own.len() as f64
                    } else {
                        ranks.iter().sum::<f64>() / ranks.len() as f64
                    };
                    (key, i, item)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            self.columns[col] = keyed.into_iter().map(|(_, _, n)| n).collect();
        }
        if self.has_message() && self.has_event() {
            // Two bands: a producer feeding only the message band goes up, one feeding only
            // the event band goes down, one feeding both sits between them.
            let band = |item: &Item| -> u8 {
                let Item::Node(n) = *item else { return 1 };
                let out = || self.edges.iter().filter(move |e| e.from == n);
                let message = out().any(|e| self.column_of(e.to).is_some());
                let event = out().any(|e| self.is_row(e.to));
                match (message, event) {
                    (true, false) => 0,
                    (false, true) => 2,
                    _ => 1,
                }
            };
            let mut producers = self.columns[PRODUCERS].clone();
            producers.sort_by_key(band);
            self.columns[PRODUCERS] = producers;
        }
    }
}

/// A placed node or via.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NodeBox {
    pub item: Item,
    pub column: usize,
    pub rect: Rect,
}

impl NodeBox {
    pub fn node(&self) -> Option<NodeRef> {
        self.item.node()
    }
}

/// A column's heading position; `None` x when the column is empty.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ColumnSlot {
    pub x: f64,
    pub w: f64,
    pub used: bool,
}

/// The two kinds of broker, drawn as two bands when a scenario has both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BandKind {
    /// Routers, stores and services in columns: a message is gone once handled.
    Message,
    /// Stores drawn as frames of rows (logs), and consumer groups: records stay.
    Event,
    /// Peers linked directly, with no broker between them: beside a message band, a band of
    /// their own under it, so the one hop less shows.
    Peer,
}

/// A band's heading row and its whole area (heading included).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandSlot {
    pub kind: BandKind,
    pub heading: Rect,
    pub rect: Rect,
}

/// A store's frame: a header line, then one row per shown child.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameBox {
    pub node: NodeRef,
    pub family: Family,
    pub rect: Rect,
    pub header: Rect,
    /// Rows left out for lack of room (the last ones), shown as a count.
    pub hidden_rows: u32,
}

/// One row of a frame: a strip of chips, a ruler under it and a marker row per group.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RowBox {
    pub node: NodeRef,
    pub frame: NodeRef,
    pub family: Family,
    /// The whole row, for selection.
    pub rect: Rect,
    /// Where the row's name is written (left of the strip).
    pub label: Rect,
    /// The lane of record chips.
    pub strip: Rect,
    /// Baseline of the offset numbers; `None` when there is no room for them.
    pub ruler_y: Option<f64>,
    /// Top of the first marker row, and each row's height.
    pub markers_y: f64,
    pub marker_h: f64,
}

/// A consumer group's frame with its members.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupBox {
    pub id: GroupId,
    pub family: Family,
    pub rect: Rect,
    pub header: Rect,
    pub members: Vec<(NodeRef, Rect)>,
    /// Members left out for lack of room, shown as a count.
    pub hidden_members: usize,
}

/// A link between two peers and its two pipes: the out-pipe at the sender's right edge, the
/// in-pipe at the receiver's left edge; the link runs between them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PipeBox {
    pub from: NodeRef,
    pub to: NodeRef,
    pub family: Family,
    pub out: Rect,
    pub inp: Rect,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    /// 1.0 at a 1100×400 canvas; about 1.1 in a 1280×720 window. Fonts and sizes follow it.
    pub scale: f64,
    /// Node contents are drawn at `rect.h / BASE_HEIGHT[column]`: `scale`, larger for a sparse
    /// topology, smaller in a crowded column.
    pub zoom: f64,
    pub heading_y: f64,
    pub slots: [ColumnSlot; COLUMNS],
    pub boxes: Vec<NodeBox>,
    /// Empty with one family; message band then event band when both are drawn.
    pub bands: Vec<BandSlot>,
    pub frames: Vec<FrameBox>,
    pub rows: Vec<RowBox>,
    pub groups: Vec<GroupBox>,
    /// The pipes drawn on the links between peers.
    pub pipes: Vec<PipeBox>,
    /// The event band's drawing factor (fonts and sizes), like `scale`.
    pub event_k: f64,
    /// Room kept free at the bottom of the producers' column for the colour key (the page
    /// places it there); the same room is kept at the top, so producers stay centred.
    pub key: Rect,
    /// The gap a binding label needs between a router and a store.
    pill_room: f64,
    /// The smallest text the layout was made for (CSS px).
    pub min_text: f64,
}

/// Relative column widths: queues and consumers hold message chips.
const WEIGHTS: [f64; COLUMNS] = [1.0, 1.05, 1.45, 1.35];
/// An empty column keeps a little room so the others stay where a reader expects them.
const EMPTY_WEIGHT: f64 = 0.3;
/// Share of a column's slot a node takes; the rest is room for links and their labels.
const NODE_SHARE: f64 = 0.68;

/// A via's height at scale 1.
const VIA_HEIGHT: f64 = 30.0;

/// How much larger than `scale` a sparse topology's nodes may be drawn.
const MAX_ZOOM: f64 = 1.45;

/// Node height at scale 1, by column.
pub const BASE_HEIGHT: [f64; COLUMNS] = [104.0, 104.0, 150.0, 150.0];

/// Height of the colour key under the producers, at scale 1.
const KEY_H: f64 = 58.0;

/// A band's heading row at scale 1 (room for a button beside the heading).
const BAND_HEADING: f64 = 38.0;
/// Space between the two bands at scale 1.
const BAND_GAP: f64 = 10.0;
/// The message band's share of the height when both bands are drawn; fixed, so the bands do
/// not jump when a consumer is added.
const MESSAGE_SHARE: f64 = 0.44;

/// A pipe on a link at scale 1: its widest, its height, the figure line above it, and the
/// least wire left between two.
pub const PIPE_W: f64 = 84.0;
pub const PIPE_H: f64 = 22.0;
pub const PIPE_LABEL: f64 = 18.0;
/// A pipe is never drawn smaller than this (CSS px) while the gap allows: its slots must be
/// seen from the back of a room.
const PIPE_MIN_W: f64 = 64.0;
const PIPE_MIN_H: f64 = 20.0;

/// A pipe's width at `scale`, before the gap between its peers limits it.
fn pipe_width(scale: f64) -> f64 {
    (PIPE_W * scale).max(PIPE_MIN_W)
}
const WIRE_MIN: f64 = 36.0;

/// Event band geometry at factor 1.
pub const FRAME_PAD: f64 = 6.0;
pub const FRAME_HEADER: f64 = 28.0;
pub const ROW_LABEL_W: f64 = 38.0;
pub const STRIP_H: f64 = 24.0;
const STRIP_ROW: f64 = 29.0;
const RULER_H: f64 = 16.0;
pub const MARKER_H: f64 = 17.0;
const ROW_GAP: f64 = 7.0;
pub const GROUP_PAD: f64 = 5.0;
pub const GROUP_HEADER: f64 = 25.0;
pub const MEMBER_H: f64 = 46.0;
const MEMBER_GAP: f64 = 5.0;
const EMPTY_GROUP_H: f64 = 22.0;
/// The "+N more" line of a frame that left rows out.
pub const MORE_H: f64 = 20.0;
const FRAME_GAP: f64 = 12.0;

/// A slot's height at scale 1.
fn item_height(column: usize, item: Item) -> f64 {
    match item {
        Item::Node(_) => BASE_HEIGHT[column],
        Item::Via { .. } => VIA_HEIGHT,
    }
}

/// A frame of a stack (topic or group) at factor 1: fixed part, rows and the gap between rows.
#[derive(Clone, Copy, Debug)]
struct FrameSpec {
    fixed: f64,
    row: f64,
    row_gap: f64,
    rows: usize,
}

impl FrameSpec {
    fn height(&self, shown: usize) -> f64 {
        let more = if shown < self.rows { MORE_H } else { 0.0 };
        self.fixed + more + shown as f64 * self.row + shown.saturating_sub(1) as f64 * self.row_gap
    }
}

fn stack_height(frames: &[FrameSpec], shown: &[usize]) -> f64 {
    frames
        .iter()
        .zip(shown)
        .map(|(f, &n)| f.height(n))
        .sum::<f64>()
        + frames.len().saturating_sub(1) as f64 * FRAME_GAP
}

/// Rows shown per frame so the stack fits `room` at factor `k`: rows are taken from the
/// frame showing the most first, so every frame keeps some.
fn fit_rows(frames: &[FrameSpec], k: f64, room: f64) -> Vec<usize> {
    let mut shown: Vec<usize> = frames.iter().map(|f| f.rows).collect();
    while stack_height(frames, &shown) * k > room {
        let Some(i) = (0..shown.len())
            .filter(|&i| shown[i] > 0)
            .max_by_key(|&i| shown[i])
        else {
            break;
        };
        shown[i] -= 1;
    }
    shown
}

impl Layout {
    /// `min_text` is the drawing's smallest text (CSS px): binding labels need room at it.
    pub fn compute(topo: &Topology, width: f64, height: f64, min_text: f64) -> Layout {
        let width = width.max(1.0);
        let height = height.max(1.0);
        let scale = (width / 1100.0).min(height / 400.0).clamp(0.6, 2.4);
        let margin = 16.0 * scale;
        let heading_h = 30.0 * scale;
        let heading_y = margin + heading_h / 2.0;
        let top = margin + heading_h;
        let avail_h = (height - top - margin).max(1.0);
        let banded = topo.has_message() && topo.has_event();
        // A message band above a peer band: the same traffic with a broker and without one.
        let paired = !banded && topo.has_message() && topo.has_peer();

        let used = |c: usize| {
            topo.columns[c].iter().any(|i| matches!(i, Item::Node(_)))
                || match c {
                    ROUTERS | STORES => !topo.frames.is_empty(),
                    CONSUMERS => !topo.groups.is_empty(),
                    _ => false,
                }
        };
        let weights: Vec<f64> = (0..COLUMNS)
            .map(|c| if used(c) { WEIGHTS[c] } else { EMPTY_WEIGHT })
            .collect();
        let total: f64 = weights.iter().sum();
        let inner_w = (width - 2.0 * margin).max(1.0);
        let mut slots = [ColumnSlot {
            x: 0.0,
            w: 0.0,
            used: false,
        }; COLUMNS];
        let mut x = margin;
        for c in 0..COLUMNS {
            let w = inner_w * weights[c] / total;
            slots[c] = ColumnSlot {
                x,
                w,
                used: used(c),
            };
            x += w;
        }

        // A sparse topology is drawn larger (up to 30 %), to be read from the back of a room.
        let need = topo
            .columns
            .iter()
            .enumerate()
            .map(|(c, col)| {
                let n = col.len() as f64;
                let heights: f64 = col.iter().map(|&i| item_height(c, i)).sum();
                heights * scale + (n - 1.0).max(0.0) * 18.0 * scale
            })
            .fold(0.0, f64::max);
        // A narrow canvas (beside the narration panel) has height to spare: nodes grow into
        // it and their text with them, and a name too wide for its node shrinks or is cut.
        let zoom = if banded || paired {
            1.0
        } else if need > 0.0 {
            (avail_h * 0.66 / need).clamp(1.0, MAX_ZOOM)
        } else {
            1.0
        };

        // Room between the routers and the stores for the longest binding label, read whole
        // (long ones are cut at 28 characters; 0.62 em is a monospace character), or for the
        // two pipes of a link between peers.
        let pill_px = (14.0 * scale).max(min_text);
        let pipe_w = pipe_width(scale);
        let room_for = |keep: &dyn Fn(&Edge) -> bool| -> f64 {
            (topo.edges.iter())
                .filter(|e| e.has_pill() && topo.column_of(e.to) == Some(STORES) && keep(e))
                .map(|e| match &e.label {
                    // The pipes come first: the wire's label is drawn where it fits.
                    _ if e.pipes => 2.0 * pipe_w + 2.0 * WIRE_MIN * scale,
                    label => {
                        let chars = label.as_ref().map_or(0, |l| l.chars().count());
                        chars.clamp(2, 28) as f64 * 0.62 * pill_px + 28.0 * scale
                    }
                })
                .fold(0.0, f64::max)
        };
        let pill_room = room_for(&|_| true);

        let mut layout = Layout {
            width,
            height,
            scale,
            zoom,
            pill_room,
            min_text,
            heading_y,
            slots,
            boxes: Vec::new(),
            bands: Vec::new(),
            frames: Vec::new(),
            rows: Vec::new(),
            groups: Vec::new(),
            pipes: Vec::new(),
            event_k: scale,
            key: Rect {
                x: slots[PRODUCERS].x,
                y: height - margin - KEY_H * scale,
                w: slots[PRODUCERS].w,
                h: KEY_H * scale,
            },
        };
        // The log may grow like the nodes when there is height to spare: its texts shrink
        // or are cut to their frame's width.
        let max_k = scale * MAX_ZOOM;
        if banded {
            let band_h = BAND_HEADING * scale;
            let gap = BAND_GAP * scale;
            let content = (height - 2.0 * margin - 2.0 * band_h - gap).max(2.0);
            let message_h = content * MESSAGE_SHARE;
            let event_h = content - message_h;
            let x0 = slots[ROUTERS].x;
            let heading = |y: f64| Rect {
                x: x0,
                y,
                w: width - margin - x0,
                h: band_h,
            };
            let message_top = margin + band_h;
            let event_heading = message_top + message_h + gap;
            let event_top = event_heading + band_h;
            layout.bands = vec![
                BandSlot {
                    kind: BandKind::Message,
                    heading: heading(margin),
                    rect: Rect {
                        h: band_h + message_h,
                        ..heading(margin)
                    },
                },
                BandSlot {
                    kind: BandKind::Event,
                    heading: heading(event_heading),
                    rect: Rect {
                        h: band_h + event_h,
                        ..heading(event_heading)
                    },
                },
            ];
            let all = |_: Item| true;
            layout.place_columns(
                topo,
                &[ROUTERS, STORES, CONSUMERS],
                message_top,
                message_h,
                &all,
            );
            // Producers may feed both bands: their column spans both.
            layout.place_columns(
                topo,
                &[PRODUCERS],
                message_top,
                event_top + event_h - message_top,
                &all,
            );
            layout.place_event(topo, event_top, event_h, max_k);
        } else if paired {
            // Two bands of equal height, each with its own producers and consumers.
            let band_h = BAND_HEADING * scale;
            let gap = BAND_GAP * scale;
            let each = ((height - 2.0 * margin - 2.0 * band_h - gap) / 2.0).max(1.0);
            let x0 = slots[PRODUCERS].x;
            let band = |kind: BandKind, y: f64| {
                let heading = Rect {
                    x: x0,
                    y,
                    w: width - margin - x0,
                    h: band_h,
                };
                BandSlot {
                    kind,
                    heading,
                    rect: Rect {
                        h: band_h + each,
                        ..heading
                    },
                }
            };
            let peer_y = margin + band_h + each + gap;
            layout.bands = vec![
                band(BandKind::Message, margin),
                band(BandKind::Peer, peer_y),
            ];
            let columns = [PRODUCERS, ROUTERS, STORES, CONSUMERS];
            // Each band keeps the gap its own links need.
            let upper = |i: Item| !topo.in_peer_band(i);
            let lower = |i: Item| topo.in_peer_band(i);
            layout.pill_room = room_for(&|e| !topo.in_peer_band(Item::Node(e.from)));
            layout.place_columns(topo, &columns, margin + band_h, each, &upper);
            layout.pill_room = room_for(&|e| topo.in_peer_band(Item::Node(e.from)));
            layout.place_columns(topo, &columns, peer_y + band_h, each, &lower);
        } else {
            layout.place_columns(
                topo,
                &[PRODUCERS, ROUTERS, STORES, CONSUMERS],
                top,
                avail_h,
                &|_| true,
            );
            if topo.has_event() {
                layout.place_event(topo, top, avail_h, max_k);
            }
        }
        layout.place_pipes(topo);
        layout
    }

    /// Each link between peers gets a port on either end, spread down the node's side in the
    /// order of the nodes at the other end, and a pipe at each port as wide as the gap allows.
    fn place_pipes(&mut self, topo: &Topology) {
        let scale = self.scale;
        let at = |node: NodeRef| self.boxes.iter().find(|b| b.item == Item::Node(node));
        let linked: Vec<&Edge> = (topo.edges.iter())
            .filter(|e| e.pipes)
            .filter(|e| matches!((at(e.from), at(e.to)), (Some(a), Some(b)) if a.column < b.column))
            .collect();
        // The port of `e` at its `from` end (or `to` end): (index, count) among the node's links.
        let port = |e: &Edge, outgoing: bool| -> (usize, usize, Rect) {
            // (this end, the far end) of a link.
            let ends = |x: &Edge| {
                if outgoing {
                    (x.from, x.to)
                } else {
                    (x.to, x.from)
                }
            };
            let far_y = |x: &Edge| at(ends(x).1).map_or(0.0, |b| b.rect.mid_y());
            let mut mine: Vec<&Edge> = (linked.iter().copied())
                .filter(|x| ends(x).0 == ends(e).0)
                .collect();
            mine.sort_by(|a, b| far_y(a).total_cmp(&far_y(b)));
            let i = mine.iter().position(|x| std::ptr::eq(*x, e)).unwrap_or(0);
            (
                i,
                mine.len(),
                at(ends(e).0).map_or(Rect::default(), |b| b.rect),
            )
        };
        let mut pipes = Vec::new();
        for e in &linked {
            let (i, n, a) = port(e, true);
            let (j, m, b) = port(e, false);
            let w = (PIPE_W * scale)
                .min((b.x - a.right() - WIRE_MIN * scale) / 2.0)
                .max(0.0);
            // A port's share of its side holds the pipe's figure line, then the pipe.
            let label = (self.min_text + 4.0).max(PIPE_LABEL * scale);
            let slot = |r: Rect, i: usize, n: usize| {
                let pitch = r.h / n as f64;
                let h = (PIPE_H * scale)
                    .max(PIPE_MIN_H)
                    .min((pitch - label) * 0.8)
                    .max(0.0);
                let top = r.y + pitch * i as f64 + (pitch - label - h) / 2.0;
                (top + label, h)
            };
            let ((oy, oh), (iy, ih)) = (slot(a, i, n), slot(b, j, m));
            pipes.push(PipeBox {
                from: e.from,
                to: e.to,
                family: e.family,
                out: Rect {
                    x: a.right(),
                    y: oy,
                    w,
                    h: oh,
                },
                inp: Rect {
                    x: b.x - w,
                    y: iy,
                    w,
                    h: ih,
                },
            });
        }
        self.pipes = pipes;
    }

    /// Stacks each of `columns`' items that `keep` in the band from `top`, `avail_h` high.
    fn place_columns(
        &mut self,
        topo: &Topology,
        columns: &[usize],
        top: f64,
        avail_h: f64,
        keep: &dyn Fn(Item) -> bool,
    ) {
        let (scale, zoom) = (self.scale, self.zoom);
        for &c in columns {
            // The producers keep clear of the colour key below them (and as much above).
            let (top, avail_h) = if c == PRODUCERS {
                let inset = (self.key.bottom().min(top + avail_h) - self.key.y.max(top))
                    .clamp(0.0, avail_h / 4.0);
                (top + inset, avail_h - 2.0 * inset)
            } else {
                (top, avail_h)
            };
            let column: Vec<Item> = topo.columns[c]
                .iter()
                .copied()
                .filter(|&i| keep(i))
                .collect();
            let n = column.len();
            if n == 0 {
                continue;
            }
            let (node_x, node_w) = self.node_span(c);
            let per = avail_h / n as f64;
            let gap = (18.0 * scale).min(per * 0.2);
            let mut heights: Vec<f64> = column
                .iter()
                .map(|&i| {
                    let z = if matches!(i, Item::Node(_)) {
                        zoom
                    } else {
                        1.0
                    };
                    item_height(c, i) * scale * z
                })
                .collect();
            let room = avail_h - (n - 1) as f64 * gap;
            let sum: f64 = heights.iter().sum();
            if sum > room {
                // A crowded column: every slot shrinks in proportion.
                heights.iter_mut().for_each(|h| *h *= room / sum);
            }
            let block = heights.iter().sum::<f64>() + (n - 1) as f64 * gap;
            let mut y = top + (avail_h - block) / 2.0;
            for (&item, &h) in column.iter().zip(&heights) {
                self.boxes.push(NodeBox {
                    item,
                    column: c,
                    rect: Rect {
                        x: node_x,
                        y,
                        w: node_w,
                        h,
                    },
                });
                y += h + gap;
            }
        }
    }

    /// Where column `c`'s nodes stand: centred in their slot, except that the stores widen
    /// into an empty consumers' column, and move right (into that room, then by narrowing)
    /// until the binding labels fit between them and the routers.
    fn node_span(&self, c: usize) -> (f64, f64) {
        let slot = self.slots[c];
        let node_w = slot.w * NODE_SHARE;
        let node_x = slot.x + (slot.w - node_w) / 2.0;
        if c != STORES {
            return (node_x, node_w);
        }
        let consumers = self.slots[CONSUMERS];
        // How far right a store may reach: into an empty consumers' column.
        let reach = slot.x
            + slot.w
            + if consumers.used {
                0.0
            } else {
                consumers.w * 0.8
            };
        let (mut x, mut w) = (node_x, node_w);
        let routers = self.slots[ROUTERS];
        let gap = node_x - (routers.x + routers.w * (1.0 + NODE_SHARE) / 2.0);
        let short = self.pill_room - gap;
        if short > 0.0 {
            let shift = short.min(reach - (node_x + node_w));
            let narrow = (short - shift).min(node_w * 0.4);
            (x, w) = (node_x + shift + narrow, node_w - narrow);
        }
        if !consumers.used {
            // Nothing to the right: the stores grow into that room, so a crowded column's
            // short boxes still show what they hold beside their names.
            w = (w + consumers.w * 0.6).min(reach - x).max(w);
        }
        (x, w)
    }

    /// Frames (spanning the routers' and stores' columns) and groups (in the consumers'
    /// column), each stack centred in the band. Everything scales by one factor; when even a
    /// small factor does not fit, the rulers go first, then the last rows and members (their
    /// count is shown instead).
    fn place_event(&mut self, topo: &Topology, top: f64, avail_h: f64, max_k: f64) {
        let frame_specs = |ruler: bool| -> Vec<FrameSpec> {
            topo.frames
                .iter()
                .map(|t| FrameSpec {
                    fixed: 2.0 * FRAME_PAD + FRAME_HEADER,
                    row: STRIP_ROW
                        + if ruler { RULER_H } else { 0.0 }
                        + f64::from(t.marker_rows) * MARKER_H,
                    row_gap: ROW_GAP,
                    rows: t.rows.len(),
                })
                .collect()
        };
        let group_frames: Vec<FrameSpec> = topo
            .groups
            .iter()
            .map(|g| FrameSpec {
                fixed: 2.0 * GROUP_PAD
                    + GROUP_HEADER
                    + if g.members.is_empty() {
                        EMPTY_GROUP_H
                    } else {
                        0.0
                    },
                row: MEMBER_H,
                row_gap: MEMBER_GAP,
                rows: g.members.len(),
            })
            .collect();
        let all = |f: &[FrameSpec]| -> Vec<usize> { f.iter().map(|f| f.rows).collect() };
        let need = |specs: &[FrameSpec]| {
            stack_height(specs, &all(specs)).max(stack_height(&group_frames, &all(&group_frames)))
        };
        let min_k = self.scale * 0.8;
        let mut ruler = true;
        let mut specs = frame_specs(true);
        let mut k = max_k.min(avail_h / need(&specs).max(1.0));
        if k < min_k {
            ruler = false;
            specs = frame_specs(false);
            k = max_k.min(avail_h / need(&specs).max(1.0));
        }
        let (frame_rows, group_rows) = if k < min_k {
            k = min_k;
            let t = fit_rows(&specs, k, avail_h);
            let g = fit_rows(&group_frames, k, avail_h);
            // Frames whose headers alone are too tall: everything shrinks.
            let over = stack_height(&specs, &t).max(stack_height(&group_frames, &g));
            k = k.min(avail_h / over.max(1.0));
            (t, g)
        } else {
            (all(&specs), all(&group_frames))
        };
        self.event_k = k;

        let span = |c: usize| {
            let s = self.slots[c];
            (s.x + s.w * (1.0 - NODE_SHARE) / 2.0, s.right_node())
        };
        let (tx0, _) = span(ROUTERS);
        let (_, tx1) = span(STORES);
        let mut y = top + (avail_h - stack_height(&specs, &frame_rows) * k) / 2.0;
        for ((t, spec), &shown) in topo.frames.iter().zip(&specs).zip(&frame_rows) {
            let rect = Rect {
                x: tx0,
                y,
                w: tx1 - tx0,
                h: spec.height(shown) * k,
            };
            let pad = FRAME_PAD * k;
            self.frames.push(FrameBox {
                node: t.node,
                family: t.family,
                rect,
                header: Rect {
                    x: rect.x + pad,
                    y: rect.y + pad,
                    w: rect.w - 2.0 * pad,
                    h: FRAME_HEADER * k,
                },
                hidden_rows: (t.rows.len() - shown) as u32,
            });
            let mut ry = rect.y + pad + FRAME_HEADER * k;
            for &node in t.rows.iter().take(shown) {
                let row = Rect {
                    x: rect.x + pad,
                    y: ry,
                    w: rect.w - 2.0 * pad,
                    h: spec.row * k,
                };
                let inset = 3.0 * k;
                let strip = Rect {
                    x: row.x + ROW_LABEL_W * k,
                    y: row.y + inset,
                    w: (row.w - ROW_LABEL_W * k - inset).max(0.0),
                    h: STRIP_H * k,
                };
                let strip_bottom = row.y + STRIP_ROW * k;
                let ruler_y = ruler.then_some(strip_bottom + RULER_H * k * 0.5);
                self.rows.push(RowBox {
                    node,
                    frame: t.node,
                    family: t.family,
                    rect: row,
                    label: Rect {
                        x: row.x,
                        y: strip.y,
                        w: ROW_LABEL_W * k,
                        h: strip.h,
                    },
                    strip,
                    ruler_y,
                    markers_y: strip_bottom + if ruler { RULER_H * k } else { 0.0 },
                    marker_h: MARKER_H * k,
                });
                ry += (spec.row + spec.row_gap) * k;
            }
            y += rect.h + FRAME_GAP * k;
        }

        let (gx0, gx1) = span(CONSUMERS);
        let mut y = top + (avail_h - stack_height(&group_frames, &group_rows) * k) / 2.0;
        for ((g, spec), &shown) in topo.groups.iter().zip(&group_frames).zip(&group_rows) {
            let rect = Rect {
                x: gx0,
                y,
                w: gx1 - gx0,
                h: spec.height(shown) * k,
            };
            let pad = GROUP_PAD * k;
            let header = Rect {
                x: rect.x + pad,
                y: rect.y + pad,
                w: rect.w - 2.0 * pad,
                h: GROUP_HEADER * k,
            };
            let mut my = header.bottom();
            let members = g
                .members
                .iter()
                .take(shown)
                .map(|&c| {
                    let r = Rect {
                        x: header.x,
                        y: my,
                        w: header.w,
                        h: MEMBER_H * k,
                    };
                    my += (MEMBER_H + MEMBER_GAP) * k;
                    (c, r)
                })
                .collect();
            self.groups.push(GroupBox {
                id: g.id,
                family: g.family,
                rect,
                header,
                members,
                hidden_members: g.members.len() - shown,
            });
            y += rect.h + FRAME_GAP * k;
        }
    }

    /// Where a node is drawn. Rows answer with their strip's height (across the frame), so
    /// links meet the strip.
    pub fn find(&self, node: NodeRef) -> Option<NodeBox> {
        let boxed = |column: usize, rect: Rect| NodeBox {
            item: Item::Node(node),
            column,
            rect,
        };
        if let Some(b) = self.boxes.iter().find(|b| b.item == Item::Node(node)) {
            return Some(*b);
        }
        if let Some(f) = self.frames.iter().find(|f| f.node == node) {
            return Some(boxed(STORES, f.rect));
        }
        if let Some(row) = self.rows.iter().find(|r| r.node == node) {
            let frame = self.frames.iter().find(|f| f.node == row.frame)?;
            return Some(boxed(
                STORES,
                Rect {
                    x: frame.rect.x,
                    y: row.strip.y,
                    w: frame.rect.w,
                    h: row.strip.h,
                },
            ));
        }
        self.groups
            .iter()
            .flat_map(|g| &g.members)
            .find(|(m, _)| *m == node)
            .map(|(_, r)| boxed(CONSUMERS, *r))
    }

    /// The area a selection ring goes around: a row's whole rect (not only the strip links
    /// meet), else where the node is drawn.
    pub fn outline(&self, node: NodeRef) -> Option<Rect> {
        self.rows
            .iter()
            .find(|r| r.node == node)
            .map(|r| r.rect)
            .or_else(|| self.find(node).map(|b| b.rect))
    }

    /// The node drawn at (x, y) in CSS pixels, the innermost one first (a member before its
    /// group, a row before its frame). A group's frame is not a node: `None` there.
    pub fn hit_test(&self, x: f64, y: f64) -> Option<NodeRef> {
        for g in &self.groups {
            if let Some((c, _)) = g.members.iter().find(|(_, r)| r.contains(x, y)) {
                return Some(*c);
            }
            if g.rect.contains(x, y) {
                return None;
            }
        }
        if let Some(p) = self.rows.iter().find(|p| p.rect.contains(x, y)) {
            return Some(p.node);
        }
        if let Some(t) = self.frames.iter().find(|t| t.rect.contains(x, y)) {
            return Some(t.node);
        }
        self.boxes.iter().find_map(|b| match b.item {
            Item::Node(n) if b.rect.contains(x, y) => Some(n),
            _ => None,
        })
    }

    /// Every selectable node in reading order (left to right, then top to bottom), for
    /// moving the selection with the keyboard.
    pub fn reading_order(&self) -> Vec<NodeRef> {
        let mut nodes: Vec<(f64, f64, NodeRef)> = self
            .boxes
            .iter()
            .filter_map(|b| match b.item {
                Item::Node(n) => Some((b.rect.x, b.rect.y, n)),
                Item::Via { .. } => None,
            })
            .collect();
        for t in &self.frames {
            nodes.push((t.rect.x, t.rect.y, t.node));
        }
        for p in &self.rows {
            nodes.push((p.rect.x, p.rect.y, p.node));
        }
        for (c, r) in self.groups.iter().flat_map(|g| &g.members) {
            nodes.push((r.x, r.y, *c));
        }
        // Columns first: x values within a few pixels count as one column.
        nodes.sort_by(|a, b| {
            ((a.0 / 40.0).round())
                .total_cmp(&(b.0 / 40.0).round())
                .then(a.1.total_cmp(&b.1))
        });
        nodes.into_iter().map(|(_, _, n)| n).collect()
    }

    /// The path of a link (through its vias), or `None` if either end is not drawn. A link
    /// between peers runs from the sender's out-pipe to the receiver's in-pipe.
    pub fn link(&self, from: NodeRef, to: NodeRef) -> Option<Path> {
        if let Some(p) = self.pipes.iter().find(|p| p.from == from && p.to == to) {
            let (o, i) = (p.out, p.inp);
            return Some(Path {
                segments: vec![Curve::s_bend(
                    Point {
                        x: o.right(),
                        y: o.mid_y(),
                    },
                    Point {
                        x: i.x,
                        y: i.mid_y(),
                    },
                )],
            });
        }
        let a = self.find(from)?;
        let b = self.find(to)?;
        if a.column >= b.column {
            return Some(Path {
                segments: vec![Curve::between(&a, &b)],
            });
        }
        let mut segments = Vec::new();
        let mut start = Point {
            x: a.rect.right(),
            y: a.rect.mid_y(),
        };
        for via in self
            .boxes
            .iter()
            .filter(|v| v.item == Item::Via { from, to })
        {
            let (l, r) = (
                Point {
                    x: via.rect.x,
                    y: via.rect.mid_y(),
                },
                Point {
                    x: via.rect.right(),
                    y: via.rect.mid_y(),
                },
            );
            segments.push(Curve::s_bend(start, l));
            segments.push(Curve::line(l, r));
            start = r;
        }
        segments.push(Curve::s_bend(
            start,
            Point {
                x: b.rect.x,
                y: b.rect.mid_y(),
            },
        ));
        Some(Path { segments })
    }
}

impl ColumnSlot {
    /// The right edge of a node placed in this column.
    fn right_node(&self) -> f64 {
        self.x + self.w - self.w * (1.0 - NODE_SHARE) / 2.0
    }
}

/// A link: one or more curves end to end.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    pub segments: Vec<Curve>,
}

impl Path {
    pub fn start(&self) -> Point {
        self.segments[0].p0
    }

    pub fn end(&self) -> Point {
        self.segments[self.segments.len() - 1].p3
    }

    pub fn last(&self) -> &Curve {
        &self.segments[self.segments.len() - 1]
    }

    /// Horizontal distance covered.
    pub fn span_x(&self) -> f64 {
        (self.end().x - self.start().x).abs()
    }

    /// The point at fraction `t` of the way, segments weighted by their horizontal extent.
    pub fn at(&self, t: f64) -> Point {
        let t = t.clamp(0.0, 1.0);
        let weights: Vec<f64> = self
            .segments
            .iter()
            .map(|c| (c.p3.x - c.p0.x).abs().max(1e-6))
            .collect();
        let total: f64 = weights.iter().sum();
        let mut left = t * total;
        for (c, w) in self.segments.iter().zip(&weights) {
            if left <= *w {
                return c.at(left / w);
            }
            left -= w;
        }
        self.end()
    }
}

/// A cubic Bézier from one node's side to another's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Curve {
    pub p0: Point,
    pub p1: Point,
    pub p2: Point,
    pub p3: Point,
}

impl Curve {
    pub fn between(a: &NodeBox, b: &NodeBox) -> Curve {
        let (ra, rb) = (a.rect, b.rect);
        if a.column == b.column {
            // Exchange-to-exchange binding: a loop on the right side.
            let bulge = ra.w * 0.35;
            let p0 = Point {
                x: ra.right(),
                y: ra.mid_y(),
            };
            let p3 = Point {
                x: rb.right(),
                y: rb.mid_y(),
            };
            return Curve {
                p0,
                p1: Point {
                    x: p0.x + bulge,
                    y: p0.y,
                },
                p2: Point {
                    x: p3.x + bulge,
                    y: p3.y,
                },
                p3,
            };
        }
        Curve::s_bend(
            Point {
                x: ra.right(),
                y: ra.mid_y(),
            },
            Point {
                x: rb.x,
                y: rb.mid_y(),
            },
        )
    }

    /// Leaves `p0` and reaches `p3` horizontally.
    pub fn s_bend(p0: Point, p3: Point) -> Curve {
        let dx = (p3.x - p0.x) * 0.5;
        Curve {
            p0,
            p1: Point {
                x: p0.x + dx,
                y: p0.y,
            },
            p2: Point {
                x: p3.x - dx,
                y: p3.y,
            },
            p3,
        }
    }

    pub fn line(p0: Point, p3: Point) -> Curve {
        let third = |a: f64, b: f64, f: f64| a + (b - a) * f;
        Curve {
            p0,
            p1: Point {
                x: third(p0.x, p3.x, 1.0 / 3.0),
                y: third(p0.y, p3.y, 1.0 / 3.0),
            },
            p2: Point {
                x: third(p0.x, p3.x, 2.0 / 3.0),
                y: third(p0.y, p3.y, 2.0 / 3.0),
            },
            p3,
        }
    }

    pub fn at(&self, t: f64) -> Point {
        let t = t.clamp(0.0, 1.0);
        let u = 1.0 - t;
        let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
        Point {
            x: a * self.p0.x + b * self.p1.x + c * self.p2.x + d * self.p3.x,
            y: a * self.p0.y + b * self.p1.y + c * self.p2.y + d * self.p3.y,
        }
    }
}

/// How far along its link a message is, 0 at `sent_at` and 1 at `arrive_at`.
pub fn progress(now: SimTime, sent_at: SimTime, arrive_at: SimTime) -> f64 {
    let span = arrive_at.since(sent_at);
    if span == 0 {
        return 1.0;
    }
    (now.since(sent_at) as f64 / span as f64).clamp(0.0, 1.0)
}

/// How many chips of width `chip` with `gap` between them fit in `width`.
pub fn chips_that_fit(width: f64, chip: f64, gap: f64) -> usize {
    if width < chip || chip <= 0.0 {
        return 0;
    }
    ((width + gap) / (chip + gap)).floor() as usize
}

/// How a partition's log is laid out in its strip, left to right: the offsets retention
/// deleted (a hatched block), older retained records the snapshot does not list (a count),
/// one chip per newest record, then the empty slot the next record will take. Offsets grow to
/// the right, as in a log.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StripGeom {
    pub log_start: u64,
    pub log_end: u64,
    pub deleted: Option<Rect>,
    pub older: Option<Rect>,
    /// Offset of the first chip drawn.
    pub first_chip: u64,
    pub chip_x0: f64,
    pub chip_w: f64,
    pub pitch: f64,
    pub next: Rect,
}

impl StripGeom {
    /// `tail_first` is the oldest offset whose chip the snapshot lists; `deleted_w` and
    /// `older_w` are the blocks' widths (their text, measured by the caller).
    pub fn new(
        strip: Rect,
        k: f64,
        (log_start, log_end, tail_first): (u64, u64, u64),
        deleted_w: f64,
        older_w: f64,
    ) -> StripGeom {
        let (chip_w, gap) = (15.0 * k, 3.0 * k);
        let pitch = chip_w + gap;
        let log_end = log_end.max(log_start);
        let tail_first = tail_first.clamp(log_start, log_end);
        let mut x = strip.x;
        let block = |x: f64, w: f64| Rect {
            x,
            y: strip.y,
            w,
            h: strip.h,
        };
        let deleted = (log_start > 0).then(|| block(x, deleted_w.min(strip.w * 0.35)));
        if let Some(r) = deleted {
            x = r.right() + gap;
        }
        // Chips that fit after `x`, keeping one slot for the next record.
        let room = |x: f64| ((strip.right() - x - chip_w) / pitch).floor().max(0.0) as u64;
        let (older, first_chip) = if tail_first == log_start && log_end - log_start <= room(x) {
            (None, log_start)
        } else {
            let r = block(x, older_w.min(strip.w * 0.3));
            x = r.right() + gap;
            (Some(r), log_end - room(x).min(log_end - tail_first))
        };
        let next = block(x + (log_end - first_chip) as f64 * pitch, chip_w);
        StripGeom {
            log_start,
            log_end,
            deleted,
            older,
            first_chip,
            chip_x0: x,
            chip_w,
            pitch,
            next,
        }
    }

    /// Where a marker for offset `o` points: the middle of its chip (or of the next slot), or
    /// its proportional place in a block.
    pub fn marker_x(&self, o: u64) -> f64 {
        let within =
            |r: Rect, from: u64, to: u64| r.x + r.w * (o - from) as f64 / (to - from).max(1) as f64;
        if o < self.log_start {
            return self
                .deleted
                .map_or(self.chip_x0, |r| within(r, 0, self.log_start));
        }
        if o < self.first_chip {
            return self
                .older
                .map_or(self.chip_x0, |r| within(r, self.log_start, self.first_chip));
        }
        let o = o.min(self.log_end);
        self.chip_x0 + (o - self.first_chip) as f64 * self.pitch + self.chip_w / 2.0
    }

    /// The chip of record `o`, if it is drawn as one.
    pub fn chip(&self, o: u64) -> Option<Rect> {
        (o >= self.first_chip && o < self.log_end).then(|| Rect {
            x: self.chip_x0 + (o - self.first_chip) as f64 * self.pitch,
            y: self.next.y,
            w: self.chip_w,
            h: self.next.h,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::Driver;
    use crate::kinds::{self, testing};
    use broker_sim::{Scenario, Snapshot};

    const ROLES: [Role; COLUMNS] = [Role::Producer, Role::Router, Role::Store, Role::Consumer];

    fn topo(counts: [usize; COLUMNS]) -> Topology {
        let mut t = Topology::default();
        for (c, (&n, role)) in counts.iter().zip(ROLES).enumerate() {
            for i in 0..n {
                let node = testing::node(role, i as u32);
                t.columns[c].push(Item::Node(node));
                t.placed.insert(node, c);
            }
        }
        t
    }

    fn topology(snap: &Snapshot) -> Topology {
        Topology::from_graph(&snap.graph, kinds::band)
    }

    /// The graph node named `name`.
    fn named(snap: &Snapshot, name: &str) -> NodeRef {
        snap.graph
            .nodes
            .iter()
            .find(|n| n.name == name)
            .unwrap_or_else(|| panic!("no node {name:?}"))
            .node
    }

    fn assert_sane(l: &Layout) {
        for (i, a) in l.boxes.iter().enumerate() {
            assert!(
                a.rect.inside(l.width, l.height),
                "{:?} at {:?} is outside {}x{}",
                a.item,
                a.rect,
                l.width,
                l.height
            );
            assert!(a.rect.w > 0.0 && a.rect.h > 0.0, "{:?} has no area", a.item);
            for b in &l.boxes[i + 1..] {
                assert!(
                    !a.rect.overlaps(&b.rect),
                    "{:?} {:?} overlaps {:?} {:?}",
                    a.item,
                    a.rect,
                    b.item,
                    b.rect
                );
            }
        }
    }

    #[test]
    fn no_overlaps_and_inside_for_many_shapes_and_sizes() {
        let sizes = [
            (1240.0, 470.0),
            (1880.0, 820.0),
            (800.0, 400.0),
            (320.0, 200.0),
            (3840.0, 2000.0),
        ];
        let shapes = [
            [1, 1, 1, 1],
            [2, 3, 5, 8],
            [1, 0, 0, 3],
            [12, 20, 40, 60],
            [0, 0, 0, 0],
            [256, 256, 256, 256],
        ];
        for (w, h) in sizes {
            for shape in shapes {
                let l = Layout::compute(&topo(shape), w, h, crate::pen::MIN_TEXT_PX);
                assert_eq!(l.boxes.len(), shape.iter().sum::<usize>());
                assert_sane(&l);
            }
        }
    }

    #[test]
    fn columns_run_left_to_right() {
        let l = Layout::compute(&topo([2, 2, 2, 2]), 1240.0, 470.0, crate::pen::MIN_TEXT_PX);
        let right_of = |c: usize| {
            l.boxes
                .iter()
                .filter(|b| b.column == c)
                .map(|b| b.rect.right())
                .fold(0.0, f64::max)
        };
        let left_of = |c: usize| {
            l.boxes
                .iter()
                .filter(|b| b.column == c)
                .map(|b| b.rect.x)
                .fold(f64::MAX, f64::min)
        };
        for c in 0..COLUMNS - 1 {
            // Room between columns for links and their labels.
            assert!(
                left_of(c + 1) - right_of(c) > 60.0,
                "columns {c} and {}",
                c + 1
            );
        }
    }

    #[test]
    fn default_scenario_is_one_straight_line_of_readable_nodes() {
        let d = Driver::with_default_scenario();
        let t = topology(&d.snapshot());
        assert_eq!(
            t.columns.iter().map(Vec::len).collect::<Vec<_>>(),
            [1, 1, 1, 1]
        );
        assert_eq!(t.edges.len(), 3, "{:?}", t.edges);
        let l = Layout::compute(&t, 1240.0, 470.0, crate::pen::MIN_TEXT_PX);
        assert_sane(&l);
        assert!(l.scale >= 0.95);
        let ys: Vec<f64> = l.boxes.iter().map(|b| b.rect.mid_y()).collect();
        assert!(ys.windows(2).all(|w| (w[0] - w[1]).abs() < 1e-9));
        for e in &t.edges {
            assert!(l.link(e.from, e.to).is_some(), "{e:?} has no curve");
        }
    }

    /// A cluster's node boxes have no links: they follow the queue its links fan into, and
    /// never split that fan (the queue stood between rabbit-1 and rabbit-2).
    #[test]
    fn unlinked_broker_boxes_follow_the_linked_stores() {
        let scenario = crate::presets::scenario("quorum-lab").unwrap();
        let d = Driver::new(&scenario, 1).unwrap();
        let snap = d.snapshot();
        let t = topology(&snap);
        let names: Vec<String> = t.columns[STORES]
            .iter()
            .filter_map(|i| i.node())
            .filter_map(|n| snap.graph.node(n))
            .map(|n| n.name.clone())
            .collect();
        assert_eq!(names, ["orders", "rabbit-1", "rabbit-2", "rabbit-3"]);
    }

    /// Lesson 12 at 1280×720 (the drawing beside the narration): each binding label fits,
    /// at the room's smallest text, between its exchange and its queue: 28 characters (the
    /// pill's cut) in the normal mode, 20 at the presenter's 18 px.
    #[test]
    fn binding_labels_get_the_gap_they_need() {
        let scenario = crate::presets::scenario("12-routing").unwrap();
        let d = Driver::new(&scenario, 1).unwrap();
        let t = topology(&d.snapshot());
        for (min_text, w, h, chars) in [
            (crate::pen::MIN_TEXT_PX, 790.0, 445.0, 28),
            (crate::pen::PRESENT_MIN_TEXT_PX, 778.0, 517.0, 20),
        ] {
            let l = Layout::compute(&t, w, h, min_text);
            assert_sane(&l);
            for e in t.edges.iter().filter(|e| e.has_pill()) {
                let (a, b) = (l.find(e.from).unwrap(), l.find(e.to).unwrap());
                let label = e.label.as_deref().unwrap();
                let need = label.chars().count().min(chars) as f64 * 0.62 * min_text;
                assert!(
                    b.rect.x - a.rect.right() >= need,
                    "{label:?} needs {need:.0}px at {min_text}px, has {:.0}",
                    b.rect.x - a.rect.right()
                );
            }
        }
    }

    #[test]
    fn scenario_with_exchanges_and_channels() {
        let json = r##"{
          "version": 1,
          "exchanges": [{ "name": "logs", "type": "topic" }],
          "queues": [{ "name": "errors" }, { "name": "all" }],
          "bindings": [
            { "exchange": "logs", "queue": "all", "routing_key": "#" },
            { "exchange": "logs", "queue": "errors", "routing_key": "*.error" }
          ],
          "producers": [
            { "name": "app", "targets": [{ "exchange": "logs" }],
              "rate": { "kind": "constant", "per_sec": 5 },
              "message": { "routing_keys": ["web.error", "web.info"] } },
            { "name": "chat", "targets": [{ "channel": "room" }],
              "rate": { "kind": "constant", "per_sec": 5 } }
          ],
          "consumers": [
            { "name": "alerts", "source": { "queue": "errors" },
              "processing": { "kind": "fixed", "ms": 10 } },
            { "name": "archive", "source": { "queue": "all" },
              "processing": { "kind": "fixed", "ms": 10 } },
            { "name": "reader", "source": { "subscribe": { "patterns": ["r*"] } },
              "processing": { "kind": "fixed", "ms": 10 } }
          ]
        }"##;
        let scenario = Scenario::from_json(json).unwrap();
        let mut d = Driver::new(&scenario, 1).unwrap();
        d.set_playing(true);
        for _ in 0..10 {
            d.tick(100.0);
        }
        let snap = d.snapshot();
        let t = topology(&snap);
        // The default exchange is unused, so hidden.
        let default = snap.graph.nodes.iter().find(|n| n.implicit).unwrap().node;
        assert!(!t.columns[ROUTERS].contains(&Item::Node(default)));
        assert_eq!(t.columns[ROUTERS].len(), 2, "{:?}", t.columns);
        let labels: Vec<_> = t.edges.iter().filter_map(|e| e.label.clone()).collect();
        assert!(labels.contains(&"*.error".to_string()));
        assert!(t.edges.iter().any(|e| e.kind == LinkKind::Push));
        // The core says which pattern reached the subscriber.
        assert!(labels.contains(&"r*".to_string()), "{labels:?}");
        // Each consumer sits at the height of what feeds it: the subscriber, fed by the
        // channel at the bottom of its column, comes last.
        let last = *t.columns[CONSUMERS].last().unwrap();
        let reader = named(&snap, "reader");
        assert_eq!(last, Item::Node(reader), "{:?}", t.columns[CONSUMERS]);
        let l = Layout::compute(&t, 1240.0, 470.0, crate::pen::MIN_TEXT_PX);
        assert_sane(&l);
        // The channel-to-subscriber link passes the queues' column through a via of its own.
        let via = l
            .boxes
            .iter()
            .find(|b| matches!(b.item, Item::Via { to, .. } if to == reader))
            .expect("a via for the subscriber's link");
        assert_eq!(via.column, STORES);
        let Item::Via { from, .. } = via.item else {
            unreachable!()
        };
        let path = l.link(from, reader).unwrap();
        assert_eq!(path.segments.len(), 3);
        let p = path.at(0.5);
        assert!(p.x >= via.rect.x && p.x <= via.rect.right());
        assert!((p.y - via.rect.mid_y()).abs() < 1e-6);
        // Increasing t moves forward along the path.
        let xs: Vec<f64> = (0..=20).map(|i| path.at(f64::from(i) / 20.0).x).collect();
        assert!(xs.windows(2).all(|w| w[0] <= w[1] + 1e-9));
    }

    #[test]
    fn curves_and_progress() {
        let l = Layout::compute(&topo([1, 1, 0, 0]), 1240.0, 470.0, crate::pen::MIN_TEXT_PX);
        let a = testing::node(Role::Producer, 0);
        let b = testing::node(Role::Router, 0);
        let c = l.link(a, b).unwrap();
        assert_eq!(c.at(0.0), c.start());
        assert_eq!(c.at(1.0), c.end());
        assert_eq!(c.start().x, l.find(a).unwrap().rect.right());
        assert_eq!(c.end().x, l.find(b).unwrap().rect.x);
        let mid = c.at(0.5);
        assert!(mid.x > c.start().x && mid.x < c.end().x);
        assert_eq!(progress(SimTime(150), SimTime(100), SimTime(200)), 0.5);
        assert_eq!(progress(SimTime(50), SimTime(100), SimTime(200)), 0.0);
        assert_eq!(progress(SimTime(500), SimTime(100), SimTime(200)), 1.0);
        assert_eq!(progress(SimTime(100), SimTime(100), SimTime(100)), 1.0);
    }

    /// Every top-level thing (nodes, vias, frames and groups) inside the canvas and apart; rows
    /// inside their frame, members inside their group, each apart from its siblings.
    fn assert_event_sane(l: &Layout) {
        assert_sane(l);
        let mut tops: Vec<(String, Rect)> = l
            .boxes
            .iter()
            .map(|b| (format!("{:?}", b.item), b.rect))
            .collect();
        tops.extend(
            l.frames
                .iter()
                .map(|t| (format!("frame {:?}", t.node), t.rect)),
        );
        tops.extend(l.groups.iter().map(|g| (format!("group {}", g.id), g.rect)));
        for (i, (a, ra)) in tops.iter().enumerate() {
            assert!(
                ra.inside(l.width, l.height),
                "{a} {ra:?} outside {}x{}",
                l.width,
                l.height
            );
            assert!(ra.w > 0.0 && ra.h > 0.0, "{a} has no area");
            for (b, rb) in &tops[i + 1..] {
                assert!(!ra.overlaps(rb), "{a} {ra:?} overlaps {b} {rb:?}");
            }
        }
        for (i, p) in l.rows.iter().enumerate() {
            let frame = l.frames.iter().find(|t| t.node == p.frame).unwrap();
            assert!(p.rect.within(&frame.rect), "{p:?} outside {frame:?}");
            assert!(p.strip.within(&p.rect) && p.label.within(&p.rect), "{p:?}");
            assert!(!p.rect.overlaps(&frame.header), "{p:?} under the header");
            for q in &l.rows[i + 1..] {
                assert!(!p.rect.overlaps(&q.rect), "{p:?} overlaps {q:?}");
            }
        }
        for g in &l.groups {
            assert!(g.header.within(&g.rect));
            for (i, (_, m)) in g.members.iter().enumerate() {
                assert!(
                    m.within(&g.rect) && !m.overlaps(&g.header),
                    "{m:?} in {g:?}"
                );
                for (_, n) in &g.members[i + 1..] {
                    assert!(!m.overlaps(n), "{m:?} overlaps {n:?}");
                }
            }
        }
        for b in l.boxes.iter().filter(|b| b.column == PRODUCERS) {
            assert!(!b.rect.overlaps(&l.key), "{b:?} covers the colour key");
        }
    }

    /// The compare scenario after the teacher added a late consumer and a new group.
    fn compare_run() -> (Driver, Snapshot) {
        let mut d = Driver::new(&crate::compare::scenario(), 1).unwrap();
        d.run_to(SimTime(25_000_000));
        let snap = d.snapshot();
        let cmds = [crate::compare::late_consumer_command(&snap, "orders")]
            .into_iter()
            .chain(crate::compare::new_group_commands(&snap, "orders-log"));
        for cmd in cmds {
            d.apply(cmd).unwrap();
        }
        d.run_to(SimTime(26_000_000));
        let snap = d.snapshot();
        (d, snap)
    }

    #[test]
    fn compare_scenario_is_two_bands_with_nothing_overlapping() {
        let (_, snap) = compare_run();
        let t = topology(&snap);
        assert!(t.has_message() && t.has_event());
        assert_eq!(t.frames.len(), 1);
        assert_eq!(t.frames[0].rows.len(), 2);
        assert_eq!(t.frames[0].marker_rows, 2);
        assert_eq!(t.groups.len(), 2);
        // Group members are drawn in their group, not in the consumers' column.
        assert_eq!(t.columns[CONSUMERS].len(), 2, "{:?}", t.columns[CONSUMERS]);
        // One producer fans out: to the default exchange and to both partitions.
        assert_eq!(t.columns[PRODUCERS].len(), 1);
        let shop = named(&snap, "shop");
        for &row in &t.frames[0].rows {
            assert!(t.edges.iter().any(|e| e.from == shop && e.to == row));
        }
        // Each group's member owns both partitions.
        let owned = t.edges.iter().filter(|e| e.kind == LinkKind::Fetch).count();
        assert_eq!(owned, 4);
        for (w, h) in [
            (1238.0, 436.0),
            (1238.0, 489.0),
            (1878.0, 820.0),
            (1100.0, 330.0),
            (800.0, 400.0),
            (320.0, 200.0),
        ] {
            let l = Layout::compute(&t, w, h, crate::pen::MIN_TEXT_PX);
            assert_event_sane(&l);
            assert_eq!(l.bands.len(), 2);
            let (m, e) = (l.bands[0], l.bands[1]);
            assert_eq!((m.kind, e.kind), (BandKind::Message, BandKind::Event));
            assert!(m.rect.bottom() <= e.rect.y, "bands overlap at {w}x{h}");
            for b in l.boxes.iter().filter(|b| b.column != PRODUCERS) {
                let r = b.rect.grow(-1e-6);
                assert!(
                    r.within(&m.rect) && !r.overlaps(&m.heading),
                    "{b:?} at {w}x{h}"
                );
            }
            for r in l
                .frames
                .iter()
                .map(|t| t.rect)
                .chain(l.groups.iter().map(|g| g.rect))
            {
                let r = r.grow(-1e-6);
                assert!(
                    r.within(&e.rect) && !r.overlaps(&e.heading),
                    "{r:?} at {w}x{h}"
                );
            }
            // Links run between drawn nodes (a tiny canvas leaves partitions out).
            for edge in &t.edges {
                let drawn = l.find(edge.from).is_some() && l.find(edge.to).is_some();
                assert_eq!(l.link(edge.from, edge.to).is_some(), drawn, "{edge:?}");
            }
        }
        // At the seminar size the log is drawn readably, nothing left out.
        let l = Layout::compute(&t, 1238.0, 436.0, crate::pen::MIN_TEXT_PX);
        for edge in &t.edges {
            assert!(l.link(edge.from, edge.to).is_some(), "{edge:?} has no path");
        }
        assert!(
            l.event_k >= 0.8 * l.scale,
            "event_k {} at scale {}",
            l.event_k,
            l.scale
        );
        assert_eq!(l.rows.len(), 2);
        assert!(l
            .groups
            .iter()
            .all(|g| g.hidden_members == 0 && g.members.len() == 1));
        // The producer sits between the two bands.
        let p = l.find(shop).unwrap().rect;
        assert!(p.y < l.bands[1].rect.y && p.bottom() > l.bands[0].rect.bottom());
    }

    /// A preset run for `ms` simulated milliseconds, and its snapshot.
    fn preset_run(id: &str, ms: u64) -> Snapshot {
        let scenario = crate::presets::scenario(id).unwrap();
        let mut d = Driver::new(&scenario, 1).unwrap();
        d.run_to(SimTime(ms * 1000));
        d.snapshot()
    }

    #[test]
    fn zmq_2_each_link_between_peers_carries_its_two_pipes_at_its_ends() {
        // Lesson 21: a PUB with one SUB and a PUSH with one PULL, pipes of 2 each way.
        let snap = preset_run("21-zeromq-no-safety-net", 2_000);
        let t = topology(&snap);
        let (pubs, sub) = (named(&snap, "ticker/pub"), named(&snap, "board/sub"));
        let (push, pull) = (named(&snap, "vent/push"), named(&snap, "worker/pull"));
        // Senders stand left of their receivers, so each link runs left to right.
        for (from, to) in [(pubs, sub), (push, pull)] {
            assert_eq!(
                (t.column_of(from), t.column_of(to)),
                (Some(ROUTERS), Some(STORES))
            );
            let e = t
                .edges
                .iter()
                .find(|e| e.from == from && e.to == to)
                .unwrap();
            assert!(e.pipes, "{e:?}");
        }
        // No other link has pipes: a producer's or consumer's link is no connection.
        assert_eq!(t.edges.iter().filter(|e| e.pipes).count(), 2);
        // The worker's process down, its connection broken: its socket keeps its column.
        let down = preset_run("21-zeromq-no-safety-net", 3_500);
        let t_down = topology(&down);
        let status = down.graph.node(pull).unwrap().status;
        assert!(!t_down.edges.iter().any(|e| e.to == pull && e.pipes));
        assert_ne!(status, broker_sim::snapshot::NodeStatus::Running);
        assert_eq!(t_down.column_of(pull), Some(STORES));
        // The lesson's canvas at 1280x720 and 1024x768, and a wide one.
        for (w, h) in [(790.0, 445.0), (625.0, 490.0), (1238.0, 436.0)] {
            let l = Layout::compute(&t, w, h, crate::pen::MIN_TEXT_PX);
            assert_sane(&l);
            assert_eq!(l.pipes.len(), 2, "at {w}x{h}");
            for p in &l.pipes {
                let (a, b) = (l.find(p.from).unwrap().rect, l.find(p.to).unwrap().rect);
                // The out-pipe sits on the sender's edge, the in-pipe on the receiver's, level
                // with their ports, and the wire between them is left free.
                assert!(
                    (p.out.x - a.right()).abs() < 1e-6 && (p.inp.right() - b.x).abs() < 1e-6,
                    "{p:?} at {w}x{h}"
                );
                assert!(
                    p.out.y >= a.y && p.out.bottom() <= a.bottom(),
                    "{p:?} at {w}x{h}"
                );
                assert!(
                    p.inp.y >= b.y && p.inp.bottom() <= b.bottom(),
                    "{p:?} at {w}x{h}"
                );
                // Wide enough for a slot per message up to a mark of 5 (a larger mark: a gauge).
                assert!(p.out.w >= 48.0 && p.inp.w == p.out.w, "{p:?} at {w}x{h}");
                // Its figure line above it stays on the node's side.
                assert!(
                    p.out.y - a.y >= l.min_text && p.inp.y - b.y >= l.min_text,
                    "{p:?}"
                );
                assert!(
                    p.inp.x - p.out.right() >= WIRE_MIN * l.scale - 1e-6,
                    "at {w}x{h}"
                );
                for n in &l.boxes {
                    assert!(
                        !p.out.grow(-1e-6).overlaps(&n.rect)
                            && !p.inp.grow(-1e-6).overlaps(&n.rect)
                    );
                }
                // The link runs from pipe to pipe.
                let path = l.link(p.from, p.to).unwrap();
                assert_eq!(
                    path.start(),
                    Point {
                        x: p.out.right(),
                        y: p.out.mid_y()
                    }
                );
                assert_eq!(
                    path.end(),
                    Point {
                        x: p.inp.x,
                        y: p.inp.mid_y()
                    }
                );
            }
        }
    }

    #[test]
    fn zmq_6_a_pub_fanning_out_gives_each_subscriber_its_own_port() {
        let json = r#"{"version": 1, "zeromq": {"peers": [
            {"name": "p", "sockets": [{"name": "out", "type": "pub", "bind": ["e"]}]},
            {"name": "a", "sockets": [{"name": "in", "type": "sub", "connect": ["e"], "subscribe": [""]}]},
            {"name": "b", "sockets": [{"name": "in", "type": "sub", "connect": ["e"], "subscribe": [""]}]},
            {"name": "c", "sockets": [{"name": "in", "type": "sub", "connect": ["e"], "subscribe": [""]}]}]}}"#;
        let mut d = Driver::new(&Scenario::from_json(json).unwrap(), 1).unwrap();
        d.run_to(SimTime(1_000_000));
        let snap = d.snapshot();
        let t = topology(&snap);
        let l = Layout::compute(&t, 1238.0, 436.0, crate::pen::MIN_TEXT_PX);
        assert_eq!(l.pipes.len(), 3);
        let mut outs: Vec<(Rect, f64)> = (l.pipes.iter())
            .map(|p| (p.out, l.find(p.to).unwrap().rect.mid_y()))
            .collect();
        outs.sort_by(|a, b| a.0.y.total_cmp(&b.0.y));
        // Ports top to bottom in the order of their subscribers, none over another.
        for w in outs.windows(2) {
            assert!(w[0].0.bottom() <= w[1].0.y, "{outs:?}");
            assert!(w[0].1 < w[1].1, "{outs:?}");
        }
    }

    #[test]
    fn zmq_1_brokerless_view_is_a_broker_band_above_a_peer_band() {
        let snap = preset_run("brokerless", 3_000);
        let t = topology(&snap);
        assert!(t.has_message() && t.has_peer() && !t.has_event());
        let lower = ["feed", "vent/out", "sink/in"].map(|n| named(&snap, n));
        let upper = ["shop", "jobs"].map(|n| named(&snap, n));
        for (w, h) in [
            (1000.0, 340.0),
            (760.0, 420.0),
            (1238.0, 436.0),
            (1878.0, 820.0),
        ] {
            let l = Layout::compute(&t, w, h, crate::pen::MIN_TEXT_PX);
            assert_sane(&l);
            assert_eq!(
                l.bands.iter().map(|b| b.kind).collect::<Vec<_>>(),
                [BandKind::Message, BandKind::Peer]
            );
            let (m, p) = (l.bands[0], l.bands[1]);
            assert!(m.rect.bottom() < p.rect.y, "bands overlap at {w}x{h}");
            assert!(p.rect.bottom() <= h, "at {w}x{h}");
            let inside = |n: NodeRef, band: &BandSlot| {
                let r = l.find(n).unwrap().rect.grow(-1e-6);
                r.within(&band.rect) && !r.overlaps(&band.heading)
            };
            for n in upper {
                assert!(inside(n, &m), "{n:?} outside the broker band at {w}x{h}");
            }
            for n in lower {
                assert!(inside(n, &p), "{n:?} outside the peer band at {w}x{h}");
            }
            // Every box is in one band or the other, each consumer in its side's band.
            for b in &l.boxes {
                let r = b.rect.grow(-1e-6);
                assert!(r.within(&m.rect) || r.within(&p.rect), "{b:?} at {w}x{h}");
            }
            // The link between the peers carries its pipes inside the peer band.
            assert_eq!(l.pipes.len(), 1);
            let pipe = l.pipes[0];
            assert!(
                pipe.out.within(&p.rect) && pipe.inp.within(&p.rect),
                "at {w}x{h}"
            );
        }
    }

    #[test]
    fn hit_test_finds_the_innermost_node() {
        let (_, snap) = compare_run();
        let t = topology(&snap);
        let l = Layout::compute(&t, 1238.0, 489.0, crate::pen::MIN_TEXT_PX);
        let centre = |r: Rect| (r.x + r.w / 2.0, r.mid_y());
        for b in &l.boxes {
            if let Item::Node(n) = b.item {
                let (x, y) = centre(b.rect);
                assert_eq!(l.hit_test(x, y), Some(n));
            }
        }
        for p in &l.rows {
            let (x, y) = centre(p.strip);
            assert_eq!(l.hit_test(x, y), Some(p.node));
            // The markers under the strip belong to the row too.
            assert_eq!(l.hit_test(x, p.markers_y + 2.0), Some(p.node));
        }
        for f in &l.frames {
            let (x, y) = centre(f.header);
            assert_eq!(l.hit_test(x, y), Some(f.node));
        }
        for g in &l.groups {
            for &(m, r) in &g.members {
                let (x, y) = centre(r);
                assert_eq!(l.hit_test(x, y), Some(m));
            }
            // A group's own frame is not a node.
            let (x, y) = centre(g.header);
            assert_eq!(l.hit_test(x, y), None);
        }
        assert_eq!(l.hit_test(1.0, 1.0), None);
        assert_eq!(l.hit_test(-50.0, 5000.0), None);
        // Links and moving messages meet a partition at its strip.
        let strip = l.rows[0].strip;
        let part = l.find(l.rows[0].node).unwrap();
        assert!((part.rect.mid_y() - strip.mid_y()).abs() < 1e-9);
        // Every drawn node once, in reading order: the producer first.
        let order = l.reading_order();
        let mut unique = order.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), order.len());
        assert_eq!(order[0], named(&snap, "shop"));
        assert_eq!(
            order.len(),
            l.boxes
                .iter()
                .filter(|b| matches!(b.item, Item::Node(_)))
                .count()
                + l.frames.len()
                + l.rows.len()
                + l.groups.iter().map(|g| g.members.len()).sum::<usize>()
        );
    }

    #[test]
    fn crowded_event_band_leaves_rows_out_instead_of_overlapping() {
        let family = Family::ALL
            .into_iter()
            .find(|f| kinds::band(*f) == BandKind::Event)
            .unwrap();
        let mut t = topo([3, 0, 0, 0]);
        t.frames = (0..3)
            .map(|id| FrameItem {
                node: testing::frame(id),
                family,
                rows: (0..12 * (id + 1)).map(|i| testing::row(id, i)).collect(),
                marker_rows: MAX_MARKER_ROWS,
            })
            .collect();
        t.groups = (0..4)
            .map(|id| GroupItem {
                id: GroupId(id),
                family,
                members: (0..10 * (id + 1))
                    .map(|i| testing::node(Role::Consumer, i))
                    .collect(),
            })
            .collect();
        t.groups.push(GroupItem {
            id: GroupId(9),
            family,
            members: Vec::new(),
        });
        for (w, h) in [
            (1238.0, 436.0),
            (800.0, 400.0),
            (320.0, 200.0),
            (3840.0, 2000.0),
        ] {
            let l = Layout::compute(&t, w, h, crate::pen::MIN_TEXT_PX);
            assert_event_sane(&l);
            let shown = l.rows.len() as u32 + l.frames.iter().map(|f| f.hidden_rows).sum::<u32>();
            assert_eq!(shown, 12 + 24 + 36, "rows shown + hidden at {w}x{h}");
            let members: usize = l
                .groups
                .iter()
                .map(|g| g.members.len() + g.hidden_members)
                .sum();
            assert_eq!(members, 100);
        }
        let l = Layout::compute(&t, 1238.0, 436.0, crate::pen::MIN_TEXT_PX);
        assert!(l.frames.iter().any(|f| f.hidden_rows > 0));
        assert!(l.groups.iter().any(|g| g.hidden_members > 0));
        // Without a message broker there are no bands: the columns keep their headings.
        assert!(l.bands.is_empty());
    }

    #[test]
    fn event_only_and_service_scenarios() {
        let kafka = include_str!("../scenarios/kafka/kaf-08-one-owner-per-partition.json");
        let services = include_str!("../scenarios/buffering-no-broker.json");
        for json in [kafka, services] {
            let mut d = Driver::new(&Scenario::from_json(json).unwrap(), 1).unwrap();
            d.run_to(SimTime(3_000_000));
            let snap = d.snapshot();
            let t = topology(&snap);
            for (w, h) in [(1238.0, 489.0), (800.0, 400.0)] {
                let l = Layout::compute(&t, w, h, crate::pen::MIN_TEXT_PX);
                assert_event_sane(&l);
                assert!(l.bands.is_empty());
                for e in &t.edges {
                    assert!(l.link(e.from, e.to).is_some(), "{e:?}");
                }
            }
        }
    }

    #[test]
    fn log_strip_geometry() {
        let strip = Rect {
            x: 100.0,
            y: 10.0,
            w: 400.0,
            h: 24.0,
        };
        let inside = |g: &StripGeom| {
            for r in [g.deleted, g.older, Some(g.next)].into_iter().flatten() {
                assert!(r.within(&strip), "{r:?} outside the strip");
            }
        };
        // A short log: every offset a chip, no blocks.
        let g = StripGeom::new(strip, 1.0, (0, 5, 0), 80.0, 50.0);
        inside(&g);
        assert!(g.deleted.is_none() && g.older.is_none());
        assert_eq!(g.first_chip, 0);
        assert_eq!(g.chip(0).unwrap().x, strip.x);
        assert!(g.chip(5).is_none());
        assert_eq!(g.next.x, g.chip(4).unwrap().right() + 3.0);
        // Retention deleted 0..40; the snapshot lists 60..100: a deleted block, an older block
        // for 40..first chip, then chips up to the next slot, all within the strip.
        let g = StripGeom::new(strip, 1.0, (40, 100, 76), 80.0, 50.0);
        inside(&g);
        let (d, o) = (g.deleted.unwrap(), g.older.unwrap());
        assert!(d.right() <= o.x && o.right() <= g.chip_x0);
        assert!(g.first_chip >= 76 && g.first_chip < 100);
        assert!(g.chip(g.first_chip - 1).is_none() && g.chip(99).is_some());
        assert!(g.chip(99).unwrap().right() <= g.next.x);
        // Markers move right as offsets grow, through every region.
        let xs: Vec<f64> = (0..=100).map(|o| g.marker_x(o)).collect();
        assert!(xs.windows(2).all(|w| w[0] <= w[1]), "{xs:?}");
        assert!(g.marker_x(10) >= d.x && g.marker_x(10) <= d.right());
        assert!(g.marker_x(50) >= o.x && g.marker_x(50) <= o.right());
        assert_eq!(g.marker_x(100), g.next.x + g.chip_w / 2.0);
        // Everything deleted: the next slot right after the deleted block.
        let g = StripGeom::new(strip, 1.0, (75, 75, 75), 80.0, 50.0);
        inside(&g);
        assert!(g.older.is_none());
        assert!(g.next.x > g.deleted.unwrap().right());
        // A strip too narrow for any chip still stays inside.
        let narrow = Rect { w: 30.0, ..strip };
        let g = StripGeom::new(narrow, 1.0, (10, 500, 476), 80.0, 50.0);
        assert!(g.chip(499).is_none_or(|r| r.x >= narrow.x));
    }

    #[test]
    fn chip_packing() {
        assert_eq!(chips_that_fit(100.0, 12.0, 4.0), 6);
        assert_eq!(chips_that_fit(12.0, 12.0, 4.0), 1);
        assert_eq!(chips_that_fit(11.0, 12.0, 4.0), 0);
        assert_eq!(chips_that_fit(-5.0, 12.0, 4.0), 0);
    }
}
