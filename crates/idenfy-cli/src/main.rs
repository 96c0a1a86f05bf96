//! `idenfy`: look up iDenfy identifications from the command line.
//!
//! See the repository's README for the commands, the formats and the exit codes.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    idenfy_cli::main()
}
