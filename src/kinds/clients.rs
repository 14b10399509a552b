//! Producers and consumers, which every family has: their node boxes (a producer's colour
//! strip, a consumer's lane of messages and prefetch window), their inspector bodies with the
//! rate and processing settings, and the forms that add them.

use super::kafka::{group_info, group_section, GroupInfo};
use super::rabbitmq::display_name;
use super::{Inspect, Inspected, NodeText, Tone};
use crate::actions::{status_class, status_text, ConsumerActions, ProducerActions};
use crate::driver::Driver;
use crate::forms::{
    commit, fmt_num, options, parse_f64, parse_num, run, section, stat, ChoiceField, Commit,
    TextField,
};
use crate::geom::Rect;
use crate::i18n::{t, Key, Lang};
use crate::lab::Lab;
use crate::layout::chips_that_fit;
use crate::model::format_count;
use crate::pen::{producer_colour, Pen, FAINT, FONT, INK};
use broker_sim::ids::{ConsumerId, ProducerId};
use broker_sim::scenario::{
    AckMode, ConsumerSource, ConsumerSpec, Processing, ProducerSpec, PublishTarget, RatePattern,
    StageRole,
};
use broker_sim::snapshot::{Chip, ConsumerView, GraphNode, NodeRef, NodeStatus};
use broker_sim::specs::Specs;
use broker_sim::ConsumerStatus;
use broker_sim::{Command, MessageId, Snapshot};
use std::collections::BTreeSet;
use std::f64::consts::PI;
use yew::prelude::*;

pub fn word(node: NodeRef) -> Option<&'static str> {
    match node {
        NodeRef::Producer(_) => Some("producer"),
        NodeRef::Consumer(_) => Some("consumer"),
        _ => None,
    }
}

pub fn encode(node: NodeRef) -> Option<String> {
    match node {
        NodeRef::Producer(p) => Some(format!("p:{}", p.0)),
        NodeRef::Consumer(c) => Some(format!("c:{}", c.0)),
        _ => None,
    }
}

pub fn decode(prefix: &str, a: u32, b: Option<u32>) -> Option<NodeRef> {
    match (prefix, b) {
        ("p", None) => Some(NodeRef::Producer(ProducerId(a))),
        ("c", None) => Some(NodeRef::Consumer(ConsumerId(a))),
        _ => None,
    }
}

pub fn consumer(snap: &Snapshot, node: NodeRef) -> Option<&ConsumerView> {
    let NodeRef::Consumer(id) = node else {
        return None;
    };
    snap.consumers.iter().find(|c| c.id == id)
}

// ------------------------------------------------------------------ drawing

/// The type tag and figures of a producer or consumer.
pub fn text(l: Lang, snap: &Snapshot, node: &GraphNode) -> NodeText {
    match node.node {
        NodeRef::Producer(_) => {
            let (stat, tone) = if node.status == NodeStatus::Paused {
                (t(l, Key::NodePaused).to_string(), Tone::Alert)
            } else {
                let sent = node.figure(broker_sim::snapshot::Figure::Sent).unwrap_or(0);
                (
                    format!("{} {}", t(l, Key::NodeSent), format_count(sent)),
                    Tone::Normal,
                )
            };
            // A stage's producer names the consumer that publishes through it: the loop from
            // the consumers' column back to an exchange is otherwise not drawn.
            let tag = match node.owner.and_then(|o| snap.graph.node(o)) {
                Some(owner) => format!("← {}", owner.name),
                None => t(l, Key::TagProducer).to_string(),
            };
            NodeText { tag, stat, tone }
        }
        _ => {
            let Some(cv) = consumer(snap, node.node) else {
                return NodeText {
                    tag: t(l, Key::TagConsumer).to_string(),
                    ..NodeText::default()
                };
            };
            let key = if cv.source.is_none() {
                Key::TagSubscriber
            } else {
                Key::TagConsumer
            };
            // What it has finished: acked, or just done where its family has no acks.
            let acks = (cv.source)
                .and_then(|s| s.family())
                .is_none_or(|f| super::of(f).acks());
            let done = if acks {
                Key::NodeAcked
            } else {
                Key::NodeProcessed
            };
            let (stat, tone) = match cv.status {
                ConsumerStatus::Crashed => (t(l, Key::StatusCrashed).to_string(), Tone::Alert),
                ConsumerStatus::Disconnected => {
                    (t(l, Key::StatusDisconnected).to_string(), Tone::Alert)
                }
                ConsumerStatus::Removed => (t(l, Key::StatusRemoved).to_string(), Tone::Alert),
                // A slowed consumer says so on stage: the cause of the backlog it makes.
                ConsumerStatus::Running if (cv.slow_factor - 1.0).abs() > 1e-9 => (
                    format!(
                        "{} {} · {} ×{}",
                        t(l, done),
                        format_count(cv.acked),
                        t(l, Key::InspSlowed),
                        crate::forms::fmt_num(cv.slow_factor)
                    ),
                    Tone::Alert,
                ),
                ConsumerStatus::Running => (
                    format!("{} {}", t(l, done), format_count(cv.acked)),
                    Tone::Normal,
                ),
            };
            let family_tag = (cv.source)
                .and_then(|s| s.family())
                .and_then(|f| super::of(f).consumer_tag(l, snap, cv.id));
            NodeText {
                tag: family_tag.unwrap_or_else(|| t(l, key).to_string()),
                stat,
                tone,
            }
        }
    }
}

pub fn icon(pen: &Pen, node: &GraphNode, x: f64, y: f64, r: f64, colour: &str) {
    let c = pen.ctx;
    c.set_fill_style_str(colour);
    c.set_stroke_style_str(colour);
    c.begin_path();
    if let NodeRef::Producer(_) = node.node {
        // A play-like triangle: it emits.
        c.move_to(x - r * 0.7, y - r);
        c.line_to(x + r, y);
        c.line_to(x - r * 0.7, y + r);
        c.close_path();
        c.fill();
    } else {
        // A filled circle: it works.
        c.arc(x, y, r * 0.9, 0.0, 2.0 * PI).ok();
        c.fill();
    }
}

/// A producer's colour: its messages are drawn in it.
pub fn strip(node: &GraphNode) -> Option<&'static str> {
    match node.node {
        NodeRef::Producer(p) => Some(producer_colour(Some(p))),
        _ => None,
    }
}

pub fn has_lane(node: &GraphNode) -> bool {
    matches!(node.node, NodeRef::Consumer(_))
}

pub fn lane(pen: &Pen, snap: &Snapshot, node: &GraphNode, lane: Rect, k: f64) {
    if let Some(cv) = consumer(snap, node.node) {
        consumer_lane(pen, snap, cv, lane, k);
    }
}

fn consumer_lane(pen: &Pen, snap: &Snapshot, cv: &ConsumerView, lane: Rect, k: f64) {
    let c = pen.ctx;
    pen.lane_box(lane, k);
    let (chip_w, gap) = (16.0 * k, 8.0 * k);
    // Deliveries still on the wire are drawn as moving dots, not here.
    let travelling: BTreeSet<MessageId> = snap
        .transits
        .iter()
        .filter(|tv| tv.to == NodeRef::Consumer(cv.id))
        .map(|tv| tv.msg)
        .collect();
    let processing = cv.processing.as_ref();
    let mut chips: Vec<(&Chip, bool)> = Vec::new();
    if let Some(p) = processing {
        chips.push((p, true));
    }
    for chip in &cv.unacked {
        if Some(chip.msg) != processing.map(|p| p.msg) && !travelling.contains(&chip.msg) {
            chips.push((chip, false));
        }
    }
    let fit = chips_that_fit(lane.w - 40.0 * k, chip_w, gap).max(1);
    let mut x = lane.x + 3.0 * k;
    for &(chip, is_processing) in chips.iter().take(fit) {
        pen.chip(
            chip,
            Rect {
                x,
                y: lane.y,
                w: chip_w,
                h: lane.h,
            },
            k,
            is_processing,
        );
        x += chip_w + gap;
    }
    // Free prefetch slots as dashed outlines: the window the broker may still fill.
    let used = chips.len() + travelling.len();
    if cv.ack == AckMode::Manual && cv.prefetch > 0 && cv.status == ConsumerStatus::Running {
        let free = (cv.prefetch as usize).saturating_sub(used);
        let room = fit.saturating_sub(chips.len().min(fit));
        for _ in 0..free.min(room) {
            pen.free_slot(
                Rect {
                    x,
                    y: lane.y,
                    w: chip_w,
                    h: lane.h,
                },
                k,
            );
            x += chip_w + gap;
        }
    }
    // What bounds the window, at the lane's right end: prefetch, or auto-ack.
    let window = match cv.ack {
        AckMode::Auto => t(pen.lang, Key::AutoAck).to_string(),
        AckMode::Manual if cv.prefetch > 0 => format!("prefetch {}", cv.prefetch),
        AckMode::Manual => String::new(),
    };
    let hidden = chips.len().saturating_sub(fit);
    if hidden == 0 && !window.is_empty() && cv.source.is_some() {
        pen.font(500, 13.0 * k, FONT);
        let room = lane.right() - x - 8.0 * k;
        if pen.text_w(&window) <= room {
            c.set_fill_style_str(FAINT);
            c.set_text_align("right");
            c.set_text_baseline("middle");
            c.fill_text(&window, lane.right() - 4.0 * k, lane.y + lane.h / 2.0)
                .ok();
        }
    }
    if hidden > 0 {
        pen.font(700, 15.0 * k, FONT);
        c.set_fill_style_str(INK);
        c.set_text_align("right");
        c.set_text_baseline("middle");
        let text = format!("+{}", format_count(hidden as u64));
        c.fill_text(&text, lane.right() - 2.0 * k, lane.y + lane.h / 2.0)
            .ok();
    }
}

// ------------------------------------------------------------------ the inspector

#[derive(Clone, Debug, PartialEq)]
pub struct ProducerModel {
    name: String,
    sent: u64,
    paused: bool,
    spec: Option<ProducerSpec>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConsumerModel {
    name: String,
    status: ConsumerStatus,
    delivered: u64,
    acked: u64,
    redelivered: u64,
    unacked: u64,
    prefetch: u32,
    processing: bool,
    busy_pct: u32,
    slow_factor: f64,
    spec: Option<ConsumerSpec>,
    group: Option<GroupInfo>,
}

/// Current settings of every entity, answered by the core.
fn specs_of(d: &Driver) -> Specs {
    d.sim().specs()
}

/// A producer's or consumer's inspector model; `None` if it is gone.
pub fn inspect(d: &Driver, snap: &Snapshot, node: NodeRef) -> Option<Inspected> {
    let specs = specs_of(d);
    match node {
        NodeRef::Producer(id) => snap.producers.iter().find(|p| p.id == id).map(|p| {
            Inspected::new(ProducerModel {
                name: p.name.clone(),
                sent: p.sent,
                paused: p.paused,
                spec: specs.producer(&p.name).cloned(),
            })
        }),
        NodeRef::Consumer(id) => snap.consumers.iter().find(|c| c.id == id).map(|c| {
            Inspected::new(ConsumerModel {
                name: c.name.clone(),
                status: c.status,
                delivered: c.delivered,
                acked: c.acked,
                redelivered: c.redelivered,
                unacked: c.unacked_count,
                prefetch: c.prefetch,
                processing: c.processing.is_some(),
                // Whole percent: finer would re-render the panel every frame.
                busy_pct: (c.utilisation * 100.0).round().clamp(0.0, 100.0) as u32,
                slow_factor: c.slow_factor,
                spec: specs.consumer(&c.name).cloned(),
                group: c.group.and_then(|g| group_info(snap, &specs, g)),
            })
        }),
        _ => None,
    }
}

impl Inspect for ProducerModel {
    fn title(&self, l: Lang) -> (String, String) {
        (t(l, Key::TagProducer).to_string(), self.name.clone())
    }
    fn body(&self, lab: &Lab) -> Html {
        producer_body(lab, self)
    }
}

impl Inspect for ConsumerModel {
    fn title(&self, l: Lang) -> (String, String) {
        (t(l, Key::TagConsumer).to_string(), self.name.clone())
    }
    fn body(&self, lab: &Lab) -> Html {
        consumer_body(lab, self)
    }
}

fn edit_producer_rate(lab: &Lab, name: &str, f: impl FnOnce(&mut RatePattern)) -> Option<String> {
    let spec = specs_of(&lab.driver.borrow()).producer(name).cloned();
    let Some(mut spec) = spec else {
        return Some(format!("no producer named {name:?}"));
    };
    f(&mut spec.rate);
    run(
        lab,
        Command::SetRate {
            producer: name.to_string(),
            rate: spec.rate,
        },
    )
}

fn edit_consumer(lab: &Lab, name: &str, f: impl FnOnce(&mut ConsumerSpec)) -> Option<String> {
    let spec = specs_of(&lab.driver.borrow()).consumer(name).cloned();
    let Some(mut spec) = spec else {
        return Some(format!("no consumer named {name:?}"));
    };
    f(&mut spec);
    run(lab, Command::UpdateConsumer { consumer: spec })
}

/// The rate patterns offered for editing. A one-off `burst` pattern only fires before the
/// producer's first message, so the burst button (the `burst` command) stands in for it.
const RATE_KINDS: [(&str, Key); 5] = [
    ("constant", Key::InspRateConstant),
    ("poisson", Key::InspRatePoisson),
    ("square", Key::InspRateSquare),
    ("ramp", Key::InspRateRamp),
    ("manual", Key::InspRateManual),
];

fn rate_kind(rate: &RatePattern) -> &'static str {
    match rate {
        RatePattern::Manual => "manual",
        RatePattern::Constant { .. } => "constant",
        RatePattern::Poisson { .. } => "poisson",
        RatePattern::Burst { .. } => "burst",
        RatePattern::Square { .. } => "square",
        RatePattern::Ramp { .. } => "ramp",
    }
}

/// A new pattern of `kind`, keeping the current rate where the kinds have one.
fn rate_of_kind(kind: &str, current: &RatePattern) -> Option<RatePattern> {
    let base = match *current {
        RatePattern::Constant { per_sec } | RatePattern::Poisson { per_sec } => per_sec,
        RatePattern::Square { high_per_sec, .. } => high_per_sec,
        RatePattern::Ramp { to_per_sec, .. } => to_per_sec,
        RatePattern::Manual | RatePattern::Burst { .. } => 1.0,
    };
    Some(match kind {
        "manual" => RatePattern::Manual,
        "constant" => RatePattern::Constant { per_sec: base },
        "poisson" => RatePattern::Poisson { per_sec: base },
        "square" => RatePattern::Square {
            high_per_sec: base * 4.0,
            low_per_sec: base,
            period_ms: 10_000.0,
            duty: 0.3,
        },
        "ramp" => RatePattern::Ramp {
            from_per_sec: base,
            to_per_sec: base * 4.0,
            over_ms: 20_000.0,
        },
        _ => return None,
    })
}

fn producer_body(lab: &Lab, p: &ProducerModel) -> Html {
    let l = lab.lang;
    let name = p.name.clone();
    let stats = html! {
        <dl class="insp-stats">
            { stat(t(l, Key::CountPublished), format_count(p.sent), "insp-sent") }
            { stat(t(l, Key::InspState), if p.paused { t(l, Key::NodePaused) } else { t(l, Key::InspPublishing) }.to_string(), "insp-producer-state") }
        </dl>
    };
    let actions = html! {
        <ProducerActions scope="insp" producer={name.clone()} paused={p.paused} />
    };
    let Some(spec) = &p.spec else {
        return html! { <>{ stats }{ actions }</> };
    };
    let rate = spec.rate.clone();
    let mut kinds: Vec<(AttrValue, AttrValue)> = RATE_KINDS
        .iter()
        .map(|(v, k)| (AttrValue::from(*v), AttrValue::from(t(l, *k))))
        .collect();
    if matches!(rate, RatePattern::Burst { .. }) {
        kinds.push(("burst".into(), t(l, Key::InspRateBurst).into()));
    }
    let on_kind = {
        let (lab, name) = (lab.clone(), name.clone());
        Callback::from(move |kind: String| {
            edit_producer_rate(&lab, &name, |r| {
                if let Some(new) = rate_of_kind(&kind, r) {
                    *r = new;
                }
            })
        })
    };
    // One numeric field of the pattern: `get` reads it, `set` writes it.
    let num_field = |label: Key,
                     unit: Option<&str>,
                     testid: &'static str,
                     get: f64,
                     set: fn(&mut RatePattern, f64)| {
        let name = name.clone();
        let on_commit = commit(lab, parse_f64, move |lab, v| {
            edit_producer_rate(lab, &name, |r| set(r, v))
        });
        html! {
            <TextField label={t(l, label)} value={fmt_num(get)} testid={testid}
                unit={unit.map(AttrValue::from)} {on_commit} />
        }
    };
    let per_sec = Some(t(l, Key::InspPerSec));
    let ms = Some("ms");
    let rate_fields = match rate {
        RatePattern::Constant { per_sec: v } | RatePattern::Poisson { per_sec: v } => {
            num_field(Key::InspRate, per_sec, "insp-rate", v, |r, v| {
                if let RatePattern::Constant { per_sec } | RatePattern::Poisson { per_sec } = r {
                    *per_sec = v
                }
            })
        }
        RatePattern::Square {
            high_per_sec,
            low_per_sec,
            period_ms,
            duty,
        } => html! {
            <>
                { num_field(Key::InspHigh, per_sec, "insp-rate-high", high_per_sec, |r, v| if let RatePattern::Square { high_per_sec, .. } = r { *high_per_sec = v }) }
                { num_field(Key::InspLow, per_sec, "insp-rate-low", low_per_sec, |r, v| if let RatePattern::Square { low_per_sec, .. } = r { *low_per_sec = v }) }
                { num_field(Key::InspPeriod, ms, "insp-rate-period", period_ms, |r, v| if let RatePattern::Square { period_ms, .. } = r { *period_ms = v }) }
                { num_field(Key::InspDuty, None, "insp-rate-duty", duty, |r, v| if let RatePattern::Square { duty, .. } = r { *duty = v }) }
            </>
        },
        RatePattern::Ramp {
            from_per_sec,
            to_per_sec,
            over_ms,
        } => html! {
            <>
                { num_field(Key::InspFrom, per_sec, "insp-rate-from", from_per_sec, |r, v| if let RatePattern::Ramp { from_per_sec, .. } = r { *from_per_sec = v }) }
                { num_field(Key::InspTo, per_sec, "insp-rate-to", to_per_sec, |r, v| if let RatePattern::Ramp { to_per_sec, .. } = r { *to_per_sec = v }) }
                { num_field(Key::InspOver, ms, "insp-rate-over", over_ms, |r, v| if let RatePattern::Ramp { over_ms, .. } = r { *over_ms = v }) }
            </>
        },
        RatePattern::Burst { count, at_ms } => html! {
            <p class="insp-note">{ format!("{} {count} @ {} ms", t(l, Key::InspRateBurst), fmt_num(at_ms)) }</p>
        },
        RatePattern::Manual => html! { <p class="insp-note">{ t(l, Key::InspManualNote) }</p> },
    };
    let remove = {
        let (lab, name) = (lab.clone(), name.clone());
        Callback::from(move |_: MouseEvent| {
            // Removing the selected producer closes the inspector.
            if run(
                &lab,
                Command::RemoveProducer {
                    producer: name.clone(),
                },
            )
            .is_none()
            {
                lab.on_select.emit(None);
            }
        })
    };
    html! {
        <>
            { stats }
            { section(t(l, Key::InspFailures), actions) }
            { section(t(l, Key::InspSettings), html! {
                <>
                    <ChoiceField label={t(l, Key::InspPattern)} value={rate_kind(&spec.rate)}
                        options={kinds} testid="insp-pattern" on_commit={on_kind} />
                    { rate_fields }
                    <p class="insp-note">{ t(l, Key::InspTargets) }{ ": " }
                        { spec.targets.iter().map(|tg| target_text(l, tg)).collect::<Vec<_>>().join(", ") }
                    </p>
                </>
            }) }
            <div class="insp-danger">
                <button type="button" class="lab-btn danger" data-testid="insp-remove-producer" onclick={remove}>
                    { t(l, Key::InspRemoveProducer) }
                </button>
            </div>
        </>
    }
}

fn target_text(l: Lang, target: &PublishTarget) -> String {
    match target {
        PublishTarget::Exchange(x) => format!("{} {}", t(l, Key::TagExchange), display_name(l, x)),
        PublishTarget::Channel(c) => format!("{} {c}", t(l, Key::TagChannel)),
        PublishTarget::Topic(tp) => format!("{} {tp}", t(l, Key::InspTopic)),
        PublishTarget::Service(s) => format!("{} {s}", t(l, Key::InspService)),
        PublishTarget::SqsQueue(q) => format!("{} {q}", t(l, Key::TagSqsQueue)),
        PublishTarget::PulsarTopic(tp) => format!("{} {tp}", t(l, Key::InspTopic)),
        PublishTarget::Zmq(s) => format!("{} {s}", t(l, Key::TagZmqSocket)),
        PublishTarget::JmsQueue(q) => format!("{} {q}", t(l, Key::TagQueue)),
        PublishTarget::JmsTopic(tp) => format!("{} {tp}", t(l, Key::InspTopic)),
        PublishTarget::Stream(s) => format!("{} {s}", t(l, Key::TagStream)),
    }
}

fn processing_kind(p: &Processing) -> &'static str {
    match p {
        Processing::Fixed { .. } => "fixed",
        Processing::Exponential { .. } => "exponential",
        Processing::Uniform { .. } => "uniform",
    }
}

/// The mean processing time, kept when the distribution changes.
fn processing_mean(p: &Processing) -> f64 {
    match *p {
        Processing::Fixed { ms } => ms,
        Processing::Exponential { mean_ms } => mean_ms,
        Processing::Uniform { min_ms, max_ms } => (min_ms + max_ms) / 2.0,
    }
}

/// The service a stage consumer works for (issue 14).
pub(crate) fn stage_key(role: StageRole) -> Key {
    match role {
        StageRole::Order => Key::StageOrder,
        StageRole::Payment => Key::StagePayment,
        StageRole::Inventory => Key::StageInventory,
        StageRole::Shipping => Key::StageShipping,
        StageRole::Client => Key::StageClient,
        StageRole::Translator => Key::StageTranslator,
    }
}

fn consumer_body(lab: &Lab, c: &ConsumerModel) -> Html {
    let l = lab.lang;
    let name = c.name.clone();
    let slow = if (c.slow_factor - 1.0).abs() > 1e-9 {
        format!(" · {} ×{}", t(l, Key::InspSlowed), fmt_num(c.slow_factor))
    } else {
        String::new()
    };
    let stats = html! {
        <dl class="insp-stats">
            <div class="stat">
                <dt>{ t(l, Key::InspState) }</dt>
                <dd data-testid="insp-status" data-status={format!("{:?}", c.status).to_lowercase()}>
                    <span class={status_class(c.status)}>{ status_text(l, c.status) }</span>{ slow }
                </dd>
            </div>
            { stat(t(l, Key::InspDelivered), format_count(c.delivered), "insp-delivered") }
            { stat(t(l, Key::LegendRedelivered), format_count(c.redelivered), "insp-redelivered") }
            // A group member commits offsets: acks and prefetch are a queue's notions.
            if c.group.is_none() {
                { stat(t(l, Key::CountAcked), format_count(c.acked), "insp-acked") }
                { stat(t(l, Key::CountUnacked), format!("{} / {}", c.unacked, if c.prefetch == 0 { "∞".to_string() } else { c.prefetch.to_string() }), "insp-unacked") }
            }
            { stat(t(l, Key::InspBusy), format!("{}%", c.busy_pct), "insp-busy") }
            if let Some(role) = c.spec.as_ref().and_then(|s| s.stage) {
                { stat(t(l, Key::InspStage), t(l, stage_key(role)).to_string(), "insp-stage") }
            }
        </dl>
    };
    let actions = html! {
        <ConsumerActions scope="insp" consumer={name.clone()} status={c.status} slow_factor={c.slow_factor} />
    };
    let group = c.group.as_ref().map(|g| group_section(l, g, None));
    let Some(spec) = &c.spec else {
        return html! { <>{ stats }{ section(t(l, Key::InspFailures), actions) }{ for group }</> };
    };
    let field = |label: Key,
                 unit: Option<&str>,
                 testid: &'static str,
                 value: String,
                 on_commit: Commit| {
        html! { <TextField label={t(l, label)} {value} testid={testid} unit={unit.map(AttrValue::from)} {on_commit} /> }
    };
    let processing_fields = {
        let n = name.clone();
        let set_ms =
            move |testid: &'static str, label: Key, value: f64, set: fn(&mut Processing, f64)| {
                let n = n.clone();
                field(
                    label,
                    Some("ms"),
                    testid,
                    fmt_num(value),
                    commit(lab, parse_f64, move |lab, v| {
                        edit_consumer(lab, &n, |s| set(&mut s.processing, v))
                    }),
                )
            };
        match spec.processing {
            Processing::Fixed { ms } => {
                set_ms("insp-processing", Key::InspProcessingTime, ms, |p, v| {
                    *p = Processing::Fixed { ms: v }
                })
            }
            Processing::Exponential { mean_ms } => set_ms(
                "insp-processing",
                Key::InspProcessingMean,
                mean_ms,
                |p, v| *p = Processing::Exponential { mean_ms: v },
            ),
            Processing::Uniform { min_ms, max_ms } => html! {
                <>
                    { set_ms("insp-processing-min", Key::InspProcessingMin, min_ms, |p, v| if let Processing::Uniform { min_ms, .. } = p { *min_ms = v }) }
                    { set_ms("insp-processing-max", Key::InspProcessingMax, max_ms, |p, v| if let Processing::Uniform { max_ms, .. } = p { *max_ms = v }) }
                </>
            },
        }
    };
    let on_processing_kind = {
        let (lab, n) = (lab.clone(), name.clone());
        Callback::from(move |kind: String| {
            edit_consumer(&lab, &n, |s| {
                let mean = processing_mean(&s.processing);
                s.processing = match kind.as_str() {
                    "fixed" => Processing::Fixed { ms: mean },
                    "exponential" => Processing::Exponential { mean_ms: mean },
                    _ => Processing::Uniform {
                        min_ms: mean / 2.0,
                        max_ms: mean * 1.5,
                    },
                };
            })
        })
    };
    let on_ack = {
        let (lab, n) = (lab.clone(), name.clone());
        Callback::from(move |v: String| {
            edit_consumer(&lab, &n, |s| {
                s.ack = if v == "auto" {
                    AckMode::Auto
                } else {
                    AckMode::Manual
                }
            })
        })
    };
    let on_requeue = {
        let (lab, n) = (lab.clone(), name.clone());
        Callback::from(move |v: String| {
            edit_consumer(&lab, &n, |s| s.failure.requeue = v == "requeue")
        })
    };
    let is_queue = matches!(spec.source, ConsumerSource::Queue(_));
    let n = name.clone();
    let prefetch = field(
        Key::InspPrefetch,
        None,
        "insp-prefetch",
        spec.prefetch.to_string(),
        commit(
            lab,
            |l, s| parse_num::<u32>(l, s, Key::InspNotAWholeNumber),
            move |lab, v| edit_consumer(lab, &n, |s| s.prefetch = v),
        ),
    );
    let n = name.clone();
    let priority = field(
        Key::InspPriority,
        None,
        "insp-priority",
        spec.priority.to_string(),
        commit(
            lab,
            |l, s| parse_num::<i32>(l, s, Key::InspNotAWholeNumber),
            move |lab, v| edit_consumer(lab, &n, |s| s.priority = v),
        ),
    );
    let n = name.clone();
    let failure = field(
        Key::InspFailureProbability,
        None,
        "insp-failure",
        fmt_num(spec.failure.probability),
        commit(lab, parse_f64, move |lab, v| {
            edit_consumer(lab, &n, |s| s.failure.probability = v)
        }),
    );
    let remove = {
        let (lab, n) = (lab.clone(), name.clone());
        Callback::from(move |_: MouseEvent| {
            if run(
                &lab,
                Command::RemoveConsumer {
                    consumer: n.clone(),
                },
            )
            .is_none()
            {
                lab.on_select.emit(None);
            }
        })
    };
    html! {
        <>
            { stats }
            { section(t(l, Key::InspFailures), actions) }
            { for group }
            { section(t(l, Key::InspSettings), html! {
                <>
                    <ChoiceField label={t(l, Key::InspProcessing)} value={processing_kind(&spec.processing)}
                        options={options(&[("fixed", t(l, Key::InspFixed)), ("exponential", t(l, Key::InspExponential)), ("uniform", t(l, Key::InspUniform))])}
                        testid="insp-processing-kind" on_commit={on_processing_kind} />
                    { processing_fields }
                    if is_queue {
                        { prefetch }
                        <p class="insp-hint">{ t(l, Key::InspPrefetchHint) }</p>
                        <ChoiceField label={t(l, Key::InspAckMode)} value={if spec.ack == AckMode::Auto { "auto" } else { "manual" }}
                            options={options(&[("manual", t(l, Key::InspManualAck)), ("auto", t(l, Key::AutoAck))])}
                            testid="insp-ack" on_commit={on_ack} />
                        { priority }
                    }
                    { failure }
                    if is_queue {
                        <ChoiceField label={t(l, Key::InspOnFailure)} value={if spec.failure.requeue { "requeue" } else { "drop" }}
                            options={options(&[("requeue", t(l, Key::InspRequeue)), ("drop", t(l, Key::InspDeadLetterOrDrop))])}
                            testid="insp-failure-requeue" on_commit={on_requeue} />
                    }
                </>
            }) }
            if c.status != ConsumerStatus::Removed {
                <div class="insp-danger">
                    <button type="button" class="lab-btn danger" data-testid="insp-remove-consumer" onclick={remove}>
                        { t(l, Key::InspRemoveConsumer) }
                    </button>
                </div>
            }
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_sim::{Scenario, SimTime};

    const LAB: &str = include_str!("../../scenarios/ui/failure-lab.json");

    fn command(json: &str) -> Command {
        serde_json::from_str(json).expect("command JSON")
    }

    fn lab_driver() -> Driver {
        Driver::new(&Scenario::from_json(LAB).expect("lab scenario"), 1).expect("builds")
    }

    /// Issue 10: "Slow ×5" left no mark on the drawing; the consumer's node now says it.
    #[test]
    fn a_slowed_consumer_says_so_on_its_node() {
        let mut d = lab_driver();
        d.run_to(SimTime::from_secs(1));
        let node_text = |d: &Driver, l: Lang| {
            let snap = d.snapshot();
            let node = snap
                .graph
                .nodes
                .iter()
                .find(|n| consumer(&snap, n.node).is_some_and(|c| c.name == "worker-a"))
                .expect("worker-a on stage")
                .clone();
            text(l, &snap, &node)
        };
        assert_eq!(node_text(&d, Lang::En).tone, Tone::Normal);
        d.apply(Command::SlowConsumer {
            consumer: "worker-a".into(),
            factor: 5.0,
        })
        .unwrap();
        let en = node_text(&d, Lang::En);
        assert!(en.stat.ends_with("slowed ×5"), "{}", en.stat);
        assert_eq!(en.tone, Tone::Alert);
        assert!(node_text(&d, Lang::Ko).stat.ends_with("느려짐 ×5"));
    }

    /// ZeroMQ has no acks (ZMQ-1): its consumer counts what it processed, and a RabbitMQ
    /// consumer beside it still counts acks.
    #[test]
    fn zmq_1_a_zeromq_consumer_never_speaks_of_acks() {
        let scenario = crate::presets::scenario("brokerless").unwrap();
        let mut d = Driver::new(&scenario, 1).unwrap();
        d.run_to(SimTime::from_secs(2));
        let snap = d.snapshot();
        let stat = |name: &str| {
            let node = snap.graph.nodes.iter().find(|n| n.name == name).unwrap();
            text(Lang::En, &snap, node).stat
        };
        assert!(
            stat("zmq-app").starts_with("processed "),
            "{}",
            stat("zmq-app")
        );
        assert!(
            stat("rmq-worker").starts_with("acked "),
            "{}",
            stat("rmq-worker")
        );
    }

    #[test]
    fn specs_follow_the_command_log() {
        let mut d = lab_driver();
        d.run_to(SimTime::from_secs(1));
        d.apply(command(
            r#"{"set_rate":{"producer":"shop","rate":{"kind":"constant","per_sec":7}}}"#,
        ))
        .unwrap();
        let mut worker = specs_of(&d).consumer("worker-a").unwrap().clone();
        worker.prefetch = 9;
        d.apply(Command::UpdateConsumer { consumer: worker })
            .unwrap();
        d.apply(command(r#"{"pause_producer":{"producer":"shop"}}"#))
            .unwrap();
        d.apply(command(
            r#"{"add_binding":{"binding":{"exchange":"jobs","queue":"dead","routing_key":"x"}}}"#,
        ))
        .unwrap();
        let s = specs_of(&d);
        assert_eq!(
            s.producer("shop").unwrap().rate,
            RatePattern::Constant { per_sec: 7.0 }
        );
        assert!(s.producer("shop").unwrap().paused);
        assert_eq!(s.consumer("worker-a").unwrap().prefetch, 9);
        assert_eq!(d.snapshot().consumers[0].prefetch, 9, "the core agrees");
        assert_eq!(s.bindings.len(), 3);

        d.apply(command(r#"{"remove_binding":{"binding":{"exchange":"jobs","queue":"dead","routing_key":"x"}}}"#))
            .unwrap();
        assert_eq!(specs_of(&d).bindings.len(), 2);
        // A reset forgets the log, and so do the settings.
        d.reset(1);
        let s = specs_of(&d);
        assert_eq!(s.consumer("worker-a").unwrap().prefetch, 2);
        assert!(!s.producer("shop").unwrap().paused);
    }

    #[test]
    fn scripted_commands_count_once_due() {
        let mut scenario = Scenario::from_json(LAB).unwrap();
        scenario.script.push(broker_sim::scenario::ScriptedCommand {
            at_ms: 2_000.0,
            command: command(r#"{"set_rate":{"producer":"shop","rate":{"kind":"manual"}}}"#),
        });
        let mut d = Driver::new(&scenario, 1).unwrap();
        d.run_to(SimTime::from_secs(1));
        assert!(matches!(
            specs_of(&d).producer("shop").unwrap().rate,
            RatePattern::Constant { .. }
        ));
        d.run_to(SimTime::from_secs(3));
        assert_eq!(
            specs_of(&d).producer("shop").unwrap().rate,
            RatePattern::Manual
        );
    }

    #[test]
    fn invalid_edits_are_refused_by_the_core_and_change_nothing() {
        let mut d = lab_driver();
        let mut worker = specs_of(&d).consumer("worker-a").unwrap().clone();
        worker.prefetch = 999_999;
        let err = d
            .apply(Command::UpdateConsumer { consumer: worker })
            .unwrap_err();
        assert!(err.to_string().contains("prefetch"), "{err}");
        assert_eq!(d.snapshot().consumers[0].prefetch, 2);
        let err = d
            .apply(command(
                r#"{"set_rate":{"producer":"shop","rate":{"kind":"constant","per_sec":-1}}}"#,
            ))
            .unwrap_err();
        assert!(err.to_string().contains("non-negative"), "{err}");
        assert!(d.log().is_empty());
    }

    #[test]
    fn rate_kind_changes_keep_the_rate() {
        let c = RatePattern::Constant { per_sec: 3.0 };
        assert_eq!(
            rate_of_kind("poisson", &c),
            Some(RatePattern::Poisson { per_sec: 3.0 })
        );
        assert!(
            matches!(rate_of_kind("square", &c), Some(RatePattern::Square { low_per_sec, .. }) if low_per_sec == 3.0)
        );
        assert_eq!(rate_of_kind("burst", &c), None);
        let mut d = lab_driver();
        for (kind, _) in RATE_KINDS {
            let rate = rate_of_kind(kind, &c).unwrap();
            assert_eq!(rate_kind(&rate), kind);
            // Every default the select offers is one the core accepts.
            d.apply(Command::SetRate {
                producer: "shop".into(),
                rate,
            })
            .unwrap();
        }
    }

    /// Lesson 13: translator publishes through to-canonical, so that producer's box names it;
    /// a producer no stage owns keeps its plain tag.
    #[test]
    fn a_stages_producer_names_the_consumer_that_publishes_through_it() {
        let scenario = crate::presets::scenario("13-transform").unwrap();
        let d = Driver::new(&scenario, 1).unwrap();
        let snap = d.snapshot();
        let tag = |name: &str| {
            let node = (snap.graph.nodes.iter()).find(|n| n.name == name).unwrap();
            text(Lang::En, &snap, node).tag
        };
        assert_eq!(tag("to-canonical"), "← translator");
        assert_eq!(tag("legacy-shop"), t(Lang::En, Key::TagProducer));
    }
}
