//! `idenfy delete`: deleting identifications' personal data at iDenfy, confirmed, recorded,
//! and never twice.
//!
//! The list is read whole and checked first; scanRefs the audit file records as deleted are
//! left out. A person confirms on a terminal, or `--yes` stands for them; without either
//! nothing is sent. Deletions go one at a time: an `attempt` record is flushed to disk before
//! each request is sent, and its outcome after the answer, before the next one (see
//! [`crate::audit`]). A scanRef whose last record says the outcome is unknown (or is an attempt
//! that never got its outcome: the run was killed) is sent again with the rule that a 404
//! confirms the earlier deletion ([`idenfy_hyper::Client::delete_after_unknown`]).

use std::path::{Path, PathBuf};

use clap::Args;
use idenfy_hyper::core::{DeletionConfirmation, Error, EscapedControls};
use idenfy_hyper::{Client, ScanRef};

use crate::audit::{AuditFile, Earlier, Outcome, Record};
use crate::confirm::{Confirmation, ask};
use crate::connect::ConnectionArgs;
use crate::connect::connect;
use crate::failure::{Failure, FailureKind};
use crate::input::{parse_scan_refs, read_list};
use crate::interrupt::interrupted;

/// `delete`: which identifications, the confirmation, and the record.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The scanRefs whose data is deleted.
    #[arg(
        value_name = "SCAN_REF",
        required_unless_present = "input",
        conflicts_with = "input"
    )]
    pub scan_refs: Vec<String>,
    /// Read scanRefs from FILE, one per line (`-` for standard input; blank lines and `#`
    /// comments skipped).
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
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
    let scan_refs = match &args.input {
        Some(input) => read_list(input)?,
        None => parse_all(&args.scan_refs)?,
    };
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

async fn delete_all(
    client: &Client,
    pending: &[&ScanRef],
    earlier: &Earlier,
    audit: &mut AuditFile,
    audit_path: &Path,
    quiet: bool,
) -> Result<(), Failure> {
    let mut interrupt =
        interrupted().map_err(|err| Failure::other(format!("cannot watch for Ctrl-C: {err}")))?;
    let mut counts = [0u64; 5];
    let mut worst: Option<FailureKind> = None;
    for scan_ref in pending {
        let after_unknown = earlier.unknown.contains(scan_ref.as_str());
        let deletion = async {
            if after_unknown {
                client.delete_after_unknown(scan_ref).await
            } else {
                client.delete(scan_ref).await
            }
        };
        // An interrupt that came between two deletions stops the run before the next one is
        // sent: nothing is recorded for it, since nothing happened to it.
        let stopped = tokio::select! {
            biased;
            () = &mut interrupt => true,
            () = std::future::ready(()) => false,
        };
        if stopped {
            return Err(Failure::new(
                FailureKind::Interrupted,
                format!(
                    "interrupted before {} was sent; run again to go on",
                    EscapedControls(scan_ref.as_str())
                ),
            ));
        }
        // Written ahead: should the process die once the request is out, the next run knows
        // that this scanRef's deletion may have happened.
        audit.append(&Record::now(scan_ref.as_str(), Outcome::Attempt, 0))?;
        let result = tokio::select! {
            result = deletion => Some(result),
            () = &mut interrupt => None,
        };
        let Some(result) = result else {
            let mut record = Record::now(scan_ref.as_str(), Outcome::Unknown, 1);
            record.message = Some("interrupted while the deletion was under way".to_owned());
            audit.append(&record)?;
            return Err(Failure::new(
                FailureKind::Interrupted,
                format!(
                    "interrupted; {scan_ref}'s deletion may or may not have happened ({} says so; run again to settle it)",
                    audit_path.display()
                ),
            ));
        };
        let record = match result {
            Ok(deletion) => {
                let (outcome, status) = match deletion.confirmation {
                    DeletionConfirmation::AlreadyGone => (Outcome::AlreadyGone, 404),
                    _ => (Outcome::Deleted, 200),
                };
                let mut record = Record::now(scan_ref.as_str(), outcome, deletion.attempts);
                record.status = Some(status);
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
                let mut record = Record::now(scan_ref.as_str(), outcome, failure.attempts);
                record.status = failure.error.status().map(|status| status.as_u16());
                if let Error::Api(api) = &failure.error {
                    record.identifier = api.identifier.as_ref().map(|i| i.as_str().to_owned());
                }
                record.message = Some(failure.error.to_string());
                let kind = FailureKind::of_lookup(&failure.error);
                eprintln!(
                    "idenfy: {}: {}: {}",
                    EscapedControls(scan_ref.as_str()),
                    outcome.name(),
                    failure.error
                );
                worst = worst.max(Some(kind));
                record
            }
        };
        audit.append(&record)?;
        counts[match record.outcome {
            Outcome::Deleted => 0,
            Outcome::AlreadyGone => 1,
            Outcome::Refused => 2,
            Outcome::Failed => 3,
            Outcome::Unknown | Outcome::Attempt => 4,
        }] += 1;
        println!("{scan_ref}\t{}", record.outcome.name());
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
