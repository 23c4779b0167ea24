//! The one-paragraph summary printed at the end of a scan or re-render.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::config::Config;
use crate::exit::Outcome;
use crate::findings::{Evaluation, FindingStatus};
use crate::inventory::Inventory;
use crate::report::REPORT_HTML;
use crate::severity::Severity;

/// Incomplete targets named one by one before the rest are counted.
const MISSING_LISTED: usize = 10;

pub fn paragraph(inventory: &Inventory, evaluation: &Evaluation, config: &Config, run_dir: &Path, elapsed: Duration, outcome: Outcome) -> String {
    let mut out = String::new();
    let planned = inventory.accounts.iter().filter(|a| a.scan.is_scanned()).count();
    let not_entered = inventory
        .coverage
        .iter()
        .filter(|row| row.scope == "assume-role" && row.status != crate::inventory::CoverageStatus::Ok)
        .count();
    let apps = inventory.apps().count();
    let _ = write!(
        out,
        "Scanned {} of {} accounts{} in {} region(s): {apps} Flink application(s). ",
        planned - not_entered.min(planned),
        inventory.accounts.len(),
        if not_entered > 0 { format!(" ({not_entered} could not be entered)") } else { String::new() },
        inventory.run.regions.len()
    );

    let open = |s: Severity| evaluation.findings.iter().filter(|f| f.status == FindingStatus::Open && f.severity == s).count();
    let by_severity: Vec<String> =
        Severity::ALL.iter().rev().map(|&s| (s, open(s))).filter(|(_, n)| *n > 0).map(|(s, n)| format!("{n} {s}")).collect();
    let suppressed = evaluation.findings.iter().filter(|f| f.status == FindingStatus::Suppressed).count();
    let _ = write!(
        out,
        "Findings: {}{}. ",
        if by_severity.is_empty() { "none open".to_owned() } else { by_severity.join(", ") },
        if suppressed > 0 { format!(" ({suppressed} suppressed)") } else { String::new() }
    );
    let open_total: usize = evaluation.open_by_severity.values().sum();
    if open_total > 0 {
        let causes = evaluation.open_causes();
        let _ = write!(out, "{open_total} finding{} from {causes} cause{}. ", plural(open_total), plural(causes));
    }
    if let Some(delta) = &evaluation.since_previous {
        let _ = write!(
            out,
            "Since {}: {} new, {} resolved{}. ",
            delta.previous_run_id.as_deref().unwrap_or("the previous run"),
            delta.new.len(),
            delta.resolved.len(),
            if delta.not_checked.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} not checked tonight (open when last seen; their scope was not read, so not counted as resolved)",
                    delta.not_checked.len()
                )
            }
        );
    }
    if !evaluation.drift.is_empty() {
        let _ = write!(out, "{} prod-vs-dev difference(s) across {} comparison(s). ", evaluation.drift.len(), config.compare.len());
    }
    let calls: u64 = inventory.run.api_calls.values().sum();
    let _ = write!(out, "{calls} AWS calls in {:.1} s. ", elapsed.as_secs_f64());

    if let Some(delta) = evaluation.since_previous.as_ref().filter(|d| !d.not_checked.is_empty()) {
        // Grouped by why: one denied account is one line, not a hundred.
        let mut why: Vec<(&str, usize)> = Vec::new();
        for n in &delta.not_checked {
            match why.iter_mut().find(|(w, _)| *w == n.not_checked_because) {
                Some((_, count)) => *count += 1,
                None => why.push((&n.not_checked_because, 1)),
            }
        }
        let _ = writeln!(out, "\nNOT CHECKED tonight ({} finding(s), last night's data in findings.json and report.html):", delta.not_checked.len());
        for (reason, count) in why.iter().take(MISSING_LISTED) {
            let _ = writeln!(out, "  {count} × {reason}");
        }
        if why.len() > MISSING_LISTED {
            let _ = writeln!(out, "  … and {} more reasons in findings.json", why.len() - MISSING_LISTED);
        }
    }
    let missing: Vec<_> = inventory.missing().collect();
    if !missing.is_empty() {
        let _ = write!(out, "\nINCOMPLETE: {} coverage row(s) could not be scanned", missing.len());
        if let Some(reason) = &inventory.run.interrupted {
            let _ = write!(out, " (scan stopped: {reason})");
        }
        let _ = writeln!(out, ":");
        for row in missing.iter().take(MISSING_LISTED) {
            let _ = writeln!(
                out,
                "  {} {} {} {}: {}{}",
                row.account_id,
                row.account_name,
                row.region,
                row.scope,
                row.status.as_str(),
                row.error_code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default()
            );
        }
        if missing.len() > MISSING_LISTED {
            let _ = writeln!(out, "  … and {} more in coverage.csv", missing.len() - MISSING_LISTED);
        }
    } else {
        let _ = writeln!(out);
    }
    let report = run_dir.join(REPORT_HTML);
    let shown = if report.exists() { report } else { run_dir.to_path_buf() };
    let _ = write!(out, "Report: {}\nExit {}: {}", shown.display(), outcome.code(), describe(outcome, config.checks.fail_on));
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn describe(outcome: Outcome, fail_on: Severity) -> String {
    match outcome {
        Outcome::Clean => format!("complete, no open finding at or above {fail_on}"),
        Outcome::Findings => format!("open findings at or above {fail_on}"),
        Outcome::Incomplete => "the scan is incomplete".to_owned(),
        Outcome::Fatal => "fatal error".to_owned(),
    }
}
