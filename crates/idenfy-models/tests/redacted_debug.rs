//! With the `redact-debug` feature, `Debug` shows no personal data and stays useful.
#![cfg(feature = "redact-debug")]

use idenfy_models::{FileUrls, FullStatus, ResultCallback};
use serde_json::json;

#[test]
fn debug_hides_free_text_and_keeps_results() {
    let full: FullStatus = serde_json::from_value(json!({
        "face_match_result": "FACE_MATCH",
        "attempt_count": 2,
        "client": {"name": "Vardenis", "surname": "Pavardenis", "date_of_birth": "1990-01-02"},
        "client_identity_document": {"doc_document_number": "LT1234567", "doc_sex": "M"},
        "a_new_key": "Vardenis again"
    }))
    .unwrap();
    let debug = format!("{full:?}");
    for personal in ["Vardenis", "Pavardenis", "1990", "LT1234567"] {
        assert!(!debug.contains(personal), "`{personal}` shows in {debug}");
    }
    for useful in [
        "FaceMatch",
        "attempt_count: Some(2)",
        "name: Some(<redacted>)",
        "surname: Some(<redacted>)",
        "a_new_key",
        "doc_sex: Some(M)",
    ] {
        assert!(debug.contains(useful), "`{useful}` is missing from {debug}");
    }

    let files: FileUrls =
        serde_json::from_value(json!({"FRONT": "https://files.example/FRONT.png?signature=abc"}))
            .unwrap();
    let debug = format!("{files:?}");
    assert!(
        !debug.contains("signature"),
        "a presigned URL shows in {debug}"
    );
    assert!(debug.contains("back: None"), "{debug}");
}

#[test]
fn a_callbacks_debug_hides_its_data_lists_and_free_json() {
    let callback: ResultCallback = serde_json::from_value(json!({
        "scanRef": "ref-1",
        "final": true,
        "status": {"overall": "DENIED", "fraudTags": ["DUPLICATE_FACE"], "denyReasons": ["Vardenis"]},
        "data": {"docFirstName": "Vardenis", "additionalData": {"name": "Vardenis"}},
        "questionnaireAnswers": {"title": "T", "sections": [{"title": "S", "questions": [{"key": "k", "title": "Name", "type": "TEXT", "value": "Vardenis"}]}]}
    }))
    .unwrap();
    let debug = format!("{callback:?}");
    assert!(!debug.contains("Vardenis"), "{debug}");
    // Value lists are not personal data: a fraud tag shows.
    for useful in [
        "ref-1",
        "final_: Some(true)",
        "Denied",
        "DuplicateFace",
        "[<redacted>; 1]",
    ] {
        assert!(debug.contains(useful), "`{useful}` is missing from {debug}");
    }
}
