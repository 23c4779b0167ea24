//! Report stage: output folder, CSV contract (golden files), JSON, HTML
//! escaping and the size bound at 5,000 accounts / 10,000 apps.
//!
//! Regenerate the golden files after an intended change with
//! `UPDATE_GOLDEN=1 cargo test --test report golden`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use fleetscan::config::OutputFormat;
use fleetscan::report::{self, previous_run, write_into, write_run};

const ALL: [OutputFormat; 3] = [OutputFormat::Html, OutputFormat::Csv, OutputFormat::Json];

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        fs::write(&path, actual).unwrap();
    }
    let expected = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 creates it)", path.display()));
    assert_eq!(actual, expected, "{name} differs from tests/golden/{name}");
}

fn small_run() -> (tempfile::TempDir, report::RunOutput) {
    let dir = tempfile::tempdir().unwrap();
    let out = write_run(dir.path(), &common::small_inventory(), &common::small_evaluation(), &ALL).unwrap();
    (dir, out)
}

#[test]
fn golden_csv_files_pin_columns_and_rows() {
    let (_dir, out) = small_run();
    for name in ["findings.csv", "apps.csv", "drift.csv", "coverage.csv"] {
        let text = fs::read_to_string(out.dir.join(name)).unwrap();
        golden(name, &text);
    }
}

#[test]
fn csv_headers_are_exactly_the_contract() {
    let (_dir, out) = small_run();
    for (name, header) in [
        ("findings.csv", "finding_id,check_id,severity,status,account_id,account_name,ou_path,region,resource_arn,title,detail,evidence,cause_id"),
        ("apps.csv", "account_id,account_name,ou_path,region,application_name,application_arn,status,runtime,checkpointing_enabled,checkpoint_interval_ms,min_pause_ms,snapshots_enabled,latest_snapshot_at,failed_checkpoints,max_checkpoint_duration_ms,execution_role_arn,permissions_boundary_arn,encryption_key_type,encryption_key_arn"),
        ("drift.csv", "comparison,baseline_account_id,target_account_id,application,dimension,subject,baseline,target,explanation"),
        ("coverage.csv", "account_id,account_name,region,scope,status,error_code,request_id,detail"),
    ] {
        let text = fs::read_to_string(out.dir.join(name)).unwrap();
        assert!(text.starts_with(&format!("{header}\r\n")), "{name}: {}", text.lines().next().unwrap_or(""));
        assert!(!text.starts_with('\u{feff}'), "{name} has a byte-order mark");
    }
}

#[test]
fn spreadsheet_formulas_are_neutralised() {
    let (_dir, out) = small_run();
    let mut apps = csv::Reader::from_path(out.dir.join("apps.csv")).unwrap();
    let names: Vec<String> = apps.records().map(|r| r.unwrap()[4].to_owned()).collect();
    assert!(names.contains(&"'=cmd|' /C calc'!A0".to_owned()), "{names:?}");
    let findings = fs::read_to_string(out.dir.join("findings.csv")).unwrap();
    assert!(findings.contains(r#","'=HYPERLINK(""http://evil""): <b>label</b>"#), "evidence cell starting with = is neutralised");
    let mut drift = csv::Reader::from_path(out.dir.join("drift.csv")).unwrap();
    let runtime = drift.records().map(|r| r.unwrap()).find(|r| &r[4] == "runtime").unwrap();
    assert_eq!(&runtime[7], "'-1+1");
    assert_eq!(&runtime[8], "'@SUM(1)");
    // numbers stay numbers
    let mut apps = csv::Reader::from_path(out.dir.join("apps.csv")).unwrap();
    let prod = apps.records().map(|r| r.unwrap()).find(|r| &r[4] == "orders-enricher-prod").unwrap();
    assert_eq!(&prod[9], "20000");
    assert_eq!(&prod[13], "12");
}

#[test]
fn apps_csv_derives_effective_values_from_the_inventory() {
    let (_dir, out) = small_run();
    let mut apps = csv::Reader::from_path(out.dir.join("apps.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = apps.records().map(|r| r.unwrap()).collect();
    let by_name = |n: &str| rows.iter().find(|r| &r[4] == n).unwrap().clone();
    let dev = by_name("orders-enricher-dev");
    // DEFAULT configuration: service defaults whatever the raw fields say
    assert_eq!((&dev[8], &dev[9], &dev[10]), ("true", "60000", "5000"));
    assert_eq!(&dev[12], "2026-11-24T23:30:00Z", "newest READY snapshot, not the CREATING one");
    assert_eq!(&dev[13], "0");
    assert_eq!(&dev[17], "CUSTOMER_MANAGED_KEY");
    let sink = by_name("orders-sink-prod");
    assert_eq!(&sink[8], "false");
    assert_eq!(&sink[16], "arn:aws:iam::222222222222:policy/flink-boundary");
    let prod = by_name("orders-enricher-prod");
    assert_eq!(&prod[14], "19000");
    let hostile = rows.iter().find(|r| &r[1] == common::HOSTILE).unwrap();
    assert_eq!(&hostile[13], "", "no metrics: empty, not zero");
}

#[test]
fn snapshot_json_has_schema_version_first_and_round_trips() {
    let (_dir, out) = small_run();
    let text = fs::read_to_string(out.dir.join("snapshot.json")).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let first = value.as_object().unwrap().keys().next().unwrap().clone();
    assert_eq!(first, "schema_version");
    assert!(text.starts_with("{\"schema_version\":1,"));
    let back: fleetscan::inventory::Inventory = serde_json::from_str(&text).unwrap();
    assert_eq!(back, common::small_inventory());
}

#[test]
fn findings_json_carries_findings_drift_and_delta() {
    let (_dir, out) = small_run();
    let value: serde_json::Value = serde_json::from_str(&fs::read_to_string(out.dir.join("findings.json")).unwrap()).unwrap();
    assert_eq!(value["schema_version"], 1);
    assert_eq!(value["run_id"], out.run_id.as_str());
    assert_eq!(value["complete"], false);
    assert_eq!(value["findings"].as_array().unwrap().len(), 9);
    assert_eq!(value["drift"].as_array().unwrap().len(), 5);
    assert_eq!(value["since_previous"]["previous_run_id"], "20261124T193000Z");
    assert_eq!(value["run_kind"], "scan");
    let not_checked = &value["since_previous"]["not_checked"][0];
    assert_eq!(not_checked["finding_id"], "0badc0ffee000001", "a not-checked finding carries last night's data: {not_checked}");
    assert_eq!(not_checked["not_checked_because"], "account 333333333333: assume-role denied (AccessDenied)");
    assert_eq!(not_checked["last_seen_run_id"], "20261124T193000Z");
    assert_eq!(value["since_previous"]["resolved"].as_array().map(Vec::len), Some(1), "`resolved` keeps its meaning");
    assert_eq!(value["findings"][0]["check"], "checkpoint-failures");
    // every finding names its cause, and every cause lists its findings
    let causes = value["causes"].as_array().unwrap();
    assert!(!causes.is_empty());
    for f in value["findings"].as_array().unwrap() {
        let id = f["cause_id"].as_str().unwrap();
        let cause = causes.iter().find(|c| c["cause_id"] == id).unwrap_or_else(|| panic!("no cause {id}"));
        assert!(cause["finding_ids"].as_array().unwrap().contains(&f["finding_id"]));
        for key in ["what", "where", "fix", "severity", "apps", "actions"] {
            assert!(!cause[key].is_null(), "cause without {key}: {cause}");
        }
    }
    let csv_text = fs::read_to_string(out.dir.join("findings.csv")).unwrap();
    let mut rows = csv::Reader::from_reader(csv_text.as_bytes());
    for row in rows.records() {
        let row = row.unwrap();
        let json = value["findings"].as_array().unwrap().iter().find(|f| f["finding_id"] == row[0]).unwrap();
        assert_eq!(&row[12], json["cause_id"].as_str().unwrap(), "csv and json agree on the cause");
    }
}

#[test]
fn html_leads_with_causes_that_fold_their_findings() {
    let (_dir, out) = small_run();
    let html = fs::read_to_string(out.dir.join("report.html")).unwrap();
    let causes_at = html.find("<section id=\"causes\">").expect("causes view");
    assert!(causes_at < html.find("<section id=\"findings\">").unwrap(), "causes come before the findings table");
    let evaluation = common::small_evaluation();
    let first = &evaluation.causes[0];
    assert!(
        html.contains(&format!("<li id=\"cause-{}\"><details><summary>", first.cause_id)),
        "each cause is a <details> (works without JavaScript)"
    );
    let open_causes = evaluation.open_causes();
    assert!(html.contains(&format!(
        "{} open findings from {open_causes} causes",
        evaluation.findings.iter().filter(|f| f.status == fleetscan::findings::FindingStatus::Open).count()
    )));
}

/// `fleetscan report --snapshot` writes a re-render: its own folder, marked
/// as such, `latest` untouched, and never the comparison base of a scan.
#[test]
fn a_rerender_never_becomes_the_comparison_base() {
    let dir = tempfile::tempdir().unwrap();
    let (inventory, evaluation) = (common::small_inventory(), common::small_evaluation());
    let scan = write_run(dir.path(), &inventory, &evaluation, &[]).unwrap();
    let rerender =
        report::write_rerender(dir.path(), &inventory, &fleetscan::findings::Evaluation::default(), report::Outputs::new(&[OutputFormat::Html]))
            .unwrap();
    assert!(rerender.run_id.ends_with("-rerender-of-20261125T193000Z"), "{}", rerender.run_id);
    assert!(rerender.dir.join("report.html").is_file() && rerender.dir.join("findings.json").is_file());
    assert_eq!(fs::read_to_string(dir.path().join("latest.txt")).unwrap().trim(), scan.run_id, "latest not moved");
    let value: serde_json::Value = serde_json::from_str(&fs::read_to_string(rerender.dir.join("findings.json")).unwrap()).unwrap();
    assert_eq!((value["run_kind"].as_str(), value["rendered_from"].as_str()), (Some("re-render"), Some("20261125T193000Z")));
    // the next scan compares with the scan, whose findings the re-render does not have
    let previous = previous_run(dir.path(), &[], None).unwrap();
    assert_eq!(previous.run_id, scan.run_id);
    assert_eq!(previous.findings.len(), evaluation.findings.len());
    // even when something points `latest` at the re-render
    fs::write(dir.path().join("latest.txt"), format!("{}\n", rerender.run_id)).unwrap();
    assert_eq!(previous_run(dir.path(), &[], None).map(|p| p.run_id), Some(scan.run_id.clone()));
    // a re-render of that snapshot compares with the scan before it: none here
    assert!(previous_run(dir.path(), &[], Some("20261125T193000Z")).is_none());
    assert_eq!(previous_run(dir.path(), &[], Some("20261126T000000Z")).map(|p| p.run_id), Some(scan.run_id));
}

/// Tonight's scan reads last night's findings keeping whole only those it
/// no longer finds, and still reports them as resolved in full.
#[test]
fn last_nights_findings_resolved_tonight_come_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let evaluation = common::small_evaluation();
    assert!(evaluation.findings.len() >= 2, "the small evaluation has findings to compare");
    write_run(dir.path(), &common::small_inventory(), &evaluation, &[]).unwrap();
    let tonight = &evaluation.findings[1..];
    let previous = previous_run(dir.path(), tonight, None).unwrap();
    assert_eq!(previous.findings, vec![evaluation.findings[0].clone()], "gone tonight: kept whole");
    let seen: Vec<(&str, _)> = previous.seen.iter().map(|s| (s.finding_id.as_str(), s.status)).collect();
    let tonights: Vec<(&str, _)> = tonight.iter().map(|f| (f.finding_id.as_str(), f.status)).collect();
    assert_eq!(seen, tonights, "still found: id and status only");
    let inventory = common::small_inventory();
    let config = fleetscan::config::Config::default();
    let read = fleetscan::drift::read_scope::ReadScopes::of(&inventory, &config);
    let last_night = fleetscan::drift::nightly::Previous {
        run_id: Some(&previous.run_id),
        findings: &previous.findings,
        seen: &previous.seen,
        not_checked: &previous.not_checked,
    };
    let delta = fleetscan::drift::nightly::run_delta(last_night, tonight, &read);
    assert_eq!(evaluation.findings[0].status, fleetscan::findings::FindingStatus::Open);
    assert_eq!(delta.resolved[0], evaluation.findings[0].clone(), "the resolved finding is reported in full");
    // last night could not check one finding (account 333333333333 was not
    // entered); tonight read that account completely and the finding is gone
    let carried = &evaluation.since_previous.as_ref().unwrap().not_checked[0];
    assert_eq!(previous.not_checked, vec![carried.clone()], "findings.json carries what its run could not check");
    assert_eq!(delta.resolved[1..], *std::slice::from_ref(&carried.finding), "resolved once its scope is read again");
    assert!(delta.not_checked.is_empty());
    assert!(delta.new.is_empty());
}

#[test]
fn runs_get_their_own_folders_latest_moves_and_previous_run_is_found() {
    let dir = tempfile::tempdir().unwrap();
    assert!(previous_run(dir.path(), &[], None).is_none(), "first run has no previous");
    let inventory = common::small_inventory();
    let evaluation = common::small_evaluation();
    let first = write_run(dir.path(), &inventory, &evaluation, &ALL).unwrap();
    assert_eq!(first.run_id, "20261125T193000Z");
    let expected: Vec<PathBuf> =
        ["snapshot.json", "findings.json", "summary.json", "findings.csv", "apps.csv", "drift.csv", "coverage.csv", "report.html"]
            .iter()
            .map(|n| first.dir.join(n))
            .collect();
    assert_eq!(first.files, expected);

    let previous = previous_run(dir.path(), &[], None).unwrap();
    assert_eq!(previous.run_id, first.run_id);
    assert_eq!(previous.findings, evaluation.findings);

    // same run id (same second): a distinct folder, and latest follows it
    let second = write_run(dir.path(), &inventory, &evaluation, &[OutputFormat::Csv]).unwrap();
    assert_eq!(second.run_id, "20261125T193000Z-2");
    assert!(!second.dir.join("report.html").exists());
    assert!(second.dir.join("findings.json").exists(), "findings.json is always written");
    assert_eq!(fs::read_to_string(dir.path().join("latest.txt")).unwrap().trim(), second.run_id);
    #[cfg(unix)]
    assert_eq!(fs::read_link(dir.path().join("latest")).unwrap(), Path::new(&second.run_id));
    assert!(dir.path().join("latest/findings.json").is_file());
    assert_eq!(previous_run(dir.path(), &[], None).unwrap().run_id, second.run_id);

    // no temporary file anywhere
    for entry in walk(dir.path()) {
        assert!(!entry.to_string_lossy().ends_with(".tmp"), "{}", entry.display());
    }
}

/// The trend reads each earlier run's summary.json (never its snapshot) and
/// draws one point per run, the current one last.
#[test]
fn trend_chart_has_a_point_per_run_from_summaries_only() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = common::small_inventory();
    let evaluation = common::small_evaluation();
    let first = write_run(dir.path(), &inventory, &evaluation, &[OutputFormat::Html]).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&fs::read_to_string(first.dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["open"], evaluation.open_by_severity.values().sum::<usize>());
    assert_eq!(summary["causes"], evaluation.open_causes());
    let one = fs::read_to_string(first.dir.join("report.html")).unwrap();
    assert!(one.contains("<svg id=\"trend-chart\""));
    assert!(one.contains("last 1 run of this output folder"));
    // the first run's snapshot is gone: the trend must not need it
    fs::remove_file(first.dir.join("findings.json")).ok();
    let second =
        fleetscan::report::write_run_with(dir.path(), &inventory, &evaluation, fleetscan::report::Outputs::new(&[OutputFormat::Html]), 30).unwrap();
    let two = fs::read_to_string(second.dir.join("report.html")).unwrap();
    assert!(two.contains("last 2 runs of this output folder"), "trend of two runs");
    let points = two.matches("<title>20261125T193000Z: ").count();
    let points2 = two.matches("<title>20261125T193000Z-2: ").count();
    assert!(points >= 2 && points == points2, "a point per run and line: {points} {points2}");
    // trend_runs = 1 keeps only this run
    let third =
        fleetscan::report::write_run_with(dir.path(), &inventory, &evaluation, fleetscan::report::Outputs::new(&[OutputFormat::Html]), 1).unwrap();
    assert!(fs::read_to_string(third.dir.join("report.html")).unwrap().contains("last 1 run of this output folder"));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

#[test]
fn write_into_rerenders_into_a_chosen_folder_without_moving_latest() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("offline");
    let files = write_into(&folder, &common::small_inventory(), &common::small_evaluation(), &[OutputFormat::Html]).unwrap();
    assert_eq!(files, vec![folder.join("findings.json"), folder.join("summary.json"), folder.join("report.html")]);
    assert!(!dir.path().join("latest.txt").exists());
}

fn small_html() -> String {
    let dir = tempfile::tempdir().unwrap();
    write_into(dir.path(), &common::small_inventory(), &common::small_evaluation(), &[OutputFormat::Html]).unwrap();
    fs::read_to_string(dir.path().join("report.html")).unwrap()
}

#[test]
fn html_escapes_every_aws_string() {
    let html = small_html();
    assert!(!html.contains("<img"), "hostile account name rendered as markup");
    assert!(html.contains("&#60;img src=x onerror=alert(1)&#62;") || html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!html.contains("<script>alert(2)"));
    assert!(!html.contains("<b>label</b>"));
    // exactly the two script elements of the page itself
    assert_eq!(html.matches("<script").count(), 3, "head script, data block, script");
    assert!(!html.contains("</script><img"), "data block escaped for <script>");
}

#[test]
fn html_is_self_contained() {
    let html = small_html();
    assert!(html.contains("http-equiv=\"Content-Security-Policy\""));
    assert!(html.contains("default-src &#39;none&#39;") || html.contains("default-src 'none'"));
    for needle in [" src=\"", "href=\"http", "href=\"//", "url(", "@import", "<link", "<iframe"] {
        assert!(!html.contains(needle), "{needle} in report.html");
    }
    for section in ["id=\"summary\"", "id=\"findings\"", "id=\"apps\"", "id=\"drift\"", "id=\"coverage\"", "id=\"checks\"", "id=\"run\""] {
        assert!(html.contains(section), "{section}");
    }
    assert!(html.contains("Incomplete scan"), "coverage is not complete: banner expected");
    assert!(html.contains("class=\"spark\""), "checkpoint picture per app");
}

#[test]
fn templates_never_mark_data_safe() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut files = walk(&dir);
    files.retain(|p| p.extension().is_some_and(|e| e == "html"));
    assert!(files.len() > 3);
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        for (i, _) in text.match_indices("|safe") {
            let before = &text[..i];
            let expr = before.rsplit("{{").next().unwrap().trim();
            assert!(
                ["style", "script", "head_script", "data"].contains(&expr),
                "{}: `{expr}|safe` — only the page's own constants and the ScriptJson data block may be safe",
                file.display()
            );
        }
    }
}

#[test]
fn html_stays_under_25_mb_at_5000_accounts_and_10000_apps() {
    let (inventory, evaluation) = common::large_fleet(5_000);
    assert_eq!(inventory.apps().count(), 10_000);
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = write_run(dir.path(), &inventory, &evaluation, &ALL).unwrap();
    let elapsed = started.elapsed();
    let size = |n: &str| fs::metadata(out.dir.join(n)).unwrap().len();
    let html = size("report.html");
    println!(
        "5,000 accounts / 10,000 apps / {} findings / {} coverage rows: report.html {:.1} MB, snapshot.json {:.1} MB, findings.json {:.1} MB (all files in {elapsed:.1?})",
        evaluation.findings.len(),
        inventory.coverage.len(),
        html as f64 / 1e6,
        size("snapshot.json") as f64 / 1e6,
        size("findings.json") as f64 / 1e6,
    );
    assert!(html < 25_000_000, "report.html is {html} bytes");
}

#[test]
#[ignore = "diagnostic: prints where the bytes of a large report.html go"]
fn large_report_breakdown() {
    let (inventory, evaluation) = common::large_fleet(5_000);
    let dir = tempfile::tempdir().unwrap();
    write_into(dir.path(), &inventory, &evaluation, &[OutputFormat::Html]).unwrap();
    let html = fs::read_to_string(dir.path().join("report.html")).unwrap();
    let mut marks: Vec<(usize, &str)> =
        ["id=\"summary\"", "id=\"findings\"", "id=\"apps\"", "id=\"drift\"", "id=\"coverage\"", "id=\"checks\"", "id=\"run\""]
            .iter()
            .map(|s| (html.find(s).unwrap(), *s))
            .collect();
    marks.push((html.len(), "end"));
    for w in marks.windows(2) {
        println!("{:>20} {:>8.2} MB", w[0].1, (w[1].0 - w[0].0) as f64 / 1e6);
    }
    let tbody = html.find("<tbody>").unwrap();
    println!("first finding row:\n{}", &html[tbody..tbody + 2500]);
    let apps = html.find("id=\"at\"").unwrap();
    let at_body = apps + html[apps..].find("<tbody>").unwrap();
    println!("first app row:\n{}", &html[at_body..at_body + 3000]);
}
