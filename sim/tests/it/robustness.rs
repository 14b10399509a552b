//! Nothing hangs, nothing explodes: the reproducers in `sim/tests/robustness/` (copied from
//! `reference/robustness/`) finish, halt with a named reason, or are refused before they start;
//! hostile text and encodings get located errors.

use crate::helpers::{apply, run_ms, scenario, sim};
use broker_sim::clients::rates::check_work_budget;
use broker_sim::guard::{Halt, RUNNER_WORK_BUDGET};
use broker_sim::{Command, EventKind, Scenario, SimTime, Simulation};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/robustness/");

/// The error of a refused input; an accepted one fails without printing it (it can be huge).
fn refused<T, E>(r: Result<T, E>, what: &str) -> E {
    match r {
        Ok(_) => panic!("{what}: accepted"),
        Err(e) => e,
    }
}

fn reproducer(name: &str) -> Scenario {
    let bytes = std::fs::read(format!("{DIR}{name}")).expect("reproducer file");
    Scenario::from_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Runs a reproducer as the runner does: budget check first, then the run under the budget.
fn run_like_the_runner(name: &str, until: SimTime) -> Result<Simulation, String> {
    let s = reproducer(name);
    check_work_budget(&s, until, RUNNER_WORK_BUDGET)?;
    let mut sim = Simulation::new(&s, 1).expect("valid");
    sim.set_track_transits(false);
    sim.set_work_budget(RUNNER_WORK_BUDGET);
    sim.advance_into(until, usize::MAX, &mut Vec::new());
    sim.audit_deep().expect("ledger");
    Ok(sim)
}

#[test]
fn robustness_f2_zero_time_requeue_loop_halts_at_once() {
    let sim = run_like_the_runner(
        "F2-timeout-zero-time-livelock.json",
        SimTime::from_millis(1),
    )
    .expect("not refused");
    match sim.halted() {
        Some(Halt::ZeroTimeCycle { at, cycles, .. }) => {
            assert_eq!(*at, SimTime::ZERO);
            assert!(*cycles > 1_000);
        }
        other => panic!("expected a zero-time cycle, got {other:?}"),
    }
    assert_eq!(
        sim.now(),
        SimTime::ZERO,
        "the clock stays where the loop was"
    );
    assert!(sim.work_done() < 100_000, "{} work items", sim.work_done());
}

#[test]
fn robustness_f2_dead_letter_cycle_at_one_instant_halts() {
    let sim = run_like_the_runner("F2-variant-dlx-reject-cycle.json", SimTime::from_millis(1))
        .expect("not refused");
    assert!(
        matches!(sim.halted(), Some(Halt::ZeroTimeCycle { .. })),
        "{:?}",
        sim.halted()
    );
    let text = sim.halted().expect("halted").to_string();
    assert!(
        text.contains("zero-time loop") && text.contains("latency"),
        "{text}"
    );
}

#[test]
fn robustness_f3_a_year_of_idle_partitions_costs_no_work() {
    let sim = run_like_the_runner(
        "F3-timeout-long-run-timers.json",
        SimTime::from_secs(8760 * 3600),
    )
    .expect("not refused");
    assert!(sim.halted().is_none());
    assert_eq!(sim.now(), SimTime::from_secs(8760 * 3600));
    assert!(sim.work_done() < 100, "{} work items", sim.work_done());
}

#[test]
fn robustness_f4_a_year_of_publishing_is_refused_before_it_starts() {
    let run = run_like_the_runner(
        "F4-oom-all-events-kept.json",
        SimTime::from_secs(8760 * 3600),
    );
    let err = refused(run, "a year of publishing");
    assert!(err.contains("work budget") && err.contains("8.8"), "{err}");
}

#[test]
fn robustness_f5_message_volume_is_refused_before_it_starts() {
    let run = run_like_the_runner("F5-timeout-message-volume.json", SimTime::from_secs(3600));
    let err = refused(run, "1.44 billion copies");
    assert!(err.contains("1.440e9"), "{err}");
}

#[test]
fn robustness_f6_long_channel_and_pattern_are_refused_and_many_patterns_match_once() {
    // The file's 20,000-character channel is over the key limit now.
    let bytes = std::fs::read(format!("{DIR}F6-timeout-pattern-subscriptions.json")).expect("file");
    let err = refused(Scenario::from_bytes(&bytes), "a 20,000-byte channel");
    assert!(
        err.path.ends_with(".channel") || err.path.contains("patterns"),
        "{err}"
    );
    // The same shape at the limits: a 255-byte channel and a pathological 255-byte pattern.
    let channel = "a".repeat(255);
    let pattern = format!("*{}b", "a".repeat(253));
    let mut s = sim(&format!(
        r#"{{"version":1,"producers":[{{"name":"p","targets":[{{"channel":"{channel}"}}],
          "rate":{{"kind":"constant","per_sec":1000}}}}],
        "consumers":[{{"name":"c","source":{{"subscribe":{{"patterns":["{pattern}","*a"]}}}},
          "processing":{{"kind":"fixed","ms":0.1}}}}]}}"#
    ));
    run_ms(&mut s, 1_000);
    // Only "*a" matches: one copy per message, none lost.
    let l = s.ledger();
    assert_eq!((l.published, l.created), (1_000, 1_000));
    assert!(l.acked >= 990 && l.dropped.is_empty(), "{l:?}");
}

#[test]
fn robustness_work_budget_stops_the_run_with_an_exact_partial_state() {
    let mut s = sim(r#"{"version":1,"queues":[{"name":"q"}],
        "producers":[{"name":"p","targets":[{"exchange":""}],"rate":{"kind":"constant","per_sec":1000},
          "message":{"routing_keys":["q"]}}]}"#);
    s.set_work_budget(500);
    let reached = s.advance_into(SimTime::from_secs(10), usize::MAX, &mut Vec::new());
    assert!(!reached);
    assert_eq!(s.work_done(), 500);
    assert!(matches!(
        s.halted(),
        Some(Halt::WorkBudget { limit: 500, .. })
    ));
    let stopped_at = s.now();
    assert!(stopped_at < SimTime::from_secs(1), "{stopped_at}");
    // Halted means halted: no more work, the clock stays, the ledger still balances.
    let events = s.advance_to(SimTime::from_secs(20));
    assert!(events.is_empty());
    assert_eq!(s.now(), stopped_at);
    s.audit_deep().expect("exact partial state");
    let report = s.report(1, &[]);
    assert!(report.halted.is_some() && report.balanced);
}

#[test]
fn robustness_processing_zero_is_allowed_and_finishes() {
    // 0 ms processing is an instant consumer; with latency 0 a finite load still ends.
    let mut s = sim(r#"{"version":1,"latency_ms":0,"queues":[{"name":"q"}],
        "producers":[{"name":"p","targets":[{"exchange":""}],"rate":{"kind":"burst","count":1000,"at_ms":0},
          "message":{"routing_keys":["q"]}}],
        "consumers":[{"name":"c","source":{"queue":"q"},"processing":{"kind":"fixed","ms":0}}]}"#);
    let events = run_ms(&mut s, 10);
    assert!(s.halted().is_none());
    assert_eq!(s.ledger().acked, 1000);
    assert!(events.iter().all(|e| e.time == SimTime::ZERO));
}

#[test]
fn robustness_processing_zero_with_requeue_forever_halts_instead_of_hanging() {
    let mut s = sim(r#"{"version":1,"latency_ms":0,"queues":[{"name":"q"}],
        "producers":[{"name":"p","targets":[{"exchange":""}],"rate":{"kind":"manual"},
          "message":{"routing_keys":["q"]}}],
        "consumers":[{"name":"c","source":{"queue":"q"},"processing":{"kind":"fixed","ms":0},
          "failure":{"probability":1,"action":"nack","requeue":true}}]}"#);
    apply(
        &mut s,
        serde_json::json!({"burst": {"producer": "p", "count": 3}}),
    );
    run_ms(&mut s, 5);
    assert!(matches!(s.halted(), Some(Halt::ZeroTimeCycle { .. })));
    // With latency above 0 the same loop moves the clock, so it is not a zero-time loop.
    let mut moving = sim(r#"{"version":1,"latency_ms":1,"queues":[{"name":"q"}],
        "producers":[{"name":"p","targets":[{"exchange":""}],"rate":{"kind":"manual"},
          "message":{"routing_keys":["q"]}}],
        "consumers":[{"name":"c","source":{"queue":"q"},"processing":{"kind":"fixed","ms":0},
          "failure":{"probability":1,"action":"nack","requeue":true}}]}"#);
    apply(
        &mut moving,
        serde_json::json!({"burst": {"producer": "p", "count": 3}}),
    );
    let events = run_ms(&mut moving, 1_000);
    assert!(moving.halted().is_none());
    let requeued = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Requeued { .. }))
        .count();
    assert!(requeued > 100, "{requeued}");
}

#[test]
fn robustness_ramp_from_almost_zero_starts_publishing() {
    let mut s = sim(r#"{"version":1,"queues":[{"name":"q"}],
        "producers":[{"name":"p","targets":[{"exchange":""}],
          "rate":{"kind":"ramp","from_per_sec":1e-12,"to_per_sec":1000,"over_ms":1000},
          "message":{"routing_keys":["q"]}}]}"#);
    run_ms(&mut s, 2_000);
    // ∫ over the ramp is 500 messages, then 1,000 in the second that follows.
    let published = s.ledger().published;
    assert!((1_495..=1_505).contains(&published), "{published}");
}

#[test]
fn robustness_a_wave_idle_at_zero_costs_no_work() {
    let mut s = sim(r#"{"version":1,"queues":[{"name":"q"}],
        "producers":[{"name":"p","targets":[{"exchange":""}],
          "rate":{"kind":"square","high_per_sec":0,"low_per_sec":0,"period_ms":100,"duty":0.5},
          "message":{"routing_keys":["q"]}}]}"#);
    s.advance_to(SimTime::from_secs(24 * 3600));
    assert!(s.work_done() < 10, "{} work items", s.work_done());
    // Raising the rate wakes it.
    let c: Command = serde_json::from_value(serde_json::json!({"set_rate": {"producer": "p",
        "rate": {"kind":"square","high_per_sec":10,"low_per_sec":0,"period_ms":1000,"duty":0.5}}}))
    .expect("command");
    s.apply(c).expect("applies");
    run_ms(&mut s, 24 * 3600 * 1000 + 10_000);
    assert_eq!(s.ledger().published, 50);
}

#[test]
fn robustness_script_additions_count_against_the_entity_caps() {
    let adds: Vec<String> = (0..257)
        .map(|i| {
            format!(r#"{{"at_ms":1,"command":{{"add_queue":{{"queue":{{"name":"q{i}"}}}}}}}}"#)
        })
        .collect();
    let json = format!(r#"{{"version":1,"script":[{}]}}"#, adds.join(","));
    let err = refused(Scenario::from_json(&json), "over the cap");
    assert_eq!(err.path, "script[256].command", "{err}");
    // The same cap holds for commands given while running.
    let mut s = sim(r#"{"version":1}"#);
    for i in 0..256 {
        apply(
            &mut s,
            serde_json::json!({"add_queue": {"queue": {"name": format!("q{i}")}}}),
        );
    }
    let c: Command =
        serde_json::from_value(serde_json::json!({"add_queue": {"queue": {"name": "one-more"}}}))
            .expect("command");
    let err = refused(s.apply(c), "refused");
    assert!(err.to_string().contains("at most 256"), "{err}");
}

#[test]
fn robustness_long_text_and_keys_get_located_errors() {
    let title = "x".repeat(40_000);
    let err = refused(
        Scenario::from_json(&format!(
            r#"{{"version":1,"title":{{"en":"{title}","ko":"제목"}}}}"#
        )),
        "too long",
    );
    assert_eq!(err.path, "title.en");
    let channel = "a".repeat(20_000);
    let err = refused(
        Scenario::from_json(&format!(
            r#"{{"version":1,"producers":[{{"name":"p","targets":[{{"channel":"{channel}"}}],"rate":{{"kind":"manual"}}}}]}}"#
        )),
        "too long",
    );
    assert_eq!(err.path, "producers[0].targets[0].channel", "{err}");
    let err = refused(
        Scenario::from_json(&format!(
            r#"{{"version":1,"consumers":[{{"name":"c","source":{{"subscribe":{{"patterns":["*{channel}"]}}}},"processing":{{"kind":"fixed","ms":1}}}}]}}"#
        )),
        "too long",
    );
    assert_eq!(
        err.path, "consumers[0].source.subscribe.patterns[0]",
        "{err}"
    );
    let ok = format!(
        r#"{{"version":1,"queues":[{{"name":"{}"}}]}}"#,
        "q".repeat(255)
    );
    scenario(&ok);
}

#[test]
fn robustness_a_byte_order_mark_is_accepted_and_stripped() {
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(br#"{"version":1,"queues":[{"name":"q"}]}"#);
    let s = Scenario::from_bytes(&bytes).expect("a BOM is fine");
    assert_eq!(s.queues.len(), 1);
    assert!(Scenario::from_json("\u{feff}{\"version\":1}").is_ok());
}

#[test]
fn robustness_utf16_and_invalid_utf8_name_the_encoding_and_the_byte() {
    let json = r#"{"version":1}"#;
    let le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(json.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let err = refused(Scenario::from_bytes(&le), "UTF-16");
    assert!(
        err.to_string().contains("UTF-16") && err.to_string().contains("byte 0"),
        "{err}"
    );
    let no_bom: Vec<u8> = json.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let err = refused(Scenario::from_bytes(&no_bom), "UTF-16 without a BOM");
    assert!(
        err.to_string().contains("UTF-16") && err.to_string().contains("byte 1"),
        "{err}"
    );
    let mut bad = br#"{"version":1,"title":{"en":"caf"#.to_vec();
    let offset = bad.len();
    bad.extend_from_slice(&[0xE9, b'"', b'}', b'}']);
    let err = refused(Scenario::from_bytes(&bad), "Latin-1 byte");
    assert!(
        err.to_string().contains("not valid UTF-8")
            && err.to_string().contains(&format!("byte {offset}")),
        "{err}"
    );
}

#[test]
fn robustness_f1_crash_requeue_of_interleaved_unacked_finishes_in_publish_order() {
    // The file's shape at a tenth of its size, for a debug build; the release runner's
    // figure for the full million is in docs/performance.md.
    let mut s = reproducer("F1-timeout-quadratic-requeue.json");
    let n = 100_000;
    s.producers[0].rate = broker_sim::scenario::RatePattern::Burst {
        count: n,
        at_ms: 100.0,
    };
    let mut sim = Simulation::new(&s, 1).expect("valid");
    sim.set_track_transits(false);
    sim.advance_into(SimTime::from_secs(1), usize::MAX, &mut Vec::new());
    assert!(sim.halted().is_none(), "{:?}", sim.halted());
    sim.audit_deep().expect("ledger");
    let l = sim.ledger();
    // Both consumers crashed holding everything, so every message is back in the queue, in
    // the order it was published (RMQ-13), though they held alternate ones.
    assert_eq!((l.created, l.ready), (n, n));
    let contents = &sim.report(1, &[]).queue_contents["q"];
    assert!(contents.windows(2).all(|w| w[0] < w[1]));
}

/// The largest topology the caps allow, for RabbitMQ and Redis: 256 of each entity, every
/// producer fanning out to 16 exchanges with the most template values the total cap allows,
/// the subscribers holding the most patterns the total cap allows.
fn largest_message_broker_topology() -> serde_json::Value {
    use serde_json::json;
    let n = 256;
    let per_producer = 50_000 / n / 2;
    json!({
        "version": 1,
        "exchanges": (0..n).map(|i| json!({"name": format!("x{i}"), "type": "topic"})).collect::<Vec<_>>(),
        "queues": (0..n).map(|i| json!({"name": format!("q{i}"), "max_priority": 255})).collect::<Vec<_>>(),
        "bindings": (0..n).map(|i| json!({"exchange": format!("x{i}"), "queue": format!("q{i}"),
            "routing_key": format!("#.a.*.{}#", "b.".repeat(50))})).collect::<Vec<_>>(),
        "producers": (0..n).map(|i| json!({"name": format!("p{i}"),
            "targets": (0..16).map(|j| json!({"exchange": format!("x{}", (i + j) % n)})).collect::<Vec<_>>(),
            "rate": {"kind": "constant", "per_sec": 1},
            "message": {"routing_keys": (0..per_producer).map(|j| format!("k.{j}.a.b")).collect::<Vec<_>>(),
                        "headers": (0..per_producer).map(|j| json!({"h": j})).collect::<Vec<_>>()}})).collect::<Vec<_>>(),
        "consumers": (0..n).map(|i| json!({"name": format!("c{i}"),
            "source": {"subscribe": {"patterns": (0..50_000 / n).map(|j| format!("*a{j}?b*")).collect::<Vec<_>>()}},
            "processing": {"kind": "fixed", "ms": 1}})).collect::<Vec<_>>(),
    })
}

#[test]
fn robustness_the_largest_allowed_message_broker_topology_sets_up_and_runs() {
    let json = largest_message_broker_topology();
    let s = Scenario::from_json(&json.to_string()).expect("within every cap");
    let mut sim = Simulation::new(&s, 1).expect("builds");
    sim.set_track_transits(false);
    sim.advance_into(SimTime::from_millis(1_100), usize::MAX, &mut Vec::new());
    assert!(sim.halted().is_none());
    // 256 producers × 16 targets, one message each by 1.1 s.
    assert_eq!(sim.ledger().created, 256 * 16);
    sim.audit_deep().expect("ledger");
    // One more template value anywhere is over the total cap.
    let mut over = json.clone();
    over["producers"][255]["message"]["routing_keys"]
        .as_array_mut()
        .expect("keys")
        .extend((0..400).map(|j| serde_json::json!(format!("extra.{j}"))));
    let err = refused(Scenario::from_json(&over.to_string()), "over the total cap");
    assert_eq!(err.path, "producers[255].message", "{err}");
}

#[test]
fn robustness_a_burst_counts_its_copies_against_the_burst_cap() {
    let targets: Vec<String> = (0..16).map(|_| r#"{"topic":"t"}"#.to_string()).collect();
    let json = format!(
        r#"{{"version":1,"topics":[{{"name":"t"}}],"producers":[{{"name":"p","targets":[{}],
          "rate":{{"kind":"burst","count":1000000,"at_ms":0}}}}]}}"#,
        targets.join(",")
    );
    let err = refused(Scenario::from_json(&json), "16 million copies in one step");
    assert_eq!(err.path, "producers[0].rate.count", "{err}");
    assert!(err.to_string().contains("16000000 copies"), "{err}");
    let mut s = sim(&json.replace("1000000", "10"));
    let c: Command =
        serde_json::from_value(serde_json::json!({"burst": {"producer": "p", "count": 62_501}}))
            .expect("command");
    let err = refused(s.apply(c), "a command burst over the cap");
    assert!(err.to_string().contains("1000016 copies"), "{err}");
}

#[test]
fn rmq_04_topic_routing_is_cached_and_forgets_on_binding_changes() {
    // 255 `#`-heavy bindings against a 120-word key: matching once per key, not per message.
    let key = vec!["w"; 120].join(".");
    let bindings: Vec<String> = (0..255)
        .map(|i| {
            let pattern = format!("{}{}", vec!["#"; 1 + i % 24].join("."), ".w".repeat(i / 24));
            format!(r#"{{"exchange":"x","queue":"q{i}","routing_key":"{pattern}"}}"#)
        })
        .collect();
    let queues: Vec<String> = (0..255).map(|i| format!(r#"{{"name":"q{i}"}}"#)).collect();
    let mut s = sim(&format!(
        r#"{{"version":1,"exchanges":[{{"name":"x","type":"topic"}}],"queues":[{}],"bindings":[{}],
          "producers":[{{"name":"p","targets":[{{"exchange":"x"}}],"rate":{{"kind":"manual"}},
            "message":{{"routing_keys":["{key}"]}}}}]}}"#,
        queues.join(","),
        bindings.join(",")
    ));
    apply(
        &mut s,
        serde_json::json!({"burst": {"producer": "p", "count": 20}}),
    );
    run_ms(&mut s, 100);
    let reached = s.ledger().created;
    assert!(reached > 20 && reached % 20 == 0, "{reached}");
    // A new binding that matches: the next message reaches one more queue.
    apply(
        &mut s,
        serde_json::json!({"add_queue": {"queue": {"name": "extra"}}}),
    );
    apply(
        &mut s,
        serde_json::json!({"add_binding": {"binding": {"exchange": "x", "queue": "extra", "routing_key": "#"}}}),
    );
    apply(
        &mut s,
        serde_json::json!({"burst": {"producer": "p", "count": 1}}),
    );
    run_ms(&mut s, 200);
    assert_eq!(s.ledger().created, reached + reached / 20 + 1);
    // Removing it: back to the old set.
    apply(
        &mut s,
        serde_json::json!({"remove_binding": {"binding": {"exchange": "x", "queue": "extra", "routing_key": "#"}}}),
    );
    apply(
        &mut s,
        serde_json::json!({"burst": {"producer": "p", "count": 1}}),
    );
    run_ms(&mut s, 300);
    assert_eq!(s.ledger().created, reached + 2 * (reached / 20) + 1);
}
