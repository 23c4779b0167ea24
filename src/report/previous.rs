//! Reading last night's `findings.json` for "new / resolved since the
//! previous run" without holding all of it: a finding that is still found
//! tonight only needs its id and status (still open, or now suppressed), so
//! only the others — the candidates for "resolved" — are kept whole. At
//! 26,000 findings that is the difference between ~40 MB and ~10 MB at the
//! moment the run's own evaluation is also in memory.
//!
//! Also read: `run_kind` (a re-render is never a comparison base) and
//! `since_previous.not_checked` (findings that run could not check, carried
//! to the next comparison), both kept whole.

use std::fmt;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;

use crate::findings::{Finding, NotChecked, SeenFinding};

/// What the next run needs of a `findings.json`.
#[derive(Debug, Clone, Default)]
pub struct FindingsFile {
    pub run_id: String,
    /// `scan`, or `re-render` for `fleetscan report --snapshot`; files
    /// written before the field existed are scans.
    pub run_kind: String,
    /// Whole: the findings `keep_whole` asked for.
    pub findings: Vec<Finding>,
    /// The others, by id and status (found again tonight: nothing else of
    /// them is needed, and 30,000 whole findings are 10 MB).
    pub seen: Vec<SeenFinding>,
    /// `since_previous.not_checked` of that run.
    pub not_checked: Vec<NotChecked>,
}

/// `findings.json` in `dir`: its run id, kind, findings (each kept whole
/// when `keep_whole(finding_id)`, else reduced to id, check, severity and
/// status) and the findings it could not check.
pub fn read_findings(dir: &Path, keep_whole: &dyn Fn(&str) -> bool) -> std::io::Result<FindingsFile> {
    let file = File::open(dir.join(super::FINDINGS_JSON))?;
    let mut reader = serde_json::Deserializer::from_reader(BufReader::new(file));
    let parsed = FileSeed { keep_whole }.deserialize(&mut reader)?;
    reader.end()?;
    Ok(parsed)
}

/// The part of `since_previous` the next run reads.
#[derive(serde::Deserialize)]
struct SincePrevious {
    #[serde(default)]
    not_checked: Vec<NotChecked>,
}

struct FileSeed<'a> {
    keep_whole: &'a dyn Fn(&str) -> bool,
}

impl<'de> DeserializeSeed<'de> for FileSeed<'_> {
    type Value = FindingsFile;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FileSeed<'_> {
    type Value = FindingsFile;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a findings.json object with run_id and findings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut run_id, mut findings, mut run_kind, mut not_checked) = (None, None, None, Vec::new());
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "run_id" => run_id = Some(map.next_value::<String>()?),
                "run_kind" => run_kind = Some(map.next_value::<String>()?),
                "findings" => findings = Some(map.next_value_seed(FindingsSeed { keep_whole: self.keep_whole })?),
                "since_previous" => {
                    if let Some(since) = map.next_value::<Option<SincePrevious>>()? {
                        not_checked = since.not_checked;
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let run_id = run_id.ok_or_else(|| A::Error::missing_field("run_id"))?;
        let (findings, seen) = findings.ok_or_else(|| A::Error::missing_field("findings"))?;
        Ok(FindingsFile {
            run_id,
            run_kind: run_kind.unwrap_or_else(|| super::RUN_KIND_SCAN.to_owned()),
            findings,
            seen,
            not_checked,
        })
    }
}

struct FindingsSeed<'a> {
    keep_whole: &'a dyn Fn(&str) -> bool,
}

impl<'de> DeserializeSeed<'de> for FindingsSeed<'_> {
    type Value = (Vec<Finding>, Vec<SeenFinding>);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FindingsSeed<'_> {
    type Value = (Vec<Finding>, Vec<SeenFinding>);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of findings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (mut whole, mut seen) = (Vec::new(), Vec::new());
        while let Some(finding) = seq.next_element::<Finding>()? {
            if (self.keep_whole)(&finding.finding_id) {
                whole.push(finding);
            } else {
                seen.push(SeenFinding { finding_id: finding.finding_id, status: finding.status });
            }
        }
        whole.shrink_to_fit();
        seen.shrink_to_fit();
        Ok((whole, seen))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::catalog::CheckId;
    use crate::findings::{Evidence, FindingStatus};
    use crate::severity::Severity;

    fn finding(id: &str, status: FindingStatus) -> Finding {
        Finding {
            finding_id: id.into(),
            check: CheckId::CheckpointingDisabled,
            severity: Severity::High,
            status,
            account_id: "111111111111".into(),
            account_name: "prod".into(),
            ou_path: "Root/Prod".into(),
            region: "eu-west-1".into(),
            resource_arn: "arn:aws:kinesisanalytics:eu-west-1:111111111111:application/orders".into(),
            subject: "checkpointing".into(),
            title: "Checkpointing is off".into(),
            detail: "detail".into(),
            evidence: vec![Evidence::new("label", "value")],
            suppression: None,
            expired_suppression: None,
        }
    }

    #[test]
    fn keeps_whole_only_what_is_asked_and_the_status_of_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let findings = vec![finding("aaaa", FindingStatus::Open), finding("bbbb", FindingStatus::Suppressed)];
        let file = serde_json::json!({"schema_version": 1, "run_id": "20261124T193000Z", "findings": findings, "since_previous": null});
        std::fs::write(dir.path().join(super::super::FINDINGS_JSON), file.to_string()).unwrap();

        let file = read_findings(dir.path(), &|id| id == "aaaa").unwrap();
        let (run_id, read) = (file.run_id, file.findings);
        assert_eq!(run_id, "20261124T193000Z");
        assert_eq!(file.run_kind, "scan", "files without run_kind are scans");
        assert!(file.not_checked.is_empty());
        assert_eq!(read, vec![findings[0].clone()], "kept whole");
        assert_eq!(file.seen, vec![SeenFinding { finding_id: "bbbb".into(), status: FindingStatus::Suppressed }], "the rest: id and status");

        // a re-render, and the findings a run could not check, come back whole
        let not_checked = crate::findings::NotChecked {
            finding: findings[0].clone(),
            not_checked_because: "account 111111111111: assume-role denied (AccessDenied)".into(),
            last_seen_run_id: Some("20261123T193000Z".into()),
        };
        let file = serde_json::json!({"run_id": "20261125T193000Z-rerender", "run_kind": "re-render", "findings": [], "since_previous": {"previous_run_id": "x", "new": [], "resolved": [], "still_open": 0, "not_checked": [not_checked]}});
        std::fs::write(dir.path().join(super::super::FINDINGS_JSON), file.to_string()).unwrap();
        let file = read_findings(dir.path(), &|_| false).unwrap();
        assert_eq!(file.run_kind, "re-render");
        assert_eq!(file.not_checked, vec![not_checked]);

        std::fs::write(dir.path().join(super::super::FINDINGS_JSON), r#"{"findings": []}"#).unwrap();
        let err = read_findings(dir.path(), &|_| true).unwrap_err();
        assert!(err.to_string().contains("run_id"), "{err}");
    }
}
