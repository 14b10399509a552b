//! RMQ-1..RMQ-7: exchanges, bindings and routing (`reference/semantics.md` §1.1).
//!
//! Most scenarios here have no consumers, so every routed copy stays Ready and the queues'
//! contents show exactly where each message went.

use crate::helpers::{dropped, queue_contents, report_received, run_file, run_ms, sim, trace};
use broker_sim::{Command, CommandError, DropReason, EventKind, Simulation};
use serde_json::json;

/// Names of the queues a message was routed to, from its `Routed` event.
fn routed_to(events: &[broker_sim::Event], sim: &Simulation, msg: u64) -> Vec<String> {
    let names: Vec<String> = sim
        .snapshot()
        .queues
        .iter()
        .map(|q| q.name.clone())
        .collect();
    let routed: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Routed { msg: m, queues, .. } if m.0 == msg => Some(
                queues
                    .iter()
                    .map(|q| names[q.index()].clone())
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
        .collect();
    assert_eq!(
        routed.len(),
        1,
        "m{msg} should be routed once:\n{}",
        trace(events)
    );
    routed.into_iter().next().unwrap()
}

// ---------------------------------------------------------------- RMQ-1

const DIRECT: &str = r##"{
  "version": 1,
  "exchanges": [{ "name": "x", "type": "direct" }],
  "queues": [{ "name": "q1" }, { "name": "q2" }, { "name": "q3" }],
  "bindings": [
    { "exchange": "x", "queue": "q1", "routing_key": "a" },
    { "exchange": "x", "queue": "q2", "routing_key": "a" },
    { "exchange": "x", "queue": "q3", "routing_key": "b" }
  ],
  "producers": [{
    "name": "p", "targets": [{ "exchange": "x" }],
    "rate": { "kind": "burst", "count": 3, "at_ms": 0 },
    "message": { "routing_keys": ["a", "A", "b"] }
  }]
}"##;

#[test]
fn rmq_01_direct_key_reaches_every_queue_bound_with_that_key() {
    let mut s = sim(DIRECT);
    let events = run_ms(&mut s, 10);
    assert_eq!(routed_to(&events, &s, 0), ["q1", "q2"]);
    assert_eq!(queue_contents(&s, "q1"), [0]);
    assert_eq!(queue_contents(&s, "q2"), [0]);
    assert_eq!(queue_contents(&s, "q3"), [2]);
}

#[test]
fn rmq_01_direct_match_is_case_sensitive() {
    let mut s = sim(DIRECT);
    let events = run_ms(&mut s, 10);
    // "A" is not "a": nothing matches, and without mandatory the message is dropped.
    assert!(routed_to(&events, &s, 1).is_empty());
    assert_eq!(dropped(&s, DropReason::Unroutable), 1);
    assert!(!queue_contents(&s, "q1").contains(&1));
    assert!(!queue_contents(&s, "q2").contains(&1));
}

#[test]
fn rmq_01_example_scenario() {
    let (_, _, r) = run_file(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/rules/rmq-01-direct.json"
        ),
        10_000,
    );
    // Keys cycle error, info, warning, error: both "error" messages reach both queues.
    assert_eq!(
        r.received["all-logger"]
            .iter()
            .map(|m| m.msg.0)
            .collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert_eq!(
        r.received["error-alerter"]
            .iter()
            .map(|m| m.msg.0)
            .collect::<Vec<_>>(),
        [0, 3]
    );
    assert_eq!(r.ledger.acked, 6);
    assert_eq!(
        r.ledger.dropped_total(),
        1,
        "the \"Error\" key matches nothing"
    );
}

// ---------------------------------------------------------------- RMQ-2

/// Message key "a.b" matches the queue `q` along five paths: a direct fanout binding, a second
/// fanout binding with another key, through exchange x2, and twice through the topic exchange t.
const MANY_PATHS: &str = r##"{
  "version": 1,
  "exchanges": [
    { "name": "x", "type": "fanout" },
    { "name": "x2", "type": "fanout" },
    { "name": "t", "type": "topic" }
  ],
  "queues": [{ "name": "q" }, { "name": "other" }],
  "bindings": [
    { "exchange": "x", "queue": "q" },
    { "exchange": "x", "queue": "q", "routing_key": "dup" },
    { "exchange": "x", "to_exchange": "x2" },
    { "exchange": "x", "to_exchange": "t" },
    { "exchange": "x2", "queue": "q" },
    { "exchange": "x2", "queue": "other" },
    { "exchange": "t", "queue": "q", "routing_key": "a.*" },
    { "exchange": "t", "queue": "q", "routing_key": "#" },
    { "exchange": "t", "queue": "q", "routing_key": "a.b" }
  ],
  "producers": [{
    "name": "p", "targets": [{ "exchange": "x" }],
    "rate": { "kind": "burst", "count": 1, "at_ms": 0 },
    "message": { "routing_keys": ["a.b"] }
  }]
}"##;

#[test]
fn rmq_02_queue_matched_by_many_bindings_gets_one_copy() {
    let mut s = sim(MANY_PATHS);
    let events = run_ms(&mut s, 10);
    assert_eq!(routed_to(&events, &s, 0), ["q", "other"]);
    assert_eq!(queue_contents(&s, "q"), [0]);
    assert_eq!(queue_contents(&s, "other"), [0]);
    let l = s.ledger();
    assert_eq!(
        (l.published, l.fanout_copies, l.created),
        (1, 1, 2),
        "{l:?}"
    );
}

#[test]
fn rmq_02_example_scenario() {
    let (_, _, r) = run_file(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/rules/rmq-02-one-copy-per-queue.json"
        ),
        10_000,
    );
    let got: Vec<u64> = r.received["billing"].iter().map(|m| m.msg.0).collect();
    assert_eq!(
        got,
        [0, 1, 2],
        "one copy per message, not one per matching binding"
    );
    assert_eq!(r.ledger.created, 3);
}

// ---------------------------------------------------------------- RMQ-3

#[test]
fn rmq_03_fanout_ignores_the_key_and_copies_to_every_queue() {
    let mut s = sim(r##"{
      "version": 1,
      "exchanges": [{ "name": "f", "type": "fanout" }],
      "queues": [{ "name": "q1" }, { "name": "q2" }, { "name": "q3" }],
      "bindings": [
        { "exchange": "f", "queue": "q1", "routing_key": "ignored" },
        { "exchange": "f", "queue": "q2" },
        { "exchange": "f", "queue": "q3", "routing_key": "zzz" }
      ],
      "producers": [{
        "name": "p", "targets": [{ "exchange": "f" }],
        "rate": { "kind": "burst", "count": 2, "at_ms": 0 },
        "message": { "routing_keys": ["k1", ""] }
      }]
    }"##);
    run_ms(&mut s, 10);
    for q in ["q1", "q2", "q3"] {
        assert_eq!(queue_contents(&s, q), [0, 1], "{q}");
    }
    let l = s.ledger();
    assert_eq!((l.published, l.fanout_copies, l.ready), (2, 4, 6));
}

#[test]
fn rmq_03_example_scenario() {
    let (_, _, r) = run_file(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/rules/rmq-03-fanout.json"
        ),
        10_000,
    );
    for c in ["email", "sms", "push"] {
        let got: Vec<u64> = r.received[c].iter().map(|m| m.msg.0).collect();
        assert_eq!(got, [0, 1, 2], "{c}");
    }
    assert_eq!((r.ledger.published, r.ledger.acked), (3, 9));
}

// ---------------------------------------------------------------- RMQ-4

#[test]
fn rmq_04_topic_star_is_one_word_hash_is_zero_or_more() {
    let mut s = sim(r##"{
      "version": 1,
      "exchanges": [{ "name": "t", "type": "topic" }],
      "queues": [{ "name": "cities" }, { "name": "audit" }, { "name": "ab" }, { "name": "all" }],
      "bindings": [
        { "exchange": "t", "queue": "cities", "routing_key": "regions.na.cities.*" },
        { "exchange": "t", "queue": "audit", "routing_key": "audit.events.#" },
        { "exchange": "t", "queue": "ab", "routing_key": "a.#.b" },
        { "exchange": "t", "queue": "all", "routing_key": "#" }
      ],
      "producers": [{
        "name": "p", "targets": [{ "exchange": "t" }],
        "rate": { "kind": "burst", "count": 7, "at_ms": 0 },
        "message": { "routing_keys": [
          "regions.na.cities.toronto", "regions.na.cities", "audit.events",
          "audit.events.users.signup", "audit.users", "a.b", "a.x.y.b"
        ] }
      }]
    }"##);
    run_ms(&mut s, 10);
    assert_eq!(
        queue_contents(&s, "cities"),
        [0],
        "* needs exactly one word"
    );
    assert_eq!(
        queue_contents(&s, "audit"),
        [2, 3],
        "# matches zero or more words"
    );
    assert_eq!(queue_contents(&s, "ab"), [5, 6], "a.#.b matches a.b");
    assert_eq!(
        queue_contents(&s, "all"),
        [0, 1, 2, 3, 4, 5, 6],
        "# alone is fanout"
    );
    assert_eq!(dropped(&s, DropReason::Unroutable), 0);
}

#[test]
fn rmq_04_example_scenario() {
    let (_, _, r) = run_file(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/rules/rmq-04-topic.json"
        ),
        10_000,
    );
    let ids = |c: &str| r.received[c].iter().map(|m| m.msg.0).collect::<Vec<_>>();
    // Keys: 0 regions.na.cities.toronto, 1 regions.na.cities, 2 audit.events,
    // 3 audit.events.users.signup, 4 audit.users.
    assert_eq!(ids("city-watcher"), [0]);
    assert_eq!(ids("auditor"), [2, 3]);
    assert_eq!(ids("archiver"), [0, 1, 2, 3, 4]);
}

// ---------------------------------------------------------------- RMQ-5

const HEADERS: &str = r##"{
  "version": 1,
  "exchanges": [{ "name": "h", "type": "headers" }],
  "queues": [
    { "name": "all" }, { "name": "any" }, { "name": "default" }, { "name": "void" },
    { "name": "x_skipped" }, { "name": "all_with_x" }, { "name": "only_all" }, { "name": "only_any" }
  ],
  "bindings": [
    { "exchange": "h", "queue": "all", "routing_key": "pdf",
      "arguments": { "x-match": "all", "format": "pdf", "type": "report" } },
    { "exchange": "h", "queue": "any",
      "arguments": { "x-match": "any", "format": "pdf", "type": "report" } },
    { "exchange": "h", "queue": "default",
      "arguments": { "format": "pdf", "type": "report" } },
    { "exchange": "h", "queue": "void", "arguments": { "format": null } },
    { "exchange": "h", "queue": "x_skipped", "arguments": { "x-match": "all", "x-tenant": "acme" } },
    { "exchange": "h", "queue": "all_with_x", "arguments": { "x-match": "all-with-x", "x-tenant": "acme" } },
    { "exchange": "h", "queue": "only_all", "arguments": { "x-match": "all" } },
    { "exchange": "h", "queue": "only_any", "arguments": { "x-match": "any" } }
  ],
  "producers": [{
    "name": "p", "targets": [{ "exchange": "h" }],
    "rate": { "kind": "burst", "count": 5, "at_ms": 0 },
    "message": {
      "routing_keys": ["pdf", "zzz"],
      "headers": [
        { "format": "pdf", "type": "report" },
        { "format": "pdf", "type": "log" },
        { "type": "report" },
        { "x-tenant": "acme", "format": "zip" },
        {}
      ]
    }
  }]
}"##;

#[test]
fn rmq_05_headers_all_any_and_default_all() {
    let mut s = sim(HEADERS);
    run_ms(&mut s, 10);
    assert_eq!(
        queue_contents(&s, "all"),
        [0],
        "all needs every header, key ignored"
    );
    assert_eq!(queue_contents(&s, "any"), [0, 1, 2]);
    assert_eq!(
        queue_contents(&s, "default"),
        [0],
        "missing x-match means all"
    );
}

#[test]
fn rmq_05_headers_void_argument_tests_presence_only() {
    let mut s = sim(HEADERS);
    run_ms(&mut s, 10);
    assert_eq!(queue_contents(&s, "void"), [0, 1, 3]);
}

#[test]
fn rmq_05_headers_x_keys_skipped_unless_with_x() {
    let mut s = sim(HEADERS);
    run_ms(&mut s, 10);
    // With x-tenant skipped the binding holds no test, so `all` matches every message.
    assert_eq!(queue_contents(&s, "x_skipped"), [0, 1, 2, 3, 4]);
    assert_eq!(queue_contents(&s, "all_with_x"), [3]);
}

#[test]
fn rmq_05_headers_only_x_match_all_matches_everything_any_nothing() {
    let mut s = sim(HEADERS);
    run_ms(&mut s, 10);
    assert_eq!(queue_contents(&s, "only_all"), [0, 1, 2, 3, 4]);
    assert_eq!(queue_contents(&s, "only_any"), Vec::<u64>::new());
}

#[test]
fn rmq_05_example_scenario() {
    let (_, _, r) = run_file(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/rules/rmq-05-headers.json"
        ),
        10_000,
    );
    let ids = |c: &str| r.received[c].iter().map(|m| m.msg.0).collect::<Vec<_>>();
    // Headers: 0 {format pdf, type report}, 1 {format pdf, type log}, 2 {type report}, 3 {}.
    assert_eq!(ids("pdf-reports"), [0]);
    assert_eq!(ids("pdf-or-report"), [0, 1, 2]);
    assert_eq!(ids("has-format"), [0, 1]);
}

// ---------------------------------------------------------------- RMQ-6

#[test]
fn rmq_06_default_exchange_routes_by_queue_name() {
    let mut s = sim(r##"{
      "version": 1,
      "queues": [{ "name": "orders" }, { "name": "audit" }],
      "producers": [{
        "name": "p", "targets": [{ "exchange": "" }],
        "rate": { "kind": "burst", "count": 4, "at_ms": 0 },
        "message": { "routing_keys": ["orders", "audit", "nosuch", "Orders"] }
      }]
    }"##);
    run_ms(&mut s, 10);
    assert_eq!(queue_contents(&s, "orders"), [0]);
    assert_eq!(queue_contents(&s, "audit"), [1]);
    assert_eq!(dropped(&s, DropReason::Unroutable), 2);
}

#[test]
fn rmq_06_binding_to_default_exchange_in_a_scenario_is_access_refused() {
    let e = broker_sim::Scenario::from_json(
        r##"{
      "version": 1,
      "queues": [{ "name": "q" }],
      "bindings": [{ "exchange": "", "queue": "q", "routing_key": "other" }]
    }"##,
    )
    .expect_err("binding to the default exchange must be refused");
    assert_eq!(e.path, "bindings[0].exchange");
    assert!(e.reason.contains("ACCESS_REFUSED"), "{e}");
    // Without the binding the same topology is valid, and "other" reaches nothing.
    let mut s = sim(r##"{
      "version": 1,
      "queues": [{ "name": "q" }],
      "producers": [{
        "name": "p", "targets": [{ "exchange": "" }],
        "rate": { "kind": "burst", "count": 1, "at_ms": 0 },
        "message": { "routing_keys": ["other"] }
      }]
    }"##);
    run_ms(&mut s, 10);
    assert_eq!(queue_contents(&s, "q"), Vec::<u64>::new());
    assert_eq!(dropped(&s, DropReason::Unroutable), 1);
}

#[test]
fn rmq_06_bind_and_unbind_commands_on_default_exchange_are_refused() {
    let mut s = sim(r##"{ "version": 1, "queues": [{ "name": "q" }, { "name": "r" }] }"##);
    run_ms(&mut s, 1);
    let binding = json!({ "exchange": "", "queue": "r", "routing_key": "q" });
    for cmd in [
        json!({ "add_binding": { "binding": binding } }),
        json!({ "remove_binding": { "binding": binding } }),
    ] {
        let cmd: Command = serde_json::from_value(cmd).unwrap();
        assert!(s.apply(cmd).is_err());
    }
    // Nothing changed: the key "q" still reaches only q.
    s.apply(
        serde_json::from_value(json!({ "add_producer": { "producer": {
            "name": "p", "targets": [{ "exchange": "" }],
            "rate": { "kind": "burst", "count": 1, "at_ms": 0 },
            "message": { "routing_keys": ["q"] }
        } } }))
        .unwrap(),
    )
    .unwrap();
    run_ms(&mut s, 10);
    assert_eq!(queue_contents(&s, "q"), [0]);
    assert_eq!(queue_contents(&s, "r"), Vec::<u64>::new());
}

#[test]
fn rmq_06_bind_command_on_default_exchange_says_access_refused() {
    let mut s = sim(r##"{ "version": 1, "queues": [{ "name": "q" }] }"##);
    run_ms(&mut s, 1);
    let cmd: Command = serde_json::from_value(
        json!({ "add_binding": { "binding": { "exchange": "", "queue": "q", "routing_key": "x" } } }),
    )
    .unwrap();
    let e = s.apply(cmd).expect_err("refused");
    assert!(
        !matches!(e, CommandError::UnknownEntity { .. }),
        "the default exchange exists: {e:?}"
    );
    assert!(e.to_string().contains("ACCESS_REFUSED"), "{e}");
}

#[test]
fn rmq_06_example_scenario() {
    let (_, _, r) = run_file(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/rules/rmq-06-default-exchange.json"
        ),
        10_000,
    );
    let ids = |c: &str| r.received[c].iter().map(|m| m.msg.0).collect::<Vec<_>>();
    assert_eq!(ids("order-worker"), [0, 2]);
    assert_eq!(ids("mail-worker"), [1, 3]);
    assert_eq!(r.ledger.dropped_total(), 0);
}

// ---------------------------------------------------------------- RMQ-7

fn unroutable(mandatory: bool, confirms: bool) -> Simulation {
    sim(&format!(
        r##"{{
      "version": 1,
      "exchanges": [{{ "name": "x", "type": "direct" }}],
      "queues": [{{ "name": "q" }}],
      "bindings": [{{ "exchange": "x", "queue": "q", "routing_key": "a" }}],
      "producers": [{{
        "name": "p", "targets": [{{ "exchange": "x" }}], "mandatory": {mandatory}, "confirms": {confirms},
        "rate": {{ "kind": "burst", "count": 2, "at_ms": 0 }},
        "message": {{ "routing_keys": ["a", "nowhere"] }}
      }}]
    }}"##
    ))
}

#[test]
fn rmq_07_unroutable_without_mandatory_is_dropped_silently() {
    let mut s = unroutable(false, true);
    let events = run_ms(&mut s, 10);
    let r = s.report(1, &events);
    assert_eq!(queue_contents(&s, "q"), [0]);
    assert_eq!(dropped(&s, DropReason::Unroutable), 1);
    assert_eq!(dropped(&s, DropReason::Returned), 0);
    let p = &r.publishers["p"];
    assert!(p.returned.is_empty());
    assert_eq!(
        (p.confirms_acked, p.confirms_nacked),
        (2, 0),
        "unroutable is still confirmed"
    );
}

#[test]
fn rmq_07_mandatory_unroutable_is_returned_and_still_confirmed() {
    let mut s = unroutable(true, true);
    let events = run_ms(&mut s, 10);
    let r = s.report(1, &events);
    assert_eq!(dropped(&s, DropReason::Returned), 1);
    assert_eq!(dropped(&s, DropReason::Unroutable), 0);
    let p = &r.publishers["p"];
    assert_eq!(p.returned.iter().map(|m| m.0).collect::<Vec<_>>(), [1]);
    assert_eq!(
        (p.confirms_acked, p.confirms_nacked),
        (2, 0),
        "basic.return, then the ack"
    );
    assert!(events
        .iter()
        .all(|e| !matches!(e.kind, EventKind::PublisherNacked { .. })));
}

#[test]
fn rmq_07_alternate_exchange_takes_unroutable_which_is_then_not_returned() {
    let mut s = sim(r##"{
      "version": 1,
      "exchanges": [
        { "name": "x", "type": "direct", "alternate_exchange": "ae" },
        { "name": "ae", "type": "direct" }
      ],
      "queues": [{ "name": "q" }, { "name": "unrouted" }],
      "bindings": [
        { "exchange": "x", "queue": "q", "routing_key": "a" },
        { "exchange": "ae", "queue": "unrouted", "routing_key": "zzz" }
      ],
      "producers": [{
        "name": "p", "targets": [{ "exchange": "x" }], "mandatory": true, "confirms": true,
        "rate": { "kind": "burst", "count": 3, "at_ms": 0 },
        "message": { "routing_keys": ["a", "zzz", "yyy"] }
      }]
    }"##);
    let events = run_ms(&mut s, 10);
    let r = s.report(1, &events);
    assert_eq!(
        queue_contents(&s, "q"),
        [0],
        "routed messages skip the alternate exchange"
    );
    assert_eq!(routed_to(&events, &s, 1), ["unrouted"]);
    assert_eq!(queue_contents(&s, "unrouted"), [1]);
    // Unroutable at the alternate exchange too: returned, because mandatory is on.
    let p = &r.publishers["p"];
    assert_eq!(p.returned.iter().map(|m| m.0).collect::<Vec<_>>(), [2]);
    assert_eq!(p.confirms_acked, 3);
}

#[test]
fn rmq_07_example_scenario() {
    let (_, _, r) = run_file(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/rules/rmq-07-unroutable.json"
        ),
        10_000,
    );
    // router's keys cycle payment, refund: refunds go through the alternate exchange.
    assert_eq!(report_received(&r, "payments"), [(0, false), (2, false)]);
    assert_eq!(
        report_received(&r, "unrouted-inspector"),
        [(1, false), (3, false)]
    );
    assert!(
        r.publishers["router"].returned.is_empty(),
        "via the AE counts as routed"
    );
    let strict = &r.publishers["strict"];
    assert_eq!(
        strict.returned.iter().map(|m| m.0).collect::<Vec<_>>(),
        [4, 5]
    );
    assert_eq!((strict.confirms_acked, strict.confirms_nacked), (2, 0));
    assert!(r.publishers["quiet"].returned.is_empty());
    assert_eq!(
        r.ledger.dropped.get(&DropReason::Returned).copied(),
        Some(2)
    );
    assert_eq!(
        r.ledger.dropped.get(&DropReason::Unroutable).copied(),
        Some(2)
    );
}
