//! Kafka producer partitioning: murmur2 for keyed records (KAF-2, KAF-3) and the sticky partitioner for unkeyed ones (KAF-4).

use serde::Serialize;

/// Kafka's murmur2 over the key bytes, as Java returns it (signed).
///
/// A port of `org.apache.kafka.common.utils.Utils.murmur2`.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;

    // Java's `int` multiplication wraps and its `>>>` is a logical shift, which is exactly what
    // wrapping u32 arithmetic and `>>` give. Java masks its signed bytes with `& 0xff`; `u8` is
    // already unsigned, so no masking is needed here.
    let mut h = SEED ^ data.len() as u32;
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        let mut k = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }

    // Java's `switch (length % 4)` falls through from case 3 to case 1, so every tail byte is
    // mixed in and the multiplication happens once.
    let tail = words.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u32::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }

    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// KAF-3: (murmur2(key) & 0x7fffffff) % num_partitions. num_partitions 0 => 0.
///
/// The mask is Kafka's `Utils.toPositive`, not `abs`, so `i32::MIN` cannot overflow.
pub fn partition_for_key(key: &[u8], num_partitions: u32) -> u32 {
    if num_partitions == 0 {
        return 0;
    }
    (murmur2(key) & 0x7fff_ffff) as u32 % num_partitions
}

/// KAF-4 (3.3+, KIP-794) sticky partitioner for unkeyed records, simplified deterministically.
///
/// It stays on one partition until at least `batch_size` bytes have been sent to it, then moves
/// on, like `BuiltInPartitioner.updatePartitionInfo` with switching enabled. Kafka picks the next
/// partition randomly among the available partitions; here the caller supplies the random `u64`
/// from the simulation's seeded RNG, so runs are reproducible.
///
/// Not modelled:
/// - adaptive, load-aware selection (`partitioner.adaptive.partitioning.enable`, which favours
///   partitions with shorter queues) — every choice is uniform;
/// - `partitioner.availability.timeout.ms` and leaderless partitions — all partitions count as
///   available;
/// - the deferred switch that waits for a batch to be ready (up to `2 * batch.size` bytes with a
///   high `linger.ms`) — the switch always happens at `batch_size`.
///
/// Deviation: the next partition is never the one just left (when there are at least two). This
/// is what the 2.4–3.2 `StickyPartitionCache.nextPartition` did (it re-drew until the partition
/// changed); the 3.3+ `BuiltInPartitioner.nextPartition` draws `random % available` and can pick
/// the same partition again. We keep the switch visible instead.
#[derive(Clone, Debug, Serialize)]
pub struct StickyPartitioner {
    batch_size: u64,
    current: Option<u32>,
    produced_bytes: u64,
}

impl StickyPartitioner {
    /// `batch_size` is Kafka's `batch.size` (default 16384); Kafka rejects values below 1, and
    /// here they are raised to 1.
    pub fn new(batch_size: u64) -> Self {
        StickyPartitioner {
            batch_size: batch_size.max(1),
            current: None,
            produced_bytes: 0,
        }
    }

    /// Partition for the next unkeyed record of `size` bytes. `random` is used only when a new
    /// partition must be chosen: for the first record, after `batch_size` bytes, or when the
    /// current partition no longer exists. With `num_partitions == 0` it returns 0 and changes
    /// nothing.
    pub fn next(&mut self, size: u64, num_partitions: u32, random: u64) -> u32 {
        if num_partitions == 0 {
            return 0;
        }
        let partition = match self.current {
            Some(p) if p < num_partitions && self.produced_bytes < self.batch_size => p,
            previous => {
                self.produced_bytes = 0;
                choose_next(previous, num_partitions, random)
            }
        };
        self.current = Some(partition);
        self.produced_bytes = self.produced_bytes.saturating_add(size);
        partition
    }
}

/// A uniform choice among the partitions other than `previous`, made with one draw rather than
/// Kafka 2.4's re-draw loop, so each switch consumes exactly one random number.
fn choose_next(previous: Option<u32>, num_partitions: u32, random: u64) -> u32 {
    match previous {
        Some(p) if p < num_partitions && num_partitions > 1 => {
            let i = (random % u64::from(num_partitions - 1)) as u32;
            if i >= p {
                i + 1
            } else {
                i
            }
        }
        _ => (random % u64::from(num_partitions)) as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kaf_03_murmur2_test_vectors() {
        // Kafka's UtilsTest.testMurmur2, all six cases.
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            (b"abc", 479_470_107),
        ];
        for (key, expected) in cases {
            assert_eq!(murmur2(key), expected, "{}", String::from_utf8_lossy(key));
        }
    }

    #[test]
    fn kaf_03_partition_for_key_examples() {
        assert_eq!(partition_for_key(b"foobar", 3), 0);
        assert_eq!(partition_for_key(b"foobar", 4), 2);
        assert_eq!(partition_for_key(b"abc", 3), 0);
        assert_eq!(partition_for_key(b"abc", 4), 3);
        assert_eq!(partition_for_key(b"key", 3), 1);
        assert_eq!(partition_for_key(b"key", 0), 0);
    }

    #[test]
    fn kaf_02_same_key_same_partition() {
        for n in 1..=16 {
            for i in 0..200 {
                let key = format!("order-{i}");
                let first = partition_for_key(key.as_bytes(), n);
                assert!(first < n);
                assert_eq!(partition_for_key(key.as_bytes(), n), first);
            }
        }
    }

    #[test]
    fn kaf_04_unkeyed_sticky_switches_after_batch_size() {
        let mut p = StickyPartitioner::new(100);
        // 30-byte records: 30, 60, 90 stay below 100, the 4th reaches 120, so the 5th switches.
        let first = p.next(30, 6, 4);
        assert_eq!(first, 4);
        for random in [0, 1, 2] {
            assert_eq!(
                p.next(30, 6, random),
                first,
                "random is ignored while sticky"
            );
        }
        let second = p.next(30, 6, 4);
        assert_ne!(second, first, "never re-picks the partition just left");
        for _ in 0..3 {
            assert_eq!(p.next(30, 6, 0), second);
        }

        // A record larger than the batch fills it alone.
        let mut p = StickyPartitioner::new(100);
        let a = p.next(500, 3, 0);
        let b = p.next(1, 3, 0);
        assert_ne!(a, b);

        // With one partition there is nowhere else to go.
        let mut p = StickyPartitioner::new(10);
        for random in 0..20 {
            assert_eq!(p.next(7, 1, random), 0);
        }

        // Every switch lands on a different, in-range partition, for any random value.
        for n in 2..7 {
            let mut p = StickyPartitioner::new(1);
            let mut last = p.next(1, n, 0);
            for random in 0..100 {
                let next = p.next(1, n, random);
                assert!(next < n);
                assert_ne!(next, last);
                last = next;
            }
        }

        // Shrinking below the current partition forces a fresh in-range choice.
        let mut p = StickyPartitioner::new(1000);
        assert_eq!(p.next(1, 8, 7), 7);
        assert!(p.next(1, 4, 7) < 4);
        assert_eq!(p.next(1, 0, 7), 0);
    }
}
