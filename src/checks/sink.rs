//! The sink: where checks put findings, and the ONE place where
//! `[checks.severity]` overrides (`off` or a level) and `[[suppress]]`
//! entries are applied ([`finalize`]).
//!
//! Suppressions: an entry matches a finding when its `check` equals the
//! finding's check id, its `account` (if given) equals the finding's account
//! id or account name, and its `resource` glob (if given; `*` any run of
//! characters, `?` one character, everything else literal and
//! case-sensitive like ARNs) matches the whole `resource_arn`. The first
//! matching entry that has not expired wins: the finding gets status
//! `suppressed` and carries the entry's reason and expiry.
//!
//! Expiry: an entry whose `expires` date is before the run date (the date of
//! `run.finished_at`, never the wall clock) has expired. It hides nothing;
//! each finding it would have hidden stays `open`, gets
//! `expired_suppression` set and an evidence line `suppression expired`,
//! and the entry is listed with `expired = true` in
//! `Evaluation::suppressions` (one [`SuppressionReport`] per config entry,
//! with how many findings it hid or would have hidden), so both the finding
//! and the stale config entry are visible in the report.

use chrono::NaiveDate;

use crate::checks::catalog::CheckId;
use crate::config::{Config, Suppression};
use crate::findings::{AccessDecision, AppliedSuppression, Evidence, Finding, FindingStatus, SuppressionReport};
use crate::inventory::Account;
use crate::severity::SeverityOverride;

/// Collects findings and access decisions from checks. Findings are emitted
/// at the check's default severity and status `open`; [`finalize`] does the rest.
#[derive(Debug, Default)]
pub struct Sink {
    findings: Vec<Finding>,
    access: Vec<AccessDecision>,
    /// Allowed decisions counted but not kept (see [`Sink::forget_allowed`]).
    allowed_forgotten: usize,
}

/// Where a finding is: account, region and resource.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub account: &'a Account,
    pub region: &'a str,
    pub resource: &'a str,
}

impl Sink {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a finding of `check` about `subject` on `target`.
    pub fn emit(&mut self, check: CheckId, target: Target<'_>, subject: &str, detail: impl Into<String>, evidence: Vec<Evidence>) {
        self.emit_titled(check, target, subject, check.title(), detail, evidence);
    }

    /// Like [`Sink::emit`] with a title more specific than the check's.
    pub fn emit_titled(
        &mut self,
        check: CheckId,
        target: Target<'_>,
        subject: &str,
        title: impl Into<String>,
        detail: impl Into<String>,
        evidence: Vec<Evidence>,
    ) {
        let account = target.account;
        self.findings.push(Finding {
            finding_id: Finding::id_for(check, &account.id, target.region, target.resource, subject).into(),
            check,
            severity: check.default_severity(),
            status: FindingStatus::Open,
            account_id: account.id.as_str().into(),
            account_name: account.name.as_str().into(),
            ou_path: account.ou_path.clone(),
            region: target.region.into(),
            resource_arn: target.resource.to_owned(),
            subject: subject.into(),
            title: title.into(),
            detail: detail.into(),
            evidence,
            suppression: None,
            expired_suppression: None,
        });
    }

    /// Sets the severity of the finding just emitted, for checks whose
    /// default depends on what they found (e.g. end of support announced vs
    /// passed). `[checks.severity]` overrides still win in [`finalize`].
    pub fn set_last_severity(&mut self, severity: crate::severity::Severity) {
        if let Some(last) = self.findings.last_mut() {
            last.severity = severity;
        }
    }

    pub fn record_access(&mut self, decision: AccessDecision) {
        self.access.push(decision);
    }

    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// For a check that adds context to findings already emitted (AWS
    /// Health on checkpoint findings); never to change their identity.
    pub fn findings_mut(&mut self) -> &mut [Finding] {
        &mut self.findings
    }

    /// The findings as a list, to drop some in place.
    pub fn findings_vec(&mut self) -> &mut Vec<Finding> {
        &mut self.findings
    }

    pub fn access(&self) -> &[AccessDecision] {
        &self.access
    }

    pub fn extend(&mut self, other: Sink) {
        self.findings.extend(other.findings);
        self.access.extend(other.access);
        self.allowed_forgotten += other.allowed_forgotten;
    }

    /// Drops the allowed decisions, counting them: only decisions that are
    /// not allowed are reported, and comparisons need the allowed ones only
    /// for apps of compared accounts.
    pub fn forget_allowed(&mut self) {
        let before = self.access.len();
        self.access.retain(|d| d.outcome != crate::findings::AccessOutcome::Allowed);
        self.allowed_forgotten += before - self.access.len();
    }

    /// Gives back the spare room its lists and texts were built with
    /// (`format!` and pushes leave some; what it holds is kept to the end).
    pub fn shrink_to_fit(&mut self) {
        self.findings.shrink_to_fit();
        self.findings.iter_mut().for_each(Finding::shrink_to_fit);
        self.access.shrink_to_fit();
        self.access.iter_mut().for_each(AccessDecision::shrink_to_fit);
    }

    /// Drops every decision once the findings have what they need of them
    /// (their causes tagged), counting the allowed ones.
    pub fn forget_decisions(&mut self) {
        self.forget_allowed();
        self.access = Vec::new();
    }

    pub fn allowed_forgotten(&self) -> usize {
        self.allowed_forgotten
    }

    pub fn into_parts(self) -> (Vec<Finding>, Vec<AccessDecision>) {
        (self.findings, self.access)
    }
}

/// Applies severity overrides, `off`, and suppressions; sorts the findings
/// (severity desc, then check, account, region, resource, subject) and
/// reports what each `[[suppress]]` entry did.
/// Applies `[checks.severity]` and `[[suppress]]` to findings, one batch
/// at a time (one per app, in parallel), counting what each suppression
/// matched; [`Finalizer::absorb`] adds up the batches' counts.
pub struct Finalizer<'c> {
    config: &'c Config,
    expired: Vec<bool>,
    /// Per `[[suppress]]` entry: findings hidden, findings matched after expiry.
    counts: Vec<(usize, usize)>,
}

impl<'c> Finalizer<'c> {
    pub fn new(config: &'c Config, run_date: Option<NaiveDate>) -> Self {
        let expired = config.suppress.iter().map(|s| is_expired(s, run_date)).collect();
        Self { config, expired, counts: vec![(0, 0); config.suppress.len()] }
    }

    /// In place: a second list of every finding would raise the run's peak.
    pub fn apply(&mut self, findings: &mut Vec<Finding>) {
        let Self { config, expired, counts } = self;
        findings.retain_mut(|finding| {
            match config.checks.severity.get(finding.check.as_str()) {
                Some(SeverityOverride::Off) => return false,
                Some(SeverityOverride::Level(level)) => finding.severity = *level,
                None => {}
            }
            let mut expired_match: Option<usize> = None;
            let mut active_match: Option<usize> = None;
            for (index, suppression) in config.suppress.iter().enumerate() {
                if !matches(suppression, finding) {
                    continue;
                }
                if expired[index] {
                    expired_match.get_or_insert(index);
                } else {
                    active_match = Some(index);
                    break;
                }
            }
            if let Some(index) = active_match {
                let s = &config.suppress[index];
                finding.status = FindingStatus::Suppressed;
                finding.suppression = Some(AppliedSuppression { reason: s.reason.clone(), expires: s.expires });
                counts[index].0 += 1;
            } else if let Some(index) = expired_match {
                let s = &config.suppress[index];
                let expires = s.expires.map(|d| d.to_string()).unwrap_or_default();
                finding
                    .evidence
                    .push(Evidence::new("suppression expired", format!("suppress[{index}] expired {expires} ({})", s.reason)));
                finding.expired_suppression = Some(AppliedSuppression { reason: s.reason.clone(), expires: s.expires });
                counts[index].1 += 1;
            }
            true
        });
    }

    /// Adds another batch's counts to these.
    pub fn absorb(&mut self, other: Finalizer<'_>) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            mine.0 += theirs.0;
            mine.1 += theirs.1;
        }
    }

    /// One report per `[[suppress]]` entry, in file order.
    pub fn into_reports(self) -> Vec<SuppressionReport> {
        self.config
            .suppress
            .iter()
            .zip(self.expired)
            .zip(self.counts)
            .enumerate()
            .map(|(index, ((s, expired), (suppressed, matched_after_expiry)))| SuppressionReport {
                index,
                check: s.check.clone(),
                account: s.account.clone(),
                resource: s.resource.clone(),
                reason: s.reason.clone(),
                expires: s.expires,
                expired,
                suppressed,
                matched_after_expiry,
            })
            .collect()
    }
}

/// [`Finalizer`] over one list, then sorted as reports list findings.
pub fn finalize(mut findings: Vec<Finding>, config: &Config, run_date: Option<NaiveDate>) -> (Vec<Finding>, Vec<SuppressionReport>) {
    let mut finalizer = Finalizer::new(config, run_date);
    finalizer.apply(&mut findings);
    sort_findings(&mut findings);
    (findings, finalizer.into_reports())
}

pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(report_order);
}

/// The order reports list findings in: most severe first, then by check,
/// account, region, resource and subject.
pub fn report_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    b.severity
        .cmp(&a.severity)
        .then_with(|| a.check.as_str().cmp(b.check.as_str()))
        .then_with(|| a.account_id.cmp(&b.account_id))
        .then_with(|| a.region.cmp(&b.region))
        .then_with(|| a.resource_arn.cmp(&b.resource_arn))
        .then_with(|| a.subject.cmp(&b.subject))
}

fn is_expired(s: &Suppression, run_date: Option<NaiveDate>) -> bool {
    match (s.expires, run_date) {
        (Some(expires), Some(today)) => expires < today,
        _ => false,
    }
}

fn matches(s: &Suppression, f: &Finding) -> bool {
    if s.check != f.check.as_str() {
        return false;
    }
    if let Some(account) = &s.account {
        if account != f.account_id && account != f.account_name {
            return false;
        }
    }
    match &s.resource {
        Some(pattern) => glob_match(pattern, &f.resource_arn),
        None => true,
    }
}

/// `*` matches any run of characters (including none and `:` or `/`), `?`
/// exactly one; the rest is literal. Whole-string match.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{config_from, Fleet};
    use crate::severity::Severity;

    #[test]
    fn glob_handles_star_and_question_mark() {
        assert!(glob_match("arn:aws:kinesisanalytics:*", "arn:aws:kinesisanalytics:eu-west-1:1:application/a"));
        assert!(glob_match("*orders-?rod", "arn:x/orders-prod"));
        assert!(!glob_match("*orders-?rod", "arn:x/orders-pprod"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("arn:aws:s3:::b", "arn:aws:s3:::B"));
    }

    fn findings() -> Vec<Finding> {
        let inv = Fleet::new().account("111111111111", "prod", "Root").app("111111111111", "eu-west-1", "orders", |_| {}).build();
        let account = inv.account("111111111111").unwrap();
        let mut sink = Sink::new();
        let arn = "arn:aws:kinesisanalytics:eu-west-1:111111111111:application/orders";
        let target = Target { account, region: "eu-west-1", resource: arn };
        sink.emit(CheckId::SnapshotStale, target, "snapshots", "old", vec![]);
        sink.emit(CheckId::RuntimeEndOfSupport, target, "runtime", "old", vec![]);
        sink.emit(CheckId::CheckpointSlow, target, "checkpoint-duration", "slow", vec![]);
        sink.into_parts().0
    }

    #[test]
    fn severity_override_and_off_are_applied_once_here() {
        let config = config_from("[checks.severity]\n\"snapshot-stale\" = \"off\"\n\"checkpoint-slow\" = \"critical\"\n");
        let (out, _) = finalize(findings(), &config, None);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].check, CheckId::CheckpointSlow, "critical sorts first");
        assert_eq!(out[0].severity, Severity::Critical);
        assert!(out.iter().all(|f| f.check != CheckId::SnapshotStale));
    }

    #[test]
    fn suppression_matches_by_check_account_name_and_glob() {
        let config = config_from(
            "[[suppress]]\ncheck = \"runtime-end-of-support\"\naccount = \"prod\"\nresource = \"arn:aws:kinesisanalytics:*:application/ord?rs\"\nreason = \"OPS-1\"\nexpires = \"2027-01-31\"\n\
             [[suppress]]\ncheck = \"checkpoint-slow\"\naccount = \"222222222222\"\nreason = \"other account\"\n",
        );
        let today = NaiveDate::from_ymd_opt(2026, 11, 25);
        let (out, reports) = finalize(findings(), &config, today);
        let eos = out.iter().find(|f| f.check == CheckId::RuntimeEndOfSupport).unwrap();
        assert_eq!(eos.status, FindingStatus::Suppressed);
        assert_eq!(eos.suppression.as_ref().unwrap().reason, "OPS-1");
        let slow = out.iter().find(|f| f.check == CheckId::CheckpointSlow).unwrap();
        assert_eq!(slow.status, FindingStatus::Open);
        assert_eq!(reports[0].suppressed, 1);
        assert_eq!(reports[1].suppressed, 0);
    }

    #[test]
    fn expired_suppression_stops_hiding_and_is_reported() {
        let config = config_from(
            "[[suppress]]\ncheck = \"runtime-end-of-support\"\nreason = \"OPS-1\"\nexpires = \"2026-11-24\"\n\
             [[suppress]]\ncheck = \"snapshot-stale\"\nreason = \"until today\"\nexpires = \"2026-11-25\"\n",
        );
        let today = NaiveDate::from_ymd_opt(2026, 11, 25);
        let (out, reports) = finalize(findings(), &config, today);
        let eos = out.iter().find(|f| f.check == CheckId::RuntimeEndOfSupport).unwrap();
        assert_eq!(eos.status, FindingStatus::Open);
        assert!(eos.suppression.is_none());
        assert_eq!(eos.expired_suppression.as_ref().unwrap().reason, "OPS-1");
        assert!(eos.evidence_text().contains("suppression expired"));
        assert!(reports[0].expired && reports[0].matched_after_expiry == 1 && reports[0].suppressed == 0);
        // the expiry date itself still hides (expired means expires < run date)
        let stale = out.iter().find(|f| f.check == CheckId::SnapshotStale).unwrap();
        assert_eq!(stale.status, FindingStatus::Suppressed);
        assert!(!reports[1].expired);
    }
}
