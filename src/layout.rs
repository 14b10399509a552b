//! Automatic layout of the topology in four columns — producers | exchanges and Redis
//! channels | queues | consumers — and the geometry the canvas draws with. Pure functions of a
//! snapshot and a size, so they are tested natively.

use broker_sim::ids::{ChannelId, ExchangeId};
use broker_sim::scenario::{ConsumerSource, PublishTarget, Scenario};
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

/// The column a node is drawn in; `None` for the kinds this view does not draw yet (Kafka
/// topics and partitions, services).
pub fn column_of(node: NodeRef) -> Option<usize> {
    match node {
        NodeRef::Producer(_) => Some(PRODUCERS),
        NodeRef::Exchange(_) | NodeRef::Channel(_) => Some(ROUTERS),
        NodeRef::Queue(_) => Some(QUEUES),
        NodeRef::Consumer(_) => Some(CONSUMERS),
        _ => None,
    }
}

/// Which nodes are drawn, by column, and how they are linked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Topology {
    pub columns: [Vec<Item>; COLUMNS],
    pub edges: Vec<Edge>,
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
        for c in &snap.consumers {
            if c.status == broker_sim::sim::ConsumerStatus::Removed {
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
            } else if let Some(spec) = scenario.consumers.iter().find(|s| s.name == c.name) {
                if let ConsumerSource::Subscribe { channels, patterns } = &spec.source {
                    for (i, ch) in snap.channels.iter().enumerate() {
                        let hit = channels.contains(ch)
                            || patterns
                                .iter()
                                .any(|p| broker_sim::matching::glob_matches(p, ch));
                        if hit {
                            t.edges.push(Edge {
                                from: NodeRef::Channel(ChannelId(i as u32)),
                                to: node,
                                label: None,
                            });
                        }
                    }
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
        t.order();
        t
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
    #[cfg(test)]
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.right() && o.x < self.right() && self.y < o.bottom() && o.y < self.bottom()
    }
    #[cfg(test)]
    pub fn inside(&self, w: f64, h: f64) -> bool {
        self.x >= 0.0 && self.y >= 0.0 && self.right() <= w && self.bottom() <= h
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// A placed node or via.
#[derive(Clone, Debug, PartialEq)]
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

/// A slot's height at scale 1.
fn item_height(column: usize, item: Item) -> f64 {
    match item {
        Item::Node(_) => BASE_HEIGHT[column],
        Item::Via { .. } => VIA_HEIGHT,
    }
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

        let has_nodes = |c: usize| topo.columns[c].iter().any(|i| matches!(i, Item::Node(_)));
        let weights: Vec<f64> = (0..COLUMNS)
            .map(|c| {
                if !has_nodes(c) {
                    EMPTY_WEIGHT
                } else {
                    WEIGHTS[c]
                }
            })
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
                used: has_nodes(c),
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
        let zoom = if need > 0.0 {
            (avail_h * 0.6 / need)
                .clamp(1.0, 1.3)
                .min((scale_w / scale).max(1.0))
        } else {
            1.0
        };

        let mut boxes = Vec::new();
        for (c, column) in topo.columns.iter().enumerate() {
            let n = column.len();
            if n == 0 {
                continue;
            }
            let slot = slots[c];
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
                boxes.push(NodeBox {
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
        Layout {
            width,
            height,
            scale,
            zoom,
            heading_y,
            slots,
            boxes,
        }
    }

    pub fn find(&self, node: NodeRef) -> Option<&NodeBox> {
        self.boxes.iter().find(|b| b.item == Item::Node(node))
    }

    /// The path of a link (through its vias), or `None` if either end is not drawn.
    pub fn link(&self, from: NodeRef, to: NodeRef) -> Option<Path> {
        let a = self.find(from)?;
        let b = self.find(to)?;
        if a.column >= b.column {
            return Some(Path {
                segments: vec![Curve::between(a, b)],
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::Driver;
    use broker_sim::ids::{ConsumerId, ProducerId, QueueId};

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

    #[test]
    fn chip_packing() {
        assert_eq!(chips_that_fit(100.0, 12.0, 4.0), 6);
        assert_eq!(chips_that_fit(12.0, 12.0, 4.0), 1);
        assert_eq!(chips_that_fit(11.0, 12.0, 4.0), 0);
        assert_eq!(chips_that_fit(-5.0, 12.0, 4.0), 0);
    }
}
