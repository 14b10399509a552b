//! A scenario's Kafka part as the commands that create it on a real cluster: `kafka-topics.sh
//! --create` per topic with its topic configs, `kafka-configs.sh --alter` for the cluster-wide
//! cleaner setting, and the settings that belong to the broker's `server.properties` or to the
//! clients, written as comments.

use super::whole_ms;
use crate::scenario::kafka::Acks;
use crate::scenario::{
    Assignor, CleanupPolicy, CommitMode, OffsetReset, Scenario, ScenarioError, TopicSpec,
    UnkeyedStrategy,
};
use std::collections::BTreeMap;

/// Kafka's defaults for what a topic spec holds; a setting equal to its default is not written.
const DEFAULT_SEGMENT_BYTES: u64 = 1_073_741_824;
const DEFAULT_WEEK_MS: i64 = 604_800_000;
const DEFAULT_RETENTION_CHECK_MS: i64 = 300_000;
const DEFAULT_CLEANER_BACKOFF_MS: i64 = 15_000;
const DEFAULT_OFFSETS_RETENTION_MINUTES: i64 = 10_080;
const DEFAULT_REPLICA_LAG_MS: i64 = 30_000;
const DEFAULT_BROKER_SESSION_MS: i64 = 9_000;

/// The Kafka part, ready to print or to run in a container.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KafkaSetup {
    /// Shell commands to run once the broker is up, in order.
    pub commands: Vec<String>,
    /// Read-only broker settings (`server.properties`), set before the broker starts.
    pub broker_config: BTreeMap<String, String>,
    /// Comments: client settings and what a real cluster cannot hold as the scenario does.
    pub comments: Vec<String>,
}

/// Builds the commands against `bootstrap` (`host:port`), with the scripts found in `bin_dir`
/// (`""` for the PATH, `/opt/kafka/bin/` in the apache/kafka image).
pub fn kafka_setup(
    s: &Scenario,
    bootstrap: &str,
    bin_dir: &str,
) -> Result<KafkaSetup, ScenarioError> {
    let mut setup = KafkaSetup::default();
    let mut check_intervals = BTreeMap::new();
    let mut backoffs = BTreeMap::new();
    for (i, t) in s.topics.iter().enumerate() {
        let path = format!("topics[{i}]");
        check_topic_name(&format!("{path}.name"), &t.name)?;
        let mut cmd = format!(
            "{bin_dir}kafka-topics.sh --bootstrap-server {bootstrap} --create --if-not-exists --topic {} --partitions {} --replication-factor {}",
            t.name,
            t.partitions,
            t.replication_factor.unwrap_or(1)
        );
        for (key, value) in topic_configs(&path, t)? {
            cmd.push_str(&format!(" --config {key}={value}"));
        }
        setup.commands.push(cmd);
        let check = whole_ms(
            &format!("{path}.retention_check_interval_ms"),
            t.retention_check_interval_ms,
        )?;
        check_intervals.insert(check, t.name.as_str());
        if let Some(ms) = t.log_cleaner_backoff_ms {
            backoffs.insert(
                whole_ms(&format!("{path}.log_cleaner_backoff_ms"), ms)?,
                t.name.as_str(),
            );
        }
        if t.unkeyed == UnkeyedStrategy::RoundRobin {
            setup.comments.push(format!(
                "producers to {:?}: partitioner.class=org.apache.kafka.clients.producer.RoundRobinPartitioner",
                t.name
            ));
        }
        if t.batch_size != 16_384 {
            setup.comments.push(format!(
                "producers to {:?}: batch.size={}",
                t.name, t.batch_size
            ));
        }
    }
    // Broker-wide in Kafka, per topic in the scenario: the shortest interval serves every topic.
    if let Some((&ms, _)) = check_intervals.first_key_value() {
        if check_intervals.len() > 1 {
            setup.comments.push(broker_wide_note(
                "log.retention.check.interval.ms",
                &check_intervals,
            ));
        }
        if ms != DEFAULT_RETENTION_CHECK_MS {
            setup
                .broker_config
                .insert("log.retention.check.interval.ms".into(), ms.to_string());
        }
    }
    if let Some((&ms, _)) = backoffs.first_key_value() {
        if backoffs.len() > 1 {
            setup
                .comments
                .push(broker_wide_note("log.cleaner.backoff.ms", &backoffs));
        }
        if ms != DEFAULT_CLEANER_BACKOFF_MS {
            // A cluster-wide dynamic setting: no restart needed.
            setup.commands.push(format!(
                "{bin_dir}kafka-configs.sh --bootstrap-server {bootstrap} --alter --entity-type brokers --entity-default --add-config log.cleaner.backoff.ms={ms}"
            ));
        }
    }
    if let Some(c) = &s.kafka {
        // The cluster's timings (KAF-19, KAF-23): server.properties of every broker.
        for (key, field, value, default) in [
            (
                "replica.lag.time.max.ms",
                "replica_lag_time_max_ms",
                c.replica_lag_time_max_ms,
                DEFAULT_REPLICA_LAG_MS,
            ),
            (
                "broker.session.timeout.ms",
                "broker_session_timeout_ms",
                c.broker_session_timeout_ms,
                DEFAULT_BROKER_SESSION_MS,
            ),
        ] {
            let ms = whole_ms(&format!("kafka.{field}"), value)?;
            if ms != default {
                setup.broker_config.insert(key.into(), ms.to_string());
            }
        }
    }
    for p in s.producers.iter().filter(|p| !p.kafka.is_default()) {
        setup.comments.push(producer_properties(p)?);
    }
    let mut offsets_retention = BTreeMap::new();
    for (i, g) in s.groups.iter().enumerate() {
        let path = format!("groups[{i}]");
        setup.comments.push(group_properties(&path, g)?);
        let ms = whole_ms(
            &format!("{path}.offsets_retention_ms"),
            g.offsets_retention_ms,
        )?;
        if ms % 60_000 != 0 {
            return Err(ScenarioError::new(
                format!("{path}.offsets_retention_ms"),
                "offsets.retention.minutes takes whole minutes",
            ));
        }
        offsets_retention.insert(ms / 60_000, g.name.as_str());
    }
    if let Some((&minutes, _)) = offsets_retention.first_key_value() {
        if offsets_retention.len() > 1 {
            setup.comments.push(broker_wide_note(
                "offsets.retention.minutes",
                &offsets_retention,
            ));
        }
        if minutes != DEFAULT_OFFSETS_RETENTION_MINUTES {
            setup
                .broker_config
                .insert("offsets.retention.minutes".into(), minutes.to_string());
        }
    }
    Ok(setup)
}

/// The commands as a shell script for a cluster reached at `bootstrap`, with the scripts on
/// the PATH.
pub fn kafka_script(s: &Scenario, bootstrap: &str) -> Result<String, ScenarioError> {
    let setup = kafka_setup(s, bootstrap, "")?;
    if setup.commands.is_empty() {
        return Err(ScenarioError::new(
            "topics",
            "the scenario has no Kafka topics",
        ));
    }
    let mut out = String::from("#!/bin/sh\n# Kafka part of a Broker Lab scenario.\nset -e\n");
    if !setup.broker_config.is_empty() {
        out.push_str(
            "# Broker settings (server.properties; read-only, set before the broker starts):\n",
        );
        for (key, value) in &setup.broker_config {
            out.push_str(&format!("#   {key}={value}\n"));
        }
    }
    for comment in &setup.comments {
        out.push_str(&format!("# {comment}\n"));
    }
    for cmd in &setup.commands {
        out.push_str(cmd);
        out.push('\n');
    }
    Ok(out)
}

/// Kafka's legal topic names (`org.apache.kafka.common.internals.Topic.validate`); they also
/// need no quoting in a shell.
fn check_topic_name(path: &str, name: &str) -> Result<(), ScenarioError> {
    let legal = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-');
    if name.is_empty() || name.len() > 249 || name == "." || name == ".." || !legal {
        return Err(ScenarioError::new(
            path,
            format!("{name:?} is not a legal Kafka topic name (1 to 249 of a-z A-Z 0-9 . _ -)"),
        ));
    }
    Ok(())
}

/// The topic configs that differ from Kafka's defaults, with their real names.
fn topic_configs(path: &str, t: &TopicSpec) -> Result<Vec<(&'static str, String)>, ScenarioError> {
    let mut configs = Vec::new();
    if t.segment_bytes != DEFAULT_SEGMENT_BYTES {
        configs.push(("segment.bytes", t.segment_bytes.to_string()));
    }
    let ms = |field: &str, value: f64| whole_ms(&format!("{path}.{field}"), value);
    let segment_ms = ms("segment_ms", t.segment_ms)?;
    if segment_ms != DEFAULT_WEEK_MS {
        configs.push(("segment.ms", segment_ms.to_string()));
    }
    let retention_ms = ms("retention_ms", t.retention_ms)?;
    if retention_ms != DEFAULT_WEEK_MS {
        configs.push(("retention.ms", retention_ms.to_string()));
    }
    if t.retention_bytes != -1 {
        configs.push(("retention.bytes", t.retention_bytes.to_string()));
    }
    match t.cleanup_policy {
        CleanupPolicy::Delete => {}
        CleanupPolicy::Compact => configs.push(("cleanup.policy", "compact".into())),
        CleanupPolicy::CompactDelete => configs.push(("cleanup.policy", "compact,delete".into())),
    }
    if let Some(v) = t.delete_retention_ms {
        configs.push((
            "delete.retention.ms",
            ms("delete_retention_ms", v)?.to_string(),
        ));
    }
    if let Some(v) = t.min_compaction_lag_ms {
        configs.push((
            "min.compaction.lag.ms",
            ms("min_compaction_lag_ms", v)?.to_string(),
        ));
    }
    if let Some(r) = t.min_cleanable_dirty_ratio {
        configs.push(("min.cleanable.dirty.ratio", r.to_string()));
    }
    // KAF-22, KAF-23: what decides whether acked records survive a broker's loss.
    if let Some(n) = t.min_insync_replicas.filter(|&n| n != 1) {
        configs.push(("min.insync.replicas", n.to_string()));
    }
    if t.unclean_leader_election_enable {
        configs.push(("unclean.leader.election.enable", "true".into()));
    }
    Ok(configs)
}

fn broker_wide_note(key: &str, per_value: &BTreeMap<i64, &str>) -> String {
    let values: Vec<String> = per_value
        .iter()
        .map(|(v, owner)| format!("{v} ({owner:?})"))
        .collect();
    format!(
        "{key} is one setting per broker; the scenario has {}: the smallest is used",
        values.join(", ")
    )
}

/// A producer's delivery settings as the properties it would set (KAF-21, KAF-25..27).
fn producer_properties(p: &crate::scenario::ProducerSpec) -> Result<String, ScenarioError> {
    let k = &p.kafka;
    let acks = match k.acks {
        Acks::Zero => "0",
        Acks::One => "1",
        Acks::All => "all",
    };
    let mut props = format!("acks={acks}");
    if let Some(on) = k.enable_idempotence {
        props.push_str(&format!(" enable.idempotence={on}"));
    }
    if let Some(n) = k.retries {
        props.push_str(&format!(" retries={n}"));
    }
    let ms =
        |field: &str, value: f64| whole_ms(&format!("producers.{}.kafka.{field}", p.name), value);
    if let Some(v) = k.retry_backoff_ms {
        props.push_str(&format!(" retry.backoff.ms={}", ms("retry_backoff_ms", v)?));
    }
    for (key, field, value) in [
        (
            "delivery.timeout.ms",
            "delivery_timeout_ms",
            k.delivery_timeout_ms,
        ),
        (
            "request.timeout.ms",
            "request_timeout_ms",
            k.request_timeout_ms,
        ),
        (
            "metadata.max.age.ms",
            "metadata_max_age_ms",
            k.metadata_max_age_ms,
        ),
    ] {
        if let Some(v) = value {
            props.push_str(&format!(" {key}={}", ms(field, v)?));
        }
    }
    if k.transactions.is_some() {
        props.push_str(&format!(" transactional.id={}", p.name.escape_default()));
    }
    Ok(format!("producer {:?}: {props}", p.name))
}

/// A group's consumer settings as the properties its members would set.
fn group_properties(path: &str, g: &crate::scenario::GroupSpec) -> Result<String, ScenarioError> {
    let assignor = match g.assignor {
        Assignor::Range => "RangeAssignor",
        Assignor::RoundRobin => "RoundRobinAssignor",
        Assignor::Sticky => "StickyAssignor",
        Assignor::CooperativeSticky => "CooperativeStickyAssignor",
    };
    let reset = match g.auto_offset_reset {
        OffsetReset::Earliest => "earliest",
        OffsetReset::Latest => "latest",
        OffsetReset::None => "none",
    };
    let commit = match &g.commit {
        CommitMode::Auto { interval_ms } => format!(
            "enable.auto.commit=true auto.commit.interval.ms={}",
            whole_ms(&format!("{path}.commit.interval_ms"), *interval_ms)?
        ),
        CommitMode::AfterProcessing { every } => {
            format!("enable.auto.commit=false (commitSync after every {every} records)")
        }
        CommitMode::BeforeProcessing => {
            "enable.auto.commit=false (commitSync right after each poll)".into()
        }
    };
    let isolation = if g.isolation_level.is_default() {
        ""
    } else {
        " isolation.level=read_committed"
    };
    Ok(format!(
        "consumer group {:?} (topics {}): group.id={} partition.assignment.strategy=org.apache.kafka.clients.consumer.{assignor} auto.offset.reset={reset} {commit} session.timeout.ms={} max.poll.records={}{isolation}",
        g.name,
        g.topics.join(","),
        g.name.escape_default(),
        whole_ms(&format!("{path}.session_timeout_ms"), g.session_timeout_ms)?,
        g.max_poll_records
    ))
}
