//! The four CSV files of SPEC §8: `findings.csv`, `apps.csv`, `drift.csv`,
//! `coverage.csv`. Columns are a contract: exactly these, in this order.
//! RFC 4180 (comma, `"` quoting only where needed, CRLF line ends), UTF-8
//! without a byte-order mark.
//!
//! **Formula neutralisation.** A text cell starting with `=`, `+`, `-`, `@`,
//! tab or CR would be run as a formula by a spreadsheet, so it gets a leading
//! `'` (which spreadsheets show as a text marker). Numbers are the exception:
//! the numeric columns (`checkpoint_interval_ms`, `min_pause_ms`,
//! `failed_checkpoints`, `max_checkpoint_duration_ms`) are written from typed
//! values and never prefixed, and any cell that is entirely a plain decimal
//! number (`-5`, `-0.25`) is left as is in every column: a spreadsheet reads
//! it as a number and cannot run it, while `'-5` would turn a number into
//! text and break sums and sorting. `-5+cmd|' /C calc'!A0` is not a plain
//! number, so it is neutralised.

use std::borrow::Cow;
use std::io::Write;

use crate::findings::{DriftRow, Evaluation};
use crate::inventory::{metric_names, AppRef, CoverageRow, Inventory};

/// `cause_id` trails the original twelve columns, so scripts reading by
/// position keep working.
pub const FINDINGS_COLUMNS: [&str; 13] = [
    "finding_id",
    "check_id",
    "severity",
    "status",
    "account_id",
    "account_name",
    "ou_path",
    "region",
    "resource_arn",
    "title",
    "detail",
    "evidence",
    "cause_id",
];
pub const APPS_COLUMNS: [&str; 19] = [
    "account_id",
    "account_name",
    "ou_path",
    "region",
    "application_name",
    "application_arn",
    "status",
    "runtime",
    "checkpointing_enabled",
    "checkpoint_interval_ms",
    "min_pause_ms",
    "snapshots_enabled",
    "latest_snapshot_at",
    "failed_checkpoints",
    "max_checkpoint_duration_ms",
    "execution_role_arn",
    "permissions_boundary_arn",
    "encryption_key_type",
    "encryption_key_arn",
];
pub const DRIFT_COLUMNS: [&str; 9] =
    ["comparison", "baseline_account_id", "target_account_id", "application", "dimension", "subject", "baseline", "target", "explanation"];
pub const COVERAGE_COLUMNS: [&str; 8] = ["account_id", "account_name", "region", "scope", "status", "error_code", "request_id", "detail"];

/// Is `s` a plain decimal number such as `12`, `-5` or `-0.25`?
fn is_plain_number(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    !int.is_empty() && !frac.is_empty() && int.bytes().all(|b| b.is_ascii_digit()) && frac.bytes().all(|b| b.is_ascii_digit())
}

/// Neutralises a text cell a spreadsheet would run as a formula (see the
/// module documentation for the rule and the number exception).
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') if !is_plain_number(cell) => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// Formats a metric value: whole numbers without a fraction, others as Rust
/// prints them. Metric values are typed numbers, never formulas.
pub(crate) fn number(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// A CSV writer applying the contract dialect; text cells go through
/// [`neutralize`], numeric cells through [`Row::num`].
struct Table<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> Table<W> {
    fn new(out: W, columns: &[&str]) -> csv::Result<Self> {
        let mut inner = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).quote_style(csv::QuoteStyle::Necessary).from_writer(out);
        inner.write_record(columns)?;
        Ok(Self { inner })
    }

    fn row(&mut self, cells: &[Cell<'_>]) -> csv::Result<()> {
        self.inner.write_record(
            cells
                .iter()
                .map(|cell| match cell {
                    Cell::Text(text) => neutralize(text),
                    Cell::Num(text) => Cow::Borrowed(text.as_str()),
                })
                .collect::<Vec<_>>()
                .iter()
                .map(|c| c.as_bytes()),
        )
    }

    fn finish(mut self) -> csv::Result<()> {
        self.inner.flush()?;
        Ok(())
    }
}

enum Cell<'a> {
    Text(&'a str),
    Num(String),
}

fn text(s: &str) -> Cell<'_> {
    Cell::Text(s)
}

fn opt<S: AsRef<str>>(s: &Option<S>) -> Cell<'_> {
    Cell::Text(s.as_ref().map(AsRef::as_ref).unwrap_or(""))
}

fn io_error(err: csv::Error) -> std::io::Error {
    match err.into_kind() {
        csv::ErrorKind::Io(err) => err,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// `findings.csv`: every finding, open and suppressed, with its cause.
pub fn write_findings<W: Write>(out: W, evaluation: &Evaluation) -> std::io::Result<()> {
    let mut table = Table::new(out, &FINDINGS_COLUMNS).map_err(io_error)?;
    let causes = evaluation.cause_ids();
    for f in &evaluation.findings {
        let evidence = f.evidence_text();
        table
            .row(&[
                text(&f.finding_id),
                text(f.check.as_str()),
                text(f.severity.as_str()),
                text(f.status.as_str()),
                text(&f.account_id),
                text(&f.account_name),
                text(&f.ou_path),
                text(&f.region),
                text(&f.resource_arn),
                text(&f.title),
                text(&f.detail),
                text(&evidence),
                text(causes.get(f.finding_id.as_str()).copied().unwrap_or("")),
            ])
            .map_err(io_error)?;
    }
    table.finish().map_err(io_error)
}

/// The apps.csv values of one application, derived from the inventory only.
pub(crate) struct AppFacts {
    pub latest_snapshot_at: String,
    pub failed_checkpoints: Option<f64>,
    pub max_checkpoint_duration_ms: Option<f64>,
    pub permissions_boundary_arn: Option<String>,
}

impl AppFacts {
    pub(crate) fn of(app: &AppRef<'_>) -> Self {
        let metrics = app.app.metrics.as_ref();
        Self {
            latest_snapshot_at: app
                .app
                .latest_ready_snapshot()
                .and_then(|s| s.created_at)
                .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default(),
            failed_checkpoints: metrics.and_then(|m| m.failed_checkpoint_increase()),
            max_checkpoint_duration_ms: metrics.and_then(|m| m.max_of(metric_names::CHECKPOINT_DURATION)),
            permissions_boundary_arn: app
                .app
                .execution_role_arn
                .as_deref()
                .and_then(|arn| app.account.role(arn))
                .and_then(|role| role.permissions_boundary_arn.clone()),
        }
    }
}

fn opt_num(value: Option<f64>) -> Cell<'static> {
    Cell::Num(value.map(number).unwrap_or_default())
}

/// `apps.csv`: one row per Flink application, effective checkpoint values.
pub fn write_apps<W: Write>(out: W, inventory: &Inventory) -> std::io::Result<()> {
    let mut table = Table::new(out, &APPS_COLUMNS).map_err(io_error)?;
    for app in inventory.apps() {
        let facts = AppFacts::of(&app);
        let a = app.app;
        let effective = a.checkpoint.effective;
        table
            .row(&[
                text(&app.account.id),
                text(&app.account.name),
                text(&app.account.ou_path),
                text(app.region),
                text(&a.name),
                text(&a.arn),
                text(&a.status),
                text(&a.runtime),
                text(if effective.enabled { "true" } else { "false" }),
                Cell::Num(effective.interval_ms.to_string()),
                Cell::Num(effective.min_pause_ms.to_string()),
                text(if a.snapshots_enabled { "true" } else { "false" }),
                text(&facts.latest_snapshot_at),
                opt_num(facts.failed_checkpoints),
                opt_num(facts.max_checkpoint_duration_ms),
                opt(&a.execution_role_arn),
                opt(&facts.permissions_boundary_arn),
                text(&a.encryption.key_type),
                opt(&a.encryption.key_arn),
            ])
            .map_err(io_error)?;
    }
    table.finish().map_err(io_error)
}

/// `drift.csv`: one row per difference between a baseline and a target.
pub fn write_drift<W: Write>(out: W, drift: &[DriftRow]) -> std::io::Result<()> {
    let mut table = Table::new(out, &DRIFT_COLUMNS).map_err(io_error)?;
    for d in drift {
        table
            .row(&[
                text(&d.comparison),
                text(&d.baseline_account_id),
                text(&d.target_account_id),
                text(&d.application),
                text(&d.dimension),
                text(&d.subject),
                text(&d.baseline),
                text(&d.target),
                text(&d.explanation),
            ])
            .map_err(io_error)?;
    }
    table.finish().map_err(io_error)
}

/// `coverage.csv`: every account × region × scope collect tried.
pub fn write_coverage<W: Write>(out: W, coverage: &[CoverageRow]) -> std::io::Result<()> {
    let mut table = Table::new(out, &COVERAGE_COLUMNS).map_err(io_error)?;
    for c in coverage {
        table
            .row(&[
                text(&c.account_id),
                text(&c.account_name),
                text(&c.region),
                text(&c.scope),
                text(c.status.as_str()),
                opt(&c.error_code),
                opt(&c.request_id),
                opt(&c.detail),
            ])
            .map_err(io_error)?;
    }
    table.finish().map_err(io_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_numbers_kept() {
        for (input, expected) in [
            ("=1+1", "'=1+1"),
            ("+SUM(A1)", "'+SUM(A1)"),
            ("-2+3", "'-2+3"),
            ("@cmd", "'@cmd"),
            ("\t=x", "'\t=x"),
            ("\r=x", "'\r=x"),
            ("-5+cmd|' /C calc'!A0", "'-5+cmd|' /C calc'!A0"),
            ("-", "'-"),
            ("-.5", "'-.5"),
            ("-5", "-5"),
            ("-0.25", "-0.25"),
            ("prod-orders", "prod-orders"),
            ("", ""),
            (" =x", " =x"),
        ] {
            assert_eq!(neutralize(input), expected, "{input:?}");
        }
    }

    #[test]
    fn numbers_print_without_needless_fractions() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(-4.0), "-4");
        assert_eq!(number(12.5), "12.5");
    }
}
