//! Coverage rows: one per account × region × scope tried, `ok` or the
//! failure (status, error code, request id, detail) of the calls made in it.

use chrono::Utc;

use super::error::{AwsError, ErrorKind};
use crate::inventory::{CoverageRow, CoverageStatus};

/// Most failures listed in one row's detail.
const MAX_DETAILED: usize = 3;

/// Collects the coverage rows of one account.
#[derive(Debug, Clone)]
pub struct CoverageLog {
    account_id: String,
    account_name: String,
    rows: Vec<CoverageRow>,
}

impl CoverageLog {
    pub fn new(account_id: &str, account_name: &str) -> Self {
        Self { account_id: account_id.to_owned(), account_name: account_name.to_owned(), rows: Vec::new() }
    }

    /// Records a scope from the errors its calls hit (none = `ok`).
    pub fn scope(&mut self, region: &str, scope: &str, errors: &[AwsError], ok_detail: Option<String>) {
        let row = row(&self.account_id, &self.account_name, region, scope, errors, ok_detail);
        self.rows.push(row);
    }

    /// Records a deliberate skip (a resource deleted during the scan, ...).
    pub fn skipped(&mut self, region: &str, scope: &str, error: Option<&AwsError>, detail: String) {
        let code = error.and_then(|e| e.code.clone());
        let request_id = error.and_then(|e| e.request_id.clone());
        self.push_skipped(region, scope, code, request_id, detail);
    }

    /// Records a scope read only in part because a list hit its page cap
    /// (`skipped`, code [`TRUNCATED_CODE`](crate::inventory::TRUNCATED_CODE):
    /// the scan is incomplete).
    pub fn truncated(&mut self, region: &str, scope: &str, detail: String) {
        self.push_skipped(region, scope, Some(crate::inventory::TRUNCATED_CODE.to_owned()), None, detail);
    }

    fn push_skipped(&mut self, region: &str, scope: &str, code: Option<String>, request_id: Option<String>, detail: String) {
        self.rows.push(CoverageRow {
            account_id: self.account_id.as_str().into(),
            account_name: self.account_name.as_str().into(),
            region: region.into(),
            scope: scope.into(),
            status: CoverageStatus::Skipped,
            error_code: code.map(Into::into),
            request_id,
            detail: Some(detail),
            at: Utc::now(),
        });
    }

    /// Appends another log's rows (a region's, collected concurrently).
    pub fn absorb(&mut self, other: CoverageLog) {
        self.rows.extend(other.rows);
    }

    pub fn rows(&self) -> &[CoverageRow] {
        &self.rows
    }

    pub fn into_rows(self) -> Vec<CoverageRow> {
        self.rows
    }
}

fn rank(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Error => 6,
        ErrorKind::Denied => 5,
        ErrorKind::Stopped => 4,
        ErrorKind::Throttled => 3,
        ErrorKind::RegionDisabled => 2,
        ErrorKind::NotFound => 1,
    }
}

/// Builds one row: `ok` without errors, else the status of the most serious
/// error, its code and request id, and a detail naming up to three failures.
pub fn row(account_id: &str, account_name: &str, region: &str, scope: &str, errors: &[AwsError], ok_detail: Option<String>) -> CoverageRow {
    let worst = errors.iter().max_by_key(|e| rank(e.kind));
    let (status, error_code, request_id, detail) = match worst {
        None => (CoverageStatus::Ok, None, None, ok_detail),
        Some(worst) => {
            let mut detail = errors.iter().take(MAX_DETAILED).map(ToString::to_string).collect::<Vec<_>>().join("; ");
            if errors.len() > MAX_DETAILED {
                detail.push_str(&format!("; and {} more failed call(s)", errors.len() - MAX_DETAILED));
            }
            (worst.kind.coverage_status(), worst.code.clone(), worst.request_id.clone(), Some(detail))
        }
    };
    CoverageRow {
        account_id: account_id.into(),
        account_name: account_name.into(),
        region: region.into(),
        scope: scope.into(),
        status,
        error_code: error_code.map(Into::into),
        request_id,
        detail,
        at: Utc::now(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(kind: ErrorKind, code: &str) -> AwsError {
        AwsError {
            kind,
            operation: "x:Y".into(),
            code: Some(code.into()),
            message: None,
            request_id: Some(format!("rid-{code}")),
            http_status: None,
        }
    }

    #[test]
    fn no_errors_is_ok() {
        let r = row("1", "a", "us-east-1", "flink", &[], Some("3 apps".into()));
        assert_eq!(r.status, CoverageStatus::Ok);
        assert_eq!(r.detail.as_deref(), Some("3 apps"));
    }

    #[test]
    fn a_truncated_list_makes_the_scope_incomplete_a_vanished_app_does_not() {
        let mut log = CoverageLog::new("1", "a");
        log.truncated("us-east-1", "flink:orders", "read 20 pages".into());
        log.skipped("us-east-1", "flink:gone", Some(&err(ErrorKind::NotFound, "ResourceNotFoundException")), "deleted".into());
        let rows = log.into_rows();
        assert_eq!((rows[0].status, rows[0].error_code.as_deref()), (CoverageStatus::Skipped, Some("Truncated")));
        assert!(!rows[0].is_complete(), "a cut list was not read completely");
        assert!(rows[1].is_complete(), "a vanished app lost nothing");
    }

    #[test]
    fn worst_error_decides_and_detail_is_bounded() {
        let errors = vec![
            err(ErrorKind::Throttled, "Throttling"),
            err(ErrorKind::Denied, "AccessDenied"),
            err(ErrorKind::Throttled, "Throttling"),
            err(ErrorKind::Throttled, "Throttling"),
            err(ErrorKind::Throttled, "Throttling"),
        ];
        let r = row("1", "a", "us-east-1", "kms", &errors, None);
        assert_eq!(r.status, CoverageStatus::Denied);
        assert_eq!(r.error_code.as_deref(), Some("AccessDenied"));
        assert_eq!(r.request_id.as_deref(), Some("rid-AccessDenied"));
        assert!(r.detail.unwrap_or_default().ends_with("and 2 more failed call(s)"));
    }
}
