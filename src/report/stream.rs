//! Pieces shared by the findings formats (OCSF, ASFF, SARIF, JUnit): a JSON
//! array written one element at a time (nothing but the current element is
//! ever serialised in memory), the run's time, and text shortening for
//! fields with a length limit.

use std::borrow::Cow;
use std::io::{self, Write};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::inventory::Inventory;

/// A JSON array streamed to `out`: `[`, then each element as it comes, `]`.
pub(crate) struct JsonArray<'w, W: Write> {
    out: &'w mut W,
    empty: bool,
}

impl<'w, W: Write> JsonArray<'w, W> {
    pub(crate) fn start(out: &'w mut W) -> io::Result<Self> {
        out.write_all(b"[")?;
        Ok(Self { out, empty: true })
    }

    pub(crate) fn push<T: Serialize + ?Sized>(&mut self, item: &T) -> io::Result<()> {
        self.out.write_all(if self.empty { b"\n" } else { b",\n" })?;
        self.empty = false;
        serde_json::to_writer(&mut *self.out, item).map_err(io::Error::from)
    }

    pub(crate) fn finish(self) -> io::Result<()> {
        self.out.write_all(if self.empty { b"]" } else { b"\n]" })
    }
}

/// When the run's facts were true: the end of collection (else its start).
/// A snapshot without either (made by hand) is dated now.
pub(crate) fn run_time(inventory: &Inventory) -> DateTime<Utc> {
    inventory.run.finished_at.or(inventory.run.started_at).unwrap_or_else(Utc::now)
}

/// RFC 3339 / ISO 8601 in UTC with milliseconds: `2026-11-25T19:30:00.000Z`.
pub(crate) fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `text` cut to at most `max` characters, ending in `…` when cut.
pub(crate) fn shorten(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some(_) => {
            let keep: String = text.chars().take(max.saturating_sub(1)).collect();
            Cow::Owned(format!("{keep}…"))
        }
    }
}

/// A check's documentation text as one line (the docs wrap in source).
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Is `resource` an AWS account id (12 digits)? Account-wide findings
/// (SCP and RCP drift) name the account as their resource.
pub(crate) fn is_account_id(resource: &str) -> bool {
    resource.len() == 12 && resource.bytes().all(|b| b.is_ascii_digit())
}

/// The last part of an ARN (`…:application/orders` → `orders`).
pub(crate) fn resource_name(arn: &str) -> &str {
    let tail = arn.rsplit(':').next().unwrap_or(arn);
    tail.rsplit('/').next().filter(|n| !n.is_empty()).unwrap_or(tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_stream_with_commas_only_between_elements() {
        let mut out = Vec::new();
        let mut array = JsonArray::start(&mut out).unwrap();
        array.push(&1).unwrap();
        array.push("two").unwrap();
        array.finish().unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "[\n1,\n\"two\"\n]");
        let mut empty = Vec::new();
        JsonArray::start(&mut empty).unwrap().finish().unwrap();
        assert_eq!(empty, b"[]");
    }

    #[test]
    fn shortening_counts_characters_not_bytes() {
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("abcd", 3), "ab…");
        assert_eq!(shorten("ééééé", 4).chars().count(), 4);
    }

    #[test]
    fn arn_parts() {
        let arn = "arn:aws-cn:kinesisanalytics:cn-north-1:111111111111:application/orders";
        assert_eq!(resource_name(arn), "orders");
        assert_eq!(resource_name("arn:aws:iam::1:role/path/r"), "r");
    }
}
