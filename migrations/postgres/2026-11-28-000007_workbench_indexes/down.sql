DROP INDEX dataset_columns_level_idx;
DROP INDEX dataset_columns_personal_idx;
DROP INDEX dataset_columns_suggested_idx;
DROP INDEX dataset_columns_propagated_idx;
CREATE INDEX dataset_columns_level_idx ON dataset_columns (status, level_rank, id);
CREATE INDEX dataset_columns_personal_idx ON dataset_columns (status, personal_data, id);
CREATE INDEX dataset_columns_suggested_idx ON dataset_columns (status, open_suggestions, id);
CREATE INDEX dataset_columns_propagated_idx ON dataset_columns (status, propagated, id);
