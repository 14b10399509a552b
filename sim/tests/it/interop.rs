//! Round trips with real brokers: RabbitMQ definitions in and out (the fixtures were written by a
//! real RabbitMQ 3.10.8, tests/fixtures/README.md), Kafka topic commands, docker-compose.yml,
//! and the runner's commands and CSV report.

use broker_sim::interop::{
    docker_compose, export_definitions, import_definitions, kafka_script, kafka_setup,
    scenario_from_definitions, ImportOptions, Imported, Note,
};
use broker_sim::scenario::{
    BindingSpec, ExchangeSpec, ExchangeType, Overflow, QueueSpec, QueueType, Scenario,
};
use broker_sim::SimTime;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
const RABBITMQCTL: &str = "rabbitmq-3.10.8-definitions.json";
const API: &str = "rabbitmq-3.10.8-definitions-api.json";
const VHOST_SHOP: &str = "rabbitmq-3.10.8-definitions-vhost-shop.json";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).expect("fixture")
}

fn import(text: &str, vhost: Option<&str>, approximate: bool) -> Imported {
    let options = ImportOptions {
        vhost: vhost.map(str::to_string),
        approximate,
    };
    import_definitions(text, &options).unwrap_or_else(|e| panic!("import failed: {e}"))
}

fn import_err(text: &str, vhost: Option<&str>, approximate: bool) -> (String, String) {
    let options = ImportOptions {
        vhost: vhost.map(str::to_string),
        approximate,
    };
    match import_definitions(text, &options) {
        Ok(_) => panic!("import should fail"),
        Err(e) => (e.path, e.reason),
    }
}

fn x(name: &str, kind: ExchangeType) -> ExchangeSpec {
    ExchangeSpec {
        name: name.into(),
        kind,
        alternate_exchange: None,
    }
}

fn q(name: &str) -> QueueSpec {
    QueueSpec {
        name: name.into(),
        ..QueueSpec::default()
    }
}

fn to_queue(exchange: &str, queue: &str, key: &str) -> BindingSpec {
    BindingSpec {
        exchange: exchange.into(),
        queue: Some(queue.into()),
        to_exchange: None,
        routing_key: key.into(),
        arguments: BTreeMap::new(),
    }
}

fn to_exchange(exchange: &str, to: &str, key: &str) -> BindingSpec {
    BindingSpec {
        queue: None,
        to_exchange: Some(to.into()),
        ..to_queue(exchange, "", key)
    }
}

fn headers(exchange: &str, queue: &str, args: Value) -> BindingSpec {
    BindingSpec {
        arguments: serde_json::from_value(args).unwrap(),
        ..to_queue(exchange, queue, "")
    }
}

/// A definitions file of one vhost-less section set, for the synthetic cases.
fn defs(parts: Value) -> String {
    let mut base = json!({ "rabbit_version": "4.3.0", "exchanges": [], "queues": [], "bindings": [], "policies": [] });
    for (k, v) in parts.as_object().unwrap() {
        base[k] = v.clone();
    }
    base.to_string()
}

fn queue_def(name: &str, args: Value) -> Value {
    json!({ "name": name, "durable": true, "auto_delete": false, "arguments": args })
}

fn policy(name: &str, pattern: &str, apply_to: &str, priority: i64, definition: Value) -> Value {
    json!({ "name": name, "pattern": pattern, "apply-to": apply_to, "priority": priority, "definition": definition })
}

/// The one queue a synthetic file imports to.
fn only_queue(text: &str) -> QueueSpec {
    let imported = import(text, None, false);
    assert_eq!(imported.scenario.queues.len(), 1);
    imported.scenario.queues[0].clone()
}

fn has_note(imported: &Imported, path: &str, text: &str) -> bool {
    imported
        .notes
        .iter()
        .any(|n: &Note| n.path == path && n.text.contains(text))
}

/// The `shop` virtual host of the fixtures, with its two policies applied.
fn shop_topology() -> (Vec<ExchangeSpec>, Vec<QueueSpec>, Vec<BindingSpec>) {
    let cart = |name| QueueSpec {
        max_length: Some(500),
        overflow: Overflow::RejectPublish,
        ..q(name)
    };
    let notify = |name, max_length| QueueSpec {
        max_length,
        message_ttl_ms: Some(86_400_000.0),
        dead_letter_exchange: Some("shop.dlx".into()),
        ..q(name)
    };
    (
        vec![
            x("shop.commands", ExchangeType::Direct),
            x("shop.dlx", ExchangeType::Fanout),
            x("shop.events", ExchangeType::Topic),
        ],
        vec![
            // Both policies match the cart queues; only cart-limits (priority 10) applies.
            cart("cart.abandoned"),
            cart("cart.updates"),
            QueueSpec {
                kind: QueueType::Quorum,
                delivery_limit: Some(5),
                ..q("checkout")
            },
            notify("notify.email", None),
            // Its own x-max-length with the dead-lettering policy's TTL and DLX.
            notify("notify.sms", Some(1000)),
            q("shop.dead-letters"),
        ],
        vec![
            to_exchange("shop.commands", "shop.events", "checkout.start"),
            to_queue("shop.commands", "checkout", "checkout.start"),
            to_queue("shop.dlx", "shop.dead-letters", ""),
            to_queue("shop.events", "cart.abandoned", "cart.abandoned"),
            to_queue("shop.events", "cart.updates", "cart.*"),
            to_queue("shop.events", "notify.email", "notify.#"),
            to_queue("shop.events", "notify.sms", "notify.*.sms"),
        ],
    )
}

/// The default virtual host `/` of the whole-node fixtures.
fn root_topology() -> (Vec<ExchangeSpec>, Vec<QueueSpec>, Vec<BindingSpec>) {
    (
        vec![
            x("broadcast", ExchangeType::Fanout),
            x("documents", ExchangeType::Headers),
            x("logs", ExchangeType::Topic),
            ExchangeSpec {
                alternate_exchange: Some("orders.unrouted".into()),
                ..x("orders", ExchangeType::Direct)
            },
            x("orders.dlx", ExchangeType::Direct),
            x("orders.unrouted", ExchangeType::Fanout),
        ],
        vec![
            q("broadcast.audit"),
            QueueSpec {
                auto_delete: true,
                ..q("broadcast.cache-invalidation")
            },
            q("documents.invoices-pdf"),
            q("documents.receipts-or-german"),
            q("invoices.sequencer"),
            q("logs.archive"),
            q("logs.errors"),
            q("logs.payments"),
            q("orders.dead"),
            QueueSpec {
                max_priority: Some(10),
                ..q("orders.express")
            },
            QueueSpec {
                max_length: Some(5),
                overflow: Overflow::RejectPublishDlx,
                dead_letter_exchange: Some("orders.dlx".into()),
                ..q("orders.pending")
            },
            q("orders.unrouted"),
            QueueSpec {
                kind: QueueType::Quorum,
                delivery_limit: Some(5),
                ..q("payments")
            },
            QueueSpec {
                message_ttl_ms: Some(30_000.0),
                dead_letter_exchange: Some("orders".into()),
                dead_letter_routing_key: Some("payment.requested".into()),
                ..q("payments.retry")
            },
            QueueSpec {
                expires_ms: Some(3_600_000.0),
                ..q("reports.adhoc")
            },
        ],
        vec![
            to_queue("broadcast", "broadcast.audit", ""),
            to_queue("broadcast", "broadcast.cache-invalidation", ""),
            headers(
                "documents",
                "documents.invoices-pdf",
                json!({ "x-match": "all", "type": "invoice", "format": "pdf" }),
            ),
            headers(
                "documents",
                "documents.receipts-or-german",
                json!({ "x-match": "any", "type": "receipt", "lang": "de" }),
            ),
            to_exchange("logs", "broadcast", "*.critical"),
            to_queue("logs", "logs.archive", "#"),
            to_queue("logs", "logs.errors", "*.critical"),
            to_queue("logs", "logs.errors", "*.error"),
            to_queue("logs", "logs.payments", "payments.#"),
            to_queue("orders", "invoices.sequencer", "invoice.issue"),
            to_queue("orders", "orders.express", "order.express"),
            to_queue("orders", "orders.pending", "order.created"),
            to_queue("orders", "orders.pending", "order.updated"),
            to_queue("orders", "payments", "payment.requested"),
            to_queue("orders.dlx", "orders.dead", "order.created"),
            to_queue("orders.dlx", "orders.dead", "order.updated"),
            to_queue("orders.unrouted", "orders.unrouted", ""),
        ],
    )
}

fn topology(s: &Scenario) -> (Vec<ExchangeSpec>, Vec<QueueSpec>, Vec<BindingSpec>) {
    (s.exchanges.clone(), s.queues.clone(), s.bindings.clone())
}

/// Import, export, import: the second scenario equals the first.
fn assert_round_trip(first: &Scenario, vhost: &str) {
    let text = export_definitions(first, vhost).unwrap_or_else(|e| panic!("export: {e}"));
    let again = import(&text, None, false);
    assert_eq!(again.vhost, vhost);
    assert_eq!(&again.scenario, first, "round trip through\n{text}");
}

// ---------------------------------------------------------------- import from the fixtures

#[test]
fn interop_defs_shop_imports_exactly_from_all_three_fixtures() {
    for file in [RABBITMQCTL, API, VHOST_SHOP] {
        // The whole-node files hold `/` and `shop`: the only vhost besides `/` is picked.
        let imported = import(&fixture(file), None, false);
        assert_eq!(imported.vhost, "shop", "{file}");
        assert_eq!(topology(&imported.scenario), shop_topology(), "{file}");
        let s = &imported.scenario;
        assert!(s.producers.is_empty() && s.consumers.is_empty() && s.topics.is_empty());
        assert!(
            has_note(&imported, "parameters[0]", "virtual host limits ignored"),
            "{file}: {:?}",
            imported.notes
        );
    }
}

#[test]
fn interop_defs_app_entry_point_takes_text_and_gives_the_scenario() {
    let s = scenario_from_definitions(&fixture(API)).unwrap();
    assert_eq!(topology(&s), shop_topology());
    let e = scenario_from_definitions("[]").unwrap_err();
    assert_eq!(e.path, "");
}

#[test]
fn interop_defs_ignored_sections_are_listed_with_their_paths() {
    let imported = import(&fixture(RABBITMQCTL), None, false);
    let paths: Vec<&str> = imported.notes.iter().map(|n| n.path.as_str()).collect();
    for path in [
        "users",
        "permissions",
        "topic_permissions",
        "parameters[0]",
        "vhosts[0]",
        "vhosts",
        "rabbitmq_version",
    ] {
        assert!(paths.contains(&path), "no note at {path}: {paths:?}");
    }
    assert!(has_note(&imported, "vhosts", "left out: \"/\""));
    assert!(has_note(&imported, "users", "2 ignored"));
    assert!(has_note(&imported, "vhosts[0]", "limits, metadata ignored"));
}

#[test]
fn interop_defs_root_vhost_imports_exactly_when_approximating() {
    for file in [RABBITMQCTL, API] {
        let imported = import(&fixture(file), Some("/"), true);
        assert_eq!(topology(&imported.scenario), root_topology(), "{file}");
        let raw: Value = serde_json::from_str(&fixture(file)).unwrap();
        let index = |name: &str| {
            raw["queues"]
                .as_array()
                .unwrap()
                .iter()
                .position(|q| q["name"] == name && q["vhost"] == "/")
                .unwrap()
        };
        let sac = format!(
            "queues[{}].arguments.x-single-active-consumer",
            index("invoices.sequencer")
        );
        let cache = index("broadcast.cache-invalidation");
        assert!(
            has_note(&imported, &sac, "approximated"),
            "{:?}",
            imported.notes
        );
        let queues = &imported.scenario.queues;
        let cached = queues
            .iter()
            .find(|q| q.name == "broadcast.cache-invalidation");
        assert!(
            cached.unwrap().auto_delete,
            "auto-delete is modelled (RMQ-33)"
        );
        assert!(has_note(
            &imported,
            &format!("queues[{cache}].durable"),
            "transient"
        ));
        let lazy = format!("queues[{}].arguments.x-queue-mode", index("logs.archive"));
        assert!(has_note(&imported, &lazy, "no effect"));
        let broadcast = raw["exchanges"]
            .as_array()
            .unwrap()
            .iter()
            .position(|x| x["name"] == "broadcast")
            .unwrap();
        assert!(has_note(
            &imported,
            &format!("exchanges[{broadcast}].auto_delete"),
            "not modelled"
        ));
    }
}

#[test]
fn interop_defs_strict_import_refuses_single_active_consumer_at_its_path() {
    let text = fixture(API);
    let (path, reason) = import_err(&text, Some("/"), false);
    let raw: Value = serde_json::from_str(&text).unwrap();
    let i = raw["queues"]
        .as_array()
        .unwrap()
        .iter()
        .position(|q| q["name"] == "invoices.sequencer")
        .unwrap();
    assert_eq!(
        path,
        format!("queues[{i}].arguments.x-single-active-consumer")
    );
    assert!(reason.contains("--approximate"), "{reason}");
}

#[test]
fn interop_defs_vhost_choice_unknown_and_ambiguous_are_located_errors() {
    let (path, reason) = import_err(&fixture(RABBITMQCTL), Some("staging"), false);
    assert_eq!(path, "vhosts");
    assert!(reason.contains("\"/\", \"shop\""), "{reason}");
    let two = json!({
        "vhosts": [{ "name": "a" }, { "name": "b" }, { "name": "/" }],
        "queues": [
            { "name": "qa", "vhost": "a", "durable": true, "auto_delete": false, "arguments": {} },
            { "name": "qb", "vhost": "b", "durable": true, "auto_delete": false, "arguments": {} },
            { "name": "qr", "vhost": "/", "durable": true, "auto_delete": false, "arguments": {} }
        ]
    });
    let (path, reason) = import_err(&two.to_string(), None, false);
    assert_eq!(path, "vhosts");
    assert!(reason.contains("\"/\", \"a\", \"b\""), "{reason}");
    let picked = import(&two.to_string(), Some("b"), false);
    assert_eq!(picked.scenario.queues, vec![q("qb")]);
    // Only `/` holds entities: it is the one.
    let root_only = json!({ "queues": [two["queues"][2]] });
    assert_eq!(import(&root_only.to_string(), None, false).vhost, "/");
}

// ---------------------------------------------------------------- policies and arguments

#[test]
fn interop_policy_highest_priority_wins_and_only_one_applies() {
    let text = defs(json!({
        "queues": [queue_def("cart.x", json!({}))],
        "policies": [
            policy("low", "^cart", "queues", 1, json!({ "message-ttl": 1000, "dead-letter-exchange": "" })),
            policy("high", "^cart", "queues", 10, json!({ "max-length": 7 })),
        ],
    }));
    let queue = only_queue(&text);
    assert_eq!(queue.max_length, Some(7));
    assert_eq!(
        queue.message_ttl_ms, None,
        "the lower-priority policy does not apply"
    );
    assert_eq!(queue.dead_letter_exchange, None);
}

#[test]
fn interop_policy_lower_value_wins_for_limits_and_ttls_either_way() {
    // https://www.rabbitmq.com/docs/maxlength#definition: with both, the minimum applies (RMQ-22).
    for (arg, pol, want) in [(100, 50, 50), (50, 100, 50)] {
        let text = defs(json!({
            "queues": [queue_def("work", json!({
                "x-max-length": arg, "x-max-length-bytes": arg, "x-message-ttl": arg, "x-expires": arg
            }))],
            "policies": [policy("p", ".*", "queues", 0, json!({
                "max-length": pol, "max-length-bytes": pol, "message-ttl": pol, "expires": pol
            }))],
        }));
        let queue = only_queue(&text);
        assert_eq!(queue.max_length, Some(want));
        assert_eq!(queue.max_length_bytes, Some(want));
        assert_eq!(queue.message_ttl_ms, Some(want as f64));
        assert_eq!(queue.expires_ms, Some(want as f64));
    }
}

#[test]
fn interop_policy_dead_letter_settings_and_classic_overflow_take_the_argument() {
    let text = defs(json!({
        "exchanges": [
            { "name": "arg-dlx", "type": "fanout", "durable": true, "auto_delete": false, "internal": false, "arguments": {} },
            { "name": "pol-dlx", "type": "fanout", "durable": true, "auto_delete": false, "internal": false, "arguments": {} }
        ],
        "queues": [queue_def("work", json!({
            "x-dead-letter-exchange": "arg-dlx", "x-dead-letter-routing-key": "arg", "x-overflow": "reject-publish"
        }))],
        "policies": [policy("p", "work", "all", 0, json!({
            "dead-letter-exchange": "pol-dlx", "dead-letter-routing-key": "pol", "overflow": "drop-head"
        }))],
    }));
    let queue = only_queue(&text);
    assert_eq!(queue.dead_letter_exchange.as_deref(), Some("arg-dlx"));
    assert_eq!(queue.dead_letter_routing_key.as_deref(), Some("arg"));
    assert_eq!(queue.overflow, Overflow::RejectPublish);
}

#[test]
fn interop_policy_quorum_overflow_takes_the_policy() {
    // https://www.rabbitmq.com/docs/policies: the exception is (x-)overflow for quorum queues.
    let text = defs(json!({
        "queues": [queue_def("work", json!({ "x-queue-type": "quorum", "x-overflow": "drop-head" }))],
        "policies": [policy("p", "work", "queues", 0, json!({ "overflow": "reject-publish" }))],
    }));
    assert_eq!(only_queue(&text).overflow, Overflow::RejectPublish);
}

#[test]
fn interop_policy_reject_publish_dlx_on_a_quorum_queue_keeps_drop_head() {
    // rabbit_quorum_queue:overflow/3 warns and keeps the default.
    let text = defs(json!({
        "queues": [queue_def("work", json!({ "x-queue-type": "quorum" }))],
        "policies": [policy("p", "work", "quorum_queues", 0, json!({ "overflow": "reject-publish-dlx" }))],
    }));
    let imported = import(&text, None, false);
    assert_eq!(imported.scenario.queues[0].overflow, Overflow::DropHead);
    assert!(has_note(
        &imported,
        "policies[0].definition.overflow",
        "keeps drop-head"
    ));
    // As an argument, RabbitMQ refuses the declaration; so does the import.
    let refused = defs(json!({
        "queues": [queue_def("work", json!({ "x-queue-type": "quorum", "x-overflow": "reject-publish-dlx" }))],
    }));
    let (path, reason) = import_err(&refused, None, false);
    assert_eq!(path, "queues[0]");
    assert!(reason.contains("overflow"), "{reason}");
}

#[test]
fn interop_policy_delivery_limit_takes_the_lower_unless_one_is_off() {
    for (arg, pol, want) in [(5, 3, 3), (3, 5, 3), (-1, 4, 4), (4, -1, 4), (-1, -1, -1)] {
        let text = defs(json!({
            "queues": [queue_def("work", json!({ "x-queue-type": "quorum", "x-delivery-limit": arg }))],
            "policies": [policy("p", "work", "queues", 0, json!({ "delivery-limit": pol }))],
        }));
        assert_eq!(
            only_queue(&text).delivery_limit,
            Some(want),
            "arg {arg} policy {pol}"
        );
    }
}

#[test]
fn interop_policy_apply_to_selects_queues_by_type_and_exchanges() {
    let text = defs(json!({
        "exchanges": [
            { "name": "work", "type": "direct", "durable": true, "auto_delete": false, "internal": false, "arguments": {} },
            { "name": "unrouted", "type": "fanout", "durable": true, "auto_delete": false, "internal": false, "arguments": {} }
        ],
        "queues": [
            queue_def("work", json!({})),
            queue_def("work.q", json!({ "x-queue-type": "quorum" }))
        ],
        "policies": [
            policy("ae", "^work$", "exchanges", 0, json!({ "alternate-exchange": "unrouted" })),
            policy("qq", "^work", "quorum_queues", 0, json!({ "max-length": 9 })),
        ],
    }));
    let s = import(&text, None, false).scenario;
    assert_eq!(s.exchanges[1].name, "work");
    assert_eq!(
        s.exchanges[1].alternate_exchange.as_deref(),
        Some("unrouted")
    );
    assert_eq!(s.queues[0].max_length, None, "classic queue untouched");
    assert_eq!(s.queues[1].max_length, Some(9));
}

#[test]
fn interop_policy_alternate_exchange_argument_wins_over_the_policy() {
    let exchange = |name: &str, args: Value| json!({ "name": name, "type": "fanout", "durable": true, "auto_delete": false, "internal": false, "arguments": args });
    let text = defs(json!({
        "exchanges": [
            exchange("work", json!({ "alternate-exchange": "by-arg" })),
            exchange("by-arg", json!({})),
            exchange("by-policy", json!({}))
        ],
        "policies": [policy("ae", "^work$", "all", 0, json!({ "alternate-exchange": "by-policy" }))],
    }));
    let s = import(&text, None, false).scenario;
    let work = s.exchanges.iter().find(|x| x.name == "work").unwrap();
    assert_eq!(work.alternate_exchange.as_deref(), Some("by-arg"));
}

#[test]
fn interop_policy_pattern_is_an_unanchored_regex_and_max_priority_is_not_a_policy_key() {
    let text = defs(json!({
        "queues": [queue_def("eu.orders.v2", json!({}))],
        "policies": [policy("p", "orders\\.v\\d", "queues", 0, json!({ "max-length": 1 }))],
    }));
    assert_eq!(only_queue(&text).max_length, Some(1));
    // RMQ-17: x-max-priority cannot come from a policy.
    let text = defs(json!({
        "queues": [queue_def("work", json!({}))],
        "policies": [policy("p", ".", "queues", 0, json!({ "max-priority": 5 }))],
    }));
    let (path, reason) = import_err(&text, None, false);
    assert_eq!(path, "policies[0].definition.max-priority");
    assert!(reason.contains("unknown policy key"), "{reason}");
}

#[test]
fn interop_policy_tie_with_different_definitions_is_refused() {
    let text = defs(json!({
        "queues": [queue_def("work", json!({}))],
        "policies": [
            policy("a", "work", "queues", 3, json!({ "max-length": 1 })),
            policy("b", "wor", "queues", 3, json!({ "max-length": 2 })),
        ],
    }));
    let (path, reason) = import_err(&text, None, false);
    assert_eq!(path, "queues[0]");
    assert!(reason.contains("\"a\" and \"b\""), "{reason}");
}

// ---------------------------------------------------------------- what is refused or left out

#[test]
fn interop_defs_unsupported_features_are_located_errors() {
    let cases = [
        (
            json!({ "exchanges": [{ "name": "ring", "type": "x-consistent-hash", "durable": true, "auto_delete": false, "internal": false, "arguments": {} }] }),
            "exchanges[0].type",
        ),
        (
            json!({ "queues": [queue_def("s", json!({ "x-queue-type": "stream" }))] }),
            "queues[0].arguments.x-queue-type",
        ),
        (
            json!({ "queues": [queue_def("s", json!({ "x-made-up": 1 }))] }),
            "queues[0].arguments.x-made-up",
        ),
        (
            json!({ "queues": [queue_def("s", json!({ "x-max-length": "5" }))] }),
            "queues[0].arguments.x-max-length",
        ),
        (
            json!({ "bindings": [{ "source": "amq.topic", "vhost": "/", "destination": "nowhere", "destination_type": "queue", "routing_key": "#", "arguments": {} }] }),
            "bindings[0].destination",
        ),
        (
            json!({ "queues": [queue_def("s", json!({ "x-dead-letter-exchange": "missing" }))] }),
            "queues[0].arguments.x-dead-letter-exchange",
        ),
        (
            json!({ "parameters": [{ "vhost": "/", "component": "shovel", "name": "move", "value": {} }] }),
            "parameters[0]",
        ),
        (
            json!({ "queues": [queue_def("s", json!({}))], "policies": [policy("f", ".", "all", 0, json!({ "federation-upstream-set": "all" }))] }),
            "policies[0].definition.federation-upstream-set",
        ),
        (
            json!({ "queues": [{ "name": "s", "durable": "yes" }] }),
            "queues[0].durable",
        ),
        (json!({ "shovels": [] }), "shovels"),
        (
            json!({ "queues": [queue_def("s", json!({ "x-max-priority": 0 }))] }),
            "queues[0]",
        ),
    ];
    for (parts, want) in cases {
        let text = defs(parts.clone());
        let (path, reason) = import_err(&text, None, false);
        assert_eq!(path, want, "{parts}: {reason}");
    }
}

#[test]
fn interop_defs_approximate_turns_only_unmodelled_features_into_notes() {
    let text = defs(json!({
        "parameters": [{ "vhost": "/", "component": "shovel", "name": "move", "value": {} }],
        "queues": [{ "name": "tmp", "durable": false, "auto_delete": true, "exclusive": true, "arguments": { "x-single-active-consumer": true } }],
    }));
    let imported = import(&text, None, true);
    let tmp = QueueSpec {
        durable: Some(false),
        exclusive: true,
        auto_delete: true,
        ..q("tmp")
    };
    assert_eq!(
        imported.scenario.queues,
        vec![tmp],
        "modelled (RMQ-32, RMQ-33)"
    );
    for path in [
        "parameters[0]",
        "queues[0].arguments.x-single-active-consumer",
    ] {
        assert!(
            has_note(&imported, path, "approximated"),
            "{path}: {:?}",
            imported.notes
        );
    }
    // Still refused: something that cannot be approximated.
    let stream = defs(json!({ "queues": [queue_def("s", json!({ "x-queue-type": "stream" }))] }));
    import_err(&stream, None, true);
}

#[test]
fn interop_defs_queue_without_a_type_takes_the_vhost_default() {
    // 3.11+: a vhost's default queue type applies to queues declared without x-queue-type.
    let text = json!({
        "vhosts": [{ "name": "qq", "default_queue_type": "quorum" }],
        "queues": [{ "name": "work", "vhost": "qq", "durable": true, "auto_delete": false, "arguments": {} }]
    });
    let s = import(&text.to_string(), None, false).scenario;
    assert_eq!(s.queues[0].kind, QueueType::Quorum);
    // Exported with its type, so a vhost default cannot change it back.
    let exported: Value = serde_json::from_str(&export_definitions(&s, "qq").unwrap()).unwrap();
    assert_eq!(exported["queues"][0]["arguments"]["x-queue-type"], "quorum");
}

#[test]
fn interop_defs_predeclared_exchanges_join_when_used_and_are_not_exported() {
    let text = defs(json!({
        "queues": [queue_def("audit", json!({}))],
        "bindings": [{ "source": "amq.topic", "destination": "audit", "destination_type": "queue", "routing_key": "#", "arguments": {} }],
    }));
    let s = import(&text, None, false).scenario;
    assert_eq!(s.exchanges, vec![x("amq.topic", ExchangeType::Topic)]);
    let exported: Value = serde_json::from_str(&export_definitions(&s, "/").unwrap()).unwrap();
    assert_eq!(exported["exchanges"], json!([]));
    assert_round_trip(&s, "/");
}

// ---------------------------------------------------------------- export and round trips

#[test]
fn interop_round_trip_each_fixture() {
    for file in [RABBITMQCTL, API, VHOST_SHOP] {
        let shop = import(&fixture(file), None, false).scenario;
        assert_round_trip(&shop, "/");
        assert_round_trip(&shop, "shop");
    }
    for file in [RABBITMQCTL, API] {
        let root = import(&fixture(file), Some("/"), true).scenario;
        assert_round_trip(&root, "/");
    }
}

#[test]
fn interop_export_is_in_the_management_definitions_format() {
    let shop = import(&fixture(API), None, false).scenario;
    let exported: Value =
        serde_json::from_str(&export_definitions(&shop, "shop").unwrap()).unwrap();
    // The same top-level sections as `rabbitmqctl export_definitions` writes.
    let fixture_keys: Vec<String> = serde_json::from_str::<Value>(&fixture(RABBITMQCTL))
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let keys: Vec<String> = exported.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, fixture_keys);
    assert_eq!(exported["vhosts"], json!([{ "name": "shop" }]));
    assert_eq!(exported["users"][0]["name"], "guest");
    assert_eq!(exported["permissions"][0]["vhost"], "shop");
    let queues = exported["queues"].as_array().unwrap();
    let checkout = queues.iter().find(|q| q["name"] == "checkout").unwrap();
    assert_eq!(
        checkout,
        &json!({ "name": "checkout", "vhost": "shop", "durable": true, "auto_delete": false,
                 "arguments": { "x-queue-type": "quorum", "x-delivery-limit": 5 } })
    );
    let sms = queues.iter().find(|q| q["name"] == "notify.sms").unwrap();
    assert_eq!(
        sms["arguments"],
        json!({ "x-queue-type": "classic", "x-max-length": 1000, "x-message-ttl": 86400000,
                "x-dead-letter-exchange": "shop.dlx" })
    );
    let events = exported["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "shop.events")
        .unwrap();
    assert_eq!(
        events,
        &json!({ "name": "shop.events", "vhost": "shop", "type": "topic", "durable": true,
                 "auto_delete": false, "internal": false, "arguments": {} })
    );
    assert!(exported["bindings"]
        .as_array()
        .unwrap()
        .contains(&json!({ "source": "shop.commands", "vhost": "shop", "destination": "shop.events",
                           "destination_type": "exchange", "routing_key": "checkout.start", "arguments": {} })));
}

fn repo_scenarios() -> Vec<(String, Scenario)> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios");
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(root)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let s = Scenario::from_bytes(&std::fs::read(&p).unwrap()).unwrap();
            (p.display().to_string(), s)
        })
        .collect()
}

#[test]
fn interop_round_trip_every_repo_scenario_with_a_rabbitmq_part() {
    let mut checked = 0;
    for (file, s) in repo_scenarios() {
        if s.exchanges.is_empty() && s.queues.is_empty() {
            continue;
        }
        let text = export_definitions(&s, "/").unwrap_or_else(|e| panic!("{file}: {e}"));
        let imported = import(&text, None, false).scenario;
        // The same topology, sorted as the importer sorts it.
        let mut want = topology(&s);
        want.0.sort_by(|a, b| a.name.cmp(&b.name));
        want.1.sort_by(|a, b| a.name.cmp(&b.name));
        let key = |b: &BindingSpec| serde_json::to_string(b).unwrap();
        want.2.sort_by_key(|b| {
            (
                b.exchange.clone(),
                b.queue.clone(),
                b.to_exchange.clone(),
                b.routing_key.clone(),
            )
        });
        let mut got = topology(&imported);
        got.2.sort_by_key(|b| {
            (
                b.exchange.clone(),
                b.queue.clone(),
                b.to_exchange.clone(),
                b.routing_key.clone(),
            )
        });
        assert_eq!(
            got.2.iter().map(key).collect::<Vec<_>>(),
            want.2.iter().map(key).collect::<Vec<_>>(),
            "{file}"
        );
        assert_eq!((got.0, got.1), (want.0, want.1), "{file}");
        assert_round_trip(&imported, "/");
        checked += 1;
    }
    assert!(
        checked >= 40,
        "only {checked} scenarios have a RabbitMQ part"
    );
}

#[test]
fn interop_export_refuses_what_rabbitmq_cannot_hold() {
    let mut s = scenario_from_definitions(&fixture(API)).unwrap();
    s.queues[0].message_ttl_ms = Some(1.5);
    let e = export_definitions(&s, "/").unwrap_err();
    assert_eq!(e.path, "queues[0].message_ttl_ms");
    let mut s = scenario_from_definitions(&fixture(API)).unwrap();
    s.exchanges[0].name = "amq.mine".into();
    assert_eq!(
        export_definitions(&s, "/").unwrap_err().path,
        "exchanges[0].name"
    );
}

// ---------------------------------------------------------------- Kafka

fn kafka_scenario() -> Scenario {
    broker_sim::Scenario::from_json(
        r#"{
        "version": 1,
        "topics": [
            { "name": "orders", "partitions": 3, "retention_ms": 60000, "segment_bytes": 2048,
              "retention_check_interval_ms": 1000 },
            { "name": "profiles", "cleanup_policy": "compact", "delete_retention_ms": 5000,
              "min_compaction_lag_ms": 100, "min_cleanable_dirty_ratio": 0.1,
              "log_cleaner_backoff_ms": 1000, "retention_bytes": 4096, "unkeyed": "round_robin" }
        ],
        "groups": [{ "name": "billing", "topics": ["orders"], "assignor": "cooperative-sticky",
                     "auto_offset_reset": "earliest", "commit": { "kind": "after_processing", "every": 10 },
                     "offsets_retention_ms": 3600000 }]
    }"#,
    )
    .unwrap()
}

#[test]
fn interop_kafka_topics_become_create_and_alter_commands_with_real_config_names() {
    let script = kafka_script(&kafka_scenario(), "localhost:9092").unwrap();
    let want = "#!/bin/sh
# Kafka part of a Broker Lab scenario.
set -e
# Broker settings (server.properties; read-only, set before the broker starts):
#   log.retention.check.interval.ms=1000
#   offsets.retention.minutes=60
# producers to \"profiles\": partitioner.class=org.apache.kafka.clients.producer.RoundRobinPartitioner
# log.retention.check.interval.ms is one setting per broker; the scenario has 1000 (\"orders\"), 300000 (\"profiles\"): the smallest is used
# consumer group \"billing\" (topics orders): group.id=billing partition.assignment.strategy=org.apache.kafka.clients.consumer.CooperativeStickyAssignor auto.offset.reset=earliest enable.auto.commit=false (commitSync after every 10 records) session.timeout.ms=45000 max.poll.records=500
kafka-topics.sh --bootstrap-server localhost:9092 --create --if-not-exists --topic orders --partitions 3 --replication-factor 1 --config segment.bytes=2048 --config retention.ms=60000
kafka-topics.sh --bootstrap-server localhost:9092 --create --if-not-exists --topic profiles --partitions 1 --replication-factor 1 --config retention.bytes=4096 --config cleanup.policy=compact --config delete.retention.ms=5000 --config min.compaction.lag.ms=100 --config min.cleanable.dirty.ratio=0.1
kafka-configs.sh --bootstrap-server localhost:9092 --alter --entity-type brokers --entity-default --add-config log.cleaner.backoff.ms=1000
";
    assert_eq!(script, want);
}

#[test]
fn interop_kafka_refuses_illegal_topic_names_and_a_scenario_without_topics() {
    let mut s = kafka_scenario();
    s.topics[0].name = "orders log".into();
    s.groups.clear();
    assert_eq!(kafka_script(&s, "h:1").unwrap_err().path, "topics[0].name");
    let none = scenario_from_definitions(&fixture(API)).unwrap();
    assert_eq!(kafka_script(&none, "h:1").unwrap_err().path, "topics");
}

fn repo_scenario(suffix: &str) -> Scenario {
    repo_scenarios()
        .into_iter()
        .find(|(f, _)| f.ends_with(suffix))
        .unwrap_or_else(|| panic!("no scenario {suffix}"))
        .1
}

/// KAF-22, KAF-23: what decides whether acked records survive is exported, not dropped: the
/// replication factor, `min.insync.replicas`, unclean election, the cluster's timings and the
/// producer's `acks`.
#[test]
fn interop_kafka_kaf_22_kaf_23_replication_settings_are_exported() {
    let mut s = repo_scenario("kaf-22-min-insync-refuses.json");
    let script = kafka_script(&s, "h:9092").unwrap();
    assert!(
        script.contains("--topic payments --partitions 1 --replication-factor 3 --config min.insync.replicas=2\n"),
        "{script}"
    );
    s.topics[0].unclean_leader_election_enable = true;
    s.kafka.as_mut().unwrap().replica_lag_time_max_ms = 10_000.0;
    s.producers[0].kafka.acks = broker_sim::scenario::kafka::Acks::One;
    s.producers[0].kafka.retries = Some(0);
    s.producers[0].kafka.request_timeout_ms = Some(5_000.0);
    let script = kafka_script(&s, "h:9092").unwrap();
    assert!(
        script.contains(
            "--config min.insync.replicas=2 --config unclean.leader.election.enable=true\n"
        ),
        "{script}"
    );
    assert!(
        script.contains("#   replica.lag.time.max.ms=10000\n"),
        "{script}"
    );
    assert!(
        script.contains("# producer \"checkout\": acks=1 retries=0 request.timeout.ms=5000\n"),
        "{script}"
    );
}

/// Keys the compose specification defines, of those this export may write.
const TOP_LEVEL_KEYS: [&str; 6] = [
    "name", "services", "networks", "volumes", "configs", "secrets",
];
const SERVICE_KEYS: [&str; 10] = [
    "image",
    "hostname",
    "ports",
    "volumes",
    "configs",
    "environment",
    "healthcheck",
    "depends_on",
    "restart",
    "command",
];

fn compose_yaml(s: &Scenario) -> serde_yaml::Value {
    let text = docker_compose(s).unwrap_or_else(|e| panic!("compose: {e}"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("not YAML: {e}\n{text}"))
}

fn str_list(v: &serde_yaml::Value, what: &str) -> Vec<String> {
    v.as_sequence()
        .unwrap_or_else(|| panic!("{what} is not a list"))
        .iter()
        .map(|x| {
            x.as_str()
                .unwrap_or_else(|| panic!("{what}: {x:?} is not a string"))
                .to_string()
        })
        .collect()
}

/// The structure the compose specification requires of what this export writes.
fn check_compose_structure(doc: &serde_yaml::Value) {
    let top = doc.as_mapping().expect("a mapping at the top");
    for key in top.keys() {
        assert!(
            TOP_LEVEL_KEYS.contains(&key.as_str().unwrap()),
            "top-level {key:?}"
        );
    }
    let services = doc["services"].as_mapping().expect("services is a mapping");
    assert!(!services.is_empty());
    for (name, service) in services {
        let name = name.as_str().unwrap();
        for key in service.as_mapping().unwrap().keys() {
            assert!(
                SERVICE_KEYS.contains(&key.as_str().unwrap()),
                "{name}: {key:?}"
            );
        }
        assert!(
            service["image"].as_str().is_some_and(|i| i.contains(':')),
            "{name}: image"
        );
        if let Some(ports) = service.get("ports") {
            for p in str_list(ports, "ports") {
                let (host, container) = p.split_once(':').expect("HOST:CONTAINER");
                assert!(
                    host.parse::<u16>().is_ok() && container.parse::<u16>().is_ok(),
                    "{p}"
                );
            }
        }
        if let Some(volumes) = service.get("volumes") {
            for v in str_list(volumes, "volumes") {
                let parts: Vec<&str> = v.split(':').collect();
                assert!(
                    parts.len() == 2 || (parts.len() == 3 && parts[2] == "ro"),
                    "{v}"
                );
                assert!(
                    parts[0].starts_with("./") && parts[1].starts_with('/'),
                    "{v}"
                );
            }
        }
        if let Some(command) = service.get("command") {
            assert!(!str_list(command, "command").is_empty());
        }
        if let Some(env) = service.get("environment") {
            for (k, v) in env.as_mapping().expect("environment is a mapping") {
                assert!(k.as_str().is_some() && v.as_str().is_some(), "{k:?}: {v:?}");
            }
        }
        if let Some(hc) = service.get("healthcheck") {
            let test = str_list(&hc["test"], "healthcheck.test");
            assert!(["CMD", "CMD-SHELL"].contains(&test[0].as_str()));
            assert!(hc["retries"].as_u64().is_some());
        }
        if let Some(deps) = service.get("depends_on") {
            for (dep, how) in deps.as_mapping().unwrap() {
                assert!(
                    services.contains_key(dep),
                    "{name} depends on unknown {dep:?}"
                );
                let condition = how["condition"].as_str().unwrap();
                assert!([
                    "service_started",
                    "service_healthy",
                    "service_completed_successfully"
                ]
                .contains(&condition));
            }
        }
        if let Some(restart) = service.get("restart") {
            assert!(["no", "always", "on-failure", "unless-stopped"]
                .contains(&restart.as_str().unwrap()));
        }
        if let Some(configs) = service.get("configs") {
            for c in configs.as_sequence().unwrap() {
                let source = c["source"].as_str().unwrap();
                assert!(
                    doc["configs"][source]["content"].as_str().is_some(),
                    "config {source}"
                );
                assert!(c["target"].as_str().unwrap().starts_with('/'));
            }
        }
    }
}

#[test]
fn interop_compose_starts_rabbitmq_with_the_definitions_loaded() {
    let shop = scenario_from_definitions(&fixture(API)).unwrap();
    let doc = compose_yaml(&shop);
    check_compose_structure(&doc);
    let services = doc["services"].as_mapping().unwrap();
    assert_eq!(services.len(), 1);
    let rabbit = &doc["services"]["rabbitmq"];
    assert_eq!(rabbit["image"].as_str(), Some("rabbitmq:4.3-management"));
    assert_eq!(
        str_list(&rabbit["volumes"], "volumes"),
        ["./definitions.json:/etc/rabbitmq/definitions.json:ro"]
    );
    assert_eq!(
        doc["configs"]["rabbitmq-load-definitions"]["content"].as_str(),
        Some("load_definitions = /etc/rabbitmq/definitions.json\n")
    );
}

#[test]
fn interop_compose_starts_kafka_in_kraft_mode_and_creates_the_topics_once() {
    let s = kafka_scenario();
    let doc = compose_yaml(&s);
    check_compose_structure(&doc);
    let kafka = &doc["services"]["kafka"];
    assert_eq!(
        kafka["environment"]["KAFKA_PROCESS_ROLES"].as_str(),
        Some("broker,controller")
    );
    assert_eq!(
        kafka["environment"]["KAFKA_LOG_RETENTION_CHECK_INTERVAL_MS"].as_str(),
        Some("1000")
    );
    assert_eq!(
        kafka["environment"]["KAFKA_OFFSETS_RETENTION_MINUTES"].as_str(),
        Some("60")
    );
    let topics = &doc["services"]["kafka-topics"];
    assert_eq!(
        topics["depends_on"]["kafka"]["condition"].as_str(),
        Some("service_healthy")
    );
    let command = str_list(&topics["command"], "command");
    assert_eq!(command[..2], ["/bin/sh", "-c"]);
    let setup = kafka_setup(&s, "kafka:19092", "/opt/kafka/bin/").unwrap();
    assert_eq!(
        command[2],
        format!("set -e\n{}\n", setup.commands.join("\n"))
    );
    assert!(
        doc.get("configs").is_none(),
        "no RabbitMQ, no definitions config"
    );
}

#[test]
fn interop_compose_of_a_mixed_scenario_and_of_nothing() {
    let both = repo_scenarios()
        .into_iter()
        .find(|(f, _)| f.ends_with("compare-queue-vs-log.json"))
        .unwrap()
        .1;
    let doc = compose_yaml(&both);
    check_compose_structure(&doc);
    let names: Vec<&str> = doc["services"]
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(names, ["rabbitmq", "kafka", "kafka-topics"]);
    let empty = Scenario::from_json(r#"{ "version": 1 }"#).unwrap();
    assert!(docker_compose(&empty).is_err());
}

/// KAF-19: a three-broker scenario starts three KRaft nodes that vote for each other and share
/// a cluster id; the topics are created once all three answer, with their three replicas.
#[test]
fn interop_compose_kaf_19_a_kafka_cluster_starts_one_node_per_broker() {
    let s = repo_scenario("kaf-22-min-insync-refuses.json");
    let doc = compose_yaml(&s);
    check_compose_structure(&doc);
    let nodes = ["kafka-0", "kafka-1", "kafka-2"];
    let mut ports = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let env = &doc["services"][*node]["environment"];
        assert_eq!(
            env["KAFKA_NODE_ID"].as_str(),
            Some((i + 1).to_string().as_str())
        );
        assert_eq!(
            env["KAFKA_CONTROLLER_QUORUM_VOTERS"].as_str(),
            Some("1@kafka-0:9093,2@kafka-1:9093,3@kafka-2:9093")
        );
        assert_eq!(
            env["CLUSTER_ID"],
            doc["services"]["kafka-0"]["environment"]["CLUSTER_ID"]
        );
        assert_eq!(
            env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"].as_str(),
            Some("3")
        );
        assert!(env["KAFKA_ADVERTISED_LISTENERS"]
            .as_str()
            .unwrap()
            .starts_with(&format!("INTERNAL://{node}:19092,")));
        ports.extend(str_list(&doc["services"][*node]["ports"], "ports"));
    }
    assert_eq!(ports, ["9092:9092", "9093:9093", "9094:9094"]);
    let topics = &doc["services"]["kafka-topics"];
    for node in nodes {
        assert_eq!(
            topics["depends_on"][node]["condition"].as_str(),
            Some("service_healthy")
        );
    }
    let command = str_list(&topics["command"], "command");
    assert!(
        command[2].contains("--bootstrap-server kafka-0:19092,kafka-1:19092,kafka-2:19092 --create --if-not-exists --topic payments --partitions 1 --replication-factor 3 --config min.insync.replicas=2"),
        "{}",
        command[2]
    );
}

/// RMQ-32: a scenario's three-node RabbitMQ cluster starts as `rabbit-1`..`rabbit-3`, which find
/// each other by classic peer discovery with one Erlang cookie; the definitions are imported
/// once, after every node runs, so a quorum queue gets members on the cluster.
#[test]
fn interop_compose_rmq_32_a_rabbitmq_cluster_starts_its_nodes_and_imports_once() {
    let s = repo_scenario("rmq-qq-majority.json");
    let doc = compose_yaml(&s);
    check_compose_structure(&doc);
    let names: Vec<&str> = (doc["services"].as_mapping().unwrap().keys())
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["rabbit-1", "rabbit-2", "rabbit-3", "rabbitmq-definitions"]
    );
    for i in 1..=3 {
        let node = &doc["services"][format!("rabbit-{i}").as_str()];
        assert_eq!(
            node["hostname"].as_str(),
            Some(format!("rabbit-{i}").as_str())
        );
        assert_eq!(
            node["environment"]["RABBITMQ_ERLANG_COOKIE"],
            doc["services"]["rabbitmq-definitions"]["environment"]["RABBITMQ_ERLANG_COOKIE"]
        );
        assert_eq!(
            str_list(&node["ports"], "ports"),
            [format!("{}:5672", 5671 + i), format!("{}:15672", 15671 + i)]
        );
    }
    assert_eq!(
        doc["configs"]["rabbitmq-cluster"]["content"].as_str(),
        Some("cluster_formation.peer_discovery_backend = classic_config\ncluster_formation.classic_config.nodes.1 = rabbit@rabbit-1\ncluster_formation.classic_config.nodes.2 = rabbit@rabbit-2\ncluster_formation.classic_config.nodes.3 = rabbit@rabbit-3\n")
    );
    let import = &doc["services"]["rabbitmq-definitions"];
    for i in 1..=3 {
        assert_eq!(
            import["depends_on"][format!("rabbit-{i}").as_str()]["condition"].as_str(),
            Some("service_healthy")
        );
    }
    assert_eq!(
        str_list(&import["command"], "command"),
        [
            "rabbitmqctl",
            "--node",
            "rabbit@rabbit-1",
            "import_definitions",
            "/etc/rabbitmq/definitions.json"
        ]
    );
}

#[test]
fn interop_compose_of_every_repo_scenario_parses() {
    for (file, s) in repo_scenarios() {
        if s.exchanges.is_empty() && s.queues.is_empty() && s.topics.is_empty() {
            continue;
        }
        let text = docker_compose(&s).unwrap_or_else(|e| panic!("{file}: {e}"));
        let doc: serde_yaml::Value =
            serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        check_compose_structure(&doc);
    }
}

// ---------------------------------------------------------------- the runner

fn runner(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_broker-sim"))
        .args(args)
        .output()
        .expect("the runner starts");
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn interop_runner_imports_and_exports_through_files() {
    let (ok, scenario, notes) =
        runner(&["import-definitions", &format!("{FIXTURES}/{RABBITMQCTL}")]);
    assert!(ok, "{notes}");
    assert!(notes.contains("note: users: 2 ignored"), "{notes}");
    let s = Scenario::from_json(&scenario).unwrap();
    assert_eq!(topology(&s), shop_topology());
    let path = std::env::temp_dir().join(format!("broker-sim-interop-{}.json", std::process::id()));
    std::fs::write(&path, &scenario).unwrap();
    let file = path.to_str().unwrap();
    let (ok, definitions, _) = runner(&["export", file, "--to", "definitions", "--vhost", "shop"]);
    assert!(ok);
    assert_eq!(definitions, export_definitions(&s, "shop").unwrap());
    let (ok, compose, _) = runner(&["export", file, "--to", "compose"]);
    assert!(ok);
    assert_eq!(compose, docker_compose(&s).unwrap());
    let (ok, _, err) = runner(&["export", file, "--to", "kafka"]);
    assert!(
        !ok && err.contains("topics: the scenario has no Kafka topics"),
        "{err}"
    );
    let (ok, _, err) = runner(&[
        "import-definitions",
        &format!("{FIXTURES}/{API}"),
        "--vhost",
        "/",
    ]);
    assert!(!ok && err.contains("x-single-active-consumer"), "{err}");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn interop_runner_csv_has_one_row_per_summary_figure() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/compare-queue-vs-log.json"
    );
    let (ok, csv, err) = runner(&["run", file, "--until", "10s", "--format", "csv"]);
    assert!(ok, "{err}");
    let (ok, json, _) = runner(&["run", file, "--until", "10s", "--summary"]);
    assert!(ok);
    let report: Value = serde_json::from_str(&json).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0], ["section", "name", "figure", "value"]);
    assert!(rows.iter().all(|r| r.len() == 4));
    let value = |section: &str, name: &str, figure: &str| {
        rows.iter()
            .find(|r| r[0] == section && r[1] == name && r[2] == figure)
            .unwrap_or_else(|| panic!("no row {section},{name},{figure}"))[3]
    };
    // The same figures as the JSON report.
    assert_eq!(value("run", "", "digest"), report["digest"]);
    assert_eq!(value("run", "", "events"), report["events"].to_string());
    assert_eq!(
        value("ledger", "", "created"),
        report["ledger"]["created"].to_string()
    );
    let orders = report["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "orders")
        .unwrap();
    assert_eq!(
        value("queue", "orders", "ready"),
        orders["ready"].to_string()
    );
    let billing = report["groups"].as_array().unwrap()[0].clone();
    let group = billing["name"].as_str().unwrap();
    assert_eq!(value("group", group, "lag"), billing["lag"].to_string());
    assert_eq!(
        value("group", group, "processed"),
        billing["processed"].to_string()
    );
    assert!(rows
        .iter()
        .any(|r| r[0] == "consumer" && r[2] == "delivered"));
    assert!(rows.iter().any(|r| r[0] == "producer" && r[2] == "sent"));
    assert!(rows.iter().any(|r| r[0] == "topic" && r[2] == "records"));
    // The JSON report is the default and unchanged by the option.
    let (_, default_json, _) = runner(&[
        "run",
        file,
        "--until",
        "10s",
        "--summary",
        "--format",
        "json",
    ]);
    assert_eq!(default_json, json);
}

#[test]
fn interop_csv_quotes_names_with_commas_and_quotes() {
    let s = Scenario::from_json(
        r#"{ "version": 1, "queues": [{ "name": "a,\"b\"" }],
             "producers": [{ "name": "p", "targets": [{ "exchange": "" }], "rate": { "kind": "burst", "count": 3, "at_ms": 0 },
                             "message": { "routing_keys": ["a,\"b\""] } }] }"#,
    )
    .unwrap();
    let mut sim = broker_sim::Simulation::new(&s, 1).unwrap();
    let mut tally = broker_sim::report::EventTally::default();
    sim.advance_into(SimTime::from_secs(1), usize::MAX, &mut tally);
    let csv = sim.summary_csv(1, &tally);
    assert!(csv.contains("queue,\"a,\"\"b\"\"\",ready,3\n"), "{csv}");
}
