//! Failed reads of decision inputs, kept in the inventory (see
//! [`crate::inventory::Unread`]) so access analysis can say what it could
//! not decide and why.

use super::error::AwsError;
use crate::inventory::Unread;

/// The inventory's record of `err`, made with `account_id`'s credentials.
pub fn from_error(err: &AwsError, account_id: &str) -> Unread {
    Unread {
        operation: err.operation.clone(),
        account_id: account_id.to_owned(),
        error_code: err.code.clone().unwrap_or_else(|| format!("{:?}", err.kind)),
        request_id: err.request_id.clone(),
    }
}
