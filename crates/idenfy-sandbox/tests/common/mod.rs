//! A deliberately small HTTP/1.1 client over a raw `TcpStream`, so tests see
//! exactly what the sandbox put on the wire (including broken bodies).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Every network wait in the tests is bounded by this.
pub const WAIT: Duration = Duration::from_secs(10);

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the body was as long as `Content-Length` announced.
    pub complete: bool,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts an error reply in the documented shape and returns its identifier.
    pub fn error_identifier(&self) -> String {
        let body = self.json();
        for key in ["identifier", "message", "documentation", "severity"] {
            assert!(
                body.get(key).is_some_and(Value::is_string),
                "{key} in {body}"
            );
        }
        assert_eq!(self.header("content-type"), Some("application/json"));
        body["identifier"].as_str().unwrap().to_owned()
    }
}

pub fn basic(key: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"))
    )
}

pub fn default_auth() -> String {
    basic(
        idenfy_sandbox::DEFAULT_API_KEY,
        idenfy_sandbox::DEFAULT_API_SECRET,
    )
}

/// Builds the bytes of one request.
pub fn request_bytes(
    method: &str,
    target: &str,
    headers: &[(&str, String)],
    body: Option<&[u8]>,
) -> Vec<u8> {
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default());
    bytes
}

/// Sends one request on a fresh connection and reads the reply.
pub async fn send(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut stream = timeout(WAIT, TcpStream::connect(addr))
        .await
        .expect("connect timed out")
        .expect("connect");
    stream.write_all(request).await.expect("write request");
    read_reply(&mut stream).await
}

/// POSTs `body` to an API path with the default credentials.
pub async fn post(addr: SocketAddr, path: &str, body: &str, extra: &[(&str, String)]) -> Reply {
    let mut headers = vec![("Authorization", default_auth())];
    headers.extend(extra.iter().cloned());
    send(
        addr,
        &request_bytes("POST", path, &headers, Some(body.as_bytes())),
    )
    .await
}

pub async fn post_scan_ref(addr: SocketAddr, path: &str, scan_ref: &str) -> Reply {
    post(addr, path, &format!("{{\"scanRef\":\"{scan_ref}\"}}"), &[]).await
}

/// GETs an absolute `http://127.0.0.1:PORT/...` URL.
pub async fn get_url(url: &str, extra: &[(&str, String)]) -> Reply {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (authority, target) = rest.split_at(rest.find('/').expect("path"));
    let addr: SocketAddr = authority.parse().expect("socket address");
    send(addr, &request_bytes("GET", target, extra, None)).await
}

/// Reads a request the same way as a reply (head, then a `Content-Length` body); the request
/// line's target lands in `status`'s place and is not kept.
pub async fn read_request(stream: &mut TcpStream) -> Reply {
    read_message(stream, false).await
}

/// Reads the head, then a `Content-Length` body (or until EOF), tolerating
/// a connection that closes early.
pub async fn read_reply(stream: &mut TcpStream) -> Reply {
    read_message(stream, true).await
}

async fn read_message(stream: &mut TcpStream, is_reply: bool) -> Reply {
    let mut buffer = Vec::new();
    let head_end = loop {
        if let Some(end) = find(&buffer, b"\r\n\r\n") {
            break end;
        }
        let mut chunk = [0u8; 4096];
        let n = timeout(WAIT, stream.read(&mut chunk))
            .await
            .expect("reading the head timed out")
            .expect("read head");
        assert!(n > 0, "connection closed before the head was complete");
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buffer[..head_end].to_vec()).expect("head is UTF-8");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = if is_reply {
        status_line.split(' ').nth(1).unwrap().parse().unwrap()
    } else {
        0
    };
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = buffer[head_end + 4..].to_vec();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map(|(_, v)| v.parse::<usize>().unwrap());
    let Some(length) = length else {
        return Reply {
            status,
            headers,
            body,
            complete: false,
        };
    };
    while body.len() < length {
        let mut chunk = vec![0u8; 64 * 1024];
        match timeout(WAIT, stream.read(&mut chunk))
            .await
            .expect("reading the body timed out")
        {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let complete = body.len() == length;
    Reply {
        status,
        headers,
        body,
        complete,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// An answer's model, as the sandbox holds its fixtures to them.
#[derive(Debug, Clone, Copy)]
pub enum Model {
    /// `/status`, `/data`, `/full-status` or the callback: by the fixture key that holds it.
    Answer(&'static str),
    /// The `/files` table.
    Files,
    /// An error body.
    Error,
}

pub const STATUS_MODEL: Model = Model::Answer("status");
pub const DATA_MODEL: Model = Model::Answer("data");
pub const FILES_MODEL: Model = Model::Files;
pub const FULL_STATUS_MODEL: Model = Model::Answer("fullStatus");
pub const ERROR_MODEL: Model = Model::Error;
pub const CALLBACK_MODEL: Model = Model::Answer("callback");

/// Checks that a served body is what its model describes, exactly: an answer by loading it as a
/// fixture (which refuses keys and values the docs do not describe, and missing keys), the file
/// table and error bodies by reading them into their models with nothing left over.
pub fn assert_matches_model(model: Model, instance: &Value, what: &str) {
    match model {
        Model::Answer(key) => {
            let scan_ref = instance["scanRef"].as_str().unwrap_or("answer-under-test");
            let fixture = serde_json::json!({"fixtures": [{"scanRef": scan_ref, key: instance}]});
            if let Err(refusal) = idenfy_sandbox::Fixtures::from_json_str(&fixture.to_string()) {
                panic!("{what} is not what its model describes: {refusal}");
            }
        }
        Model::Files => {
            let table: idenfy_core::models::FileUrls =
                serde_json::from_value(instance.clone()).expect(what);
            assert!(table.extra.is_empty(), "{what}: undocumented keys");
            assert_eq!(
                instance.as_object().map(|o| o.len()),
                Some(6),
                "{what}: every slot"
            );
        }
        Model::Error => {
            let error: idenfy_core::models::ApiError =
                serde_json::from_value(instance.clone()).expect(what);
            assert!(error.extra.is_empty(), "{what}: undocumented keys");
            assert!(
                error.identifier.is_some() && error.message.is_some(),
                "{what}"
            );
        }
    }
}
