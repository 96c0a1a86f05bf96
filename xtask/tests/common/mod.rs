//! Helpers shared by the xtask test files.

// Each test file uses a part of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use xtask::derive::RETRIEVAL_PAGE;
use xtask::workspace_root;

/// The vendor's pages named by `IDENFY_DOCS_DIR` (relative to the workspace root). The tests
/// that call this are built only when the variable is set (`cfg(idenfy_docs)`, see
/// `xtask/build.rs`) and are reported as ignored otherwise; when it is set, the pages must be
/// there: a test over the vendor's pages never passes by finding nothing.
pub fn vendor_docs() -> PathBuf {
    let dir = std::env::var_os("IDENFY_DOCS_DIR")
        .expect("IDENFY_DOCS_DIR was set when the tests were built; set it again to run them");
    let dir = workspace_root().join(dir);
    assert!(
        dir.join(RETRIEVAL_PAGE).is_file(),
        "IDENFY_DOCS_DIR is set, but {} holds no {RETRIEVAL_PAGE}",
        dir.display()
    );
    dir
}

/// The small pages written for the derivation tests.
pub fn mini_docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mini-docs")
}

/// Copies every file of `from`, and of its subdirectories, into a new temporary directory.
pub fn copy_dir(from: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    copy_tree(from, dir.path());
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("the source directory is readable") {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            std::fs::create_dir(&target).expect("the directory is created");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("the file copies");
        }
    }
}

/// Replaces the one occurrence of `from` in the file at `path` with `to`.
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("the page is readable");
    assert_eq!(
        text.matches(from).count(),
        1,
        "expected `{from}` exactly once in {}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).expect("the page is writable");
}
