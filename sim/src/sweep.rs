//! What-if sweeps (issue 15): one scenario run headless once per value of one parameter, for a
//! fixed simulated duration, in resumable chunks, and summarised per variant from the figures
//! the simulation already keeps (latency histogram, ledger, queueing theory).
//!
//! ```text
//!   Scenario + Param + values ──► SweepRun::new (every variant built and checked up front)
//!   step(budget) ──► at most `budget` work items of the current variant ──► Progress
//!   a variant reaches `duration` ──► VariantSummary row ──► to_csv
//! ```

use crate::event::{Event, EventSink};
use crate::scenario::{ConsumerSource, RatePattern};
use crate::theory::Model;
use crate::wire::NodeRef;
use crate::{Scenario, ScenarioError, SimTime, Simulation};
use serde::Serialize;

/// The one setting a sweep varies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Param {
    /// How many consumers read this queue: the first `n` as written, more cloned from the last.
    Consumers { queue: String },
    /// `basic.qos prefetch_count` of every consumer reading this queue (0 = unlimited).
    Prefetch { queue: String },
    /// Messages per second of this producer; its rate must be constant or Poisson.
    Rate { producer: String },
    /// Partition count of this Kafka topic.
    Partitions { topic: String },
}

fn reads(c: &crate::scenario::ConsumerSpec, queue: &str) -> bool {
    matches!(&c.source, ConsumerSource::Queue(q) if q == queue)
}

impl Param {
    /// Every parameter this scenario can be swept over, queues first, in scenario order.
    pub fn candidates(s: &Scenario) -> Vec<Param> {
        let queues = (s.queues.iter())
            .filter(|q| s.consumers.iter().any(|c| reads(c, &q.name)))
            .flat_map(|q| {
                [
                    Param::Consumers {
                        queue: q.name.clone(),
                    },
                    Param::Prefetch {
                        queue: q.name.clone(),
                    },
                ]
            });
        let rates = (s.producers.iter())
            .filter(|p| {
                matches!(
                    p.rate,
                    RatePattern::Constant { .. } | RatePattern::Poisson { .. }
                )
            })
            .map(|p| Param::Rate {
                producer: p.name.clone(),
            });
        let topics = s.topics.iter().map(|t| Param::Partitions {
            topic: t.name.clone(),
        });
        queues.chain(rates).chain(topics).collect()
    }

    /// The column name in the table and the CSV.
    pub fn column(&self) -> &'static str {
        match self {
            Param::Consumers { .. } => "consumers",
            Param::Prefetch { .. } => "prefetch",
            Param::Rate { .. } => "rate_per_s",
            Param::Partitions { .. } => "partitions",
        }
    }

    /// The entity the parameter belongs to.
    pub fn target(&self) -> &str {
        match self {
            Param::Consumers { queue } | Param::Prefetch { queue } => queue,
            Param::Rate { producer } => producer,
            Param::Partitions { topic } => topic,
        }
    }

    /// The queue whose queueing theory the sweep reports: the swept queue, or for a rate the
    /// only queue consumers read (with several, which one the rate feeds is not known here).
    fn theory_queue(&self, s: &Scenario) -> Option<String> {
        match self {
            Param::Consumers { queue } | Param::Prefetch { queue } => Some(queue.clone()),
            Param::Rate { .. } => {
                let mut read =
                    (s.queues.iter()).filter(|q| s.consumers.iter().any(|c| reads(c, &q.name)));
                match (read.next(), read.next()) {
                    (Some(q), None) => Some(q.name.clone()),
                    _ => None,
                }
            }
            Param::Partitions { .. } => None,
        }
    }

    /// The scenario with this parameter set to `value`.
    pub fn apply(&self, base: &Scenario, value: f64) -> Result<Scenario, ScenarioError> {
        let bad = |why: &str| ScenarioError::new(self.column(), format!("{value}: {why}"));
        let whole = |min: f64| {
            (value.fract() == 0.0 && value >= min && value <= f64::from(u32::MAX))
                .then_some(value as u32)
                .ok_or_else(|| bad(&format!("must be a whole number ≥ {min}")))
        };
        let mut s = base.clone();
        match self {
            Param::Consumers { queue } => {
                let n = whole(1.0)? as usize;
                let on: Vec<usize> = (0..s.consumers.len())
                    .filter(|&i| reads(&s.consumers[i], queue))
                    .collect();
                let template =
                    s.consumers[*on.last().ok_or_else(|| bad("no consumer reads it"))?].clone();
                // Drop the ones past n (from the end, so indices stay valid), then add clones.
                for &i in on.iter().skip(n).rev() {
                    s.consumers.remove(i);
                }
                for k in on.len()..n {
                    let mut c = template.clone();
                    c.name = (k + 1..)
                        .map(|j| format!("{}-{j}", template.name))
                        .find(|name| s.consumers.iter().all(|c| &c.name != name))
                        .expect("an unused name exists");
                    s.consumers.push(c);
                }
            }
            Param::Prefetch { queue } => {
                let n = whole(0.0)?;
                for c in s.consumers.iter_mut().filter(|c| reads(c, queue)) {
                    c.prefetch = n;
                }
            }
            Param::Rate { producer } => {
                if !(value.is_finite() && value > 0.0) {
                    return Err(bad("must be above 0"));
                }
                let p = (s.producers.iter_mut().find(|p| &p.name == producer))
                    .ok_or_else(|| bad("no such producer"))?;
                match &mut p.rate {
                    RatePattern::Constant { per_sec } | RatePattern::Poisson { per_sec } => {
                        *per_sec = value
                    }
                    _ => return Err(bad("the rate is not constant or Poisson")),
                }
            }
            Param::Partitions { topic } => {
                let n = whole(1.0)?;
                let t = (s.topics.iter_mut().find(|t| &t.name == topic))
                    .ok_or_else(|| bad("no such topic"))?;
                t.partitions = n;
            }
        }
        s.validate()?;
        Ok(s)
    }
}

/// The most variants one sweep runs.
pub const MAX_VARIANTS: usize = 50;

/// `from`, `from + step`, … up to `to` inclusive (within rounding), at most [`MAX_VARIANTS`];
/// empty when the range is backwards or the step is not positive.
pub fn range(from: f64, to: f64, step: f64) -> Vec<f64> {
    if !(from.is_finite() && to.is_finite() && step.is_finite() && step > 0.0 && from <= to) {
        return Vec::new();
    }
    (0..MAX_VARIANTS)
        .map(|i| from + step * i as f64)
        .take_while(|v| *v <= to + step * 1e-9)
        // Steps such as 0.1 add up to 0.30000000000000004; the table shows what was typed.
        .map(|v| (v * 1e9).round() / 1e9)
        .collect()
}

/// One row of the table: a variant's figures after `duration` of simulated time.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VariantSummary {
    pub value: f64,
    /// Messages whose work was done (acked or processed) within the duration.
    pub completed: u64,
    /// End-to-end latency, publish to ack or processed, of those messages.
    pub p50_ms: f64,
    pub p95_ms: f64,
    /// Completed messages per simulated second.
    pub throughput_per_sec: f64,
    /// Copies the ledger counts as dropped, for any reason.
    pub drops: u64,
    /// Mean wait in the theory queue, measured, and as its model predicts (`None` when no
    /// model applies, too little was measured, or ρ ≥ 1).
    pub wq_ms: Option<f64>,
    pub wq_theory_ms: Option<f64>,
    pub model: Option<Model>,
    /// The run stopped early (zero-time loop or work budget); the figures are up to there.
    pub halted: bool,
}

/// How far a sweep is.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    /// 0…1 over all variants, counting the current one's simulated time.
    pub fraction: f64,
}

impl Progress {
    pub fn finished(&self) -> bool {
        self.done == self.total
    }
}

/// Events are not needed: the summary reads the simulation's own statistics.
struct Discard;

impl EventSink for Discard {
    fn accept(&mut self, _: Event) {}
}

/// A sweep in progress. Every variant runs with the same seed, so the draws (arrival gaps,
/// service times) are common to all of them and differences come from the parameter.
pub struct SweepRun {
    param: Param,
    variants: Vec<(f64, Scenario)>,
    theory_queue: Option<String>,
    seed: u64,
    duration: SimTime,
    current: Option<Simulation>,
    rows: Vec<VariantSummary>,
}

impl SweepRun {
    /// Builds every variant and checks it starts, so a bad value fails before anything runs.
    pub fn new(
        base: &Scenario,
        param: Param,
        values: &[f64],
        duration: SimTime,
        seed: u64,
    ) -> Result<SweepRun, ScenarioError> {
        let variants = (values.iter())
            .map(|&v| {
                let s = param.apply(base, v)?;
                Simulation::new(&s, seed)?;
                Ok((v, s))
            })
            .collect::<Result<Vec<_>, ScenarioError>>()?;
        Ok(SweepRun {
            theory_queue: param.theory_queue(base),
            param,
            variants,
            seed,
            duration,
            current: None,
            rows: Vec::new(),
        })
    }

    pub fn param(&self) -> &Param {
        &self.param
    }

    pub fn rows(&self) -> &[VariantSummary] {
        &self.rows
    }

    pub fn progress(&self) -> Progress {
        let (done, total) = (self.rows.len(), self.variants.len());
        let partial = (self.current.as_ref())
            .map_or(0.0, |s| s.now().as_secs_f64() / self.duration.as_secs_f64());
        Progress {
            done,
            total,
            fraction: if total == 0 {
                1.0
            } else {
                (done as f64 + partial.min(1.0)) / total as f64
            },
        }
    }

    /// Runs at most `budget` work items (variants end and start inside one call as needed).
    pub fn step(&mut self, budget: u64) -> Progress {
        let mut left = budget;
        while left > 0 && self.rows.len() < self.variants.len() {
            let (value, scenario) = &self.variants[self.rows.len()];
            let sim = self.current.get_or_insert_with(|| {
                let mut sim = Simulation::new(scenario, self.seed).expect("checked in new");
                sim.set_track_transits(false);
                sim
            });
            let before = sim.work_done();
            let max = usize::try_from(left).unwrap_or(usize::MAX);
            let reached = sim.advance_into(self.duration, max, &mut Discard);
            left = left.saturating_sub(sim.work_done() - before);
            if reached || sim.halted().is_some() {
                let row = summarise(sim, *value, self.theory_queue.as_deref());
                self.rows.push(row);
                self.current = None;
            }
        }
        self.progress()
    }

    /// Runs every remaining variant to the end.
    pub fn run_to_end(mut self) -> Vec<VariantSummary> {
        while !self.step(u64::MAX).finished() {}
        self.rows
    }
}

fn summarise(sim: &Simulation, value: f64, theory_queue: Option<&str>) -> VariantSummary {
    let latency = sim.latency();
    let theory = theory_queue
        .and_then(|q| sim.rabbitmq.queue_id(q))
        .and_then(|q| sim.theory(NodeRef::Queue(q)));
    let secs = sim.now().as_secs_f64();
    VariantSummary {
        value,
        completed: latency.count,
        p50_ms: latency.p50_ms,
        p95_ms: latency.p95_ms,
        throughput_per_sec: if secs > 0.0 {
            latency.count as f64 / secs
        } else {
            0.0
        },
        drops: sim.ledger().dropped_total(),
        wq_ms: theory.as_ref().and_then(|t| t.wq).map(|s| s * 1e3),
        wq_theory_ms: (theory.as_ref())
            .and_then(|t| t.predicted)
            .map(|p| p.wq * 1e3),
        model: theory.and_then(|t| t.model),
        halted: sim.halted().is_some(),
    }
}

/// The table as CSV, one row per variant; an empty cell where a figure does not apply.
pub fn to_csv(param: &Param, rows: &[VariantSummary]) -> String {
    let opt = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v:.3}"));
    let mut out = format!(
        "{},completed,p50_ms,p95_ms,throughput_per_s,drops,wq_ms,wq_theory_ms,model,halted\n",
        param.column()
    );
    for r in rows {
        let model = r.model.map_or("", |m| match m {
            Model::Mmc => "M/M/c",
            Model::Md1 => "M/D/1",
            Model::Mg1 => "M/G/1",
            Model::Ggc => "G/G/c",
        });
        out += &format!(
            "{},{},{:.3},{:.3},{:.3},{},{},{},{},{}\n",
            r.value,
            r.completed,
            r.p50_ms,
            r.p95_ms,
            r.throughput_per_sec,
            r.drops,
            opt(r.wq_ms),
            opt(r.wq_theory_ms),
            model,
            r.halted
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(value: f64, wq_theory_ms: Option<f64>) -> VariantSummary {
        VariantSummary {
            value,
            completed: 480,
            p50_ms: 120.5,
            p95_ms: 900.25,
            throughput_per_sec: 8.0,
            drops: 2,
            wq_ms: Some(350.0),
            wq_theory_ms,
            model: wq_theory_ms.map(|_| Model::Mmc),
            halted: false,
        }
    }

    #[test]
    fn range_steps_from_to_inclusive_and_caps_the_variant_count() {
        assert_eq!(range(1.0, 4.0, 1.0), [1.0, 2.0, 3.0, 4.0]);
        assert_eq!(range(1.0, 100.0, 11.0).last(), Some(&100.0));
        assert_eq!(range(0.1, 0.3, 0.1), [0.1, 0.2, 0.3]);
        assert_eq!(range(1.0, 10.0, 4.0), [1.0, 5.0, 9.0]);
        assert!(range(4.0, 1.0, 1.0).is_empty());
        assert!(range(1.0, 4.0, 0.0).is_empty());
        assert_eq!(range(1.0, 1e6, 1.0).len(), MAX_VARIANTS);
    }

    #[test]
    fn csv_has_a_header_one_line_per_variant_and_empty_cells_where_no_model_applies() {
        let p = Param::Consumers { queue: "q".into() };
        let csv = to_csv(&p, &[row(1.0, None), row(2.0, Some(355.5557))]);
        assert_eq!(
            csv,
            "consumers,completed,p50_ms,p95_ms,throughput_per_s,drops,wq_ms,wq_theory_ms,model,halted\n\
             1,480,120.500,900.250,8.000,2,350.000,,,false\n\
             2,480,120.500,900.250,8.000,2,350.000,355.556,M/M/c,false\n"
        );
    }
}
