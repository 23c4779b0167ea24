#![deny(clippy::unwrap_used, clippy::expect_used)] // errors, not panics, on data from AWS or a user (see Cargo.toml [lints])

fn main() -> std::process::ExitCode {
    fleetscan::cli::main()
}
