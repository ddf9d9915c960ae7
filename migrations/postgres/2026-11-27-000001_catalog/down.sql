DROP TABLE foreign_keys;
DROP TABLE dataset_columns;
DROP TABLE datasets;
DROP TABLE crawl_runs;
DROP TABLE sources;
