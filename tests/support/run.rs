//! Running the real `fleetscan` binary against the emulator.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::emulator::Emulator;

/// `fleetscan ARGS` with only the emulator's AWS environment.
pub fn fleetscan(emu: &Emulator, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fleetscan"));
    command.args(args).env_remove("RUST_LOG").env_remove("AWS_PROFILE").env_remove("AWS_SESSION_TOKEN");
    for (key, value) in emu.aws_env() {
        command.env(key, value);
    }
    command.output().expect("fleetscan runs")
}

/// Both streams of a run, for assertion messages.
pub fn text(output: &Output) -> String {
    format!("--- stdout\n{}\n--- stderr\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// The run folder `out/latest.txt` names.
pub fn latest(out: &Path) -> PathBuf {
    let run = std::fs::read_to_string(out.join("latest.txt")).expect("latest.txt");
    out.join(run.trim())
}
