DROP TABLE column_lineage_edges;
DROP TABLE lineage_edges;
DROP TABLE pipeline_tables;
DROP TABLE pipeline_statements;
DROP TABLE pipelines;
