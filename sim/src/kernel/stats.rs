//! Run statistics for the panels: latency histograms, RabbitMQ-style message rates and bounded
//! chart series, all in integer simulated time.

use serde::Serialize;

/// log2 of the linear sub-buckets per power of two: 64 sub-buckets make a bucket at most 1/64 of
/// its lower bound wide, so a mid-bucket representative is within 1/128 (< 1%) of any member.
const SUB_BITS: u32 = 6;
const SUB_COUNT: usize = 1 << SUB_BITS;
/// RabbitMQ's default `collect_statistics_interval` (5000 ms).
const DEFAULT_RATE_INTERVAL_MICROS: u64 = 5_000_000;

/// Index of the bucket holding `v`.
fn bucket_index(v: u64) -> usize {
    if v < SUB_COUNT as u64 {
        return v as usize;
    }
    // `shift` is how many low bits the bucket ignores; `v >> shift` keeps the top SUB_BITS + 1 bits.
    let shift = 63 - v.leading_zeros() - SUB_BITS;
    shift as usize * SUB_COUNT + (v >> shift) as usize
}

/// Lowest value and width of bucket `idx` (the inverse of [`bucket_index`]).
fn bucket_bounds(idx: usize) -> (u64, u64) {
    if idx < SUB_COUNT {
        return (idx as u64, 1);
    }
    let shift = (idx / SUB_COUNT - 1) as u32;
    let sub = (idx - shift as usize * SUB_COUNT) as u64;
    (sub << shift, 1 << shift)
}

/// Latency histogram with log-linear buckets (like HdrHistogram with ~2 significant digits):
/// record values in microseconds `0..=u64::MAX`, bounded memory, quantiles within 1% relative error.
///
/// Buckets are allocated only up to the highest recorded value: about 2.5 KB for latencies under
/// 1 ms, about 6 KB under 100 ms, and at most 3,776 counters (about 30 KB) for the full u64 range.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LatencyHistogram {
    /// Count per bucket, trimmed after the highest non-empty bucket.
    counts: Vec<u64>,
    count: u64,
    /// u128 so that the mean stays exact: even 2^64 records of u64::MAX cannot overflow it.
    sum: u128,
    min: u64,
    max: u64,
}

impl LatencyHistogram {
    /// Adds one observation of `micros`.
    pub fn record(&mut self, micros: u64) {
        let idx = bucket_index(micros);
        if self.counts.len() <= idx {
            self.counts.resize(idx + 1, 0);
        }
        self.counts[idx] = self.counts[idx].saturating_add(1);
        self.min = if self.count == 0 {
            micros
        } else {
            self.min.min(micros)
        };
        self.max = self.max.max(micros);
        self.count = self.count.saturating_add(1);
        self.sum = self.sum.saturating_add(u128::from(micros));
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Exact arithmetic mean of the recorded values (rounded once to f64); 0.0 when empty.
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        self.sum as f64 / self.count as f64
    }

    /// The nearest-rank `q`-quantile: an estimate within 1% of the `ceil(q * count)`-th smallest
    /// recorded value; 0 when empty.
    ///
    /// `q` is clamped to `[0, 1]`, so `quantile(0.0)` is the exact minimum and `quantile(1.0)` the
    /// exact maximum. NaN is treated as 0.5 (the median) so that a bad input still shows a
    /// typical value instead of an extreme one.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let q = if q.is_nan() { 0.5 } else { q.clamp(0.0, 1.0) };
        // The f64 -> u64 cast saturates, and the clamp keeps the rank within 1..=count.
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        if rank == 1 {
            return self.min;
        }
        if rank == self.count {
            return self.max;
        }
        let mut seen = 0u64;
        for (idx, &c) in self.counts.iter().enumerate() {
            seen = seen.saturating_add(c);
            if seen >= rank {
                let (lo, width) = bucket_bounds(idx);
                // The upper middle of the bucket halves the worst-case error; values near the
                // extremes must not be reported outside what was actually observed.
                return (lo + width / 2).clamp(self.min, self.max);
            }
        }
        self.max
    }

    /// Largest recorded value; 0 when empty.
    pub fn max(&self) -> u64 {
        self.max
    }
}

/// Rates in RabbitMQ management-UI style (RMQ-35): events are counted in fixed windows of
/// `interval` microseconds (default 5 s, RabbitMQ's `collect_statistics_interval`), and the rate is
/// the count in the last *completed* window divided by the window length in seconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RateMeter {
    interval: u64,
    total: u64,
    /// Index (`now / interval`) of the window that `current` counts.
    window: u64,
    current: u64,
    /// Count of window `window - 1`; 0 if that window saw no events.
    previous: u64,
}

impl Default for RateMeter {
    fn default() -> Self {
        Self::new(DEFAULT_RATE_INTERVAL_MICROS)
    }
}

impl RateMeter {
    /// A meter with windows of `interval_micros`; 0 is treated as 1 µs.
    pub fn new(interval_micros: u64) -> Self {
        RateMeter {
            interval: interval_micros.max(1),
            total: 0,
            window: 0,
            current: 0,
            previous: 0,
        }
    }

    /// Counts `n` events at time `now`. `now` should not decrease; if it does, the events are
    /// counted in the latest window instead.
    pub fn record(&mut self, now: u64, n: u64) {
        let w = now / self.interval;
        if w > self.window {
            // Only a window directly before the new one can be "the last completed window".
            self.previous = if w - self.window == 1 {
                self.current
            } else {
                0
            };
            self.window = w;
            self.current = 0;
        }
        self.current = self.current.saturating_add(n);
        self.total = self.total.saturating_add(n);
    }

    /// Events recorded over the whole run.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Events per second in the last window completed before `now`: 0 during the first window,
    /// and 0 once a whole window has passed without events (traffic stopped). A `now` before the
    /// latest record is treated as that record's time.
    pub fn per_sec(&self, now: u64) -> f64 {
        let count = match (now / self.interval).checked_sub(self.window) {
            None | Some(0) => self.previous,
            Some(1) => self.current,
            Some(_) => 0,
        };
        count as f64 * 1_000_000.0 / self.interval as f64
    }
}

/// A bounded time series for charts: `(t, value)` points in time order. When a new point would
/// exceed `capacity`, adjacent pairs are merged (the later `t`, the mean value, as suits gauges)
/// and the spacing doubles, so any run length stays within `capacity` points and the whole run
/// stays visible.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Series {
    capacity: usize,
    /// Current slot width in µs: a power-of-two multiple of the initial spacing, so each halving
    /// merges slots of the old grid into slots of the new one.
    spacing: u64,
    points: Vec<(u64, f64)>,
}

impl Series {
    /// An empty series of at most `capacity` points (clamped to at least 4) that starts with one
    /// point per `min_spacing_micros` (0 is treated as 1 µs, so that same-instant pushes collapse).
    pub fn new(capacity: usize, min_spacing_micros: u64) -> Self {
        Series {
            capacity: capacity.max(4),
            spacing: min_spacing_micros.max(1),
            // No preallocation: a huge requested capacity must not allocate (or abort) up front.
            points: Vec::new(),
        }
    }

    /// Samples `value` at time `t`. A push in the same slot (`t / spacing`) as the last point
    /// replaces it (last-value sampling). `t` should not decrease; an earlier `t` is treated as
    /// the last point's time, which keeps the points sorted.
    pub fn push(&mut self, t: u64, value: f64) {
        if let Some(last) = self.points.last_mut() {
            let t = t.max(last.0);
            if t / self.spacing == last.0 / self.spacing {
                *last = (t, value);
                return;
            }
        }
        if self.points.len() >= self.capacity {
            self.halve();
        }
        self.points.push((t, value));
    }

    /// Merges adjacent pairs and doubles the spacing; an odd last point is kept as it is.
    fn halve(&mut self) {
        self.points = self
            .points
            .chunks(2)
            .filter_map(|pair| {
                let &(t, _) = pair.last()?;
                let n = pair.len() as f64;
                // Divide before adding so that two huge values cannot overflow to infinity.
                let mean = pair.iter().map(|&(_, v)| v / n).sum();
                Some((t, mean))
            })
            .collect();
        self.spacing = self.spacing.saturating_mul(2);
    }

    /// The points, oldest first.
    pub fn points(&self) -> &[(u64, f64)] {
        &self.points
    }

    /// Number of points held.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether no point has been pushed yet.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values below `SUB_COUNT` get one bucket each; every higher power of two (2^6 ..= 2^63)
    /// gets `SUB_COUNT` buckets, so the whole u64 range needs 64 + 58 * 64 = 3,776 buckets.
    const BUCKETS: usize = SUB_COUNT * (64 - SUB_BITS as usize + 1);

    /// xorshift64: deterministic test input without a dependency.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
    }

    /// `est` is within 1% of `exact` (integer math, so no rounding doubt).
    fn within_one_percent(est: u64, exact: u64) -> bool {
        u128::from(est.abs_diff(exact)) * 100 <= u128::from(exact)
    }

    #[test]
    fn buckets_tile_the_whole_u64_range() {
        let mut next_lo = 0u64;
        for idx in 0..BUCKETS {
            let (lo, width) = bucket_bounds(idx);
            assert_eq!(lo, next_lo, "gap or overlap before bucket {idx}");
            assert_eq!(bucket_index(lo), idx);
            let hi = lo + (width - 1);
            assert_eq!(bucket_index(hi), idx);
            if idx >= SUB_COUNT {
                assert!(width * SUB_COUNT as u64 <= lo, "bucket {idx} too wide");
            }
            next_lo = hi.wrapping_add(1);
        }
        assert_eq!(next_lo, 0, "the last bucket must end at u64::MAX");
    }

    #[test]
    fn quantiles_are_within_one_percent_of_exact_order_statistics() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        // Log-uniform-ish values across the whole range, plus the edges.
        let mut values: Vec<u64> = (0..20_000)
            .map(|_| rng.next() >> (rng.next() % 64))
            .collect();
        values.extend([0, 0, 1, 1, 63, 64, 65, u64::MAX - 1, u64::MAX]);
        let mut h = LatencyHistogram::default();
        for &v in &values {
            h.record(v);
        }
        values.sort_unstable();
        let n = values.len() as u64;
        assert_eq!(h.count(), n);
        assert_eq!(h.max(), u64::MAX);
        for i in 0..=1000 {
            let q = f64::from(i) / 1000.0;
            let rank = ((q * n as f64).ceil() as u64).clamp(1, n);
            let exact = values[(rank - 1) as usize];
            let est = h.quantile(q);
            assert!(within_one_percent(est, exact), "q={q}: {est} vs {exact}");
        }
        assert_eq!(h.quantile(0.0), 0);
        assert_eq!(h.quantile(1.0), u64::MAX);
    }

    #[test]
    fn small_values_are_exact() {
        let mut h = LatencyHistogram::default();
        for v in [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55] {
            h.record(v);
        }
        assert_eq!(h.quantile(0.0), 0);
        assert_eq!(h.quantile(0.2), 1);
        assert_eq!(h.quantile(0.5), 5);
        assert_eq!(h.quantile(1.0), 55);
    }

    #[test]
    fn mean_is_exact_even_for_huge_values() {
        let mut h = LatencyHistogram::default();
        h.record(u64::MAX);
        h.record(u64::MAX);
        assert_eq!(h.mean(), u64::MAX as f64);
        let mut h = LatencyHistogram::default();
        for v in [1, 2, 3, 4] {
            h.record(v);
        }
        assert_eq!(h.mean(), 2.5);
    }

    #[test]
    fn empty_histogram_reports_zeros() {
        let h = LatencyHistogram::default();
        assert_eq!(h.count(), 0);
        assert_eq!(h.mean(), 0.0);
        assert_eq!(h.max(), 0);
        assert_eq!(h.quantile(0.5), 0);
        assert_eq!(h.quantile(f64::NAN), 0);
    }

    #[test]
    fn quantile_clamps_q_and_treats_nan_as_median() {
        let mut h = LatencyHistogram::default();
        for v in 1..=101 {
            h.record(v);
        }
        assert_eq!(h.quantile(-1.0), 1);
        assert_eq!(h.quantile(f64::NEG_INFINITY), 1);
        assert_eq!(h.quantile(2.0), 101);
        assert_eq!(h.quantile(f64::INFINITY), 101);
        assert_eq!(h.quantile(f64::NAN), h.quantile(0.5));
        assert!(within_one_percent(h.quantile(f64::NAN), 51));
    }

    #[test]
    fn histogram_memory_is_bounded() {
        let mut h = LatencyHistogram::default();
        for v in 0..1_000u64 {
            h.record(v);
        }
        // Sub-millisecond latencies need only about 320 counters (2.5 KB).
        assert!(h.counts.len() <= 320, "{}", h.counts.len());
        h.record(u64::MAX);
        assert_eq!(h.counts.len(), BUCKETS);
    }

    #[test]
    fn rmq_35_rate_is_per_second_over_collect_interval() {
        let mut m = RateMeter::default();
        for i in 0..50 {
            m.record(i * 100_000, 1); // 50 events within [0 s, 5 s)
        }
        assert_eq!(m.per_sec(4_999_999), 0.0, "no window has completed yet");
        assert_eq!(m.per_sec(5_000_000), 10.0);
        assert_eq!(m.per_sec(9_999_999), 10.0);
        // [5 s, 10 s) had no events, so traffic has stopped.
        assert_eq!(m.per_sec(10_000_000), 0.0);
        m.record(12_000_000, 5);
        assert_eq!(
            m.per_sec(12_000_000),
            0.0,
            "the last completed window was empty"
        );
        assert_eq!(m.per_sec(15_000_000), 1.0);
        assert_eq!(m.total(), 55);
    }

    #[test]
    fn rate_meter_handles_degenerate_input() {
        let mut m = RateMeter::new(0);
        m.record(u64::MAX, u64::MAX);
        m.record(u64::MAX, u64::MAX);
        m.record(3, 1); // time going backwards counts in the latest window
        assert_eq!(m.total(), u64::MAX);
        assert_eq!(m.per_sec(0), 0.0);
        assert_eq!(m.per_sec(u64::MAX), 0.0);
    }

    #[test]
    fn series_stays_bounded_and_covers_the_whole_run() {
        let mut s = Series::new(100, 1);
        let (start, end) = (1_000u64, 1_000_000u64 + 999);
        for t in start..=end {
            s.push(t, (t % 7) as f64);
            assert!(s.len() <= 100);
        }
        let points = s.points();
        assert!(
            points.len() >= 50,
            "halving keeps at least half: {}",
            points.len()
        );
        assert!(points.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(points.last().map(|p| p.0), Some(end));
        // The first point stands for the first slot of the current resolution.
        assert!(
            points[0].0 - start < s.spacing,
            "{} vs {}",
            points[0].0,
            s.spacing
        );
    }

    #[test]
    fn series_samples_last_value_and_merges_pairs_by_mean() {
        let mut s = Series::new(0, 10);
        assert_eq!(s.capacity, 4);
        assert!(s.is_empty());
        s.push(0, 1.0);
        s.push(5, 2.0); // same 10 µs slot: overwrites
        assert_eq!(s.points(), &[(5, 2.0)]);
        s.push(10, 4.0);
        s.push(20, 6.0);
        s.push(30, 8.0);
        s.push(40, 10.0); // fifth point: halve first
        assert_eq!(s.points(), &[(10, 3.0), (30, 7.0), (40, 10.0)]);
        s.push(45, 11.0); // spacing is now 20: same slot as 40
        assert_eq!(s.points().last(), Some(&(45, 11.0)));
        s.push(3, 12.0); // time going backwards overwrites the last point
        assert_eq!(s.points().last(), Some(&(45, 12.0)));
    }

    #[test]
    fn series_handles_extreme_input() {
        let mut s = Series::new(usize::MAX, u64::MAX);
        s.push(u64::MAX, f64::MAX);
        s.push(0, f64::NAN);
        assert_eq!(s.len(), 1);
        let mut s = Series::new(4, 0);
        for i in 0..200u64 {
            s.push(i.saturating_mul(1 << 57), f64::MAX);
        }
        assert!(s.len() <= 4);
        assert!(s.points().iter().all(|&(_, v)| v == f64::MAX));
    }
}
