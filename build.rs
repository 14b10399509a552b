//! Lists the scenario files the app embeds (src/presets.rs), so adding a lesson or an example
//! is just adding its JSON file. Sorted by path, so the list is the same on every machine.
//! scenarios/ui holds lab scenarios for the panels (and their e2e tests' `?scenario=`).

use std::path::Path;
use std::{env, fs};

/// Folders scanned, in picker order, and the group each one's files belong to.
const FOLDERS: [(&str, &str); 6] = [
    ("scenarios/lessons", "Lesson"),
    ("scenarios", "Example"),
    ("scenarios/ui", "Example"),
    ("scenarios/rules", "Rule"),
    ("scenarios/kafka", "Rule"),
    ("scenarios/pipeline", "Example"),
];

fn main() {
    let root = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&root);
    println!("cargo:rerun-if-changed=build.rs");
    let mut list = String::from("&[\n");
    for (folder, group) in FOLDERS {
        // A folder watched this way reruns the script when a file in it is added or removed.
        println!("cargo:rerun-if-changed={folder}");
        let mut files: Vec<_> = fs::read_dir(root.join(folder))
            .map(|dir| dir.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"));
        files.sort();
        for path in files {
            let id = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("UTF-8 file name");
            let path = path.to_str().expect("UTF-8 path");
            list.push_str(&format!(
                "    (Group::{group}, {id:?}, include_str!({path:?})),\n"
            ));
        }
    }
    list.push(']');
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("presets.rs");
    fs::write(out, list).expect("OUT_DIR is writable");
}
