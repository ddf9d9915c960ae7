//! Pure governance rules: who may do what (`access`), and what the audit log's chain of hashes
//! and its signed checkpoints are (`audit`); later classification propagation, deadlines,
//! erasure plans and receipts. Nothing here touches diesel, actix or askama; the repository and
//! the web layer call in.

pub mod access;
pub mod audit;
pub mod suggest;
