-- Lineage from pipeline SQL: the pipelines ingested, their statements, the tables each statement
-- read and wrote, and the table- and column-level lineage edges each statement produced.
-- Datasets named in SQL that were never crawled are datasets of kind 'referenced' (see
-- `db::lineage`); a later crawl of the same name adopts them, keeping their ids and edges.
CREATE TABLE pipelines (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,                 -- the file name, or the name given to pasted SQL
    path TEXT NOT NULL UNIQUE,          -- what identifies the pipeline across ingests
    source_id INTEGER NOT NULL REFERENCES sources (id),  -- the source the SQL runs against
    dialect TEXT NOT NULL,
    default_schema TEXT NOT NULL,       -- the schema unqualified names were completed with
    content_hash TEXT NOT NULL,         -- sha256 of the SQL text, hex
    sql_text TEXT NOT NULL,
    statement_count INTEGER NOT NULL,
    status TEXT NOT NULL,               -- ok | partial | failed
    errors TEXT NOT NULL,               -- JSON array of {statement, line, column, message}
    degraded BOOLEAN NOT NULL,          -- some lineage comes from the token-level fallback
    table_edge_count INTEGER NOT NULL,
    column_edge_count INTEGER NOT NULL,
    ingested_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    ingested_at TIMESTAMP NOT NULL,     -- when the current lineage was extracted
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX pipelines_name_idx ON pipelines (name, id);
CREATE INDEX pipelines_source_idx ON pipelines (source_id);
CREATE INDEX pipelines_ingested_idx ON pipelines (ingested_at, id);

CREATE TABLE pipeline_statements (
    id INTEGER PRIMARY KEY NOT NULL,
    pipeline_id INTEGER NOT NULL REFERENCES pipelines (id),
    statement_index INTEGER NOT NULL,   -- 1-based, as the lineage engine numbers statements
    start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    kind TEXT NOT NULL,                 -- INSERT, CREATE TABLE AS, SELECT, ...
    status TEXT NOT NULL,               -- parsed | recovered | degraded
    parsed_dialect TEXT,                -- the dialect whose parser accepted it
    error_line INTEGER,
    error_column INTEGER,
    error_message TEXT,
    unresolved_column_edges INTEGER NOT NULL,  -- column edges no catalog column could take
    UNIQUE (pipeline_id, statement_index)
);

CREATE TABLE pipeline_tables (
    id INTEGER PRIMARY KEY NOT NULL,
    pipeline_id INTEGER NOT NULL REFERENCES pipelines (id),
    statement_index INTEGER NOT NULL,
    access TEXT NOT NULL,               -- read | write
    table_name TEXT NOT NULL,           -- as the SQL names it, completed with the default schema
    dataset_id INTEGER REFERENCES datasets (id)  -- none for a table the script drops again
);
CREATE INDEX pipeline_tables_pipeline_idx ON pipeline_tables (pipeline_id, statement_index);
CREATE INDEX pipeline_tables_dataset_idx ON pipeline_tables (dataset_id, pipeline_id);

CREATE TABLE lineage_edges (
    id INTEGER PRIMARY KEY NOT NULL,
    pipeline_id INTEGER NOT NULL REFERENCES pipelines (id),
    statement_index INTEGER NOT NULL,
    from_dataset_id INTEGER NOT NULL REFERENCES datasets (id),
    to_dataset_id INTEGER NOT NULL REFERENCES datasets (id)
);
CREATE INDEX lineage_edges_pipeline_idx ON lineage_edges (pipeline_id, statement_index);
CREATE INDEX lineage_edges_from_idx ON lineage_edges (from_dataset_id, to_dataset_id);
CREATE INDEX lineage_edges_to_idx ON lineage_edges (to_dataset_id, from_dataset_id);

CREATE TABLE column_lineage_edges (
    id INTEGER PRIMARY KEY NOT NULL,
    pipeline_id INTEGER NOT NULL REFERENCES pipelines (id),
    statement_index INTEGER NOT NULL,
    from_column_id INTEGER NOT NULL REFERENCES dataset_columns (id),
    to_column_id INTEGER NOT NULL REFERENCES dataset_columns (id),
    kind TEXT NOT NULL                  -- identity | transform | aggregate
);
CREATE INDEX column_lineage_edges_pipeline_idx ON column_lineage_edges (pipeline_id, statement_index);
CREATE INDEX column_lineage_edges_from_idx ON column_lineage_edges (from_column_id, to_column_id);
CREATE INDEX column_lineage_edges_to_idx ON column_lineage_edges (to_column_id, from_column_id);
