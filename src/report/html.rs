//! `report.html`: one self-contained file (inline CSS, JS and SVG; a
//! Content-Security-Policy that forbids every fetch). Readable with
//! JavaScript off (every row is in the markup); with it on, tables page
//! (100 rows), filter, search and sort in the browser.
//!
//! Large fleets: the findings and apps tables are carried as one compact
//! JSON data block (`<script type="application/json">`, accounts, checks and
//! regions interned) from which the script builds one page of rows at a
//! time; the markup holds the first [`ROWS_WITHOUT_JS`] rows of each for
//! readers without JavaScript, with a note when rows are left out. At 5,000
//! accounts and 10,000 apps the file stays well under 25 MB.
//!
//! Escaping: askama escapes every `{{ }}` by default. The only `|safe`
//! values are this module's compile-time constants (CSS, JS) and the data
//! block, which [`ScriptJson`] escapes for the `<script>` context (`<`, `>`,
//! `&`, U+2028, U+2029 as `\uXXXX`). No AWS string is ever marked safe, and
//! the script inserts data with `textContent`/`setAttribute`, never as HTML.
//!
//! This module lays out what the inventory and evaluation already say:
//! sorting, grouping, scaling metric points to pixels, marking which lines of
//! two policy texts differ. It decides nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Write;

use askama::Template;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::csv::AppFacts;
use crate::checks::catalog::{CheckId, Family};
use crate::findings::{Cause, DriftRow, Evaluation, Finding, FindingStatus, NotChecked};
use crate::inventory::{metric_names, Account, AppRef, CheckpointMetrics, CoverageRow, CoverageStatus, InlineString, Inventory, PolicyLevel};
use crate::severity::Severity;

const STYLE: &str = include_str!("../../templates/report.css");
const SCRIPT: &str = include_str!("../../templates/report.js");
/// Runs before the body is parsed so CSS can page tables from the start.
const HEAD_SCRIPT: &str = "document.documentElement.classList.add('js')";

/// Rows of the findings and apps tables written as markup (what a reader
/// without JavaScript sees); all rows are in the data block.
pub const ROWS_WITHOUT_JS: usize = 1_000;
/// With more coverage rows than this, the HTML lists only the rows that are
/// not `ok` (coverage.csv has them all).
pub const COVERAGE_ALL_ROWS_LIMIT: usize = 2_000;
/// Causes written in the causes view, most severe first (findings.json has all).
pub const CAUSES_SHOWN: usize = 500;
/// Findings listed under one cause in the causes view.
const FINDINGS_PER_CAUSE: usize = 50;
/// Items listed in the summary's "new", "resolved" and "incomplete" lists.
const SUMMARY_LIST_LIMIT: usize = 50;
/// Buckets of an app's checkpoint picture (one bucket = 2 px).
const CHART_BUCKETS: usize = 60;
const CHART_W: usize = CHART_BUCKETS * 2;
const CHART_H: f64 = 34.0;
/// Policy texts longer than this many lines are shown without line marking.
const DIFF_MAX_LINES: usize = 400;

/// The CSP source expression that allows exactly `style` (for other pages
/// in the report's style).
pub fn style_hash(style: &str) -> String {
    csp_hash(style)
}

fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
}

/// The page's Content-Security-Policy: nothing may be fetched; only this
/// build's own script and style (by hash) run.
fn content_security_policy() -> String {
    format!(
        "default-src 'none'; script-src {} {}; style-src {}; img-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'",
        csp_hash(HEAD_SCRIPT),
        csp_hash(SCRIPT),
        csp_hash(STYLE)
    )
}

/// Writes `value` as JSON safe inside a `<script>` element: `<`, `>`, `&`
/// and the JavaScript line separators U+2028/U+2029 become `\uXXXX` escapes
/// (still the same JSON value), so no string can close the element. Streams
/// straight into the page: no page-sized intermediate string.
pub struct ScriptJson<T>(pub T);

struct EscapeForScript<'a, 'b> {
    out: &'a mut std::fmt::Formatter<'b>,
}

impl std::io::Write for EscapeForScript<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // serde_json splits its output only at ASCII characters, so `buf` is
        // whole UTF-8; the lossy fallback is never expected to run.
        let text = String::from_utf8_lossy(buf);
        let mut plain = 0;
        for (i, c) in text.char_indices() {
            let escape = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            self.out.write_str(&text[plain..i]).map_err(std::io::Error::other)?;
            self.out.write_str(escape).map_err(std::io::Error::other)?;
            plain = i + c.len_utf8();
        }
        self.out.write_str(&text[plain..]).map_err(std::io::Error::other)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<T: serde::Serialize> std::fmt::Display for ScriptJson<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        serde_json::to_writer(EscapeForScript { out: f }, &self.0).map_err(|_| std::fmt::Error)
    }
}

// ---------------------------------------------------------------------------
// Formatting helpers (pure presentation).

fn ms_text(ms: f64) -> String {
    if ms < 1_000.0 {
        format!("{ms:.0} ms")
    } else if ms < 120_000.0 {
        let s = ms / 1_000.0;
        if s.fract() == 0.0 {
            format!("{s:.0} s")
        } else {
            format!("{s:.1} s")
        }
    } else {
        let m = ms / 60_000.0;
        if m.fract() == 0.0 {
            format!("{m:.0} min")
        } else {
            format!("{m:.1} min")
        }
    }
}

fn time_text(at: Option<DateTime<Utc>>) -> String {
    at.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The last part of an ARN (`application/orders`), for compact cells.
fn short_arn(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

// ---------------------------------------------------------------------------
// View model.

struct SevBar {
    name: &'static str,
    count: usize,
    count_text: String,
    y: usize,
    width: usize,
    text_x: usize,
}

struct Delta<'a> {
    previous_run_id: String,
    new: Vec<&'a Finding>,
    new_count: usize,
    resolved: Vec<&'a Finding>,
    resolved_count: usize,
    not_checked: Vec<&'a NotChecked>,
    not_checked_count: usize,
    still_open: usize,
}

struct Summary<'a> {
    accounts_total: usize,
    accounts_scanned: usize,
    regions: Vec<&'a str>,
    coverage_ok: usize,
    coverage_total: usize,
    coverage_pct: String,
    complete: bool,
    missing: Vec<&'a CoverageRow>,
    missing_total: usize,
    apps: usize,
    open: usize,
    suppressed: usize,
    drift_rows: usize,
    comparisons: usize,
    bars: Vec<SevBar>,
    chart_h: usize,
    delta: Option<Delta<'a>>,
    highest: &'static str,
}

struct FindingRow<'a> {
    f: &'a Finding,
    cause: Option<&'a Cause>,
    is_new: bool,
    family: &'static str,
    resource_short: &'a str,
}

/// One line of the causes view, with the findings folded under it.
struct CauseView<'a> {
    c: &'a Cause,
    findings: Vec<&'a Finding>,
}

struct Filters<'a> {
    checks: Vec<CheckId>,
    accounts: Vec<(&'a str, &'a str)>,
    ous: Vec<&'a str>,
    regions: Vec<&'a str>,
}

struct Chart {
    duration_path: String,
    interval_y: Option<String>,
    fails: Vec<(usize, String, String)>,
    label: String,
    window: String,
}

struct AppRow<'a> {
    a: AppRef<'a>,
    inventory: &'a Inventory,
    interval: InlineString,
    min_pause: InlineString,
    latest_snapshot: InlineString,
    failed: InlineString,
    failed_n: f64,
    max_duration: InlineString,
    max_duration_n: f64,
    boundary: Option<String>,
    findings: usize,
    /// AWS Health events (open or recent) of the app's account and region.
    health: Vec<String>,
}

impl AppRow<'_> {
    /// Drawn when rendered, not kept: 10,000 apps' pictures would be held
    /// twice over otherwise (markup rows and script data).
    fn chart(&self) -> Option<Chart> {
        let effective = self.a.app.checkpoint.effective;
        let metrics = self.a.app.metrics.as_ref()?;
        chart(metrics, effective.enabled.then_some(effective.interval_ms), &self.a.app.runtime, self.inventory)
    }
}

/// An app's chart for the script data, drawn as it is serialized:
/// `[path, interval_y, "x,y,h …", label, window]` or `null`.
struct ChartData<'a>(&'a AppRow<'a>);

impl serde::Serialize for ChartData<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let data = self.0.chart().map(|c| {
            let fails = c.fails.iter().map(|(x, y, h)| format!("{x},{y},{h}")).collect::<Vec<_>>().join(" ");
            (c.duration_path, c.interval_y, fails, c.label, c.window)
        });
        data.serialize(serializer)
    }
}

struct Chip<'a> {
    id: &'a str,
    name: &'a str,
    differs: bool,
}

struct LevelView<'a> {
    name: &'a str,
    id: &'a str,
    chips: Vec<Chip<'a>>,
}

struct LevelPair<'a> {
    baseline: Option<LevelView<'a>>,
    target: Option<LevelView<'a>>,
    differs: bool,
}

struct Line {
    text: String,
    changed: bool,
}

struct DriftView<'a> {
    d: &'a DriftRow,
    baseline: Vec<Line>,
    target: Vec<Line>,
}

struct DimGroup<'a> {
    dimension: &'a str,
    rows: Vec<DriftView<'a>>,
}

struct AccountLabel<'a> {
    id: &'a str,
    name: &'a str,
    ou: &'a str,
}

struct ComparisonView<'a> {
    name: &'a str,
    anchor: String,
    baseline: AccountLabel<'a>,
    target: AccountLabel<'a>,
    scp: Vec<LevelPair<'a>>,
    rcp: Vec<LevelPair<'a>>,
    access: Vec<&'a DriftRow>,
    groups: Vec<DimGroup<'a>>,
    total: usize,
}

struct CoverageView<'a> {
    rows: Vec<&'a CoverageRow>,
    all_shown: bool,
    total: usize,
    counts: Vec<(&'static str, usize)>,
}

struct CheckDoc {
    id: CheckId,
    severity: &'static str,
    family: &'static str,
    title: &'static str,
    doc: &'static crate::checks::check_doc::CheckDoc,
    findings: usize,
}

struct ApiCall<'a> {
    name: &'a str,
    count: u64,
}

struct RunMeta<'a> {
    run_id: &'a str,
    tool_version: &'a str,
    caller_arn: &'a str,
    config_digest: &'a str,
    started: String,
    finished: String,
    duration: String,
    window: String,
    interrupted: Option<&'a str>,
    organization: String,
    api_calls: Vec<ApiCall<'a>>,
    api_total: u64,
}

/// The data block: compact arrays (the script's `F_*` / `A_*` indexes
/// name the positions), with accounts, checks and regions interned.
#[derive(serde::Serialize, Default)]
struct PageData<'a> {
    /// `[id, name, ou_path]`
    accounts: Vec<(&'a str, &'a str, &'a str)>,
    /// `[id, title, family]` for every check of the catalogue.
    /// id, title, family, why it matters, how to fix.
    checks: Vec<(&'static str, &'static str, &'static str, &'static str, &'static str)>,
    regions: Vec<&'a str>,
    /// `[cause_id, what]`
    causes: Vec<(&'a str, &'a str)>,
    findings: FindingsData<'a>,
    apps: AppsData<'a>,
}

/// `[severity 0-4, check, account, region, suppressed 0/1, new 0/1,
///   resource_arn, subject, title, detail, [[label, value]…], finding_id, suppression, cause]`
#[derive(serde::Serialize)]
struct FindingData<'a>(
    u8,
    usize,
    usize,
    usize,
    u8,
    u8,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    Vec<(&'a str, &'a crate::findings::EvidenceValue)>,
    &'a str,
    Option<String>,
    Option<usize>,
);

/// `[account, region, name, arn, status, runtime, checkpointing 0/1, interval,
///   min_pause, configuration_type, snapshots 0/1, latest_snapshot, failed,
///   failed_n, max_duration, max_duration_n, role, boundary, key_type,
///   key_arn, open_findings, chart, health]`; chart = `[path, interval_y, "x,y,h …", label, window]`
#[derive(serde::Serialize)]
struct AppData<'a>(
    usize,
    usize,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    u8,
    &'a str,
    &'a str,
    &'a str,
    u8,
    &'a str,
    &'a str,
    f64,
    &'a str,
    f64,
    Option<&'a str>,
    Option<&'a str>,
    &'a str,
    Option<&'a str>,
    usize,
    ChartData<'a>,
    &'a [String],
);

#[derive(Default)]
struct Interner<'a> {
    accounts: HashMap<(&'a str, &'a str, &'a str), usize>,
    regions: HashMap<&'a str, usize>,
}

impl<'a> Interner<'a> {
    fn account(&mut self, data: &mut PageData<'a>, key: (&'a str, &'a str, &'a str)) -> usize {
        *self.accounts.entry(key).or_insert_with(|| {
            data.accounts.push(key);
            data.accounts.len() - 1
        })
    }

    fn region(&mut self, data: &mut PageData<'a>, region: &'a str) -> usize {
        *self.regions.entry(region).or_insert_with(|| {
            data.regions.push(region);
            data.regions.len() - 1
        })
    }
}

fn severity_index(s: Severity) -> u8 {
    Severity::ALL.iter().position(|x| *x == s).unwrap_or(0) as u8
}

/// Borrows from the rows, so the apps' texts and charts exist once.
fn page_data<'a>(findings: &'a [FindingRow<'a>], apps: &'a [AppRow<'a>], causes: &'a [Cause]) -> PageData<'a> {
    let mut data = PageData {
        checks: CheckId::ALL.iter().map(|c| (c.as_str(), c.title(), family_str(c.family()), c.doc().why, c.doc().fix)).collect(),
        causes: causes.iter().map(|c| (c.cause_id.as_str(), c.what.as_str())).collect(),
        ..Default::default()
    };
    let mut interner = Interner::default();
    for r in findings {
        interner.account(&mut data, (&r.f.account_id, &r.f.account_name, &r.f.ou_path));
        interner.region(&mut data, &r.f.region);
    }
    for r in apps {
        interner.account(&mut data, (&r.a.account.id, &r.a.account.name, &r.a.account.ou_path));
        interner.region(&mut data, r.a.region);
    }
    data.apps = AppsData { rows: apps, accounts: interner.accounts.clone(), regions: interner.regions.clone() };
    data.findings = FindingsData {
        rows: findings,
        accounts: interner.accounts,
        regions: interner.regions,
        causes: causes.iter().enumerate().map(|(i, c)| (c.cause_id.as_str(), i)).collect(),
        checks: CheckId::ALL.iter().enumerate().map(|(i, c)| (*c, i)).collect(),
    };
    data
}

/// The apps' rows of the data block, written one by one like the findings'.
#[derive(Default)]
struct AppsData<'a> {
    rows: &'a [AppRow<'a>],
    accounts: HashMap<(&'a str, &'a str, &'a str), usize>,
    regions: HashMap<&'a str, usize>,
}

impl<'a> AppsData<'a> {
    fn row(&self, r: &'a AppRow<'a>) -> AppData<'a> {
        let a = r.a;
        AppData(
            self.accounts
                .get(&(a.account.id.as_str(), a.account.name.as_str(), a.account.ou_path.as_str()))
                .copied()
                .unwrap_or_default(),
            self.regions.get(a.region).copied().unwrap_or_default(),
            &a.app.name,
            &a.app.arn,
            &a.app.status,
            &a.app.runtime,
            u8::from(a.app.checkpoint.effective.enabled),
            &r.interval,
            &r.min_pause,
            &a.app.checkpoint.configuration_type,
            u8::from(a.app.snapshots_enabled),
            &r.latest_snapshot,
            &r.failed,
            r.failed_n,
            &r.max_duration,
            r.max_duration_n,
            a.app.execution_role_arn.as_deref(),
            r.boundary.as_deref(),
            &a.app.encryption.key_type,
            a.app.encryption.key_arn.as_deref(),
            r.findings,
            ChartData(r),
            &r.health,
        )
    }
}

impl serde::Serialize for AppsData<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.rows.iter().map(|r| self.row(r)))
    }
}

/// The findings' rows of the data block, written one by one as the page is
/// (lists of all rows held 17 MB more at 30,000 findings and 10,000 apps).
#[derive(Default)]
struct FindingsData<'a> {
    rows: &'a [FindingRow<'a>],
    accounts: HashMap<(&'a str, &'a str, &'a str), usize>,
    regions: HashMap<&'a str, usize>,
    causes: HashMap<&'a str, usize>,
    checks: HashMap<CheckId, usize>,
}

impl<'a> FindingsData<'a> {
    fn row(&self, r: &'a FindingRow<'a>) -> FindingData<'a> {
        let f = r.f;
        FindingData(
            severity_index(f.severity),
            self.checks.get(&f.check).copied().unwrap_or_default(),
            self.accounts.get(&(f.account_id.as_str(), f.account_name.as_str(), f.ou_path.as_str())).copied().unwrap_or_default(),
            self.regions.get(f.region.as_str()).copied().unwrap_or_default(),
            u8::from(f.status == FindingStatus::Suppressed),
            u8::from(r.is_new),
            &f.resource_arn,
            &f.subject,
            &f.title,
            &f.detail,
            f.evidence.iter().map(|e| (e.label.as_str(), &e.value)).collect(),
            &f.finding_id,
            f.suppression.as_ref().map(|s| match s.expires {
                Some(until) => format!("{} (until {until})", s.reason),
                None => s.reason.clone(),
            }),
            r.cause.and_then(|c| self.causes.get(c.cause_id.as_str()).copied()),
        )
    }
}

impl serde::Serialize for FindingsData<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.rows.iter().map(|r| self.row(r)))
    }
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage<'a> {
    csp: String,
    style: &'static str,
    head_script: &'static str,
    script: &'static str,
    run: RunMeta<'a>,
    summary: Summary<'a>,
    /// The first [`CAUSES_SHOWN`] causes, each with its first findings.
    causes: Vec<CauseView<'a>>,
    causes_total: usize,
    /// Causes with an open finding.
    causes_open: usize,
    /// Open findings and coverage over the last runs of the output folder.
    trend: Option<super::trend::TrendChart>,
    /// The first [`ROWS_WITHOUT_JS`] rows, as markup.
    findings: &'a [FindingRow<'a>],
    findings_total: usize,
    filters: Filters<'a>,
    apps: &'a [AppRow<'a>],
    apps_total: usize,
    /// Every row of both tables, for the script.
    data: ScriptJson<PageData<'a>>,
    chart_w: usize,
    chart_h: usize,
    comparisons: Vec<ComparisonView<'a>>,
    coverage: CoverageView<'a>,
    checks: Vec<CheckDoc>,
}

fn family_str(family: Family) -> &'static str {
    family.as_str()
}

fn summary<'a>(inventory: &'a Inventory, evaluation: &'a Evaluation, comparisons: usize) -> Summary<'a> {
    let coverage_total = inventory.coverage.len();
    let coverage_ok = inventory.coverage.iter().filter(|c| c.is_complete()).count();
    let missing_all: Vec<&CoverageRow> = inventory.coverage.iter().filter(|c| !c.is_complete()).collect();
    let open = evaluation.findings.iter().filter(|f| f.status == FindingStatus::Open).count();
    let by_sev: Vec<(Severity, usize)> = Severity::ALL.iter().rev().map(|s| (*s, evaluation.open_by_severity.get(s).copied().unwrap_or(0))).collect();
    let max = by_sev.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let bars = by_sev
        .iter()
        .enumerate()
        .map(|(i, (s, n))| {
            let width = if *n == 0 { 0 } else { ((*n as f64 / max as f64) * 200.0).ceil().max(2.0) as usize };
            SevBar { name: s.as_str(), count: *n, count_text: thousands(*n), y: i * 24, width, text_x: 284 }
        })
        .collect();
    let delta = evaluation.since_previous.as_ref().map(|d| {
        let new_ids: HashSet<&str> = d.new.iter().map(String::as_str).collect();
        let new: Vec<&Finding> = evaluation.findings.iter().filter(|f| new_ids.contains(f.finding_id.as_str())).take(SUMMARY_LIST_LIMIT).collect();
        Delta {
            previous_run_id: d.previous_run_id.clone().unwrap_or_default(),
            new,
            new_count: d.new.len(),
            resolved: d.resolved.iter().take(SUMMARY_LIST_LIMIT).collect(),
            resolved_count: d.resolved.len(),
            not_checked: d.not_checked.iter().take(SUMMARY_LIST_LIMIT).collect(),
            not_checked_count: d.not_checked.len(),
            still_open: d.still_open,
        }
    });
    let mut regions: Vec<&str> = inventory.run.regions.iter().map(String::as_str).collect();
    if regions.is_empty() {
        let set: BTreeSet<&str> = inventory.accounts.iter().flat_map(|a| a.regions.iter().map(|r| r.region.as_str())).collect();
        regions = set.into_iter().collect();
    }
    Summary {
        accounts_total: inventory.accounts.len(),
        accounts_scanned: inventory.accounts.iter().filter(|a| a.scan.is_scanned()).count(),
        regions,
        coverage_ok,
        coverage_total,
        coverage_pct: if coverage_total == 0 { "–".to_owned() } else { format!("{:.1}%", coverage_ok as f64 * 100.0 / coverage_total as f64) },
        complete: inventory.is_complete(),
        missing_total: missing_all.len(),
        missing: missing_all.into_iter().take(SUMMARY_LIST_LIMIT).collect(),
        apps: inventory.apps().count(),
        open,
        suppressed: evaluation.findings.len() - open,
        drift_rows: evaluation.drift.len(),
        comparisons,
        bars,
        chart_h: by_sev.len() * 24,
        delta,
        highest: evaluation.highest_open_severity().map(Severity::as_str).unwrap_or("none"),
    }
}

fn findings_rows<'a>(evaluation: &'a Evaluation) -> Vec<FindingRow<'a>> {
    let cause_of: HashMap<&str, &Cause> = evaluation.causes.iter().flat_map(|c| c.finding_ids.iter().map(move |id| (id.as_str(), c))).collect();
    let new_ids: HashSet<&str> = evaluation.since_previous.as_ref().map(|d| d.new.iter().map(String::as_str).collect()).unwrap_or_default();
    let mut rows: Vec<FindingRow<'a>> = evaluation
        .findings
        .iter()
        .map(|f| FindingRow {
            f,
            cause: cause_of.get(f.finding_id.as_str()).copied(),
            is_new: new_ids.contains(f.finding_id.as_str()),
            family: family_str(f.check.family()),
            resource_short: short_arn(&f.resource_arn),
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.f.status != FindingStatus::Open)
            .cmp(&(b.f.status != FindingStatus::Open))
            .then(b.f.severity.cmp(&a.f.severity))
            .then(a.f.check.cmp(&b.f.check))
            .then(a.f.account_name.cmp(&b.f.account_name))
            .then(a.f.region.cmp(&b.f.region))
            .then(a.f.resource_arn.cmp(&b.f.resource_arn))
    });
    rows
}

fn cause_views(evaluation: &Evaluation) -> Vec<CauseView<'_>> {
    let by_id: HashMap<&str, &Finding> = evaluation.findings.iter().map(|f| (f.finding_id.as_str(), f)).collect();
    evaluation
        .causes
        .iter()
        .take(CAUSES_SHOWN)
        .map(|c| CauseView {
            c,
            findings: c.finding_ids.iter().filter_map(|id| by_id.get(id.as_str()).copied()).take(FINDINGS_PER_CAUSE).collect(),
        })
        .collect()
}

fn filters<'a>(evaluation: &'a Evaluation) -> Filters<'a> {
    let checks: BTreeSet<CheckId> = evaluation.findings.iter().map(|f| f.check).collect();
    let accounts: BTreeSet<(&str, &str)> = evaluation.findings.iter().map(|f| (f.account_name.as_str(), f.account_id.as_str())).collect();
    let ous: BTreeSet<&str> = evaluation.findings.iter().map(|f| f.ou_path.as_str()).filter(|o| !o.is_empty()).collect();
    let regions: BTreeSet<&str> = evaluation.findings.iter().map(|f| f.region.as_str()).collect();
    Filters {
        checks: checks.into_iter().collect(),
        accounts: accounts.into_iter().collect(),
        ous: ous.into_iter().collect(),
        regions: regions.into_iter().collect(),
    }
}

/// Scales an app's metric series to a small picture: checkpoint duration as a
/// line (max per bucket), the interval as a dashed line, failed checkpoints
/// (increase of the cumulative counter) as red bars. The label counts the
/// restarts and the time not running from the metrics of the app's runtime
/// (`fullRestarts` / `downtime` on Flink 1.x, `numRestarts` /
/// `restartingTime` / `failingTime` on Flink 2.x).
fn chart(metrics: &CheckpointMetrics, interval_ms: Option<i64>, runtime: &str, inventory: &Inventory) -> Option<Chart> {
    let durations = metrics.points(metric_names::CHECKPOINT_DURATION);
    let failures = metrics.points(metric_names::FAILED_CHECKPOINTS);
    if durations.is_empty() && failures.is_empty() {
        return None;
    }
    let all = durations.iter().chain(failures.iter());
    let start = metrics.window_start.or(inventory.run.metrics_window_start).or_else(|| all.clone().map(|p| p.at).min())?;
    let end = metrics.window_end.or(inventory.run.metrics_window_end).or_else(|| all.map(|p| p.at).max())?;
    let span = (end - start).num_milliseconds().max(1) as f64;
    let bucket = |at: DateTime<Utc>| -> Option<usize> {
        let offset = (at - start).num_milliseconds() as f64;
        if offset < 0.0 || offset > span {
            return None;
        }
        Some(((offset / span) * CHART_BUCKETS as f64).floor().min(CHART_BUCKETS as f64 - 1.0) as usize)
    };

    let mut max_per_bucket: Vec<Option<f64>> = vec![None; CHART_BUCKETS];
    let mut max_duration: f64 = 0.0;
    for p in &durations {
        if let Some(b) = bucket(p.at) {
            let slot = &mut max_per_bucket[b];
            *slot = Some(slot.map_or(p.value, |v: f64| v.max(p.value)));
            max_duration = max_duration.max(p.value);
        }
    }
    let interval = interval_ms.map(|ms| ms as f64);
    let top = max_duration.max(interval.unwrap_or(0.0)).max(1.0) * 1.12;
    let y = |v: f64| -> f64 { CHART_H - 1.0 - (v / top) * (CHART_H - 3.0) };

    // Absolute move at the start of each run of points, then relative
    // segments with implicit repetition: `M1 30l2-1 2 1…` (10,000 apps).
    let mut path = String::new();
    let mut previous: Option<(usize, i64)> = None;
    let mut in_line = false;
    for (i, v) in max_per_bucket.iter().enumerate() {
        let Some(v) = v else {
            previous = None;
            continue;
        };
        let (x, py) = (i * 2 + 1, y(*v).round() as i64);
        match previous {
            None => {
                let _ = write!(path, "M{x} {py}");
                in_line = false;
            }
            Some((px, prev_y)) => {
                let dy = py - prev_y;
                path.push(if in_line { ' ' } else { 'l' });
                let _ = write!(path, "{}{}{dy}", x - px, if dy < 0 { "" } else { " " });
                in_line = true;
            }
        }
        previous = Some((x, py));
    }

    let mut failed_per_bucket = vec![0.0f64; CHART_BUCKETS];
    for pair in failures.windows(2) {
        let increase = if pair[1].value >= pair[0].value { pair[1].value - pair[0].value } else { pair[1].value };
        if increase > 0.0 {
            if let Some(b) = bucket(pair[1].at) {
                failed_per_bucket[b] += increase;
            }
        }
    }
    let max_failed = failed_per_bucket.iter().copied().fold(0.0, f64::max);
    let fails = failed_per_bucket
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0.0)
        .map(|(i, n)| {
            let h = 4.0 + (n / max_failed) * 10.0;
            (i * 2, format!("{:.0}", CHART_H - h), format!("{h:.0}"))
        })
        .collect();

    let hours = span / 3_600_000.0;
    let failed_total = metrics.failed_checkpoint_increase().unwrap_or(0.0);
    let mut label = format!("Last {hours:.0} h: {} failed checkpoints", super::csv::number(failed_total));
    if !durations.is_empty() {
        let _ = write!(label, "; max checkpoint duration {}", ms_text(max_duration));
    }
    if let Some(interval) = interval {
        let _ = write!(label, "; interval {}", ms_text(interval));
    }
    let restarts = metric_names::restarts(runtime);
    if let Some(n) = metrics.increase_of(restarts) {
        let _ = write!(label, "; {} restart(s) ({restarts})", super::csv::number(n));
    }
    for metric in metric_names::not_running(runtime) {
        if let Some(max) = metrics.max_of(metric).filter(|v| *v > 0.0) {
            let _ = write!(label, "; max {metric} {}", ms_text(max));
        }
    }
    Some(Chart {
        duration_path: path,
        interval_y: interval.map(|i| format!("{:.1}", y(i))),
        fails,
        label,
        window: format!("{} – {}", start.format("%m-%d %H:%M"), end.format("%m-%d %H:%M")),
    })
}

fn app_rows<'a>(inventory: &'a Inventory, evaluation: &'a Evaluation) -> Vec<AppRow<'a>> {
    let mut findings_per_resource: HashMap<&str, usize> = HashMap::new();
    for f in evaluation.findings.iter().filter(|f| f.status == FindingStatus::Open) {
        *findings_per_resource.entry(f.resource_arn.as_str()).or_default() += 1;
    }
    inventory
        .apps()
        .map(|a| {
            let facts = AppFacts::of(&a);
            let effective = a.app.checkpoint.effective;
            AppRow {
                interval: if effective.enabled { ms_text(effective.interval_ms as f64).into() } else { "–".into() },
                min_pause: if effective.enabled { ms_text(effective.min_pause_ms as f64).into() } else { "–".into() },
                latest_snapshot: a
                    .app
                    .latest_ready_snapshot()
                    .and_then(|s| s.created_at)
                    .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string().into())
                    .unwrap_or_default(),
                failed: facts.failed_checkpoints.map(|n| super::csv::number(n).into()).unwrap_or_else(|| "–".into()),
                failed_n: facts.failed_checkpoints.unwrap_or(-1.0),
                max_duration: facts.max_checkpoint_duration_ms.map(|ms| ms_text(ms).into()).unwrap_or_else(|| "–".into()),
                max_duration_n: facts.max_checkpoint_duration_ms.unwrap_or(-1.0),
                boundary: facts.permissions_boundary_arn,
                findings: findings_per_resource.get(a.app.arn.as_str()).copied().unwrap_or(0),
                health: inventory
                    .health
                    .iter()
                    .flat_map(|h| &h.events)
                    .filter(|e| e.affects(&a.account.id, a.region))
                    .map(|e| e.describe())
                    .collect(),
                inventory,
                a,
            }
        })
        .collect()
}

fn level_pairs<'a>(inventory: &'a Inventory, baseline: Option<&'a [PolicyLevel]>, target: Option<&'a [PolicyLevel]>) -> Vec<LevelPair<'a>> {
    let b = baseline.unwrap_or(&[]);
    let t = target.unwrap_or(&[]);
    let name_of = |id: &'a str| inventory.org_policy(id).map(|p| p.name.as_str()).unwrap_or(id);
    let view = |level: &'a PolicyLevel, other: Option<&'a PolicyLevel>| LevelView {
        name: &level.target_name,
        id: &level.target_id,
        chips: level
            .policy_ids
            .iter()
            .map(|id| Chip { id, name: name_of(id), differs: !other.is_some_and(|o| o.policy_ids.contains(id)) })
            .collect(),
    };
    (0..b.len().max(t.len()))
        .map(|i| {
            let (lb, lt) = (b.get(i), t.get(i));
            let baseline = lb.map(|l| view(l, lt));
            let target = lt.map(|l| view(l, lb));
            let differs = baseline.iter().chain(target.iter()).any(|v| v.chips.iter().any(|c| c.differs)) || lb.is_none() || lt.is_none();
            LevelPair { baseline, target, differs }
        })
        .collect()
}

/// Pretty-prints JSON text; other text is kept as is.
fn display_text(text: &str) -> String {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
            if let Ok(pretty) = serde_json::to_string_pretty(&value) {
                return pretty;
            }
        }
    }
    text.to_owned()
}

/// Splits two texts into lines and marks the lines that are not common to
/// both (longest common subsequence), for side-by-side highlighting.
fn line_diff(baseline: &str, target: &str) -> (Vec<Line>, Vec<Line>) {
    let (bt, tt) = (display_text(baseline), display_text(target));
    let b: Vec<&str> = bt.lines().collect();
    let t: Vec<&str> = tt.lines().collect();
    let plain = |lines: &[&str], changed: bool| -> Vec<Line> { lines.iter().map(|l| Line { text: (*l).to_owned(), changed }).collect() };
    if b.len() > DIFF_MAX_LINES || t.len() > DIFF_MAX_LINES || b.is_empty() || t.is_empty() {
        return (plain(&b, !t.is_empty() || b.is_empty()), plain(&t, true));
    }
    let (n, m) = (b.len(), t.len());
    let mut lcs = vec![vec![0u16; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if b[i] == t[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut bl, mut tl) = (Vec::with_capacity(n), Vec::with_capacity(m));
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && b[i] == t[j] {
            bl.push(Line { text: b[i].to_owned(), changed: false });
            tl.push(Line { text: t[j].to_owned(), changed: false });
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            tl.push(Line { text: t[j].to_owned(), changed: true });
            j += 1;
        } else {
            bl.push(Line { text: b[i].to_owned(), changed: true });
            i += 1;
        }
    }
    (bl, tl)
}

fn account_label<'a>(inventory: &'a Inventory, id: &'a str) -> (AccountLabel<'a>, Option<&'a Account>) {
    let account = inventory.account(id);
    (
        AccountLabel {
            id,
            name: account.map(|a| a.name.as_str()).unwrap_or(""),
            ou: account.map(|a| a.ou_path.as_str()).unwrap_or(""),
        },
        account,
    )
}

fn comparisons<'a>(inventory: &'a Inventory, evaluation: &'a Evaluation) -> Vec<ComparisonView<'a>> {
    let mut by_name: BTreeMap<&str, Vec<&DriftRow>> = BTreeMap::new();
    for d in &evaluation.drift {
        by_name.entry(d.comparison.as_str()).or_default().push(d);
    }
    by_name
        .into_iter()
        .enumerate()
        .map(|(i, (name, rows))| {
            let first = rows[0];
            let (baseline, b_acct) = account_label(inventory, &first.baseline_account_id);
            let (target, t_acct) = account_label(inventory, &first.target_account_id);
            let mut groups: BTreeMap<&str, Vec<DriftView<'a>>> = BTreeMap::new();
            let mut access = Vec::new();
            for d in &rows {
                if d.dimension == "access-decision" {
                    access.push(*d);
                    continue;
                }
                let (b, t) = line_diff(&d.baseline, &d.target);
                groups.entry(d.dimension.as_str()).or_default().push(DriftView { d, baseline: b, target: t });
            }
            ComparisonView {
                name,
                anchor: format!("cmp-{i}"),
                scp: level_pairs(inventory, b_acct.map(|a| a.scp_chain.as_slice()), t_acct.map(|a| a.scp_chain.as_slice())),
                rcp: level_pairs(inventory, b_acct.map(|a| a.rcp_chain.as_slice()), t_acct.map(|a| a.rcp_chain.as_slice())),
                baseline,
                target,
                access,
                groups: groups.into_iter().map(|(dimension, rows)| DimGroup { dimension, rows }).collect(),
                total: rows.len(),
            }
        })
        .collect()
}

fn coverage_view(inventory: &Inventory) -> CoverageView<'_> {
    let total = inventory.coverage.len();
    let all_shown = total <= COVERAGE_ALL_ROWS_LIMIT;
    let mut rows: Vec<&CoverageRow> = inventory.coverage.iter().filter(|c| all_shown || !c.is_complete()).collect();
    rows.sort_by_key(|c| (c.status == CoverageStatus::Ok, c.status, c.account_name.as_str(), c.region.as_str()));
    let statuses = [
        CoverageStatus::Ok,
        CoverageStatus::Denied,
        CoverageStatus::RegionDisabled,
        CoverageStatus::Throttled,
        CoverageStatus::Error,
        CoverageStatus::Skipped,
    ];
    let counts = statuses
        .iter()
        .map(|s| (s.as_str(), inventory.coverage.iter().filter(|c| c.status == *s).count()))
        .filter(|(_, n)| *n > 0)
        .collect();
    CoverageView { rows, all_shown, total, counts }
}

fn run_meta<'a>(run_id: &'a str, inventory: &'a Inventory) -> RunMeta<'a> {
    let run = &inventory.run;
    let duration = match (run.started_at, run.finished_at) {
        (Some(s), Some(f)) => ms_text((f - s).num_milliseconds().max(0) as f64),
        _ => String::new(),
    };
    RunMeta {
        run_id,
        tool_version: &run.tool_version,
        caller_arn: run.caller_arn.as_deref().unwrap_or(""),
        config_digest: run.config_digest.as_deref().unwrap_or(""),
        started: time_text(run.started_at),
        finished: time_text(run.finished_at),
        duration,
        window: match (run.metrics_window_start, run.metrics_window_end) {
            (Some(s), Some(e)) => format!("{} – {}", time_text(Some(s)), time_text(Some(e))),
            _ => String::new(),
        },
        interrupted: run.interrupted.as_deref(),
        organization: inventory
            .organization
            .as_ref()
            .map(|o| format!("{} (management account {})", o.id, o.management_account_id))
            .unwrap_or_default(),
        api_calls: run.api_calls.iter().map(|(name, count)| ApiCall { name, count: *count }).collect(),
        api_total: run.api_calls.values().sum(),
    }
}

/// Renders `report.html` into `out` (streamed: no page-sized string).
pub fn write_report<W: Write>(out: W, run_id: &str, inventory: &Inventory, evaluation: &Evaluation) -> std::io::Result<()> {
    let current = [super::trend::RunSummary::of(run_id, inventory, evaluation)];
    write_report_with_trend(out, run_id, inventory, evaluation, &current)
}

/// [`write_report`] with the trend of the runs given (oldest first, this one last).
pub fn write_report_with_trend<W: Write>(
    out: W,
    run_id: &str,
    inventory: &Inventory,
    evaluation: &Evaluation,
    trend: &[super::trend::RunSummary],
) -> std::io::Result<()> {
    let mut out = out;
    let comparisons = comparisons(inventory, evaluation);
    let mut per_check: HashMap<CheckId, usize> = HashMap::new();
    for f in evaluation.findings.iter().filter(|f| f.status == FindingStatus::Open) {
        *per_check.entry(f.check).or_default() += 1;
    }
    let run_id = if run_id.is_empty() { inventory.run.run_id.as_str() } else { run_id };
    let findings = findings_rows(evaluation);
    let apps = app_rows(inventory, evaluation);
    let data = ScriptJson(page_data(&findings, &apps, &evaluation.causes));
    let (findings_total, apps_total) = (findings.len(), apps.len());
    let page = ReportPage {
        csp: content_security_policy(),
        style: STYLE,
        head_script: HEAD_SCRIPT,
        script: SCRIPT,
        run: run_meta(run_id, inventory),
        summary: summary(inventory, evaluation, comparisons.len()),
        causes: cause_views(evaluation),
        causes_total: evaluation.causes.len(),
        causes_open: evaluation.open_causes(),
        trend: super::trend::chart(trend),
        findings: &findings[..findings_total.min(ROWS_WITHOUT_JS)],
        findings_total,
        filters: filters(evaluation),
        apps: &apps[..apps_total.min(ROWS_WITHOUT_JS)],
        apps_total,
        data,
        chart_w: CHART_W,
        chart_h: CHART_H as usize,
        comparisons,
        coverage: coverage_view(inventory),
        checks: CheckId::ALL
            .iter()
            .map(|c| CheckDoc {
                id: *c,
                severity: c.default_severity().as_str(),
                family: family_str(c.family()),
                title: c.title(),
                doc: c.doc(),
                findings: per_check.get(c).copied().unwrap_or(0),
            })
            .collect(),
    };
    page.write_into(&mut out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_close_the_script_element() {
        let json = ScriptJson(serde_json::json!({"name": "</script><img src=x onerror=alert(1)>&\u{2028}"})).to_string();
        assert!(!json.contains('<') && !json.contains('>') && !json.contains('&'));
        assert!(json.contains("\\u003c/script\\u003e"));
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["name"], "</script><img src=x onerror=alert(1)>&\u{2028}");
    }

    #[test]
    fn line_diff_marks_only_changed_lines() {
        let (b, t) = line_diff(r#"{"Statement":[{"Effect":"Allow","Action":"s3:*"}]}"#, r#"{"Statement":[{"Effect":"Deny","Action":"s3:*"}]}"#);
        let changed = |lines: &[Line]| lines.iter().filter(|l| l.changed).map(|l| l.text.trim().to_owned()).collect::<Vec<_>>();
        assert_eq!(changed(&b), vec![r#""Effect": "Allow","#]);
        assert_eq!(changed(&t), vec![r#""Effect": "Deny","#]);
    }

    #[test]
    fn chart_paths_are_short_relative_segments() {
        let start = DateTime::parse_from_rfc3339("2026-11-25T00:00:00Z").unwrap().with_timezone(&Utc);
        let points = |values: &[f64]| -> Vec<crate::inventory::MetricPoint> {
            values
                .iter()
                .enumerate()
                .map(|(i, v)| crate::inventory::MetricPoint { at: start + chrono::Duration::minutes(24 * i as i64), value: *v })
                .collect()
        };
        let mut metrics = CheckpointMetrics {
            window_start: Some(start),
            window_end: Some(start + chrono::Duration::hours(24)),
            period_secs: 24 * 60,
            series: BTreeMap::new(),
        };
        metrics.set_points(metric_names::CHECKPOINT_DURATION, points(&[1000.0, 1000.0, 3000.0]));
        metrics.set_points(metric_names::FAILED_CHECKPOINTS, points(&[5.0, 5.0, 7.0]));
        let inventory = Inventory {
            schema_version: 1,
            run: Default::default(),
            organization: None,
            accounts: vec![],
            coverage: vec![],
            health: None,
        };
        let c = chart(&metrics, Some(6000), "FLINK-1_20", &inventory).unwrap();
        assert_eq!(c.duration_path, "M1 28l2 0 2-9");
        assert_eq!(c.fails.len(), 1);
        assert!(c.label.contains("2 failed checkpoints"), "{}", c.label);
        assert!(c.interval_y.is_some());

        // restarts come from the runtime's own counter
        metrics.set_points(metric_names::FULL_RESTARTS, points(&[1.0, 1.0, 2.0]));
        metrics.set_points(metric_names::NUM_RESTARTS, points(&[4.0, 6.0, 9.0]));
        metrics.set_points(metric_names::RESTARTING_TIME, points(&[0.0, 45_000.0, 0.0]));
        let flink1 = chart(&metrics, Some(6000), "FLINK-1_20", &inventory).unwrap().label;
        let flink2 = chart(&metrics, Some(6000), "FLINK-2_2", &inventory).unwrap().label;
        assert!(flink1.contains("1 restart(s) (fullRestarts)") && !flink1.contains("restartingTime"), "{flink1}");
        assert!(flink2.contains("5 restart(s) (numRestarts)") && flink2.contains("max restartingTime 45 s"), "{flink2}");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(ms_text(850.0), "850 ms");
        assert_eq!(ms_text(60_000.0), "60 s");
        assert_eq!(ms_text(12_345.0), "12.3 s");
        assert_eq!(ms_text(300_000.0), "5 min");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
