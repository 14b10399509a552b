//! Guards that keep every run finite: time must move, and total work has a budget.

use crate::ids::MessageId;
use crate::time::SimTime;
use std::fmt;

/// One copy going round (requeue, dead-letter) more often than this at one instant is a
/// zero-time cycle: with latency 0 and processing 0 it would never let the clock move.
pub const MAX_CYCLES_AT_ONE_INSTANT: u32 = 10_000;

/// Work items at one instant beyond this are a zero-time loop. A burst of the largest size
/// through a zero-latency topology stays far below it.
pub const MAX_WORK_AT_ONE_INSTANT: u64 = 20_000_000;

/// The headless runner's default work budget: about five seconds of work in a release build.
pub const RUNNER_WORK_BUDGET: u64 = 50_000_000;

/// Why a run stopped before the time it was asked to reach. Once halted, a simulation does
/// no more work; its state and ledger stay as they were, so a partial report is exact.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Halt {
    /// One message went round a requeue or dead-letter cycle without the clock moving.
    ZeroTimeCycle {
        at: SimTime,
        msg: MessageId,
        cycles: u32,
    },
    /// Too many work items at one instant.
    ZeroTimeLoop { at: SimTime, work: u64 },
    /// The run's total work budget is spent.
    WorkBudget { at: SimTime, limit: u64 },
}

impl fmt::Display for Halt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Halt::ZeroTimeCycle { at, msg, cycles } => write!(
                f,
                "zero-time loop at {at}: message m{} went round {cycles} times without the \
                 clock moving (a requeue or dead-letter cycle with latency 0 and processing 0); \
                 give the consumers a processing time or the scenario a latency above 0",
                msg.0
            ),
            Halt::ZeroTimeLoop { at, work } => write!(
                f,
                "zero-time loop at {at}: {work} work items without the clock moving; \
                 give the consumers a processing time or the scenario a latency above 0"
            ),
            Halt::WorkBudget { at, limit } => write!(
                f,
                "work budget spent at {at}: {limit} work items; the run stopped here \
                 (the runner's --max-work raises it)"
            ),
        }
    }
}

/// Counts work and cycles; set `halt` the first time a bound is crossed.
#[derive(Clone, Debug)]
pub struct Guard {
    pub halt: Option<Halt>,
    /// Work items run so far, and the most the run may run.
    pub work_done: u64,
    pub work_budget: u64,
    instant: SimTime,
    work_at_instant: u64,
}

impl Default for Guard {
    fn default() -> Self {
        Guard {
            halt: None,
            work_done: 0,
            work_budget: u64::MAX,
            instant: SimTime::ZERO,
            work_at_instant: 0,
        }
    }
}

impl Guard {
    /// Asked before the next work item, due at `at`, runs. Refuses it (and halts) when it
    /// would cross a bound, so the item stays on the agenda and the state stays exact.
    pub fn admit(&mut self, at: SimTime) -> bool {
        if self.halt.is_some() {
            return false;
        }
        let at_instant = if at == self.instant {
            self.work_at_instant + 1
        } else {
            1
        };
        if at_instant > MAX_WORK_AT_ONE_INSTANT {
            self.halt = Some(Halt::ZeroTimeLoop {
                at,
                work: self.work_at_instant,
            });
            return false;
        }
        if self.work_done >= self.work_budget {
            self.halt = Some(Halt::WorkBudget {
                at,
                limit: self.work_budget,
            });
            return false;
        }
        self.instant = at;
        self.work_at_instant = at_instant;
        self.work_done += 1;
        true
    }

    /// Halts when one message has cycled too often at one instant.
    pub fn count_cycle(&mut self, at: SimTime, msg: MessageId, cycles: u32) {
        if cycles > MAX_CYCLES_AT_ONE_INSTANT && self.halt.is_none() {
            self.halt = Some(Halt::ZeroTimeCycle { at, msg, cycles });
        }
    }
}
