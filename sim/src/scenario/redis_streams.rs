//! Redis Streams in the scenario: streams, their caps and groups, how a consumer reads them,
//! and the checks (RST-1..RST-9 in `reference/semantics.md`; names as in the Redis commands).

use super::{check_ms, ScenarioError};
use crate::ids::EntryId;
use serde::{Deserialize, Serialize};

/// `stream-node-max-entries` and `stream-node-max-bytes` in `redis.conf` (RST-2).
pub const NODE_MAX_ENTRIES: u32 = 100;
pub const NODE_MAX_BYTES: u32 = 4096;
/// `XAUTOCLAIM`'s default `COUNT` (RST-8).
pub const AUTOCLAIM_COUNT: u32 = 100;

/// A stream key, created before any `XADD` (as `XGROUP CREATE … MKSTREAM` would).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamSpec {
    pub key: String,
    /// `XADD … MAXLEN [=|~] n` on every append; absent: the stream grows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maxlen: Option<MaxLen>,
    #[serde(default = "default_node_entries")]
    pub node_max_entries: u32,
    #[serde(default = "default_node_bytes")]
    pub node_max_bytes: u32,
    /// How far the replica lags: what a failover loses (RST-9).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub replication_lag_ms: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<StreamGroupSpec>,
}

/// A length cap: exact (`=`) or approximate (`~`, whole nodes only).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaxLen {
    pub count: u64,
    #[serde(default)]
    pub approx: bool,
}

/// `XGROUP CREATE key name start`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamGroupSpec {
    pub name: String,
    /// `$` (only new entries), `0` (the whole history) or an entry id.
    #[serde(default = "dollar")]
    pub start: String,
}

/// Where a group consumer starts when it (re)connects (RST-6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnStart {
    /// Reads its own pending entries with id `0` first, then switches to `>`.
    #[default]
    PendingFirst,
    /// Goes straight to `>`: its pending entries wait for a claim.
    NewOnly,
}

/// Where an `XREAD` reader resumes after a restart (RST-3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resume {
    /// After the last id it received.
    #[default]
    LastId,
    /// From its `from` again: with `$` it skips what was added meanwhile.
    From,
}

/// The consumer's own periodic `XAUTOCLAIM` (RST-8).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoClaimSpec {
    pub every_ms: f64,
    pub min_idle_ms: f64,
    #[serde(default = "default_autoclaim_count")]
    pub count: u32,
}

/// How a consumer calls `XREADGROUP` or `XREAD`; defaults when absent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamReadSpec {
    /// `COUNT`.
    #[serde(default = "default_count")]
    pub count: u32,
    /// `BLOCK ms`; absent is `BLOCK 0`, which waits for ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_ms: Option<f64>,
    /// `NOACK`: nothing goes into the PEL (RST-5).
    #[serde(default, skip_serializing_if = "is_false")]
    pub noack: bool,
    #[serde(default, skip_serializing_if = "is_default")]
    pub on_start: OnStart,
    #[serde(default, skip_serializing_if = "is_default")]
    pub resume: Resume,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<AutoClaimSpec>,
}

impl Default for StreamReadSpec {
    fn default() -> Self {
        StreamReadSpec {
            count: default_count(),
            block_ms: None,
            noack: false,
            on_start: OnStart::default(),
            resume: Resume::default(),
            claim: None,
        }
    }
}

fn is_default<T: Default + PartialEq>(t: &T) -> bool {
    *t == T::default()
}
fn is_false(b: &bool) -> bool {
    !b
}
fn is_zero(x: &f64) -> bool {
    *x == 0.0
}
fn dollar() -> String {
    "$".into()
}
fn default_node_entries() -> u32 {
    NODE_MAX_ENTRIES
}
fn default_node_bytes() -> u32 {
    NODE_MAX_BYTES
}
fn default_count() -> u32 {
    10
}
fn default_autoclaim_count() -> u32 {
    AUTOCLAIM_COUNT
}

/// An id argument: an entry id, or `0`.
pub fn check_id(path: &str, id: &str) -> Result<EntryId, ScenarioError> {
    EntryId::parse(id).ok_or_else(|| {
        ScenarioError::new(
            path,
            format!("{id:?} is not a stream id (`ms-seq` or `ms`)"),
        )
    })
}

/// A group's or reader's start: `$`, or an id.
pub fn check_start(path: &str, start: &str) -> Result<(), ScenarioError> {
    if start == "$" {
        return Ok(());
    }
    check_id(path, start).map(|_| ())
}

pub fn validate_stream(path: &str, s: &StreamSpec) -> Result<(), ScenarioError> {
    super::check_len(&format!("{path}.key"), &s.key, super::limits::MAX_NAME_LEN)?;
    if s.key.is_empty() {
        return Err(ScenarioError::new(
            format!("{path}.key"),
            "must not be empty",
        ));
    }
    if s.node_max_entries == 0 || s.node_max_bytes == 0 {
        return Err(ScenarioError::new(
            format!("{path}.node_max_entries"),
            "node sizes are at least 1",
        ));
    }
    check_ms(&format!("{path}.replication_lag_ms"), s.replication_lag_ms)?;
    let mut names = std::collections::BTreeSet::new();
    for (i, g) in s.groups.iter().enumerate() {
        let gpath = format!("{path}.groups[{i}]");
        validate_group(&gpath, g)?;
        if !names.insert(&g.name) {
            return Err(ScenarioError::new(
                format!("{gpath}.name"),
                format!("BUSYGROUP: {:?} exists on this stream", g.name),
            ));
        }
    }
    Ok(())
}

pub fn validate_group(path: &str, g: &StreamGroupSpec) -> Result<(), ScenarioError> {
    super::check_len(
        &format!("{path}.name"),
        &g.name,
        super::limits::MAX_NAME_LEN,
    )?;
    check_start(&format!("{path}.start"), &g.start)
}

pub fn validate_read(path: &str, r: &StreamReadSpec, group: bool) -> Result<(), ScenarioError> {
    if r.count == 0 {
        return Err(ScenarioError::new(format!("{path}.count"), "at least 1"));
    }
    if let Some(b) = r.block_ms {
        check_ms(&format!("{path}.block_ms"), b)?;
    }
    if let Some(c) = &r.claim {
        if !group {
            return Err(ScenarioError::new(
                format!("{path}.claim"),
                "XAUTOCLAIM needs a group consumer",
            ));
        }
        if r.noack {
            return Err(ScenarioError::new(
                format!("{path}.claim"),
                "a NOACK reader has no pending entries to claim",
            ));
        }
        check_ms(&format!("{path}.claim.every_ms"), c.every_ms)?;
        check_ms(&format!("{path}.claim.min_idle_ms"), c.min_idle_ms)?;
        if c.every_ms < 1.0 || c.count == 0 {
            return Err(ScenarioError::new(
                format!("{path}.claim"),
                "`every_ms` is at least 1 and `count` at least 1",
            ));
        }
    }
    Ok(())
}
