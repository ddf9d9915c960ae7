-- The data dictionary: sources, their crawls, datasets, columns and foreign keys.
CREATE TABLE sources (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,                 -- postgres | sqlite
    connection_kind TEXT NOT NULL,      -- url | env (the name of an environment variable)
    connection_ref TEXT NOT NULL,       -- a password-free URL or path, or the variable's name
    default_schema TEXT NOT NULL,
    description TEXT,
    owner TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    last_crawled_at TIMESTAMP,
    dataset_count BIGINT NOT NULL DEFAULT 0,   -- active datasets, kept by crawls
    column_count BIGINT NOT NULL DEFAULT 0     -- active columns of active datasets, kept by crawls
);

CREATE TABLE crawl_runs (
    id INTEGER PRIMARY KEY NOT NULL,
    source_id INTEGER NOT NULL REFERENCES sources (id),
    status TEXT NOT NULL,               -- queued | running | succeeded | failed
    triggered_by TEXT NOT NULL,
    queued_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    progress_done INTEGER NOT NULL DEFAULT 0,
    progress_total INTEGER NOT NULL DEFAULT 0,
    datasets_added INTEGER NOT NULL DEFAULT 0,
    datasets_changed INTEGER NOT NULL DEFAULT 0,
    datasets_removed INTEGER NOT NULL DEFAULT 0,
    columns_added INTEGER NOT NULL DEFAULT 0,
    columns_changed INTEGER NOT NULL DEFAULT 0,
    columns_removed INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE INDEX crawl_runs_source_idx ON crawl_runs (source_id, id);
CREATE INDEX crawl_runs_queued_idx ON crawl_runs (queued_at);

CREATE TABLE datasets (
    id INTEGER PRIMARY KEY NOT NULL,
    source_id INTEGER NOT NULL REFERENCES sources (id),
    schema_name TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,                 -- table | view | materialized_view | foreign_table | external
    description TEXT,                   -- written by people in Custodian; crawls never touch it
    owner TEXT,                         -- written by people in Custodian; crawls never touch it
    source_comment TEXT,                -- the comment the target's own catalog holds
    definition TEXT,                    -- a view's SQL, as the target reports it
    row_estimate BIGINT,
    status TEXT NOT NULL,               -- active | removed
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    last_crawled_at TIMESTAMP,
    removed_at TIMESTAMP,
    UNIQUE (source_id, schema_name, name)
);
CREATE INDEX datasets_updated_idx ON datasets (updated_at, id);
-- The dataset list: by status, optionally by kind or by source and schema, in name order.
CREATE INDEX datasets_list_idx ON datasets (status, name, id);
CREATE INDEX datasets_kind_list_idx ON datasets (status, kind, name, id);
CREATE INDEX datasets_source_list_idx ON datasets (status, source_id, schema_name, name, id);
CREATE INDEX datasets_schema_list_idx ON datasets (status, schema_name, name, id);
-- Search ranks names that start with the query first, in name order (case-insensitive).
CREATE INDEX datasets_name_search_idx ON datasets (name COLLATE NOCASE, id) WHERE status = 'active';

CREATE TABLE dataset_columns (
    id INTEGER PRIMARY KEY NOT NULL,
    dataset_id INTEGER NOT NULL REFERENCES datasets (id),
    ordinal INTEGER NOT NULL,
    name TEXT NOT NULL,
    data_type TEXT NOT NULL,
    nullable BOOLEAN NOT NULL,
    is_primary_key BOOLEAN NOT NULL,
    default_value TEXT,
    description TEXT,
    source_comment TEXT,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    removed_at TIMESTAMP,
    UNIQUE (dataset_id, name)
);
CREATE INDEX dataset_columns_ordinal_idx ON dataset_columns (dataset_id, ordinal);
CREATE INDEX dataset_columns_name_search_idx ON dataset_columns (name COLLATE NOCASE, id) WHERE status = 'active';

CREATE TABLE foreign_keys (
    id INTEGER PRIMARY KEY NOT NULL,
    source_id INTEGER NOT NULL REFERENCES sources (id),
    name TEXT NOT NULL,
    from_dataset_id INTEGER NOT NULL REFERENCES datasets (id),
    from_columns TEXT NOT NULL,         -- JSON array of column names, in key order
    to_dataset_id INTEGER NOT NULL REFERENCES datasets (id),
    to_columns TEXT NOT NULL,           -- JSON array of column names, in key order
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (from_dataset_id, name)
);
CREATE INDEX foreign_keys_to_idx ON foreign_keys (to_dataset_id);

-- Search: trigram full-text indexes over active rows only, kept in step by triggers.
CREATE VIRTUAL TABLE dataset_search USING fts5 (
    name, description, source_comment,
    content = 'datasets', content_rowid = 'id', tokenize = 'trigram'
);
CREATE TRIGGER datasets_search_insert AFTER INSERT ON datasets WHEN new.status = 'active' BEGIN
    INSERT INTO dataset_search (rowid, name, description, source_comment)
    VALUES (new.id, new.name, new.description, new.source_comment);
END;
CREATE TRIGGER datasets_search_delete AFTER DELETE ON datasets WHEN old.status = 'active' BEGIN
    INSERT INTO dataset_search (dataset_search, rowid, name, description, source_comment)
    VALUES ('delete', old.id, old.name, old.description, old.source_comment);
END;
CREATE TRIGGER datasets_search_unindex AFTER UPDATE OF name, description, source_comment, status ON datasets
WHEN old.status = 'active' BEGIN
    INSERT INTO dataset_search (dataset_search, rowid, name, description, source_comment)
    VALUES ('delete', old.id, old.name, old.description, old.source_comment);
END;
CREATE TRIGGER datasets_search_reindex AFTER UPDATE OF name, description, source_comment, status ON datasets
WHEN new.status = 'active' BEGIN
    INSERT INTO dataset_search (rowid, name, description, source_comment)
    VALUES (new.id, new.name, new.description, new.source_comment);
END;

CREATE VIRTUAL TABLE column_search USING fts5 (
    name, description, source_comment,
    content = 'dataset_columns', content_rowid = 'id', tokenize = 'trigram'
);
CREATE TRIGGER dataset_columns_search_insert AFTER INSERT ON dataset_columns WHEN new.status = 'active' BEGIN
    INSERT INTO column_search (rowid, name, description, source_comment)
    VALUES (new.id, new.name, new.description, new.source_comment);
END;
CREATE TRIGGER dataset_columns_search_delete AFTER DELETE ON dataset_columns WHEN old.status = 'active' BEGIN
    INSERT INTO column_search (column_search, rowid, name, description, source_comment)
    VALUES ('delete', old.id, old.name, old.description, old.source_comment);
END;
CREATE TRIGGER dataset_columns_search_unindex AFTER UPDATE OF name, description, source_comment, status ON dataset_columns
WHEN old.status = 'active' BEGIN
    INSERT INTO column_search (column_search, rowid, name, description, source_comment)
    VALUES ('delete', old.id, old.name, old.description, old.source_comment);
END;
CREATE TRIGGER dataset_columns_search_reindex AFTER UPDATE OF name, description, source_comment, status ON dataset_columns
WHEN new.status = 'active' BEGIN
    INSERT INTO column_search (rowid, name, description, source_comment)
    VALUES (new.id, new.name, new.description, new.source_comment);
END;
