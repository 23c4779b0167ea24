//! Checks: turn an inventory into findings. Each family is a module with a
//! `check(ctx, sink)` function; severity and suppression are applied in one
//! place, the sink.

pub mod catalog;
pub mod catalog_cmd;
