//! The `custodian` binary: command-line parsing, telemetry and configuration; all work happens in the library.

fn main() {
    println!("custodian: under construction");
}
