//! Custodian: a governance and lineage catalog.

pub mod lineage;

pub mod commands {
    //! Command-line subcommands: argument structs and their `run` functions.
    pub mod lineage;
}
