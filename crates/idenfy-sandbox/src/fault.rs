//! Fault injection: a spec such as `status=503;times=2` makes the sandbox
//! misbehave in one precise, repeatable way.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::StatusCode;

/// Longest spec accepted; keeps the per-spec counters small.
const MAX_SPEC_LEN: usize = 256;
/// Longest delay accepted, so a typo cannot park a connection for hours.
const MAX_DELAY_MS: u64 = 600_000;
/// Statuses a fault may answer with.
const FAULT_STATUSES: [u16; 5] = [429, 500, 502, 503, 504];

/// What the response does wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehaviour {
    /// Answer with this status (and the body a server or proxy sends with it).
    Status(StatusCode),
    /// Send the head with the full `Content-Length`, part of the body, then close.
    CloseMidBody,
    /// A complete HTTP message whose JSON body is cut in half.
    TruncatedJson,
    /// A body that never ends.
    EndlessBody,
    /// The normal body labelled `text/html`.
    WrongContentType,
}

/// A parsed fault spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultSpec {
    /// The spec normalised (parts trimmed), used to key the `times` counter.
    normalised: String,
    /// What goes wrong, if anything beyond a delay.
    pub misbehaviour: Option<Misbehaviour>,
    /// `Retry-After` seconds for 429 and 503.
    pub retry_after: Option<u64>,
    /// Wait before answering.
    pub delay: Option<Duration>,
    /// Only the first N matching requests get the fault.
    pub times: Option<u64>,
}

/// Why a spec was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid fault spec: {0}")]
pub struct InvalidFault(pub String);

impl FaultSpec {
    /// Parses `key=value;flag;...`.
    pub fn parse(spec: &str) -> Result<Self, InvalidFault> {
        if spec.len() > MAX_SPEC_LEN {
            return Err(InvalidFault(format!(
                "longer than {MAX_SPEC_LEN} characters"
            )));
        }
        let parts: Vec<&str> = spec
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            return Err(InvalidFault("empty".into()));
        }
        let mut fault = FaultSpec {
            normalised: parts.join(";"),
            misbehaviour: None,
            retry_after: None,
            delay: None,
            times: None,
        };
        for part in parts {
            let (key, value) = match part.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (part, None),
            };
            let misbehaviour = match (key, value) {
                ("status", Some(v)) => {
                    let code = v.parse::<u16>().ok().filter(|c| FAULT_STATUSES.contains(c));
                    let code = code.and_then(|c| StatusCode::from_u16(c).ok());
                    Misbehaviour::Status(code.ok_or_else(|| {
                        InvalidFault(format!(
                            "status must be one of {FAULT_STATUSES:?}, got '{v}'"
                        ))
                    })?)
                }
                ("close-mid-body", None) => Misbehaviour::CloseMidBody,
                ("truncated-json", None) => Misbehaviour::TruncatedJson,
                ("endless-body", None) => Misbehaviour::EndlessBody,
                ("wrong-content-type", None) => Misbehaviour::WrongContentType,
                ("retry-after", Some(v)) => {
                    fault.retry_after = Some(number(key, v)?);
                    continue;
                }
                ("delay-ms", Some(v)) => {
                    let ms = Some(number(key, v)?).filter(|ms| *ms <= MAX_DELAY_MS);
                    let ms = ms.ok_or_else(|| {
                        InvalidFault(format!("delay-ms must be at most {MAX_DELAY_MS}"))
                    })?;
                    fault.delay = Some(Duration::from_millis(ms));
                    continue;
                }
                ("times", Some(v)) => {
                    fault.times = Some(number(key, v)?);
                    continue;
                }
                _ => return Err(InvalidFault(format!("unknown part '{part}'"))),
            };
            if fault.misbehaviour.replace(misbehaviour).is_some() {
                return Err(InvalidFault(
                    "more than one of status, close-mid-body, truncated-json, endless-body, wrong-content-type"
                        .into(),
                ));
            }
        }
        let throttled = matches!(
            fault.misbehaviour,
            Some(Misbehaviour::Status(
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            ))
        );
        if fault.retry_after.is_some() && !throttled {
            return Err(InvalidFault(
                "retry-after needs status=429 or status=503".into(),
            ));
        }
        Ok(fault)
    }

    /// The `Retry-After` value to send, if any: 429 always carries one.
    pub fn retry_after_header(&self) -> Option<u64> {
        match self.misbehaviour {
            Some(Misbehaviour::Status(StatusCode::TOO_MANY_REQUESTS)) => {
                Some(self.retry_after.unwrap_or(1))
            }
            _ => self.retry_after,
        }
    }
}

fn number(key: &str, value: &str) -> Result<u64, InvalidFault> {
    value
        .parse()
        .map_err(|_| InvalidFault(format!("{key} must be a whole number, got '{value}'")))
}

/// Counts requests per (spec, scanRef) for `times=N`, and the faults applied in all, so that
/// a test can prove the fault it asked for fired.
#[derive(Debug, Default)]
pub struct FaultCounters {
    seen: Mutex<HashMap<(String, String), u64>>,
    applied: AtomicU64,
}

impl FaultCounters {
    /// Records one request and says whether the fault applies to it.
    pub fn applies(&self, fault: &FaultSpec, scan_ref: &str) -> bool {
        let due = fault.times.is_none_or(|limit| {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            let key = (fault.normalised.clone(), scan_ref.to_owned());
            let count = seen.entry(key).or_insert(0);
            *count = count.saturating_add(1);
            *count <= limit
        });
        if due {
            self.applied.fetch_add(1, Ordering::Relaxed);
        }
        due
    }

    /// How many faults were applied so far.
    pub fn applied(&self) -> u64 {
        self.applied.load(Ordering::Relaxed)
    }
}
