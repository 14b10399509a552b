//! RabbitMQ definitions: the JSON of `rabbitmqctl export_definitions` and of the management
//! API's `GET /api/definitions[/vhost]`, read into a scenario's RabbitMQ part and written back
//! from one.
//!
//! Policies are applied on import, so the scenario holds each queue's effective settings: the
//! highest-priority matching policy, merged with the queue's own arguments key by key as RabbitMQ
//! merges them (`policy_merge`).

use super::{whole_ms, Note};
use crate::scenario::{
    BindingSpec, ExchangeSpec, ExchangeType, Overflow, QueueSpec, QueueType, RabbitMqVersion,
    Scenario, ScenarioError, SCENARIO_VERSION,
};
use regex::bytes::{Regex, RegexBuilder};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// What to import from a definitions file.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// The virtual host to import; `None` picks it: the only one holding entities, else the only
    /// one besides `/` holding entities, else an error listing them.
    pub vhost: Option<String>,
    /// Leave out, with a note, features a real broker would act on but Broker Lab does not model
    /// (single active consumer, auto-delete queues, shovels...), instead of refusing the file.
    pub approximate: bool,
}

/// An imported scenario, the virtual host it came from, and what was left out or changed.
#[derive(Clone, Debug)]
pub struct Imported {
    pub scenario: Scenario,
    pub vhost: String,
    pub notes: Vec<Note>,
}

/// The app's entry point: a definitions file's text to a scenario, strictly, picking the vhost.
pub fn scenario_from_definitions(text: &str) -> Result<Scenario, ScenarioError> {
    import_definitions(text, &ImportOptions::default()).map(|i| i.scenario)
}

// ---------------------------------------------------------------- the file as RabbitMQ writes it

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Definitions {
    #[serde(default)]
    rabbit_version: Option<String>,
    #[serde(default)]
    rabbitmq_version: Option<String>,
    // Metadata written by 3.11+ and the management API; nothing to import.
    #[serde(default, rename = "product_name")]
    _product_name: IgnoredAny,
    #[serde(default, rename = "product_version")]
    _product_version: IgnoredAny,
    #[serde(default, rename = "erlang_version")]
    _erlang_version: IgnoredAny,
    #[serde(default, rename = "rabbitmq_definition_format")]
    _rabbitmq_definition_format: IgnoredAny,
    #[serde(default, rename = "original_cluster_name")]
    _original_cluster_name: IgnoredAny,
    #[serde(default, rename = "original_vhost_name")]
    _original_vhost_name: IgnoredAny,
    #[serde(default, rename = "explanation")]
    _explanation: IgnoredAny,
    #[serde(default)]
    vhosts: Vec<VhostDef>,
    #[serde(default)]
    users: Vec<Value>,
    #[serde(default)]
    permissions: Vec<Value>,
    #[serde(default)]
    topic_permissions: Vec<Value>,
    #[serde(default)]
    global_parameters: Vec<Value>,
    #[serde(default)]
    parameters: Vec<ParameterDef>,
    #[serde(default)]
    policies: Vec<PolicyDef>,
    #[serde(default)]
    operator_policies: Vec<Value>,
    #[serde(default)]
    exchanges: Vec<ExchangeDef>,
    #[serde(default)]
    queues: Vec<QueueDef>,
    #[serde(default)]
    bindings: Vec<BindingDef>,
}

/// Only the name and the default queue type matter; limits, tags and descriptions are left out.
#[derive(Deserialize)]
struct VhostDef {
    name: String,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParameterDef {
    #[serde(default)]
    vhost: Option<String>,
    component: String,
    name: String,
    #[serde(rename = "value")]
    _value: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyDef {
    #[serde(default)]
    vhost: Option<String>,
    name: String,
    pattern: String,
    #[serde(rename = "apply-to", default = "apply_to_all")]
    apply_to: String,
    definition: Map<String, Value>,
    #[serde(default)]
    priority: i64,
}

fn apply_to_all() -> String {
    "all".into()
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExchangeDef {
    name: String,
    #[serde(default)]
    vhost: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default = "yes")]
    durable: bool,
    #[serde(default)]
    auto_delete: bool,
    #[serde(default)]
    internal: bool,
    #[serde(default)]
    arguments: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueDef {
    name: String,
    #[serde(default)]
    vhost: Option<String>,
    /// Written by `rabbitmqctl` (3.10+); the management API has only `x-queue-type`.
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default = "yes")]
    durable: bool,
    #[serde(default)]
    auto_delete: bool,
    #[serde(default)]
    exclusive: bool,
    #[serde(default)]
    arguments: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BindingDef {
    source: String,
    #[serde(default)]
    vhost: Option<String>,
    destination: String,
    destination_type: String,
    #[serde(default)]
    routing_key: String,
    #[serde(default)]
    arguments: BTreeMap<String, Value>,
}

// ---------------------------------------------------------------- import

/// Exchanges every virtual host has without declaring them; definitions never list them.
const PREDECLARED: [(&str, ExchangeType); 6] = [
    ("amq.direct", ExchangeType::Direct),
    ("amq.fanout", ExchangeType::Fanout),
    ("amq.topic", ExchangeType::Topic),
    ("amq.headers", ExchangeType::Headers),
    ("amq.match", ExchangeType::Headers),
    ("amq.rabbitmq.trace", ExchangeType::Topic),
];

fn predeclared(name: &str) -> Option<ExchangeType> {
    PREDECLARED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
}

/// Reads a definitions file into a scenario holding its exchanges, queues and bindings, with
/// policies applied. Errors name the JSON path in the definitions file.
pub fn import_definitions(text: &str, options: &ImportOptions) -> Result<Imported, ScenarioError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !text.trim_start().starts_with('{') {
        return Err(ScenarioError::new(
            "",
            "expected a JSON object: the definitions export of RabbitMQ",
        ));
    }
    let defs: Definitions = crate::scenario::read_located(text, "definitions")?;

    let mut cx = Importer {
        notes: Vec::new(),
        approximate: options.approximate,
    };
    cx.note_ignored_sections(&defs);
    let vhost = choose_vhost(&defs, options.vhost.as_deref())?;
    let others: BTreeSet<&str> = entity_vhosts(&defs)
        .into_iter()
        .filter(|v| *v != vhost)
        .collect();
    if !others.is_empty() {
        cx.note(
            "vhosts",
            format!(
                "imported virtual host {vhost:?}; left out: {}",
                quoted_list(&others)
            ),
        );
    }
    let in_vhost = |v: &Option<String>| v.as_deref().is_none_or(|v| v == vhost);
    let default_type = cx.vhost_default_queue_type(&defs, &vhost)?;
    cx.note_version(&defs);
    cx.parameters(&defs, &in_vhost)?;
    for (i, p) in defs.operator_policies.iter().enumerate() {
        if p.get("vhost")
            .and_then(Value::as_str)
            .is_none_or(|v| v == vhost)
        {
            cx.unmodelled(
                &format!("operator_policies[{i}]"),
                "operator policies are not modelled",
            )?;
        }
    }

    let mut policies = Vec::new();
    for (i, p) in defs.policies.iter().enumerate() {
        if in_vhost(&p.vhost) {
            policies.push(Policy::new(format!("policies[{i}]"), p)?);
        }
    }

    let declared: BTreeMap<&str, ExchangeType> = defs
        .exchanges
        .iter()
        .filter(|x| in_vhost(&x.vhost))
        .filter_map(|x| exchange_type(&x.kind).map(|t| (x.name.as_str(), t)))
        .collect();
    let queue_names: BTreeSet<&str> = defs
        .queues
        .iter()
        .filter(|q| in_vhost(&q.vhost))
        .map(|q| q.name.as_str())
        .collect();
    let mut refs = References {
        declared: &declared,
        implicit: BTreeSet::new(),
        vhost: &vhost,
    };

    // Each entity with the path of its entry, to locate what `Scenario::validate` refuses.
    let mut exchanges = Vec::new();
    for (i, x) in defs.exchanges.iter().enumerate() {
        if in_vhost(&x.vhost) {
            let path = format!("exchanges[{i}]");
            let spec = cx.exchange(&path, x, &mut policies, &mut refs)?;
            if predeclared(&spec.name) == Some(spec.kind) {
                refs.implicit.insert(spec.name.clone());
            } else {
                exchanges.push((spec, path));
            }
        }
    }
    let mut queues = Vec::new();
    for (i, q) in defs.queues.iter().enumerate() {
        if in_vhost(&q.vhost) {
            let path = format!("queues[{i}]");
            let spec = cx.queue(&path, q, default_type, &mut policies, &mut refs)?;
            queues.push((spec, path));
        }
    }
    let mut bindings = Vec::new();
    for (i, b) in defs.bindings.iter().enumerate() {
        if in_vhost(&b.vhost) {
            let path = format!("bindings[{i}]");
            let spec = binding(&path, b, &queue_names, &mut refs)?;
            bindings.push((spec, path));
        }
    }
    for p in &policies {
        if !p.used {
            cx.note(&p.path, format!("policy {:?} matches nothing here", p.name));
        }
    }
    for name in &refs.implicit {
        let kind = predeclared(name).expect("only predeclared names are implicit");
        let spec = ExchangeSpec {
            name: name.clone(),
            kind,
            alternate_exchange: None,
        };
        exchanges.push((spec, "(predeclared)".into()));
    }

    // RabbitMQ writes entities in no particular order; sorted, equal topologies give equal scenarios.
    exchanges.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    queues.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    bindings.sort_by_key(|(b, _)| binding_order(b));
    let (exchanges, exchange_paths): (Vec<_>, Vec<_>) = exchanges.into_iter().unzip();
    let (queues, queue_paths): (Vec<_>, Vec<_>) = queues.into_iter().unzip();
    let (bindings, binding_paths): (Vec<_>, Vec<_>) = bindings.into_iter().unzip();
    // Every other field keeps the scenario format's default.
    let mut scenario: Scenario =
        crate::scenario::from_json(&json!({ "version": SCENARIO_VERSION }).to_string())
            .expect("the empty scenario parses");
    scenario.exchanges = exchanges;
    scenario.queues = queues;
    scenario.bindings = bindings;
    scenario.validate().map_err(|e| {
        locate(
            e,
            &[
                ("exchanges", &exchange_paths),
                ("queues", &queue_paths),
                ("bindings", &binding_paths),
            ],
        )
    })?;
    Ok(Imported {
        scenario,
        vhost,
        notes: cx.notes,
    })
}

/// Turns `queues[3].max_length: why` about the built scenario into the entry of the file it came
/// from: `queues[7]: max_length: why`.
fn locate(e: ScenarioError, lists: &[(&str, &Vec<String>)]) -> ScenarioError {
    for (list, paths) in lists {
        let Some(rest) = e.path.strip_prefix(list).and_then(|r| r.strip_prefix('[')) else {
            continue;
        };
        let Some((index, field)) = rest.split_once(']') else {
            continue;
        };
        if let Some(source) = index.parse::<usize>().ok().and_then(|i| paths.get(i)) {
            let field = field.trim_start_matches('.');
            let reason = if field.is_empty() {
                e.reason.clone()
            } else {
                format!("{field}: {}", e.reason)
            };
            return ScenarioError::new(source.clone(), reason);
        }
    }
    e
}

fn binding_order(b: &BindingSpec) -> (String, Option<String>, Option<String>, String, String) {
    (
        b.exchange.clone(),
        b.queue.clone(),
        b.to_exchange.clone(),
        b.routing_key.clone(),
        serde_json::to_string(&b.arguments).expect("JSON values serialise"),
    )
}

fn quoted_list(names: &BTreeSet<&str>) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Virtual hosts named by an exchange, queue, binding or policy.
fn entity_vhosts(defs: &Definitions) -> BTreeSet<&str> {
    let named = defs
        .exchanges
        .iter()
        .map(|x| &x.vhost)
        .chain(defs.queues.iter().map(|q| &q.vhost))
        .chain(defs.bindings.iter().map(|b| &b.vhost))
        .chain(defs.policies.iter().map(|p| &p.vhost));
    named.filter_map(|v| v.as_deref()).collect()
}

fn choose_vhost(defs: &Definitions, wanted: Option<&str>) -> Result<String, ScenarioError> {
    let used = entity_vhosts(defs);
    let declared: BTreeSet<&str> = defs.vhosts.iter().map(|v| v.name.as_str()).collect();
    if let Some(v) = wanted {
        if used.contains(v) || declared.contains(v) || used.is_empty() {
            return Ok(v.to_string());
        }
        let all: BTreeSet<&str> = used.union(&declared).copied().collect();
        return Err(ScenarioError::new(
            "vhosts",
            format!(
                "no virtual host {v:?} here; the file has {}",
                quoted_list(&all)
            ),
        ));
    }
    let not_default: Vec<&str> = used.iter().copied().filter(|v| *v != "/").collect();
    match (used.len(), not_default.as_slice()) {
        (1, _) => Ok(used.first().expect("one").to_string()),
        (0, _) if declared.len() == 1 => Ok(declared.first().expect("one").to_string()),
        (0, _) => Ok("/".into()),
        (_, [only]) => Ok(only.to_string()),
        _ => Err(ScenarioError::new(
            "vhosts",
            format!(
                "entities in several virtual hosts ({}): choose one (--vhost, or ImportOptions::vhost)",
                quoted_list(&used)
            ),
        )),
    }
}

fn exchange_type(kind: &str) -> Option<ExchangeType> {
    match kind {
        "direct" => Some(ExchangeType::Direct),
        "fanout" => Some(ExchangeType::Fanout),
        "topic" => Some(ExchangeType::Topic),
        "headers" => Some(ExchangeType::Headers),
        _ => None,
    }
}

/// Exchange names used by the entities, checked against those declared in the vhost.
struct References<'a> {
    declared: &'a BTreeMap<&'a str, ExchangeType>,
    /// Predeclared `amq.*` exchanges something refers to; they join the scenario.
    implicit: BTreeSet<String>,
    vhost: &'a str,
}

impl References<'_> {
    fn exchange(&mut self, path: &str, name: &str) -> Result<(), ScenarioError> {
        if self.declared.contains_key(name) {
            return Ok(());
        }
        if predeclared(name).is_some() {
            self.implicit.insert(name.to_string());
            return Ok(());
        }
        Err(ScenarioError::new(
            path,
            format!("no exchange {name:?} in virtual host {:?}", self.vhost),
        ))
    }
}

fn binding(
    path: &str,
    b: &BindingDef,
    queues: &BTreeSet<&str>,
    refs: &mut References,
) -> Result<BindingSpec, ScenarioError> {
    if b.source.is_empty() {
        return Err(ScenarioError::new(
            format!("{path}.source"),
            "the default exchange's bindings are implicit and cannot be declared",
        ));
    }
    refs.exchange(&format!("{path}.source"), &b.source)?;
    let (queue, to_exchange) = match b.destination_type.as_str() {
        "queue" => {
            if !queues.contains(b.destination.as_str()) {
                return Err(ScenarioError::new(
                    format!("{path}.destination"),
                    format!(
                        "no queue {:?} in virtual host {:?}",
                        b.destination, refs.vhost
                    ),
                ));
            }
            (Some(b.destination.clone()), None)
        }
        "exchange" => {
            refs.exchange(&format!("{path}.destination"), &b.destination)?;
            (None, Some(b.destination.clone()))
        }
        other => {
            return Err(ScenarioError::new(
                format!("{path}.destination_type"),
                format!("expected \"queue\" or \"exchange\", got {other:?}"),
            ))
        }
    };
    Ok(BindingSpec {
        exchange: b.source.clone(),
        queue,
        to_exchange,
        routing_key: b.routing_key.clone(),
        arguments: b.arguments.clone(),
    })
}

/// What a policy applies to (`apply-to`).
#[derive(Clone, Copy, PartialEq)]
enum ApplyTo {
    All,
    Exchanges,
    Queues,
    ClassicQueues,
    QuorumQueues,
    Streams,
}

/// The entity a policy is matched against.
#[derive(Clone, Copy)]
enum Target {
    Exchange,
    Queue(QueueType),
}

impl ApplyTo {
    fn covers(self, target: Target) -> bool {
        match (self, target) {
            (ApplyTo::All, _) | (ApplyTo::Exchanges, Target::Exchange) => true,
            (ApplyTo::Queues, Target::Queue(_)) => true,
            (ApplyTo::ClassicQueues, Target::Queue(t)) => t == QueueType::Classic,
            (ApplyTo::QuorumQueues, Target::Queue(t)) => t == QueueType::Quorum,
            _ => false,
        }
    }
}

struct Policy {
    path: String,
    name: String,
    pattern: Regex,
    apply_to: ApplyTo,
    priority: i64,
    definition: Map<String, Value>,
    used: bool,
}

impl Policy {
    fn new(path: String, p: &PolicyDef) -> Result<Policy, ScenarioError> {
        let apply_to = match p.apply_to.as_str() {
            "all" => ApplyTo::All,
            "exchanges" => ApplyTo::Exchanges,
            "queues" => ApplyTo::Queues,
            "classic_queues" => ApplyTo::ClassicQueues,
            "quorum_queues" => ApplyTo::QuorumQueues,
            "streams" => ApplyTo::Streams,
            other => {
                return Err(ScenarioError::new(
                    format!("{path}.apply-to"),
                    format!("unknown apply-to {other:?}"),
                ))
            }
        };
        // Erlang's `re` without the unicode option: bytes, ASCII classes, unanchored.
        let pattern = RegexBuilder::new(&p.pattern)
            .unicode(false)
            .build()
            .map_err(|e| {
                ScenarioError::new(
                    format!("{path}.pattern"),
                    format!("a pattern this importer cannot read: {e}"),
                )
            })?;
        Ok(Policy {
            path,
            name: p.name.clone(),
            pattern,
            apply_to,
            priority: p.priority,
            definition: p.definition.clone(),
            used: false,
        })
    }
}

/// The one policy RabbitMQ applies to an entity: the matching one with the highest priority
/// (https://www.rabbitmq.com/docs/policies#priorities).
fn winning_policy(
    policies: &mut [Policy],
    name: &str,
    target: Target,
    path: &str,
) -> Result<Option<usize>, ScenarioError> {
    let matching: Vec<usize> = (0..policies.len())
        .filter(|&i| {
            policies[i].apply_to.covers(target) && policies[i].pattern.is_match(name.as_bytes())
        })
        .collect();
    let Some(best) = matching.iter().map(|&i| policies[i].priority).max() else {
        return Ok(None);
    };
    let top: Vec<usize> = matching
        .into_iter()
        .filter(|&i| policies[i].priority == best)
        .collect();
    // Equal priorities leave the choice to chance; it matters only if the definitions differ.
    if let Some(&other) = top
        .iter()
        .find(|&&i| policies[i].definition != policies[top[0]].definition)
    {
        return Err(ScenarioError::new(
            path,
            format!(
                "policies {:?} and {:?} both match with priority {best}, and RabbitMQ picks either: give them different priorities",
                policies[top[0]].name, policies[other].name
            ),
        ));
    }
    policies[top[0]].used = true;
    Ok(Some(top[0]))
}

/// How a key set both by a queue argument and by a policy is resolved. RabbitMQ 4.3's
/// `rabbit_amqqueue_process:process_args_policy` (classic) and
/// `rabbit_quorum_queue:gather_policy_config` (quorum): limits and TTLs take the lower value
/// (https://www.rabbitmq.com/docs/maxlength, RMQ-22), the dead-letter settings and a
/// classic queue's overflow take the argument, a quorum queue's overflow takes the policy
/// (https://www.rabbitmq.com/docs/policies#operator-policy-conflicts), and a delivery limit takes
/// the lower one unless either is negative (off), then the higher.
#[derive(Clone, Copy)]
enum Merge {
    Lower,
    Argument,
    Policy,
    DeliveryLimit,
}

fn policy_merge(key: &str, kind: QueueType) -> Merge {
    match key {
        "overflow" if kind == QueueType::Quorum => Merge::Policy,
        "overflow" | "dead-letter-exchange" | "dead-letter-routing-key" => Merge::Argument,
        "delivery-limit" => Merge::DeliveryLimit,
        _ => Merge::Lower,
    }
}

/// A value found in the file, with its path.
struct Found<'a> {
    value: &'a Value,
    path: String,
}

/// A text setting, where it was found, and whether a policy set it.
struct Text<'a> {
    text: &'a str,
    path: String,
    from_policy: bool,
}

impl Found<'_> {
    fn int(&self, min: i64) -> Result<i64, ScenarioError> {
        match self.value.as_i64() {
            Some(n) if n >= min => Ok(n),
            _ if min == i64::MIN => Err(ScenarioError::new(
                &self.path,
                format!("expected a whole number, got {}", self.value),
            )),
            _ => Err(ScenarioError::new(
                &self.path,
                format!(
                    "expected a whole number of at least {min}, got {}",
                    self.value
                ),
            )),
        }
    }

    fn text(&self) -> Result<&str, ScenarioError> {
        self.value.as_str().ok_or_else(|| {
            ScenarioError::new(&self.path, format!("expected a string, got {}", self.value))
        })
    }
}

/// Queue keys the scenario holds (as `x-` arguments, or bare in policies).
const QUEUE_KEYS: [&str; 9] = [
    "max-length",
    "max-length-bytes",
    "overflow",
    "message-ttl",
    "expires",
    "dead-letter-exchange",
    "dead-letter-routing-key",
    "delivery-limit",
    "consumer-timeout",
];

/// Keys that change nothing on one simulated node: storage, placement, replication, memory.
const NO_EFFECT_KEYS: [&str; 16] = [
    "queue-mode",
    "queue-version",
    "queue-master-locator",
    "queue-leader-locator",
    "quorum-initial-group-size",
    "quorum-target-group-size",
    "target-group-size",
    "initial-cluster-size",
    "max-in-memory-length",
    "max-in-memory-bytes",
    "ha-mode",
    "ha-params",
    "ha-sync-mode",
    "ha-sync-batch-size",
    "ha-promote-on-shutdown",
    "ha-promote-on-failure",
];

/// Stream-only keys: a classic or quorum queue ignores them.
const STREAM_KEYS: [&str; 3] = [
    "max-age",
    "stream-max-segment-size-bytes",
    "stream-filter-size-bytes",
];

struct Importer {
    /// In the order met, each once.
    notes: Vec<Note>,
    approximate: bool,
}

impl Importer {
    fn note(&mut self, path: &str, text: impl Into<String>) {
        let note = Note {
            path: path.to_string(),
            text: text.into(),
        };
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    /// A feature a real broker acts on and Broker Lab does not model: an error, or a note when
    /// approximating.
    fn unmodelled(&mut self, path: &str, what: &str) -> Result<(), ScenarioError> {
        if self.approximate {
            self.note(path, format!("left out (approximated): {what}"));
            Ok(())
        } else {
            Err(ScenarioError::new(
                path,
                format!("{what}; import with --approximate (ImportOptions::approximate) to leave it out"),
            ))
        }
    }

    fn note_ignored_sections(&mut self, defs: &Definitions) {
        for (section, count) in [
            ("users", defs.users.len()),
            ("permissions", defs.permissions.len()),
            ("topic_permissions", defs.topic_permissions.len()),
            ("global_parameters", defs.global_parameters.len()),
        ] {
            if count > 0 {
                self.note(
                    section,
                    format!("{count} ignored: access control and cluster settings change nothing in a simulation"),
                );
            }
        }
    }

    fn note_version(&mut self, defs: &Definitions) {
        let version = defs
            .rabbitmq_version
            .as_ref()
            .or(defs.rabbit_version.as_ref());
        if let Some(v) = version {
            if v != "4.3" && !v.starts_with("4.3.") {
                let path = if defs.rabbitmq_version.is_some() {
                    "rabbitmq_version"
                } else {
                    "rabbit_version"
                };
                self.note(
                    path,
                    format!(
                        "written by RabbitMQ {v}; the scenario runs the 4.3 rules (a quorum queue without a delivery limit gets 20, quorum queues have priorities)"
                    ),
                );
            }
        }
    }

    /// The vhost's default queue type (3.11+): the type of a queue declared without one. Its
    /// other settings (limits, description, tags) are left out with a note.
    fn vhost_default_queue_type(
        &mut self,
        defs: &Definitions,
        vhost: &str,
    ) -> Result<QueueType, ScenarioError> {
        let Some((i, v)) = defs
            .vhosts
            .iter()
            .enumerate()
            .find(|(_, v)| v.name == vhost)
        else {
            return Ok(QueueType::Classic);
        };
        let empty = |x: &Value| x.is_null() || x == &json!([]) || x == &json!({}) || x == "";
        let ignored: Vec<&str> = v
            .rest
            .iter()
            .filter(|(key, value)| *key != "default_queue_type" && !empty(value))
            .map(|(key, _)| key.as_str())
            .collect();
        if !ignored.is_empty() {
            self.note(
                &format!("vhosts[{i}]"),
                format!(
                    "{} ignored: limits and descriptions change nothing in a simulation",
                    ignored.join(", ")
                ),
            );
        }
        let from_metadata = v
            .rest
            .get("metadata")
            .and_then(|m| m.get("default_queue_type"));
        let default_type = v.rest.get("default_queue_type").or(from_metadata);
        match default_type.and_then(Value::as_str) {
            None | Some("classic") | Some("undefined") => Ok(QueueType::Classic),
            Some("quorum") => Ok(QueueType::Quorum),
            Some(other) => Err(ScenarioError::new(
                format!("vhosts[{i}].default_queue_type"),
                format!("queue type {other:?} is not modelled (classic and quorum are)"),
            )),
        }
    }

    fn parameters(
        &mut self,
        defs: &Definitions,
        in_vhost: &dyn Fn(&Option<String>) -> bool,
    ) -> Result<(), ScenarioError> {
        for (i, p) in defs.parameters.iter().enumerate() {
            if !in_vhost(&p.vhost) {
                continue;
            }
            let path = format!("parameters[{i}]");
            if p.component == "vhost-limits" {
                self.note(
                    &path,
                    "virtual host limits ignored: connection and queue counts are not limited",
                );
            } else {
                self.unmodelled(
                    &path,
                    &format!(
                        "runtime parameter {:?} of {:?} (federation, shovels...) is not modelled",
                        p.name, p.component
                    ),
                )?;
            }
        }
        Ok(())
    }

    /// Checks one key of the policy that applies to `target`; true if the scenario takes it.
    fn policy_key(
        &mut self,
        policy: &Policy,
        key: &str,
        target: Target,
    ) -> Result<bool, ScenarioError> {
        let path = format!("{}.definition.{key}", policy.path);
        let value = &policy.definition[key];
        match (key, target) {
            ("alternate-exchange", Target::Exchange) => Ok(true),
            ("alternate-exchange", Target::Queue(_)) => Ok(false),
            (k, Target::Exchange) if QUEUE_KEYS.contains(&k) => Ok(false),
            ("dead-letter-strategy", Target::Exchange) => Ok(false),
            ("delivery-limit", Target::Queue(QueueType::Classic)) => {
                self.note(&path, CLASSIC_DELIVERY_LIMIT);
                Ok(false)
            }
            ("consumer-timeout", Target::Queue(QueueType::Classic)) => {
                self.note(&path, CLASSIC_TIMEOUT);
                Ok(false)
            }
            (k, Target::Queue(_)) if QUEUE_KEYS.contains(&k) => Ok(true),
            ("dead-letter-strategy", Target::Queue(kind)) => {
                self.dead_letter_strategy(&path, value, kind)?;
                Ok(false)
            }
            (k, _) if NO_EFFECT_KEYS.contains(&k) => {
                self.note(&path, NO_EFFECT);
                Ok(false)
            }
            (k, _) if STREAM_KEYS.contains(&k) => {
                self.note(&path, "applies to streams only; ignored");
                Ok(false)
            }
            ("federation-upstream" | "federation-upstream-set", _) => {
                self.unmodelled(&path, "federation is not modelled")?;
                Ok(false)
            }
            _ => Err(ScenarioError::new(
                path,
                format!("unknown policy key {key:?}"),
            )),
        }
    }

    fn dead_letter_strategy(
        &mut self,
        path: &str,
        value: &Value,
        kind: QueueType,
    ) -> Result<(), ScenarioError> {
        if value == "at-least-once" && kind == QueueType::Quorum {
            self.unmodelled(path, "at-least-once dead-lettering is not modelled")
        } else {
            self.note(
                path,
                "at-most-once dead-lettering, as modelled; nothing to import",
            );
            Ok(())
        }
    }

    fn exchange(
        &mut self,
        path: &str,
        x: &ExchangeDef,
        policies: &mut [Policy],
        refs: &mut References,
    ) -> Result<ExchangeSpec, ScenarioError> {
        if x.name.is_empty() {
            return Err(ScenarioError::new(
                format!("{path}.name"),
                "the default exchange \"\" is predeclared and cannot be declared",
            ));
        }
        let kind = exchange_type(&x.kind).ok_or_else(|| {
            ScenarioError::new(
                format!("{path}.type"),
                format!(
                    "exchange type {:?} is not modelled (direct, fanout, topic and headers are)",
                    x.kind
                ),
            )
        })?;
        if let Some(expected) = predeclared(&x.name) {
            if expected != kind {
                return Err(ScenarioError::new(
                    format!("{path}.type"),
                    format!("{:?} is predeclared as a {expected:?} exchange", x.name),
                ));
            }
        }
        for (flag, set, what) in [
            (
                "durable",
                !x.durable,
                "transient: durability matters only when a broker restarts, which is not simulated; exported as durable",
            ),
            (
                "auto_delete",
                x.auto_delete,
                "auto-delete (the exchange goes with its last binding) is not modelled; it stays",
            ),
            (
                "internal",
                x.internal,
                "internal (clients may not publish to it) is not modelled",
            ),
        ] {
            if set {
                self.note(&format!("{path}.{flag}"), what);
            }
        }
        let mut alternate = None;
        for (key, value) in &x.arguments {
            let found = Found {
                value,
                path: format!("{path}.arguments.{key}"),
            };
            if key != "alternate-exchange" {
                return Err(ScenarioError::new(
                    found.path,
                    format!("unknown exchange argument {key:?}"),
                ));
            }
            alternate = Some(found);
        }
        // The argument wins over a policy (`rabbit_policy:get_arg`; https://www.rabbitmq.com/docs/ae).
        if let Some(p) = winning_policy(policies, &x.name, Target::Exchange, path)? {
            let policy = &policies[p];
            for key in policy.definition.keys() {
                if self.policy_key(policy, key, Target::Exchange)? && alternate.is_none() {
                    alternate = Some(Found {
                        value: &policy.definition[key],
                        path: format!("{}.definition.{key}", policy.path),
                    });
                }
            }
        }
        let alternate_exchange = match alternate {
            Some(found) => {
                let name = found.text()?.to_string();
                refs.exchange(&found.path, &name)?;
                Some(name)
            }
            None => None,
        };
        Ok(ExchangeSpec {
            name: x.name.clone(),
            kind,
            alternate_exchange,
        })
    }

    fn queue(
        &mut self,
        path: &str,
        q: &QueueDef,
        default_type: QueueType,
        policies: &mut [Policy],
        refs: &mut References,
    ) -> Result<QueueSpec, ScenarioError> {
        let kind = queue_type(path, q, default_type)?;
        if !q.durable && !q.exclusive {
            self.note(
                &format!("{path}.durable"),
                "transient: RabbitMQ 4.3 refuses a non-exclusive transient queue (RMQ-32); imported as durable",
            );
        }
        let mut max_priority = None;
        let mut from_arguments: BTreeMap<&str, Found> = BTreeMap::new();
        for (key, value) in &q.arguments {
            let found = Found {
                value,
                path: format!("{path}.arguments.{key}"),
            };
            let bare = key.strip_prefix("x-").unwrap_or("");
            match bare {
                "queue-type" => {}
                "max-priority" => max_priority = Some(found.int(0)?),
                "consumer-timeout" if kind == QueueType::Classic => {
                    self.note(&found.path, CLASSIC_TIMEOUT)
                }
                "delivery-limit" if kind == QueueType::Classic => {
                    self.note(&found.path, CLASSIC_DELIVERY_LIMIT)
                }
                k if QUEUE_KEYS.contains(&k) => {
                    from_arguments.insert(k, found);
                }
                k if NO_EFFECT_KEYS.contains(&k) => self.note(&found.path, NO_EFFECT),
                "single-active-consumer" if value == &Value::Bool(false) => {}
                "single-active-consumer" => self.unmodelled(
                    &found.path,
                    "single active consumer is not modelled: every consumer would get messages",
                )?,
                "dead-letter-strategy" => {
                    self.dead_letter_strategy(&found.path, value, kind)?;
                }
                _ => {
                    return Err(ScenarioError::new(
                        found.path,
                        format!("unknown queue argument {key:?}"),
                    ))
                }
            }
        }
        let mut from_policy: BTreeMap<&str, Found> = BTreeMap::new();
        if let Some(p) = winning_policy(policies, &q.name, Target::Queue(kind), path)? {
            let policy = &policies[p];
            for (key, value) in &policy.definition {
                if self.policy_key(policy, key, Target::Queue(kind))? {
                    let path = format!("{}.definition.{key}", policy.path);
                    from_policy.insert(key.as_str(), Found { value, path });
                }
            }
        }
        let settings = Settings {
            arguments: from_arguments,
            policy: from_policy,
            kind,
        };
        let overflow = match settings.text("overflow")? {
            None => Overflow::DropHead,
            Some(t) => match t.text {
                "drop-head" => Overflow::DropHead,
                "reject-publish" => Overflow::RejectPublish,
                // A quorum queue given this by a policy logs a warning and keeps drop-head
                // (`rabbit_quorum_queue:overflow/3`); as an argument the declaration is refused.
                "reject-publish-dlx" if kind == QueueType::Quorum && t.from_policy => {
                    self.note(
                        &t.path,
                        "quorum queues do not support reject-publish-dlx: RabbitMQ keeps drop-head",
                    );
                    Overflow::DropHead
                }
                "reject-publish-dlx" => Overflow::RejectPublishDlx,
                other => {
                    return Err(ScenarioError::new(
                        t.path,
                        format!("unknown overflow {other:?} (drop-head, reject-publish, reject-publish-dlx)"),
                    ))
                }
            },
        };
        let dead_letter_exchange = match settings.text("dead-letter-exchange")? {
            Some(t) => {
                // "" is the default exchange.
                if !t.text.is_empty() {
                    refs.exchange(&t.path, t.text)?;
                }
                Some(t.text.to_string())
            }
            None => None,
        };
        Ok(QueueSpec {
            name: q.name.clone(),
            kind,
            max_priority: max_priority.map(clamp_u32),
            max_length: settings.int("max-length", 0)?.map(|n| n as u64),
            max_length_bytes: settings.int("max-length-bytes", 0)?.map(|n| n as u64),
            overflow,
            message_ttl_ms: settings.int("message-ttl", 0)?.map(|n| n as f64),
            dead_letter_exchange,
            dead_letter_routing_key: settings
                .text("dead-letter-routing-key")?
                .map(|t| t.text.to_string()),
            delivery_limit: settings.int("delivery-limit", i64::MIN)?,
            consumer_timeout_ms: settings.int("consumer-timeout", 0)?.map(|n| n as f64),
            expires_ms: settings.int("expires", 1)?.map(|n| n as f64),
            durable: (q.exclusive && !q.durable).then_some(false),
            exclusive: q.exclusive,
            auto_delete: q.auto_delete,
        })
    }
}

const NO_EFFECT: &str =
    "storage, placement or replication only: no effect in the simulation; ignored";
const CLASSIC_DELIVERY_LIMIT: &str = "classic queues have no delivery limit; ignored";
const CLASSIC_TIMEOUT: &str =
    "in RabbitMQ 4.3 classic queues do not enforce the consumer timeout (RMQ-16); ignored";

fn clamp_u32(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn queue_type(
    path: &str,
    q: &QueueDef,
    default_type: QueueType,
) -> Result<QueueType, ScenarioError> {
    let parse = |at: String, t: &str| match t {
        "classic" => Ok(QueueType::Classic),
        "quorum" => Ok(QueueType::Quorum),
        other => Err(ScenarioError::new(
            at,
            format!("queue type {other:?} is not modelled (classic and quorum are)"),
        )),
    };
    let argument = match q.arguments.get("x-queue-type") {
        Some(v) => {
            let found = Found {
                value: v,
                path: format!("{path}.arguments.x-queue-type"),
            };
            Some(parse(found.path.clone(), found.text()?)?)
        }
        None => None,
    };
    let field = match &q.kind {
        Some(t) => Some(parse(format!("{path}.type"), t)?),
        None => None,
    };
    match (argument, field) {
        (Some(a), Some(f)) if a != f => Err(ScenarioError::new(
            format!("{path}.type"),
            "disagrees with arguments.x-queue-type",
        )),
        (a, f) => Ok(a.or(f).unwrap_or(default_type)),
    }
}

/// One queue's keys from its arguments and from its policy, merged by `policy_merge`.
struct Settings<'a> {
    arguments: BTreeMap<&'a str, Found<'a>>,
    policy: BTreeMap<&'a str, Found<'a>>,
    kind: QueueType,
}

impl Settings<'_> {
    fn int(&self, key: &str, min: i64) -> Result<Option<i64>, ScenarioError> {
        let arg = self.arguments.get(key).map(|f| f.int(min)).transpose()?;
        let pol = self.policy.get(key).map(|f| f.int(min)).transpose()?;
        Ok(match (arg, pol) {
            (Some(a), Some(p)) => Some(match policy_merge(key, self.kind) {
                Merge::Lower => a.min(p),
                Merge::Argument => a,
                Merge::Policy => p,
                Merge::DeliveryLimit if a < 0 || p < 0 => a.max(p),
                Merge::DeliveryLimit => a.min(p),
            }),
            (a, p) => a.or(p),
        })
    }

    fn text(&self, key: &str) -> Result<Option<Text<'_>>, ScenarioError> {
        let arg = self.arguments.get(key);
        let pol = self.policy.get(key);
        let (chosen, from_policy) = match (arg, pol) {
            (Some(a), Some(p)) => match policy_merge(key, self.kind) {
                Merge::Policy => (p, true),
                _ => (a, false),
            },
            (Some(a), None) => (a, false),
            (None, Some(p)) => (p, true),
            (None, None) => return Ok(None),
        };
        Ok(Some(Text {
            text: chosen.text()?,
            path: chosen.path.clone(),
            from_policy,
        }))
    }
}

// ---------------------------------------------------------------- export

/// The password hash RabbitMQ stores for the password `guest`: base64 of a 4-byte salt and
/// SHA-256(salt ++ "guest") (`rabbit_password_hashing_sha256`). Computed with
/// `python3 -c "import hashlib,base64;s=b'BLab';print(base64.b64encode(s+hashlib.sha256(s+b'guest').digest()).decode())"`.
const GUEST_PASSWORD_HASH: &str = "QkxhYgp2ab4ENlLEG31ppZ+xwPa8mD1l9m6iQ5nXfILnT/3/";

/// The scenario's exchanges, queues and bindings as a definitions file for `vhost`, in the
/// format `rabbitmqctl export_definitions` writes (keys in alphabetical order). A broker loading
/// it at boot creates no default user, so it also holds the user `guest` (password `guest`) with
/// full permissions on `vhost`. Producers, consumers and the script are not part of definitions.
pub fn export_definitions(s: &Scenario, vhost: &str) -> Result<String, ScenarioError> {
    let mut exchanges = Vec::new();
    for (i, x) in s.exchanges.iter().enumerate() {
        match predeclared(&x.name) {
            Some(kind) if kind == x.kind => continue,
            _ if x.name.starts_with("amq.") => {
                return Err(ScenarioError::new(
                    format!("exchanges[{i}].name"),
                    "names starting with \"amq.\" are reserved: RabbitMQ refuses to declare them",
                ))
            }
            _ => {}
        }
        let mut arguments = Map::new();
        if let Some(ae) = &x.alternate_exchange {
            arguments.insert("alternate-exchange".into(), json!(ae));
        }
        exchanges.push(json!({
            "name": x.name,
            "vhost": vhost,
            "type": x.kind,
            "durable": true,
            "auto_delete": false,
            "internal": false,
            "arguments": arguments,
        }));
    }
    let mut queues = Vec::new();
    for (i, q) in s.queues.iter().enumerate() {
        let mut def = json!({
            "name": q.name,
            "vhost": vhost,
            "durable": q.durable != Some(false),
            "auto_delete": q.auto_delete,
            "arguments": queue_arguments(&format!("queues[{i}]"), q)?,
        });
        if q.exclusive {
            def["exclusive"] = json!(true);
        }
        queues.push(def);
    }
    let bindings: Vec<Value> = s
        .bindings
        .iter()
        .map(|b| {
            let (destination, kind) = match (&b.queue, &b.to_exchange) {
                (Some(q), _) => (q, "queue"),
                (None, Some(x)) => (x, "exchange"),
                (None, None) => unreachable!("a validated binding has a destination"),
            };
            json!({
                "source": b.exchange,
                "vhost": vhost,
                "destination": destination,
                "destination_type": kind,
                "routing_key": b.routing_key,
                "arguments": b.arguments,
            })
        })
        .collect();
    let version = match s.rabbitmq_version {
        RabbitMqVersion::V4_3 => "4.3.0",
    };
    let definitions = json!({
        "rabbit_version": version,
        "rabbitmq_version": version,
        "users": [{
            "name": "guest",
            "password_hash": GUEST_PASSWORD_HASH,
            "hashing_algorithm": "rabbit_password_hashing_sha256",
            "tags": ["administrator"],
            "limits": {},
        }],
        "vhosts": [{ "name": vhost }],
        "permissions": [{
            "user": "guest",
            "vhost": vhost,
            "configure": ".*",
            "write": ".*",
            "read": ".*",
        }],
        "topic_permissions": [],
        "parameters": [],
        "global_parameters": [],
        "policies": [],
        "queues": queues,
        "exchanges": exchanges,
        "bindings": bindings,
    });
    Ok(serde_json::to_string_pretty(&definitions).expect("JSON values serialise") + "\n")
}

/// A queue's settings as the `x-` arguments of its declaration. The type is always written: a
/// vhost whose default queue type is quorum would otherwise turn a classic queue into one.
fn queue_arguments(path: &str, q: &QueueSpec) -> Result<Map<String, Value>, ScenarioError> {
    let mut args = Map::new();
    args.insert("x-queue-type".into(), json!(q.kind));
    let mut put = |key: &str, value: Value| {
        args.insert(key.into(), value);
    };
    if let Some(p) = q.max_priority {
        put("x-max-priority", json!(p));
    }
    if let Some(n) = q.max_length {
        put("x-max-length", json!(n));
    }
    if let Some(n) = q.max_length_bytes {
        put("x-max-length-bytes", json!(n));
    }
    if q.overflow != Overflow::DropHead {
        put("x-overflow", json!(q.overflow));
    }
    if let Some(ms) = q.message_ttl_ms {
        put(
            "x-message-ttl",
            json!(whole_ms(&format!("{path}.message_ttl_ms"), ms)?),
        );
    }
    if let Some(x) = &q.dead_letter_exchange {
        put("x-dead-letter-exchange", json!(x));
    }
    if let Some(k) = &q.dead_letter_routing_key {
        put("x-dead-letter-routing-key", json!(k));
    }
    if let Some(n) = q.delivery_limit {
        put("x-delivery-limit", json!(n));
    }
    if let Some(ms) = q.consumer_timeout_ms {
        put(
            "x-consumer-timeout",
            json!(whole_ms(&format!("{path}.consumer_timeout_ms"), ms)?),
        );
    }
    if let Some(ms) = q.expires_ms {
        put(
            "x-expires",
            json!(whole_ms(&format!("{path}.expires_ms"), ms)?),
        );
    }
    Ok(args)
}
