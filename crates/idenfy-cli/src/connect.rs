//! The client the command uses: from the flags and the environment, or pointed at the embedded
//! sandbox.

use idenfy_hyper::{BaseUrl, Client, Credentials, RetryPolicy};
use idenfy_sandbox::{DEFAULT_API_KEY, DEFAULT_API_SECRET, Sandbox, SandboxHandle};

use crate::args::ConnectionArgs;
use crate::failure::Failure;

/// A ready client, and the sandbox it talks to when `--sandbox` was given (kept alive as long as
/// the client is used; dropping it stops the server).
pub struct Connection {
    pub client: Client,
    pub _sandbox: Option<SandboxHandle>,
}

/// Builds the client the flags describe, starting the sandbox first if asked to.
pub async fn connect(args: &ConnectionArgs) -> Result<Connection, Failure> {
    let (credentials, base_url, sandbox) = if args.sandbox {
        let key = args
            .api_key
            .clone()
            .unwrap_or_else(|| DEFAULT_API_KEY.to_owned());
        let secret = args
            .api_secret
            .clone()
            .unwrap_or_else(|| DEFAULT_API_SECRET.to_owned());
        let sandbox = Sandbox::builder()
            .credentials(key.clone(), secret.clone())
            .access_log(false)
            .start()
            .await
            .map_err(|err| Failure::other(format!("the embedded sandbox did not start: {err}")))?;
        let base_url: BaseUrl = sandbox.base_url().parse().map_err(|err| {
            Failure::other(format!("the sandbox's address is not a base URL: {err}"))
        })?;
        (credentials(key, secret)?, base_url, Some(sandbox))
    } else {
        let (Some(key), Some(secret)) = (&args.api_key, &args.api_secret) else {
            return Err(Failure::bad_input(
                "no credentials: set IDENFY_API_KEY and IDENFY_API_SECRET (or pass --api-key and --api-secret), or use --sandbox",
            ));
        };
        let base_url = match &args.base_url {
            Some(url) => url
                .parse()
                .map_err(|err| Failure::bad_input(format!("--base-url: {err}")))?,
            None => BaseUrl::default(),
        };
        (credentials(key.clone(), secret.clone())?, base_url, None)
    };
    let retry_policy = RetryPolicy::default().with_max_attempts(args.retries.saturating_add(1));
    let client = Client::builder(credentials)
        .base_url(base_url)
        .attempt_timeout(args.timeout)
        .deadline(args.deadline)
        .connect_timeout(args.timeout)
        .retry_policy(retry_policy)
        .build()
        .map_err(|err| Failure::other(format!("the HTTP client could not be built: {err}")))?;
    Ok(Connection {
        client,
        _sandbox: sandbox,
    })
}

fn credentials(key: String, secret: String) -> Result<Credentials, Failure> {
    Credentials::new(key, secret).map_err(|err| Failure::bad_input(format!("credentials: {err}")))
}
