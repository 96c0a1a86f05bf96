//! `idenfy`: look up iDenfy identifications from the command line. The command is the
//! library's ([`idenfy_cli::main`]): its modules are private to it.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    idenfy_cli::main()
}
