//! `findings.junit.xml`: the audit as a JUnit report for the CI job that
//! runs it. One test suite per account; one test case per application ×
//! check family (checkpoint, snapshot, application, access, drift, monitoring), which
//! fails when the application has an open finding of that family at or
//! above `--fail-on`. Findings below the threshold and suppressed ones are
//! listed in the case's `system-out`. A finding on a resource that is not
//! an application of the inventory gets a case of its own.
//!
//! Format: the JUnit XML that CI servers read (testsuites / testsuite /
//! testcase / failure, as in https://github.com/testmoapp/junitxml).
//! Written as it goes; text from AWS is escaped, and characters XML 1.0
//! cannot hold are replaced.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};

use super::stream::{iso, run_time};
use crate::checks::catalog::Family;
use crate::findings::{Evaluation, Finding, FindingStatus};
use crate::inventory::Inventory;
use crate::severity::Severity;

/// `text` escaped for XML 1.0 text and attribute values; control
/// characters XML 1.0 forbids become U+FFFD.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// One application (or other resource) of one account and region.
struct Subject<'a> {
    region: &'a str,
    name: &'a str,
    arn: &'a str,
}

/// The findings of one subject, by family.
type ByFamily<'a> = HashMap<Family, Vec<&'a Finding>>;

fn finding_line(f: &Finding) -> String {
    let mut line = format!("[{}] {} {} {}: {}", f.severity, f.status.as_str(), f.check, f.finding_id, f.title);
    if !f.detail.is_empty() {
        line.push_str(&format!(" — {}", f.detail));
    }
    if let Some(s) = &f.suppression {
        line.push_str(&format!(" (suppressed: {})", s.reason));
    }
    line
}

fn write_case<W: Write>(out: &mut W, account: &str, subject: &Subject<'_>, family: &str, findings: &[&Finding], fail_on: Severity) -> io::Result<()> {
    let failing: Vec<&&Finding> = findings.iter().filter(|f| f.status == FindingStatus::Open && f.severity >= fail_on).collect();
    writeln!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" time=\"0\">",
        escape(&format!("{account}.{}.{}", subject.region, subject.name)),
        escape(family),
        escape(subject.arn),
    )?;
    if let Some(worst) = failing.iter().map(|f| f.severity).max() {
        let message = format!("{} open {} finding(s) at or above {fail_on}", failing.len(), family);
        let body: Vec<String> = failing.iter().map(|f| finding_line(f)).collect();
        writeln!(out, "      <failure message=\"{}\" type=\"{}\">{}</failure>", escape(&message), worst, escape(&body.join("\n")),)?;
    }
    let others: Vec<String> = findings
        .iter()
        .filter(|f| !(f.status == FindingStatus::Open && f.severity >= fail_on))
        .map(|f| finding_line(f))
        .collect();
    if !others.is_empty() {
        writeln!(out, "      <system-out>{}</system-out>", escape(&others.join("\n")))?;
    }
    out.write_all(b"    </testcase>\n")
}

/// Writes `findings.junit.xml`; `fail_on` is the `--fail-on` severity.
pub fn write_findings<W: Write>(out: W, inventory: &Inventory, evaluation: &Evaluation, fail_on: Severity) -> io::Result<()> {
    let mut out = out;
    // Findings by account, then (region, resource), then family.
    let mut index: HashMap<&str, HashMap<(&str, &str), ByFamily<'_>>> = HashMap::new();
    for f in &evaluation.findings {
        index
            .entry(f.account_id.as_str())
            .or_default()
            .entry((f.region.as_str(), f.resource_arn.as_str()))
            .or_default()
            .entry(f.check.family())
            .or_default()
            .push(f);
    }
    let failing = |f: &&Finding| f.status == FindingStatus::Open && f.severity >= fail_on;
    let timestamp = iso(run_time(inventory));
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(out, "<testsuites name=\"fleetscan {}\" timestamp=\"{timestamp}\">", escape(&inventory.run.run_id))?;
    let none = HashMap::new();
    for account in &inventory.accounts {
        let mine = index.get(account.id.as_str()).unwrap_or(&none);
        // The account's applications, then resources with findings that are not applications.
        let mut subjects: Vec<Subject<'_>> = Vec::new();
        for region in &account.regions {
            for app in &region.applications {
                subjects.push(Subject { region: region.region.as_str(), name: app.name.as_str(), arn: &app.arn });
            }
        }
        let apps: HashSet<(&str, &str)> = subjects.iter().map(|s| (s.region, s.arn)).collect();
        let mut extra: Vec<Subject<'_>> = mine
            .keys()
            .filter(|key| !apps.contains(*key))
            .map(|&(region, arn)| Subject { region, name: super::stream::resource_name(arn), arn })
            .collect();
        extra.sort_by(|a, b| (a.region, a.arn).cmp(&(b.region, b.arn)));
        subjects.extend(extra);
        if subjects.is_empty() {
            continue;
        }
        let failures: usize = mine.values().map(|by| by.values().filter(|fs| fs.iter().any(failing)).count()).sum();
        writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" timestamp=\"{timestamp}\">",
            escape(&format!("{} ({})", account.name, account.id)),
            subjects.len() * Family::ALL.len(),
        )?;
        for s in &subjects {
            let by = mine.get(&(s.region, s.arn));
            for family in Family::ALL {
                let name = family.as_str();
                let findings = by.and_then(|b| b.get(&family)).map(Vec::as_slice).unwrap_or(&[]);
                write_case(&mut out, &account.id, s, name, findings, fail_on)?;
            }
        }
        out.write_all(b"  </testsuite>\n")?;
    }
    out.write_all(b"</testsuites>\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escaping_covers_markup_and_forbidden_characters() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("bell\u{7}\ttab"), "bell\u{FFFD}\ttab");
    }
}
