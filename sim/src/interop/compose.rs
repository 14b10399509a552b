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
/// Where the brokers listen inside the compose network and on the host.
const KAFKA_INTERNAL: &str = "kafka:19092";

/// The compose file. RabbitMQ reads `./definitions.json`, which
/// `broker-sim export SCENARIO --to definitions` writes.
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
    if rabbitmq {
        // Refused here rather than by the broker at boot.
        export_definitions(s, "/")?;
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
        let _ = writeln!(
            y,
            "      - {}",
            quote(&format!(
                "./{DEFINITIONS_FILE}:/etc/rabbitmq/definitions.json:ro"
            ))
        );
        y.push_str("    configs:\n");
        y.push_str("      - source: rabbitmq-load-definitions\n");
        let _ = writeln!(
            y,
            "        target: {}",
            quote("/etc/rabbitmq/conf.d/90-load-definitions.conf")
        );
    }
    if kafka {
        let setup = kafka_setup(s, KAFKA_INTERNAL, "/opt/kafka/bin/")?;
        y.push_str("  kafka:\n");
        let _ = writeln!(y, "    image: {}", quote(KAFKA_IMAGE));
        y.push_str("    ports:\n");
        let _ = writeln!(y, "      - {}", quote("9092:9092"));
        y.push_str("    environment:\n");
        let mut env: Vec<(String, String)> = [
            ("KAFKA_NODE_ID", "1"),
            ("KAFKA_PROCESS_ROLES", "broker,controller"),
            (
                "KAFKA_LISTENERS",
                "INTERNAL://:19092,CONTROLLER://:9093,HOST://:9092",
            ),
            (
                "KAFKA_ADVERTISED_LISTENERS",
                "INTERNAL://kafka:19092,HOST://localhost:9092",
            ),
            (
                "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
                "INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT,HOST:PLAINTEXT",
            ),
            ("KAFKA_INTER_BROKER_LISTENER_NAME", "INTERNAL"),
            ("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER"),
            ("KAFKA_CONTROLLER_QUORUM_VOTERS", "1@kafka:9093"),
            ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1"),
            ("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1"),
            ("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1"),
            ("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0"),
            ("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
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
        y.push_str("    healthcheck:\n");
        let _ = writeln!(
            y,
            "      test: [{}, {}]",
            quote("CMD-SHELL"),
            quote("/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:9092 > /dev/null 2>&1")
        );
        y.push_str("      interval: 5s\n      timeout: 10s\n      retries: 30\n");
        // The one-shot service: creates the topics once the broker answers, then exits.
        y.push_str("  kafka-topics:\n");
        let _ = writeln!(y, "    image: {}", quote(KAFKA_IMAGE));
        y.push_str("    depends_on:\n      kafka:\n        condition: service_healthy\n");
        let _ = writeln!(y, "    restart: {}", quote("no"));
        let script = format!("set -e\n{}\n", setup.commands.join("\n"));
        let _ = writeln!(
            y,
            "    command: [{}, {}, {}]",
            quote("/bin/sh"),
            quote("-c"),
            quote(&script)
        );
    }
    if rabbitmq {
        y.push_str("configs:\n  rabbitmq-load-definitions:\n");
        let _ = writeln!(
            y,
            "    content: {}",
            quote("load_definitions = /etc/rabbitmq/definitions.json\n")
        );
    }
    Ok(y)
}

/// A YAML double-quoted scalar (JSON's string syntax is a subset of it), with `$` doubled so
/// that compose does not read it as a variable.
fn quote(s: &str) -> String {
    serde_json::to_string(&s.replace('$', "$$")).expect("strings serialise")
}
