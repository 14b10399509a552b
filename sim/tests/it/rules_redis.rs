//! RPS-1..RPS-3: Redis Pub/Sub (`reference/semantics.md` §3.1).
//!
//! A message published at t reaches the channel at t+2 ms (the PUBLISH instant, when the
//! receivers are counted) and each subscriber at t+4 ms.

use crate::helpers::{
    any_kind, apply, burst_rate, cmd, constant_rate, consumer_id, dropped, ids_received_by,
    report_received, report_received_ids, rule_file, run_file, run_ms, sim, trace, With,
};
use broker_sim::{DropReason, Event, EventKind, SimTime};
use serde_json::{json, Value};

fn subscriber(name: &str, channels: &[&str], patterns: &[&str]) -> Value {
    json!({ "name": name, "source": { "subscribe": { "channels": channels, "patterns": patterns } },
            "processing": { "kind": "fixed", "ms": 1 } })
}

fn publisher(name: &str, channel: &str, rate: Value, limit: Option<u64>) -> Value {
    let mut p = json!({ "name": name, "targets": [{ "channel": channel }], "rate": rate });
    if let Some(l) = limit {
        p["limit"] = json!(l);
    }
    p
}

fn scenario(producers: Value, consumers: Value) -> String {
    json!({ "version": 1, "producers": producers, "consumers": consumers }).to_string()
}

/// The PUBLISH replies in order: (message id, receivers).
fn publish_replies(events: &[Event]) -> Vec<(u64, u32)> {
    events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::ChannelPublished { msg, receivers, .. } => Some((msg.0, receivers)),
            _ => None,
        })
        .collect()
}

/// (time, lost) of every output-buffer disconnect of `consumer`.
fn disconnects(events: &[Event], consumer: broker_sim::ConsumerId) -> Vec<(SimTime, u32)> {
    events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::SubscriberDisconnected { consumer: c, lost } if c == consumer => {
                Some((e.time, lost))
            }
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------- RPS-1

#[test]
fn rps_01_publish_with_no_subscriber_is_gone() {
    let mut s = sim(&scenario(
        json!([publisher("p", "news", burst_rate(3, 0.0), None)]),
        json!([subscriber("other", &["sports"], &[])]),
    ));
    let events = run_ms(&mut s, 100);
    assert_eq!(publish_replies(&events), [(0, 0), (1, 0), (2, 0)]);
    assert_eq!(dropped(&s, DropReason::NoSubscriber), 3);
    assert!(ids_received_by(&events, &s, "other").is_empty());
    let l = s.ledger();
    assert_eq!(
        l.in_flight + l.ready + l.unacked + l.processing,
        0,
        "nothing is stored"
    );
}

#[test]
fn rps_01_late_subscriber_gets_only_later_messages() {
    let late = subscriber("late", &["news"], &[]).with(json!({ "stopped": true }));
    let mut s = sim(&scenario(
        json!([publisher("p", "news", constant_rate(100.0), Some(10))]),
        json!([subscriber("early", &["news"], &[]), late]),
    ));
    // m_k is published at 10(k+1) ms and reaches the channel 2 ms later; "late" joins at 55 ms.
    let mut events = run_ms(&mut s, 55);
    apply(&mut s, cmd::restart("late"));
    events.extend(run_ms(&mut s, 300));
    assert_eq!(
        ids_received_by(&events, &s, "early"),
        (0..10).collect::<Vec<_>>()
    );
    assert_eq!(ids_received_by(&events, &s, "late"), [5, 6, 7, 8, 9]);
    let replies: Vec<u32> = publish_replies(&events)
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(replies, [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    // No storage and no ack: nothing is settled and nothing waits anywhere.
    assert!(!any_kind(&events, |k| matches!(
        k,
        EventKind::Settled { .. }
    )));
    assert_eq!(s.ledger().acked, 15);
}

#[test]
fn rps_01_disconnected_subscriber_misses_what_was_published_while_away() {
    let mut s = sim(&scenario(
        json!([publisher("p", "news", constant_rate(100.0), Some(10))]),
        json!([subscriber("s1", &["news"], &[])]),
    ));
    let mut events = run_ms(&mut s, 40);
    apply(&mut s, cmd::crash("s1"));
    events.extend(run_ms(&mut s, 75));
    apply(&mut s, cmd::restart("s1"));
    events.extend(run_ms(&mut s, 300));
    // m3..m6 reached the channel at 42..72 ms, while s1 was away: never delivered, not replayed.
    assert_eq!(
        ids_received_by(&events, &s, "s1"),
        [0, 1, 2, 7, 8, 9],
        "{}",
        trace(&events)
    );
    assert_eq!(dropped(&s, DropReason::NoSubscriber), 4);
}

#[test]
fn rps_01_example_scenario() {
    let (_, events, r) = run_file(&rule_file("rps-01-fire-and-forget.json"), 10_000);
    assert_eq!(report_received_ids(&r, "early"), [2, 3, 4, 5, 6, 7, 8, 9]);
    assert_eq!(report_received_ids(&r, "late"), [5, 6, 7, 8, 9]);
    let replies: Vec<u32> = publish_replies(&events)
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    assert_eq!(replies, [0, 0, 1, 1, 1, 2, 2, 2, 2, 2]);
    assert_eq!(
        r.ledger.dropped.get(&DropReason::NoSubscriber).copied(),
        Some(2)
    );
}

// ---------------------------------------------------------------- RPS-2

/// Six single-message publishers, 10 ms apart, so message ids follow the channel names:
/// m0 foo, m1 news.1, m2 news.10, m3 hello, m4 hallo, m5 hullo.
fn pattern_scenario() -> String {
    let channels = ["foo", "news.1", "news.10", "hello", "hallo", "hullo"];
    let producers: Vec<Value> = channels
        .iter()
        .enumerate()
        .map(|(i, ch)| publisher(&format!("p{i}"), ch, burst_rate(1, (10 * i) as f64), None))
        .collect();
    scenario(
        json!(producers),
        json!([
            subscriber("a", &["foo"], &["f*"]),
            subscriber("b", &[], &["news.?", "h[ae]llo"]),
            subscriber("c", &[], &["*"]),
            subscriber("d", &[], &["h[^e]llo"])
        ]),
    )
}

#[test]
fn rps_02_client_on_channel_and_matching_pattern_gets_two_copies() {
    let mut s = sim(&pattern_scenario());
    let events = run_ms(&mut s, 200);
    assert_eq!(ids_received_by(&events, &s, "a"), [0, 0]);
    // The PUBLISH reply counts both of a's subscriptions, plus c.
    assert_eq!(publish_replies(&events)[0], (0, 3));
}

#[test]
fn rps_02_glob_patterns_star_question_mark_and_classes() {
    let mut s = sim(&pattern_scenario());
    let events = run_ms(&mut s, 200);
    assert_eq!(
        ids_received_by(&events, &s, "b"),
        [1, 3, 4],
        "? is exactly one char; [ae] a class"
    );
    assert_eq!(ids_received_by(&events, &s, "c"), [0, 1, 2, 3, 4, 5]);
    assert_eq!(
        ids_received_by(&events, &s, "d"),
        [4, 5],
        "[^e] is any char but e"
    );
}

#[test]
fn rps_02_each_subscriber_receives_in_publish_order() {
    let mut s = sim(&scenario(
        json!([publisher("p", "ticks", constant_rate(1000.0), Some(50))]),
        json!([
            subscriber("by-name", &["ticks"], &[]),
            subscriber("by-pattern", &[], &["t*"])
        ]),
    ));
    let events = run_ms(&mut s, 500);
    let all: Vec<u64> = (0..50).collect();
    assert_eq!(ids_received_by(&events, &s, "by-name"), all);
    assert_eq!(ids_received_by(&events, &s, "by-pattern"), all);
}

#[test]

fn rps_02_repeated_subscription_counts_once() {
    // Redis keeps a client's channels and patterns as sets: subscribing to foo twice is still one
    // subscription, so foo + f* (each listed twice) is two copies, as in RPS-2. Refusing the
    // duplicate in the scenario would be fine too.
    let json = scenario(
        json!([publisher("p", "foo", burst_rate(1, 0.0), None)]),
        json!([subscriber("s", &["foo", "foo"], &["f*", "f*"])]),
    );
    if broker_sim::Scenario::from_json(&json).is_err() {
        return;
    }
    let mut s = sim(&json);
    let events = run_ms(&mut s, 100);
    assert_eq!(
        ids_received_by(&events, &s, "s"),
        [0, 0],
        "{}",
        trace(&events)
    );
    assert_eq!(publish_replies(&events), [(0, 2)]);
}

/// The channel names a subscriber's snapshot lists as matched.
fn matched_channels(s: &broker_sim::Simulation, consumer: &str) -> Vec<String> {
    let snap = s.snapshot();
    let c = snap.consumers.iter().find(|c| c.name == consumer).unwrap();
    (c.channels.iter())
        .map(|id| snap.channels[id.0 as usize].clone())
        .collect()
}

#[test]
fn rps_02_subscribers_and_channels_added_later_are_matched() {
    // Matches are cached per channel; a subscriber or channel that appears after publishing has
    // started must still be matched, with a copy per name and per distinct pattern.
    let mut s = sim(&scenario(
        json!([publisher("p", "news.1", constant_rate(100.0), Some(6))]),
        json!([subscriber("a", &[], &["news.*"])]),
    ));
    let mut events = run_ms(&mut s, 25);
    apply(
        &mut s,
        cmd::add_consumer(subscriber("b", &["news.2"], &["news.?", "news.?", "n*"])),
    );
    // Matched as soon as it is added, before any publish.
    assert_eq!(matched_channels(&s, "b"), ["news.1"]);
    events.extend(run_ms(&mut s, 45));
    apply(
        &mut s,
        json!({ "add_producer": { "producer": publisher("q", "news.2", constant_rate(100.0), Some(1)) } }),
    );
    assert_eq!(matched_channels(&s, "a"), ["news.1", "news.2"]);
    assert_eq!(matched_channels(&s, "b"), ["news.1", "news.2"]);
    events.extend(run_ms(&mut s, 300));
    // m0, m1 reach the channel at 12 and 22 ms, before b joins at 25 ms; m5 is q's message
    // (published at 55 ms), m6 p's last (60 ms).
    assert_eq!(ids_received_by(&events, &s, "a"), [0, 1, 2, 3, 4, 5, 6]);
    assert_eq!(
        ids_received_by(&events, &s, "b"),
        [2, 2, 3, 3, 4, 4, 5, 5, 5, 6, 6],
        "news.1: news.? and n*; news.2: the name, news.? and n*\n{}",
        trace(&events)
    );
    let replies: Vec<u32> = publish_replies(&events).iter().map(|r| r.1).collect();
    assert_eq!(replies, [1, 1, 3, 3, 3, 4, 3]);
}

#[test]
fn rps_02_distinct_pattern_texts_count_separately() {
    // Sets are of pattern texts, as in Redis: `f*` and `f**` are two subscriptions.
    let mut s = sim(&scenario(
        json!([publisher("p", "foo", burst_rate(1, 0.0), None)]),
        json!([subscriber("s", &[], &["f*", "f**", "f*"])]),
    ));
    let events = run_ms(&mut s, 100);
    assert_eq!(ids_received_by(&events, &s, "s"), [0, 0]);
}

#[test]
fn rps_02_example_scenario() {
    let (_, _, r) = run_file(&rule_file("rps-02-patterns.json"), 10_000);
    // m0 foo, m1 news.1, m2 news.10, m3 hello, m4 hallo, m5 hullo.
    assert_eq!(report_received_ids(&r, "foo-and-f-star"), [0, 0]);
    assert_eq!(report_received_ids(&r, "globs"), [1, 3, 4]);
    assert_eq!(report_received_ids(&r, "everything"), [0, 1, 2, 3, 4, 5]);
}

// ---------------------------------------------------------------- RPS-3

/// 1 kB messages every ms; "slow" buffers them (100 ms each) past its 10 kB limit, "fast" keeps up.
fn slow_subscriber() -> String {
    let slow = subscriber("slow", &["feed"], &[]).with(json!({
        "processing": { "kind": "fixed", "ms": 100 }, "output_buffer_limit_bytes": 10_000
    }));
    let p = publisher("p", "feed", constant_rate(1000.0), Some(100))
        .with(json!({ "message": { "size_bytes": 1000 } }));
    scenario(
        json!([p]),
        json!([slow, subscriber("fast", &["feed"], &[])]),
    )
}

#[test]
fn rps_03_slow_subscriber_over_hard_limit_is_disconnected_and_loses_its_buffer() {
    let mut s = sim(&slow_subscriber());
    let events = run_ms(&mut s, 300);
    let slow = consumer_id(&s, "slow");
    let cut = disconnects(&events, slow);
    assert_eq!(cut.len(), 1, "{}", trace(&events));
    let (at, lost) = cut[0];
    // m0 is in processing from 5 ms; m1..m11 arrive at 6..16 ms and the 11th kB breaks the limit.
    assert_eq!(at, SimTime::from_millis(16));
    let pushed = events
        .iter()
        .filter(
            |e| matches!(e.kind, EventKind::PubSubDelivered { consumer, .. } if consumer == slow),
        )
        .count() as u32;
    // Nothing was processed yet: every copy pushed to it, on the wire or buffered, is lost.
    assert!(lost > 10 && lost == pushed, "lost {lost}, pushed {pushed}");
    assert_eq!(
        dropped(&s, DropReason::SubscriberDisconnected),
        u64::from(lost)
    );
    assert!(!events.iter().any(|e| e.time > at
        && matches!(e.kind, EventKind::PubSubDelivered { consumer, .. } if consumer == slow)));
}

#[test]
fn rps_03_publisher_is_never_slowed_down() {
    let mut s = sim(&slow_subscriber());
    let events = run_ms(&mut s, 300);
    let r = s.report(1, &events);
    assert_eq!(r.publishers["p"].sent, 100);
    assert_eq!(
        ids_received_by(&events, &s, "fast"),
        (0..100).collect::<Vec<_>>()
    );
    // After the disconnect at 16 ms only "fast" is counted by PUBLISH.
    let replies = publish_replies(&events);
    assert!(
        replies
            .iter()
            .all(|&(m, n)| n == if m < 13 { 2 } else { 1 }),
        "{replies:?}"
    );
}

#[test]
fn rps_03_messages_until_resubscribe_are_lost() {
    let mut s = sim(&slow_subscriber());
    let mut events = run_ms(&mut s, 60);
    apply(&mut s, cmd::restart("slow"));
    events.extend(run_ms(&mut s, 300));
    let slow = consumer_id(&s, "slow");
    let got = ids_received_by(&events, &s, "slow");
    // m57 reached the channel at 60 ms, just before the restart; m58 is the first it sees again.
    let first_after = *got.iter().find(|&&m| m > 13).expect("receives again");
    assert_eq!(first_after, 58, "{got:?}");
    let lost_total: u64 = disconnects(&events, slow)
        .iter()
        .map(|d| u64::from(d.1))
        .sum();
    assert_eq!(dropped(&s, DropReason::SubscriberDisconnected), lost_total);
}

#[test]

fn rps_03_soft_limit_8mb_for_60s_disconnects() {
    // 12 MiB-sized messages at once, then one per second against one processed per second: the
    // buffer stays between 10 and 11 MiB, above 8 MiB and below the 32 MiB hard limit.
    let mib = 1024 * 1024;
    let size = json!({ "message": { "size_bytes": mib } });
    let burst = publisher("burst", "feed", burst_rate(12, 0.0), None).with(size.clone());
    let steady = publisher("steady", "feed", constant_rate(1.0), None).with(size);
    let slow = subscriber("slow", &["feed"], &[])
        .with(json!({ "processing": { "kind": "fixed", "ms": 1000 } }));
    let mut s = sim(&scenario(json!([burst, steady]), json!([slow])));
    let events = run_ms(&mut s, 120_000);
    let cut = disconnects(&events, consumer_id(&s, "slow"));
    assert_eq!(
        cut.len(),
        1,
        "expected a disconnect about 60 s after the buffer passed 8 MB; got {cut:?}"
    );
    assert!(
        cut[0].0 >= SimTime::from_secs(60) && cut[0].0 <= SimTime::from_secs(65),
        "{cut:?}"
    );
}

#[test]
fn rps_03_example_scenario() {
    let (sim, events, r) = run_file(&rule_file("rps-03-slow-subscriber.json"), 5_000);
    let slow = consumer_id(&sim, "slow-reader");
    let cut = disconnects(&events, slow);
    assert!(!cut.is_empty(), "the slow reader is disconnected");
    assert!(cut[0].0 < SimTime::from_secs(1), "{cut:?}");
    // The publisher keeps its rate: 50/s for 5 s. The fast reader gets every message PUBLISHed.
    assert_eq!(r.publishers["ticker"].sent, 250);
    let published = publish_replies(&events).len();
    assert_eq!(report_received(&r, "fast-reader").len(), published);
    let lost: u64 = cut.iter().map(|d| u64::from(d.1)).sum();
    assert_eq!(
        r.ledger
            .dropped
            .get(&DropReason::SubscriberDisconnected)
            .copied(),
        Some(lost)
    );
    assert!(report_received(&r, "slow-reader").len() < published / 2);
}
