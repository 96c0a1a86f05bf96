//! Deserializing a full-status response: the generated models against a hand-written serde
//! struct of the same shape (the floor: plain fields, no open enums, no map of unlisted keys)
//! and against `serde_json::Value`.
//!
//! `cargo bench -p idenfy-models --bench deserialize`

use criterion::{Criterion, criterion_group, criterion_main};
use serde::Deserialize;
use std::hint::black_box;

const FULL_STATUS: &str = include_str!("full_status.json");

/// The floor: the same fields, every one a plain `Option` of a standard type.
#[derive(Deserialize)]
#[allow(dead_code)]
struct HandWrittenFullStatus {
    face_match_result: Option<String>,
    document_validity: Option<String>,
    manual_face_match_result: Option<String>,
    manual_document_validity: Option<String>,
    client: Option<HandWrittenClient>,
    client_identity_document: Option<HandWrittenDocument>,
    attempt_count: Option<i64>,
    suspection_reasons: Option<Vec<String>>,
    start_time: Option<String>,
    finish_time: Option<String>,
    review_time: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct HandWrittenClient {
    name: Option<String>,
    surname: Option<String>,
    date_of_birth: Option<String>,
    personal_id_number: Option<String>,
    document_number: Option<String>,
    document_type: Option<String>,
    expiry_date: Option<String>,
    nationality: Option<String>,
    date_of_issue: Option<String>,
    sex: Option<String>,
    country: Option<String>,
    default_country: Option<String>,
    utility_address: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct HandWrittenDocument {
    doc_name: Option<String>,
    doc_surname: Option<String>,
    doc_date_of_birth: Option<String>,
    doc_expiry_date: Option<String>,
    doc_personal_code: Option<String>,
    doc_document_number: Option<String>,
    doc_sex: Option<String>,
    doc_nationality: Option<String>,
    doc_date_of_issue: Option<String>,
    doc_license_categories: Option<String>,
    doc_document_type: Option<String>,
    doc_country: Option<String>,
    mrz_name: Option<String>,
    mrz_surname: Option<String>,
    mrz_date_of_birth: Option<String>,
    mrz_expiry_date: Option<String>,
    mrz_personal_code: Option<String>,
    mrz_document_number: Option<String>,
    mrz_sex: Option<String>,
    mrz_nationality: Option<String>,
    mrz_country: Option<String>,
    mrz_document_type: Option<String>,
    mrz_document_subtype: Option<String>,
    mrz_optional_data: Option<String>,
    mrz_string: Option<String>,
    mrz_date_of_issue: Option<String>,
    manual_name: Option<String>,
    manual_surname: Option<String>,
    manual_date_of_birth: Option<String>,
    manual_expiry_date: Option<String>,
    manual_personal_code: Option<String>,
    manual_document_number: Option<String>,
    manual_sex: Option<String>,
    manual_nationality: Option<String>,
    manual_document_type: Option<String>,
    manual_date_of_issue: Option<String>,
    manual_country: Option<String>,
    document_type: Option<String>,
    manual_utility_address: Option<String>,
    manual_utility_address_match: Option<bool>,
}

fn deserialize_full_status(c: &mut Criterion) {
    let mut group = c.benchmark_group("full_status");
    group.bench_function("generated", |b| {
        b.iter(|| {
            serde_json::from_str::<idenfy_models::FullStatus>(black_box(FULL_STATUS)).unwrap()
        })
    });
    group.bench_function("hand_written", |b| {
        b.iter(|| serde_json::from_str::<HandWrittenFullStatus>(black_box(FULL_STATUS)).unwrap())
    });
    group.bench_function("value", |b| {
        b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(FULL_STATUS)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, deserialize_full_status);
criterion_main!(benches);
