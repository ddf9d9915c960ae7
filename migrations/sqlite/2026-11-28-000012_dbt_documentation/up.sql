-- The descriptions dbt last wrote into the dictionary: a later manifest replaces a description
-- only while it is still dbt's (empty, or equal to what dbt wrote); one a person edited stays.
CREATE TABLE dbt_documentation (
    object_type TEXT NOT NULL,              -- dataset | column
    object_id BIGINT NOT NULL,
    description TEXT NOT NULL,
    PRIMARY KEY (object_type, object_id)
);
