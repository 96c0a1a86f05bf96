//! Replays, on stable, every input the fuzzers kept: the committed seed corpus of each target
//! (`fuzz/seeds/TARGET.tar.gz`, one archive a target so that the tree does not carry tens of
//! thousands of small files), the inputs of a local fuzzing run (`fuzz/corpus/TARGET/`, not
//! committed), and every crash ever found (`fuzz/artifacts/TARGET/`), through the same
//! functions the fuzz targets call.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use idenfy_fuzz_targets::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The inputs in the seed archive of `target`, with their names.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let path = fuzz_dir().join("seeds").join(format!("{target}.tar.gz"));
    let file = std::fs::File::open(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut inputs = Vec::new();
    for entry in archive
        .entries()
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
    {
        let mut entry = entry.unwrap_or_else(|err| panic!("{}: {err}", path.display()));
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().map_or_else(
            |_| "<a name that is not UTF-8>".to_owned(),
            |name| name.display().to_string(),
        );
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .unwrap_or_else(|err| panic!("{}: {name}: {err}", path.display()));
        inputs.push((format!("{}:{name}", path.display()), data));
    }
    inputs
}

/// The files in `dir`, if it exists.
fn files_in(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| match std::fs::read(&path) {
            Ok(data) => Some((path.display().to_string(), data)),
            // A fuzzer running beside the test replaces inputs by smaller ones.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => panic!("{}: {err}", path.display()),
        })
        .collect()
}

#[test]
fn every_target_has_seeds_and_a_cargo_fuzz_entry() {
    let manifest =
        std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml exists");
    for (name, _) in TARGETS {
        assert!(
            !seeds(name).is_empty(),
            "fuzz/seeds/{name}.tar.gz holds no input"
        );
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
fn the_seeds_and_every_crash_found_replay_without_a_failure() {
    let mut replayed = 0;
    for (name, target) in TARGETS {
        let inputs = seeds(name)
            .into_iter()
            .chain(files_in(&fuzz_dir().join("corpus").join(name)))
            .chain(files_in(&fuzz_dir().join("artifacts").join(name)));
        for (input, data) in inputs {
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(
                outcome.is_ok(),
                "{name} fails on {input}: unpack it (see the README's Fuzzing section) and replay \
                 it with `cargo +nightly fuzz run {name} FILE`"
            );
            replayed += 1;
        }
    }
    assert!(replayed > 20_000, "only {replayed} inputs replayed");
    eprintln!("replayed {replayed} inputs");
}
