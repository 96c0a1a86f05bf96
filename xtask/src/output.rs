//! Writing generated files, or checking that the committed ones are current.

use std::path::Path;

/// What writing or checking a set of files found.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The files already had the expected contents.
    UpToDate,
    /// At least one file was (re)written.
    Written,
    /// `--check` found stale files; the report names them and shows the difference.
    Stale(String),
}

impl Outcome {
    /// Combines the outcomes of two files.
    pub fn and(self, other: Outcome) -> Outcome {
        match (self, other) {
            (Outcome::Stale(a), Outcome::Stale(b)) => Outcome::Stale(format!("{a}\n{b}")),
            (Outcome::Stale(a), _) | (_, Outcome::Stale(a)) => Outcome::Stale(a),
            (Outcome::Written, _) | (_, Outcome::Written) => Outcome::Written,
            _ => Outcome::UpToDate,
        }
    }
}

/// Makes `path` hold `expected`. With `check`, writes nothing and reports a stale file with a
/// unified diff instead.
pub fn ensure_file(path: &Path, expected: &str, check: bool) -> Result<Outcome, String> {
    let actual = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => return Err(format!("{}: {err}", path.display())),
    };
    if actual.as_deref() == Some(expected) {
        return Ok(Outcome::UpToDate);
    }
    if check {
        let diff = similar::TextDiff::from_lines(actual.as_deref().unwrap_or(""), expected)
            .unified_diff()
            .context_radius(3)
            .header("committed", "expected")
            .to_string();
        return Ok(Outcome::Stale(format!(
            "{} is out of date: run `cargo xtask schema` / `cargo xtask codegen` and commit the result\n{diff}",
            path.display()
        )));
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|err| format!("{}: {err}", parent.display()))?;
    }
    std::fs::write(path, expected).map_err(|err| format!("{}: {err}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(Outcome::Written)
}
