-- Retention (GOVERNANCE.md R1–R3). A policy is a period (ISO 8601) and an action; it is
-- assigned to a source, a schema of a source, a dataset or a personal-data category, and the
-- most specific assignment wins (dataset, then category, then schema, then source).
CREATE TABLE retention_policies (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    period TEXT NOT NULL,                   -- ISO 8601 duration: P90D, P13M, P7Y …
    action TEXT NOT NULL,                   -- delete | mask
    mask_columns TEXT NOT NULL DEFAULT '',  -- mask: column names, one per line; empty = every personal-data column
    legal_basis TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE retention_assignments (
    id INTEGER PRIMARY KEY NOT NULL,
    policy_id BIGINT NOT NULL REFERENCES retention_policies (id),
    scope TEXT NOT NULL,                    -- source | schema | dataset | category
    scope_id BIGINT NOT NULL,               -- the source (for source and schema), dataset or category
    schema_name TEXT NOT NULL DEFAULT '',   -- a schema assignment: the schema
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (scope, scope_id, schema_name)
);
CREATE INDEX retention_assignments_policy_idx ON retention_assignments (policy_id);

-- The column that dates a dataset's rows (confirmed by a person; the crawl only suggests).
CREATE TABLE dataset_timestamps (
    dataset_id BIGINT PRIMARY KEY NOT NULL REFERENCES datasets (id),
    column_name TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Purges (R2), claimed by workers like erasure runs. Every cutoff of a run is computed from
-- `as_of`, so a resumed run deletes exactly what it set out to.
CREATE TABLE retention_runs (
    id INTEGER PRIMARY KEY NOT NULL,
    mode TEXT NOT NULL,                     -- execute | dry_run
    status TEXT NOT NULL,                   -- queued | running | done | blocked | failed
    trigger TEXT NOT NULL,                  -- manual | schedule
    as_of TIMESTAMP NOT NULL,
    lease INTEGER NOT NULL DEFAULT 0,
    claimed_by TEXT,
    heartbeat_at TIMESTAMP,
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before TIMESTAMP NOT NULL,
    error TEXT,
    requested_by TEXT NOT NULL,
    receipt TEXT,                           -- the signed receipt of a finished run
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP
);
CREATE INDEX retention_runs_status_idx ON retention_runs (status, not_before);

CREATE TABLE retention_steps (
    id INTEGER PRIMARY KEY NOT NULL,
    run_id BIGINT NOT NULL REFERENCES retention_runs (id),
    position INTEGER NOT NULL,
    source_id BIGINT NOT NULL REFERENCES sources (id),
    dataset_id BIGINT NOT NULL REFERENCES datasets (id),
    schema_name TEXT NOT NULL,
    table_name TEXT NOT NULL,
    policy_id BIGINT NOT NULL REFERENCES retention_policies (id),
    policy_name TEXT NOT NULL,
    period TEXT NOT NULL,
    policy_from TEXT NOT NULL,              -- where the effective policy comes from, for people
    action TEXT NOT NULL,                   -- delete | mask | hold | skip
    timestamp_column TEXT,
    cutoff TIMESTAMP NOT NULL,
    predicate TEXT NOT NULL,
    masks TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    subject_holds TEXT NOT NULL DEFAULT '', -- ids of the subject holds excluded, comma-separated
    hold_basis TEXT,
    held_rows BIGINT NOT NULL DEFAULT 0,
    expected_rows BIGINT NOT NULL,
    status TEXT NOT NULL,                   -- pending | running | done | held | skipped | failed | previewed
    affected_rows BIGINT NOT NULL DEFAULT 0,
    remaining_rows BIGINT,
    verification TEXT,
    error TEXT,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    UNIQUE (run_id, position)
);

-- A subject hold keeps its identifier sealed (encrypted with the instance key) so purges can
-- spare the subject's rows; it is wiped when the hold is released.
ALTER TABLE legal_holds ADD COLUMN sealed_subject TEXT;
