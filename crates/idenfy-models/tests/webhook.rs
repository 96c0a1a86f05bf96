//! The webhook as the vendor sends it today (its OpenAPI document): every key typed, nothing left
//! in `extra`; the event types; the document expiration webhook; the identification list.

// The hand-built current-shape body is one large `json!` literal.
#![recursion_limit = "256"]

use idenfy_models::{
    DocumentExpirationWebhook, EventType, IdentificationList, OverallStatus, ResultCallback,
    SuspectionReason,
};
use serde_json::json;

/// A current-shape body, built by hand (the document has no example of one) with a value for
/// each key it documents.
fn current_body() -> serde_json::Value {
    json!({
        "final": false,
        "platform": "MOBILE_APP",
        "status": {
            "overall": "SUSPECTED",
            "fraudTags": ["DUPLICATE_FACE", "VIRTUAL_CAMERA"],
            "mismatchTags": ["POA_SCREENSHOT_DETECTED"],
            "autoFace": "FACE_MATCH",
            "manualFace": null,
            "autoDocument": "NFC_FAILED",
            "manualDocument": null,
            "additionalSteps": "VALID"
        },
        "data": {
            "docFirstName": "FIRST", "docLastName": "LAST", "docType": "BANK_ID_SE",
            "docSex": "FEMALE", "fullName": "FIRST LAST", "ageEstimate": "OVER_25",
            "clientIpProxyRiskLevel": "LOW", "duplicateFaces": ["a1"], "duplicateDocFaces": [],
            "docPatronymic": null, "orgBirthName": null, "additionalData": {"k": "v"}
        },
        "fileUrls": {"FRONT": "https://files.example/front.png", "FACE": null},
        "additionalStepPdfUrls": {"UTILITY_BILL": "https://files.example/bill.pdf"},
        "AML": [{
            "status": {"serviceSuspected": false, "serviceUsed": true, "serviceFound": true,
                       "checkSuccessful": true, "overallStatus": "NOT_SUSPECTED"},
            "serviceName": "AML_NAMES_CHECK", "serviceGroupType": "AML", "uid": "u1",
            "errorMessage": null,
            "data": [{"name": "N", "surname": "S", "suspicion": "PEPS", "listName": "L",
                      "checkDate": "2026-01-01", "whitelisted": false, "score": 90}]
        }],
        "amlCheck": {
            "id": "a", "overallStatus": "NOT_SUSPECTED", "statusSetBy": null, "statusSetAt": null,
            "adverseMedia": [{"title": "T", "url": "https://news.example", "text": null,
                              "score": "0.5", "type": null, "publishDate": null}],
            "amlCheck": [{"addresses": [{"city": "Vilnius", "geography": "LT"}],
                          "datesOfBirth": ["1990"], "gender": null, "nationalities": ["LT"],
                          "match": "exact", "formerSanBodyIds": [], "countries": ["LT"],
                          "datasets": ["PEP"], "currentSanBodyIds": [], "version": 1,
                          "pepTier": null, "score": 80, "profileImage": null, "name": "N",
                          "resourceId": "r"}]
        },
        "LID": [{
            "status": {"serviceSuspected": false, "serviceUsed": true, "serviceFound": true,
                       "checkSuccessful": true, "overallStatus": "NOT_SUSPECTED"},
            "data": [{"documentNumber": "1", "documentType": "PASSPORT", "valid": true,
                      "expiryDate": "2030-01-01", "checkDate": "2026-01-01"}],
            "serviceName": "IrdInvalidPapers", "serviceGroupType": "LID", "uid": "u2",
            "errorMessage": null
        }],
        "CRIMINAL_CHECK": [{
            "status": {"serviceSuspected": false, "serviceUsed": true, "serviceFound": true,
                       "checkSuccessful": true, "overallStatus": "NOT_SUSPECTED"},
            "data": [{"offenses": [{"offense": "O", "offenseClass": null}], "fullName": "N S",
                      "county": null, "region": "NY"}],
            "serviceName": "CRIMINAL", "serviceGroupType": "CRIMINAL_CHECK", "uid": "u3",
            "errorMessage": null
        }],
        "scanRef": "5f3c2a1e-9b7d-11ea-bb37-0242ac130002",
        "externalRef": null,
        "clientId": "client-1",
        "companyId": "c0mpany",
        "beneficiaryId": "benef",
        "startTime": 1767225600,
        "finishTime": 1767225660,
        "clientIp": "192.0.2.1",
        "clientIpCountry": "LT",
        "clientLocation": "Vilnius, Lithuania",
        "gdcMatch": null,
        "manualAddress": null,
        "manualAddressMatch": false,
        "registryCenterCheck": {"resourceType": "LithuaniaRegistryCenterCheck",
                                "checkedPersonalNumber": "1", "checkedDocumentType": "P",
                                "name": "N", "facePhoto": null},
        "addressVerification": {"address": "A", "country": "LT", "status": "VERIFIED",
                                "accuracy": 9, "quality": "GOOD"},
        "questionnaireAnswers": {"title": "Q", "sections": [{"title": "S", "questions": [
            {"key": "k", "title": "T", "type": "SELECT_MULTI", "value": ["a", "b"]}]}]},
        "riskAssessment": {"riskScore": 10, "riskLevel": "VERY_LOW"},
        "bankVerification": {"id": "b", "country": "LT", "bank": "Bank", "riskLevel": "LOW",
                             "accounts": [{"id": "x", "name": null, "iban": "LT00", "currency": "EUR",
                                           "balancesOverview": {"bookedBalance": 1.5, "availableBalance": null},
                                           "transactionsCount": 3}]},
        "emailVerification": {"email": "a@example.org", "emailVerified": true},
        "phoneVerification": {"phone": "+37060000000", "phoneVerified": false},
        "driverLicenseCheck": {"name": "N", "surname": "S", "state": "NY", "nameMatch": true},
        "bankCardVerification": {"id": "c", "status": "NO_MATCH", "noMatchReason": "NAME_MISMATCH",
                                 "lastFour": "1234"},
        "additionalSteps": {"UTILITY_BILL": "UPLOAD", "OTHER": null}
    })
}

#[test]
fn a_current_webhook_body_is_typed_with_nothing_left_in_extra() {
    let body = current_body();
    let callback: ResultCallback = serde_json::from_value(body.clone()).unwrap();
    assert!(callback.extra.is_empty(), "{:?}", callback.extra.keys());
    assert_eq!(callback.final_, Some(false));
    assert_eq!(callback.company_id.as_deref(), Some("c0mpany"));
    let status = callback.status.as_ref().unwrap();
    assert!(status.extra.is_empty());
    assert_eq!(status.overall, Some(OverallStatus::Suspected));
    assert_eq!(
        status.fraud_tags.as_deref(),
        Some(
            &[
                SuspectionReason::DuplicateFace,
                SuspectionReason::VirtualCamera
            ][..]
        )
    );
    let data = callback.data.as_ref().unwrap();
    assert!(data.extra.is_empty(), "{:?}", data.extra.keys());
    assert!(data.age_estimate.as_ref().is_some_and(|age| age.is_known()));
    let aml = &callback.aml.as_ref().unwrap()[0];
    assert!(aml.extra.is_empty() && aml.data.as_ref().unwrap()[0].extra.is_empty());
    let v3 = callback.aml_check.as_ref().unwrap();
    assert!(v3.extra.is_empty() && v3.aml_check.as_ref().unwrap()[0].extra.is_empty());
    let lid = &callback.lid.as_ref().unwrap()[0];
    assert!(lid.data.as_ref().unwrap()[0].extra.is_empty());
    let criminal = &callback.criminal_check.as_ref().unwrap()[0];
    assert!(criminal.extra.is_empty() && criminal.data.as_ref().unwrap()[0].extra.is_empty());
    assert!(
        callback
            .registry_center_check
            .as_ref()
            .unwrap()
            .extra
            .is_empty()
    );
    assert!(
        callback
            .bank_verification
            .as_ref()
            .unwrap()
            .accounts
            .as_ref()
            .unwrap()[0]
            .extra
            .is_empty()
    );
    assert_eq!(
        callback.risk_assessment.as_ref().unwrap().risk_score,
        Some(10)
    );
    // Back to the same JSON, but for nulls: an optional key's null is not written back, and a
    // required key the body left out comes back as null.
    let back = serde_json::to_value(&callback).unwrap();
    assert_eq!(without_nulls(back), without_nulls(body));
}

#[test]
fn event_types_are_open_and_name_their_header() {
    assert_eq!(EventType::HEADER_NAME, "Idenfy-Event-Type");
    let event: EventType = "IDENTIFICATION_MANUAL_FINISHED".parse().unwrap();
    assert_eq!(event, EventType::IdentificationManualFinished);
    assert_eq!(event.to_string(), "IDENTIFICATION_MANUAL_FINISHED");
    let new: EventType = "SOMETHING_NEW".parse().unwrap();
    assert_eq!(new, EventType::Unknown("SOMETHING_NEW".to_owned()));
    assert_eq!(new.to_string(), "SOMETHING_NEW");
    assert!(EventType::KNOWN.contains(&EventType::DocumentExpiration));
}

#[test]
fn the_document_expiration_webhook_reads() {
    let body = json!({
        "scanRef": "s", "clientId": "c",
        "expirationThreshold": "DOCUMENT_EXPIRES_WITHIN_7_DAYS", "documentExpiration": "2026-12-31"
    });
    let webhook: DocumentExpirationWebhook = serde_json::from_value(body.clone()).unwrap();
    assert!(webhook.expiration_threshold.as_ref().unwrap().is_known());
    assert!(webhook.extra.is_empty());
    assert_eq!(serde_json::to_value(&webhook).unwrap(), body);
}

#[test]
fn an_identification_list_page_reads_with_its_links() {
    let body = json!({
        "count": 2,
        "next": "https://ivs.idenfy.com/kyc/identifications/?page=2",
        "previous": null,
        "results": [{"scanRef": "s1", "status": "APPROVED", "suspected": false},
                    {"scanRef": "s2", "status": "NEW_STATUS", "suspected": true}]
    });
    let page: IdentificationList = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(page.count, Some(2));
    let next: Option<String> = page.next.clone();
    assert!(next.unwrap().ends_with("page=2"));
    assert_eq!(page.previous, None);
    let results = page.results.as_ref().unwrap();
    assert_eq!(results[0].status, Some(OverallStatus::Approved));
    assert_eq!(
        results[1].status,
        Some(OverallStatus::Unknown("NEW_STATUS".into()))
    );
    assert_eq!(
        without_nulls(serde_json::to_value(&page).unwrap()),
        without_nulls(body)
    );
}

/// `value` without the keys that hold `null`, at every depth.
fn without_nulls(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(object) => object
            .into_iter()
            .filter(|(_, value)| !value.is_null())
            .map(|(key, value)| (key, without_nulls(value)))
            .collect(),
        serde_json::Value::Array(items) => items.into_iter().map(without_nulls).collect(),
        other => other,
    }
}
