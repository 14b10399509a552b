//! The snapshot's graph: every entity as a node with its family and role, and the links with
//! what they match, read from the example scenarios of each family.

use crate::helpers::{apply, run_file};
use broker_sim::snapshot::{
    Family, Figure, Graph, GraphEdge, GraphNode, LinkKind, NodeStatus, Role,
};
use broker_sim::Snapshot;

fn file(path: &str) -> String {
    format!("{}/../scenarios/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn node<'a>(g: &'a Graph, name: &str) -> &'a GraphNode {
    g.nodes
        .iter()
        .find(|n| n.name == name)
        .unwrap_or_else(|| panic!("no node {name:?}"))
}

/// The links from `from` to `to`, by name.
fn edges<'a>(g: &'a Graph, from: &str, to: &str) -> Vec<&'a GraphEdge> {
    let (a, b) = (node(g, from).node, node(g, to).node);
    g.edges
        .iter()
        .filter(|e| e.from == a && e.to == b)
        .collect()
}

fn edge<'a>(g: &'a Graph, from: &str, to: &str) -> &'a GraphEdge {
    let found = edges(g, from, to);
    assert_eq!(found.len(), 1, "{from} → {to}: {found:?}");
    found[0]
}

/// Every link joins two nodes of the graph.
fn assert_closed(snap: &Snapshot) {
    let g = &snap.graph;
    for e in &g.edges {
        assert!(g.node(e.from).is_some(), "{e:?}: no node {:?}", e.from);
        assert!(g.node(e.to).is_some(), "{e:?}: no node {:?}", e.to);
    }
    for n in &g.nodes {
        assert_eq!(n.role, n.node.role(), "{n:?}");
        if let Some(f) = n.node.family() {
            assert_eq!(n.family, f, "{n:?}");
        }
    }
}

#[test]
fn graph_rabbitmq_routing_labels_say_what_each_binding_matches() {
    let (sim, _, _) = run_file(&file("lessons/12-routing.json"), 2_000);
    let snap = sim.snapshot();
    assert_closed(&snap);
    let g = &snap.graph;
    assert_eq!(g.families(), [Family::RabbitMq]);

    let orders = node(g, "orders");
    assert_eq!(
        (orders.family, orders.role),
        (Family::RabbitMq, Role::Router)
    );
    assert_eq!(orders.figure(Figure::Bindings), Some(2));
    let queue = node(g, "eu-orders");
    assert_eq!((queue.family, queue.role), (Family::RabbitMq, Role::Store));
    assert_eq!(queue.status, NodeStatus::Running);

    let label = |from: &str, to: &str| {
        let e = edge(g, from, to);
        assert_eq!((e.kind, e.family), (LinkKind::Bind, Family::RabbitMq));
        e.label.clone()
    };
    assert_eq!(label("orders", "eu-orders").as_deref(), Some("eu"));
    assert_eq!(label("logs", "errors").as_deref(), Some("*.error"));
    assert_eq!(label("logs", "app-logs").as_deref(), Some("app.#"));
    // A fanout matches everything: no label. Headers say what they compare.
    assert_eq!(label("broadcast", "cache-a"), None);
    assert_eq!(
        label("documents", "pdf-reports").as_deref(),
        Some("x-match=all: format=pdf, type=report")
    );
    assert_eq!(
        label("documents", "pdf-or-report").as_deref(),
        Some("x-match=any: format=pdf, type=report")
    );

    // Producers publish to their exchange; a paused one says so.
    let e = edge(g, "order-pub", "orders");
    assert_eq!(e.kind, LinkKind::Publish);
    let log_pub = node(g, "log-pub");
    assert_eq!(
        (log_pub.role, log_pub.family),
        (Role::Producer, Family::RabbitMq)
    );
    assert_eq!(log_pub.status, NodeStatus::Paused);
    assert!(node(g, "order-pub").figure(Figure::Sent).unwrap() >= 3);

    // The default exchange is there, implicit, and unused: no producer sends to it.
    let default = node(g, "");
    assert!(default.implicit);
    assert!(g
        .edges
        .iter()
        .all(|e| e.from != default.node && e.to != default.node));
}

#[test]
fn graph_rabbitmq_default_exchange_links_only_the_keys_sent_and_queues_deliver() {
    let (sim, _, _) = run_file(&file("default.json"), 3_000);
    let snap = sim.snapshot();
    assert_closed(&snap);
    let g = &snap.graph;
    let default = node(g, "");
    assert!(default.implicit);
    let binds: Vec<&GraphEdge> = g.edges.iter().filter(|e| e.from == default.node).collect();
    assert!(!binds.is_empty(), "{:?}", g.edges);
    for b in &binds {
        let q = g.node(b.to).unwrap();
        assert_eq!(
            b.label.as_deref(),
            Some(q.name.as_str()),
            "bound by its own name"
        );
    }
    let q = g.node(binds[0].to).unwrap();
    // Every consumer of the queue gets a deliver link; its chips are what it holds.
    let consumers: Vec<&GraphEdge> = g
        .edges
        .iter()
        .filter(|e| e.from == q.node && e.kind == LinkKind::Deliver)
        .collect();
    assert!(!consumers.is_empty());
    for e in consumers {
        let c = g.node(e.to).unwrap();
        assert_eq!((c.role, c.family), (Role::Consumer, Family::RabbitMq));
        assert!(c.figure(Figure::Delivered).is_some());
    }
    let ready = q.figure(Figure::Ready).unwrap();
    assert_eq!(q.chips.len() as u64, ready.min(24));
}

#[test]
fn graph_redis_links_name_the_patterns_that_matched() {
    let (sim, _, _) = run_file(&file("rules/rps-02-patterns.json"), 3_000);
    let snap = sim.snapshot();
    assert_closed(&snap);
    let g = &snap.graph;
    assert_eq!(g.families(), [Family::RedisPubSub]);
    let foo = node(g, "foo");
    assert_eq!((foo.family, foo.role), (Family::RedisPubSub, Role::Router));
    // Subscribed to foo by name and by f*: two copies, both named.
    let e = edge(g, "foo", "foo-and-f-star");
    assert_eq!(
        (e.kind, e.label.as_deref()),
        (LinkKind::Push, Some("foo, f*"))
    );
    assert_eq!(foo.figure(Figure::Subscribers), Some(2));
    assert_eq!(edge(g, "news.1", "globs").label.as_deref(), Some("news.?"));
    assert_eq!(edge(g, "hallo", "globs").label.as_deref(), Some("h[ae]llo"));
    assert_eq!(edge(g, "hullo", "everything").label.as_deref(), Some("*"));
    // news.? is one character: news.10 does not reach globs; h[ae]llo misses hullo.
    assert!(edges(g, "news.10", "globs").is_empty());
    assert!(edges(g, "hullo", "globs").is_empty());
    let sub = node(g, "globs");
    assert_eq!(
        (sub.role, sub.family),
        (Role::Consumer, Family::RedisPubSub)
    );
    assert_eq!(edge(g, "p-foo", "foo").kind, LinkKind::Publish);
}

#[test]
fn graph_kafka_partitions_sit_in_their_topic_and_members_fetch_for_their_group() {
    let (sim, _, _) = run_file(&file("kafka/kaf-08-one-owner-per-partition.json"), 3_000);
    let snap = sim.snapshot();
    assert_closed(&snap);
    let g = &snap.graph;
    assert_eq!(g.families(), [Family::Kafka]);
    let topic = node(g, "orders");
    assert_eq!((topic.family, topic.role), (Family::Kafka, Role::Store));
    assert_eq!(topic.figure(Figure::Partitions), Some(2));
    for p in ["orders-0", "orders-1"] {
        let part = node(g, p);
        assert_eq!(part.parent, Some(topic.node));
        assert_eq!(part.role, Role::Store);
        let (start, end) = (
            part.figure(Figure::LogStart).unwrap(),
            part.figure(Figure::LogEnd).unwrap(),
        );
        assert!(end > start, "{p} holds records");
        assert_eq!(part.chips.len() as u64, (end - start).min(24));
        // The producer writes to every partition.
        assert_eq!(edge(g, "shop", p).kind, LinkKind::Publish);
    }
    let records: u64 = ["orders-0", "orders-1"]
        .iter()
        .map(|p| node(g, p).figure(Figure::Records).unwrap())
        .sum();
    assert_eq!(topic.figure(Figure::Records), Some(records));

    // shipping has three members and two partitions: one member is idle (KAF-8).
    assert_eq!(g.groups.len(), 2);
    let shipping = g.groups.iter().find(|x| x.name == "shipping").unwrap();
    assert_eq!(shipping.family, Family::Kafka);
    assert_eq!(shipping.members.len(), 3);
    assert_eq!(shipping.figure(Figure::Members), Some(3));
    assert_eq!(shipping.reads, [topic.node]);
    // Committed offsets, summed over the group's partitions; lag is what is left.
    let committed: u64 = snap.topics[0]
        .partitions
        .iter()
        .flat_map(|p| &p.groups)
        .filter(|m| m.group == "shipping")
        .filter_map(|m| m.committed)
        .sum();
    assert!(committed > 0);
    assert_eq!(shipping.figure(Figure::Committed), Some(committed));
    assert_eq!(committed + shipping.figure(Figure::Lag).unwrap(), records);
    let fetches: Vec<&GraphEdge> = g
        .edges
        .iter()
        .filter(|e| e.kind == LinkKind::Fetch && e.label.as_deref() == Some("shipping"))
        .collect();
    assert_eq!(fetches.len(), 2, "{fetches:?}");
    for e in &fetches {
        assert!(shipping.members.contains(&e.to));
        assert_eq!(g.node(e.from).unwrap().parent, Some(topic.node));
    }
    let idle = shipping
        .members
        .iter()
        .filter(|m| fetches.iter().all(|e| e.to != **m))
        .count();
    assert_eq!(idle, 1);
    for m in &shipping.members {
        let c = g.node(*m).unwrap();
        assert_eq!((c.role, c.family), (Role::Consumer, Family::Kafka));
        assert_eq!(c.group, Some(shipping.id));
    }
    // The auditor alone owns both partitions.
    let auditor = node(g, "auditor");
    let owned = g
        .edges
        .iter()
        .filter(|e| e.to == auditor.node && e.label.as_deref() == Some("audit"))
        .count();
    assert_eq!(owned, 2);
}

#[test]
fn graph_service_is_called_directly() {
    let (sim, _, _) = run_file(&file("buffering-no-broker.json"), 1_050);
    let snap = sim.snapshot();
    assert_closed(&snap);
    let g = &snap.graph;
    assert_eq!(g.families(), [Family::Service]);
    let api = node(g, "order-api");
    assert_eq!((api.family, api.role), (Family::Service, Role::Service));
    assert_eq!(api.figure(Figure::Concurrency), Some(3));
    assert_eq!(
        api.figure(Figure::Busy),
        Some(3),
        "the burst keeps every worker busy"
    );
    assert!(api.figure(Figure::Waiting).unwrap() > 0);
    let e = edge(g, "clients", "order-api");
    assert_eq!(
        (e.kind, e.family, &e.label),
        (LinkKind::Request, Family::Service, &None)
    );
    assert_eq!(node(g, "clients").family, Family::Service);
}

#[test]
fn graph_two_families_on_one_stage() {
    let (sim, _, _) = run_file(&file("compare-queue-vs-log.json"), 5_000);
    let snap = sim.snapshot();
    assert_closed(&snap);
    let g = &snap.graph;
    assert_eq!(g.families(), [Family::RabbitMq, Family::Kafka]);
    // One producer feeds both: the default exchange's queue and each partition.
    let shop = &g.nodes[0];
    assert_eq!(shop.role, Role::Producer);
    let families: Vec<Family> = g
        .edges
        .iter()
        .filter(|e| e.from == shop.node)
        .map(|e| e.family)
        .collect();
    assert!(families.contains(&Family::RabbitMq) && families.contains(&Family::Kafka));
    let json = serde_json::to_value(g).unwrap();
    assert_eq!(json["nodes"][0]["family"], "rabbitmq");
    assert_eq!(json["nodes"][0]["role"], "producer");

    // A removed consumer leaves the graph, and so do its links.
    let mut sim = sim;
    let worker = node(g, "worker").node;
    apply(
        &mut sim,
        serde_json::json!({ "remove_consumer": { "consumer": "worker" } }),
    );
    let g = sim.snapshot().graph;
    assert!(g.node(worker).is_none());
    assert!(g.edges.iter().all(|e| e.to != worker));
}

#[test]
fn graph_sqs_queue_is_polled_and_redrives_to_its_dlq() {
    let (sim, _, _) = run_file(&file("sqs/sqs-04-redrive-to-dlq.json"), 2_100);
    let snap = sim.snapshot();
    assert_closed(&snap);
    let g = &snap.graph;
    assert_eq!(g.families(), [Family::Sqs]);
    let orders = node(g, "orders");
    assert_eq!((orders.family, orders.role), (Family::Sqs, Role::Store));
    // In flight: the poison message, failed and hidden by its visibility timeout (SQS-2), and
    // the next order, being processed.
    assert_eq!(orders.figure(Figure::InFlight), Some(2));
    assert_eq!(orders.figure(Figure::Visible), Some(0));
    assert_eq!(orders.figure(Figure::Delayed), Some(0));
    assert_eq!(orders.figure(Figure::Consumers), Some(1));
    assert_eq!(orders.chips.len(), 2);
    assert!(orders.chips[0].poison);
    assert_eq!(node(g, "shop").family, Family::Sqs);
    assert_eq!(node(g, "worker").family, Family::Sqs);

    let e = edge(g, "shop", "orders");
    assert_eq!(
        (e.kind, e.family, &e.label),
        (LinkKind::Publish, Family::Sqs, &None)
    );
    let e = edge(g, "orders", "worker");
    assert_eq!(
        (e.kind, e.family, &e.label),
        (LinkKind::Fetch, Family::Sqs, &None)
    );
    let e = edge(g, "orders", "orders-dlq");
    assert_eq!((e.kind, e.family), (LinkKind::DeadLetter, Family::Sqs));
    assert_eq!(e.label.as_deref(), Some("maxReceiveCount=3"));
    assert!(edges(g, "orders-dlq", "orders").is_empty());
    assert_eq!(g.edges.len(), 3, "{:?}", g.edges);

    // The fourth receive attempt moves it to the DLQ, where it waits visible (SQS-4).
    let (sim, _, _) = run_file(&file("sqs/sqs-04-redrive-to-dlq.json"), 30_000);
    let snap = sim.snapshot();
    let g = &snap.graph;
    let orders = node(g, "orders");
    assert_eq!(orders.figure(Figure::InFlight), Some(0));
    assert_eq!(orders.figure(Figure::Visible), Some(0));
    let dlq = node(g, "orders-dlq");
    assert_eq!((dlq.family, dlq.role), (Family::Sqs, Role::Store));
    assert_eq!(dlq.figure(Figure::Visible), Some(1));
    assert_eq!(dlq.figure(Figure::Consumers), Some(0));
    assert_eq!(node(g, "shop").figure(Figure::Sent), Some(10));
}
