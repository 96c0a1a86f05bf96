//! A server that lies, for tests: it speaks just enough HTTP/1.1 to read a request, then answers
//! with whatever bytes the test scripts, right or wrong: a `Content-Length` that is not the
//! body's, a body that never ends, a stream of `100 Continue` interim responses, escape sequences,
//! invalid UTF-8, echoed credentials. Real sockets on 127.0.0.1, one thread per connection; a
//! script may keep its connection open for the next request ([`Script::kept_alive`]), and each
//! request names the client's address ([`Seen::peer`]), so a test can tell a reused connection
//! from a new one.
//!
//! Every script is bounded: an "endless" body stops after [`ENDLESS_MAX_BYTES`] or
//! [`ENDLESS_MAX_TIME`], whichever comes first, and the server stops when it is dropped, so a
//! test that goes wrong cannot run forever or fill a disk.
//!
//! ```
//! use idenfy_hostile::{HostileServer, Script};
//! let server = HostileServer::start(|_request| Script::response(200, &[], b"{}"));
//! let url = server.url("/api/v2/status");
//! assert!(url.starts_with("http://127.0.0.1:"));
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The most an endless body writes before it stops by itself.
pub const ENDLESS_MAX_BYTES: u64 = 1 << 30;
/// The longest an endless script runs before it stops by itself.
pub const ENDLESS_MAX_TIME: Duration = Duration::from_secs(60);
/// The largest request head the server reads.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The largest request body the server reads.
const MAX_BODY_BYTES: usize = 1 << 20;
/// How long the server waits for a request's next bytes, and a kept-alive connection for its
/// next request, before it closes the connection.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a wait for bytes looks whether the server is stopping.
const POLL: Duration = Duration::from_millis(100);

/// A request as the server read it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `POST`, `GET`, ...; empty when what the client sent first cannot start an HTTP request
    /// (a TLS ClientHello, say): the handler answers it all the same, as a plain HTTP server on
    /// a TLS port would, and [`Seen::body`] holds the bytes read.
    pub method: String,
    /// The request target, query included.
    pub path: String,
    /// The headers, names in lower case, in the order sent.
    pub headers: Vec<(String, String)>,
    /// The body (as long as `Content-Length` said, at most 1 MiB).
    pub body: Vec<u8>,
    /// When the request head was read.
    pub at: Instant,
    /// The client's address: the same for every request read on one connection.
    pub peer: SocketAddr,
    /// The request's place among all those the server read, from 0 (its index in
    /// [`HostileServer::requests`]).
    pub index: usize,
}

impl Seen {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// One thing the server does on a connection, in order.
#[derive(Debug, Clone)]
pub enum Step {
    /// Write these bytes.
    Write(Vec<u8>),
    /// Wait this long.
    Sleep(Duration),
    /// Write `chunk` again and again, `pause` apart, until the client goes away or the bounds
    /// ([`ENDLESS_MAX_BYTES`], [`ENDLESS_MAX_TIME`]) are reached.
    Repeat {
        /// What is written each time.
        chunk: Vec<u8>,
        /// The wait between two writes.
        pause: Duration,
    },
    /// Keep the connection open, writing nothing, until the client closes it or
    /// [`ENDLESS_MAX_TIME`] passes.
    Hang,
    /// End this answer without closing the connection: the server reads the next request on it
    /// (waiting at most [`READ_TIMEOUT`]) and answers with the script the handler returns for
    /// that one. Steps after this one are not run.
    KeepAlive,
}

/// What the server does after reading a request; the connection is closed at the end, unless
/// a [`Step::KeepAlive`] keeps it for the next request.
#[derive(Debug, Clone, Default)]
pub struct Script {
    /// The steps, in order.
    pub steps: Vec<Step>,
}

impl Script {
    /// Raw bytes, exactly as given.
    pub fn raw(bytes: impl Into<Vec<u8>>) -> Self {
        Script {
            steps: vec![Step::Write(bytes.into())],
        }
    }

    /// A well-formed response with a correct `Content-Length` and `Connection: close`.
    pub fn response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Self {
        let mut bytes = head(status, headers);
        bytes.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
        bytes.extend_from_slice(body);
        Script::raw(bytes)
    }

    /// A well-formed response with a correct `Content-Length` and no `Connection: close`, after
    /// which the connection stays open for the next request, as a well-behaved HTTP/1.1 server
    /// keeps it.
    pub fn kept_alive(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Self {
        let mut bytes = status_line(status);
        bytes.extend_from_slice(&header_lines(headers));
        bytes.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
        bytes.extend_from_slice(body);
        Script {
            steps: vec![Step::Write(bytes), Step::KeepAlive],
        }
    }

    /// A JSON response.
    pub fn json(status: u16, body: &str) -> Self {
        Script::response(
            status,
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
    }

    /// A response that declares `declared` bytes in `Content-Length` and sends `body`, then
    /// closes: a lie either way.
    pub fn lying_length(status: u16, headers: &[(&str, &str)], declared: u64, body: &[u8]) -> Self {
        let mut bytes = head(status, headers);
        bytes.extend_from_slice(format!("content-length: {declared}\r\n\r\n").as_bytes());
        bytes.extend_from_slice(body);
        Script::raw(bytes)
    }

    /// A chunked response whose body never ends: `chunk` again and again.
    pub fn endless_chunked(status: u16, headers: &[(&str, &str)], chunk: &[u8]) -> Self {
        let mut start = head(status, headers);
        start.extend_from_slice(b"transfer-encoding: chunked\r\n\r\n");
        let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
        framed.extend_from_slice(chunk);
        framed.extend_from_slice(b"\r\n");
        Script {
            steps: vec![
                Step::Write(start),
                Step::Repeat {
                    chunk: framed,
                    pause: Duration::ZERO,
                },
            ],
        }
    }

    /// Interim `100 Continue` responses, without end and never a final one.
    pub fn endless_interim() -> Self {
        Script {
            steps: vec![Step::Repeat {
                chunk: b"HTTP/1.1 100 Continue\r\n\r\n".to_vec(),
                pause: Duration::ZERO,
            }],
        }
    }

    /// A response head, then nothing: the body never comes.
    pub fn stalled_body(status: u16, headers: &[(&str, &str)], declared: u64) -> Self {
        let mut bytes = head(status, headers);
        bytes.extend_from_slice(format!("content-length: {declared}\r\n\r\n").as_bytes());
        Script {
            steps: vec![Step::Write(bytes), Step::Hang],
        }
    }

    /// No answer at all; the connection stays open.
    pub fn hang() -> Self {
        Script {
            steps: vec![Step::Hang],
        }
    }

    /// Waits `delay` before the rest of the script.
    pub fn after(mut self, delay: Duration) -> Self {
        self.steps.insert(0, Step::Sleep(delay));
        self
    }

    /// Adds a step at the end.
    pub fn then(mut self, step: Step) -> Self {
        self.steps.push(step);
        self
    }
}

/// A status line and headers, `Connection: close` last, without the blank line that ends the
/// head.
fn head(status: u16, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut bytes = status_line(status);
    bytes.extend_from_slice(&header_lines(headers));
    bytes.extend_from_slice(b"connection: close\r\n");
    bytes
}

fn status_line(status: u16) -> Vec<u8> {
    format!("HTTP/1.1 {status} {}\r\n", reason(status)).into_bytes()
}

fn header_lines(headers: &[(&str, &str)]) -> Vec<u8> {
    headers
        .iter()
        .flat_map(|(name, value)| format!("{name}: {value}\r\n").into_bytes())
        .collect()
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Whatever",
    }
}

type Handler = dyn Fn(&Seen) -> Script + Send + Sync;

/// The running server; it stops when dropped.
pub struct HostileServer {
    address: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    stopping: Arc<AtomicBool>,
    acceptor: Option<thread::JoinHandle<()>>,
}

impl std::fmt::Debug for HostileServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostileServer")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl HostileServer {
    /// Starts a server on a free port of 127.0.0.1 that answers each request with the script
    /// `handler` returns for it. Usable from synchronous and asynchronous tests alike: it runs
    /// on its own threads.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub fn start(handler: impl Fn(&Seen) -> Script + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let address = listener.local_addr().expect("a bound address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stopping = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let acceptor = {
            let seen = Arc::clone(&seen);
            let stopping = Arc::clone(&stopping);
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let Ok(peer) = stream.peer_addr() else {
                        continue;
                    };
                    let seen = Arc::clone(&seen);
                    let stopping = Arc::clone(&stopping);
                    let handler = Arc::clone(&handler);
                    thread::spawn(move || serve(stream, peer, &*handler, &seen, &stopping));
                }
            })
        };
        HostileServer {
            address,
            seen,
            stopping,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// The server's address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Every request read so far, in order.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen
            .lock()
            .map(|seen| seen.clone())
            .unwrap_or_default()
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the acceptor so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.address, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// Reads a request, runs its script, and again while the script keeps the connection alive;
/// then closes.
fn serve(
    mut stream: TcpStream,
    peer: SocketAddr,
    handler: &Handler,
    seen: &Mutex<Vec<Seen>>,
    stopping: &AtomicBool,
) {
    let _ = stream.set_nodelay(true);
    // Bytes read past the end of one request: the start of the next one.
    let mut pending = Vec::new();
    loop {
        let Some(mut request) = read_request(&mut stream, &mut pending, peer, stopping) else {
            return;
        };
        if let Ok(mut seen) = seen.lock() {
            request.index = seen.len();
            seen.push(request.clone());
        }
        let script = handler(&request);
        match run(&mut stream, &script, stopping) {
            Ran::KeptAlive => continue,
            Ran::ClientGone => return,
            Ran::Done => break,
        }
    }
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
    // Let the client read what was sent before the socket goes away.
    let mut sink = [0u8; 1024];
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let _ = stream.read(&mut sink);
}

/// How a script ended.
enum Ran {
    /// Its steps are done: the connection closes.
    Done,
    /// It reached [`Step::KeepAlive`]: the next request is read on the same connection.
    KeptAlive,
    /// A write failed or the client closed the connection.
    ClientGone,
}

fn run(stream: &mut TcpStream, script: &Script, stopping: &AtomicBool) -> Ran {
    let started = Instant::now();
    for step in &script.steps {
        match step {
            Step::Write(bytes) => {
                if stream.write_all(bytes).is_err() {
                    return Ran::ClientGone;
                }
            }
            Step::Sleep(duration) => thread::sleep(*duration),
            Step::Repeat { chunk, pause } => {
                let mut written = 0u64;
                while written < ENDLESS_MAX_BYTES
                    && started.elapsed() < ENDLESS_MAX_TIME
                    && !stopping.load(Ordering::SeqCst)
                {
                    if stream.write_all(chunk).is_err() {
                        return Ran::ClientGone;
                    }
                    written += chunk.len() as u64;
                    if !pause.is_zero() {
                        thread::sleep(*pause);
                    }
                }
            }
            Step::Hang => {
                // Ends when the client closes the connection (a read of 0 or an error other
                // than the timeout) or the bound passes.
                let _ = stream.set_read_timeout(Some(POLL));
                let mut sink = [0u8; 1024];
                while started.elapsed() < ENDLESS_MAX_TIME && !stopping.load(Ordering::SeqCst) {
                    match stream.read(&mut sink) {
                        Ok(0) => return Ran::ClientGone,
                        Ok(_) => {}
                        Err(err) if timed_out(&err) => {}
                        Err(_) => return Ran::ClientGone,
                    }
                }
            }
            Step::KeepAlive => {
                return if stream.flush().is_ok() {
                    Ran::KeptAlive
                } else {
                    Ran::ClientGone
                };
            }
        }
    }
    Ran::Done
}

fn timed_out(err: &std::io::Error) -> bool {
    matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Reads more of the request into `buffer`: how many bytes (0 when the client closed its end),
/// or `None` when the client went quiet for [`READ_TIMEOUT`], the read failed or the server is
/// stopping.
fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>, stopping: &AtomicBool) -> Option<usize> {
    let _ = stream.set_read_timeout(Some(POLL));
    let quiet_since = Instant::now();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(read) => {
                buffer.extend_from_slice(&chunk[..read]);
                return Some(read);
            }
            Err(err) if timed_out(&err) => {
                if stopping.load(Ordering::SeqCst) || quiet_since.elapsed() >= READ_TIMEOUT {
                    return None;
                }
            }
            Err(_) => return None,
        }
    }
}

/// Reads one request; `buffer` holds the bytes already read on the connection and keeps those
/// past the request's end.
fn read_request(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    peer: SocketAddr,
    stopping: &AtomicBool,
) -> Option<Seen> {
    let head_end = loop {
        // Empty lines before a request line are ignored, as RFC 9112 (2.2) asks of a server: a
        // client may send one after a request's body.
        while buffer.starts_with(b"\r\n") || buffer.starts_with(b"\n") {
            let line = if buffer[0] == b'\r' { 2 } else { 1 };
            buffer.drain(..line);
        }
        if buffer == b"\r" {
            if read_more(stream, buffer, stopping)? == 0 {
                return None;
            }
            continue;
        }
        if buffer
            .first()
            .is_some_and(|first| !first.is_ascii_uppercase())
        {
            return Some(not_http(std::mem::take(buffer), peer));
        }
        if let Some(end) = find(buffer, b"\r\n\r\n") {
            break end;
        }
        if buffer.len() > MAX_HEAD_BYTES {
            return None;
        }
        if read_more(stream, buffer, stopping)? == 0 {
            return None;
        }
    };
    let at = Instant::now();
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let path = request_line.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(0)
        .min(MAX_BODY_BYTES);
    let body_start = head_end + 4;
    while buffer.len() < body_start + length {
        if read_more(stream, buffer, stopping)? == 0 {
            break;
        }
    }
    let body_end = buffer.len().min(body_start + length);
    let body = buffer[body_start..body_end].to_vec();
    buffer.drain(..body_end);
    Some(Seen {
        method,
        path,
        headers,
        body,
        at,
        peer,
        index: 0,
    })
}

/// A "request" whose first byte cannot start a method.
fn not_http(bytes: Vec<u8>, peer: SocketAddr) -> Seen {
    Seen {
        method: String::new(),
        path: String::new(),
        headers: Vec::new(),
        body: bytes,
        at: Instant::now(),
        peer,
        index: 0,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(server: &HostileServer, request: &[u8]) -> Vec<u8> {
        let mut stream = TcpStream::connect(server.address()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.write_all(request).unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        answer
    }

    #[test]
    fn records_the_request_and_sends_the_script_verbatim() {
        let server = HostileServer::start(|request| {
            Script::lying_length(200, &[], 99, format!("{}", request.body.len()).as_bytes())
        });
        let answer = exchange(
            &server,
            b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
        );
        let answer = String::from_utf8(answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.contains("content-length: 99\r\n"), "{answer}");
        assert!(answer.ends_with("\r\n\r\n3"), "{answer}");
        let seen = server.requests();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].method, "POST");
        assert_eq!(seen[0].path, "/x");
        assert_eq!(seen[0].body, b"abc");
        assert_eq!(seen[0].header("HOST"), Some("a"));
    }

    #[test]
    fn a_kept_alive_connection_answers_each_request_and_names_one_peer() {
        let server = HostileServer::start(|request| {
            Script::kept_alive(200, &[], format!("#{}", request.index).as_bytes())
        });
        let mut stream = TcpStream::connect(server.address()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        // The second request comes in the same write as the first: it is not lost.
        stream
            .write_all(b"POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nhiGET /b HTTP/1.1\r\n\r\n")
            .unwrap();
        let expected = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n#0\
                        HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n#1";
        let mut answer = vec![0u8; expected.len()];
        stream.read_exact(&mut answer).unwrap();
        assert_eq!(String::from_utf8(answer).unwrap(), expected);
        // Still open: a third request is answered on it too.
        stream.write_all(b"GET /c HTTP/1.1\r\n\r\n").unwrap();
        let mut third = vec![0u8; expected.len() / 2];
        stream.read_exact(&mut third).unwrap();
        assert!(
            third.ends_with(b"#2"),
            "{}",
            String::from_utf8_lossy(&third)
        );

        let seen = server.requests();
        let paths: Vec<&str> = seen.iter().map(|request| request.path.as_str()).collect();
        assert_eq!(paths, ["/a", "/b", "/c"]);
        assert_eq!(seen[0].body, b"hi");
        assert_eq!(seen[1].index, 1);
        assert!(seen.iter().all(|request| request.peer == seen[0].peer));
        assert_eq!(seen[0].peer, stream.local_addr().unwrap());
    }

    #[test]
    fn empty_lines_before_a_kept_alive_request_are_ignored() {
        let server = HostileServer::start(|request| {
            Script::kept_alive(200, &[], format!("#{}", request.index).as_bytes())
        });
        let mut stream = TcpStream::connect(server.address()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        // A line break after the first body, as some clients send, then one split across writes.
        stream
            .write_all(b"POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi\r\n\r")
            .unwrap();
        let one = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n#0";
        let mut answer = vec![0u8; one.len()];
        stream.read_exact(&mut answer).unwrap();
        assert_eq!(String::from_utf8(answer).unwrap(), one);
        stream.write_all(b"\nGET /b HTTP/1.1\r\n\r\n").unwrap();
        let mut second = vec![0u8; one.len()];
        stream.read_exact(&mut second).unwrap();
        assert!(
            second.ends_with(b"#1"),
            "{}",
            String::from_utf8_lossy(&second)
        );
        let paths: Vec<String> = server
            .requests()
            .into_iter()
            .map(|seen| seen.method + " " + &seen.path)
            .collect();
        assert_eq!(paths, ["POST /a", "GET /b"]);
    }

    #[test]
    fn a_closing_script_ends_its_connection_and_the_next_is_a_new_peer() {
        let server = HostileServer::start(|_| Script::response(204, &[], b""));
        let mut first = TcpStream::connect(server.address()).unwrap();
        first
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        first
            .write_all(b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n")
            .unwrap();
        let mut answer = Vec::new();
        first.read_to_end(&mut answer).unwrap();
        let answer = String::from_utf8(answer).unwrap();
        assert_eq!(answer.matches("HTTP/1.1").count(), 1, "{answer}");
        exchange(&server, b"GET /c HTTP/1.1\r\n\r\n");
        let seen = server.requests();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_ne!(seen[0].peer, seen[1].peer);
    }

    #[test]
    fn bytes_that_cannot_start_a_request_are_answered_too() {
        let server = HostileServer::start(|_| Script::response(400, &[], b""));
        // The first bytes of a TLS ClientHello.
        let answer = exchange(&server, &[0x16, 0x03, 0x01, 0x02, 0x00]);
        assert!(answer.starts_with(b"HTTP/1.1 400 Bad Request\r\n"));
        let seen = server.requests();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].method, "");
        assert_eq!(seen[0].body[0], 0x16);
    }

    #[test]
    fn an_endless_body_goes_on_until_the_client_leaves() {
        let server = HostileServer::start(|_| Script::endless_chunked(200, &[], &[b'x'; 1024]));
        let mut stream = TcpStream::connect(server.address()).unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            .unwrap();
        let mut total = 0;
        let mut buffer = [0u8; 8192];
        while total < 1 << 20 {
            total += stream.read(&mut buffer).unwrap();
        }
        assert!(total >= 1 << 20);
    }
}
