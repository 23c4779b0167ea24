//! Process exit codes: a small contract (SPEC §3) that cron jobs and CI read.

use crate::severity::Severity;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: complete, and nothing at or above `--fail-on`.
    Clean,
    /// 1: findings at or above `--fail-on`.
    Findings,
    /// 2: usage, config or fatal error; nothing useful produced.
    Fatal,
    /// 3: the scan is incomplete (an account or region could not be
    /// scanned). Takes precedence over 1.
    Incomplete,
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Self::Clean => 0,
            Self::Findings => 1,
            Self::Fatal => 2,
            Self::Incomplete => 3,
        }
    }

    /// The exit code of a run that produced output.
    pub fn of_run(complete: bool, highest_open: Option<Severity>, fail_on: Severity) -> Self {
        if !complete {
            Self::Incomplete
        } else if highest_open.is_some_and(|s| s >= fail_on) {
            Self::Findings
        } else {
            Self::Clean
        }
    }
}

/// The exit-code table as a string literal, for `--help` texts.
#[macro_export]
macro_rules! exit_codes_help {
    () => {
        "Exit codes:\n  0  complete, and no open finding at or above --fail-on\n  1  open findings at or above --fail-on (default: high)\n  2  usage, configuration or fatal error (nothing useful produced)\n  3  incomplete: an account or region could not be scanned (wins over 1)"
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incomplete_wins_over_findings() {
        assert_eq!(Outcome::of_run(false, Some(Severity::Critical), Severity::High).code(), 3);
        assert_eq!(Outcome::of_run(true, Some(Severity::High), Severity::High).code(), 1);
        assert_eq!(Outcome::of_run(true, Some(Severity::Medium), Severity::High).code(), 0);
        assert_eq!(Outcome::of_run(true, None, Severity::Info).code(), 0);
    }
}
