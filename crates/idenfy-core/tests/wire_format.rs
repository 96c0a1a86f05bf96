//! The exact request each endpoint sends, as snapshots (Authorization redacted).

use idenfy_core::{BaseUrl, Credentials, Endpoint, RequestBuilder, ScanRef};

fn render(request: &http::Request<bytes::Bytes>) -> String {
    let mut text = format!("{} {}\n", request.method(), request.uri());
    let mut headers: Vec<_> = request.headers().iter().collect();
    headers.sort_by_key(|(name, _)| name.as_str());
    for (name, value) in headers {
        let value = if name == http::header::AUTHORIZATION {
            "[redacted]"
        } else {
            value.to_str().unwrap()
        };
        text.push_str(&format!("{name}: {value}\n"));
    }
    text.push('\n');
    text.push_str(std::str::from_utf8(request.body()).unwrap());
    text
}

#[test]
fn each_endpoint_builds_the_documented_request() {
    let credentials = Credentials::new("api-key", "api-secret").unwrap();
    let builder = RequestBuilder::new(&BaseUrl::default(), &credentials);
    let scan_ref: ScanRef = "5f3c2a1e-9b7d-11ea-bb37-0242ac130002".parse().unwrap();
    for endpoint in Endpoint::ALL {
        let request = builder.build(endpoint, &scan_ref);
        // The redacted header is checked here instead: Basic base64("api-key:api-secret").
        assert_eq!(
            request.headers()[http::header::AUTHORIZATION],
            "Basic YXBpLWtleTphcGktc2VjcmV0"
        );
        let version = env!("CARGO_PKG_VERSION");
        let rendered = render(&request).replace(version, "[version]");
        insta::assert_snapshot!(endpoint.name(), rendered);
    }
}
