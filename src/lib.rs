//! fleetscan: audit Amazon Managed Service for Apache Flink applications
//! across an AWS Organization.
//!
//! One pipeline: plan → collect (async, the only AWS code) → [`inventory`]
//! (the snapshot) → evaluate (checks, policy engine, drift) → report.

#![deny(clippy::unwrap_used, clippy::expect_used)] // errors, not panics, on data from AWS or a user (see Cargo.toml [lints])

pub mod checks;
pub mod cli;
pub mod collect;
pub mod config;
pub mod drift;
pub mod evaluate;
pub mod exit;
pub mod findings;
pub mod impact;
pub mod inventory;
pub mod labels;
pub mod memory;
pub mod plan;
pub mod policy;
pub mod report;
pub mod severity;
