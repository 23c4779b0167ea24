//! Test harness for the fleetscan AWS emulator (moto + middleware, see
//! `tests/emulator/fleetemu.py` and `tests/fleets/README.md`).
//!
//! Include from an integration test with
//! `#[path = "support/emulator.rs"] mod emulator;`.
//!
//! ```ignore
//! let emu = emulator::Emulator::start(&emulator::fleet("integration.json"));
//! // run the binary with AWS_ENDPOINT_URL = emu.endpoint()
//! emu.set_faults(&serde_json::json!({"throttle_rate": 0.2, "seed": 1}));
//! let log = emu.requests();
//! ```
//!
//! Uses std and serde_json only.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long to wait for the emulator to print READY.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Path of a fleet file under `tests/fleets/`.
pub fn fleet(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("fleets").join(name)
}

/// The Python interpreter of the emulator's virtualenv:
/// `$FLEETSCAN_PYTHON`, else `<crate>/.venv/bin/python`.
pub fn python() -> PathBuf {
    match std::env::var_os("FLEETSCAN_PYTHON") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv").join("bin").join("python"),
    }
}

/// A running emulator; killed on drop.
pub struct Emulator {
    child: Child,
    endpoint: String,
    host_port: String,
    stderr_path: PathBuf,
}

impl Emulator {
    /// Start the emulator on a free loopback port, seeded with `fleet`.
    pub fn start(fleet: &Path) -> Emulator {
        Self::start_with(fleet, &[])
    }

    /// Like [`Emulator::start`], with extra launcher arguments such as
    /// `["--page-size", "2"]` or `["--faults", "/path/faults.json"]`.
    pub fn start_with(fleet: &Path, extra_args: &[&str]) -> Emulator {
        let py = python();
        if !py.exists() {
            panic!(
                "emulator: Python interpreter {} not found. The integration tests need the \
                 emulator's virtualenv: run the test command from README.md (it creates \
                 .venv with the pinned moto[server] and cbor2), or create it by hand:\n  \
                 python3 -m venv .venv && .venv/bin/pip install -r tests/emulator/requirements.txt\n\
                 or point FLEETSCAN_PYTHON at an interpreter that has them.",
                py.display()
            );
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("emulator").join("fleetemu.py");
        let stderr_path =
            std::env::temp_dir().join(format!("fleetemu-{}-{}.log", std::process::id(), COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst)));
        let stderr_file = std::fs::File::create(&stderr_path).expect("emulator: create stderr log");
        let mut cmd = Command::new(&py);
        cmd.arg(&script).arg("--port").arg("0").arg("--fleet").arg(fleet);
        cmd.args(extra_args);
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::from(stderr_file));
        // The emulator must never see real credentials or endpoints.
        for var in ["AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] {
            cmd.env_remove(var);
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("emulator: cannot spawn {}: {e}", py.display()));
        let stdout = child.stdout.take().expect("emulator stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining so the child never blocks on a full pipe.
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink);
        });
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("emulator: no READY line within {:?}; stderr:\n{}", START_TIMEOUT, std::fs::read_to_string(&stderr_path).unwrap_or_default());
            }
        };
        let endpoint = match line.trim().strip_prefix("READY ") {
            Some(ep) => ep.to_string(),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "emulator: did not start (first stdout line {:?}); stderr:\n{}\n\
                     If moto is missing, run the test command from README.md to create .venv.",
                    line,
                    std::fs::read_to_string(&stderr_path).unwrap_or_default()
                );
            }
        };
        let host_port = endpoint.trim_start_matches("http://").trim_end_matches('/').to_string();
        Emulator { child, endpoint, host_port, stderr_path }
    }

    /// `http://127.0.0.1:PORT`: use as `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Environment for running fleetscan against this emulator as the
    /// management account (moto maps unknown access keys to 123456789012).
    pub fn aws_env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL".into(), self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID".into(), Self::BASE_ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY".into(), Self::BASE_SECRET.into()),
            ("AWS_REGION".into(), "us-east-1".into()),
            ("AWS_DEFAULT_REGION".into(), "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
            ("AWS_CONFIG_FILE".into(), "/dev/null".into()),
            ("AWS_SHARED_CREDENTIALS_FILE".into(), "/dev/null".into()),
        ]
    }

    /// Replace the fault configuration (see tests/fleets/README.md). `{}` clears it.
    pub fn set_faults(&self, faults: &serde_json::Value) {
        let (status, body) = self.http("POST", "/_fleetscan/faults", Some(&faults.to_string()));
        assert_eq!(status, 200, "emulator: set_faults failed: {body}");
    }

    /// Every AWS request served since start (or the last clear), oldest first:
    /// `{service, operation, account, region, status, request_id, time, injected_fault?}`.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        let (status, body) = self.http("GET", "/_fleetscan/requests", None);
        assert_eq!(status, 200, "emulator: requests failed: {body}");
        match serde_json::from_str(&body) {
            Ok(serde_json::Value::Array(v)) => v,
            other => panic!("emulator: bad request log: {other:?}"),
        }
    }

    /// Every credential set the emulator's AssumeRole handed out:
    /// `{AccessKeyId, SecretAccessKey, SessionToken, Expiration, expires_at, account}`.
    pub fn credentials(&self) -> Vec<serde_json::Value> {
        let (status, body) = self.http("GET", "/_fleetscan/credentials", None);
        assert_eq!(status, 200, "emulator: credentials failed: {body}");
        match serde_json::from_str(&body) {
            Ok(serde_json::Value::Array(v)) => v,
            other => panic!("emulator: bad credentials list: {other:?}"),
        }
    }

    /// The secret key of [`Emulator::aws_env`]'s base credentials.
    pub const BASE_SECRET: &'static str = "fleetscan-test-secret";
    /// The access key id of [`Emulator::aws_env`]'s base credentials.
    pub const BASE_ACCESS_KEY: &'static str = "AKIAFLEETSCANTEST01";

    pub fn clear_requests(&self) {
        let (status, body) = self.http("POST", "/_fleetscan/requests/clear", Some("{}"));
        assert_eq!(status, 200, "emulator: clear_requests failed: {body}");
    }

    /// Re-seed the emulator from another fleet file (moto state is reset; the
    /// request log and faults are kept). Issued credentials become invalid.
    pub fn apply_fleet(&self, fleet: &Path) {
        let path = fleet.canonicalize().unwrap_or_else(|e| panic!("emulator: fleet {}: {e}", fleet.display()));
        let body = serde_json::json!({ "path": path.to_string_lossy() }).to_string();
        let (status, resp) = self.http("POST", "/_fleetscan/fleet", Some(&body));
        assert_eq!(status, 200, "emulator: apply_fleet failed: {resp}");
    }

    /// The emulator's stderr so far (for failure messages).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Minimal HTTP/1.1 client for the unsigned control API.
    fn http(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        let mut stream =
            TcpStream::connect(&self.host_port).unwrap_or_else(|e| panic!("emulator: connect {}: {e}\n{}", self.host_port, self.stderr()));
        stream.set_read_timeout(Some(Duration::from_secs(60))).ok();
        let body = body.unwrap_or("");
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.host_port,
            body.len()
        );
        stream.write_all(req.as_bytes()).expect("emulator: write request");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("emulator: read response");
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
        let chunked = head.lines().any(|l| {
            let l = l.to_ascii_lowercase();
            l.starts_with("transfer-encoding:") && l.contains("chunked")
        });
        let body = if chunked { dechunk(rest) } else { rest.to_string() };
        (status, body)
    }
}

static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.stderr_path);
    }
}
