//! Rate patterns as functions of time: when the next message is due, and how many a run
//! would publish. Time-varying rates are integrated exactly, so a ramp that starts near
//! 0/s still publishes as soon as its rate has added up to one message, and a wave that idles
//! at 0/s costs no work while idle.

use crate::command::Command;
use crate::scenario::{RatePattern, Scenario};
use crate::time::SimTime;

/// Seconds after `t` (seconds since the producer started) at which the rate has accumulated
/// one message; `None` if it never will. Bursts and manual producers are not rate-driven.
pub fn seconds_to_next(rate: &RatePattern, t: f64) -> Option<f64> {
    match *rate {
        RatePattern::Manual | RatePattern::Burst { .. } => None,
        RatePattern::Constant { per_sec } | RatePattern::Poisson { per_sec } => {
            (per_sec > 0.0).then(|| 1.0 / per_sec)
        }
        RatePattern::Square {
            high_per_sec,
            low_per_sec,
            period_ms,
            duty,
        } => square_to_next(high_per_sec, low_per_sec, period_ms / 1000.0, duty, t),
        RatePattern::Ramp {
            from_per_sec,
            to_per_sec,
            over_ms,
        } => ramp_to_next(from_per_sec, to_per_sec, over_ms / 1000.0, t),
    }
}

fn square_to_next(high: f64, low: f64, period: f64, duty: f64, t: f64) -> Option<f64> {
    let high_span = duty * period;
    let per_period = high * high_span + low * (period - high_span);
    if per_period <= 0.0 || period <= 0.0 {
        return None;
    }
    let mut need = 1.0;
    let mut waited = 0.0;
    let mut x = t % period;
    // At most: rest of this phase, the next phase, a skip over whole periods, two phases.
    for _ in 0..8 {
        if x == 0.0 && need > per_period {
            let whole = ((need / per_period).floor() - 1.0).max(0.0);
            need -= whole * per_period;
            waited += whole * period;
        }
        let (rate, end) = if x < high_span {
            (high, high_span)
        } else {
            (low, period)
        };
        let span = end - x;
        if rate > 0.0 && rate * span >= need {
            return Some(waited + need / rate);
        }
        need -= rate * span;
        waited += span;
        x = if end >= period { 0.0 } else { end };
    }
    // Rounding left a sliver of a message: it is due at the next positive phase.
    Some(waited)
}

fn ramp_to_next(from: f64, to: f64, over: f64, t: f64) -> Option<f64> {
    if t >= over || over <= 0.0 {
        return (to > 0.0).then(|| 1.0 / to);
    }
    let slope = (to - from) / over;
    let r0 = from + slope * t;
    let rest = over - t;
    let on_ramp = r0 * rest + slope * rest * rest / 2.0;
    if on_ramp >= 1.0 {
        // Solve slope/2·s² + r0·s = 1 in the form that does not cancel.
        let root = (r0 * r0 + 2.0 * slope).max(0.0).sqrt();
        let s = 2.0 / (r0 + root);
        return Some(s.min(rest));
    }
    (to > 0.0).then(|| rest + (1.0 - on_ramp) / to)
}

/// Messages a rate pattern publishes over its first `secs` seconds, for budgets.
pub fn expected_messages(rate: &RatePattern, secs: f64) -> f64 {
    match *rate {
        RatePattern::Manual => 0.0,
        RatePattern::Burst { count, at_ms } => {
            if at_ms / 1000.0 <= secs {
                count as f64
            } else {
                0.0
            }
        }
        RatePattern::Constant { per_sec } | RatePattern::Poisson { per_sec } => per_sec * secs,
        RatePattern::Square {
            high_per_sec,
            low_per_sec,
            duty,
            ..
        } => (high_per_sec * duty + low_per_sec * (1.0 - duty)) * secs,
        RatePattern::Ramp {
            from_per_sec,
            to_per_sec,
            over_ms,
        } => {
            let over = (over_ms / 1000.0).min(secs);
            let end_rate = if over_ms <= 0.0 {
                to_per_sec
            } else {
                from_per_sec + (to_per_sec - from_per_sec) * over / (over_ms / 1000.0)
            };
            (from_per_sec + end_rate) / 2.0 * over + to_per_sec * (secs - over)
        }
    }
}

/// Message copies a scenario's producers and scripted bursts would publish over its first
/// `secs` seconds: what the runner checks against its budget before it starts.
pub fn expected_copies(scenario: &Scenario, secs: f64) -> f64 {
    let targets = |name: &str| {
        (scenario.producers.iter())
            .find(|p| p.name == name)
            .map_or(1, |p| p.targets.len().max(1)) as f64
    };
    let by_rate: f64 = (scenario.producers.iter())
        .filter(|p| !p.paused)
        .map(|p| {
            let n = expected_messages(&p.rate, secs);
            p.limit.map_or(n, |l| n.min(l as f64)) * p.targets.len().max(1) as f64
        })
        .sum();
    let by_script: f64 = (scenario.script.iter())
        .filter(|s| s.at_ms / 1000.0 <= secs)
        .map(|s| match &s.command {
            Command::Burst { producer, count } => *count as f64 * targets(producer),
            Command::AddProducer { producer } => {
                let span = (secs - s.at_ms / 1000.0).max(0.0);
                expected_messages(&producer.rate, span) * producer.targets.len().max(1) as f64
            }
            _ => 0.0,
        })
        .sum();
    by_rate + by_script
}

/// Refuses, before any work, a run whose producers alone would publish more copies by `until`
/// than `max_work` work items can carry (each copy takes at least one).
pub fn check_work_budget(scenario: &Scenario, until: SimTime, max_work: u64) -> Result<(), String> {
    let copies = expected_copies(scenario, until.0 as f64 / 1e6);
    if copies > max_work as f64 {
        return Err(format!(
            "this run would publish about {copies:.3e} message copies by {until}, over the work \
             budget of {max_work} work items; shorten the run or raise the budget (--max-work)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(from: f64, to: f64, over_ms: f64) -> RatePattern {
        RatePattern::Ramp {
            from_per_sec: from,
            to_per_sec: to,
            over_ms,
        }
    }

    fn square(high: f64, low: f64, period_ms: f64, duty: f64) -> RatePattern {
        RatePattern::Square {
            high_per_sec: high,
            low_per_sec: low,
            period_ms,
            duty,
        }
    }

    /// Counts the messages a pattern publishes over `secs` by stepping `seconds_to_next`.
    fn count(rate: &RatePattern, secs: f64) -> u64 {
        let (mut t, mut n) = (0.0, 0);
        while let Some(dt) = seconds_to_next(rate, t) {
            t += dt.max(1e-6);
            if t > secs {
                break;
            }
            n += 1;
        }
        n
    }

    #[test]
    fn qt_ramp_from_near_zero_starts_publishing() {
        let r = ramp(1e-12, 100_000.0, 10_000.0);
        let first = seconds_to_next(&r, 0.0).expect("it publishes");
        // ∫ k·s ds = 1 with k = 10,000/s² gives s = √(2/k) ≈ 14 ms.
        assert!((first - (2.0f64 / 10_000.0).sqrt()).abs() < 1e-6, "{first}");
        let n = count(&r, 10.0);
        assert!((499_000..=501_000).contains(&n), "{n}");
    }

    #[test]
    fn qt_ramp_count_matches_its_integral() {
        for (from, to, over) in [
            (0.0, 100.0, 2_000.0),
            (100.0, 0.0, 2_000.0),
            (5.0, 50.0, 500.0),
        ] {
            let r = ramp(from, to, over);
            let expect = expected_messages(&r, 3.0);
            let n = count(&r, 3.0) as f64;
            assert!((n - expect).abs() <= 1.0, "{from}->{to}: {n} vs {expect}");
        }
    }

    #[test]
    fn qt_ramp_to_zero_goes_idle_for_good() {
        assert_eq!(seconds_to_next(&ramp(0.0, 0.0, 1_000.0), 0.0), None);
        assert_eq!(seconds_to_next(&ramp(10.0, 0.0, 1_000.0), 2.0), None);
    }

    #[test]
    fn qt_square_skips_idle_phases_in_one_step() {
        // 10/s for 100 ms out of every second, 0/s otherwise: one message per period.
        let s = square(10.0, 0.0, 1_000.0, 0.1);
        let first = seconds_to_next(&s, 0.0).unwrap();
        assert!((first - 0.1).abs() < 1e-9, "{first}");
        let next = seconds_to_next(&s, 0.1).unwrap();
        assert!((next - 1.0).abs() < 1e-9, "{next}");
        assert_eq!(count(&s, 100.0), 100);
    }

    #[test]
    fn qt_square_at_a_tiny_rate_jumps_whole_periods() {
        let s = square(1e-6, 0.0, 1_000.0, 0.5);
        let dt = seconds_to_next(&s, 0.0).unwrap();
        assert!((dt - 2e6).abs() / 2e6 < 1e-6, "{dt}");
        assert_eq!(seconds_to_next(&square(0.0, 0.0, 100.0, 0.5), 0.0), None);
    }

    #[test]
    fn qt_square_count_matches_its_average() {
        let s = square(100.0, 20.0, 250.0, 0.3);
        let n = count(&s, 10.0) as f64;
        let expect = expected_messages(&s, 10.0);
        assert!((n - expect).abs() <= 1.0, "{n} vs {expect}");
    }
}
