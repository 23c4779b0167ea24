//! Organization-scale benchmark: the whole fleetscan pipeline (collect →
//! evaluate → reports) against a synthetic Organization of 5,000 accounts in
//! 285 OUs, 17 regions and 10,000 Flink apps, every call answered after
//! 100 ms with a 5 % chance of a throttling error, by an in-process fake AWS
//! plugged into the SDK (`benches/support/synthetic_aws.rs`).
//!
//! Prints wall time against the latency-bound lower bound
//! (calls × latency ÷ concurrency), calls by operation, Organizations calls
//! against 3 per OU + 3 per policy, throttles, coverage and peak RSS.
//! Figures are printed, never asserted.
//!
//! ```sh
//! cargo bench --bench org_scale                                   # full size (release)
//! FLEETSCAN_BENCH_ACCOUNTS=200 FLEETSCAN_BENCH_APPS=400 cargo bench --profile dev --bench org_scale
//! ```
//!
//! Environment (all optional): FLEETSCAN_BENCH_ACCOUNTS, _OU_FANOUT (`5,7,7`),
//! _REGIONS (count or list), _APPS, _APP_REGIONS, _SCPS, _RCPS, _LATENCY_MS,
//! _THROTTLE, _SEED (the fleet, see `FleetSpec::with_env_overrides`);
//! _CONCURRENCY (aws.concurrency, default 256), _ORG_CONCURRENCY (default:
//! fleetscan's), _MAX_ATTEMPTS (default: fleetscan's), _KEEP (keep the
//! report folder and print its path), _BREAKDOWN=1 (the inventory's size by
//! part; it clones each part, so it raises the peak it would explain).

#[path = "support/synthetic_aws.rs"]
mod synthetic_aws;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fleetscan::collect::Collector;
use fleetscan::config::{Config, FileConfig, Overrides};
use fleetscan::inventory::{CoverageStatus, Inventory};
use synthetic_aws::{FleetSpec, StatsSnapshot, SyntheticAws};

/// Counts live heap bytes and blocks, so the memory lines can tell data from
/// allocator cost: glibc spends at least 32 bytes on every block, so many
/// small strings cost far more resident memory than their bytes.
struct CountingAllocator;

static LIVE_HEAP: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static LIVE_BLOCKS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
/// The most live heap since the last phase's line.
static PEAK_HEAP: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

unsafe impl std::alloc::GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let live = LIVE_HEAP.fetch_add(layout.size(), std::sync::atomic::Ordering::Relaxed) + layout.size();
        PEAK_HEAP.fetch_max(live, std::sync::atomic::Ordering::Relaxed);
        LIVE_BLOCKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        LIVE_HEAP.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
        LIVE_BLOCKS.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        let live = LIVE_HEAP.fetch_add(new_size, std::sync::atomic::Ordering::Relaxed) + new_size;
        PEAK_HEAP.fetch_max(live, std::sync::atomic::Ordering::Relaxed);
        LIVE_HEAP.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
        unsafe { std::alloc::System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn live_heap_mib() -> f64 {
    LIVE_HEAP.load(std::sync::atomic::Ordering::Relaxed) as f64 / (1024.0 * 1024.0)
}

fn env_num<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(format!("FLEETSCAN_BENCH_{name}")).ok().and_then(|v| v.trim().parse().ok())
}

/// What one pipeline run produced, for the printout.
struct Outcome {
    inventory: Inventory,
    findings: usize,
    access_decisions: usize,
    org_discovery: Duration,
    collect: Duration,
    evaluate: Duration,
    reports: Duration,
    report_bytes: u64,
}

/// The fleetscan pipeline under test, through the library API: collect
/// (org discovery, plan, scan) with the synthetic AWS as the SDK's HTTP
/// client, evaluate, then every report into `out`. Adapt here when the
/// library API changes.
fn pipeline(aws: &Arc<SyntheticAws>, config: &Config, out: &Path) -> Outcome {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let t0 = Instant::now();
    let (inventory, org_discovery) = runtime.block_on(async {
        let collector = Collector::from_env_with_http_client(config, "bench", Some(aws.http_client())).await.expect("collector");
        let org = collector.discover_tree().await.expect("organization");
        let org_discovery = t0.elapsed();
        let plan = fleetscan::plan::build(config, &org);
        (collector.scan(&plan, |_| {}).await, org_discovery)
    });
    drop(runtime);
    let collect = t0.elapsed();
    // As `fleetscan scan` does between stages (src/cli/scan.rs).
    fleetscan::memory::before_evaluation();
    memory_after("collect");
    // Measuring clones each part: it would itself raise the peak, so only on request.
    if env_num::<u8>("BREAKDOWN") == Some(1) {
        inventory_breakdown(&inventory);
    }

    let t1 = Instant::now();
    let mut evaluation = fleetscan::evaluate::evaluate(&inventory, config);
    let evaluate = t1.elapsed();
    fleetscan::memory::release_free_memory();
    memory_after("evaluate");
    if env_num::<u8>("BREAKDOWN") == Some(1) {
        evaluation_breakdown(&evaluation);
    }

    // Then, as `fleetscan scan` does before writing, the comparison with
    // last night: its findings.json read and compared. Last night is
    // stood in for by this run's own findings, the same size.
    let last_night = out.join("last-night");
    fleetscan::report::write_into(&last_night, &inventory, &evaluation, &[]).expect("last night's findings.json");
    let previous = fleetscan::report::output::read_run(&last_night, &evaluation.findings)
        .expect("last night's findings.json reads back")
        .expect("a scan's findings.json");
    let delta = fleetscan::drift::nightly::since_previous(
        fleetscan::drift::nightly::PreviousRun::Findings(fleetscan::drift::nightly::Previous {
            run_id: Some(&previous.run_id),
            findings: &previous.findings,
            seen: &previous.seen,
            not_checked: &previous.not_checked,
        }),
        &inventory,
        &evaluation.findings,
        config,
    );
    assert_eq!(delta.new.len() + delta.resolved.len() + delta.not_checked.len(), 0, "a run compared with itself changes nothing");
    evaluation.since_previous = Some(delta);
    drop(previous);
    memory_after("nightly");

    // Every report: report.html, the CSVs, snapshot.json, findings.json,
    // and the OCSF, ASFF, SARIF and JUnit files (every format is on here).
    let t2 = Instant::now();
    let outputs = fleetscan::report::Outputs { formats: &config.output.formats, fail_on: config.checks.fail_on };
    let files = fleetscan::report::write_into_with(out, &inventory, &evaluation, outputs).expect("reports");
    let report_bytes = files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum();
    let reports = t2.elapsed();
    memory_after("reports");

    Outcome {
        findings: evaluation.findings.len(),
        access_decisions: evaluation.access_not_allowed,
        inventory,
        org_discovery,
        collect,
        evaluate,
        reports,
        report_bytes,
    }
}

fn config(spec: &FleetSpec, concurrency: usize) -> Config {
    let mut aws = format!(
        "[aws]\nrole_name = \"FleetscanAudit\"\nconcurrency = {concurrency}\nregions = [{}]\n",
        spec.regions.iter().map(|r| format!("\"{r}\"")).collect::<Vec<_>>().join(", ")
    );
    if let Some(n) = env_num::<usize>("ORG_CONCURRENCY") {
        aws.push_str(&format!("org_concurrency = {n}\n"));
    }
    if let Some(n) = env_num::<u32>("MAX_ATTEMPTS") {
        aws.push_str(&format!("max_attempts = {n}\n"));
    }
    let file = FileConfig::parse(&aws).expect("bench config parses");
    let formats = Some(fleetscan::config::OutputFormat::ALL.to_vec());
    Config::resolve(file, Overrides { formats, ..Overrides::default() }).expect("bench config is valid")
}

/// Current and peak resident memory after a phase, so a regression points
/// at the stage that caused it.
fn memory_after(phase: &str) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    };
    let peak_heap = PEAK_HEAP.swap(LIVE_HEAP.load(std::sync::atomic::Ordering::Relaxed), std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "memory after {phase:<8}: {:.0} MiB resident, peak so far {:.0} MiB, live heap {:.0} MiB in {} blocks (at most {:.0} MiB in this phase)",
        field("VmRSS:"),
        field("VmHWM:"),
        live_heap_mib(),
        LIVE_BLOCKS.load(std::sync::atomic::Ordering::Relaxed),
        peak_heap as f64 / (1024.0 * 1024.0)
    );
}

/// Live heap (and blocks) taken by a copy of what `f` clones.
fn measure(what: &str, label: &str, f: &dyn Fn() -> Box<dyn std::any::Any>) {
    let load = || (LIVE_HEAP.load(std::sync::atomic::Ordering::Relaxed), LIVE_BLOCKS.load(std::sync::atomic::Ordering::Relaxed));
    let before = load();
    let copy = f();
    let after = load();
    drop(copy);
    eprintln!(
        "  {what} part {label:<22} {:>7.1} MiB in {:>9} blocks",
        after.0.saturating_sub(before.0) as f64 / (1024.0 * 1024.0),
        after.1.saturating_sub(before.1)
    );
}

fn evaluation_breakdown(evaluation: &fleetscan::findings::Evaluation) {
    let measure = |label: &str, f: &dyn Fn() -> Box<dyn std::any::Any>| measure("evaluation", label, f);
    measure("whole", &|| Box::new(evaluation.clone()));
    measure("findings", &|| Box::new(evaluation.findings.clone()));
    measure("drift", &|| Box::new(evaluation.drift.clone()));
    measure("causes", &|| Box::new(evaluation.causes.clone()));
    let mut checks: Vec<_> = evaluation.findings.iter().map(|f| f.check).collect();
    checks.sort_by_key(|c| c.as_str());
    checks.dedup();
    for check in checks {
        let count = evaluation.findings.iter().filter(|f| f.check == check).count();
        measure(&format!("{} ×{count}", check.as_str()), &|| {
            Box::new(evaluation.findings.iter().filter(|f| f.check == check).cloned().collect::<Vec<_>>())
        });
    }
}

/// Live heap held by each part of the inventory (cloned and dropped one by
/// one): where the memory goes.
fn inventory_breakdown(inventory: &Inventory) {
    let measure = |label: &str, f: &dyn Fn() -> Box<dyn std::any::Any>| measure("inventory", label, f);
    measure("whole", &|| Box::new(inventory.clone()));
    measure("coverage", &|| Box::new(inventory.coverage.clone()));
    measure("accounts w/o regions", &|| {
        Box::new(
            inventory
                .accounts
                .iter()
                .map(|a| fleetscan::inventory::Account { regions: Vec::new(), ..a.clone() })
                .collect::<Vec<_>>(),
        )
    });
    measure("regions (apps)", &|| Box::new(inventory.accounts.iter().map(|a| a.regions.clone()).collect::<Vec<_>>()));
    measure("app metrics", &|| Box::new(inventory.apps().map(|a| a.app.metrics.clone()).collect::<Vec<_>>()));
    measure("roles+policies", &|| Box::new(inventory.accounts.iter().map(|a| (a.roles.clone(), a.managed_policies.clone())).collect::<Vec<_>>()));
    measure("resources", &|| Box::new(inventory.accounts.iter().map(|a| a.resources.clone()).collect::<Vec<_>>()));
    measure("chains", &|| Box::new(inventory.accounts.iter().map(|a| (a.scp_chain.clone(), a.rcp_chain.clone())).collect::<Vec<_>>()));
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    fleetscan::memory::tune_allocator(); // as `fleetscan` does first thing
    let spec = FleetSpec::org_scale().with_env_overrides();
    let concurrency: usize = env_num("CONCURRENCY").unwrap_or(256);
    let config = config(&spec, concurrency);
    let aws = SyntheticAws::new(spec.clone());

    // Credentials and region for the standard chain; nothing from the host.
    let (ak, sk) = aws.management_keys();
    std::env::set_var("AWS_ACCESS_KEY_ID", ak);
    std::env::set_var("AWS_SECRET_ACCESS_KEY", sk);
    std::env::set_var("AWS_REGION", "us-east-1");
    for var in ["AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_DEFAULT_PROFILE"] {
        std::env::remove_var(var);
    }
    std::env::set_var("AWS_CONFIG_FILE", "/dev/null");
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");

    println!("fleetscan Organization-scale benchmark");
    println!(
        "  fleet: {} accounts, {} OUs (fan-out {:?}), {} regions, {} apps in {} account×region pairs, {} Organizations policies",
        spec.accounts,
        aws.ou_count(),
        spec.ou_fanout,
        spec.regions.len(),
        aws.app_count(),
        aws.app_region_pairs(),
        aws.policy_count()
    );
    memory_after("setup");
    println!(
        "  faults: {} ms latency per call, {:.1} % throttled; aws.concurrency = {}, aws.org_concurrency = {}, max_attempts = {}",
        spec.latency.as_millis(),
        spec.throttle_rate * 100.0,
        config.aws.concurrency,
        config.aws.org_concurrency,
        config.aws.max_attempts
    );

    let out = tempdir();
    let started = Instant::now();
    let outcome = pipeline(&aws, &config, &out);
    let wall = started.elapsed();
    let stats = aws.stats();
    print_report(&aws, &config, &stats, &outcome, wall);
    if std::env::var_os("FLEETSCAN_BENCH_KEEP").is_some() {
        println!("  reports kept in {}", out.display());
    } else {
        let _ = std::fs::remove_dir_all(&out);
    }
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("fleetscan-org-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn print_report(aws: &SyntheticAws, config: &Config, stats: &StatsSnapshot, o: &Outcome, wall: Duration) {
    let spec = &aws.spec;
    let latency = spec.latency.as_secs_f64();
    let conc = config.aws.concurrency as f64;
    let org_conc = config.aws.org_concurrency as f64;

    println!("\ncalls received by the synthetic AWS (attempts, throttled ones included):");
    let fleetscan_calls: &BTreeMap<String, u64> = &o.inventory.run.api_calls;
    println!("  {:<52} {:>9} {:>9} {:>10}", "operation", "calls", "throttled", "fleetscan");
    for (op, n) in &stats.calls {
        println!(
            "  {:<52} {:>9} {:>9} {:>10}",
            op,
            n,
            stats.throttled.get(op).copied().unwrap_or(0),
            fleetscan_calls.get(op).map(|c| c.to_string()).unwrap_or_else(|| "-".into())
        );
    }
    let fs_total: u64 = fleetscan_calls.values().sum();
    println!("  {:<52} {:>9} {:>9} {:>10}", "total", stats.total, stats.throttles, fs_total);
    let scanned_accounts = o.inventory.accounts.iter().filter(|a| a.scan.is_scanned()).count().max(1);
    println!("  per account: {:.1} calls; most in flight at once: {}", stats.total as f64 / scanned_accounts as f64, stats.max_in_flight);

    // Organizations economy.
    let org_total = stats.service_total("organizations");
    let org_tags = stats.get("organizations:ListTagsForResource");
    let budget = 3 * aws.ou_count() as u64 + 3 * aws.policy_count() as u64;
    println!("\nOrganizations calls: {org_total} (tree + policies {}, per-account ListTagsForResource {org_tags})", org_total - org_tags);
    println!(
        "  budget 3 × {} OUs + 3 × {} policies = {budget}: {} ({:.2}× the budget; {:.2}× without account tags)",
        aws.ou_count(),
        aws.policy_count(),
        if org_total < budget { "within" } else { "OVER" },
        org_total as f64 / budget as f64,
        (org_total - org_tags) as f64 / budget as f64,
    );

    // Time.
    let lower = stats.total as f64 * latency / conc;
    let org_lower = org_total as f64 * latency / org_conc;
    println!("\ntime:");
    println!("  wall time (collect + evaluate + reports): {:.1} s", wall.as_secs_f64());
    println!(
        "    org discovery {:.1} s, scan {:.1} s, evaluate {:.1} s ({} findings, {} actions not allowed), reports {:.1} s ({:.1} MiB)",
        o.org_discovery.as_secs_f64(),
        (o.collect - o.org_discovery).as_secs_f64(),
        o.evaluate.as_secs_f64(),
        o.findings,
        o.access_decisions,
        o.reports.as_secs_f64(),
        o.report_bytes as f64 / (1024.0 * 1024.0)
    );
    let ratio = if lower > 0.0 { format!("{:.2}", wall.as_secs_f64() / lower) } else { "n/a (no latency)".to_owned() };
    println!(
        "  lower bound = {} calls × {} ms ÷ {} = {:.1} s → wall / bound = {ratio}",
        stats.total,
        spec.latency.as_millis(),
        config.aws.concurrency,
        lower,
    );
    println!(
        "  (Organizations alone: {} calls × {} ms ÷ org_concurrency {} = {:.1} s)",
        org_total,
        spec.latency.as_millis(),
        config.aws.org_concurrency,
        org_lower
    );

    // Coverage.
    let rows = &o.inventory.coverage;
    let ok = rows.iter().filter(|r| r.status == CoverageStatus::Ok).count();
    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rows {
        *by_status.entry(r.status.as_str()).or_default() += 1;
    }
    let apps: usize = o.inventory.apps().count();
    println!("\ncoverage: {ok} ok / {} rows {:?}; apps collected {apps} / {}", rows.len(), by_status, aws.app_count());
    for r in rows.iter().filter(|r| r.status != CoverageStatus::Ok).take(5) {
        println!(
            "  not ok: {} {} {} {} {}",
            r.account_id,
            r.region,
            r.scope,
            r.error_code.as_deref().unwrap_or("-"),
            r.detail.as_deref().unwrap_or("")
        );
    }
    println!("throttled answers: {}", stats.throttles);
    match peak_rss_mib() {
        Some(mib) => println!("peak RSS (VmHWM): {mib:.0} MiB"),
        None => println!("peak RSS: unavailable (no /proc/self/status)"),
    }
}
