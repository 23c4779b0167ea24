//! `fleetscan accounts`: the plan, before anything is scanned.

use std::fmt::Write as _;

use crate::cli::args::ConfigArgs;
use crate::cli::runtime::{load_config, tokio_runtime};
use crate::collect::Collector;
use crate::config::Overrides;
use crate::exit::Outcome;
use crate::inventory::ScanDecision;
use crate::plan::{self, Plan};

pub fn run(args: &ConfigArgs) -> anyhow::Result<Outcome> {
    let config = load_config(args, Overrides::default())?;
    let plan = tokio_runtime()?.block_on(async {
        let collector = Collector::from_env(&config, "plan").await?;
        let org = collector.discover_org().await?;
        anyhow::Ok(plan::build(&config, &org))
    })?;
    print!("{}", render(&plan));
    Ok(Outcome::Clean)
}

fn decision_text(decision: &ScanDecision) -> String {
    match decision {
        ScanDecision::AssumedRole { role_arn } => format!("scan via {role_arn}"),
        ScanDecision::BaseCredentials => "scan with base credentials (management account)".to_owned(),
        ScanDecision::Skipped { reason } => format!("skip: {reason}"),
    }
}

pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let org = plan.org.organization.as_ref();
    let _ = writeln!(
        out,
        "Organization {} (management account {}), caller {}",
        org.map(|o| o.id.as_str()).unwrap_or("(not readable)"),
        org.map(|o| o.management_account_id.as_str()).unwrap_or("?"),
        plan.org.caller.arn
    );
    let _ = writeln!(out, "Regions: {}", plan.regions.join(", "));
    let width = plan.entries.iter().map(|e| e.name.len()).max().unwrap_or(4).max(4);
    let ou_width = plan.entries.iter().map(|e| e.ou_path.len()).max().unwrap_or(7).max(7);
    let _ = writeln!(out, "\n{:<12}  {:<width$}  {:<ou_width$}  {:<9}  PLAN", "ACCOUNT", "NAME", "OU PATH", "STATUS");
    for entry in &plan.entries {
        let _ = writeln!(
            out,
            "{:<12}  {:<width$}  {:<ou_width$}  {:<9}  {}",
            entry.account_id,
            entry.name,
            entry.ou_path,
            entry.status,
            decision_text(&entry.decision)
        );
    }
    let scanned = plan.scanned().count();
    let _ = writeln!(
        out,
        "\n{} accounts, {} to scan, {} skipped; {} account × region targets",
        plan.entries.len(),
        scanned,
        plan.entries.len() - scanned,
        plan.targets()
    );
    for warning in &plan.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    out
}
