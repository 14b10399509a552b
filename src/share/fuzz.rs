//! Seeded fuzzing of what the app reads from outside: `#s=` link payloads and session or
//! scenario files. Inputs are random bytes, and real links and exported files (the fixtures,
//! plus sessions captured from presets) damaged at every layer: the base64 text, the deflate
//! stream, the JSON text and the JSON structure. Every input must be read to `Ok` or to an
//! `Err` that says where or why, never a panic; what reads `Ok` is prepared (checked and
//! replayed within its budget) and installed into a driver, as opening it in the app would.
//!
//! Case `i` uses seed `S + i`: `BROKER_SIM_FUZZ=N` runs N cases (default 300) and
//! `BROKER_SIM_FUZZ_SEED=S` picks the first seed (default 0), as in `sim/tests/fuzz.rs`.
//! `BROKER_SIM_FUZZ_VERBOSE=1` counts outcomes by kind of input, `=2` adds a line per case,
//! `=3` also prints each input before it is read.

use super::*;
use broker_sim::rng::SimRng;
use serde_json::json;
use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};

const DEFAULT_CASES: u64 = 300;
const PRINT_FULL: usize = 5;

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    Some(
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a non-negative integer")),
    )
}

/// Real inputs to damage: link payloads and file texts.
struct Corpus {
    links: Vec<String>,
    files: Vec<String>,
}

/// The fixtures, and sessions captured from a few presets after a crash command, both as a
/// link (presets by id) and as an exported file (scenario inline), and bare scenario files.
fn corpus() -> Corpus {
    let mut links = vec![include_str!("../../tests/fixtures/link-before-seam.txt")
        .trim()
        .to_string()];
    let mut files = vec![include_str!("../../tests/fixtures/session-before-seam.json").to_string()];
    let presets = presets::all();
    let step = (presets.len() / 6).max(1);
    for (i, p) in presets.iter().enumerate().step_by(step) {
        let scenario = presets::scenario(p.id).expect("a valid library file");
        // Captured as the app would after opening it: a link names the preset.
        presets::remember(Some(p.id));
        let mut d = Driver::new(&scenario, DEFAULT_SEED).expect("presets build");
        d.run_to(SimTime::from_millis(700));
        if let Some(c) = scenario.consumers.first() {
            let _ = d.apply(Command::CrashConsumer {
                consumer: c.name.clone(),
            });
        }
        d.run_to(SimTime::from_millis(1_500));
        let lang = if i % 2 == 0 { Lang::En } else { Lang::Ko };
        let step = scenario.narration.as_ref().map(|_| StepPos::default());
        links.push(encode_fragment(&capture(&d, lang, step, false)));
        let file = capture(&d, lang, step, true);
        files.push(serde_json::to_string_pretty(&file).expect("a Session serialises"));
        files.push(scenario.to_json_pretty());
    }
    Corpus { links, files }
}

struct Gen {
    rng: SimRng,
}

const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

impl Gen {
    fn below(&mut self, n: usize) -> usize {
        self.rng.range_u64(0, n.max(1) as u64 - 1) as usize
    }

    fn coin(&mut self, p: f64) -> bool {
        self.rng.chance(p)
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max + 1);
        (0..n).map(|_| self.rng.next_u64() as u8).collect()
    }

    /// Cuts, flips, inserts or deletes bytes.
    fn damage_bytes(&mut self, b: &mut Vec<u8>) {
        for _ in 0..1 + self.below(3) {
            let at = self.below(b.len() + 1);
            match self.below(5) {
                0 => b.truncate(at),
                1 if at < b.len() => b[at] ^= 1 << self.below(8),
                2 => {
                    let junk = self.bytes(8);
                    b.splice(at..at, junk);
                }
                3 if at < b.len() => {
                    let end = (at + 1 + self.below(16)).min(b.len());
                    b.drain(at..end);
                }
                _ if at < b.len() => b[at] = self.rng.next_u64() as u8,
                _ => b.push(b'x'),
            }
        }
    }

    /// Damages text while keeping it a `&str`, as a browser hands it over.
    fn damage_text(&mut self, s: &str) -> String {
        let mut b = s.as_bytes().to_vec();
        self.damage_bytes(&mut b);
        String::from_utf8_lossy(&b).into_owned()
    }

    /// Damages a link payload with characters a URL could carry.
    fn damage_payload(&mut self, s: &str) -> String {
        let mut b = s.as_bytes().to_vec();
        for _ in 0..1 + self.below(3) {
            let at = self.below(b.len() + 1);
            match self.below(4) {
                0 => b.truncate(at),
                1 if at < b.len() => b[at] = B64[self.below(B64.len())],
                2 => b.insert(at, *b"=%+/ #".get(self.below(6)).expect("in range")),
                _ if at < b.len() => {
                    b.remove(at);
                }
                _ => b.push(b'A'),
            }
        }
        String::from_utf8_lossy(&b).into_owned()
    }

    fn hostile_value(&mut self) -> Value {
        let values = [
            json!(0),
            json!(-1),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1e300),
            json!(4_321_000),
            json!(3_600_000_000u64),
            // A year of replay runs into the replay budget: seconds in a debug build.
            json!(MAX_TIME_US),
            json!(MAX_TIME_US + 1),
            json!(""),
            json!("ko"),
            json!("fr"),
            json!("default"),
            json!("rmq-01-direct"),
            json!("ghost"),
            json!("x".repeat(300)),
            json!([]),
            json!({}),
            json!({"inline": {"version": 1}}),
            json!({"preset": "nope"}),
            json!({"index": 99, "revealed": true}),
            json!({"at": 0, "command": {"crash_consumer": {"consumer": "worker"}}}),
            json!({"at": u64::MAX, "command": {"burst": {"producer": "shop", "count": 1_000}}}),
            Value::Null,
            json!(true),
        ];
        values[self.below(values.len())].clone()
    }

    /// Replaces, removes, duplicates or adds something at a random place in the JSON tree.
    fn mutate(&mut self, node: &mut Value, depth: usize) {
        if depth > 0 {
            match node {
                Value::Object(m) if !m.is_empty() => {
                    let k = m
                        .keys()
                        .nth(self.below(m.len()))
                        .cloned()
                        .expect("in range");
                    return self.mutate(m.get_mut(&k).expect("present"), depth - 1);
                }
                Value::Array(a) if !a.is_empty() => {
                    let i = self.below(a.len());
                    return self.mutate(&mut a[i], depth - 1);
                }
                _ => {}
            }
        }
        match (self.below(5), &mut *node) {
            (0, Value::Object(m)) if !m.is_empty() => {
                let k = m
                    .keys()
                    .nth(self.below(m.len()))
                    .cloned()
                    .expect("in range");
                m.remove(&k);
            }
            (1, Value::Object(m)) => {
                m.insert("extra".into(), json!(1));
            }
            (2, Value::Array(a)) if !a.is_empty() => {
                let x = a[self.below(a.len())].clone();
                for _ in 0..1 + self.below(3) {
                    a.push(x.clone());
                }
            }
            // Mostly a value of the same type, so that more mutants get past the parser.
            (_, Value::Number(_)) if self.coin(0.7) => {
                let numbers = [
                    json!(0),
                    json!(1),
                    json!(2_000_000),
                    json!(4_321_000),
                    json!(3_600_000_000u64),
                    json!(u64::MAX),
                    json!(0.5),
                    json!(1e300),
                ];
                *node = numbers[self.below(numbers.len())].clone();
            }
            (_, Value::String(s)) if self.coin(0.7) => match self.below(3) {
                0 => s.clear(),
                1 => s.push_str(&"x".repeat(300)),
                _ => {
                    *s = ["worker", "shop", "orders", "default", "ko", "en", "ghost"][self.below(7)]
                        .to_string()
                }
            },
            (_, Value::Bool(b)) => *b = !*b,
            _ => *node = self.hostile_value(),
        }
    }

    fn mutate_json(&mut self, text: &str) -> Option<String> {
        let mut v: Value = serde_json::from_str(text).ok()?;
        for _ in 0..1 + self.below(2) {
            // Mostly deep, into the inline scenario and the log, where replay starts.
            let depth = if self.coin(0.2) {
                self.below(2)
            } else {
                2 + self.below(6)
            };
            self.mutate(&mut v, depth);
        }
        Some(serde_json::to_string(&v).expect("JSON values serialise"))
    }
}

fn pack(json: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec(json, 6))
}

fn unpack(payload: &str) -> Option<Vec<u8>> {
    let packed = URL_SAFE_NO_PAD.decode(payload).ok()?;
    miniz_oxide::inflate::decompress_to_vec(&packed).ok()
}

/// One input and the reader it goes to.
enum Input {
    Link(String),
    File(String),
}

impl Input {
    fn text(&self) -> &str {
        match self {
            Input::Link(s) | Input::File(s) => s,
        }
    }
}

fn case(seed: u64, corpus: &Corpus) -> (Input, &'static str) {
    let mut g = Gen {
        rng: SimRng::new(seed ^ 0x5eed_f5a4),
    };
    let link = g.below(corpus.links.len());
    let link = corpus.links[link].as_str();
    let file = g.below(corpus.files.len());
    let file = corpus.files[file].as_str();
    match g.below(10) {
        0 => {
            let b = g.bytes(200);
            if g.coin(0.5) {
                (
                    Input::Link(String::from_utf8_lossy(&b).into_owned()),
                    "random text link",
                )
            } else {
                (
                    Input::File(String::from_utf8_lossy(&b).into_owned()),
                    "random text file",
                )
            }
        }
        1 => {
            // A well-formed container around garbage.
            let b = g.bytes(300);
            (Input::Link(pack(&b)), "deflated random bytes")
        }
        2 => (Input::Link(g.damage_payload(link)), "damaged link text"),
        3 => {
            // Damage inside the compressed stream, then a valid base64 wrapper.
            let mut packed = URL_SAFE_NO_PAD.decode(link).expect("corpus links decode");
            g.damage_bytes(&mut packed);
            (
                Input::Link(URL_SAFE_NO_PAD.encode(packed)),
                "damaged deflate stream",
            )
        }
        4 => {
            let json = unpack(link).expect("corpus links unpack");
            let text = String::from_utf8_lossy(&json).into_owned();
            let damaged = g.damage_text(&text);
            (
                Input::Link(pack(damaged.as_bytes())),
                "damaged link JSON text",
            )
        }
        5 | 6 => {
            let json = unpack(link).expect("corpus links unpack");
            let text = String::from_utf8_lossy(&json).into_owned();
            let mutated = g.mutate_json(&text).expect("corpus links hold JSON");
            (Input::Link(pack(mutated.as_bytes())), "mutated link JSON")
        }
        7 => (Input::File(g.damage_text(file)), "damaged file text"),
        _ => {
            let mutated = g.mutate_json(file).expect("corpus files are JSON");
            (Input::File(mutated), "mutated file JSON")
        }
    }
}

/// An error must say where or why: a key and, except where the key says it all, a detail.
fn check_problem(p: &Problem) -> Result<(), String> {
    if p.detail.trim().is_empty() && p.key != Key::ProblemNotSession {
        return Err(format!("an error with no detail: {p:?}"));
    }
    for lang in [Lang::En, Lang::Ko] {
        if p.text(lang).trim().is_empty() {
            return Err(format!("an error with no text in {lang:?}: {p:?}"));
        }
    }
    Ok(())
}

/// Prepares what was read, as opening it would, and installs it into a driver.
fn open(prepared: Result<Prepared, Problem>) -> Result<&'static str, String> {
    match prepared {
        Ok(p) => {
            let mut d = Driver::with_default_scenario();
            d.restore(&p.scenario, p.seed, &p.log, p.time)
                .map_err(|e| format!("prepared but does not restore: {e}"))?;
            Ok("opened")
        }
        Err(p) => check_problem(&p).map(|()| "refused when prepared"),
    }
}

fn read(input: &Input) -> Result<&'static str, String> {
    match input {
        Input::Link(payload) => match decode_fragment(payload) {
            Ok(session) => {
                let _ = session_title(&session, Lang::Ko);
                open(prepare_session(session))
            }
            Err(p) => check_problem(&p).map(|()| "refused when read"),
        },
        Input::File(text) => match parse_text(text) {
            Ok(Loaded::Session(session)) => {
                let _ = worth_offering(&session);
                open(prepare_session(*session))
            }
            Ok(Loaded::Scenario(scenario)) => open(prepare_scenario(*scenario)),
            Err(p) => check_problem(&p).map(|()| "refused when read"),
        },
    }
}

#[test]
fn damaged_links_and_files_are_refused_with_a_reason_never_a_panic() {
    let cases = env_u64("BROKER_SIM_FUZZ").unwrap_or(DEFAULT_CASES);
    let first = env_u64("BROKER_SIM_FUZZ_SEED").unwrap_or(0);
    // 1: outcomes by kind of input; 2: a line per case; 3: also each input.
    let verbose = env_u64("BROKER_SIM_FUZZ_VERBOSE").unwrap_or(0);
    let corpus = corpus();
    let mut outcomes: BTreeMap<&str, u64> = BTreeMap::new();
    let mut by_origin: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut slowest = (std::time::Duration::ZERO, first);
    for i in 0..cases {
        let seed = first.wrapping_add(i);
        let (input, origin) = case(seed, &corpus);
        if verbose >= 3 {
            let text = format!("seed {seed}: {origin}:\n{}\n", input.text());
            let _ = std::io::Write::write_all(&mut std::io::stderr(), text.as_bytes());
        }
        let t0 = std::time::Instant::now();
        let result = panic::catch_unwind(AssertUnwindSafe(|| read(&input)));
        let took = t0.elapsed();
        if took > slowest.0 {
            slowest = (took, seed);
        }
        if verbose >= 2 {
            let r = match &result {
                Ok(r) => format!("{r:?}"),
                Err(_) => "panic".into(),
            };
            let line = format!("seed {seed}: {origin}: {r} in {took:.1?}\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
        }

        let failure = match result {
            Ok(Ok(outcome)) => {
                *outcomes.entry(outcome).or_default() += 1;
                *by_origin.entry((origin, outcome)).or_default() += 1;
                continue;
            }
            Ok(Err(e)) => e,
            Err(p) => {
                let msg = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                format!("panic: {msg}")
            }
        };
        if failures.len() < PRINT_FULL {
            let kind = match input {
                Input::Link(_) => "link payload",
                Input::File(_) => "file text",
            };
            eprintln!(
                "\n=== share fuzz failure: seed {seed} ({origin})\n{failure}\n--- {kind}\n{}",
                input.text()
            );
        }
        failures.push(seed);
    }
    // Written to stderr directly so that it shows even when the harness captures output.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!(
            "share fuzz: {cases} cases from seed {first}: {outcomes:?}, {} failed; slowest case \
             {:.1?} (seed {})\n",
            failures.len(),
            slowest.0,
            slowest.1,
        )
        .as_bytes(),
    );
    if verbose >= 1 {
        for ((origin, outcome), n) in &by_origin {
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("  {origin}: {n} {outcome}\n").as_bytes(),
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} share fuzz cases failed; seeds {failures:?} (rerun one with \
         BROKER_SIM_FUZZ=1 BROKER_SIM_FUZZ_SEED=<seed>)",
        failures.len()
    );
}
