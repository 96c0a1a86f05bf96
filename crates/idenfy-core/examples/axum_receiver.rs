//! A webhook endpoint for iDenfy's result callbacks, with axum.
//!
//! It checks each callback's `Idenfy-Signature` against the raw body before reading anything in
//! it, answers 401 to a callback that fails (the handler never sees it), and hands a verified
//! callback, with its event type, to a queue and answers 200 at once: the slow work (storing,
//! downloading files) happens off the request.
//!
//! The key is the webhook's signing key, set in the vendor's dashboard
//! (`IDENFY_CALLBACK_SIGNING_KEY`); an older account, whose callbacks are signed with the API
//! secret, sets `IDENFY_API_SECRET` instead. During a rotation, `IDENFY_CALLBACK_SIGNING_KEY_OLD`
//! holds the key being retired: both verify.
//!
//! ```sh
//! IDENFY_CALLBACK_SIGNING_KEY=my-signing-key cargo run -p idenfy-core --example axum_receiver -- 127.0.0.1:3000
//! # then, from another shell:
//! # idenfy --sandbox callback send sandbox-approved --signing-key my-signing-key --sequence --to http://127.0.0.1:3000/idenfy/callback
//! ```

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use idenfy_core::callback::{
    CallbackVerifier, DEFAULT_MAX_CALLBACK_BYTES, SigningKey, VerifiedCallback,
};
use tokio::sync::mpsc;

/// The path the endpoint listens on.
pub const CALLBACK_PATH: &str = "/idenfy/callback";

struct Receiver {
    verifier: CallbackVerifier,
    queue: mpsc::Sender<VerifiedCallback>,
}

/// The receiver's routes: callbacks signed with one of `keys` go to `queue`.
///
/// # Panics
/// When `keys` is empty: a receiver with no key would refuse everything.
pub fn router(keys: Vec<SigningKey>, queue: mpsc::Sender<VerifiedCallback>) -> Router {
    let mut keys = keys.into_iter();
    let first = keys.next().expect("at least one signing key");
    let verifier = keys
        .fold(CallbackVerifier::new(first), CallbackVerifier::with_key)
        .max_body_bytes(DEFAULT_MAX_CALLBACK_BYTES);
    let receiver = Arc::new(Receiver { verifier, queue });
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
    let verified = match receiver.verifier.verify_parts(&headers, &body) {
        Ok(verified) => verified,
        // The error says which check failed and holds nothing from the body: safe to log.
        Err(error) => {
            eprintln!("refused a callback: {error}");
            return StatusCode::UNAUTHORIZED;
        }
    };
    // Deliveries can repeat (there is no timestamp to tell a replay): the consumer deduplicates
    // on scanRef and `final`. A full queue answers 503, so that iDenfy delivers again later.
    match receiver.queue.try_send(verified) {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// The keys from the environment: the signing key (and the one being retired), or for an older
/// account the API secret.
fn keys_from_env() -> Result<Vec<SigningKey>, Box<dyn std::error::Error>> {
    let mut keys = Vec::new();
    for name in [
        "IDENFY_CALLBACK_SIGNING_KEY",
        "IDENFY_CALLBACK_SIGNING_KEY_OLD",
    ] {
        if let Ok(key) = std::env::var(name) {
            keys.push(SigningKey::new(key)?);
        }
    }
    if keys.is_empty() {
        keys.push(SigningKey::new(std::env::var("IDENFY_API_SECRET")?)?);
    }
    Ok(keys)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    let keys = keys_from_env()?;
    let (queue, mut callbacks) = mpsc::channel::<VerifiedCallback>(1024);
    tokio::spawn(async move {
        while let Some(verified) = callbacks.recv().await {
            let callback = &verified.callback;
            let overall = callback.status.as_ref().and_then(|s| s.overall.as_ref());
            println!(
                "{} for {:?}: overall {:?}, final {:?} (key {})",
                verified
                    .event_type
                    .as_ref()
                    .map_or("callback", |event| event.as_str()),
                callback.scan_ref.as_deref().unwrap_or("?"),
                overall.map(|o| o.as_str()),
                callback.final_,
                verified.key.index
            );
        }
    });
    let listener = tokio::net::TcpListener::bind(&address).await?;
    eprintln!("listening on http://{address}{CALLBACK_PATH}");
    axum::serve(listener, router(keys, queue)).await?;
    Ok(())
}
