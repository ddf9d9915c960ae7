//! Row structs for the catalog tables and the small vocabularies stored as text.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{api_tokens, crawl_runs, dataset_columns, datasets, foreign_keys, sessions, sources, users};

/// Row status shared by datasets, columns and foreign keys: crawls never delete, they mark.
pub const ACTIVE: &str = "active";
pub const REMOVED: &str = "removed";

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = sources)]
pub struct Source {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub connection_kind: String,
    pub connection_ref: String,
    pub default_schema: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub last_crawled_at: Option<NaiveDateTime>,
    /// Active datasets, as of the last crawl.
    pub dataset_count: i64,
    /// Active columns of active datasets, as of the last crawl.
    pub column_count: i64,
}

#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = sources)]
pub struct NewSource {
    pub name: String,
    pub kind: String,
    pub connection_kind: String,
    pub connection_ref: String,
    pub default_schema: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = crawl_runs)]
pub struct CrawlRun {
    pub id: i64,
    pub source_id: i64,
    pub status: String,
    pub triggered_by: String,
    pub queued_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
    pub progress_done: i64,
    pub progress_total: i64,
    pub datasets_added: i64,
    pub datasets_changed: i64,
    pub datasets_removed: i64,
    pub columns_added: i64,
    pub columns_changed: i64,
    pub columns_removed: i64,
    pub error: Option<String>,
    /// `crawl`, or `scan` (sampled values for suggestions).
    pub kind: String,
    /// What a scan found, in words.
    pub summary: Option<String>,
}

/// Kinds of background run over a source.
pub mod run_kind {
    pub const CRAWL: &str = "crawl";
    pub const SCAN: &str = "scan";
}

/// Crawl run states.
pub mod crawl_status {
    pub const QUEUED: &str = "queued";
    pub const RUNNING: &str = "running";
    pub const SUCCEEDED: &str = "succeeded";
    pub const FAILED: &str = "failed";
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = datasets)]
pub struct Dataset {
    pub id: i64,
    pub source_id: i64,
    pub schema_name: String,
    pub name: String,
    pub kind: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub source_comment: Option<String>,
    pub definition: Option<String>,
    pub row_estimate: Option<i64>,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub last_crawled_at: Option<NaiveDateTime>,
    pub removed_at: Option<NaiveDateTime>,
    /// The highest effective level of its columns.
    pub level_rank: Option<i32>,
}

#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = datasets)]
pub struct NewDataset {
    pub source_id: i64,
    pub schema_name: String,
    pub name: String,
    pub kind: String,
    pub source_comment: Option<String>,
    pub definition: Option<String>,
    pub row_estimate: Option<i64>,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub last_crawled_at: Option<NaiveDateTime>,
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = dataset_columns)]
pub struct DatasetColumn {
    pub id: i64,
    pub dataset_id: i64,
    pub ordinal: i32,
    pub name: String,
    pub data_type: String,
    pub nullable: bool,
    pub is_primary_key: bool,
    pub default_value: Option<String>,
    pub description: Option<String>,
    pub source_comment: Option<String>,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub removed_at: Option<NaiveDateTime>,
}

/// A column as pages and the API list it (no timestamps: reading them costs on every row).
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = dataset_columns)]
pub struct ColumnSummary {
    pub id: i64,
    pub dataset_id: i64,
    pub ordinal: i32,
    pub name: String,
    pub data_type: String,
    pub nullable: bool,
    pub is_primary_key: bool,
    pub default_value: Option<String>,
    pub description: Option<String>,
    pub source_comment: Option<String>,
    pub status: String,
    /// The effective classification level's rank, if any.
    pub level_rank: Option<i32>,
    pub personal_data: bool,
    pub identifier_type: Option<String>,
    pub open_suggestions: i32,
    /// Something reached this column through lineage.
    pub propagated: bool,
}

#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = dataset_columns)]
pub struct NewColumn {
    pub dataset_id: i64,
    pub ordinal: i32,
    pub name: String,
    pub data_type: String,
    pub nullable: bool,
    pub is_primary_key: bool,
    pub default_value: Option<String>,
    pub source_comment: Option<String>,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = foreign_keys)]
pub struct ForeignKey {
    pub id: i64,
    pub source_id: i64,
    pub name: String,
    pub from_dataset_id: i64,
    pub from_columns: String,
    pub to_dataset_id: i64,
    pub to_columns: String,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A foreign key as pages show it.
#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = foreign_keys)]
pub struct ForeignKeySummary {
    pub id: i64,
    pub name: String,
    pub from_dataset_id: i64,
    pub from_columns: String,
    pub to_dataset_id: i64,
    pub to_columns: String,
}

#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = foreign_keys)]
pub struct NewForeignKey {
    pub source_id: i64,
    pub name: String,
    pub from_dataset_id: i64,
    pub from_columns: String,
    pub to_dataset_id: i64,
    pub to_columns: String,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: Option<String>,
    pub role: String,
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub password_changed_at: NaiveDateTime,
    pub last_login_at: Option<NaiveDateTime>,
}

#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = users)]
pub struct NewUser {
    pub username: String,
    pub display_name: Option<String>,
    pub role: String,
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub password_changed_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: i64,
    pub token_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = sessions)]
pub struct NewSession {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub token_hash: String,
    pub prefix: String,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = api_tokens)]
pub struct NewApiToken {
    pub name: String,
    pub role: String,
    pub token_hash: String,
    pub prefix: String,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = super::schema::classification_levels)]
pub struct ClassificationLevel {
    pub id: i64,
    pub rank: i32,
    pub name: String,
    pub colour: String,
    pub handling: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = super::schema::personal_data_categories)]
pub struct Category {
    pub id: i64,
    pub key: String,
    pub label: String,
    pub special: bool,
    pub builtin: bool,
    pub default_level_rank: Option<i32>,
    pub description: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = super::schema::identifier_types)]
pub struct IdentifierType {
    pub id: i64,
    pub key: String,
    pub label: String,
    pub category_key: Option<String>,
    pub builtin: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Queryable, Selectable, Identifiable, Clone, Debug)]
#[diesel(table_name = super::schema::classification_suggestions)]
pub struct Suggestion {
    pub id: i64,
    pub column_id: i64,
    pub category_id: i64,
    pub identifier_type_id: Option<i64>,
    pub level_rank: Option<i32>,
    pub confidence: f64,
    pub evidence: String,
    pub status: String,
    pub proposed_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    pub decided_by: Option<String>,
}
