//! A `docker-compose.yml` that starts the real brokers a scenario needs: RabbitMQ with the
//! scenario's definitions loaded at boot, and Kafka (one KRaft node) with a one-shot service that
//! creates its topics.

use super::kafka_commands::kafka_setup;
use super::rabbitmq_definitions::export_definitions;
use crate::scenario::{RabbitMqVersion, Scenario, ScenarioError};
use std::fmt::Write;

/// The file the RabbitMQ service mounts, beside `docker-compose.yml`.
pub const DEFINITIONS_FILE: &str = "definitions.json";
/// The image of the modelled release: a 3.x broker has other quorum-queue rules (RMQ-20, -30).
fn rabbitmq_image(v: RabbitMqVersion) -> &'static str {
    match v {
        RabbitMqVersion::V4_3 => "rabbitmq:4.3-management",
    }
}
/// The last Kafka line whose brokers take the small `segment.bytes` teaching scenarios use
/// (4.0 raised the minimum to 1 MiB, KIP-1030).
const KAFKA_IMAGE: &str = "apache/kafka:3.9.0";
/// Where the brokers listen inside the compose network.
const KAFKA_INTERNAL_PORT: u16 = 19092;
/// The cluster id every node of a multi-node cluster formats its storage with (a base64 UUID).
const KAFKA_CLUSTER_ID: &str = "QnJva2VyTGFiQ2x1c3Rlcg";

/// The compose file. RabbitMQ reads `./definitions.json`, which
/// `broker-sim export SCENARIO --to definitions` writes. A scenario with a cluster
/// (`rabbitmq.nodes`, `kafka.brokers`) starts that many nodes, named as the scenario names them.
pub fn docker_compose(s: &Scenario) -> Result<String, ScenarioError> {
    let rabbitmq = !(s.exchanges.is_empty() && s.queues.is_empty() && s.bindings.is_empty());
    let kafka = !s.topics.is_empty();
    if !rabbitmq && !kafka {
        return Err(ScenarioError::new(
            "",
            "the scenario has no RabbitMQ or Kafka part to start",
        ));
    }
    let mut y = String::from("# Real brokers for a Broker Lab scenario: `docker compose up -d`.\n");
    if let Some(title) = &s.title {
        let _ = writeln!(y, "# Scenario: {}", title.en.escape_debug());
    }
    y.push_str("services:\n");
    let rabbit_nodes = s.rabbitmq.as_ref().map_or(1, |r| r.nodes);
    if rabbitmq {
        // Refused here rather than by the broker at boot.
        export_definitions(s, "/")?;
        if rabbit_nodes > 1 {
            rabbitmq_cluster(&mut y, s, rabbit_nodes);
        } else {
            rabbitmq_single(&mut y, s);
        }
    }
    if kafka {
        kafka_nodes(&mut y, s)?;
    }
    if rabbitmq {
        y.push_str("configs:\n");
        if rabbit_nodes > 1 {
            let peers: String = (1..=rabbit_nodes)
                .map(|i| {
                    format!("cluster_formation.classic_config.nodes.{i} = rabbit@rabbit-{i}\n")
                })
                .collect();
            y.push_str("  rabbitmq-cluster:\n");
            let _ = writeln!(
                y,
                "    content: {}",
                quote(&format!(
                    "cluster_formation.peer_discovery_backend = classic_config\n{peers}"
                ))
            );
        } else {
            y.push_str("  rabbitmq-load-definitions:\n");
            let _ = writeln!(
                y,
                "    content: {}",
                quote("load_definitions = /etc/rabbitmq/definitions.json\n")
            );
        }
    }
    Ok(y)
}

/// One RabbitMQ node that loads the definitions at boot.
fn rabbitmq_single(y: &mut String, s: &Scenario) {
    let _ = writeln!(
        y,
        "  # RabbitMQ loads ./{DEFINITIONS_FILE}: broker-sim export SCENARIO.json --to definitions > {DEFINITIONS_FILE}"
    );
    y.push_str("  rabbitmq:\n");
    let _ = writeln!(
        y,
        "    image: {}",
        quote(rabbitmq_image(s.rabbitmq_version))
    );
    y.push_str("    ports:\n");
    let _ = writeln!(y, "      - {}", quote("5672:5672"));
    let _ = writeln!(y, "      - {}", quote("15672:15672"));
    y.push_str("    volumes:\n");
    let _ = writeln!(y, "      - {}", quote(&definitions_volume()));
    y.push_str("    configs:\n");
    y.push_str("      - source: rabbitmq-load-definitions\n");
    let _ = writeln!(
        y,
        "        target: {}",
        quote("/etc/rabbitmq/conf.d/90-load-definitions.conf")
    );
}

/// The cluster the scenario draws (`rabbit-1`..`rabbit-N`, RMQ-32): nodes that find each other
/// by classic peer discovery and share an Erlang cookie, then a one-shot service that imports
/// the definitions once every node runs, so a quorum queue gets its members on the cluster
/// rather than on the first node up.
fn rabbitmq_cluster(y: &mut String, s: &Scenario, nodes: u32) {
    // Deprecated in favour of a cookie file, still read by 4.x; a file would need the right
    // owner and mode inside the image.
    let cookie = ("RABBITMQ_ERLANG_COOKIE", "broker-lab-cluster");
    let image = quote(rabbitmq_image(s.rabbitmq_version));
    for i in 1..=nodes {
        let _ = writeln!(y, "  rabbit-{i}:");
        let _ = writeln!(y, "    image: {image}");
        let _ = writeln!(y, "    hostname: {}", quote(&format!("rabbit-{i}")));
        y.push_str("    ports:\n");
        let _ = writeln!(y, "      - {}", quote(&format!("{}:5672", 5671 + i)));
        let _ = writeln!(y, "      - {}", quote(&format!("{}:15672", 15671 + i)));
        y.push_str("    environment:\n");
        let _ = writeln!(y, "      {}: {}", cookie.0, quote(cookie.1));
        y.push_str("    configs:\n      - source: rabbitmq-cluster\n");
        let _ = writeln!(
            y,
            "        target: {}",
            quote("/etc/rabbitmq/conf.d/90-cluster.conf")
        );
        healthcheck(y, "rabbitmq-diagnostics -q check_running");
    }
    let _ = writeln!(
        y,
        "  # Imports ./{DEFINITIONS_FILE} into the cluster: broker-sim export SCENARIO.json --to definitions > {DEFINITIONS_FILE}"
    );
    y.push_str("  rabbitmq-definitions:\n");
    let _ = writeln!(y, "    image: {image}");
    depends_on_healthy(y, (1..=nodes).map(|i| format!("rabbit-{i}")));
    let _ = writeln!(y, "    restart: {}", quote("no"));
    y.push_str("    environment:\n");
    let _ = writeln!(y, "      {}: {}", cookie.0, quote(cookie.1));
    y.push_str("    volumes:\n");
    let _ = writeln!(y, "      - {}", quote(&definitions_volume()));
    let _ = writeln!(
        y,
        "    command: [{}, {}, {}, {}, {}]",
        quote("rabbitmqctl"),
        quote("--node"),
        quote("rabbit@rabbit-1"),
        quote("import_definitions"),
        quote("/etc/rabbitmq/definitions.json")
    );
}

fn definitions_volume() -> String {
    format!("./{DEFINITIONS_FILE}:/etc/rabbitmq/definitions.json:ro")
}

/// Kafka in KRaft mode, each node broker and controller: one node, or the scenario's brokers
/// `b0`..`bN-1` as services `kafka-0`.. (KAF-19), then a one-shot service that creates the
/// topics once every node answers.
fn kafka_nodes(y: &mut String, s: &Scenario) -> Result<(), ScenarioError> {
    let n = s.kafka.as_ref().map_or(1, |c| c.brokers);
    let name = |i: u32| {
        if n == 1 {
            "kafka".to_string()
        } else {
            format!("kafka-{i}")
        }
    };
    let bootstrap: Vec<String> = (0..n)
        .map(|i| format!("{}:{KAFKA_INTERNAL_PORT}", name(i)))
        .collect();
    let setup = kafka_setup(s, &bootstrap.join(","), "/opt/kafka/bin/")?;
    let voters: Vec<String> = (0..n)
        .map(|i| format!("{}@{}:9093", i + 1, name(i)))
        .collect();
    // Kafka's internal topics default to 3 replicas (2 in sync for transactions).
    let internal_rf = n.min(3).to_string();
    let internal_isr = n.min(2).to_string();
    for i in 0..n {
        let (node, host_port) = (name(i), 9092 + i);
        if n > 1 {
            let _ = writeln!(y, "  # the scenario's broker b{i}");
        }
        let _ = writeln!(y, "  {node}:");
        let _ = writeln!(y, "    image: {}", quote(KAFKA_IMAGE));
        y.push_str("    ports:\n");
        let _ = writeln!(y, "      - {}", quote(&format!("{host_port}:{host_port}")));
        y.push_str("    environment:\n");
        let mut env: Vec<(String, String)> = vec![
            ("KAFKA_NODE_ID".into(), (i + 1).to_string()),
            ("KAFKA_PROCESS_ROLES".into(), "broker,controller".into()),
            (
                "KAFKA_LISTENERS".into(),
                format!("INTERNAL://:{KAFKA_INTERNAL_PORT},CONTROLLER://:9093,HOST://:{host_port}"),
            ),
            (
                "KAFKA_ADVERTISED_LISTENERS".into(),
                format!("INTERNAL://{node}:{KAFKA_INTERNAL_PORT},HOST://localhost:{host_port}"),
            ),
            (
                "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP".into(),
                "INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT,HOST:PLAINTEXT".into(),
            ),
            ("KAFKA_INTER_BROKER_LISTENER_NAME".into(), "INTERNAL".into()),
            (
                "KAFKA_CONTROLLER_LISTENER_NAMES".into(),
                "CONTROLLER".into(),
            ),
            ("KAFKA_CONTROLLER_QUORUM_VOTERS".into(), voters.join(",")),
            (
                "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR".into(),
                internal_rf.clone(),
            ),
            (
                "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR".into(),
                internal_rf.clone(),
            ),
            (
                "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR".into(),
                internal_isr.clone(),
            ),
            ("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS".into(), "0".into()),
            ("KAFKA_AUTO_CREATE_TOPICS_ENABLE".into(), "false".into()),
        ];
        if n > 1 {
            // Every node formats its storage with the same cluster id.
            env.push(("CLUSTER_ID".into(), KAFKA_CLUSTER_ID.into()));
        }
        // The image maps KAFKA_A_B to a.b in server.properties.
        for (key, value) in &setup.broker_config {
            env.push((
                format!("KAFKA_{}", key.replace('.', "_").to_uppercase()),
                value.clone(),
            ));
        }
        for (key, value) in env {
            let _ = writeln!(y, "      {key}: {}", quote(&value));
        }
        healthcheck(
            y,
            &format!("/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:{host_port} > /dev/null 2>&1"),
        );
    }
    // The one-shot service: creates the topics once the brokers answer, then exits.
    y.push_str("  kafka-topics:\n");
    let _ = writeln!(y, "    image: {}", quote(KAFKA_IMAGE));
    depends_on_healthy(y, (0..n).map(name));
    let _ = writeln!(y, "    restart: {}", quote("no"));
    let script = format!("set -e\n{}\n", setup.commands.join("\n"));
    let _ = writeln!(
        y,
        "    command: [{}, {}, {}]",
        quote("/bin/sh"),
        quote("-c"),
        quote(&script)
    );
    Ok(())
}

fn healthcheck(y: &mut String, shell: &str) {
    y.push_str("    healthcheck:\n");
    let _ = writeln!(y, "      test: [{}, {}]", quote("CMD-SHELL"), quote(shell));
    y.push_str("      interval: 5s\n      timeout: 10s\n      retries: 30\n");
}

fn depends_on_healthy(y: &mut String, services: impl Iterator<Item = String>) {
    y.push_str("    depends_on:\n");
    for service in services {
        let _ = writeln!(y, "      {service}:\n        condition: service_healthy");
    }
}

/// A YAML double-quoted scalar (JSON's string syntax is a subset of it), with `$` doubled so
/// that compose does not read it as a variable.
fn quote(s: &str) -> String {
    serde_json::to_string(&s.replace('$', "$$")).expect("strings serialise")
}
