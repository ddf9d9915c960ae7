//! Custodian's integration tests: one binary, one module per area, all against real databases
//! (SQLite files, and PostgreSQL when `CUSTODIAN_TEST_POSTGRES_URL` is set).

mod api;
mod crawl;
mod migrations;
mod pages;
mod search;
mod support;
