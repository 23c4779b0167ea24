//! Reliability, end to end: the real binary against the emulator with
//! injected faults (tests/fleets/README.md, "Fault config"). Each test starts
//! its own emulator on a free port; fault decisions are seeded, so runs are
//! deterministic up to request timing.
//!
//! * `chaos_run_keeps_every_reachable_app` — 30% throttling on every
//!   service, 5% 5xx, AssumeRole denied for two accounts, a token error in a
//!   Region enabled by default (an `error`, not a disabled opt-in Region),
//!   an app vanishing mid-scan: same app records as a fault-free run, coverage
//!   lists exactly the injected failures, exit 3.
//! * `single_call_failures_are_isolated` — AccessDenied on IAM GetRole, KMS
//!   GetKeyPolicy, CloudWatch GetMetricData, a malformed inline policy.
//! * `hung_endpoint_times_out` — latency above the operation timeout.
//! * `max_duration_skips_unfinished_targets` — `--max-duration`.
//! * `sigterm_writes_incomplete_report` — SIGTERM mid-scan.
//! * `second_sigterm_abandons_at_once` — SIGTERM twice.
//! * `short_sessions_are_refreshed` — credentials that expire every 3 s.
//! * `no_secret_reaches_any_output` — `-vv`, `RUST_LOG=trace`.
//! * `hostile_fleet_is_escaped_and_neutralised` — HTML and CSV.

mod support;

use support::checks::Checks;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::emulator::{fleet, Emulator};

const MANAGEMENT: &str = "123456789012";

fn team(i: u32) -> String {
    format!("5100000000{i:02}")
}

// ------------------------------------------------------------------ harness

/// A scan of the binary: where it wrote, what it said, how it ended.
struct Scan {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    out: PathBuf,
    elapsed: Duration,
}

impl Scan {
    /// The run folder (`out/latest.txt` names it).
    fn run_dir(&self) -> PathBuf {
        let id = std::fs::read_to_string(self.out.join("latest.txt"))
            .unwrap_or_else(|e| panic!("no latest.txt in {}: {e}\n{}", self.out.display(), self.context()));
        self.out.join(id.trim())
    }

    fn snapshot(&self) -> Value {
        let text = std::fs::read_to_string(self.run_dir().join("snapshot.json")).expect("snapshot.json");
        serde_json::from_str(&text).expect("snapshot.json parses")
    }

    fn csv(&self, name: &str) -> Vec<BTreeMap<String, String>> {
        read_csv(&self.run_dir().join(name))
    }

    fn context(&self) -> String {
        let tail = |s: &str| s.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
        format!("exit {:?} after {:?}\n--- stdout\n{}\n--- stderr (tail)\n{}", self.code, self.elapsed, self.stdout, tail(&self.stderr))
    }
}

fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = reader.headers().expect("csv headers").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("csv record");
            headers.iter().zip(r.iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect()
        })
        .collect()
}

/// A config file in `dir`: both regions, fast AssumeRole retries.
fn config_file(dir: &Path, extra_aws: &str) -> PathBuf {
    let path = dir.join("fleetscan.toml");
    let retry = if extra_aws.contains("assume_role_retry_secs") { "" } else { "assume_role_retry_secs = 0\n" };
    let text = format!("[aws]\nregions = [\"us-east-1\", \"eu-west-1\"]\n{retry}{extra_aws}\n");
    std::fs::write(&path, text).expect("write config");
    path
}

/// `fleetscan scan` against `emu`, writing under `dir/out`.
fn scan_command(emu: &Emulator, dir: &Path, config: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fleetscan"));
    cmd.arg("scan").arg("--config").arg(config).arg("--out").arg(dir.join("out")).args(args);
    cmd.current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("FLEETSCAN_CONFIG")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN");
    for (k, v) in emu.aws_env() {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

fn finish(output: Output, dir: &Path, started: Instant) -> Scan {
    Scan {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        out: dir.join("out"),
        elapsed: started.elapsed(),
    }
}

fn run(mut cmd: Command, dir: &Path) -> Scan {
    let started = Instant::now();
    let child = cmd.spawn().expect("spawn fleetscan");
    finish(wait_bounded(child, Duration::from_secs(120)), dir, started)
}

/// Waits for `child` (draining its pipes meanwhile), killing it (and
/// failing) after `limit`.
fn wait_bounded(mut child: Child, limit: Duration) -> Output {
    fn drain<R: std::io::Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buf);
            }
            buf
        })
    }
    let (stdout, stderr) = (drain(child.stdout.take()), drain(child.stderr.take()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let err = stderr.join().unwrap_or_default();
            let tail = String::from_utf8_lossy(&err[err.len().saturating_sub(4000)..]).into_owned();
            panic!("fleetscan did not finish within {limit:?}; stderr tail:\n{tail}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output { status, stdout: stdout.join().unwrap_or_default(), stderr: stderr.join().unwrap_or_default() }
}

/// `(account, region, scope, status, error_code)` of every coverage row that is not `ok`.
fn not_ok(snapshot: &Value) -> BTreeSet<(String, String, String, String, String)> {
    snapshot["coverage"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["status"] != "ok")
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (s("account_id"), s("region"), s("scope"), s("status"), s("error_code"))
        })
        .collect()
}

fn row(account: &str, region: &str, scope: &str, status: &str, code: &str) -> (String, String, String, String, String) {
    (account.into(), region.into(), scope.into(), status.into(), code.into())
}

/// Every app record of the snapshot, keyed `account/region/name`, with the
/// metric timestamps (relative to each request) reduced to the values.
fn app_records(snapshot: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for account in snapshot["accounts"].as_array().into_iter().flatten() {
        for region in account["regions"].as_array().into_iter().flatten() {
            for app in region["applications"].as_array().into_iter().flatten() {
                let mut app = app.clone();
                if let Some(metrics) = app.get_mut("metrics").and_then(Value::as_object_mut) {
                    metrics.remove("window_start");
                    metrics.remove("window_end");
                    if let Some(series) = metrics.get_mut("series").and_then(Value::as_object_mut) {
                        for points in series.values_mut() {
                            let values: Vec<Value> = points.as_array().into_iter().flatten().map(|p| p["value"].clone()).collect();
                            *points = Value::Array(values);
                        }
                    }
                }
                let key = format!(
                    "{}/{}/{}",
                    account["id"].as_str().unwrap_or_default(),
                    region["region"].as_str().unwrap_or_default(),
                    app["name"].as_str().unwrap_or_default()
                );
                out.insert(key, app);
            }
        }
    }
    out
}

/// Account records without their regions (IAM, resources, tags, chains).
fn account_records(snapshot: &Value) -> BTreeMap<String, Value> {
    snapshot["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let mut a = a.clone();
            if let Some(obj) = a.as_object_mut() {
                obj.remove("regions");
            }
            (a["id"].as_str().unwrap_or_default().to_owned(), a)
        })
        .collect()
}

/// Every file under `dir`, recursively (symlinks not followed).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            let kind = entry.file_type().expect("file type");
            if kind.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The run's report files exist, are complete, and no temporary file is left.
fn assert_complete_files(scan: &Scan, c: &mut Checks) {
    let run_dir = scan.run_dir();
    for name in ["report.html", "snapshot.json", "apps.csv", "findings.csv", "coverage.csv", "drift.csv"] {
        c.check(run_dir.join(name).is_file(), format!("{name} written"));
    }
    let html = std::fs::read_to_string(run_dir.join("report.html")).unwrap_or_default();
    c.check(html.trim_end().ends_with("</html>"), "report.html is complete");
    for name in ["apps.csv", "findings.csv", "coverage.csv", "drift.csv"] {
        let ok = csv::Reader::from_path(run_dir.join(name)).map(|mut r| r.records().all(|x| x.is_ok())).unwrap_or(false);
        c.check(ok, format!("{name} parses"));
    }
    let stray: Vec<_> = files_under(&scan.out)
        .into_iter()
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            name.ends_with(".tmp") || name.starts_with('.')
        })
        .collect();
    c.check(stray.is_empty(), format!("no temporary files left: {stray:?}"));
}

// ------------------------------------------------------------------ tests

/// The acceptance run: a fault-free scan, then the same fleet with 30%
/// throttling on every service, 5% 5xx, AssumeRole denied for two accounts,
/// token errors in one default Region (eu-west-1 cannot be disabled, so they
/// are an `error`) and one app that vanishes between list and describe.
#[test]
fn chaos_run_keeps_every_reachable_app() {
    let emu = Emulator::start(&fleet("reliability.json"));
    let dir = tempfile::tempdir().expect("tempdir");
    let (clean_dir, chaos_dir) = (dir.path().join("clean"), dir.path().join("chaos"));
    std::fs::create_dir_all(&clean_dir).unwrap();
    std::fs::create_dir_all(&chaos_dir).unwrap();
    // 12 attempts: a call fails for good only after 12 consecutive faults
    // (0.335^12 ≈ 2e-6 per call at these rates).
    let extra = "max_attempts = 12\nassume_role_retry_secs = 1\nconcurrency = 16";

    let clean = run(scan_command(&emu, &clean_dir, &config_file(&clean_dir, extra), &["--fail-on", "critical"]), &clean_dir);
    assert_eq!(clean.code, Some(0), "fault-free run is complete\n{}", clean.context());
    let clean_calls = emu.requests().len();

    let (denied_a, denied_b, disabled, vanished) = (team(7), team(8), team(6), team(1));
    emu.set_faults(&json!({
        // Seed 5 also throttles some of the few S3 calls (one per account).
        "seed": 5,
        "throttle_rate": 0.3,
        "error_5xx_rate": 0.05,
        "assume_role_denied": [denied_a, denied_b],
        "disabled_regions": [{"account": disabled, "region": "eu-west-1"}],
        "vanish_apps": [{"account": vanished, "region": "us-east-1", "application": "events-01"}]
    }));
    emu.clear_requests();
    let chaos = run(scan_command(&emu, &chaos_dir, &config_file(&chaos_dir, extra), &["--fail-on", "critical"]), &chaos_dir);
    let log = emu.requests();
    let mut c = Checks::default();
    c.eq(chaos.code, Some(3), "exit code of the faulty run");

    // Coverage: exactly the injected failures, each with code and request id.
    let snap = chaos.snapshot();
    let want: BTreeSet<_> = [
        row(&denied_a, "global", "assume-role", "denied", "AccessDenied"),
        row(&denied_b, "global", "assume-role", "denied", "AccessDenied"),
        row(&disabled, "eu-west-1", "flink", "error", "UnrecognizedClientException"),
        row(&vanished, "us-east-1", "flink:events-01", "skipped", "ResourceNotFoundException"),
    ]
    .into_iter()
    .collect();
    c.eq(not_ok(&snap), want, "non-ok coverage rows are exactly the injected failures");
    for r in read_csv(&chaos.run_dir().join("coverage.csv")).iter().filter(|r| r["status"] != "ok") {
        c.check(!r["request_id"].is_empty(), format!("coverage.csv row has a request id: {r:?}"));
        c.check(!r["error_code"].is_empty(), format!("coverage.csv row has an error code: {r:?}"));
    }
    for r in snap["coverage"].as_array().into_iter().flatten() {
        c.check(
            r["at"].as_str().map(|t| t.ends_with('Z') || t.contains("+00:00")).unwrap_or(false),
            format!("coverage row has a UTC timestamp: {r}"),
        );
    }
    // The summary names what is missing (a vanished app is not missing).
    c.check(
        chaos.stdout.contains("INCOMPLETE")
            && chaos.stdout.contains(&denied_a)
            && chaos.stdout.contains(&denied_b)
            && chaos.stdout.contains(&disabled),
        format!("summary names what is missing:\n{}", chaos.stdout),
    );
    c.check(!chaos.stdout.contains("events-01"), "the vanished app is not reported missing");

    // Data: every app of every reachable account, with the same values.
    let unreachable = |key: &str| {
        key.starts_with(&format!("{denied_a}/"))
            || key.starts_with(&format!("{denied_b}/"))
            || key == format!("{disabled}/eu-west-1/eu-06")
            || key == format!("{vanished}/us-east-1/events-01")
    };
    let clean_snap = clean.snapshot();
    let want_apps: BTreeMap<String, Value> = app_records(&clean_snap).into_iter().filter(|(k, _)| !unreachable(k)).collect();
    let got_apps = app_records(&snap);
    c.eq(got_apps.keys().collect::<Vec<_>>(), want_apps.keys().collect::<Vec<_>>(), "apps found under faults");
    c.eq(want_apps.len(), 32 - 8 - 1 - 1, "reachable apps");
    for (key, want) in &want_apps {
        if let Some(got) = got_apps.get(key) {
            c.check(got == want, format!("app {key} differs from the fault-free run:\n  got  {got}\n  want {want}"));
        }
    }
    let app_rows = |scan: &Scan| -> Vec<BTreeMap<String, String>> {
        let mut rows: Vec<_> = scan
            .csv("apps.csv")
            .into_iter()
            .filter(|r| !unreachable(&format!("{}/{}/{}", r["account_id"], r["region"], r["application_name"])))
            .collect();
        rows.sort_by_key(|r| (r["account_id"].clone(), r["region"].clone(), r["application_name"].clone()));
        rows
    };
    c.eq(app_rows(&chaos), app_rows(&clean), "apps.csv rows of reachable accounts");
    let clean_accounts = account_records(&clean_snap);
    for (id, got) in account_records(&snap) {
        if id == denied_a || id == denied_b || id == MANAGEMENT {
            continue;
        }
        c.check(Some(&got) == clean_accounts.get(&id), format!("account {id} (IAM, resources, tags) differs from the fault-free run"));
    }

    // Faults really happened, and every attempt was counted.
    let count = |kind: &str| log.iter().filter(|r| r["injected_fault"] == kind).count();
    let (throttled, errors_5xx) = (count("throttle"), count("5xx"));
    c.check(throttled * 100 / log.len().max(1) >= 20, format!("≈30% of requests throttled: {throttled} of {}", log.len()));
    c.check(errors_5xx > 0, "some 5xx injected");
    let counted: u64 = snap["run"]["api_calls"].as_object().map(|m| m.values().filter_map(Value::as_u64).sum()).unwrap_or(0);
    c.eq(counted, log.len() as u64, "api_calls (every attempt) = requests the emulator saw");
    let services: BTreeSet<&str> = log.iter().filter(|r| r["injected_fault"] == "throttle").filter_map(|r| r["service"].as_str()).collect();
    // Services whose request bodies are the same every run get the same
    // (seeded) faults; STS (the session name holds the run id) and CloudWatch
    // (the metrics window) are throttled at the same rate, on other requests.
    for service in ["organizations", "iam", "kinesisanalyticsv2", "kms", "s3", "kinesis"] {
        c.check(services.contains(service), format!("{service} was throttled too (throttled: {services:?})"));
    }
    c.check(services.contains("sts") || services.contains("cloudwatch"), format!("sts or cloudwatch throttled: {services:?}"));
    let figures = format!(
        "chaos figures: fault-free {clean_calls} requests in {:.1?}; faulty {} requests in {:.1?}: {throttled} throttled + {errors_5xx} 5xx, all retried to success; {} AssumeRole denials (retried for 1 s)",
        clean.elapsed,
        log.len(),
        chaos.elapsed,
        count("assume_role_denied"),
    );
    eprintln!("{figures}");
    c.finish(&format!("{figures}\n{}", chaos.context()));
}

/// AccessDenied on one call (IAM GetRole, KMS GetKeyPolicy, CloudWatch
/// GetMetricData) and a malformed inline policy: each is its own coverage
/// row with code and request id, and the rest of the account is kept.
#[test]
fn single_call_failures_are_isolated() {
    let emu = Emulator::start(&fleet("reliability.json"));
    let dir = tempfile::tempdir().expect("tempdir");
    let (iam_denied, cw_denied, kms_denied, malformed) = (team(2), team(3), team(4), team(5));
    emu.set_faults(&json!({
        "deny_operations": [
            {"service": "iam", "operation": "GetRole", "account": iam_denied},
            {"service": "cloudwatch", "operation": "GetMetricData", "account": cw_denied},
            {"service": "kms", "operation": "GetKeyPolicy", "account": kms_denied}
        ],
        "malformed_policies": [{"account": malformed, "role": "flink-role", "policy": "streams",
                                "text": "{\"Version\": \"2012-10-17\", \"Statement\": [</script>"}]
    }));
    let scan = run(scan_command(&emu, dir.path(), &config_file(dir.path(), ""), &["--fail-on", "critical"]), dir.path());
    let mut c = Checks::default();
    c.eq(scan.code, Some(3), "exit code");
    let snap = scan.snapshot();
    let want: BTreeSet<_> = [
        row(&iam_denied, "global", "iam", "denied", "AccessDenied"),
        row(&cw_denied, "us-east-1", "cloudwatch", "denied", "AccessDenied"),
        row(&cw_denied, "eu-west-1", "cloudwatch", "denied", "AccessDenied"),
        row(&kms_denied, "us-east-1", "kms", "denied", "AccessDeniedException"),
        row(&malformed, "global", "iam", "error", "MalformedPolicyDocument"),
    ]
    .into_iter()
    .collect();
    c.eq(not_ok(&snap), want, "non-ok coverage rows");
    for r in snap["coverage"].as_array().into_iter().flatten().filter(|r| r["status"] != "ok") {
        c.check(r["request_id"].as_str().is_some_and(|s| !s.is_empty()), format!("row has the request id: {r}"));
        c.check(r["at"].is_string(), format!("row has a timestamp: {r}"));
    }
    let accounts = account_records(&snap);
    let apps = app_records(&snap);
    for i in 1..=8 {
        let n = apps.keys().filter(|k| k.starts_with(&team(i))).count();
        c.eq(n, 4, &format!("apps of team-{i:02} kept"));
    }
    let roles = |id: &str| accounts[id]["roles"].as_array().map(Vec::len).unwrap_or(0);
    let resources = |id: &str| accounts[id]["resources"].as_array().map(Vec::len).unwrap_or(0);
    c.eq(roles(&iam_denied), 0, "GetRole denied: no role");
    c.eq(resources(&iam_denied), 3, "GetRole denied: key, bucket and stream policies kept");
    c.check(
        apps[&format!("{cw_denied}/us-east-1/orders-03")]["metrics"]["series"].as_object().map(|s| s.is_empty()).unwrap_or(true),
        "GetMetricData denied: no metrics",
    );
    c.eq(roles(&cw_denied), 1, "GetMetricData denied: role kept");
    c.eq(resources(&kms_denied), 3, "GetKeyPolicy denied: bucket and stream kept, the key kept as unread");
    let key_unread = accounts[&kms_denied]["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["kind"] == "kms-key")
        .map(|r| r["unread"]["error_code"].clone());
    c.eq(key_unread, Some(serde_json::json!("AccessDeniedException")), "GetKeyPolicy denied: the key's policy is recorded as unread, not absent");
    c.eq(roles(&kms_denied), 1, "GetKeyPolicy denied: role kept");
    let inline = &accounts[&malformed]["roles"][0]["inline_policies"][0]["document"];
    c.check(
        inline["raw"].as_str().is_some_and(|r| r.contains("</script>")) && inline["error"].is_string(),
        format!("malformed policy: raw text kept and flagged: {inline}"),
    );
    c.eq(accounts[&malformed]["managed_policies"].as_array().map(Vec::len), Some(3), "malformed policy: managed policies kept");
    let detail = snap["coverage"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["error_code"] == "MalformedPolicyDocument")
        .map(|r| r["detail"].clone());
    c.check(
        detail.as_ref().and_then(Value::as_str).is_some_and(|d| d.contains("inline policy streams of role flink-role")),
        format!("malformed row names the policy: {detail:?}"),
    );
    c.finish(&scan.context());
}

/// A hung endpoint (latency above the operation timeout) becomes `error`
/// rows with code `Timeout`; the run completes and the report is written.
#[test]
fn hung_endpoint_times_out() {
    let emu = Emulator::start(&fleet("reliability.json"));
    emu.set_faults(&json!({"latency_ms": {"kinesisanalyticsv2": 5000}}));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_file(dir.path(), "operation_timeout_secs = 2\nmax_attempts = 3");
    let scan = run(scan_command(&emu, dir.path(), &config, &["--accounts", "team-01,team-02"]), dir.path());
    let mut c = Checks::default();
    c.eq(scan.code, Some(3), "exit code");
    c.check(scan.elapsed < Duration::from_secs(30), format!("bounded by the timeouts: {:?}", scan.elapsed));
    let got = not_ok(&scan.snapshot());
    let want: BTreeSet<_> = [1, 2].iter().flat_map(|&i| ["us-east-1", "eu-west-1"].map(|r| row(&team(i), r, "flink", "error", "Timeout"))).collect();
    c.eq(got, want, "flink rows time out");
    assert_complete_files(&scan, &mut c);
    c.finish(&scan.context());
}

/// `--max-duration`: unfinished targets are `skipped` (`Interrupted`), the
/// report is still written, `run.interrupted` says why, exit 3.
#[test]
fn max_duration_skips_unfinished_targets() {
    let emu = Emulator::start(&fleet("reliability.json"));
    emu.set_faults(&json!({"latency_ms": 250}));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_file(dir.path(), "concurrency = 4");
    let scan = run(scan_command(&emu, dir.path(), &config, &["--max-duration", "3s"]), dir.path());
    let mut c = Checks::default();
    c.eq(scan.code, Some(3), "exit code");
    c.check(scan.elapsed < Duration::from_secs(3 + 3 + 10), format!("stops soon after the limit: {:?}", scan.elapsed));
    let snap = scan.snapshot();
    c.check(
        snap["run"]["interrupted"].as_str().is_some_and(|s| s.contains("--max-duration")),
        format!("run.interrupted: {}", snap["run"]["interrupted"]),
    );
    let rows = not_ok(&snap);
    c.check(
        !rows.is_empty() && rows.iter().all(|r| r.3 == "skipped" && r.4 == "Interrupted"),
        format!("every unfinished target skipped/Interrupted: {rows:?}"),
    );
    c.check(scan.stdout.contains("INCOMPLETE"), "summary says incomplete");
    assert_complete_files(&scan, &mut c);
    c.finish(&scan.context());
}

/// SIGTERM mid-scan: exit 3, complete report files marked interrupted,
/// `skipped` rows with code `Interrupted`, no temporary file left.
#[cfg(unix)]
#[test]
fn sigterm_writes_incomplete_report() {
    let emu = Emulator::start(&fleet("reliability.json"));
    emu.set_faults(&json!({"latency_ms": 250}));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_file(dir.path(), "concurrency = 4");
    let started = Instant::now();
    let child = scan_command(&emu, dir.path(), &config, &[]).spawn().expect("spawn");
    // Wait until the scan is reading Flink apps, then terminate it.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !emu.requests().iter().any(|r| r["service"] == "kinesisanalyticsv2") {
        assert!(Instant::now() < deadline, "the scan never reached Flink");
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().expect("kill");
    assert!(status.success());
    let sent = Instant::now();
    let scan = finish(wait_bounded(child, Duration::from_secs(60)), dir.path(), started);
    let mut c = Checks::default();
    c.eq(scan.code, Some(3), "exit code");
    c.check(sent.elapsed() < Duration::from_secs(15), format!("stopped promptly: {:?} after SIGTERM", sent.elapsed()));
    let snap = scan.snapshot();
    c.eq(snap["run"]["interrupted"].as_str(), Some("interrupted by SIGTERM"), "run.interrupted");
    let rows = not_ok(&snap);
    c.check(
        !rows.is_empty() && rows.iter().all(|r| r.3 == "skipped" && r.4 == "Interrupted"),
        format!("unfinished targets skipped/Interrupted: {rows:?}"),
    );
    let csv_rows = scan.csv("coverage.csv");
    c.check(csv_rows.iter().any(|r| r["status"] == "skipped" && r["error_code"] == "Interrupted"), "coverage.csv has the Interrupted rows");
    assert_complete_files(&scan, &mut c);
    c.finish(&scan.context());
}

/// A second SIGTERM abandons at once: exit 2 (whatever the run was doing:
/// the first one may already have let it reach report writing).
#[cfg(unix)]
#[test]
fn second_sigterm_abandons_at_once() {
    let emu = Emulator::start(&fleet("reliability.json"));
    // Flink calls take 2 s: after the first SIGTERM the calls in flight keep the
    // run collecting (they get a grace to finish), so the second arrives
    // while it still runs.
    emu.set_faults(&json!({"latency_ms": {"kinesisanalyticsv2": 2000, "default": 0}}));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_file(dir.path(), "concurrency = 4");
    let started = Instant::now();
    let child = scan_command(&emu, dir.path(), &config, &[]).spawn().expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !emu.requests().iter().any(|r| r["service"] == "kinesisanalyticsv2") {
        assert!(Instant::now() < deadline, "the scan never reached Flink");
        std::thread::sleep(Duration::from_millis(100));
    }
    let term = || Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().expect("kill").success();
    assert!(term());
    std::thread::sleep(Duration::from_millis(300));
    assert!(term());
    let sent = Instant::now();
    let scan = finish(wait_bounded(child, Duration::from_secs(30)), dir.path(), started);
    let mut c = Checks::default();
    c.eq(scan.code, Some(2), "exit code of an abandoned run");
    c.check(sent.elapsed() < Duration::from_secs(2), format!("abandoned at once: {:?} after the second SIGTERM", sent.elapsed()));
    c.check(scan.stderr.contains("SIGTERM again: abandoning"), "says it abandons");
    c.finish(&scan.context());
}

/// AssumeRole credentials that expire after 3 s, a scan several times
/// longer: credentials are refreshed before they expire (no ExpiredToken),
/// a few times per account, not on every call; the scan is complete.
#[test]
fn short_sessions_are_refreshed() {
    let ttl = 3.0;
    let emu = Emulator::start(&fleet("reliability.json"));
    emu.set_faults(&json!({"session_ttl_secs": ttl, "latency_ms": 150}));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_file(dir.path(), "concurrency = 3");
    let scan = run(scan_command(&emu, dir.path(), &config, &["--fail-on", "critical", "--accounts", "team-01,team-02,team-03"]), dir.path());
    let log = emu.requests();
    let mut c = Checks::default();
    c.eq(scan.code, Some(0), "complete scan");
    c.eq(log.iter().filter(|r| r["injected_fault"] == "expired_token").count(), 0, "no request carried expired credentials");
    c.check(scan.elapsed.as_secs_f64() > 2.0 * ttl, format!("the scan outlives a session: {:?}", scan.elapsed));
    let time = |r: &Value| chrono::DateTime::parse_from_rfc3339(r["time"].as_str().unwrap_or_default()).map(|t| t.timestamp_millis()).unwrap_or(0);
    let mut outlived = 0;
    for i in 1..=3 {
        let id = team(i);
        // AssumeRole is logged under the caller's account: count the
        // sessions the emulator issued for this account instead.
        let calls: Vec<&Value> = log.iter().filter(|r| r["account"] == id.as_str()).collect();
        let span_secs = match (calls.first(), calls.last()) {
            (Some(a), Some(b)) => (time(b) - time(a)) as f64 / 1000.0,
            _ => 0.0,
        };
        let issued = emu.credentials().iter().filter(|cred| cred["account"] == id.as_str()).count();
        c.check(calls.len() > 20, format!("{id}: {} calls", calls.len()));
        c.check(
            issued >= 1 && issued <= (span_secs / (ttl / 3.0 * 2.0)).ceil() as usize + 1,
            format!("{id}: {issued} sessions for {span_secs:.1}s of calls (not one per call)"),
        );
        if span_secs > ttl {
            outlived += 1;
            c.check(issued >= 2, format!("{id}: calls over {span_secs:.1}s > ttl {ttl}s need a refresh: {issued} sessions"));
        }
    }
    c.check(outlived >= 1, "at least one account was scanned for longer than a session");
    eprintln!("refresh figures: {} requests in {:?}, {} sessions issued", log.len(), scan.elapsed, emu.credentials().len());
    c.finish(&scan.context());
}

/// No access key, secret or session token in stdout, stderr (`-vv` and
/// `RUST_LOG=trace`) or any output file.
#[test]
fn no_secret_reaches_any_output() {
    let emu = Emulator::start(&fleet("reliability.json"));
    emu.set_faults(&json!({"session_ttl_secs": 3, "throttle_rate": 0.1, "seed": 5}));
    let dir = tempfile::tempdir().expect("tempdir");
    let external_id = "ext-id-s3cr3t-5eb7";
    let config = config_file(dir.path(), &format!("external_id = \"{external_id}\"\nconcurrency = 4"));
    let mut cmd = scan_command(&emu, dir.path(), &config, &["-vv", "--accounts", "team-01,team-02"]);
    cmd.env("RUST_LOG", "trace");
    let scan = run(cmd, dir.path());
    let mut c = Checks::default();
    c.check(scan.code == Some(0) || scan.code == Some(1), format!("scan ran: {:?}", scan.code));
    c.check(scan.stderr.len() > 100_000, format!("trace logging was on ({} bytes of stderr)", scan.stderr.len()));
    let issued = emu.credentials();
    c.check(issued.len() >= 2, format!("credentials were issued: {}", issued.len()));
    let mut secrets: Vec<(String, String)> = vec![
        ("base secret key".into(), Emulator::BASE_SECRET.into()),
        ("base access key id".into(), Emulator::BASE_ACCESS_KEY.into()),
        ("external id".into(), external_id.into()),
    ];
    for cred in &issued {
        for field in ["AccessKeyId", "SecretAccessKey", "SessionToken"] {
            if let Some(v) = cred[field].as_str().filter(|v| v.len() >= 8) {
                secrets.push((format!("issued {field}"), v.to_owned()));
            }
        }
    }
    let mut haystacks: Vec<(String, String)> = vec![("stdout".into(), scan.stdout.clone()), ("stderr".into(), scan.stderr.clone())];
    for path in files_under(&scan.out) {
        haystacks.push((path.display().to_string(), String::from_utf8_lossy(&std::fs::read(&path).unwrap_or_default()).into_owned()));
    }
    c.check(haystacks.len() >= 8, format!("output files were written: {}", haystacks.len()));
    for (what, secret) in &secrets {
        for (place, text) in &haystacks {
            c.check(!text.contains(secret.as_str()), format!("{what} found in {place}"));
        }
    }
    c.finish(&format!("exit {:?}", scan.code));
}

/// Hostile names, tags and policy text never break the HTML or the CSVs.
#[test]
fn hostile_fleet_is_escaped_and_neutralised() {
    let emu = Emulator::start(&fleet("hostile.json"));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("fleetscan.toml");
    std::fs::write(&config, "[aws]\nregions = [\"us-east-1\"]\nassume_role_retry_secs = 0\n").unwrap();
    let scan = run(scan_command(&emu, dir.path(), &config, &[]), dir.path());
    let mut c = Checks::default();
    c.check(matches!(scan.code, Some(0) | Some(1)), format!("scan complete: {:?}", scan.code));
    let html = std::fs::read_to_string(scan.run_dir().join("report.html")).expect("report.html");
    for raw in [
        "<img src=x onerror=alert(1)>",
        "<script>alert('tag')</script>",
        "</script><script>alert('policy')</script>",
        "</script><img src=y onerror=alert(2)>",
        "<svg onload=alert(3)>",
        "<b>bold</b>",
        "</script><script>alert('ou')</script>",
    ] {
        c.check(!html.contains(raw), format!("report.html contains raw {raw:?}"));
    }
    c.eq(html.matches("<script").count(), html.matches("</script>").count(), "every </script> closes one of the report's own scripts");
    c.check(
        ["&lt;img src=x onerror=alert(1)&gt;", "&#60;img src=x onerror=alert(1)&#62;", "&#x3c;img src=x onerror=alert(1)&#x3e;"]
            .iter()
            .any(|e| html.contains(e)),
        format!(
            "the hostile account name is shown, escaped: {:?}",
            html.match_indices("onerror")
                .map(|(i, _)| html.get(i.saturating_sub(40)..i + 40).unwrap_or_default())
                .collect::<Vec<_>>()
        ),
    );
    let run_dir = scan.run_dir();
    let mut seen = BTreeSet::new();
    for name in ["apps.csv", "findings.csv", "coverage.csv", "drift.csv"] {
        for r in read_csv(&run_dir.join(name)) {
            for (col, cell) in &r {
                let first = cell.chars().next();
                let formula = matches!(first, Some('=' | '+' | '@' | '\t' | '\r'))
                    || (first == Some('-') && !cell[1..].starts_with(|ch: char| ch.is_ascii_digit()));
                c.check(!formula, format!("{name} {col} not neutralised: {cell:?}"));
                for hostile in ["=HYPERLINK(\"http://x\",\"acct\")", "-cmd", "@sum", "+plus"] {
                    if cell.ends_with(hostile) {
                        seen.insert(hostile);
                    }
                }
            }
        }
    }
    c.eq(seen.len(), 4, "the hostile names are in the CSVs, neutralised");
    c.finish(&scan.context());
}
