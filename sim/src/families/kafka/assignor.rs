//! Kafka consumer-group partition assignors: Range, RoundRobin and (Cooperative)Sticky (KAF-8, KAF-9, KAF-11).

use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};

/// A topic-partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TopicPartition {
    pub topic: TopicId,
    pub partition: u32,
}

use crate::ids::TopicId;
pub use crate::scenario::Assignor;

/// Assigns every partition of `topics` to exactly one of `members` (KAF-8, KAF-9).
///
/// - `members`: member ids, sorted by the assignor as Kafka does (lexicographic member id).
/// - `topics`: (topic id, topic name, partition count). Range works per topic; RoundRobin deals
///   all partitions sorted by (topic name, partition).
/// - `previous`: the previous assignment, used by the sticky variants and ignored by
///   Range/RoundRobin.
///
/// Returns every member (possibly with an empty list), each list sorted by `TopicPartition`.
///
/// Every member is assumed to subscribe to every topic. Duplicate member ids count once; ids are
/// compared bytewise, which matches Java's `String.compareTo` for ASCII ids. With no members the
/// result is empty.
///
/// Sticky is a simplified version of Kafka's `AbstractStickyAssignor.constrainedAssign`, with
/// the same guarantees (member counts differ by at most 1; as much previous ownership as possible
/// is kept) but not always the same plan:
/// 1. A previous claim counts if the member and the partition still exist; a partition claimed by
///    several members goes to the first by member id (Kafka uses the generation instead).
/// 2. Every member keeps its claimed partitions up to a quota of ⌊P/C⌋, and the P mod C quotas of
///    ⌊P/C⌋+1 go to the members that claimed the most (ties by member id), which keeps the most.
///    Kept partitions are the first ones in (topic name, partition) order.
/// 3. The remaining partitions, in (topic name, partition) order, each go to the member that has
///    the fewest so far (ties by member id).
///
/// CooperativeSticky returns the same target plan; the engine performs the two-phase revocation.
pub fn assign(
    assignor: Assignor,
    members: &[String],
    topics: &[(TopicId, String, u32)],
    previous: &BTreeMap<String, Vec<TopicPartition>>,
) -> BTreeMap<String, Vec<TopicPartition>> {
    let members: Vec<&str> = members
        .iter()
        .map(String::as_str)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if members.is_empty() {
        return BTreeMap::new();
    }
    let lists = match assignor {
        Assignor::Range => range(members.len(), topics),
        Assignor::RoundRobin => round_robin(members.len(), topics),
        Assignor::Sticky | Assignor::CooperativeSticky => sticky(&members, topics, previous),
    };
    members
        .into_iter()
        .zip(lists)
        .map(|(member, mut list)| {
            list.sort_unstable();
            (member.to_owned(), list)
        })
        .collect()
}

/// Per topic: ⌊P/C⌋ contiguous partitions each, and one extra for the first P mod C members.
fn range(members: usize, topics: &[(TopicId, String, u32)]) -> Vec<Vec<TopicPartition>> {
    let mut lists = vec![Vec::new(); members];
    let n = members as u32;
    for &(topic, _, count) in topics {
        let (per_member, extra) = (count / n, count % n);
        let mut start = 0;
        for (i, list) in (0..n).zip(&mut lists) {
            let end = start + per_member + u32::from(i < extra);
            list.extend((start..end).map(|partition| TopicPartition { topic, partition }));
            start = end;
        }
    }
    lists
}

/// All partitions dealt one at a time to the members in turn.
fn round_robin(members: usize, topics: &[(TopicId, String, u32)]) -> Vec<Vec<TopicPartition>> {
    let mut lists = vec![Vec::new(); members];
    for (i, tp) in partitions_by_name(topics).into_iter().enumerate() {
        lists[i % members].push(tp);
    }
    lists
}

/// Each member keeps at most its quota of what it owned: ⌊P/C⌋, or one more for the members
/// owning most, as many of them as P mod C allows (ties by member order).
fn trim_to_quotas(lists: &mut [Vec<usize>], partitions: usize) {
    let min_quota = partitions / lists.len();
    let mut max_quotas_left = partitions % lists.len();
    let mut by_claims: Vec<usize> = (0..lists.len()).collect();
    by_claims.sort_by_key(|&m| (Reverse(lists[m].len()), m));
    for m in by_claims {
        let quota = if max_quotas_left > 0 && lists[m].len() > min_quota {
            max_quotas_left -= 1;
            min_quota + 1
        } else {
            min_quota
        };
        lists[m].truncate(quota);
    }
}

fn sticky(
    members: &[&str],
    topics: &[(TopicId, String, u32)],
    previous: &BTreeMap<String, Vec<TopicPartition>>,
) -> Vec<Vec<TopicPartition>> {
    let all = partitions_by_name(topics);
    // A partition's rank is its index in `all`; a topic listed twice ranks by its last listing.
    let mut starts: BTreeMap<TopicId, (usize, u32)> = BTreeMap::new();
    let mut at = 0;
    for (topic, _, count) in topics_by_name(topics) {
        starts.insert(*topic, (at, *count));
        at += *count as usize;
    }
    let rank = |tp: &TopicPartition| {
        let (start, count) = starts.get(&tp.topic)?;
        (tp.partition < *count).then_some(start + tp.partition as usize)
    };

    let mut claimed = vec![false; all.len()];
    let mut lists: Vec<Vec<usize>> = members
        .iter()
        .map(|&member| {
            let mut owned: Vec<usize> = previous
                .get(member)
                .into_iter()
                .flatten()
                .filter_map(rank)
                .filter(|&i| !std::mem::replace(&mut claimed[i], true))
                .collect();
            owned.sort_unstable();
            owned
        })
        .collect();

    trim_to_quotas(&mut lists, all.len());

    let mut taken = vec![false; all.len()];
    for &i in lists.iter().flatten() {
        taken[i] = true;
    }
    // Filling the emptiest member first cannot exceed ⌊P/C⌋+1 anywhere or leave anyone below
    // ⌊P/C⌋, because the kept partitions already respect both quotas.
    let free = taken
        .iter()
        .enumerate()
        .filter(|(_, &t)| !t)
        .map(|(i, _)| i);
    fill_emptiest_first(&mut lists, free);

    lists
        .into_iter()
        .map(|list| list.into_iter().map(|i| all[i]).collect())
        .collect()
}

/// Gives each item, in turn, to the list that has the fewest so far (ties: the lowest index).
/// That hands out level by level: every list at the lowest length gets one, in index order,
/// then lists at the next length join in. O(items + lists²), where picking the minimum for
/// each item would be O(items × lists).
fn fill_emptiest_first(lists: &mut [Vec<usize>], items: impl Iterator<Item = usize>) {
    let mut items = items.peekable();
    let mut by_len: Vec<usize> = (0..lists.len()).collect();
    by_len.sort_by_key(|&m| (lists[m].len(), m));
    let Some(&first) = by_len.first() else {
        return;
    };
    let mut level = lists[first].len();
    // The lists now at `level`, by index.
    let mut level_lists: Vec<usize> = Vec::new();
    let mut joined = 0;
    while items.peek().is_some() {
        while let Some(&m) = by_len.get(joined).filter(|&&m| lists[m].len() == level) {
            let at = level_lists.partition_point(|&other| other < m);
            level_lists.insert(at, m);
            joined += 1;
        }
        for &m in &level_lists {
            let Some(i) = items.next() else {
                return;
            };
            lists[m].push(i);
        }
        level += 1;
    }
}

/// Topics sorted by (name, id), as Kafka's RoundRobin and Sticky order them.
fn topics_by_name(topics: &[(TopicId, String, u32)]) -> Vec<&(TopicId, String, u32)> {
    let mut sorted: Vec<&(TopicId, String, u32)> = topics.iter().collect();
    sorted.sort_by(|a, b| (&a.1, a.0).cmp(&(&b.1, b.0)));
    sorted
}

/// Every partition, sorted by (topic name, partition) as Kafka's RoundRobin and Sticky order them.
fn partitions_by_name(topics: &[(TopicId, String, u32)]) -> Vec<TopicPartition> {
    topics_by_name(topics)
        .into_iter()
        .flat_map(|&(topic, _, count)| {
            (0..count).map(move |partition| TopicPartition { topic, partition })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Assignor; 4] = [
        Assignor::Range,
        Assignor::RoundRobin,
        Assignor::Sticky,
        Assignor::CooperativeSticky,
    ];

    fn tp(topic: u32, partition: u32) -> TopicPartition {
        let topic = TopicId(topic);
        TopicPartition { topic, partition }
    }

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn two_topics_of_three() -> Vec<(TopicId, String, u32)> {
        vec![(TopicId(0), "t0".into(), 3), (TopicId(1), "t1".into(), 3)]
    }

    #[test]
    fn kaf_09_range_example() {
        let plan = assign(
            Assignor::Range,
            &ids(&["C1", "C0"]),
            &two_topics_of_three(),
            &BTreeMap::new(),
        );
        assert_eq!(plan["C0"], [tp(0, 0), tp(0, 1), tp(1, 0), tp(1, 1)]);
        assert_eq!(plan["C1"], [tp(0, 2), tp(1, 2)]);
    }

    #[test]
    fn kaf_09_round_robin_example() {
        let plan = assign(
            Assignor::RoundRobin,
            &ids(&["C1", "C0"]),
            &two_topics_of_three(),
            &BTreeMap::new(),
        );
        assert_eq!(plan["C0"], [tp(0, 0), tp(0, 2), tp(1, 1)]);
        assert_eq!(plan["C1"], [tp(0, 1), tp(1, 0), tp(1, 2)]);
    }

    #[test]
    fn kaf_09_round_robin_deals_by_topic_name() {
        // Topic id 0 is named "zeta", so topic 1 ("alpha") is dealt first.
        let topics = vec![
            (TopicId(0), "zeta".into(), 1),
            (TopicId(1), "alpha".into(), 2),
        ];
        let plan = assign(
            Assignor::RoundRobin,
            &ids(&["a", "b"]),
            &topics,
            &BTreeMap::new(),
        );
        assert_eq!(plan["a"], [tp(0, 0), tp(1, 0)]);
        assert_eq!(plan["b"], [tp(1, 1)]);
    }

    #[test]
    fn kaf_08_members_beyond_partitions_idle() {
        let members = ids(&["m0", "m1", "m2", "m3", "m4"]);
        let topics = vec![(TopicId(0), "t".into(), 3)];
        for assignor in ALL {
            let plan = assign(assignor, &members, &topics, &BTreeMap::new());
            assert_eq!(plan.len(), 5, "{assignor:?}");
            let busy = plan.values().filter(|l| l.len() == 1).count();
            let idle = plan.values().filter(|l| l.is_empty()).count();
            assert_eq!((busy, idle), (3, 2), "{assignor:?}");
        }
    }

    #[test]
    fn kaf_09_sticky_balanced_and_keeps_ownership() {
        let topics = vec![(TopicId(0), "t".into(), 9)];
        let abc = ids(&["a", "b", "c"]);
        let start = assign(Assignor::Sticky, &abc, &topics, &BTreeMap::new());

        // Same members again: nothing moves.
        assert_eq!(assign(Assignor::Sticky, &abc, &topics, &start), start);

        // "c" leaves: "a" and "b" keep everything and share c's three (5 + 4).
        let ab = assign(Assignor::Sticky, &ids(&["a", "b"]), &topics, &start);
        for m in ["a", "b"] {
            assert!(
                start[m].iter().all(|p| ab[m].contains(p)),
                "{m} lost a partition"
            );
        }
        let mut sizes: Vec<usize> = ab.values().map(Vec::len).collect();
        sizes.sort_unstable();
        assert_eq!(sizes, [4, 5]);

        // "d" joins a, b, c (3 each): quotas 3, 2, 2, 2, so at most 7 partitions can stay put.
        let abcd = assign(
            Assignor::Sticky,
            &ids(&["a", "b", "c", "d"]),
            &topics,
            &start,
        );
        let kept: usize = abc
            .iter()
            .map(|m| start[m].iter().filter(|p| abcd[m].contains(p)).count())
            .sum();
        assert_eq!(kept, 7);
        assert_eq!(abcd["d"].len(), 2);

        // Range would instead move partitions that did not need to move.
        let range = assign(
            Assignor::Range,
            &ids(&["a", "b", "c", "d"]),
            &topics,
            &start,
        );
        let range_kept: usize = abc
            .iter()
            .map(|m| start[m].iter().filter(|p| range[m].contains(p)).count())
            .sum();
        assert!(range_kept < kept);

        // CooperativeSticky computes the same target plan.
        let coop = assign(
            Assignor::CooperativeSticky,
            &ids(&["a", "b", "c", "d"]),
            &topics,
            &start,
        );
        assert_eq!(coop, abcd);
    }

    #[test]
    fn kaf_09_sticky_ignores_stale_and_duplicate_claims() {
        let topics = vec![(TopicId(0), "t".into(), 2)];
        let previous = BTreeMap::from([
            (
                "a".to_string(),
                vec![tp(0, 0), tp(0, 0), tp(0, 7), tp(5, 0)],
            ),
            ("b".to_string(), vec![tp(0, 0)]),
            ("gone".to_string(), vec![tp(0, 1)]),
        ]);
        let plan = assign(Assignor::Sticky, &ids(&["a", "b"]), &topics, &previous);
        assert_eq!(plan["a"], [tp(0, 0)]);
        assert_eq!(plan["b"], [tp(0, 1)]);
    }

    /// Sticky as it was first written: a map from partition to rank, a set of claims, and each
    /// free partition given to `min_by_key` over all members. Quadratic, kept to compare with.
    fn sticky_quadratic(
        members: &[&str],
        topics: &[(TopicId, String, u32)],
        previous: &BTreeMap<String, Vec<TopicPartition>>,
    ) -> Vec<Vec<TopicPartition>> {
        let all = partitions_by_name(topics);
        let rank: BTreeMap<TopicPartition, usize> =
            all.iter().enumerate().map(|(i, &tp)| (tp, i)).collect();
        let mut claimed = BTreeSet::new();
        let mut lists: Vec<Vec<usize>> = members
            .iter()
            .map(|&member| {
                let mut owned: Vec<usize> = previous
                    .get(member)
                    .into_iter()
                    .flatten()
                    .filter_map(|tp| rank.get(tp).copied())
                    .filter(|&i| claimed.insert(i))
                    .collect();
                owned.sort_unstable();
                owned
            })
            .collect();
        trim_to_quotas(&mut lists, all.len());
        let mut taken = vec![false; all.len()];
        for &i in lists.iter().flatten() {
            taken[i] = true;
        }
        for (i, _) in taken.iter().enumerate().filter(|(_, &t)| !t) {
            if let Some(list) = lists.iter_mut().min_by_key(|list| list.len()) {
                list.push(i);
            }
        }
        lists
            .into_iter()
            .map(|list| list.into_iter().map(|i| all[i]).collect())
            .collect()
    }

    #[test]
    fn kaf_09_sticky_plans_are_the_same_as_with_the_quadratic_fill() {
        // Mid-size groups with earlier plans from other memberships, stale and shared claims,
        // and a topic listed twice: the linear fill must hand out exactly what picking the
        // emptiest member for each partition did.
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut compared = 0;
        for case in 0..300 {
            let mut topics: Vec<(TopicId, String, u32)> = (0..1 + next(6) as u32)
                .map(|t| {
                    (
                        TopicId(t),
                        format!("topic-{}", next(50)),
                        1 + next(120) as u32,
                    )
                })
                .collect();
            if case % 5 == 0 {
                topics.push(topics[0].clone());
            }
            let names: Vec<String> = (0..1 + next(40)).map(|i| format!("m{i:02}")).collect();
            let members: Vec<&str> = names.iter().map(String::as_str).collect();
            let mut previous: BTreeMap<String, Vec<TopicPartition>> = BTreeMap::new();
            if case % 3 != 0 {
                let others: Vec<String> = (0..1 + next(45)).map(|i| format!("m{i:02}")).collect();
                let plan = assign(
                    [Assignor::RoundRobin, Assignor::Range][case % 2],
                    &others,
                    &topics,
                    &BTreeMap::new(),
                );
                for (m, mut list) in plan {
                    // Stale claims (unknown partitions) and claims shared with another member.
                    list.push(tp(0, 500 + next(5) as u32));
                    list.push(tp(next(7) as u32, next(130) as u32));
                    previous.insert(m, list);
                }
            }
            let fast = sticky(&members, &topics, &previous);
            let slow = sticky_quadratic(&members, &topics, &previous);
            assert_eq!(fast, slow, "case {case}");
            compared += fast.iter().map(Vec::len).sum::<usize>();
        }
        assert!(compared > 50_000, "{compared} partitions compared");
    }

    #[test]
    fn kaf_11_only_cooperative_sticky_is_cooperative() {
        let cooperative: Vec<bool> = ALL.iter().map(|a| a.is_cooperative()).collect();
        assert_eq!(cooperative, [false, false, false, true]);
    }

    #[test]
    fn kaf_08_09_every_partition_owned_once_and_balanced() {
        for member_count in 0..6 {
            let members: Vec<String> = (0..member_count).map(|i| format!("member-{i}")).collect();
            for partitions in 0..13 {
                // Names sort opposite to ids, so name order and id order are both exercised.
                let topics = vec![
                    (TopicId(0), "orders".to_string(), partitions),
                    (TopicId(1), "audit".to_string(), partitions / 3),
                ];
                let total = partitions + partitions / 3;
                // A previous plan from a different membership, so sticky has claims to honour.
                let mut others = members.clone();
                others.push("member-x".into());
                let previous = assign(Assignor::RoundRobin, &others, &topics, &BTreeMap::new());

                for assignor in ALL {
                    let plan = assign(assignor, &members, &topics, &previous);
                    let context = format!("{assignor:?} members={member_count} p={partitions}");
                    let expected: BTreeSet<&String> = members.iter().collect();
                    assert_eq!(plan.keys().collect::<BTreeSet<_>>(), expected, "{context}");

                    let owned: Vec<TopicPartition> = plan.values().flatten().copied().collect();
                    let unique: BTreeSet<TopicPartition> = owned.iter().copied().collect();
                    assert_eq!(owned.len(), unique.len(), "{context}: owned twice");
                    if member_count == 0 {
                        assert!(plan.is_empty());
                        continue;
                    }
                    assert_eq!(owned.len(), total as usize, "{context}: unowned partition");
                    assert!(
                        unique
                            .iter()
                            .all(|p| p.partition < topics[p.topic.index()].2),
                        "{context}: unknown partition"
                    );

                    let spread = |count: &dyn Fn(&Vec<TopicPartition>) -> usize| {
                        let counts: Vec<usize> = plan.values().map(count).collect();
                        counts.iter().max().unwrap() - counts.iter().min().unwrap()
                    };
                    if assignor == Assignor::Range {
                        for topic in [0, 1] {
                            let per_topic = spread(&|l: &Vec<TopicPartition>| {
                                l.iter().filter(|p| p.topic == TopicId(topic)).count()
                            });
                            assert!(per_topic <= 1, "{context}: topic {topic} unbalanced");
                        }
                    } else {
                        assert!(spread(&|l: &Vec<TopicPartition>| l.len()) <= 1, "{context}");
                    }

                    if matches!(assignor, Assignor::Sticky | Assignor::CooperativeSticky) {
                        assert_eq!(
                            assign(assignor, &members, &topics, &plan),
                            plan,
                            "{context}: sticky plan is not stable"
                        );
                    }
                }
            }
        }
    }
}
