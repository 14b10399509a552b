//! The agenda: work items ordered by (time, insertion sequence), so equal times keep FIFO order.
//! Generic over the work type, so it knows nothing of what the work means.
//!
//! It also holds periodic timers that can sleep. A sleeping timer is not an item, yet it keeps
//! the place in the (time, seq) order that an item re-scheduling itself every period would have:
//! each of its skipped firings is taken to happen (doing nothing) just before the first real item
//! that comes after it, so when it is woken its next firing sorts exactly where it would have.
//! Idle periodic checks therefore cost nothing, and skipping them changes no order.
//!
//! Items wait in a few sorted runs ("lanes") and a heap for the rest. Most work is scheduled a
//! fixed delay ahead (the latency, a fixed processing time), so each such stream comes in order
//! and a lane takes it and gives it back in O(1), where a heap of a million items paid twenty
//! cache-missing levels per item (F1). The next item is the least of the lane fronts and the
//! heap's top, so the order is (time, seq) either way.

use super::time::SimTime;
use std::cell::Cell;
use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeSet, BinaryHeap, VecDeque};

/// Sorted runs beside the heap: enough for the latency, the processing time and a timer.
const LANES: usize = 4;

#[derive(Clone, Debug)]
pub struct Scheduled<W> {
    pub at: SimTime,
    pub seq: u64,
    pub work: W,
}

impl<W> PartialEq for Scheduled<W> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl<W> Eq for Scheduled<W> {}
impl<W> PartialOrd for Scheduled<W> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<W> Ord for Scheduled<W> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// A periodic timer's handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimerId(usize);

#[derive(Clone, Debug)]
struct Timer<W> {
    period: u64,
    /// While asleep: the next firing's (time, seq) and the work to run when woken.
    asleep: Option<(SimTime, u64, W)>,
}

#[derive(Clone, Debug)]
pub struct Agenda<W> {
    seq: u64,
    /// Each lane ascending by (time, seq).
    lanes: [VecDeque<Scheduled<W>>; LANES],
    heap: BinaryHeap<Reverse<Scheduled<W>>>,
    timers: Vec<Timer<W>>,
    /// Sleeping timers by their next firing's (time, seq).
    asleep: BTreeSet<(SimTime, u64, usize)>,
    /// Set when the driver looked at the next item, cleared when it takes one. While set, work
    /// is being added between items (a command between two advances), so sleeping firings up to
    /// the clock have already happened.
    between_items: Cell<bool>,
}

impl<W> Default for Agenda<W> {
    fn default() -> Self {
        Agenda {
            seq: 0,
            lanes: Default::default(),
            heap: BinaryHeap::new(),
            timers: Vec::new(),
            asleep: BTreeSet::new(),
            between_items: Cell::new(false),
        }
    }
}

impl<W> Agenda<W> {
    pub fn push(&mut self, at: SimTime, work: W) {
        self.seq += 1;
        self.insert(Scheduled {
            at,
            seq: self.seq,
            work,
        });
    }

    /// Appends to the lane whose last item is the latest one before `s` (best fit keeps the
    /// streams apart), else to an empty lane, else to the heap.
    fn insert(&mut self, s: Scheduled<W>) {
        let mut fit: Option<(usize, &Scheduled<W>)> = None;
        let mut empty = None;
        for (i, lane) in self.lanes.iter().enumerate() {
            match lane.back() {
                None => {
                    empty.get_or_insert(i);
                }
                Some(last) if *last < s && fit.is_none_or(|(_, f)| last > f) => {
                    fit = Some((i, last));
                }
                Some(_) => {}
            }
        }
        match fit.map(|(i, _)| i).or(empty) {
            Some(i) => self.lanes[i].push_back(s),
            None => self.heap.push(Reverse(s)),
        }
    }

    /// The earliest item and where it waits: a lane's index, or `LANES` for the heap.
    fn first(&self) -> Option<(usize, &Scheduled<W>)> {
        let mut first = self.heap.peek().map(|Reverse(s)| (LANES, s));
        for (i, lane) in self.lanes.iter().enumerate() {
            if let Some(s) = lane.front() {
                if first.is_none_or(|(_, f)| s < f) {
                    first = Some((i, s));
                }
            }
        }
        first
    }

    /// Bytes held for pending work and timers (for checkpoint budgets).
    pub fn heap_bytes(&self) -> usize {
        self.heap.capacity() * std::mem::size_of::<Reverse<Scheduled<W>>>()
            + self.timers.capacity() * std::mem::size_of::<Timer<W>>()
            + self.asleep.len() * std::mem::size_of::<(SimTime, u64, usize)>()
    }

    /// Time of the earliest item. Sleeping timers are not items.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.between_items.set(true);
        self.first().map(|(_, s)| s.at)
    }

    pub fn pop(&mut self) -> Option<Scheduled<W>> {
        self.between_items.set(false);
        let (from, next) = self.first().map(|(i, s)| (i, (s.at, s.seq)))?;
        // Skipping sleeping firings adds no item, so `from` still holds the earliest one.
        self.skip_sleeping_before(next);
        if from == LANES {
            self.heap.pop().map(|Reverse(s)| s)
        } else {
            self.lanes[from].pop_front()
        }
    }

    /// Brings sleeping timers up to `now` before work is added from outside an item, as if every
    /// item due by `now` had run (or, after a capped advance, every item before the next one).
    pub fn settle(&mut self, now: SimTime) {
        if !self.between_items.get() {
            return;
        }
        let mut limit = (now.plus(1), 0);
        if let Some((_, s)) = self.first() {
            limit = limit.min((s.at, s.seq));
        }
        self.skip_sleeping_before(limit);
    }

    /// A periodic timer, created asleep, whose first firing is at `at`. It takes a place in the
    /// order now, as pushing `work` would.
    pub fn add_timer(&mut self, at: SimTime, period: u64, work: W) -> TimerId {
        self.seq += 1;
        let id = self.timers.len();
        self.timers.push(Timer {
            period: period.max(1),
            asleep: Some((at, self.seq, work)),
        });
        self.asleep.insert((at, self.seq, id));
        TimerId(id)
    }

    /// Puts an awake timer to sleep with its next firing at `at`, in the place pushing `work`
    /// now would give it. Its firings are then skipped until [`Agenda::wake`].
    pub fn sleep(&mut self, id: TimerId, at: SimTime, work: W) {
        self.seq += 1;
        let timer = &mut self.timers[id.0];
        debug_assert!(timer.asleep.is_none(), "timer already asleep");
        timer.asleep = Some((at, self.seq, work));
        self.asleep.insert((at, self.seq, id.0));
    }

    /// Makes a sleeping timer's next firing a real item, in its kept place; false if awake.
    pub fn wake(&mut self, id: TimerId) -> bool {
        let Some((at, seq, work)) = self.timers[id.0].asleep.take() else {
            return false;
        };
        self.asleep.remove(&(at, seq, id.0));
        self.insert(Scheduled { at, seq, work });
        true
    }

    /// A sleeping timer's next firing time (as of the last item taken); `None` if awake.
    pub fn sleeping_until(&self, id: TimerId) -> Option<SimTime> {
        self.timers[id.0].asleep.as_ref().map(|(at, _, _)| *at)
    }

    /// Runs, as no-ops, every sleeping firing that comes before `limit` (time, seq). Between two
    /// real items nothing else is added, so a timer's firings there keep only their relative
    /// order: each timer jumps to its first firing at or after `limit`'s time, and the new
    /// places are handed out in the order of the timers' last skipped firings.
    fn skip_sleeping_before(&mut self, limit: (SimTime, u64)) {
        let mut moved = Vec::new();
        while let Some(&(at, seq, id)) = self.asleep.first() {
            if (at, seq) >= limit {
                break;
            }
            self.asleep.pop_first();
            let period = self.timers[id].period;
            // Firings strictly before `limit`'s time; one at that very time only if it was
            // already pending (it sorts before `limit` by seq, a new place would sort after).
            let skipped = if at < limit.0 {
                (limit.0 .0 - 1 - at.0) / period
            } else {
                0
            };
            let last = at.0 + skipped * period;
            moved.push((last, skipped, at, seq, id, period));
        }
        // New places follow the order of the last skipped firings: by time; at equal times a
        // firing that was already pending (old seq) comes before one placed by a skipped firing
        // in this window. Two timers of the latter kind only ever meet again if they share period
        // and phase; then the one that started skipping later goes first (at its start it held an
        // old seq, the other a new one), and equal starts keep their seq order.
        moved.sort_by_key(|&(last, skipped, at, seq, _, _)| {
            if skipped == 0 {
                (last, false, seq, Reverse(at), seq)
            } else {
                (last, true, 0, Reverse(at), seq)
            }
        });
        for (last, _, _, _, id, period) in moved {
            self.seq += 1;
            let next = SimTime(last.saturating_add(period));
            let timer = &mut self.timers[id];
            let slot = timer.asleep.as_mut().expect("asleep");
            slot.0 = next;
            slot.1 = self.seq;
            self.asleep.insert((next, self.seq, id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_times_pop_in_insertion_order() {
        let mut a = Agenda::default();
        a.push(SimTime(5), "late");
        a.push(SimTime(1), "first");
        a.push(SimTime(1), "second");
        let order: Vec<_> = std::iter::from_fn(|| a.pop().map(|s| s.work)).collect();
        assert_eq!(order, ["first", "second", "late"]);
    }

    #[derive(Debug)]
    enum Work {
        /// (id, depth): records itself and adds children.
        Item(u64, u32),
        Fire(usize),
        /// Wakes a timer just before one of its firings that must run.
        Wake(usize),
    }

    fn mix(mut x: u64) -> u64 {
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }

    /// Drives an agenda like the engine: chunks of time, some capped, and work added between
    /// chunks. Timers fire every period; only the firings `real` picks do something. With `lazy`
    /// the timers sleep between those firings and are woken one tick before them; without, every
    /// firing is an item. Returns what ran, in order.
    fn drive(seed: u64, lazy: bool) -> Vec<(u64, String)> {
        const HORIZON: u64 = 400;
        let h = |a: u64, b: u64| mix(seed ^ mix(a.wrapping_mul(31).wrapping_add(b)));
        // Few periods and phases, so firings of different timers often coincide.
        let periods: Vec<u64> = (0..6)
            .map(|i| [2, 3, 4, 6][(h(1, i) % 4) as usize])
            .collect();
        let starts: Vec<u64> = (0..6).map(|i| 1 + h(2, i) % 4).collect();
        let real = |i: usize, g: u64| g < HORIZON && h(3 + i as u64, g) % 4 == 0;
        let mut a: Agenda<Work> = Agenda::default();
        let mut timers = Vec::new();
        for i in 0..periods.len() {
            let first = SimTime(starts[i]);
            if lazy {
                timers.push(a.add_timer(first, periods[i], Work::Fire(i)));
            } else {
                a.push(first, Work::Fire(i));
            }
        }
        for i in 0..periods.len() {
            let mut g = starts[i];
            while g < HORIZON {
                if real(i, g) {
                    a.push(SimTime(g - 1), Work::Wake(i));
                }
                g += periods[i];
            }
        }
        for k in 0..30 {
            a.push(SimTime(h(4, k) % HORIZON), Work::Item(k, 0));
        }
        let delay = |id: u64, k: u64| {
            let d = [0, 1, 2, 3, 4, 6, 12, 24];
            let r = h(5 + k, id);
            if r % 4 == 0 {
                r / 4 % 30
            } else {
                d[(r / 4 % 8) as usize]
            }
        };
        let mut log = Vec::new();
        let mut next_external = 1_000_000;
        let mut t = 0;
        let mut now = SimTime::ZERO;
        while t < HORIZON + 30 {
            t += 1 + h(6, t) % 15;
            let cap = if h(7, t) % 3 == 0 {
                1 + h(8, t) % 4
            } else {
                u64::MAX
            };
            let mut done = 0;
            let mut capped = false;
            while let Some(at) = a.peek_time() {
                if at > SimTime(t) {
                    break;
                }
                // A capped advance counts real items only, and stops with the clock at the last
                // one: skipped firings up to that time have happened, later ones not.
                let is_skipped =
                    |s: &Scheduled<Work>| matches!(s.work, Work::Fire(i) if !real(i, s.at.0));
                let skipped = a.first().is_some_and(|(_, s)| is_skipped(s));
                let real_left = a
                    .lanes
                    .iter()
                    .flatten()
                    .chain(a.heap.iter().map(|Reverse(s)| s))
                    .any(|s| s.at <= SimTime(t) && !is_skipped(s));
                if done == cap && real_left && !(skipped && at <= now) {
                    capped = true;
                    break;
                }
                let s = a.pop().unwrap();
                if !skipped {
                    // After a capped advance the clock is at the last real item.
                    now = s.at;
                    done += 1;
                }
                match s.work {
                    Work::Item(id, depth) => {
                        log.push((now.0, format!("item {id}")));
                        for k in 0..h(9, id) % 3 {
                            let at = now.plus(delay(id, k));
                            if depth < 5 && at.0 < HORIZON {
                                a.push(at, Work::Item(id * 4 + k + 100, depth + 1));
                            }
                        }
                    }
                    Work::Fire(i) => {
                        let next = s.at.plus(periods[i]);
                        if real(i, s.at.0) {
                            log.push((now.0, format!("fire {i}")));
                        } else {
                            assert!(!lazy, "a sleeping firing ran at {} (timer {i})", s.at);
                        }
                        if !lazy || real(i, next.0) {
                            a.push(next, Work::Fire(i));
                        } else {
                            a.sleep(timers[i], next, Work::Fire(i));
                        }
                    }
                    Work::Wake(i) => {
                        if lazy {
                            a.wake(timers[i]);
                        }
                    }
                }
            }
            if !capped {
                now = SimTime(t);
            }
            // Work added between two advances, as the UI's commands are.
            for k in 0..h(10, t) % 3 {
                a.settle(now);
                next_external += 1;
                a.push(
                    now.plus(delay(next_external, k)),
                    Work::Item(next_external, 4),
                );
            }
        }
        log
    }

    #[test]
    fn sleeping_timers_keep_their_place_in_the_order() {
        let mut fired = 0;
        for seed in 0..300 {
            let eager = drive(seed, false);
            let lazy = drive(seed, true);
            if let Some(i) = (0..eager.len().max(lazy.len())).find(|&i| eager.get(i) != lazy.get(i))
            {
                panic!(
                    "seed {seed}: first difference at {i}: eager {:?} lazy {:?}",
                    &eager[i.saturating_sub(3)..(i + 3).min(eager.len())],
                    &lazy[i.saturating_sub(3)..(i + 3).min(lazy.len())]
                );
            }
            fired += eager.iter().filter(|(_, w)| w.starts_with("fire")).count();
        }
        assert!(fired > 1000, "too few real firings to test: {fired}");
    }

    /// Streams at fixed delays (which the lanes take), random delays (the heap's), more
    /// streams than lanes and woken timers' old places: items come out in (time, seq) order.
    #[test]
    fn lanes_and_heap_give_items_in_time_and_seq_order() {
        for seed in 0..50 {
            let mut a: Agenda<u64> = Agenda::default();
            let mut expected = BinaryHeap::new();
            let mut timers = Vec::new();
            let mut now = 0;
            for k in 0..3_000u64 {
                let r = mix(seed * 10_000 + k);
                if r % 7 == 0 {
                    let s = a.pop();
                    assert_eq!(s.as_ref().map(|s| Reverse((s.at, s.seq))), expected.pop());
                    now = s.map_or(now, |s| s.at.0);
                } else if r % 11 == 0 && timers.len() < 4 {
                    timers.push(a.add_timer(SimTime(now + r % 50), 1_000_000, k));
                } else if r % 13 == 0 && !timers.is_empty() {
                    let id = timers.swap_remove((r / 13) as usize % timers.len());
                    let (at, seq, _) = a.timers[id.0].asleep.as_ref().map(|s| *s).unwrap();
                    if a.wake(id) {
                        expected.push(Reverse((at, seq)));
                    }
                } else {
                    let delay = [0, 2, 5, 1_000, 7][(r / 7 % 5) as usize];
                    let delay = if r % 3 == 0 { r / 21 % 100 } else { delay };
                    a.push(SimTime(now + delay), k);
                    expected.push(Reverse((SimTime(now + delay), a.seq)));
                }
            }
            while let Some(s) = a.pop() {
                assert_eq!(Some(Reverse((s.at, s.seq))), expected.pop());
            }
            assert!(expected.is_empty(), "seed {seed}: items lost");
        }
    }

    #[test]
    fn a_sleeping_timer_costs_no_item() {
        let mut a: Agenda<&str> = Agenda::default();
        let id = a.add_timer(SimTime(1), 1, "check");
        a.push(SimTime(1_000_000), "late");
        assert_eq!(a.pop().map(|s| s.work), Some("late"));
        assert_eq!(a.sleeping_until(id), Some(SimTime(1_000_000)));
        assert!(a.pop().is_none());
    }
}
