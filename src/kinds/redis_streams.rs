//! Redis Streams: a stream box in `XINFO` words (XLEN, PEL, lag) holding the stream drawn as a
//! log, with each group's last-delivered id and its pending entries; header cards and an
//! inspector with each group's PEL and a claim button per live consumer of the group.

use super::{Card, Inspect, Inspected, Kind, LegendItem, NodeText, Tone};
use crate::driver::Driver;
use crate::forms::{run, stat};
use crate::geom::Rect;
use crate::i18n::{t, Key, Lang};
use crate::lab::Lab;
use crate::layout::chips_that_fit;
use crate::model::format_count;
use crate::pen::{Pen, FONT};
use broker_sim::ids::{EntryId, StreamId};
use broker_sim::scenario::redis_streams::AUTOCLAIM_COUNT;
use broker_sim::snapshot::{Family, Figure, GraphNode, NodeRef, Role, StreamGroupView, StreamView};
use broker_sim::{Command, ConsumerId, ConsumerStatus, Snapshot};
use yew::prelude::*;

pub struct RedisStreams;

/// Redis red, a shade apart from the Pub/Sub channels'.
const STREAM_FILL: &str = "#fef2f2";
const STREAM_STROKE: &str = "#b91c1c";

impl Kind for RedisStreams {
    fn family(&self) -> Family {
        Family::RedisStreams
    }

    fn heading(&self, role: Role) -> Option<(Key, Key)> {
        (role == Role::Store).then_some((Key::ColStreams, Key::ColStreamsAfter))
    }

    fn picker_heading(&self, role: Role) -> Option<Key> {
        (role == Role::Store).then_some(Key::ColStreams)
    }

    fn palette(&self, role: Role) -> Option<(&'static str, &'static str)> {
        (role == Role::Store).then_some((STREAM_FILL, STREAM_STROKE))
    }

    fn word(&self, node: NodeRef) -> Option<&'static str> {
        matches!(node, NodeRef::Stream(_)).then_some("stream")
    }

    fn encode(&self, node: NodeRef) -> Option<String> {
        match node {
            NodeRef::Stream(s) => Some(format!("rs:{}", s.0)),
            _ => None,
        }
    }

    fn decode(&self, prefix: &str, a: u32, b: Option<u32>) -> Option<NodeRef> {
        (prefix == "rs" && b.is_none()).then_some(NodeRef::Stream(StreamId(a)))
    }

    fn text(&self, l: Lang, _: &Snapshot, node: &GraphNode) -> NodeText {
        let figure = |f| format_count(node.figure(f).unwrap_or(0));
        NodeText {
            tag: t(l, Key::TagStream).to_string(),
            // The groups' lag is in the inspector: three figures do not fit a box at 14 px.
            stat: format!(
                "XLEN {} · PEL {}",
                figure(Figure::Length),
                figure(Figure::Pending)
            ),
            tone: Tone::Normal,
        }
    }

    fn has_lane(&self, node: &GraphNode) -> bool {
        matches!(node.node, NodeRef::Stream(_))
    }

    /// The stream as a log, oldest on the left: its newest entries, each pending entry (in a
    /// group's PEL: delivered, not yet XACKed) ringed, and after each group's last-delivered id
    /// a bar: what the group has read (RST-3, RST-5).
    fn lane(&self, pen: &Pen, snap: &Snapshot, node: &GraphNode, lane: Rect, k: f64) {
        let Some(sv) = stream(snap, node.node) else {
            return;
        };
        pen.lane_box(lane, k);
        let c = pen.ctx;
        let (chip_w, gap) = (16.0 * k, 5.0 * k);
        let fit = chips_that_fit(lane.w, chip_w, gap);
        let shown = &sv.tail[sv.tail.len().saturating_sub(fit)..];
        if shown.is_empty() {
            pen.font(700, 15.0 * k, FONT);
            c.set_text_baseline("middle");
            pen.empty_note(lane.x + 4.0 * k, lane.mid_y(), lane.w - 8.0 * k);
            return;
        }
        let slot = |i: usize| Rect {
            x: lane.x + i as f64 * (chip_w + gap),
            y: lane.y,
            w: chip_w,
            h: lane.h,
        };
        let pending = |id: EntryId| sv.groups.iter().any(|g| g.pel.iter().any(|p| p.id == id));
        for (i, (id, chip)) in shown.iter().enumerate() {
            let r = slot(i);
            pen.chip(chip, r, k, false);
            if pending(*id) {
                pen.round_rect(r.grow(2.5 * k), 4.0 * k);
                c.set_stroke_style_str(GROUP_MARK);
                c.set_line_width(2.5 * k);
                c.stroke();
            }
        }
        c.set_fill_style_str(GROUP_MARK);
        for g in &sv.groups {
            if let Some(i) = shown.iter().position(|(id, _)| *id == g.last_delivered_id) {
                let x = slot(i).right() + gap / 2.0;
                c.fill_rect(x - 1.5 * k, lane.y - 5.0 * k, 3.0 * k, lane.h + 10.0 * k);
            }
        }
    }

    fn cards(&self, _: &Driver, snap: &Snapshot) -> Vec<Card> {
        let sum = |f: fn(&StreamView) -> u64| snap.streams.iter().map(f).sum();
        let card = |id, label, hint, value| Card {
            id,
            class: "c-stream",
            label,
            hint,
            value,
        };
        vec![
            card(
                "count-stream-length",
                Key::CountStreamLength,
                Key::HintStreamLength,
                sum(|s| s.length),
            ),
            card(
                "count-stream-pending",
                Key::CountStreamPending,
                Key::HintStreamPending,
                sum(|s| s.groups.iter().map(|g| g.pending).sum()),
            ),
        ]
    }

    fn legend(&self, _snap: &Snapshot) -> Vec<LegendItem> {
        vec![
            LegendItem::new("sw chip pel", Key::LegendStreamPending),
            LegendItem::new("sw bar read", Key::LegendStreamRead),
        ]
    }

    fn inspect(&self, _: &Driver, snap: &Snapshot, node: NodeRef) -> Option<Inspected> {
        let sv = stream(snap, node)?;
        let view = |c: ConsumerId| snap.consumers.iter().find(|v| v.id == c);
        let name = |c: ConsumerId| view(c).map_or_else(|| c.to_string(), |v| v.name.clone());
        Some(Inspected::new(StreamModel {
            key: sv.key.clone(),
            length: sv.length,
            added: sv.entries_added,
            first: sv.first_id.map(|id| id.to_string()),
            last: sv.last_id.to_string(),
            groups: (sv.groups.iter())
                .map(|g| GroupRow {
                    name: g.name.clone(),
                    last_delivered: g.last_delivered_id.to_string(),
                    lag: g.lag,
                    pending: g.pending,
                    pel: (g.pel.iter())
                        .map(|p| PelRow {
                            id: p.id.to_string(),
                            owner: name(p.owner),
                            idle_ms: p.idle_ms,
                            deliveries: p.delivery_count,
                            deleted: p.deleted,
                        })
                        .collect(),
                    claimers: claimers(snap, g),
                })
                .collect(),
        }))
    }
}

/// The group's running consumers, by name: the ones a claim button can name.
fn claimers(snap: &Snapshot, g: &StreamGroupView) -> Vec<String> {
    (g.consumers.iter())
        .filter_map(|&(c, _)| snap.consumers.iter().find(|v| v.id == c))
        .filter(|v| v.status == ConsumerStatus::Running)
        .map(|v| v.name.clone())
        .collect()
}

/// What an entry's claim button sends: `XCLAIM stream group consumer 1000 id`. The min-idle
/// time keeps it from taking an entry its owner is still working on (RST-8).
fn xclaim_command(stream: &str, group: &str, consumer: &str, id: &str) -> Command {
    Command::Xclaim {
        stream: stream.to_string(),
        group: group.to_string(),
        consumer: consumer.to_string(),
        min_idle_ms: CLAIM_MIN_IDLE_MS,
        ids: vec![id.to_string()],
        justid: false,
    }
}

/// What a group's claim button sends: `XAUTOCLAIM stream group consumer 1000 0-0`.
fn claim_command(stream: &str, group: &str, consumer: &str) -> Command {
    Command::Xautoclaim {
        stream: stream.to_string(),
        group: group.to_string(),
        consumer: consumer.to_string(),
        min_idle_ms: CLAIM_MIN_IDLE_MS,
        start: EntryId::ZERO.to_string(),
        count: AUTOCLAIM_COUNT,
        justid: false,
    }
}

fn stream(snap: &Snapshot, node: NodeRef) -> Option<&StreamView> {
    let NodeRef::Stream(id) = node else {
        return None;
    };
    snap.streams.iter().find(|s| s.id == id)
}

/// A pending entry's ring and a group's read bar: the consumers' violet.
const GROUP_MARK: &str = "#6d28d9";

#[derive(Clone, Debug, PartialEq)]
struct GroupRow {
    name: String,
    last_delivered: String,
    lag: Option<u64>,
    pending: u64,
    pel: Vec<PelRow>,
    /// The group's running consumers, by name: each can claim the others' idle entries.
    claimers: Vec<String>,
}

/// An `XPENDING … IDLE` row.
#[derive(Clone, Debug, PartialEq)]
struct PelRow {
    id: String,
    owner: String,
    idle_ms: f64,
    deliveries: u32,
    /// Trimmed from the stream: a claim only removes it from the PEL.
    deleted: bool,
}

impl PelRow {
    /// The consumers that could `XCLAIM` this entry now: any running one but its owner, once
    /// the entry has been idle for the min-idle time (a trimmed one at any time).
    fn claimable_by<'a>(&'a self, claimers: &'a [String]) -> impl Iterator<Item = &'a String> {
        let idle = self.deleted || self.idle_ms >= CLAIM_MIN_IDLE_MS;
        claimers.iter().filter(move |c| idle && **c != self.owner)
    }
}

/// A button's `XCLAIM` / `XAUTOCLAIM` min-idle-time: an entry its owner is still working on (idle under
/// a second) stays with it, the way a claimer's periodic XAUTOCLAIM is usually set (RST-8).
const CLAIM_MIN_IDLE_MS: f64 = 1000.0;

/// A stream in `XINFO STREAM` and `XINFO GROUPS` words, with each group's PEL.
#[derive(Clone, Debug, PartialEq)]
struct StreamModel {
    key: String,
    length: u64,
    added: u64,
    first: Option<String>,
    last: String,
    groups: Vec<GroupRow>,
}

impl Inspect for StreamModel {
    fn title(&self, l: Lang) -> (String, String) {
        (t(l, Key::TagStream).to_string(), self.key.clone())
    }

    fn body(&self, lab: &Lab) -> Html {
        let l = lab.lang;
        // The buttons follow the consumers' state, so a refusal cannot outlive a frame.
        let send = |command: Command| {
            let lab = lab.clone();
            Callback::from(move |_: MouseEvent| {
                run(&lab, command.clone());
            })
        };
        let claim = |group: &str, consumer: &str| send(claim_command(&self.key, group, consumer));
        let groups = self.groups.iter().map(|g| {
            let lag = g.lag.map_or_else(|| "nil".to_string(), format_count);
            let pel = g.pel.iter().map(|p| {
                let gone = if p.deleted { " · nil" } else { "" };
                let xclaim = |c: &String| html! {
                    <button type="button" class="lab-btn insp-xclaim" data-testid="insp-stream-xclaim"
                        onclick={send(xclaim_command(&self.key, &g.name, c, &p.id))}
                        title={t(l, Key::InspStreamXclaimHint)}>
                        { format!("XCLAIM → {c}") }
                    </button>
                };
                html! {
                    <li>
                        <span>{ format!("{} · {} · {} {:.1} s · {} {}{gone}", p.id, p.owner,
                            t(l, Key::InspStreamIdle), p.idle_ms / 1000.0,
                            t(l, Key::InspStreamDeliveries), p.deliveries) }</span>
                        { for p.claimable_by(&g.claimers).map(xclaim) }
                    </li>
                }
            });
            html! {
                <section class="insp-group">
                    <h4>{ g.name.clone() }</h4>
                    <dl class="insp-stats">
                        { stat("last-delivered-id", g.last_delivered.clone(), "insp-stream-last-delivered") }
                        { stat("lag", lag, "insp-stream-lag") }
                        { stat("pending (PEL)", format_count(g.pending), "insp-stream-pending") }
                    </dl>
                    <ul class="insp-pel" data-testid="insp-pel">{ for pel }</ul>
                    if g.pending > 0 && !g.claimers.is_empty() {
                        <div class="fx-actions">
                            { for g.claimers.iter().map(|c| html! {
                                <button type="button" class="lab-btn" data-testid="insp-stream-claim"
                                    onclick={claim(&g.name, c)}
                                    title={t(l, Key::InspStreamClaimHint)}>
                                    { format!("XAUTOCLAIM → {c}") }
                                </button>
                            }) }
                        </div>
                    }
                </section>
            }
        });
        html! {
            <>
                <dl class="insp-stats">
                    { stat("XLEN", format_count(self.length), "insp-stream-length") }
                    { stat("entries-added", format_count(self.added), "insp-stream-added") }
                    { stat("first-entry", self.first.clone().unwrap_or_else(|| "—".into()), "insp-stream-first") }
                    { stat("last-generated-id", self.last.clone(), "insp-stream-last") }
                </dl>
                { for groups }
                <p class="insp-note">{ t(l, Key::InspStreamNote) }</p>
            </>
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_sim::SimTime;

    /// Lesson 16 at 5.2 s: reader died holding m9 (entry 5050-0). Redis does not redeliver it
    /// (RST-7): it stays in the group's PEL, owned by reader, and the cards and the inspector
    /// say so.
    #[test]
    fn rst_7_the_dead_readers_entry_stays_in_the_pel_on_stage() {
        let scenario = crate::presets::scenario("16-redis-pubsub-vs-streams").unwrap();
        let mut d = Driver::new(&scenario, 1).unwrap();
        d.run_to(SimTime::from_millis(5_200));
        let snap = d.snapshot();
        let cards = RedisStreams.cards(&d, &snap);
        let value = |id: &str| cards.iter().find(|c| c.id == id).unwrap().value;
        assert_eq!(value("count-stream-length"), 10);
        assert_eq!(value("count-stream-pending"), 1);
        let sv = &snap.streams[0];
        let pel = &sv.groups[0].pel;
        assert_eq!(pel.len(), 1);
        assert_eq!(pel[0].id.to_string(), "5050-0");
        let owner = snap
            .consumers
            .iter()
            .find(|c| c.id == pel[0].owner)
            .unwrap();
        assert_eq!(owner.name, "reader");
        assert!(RedisStreams
            .inspect(&d, &snap, NodeRef::Stream(sv.id))
            .is_some());
    }

    /// Lesson 16 at 6.5 s: reader is dead holding m9, standby is back. Only standby is offered
    /// as a claimer, and its button's XAUTOCLAIM moves m9 to standby's PEL with the delivery
    /// count raised to 2 (RST-8) once it reaches Redis a 50 ms hop later, before the lesson's own scripted claim at 7 s.
    #[test]
    fn rst_8_a_claim_button_moves_the_dead_readers_entry_to_a_live_consumer() {
        let scenario = crate::presets::scenario("16-redis-pubsub-vs-streams").unwrap();
        let mut d = Driver::new(&scenario, 1).unwrap();
        d.run_to(SimTime::from_millis(6_500));
        let snap = d.snapshot();
        let (sv, g) = (&snap.streams[0], &snap.streams[0].groups[0]);
        assert_eq!(claimers(&snap, g), ["standby"]);
        d.apply(claim_command(&sv.key, &g.name, "standby")).unwrap();
        d.run_to(SimTime::from_millis(6_560));
        let snap = d.snapshot();
        let pel = &snap.streams[0].groups[0].pel;
        let owner = |p: &broker_sim::snapshot::PendingView| {
            (snap.consumers.iter())
                .find(|c| c.id == p.owner)
                .unwrap()
                .name
                .clone()
        };
        assert_eq!(pel.len(), 1);
        assert_eq!(
            (pel[0].id.to_string(), owner(&pel[0])),
            ("5050-0".into(), "standby".into())
        );
        assert_eq!(pel[0].delivery_count, 2);
    }

    /// The same moment, one entry at a time: m9's row offers `XCLAIM → standby`, never its
    /// owner, and the claim moves it to standby with a second delivery (RST-8).
    #[test]
    fn rst_8_an_entrys_xclaim_button_moves_that_entry_to_a_live_consumer() {
        let scenario = crate::presets::scenario("16-redis-pubsub-vs-streams").unwrap();
        let mut d = Driver::new(&scenario, 1).unwrap();
        d.run_to(SimTime::from_millis(6_500));
        let snap = d.snapshot();
        let g = &snap.streams[0].groups[0];
        let claimers = claimers(&snap, g);
        let p = &g.pel[0];
        let owner = snap.consumers.iter().find(|c| c.id == p.owner).unwrap();
        let row = PelRow {
            id: p.id.to_string(),
            owner: owner.name.clone(),
            idle_ms: p.idle_ms,
            deliveries: p.delivery_count,
            deleted: p.deleted,
        };
        assert_eq!((row.id.as_str(), row.owner.as_str()), ("5050-0", "reader"));
        let offered: Vec<_> = row.claimable_by(&claimers).collect();
        assert_eq!(offered, ["standby"]);
        d.apply(xclaim_command("news", &g.name, "standby", "5050-0"))
            .unwrap();
        d.run_to(SimTime::from_millis(6_560));
        let snap = d.snapshot();
        let pel = &snap.streams[0].groups[0].pel;
        let owner = snap
            .consumers
            .iter()
            .find(|c| c.id == pel[0].owner)
            .unwrap();
        assert_eq!((owner.name.as_str(), pel[0].delivery_count), ("standby", 2));
    }

    /// An entry idle under the min-idle time is offered to no one, since XCLAIM would skip it;
    /// a trimmed one is, since the claim removes it from the PEL (RST-8).
    #[test]
    fn rst_8_xclaim_is_offered_only_for_idle_or_trimmed_entries_and_never_to_the_owner() {
        let claimers = ["reader".to_string(), "standby".to_string()];
        let row = |idle_ms, deleted| PelRow {
            id: "1-0".into(),
            owner: "reader".into(),
            idle_ms,
            deliveries: 1,
            deleted,
        };
        let offered = |r: PelRow| r.claimable_by(&claimers).cloned().collect::<Vec<_>>();
        assert!(offered(row(999.0, false)).is_empty());
        assert_eq!(offered(row(1000.0, false)), ["standby"]);
        assert_eq!(offered(row(0.0, true)), ["standby"]);
    }
}
