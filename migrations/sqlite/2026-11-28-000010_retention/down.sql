ALTER TABLE legal_holds DROP COLUMN sealed_subject;
DROP TABLE retention_steps;
DROP TABLE retention_runs;
DROP TABLE dataset_timestamps;
DROP TABLE retention_assignments;
DROP TABLE retention_policies;
