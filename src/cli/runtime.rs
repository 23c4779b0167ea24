//! Shared pieces of the commands that talk to AWS.

use anyhow::Context;

use crate::cli::args::ConfigArgs;
use crate::config::{Config, Overrides};

/// The tokio runtime the collect stage runs on.
pub fn tokio_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("fleetscan-io")
        .build()
        .context("cannot start the async runtime")
}

pub fn load_config(args: &ConfigArgs, overrides: Overrides) -> anyhow::Result<Config> {
    Ok(Config::load(args.config.as_deref(), overrides)?)
}
