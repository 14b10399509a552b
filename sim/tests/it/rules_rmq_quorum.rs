//! Quorum queues on a three-node RabbitMQ cluster: a publish is confirmed once a majority of
//! members has it (RMQ-31), a node stop loses no confirmed message of a quorum queue while a
//! classic queue on that node loses what RMQ-32 says. Where no rule id fits, the tests are
//! named `rmq_qq_…` and follow https://www.rabbitmq.com/docs/quorum-queues: `#leader-election`
//! (a follower on a running node becomes leader), `#availability` (a majority is needed; with
//! fewer members the followers ignore operations until a leader is known, and the publisher's
//! channel keeps and resends them, `rabbit_fifo_client` `resend_all_pending`) and
//! `#data-safety` (a confirmed message is not lost while a majority survives).

use crate::helpers::{
    apply, at, burst_rate, cmd, crashes, dropped_for, drops, manual_rate, pick, queue_consumer,
    queue_contents, queue_producer, queue_view, received_by, rule_file, run_ms, sim_1ms, trace,
    With,
};
use broker_sim::{Command, DropReason, EventKind, Scenario, Simulation};
use serde_json::{json, Value};

fn crash(node: &str) -> Value {
    json!({ "crash_rabbitmq_node": { "node": node } })
}

fn restart(node: &str) -> Value {
    json!({ "restart_rabbitmq_node": { "node": node } })
}

fn confirms(s: &Simulation, producer: &str) -> (u64, u64) {
    let p = &s.report(1, &[]).publishers[producer];
    (p.confirms_acked, p.confirms_nacked)
}

/// Three nodes, quorum queue `orders` (members on all three, leader `rabbit-1`), a producer
/// with confirms that publishes bursts, and a slow consumer with prefetch 10.
fn cluster(script: Value) -> Simulation {
    sim_1ms(json!({
        "rabbitmq": { "nodes": 3 },
        "queues": [{ "name": "orders", "type": "quorum" }],
        "producers": [queue_producer("p", "orders", manual_rate()).with(json!({ "confirms": true }))],
        "consumers": [queue_consumer("c", "orders", 10, 10_000.0)],
        "script": script
    }))
}

/// (time in ms, node index) of every leader election.
fn elections(events: &[broker_sim::Event]) -> Vec<(u64, u32)> {
    pick(events, |e| match e.kind {
        EventKind::QuorumLeaderElected { node, .. } => Some((e.time.0 / 1_000, node)),
        _ => None,
    })
}

#[test]
fn rmq_qq_a_follower_becomes_leader_when_the_leaders_node_stops_and_nothing_is_lost() {
    let mut s = cluster(json!([
        at(0.0, cmd::burst("p", 5)),
        at(1_000.0, crash("rabbit-1")),
        at(1_500.0, cmd::burst("p", 3))
    ]));
    run_ms(&mut s, 999);
    assert_eq!(queue_view(&s, "orders").members, vec![0, 1, 2]);
    assert_eq!(confirms(&s, "p"), (5, 0), "a majority had each at once");
    let events = run_ms(&mut s, 1_999);
    // The consumer was connected to the leader's node: its five unacked deliveries return.
    assert_eq!(crashes(&events), vec![(5, 0)], "{}", trace(&events));
    let q = queue_view(&s, "orders");
    assert!(!q.available, "electing");
    assert_eq!((q.ready, q.held), (5, 3));
    assert_eq!(
        confirms(&s, "p"),
        (5, 0),
        "held publishes are not confirmed yet"
    );
    let events = run_ms(&mut s, 2_001);
    assert_eq!(
        elections(&events),
        vec![(2_000, 1)],
        "rabbit-2 leads after 1 s"
    );
    let q = queue_view(&s, "orders");
    assert!(q.available);
    assert_eq!((q.node, q.held), (1, 0));
    assert_eq!(
        confirms(&s, "p"),
        (8, 0),
        "the channel resent them to the new leader"
    );
    // The consumer reconnected and gets the returned ones first, redelivered.
    let got = received_by(&events, &s, "c");
    assert_eq!(
        &got[..5],
        &[(0, true), (1, true), (2, true), (3, true), (4, true)]
    );
    assert!(drops(&events).is_empty());
    assert_eq!(s.snapshot().ledger.dropped_total(), 0);
}

#[test]
fn rmq_qq_without_a_majority_publishes_are_held_unconfirmed_and_nothing_is_delivered() {
    let mut s = cluster(json!([
        at(0.0, cmd::burst("p", 2)),
        at(1_000.0, crash("rabbit-2")),
        at(1_100.0, crash("rabbit-3")),
        at(1_500.0, cmd::burst("p", 4)),
        at(3_000.0, restart("rabbit-3"))
    ]));
    let events = run_ms(&mut s, 1_050);
    assert!(
        crashes(&events).is_empty(),
        "its consumer is on the leader's node"
    );
    assert!(
        queue_view(&s, "orders").available,
        "two of three members run"
    );
    let events = run_ms(&mut s, 2_999);
    let q = queue_view(&s, "orders");
    assert!(!q.available, "one of three is no majority");
    assert_eq!((q.ready, q.held), (0, 4));
    assert_eq!(confirms(&s, "p"), (2, 0), "neither acked nor nacked");
    assert!(received_by(&events, &s, "c").is_empty());
    let events = run_ms(&mut s, 3_001);
    assert!(elections(&events).is_empty(), "rabbit-1 still leads");
    assert_eq!(
        confirms(&s, "p"),
        (6, 0),
        "a majority again: confirmed at once"
    );
    assert_eq!(
        received_by(&events, &s, "c"),
        vec![(2, false), (3, false), (4, false), (5, false)]
    );
}

#[test]
fn rmq_qq_a_queue_that_lost_its_leader_and_its_majority_elects_when_a_node_returns() {
    let mut s = cluster(json!([
        at(1_000.0, crash("rabbit-1")),
        at(3_000.0, crash("rabbit-2")),
        at(3_500.0, cmd::burst("p", 3)),
        at(4_000.0, restart("rabbit-1"))
    ]));
    let events = run_ms(&mut s, 4_999);
    assert_eq!(elections(&events), vec![(2_000, 1)], "{}", trace(&events));
    assert_eq!(confirms(&s, "p"), (0, 0));
    assert_eq!(queue_view(&s, "orders").held, 3);
    let events = run_ms(&mut s, 5_001);
    // The first running member after the old leader (rabbit-2) is rabbit-3.
    assert_eq!(elections(&events), vec![(5_000, 2)]);
    assert_eq!(confirms(&s, "p"), (3, 0));
    assert_eq!(
        queue_contents(&s, "orders").len() + queue_view(&s, "orders").unacked as usize,
        3
    );
}

#[test]
fn rmq_qq_publishes_held_when_every_node_stops_are_lost_unconfirmed() {
    let mut s = cluster(json!([
        at(1_000.0, crash("rabbit-2")),
        at(1_000.0, crash("rabbit-3")),
        at(1_500.0, cmd::burst("p", 2)),
        at(2_000.0, crash("rabbit-1"))
    ]));
    run_ms(&mut s, 1_999);
    assert_eq!(queue_view(&s, "orders").held, 2);
    let events = run_ms(&mut s, 2_001);
    assert_eq!(dropped_for(&events, DropReason::BrokerDown), vec![0, 1]);
    assert_eq!(
        confirms(&s, "p"),
        (0, 0),
        "never confirmed: no guarantee (#data-safety)"
    );
}

/// RMQ-32 in a cluster: a classic queue lives on one node. Its node's stop loses its transient
/// messages and keeps its persistent ones on disk; while the node is down publishes routed to it
/// are lost and nacked; a quorum queue beside it keeps going after its election.
#[test]
fn rmq_32_a_classic_queue_goes_down_with_its_node_while_a_quorum_queue_keeps_going() {
    let mut s = sim_1ms(json!({
        "rabbitmq": { "nodes": 3 },
        "queues": [{ "name": "cq" }, { "name": "qq", "type": "quorum" }],
        "producers": [
            queue_producer("mem", "cq", manual_rate()),
            queue_producer("disk", "cq", manual_rate())
                .with(json!({ "confirms": true, "message": { "persistent": true } })),
            queue_producer("q", "qq", burst_rate(1, 1_500.0))
        ],
        "consumers": [queue_consumer("qq-reader", "qq", 1, 10.0)],
        "script": [
            at(0.0, cmd::burst("mem", 2)), at(0.0, cmd::burst("disk", 2)),
            at(1_000.0, crash("rabbit-1")),
            at(1_200.0, cmd::burst("disk", 1)),
            at(3_000.0, restart("rabbit-1"))
        ]
    }));
    let events = run_ms(&mut s, 2_999);
    assert_eq!(
        dropped_for(&events, DropReason::LostInBrokerRestart),
        vec![0, 1],
        "{}",
        trace(&events)
    );
    assert_eq!(dropped_for(&events, DropReason::BrokerDown), vec![4]);
    assert_eq!(
        confirms(&s, "disk"),
        (2, 1),
        "the one routed to the stopped node is nacked"
    );
    assert!(!queue_view(&s, "cq").available);
    assert_eq!(elections(&events), vec![(2_000, 1)]);
    assert_eq!(received_by(&events, &s, "qq-reader"), vec![(5, false)]);
    run_ms(&mut s, 3_001);
    assert!(queue_view(&s, "cq").available);
    assert_eq!(
        queue_contents(&s, "cq"),
        vec![2, 3],
        "persistent and on disk"
    );
}

#[test]
fn rmq_32_stopping_a_node_that_holds_no_classic_queue_loses_nothing_of_it() {
    let mut s = sim_1ms(json!({
        "rabbitmq": { "nodes": 3 },
        "queues": [{ "name": "cq" }],
        "producers": [queue_producer("p", "cq", manual_rate())],
        "consumers": [queue_consumer("c", "cq", 1, 10.0)],
        "script": [at(1_000.0, crash("rabbit-3")), at(1_100.0, cmd::burst("p", 2))]
    }));
    let events = run_ms(&mut s, 2_000);
    assert!(drops(&events).is_empty());
    assert!(crashes(&events).is_empty());
    assert_eq!(received_by(&events, &s, "c"), vec![(0, false), (1, false)]);
}

#[test]
fn rmq_qq_node_commands_name_a_node_of_the_cluster() {
    let mut s = cluster(json!([]));
    let refused = |s: &mut Simulation, c: Value| {
        let c: Command = serde_json::from_value(c).expect("command JSON");
        s.apply(c).expect_err("refused").to_string()
    };
    assert!(refused(&mut s, crash("rabbit-4")).contains("rabbit-4"));
    apply(&mut s, crash("rabbit-2"));
    assert!(refused(&mut s, crash("rabbit-2")).contains("already stopped"));
    assert!(refused(&mut s, restart("rabbit-1")).contains("running"));
    // With no node named, a restart starts the first stopped one.
    apply(&mut s, json!({ "restart_rabbitmq_node": {} }));
    assert!(s.snapshot().rabbitmq_nodes.iter().all(|n| n.up));
}

/// The rule scenario plays as its description says (quorum-queues#availability).
#[test]
fn rmq_qq_the_majority_scenario_keeps_going_on_one_loss_stops_on_two_and_resumes() {
    let path = rule_file("rmq-qq-majority.json");
    let text = std::fs::read_to_string(&path).expect("scenario file");
    let scenario = Scenario::from_json(&text).expect("valid scenario");
    let mut s = Simulation::new(&scenario, 1).expect("builds");
    let sent = |s: &Simulation| s.report(1, &[]).publishers["web-shop"].sent;
    run_ms(&mut s, 2_999);
    let before = sent(&s);
    assert_eq!(confirms(&s, "web-shop"), (before, 0));
    let events = run_ms(&mut s, 7_999);
    assert_eq!(elections(&events), vec![(4_000, 1)]);
    assert!(drops(&events).is_empty());
    assert_eq!(
        confirms(&s, "web-shop"),
        (sent(&s), 0),
        "one node lost: goes on"
    );
    let confirmed = confirms(&s, "web-shop").0;
    let events = run_ms(&mut s, 12_999);
    let q = queue_view(&s, "orders");
    assert!(!q.available);
    assert_eq!(
        confirms(&s, "web-shop"),
        (confirmed, 0),
        "two lost: no write confirmed"
    );
    assert_eq!(q.held, sent(&s) - confirmed, "every later publish waits");
    assert!(q.held >= 99, "{}", q.held);
    assert!(
        received_by(&events, &s, "billing").is_empty(),
        "nothing delivered"
    );
    let events = run_ms(&mut s, 14_010);
    assert_eq!(elections(&events), vec![(14_000, 2)], "rabbit-3 leads");
    assert_eq!(queue_view(&s, "orders").held, 0);
    assert_eq!(confirms(&s, "web-shop"), (sent(&s), 0), "resumed");
    assert_eq!(
        s.snapshot().ledger.dropped_total(),
        0,
        "nothing lost on the way"
    );
}

/// What the stage draws: the three nodes as brokers, greyed when stopped, and the queue greyed
/// while it has no majority (quorum-queues#availability).
#[test]
fn rmq_qq_the_graph_greys_a_stopped_node_and_a_queue_without_a_majority() {
    use broker_sim::snapshot::{NodeRef, NodeStatus, Role};
    let mut s = cluster(json!([
        at(1_000.0, crash("rabbit-2")),
        at(2_000.0, crash("rabbit-3"))
    ]));
    let status = |s: &Simulation, node: NodeRef| {
        let g = s.snapshot().graph;
        let n = g.node(node).expect("on stage");
        (n.role, n.status)
    };
    let queue = NodeRef::Queue(queue_view(&s, "orders").id);
    run_ms(&mut s, 10);
    let nodes: Vec<String> = (s.snapshot().graph.nodes.iter())
        .filter(|n| matches!(n.node, NodeRef::RabbitMqNode(_)))
        .map(|n| n.name.clone())
        .collect();
    assert_eq!(nodes, ["rabbit-1", "rabbit-2", "rabbit-3"]);
    assert_eq!(
        status(&s, NodeRef::RabbitMqNode(1)),
        (Role::Broker, NodeStatus::Running)
    );
    run_ms(&mut s, 1_500);
    assert_eq!(status(&s, NodeRef::RabbitMqNode(1)).1, NodeStatus::Crashed);
    assert_eq!(status(&s, queue).1, NodeStatus::Running, "two of three run");
    run_ms(&mut s, 2_500);
    assert_eq!(status(&s, queue).1, NodeStatus::Crashed, "no majority");
}

/// A queue declared while `rabbit-1` is stopped is declared on the client's node, the first
/// running one; a quorum queue's members start there (`client-local`, quorum-queues#replication).
#[test]
fn rmq_qq_a_queue_declared_while_rabbit_1_is_stopped_lives_on_a_running_node() {
    let mut s = cluster(json!([]));
    apply(&mut s, crash("rabbit-1"));
    apply(
        &mut s,
        json!({ "add_queue": { "queue": { "name": "late", "type": "quorum" } } }),
    );
    apply(
        &mut s,
        json!({ "add_queue": { "queue": { "name": "late-classic" } } }),
    );
    let q = queue_view(&s, "late");
    assert_eq!((q.node, q.members, q.available), (1, vec![1, 2, 0], true));
    let c = queue_view(&s, "late-classic");
    assert_eq!((c.node, c.available), (1, true));
}
