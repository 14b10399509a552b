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

// Network partitions (https://www.rabbitmq.com/docs/partitions, quorum-queues#data-safety):
// a node cut off from the others. Its clients still reach it until it pauses
// (`pause_minority`, the same delay as the election here).

fn isolate(node: &str) -> Value {
    json!({ "isolate_rabbitmq_node": { "node": node } })
}

fn heal(node: &str) -> Value {
    json!({ "heal_rabbitmq_node": { "node": node } })
}

/// `cluster` with a fast consumer, so what the majority serves shows at once.
fn partitioned(script: Value) -> Simulation {
    sim_1ms(json!({
        "rabbitmq": { "nodes": 3 },
        "queues": [{ "name": "orders", "type": "quorum" }],
        "producers": [queue_producer("p", "orders", manual_rate()).with(json!({ "confirms": true }))],
        "consumers": [queue_consumer("c", "orders", 10, 10.0)],
        "script": script
    }))
}

fn node_view(s: &Simulation, n: usize) -> broker_sim::snapshot::RabbitMqNodeView {
    s.snapshot().rabbitmq_nodes[n].clone()
}

#[test]
fn rmq_qq_a_leader_cut_off_from_its_followers_cannot_confirm() {
    let mut s = partitioned(json!([
        at(0.0, cmd::burst("p", 2)),
        at(1_000.0, isolate("rabbit-1")),
        at(1_200.0, cmd::burst("p", 3))
    ]));
    run_ms(&mut s, 999);
    assert_eq!(
        confirms(&s, "p"),
        (2, 0),
        "three members: confirmed at once"
    );
    let events = run_ms(&mut s, 1_999);
    let q = queue_view(&s, "orders");
    assert_eq!(
        (q.node, q.available),
        (0, false),
        "rabbit-1 still leads, alone"
    );
    assert_eq!((q.uncommitted, q.held, q.ready), (3, 0, 0));
    assert_eq!(confirms(&s, "p"), (2, 0), "one of three cannot commit");
    assert!(received_by(&events, &s, "c").is_empty());
    let n = node_view(&s, 0);
    assert!(n.isolated && !n.paused);
    assert_eq!(n.uncommitted, 3);
    assert!(
        drops(&events).is_empty(),
        "not lost yet: in the old leader's log"
    );
}

#[test]
fn rmq_qq_the_majority_elects_a_leader_after_the_timeout_and_serves_it() {
    let mut s = partitioned(json!([
        at(1_000.0, isolate("rabbit-1")),
        at(2_500.0, cmd::burst("p", 4))
    ]));
    let events = run_ms(&mut s, 2_001);
    assert_eq!(elections(&events), vec![(2_000, 1)], "rabbit-2 after 1 s");
    let paused = pick(&events, |e| match e.kind {
        EventKind::RabbitMqNodePaused { node } => Some((e.time.0 / 1_000, node)),
        _ => None,
    });
    assert_eq!(paused, vec![(2_000, 0)], "pause_minority");
    assert!(queue_view(&s, "orders").available);
    // The clients reconnected to the majority: the new leader confirms and delivers.
    let events = run_ms(&mut s, 3_000);
    assert_eq!(confirms(&s, "p"), (4, 0));
    assert_eq!(
        received_by(&events, &s, "c"),
        vec![(0, false), (1, false), (2, false), (3, false)]
    );
    assert!(node_view(&s, 0).paused);
}

#[test]
fn rmq_qq_on_heal_the_old_leader_discards_what_it_never_committed() {
    let mut s = partitioned(json!([
        at(0.0, cmd::burst("p", 2)),
        at(1_000.0, isolate("rabbit-1")),
        at(1_200.0, cmd::burst("p", 3)),
        at(2_500.0, cmd::burst("p", 1)),
        at(4_000.0, heal("rabbit-1"))
    ]));
    run_ms(&mut s, 3_999);
    assert_eq!(queue_view(&s, "orders").uncommitted, 3);
    let events = run_ms(&mut s, 4_000);
    // Messages 2..4 went to rabbit-1 alone; never confirmed, they are gone with a reason.
    assert_eq!(
        dropped_for(&events, DropReason::TruncatedOnElection),
        vec![2, 3, 4],
        "{}",
        trace(&events)
    );
    assert_eq!(drops(&events).len(), 3);
    assert_eq!(
        confirms(&s, "p"),
        (3, 0),
        "2 before the cut, 1 after the election"
    );
    let q = queue_view(&s, "orders");
    assert_eq!((q.node, q.uncommitted, q.available), (1, 0, true));
    assert!(!node_view(&s, 0).isolated);
    assert_eq!(
        s.snapshot().ledger.dropped_total(),
        3,
        "the ledger counts them"
    );
}

#[test]
fn rmq_qq_healed_before_the_election_the_old_leaders_publishes_commit() {
    let mut s = partitioned(json!([
        at(1_000.0, isolate("rabbit-1")),
        at(1_200.0, cmd::burst("p", 3)),
        at(1_500.0, heal("rabbit-1"))
    ]));
    run_ms(&mut s, 1_500);
    assert_eq!(confirms(&s, "p"), (0, 0), "the election still runs");
    let events = run_ms(&mut s, 2_100);
    assert_eq!(elections(&events), vec![(2_000, 1)]);
    assert_eq!(
        confirms(&s, "p"),
        (3, 0),
        "replicated at the heal, committed"
    );
    assert_eq!(s.snapshot().ledger.dropped_total(), 0);
}

#[test]
fn rmq_qq_an_isolated_follower_lags_and_catches_up_on_heal() {
    let mut s = partitioned(json!([
        at(1_000.0, isolate("rabbit-3")),
        at(1_200.0, cmd::burst("p", 5)),
        at(3_000.0, heal("rabbit-3"))
    ]));
    let events = run_ms(&mut s, 2_999);
    assert!(
        elections(&events).is_empty(),
        "the leader keeps its majority"
    );
    assert_eq!(confirms(&s, "p"), (5, 0), "two of three commit");
    assert_eq!(received_by(&events, &s, "c").len(), 5);
    let n = node_view(&s, 2);
    assert!(n.isolated && n.paused);
    assert_eq!(n.behind, 5, "five entries it does not have");
    let events = run_ms(&mut s, 3_000);
    let healed = pick(&events, |e| match e.kind {
        EventKind::RabbitMqNodeHealed { node, caught_up } => Some((node, caught_up)),
        _ => None,
    });
    assert_eq!(healed, vec![(2, 5)]);
    assert_eq!(node_view(&s, 2).behind, 0);
    assert!(drops(&events).is_empty());
}

#[test]
fn rmq_32_a_classic_queue_on_a_cut_off_node_is_out_of_reach_once_it_pauses() {
    let mut s = sim_1ms(json!({
        "rabbitmq": { "nodes": 3 },
        "queues": [{ "name": "jobs" }],
        "producers": [queue_producer("p", "jobs", manual_rate()).with(json!({ "confirms": true }))],
        "consumers": [queue_consumer("c", "jobs", 10, 10.0)],
        "script": [
            at(1_000.0, isolate("rabbit-1")),
            at(1_500.0, cmd::burst("p", 2)),
            at(2_500.0, cmd::burst("p", 2)),
            at(3_000.0, heal("rabbit-1")),
            at(3_500.0, cmd::burst("p", 1))
        ]
    }));
    // Before the pause its clients are on its side: the queue works.
    let events = run_ms(&mut s, 1_999);
    assert_eq!(received_by(&events, &s, "c").len(), 2);
    // Paused: its consumer's connection closed, the producer now on rabbit-2 cannot reach it.
    let events = run_ms(&mut s, 2_999);
    assert_eq!(crashes(&events).len(), 1);
    assert_eq!(dropped_for(&events, DropReason::BrokerDown), vec![2, 3]);
    assert_eq!(confirms(&s, "p"), (2, 2), "nacked");
    assert!(!queue_view(&s, "jobs").available);
    let events = run_ms(&mut s, 4_000);
    assert!(queue_view(&s, "jobs").available, "healed");
    assert_eq!(
        received_by(&events, &s, "c"),
        vec![(4, false)],
        "reconnected"
    );
}

#[test]
fn rmq_qq_isolating_and_healing_name_a_node_in_the_right_state_and_a_refusal_changes_nothing() {
    let mut single = sim_1ms(json!({ "queues": [{ "name": "q" }] }));
    let err = single.apply(serde_json::from_value(isolate("rabbit-1")).unwrap());
    assert!(format!("{:?}", err.unwrap_err()).contains("cluster"));
    let mut s = partitioned(json!([]));
    let apply_ok = |s: &mut Simulation, command: Value| {
        let before = s.snapshot();
        let r = s.apply(serde_json::from_value(command).unwrap());
        if r.is_err() {
            assert_eq!(s.snapshot(), before, "a refusal changes nothing");
        }
        r
    };
    assert!(apply_ok(&mut s, isolate("rabbit-4")).is_err(), "unknown");
    assert!(apply_ok(&mut s, heal("rabbit-2")).is_err(), "not isolated");
    assert!(apply_ok(&mut s, crash("rabbit-3")).is_ok());
    assert!(apply_ok(&mut s, isolate("rabbit-3")).is_err(), "stopped");
    assert!(apply_ok(&mut s, isolate("rabbit-2")).is_ok());
    assert!(
        apply_ok(&mut s, isolate("rabbit-2")).is_err(),
        "already isolated"
    );
    assert!(
        apply_ok(&mut s, isolate("rabbit-1")).is_err(),
        "one at a time"
    );
    assert!(
        apply_ok(&mut s, crash("rabbit-2")).is_err(),
        "heal it first"
    );
    assert!(apply_ok(&mut s, heal("rabbit-2")).is_ok());
}

/// The rule scenario plays as its description says (partitions, quorum-queues#data-safety).
#[test]
fn rmq_qq_the_partition_scenario_lags_a_follower_and_discards_the_cut_off_leaders_writes() {
    let text = std::fs::read_to_string(rule_file("rmq-qq-partition.json")).expect("file");
    let mut s = Simulation::new(&Scenario::from_json(&text).expect("valid"), 1).expect("builds");
    let sent = |s: &Simulation| s.report(1, &[]).publishers["web-shop"].sent;
    run_ms(&mut s, 3_999);
    assert_eq!(
        confirms(&s, "web-shop"),
        (sent(&s), 0),
        "the follower is not needed"
    );
    let behind = node_view(&s, 2).behind;
    assert!(behind >= 35, "{behind}");
    run_ms(&mut s, 5_999);
    assert_eq!(node_view(&s, 2).behind, 0, "caught up");
    let confirmed = confirms(&s, "web-shop").0;
    run_ms(&mut s, 6_999);
    let taken = queue_view(&s, "orders").uncommitted;
    assert!(taken >= 19, "{taken}");
    assert_eq!(
        confirms(&s, "web-shop").0,
        confirmed,
        "the cut-off leader confirms nothing"
    );
    let events = run_ms(&mut s, 7_000);
    assert_eq!(elections(&events), vec![(7_000, 1)]);
    let events = run_ms(&mut s, 9_000);
    assert_eq!(
        dropped_for(&events, DropReason::TruncatedOnElection).len() as u64,
        taken
    );
    assert_eq!(s.snapshot().ledger.dropped_total(), taken);
    // Everything else is confirmed, or on its way.
    let in_flight = s.snapshot().ledger.in_flight;
    assert_eq!(confirms(&s, "web-shop"), (sent(&s) - taken - in_flight, 0));
}
