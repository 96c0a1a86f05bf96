//! `delete --archived DIR`: which identifications an archive lets go of. Exactly those whose
//! bundle verifies, checked as trusted (every directory and file the user's own and writable
//! by no one else: a bundle's word decides a deletion), and whose archived status is final
//! (not `ACTIVE` or `REVIEWING`: a result still to change is not yet evidence). Each other
//! bundle is named on standard error with the reason it is kept.

use std::collections::HashMap;
use std::path::Path;

use idenfy_hyper::ScanRef;
use idenfy_hyper::core::escape_controls;

use crate::archive::{bundles_of, shown_name};
use crate::failure::Failure;
use crate::manifest::{Checks, verify_bundle};
use crate::trusted_file;

/// Statuses after which the identification's result may still change.
const NOT_FINAL: [&str; 2] = ["ACTIVE", "REVIEWING"];

/// What an archive lets go of.
#[derive(Debug, Default)]
pub struct Selection {
    /// The scanRefs to delete, in the order of their bundles' names.
    pub scan_refs: Vec<ScanRef>,
    /// The SHA-256 of each one's `manifest.json`, by scanRef.
    pub manifests: HashMap<String, String>,
    /// Bundles that do not verify.
    pub unverified: usize,
}

/// Reads the archive at `dir` as the module's documentation says.
///
/// # Errors
/// A bad-input failure when `dir` is not a directory of the user's own that no one else can
/// write, or holds no bundle.
pub fn select(dir: &Path) -> Result<Selection, Failure> {
    let shown = dir.display();
    let metadata = std::fs::symlink_metadata(dir)
        .map_err(|err| Failure::bad_input(format!("--archived {shown}: {err}")))?;
    trusted_file::check(dir, &metadata, "the archive directory")?;
    let bundles = bundles_of(dir)?;
    if bundles.is_empty() {
        return Err(Failure::bad_input(format!(
            "--archived {shown}: holds no bundle; nothing was deleted"
        )));
    }
    let mut selection = Selection::default();
    for bundle in &bundles {
        let name = shown_name(bundle);
        let verified = match verify_bundle(bundle, Checks { trusted: true }) {
            Ok(verified) => verified,
            Err(problems) => {
                selection.unverified += 1;
                eprintln!(
                    "idenfy: {name}: skipped: its bundle does not verify ({}); `idenfy archive verify` names every problem",
                    problems.first().map_or("", String::as_str)
                );
                continue;
            }
        };
        match verified.status.as_deref() {
            Some(status) if !NOT_FINAL.contains(&status) => {
                selection.manifests.insert(
                    verified.scan_ref.as_str().to_owned(),
                    verified.manifest_sha256,
                );
                selection.scan_refs.push(verified.scan_ref);
            }
            Some(status) => eprintln!(
                "idenfy: {name}: skipped: its archived status is {}, not final; archive it again once it is",
                escape_controls(status)
            ),
            None => eprintln!("idenfy: {name}: skipped: its status.json holds no status"),
        }
    }
    Ok(selection)
}
