//! Pure governance rules: who may do what (`access`), what the audit log's chain of hashes and its
//! signed checkpoints are (`audit`), classification levels and effective levels
//! (`classification`), suggestions from column names and sampled values (`suggest`), and
//! propagation along lineage (`propagation`); erasure deadlines, plans, statements and receipts
//! (`erasure`); retention periods, inheritance of policies and timestamp columns (`retention`).
//! Nothing here touches diesel, actix or askama; the repository and the web layer call in.

pub mod access;
pub mod audit;
pub mod classification;
pub mod erasure;
pub mod propagation;
pub mod retention;
pub mod suggest;
