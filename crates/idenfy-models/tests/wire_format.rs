//! How the models read and write the API's JSON: open enums, unlisted keys, nulls, absent keys
//! and empty strings.

use idenfy_models::{
    ApiError, ClientId, DocSex, DocumentValidity, ErrorIdentifier, FileKind, FileUrls, FullStatus,
    IdentificationData, IdentificationStatus, OverallStatus, SuspectionReason,
};
use serde_json::{Value, json};

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(value: &Value) -> (T, Value) {
    let parsed: T = serde_json::from_value(value.clone()).expect("the payload deserializes");
    let back = serde_json::to_value(&parsed).expect("the model serializes");
    (parsed, back)
}

#[test]
fn an_unknown_enum_value_is_kept_and_written_back() {
    let payload = json!({"status": "ON_HOLD_SINCE_2031", "scanRef": "s-1", "clientId": "c-1"});
    let (status, back) = round_trip::<IdentificationStatus>(&payload);
    let overall = status.status.as_ref().unwrap();
    assert_eq!(
        *overall,
        OverallStatus::Unknown("ON_HOLD_SINCE_2031".into())
    );
    assert!(!overall.is_known());
    assert_eq!(back, payload);
}

#[test]
fn known_values_are_variants_and_parse_from_text() {
    assert_eq!(
        "APPROVED".parse::<OverallStatus>(),
        Ok(OverallStatus::Approved)
    );
    assert_eq!(
        OverallStatus::from("ARCHIVED"),
        OverallStatus::Archived,
        "a value only the callback page lists"
    );
    assert_eq!(
        DocumentValidity::DocSpoofDetected.as_str(),
        "DOC_SPOOF_DETECTED"
    );
    assert_eq!(
        ErrorIdentifier::from("PARTNER_ERROR"),
        ErrorIdentifier::PartnerError
    );
    assert_eq!(DocSex::from("M"), DocSex::M);
    assert_eq!(DocSex::from("MALE"), DocSex::Male);
    assert_eq!(OverallStatus::Suspected.to_string(), "SUSPECTED");
    for value in OverallStatus::KNOWN {
        assert_eq!(
            &OverallStatus::from(value.as_str()),
            value,
            "{value} reads back as itself"
        );
    }
}

#[test]
fn file_kinds_are_the_keys_of_the_files_answer_in_the_docs_order() {
    let names: Vec<&str> = FileKind::DOCUMENTED.iter().map(FileKind::as_str).collect();
    assert_eq!(
        names,
        [
            "FRONT",
            "BACK",
            "FACE",
            "FRONT_VIDEO",
            "BACK_VIDEO",
            "FACE_VIDEO"
        ]
    );
    for kind in FileKind::DOCUMENTED {
        assert!(kind.is_documented());
        assert_eq!(kind.as_str().parse::<FileKind>(), Ok(kind.clone()));
        assert_eq!(kind.to_string(), kind.as_str());
    }
    let other: FileKind = serde_json::from_value(json!("UTILITY_BILL")).unwrap();
    assert_eq!(other, FileKind::Other("UTILITY_BILL".into()));
    assert!(!other.is_documented());
    assert_eq!(serde_json::to_value(&other).unwrap(), json!("UTILITY_BILL"));
    assert_eq!(
        serde_json::to_value(FileKind::FaceVideo).unwrap(),
        json!("FACE_VIDEO")
    );
    assert!(serde_json::from_value::<FileKind>(json!(3)).is_err());
}

#[test]
fn each_documented_kind_is_paired_with_the_url_under_its_key() {
    let payload = json!({
        "FRONT": "https://f.example/front", "BACK": null, "FACE": "https://f.example/face",
        "FRONT_VIDEO": null, "BACK_VIDEO": "https://f.example/back-video",
        "FACE_VIDEO": "https://f.example/face-video", "UTILITY_BILL": "https://f.example/bill",
    });
    let (files, _) = round_trip::<FileUrls>(&payload);
    let documented = files.documented();
    assert_eq!(
        documented
            .iter()
            .map(|(kind, _)| kind.clone())
            .collect::<Vec<_>>(),
        FileKind::DOCUMENTED
    );
    for (kind, url) in documented {
        assert_eq!(url, payload[kind.as_str()].as_str(), "{kind}");
    }
    assert_eq!(files.extra["UTILITY_BILL"], "https://f.example/bill");
}

#[test]
fn enum_lists_keep_unknown_members() {
    let payload = json!({"suspection_reasons": ["FACE_SUSPECTED", "NEW_REASON"]});
    let (full, _) = round_trip::<FullStatus>(&payload);
    assert_eq!(
        full.suspection_reasons.unwrap(),
        [
            SuspectionReason::FaceSuspected,
            SuspectionReason::Unknown("NEW_REASON".into())
        ]
    );
}

#[test]
fn a_key_the_docs_do_not_list_is_kept_at_every_level() {
    let payload = json!({
        "face_match_result": "FACE_MATCH",
        "risk_score": 0.25,
        "client": {"name": "Test", "loyalty_tier": {"level": 3}},
    });
    let (full, back) = round_trip::<FullStatus>(&payload);
    assert_eq!(full.extra["risk_score"], 0.25);
    assert_eq!(
        full.client.as_ref().unwrap().extra["loyalty_tier"],
        json!({"level": 3})
    );
    assert_eq!(back["risk_score"], 0.25);
    assert_eq!(back["client"]["loyalty_tier"], json!({"level": 3}));
}

#[test]
fn null_and_absent_keys_are_none_and_written_as_null() {
    let (files, back) =
        round_trip::<FileUrls>(&json!({"FRONT": "https://files.example/f.png", "BACK": null}));
    assert_eq!(files.front.as_deref(), Some("https://files.example/f.png"));
    assert_eq!(files.back, None);
    assert_eq!(files.face_video, None, "absent");
    assert_eq!(back["BACK"], Value::Null);
    assert_eq!(
        back["FACE_VIDEO"],
        Value::Null,
        "every documented key is written"
    );
}

#[test]
fn empty_strings_are_kept_where_the_api_sends_them() {
    let payload = json!({"client_identity_document": {
        "mrz_document_type": "", "manual_date_of_issue": "", "doc_license_categories": "", "doc_sex": ""
    }});
    let (full, back) = round_trip::<FullStatus>(&payload);
    let document = full.client_identity_document.unwrap();
    assert_eq!(document.mrz_document_type.as_deref(), Some(""));
    assert_eq!(document.manual_date_of_issue.unwrap().date(), None);
    assert_eq!(document.doc_sex, Some(DocSex::Unknown(String::new())));
    for key in [
        "mrz_document_type",
        "manual_date_of_issue",
        "doc_license_categories",
        "doc_sex",
    ] {
        assert_eq!(
            back["client_identity_document"][key], "",
            "{key} comes back empty"
        );
    }
}

#[test]
fn client_id_is_read_as_a_string_or_an_integer_and_kept_so() {
    let (data, back) = round_trip::<IdentificationData>(&json!({"clientId": 42, "scanRef": "s"}));
    assert_eq!(data.client_id, Some(ClientId::Integer(42)));
    assert_eq!(back["clientId"], 42);
    let (status, back) = round_trip::<IdentificationStatus>(&json!({"clientId": "42"}));
    assert_eq!(status.client_id, Some(ClientId::Text("42".into())));
    assert_eq!(back["clientId"], "42");
    let err = serde_json::from_value::<IdentificationStatus>(json!({"clientId": 1.5})).unwrap_err();
    assert!(
        err.to_string()
            .contains("a client id as a string or an integer"),
        "{err}"
    );
}

#[test]
fn malformed_dates_do_not_fail_the_parse() {
    let (data, back) = round_trip::<IdentificationData>(
        &json!({"docDob": "YYYY-MM-DD", "docExpiry": "2031-02-30"}),
    );
    assert_eq!(data.doc_dob.as_ref().unwrap().date(), None);
    assert_eq!(
        data.doc_expiry.as_ref().unwrap().date(),
        None,
        "30 February does not exist"
    );
    assert_eq!(back["docDob"], "YYYY-MM-DD");
}

#[test]
fn a_wrong_type_is_an_error_that_names_the_field() {
    let err = serde_json::from_str::<FullStatus>(r#"{"attempt_count": "two"}"#).unwrap_err();
    assert!(
        err.to_string()
            .contains("invalid type: string \"two\", expected i64"),
        "{err}"
    );
    let err = serde_json::from_str::<FullStatus>(r#"{"face_match_result": 7}"#).unwrap_err();
    assert!(
        err.to_string()
            .contains("expected a FaceMatchResult string"),
        "{err}"
    );
}

#[test]
fn the_error_body_reads_with_and_without_its_optional_keys() {
    let (error, back) =
        round_trip::<ApiError>(&json!({"identifier": "UNAUTHORIZED", "message": "no"}));
    assert_eq!(error.identifier, Some(ErrorIdentifier::Unauthorized));
    assert_eq!(
        back,
        json!({"identifier": "UNAUTHORIZED", "message": "no"}),
        "absent optional keys stay absent"
    );
    let (error, _) =
        round_trip::<ApiError>(&json!({"identifier": "NOT_FOUND", "severity": "NOT_SEVERE"}));
    assert_eq!(
        error.identifier,
        Some(ErrorIdentifier::Unknown("NOT_FOUND".into()))
    );
    assert_eq!(error.severity.as_deref(), Some("NOT_SEVERE"));
}

#[test]
fn a_number_in_an_unlisted_key_is_written_back_digit_for_digit() {
    // The default float parser of serde_json may be off in the last digit; the models ask for
    // the exact one, so a stored payload is written back as it came.
    let text = r#"{"docFirstName":null,"riskScore":6.599999999999999e-29,"ratio":0.1}"#;
    let data: IdentificationData = serde_json::from_str(text).expect("the payload deserializes");
    let again: IdentificationData =
        serde_json::from_str(&serde_json::to_string(&data).unwrap()).unwrap();
    assert_eq!(again, data);
    assert_eq!(
        serde_json::to_value(&data).unwrap()["riskScore"],
        serde_json::from_str::<Value>("6.599999999999999e-29").unwrap()
    );
}
