//! The CPU cost of the sans-IO parts: building a request, parsing a full status.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use idenfy_core::models::FullStatus;
use idenfy_core::{
    BaseUrl, Credentials, DEFAULT_MAX_BODY_BYTES, Endpoint, RequestBuilder, parse_response,
};

/// A realistic full-status body: the same file as the models' deserialization benchmark, kept
/// here too so that this crate's package carries it.
const FULL_STATUS_BODY: &[u8] = include_bytes!("full_status.json");

fn benches(c: &mut Criterion) {
    let credentials = Credentials::new("api-key", "api-secret").unwrap();
    let builder = RequestBuilder::new(&BaseUrl::default(), &credentials);
    let scan_ref = "5f3c2a1e-9b7d-11ea-bb37-0242ac130002".parse().unwrap();
    c.bench_function("build full-status request", |b| {
        b.iter(|| builder.build(black_box(Endpoint::FullStatus), black_box(&scan_ref)))
    });

    let body = bytes::Bytes::from_static(FULL_STATUS_BODY);
    c.bench_function(
        &format!("parse full-status response ({} bytes)", body.len()),
        |b| {
            b.iter(|| {
                let response = http::Response::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .unwrap();
                parse_response::<FullStatus, _>(black_box(response), DEFAULT_MAX_BODY_BYTES)
                    .unwrap()
            })
        },
    );
}

criterion_group!(sans_io, benches);
criterion_main!(sans_io);
