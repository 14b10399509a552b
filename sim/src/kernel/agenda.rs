//! The agenda: work items ordered by (time, insertion sequence), so equal times keep FIFO order.
//! Generic over the work type, so it knows nothing of what the work means.

use super::time::SimTime;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

#[derive(Debug)]
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

#[derive(Debug)]
pub struct Agenda<W> {
    seq: u64,
    heap: BinaryHeap<Reverse<Scheduled<W>>>,
}

impl<W> Default for Agenda<W> {
    fn default() -> Self {
        Agenda {
            seq: 0,
            heap: BinaryHeap::new(),
        }
    }
}

impl<W> Agenda<W> {
    pub fn push(&mut self, at: SimTime, work: W) {
        self.seq += 1;
        self.heap.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            work,
        }));
    }

    /// Time of the earliest item.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|Reverse(s)| s.at)
    }

    pub fn pop(&mut self) -> Option<Scheduled<W>> {
        self.heap.pop().map(|Reverse(s)| s)
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
}
