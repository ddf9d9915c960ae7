//! Repository of retention: policies, where they are assigned, the timestamp column of each
//! dataset, purge runs (worker jobs, like erasure runs) and their steps, and the legal holds'
//! listing and release. Functions take a connection; the caller owns the transaction.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::AnyConnection;
use super::dialect;
use super::schema::{
    dataset_timestamps, legal_holds, retention_assignments, retention_policies, retention_runs, retention_steps,
};

// ---------------------------------------------------------------------------------------------
// Policies and assignments

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = retention_policies)]
pub struct Policy {
    pub id: i64,
    pub name: String,
    pub period: String,
    pub action: String,
    pub mask_columns: String,
    pub legal_basis: String,
    pub description: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Policy {
    /// The columns a mask policy names (none: every personal-data column of the dataset).
    pub fn mask_column_names(&self) -> Vec<String> {
        self.mask_columns.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
    }
}

#[derive(Insertable, AsChangeset, Clone, Debug)]
#[diesel(table_name = retention_policies)]
pub struct NewPolicy {
    pub name: String,
    pub period: String,
    pub action: String,
    pub mask_columns: String,
    pub legal_basis: String,
    pub description: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn list_policies(conn: &mut AnyConnection) -> QueryResult<Vec<Policy>> {
    retention_policies::table.order(retention_policies::name).select(Policy::as_select()).load(conn)
}

pub fn find_policy(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<Policy>> {
    retention_policies::table.find(id).select(Policy::as_select()).first(conn).optional()
}

pub fn find_policy_by_name(conn: &mut AnyConnection, name: &str) -> QueryResult<Option<Policy>> {
    retention_policies::table
        .filter(retention_policies::name.eq(name))
        .select(Policy::as_select())
        .first(conn)
        .optional()
}

pub fn insert_policy(conn: &mut AnyConnection, policy: &NewPolicy) -> QueryResult<i64> {
    dialect::insert_retention_policy(conn, policy)
}

/// Updates a policy's terms (not its author or creation time).
pub fn update_policy(conn: &mut AnyConnection, id: i64, policy: &NewPolicy) -> QueryResult<usize> {
    diesel::update(retention_policies::table.find(id))
        .set((
            retention_policies::name.eq(&policy.name),
            retention_policies::period.eq(&policy.period),
            retention_policies::action.eq(&policy.action),
            retention_policies::mask_columns.eq(&policy.mask_columns),
            retention_policies::legal_basis.eq(&policy.legal_basis),
            retention_policies::description.eq(&policy.description),
            retention_policies::updated_at.eq(policy.updated_at),
        ))
        .execute(conn)
}

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = retention_assignments)]
pub struct AssignmentRow {
    pub id: i64,
    pub policy_id: i64,
    pub scope: String,
    pub scope_id: i64,
    pub schema_name: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

pub fn list_assignments(conn: &mut AnyConnection) -> QueryResult<Vec<AssignmentRow>> {
    retention_assignments::table.order(retention_assignments::id).select(AssignmentRow::as_select()).load(conn)
}

/// Attaches `policy_id` at a scope point, replacing what was attached there; returns the
/// policy it replaced, if any.
pub fn assign(
    conn: &mut AnyConnection,
    policy_id: i64,
    scope: &str,
    scope_id: i64,
    schema_name: &str,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<i64>> {
    let at = retention_assignments::table
        .filter(retention_assignments::scope.eq(scope))
        .filter(retention_assignments::scope_id.eq(scope_id))
        .filter(retention_assignments::schema_name.eq(schema_name));
    let previous: Option<i64> = at.select(retention_assignments::policy_id).first(conn).optional()?;
    diesel::delete(at).execute(conn)?;
    diesel::insert_into(retention_assignments::table)
        .values((
            retention_assignments::policy_id.eq(policy_id),
            retention_assignments::scope.eq(scope),
            retention_assignments::scope_id.eq(scope_id),
            retention_assignments::schema_name.eq(schema_name),
            retention_assignments::created_by.eq(by),
            retention_assignments::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(previous)
}

/// Removes an assignment; returns it when it existed.
pub fn unassign(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<AssignmentRow>> {
    let row = retention_assignments::table.find(id).select(AssignmentRow::as_select()).first(conn).optional()?;
    if row.is_some() {
        diesel::delete(retention_assignments::table.find(id)).execute(conn)?;
    }
    Ok(row)
}

// ---------------------------------------------------------------------------------------------
// Timestamp columns

/// The confirmed timestamp column of every dataset that has one.
pub fn timestamps(conn: &mut AnyConnection) -> QueryResult<HashMap<i64, String>> {
    let rows: Vec<(i64, String)> = dataset_timestamps::table
        .select((dataset_timestamps::dataset_id, dataset_timestamps::column_name))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

pub fn timestamp_of(conn: &mut AnyConnection, dataset_id: i64) -> QueryResult<Option<String>> {
    dataset_timestamps::table.find(dataset_id).select(dataset_timestamps::column_name).first(conn).optional()
}

/// Sets (or with `None` clears) the column that dates a dataset's rows.
pub fn set_timestamp(
    conn: &mut AnyConnection,
    dataset_id: i64,
    column: Option<&str>,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(dataset_timestamps::table.find(dataset_id)).execute(conn)?;
    if let Some(column) = column {
        diesel::insert_into(dataset_timestamps::table)
            .values((
                dataset_timestamps::dataset_id.eq(dataset_id),
                dataset_timestamps::column_name.eq(column),
                dataset_timestamps::updated_by.eq(by),
                dataset_timestamps::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Runs

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = retention_runs)]
pub struct Run {
    pub id: i64,
    pub mode: String,
    pub status: String,
    pub trigger: String,
    pub as_of: NaiveDateTime,
    pub lease: i32,
    pub claimed_by: Option<String>,
    pub heartbeat_at: Option<NaiveDateTime>,
    pub attempts: i32,
    pub not_before: NaiveDateTime,
    pub error: Option<String>,
    pub requested_by: String,
    pub receipt: Option<String>,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
}

pub fn enqueue_run(
    conn: &mut AnyConnection,
    mode: &str,
    trigger: &str,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    dialect::insert_retention_run(conn, mode, trigger, by, now)
}

pub fn find_run(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<Run>> {
    retention_runs::table.find(id).select(Run::as_select()).first(conn).optional()
}

pub fn list_runs(conn: &mut AnyConnection, limit: i64) -> QueryResult<Vec<Run>> {
    retention_runs::table.order(retention_runs::id.desc()).limit(limit).select(Run::as_select()).load(conn)
}

/// A purge that is queued or running, if any (one at a time).
pub fn active_run(conn: &mut AnyConnection) -> QueryResult<Option<Run>> {
    retention_runs::table
        .filter(retention_runs::mode.eq("execute"))
        .filter(retention_runs::status.eq_any(["queued", "running"]))
        .order(retention_runs::id)
        .select(Run::as_select())
        .first(conn)
        .optional()
}

/// When the last scheduled run was queued.
pub fn last_scheduled(conn: &mut AnyConnection) -> QueryResult<Option<NaiveDateTime>> {
    retention_runs::table
        .filter(retention_runs::trigger.eq("schedule"))
        .select(diesel::dsl::max(retention_runs::created_at))
        .first(conn)
}

super::dialect::run_queue!(retention_runs, Run);

/// Ends a run held under `lease`; false when the lease was lost.
pub fn finish_run(
    conn: &mut AnyConnection,
    run_id: i64,
    lease: i32,
    status: &str,
    error: Option<&str>,
    receipt: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(retention_runs::table.find(run_id).filter(retention_runs::lease.eq(lease)))
        .set((
            retention_runs::status.eq(status),
            retention_runs::error.eq(error),
            retention_runs::receipt.eq(receipt),
            retention_runs::finished_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

// ---------------------------------------------------------------------------------------------
// Steps

#[derive(Queryable, Selectable, Clone, Debug)]
#[diesel(table_name = retention_steps)]
pub struct Step {
    pub id: i64,
    pub run_id: i64,
    pub position: i32,
    pub source_id: i64,
    pub dataset_id: i64,
    pub schema_name: String,
    pub table_name: String,
    pub policy_id: i64,
    pub policy_name: String,
    pub period: String,
    pub policy_from: String,
    pub action: String,
    pub timestamp_column: Option<String>,
    pub cutoff: NaiveDateTime,
    pub predicate: String,
    pub masks: String,
    pub fingerprint: String,
    pub subject_holds: String,
    pub hold_basis: Option<String>,
    pub held_rows: i64,
    pub expected_rows: i64,
    pub status: String,
    pub affected_rows: i64,
    pub remaining_rows: Option<i64>,
    pub verification: Option<String>,
    pub error: Option<String>,
    pub started_at: Option<NaiveDateTime>,
    pub finished_at: Option<NaiveDateTime>,
}

#[derive(Insertable, Clone, Debug)]
#[diesel(table_name = retention_steps)]
pub struct NewStep {
    pub run_id: i64,
    pub position: i32,
    pub source_id: i64,
    pub dataset_id: i64,
    pub schema_name: String,
    pub table_name: String,
    pub policy_id: i64,
    pub policy_name: String,
    pub period: String,
    pub policy_from: String,
    pub action: String,
    pub timestamp_column: Option<String>,
    pub cutoff: NaiveDateTime,
    pub predicate: String,
    pub masks: String,
    pub fingerprint: String,
    pub subject_holds: String,
    pub hold_basis: Option<String>,
    pub held_rows: i64,
    pub expected_rows: i64,
    pub status: String,
    pub error: Option<String>,
}

pub fn insert_steps(conn: &mut AnyConnection, steps: &[NewStep]) -> QueryResult<()> {
    for chunk in steps.chunks(100) {
        dialect::insert_retention_steps(conn, chunk)?;
    }
    Ok(())
}

pub fn steps_of(conn: &mut AnyConnection, run_id: i64) -> QueryResult<Vec<Step>> {
    retention_steps::table
        .filter(retention_steps::run_id.eq(run_id))
        .order(retention_steps::position)
        .select(Step::as_select())
        .load(conn)
}

/// The steps of several runs (in one query), in run and position order.
pub fn steps_of_runs(conn: &mut AnyConnection, run_ids: &[i64]) -> QueryResult<Vec<Step>> {
    retention_steps::table
        .filter(retention_steps::run_id.eq_any(run_ids))
        .order((retention_steps::run_id, retention_steps::position))
        .select(Step::as_select())
        .load(conn)
}

/// The rows a step has changed so far.
pub fn affected_rows(conn: &mut AnyConnection, id: i64) -> QueryResult<i64> {
    retention_steps::table.find(id).select(retention_steps::affected_rows).first(conn)
}

pub fn start_step(conn: &mut AnyConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(retention_steps::table.find(id).filter(retention_steps::started_at.is_null()))
        .set(retention_steps::started_at.eq(now))
        .execute(conn)?;
    diesel::update(retention_steps::table.find(id)).set(retention_steps::status.eq("running")).execute(conn)
}

/// Adds a committed batch's rows to a step.
pub fn add_affected(conn: &mut AnyConnection, id: i64, rows: i64) -> QueryResult<usize> {
    diesel::update(retention_steps::table.find(id))
        .set(retention_steps::affected_rows.eq(retention_steps::affected_rows + rows))
        .execute(conn)
}

/// Records a step's end.
#[allow(clippy::too_many_arguments)]
pub fn finish_step(
    conn: &mut AnyConnection,
    id: i64,
    status: &str,
    held_rows: Option<i64>,
    hold_basis: Option<&str>,
    remaining: Option<i64>,
    verification: Option<&str>,
    error: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let step = retention_steps::table.find(id);
    if let Some(held) = held_rows {
        diesel::update(step).set(retention_steps::held_rows.eq(held)).execute(conn)?;
    }
    if let Some(basis) = hold_basis {
        diesel::update(step).set(retention_steps::hold_basis.eq(basis)).execute(conn)?;
    }
    diesel::update(step)
        .set((
            retention_steps::status.eq(status),
            retention_steps::remaining_rows.eq(remaining),
            retention_steps::verification.eq(verification),
            retention_steps::error.eq(error),
            retention_steps::finished_at.eq(now),
        ))
        .execute(conn)
}

/// The newest finished preview or purge's step of every dataset: what is waiting past its
/// period, as last counted.
pub fn latest_counts(conn: &mut AnyConnection) -> QueryResult<HashMap<i64, (NaiveDateTime, i64)>> {
    let rows: Vec<(i64, NaiveDateTime, i64, String, i64)> = retention_steps::table
        .inner_join(retention_runs::table)
        .filter(retention_runs::status.eq("done"))
        .order(retention_runs::id)
        .select((
            retention_steps::dataset_id,
            retention_runs::as_of,
            retention_steps::expected_rows,
            retention_steps::status,
            retention_steps::affected_rows,
        ))
        .load(conn)?;
    let mut out = HashMap::new();
    for (dataset, as_of, expected, status, affected) in rows {
        // A preview leaves everything it counted; a purge what it did not remove. Rows a hold
        // keeps are exempt, not waiting.
        let waiting = if status == "previewed" { expected } else { (expected - affected).max(0) };
        out.insert(dataset, (as_of, waiting));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Legal holds

/// Every hold, newest first, released ones included.
pub fn list_holds(conn: &mut AnyConnection) -> QueryResult<Vec<super::erasure::Hold>> {
    legal_holds::table.order(legal_holds::id.desc()).select(super::erasure::Hold::as_select()).load(conn)
}

/// Releases a hold and wipes its sealed identifier; false when it was not active.
pub fn release_hold(conn: &mut AnyConnection, id: i64, by: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(legal_holds::table.find(id).filter(legal_holds::released_at.is_null()))
        .set((
            legal_holds::released_by.eq(by),
            legal_holds::released_at.eq(now),
            legal_holds::sealed_subject.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Keeps a subject hold's identifier, sealed, so that purges can spare the subject's rows.
pub fn set_hold_subject(conn: &mut AnyConnection, id: i64, sealed: &str) -> QueryResult<usize> {
    diesel::update(legal_holds::table.find(id)).set(legal_holds::sealed_subject.eq(sealed)).execute(conn)
}

/// A subject hold in force, with its sealed identifier.
#[derive(Clone, Debug)]
pub struct SubjectHold {
    pub id: i64,
    pub identifier_type: String,
    pub subject_hmac: String,
    pub sealed: String,
    pub basis: String,
}

type SubjectHoldRow = (i64, Option<String>, Option<String>, Option<String>, String);

/// The ids of subject holds in force on `today` that keep no sealed identifier (placed before
/// holds kept one): a purge cannot tell their subject's rows apart.
pub fn unsealed_subject_holds(conn: &mut AnyConnection, today: NaiveDate) -> QueryResult<Vec<i64>> {
    legal_holds::table
        .filter(legal_holds::scope.eq("subject"))
        .filter(legal_holds::released_at.is_null())
        .filter(legal_holds::ends_on.is_null().or(legal_holds::ends_on.ge(today)))
        .filter(legal_holds::sealed_subject.is_null())
        .select(legal_holds::id)
        .load(conn)
}

/// The subject holds in force on `today` whose identifier is kept sealed.
pub fn active_subject_holds(conn: &mut AnyConnection, today: NaiveDate) -> QueryResult<Vec<SubjectHold>> {
    let rows: Vec<SubjectHoldRow> = legal_holds::table
        .filter(legal_holds::scope.eq("subject"))
        .filter(legal_holds::released_at.is_null())
        .filter(legal_holds::ends_on.is_null().or(legal_holds::ends_on.ge(today)))
        .order(legal_holds::id)
        .select((
            legal_holds::id,
            legal_holds::identifier_type,
            legal_holds::subject_hmac,
            legal_holds::sealed_subject,
            legal_holds::basis,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, ty, hmac, sealed, basis)| {
            Some(SubjectHold { id, identifier_type: ty?, subject_hmac: hmac?, sealed: sealed?, basis })
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// What inheritance and the reports read

/// The personal-data categories each dataset holds, confirmed on a column or propagated to it.
/// `only`: just these datasets (a dataset page needs its own, not the whole catalog's).
pub fn dataset_categories(conn: &mut AnyConnection, only: Option<&[i64]>) -> QueryResult<HashMap<i64, Vec<i64>>> {
    use super::schema::{column_categories, dataset_columns, propagated_tags};
    let mut confirmed_q = column_categories::table
        .inner_join(dataset_columns::table.on(dataset_columns::id.eq(column_categories::column_id)))
        .select((dataset_columns::dataset_id, column_categories::category_id))
        .distinct()
        .into_boxed();
    let mut propagated_q = propagated_tags::table
        .inner_join(dataset_columns::table.on(dataset_columns::id.eq(propagated_tags::column_id)))
        .filter(propagated_tags::tag_kind.eq(super::propagation::CATEGORY))
        .select((dataset_columns::dataset_id, propagated_tags::tag_value))
        .distinct()
        .into_boxed();
    if let Some(ids) = only {
        confirmed_q = confirmed_q.filter(dataset_columns::dataset_id.eq_any(ids.to_vec()));
        propagated_q = propagated_q.filter(dataset_columns::dataset_id.eq_any(ids.to_vec()));
    }
    let confirmed: Vec<(i64, i64)> = confirmed_q.load(conn)?;
    let propagated: Vec<(i64, i64)> = propagated_q.load(conn)?;
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    for (dataset, category) in confirmed.into_iter().chain(propagated) {
        let list = out.entry(dataset).or_default();
        if !list.contains(&category) {
            list.push(category);
        }
    }
    Ok(out)
}

/// The live foreign keys among these datasets: (referencing dataset, referenced dataset).
pub fn foreign_key_pairs(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<(i64, i64)>> {
    use super::schema::foreign_keys;
    let mut out = Vec::new();
    for chunk in ids.chunks(900) {
        let rows: Vec<(i64, i64)> = foreign_keys::table
            .filter(foreign_keys::from_dataset_id.eq_any(chunk))
            .filter(foreign_keys::status.eq(super::models::ACTIVE))
            .select((foreign_keys::from_dataset_id, foreign_keys::to_dataset_id))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// Active datasets with at least one personal-data column.
pub fn personal_datasets(conn: &mut AnyConnection) -> QueryResult<std::collections::BTreeSet<i64>> {
    use super::schema::{dataset_columns, datasets};
    let ids: Vec<i64> = dataset_columns::table
        .inner_join(datasets::table)
        .filter(datasets::status.eq(super::models::ACTIVE))
        .filter(dataset_columns::personal_data.eq(true))
        .select(dataset_columns::dataset_id)
        .distinct()
        .load(conn)?;
    Ok(ids.into_iter().collect())
}
