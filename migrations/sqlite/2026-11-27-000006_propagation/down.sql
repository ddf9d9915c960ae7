DROP TABLE governance_settings;
DROP TABLE lineage_blocks;
DROP TABLE propagated_tags;
