ALTER TABLE column_lineage_edges DROP COLUMN json_key;
ALTER TABLE column_lineage_edges DROP COLUMN expression;
