//! The small, comparable figures the panels show. The frame loop recomputes them every frame
//! and hands them to yew only when they changed, so panels re-render only then.

use crate::driver::Driver;
use broker_sim::{DeadLetterReason, DropReason, Ledger, SimTime};
use std::collections::BTreeMap;

/// The ledger as the panel shows it: `created` and one count per state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LedgerModel {
    pub created: u64,
    /// `Ledger::states()`: state name → count.
    pub states: BTreeMap<String, u64>,
    /// The `dropped` state split by reason, and `dead_lettered` by `x-death` reason.
    pub dropped_by: BTreeMap<DropReason, u64>,
    pub dead_lettered_by: BTreeMap<DeadLetterReason, u64>,
    pub balanced: bool,
}

impl LedgerModel {
    pub fn from_ledger(ledger: &Ledger) -> LedgerModel {
        LedgerModel {
            created: ledger.created,
            states: ledger.states(),
            dropped_by: ledger.dropped.clone(),
            dead_lettered_by: ledger.dead_lettered.clone(),
            balanced: ledger.is_balanced(),
        }
    }

    pub fn state(&self, name: &str) -> u64 {
        self.states.get(name).copied().unwrap_or(0)
    }

    /// The `data-ledger` attribute: `{"created":n,"states":{...},"balanced":bool}`, plus
    /// `dropped_by` and `dead_lettered_by` (reason → count; they sum to their states).
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "created": self.created,
            "states": self.states,
            "dropped_by": self.dropped_by,
            "dead_lettered_by": self.dead_lettered_by,
            "balanced": self.balanced,
        })
        .to_string()
    }
}

/// Everything the panels show apart from the clock, which changes every frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PanelModel {
    pub playing: bool,
    pub speed: f64,
    pub lagging: bool,
    pub ledger: LedgerModel,
}

impl PanelModel {
    pub fn from_driver(driver: &Driver) -> PanelModel {
        let ledger = driver.sim().ledger();
        PanelModel {
            playing: driver.playing(),
            speed: driver.speed(),
            lagging: driver.lagging(),
            ledger: LedgerModel::from_ledger(ledger),
        }
    }
}

/// The clock as shown, with millisecond resolution: `12.345 s`.
pub fn format_clock(t: SimTime) -> String {
    let ms = t.micros() / 1_000;
    format!("{}.{:03} s", ms / 1_000, ms % 1_000)
}

/// An integer with thousands separators: `12,345`.
pub fn format_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A speed as offered in the select: `0.1×`, `1×`, `100×`.
pub fn format_speed(speed: f64) -> String {
    format!("{speed}×")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_text() {
        assert_eq!(format_clock(SimTime::ZERO), "0.000 s");
        assert_eq!(format_clock(SimTime(12_345_678)), "12.345 s");
        assert_eq!(format_clock(SimTime::from_secs(3_600)), "3600.000 s");
    }

    #[test]
    fn counts_have_separators() {
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(1_000), "1,000");
        assert_eq!(format_count(9_990), "9,990");
        assert_eq!(format_count(1_234_567), "1,234,567");
    }

    #[test]
    fn speeds_read_naturally() {
        assert_eq!(format_speed(0.1), "0.1×");
        assert_eq!(format_speed(1.0), "1×");
        assert_eq!(format_speed(100.0), "100×");
    }

    #[test]
    fn ledger_json_sums_to_created() {
        let mut d = Driver::with_default_scenario();
        d.set_playing(true);
        for _ in 0..100 {
            d.tick(100.0);
        }
        let model = PanelModel::from_driver(&d);
        let acked = model.ledger.state("acked");
        assert!(acked > 0);
        assert_eq!(acked, d.sim().ledger().acked);
        let v: serde_json::Value = serde_json::from_str(&model.ledger.to_json()).unwrap();
        let created = v["created"].as_u64().unwrap();
        let sum: u64 = v["states"]
            .as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum();
        assert_eq!(sum, created);
        assert_eq!(v["balanced"], serde_json::Value::Bool(true));
        assert_eq!(v["states"]["acked"].as_u64(), Some(acked));
    }
}
