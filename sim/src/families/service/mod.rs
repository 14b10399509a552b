//! The no-broker service: requests served directly, refused when its backlog is full.

use crate::clients::{ClientWork, Cx};
use crate::ids::ServiceId;
use crate::kernel::ms_to_us;
use crate::ledger::{CopyState, DropReason};
use crate::message::Slot;
use crate::scenario::ServiceSpec;
use std::collections::{BTreeSet, VecDeque};

#[derive(Clone, Debug)]
pub(crate) struct Service {
    pub spec: ServiceSpec,
    pub busy: u32,
    pub backlog: VecDeque<(u64, Slot)>,
    pub waiting: BTreeSet<u64>,
    pub served: u64,
    pub rejected: u64,
    pub timed_out: u64,
}

/// The services and the sequence of request ids.
#[derive(Clone, Debug, Default)]
pub(crate) struct Services {
    pub services: Vec<Service>,
    pub request_seq: u64,
}

impl Services {
    pub(crate) fn service_id(&self, name: &str) -> Option<ServiceId> {
        self.services
            .iter()
            .position(|s| s.spec.name == name)
            .map(|i| ServiceId(i as u32))
    }

    /// Requests a service holds, waiting or being served; for the audit.
    pub(crate) fn service_held(&self) -> u64 {
        self.services
            .iter()
            .map(|s| u64::from(s.busy) + s.waiting.len() as u64)
            .sum()
    }
}

impl<W: From<ServiceWork> + From<ClientWork>> Cx<'_, &mut Services, W> {
    pub(crate) fn add_service(&mut self, spec: ServiceSpec) {
        self.family.services.push(Service {
            spec,
            busy: 0,
            backlog: VecDeque::new(),
            waiting: BTreeSet::new(),
            served: 0,
            rejected: 0,
            timed_out: 0,
        });
    }

    // ------------------------------------------------------------ producing

    /// A request reaches a service with no broker in front: served, queued in the backlog, or
    /// refused when both are full.
    pub(crate) fn service_arrive(&mut self, slot: Slot, service: ServiceId) {
        let s = &mut self.family.services[service.index()];
        if s.busy < s.spec.concurrency {
            s.busy += 1;
            self.world.set_state(slot, CopyState::InService(service));
            self.start_service(slot, service);
        } else if (s.backlog.len() as u32) < s.spec.backlog {
            self.family.request_seq += 1;
            let id = self.family.request_seq;
            s.backlog.push_back((id, slot));
            s.waiting.insert(id);
            let timeout = ms_to_us(s.spec.timeout_ms);
            self.world.set_state(slot, CopyState::InService(service));
            self.world.schedule(
                self.world.now.plus(timeout),
                ServiceWork::RequestTimeout {
                    service,
                    request: id,
                    slot,
                },
            );
        } else {
            s.rejected += 1;
            self.world.drop_copy(slot, DropReason::ServiceOverloaded);
        }
    }

    pub(crate) fn start_service(&mut self, slot: Slot, service: ServiceId) {
        let us = self.draw_us(
            &self.family.services[service.index()]
                .spec
                .processing
                .clone(),
        );
        self.world.schedule(
            self.world.now.plus(us),
            ServiceWork::ServiceDone { service, slot },
        );
    }

    pub(crate) fn service_done(&mut self, service: ServiceId, slot: Slot) {
        let published_at = self.world.copies.get(slot).published_at;
        self.world.complete(published_at);
        self.world.set_state(slot, CopyState::Acked);
        let s = &mut self.family.services[service.index()];
        s.served += 1;
        // The freed worker takes the oldest request whose client is still waiting.
        while let Some((id, next)) = s.backlog.pop_front() {
            if s.waiting.remove(&id) {
                self.start_service(next, service);
                return;
            }
        }
        s.busy -= 1;
    }

    pub(crate) fn request_timeout(&mut self, service: ServiceId, request: u64, slot: Slot) {
        let s = &mut self.family.services[service.index()];
        if s.waiting.remove(&request) {
            s.timed_out += 1;
            self.world.drop_copy(slot, DropReason::RequestTimeout);
        }
    }
}

/// Work this part schedules on the agenda.
#[derive(Clone, Debug)]
pub(crate) enum ServiceWork {
    ArriveAtService {
        slot: Slot,
        service: ServiceId,
    },
    ServiceDone {
        service: ServiceId,
        slot: Slot,
    },
    RequestTimeout {
        service: ServiceId,
        request: u64,
        slot: Slot,
    },
}

impl<W: From<ServiceWork> + From<ClientWork>> Cx<'_, &mut Services, W> {
    pub(crate) fn run_service(&mut self, work: ServiceWork) {
        match work {
            ServiceWork::ArriveAtService { slot, service } => {
                self.wire.arrived(self.world.now, slot);
                self.service_arrive(slot, service);
            }
            ServiceWork::ServiceDone { service, slot } => self.service_done(service, slot),
            ServiceWork::RequestTimeout {
                service,
                request,
                slot,
            } => self.request_timeout(service, request, slot),
        }
    }
}
