//! `fleetscan explain --bundle FILE|-`: one IAM decision, explained.

use std::io::Read;

use anyhow::Context;

use crate::cli::args::{ExplainArgs, ExplainFormat};
use crate::exit::Outcome;
use crate::policy::{explain_bundle_json, explain_bundle_text};

/// Largest bundle accepted: policies are small; anything larger is a mistake.
const MAX_BUNDLE_BYTES: u64 = 16 * 1024 * 1024;

pub fn run(args: &ExplainArgs) -> anyhow::Result<Outcome> {
    let input = read_bundle(&args.bundle)?;
    let source = if args.bundle == "-" { "standard input" } else { args.bundle.as_str() };
    let text = match args.format {
        ExplainFormat::Json => {
            let value = explain_bundle_json(&input).with_context(|| format!("bundle from {source}"))?;
            serde_json::to_string_pretty(&value)?
        }
        ExplainFormat::Text => explain_bundle_text(&input).with_context(|| format!("bundle from {source}"))?,
    };
    println!("{text}");
    Ok(Outcome::Clean)
}

fn read_bundle(location: &str) -> anyhow::Result<String> {
    let mut text = String::new();
    if location == "-" {
        std::io::stdin()
            .take(MAX_BUNDLE_BYTES + 1)
            .read_to_string(&mut text)
            .context("cannot read the bundle from standard input")?;
    } else {
        std::fs::File::open(location)
            .with_context(|| format!("cannot open bundle file {location}"))?
            .take(MAX_BUNDLE_BYTES + 1)
            .read_to_string(&mut text)
            .with_context(|| format!("cannot read bundle file {location}"))?;
    }
    anyhow::ensure!(text.len() as u64 <= MAX_BUNDLE_BYTES, "the bundle from {location} is larger than {MAX_BUNDLE_BYTES} bytes");
    Ok(text)
}
