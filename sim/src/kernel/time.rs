//! Integer virtual time. The core never reads a wall clock.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Simulated time in microseconds since the start of a run.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct SimTime(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub const fn from_millis(ms: u64) -> SimTime {
        SimTime(ms.saturating_mul(1_000))
    }

    pub const fn from_secs(s: u64) -> SimTime {
        SimTime(s.saturating_mul(1_000_000))
    }

    pub const fn micros(self) -> u64 {
        self.0
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// Saturating add, so absurd durations clamp to the end of time instead of wrapping.
    pub const fn plus(self, micros: u64) -> SimTime {
        SimTime(self.0.saturating_add(micros))
    }

    pub const fn since(self, earlier: SimTime) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

impl SimTime {
    /// "12.345s" into any writer: the trace digest takes it without `fmt::Formatter`.
    pub(crate) fn write_to<W: fmt::Write>(self, f: &mut W) -> fmt::Result {
        // Built in one buffer: this runs for every event's trace line.
        let ms = self.0 / 1_000;
        let (secs, frac) = (ms / 1_000, ms % 1_000);
        let mut buf = [0u8; 26];
        let end = buf.len() - 5;
        buf[end..].copy_from_slice(&[
            b'.',
            b'0' + (frac / 100) as u8,
            b'0' + (frac / 10 % 10) as u8,
            b'0' + (frac % 10) as u8,
            b's',
        ]);
        let i = crate::ids::decimal_before(&mut buf, end, secs);
        // SAFETY: only ASCII digits, '.' and 's' were written there.
        f.write_str(unsafe { std::str::from_utf8_unchecked(&buf[i..]) })
    }
}
