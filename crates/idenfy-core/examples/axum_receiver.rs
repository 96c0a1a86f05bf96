//! A webhook endpoint for iDenfy's result callbacks, with axum.
//!
//! It checks each callback's `Idenfy-Signature` against the raw body before reading anything in
//! it, answers 401 to a callback that fails (the handler never sees it), and hands a verified
//! callback to a queue and answers 200 at once: the slow work (storing, downloading files)
//! happens off the request.
//!
//! ```sh
//! IDENFY_API_SECRET=sandbox-secret cargo run -p idenfy-core --example axum_receiver -- 127.0.0.1:3000
//! # then, from another shell: idenfy --sandbox callback send sandbox-approved --to http://127.0.0.1:3000/idenfy/callback
//! ```

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use idenfy_core::callback::{
    CallbackSecret, CallbackVerifier, DEFAULT_MAX_CALLBACK_BYTES, SIGNATURE_HEADER,
};
use idenfy_core::models::ResultCallback;
use tokio::sync::mpsc;

/// The path the endpoint listens on.
pub const CALLBACK_PATH: &str = "/idenfy/callback";

struct Receiver {
    verifier: CallbackVerifier,
    queue: mpsc::Sender<ResultCallback>,
}

/// The receiver's routes: verified callbacks go to `queue`.
pub fn router(secret: CallbackSecret, queue: mpsc::Sender<ResultCallback>) -> Router {
    let receiver = Arc::new(Receiver {
        verifier: CallbackVerifier::new(secret).max_body_bytes(DEFAULT_MAX_CALLBACK_BYTES),
        queue,
    });
    Router::new()
        .route(CALLBACK_PATH, post(receive))
        // axum refuses larger bodies (413) before the handler runs.
        .layer(DefaultBodyLimit::max(DEFAULT_MAX_CALLBACK_BYTES))
        .with_state(receiver)
}

async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let mut signatures = headers.get_all(SIGNATURE_HEADER).iter();
    let signature = signatures.next();
    if signatures.next().is_some() {
        return StatusCode::UNAUTHORIZED;
    }
    let callback = match receiver.verifier.verify_and_parse(signature, &body) {
        Ok(callback) => callback,
        // The error says which check failed and holds nothing from the body: safe to log.
        Err(error) => {
            eprintln!("refused a callback: {error}");
            return StatusCode::UNAUTHORIZED;
        }
    };
    // Deliveries can repeat (there is no timestamp to tell a replay): the consumer deduplicates
    // on scanRef and `final`. A full queue answers 503, so that iDenfy delivers again later.
    match receiver.queue.try_send(callback) {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    let secret = CallbackSecret::new(std::env::var("IDENFY_API_SECRET")?)?;
    let (queue, mut callbacks) = mpsc::channel::<ResultCallback>(1024);
    tokio::spawn(async move {
        while let Some(callback) = callbacks.recv().await {
            let overall = callback.status.as_ref().and_then(|s| s.overall.as_ref());
            println!(
                "callback for {:?}: overall {:?}, final {:?}",
                callback.scan_ref.as_deref().unwrap_or("?"),
                overall.map(|o| o.as_str()),
                callback.final_
            );
        }
    });
    let listener = tokio::net::TcpListener::bind(&address).await?;
    eprintln!("listening on http://{address}{CALLBACK_PATH}");
    axum::serve(listener, router(secret, queue)).await?;
    Ok(())
}
