//! `fleetscan doctor`: is the setup able to scan?

use crate::cli::args::DoctorArgs;
use crate::cli::runtime::{load_config, tokio_runtime};
use crate::collect::doctor::doctor;
use crate::config::Overrides;
use crate::exit::Outcome;

pub fn run(args: &DoctorArgs) -> anyhow::Result<Outcome> {
    let config = load_config(&args.config, Overrides::default())?;
    let steps = tokio_runtime()?.block_on(doctor(&config, "doctor", args.account.as_deref()));
    for step in &steps {
        println!("[{}] {:<16} {}", if step.ok { "pass" } else { "FAIL" }, step.name, step.detail);
        if let Some(hint) = &step.hint {
            println!("       {:<16} fix: {hint}", "");
        }
    }
    let failed = steps.iter().filter(|s| !s.ok).count();
    if failed == 0 {
        println!("\nAll {} checks passed: fleetscan can scan with this setup.", steps.len());
        Ok(Outcome::Clean)
    } else {
        println!("\n{failed} of {} checks failed.", steps.len());
        Ok(Outcome::Fatal)
    }
}
