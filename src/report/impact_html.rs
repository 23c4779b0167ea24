//! The HTML page of `fleetscan impact --out`: the report's style, one
//! self-contained file, every AWS-sourced text escaped by askama. Renders
//! only.

use std::path::Path;

use askama::Template;

use crate::impact::{cause, Impact};

const STYLE: &str = include_str!("../../templates/report.css");

struct Row {
    app: String,
    account: String,
    ou_path: String,
    region: String,
    action: String,
    resource: String,
    before: &'static str,
    after: &'static str,
    cause: String,
    loses: bool,
}

#[derive(Template)]
#[template(path = "impact.html")]
struct ImpactPage<'a> {
    csp: String,
    style: &'static str,
    snapshot: String,
    version: &'static str,
    impact: &'a Impact,
    rows: Vec<Row>,
}

/// The page for `impact`, computed from `snapshot`.
pub fn render(impact: &Impact, snapshot: &Path) -> Result<String, askama::Error> {
    let rows = impact
        .changes
        .iter()
        .map(|r| Row {
            app: r.application.clone(),
            account: format!("{} ({})", r.account_id, r.account_name),
            ou_path: r.ou_path.clone(),
            region: r.region.clone(),
            action: r.action.clone(),
            resource: r.resource.clone(),
            before: r.before.as_str(),
            after: r.after.as_str(),
            cause: cause(r),
            loses: r.loses(),
        })
        .collect();
    ImpactPage {
        csp: format!("default-src 'none'; style-src {}; img-src 'none'; base-uri 'none'; form-action 'none'", super::html::style_hash(STYLE)),
        style: STYLE,
        snapshot: snapshot.display().to_string(),
        version: env!("CARGO_PKG_VERSION"),
        impact,
        rows,
    }
    .render()
}
