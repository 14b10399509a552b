//! Writes the index of the scenario library (src/presets.rs): for each JSON file under the
//! scanned folders its group, id (file stem), path under scenarios/, a content hash for its
//! address, and what the picker shows without the body (title, a lesson's goal). The files
//! themselves are not embedded: trunk copies scenarios/ into dist/ and the app fetches one
//! when it is opened (issue #16). Sorted by path, so the index is the same on every machine.
//! scenarios/ui holds lab scenarios for the panels (and their e2e tests' `?scenario=`).

use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;
use std::{env, fs};

/// Folders scanned under scenarios/, in picker order, and the group each one's files belong to.
const FOLDERS: [(&str, &str); 11] = [
    ("lessons", "Lesson"),
    ("", "Example"),
    ("ui", "Example"),
    ("rules", "Rule"),
    ("kafka", "Rule"),
    ("sqs", "Rule"),
    ("jms", "Rule"),
    ("pulsar", "Rule"),
    ("redis_streams", "Rule"),
    ("zeromq", "Rule"),
    ("pipeline", "Example"),
];

/// FNV-1a, 64 bits: the file's version in its address, so the service worker may serve a
/// cached copy without ever serving a stale one.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `Some(Words { .. })` for a `{ "en", "ko" }` object, else `None`.
fn words(v: Option<&Value>) -> String {
    let text = |lang| v.and_then(|v| v.get(lang)).and_then(Value::as_str);
    match (text("en"), text("ko")) {
        (Some(en), Some(ko)) => format!("Some(Words {{ en: {en:?}, ko: {ko:?} }})"),
        _ => "None".to_string(),
    }
}

fn main() {
    let root = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let scenarios = Path::new(&root).join("scenarios");
    println!("cargo:rerun-if-changed=build.rs");
    let mut list = String::from("&[\n");
    for (folder, group) in FOLDERS {
        let dir = scenarios.join(folder);
        // A folder watched this way reruns the script when a file in it is added or removed.
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files: Vec<_> = fs::read_dir(&dir)
            .map(|dir| dir.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"));
        files.sort();
        for path in files {
            println!("cargo:rerun-if-changed={}", path.display());
            let id = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("UTF-8 file name");
            let bytes = fs::read(&path).expect("readable scenario file");
            // A file that is not JSON still gets an entry (with no title): the unit test that
            // parses every file names it, rather than the build failing here.
            let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let rel = path
                .strip_prefix(&scenarios)
                .expect("under scenarios/")
                .to_str()
                .expect("UTF-8 path")
                .replace('\\', "/");
            writeln!(
                list,
                "    Entry {{ group: Group::{group}, id: {id:?}, path: {rel:?}, version: \"{:016x}\", \
                 title: {}, goal: {} }},",
                fnv1a(&bytes),
                words(json.get("title")),
                words(json.get("narration").and_then(|n| n.get("goal"))),
            )
            .expect("writing to a String");
        }
    }
    list.push(']');
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("presets.rs");
    fs::write(out, list).expect("OUT_DIR is writable");
}
