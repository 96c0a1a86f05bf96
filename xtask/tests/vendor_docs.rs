//! Tests over the vendor's real pages, found through `IDENFY_DOCS_DIR` (`.ci/run` sets it).

mod common;

use std::path::Path;
use std::process::Command;

use common::{copy_dir, edit, vendor_docs};
use idenfy_models::{AmlCheck, ApiError, FullStatus, LidCheck, ResultCallback, ScanRefRequest};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use xtask::derive::{AML_PAGE, CALLBACK_PAGE, LID_PAGE, RETRIEVAL_PAGE};
use xtask::markdown::Page;
use xtask::{Outcome, workspace_root};

#[test]
#[cfg_attr(not(idenfy_docs), ignore = "needs IDENFY_DOCS_DIR: the vendor's pages")]
fn the_committed_schema_is_what_the_pages_and_errata_derive() {
    let docs = vendor_docs();
    let root = workspace_root();
    let outcome = xtask::schema(
        &docs,
        &root.join("schema/errata.json"),
        &root.join("schema"),
        true,
    )
    .expect("the vendor's pages derive");
    if let Outcome::Stale(report) = outcome {
        panic!("{report}");
    }
}

/// How an example must come back after a trip through the models.
enum RoundTrip {
    /// Exactly equal.
    Exact,
    /// Equal, except that keys the example left out come back as `null`: the models read an
    /// absent key and `null` alike, and write every documented key.
    AbsentKeysAsNull,
}

/// Deserializes `example` as `T`, serializes it back and compares.
fn round_trip<T: DeserializeOwned + Serialize>(example: &Value, mode: RoundTrip, place: &str) {
    let parsed: T = serde_json::from_value(example.clone())
        .unwrap_or_else(|err| panic!("{place}: the example does not deserialize: {err}"));
    let back = serde_json::to_value(&parsed).expect("models serialize");
    match mode {
        RoundTrip::Exact => assert_eq!(
            &back, example,
            "{place}: the example does not come back equal"
        ),
        RoundTrip::AbsentKeysAsNull => assert_equal_but_added_nulls(example, &back, place),
    }
}

fn assert_equal_but_added_nulls(example: &Value, back: &Value, place: &str) {
    match (example, back) {
        (Value::Object(example), Value::Object(back)) => {
            for (key, value) in back {
                match example.get(key) {
                    Some(original) => {
                        assert_equal_but_added_nulls(original, value, &format!("{place}.{key}"))
                    }
                    None => assert!(
                        value.is_null(),
                        "{place}.{key} was absent but came back as {value}"
                    ),
                }
            }
            for key in example.keys() {
                assert!(back.contains_key(key), "{place}.{key} was lost");
            }
        }
        _ => assert_eq!(example, back, "{place} does not come back equal"),
    }
}

/// Every JSON example on the pages that shows a retrieval payload, and the type it must read as.
/// An example this test cannot place fails it, so a new example is looked at, not skipped.
#[test]
#[cfg_attr(not(idenfy_docs), ignore = "needs IDENFY_DOCS_DIR: the vendor's pages")]
fn every_example_on_the_pages_deserializes_and_serializes_back() {
    let docs = vendor_docs();
    let mut checked = 0;
    let pages = [
        RETRIEVAL_PAGE,
        CALLBACK_PAGE,
        "StandardErrorMessages.md",
        "IdentificationDeletion.md",
        AML_PAGE,
        LID_PAGE,
    ];
    for name in pages {
        let page = Page::read(&docs.join(name)).expect("the page reads");
        for block in page
            .code_blocks
            .iter()
            .filter(|block| block.language == "json")
        {
            let place = format!("{name}:{}", block.line);
            // Parsed as a `Value` first: the callback example repeats the key `selectedCountry`,
            // which a `Value` takes (the last one wins) and a struct refuses.
            let example: Value = serde_json::from_str(&block.text)
                .unwrap_or_else(|err| panic!("{place}: the example is not JSON: {err}"));
            let object = example
                .as_object()
                .unwrap_or_else(|| panic!("{place}: not an object"));
            if object.len() == 1 && object.contains_key("scanRef") {
                round_trip::<ScanRefRequest>(&example, RoundTrip::Exact, &place);
            } else if object.contains_key("face_match_result") {
                round_trip::<FullStatus>(&example, RoundTrip::Exact, &place);
            } else if object.contains_key("identifier") {
                round_trip::<ApiError>(&example, RoundTrip::Exact, &place);
            } else if object.contains_key("fileUrls") && object.contains_key("scanRef") {
                // The callback: keys its example leaves out (`docDateOfIssue`, `clientIp`, ...)
                // come back as null. Its `data` repeats `selectedCountry`, which a `Value` reads
                // (the last one wins) and which comes back once.
                round_trip::<ResultCallback>(&example, RoundTrip::AbsentKeysAsNull, &place);
            } else if object.get("serviceGroupType") == Some(&Value::from("AML")) {
                round_trip::<AmlCheck>(&example, RoundTrip::AbsentKeysAsNull, &place);
            } else if object.get("serviceGroupType") == Some(&Value::from("LID")) {
                round_trip::<LidCheck>(&example, RoundTrip::AbsentKeysAsNull, &place);
            } else if object.len() == 1 && object.contains_key("AML") {
                // The AML page shows the negative news result as the callback carries it.
                round_trip::<ResultCallback>(&example, RoundTrip::AbsentKeysAsNull, &place);
            } else {
                panic!("{place}: an example this test does not know how to check");
            }
            checked += 1;
        }
    }
    // The retrieval page's request and full-status examples, the callback, the deletion
    // request and error response, the AML page's two and the LID page's one.
    assert!(
        checked >= 8,
        "only {checked} examples were found on the pages"
    );
}

#[test]
#[cfg_attr(not(idenfy_docs), ignore = "needs IDENFY_DOCS_DIR: the vendor's pages")]
fn the_callback_example_reads_as_typed_values() {
    let docs = vendor_docs();
    let page = Page::read(&docs.join(CALLBACK_PAGE)).unwrap();
    let block = page
        .code_blocks
        .iter()
        .find(|block| block.language == "json")
        .expect("the page has a callback example");
    // Through a `Value`: the example repeats `selectedCountry`, which a struct refuses.
    let example: Value = serde_json::from_str(&block.text).unwrap();
    let callback: ResultCallback = serde_json::from_value(example.clone()).unwrap();
    let status = callback.status.as_ref().unwrap();
    assert_eq!(status.overall, Some(idenfy_models::OverallStatus::Approved));
    assert_eq!(
        status.manual_document,
        Some(idenfy_models::DocumentValidity::DocValidated)
    );
    assert_eq!(callback.start_time, Some(1554726960));
    assert_eq!(
        callback
            .client_id
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("123")
    );
    let data = callback.data.as_ref().unwrap();
    assert_eq!(data.doc_first_name.as_deref(), Some("FIRST-NAME-EXAMPLE"));
    let files = callback.file_urls.as_ref().unwrap();
    assert!(files.front.as_deref().unwrap().starts_with("https://"));
    assert_eq!(files.front_video, None);
    let aml = &callback.aml.as_ref().unwrap()[0];
    assert_eq!(aml.service_name.as_deref(), Some("PilotApiAmlV2"));
    assert_eq!(aml.status.as_ref().unwrap().check_successful, Some(true));
    let lid = &callback.lid.as_ref().unwrap()[0];
    assert_eq!(lid.error_message, None);
    // Keys the tables omit are read when a callback carries them.
    let mut with_final = example;
    with_final["final"] = Value::Bool(false);
    with_final["status"]["fraudTags"] = serde_json::json!(["SOME_TAG"]);
    with_final["status"]["additionalSteps"] = serde_json::json!({"UTILITY_BILL": "VALID"});
    let callback: ResultCallback = serde_json::from_value(with_final).unwrap();
    assert_eq!(callback.final_, Some(false));
    let status = callback.status.as_ref().unwrap();
    assert_eq!(
        serde_json::to_value(&status.additional_steps).unwrap(),
        serde_json::json!({"UTILITY_BILL": "VALID"})
    );
    assert_eq!(
        callback.status.unwrap().fraud_tags,
        Some(vec![idenfy_models::SuspectionReason::from("SOME_TAG")])
    );
}

#[test]
#[cfg_attr(not(idenfy_docs), ignore = "needs IDENFY_DOCS_DIR: the vendor's pages")]
fn the_full_status_example_reads_as_typed_values() {
    let docs = vendor_docs();
    let page = Page::read(&docs.join(RETRIEVAL_PAGE)).unwrap();
    let block = page
        .code_blocks
        .iter()
        .find(|block| block.text.contains("face_match_result"))
        .expect("the page has a full-status example");
    let full: FullStatus = serde_json::from_str(&block.text).unwrap();
    let document = full.client_identity_document.as_ref().unwrap();
    assert_eq!(document.doc_sex.as_ref().map(|sex| sex.as_str()), Some("M"));
    assert!(
        document.doc_sex.as_ref().unwrap().is_known(),
        "\"M\" is a known value (errata)"
    );
    assert_eq!(
        document
            .manual_date_of_issue
            .as_ref()
            .map(|date| date.as_str()),
        Some("")
    );
    assert_eq!(document.manual_date_of_issue.as_ref().unwrap().date(), None);
    assert_eq!(document.manual_utility_address_match, None);
    let start = full
        .start_time
        .as_ref()
        .and_then(|time| time.date_time())
        .unwrap();
    assert_eq!(start.to_string(), "2020-06-26 09:54:32");
    let client = full.client.as_ref().unwrap();
    assert_eq!(client.default_country, None);
    assert_eq!(
        client
            .expiry_date
            .as_ref()
            .and_then(|date| date.date())
            .map(|d| d.year()),
        Some(2021)
    );
}

/// A change in the docs reaches the models through `cargo xtask schema` and `cargo xtask
/// codegen`: a new field, a new enum value and a new nested row all appear in code that compiles.
#[test]
#[cfg_attr(not(idenfy_docs), ignore = "needs IDENFY_DOCS_DIR: the vendor's pages")]
fn a_changed_page_regenerates_into_models_that_compile() {
    let docs = vendor_docs();
    let docs = copy_dir(&docs);
    let page = docs.path().join(RETRIEVAL_PAGE);
    edit(
        &page,
        "|`orgAddress`       |",
        "|`docNewField`      |`String`|- Max length 10 |A field added for this test.|\n|`orgAddress`       |",
    );
    edit(
        &page,
        "<br>- DOC_NATIONALITY_ERROR<br>",
        "<br>- DOC_NATIONALITY_ERROR<br>- DOC_ADDED_FOR_TEST<br>",
    );
    edit(
        &page,
        "|`utility_address`  |",
        "|`client_added_row` |`String`|- Max length 10 |A row added for this test.|\n|`utility_address`  |",
    );

    let root = workspace_root();
    let out = tempfile::tempdir().unwrap();
    let schema_dir = out.path().join("schema");
    let crate_dir = out.path().join("models");
    xtask::schema(
        docs.path(),
        &root.join("schema/errata.json"),
        &schema_dir,
        false,
    )
    .expect("schema");
    let data: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_dir.join("data.json")).unwrap())
            .unwrap();
    assert!(
        data["properties"]["docNewField"].is_object(),
        "the new field is in the schema"
    );
    let full: Value = serde_json::from_str(
        &std::fs::read_to_string(schema_dir.join("full-status.json")).unwrap(),
    )
    .unwrap();
    let values = full["definitions"]["DocumentValidity"]["enum"]
        .as_array()
        .unwrap();
    assert!(
        values.contains(&Value::from("DOC_ADDED_FOR_TEST")),
        "the new value is in the schema"
    );
    assert!(full["definitions"]["ClientData"]["properties"]["client_added_row"].is_object());

    copy_models_crate(&root.join("crates/idenfy-models"), &crate_dir);
    xtask::codegen(&schema_dir, &crate_dir.join("src/generated.rs"), false).expect("codegen");
    let generated = std::fs::read_to_string(crate_dir.join("src/generated.rs")).unwrap();
    for expected in [
        "pub doc_new_field:",
        "DocAddedForTest,",
        "pub client_added_row:",
    ] {
        assert!(
            generated.contains(expected),
            "the generated code lacks `{expected}`"
        );
    }
    // Code that uses the new items, so that compiling proves they are usable, not just present.
    let mut lib = std::fs::read_to_string(crate_dir.join("src/lib.rs")).unwrap();
    lib.push_str(
        "\n/// Uses what the changed page added.\npub fn uses_new_items(data: &IdentificationData, client: &ClientData) -> bool {\n    \
         data.doc_new_field.is_some() && client.client_added_row.is_some() && DocumentValidity::from(\"DOC_ADDED_FOR_TEST\") == DocumentValidity::DocAddedForTest\n}\n",
    );
    std::fs::write(crate_dir.join("src/lib.rs"), lib).unwrap();

    let status = Command::new(env!("CARGO"))
        .args(["check", "--quiet", "--offline"])
        .current_dir(&crate_dir)
        // Inside the target directory of this build, so that no other one is created.
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("codegen-check"),
        )
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the regenerated models do not compile");
}

/// A standalone copy of the models crate (outside the workspace), with the workspace's lock file
/// so that it builds offline from the same dependency versions.
fn copy_models_crate(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join("src")).unwrap();
    for entry in std::fs::read_dir(from.join("src")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join("src").join(entry.file_name())).unwrap();
    }
    std::fs::copy(from.join("README.md"), to.join("README.md")).unwrap();
    std::fs::copy(workspace_root().join("Cargo.lock"), to.join("Cargo.lock")).unwrap();
    std::fs::write(
        to.join("Cargo.toml"),
        "[package]\nname = \"idenfy-models\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\nserde_json = \"1\"\n\n\
         [features]\nschemars = []\nredact-debug = []\n\n[workspace]\n",
    )
    .unwrap();
}
