-- GDPR erasure (GOVERNANCE.md E1–E20). A request names its subject only by a keyed HMAC of the
-- normalised identifier; the plaintext needed to execute (the identifier and the related keys
-- the plan resolved) is sealed (encrypted) in `sealed_subject` and wiped when the request ends.
CREATE TABLE erasure_requests (
    id INTEGER PRIMARY KEY NOT NULL,
    identifier_type TEXT NOT NULL,          -- an identifier_types key
    subject_hmac TEXT NOT NULL,
    sealed_subject TEXT,                    -- NULL once the request has ended
    received_on DATE NOT NULL,
    due_on DATE NOT NULL,                   -- E1: one calendar month after receipt
    original_due_on DATE NOT NULL,
    extension_reason TEXT,                  -- E2: at most one extension
    extended_by TEXT,
    extended_at TIMESTAMP,
    channel TEXT NOT NULL,
    requester_ref TEXT,
    idempotency_key TEXT UNIQUE,
    notes TEXT,
    status TEXT NOT NULL,                   -- received | planned | approved | running | awaiting_recipients | blocked | completed | completed_with_exceptions | refused
    status_reason TEXT,
    submitted_by TEXT NOT NULL,
    approved_by TEXT,
    approved_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);
CREATE INDEX erasure_requests_due_idx ON erasure_requests (status, due_on);
CREATE INDEX erasure_requests_subject_idx ON erasure_requests (identifier_type, subject_hmac);

-- The plan: one row per target table, in execution order. A new plan replaces the old one's
-- steps. The predicate and masks are JSON naming catalog columns only, never values.
CREATE TABLE erasure_steps (
    id INTEGER PRIMARY KEY NOT NULL,
    request_id INTEGER NOT NULL REFERENCES erasure_requests (id),
    position INTEGER NOT NULL,
    source_id INTEGER NOT NULL REFERENCES sources (id),
    dataset_id INTEGER NOT NULL REFERENCES datasets (id),
    schema_name TEXT NOT NULL,
    table_name TEXT NOT NULL,
    action TEXT NOT NULL,                   -- delete | mask | refresh | hold
    predicate TEXT NOT NULL,
    masks TEXT NOT NULL,
    reached_via TEXT NOT NULL,
    hold_basis TEXT,
    fingerprint TEXT NOT NULL,              -- E6: the live columns the step relies on
    expected_rows BIGINT NOT NULL,
    status TEXT NOT NULL,                   -- pending | running | done | held | failed
    affected_rows BIGINT NOT NULL DEFAULT 0,
    remaining_rows BIGINT,                  -- E17: what verification found
    verification TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    UNIQUE (request_id, position)
);

-- Jobs for the worker: one per run of a request (E14, E15). A run is held by one worker at a
-- time through a lease that its heartbeat renews; `lease` counts the claims, fencing stale holders.
CREATE TABLE erasure_runs (
    id INTEGER PRIMARY KEY NOT NULL,
    request_id INTEGER NOT NULL REFERENCES erasure_requests (id),
    mode TEXT NOT NULL,                     -- execute | verify
    status TEXT NOT NULL,                   -- queued | running | done | failed
    lease INTEGER NOT NULL DEFAULT 0,
    claimed_by TEXT,
    heartbeat_at TIMESTAMP,
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before TIMESTAMP NOT NULL,
    error TEXT,
    requested_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP
);
CREATE INDEX erasure_runs_status_idx ON erasure_runs (status, not_before);

-- E20: recipients reached by lineage (exports, processors) to be told of the erasure.
CREATE TABLE erasure_notifications (
    id INTEGER PRIMARY KEY NOT NULL,
    request_id INTEGER NOT NULL REFERENCES erasure_requests (id),
    dataset_id INTEGER NOT NULL REFERENCES datasets (id),
    recipient TEXT NOT NULL,
    status TEXT NOT NULL,                   -- open | sent | acknowledged
    updated_by TEXT,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (request_id, dataset_id)
);

-- E18: the signed receipt of a finished request (no plaintext personal data).
CREATE TABLE erasure_receipts (
    request_id INTEGER PRIMARY KEY NOT NULL REFERENCES erasure_requests (id),
    body TEXT NOT NULL,
    signature TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- How a dataset's rows of a subject are erased: delete rows (the default) or mask its
-- personal-data columns.
CREATE TABLE dataset_erasure_actions (
    dataset_id INTEGER PRIMARY KEY NOT NULL REFERENCES datasets (id),
    action TEXT NOT NULL,                   -- delete | mask
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Legal holds (Art. 17(3)): what they cover is never erased or purged (E16).
CREATE TABLE legal_holds (
    id INTEGER PRIMARY KEY NOT NULL,
    scope TEXT NOT NULL,                    -- source | dataset | column | category | subject
    scope_id BIGINT,                        -- the source, dataset, column or category
    identifier_type TEXT,                   -- a subject hold: its identifier type
    subject_hmac TEXT,                      -- and the HMAC of its identifier
    basis TEXT NOT NULL,                    -- art17_3_a .. art17_3_e
    reason TEXT NOT NULL,
    ends_on DATE,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    released_by TEXT,
    released_at TIMESTAMP
);
CREATE INDEX legal_holds_scope_idx ON legal_holds (scope, scope_id);
