//! Trend across nights: every run writes a small `summary.json` (open
//! findings by severity, causes, coverage); the report draws the last
//! `output.trend_runs` of them as an inline SVG. Only these small files are
//! read — never a previous snapshot — so the trend costs the same at 5,000
//! accounts as at 5.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::output::parse_run_id;
use crate::findings::Evaluation;
use crate::inventory::Inventory;
use crate::severity::Severity;

pub const SUMMARY_JSON: &str = "summary.json";

/// One run, as the trend needs it (`summary.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub run_id: String,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    pub complete: bool,
    pub open_by_severity: BTreeMap<Severity, usize>,
    pub open: usize,
    pub causes: usize,
    pub coverage_ok: usize,
    pub coverage_total: usize,
}

impl RunSummary {
    pub fn of(run_id: &str, inventory: &Inventory, evaluation: &Evaluation) -> Self {
        Self {
            run_id: run_id.to_owned(),
            finished_at: inventory.run.finished_at,
            complete: inventory.is_complete(),
            open_by_severity: evaluation.open_by_severity.clone(),
            open: evaluation.open_by_severity.values().sum(),
            causes: evaluation.open_causes(),
            coverage_ok: inventory.coverage.iter().filter(|c| c.is_complete()).count(),
            coverage_total: inventory.coverage.len(),
        }
    }

    pub fn coverage_pct(&self) -> f64 {
        if self.coverage_total == 0 {
            100.0
        } else {
            self.coverage_ok as f64 * 100.0 / self.coverage_total as f64
        }
    }
}

/// The summaries of up to `limit` runs in `out_dir` before `current`
/// (oldest first). Runs without a readable `summary.json` (older versions,
/// a crash) are left out.
pub fn previous(out_dir: &Path, current: &str, limit: usize) -> Vec<RunSummary> {
    let mut runs: Vec<String> = std::fs::read_dir(out_dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name != current && parse_run_id(name).is_some())
        .collect();
    runs.sort_by(|a, b| parse_run_id(b).cmp(&parse_run_id(a)));
    let mut out: Vec<RunSummary> = runs
        .iter()
        .filter(|name| parse_run_id(name) < parse_run_id(current))
        .filter_map(|name| {
            let text = std::fs::read_to_string(out_dir.join(name).join(SUMMARY_JSON)).ok()?;
            serde_json::from_str(&text).ok()
        })
        .take(limit)
        .collect();
    out.reverse();
    out
}

/// A line of the chart: its CSS class, SVG path and points with a tooltip.
pub struct TrendLine {
    pub class: &'static str,
    pub label: String,
    pub path: String,
    pub points: Vec<(String, String, String)>,
}

pub struct TrendChart {
    pub width: usize,
    pub height: usize,
    /// Where the scales' labels go.
    pub top: usize,
    pub bottom: usize,
    pub right_x: usize,
    pub lines: Vec<TrendLine>,
    pub coverage: TrendLine,
    pub max_open: usize,
    pub first: String,
    pub last: String,
    pub runs: usize,
}

const W: f64 = 560.0;
const H: f64 = 120.0;
const PAD: f64 = 8.0;
/// Room for the scales: open findings on the left, coverage on the right.
const LEFT: f64 = 30.0;
const RIGHT: f64 = 38.0;

/// Scales the runs to a small chart: open findings per severity (left axis,
/// 0..max) and coverage (0..100 %, dashed).
pub fn chart(runs: &[RunSummary]) -> Option<TrendChart> {
    let first = runs.first()?;
    let last = runs.last()?;
    let max_open = runs.iter().flat_map(|r| r.open_by_severity.values().copied()).max().unwrap_or(0).max(1);
    let x = |i: usize| if runs.len() == 1 { (LEFT + W - RIGHT) / 2.0 } else { LEFT + i as f64 * (W - LEFT - RIGHT) / (runs.len() - 1) as f64 };
    let y = |v: f64, max: f64| H - PAD - v / max * (H - 2.0 * PAD);
    let line = |class: &'static str, label: String, value: &dyn Fn(&RunSummary) -> f64, max: f64, unit: &str| {
        let mut path = String::new();
        let points = runs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let (px, py) = (x(i), y(value(r), max));
                path.push_str(&format!("{}{px:.1} {py:.1}", if i == 0 { "M" } else { "L" }));
                (format!("{px:.1}"), format!("{py:.1}"), format!("{}: {} {label}{unit}", r.run_id, format_value(value(r))))
            })
            .collect();
        TrendLine { class, label, path, points }
    };
    let lines = Severity::ALL
        .iter()
        .rev()
        .filter(|s| runs.iter().any(|r| r.open_by_severity.get(s).copied().unwrap_or(0) > 0))
        .map(|s| {
            let s = *s;
            line(
                severity_class(s),
                s.as_str().to_owned(),
                &|r: &RunSummary| r.open_by_severity.get(&s).copied().unwrap_or(0) as f64,
                max_open as f64,
                " open",
            )
        })
        .collect();
    let coverage = line("cov", "coverage".to_owned(), &|r: &RunSummary| r.coverage_pct(), 100.0, " %");
    Some(TrendChart {
        width: W as usize,
        height: H as usize,
        top: (PAD + 4.0) as usize,
        bottom: (H - PAD) as usize,
        right_x: (W - RIGHT + 6.0) as usize,
        lines,
        coverage,
        max_open,
        first: first.run_id.clone(),
        last: last.run_id.clone(),
        runs: runs.len(),
    })
}

fn format_value(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn severity_class(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "sev-critical",
        Severity::High => "sev-high",
        Severity::Medium => "sev-medium",
        Severity::Low => "sev-low",
        Severity::Info => "sev-info",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: &str, high: usize, ok: usize) -> RunSummary {
        RunSummary {
            run_id: id.to_owned(),
            finished_at: None,
            complete: ok == 10,
            open_by_severity: [(Severity::High, high)].into_iter().collect(),
            open: high,
            causes: 1,
            coverage_ok: ok,
            coverage_total: 10,
        }
    }

    #[test]
    fn previous_runs_are_read_from_their_summaries_only_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        for (id, high) in [("20261120T021500Z", 1), ("20261121T021500Z", 2), ("20261122T021500Z", 3), ("20261123T021500Z", 4)] {
            std::fs::create_dir(dir.path().join(id)).unwrap();
            std::fs::write(dir.path().join(id).join(SUMMARY_JSON), serde_json::to_string(&run(id, high, 10)).unwrap()).unwrap();
        }
        // a run of an older version without summary.json, and a non-run folder
        std::fs::create_dir(dir.path().join("20261119T021500Z")).unwrap();
        std::fs::create_dir(dir.path().join("latest-ish")).unwrap();
        let got = previous(dir.path(), "20261123T021500Z", 2);
        assert_eq!(got.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>(), ["20261121T021500Z", "20261122T021500Z"]);
        assert_eq!(previous(dir.path(), "20261123T021500Z", 30).len(), 3);
    }

    #[test]
    fn chart_scales_severities_and_coverage() {
        let c = chart(&[run("a", 2, 10), run("b", 4, 5)]).unwrap();
        assert_eq!(c.lines.len(), 1);
        assert_eq!(c.lines[0].class, "sev-high");
        assert_eq!(c.lines[0].path, "M30.0 60.0L522.0 8.0");
        assert_eq!(c.coverage.path, "M30.0 8.0L522.0 60.0");
        assert_eq!(c.lines[0].points[1].2, "b: 4 high open");
        assert_eq!(c.coverage.points[1].2, "b: 50 coverage %");
        assert!(chart(&[]).is_none());
        assert_eq!(chart(&[run("only", 1, 10)]).unwrap().lines[0].points.len(), 1);
    }
}
