//! Reading last night's `findings.json` for "new / resolved since the
//! previous run" without holding all of it: a finding that is still found
//! tonight only needs its id and status (still open, or now suppressed), so
//! only the others — the candidates for "resolved" — are kept whole. At
//! 26,000 findings that is the difference between ~40 MB and ~10 MB at the
//! moment the run's own evaluation is also in memory.

use std::fmt;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;

use crate::findings::Finding;

/// `findings.json` in `dir`: its run id and findings, each kept whole when
/// `keep_whole(finding_id)`, else reduced to id, check, severity and status.
pub fn read_findings(dir: &Path, keep_whole: &dyn Fn(&str) -> bool) -> std::io::Result<(String, Vec<Finding>)> {
    let file = File::open(dir.join(super::FINDINGS_JSON))?;
    let mut reader = serde_json::Deserializer::from_reader(BufReader::new(file));
    let parsed = FileSeed { keep_whole }.deserialize(&mut reader)?;
    reader.end()?;
    Ok(parsed)
}

/// The finding with only what identifies it and its status.
fn id_and_status(f: Finding) -> Finding {
    Finding {
        finding_id: f.finding_id,
        check: f.check,
        severity: f.severity,
        status: f.status,
        account_id: Default::default(),
        account_name: Default::default(),
        ou_path: String::new(),
        region: Default::default(),
        resource_arn: String::new(),
        subject: Default::default(),
        title: String::new(),
        detail: String::new(),
        evidence: Vec::new(),
        suppression: None,
        expired_suppression: None,
    }
}

struct FileSeed<'a> {
    keep_whole: &'a dyn Fn(&str) -> bool,
}

impl<'de> DeserializeSeed<'de> for FileSeed<'_> {
    type Value = (String, Vec<Finding>);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FileSeed<'_> {
    type Value = (String, Vec<Finding>);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a findings.json object with run_id and findings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut run_id, mut findings) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "run_id" => run_id = Some(map.next_value::<String>()?),
                "findings" => findings = Some(map.next_value_seed(FindingsSeed { keep_whole: self.keep_whole })?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let run_id = run_id.ok_or_else(|| A::Error::missing_field("run_id"))?;
        let findings = findings.ok_or_else(|| A::Error::missing_field("findings"))?;
        Ok((run_id, findings))
    }
}

struct FindingsSeed<'a> {
    keep_whole: &'a dyn Fn(&str) -> bool,
}

impl<'de> DeserializeSeed<'de> for FindingsSeed<'_> {
    type Value = Vec<Finding>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FindingsSeed<'_> {
    type Value = Vec<Finding>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of findings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(finding) = seq.next_element::<Finding>()? {
            out.push(if (self.keep_whole)(&finding.finding_id) { finding } else { id_and_status(finding) });
        }
        out.shrink_to_fit();
        Ok(out)
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

        let (run_id, read) = read_findings(dir.path(), &|id| id == "aaaa").unwrap();
        assert_eq!(run_id, "20261124T193000Z");
        assert_eq!(read[0], findings[0], "kept whole");
        assert_eq!((read[1].finding_id.as_str(), read[1].status, read[1].check), ("bbbb", FindingStatus::Suppressed, CheckId::CheckpointingDisabled));
        assert!(read[1].title.is_empty() && read[1].evidence.is_empty(), "reduced to id and status");

        std::fs::write(dir.path().join(super::super::FINDINGS_JSON), r#"{"findings": []}"#).unwrap();
        let err = read_findings(dir.path(), &|_| true).unwrap_err();
        assert!(err.to_string().contains("run_id"), "{err}");
    }
}
