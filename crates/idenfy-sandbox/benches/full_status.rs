//! Requests per second of `POST /api/v2/full-status` under keep-alive load
//! from local hyper clients, and the process's memory under that load.
//!
//! Run: `cargo bench -p idenfy-sandbox --bench full_status`
//! The server and the clients share this process (and its 2 cores here), so
//! the figures are a floor for the server alone. Memory (VmRSS, VmHWM from
//! /proc/self/status) is printed after each load level.

use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http::Request;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use idenfy_sandbox::{DEFAULT_API_KEY, DEFAULT_API_SECRET, Sandbox, scan_refs};

fn authorization() -> String {
    use base64::Engine as _;
    let pair = format!("{DEFAULT_API_KEY}:{DEFAULT_API_SECRET}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

async fn connect(addr: std::net::SocketAddr) -> SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    sender
}

async fn full_status(sender: &mut SendRequest<Full<Bytes>>, auth: &str) -> usize {
    let body = format!("{{\"scanRef\":\"{}\"}}", scan_refs::APPROVED);
    let request = Request::post("/api/v2/full-status")
        .header("host", "127.0.0.1")
        .header("authorization", auth)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    sender.ready().await.expect("ready");
    let response = sender.send_request(request).await.expect("response");
    assert_eq!(response.status(), 200);
    response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .len()
}

fn memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(", ")
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let sandbox = runtime
        .block_on(Sandbox::builder().start())
        .expect("sandbox");
    let addr = sandbox.local_addr();
    let auth = authorization();

    let mut group = c.benchmark_group("full_status");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(5));
    for connections in [1usize, 4, 16] {
        let mut senders: Vec<_> = runtime.block_on(async {
            let mut senders = Vec::new();
            for _ in 0..connections {
                senders.push(connect(addr).await);
            }
            senders
        });
        group.bench_function(format!("keep_alive_connections_{connections}"), |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let started = Instant::now();
                    let mut tasks = Vec::new();
                    for (index, mut sender) in senders.drain(..).enumerate() {
                        let share = iters / connections as u64
                            + u64::from((index as u64) < iters % connections as u64);
                        let auth = auth.clone();
                        tasks.push(tokio::spawn(async move {
                            for _ in 0..share {
                                full_status(&mut sender, &auth).await;
                            }
                            sender
                        }));
                    }
                    for task in tasks {
                        senders.push(task.await.expect("client task"));
                    }
                    started.elapsed()
                })
            });
        });
        println!(
            "memory after {connections} keep-alive connection(s): {}",
            memory()
        );
    }
    group.finish();
    drop(sandbox);
}

criterion_group!(benches, bench);
criterion_main!(benches);
