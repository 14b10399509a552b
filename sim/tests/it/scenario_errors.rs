//! Invalid scenario files give a `ScenarioError` that names the field path and the reason, and
//! never a panic, whatever the input: wrong values, broken references, cycles, garbage, deep nesting.

use broker_sim::scenario::QueueSpec;
use broker_sim::{Command, CommandError, Scenario, ScenarioError, Simulation};
use serde_json::{json, Value};

/// A small valid scenario that each test breaks in one place.
fn base() -> Value {
    json!({
        "version": 1,
        "exchanges": [{ "name": "orders", "type": "direct" }],
        "queues": [{ "name": "q" }],
        "bindings": [{ "exchange": "orders", "queue": "q", "routing_key": "k" }],
        "producers": [{ "name": "p", "targets": [{ "exchange": "orders" }],
                        "rate": { "kind": "constant", "per_sec": 5 },
                        "message": { "routing_keys": ["k"] } }],
        "consumers": [{ "name": "c", "source": { "queue": "q" }, "prefetch": 1,
                        "processing": { "kind": "fixed", "ms": 10 } }]
    })
}

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::from_json(text)
}

/// Parses `text`, expecting an error at exactly `path` whose reason contains `word`.
#[track_caller]
fn assert_err_text(text: &str, path: &str, word: &str) -> ScenarioError {
    let err = match parse(text) {
        Ok(_) => panic!("expected an error at {path:?}, but the scenario was accepted"),
        Err(e) => e,
    };
    assert_eq!(err.path, path, "wrong path; reason: {}", err.reason);
    assert!(
        err.reason.to_lowercase().contains(&word.to_lowercase()),
        "reason {:?} should mention {word:?}",
        err.reason
    );
    err
}

#[track_caller]
fn assert_err(v: Value, path: &str, word: &str) -> ScenarioError {
    assert_err_text(&v.to_string(), path, word)
}

/// `base()` with the value at a JSON pointer set (the last key is added if missing).
fn with(pointer: &str, value: Value) -> Value {
    let mut v = base();
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    let parent = v
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no {parent} in base"));
    match parent {
        Value::Object(m) => {
            m.insert(key.to_string(), value);
        }
        Value::Array(a) => a[key.parse::<usize>().expect("index")] = value,
        _ => panic!("{pointer}: parent is not a container"),
    }
    v
}

#[test]
fn base_scenario_is_valid() {
    let s = parse(&base().to_string()).expect("valid");
    Simulation::new(&s, 1).expect("builds");
}

#[test]
fn unknown_field_is_named_with_its_path() {
    let mut v = base();
    v["colour"] = json!("red");
    assert_err(v, "colour", "unknown field");
    let mut v = base();
    v["queues"][0]["max_lenght"] = json!(3);
    assert_err(v, "queues[0].max_lenght", "unknown field");
    // Inside an internally tagged object the path stops at the object; the reason names the field.
    let mut v = base();
    v["consumers"][0]["processing"]["jitter"] = json!(1);
    assert_err(v, "consumers[0].processing", "unknown field `jitter`");
}

#[test]
fn unknown_variant_is_named_with_its_path() {
    assert_err(
        with("/exchanges/0/type", json!("x-delayed")),
        "exchanges[0].type",
        "unknown variant",
    );
    assert_err(
        with("/queues/0/overflow", json!("drop-tail")),
        "queues[0].overflow",
        "unknown variant",
    );
    assert_err(
        with("/producers/0/rate/kind", json!("sometimes")),
        "producers[0].rate.kind",
        "unknown variant",
    );
    // A command's variant is its only key: the path names the command, not a field of it.
    assert_err(
        with(
            "/script",
            json!([{ "at_ms": 0, "command": { "crash_consumr": { "name": "c" } } }]),
        ),
        "script[0].command",
        "unknown variant `crash_consumr`",
    );
}

#[test]
fn negative_rate_is_refused() {
    assert_err(
        with("/producers/0/rate/per_sec", json!(-1)),
        "producers[0].rate.per_sec",
        "non-negative",
    );
}

#[test]
fn rate_above_the_cap_is_refused() {
    assert_err(
        with("/producers/0/rate/per_sec", json!(1e300)),
        "producers[0].rate.per_sec",
        "cap",
    );
}

#[test]
fn prefetch_of_ten_to_the_twelfth_is_refused() {
    assert_err(
        with("/consumers/0/prefetch", json!(1_000_000_000_000u64)),
        "consumers[0].prefetch",
        "invalid value",
    );
    // Fits a u32 but not AMQP's 16-bit prefetch_count.
    assert_err(
        with("/consumers/0/prefetch", json!(70_000)),
        "consumers[0].prefetch",
        "16-bit",
    );
}

#[test]
fn binding_to_a_missing_exchange_or_queue_is_refused() {
    assert_err(
        with("/bindings/0/exchange", json!("nope")),
        "bindings[0].exchange",
        "no exchange",
    );
    assert_err(
        with("/bindings/0/queue", json!("nope")),
        "bindings[0].queue",
        "no queue",
    );
    assert_err(
        with("/bindings/0/exchange", json!("")),
        "bindings[0].exchange",
        "ACCESS_REFUSED",
    );
    let mut v = base();
    v["bindings"][0]["to_exchange"] = json!("orders");
    assert_err(v, "bindings[0]", "exactly one");
}

#[test]
fn other_missing_references_are_refused() {
    assert_err(
        with("/producers/0/targets/0/exchange", json!("nope")),
        "producers[0].targets[0].exchange",
        "no exchange",
    );
    assert_err(
        with("/consumers/0/source/queue", json!("nope")),
        "consumers[0].source.queue",
        "no queue",
    );
    assert_err(
        with(
            "/queues/0",
            json!({ "name": "q", "dead_letter_exchange": "dlx" }),
        ),
        "queues[0].dead_letter_exchange",
        "no exchange",
    );
    assert_err(
        with(
            "/exchanges/0",
            json!({ "name": "orders", "type": "direct", "alternate_exchange": "nope" }),
        ),
        "exchanges[0].alternate_exchange",
        "no exchange",
    );
}

#[test]
fn exchange_binding_cycle_is_refused() {
    let mut v = base();
    v["exchanges"] = json!([
        { "name": "a", "type": "fanout" }, { "name": "b", "type": "fanout" },
        { "name": "c", "type": "fanout" }, { "name": "orders", "type": "direct" }
    ]);
    v["bindings"] = json!([
        { "exchange": "a", "to_exchange": "b" },
        { "exchange": "b", "to_exchange": "c" },
        { "exchange": "c", "to_exchange": "a" }
    ]);
    let e = assert_err(v, "bindings", "cycle");
    assert!(e.reason.contains("a -> b -> c -> a"), "{}", e.reason);
    // An alternate exchange can close the loop too.
    let mut v = base();
    v["exchanges"] = json!([
        { "name": "a", "type": "direct", "alternate_exchange": "b" },
        { "name": "b", "type": "fanout" }, { "name": "orders", "type": "direct" }
    ]);
    v["bindings"] = json!([{ "exchange": "b", "to_exchange": "a" }]);
    assert_err(v, "bindings", "cycle");
}

#[test]
fn wrong_or_missing_version_is_refused() {
    assert_err(with("/version", json!(2)), "version", "unsupported");
    assert_err(with("/version", json!(0)), "version", "unsupported");
    assert_err(with("/version", json!("1")), "version", "invalid type");
    let mut v = base();
    v.as_object_mut().unwrap().remove("version");
    assert_err(v, "", "missing field `version`");
}

#[test]
fn rabbitmq_version_accepts_only_4_3() {
    let mut v = base();
    v["rabbitmq_version"] = json!("4.3");
    parse(&v.to_string()).expect("4.3 is the modelled version");
    for bad in [json!("4.2"), json!("3.13"), json!(4.3), json!("")] {
        let mut v = base();
        v["rabbitmq_version"] = bad;
        let e = parse(&v.to_string()).expect_err("only 4.3");
        assert_eq!(e.path, "rabbitmq_version", "{e}");
    }
    let mut v = base();
    v["rabbitmq_version"] = json!("4.2");
    assert_err(v, "rabbitmq_version", "4.3");
}

#[test]
fn nan_and_infinity_literals_are_syntax_errors() {
    for lit in ["NaN", "Infinity", "-Infinity", "nan"] {
        let text = base()
            .to_string()
            .replace("\"per_sec\":5", &format!("\"per_sec\":{lit}"));
        assert!(text.contains(lit));
        let e = parse(&text).expect_err("not JSON");
        assert_eq!(e.path, "producers[0].rate.per_sec", "{lit}: {e}");
        assert!(
            e.reason.contains("expected") || e.reason.contains("invalid number"),
            "{lit}: {e}"
        );
    }
}

#[test]
fn huge_numbers_are_refused() {
    // Beyond f64: serde_json refuses the literal itself.
    let text = base()
        .to_string()
        .replace("\"per_sec\":5", "\"per_sec\":1e400");
    let e = parse(&text).expect_err("out of range");
    assert_eq!(e.path, "producers[0].rate.per_sec");
    assert!(e.reason.contains("out of range"), "{e}");
    // Finite but absurd values hit the caps.
    assert_err(with("/latency_ms", json!(1e300)), "latency_ms", "cap");
    assert_err(
        with("/consumers/0/processing/ms", json!(1e18)),
        "consumers[0].processing.ms",
        "cap",
    );
    assert_err(
        with("/queues/0", json!({ "name": "q", "message_ttl_ms": 1e300 })),
        "queues[0].message_ttl_ms",
        "cap",
    );
    assert_err(
        with(
            "/producers/0/rate",
            json!({ "kind": "burst", "count": 1e30, "at_ms": 0 }),
        ),
        // Internally tagged: the path stops at the object, the reason names the type.
        "producers[0].rate",
        "expected u64",
    );
    assert_err(
        with(
            "/producers/0/rate",
            json!({ "kind": "burst", "count": 2_000_000, "at_ms": 0 }),
        ),
        "producers[0].rate.count",
        "cap",
    );
    assert_err(
        with("/queues/0", json!({ "name": "q", "max_length": -1 })),
        "queues[0].max_length",
        "invalid value",
    );
    assert_err(
        with("/producers/0/message/size_bytes", json!(1u64 << 40)),
        "producers[0].message.size_bytes",
        "invalid value",
    );
    assert_err(
        with("/producers/0/message/size_bytes", json!(200 * 1024 * 1024)),
        "producers[0].message.size_bytes",
        "at most",
    );
}

#[test]
fn max_priority_must_be_1_to_255() {
    for bad in [0, 256] {
        assert_err(
            with("/queues/0", json!({ "name": "q", "max_priority": bad })),
            "queues[0].max_priority",
            "1 to 255",
        );
    }
    for ok in [1, 255] {
        parse(&with("/queues/0", json!({ "name": "q", "max_priority": ok })).to_string())
            .expect("in range");
    }
    assert_err(
        with("/producers/0/message/priorities", json!([1, 300])),
        "producers[0].message.priorities[1]",
        "0 to 255",
    );
}

#[test]
fn delivery_limit_only_on_quorum_queues_and_in_range() {
    assert_err(
        with("/queues/0", json!({ "name": "q", "delivery_limit": 5 })),
        "queues[0].delivery_limit",
        "quorum",
    );
    for bad in [0, -2, 70_000] {
        assert_err(
            with(
                "/queues/0",
                json!({ "name": "q", "type": "quorum", "delivery_limit": bad }),
            ),
            "queues[0].delivery_limit",
            "-1",
        );
    }
    assert_err(
        with(
            "/queues/0",
            json!({ "name": "q", "type": "quorum", "overflow": "reject-publish-dlx" }),
        ),
        "queues[0].overflow",
        "reject-publish-dlx",
    );
}

#[test]
fn expires_ms_must_be_a_positive_duration() {
    assert_err(
        with("/queues/0", json!({ "name": "q", "expires_ms": 0 })),
        "queues[0].expires_ms",
        "at least 1 ms",
    );
    assert_err(
        with("/queues/0", json!({ "name": "q", "expires_ms": -5 })),
        "queues[0].expires_ms",
        "non-negative",
    );
}

#[test]
fn duplicate_names_are_refused() {
    let mut v = base();
    v["queues"] = json!([{ "name": "q" }, { "name": "r" }, { "name": "q" }]);
    assert_err(v, "queues[2].name", "twice");
    let mut v = base();
    v["exchanges"] =
        json!([{ "name": "orders", "type": "direct" }, { "name": "orders", "type": "topic" }]);
    assert_err(v, "exchanges[1].name", "twice");
    let mut v = base();
    let c = v["consumers"][0].clone();
    v["consumers"] = json!([c.clone(), c]);
    assert_err(v, "consumers[1].name", "twice");
    let mut v = base();
    let p = v["producers"][0].clone();
    v["producers"] = json!([p.clone(), p]);
    assert_err(v, "producers[1].name", "twice");
}

#[test]
fn empty_targets_and_empty_names_are_refused() {
    assert_err(
        with("/producers/0/targets", json!([])),
        "producers[0].targets",
        "at least one",
    );
    assert_err(
        with("/producers/0/message/routing_keys", json!([])),
        "producers[0].message.routing_keys",
        "at least one",
    );
    let mut v = base();
    v["queues"] = json!([{ "name": "" }]);
    v["bindings"] = json!([]);
    v["consumers"] = json!([]);
    assert_err(v, "queues[0].name", "needs a name");
    assert_err(
        with("/exchanges/0/name", json!("")),
        "exchanges[0].name",
        "default exchange",
    );
    let mut v = base();
    v["consumers"] = json!([{ "name": "s", "source": { "subscribe": {} },
                              "processing": { "kind": "fixed", "ms": 1 } }]);
    assert_err(v, "consumers[0].source.subscribe", "at least one");
}

#[test]
fn out_of_range_probabilities_and_durations_are_refused() {
    let mut v = base();
    v["consumers"][0]["failure"] = json!({ "probability": 1.5 });
    assert_err(v, "consumers[0].failure.probability", "between 0 and 1");
    assert_err(
        with(
            "/consumers/0/processing",
            json!({ "kind": "uniform", "min_ms": 10, "max_ms": 5 }),
        ),
        "consumers[0].processing.max_ms",
        "min_ms",
    );
    assert_err(with("/latency_ms", json!(-1)), "latency_ms", "non-negative");
    let mut v = base();
    v["script"] = json!([{ "at_ms": -1, "command": { "pause_producer": { "producer": "p" } } }]);
    assert_err(v, "script[0].at_ms", "non-negative");
}

#[test]
fn too_many_entities_and_too_long_names_are_refused() {
    let mut v = base();
    v["bindings"] = json!([]);
    v["consumers"] = json!([]);
    v["queues"] = Value::Array(
        (0..300)
            .map(|i| json!({ "name": format!("q{i}") }))
            .collect(),
    );
    assert_err(v, "queues", "at most");
    assert_err(
        with("/queues/0/name", json!("x".repeat(300))),
        "queues[0].name",
        "longer",
    );
}

#[test]
fn ten_megabytes_of_garbage_is_an_error_not_a_panic() {
    // Deterministic printable noise, including quotes, brackets and multi-byte characters.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let alphabet: Vec<char> = "{}[]\":,0123456789.eE+-abcxyz \n\t\\é한🦀"
        .chars()
        .collect();
    let mut garbage = String::with_capacity(10 * 1024 * 1024 + 8);
    while garbage.len() < 10 * 1024 * 1024 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        garbage.push(alphabet[(x % alphabet.len() as u64) as usize]);
    }
    let e = parse(&garbage).expect_err("garbage");
    assert!(!e.reason.is_empty());
    // The same bytes after a valid prefix: the error points into the scenario.
    let text = format!("{{\"version\":1,\"queues\":[{{\"name\":\"q\",\"max_length\":{garbage}");
    let e = parse(&text).expect_err("garbage");
    assert_eq!(e.path, "queues[0].max_length", "{e}");
}

#[test]

fn trailing_garbage_after_a_scenario_is_refused() {
    for tail in ["x", "}", "{\"version\":2}", "\u{0}garbage"] {
        let text = format!("{}{tail}", base());
        let e = parse(&text).expect_err(tail);
        assert!(e.reason.contains("trailing"), "{tail:?}: {e}");
    }
}

#[test]
fn non_object_documents_are_errors() {
    for text in [
        "",
        "   ",
        "null",
        "42",
        "\"scenario\"",
        "[]",
        "{",
        "{\"version\":1,}",
    ] {
        let e = parse(text).expect_err(text);
        assert!(!e.reason.is_empty(), "{text:?}");
    }
}

#[test]

fn array_document_is_refused() {
    for text in ["[1]", "[1, \"4.3\"]"] {
        let e = parse(text).expect_err(text);
        assert!(e.reason.contains("expected"), "{text}: {e}");
    }
}

#[test]
fn deeply_nested_json_hits_the_recursion_limit_instead_of_overflowing_the_stack() {
    let depth = 100_000;
    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    // In a header value, where any JSON is accepted.
    let text = base().to_string().replace(
        "\"routing_keys\":[\"k\"]",
        &format!("\"routing_keys\":[\"k\"],\"headers\":[{{\"h\":{deep}}}]"),
    );
    let e = parse(&text).expect_err("too deep");
    assert!(e.reason.contains("recursion limit"), "{e}");
    assert!(e.path.starts_with("producers[0].message.headers[0]"), "{e}");
    // In binding arguments, objects instead of arrays.
    let deep_obj = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    let text = base().to_string().replace(
        "\"routing_key\":\"k\"",
        &format!("\"routing_key\":\"k\",\"arguments\":{{\"x\":{deep_obj}}}"),
    );
    let e = parse(&text).expect_err("too deep");
    assert!(e.reason.contains("recursion limit"), "{e}");
    assert!(e.path.starts_with("bindings[0].arguments"), "{e}");
    // At the top level, where a struct is expected.
    let e = parse(&deep).expect_err("not a scenario");
    assert!(!e.reason.is_empty());
}

#[test]
fn error_display_names_the_path() {
    let e = assert_err(
        with("/consumers/0/prefetch", json!(70_000)),
        "consumers[0].prefetch",
        "16-bit",
    );
    assert!(e.to_string().starts_with("consumers[0].prefetch: "), "{e}");
}

#[test]
fn simulation_new_validates_a_scenario_built_in_code() {
    let mut s = parse(&base().to_string()).unwrap();
    s.queues[0].max_priority = Some(0);
    let e = Simulation::new(&s, 1).err().expect("refused");
    assert_eq!(e.path, "queues[0].max_priority");
    let mut s = parse(&base().to_string()).unwrap();
    s.latency_ms = f64::NAN;
    let e = Simulation::new(&s, 1).err().expect("refused");
    assert_eq!(e.path, "latency_ms");
    assert!(e.reason.contains("NaN"), "{e}");
    let mut s = parse(&base().to_string()).unwrap();
    s.producers[0].rate = broker_sim::scenario::RatePattern::Constant {
        per_sec: f64::INFINITY,
    };
    let e = Simulation::new(&s, 1).err().expect("refused");
    assert_eq!(e.path, "producers[0].rate.per_sec");
}

#[test]
fn invalid_queue_in_a_command_is_refused_with_its_field() {
    let s = parse(&base().to_string()).unwrap();
    let mut sim = Simulation::new(&s, 1).unwrap();
    let spec = QueueSpec {
        name: "q".into(),
        delivery_limit: Some(3),
        ..QueueSpec::default()
    };
    match sim.apply(Command::UpdateQueue { queue: spec }) {
        Err(CommandError::Invalid(e)) => {
            assert_eq!(e.path, "queue.delivery_limit");
            assert!(e.reason.contains("quorum"), "{e}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    let spec = QueueSpec {
        name: "q2".into(),
        max_priority: Some(256),
        ..QueueSpec::default()
    };
    match sim.apply(Command::AddQueue { queue: spec }) {
        Err(CommandError::Invalid(e)) => assert_eq!(e.path, "queue.max_priority"),
        other => panic!("expected Invalid, got {other:?}"),
    }
}
