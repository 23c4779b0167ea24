//! Log lines on stderr: `RUST_LOG` wins, else `-v`/`-vv`, else info.
//!
//! Every line passes through [`redact`] before it is written: at trace
//! level the AWS SDK logs resolved credentials and signing parameters
//! (`Credentials` redacts its secret but prints the access key id), so
//! access key ids, secret keys and session tokens are masked whatever the
//! filter says.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

use regex::Regex;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

pub fn init(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "fleetscan=info",
        (false, 1) => "fleetscan=debug,info",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(RedactingStderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

const MASK: &str = "** redacted **";

fn patterns() -> &'static [(Regex, &'static str)] {
    static PATTERNS: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        #[expect(clippy::expect_used, reason = "the patterns are constants, and this module's tests run every one")]
        let compile = |re: &str| Regex::new(re).expect("redaction pattern compiles");
        vec![
            // Named fields in Debug output, headers and query strings.
            (
                compile(r#"(?i)(access_key_id|secret_access_key|session_token|aws_access_key_id|aws_secret_access_key|aws_session_token|accesskeyid|secretaccesskey|sessiontoken|x-amz-security-token|x-amz-credential)("?\s*[:=]\s*"?)[^\s",}&*][^\s",}&]*"#),
                "${1}${2}** redacted **",
            ),
            // SigV4 `Credential=AKID/date/region/service/aws4_request`.
            (compile(r"(Credential=)[^/\s,]+"), "${1}** redacted **"),
            // Anything shaped like an AWS access key id.
            (compile(r"\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA|APKA|ABIA|ACCA)[A-Z0-9]{12,}\b"), MASK),
        ]
    })
}

/// `line` with access key ids, secret keys and session tokens masked.
pub fn redact(line: &str) -> std::borrow::Cow<'_, str> {
    let mut out = std::borrow::Cow::Borrowed(line);
    for (re, with) in patterns() {
        if re.is_match(&out) {
            out = std::borrow::Cow::Owned(re.replace_all(&out, *with).into_owned());
        }
    }
    out
}

/// stderr, one formatted event per `write`, redacted.
struct RedactingStderr;

impl<'a> MakeWriter<'a> for RedactingStderr {
    type Writer = Redacting;
    fn make_writer(&'a self) -> Self::Writer {
        Redacting
    }
}

struct Redacting;

impl Write for Redacting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().lock().write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn credentials_are_masked() {
        let line = r#"identity=Identity { data: Credentials { provider_name: "EnvironmentVariable", access_key_id: "AKIAFLEETSCANTEST01", secret_access_key: "** redacted **" } }"#;
        let out = redact(line);
        assert!(!out.contains("AKIAFLEETSCANTEST01"), "{out}");
        assert!(out.contains("provider_name: \"EnvironmentVariable\""));
        for (line, secret) in [
            ("x-amz-security-token:FQoGZXIvYXdzEtoken+/=", "FQoGZXIvYXdzEtoken"),
            ("Authorization: AWS4-HMAC-SHA256 Credential=ASIAZZZZZZZZZZZZZZZZ/20260101/us-east-1/sts/aws4_request", "ASIAZZZZ"),
            ("X-Amz-Credential=AKIDEXAMPLE%2F2026", "AKIDEXAMPLE"),
            ("saw key ASIA1234567890ABCDEF in a message", "ASIA1234567890ABCDEF"),
            (r#"{"SessionToken": "tok-123", "SecretAccessKey": "sek"}"#, "tok-123"),
        ] {
            let out = redact(line);
            assert!(!out.contains(secret), "{line} → {out}");
        }
        assert_eq!(redact("nothing secret here: arn:aws:iam::111122223333:role/x"), "nothing secret here: arn:aws:iam::111122223333:role/x");
    }
}
