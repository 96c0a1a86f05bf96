//! How the command reaches the API: the flags every command shares, and the client built from
//! them and the environment, or pointed at the embedded sandbox.

use std::time::Duration;

use clap::Args;
use idenfy_hyper::{
    ApplicationName, BaseUrl, BuildError, Client, Credentials, Proxy, RetryPolicy, RootCertificates,
};
#[cfg(feature = "sandbox")]
use idenfy_sandbox::{DEFAULT_API_KEY, DEFAULT_API_SECRET, Sandbox, SandboxHandle};

use crate::failure::Failure;

/// Where the API is and how to talk to it.
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// The profile of the config file (`$IDENFY_CONFIG`, else
    /// `$XDG_CONFIG_HOME/idenfy/config.toml`, else `~/.config/idenfy/config.toml`) that supplies
    /// whatever of the base URL, API key and API secret the flags and the environment do not.
    #[arg(long, value_name = "NAME", env = "IDENFY_PROFILE", global = true)]
    pub profile: Option<String>,

    /// API key (the Basic auth user).
    #[arg(long, env = "IDENFY_API_KEY", global = true)]
    pub api_key: Option<String>,

    /// API secret (the Basic auth password). Prefer the environment variable: a secret on the
    /// command line ends up in the shell's history and the process list.
    #[arg(long, env = "IDENFY_API_SECRET", hide_env_values = true, global = true)]
    pub api_secret: Option<String>,

    /// Base URL of the API.
    #[arg(long, env = "IDENFY_BASE_URL", global = true)]
    pub base_url: Option<String>,

    /// Seconds one attempt may take before it is abandoned (and retried); with `files --download`,
    /// also the longest wait for a file's first byte and between two pieces of it.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = parse_seconds, global = true)]
    pub timeout: Duration,

    /// Seconds one lookup may take in all, retries included; with `files --download`, the whole
    /// command: the lookup and every file.
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = parse_seconds, global = true)]
    pub deadline: Duration,

    /// How many times a failed attempt (429, 500, 502, 503, 504, timeout, connection failure) is
    /// retried. A deletion is retried only where it cannot have reached the API: a connection
    /// that could not be made, 429, and 503 with `Retry-After`.
    #[arg(long, default_value_t = 4, global = true)]
    pub retries: u32,

    /// The HTTP proxy to reach the API and the file servers through, `http://[user:password@]host:port`,
    /// instead of the one `HTTPS_PROXY`, `HTTP_PROXY` or `ALL_PROXY` names; `none` connects
    /// directly whatever they say. `NO_PROXY` still exempts the hosts it lists. The URL's
    /// password is sent to the proxy only, and never shown.
    #[arg(
        long,
        value_name = "URL",
        env = "IDENFY_PROXY",
        hide_env_values = true,
        global = true
    )]
    pub proxy: Option<String>,

    /// A PEM file of root certificates (one or more) to trust beside the TLS backend's own: the
    /// company's CA, when a proxy inspects TLS, or a private server's.
    #[arg(long, value_name = "FILE", env = "IDENFY_CA_CERT", global = true)]
    pub ca_cert: Option<std::path::PathBuf>,

    /// The name (and version) of the application running the command, added to the
    /// User-Agent after `idenfy-rs/VERSION`, e.g. `acme-kyc-export/2.1`.
    #[arg(long, value_name = "NAME", env = "IDENFY_APPLICATION", global = true)]
    pub application: Option<String>,

    /// Show each attempt (its status and time) and each retry (its wait) on standard error:
    /// `-v` lookups, `-vv` attempts and retries, `-vvv` everything the client logs. `RUST_LOG`
    /// (`target=level,...`) chooses more finely, and replaces `-v`. Never the secret, a
    /// header, a proxy's credentials or personal data.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Start the embedded sandbox on a loopback port and run against it: no credentials and no
    /// network needed. Its scanRefs include `sandbox-approved`, `sandbox-denied-face`,
    /// `sandbox-suspected`; `idenfy-sandbox --help` lists them all.
    #[cfg(feature = "sandbox")]
    #[arg(long, global = true)]
    pub sandbox: bool,

    /// The profile's `signing_key` (the webhook's, for `callback`), filled in by the profile.
    #[arg(skip)]
    pub profile_signing_key: Option<String>,
}

/// A ready client, and the sandbox it talks to when `--sandbox` was given (kept alive as long as
/// the client is used; dropping it stops the server).
pub struct Connection {
    pub client: Client,
    #[cfg(feature = "sandbox")]
    _sandbox: Option<SandboxHandle>,
}

/// Builds the client the flags describe, starting the sandbox first if asked to.
pub async fn connect(args: &ConnectionArgs) -> Result<Connection, Failure> {
    #[cfg(feature = "sandbox")]
    if args.sandbox {
        let (credentials, base_url, sandbox) = start_sandbox(args).await?;
        return Ok(Connection {
            client: build_client(args, credentials, base_url)?,
            _sandbox: Some(sandbox),
        });
    }
    let (Some(key), Some(secret)) = (&args.api_key, &args.api_secret) else {
        return Err(Failure::bad_input(NO_CREDENTIALS));
    };
    let base_url = match &args.base_url {
        Some(url) => url
            .parse()
            .map_err(|err| Failure::bad_input(format!("--base-url: {err}")))?,
        None => BaseUrl::default(),
    };
    let credentials = credentials(key.clone(), secret.clone())?;
    Ok(Connection {
        client: build_client(args, credentials, base_url)?,
        #[cfg(feature = "sandbox")]
        _sandbox: None,
    })
}

#[cfg(feature = "sandbox")]
const NO_CREDENTIALS: &str = "no credentials: set IDENFY_API_KEY and IDENFY_API_SECRET (or pass --api-key and --api-secret), or use --sandbox";
#[cfg(not(feature = "sandbox"))]
const NO_CREDENTIALS: &str =
    "no credentials: set IDENFY_API_KEY and IDENFY_API_SECRET (or pass --api-key and --api-secret)";

/// Starts the embedded sandbox on a loopback port, with the sandbox's own credentials unless
/// others were given.
#[cfg(feature = "sandbox")]
async fn start_sandbox(
    args: &ConnectionArgs,
) -> Result<(Credentials, BaseUrl, SandboxHandle), Failure> {
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
    let base_url: BaseUrl = sandbox
        .base_url()
        .parse()
        .map_err(|err| Failure::other(format!("the sandbox's address is not a base URL: {err}")))?;
    Ok((credentials(key, secret)?, base_url, sandbox))
}

/// The client with the flags' timeouts and retries.
fn build_client(
    args: &ConnectionArgs,
    credentials: Credentials,
    base_url: BaseUrl,
) -> Result<Client, Failure> {
    let retry_policy = RetryPolicy::default().with_max_attempts(args.retries.saturating_add(1));
    let mut builder = Client::builder(credentials)
        .base_url(base_url)
        .attempt_timeout(args.timeout)
        .deadline(args.deadline)
        .connect_timeout(args.timeout)
        .retry_policy(retry_policy)
        .proxy(proxy(args.proxy.as_deref())?);
    if let Some(path) = &args.ca_cert {
        builder = builder.add_root_certificates(root_certificates(path)?);
    }
    if let Some(application) = &args.application {
        let application = application
            .parse::<ApplicationName>()
            .map_err(|err| Failure::bad_input(format!("--application: {err}")))?;
        builder = builder.application(application);
    }
    builder.build().map_err(|err| match err {
        // The proxy variables are the user's to fix, like a flag.
        BuildError::Proxy { .. } | BuildError::RootCertificates { .. } => {
            Failure::bad_input(err.to_string())
        }
        _ => Failure::other(format!("the HTTP client could not be built: {err}")),
    })
}

/// `--proxy`: a URL, `none`, or (not given) the proxy variables.
fn proxy(given: Option<&str>) -> Result<Proxy, Failure> {
    match given.map(str::trim) {
        None | Some("") => Ok(Proxy::from_env()),
        Some(none) if none.eq_ignore_ascii_case("none") => Ok(Proxy::none()),
        Some(url) => Proxy::url(url).map_err(|err| {
            Failure::bad_input(format!(
                "--proxy (or IDENFY_PROXY, or the profile's proxy): {err}"
            ))
        }),
    }
}

/// The largest `--ca-cert` file read: a system bundle is a few hundred KiB.
const MAX_CA_CERT_BYTES: u64 = 4 * 1024 * 1024;

/// `--ca-cert FILE`, read and parsed.
fn root_certificates(path: &std::path::Path) -> Result<RootCertificates, Failure> {
    use std::io::Read as _;
    let shown = path.display();
    let refuse = |why: String| Failure::bad_input(format!("--ca-cert '{shown}': {why}"));
    let file = std::fs::File::open(path).map_err(|err| refuse(err.to_string()))?;
    let mut pem = Vec::new();
    file.take(MAX_CA_CERT_BYTES + 1)
        .read_to_end(&mut pem)
        .map_err(|err| refuse(err.to_string()))?;
    if pem.len() as u64 > MAX_CA_CERT_BYTES {
        return Err(refuse("the file is over 4 MiB".to_owned()));
    }
    RootCertificates::from_pem(&pem).map_err(|err| refuse(err.to_string()))
}

fn credentials(key: String, secret: String) -> Result<Credentials, Failure> {
    Credentials::new(key, secret).map_err(|err| Failure::bad_input(format!("credentials: {err}")))
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !(seconds > 0.0 && seconds <= 3600.0) {
        return Err(format!("{text} is outside 0 to 3600 seconds"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_must_be_positive_and_bounded() {
        assert_eq!(parse_seconds("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("-3").is_err());
        assert!(parse_seconds("soon").is_err());
    }
}
