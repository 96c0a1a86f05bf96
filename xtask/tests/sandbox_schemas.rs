//! The sandbox's copies of the schemas (inside its package, so that the published crate has
//! them) are what `cargo xtask codegen` copies from `schema/`, so a plain `cargo test` catches a
//! schema change whose copies were not refreshed.

use xtask::{Outcome, SANDBOX_SCHEMA_DIR, SANDBOX_SCHEMAS, workspace_root};

#[test]
fn the_sandbox_schema_copies_are_current() {
    let root = workspace_root();
    let copies = root.join(SANDBOX_SCHEMA_DIR);
    let outcome = xtask::copy_sandbox_schemas(&root.join("schema"), &copies, true)
        .expect("the schemas are readable");
    let Outcome::Stale(report) = outcome else {
        return;
    };
    // Outside CI, bring the copies up to date so that the next run passes once they are committed.
    if std::env::var_os("CI").is_none() {
        xtask::copy_sandbox_schemas(&root.join("schema"), &copies, false)
            .expect("the copies are written");
    }
    panic!(
        "the sandbox's schema copies were stale; run `cargo xtask codegen` and commit the result\n{report}"
    );
}

#[test]
fn a_changed_copy_is_reported_and_rewritten_byte_for_byte() {
    let root = workspace_root();
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        xtask::copy_sandbox_schemas(&root.join("schema"), dir.path(), false).unwrap(),
        Outcome::Written
    );
    let copy = dir.path().join("files.json");
    std::fs::write(&copy, "{}\n").unwrap();
    let Outcome::Stale(report) =
        xtask::copy_sandbox_schemas(&root.join("schema"), dir.path(), true).unwrap()
    else {
        panic!("an edited copy passed the check");
    };
    assert!(report.contains("files.json"), "{report}");
    xtask::copy_sandbox_schemas(&root.join("schema"), dir.path(), false).unwrap();
    for name in SANDBOX_SCHEMAS {
        let original = std::fs::read(root.join("schema").join(format!("{name}.json"))).unwrap();
        let copied = std::fs::read(dir.path().join(format!("{name}.json"))).unwrap();
        assert_eq!(original, copied, "{name}.json is not a byte-for-byte copy");
    }
}
