//! `/files` URLs and the downloads behind them.

mod common;

use std::time::Duration;

use common::*;
use idenfy_sandbox::{Sandbox, scan_refs};

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

#[tokio::test]
async fn urls_point_at_the_sandbox_and_download_real_media() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let files = post_scan_ref(sandbox.local_addr(), "/api/v2/files", scan_refs::SUSPECTED)
        .await
        .json();
    for (key, content_type) in [
        ("FRONT", "image/png"),
        ("BACK", "image/png"),
        ("FACE", "image/png"),
        ("FRONT_VIDEO", "video/mp4"),
        ("BACK_VIDEO", "video/mp4"),
        ("FACE_VIDEO", "video/mp4"),
    ] {
        let url = files[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} is set"));
        assert!(url.starts_with(&sandbox.base_url()), "{url}");
        assert!(
            url.contains("expires=") && url.contains("signature="),
            "{url}"
        );
        let reply = get_url(url, &[]).await;
        assert_eq!(reply.status, 200, "{key}");
        assert!(reply.complete);
        assert_eq!(reply.header("content-type"), Some(content_type));
        assert_eq!(
            reply
                .header("content-length")
                .unwrap()
                .parse::<usize>()
                .unwrap(),
            reply.body.len()
        );
        if content_type == "image/png" {
            assert!(reply.body.starts_with(PNG_SIGNATURE), "{key}");
            assert_eq!(&reply.body[12..16], b"IHDR");
        } else {
            assert_eq!(&reply.body[4..8], b"ftyp", "{key}");
            assert!(reply.body.windows(4).any(|w| w == b"moov"));
        }
    }
}

#[tokio::test]
async fn downloads_are_stable_and_differ_between_identifications() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let addr = sandbox.local_addr();
    let a = post_scan_ref(addr, "/api/v2/files", scan_refs::APPROVED)
        .await
        .json();
    let b = post_scan_ref(addr, "/api/v2/files", scan_refs::DENIED_FACE)
        .await
        .json();
    let first = get_url(a["FACE"].as_str().unwrap(), &[]).await.body;
    let again = get_url(a["FACE"].as_str().unwrap(), &[]).await.body;
    let other = get_url(b["FACE"].as_str().unwrap(), &[]).await.body;
    assert_eq!(first, again);
    assert_ne!(first, other);
}

#[tokio::test]
async fn large_video_fixture_serves_megabytes() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let files = post_scan_ref(
        sandbox.local_addr(),
        "/api/v2/files",
        scan_refs::LARGE_VIDEO,
    )
    .await
    .json();
    let reply = get_url(files["FACE_VIDEO"].as_str().unwrap(), &[]).await;
    assert!(reply.complete);
    assert!(reply.body.len() > 7 * 1024 * 1024, "{}", reply.body.len());
}

#[tokio::test]
async fn tampered_urls_get_403() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let files = post_scan_ref(sandbox.local_addr(), "/api/v2/files", scan_refs::APPROVED)
        .await
        .json();
    let url = files["FRONT"].as_str().unwrap().to_owned();
    let (without_query, query) = url.split_once('?').unwrap();
    let expires: u64 = query
        .split('&')
        .find_map(|p| p.strip_prefix("expires="))
        .unwrap()
        .parse()
        .unwrap();
    let tampered = [
        url.replace(
            &format!("expires={expires}"),
            &format!("expires={}", expires + 1000),
        ),
        url.replace("FRONT.png", "BACK.png"),
        url.replace("signature=", "signature=00"),
        url.replace(scan_refs::APPROVED, scan_refs::SUSPECTED),
        without_query.to_owned(),
    ];
    for bad in tampered {
        let reply = get_url(&bad, &[]).await;
        assert_eq!(reply.status, 403, "{bad}");
        assert_eq!(reply.error_identifier(), "FORBIDDEN");
    }
}

#[tokio::test]
async fn expired_urls_get_403() {
    let sandbox = Sandbox::builder()
        .file_url_ttl(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let files = post_scan_ref(sandbox.local_addr(), "/api/v2/files", scan_refs::APPROVED)
        .await
        .json();
    let reply = get_url(files["FACE"].as_str().unwrap(), &[]).await;
    assert_eq!(reply.status, 403);
    assert!(String::from_utf8_lossy(&reply.body).contains("expired"));
}

#[tokio::test]
async fn urls_from_another_sandbox_get_403() {
    let first = Sandbox::builder().start().await.unwrap();
    let second = Sandbox::builder().start().await.unwrap();
    let files = post_scan_ref(first.local_addr(), "/api/v2/files", scan_refs::APPROVED)
        .await
        .json();
    let url = files["FACE"]
        .as_str()
        .unwrap()
        .replace(&first.base_url(), &second.base_url());
    assert_eq!(
        get_url(&url, &[]).await.status,
        403,
        "each sandbox signs with its own key"
    );
}

#[tokio::test]
async fn downloads_are_get_only() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let files = post_scan_ref(sandbox.local_addr(), "/api/v2/files", scan_refs::APPROVED)
        .await
        .json();
    let url = files["FACE"].as_str().unwrap();
    let target = &url[sandbox.base_url().len()..];
    let reply = send(
        sandbox.local_addr(),
        &request_bytes("POST", target, &[], Some(b"")),
    )
    .await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET"));
}

#[tokio::test]
async fn identifications_without_files_have_null_urls() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let files = post_scan_ref(sandbox.local_addr(), "/api/v2/files", scan_refs::ACTIVE)
        .await
        .json();
    let table = files.as_object().unwrap();
    assert_eq!(table.len(), 6);
    assert!(table.values().all(serde_json::Value::is_null), "{files}");
}
