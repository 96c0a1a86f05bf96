//! `idenfy list`: every sandbox fixture, page by page, and the pipe into a bulk export.

mod support;

use idenfy_sandbox::Fixtures;
use support::{idenfy, json_lines, run, run_with_input};

#[test]
fn the_sandbox_list_in_pages_of_two_holds_every_fixture_once() {
    let output = run(idenfy().args(["--sandbox", "list", "--per-page", "2", "--format", "jsonl"]));
    output.assert_code(0);
    let listed: Vec<String> = json_lines(&output.stdout)
        .iter()
        .map(|line| {
            assert_eq!(line.as_object().unwrap().len(), 3, "{line}");
            line["scanRef"].as_str().unwrap().to_owned()
        })
        .collect();
    let fixtures: Vec<String> = Fixtures::builtin().scan_refs().map(str::to_owned).collect();
    assert!(fixtures.len() > 2, "more than one page");
    assert_eq!(listed, fixtures);
}

#[test]
fn the_list_pipes_into_a_bulk_export() {
    let listed = run(idenfy().args(["--sandbox", "list", "--format", "jsonl"]));
    listed.assert_code(0);
    let export = run_with_input(
        idenfy().args(["--sandbox", "status", "--input", "-", "--quiet"]),
        listed.stdout.as_bytes(),
    );
    let lines = json_lines(&export.stdout);
    assert_eq!(
        lines.len(),
        json_lines(&listed.stdout).len(),
        "{}",
        export.stderr
    );
}
