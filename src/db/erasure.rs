//! Repository of erasure requests, their plans (steps), runs (worker jobs), recipients to
//! notify, receipts, per-dataset actions and legal holds; and the classified columns a plan
//! starts from. Functions take a connection; the caller owns the transaction.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::AnyConnection;
use super::dialect;
use super::propagation::{self as prop, PropagatedTag};
use super::schema::{
    column_classifications, column_lineage_edges, dataset_columns, dataset_erasure_actions, datasets,
    erasure_notifications, erasure_receipts, erasure_requests, erasure_runs, erasure_steps, identifier_types,
    legal_holds, sources,
};

const CHUNK: usize = 500;

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = erasure_requests)]
pub struct Request {
    pub id: i64,
    pub identifier_type: String,
    pub subject_hmac: String,
    pub sealed_subject: Option<String>,
    pub received_on: NaiveDate,
    pub due_on: NaiveDate,
    pub original_due_on: NaiveDate,
    pub extension_reason: Option<String>,
    pub extended_by: Option<String>,
    pub extended_at: Option<NaiveDateTime>,
    pub channel: String,
    pub requester_ref: Option<String>,
    pub idempotency_key: Option<String>,
    pub notes: Option<String>,
    pub status: String,
    pub status_reason: Option<String>,
    pub submitted_by: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
}

#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = erasure_requests)]
pub struct NewRequest {
    pub identifier_type: String,
    pub subject_hmac: String,
    pub sealed_subject: Option<String>,
    pub received_on: NaiveDate,
    pub due_on: NaiveDate,
    pub original_due_on: NaiveDate,
    pub channel: String,
    pub requester_ref: Option<String>,
    pub idempotency_key: Option<String>,
    pub notes: Option<String>,
    pub status: String,
    pub submitted_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert_request(conn: &mut AnyConnection, new: &NewRequest) -> QueryResult<Request> {
    let id = dialect::insert_erasure_request(conn, new)?;
    erasure_requests::table.find(id).select(Request::as_select()).first(conn)
}

pub fn find_request(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<Request>> {
    erasure_requests::table.find(id).select(Request::as_select()).first(conn).optional()
}

pub fn find_by_idempotency_key(conn: &mut AnyConnection, key: &str) -> QueryResult<Option<Request>> {
    erasure_requests::table
        .filter(erasure_requests::idempotency_key.eq(key))
        .select(Request::as_select())
        .first(conn)
        .optional()
}

/// Open requests of the same subject (E15: one erasure per subject at a time).
pub fn open_requests_of_subject(
    conn: &mut AnyConnection,
    identifier_type: &str,
    hmac: &str,
) -> QueryResult<Vec<Request>> {
    erasure_requests::table
        .filter(erasure_requests::identifier_type.eq(identifier_type))
        .filter(erasure_requests::subject_hmac.eq(hmac))
        .filter(erasure_requests::ended_at.is_null())
        .select(Request::as_select())
        .load(conn)
}

/// Requests, open ones first by due date (overdue first), then ended ones newest first.
pub fn list_requests(conn: &mut AnyConnection, limit: i64) -> QueryResult<Vec<Request>> {
    let mut open: Vec<Request> = erasure_requests::table
        .filter(erasure_requests::ended_at.is_null())
        .order((erasure_requests::due_on, erasure_requests::id))
        .limit(limit)
        .select(Request::as_select())
        .load(conn)?;
    let ended: Vec<Request> = erasure_requests::table
        .filter(erasure_requests::ended_at.is_not_null())
        .order(erasure_requests::id.desc())
        .limit(limit)
        .select(Request::as_select())
        .load(conn)?;
    open.extend(ended);
    Ok(open)
}

/// Moves a request from one of `from` to `to`; false when it was in another state (someone
/// else moved it first).
pub fn transition(
    conn: &mut AnyConnection,
    id: i64,
    from: &[&str],
    to: &str,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(erasure_requests::table.find(id).filter(erasure_requests::status.eq_any(from)))
        .set((
            erasure_requests::status.eq(to),
            erasure_requests::status_reason.eq(reason),
            erasure_requests::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn set_approval(
    conn: &mut AnyConnection,
    id: i64,
    by: Option<&str>,
    at: Option<NaiveDateTime>,
) -> QueryResult<usize> {
    diesel::update(erasure_requests::table.find(id))
        .set((erasure_requests::approved_by.eq(by), erasure_requests::approved_at.eq(at)))
        .execute(conn)
}

pub fn set_sealed_subject(conn: &mut AnyConnection, id: i64, sealed: Option<&str>) -> QueryResult<usize> {
    diesel::update(erasure_requests::table.find(id)).set(erasure_requests::sealed_subject.eq(sealed)).execute(conn)
}

/// Ends a request: records when, and erases the sealed working copy (E19).
pub fn end_request(conn: &mut AnyConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(erasure_requests::table.find(id))
        .set((erasure_requests::ended_at.eq(now), erasure_requests::sealed_subject.eq(None::<String>)))
        .execute(conn)
}

pub fn set_extension(
    conn: &mut AnyConnection,
    id: i64,
    due: NaiveDate,
    reason: &str,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(erasure_requests::table.find(id))
        .set((
            erasure_requests::due_on.eq(due),
            erasure_requests::extension_reason.eq(reason),
            erasure_requests::extended_by.eq(by),
            erasure_requests::extended_at.eq(now),
            erasure_requests::updated_at.eq(now),
        ))
        .execute(conn)
}

// ---------------------------------------------------------------------------------------------
// Steps

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = erasure_steps)]
pub struct Step {
    pub id: i64,
    pub request_id: i64,
    pub position: i32,
    pub source_id: i64,
    pub dataset_id: i64,
    pub schema_name: String,
    pub table_name: String,
    pub action: String,
    pub predicate: String,
    pub masks: String,
    pub reached_via: String,
    pub hold_basis: Option<String>,
    pub fingerprint: String,
    pub expected_rows: i64,
    pub status: String,
    pub affected_rows: i64,
    pub remaining_rows: Option<i64>,
    pub verification: Option<String>,
    pub attempts: i32,
    pub error: Option<String>,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
}

#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = erasure_steps)]
pub struct NewStep {
    pub request_id: i64,
    pub position: i32,
    pub source_id: i64,
    pub dataset_id: i64,
    pub schema_name: String,
    pub table_name: String,
    pub action: String,
    pub predicate: String,
    pub masks: String,
    pub reached_via: String,
    pub hold_basis: Option<String>,
    pub fingerprint: String,
    pub expected_rows: i64,
    pub status: String,
}

/// Replaces a request's plan.
pub fn replace_steps(conn: &mut AnyConnection, request_id: i64, steps: &[NewStep]) -> QueryResult<()> {
    diesel::delete(erasure_steps::table.filter(erasure_steps::request_id.eq(request_id))).execute(conn)?;
    for chunk in steps.chunks(100) {
        dialect::insert_erasure_steps(conn, chunk)?;
    }
    Ok(())
}

pub fn steps_of(conn: &mut AnyConnection, request_id: i64) -> QueryResult<Vec<Step>> {
    erasure_steps::table
        .filter(erasure_steps::request_id.eq(request_id))
        .order(erasure_steps::position)
        .select(Step::as_select())
        .load(conn)
}

/// Marks a step as started (another attempt).
pub fn start_step(conn: &mut AnyConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(erasure_steps::table.find(id))
        .set((
            erasure_steps::status.eq("running"),
            erasure_steps::attempts.eq(erasure_steps::attempts + 1),
            erasure_steps::started_at.eq(now),
            erasure_steps::error.eq(None::<String>),
        ))
        .execute(conn)
}

/// Records a step's end: its status, the rows it changed in this attempt (added to earlier
/// attempts'), what verification found, and any error.
#[allow(clippy::too_many_arguments)]
pub fn finish_step(
    conn: &mut AnyConnection,
    id: i64,
    status: &str,
    affected: i64,
    remaining: Option<i64>,
    verification: Option<&str>,
    error: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(erasure_steps::table.find(id))
        .set((
            erasure_steps::status.eq(status),
            erasure_steps::affected_rows.eq(erasure_steps::affected_rows + affected),
            erasure_steps::remaining_rows.eq(remaining),
            erasure_steps::verification.eq(verification),
            erasure_steps::error.eq(error),
            erasure_steps::finished_at.eq(now),
        ))
        .execute(conn)
}

/// Puts failed or interrupted steps back to pending (a new run retries them).
pub fn reset_unfinished_steps(conn: &mut AnyConnection, request_id: i64) -> QueryResult<usize> {
    diesel::update(
        erasure_steps::table
            .filter(erasure_steps::request_id.eq(request_id))
            .filter(erasure_steps::status.eq_any(["failed", "running"])),
    )
    .set(erasure_steps::status.eq("pending"))
    .execute(conn)
}

// ---------------------------------------------------------------------------------------------
// Runs (worker jobs)

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = erasure_runs)]
pub struct Run {
    pub id: i64,
    pub request_id: i64,
    pub mode: String,
    pub status: String,
    pub lease: i32,
    pub claimed_by: Option<String>,
    pub heartbeat_at: Option<NaiveDateTime>,
    pub attempts: i32,
    pub not_before: NaiveDateTime,
    pub error: Option<String>,
    pub requested_by: String,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
}

pub fn enqueue_run(
    conn: &mut AnyConnection,
    request_id: i64,
    mode: &str,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<Run> {
    let id = dialect::insert_erasure_run(conn, request_id, mode, by, now)?;
    erasure_runs::table.find(id).select(Run::as_select()).first(conn)
}

/// The request's run that is queued or running, if any.
pub fn active_run(conn: &mut AnyConnection, request_id: i64) -> QueryResult<Option<Run>> {
    erasure_runs::table
        .filter(erasure_runs::request_id.eq(request_id))
        .filter(erasure_runs::status.eq_any(["queued", "running"]))
        .select(Run::as_select())
        .first(conn)
        .optional()
}

pub fn runs_of(conn: &mut AnyConnection, request_id: i64) -> QueryResult<Vec<Run>> {
    erasure_runs::table
        .filter(erasure_runs::request_id.eq(request_id))
        .order(erasure_runs::id)
        .select(Run::as_select())
        .load(conn)
}

super::dialect::run_queue!(erasure_runs, Run);

/// Ends a run held under `lease`: `done`, or `failed` with its error.
pub fn finish_run(
    conn: &mut AnyConnection,
    run_id: i64,
    lease: i32,
    status: &str,
    error: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(erasure_runs::table.find(run_id).filter(erasure_runs::lease.eq(lease)))
        .set((erasure_runs::status.eq(status), erasure_runs::error.eq(error), erasure_runs::finished_at.eq(now)))
        .execute(conn)?;
    Ok(n == 1)
}

// ---------------------------------------------------------------------------------------------
// Recipients and receipts

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = erasure_notifications)]
pub struct Notification {
    pub id: i64,
    pub request_id: i64,
    pub dataset_id: i64,
    pub recipient: String,
    pub status: String,
    pub updated_by: Option<String>,
    pub updated_at: NaiveDateTime,
}

pub fn replace_notifications(
    conn: &mut AnyConnection,
    request_id: i64,
    recipients: &[(i64, String)],
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(erasure_notifications::table.filter(erasure_notifications::request_id.eq(request_id)))
        .execute(conn)?;
    for (dataset_id, name) in recipients {
        diesel::insert_into(erasure_notifications::table)
            .values((
                erasure_notifications::request_id.eq(request_id),
                erasure_notifications::dataset_id.eq(dataset_id),
                erasure_notifications::recipient.eq(name),
                erasure_notifications::status.eq("open"),
                erasure_notifications::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn notifications_of(conn: &mut AnyConnection, request_id: i64) -> QueryResult<Vec<Notification>> {
    erasure_notifications::table
        .filter(erasure_notifications::request_id.eq(request_id))
        .order(erasure_notifications::id)
        .select(Notification::as_select())
        .load(conn)
}

pub fn set_notification(
    conn: &mut AnyConnection,
    request_id: i64,
    id: i64,
    status: &str,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        erasure_notifications::table
            .filter(erasure_notifications::id.eq(id))
            .filter(erasure_notifications::request_id.eq(request_id)),
    )
    .set((
        erasure_notifications::status.eq(status),
        erasure_notifications::updated_by.eq(by),
        erasure_notifications::updated_at.eq(now),
    ))
    .execute(conn)
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = erasure_receipts)]
pub struct StoredReceipt {
    pub request_id: i64,
    pub body: String,
    pub signature: String,
    pub public_key: String,
    pub created_at: NaiveDateTime,
}

/// Stores the signed receipt file (`body` is the whole file's text).
pub fn insert_receipt(
    conn: &mut AnyConnection,
    request_id: i64,
    file: &str,
    public_key: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(erasure_receipts::table)
        .values((
            erasure_receipts::request_id.eq(request_id),
            erasure_receipts::body.eq(file),
            erasure_receipts::signature.eq(""),
            erasure_receipts::public_key.eq(public_key),
            erasure_receipts::created_at.eq(now),
        ))
        .execute(conn)
}

pub fn receipt_of(conn: &mut AnyConnection, request_id: i64) -> QueryResult<Option<StoredReceipt>> {
    erasure_receipts::table.find(request_id).select(StoredReceipt::as_select()).first(conn).optional()
}

// ---------------------------------------------------------------------------------------------
// Per-dataset actions and holds

pub fn dataset_actions(conn: &mut AnyConnection) -> QueryResult<HashMap<i64, String>> {
    Ok(dataset_erasure_actions::table
        .select((dataset_erasure_actions::dataset_id, dataset_erasure_actions::action))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

pub fn set_dataset_action(
    conn: &mut AnyConnection,
    dataset_id: i64,
    action: &str,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(dataset_erasure_actions::table.find(dataset_id)).execute(conn)?;
    diesel::insert_into(dataset_erasure_actions::table)
        .values((
            dataset_erasure_actions::dataset_id.eq(dataset_id),
            dataset_erasure_actions::action.eq(action),
            dataset_erasure_actions::updated_by.eq(by),
            dataset_erasure_actions::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = legal_holds)]
pub struct Hold {
    pub id: i64,
    pub scope: String,
    pub scope_id: Option<i64>,
    pub identifier_type: Option<String>,
    pub subject_hmac: Option<String>,
    pub basis: String,
    pub reason: String,
    pub ends_on: Option<NaiveDate>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub released_by: Option<String>,
    pub released_at: Option<NaiveDateTime>,
}

#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = legal_holds)]
pub struct NewHold {
    pub scope: String,
    pub scope_id: Option<i64>,
    pub identifier_type: Option<String>,
    pub subject_hmac: Option<String>,
    pub basis: String,
    pub reason: String,
    pub ends_on: Option<NaiveDate>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_hold(conn: &mut AnyConnection, hold: &NewHold) -> QueryResult<Hold> {
    let id = dialect::insert_legal_hold(conn, hold)?;
    legal_holds::table.find(id).select(Hold::as_select()).first(conn)
}

/// The ids of a dataset's columns.
pub fn column_ids_of(conn: &mut AnyConnection, dataset_id: i64) -> QueryResult<Vec<i64>> {
    dataset_columns::table.filter(dataset_columns::dataset_id.eq(dataset_id)).select(dataset_columns::id).load(conn)
}

/// Holds in force on `today`.
pub fn active_holds(conn: &mut AnyConnection, today: NaiveDate) -> QueryResult<Vec<Hold>> {
    legal_holds::table
        .filter(legal_holds::released_at.is_null())
        .filter(legal_holds::ends_on.is_null().or(legal_holds::ends_on.ge(today)))
        .order(legal_holds::id)
        .select(Hold::as_select())
        .load(conn)
}

// ---------------------------------------------------------------------------------------------
// What a plan reads from the catalog

/// A dataset a plan may reach.
#[derive(Queryable, Clone, Debug)]
pub struct DatasetRow {
    pub id: i64,
    pub source_id: i64,
    pub schema_name: String,
    pub name: String,
    pub kind: String,
}

/// A column of such a dataset, with its classification summary.
#[derive(Queryable, Clone, Debug)]
pub struct ColumnRow {
    pub id: i64,
    pub dataset_id: i64,
    pub name: String,
    pub data_type: String,
    pub nullable: bool,
    pub personal_data: bool,
    pub identifier_type: Option<String>,
}

/// Sources holding any personal data or identifier column.
pub fn sources_with_personal_data(conn: &mut AnyConnection) -> QueryResult<Vec<i64>> {
    let ids: Vec<i64> = datasets::table
        .inner_join(dataset_columns::table)
        .filter(datasets::status.eq(super::models::ACTIVE))
        .filter(dataset_columns::status.eq(super::models::ACTIVE))
        .filter(dataset_columns::personal_data.eq(true).or(dataset_columns::identifier_type.is_not_null()))
        .select(datasets::source_id)
        .distinct()
        .load(conn)?;
    Ok(ids)
}

pub fn source_names(conn: &mut AnyConnection) -> QueryResult<HashMap<i64, (String, String)>> {
    Ok(sources::table
        .select((sources::id, sources::name, sources::kind))
        .load::<(i64, String, String)>(conn)?
        .into_iter()
        .map(|(id, name, kind)| (id, (name, kind)))
        .collect())
}

pub fn datasets_of_sources(conn: &mut AnyConnection, source_ids: &[i64]) -> QueryResult<Vec<DatasetRow>> {
    datasets::table
        .filter(datasets::source_id.eq_any(source_ids))
        .filter(datasets::status.eq(super::models::ACTIVE))
        .order(datasets::id)
        .select((datasets::id, datasets::source_id, datasets::schema_name, datasets::name, datasets::kind))
        .load(conn)
}

pub fn columns_of_datasets(conn: &mut AnyConnection, dataset_ids: &[i64]) -> QueryResult<Vec<ColumnRow>> {
    let mut out = Vec::new();
    for chunk in dataset_ids.chunks(CHUNK) {
        out.extend(
            dataset_columns::table
                .filter(dataset_columns::dataset_id.eq_any(chunk))
                .filter(dataset_columns::status.eq(super::models::ACTIVE))
                .order((dataset_columns::dataset_id, dataset_columns::ordinal))
                .select((
                    dataset_columns::id,
                    dataset_columns::dataset_id,
                    dataset_columns::name,
                    dataset_columns::data_type,
                    dataset_columns::nullable,
                    dataset_columns::personal_data,
                    dataset_columns::identifier_type,
                ))
                .load::<ColumnRow>(conn)?,
        );
    }
    Ok(out)
}

/// Columns whose identifier mark is their own (not propagated).
pub fn own_identifier_columns(conn: &mut AnyConnection, column_ids: &[i64]) -> QueryResult<HashMap<i64, String>> {
    let mut out = HashMap::new();
    for chunk in column_ids.chunks(CHUNK) {
        out.extend(
            column_classifications::table
                .inner_join(
                    identifier_types::table
                        .on(identifier_types::id.nullable().eq(column_classifications::identifier_type_id)),
                )
                .filter(column_classifications::column_id.eq_any(chunk))
                .select((column_classifications::column_id, identifier_types::key))
                .load::<(i64, String)>(conn)?,
        );
    }
    Ok(out)
}

/// Identifier type keys by id.
pub fn identifier_keys(conn: &mut AnyConnection) -> QueryResult<HashMap<i64, String>> {
    Ok(identifier_types::table
        .select((identifier_types::id, identifier_types::key))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

pub fn propagated_tags_of(conn: &mut AnyConnection, column_ids: &[i64]) -> QueryResult<Vec<PropagatedTag>> {
    prop::propagated_of(conn, Some(column_ids))
}

/// Column pairs joined by a lineage edge that keeps values as they are (a copy).
pub fn copy_pairs(conn: &mut AnyConnection, into: &BTreeSet<i64>) -> QueryResult<HashSet<(i64, i64)>> {
    let ids: Vec<i64> = into.iter().copied().collect();
    let mut out = HashSet::new();
    for chunk in ids.chunks(CHUNK) {
        out.extend(
            column_lineage_edges::table
                .filter(column_lineage_edges::to_column_id.eq_any(chunk))
                .filter(column_lineage_edges::kind.eq_any(["copy", "identity"]))
                .select((column_lineage_edges::from_column_id, column_lineage_edges::to_column_id))
                .load::<(i64, i64)>(conn)?,
        );
    }
    Ok(out)
}

/// A recorded derivation: (to column, from column, expression template, JSON key).
pub type DerivationRow = (i64, i64, Option<String>, Option<String>);

/// Recorded derivations into these columns.
pub fn derivations_into(conn: &mut AnyConnection, column_ids: &[i64]) -> QueryResult<Vec<DerivationRow>> {
    let mut out = Vec::new();
    for chunk in column_ids.chunks(CHUNK) {
        out.extend(
            column_lineage_edges::table
                .filter(column_lineage_edges::to_column_id.eq_any(chunk))
                .filter(column_lineage_edges::expression.is_not_null().or(column_lineage_edges::json_key.is_not_null()))
                .select((
                    column_lineage_edges::to_column_id,
                    column_lineage_edges::from_column_id,
                    column_lineage_edges::expression,
                    column_lineage_edges::json_key,
                ))
                .load::<DerivationRow>(conn)?,
        );
    }
    Ok(out)
}

/// Table-level lineage into external datasets (exports): (from dataset, external dataset).
pub fn exports(conn: &mut AnyConnection) -> QueryResult<Vec<(i64, i64)>> {
    use super::schema::lineage_edges;
    lineage_edges::table
        .inner_join(datasets::table.on(datasets::id.eq(lineage_edges::to_dataset_id)))
        .filter(datasets::kind.eq(super::lineage::EXTERNAL))
        .select((lineage_edges::from_dataset_id, lineage_edges::to_dataset_id))
        .distinct()
        .load(conn)
}
