//! Services as stages (issue 14, PAT-1..PAT-10 in `reference/semantics.md`): the shop's order,
//! payment, inventory and shipping services, their settings and remedies, and their checks.

use super::{check_ms, check_probability, CommitMode, ConsumerSource, ConsumerSpec};
use super::{ProducerSpec, PublishTarget, ScenarioError};
pub use crate::event::StageRole;
use serde::{Deserialize, Serialize};

/// Stock an inventory can hold per item, and items it can list.
pub const MAX_STOCK: u32 = 1_000_000;
pub const MAX_ITEMS: u32 = 64;

/// One service: where it publishes, its business rules and which remedies are on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    pub role: StageRole,
    /// The producer (rate `manual`) that carries its forward event to the next stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<String>,
    /// The producer that carries its compensation back along the chain (PAT-4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compensate: Option<String>,
    /// Order: the reply-to address, a producer to the callers' reply queue; the order's
    /// outcome goes there with the request's id as its correlation id (PAT-8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    /// Payment: the chance a card is declined.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub fail_probability: f64,
    /// Inventory: the stock of each item at the start; an order takes item `txn % items`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stock: Option<u32>,
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub items: u32,
    /// The transactional outbox: the event is written with the business row and a relay
    /// publishes it every `relay_ms` (PAT-2).
    #[serde(default, skip_serializing_if = "is_false")]
    pub outbox: bool,
    #[serde(
        default = "default_relay_ms",
        skip_serializing_if = "is_default_relay_ms"
    )]
    pub relay_ms: f64,
    /// Shipping: a scheduled shipment leaves the warehouse this long after it was scheduled;
    /// until then the cancel saga can stop it, afterwards shipping refuses (PAT-7). 0: it
    /// leaves at once.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub departs_ms: f64,
    /// The idempotent consumer: a message id seen before is acked without running (PAT-3).
    #[serde(default, skip_serializing_if = "is_false")]
    pub idempotent: bool,
    /// A business failure publishes a compensation, and a compensation undoes this stage's
    /// step (the choreographed saga, PAT-4).
    #[serde(default, skip_serializing_if = "is_false")]
    pub saga: bool,
    /// Order only: the saga is orchestrated instead of choreographed (PAT-5). The order
    /// service keeps a saga instance per order (PAT-6), sends each participant a command
    /// through these producers, and reads their answers from its own queue; the participants
    /// answer on their `publish` producers. Compensation is the orchestrator's, so the
    /// participants' `saga` and `compensate` play no part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orchestrate: Option<Orchestration>,
    /// Kafka's log-based alternative (PAT-10, KAF-27): a stage that reads only Kafka groups
    /// and writes only Kafka topics commits its output records, its consumed offsets and its
    /// table writes (a state store whose changelog is in the same transaction) in one
    /// transaction per record. A crash aborts it: `read_committed` readers never see the
    /// output, and the offsets rewind to the last commit.
    #[serde(default, skip_serializing_if = "is_false")]
    pub kafka_transactions: bool,
}

/// The producers an orchestrator sends its commands through, one per participant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Orchestration {
    pub payment: String,
    pub inventory: String,
    pub shipping: String,
}

impl StageSpec {
    /// The producers a stage publishes through, in `Links` order (`clients::stages`): forward,
    /// back, reply, then the orchestrator's commands to payment, inventory and shipping.
    pub(crate) fn links(&self) -> [Option<&str>; 6] {
        let o = self.orchestrate.as_ref();
        [
            self.publish.as_deref(),
            self.compensate.as_deref(),
            self.reply.as_deref(),
            o.map(|o| o.payment.as_str()),
            o.map(|o| o.inventory.as_str()),
            o.map(|o| o.shipping.as_str()),
        ]
    }
}

fn is_zero_f64(v: &f64) -> bool {
    *v == 0.0
}
fn is_false(v: &bool) -> bool {
    !*v
}
fn one() -> u32 {
    1
}
fn is_one(v: &u32) -> bool {
    *v == 1
}
fn default_relay_ms() -> f64 {
    100.0
}
fn is_default_relay_ms(v: &f64) -> bool {
    *v == default_relay_ms()
}

/// Checks a stage; `producer` says whether a producer of that name exists.
pub(crate) fn validate_stage(
    path: &str,
    s: &StageSpec,
    producer: &dyn Fn(&str) -> bool,
) -> Result<(), ScenarioError> {
    check_probability(&format!("{path}.fail_probability"), s.fail_probability)?;
    check_ms(&format!("{path}.relay_ms"), s.relay_ms)?;
    check_ms(&format!("{path}.departs_ms"), s.departs_ms)?;
    if s.relay_ms <= 0.0 {
        return Err(ScenarioError::new(
            format!("{path}.relay_ms"),
            "the relay needs a positive polling interval",
        ));
    }
    if s.items == 0 || s.items > MAX_ITEMS {
        return Err(ScenarioError::new(
            format!("{path}.items"),
            format!("between 1 and {MAX_ITEMS}, got {}", s.items),
        ));
    }
    if s.stock.is_some_and(|n| n > MAX_STOCK) {
        return Err(ScenarioError::new(
            format!("{path}.stock"),
            format!("at most {MAX_STOCK}"),
        ));
    }
    if s.orchestrate.is_some() && s.role != StageRole::Order {
        return Err(ScenarioError::new(
            format!("{path}.orchestrate"),
            "only the order service orchestrates",
        ));
    }
    let fields = [
        "publish",
        "compensate",
        "reply",
        "orchestrate.payment",
        "orchestrate.inventory",
        "orchestrate.shipping",
    ];
    for (field, name) in fields.into_iter().zip(s.links()) {
        if let Some(n) = name {
            if !producer(n) {
                return Err(ScenarioError::new(
                    format!("{path}.{field}"),
                    format!("unknown producer '{n}'"),
                ));
            }
        }
    }
    Ok(())
}

/// What a transactional stage's check looks up: the stage's consumers, producers by name,
/// groups' commit modes by name, and whether the scenario has a Kafka cluster (the
/// transaction markers live in its replicas, KAF-27).
pub(crate) struct KafkaSides<'a> {
    pub consumers: &'a mut dyn Iterator<Item = &'a ConsumerSpec>,
    pub producer: &'a dyn Fn(&str) -> Option<&'a ProducerSpec>,
    pub commit: &'a dyn Fn(&str) -> Option<&'a CommitMode>,
    pub cluster: bool,
}

/// A Kafka transaction covers Kafka reads and writes only: the guarantee stops at the first
/// step that touches anything else (PAT-10), so `kafka_transactions` is refused there.
pub(crate) fn check_kafka_only(
    path: &str,
    s: &StageSpec,
    sides: KafkaSides<'_>,
) -> Result<(), ScenarioError> {
    if !s.kafka_transactions {
        return Ok(());
    }
    let refuse = |why: String| {
        Err(ScenarioError::new(
            format!("{path}.kafka_transactions"),
            format!("{why}: a Kafka transaction covers only Kafka reads and writes (PAT-10)"),
        ))
    };
    if !sides.cluster {
        return refuse("transactions need a `kafka` cluster".into());
    }
    if s.outbox {
        return refuse("the outbox is a database table, published by a relay".into());
    }
    for c in sides.consumers.filter(|c| c.stage == Some(s.role)) {
        let ConsumerSource::Group(g) = &c.source else {
            return refuse(format!("consumer '{}' reads from outside Kafka", c.name));
        };
        if !matches!((sides.commit)(g), Some(CommitMode::AfterProcessing { .. })) {
            return refuse(format!(
                "group '{g}' must commit after processing (enable.auto.commit=false): \
                 the transaction commits its offsets"
            ));
        }
    }
    for name in s.links().into_iter().flatten() {
        let kafka = (sides.producer)(name)
            .is_some_and(|p| (p.targets.iter()).all(|t| matches!(t, PublishTarget::Topic(_))));
        if !kafka {
            return refuse(format!("producer '{name}' writes outside Kafka"));
        }
    }
    Ok(())
}

/// Each role at most once.
pub(crate) fn unique_roles(stages: &[StageSpec]) -> Result<(), ScenarioError> {
    for (i, s) in stages.iter().enumerate() {
        if stages[..i].iter().any(|t| t.role == s.role) {
            return Err(ScenarioError::new(
                format!("stages[{i}].role"),
                "each service appears once",
            ));
        }
    }
    Ok(())
}
