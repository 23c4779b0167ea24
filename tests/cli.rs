//! End-to-end CLI tests as data: every `tests/cli/*.toml` file is one case
//! that runs the real binary and checks its exit code and output.
//!
//! A case:
//! ```toml
//! args = ["checks", "--format", "json"]   # {dir} is replaced by a fresh temp folder
//! stdin = "..."                           # optional
//! exit = 0
//! stdout_contains = ["checkpointing-disabled"]
//! stderr_contains = []
//! stdout_lacks = []
//! stderr_lacks = []
//! [files]                                 # optional files created in {dir} first
//! "bad.toml" = "[aws]\nconcurency = 3\n"
//! [generated]                             # optional files made of bytes (binary, huge)
//! "big.toml" = { repeat = "# padding\n", times = 500000 }
//! "bin.toml" = { hex = "00ff fe7f", repeat_hex = 1 }
//! ```

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    args: Vec<String>,
    stdin: Option<String>,
    exit: i32,
    #[serde(default)]
    stdout_contains: Vec<String>,
    #[serde(default)]
    stderr_contains: Vec<String>,
    #[serde(default)]
    stdout_lacks: Vec<String>,
    #[serde(default)]
    stderr_lacks: Vec<String>,
    #[serde(default)]
    files: BTreeMap<String, String>,
    #[serde(default)]
    generated: BTreeMap<String, Generated>,
}

/// A file built from bytes: `repeat` (text) or `hex` (bytes, whitespace
/// ignored) written `times` times.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Generated {
    repeat: Option<String>,
    hex: Option<String>,
    #[serde(default = "one")]
    times: usize,
}

fn one() -> usize {
    1
}

impl Generated {
    fn bytes(&self) -> Result<Vec<u8>, String> {
        let unit = match (&self.repeat, &self.hex) {
            (Some(text), None) => text.as_bytes().to_vec(),
            (None, Some(hex)) => {
                let digits: String = hex.chars().filter(|c| !c.is_whitespace()).collect();
                (0..digits.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(digits.get(i..i + 2).unwrap_or("zz"), 16).map_err(|e| format!("bad hex: {e}")))
                    .collect::<Result<_, _>>()?
            }
            _ => return Err("a generated file needs exactly one of `repeat` or `hex`".into()),
        };
        Ok(unit.repeat(self.times))
    }
}

fn run_case(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let case: Case = toml::from_str(&text).map_err(|e| format!("bad case file: {e}"))?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dir_text = dir.path().display().to_string();
    let root = env!("CARGO_MANIFEST_DIR");
    let fill = |s: &str| s.replace("{dir}", &dir_text).replace("{root}", root);
    for (name, content) in &case.files {
        std::fs::write(dir.path().join(name), fill(content)).map_err(|e| e.to_string())?;
    }
    for (name, generated) in &case.generated {
        std::fs::write(dir.path().join(name), generated.bytes()?).map_err(|e| e.to_string())?;
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_fleetscan"))
        .args(case.args.iter().map(|a| fill(a)))
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .env_remove("FLEETSCAN_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    if let Some(mut stdin) = child.stdin.take() {
        if let Some(input) = &case.stdin {
            stdin.write_all(fill(input).as_bytes()).map_err(|e| e.to_string())?;
        }
    }
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut problems = Vec::new();
    if output.status.code() != Some(case.exit) {
        problems.push(format!("exit {:?}, expected {}", output.status.code(), case.exit));
    }
    for needle in &case.stdout_contains {
        if !stdout.contains(&fill(needle)) {
            problems.push(format!("stdout lacks {needle:?}"));
        }
    }
    for needle in &case.stderr_contains {
        if !stderr.contains(&fill(needle)) {
            problems.push(format!("stderr lacks {needle:?}"));
        }
    }
    for needle in &case.stdout_lacks {
        if stdout.contains(&fill(needle)) {
            problems.push(format!("stdout has {needle:?}"));
        }
    }
    for needle in &case.stderr_lacks {
        if stderr.contains(&fill(needle)) {
            problems.push(format!("stderr has {needle:?}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n--- stdout\n{stdout}\n--- stderr\n{stderr}", problems.join("\n")))
    }
}

#[test]
fn cli_cases() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli");
    let mut paths: Vec<_> = std::fs::read_dir(&folder)
        .expect("tests/cli exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no cases in {}", folder.display());
    let failures: Vec<String> = paths.iter().filter_map(|p| run_case(p).err().map(|e| format!("== {}\n{e}", p.display()))).collect();
    println!("{} CLI cases, {} failed", paths.len(), failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
