//! fleetscan: audit Amazon Managed Service for Apache Flink applications
//! across an AWS Organization.
//!
//! One pipeline: plan → collect (async, the only AWS code) → [`inventory`]
//! (the snapshot) → evaluate (checks, policy engine, drift) → report.

pub mod checks;
pub mod config;
pub mod findings;
pub mod report;
pub mod inventory;
pub mod severity;
