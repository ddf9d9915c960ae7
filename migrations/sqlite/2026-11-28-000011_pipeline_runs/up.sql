-- Runs of a pipeline reported by OpenLineage run events (START, RUNNING, COMPLETE, FAIL, ABORT):
-- one row per run, its latest state and when it started and ended.
CREATE TABLE pipeline_runs (
    id INTEGER PRIMARY KEY NOT NULL,
    pipeline_id BIGINT NOT NULL REFERENCES pipelines (id),
    run_id TEXT NOT NULL,                   -- the OpenLineage runId (a UUID)
    state TEXT NOT NULL,                    -- START | RUNNING | COMPLETE | FAIL | ABORT | OTHER
    producer TEXT NOT NULL DEFAULT '',
    started_at TIMESTAMP,
    ended_at TIMESTAMP,
    last_event_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (pipeline_id, run_id)
);
