//! The hashes Pulsar routes and selects consumers with, and the Key_Shared selectors
//! (PUL-4, PUL-6, PUL-14).

use crate::ids::ConsumerId;
use crate::scenario::pulsar::HASH_RANGE_SIZE;
use std::collections::BTreeMap;

/// `Murmur3_32Hash.makeHash`: MurmurHash3 x86 32-bit with seed 0, `& Integer.MAX_VALUE`.
pub fn murmur3_32(data: &[u8]) -> u32 {
    fn mix_k1(k1: u32) -> u32 {
        k1.wrapping_mul(0xcc9e_2d51)
            .rotate_left(15)
            .wrapping_mul(0x1b87_3593)
    }
    let mut h1: u32 = 0;
    let chunks = data.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        h1 ^= mix_k1(u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        h1 = h1.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let mut k1 = 0u32;
    for (i, b) in tail.iter().enumerate() {
        k1 ^= u32::from(*b) << (i * 8);
    }
    h1 ^= mix_k1(k1);
    h1 ^= data.len() as u32;
    h1 ^= h1 >> 16;
    h1 = h1.wrapping_mul(0x85eb_ca6b);
    h1 ^= h1 >> 13;
    h1 = h1.wrapping_mul(0xc2b2_ae35);
    h1 ^= h1 >> 16;
    h1 & 0x7fff_ffff
}

/// `JavaStringHash`: `String.hashCode() & Integer.MAX_VALUE`, over UTF-16 code units.
pub fn java_string_hash(s: &str) -> u32 {
    let h = s
        .encode_utf16()
        .fold(0u32, |h, c| h.wrapping_mul(31).wrapping_add(u32::from(c)));
    h & 0x7fff_ffff
}

/// Key_Shared's hash of a sticky key: `makeHash(key) % 65536`, with 0 moved to 1
/// (`StickyKeyConsumerSelectorUtils.makeStickyKeyHash`, Pulsar 4.0). Later 4.x code uses
/// `% 65535 + 1` instead; the 4.0 formula is the one modelled:
/// https://github.com/apache/pulsar/blob/branch-4.0/pulsar-broker/src/main/java/org/apache/pulsar/broker/service/StickyKeyConsumerSelectorUtils.java
pub fn sticky_key_hash(key: &[u8]) -> u32 {
    match murmur3_32(key) % HASH_RANGE_SIZE {
        0 => 1,
        h => h,
    }
}

/// Which consumer of a Key_Shared subscription owns a hash (PUL-6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Selector {
    /// The 4.0 default (`ConsistentHashingStickyKeyConsumerSelector`): point → consumer. A point
    /// at hash(`name\0index\0i`); on a collision the newer consumer takes the point.
    Ring(BTreeMap<u32, ConsumerId>),
    /// `HashRangeAutoSplitStickyKeyConsumerSelector`: each consumer owns (previous key, key],
    /// found with `ceilingEntry`. semantics.md draws half-open ranges (C3 [0, 16384)); the
    /// source gives C3 0–16384 inclusive, and a leaving topmost range goes to its left
    /// neighbour, not its right one:
    /// https://github.com/apache/pulsar/blob/branch-4.0/pulsar-broker/src/main/java/org/apache/pulsar/broker/service/HashRangeAutoSplitStickyKeyConsumerSelector.java
    Ranges(BTreeMap<u32, ConsumerId>),
    /// `HashRangeExclusiveStickyKeyConsumerSelector`: start → (end inclusive, consumer).
    Sticky(BTreeMap<u32, (u32, ConsumerId)>),
}

impl Selector {
    /// Adds a consumer; `Err` is the broker's refusal.
    pub fn add(
        &mut self,
        cid: ConsumerId,
        name: &str,
        points: u32,
        ranges: &[[u32; 2]],
    ) -> Result<(), String> {
        match self {
            Selector::Ring(ring) => {
                // Consumer names are unique in a scenario, so each name's index is 0.
                for i in 0..points {
                    ring.insert(
                        sticky_key_hash(format!("{name}\0{}\0{i}", 0).as_bytes()),
                        cid,
                    );
                }
            }
            Selector::Ranges(ranges) => {
                let Some((&upper, &lower)) = biggest_range(ranges) else {
                    ranges.insert(HASH_RANGE_SIZE, cid);
                    return Ok(());
                };
                if upper - lower <= 1 {
                    return Err("No more range can assigned to new consumer".into());
                }
                // The newcomer takes the lower half of the largest range.
                ranges.insert(upper - ((upper - lower) >> 1), cid);
            }
            Selector::Sticky(taken) => {
                for &[lo, hi] in ranges {
                    let clash = taken
                        .range(..=hi)
                        .next_back()
                        .filter(|(_, (end, _))| *end >= lo);
                    if let Some((start, (end, other))) = clash {
                        return Err(format!(
                            "Range conflict with consumer {other}: [{start}, {end}] overlaps [{lo}, {hi}]"
                        ));
                    }
                }
                for &[lo, hi] in ranges {
                    taken.insert(lo, (hi, cid));
                }
            }
        }
        Ok(())
    }

    pub fn remove(&mut self, cid: ConsumerId) {
        match self {
            Selector::Ring(ring) => ring.retain(|_, c| *c != cid),
            Selector::Ranges(ranges) => {
                let Some(&key) = ranges.iter().find(|(_, c)| **c == cid).map(|(k, _)| k) else {
                    return;
                };
                ranges.remove(&key);
                // The topmost range goes to its left neighbour, any other to its right one.
                if key == HASH_RANGE_SIZE {
                    if let Some((&lower, &c)) = ranges.iter().next_back() {
                        ranges.remove(&lower);
                        ranges.insert(HASH_RANGE_SIZE, c);
                    }
                }
            }
            Selector::Sticky(taken) => taken.retain(|_, (_, c)| *c != cid),
        }
    }

    /// The consumer that owns `hash`, if any does (a sticky policy may leave gaps).
    pub fn select(&self, hash: u32) -> Option<ConsumerId> {
        match self {
            Selector::Ring(ring) => ring
                .range(hash..)
                .next()
                .or_else(|| ring.iter().next())
                .map(|(_, c)| *c),
            Selector::Ranges(ranges) => ranges.range(hash..).next().map(|(_, c)| *c),
            Selector::Sticky(taken) => taken
                .range(..=hash)
                .next_back()
                .filter(|(_, (end, _))| *end >= hash)
                .map(|(_, (_, c))| *c),
        }
    }

    /// Each consumer's hash ranges, inclusive, in hash order.
    pub fn ranges(&self) -> Vec<(u32, u32, ConsumerId)> {
        let mut out: Vec<(u32, u32, ConsumerId)> = Vec::new();
        let mut push = |lo: u32, hi: u32, c: ConsumerId| match out.last_mut() {
            Some(last) if last.2 == c && last.1 + 1 == lo => last.1 = hi,
            _ => out.push((lo, hi, c)),
        };
        match self {
            Selector::Ring(ring) => {
                let mut lo = 0;
                for (&point, &c) in ring {
                    push(lo, point, c);
                    lo = point + 1;
                }
                if let Some((_, &first)) = ring.iter().next() {
                    if lo < HASH_RANGE_SIZE {
                        push(lo, HASH_RANGE_SIZE - 1, first);
                    }
                }
            }
            Selector::Ranges(ranges) => {
                let mut lo = 0;
                for (&upper, &c) in ranges {
                    push(lo, upper.min(HASH_RANGE_SIZE - 1), c);
                    lo = upper + 1;
                }
            }
            Selector::Sticky(taken) => {
                for (&lo, &(hi, c)) in taken {
                    push(lo, hi, c);
                }
            }
        }
        out
    }
}

/// The largest range as (its key, the key below it or 0); the lowest one wins a tie.
fn biggest_range(ranges: &BTreeMap<u32, ConsumerId>) -> Option<(&u32, &u32)> {
    let mut best: Option<(&u32, &u32)> = None;
    let mut lower = &0;
    for key in ranges.keys() {
        if best.is_none_or(|(k, l)| key - lower > k - l) {
            best = Some((key, lower));
        }
        lower = key;
    }
    best
}

/// Failover on a non-partitioned topic (`AbstractDispatcherSingleActiveConsumer`, Pulsar ≥ 3.0,
/// apache/pulsar#19502): 100 ring points per candidate at murmur3(`name` + j); the topic's full
/// name hashed onto the ring picks the active one. `names` are the candidates in (priority, name)
/// order; returns an index into them.
/// https://github.com/apache/pulsar/blob/branch-4.0/pulsar-broker/src/main/java/org/apache/pulsar/broker/service/AbstractDispatcherSingleActiveConsumer.java
pub fn failover_ring_pick(topic_full_name: &str, names: &[&str]) -> usize {
    let mut ring: BTreeMap<u32, usize> = BTreeMap::new();
    for (i, name) in names.iter().enumerate() {
        for j in 0..100 {
            ring.insert(murmur3_32(format!("{name}{j}").as_bytes()), i);
        }
    }
    let hash = murmur3_32(topic_full_name.as_bytes());
    ring.range(hash..)
        .next()
        .or_else(|| ring.iter().next())
        .map_or(0, |(_, i)| *i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pul_06_order_3459134_hashes_to_6067() {
        // semantics.md: murmur3 3112179635 (unsigned), & 0x7fffffff = 964695987.
        assert_eq!(murmur3_32(b"Order-3459134"), 3_112_179_635 & 0x7fff_ffff);
        assert_eq!(sticky_key_hash(b"Order-3459134"), 6067);
    }

    #[test]
    fn pul_14_key1_hashes_like_the_java_client() {
        assert_eq!(java_string_hash("key1"), 3_288_498);
        assert_eq!(murmur3_32(b"key1"), 462_881_061);
        let partitions: Vec<u32> = [3, 4, 5].iter().map(|n| 3_288_498 % n).collect();
        assert_eq!(partitions, vec![0, 2, 3]);
    }

    #[test]
    fn pul_06_auto_split_halves_the_largest_range() {
        let c = |i| ConsumerId(i);
        let mut s = Selector::Ranges(BTreeMap::new());
        for i in 1..=4 {
            s.add(c(i), "", 0, &[]).unwrap();
        }
        assert_eq!(
            s.ranges(),
            vec![
                (0, 16384, c(3)),
                (16385, 32768, c(2)),
                (32769, 49152, c(4)),
                (49153, 65535, c(1)),
            ]
        );
        assert_eq!(s.select(6067), Some(c(3)));
        // A leaving range goes to its right neighbour; the topmost one to its left neighbour.
        let mut left = s.clone();
        left.remove(c(1));
        assert_eq!(left.ranges()[2], (32769, 65535, c(4)));
        s.remove(c(3));
        assert_eq!(s.ranges()[0], (0, 32768, c(2)));
    }

    #[test]
    fn pul_06_sticky_ranges_must_not_overlap() {
        let mut s = Selector::Sticky(BTreeMap::new());
        s.add(ConsumerId(0), "a", 0, &[[0, 32767]]).unwrap();
        assert!(s.add(ConsumerId(1), "b", 0, &[[30000, 65535]]).is_err());
        s.add(ConsumerId(1), "b", 0, &[[32768, 65535]]).unwrap();
        assert_eq!(s.select(40000), Some(ConsumerId(1)));
    }

    #[test]
    fn pul_04_ring_pick_depends_on_names_not_order() {
        let a = failover_ring_pick("persistent://public/default/orders", &["c1", "c2"]);
        let b = failover_ring_pick("persistent://public/default/orders", &["c1", "c2"]);
        assert_eq!(a, b);
        assert!(a < 2);
    }
}
