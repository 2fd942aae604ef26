//! Replays every saved fuzz input through its target's body, on stable Rust and without
//! fuzzing: each file of `fuzz/corpus/TARGET/` (the minimized corpus) and
//! `fuzz/regressions/TARGET/` (inputs that once failed, kept after their fix).

use std::path::{Path, PathBuf};

use stepwise_fuzzing::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(kind: &str, name: &str) -> usize {
    let body = TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, body)| *body)
        .expect("a known target");
    let files = files(&fuzz_dir().join(kind).join(name));
    for file in &files {
        let data = std::fs::read(file).expect("readable corpus file");
        eprintln!("{}", file.display());
        body(&data);
    }
    files.len()
}

/// The corpus directories name only known targets (a renamed target must take its corpus along).
#[test]
fn every_saved_directory_belongs_to_a_target() {
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind)) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                TARGETS.iter().any(|(n, _)| *n == name),
                "fuzz/{kind}/{name} is no target's"
            );
        }
    }
}

macro_rules! replays {
    ($($test:ident => $name:literal),* $(,)?) => {$(
        #[test]
        fn $test() {
            let corpus = replay("corpus", $name);
            let regressions = replay("regressions", $name);
            assert!(corpus > 0, "fuzz/corpus/{} is empty", $name);
            eprintln!("{}: {corpus} corpus files, {regressions} regressions", $name);
        }
    )*};
}

replays! {
    definition => "definition",
    jsonpath => "jsonpath",
    intrinsics => "intrinsics",
    jsonata => "jsonata",
    payload_template => "payload_template",
    api_request => "api_request",
    sigv4 => "sigv4",
}
