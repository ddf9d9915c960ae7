//! Custodian: a governance and lineage catalog.
pub mod demo;
