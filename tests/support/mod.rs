//! Shared helpers for integration tests (`mod support;` then `support::emulator::Emulator`).
#![allow(dead_code)]
pub mod checks;
pub mod emulator;
pub mod run;
