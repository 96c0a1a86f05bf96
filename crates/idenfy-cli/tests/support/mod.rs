//! Shared by the `idenfy` command's end-to-end tests and benchmark: the binary, running it with a
//! time limit, a sandbox with generated fixtures, and direct requests to that sandbox to compare
//! the command's output with.

#![allow(dead_code)]

pub mod crash;
pub mod soak;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use bytes::Bytes;
use idenfy_core::{BaseUrl, Credentials, Endpoint, RequestBuilder, ScanRef};
use idenfy_sandbox::{BUILTIN_FIXTURES_JSON, Sandbox, SandboxBuilder, SandboxHandle};
use serde_json::{Value, json};

/// No run of the command in these tests may take longer than this; it is killed if it does.
pub const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

/// Credentials of the sandboxes the tests start, different from the sandbox's defaults so that
/// the command can only succeed by sending the ones it was given.
pub const TEST_KEY: &str = "e2e-key";
pub const TEST_SECRET: &str = "e2e-secret-4f1d9c";

// ---- The binary. ----

/// The `idenfy` binary cargo built for these tests (`IDENFY_E2E_BIN` names another one).
pub fn idenfy_bin() -> PathBuf {
    std::env::var_os("IDENFY_E2E_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_idenfy")))
}

// ---- Running it. ----

/// `idenfy` with the environment cleared of the variables it reads, so the caller's shell cannot
/// change a test's outcome: the developer's own config file is out of reach too, since `HOME`
/// and `XDG_CONFIG_HOME` name a directory that does not exist.
pub fn idenfy() -> Command {
    let mut command = Command::new(idenfy_bin());
    for variable in [
        "IDENFY_API_KEY",
        "IDENFY_API_SECRET",
        "IDENFY_BASE_URL",
        "IDENFY_PROFILE",
        "IDENFY_CONFIG",
        "IDENFY_CALLBACK_SIGNING_KEY",
        "IDENFY_PROXY",
        "IDENFY_CA_CERT",
        "IDENFY_APPLICATION",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "RUST_LOG",
    ] {
        command.env_remove(variable);
    }
    let no_home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("idenfy-tests-have-no-home");
    command
        .env("HOME", &no_home)
        .env("XDG_CONFIG_HOME", no_home.join(".config"));
    command
}

/// `idenfy` pointed at `sandbox` with its credentials in the environment.
pub fn idenfy_at(sandbox: &TestSandbox) -> Command {
    let mut command = idenfy();
    command
        .env("IDENFY_API_KEY", &sandbox.key)
        .env("IDENFY_API_SECRET", &sandbox.secret)
        .arg("--base-url")
        .arg(sandbox.base_url());
    command
}

/// `idenfy` pointed at a hostile test server, with a five-second attempt timeout: a failure
/// these tests wait for comes in seconds, not the default ten.
pub fn idenfy_against_with_short_timeout(server: &idenfy_hostile::HostileServer) -> Command {
    let mut command = idenfy_against(server);
    command.args(["--timeout", "5"]);
    command
}

/// Gives `path` to another user (uid and gid 65534, `nobody` on Debian), as only root can: the
/// tests that call it are ignored where the build found no root (`cfg(idenfy_tests_as_root)`).
pub fn give_to_another_user(path: &Path) {
    std::os::unix::fs::chown(path, Some(65534), Some(65534))
        .expect("root gives a file to another user");
}

/// The permission bits of the file at `path`.
pub fn file_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata().unwrap().permissions().mode() & 0o777
}

/// `idenfy` pointed at a hostile test server, with the test credentials.
pub fn idenfy_against(server: &idenfy_hostile::HostileServer) -> Command {
    let mut command = idenfy();
    command
        .env("IDENFY_API_KEY", TEST_KEY)
        .env("IDENFY_API_SECRET", TEST_SECRET)
        .arg("--base-url")
        .arg(server.url(""));
    command
}

/// What a finished run left behind.
#[derive(Debug)]
pub struct Output {
    /// The exit code; `None` when a signal ended the process.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Panics, showing both streams, unless the run exited with `code`.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// Runs `command` to completion within [`CHILD_TIMEOUT`].
pub fn run(command: &mut Command) -> Output {
    run_with_timeout(command, CHILD_TIMEOUT)
}

/// Runs `command` to completion; kills it and panics if it takes longer than `timeout`.
pub fn run_with_timeout(command: &mut Command, timeout: Duration) -> Output {
    RunningChild::spawn(command).wait(timeout)
}

/// Runs `command` with `input` on its standard input, to completion within [`CHILD_TIMEOUT`].
pub fn run_with_input(command: &mut Command, input: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {command:?}: {err}"));
    let mut stdin = child.stdin.take().expect("a piped standard input");
    let input = input.to_vec();
    // Written by a thread, so a child that does not read it all cannot block the test.
    let writer = thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(&input);
    });
    let output = RunningChild::new(child).wait(CHILD_TIMEOUT);
    let _ = writer.join();
    output
}

/// A child whose output is being collected (by threads, so a full pipe never blocks it).
pub struct RunningChild {
    child: Child,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

impl RunningChild {
    /// Spawns `command` with piped output and no input.
    pub fn spawn(command: &mut Command) -> Self {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {command:?}: {err}"));
        Self::new(child)
    }

    /// Collects the output of a child spawned elsewhere (its piped streams, if any).
    pub fn from_child(child: Child) -> Self {
        Self::new(child)
    }

    fn new(mut child: Child) -> Self {
        fn drain(stream: Option<impl Read + Send + 'static>) -> Option<JoinHandle<Vec<u8>>> {
            stream.map(|mut stream| {
                thread::spawn(move || {
                    let mut bytes = Vec::new();
                    let _ = stream.read_to_end(&mut bytes);
                    bytes
                })
            })
        }
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        Self {
            child,
            stdout,
            stderr,
        }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Whether it has exited (without collecting it).
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Waits for the exit; kills the child and panics if it takes longer than `timeout`.
    pub fn wait(mut self, timeout: Duration) -> Output {
        let started = Instant::now();
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if started.elapsed() < timeout => {
                    thread::sleep(Duration::from_millis(5));
                }
                Ok(None) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    let output = self.collect(None);
                    panic!(
                        "the command ran longer than {timeout:?} and was killed\n--- stdout ---\n{}\n--- stderr ---\n{}",
                        output.stdout, output.stderr
                    );
                }
                Err(err) => panic!("cannot wait for the command: {err}"),
            }
        };
        self.collect(Some(status))
    }

    fn collect(&mut self, status: Option<ExitStatus>) -> Output {
        let text = |handle: Option<JoinHandle<Vec<u8>>>| {
            let bytes = handle
                .map(|handle| handle.join().unwrap_or_default())
                .unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        };
        Output {
            code: status.and_then(|status| status.code()),
            stdout: text(self.stdout.take()),
            stderr: text(self.stderr.take()),
        }
    }
}

impl Drop for RunningChild {
    // A test that panics midway leaves no process behind.
    fn drop(&mut self) {
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits for `child` to exit (killing it after `timeout`), watching its peak resident memory:
/// the output, the wall time from the call, and the last `VmHWM` read from
/// `/proc/PID/status` in KiB (it only grows, so the last value before the exit is the peak).
pub fn wait_measuring_peak_rss(
    mut child: RunningChild,
    timeout: Duration,
) -> (Output, Duration, u64) {
    let started = Instant::now();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0;
    while !child.has_exited() {
        if let Some(kib) = std::fs::read_to_string(&status_file)
            .ok()
            .as_deref()
            .and_then(high_water_mark_kib)
        {
            peak_kib = kib;
        }
        assert!(started.elapsed() < timeout, "the run took over {timeout:?}");
        thread::sleep(Duration::from_millis(2));
    }
    let elapsed = started.elapsed();
    (child.wait(Duration::from_secs(5)), elapsed, peak_kib)
}

/// `VmHWM:    12345 kB` from `/proc/<pid>/status`.
fn high_water_mark_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Sends SIGINT (what Ctrl-C sends) to `pid` with the system's `kill` command.
pub fn interrupt(pid: u32) {
    let output = run_with_timeout(
        Command::new("kill").arg("-INT").arg(pid.to_string()),
        Duration::from_secs(10),
    );
    assert_eq!(output.code, Some(0), "kill -INT failed: {}", output.stderr);
}

/// Ends process `pid` with SIGKILL: no handler runs, nothing is cleaned up or flushed.
pub fn kill(pid: u32) {
    let output = run_with_timeout(
        Command::new("kill").arg("-KILL").arg(pid.to_string()),
        Duration::from_secs(10),
    );
    assert_eq!(output.code, Some(0), "kill -KILL failed: {}", output.stderr);
}

// ---- Output formats. ----

/// The value of the row `label` in a `table` output (`label`, two or more spaces, the value).
pub fn table_value<'a>(table: &'a str, label: &str) -> Option<&'a str> {
    table.lines().find_map(|line| {
        let rest = line.strip_prefix(label)?;
        rest.starts_with("  ").then(|| rest.trim())
    })
}

/// Parses every line of JSON lines output; panics, naming the line, on one that is not JSON.
pub fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .enumerate()
        .map(|(index, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|err| panic!("line {} is not JSON ({err}): {line:?}", index + 1))
        })
        .collect()
}

/// The numbers of the bulk summary on standard error:
/// `N succeeded, N failed, N retried, of N scanRefs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub succeeded: usize,
    pub failed: usize,
    pub retried: usize,
    pub total: usize,
}

pub fn summary(stderr: &str) -> Summary {
    let line = stderr
        .lines()
        .find(|line| line.contains(" succeeded, ") && line.contains(" scanRefs"))
        .unwrap_or_else(|| panic!("no summary on standard error:\n{stderr}"));
    let number_before = |word: &str| -> usize {
        let end = line
            .find(word)
            .unwrap_or_else(|| panic!("no `{word}` in the summary {line:?}"));
        line[..end]
            .split(|c: char| !c.is_ascii_digit())
            .rfind(|part| !part.is_empty())
            .and_then(|digits| digits.parse().ok())
            .unwrap_or_else(|| panic!("no number before `{word}` in {line:?}"))
    };
    let total = line
        .split("of ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or_else(|| panic!("no total in the summary {line:?}"));
    Summary {
        succeeded: number_before(" succeeded"),
        failed: number_before(" failed"),
        retried: number_before(" retried"),
        total,
    }
}

// ---- Fixtures. ----

/// A built-in fixture (`template`) under another scanRef: its bodies are copied, with their
/// `scanRef` members changed to match.
pub fn fixture_copy(template: &str, scan_ref: &str) -> Value {
    let builtin: Value = serde_json::from_str(BUILTIN_FIXTURES_JSON).expect("built-in fixtures");
    let mut fixture = builtin["fixtures"]
        .as_array()
        .and_then(|list| list.iter().find(|f| f["scanRef"] == template))
        .unwrap_or_else(|| panic!("no built-in fixture {template}"))
        .clone();
    fixture["scanRef"] = json!(scan_ref);
    for body in ["status", "data"] {
        if let Some(object) = fixture.get_mut(body).and_then(Value::as_object_mut) {
            object.insert("scanRef".into(), json!(scan_ref));
        }
    }
    fixture
}

/// Writes `{"fixtures": [...]}` to `path`, the format `--fixtures` and
/// `SandboxBuilder::fixtures_file` read.
pub fn write_fixture_file(path: &Path, fixtures: Vec<Value>) {
    let document = json!({ "fixtures": fixtures });
    std::fs::write(path, serde_json::to_vec_pretty(&document).expect("JSON"))
        .expect("the fixture file can be written");
}

/// Writes one scanRef a line, as `--input` reads.
pub fn write_input(path: &Path, scan_refs: &[String]) {
    let mut text = String::from("# scanRefs to export\n");
    for scan_ref in scan_refs {
        text.push_str(scan_ref);
        text.push('\n');
    }
    std::fs::write(path, text).expect("the input file can be written");
}

// ---- A sandbox of the test's own. ----

/// A sandbox on 127.0.0.1 with its own runtime, so synchronous tests can run child processes
/// while it serves.
pub struct TestSandbox {
    // Declared before the runtime so the server stops before its runtime goes.
    handle: SandboxHandle,
    runtime: tokio::runtime::Runtime,
    pub key: String,
    pub secret: String,
    agent: ureq::Agent,
}

impl TestSandbox {
    /// The built-in fixtures and the test credentials.
    pub fn start() -> Self {
        Self::start_with(Sandbox::builder())
    }

    /// The built-in fixtures plus those in `fixture_file`, with the test credentials.
    pub fn with_fixture_file(fixture_file: &Path) -> Self {
        Self::start_with(Sandbox::builder().fixtures_file(fixture_file))
    }

    /// `builder` with the test credentials and no access log.
    pub fn start_with(builder: SandboxBuilder) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the sandbox");
        let handle = runtime
            .block_on(
                builder
                    .credentials(TEST_KEY, TEST_SECRET)
                    .access_log(false)
                    .start(),
            )
            .expect("the sandbox starts on 127.0.0.1");
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .new_agent();
        Self {
            handle,
            runtime,
            key: TEST_KEY.to_owned(),
            secret: TEST_SECRET.to_owned(),
            agent,
        }
    }

    /// How many injected faults the sandbox has applied.
    pub fn faults_applied(&self) -> u64 {
        self.handle.faults_applied()
    }

    pub fn base_url(&self) -> String {
        self.handle.base_url()
    }

    /// A lookup sent directly (not through the command): the status and the body as served.
    pub fn post(&self, endpoint: Endpoint, scan_ref: &str) -> (u16, Bytes) {
        let base_url = BaseUrl::parse(&self.base_url()).expect("the sandbox's URL");
        let credentials =
            Credentials::new(self.key.as_str(), self.secret.as_str()).expect("test credentials");
        let scan_ref: ScanRef = scan_ref.parse().expect("a valid scanRef");
        let request = RequestBuilder::new(&base_url, &credentials)
            .build(endpoint, &scan_ref)
            .map(|body| body.to_vec());
        self.send(request)
    }

    /// The JSON the sandbox serves for `scan_ref` at `endpoint`.
    pub fn json(&self, endpoint: Endpoint, scan_ref: &str) -> Value {
        let (status, body) = self.post(endpoint, scan_ref);
        assert_eq!(status, 200, "{} of {scan_ref}", endpoint.name());
        serde_json::from_slice(&body).expect("the sandbox serves JSON")
    }

    /// A `GET` of `url` (a download): status, `Content-Length` and the body.
    pub fn get(&self, url: &str) -> (u16, Option<u64>, Bytes) {
        let request = http::Request::get(url)
            .body(Vec::new())
            .expect("a valid URL");
        let (status, headers, body) = self.exchange(request);
        let length = headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse().ok());
        (status, length, body)
    }

    fn send(&self, request: http::Request<Vec<u8>>) -> (u16, Bytes) {
        let (status, _, body) = self.exchange(request);
        (status, body)
    }

    /// Sends `request` and reads the whole answer.
    fn exchange(&self, request: http::Request<Vec<u8>>) -> (u16, http::HeaderMap, Bytes) {
        let response = self.agent.run(request).expect("the sandbox answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        response
            .into_body()
            .into_reader()
            .read_to_end(&mut body)
            .expect("the body arrives");
        (status, headers, Bytes::from(body))
    }

    /// The result callback of `scan_ref` as this sandbox would send it, unsigned.
    pub fn callback_body(&self, scan_ref: &str) -> Bytes {
        self.handle
            .callback_body(scan_ref)
            .expect("a fixture of the sandbox")
    }

    /// Runs `future` on the sandbox's runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

/// The `/files` table with each URL's query (its expiry and signature, which change with every
/// request) removed, so two tables of the same identification compare equal.
pub fn without_signatures(files: &Value) -> Value {
    let mut files = files.clone();
    if let Some(object) = files.as_object_mut() {
        for value in object.values_mut() {
            if let Some(url) = value.as_str() {
                *value = json!(url.split('?').next().unwrap_or(url));
            }
        }
    }
    files
}

/// The input sizes a benchmark runs: `IDENFY_BENCH_SIZES` (comma-separated), or `default`.
pub fn bench_sizes(default: &[usize]) -> Vec<usize> {
    std::env::var("IDENFY_BENCH_SIZES")
        .ok()
        .map(|text| {
            text.split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect()
        })
        .unwrap_or_else(|| default.to_vec())
}
