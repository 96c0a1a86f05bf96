//! What the command says about itself: `idenfy --help` (a snapshot: every change to it is
//! reviewed), `idenfy completions SHELL` and `idenfy man`.

mod support;

use std::process::Command;

use support::{idenfy, run};

/// Every subcommand, as a user types it.
const SUBCOMMANDS: [&str; 10] = [
    "status",
    "data",
    "files",
    "full-status",
    "report",
    "delete",
    "callback",
    "profiles",
    "completions",
    "man",
];

// The help names `--sandbox` and `callback send` only in a build with the sandbox.
#[cfg(feature = "sandbox")]
#[test]
fn the_long_help_is_as_reviewed() {
    let output = run(idenfy().arg("--help"));
    output.assert_code(0);
    insta::assert_snapshot!("idenfy_help", output.stdout);
}

#[cfg(feature = "sandbox")]
#[test]
fn the_list_help_is_as_reviewed() {
    let output = run(idenfy().args(["list", "--help"]));
    output.assert_code(0);
    insta::assert_snapshot!("idenfy_list_help", output.stdout);
}

#[cfg(feature = "sandbox")]
#[test]
fn the_archive_helps_are_as_reviewed() {
    for (command, snapshot) in [
        ("create", "idenfy_archive_create_help"),
        ("verify", "idenfy_archive_verify_help"),
    ] {
        let output = run(idenfy().args(["archive", command, "--help"]));
        output.assert_code(0);
        insta::assert_snapshot!(snapshot, output.stdout);
    }
}

#[test]
fn the_long_help_lists_the_exit_codes_and_examples() {
    let output = run(idenfy().arg("--help"));
    output.assert_code(0);
    for heading in ["Exit codes:", "Examples:"] {
        assert!(output.stdout.contains(heading), "{}", output.stdout);
    }
    assert!(
        output.stdout.contains("  130  interrupted"),
        "{}",
        output.stdout
    );
}

#[test]
fn completions_for_each_shell_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let output = run(idenfy().args(["completions", shell]));
        output.assert_code(0);
        for subcommand in SUBCOMMANDS {
            assert!(
                output.stdout.contains(subcommand),
                "{shell} completions lack {subcommand}"
            );
        }
    }
}

#[test]
fn bash_completion_registers_itself_and_completes_the_subcommands() {
    if Command::new("bash").arg("--version").output().is_err() {
        eprintln!("no bash on this machine: only the script's text was checked");
        return;
    }
    let output = run(idenfy().args(["completions", "bash"]));
    output.assert_code(0);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("idenfy.bash");
    std::fs::write(&script, &output.stdout).unwrap();
    // As bash would call the completion function for `idenfy full<TAB>`.
    let check = r#"source "$1" && complete -p idenfy && {
        COMP_WORDS=(idenfy full); COMP_CWORD=1; COMP_LINE="idenfy full"; COMP_POINT=${#COMP_LINE}
        _idenfy idenfy full idenfy
        printf '%s\n' "${COMPREPLY[@]}"
    }"#;
    let completed = run(Command::new("bash")
        .args(["--norc", "--noprofile", "-c", check, "bash"])
        .arg(&script));
    completed.assert_code(0);
    assert!(
        completed.stdout.contains("-F _idenfy idenfy") && completed.stdout.contains("full-status"),
        "{}\n{}",
        completed.stdout,
        completed.stderr
    );
}

#[test]
fn the_manual_page_is_roff_and_documents_every_subcommand() {
    let output = run(idenfy().arg("man"));
    output.assert_code(0);
    let roff = &output.stdout;
    // The roff writer's string definitions, then the title, before any section.
    let title = roff.find("\n.TH idenfy 1 ").expect("a .TH title");
    assert!(title < roff.find(".SH").unwrap(), "{roff}");
    for subcommand in SUBCOMMANDS {
        let heading = format!(".SH \"IDENFY {}\"", subcommand.to_uppercase());
        assert!(roff.contains(&heading), "no {heading} in:\n{roff}");
    }
    for heading in [".SH \"EXIT STATUS\"", ".SH EXAMPLES", ".SH OPTIONS"] {
        assert!(roff.contains(heading), "no {heading}");
    }
}
