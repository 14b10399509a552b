//! Queueing theory on screen (`reference/semantics.md` §8, QT-1…QT-5): the formulas, the model
//! choice, and the bounded running statistics they are fed from. No UI types; the measurement
//! itself is [`crate::kernel::meter`], read through [`crate::Simulation::theory`].
//!
//! Rates are per second and times in seconds. A prediction is `None` when the queue is not
//! stable (ρ ≥ 1): it then grows without bound at λ − cμ per second.

use serde::Serialize;

/// What a stable queue is predicted to do.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Prediction {
    /// Mean wait in queue, seconds.
    pub wq: f64,
    /// Mean queue length (waiting, not in service): λ·Wq by Little's law (QT-1).
    pub lq: f64,
    /// Probability an arrival waits at all; `None` where the model gives no closed form.
    pub p_wait: Option<f64>,
}

/// Which formula a queue's measured coefficients of variation call for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// Poisson arrivals, exponential service: Erlang C (QT-3; QT-2 when c = 1).
    Mmc,
    /// Poisson arrivals, fixed service, one server: Pollaczek–Khinchine with C_s² = 0 (QT-4).
    Md1,
    /// Poisson arrivals, any service, one server: Pollaczek–Khinchine (QT-4).
    Mg1,
    /// Anything else: Kingman's approximation, scaled from Erlang C for c > 1 (QT-5).
    Ggc,
}

/// How far a squared coefficient of variation may be from 1 (Poisson, exponential) or 0
/// (fixed) and still count as that shape.
pub const CV2_TOLERANCE: f64 = 0.2;

impl Model {
    /// The model for `c` servers with measured arrival and service C² (`ca2`, `cs2`).
    pub fn choose(c: u32, ca2: f64, cs2: f64) -> Model {
        let near = |x: f64, to: f64| (x - to).abs() <= CV2_TOLERANCE;
        match (near(ca2, 1.0), c) {
            (true, _) if near(cs2, 1.0) => Model::Mmc,
            (true, 1) if near(cs2, 0.0) => Model::Md1,
            (true, 1) => Model::Mg1,
            _ => Model::Ggc,
        }
    }

    pub fn predict(self, lambda: f64, mu: f64, c: u32, ca2: f64, cs2: f64) -> Option<Prediction> {
        match self {
            Model::Mmc => mmc(lambda, mu, c),
            Model::Md1 => mg1(lambda, mu, 0.0),
            Model::Mg1 => mg1(lambda, mu, cs2),
            Model::Ggc => kingman(lambda, mu, c, ca2, cs2),
        }
    }
}

/// ρ = λ/(cμ), the utilisation of each server.
pub fn utilisation(lambda: f64, mu: f64, c: u32) -> f64 {
    lambda / (f64::from(c) * mu)
}

fn stable(lambda: f64, mu: f64, c: u32) -> bool {
    lambda > 0.0 && mu > 0.0 && c > 0 && utilisation(lambda, mu, c) < 1.0
}

/// Erlang C, the probability an arrival waits, by the stable Erlang-B recursion (QT-3):
/// B₀ = 1, B_k = aB_{k−1}/(k + aB_{k−1}), C = cB_c/(c − a(1 − B_c)), with a = λ/μ.
pub fn erlang_c(lambda: f64, mu: f64, c: u32) -> f64 {
    let a = lambda / mu;
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    f64::from(c) * b / (f64::from(c) - a * (1.0 - b))
}

/// M/M/c (QT-3; M/M/1 is QT-2): Wq = C/(cμ − λ).
pub fn mmc(lambda: f64, mu: f64, c: u32) -> Option<Prediction> {
    stable(lambda, mu, c).then(|| {
        let p = erlang_c(lambda, mu, c);
        let wq = p / (f64::from(c) * mu - lambda);
        Prediction {
            wq,
            lq: lambda * wq,
            p_wait: Some(p),
        }
    })
}

/// Pollaczek–Khinchine for M/G/1 (QT-4): Wq = E[S]·ρ(1 + C_s²)/(2(1 − ρ)). An arrival waits
/// when it finds the server busy, which by PASTA is ρ of the time.
pub fn mg1(lambda: f64, mu: f64, cs2: f64) -> Option<Prediction> {
    stable(lambda, mu, 1).then(|| {
        let rho = lambda / mu;
        let wq = rho * (1.0 + cs2) / (2.0 * mu * (1.0 - rho));
        Prediction {
            wq,
            lq: lambda * wq,
            p_wait: Some(rho),
        }
    })
}

/// Kingman's approximation (QT-5), Wq ≈ E[S]·ρ/(1 − ρ)·(C_a² + C_s²)/2 for one server; for c
/// servers the same factor scales the M/M/c wait (Allen–Cunneen), which is Kingman at c = 1.
pub fn kingman(lambda: f64, mu: f64, c: u32, ca2: f64, cs2: f64) -> Option<Prediction> {
    let m = mmc(lambda, mu, c)?;
    let wq = m.wq * (ca2 + cs2) / 2.0;
    Some(Prediction {
        wq,
        lq: lambda * wq,
        p_wait: None,
    })
}

/// Count, sum and sum of squares of whole microseconds: exact, so a fixed service time has a
/// C² of exactly 0, and bounded however long the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Moments {
    pub n: u64,
    sum: u128,
    sum_sq: u128,
}

impl Moments {
    pub fn record(&mut self, us: u64) {
        self.n += 1;
        self.sum += u128::from(us);
        self.sum_sq += u128::from(us) * u128::from(us);
    }

    pub fn merge(&mut self, other: &Moments) {
        self.n += other.n;
        self.sum += other.sum;
        self.sum_sq += other.sum_sq;
    }

    /// Mean in seconds; `None` when empty.
    pub fn mean_secs(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum as f64 / self.n as f64 / 1e6)
    }

    /// Squared coefficient of variation, variance / mean² (population variance, exact in
    /// integers); `None` with fewer than two values or a zero mean.
    pub fn cv2(&self) -> Option<f64> {
        if self.n < 2 || self.sum == 0 {
            return None;
        }
        let n = u128::from(self.n);
        // n²·variance = nΣx² − (Σx)², never negative in exact arithmetic.
        let spread = (n * self.sum_sq).saturating_sub(self.sum * self.sum);
        Some(spread as f64 / (self.sum as f64 * self.sum as f64))
    }
}

/// The number of batches the confidence band is built from: between this and twice this.
pub const BATCHES: usize = 10;

/// Batch means over a series in arrival order, in bounded memory: values fill batches of
/// `size`; when 2·[`BATCHES`] batches are full, neighbours merge and `size` doubles. The band is
/// the mean of the full batches ± t(0.975, b − 1)·s/√b, which allows for the correlation
/// between neighbouring waits that a plain standard error would ignore.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BatchMeans {
    size: u64,
    full: Vec<u128>,
    open_sum: u128,
    open_n: u64,
}

impl Default for BatchMeans {
    fn default() -> Self {
        BatchMeans {
            size: 1,
            full: Vec::with_capacity(2 * BATCHES),
            open_sum: 0,
            open_n: 0,
        }
    }
}

/// Student's t at 0.975 for 9…19 degrees of freedom.
const T_975: [f64; BATCHES + 1] = [
    2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093,
];

impl BatchMeans {
    pub fn record(&mut self, us: u64) {
        self.open_sum += u128::from(us);
        self.open_n += 1;
        if self.open_n < self.size {
            return;
        }
        self.full.push(self.open_sum);
        (self.open_sum, self.open_n) = (0, 0);
        if self.full.len() == 2 * BATCHES {
            self.full = self.full.chunks(2).map(|p| p[0] + p[1]).collect();
            self.size *= 2;
        }
    }

    /// (mean, half-width of the 95% band), in seconds, once [`BATCHES`] batches are full.
    pub fn band(&self) -> Option<(f64, f64)> {
        let b = self.full.len();
        if b < BATCHES {
            return None;
        }
        let means: Vec<f64> = (self.full.iter())
            .map(|s| *s as f64 / self.size as f64 / 1e6)
            .collect();
        let mean = means.iter().sum::<f64>() / b as f64;
        let var = means.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / (b - 1) as f64;
        Some((mean, T_975[b - BATCHES] * (var / b as f64).sqrt()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(x: f64, want: f64, digits: i32) {
        let tol = 0.5 * 10f64.powi(-digits);
        assert!(
            (x - want).abs() <= tol,
            "{x} is not {want} to {digits} digits"
        );
    }

    #[test]
    fn qt_2_mm1_lambda_8_mu_10() {
        let p = mmc(8.0, 10.0, 1).unwrap();
        close(p.wq, 0.4, 12);
        close(p.lq, 3.2, 12);
        close(p.p_wait.unwrap(), 0.8, 12);
        // W = Wq + 1/μ = 0.5 s and L = λW = 4.
        close(p.wq + 0.1, 0.5, 12);
        close(8.0 * (p.wq + 0.1), 4.0, 12);
    }

    #[test]
    fn qt_3_erlang_c_ten_servers() {
        let p = mmc(2.0, 1.0 / 3.0, 10).unwrap();
        close(p.p_wait.unwrap(), 0.1013, 4);
        close(p.wq, 0.0760, 4);
        close(p.lq, 0.152, 3);
    }

    #[test]
    fn qt_3_erlang_c_two_servers() {
        let p = mmc(8.0, 5.0, 2).unwrap();
        close(p.p_wait.unwrap(), 0.7111, 4);
        close(p.wq, 0.3556, 4);
        close(8.0 * (p.wq + 0.2), 4.444, 3);
    }

    #[test]
    fn qt_4_md1_halves_only_the_wait_in_queue() {
        let p = mg1(8.0, 10.0, 0.0).unwrap();
        close(p.wq, 0.2, 12);
        close(p.lq, 1.6, 12);
        close(p.wq + 0.1, 0.3, 12);
        close(8.0 * (p.wq + 0.1), 2.4, 12);
        // P-K with C_s² = 1 is M/M/1 again.
        close(mg1(8.0, 10.0, 1.0).unwrap().wq, 0.4, 12);
    }

    #[test]
    fn qt_5_one_shared_queue_beats_two_separate_ones() {
        close(mmc(8.0, 5.0, 2).unwrap().wq, 0.356, 3);
        close(mmc(4.0, 5.0, 1).unwrap().wq, 0.8, 12);
        // Kingman with C_a² = C_s² = 1 is the M/M/c value; at c = 1 it is P-K's for Poisson.
        assert_eq!(
            kingman(8.0, 5.0, 2, 1.0, 1.0),
            mmc(8.0, 5.0, 2).map(|p| Prediction { p_wait: None, ..p })
        );
        close(kingman(8.0, 10.0, 1, 1.0, 0.0).unwrap().wq, 0.2, 12);
    }

    #[test]
    fn qt_5_unstable_queues_have_no_prediction() {
        assert_eq!(mmc(10.0, 5.0, 2), None);
        assert_eq!(mg1(10.0, 10.0, 0.0), None);
        assert_eq!(kingman(12.0, 5.0, 2, 1.0, 1.0), None);
        close(utilisation(12.0, 5.0, 2), 1.2, 12);
    }

    #[test]
    fn qt_5_model_follows_the_coefficients_of_variation() {
        assert_eq!(Model::choose(2, 1.05, 0.9), Model::Mmc);
        assert_eq!(Model::choose(1, 1.0, 0.0), Model::Md1);
        assert_eq!(Model::choose(1, 0.9, 0.5), Model::Mg1);
        assert_eq!(Model::choose(3, 1.0, 0.0), Model::Ggc);
        assert_eq!(Model::choose(1, 0.0, 1.0), Model::Ggc);
    }

    #[test]
    fn moments_are_exact_for_fixed_values() {
        let mut m = Moments::default();
        for _ in 0..1000 {
            m.record(100_000);
        }
        assert_eq!(m.cv2(), Some(0.0));
        assert_eq!(m.mean_secs(), Some(0.1));
        let mut e = Moments::default();
        [1, 3].into_iter().for_each(|x| e.record(x));
        // Mean 2, population variance 1: C² = 1/4.
        assert_eq!(e.cv2(), Some(0.25));
    }

    #[test]
    fn batch_means_keep_between_10_and_20_batches() {
        let mut b = BatchMeans::default();
        for i in 0..9 {
            b.record(i);
        }
        assert_eq!(b.band(), None);
        for i in 0..100_000u64 {
            b.record(1_000_000 + (i % 2) * 2_000_000);
        }
        assert!((BATCHES..2 * BATCHES).contains(&b.full.len()));
        let (mean, half) = b.band().unwrap();
        close(mean, 2.0, 3);
        assert!(
            half < 0.01,
            "alternating values average out within a batch: {half}"
        );
    }
}
