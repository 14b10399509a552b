//! The simulation's one random number generator and its distributions.
//!
//! Distributions use `libm` rather than `f64::ln`, because std's float functions may call the
//! platform's libm, whose last bit can differ between x86_64 and wasm32 and break trace identity.

use rand_core::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

/// Seeded PCG; the only source of randomness in a run.
#[derive(Clone, Debug)]
pub struct SimRng(Pcg64Mcg);

impl SimRng {
    pub fn new(seed: u64) -> SimRng {
        SimRng(Pcg64Mcg::seed_from_u64(seed))
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// True with probability `p` (clamped to [0, 1]).
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    /// Exponential with the given mean, in the same unit as the mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        // 1 - unit() lies in (0, 1], so ln never sees zero.
        -mean * libm::log(1.0 - self.unit())
    }

    /// Uniform integer in [lo, hi] (inclusive); `lo` when the range is empty.
    pub fn range_u64(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        let span = hi - lo + 1;
        if span == 0 {
            return self.0.next_u64();
        }
        lo + self.0.next_u64() % span
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = SimRng::new(7);
        let mut b = SimRng::new(7);
        for _ in 0..100 {
            assert_eq!(a.unit().to_bits(), b.unit().to_bits());
        }
        assert_ne!(
            SimRng::new(8).unit().to_bits(),
            SimRng::new(7).unit().to_bits()
        );
    }

    #[test]
    fn exponential_mean_is_close() {
        let mut r = SimRng::new(1);
        let n = 200_000;
        let mean: f64 = (0..n).map(|_| r.exponential(3.0)).sum::<f64>() / n as f64;
        assert!((mean - 3.0).abs() < 0.03, "mean {mean}");
    }

    #[test]
    fn range_is_inclusive_and_bounded() {
        let mut r = SimRng::new(3);
        let mut seen = [false; 4];
        for _ in 0..1000 {
            let v = r.range_u64(2, 5);
            assert!((2..=5).contains(&v));
            seen[(v - 2) as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }
}
