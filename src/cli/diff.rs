//! `fleetscan diff OLD NEW`: what changed between two runs.

use std::fmt::Write as _;

use anyhow::Context;

use crate::cli::args::DiffArgs;
use crate::config::{Config, Overrides};
use crate::drift::nightly::{diff_snapshots, SnapshotDiff};
use crate::exit::Outcome;
use crate::findings::Finding;
use crate::inventory::Inventory;

pub fn run(args: &DiffArgs) -> anyhow::Result<Outcome> {
    let config = Config::load(args.config.config.as_deref(), Overrides::default())?;
    let (old, new) = rayon::join(|| Inventory::load(&args.old_snapshot), || Inventory::load(&args.new_snapshot));
    let diff = diff_snapshots(&old?, &new?, &config);
    print!("{}", render_text(&diff));
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join("diff.json");
        crate::report::output::write_atomic(&path, |out| serde_json::to_writer_pretty(out, &diff).map_err(std::io::Error::other))?;
        eprintln!("diff: wrote {}", path.display());
    }
    Ok(Outcome::Clean)
}

fn finding_line(out: &mut String, f: &Finding) {
    let _ = writeln!(out, "  {:<8} {:<34} {} {} {}  {}", f.severity, f.check, f.account_name, f.region, f.resource_arn, f.title);
}

pub fn render_text(diff: &SnapshotDiff) -> String {
    let mut out = String::new();
    let d = &diff.findings;
    let _ = writeln!(out, "fleetscan diff: {} → {}", diff.old_run_id, diff.new_run_id);
    let _ = writeln!(
        out,
        "Findings: {} new, {} resolved, {} still open{}{}",
        d.new.len(),
        d.resolved.len(),
        d.still_open,
        if d.not_checked.is_empty() { String::new() } else { format!(", {} not checked (scope not read in the newer run)", d.not_checked.len()) },
        if d.now_suppressed.is_empty() { String::new() } else { format!(", {} now suppressed", d.now_suppressed.len()) }
    );
    if !diff.new_findings.is_empty() {
        let _ = writeln!(out, "\nNew:");
        diff.new_findings.iter().for_each(|f| finding_line(&mut out, f));
    }
    if !d.resolved.is_empty() {
        let _ = writeln!(out, "\nResolved:");
        d.resolved.iter().for_each(|f| finding_line(&mut out, f));
    }
    if !d.not_checked.is_empty() {
        let _ = writeln!(out, "\nNot checked (last known data):");
        for n in &d.not_checked {
            finding_line(&mut out, &n.finding);
            let _ = writeln!(out, "      because {}", n.not_checked_because);
        }
    }
    let _ = writeln!(out, "\nInventory changes: {}", diff.changes.len());
    for change in &diff.changes {
        let _ = writeln!(out, "  {:<26} {} {} {}", change.kind, change.account_id, change.region, change.subject);
        if !change.detail.is_empty() {
            for line in change.detail.lines() {
                let _ = writeln!(out, "      {line}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{NotChecked, RunDelta};

    #[test]
    fn not_checked_findings_are_listed_with_why() {
        let finding: Finding = serde_json::from_value(serde_json::json!({
            "finding_id": "f1", "check": "snapshot-stale", "severity": "low", "status": "open",
            "account_id": "222222222222", "account_name": "dev", "ou_path": "Root", "region": "eu-west-1",
            "resource_arn": "arn:aws:kinesisanalytics:eu-west-1:222222222222:application/a", "subject": "s",
            "title": "No recent READY snapshot", "detail": "d", "evidence": []
        }))
        .unwrap();
        let diff = SnapshotDiff {
            old_run_id: "r1".into(),
            new_run_id: "r2".into(),
            findings: RunDelta {
                not_checked: vec![NotChecked {
                    finding,
                    not_checked_because: "account 222222222222: assume-role denied (AccessDenied)".into(),
                    last_seen_run_id: Some("r1".into()),
                }],
                ..Default::default()
            },
            new_findings: vec![],
            changes: vec![],
        };
        let text = render_text(&diff);
        assert!(text.contains("0 resolved") && text.contains("1 not checked"), "{text}");
        assert!(text.contains("Not checked (last known data):") && text.contains("because account 222222222222: assume-role denied"), "{text}");
    }
}
