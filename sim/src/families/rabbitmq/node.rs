//! The RabbitMQ node stopping and starting again: what it keeps on disk (RMQ-31..RMQ-33).

use super::queue::Queue;
use super::{RabbitMq, RabbitMqWork};
use crate::clients::{ClientWork, Closure, ConsumerStatus, Cx};
use crate::command::CommandError;
use crate::event::EventKind;
use crate::ids::{ConsumerId, QueueId};
use crate::kernel::ms_to_us;
use crate::ledger::DropReason;
use crate::scenario::{rabbitmq_node_name, RabbitMqClusterSpec};

/// A classic queue writes persistent messages in batches and fsyncs at most this long after
/// the first one; publisher confirms wait for that fsync (`rabbit_amqqueue_process`
/// `SYNC_INTERVAL`, RMQ-31).
pub const SYNC_INTERVAL_MS: f64 = 200.0;

impl RabbitMq {
    /// Sets up a cluster of `nodes` nodes (RMQ-32); before any queue is added.
    pub(crate) fn set_cluster(&mut self, spec: &RabbitMqClusterSpec) {
        self.up = vec![true; spec.nodes as usize];
        self.election_us = ms_to_us(spec.election_ms);
    }

    /// The queues not deleted, which a node's restart or heal goes through.
    fn live_queues(&self) -> Vec<QueueId> {
        (0..self.queues.len() as u32)
            .map(QueueId)
            .filter(|q| !self.queues[q.index()].deleted)
            .collect()
    }

    /// Every node is stopped: no connection can be made at all.
    pub fn all_down(&self) -> bool {
        !self.up.iter().any(|&u| u)
    }

    /// A majority of the queue's members run on the majority side of any partition: they can
    /// elect a leader.
    fn majority_up(&self, queue: &Queue) -> bool {
        let up = (queue.members.iter())
            .filter(|&&n| self.up[n as usize] && self.isolated != Some(n))
            .count();
        2 * up > queue.members.len()
    }

    /// Nodes `a` and `b` are on the same side of the network partition, if there is one.
    pub(crate) fn reachable(&self, a: u32, b: u32) -> bool {
        self.isolated.is_none_or(|cut| (a == cut) == (b == cut))
    }

    /// The node clients are connected to: the first running node (where queues are declared,
    /// `client-local`), skipping an isolated node once it has paused and closed their
    /// connections (`pause_minority`).
    pub(crate) fn client_node(&self) -> u32 {
        (0..self.up.len() as u32)
            .find(|&n| self.up[n as usize] && !(self.paused && self.isolated == Some(n)))
            .unwrap_or(0)
    }

    /// The queue takes publishes and delivers: a classic queue while its node runs and serves
    /// clients, a quorum queue while it has a leader and a majority of its members run on the
    /// leader's side of any partition (quorum-queues#availability).
    pub fn available(&self, q: QueueId) -> bool {
        let queue = &self.queues[q.index()];
        let node = queue.node;
        if !self.up[node as usize] {
            return false;
        }
        if !queue.is_quorum() {
            return !(self.paused && self.isolated == Some(node));
        }
        let reach = (queue.members.iter())
            .filter(|&&m| self.up[m as usize] && self.reachable(m, node))
            .count();
        !queue.electing && 2 * reach > queue.members.len()
    }

    pub(crate) fn check_up(&self) -> Result<(), CommandError> {
        if self.all_down() {
            return Err(CommandError::NotApplicable {
                reason: "the RabbitMQ node is stopped".into(),
            });
        }
        Ok(())
    }

    /// The node `name` (`rabbit-1` when none is named), if it runs and is not cut off.
    pub(crate) fn node_to_stop(&self, name: Option<&str>) -> Result<u32, CommandError> {
        let n = self.node_named(name.unwrap_or("rabbit-1"))?;
        if !self.up[n as usize] {
            return Err(CommandError::NotApplicable {
                reason: format!("{} is already stopped", rabbitmq_node_name(n)),
            });
        }
        if self.isolated == Some(n) {
            return Err(CommandError::NotApplicable {
                reason: format!("{} is isolated: heal it first", rabbitmq_node_name(n)),
            });
        }
        Ok(n)
    }

    /// The node `name` a network partition may cut off: a running node of a cluster, while no
    /// other node is cut off (one partition at a time).
    pub(crate) fn node_to_isolate(&self, name: &str) -> Result<u32, CommandError> {
        if self.up.len() < 2 {
            return Err(CommandError::NotApplicable {
                reason: "a network partition needs a RabbitMQ cluster of several nodes".into(),
            });
        }
        let n = self.node_named(name)?;
        let reason = if !self.up[n as usize] {
            format!("{name} is stopped")
        } else if self.isolated == Some(n) {
            format!("{name} is already isolated")
        } else if let Some(other) = self.isolated {
            let other = rabbitmq_node_name(other);
            format!("{other} is isolated: heal it first (one partition at a time)")
        } else {
            return Ok(n);
        };
        Err(CommandError::NotApplicable { reason })
    }

    /// The node `name`, if a network partition cuts it off.
    pub(crate) fn node_to_heal(&self, name: &str) -> Result<u32, CommandError> {
        let n = self.node_named(name)?;
        if self.isolated != Some(n) {
            return Err(CommandError::NotApplicable {
                reason: format!("{name} is not isolated"),
            });
        }
        Ok(n)
    }

    /// The node `name` (the first stopped one when none is named), if it is stopped.
    pub(crate) fn node_to_start(&self, name: Option<&str>) -> Result<u32, CommandError> {
        let n = match name {
            Some(name) => self.node_named(name)?,
            None => self.up.iter().position(|&u| !u).unwrap_or(0) as u32,
        };
        if self.up[n as usize] {
            return Err(CommandError::NotApplicable {
                reason: "the RabbitMQ node is running".into(),
            });
        }
        Ok(n)
    }

    fn node_named(&self, name: &str) -> Result<u32, CommandError> {
        (0..self.up.len() as u32)
            .find(|&n| rabbitmq_node_name(n) == name)
            .ok_or_else(|| CommandError::UnknownEntity {
                kind: "RabbitMQ node",
                name: name.to_string(),
            })
    }

    /// A consumer may (re)subscribe to `q`: the node is up, the queue exists and, if exclusive,
    /// no other consumer's connection owns it (RMQ-33).
    pub(crate) fn check_consumable(
        &self,
        q: QueueId,
        cid: Option<ConsumerId>,
        running: impl Fn(ConsumerId) -> bool,
    ) -> Result<(), CommandError> {
        self.check_up()?;
        let queue = &self.queues[q.index()];
        if !queue.is_quorum() && !self.up[queue.node as usize] {
            return Err(CommandError::NotApplicable {
                reason: format!("{} is stopped", rabbitmq_node_name(queue.node)),
            });
        }
        if !queue.is_quorum() && !self.available(q) {
            return Err(CommandError::NotApplicable {
                reason: format!(
                    "{} is paused (network partition)",
                    rabbitmq_node_name(queue.node)
                ),
            });
        }
        if queue.deleted {
            return Err(CommandError::NotApplicable {
                reason: format!("NOT_FOUND: no queue '{}'", queue.name()),
            });
        }
        let owned =
            (self.consumers.iter()).any(|(c, at)| *at == q && Some(*c) != cid && running(*c));
        if queue.spec.exclusive && owned {
            return Err(CommandError::NotApplicable {
                reason: format!(
                    "RESOURCE_LOCKED: queue '{}' is exclusive to another connection",
                    queue.name()
                ),
            });
        }
        Ok(())
    }
}

impl<W: From<RabbitMqWork> + From<ClientWork>> Cx<'_, &mut RabbitMq, W> {
    /// A persistent message reached a durable classic queue: it is on disk, and its confirm
    /// goes out, only at the next fsync (RMQ-31).
    pub(crate) fn needs_sync(&mut self) {
        if !self.family.sync_scheduled {
            self.family.sync_scheduled = true;
            let at = self.world.now.plus(ms_to_us(SYNC_INTERVAL_MS));
            self.world.schedule(at, RabbitMqWork::Sync);
        }
    }

    /// The fsync: everything queued so far is on disk, and the waiting confirms are sent.
    pub(crate) fn sync(&mut self) {
        self.family.sync_scheduled = false;
        let up = &self.family.up;
        for q in &mut self.family.queues {
            if up[q.node as usize] {
                q.mark_synced();
            }
        }
        for (p, node) in std::mem::take(&mut self.family.pending_confirms) {
            if up[node as usize] {
                self.clients.producers[p.index()].confirms_acked += 1;
            }
        }
    }

    /// Node `n` stops. Connections to it drop, so unacked deliveries go back to their queues
    /// (RMQ-15); then only what a restart recovers stays of its classic queues: durable queues
    /// with the persistent messages already on disk. Transient and exclusive queues go with
    /// their messages, transient messages go, and unconfirmed persistent ones not yet synced go
    /// (RMQ-32, RMQ-33). A quorum queue loses nothing: its followers elect a leader elsewhere
    /// if a majority of its members still runs (quorum-queues#leader-election).
    pub(crate) fn crash_node(&mut self, n: u32) {
        self.family.up[n as usize] = false;
        self.drop_connections(n);
        let mut lost = 0;
        for i in 0..self.family.queues.len() {
            let q = QueueId(i as u32);
            let queue = &self.family.queues[i];
            if queue.deleted {
                continue;
            }
            // A quorum queue is always durable and persists every message (RMQ-32).
            if queue.is_quorum() {
                if queue.node == n && queue.members.len() > 1 {
                    self.start_election(q);
                }
                continue;
            }
            if queue.node != n {
                continue;
            }
            if !queue.spec.survives_restart() {
                lost += queue.ready_len() as u32;
                self.delete_queue(q, DropReason::TransientQueueLost);
                continue;
            }
            for e in self.family.queues[i].drain_ready() {
                let c = self.world.copies.get(e.slot);
                let queue = &mut self.family.queues[i];
                let reason = if !c.persistent {
                    DropReason::LostInBrokerRestart
                } else if !queue.on_disk(e.seq) {
                    DropReason::NotYetOnDisk
                } else {
                    let level = queue.level_of(c.priority);
                    queue.requeue(e.slot, e.seq, level, c.size);
                    continue;
                };
                self.world.drop_copy(e.slot, reason);
                lost += 1;
            }
        }
        if self.family.all_down() {
            // The publishers' connections are gone, and with them what they were resending.
            for q in 0..self.family.queues.len() {
                self.drop_held_publishes(QueueId(q as u32), DropReason::BrokerDown);
            }
        }
        let node = (self.family.up.len() > 1).then_some(n);
        self.world
            .emit(EventKind::RabbitMqNodeStopped { lost, node });
    }

    /// The connections to node `n` drop: its consumers' unacked deliveries go back to their
    /// queues (RMQ-15) and they reconnect when their queue is back; the confirms it had not
    /// sent never come.
    fn drop_connections(&mut self, n: u32) {
        let connected: Vec<ConsumerId> = (self.family.consumers.iter())
            .filter(|(c, q)| {
                self.clients.consumers[c.index()].status == ConsumerStatus::Running
                    && self.family.queues[q.index()].node == n
            })
            .map(|(c, _)| *c)
            .collect();
        for &cid in &connected {
            self.close_consumer(cid, ConsumerStatus::Crashed, Closure::Crash);
        }
        self.family.reconnect.extend(connected);
        self.family.pending_confirms.retain(|&(_, node)| node != n);
    }

    /// A network partition cuts node `n` off from the other nodes; clients still reach it
    /// (partitions). A quorum queue it leads can no longer commit: the majority's members
    /// elect a leader after `election_ms`, and the old leader, not hearing of it, keeps the
    /// publishes its clients send it, unconfirmed. After the same delay the node notices it is
    /// in a minority and pauses (`pause_minority`).
    pub(crate) fn isolate_node(&mut self, n: u32) {
        self.family.isolated = Some(n);
        self.family.isolations += 1;
        self.world.emit(EventKind::RabbitMqNodeIsolated { node: n });
        for i in 0..self.family.queues.len() {
            let queue = &self.family.queues[i];
            if !queue.deleted && queue.is_quorum() && queue.node == n && queue.members.len() > 1 {
                self.start_election(QueueId(i as u32));
            }
        }
        let at = self.world.now.plus(self.family.election_us);
        let round = self.family.isolations;
        self.world
            .schedule(at, RabbitMqWork::PauseMinority { round });
    }

    /// `pause_minority`: the isolated node closes its client connections. Consumers connected
    /// to it wait for their queue to come back; producers reconnect to the majority
    /// (`client_node`).
    pub(crate) fn pause_minority(&mut self, round: u32) {
        let Some(n) = self.family.isolated else {
            return;
        };
        if round != self.family.isolations {
            return;
        }
        self.family.paused = true;
        self.world.emit(EventKind::RabbitMqNodePaused { node: n });
        self.drop_connections(n);
    }

    /// The partition heals. A quorum queue's old leader hears of the newer term and steps
    /// down: the publishes it took alone were never committed and are discarded
    /// (`truncated_on_election`; their publishers never had a confirm). If no election took
    /// its lead, they are replicated now and commit. Its members catch up as followers.
    pub(crate) fn heal_node(&mut self, n: u32) {
        self.family.isolated = None;
        self.family.paused = false;
        let caught_up = std::mem::take(&mut self.family.behind);
        self.world
            .emit(EventKind::RabbitMqNodeHealed { node: n, caught_up });
        let live = self.family.live_queues();
        for &q in &live {
            let queue = &mut self.family.queues[q.index()];
            let mut stale = std::mem::take(&mut queue.uncommitted);
            if queue.node == n {
                stale.append(&mut queue.held);
                queue.held = stale;
                continue;
            }
            for slot in stale {
                let msg = self.world.copies.get(slot).msg;
                self.family.held_confirms.remove(&msg);
                self.world.drop_copy(slot, DropReason::TruncatedOnElection);
            }
        }
        self.reconnect(|family, queue| family.available(queue));
        for q in live {
            let queue = &self.family.queues[q.index()];
            if queue.is_quorum() {
                if !self.family.up[queue.node as usize] {
                    self.start_election(q);
                } else if self.family.available(q) {
                    self.resume(q);
                    continue;
                }
            }
            self.dispatch(q);
        }
    }

    /// The followers of a quorum queue whose leader's node stopped hold an election, if a
    /// majority of its members runs; otherwise the queue waits for a node to come back.
    fn start_election(&mut self, q: QueueId) {
        let queue = &self.family.queues[q.index()];
        if queue.electing || !self.family.majority_up(queue) {
            return;
        }
        self.family.queues[q.index()].electing = true;
        let at = self.world.now.plus(self.family.election_us);
        self.world.schedule(at, RabbitMqWork::Elect { queue: q });
    }

    /// The election ends: the first running member after the old leader, on the majority side
    /// of any partition, leads, if a majority still runs there. The new leader has every confirmed message, since a majority had each one
    /// (quorum-queues#data-safety).
    pub(crate) fn elect(&mut self, q: QueueId) {
        let queue = &mut self.family.queues[q.index()];
        queue.electing = false;
        if queue.deleted || !self.family.majority_up(&self.family.queues[q.index()]) {
            return;
        }
        let queue = &self.family.queues[q.index()];
        let at = queue
            .members
            .iter()
            .position(|&m| m == queue.node)
            .unwrap_or(0);
        let len = queue.members.len();
        let Some(leader) = (1..=len)
            .map(|k| queue.members[(at + k) % len])
            .find(|&m| self.family.up[m as usize] && self.family.isolated != Some(m))
        else {
            return;
        };
        self.family.queues[q.index()].node = leader;
        self.world.emit(EventKind::QuorumLeaderElected {
            queue: q,
            node: leader,
        });
        self.resume(q);
    }

    /// A quorum queue has a leader and a majority again: the channels resend what they held,
    /// its consumers reconnect, and it delivers.
    fn resume(&mut self, q: QueueId) {
        for slot in std::mem::take(&mut self.family.queues[q.index()].held) {
            let msg = self.world.copies.get(slot).msg;
            let accepted = self.enqueue(q, slot);
            let Some(&(p, waiting)) = self.family.held_confirms.get(&msg) else {
                continue;
            };
            if !accepted {
                self.family.held_confirms.remove(&msg);
                let producer = &mut self.clients.producers[p.index()];
                producer.confirms_nacked += 1;
                producer.nacks.push(msg);
                self.world
                    .emit(EventKind::PublisherNacked { msg, producer: p });
            } else if waiting == 1 {
                self.family.held_confirms.remove(&msg);
                self.clients.producers[p.index()].confirms_acked += 1;
            } else {
                self.family.held_confirms.insert(msg, (p, waiting - 1));
            }
        }
        self.reconnect(|family, queue| family.available(queue));
        self.dispatch(q);
    }

    /// Consumers whose connection a stop dropped reconnect (automatic recovery) to the queues
    /// `back` says are back.
    fn reconnect(&mut self, back: impl Fn(&RabbitMq, QueueId) -> bool) {
        let waiting = std::mem::take(&mut self.family.reconnect);
        for cid in waiting {
            let q = self.family.consumers[&cid];
            let crashed = self.clients.consumers[cid.index()].status == ConsumerStatus::Crashed;
            if !crashed || self.family.queues[q.index()].deleted {
                continue;
            }
            if back(self.family, q) {
                self.consume(cid);
                self.world
                    .emit(EventKind::ConsumerRestarted { consumer: cid });
            } else {
                self.family.reconnect.push(cid);
            }
        }
    }

    /// A held or uncommitted publish goes with the queue or the connection: never confirmed.
    pub(crate) fn drop_held_publishes(&mut self, q: QueueId, reason: DropReason) {
        let queue = &mut self.family.queues[q.index()];
        let mut gone = std::mem::take(&mut queue.uncommitted);
        gone.append(&mut queue.held);
        for slot in gone {
            let msg = self.world.copies.get(slot).msg;
            self.family.held_confirms.remove(&msg);
            self.world.drop_copy(slot, reason);
        }
    }

    /// Node `n` starts from disk. A recovered auto-delete queue has had no consumer yet
    /// (RMQ-33); clients with automatic recovery reconnect to the queues that came back. A
    /// quorum queue whose leader is gone elects one now that a majority runs; one whose
    /// leader runs resumes at once.
    pub(crate) fn restart_node(&mut self, n: u32) {
        self.family.up[n as usize] = true;
        let node = (self.family.up.len() > 1).then_some(n);
        self.world.emit(EventKind::RabbitMqNodeStarted { node });
        let live = self.family.live_queues();
        for &q in &live {
            let queue = &mut self.family.queues[q.index()];
            if queue.node != n {
                continue;
            }
            queue.mark_synced();
            queue.had_consumer = false;
            queue.unused_since = None;
            queue.expiry_timer = None;
            self.mark_unused_if_idle(q);
        }
        // Any consumer whose queue is back may reconnect, whichever node stopped it.
        self.reconnect(|family, queue| family.available(queue));
        for q in live {
            let queue = &self.family.queues[q.index()];
            if queue.is_quorum() && queue.members.contains(&n) {
                let leader = queue.node;
                if !self.family.up[leader as usize] || self.family.isolated == Some(leader) {
                    self.start_election(q);
                } else if self.family.available(q) {
                    self.resume(q);
                    continue;
                }
            }
            self.dispatch(q);
        }
    }
}
