-- Classification: ordered levels, personal-data categories, subject-identifier types, what people
-- confirmed on each column, suggestions awaiting review, and a per-column summary for fast lists.
CREATE TABLE classification_levels (
    id INTEGER PRIMARY KEY NOT NULL,
    rank INTEGER NOT NULL UNIQUE,       -- higher is more sensitive
    name TEXT NOT NULL UNIQUE,
    colour TEXT NOT NULL,               -- a palette name: grey | blue | amber | red | green | purple
    handling TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE personal_data_categories (
    id INTEGER PRIMARY KEY NOT NULL,
    key TEXT NOT NULL UNIQUE,           -- e.g. contact.email
    label TEXT NOT NULL,
    special BOOLEAN NOT NULL,           -- a GDPR Art. 9 special category
    builtin BOOLEAN NOT NULL,
    default_level_rank INTEGER,
    description TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE identifier_types (
    id INTEGER PRIMARY KEY NOT NULL,
    key TEXT NOT NULL UNIQUE,           -- e.g. email, customer_id
    label TEXT NOT NULL,
    category_key TEXT,                  -- the category a column of this type holds
    builtin BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- What a compliance officer confirmed on a column.
CREATE TABLE column_classifications (
    column_id BIGINT PRIMARY KEY NOT NULL REFERENCES dataset_columns (id),
    level_id BIGINT REFERENCES classification_levels (id),
    identifier_type_id BIGINT REFERENCES identifier_types (id),
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE column_categories (
    column_id BIGINT NOT NULL REFERENCES dataset_columns (id),
    category_id BIGINT NOT NULL REFERENCES personal_data_categories (id),
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (column_id, category_id)
);
CREATE INDEX column_categories_category_idx ON column_categories (category_id, column_id);

-- Proposals: from column names and sampled values (the engine), or from a steward.
CREATE TABLE classification_suggestions (
    id INTEGER PRIMARY KEY NOT NULL,
    column_id BIGINT NOT NULL REFERENCES dataset_columns (id),
    category_id BIGINT NOT NULL REFERENCES personal_data_categories (id),
    identifier_type_id BIGINT REFERENCES identifier_types (id),
    level_rank INTEGER,
    confidence DOUBLE PRECISION NOT NULL,
    evidence TEXT NOT NULL,             -- JSON: the rule, or the validator with hits, sample size and a masked example
    status TEXT NOT NULL,               -- open | accepted | rejected
    proposed_by TEXT,                   -- a steward's username; NULL when the engine proposed it
    created_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP,
    decided_by TEXT,
    UNIQUE (column_id, category_id)
);
CREATE INDEX classification_suggestions_open_idx ON classification_suggestions (status, id);

-- The classification state of each column, kept in step by the repository, so the workbench can
-- filter a million columns through indexes.
ALTER TABLE dataset_columns ADD COLUMN level_rank INTEGER;
ALTER TABLE dataset_columns ADD COLUMN personal_data BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE dataset_columns ADD COLUMN identifier_type TEXT;
ALTER TABLE dataset_columns ADD COLUMN open_suggestions INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dataset_columns ADD COLUMN propagated BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE datasets ADD COLUMN level_rank INTEGER;
-- Background runs over a source: crawls, and scans of sampled values for suggestions.
ALTER TABLE crawl_runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'crawl';
ALTER TABLE crawl_runs ADD COLUMN summary TEXT;
CREATE INDEX dataset_columns_level_idx ON dataset_columns (status, level_rank, id);
CREATE INDEX dataset_columns_personal_idx ON dataset_columns (status, personal_data, id);
CREATE INDEX dataset_columns_suggested_idx ON dataset_columns (status, open_suggestions, id);
