//! The compare view: one producer stream goes to a RabbitMQ queue and to a Kafka topic, drawn
//! as two bands. In each band's heading row sits one button — a late consumer on the queue
//! (it gets nothing: acked messages were deleted) and a new consumer group on the log (it
//! replays every retained record) — and the figures that show the difference. Also the colour
//! key: what a message's colour means, and the choice of it.

use crate::canvas::use_draw_options;
use crate::driver::Driver;
use crate::i18n::{t, Key};
use crate::kinds::rabbitmq::queue_node;
use crate::lab::{use_frame_model, use_lab, Lab};
use crate::pen::{key_colour, ColourMode, NO_PRODUCER, PRIORITY_COLOURS, PRIORITY_LABELS};
use broker_sim::ConsumerStatus;
use broker_sim::{Command, Scenario, Snapshot};
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// The comparison: `compare-queue-vs-log.json` without its script, because here the teacher
/// adds the late consumer and the new group with the buttons when the class is ready. It is
/// also in the scenario library as `compare`, so `?scenario=compare` opens it; the library
/// embeds it, so this button never waits on a fetch.
pub fn scenario() -> Scenario {
    crate::presets::scenario(crate::presets::COMPARE_ID).expect("the compare scenario is valid")
}

/// `base`, or `base-2`, `base-3`… — the first that `taken` does not hold.
fn unique_name(base: &str, taken: impl Fn(&str) -> bool) -> String {
    if !taken(base) {
        return base.to_string();
    }
    (2..)
        .map(|i| format!("{base}-{i}"))
        .find(|n| !taken(n))
        .expect("some suffix is free")
}

fn consumer_taken(snap: &Snapshot, name: &str) -> bool {
    snap.consumers
        .iter()
        .any(|c| c.name == name && c.status != ConsumerStatus::Removed)
}

/// A new consumer on `queue`, named so it does not clash.
pub fn late_consumer_command(snap: &Snapshot, queue: &str) -> Command {
    let name = unique_name("late-worker", |n| consumer_taken(snap, n));
    command(serde_json::json!({ "add_consumer": { "consumer": {
        "name": name,
        "source": { "queue": queue },
        "prefetch": 10,
        "processing": { "kind": "fixed", "ms": 50 }
    } } }))
}

/// A new group on `topic` that starts at the earliest offset, and its one member.
pub fn new_group_commands(snap: &Snapshot, topic: &str) -> [Command; 2] {
    let group = unique_name("analytics", |n| {
        snap.groups.iter().any(|g| g.name == n) || consumer_taken(snap, &format!("{n}-1"))
    });
    let add_group = command(serde_json::json!({ "add_group": { "group": {
        "name": group,
        "topics": [topic],
        "auto_offset_reset": "earliest"
    } } }));
    let add_member = command(serde_json::json!({ "add_consumer": { "consumer": {
        "name": format!("{group}-1"),
        "source": { "group": group },
        "processing": { "kind": "fixed", "ms": 20 }
    } } }));
    [add_group, add_member]
}

/// A command written in the scenario format's own spelling (read like a script entry).
pub fn command(json: serde_json::Value) -> Command {
    broker_sim::from_json(&json.to_string()).expect("a valid command")
}

/// What the compare overlay shows; `None` unless the run has a queue and a topic.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CompareModel {
    pub queue: String,
    pub topic: String,
    /// Each live consumer of the queue and how many messages it was delivered.
    pub consumers: Vec<(String, u64)>,
    /// Each group: name, records processed, lag.
    pub groups: Vec<(String, u64, u64)>,
    /// Records the topic's partitions still hold.
    pub records: u64,
}

pub fn compare_model(_: &Driver, snap: &Snapshot, _: &()) -> Option<CompareModel> {
    let queue = snap.queues.first()?;
    let topic = snap.topics.first()?;
    Some(CompareModel {
        queue: queue.name.clone(),
        topic: topic.name.clone(),
        consumers: snap
            .consumers
            .iter()
            .filter(|c| {
                c.source == Some(queue_node(queue.id)) && c.status != ConsumerStatus::Removed
            })
            .map(|c| (c.name.clone(), c.delivered))
            .collect(),
        groups: snap
            .groups
            .iter()
            .map(|g| (g.name.clone(), g.processed, g.lag))
            .collect(),
        records: topic
            .partitions
            .iter()
            .map(|p| p.log_end - p.log_start)
            .sum(),
    })
}

/// Loads the comparison scenario (same seed) and clears the selection.
#[function_component(CompareButton)]
pub fn compare_button() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let onclick = {
        let lab = lab.clone();
        Callback::from(move |_: MouseEvent| {
            let scenario = scenario();
            // The scenario is part of the build and was tested to load.
            let _ = lab.with_driver(|d| d.load(&scenario, d.seed()));
            lab.on_select.emit(None);
        })
    };
    html! {
        <button type="button" class="seminar-button compare-open" data-testid="open-compare"
            {onclick} title={t(l, Key::CompareOpenHint)}>
            <span class="seminar-icon" aria-hidden="true">{ "⇄" }</span>
            <span class="seminar-label">{ t(l, Key::CompareOpen) }</span>
        </button>
    }
}

/// The buttons and figures in the two bands' heading rows (placed by CSS variables the
/// canvas publishes).
#[function_component(CompareOverlay)]
pub fn compare_overlay() -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let model = use_frame_model((), compare_model);
    let error = use_state(|| None::<String>);
    let Some(m) = model else {
        return html! {};
    };
    let queue = m.queue.clone();
    let add_consumer = on_click(&lab, &error, move |s| {
        vec![late_consumer_command(s, &queue)]
    });
    let topic = m.topic.clone();
    let add_group = on_click(&lab, &error, move |s| {
        new_group_commands(s, &topic).to_vec()
    });
    // Compact figures, newest last. The lists are drawn right to left (CSS row-reverse) so
    // when the row is short the label, then the oldest entries, wrap out of sight (never half
    // of one).
    let consumers = m.consumers.iter().rev().map(|(name, n)| {
        html! {
            <li data-testid="compare-consumer" data-name={name.clone()} data-delivered={n.to_string()}
                class={classes!((*n == 0).then_some("zero"))}>
                { name }{ " " }<span class="n">{ crate::model::format_count(*n) }</span>
            </li>
        }
    });
    let groups = m.groups.iter().rev().map(|(name, n, lag)| {
        html! {
            <li data-testid="compare-group" data-name={name.clone()} data-processed={n.to_string()}
                data-lag={lag.to_string()}>
                { name }{ " " }<span class="n">{ crate::model::format_count(*n) }</span>
            </li>
        }
    });
    html! {
        <div class="compare-overlay" data-testid="compare">
            <div class="compare-side message" data-testid="compare-queue-side">
                <ul class="compare-stats">
                    { for consumers }
                    <li class="compare-label">{ t(l, Key::CompareReceived) }{ ":" }</li>
                </ul>
                <button type="button" data-testid="add-late-consumer" onclick={add_consumer}
                    title={t(l, Key::AddLateConsumerHint)}>
                    { "+ " }{ t(l, Key::AddLateConsumer) }
                </button>
            </div>
            <div class="compare-side event" data-testid="compare-log-side">
                // The canvas writes the count in the topic's header; here for screen readers.
                <span class="sr-only" data-testid="compare-log-records"
                    data-records={m.records.to_string()}>
                    { t(l, Key::CompareInLog) }{ ": " }{ crate::model::format_count(m.records) }
                </span>
                <ul class="compare-stats">
                    { for groups }
                    <li class="compare-label">{ t(l, Key::NodeProcessed) }{ ":" }</li>
                </ul>
                <button type="button" data-testid="add-new-group" onclick={add_group}
                    title={t(l, Key::AddNewGroupHint)}>
                    { "+ " }{ t(l, Key::AddNewGroup) }
                </button>
            </div>
            { refusal(&error) }
        </div>
    }
}

/// A compare button's click: applies the commands `make` writes from the current snapshot and
/// keeps the first refusal in `error`, for [`refusal`] to show.
pub fn on_click(
    lab: &Lab,
    error: &UseStateHandle<Option<String>>,
    make: impl Fn(&Snapshot) -> Vec<Command> + 'static,
) -> Callback<MouseEvent> {
    let (lab, error) = (lab.clone(), error.clone());
    Callback::from(move |_: MouseEvent| {
        let snap = lab.driver.borrow().snapshot();
        let failed = make(&snap).into_iter().find_map(|cmd| lab.apply(cmd).err());
        error.set(failed.map(|e| format!("{}: {e}", t(lab.lang, Key::CompareRefused))));
    })
}

/// The last refused command of a compare view, if any.
pub fn refusal(error: &Option<String>) -> Html {
    match error {
        Some(e) => html! { <p class="compare-error" role="alert">{ e }</p> },
        None => Html::default(),
    }
}

fn record_keys(_: &Driver, s: &Snapshot, _: &()) -> Vec<(u32, String)> {
    s.record_keys.clone()
}

/// What a message's colour means, and a select to change it. By producer, each producer's
/// node carries its colour; by priority or by key, the swatches list the buckets or keys.
#[function_component(ColourKey)]
pub fn colour_key() -> Html {
    let lab = use_lab();
    let keys = use_frame_model((), record_keys);
    let l = lab.lang;
    let options = use_draw_options();
    let picked = use_state(|| options.0.borrow().colour_mode);
    let mode = picked.unwrap_or_else(|| ColourMode::auto(&keys));
    let onchange = {
        let (options, picked) = (options.clone(), picked.clone());
        Callback::from(move |e: Event| {
            let value = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
                .map(|s| s.value());
            if let Some(m) = value.as_deref().and_then(ColourMode::from_code) {
                options.update(|o| o.colour_mode = Some(m));
                picked.set(Some(m));
            }
        })
    };
    let swatch = |colour: &str, label: String| {
        html! {
            <li><span class="sw" style={format!("background:{colour}")}></span>{ label }</li>
        }
    };
    let swatches: Html = match mode {
        ColourMode::Producer => Html::default(),
        ColourMode::Priority => PRIORITY_COLOURS
            .iter()
            .zip(PRIORITY_LABELS)
            .map(|(c, label)| swatch(c, label.to_string()))
            .chain(std::iter::once(swatch(
                NO_PRODUCER,
                t(l, Key::PriorityNone).to_string(),
            )))
            .collect(),
        ColourMode::Key => keys
            .iter()
            .map(|(id, name)| swatch(key_colour(&keys, Some(*id)), name.clone()))
            .chain(std::iter::once(swatch(
                NO_PRODUCER,
                t(l, Key::Unkeyed).to_string(),
            )))
            .collect(),
    };
    html! {
        <div class="colour-key">
            <label>
                <span>{ t(l, Key::ColourBy) }</span>
                <select data-testid="colour-mode" {onchange}>
                    { for ColourMode::ALL.iter().map(|m| html! {
                        <option value={m.code()} selected={*m == mode}>{ t(l, m.label()) }</option>
                    }) }
                </select>
            </label>
            <ul class="colour-swatches" data-testid="colour-swatches">{ swatches }</ul>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn driver() -> Driver {
        Driver::new(&scenario(), 1).expect("the compare scenario builds")
    }

    #[test]
    fn compare_scenario_loads_without_its_script() {
        let s = scenario();
        assert!(s.script.is_empty());
        assert_eq!(s.queues.len(), 1);
        assert_eq!(s.topics.len(), 1);
    }

    #[test]
    fn names_do_not_clash() {
        assert_eq!(unique_name("a", |_| false), "a");
        assert_eq!(unique_name("a", |n| n == "a" || n == "a-2"), "a-3");
    }

    /// The point of the view: after the producer finished and both consumers caught up, a late
    /// queue consumer receives nothing while a new group replays every record.
    #[test]
    fn late_consumer_gets_nothing_and_new_group_replays_the_log() {
        let mut d = driver();
        d.run_to(broker_sim::SimTime(25_000_000));
        let snap = d.snapshot();
        let m = compare_model(&d, &snap, &()).expect("queue and topic");
        assert_eq!(m.records, 100);
        d.apply(late_consumer_command(&snap, &m.queue)).unwrap();
        for cmd in new_group_commands(&snap, &m.topic) {
            d.apply(cmd).unwrap();
        }
        // Clicked again: fresh names, no error.
        let snap = d.snapshot();
        d.apply(late_consumer_command(&snap, &m.queue)).unwrap();
        for cmd in new_group_commands(&snap, &m.topic) {
            d.apply(cmd).unwrap();
        }
        d.run_to(broker_sim::SimTime(40_000_000));
        let snap = d.snapshot();
        let m = compare_model(&d, &snap, &()).unwrap();
        let delivered = |n: &str| m.consumers.iter().find(|c| c.0 == n).unwrap().1;
        assert_eq!(delivered("worker"), 100);
        assert_eq!(delivered("late-worker"), 0);
        assert_eq!(delivered("late-worker-2"), 0);
        let processed = |n: &str| m.groups.iter().find(|g| g.0 == n).unwrap().1;
        assert_eq!(processed("billing"), 100);
        assert_eq!(processed("analytics"), 100);
        assert_eq!(processed("analytics-2"), 100);
    }
}
