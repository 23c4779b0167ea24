fn main() -> std::process::ExitCode {
    fleetscan::cli::main()
}
