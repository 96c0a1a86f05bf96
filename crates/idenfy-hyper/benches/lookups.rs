//! Lookups per second of `idenfy_hyper::Client::full_status` against a local
//! keep-alive server, next to a bare hyper-util client sending the same bytes
//! to the same server (the floor), at concurrency 1 and 32.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http_body_util::{BodyExt as _, Full};
use hyper::service::service_fn;
use hyper_util::client::legacy::Client as PooledClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use idenfy_core::{Endpoint, RequestBuilder, ScanRef};
use idenfy_hyper::{BaseUrl, Client, Credentials};
use tokio::net::TcpListener;

/// A full-status body of realistic size (about 2.3 KB), with every documented key.
const BODY: &str = r#"{"face_match_result":"FACE_MATCH","document_validity":"DOC_VALIDATED","manual_face_match_result":"FACE_MATCH","manual_document_validity":"DOC_VALIDATED","client":{"name":"Ada Maria","surname":"Example","date_of_birth":"1990-03-14","personal_id_number":"39003140000","document_number":"XK0000001","document_type":"PASSPORT","expiry_date":"2030-03-13","nationality":"LT","date_of_issue":"2020-03-14","sex":"F","country":"LT","default_country":null,"utility_address":null},"client_identity_document":{"doc_name":"ADA MARIA","doc_surname":"EXAMPLE","doc_date_of_birth":"1990-03-14","doc_expiry_date":"2030-03-13","doc_personal_code":"39003140000","doc_document_number":"XK0000001","doc_sex":"F","doc_nationality":"LT","doc_date_of_issue":"2020-03-14","doc_license_categories":"","doc_document_type":"PASSPORT","doc_country":"LT","mrz_name":"ADA MARIA","mrz_surname":"EXAMPLE","mrz_date_of_birth":"1990-03-14","mrz_expiry_date":"2030-03-13","mrz_personal_code":"39003140000","mrz_document_number":"XK0000001","mrz_sex":"F","mrz_nationality":"LT","mrz_country":"LT","mrz_document_type":"P","mrz_document_subtype":"","mrz_optional_data":"","mrz_string":"P<LTUEXAMPLE<<ADA<MARIA<<<<<<<<<<<<<<<<<<<<<<XK00000015LTU9003144F3003139<<<<<<<<<<<<<<02","mrz_date_of_issue":"2020-03-14","manual_name":"ADA MARIA","manual_surname":"EXAMPLE","manual_date_of_birth":"1990-03-14","manual_expiry_date":"2030-03-13","manual_personal_code":"39003140000","manual_document_number":"XK0000001","manual_sex":"F","manual_nationality":"LT","manual_document_type":"PASSPORT","manual_date_of_issue":"","manual_country":"LT","document_type":"PASSPORT","manual_utility_address":"","manual_utility_address_match":null},"attempt_count":1,"suspection_reasons":["FACE_SUSPECTED"],"start_time":"2026-11-02 10:15:01","finish_time":"2026-11-02 10:15:44","review_time":"2026-11-02 10:21:09"}"#;

async fn start_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service =
                    service_fn(|request: http::Request<hyper::body::Incoming>| async move {
                        // Read the request body like a real server would.
                        let _ = request.into_body().collect().await;
                        let mut response =
                            http::Response::new(Full::new(Bytes::from_static(BODY.as_bytes())));
                        response
                            .headers_mut()
                            .insert("content-type", "application/json".parse().unwrap());
                        Ok::<_, Infallible>(response)
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

/// Runs `iters` lookups split over `concurrency` tasks; returns the wall time.
async fn run<F, Fut>(iters: u64, concurrency: u64, lookup: Arc<F>) -> Duration
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|task| {
            let lookup = lookup.clone();
            let share = iters / concurrency + u64::from(task < iters % concurrency);
            tokio::spawn(async move {
                for _ in 0..share {
                    lookup().await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    started.elapsed()
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let base = runtime.block_on(start_server());
    let credentials = Credentials::new("bench-key", "bench-secret").unwrap();
    let base_url = BaseUrl::parse(&base).unwrap();
    let scan_ref: ScanRef = "5f3c2a1e-9b7d-11ea-bb37-0242ac130002".parse().unwrap();

    let idenfy = runtime.block_on(async {
        Client::builder(credentials.clone())
            .base_url(base_url.clone())
            .build()
            .unwrap()
    });
    let bare = runtime.block_on(async {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        PooledClient::builder(TokioExecutor::new())
            .pool_max_idle_per_host(32)
            .build::<_, Full<Bytes>>(http)
    });
    let requests = RequestBuilder::new(&base_url, &credentials);

    let mut group = c.benchmark_group("full_status lookups");
    group.throughput(Throughput::Elements(1));
    for concurrency in [1u64, 32] {
        let client = idenfy.clone();
        let scan = scan_ref.clone();
        let lookup = Arc::new(move || {
            let client = client.clone();
            let scan = scan.clone();
            async move {
                client.full_status(&scan).await.unwrap();
            }
        });
        group.bench_function(format!("idenfy-hyper, concurrency {concurrency}"), |b| {
            b.to_async(&runtime)
                .iter_custom(|iters| run(iters, concurrency, lookup.clone()))
        });

        let client = bare.clone();
        let builder = requests.clone();
        let scan = scan_ref.clone();
        let lookup = Arc::new(move || {
            let request = builder.build(Endpoint::FullStatus, &scan).map(Full::new);
            let client = client.clone();
            async move {
                let response = client.request(request).await.unwrap();
                let body = response.into_body().collect().await.unwrap().to_bytes();
                assert!(!body.is_empty());
            }
        });
        group.bench_function(format!("bare hyper-util, concurrency {concurrency}"), |b| {
            b.to_async(&runtime)
                .iter_custom(|iters| run(iters, concurrency, lookup.clone()))
        });

        // The floor plus the same JSON decode: what remains is the client's own cost.
        let client = bare.clone();
        let builder = requests.clone();
        let scan = scan_ref.clone();
        let lookup = Arc::new(move || {
            let request = builder.build(Endpoint::FullStatus, &scan).map(Full::new);
            let client = client.clone();
            async move {
                let response = client.request(request).await.unwrap();
                let body = response.into_body().collect().await.unwrap().to_bytes();
                serde_json::from_slice::<idenfy_core::models::FullStatus>(&body).unwrap();
            }
        });
        group.bench_function(
            format!("bare hyper-util + decode, concurrency {concurrency}"),
            |b| {
                b.to_async(&runtime)
                    .iter_custom(|iters| run(iters, concurrency, lookup.clone()))
            },
        );
    }
    group.finish();
}

criterion_group!(lookups, benches);
criterion_main!(lookups);
