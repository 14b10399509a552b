//! The inspector's Theory section for a store copies wait in (QT-1…QT-5): measured λ, μ, c and
//! ρ, and the observed wait, queue length and P(wait) beside the prediction of the model the
//! measured coefficients of variation call for. For a Kafka topic or partition, one table per
//! consumer group, whose members are separate queues, with what one shared queue would
//! predict. The figures come from the core (`Simulation::theory`, `Simulation::reader_theory`);
//! this module only formats them, so it re-renders only when a shown figure changes.

use crate::driver::Driver;
use crate::forms::section;
use crate::hooks::use_render_count;
use crate::i18n::{t, Key, Lang};
use crate::lab::{use_frame_model, use_lab};
use broker_sim::snapshot::{NodeRef, StoreTheory, THEORY_MIN_SAMPLES};
use broker_sim::theory::Model;
use broker_sim::Snapshot;
use yew::prelude::*;

/// What the section shows, as text: equal text, no re-render.
#[derive(Clone, Debug, PartialEq)]
pub struct TheoryModel {
    /// λ, μ, c, ρ, each "—" until measured.
    pub rates: [String; 4],
    /// The chosen model's name, once enough is measured.
    pub model: Option<Key>,
    /// (label key, observed, predicted) for Wq, Lq and P(wait).
    pub rows: Vec<(Key, String, String)>,
    /// C_a², C_s² and the batch count note.
    pub shape: String,
    /// λ − cμ per second when ρ ≥ 1.
    pub growth: Option<String>,
    /// Measuring: fewer than [`THEORY_MIN_SAMPLES`] arrivals or services.
    pub measuring: bool,
    /// A log's reader: its group's name and, when its members are separate queues, the wait
    /// one shared queue would give ("—" when that queue would not be stable).
    pub reader: Option<(String, Option<String>)>,
}

/// Three significant figures: enough to compare, steady enough not to flicker.
fn sig3(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return "0".into();
    }
    let decimals = (2 - x.abs().log10().floor() as i32).clamp(0, 6) as usize;
    format!("{x:.decimals$}")
}

fn or_dash(x: Option<f64>, f: impl Fn(f64) -> String) -> String {
    x.map(f).unwrap_or_else(|| "—".into())
}

fn secs(x: f64) -> String {
    format!("{} s", sig3(x))
}

fn percent(x: f64) -> String {
    format!("{:.0}%", 100.0 * x)
}

pub fn model_key(m: Model) -> Key {
    match m {
        Model::Mmc => Key::TheoryModelMmc,
        Model::Md1 => Key::TheoryModelMd1,
        Model::Mg1 => Key::TheoryModelMg1,
        Model::Ggc => Key::TheoryModelGgc,
    }
}

/// The section's text for `v`, in `l`.
pub fn model_of(v: &StoreTheory, l: Lang) -> TheoryModel {
    let p = v.predicted;
    let wq_obs = match (v.wq_band, v.wq) {
        (Some((mean, half)), _) => format!("{} ± {}", secs(mean), sig3(half)),
        (None, wq) => or_dash(wq, secs),
    };
    TheoryModel {
        rates: [
            or_dash(v.lambda, |x| format!("{}/s", sig3(x))),
            or_dash(v.mu, |x| format!("{}/s", sig3(x))),
            v.c.to_string(),
            or_dash(v.rho, sig3),
        ],
        model: v.model.map(model_key),
        rows: vec![
            (Key::TheoryWq, wq_obs, or_dash(p.map(|p| p.wq), secs)),
            (
                Key::TheoryLq,
                or_dash(v.lq, sig3),
                or_dash(p.map(|p| p.lq), sig3),
            ),
            (
                Key::TheoryPWait,
                or_dash(v.p_wait, percent),
                or_dash(p.and_then(|p| p.p_wait), percent),
            ),
        ],
        shape: format!(
            "C²ₐ {} · C²ₛ {} · {}",
            or_dash(v.ca2, sig3),
            or_dash(v.cs2, sig3),
            t(l, Key::TheoryBand)
        ),
        growth: v.growth_per_sec.map(sig3),
        measuring: v.model.is_none(),
        reader: None,
    }
}

/// A store's one table, or one per group reading a log.
fn theory_model(d: &Driver, _snap: &Snapshot, deps: &(NodeRef, Lang)) -> Vec<TheoryModel> {
    let (node, l) = *deps;
    if let Some(v) = d.sim().theory(node) {
        return vec![model_of(&v, l)];
    }
    (d.sim().reader_theory(node).into_iter())
        .map(|r| {
            let shared = r
                .separate
                .then(|| or_dash(r.theory.shared.map(|p| p.wq), secs));
            TheoryModel {
                reader: Some((r.reader, shared)),
                ..model_of(&r.theory, l)
            }
        })
        .collect()
}

#[derive(Properties, PartialEq)]
pub struct TheoryProps {
    pub node: NodeRef,
}

#[function_component(Theory)]
pub fn theory(p: &TheoryProps) -> Html {
    let lab = use_lab();
    let l = lab.lang;
    let renders = use_render_count();
    let models = use_frame_model((p.node, l), theory_model);
    if models.is_empty() {
        return html! {};
    }
    let content = html! {
        <div class="theory" data-testid="theory" data-renders={renders.to_string()}>
            { for models.iter().map(|m| table(m, l)) }
        </div>
    };
    section(t(l, Key::TheoryTitle), content)
}

/// One store's or one group's figures.
fn table(m: &TheoryModel, l: Lang) -> Html {
    let [lambda, mu, c, rho] = m.rates.clone();
    let rate = |sym: &str, key: Key, value: String, id: &'static str| {
        html! {
            <div class="stat" title={t(l, key)}>
                <dt>{ sym.to_string() }{ " " }<small>{ t(l, key) }</small></dt>
                <dd data-testid={id}>{ value }</dd>
            </div>
        }
    };
    let model = m.model.map(|k| t(l, k)).unwrap_or_default();
    html! {
        <>
            if let Some((group, _)) = &m.reader {
                <h4 class="theory-reader" data-testid="theory-reader">{ group.clone() }</h4>
            }
            <dl class="insp-stats theory-rates">
                { rate("λ", Key::TheoryLambda, lambda, "theory-lambda") }
                { rate("μ", Key::TheoryMu, mu, "theory-mu") }
                { rate("c", Key::TheoryC, c.clone(), "theory-c") }
                { rate("ρ", Key::TheoryRho, rho, "theory-rho") }
            </dl>
            if let Some(g) = &m.growth {
                <p class="theory-warn" role="alert" data-testid="theory-unstable">
                    { t(l, Key::TheoryUnstable).replace("{rate}", g) }
                </p>
            }
            if m.measuring {
                <p class="insp-note" data-testid="theory-measuring">
                    { t(l, Key::TheoryMeasuring).replace("{n}", &THEORY_MIN_SAMPLES.to_string()) }
                </p>
            } else if let Some((_, Some(_))) = &m.reader {
                <p class="theory-model" data-testid="theory-model">
                    { t(l, Key::TheoryModel) }{ ": " }
                    { t(l, Key::TheoryPerMember).replace("{model}", model).replace("{c}", &c) }
                </p>
            } else {
                <p class="theory-model" data-testid="theory-model">
                    { t(l, Key::TheoryModel) }{ ": " }{ model }
                </p>
            }
            <table class="theory-table">
                <thead><tr>
                    <th></th><th>{ t(l, Key::TheoryObserved) }</th><th>{ t(l, Key::TheoryPredicted) }</th>
                </tr></thead>
                <tbody>
                    { for m.rows.iter().enumerate().map(|(i, (k, obs, pred))| html! {
                        <tr>
                            <th scope="row">{ t(l, *k) }</th>
                            <td data-testid={format!("theory-observed-{i}")}>{ obs.clone() }</td>
                            <td data-testid={format!("theory-predicted-{i}")}>{ pred.clone() }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
            if let (Some((_, Some(shared))), false) = (&m.reader, m.measuring) {
                <p class="insp-note" data-testid="theory-shared">
                    { t(l, Key::TheoryShared).replace("{c}", &c).replace("{wq}", shared) }
                </p>
            }
            <p class="theory-shape">{ m.shape.clone() }</p>
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_sim::snapshot::Role;
    use broker_sim::{Scenario, SimTime};

    /// The lab's one store, found by its role as the canvas places it.
    fn store(d: &Driver) -> NodeRef {
        let graph = d.snapshot().graph;
        let mut stores = graph
            .nodes
            .iter()
            .filter(|n| n.role == Role::Store && !n.implicit);
        stores.next().expect("a store").node
    }

    fn lab_scenario() -> Scenario {
        let json = include_str!("../scenarios/ui/theory-lab.json");
        Scenario::from_json(json).expect("theory-lab parses")
    }

    #[test]
    fn the_theory_lab_queue_shows_erlang_c_beside_the_observed_wait() {
        let mut d = Driver::new(&lab_scenario(), 1).expect("valid");
        d.run_to(SimTime::from_secs(600));
        let v = d.sim().theory(store(&d)).expect("a store with a meter");
        let m = model_of(&v, Lang::En);
        assert_eq!(m.model, Some(Key::TheoryModelMmc));
        assert_eq!(m.rates[2], "2");
        assert!(
            m.rates[0].ends_with("/s") && m.rates[1].ends_with("/s"),
            "{m:?}"
        );
        assert!(m.rows[0].1.contains(" ± "), "a batch-means band: {m:?}");
        // Erlang C for λ ≈ 8, μ ≈ 5, c = 2 is about 0.36 s.
        let pred: f64 = m.rows[0].2.trim_end_matches(" s").parse().unwrap();
        assert!((pred - 0.356).abs() < 0.08, "{pred}");
        assert_eq!(m.growth, None);
        assert!(!m.measuring);
        // Korean labels come from the same figures.
        let ko = model_of(&v, Lang::Ko);
        assert_eq!(
            (ko.rates.clone(), ko.rows[0].2.clone()),
            (m.rates.clone(), m.rows[0].2.clone())
        );
        assert_ne!(ko.shape, m.shape);
    }

    #[test]
    fn an_overloaded_queue_warns_how_fast_it_grows() {
        let mut s = lab_scenario();
        s.consumers.truncate(1);
        let mut d = Driver::new(&s, 1).expect("valid");
        d.run_to(SimTime::from_secs(60));
        let m = model_of(&d.sim().theory(store(&d)).unwrap(), Lang::En);
        // λ ≈ 8 against one worker at μ ≈ 5: about 3 more copies wait every second.
        let g: f64 = m.growth.expect("ρ ≥ 1").parse().unwrap();
        assert!((g - 3.0).abs() < 0.8, "{g}");
        assert_eq!(m.rows[0].2, "—");
    }

    /// The lag lab's topic: one table, for its group "analytics", whose two members are two
    /// queues (one partition each), with the shared-queue figure beside (QT-5, KAF-2).
    #[test]
    fn qt_5_a_kafka_topic_shows_one_table_per_group_of_separate_queues() {
        let json = include_str!("../scenarios/ui/kafka-lag-lab.json");
        let mut d = Driver::new(&Scenario::from_json(json).unwrap(), 1).expect("valid");
        d.run_to(SimTime::from_secs(60));
        // The topic and its partitions, found as the canvas finds nodes: by what they show.
        let snap = d.snapshot();
        let tables = |node| theory_model(&d, &snap, &(node, Lang::En));
        let readers: Vec<Vec<TheoryModel>> = (snap.graph.nodes.iter())
            .map(|n| tables(n.node))
            .filter(|m| m.iter().any(|m| m.reader.is_some()))
            .collect();
        assert_eq!(readers.len(), 3, "the topic and its two partitions");
        let [m] = readers[0].as_slice() else {
            panic!("one group: {readers:?}");
        };
        let (group, shared) = m.reader.clone().expect("a reader's table");
        assert_eq!((group.as_str(), m.rates[2].as_str()), ("analytics", "2"));
        assert!(
            !m.measuring && shared.is_some_and(|s| s.ends_with(" s")),
            "{m:?}"
        );
        // 20/s round robin, 40 ms fixed: each member is a D/D/1 at ρ = 0.4 and nobody queues;
        // the wait is the fetch's trip (the lab's latency is 20 ms each way).
        let wq: f64 = m.rows[0].1.trim_end_matches(" s").parse().unwrap();
        assert!((0.02..0.05).contains(&wq), "{m:?}");
        assert_eq!(
            (
                readers[1][0].rates[2].as_str(),
                readers[2][0].rates[2].as_str()
            ),
            ("1", "1")
        );
    }

    #[test]
    fn three_significant_figures() {
        assert_eq!(sig3(0.35555), "0.356");
        assert_eq!(sig3(7.936), "7.94");
        assert_eq!(sig3(123.4), "123");
        assert_eq!(sig3(0.0), "0");
    }
}
