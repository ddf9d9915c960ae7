//! Table-driven tests of the lineage extractor, on SQL written for these tests.
