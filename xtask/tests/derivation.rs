//! The schema derivation, on small pages written for these tests.

mod common;

use common::{copy_dir, edit, mini_docs};
use serde_json::json;
use xtask::derive::{CALLBACK_PAGE, RETRIEVAL_PAGE, derive_schemas, link_shared_definitions};

#[test]
fn small_pages_derive_to_the_expected_schemas() {
    let schemas = derive_schemas(&mini_docs()).expect("the small pages derive");
    for (name, schema) in &schemas {
        insta::assert_json_snapshot!(name.as_str(), schema);
    }
    assert_eq!(
        schemas.len(),
        7,
        "one schema per response, the callback, the error body and the request"
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

#[test]
fn the_callback_shares_the_data_and_file_objects_once_linked() {
    let mut schemas = derive_schemas(&mini_docs()).unwrap();
    let callback = &schemas["callback"];
    assert_eq!(
        callback["properties"]["data"]["$ref"],
        "#/definitions/IdentificationData"
    );
    assert_eq!(
        callback["properties"]["fileUrls"]["$ref"],
        "#/definitions/FileUrls"
    );
    // The retrieval page's `Identification status` is /status: the callback's table is named
    // by the sources instead.
    assert_eq!(
        callback["properties"]["status"]["$ref"],
        "#/definitions/CallbackStatus"
    );

    link_shared_definitions(&mut schemas)
        .expect("every key of the callback's data table is in /data");
    let callback = &schemas["callback"];
    let mut data = schemas["data"].clone();
    for key in ["$schema", "title", "definitions"] {
        data.as_object_mut().unwrap().remove(key);
    }
    assert_eq!(callback["definitions"]["IdentificationData"], data);
    // With the definitions the shared object refers to.
    assert_eq!(
        callback["definitions"]["Date"],
        schemas["data"]["definitions"]["Date"]
    );
    assert_eq!(
        callback["definitions"]["DocKind"],
        schemas["data"]["definitions"]["DocKind"]
    );
}

#[test]
fn a_key_only_the_callback_documents_stops_the_linking() {
    let docs = copy_dir(&mini_docs());
    edit(
        &docs.path().join(CALLBACK_PAGE),
        "|`docKind`    |`String`|- Max length 9   |A kind.|",
        "|`docOther`   |`String`|- Max length 9   |A key /data lacks.|",
    );
    let mut schemas = derive_schemas(docs.path()).unwrap();
    let err = link_shared_definitions(&mut schemas).unwrap_err();
    assert!(
        err.contains("documents the key `docOther` in `IdentificationData`")
            && err.contains("errata"),
        "{err}"
    );
}

#[test]
fn service_pages_give_the_aml_and_lid_objects() {
    let schemas = derive_schemas(&mini_docs()).unwrap();
    let callback = &schemas["callback"];
    assert_eq!(
        callback["properties"]["aml"]["$ref"],
        "#/definitions/AmlCheck"
    );
    assert_eq!(
        callback["properties"]["lid"]["$ref"],
        "#/definitions/LidCheck"
    );
    let definitions = &callback["definitions"];
    assert_eq!(
        definitions["AmlCheck"]["properties"]["status"]["$ref"],
        "#/definitions/AmlCheckStatus"
    );
    assert_eq!(
        definitions["AmlCheck"]["properties"]["data"]["items"]["$ref"],
        "#/definitions/AmlRecord"
    );
    // The two record tables make one object; no key is in both, so none is required.
    let record = &definitions["AmlRecord"];
    assert_eq!(record["properties"]["score"]["type"], "integer");
    assert_eq!(record["properties"]["title"]["type"], "string");
    assert_eq!(record["required"], json!([]));
    assert_eq!(
        definitions["LidCheckStatus"]["properties"]["serviceSuspected"]["type"],
        "boolean"
    );
}

#[test]
fn a_link_to_a_page_no_source_lists_is_refused() {
    let docs = copy_dir(&mini_docs());
    edit(
        &docs.path().join(CALLBACK_PAGE),
        "fraud-check-services/lid.md",
        "fraud-check-services/other.md",
    );
    let err = derive_schemas(docs.path()).unwrap_err().to_string();
    assert!(
        err.contains("ResultCallback.md:11: the object `lid` refers to the page `fraud-check-services/other.md`, which no source lists"),
        "{err}"
    );
}

#[test]
fn the_report_and_deletion_pages_must_keep_the_scan_ref_request() {
    use xtask::derive::{DELETION_PAGE, PDF_PAGE};
    for page in [PDF_PAGE, DELETION_PAGE] {
        let docs = copy_dir(&mini_docs());
        let text = std::fs::read_to_string(docs.path().join(page)).unwrap();
        let row = text.lines().last().unwrap().to_owned();
        let extra = row.replace("scanRef", "locale");
        edit(&docs.path().join(page), &row, &format!("{row}\n{extra}"));
        let error = derive_schemas(docs.path())
            .expect_err("a second key must be refused")
            .to_string();
        assert!(error.contains(page), "{error}");
        assert!(error.contains("exactly `scanRef`"), "{error}");
    }
    let schemas = derive_schemas(&mini_docs()).unwrap();
    let description = schemas["request"]["description"].as_str().unwrap();
    assert!(description.contains("/delete"), "{description}");
}
