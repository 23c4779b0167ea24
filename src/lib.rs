//! fleetscan: audit Amazon Managed Service for Apache Flink applications
//! across an AWS Organization.
//!
//! One pipeline: plan → collect (async, the only AWS code) → [`inventory`]
//! (the snapshot) → evaluate (checks, policy engine, drift) → report.

pub mod checks;
pub mod collect;
pub mod config;
pub mod drift;
pub mod evaluate;
pub mod findings;
pub mod report;
pub mod inventory;
pub mod labels;
pub mod memory;
pub mod plan;
pub mod policy;
pub mod severity;
pub mod cli;
pub mod exit;
