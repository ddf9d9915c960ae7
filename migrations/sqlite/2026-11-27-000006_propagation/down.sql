DROP INDEX dataset_columns_propagated_idx;
DROP TABLE governance_settings;
DROP TABLE lineage_blocks;
DROP TABLE propagated_tags;
