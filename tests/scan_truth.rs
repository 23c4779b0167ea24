//! What a nightly run claims, through the real binary against the emulator:
//!
//! * `resolved_means_fixed_an_account_not_entered_is_not_checked` — a second
//!   night with one account's AssumeRole denied reports that account's
//!   findings as not checked (none resolved, exit 3); the third night, with
//!   the account back, finds them still open (not new); a `report
//!   --snapshot` in between never becomes the comparison base.
//! * `token_errors_are_region_disabled_only_in_opt_in_regions` — the same
//!   token error is `error` (run incomplete) in a Region enabled by default
//!   and `region-disabled` in an opt-in Region.
//! * `runtimes_are_judged_by_date_and_read_with_their_own_metrics` — a Flink
//!   2.x app is scanned with the 2.x metrics (restarts from `numRestarts`),
//!   a runtime inside the warning window is medium with its date.
//! * `operations_are_read_to_the_cap_and_a_cut_list_is_incomplete` —
//!   `ListApplicationOperations` (whose order AWS does not document) is read
//!   page after page, not stopped at the first old operation; past the cap
//!   the app's coverage row says `Truncated` and the run is incomplete.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};
use support::checks::Checks;
use support::emulator::{fleet, Emulator};

fn team(i: u32) -> String {
    format!("5100000000{i:02}")
}

/// `fleetscan ARGS` against `emu`, run in `dir`.
fn fleetscan(emu: &Emulator, dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fleetscan"));
    cmd.args(args).current_dir(dir);
    cmd.env_remove("RUST_LOG").env_remove("FLEETSCAN_CONFIG").env_remove("AWS_PROFILE").env_remove("AWS_SESSION_TOKEN");
    for (k, v) in emu.aws_env() {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null());
    cmd.output().expect("run fleetscan")
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn config(dir: &Path, regions: &[&str]) -> PathBuf {
    let path = dir.join("fleetscan.toml");
    let regions = regions.iter().map(|r| format!("\"{r}\"")).collect::<Vec<_>>().join(", ");
    std::fs::write(&path, format!("[aws]\nregions = [{regions}]\nassume_role_retry_secs = 0\nmax_attempts = 3\n")).expect("config");
    path
}

fn latest(out: &Path) -> PathBuf {
    let id = std::fs::read_to_string(out.join("latest.txt")).expect("latest.txt");
    out.join(id.trim())
}

fn json_file(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).expect("json")
}

fn ids(values: &Value) -> BTreeSet<String> {
    values
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().or_else(|| v["finding_id"].as_str()).map(str::to_owned))
        .collect()
}

/// Open findings of `account` in a findings.json.
fn open_of(findings: &Value, account: &str) -> BTreeSet<String> {
    findings["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["account_id"] == account && f["status"] == "open")
        .filter_map(|f| f["finding_id"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn resolved_means_fixed_an_account_not_entered_is_not_checked() {
    let emu = Emulator::start(&fleet("reliability.json"));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path(), &["us-east-1", "eu-west-1"]).display().to_string();
    let out = dir.path().join("out");
    let out_arg = out.display().to_string();
    let scan = ["scan", "--config", config.as_str(), "--out", out_arg.as_str(), "--fail-on", "critical"];
    let denied = team(3);
    let mut c = Checks::default();

    // Night 1: everything read.
    let night1 = fleetscan(&emu, dir.path(), &scan);
    assert_eq!(night1.status.code(), Some(0), "{}", text(&night1));
    let run1 = latest(&out);
    let findings1 = json_file(&run1.join("findings.json"));
    let team3 = open_of(&findings1, &denied);
    assert!(team3.len() >= 3, "team-03 has findings on night 1: {team3:?}");

    // Night 2: AssumeRole into team-03 denied.
    emu.set_faults(&json!({"assume_role_denied": [denied]}));
    let night2 = fleetscan(&emu, dir.path(), &scan);
    c.eq(night2.status.code(), Some(3), "night 2 is incomplete");
    let run2 = latest(&out);
    let findings2 = json_file(&run2.join("findings.json"));
    let delta = &findings2["since_previous"];
    c.eq(delta["previous_run_id"].as_str(), run1.file_name().and_then(|n| n.to_str()), "compared with night 1");
    c.eq(ids(&delta["resolved"]), BTreeSet::new(), "nothing resolved");
    c.eq(ids(&delta["not_checked"]), team3.clone(), "team-03's findings are not checked");
    c.eq(ids(&delta["new"]), BTreeSet::new(), "nothing new");
    for n in delta["not_checked"].as_array().into_iter().flatten() {
        c.check(
            n["not_checked_because"].as_str().is_some_and(|w| w.contains(&denied) && w.contains("assume-role denied")),
            format!("reason names the denied account: {n}"),
        );
        c.check(
            n["title"].as_str().is_some_and(|t| !t.is_empty()) && n["last_seen_run_id"] == findings1["run_id"],
            format!("carried with night 1's data: {n}"),
        );
    }
    let stdout2 = String::from_utf8_lossy(&night2.stdout);
    c.check(stdout2.contains("0 resolved") && stdout2.contains(&format!("{} not checked tonight", team3.len())), format!("summary: {stdout2}"));
    c.check(
        stdout2.contains("NOT CHECKED") && stdout2.contains(&format!("{} × account {denied}: assume-role denied (AccessDenied)", team3.len())),
        format!("summary groups the reason: {stdout2}"),
    );
    let html = std::fs::read_to_string(run2.join("report.html")).unwrap_or_default();
    c.check(html.contains("Not checked tonight (") && html.contains("assume-role denied"), "report.html shows the not-checked findings");

    // A re-render of night 1 in between: its own folder, `latest` unmoved.
    let snapshot1 = run1.join("snapshot.json").display().to_string();
    let rerender = fleetscan(&emu, dir.path(), &["report", "--snapshot", &snapshot1, "--config", &config, "--out", &out_arg]);
    c.check(matches!(rerender.status.code(), Some(0 | 1)), format!("report --snapshot ran: {}", text(&rerender)));
    c.eq(latest(&out), run2.clone(), "report --snapshot does not move latest");
    let rerenders: Vec<PathBuf> = std::fs::read_dir(&out)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("-rerender-of-"))
        .collect();
    c.eq(rerenders.len(), 1, "one re-render folder");

    // Night 3: team-03 entered again; its findings are still there.
    emu.set_faults(&json!({}));
    let night3 = fleetscan(&emu, dir.path(), &scan);
    c.eq(night3.status.code(), Some(0), "night 3 is complete");
    let findings3 = json_file(&latest(&out).join("findings.json"));
    let delta3 = &findings3["since_previous"];
    c.eq(delta3["previous_run_id"].as_str(), run2.file_name().and_then(|n| n.to_str()), "night 3 compares with night 2, not the re-render");
    c.eq(ids(&delta3["new"]), BTreeSet::new(), "team-03's findings seen again are not new");
    c.eq(ids(&delta3["resolved"]), BTreeSet::new(), "nor resolved");
    c.eq(ids(&delta3["not_checked"]), BTreeSet::new(), "and checked again");
    c.eq(open_of(&findings3, &denied), team3, "team-03's findings are open again");
    c.finish(&format!("night 2:\n{}\nnight 3:\n{}", text(&night2), text(&night3)));
}

#[test]
fn token_errors_are_region_disabled_only_in_opt_in_regions() {
    let emu = Emulator::start(&fleet("reliability.json"));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path(), &["us-east-1", "eu-west-1", "eu-south-1"]).display().to_string();
    let out = dir.path().join("out");
    let (default_region, opt_in) = (team(1), team(2));
    emu.set_faults(&json!({"disabled_regions": [
        {"account": default_region, "region": "eu-west-1"},
        {"account": opt_in, "region": "eu-south-1"}
    ]}));
    let run = fleetscan(
        &emu,
        dir.path(),
        &["scan", "--config", &config, "--out", &out.display().to_string(), "--accounts", "team-01,team-02", "--fail-on", "critical"],
    );
    let mut c = Checks::default();
    c.eq(run.status.code(), Some(3), "a token error in a default Region makes the run incomplete");
    let snapshot = json_file(&latest(&out).join("snapshot.json"));
    let not_ok: BTreeSet<(String, String, String, String)> = snapshot["coverage"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["status"] != "ok")
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (s("account_id"), s("region"), s("status"), s("error_code"))
        })
        .collect();
    let want: BTreeSet<_> = [
        (default_region.clone(), "eu-west-1".to_owned(), "error".to_owned(), "UnrecognizedClientException".to_owned()),
        (opt_in.clone(), "eu-south-1".to_owned(), "region-disabled".to_owned(), "UnrecognizedClientException".to_owned()),
    ]
    .into_iter()
    .collect();
    c.eq(not_ok, want, "coverage rows that are not ok");
    let detail = snapshot["coverage"].as_array().into_iter().flatten().find(|r| r["status"] == "error").map(|r| r["detail"].clone());
    c.check(
        detail.as_ref().and_then(Value::as_str).is_some_and(|d| d.contains("enabled by default")),
        format!("the error says why it is not a disabled Region: {detail:?}"),
    );
    let stdout = String::from_utf8_lossy(&run.stdout);
    let missing: Vec<&str> = stdout.lines().skip_while(|l| !l.starts_with("INCOMPLETE")).skip(1).take_while(|l| l.starts_with("  ")).collect();
    c.check(
        missing.len() == 1 && missing[0].contains(&default_region) && missing[0].contains("eu-west-1"),
        format!("only the default Region is missing: {missing:?}"),
    );
    c.finish(&text(&run));
}

#[test]
fn runtimes_are_judged_by_date_and_read_with_their_own_metrics() {
    let emu = Emulator::start(&fleet("runtimes.json"));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config(dir.path(), &["us-east-1"]).display().to_string();
    let out = dir.path().join("out");
    let run = fleetscan(&emu, dir.path(), &["scan", "--config", &config, "--out", &out.display().to_string(), "--fail-on", "critical"]);
    let mut c = Checks::default();
    c.eq(run.status.code(), Some(0), "the scan is complete");
    let run_dir = latest(&out);
    let snapshot = json_file(&run_dir.join("snapshot.json"));
    let app = |name: &str| -> Value {
        snapshot["accounts"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|a| a["regions"].as_array().into_iter().flatten())
            .flat_map(|r| r["applications"].as_array().into_iter().flatten())
            .find(|a| a["name"] == name)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let series =
        |name: &str| -> BTreeSet<String> { app(name)["metrics"]["series"].as_object().map(|s| s.keys().cloned().collect()).unwrap_or_default() };
    c.eq(app("stream-v2")["runtime"].as_str(), Some("FLINK-2_3"), "the Flink 2.x app is scanned");
    let v2 = series("stream-v2");
    c.check(v2.contains("numRestarts") && v2.contains("restartingTime") && v2.contains("failingTime"), format!("Flink 2.x metrics read: {v2:?}"));
    c.check(!v2.contains("fullRestarts") && !v2.contains("downtime"), format!("removed/deprecated 1.x metrics not read for 2.x: {v2:?}"));
    let v1 = series("steady-v1");
    c.check(v1.contains("fullRestarts") && v1.contains("downtime") && !v1.contains("numRestarts"), format!("Flink 1.x metrics read: {v1:?}"));

    let findings = json_file(&run_dir.join("findings.json"));
    let of = |findings: &Value, check: &str, resource_suffix: &str| -> Vec<Value> {
        findings["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["check"] == check && f["resource_arn"].as_str().is_some_and(|r| r.ends_with(resource_suffix)))
            .cloned()
            .collect()
    };
    let unhealthy = of(&findings, "application-unhealthy", "/stream-v2");
    c.eq(unhealthy.len(), 1, "restartingTime > 0 makes the 2.x app unhealthy");
    let evidence = unhealthy.first().map(|f| f["evidence"].to_string()).unwrap_or_default();
    c.check(
        evidence.contains("restarts in window (numRestarts)") && evidence.contains("\"value\":\"3\""),
        format!("restarts read from numRestarts (2 → 5): {evidence}"),
    );
    c.check(
        unhealthy.first().is_some_and(|f| f["detail"].as_str().is_some_and(|d| d.contains("restartingTime reached 30000 ms"))),
        format!("{unhealthy:?}"),
    );
    c.eq(of(&findings, "application-unhealthy", "/steady-v1").len(), 0, "1.x app judged on its zero downtime, not on numRestarts");
    c.eq(of(&findings, "runtime-end-of-support", "/stream-v2").len(), 0, "FLINK-2_3 is supported");
    let sql = of(&findings, "runtime-end-of-support", "/legacy-sql");
    c.check(
        sql.len() == 1 && sql[0]["severity"] == "high" && sql[0]["detail"].as_str().is_some_and(|d| d.contains("2026-01-27")),
        format!("SQL-1_0 is past its date: {sql:?}"),
    );
    let html = std::fs::read_to_string(run_dir.join("report.html")).unwrap_or_default();
    c.check(html.contains("3 restart(s) (numRestarts)"), "the app picture counts the 2.x restarts");

    // The same snapshot evaluated as of 2025-12-01, 57 days before SQL-1_0's
    // end of support: inside the 180-day warning window, medium, dated.
    let mut earlier = snapshot.clone();
    for (key, at) in [
        ("started_at", "2025-12-01T02:00:00Z"),
        ("finished_at", "2025-12-01T02:05:00Z"),
        ("metrics_window_start", "2025-11-30T02:15:00Z"),
        ("metrics_window_end", "2025-12-01T02:15:00Z"),
    ] {
        earlier["run"][key] = Value::from(at);
    }
    earlier["run"]["run_id"] = Value::from("20251201T020000Z");
    let earlier_path = dir.path().join("snapshot-2025-12-01.json");
    std::fs::write(&earlier_path, earlier.to_string()).expect("write snapshot");
    let report = fleetscan(
        &emu,
        dir.path(),
        &["report", "--snapshot", &earlier_path.display().to_string(), "--config", &config, "--out", &out.display().to_string()],
    );
    c.check(matches!(report.status.code(), Some(0 | 1)), "report --snapshot ran");
    let rerender = std::fs::read_dir(&out)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("-rerender-of-20251201T020000Z"));
    let rerendered = rerender.map(|d| json_file(&d.join("findings.json"))).unwrap_or(Value::Null);
    let sql = of(&rerendered, "runtime-end-of-support", "/legacy-sql");
    c.check(
        sql.len() == 1
            && sql[0]["severity"] == "medium"
            && sql[0]["detail"].as_str().is_some_and(|d| d.contains("2026-01-27") && d.contains("57 days")),
        format!("medium within the warning window, with the date: {sql:?}"),
    );
    c.finish(&format!("{}\n{}", text(&run), text(&report)));
}

#[test]
fn operations_are_read_to_the_cap_and_a_cut_list_is_incomplete() {
    // The runtimes fleet, pages of 2, plus an account whose apps have 30
    // and 45 operations, oldest first in the fleet: 15 pages (read whole)
    // and 23 pages (cut at 20).
    let mut fleet_doc = json_file(&fleet("runtimes.json"));
    fleet_doc["settings"]["page_size"] = Value::from(2);
    let ops = |n: usize| -> Value {
        (0..n)
            .map(|i| {
                json!({"operation": "UpdateApplication", "status": if i == 0 { "FAILED" } else { "SUCCESSFUL" },
                            "start_hours_ago": 2 + i, "duration_minutes": 1, "error": "job failed to start"})
            })
            .collect()
    };
    fleet_doc["accounts"].as_array_mut().expect("accounts").push(json!({
        "id": "520000000002", "name": "busy", "ou": "Root/Streams",
        "iam": {"roles": [{"name": "flink-role", "path": "/service-role/"}]},
        "applications": [
            {"name": "many-ops", "region": "us-east-1", "runtime": "FLINK-1_20", "execution_role": "flink-role",
             "snapshots": [{"name": "daily", "status": "READY", "created_hours_ago": 3}], "operations": ops(30)},
            {"name": "too-many-ops", "region": "us-east-1", "runtime": "FLINK-1_20", "execution_role": "flink-role",
             "snapshots": [{"name": "daily", "status": "READY", "created_hours_ago": 3}], "operations": ops(45)}
        ]
    }));
    let dir = tempfile::tempdir().expect("tempdir");
    let fleet_path = dir.path().join("busy.json");
    std::fs::write(&fleet_path, fleet_doc.to_string()).expect("write fleet");
    let emu = Emulator::start(&fleet_path);
    let config = config(dir.path(), &["us-east-1"]).display().to_string();
    let out = dir.path().join("out");
    let run = fleetscan(
        &emu,
        dir.path(),
        &["scan", "--config", &config, "--out", &out.display().to_string(), "--accounts", "busy", "--fail-on", "critical"],
    );
    let mut c = Checks::default();
    c.eq(run.status.code(), Some(3), "a cut list makes the run incomplete");
    let snapshot = json_file(&latest(&out).join("snapshot.json"));
    let not_ok: Vec<(String, String, String)> = snapshot["coverage"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["status"] != "ok")
        .map(|r| {
            (
                r["scope"].as_str().unwrap_or_default().to_owned(),
                r["status"].as_str().unwrap_or_default().to_owned(),
                r["error_code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    c.eq(not_ok, vec![("flink:too-many-ops".to_owned(), "skipped".to_owned(), "Truncated".to_owned())], "only the app beyond the cap is incomplete");
    let operations = |name: &str| -> usize {
        snapshot["accounts"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|a| a["regions"].as_array().into_iter().flatten())
            .flat_map(|r| r["applications"].as_array().into_iter().flatten())
            .find(|a| a["name"] == name)
            .and_then(|a| a["operations"].as_array().map(Vec::len))
            .unwrap_or(0)
    };
    c.eq(operations("many-ops"), 30, "every page read, well past operations older than the window");
    c.eq(operations("too-many-ops"), 40, "20 pages of 2 read, then cut");
    let pages = emu
        .requests()
        .iter()
        .filter(|r| r["operation"] == "ListApplicationOperations" && r["account"] == "520000000002")
        .count();
    c.eq(pages, 15 + 20, "ListApplicationOperations pages requested");
    let stdout = String::from_utf8_lossy(&run.stdout);
    c.check(stdout.contains("flink:too-many-ops: skipped (Truncated)"), format!("the summary names the cut list: {stdout}"));
    c.finish(&text(&run));
}
