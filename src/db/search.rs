//! Catalog search: datasets and columns whose name, description or source comment contain every
//! term of the query, answered from trigram indexes (see `dialect::push_text_match`).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::AnyConnection;
use super::dialect::{self, Bind, SqlBuilder};

/// Column matches are counted up to this many; beyond it pages say "more than".
pub const COUNT_CAP: i64 = 10_000;

#[derive(Clone, Debug, Default)]
pub struct SearchQuery {
    /// Lower-cased terms, each at least one character.
    pub terms: Vec<String>,
    pub source_id: Option<i64>,
    pub include_datasets: bool,
    pub include_columns: bool,
}

impl SearchQuery {
    /// Splits free text into terms (whitespace-separated, lower-cased, at most eight).
    pub fn terms_of(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_lowercase).take(8).collect()
    }

    fn phrase(&self) -> String {
        self.terms.join(" ")
    }
}

#[derive(QueryableByName, Clone, Debug)]
pub struct DatasetHit {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub source_name: String,
    #[diesel(sql_type = Text)]
    pub schema_name: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub description: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub source_comment: Option<String>,
}

#[derive(QueryableByName, Clone, Debug)]
pub struct ColumnHit {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub data_type: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub description: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub source_comment: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub dataset_id: i64,
    #[diesel(sql_type = Text)]
    pub dataset_schema: String,
    #[diesel(sql_type = Text)]
    pub dataset_name: String,
    #[diesel(sql_type = Text)]
    pub source_name: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// One page of results: datasets first, then columns, as one list.
#[derive(Clone, Debug, Default)]
pub struct SearchPage {
    pub datasets: Vec<DatasetHit>,
    pub columns: Vec<ColumnHit>,
    pub dataset_total: i64,
    /// Exact up to [`COUNT_CAP`]; `columns_capped` says when there are more.
    pub column_total: i64,
    pub columns_capped: bool,
}

impl SearchPage {
    pub fn total(&self) -> i64 {
        self.dataset_total + self.column_total
    }
}

fn push_dataset_filter(q: &mut SqlBuilder, query: &SearchQuery) {
    q.push(" FROM datasets d JOIN sources s ON s.id = d.source_id WHERE d.status = 'active' AND ");
    dialect::push_text_match(q, "d", &["name", "description", "source_comment"], "dataset_search", &query.terms);
    if let Some(id) = query.source_id {
        q.push(" AND d.source_id = ").bind(Bind::BigInt(id));
    }
}

fn push_column_filter(q: &mut SqlBuilder, query: &SearchQuery) {
    q.push(
        " FROM dataset_columns c JOIN datasets d ON d.id = c.dataset_id JOIN sources s ON s.id = d.source_id \
         WHERE c.status = 'active' AND d.status = 'active' AND ",
    );
    dialect::push_text_match(q, "c", &["name", "description", "source_comment"], "column_search", &query.terms);
    if let Some(id) = query.source_id {
        q.push(" AND d.source_id = ").bind(Bind::BigInt(id));
    }
}

/// Best matches first: the whole name equal to the query, then starting with it, then containing
/// it, then matches in descriptions only; shorter names first within each.
fn push_rank(q: &mut SqlBuilder, alias: &str, phrase: &str) {
    let escaped = dialect::like_escape(phrase);
    q.push(&format!(" ORDER BY CASE WHEN lower({alias}.name) = "));
    q.bind(Bind::Text(phrase.to_owned()));
    q.push(&format!(" THEN 0 WHEN lower({alias}.name) LIKE "));
    q.bind(Bind::Text(format!("{escaped}%")));
    q.push(&format!(" ESCAPE '\\' THEN 1 WHEN lower({alias}.name) LIKE "));
    q.bind(Bind::Text(format!("%{escaped}%")));
    q.push(&format!(" ESCAPE '\\' THEN 2 ELSE 3 END, length({alias}.name), {alias}.name, {alias}.id"));
}

pub fn search(conn: &mut AnyConnection, query: &SearchQuery, offset: i64, limit: i64) -> QueryResult<SearchPage> {
    let backend = dialect::backend(conn);
    let mut page = SearchPage::default();
    if query.terms.is_empty() {
        return Ok(page);
    }
    let phrase = query.phrase();
    if query.include_datasets {
        let mut q = SqlBuilder::new(backend);
        q.push("SELECT count(*) AS n");
        push_dataset_filter(&mut q, query);
        page.dataset_total = q.build().get_result::<Count>(conn)?.n;
        if offset < page.dataset_total {
            let mut q = SqlBuilder::new(backend);
            q.push(
                "SELECT d.id, s.name AS source_name, d.schema_name, d.name, d.kind, d.description, d.source_comment",
            );
            push_dataset_filter(&mut q, query);
            push_rank(&mut q, "d", &phrase);
            q.push(" LIMIT ").bind(Bind::BigInt(limit)).push(" OFFSET ").bind(Bind::BigInt(offset));
            page.datasets = q.build().load(conn)?;
        }
    }
    if query.include_columns {
        let mut q = SqlBuilder::new(backend);
        q.push("SELECT count(*) AS n FROM (SELECT 1");
        push_column_filter(&mut q, query);
        q.push(" LIMIT ").bind(Bind::BigInt(COUNT_CAP + 1)).push(") AS capped");
        let n = q.build().get_result::<Count>(conn)?.n;
        page.columns_capped = n > COUNT_CAP;
        page.column_total = n.min(COUNT_CAP);
        let wanted = limit - page.datasets.len() as i64;
        let column_offset = (offset - page.dataset_total).max(0);
        if wanted > 0 && column_offset < page.column_total {
            let mut q = SqlBuilder::new(backend);
            q.push(
                "SELECT c.id, c.name, c.data_type, c.description, c.source_comment, d.id AS dataset_id, \
                 d.schema_name AS dataset_schema, d.name AS dataset_name, s.name AS source_name",
            );
            push_column_filter(&mut q, query);
            push_rank(&mut q, "c", &phrase);
            q.push(" LIMIT ").bind(Bind::BigInt(wanted)).push(" OFFSET ").bind(Bind::BigInt(column_offset));
            page.columns = q.build().load(conn)?;
        }
    }
    Ok(page)
}
