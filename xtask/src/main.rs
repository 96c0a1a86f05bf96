//! `cargo xtask`: the project's maintenance commands.
//!
//! - `cargo xtask schema --docs DIR [--check]` derives `schema/*.json` from the vendor's pages,
//!   its OpenAPI document (`DIR/openapi/kyc.yaml`) and the errata in `schema/errata.json`.
//! - `cargo xtask codegen [--check]` generates `crates/idenfy-models/src/generated.rs` from
//!   `schema/*.json`.
//!
//! - `cargo xtask soak [--scan-refs N] [--runs N] [--seed N] [--crash-rounds N]` runs the bulk
//!   export fault soak and the crash harness with the release `idenfy` binary and prints their
//!   tables.
//!
//! With `--check`, nothing is written: the command fails, showing the difference, when the
//! committed files are not what it would write.

use std::path::PathBuf;
use std::process::ExitCode;

use xtask::{Outcome, codegen, schema, workspace_root};

const USAGE: &str = "\
usage:
  cargo xtask schema  [--docs DIR] [--out DIR] [--check]
      Derive schema/*.json from the vendor's Markdown pages and OpenAPI document (openapi/kyc.yaml)
      in DIR (default: $IDENFY_DOCS_DIR) and schema/errata.json.
  cargo xtask codegen [--schema DIR] [--out FILE] [--check]
      Generate the models (crates/idenfy-models/src/generated.rs) from schema/*.json.

  cargo xtask soak    [--scan-refs N] [--runs N] [--seed N] [--crash-rounds N]
      Bulk export fault soak with the release `idenfy` binary (default 10000 scanRefs, 3 runs):
      a tenth of the lookups faulted, the export killed at a random point and resumed, the
      output compared with a clean run's. Then the crash harness: an export, a resume, a
      download, a bulk deletion, an archive and a deletion of an archive killed with SIGKILL
      at random instants (default 25 each) and run again. Prints tables; fails when a row does not match.

  --check   write nothing; fail with a diff when the committed output is stale";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(Outcome::UpToDate) | Ok(Outcome::Written) => ExitCode::SUCCESS,
        Ok(Outcome::Stale(report)) => {
            eprintln!("{report}");
            ExitCode::FAILURE
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Vec<String>) -> Result<Outcome, String> {
    let Some((command, rest)) = args.split_first() else {
        return Err(format!("no command given\n{USAGE}"));
    };
    let mut options = Options::parse(rest)?;
    let root = workspace_root();
    match command.as_str() {
        "schema" => {
            let docs = match options.take("--docs") {
                Some(docs) => PathBuf::from(docs),
                None => std::env::var_os("IDENFY_DOCS_DIR")
                    .map(PathBuf::from)
                    .ok_or("say where the vendor's pages are: --docs DIR or IDENFY_DOCS_DIR")?,
            };
            let out = options
                .take("--out")
                .map_or_else(|| root.join("schema"), PathBuf::from);
            let errata = root.join("schema").join("errata.json");
            options.finish()?;
            schema(&docs, &errata, &out, options.check)
        }
        "codegen" => {
            let schema_dir = options
                .take("--schema")
                .map_or_else(|| root.join("schema"), PathBuf::from);
            let out = options.take("--out").map_or_else(
                || root.join("crates/idenfy-models/src/generated.rs"),
                PathBuf::from,
            );
            options.finish()?;
            codegen(&schema_dir, &out, options.check)
        }
        "soak" => {
            let mut bench = std::process::Command::new(
                std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
            );
            bench.current_dir(&root).args([
                "bench",
                "--locked",
                "-p",
                "idenfy-cli",
                "--bench",
                "soak",
            ]);
            for (option, variable) in [
                ("--scan-refs", "IDENFY_SOAK_SCAN_REFS"),
                ("--runs", "IDENFY_SOAK_RUNS"),
                ("--seed", "IDENFY_SOAK_SEED"),
                ("--crash-rounds", "IDENFY_CRASH_ROUNDS"),
            ] {
                if let Some(value) = options.take(option) {
                    value
                        .parse::<u64>()
                        .map_err(|_| format!("{option} takes a whole number, not `{value}`"))?;
                    bench.env(variable, value);
                }
            }
            options.finish()?;
            let status = bench
                .status()
                .map_err(|err| format!("cannot run cargo bench: {err}"))?;
            if status.success() {
                Ok(Outcome::UpToDate)
            } else {
                Err("the soak failed (see the table above)".to_owned())
            }
        }
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(Outcome::UpToDate)
        }
        other => Err(format!("unknown command `{other}`\n{USAGE}")),
    }
}

/// `--flag VALUE` pairs and the `--check` switch.
struct Options {
    values: Vec<(String, String)>,
    check: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options {
            values: Vec::new(),
            check: false,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            if arg == "--check" {
                options.check = true;
            } else if arg.starts_with("--") {
                let value = args
                    .next()
                    .ok_or_else(|| format!("`{arg}` needs a value"))?;
                options.values.push((arg.clone(), value.clone()));
            } else {
                return Err(format!("unexpected argument `{arg}`\n{USAGE}"));
            }
        }
        Ok(options)
    }

    fn take(&mut self, name: &str) -> Option<String> {
        let index = self.values.iter().position(|(key, _)| key == name)?;
        Some(self.values.remove(index).1)
    }

    fn finish(&self) -> Result<(), String> {
        match self.values.first() {
            Some((key, _)) => Err(format!("unknown option `{key}`\n{USAGE}")),
            None => Ok(()),
        }
    }
}
