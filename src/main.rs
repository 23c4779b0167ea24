fn main() {
    println!("fleetscan {}", env!("CARGO_PKG_VERSION"));
}
