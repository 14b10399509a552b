//! The seam between broker families: no family folder names another family, neither by module
//! path nor by reaching into its state, and the kernel names no broker noun. A new family that
//! breaks this fails here, with the file and line.

use std::path::{Path, PathBuf};

/// Family folder → the field that holds its state in `Simulation`.
const FAMILIES: [(&str, &str); 9] = [
    ("rabbitmq", "rabbitmq"),
    ("redis_pubsub", "redis"),
    ("kafka", "kafka"),
    ("service", "service"),
    ("jms", "jms"),
    ("sqs", "sqs"),
    ("pulsar", "pulsar"),
    ("redis_streams", "streams"),
    ("zeromq", "zeromq"),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Lines of code (comments left out) in `dir` that contain any of `needles`.
fn offending_lines(dir: &Path, needles: &[String]) -> Vec<String> {
    let mut hits = Vec::new();
    for file in rust_files(dir) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if let Some(needle) = needles.iter().find(|w| code.contains(w.as_str())) {
                hits.push(format!("{}:{}: {needle}", file.display(), n + 1));
            }
        }
    }
    hits
}

#[test]
fn seam_no_family_imports_or_touches_another_family() {
    for (family, _) in FAMILIES {
        let needles: Vec<String> = FAMILIES
            .iter()
            .filter(|(other, _)| *other != family)
            .flat_map(|(other, field)| {
                [
                    format!("families::{other}"),
                    format!("self.{field}."),
                    format!("sim.{field}."),
                ]
            })
            .collect();
        let hits = offending_lines(&src().join("families").join(family), &needles);
        assert!(
            hits.is_empty(),
            "{family} reaches into another family:\n{}",
            hits.join("\n")
        );
    }
}

#[test]
fn seam_kernel_knows_no_broker_noun() {
    let nouns: Vec<String> = [
        "families::",
        "Queue",
        "Exchange",
        "Topic",
        "Partition",
        "Channel",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // The ledger names where a copy is (its states carry queue and consumer ids) and the events
    // name what happened: with the copy they are the kernel files allowed to, because the states
    // and the trace format are the vocabulary every family reports in.
    let hits: Vec<String> = offending_lines(&src().join("kernel"), &nouns)
        .into_iter()
        .filter(|h| {
            !["ledger.rs", "message.rs", "event.rs"]
                .iter()
                .any(|f| h.contains(f))
        })
        .collect();
    assert!(
        hits.is_empty(),
        "the kernel names a broker noun:\n{}",
        hits.join("\n")
    );
}

/// The components of the core, lowest first. A file may name only components of a strictly
/// lower layer, so imports point one way, there is no cycle, and no family names another (they
/// share a layer).
const LAYERS: &[&[&str]] = &[
    &["ids", "matching", "theory"],
    &["kernel"],
    &["scenario"],
    &["command"],
    &["wire"],
    &["clients"],
    &[
        "families::rabbitmq",
        "families::redis_pubsub",
        "families::kafka",
        "families::service",
        "families::jms",
        "families::sqs",
        "families::pulsar",
        "families::redis_streams",
        "families::zeromq",
    ],
    &["engine"],
    &["snapshot", "specs", "interop"],
    &["report", "sweep"],
    &["main"],
];

fn layer_of(component: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&component))
        .unwrap_or_else(|| panic!("component {component} is in no layer of seam.rs"))
}

/// The component a source file belongs to.
fn component_of_file(rel: &str) -> String {
    let parts: Vec<&str> = rel.trim_end_matches(".rs").split('/').collect();
    match parts.as_slice() {
        ["families", family, ..] if parts.len() > 2 => format!("families::{family}"),
        [dir, ..] if parts.len() > 1 => dir.to_string(),
        ["registry"] => "engine".into(),
        [name] => name.to_string(),
        _ => unreachable!(),
    }
}

/// The component a `crate::` path names, following the crate root's re-exports; `None` for the
/// root's constants.
fn component_of_path(path: &str) -> Option<String> {
    let mut segs = path.split("::");
    let first = segs.next().unwrap();
    let c = match first {
        "kernel" | "ledger" | "message" | "time" | "rng" | "stats" | "guard" | "event" | "Halt"
        | "Event" | "EventKind" => "kernel",
        "queue" => "families::rabbitmq",
        "log" | "assignor" | "partitioner" => "families::kafka",
        "families" => return Some(format!("families::{}", segs.next().unwrap_or("?"))),
        "engine" | "registry" | "Simulation" => "engine",
        "scenario" | "Scenario" | "ScenarioError" => "scenario",
        "command" | "Command" | "CommandError" => "command",
        "clients" | "wire" | "ids" | "matching" | "theory" | "snapshot" | "specs" | "report"
        | "interop" | "sweep" => first,
        c if c.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_') => return None,
        other => panic!("seam.rs does not know crate::{other}; map it to a component"),
    };
    Some(c.to_string())
}

#[test]
fn seam_imports_point_one_way_with_no_cycle() {
    let root = src();
    let mut bad = Vec::new();
    for file in rust_files(&root) {
        let rel = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel == "lib.rs" || rel == "families/mod.rs" {
            continue; // they declare modules and re-export, and import nothing
        }
        let from = component_of_file(&rel);
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for (i, _) in code.match_indices("crate::") {
                let path: String = code[i + 7..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let Some(to) = component_of_path(&path) else {
                    continue;
                };
                if to != from && layer_of(&to) >= layer_of(&from) {
                    bad.push(format!(
                        "{rel}:{}: {from} names {to} (crate::{path})",
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "imports that point up or sideways:\n{}",
        bad.join("\n")
    );
}
