//! Sharing a run: the whole state (scenario, seed, command log, clock, language, lesson step)
//! as a session, carried in a link (`#s=` + base64url of deflated JSON), a JSON file or the
//! browser's autosave. Everything read here is untrusted: sizes are refused before parsing,
//! errors name the field, and replay work is capped so a crafted link cannot freeze the tab.

use crate::driver::{Driver, LoggedCommand, DEFAULT_SEED};
use crate::i18n::{t, Key, Lang};
use crate::lab::Lab;
use crate::narration::{step_time, StepPos};
use crate::presets;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use broker_sim::{Command, Scenario, SimTime, Simulation};
use miniz_oxide::inflate::TINFLStatus;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Marks a session (a bare scenario file has no `kind`).
pub const SESSION_KIND: &str = "broker-lab-session";
pub const SESSION_VERSION: u32 = 1;
/// Files larger than this are refused before they are read.
pub const MAX_FILE_BYTES: f64 = 50.0 * 1024.0 * 1024.0;
/// Link fragments longer than this are refused before they are decoded.
pub const MAX_FRAGMENT_BYTES: usize = 10 * 1024 * 1024;
/// A link's JSON may inflate to at most this (a deflate bomb stops here).
const MAX_INFLATED_BYTES: usize = 50 * 1024 * 1024;
pub const MAX_COMMANDS: usize = 10_000;
/// One simulated year: past it a clock position is surely not a real session.
pub const MAX_TIME_US: u64 = 365 * 24 * 3_600 * 1_000_000;
/// Scheduled work items a restore may replay (about a second of work in the browser).
pub const MAX_REPLAY_WORK: usize = 400_000;
/// The fragment prefix of a shared link.
pub const FRAGMENT_PREFIX: &str = "#s=";
const AUTOSAVE_KEY: &str = "broker-lab.session";
/// Set once the start screen has been shown in this browser.
const WELCOMED_KEY: &str = "broker-lab.welcomed";

/// Where the session's scenario comes from: a preset of the library, unchanged, or the full JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ScenarioRef {
    Preset(String),
    Inline(Value),
}

/// Everything needed to reproduce what the screen shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    pub kind: String,
    pub version: u32,
    pub scenario: ScenarioRef,
    pub seed: u64,
    #[serde(default)]
    pub log: Vec<LoggedCommand>,
    pub time_us: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<StepPos>,
    /// The other branch of a forked run (links made before forks have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fork: Option<SharedFork>,
}

/// The branch not playing: its commands, played to `end_us`, parting from the session's run
/// at `at_us`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedFork {
    pub at_us: u64,
    pub end_us: u64,
    #[serde(default)]
    pub log: Vec<LoggedCommand>,
    /// Whether this branch is the original one (the session's run is then the fork).
    pub original: bool,
}

/// Why something could not be opened: a translated reason and, where there is one, the
/// located detail (a JSON path and the parser's words).
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub key: Key,
    pub detail: String,
}

impl Problem {
    fn new(key: Key, detail: impl Into<String>) -> Problem {
        Problem {
            key,
            detail: detail.into(),
        }
    }

    /// The reason in `lang`, then the detail.
    pub fn text(&self, lang: Lang) -> String {
        if self.detail.is_empty() {
            t(lang, self.key).to_string()
        } else {
            format!("{}: {}", t(lang, self.key), self.detail)
        }
    }
}

/// A session or scenario checked and ready to restore.
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared {
    pub scenario: Scenario,
    pub seed: u64,
    pub log: Vec<LoggedCommand>,
    pub time: SimTime,
    pub lang: Option<Lang>,
    pub step: Option<StepPos>,
    pub fork: Option<SharedFork>,
    /// The library's id of the scenario, when the session named a preset.
    pub preset: Option<&'static str>,
}

/// The live state as a session. `inline` writes the scenario out even if it is a preset (files
/// should stand alone; links stay short with the id).
pub fn capture(d: &Driver, lang: Lang, step: Option<StepPos>, inline: bool) -> Session {
    let scenario = match presets::id_of(d.scenario()) {
        Some(id) if !inline => ScenarioRef::Preset(id.to_string()),
        _ => ScenarioRef::Inline(
            serde_json::to_value(d.scenario()).expect("a Scenario always serialises"),
        ),
    };
    Session {
        kind: SESSION_KIND.to_string(),
        version: SESSION_VERSION,
        scenario,
        seed: d.seed(),
        log: d.log().to_vec(),
        time_us: d.now().micros(),
        lang: Some(lang.code().to_string()),
        step: d.scenario().narration.as_ref().and(step),
        fork: d.fork().map(|f| SharedFork {
            at_us: f.at.micros(),
            end_us: f.other_end.micros(),
            log: f.other_log.to_vec(),
            original: !f.playing_original,
        }),
    }
}

/// The `#s=` fragment payload of a session.
pub fn encode_fragment(session: &Session) -> String {
    let json = serde_json::to_vec(session).expect("a Session always serialises");
    URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec(&json, 9))
}

/// Reads an `#s=` payload; nothing is decoded from one longer than [`MAX_FRAGMENT_BYTES`].
pub fn decode_fragment(payload: &str) -> Result<Session, Problem> {
    if payload.len() > MAX_FRAGMENT_BYTES {
        return Err(Problem::new(
            Key::ProblemLinkTooLong,
            megabytes(payload.len() as f64),
        ));
    }
    let bad = |detail: String| Problem::new(Key::ProblemLinkDamaged, detail);
    let packed = URL_SAFE_NO_PAD
        .decode(payload.trim())
        .map_err(|e| bad(e.to_string()))?;
    let json = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, MAX_INFLATED_BYTES)
        .map_err(|e| {
            bad(match e.status {
                TINFLStatus::HasMoreOutput => "it unpacks to more than 50 MB".to_string(),
                _ => "it holds no compressed session".to_string(),
            })
        })?;
    let text = String::from_utf8(json).map_err(|e| bad(e.to_string()))?;
    match parse_text(&text)? {
        Loaded::Session(s) => Ok(*s),
        Loaded::Scenario(_) => Err(Problem::new(Key::ProblemNotSession, "")),
    }
}

/// What a file or link held.
#[derive(Debug)]
pub enum Loaded {
    Session(Box<Session>),
    Scenario(Box<Scenario>),
}

/// Parses a session (an object with `kind`) or a bare scenario; errors name the field.
pub fn parse_text(text: &str) -> Result<Loaded, Problem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // serde_json refuses nesting deeper than 128, so a hostile file cannot overflow the stack.
    let value: Value =
        serde_json::from_str(text).map_err(|e| Problem::new(Key::ProblemNotJson, e.to_string()))?;
    if value.get("kind").is_none() {
        return Scenario::from_json(text)
            .map(|s| Loaded::Scenario(Box::new(s)))
            .map_err(|e| Problem::new(Key::ProblemScenario, e.to_string()));
    }
    session_from_json(text)
        .map(|s| Loaded::Session(Box::new(s)))
        .map_err(|e| Problem::new(Key::ProblemSession, format!("{}: {}", e.path, e.reason)))
}

/// A session from its JSON text, through the core's one JSON reader ([`broker_sim::from_json`]):
/// every reader of the same types shares one copy of their parsing code in the wasm.
pub fn session_from_json(text: &str) -> Result<Session, broker_sim::ScenarioError> {
    broker_sim::from_json(text)
}

/// Checks a session against every limit and replays it once within [`MAX_REPLAY_WORK`].
pub fn prepare_session(s: Session) -> Result<Prepared, Problem> {
    let located = |detail: String| Problem::new(Key::ProblemSession, detail);
    if s.kind != SESSION_KIND {
        return Err(located(format!("kind: expected {SESSION_KIND:?}")));
    }
    if s.version != SESSION_VERSION {
        return Err(located(format!(
            "version: unsupported session version {}; this build reads version {SESSION_VERSION}",
            s.version
        )));
    }
    check_log(("log", "time_us", "the session's time"), &s.log, s.time_us)?;
    if let Some(f) = &s.fork {
        check_log(
            ("fork.log", "fork.end_us", "the branch's end"),
            &f.log,
            f.end_us,
        )?;
        if f.at_us > f.end_us {
            return Err(located(format!(
                "fork.at_us: after the branch's end {}",
                SimTime(f.end_us)
            )));
        }
    }
    let time = SimTime(s.time_us);
    let lang = match s.lang.as_deref() {
        None => None,
        Some("ko") => Some(Lang::Ko),
        Some("en") => Some(Lang::En),
        Some(other) => return Err(located(format!("lang: {other:?} is not \"ko\" or \"en\""))),
    };
    // A preset must be at hand (`presets::fetch`) before its session is prepared.
    let preset = match &s.scenario {
        ScenarioRef::Preset(id) => Some(
            presets::entry(id)
                .ok_or_else(|| Problem::new(Key::ProblemUnknownPreset, format!("{id:?}")))?
                .id,
        ),
        ScenarioRef::Inline(_) => None,
    };
    let scenario = match &s.scenario {
        ScenarioRef::Preset(id) => presets::scenario(id)
            .ok_or_else(|| Problem::new(Key::ProblemUnknownPreset, format!("{id:?}")))?,
        ScenarioRef::Inline(v) => Scenario::from_json(&v.to_string()).map_err(|e| {
            let path = if e.path.is_empty() {
                "scenario.inline".to_string()
            } else {
                format!("scenario.inline.{}", e.path)
            };
            Problem::new(Key::ProblemScenario, format!("{path}: {}", e.reason))
        })?,
    };
    let step = match (s.step, &scenario.narration) {
        (None, _) => None,
        (Some(p), Some(n)) if p.index < n.steps.len() => Some(StepPos {
            index: p.index,
            revealed: p.revealed && n.steps[p.index].question.is_some(),
        }),
        (Some(p), _) => {
            return Err(located(format!(
                "step.index: {} is not a step of this scenario",
                p.index
            )))
        }
    };
    check_script(&scenario)?;
    check_replay(&scenario, s.seed, &s.log, time)?;
    if let Some(f) = &s.fork {
        check_replay(&scenario, s.seed, &f.log, SimTime(f.end_us))?;
    }
    Ok(Prepared {
        scenario,
        seed: s.seed,
        log: s.log,
        time,
        lang,
        step,
        fork: s.fork,
        preset,
    })
}

/// A command log's size and times against the limits; `fields` name the log, its time field
/// and what that time is.
fn check_log(
    (field, time_field, what): (&str, &str, &str),
    log: &[LoggedCommand],
    time_us: u64,
) -> Result<(), Problem> {
    if log.len() > MAX_COMMANDS {
        return Err(Problem::new(
            Key::ProblemTooManyCommands,
            format!("{field}: {} > {MAX_COMMANDS}", log.len()),
        ));
    }
    let time = SimTime(time_us);
    if time_us > MAX_TIME_US {
        return Err(Problem::new(
            Key::ProblemTooLate,
            format!("{time_field}: {time}"),
        ));
    }
    match log.iter().position(|c| c.at > time) {
        Some(i) => Err(Problem::new(
            Key::ProblemSession,
            format!("{field}[{i}].at: after {what} {time}"),
        )),
        None => Ok(()),
    }
}

/// A bare scenario file, checked like a session; a lesson opens at its first step.
pub fn prepare_scenario(scenario: Scenario) -> Result<Prepared, Problem> {
    let time = scenario
        .narration
        .as_ref()
        .and_then(|n| step_time(n, 0))
        .unwrap_or(SimTime::ZERO);
    check_script(&scenario)?;
    check_replay(&scenario, DEFAULT_SEED, &[], time)?;
    let step = scenario.narration.as_ref().map(|_| StepPos::default());
    Ok(Prepared {
        scenario,
        seed: DEFAULT_SEED,
        log: Vec::new(),
        time,
        lang: None,
        step,
        fork: None,
        preset: None,
    })
}

/// Scripted commands must name entities the scenario declares (or an earlier script line
/// adds): the core only reports such a command when it runs, long after the file was opened.
fn check_script(scenario: &Scenario) -> Result<(), Problem> {
    let mut consumers: BTreeSet<&str> =
        scenario.consumers.iter().map(|c| c.name.as_str()).collect();
    let mut producers: BTreeSet<&str> =
        scenario.producers.iter().map(|p| p.name.as_str()).collect();
    let mut queues: BTreeSet<&str> = scenario.queues.iter().map(|q| q.name.as_str()).collect();
    let mut groups: BTreeSet<&str> = scenario.groups.iter().map(|g| g.name.as_str()).collect();
    let mut script: Vec<_> = scenario.script.iter().enumerate().collect();
    // The core runs scripted commands in time order (file order within an instant).
    script.sort_by(|a, b| a.1.at_ms.total_cmp(&b.1.at_ms));
    for (i, s) in script {
        let (kind, name, field) = match &s.command {
            Command::CrashConsumer { consumer }
            | Command::RestartConsumer { consumer }
            | Command::SlowConsumer { consumer, .. }
            | Command::DoubleAck { consumer }
            | Command::RemoveConsumer { consumer } => ("consumer", consumer, &consumers),
            Command::UpdateConsumer { consumer } => ("consumer", &consumer.name, &consumers),
            Command::ChangeVisibility { consumer, .. } => ("consumer", consumer, &consumers),
            Command::CrashStageAfterWrite { consumer, .. } => ("consumer", consumer, &consumers),
            Command::PauseProducer { producer }
            | Command::ResumeProducer { producer }
            | Command::SetRate { producer, .. }
            | Command::Burst { producer, .. }
            | Command::Poison { producer }
            | Command::RemoveProducer { producer } => ("producer", producer, &producers),
            Command::UpdateProducer { producer } => ("producer", &producer.name, &producers),
            Command::UpdateQueue { queue } => ("queue", &queue.name, &queues),
            Command::ResetOffsets { group, .. } => ("group", group, &groups),
            Command::AddQueue { queue } => {
                queues.insert(&queue.name);
                continue;
            }
            Command::AddProducer { producer } => {
                producers.insert(&producer.name);
                continue;
            }
            Command::AddConsumer { consumer } => {
                consumers.insert(&consumer.name);
                continue;
            }
            Command::AddGroup { group } => {
                groups.insert(&group.name);
                continue;
            }
            // Bindings and JMS commands are checked by the core when they are applied.
            Command::AddBinding { .. }
            | Command::RemoveBinding { .. }
            | Command::AddJmsQueue { .. }
            | Command::AddJmsTopic { .. }
            | Command::UnsubscribeDurable { .. }
            | Command::RestartJmsBroker { .. } => continue,
            // Kafka broker ids are checked by the core when the command applies.
            Command::CrashKafkaBroker { .. }
            | Command::RestartKafkaBroker { .. }
            | Command::SlowKafkaBroker { .. }
            | Command::IsolateKafkaBroker { .. }
            | Command::HealKafkaBroker { .. } => continue,
            Command::CrashRabbitMqNode { .. }
            | Command::RestartRabbitMqNode { .. }
            | Command::IsolateRabbitMqNode { .. }
            | Command::HealRabbitMqNode { .. } => continue,
            // SQS queues are checked by the core too.
            Command::AddSqsQueue { .. } | Command::UpdateSqsQueue { .. } => continue,
            Command::ResetCursor { .. } | Command::CreateSubscription { .. } => continue,
            // Stages are checked by the core.
            Command::UpdateStage { .. }
            | Command::CrashRelay { .. }
            | Command::CancelOrder { .. } => continue,
            Command::Xclaim { consumer, .. } | Command::Xautoclaim { consumer, .. } => {
                ("consumer", consumer, &consumers)
            }
            // Streams and their groups are checked by the core.
            Command::AddStream { .. }
            | Command::AddStreamGroup { .. }
            | Command::XgroupSetid { .. }
            | Command::Xtrim { .. }
            | Command::RedisFailover { .. } => continue,
            // ZeroMQ names peers and sockets, which the core checks.
            Command::CrashPeer { .. }
            | Command::RestartPeer { .. }
            | Command::ClosePeer { .. }
            | Command::ZmqSend { .. }
            | Command::ZmqSubscribe { .. }
            | Command::ZmqConnect { .. } => continue,
        };
        if !field.contains(name.as_str()) {
            return Err(Problem::new(
                Key::ProblemScenario,
                format!("script[{i}].command: no {kind} named {name:?} is declared"),
            ));
        }
    }
    Ok(())
}

/// Replays the run once, in chunks, refusing it past [`MAX_REPLAY_WORK`] work items. It also
/// covers the lesson's last step, which Next and Back will seek to.
fn check_replay(
    scenario: &Scenario,
    seed: u64,
    log: &[LoggedCommand],
    time: SimTime,
) -> Result<(), Problem> {
    const CHUNK: usize = 20_000;
    let until = scenario
        .narration
        .as_ref()
        .and_then(|n| step_time(n, n.steps.len().saturating_sub(1)))
        .map_or(time, |last| last.max(time));
    let mut sim = Simulation::new(scenario, seed)
        .map_err(|e| Problem::new(Key::ProblemScenario, e.to_string()))?;
    let mut budget = MAX_REPLAY_WORK;
    let mut advance = |sim: &mut Simulation, t: SimTime| -> Result<(), Problem> {
        loop {
            let chunk = CHUNK.min(budget);
            let (events, reached) = sim.advance_to_bounded(t, chunk);
            budget -= if reached {
                events.len().min(chunk)
            } else {
                chunk
            };
            // A run that halted (a zero-time loop) opens as it is: stopped, with the reason shown.
            if reached || sim.halted().is_some() {
                return Ok(());
            }
            if budget == 0 {
                return Err(Problem::new(
                    Key::ProblemReplayTooLong,
                    format!("{} / {t}", sim.now()),
                ));
            }
        }
    };
    for (i, c) in log.iter().enumerate() {
        if c.at < sim.now() {
            return Err(Problem::new(
                Key::ProblemSession,
                format!("log[{i}].at: commands must be in time order"),
            ));
        }
        advance(&mut sim, c.at)?;
        sim.apply(c.command.clone())
            .map_err(|e| Problem::new(Key::ProblemSession, format!("log[{i}].command: {e}")))?;
    }
    let until = until.max(sim.now());
    advance(&mut sim, until)
}

/// Installs a prepared run: paused at its clock position, ready to compare.
pub fn install(lab: &Lab, p: &Prepared) -> Result<(), Problem> {
    lab.with_driver(|d| restore(d, p))?;
    presets::remember(p.preset);
    Ok(())
}

/// Restores a prepared run, and its other branch if it has one, paused.
fn restore(d: &mut Driver, p: &Prepared) -> Result<(), Problem> {
    d.restore(&p.scenario, p.seed, &p.log, p.time)
        .map_err(|e| Problem::new(Key::ProblemSession, e))?;
    if let Some(f) = &p.fork {
        d.restore_fork(&f.log, SimTime(f.end_us), SimTime(f.at_us), f.original)
            .map_err(|e| Problem::new(Key::ProblemSession, format!("fork.{e}")))?;
    }
    d.set_playing(false);
    Ok(())
}

fn megabytes(bytes: f64) -> String {
    format!("{:.1} MB", bytes / (1024.0 * 1024.0))
}

// ---- the browser side ----

/// The `#s=` payload of the page's URL, if it has one.
pub fn fragment_payload() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    hash.strip_prefix(FRAGMENT_PREFIX).map(str::to_string)
}

/// The page's URL with `#s=payload`, also written into the address bar (without a reload or
/// a history entry).
pub fn publish_fragment(payload: &str) -> Option<String> {
    let window = web_sys::window()?;
    let location = window.location();
    let href = location.href().ok()?;
    let base = href.split('#').next().unwrap_or(&href);
    let url = format!("{base}{FRAGMENT_PREFIX}{payload}");
    let _ = window
        .history()
        .ok()?
        .replace_state_with_url(&JsValue::NULL, "", Some(&url));
    Some(url)
}

/// Drops a shared link's `#s=` from the address bar once the page shows something else, so a
/// reload does not bring the old moment back.
pub fn clear_fragment() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let location = window.location();
    if fragment_payload().is_some() {
        let url = format!(
            "{}{}",
            location.pathname().unwrap_or_default(),
            location.search().unwrap_or_default()
        );
        if let Ok(history) = window.history() {
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
        }
    }
}

/// Copies `text`; `done` says whether the browser allowed it (a denied permission is normal).
pub fn copy_text(text: &str, done: Callback<bool>) {
    let Some(window) = web_sys::window() else {
        return done.emit(false);
    };
    let promise = window.navigator().clipboard().write_text(text);
    wasm_bindgen_futures::spawn_local(async move {
        let ok = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
        done.emit(ok);
    });
}

/// Offers `text` as a file download named `name`.
pub fn download(name: &str, text: &str) -> Option<()> {
    let document = web_sys::window()?.document()?;
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/json");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).ok()?;
    let a: web_sys::HtmlAnchorElement = document.create_element("a").ok()?.dyn_into().ok()?;
    a.set_href(&url);
    a.set_download(name);
    a.click();
    // The click has started the download by the time the next task runs.
    let revoke = Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    web_sys::window()?
        .set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 1_000)
        .ok()?;
    Some(())
}

/// Reads a chosen file as text, refusing one over [`MAX_FILE_BYTES`] before reading it.
pub fn read_file(file: web_sys::File, done: Callback<Result<String, Problem>>) {
    if file.size() > MAX_FILE_BYTES {
        return done.emit(Err(Problem::new(
            Key::ProblemFileTooLarge,
            megabytes(file.size()),
        )));
    }
    // Bytes, not `text()`: the browser would silently replace invalid UTF-8 and read UTF-16
    // as garbage, where the reader deserves the encoding and the byte offset.
    let promise = file.array_buffer();
    wasm_bindgen_futures::spawn_local(async move {
        let buffer = wasm_bindgen_futures::JsFuture::from(promise).await;
        done.emit(match buffer {
            Ok(b) => text_of_file(&js_sys::Uint8Array::new(&b).to_vec()),
            Err(_) => Err(Problem::new(Key::ProblemNotText, "")),
        });
    });
}

/// A file's bytes as text: UTF-8 with or without a byte-order mark; otherwise a located error.
pub fn text_of_file(bytes: &[u8]) -> Result<String, Problem> {
    broker_sim::scenario::text_from_bytes(bytes)
        .map(str::to_owned)
        .map_err(|e| Problem::new(Key::ProblemNotText, e.to_string()))
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The autosaved session, if any.
pub fn saved_session() -> Option<String> {
    storage()?.get_item(AUTOSAVE_KEY).ok().flatten()
}

/// Whether this browser opens the app for the first time; from now on it has.
pub fn first_visit() -> bool {
    let Some(s) = storage() else {
        return false;
    };
    let first = s.get_item(WELCOMED_KEY).ok().flatten().is_none();
    if first {
        let _ = s.set_item(WELCOMED_KEY, "1");
    }
    first
}

/// Writes the autosave (a full storage is not worth an error box).
pub fn autosave(json: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(AUTOSAVE_KEY, json);
    }
}

/// A session's scenario title in `lang`, read without checking or replaying anything.
pub fn session_title(s: &Session, lang: Lang) -> String {
    match &s.scenario {
        ScenarioRef::Preset(id) => presets::entry(id).map_or_else(String::new, |e| e.title(lang)),
        ScenarioRef::Inline(v) => v
            .get("title")
            .and_then(|t| broker_sim::from_json(&t.to_string()).ok())
            .map_or_else(String::new, |t| presets::pick(&t, lang).to_string()),
    }
}

/// Whether an autosaved session is worth offering back: more than the default scenario
/// playing by itself.
pub fn worth_offering(s: &Session) -> bool {
    !s.log.is_empty() || s.fork.is_some() || s.scenario != ScenarioRef::Preset("default".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn driver(id: &str) -> Driver {
        let scenario = presets::scenario(id).expect("preset");
        Driver::new(&scenario, DEFAULT_SEED).expect("builds")
    }

    fn crash(consumer: &str) -> Command {
        Command::CrashConsumer {
            consumer: consumer.into(),
        }
    }

    /// A link and an exported file written before the core moved to kernel / clients /
    /// families (commit cb44086): they still open, in the exact state they captured.
    #[test]
    fn links_and_files_saved_before_the_family_seam_still_open() {
        const DIGEST_AT_CAPTURE: u64 = 0xed4f_6a74_542a_881c;
        let link = include_str!("../tests/fixtures/link-before-seam.txt");
        let file = include_str!("../tests/fixtures/session-before-seam.json");
        let from_link =
            prepare_session(decode_fragment(link.trim()).expect("decodes")).expect("prepares");
        let Loaded::Session(session) = parse_text(file).expect("parses") else {
            panic!("an exported session");
        };
        let from_file = prepare_session(*session).expect("prepares");
        assert_eq!(from_link.lang, Some(Lang::Ko));
        assert_eq!(from_file.lang, Some(Lang::En));
        for p in [from_link, from_file] {
            assert_eq!(p.time, SimTime::from_millis(4_321));
            let mut d = driver("rmq-01-direct");
            d.restore(&p.scenario, p.seed, &p.log, p.time)
                .expect("restores");
            assert_eq!(d.sim().digest().0, DIGEST_AT_CAPTURE);
        }
    }

    #[test]
    fn a_link_round_trips_to_the_exact_state() {
        let mut d = driver("default");
        d.run_to(SimTime::from_secs(2));
        d.apply(crash("worker")).expect("crash");
        d.run_to(SimTime::from_millis(4_321));
        let session = capture(&d, Lang::Ko, None, false);
        assert_eq!(session.scenario, ScenarioRef::Preset("default".into()));
        let back = decode_fragment(&encode_fragment(&session)).expect("decodes");
        assert_eq!(back, session);
        let p = prepare_session(back).expect("prepares");
        let mut other = driver("rmq-01-direct");
        other
            .restore(&p.scenario, p.seed, &p.log, p.time)
            .expect("restores");
        assert_eq!(other.snapshot(), d.snapshot());
        assert_eq!(p.lang, Some(Lang::Ko));
    }

    #[test]
    fn fork_links_carry_both_branches_and_old_links_still_open() {
        let mut d = driver("default");
        d.run_to(SimTime::from_secs(20));
        d.scrub(SimTime::from_secs(8));
        d.apply(crash("worker")).expect("crash");
        d.run_to(SimTime::from_secs(14));
        let session = capture(&d, Lang::En, None, false);
        let fork = session
            .fork
            .clone()
            .expect("the link carries the other branch");
        assert_eq!(
            (fork.at_us, fork.end_us, fork.original),
            (8_000_000, 20_000_000, true)
        );
        let back = decode_fragment(&encode_fragment(&session)).expect("decodes");
        assert_eq!(back, session);
        let mut other = driver("rmq-01-direct");
        restore(&mut other, &prepare_session(back).expect("prepares")).expect("restores");
        assert_eq!(other.snapshot(), d.snapshot());
        let (a, b) = (other.fork().expect("forked"), d.fork().expect("forked"));
        assert_eq!(
            (a.at, a.other_end, a.other_log, a.playing_original),
            (b.at, b.other_end, b.other_log, b.playing_original)
        );
        assert!(other.switch_branch() && d.switch_branch());
        assert_eq!(other.snapshot(), d.snapshot(), "the original branch, too");

        // A session from before forks has no `fork` and writes none.
        let file = include_str!("../tests/fixtures/session-before-seam.json");
        let Loaded::Session(old) = parse_text(file).expect("parses") else {
            panic!("an exported session");
        };
        assert!(old.fork.is_none() && prepare_session(*old).expect("prepares").fork.is_none());
        let plain = serde_json::to_string(&capture(&driver("default"), Lang::En, None, false));
        assert!(!plain.expect("serialises").contains("fork"));
        // A branch that parts after its own end is refused, located.
        let mut bad = session.clone();
        bad.fork.as_mut().expect("fork").at_us = 30_000_000;
        assert!(problem(prepare_session(bad))
            .detail
            .starts_with("fork.at_us"));
    }

    #[test]
    fn a_session_names_its_scenario() {
        let d = driver("rmq-01-direct");
        for inline in [false, true] {
            let s = capture(&d, Lang::En, None, inline);
            assert!(session_title(&s, Lang::Ko).starts_with("RMQ-1 다이렉트"));
        }
    }

    #[test]
    fn an_edited_scenario_travels_inline() {
        let mut d = driver("default");
        let mut s = d.scenario().clone();
        s.latency_ms = 7.0;
        d.load(&s, 42).expect("loads");
        let session = capture(&d, Lang::En, None, false);
        assert!(matches!(session.scenario, ScenarioRef::Inline(_)));
        let p = prepare_session(session).expect("prepares");
        assert_eq!((p.scenario, p.seed), (s, 42));
    }

    fn problem(r: Result<Prepared, Problem>) -> Problem {
        r.expect_err("refused")
    }

    fn session() -> Session {
        capture(&driver("default"), Lang::En, None, false)
    }

    #[test]
    fn garbage_links_are_refused_with_a_reason() {
        for payload in ["garbage!!", "AAAA", ""] {
            let e = decode_fragment(payload).expect_err("refused");
            assert!(
                matches!(e.key, Key::ProblemLinkDamaged | Key::ProblemNotJson),
                "{e:?}"
            );
        }
        let huge = "A".repeat(MAX_FRAGMENT_BYTES + 1);
        assert_eq!(
            decode_fragment(&huge).unwrap_err().key,
            Key::ProblemLinkTooLong
        );
    }

    #[test]
    fn a_deflate_bomb_stops_at_the_limit() {
        let zeros = vec![b' '; MAX_INFLATED_BYTES + 1];
        let payload = URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec(&zeros, 9));
        assert!(payload.len() < 1_000_000);
        let e = decode_fragment(&payload).unwrap_err();
        assert_eq!(e.key, Key::ProblemLinkDamaged);
        assert!(e.detail.contains("more than 50 MB"), "{e:?}");
    }

    #[test]
    fn malformed_files_are_refused_with_located_errors() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        for (text, key, needle) in [
            ("not json", Key::ProblemNotJson, "line 1"),
            (deep.as_str(), Key::ProblemNotJson, "recursion"),
            (r#"{"version": 2}"#, Key::ProblemScenario, "version"),
            (r#"[1, 2]"#, Key::ProblemScenario, "object"),
            (
                r#"{"kind": "broker-lab-session", "version": 1}"#,
                Key::ProblemSession,
                "scenario",
            ),
        ] {
            let e = parse_text(text).expect_err(text);
            assert_eq!(e.key, key, "{text:.40}: {e:?}");
            assert!(e.detail.contains(needle), "{text:.40}: {e:?}");
        }
    }

    #[test]
    fn sessions_are_checked_field_by_field() {
        let mut s = session();
        s.version = 9;
        assert!(problem(prepare_session(s)).detail.starts_with("version:"));

        let mut s = session();
        s.lang = Some("fr".into());
        assert!(problem(prepare_session(s)).detail.starts_with("lang:"));

        let mut s = session();
        s.scenario = ScenarioRef::Preset("nope".into());
        assert_eq!(problem(prepare_session(s)).key, Key::ProblemUnknownPreset);

        let mut s = session();
        s.scenario =
            ScenarioRef::Inline(serde_json::json!({"version": 1, "queues": [{"name": 3}]}));
        let e = problem(prepare_session(s));
        assert!(
            e.detail.starts_with("scenario.inline.queues[0].name"),
            "{e:?}"
        );

        let mut s = session();
        s.step = Some(StepPos::default());
        assert!(problem(prepare_session(s)).detail.starts_with("step.index"));

        let mut s = session();
        s.log = vec![LoggedCommand {
            at: SimTime(5),
            command: crash("ghost"),
        }];
        s.time_us = 10;
        assert!(problem(prepare_session(s))
            .detail
            .contains("log[0].command"));
    }

    #[test]
    fn absurd_logs_and_times_are_refused_without_replaying_them() {
        let mut s = session();
        s.log = vec![
            LoggedCommand {
                at: SimTime::ZERO,
                command: crash("worker")
            };
            MAX_COMMANDS + 1
        ];
        assert_eq!(problem(prepare_session(s)).key, Key::ProblemTooManyCommands);

        let mut s = session();
        s.time_us = u64::MAX;
        assert_eq!(problem(prepare_session(s)).key, Key::ProblemTooLate);

        // A year of the default scenario is far past the replay budget.
        let mut s = session();
        s.time_us = MAX_TIME_US;
        assert_eq!(problem(prepare_session(s)).key, Key::ProblemReplayTooLong);
    }

    #[test]
    fn a_script_naming_a_missing_consumer_is_refused() {
        let mut scenario = presets::scenario("default").expect("default");
        scenario.script.push(broker_sim::scenario::ScriptedCommand {
            at_ms: 500.0,
            command: crash("ghost"),
        });
        let e = problem(prepare_scenario(scenario));
        assert_eq!(
            e.detail,
            "script[0].command: no consumer named \"ghost\" is declared"
        );
    }

    #[test]
    fn every_preset_passes_the_untrusted_checks() {
        for p in presets::all() {
            let scenario = presets::scenario(p.id).expect("a valid library file");
            prepare_scenario(scenario).unwrap_or_else(|e| panic!("{}: {e:?}", p.id));
        }
    }
}

/// Seeded fuzzing of the link and file readers (`src/share/fuzz.rs`).
#[cfg(test)]
mod fuzz;
