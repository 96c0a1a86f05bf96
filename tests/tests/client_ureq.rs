//! A second, different HTTP stack (ureq, blocking) behind `Transport` gets
//! the same typed results and errors from the same server as hyper.

mod client_support;

use client_support::{hyper_with_fault, sandbox, test_builder, with_fault};
use idenfy_core::{Error, ScanRef};
use idenfy_hyper::{HyperTransport, TokioTimer};
use idenfy_sandbox::scan_refs;

// The example's own transport, so that what the example shows is what is tested.
#[path = "../../crates/idenfy-core/examples/ureq_transport.rs"]
#[allow(dead_code)]
mod ureq_example;

use ureq_example::UreqTransport;

fn scan_ref(value: &str) -> ScanRef {
    value.parse().unwrap()
}

#[tokio::test]
async fn ureq_and_hyper_decode_every_fixture_identically() {
    let sandbox = sandbox().await;
    let ureq = test_builder(&sandbox).build(UreqTransport::default(), TokioTimer);
    let hyper = test_builder(&sandbox).build(HyperTransport::new().unwrap(), TokioTimer);
    for value in scan_refs::SCHEMA_FIXTURES {
        let scan_ref = scan_ref(value);
        assert_eq!(
            ureq.status(&scan_ref).await.unwrap(),
            hyper.status(&scan_ref).await.unwrap()
        );
        assert_eq!(
            ureq.data(&scan_ref).await.unwrap(),
            hyper.data(&scan_ref).await.unwrap()
        );
        assert_eq!(
            ureq.full_status(&scan_ref).await.unwrap(),
            hyper.full_status(&scan_ref).await.unwrap()
        );
        // File URLs are signed per request, so compare which files exist.
        let (from_ureq, from_hyper) = (
            ureq.files(&scan_ref).await.unwrap(),
            hyper.files(&scan_ref).await.unwrap(),
        );
        assert_eq!(
            from_ureq.face.is_some(),
            from_hyper.face.is_some(),
            "{value}"
        );
        assert_eq!(
            from_ureq.front_video.is_some(),
            from_hyper.front_video.is_some(),
            "{value}"
        );
    }
}

#[tokio::test]
async fn ureq_gets_the_same_api_error() {
    let sandbox = sandbox().await;
    let ureq = test_builder(&sandbox).build(UreqTransport::default(), TokioTimer);
    let hyper = test_builder(&sandbox).build(HyperTransport::new().unwrap(), TokioTimer);
    let missing = scan_ref("no-such-ref");
    let (Error::Api(from_ureq), Error::Api(from_hyper)) = (
        ureq.status(&missing).await.unwrap_err(),
        hyper.status(&missing).await.unwrap_err(),
    ) else {
        panic!("both must be the API's error");
    };
    assert_eq!(from_ureq, from_hyper);
    assert_eq!(from_ureq.status, 404);
}

#[tokio::test]
async fn ureq_gets_retries_decode_errors_and_the_body_cap_from_the_core() {
    let sandbox = sandbox().await;
    let approved = scan_ref(scan_refs::APPROVED);

    let retried = test_builder(&sandbox).build(
        with_fault(UreqTransport::default(), "status=503;retry-after=0;times=2"),
        TokioTimer,
    );
    retried.status(&approved).await.unwrap();

    let truncated = test_builder(&sandbox).build(
        with_fault(UreqTransport::default(), "truncated-json"),
        TokioTimer,
    );
    let (Error::Decode(from_ureq), Error::Decode(from_hyper)) = (
        truncated.full_status(&approved).await.unwrap_err(),
        hyper_with_fault(&sandbox, "truncated-json")
            .full_status(&approved)
            .await
            .unwrap_err(),
    ) else {
        panic!("both must be decode errors");
    };
    assert_eq!(
        (from_ureq.path, from_ureq.reason),
        (from_hyper.path, from_hyper.reason)
    );

    let endless = test_builder(&sandbox).max_body_bytes(128 * 1024).build(
        with_fault(UreqTransport::default(), "endless-body"),
        TokioTimer,
    );
    let error = endless.full_status(&approved).await.unwrap_err();
    assert!(
        matches!(error, Error::BodyTooLarge(ref e) if e.limit == 128 * 1024),
        "{error:?}"
    );
}
