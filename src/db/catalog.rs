//! Repository for the data dictionary: sources, crawl runs, datasets, columns and foreign keys,
//! including applying a crawl's snapshot (idempotent, never deleting).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::lineage::REFERENCED;
use super::models::*;
use super::schema::{crawl_runs, dataset_columns, datasets, foreign_keys, sources};
use super::{AnyConnection, MultiBackend, dialect};
use crate::targets::{Snapshot, SnapshotColumn, SnapshotDataset};

/// Rows per multi-row INSERT: well under both backends' bind-parameter limits.
const INSERT_CHUNK: usize = 500;

/// A cheap query that proves the catalog answers.
pub fn ping(conn: &mut AnyConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT 1").execute(conn).map(|_| ())
}

// ---------------------------------------------------------------------------------------------
// Sources

pub fn insert_source(conn: &mut AnyConnection, new: &NewSource) -> QueryResult<Source> {
    diesel::insert_into(sources::table).values(new).execute(conn)?;
    sources::table.filter(sources::name.eq(&new.name)).select(Source::as_select()).first(conn)
}

pub fn find_source(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<Source>> {
    sources::table.find(id).select(Source::as_select()).first(conn).optional()
}

pub fn find_source_by_name(conn: &mut AnyConnection, name: &str) -> QueryResult<Option<Source>> {
    sources::table.filter(sources::name.eq(name)).select(Source::as_select()).first(conn).optional()
}

pub fn list_sources(conn: &mut AnyConnection) -> QueryResult<Vec<Source>> {
    sources::table.order(sources::name).select(Source::as_select()).load(conn)
}

pub fn update_source_details(
    conn: &mut AnyConnection,
    id: i64,
    description: Option<&str>,
    owner: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(sources::table.find(id))
        .set((sources::description.eq(description), sources::owner.eq(owner), sources::updated_at.eq(now)))
        .execute(conn)
}

// ---------------------------------------------------------------------------------------------
// Crawl runs

pub fn enqueue_crawl_run(
    conn: &mut AnyConnection,
    source_id: i64,
    kind: &str,
    triggered_by: &str,
    now: NaiveDateTime,
) -> QueryResult<CrawlRun> {
    diesel::insert_into(crawl_runs::table)
        .values((
            crawl_runs::source_id.eq(source_id),
            crawl_runs::kind.eq(kind),
            crawl_runs::status.eq(crawl_status::QUEUED),
            crawl_runs::triggered_by.eq(triggered_by),
            crawl_runs::queued_at.eq(now),
        ))
        .execute(conn)?;
    crawl_runs::table
        .filter(crawl_runs::source_id.eq(source_id))
        .order(crawl_runs::id.desc())
        .select(CrawlRun::as_select())
        .first(conn)
}

pub fn find_crawl_run(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<CrawlRun>> {
    crawl_runs::table.find(id).select(CrawlRun::as_select()).first(conn).optional()
}

/// The oldest queued run, for a worker to claim.
pub fn next_queued_crawl_run(conn: &mut AnyConnection) -> QueryResult<Option<CrawlRun>> {
    crawl_runs::table
        .filter(crawl_runs::status.eq(crawl_status::QUEUED))
        .order(crawl_runs::id)
        .select(CrawlRun::as_select())
        .first(conn)
        .optional()
}

/// Claims a queued run: true when this caller won it (a compare-and-set on the status, so two
/// workers never run the same crawl).
pub fn claim_crawl_run(conn: &mut AnyConnection, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        crawl_runs::table.filter(crawl_runs::id.eq(id)).filter(crawl_runs::status.eq(crawl_status::QUEUED)),
    )
    .set((crawl_runs::status.eq(crawl_status::RUNNING), crawl_runs::started_at.eq(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Whether a run of this source is queued or running already.
pub fn active_crawl_run(conn: &mut AnyConnection, source_id: i64) -> QueryResult<Option<CrawlRun>> {
    crawl_runs::table
        .filter(crawl_runs::source_id.eq(source_id))
        .filter(crawl_runs::status.eq_any([crawl_status::QUEUED, crawl_status::RUNNING]))
        .order(crawl_runs::id.desc())
        .select(CrawlRun::as_select())
        .first(conn)
        .optional()
}

/// Records the end of a scan (or any run that counts no changes): its summary, or its error.
pub fn finish_run_with_summary(
    conn: &mut AnyConnection,
    id: i64,
    outcome: Result<(&str, i64), &str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let target = crawl_runs::table.find(id);
    match outcome {
        Ok((summary, datasets)) => diesel::update(target)
            .set((
                crawl_runs::status.eq(crawl_status::SUCCEEDED),
                crawl_runs::finished_at.eq(now),
                crawl_runs::progress_done.eq(datasets),
                crawl_runs::progress_total.eq(datasets),
                crawl_runs::summary.eq(summary),
            ))
            .execute(conn),
        Err(message) => diesel::update(target)
            .set((
                crawl_runs::status.eq(crawl_status::FAILED),
                crawl_runs::finished_at.eq(now),
                crawl_runs::error.eq(message),
            ))
            .execute(conn),
    }
}

pub fn finish_crawl_run(
    conn: &mut AnyConnection,
    id: i64,
    outcome: Result<&CrawlChanges, &str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let target = crawl_runs::table.find(id);
    match outcome {
        Ok(c) => diesel::update(target)
            .set((
                crawl_runs::status.eq(crawl_status::SUCCEEDED),
                crawl_runs::finished_at.eq(now),
                crawl_runs::progress_done.eq(c.datasets_seen),
                crawl_runs::progress_total.eq(c.datasets_seen),
                crawl_runs::datasets_added.eq(c.datasets_added),
                crawl_runs::datasets_changed.eq(c.datasets_changed),
                crawl_runs::datasets_removed.eq(c.datasets_removed),
                crawl_runs::columns_added.eq(c.columns_added),
                crawl_runs::columns_changed.eq(c.columns_changed),
                crawl_runs::columns_removed.eq(c.columns_removed),
            ))
            .execute(conn),
        Err(message) => diesel::update(target)
            .set((
                crawl_runs::status.eq(crawl_status::FAILED),
                crawl_runs::finished_at.eq(now),
                crawl_runs::error.eq(message),
            ))
            .execute(conn),
    }
}

/// Runs left `running` by a process that died are failed so the source can be crawled again.
pub fn fail_stale_crawl_runs(
    conn: &mut AnyConnection,
    started_before: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        crawl_runs::table
            .filter(crawl_runs::status.eq(crawl_status::RUNNING))
            .filter(crawl_runs::started_at.lt(started_before)),
    )
    .set((
        crawl_runs::status.eq(crawl_status::FAILED),
        crawl_runs::finished_at.eq(now),
        crawl_runs::error.eq("the crawl was interrupted (the process stopped); nothing of it was saved"),
    ))
    .execute(conn)
}

pub fn list_crawl_runs_for_source(conn: &mut AnyConnection, source_id: i64, limit: i64) -> QueryResult<Vec<CrawlRun>> {
    crawl_runs::table
        .filter(crawl_runs::source_id.eq(source_id))
        .order(crawl_runs::id.desc())
        .limit(limit)
        .select(CrawlRun::as_select())
        .load(conn)
}

/// The latest runs across sources, with their source's name.
pub fn list_recent_crawl_runs(conn: &mut AnyConnection, limit: i64) -> QueryResult<Vec<(CrawlRun, String)>> {
    crawl_runs::table
        .inner_join(sources::table)
        .order(crawl_runs::id.desc())
        .limit(limit)
        .select((CrawlRun::as_select(), sources::name))
        .load(conn)
}

// ---------------------------------------------------------------------------------------------
// Datasets and columns

/// Filters of the dataset list.
#[derive(Clone, Debug, Default)]
pub struct DatasetFilter {
    pub source_id: Option<i64>,
    pub schema: Option<String>,
    pub kind: Option<String>,
    pub include_removed: bool,
}

/// A dataset with its source's name, for lists.
#[derive(Clone, Debug)]
pub struct DatasetListItem {
    pub dataset: Dataset,
    pub source_name: String,
}

pub fn list_datasets(
    conn: &mut AnyConnection,
    filter: &DatasetFilter,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<DatasetListItem>, i64)> {
    let filtered = || {
        let mut q = datasets::table.into_boxed::<MultiBackend>();
        if let Some(id) = filter.source_id {
            q = q.filter(datasets::source_id.eq(id));
        }
        if let Some(schema) = &filter.schema {
            q = q.filter(datasets::schema_name.eq(schema.clone()));
        }
        if let Some(kind) = &filter.kind {
            q = q.filter(datasets::kind.eq(kind.clone()));
        }
        if !filter.include_removed {
            q = q.filter(datasets::status.eq(ACTIVE));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let ids: Vec<i64> =
        filtered().order((datasets::name, datasets::id)).offset(offset).limit(limit).select(datasets::id).load(conn)?;
    let rows: Vec<(Dataset, String)> = datasets::table
        .inner_join(sources::table)
        .filter(datasets::id.eq_any(&ids))
        .order((datasets::name, datasets::id))
        .select((Dataset::as_select(), sources::name))
        .load(conn)?;
    let items = rows.into_iter().map(|(dataset, source_name)| DatasetListItem { dataset, source_name }).collect();
    Ok((items, total))
}

/// Distinct schema names (of one source, or all), for filters.
pub fn list_schemas(conn: &mut AnyConnection, source_id: Option<i64>) -> QueryResult<Vec<String>> {
    let mut q = datasets::table
        .filter(datasets::status.eq(ACTIVE))
        .select(datasets::schema_name)
        .distinct()
        .order(datasets::schema_name)
        .into_boxed();
    if let Some(id) = source_id {
        q = q.filter(datasets::source_id.eq(id));
    }
    q.load(conn)
}

pub fn find_dataset(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<(Dataset, Source)>> {
    datasets::table
        .inner_join(sources::table)
        .filter(datasets::id.eq(id))
        .select((Dataset::as_select(), Source::as_select()))
        .first(conn)
        .optional()
}

pub fn find_dataset_by_name(
    conn: &mut AnyConnection,
    source_id: i64,
    schema: &str,
    name: &str,
) -> QueryResult<Option<Dataset>> {
    datasets::table
        .filter(datasets::source_id.eq(source_id))
        .filter(datasets::schema_name.eq(schema))
        .filter(datasets::name.eq(name))
        .select(Dataset::as_select())
        .first(conn)
        .optional()
}

/// A dataset's columns in ordinal order; removed ones last.
pub fn list_columns(conn: &mut AnyConnection, dataset_id: i64) -> QueryResult<Vec<ColumnSummary>> {
    dataset_columns::table
        .filter(dataset_columns::dataset_id.eq(dataset_id))
        .order((dataset_columns::status, dataset_columns::ordinal, dataset_columns::id))
        .select(ColumnSummary::as_select())
        .load(conn)
}

/// Columns by id (any dataset), in id order.
pub fn columns_by_id(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<ColumnSummary>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(INSERT_CHUNK) {
        out.extend(
            dataset_columns::table
                .filter(dataset_columns::id.eq_any(chunk))
                .order(dataset_columns::id)
                .select(ColumnSummary::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

pub fn find_column(conn: &mut AnyConnection, dataset_id: i64, column_id: i64) -> QueryResult<Option<DatasetColumn>> {
    dataset_columns::table
        .filter(dataset_columns::id.eq(column_id))
        .filter(dataset_columns::dataset_id.eq(dataset_id))
        .select(DatasetColumn::as_select())
        .first(conn)
        .optional()
}

/// A foreign key with the other dataset's identity, for the dataset page.
#[derive(Clone, Debug)]
pub struct ForeignKeyLink {
    pub foreign_key: ForeignKeySummary,
    pub other_id: i64,
    pub other_schema: String,
    pub other_name: String,
}

/// Foreign keys out of a dataset (it references others) and into it (others reference it).
pub fn foreign_keys_of(
    conn: &mut AnyConnection,
    dataset_id: i64,
) -> QueryResult<(Vec<ForeignKeyLink>, Vec<ForeignKeyLink>)> {
    let outgoing: Vec<(ForeignKeySummary, (i64, String, String))> = foreign_keys::table
        .inner_join(datasets::table.on(datasets::id.eq(foreign_keys::to_dataset_id)))
        .filter(foreign_keys::from_dataset_id.eq(dataset_id))
        .filter(foreign_keys::status.eq(ACTIVE))
        .order(foreign_keys::name)
        .select((ForeignKeySummary::as_select(), (datasets::id, datasets::schema_name, datasets::name)))
        .load(conn)?;
    let incoming: Vec<(ForeignKeySummary, (i64, String, String))> = foreign_keys::table
        .inner_join(datasets::table.on(datasets::id.eq(foreign_keys::from_dataset_id)))
        .filter(foreign_keys::to_dataset_id.eq(dataset_id))
        .filter(foreign_keys::status.eq(ACTIVE))
        .order((datasets::name, foreign_keys::name))
        .select((ForeignKeySummary::as_select(), (datasets::id, datasets::schema_name, datasets::name)))
        .load(conn)?;
    let link = |(foreign_key, (other_id, other_schema, other_name)): (ForeignKeySummary, (i64, String, String))| {
        ForeignKeyLink { foreign_key, other_id, other_schema, other_name }
    };
    Ok((outgoing.into_iter().map(link).collect(), incoming.into_iter().map(link).collect()))
}

pub fn update_dataset_details(
    conn: &mut AnyConnection,
    id: i64,
    description: Option<&str>,
    owner: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(datasets::table.find(id))
        .set((datasets::description.eq(description), datasets::owner.eq(owner), datasets::updated_at.eq(now)))
        .execute(conn)
}

pub fn update_column_description(
    conn: &mut AnyConnection,
    id: i64,
    description: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(dataset_columns::table.find(id))
        .set((dataset_columns::description.eq(description), dataset_columns::updated_at.eq(now)))
        .execute(conn)
}

/// Catalog-wide counts for the home page.
#[derive(Clone, Debug, Default)]
pub struct CatalogCounts {
    pub sources: i64,
    pub datasets: i64,
    pub columns: i64,
    pub removed_datasets: i64,
}

/// Counts kept on the sources by crawls, so the home page does not count a million rows.
pub fn catalog_counts(conn: &mut AnyConnection) -> QueryResult<CatalogCounts> {
    let rows: Vec<(i64, i64)> = sources::table.select((sources::dataset_count, sources::column_count)).load(conn)?;
    let removed_datasets = datasets::table.filter(datasets::status.eq(REMOVED)).count().get_result(conn)?;
    Ok(CatalogCounts {
        sources: rows.len() as i64,
        datasets: rows.iter().map(|r| r.0).sum(),
        columns: rows.iter().map(|r| r.1).sum(),
        removed_datasets,
    })
}

pub fn list_recently_changed_datasets(conn: &mut AnyConnection, limit: i64) -> QueryResult<Vec<DatasetListItem>> {
    // The newest ids first, from the (updated_at, id) index alone; then their rows.
    let ids: Vec<i64> = datasets::table
        .order((datasets::updated_at.desc(), datasets::id.desc()))
        .limit(limit)
        .select(datasets::id)
        .load(conn)?;
    let rows: Vec<(Dataset, String)> = datasets::table
        .inner_join(sources::table)
        .filter(datasets::id.eq_any(&ids))
        .order((datasets::updated_at.desc(), datasets::id.desc()))
        .select((Dataset::as_select(), sources::name))
        .load(conn)?;
    Ok(rows.into_iter().map(|(dataset, source_name)| DatasetListItem { dataset, source_name }).collect())
}

// ---------------------------------------------------------------------------------------------
// Applying a crawl

/// What one crawl changed in the catalog.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CrawlChanges {
    pub datasets_seen: i64,
    pub datasets_added: i64,
    pub datasets_changed: i64,
    pub datasets_removed: i64,
    pub columns_added: i64,
    pub columns_changed: i64,
    pub columns_removed: i64,
    pub foreign_keys_added: i64,
    pub foreign_keys_removed: i64,
}

impl CrawlChanges {
    /// Rows added, changed or removed.
    pub fn rows_changed(&self) -> i64 {
        self.datasets_added
            + self.datasets_changed
            + self.datasets_removed
            + self.columns_added
            + self.columns_changed
            + self.columns_removed
            + self.foreign_keys_added
            + self.foreign_keys_removed
    }

    pub fn is_empty(&self) -> bool {
        self.rows_changed() == 0
    }
}

/// Brings the catalog of one source in line with a snapshot of its target. New datasets and
/// columns are added, changed ones updated (descriptions and owners that people wrote are kept),
/// and ones that disappeared are marked removed, never deleted; applying the same snapshot twice
/// changes nothing the second time. `progress` is called with (done, total) datasets.
pub fn apply_snapshot(
    conn: &mut AnyConnection,
    source_id: i64,
    snapshot: &Snapshot,
    now: NaiveDateTime,
    progress: &mut dyn FnMut(u64, u64),
) -> QueryResult<CrawlChanges> {
    let mut changes = CrawlChanges { datasets_seen: snapshot.datasets.len() as i64, ..Default::default() };
    let total = snapshot.datasets.len() as u64;

    // Datasets.
    let existing: Vec<Dataset> =
        datasets::table.filter(datasets::source_id.eq(source_id)).select(Dataset::as_select()).load(conn)?;
    let mut by_name: HashMap<(String, String), Dataset> =
        existing.into_iter().map(|d| ((d.schema_name.clone(), d.name.clone()), d)).collect();
    let adopted = adopt_referenced(conn, &mut by_name, snapshot, now)?;
    let mut new_datasets = Vec::new();
    for snap in &snapshot.datasets {
        match by_name.get(&(snap.schema.clone(), snap.name.clone())) {
            None => new_datasets.push(NewDataset {
                source_id,
                schema_name: snap.schema.clone(),
                name: snap.name.clone(),
                kind: snap.kind.as_str().to_owned(),
                source_comment: snap.comment.clone(),
                definition: snap.definition.clone(),
                row_estimate: snap.row_estimate,
                status: ACTIVE.to_owned(),
                created_at: now,
                updated_at: now,
                last_crawled_at: Some(now),
            }),
            Some(current) => {
                if dataset_differs(current, snap) {
                    diesel::update(datasets::table.find(current.id))
                        .set((
                            datasets::kind.eq(snap.kind.as_str()),
                            datasets::source_comment.eq(&snap.comment),
                            datasets::definition.eq(&snap.definition),
                            datasets::status.eq(ACTIVE),
                            datasets::removed_at.eq(None::<NaiveDateTime>),
                            datasets::updated_at.eq(now),
                        ))
                        .execute(conn)?;
                    if adopted.contains(&current.id) {
                        changes.datasets_added += 1;
                    } else {
                        changes.datasets_changed += 1;
                    }
                }
                if current.row_estimate != snap.row_estimate {
                    // A statistic, not a change to the dataset: `updated_at` stays.
                    diesel::update(datasets::table.find(current.id))
                        .set(datasets::row_estimate.eq(snap.row_estimate))
                        .execute(conn)?;
                }
            }
        }
    }
    changes.datasets_added += new_datasets.len() as i64;
    for chunk in new_datasets.chunks(INSERT_CHUNK) {
        dialect::insert_datasets(conn, chunk)?;
    }
    if !new_datasets.is_empty() {
        let reloaded: Vec<Dataset> =
            datasets::table.filter(datasets::source_id.eq(source_id)).select(Dataset::as_select()).load(conn)?;
        by_name = reloaded.into_iter().map(|d| ((d.schema_name.clone(), d.name.clone()), d)).collect();
    }
    let seen: std::collections::HashSet<(&str, &str)> =
        snapshot.datasets.iter().map(|d| (d.schema.as_str(), d.name.as_str())).collect();
    let vanished: Vec<i64> = by_name
        .values()
        // A referenced dataset was never crawled: not finding it is no news.
        .filter(|d| {
            d.status == ACTIVE && d.kind != REFERENCED && !seen.contains(&(d.schema_name.as_str(), d.name.as_str()))
        })
        .map(|d| d.id)
        .collect();
    changes.datasets_removed = vanished.len() as i64;
    for chunk in vanished.chunks(INSERT_CHUNK) {
        diesel::update(datasets::table.filter(datasets::id.eq_any(chunk)))
            .set((datasets::status.eq(REMOVED), datasets::removed_at.eq(now), datasets::updated_at.eq(now)))
            .execute(conn)?;
        // A removed dataset's columns are gone with it (they come back with it, through the
        // column comparison below).
        diesel::update(
            dataset_columns::table
                .filter(dataset_columns::dataset_id.eq_any(chunk))
                .filter(dataset_columns::status.eq(ACTIVE)),
        )
        .set((
            dataset_columns::status.eq(REMOVED),
            dataset_columns::removed_at.eq(now),
            dataset_columns::updated_at.eq(now),
        ))
        .execute(conn)?;
        diesel::update(
            foreign_keys::table
                .filter(foreign_keys::from_dataset_id.eq_any(chunk).or(foreign_keys::to_dataset_id.eq_any(chunk))),
        )
        .set((foreign_keys::status.eq(REMOVED), foreign_keys::updated_at.eq(now)))
        .execute(conn)?;
    }
    diesel::update(
        datasets::table
            .filter(datasets::source_id.eq(source_id))
            .filter(datasets::status.eq(ACTIVE))
            .filter(datasets::kind.ne(REFERENCED)),
    )
    .set(datasets::last_crawled_at.eq(now))
    .execute(conn)?;

    // Columns.
    let existing_columns: Vec<DatasetColumn> = dataset_columns::table
        .inner_join(datasets::table)
        .filter(datasets::source_id.eq(source_id))
        .select(DatasetColumn::as_select())
        .load(conn)?;
    let mut columns_by_dataset: HashMap<i64, HashMap<String, DatasetColumn>> = HashMap::new();
    for c in existing_columns {
        columns_by_dataset.entry(c.dataset_id).or_default().insert(c.name.clone(), c);
    }
    let added: std::collections::HashSet<(&str, &str)> =
        new_datasets.iter().map(|d| (d.schema_name.as_str(), d.name.as_str())).collect();
    let mut new_columns = Vec::new();
    let mut touched_datasets: Vec<i64> = Vec::new();
    for (done, snap) in snapshot.datasets.iter().enumerate() {
        let Some(dataset) = by_name.get(&(snap.schema.clone(), snap.name.clone())) else {
            continue;
        };
        let mut current = columns_by_dataset.remove(&dataset.id).unwrap_or_default();
        if adopted.contains(&dataset.id) {
            adopt_referenced_columns(conn, &mut current, &snap.columns, now)?;
        }
        let mut dataset_touched = false;
        for (i, col) in snap.columns.iter().enumerate() {
            let ordinal = i as i32 + 1;
            match current.get(&col.name) {
                None => {
                    new_columns.push(NewColumn {
                        dataset_id: dataset.id,
                        ordinal,
                        name: col.name.clone(),
                        data_type: col.data_type.clone(),
                        nullable: col.nullable,
                        is_primary_key: col.is_primary_key,
                        default_value: col.default_value.clone(),
                        source_comment: col.comment.clone(),
                        status: ACTIVE.to_owned(),
                        created_at: now,
                        updated_at: now,
                    });
                    dataset_touched = true;
                }
                Some(existing) if column_differs(existing, col, ordinal) => {
                    diesel::update(dataset_columns::table.find(existing.id))
                        .set((
                            dataset_columns::ordinal.eq(ordinal),
                            dataset_columns::data_type.eq(&col.data_type),
                            dataset_columns::nullable.eq(col.nullable),
                            dataset_columns::is_primary_key.eq(col.is_primary_key),
                            dataset_columns::default_value.eq(&col.default_value),
                            dataset_columns::source_comment.eq(&col.comment),
                            dataset_columns::status.eq(ACTIVE),
                            dataset_columns::removed_at.eq(None::<NaiveDateTime>),
                            dataset_columns::updated_at.eq(now),
                        ))
                        .execute(conn)?;
                    // A column lineage revealed before any crawl (no type yet) is new to the crawl.
                    if adopted.contains(&dataset.id) && existing.data_type.is_empty() {
                        changes.columns_added += 1;
                    } else {
                        changes.columns_changed += 1;
                    }
                    dataset_touched = true;
                }
                Some(_) => {}
            }
        }
        let names: std::collections::HashSet<&str> = snap.columns.iter().map(|c| c.name.as_str()).collect();
        let gone: Vec<i64> =
            current.values().filter(|c| c.status == ACTIVE && !names.contains(c.name.as_str())).map(|c| c.id).collect();
        if !gone.is_empty() {
            diesel::update(dataset_columns::table.filter(dataset_columns::id.eq_any(&gone)))
                .set((
                    dataset_columns::status.eq(REMOVED),
                    dataset_columns::removed_at.eq(now),
                    dataset_columns::updated_at.eq(now),
                ))
                .execute(conn)?;
            changes.columns_removed += gone.len() as i64;
            dataset_touched = true;
        }
        // A dataset whose columns changed has changed (for "recently changed"), unless it is new.
        if dataset_touched && !added.contains(&(snap.schema.as_str(), snap.name.as_str())) {
            touched_datasets.push(dataset.id);
        }
        if done % 100 == 99 {
            progress(done as u64 + 1, total);
        }
    }
    changes.columns_added = new_columns.len() as i64;
    for chunk in new_columns.chunks(INSERT_CHUNK) {
        dialect::insert_columns(conn, chunk)?;
    }
    for chunk in touched_datasets.chunks(INSERT_CHUNK) {
        diesel::update(datasets::table.filter(datasets::id.eq_any(chunk)))
            .set(datasets::updated_at.eq(now))
            .execute(conn)?;
    }

    // Foreign keys.
    let existing_fks: Vec<ForeignKey> =
        foreign_keys::table.filter(foreign_keys::source_id.eq(source_id)).select(ForeignKey::as_select()).load(conn)?;
    let mut fks_by_key: HashMap<(i64, String), ForeignKey> =
        existing_fks.into_iter().map(|fk| ((fk.from_dataset_id, fk.name.clone()), fk)).collect();
    let mut new_fks = Vec::new();
    let mut kept_fks = std::collections::HashSet::new();
    for fk in &snapshot.foreign_keys {
        let (Some(from), Some(to)) = (
            by_name.get(&(fk.from_schema.clone(), fk.from_table.clone())),
            by_name.get(&(fk.to_schema.clone(), fk.to_table.clone())),
        ) else {
            continue;
        };
        let from_columns = json_list(&fk.from_columns);
        let to_columns = json_list(&fk.to_columns);
        match fks_by_key.remove(&(from.id, fk.name.clone())) {
            None => new_fks.push(NewForeignKey {
                source_id,
                name: fk.name.clone(),
                from_dataset_id: from.id,
                from_columns,
                to_dataset_id: to.id,
                to_columns,
                status: ACTIVE.to_owned(),
                created_at: now,
                updated_at: now,
            }),
            Some(existing) => {
                kept_fks.insert(existing.id);
                if existing.to_dataset_id != to.id
                    || existing.from_columns != from_columns
                    || existing.to_columns != to_columns
                    || existing.status != ACTIVE
                {
                    diesel::update(foreign_keys::table.find(existing.id))
                        .set((
                            foreign_keys::to_dataset_id.eq(to.id),
                            foreign_keys::from_columns.eq(&from_columns),
                            foreign_keys::to_columns.eq(&to_columns),
                            foreign_keys::status.eq(ACTIVE),
                            foreign_keys::updated_at.eq(now),
                        ))
                        .execute(conn)?;
                    changes.foreign_keys_added += 1;
                }
            }
        }
    }
    changes.foreign_keys_added += new_fks.len() as i64;
    for chunk in new_fks.chunks(INSERT_CHUNK) {
        dialect::insert_foreign_keys(conn, chunk)?;
    }
    let dropped_fks: Vec<i64> = fks_by_key.values().filter(|fk| fk.status == ACTIVE).map(|fk| fk.id).collect();
    changes.foreign_keys_removed = dropped_fks.len() as i64;
    for chunk in dropped_fks.chunks(INSERT_CHUNK) {
        diesel::update(foreign_keys::table.filter(foreign_keys::id.eq_any(chunk)))
            .set((foreign_keys::status.eq(REMOVED), foreign_keys::updated_at.eq(now)))
            .execute(conn)?;
    }

    let dataset_count: i64 = datasets::table
        .filter(datasets::source_id.eq(source_id))
        .filter(datasets::status.eq(ACTIVE))
        .count()
        .get_result(conn)?;
    let column_count: i64 = dataset_columns::table
        .inner_join(datasets::table)
        .filter(datasets::source_id.eq(source_id))
        .filter(dataset_columns::status.eq(ACTIVE))
        .count()
        .get_result(conn)?;
    diesel::update(sources::table.find(source_id))
        .set((
            sources::last_crawled_at.eq(now),
            sources::dataset_count.eq(dataset_count),
            sources::column_count.eq(column_count),
        ))
        .execute(conn)?;
    progress(total, total);
    Ok(changes)
}

/// Datasets that pipeline SQL named before any crawl found them (kind `referenced`) become the
/// crawled datasets of the same schema and name, keeping their ids so that lineage edges stay.
/// Names match exactly, or ignoring case (a referenced dataset then takes the crawled spelling).
/// Returns the ids adopted; `by_name` is updated for renamed ones.
fn adopt_referenced(
    conn: &mut AnyConnection,
    by_name: &mut HashMap<(String, String), Dataset>,
    snapshot: &Snapshot,
    now: NaiveDateTime,
) -> QueryResult<std::collections::HashSet<i64>> {
    let mut adopted = std::collections::HashSet::new();
    if !by_name.values().any(|d| d.kind == REFERENCED) {
        return Ok(adopted);
    }
    let fold = |schema: &str, name: &str| (schema.to_lowercase(), name.to_lowercase());
    let mut referenced: HashMap<(String, String), Vec<(String, String)>> = HashMap::new();
    for d in by_name.values().filter(|d| d.kind == REFERENCED) {
        referenced.entry(fold(&d.schema_name, &d.name)).or_default().push((d.schema_name.clone(), d.name.clone()));
    }
    let crawled: std::collections::HashSet<(&str, &str)> =
        snapshot.datasets.iter().map(|d| (d.schema.as_str(), d.name.as_str())).collect();
    for candidates in referenced.values_mut() {
        candidates.retain(|(schema, name)| !crawled.contains(&(schema.as_str(), name.as_str())));
    }
    for snap in &snapshot.datasets {
        let key = (snap.schema.clone(), snap.name.clone());
        if let Some(d) = by_name.get(&key) {
            if d.kind == REFERENCED {
                adopted.insert(d.id);
            }
            continue;
        }
        let Some(candidates) = referenced.get_mut(&fold(&snap.schema, &snap.name)) else { continue };
        let Some(old_key) = candidates.pop() else { continue };
        let Some(mut dataset) = by_name.remove(&old_key) else { continue };
        diesel::update(datasets::table.find(dataset.id))
            .set((datasets::schema_name.eq(&snap.schema), datasets::name.eq(&snap.name), datasets::updated_at.eq(now)))
            .execute(conn)?;
        dataset.schema_name = snap.schema.clone();
        dataset.name = snap.name.clone();
        adopted.insert(dataset.id);
        by_name.insert(key, dataset);
    }
    Ok(adopted)
}

/// Columns of an adopted dataset that lineage revealed in another case than the crawl's take the
/// crawled spelling, keeping their ids.
fn adopt_referenced_columns(
    conn: &mut AnyConnection,
    current: &mut HashMap<String, DatasetColumn>,
    crawled: &[SnapshotColumn],
    now: NaiveDateTime,
) -> QueryResult<()> {
    let exact: std::collections::HashSet<&str> = crawled.iter().map(|c| c.name.as_str()).collect();
    for col in crawled {
        if current.contains_key(&col.name) {
            continue;
        }
        let old =
            current.keys().find(|name| name.eq_ignore_ascii_case(&col.name) && !exact.contains(name.as_str())).cloned();
        let Some(mut column) = old.and_then(|name| current.remove(&name)) else { continue };
        diesel::update(dataset_columns::table.find(column.id))
            .set((dataset_columns::name.eq(&col.name), dataset_columns::updated_at.eq(now)))
            .execute(conn)?;
        column.name = col.name.clone();
        current.insert(col.name.clone(), column);
    }
    Ok(())
}

fn dataset_differs(current: &Dataset, snap: &SnapshotDataset) -> bool {
    current.kind != snap.kind.as_str()
        || current.source_comment != snap.comment
        || current.definition != snap.definition
        || current.status != ACTIVE
}

fn column_differs(current: &DatasetColumn, snap: &SnapshotColumn, ordinal: i32) -> bool {
    current.ordinal != ordinal
        || current.data_type != snap.data_type
        || current.nullable != snap.nullable
        || current.is_primary_key != snap.is_primary_key
        || current.default_value != snap.default_value
        || current.source_comment != snap.comment
        || current.status != ACTIVE
}

/// Column names as a JSON array (how foreign keys store them).
pub fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}

/// Parses a JSON array of column names; malformed data reads as empty.
pub fn parse_json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// Jobs waiting for a worker, by kind: queued crawls and scans, erasure runs, purges.
pub fn queue_depths(conn: &mut AnyConnection) -> QueryResult<Vec<(&'static str, i64)>> {
    use super::schema::{erasure_runs, retention_runs};
    let crawls: i64 = crawl_runs::table.filter(crawl_runs::status.eq("queued")).count().get_result(conn)?;
    let erasures: i64 = erasure_runs::table.filter(erasure_runs::status.eq("queued")).count().get_result(conn)?;
    let purges: i64 = retention_runs::table.filter(retention_runs::status.eq("queued")).count().get_result(conn)?;
    Ok(vec![("crawl", crawls), ("erasure", erasures), ("retention", purges)])
}
