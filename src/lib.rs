//! Custodian: a governance and lineage catalog.
