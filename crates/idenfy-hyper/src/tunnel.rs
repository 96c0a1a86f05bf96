//! The CONNECT request that opens a tunnel through an HTTP proxy, and the proxy's answer, read
//! within a bounded size.
//!
//! hyper-util has a tunnel connector, but its error type is private and drops the status the
//! proxy answered: a 407 could only be told from a 403 by its text. This one keeps the status.

use http::{HeaderValue, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

/// The longest answer head a proxy may send to a CONNECT. Real ones send a status line and a
/// few headers; past this the proxy is not one.
pub(crate) const MAX_ANSWER_HEAD: usize = 8 * 1024;

/// How a CONNECT failed.
#[derive(Debug)]
pub(crate) enum TunnelFailure {
    /// Writing the request or reading the answer failed.
    Io(std::io::Error),
    /// The proxy closed the connection before its answer's head ended.
    Closed,
    /// The answer's head is longer than [`MAX_ANSWER_HEAD`].
    TooLong,
    /// The answer is not HTTP.
    NotHttp,
    /// The proxy answered with this status instead of 200.
    Status(StatusCode),
}

/// Asks the proxy on `stream` for a tunnel to `host:port`, with `authorization` as its
/// `Proxy-Authorization`, and returns the stream once the proxy answered 2xx.
pub(crate) async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    host: &str,
    port: u16,
    authorization: Option<&HeaderValue>,
) -> Result<(), TunnelFailure> {
    // An IPv6 literal keeps its brackets in the authority.
    let authority = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n").into_bytes();
    if let Some(authorization) = authorization {
        request.extend_from_slice(b"Proxy-Authorization: ");
        request.extend_from_slice(authorization.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    stream
        .write_all(&request)
        .await
        .map_err(TunnelFailure::Io)?;
    stream.flush().await.map_err(TunnelFailure::Io)?;

    // Read byte by byte up to the end of the head: whatever follows it is the server's (TLS)
    // and must stay in the stream.
    let mut head = Vec::with_capacity(256);
    loop {
        if head.len() == MAX_ANSWER_HEAD {
            return Err(TunnelFailure::TooLong);
        }
        let byte = match stream.read_u8().await {
            Ok(byte) => byte,
            Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(TunnelFailure::Closed);
            }
            Err(error) => return Err(TunnelFailure::Io(error)),
        };
        head.push(byte);
        if head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n") {
            break;
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut answer = httparse::Response::new(&mut headers);
    match answer.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(TunnelFailure::NotHttp),
    }
    let status = answer
        .code
        .and_then(|code| StatusCode::from_u16(code).ok())
        .ok_or(TunnelFailure::NotHttp)?;
    if status.is_success() {
        Ok(())
    } else {
        Err(TunnelFailure::Status(status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn answer(answer: &[u8]) -> Result<(Vec<u8>, Vec<u8>), TunnelFailure> {
        let (mut client, mut proxy) = tokio::io::duplex(64 * 1024);
        proxy.write_all(answer).await.unwrap();
        // The proxy says no more: an answer cut short ends instead of waiting.
        proxy.shutdown().await.unwrap();
        let auth = HeaderValue::from_static("Basic dTpw");
        connect(&mut client, "api.example", 443, Some(&auth)).await?;
        let mut sent = vec![0; 1024];
        let n = proxy.read(&mut sent).await.unwrap();
        sent.truncate(n);
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.unwrap();
        Ok((sent, rest))
    }

    #[tokio::test]
    async fn a_200_opens_the_tunnel_and_keeps_what_follows_the_head() {
        let (sent, rest) = answer(b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03")
            .await
            .unwrap();
        assert_eq!(
            sent,
            b"CONNECT api.example:443 HTTP/1.1\r\nHost: api.example:443\r\nProxy-Authorization: Basic dTpw\r\n\r\n"
        );
        assert_eq!(rest, b"\x16\x03");
    }

    #[tokio::test]
    async fn another_status_a_long_head_or_no_http_fail() {
        assert!(matches!(
            answer(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n").await,
            Err(TunnelFailure::Status(
                StatusCode::PROXY_AUTHENTICATION_REQUIRED
            ))
        ));
        let long = [
            b"HTTP/1.1 200 OK\r\nx: ".as_slice(),
            &[b'a'; MAX_ANSWER_HEAD],
        ]
        .concat();
        assert!(matches!(answer(&long).await, Err(TunnelFailure::TooLong)));
        assert!(matches!(
            answer(b"SSH-2.0-OpenSSH\r\n\r\n").await,
            Err(TunnelFailure::NotHttp)
        ));
        assert!(matches!(
            answer(b"HTTP/1.1 200").await,
            Err(TunnelFailure::Closed)
        ));
    }
}
