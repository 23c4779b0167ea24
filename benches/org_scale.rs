#[path = "support/synthetic_aws.rs"]
mod synthetic_aws;
fn main() {}
