//! Automatic layout of the topology in four columns — producers | exchanges and Redis
//! channels | queues and services | consumers — and the geometry the canvas draws with. Kafka
//! topics span the middle two columns (a log strip per partition) and consumer groups frame
//! their members in the last. A scenario with both families is drawn as two bands, message
//! broker above event broker, so the two can be compared. Pure functions of a snapshot and a
//! size, so they are tested natively.

use broker_sim::ids::{ChannelId, ConsumerId, ExchangeId};
use broker_sim::scenario::{PublishTarget, Scenario};
use broker_sim::snapshot::{NodeRef, Snapshot};
use broker_sim::SimTime;

/// Columns, left to right.
pub const PRODUCERS: usize = 0;
pub const ROUTERS: usize = 1;
pub const QUEUES: usize = 2;
pub const CONSUMERS: usize = 3;
pub const COLUMNS: usize = 4;

/// A link between two nodes; exchange bindings carry their routing key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    pub from: NodeRef,
    pub to: NodeRef,
    pub label: Option<String>,
}

/// One slot of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    Node(NodeRef),
    /// A link passing a column it skips (a Redis channel to its subscriber passes the queues):
    /// it takes a thin slot of its own, so the link runs between the nodes, never behind one.
    Via {
        from: NodeRef,
        to: NodeRef,
    },
}

/// The column a node is placed in by the column layout; `None` for the event broker's nodes
/// (topics, partitions), which are placed by the event band's own layout.
pub fn column_of(node: NodeRef) -> Option<usize> {
    match node {
        NodeRef::Producer(_) => Some(PRODUCERS),
        NodeRef::Exchange(_) | NodeRef::Channel(_) => Some(ROUTERS),
        NodeRef::Queue(_) | NodeRef::Service(_) => Some(QUEUES),
        NodeRef::Consumer(_) => Some(CONSUMERS),
        NodeRef::Topic(_)
        | NodeRef::Partition(..)
        | NodeRef::PulsarTopic(_)
        | NodeRef::PulsarPartition(..) => None,
    }
}

/// At most this many consumer groups get a marker row under each partition.
pub const MAX_MARKER_ROWS: u32 = 3;

/// A Kafka topic as the layout sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicItem {
    pub id: u32,
    pub partitions: u32,
    /// Consumer groups reading the topic, each a marker row under every partition (capped).
    pub marker_rows: u32,
}

/// A consumer group and its live members, drawn inside the group's frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupItem {
    pub id: u32,
    pub members: Vec<ConsumerId>,
}

/// Which nodes are drawn, by column, and how they are linked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Topology {
    pub columns: [Vec<Item>; COLUMNS],
    pub edges: Vec<Edge>,
    pub topics: Vec<TopicItem>,
    pub groups: Vec<GroupItem>,
}

impl Topology {
    /// Reads the topology from a snapshot. The scenario fills two gaps of the snapshot: which
    /// routing keys reach the default exchange's implicit bindings, and which channels a Redis
    /// subscriber listens to.
    pub fn from_snapshot(snap: &Snapshot, scenario: &Scenario) -> Topology {
        let mut t = Topology::default();
        let default_used = snap
            .producers
            .iter()
            .any(|p| p.targets.contains(&NodeRef::Exchange(ExchangeId(0))));
        for p in &snap.producers {
            t.columns[PRODUCERS].push(Item::Node(NodeRef::Producer(p.id)));
            for &target in &p.targets {
                t.edges.push(Edge {
                    from: NodeRef::Producer(p.id),
                    to: target,
                    label: None,
                });
            }
        }
        // The default exchange binds every queue by its name; draw only the bindings that the
        // producers' routing keys use, so unused ones do not clutter the picture.
        let default_keys: Vec<&str> = scenario
            .producers
            .iter()
            .filter(|p| p.targets.contains(&PublishTarget::Exchange(String::new())))
            .flat_map(|p| p.message.routing_keys.iter().map(String::as_str))
            .collect();
        for x in &snap.exchanges {
            if x.id == ExchangeId(0) && !default_used {
                continue;
            }
            t.columns[ROUTERS].push(Item::Node(NodeRef::Exchange(x.id)));
            for (to, key) in &x.links {
                if x.id == ExchangeId(0) && !default_keys.contains(&key.as_str()) {
                    continue;
                }
                t.edges.push(Edge {
                    from: NodeRef::Exchange(x.id),
                    to: *to,
                    label: Some(key.clone()),
                });
            }
        }
        for (i, _) in snap.channels.iter().enumerate() {
            t.columns[ROUTERS].push(Item::Node(NodeRef::Channel(ChannelId(i as u32))));
        }
        for q in &snap.queues {
            t.columns[QUEUES].push(Item::Node(NodeRef::Queue(q.id)));
        }
        for s in &snap.services {
            t.columns[QUEUES].push(Item::Node(NodeRef::Service(s.id)));
        }
        for c in &snap.consumers {
            // Group members are drawn inside their group's frame.
            if c.status == broker_sim::ConsumerStatus::Removed || c.group.is_some() {
                continue;
            }
            let node = NodeRef::Consumer(c.id);
            t.columns[CONSUMERS].push(Item::Node(node));
            if let Some(source) = c.source {
                t.edges.push(Edge {
                    from: source,
                    to: node,
                    label: None,
                });
            } else {
                for ch in &c.channels {
                    t.edges.push(Edge {
                        from: NodeRef::Channel(*ch),
                        to: node,
                        label: None,
                    });
                }
            }
        }
        // Only links between drawn nodes are kept.
        t.edges
            .retain(|e| column_of(e.from).is_some() && column_of(e.to).is_some());
        for e in &t.edges {
            let (Some(a), Some(b)) = (column_of(e.from), column_of(e.to)) else {
                continue;
            };
            for c in a + 1..b {
                t.columns[c].push(Item::Via {
                    from: e.from,
                    to: e.to,
                });
            }
        }
        t.add_event_band(snap);
        t.order();
        t
    }

    /// Topics, groups and their links: producer → each partition of a topic it writes to,
    /// partition → the member that owns it.
    fn add_event_band(&mut self, snap: &Snapshot) {
        for tv in &snap.topics {
            let groups = tv.partitions.first().map_or(0, |p| p.groups.len()) as u32;
            self.topics.push(TopicItem {
                id: tv.id,
                partitions: tv.partitions.len() as u32,
                marker_rows: groups.min(MAX_MARKER_ROWS),
            });
        }
        for p in &snap.producers {
            for &target in &p.targets {
                let NodeRef::Topic(tid) = target else {
                    continue;
                };
                let Some(topic) = self.topics.iter().find(|t| t.id == tid) else {
                    continue;
                };
                for part in 0..topic.partitions {
                    self.edges.push(Edge {
                        from: NodeRef::Producer(p.id),
                        to: NodeRef::Partition(tid, part),
                        label: None,
                    });
                }
            }
        }
        for g in &snap.groups {
            let members: Vec<ConsumerId> = snap
                .consumers
                .iter()
                .filter(|c| {
                    c.group == Some(g.id) && c.status != broker_sim::ConsumerStatus::Removed
                })
                .map(|c| c.id)
                .collect();
            for (c, tps) in &g.members {
                if !members.contains(c) {
                    continue;
                }
                for &(topic, partition) in tps {
                    self.edges.push(Edge {
                        from: NodeRef::Partition(topic, partition),
                        to: NodeRef::Consumer(*c),
                        label: None,
                    });
                }
            }
            self.groups.push(GroupItem { id: g.id, members });
        }
    }

    /// Whether the message broker's columns (routers, queues, services, consumers) hold a node.
    pub fn has_message(&self) -> bool {
        self.columns[ROUTERS..]
            .iter()
            .flatten()
            .any(|i| matches!(i, Item::Node(_)))
    }

    /// Whether any Kafka topic or group is drawn.
    pub fn has_event(&self) -> bool {
        !self.topics.is_empty() || !self.groups.is_empty()
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
            if column_of(target) == Some(c) {
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
                .filter(|e| column_of(e.from) != column_of(e.to))
                .map(|e| hop(e.from, e.to))
                .collect(),
            Item::Via { from, to } => vec![hop(from, to)],
        }
    }

    /// Orders each column by the average height of its neighbours in the column before (after,
    /// for producers): one barycentre sweep, with heights as fractions of their column.
    fn order(&mut self) {
        for (col, incoming) in [(QUEUES, true), (CONSUMERS, true), (PRODUCERS, false)] {
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
                    let key = if ranks.is_empty() {
                        (i as f64 + 0.5) / own.len() as f64
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
            // Two bands: a producer feeding only the message broker goes up, one feeding only
            // the event broker goes down, one feeding both sits between them.
            let band = |item: &Item| -> u8 {
                let Item::Node(n) = *item else { return 1 };
                let out = || self.edges.iter().filter(move |e| e.from == n);
                let message = out().any(|e| column_of(e.to).is_some());
                let event = out().any(|e| matches!(e.to, NodeRef::Partition(..)));
                match (message, event) {
                    (true, false) => 0,
                    (false, true) => 2,
                    _ => 1,
                }
            };
            self.columns[PRODUCERS].sort_by_key(band);
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn right(&self) -> f64 {
        self.x + self.w
    }
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }
    pub fn mid_y(&self) -> f64 {
        self.y + self.h / 2.0
    }
    pub fn contains(&self, x: f64, y: f64) -> bool {
        x >= self.x && x <= self.right() && y >= self.y && y <= self.bottom()
    }
    /// The rectangle grown by `d` on every side.
    pub fn grow(&self, d: f64) -> Rect {
        Rect {
            x: self.x - d,
            y: self.y - d,
            w: self.w + 2.0 * d,
            h: self.h + 2.0 * d,
        }
    }
    #[cfg(test)]
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.right() && o.x < self.right() && self.y < o.bottom() && o.y < self.bottom()
    }
    #[cfg(test)]
    pub fn inside(&self, w: f64, h: f64) -> bool {
        self.x >= 0.0 && self.y >= 0.0 && self.right() <= w && self.bottom() <= h
    }
    #[cfg(test)]
    pub fn within(&self, o: &Rect) -> bool {
        let e = 1e-6;
        self.x >= o.x - e
            && self.y >= o.y - e
            && self.right() <= o.right() + e
            && self.bottom() <= o.bottom() + e
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// A placed node or via.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NodeBox {
    pub item: Item,
    pub column: usize,
    pub rect: Rect,
}

/// A column's heading position; `None` x when the column is empty.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ColumnSlot {
    pub x: f64,
    pub w: f64,
    pub used: bool,
}

/// The two families of brokers, drawn as two bands when a scenario has both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BandKind {
    /// Exchanges, Redis channels, queues, services: a message is gone once handled.
    Message,
    /// Kafka topics and consumer groups: records stay in the log.
    Event,
}

/// A band's heading row and its whole area (heading included).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandSlot {
    pub kind: BandKind,
    pub heading: Rect,
    pub rect: Rect,
}

/// A topic's frame: a header line, then one row per shown partition.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TopicFrame {
    pub id: u32,
    pub rect: Rect,
    pub header: Rect,
    /// Partitions left out for lack of room (the last ones), shown as a count.
    pub hidden_partitions: u32,
}

/// One partition: a log strip, an offset ruler under it and a marker row per group.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PartitionRow {
    pub topic: u32,
    pub partition: u32,
    /// The whole row, for selection.
    pub rect: Rect,
    /// Where the partition's name is written (left of the strip).
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
pub struct GroupFrame {
    pub id: u32,
    pub rect: Rect,
    pub header: Rect,
    pub members: Vec<(ConsumerId, Rect)>,
    /// Members left out for lack of room, shown as a count.
    pub hidden_members: usize,
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
    pub topics: Vec<TopicFrame>,
    pub partitions: Vec<PartitionRow>,
    pub groups: Vec<GroupFrame>,
    /// The event band's drawing factor (fonts and sizes), like `scale`.
    pub event_k: f64,
    /// Room kept free at the bottom of the producers' column for the colour key (the page
    /// places it there); the same room is kept at the top, so producers stay centred.
    pub key: Rect,
}

/// Relative column widths: queues and consumers hold message chips.
const WEIGHTS: [f64; COLUMNS] = [1.0, 1.05, 1.45, 1.35];
/// An empty column keeps a little room so the others stay where a reader expects them.
const EMPTY_WEIGHT: f64 = 0.3;
/// Share of a column's slot a node takes; the rest is room for links and their labels.
const NODE_SHARE: f64 = 0.68;

/// A via's height at scale 1.
const VIA_HEIGHT: f64 = 30.0;

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

/// Event band geometry at factor 1.
pub const TOPIC_PAD: f64 = 6.0;
pub const TOPIC_HEADER: f64 = 28.0;
pub const PARTITION_LABEL_W: f64 = 38.0;
pub const STRIP_H: f64 = 24.0;
const STRIP_ROW: f64 = 29.0;
const RULER_H: f64 = 16.0;
pub const MARKER_H: f64 = 17.0;
const PARTITION_GAP: f64 = 7.0;
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
    pub fn compute(topo: &Topology, width: f64, height: f64) -> Layout {
        let width = width.max(1.0);
        let height = height.max(1.0);
        let scale_w = width / 1100.0;
        let scale = scale_w.min(height / 400.0).clamp(0.6, 2.4);
        let margin = 16.0 * scale;
        let heading_h = 30.0 * scale;
        let heading_y = margin + heading_h / 2.0;
        let top = margin + heading_h;
        let avail_h = (height - top - margin).max(1.0);
        let banded = topo.has_message() && topo.has_event();

        let used = |c: usize| {
            topo.columns[c].iter().any(|i| matches!(i, Item::Node(_)))
                || match c {
                    ROUTERS | QUEUES => !topo.topics.is_empty(),
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
        // Text grows with the height only as far as the width (which is fixed by the
        // columns) still holds it.
        let zoom = if banded {
            1.0
        } else if need > 0.0 {
            (avail_h * 0.6 / need)
                .clamp(1.0, 1.3)
                .min((scale_w / scale).max(1.0))
        } else {
            1.0
        };

        let mut layout = Layout {
            width,
            height,
            scale,
            zoom,
            heading_y,
            slots,
            boxes: Vec::new(),
            bands: Vec::new(),
            topics: Vec::new(),
            partitions: Vec::new(),
            groups: Vec::new(),
            event_k: scale,
            key: Rect {
                x: slots[PRODUCERS].x,
                y: height - margin - KEY_H * scale,
                w: slots[PRODUCERS].w,
                h: KEY_H * scale,
            },
        };
        // The log may grow up to 30 % past the scale when there is height to spare: its
        // texts shrink or are cut to their frame's width.
        let max_k = scale * 1.3;
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
            layout.place_columns(topo, &[ROUTERS, QUEUES, CONSUMERS], message_top, message_h);
            // Producers may feed both bands: their column spans both.
            layout.place_columns(
                topo,
                &[PRODUCERS],
                message_top,
                event_top + event_h - message_top,
            );
            layout.place_event(topo, event_top, event_h, max_k);
        } else {
            layout.place_columns(topo, &[PRODUCERS, ROUTERS, QUEUES, CONSUMERS], top, avail_h);
            if topo.has_event() {
                layout.place_event(topo, top, avail_h, max_k);
            }
        }
        layout
    }

    /// Stacks each of `columns` in the band from `top`, `avail_h` high.
    fn place_columns(&mut self, topo: &Topology, columns: &[usize], top: f64, avail_h: f64) {
        let (scale, zoom) = (self.scale, self.zoom);
        for &c in columns {
            // The producers keep clear of the colour key below them (and as much above).
            let (top, avail_h) = if c == PRODUCERS {
                let inset = (self.key.bottom() - self.key.y.max(top)).clamp(0.0, avail_h / 4.0);
                (top + inset, avail_h - 2.0 * inset)
            } else {
                (top, avail_h)
            };
            let column = &topo.columns[c];
            let n = column.len();
            if n == 0 {
                continue;
            }
            let slot = self.slots[c];
            let node_w = slot.w * NODE_SHARE;
            let node_x = slot.x + (slot.w - node_w) / 2.0;
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

    /// Topics (spanning the routers' and queues' columns) and groups (in the consumers'
    /// column), each stack centred in the band. Everything scales by one factor; when even a
    /// small factor does not fit, the offset rulers go first, then the last partitions and
    /// members (their count is shown instead).
    fn place_event(&mut self, topo: &Topology, top: f64, avail_h: f64, max_k: f64) {
        let topic_frames = |ruler: bool| -> Vec<FrameSpec> {
            topo.topics
                .iter()
                .map(|t| FrameSpec {
                    fixed: 2.0 * TOPIC_PAD + TOPIC_HEADER,
                    row: STRIP_ROW
                        + if ruler { RULER_H } else { 0.0 }
                        + f64::from(t.marker_rows) * MARKER_H,
                    row_gap: PARTITION_GAP,
                    rows: t.partitions as usize,
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
        let need = |topics: &[FrameSpec]| {
            stack_height(topics, &all(topics)).max(stack_height(&group_frames, &all(&group_frames)))
        };
        let min_k = self.scale * 0.8;
        let mut ruler = true;
        let mut topics = topic_frames(true);
        let mut k = max_k.min(avail_h / need(&topics).max(1.0));
        if k < min_k {
            ruler = false;
            topics = topic_frames(false);
            k = max_k.min(avail_h / need(&topics).max(1.0));
        }
        let (topic_rows, group_rows) = if k < min_k {
            k = min_k;
            let t = fit_rows(&topics, k, avail_h);
            let g = fit_rows(&group_frames, k, avail_h);
            // Frames whose headers alone are too tall: everything shrinks.
            let over = stack_height(&topics, &t).max(stack_height(&group_frames, &g));
            k = k.min(avail_h / over.max(1.0));
            (t, g)
        } else {
            (all(&topics), all(&group_frames))
        };
        self.event_k = k;

        let span = |c: usize| {
            let s = self.slots[c];
            (s.x + s.w * (1.0 - NODE_SHARE) / 2.0, s.right_node())
        };
        let (tx0, _) = span(ROUTERS);
        let (_, tx1) = span(QUEUES);
        let mut y = top + (avail_h - stack_height(&topics, &topic_rows) * k) / 2.0;
        for ((t, spec), &shown) in topo.topics.iter().zip(&topics).zip(&topic_rows) {
            let rect = Rect {
                x: tx0,
                y,
                w: tx1 - tx0,
                h: spec.height(shown) * k,
            };
            let pad = TOPIC_PAD * k;
            self.topics.push(TopicFrame {
                id: t.id,
                rect,
                header: Rect {
                    x: rect.x + pad,
                    y: rect.y + pad,
                    w: rect.w - 2.0 * pad,
                    h: TOPIC_HEADER * k,
                },
                hidden_partitions: t.partitions - shown as u32,
            });
            let mut ry = rect.y + pad + TOPIC_HEADER * k;
            for p in 0..shown as u32 {
                let row = Rect {
                    x: rect.x + pad,
                    y: ry,
                    w: rect.w - 2.0 * pad,
                    h: spec.row * k,
                };
                let inset = 3.0 * k;
                let strip = Rect {
                    x: row.x + PARTITION_LABEL_W * k,
                    y: row.y + inset,
                    w: (row.w - PARTITION_LABEL_W * k - inset).max(0.0),
                    h: STRIP_H * k,
                };
                let strip_bottom = row.y + STRIP_ROW * k;
                let ruler_y = ruler.then_some(strip_bottom + RULER_H * k * 0.5);
                self.partitions.push(PartitionRow {
                    topic: t.id,
                    partition: p,
                    rect: row,
                    label: Rect {
                        x: row.x,
                        y: strip.y,
                        w: PARTITION_LABEL_W * k,
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
            self.groups.push(GroupFrame {
                id: g.id,
                rect,
                header,
                members,
                hidden_members: g.members.len() - shown,
            });
            y += rect.h + FRAME_GAP * k;
        }
    }

    /// Where a node is drawn. Partitions answer with their strip's height, so links meet
    /// the strip.
    pub fn find(&self, node: NodeRef) -> Option<NodeBox> {
        let boxed = |column: usize, rect: Rect| NodeBox {
            item: Item::Node(node),
            column,
            rect,
        };
        match node {
            NodeRef::Topic(id) => self
                .topics
                .iter()
                .find(|t| t.id == id)
                .map(|t| boxed(QUEUES, t.rect)),
            NodeRef::Partition(topic, partition) => {
                let row = self
                    .partitions
                    .iter()
                    .find(|p| p.topic == topic && p.partition == partition)?;
                let frame = self.topics.iter().find(|t| t.id == topic)?;
                Some(boxed(
                    QUEUES,
                    Rect {
                        x: frame.rect.x,
                        y: row.strip.y,
                        w: frame.rect.w,
                        h: row.strip.h,
                    },
                ))
            }
            NodeRef::Consumer(c) => self
                .boxes
                .iter()
                .find(|b| b.item == Item::Node(node))
                .copied()
                .or_else(|| {
                    self.groups
                        .iter()
                        .flat_map(|g| &g.members)
                        .find(|(m, _)| *m == c)
                        .map(|(_, r)| boxed(CONSUMERS, *r))
                }),
            _ => self
                .boxes
                .iter()
                .find(|b| b.item == Item::Node(node))
                .copied(),
        }
    }

    /// The node drawn at (x, y) in CSS pixels, the innermost one first (a member before its
    /// group, a partition before its topic). A group's frame is not a node: `None` there.
    pub fn hit_test(&self, x: f64, y: f64) -> Option<NodeRef> {
        for g in &self.groups {
            if let Some((c, _)) = g.members.iter().find(|(_, r)| r.contains(x, y)) {
                return Some(NodeRef::Consumer(*c));
            }
            if g.rect.contains(x, y) {
                return None;
            }
        }
        if let Some(p) = self.partitions.iter().find(|p| p.rect.contains(x, y)) {
            return Some(NodeRef::Partition(p.topic, p.partition));
        }
        if let Some(t) = self.topics.iter().find(|t| t.rect.contains(x, y)) {
            return Some(NodeRef::Topic(t.id));
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
        for t in &self.topics {
            nodes.push((t.rect.x, t.rect.y, NodeRef::Topic(t.id)));
        }
        for p in &self.partitions {
            nodes.push((p.rect.x, p.rect.y, NodeRef::Partition(p.topic, p.partition)));
        }
        for (c, r) in self.groups.iter().flat_map(|g| &g.members) {
            nodes.push((r.x, r.y, NodeRef::Consumer(*c)));
        }
        // Columns first: x values within a few pixels count as one column.
        nodes.sort_by(|a, b| {
            ((a.0 / 40.0).round())
                .total_cmp(&(b.0 / 40.0).round())
                .then(a.1.total_cmp(&b.1))
        });
        nodes.into_iter().map(|(_, _, n)| n).collect()
    }

    /// The path of a link (through its vias), or `None` if either end is not drawn.
    pub fn link(&self, from: NodeRef, to: NodeRef) -> Option<Path> {
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
    use broker_sim::ids::{ProducerId, QueueId};

    fn topo(counts: [usize; COLUMNS]) -> Topology {
        let mut t = Topology::default();
        for i in 0..counts[0] {
            t.columns[PRODUCERS].push(Item::Node(NodeRef::Producer(ProducerId(i as u32))));
        }
        for i in 0..counts[1] {
            t.columns[ROUTERS].push(Item::Node(NodeRef::Exchange(ExchangeId(i as u32))));
        }
        for i in 0..counts[2] {
            t.columns[QUEUES].push(Item::Node(NodeRef::Queue(QueueId(i as u32))));
        }
        for i in 0..counts[3] {
            t.columns[CONSUMERS].push(Item::Node(NodeRef::Consumer(ConsumerId(i as u32))));
        }
        t
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
                let l = Layout::compute(&topo(shape), w, h);
                assert_eq!(l.boxes.len(), shape.iter().sum::<usize>());
                assert_sane(&l);
            }
        }
    }

    #[test]
    fn columns_run_left_to_right() {
        let l = Layout::compute(&topo([2, 2, 2, 2]), 1240.0, 470.0);
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
        let t = Topology::from_snapshot(&d.snapshot(), d.scenario());
        assert_eq!(
            t.columns.iter().map(Vec::len).collect::<Vec<_>>(),
            [1, 1, 1, 1]
        );
        assert_eq!(t.edges.len(), 3, "{:?}", t.edges);
        let l = Layout::compute(&t, 1240.0, 470.0);
        assert_sane(&l);
        assert!(l.scale >= 0.95);
        let ys: Vec<f64> = l.boxes.iter().map(|b| b.rect.mid_y()).collect();
        assert!(ys.windows(2).all(|w| (w[0] - w[1]).abs() < 1e-9));
        for e in &t.edges {
            assert!(l.link(e.from, e.to).is_some(), "{e:?} has no curve");
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
        let t = Topology::from_snapshot(&snap, d.scenario());
        // The default exchange is unused, so hidden.
        assert!(!t.columns[ROUTERS].contains(&Item::Node(NodeRef::Exchange(ExchangeId(0)))));
        assert_eq!(t.columns[ROUTERS].len(), 2, "{:?}", t.columns);
        let labels: Vec<_> = t.edges.iter().filter_map(|e| e.label.clone()).collect();
        assert!(labels.contains(&"*.error".to_string()));
        assert!(t
            .edges
            .iter()
            .any(|e| matches!((e.from, e.to), (NodeRef::Channel(_), NodeRef::Consumer(_)))));
        // Each consumer sits at the height of what feeds it: the subscriber, fed by the
        // channel at the bottom of its column, comes last.
        let last = *t.columns[CONSUMERS].last().unwrap();
        let reader = snap
            .consumers
            .iter()
            .find(|c| c.name == "reader")
            .unwrap()
            .id;
        assert_eq!(
            last,
            Item::Node(NodeRef::Consumer(reader)),
            "{:?}",
            t.columns[CONSUMERS]
        );
        let l = Layout::compute(&t, 1240.0, 470.0);
        assert_sane(&l);
        // The channel-to-subscriber link passes the queues' column through a via of its own.
        let reader = NodeRef::Consumer(reader);
        let via = l
            .boxes
            .iter()
            .find(|b| matches!(b.item, Item::Via { to, .. } if to == reader))
            .expect("a via for the subscriber's link");
        assert_eq!(via.column, QUEUES);
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
        let l = Layout::compute(&topo([1, 1, 0, 0]), 1240.0, 470.0);
        let a = NodeRef::Producer(ProducerId(0));
        let b = NodeRef::Exchange(ExchangeId(0));
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

    /// Every top-level thing (nodes, vias, topic and group frames) inside the canvas and apart;
    /// partitions inside their topic, members inside their group, each apart from its siblings.
    fn assert_event_sane(l: &Layout) {
        assert_sane(l);
        let mut tops: Vec<(String, Rect)> = l
            .boxes
            .iter()
            .map(|b| (format!("{:?}", b.item), b.rect))
            .collect();
        tops.extend(l.topics.iter().map(|t| (format!("topic {}", t.id), t.rect)));
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
        for (i, p) in l.partitions.iter().enumerate() {
            let frame = l.topics.iter().find(|t| t.id == p.topic).unwrap();
            assert!(p.rect.within(&frame.rect), "{p:?} outside {frame:?}");
            assert!(p.strip.within(&p.rect) && p.label.within(&p.rect), "{p:?}");
            assert!(!p.rect.overlaps(&frame.header), "{p:?} under the header");
            for q in &l.partitions[i + 1..] {
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
        let (d, snap) = compare_run();
        let t = Topology::from_snapshot(&snap, d.scenario());
        assert!(t.has_message() && t.has_event());
        assert_eq!(t.topics.len(), 1);
        assert_eq!(t.topics[0].partitions, 2);
        assert_eq!(t.topics[0].marker_rows, 2);
        assert_eq!(t.groups.len(), 2);
        // Group members are drawn in their group, not in the consumers' column.
        assert_eq!(t.columns[CONSUMERS].len(), 2, "{:?}", t.columns[CONSUMERS]);
        // One producer fans out: to the default exchange and to both partitions.
        assert_eq!(t.columns[PRODUCERS].len(), 1);
        let shop = NodeRef::Producer(ProducerId(0));
        for p in 0..2 {
            assert!(t
                .edges
                .iter()
                .any(|e| e.from == shop && e.to == NodeRef::Partition(0, p)));
        }
        // Each group's member owns both partitions.
        let owned = t
            .edges
            .iter()
            .filter(|e| {
                matches!(
                    (e.from, e.to),
                    (NodeRef::Partition(..), NodeRef::Consumer(_))
                )
            })
            .count();
        assert_eq!(owned, 4);
        for (w, h) in [
            (1238.0, 436.0),
            (1238.0, 489.0),
            (1878.0, 820.0),
            (1100.0, 330.0),
            (800.0, 400.0),
            (320.0, 200.0),
        ] {
            let l = Layout::compute(&t, w, h);
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
                .topics
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
        let l = Layout::compute(&t, 1238.0, 436.0);
        for edge in &t.edges {
            assert!(l.link(edge.from, edge.to).is_some(), "{edge:?} has no path");
        }
        assert!(
            l.event_k >= 0.8 * l.scale,
            "event_k {} at scale {}",
            l.event_k,
            l.scale
        );
        assert_eq!(l.partitions.len(), 2);
        assert!(l
            .groups
            .iter()
            .all(|g| g.hidden_members == 0 && g.members.len() == 1));
        // The producer sits between the two bands.
        let p = l.find(shop).unwrap().rect;
        assert!(p.y < l.bands[1].rect.y && p.bottom() > l.bands[0].rect.bottom());
    }

    #[test]
    fn hit_test_finds_the_innermost_node() {
        let (d, snap) = compare_run();
        let t = Topology::from_snapshot(&snap, d.scenario());
        let l = Layout::compute(&t, 1238.0, 489.0);
        let centre = |r: Rect| (r.x + r.w / 2.0, r.mid_y());
        for b in &l.boxes {
            if let Item::Node(n) = b.item {
                let (x, y) = centre(b.rect);
                assert_eq!(l.hit_test(x, y), Some(n));
            }
        }
        for p in &l.partitions {
            let (x, y) = centre(p.strip);
            assert_eq!(
                l.hit_test(x, y),
                Some(NodeRef::Partition(p.topic, p.partition))
            );
            // The markers under the strip belong to the partition too.
            assert_eq!(
                l.hit_test(x, p.markers_y + 2.0),
                Some(NodeRef::Partition(p.topic, p.partition))
            );
        }
        for f in &l.topics {
            let (x, y) = centre(f.header);
            assert_eq!(l.hit_test(x, y), Some(NodeRef::Topic(f.id)));
        }
        for g in &l.groups {
            for &(m, r) in &g.members {
                let (x, y) = centre(r);
                assert_eq!(l.hit_test(x, y), Some(NodeRef::Consumer(m)));
            }
            // A group's own frame is not a node.
            let (x, y) = centre(g.header);
            assert_eq!(l.hit_test(x, y), None);
        }
        assert_eq!(l.hit_test(1.0, 1.0), None);
        assert_eq!(l.hit_test(-50.0, 5000.0), None);
        // Links and moving messages meet a partition at its strip.
        let strip = l.partitions[0].strip;
        let part = l.find(NodeRef::Partition(0, 0)).unwrap();
        assert!((part.rect.mid_y() - strip.mid_y()).abs() < 1e-9);
        // Every drawn node once, in reading order: the producer first.
        let order = l.reading_order();
        let mut unique = order.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), order.len());
        assert_eq!(order[0], NodeRef::Producer(ProducerId(0)));
        assert_eq!(
            order.len(),
            l.boxes
                .iter()
                .filter(|b| matches!(b.item, Item::Node(_)))
                .count()
                + l.topics.len()
                + l.partitions.len()
                + l.groups.iter().map(|g| g.members.len()).sum::<usize>()
        );
    }

    #[test]
    fn crowded_event_band_leaves_rows_out_instead_of_overlapping() {
        let mut t = topo([3, 0, 0, 0]);
        t.topics = (0..3)
            .map(|id| TopicItem {
                id,
                partitions: 12 * (id + 1),
                marker_rows: MAX_MARKER_ROWS,
            })
            .collect();
        t.groups = (0..4)
            .map(|id| GroupItem {
                id,
                members: (0..10 * (id + 1)).map(ConsumerId).collect(),
            })
            .collect();
        t.groups.push(GroupItem {
            id: 9,
            members: Vec::new(),
        });
        for (w, h) in [
            (1238.0, 436.0),
            (800.0, 400.0),
            (320.0, 200.0),
            (3840.0, 2000.0),
        ] {
            let l = Layout::compute(&t, w, h);
            assert_event_sane(&l);
            let shown = l.partitions.len() as u32
                + l.topics.iter().map(|f| f.hidden_partitions).sum::<u32>();
            assert_eq!(shown, 12 + 24 + 36, "partitions shown + hidden at {w}x{h}");
            let members: usize = l
                .groups
                .iter()
                .map(|g| g.members.len() + g.hidden_members)
                .sum();
            assert_eq!(members, 100);
        }
        let l = Layout::compute(&t, 1238.0, 436.0);
        assert!(l.topics.iter().any(|f| f.hidden_partitions > 0));
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
            let t = Topology::from_snapshot(&snap, d.scenario());
            for (w, h) in [(1238.0, 489.0), (800.0, 400.0)] {
                let l = Layout::compute(&t, w, h);
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
