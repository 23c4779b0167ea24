//! Checks: turn an inventory into findings. Each family is a module with a
//! `check(ctx, sink)` function; severity and suppression are applied in one
//! place, the sink ([`sink::finalize`]).
//!
//! Every check id has its documentation beside its code, as a [`CheckDoc`]
//! constant in its family module; [`CheckId::doc`] reaches it, and
//! `fleetscan checks` and the HTML report both render it from there.

pub mod access;
pub mod alarms;
pub mod application;
pub mod catalog;
pub mod catalog_cmd;
pub mod causes;
pub mod check_doc;
pub mod checkpoint;
pub mod doc;
pub mod health;
pub mod index;
pub mod sink;
pub mod snapshot;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::config::Config;
use crate::inventory::{Account, AppRef, FlinkApp, Inventory};

pub use catalog::CheckId;
pub use check_doc::CheckDoc;
pub use index::Index;
pub use sink::Sink;

/// What a check sees: one application with its account and region, the
/// whole inventory (for org policies and other accounts' resources), the
/// config and the run's clock.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub inventory: &'a Inventory,
    pub index: &'a Index<'a>,
    pub config: &'a Config,
    pub clock: RunClock,
    pub app: AppRef<'a>,
}

impl<'a> Context<'a> {
    pub fn new(inventory: &'a Inventory, index: &'a Index<'a>, config: &'a Config, app: AppRef<'a>) -> Self {
        Self { inventory, index, config, clock: RunClock::of(inventory, config), app }
    }

    pub fn account(&self) -> &'a Account {
        self.app.account
    }

    pub fn flink(&self) -> &'a FlinkApp {
        self.app.app
    }

    pub fn region(&self) -> &'a str {
        self.app.region
    }
}

/// "Now" for evaluation: taken from the snapshot, never from the wall clock,
/// so evaluating the same snapshot twice gives the same findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunClock {
    /// `run.finished_at`, else `run.metrics_window_end`, else `run.started_at`.
    pub now: Option<DateTime<Utc>>,
    /// Start of the lookback window: `now - metrics_lookback_hours`.
    pub window_start: Option<DateTime<Utc>>,
}

impl RunClock {
    pub fn of(inventory: &Inventory, config: &Config) -> Self {
        let run = &inventory.run;
        let now = run.finished_at.or(run.metrics_window_end).or(run.started_at);
        let lookback = Duration::hours(i64::from(config.checks.metrics_lookback_hours));
        Self { now, window_start: now.map(|n| n - lookback) }
    }

    /// The run date suppressions' `expires` is compared with.
    pub fn run_date(&self) -> Option<NaiveDate> {
        self.now.map(|n| n.date_naive())
    }

    /// Whether `at` falls inside the lookback window (inclusive). Unknown
    /// times, or an unknown clock, are outside.
    pub fn in_window(&self, at: Option<DateTime<Utc>>) -> bool {
        match (at, self.window_start, self.now) {
            (Some(at), Some(start), Some(end)) => at >= start && at <= end,
            _ => false,
        }
    }
}

/// Runs every per-application check family on one app.
pub fn check_app(ctx: &Context, sink: &mut Sink) {
    checkpoint::check(ctx, sink);
    snapshot::check(ctx, sink);
    application::check(ctx, sink);
    access::check(ctx, sink);
    alarms::check(ctx, sink);
    // Last: it adds AWS Health context to the findings above.
    health::check(ctx, sink);
}

#[cfg(test)]
pub(crate) mod testkit;
