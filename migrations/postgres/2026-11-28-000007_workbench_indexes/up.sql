-- The workbench's filters lead with the filtered column, not with `status`: an index that leads
-- with `status` (one value for nearly every row) tempted SQLite into an index scan plus a sort
-- of every column for the unfiltered first page.
DROP INDEX dataset_columns_level_idx;
DROP INDEX dataset_columns_personal_idx;
DROP INDEX dataset_columns_suggested_idx;
DROP INDEX dataset_columns_propagated_idx;
CREATE INDEX dataset_columns_level_idx ON dataset_columns (level_rank, status, id);
CREATE INDEX dataset_columns_personal_idx ON dataset_columns (personal_data, status, id);
-- Few columns wait for review: a partial index lists exactly them, in column order.
CREATE INDEX dataset_columns_suggested_idx ON dataset_columns (id) WHERE open_suggestions > 0;
CREATE INDEX dataset_columns_propagated_idx ON dataset_columns (propagated, status, id);
