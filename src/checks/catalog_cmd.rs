//! `fleetscan checks`: the catalogue, for people and machines. The text
//! comes from each check's documentation (`CheckId::doc`), the same text
//! the HTML report shows.

use crate::checks::doc::{catalogue, render_json, render_markdown, render_text};
use crate::cli::args::{CatalogFormat, ChecksArgs};
use crate::exit::Outcome;

pub fn run(args: &ChecksArgs) -> anyhow::Result<Outcome> {
    let mut entries = catalogue(None);
    if let Some(id) = &args.check {
        let id = id.parse::<crate::checks::catalog::CheckId>().map_err(anyhow::Error::msg)?;
        entries.retain(|e| e.id == id.as_str());
    }
    let text = match args.format {
        CatalogFormat::Json => render_json(&entries),
        CatalogFormat::Markdown => render_markdown(&entries),
        CatalogFormat::Text => render_text(&entries),
    };
    println!("{}", text.trim_end());
    Ok(Outcome::Clean)
}
