//! The library behind `cargo xtask`: schema derivation from the vendor's pages, the errata, and
//! model generation. It is a library so that its tests, and the models' freshness test, can call
//! the same code the command runs.

pub mod codegen;
pub mod derive;
pub mod errata;
pub mod markdown;
mod output;

use std::path::{Path, PathBuf};

pub use output::Outcome;

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_owned()
}

/// The schema files, in the order they are written.
pub const SCHEMA_FILES: [&str; 6] = ["status", "data", "files", "full-status", "error", "request"];

/// Derives the schemas from `docs` and `errata` and writes them to `out` (or, with `check`,
/// compares them with what is there).
pub fn schema(docs: &Path, errata: &Path, out: &Path, check: bool) -> Result<Outcome, String> {
    let texts = derive_schema_texts(docs, errata)?;
    let mut outcome = Outcome::UpToDate;
    for (name, text) in texts {
        outcome = outcome.and(output::ensure_file(
            &out.join(format!("{name}.json")),
            &text,
            check,
        )?);
    }
    Ok(outcome)
}

/// The text of each schema file derived from `docs` and `errata`, by file stem.
pub fn derive_schema_texts(docs: &Path, errata: &Path) -> Result<Vec<(String, String)>, String> {
    let mut schemas = derive::derive_schemas(docs).map_err(|err| err.to_string())?;
    errata::Errata::read(errata)?.apply(&mut schemas)?;
    SCHEMA_FILES
        .iter()
        .map(|name| {
            let value = schemas
                .remove(*name)
                .ok_or_else(|| format!("no schema `{name}` was derived"))?;
            let mut text = serde_json::to_string_pretty(&value).map_err(|err| err.to_string())?;
            text.push('\n');
            Ok(((*name).to_owned(), text))
        })
        .collect()
}

/// Generates the models from the schemas in `schema_dir` into `out` (or, with `check`, compares).
pub fn codegen(schema_dir: &Path, out: &Path, check: bool) -> Result<Outcome, String> {
    let code = codegen::generate(schema_dir)?;
    output::ensure_file(out, &code, check)
}
