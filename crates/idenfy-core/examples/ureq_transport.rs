//! Plugging a second HTTP stack, ureq (blocking), behind `Transport`.
//!
//! Run against a local server, for example the sandbox:
//! `IDENFY_API_KEY=sandbox-key IDENFY_API_SECRET=sandbox-secret
//!  IDENFY_BASE_URL=http://127.0.0.1:8080 cargo run -p idenfy-core --example ureq_transport -- sandbox-approved`

use std::io::Read as _;

use bytes::Bytes;
use http::{Request, Response};
use idenfy_core::{BaseUrl, Client, Credentials, ResponseBodyLimit, Transport};

/// ureq behind the trait: the whole integration. (The end-to-end tests run this very code
/// against the sandbox, next to the hyper transport.)
#[derive(Clone)]
pub struct UreqTransport(ureq::Agent);

impl Default for UreqTransport {
    /// An agent that returns 4xx and 5xx responses instead of failing on them: the client
    /// reads the API's errors itself.
    fn default() -> Self {
        let config = ureq::Agent::config_builder().http_status_as_error(false);
        Self(config.build().new_agent())
    }
}

impl Transport for UreqTransport {
    type Error = ureq::Error;

    async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, ureq::Error> {
        let agent = self.0.clone();
        let limit = ResponseBodyLimit::of(&request) as u64;
        // ureq blocks, so it runs on tokio's blocking pool; the client's
        // timeouts then still apply to the awaiting side.
        let blocking = move || {
            let response = agent.run(request.map(|body| body.to_vec()))?;
            let (parts, body) = response.into_parts();
            let mut bytes = Vec::new();
            // Read one byte past the limit, so the client can tell "too large".
            body.into_reader().take(limit + 1).read_to_end(&mut bytes)?;
            Ok(Response::from_parts(parts, Bytes::from(bytes)))
        };
        tokio::task::spawn_blocking(blocking)
            .await
            .map_err(|join| ureq::Error::Io(std::io::Error::other(join)))?
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let credentials = Credentials::new(
        std::env::var("IDENFY_API_KEY")?,
        std::env::var("IDENFY_API_SECRET")?,
    )?;
    let base_url: BaseUrl = std::env::var("IDENFY_BASE_URL")
        .map_or_else(|_| Ok(BaseUrl::default()), |url| url.parse())?;
    let scan_ref = std::env::args()
        .nth(1)
        .ok_or("usage: ureq_transport <scanRef>")?;

    let client = Client::builder(credentials)
        .base_url(base_url)
        .build(UreqTransport::default(), |duration| {
            tokio::time::sleep(duration)
        });
    let full = client.full_status(&scan_ref.parse()?).await?;
    println!(
        "face match: {:?}, document: {:?}",
        full.face_match_result, full.document_validity
    );
    Ok(())
}
