//! `idenfy delete`: deleting identifications' personal data at iDenfy, confirmed, recorded,
//! and never twice.
//!
//! The list is read whole and checked first; scanRefs the audit file records as deleted are
//! left out. A person confirms on a terminal, or `--yes` stands for them; without either
//! nothing is sent. Deletions go `--concurrency` at a time (one by default), `--rate` spacing
//! their starts: an `attempt` record is flushed to disk before each request is sent, and its
//! outcome once the answer is in (see [`crate::audit`]). Every record is appended by this
//! run's one loop, so appends never interleave, and an attempt is on disk before its task
//! exists. With `--archived DIR` the list is the archive's ([`crate::archived`]), each record
//! carries the digest of the bundle's manifest, and each deletion is followed by a `/status`
//! lookup whose answer the outcome record keeps. A scanRef whose last record says the outcome is unknown (or is an attempt
//! that never got its outcome: the run was killed) is sent again with the rule that a 404
//! confirms the earlier deletion ([`idenfy_hyper::Client::delete_after_unknown`]).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use idenfy_hyper::core::{DeletionConfirmation, Endpoint, Error, EscapedControls};
use idenfy_hyper::{Client, ScanRef};
use tokio::task::JoinSet;

use crate::audit::{AuditFile, Earlier, Outcome, Record};
use crate::confirm::{Confirmation, ask};
use crate::connect::ConnectionArgs;
use crate::connect::connect;
use crate::failure::{Failure, FailureKind, shown};
use crate::input::read_list;
use crate::interrupt::interrupted;
use crate::parse_scan_refs;
use crate::rate::Pacer;

/// `delete`: which identifications, the confirmation, and the record.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The scanRefs whose data is deleted.
    #[arg(
        value_name = "SCAN_REF",
        required_unless_present_any = ["input", "archived"],
        conflicts_with_all = ["input", "archived"]
    )]
    pub scan_refs: Vec<String>,
    /// Read scanRefs from FILE, one per line (`-` for standard input; blank lines and `#`
    /// comments skipped).
    #[arg(long, value_name = "FILE", conflicts_with = "archived")]
    pub input: Option<PathBuf>,
    /// Delete the identifications archived in DIR (`archive create --to DIR`): exactly those
    /// whose bundle verifies and whose archived status is final (not ACTIVE or REVIEWING); the
    /// others are skipped, each named with the reason. Each audit record carries the SHA-256
    /// of the bundle's manifest.json, and each deletion is followed by a status lookup, whose
    /// answer is recorded (`statusAfter`).
    #[arg(long, value_name = "DIR")]
    pub archived: Option<PathBuf>,
    /// How many deletions are under way at once; each is recorded ahead as with one.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Start at most N deletions a second, from 0.01 to 100000.
    #[arg(long, value_name = "N", value_parser = crate::bulk::parse_rate)]
    pub rate: Option<f64>,
    /// The audit file: one JSON line per deletion, refusal or failure is appended (created
    /// with mode 0600; never through a symbolic link). ScanRefs it records as deleted are
    /// skipped, so an interrupted run is resumed by running it again.
    #[arg(long, value_name = "FILE", required = true)]
    pub audit: PathBuf,
    /// Delete without asking (required when there is no terminal to ask on).
    #[arg(long)]
    pub yes: bool,
    /// Show what would be deleted, and delete nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Runs `delete`.
pub async fn run(
    connection: &ConnectionArgs,
    args: &DeleteArgs,
    quiet: bool,
) -> Result<(), Failure> {
    let mut manifests = HashMap::new();
    let mut unverified = 0;
    let scan_refs = match (&args.archived, &args.input) {
        (Some(dir), _) => {
            let selection = crate::archived::select(dir)?;
            manifests = selection.manifests;
            unverified = selection.unverified;
            selection.scan_refs
        }
        (None, Some(input)) => read_list(input)?,
        (None, None) => parse_all(&args.scan_refs)?,
    };
    let plan = Plan {
        manifests,
        check_after: args.archived.is_some(),
        concurrency: usize::from(args.concurrency),
        rate: args.rate,
    };
    let deleted = run_list(connection, args, &scan_refs, &plan, quiet).await;
    if unverified == 0 {
        return deleted;
    }
    let unverified = Failure::new(
        FailureKind::BundleRefused,
        format!("{unverified} bundle(s) do not verify and were not deleted (see above)"),
    );
    match deleted {
        Ok(()) => Err(unverified),
        Err(failure) if failure.kind >= unverified.kind => Err(failure),
        Err(failure) => {
            eprintln!("idenfy: {failure}");
            Err(unverified)
        }
    }
}

/// How the deletions go.
struct Plan {
    /// The manifest digest each record of a scanRef carries.
    manifests: HashMap<String, String>,
    /// Look the status up after each deletion.
    check_after: bool,
    concurrency: usize,
    rate: Option<f64>,
}

async fn run_list(
    connection: &ConnectionArgs,
    args: &DeleteArgs,
    scan_refs: &[ScanRef],
    plan: &Plan,
    quiet: bool,
) -> Result<(), Failure> {
    // The audit file is created only once the deletions are confirmed: a refused run leaves
    // nothing behind.
    let (mut audit, mut earlier) = if args.audit.symlink_metadata().is_ok() {
        let (audit, earlier) = AuditFile::open(&args.audit)?;
        (Some(audit), earlier)
    } else {
        (None, Earlier::default())
    };
    let mut pending: Vec<&ScanRef> = scan_refs
        .iter()
        .filter(|scan_ref| !earlier.done.contains(scan_ref.as_str()))
        .collect();
    let skipped = scan_refs.len() - pending.len();
    if skipped > 0 {
        eprintln!(
            "idenfy: {skipped} scanRef(s) skipped: {} records them as deleted",
            args.audit.display()
        );
    }
    if args.dry_run {
        for scan_ref in &pending {
            let note = if earlier.unknown.contains(scan_ref.as_str()) {
                " (an earlier deletion's outcome is unknown)"
            } else {
                ""
            };
            println!("{scan_ref}\twould be deleted{note}");
        }
        eprintln!(
            "idenfy: dry run: {} identification(s) would be deleted; nothing was sent",
            pending.len()
        );
        return Ok(());
    }
    if pending.is_empty() {
        eprintln!("idenfy: nothing to delete");
        return Ok(());
    }
    if !args.yes {
        let stdin_holds_input = args.input.as_deref() == Some(Path::new("-"));
        confirm(&pending, stdin_holds_input)?;
    }
    let mut audit = match audit.take() {
        Some(audit) => audit,
        None => {
            // Another run may have created it while the question waited: what it records
            // counts, so that nothing it deleted is sent again.
            let (audit, later) = AuditFile::open(&args.audit)?;
            pending.retain(|scan_ref| !later.done.contains(scan_ref.as_str()));
            earlier = later;
            audit
        }
    };
    let connection = connect(connection).await?;
    delete_all(
        &connection.client,
        &pending,
        &earlier,
        &mut audit,
        &args.audit,
        plan,
        quiet,
    )
    .await
}

/// The scanRefs given, checked, each once.
fn parse_all(texts: &[String]) -> Result<Vec<ScanRef>, Failure> {
    let mut list: Vec<ScanRef> = Vec::new();
    for scan_ref in parse_scan_refs(texts)? {
        if !list.contains(&scan_ref) {
            list.push(scan_ref);
        }
    }
    Ok(list)
}

fn confirm(pending: &[&ScanRef], stdin_holds_input: bool) -> Result<(), Failure> {
    let shown: Vec<&str> = pending.iter().take(3).map(|s| s.as_str()).collect();
    let more = if pending.len() > 3 {
        format!(" and {} more", pending.len() - 3)
    } else {
        String::new()
    };
    let question = format!(
        "Delete the personal data of {} identification(s) at iDenfy ({}{more})? This cannot be undone.",
        pending.len(),
        shown.join(", ")
    );
    match ask(&question, stdin_holds_input) {
        Confirmation::Confirmed => Ok(()),
        Confirmation::Declined => Err(Failure::bad_input("not confirmed; nothing was deleted")),
        Confirmation::NoTerminal => Err(Failure::bad_input(
            "there is no terminal to confirm on: pass --yes to delete without asking; nothing was deleted",
        )),
    }
}

/// What one deletion's task brings back.
struct Sent {
    result: Result<
        idenfy_hyper::core::Deletion,
        idenfy_hyper::core::DeletionFailure<idenfy_hyper::HyperError>,
    >,
    /// What `/status` said after, with `--archived`: the status, or why there is none.
    after: Option<Result<String, String>>,
}

async fn delete_all(
    client: &Client,
    pending: &[&ScanRef],
    earlier: &Earlier,
    audit: &mut AuditFile,
    audit_path: &Path,
    plan: &Plan,
    quiet: bool,
) -> Result<(), Failure> {
    let mut interrupt =
        interrupted().map_err(|err| Failure::other(format!("cannot watch for Ctrl-C: {err}")))?;
    let mut counts = [0u64; 5];
    let mut worst: Option<FailureKind> = None;
    let mut pacer = Pacer::new(plan.rate);
    let mut tasks: JoinSet<(usize, Sent)> = JoinSet::new();
    // Deletions sent whose outcome is not recorded yet.
    let mut in_flight: HashSet<usize> = HashSet::new();
    let mut next = 0usize;
    let mut start_at: Option<Instant> = None;
    let record_of = |scan_ref: &ScanRef, outcome: Outcome, attempts: u32| {
        let mut record = Record::now(scan_ref.as_str(), outcome, attempts);
        record.manifest_sha256 = plan.manifests.get(scan_ref.as_str()).cloned();
        record
    };
    loop {
        while tasks.len() < plan.concurrency && next < pending.len() {
            // An interrupt that came meanwhile stops the run before the next one is sent:
            // nothing is recorded for it, since nothing happened to it.
            let stopped = tokio::select! {
                biased;
                () = &mut interrupt => true,
                () = std::future::ready(()) => false,
            };
            if stopped {
                return interrupted_now(pending, &in_flight, next, audit, audit_path, &record_of);
            }
            if let Err(at) = pacer.try_start(Instant::now()) {
                start_at = Some(at);
                break;
            }
            start_at = None;
            let scan_ref = pending[next];
            // Written ahead: should the process die once the request is out, the next run
            // knows that this scanRef's deletion may have happened.
            audit.append(&record_of(scan_ref, Outcome::Attempt, 0))?;
            let after_unknown = earlier.unknown.contains(scan_ref.as_str());
            let (client, scan_ref_owned, check_after) =
                (client.clone(), scan_ref.clone(), plan.check_after);
            let index = next;
            tasks.spawn(async move {
                let result = if after_unknown {
                    client.delete_after_unknown(&scan_ref_owned).await
                } else {
                    client.delete(&scan_ref_owned).await
                };
                let after = match (&result, check_after) {
                    (Ok(_), true) => Some(status_after(&client, &scan_ref_owned).await),
                    _ => None,
                };
                (index, Sent { result, after })
            });
            in_flight.insert(index);
            next += 1;
        }
        if tasks.is_empty() && next >= pending.len() {
            break;
        }
        let pacing = start_at.is_some() && tasks.len() < plan.concurrency;
        let wake_at = start_at.unwrap_or_else(Instant::now);
        tokio::select! {
            () = &mut interrupt => {
                tasks.abort_all();
                while tasks.join_next().await.is_some() {}
                return interrupted_now(pending, &in_flight, next, audit, audit_path, &record_of);
            }
            () = tokio::time::sleep_until(wake_at.into()), if pacing => {}
            Some(joined) = tasks.join_next() => {
                let (index, sent) = joined
                    .map_err(|err| Failure::other(format!("a deletion task failed: {err}")))?;
                in_flight.remove(&index);
                let scan_ref = pending[index];
                let record = outcome_record(scan_ref, sent, &record_of, &mut worst);
                if let Err(failure) = audit.append(&record) {
                    // Those still under way stay attempts without an outcome: unknown.
                    tasks.abort_all();
                    return Err(failure);
                }
                counts[match record.outcome {
                    Outcome::Deleted => 0,
                    Outcome::AlreadyGone => 1,
                    Outcome::Refused => 2,
                    Outcome::Failed => 3,
                    Outcome::Unknown | Outcome::Attempt => 4,
                }] += 1;
                match &record.status_after {
                    Some(status) => println!("{scan_ref}\t{}\tstatus {}", record.outcome.name(), EscapedControls(status)),
                    None => println!("{scan_ref}\t{}", record.outcome.name()),
                }
            }
        }
    }
    let [deleted, gone, refused, failed, unknown] = counts;
    if !quiet {
        eprintln!(
            "idenfy: {deleted} deleted, {gone} already gone, {refused} refused, {failed} failed, {unknown} unknown; recorded in {}",
            audit_path.display()
        );
    }
    match worst {
        None => Ok(()),
        Some(kind) => Err(Failure::new(
            kind,
            "some identifications were not deleted (see the messages above); run again to retry them",
        )),
    }
}

/// `/status` after a deletion: its `status`, or why there is none (the message of the error,
/// never the body).
async fn status_after(client: &Client, scan_ref: &ScanRef) -> Result<String, String> {
    let lookup = client
        .lookup_raw(Endpoint::Status, scan_ref)
        .await
        .map_err(|failure| shown(&failure.error))?;
    serde_json::from_slice::<serde_json::Value>(&lookup.body)
        .ok()
        .and_then(|value| value.get("status")?.as_str().map(str::to_owned))
        .ok_or_else(|| "the /status answer holds no status".to_owned())
}

/// The record of a deletion's outcome; a failure is reported and counted in `worst`.
fn outcome_record(
    scan_ref: &ScanRef,
    sent: Sent,
    record_of: &impl Fn(&ScanRef, Outcome, u32) -> Record,
    worst: &mut Option<FailureKind>,
) -> Record {
    match sent.result {
        Ok(deletion) => {
            let (outcome, status) = match deletion.confirmation {
                DeletionConfirmation::AlreadyGone => (Outcome::AlreadyGone, 404),
                _ => (Outcome::Deleted, 200),
            };
            let mut record = record_of(scan_ref, outcome, deletion.attempts);
            record.status = Some(status);
            match sent.after {
                Some(Ok(status)) => record.status_after = Some(status),
                Some(Err(why)) => {
                    record.message = Some(format!(
                        "the status lookup after the deletion failed: {why}"
                    ));
                }
                None => {}
            }
            record
        }
        Err(failure) => {
            let outcome = if failure.outcome_unknown {
                Outcome::Unknown
            } else if failure.error.status().is_some_and(|status| {
                status.is_client_error() && status != http::StatusCode::TOO_MANY_REQUESTS
            }) {
                Outcome::Refused
            } else {
                Outcome::Failed
            };
            let mut record = record_of(scan_ref, outcome, failure.attempts);
            record.status = failure.error.status().map(|status| status.as_u16());
            if let Error::Api(api) = &failure.error {
                record.identifier = api.identifier.as_ref().map(|i| i.as_str().to_owned());
            }
            // The command's words, naming its flags, not the library's settings.
            record.message = Some(shown(&failure.error));
            let kind = FailureKind::of_lookup(&failure.error);
            eprintln!(
                "idenfy: {}: {}: {}",
                EscapedControls(scan_ref.as_str()),
                outcome.name(),
                shown(&failure.error)
            );
            *worst = (*worst).max(Some(kind));
            record
        }
    }
}

/// Ctrl-C: each deletion under way is recorded as unknown (its request may have arrived),
/// and the run stops.
fn interrupted_now(
    pending: &[&ScanRef],
    in_flight: &HashSet<usize>,
    next: usize,
    audit: &mut AuditFile,
    audit_path: &Path,
    record_of: &impl Fn(&ScanRef, Outcome, u32) -> Record,
) -> Result<(), Failure> {
    let mut under_way: Vec<usize> = in_flight.iter().copied().collect();
    under_way.sort_unstable();
    for &index in &under_way {
        let mut record = record_of(pending[index], Outcome::Unknown, 1);
        record.message = Some("interrupted while the deletion was under way".to_owned());
        audit.append(&record)?;
    }
    let message = match under_way.as_slice() {
        [] => format!(
            "interrupted before {} was sent; run again to go on",
            EscapedControls(pending[next.min(pending.len() - 1)].as_str())
        ),
        [one] => format!(
            "interrupted; {}'s deletion may or may not have happened ({} says so; run again to settle it)",
            EscapedControls(pending[*one].as_str()),
            audit_path.display()
        ),
        many => format!(
            "interrupted; {} deletions may or may not have happened ({} says so; run again to settle them)",
            many.len(),
            audit_path.display()
        ),
    };
    Err(Failure::new(FailureKind::Interrupted, message))
}
