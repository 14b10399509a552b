//! ZeroMQ's part of the scenario (ZMQ-1…ZMQ-9): processes (peers) and their sockets. There is
//! no broker: a socket binds or connects endpoints, and each connection has a pipe inside each
//! of the two processes. Defaults are libzmq's (`zmq_setsockopt`).

use super::{check_len, check_ms, limits, ConsumerSource, ProducerSpec, PublishTarget};
use super::{ConsumerSpec, ScenarioError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The top-level `"zeromq"` object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZeroMqSpec {
    /// TCP connect plus the ZMTP greeting, a model value; `None` = 3 × `latency_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handshake_ms: Option<f64>,
    #[serde(default)]
    pub peers: Vec<ZmqPeerSpec>,
}

/// One process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZmqPeerSpec {
    pub name: String,
    #[serde(default)]
    pub sockets: Vec<ZmqSocketSpec>,
    /// Not started yet: `restart_peer` starts it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub stopped: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A socket type; DEALER/ROUTER are not modelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SocketType {
    Push,
    Pull,
    Pub,
    Sub,
    Req,
    Rep,
}

impl SocketType {
    /// The type a connection's other end must have ([ZS] "Compatible peer sockets").
    pub fn peer(self) -> SocketType {
        match self {
            SocketType::Push => SocketType::Pull,
            SocketType::Pull => SocketType::Push,
            SocketType::Pub => SocketType::Sub,
            SocketType::Sub => SocketType::Pub,
            SocketType::Req => SocketType::Rep,
            SocketType::Rep => SocketType::Req,
        }
    }

    /// Whether messages flow from this end (requests flow from REQ to REP).
    pub fn sends(self) -> bool {
        matches!(self, SocketType::Push | SocketType::Pub | SocketType::Req)
    }
}

/// One socket; unset options have libzmq's defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZmqSocketSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: SocketType,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bind: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connect: Vec<String>,
    /// `ZMQ_SNDHWM`, messages per pipe; 0 = unlimited.
    #[serde(default = "d_hwm")]
    pub sndhwm: u32,
    /// `ZMQ_RCVHWM`, messages per pipe; 0 = unlimited.
    #[serde(default = "d_hwm")]
    pub rcvhwm: u32,
    /// `ZMQ_LINGER`: how long a closing process keeps sending what its pipes hold; −1 = until
    /// sent.
    #[serde(default = "d_linger")]
    pub linger_ms: f64,
    /// `ZMQ_IMMEDIATE`: queue only to completed connections.
    #[serde(default, skip_serializing_if = "is_false")]
    pub immediate: bool,
    /// `ZMQ_RECONNECT_IVL`; a retry waits this plus a random part of it.
    #[serde(default = "d_reconnect")]
    pub reconnect_ivl_ms: f64,
    /// `ZMQ_SUBSCRIBE` prefixes (SUB only); none = receive nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscribe: Vec<String>,
    /// The application's sends use `ZMQ_DONTWAIT`: `EAGAIN` instead of blocking (PUSH, REQ).
    #[serde(default, skip_serializing_if = "is_false")]
    pub dontwait: bool,
}

fn d_hwm() -> u32 {
    1000
}
fn d_linger() -> f64 {
    -1.0
}
fn d_reconnect() -> f64 {
    100.0
}

impl ZmqSocketSpec {
    /// A socket with default options.
    pub fn new(name: &str, kind: SocketType) -> ZmqSocketSpec {
        ZmqSocketSpec {
            name: name.into(),
            kind,
            bind: Vec::new(),
            connect: Vec::new(),
            sndhwm: d_hwm(),
            rcvhwm: d_hwm(),
            linger_ms: d_linger(),
            immediate: false,
            reconnect_ivl_ms: d_reconnect(),
            subscribe: Vec::new(),
            dontwait: false,
        }
    }
}

/// `peer/socket` split in two.
pub fn split_address(address: &str) -> Option<(&str, &str)> {
    address.split_once('/')
}

impl ZeroMqSpec {
    /// The socket an address `peer/socket` names.
    pub fn socket(&self, address: &str) -> Option<&ZmqSocketSpec> {
        let (peer, socket) = split_address(address)?;
        let p = self.peers.iter().find(|p| p.name == peer)?;
        p.sockets.iter().find(|s| s.name == socket)
    }

    pub(crate) fn validate(&self) -> Result<(), ScenarioError> {
        if let Some(ms) = self.handshake_ms {
            check_ms("zeromq.handshake_ms", ms)?;
        }
        if self.peers.len() > limits::MAX_ENTITIES {
            return Err(ScenarioError::new(
                "zeromq.peers",
                format!("at most {} peers", limits::MAX_ENTITIES),
            ));
        }
        let mut bound: BTreeMap<&str, SocketType> = BTreeMap::new();
        for (i, p) in self.peers.iter().enumerate() {
            let path = format!("zeromq.peers[{i}]");
            check_len(&format!("{path}.name"), &p.name, limits::MAX_NAME_LEN)?;
            if p.name.is_empty() || p.name.contains('/') {
                return Err(ScenarioError::new(
                    format!("{path}.name"),
                    "a peer needs a name without '/'",
                ));
            }
            if self.peers[..i].iter().any(|o| o.name == p.name) {
                return Err(ScenarioError::new(
                    format!("{path}.name"),
                    format!("peer {} is declared twice", p.name),
                ));
            }
            for (j, s) in p.sockets.iter().enumerate() {
                let at = format!("{path}.sockets[{j}]");
                check_len(&format!("{at}.name"), &s.name, limits::MAX_NAME_LEN)?;
                if p.sockets[..j].iter().any(|o| o.name == s.name) {
                    return Err(ScenarioError::new(
                        format!("{at}.name"),
                        format!("socket {} is declared twice", s.name),
                    ));
                }
                validate_socket(&at, s)?;
                for e in &s.bind {
                    if bound.insert(e, s.kind).is_some() {
                        return Err(ScenarioError::new(
                            format!("{at}.bind"),
                            format!("EADDRINUSE: endpoint {e} is bound twice"),
                        ));
                    }
                }
            }
        }
        for (i, p) in self.peers.iter().enumerate() {
            for (j, s) in p.sockets.iter().enumerate() {
                let at = format!("zeromq.peers[{i}].sockets[{j}].connect");
                for e in &s.connect {
                    check_endpoint(&at, s.kind, e, bound.get(e.as_str()).copied())?;
                }
            }
        }
        Ok(())
    }
}

/// A socket has one application: one producer sending, one consumer reading.
pub(crate) fn taken(path: &str, address: &str) -> ScenarioError {
    ScenarioError::new(
        path,
        format!("socket {address} already has its application"),
    )
}

/// A connect names an endpoint some socket of the compatible type binds.
pub(crate) fn check_endpoint(
    at: &str,
    kind: SocketType,
    endpoint: &str,
    bound: Option<SocketType>,
) -> Result<(), ScenarioError> {
    match bound {
        None => Err(ScenarioError::new(
            at,
            format!("no socket binds endpoint {endpoint}"),
        )),
        Some(b) if b != kind.peer() => Err(ScenarioError::new(
            at,
            format!("a {kind:?} socket cannot connect to a {b:?} socket at {endpoint}"),
        )),
        Some(_) => Ok(()),
    }
}

fn validate_socket(at: &str, s: &ZmqSocketSpec) -> Result<(), ScenarioError> {
    if s.linger_ms != -1.0 {
        check_ms(&format!("{at}.linger_ms"), s.linger_ms)?;
    }
    check_ms(&format!("{at}.reconnect_ivl_ms"), s.reconnect_ivl_ms)?;
    if !s.subscribe.is_empty() && s.kind != SocketType::Sub {
        return Err(ScenarioError::new(
            format!("{at}.subscribe"),
            "only a SUB socket subscribes",
        ));
    }
    for (k, prefix) in s.subscribe.iter().enumerate() {
        check_len(&format!("{at}.subscribe[{k}]"), prefix, limits::MAX_KEY_LEN)?;
    }
    if s.dontwait && !matches!(s.kind, SocketType::Push | SocketType::Req) {
        return Err(ScenarioError::new(
            format!("{at}.dontwait"),
            "only PUSH and REQ sends can block",
        ));
    }
    if s.bind.len() + s.connect.len() > limits::MAX_ENTITIES {
        return Err(ScenarioError::new(
            at,
            format!("at most {} endpoints", limits::MAX_ENTITIES),
        ));
    }
    Ok(())
}

/// A producer sends on one send-capable socket and nothing else.
pub(crate) fn validate_producer(
    path: &str,
    p: &ProducerSpec,
    socket: &dyn Fn(&str) -> Option<SocketType>,
) -> Result<(), ScenarioError> {
    let zmq = p
        .targets
        .iter()
        .filter(|t| matches!(t, PublishTarget::Zmq(_)))
        .count();
    if zmq == 0 {
        return Ok(());
    }
    if p.targets.len() != 1 {
        return Err(ScenarioError::new(
            format!("{path}.targets"),
            "a ZeroMQ producer is the application of one socket: one target only",
        ));
    }
    let Some(PublishTarget::Zmq(address)) = p.targets.first() else {
        unreachable!("counted above");
    };
    match socket(address) {
        None => Err(ScenarioError::new(
            format!("{path}.targets[0].zmq"),
            format!("unknown ZeroMQ socket {address} (write peer/socket)"),
        )),
        Some(k) if !k.sends() => Err(ScenarioError::new(
            format!("{path}.targets[0].zmq"),
            format!("a {k:?} socket cannot send"),
        )),
        Some(_) => Ok(()),
    }
}

/// A consumer reads a receive-capable socket (a REQ's consumer reads its replies).
pub(crate) fn validate_consumer(
    path: &str,
    c: &ConsumerSpec,
    socket: &dyn Fn(&str) -> Option<SocketType>,
) -> Result<(), ScenarioError> {
    let ConsumerSource::Zmq(address) = &c.source else {
        return Ok(());
    };
    match socket(address) {
        None => Err(ScenarioError::new(
            format!("{path}.source.zmq"),
            format!("unknown ZeroMQ socket {address} (write peer/socket)"),
        )),
        Some(k @ (SocketType::Push | SocketType::Pub)) => Err(ScenarioError::new(
            format!("{path}.source.zmq"),
            format!("a {k:?} socket cannot receive"),
        )),
        Some(_) => Ok(()),
    }
}
