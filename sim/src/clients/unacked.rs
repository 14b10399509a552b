//! A consumer's manual-ack deliveries by delivery tag.

use crate::message::Slot;
use std::collections::VecDeque;

/// Delivery tags only grow (a consumer's `next_tag`), so deliveries sit in a deque indexed by
/// `tag - first` instead of a B-tree: a delivery is a push at the back, an in-order ack a pop
/// at the front. A tag settled out of order leaves a hole until the tags before it are settled.
#[derive(Clone, Debug, Default)]
pub(crate) struct Unacked {
    /// The tag of `slots[0]`.
    first: u64,
    /// Never starts or ends with a hole.
    slots: VecDeque<Option<Slot>>,
    len: usize,
}

impl Unacked {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn insert(&mut self, tag: u64, slot: Slot) {
        if self.slots.is_empty() {
            self.first = tag;
        }
        while tag < self.first {
            self.slots.push_front(None);
            self.first -= 1;
        }
        let i = (tag - self.first) as usize;
        if i >= self.slots.len() {
            self.slots.resize(i + 1, None);
        }
        if self.slots[i].replace(slot).is_none() {
            self.len += 1;
        }
    }

    pub fn get(&self, tag: u64) -> Option<Slot> {
        let i = tag.checked_sub(self.first)?;
        *self.slots.get(usize::try_from(i).ok()?)?
    }

    pub fn contains_key(&self, tag: u64) -> bool {
        self.get(tag).is_some()
    }

    pub fn remove(&mut self, tag: u64) -> Option<Slot> {
        let i = usize::try_from(tag.checked_sub(self.first)?).ok()?;
        let slot = self.slots.get_mut(i)?.take()?;
        self.len -= 1;
        while matches!(self.slots.front(), Some(None)) {
            self.slots.pop_front();
            self.first += 1;
        }
        while matches!(self.slots.back(), Some(None)) {
            self.slots.pop_back();
        }
        Some(slot)
    }

    /// Takes the deliveries with tags up to `last`, included (`basic.ack` with `multiple`):
    /// the cost is what is taken, not what stays.
    pub fn take_up_to(&mut self, last: u64) -> Unacked {
        let end = last.saturating_add(1);
        let at = end.saturating_sub(self.first).min(self.slots.len() as u64) as usize;
        let taken = Unacked {
            first: self.first,
            slots: self.slots.drain(..at).collect(),
            len: 0,
        };
        self.first += at as u64;
        while matches!(self.slots.front(), Some(None)) {
            self.slots.pop_front();
            self.first += 1;
        }
        let mut taken = taken;
        while matches!(taken.slots.back(), Some(None)) {
            taken.slots.pop_back();
        }
        let len = taken.slots.iter().flatten().count();
        self.len -= len;
        Unacked { len, ..taken }
    }

    /// `(tag, slot)` in tag order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, Slot)> + '_ {
        let first = self.first;
        (self.slots.iter().enumerate()).filter_map(move |(i, s)| Some((first + i as u64, (*s)?)))
    }

    /// The slots in tag order.
    pub fn values(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter().flatten()
    }

    /// The tags from `low` to `high`, both included, in order.
    pub fn tags_in(&self, low: u64, high: u64) -> impl Iterator<Item = u64> + '_ {
        let first = self.first;
        let skip = low.saturating_sub(first).min(self.slots.len() as u64) as usize;
        (self.slots.iter().enumerate().skip(skip))
            .filter_map(move |(i, s)| s.map(|_| first + i as u64))
            .take_while(move |t| *t <= high)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SimRng;
    use std::collections::BTreeMap;

    fn same(u: &Unacked, m: &BTreeMap<u64, Slot>) {
        assert_eq!(u.len(), m.len());
        assert_eq!(u.is_empty(), m.is_empty());
        let listed: Vec<(u64, Slot)> = u.iter().collect();
        let expected: Vec<(u64, Slot)> = m.iter().map(|(t, s)| (*t, *s)).collect();
        assert_eq!(listed, expected);
        assert!(u.values().copied().eq(m.values().copied()));
    }

    /// RMQ-11 (`multiple` acks everything up to a tag) and single acks in any order: the deque
    /// answers exactly as the ordered map it replaced.
    #[test]
    fn rmq_11_unacked_tags_behave_like_an_ordered_map() {
        let mut rng = SimRng::new(11);
        let (mut u, mut m) = (Unacked::default(), BTreeMap::new());
        let mut next_tag = 1;
        for step in 0..20_000u32 {
            match rng.next_u64() % 6 {
                0..=2 => {
                    u.insert(next_tag, step);
                    m.insert(next_tag, step);
                    next_tag += 1;
                }
                3 | 4 => {
                    let tag = rng.next_u64() % (next_tag + 2);
                    assert_eq!(u.remove(tag), m.remove(&tag));
                    assert_eq!(u.contains_key(tag), m.contains_key(&tag));
                    assert_eq!(u.get(tag + 1), m.get(&(tag + 1)).copied());
                }
                _ => {
                    let last = rng.next_u64() % (next_tag + 2);
                    let low = last.saturating_sub(rng.next_u64() % 8);
                    let tags: Vec<u64> = m.range(low..=last).map(|(t, _)| *t).collect();
                    assert!(u.tags_in(low, last).eq(tags));
                    if rng.next_u64() % 4 == 0 {
                        let rest = m.split_off(&(last + 1));
                        let taken = std::mem::replace(&mut m, rest);
                        same(&u.take_up_to(last), &taken);
                    }
                }
            }
            if step % 50 == 0 {
                same(&u, &m);
            }
        }
        same(&u, &m);
    }
}
