//! Catalog search: active datasets and columns whose name, description or source comment contain
//! every term of the query. Names that start with the query come first (in name order, from an
//! index), then the other matches in index order, so the first page never sorts all matches.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};

use super::AnyConnection;
use super::dialect::{self, Bind, SearchPlan, SearchTable, SqlBuilder};

/// Matches are counted up to this many; beyond it pages say "more than".
pub const COUNT_CAP: i64 = 1_000;

const DATASETS: SearchTable = SearchTable {
    table: "datasets",
    alias: "d",
    fts: "dataset_search",
    fields: &["name", "description", "source_comment"],
};

const COLUMNS: SearchTable = SearchTable {
    table: "dataset_columns",
    alias: "c",
    fts: "column_search",
    fields: &["name", "description", "source_comment"],
};

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

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// One page of results: datasets first, then columns, as one list.
#[derive(Clone, Debug, Default)]
pub struct SearchPage {
    pub datasets: Vec<DatasetHit>,
    pub columns: Vec<ColumnHit>,
    /// Exact up to [`COUNT_CAP`]; the `*_capped` flags say when there are more.
    pub dataset_total: i64,
    pub datasets_capped: bool,
    pub column_total: i64,
    pub columns_capped: bool,
}

impl SearchPage {
    pub fn total(&self) -> i64 {
        self.dataset_total + self.column_total
    }
}

/// Restricts to one source.
fn push_source_filter(q: &mut SqlBuilder, t: &SearchTable, source_id: Option<i64>) {
    if let Some(id) = source_id {
        if t.alias == DATASETS.alias {
            q.push(" AND d.source_id = ").bind(Bind::BigInt(id));
        } else {
            q.push(" AND c.dataset_id IN (SELECT id FROM datasets WHERE source_id = ").bind(Bind::BigInt(id)).push(")");
        }
    }
}

fn count(conn: &mut AnyConnection, q: SqlBuilder) -> QueryResult<(i64, bool)> {
    let n = q.build().get_result::<Count>(conn)?.n;
    Ok((n.min(COUNT_CAP), n > COUNT_CAP))
}

fn ids(conn: &mut AnyConnection, q: SqlBuilder) -> QueryResult<Vec<i64>> {
    Ok(q.build().load::<Id>(conn)?.into_iter().map(|r| r.id).collect())
}

#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    leading: i32,
}

/// Matching ids of one table for the slice [offset, offset + limit), and the (capped) total.
///
/// Names that start with the query come first, walked in name order from an index. The other
/// matches follow in id order, taken from the first `COUNT_CAP + 1` matches the trigram index
/// yields (which also gives the capped total), so no query sorts or counts every match.
fn table_page(
    conn: &mut AnyConnection,
    t: &SearchTable,
    query: &SearchQuery,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<i64>, i64, bool)> {
    let backend = dialect::backend(conn);
    let phrase = query.terms.join(" ");
    let a = t.alias;

    dialect::plan_search(conn, SearchPlan::Ordered)?;
    let mut q = SqlBuilder::new(backend);
    q.push("SELECT count(*) AS n FROM (SELECT 1");
    dialect::push_from_name_index(&mut q, t.table, a);
    q.push(&format!(" WHERE {a}.status = 'active' AND "));
    dialect::push_name_prefix(&mut q, a, &phrase);
    push_source_filter(&mut q, t, query.source_id);
    q.push(" LIMIT ").bind(Bind::BigInt(COUNT_CAP + 1)).push(") AS capped");
    let (leading, leading_capped) = count(conn, q)?;

    // Terms too short for the trigram index only match the start of names: a substring scan of
    // millions of rows would not answer in time, and two letters match nearly everything anyway.
    let substring = query.terms.iter().any(|term| term.chars().count() >= dialect::MIN_INDEXED_TERM);
    let mut others = Vec::new();
    let (total, capped) = if substring {
        dialect::plan_search(conn, SearchPlan::TextIndex)?;
        let mut q = SqlBuilder::new(backend);
        q.push(&format!("SELECT {a}.id AS id, CASE WHEN "));
        dialect::push_name_prefix(&mut q, a, &phrase);
        q.push(" THEN 1 ELSE 0 END AS leading");
        dialect::push_matching_rows(&mut q, t, &query.terms);
        push_source_filter(&mut q, t, query.source_id);
        q.push(" LIMIT ").bind(Bind::BigInt(COUNT_CAP + 1));
        let candidates = q.build().load::<Candidate>(conn)?;
        let n = candidates.len() as i64;
        others = candidates.into_iter().filter(|c| c.leading == 0).map(|c| c.id).collect();
        others.sort_unstable();
        (n.min(COUNT_CAP), n > COUNT_CAP)
    } else {
        (leading, leading_capped)
    };
    if total == 0 || offset >= total || limit <= 0 {
        return Ok((Vec::new(), total, capped));
    }

    let mut page = Vec::new();
    if offset < leading {
        dialect::plan_search(conn, SearchPlan::Ordered)?;
        let mut q = SqlBuilder::new(backend);
        q.push(&format!("SELECT {a}.id AS id"));
        dialect::push_from_name_index(&mut q, t.table, a);
        q.push(&format!(" WHERE {a}.status = 'active' AND "));
        let order = dialect::push_name_prefix(&mut q, a, &phrase);
        push_source_filter(&mut q, t, query.source_id);
        q.push(&format!(" ORDER BY {order} LIMIT "))
            .bind(Bind::BigInt(limit))
            .push(" OFFSET ")
            .bind(Bind::BigInt(offset));
        page = ids(conn, q)?;
    }
    let wanted = (limit - page.len() as i64).max(0) as usize;
    let skip = (offset - leading).max(0) as usize;
    page.extend(others.into_iter().skip(skip).take(wanted));
    Ok((page, total, capped))
}

fn push_id_list(q: &mut SqlBuilder, ids: &[i64]) {
    q.push("(");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        q.bind(Bind::BigInt(*id));
    }
    q.push(")");
}

/// Puts loaded rows back in the order of `ids`.
fn in_order<T>(ids: &[i64], rows: Vec<T>, id: impl Fn(&T) -> i64) -> Vec<T> {
    let mut by_id: HashMap<i64, T> = rows.into_iter().map(|r| (id(&r), r)).collect();
    ids.iter().filter_map(|i| by_id.remove(i)).collect()
}

pub fn search(conn: &mut AnyConnection, query: &SearchQuery, offset: i64, limit: i64) -> QueryResult<SearchPage> {
    conn.transaction(|conn| search_in_transaction(conn, query, offset, limit))
}

fn search_in_transaction(
    conn: &mut AnyConnection,
    query: &SearchQuery,
    offset: i64,
    limit: i64,
) -> QueryResult<SearchPage> {
    let backend = dialect::backend(conn);
    let mut page = SearchPage::default();
    if query.terms.is_empty() {
        return Ok(page);
    }
    if query.include_datasets {
        let (ids, total, capped) = table_page(conn, &DATASETS, query, offset, limit)?;
        page.dataset_total = total;
        page.datasets_capped = capped;
        if !ids.is_empty() {
            let mut q = SqlBuilder::new(backend);
            q.push(
                "SELECT d.id, s.name AS source_name, d.schema_name, d.name, d.kind, d.description, d.source_comment \
                 FROM datasets d JOIN sources s ON s.id = d.source_id WHERE d.id IN ",
            );
            push_id_list(&mut q, &ids);
            page.datasets = in_order(&ids, q.build().load::<DatasetHit>(conn)?, |h| h.id);
        }
    }
    if query.include_columns {
        let wanted = limit - page.datasets.len() as i64;
        let column_offset = (offset - page.dataset_total).max(0);
        let (ids, total, capped) = table_page(conn, &COLUMNS, query, column_offset, wanted)?;
        page.column_total = total;
        page.columns_capped = capped;
        if !ids.is_empty() {
            let mut q = SqlBuilder::new(backend);
            q.push(
                "SELECT c.id, c.name, c.data_type, c.description, c.source_comment, d.id AS dataset_id, \
                 d.schema_name AS dataset_schema, d.name AS dataset_name, s.name AS source_name \
                 FROM dataset_columns c JOIN datasets d ON d.id = c.dataset_id JOIN sources s ON s.id = d.source_id \
                 WHERE c.id IN ",
            );
            push_id_list(&mut q, &ids);
            page.columns = in_order(&ids, q.build().load::<ColumnHit>(conn)?, |h| h.id);
        }
    }
    Ok(page)
}
