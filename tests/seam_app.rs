//! The app's seam: everything that belongs to one broker family lives in `src/kinds/`, so the
//! canvas, layout, inspector and panels never name a broker's node, family or view, and the
//! app's modules import one another without cycles. A change that breaks this fails here,
//! naming the file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
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

/// Each line's code, comments left out.
fn code_lines(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| l.split("//").next().unwrap_or("").to_string())
        .collect()
}

/// The variants of `enum name` in a core source file.
fn variants(core_file: &str, name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join("sim/src").join(core_file)).unwrap();
    let start = text
        .find(&format!("pub enum {name} {{"))
        .unwrap_or_else(|| panic!("no enum {name} in {core_file}"));
    let body = &text[start..];
    let body = &body[body.find('{').unwrap() + 1..body.find("\n}").unwrap()];
    body.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//") && !l.starts_with("#[") && !l.is_empty())
        .filter_map(|l| {
            let ident: String = l
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (!ident.is_empty()).then_some(ident)
        })
        .collect()
}

/// The snapshot's per-family views: its `…View` and `…Marker` types, less those every
/// family shares (clients, moving messages, latency).
fn family_views() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("sim/src/snapshot.rs")).unwrap();
    let shared = ["ProducerView", "ConsumerView", "TransitView", "LatencyView"];
    text.lines()
        .filter_map(|l| l.strip_prefix("pub struct "))
        .map(|l| l.split([' ', '<', '{']).next().unwrap().to_string())
        .filter(|n| n.ends_with("View") || n.ends_with("Marker"))
        .filter(|n| !shared.contains(&n.as_str()))
        .collect()
}

/// `src/*.rs` outside `src/kinds/`.
fn app_files_outside_kinds() -> Vec<PathBuf> {
    let kinds = root().join("src/kinds");
    rust_files(&root().join("src"))
        .into_iter()
        .filter(|f| !f.starts_with(&kinds))
        .collect()
}

#[test]
fn seam_no_broker_is_named_outside_kinds() {
    let mut needles: Vec<String> = variants("wire.rs", "NodeRef")
        .into_iter()
        .map(|v| format!("NodeRef::{v}"))
        .collect();
    needles.extend(
        variants("snapshot.rs", "Family")
            .into_iter()
            .map(|v| format!("Family::{v}")),
    );
    needles.extend(family_views());
    assert!(needles.iter().any(|n| n == "NodeRef::Queue"), "{needles:?}");
    assert!(needles.iter().any(|n| n == "Family::Kafka"), "{needles:?}");
    assert!(needles.iter().any(|n| n == "TopicView"), "{needles:?}");
    let mut hits = Vec::new();
    for file in app_files_outside_kinds() {
        for (n, line) in code_lines(&file).iter().enumerate() {
            for needle in &needles {
                // A whole word: `Family::ALL` is fine, `Family::Kafka` is not.
                let found = line.match_indices(needle.as_str()).any(|(i, _)| {
                    !line[i + needle.len()..]
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                if found {
                    let rel = file.strip_prefix(root()).unwrap().display();
                    hits.push(format!("{rel}:{}: {needle}", n + 1));
                }
            }
        }
    }
    assert!(
        hits.is_empty(),
        "family-specific UI outside src/kinds/ (move it into the family's module):\n{}",
        hits.join("\n")
    );
}

#[test]
fn seam_the_inspector_has_no_catch_all_arm() {
    let mut files = rust_files(&root().join("src/kinds"));
    files.push(root().join("src/inspector.rs"));
    files.push(root().join("src/forms.rs"));
    let mut hits = Vec::new();
    for file in files {
        for (n, line) in code_lines(&file).iter().enumerate() {
            if line.contains("_ => {}") {
                hits.push(format!("{}:{}", file.display(), n + 1));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "a match that ignores what it does not know:\n{}",
        hits.join("\n")
    );
}

/// Module → the modules it names, for the files given; `module_of` names a file's module and
/// `targets` finds the modules a line names.
fn import_graph(
    files: &[PathBuf],
    module_of: impl Fn(&Path) -> String,
    targets: impl Fn(&str) -> Vec<String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let module = module_of(file);
        let text: Vec<String> = code_lines(file);
        // Tests may reach anywhere.
        let end = text
            .iter()
            .position(|l| l.trim() == "#[cfg(test)]")
            .unwrap_or(text.len());
        let deps = graph.entry(module.clone()).or_default();
        for line in &text[..end] {
            for t in targets(line) {
                if t != module {
                    deps.insert(t);
                }
            }
        }
    }
    let known: BTreeSet<String> = graph.keys().cloned().collect();
    for deps in graph.values_mut() {
        deps.retain(|d| known.contains(d));
    }
    graph
}

/// One cycle of the graph, if it has any.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        g: &BTreeMap<String, BTreeSet<String>>,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == node) {
            let mut cycle = path[i..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in &g[node] {
            if let Some(c) = visit(g, next, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|k| visit(graph, k, &mut Vec::new(), &mut done))
}

/// The identifiers after each `prefix` in `line`.
fn idents_after(line: &str, prefix: &str) -> Vec<String> {
    line.match_indices(prefix)
        .map(|(i, _)| {
            line[i + prefix.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn seam_app_modules_import_without_cycles() {
    let src = root().join("src");
    // Top level: `src/kinds/` counts as one module.
    let files = rust_files(&src);
    let top = import_graph(
        &files,
        |f| {
            let rel = f.strip_prefix(&src).unwrap();
            let first = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy();
            first.trim_end_matches(".rs").to_string()
        },
        |line| {
            let mut t = idents_after(line, "crate::");
            // `use crate::{a, b}` names several.
            if let Some(i) = line.find("crate::{") {
                let list = &line[i + "crate::{".len()..];
                let list = list.split('}').next().unwrap_or("");
                t.extend(
                    list.split(',')
                        .map(|s| s.trim().split("::").next().unwrap_or("").to_string()),
                );
            }
            t
        },
    );
    assert!(
        top.contains_key("kinds") && top.contains_key("canvas"),
        "{top:?}"
    );
    if let Some(cycle) = find_cycle(&top) {
        panic!("app modules import in a cycle: {}", cycle.join(" → "));
    }
    // Inside `kinds/`: the family modules import one another one way at most (each may use
    // the registry in mod.rs).
    let kinds = src.join("kinds");
    let family_files: Vec<PathBuf> = rust_files(&kinds)
        .into_iter()
        .filter(|f| f.file_name().unwrap() != "mod.rs")
        .collect();
    let inner = import_graph(
        &family_files,
        |f| f.file_stem().unwrap().to_string_lossy().to_string(),
        |line| {
            let mut t = idents_after(line, "super::");
            t.extend(idents_after(line, "crate::kinds::"));
            t
        },
    );
    assert_eq!(inner.len(), family_files.len());
    if let Some(cycle) = find_cycle(&inner) {
        panic!("kinds/ modules import in a cycle: {}", cycle.join(" → "));
    }
}

#[test]
fn seam_every_family_is_registered_once() {
    let registry = std::fs::read_to_string(root().join("src/kinds/mod.rs")).unwrap();
    let list = &registry[registry.find("pub const KINDS").unwrap()..];
    let list = &list[..list.find("];").unwrap()];
    for family in variants("snapshot.rs", "Family") {
        let entry = format!("::{family},");
        assert_eq!(
            list.matches(&entry).count(),
            1,
            "Family::{family} needs one line in KINDS (src/kinds/mod.rs)"
        );
    }
}
