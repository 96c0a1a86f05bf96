//! The schema derivation, on small pages written for these tests.

mod common;

use common::{copy_dir, edit, mini_docs};
use xtask::derive::{RETRIEVAL_PAGE, derive_schemas};

#[test]
fn small_pages_derive_to_the_expected_schemas() {
    let schemas = derive_schemas(&mini_docs()).expect("the small pages derive");
    for (name, schema) in &schemas {
        insta::assert_json_snapshot!(name.as_str(), schema);
    }
    assert_eq!(
        schemas.len(),
        6,
        "one schema per response, the error body and the request"
    );
}

#[test]
fn values_shared_across_tables_get_one_definition() {
    let schemas = derive_schemas(&mini_docs()).unwrap();
    let full = &schemas["full-status"];
    // `manual_result` says "the same as `auto_result`"; `kind` repeats `docKind`'s values.
    assert_eq!(
        full["properties"]["auto_result"]["allOf"][0]["$ref"],
        "#/definitions/Status"
    );
    assert_eq!(
        full["properties"]["manual_result"]["allOf"][0]["$ref"],
        "#/definitions/Status"
    );
    assert_eq!(full["properties"]["kind"]["$ref"], "#/definitions/DocKind");
    assert_eq!(
        schemas["data"]["properties"]["docKind"]["allOf"][0]["$ref"],
        "#/definitions/DocKind"
    );
}

#[test]
fn mis_encoded_characters_are_repaired() {
    let schemas = derive_schemas(&mini_docs()).unwrap();
    assert_eq!(
        schemas["status"]["properties"]["scanRef"]["description"],
        "The lookup key’s value."
    );
}

/// Derives from a copy of the small pages with `from` replaced by `to` in the retrieval page,
/// and returns the error.
fn derivation_error(from: &str, to: &str) -> String {
    let docs = copy_dir(&mini_docs());
    edit(&docs.path().join(RETRIEVAL_PAGE), from, to);
    derive_schemas(docs.path())
        .expect_err("the edited page must be refused")
        .to_string()
}

#[test]
fn an_unknown_type_is_refused_with_file_and_line() {
    let err = derivation_error("|`count`        |`Int`   |", "|`count`        |`Decimal`|");
    assert!(
        err.contains("IdentificationDataRetrieval.md:17: unknown type `Decimal` for `count`"),
        "{err}"
    );
}

#[test]
fn an_unknown_constraint_is_refused_with_file_and_line() {
    let err = derivation_error("- Max length 12 ", "- Exactly 12 ");
    assert!(
        err.contains("IdentificationDataRetrieval.md:16: unknown constraint `Exactly 12`"),
        "{err}"
    );
}

#[test]
fn a_row_with_a_missing_cell_is_refused_not_dropped() {
    let err = derivation_error(
        "|`count`        |`Int`   |-                   |A number.|",
        "|`count`|`Int`|A number.|",
    );
    assert!(
        err.contains(
            "IdentificationDataRetrieval.md:17: row has 3 cells but the table header has 4"
        ),
        "{err}"
    );
}

#[test]
fn a_reference_to_an_undocumented_field_is_refused() {
    let err = derivation_error(
        "the same as  `auto_result` field",
        "the same as `nothing` field",
    );
    assert!(
        err.contains(
            ":26: `manual_result` has the values of `nothing`, which no earlier row documents"
        ),
        "{err}"
    );
}

#[test]
fn a_link_to_a_missing_table_is_refused() {
    let err = derivation_error("(#owner-table)", "(#no-such-table)");
    assert!(
        err.contains("no heading for the link `#no-such-table`"),
        "{err}"
    );
}

#[test]
fn a_missing_section_is_refused() {
    let err = derivation_error("## Identification data", "## Something else");
    assert!(
        err.contains("no table under a heading `Identification data`"),
        "{err}"
    );
}
