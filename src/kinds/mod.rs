//! The per-family registry: everything the app shows that belongs to one broker family — its
//! icon and colours, how its nodes, lanes, frames and groups are drawn, its header cards,
//! legend entries, inspector body, add forms and actions — lives in that family's module here,
//! and [`KINDS`] lists them. Producers and consumers, which every family has, are in
//! [`clients`]. The canvas, layout, inspector and panels ask through the functions below and
//! never name a broker (`tests/seam_app.rs` checks this).
//!
//! A new family adds `kinds/<family>.rs` with an `impl Kind` and one line in [`KINDS`].

pub mod clients;
pub mod jms;
pub mod kafka;
pub mod places;
pub mod pulsar;
pub mod rabbitmq;
pub mod redis_pubsub;
pub mod redis_streams;
pub mod service;
pub mod sqs;
pub mod zeromq;

use crate::driver::Driver;
use crate::geom::Rect;
use crate::i18n::{t, Key, Lang};
use crate::lab::Lab;
use crate::layout::{chips_that_fit, BandKind, FrameBox, GroupBox, PipeBox, RowBox};
use crate::model::format_count;
use crate::pen::{small, Pen, FONT, INK};
use broker_sim::snapshot::{Chip, Family, GraphNode, LinkKind, NodeRef, Role};
use broker_sim::{ConsumerId, Snapshot};
use std::any::Any;
use std::rc::Rc;
use yew::prelude::*;

/// Every family the app can show, one line each.
pub const KINDS: [&dyn Kind; 9] = [
    &rabbitmq::RabbitMq,
    &redis_pubsub::RedisPubSub,
    &kafka::Kafka,
    &service::Service,
    &sqs::Sqs,
    &pulsar::Pulsar,
    &jms::Jms,
    &redis_streams::RedisStreams,
    &zeromq::ZeroMq,
];

/// One family's UI. Defaults fit a family that has nothing of that sort.
pub trait Kind: Sync {
    fn family(&self) -> Family;

    /// The band its nodes are drawn in.
    fn band(&self) -> BandKind {
        BandKind::Message
    }

    /// The column heading over its nodes of `role`: alone, and after another family's
    /// heading in the same column ("Exchanges · channels").
    fn heading(&self, _role: Role) -> Option<(Key, Key)> {
        None
    }

    /// The heading over its consumer groups.
    fn groups_heading(&self) -> Option<Key> {
        None
    }

    /// The entity picker's heading for its nodes of `role`; `None` leaves them out.
    fn picker_heading(&self, _role: Role) -> Option<Key> {
        None
    }

    /// Fill and stroke of its nodes of `role`, where they differ from the role's.
    fn palette(&self, _role: Role) -> Option<(&'static str, &'static str)> {
        None
    }

    /// A node's stable kind word for tests and links (`queue`), and its picker code (`q:3`).
    fn word(&self, node: NodeRef) -> Option<&'static str>;
    fn encode(&self, node: NodeRef) -> Option<String>;
    /// The node for a picker code's prefix and numbers.
    fn decode(&self, prefix: &str, a: u32, b: Option<u32>) -> Option<NodeRef>;

    /// The name shown for a node.
    fn label(&self, _lang: Lang, node: &GraphNode) -> String {
        node.name.clone()
    }

    /// A node box's type tag and figures line.
    fn text(&self, _lang: Lang, _snap: &Snapshot, _node: &GraphNode) -> NodeText {
        NodeText::default()
    }

    /// A small type icon centred at (x, y).
    fn icon(&self, _pen: &Pen, _node: &GraphNode, _x: f64, _y: f64, _r: f64, _colour: &str) {}

    /// Whether a node box has a lane of messages under its figures, and drawing it.
    fn has_lane(&self, _node: &GraphNode) -> bool {
        false
    }
    fn lane(&self, _pen: &Pen, _snap: &Snapshot, _node: &GraphNode, _lane: Rect, _k: f64) {}

    /// Marks drawn around a node's box after it (an isolated broker's cut, `cut_ring`).
    fn outline(&self, _pen: &Pen, _snap: &Snapshot, _node: &GraphNode, _rect: Rect, _k: f64) {}

    /// Whether its consumers acknowledge what they get. ZeroMQ's do not: its links and its
    /// consumers must not speak of ACKs (ZMQ-1).
    fn acks(&self) -> bool {
        true
    }

    /// The type tag of a consumer reading from one of its nodes, where the family says more
    /// than "consumer" (a Pulsar consumer names its subscription and its type).
    fn consumer_tag(&self, _l: Lang, _snap: &Snapshot, _consumer: ConsumerId) -> Option<String> {
        None
    }

    /// Names for the trace ids of its entities that are not drawn nodes (ZeroMQ's peers:
    /// `zp1`), so the event log reads names.
    fn trace_names(&self, _snap: &Snapshot) -> Vec<(String, String)> {
        Vec::new()
    }

    /// A word to show beside a consumer's name when a crowded box leaves out its tag line
    /// (a Pulsar consumer's subscription type).
    fn consumer_aside(&self, _snap: &Snapshot, _consumer: ConsumerId) -> Option<String> {
        None
    }

    /// A link's colour, where it is not the plain one.
    fn link_colour(&self, _snap: &Snapshot, _kind: LinkKind, _to: NodeRef) -> Option<&'static str> {
        None
    }

    /// A store drawn as a frame of rows: the frame and header, each row, at factor `k`.
    fn frame(&self, _pen: &Pen, _snap: &Snapshot, _frame: &FrameBox, _k: f64) {}
    fn row(&self, _pen: &Pen, _snap: &Snapshot, _row: &RowBox, _k: f64) {}
    /// A consumer group's frame and its members.
    fn group(&self, _pen: &Pen, _snap: &Snapshot, _group: &GroupBox, _k: f64) {}
    /// The two pipes on a link between its peers, at factor `k`.
    fn pipes(&self, _pen: &Pen, _snap: &Snapshot, _pipe: &PipeBox, _k: f64) {}

    /// The header cards it adds while on stage.
    fn cards(&self, _d: &Driver, _snap: &Snapshot) -> Vec<Card> {
        Vec::new()
    }

    /// The legend entries it adds while on stage (some only while `snap` shows what they name).
    fn legend(&self, _snap: &Snapshot) -> Vec<LegendItem> {
        Vec::new()
    }

    /// Its tables in the dashboard (as a management UI lists them); empty ones draw nothing.
    fn tables(&self) -> Html {
        Html::default()
    }

    /// The inspector's model of one of its nodes; `None` if it no longer exists.
    fn inspect(&self, d: &Driver, snap: &Snapshot, node: NodeRef) -> Option<Inspected>;
}

/// The registry entry of a family.
pub fn of(family: Family) -> &'static dyn Kind {
    KINDS
        .into_iter()
        .find(|k| k.family() == family)
        .expect("every family is registered in KINDS")
}

/// The band a family is drawn in.
pub fn band(family: Family) -> BandKind {
    of(family).band()
}

fn is_client(node: &GraphNode) -> bool {
    matches!(node.role, Role::Producer | Role::Consumer)
}

// ------------------------------------------------------------------ node boxes

/// A node box's type tag, its figures line and how that line reads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NodeText {
    pub tag: String,
    pub stat: String,
    pub tone: Tone,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tone {
    #[default]
    Normal,
    /// A setting rather than a figure (an exchange's type).
    Quiet,
    /// Something is wrong (crashed, paused).
    Alert,
}

pub fn label(lang: Lang, node: &GraphNode) -> String {
    if is_client(node) {
        node.name.clone()
    } else {
        of(node.family).label(lang, node)
    }
}

pub fn text(lang: Lang, snap: &Snapshot, node: &GraphNode) -> NodeText {
    if is_client(node) {
        clients::text(lang, snap, node)
    } else {
        of(node.family).text(lang, snap, node)
    }
}

pub fn icon(pen: &Pen, node: &GraphNode, x: f64, y: f64, r: f64, colour: &str) {
    if is_client(node) {
        clients::icon(pen, node, x, y, r, colour)
    } else {
        of(node.family).icon(pen, node, x, y, r, colour)
    }
}

/// A broker cut off by a network partition: the cut's colour (orange, apart from a crash's red).
const CUT: &str = "#c2410c";

/// The mark of a broker that is up but cut off by a network partition (a Kafka broker, a
/// RabbitMQ node): a ring of long orange dashes just outside its box and the word "isolated" on
/// an orange tag sitting on the ring's top edge, unlike a crashed broker's grey box with a red
/// dashed edge. The tag keeps its size in a crowded column, where the box shows only its name.
fn cut_ring(pen: &Pen, r: Rect, k: f64) {
    let c = pen.ctx;
    let m = 6.0 * k;
    let ring = Rect {
        x: r.x - m,
        y: r.y - m,
        w: r.w + 2.0 * m,
        h: r.h + 2.0 * m,
    };
    pen.round_rect(ring, 14.0 * k);
    c.set_line_width(3.0 * k);
    c.set_stroke_style_str(CUT);
    let dash = js_sys::Array::of2(&(16.0 * k).into(), &(9.0 * k).into());
    c.set_line_dash(&dash).ok();
    c.stroke();
    c.set_line_dash(&js_sys::Array::new()).ok();

    let word = t(pen.lang, Key::NodeIsolated);
    let px = small(14.0, k).max(pen.min_px);
    pen.font(700, px, FONT);
    let pad = px * 0.45;
    let (w, h) = (pen.text_w(word) + 2.0 * pad, px + pad);
    // On the ring's top edge, so that it never hides the broker's name.
    let tag = Rect {
        x: ring.right() - w - 8.0 * k,
        y: ring.y - h / 2.0,
        w,
        h,
    };
    pen.round_rect(tag, h / 2.0);
    c.set_fill_style_str(CUT);
    c.fill();
    c.set_fill_style_str("#ffffff");
    c.set_text_align("center");
    c.set_text_baseline("middle");
    c.fill_text(word, tag.x + w / 2.0, tag.mid_y()).ok();
}

pub fn outline(pen: &Pen, snap: &Snapshot, node: &GraphNode, rect: Rect, k: f64) {
    if !is_client(node) {
        of(node.family).outline(pen, snap, node, rect, k)
    }
}

pub fn palette(node: &GraphNode) -> Option<(&'static str, &'static str)> {
    if is_client(node) {
        None
    } else {
        of(node.family).palette(node.role)
    }
}

/// The colour strip down a node's left edge (a producer's message colour).
/// What a crowded box writes beside the name in place of its tag line, if anything.
pub fn aside(snap: &Snapshot, node: &GraphNode) -> Option<String> {
    let cv = clients::consumer(snap, node.node)?;
    of(cv.source?.family()?).consumer_aside(snap, cv.id)
}

pub fn strip(node: &GraphNode) -> Option<&'static str> {
    clients::strip(node)
}

pub fn has_lane(node: &GraphNode) -> bool {
    if is_client(node) {
        clients::has_lane(node)
    } else {
        of(node.family).has_lane(node)
    }
}

pub fn lane(pen: &Pen, snap: &Snapshot, node: &GraphNode, lane: Rect, k: f64) {
    if is_client(node) {
        clients::lane(pen, snap, node, lane, k)
    } else {
        of(node.family).lane(pen, snap, node, lane, k)
    }
}

/// A node's stable name for tests and links: `queue:orders`, `partition:orders-log-0`.
pub fn node_key(snap: &Snapshot, node: NodeRef) -> Option<String> {
    let word = match node.family() {
        Some(f) => of(f).word(node),
        None => clients::word(node),
    }?;
    let name = &snap.graph.node(node)?.name;
    Some(format!("{word}:{name}"))
}

/// A selection as an option value of the picker: `q:3`, `pt:0:2`.
pub fn encode(node: NodeRef) -> String {
    match node.family() {
        Some(f) => of(f).encode(node),
        None => clients::encode(node),
    }
    .unwrap_or_default()
}

pub fn decode(text: &str) -> Option<NodeRef> {
    let mut parts = text.split(':');
    let prefix = parts.next()?;
    let a: u32 = parts.next()?.parse().ok()?;
    let b: Option<u32> = match parts.next() {
        Some(s) => Some(s.parse().ok()?),
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    clients::decode(prefix, a, b).or_else(|| KINDS.iter().find_map(|k| k.decode(prefix, a, b)))
}

/// The column heading over the nodes of `present` (family, role) pairs, in registry order:
/// "Exchanges · channels".
pub fn heading(lang: Lang, present: &[(Family, Role)]) -> Option<String> {
    let keys: Vec<(Key, Key)> = KINDS
        .iter()
        .flat_map(|k| {
            present
                .iter()
                .filter(move |(f, _)| *f == k.family())
                .filter_map(move |(_, role)| k.heading(*role))
        })
        .collect();
    let (first, rest) = keys.split_first()?;
    let mut text = t(lang, first.0).to_string();
    for (_, after) in rest {
        text.push_str(" · ");
        text.push_str(t(lang, *after));
    }
    Some(text)
}

/// The heading over the groups of `families`.
pub fn groups_heading(families: &[Family]) -> Option<Key> {
    families.iter().find_map(|f| of(*f).groups_heading())
}

/// Every selectable entity by kind: producers, each family's, consumers. (heading, [(code,
/// name)]); a frame's rows are reached through their frame.
pub fn picker(lang: Lang, snap: &Snapshot) -> Vec<(Key, Vec<(String, String)>)> {
    let nodes = |f: &dyn Fn(&GraphNode) -> bool| -> Vec<(String, String)> {
        snap.graph
            .nodes
            .iter()
            .filter(|n| f(n))
            .map(|n| (encode(n.node), label(lang, n)))
            .collect()
    };
    let mut groups = vec![(Key::ColProducers, nodes(&|n| n.role == Role::Producer))];
    for kind in KINDS {
        for role in [
            Role::Router,
            Role::Store,
            Role::Service,
            Role::Peer,
            Role::Broker,
        ] {
            if let Some(key) = kind.picker_heading(role) {
                let family = kind.family();
                groups.push((
                    key,
                    nodes(&|n| n.family == family && n.role == role && n.parent.is_none()),
                ));
            }
        }
    }
    groups.push((Key::ColConsumers, nodes(&|n| n.role == Role::Consumer)));
    groups.retain(|(_, items)| !items.is_empty());
    groups
}

/// Waiting messages in `area` of a lane: the next to leave on the right, next to the consumers,
/// "+N" on the left for those with no room, and "empty" when `count` is 0.
pub fn waiting_chips(pen: &Pen, head: &[Chip], count: u64, area: Rect, k: f64) {
    let c = pen.ctx;
    let (chip_w, gap) = (16.0 * k, 5.0 * k);
    pen.font(700, 15.0 * k, FONT);
    c.set_text_baseline("middle");
    c.set_text_align("left");
    if count == 0 {
        pen.empty_note(area.x + 4.0 * k, area.mid_y(), area.w - 8.0 * k);
        return;
    }
    let mut shown = head.len().min(chips_that_fit(area.w, chip_w, gap));
    let mut text_w = 0.0;
    if (shown as u64) < count {
        text_w = pen.text_w(&format!("+{}", format_count(count))) + 8.0 * k;
        shown = head.len().min(chips_that_fit(area.w - text_w, chip_w, gap));
    }
    for (i, chip) in head.iter().take(shown).enumerate() {
        let x = area.right() - (i as f64 + 1.0) * chip_w - i as f64 * gap;
        let r = Rect {
            x,
            y: area.y,
            w: chip_w,
            h: area.h,
        };
        pen.chip(chip, r, k, false);
    }
    let rest = count.saturating_sub(shown as u64);
    if rest > 0 && text_w > 0.0 {
        c.set_fill_style_str(INK);
        c.fill_text(
            &format!("+{}", format_count(rest)),
            area.x + 2.0 * k,
            area.mid_y(),
        )
        .ok();
    }
}

// ------------------------------------------------------------------ header cards and legend

/// A header card: test id, CSS class, label, tooltip and value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Card {
    pub id: &'static str,
    pub class: &'static str,
    pub label: Key,
    pub hint: Key,
    pub value: u64,
}

/// The cards of what is on stage: published, then each family's.
pub fn cards(d: &Driver, snap: &Snapshot) -> Vec<Card> {
    let mut cards = vec![Card {
        id: "count-published",
        class: "c-published",
        label: Key::CountPublished,
        hint: Key::HintPublished,
        value: d.sim().ledger().published,
    }];
    for f in snap.graph.families() {
        cards.extend(of(f).cards(d, snap));
    }
    cards
}

/// A legend entry: a swatch (CSS classes of nested spans) and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegendItem {
    /// The swatch's class, and an inner chip's class and text if any.
    pub swatch: &'static str,
    pub inner: Option<(&'static str, &'static str)>,
    pub key: Key,
}

impl LegendItem {
    pub const fn new(swatch: &'static str, key: Key) -> LegendItem {
        LegendItem {
            swatch,
            inner: None,
            key,
        }
    }
}

/// The legend for `families` on stage: what every drawing has, then each family's entries.
pub fn legend(snap: &Snapshot, families: &[Family]) -> Vec<LegendItem> {
    let mut items = vec![
        LegendItem::new("sw dot", Key::LegendMoving),
        LegendItem::new("sw chip processing", Key::LegendProcessing),
    ];
    for f in families {
        for item in of(*f).legend(snap) {
            if !items.contains(&item) {
                items.push(item);
            }
        }
    }
    items
}

// ------------------------------------------------------------------ the inspector

/// What the inspector shows for one entity.
pub trait Inspect: PartialEq + 'static {
    /// The kind of entity and its name, for the title.
    fn title(&self, lang: Lang) -> (String, String);
    fn body(&self, lab: &Lab) -> Html;
}

/// Object-safe side of [`Inspect`], with equality across models of different types.
trait DynInspect {
    fn title(&self, lang: Lang) -> (String, String);
    fn body(&self, lab: &Lab) -> Html;
    fn as_any(&self) -> &dyn Any;
    fn same(&self, other: &dyn DynInspect) -> bool;
}

impl<T: Inspect> DynInspect for T {
    fn title(&self, lang: Lang) -> (String, String) {
        Inspect::title(self, lang)
    }
    fn body(&self, lab: &Lab) -> Html {
        Inspect::body(self, lab)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn same(&self, other: &dyn DynInspect) -> bool {
        other.as_any().downcast_ref::<T>() == Some(self)
    }
}

/// An entity's inspector model; compared each frame, so the panel re-renders only on change.
#[derive(Clone)]
pub struct Inspected(Rc<dyn DynInspect>);

impl Inspected {
    pub fn new(model: impl Inspect) -> Inspected {
        Inspected(Rc::new(model))
    }

    pub fn title(&self, lang: Lang) -> (String, String) {
        self.0.title(lang)
    }

    pub fn body(&self, lab: &Lab) -> Html {
        self.0.body(lab)
    }
}

impl PartialEq for Inspected {
    fn eq(&self, other: &Self) -> bool {
        self.0.same(&*other.0)
    }
}

/// The inspector's model of `node`; `None` if it no longer exists.
pub fn inspect(d: &Driver, snap: &Snapshot, node: NodeRef) -> Option<Inspected> {
    match node.family() {
        Some(f) => of(f).inspect(d, snap, node),
        None => clients::inspect(d, snap, node),
    }
}

#[cfg(test)]
pub mod testing {
    //! Nodes for layout and canvas tests, which must not name a broker's node themselves.
    use super::*;
    use broker_sim::ids::{ConsumerId, ExchangeId, ProducerId, QueueId, ServiceId, TopicId};

    /// The `i`th node of a kind that has `role`.
    pub fn node(role: Role, i: u32) -> NodeRef {
        match role {
            Role::Producer => NodeRef::Producer(ProducerId(i)),
            Role::Router | Role::Peer => NodeRef::Exchange(ExchangeId(i)),
            Role::Store => NodeRef::Queue(QueueId(i)),
            Role::Service => NodeRef::Service(ServiceId(i)),
            Role::Consumer => NodeRef::Consumer(ConsumerId(i)),
            Role::Broker => NodeRef::KafkaBroker(i),
        }
    }

    /// The `i`th row of frame `frame` (a partition of a topic).
    pub fn row(frame: u32, i: u32) -> NodeRef {
        NodeRef::Partition(TopicId(frame), i)
    }

    /// A frame's node (a topic).
    pub fn frame(i: u32) -> NodeRef {
        NodeRef::Topic(TopicId(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_sim::ids::{
        ChannelId, ConsumerId, ExchangeId, ProducerId, QueueId, ServiceId, SqsQueueId, TopicId,
    };

    #[test]
    fn every_family_is_registered_once() {
        for f in Family::ALL {
            assert_eq!(KINDS.iter().filter(|k| k.family() == f).count(), 1, "{f:?}");
            assert_eq!(of(f).family(), f);
        }
    }

    #[test]
    fn node_refs_round_trip() {
        for node in [
            NodeRef::Producer(ProducerId(3)),
            NodeRef::Exchange(ExchangeId(0)),
            NodeRef::Queue(QueueId(12)),
            NodeRef::Consumer(ConsumerId(1)),
            NodeRef::Channel(ChannelId(2)),
            NodeRef::Topic(TopicId(4)),
            NodeRef::Partition(TopicId(1), 7),
            NodeRef::Service(ServiceId(0)),
            NodeRef::SqsQueue(SqsQueueId(5)),
        ] {
            assert_eq!(decode(&encode(node)), Some(node));
        }
        for bad in [
            "", "q", "q:", "q:x", "zz:1", "q:1:2", "pt:1", "p:-1", "pt:1:2:3",
        ] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn node_keys_name_kind_and_entity() {
        let d = Driver::new(&crate::compare::scenario(), 1).unwrap();
        let snap = d.snapshot();
        assert_eq!(
            node_key(&snap, NodeRef::Queue(QueueId(0))).as_deref(),
            Some("queue:orders")
        );
        assert_eq!(
            node_key(&snap, NodeRef::Partition(TopicId(0), 1)).as_deref(),
            Some("partition:orders-log-1")
        );
        assert_eq!(node_key(&snap, NodeRef::Topic(TopicId(7))), None);
    }

    #[test]
    fn headings_join_the_families_of_a_column() {
        let l = Lang::En;
        let (rabbit, redis) = (
            (Family::RabbitMq, Role::Router),
            (Family::RedisPubSub, Role::Router),
        );
        assert_eq!(
            heading(l, &[redis, rabbit]).as_deref(),
            Some("Exchanges · channels")
        );
        assert_eq!(heading(l, &[redis]).as_deref(), Some("Redis channels"));
        let stores = [
            (Family::Service, Role::Service),
            (Family::RabbitMq, Role::Store),
        ];
        assert_eq!(heading(Lang::Ko, &stores).as_deref(), Some("큐 · 서비스"));
        assert_eq!(heading(l, &stores).as_deref(), Some("Queues · services"));
        assert_eq!(
            heading(Lang::Ko, &stores[..1]).as_deref(),
            Some("서비스 (브로커 없음)")
        );
        assert_eq!(heading(l, &[]), None);
        assert_eq!(groups_heading(&[Family::Kafka]), Some(Key::ColGroups));
    }

    #[test]
    fn cards_and_legend_follow_the_families_on_stage() {
        let mut d = Driver::with_default_scenario();
        d.run_to(broker_sim::SimTime::from_secs(3));
        let snap = d.snapshot();
        let ids: Vec<&str> = cards(&d, &snap).iter().map(|c| c.id).collect();
        assert_eq!(
            ids,
            [
                "count-published",
                "count-ready",
                "count-unacked",
                "count-acked"
            ]
        );
        let acked = cards(&d, &snap).last().unwrap().value;
        assert!(acked > 0);
        assert_eq!(acked, d.sim().ledger().acked);

        let kafka = include_str!("../../scenarios/kafka/kaf-18-lag.json");
        let mut d = Driver::new(&broker_sim::Scenario::from_json(kafka).unwrap(), 1).unwrap();
        d.run_to(broker_sim::SimTime::from_secs(5));
        let snap = d.snapshot();
        let cards = cards(&d, &snap);
        let ids: Vec<&str> = cards.iter().map(|c| c.id).collect();
        assert_eq!(
            ids,
            [
                "count-published",
                "count-records",
                "count-lag",
                "count-committed"
            ],
            "no queue cards stuck at 0 in a Kafka scenario"
        );
        let records = cards[1].value;
        assert!(records > 0);
        let legend = legend(&snap, &snap.graph.families());
        assert!(legend.iter().any(|i| i.key == Key::LegendCommitted));
        assert!(!legend.iter().any(|i| i.key == Key::LegendReady));
    }
}
