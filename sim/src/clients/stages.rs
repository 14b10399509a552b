//! Stages: consumers that publish (issue 14). A service of the shop keeps its own small
//! database (rows per transaction, stock, the ids it has received, an outbox) and runs one
//! local transaction per message it finishes, then publishes through an ordinary producer, so
//! any family can connect the stages. The saga figures are read off these tables. A stage that
//! reads a Kafka log can run each step as a Kafka transaction instead (PAT-10).

use crate::clients::producers::Route;
use crate::clients::{ClientWork, Clients, Cx};
use crate::command::CommandError;
use crate::event::{EventKind, StageEvent, StageRole, StageWrite, StepKind};
use crate::ids::{ConsumerId, MessageId, ProducerId};
use crate::kernel::ms_to_us;
use crate::message::PipeTag;
use crate::scenario::StageSpec;
use crate::time::SimTime;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Transactions a snapshot lists, the newest ones.
pub const MAX_LISTED_SAGAS: usize = 200;

/// A transaction's state at one service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SagaState {
    Pending,
    Paid,
    Reserved,
    Shipped,
    Failed,
    Compensated,
    /// An approved order a cancel request holds under its semantic lock (PAT-7).
    CancelPending,
    /// An order the cancel saga ended, and the shipment it stopped (PAT-7).
    Cancelled,
    /// A view of a `SHIPPED` row whose parcel is still in the warehouse (the shipping stage's
    /// `departs_ms`): a cancel can stop it.
    Scheduled,
}

/// The step an orchestrated saga instance is at (`stateName`, PAT-6): the command it awaits a
/// reply to, or the last step it took when it ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SagaStep {
    AuthorizePayment,
    ReserveStock,
    ScheduleShipment,
    VoidPayment,
    ApproveOrder,
    RejectOrder,
    /// FTGO's `CancelOrderSaga` (PAT-7), after the order's `beginCancel`: the shipment first,
    /// as it may refuse (the parcel has left); then the payment's `reverseAuthorization` and
    /// the reservation; the end `confirmCancel`, or the compensation `undoBeginCancel`.
    CancelShipment,
    ReverseAuthorization,
    ReleaseStock,
    ConfirmCancel,
    UndoBeginCancel,
}

/// Eventuate Tram's `SagaInstance`: the orchestrator's stored record of one saga, not a
/// running thread (PAT-6). It lives in the order service's database, so it survives a crash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SagaInstance {
    pub saga_type: &'static str,
    pub saga_id: u64,
    pub state_name: SagaStep,
    /// The id of the outstanding command message.
    pub last_request_id: Option<MessageId>,
    pub compensating: bool,
    pub end_state: bool,
    pub failed: bool,
}

impl SagaStep {
    /// The command this step sends, and the index of its producer in [`Links`].
    fn command(self) -> Option<(StepKind, usize)> {
        match self {
            SagaStep::AuthorizePayment => Some((StepKind::AuthorizePayment, CMD_PAYMENT)),
            SagaStep::ReserveStock => Some((StepKind::ReserveStock, CMD_INVENTORY)),
            SagaStep::ScheduleShipment => Some((StepKind::ScheduleShipment, CMD_SHIPPING)),
            SagaStep::VoidPayment | SagaStep::ReverseAuthorization => {
                Some((StepKind::VoidPayment, CMD_PAYMENT))
            }
            SagaStep::CancelShipment => Some((StepKind::CancelShipment, CMD_SHIPPING)),
            SagaStep::ReleaseStock => Some((StepKind::ReleaseStock, CMD_INVENTORY)),
            SagaStep::ApproveOrder
            | SagaStep::RejectOrder
            | SagaStep::ConfirmCancel
            | SagaStep::UndoBeginCancel => None,
        }
    }
}

/// One row of a service's table: its state and how often a forward step wrote it (a second
/// charge or shipment is a duplicate the idempotent consumer would have skipped).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    pub state: SagaState,
    pub writes: u32,
}

/// An outbox row: the message, its id fixed at the write, waiting for the relay (PAT-2).
#[derive(Clone, Copy, Debug)]
struct OutboxRow {
    producer: ProducerId,
    msg: MessageId,
    tag: PipeTag,
}

/// One service's database and counters.
#[derive(Clone, Debug)]
pub(crate) struct Service {
    pub spec: StageSpec,
    links: Links,
    pub rows: BTreeMap<u64, Row>,
    /// The orchestrator's saga instances by transaction (PAT-6): the order's latest saga,
    /// its create saga until a cancel starts another.
    pub instances: BTreeMap<u64, SagaInstance>,
    /// Shipping: when each shipment was scheduled; it leaves `departs_ms` later.
    scheduled_at: BTreeMap<u64, SimTime>,
    pub stock: Vec<u32>,
    /// `received_messages`: ids the idempotent consumer has processed (PAT-3).
    pub received: BTreeSet<MessageId>,
    outbox: Vec<OutboxRow>,
    relay_scheduled: bool,
    relay_crash: bool,
    pub steps: u64,
    pub duplicates_skipped: u64,
    pub relayed: u64,
    pub compensations: u64,
    /// Steps whose Kafka transaction a crash aborted (PAT-10).
    pub aborted: u64,
}

/// Every stage, keyed by its role, plus what spans them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Stages {
    pub services: BTreeMap<StageRole, Service>,
    /// Consumers whose next step crashes after its write, with their restart delay.
    armed: BTreeMap<ConsumerId, Option<u64>>,
    /// Transactions whose event a dual-write crash destroyed and nothing has resent (PAT-1).
    lost: BTreeSet<u64>,
    /// When each open order was written, until it is shipped or rejected.
    opened_at: BTreeMap<u64, SimTime>,
    /// Orders settled (first shipped or rejected) and their total time pending, in µs.
    settled: u64,
    settle_us: u64,
    /// The callers' outstanding requests by id, with when they were sent (PAT-8).
    outstanding: BTreeMap<u64, SimTime>,
    replies: u64,
    reply_us: u64,
}

/// What the registry does after a step.
pub(crate) enum StepOutcome {
    Continue,
    /// The process died between its write and its publish, or, reading a Kafka log, between
    /// its output and its offset commit; restart after this many µs. `aborted`: the output of
    /// the Kafka transaction the crash aborted (PAT-10).
    Crash {
        restart: Option<u64>,
        aborted: Vec<MessageId>,
    },
}

/// The copy a stage consumer just finished, read before its family settles it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StageInput {
    role: StageRole,
    msg: MessageId,
    pipe: Option<PipeTag>,
    published_at: SimTime,
    /// A record of a Kafka log: the step's write is its output, and the offset commit comes
    /// after it (PAT-10).
    from_log: bool,
}

impl StageInput {
    /// A Kafka record a stage's group member finished.
    pub(crate) fn record(
        role: StageRole,
        msg: MessageId,
        pipe: Option<PipeTag>,
        published_at: SimTime,
    ) -> StageInput {
        StageInput {
            role,
            msg,
            pipe,
            published_at,
            from_log: true,
        }
    }
}

/// What one step changes in its service, put back when its Kafka transaction aborts: the
/// tables are a state store whose changelog is written in the same transaction (PAT-10).
struct Undo {
    txn: u64,
    row: Option<Row>,
    instance: Option<SagaInstance>,
    stock: Vec<u32>,
    compensations: u64,
    received: Option<MessageId>,
}

/// The anomalies a reader of the services' tables sees right now (PAT-9).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Anomalies {
    pub paid_out_of_stock: u64,
    pub reserved_payment_failed: u64,
    pub shipped_twice: u64,
    pub charged_twice: u64,
    pub paid_never_shipped: u64,
    pub lost: u64,
}

/// One transaction across the services.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SagaView {
    pub txn: u64,
    pub order: Option<SagaState>,
    pub payment: Option<SagaState>,
    pub inventory: Option<SagaState>,
    pub shipping: Option<SagaState>,
    /// The orchestrator's record of this saga, when the order service orchestrates (PAT-6).
    pub instance: Option<SagaInstance>,
    pub shipments: u32,
    pub charges: u32,
    pub lost: bool,
}

/// One service's figures, with the remedies' costs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StageView {
    pub role: StageRole,
    pub outbox: bool,
    pub idempotent: bool,
    pub saga: bool,
    /// The order service orchestrates the saga (PAT-5).
    pub orchestrates: bool,
    /// Each step is a Kafka transaction (PAT-10).
    pub kafka_transactions: bool,
    pub steps: u64,
    pub stock: Vec<u32>,
    pub outbox_pending: u64,
    pub relayed: u64,
    pub duplicates_skipped: u64,
    pub compensations: u64,
    /// Steps whose Kafka transaction a crash aborted, to be done again (PAT-10).
    pub transactions_aborted: u64,
}

/// The saga figures of a run: per service, per transaction (the newest
/// [`MAX_LISTED_SAGAS`]), and the live anomaly counts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PipelineView {
    pub services: Vec<StageView>,
    pub orders: u64,
    pub shipped: u64,
    pub compensated: u64,
    /// Orders the cancel saga cancelled (PAT-7).
    pub cancelled: u64,
    /// Orders a reader sees `PENDING` or `CANCEL_PENDING` right now: held by a saga's
    /// semantic lock, so other requests against them are refused (PAT-7).
    pub locked: u64,
    pub anomalies: Anomalies,
    /// Mean time from the order's write to its first shipment or its rejection: what a saga's
    /// remedies cost in time spent pending.
    pub mean_pending_ms: f64,
    /// Replies the callers matched by correlation id, and their mean wait from the request
    /// (the pseudo-synchronous call, PAT-8).
    pub replies: u64,
    pub mean_reply_ms: f64,
    pub sagas: Vec<SagaView>,
}

impl Service {
    fn new(spec: StageSpec, links: Links) -> Self {
        let stock = vec![spec.stock.unwrap_or(0); spec.items as usize];
        Service {
            spec,
            links,
            rows: BTreeMap::new(),
            instances: BTreeMap::new(),
            scheduled_at: BTreeMap::new(),
            stock,
            received: BTreeSet::new(),
            outbox: Vec::new(),
            relay_scheduled: false,
            relay_crash: false,
            steps: 0,
            duplicates_skipped: 0,
            relayed: 0,
            compensations: 0,
            aborted: 0,
        }
    }

    fn state(&self, txn: u64) -> Option<SagaState> {
        self.rows.get(&txn).map(|r| r.state)
    }

    /// Writes a row; a forward write counts once more.
    fn write(&mut self, txn: u64, state: SagaState, forward: bool) {
        let row = self.rows.entry(txn).or_insert(Row { state, writes: 0 });
        row.state = state;
        row.writes += u32::from(forward);
    }

    /// The local transaction of one message: the write and the event it announces.
    fn transact(
        &mut self,
        txn: u64,
        incoming: Option<StepKind>,
        declined: bool,
        now: SimTime,
    ) -> Transacted {
        use SagaState::*;
        if self.spec.orchestrate.is_some() {
            return self.orchestrate(txn, incoming);
        }
        let back = incoming.is_some_and(StepKind::is_back);
        let (wrote, out) = match (self.spec.role, back) {
            (StageRole::Order, false) if incoming.is_none() => {
                self.write(txn, Pending, true);
                (StageWrite::OrderOpened, Some(StepKind::OrderCreated))
            }
            (StageRole::Order, false) => {
                self.write(txn, Shipped, false);
                (StageWrite::OrderApproved, Some(StepKind::OrderConfirmed))
            }
            (StageRole::Order, true) => {
                self.write(txn, Compensated, false);
                (StageWrite::OrderRejected, Some(StepKind::OrderRefused))
            }
            (StageRole::Payment, false) if declined => {
                self.write(txn, Failed, false);
                (StageWrite::Declined, Some(StepKind::PaymentDeclined))
            }
            (StageRole::Payment, false) => {
                self.write(txn, Paid, true);
                (StageWrite::Paid, Some(StepKind::PaymentAuthorized))
            }
            (StageRole::Payment, true) => {
                let wrote = if self.state(txn) == Some(Paid) {
                    self.write(txn, Compensated, false);
                    StageWrite::Voided
                } else {
                    StageWrite::NothingToUndo
                };
                (wrote, Some(StepKind::PaymentVoided))
            }
            (StageRole::Inventory, false) => {
                let item = (txn % self.stock.len() as u64) as usize;
                if self.spec.stock.is_none() || self.stock[item] > 0 {
                    if self.spec.stock.is_some() {
                        self.stock[item] -= 1;
                    }
                    self.write(txn, Reserved, true);
                    (StageWrite::Reserved, Some(StepKind::StockReserved))
                } else {
                    self.write(txn, Failed, false);
                    (
                        StageWrite::OutOfStock,
                        Some(StepKind::StockReservationFailed),
                    )
                }
            }
            (StageRole::Inventory, true) => {
                let wrote = if self.state(txn) == Some(Reserved) {
                    let item = (txn % self.stock.len() as u64) as usize;
                    if self.spec.stock.is_some() {
                        self.stock[item] += 1;
                    }
                    self.write(txn, Compensated, false);
                    StageWrite::Released
                } else {
                    StageWrite::NothingToUndo
                };
                (wrote, Some(StepKind::StockReleased))
            }
            // The cancel saga's pivot: a parcel still in the warehouse is stopped; one that has
            // left cannot be. A cancel of a shipment never scheduled (or already stopped)
            // succeeds doing nothing (PAT-9).
            (StageRole::Shipping, _) if incoming == Some(StepKind::CancelShipment) => {
                match self.state(txn) {
                    Some(Shipped) if self.departed(txn, now) => (
                        StageWrite::CancelRefused,
                        Some(StepKind::ShipmentCancelRefused),
                    ),
                    Some(Shipped) => {
                        self.write(txn, Cancelled, false);
                        (
                            StageWrite::ShipmentCancelled,
                            Some(StepKind::ShipmentCancelled),
                        )
                    }
                    _ => (StageWrite::NothingToUndo, Some(StepKind::ShipmentCancelled)),
                }
            }
            (StageRole::Shipping, false) => {
                self.write(txn, Shipped, true);
                self.scheduled_at.insert(txn, now);
                (StageWrite::Shipped, Some(StepKind::Shipped))
            }
            (StageRole::Shipping, true) => (StageWrite::NothingToUndo, None),
            (StageRole::Translator, _) => (StageWrite::Translated, Some(StepKind::Translated)),
            (StageRole::Client, _) => {
                unreachable!("a caller matches replies, it transacts nothing")
            }
        };
        // A commanded participant answers its orchestrator, whatever the outcome. Otherwise a
        // failure or compensation travels back only in a saga; without one the chain stops.
        let producer = match out {
            Some(StepKind::OrderConfirmed | StepKind::OrderRefused) => self.links[REPLY],
            Some(_) if incoming.is_some_and(StepKind::is_command) => self.links[PUBLISH],
            Some(k) if k.is_back() => self.spec.saga.then_some(self.links[COMPENSATE]).flatten(),
            Some(_) => self.links[PUBLISH],
            None => None,
        };
        self.sent(wrote, producer.zip(out))
    }

    fn sent(&mut self, wrote: StageWrite, out: Option<(ProducerId, StepKind)>) -> Transacted {
        if out.is_some_and(|(_, k)| k.is_back()) {
            self.compensations += 1;
        }
        Transacted { wrote, out }
    }

    /// The orchestrator's local transaction (PAT-5, PAT-6): a request starts a saga instance
    /// with the order `APPROVAL_PENDING`; each reply moves the instance on and sends the next
    /// command, or the compensation in reverse order; the end approves or rejects the order.
    /// A reply the instance does not await (a duplicate) changes nothing.
    fn orchestrate(&mut self, txn: u64, incoming: Option<StepKind>) -> Transacted {
        use SagaStep as S;
        use StepKind as K;
        let Some(kind) = incoming else {
            self.write(txn, SagaState::Pending, true);
            let instance = SagaInstance {
                saga_type: "CreateOrderSaga",
                saga_id: txn,
                state_name: S::AuthorizePayment,
                last_request_id: None,
                compensating: false,
                end_state: false,
                failed: false,
            };
            self.instances.insert(txn, instance);
            return self.command(txn, StageWrite::OrderOpened, S::AuthorizePayment);
        };
        let awaiting = self
            .instances
            .get(&txn)
            .filter(|i| !i.end_state)
            .map(|i| i.state_name);
        match (awaiting, kind) {
            (Some(S::AuthorizePayment), K::PaymentAuthorized) => {
                self.command(txn, StageWrite::SagaAdvanced, S::ReserveStock)
            }
            (Some(S::ReserveStock), K::StockReserved) => {
                self.command(txn, StageWrite::SagaAdvanced, S::ScheduleShipment)
            }
            // The pivot failed: undo the payment before the order.
            (Some(S::ReserveStock), K::StockReservationFailed) => {
                self.instance(txn).compensating = true;
                self.command(txn, StageWrite::SagaCompensating, S::VoidPayment)
            }
            // The cancel saga (PAT-7): the shipment stopped, the payment reversed, the stock
            // released, then the order is cancelled.
            (Some(S::CancelShipment), K::ShipmentCancelled) => {
                self.command(txn, StageWrite::SagaAdvanced, S::ReverseAuthorization)
            }
            (Some(S::ReverseAuthorization), K::PaymentVoided) => {
                self.command(txn, StageWrite::SagaAdvanced, S::ReleaseStock)
            }
            (Some(S::ReleaseStock), K::StockReleased) => {
                self.write(txn, SagaState::Cancelled, false);
                self.end(txn, S::ConfirmCancel, false);
                self.sent(StageWrite::OrderCancelled, None)
            }
            // The parcel has left: nothing was undone but the order's lock.
            (Some(S::CancelShipment), K::ShipmentCancelRefused) => {
                self.write(txn, SagaState::Shipped, false);
                self.instance(txn).compensating = true;
                self.end(txn, S::UndoBeginCancel, true);
                self.sent(StageWrite::CancelUndone, None)
            }
            (Some(S::ScheduleShipment), K::Shipped) => {
                self.write(txn, SagaState::Shipped, false);
                self.end(txn, S::ApproveOrder, false);
                let out = self.links[REPLY].map(|p| (p, K::OrderConfirmed));
                self.sent(StageWrite::OrderApproved, out)
            }
            // Nothing left to undo but the order itself (C1).
            (Some(S::AuthorizePayment), K::PaymentDeclined)
            | (Some(S::VoidPayment), K::PaymentVoided) => {
                self.write(txn, SagaState::Compensated, false);
                self.instance(txn).compensating = true;
                self.end(txn, S::RejectOrder, true);
                let out = self.links[REPLY].map(|p| (p, K::OrderRefused));
                self.sent(StageWrite::OrderRejected, out)
            }
            _ => Transacted {
                wrote: StageWrite::ReplyUnmatched,
                out: None,
            },
        }
    }

    /// Whether a scheduled shipment has left the warehouse.
    fn departed(&self, txn: u64, now: SimTime) -> bool {
        let at = self
            .scheduled_at
            .get(&txn)
            .copied()
            .unwrap_or(SimTime::ZERO);
        now.since(at) >= ms_to_us(self.spec.departs_ms)
    }

    fn instance(&mut self, txn: u64) -> &mut SagaInstance {
        self.instances.get_mut(&txn).expect("awaiting a reply")
    }

    /// Records the step and sends its command; the command's id is recorded once assigned.
    fn command(&mut self, txn: u64, wrote: StageWrite, step: SagaStep) -> Transacted {
        let i = self.instance(txn);
        i.state_name = step;
        i.last_request_id = None;
        let out = step
            .command()
            .and_then(|(kind, link)| self.links[link].map(|p| (p, kind)));
        self.sent(wrote, out)
    }

    fn undo(&self, txn: u64, received: Option<MessageId>) -> Undo {
        Undo {
            txn,
            row: self.rows.get(&txn).copied(),
            instance: self.instances.get(&txn).copied(),
            stock: self.stock.clone(),
            compensations: self.compensations,
            received,
        }
    }

    /// Rolls back one aborted step.
    fn roll_back(&mut self, u: Undo) {
        match u.row {
            Some(row) => self.rows.insert(u.txn, row),
            None => self.rows.remove(&u.txn),
        };
        match u.instance {
            Some(i) => self.instances.insert(u.txn, i),
            None => self.instances.remove(&u.txn),
        };
        (self.stock, self.compensations) = (u.stock, u.compensations);
        if let Some(msg) = u.received {
            self.received.remove(&msg);
        }
        self.aborted += 1;
    }

    fn end(&mut self, txn: u64, step: SagaStep, failed: bool) {
        let i = self.instance(txn);
        (i.state_name, i.last_request_id, i.end_state, i.failed) = (step, None, true, failed);
    }

    fn view(&self) -> StageView {
        StageView {
            role: self.spec.role,
            outbox: self.spec.outbox,
            idempotent: self.spec.idempotent,
            saga: self.spec.saga,
            orchestrates: self.spec.orchestrate.is_some(),
            kafka_transactions: self.spec.kafka_transactions,
            steps: self.steps,
            stock: if self.spec.stock.is_some() {
                self.stock.clone()
            } else {
                Vec::new()
            },
            outbox_pending: self.outbox.len() as u64,
            relayed: self.relayed,
            duplicates_skipped: self.duplicates_skipped,
            compensations: self.compensations,
            transactions_aborted: self.aborted,
        }
    }
}

/// The producers a stage publishes through: forward, back, the reply, and an orchestrator's
/// commands to payment, inventory and shipping ([`StageSpec::links`]).
pub(crate) type Links = [Option<ProducerId>; 6];
const PUBLISH: usize = 0;
const COMPENSATE: usize = 1;
const REPLY: usize = 2;
const CMD_PAYMENT: usize = 3;
const CMD_INVENTORY: usize = 4;
const CMD_SHIPPING: usize = 5;

/// A message a step sends: its producer, its tag, and its id if fixed at the write.
type Outgoing = (ProducerId, PipeTag, Option<MessageId>);

struct Transacted {
    wrote: StageWrite,
    out: Option<(ProducerId, StepKind)>,
}

fn mean_ms(total_us: u64, n: u64) -> f64 {
    if n == 0 {
        0.0
    } else {
        total_us as f64 / n as f64 / 1_000.0
    }
}

impl Stages {
    /// The stage that publishes through `p`.
    pub(crate) fn publisher_role(&self, p: ProducerId) -> Option<StageRole> {
        (self.services.iter())
            .find(|(_, s)| s.links.contains(&Some(p)))
            .map(|(&role, _)| role)
    }

    /// The stages of a scenario; `producer` resolves the names they publish through.
    pub(crate) fn build(
        specs: &[StageSpec],
        producer: impl Fn(&str) -> Option<ProducerId>,
    ) -> Stages {
        let mut stages = Stages::default();
        for s in specs {
            let links = s.links().map(|n| n.and_then(&producer));
            stages
                .services
                .insert(s.role, Service::new(s.clone(), links));
        }
        stages
    }

    /// The service a stage's work names: it was built with the stages, so it is there.
    fn service_mut(&mut self, role: StageRole) -> &mut Service {
        self.services
            .get_mut(&role)
            .expect("a stage's work names a built service")
    }

    fn row(&self, role: StageRole, txn: u64) -> Option<Row> {
        self.services.get(&role)?.rows.get(&txn).copied()
    }

    /// Every transaction the order service opened, with its state at each service at `now`.
    fn sagas(&self, now: SimTime) -> impl Iterator<Item = SagaView> + '_ {
        let txns = self
            .services
            .get(&StageRole::Order)
            .into_iter()
            .flat_map(|s| s.rows.keys().copied());
        txns.map(move |txn| {
            let state = |r| self.row(r, txn).map(|r| r.state);
            let writes = |r| self.row(r, txn).map_or(0, |r| r.writes);
            SagaView {
                txn,
                order: state(StageRole::Order),
                payment: state(StageRole::Payment),
                inventory: state(StageRole::Inventory),
                shipping: state(StageRole::Shipping).map(|st| {
                    let shipping = &self.services[&StageRole::Shipping];
                    if st == SagaState::Shipped && !shipping.departed(txn, now) {
                        SagaState::Scheduled
                    } else {
                        st
                    }
                }),
                instance: self.services[&StageRole::Order]
                    .instances
                    .get(&txn)
                    .copied(),
                shipments: writes(StageRole::Shipping),
                charges: writes(StageRole::Payment),
                lost: self.lost.contains(&txn),
            }
        })
    }

    /// The figures a saga view reads at `now`; `None` without an order service (a translator
    /// alone is no saga).
    pub(crate) fn view(&self, now: SimTime) -> Option<PipelineView> {
        if !self.services.contains_key(&StageRole::Order) {
            return None;
        }
        let mut a = Anomalies::default();
        let (mut orders, mut shipped, mut compensated, mut locked) = (0, 0, 0, 0);
        let mut cancelled = 0;
        let mut sagas = Vec::new();
        for s in self.sagas(now) {
            use SagaState::*;
            orders += 1;
            // A shipment the cancel saga stopped never left.
            shipped += u64::from(s.shipments > 0 && s.shipping != Some(Cancelled));
            compensated += u64::from(s.order == Some(Compensated));
            cancelled += u64::from(s.order == Some(Cancelled));
            locked += u64::from(matches!(s.order, Some(Pending | CancelPending)));
            a.paid_out_of_stock +=
                u64::from(s.payment == Some(Paid) && s.inventory == Some(Failed));
            a.reserved_payment_failed +=
                u64::from(s.inventory == Some(Reserved) && s.payment == Some(Failed));
            a.shipped_twice += u64::from(s.shipments > 1);
            a.charged_twice += u64::from(s.charges > 1);
            a.paid_never_shipped += u64::from(s.payment == Some(Paid) && s.shipments == 0);
            a.lost += u64::from(s.lost);
            sagas.push(s);
        }
        let skip = sagas.len().saturating_sub(MAX_LISTED_SAGAS);
        sagas.drain(..skip);
        Some(PipelineView {
            services: self.services.values().map(Service::view).collect(),
            orders,
            shipped,
            compensated,
            cancelled,
            locked,
            anomalies: a,
            mean_pending_ms: mean_ms(self.settle_us, self.settled),
            replies: self.replies,
            mean_reply_ms: mean_ms(self.reply_us, self.replies),
            sagas,
        })
    }

    /// Replaces a stage's settings: the remedies flip, the tables stay.
    pub(crate) fn update(&mut self, spec: StageSpec, links: Links) {
        let s = self.services.get_mut(&spec.role).expect("checked");
        if spec.stock != s.spec.stock || spec.items != s.spec.items {
            s.stock = vec![spec.stock.unwrap_or(0); spec.items as usize];
        }
        (s.links, s.spec) = (links, spec);
    }

    pub(crate) fn check_role(&self, role: StageRole) -> Result<(), CommandError> {
        if self.services.contains_key(&role) {
            Ok(())
        } else {
            Err(CommandError::NotApplicable {
                reason: format!("no stage {role:?} is declared"),
            })
        }
    }

    /// The consumer's next step dies after its write.
    pub(crate) fn arm_crash(&mut self, cid: ConsumerId, restart_after_ms: Option<f64>) {
        self.armed.insert(cid, restart_after_ms.map(ms_to_us));
    }

    pub(crate) fn arm_relay_crash(&mut self, role: StageRole) {
        self.service_mut(role).relay_crash = true;
    }
}

impl Clients {
    /// The copy a stage consumer is finishing, if it has a stage and `epoch` is current.
    pub(crate) fn stage_input(
        &self,
        world: &crate::kernel::World<impl Sized>,
        cid: ConsumerId,
        epoch: u32,
    ) -> Option<StageInput> {
        let c = &self.consumers[cid.index()];
        let role = c.spec.stage?;
        let (_, slot) = c.current.filter(|_| c.epoch == epoch)?;
        let copy = world.copies.get(slot);
        Some(StageInput {
            role,
            msg: copy.msg,
            pipe: copy.pipe,
            published_at: copy.published_at,
            from_log: false,
        })
    }
}

impl<F, W: From<ClientWork>> Cx<'_, F, W> {
    /// One local transaction: the idempotency check, the write, then the publish, or the outbox
    /// row written with it; or the crash between write and publish (PAT-1). A step on a Kafka
    /// record publishes before it can crash: its output is its write, and the crash comes
    /// before the offset commit; with `kafka_transactions` that crash aborts the step (PAT-10).
    pub(crate) fn stage_step(
        &mut self,
        cid: ConsumerId,
        input: StageInput,
        route: &mut Route<W>,
    ) -> StepOutcome {
        let StageInput {
            role,
            msg,
            pipe,
            published_at,
            from_log,
        } = input;
        let txn = pipe.map_or(msg.0, |p| p.txn);
        if role == StageRole::Client {
            self.match_reply(cid, msg, pipe);
            return StepOutcome::Continue;
        }
        let s = self.clients.stages.service_mut(role);
        let in_txn = from_log && s.spec.kafka_transactions;
        if s.spec.idempotent && !s.received.insert(msg) {
            s.duplicates_skipped += 1;
            self.emit_step(cid, msg, txn, StageWrite::Duplicate);
            return StepOutcome::Continue;
        }
        let undo = in_txn.then(|| s.undo(txn, s.spec.idempotent.then_some(msg)));
        let incoming = pipe.map(|p| p.kind);
        let p = s.spec.fail_probability;
        // The only draw of a stage: a payment's forward step with a chance of decline.
        let declined = role == StageRole::Payment
            && !incoming.is_some_and(StepKind::is_back)
            && p > 0.0
            && (p >= 1.0 || self.world.rng.chance(p));
        let s = self.clients.stages.service_mut(role);
        s.steps += 1;
        let t = s.transact(txn, incoming, declined, self.world.now);
        let outbox = s.spec.outbox;
        self.emit_step(cid, msg, txn, t.wrote);
        self.note_pending(txn, t.wrote, published_at);
        let out = self.stamp(role, txn, t.out);
        if let Some(restart) = self.clients.stages.armed.remove(&cid) {
            let mut aborted = Vec::new();
            if from_log {
                if let (false, Some((producer, tag, id))) = (outbox, out) {
                    aborted.push(self.stage_publish(producer, tag, id, route));
                }
                match undo {
                    Some(u) => self.clients.stages.service_mut(role).roll_back(u),
                    None => aborted.clear(),
                }
            }
            let lost = u32::from(!outbox && !from_log && out.is_some());
            if lost > 0 {
                self.clients.stages.lost.insert(txn);
            }
            let e = StageEvent::StageCrashedAfterWrite {
                consumer: cid,
                txn,
                lost,
            };
            self.world.emit(EventKind::Stage(e));
            return StepOutcome::Crash { restart, aborted };
        }
        self.publish_unless_outbox(role, out, route);
        StepOutcome::Continue
    }

    /// FTGO's `Order.cancel`: allowed only from an approved order, which turns
    /// `CANCEL_PENDING`. An order a saga still holds `APPROVAL_PENDING` (or one rejected or
    /// cancelled) is an unsupported transition and stays as it is (PAT-7). An orchestrating
    /// order service then starts the `CancelOrderSaga` in the same local transaction
    /// (`beginCancel`): the instance replaces the order's ended create saga, and its first
    /// command goes through the outbox like any other. A choreographed shop has no cancel
    /// saga: its order stays `CANCEL_PENDING`.
    pub(crate) fn cancel_order(
        &mut self,
        txn: u64,
        route: &mut Route<W>,
    ) -> Result<(), CommandError> {
        let s = self
            .clients
            .stages
            .services
            .get_mut(&StageRole::Order)
            .filter(|s| s.rows.contains_key(&txn))
            .ok_or_else(|| CommandError::NotApplicable {
                reason: format!("the order service has no order {txn}"),
            })?;
        let accepted = s.state(txn) == Some(SagaState::Shipped);
        let out = if accepted {
            s.write(txn, SagaState::CancelPending, false);
            s.spec.orchestrate.is_some().then(|| {
                let instance = SagaInstance {
                    saga_type: "CancelOrderSaga",
                    saga_id: txn,
                    state_name: SagaStep::CancelShipment,
                    last_request_id: None,
                    compensating: false,
                    end_state: false,
                    failed: false,
                };
                s.instances.insert(txn, instance);
                s.command(txn, StageWrite::SagaAdvanced, SagaStep::CancelShipment)
                    .out
            })
        } else {
            None
        };
        let e = StageEvent::OrderCancel { txn, accepted };
        self.world.emit(EventKind::Stage(e));
        let out = self.stamp(StageRole::Order, txn, out.flatten());
        self.publish_unless_outbox(StageRole::Order, out, route);
        Ok(())
    }

    /// Gives an outgoing message its id when it needs one now (an outbox row, or a command
    /// whose id the saga instance records as `lastRequestId`), and writes the outbox row in the
    /// same local transaction.
    fn stamp(
        &mut self,
        role: StageRole,
        txn: u64,
        out: Option<(ProducerId, StepKind)>,
    ) -> Option<Outgoing> {
        let outbox = self.clients.stages.services[&role].spec.outbox;
        let out = out.map(|(producer, kind)| {
            let id = (outbox || kind.is_command()).then(|| self.world.new_message_id());
            (producer, PipeTag { txn, kind }, id)
        });
        if let Some((_, tag, Some(id))) = out.filter(|o| o.1.kind.is_command()) {
            let s = self.clients.stages.service_mut(role);
            s.instance(tag.txn).last_request_id = Some(id);
        }
        if outbox {
            if let Some((producer, tag, Some(msg))) = out {
                self.write_outbox(role, OutboxRow { producer, msg, tag });
            }
        }
        out
    }

    /// Publishes a stamped message now, unless the outbox's relay will.
    fn publish_unless_outbox(
        &mut self,
        role: StageRole,
        out: Option<Outgoing>,
        route: &mut Route<W>,
    ) {
        let outbox = self.clients.stages.services[&role].spec.outbox;
        if let (false, Some((producer, tag, id))) = (outbox, out) {
            self.stage_publish(producer, tag, id, route);
        }
    }

    /// Times an order from its write until it first ships or is rejected.
    /// The order's request was sent at `sent`: a caller with a reply queue waits from then.
    fn note_pending(&mut self, txn: u64, wrote: StageWrite, sent: SimTime) {
        let st = &mut self.clients.stages;
        match wrote {
            StageWrite::OrderOpened => {
                st.opened_at.entry(txn).or_insert(self.world.now);
                if st.services[&StageRole::Order].links[REPLY].is_some() {
                    st.outstanding.entry(txn).or_insert(sent);
                }
            }
            StageWrite::Shipped | StageWrite::OrderRejected => {
                if let Some(at) = st.opened_at.remove(&txn) {
                    st.settled += 1;
                    st.settle_us += self.world.now.since(at);
                }
            }
            _ => {}
        }
    }

    /// The caller matches a reply to its request by the correlation id it carries (PAT-8).
    fn match_reply(&mut self, cid: ConsumerId, msg: MessageId, pipe: Option<PipeTag>) {
        let st = &mut self.clients.stages;
        let Some(tag) = pipe else {
            // Not a reply: nothing to correlate.
            self.emit_step(cid, msg, msg.0, StageWrite::ReplyUnmatched);
            return;
        };
        let wrote = match st.outstanding.remove(&tag.txn) {
            Some(sent) => {
                st.replies += 1;
                st.reply_us += self.world.now.since(sent);
                let state = if tag.kind == StepKind::OrderConfirmed {
                    SagaState::Shipped
                } else {
                    SagaState::Compensated
                };
                let client = st.services.get_mut(&StageRole::Client).expect("checked");
                client.steps += 1;
                client.write(tag.txn, state, false);
                StageWrite::ReplyMatched
            }
            None => StageWrite::ReplyUnmatched,
        };
        self.emit_step(cid, msg, tag.txn, wrote);
    }

    fn emit_step(&mut self, cid: ConsumerId, msg: MessageId, txn: u64, wrote: StageWrite) {
        let e = StageEvent::StageStep {
            consumer: cid,
            msg,
            txn,
            wrote,
        };
        self.world.emit(EventKind::Stage(e));
    }

    fn stage_publish(
        &mut self,
        producer: ProducerId,
        tag: PipeTag,
        msg: Option<MessageId>,
        route: &mut Route<W>,
    ) -> MessageId {
        self.clients.stages.lost.remove(&tag.txn);
        self.publish_stamped(producer, false, Some((tag, msg)), route)
    }

    /// The row commits with the business write; the relay polls `relay_ms` later.
    fn write_outbox(&mut self, role: StageRole, row: OutboxRow) {
        let s = self.clients.stages.service_mut(role);
        s.outbox.push(row);
        if !s.relay_scheduled {
            s.relay_scheduled = true;
            let at = self.world.now.plus(ms_to_us(s.spec.relay_ms));
            self.world
                .schedule(at, ClientWork::RelayPoll { stage: role });
        }
    }

    /// The polling publisher: publishes every pending row, then marks them sent, unless it
    /// dies in between, and then it publishes them again at its next poll (PAT-2).
    pub(crate) fn relay_poll(&mut self, role: StageRole, route: &mut Route<W>) {
        let s = self.clients.stages.service_mut(role);
        s.relay_scheduled = false;
        let crashed = std::mem::take(&mut s.relay_crash);
        let rows = if crashed {
            s.outbox.clone()
        } else {
            std::mem::take(&mut s.outbox)
        };
        s.relayed += rows.len() as u64;
        let e = StageEvent::OutboxRelayed {
            stage: role,
            rows: rows.len() as u32,
            crashed,
        };
        self.world.emit(EventKind::Stage(e));
        for r in &rows {
            self.stage_publish(r.producer, r.tag, Some(r.msg), route);
        }
        let s = self.clients.stages.service_mut(role);
        if !s.outbox.is_empty() {
            s.relay_scheduled = true;
            let at = self.world.now.plus(ms_to_us(s.spec.relay_ms));
            self.world
                .schedule(at, ClientWork::RelayPoll { stage: role });
        }
    }
}
