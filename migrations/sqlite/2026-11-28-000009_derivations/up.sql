-- How a column edge's value was computed, when erasure can recompute it on the target: a pure
-- expression template over the source column (`md5(lower("__custodian_subject_value__"))`), or
-- the top-level key of a JSON document the source column was written under.
ALTER TABLE column_lineage_edges ADD COLUMN expression TEXT;
ALTER TABLE column_lineage_edges ADD COLUMN json_key TEXT;
