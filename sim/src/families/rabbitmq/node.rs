//! The RabbitMQ node stopping and starting again: what it keeps on disk (RMQ-31..RMQ-33).

use super::{RabbitMq, RabbitMqWork};
use crate::clients::{ClientWork, Closure, ConsumerStatus, Cx};
use crate::command::CommandError;
use crate::event::EventKind;
use crate::ids::{ConsumerId, QueueId};
use crate::kernel::ms_to_us;
use crate::ledger::DropReason;

/// A classic queue writes persistent messages in batches and fsyncs at most this long after
/// the first one; publisher confirms wait for that fsync (`rabbit_amqqueue_process`
/// `SYNC_INTERVAL`, RMQ-31).
pub const SYNC_INTERVAL_MS: f64 = 200.0;

impl RabbitMq {
    pub(crate) fn check_up(&self) -> Result<(), CommandError> {
        if self.down {
            return Err(CommandError::NotApplicable {
                reason: "the RabbitMQ node is stopped".into(),
            });
        }
        Ok(())
    }

    pub(crate) fn check_down(&self) -> Result<(), CommandError> {
        if !self.down {
            return Err(CommandError::NotApplicable {
                reason: "the RabbitMQ node is running".into(),
            });
        }
        Ok(())
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
        if self.family.down {
            return;
        }
        for q in &mut self.family.queues {
            q.mark_synced();
        }
        for p in std::mem::take(&mut self.family.pending_confirms) {
            self.clients.producers[p.index()].confirms_acked += 1;
        }
    }

    /// The node stops. Connections drop, so unacked deliveries go back to their queues
    /// (RMQ-15); then only what a restart recovers stays: durable queues with the persistent
    /// messages already on disk. Transient and exclusive queues go with their messages,
    /// transient messages go, and unconfirmed persistent ones not yet synced go (RMQ-32, RMQ-33).
    pub(crate) fn crash_node(&mut self) {
        self.family.down = true;
        let connected: Vec<ConsumerId> = (self.family.consumers.keys().copied())
            .filter(|c| self.clients.consumers[c.index()].status == ConsumerStatus::Running)
            .collect();
        for &cid in &connected {
            self.close_consumer(cid, ConsumerStatus::Crashed, Closure::Crash);
        }
        self.family.reconnect = connected;
        // Their messages were not on disk: these confirms never come.
        self.family.pending_confirms.clear();
        let mut lost = 0;
        for i in 0..self.family.queues.len() {
            let q = QueueId(i as u32);
            let queue = &self.family.queues[i];
            if queue.deleted {
                continue;
            }
            if !queue.spec.survives_restart() {
                lost += queue.ready_len() as u32;
                self.delete_queue(q, DropReason::TransientQueueLost);
                continue;
            }
            // A quorum queue is always durable and persists every message (RMQ-32).
            if queue.is_quorum() {
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
        self.world.emit(EventKind::RabbitMqNodeStopped { lost });
    }

    /// The node starts from disk. A recovered auto-delete queue has had no consumer yet
    /// (RMQ-33); clients with automatic recovery reconnect to the queues that came back.
    pub(crate) fn restart_node(&mut self) {
        self.family.down = false;
        self.world.emit(EventKind::RabbitMqNodeStarted);
        let live: Vec<QueueId> = (0..self.family.queues.len())
            .map(|i| QueueId(i as u32))
            .filter(|q| !self.family.queues[q.index()].deleted)
            .collect();
        for &q in &live {
            let queue = &mut self.family.queues[q.index()];
            queue.mark_synced();
            queue.had_consumer = false;
            queue.unused_since = None;
            queue.expiry_timer = None;
            self.mark_unused_if_idle(q);
        }
        for cid in std::mem::take(&mut self.family.reconnect) {
            let q = self.family.consumers[&cid];
            if self.clients.consumers[cid.index()].status == ConsumerStatus::Crashed
                && !self.family.queues[q.index()].deleted
            {
                self.consume(cid);
                self.world
                    .emit(EventKind::ConsumerRestarted { consumer: cid });
            }
        }
        for q in live {
            self.dispatch(q);
        }
    }
}
