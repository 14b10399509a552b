//! The seam between broker families: no family folder names another family, neither by module
//! path nor by reaching into its state, and the kernel names no broker noun. A new family that
//! breaks this fails here, with the file and line.

use std::path::{Path, PathBuf};

/// Family folder → the field that holds its state in `Simulation`.
const FAMILIES: [(&str, &str); 4] = [
    ("rabbitmq", "rabbitmq"),
    ("redis_pubsub", "redis"),
    ("kafka", "kafka"),
    ("service", "service"),
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
    // The ledger names where a copy is (its states carry queue and consumer ids) and is the one
    // kernel file allowed to: the states are the vocabulary every family reports in.
    let hits: Vec<String> = offending_lines(&src().join("kernel"), &nouns)
        .into_iter()
        .filter(|h| !h.contains("ledger.rs") && !h.contains("message.rs"))
        .collect();
    assert!(
        hits.is_empty(),
        "the kernel names a broker noun:\n{}",
        hits.join("\n")
    );
}
