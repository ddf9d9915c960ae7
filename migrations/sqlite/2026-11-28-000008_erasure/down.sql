DROP TABLE legal_holds;
DROP TABLE dataset_erasure_actions;
DROP TABLE erasure_receipts;
DROP TABLE erasure_notifications;
DROP TABLE erasure_runs;
DROP TABLE erasure_steps;
DROP TABLE erasure_requests;
