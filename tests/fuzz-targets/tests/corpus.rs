//! Replays, on stable, every input the fuzzers kept: the committed corpus of each target
//! (`fuzz/corpus/TARGET/`) and every crash ever found (`fuzz/artifacts/TARGET/`), through the
//! same functions the fuzz targets call.

use std::path::{Path, PathBuf};

use idenfy_fuzz_targets::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_target_has_a_corpus_and_a_cargo_fuzz_entry() {
    let manifest =
        std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml exists");
    for (name, _) in TARGETS {
        let corpus = inputs(&fuzz_dir().join("corpus").join(name));
        assert!(!corpus.is_empty(), "fuzz/corpus/{name} holds no input");
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] for {name}"
        );
        assert!(
            fuzz_dir()
                .join("fuzz_targets")
                .join(format!("{name}.rs"))
                .is_file(),
            "fuzz/fuzz_targets/{name}.rs is missing"
        );
    }
}

#[test]
fn the_corpora_and_every_crash_found_replay_without_a_failure() {
    let mut replayed = 0;
    for (name, target) in TARGETS {
        for kind in ["corpus", "artifacts"] {
            for input in inputs(&fuzz_dir().join(kind).join(name)) {
                let data = match std::fs::read(&input) {
                    Ok(data) => data,
                    // A fuzzer running beside the test replaces inputs by smaller ones.
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(err) => panic!("{}: {err}", input.display()),
                };
                let outcome = std::panic::catch_unwind(|| target(&data));
                assert!(
                    outcome.is_ok(),
                    "{name} fails on {}: replay it with `cargo +nightly fuzz run {name} {}`",
                    input.display(),
                    input.display()
                );
                replayed += 1;
            }
        }
    }
    assert!(replayed > 0);
    eprintln!("replayed {replayed} inputs");
}
