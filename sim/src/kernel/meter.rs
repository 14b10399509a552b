//! What queueing theory needs to know about each place copies wait for consumers, measured
//! from the copies' state changes alone, so every family whose copies wait in a named store
//! ([`Store`]) is measured the same way.
//!
//! A copy waits while it is ready at the store, and its wait ends when the store hands it out
//! (delivery, receive, dispatch). Arrivals are copies that come to the store from outside it: a
//! requeue or an expired visibility timeout is the same arrival waiting again, not a new one.
//! Everything is running sums: memory is one [`StoreMeter`] per store, whatever the run's length.

use crate::ledger::{CopyState, Store};
use crate::theory::{BatchMeans, Moments};
use crate::time::SimTime;
use std::collections::BTreeMap;

/// One store's arrivals, waits and queue length.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoreMeter {
    /// When the first arrival came: the measurement window starts there.
    pub first_arrival: Option<SimTime>,
    last_arrival: SimTime,
    pub arrivals: u64,
    /// Times between consecutive arrivals (C_a²).
    pub interarrival: Moments,
    /// Copies waiting now, and ∫ waiting dt in copy·µs up to `changed`.
    pub waiting: u64,
    area: u128,
    changed: SimTime,
    /// Waits of copies handed out, in the order they left (Wq), and how many waited at all.
    pub wait: Moments,
    pub waited: u64,
    pub wait_batches: BatchMeans,
}

impl StoreMeter {
    fn integrate(&mut self, now: SimTime) {
        self.area += u128::from(self.waiting) * u128::from(now.since(self.changed));
        self.changed = now;
    }

    /// Time-average of the copies waiting since the first arrival (observed Lq).
    pub fn mean_waiting(&self, now: SimTime) -> Option<f64> {
        let from = self.first_arrival?;
        let span = now.since(from);
        let area = self.area + u128::from(self.waiting) * u128::from(now.since(self.changed));
        (span > 0).then(|| area as f64 / span as f64)
    }

    /// Arrivals per second since the first arrival (λ): the gaps between arrivals, averaged.
    pub fn arrival_rate(&self) -> Option<f64> {
        self.interarrival
            .mean_secs()
            .filter(|m| *m > 0.0)
            .map(|m| 1.0 / m)
    }

    /// One copy comes from outside and starts waiting.
    pub fn arrive(&mut self, now: SimTime) {
        self.integrate(now);
        self.waiting += 1;
        if self.first_arrival.is_some() {
            self.interarrival.record(now.since(self.last_arrival));
        } else {
            self.first_arrival = Some(now);
        }
        self.last_arrival = now;
        self.arrivals += 1;
    }

    /// One waiting copy is handed out for service after waiting since `since`.
    pub fn hand_out(&mut self, now: SimTime, since: SimTime) {
        self.integrate(now);
        self.waiting = self.waiting.saturating_sub(1);
        let us = now.since(since);
        self.wait.record(us);
        self.wait_batches.record(us);
        self.waited += u64::from(us > 0);
    }

    /// `n` waiting copies leave without service (expired, dead-lettered, skipped by a reader).
    pub fn leave(&mut self, now: SimTime, n: u64) {
        self.integrate(now);
        self.waiting = self.waiting.saturating_sub(n);
    }
}

/// Every store's meter.
#[derive(Clone, Debug, Default)]
pub struct Meters {
    pub stores: BTreeMap<Store, StoreMeter>,
}

impl Meters {
    /// A copy moved from `from` (`None` for a new copy) to `to` at `now`; `since` is when it
    /// started waiting, and is set to `now` when it starts waiting here.
    pub fn moved(
        &mut self,
        now: SimTime,
        from: Option<CopyState>,
        to: CopyState,
        since: &mut SimTime,
    ) {
        let from = from.and_then(CopyState::store);
        let to_at = to.store();
        if let Some((place, true)) = from {
            if to_at == Some((place, true)) {
                return;
            }
            let m = self.stores.entry(place).or_default();
            // Handed out: to a consumer holding it for the broker, or auto-acked.
            if to_at == Some((place, false)) || matches!(to, CopyState::Processing(_)) {
                m.hand_out(now, *since);
            } else {
                m.leave(now, 1);
            }
        }
        if let Some((place, true)) = to_at {
            let m = self.stores.entry(place).or_default();
            *since = now;
            if from.map(|(p, _)| p) != Some(place) {
                m.arrive(now);
            } else {
                // Back from a consumer (requeue, visibility timeout): the same arrival again.
                m.integrate(now);
                m.waiting += 1;
            }
        }
    }
}
