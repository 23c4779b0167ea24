//! `fleetscan checks`: the catalogue, for people and machines.

use crate::checks::catalog::CheckId;
use crate::cli::args::{CatalogFormat, ChecksArgs};
use crate::exit::Outcome;

pub fn run(args: &ChecksArgs) -> anyhow::Result<Outcome> {
    let checks: Vec<CheckId> = match &args.check {
        Some(id) => vec![id.parse::<CheckId>().map_err(anyhow::Error::msg)?],
        None => CheckId::ALL.to_vec(),
    };
    let text = match args.format {
        CatalogFormat::Json => {
            let rows: Vec<_> = checks
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "id": c.as_str(),
                        "default_severity": c.default_severity(),
                        "family": c.family(),
                        "title": c.title(),
                    })
                })
                .collect();
            serde_json::to_string_pretty(&rows)?
        }
        CatalogFormat::Text | CatalogFormat::Markdown => checks
            .iter()
            .map(|c| format!("{:<34} {:<8} {}", c.as_str(), c.default_severity(), c.title()))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    println!("{text}");
    Ok(Outcome::Clean)
}
