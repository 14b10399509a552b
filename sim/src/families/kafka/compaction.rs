//! The log cleaner of a compacted topic (KAF-7): every `log.cleaner.backoff.ms` it cleans the
//! partitions whose dirty share reached `min.cleanable.dirty.ratio` or whose kept tombstones are
//! due. It sleeps while only an append could give it work, so an idle topic costs nothing.

use super::{Kafka, KafkaWork};
use crate::clients::{ClientWork, Cx};
use crate::event::EventKind;
use crate::ids::TopicId;
use crate::ledger::CopyState;

impl<W: From<KafkaWork> + From<ClientWork>> Cx<'_, &mut Kafka, W> {
    pub(crate) fn cleaner_run(&mut self, topic: TopicId) {
        let now = self.world.now;
        let t = &mut self.family.topics[topic.index()];
        let c = t
            .config
            .compaction
            .expect("only a compacted topic has a cleaner");
        let mut cleaned = Vec::new();
        for (partition, log) in t.partitions.iter_mut().enumerate() {
            if log.needs_cleaning(now, &c) {
                let done = log.clean(now, &c);
                if done.superseded + done.tombstones > 0 {
                    cleaned.push((partition as u32, done));
                }
            }
        }
        let waits = t.partitions.iter().any(|l| l.waits_for_time(now, &c));
        let (timer, backoff) = t.cleaner.expect("a compacted topic has a cleaner");
        for (partition, done) in cleaned {
            for _ in 0..done.superseded + done.tombstones {
                self.world.ledger.leave(CopyState::Retained);
                self.world.ledger.enter(CopyState::RemovedByCompaction);
            }
            self.world.emit(EventKind::Compacted {
                topic,
                partition,
                removed: done.superseded,
                tombstones: done.tombstones,
            });
        }
        let next = now.plus(backoff);
        let work = KafkaWork::CleanerRun { topic };
        if waits {
            self.world.schedule(next, work);
        } else {
            self.world.sleep_timer(timer, next, work);
        }
    }
}
