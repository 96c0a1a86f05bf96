//! `/files` URLs and the downloads behind them.

mod common;

use std::time::Duration;

use common::*;
use idenfy_sandbox::{Fixtures, Sandbox, scan_refs};
use serde_json::json;

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
async fn downloads_are_stable() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let a = post_scan_ref(sandbox.local_addr(), "/api/v2/files", scan_refs::APPROVED)
        .await
        .json();
    let first = get_url(a["FACE"].as_str().unwrap(), &[]).await.body;
    let again = get_url(a["FACE"].as_str().unwrap(), &[]).await.body;
    assert_eq!(first, again);
}

#[tokio::test]
async fn videos_have_the_size_the_fixture_asks_for() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let builtin: serde_json::Value =
        serde_json::from_str(idenfy_sandbox::BUILTIN_FIXTURES_JSON).unwrap();
    let asked = |scan_ref: &str| {
        let fixtures = builtin["fixtures"].as_array().unwrap();
        let fixture = fixtures.iter().find(|f| f["scanRef"] == scan_ref).unwrap();
        fixture["videoBytes"].as_u64().unwrap() as usize
    };
    assert_eq!(asked(scan_refs::LARGE_VIDEO), 8 * 1024 * 1024);
    for scan_ref in [scan_refs::LARGE_VIDEO, scan_refs::APPROVED] {
        let size = asked(scan_ref);
        let files = post_scan_ref(sandbox.local_addr(), "/api/v2/files", scan_ref)
            .await
            .json();
        let reply = get_url(files["FACE_VIDEO"].as_str().unwrap(), &[]).await;
        assert!(reply.complete);
        assert_eq!(reply.body.len(), size, "{scan_ref}");
        assert_eq!(
            reply.header("content-length"),
            Some(size.to_string().as_str())
        );
        // The sample, then a `free` box to the end, which MP4 readers skip.
        let free_at = reply.body.windows(4).rposition(|w| w == b"free").unwrap() - 4;
        let free_size = u32::from_be_bytes(reply.body[free_at..free_at + 4].try_into().unwrap());
        assert_eq!(free_at + free_size as usize, size, "{scan_ref}");
    }
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

/// The top-level boxes of an MP4, checking that their sizes tile it exactly.
fn boxes(mp4: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < mp4.len() {
        let size = u32::from_be_bytes(mp4[at..at + 4].try_into().unwrap()) as usize;
        assert!(size >= 8 && at + size <= mp4.len(), "box at {at}: {size}");
        out.push(String::from_utf8_lossy(&mp4[at + 4..at + 8]).into_owned());
        at += size;
    }
    out
}

#[tokio::test]
async fn a_video_is_the_sample_grown_by_a_free_box_to_the_size_asked_for() {
    // The sample's size, as the README gives it: one less than a box header above it gives a
    // whole box more.
    const SAMPLE: usize = 3561;
    let cases = [
        (0, SAMPLE),
        (SAMPLE, SAMPLE),
        (SAMPLE + 1, SAMPLE + 8),
        (SAMPLE + 8, SAMPLE + 8),
        (64 * 1024, 64 * 1024),
    ];
    let fixtures: Vec<_> = (cases.iter().enumerate())
        .map(|(i, (asked, _))| json!({"scanRef": format!("v{i}"), "files": ["FACE_VIDEO"], "videoBytes": asked}))
        .collect();
    let fixtures = Fixtures::from_json_str(&json!({ "fixtures": fixtures }).to_string()).unwrap();
    let sandbox = Sandbox::builder().fixtures(fixtures).start().await.unwrap();
    for (i, (asked, served)) in cases.into_iter().enumerate() {
        let scan_ref = format!("v{i}");
        let files = post_scan_ref(sandbox.local_addr(), "/api/v2/files", &scan_ref)
            .await
            .json();
        let video = get_url(files["FACE_VIDEO"].as_str().unwrap(), &[])
            .await
            .body;
        assert_eq!(video.len(), served, "asked for {asked}");
        let mut expected = vec!["ftyp", "moov", "mdat"];
        expected.extend((served > SAMPLE).then_some("free"));
        assert_eq!(boxes(&video), expected, "asked for {asked}");
        let frames = video.windows(8).filter(|w| *w == PNG_SIGNATURE).count();
        assert_eq!(frames, 10, "ten PNG frames");
        assert!(
            video.windows(4).any(|w| w == b"png "),
            "the PNG sample entry"
        );
    }
}
