//! Browser test: opens a generated report.html in headless Chromium and
//! checks what a reader sees. Driven through chromedriver (W3C WebDriver:
//! plain HTTP + JSON, spoken here with std's TcpStream), so the test needs
//! no crate, no node and no network.
//!
//! Needs Debian's `chromium` and `chromium-driver`:
//!     apt-get update && apt-get install -y chromium chromium-driver
//! Without them the test fails, never skips. The only way to leave it out is
//! the explicit opt-out `FLEETSCAN_TEST_SKIP=browser` (a comma-separated
//! list, see README.md's Development section), which prints that it was not
//! run. `CHROMEDRIVER` and `CHROMIUM` override the binaries.
//!
//! Screenshot for the README (docs/report-screenshot.png):
//!     FLEETSCAN_SCREENSHOT=docs/report-screenshot.png cargo test --test browser
//! Every run also leaves `report-screenshot.png` in cargo's test temp dir
//! (target/tmp/).

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use fleetscan::config::OutputFormat;
use serde_json::{json, Value};

const INSTALL: &str = "apt-get update && apt-get install -y chromium chromium-driver";

fn find_binary(env: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(env) {
        return Some(PathBuf::from(path));
    }
    candidates.iter().map(PathBuf::from).find(|p| p.is_file())
}

/// True when the developer opted out with `FLEETSCAN_TEST_SKIP=browser`.
fn opted_out() -> bool {
    std::env::var("FLEETSCAN_TEST_SKIP").is_ok_and(|v| v.split(',').any(|s| s.trim() == "browser"))
}

/// chromedriver and the Chromium binary; `None` only when the developer
/// opted out (said loudly). Missing binaries fail the test.
fn browser() -> Option<(PathBuf, PathBuf)> {
    if opted_out() {
        eprintln!("\n\n*** NOT RUN: browser test (FLEETSCAN_TEST_SKIP=browser) ***\n");
        return None;
    }
    let driver = find_binary("CHROMEDRIVER", &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]);
    let chromium = find_binary("CHROMIUM", &["/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"]);
    match (driver, chromium) {
        (Some(d), Some(c)) => Some((d, c)),
        _ => panic!(
            "the browser test needs headless Chromium and chromedriver; install them with: {INSTALL} \
             (or set CHROMIUM / CHROMEDRIVER; to leave this test out of a quick loop: FLEETSCAN_TEST_SKIP=browser)"
        ),
    }
}

struct Driver {
    child: Child,
    port: u16,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = http(self.port, "DELETE", &format!("/session/{}", self.session), None);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> std::io::Result<Value> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(200)))?;
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    // Read the header, then exactly Content-Length bytes (chromedriver may
    // keep the connection open despite `Connection: close`).
    let mut raw = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    let split = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::other("connection closed before the HTTP header ended"));
        }
        raw.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let mut payload = raw[split + 4..].to_vec();
    let length = head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse::<usize>().ok());
    match length {
        Some(length) => {
            while payload.len() < length {
                let n = stream.read(&mut chunk)?;
                if n == 0 {
                    break;
                }
                payload.extend_from_slice(&chunk[..n]);
            }
        }
        None => {
            stream.read_to_end(&mut payload)?;
        }
    }
    if head.contains("transfer-encoding: chunked") {
        let mut out = Vec::new();
        let mut rest = &payload[..];
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..eol]).trim(), 16).unwrap_or(0);
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
            rest = &rest[eol + 2 + size + 2..];
        }
        payload = out;
    }
    serde_json::from_slice(&payload).map_err(std::io::Error::other)
}

impl Driver {
    fn start(driver: &Path, chromium: &Path, javascript: bool, window: (u32, u32)) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(status) = http(port, "GET", "/status", None) {
                if status["value"]["ready"] == true {
                    break;
                }
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromedriver did not become ready");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let mut options = json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars",
                format!("--window-size={},{}", window.0, window.1),
                format!("--user-data-dir={}", profile.path().display()),
            ],
            "perfLoggingPrefs": {"enableNetwork": true, "enablePage": false},
        });
        if !javascript {
            options["prefs"] = json!({"profile.managed_default_content_settings.javascript": 2});
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": options,
            "goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"},
        }}});
        let response = match http(port, "POST", "/session", Some(&caps)) {
            Ok(r) => r,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("cannot create a WebDriver session: {e}");
            }
        };
        let Some(session) = response["value"]["sessionId"].as_str().map(str::to_owned) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("cannot create a WebDriver session: {response}");
        };
        Driver { child, port, session, _profile: profile }
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("/session/{}{path}", self.session);
        let response = http(self.port, method, &url, body.as_ref()).unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        if response["value"].get("error").is_some() {
            panic!("{method} {path}: {}", response["value"]);
        }
        response["value"].clone()
    }

    fn js(&self, script: &str) -> Value {
        self.cmd("POST", "/execute/sync", Some(json!({"script": script, "args": []})))
    }

    fn open(&self, file: &Path) -> String {
        let url = format!("file://{}", file.display());
        self.cmd("POST", "/timeouts", Some(json!({"pageLoad": 180_000, "script": 60_000})));
        // Reading a log empties it: drop what the start page logged.
        self.logs("performance");
        self.logs("browser");
        self.cmd("POST", "/url", Some(json!({"url": url})));
        url
    }

    fn logs(&self, kind: &str) -> Vec<Value> {
        self.cmd("POST", "/se/log", Some(json!({"type": kind}))).as_array().cloned().unwrap_or_default()
    }

    /// Polls `script` until it returns true.
    fn wait_for(&self, script: &str, what: &str) -> Duration {
        let started = Instant::now();
        while self.js(script) != json!(true) {
            assert!(started.elapsed() < Duration::from_secs(30), "timed out waiting for: {what}");
            std::thread::sleep(Duration::from_millis(25));
        }
        started.elapsed()
    }

    fn type_into(&self, css: &str, text: &str) {
        let found = self.cmd("POST", "/element", Some(json!({"using": "css selector", "value": css})));
        let id = found.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).unwrap().to_owned();
        self.cmd("POST", &format!("/element/{id}/value"), Some(json!({"text": text})));
    }

    fn screenshot(&self) -> Vec<u8> {
        let png = self.cmd("GET", "/screenshot", None);
        base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap()).unwrap()
    }

    /// Every request the page made other than the page itself, and any
    /// network (http, https, ws, ftp) request at all. Chromium's own start
    /// page (chrome:// resources of another document) is not the report's.
    fn foreign_requests(&self, page_url: &str) -> Vec<String> {
        let requests: Vec<Value> = self
            .logs("performance")
            .iter()
            .filter_map(|entry| serde_json::from_str::<Value>(entry["message"].as_str()?).ok())
            .filter(|m| m["message"]["method"] == "Network.requestWillBeSent")
            .collect();
        // the log must have seen the page's own load, or it proves nothing
        assert!(
            requests.iter().any(|m| m["message"]["params"]["request"]["url"].as_str() == Some(page_url)),
            "the performance log did not record the page load"
        );
        requests
            .iter()
            .filter_map(|m| {
                let params = &m["message"]["params"];
                let url = params["request"]["url"].as_str()?.to_owned();
                let from_page = params["documentURL"].as_str() == Some(page_url);
                let network = ["http:", "https:", "ws:", "wss:", "ftp:"].iter().any(|s| url.starts_with(s));
                ((from_page && url != page_url) || network).then_some(url)
            })
            .collect()
    }

    fn console_errors(&self) -> Vec<String> {
        self.logs("browser")
            .iter()
            .filter(|e| e["level"] == "SEVERE" || e["level"] == "WARNING")
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

fn write_report(inventory: &fleetscan::inventory::Inventory, evaluation: &fleetscan::findings::Evaluation) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    fleetscan::report::write_into(dir.path(), inventory, evaluation, &[OutputFormat::Html]).unwrap();
    let path = dir.path().join("report.html");
    (dir, path)
}

const VISIBLE_FINDINGS: &str = "return document.querySelectorAll('#ft tbody tr').length";

#[test]
fn report_loads_offline_filters_and_shows_hostile_names_as_text() {
    let Some((driver, chromium)) = browser() else { return };
    let (_dir, report) = write_report(&common::small_inventory(), &common::small_evaluation());
    let browser = Driver::start(&driver, &chromium, true, (1440, 1900));
    let url = browser.open(&report);
    browser.wait_for("return document.readyState === 'complete' && !!document.querySelector('#ft.ready')", "the script to build the findings table");

    // everything present, nothing fetched, nothing complained
    assert_eq!(browser.js(VISIBLE_FINDINGS), json!(9));
    let apps = browser.js("return document.querySelectorAll('#at tbody tr').length");
    assert_eq!(apps, json!(5));

    // the hostile account name is text, not markup, everywhere
    assert_eq!(browser.js("return document.querySelectorAll('img').length"), json!(0));
    let shown = browser.js("return Array.from(document.querySelectorAll('#ft td, #at td, .diff-h b')).filter(e => e.textContent.includes('<img src=x onerror=alert(1)>')).length");
    assert!(shown.as_u64().unwrap() >= 3, "hostile name shown as text in findings, apps and the prod-vs-dev view: {shown}");
    let alert = http(browser.port, "GET", &format!("/session/{}/alert/text", browser.session), None).unwrap();
    assert_eq!(alert["value"]["error"], "no such alert", "an alert() ran: {alert}");

    // a filter narrows the table: severity, then free text typed like a user
    browser.js("const s = document.querySelector('#ff select[name=sev]'); s.value = 'high'; s.dispatchEvent(new Event('change', {bubbles: true}));");
    browser.wait_for("return document.querySelectorAll('#ft tbody tr').length === 5", "severity filter: 4 open high findings + 1 suppressed high");
    browser.type_into("#ff input[name=q]", "kms");
    browser.wait_for("return document.querySelectorAll('#ft tbody tr').length === 1", "text search narrows to the CMK finding");
    assert_eq!(browser.js("return document.querySelector('#ft tbody tr .ck').textContent"), json!("cmk-service-access-denied"));
    assert!(browser.js("return document.querySelector('#ff [data-count]').textContent").as_str().unwrap().starts_with("1 of 9"));
    // sorting by account reorders the rows
    browser.js("document.querySelector('#ff').reset();");
    browser.wait_for("return document.querySelectorAll('#ft tbody tr').length === 9", "reset shows all");
    browser.js("document.querySelectorAll('#ft th')[2].click()");
    let first = browser.js("return document.querySelector('#ft tbody tr td:nth-child(3)').textContent");
    assert!(first.as_str().unwrap().starts_with("<img"), "sorted by account name ascending: {first}");
    browser.js("document.querySelectorAll('#ft th')[0].click()");

    // open one finding and scroll to the top for the picture
    browser.js("const d = document.querySelectorAll('#ft details')[1]; d.open = true; window.scrollTo(0, 0);");
    let png = browser.screenshot();
    assert!(png.starts_with(b"\x89PNG"), "screenshot is a PNG");
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    std::fs::write(&out, &png).unwrap();
    println!("screenshot: {} ({} bytes)", out.display(), png.len());
    if let Some(copy) = std::env::var_os("FLEETSCAN_SCREENSHOT") {
        let copy = PathBuf::from(copy);
        if let Some(parent) = copy.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&copy, &png).unwrap();
        println!("screenshot copied to {}", copy.display());
    }

    let requests = browser.foreign_requests(&url);
    assert!(requests.is_empty(), "the report fetched: {requests:?}");
    let errors = browser.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

#[test]
fn report_is_readable_with_javascript_off() {
    let Some((driver, chromium)) = browser() else { return };
    let (_dir, report) = write_report(&common::small_inventory(), &common::small_evaluation());
    let browser = Driver::start(&driver, &chromium, false, (1280, 900));
    let url = browser.open(&report);
    // rows are in the markup and displayed; the JS-only filter bar is hidden
    assert_eq!(browser.js(VISIBLE_FINDINGS), json!(9));
    let shown = browser.js("return Array.from(document.querySelectorAll('#ft tbody tr')).filter(r => r.offsetParent !== null).length");
    // execute/sync works with page JavaScript disabled in Chromium (it is the driver's)
    assert_eq!(shown, json!(9));
    assert_eq!(browser.js("return getComputedStyle(document.querySelector('#ff')).display"), json!("none"));
    assert_eq!(browser.js("return document.querySelectorAll('img').length"), json!(0));
    assert!(browser.foreign_requests(&url).is_empty());
}

#[test]
fn large_report_opens_and_filters_smoothly() {
    let Some((driver, chromium)) = browser() else { return };
    let (inventory, evaluation) = common::large_fleet(5_000);
    let (_dir, report) = write_report(&inventory, &evaluation);
    let size = std::fs::metadata(&report).unwrap().len();
    let browser = Driver::start(&driver, &chromium, true, (1440, 1000));
    let started = Instant::now();
    browser.open(&report);
    browser.wait_for(
        "return !!document.querySelector('#at.ready') && document.querySelectorAll('#ft tbody tr').length === 100",
        "first page of findings",
    );
    let load = started.elapsed();
    let total = evaluation.findings.len();
    assert!(browser.js("return document.querySelector('#ff [data-count]').textContent").as_str().unwrap().contains(
        &format!("{}", total)
            .chars()
            .rev()
            .collect::<Vec<_>>()
            .chunks(3)
            .map(|c| c.iter().rev().collect::<String>())
            .rev()
            .collect::<Vec<_>>()
            .join(",")
    ));
    let started = Instant::now();
    browser.type_into("#ff input[name=q]", "team-0042-prod");
    browser.wait_for(
        "return document.querySelectorAll('#ft tbody tr').length > 0 && document.querySelectorAll('#ft tbody tr').length < 10",
        "search narrows 16,000 findings",
    );
    let filter = started.elapsed();
    let started = Instant::now();
    browser.js("document.querySelectorAll('#at th')[7].click()");
    let sort = started.elapsed();
    println!(
        "large report ({:.1} MB, {total} findings, 10,000 apps): load {load:.2?}, filter {filter:.2?} (incl. 120 ms debounce), sort apps {sort:.2?}",
        size as f64 / 1e6
    );
    assert!(load < Duration::from_secs(20), "load took {load:?}");
    assert!(filter < Duration::from_secs(3), "filter took {filter:?}");
    let errors = browser.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

/// The causes view: a click on a cause opens it to its findings; the trend
/// chart of a second run draws a point per run; no console error.
#[test]
fn causes_expand_to_their_findings_and_the_trend_renders_after_a_second_run() {
    let Some((driver, chromium)) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (inventory, evaluation) = (common::small_inventory(), common::small_evaluation());
    fleetscan::report::write_run(dir.path(), &inventory, &evaluation, &[OutputFormat::Html]).unwrap();
    let second = fleetscan::report::write_run(dir.path(), &inventory, &evaluation, &[OutputFormat::Html]).unwrap();
    let browser = Driver::start(&driver, &chromium, true, (1440, 1600));
    browser.open(&second.dir.join("report.html"));
    browser.wait_for("return document.readyState === 'complete' && !!document.querySelector('#ft.ready')", "the script");

    let first = &evaluation.causes[0];
    let css = format!("#cause-{} > details > summary", first.cause_id);
    assert_eq!(browser.js(&format!("return document.querySelector('{css}').parentNode.open")), json!(false), "causes start folded");
    let found = browser.cmd("POST", "/element", Some(json!({"using": "css selector", "value": css})));
    let id = found.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).unwrap().to_owned();
    browser.cmd("POST", &format!("/element/{id}/click"), Some(json!({})));
    browser.wait_for(&format!("return document.querySelector('{css}').parentNode.open"), "the cause opens");
    let listed = browser.js(&format!(
        "return Array.from(document.querySelectorAll('#cause-{} .cause-findings li')).filter(li => li.offsetParent !== null).length",
        first.cause_id
    ));
    assert_eq!(listed, json!(first.finding_ids.len()), "the open cause shows each of its findings");
    // the causes view comes before the findings table on the page
    assert_eq!(
        browser.js(
            "return document.getElementById('causes').getBoundingClientRect().top < document.getElementById('findings').getBoundingClientRect().top"
        ),
        json!(true)
    );

    // the trend: two runs, one point per run on each line, drawn with a size
    let points = browser.js("return Array.from(document.querySelectorAll('#trend-chart g.tl')).map(g => g.querySelectorAll('circle').length)");
    assert!(points.as_array().is_some_and(|lines| !lines.is_empty() && lines.iter().all(|n| n == &json!(2))), "points per line: {points}");
    let width = browser.js("return document.getElementById('trend-chart').getBoundingClientRect().width");
    assert!(width.as_f64().unwrap_or(0.0) > 100.0, "the chart is drawn: {width}");
    let errors = browser.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

/// Not a check: a full-page picture for reviewing the design
/// (`cargo test --test browser full_page -- --ignored`, then open
/// target/tmp/report-full.png).
#[test]
#[ignore = "design review picture"]
fn full_page_screenshot() {
    let Some((driver, chromium)) = browser() else { return };
    let (_dir, report) = write_report(&common::small_inventory(), &common::small_evaluation());
    let browser = Driver::start(&driver, &chromium, true, (1440, 1500));
    browser.open(&report);
    browser.wait_for("return !!document.querySelector('#ft.ready')", "script");
    browser.js("document.querySelectorAll('#at details')[2].open = true;");
    for section in ["summary", "apps", "drift", "coverage"] {
        browser.js(&format!("document.getElementById('{section}').scrollIntoView(); window.scrollBy(0, -56);"));
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("report-{section}.png"));
        std::fs::write(&out, browser.screenshot()).unwrap();
        println!("{}", out.display());
    }
}
