//! ZeroMQ (ZMQ-1…ZMQ-9): no broker. Processes (peers) own sockets; a socket binds or connects
//! endpoints, and every connection has an out-pipe in the sending process and an in-pipe in
//! the receiving one, each bounded by its high-water mark. Nothing survives a process.
//!
//! Model choices (design note `docs/design/issue-13-pulsar-zeromq.md` §2, §5):
//! - the handshake takes `zeromq.handshake_ms`, by default 3 × `latency_ms`;
//! - a pipe transfer and a reply take one `latency_ms`; credit returns to a writer at once;
//! - round-robin keeps pipes in attach order (libzmq swaps a full pipe with the last one);
//! - a reply is a new message (`published` counts it) travelling outside the pipes, since the
//!   lockstep holds at most one per connection;
//! - a reconnect waits `reconnect_ivl` plus a random part of it, drawn only here;
//! - a socket has one application: at most one producer and one consumer; `dontwait` is a
//!   socket option (its application's sends), not a producer field;
//! - `crash_consumer` on a ZeroMQ consumer kills its whole process; `stopped: true` on the
//!   consumer means the socket is up but the application does not call `recv` yet.
//!
//! Not modelled: DEALER/ROUTER, `req_relaxed`, unsubscribe and disconnect, inproc, TCP buffers.

mod pipe;
mod view;

pub use view::{ConnView, PeerView, SocketView, ZeroMqView};

use crate::clients::{ClientWork, ConsumerStatus, Cx};
use crate::command::CommandError;
use crate::event::{EventKind, ZmqEvent};
use crate::ids::{ConsumerId, MessageId, ProducerId};
use crate::kernel::ms_to_us;
use crate::ledger::{CopyState, DropReason};
use crate::message::{MessageCopy, Slot};
use crate::scenario::zeromq::{SocketType, ZeroMqSpec, ZmqSocketSpec};
use crate::scenario::{ConsumerSource, RatePattern};
use crate::time::SimTime;
use crate::wire::NodeRef;
use pipe::Pipe;
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};

/// A process's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerStatus {
    Running,
    Crashed,
    /// Closed by its application, still sending what its linger keeps (ZMQ-1).
    Closing,
    Stopped,
}

#[derive(Clone, Debug)]
pub struct Peer {
    pub name: String,
    pub status: PeerStatus,
    pub sockets: Vec<u32>,
    /// Copies a closing process discarded so far.
    closing_lost: u32,
}

#[derive(Clone, Debug)]
pub struct Socket {
    pub peer: u32,
    pub name: String,
    pub spec: ZmqSocketSpec,
    /// Connections whose pipe exists at this end, in attach order: the round-robin of a
    /// sender and the fair queue of a receiver.
    pub pipes: Vec<u32>,
    rr: usize,
    fq: usize,
    /// A send blocked in the application, and since when (ZMQ-3).
    pub blocked: Option<(Slot, SimTime)>,
    /// What is left of a burst the blocked send paused.
    burst_left: u64,
    /// A REQ's request without its reply yet: the connection and since when (ZMQ-9).
    pub awaiting: Option<(u32, SimTime)>,
    /// A REP's request being processed: the requester's connection and epoch, and the request.
    replying_to: Option<(u32, u32, MessageCopy)>,
    /// A SUB's subscriptions.
    pub filters: Vec<String>,
    pub producer: Option<ProducerId>,
    pub consumer: Option<ConsumerId>,
    pub sent: u64,
    pub received: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnState {
    /// The connecter waits for the handshake or retries.
    Connecting,
    Up,
    /// Broken for good; an in-pipe may still hold messages to read.
    Down,
}

#[derive(Clone, Debug)]
pub struct Conn {
    /// The socket messages flow from (PUSH, PUB, REQ) and to (PULL, SUB, REP).
    pub sender: u32,
    pub receiver: u32,
    pub connecter: u32,
    pub endpoint: String,
    pub state: ConnState,
    /// At the sender.
    pub out: Pipe,
    /// At the receiver.
    pub inp: Pipe,
    /// Copies on the wire from `out` to `inp`, in order.
    wire: VecDeque<Slot>,
    /// Replies on the wire back to a REQ.
    back: VecDeque<Slot>,
    /// Subscriptions the PUB has received on this connection, counted.
    pub filters: BTreeMap<String, u32>,
    /// Bumped when the connection breaks, so its scheduled work is ignored.
    epoch: u32,
}

/// ZeroMQ's state: every process, socket and connection.
#[derive(Clone, Debug, Default)]
pub struct ZeroMq {
    pub peers: Vec<Peer>,
    pub sockets: Vec<Socket>,
    pub conns: Vec<Conn>,
    handshake_us: u64,
    /// Endpoint → the socket that binds it.
    endpoints: BTreeMap<String, u32>,
}

/// Work ZeroMQ schedules.
#[derive(Clone, Debug)]
pub(crate) enum ZeroMqWork {
    /// A connect attempt; retried while the endpoint's process is down.
    Connect {
        conn: u32,
        epoch: u32,
    },
    Handshaken {
        conn: u32,
        epoch: u32,
    },
    /// A copy reaches the in-pipe.
    Arrive {
        conn: u32,
        epoch: u32,
        slot: Slot,
    },
    /// A SUB's subscriptions reach the PUB.
    Subscriptions {
        conn: u32,
        epoch: u32,
    },
    Subscribe {
        conn: u32,
        epoch: u32,
        prefix: String,
    },
    /// A reply reaches its REQ.
    Reply {
        conn: u32,
        epoch: u32,
        slot: Slot,
    },
    /// A closing socket's linger ran out.
    LingerEnds {
        socket: u32,
    },
}

/// What one `send` by an application did.
#[derive(PartialEq)]
enum Sent {
    Done,
    Blocked,
    /// Refused (`EAGAIN`) or the REQ still waits: nothing was created.
    Refused,
}

impl ZeroMq {
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// The socket an address `peer/socket` names.
    pub fn socket_id(&self, address: &str) -> Option<u32> {
        let (peer, socket) = crate::scenario::zeromq::split_address(address)?;
        let p = self.peers.iter().find(|p| p.name == peer)?;
        p.sockets
            .iter()
            .copied()
            .find(|s| self.sockets[*s as usize].name == socket)
    }

    pub fn socket_kind(&self, address: &str) -> Option<SocketType> {
        self.socket_id(address)
            .map(|s| self.sockets[s as usize].spec.kind)
    }

    fn peer_id(&self, name: &str) -> Result<u32, CommandError> {
        (self.peers.iter().position(|p| p.name == name))
            .map(|p| p as u32)
            .ok_or_else(|| CommandError::UnknownEntity {
                kind: "peer",
                name: name.into(),
            })
    }

    fn named_socket(&self, peer: &str, socket: &str) -> Result<u32, CommandError> {
        self.socket_id(&format!("{peer}/{socket}"))
            .ok_or_else(|| CommandError::UnknownEntity {
                kind: "socket",
                name: format!("{peer}/{socket}"),
            })
    }

    /// Copies in the processes' memory: pipes and blocked sends (the ledger's `piped`).
    pub fn piped(&self) -> u64 {
        let pipes: usize = self
            .conns
            .iter()
            .map(|c| c.out.q.len() + c.inp.q.len())
            .sum();
        let blocked = self.sockets.iter().filter(|s| s.blocked.is_some()).count();
        (pipes + blocked) as u64
    }

    /// Every slot that should be `Piped`, with the process it should name.
    pub fn piped_slots(&self) -> impl Iterator<Item = (Slot, u32)> + '_ {
        let pipes = self.conns.iter().flat_map(move |c| {
            let out = self.sockets[c.sender as usize].peer;
            let inp = self.sockets[c.receiver as usize].peer;
            (c.out.q.iter().map(move |s| (*s, out))).chain(c.inp.q.iter().map(move |s| (*s, inp)))
        });
        let blocked = (self.sockets.iter()).filter_map(|s| s.blocked.map(|(b, _)| (b, s.peer)));
        pipes.chain(blocked)
    }

    /// Copies on the wires between processes (the ledger's `in_flight`).
    pub fn on_the_wire(&self) -> impl Iterator<Item = Slot> + '_ {
        (self.conns.iter()).flat_map(|c| c.wire.iter().chain(c.back.iter()).copied())
    }

    /// The peers' current settings, for `specs()`.
    pub fn spec(&self, handshake_ms: Option<f64>) -> ZeroMqSpec {
        let peers = self
            .peers
            .iter()
            .map(|p| crate::scenario::zeromq::ZmqPeerSpec {
                name: p.name.clone(),
                sockets: (p.sockets.iter())
                    .map(|s| self.sockets[*s as usize].spec.clone())
                    .collect(),
                stopped: p.status != PeerStatus::Running,
            });
        ZeroMqSpec {
            handshake_ms,
            peers: peers.collect(),
        }
    }
}

fn matches(filters: &BTreeMap<String, u32>, topic: &str) -> bool {
    filters.keys().any(|f| topic.starts_with(f.as_str()))
}

impl<W: From<ZeroMqWork> + From<ClientWork>> Cx<'_, &mut ZeroMq, W> {
    /// Builds the processes; those not stopped start (and connect) at once.
    pub(crate) fn build(&mut self, spec: &ZeroMqSpec, latency_us: u64) {
        self.family.handshake_us = spec.handshake_ms.map_or(3 * latency_us, ms_to_us);
        for p in &spec.peers {
            let peer = self.family.peers.len() as u32;
            let mut sockets = Vec::new();
            for s in &p.sockets {
                let id = self.family.sockets.len() as u32;
                for e in &s.bind {
                    self.family.endpoints.insert(e.clone(), id);
                }
                sockets.push(id);
                self.family.sockets.push(Socket {
                    peer,
                    name: s.name.clone(),
                    spec: s.clone(),
                    pipes: Vec::new(),
                    rr: 0,
                    fq: 0,
                    blocked: None,
                    burst_left: 0,
                    awaiting: None,
                    replying_to: None,
                    filters: s.subscribe.clone(),
                    producer: None,
                    consumer: None,
                    sent: 0,
                    received: 0,
                });
            }
            self.family.peers.push(Peer {
                name: p.name.clone(),
                status: PeerStatus::Stopped,
                sockets,
                closing_lost: 0,
            });
        }
        // Every process is up before any connects, so declaration order does not matter.
        let started: Vec<u32> = (0..spec.peers.len() as u32)
            .filter(|i| !spec.peers[*i as usize].stopped)
            .collect();
        for &p in &started {
            self.family.peers[p as usize].status = PeerStatus::Running;
        }
        for p in started {
            self.start_peer(p);
        }
    }

    fn peer_of(&self, socket: u32) -> &Peer {
        &self.family.peers[self.family.sockets[socket as usize].peer as usize]
    }

    fn alive(&self, socket: u32) -> bool {
        matches!(
            self.peer_of(socket).status,
            PeerStatus::Running | PeerStatus::Closing
        )
    }

    /// A process starts: its sockets connect as declared (ZMQ-1.5).
    fn start_peer(&mut self, peer: u32) {
        self.family.peers[peer as usize].status = PeerStatus::Running;
        self.family.peers[peer as usize].closing_lost = 0;
        for s in self.family.peers[peer as usize].sockets.clone() {
            for e in self.family.sockets[s as usize].spec.connect.clone() {
                self.connect(s, &e);
            }
        }
    }

    /// `zmq_connect`: the connecter's pipe exists at once unless `immediate` (ZMQ-5.2).
    fn connect(&mut self, socket: u32, endpoint: &str) {
        let binder = self.family.endpoints[endpoint];
        let kind = self.family.sockets[socket as usize].spec.kind;
        let (sender, receiver) = if kind.sends() {
            (socket, binder)
        } else {
            (binder, socket)
        };
        let conn = self.family.conns.len() as u32;
        let s = &self.family.sockets;
        self.family.conns.push(Conn {
            sender,
            receiver,
            connecter: socket,
            endpoint: endpoint.into(),
            state: ConnState::Connecting,
            out: Pipe::new(s[sender as usize].spec.sndhwm),
            inp: Pipe::new(s[receiver as usize].spec.rcvhwm),
            wire: VecDeque::new(),
            back: VecDeque::new(),
            filters: BTreeMap::new(),
            epoch: 0,
        });
        let s = &mut self.family.sockets[socket as usize];
        if !(kind.sends() && s.spec.immediate) {
            s.pipes.push(conn);
        }
        self.attempt(conn);
        if kind.sends() {
            self.unblock(socket);
        }
    }

    /// Tries to reach the binder now; retries after `reconnect_ivl` plus a random part of it
    /// while its process is down (libzmq `get_new_reconnect_ivl`).
    fn attempt(&mut self, conn: u32) {
        let c = &self.family.conns[conn as usize];
        let binder = if c.connecter == c.sender {
            c.receiver
        } else {
            c.sender
        };
        let epoch = c.epoch;
        if self.peer_of(binder).status == PeerStatus::Running {
            let at = self.world.now.plus(self.family.handshake_us);
            self.world
                .schedule(at, ZeroMqWork::Handshaken { conn, epoch });
            return;
        }
        let ivl = self.family.sockets[c.connecter as usize]
            .spec
            .reconnect_ivl_ms;
        if ivl <= 0.0 {
            return;
        }
        let ivl = ms_to_us(ivl);
        let wait = ivl + self.world.rng.range_u64(0, ivl - 1);
        self.world.schedule(
            self.world.now.plus(wait),
            ZeroMqWork::Connect { conn, epoch },
        );
    }

    pub(crate) fn run_zeromq(&mut self, work: ZeroMqWork) {
        match work {
            ZeroMqWork::Connect { conn, epoch } => {
                if self.family.conns[conn as usize].epoch == epoch {
                    self.attempt(conn);
                }
            }
            ZeroMqWork::Handshaken { conn, epoch } => self.handshaken(conn, epoch),
            ZeroMqWork::Arrive { conn, epoch, slot } => self.arrive(conn, epoch, slot),
            ZeroMqWork::Subscriptions { conn, epoch } => {
                let sub = self.family.conns[conn as usize].receiver;
                for prefix in self.family.sockets[sub as usize].filters.clone() {
                    self.subscribed(conn, epoch, prefix);
                }
            }
            ZeroMqWork::Subscribe {
                conn,
                epoch,
                prefix,
            } => self.subscribed(conn, epoch, prefix),
            ZeroMqWork::Reply { conn, epoch, slot } => self.reply_arrives(conn, epoch, slot),
            ZeroMqWork::LingerEnds { socket } => {
                let peer = self.family.sockets[socket as usize].peer;
                if self.family.peers[peer as usize].status == PeerStatus::Closing {
                    self.discard_out_pipes(socket);
                    self.check_exit(peer);
                }
            }
        }
    }

    fn handshaken(&mut self, conn: u32, epoch: u32) {
        let c = &self.family.conns[conn as usize];
        let (sender, receiver, connecter) = (c.sender, c.receiver, c.connecter);
        if c.epoch != epoch || !self.alive(sender) || !self.alive(receiver) {
            if c.epoch == epoch && c.state == ConnState::Connecting {
                self.attempt(conn);
            }
            return;
        }
        let c = &mut self.family.conns[conn as usize];
        c.state = ConnState::Up;
        let endpoint = c.endpoint.clone();
        // The binder's pipe (and an `immediate` connecter's) exists from now.
        for s in [sender, receiver] {
            let pipes = &mut self.family.sockets[s as usize].pipes;
            if !pipes.contains(&conn) {
                pipes.push(conn);
            }
        }
        let binder = if connecter == sender {
            receiver
        } else {
            sender
        };
        self.world.emit(EventKind::Zmq(ZmqEvent::ZmqConnected {
            socket: connecter,
            remote: binder,
            endpoint,
        }));
        if self.family.sockets[receiver as usize].spec.kind == SocketType::Sub {
            let at = self.world.now.plus(self.world.latency);
            self.world
                .schedule(at, ZeroMqWork::Subscriptions { conn, epoch });
        }
        self.pump(conn);
        self.unblock(sender);
    }

    /// A subscription reaches the PUB, which filters for it from now on (ZMQ-7, ZMQ-8).
    fn subscribed(&mut self, conn: u32, epoch: u32, prefix: String) {
        let c = &mut self.family.conns[conn as usize];
        if c.epoch != epoch || c.state != ConnState::Up {
            return;
        }
        *c.filters.entry(prefix.clone()).or_default() += 1;
        let (publisher, subscriber) = (c.sender, c.receiver);
        self.world.emit(EventKind::Zmq(ZmqEvent::ZmqSubscribed {
            publisher,
            subscriber,
            prefix,
        }));
    }

    /// A producer's tick: its application sends once, or a whole burst. A blocked send or a
    /// REQ awaiting its reply stops the ticks until it goes on (ZMQ-3, ZMQ-9).
    pub(crate) fn app_tick(&mut self, id: ProducerId, generation: u32) {
        let p = &self.clients.producers[id.index()];
        if p.removed || p.spec.paused || p.generation != generation {
            return;
        }
        let NodeRef::ZmqSocket(socket) = p.plan.targets[0] else {
            unreachable!("a ZeroMQ producer has one socket")
        };
        if self.peer_of(socket).status != PeerStatus::Running
            || self.family.sockets[socket as usize].blocked.is_some()
        {
            return;
        }
        if let RatePattern::Burst { count, .. } = p.spec.rate {
            self.burst(socket, count);
            return;
        }
        if self.app_send(socket) == Sent::Done {
            self.schedule_next_tick(id);
        }
    }

    /// `count` sends in a loop; a blocked one pauses the rest until it goes through.
    pub(crate) fn burst(&mut self, socket: u32, count: u64) {
        if self.peer_of(socket).status != PeerStatus::Running {
            return;
        }
        let s = &mut self.family.sockets[socket as usize];
        if s.blocked.is_some() {
            // The application is stuck in a send: it sends these after it.
            s.burst_left += count;
            return;
        }
        s.burst_left = count;
        self.continue_burst(socket);
    }

    fn continue_burst(&mut self, socket: u32) {
        while self.family.sockets[socket as usize].burst_left > 0 {
            let Some(id) = self.family.sockets[socket as usize].producer else {
                return;
            };
            let p = &self.clients.producers[id.index()];
            if p.spec.limit.is_some_and(|l| p.sent >= l) {
                self.family.sockets[socket as usize].burst_left = 0;
                return;
            }
            self.family.sockets[socket as usize].burst_left -= 1;
            if self.app_send(socket) != Sent::Done {
                if self.family.sockets[socket as usize].blocked.is_none() {
                    self.family.sockets[socket as usize].burst_left = 0;
                }
                return;
            }
        }
    }
}

impl ZeroMq {
    /// Checks a manual `zmq_send`: refused with `EFSM` or `EAGAIN`, changing nothing; the
    /// caller then sends with [`Cx::burst`] of 1.
    pub fn check_send(
        &self,
        peer: &str,
        socket: &str,
        dontwait: bool,
    ) -> Result<u32, CommandError> {
        let s = self.named_socket(peer, socket)?;
        let refuse = |reason: String| Err(CommandError::NotApplicable { reason });
        let sock = &self.sockets[s as usize];
        if self.peers[sock.peer as usize].status != PeerStatus::Running {
            return refuse(format!("{peer} is not running"));
        }
        if sock.producer.is_none() {
            return refuse(format!("{peer}/{socket} has no application sending"));
        }
        if sock.spec.kind == SocketType::Req && sock.awaiting.is_some() {
            return refuse("EFSM: a REQ must receive its reply before it sends again".into());
        }
        if sock.blocked.is_some() {
            return refuse(format!("{peer}/{socket} is blocked in a send"));
        }
        let wait = !(dontwait || sock.spec.dontwait);
        if sock.spec.kind != SocketType::Pub && !wait && self.pick(s).is_none() {
            return refuse("EAGAIN: every pipe is at its high-water mark".into());
        }
        Ok(s)
    }

    /// The peer, if its process runs (or `closing` is allowed and it closes).
    pub fn check_running(&self, name: &str, closing: bool) -> Result<u32, CommandError> {
        let peer = self.peer_id(name)?;
        match self.peers[peer as usize].status {
            PeerStatus::Running => Ok(peer),
            PeerStatus::Closing if closing => Ok(peer),
            _ => Err(CommandError::NotApplicable {
                reason: format!("{name} is not running"),
            }),
        }
    }

    /// The peer, if its process is not running.
    pub fn check_stopped(&self, name: &str) -> Result<u32, CommandError> {
        let peer = self.peer_id(name)?;
        if matches!(
            self.peers[peer as usize].status,
            PeerStatus::Running | PeerStatus::Closing
        ) {
            return Err(CommandError::NotApplicable {
                reason: format!("{name} is already running"),
            });
        }
        Ok(peer)
    }

    /// The next pipe with room in round-robin order (ZMQ-3; libzmq `lb.cpp`).
    fn pick(&self, socket: u32) -> Option<usize> {
        let s = &self.sockets[socket as usize];
        let n = s.pipes.len();
        (0..n).map(|k| (s.rr + k) % n).find(|&i| {
            let c = &self.conns[s.pipes[i] as usize];
            c.state != ConnState::Down && c.out.has_room()
        })
    }
}

impl<W: From<ZeroMqWork> + From<ClientWork>> Cx<'_, &mut ZeroMq, W> {
    fn fail(&mut self, socket: u32, error: &str) {
        self.world.emit(EventKind::Zmq(ZmqEvent::ZmqSendFailed {
            socket,
            error: error.into(),
        }));
    }

    /// One `send` by the socket's application.
    fn app_send(&mut self, socket: u32) -> Sent {
        let s = &self.family.sockets[socket as usize];
        let kind = s.spec.kind;
        if kind == SocketType::Req && s.awaiting.is_some() {
            return Sent::Refused;
        }
        let target = self.family.pick(socket);
        if kind != SocketType::Pub && target.is_none() && s.spec.dontwait {
            self.fail(socket, "EAGAIN");
            return Sent::Refused;
        }
        let Some(producer) = s.producer else {
            return Sent::Refused;
        };
        let (template, _) = self.new_message(producer, false, None);
        let msg = template.msg;
        self.world.emit(EventKind::Published { msg, producer });
        let Some(slot) = self.world.new_copy_within_capacity(template) else {
            return Sent::Done;
        };
        self.family.sockets[socket as usize].sent += 1;
        if kind == SocketType::Pub {
            self.distribute(socket, slot);
            return Sent::Done;
        }
        let peer = self.family.sockets[socket as usize].peer;
        self.world.set_state(slot, CopyState::Piped(peer));
        match target {
            Some(i) => {
                self.deal(socket, i, slot);
                Sent::Done
            }
            None => {
                let now = self.world.now;
                self.family.sockets[socket as usize].blocked = Some((slot, now));
                self.world
                    .emit(EventKind::Zmq(ZmqEvent::ZmqSendBlocked { socket }));
                Sent::Blocked
            }
        }
    }

    /// Writes a piped copy into the `i`th pipe of a PUSH or REQ and moves the rotation on.
    fn deal(&mut self, socket: u32, i: usize, slot: Slot) {
        let s = &mut self.family.sockets[socket as usize];
        let conn = s.pipes[i];
        // The next send starts after this pipe (libzmq `lb.cpp`: `current = (current + 1) %
        // active`), so a pipe attached later joins at the end of the rotation (ZMQ-5.3).
        s.rr = (i + 1) % s.pipes.len();
        if s.spec.kind == SocketType::Req {
            s.awaiting = Some((conn, self.world.now));
        }
        let c = &mut self.family.conns[conn as usize];
        c.out.q.push_back(slot);
        c.out.write();
        self.pump(conn);
    }

    /// PUB: a copy into every matching pipe with room; none matching drops the message
    /// (ZMQ-6, ZMQ-7, ZMQ-8; libzmq `dist.cpp`).
    fn distribute(&mut self, socket: u32, slot: Slot) {
        let copy = self.world.copies.get(slot);
        let topic = self.world.keys.get(copy.routing_key).clone();
        let template = copy.clone();
        let pipes = &self.family.sockets[socket as usize].pipes;
        let matching: Vec<u32> = (pipes.iter().copied())
            .filter(|c| {
                let c = &self.family.conns[*c as usize];
                c.state == ConnState::Up && matches(&c.filters, &topic)
            })
            .collect();
        if matching.is_empty() {
            // A SUB still connecting, or whose subscription is still on its way (ZMQ-8).
            let joining = self.family.conns.iter().any(|c| {
                let sub = &self.family.sockets[c.receiver as usize];
                c.sender == socket
                    && c.state != ConnState::Down
                    && !matches(&c.filters, &topic)
                    && sub.filters.iter().any(|f| topic.starts_with(f.as_str()))
            });
            let why = if joining {
                DropReason::SlowJoiner
            } else {
                DropReason::NoSubscriber
            };
            self.world.drop_copy(slot, why);
            return;
        }
        let peer = self.family.sockets[socket as usize].peer;
        for (n, conn) in matching.into_iter().enumerate() {
            let s = if n == 0 {
                slot
            } else {
                self.world.ledger.fanout_copies += 1;
                match self.world.new_copy_within_capacity(template.clone()) {
                    Some(s) => s,
                    None => continue,
                }
            };
            let c = &mut self.family.conns[conn as usize];
            if !c.out.has_room() {
                self.world.drop_copy(s, DropReason::HwmDrop);
                continue;
            }
            self.world.set_state(s, CopyState::Piped(peer));
            c.out.q.push_back(s);
            c.out.write();
            self.pump(conn);
        }
    }

    /// Moves an out-pipe's head onto the wire while the in-pipe has credit; a writer that
    /// regains room may send again.
    fn pump(&mut self, conn: u32) {
        let mut credit = false;
        loop {
            let c = &mut self.family.conns[conn as usize];
            if c.state != ConnState::Up || !c.inp.has_room() {
                break;
            }
            let Some(slot) = c.out.q.pop_front() else {
                break;
            };
            credit |= c.out.read();
            c.inp.write();
            c.wire.push_back(slot);
            let (epoch, from, to) = (c.epoch, c.sender, c.receiver);
            self.world.set_state(slot, CopyState::InFlight);
            let work = ZeroMqWork::Arrive { conn, epoch, slot };
            let (from, to) = (NodeRef::ZmqSocket(from), NodeRef::ZmqSocket(to));
            self.wire.send(self.world, from, to, slot, work);
        }
        if credit {
            let sender = self.family.conns[conn as usize].sender;
            self.unblock(sender);
        }
    }

    /// A blocked send goes through when a pipe has room again; the application goes on.
    fn unblock(&mut self, socket: u32) {
        let Some((slot, since)) = self.family.sockets[socket as usize].blocked else {
            return;
        };
        let Some(i) = self.family.pick(socket) else {
            return;
        };
        self.family.sockets[socket as usize].blocked = None;
        self.world.emit(EventKind::Zmq(ZmqEvent::ZmqSendResumed {
            socket,
            blocked_us: self.world.now.since(since),
        }));
        self.deal(socket, i, slot);
        self.go_on(socket);
    }

    /// The application of a sender continues after a blocked send or a reply.
    fn go_on(&mut self, socket: u32) {
        if self.family.sockets[socket as usize].burst_left > 0 {
            self.continue_burst(socket);
        } else if let Some(id) = self.family.sockets[socket as usize].producer {
            if self.family.sockets[socket as usize].blocked.is_none() {
                self.schedule_next_tick(id);
            }
        }
    }

    fn arrive(&mut self, conn: u32, epoch: u32, slot: Slot) {
        self.wire.arrived(self.world.now, slot);
        let c = &mut self.family.conns[conn as usize];
        if c.epoch != epoch {
            return;
        }
        let front = c.wire.pop_front();
        debug_assert_eq!(front, Some(slot));
        c.inp.q.push_back(slot);
        let (sender, receiver) = (c.sender, c.receiver);
        let peer = self.family.sockets[receiver as usize].peer;
        self.world.set_state(slot, CopyState::Piped(peer));
        self.try_recv(receiver);
        let peer = self.family.sockets[sender as usize].peer;
        if self.family.peers[peer as usize].status == PeerStatus::Closing {
            self.check_exit(peer);
        }
    }

    /// The application reads the next message, fair-queued over its pipes, when it is idle
    /// (ZMQ-4; libzmq `fq.cpp`); a REP reads only after replying (ZMQ-9).
    fn try_recv(&mut self, socket: u32) {
        let s = &self.family.sockets[socket as usize];
        let Some(cid) = s.consumer else { return };
        if s.spec.kind.sends() {
            return; // a REQ's replies come back outside the pipes
        }
        if s.replying_to.is_some() || self.peer_of(socket).status != PeerStatus::Running {
            return;
        }
        let c = &self.clients.consumers[cid.index()];
        if c.status != ConsumerStatus::Running || c.current.is_some() || !c.buffer.is_empty() {
            return;
        }
        let conns = &self.family.conns;
        let s = &mut self.family.sockets[socket as usize];
        s.pipes.retain(|c| {
            conns[*c as usize].state != ConnState::Down || !conns[*c as usize].inp.q.is_empty()
        });
        let n = s.pipes.len();
        let Some(i) = (0..n)
            .map(|k| (s.fq + k) % n)
            .find(|&i| !conns[s.pipes[i] as usize].inp.q.is_empty())
        else {
            return;
        };
        s.fq = i + 1;
        let conn = s.pipes[i];
        s.received += 1;
        let c = &mut self.family.conns[conn as usize];
        let slot = c.inp.q.pop_front().expect("a non-empty pipe");
        let credit = c.inp.read();
        let (from, epoch) = (c.sender, c.epoch);
        let copy = self.world.copies.get(slot);
        let msg = copy.msg;
        if s.spec.kind == SocketType::Rep {
            s.replying_to = Some((conn, epoch, copy.clone()));
        }
        self.hand_to_app(cid, slot, msg);
        self.world
            .emit(EventKind::Zmq(ZmqEvent::ZmqReceived { msg, socket, from }));
        if credit {
            self.pump(conn);
        }
    }

    /// The consumer processes a copy ZeroMQ no longer holds.
    fn hand_to_app(&mut self, cid: ConsumerId, slot: Slot, msg: MessageId) {
        self.world.set_state(slot, CopyState::Processing(cid));
        let c = &mut self.clients.consumers[cid.index()];
        c.held.insert(slot);
        c.delivered += 1;
        c.log_delivery(msg, false);
        let epoch = c.epoch;
        self.accept_delivery(cid, slot, 0, epoch);
        self.start_next(cid);
    }

    /// The consumer finished a message: a REP sends its reply to the last requester (ZMQ-9),
    /// then the application reads on.
    pub(crate) fn processed(&mut self, cid: ConsumerId) {
        let Some(socket) = self.socket_of(cid) else {
            return;
        };
        if let Some((conn, epoch, request)) =
            self.family.sockets[socket as usize].replying_to.take()
        {
            self.reply(socket, conn, epoch, request);
        }
        self.try_recv(socket);
    }

    fn socket_of(&self, cid: ConsumerId) -> Option<u32> {
        match &self.clients.consumers[cid.index()].spec.source {
            ConsumerSource::Zmq(address) => self.family.socket_id(address),
            _ => None,
        }
    }

    fn reply(&mut self, socket: u32, conn: u32, epoch: u32, request: MessageCopy) {
        let reply = MessageId(self.world.next_msg);
        self.world.next_msg += 1;
        self.world.ledger.published += 1;
        let copy = MessageCopy {
            msg: reply,
            state: CopyState::InFlight,
            producer: None,
            published_at: self.world.now,
            ..request
        };
        self.world.emit(EventKind::Zmq(ZmqEvent::ZmqReplied {
            request: request.msg,
            reply,
            socket,
        }));
        let Some(slot) = self.world.new_copy_within_capacity(copy) else {
            return;
        };
        let c = &mut self.family.conns[conn as usize];
        if c.epoch != epoch || c.state != ConnState::Up {
            // "If the original requester does not exist any more the reply is silently
            // discarded" (zmq_socket, ZMQ_REP).
            self.world.drop_copy(slot, DropReason::ProcessExit);
            return;
        }
        c.back.push_back(slot);
        let (from, to) = (NodeRef::ZmqSocket(socket), NodeRef::ZmqSocket(c.sender));
        let work = ZeroMqWork::Reply { conn, epoch, slot };
        self.wire.send(self.world, from, to, slot, work);
    }

    /// A reply reaches its REQ, which may send again.
    fn reply_arrives(&mut self, conn: u32, epoch: u32, slot: Slot) {
        self.wire.arrived(self.world.now, slot);
        let c = &mut self.family.conns[conn as usize];
        if c.epoch != epoch {
            return;
        }
        c.back.pop_front();
        let req = c.sender;
        let msg = self.world.copies.get(slot).msg;
        self.world.emit(EventKind::Zmq(ZmqEvent::ZmqReceived {
            msg,
            socket: req,
            from: c.receiver,
        }));
        let s = &mut self.family.sockets[req as usize];
        s.awaiting = None;
        s.received += 1;
        match s.consumer {
            Some(cid) if self.clients.consumers[cid.index()].status == ConsumerStatus::Running => {
                self.hand_to_app(cid, slot, msg)
            }
            _ => {
                let published_at = self.world.copies.get(slot).published_at;
                self.world.complete(published_at);
                self.world.set_state(slot, CopyState::Acked);
            }
        }
        self.go_on(req);
    }

    /// Registers a producer's socket.
    pub(crate) fn producer_added(&mut self, id: ProducerId) {
        if let Some(NodeRef::ZmqSocket(s)) = self.clients.producers[id.index()].plan.targets.first()
        {
            self.family.sockets[*s as usize].producer = Some(id);
        }
    }

    /// Registers a consumer's socket.
    pub(crate) fn consumer_added(&mut self, cid: ConsumerId) {
        if let Some(s) = self.socket_of(cid) {
            self.family.sockets[s as usize].consumer = Some(cid);
        }
    }

    /// The application starts reading, if its process runs.
    pub(crate) fn consume(&mut self, cid: ConsumerId) {
        let Some(socket) = self.socket_of(cid) else {
            return;
        };
        if self.peer_of(socket).status == PeerStatus::Running {
            self.clients.consumers[cid.index()].status = ConsumerStatus::Running;
            self.try_recv(socket);
        }
    }

    /// `crash_consumer` kills the consumer's whole process; `remove_consumer` ends its
    /// application only, losing what it held.
    pub(crate) fn close_consumer(&mut self, cid: ConsumerId, status: ConsumerStatus) {
        let socket = self.socket_of(cid).expect("a ZeroMQ consumer");
        if status == ConsumerStatus::Crashed {
            let peer = self.family.sockets[socket as usize].peer;
            self.crash(peer);
            return;
        }
        let lost = self.drop_held(cid, DropReason::ProcessExit);
        self.clients.consumers[cid.index()].status = status;
        self.family.sockets[socket as usize].consumer = None;
        self.crashed(cid, 0, lost);
    }

    /// kill -9: everything in the process is lost, and every connection breaks (ZMQ-1).
    pub(crate) fn crash(&mut self, peer: u32) {
        let lost = self.stop_applications(peer);
        let lost = lost + self.break_all(peer);
        self.family.peers[peer as usize].status = PeerStatus::Crashed;
        self.world
            .emit(EventKind::Zmq(ZmqEvent::PeerCrashed { peer, lost }));
    }

    /// The process's producers stop ticking and its consumers lose what they hold; a blocked
    /// send is lost. Returns the copies lost.
    fn stop_applications(&mut self, peer: u32) -> u32 {
        let mut lost = 0;
        for s in self.family.peers[peer as usize].sockets.clone() {
            let sock = &mut self.family.sockets[s as usize];
            sock.burst_left = 0;
            sock.awaiting = None;
            sock.replying_to = None;
            if let Some((slot, _)) = sock.blocked.take() {
                self.world.drop_copy(slot, DropReason::ProcessExit);
                lost += 1;
            }
            let sock = &self.family.sockets[s as usize];
            if let Some(id) = sock.producer {
                self.clients.producers[id.index()].generation += 1;
            }
            if let Some(cid) = sock.consumer {
                if self.clients.consumers[cid.index()].status == ConsumerStatus::Running {
                    lost += self.drop_held(cid, DropReason::ProcessExit);
                    self.clients.consumers[cid.index()].status = ConsumerStatus::Crashed;
                }
            }
        }
        lost
    }

    /// Every connection of the process breaks; returns the copies lost.
    fn break_all(&mut self, peer: u32) -> u32 {
        let mut lost = 0;
        for conn in 0..self.family.conns.len() as u32 {
            let c = &self.family.conns[conn as usize];
            if c.state == ConnState::Down && c.inp.q.is_empty() {
                continue;
            }
            for dead in [c.sender, c.receiver] {
                if self.family.sockets[dead as usize].peer == peer {
                    lost += self.break_conn(conn, dead);
                    break;
                }
            }
        }
        for s in self.family.peers[peer as usize].sockets.clone() {
            self.family.sockets[s as usize].pipes.clear();
        }
        lost
    }

    /// A connection loses its end in `dead`'s process: that end's pipe and the wire go. A
    /// connecting survivor keeps its pipe and reconnects; a binding survivor destroys its
    /// out-pipe and keeps its in-pipe readable (ZMQ-1.3; libzmq `session_base.cpp`).
    fn break_conn(&mut self, conn: u32, dead: u32) -> u32 {
        let c = &mut self.family.conns[conn as usize];
        let mut gone: Vec<Slot> = c.wire.drain(..).chain(c.back.drain(..)).collect();
        c.epoch += 1;
        c.filters.clear();
        let survivor = if dead == c.sender {
            gone.extend(c.out.take());
            c.inp.reconnected();
            c.receiver
        } else {
            gone.extend(c.inp.take());
            c.sender
        };
        let survivor_is_connecter = survivor == c.connecter;
        if survivor_is_connecter && c.state != ConnState::Down {
            c.state = ConnState::Connecting;
            if dead == c.receiver {
                c.inp = Pipe::new(c.inp.hwm);
            }
            if self.family.sockets[survivor as usize].spec.immediate {
                self.family.sockets[survivor as usize]
                    .pipes
                    .retain(|p| *p != conn);
            }
        } else {
            c.state = ConnState::Down;
            if survivor == c.sender {
                gone.extend(c.out.take());
                self.family.sockets[survivor as usize]
                    .pipes
                    .retain(|p| *p != conn);
            }
        }
        let dropped = gone.len() as u32;
        for slot in gone {
            self.world.drop_copy(slot, DropReason::ProcessExit);
        }
        if self.alive(survivor) {
            self.world.emit(EventKind::Zmq(ZmqEvent::ZmqDisconnected {
                socket: survivor,
                remote: dead,
                dropped,
            }));
            if self.family.conns[conn as usize].state == ConnState::Connecting {
                self.attempt(conn);
            }
        }
        dropped
    }

    /// A new incarnation of a stopped process: empty pipes, its applications start again.
    pub(crate) fn restart_peer(&mut self, peer: u32) {
        self.start_peer(peer);
        self.world
            .emit(EventKind::Zmq(ZmqEvent::PeerRestarted { peer }));
        for s in self.family.peers[peer as usize].sockets.clone() {
            let sock = &self.family.sockets[s as usize];
            if let Some(id) = sock.producer {
                let p = &mut self.clients.producers[id.index()];
                p.generation += 1;
                p.started_at = self.world.now;
                self.schedule_next_tick(id);
            }
            if let Some(cid) = self.family.sockets[s as usize].consumer {
                if !self.clients.consumers[cid.index()].spec.stopped {
                    self.clients.consumers[cid.index()].status = ConsumerStatus::Running;
                    self.world
                        .emit(EventKind::ConsumerRestarted { consumer: cid });
                }
            }
        }
    }

    /// `zmq_close` + `zmq_ctx_term`: unread messages are discarded, queued ones drain for up
    /// to each socket's linger (ZMQ-1.4).
    pub(crate) fn close_peer(&mut self, peer: u32) {
        let mut lost = self.stop_applications(peer);
        for conn in 0..self.family.conns.len() {
            let c = &mut self.family.conns[conn];
            if self.family.sockets[c.receiver as usize].peer == peer {
                for slot in c.inp.take() {
                    self.world.drop_copy(slot, DropReason::ProcessExit);
                    lost += 1;
                }
            }
        }
        let p = &mut self.family.peers[peer as usize];
        p.status = PeerStatus::Closing;
        p.closing_lost = lost;
        for s in p.sockets.clone() {
            let linger = self.family.sockets[s as usize].spec.linger_ms;
            if linger == 0.0 {
                self.discard_out_pipes(s);
            } else if linger > 0.0 {
                let at = self.world.now.plus(ms_to_us(linger));
                self.world
                    .schedule(at, ZeroMqWork::LingerEnds { socket: s });
            }
        }
        self.check_exit(peer);
        if self.family.peers[peer as usize].status == PeerStatus::Closing {
            let pending = self.pending(peer);
            self.world
                .emit(EventKind::Zmq(ZmqEvent::PeerExitBlocked { peer, pending }));
        }
    }

    fn discard_out_pipes(&mut self, socket: u32) {
        let mut lost = 0;
        for conn in 0..self.family.conns.len() {
            let c = &mut self.family.conns[conn];
            if c.sender == socket {
                for slot in c.out.take() {
                    self.world.drop_copy(slot, DropReason::ProcessExit);
                    lost += 1;
                }
            }
        }
        let peer = self.family.sockets[socket as usize].peer;
        self.family.peers[peer as usize].closing_lost += lost;
    }

    /// What a closing process still has to send: its out-pipes and its copies on the wire.
    fn pending(&self, peer: u32) -> u32 {
        let f = &self.family;
        (f.conns.iter())
            .filter(|c| f.sockets[c.sender as usize].peer == peer)
            .map(|c| (c.out.q.len() + c.wire.len()) as u32)
            .sum()
    }

    /// A closing process exits once nothing is left to send.
    fn check_exit(&mut self, peer: u32) {
        if self.pending(peer) > 0 {
            return;
        }
        let lost = self.family.peers[peer as usize].closing_lost + self.break_all(peer);
        self.family.peers[peer as usize].status = PeerStatus::Stopped;
        self.world
            .emit(EventKind::Zmq(ZmqEvent::PeerClosed { peer, lost }));
    }

    /// `ZMQ_SUBSCRIBE` later in the run: sent on every connection of the SUB (ZMQ-7).
    pub(crate) fn subscribe(
        &mut self,
        peer: &str,
        socket: &str,
        prefix: String,
    ) -> Result<(), CommandError> {
        let s = self.family.named_socket(peer, socket)?;
        if self.family.sockets[s as usize].spec.kind != SocketType::Sub {
            return Err(CommandError::NotApplicable {
                reason: format!("{peer}/{socket} is not a SUB socket"),
            });
        }
        self.family.sockets[s as usize].filters.push(prefix.clone());
        let at = self.world.now.plus(self.world.latency);
        for conn in 0..self.family.conns.len() as u32 {
            let c = &self.family.conns[conn as usize];
            if c.receiver == s && c.state == ConnState::Up {
                let epoch = c.epoch;
                let prefix = prefix.clone();
                self.world.schedule(
                    at,
                    ZeroMqWork::Subscribe {
                        conn,
                        epoch,
                        prefix,
                    },
                );
            }
        }
        Ok(())
    }

    /// `zmq_connect` later in the run.
    pub(crate) fn connect_command(
        &mut self,
        peer: &str,
        socket: &str,
        endpoint: &str,
    ) -> Result<(), CommandError> {
        let s = self.family.named_socket(peer, socket)?;
        let kind = self.family.sockets[s as usize].spec.kind;
        let bound = (self.family.endpoints.get(endpoint))
            .map(|b| self.family.sockets[*b as usize].spec.kind);
        crate::scenario::zeromq::check_endpoint("endpoint", kind, endpoint, bound)?;
        if self.peer_of(s).status != PeerStatus::Running {
            return Err(CommandError::NotApplicable {
                reason: format!("{peer} is not running"),
            });
        }
        self.family.sockets[s as usize]
            .spec
            .connect
            .push(endpoint.into());
        self.connect(s, endpoint);
        Ok(())
    }
}
