-- Propagation of classification along column lineage (GOVERNANCE.md C5). `propagated_tags` is
-- derived: recomputed from confirmed tags, column lineage and blocks whenever one of them changes
-- (see `crate::propagation`). Blocks and settings are what people decide, and stay.
CREATE TABLE propagated_tags (
    column_id INTEGER NOT NULL REFERENCES dataset_columns (id),
    tag_kind TEXT NOT NULL,             -- category | identifier | level
    tag_value INTEGER NOT NULL,          -- a category id, an identifier type id, or a level rank
    source_column_id INTEGER NOT NULL REFERENCES dataset_columns (id),
    pipeline_id INTEGER NOT NULL REFERENCES pipelines (id),  -- the last hop's pipeline
    statement_index INTEGER NOT NULL,   -- and its statement
    hops INTEGER NOT NULL,
    path TEXT NOT NULL,                 -- the column ids travelled, source first, comma-separated
    PRIMARY KEY (column_id, tag_kind, tag_value)
);
CREATE INDEX propagated_tags_source_idx ON propagated_tags (source_column_id);
CREATE INDEX propagated_tags_tag_idx ON propagated_tags (tag_kind, tag_value, column_id);

-- A compliance officer stopped tags from flowing from one column into another.
CREATE TABLE lineage_blocks (
    from_column_id INTEGER NOT NULL REFERENCES dataset_columns (id),
    to_column_id INTEGER NOT NULL REFERENCES dataset_columns (id),
    reason TEXT NOT NULL,
    blocked_by TEXT NOT NULL,
    blocked_at TIMESTAMP NOT NULL,
    PRIMARY KEY (from_column_id, to_column_id)
);

-- Governance switches people change (audited), such as whether tags flow through aggregates.
CREATE TABLE governance_settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL
);

-- The workbench's "propagated" filter, in column order.
CREATE INDEX dataset_columns_propagated_idx ON dataset_columns (status, propagated, id);
