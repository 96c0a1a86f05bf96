//! Fixture answers held to the models: the sandbox serves what the docs describe, so an answer
//! given outside `raw` must read into its model (idenfy-models' [`IdentificationStatus`],
//! [`IdentificationData`], [`FullStatus`], [`ResultCallback`]) exactly.
//!
//! The models are lenient on purpose, to read what the API sends: a key they do not know is
//! kept in `extra`, a value outside a documented list in `Unknown`, a date as any text. A
//! fixture must not lean on that. So the answer is read into its model, every `extra` entry,
//! every `Unknown` value and every date that is not one is
//! replaced by a marker saying what is wrong ([`Strict::mark`]), the model is written back to
//! JSON, and that is compared with the answer as written ([`first_difference`]): a marker names
//! the exact JSON path of what the docs do not describe, and a key the model writes back that
//! the answer lacks is a documented key left out. The comparison also catches anything that does
//! not read back as written. No message quotes a value from the fixture.

use idenfy_core::models::{
    AmlCheck, AmlCheckStatus, AmlRecord, CallbackStatus, ClientData, ClientIdentityDocument,
    DocSex, DocType, DocumentValidity, FaceMatchResult, FileUrls, FullStatus, IdentificationData,
    IdentificationStatus, InvalidDate, LenientDate, LenientDateTime, LidCheck, LidCheckStatus,
    LidRecord, MismatchTag, OverallStatus, Platform, ResultCallback, Sex, SuspectionReason,
};
use serde::Serialize;
use serde_json::Value;

/// Starts a marker. No documented value starts with it, and a string in the answer that does is
/// left as it is by the models, so it compares equal and is never taken for a marker.
const MARK: char = '\u{0}';

/// Replaces, in place, what the models accept but the docs do not describe with markers.
pub trait Strict {
    /// Replaces what the docs do not describe with markers.
    fn mark(&mut self);
}

impl<T: Strict> Strict for Option<T> {
    fn mark(&mut self) {
        if let Some(inner) = self {
            inner.mark();
        }
    }
}

impl<T: Strict> Strict for Vec<T> {
    fn mark(&mut self) {
        self.iter_mut().for_each(Strict::mark);
    }
}

/// Each open enum: a value outside its documented list becomes a marker listing the list.
macro_rules! open_enums {
    ($($name:ident),*) => {$(
        impl Strict for $name {
            fn mark(&mut self) {
                if !self.is_known() {
                    let known: Vec<&str> = $name::KNOWN.iter().map($name::as_str).collect();
                    *self = $name::from(format!("{MARK}must be one of {}", known.join(", ")));
                }
            }
        }
    )*};
}

open_enums!(
    DocSex,
    DocType,
    DocumentValidity,
    FaceMatchResult,
    MismatchTag,
    OverallStatus,
    Platform,
    Sex,
    SuspectionReason
);

/// Each date: text that is not one (an empty one is "no value", as the API sends it) becomes a
/// marker. The models keep any text, so that a response with a placeholder still reads.
macro_rules! dates {
    ($($name:ident: $layout:literal),*) => {$(
        impl Strict for $name {
            fn mark(&mut self) {
                if matches!(self.parse(), Err(InvalidDate::Format | InvalidDate::OutOfRange)) {
                    *self = $name::new(format!("{MARK}must be laid out as {}", $layout));
                }
            }
        }
    )*};
}

dates!(LenientDate: "YYYY-MM-DD", LenientDateTime: "YYYY-MM-DD HH:MM:SS");

/// Each model struct: its `extra` entries become markers, and the fields before the `;` (open
/// enums and nested models) are marked in turn. Every field is named, those after the `;` being
/// plain values, so a field the models gain stops this from compiling until it is placed.
macro_rules! models {
    ($($name:ident { $($walked:ident),* ; $($plain:ident),* })*) => {$(
        impl Strict for $name {
            fn mark(&mut self) {
                let $name { $($walked,)* $($plain: _,)* extra } = self;
                for value in extra.values_mut() {
                    *value = Value::String(format!("{MARK}unknown key; the docs do not list it"));
                }
                $($walked.mark();)*
            }
        }
    )*};
}

models! {
    IdentificationStatus { status; client_id, scan_ref }
    IdentificationData { doc_sex, doc_type, doc_date_of_issue, doc_dob, doc_expiry;
        address, authority, birth_place, client_id, doc_first_name, doc_issuing_country, doc_last_name, doc_nationality, doc_number,
        doc_personal_code, driver_license_category, manually_data_changed, mothers_maiden_name,
        org_address, org_authority, org_birth_place, org_first_name, org_last_name,
        org_nationality, scan_ref, selected_country,
        additional_data, age_estimate, client_ip_proxy_risk_level, doc_birth_name, doc_patronymic,
        doc_temporary_address, duplicate_doc_faces, duplicate_faces, full_name, org_birth_name,
        org_mothers_maiden_name, org_patronymic, org_temporary_address }
    FullStatus { client, client_identity_document, document_validity, face_match_result,
        manual_document_validity, manual_face_match_result, suspection_reasons, finish_time,
        review_time, start_time; attempt_count }
    ClientData { sex, date_of_birth, date_of_issue, expiry_date;
        country, default_country, document_number, document_type, name, nationality, personal_id_number, surname, utility_address }
    ClientIdentityDocument { doc_document_type, doc_sex, mrz_sex, doc_date_of_birth,
        doc_date_of_issue, doc_expiry_date, manual_date_of_birth, manual_date_of_issue,
        manual_expiry_date, mrz_date_of_birth, mrz_date_of_issue, mrz_expiry_date;
        doc_country, doc_document_number, doc_license_categories, doc_name, doc_nationality,
        doc_personal_code, doc_surname, document_type, manual_country, manual_document_number,
        manual_document_type, manual_name, manual_nationality, manual_personal_code, manual_sex,
        manual_surname, manual_utility_address, manual_utility_address_match, mrz_country,
        mrz_document_number, mrz_document_subtype, mrz_document_type, mrz_name, mrz_nationality,
        mrz_optional_data, mrz_personal_code, mrz_string, mrz_surname }
    ResultCallback { aml, data, file_urls, lid, platform, status;
        client_id, client_ip, external_ref, final_, finish_time, scan_ref, start_time,
        additional_step_pdf_urls, additional_steps, address_verification, aml_check,
        bank_card_verification, bank_verification, beneficiary_id, client_ip_country,
        client_location, company_id, criminal_check, driver_license_check, email_verification,
        gdc_match, manual_address, manual_address_match, phone_verification,
        questionnaire_answers, registry_center_check, risk_assessment }
    CallbackStatus { auto_document, auto_face, manual_document, manual_face, mismatch_tags,
        overall, suspicion_reasons; additional_steps, deny_reasons, fraud_tags }
    FileUrls { ; back, back_video, face, face_video, front, front_video }
    AmlCheck { data, status; error_message, service_group_type, service_name, uid }
    AmlCheckStatus { ; check_successful, overall_status, service_found, service_suspected,
        service_used }
    AmlRecord { ; dob, is_active, is_person, last_update, name, nationality, reason, score,
        surname, suspicion, text, title, type_, url, category, check_date, exit_date,
        linked_document, list_name, list_number, other_information, pep_level, publish_date,
        whitelisted }
    LidCheck { data, status; error_message, service_group_type, service_name, uid }
    LidCheckStatus { ; check_successful, overall_status, service_found, service_suspected,
        service_used }
    LidRecord { ; document_number, document_type, expiry_date, valid, check_date }
}

/// Why an answer is not what its model describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Departure {
    /// The path in the answer, e.g. `["client", "sex"]`.
    pub path: Vec<String>,
    /// What is wrong, without the value.
    pub reason: String,
}

/// Checks `answer` against `model`, the answer read into its model (a value of the wrong type
/// is refused by that reading, with its path): here, what the models would let through.
pub fn check<T: Serialize + Strict>(mut model: T, answer: &Value) -> Result<(), Departure> {
    model.mark();
    let strict = serde_json::to_value(model).unwrap_or(Value::Null);
    let mut path = Vec::new();
    match first_difference(answer, &strict, &mut path) {
        None => Ok(()),
        Some(reason) => Err(Departure { path, reason }),
    }
}

/// The first place, depth first, where the answer as written (`given`) and as its model writes
/// it back, marked (`strict`), differ; `path` is left pointing at it.
fn first_difference(given: &Value, strict: &Value, path: &mut Vec<String>) -> Option<String> {
    match (given, strict) {
        (_, Value::String(text)) if text.starts_with(MARK) && given != strict => {
            Some(text.trim_start_matches(MARK).to_owned())
        }
        (Value::Object(given), Value::Object(strict)) => {
            for (key, value) in given {
                path.push(key.clone());
                let found = match strict.get(key) {
                    Some(back) => first_difference(value, back, path),
                    // A key the model writes only when it has a value, given as null.
                    None if value.is_null() => None,
                    None => Some("does not read back as written".to_owned()),
                };
                if found.is_some() {
                    return found;
                }
                path.pop();
            }
            let missing = strict.keys().find(|key| !given.contains_key(*key))?;
            path.push(missing.clone());
            Some("is required (a documented key; give null for no value)".to_owned())
        }
        (Value::Array(given), Value::Array(strict)) if given.len() == strict.len() => {
            for (index, (value, back)) in given.iter().zip(strict).enumerate() {
                path.push(index.to_string());
                let found = first_difference(value, back, path);
                if found.is_some() {
                    return found;
                }
                path.pop();
            }
            None
        }
        _ if given == strict => None,
        _ => Some("does not read back as written".to_owned()),
    }
}
