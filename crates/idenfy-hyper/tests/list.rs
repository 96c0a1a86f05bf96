//! The identification list against servers that lie (`idenfy-hostile`, real sockets on
//! 127.0.0.1): a `next` on another origin is not followed and that origin hears nothing; a
//! `next` back at page 1 is a loop; endless pages stop at the bound.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use idenfy_hostile::{HostileServer, Script};
use idenfy_hyper::core::{ListError, ListQuery};
use idenfy_hyper::{BaseUrl, Client, Credentials, RetryPolicy};

const SECRET: &str = "list-secret-value";

fn client(server: &HostileServer) -> Client {
    Client::builder(Credentials::new("list-key", SECRET).unwrap())
        .base_url(BaseUrl::parse(&server.url("")).unwrap())
        .retry_policy(RetryPolicy::default().with_max_attempts(2))
        .attempt_timeout(Duration::from_secs(5))
        .deadline(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn page(next: &str, scan_ref: &str) -> Script {
    let next = if next.is_empty() {
        "null".to_owned()
    } else {
        format!("\"{next}\"")
    };
    Script::json(
        200,
        &format!(
            r#"{{"count": 99, "next": {next}, "previous": null, "results": [{{"scanRef": "{scan_ref}", "status": "APPROVED", "suspected": false}}]}}"#
        ),
    )
}

/// A server whose handler knows its own base URL (`own(&seen, base)`).
fn serving_itself(
    own: impl Fn(&idenfy_hostile::Seen, &str) -> Script + Send + Sync + 'static,
) -> HostileServer {
    let base = Arc::new(OnceLock::<String>::new());
    let known = Arc::clone(&base);
    let server =
        HostileServer::start(move |seen| own(seen, known.get().map_or("", String::as_str)));
    base.set(server.url("")).unwrap();
    server
}

/// Reads pages until the walk ends; the pages read and how it ended.
async fn walk(
    client: &Client,
    query: &ListQuery,
) -> (u32, Option<ListError<idenfy_hyper::HyperError>>) {
    let mut pages = client.identifications(query);
    loop {
        match pages.next_page().await {
            Ok(Some(_)) => {}
            Ok(None) => return (pages.pages_read(), None),
            Err(error) => return (pages.pages_read(), Some(error)),
        }
    }
}

#[tokio::test]
async fn a_next_on_another_origin_is_refused_and_that_origin_receives_nothing() {
    let elsewhere = HostileServer::start(|_| page("", "stolen"));
    let target = elsewhere.url("/kyc/identifications/?page=2");
    let server = HostileServer::start(move |_| page(&target, "first-1"));
    let (read, error) = walk(&client(&server), &ListQuery::new()).await;
    assert_eq!(read, 1);
    let error = error.expect("the walk stops");
    assert!(
        matches!(error, ListError::OtherOrigin { page: 1, .. }),
        "{error:?}"
    );
    assert!(!error.to_string().contains(SECRET));
    assert!(
        elsewhere.requests().is_empty(),
        "the other origin heard a request"
    );
    let sent = server.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "GET");
    assert!(sent[0].header("authorization").is_some());
}

#[tokio::test]
async fn a_next_back_at_page_one_is_a_loop_with_bounded_requests() {
    // Page 2 links back at the first page, spelt as `page=1`.
    let server = serving_itself(|seen, base| {
        if seen.path.contains("page=2") {
            page(
                &format!("{base}/kyc/identifications/?perPage=1&page=1"),
                "second-1",
            )
        } else {
            page(
                &format!("{base}/kyc/identifications/?page=2&perPage=1"),
                "first-1",
            )
        }
    });
    let (read, error) = walk(&client(&server), &ListQuery::new().per_page(1)).await;
    assert_eq!(read, 2);
    assert!(
        matches!(error, Some(ListError::Loop { page: 2 })),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn endless_pages_stop_at_the_bound() {
    let server = serving_itself(|seen, base| {
        let n: u64 = seen
            .path
            .split("page=")
            .nth(1)
            .and_then(|rest| rest.split('&').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        page(
            &format!("{base}/kyc/identifications/?page={}", n + 1),
            &format!("ref-{n}"),
        )
    });
    let (read, error) = walk(&client(&server), &ListQuery::new().max_pages(25)).await;
    assert_eq!(read, 25);
    assert!(
        matches!(error, Some(ListError::TooManyPages { limit: 25 })),
        "{error:?}"
    );
    assert_eq!(server.requests().len(), 25);
}

#[tokio::test]
async fn a_page_that_repeats_an_earlier_one_stops_the_walk() {
    let server = serving_itself(|seen, base| {
        // A fresh link each time, and the same page behind it.
        let n = seen.path.len();
        Script::json(
            200,
            &format!(
                r#"{{"count": 1, "next": "{base}/kyc/identifications/?page={n}", "previous": null, "results": [{{"scanRef": "same"}}]}}"#
            )
            .replace(&format!("page={n}"), "page=REPEAT"),
        )
    });
    let (_, error) = walk(&client(&server), &ListQuery::new()).await;
    assert!(
        matches!(
            error,
            Some(ListError::RepeatedPage { page: 2 } | ListError::Loop { .. })
        ),
        "{error:?}"
    );
}
