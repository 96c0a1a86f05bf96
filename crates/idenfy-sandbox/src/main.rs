//! `idenfy-sandbox`: run the sandbox server from the command line.

#![forbid(unsafe_code)]

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use idenfy_sandbox::{
    CallbackFault, DEFAULT_API_KEY, DEFAULT_API_SECRET, DeliveryOptions, Fixtures, Sandbox,
};

/// A local server that speaks the iDenfy identification data retrieval API.
#[derive(Debug, Parser)]
#[command(name = "idenfy-sandbox", version)]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on. Beyond loopback, set your own --api-key and --api-secret: the
    /// defaults are public.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// The base URL clients reach the sandbox at, used in `/files` download URLs (for example
    /// `http://sandbox.internal:8080` when listening on 0.0.0.0). By default: the listening
    /// address, with 127.0.0.1 standing for 0.0.0.0.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// A fixture file to serve in addition to (and over) the built-in fixtures.
    #[arg(long, value_name = "FILE")]
    fixtures: Vec<PathBuf>,
    /// Serve only the fixtures from --fixtures files.
    #[arg(long)]
    no_builtin: bool,
    /// API key clients must send.
    #[arg(long, env = "IDENFY_SANDBOX_API_KEY", default_value = DEFAULT_API_KEY)]
    api_key: String,
    /// API secret clients must send.
    #[arg(long, env = "IDENFY_SANDBOX_API_SECRET", default_value = DEFAULT_API_SECRET, hide_default_value = false, hide_env_values = true)]
    api_secret: String,
    /// Print the built-in fixture file (a template for your own) and exit.
    #[arg(long)]
    print_builtin_fixtures: bool,
    /// Do not write an access log to stderr.
    #[arg(long)]
    quiet: bool,
    /// Once listening, POST this fixture's result callback, signed with the API secret, to
    /// --callback-to, print what the receiver answered, and go on serving (so that the
    /// callback's file URLs download).
    #[arg(long, value_name = "SCAN_REF", requires = "callback_to")]
    send_callback: Option<String>,
    /// Where --send-callback delivers: a plain-HTTP URL on this machine.
    #[arg(long, value_name = "URL", requires = "send_callback")]
    callback_to: Option<String>,
    /// Deliver with a fault: bad-signature, missing-signature or duplicate.
    #[arg(long, value_name = "FAULT", requires = "send_callback")]
    callback_fault: Option<CallbackFault>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if args.print_builtin_fixtures {
        print!("{}", idenfy_sandbox::BUILTIN_FIXTURES_JSON);
        return ExitCode::SUCCESS;
    }
    let mut builder = Sandbox::builder()
        .credentials(args.api_key, args.api_secret)
        .host(args.host)
        .port(args.port)
        .access_log(!args.quiet);
    if let Some(url) = args.public_url {
        builder = builder.public_url(url);
    }
    if builder.is_exposed_with_default_credentials() {
        eprintln!(
            "idenfy-sandbox: warning: listening on {} with the default credentials, which are public; \
             set --api-key and --api-secret (or IDENFY_SANDBOX_API_KEY, IDENFY_SANDBOX_API_SECRET)",
            args.host
        );
    }
    // Load here rather than in start() so the error names the file.
    let mut all = if args.no_builtin {
        Fixtures::empty()
    } else {
        Fixtures::builtin()
    };
    for path in &args.fixtures {
        match Fixtures::from_path(path) {
            Ok(fixtures) => all.merge(fixtures),
            Err(error) => {
                eprintln!("idenfy-sandbox: {}: {error}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }
    // A generated fixture file can hold thousands: name a few and count the rest.
    const SHOWN: usize = 20;
    let shown: Vec<&str> = all.scan_refs().take(SHOWN).collect();
    let more = match all.len().saturating_sub(SHOWN) {
        0 => String::new(),
        more => format!(" and {more} more"),
    };
    let scan_refs = format!("{}{more}", shown.join(", "));
    let handle = match builder
        .without_builtin_fixtures()
        .fixtures(all)
        .start()
        .await
    {
        Ok(handle) => handle,
        Err(error) => {
            eprintln!("idenfy-sandbox: {error}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("idenfy-sandbox: listening on {}", handle.base_url());
    eprintln!("idenfy-sandbox: scanRefs: {scan_refs}");
    if let (Some(scan_ref), Some(url)) = (&args.send_callback, &args.callback_to) {
        let mut options = DeliveryOptions::new();
        if let Some(fault) = args.callback_fault {
            options = options.fault(fault);
        }
        match handle.deliver_callback(scan_ref, url, &options).await {
            Ok(delivery) => {
                for answer in &delivery.answers {
                    eprintln!(
                        "idenfy-sandbox: callback {} -> {}: receiver answered {}",
                        scan_ref.escape_debug(),
                        url.escape_debug(),
                        answer.status
                    );
                }
            }
            Err(error) => {
                eprintln!("idenfy-sandbox: callback not delivered: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("idenfy-sandbox: cannot wait for Ctrl-C: {error}");
        return ExitCode::FAILURE;
    }
    eprintln!("idenfy-sandbox: stopping");
    drop(handle);
    ExitCode::SUCCESS
}
