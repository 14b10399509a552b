//! The driver owns the simulation and the play state, and turns wall-clock frames into
//! simulated time. It knows nothing about the browser, so it is tested natively.

use broker_sim::{
    Command, CommandError, Event, Halt, Scenario, ScenarioError, SimTime, Simulation, Snapshot,
};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::rc::Rc;

/// The scenario the app opens with.
pub const DEFAULT_SCENARIO: &str = include_str!("../scenarios/default.json");
/// The seed of every run the app starts (runs are reproducible).
pub const DEFAULT_SEED: u64 = 1;
/// At most this many core events per frame: past it the simulated clock lags behind the
/// requested speed instead of freezing the tab.
pub const MAX_EVENTS_PER_FRAME: usize = 20_000;
/// A longer frame (a background tab, a debugger pause) counts as this long, so coming back
/// does not trigger a huge catch-up.
pub const MAX_FRAME_MS: f64 = 100.0;
/// Recent events kept for the event log.
pub const EVENT_LOG_CAPACITY: usize = 100_000;
/// The speeds offered in the UI; 1.0 is real time.
pub const SPEEDS: [f64; 7] = [0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0];
pub const MIN_SPEED: f64 = 0.1;
pub const MAX_SPEED: f64 = 100.0;
/// A lesson's move to its next step lasts at most this long on the wall clock (faster than
/// real time when the steps are far apart), so the class sees the motion without waiting.
pub const MOVE_WALL_MS: f64 = 1_500.0;
/// A checkpoint is taken every this many simulated microseconds (doubled each time the store
/// is thinned).
pub const CHECKPOINT_EVERY_US: u64 = 1_000_000;
/// Checkpoints may hold at most this many bytes (by [`Simulation::approx_bytes`]); past it every
/// second one is dropped. 64 MiB keeps a 30-minute run at 100 messages/s seekable in
/// well under 100 ms without crowding the tab.
pub const CHECKPOINT_BUDGET_BYTES: usize = 64 << 20;

/// A clone of the run at `at`, after the first `applied` logged commands. Shared (`Rc`) so the
/// two branches of a fork hold their common past once.
#[derive(Clone)]
struct Checkpoint {
    at: SimTime,
    applied: usize,
    sim: Rc<Simulation>,
}

/// Clones of the run, oldest first, the first at time 0, under a byte budget.
#[derive(Clone)]
pub struct Checkpoints {
    items: Vec<Checkpoint>,
    every_us: u64,
    budget: usize,
    bytes: usize,
}

impl Checkpoints {
    fn new(start: &Simulation, budget: usize) -> Checkpoints {
        let mut c = Checkpoints {
            items: Vec::new(),
            every_us: CHECKPOINT_EVERY_US,
            budget,
            bytes: 0,
        };
        c.push(start.clone(), 0);
        c
    }

    /// The time the next checkpoint is due.
    fn due(&self) -> SimTime {
        let last = self.items.last().map_or(0, |c| c.at.0);
        SimTime(last - last % self.every_us + self.every_us)
    }

    fn push(&mut self, sim: Simulation, applied: usize) {
        self.bytes += sim.approx_bytes();
        self.items.push(Checkpoint {
            at: sim.now(),
            applied,
            sim: Rc::new(sim),
        });
        while self.bytes > self.budget && self.items.len() > 2 {
            self.thin();
        }
    }

    /// Keeps every second checkpoint (the first, at time 0, stays) and spaces new ones twice as
    /// far apart.
    fn thin(&mut self) {
        let mut i = 0;
        self.items.retain(|_| {
            i += 1;
            i % 2 == 1
        });
        self.bytes = self.items.iter().map(|c| c.sim.approx_bytes()).sum();
        self.every_us *= 2;
    }

    /// The latest checkpoint at or before `t` that has applied at most `applied` commands.
    fn before(&self, t: SimTime, applied: usize) -> &Checkpoint {
        self.items
            .iter()
            .rev()
            .find(|c| c.at <= t && c.applied <= applied)
            .expect("the checkpoint at time 0 comes before everything")
    }

    /// Forgets the checkpoints after `t` or past the first `applied` logged commands: those
    /// that a change of the log at `t` made obsolete.
    fn cut(&mut self, t: SimTime, applied: usize) {
        self.items.retain(|c| c.at <= t && c.applied <= applied);
        self.bytes = self.items.iter().map(|c| c.sim.approx_bytes()).sum();
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Estimated bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Current spacing in simulated microseconds.
    pub fn every_us(&self) -> u64 {
        self.every_us
    }
}

/// A lesson's move between two steps: the clock plays from `from` to `to`, then pauses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Move {
    pub from: SimTime,
    pub to: SimTime,
    speed: f64,
}

/// What one call to [`Driver::tick`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Simulated microseconds the clock moved.
    pub advanced_us: u64,
    /// Core events processed.
    pub events: usize,
    /// The per-frame cap stopped the clock short of the requested time.
    pub capped: bool,
}

/// A command and the simulated time it was applied at. The scenario, the seed and this log
/// reproduce a run exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoggedCommand {
    pub at: SimTime,
    pub command: Command,
}

/// One line of commands through the run, with its checkpoints and the furthest time played.
struct Branch {
    log: Vec<LoggedCommand>,
    checkpoints: Checkpoints,
    furthest: SimTime,
}

/// The branch not playing since a command applied behind the recorded end forked the run.
struct Fork {
    at: SimTime,
    other: Branch,
    /// Whether the other branch is the original (the one recorded before the fork).
    other_is_original: bool,
}

/// What the timeline and the charts show of a fork.
pub struct ForkView<'a> {
    /// Where the branches part.
    pub at: SimTime,
    /// Whether the branch playing is the original one.
    pub playing_original: bool,
    /// The other branch's recorded commands and end.
    pub other_log: &'a [LoggedCommand],
    pub other_end: SimTime,
}

pub struct Driver {
    sim: Simulation,
    scenario: Scenario,
    seed: u64,
    /// Every recorded command; the first `applied` are in `sim`, the rest are the recorded
    /// future that playing on after a scrub back applies again.
    log: Vec<LoggedCommand>,
    applied: usize,
    checkpoints: Checkpoints,
    playing: bool,
    speed: f64,
    /// Sub-microsecond remainder carried to the next frame, so slow speeds do not round to 0.
    carry_us: f64,
    max_events_per_frame: usize,
    events: VecDeque<Event>,
    event_capacity: usize,
    lagging: bool,
    moving: Option<Move>,
    /// The furthest time this run was played to (the timeline's end).
    furthest: SimTime,
    /// Events handed to `record` so far (for the frame report).
    recorded_events: u64,
    /// The other branch, after a fork.
    fork: Option<Fork>,
}

impl Driver {
    pub fn new(scenario: &Scenario, seed: u64) -> Result<Driver, ScenarioError> {
        let sim = Simulation::new(scenario, seed)?;
        Ok(Driver {
            checkpoints: Checkpoints::new(&sim, CHECKPOINT_BUDGET_BYTES),
            sim,
            scenario: scenario.clone(),
            seed,
            log: Vec::new(),
            applied: 0,
            playing: false,
            speed: 1.0,
            carry_us: 0.0,
            max_events_per_frame: MAX_EVENTS_PER_FRAME,
            events: VecDeque::new(),
            event_capacity: EVENT_LOG_CAPACITY,
            lagging: false,
            moving: None,
            furthest: SimTime::ZERO,
            recorded_events: 0,
            fork: None,
        })
    }

    /// The embedded default scenario; it is part of the build, so a failure is a bug.
    pub fn with_default_scenario() -> Driver {
        let scenario =
            Scenario::from_json(DEFAULT_SCENARIO).expect("scenarios/default.json is valid");
        Driver::new(&scenario, DEFAULT_SEED).expect("scenarios/default.json builds")
    }

    /// Overrides the per-frame event cap (tests use small ones).
    #[cfg(test)]
    pub fn with_frame_cap(mut self, max_events: usize) -> Driver {
        self.max_events_per_frame = max_events.max(1);
        self
    }

    /// Overrides how many recent events are kept.
    #[cfg(test)]
    pub fn with_event_capacity(mut self, capacity: usize) -> Driver {
        self.event_capacity = capacity;
        self
    }

    /// Overrides the checkpoint budget (tests use small ones).
    #[cfg(test)]
    pub fn with_checkpoint_budget(mut self, bytes: usize) -> Driver {
        self.checkpoints = Checkpoints::new(&self.sim, bytes);
        self
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Every command applied since the run started, in order.
    pub fn log(&self) -> &[LoggedCommand] {
        &self.log[..self.applied]
    }

    /// Every recorded command, including those after the clock (after a scrub back).
    pub fn recorded(&self) -> &[LoggedCommand] {
        &self.log
    }

    /// The checkpoints taken so far.
    pub fn checkpoints(&self) -> &Checkpoints {
        &self.checkpoints
    }

    /// Applies a command now and records it; a refused command changes nothing. A new command
    /// behind the recorded end forks the run: what was recorded stays as the other branch (it
    /// replaces an older other branch), and this one goes on from here.
    pub fn apply(&mut self, command: Command) -> Result<(), CommandError> {
        self.sim.apply(command.clone())?;
        let now = self.sim.now();
        let end = self.horizon();
        if end > now {
            self.fork = Some(Fork {
                at: now,
                other: Branch {
                    log: self.log.clone(),
                    checkpoints: self.checkpoints.clone(),
                    furthest: end,
                },
                other_is_original: true,
            });
            self.furthest = now;
        }
        self.log.truncate(self.applied);
        self.checkpoints.cut(self.sim.now(), self.applied);
        self.log.push(LoggedCommand {
            at: self.sim.now(),
            command,
        });
        self.applied += 1;
        let events = self.sim.advance_to(self.sim.now());
        self.record(events);
        Ok(())
    }

    /// The end of what was recorded: the clock, or the furthest point played before a scrub
    /// back.
    pub fn horizon(&self) -> SimTime {
        let last = self.log.last().map_or(SimTime::ZERO, |c| c.at);
        self.sim.now().max(self.furthest).max(last)
    }

    /// Starts the same scenario again with `seed`, forgetting the command log.
    pub fn reset(&mut self, seed: u64) {
        let scenario = self.scenario.clone();
        // The scenario built once already, so it builds again.
        self.replace(&scenario, seed, Vec::new())
            .expect("a scenario that built once builds again");
    }

    /// Replaces the run: a new scenario, seed and command log, at time zero.
    pub fn load(&mut self, scenario: &Scenario, seed: u64) -> Result<(), ScenarioError> {
        self.replace(scenario, seed, Vec::new())
    }

    fn replace(
        &mut self,
        scenario: &Scenario,
        seed: u64,
        log: Vec<LoggedCommand>,
    ) -> Result<(), ScenarioError> {
        self.sim = Simulation::new(scenario, seed)?;
        self.checkpoints = Checkpoints::new(&self.sim, self.checkpoints.budget);
        self.scenario = scenario.clone();
        self.seed = seed;
        self.log = log;
        self.applied = 0;
        self.furthest = SimTime::ZERO;
        self.events.clear();
        self.carry_us = 0.0;
        self.lagging = false;
        self.moving = None;
        self.fork = None;
        Ok(())
    }

    /// Moves the run to `t`, which is how narration steps back: the exact state the run had
    /// at `t` (see [`Driver::scrub`]). Commands logged after `t` are forgotten.
    pub fn seek(&mut self, t: SimTime) {
        // Before the fork the other branch no longer parts from this log.
        if self.fork.as_ref().is_some_and(|f| t < f.at) {
            self.fork = None;
        }
        self.scrub(t);
        self.log.truncate(self.applied);
        self.checkpoints.cut(SimTime::MAX, self.applied);
        self.furthest = self.sim.now();
    }

    /// Moves the run to `t` and keeps the recorded future, which playing on applies again:
    /// the timeline's seek. It restores the latest checkpoint before `t` when that is behind
    /// the clock (a seek back) or ahead of it (a long seek forward), and replays the logged
    /// commands from there; determinism makes this the exact state a fresh replay to `t` gives.
    pub fn scrub(&mut self, t: SimTime) {
        self.moving = None;
        self.carry_us = 0.0;
        self.lagging = false;
        let now = self.sim.now();
        let from = self.checkpoint_before(t);
        if t < now {
            // The events up to `t` are those already seen; the replay only rebuilds state.
            let keep = self.events.partition_point(|e| e.time <= t);
            self.events.truncate(keep);
            self.start_from(from);
            let capacity = std::mem::replace(&mut self.event_capacity, 0);
            let replayed = self.advance(t, usize::MAX);
            self.event_capacity = capacity;
            replayed.expect("a logged command that applied once applies again");
        } else {
            if from.at > now {
                // The event log skips from the clock to the checkpoint: replaying that gap is
                // what made long seeks forward slow.
                self.start_from(from);
            }
            // Not `run_to`: a checkpoint at `t` itself still owes the commands logged at `t`.
            self.advance(t, usize::MAX)
                .expect("a logged command that applied once applies again");
        }
    }

    /// The latest checkpoint at or before `t` on this branch's log.
    fn checkpoint_before(&self, t: SimTime) -> Checkpoint {
        let applied = self.log.partition_point(|c| c.at <= t);
        self.checkpoints.before(t, applied).clone()
    }

    fn start_from(&mut self, from: Checkpoint) {
        self.sim = Rc::unwrap_or_clone(from.sim);
        self.applied = from.applied;
    }

    /// The fork, if the run has two branches.
    pub fn fork(&self) -> Option<ForkView<'_>> {
        self.fork.as_ref().map(|f| ForkView {
            at: f.at,
            playing_original: !f.other_is_original,
            other_log: &f.other.log,
            other_end: f.other.furthest,
        })
    }

    /// The other branch's chart series as of its latest checkpoint (within a checkpoint
    /// interval of its end): the charts' overlay.
    pub fn other_charts(&self) -> Option<broker_sim::snapshot::Charts> {
        let f = self.fork.as_ref()?;
        let last = f.other.checkpoints.items.last()?;
        (last.at > f.at).then(|| last.sim.charts())
    }

    /// Plays the other branch from the same time: swaps the logs and checkpoints and rebuilds
    /// the state from that branch's checkpoints. Returns false when there is no fork.
    pub fn switch_branch(&mut self) -> bool {
        let leaving_end = self.horizon();
        let Some(f) = self.fork.as_mut() else {
            return false;
        };
        std::mem::swap(&mut self.log, &mut f.other.log);
        std::mem::swap(&mut self.checkpoints, &mut f.other.checkpoints);
        self.furthest = std::mem::replace(&mut f.other.furthest, leaving_end);
        f.other_is_original = !f.other_is_original;
        let fork_at = f.at;
        let t = self.sim.now();
        self.moving = None;
        self.carry_us = 0.0;
        self.lagging = false;
        let from = self.checkpoint_before(t);
        // Events the branches share stay; the replay from the checkpoint records the rest.
        let keep = self
            .events
            .partition_point(|e| e.time < from.at.min(fork_at));
        self.events.truncate(keep);
        self.start_from(from);
        self.advance(t, usize::MAX)
            .expect("a logged command that applied once applies again");
        true
    }

    /// Adds the other branch of a shared fork to a restored run: `log` played to `end`, parting
    /// from this one at `at`. A command refused on replay fails, naming its index.
    pub fn restore_fork(
        &mut self,
        log: &[LoggedCommand],
        end: SimTime,
        at: SimTime,
        other_is_original: bool,
    ) -> Result<(), String> {
        let mut other = Driver::new(&self.scenario, self.seed).map_err(|e| e.to_string())?;
        other.checkpoints.budget = self.checkpoints.budget;
        other.restore(&self.scenario.clone(), self.seed, log, end)?;
        self.fork = Some(Fork {
            at,
            other: Branch {
                log: other.log,
                checkpoints: other.checkpoints,
                furthest: other.furthest,
            },
            other_is_original,
        });
        Ok(())
    }

    /// Advances to `t` (at most `max_events` work items), applying the recorded commands as
    /// their times come and taking checkpoints on the way. Returns whether `t` was reached; a
    /// recorded command that is refused fails, naming its index in the log.
    fn advance(&mut self, t: SimTime, max_events: usize) -> Result<bool, String> {
        let start_work = self.sim.work_done();
        loop {
            let command_at = self
                .log
                .get(self.applied)
                .map(|c| c.at)
                .filter(|&at| at <= t);
            let due = self.checkpoints.due();
            let stop = command_at.unwrap_or(t).min(due);
            let left = max_events.saturating_sub((self.sim.work_done() - start_work) as usize);
            let (events, reached) = self.sim.advance_to_bounded(stop, left);
            self.record(events);
            self.furthest = self.furthest.max(self.sim.now());
            if !reached {
                return Ok(false);
            }
            if stop == due {
                self.checkpoints.push(self.sim.clone(), self.applied);
            }
            if command_at == Some(stop) {
                let i = self.applied;
                let command = self.log[i].command.clone();
                self.sim
                    .apply(command)
                    .map_err(|e| format!("commands[{i}]: {e}"))?;
                self.applied += 1;
                let events = self.sim.advance_to(stop);
                self.record(events);
            } else if stop == t {
                return Ok(true);
            }
        }
    }

    /// Forgets every logged command and rebuilds the run at `t`: the scenario's own script only
    /// (a lesson after the teacher improvised).
    pub fn drop_commands(&mut self, t: SimTime) {
        let (scenario, seed) = (self.scenario.clone(), self.seed);
        self.restore(&scenario, seed, &[], t)
            .expect("a scenario that built once builds again");
        self.set_playing(false);
    }

    /// Builds a run from a scenario, seed and command log and advances it to `t`. A command
    /// that is refused on replay fails the restore, naming its index in the log.
    pub fn restore(
        &mut self,
        scenario: &Scenario,
        seed: u64,
        log: &[LoggedCommand],
        t: SimTime,
    ) -> Result<(), String> {
        if let Some(i) = log.windows(2).position(|w| w[1].at < w[0].at) {
            return Err(format!(
                "commands[{}]: logged commands must be in time order",
                i + 1
            ));
        }
        let mut next = Driver::new(scenario, seed).map_err(|e| e.to_string())?;
        next.speed = self.speed;
        next.playing = self.playing;
        next.max_events_per_frame = self.max_events_per_frame;
        next.event_capacity = self.event_capacity;
        next.checkpoints.budget = self.checkpoints.budget;
        next.log = log.to_vec();
        let end = log.last().map_or(t, |c| c.at.max(t));
        next.advance(end, usize::MAX)?;
        *self = next;
        Ok(())
    }

    /// Pauses and advances to the next scheduled event, processing everything at that instant.
    pub fn step_event(&mut self) {
        self.set_playing(false);
        if let Some(t) = self.sim.next_event_time() {
            self.run_to(t);
        }
    }

    /// Pauses and advances the clock to `t` exactly (used by narration pause points).
    pub fn run_to(&mut self, t: SimTime) {
        if t > self.sim.now() {
            self.advance(t, usize::MAX)
                .expect("a logged command that applied once applies again");
        }
    }

    /// Plays the clock to `to` and pauses there (a lesson's Next): real time or faster, so it
    /// takes at most `MOVE_WALL_MS`. Returns false when `to` is not ahead of the clock.
    pub fn play_to(&mut self, to: SimTime) -> bool {
        let from = self.sim.now();
        if to <= from {
            return false;
        }
        let gap_ms = to.since(from) as f64 / 1_000.0;
        let speed = (gap_ms / MOVE_WALL_MS).max(1.0);
        self.playing = true;
        self.carry_us = 0.0;
        self.moving = Some(Move { from, to, speed });
        true
    }

    /// The move under way, if any.
    pub fn moving(&self) -> Option<Move> {
        self.moving
    }

    /// Ends the move at once at its end (a second press of Next), paused.
    pub fn finish_move(&mut self) {
        if let Some(m) = self.moving.take() {
            self.run_to(m.to);
            self.playing = false;
        }
    }

    pub fn sim(&self) -> &Simulation {
        &self.sim
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    pub fn now(&self) -> SimTime {
        self.sim.now()
    }

    pub fn playing(&self) -> bool {
        self.playing
    }

    /// Play or pause by hand; either ends a lesson's move where the clock is.
    pub fn set_playing(&mut self, playing: bool) {
        self.moving = None;
        self.playing = playing;
        if !playing {
            self.lagging = false;
        }
    }

    pub fn toggle_playing(&mut self) {
        self.set_playing(!self.playing);
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Sets the speed, clamped to 0.1×..100×; a non-finite value is ignored.
    pub fn set_speed(&mut self, speed: f64) {
        if speed.is_finite() {
            self.speed = speed.clamp(MIN_SPEED, MAX_SPEED);
        }
    }

    /// Why the run stopped for good (a zero-time loop), if it did.
    pub fn halted(&self) -> Option<&Halt> {
        self.sim.halted()
    }

    /// Whether the last frame hit the per-frame event cap.
    pub fn lagging(&self) -> bool {
        self.lagging
    }

    /// Recent events, oldest first.
    pub fn events(&self) -> &VecDeque<Event> {
        &self.events
    }

    pub fn snapshot(&self) -> Snapshot {
        self.sim.snapshot()
    }

    /// Advances simulated time by `wall_dt_ms × speed` if playing.
    pub fn tick(&mut self, wall_dt_ms: f64) -> TickReport {
        if !self.playing || !wall_dt_ms.is_finite() || wall_dt_ms <= 0.0 {
            return TickReport::default();
        }
        let speed = self.moving.map_or(self.speed, |m| m.speed);
        let want_us = wall_dt_ms.min(MAX_FRAME_MS) * 1_000.0 * speed + self.carry_us;
        let whole = want_us.floor();
        self.carry_us = want_us - whole;
        let start = self.sim.now();
        let mut target = start.plus(whole as u64);
        if let Some(m) = self.moving {
            target = target.min(m.to);
        }
        let events_before = self.recorded_events;
        let reached = self
            .advance(target, self.max_events_per_frame)
            .expect("a logged command that applied once applies again");
        if !reached {
            // Drop the debt: the clock lags rather than trying to catch up next frame.
            self.carry_us = 0.0;
        }
        self.lagging = !reached;
        let report = TickReport {
            advanced_us: self.sim.now().since(start),
            events: (self.recorded_events - events_before) as usize,
            capped: !reached,
        };
        if self.moving.is_some_and(|m| self.sim.now() >= m.to) {
            self.moving = None;
            self.playing = false;
            self.carry_us = 0.0;
        }
        if self.sim.halted().is_some() {
            // Nothing more can happen; the controls say why.
            self.playing = false;
            self.moving = None;
            self.lagging = false;
        }
        report
    }

    fn record(&mut self, events: Vec<Event>) {
        self.recorded_events += events.len() as u64;
        if self.event_capacity == 0 {
            return;
        }
        let skip = events.len().saturating_sub(self.event_capacity);
        self.events.extend(events.into_iter().skip(skip));
        let excess = self.events.len().saturating_sub(self.event_capacity);
        self.events.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn playing() -> Driver {
        let mut d = Driver::with_default_scenario();
        d.set_playing(true);
        d
    }

    #[test]
    fn a_lesson_move_plays_to_its_step_and_pauses_there() {
        let mut d = Driver::with_default_scenario();
        let to = SimTime::from_millis(3_000);
        assert!(d.play_to(to));
        assert!(d.playing());
        // 3 s of simulated time in at most MOVE_WALL_MS of frames: 2× here.
        let mut frames = 0;
        while d.moving().is_some() {
            d.tick(16.0);
            frames += 1;
            assert!(d.now() <= to, "the move overshot its step: {:?}", d.now());
        }
        assert_eq!(d.now(), to);
        assert!(!d.playing());
        assert!((90..=100).contains(&frames), "{frames} frames");
        assert!(!d.play_to(to), "no move to where the clock already is");
    }

    #[test]
    fn a_second_press_finishes_the_move_and_pause_cancels_it() {
        let mut d = Driver::with_default_scenario();
        let to = SimTime::from_millis(2_000);
        d.play_to(to);
        d.tick(16.0);
        d.finish_move();
        assert_eq!((d.now(), d.playing(), d.moving()), (to, false, None));
        d.play_to(SimTime::from_millis(4_000));
        d.tick(16.0);
        d.set_playing(false);
        assert!(d.moving().is_none() && d.now() < SimTime::from_millis(4_000));
    }

    #[test]
    fn qt_zero_time_loop_stops_the_clock_and_says_why() {
        // Latency 0, processing 0 and a poison message that is always requeued.
        let scenario = Scenario::from_json(
            r#"{"version":1,"latency_ms":0,"queues":[{"name":"q"}],
            "producers":[{"name":"p","targets":[{"exchange":""}],"rate":{"kind":"manual"},
              "message":{"routing_keys":["q"]}}],
            "consumers":[{"name":"c","source":{"queue":"q"},"processing":{"kind":"fixed","ms":0}}],
            "script":[{"at_ms":0,"command":{"poison":{"producer":"p"}}}]}"#,
        )
        .expect("valid");
        let mut d = Driver::new(&scenario, 1).expect("builds");
        d.set_playing(true);
        for _ in 0..10 {
            d.tick(16.0);
        }
        assert!(!d.playing(), "a halted run stops playing");
        assert_eq!(d.now(), SimTime::ZERO, "the clock never moved");
        let halt = d.halted().expect("halted").clone();
        assert!(matches!(halt, Halt::ZeroTimeCycle { .. }), "{halt:?}");
        let en = crate::controls::halt_text(crate::i18n::Lang::En, &halt);
        let ko = crate::controls::halt_text(crate::i18n::Lang::Ko, &halt);
        assert!(en.contains("m0") && en.contains("10001"), "{en}");
        assert!(ko.contains("m0") && ko.contains("10001"), "{ko}");
        assert!(
            !en.contains('{') && !ko.contains('{'),
            "placeholders filled"
        );
    }

    #[test]
    fn default_scenario_loads_and_starts_paused() {
        let d = Driver::with_default_scenario();
        assert!(!d.playing());
        assert_eq!(d.now(), SimTime::ZERO);
        assert_eq!(d.speed(), 1.0);
    }

    #[test]
    fn pausing_stops_time() {
        let mut d = playing();
        d.tick(16.0);
        assert_eq!(d.now(), SimTime::from_millis(16));
        d.set_playing(false);
        let before = d.snapshot();
        for _ in 0..100 {
            assert_eq!(d.tick(16.0), TickReport::default());
        }
        assert_eq!(d.now(), SimTime::from_millis(16));
        assert_eq!(d.snapshot(), before);
    }

    #[test]
    fn speed_scales_advance() {
        let mut d = playing();
        d.tick(50.0);
        assert_eq!(d.now(), SimTime::from_millis(50));
        d.set_speed(10.0);
        d.tick(50.0);
        assert_eq!(d.now(), SimTime::from_millis(550));
        d.set_speed(0.1);
        // Ten frames of 1 ms at 0.1× make 1 ms: the fractions carry over.
        for _ in 0..10 {
            d.tick(1.0);
        }
        assert_eq!(d.now(), SimTime::from_millis(551));
    }

    #[test]
    fn speed_is_clamped() {
        let mut d = Driver::with_default_scenario();
        d.set_speed(1_000.0);
        assert_eq!(d.speed(), MAX_SPEED);
        d.set_speed(0.0);
        assert_eq!(d.speed(), MIN_SPEED);
        d.set_speed(f64::NAN);
        assert_eq!(d.speed(), MIN_SPEED);
    }

    #[test]
    fn long_frames_are_clamped() {
        let mut d = playing();
        d.tick(60_000.0);
        assert_eq!(d.now(), SimTime::from_millis(MAX_FRAME_MS as u64));
        d.tick(f64::INFINITY);
        d.tick(-5.0);
        assert_eq!(d.now(), SimTime::from_millis(MAX_FRAME_MS as u64));
    }

    #[test]
    fn per_frame_cap_is_respected_and_the_clock_lags() {
        let mut free = playing();
        free.set_speed(MAX_SPEED);
        let uncapped = free.tick(100.0);
        assert!(!uncapped.capped);
        assert_eq!(free.now(), SimTime::from_secs(10));

        let mut d = playing().with_frame_cap(5);
        d.set_speed(MAX_SPEED);
        let report = d.tick(100.0);
        assert!(report.capped);
        assert!(d.lagging());
        assert!(
            report.events < uncapped.events / 4,
            "{report:?} vs {uncapped:?}"
        );
        assert!(
            d.now() < SimTime::from_secs(10),
            "clock {} ran ahead",
            d.now()
        );
        // It keeps moving frame after frame, never catching up in one burst.
        let mut last = d.now();
        for _ in 0..50 {
            let r = d.tick(100.0);
            assert!(r.events < uncapped.events / 4);
            assert!(d.now() >= last);
            last = d.now();
        }
        assert!(last > SimTime::ZERO);
        assert!(
            last < SimTime::from_secs(100),
            "{last} is not lagging 510 s"
        );
        assert!(d.sim().ledger().is_balanced());
        // Without the cap's pressure the lag flag clears.
        d.set_playing(false);
        assert!(!d.lagging());
    }

    #[test]
    fn event_log_is_bounded() {
        let mut d = playing().with_event_capacity(50);
        d.set_speed(MAX_SPEED);
        for _ in 0..20 {
            d.tick(100.0);
        }
        assert_eq!(d.events().len(), 50);
        let times: Vec<_> = d.events().iter().map(|e| e.time).collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "events out of order"
        );
        assert!(*times.last().unwrap() <= d.now());
    }

    #[test]
    fn default_scenario_backlog_stays_small() {
        // The default scenario should show motion and a small queue, not a runaway backlog.
        let mut d = playing();
        d.set_speed(MAX_SPEED);
        let mut max_ready = 0;
        for _ in 0..600 {
            d.tick(100.0); // 10 s of simulated time each
            max_ready = max_ready.max(d.sim().ledger().ready);
        }
        let ledger = d.sim().ledger();
        assert!(d.now() >= SimTime::from_secs(3_000), "lagged: {}", d.now());
        assert!(ledger.acked > 5_000, "acked only {}", ledger.acked);
        assert!(max_ready < 60, "backlog reached {max_ready}");
        assert!(ledger.is_balanced());
    }

    fn command(json: &str) -> Command {
        serde_json::from_str(json).expect("command JSON")
    }

    #[test]
    fn seek_back_restores_the_exact_state_with_commands() {
        let mut d = Driver::with_default_scenario();
        d.run_to(SimTime::from_secs(3));
        d.apply(command(r#"{"crash_consumer":{"consumer":"worker"}}"#))
            .expect("crash applies");
        d.run_to(SimTime::from_secs(6));
        d.apply(command(r#"{"restart_consumer":{"consumer":"worker"}}"#))
            .expect("restart applies");
        d.run_to(SimTime::from_secs(9));
        let at_nine = d.snapshot();
        d.run_to(SimTime::from_secs(20));
        d.seek(SimTime::from_secs(9));
        assert_eq!(d.snapshot(), at_nine);
        assert_eq!(d.log().len(), 2);
        d.seek(SimTime::from_secs(4));
        assert_eq!(d.log().len(), 1, "the restart, logged later, is forgotten");
        assert_eq!(d.now(), SimTime::from_secs(4));
    }

    #[test]
    fn dropping_the_commands_gives_the_scripted_run_at_the_same_time() {
        let mut scripted = Driver::with_default_scenario();
        scripted.run_to(SimTime::from_secs(5));
        let mut d = Driver::with_default_scenario();
        d.run_to(SimTime::from_secs(2));
        d.apply(command(r#"{"crash_consumer":{"consumer":"worker"}}"#))
            .expect("crash applies");
        d.run_to(SimTime::from_secs(5));
        assert_ne!(
            d.snapshot(),
            scripted.snapshot(),
            "the crash changed the run"
        );
        d.drop_commands(SimTime::from_secs(5));
        assert!(d.log().is_empty() && !d.playing());
        assert_eq!(d.snapshot(), scripted.snapshot());
    }

    #[test]
    fn refused_command_is_not_logged() {
        let mut d = Driver::with_default_scenario();
        assert!(d
            .apply(command(r#"{"crash_consumer":{"consumer":"nobody"}}"#))
            .is_err());
        assert!(d.log().is_empty());
    }

    #[test]
    fn reset_starts_over_with_the_new_seed() {
        let mut d = Driver::with_default_scenario();
        d.run_to(SimTime::from_secs(5));
        d.reset(7);
        assert_eq!((d.now(), d.seed()), (SimTime::ZERO, 7));
        assert!(d.log().is_empty() && d.events().is_empty());
    }

    #[test]
    fn step_event_moves_to_the_next_event_and_pauses() {
        let mut d = playing();
        let next = d
            .sim()
            .next_event_time()
            .expect("the default scenario has events");
        d.step_event();
        assert!(!d.playing());
        assert_eq!(d.now(), next);
        assert!(!d.events().is_empty());
    }

    /// The state a fresh simulation reaches with `log` replayed to `t`, without the driver.
    fn fresh(d: &Driver, log: &[LoggedCommand], t: SimTime) -> Snapshot {
        let mut sim = Simulation::new(d.scenario(), d.seed()).expect("builds");
        for c in log.iter().filter(|c| c.at <= t) {
            sim.advance_to(c.at);
            sim.apply(c.command.clone()).expect("applies");
        }
        sim.advance_to(t);
        sim.snapshot()
    }

    /// The default scenario for 40 s with a crash at 3 s, a restart at 9.5 s, a burst at 21 s.
    fn recorded_run(budget: usize) -> Driver {
        let mut d = Driver::with_default_scenario().with_checkpoint_budget(budget);
        d.run_to(SimTime::from_secs(3));
        d.apply(command(r#"{"crash_consumer":{"consumer":"worker"}}"#))
            .expect("crash applies");
        d.run_to(SimTime::from_millis(9_500));
        d.apply(command(r#"{"restart_consumer":{"consumer":"worker"}}"#))
            .expect("restart applies");
        d.run_to(SimTime::from_secs(21));
        let producer = d.scenario().producers[0].name.clone();
        d.apply(command(&format!(
            r#"{{"burst":{{"producer":"{producer}","count":50}}}}"#
        )))
        .expect("burst applies");
        d.run_to(SimTime::from_secs(40));
        d
    }

    #[test]
    fn checkpoints_are_taken_every_simulated_second() {
        let d = recorded_run(CHECKPOINT_BUDGET_BYTES);
        let times: Vec<u64> = d.checkpoints.items.iter().map(|c| c.at.0).collect();
        assert_eq!(times, (0..=40).map(|s| s * 1_000_000).collect::<Vec<_>>());
        let applied: Vec<usize> = d.checkpoints.items.iter().map(|c| c.applied).collect();
        assert_eq!(
            &applied[..4],
            &[0, 0, 0, 0],
            "the crash at 3 s comes after that checkpoint"
        );
        assert_eq!((applied[4], applied[10], applied[22]), (1, 2, 3));
        let sum: usize = d
            .checkpoints
            .items
            .iter()
            .map(|c| c.sim.approx_bytes())
            .sum();
        assert_eq!(d.checkpoints.bytes(), sum);
    }

    #[test]
    fn checkpoints_are_thinned_to_every_second_one_over_budget() {
        let one = Driver::with_default_scenario().sim().approx_bytes();
        // Room for about ten checkpoints.
        let budget = one * 10;
        let d = recorded_run(budget);
        let c = &d.checkpoints;
        assert!(c.bytes() <= budget, "{} > {budget}", c.bytes());
        assert_eq!(c.every_us(), 8_000_000, "thinned three times");
        let times: Vec<u64> = c.items.iter().map(|c| c.at.0 / 1_000_000).collect();
        assert_eq!(times, vec![0, 8, 16, 24, 32, 40]);
    }

    #[test]
    fn scrubbing_gives_the_state_of_a_fresh_replay() {
        for budget in [CHECKPOINT_BUDGET_BYTES, 1] {
            let mut d = recorded_run(budget);
            let log = d.log().to_vec();
            let end = d.snapshot();
            for ms in [39_000, 2_999, 3_000, 9_500, 12_345, 0, 21_000, 33_333, 500] {
                let t = SimTime::from_millis(ms);
                d.scrub(t);
                assert_eq!(d.now(), t);
                assert!(
                    d.snapshot() == fresh(&d, &log, t),
                    "scrub to {t}, budget {budget}"
                );
                assert_eq!(d.recorded(), &log[..], "the recorded future is kept");
            }
            // Playing on applies the recorded commands again: the same run's end.
            d.run_to(SimTime::from_secs(40));
            assert!(d.snapshot() == end);
            assert_eq!(d.log(), &log[..]);
        }
    }

    #[test]
    fn scrubbing_back_keeps_the_event_log_of_a_fresh_replay() {
        let mut d = recorded_run(CHECKPOINT_BUDGET_BYTES);
        let t = SimTime::from_millis(12_345);
        d.scrub(t);
        let mut replay = Driver::with_default_scenario();
        let log: Vec<LoggedCommand> = d.log().to_vec();
        replay
            .restore(&d.scenario().clone(), d.seed(), &log, t)
            .expect("restores");
        assert_eq!(d.events(), replay.events());
        assert_eq!(d.horizon(), SimTime::from_secs(40));
    }

    #[test]
    fn a_new_command_after_a_scrub_back_replaces_the_recorded_future() {
        let mut d = recorded_run(CHECKPOINT_BUDGET_BYTES);
        d.scrub(SimTime::from_secs(5));
        d.apply(command(r#"{"restart_consumer":{"consumer":"worker"}}"#))
            .expect("restart applies");
        assert_eq!(
            d.recorded().len(),
            2,
            "the later restart and burst are gone"
        );
        assert!(d
            .checkpoints
            .items
            .iter()
            .all(|c| c.at <= SimTime::from_secs(5)));
        let log = d.log().to_vec();
        d.run_to(SimTime::from_secs(30));
        assert!(d.snapshot() == fresh(&d, &log, SimTime::from_secs(30)));
        d.scrub(SimTime::from_secs(17));
        assert!(d.snapshot() == fresh(&d, &log, SimTime::from_secs(17)));
    }

    #[test]
    fn seek_forgets_the_later_commands_and_their_checkpoints() {
        let mut d = recorded_run(CHECKPOINT_BUDGET_BYTES);
        d.seek(SimTime::from_secs(5));
        assert_eq!((d.log().len(), d.recorded().len()), (1, 1));
        assert!(d.checkpoints.items.iter().all(|c| c.applied <= 1));
        d.run_to(SimTime::from_secs(25));
        assert!(d.snapshot() == fresh(&d, d.log(), SimTime::from_secs(25)));
    }

    #[test]
    fn a_long_seek_forward_starts_from_the_checkpoint_ahead() {
        let mut d = recorded_run(CHECKPOINT_BUDGET_BYTES);
        let log = d.log().to_vec();
        d.scrub(SimTime::from_secs(2));
        let before = d.recorded_events;
        d.scrub(SimTime::from_secs(35));
        assert_eq!(
            d.recorded_events, before,
            "nothing between 2 s and the checkpoint at 35 s was simulated"
        );
        assert!(d.snapshot() == fresh(&d, &log, SimTime::from_secs(35)));
        d.scrub(SimTime::from_millis(37_250));
        assert!(d.snapshot() == fresh(&d, &log, SimTime::from_millis(37_250)));
    }

    #[test]
    fn fork_keeps_the_original_branch_and_switching_replays_each_exactly() {
        for budget in [CHECKPOINT_BUDGET_BYTES, 1] {
            let mut d = recorded_run(budget);
            let original = d.recorded().to_vec();
            d.scrub(SimTime::from_secs(15));
            d.apply(command(r#"{"crash_consumer":{"consumer":"worker"}}"#))
                .expect("crash applies");
            let f = d.fork().expect("a command behind the end forks the run");
            assert_eq!(f.at, SimTime::from_secs(15));
            assert!(!f.playing_original);
            assert_eq!(
                (f.other_log, f.other_end),
                (&original[..], SimTime::from_secs(40))
            );
            assert_eq!(
                d.horizon(),
                SimTime::from_secs(15),
                "the fork ends where it starts"
            );
            d.run_to(SimTime::from_secs(30));
            let forked = d.log().to_vec();
            assert_eq!(
                forked.len(),
                3,
                "the crash at 15 s replaced the burst at 21 s"
            );
            let on_fork = d.snapshot();
            assert!(on_fork == fresh(&d, &forked, SimTime::from_secs(30)));
            assert!(
                on_fork != fresh(&d, &original, SimTime::from_secs(30)),
                "the fork differs"
            );

            assert!(d.switch_branch());
            assert_eq!(d.now(), SimTime::from_secs(30));
            assert!(d.fork().expect("still forked").playing_original);
            assert!(d.snapshot() == fresh(&d, &original, SimTime::from_secs(30)));
            assert_eq!(d.recorded(), &original[..]);
            assert_eq!(d.horizon(), SimTime::from_secs(40));
            d.run_to(SimTime::from_secs(40));
            assert!(d.snapshot() == fresh(&d, &original, SimTime::from_secs(40)));
            let events: Vec<_> = d.events().iter().map(|e| e.time).collect();
            assert!(events.windows(2).all(|w| w[0] <= w[1]), "events in order");

            assert!(d.switch_branch());
            assert!(d.snapshot() == fresh(&d, &forked, SimTime::from_secs(40)));
            assert_eq!(d.fork().expect("forked").other_end, SimTime::from_secs(40));
        }
    }

    #[test]
    fn a_new_fork_replaces_the_branch_not_playing() {
        let mut d = recorded_run(CHECKPOINT_BUDGET_BYTES);
        d.scrub(SimTime::from_secs(15));
        d.apply(command(r#"{"crash_consumer":{"consumer":"worker"}}"#))
            .expect("crash applies");
        d.run_to(SimTime::from_secs(25));
        let first_fork = d.recorded().to_vec();
        d.scrub(SimTime::from_secs(20));
        d.apply(command(r#"{"restart_consumer":{"consumer":"worker"}}"#))
            .expect("restart applies");
        let f = d.fork().expect("forked again");
        assert_eq!(f.at, SimTime::from_secs(20));
        assert_eq!(
            f.other_log,
            &first_fork[..],
            "the first fork is now the other branch"
        );
        assert!(
            d.other_charts().is_some(),
            "the other branch has series past the fork"
        );
        // At the end of the recorded run a command does not fork.
        let mut plain = Driver::with_default_scenario();
        plain.run_to(SimTime::from_secs(5));
        plain
            .apply(command(r#"{"crash_consumer":{"consumer":"worker"}}"#))
            .expect("crash applies");
        assert!(plain.fork().is_none() && !plain.switch_branch());
    }
}
