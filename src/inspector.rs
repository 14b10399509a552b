//! The inspector: a side panel for the selected entity, with its live figures, its settings
//! (edited through core commands, so a refused value shows the core's reason and changes
//! nothing), failure buttons, and small forms that add entities around it. The entity picker
//! selects any entity without the canvas.
//!
//! The core keeps no public copy of an entity's current settings, so [`current_specs`] derives
//! them from the scenario, its script and the driver's command log; that also stays right
//! after a reset or a seek.

use crate::driver::Driver;
use crate::i18n::{t, Key, Lang};
use crate::lab::{use_frame_model, use_lab, Lab};
use crate::model::format_count;
use crate::toolbar::{ConsumerActions, ProducerActions};
use broker_sim::assignor::Assignor;
use broker_sim::ids::{ChannelId, ConsumerId, ExchangeId, ProducerId, QueueId};
use broker_sim::scenario::{
    AckMode, BindingSpec, CommitMode, ConsumerSource, ConsumerSpec, ExchangeType, GroupSpec,
    Overflow, Processing, ProducerSpec, PublishTarget, QueueSpec, QueueType, RatePattern,
};
use broker_sim::snapshot::NodeRef;
use broker_sim::specs::Specs;
use broker_sim::ConsumerStatus;
use broker_sim::{Command, Snapshot};
use wasm_bindgen::JsCast;
use yew::prelude::*;

// ------------------------------------------------------------------ current settings

/// Current settings of every entity, answered by the core (no replay of commands here).
fn specs_of(d: &Driver) -> Specs {
    d.sim().specs()
}

// ------------------------------------------------------------------ entity references

/// A selection as an option value of the picker: `q:3`, `pt:0:2`.
pub fn encode(node: NodeRef) -> String {
    match node {
        NodeRef::Producer(p) => format!("p:{}", p.0),
        NodeRef::Exchange(x) => format!("x:{}", x.0),
        NodeRef::Queue(q) => format!("q:{}", q.0),
        NodeRef::Consumer(c) => format!("c:{}", c.0),
        NodeRef::Channel(c) => format!("ch:{}", c.0),
        NodeRef::Topic(t) => format!("t:{t}"),
        NodeRef::Partition(t, p) => format!("pt:{t}:{p}"),
        NodeRef::Service(s) => format!("s:{s}"),
        NodeRef::PulsarTopic(t) => format!("pl:{t}"),
        NodeRef::PulsarPartition(t, p) => format!("plp:{t}:{p}"),
    }
}

pub fn decode(text: &str) -> Option<NodeRef> {
    let mut parts = text.split(':');
    let kind = parts.next()?;
    let a: u32 = parts.next()?.parse().ok()?;
    let b: Option<u32> = parts.next().map(|s| s.parse().ok()).unwrap_or(None);
    let node = match (kind, b) {
        ("p", None) => NodeRef::Producer(ProducerId(a)),
        ("x", None) => NodeRef::Exchange(ExchangeId(a)),
        ("q", None) => NodeRef::Queue(QueueId(a)),
        ("c", None) => NodeRef::Consumer(ConsumerId(a)),
        ("ch", None) => NodeRef::Channel(ChannelId(a)),
        ("t", None) => NodeRef::Topic(a),
        ("pt", Some(b)) => NodeRef::Partition(a, b),
        ("s", None) => NodeRef::Service(a),
        _ => return None,
    };
    (parts.next().is_none()).then_some(node)
}

/// A name that none of `taken` has: `base-1`, `base-2`, ...
pub fn unique_name<'a>(base: &str, taken: impl Iterator<Item = &'a str> + Clone) -> String {
    (1..)
        .map(|i| format!("{base}-{i}"))
        .find(|name| !taken.clone().any(|t| t == name))
        .unwrap_or_else(|| base.to_string())
}

// ------------------------------------------------------------------ the picker

/// Every entity that can be selected, grouped by kind: (kind, [(value, name)]).
#[derive(Clone, PartialEq)]
struct PickerModel {
    groups: Vec<(Key, Vec<(String, String)>)>,
}

fn picker_model(_: &Driver, snap: &Snapshot, _: &()) -> PickerModel {
    let list = |items: Vec<(NodeRef, &str)>| -> Vec<(String, String)> {
        items
            .into_iter()
            .map(|(n, name)| (encode(n), name.to_string()))
            .collect()
    };
    let groups = vec![
        (
            Key::ColProducers,
            list(
                snap.producers
                    .iter()
                    .map(|p| (NodeRef::Producer(p.id), p.name.as_str()))
                    .collect(),
            ),
        ),
        (
            Key::ColExchanges,
            list(
                snap.exchanges
                    .iter()
                    .map(|x| (NodeRef::Exchange(x.id), x.name.as_str()))
                    .collect(),
            ),
        ),
        (
            Key::ColQueues,
            list(
                snap.queues
                    .iter()
                    .map(|q| (NodeRef::Queue(q.id), q.name.as_str()))
                    .collect(),
            ),
        ),
        (
            Key::ColConsumers,
            list(
                snap.consumers
                    .iter()
                    .filter(|c| c.status != ConsumerStatus::Removed)
                    .map(|c| (NodeRef::Consumer(c.id), c.name.as_str()))
                    .collect(),
            ),
        ),
        (
            Key::ColChannels,
            list(
                snap.channels
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (NodeRef::Channel(ChannelId(i as u32)), c.as_str()))
                    .collect(),
            ),
        ),
        (
            Key::InspTopics,
            list(
                snap.topics
                    .iter()
                    .map(|t| (NodeRef::Topic(t.id), t.name.as_str()))
                    .collect(),
            ),
        ),
        (
            Key::InspServices,
            list(
                snap.services
                    .iter()
                    .map(|s| (NodeRef::Service(s.id), s.name.as_str()))
                    .collect(),
            ),
        ),
    ];
    PickerModel {
        groups: groups
            .into_iter()
            .filter(|(_, items)| !items.is_empty())
            .collect(),
    }
}

/// A select listing every entity; choosing one opens it in the inspector.
#[function_component(EntityPicker)]
pub fn entity_picker() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let m = use_frame_model((), picker_model);
    let selected = lab.selection.map(encode).unwrap_or_default();
    let onchange = {
        let on_select = lab.on_select.clone();
        Callback::from(move |e: Event| {
            if let Some(s) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
            {
                on_select.emit(decode(&s.value()));
            }
        })
    };
    html! {
        <label class="lab-picker">
            <span class="speed-label">{ t(l, Key::InspInspect) }</span>
            <select data-testid="inspect-select" {onchange} title={t(l, Key::InspPickerHint)}>
                <option value="" selected={selected.is_empty()}>{ t(l, Key::InspNone) }</option>
                { for m.groups.iter().map(|(kind, items)| html! {
                    <optgroup label={t(l, *kind)}>
                        { for items.iter().map(|(value, name)| html! {
                            <option value={value.clone()} selected={*value == selected}>
                                { display_name(l, name) }
                            </option>
                        }) }
                    </optgroup>
                }) }
            </select>
        </label>
    }
}

/// The default exchange's name is empty; it is shown as "(default)".
fn display_name(l: Lang, name: &str) -> String {
    if name.is_empty() {
        t(l, Key::DefaultExchange).to_string()
    } else {
        name.to_string()
    }
}

// ------------------------------------------------------------------ the inspector's model

/// Names the forms offer as choices and avoid as new names.
#[derive(Clone, Debug, Default, PartialEq)]
struct Names {
    exchanges: Vec<String>,
    queues: Vec<String>,
    producers: Vec<String>,
    consumers: Vec<String>,
    groups: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
struct GroupInfo {
    name: String,
    assignor: Assignor,
    commit: Option<CommitMode>,
    lag: u64,
    members: Vec<String>,
    rebalancing: bool,
}

#[derive(Clone, Debug, PartialEq)]
struct ProducerModel {
    name: String,
    sent: u64,
    paused: bool,
    spec: Option<ProducerSpec>,
}

#[derive(Clone, Debug, PartialEq)]
struct ExchangeModel {
    name: String,
    kind: ExchangeType,
    bindings: Vec<BindingSpec>,
}

#[derive(Clone, Debug, PartialEq)]
struct QueueModel {
    name: String,
    kind: QueueType,
    ready: u64,
    unacked: u64,
    consumers: Vec<String>,
    redelivered: u64,
    spec: Option<QueueSpec>,
    bindings: Vec<BindingSpec>,
}

#[derive(Clone, Debug, PartialEq)]
struct ConsumerModel {
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

#[derive(Clone, Debug, PartialEq)]
struct TopicModel {
    name: String,
    /// (index, log start, log end).
    partitions: Vec<(u32, u64, u64)>,
    focus: Option<u32>,
    retention_ms: f64,
    retention_bytes: i64,
    groups: Vec<GroupInfo>,
}

#[derive(Clone, Debug, PartialEq)]
struct ServiceModel {
    name: String,
    concurrency: u32,
    busy: u32,
    waiting: u64,
    served: u64,
    rejected: u64,
    timed_out: u64,
}

#[derive(Clone, Debug, PartialEq)]
enum Entity {
    /// The selection names something that no longer exists (after a reset, say).
    Gone,
    Producer(ProducerModel),
    Exchange(ExchangeModel),
    Queue(QueueModel),
    Consumer(ConsumerModel),
    Topic(TopicModel),
    Channel {
        name: String,
        subscribers: Vec<String>,
    },
    Service(ServiceModel),
}

#[derive(Clone, Debug, PartialEq)]
struct InspectorModel {
    entity: Entity,
    names: Names,
}

fn group_info(snap: &Snapshot, specs: &Specs, id: u32) -> Option<GroupInfo> {
    let g = snap.groups.iter().find(|g| g.id == id)?;
    Some(GroupInfo {
        name: g.name.clone(),
        assignor: g.assignor,
        commit: specs
            .groups
            .iter()
            .find(|s| s.name == g.name)
            .map(|s| s.commit.clone()),
        lag: g.lag,
        members: g
            .members
            .iter()
            .filter_map(|(c, _)| snap.consumers.iter().find(|v| v.id == *c))
            .map(|c| c.name.clone())
            .collect(),
        rebalancing: g.rebalancing,
    })
}

fn inspector_model(
    d: &Driver,
    snap: &Snapshot,
    selection: &Option<NodeRef>,
) -> Option<InspectorModel> {
    let node = (*selection)?;
    let specs = specs_of(d);
    let names = Names {
        exchanges: snap.exchanges.iter().map(|x| x.name.clone()).collect(),
        queues: snap.queues.iter().map(|q| q.name.clone()).collect(),
        producers: snap.producers.iter().map(|p| p.name.clone()).collect(),
        consumers: snap.consumers.iter().map(|c| c.name.clone()).collect(),
        groups: snap.groups.iter().map(|g| g.name.clone()).collect(),
    };
    let entity = match node {
        NodeRef::Producer(id) => snap.producers.iter().find(|p| p.id == id).map(|p| {
            Entity::Producer(ProducerModel {
                name: p.name.clone(),
                sent: p.sent,
                paused: p.paused,
                spec: specs.producer(&p.name).cloned(),
            })
        }),
        NodeRef::Exchange(id) => snap.exchanges.iter().find(|x| x.id == id).map(|x| {
            Entity::Exchange(ExchangeModel {
                name: x.name.clone(),
                kind: x.kind,
                bindings: specs
                    .bindings
                    .iter()
                    .filter(|b| b.exchange == x.name)
                    .cloned()
                    .collect(),
            })
        }),
        NodeRef::Queue(id) => snap.queues.iter().find(|q| q.id == id).map(|q| {
            Entity::Queue(QueueModel {
                name: q.name.clone(),
                kind: q.kind,
                ready: q.ready,
                unacked: q.unacked,
                consumers: snap
                    .consumers
                    .iter()
                    .filter(|c| q.consumers.contains(&c.id))
                    .map(|c| c.name.clone())
                    .collect(),
                redelivered: snap
                    .consumers
                    .iter()
                    .filter(|c| c.source == Some(NodeRef::Queue(q.id)))
                    .map(|c| c.redelivered)
                    .sum(),
                spec: specs.queue(&q.name).cloned(),
                bindings: specs
                    .bindings
                    .iter()
                    .filter(|b| b.queue.as_deref() == Some(q.name.as_str()))
                    .cloned()
                    .collect(),
            })
        }),
        NodeRef::Consumer(id) => snap.consumers.iter().find(|c| c.id == id).map(|c| {
            Entity::Consumer(ConsumerModel {
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
        NodeRef::Topic(id) | NodeRef::Partition(id, _) => {
            snap.topics.iter().find(|t| t.id == id).map(|topic| {
                Entity::Topic(TopicModel {
                    name: topic.name.clone(),
                    partitions: topic
                        .partitions
                        .iter()
                        .map(|p| (p.index, p.log_start, p.log_end))
                        .collect(),
                    focus: match node {
                        NodeRef::Partition(_, p) => Some(p),
                        _ => None,
                    },
                    retention_ms: topic.retention_ms,
                    retention_bytes: topic.retention_bytes,
                    groups: specs
                        .groups
                        .iter()
                        .filter(|g| g.topics.contains(&topic.name))
                        .filter_map(|g| snap.groups.iter().find(|v| v.name == g.name))
                        .filter_map(|g| group_info(snap, &specs, g.id))
                        .collect(),
                })
            })
        }
        NodeRef::Channel(id) => snap.channels.get(id.index()).map(|name| Entity::Channel {
            name: name.clone(),
            subscribers: snap
                .consumers
                .iter()
                .filter(|c| c.subscriptions.iter().any(|s| s == name))
                .map(|c| c.name.clone())
                .collect(),
        }),
        NodeRef::Service(id) => snap.services.iter().find(|s| s.id == id).map(|s| {
            Entity::Service(ServiceModel {
                name: s.name.clone(),
                concurrency: s.concurrency,
                busy: s.busy,
                waiting: s.waiting,
                served: s.served,
                rejected: s.rejected,
                timed_out: s.timed_out,
            })
        }),
        NodeRef::PulsarTopic(_) | NodeRef::PulsarPartition(..) => None,
    };
    Some(InspectorModel {
        entity: entity.unwrap_or(Entity::Gone),
        names,
    })
}

// ------------------------------------------------------------------ parsing and applying

fn parse_num<T: std::str::FromStr>(l: Lang, text: &str, what: Key) -> Result<T, String> {
    text.trim()
        .parse::<T>()
        .map_err(|_| format!("{} {:?}", t(l, what), text.trim()))
}

fn parse_f64(l: Lang, text: &str) -> Result<f64, String> {
    parse_num(l, text, Key::InspNotANumber)
}

/// Blank means "not set".
fn parse_opt<T: std::str::FromStr>(l: Lang, text: &str, what: Key) -> Result<Option<T>, String> {
    if text.trim().is_empty() {
        Ok(None)
    } else {
        parse_num(l, text, what).map(Some)
    }
}

/// Applies a command; the refusal, if any, as the text to show next to the field.
fn run(lab: &Lab, command: Command) -> Option<String> {
    lab.apply(command).err().map(|e| e.to_string())
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

fn edit_queue(lab: &Lab, name: &str, f: impl FnOnce(&mut QueueSpec)) -> Option<String> {
    let spec = specs_of(&lab.driver.borrow()).queue(name).cloned();
    let Some(mut spec) = spec else {
        return Some(format!("no queue named {name:?}"));
    };
    f(&mut spec);
    run(lab, Command::UpdateQueue { queue: spec })
}

/// A field's commit handler: parse the text, then edit. Both steps may refuse.
type Commit = Callback<String, Option<String>>;

fn commit<T: 'static>(
    lab: &Lab,
    parse: impl Fn(Lang, &str) -> Result<T, String> + 'static,
    edit: impl Fn(&Lab, T) -> Option<String> + 'static,
) -> Commit {
    let lab = lab.clone();
    Callback::from(move |text: String| match parse(lab.lang, &text) {
        Ok(v) => edit(&lab, v),
        Err(e) => Some(e),
    })
}

fn fmt_num(x: f64) -> String {
    // Rust prints 2.0 as "2" and 0.25 as "0.25": what a teacher would type.
    format!("{x}")
}

fn fmt_opt<T: ToString>(x: Option<T>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

// ------------------------------------------------------------------ fields

#[derive(Properties, PartialEq)]
pub struct FieldProps {
    pub label: AttrValue,
    /// The current value as text; "" when not set.
    pub value: AttrValue,
    pub testid: AttrValue,
    pub on_commit: Commit,
    #[prop_or_default]
    pub unit: Option<AttrValue>,
    #[prop_or_default]
    pub placeholder: Option<AttrValue>,
}

/// A text field that applies its value on Enter or when it loses focus. A refused value stays
/// in the field with the reason beside it; Esc puts the current value back.
#[function_component(TextField)]
pub fn text_field(p: &FieldProps) -> Html {
    let draft = use_state(|| None::<String>);
    let error = use_state(|| None::<String>);
    {
        // The value changed underneath (an applied edit, a reset): show it.
        let (draft, error) = (draft.clone(), error.clone());
        use_effect_with(p.value.clone(), move |_| {
            draft.set(None);
            error.set(None);
        });
    }
    let oninput = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(i) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                draft.set(Some(i.value()));
            }
        })
    };
    let onchange = {
        let (draft, error, on_commit) = (draft.clone(), error.clone(), p.on_commit.clone());
        Callback::from(move |e: Event| {
            if let Some(i) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                let text = i.value();
                error.set(on_commit.emit(text.clone()));
                draft.set(Some(text));
            }
        })
    };
    let onkeydown = {
        let (draft, error) = (draft.clone(), error.clone());
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                e.stop_propagation();
                draft.set(None);
                error.set(None);
            }
        })
    };
    let shown = (*draft).clone().unwrap_or_else(|| p.value.to_string());
    let error_id = format!("{}-error", p.testid);
    html! {
        <div class="field">
            <label class="field-row">
                <span class="field-label">{ p.label.clone() }</span>
                <span class="field-input">
                    <input type="text" inputmode="decimal" value={shown} data-testid={p.testid.clone()}
                        placeholder={p.placeholder.clone()} {oninput} {onchange} {onkeydown}
                        aria-invalid={error.is_some().to_string()}
                        aria-describedby={error.is_some().then(|| error_id.clone())} />
                    if let Some(unit) = &p.unit { <span class="field-unit">{ unit.clone() }</span> }
                </span>
            </label>
            if let Some(e) = &*error {
                <span class="lab-error" role="alert" id={error_id.clone()} data-testid={error_id.clone()}>{ e.clone() }</span>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct ChoiceProps {
    pub label: AttrValue,
    pub value: AttrValue,
    /// (value, text)
    pub options: Vec<(AttrValue, AttrValue)>,
    pub testid: AttrValue,
    pub on_commit: Commit,
}

/// A select applied on change; a refused choice goes back to the current one, with the reason.
#[function_component(ChoiceField)]
pub fn choice_field(p: &ChoiceProps) -> Html {
    let error = use_state(|| None::<String>);
    let select = use_node_ref();
    {
        let error = error.clone();
        use_effect_with(p.value.clone(), move |_| error.set(None));
    }
    let onchange = {
        let (error, on_commit, select, current) = (
            error.clone(),
            p.on_commit.clone(),
            select.clone(),
            p.value.clone(),
        );
        Callback::from(move |_: Event| {
            let Some(s) = select.cast::<web_sys::HtmlSelectElement>() else {
                return;
            };
            let refused = on_commit.emit(s.value());
            if refused.is_some() {
                s.set_value(&current);
            }
            error.set(refused);
        })
    };
    let error_id = format!("{}-error", p.testid);
    html! {
        <div class="field">
            <label class="field-row">
                <span class="field-label">{ p.label.clone() }</span>
                <select ref={select} data-testid={p.testid.clone()} {onchange}
                    aria-describedby={error.is_some().then(|| error_id.clone())}>
                    { for p.options.iter().map(|(v, text)| html! {
                        <option value={v.clone()} selected={*v == p.value}>{ text.clone() }</option>
                    }) }
                </select>
            </label>
            if let Some(e) = &*error {
                <span class="lab-error" role="alert" id={error_id.clone()} data-testid={error_id.clone()}>{ e.clone() }</span>
            }
        </div>
    }
}

fn options(items: &[(&str, &str)]) -> Vec<(AttrValue, AttrValue)> {
    items
        .iter()
        .map(|(v, text)| {
            (
                AttrValue::from(v.to_string()),
                AttrValue::from(text.to_string()),
            )
        })
        .collect()
}

/// A read-only figure.
fn stat(label: &str, value: String, testid: &'static str) -> Html {
    html! {
        <div class="stat">
            <dt>{ label.to_string() }</dt>
            <dd data-testid={testid}>{ value }</dd>
        </div>
    }
}

pub fn status_text(l: Lang, s: ConsumerStatus) -> &'static str {
    match s {
        ConsumerStatus::Running => t(l, Key::InspRunning),
        ConsumerStatus::Crashed => t(l, Key::StatusCrashed),
        ConsumerStatus::Disconnected => t(l, Key::StatusDisconnected),
        ConsumerStatus::Removed => t(l, Key::StatusRemoved),
    }
}

pub fn status_class(s: ConsumerStatus) -> &'static str {
    match s {
        ConsumerStatus::Running => "lab-status running",
        ConsumerStatus::Crashed => "lab-status crashed",
        ConsumerStatus::Disconnected | ConsumerStatus::Removed => "lab-status stopped",
    }
}

// ------------------------------------------------------------------ the panel

#[function_component(Inspector)]
pub fn inspector() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let Some(m) = use_frame_model(lab.selection, inspector_model) else {
        return html! {};
    };
    let close = {
        let on_select = lab.on_select.clone();
        Callback::from(move |_: MouseEvent| on_select.emit(None))
    };
    let (kind, name) = match &m.entity {
        Entity::Gone => (t(l, Key::InspGoneKind), String::new()),
        Entity::Producer(p) => (t(l, Key::TagProducer), p.name.clone()),
        Entity::Exchange(x) => (t(l, Key::TagExchange), display_name(l, &x.name)),
        Entity::Queue(q) => (t(l, Key::TagQueue), q.name.clone()),
        Entity::Consumer(c) => (t(l, Key::TagConsumer), c.name.clone()),
        Entity::Topic(tp) => (t(l, Key::InspTopic), tp.name.clone()),
        Entity::Channel { name, .. } => (t(l, Key::TagChannel), name.clone()),
        Entity::Service(s) => (t(l, Key::InspService), s.name.clone()),
    };
    let body = match &m.entity {
        Entity::Gone => html! { <p class="insp-note">{ t(l, Key::InspGone) }</p> },
        Entity::Producer(p) => producer_body(&lab, p),
        Entity::Exchange(x) => exchange_body(&lab, x, &m.names),
        Entity::Queue(q) => queue_body(&lab, q, &m.names),
        Entity::Consumer(c) => consumer_body(&lab, c),
        Entity::Topic(tp) => topic_body(&lab, tp, &m.names),
        Entity::Channel { subscribers, .. } => html! {
            <>
                <dl class="insp-stats">
                    { stat(t(l, Key::InspSubscribers), subscribers.len().to_string(), "insp-subscribers") }
                </dl>
                <p class="insp-note">{ t(l, Key::InspChannelNote) }</p>
            </>
        },
        Entity::Service(s) => html! {
            <>
                <dl class="insp-stats">
                    { stat(t(l, Key::InspConcurrency), format!("{} / {}", s.busy, s.concurrency), "insp-busy") }
                    { stat(t(l, Key::InspWaiting), format_count(s.waiting), "insp-waiting") }
                    { stat(t(l, Key::InspServed), format_count(s.served), "insp-served") }
                    { stat(t(l, Key::InspRejected), format_count(s.rejected), "insp-rejected") }
                    { stat(t(l, Key::InspTimedOut), format_count(s.timed_out), "insp-timed-out") }
                </dl>
                <p class="insp-note">{ t(l, Key::InspReadOnlyNote) }</p>
            </>
        },
    };
    // Keyed by the selection, so a field's half-typed text never carries over to another entity.
    let key = lab.selection.map(encode).unwrap_or_default();
    html! {
        <aside class="inspector" data-testid="inspector" aria-labelledby="insp-title">
            <div class="insp-head">
                <div class="insp-titles">
                    <span class="insp-kind">{ kind }</span>
                    <h2 id="insp-title" data-testid="inspector-title">{ name }</h2>
                </div>
                <button type="button" class="insp-close" data-testid="inspector-close" onclick={close}
                    aria-label={t(l, Key::InspClose)} title={t(l, Key::InspClose)}>{ "✕" }</button>
            </div>
            <div class="insp-body" key={key}>{ body }</div>
        </aside>
    }
}

fn section(title: &str, content: Html) -> Html {
    html! {
        <section class="insp-section">
            <h3>{ title.to_string() }</h3>
            { content }
        </section>
    }
}

// ---- producer

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
            num_field(Key::InspRate, per_sec, "insp-rate", v, |r, v| match r {
                RatePattern::Constant { per_sec } | RatePattern::Poisson { per_sec } => {
                    *per_sec = v
                }
                _ => {}
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
        PublishTarget::PulsarTopic(tp) => format!("{} {tp}", t(l, Key::InspTopic)),
    }
}

// ---- consumer

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
        </dl>
    };
    let actions = html! {
        <ConsumerActions scope="insp" consumer={name.clone()} status={c.status} slow_factor={c.slow_factor} />
    };
    let group = c.group.as_ref().map(|g| group_view(l, g, None));
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

fn commit_text(l: Lang, c: &Option<CommitMode>) -> String {
    match c {
        Some(CommitMode::Auto { interval_ms }) => format!(
            "{} ({} ms)",
            t(l, Key::InspCommitAuto),
            fmt_num(*interval_ms)
        ),
        Some(CommitMode::AfterProcessing { every }) => {
            format!("{} ({every})", t(l, Key::InspCommitAfter))
        }
        Some(CommitMode::BeforeProcessing) => t(l, Key::InspCommitBefore).to_string(),
        None => "—".to_string(),
    }
}

fn assignor_text(a: Assignor) -> &'static str {
    match a {
        Assignor::Range => "range",
        Assignor::RoundRobin => "round-robin",
        Assignor::Sticky => "sticky",
        Assignor::CooperativeSticky => "cooperative-sticky",
    }
}

/// A consumer group's read-only settings and figures; `add_member` adds the member button.
fn group_view(l: Lang, g: &GroupInfo, add_member: Option<Html>) -> Html {
    html! {
        <section class="insp-section insp-group" data-testid={format!("insp-group-{}", g.name)}>
            <h3>{ t(l, Key::InspGroup) }{ " " }<span data-testid="insp-group-name">{ g.name.clone() }</span></h3>
            <dl class="insp-stats">
                { stat(t(l, Key::InspLag), format_count(g.lag), "insp-group-lag") }
                { stat(t(l, Key::InspAssignor), assignor_text(g.assignor).to_string(), "insp-group-assignor") }
                <div class="stat wide">
                    <dt>{ t(l, Key::InspCommit) }</dt>
                    <dd data-testid="insp-group-commit">{ commit_text(l, &g.commit) }</dd>
                </div>
                <div class="stat wide">
                    <dt>{ t(l, Key::InspMembers) }</dt>
                    <dd>{ if g.members.is_empty() { "—".to_string() } else { g.members.join(", ") } }
                        if g.rebalancing { { " · " }{ t(l, Key::InspRebalancing) } }</dd>
                </div>
            </dl>
            <p class="insp-hint">{ t(l, Key::InspGroupFixed) }</p>
            { for add_member }
        </section>
    }
}

// ---- queue

const OVERFLOWS: [(&str, &str); 3] = [
    ("drop-head", "drop-head"),
    ("reject-publish", "reject-publish"),
    ("reject-publish-dlx", "reject-publish-dlx"),
];

fn overflow_value(o: Overflow) -> &'static str {
    match o {
        Overflow::DropHead => "drop-head",
        Overflow::RejectPublish => "reject-publish",
        Overflow::RejectPublishDlx => "reject-publish-dlx",
    }
}

fn queue_body(lab: &Lab, q: &QueueModel, names: &Names) -> Html {
    let l = lab.lang;
    let name = q.name.clone();
    let stats = html! {
        <dl class="insp-stats">
            { stat(t(l, Key::CountReady), format_count(q.ready), "insp-ready") }
            { stat(t(l, Key::CountUnacked), format_count(q.unacked), "insp-queue-unacked") }
            { stat(t(l, Key::LegendRedelivered), format_count(q.redelivered), "insp-queue-redelivered") }
            { stat(t(l, Key::InspType), match q.kind { QueueType::Classic => "classic", QueueType::Quorum => "quorum" }.to_string(), "insp-queue-type") }
            <div class="stat wide">
                <dt>{ t(l, Key::ColConsumers) }</dt>
                <dd>{ if q.consumers.is_empty() { "—".to_string() } else { q.consumers.join(", ") } }</dd>
            </div>
        </dl>
    };
    let bindings = bindings_view(lab, &q.bindings, BindingSide::Queue);
    let add_binding = html! {
        <AddBinding queue={Some(AttrValue::from(name.clone()))} exchange={None::<AttrValue>}
            choices={names.exchanges.iter().filter(|x| !x.is_empty()).cloned().collect::<Vec<_>>()} />
    };
    let add_consumer = html! {
        <AddConsumer source={ConsumerSourceProp::Queue(name.clone())} taken={names.consumers.clone()} />
    };
    let Some(spec) = &q.spec else {
        return html! { <>{ stats }{ bindings }{ add_binding }{ add_consumer }</> };
    };
    let n = name.clone();
    let max_length = html! {
        <TextField label={t(l, Key::InspMaxLength)} value={fmt_opt(spec.max_length)} testid="insp-max-length"
            placeholder={t(l, Key::InspNoLimit)}
            on_commit={commit(lab, |l, s| parse_opt::<u64>(l, s, Key::InspNotAWholeNumber), move |lab, v| edit_queue(lab, &n, |q| q.max_length = v))} />
    };
    let on_overflow = {
        let (lab, n) = (lab.clone(), name.clone());
        Callback::from(move |v: String| {
            edit_queue(&lab, &n, |q| {
                q.overflow = match v.as_str() {
                    "reject-publish" => Overflow::RejectPublish,
                    "reject-publish-dlx" => Overflow::RejectPublishDlx,
                    _ => Overflow::DropHead,
                }
            })
        })
    };
    let n = name.clone();
    let ttl = html! {
        <TextField label={t(l, Key::InspTtl)} value={spec.message_ttl_ms.map(fmt_num).unwrap_or_default()} testid="insp-ttl"
            unit={AttrValue::from("ms")} placeholder={t(l, Key::InspNoLimit)}
            on_commit={commit(lab, |l, s| parse_opt::<f64>(l, s, Key::InspNotANumber), move |lab, v| edit_queue(lab, &n, |q| q.message_ttl_ms = v))} />
    };
    // "-" for none, "=name" for an exchange (the default exchange's name is empty).
    let mut dlx_options = vec![(AttrValue::from("-"), AttrValue::from(t(l, Key::InspNone)))];
    dlx_options.extend(names.exchanges.iter().map(|x| {
        (
            AttrValue::from(format!("={x}")),
            AttrValue::from(display_name(l, x)),
        )
    }));
    let on_dlx = {
        let (lab, n) = (lab.clone(), name.clone());
        Callback::from(move |v: String| {
            edit_queue(&lab, &n, |q| {
                q.dead_letter_exchange = v.strip_prefix('=').map(str::to_string)
            })
        })
    };
    let n = name.clone();
    let dlx_key = html! {
        <TextField label={t(l, Key::InspDlxRouting)} value={spec.dead_letter_routing_key.clone().unwrap_or_default()}
            testid="insp-dlx-key" placeholder={t(l, Key::InspOwnRouting)}
            on_commit={commit(lab, |_, s| Ok::<_, String>((!s.trim().is_empty()).then(|| s.trim().to_string())), move |lab, v| edit_queue(lab, &n, |q| q.dead_letter_routing_key = v))} />
    };
    let n = name.clone();
    let delivery_limit = if spec.kind == QueueType::Quorum {
        html! {
            <TextField label={t(l, Key::InspDeliveryLimit)} value={fmt_opt(spec.delivery_limit)} testid="insp-delivery-limit"
                placeholder="20"
                on_commit={commit(lab, |l, s| parse_opt::<i64>(l, s, Key::InspNotAWholeNumber), move |lab, v| edit_queue(lab, &n, |q| q.delivery_limit = v))} />
        }
    } else {
        html! { <p class="insp-hint">{ t(l, Key::InspDeliveryLimitQuorum) }</p> }
    };
    html! {
        <>
            { stats }
            { section(t(l, Key::InspSettings), html! {
                <>
                    { max_length }
                    <ChoiceField label={t(l, Key::InspOverflow)} value={overflow_value(spec.overflow)}
                        options={options(&OVERFLOWS)} testid="insp-overflow" on_commit={on_overflow} />
                    { ttl }
                    <ChoiceField label={t(l, Key::InspDlx)}
                        value={spec.dead_letter_exchange.as_ref().map_or_else(|| "-".to_string(), |x| format!("={x}"))}
                        options={dlx_options} testid="insp-dlx" on_commit={on_dlx} />
                    { dlx_key }
                    { delivery_limit }
                </>
            }) }
            { bindings }
            { add_binding }
            { add_consumer }
        </>
    }
}

#[derive(Clone, Copy, PartialEq)]
enum BindingSide {
    Exchange,
    Queue,
}

/// The bindings of an exchange or a queue, each with a remove button.
fn bindings_view(lab: &Lab, bindings: &[BindingSpec], side: BindingSide) -> Html {
    let l = lab.lang;
    let rows = bindings.iter().enumerate().map(|(i, b)| {
        let other = match side {
            BindingSide::Exchange => b
                .queue
                .clone()
                .or_else(|| b.to_exchange.clone())
                .unwrap_or_default(),
            BindingSide::Queue => b.exchange.clone(),
        };
        let remove = {
            let (lab, b) = (lab.clone(), b.clone());
            Callback::from(move |_: MouseEvent| {
                // A refusal here would mean the list is stale; the next frame corrects it.
                let _ = run(&lab, Command::RemoveBinding { binding: b.clone() });
            })
        };
        html! {
            <li>
                <span class="binding-text">
                    { other }{ " · " }{ t(l, Key::VerbBind) }{ " " }
                    <code>{ if b.routing_key.is_empty() { "\"\"".to_string() } else { b.routing_key.clone() } }</code>
                </span>
                <button type="button" class="lab-btn small" data-testid={format!("insp-unbind-{i}")} onclick={remove}
                    aria-label={format!("{} {}", t(l, Key::InspUnbind), b.routing_key)}>
                    { t(l, Key::InspUnbind) }
                </button>
            </li>
        }
    });
    section(
        t(l, Key::InspBindings),
        if bindings.is_empty() {
            html! { <p class="insp-note">{ "—" }</p> }
        } else {
            html! { <ul class="insp-bindings" data-testid="insp-bindings">{ for rows }</ul> }
        },
    )
}

// ---- exchange

fn exchange_body(lab: &Lab, x: &ExchangeModel, names: &Names) -> Html {
    let l = lab.lang;
    let kind = match x.kind {
        ExchangeType::Direct => "direct",
        ExchangeType::Fanout => "fanout",
        ExchangeType::Topic => "topic",
        ExchangeType::Headers => "headers",
    };
    let is_default = x.name.is_empty();
    html! {
        <>
            <dl class="insp-stats">
                { stat(t(l, Key::InspType), kind.to_string(), "insp-exchange-type") }
            </dl>
            if is_default {
                <p class="insp-note">{ t(l, Key::InspDefaultExchangeNote) }</p>
            } else {
                { bindings_view(lab, &x.bindings, BindingSide::Exchange) }
                <AddBinding exchange={Some(AttrValue::from(x.name.clone()))} queue={None::<AttrValue>}
                    choices={names.queues.clone()} />
            }
            <AddQueue exchange={x.name.clone()} taken={names.queues.clone()} />
            <AddProducer target={TargetProp::Exchange(x.name.clone())}
                key_hint={if is_default { names.queues.first().cloned().unwrap_or_default() } else { String::new() }}
                taken={names.producers.clone()} />
        </>
    }
}

// ---- topic

fn topic_body(lab: &Lab, tp: &TopicModel, names: &Names) -> Html {
    let l = lab.lang;
    let rows = tp.partitions.iter().map(|(i, start, end)| {
        let class = if tp.focus == Some(*i) { "focus" } else { "" };
        html! {
            <tr class={class}>
                <td>{ format!("P{i}") }</td>
                <td>{ format_count(*start) }</td>
                <td>{ format_count(*end) }</td>
            </tr>
        }
    });
    let retention = if tp.retention_ms < 0.0 {
        "∞".to_string()
    } else {
        fmt_duration(tp.retention_ms)
    };
    let retention_bytes = if tp.retention_bytes < 0 {
        "∞".to_string()
    } else {
        format_count(tp.retention_bytes as u64)
    };
    let groups = tp.groups.iter().map(|g| {
        let add = html! {
            <AddConsumer source={ConsumerSourceProp::Group(g.name.clone())} taken={names.consumers.clone()} />
        };
        group_view(l, g, Some(add))
    });
    // The groups (their lag) first: that is what a lag demo watches.
    html! {
        <>
            <dl class="insp-stats">
                { stat(t(l, Key::InspPartitions), tp.partitions.len().to_string(), "insp-partitions") }
                { stat(t(l, Key::InspRetention), retention, "insp-retention") }
                { stat(t(l, Key::InspRetentionBytes), retention_bytes, "insp-retention-bytes") }
            </dl>
            <p class="insp-hint">{ t(l, Key::InspTopicFixed) }</p>
            { for groups }
            <table class="insp-table">
                <thead><tr><th>{ t(l, Key::InspPartition) }</th><th>{ t(l, Key::InspLogStart) }</th><th>{ t(l, Key::InspLogEnd) }</th></tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
            <AddGroup topic={tp.name.clone()} taken={names.groups.clone()} taken_consumers={names.consumers.clone()} />
            <AddProducer target={TargetProp::Topic(tp.name.clone())} key_hint={String::new()} taken={names.producers.clone()} />
        </>
    }
}

/// A duration in the largest whole unit: `7 d`, `5 h`, `90 s`, `250 ms`.
fn fmt_duration(ms: f64) -> String {
    const UNITS: [(f64, &str); 4] = [
        (86_400_000.0, "d"),
        (3_600_000.0, "h"),
        (60_000.0, "min"),
        (1_000.0, "s"),
    ];
    UNITS
        .iter()
        .find(|(size, _)| ms >= *size && (ms / size).fract() == 0.0)
        .map_or_else(
            || format!("{} ms", fmt_num(ms)),
            |(size, unit)| format!("{} {unit}", fmt_num(ms / size)),
        )
}

// ------------------------------------------------------------------ add forms

/// A collapsible "add" form: its fields, an Add button and the refusal, if any.
fn add_form(
    l: Lang,
    title: Key,
    testid: &'static str,
    fields: Html,
    onsubmit: Callback<SubmitEvent>,
    error: &Option<String>,
) -> Html {
    html! {
        <details class="insp-add" data-testid={testid}>
            <summary>{ "＋ " }{ t(l, title) }</summary>
            <form {onsubmit}>
                { fields }
                <button type="submit" class="lab-btn primary" data-testid={format!("{testid}-submit")}>{ t(l, Key::InspAdd) }</button>
                if let Some(e) = error {
                    <span class="lab-error" role="alert" data-testid={format!("{testid}-error")}>{ e.clone() }</span>
                }
            </form>
        </details>
    }
}

/// A plain input bound to a state handle.
fn input(label: &str, state: &UseStateHandle<String>, testid: &'static str) -> Html {
    let oninput = {
        let state = state.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(i) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                state.set(i.value());
            }
        })
    };
    html! {
        <label class="field-row">
            <span class="field-label">{ label.to_string() }</span>
            <input type="text" value={(**state).clone()} data-testid={testid} {oninput} />
        </label>
    }
}

fn select(
    label: &str,
    state: &UseStateHandle<String>,
    choices: &[(String, String)],
    testid: &'static str,
) -> Html {
    let onchange = {
        let state = state.clone();
        Callback::from(move |e: Event| {
            if let Some(s) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
            {
                state.set(s.value());
            }
        })
    };
    html! {
        <label class="field-row">
            <span class="field-label">{ label.to_string() }</span>
            <select data-testid={testid} {onchange}>
                { for choices.iter().map(|(v, text)| html! {
                    <option value={v.clone()} selected={**state == *v}>{ text.clone() }</option>
                }) }
            </select>
        </label>
    }
}

/// Runs `f` on submit without reloading the page; its refusal goes to `error`.
fn on_submit(
    error: &UseStateHandle<Option<String>>,
    f: impl Fn() -> Option<String> + 'static,
) -> Callback<SubmitEvent> {
    let error = error.clone();
    Callback::from(move |e: SubmitEvent| {
        e.prevent_default();
        error.set(f());
    })
}

#[derive(Properties, PartialEq)]
pub struct AddBindingProps {
    /// The fixed side: an exchange (choose a queue) or a queue (choose an exchange).
    pub exchange: Option<AttrValue>,
    pub queue: Option<AttrValue>,
    pub choices: Vec<String>,
}

#[function_component(AddBinding)]
pub fn add_binding(p: &AddBindingProps) -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let other = use_state(|| p.choices.first().cloned().unwrap_or_default());
    let key = use_state(String::new);
    let error = use_state(|| None::<String>);
    if p.choices.is_empty() {
        return html! {};
    }
    let onsubmit = {
        let (lab, other, key) = (lab.clone(), other.clone(), key.clone());
        let (exchange, queue) = (p.exchange.clone(), p.queue.clone());
        on_submit(&error, move || {
            let binding = BindingSpec {
                exchange: exchange
                    .as_ref()
                    .map_or_else(|| (*other).clone(), |x| x.to_string()),
                queue: Some(
                    queue
                        .as_ref()
                        .map_or_else(|| (*other).clone(), |q| q.to_string()),
                ),
                to_exchange: None,
                routing_key: key.trim().to_string(),
                arguments: Default::default(),
            };
            run(&lab, Command::AddBinding { binding })
        })
    };
    let choices: Vec<(String, String)> = p.choices.iter().map(|c| (c.clone(), c.clone())).collect();
    let label = if p.exchange.is_some() {
        Key::TagQueue
    } else {
        Key::TagExchange
    };
    add_form(
        l,
        Key::InspAddBinding,
        "add-binding",
        html! {
            <>
                { select(t(l, label), &other, &choices, "add-binding-target") }
                { input(t(l, Key::InspRouting), &key, "add-binding-key") }
            </>
        },
        onsubmit,
        &error,
    )
}

#[derive(Clone, PartialEq)]
pub enum ConsumerSourceProp {
    Queue(String),
    Group(String),
}

#[derive(Properties, PartialEq)]
pub struct AddConsumerProps {
    pub source: ConsumerSourceProp,
    pub taken: Vec<String>,
}

#[function_component(AddConsumer)]
pub fn add_consumer(p: &AddConsumerProps) -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let base = match &p.source {
        ConsumerSourceProp::Queue(_) => "worker".to_string(),
        ConsumerSourceProp::Group(g) => g.clone(),
    };
    let name = use_state(|| unique_name(&base, p.taken.iter().map(String::as_str)));
    {
        // After an add, offer the next free name.
        let (name, base) = (name.clone(), base.clone());
        use_effect_with(p.taken.clone(), move |taken| {
            if taken.contains(&*name) {
                name.set(unique_name(&base, taken.iter().map(String::as_str)));
            }
        });
    }
    let prefetch = use_state(|| "1".to_string());
    let ms = use_state(|| "500".to_string());
    let error = use_state(|| None::<String>);
    let onsubmit = {
        let (lab, name, prefetch, ms, source) = (
            lab.clone(),
            name.clone(),
            prefetch.clone(),
            ms.clone(),
            p.source.clone(),
        );
        on_submit(&error, move || {
            let l = lab.lang;
            let prefetch = match parse_num::<u32>(l, &prefetch, Key::InspNotAWholeNumber) {
                Ok(v) => v,
                Err(e) => return Some(e),
            };
            let ms = match parse_f64(l, &ms) {
                Ok(v) => v,
                Err(e) => return Some(e),
            };
            let (queue, group) = match &source {
                ConsumerSourceProp::Queue(q) => (q.as_str(), None),
                ConsumerSourceProp::Group(g) => ("", Some(g.clone())),
            };
            let mut spec = ConsumerSpec::on_queue(name.trim(), queue, ms);
            spec.prefetch = prefetch;
            if let Some(g) = group {
                spec.source = ConsumerSource::Group(g);
            }
            run(&lab, Command::AddConsumer { consumer: spec })
        })
    };
    let is_queue = matches!(p.source, ConsumerSourceProp::Queue(_));
    add_form(
        l,
        if is_queue {
            Key::InspAddConsumer
        } else {
            Key::InspAddMember
        },
        if is_queue {
            "add-consumer"
        } else {
            "add-member"
        },
        html! {
            <>
                { input(t(l, Key::InspName), &name, "add-consumer-name") }
                if is_queue { { input(t(l, Key::InspPrefetch), &prefetch, "add-consumer-prefetch") } }
                { input(t(l, Key::InspProcessingTime), &ms, "add-consumer-ms") }
            </>
        },
        onsubmit,
        &error,
    )
}

#[derive(Properties, PartialEq)]
pub struct AddQueueProps {
    /// The exchange the new queue is bound to; "" (the default exchange) binds nothing.
    pub exchange: String,
    pub taken: Vec<String>,
}

#[function_component(AddQueue)]
pub fn add_queue(p: &AddQueueProps) -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let name = use_state(|| unique_name("queue", p.taken.iter().map(String::as_str)));
    {
        let name = name.clone();
        use_effect_with(p.taken.clone(), move |taken| {
            if taken.contains(&*name) {
                name.set(unique_name("queue", taken.iter().map(String::as_str)));
            }
        });
    }
    let key = use_state(String::new);
    let error = use_state(|| None::<String>);
    let bound = !p.exchange.is_empty();
    let onsubmit = {
        let (lab, name, key, exchange) =
            (lab.clone(), name.clone(), key.clone(), p.exchange.clone());
        on_submit(&error, move || {
            let queue = name.trim().to_string();
            if let Some(e) = run(
                &lab,
                Command::AddQueue {
                    queue: QueueSpec {
                        name: queue.clone(),
                        ..QueueSpec::default()
                    },
                },
            ) {
                return Some(e);
            }
            if exchange.is_empty() {
                return None;
            }
            let binding = BindingSpec {
                exchange: exchange.clone(),
                queue: Some(queue),
                to_exchange: None,
                routing_key: key.trim().to_string(),
                arguments: Default::default(),
            };
            run(&lab, Command::AddBinding { binding })
        })
    };
    add_form(
        l,
        Key::InspAddQueue,
        "add-queue",
        html! {
            <>
                { input(t(l, Key::InspName), &name, "add-queue-name") }
                if bound { { input(t(l, Key::InspRouting), &key, "add-queue-key") } }
            </>
        },
        onsubmit,
        &error,
    )
}

#[derive(Clone, PartialEq)]
pub enum TargetProp {
    Exchange(String),
    Topic(String),
}

#[derive(Properties, PartialEq)]
pub struct AddProducerProps {
    pub target: TargetProp,
    /// The routing key offered at first (a queue's name for the default exchange).
    pub key_hint: String,
    pub taken: Vec<String>,
}

#[function_component(AddProducer)]
pub fn add_producer(p: &AddProducerProps) -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let name = use_state(|| unique_name("producer", p.taken.iter().map(String::as_str)));
    {
        let name = name.clone();
        use_effect_with(p.taken.clone(), move |taken| {
            if taken.contains(&*name) {
                name.set(unique_name("producer", taken.iter().map(String::as_str)));
            }
        });
    }
    let key = use_state(|| p.key_hint.clone());
    let rate = use_state(|| "1".to_string());
    let error = use_state(|| None::<String>);
    let is_exchange = matches!(p.target, TargetProp::Exchange(_));
    let onsubmit = {
        let (lab, name, key, rate, target) = (
            lab.clone(),
            name.clone(),
            key.clone(),
            rate.clone(),
            p.target.clone(),
        );
        on_submit(&error, move || {
            let per_sec = match parse_f64(lab.lang, &rate) {
                Ok(v) => v,
                Err(e) => return Some(e),
            };
            let target = match &target {
                TargetProp::Exchange(x) => PublishTarget::Exchange(x.clone()),
                TargetProp::Topic(tp) => PublishTarget::Topic(tp.clone()),
            };
            let message = broker_sim::scenario::MessageTemplate {
                routing_keys: vec![key.trim().to_string()],
                ..Default::default()
            };
            let spec = ProducerSpec {
                name: name.trim().to_string(),
                targets: vec![target],
                rate: RatePattern::Constant { per_sec },
                message,
                limit: None,
                mandatory: false,
                confirms: false,
                paused: false,
                pulsar: Default::default(),
            };
            run(&lab, Command::AddProducer { producer: spec })
        })
    };
    add_form(
        l,
        Key::InspAddProducer,
        "add-producer",
        html! {
            <>
                { input(t(l, Key::InspName), &name, "add-producer-name") }
                if is_exchange { { input(t(l, Key::InspRouting), &key, "add-producer-key") } }
                { input(&format!("{} ({})", t(l, Key::InspRate), t(l, Key::InspPerSec)), &rate, "add-producer-rate") }
            </>
        },
        onsubmit,
        &error,
    )
}

#[derive(Properties, PartialEq)]
pub struct AddGroupProps {
    pub topic: String,
    pub taken: Vec<String>,
    pub taken_consumers: Vec<String>,
}

#[function_component(AddGroup)]
pub fn add_group(p: &AddGroupProps) -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let name = use_state(|| unique_name("group", p.taken.iter().map(String::as_str)));
    {
        let name = name.clone();
        use_effect_with(p.taken.clone(), move |taken| {
            if taken.contains(&*name) {
                name.set(unique_name("group", taken.iter().map(String::as_str)));
            }
        });
    }
    let assignor = use_state(|| "range".to_string());
    let commit_mode = use_state(|| "auto".to_string());
    let error = use_state(|| None::<String>);
    let onsubmit = {
        let (lab, name, assignor, commit_mode, topic, consumers) = (
            lab.clone(),
            name.clone(),
            assignor.clone(),
            commit_mode.clone(),
            p.topic.clone(),
            p.taken_consumers.clone(),
        );
        on_submit(&error, move || {
            let group_name = name.trim().to_string();
            // Serde names are the core's own spelling, so the choice parses as in a scenario file.
            let group: GroupSpec = match serde_json::from_value(serde_json::json!({
                "name": group_name,
                "topics": [topic],
                "assignor": *assignor,
                "commit": match commit_mode.as_str() {
                    "after" => serde_json::json!({ "kind": "after_processing" }),
                    "before" => serde_json::json!({ "kind": "before_processing" }),
                    _ => serde_json::json!({ "kind": "auto" }),
                },
            })) {
                Ok(g) => g,
                Err(e) => return Some(e.to_string()),
            };
            if let Some(e) = run(&lab, Command::AddGroup { group }) {
                return Some(e);
            }
            // A group without members reads nothing: start it with one.
            let member = unique_name(&group_name, consumers.iter().map(String::as_str));
            let mut spec = ConsumerSpec::on_queue(&member, "", 100.0);
            spec.source = ConsumerSource::Group(group_name.clone());
            run(&lab, Command::AddConsumer { consumer: spec })
        })
    };
    let assignors: Vec<(String, String)> = ["range", "round-robin", "sticky", "cooperative-sticky"]
        .iter()
        .map(|a| (a.to_string(), a.to_string()))
        .collect();
    let commits = vec![
        ("auto".to_string(), t(l, Key::InspCommitAuto).to_string()),
        ("after".to_string(), t(l, Key::InspCommitAfter).to_string()),
        (
            "before".to_string(),
            t(l, Key::InspCommitBefore).to_string(),
        ),
    ];
    add_form(
        l,
        Key::InspAddGroup,
        "add-group",
        html! {
            <>
                { input(t(l, Key::InspName), &name, "add-group-name") }
                { select(t(l, Key::InspAssignor), &assignor, &assignors, "add-group-assignor") }
                { select(t(l, Key::InspCommit), &commit_mode, &commits, "add-group-commit") }
            </>
        },
        onsubmit,
        &error,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_sim::{Scenario, SimTime};

    const LAB: &str = include_str!("../scenarios/ui/failure-lab.json");

    fn command(json: &str) -> Command {
        serde_json::from_str(json).expect("command JSON")
    }

    fn lab_driver() -> Driver {
        Driver::new(&Scenario::from_json(LAB).expect("lab scenario"), 1).expect("builds")
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
    fn node_refs_round_trip() {
        for node in [
            NodeRef::Producer(ProducerId(3)),
            NodeRef::Exchange(ExchangeId(0)),
            NodeRef::Queue(QueueId(12)),
            NodeRef::Consumer(ConsumerId(1)),
            NodeRef::Channel(ChannelId(2)),
            NodeRef::Topic(4),
            NodeRef::Partition(1, 7),
            NodeRef::Service(0),
        ] {
            assert_eq!(decode(&encode(node)), Some(node));
        }
        for bad in ["", "q", "q:", "q:x", "zz:1", "q:1:2", "pt:1", "p:-1"] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(fmt_duration(604_800_000.0), "7 d");
        assert_eq!(fmt_duration(7_200_000.0), "2 h");
        assert_eq!(fmt_duration(90_000.0), "90 s");
        assert_eq!(fmt_duration(250.0), "250 ms");
    }

    #[test]
    fn new_names_are_free() {
        let taken = ["worker-1", "worker-2", "queue"];
        assert_eq!(unique_name("worker", taken.iter().copied()), "worker-3");
        assert_eq!(unique_name("queue", taken.iter().copied()), "queue-1");
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
}
