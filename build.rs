//! Rebuilds the binary when a migration changes: `embed_migrations!` reads `migrations/` at
//! compile time, and cargo does not otherwise know to look there.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
