//! Retention end to end (GOVERNANCE.md R1–R3): policies and where they are assigned, the policy
//! in force for each dataset and where it comes from, the column that dates its rows, purges
//! run on the erasure machinery (exact counts in one snapshot, batches each in its own
//! transaction with the holds re-checked, a blast-radius guard, verification, audit events, a
//! signed receipt, resumable after a crash), the storage-limitation report and the
//! records-of-processing export. The rules live in `governance::retention`; the rows in
//! `db::retention`; the statements are erasure's (`governance::erasure::sql`).

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDateTime, TimeDelta};
use serde::Serialize;
use serde_json::json;

use crate::config::{ErasureSettings, RetentionSettings};
use crate::db::audit::{self, AuditActor};
use crate::db::erasure as erasure_repo;
use crate::db::retention::{self as repo, NewPolicy, NewStep, Policy, Run, Step};
use crate::db::{AnyConnection, Db, catalog, dialect, now};
use crate::erasure::{ErasureError, Stop, held_subject_rows, hold_on_table, pause_point};
use crate::governance::erasure::plan::{self as planner};
use crate::governance::erasure::sql::{Mask, Match, Predicate, StepSql, Values};
use crate::governance::retention::{
    self as rules, Action, Assignment, Effective, Level, Period, Place, PurgeReceipt, PurgedDataset,
};
use crate::jobs::ProgressSink;
use crate::keys::Keys;
use crate::targets::ResolvedTarget;
use crate::targets::erasure::Writer;

/// Retention shares erasure's error type: it runs on the same machinery.
pub type RetentionError = ErasureError;

fn event(by: &AuditActor, action: &str, entity: &str, id: i64) -> audit::NewAuditEvent {
    by.event(action, entity).entity_id(id)
}

// ---------------------------------------------------------------------------------------------
// Policies, assignments and timestamp columns

/// A policy as a form or the API gives it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct PolicyInput {
    pub name: String,
    pub period: String,
    pub action: String,
    #[serde(default)]
    pub mask_columns: String,
    pub legal_basis: String,
    #[serde(default)]
    pub description: String,
}

fn validate(input: &PolicyInput) -> Result<(String, Period, Action, String), RetentionError> {
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.len() > 200 {
        return Err(ErasureError::Invalid("A policy needs a name (at most 200 characters).".into()));
    }
    let period: Period = input.period.parse().map_err(|e: rules::PeriodError| ErasureError::Invalid(e.to_string()))?;
    let action = Action::parse(input.action.trim())
        .ok_or_else(|| ErasureError::Invalid("The action is delete (rows) or mask (personal-data columns).".into()))?;
    let basis = input.legal_basis.trim().to_owned();
    if basis.is_empty() {
        return Err(ErasureError::Invalid("A policy needs its legal basis (why the data is kept this long).".into()));
    }
    Ok((name, period, action, basis))
}

fn mask_columns_text(input: &PolicyInput) -> String {
    input.mask_columns.split([',', '\n']).map(str::trim).filter(|c| !c.is_empty()).collect::<Vec<_>>().join("\n")
}

/// Creates a policy; audited.
pub fn create_policy(conn: &mut AnyConnection, by: &AuditActor, input: &PolicyInput) -> Result<i64, RetentionError> {
    let (name, period, action, basis) = validate(input)?;
    let now = now();
    dialect::write_transaction(conn, |conn| {
        if repo::find_policy_by_name(conn, &name)?.is_some() {
            return Err(ErasureError::Conflict(format!("A policy named {name:?} already exists.")));
        }
        let row = NewPolicy {
            name: name.clone(),
            period: period.to_string(),
            action: action.as_str().to_owned(),
            mask_columns: mask_columns_text(input),
            legal_basis: basis.clone(),
            description: input.description.trim().to_owned(),
            created_by: by.actor.clone(),
            created_at: now,
            updated_at: now,
        };
        let id = repo::insert_policy(conn, &row)?;
        audit::append(
            conn,
            &event(by, "retention.policy_create", "retention_policy", id).after(json!({
                "name": name, "period": row.period, "action": row.action, "legal_basis": basis,
                "mask_columns": row.mask_columns,
            })),
            now,
        )?;
        Ok(id)
    })
}

/// Changes a policy's terms; audited with before and after.
pub fn update_policy(
    conn: &mut AnyConnection,
    by: &AuditActor,
    id: i64,
    input: &PolicyInput,
) -> Result<(), RetentionError> {
    let (name, period, action, basis) = validate(input)?;
    let now = now();
    dialect::write_transaction(conn, |conn| {
        let old = repo::find_policy(conn, id)?.ok_or_else(|| ErasureError::NotFound(format!("Policy {id}")))?;
        if let Some(other) = repo::find_policy_by_name(conn, &name)?
            && other.id != id
        {
            return Err(ErasureError::Conflict(format!("A policy named {name:?} already exists.")));
        }
        let row = NewPolicy {
            name,
            period: period.to_string(),
            action: action.as_str().to_owned(),
            mask_columns: mask_columns_text(input),
            legal_basis: basis,
            description: input.description.trim().to_owned(),
            created_by: old.created_by.clone(),
            created_at: old.created_at,
            updated_at: now,
        };
        repo::update_policy(conn, id, &row)?;
        audit::append(
            conn,
            &event(by, "retention.policy_update", "retention_policy", id)
                .before(json!({ "name": old.name, "period": old.period, "action": old.action, "legal_basis": old.legal_basis }))
                .after(json!({ "name": row.name, "period": row.period, "action": row.action, "legal_basis": row.legal_basis })),
            now,
        )?;
        Ok(())
    })
}

/// Where a policy is attached, as people name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeRef {
    Source(i64),
    Schema(i64, String),
    Dataset(i64),
    Category(i64),
}

impl ScopeRef {
    fn parts(&self) -> (Level, i64, &str) {
        match self {
            Self::Source(id) => (Level::Source, *id, ""),
            Self::Schema(id, schema) => (Level::Schema, *id, schema.as_str()),
            Self::Dataset(id) => (Level::Dataset, *id, ""),
            Self::Category(id) => (Level::Category, *id, ""),
        }
    }
}

/// Attaches a policy at a scope point (replacing what was attached there); audited.
pub fn assign(
    conn: &mut AnyConnection,
    by: &AuditActor,
    policy_id: i64,
    scope: &ScopeRef,
) -> Result<(), RetentionError> {
    let (level, scope_id, schema) = scope.parts();
    let now = now();
    dialect::write_transaction(conn, |conn| {
        let policy =
            repo::find_policy(conn, policy_id)?.ok_or_else(|| ErasureError::NotFound(format!("Policy {policy_id}")))?;
        let exists = match level {
            Level::Source | Level::Schema => catalog::find_source(conn, scope_id)?.is_some(),
            Level::Dataset => catalog::find_dataset(conn, scope_id)?.is_some(),
            Level::Category => crate::db::classification::list_categories(conn)?.iter().any(|c| c.id == scope_id),
        };
        if !exists {
            return Err(ErasureError::NotFound(format!("The {} {scope_id}", level.as_str())));
        }
        if level == Level::Schema && schema.trim().is_empty() {
            return Err(ErasureError::Invalid("A schema assignment names the schema.".into()));
        }
        let previous = repo::assign(conn, policy_id, level.as_str(), scope_id, schema, &by.actor, now)?;
        audit::append(
            conn,
            &event(by, "retention.assign", "retention_policy", policy_id).after(json!({
                "policy": policy.name, "scope": level.as_str(), "scope_id": scope_id, "schema": schema,
                "replaced_policy": previous,
            })),
            now,
        )?;
        Ok(())
    })
}

/// Detaches an assignment; audited.
pub fn unassign(conn: &mut AnyConnection, by: &AuditActor, assignment_id: i64) -> Result<(), RetentionError> {
    let now = now();
    dialect::write_transaction(conn, |conn| {
        let row = repo::unassign(conn, assignment_id)?
            .ok_or_else(|| ErasureError::NotFound(format!("Assignment {assignment_id}")))?;
        audit::append(
            conn,
            &event(by, "retention.unassign", "retention_policy", row.policy_id).before(json!({
                "scope": row.scope, "scope_id": row.scope_id, "schema": row.schema_name,
            })),
            now,
        )?;
        Ok(())
    })
}

/// Sets (or clears) the column that dates a dataset's rows: it must be one of the dataset's
/// columns of a date or time type. Audited.
pub fn set_timestamp(
    conn: &mut AnyConnection,
    by: &AuditActor,
    dataset_id: i64,
    column: Option<&str>,
) -> Result<(), RetentionError> {
    let now = now();
    dialect::write_transaction(conn, |conn| {
        catalog::find_dataset(conn, dataset_id)?
            .ok_or_else(|| ErasureError::NotFound(format!("Dataset {dataset_id}")))?;
        if let Some(name) = column {
            let columns = catalog::list_columns(conn, dataset_id)?;
            let found = columns
                .iter()
                .find(|c| c.name == name)
                .ok_or_else(|| ErasureError::Invalid(format!("The dataset has no column {name:?}.")))?;
            if !rules::is_temporal(&found.data_type) {
                return Err(ErasureError::Invalid(format!(
                    "{name} is {}, not a date or time: it cannot date the rows.",
                    found.data_type
                )));
            }
        }
        let before = repo::timestamp_of(conn, dataset_id)?;
        repo::set_timestamp(conn, dataset_id, column, &by.actor, now)?;
        audit::append(
            conn,
            &by.event("retention.timestamp", "dataset")
                .entity_id(dataset_id)
                .before(json!({ "column": before }))
                .after(json!({ "column": column })),
            now,
        )?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// The policy in force

/// The policy in force for a dataset and where it comes from.
#[derive(Debug, Clone, Serialize)]
pub struct InForce {
    pub policy_id: i64,
    pub policy: String,
    pub period: String,
    pub period_words: String,
    pub action: String,
    pub legal_basis: String,
    /// source | schema | category | dataset
    pub level: String,
    /// "source shop", "schema shop.main", "category Health data", "this dataset".
    pub from: String,
}

/// Everything inheritance reads, loaded once.
pub struct Inheritance {
    policies: HashMap<i64, Policy>,
    assignments: Vec<Assignment>,
    categories: HashMap<i64, Vec<i64>>,
    category_labels: HashMap<i64, String>,
    source_names: HashMap<i64, String>,
}

impl Inheritance {
    /// Loads policies, assignments and names, and the categories of the datasets `only` names
    /// (of every dataset when `None`: plans and reports look at them all).
    pub fn load(conn: &mut AnyConnection, only: Option<&[i64]>) -> Result<Self, RetentionError> {
        let policies = repo::list_policies(conn)?.into_iter().map(|p| (p.id, p)).collect();
        let assignments = repo::list_assignments(conn)?
            .into_iter()
            .filter_map(|a| {
                Some(Assignment {
                    policy_id: a.policy_id,
                    level: Level::parse(&a.scope)?,
                    scope_id: a.scope_id,
                    schema: a.schema_name,
                })
            })
            .collect();
        let categories = repo::dataset_categories(conn, only)?;
        let category_labels =
            crate::db::classification::list_categories(conn)?.into_iter().map(|c| (c.id, c.label)).collect();
        let source_names = erasure_repo::source_names(conn)?.into_iter().map(|(id, (name, _))| (id, name)).collect();
        Ok(Self { policies, assignments, categories, category_labels, source_names })
    }

    /// The effective assignment of a dataset.
    pub fn effective(&self, dataset_id: i64, source_id: i64, schema: &str) -> Option<Effective> {
        let categories = self.categories_of(dataset_id);
        let place = Place { dataset_id, source_id, schema, categories };
        rules::effective(&place, &self.assignments, |id| {
            self.policies.get(&id).and_then(|p| p.period.parse::<Period>().ok()).map_or(i64::MAX, |p| p.length_key())
        })
    }

    /// The personal-data categories a loaded dataset holds.
    pub fn categories_of(&self, dataset_id: i64) -> &[i64] {
        self.categories.get(&dataset_id).map_or(&[][..], Vec::as_slice)
    }

    pub fn policy(&self, id: i64) -> Option<&Policy> {
        self.policies.get(&id)
    }

    /// The policy in force for a dataset, described.
    pub fn in_force(&self, dataset_id: i64, source_id: i64, schema: &str) -> Option<InForce> {
        let e = self.effective(dataset_id, source_id, schema)?;
        let p = self.policies.get(&e.policy_id)?;
        let source = self.source_names.get(&source_id).cloned().unwrap_or_default();
        let from = match e.level {
            Level::Dataset => "this dataset".to_owned(),
            Level::Category => format!(
                "category {}",
                self.category_labels.get(&e.scope_id).cloned().unwrap_or_else(|| e.scope_id.to_string())
            ),
            Level::Schema => format!("schema {source}.{schema}"),
            Level::Source => format!("source {source}"),
        };
        Some(InForce {
            policy_id: p.id,
            policy: p.name.clone(),
            period: p.period.clone(),
            period_words: p.period.parse::<Period>().map(|p| p.describe()).unwrap_or_default(),
            action: p.action.clone(),
            legal_basis: p.legal_basis.clone(),
            level: e.level.as_str().to_owned(),
            from,
        })
    }

    pub fn category_label(&self, id: i64) -> String {
        self.category_labels.get(&id).cloned().unwrap_or_else(|| id.to_string())
    }

    pub fn source_name(&self, id: i64) -> String {
        self.source_names.get(&id).cloned().unwrap_or_default()
    }
}

/// What the dataset page shows about retention.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetRetention {
    pub in_force: Option<InForce>,
    pub timestamp_column: Option<String>,
    /// The crawl's suggestion when no column is confirmed.
    pub suggested_column: Option<String>,
    /// Date and time columns a person may pick.
    pub temporal_columns: Vec<String>,
}

pub fn dataset_retention(conn: &mut AnyConnection, dataset_id: i64) -> Result<DatasetRetention, RetentionError> {
    let (dataset, _) = catalog::find_dataset(conn, dataset_id)?
        .ok_or_else(|| ErasureError::NotFound(format!("Dataset {dataset_id}")))?;
    let inheritance = Inheritance::load(conn, Some(&[dataset_id]))?;
    let columns = catalog::list_columns(conn, dataset_id)?;
    let pairs: Vec<(&str, &str)> = columns.iter().map(|c| (c.name.as_str(), c.data_type.as_str())).collect();
    let timestamp_column = repo::timestamp_of(conn, dataset_id)?;
    Ok(DatasetRetention {
        in_force: inheritance.in_force(dataset.id, dataset.source_id, &dataset.schema_name),
        suggested_column: if timestamp_column.is_none() {
            rules::suggest_timestamp(&pairs).map(str::to_owned)
        } else {
            None
        },
        timestamp_column,
        temporal_columns: pairs.iter().filter(|(_, t)| rules::is_temporal(t)).map(|(n, _)| (*n).to_owned()).collect(),
    })
}

// ---------------------------------------------------------------------------------------------
// Runs

/// Queues a purge (`dry_run`: a preview that counts and writes nothing). One purge at a time.
pub fn request_run(
    conn: &mut AnyConnection,
    by: &AuditActor,
    dry_run: bool,
    trigger: &str,
) -> Result<i64, RetentionError> {
    let now = now();
    dialect::write_transaction(conn, |conn| {
        if !dry_run && let Some(active) = repo::active_run(conn)? {
            return Err(ErasureError::Conflict(format!("Purge {} is already queued or running.", active.id)));
        }
        let mode = if dry_run { "dry_run" } else { "execute" };
        let id = repo::enqueue_run(conn, mode, trigger, &by.actor, now)?;
        audit::append(
            conn,
            &event(by, if dry_run { "retention.preview" } else { "retention.run_request" }, "retention_run", id)
                .after(json!({ "mode": mode, "trigger": trigger })),
            now,
        )?;
        Ok(id)
    })
}

/// Queues a scheduled purge when `interval_secs` has passed since the last one (and none is
/// active). Returns the new run's id.
pub fn schedule_due(conn: &mut AnyConnection, settings: RetentionSettings) -> Result<Option<i64>, RetentionError> {
    if settings.interval_secs == 0 {
        return Ok(None);
    }
    let interval = TimeDelta::seconds(i64::try_from(settings.interval_secs).unwrap_or(i64::MAX / 2));
    let last = repo::last_scheduled(conn)?;
    if last.is_some_and(|t| t + interval > now()) || repo::active_run(conn)?.is_some() {
        return Ok(None);
    }
    request_run(conn, &AuditActor::system(), false, "schedule").map(Some)
}

/// A planned step and the values its predicate reads (held subjects' identifiers).
struct Planned {
    steps: Vec<NewStep>,
}

/// Plans a run: one step per dataset with a policy in force, in a snapshot of each target, with
/// exact counts of the rows past their period (held subjects' rows excluded and counted apart).
fn plan_run(
    conn: &mut AnyConnection,
    keys: &Keys,
    settings: ErasureSettings,
    run: &Run,
    values: &mut Values,
) -> Result<Planned, RetentionError> {
    let inheritance = Inheritance::load(conn, None)?;
    let timestamps = repo::timestamps(conn)?;
    let today = run.as_of.date();
    let sources = catalog::list_sources(conn)?;
    let source_ids: Vec<i64> = sources.iter().map(|s| s.id).collect();
    let datasets = erasure_repo::datasets_of_sources(conn, &source_ids)?;
    let mut chosen = Vec::new();
    for d in &datasets {
        if let Some(e) = inheritance.effective(d.id, d.source_id, &d.schema_name) {
            chosen.push((d.clone(), e));
        }
    }
    let dataset_ids: Vec<i64> = chosen.iter().map(|(d, _)| d.id).collect();
    let columns = erasure_repo::columns_of_datasets(conn, &dataset_ids)?;
    let column_ids: Vec<i64> = columns.iter().map(|c| c.id).collect();
    let categories_of = crate::db::classification::category_ids_of(conn, &column_ids)?;
    let holds = erasure_repo::active_holds(conn, today)?;

    // Subject holds: the held subjects' rows, per dataset, to spare. A hold that keeps no sealed
    // identifier cannot be honoured row by row, so nothing is purged until it is placed again.
    let unsealed = repo::unsealed_subject_holds(conn, today)?;
    if !unsealed.is_empty() {
        return Err(ErasureError::Conflict(format!(
            "subject hold {} keeps no identifier a purge could spare rows by (it was placed before holds kept one): \
             release it and place it again, then run the purge",
            unsealed.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        )));
    }
    let mut spare: HashMap<i64, Vec<Predicate>> = HashMap::new();
    let mut subject_hold_ids = Vec::new();
    for h in repo::active_subject_holds(conn, today)? {
        let (rows, hold_values) = held_subject_rows(conn, keys, settings, &h, today)?;
        for (dataset, predicate) in rows {
            spare.entry(dataset).or_default().push(predicate);
        }
        values.extend(hold_values);
        subject_hold_ids.push(h.id.to_string());
    }
    let subject_holds = subject_hold_ids.join(",");

    // One snapshot per target.
    let mut writers: HashMap<i64, Result<Writer, String>> = HashMap::new();
    for s in &sources {
        if !chosen.iter().any(|(d, _)| d.source_id == s.id) {
            continue;
        }
        let opened = ResolvedTarget::stored(&s.kind, &s.connection_kind, &s.connection_ref)
            .map_err(|e| e.to_string())
            .and_then(|t| {
                let mut w = Writer::open(&t, settings.statement_timeout_secs, settings.lock_timeout_secs)
                    .map_err(|e| e.to_string())?;
                w.begin_snapshot().map_err(|e| e.to_string())?;
                Ok(w)
            });
        writers.insert(s.id, opened);
    }

    let mut steps = Vec::new();
    for (d, e) in &chosen {
        let Some(policy) = inheritance.policy(e.policy_id) else { continue };
        let period: Period = policy.period.parse().unwrap_or_default();
        let cutoff = period.cutoff(run.as_of);
        let cols: Vec<&erasure_repo::ColumnRow> = columns.iter().filter(|c| c.dataset_id == d.id).collect();
        let in_force = inheritance.in_force(d.id, d.source_id, &d.schema_name);
        let mut step = NewStep {
            run_id: run.id,
            position: 0,
            source_id: d.source_id,
            dataset_id: d.id,
            schema_name: d.schema_name.clone(),
            table_name: d.name.clone(),
            policy_id: policy.id,
            policy_name: policy.name.clone(),
            period: policy.period.clone(),
            policy_from: in_force.map(|f| f.from).unwrap_or_default(),
            action: policy.action.clone(),
            timestamp_column: timestamps.get(&d.id).cloned(),
            cutoff,
            predicate: "{}".into(),
            masks: "[]".into(),
            fingerprint: String::new(),
            subject_holds: subject_holds.clone(),
            hold_basis: None,
            held_rows: 0,
            expected_rows: 0,
            status: "pending".into(),
            error: None,
        };
        let skip = |mut step: NewStep, why: String| {
            step.action = "skip".into();
            step.status = "skipped".into();
            step.error = Some(why);
            step
        };
        if d.kind != "table" {
            steps.push(skip(
                step,
                format!("a {} holds no rows of its own; its tables' policies apply", d.kind.replace('_', " ")),
            ));
            continue;
        }
        let writer = match writers.get_mut(&d.source_id) {
            Some(Ok(w)) => w,
            Some(Err(e)) => {
                steps.push(skip(step, format!("the source cannot be reached: {e}")));
                continue;
            }
            None => continue,
        };
        let Some(ts) = step.timestamp_column.clone() else {
            let pairs: Vec<(&str, &str)> = cols.iter().map(|c| (c.name.as_str(), c.data_type.as_str())).collect();
            let hint = rules::suggest_timestamp(&pairs).map(|s| format!(" (suggested: {s})")).unwrap_or_default();
            steps.push(skip(step, format!("no column dates its rows: confirm one on the dataset page{hint}")));
            continue;
        };
        let live = match writer.live_columns(&d.schema_name, &d.name) {
            Ok(Some(live)) => live,
            Ok(None) => {
                steps
                    .push(skip(step, format!("{}.{} no longer exists; crawl the source again", d.schema_name, d.name)));
                continue;
            }
            Err(e) => {
                steps.push(skip(step, format!("reading the live schema: {e}")));
                continue;
            }
        };
        let Some(ts_live) = live.iter().find(|c| c.name == ts) else {
            steps.push(skip(step, format!("the timestamp column {ts} is not in the live table")));
            continue;
        };
        let masks: Vec<Mask> = if policy.action == "mask" {
            let named = policy.mask_column_names();
            let wanted: Vec<&crate::targets::erasure::Column> = live
                .iter()
                .filter(|c| {
                    if named.is_empty() {
                        cols.iter().any(|k| k.name == c.name && (k.personal_data || k.identifier_type.is_some()))
                    } else {
                        named.contains(&c.name)
                    }
                })
                .collect();
            let mut masks = Vec::new();
            let mut cannot = Vec::new();
            for c in wanted {
                match planner::mask_for(&c.name, &c.data_type, c.nullable) {
                    Some(m) => masks.push(m),
                    None => cannot.push(format!("{} (NOT NULL {})", c.name, c.data_type)),
                }
            }
            if !cannot.is_empty() {
                steps.push(skip(step, format!("cannot mask {}; use a delete policy here", cannot.join(", "))));
                continue;
            }
            if masks.is_empty() {
                steps.push(skip(step, "the policy masks, but the dataset has no personal-data columns to mask".into()));
                continue;
            }
            masks
        } else {
            Vec::new()
        };
        let older = Match::OlderThan {
            column: ts.clone(),
            column_type: ts_live.data_type.clone(),
            cutoff: rules::cutoff_text(cutoff),
        };
        let spared = spare.remove(&d.id).unwrap_or_default();
        let predicate = Predicate { any: vec![older.clone()], except: spared };
        let all_past = Predicate { any: vec![older], except: Vec::new() };
        step.fingerprint = fingerprint(&live, &predicate, &masks);
        step.predicate = serde_json::to_string(&predicate).unwrap_or_default();
        step.masks = serde_json::to_string(&masks).unwrap_or_default();
        let backend = writer.backend();
        let sql = StepSql { backend, schema: &d.schema_name, table: &d.name, predicate: &predicate, masks: &masks };
        let everything = StepSql { predicate: &all_past, ..sql };
        let counted = sql
            .count(values)
            .map_err(|e| e.to_string())
            .and_then(|st| writer.count(&st).map_err(|e| e.to_string()))
            .and_then(|n| {
                let all = everything
                    .count(values)
                    .map_err(|e| e.to_string())
                    .and_then(|st| writer.count(&st).map_err(|e| e.to_string()))?;
                Ok((n, all))
            });
        let (matching, all) = match counted {
            Ok(c) => c,
            Err(e) => {
                steps.push(skip(step, format!("counting rows past the period: {e}")));
                continue;
            }
        };
        let column_ids: Vec<i64> = cols.iter().map(|c| c.id).collect();
        let categories: Vec<i64> =
            column_ids.iter().flat_map(|id| categories_of.get(id).into_iter().flatten().copied()).collect();
        if let Some(hold) = crate::erasure::hold_covering(&holds, d.source_id, d.id, &column_ids, &categories) {
            step.action = "hold".into();
            step.hold_basis = Some(hold.basis.clone());
            step.held_rows = all;
            step.expected_rows = 0;
        } else {
            step.expected_rows = matching;
            step.held_rows = all - matching;
            if step.held_rows > 0 {
                step.hold_basis = Some("subject hold".into());
            }
        }
        steps.push(step);
    }
    for w in writers.values_mut().flatten() {
        w.rollback();
    }
    // Children before parents where live foreign keys tie planned tables (fewer refusals).
    let order = child_first(conn, &steps)?;
    let mut ordered: Vec<NewStep> = order.into_iter().map(|i| steps[i].clone()).collect();
    for (i, s) in ordered.iter_mut().enumerate() {
        s.position = i32::try_from(i).unwrap_or(i32::MAX);
    }
    Ok(Planned { steps: ordered })
}

/// The order of steps with each table after the tables that reference it (by the crawled
/// foreign keys, read in one query); ties keep catalog order, and the tables of a cycle follow in
/// catalog order.
fn child_first(conn: &mut AnyConnection, steps: &[NewStep]) -> Result<Vec<usize>, RetentionError> {
    let index: HashMap<i64, usize> = steps.iter().enumerate().map(|(i, s)| (s.dataset_id, i)).collect();
    let ids: Vec<i64> = index.keys().copied().collect();
    // waiting[p]: how many planned tables reference p; referencing[c]: the planned tables c references.
    let mut waiting = vec![0usize; steps.len()];
    let mut referencing: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
    for (child, parent) in repo::foreign_key_pairs(conn, &ids)? {
        if let (Some(&c), Some(&p)) = (index.get(&child), index.get(&parent))
            && c != p
            && !referencing[c].contains(&p)
        {
            referencing[c].push(p);
            waiting[p] += 1;
        }
    }
    let mut order = Vec::with_capacity(steps.len());
    let mut placed = vec![false; steps.len()];
    let mut ready: std::collections::BTreeSet<usize> = (0..steps.len()).filter(|&i| waiting[i] == 0).collect();
    while order.len() < steps.len() {
        let next = match ready.pop_first() {
            Some(i) => i,
            // A cycle: the first table not placed goes next.
            None => (0..steps.len()).find(|&i| !placed[i]).expect("some table is left"),
        };
        if placed[next] {
            continue;
        }
        placed[next] = true;
        order.push(next);
        for &p in &referencing[next] {
            waiting[p] = waiting[p].saturating_sub(1);
            if waiting[p] == 0 && !placed[p] {
                ready.insert(p);
            }
        }
    }
    Ok(order)
}

/// E6: the live columns (and types) a purge step relies on.
fn fingerprint(live: &[crate::targets::erasure::Column], predicate: &Predicate, masks: &[Mask]) -> String {
    let table = planner::Table {
        dataset_id: 0,
        source_id: 0,
        source: String::new(),
        schema: String::new(),
        name: String::new(),
        kind: planner::TableKind::Table,
        action: planner::Action::Delete,
        hold: None,
        columns: live
            .iter()
            .map(|c| planner::Column {
                id: 0,
                name: c.name.clone(),
                data_type: c.data_type.clone(),
                nullable: c.nullable,
                personal: false,
                identifier: None,
                identifier_matchable: false,
                origins: Vec::new(),
                derivations: Vec::new(),
            })
            .collect(),
    };
    planner::fingerprint(&table, predicate, masks)
}

/// Runs a claimed run to its end: plans it on its first claim (a preview stops there), then
/// purges step by step, and signs the receipt.
pub fn execute(
    db: &Db,
    keys: &Keys,
    settings: ErasureSettings,
    retention: RetentionSettings,
    run: &Run,
    progress: &mut dyn ProgressSink,
) -> Result<(), RetentionError> {
    let worker = AuditActor::system();
    let mut values = Values::new();
    progress.stage("counting rows past their period");
    let existing = {
        let mut conn = db.writer()?;
        repo::steps_of(&mut conn, run.id)?
    };
    let steps = if existing.is_empty() {
        let planned = {
            let mut conn = db.writer()?;
            plan_run(&mut conn, keys, settings, run, &mut values)
        };
        let planned = match planned {
            Ok(p) => p,
            Err(e) => return block(db, run, &e.to_string()),
        };
        let mut conn = db.writer()?;
        let preview = run.mode == "dry_run";
        dialect::write_transaction(&mut conn, |conn| {
            let mut rows = planned.steps.clone();
            if preview {
                for r in rows.iter_mut().filter(|r| r.status == "pending") {
                    r.status = if r.action == "hold" { "held" } else { "previewed" }.into();
                }
            }
            repo::insert_steps(conn, &rows)?;
            audit::append(
                conn,
                &event(
                    &worker,
                    if preview { "retention.preview_counted" } else { "retention.run_start" },
                    "retention_run",
                    run.id,
                )
                .after(json!({
                    "datasets": rows.len(),
                    "rows_past_period": rows.iter().map(|r| r.expected_rows).sum::<i64>(),
                    "held_rows": rows.iter().map(|r| r.held_rows).sum::<i64>(),
                })),
                now(),
            )?;
            if preview {
                repo::finish_run(conn, run.id, run.lease, "done", None, None, now())?;
            }
            Ok::<_, ErasureError>(())
        })?;
        if preview {
            return Ok(());
        }
        pause_point("purge planned");
        repo::steps_of(&mut conn, run.id)?
    } else {
        // A resumed run reads the held subjects' values again; without them it must not go on
        // (their rows would no longer be spared), so a failure here stops the attempt.
        let mut conn = db.writer()?;
        for h in repo::active_subject_holds(&mut conn, run.as_of.date())? {
            let (_, hold_values) = held_subject_rows(&mut conn, keys, settings, &h, run.as_of.date())?;
            values.extend(hold_values);
        }
        existing
    };
    match purge(db, settings, retention, run, &steps, &values, progress) {
        Ok(()) => {
            let rows = dialect::write_transaction(&mut *db.writer()?, |conn| complete(conn, keys, run))?;
            crate::metrics::operation("retention", "done");
            crate::metrics::rows("purged", rows);
            Ok(())
        }
        Err(Stop::LostLease) => Ok(()),
        Err(Stop::Blocked(reason)) => block(db, run, &reason),
    }
}

/// Ends a run that cannot go on until someone acts, with the reason; audited.
fn block(db: &Db, run: &Run, reason: &str) -> Result<(), RetentionError> {
    crate::metrics::operation("retention", "blocked");
    let mut conn = db.writer()?;
    dialect::write_transaction(&mut conn, |conn| {
        repo::finish_run(conn, run.id, run.lease, "blocked", Some(reason), None, now())?;
        audit::append(
            conn,
            &event(&AuditActor::system(), "retention.blocked", "retention_run", run.id).reason(reason),
            now(),
        )?;
        Ok(())
    })
}

fn purge(
    db: &Db,
    settings: ErasureSettings,
    retention: RetentionSettings,
    run: &Run,
    steps: &[Step],
    values: &Values,
    progress: &mut dyn ProgressSink,
) -> Result<(), Stop> {
    let blocked = |e: String| Stop::Blocked(e);
    let mut writers: HashMap<i64, Writer> = HashMap::new();
    {
        let mut conn = db.writer().map_err(|e| blocked(e.to_string()))?;
        for s in steps.iter().filter(|s| matches!(s.status.as_str(), "pending" | "running")) {
            if writers.contains_key(&s.source_id) {
                continue;
            }
            let source = catalog::find_source(&mut conn, s.source_id)
                .map_err(|e| blocked(e.to_string()))?
                .ok_or_else(|| blocked(format!("source {} is gone", s.source_id)))?;
            let target = ResolvedTarget::stored(&source.kind, &source.connection_kind, &source.connection_ref)
                .map_err(|e| blocked(e.to_string()))?;
            let writer = Writer::open(&target, settings.statement_timeout_secs, settings.lock_timeout_secs)
                .map_err(|e| blocked(format!("source {} cannot be reached: {e}", source.name)))?;
            writers.insert(s.source_id, writer);
        }
    }
    progress.stage("purging");
    let total = steps.iter().map(|s| s.expected_rows.max(0) as u64).sum::<u64>();
    let mut done_rows: u64 = steps.iter().filter(|s| s.status == "done").map(|s| s.affected_rows.max(0) as u64).sum();
    for step in steps {
        if !matches!(step.status.as_str(), "pending" | "running") {
            continue;
        }
        heartbeat(db, run)?;
        let writer = writers.get_mut(&step.source_id).ok_or_else(|| blocked("no session".into()))?;
        purge_step(db, settings, retention, run, writer, step, values, &mut |n| {
            done_rows += n;
            progress.advance(done_rows.min(total), total);
        })?;
    }
    progress.advance(total, total);
    Ok(())
}

fn heartbeat(db: &Db, run: &Run) -> Result<(), Stop> {
    let mut conn = db.writer().map_err(|e| Stop::Blocked(e.to_string()))?;
    Stop::after_heartbeat(repo::heartbeat(&mut conn, run.id, run.lease, now()))
}

/// One dataset: batches of deletes or masks, each in its own target transaction with the holds
/// re-checked inside it, under the blast-radius guard; then verification.
#[allow(clippy::too_many_arguments)]
fn purge_step(
    db: &Db,
    settings: ErasureSettings,
    retention: RetentionSettings,
    run: &Run,
    writer: &mut Writer,
    step: &Step,
    values: &Values,
    advanced: &mut dyn FnMut(u64),
) -> Result<(), Stop> {
    let table = format!("{}.{}", step.schema_name, step.table_name);
    let fail = |e: String| Stop::Blocked(format!("{table}: {e}"));
    let predicate: Predicate = serde_json::from_str(&step.predicate).map_err(|e| fail(e.to_string()))?;
    let masks: Vec<Mask> = serde_json::from_str(&step.masks).map_err(|e| fail(e.to_string()))?;
    let record = |status: &str,
                  held: Option<(i64, &str)>,
                  remaining: Option<i64>,
                  verification: Option<&str>,
                  error: Option<&str>| {
        let mut conn = db.writer().map_err(|e| Stop::Blocked(e.to_string()))?;
        let now = now();
        dialect::write_transaction(&mut conn, |conn| {
            repo::finish_step(
                conn,
                step.id,
                status,
                held.map(|h| h.0),
                held.map(|h| h.1),
                remaining,
                verification,
                error,
                now,
            )?;
            let affected = repo::affected_rows(conn, step.id)?;
            audit::append(
                conn,
                &event(&AuditActor::system(), &format!("retention.step_{status}"), "retention_run", run.id).after(
                    json!({
                        "step": step.position,
                        "table": table,
                        "policy": step.policy_name,
                        "cutoff": rules::cutoff_text(step.cutoff),
                        "action": step.action,
                        "rows": affected,
                        "remaining": remaining,
                        "held_rows": held.map(|h| h.0),
                        "error": error,
                    }),
                ),
                now,
            )
            .map(drop)
        })
        .map_err(|e: diesel::result::Error| Stop::Blocked(e.to_string()))
    };
    let sql = StepSql {
        backend: writer.backend(),
        schema: &step.schema_name,
        table: &step.table_name,
        predicate: &predicate,
        masks: if step.action == "mask" { &masks } else { &[] },
    };
    let count = sql.count(values).map_err(|e| fail(e.to_string()))?;
    if step.action == "hold" {
        let held = writer.count(&count).map_err(|e| fail(e.to_string()))?;
        return record("held", Some((held, step.hold_basis.as_deref().unwrap_or(""))), None, None, None);
    }
    // E6: the columns the step relies on, as planned.
    match writer.live_columns(&step.schema_name, &step.table_name) {
        Ok(Some(live)) => {
            let now = fingerprint(&live, &predicate, &masks);
            if now != step.fingerprint {
                let reason = "schema drift since the purge was planned; nothing was changed here";
                record("failed", None, None, None, Some(reason))?;
                return Err(fail(reason.into()));
            }
        }
        Ok(None) => {
            record("failed", None, None, None, Some("the table no longer exists"))?;
            return Err(fail("the table no longer exists".into()));
        }
        Err(e) => return Err(fail(e.to_string())),
    }
    {
        let mut conn = db.writer().map_err(|e| Stop::Blocked(e.to_string()))?;
        repo::start_step(&mut conn, step.id, now()).map_err(|e| Stop::Blocked(e.to_string()))?;
    }
    pause_point("purge step started");
    let limit = settings.margin.limit(step.expected_rows);
    let mut affected = step.affected_rows;
    // The table's columns and categories, read once for the holds re-checked before each batch.
    let mut hold_scope: crate::erasure::HoldScope = None;
    loop {
        heartbeat(db, run)?;
        writer.begin_write().map_err(|e| fail(e.to_string()))?;
        let batch = (|| -> Result<Option<i64>, Stop> {
            // E16: holds, re-checked inside the transaction.
            let mut conn = db.reader().map_err(|e| Stop::Blocked(e.to_string()))?;
            if let Some(hold) = hold_on_table(&mut conn, step.source_id, step.dataset_id, now().date(), &mut hold_scope)
                .map_err(|e| Stop::Blocked(e.to_string()))?
            {
                return Err(Stop::Blocked(format!("held:{}", hold.basis)));
            }
            let subject_holds: Vec<String> = repo::active_subject_holds(&mut conn, now().date())
                .map_err(|e| Stop::Blocked(e.to_string()))?
                .into_iter()
                .map(|h| h.id.to_string())
                .collect();
            if subject_holds.join(",") != step.subject_holds {
                return Err(fail("the subject holds changed since the purge was planned; run the purge again".into()));
            }
            drop(conn);
            let statement = if step.action == "mask" {
                sql.mask(values, Some(retention.batch))
            } else {
                sql.delete(values, Some(retention.batch))
            }
            .map_err(|e| fail(e.to_string()))?;
            let n = writer.execute(&statement).map_err(|e| fail(e.to_string()))? as i64;
            if affected + n > limit {
                return Err(fail(format!(
                    "blast-radius guard: {} rows would have changed, the preview counted {} (limit {limit}); the batch was rolled back",
                    affected + n,
                    step.expected_rows
                )));
            }
            pause_point("purge batch before commit");
            Ok(Some(n))
        })();
        let n = match batch {
            Ok(Some(n)) => n,
            Ok(None) => 0,
            Err(Stop::Blocked(reason)) if reason.starts_with("held:") => {
                writer.rollback();
                let basis = reason.trim_start_matches("held:").to_owned();
                let held = writer.count(&count).map_err(|e| fail(e.to_string()))?;
                return record("held", Some((held, &basis)), None, None, None);
            }
            Err(stop) => {
                writer.rollback();
                if let Stop::Blocked(reason) = &stop {
                    record("failed", None, None, None, Some(reason))?;
                }
                return Err(stop);
            }
        };
        writer.commit().map_err(|e| fail(e.to_string()))?;
        pause_point("purge batch committed");
        {
            let mut conn = db.writer().map_err(|e| Stop::Blocked(e.to_string()))?;
            repo::add_affected(&mut conn, step.id, n).map_err(|e| Stop::Blocked(e.to_string()))?;
        }
        affected += n;
        advanced(n.max(0) as u64);
        if n < retention.batch {
            break;
        }
    }
    // E17: a read-only check with the same predicate.
    let remaining = writer.count(&count).map_err(|e| fail(e.to_string()))?;
    if remaining > 0 {
        record("failed", None, Some(remaining), Some(&count.sql), Some("verification found rows past the period"))?;
        return Err(fail(format!("verification found {remaining} rows past the period")));
    }
    let held = (step.held_rows > 0).then(|| (step.held_rows, step.hold_basis.as_deref().unwrap_or("")));
    record("done", held, Some(0), Some(&count.sql), None)?;
    pause_point("purge step recorded");
    Ok(())
}

/// Ends a purge whose steps all finished: signs its receipt and records it, exactly once.
/// Returns the rows it changed.
fn complete(conn: &mut AnyConnection, keys: &Keys, run: &Run) -> Result<u64, RetentionError> {
    let steps = repo::steps_of(conn, run.id)?;
    let names = erasure_repo::source_names(conn)?;
    let now = now();
    let completion = audit::append(
        conn,
        &event(&AuditActor::system(), "retention.run_complete", "retention_run", run.id).after(json!({
            "rows": steps.iter().map(|s| s.affected_rows).sum::<i64>(),
            "held_rows": steps.iter().map(|s| s.held_rows).sum::<i64>(),
            "datasets": steps.len(),
        })),
        now,
    )?;
    let audit_from =
        crate::db::audit::first_seq_of(conn, "retention_run", &run.id.to_string())?.unwrap_or(completion.seq);
    let receipt = PurgeReceipt {
        run_id: run.id,
        as_of: run.as_of.and_utc().to_rfc3339(),
        finished_at: now.and_utc().to_rfc3339(),
        outcome: "done".into(),
        datasets: steps
            .iter()
            .map(|s| PurgedDataset {
                source: names.get(&s.source_id).map(|n| n.0.clone()).unwrap_or_default(),
                table: format!("{}.{}", s.schema_name, s.table_name),
                policy: s.policy_name.clone(),
                period: s.period.clone(),
                cutoff: rules::cutoff_text(s.cutoff),
                action: s.action.clone(),
                rows: s.affected_rows,
                held_rows: s.held_rows,
                hold_basis: s.hold_basis.clone(),
                remaining: s.remaining_rows,
                status: s.status.clone(),
            })
            .collect(),
        audit_from,
        audit_to: completion.seq,
    };
    let text = receipt.sign(keys.receipt_key());
    if !repo::finish_run(conn, run.id, run.lease, "done", None, Some(&text), now)? {
        return Err(ErasureError::Conflict("another worker took the purge over".into()));
    }
    Ok(steps.iter().map(|s| s.affected_rows.max(0) as u64).sum())
}

// ---------------------------------------------------------------------------------------------
// Reading

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunView {
    pub id: i64,
    pub mode: String,
    pub status: String,
    pub trigger: String,
    pub as_of: String,
    pub requested_by: String,
    pub error: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub has_receipt: bool,
    pub rows_past_period: i64,
    pub rows_changed: i64,
    pub held_rows: i64,
    pub steps: Vec<StepView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StepView {
    pub position: i32,
    pub source: String,
    pub dataset_id: i64,
    pub table: String,
    pub policy: String,
    pub period: String,
    pub policy_from: String,
    pub timestamp_column: Option<String>,
    pub cutoff: String,
    pub action: String,
    pub status: String,
    pub expected_rows: i64,
    pub affected_rows: i64,
    pub held_rows: i64,
    pub hold_basis: Option<String>,
    pub remaining_rows: Option<i64>,
    pub error: Option<String>,
}

fn utc(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn run_view(conn: &mut AnyConnection, id: i64) -> Result<RunView, RetentionError> {
    let run = repo::find_run(conn, id)?.ok_or_else(|| ErasureError::NotFound(format!("Purge {id}")))?;
    let steps = repo::steps_of(conn, id)?;
    let names = erasure_repo::source_names(conn)?;
    Ok(view(run, steps, &names))
}

fn view(run: Run, steps: Vec<Step>, names: &HashMap<i64, (String, String)>) -> RunView {
    RunView {
        id: run.id,
        mode: run.mode,
        status: run.status,
        trigger: run.trigger,
        as_of: utc(run.as_of),
        requested_by: run.requested_by,
        error: run.error,
        created_at: utc(run.created_at),
        finished_at: run.finished_at.map(utc),
        has_receipt: run.receipt.is_some(),
        rows_past_period: steps.iter().map(|s| s.expected_rows).sum(),
        rows_changed: steps.iter().map(|s| s.affected_rows).sum(),
        held_rows: steps.iter().map(|s| s.held_rows).sum(),
        steps: steps
            .into_iter()
            .map(|s| StepView {
                position: s.position,
                source: names.get(&s.source_id).map(|n| n.0.clone()).unwrap_or_default(),
                dataset_id: s.dataset_id,
                table: format!("{}.{}", s.schema_name, s.table_name),
                policy: s.policy_name,
                period: s.period,
                policy_from: s.policy_from,
                timestamp_column: s.timestamp_column,
                cutoff: rules::cutoff_text(s.cutoff),
                action: s.action,
                status: s.status,
                expected_rows: s.expected_rows,
                affected_rows: s.affected_rows,
                held_rows: s.held_rows,
                hold_basis: s.hold_basis,
                remaining_rows: s.remaining_rows,
                error: s.error,
            })
            .collect(),
    }
}

/// The newest runs, without their steps.
pub fn recent_runs(conn: &mut AnyConnection, limit: i64) -> Result<Vec<RunView>, RetentionError> {
    let names = erasure_repo::source_names(conn)?;
    let runs = repo::list_runs(conn, limit)?;
    let ids: Vec<i64> = runs.iter().map(|r| r.id).collect();
    let mut steps: HashMap<i64, Vec<Step>> = HashMap::new();
    for s in repo::steps_of_runs(conn, &ids)? {
        steps.entry(s.run_id).or_default().push(s);
    }
    Ok(runs
        .into_iter()
        .map(|run| {
            let run_steps = steps.remove(&run.id).unwrap_or_default();
            let mut v = view(run, run_steps, &names);
            v.steps.clear();
            v
        })
        .collect())
}

/// The signed receipt of a finished purge.
pub fn receipt(conn: &mut AnyConnection, id: i64) -> Result<String, RetentionError> {
    let run = repo::find_run(conn, id)?.ok_or_else(|| ErasureError::NotFound(format!("Purge {id}")))?;
    run.receipt
        .ok_or_else(|| ErasureError::NotFound(format!("A receipt for purge {id} (it has none until it is done)")))
}

// ---------------------------------------------------------------------------------------------
// Reports (R3)

/// A line of the storage-limitation report.
#[derive(Debug, Clone, Serialize)]
pub struct StorageLine {
    pub dataset_id: i64,
    pub source: String,
    pub dataset: String,
    /// no_policy | no_timestamp | past_due
    pub problem: String,
    pub detail: String,
    pub policy: Option<String>,
    pub rows_past_due: Option<i64>,
    pub counted_at: Option<String>,
}

/// R3: every active dataset holding personal data with no policy in force, with a policy that
/// cannot be enforced (no timestamp column), or with rows past their period as last counted.
pub fn storage_limitation(conn: &mut AnyConnection) -> Result<Vec<StorageLine>, RetentionError> {
    let inheritance = Inheritance::load(conn, None)?;
    let personal = repo::personal_datasets(conn)?;
    let sources = catalog::list_sources(conn)?;
    let source_ids: Vec<i64> = sources.iter().map(|s| s.id).collect();
    let datasets = erasure_repo::datasets_of_sources(conn, &source_ids)?;
    let timestamps = repo::timestamps(conn)?;
    let counts = repo::latest_counts(conn)?;
    let mut out = Vec::new();
    for d in datasets.iter().filter(|d| personal.contains(&d.id)) {
        let source = inheritance.source_name(d.source_id);
        let name = if d.schema_name.is_empty() { d.name.clone() } else { format!("{}.{}", d.schema_name, d.name) };
        let line = |problem: &str, detail: String, policy: Option<String>| StorageLine {
            dataset_id: d.id,
            source: source.clone(),
            dataset: name.clone(),
            problem: problem.into(),
            detail,
            policy,
            rows_past_due: None,
            counted_at: None,
        };
        match inheritance.in_force(d.id, d.source_id, &d.schema_name) {
            None => out.push(line("no_policy", "personal data with no retention policy in force".into(), None)),
            Some(f) if d.kind == "table" && !timestamps.contains_key(&d.id) => out.push(line(
                "no_timestamp",
                format!("{} ({}) cannot be enforced: no column dates its rows", f.policy, f.period),
                Some(f.policy),
            )),
            Some(f) => {
                if let Some((at, n)) = counts.get(&d.id)
                    && *n > 0
                {
                    let mut l =
                        line("past_due", format!("{n} rows past {} ({}) waiting", f.policy, f.period), Some(f.policy));
                    l.rows_past_due = Some(*n);
                    l.counted_at = Some(utc(*at));
                    out.push(l);
                }
            }
        }
    }
    Ok(out)
}

/// A processing activity of the records of processing (Art. 30).
#[derive(Debug, Clone, Serialize)]
pub struct ProcessingRecord {
    pub processing: String,
    pub kind: String,
    pub source: String,
    pub purpose: String,
    pub datasets_read: Vec<String>,
    pub datasets_written: Vec<String>,
    pub categories: Vec<String>,
    pub special_categories: bool,
    pub recipients: Vec<String>,
    pub time_limits: Vec<String>,
}

/// R3: the records of processing, from the data that is enforced: one record per pipeline
/// (categories of the personal data it reads or writes, recipients its lineage reaches outside
/// the databases, the retention policies in force on what it touches) and one per source
/// (storage).
pub fn records_of_processing(conn: &mut AnyConnection) -> Result<Vec<ProcessingRecord>, RetentionError> {
    use crate::db::lineage as lineage_repo;
    let inheritance = Inheritance::load(conn, None)?;
    let sources = catalog::list_sources(conn)?;
    let source_ids: Vec<i64> = sources.iter().map(|s| s.id).collect();
    let datasets: HashMap<i64, erasure_repo::DatasetRow> =
        erasure_repo::datasets_of_sources(conn, &source_ids)?.into_iter().map(|d| (d.id, d)).collect();
    let personal = repo::personal_datasets(conn)?;
    let special: std::collections::BTreeSet<i64> =
        crate::db::classification::list_categories(conn)?.into_iter().filter(|c| c.special).map(|c| c.id).collect();
    let name_of = |id: i64| {
        datasets.get(&id).map(|d| {
            let source = inheritance.source_name(d.source_id);
            if d.schema_name.is_empty() {
                format!("{source}: {}", d.name)
            } else {
                format!("{source}.{}.{}", d.schema_name, d.name)
            }
        })
    };
    let limit_of = |id: i64| {
        let d = datasets.get(&id)?;
        inheritance
            .in_force(d.id, d.source_id, &d.schema_name)
            .map(|f| format!("{}: {} ({}, {})", name_of(id).unwrap_or_default(), f.period, f.period_words, f.action))
    };
    let mut out = Vec::new();
    for pipeline in lineage_repo::pipeline_datasets(conn)? {
        let (reads, writes) = (&pipeline.reads, &pipeline.writes);
        let touched: Vec<i64> = reads.iter().chain(writes.iter()).copied().collect();
        if !touched.iter().any(|id| personal.contains(id) || !inheritance.categories_of(*id).is_empty()) {
            continue;
        }
        let mut cats: BTreeMap<String, bool> = BTreeMap::new();
        for id in &touched {
            for c in inheritance.categories_of(*id) {
                cats.insert(inheritance.category_label(*c), special.contains(c));
            }
        }
        let recipients: Vec<String> = writes
            .iter()
            .filter(|id| datasets.get(id).is_some_and(|d| d.kind == "external"))
            .filter_map(|id| name_of(*id))
            .collect();
        let mut limits: Vec<String> = touched.iter().filter_map(|id| limit_of(*id)).collect();
        limits.sort();
        limits.dedup();
        out.push(ProcessingRecord {
            processing: pipeline.name.clone(),
            kind: "pipeline".into(),
            source: inheritance.source_name(pipeline.source_id),
            purpose: pipeline.path.clone(),
            datasets_read: reads.iter().filter_map(|id| name_of(*id)).collect(),
            datasets_written: writes.iter().filter_map(|id| name_of(*id)).collect(),
            special_categories: cats.values().any(|s| *s),
            categories: cats.into_keys().collect(),
            recipients,
            time_limits: limits,
        });
    }
    for s in &sources {
        let held: Vec<i64> =
            datasets.values().filter(|d| d.source_id == s.id && personal.contains(&d.id)).map(|d| d.id).collect();
        if held.is_empty() {
            continue;
        }
        let mut cats: BTreeMap<String, bool> = BTreeMap::new();
        for id in &held {
            for c in inheritance.categories_of(*id) {
                cats.insert(inheritance.category_label(*c), special.contains(c));
            }
        }
        let mut limits: Vec<String> = held.iter().filter_map(|id| limit_of(*id)).collect();
        limits.sort();
        let mut names: Vec<String> = held.iter().filter_map(|id| name_of(*id)).collect();
        names.sort();
        out.push(ProcessingRecord {
            processing: format!("Storage in {}", s.name),
            kind: "storage".into(),
            source: s.name.clone(),
            purpose: s.description.clone().unwrap_or_default(),
            datasets_read: Vec::new(),
            datasets_written: names,
            special_categories: cats.values().any(|v| *v),
            categories: cats.into_keys().collect(),
            recipients: Vec::new(),
            time_limits: if limits.is_empty() { vec!["no retention policy in force".into()] } else { limits },
        });
    }
    Ok(out)
}

/// The records of processing as CSV (lists joined with "; ").
pub fn records_csv(records: &[ProcessingRecord]) -> String {
    let mut out = String::new();
    crate::csv::write_record(
        &mut out,
        &[
            "processing",
            "kind",
            "source",
            "purpose",
            "categories",
            "special_categories",
            "datasets_read",
            "datasets_written",
            "recipients",
            "time_limits",
        ],
    );
    for r in records {
        crate::csv::write_record(
            &mut out,
            &[
                &r.processing,
                &r.kind,
                &r.source,
                &r.purpose,
                &r.categories.join("; "),
                if r.special_categories { "yes" } else { "no" },
                &r.datasets_read.join("; "),
                &r.datasets_written.join("; "),
                &r.recipients.join("; "),
                &r.time_limits.join("; "),
            ],
        );
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Legal holds (shared with erasure, E16)

/// What a hold covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldScope {
    Source(i64),
    Dataset(i64),
    Column(i64),
    Category(i64),
    /// A data subject, by identifier type and value (kept only as an HMAC and sealed).
    Subject {
        identifier_type: String,
        value: String,
    },
}

#[derive(Debug, Clone)]
pub struct HoldInput {
    pub scope: HoldScope,
    pub basis: String,
    pub reason: String,
    pub until: Option<chrono::NaiveDate>,
}

/// Places a legal hold; audited (a subject hold's audit event names no identifier).
pub fn add_hold(
    conn: &mut AnyConnection,
    keys: &Keys,
    by: &AuditActor,
    input: &HoldInput,
) -> Result<i64, RetentionError> {
    use crate::governance::erasure::{HOLD_BASES, subject};
    if !HOLD_BASES.iter().any(|(k, _)| *k == input.basis) {
        return Err(ErasureError::Invalid(format!(
            "The basis is one of: {}.",
            HOLD_BASES.iter().map(|b| b.0).collect::<Vec<_>>().join(", ")
        )));
    }
    let reason = input.reason.trim();
    if reason.is_empty() {
        return Err(ErasureError::Invalid("A hold needs a reason.".into()));
    }
    let now = now();
    if input.until.is_some_and(|d| d < now.date()) {
        return Err(ErasureError::Invalid("A hold's end date cannot be in the past.".into()));
    }
    let (scope, scope_id, identifier_type, subject_hmac, sealed) = match &input.scope {
        HoldScope::Source(id) => ("source", Some(*id), None, None, None),
        HoldScope::Dataset(id) => ("dataset", Some(*id), None, None, None),
        HoldScope::Column(id) => ("column", Some(*id), None, None, None),
        HoldScope::Category(id) => ("category", Some(*id), None, None, None),
        HoldScope::Subject { identifier_type, value } => {
            let normalised =
                subject::normalise(identifier_type, value).map_err(|e| ErasureError::Invalid(e.to_string()))?;
            (
                "subject",
                None,
                Some(identifier_type.clone()),
                Some(keys.subject_hmac(identifier_type, &normalised)),
                Some(crate::erasure::seal_hold_subject(keys, identifier_type, &normalised)),
            )
        }
    };
    dialect::write_transaction(conn, |conn| {
        let exists = match &input.scope {
            HoldScope::Source(id) => catalog::find_source(conn, *id)?.is_some(),
            HoldScope::Dataset(id) => catalog::find_dataset(conn, *id)?.is_some(),
            HoldScope::Column(id) => !catalog::columns_by_id(conn, &[*id])?.is_empty(),
            HoldScope::Category(id) => crate::db::classification::list_categories(conn)?.iter().any(|c| c.id == *id),
            HoldScope::Subject { .. } => true,
        };
        if !exists {
            return Err(ErasureError::NotFound(format!("The {scope} {}", scope_id.unwrap_or_default())));
        }
        let hold = erasure_repo::insert_hold(
            conn,
            &erasure_repo::NewHold {
                scope: scope.into(),
                scope_id,
                identifier_type: identifier_type.clone(),
                subject_hmac,
                basis: input.basis.clone(),
                reason: reason.to_owned(),
                ends_on: input.until,
                created_by: by.actor.clone(),
                created_at: now,
            },
        )?;
        if let Some(sealed) = &sealed {
            repo::set_hold_subject(conn, hold.id, sealed)?;
        }
        audit::append(
            conn,
            &by.event("hold.add", "legal_hold")
                .entity_id(hold.id)
                .after(json!({
                    "scope": scope, "scope_id": scope_id, "identifier_type": identifier_type,
                    "basis": input.basis, "until": input.until,
                }))
                .reason(reason),
            now,
        )?;
        Ok(hold.id)
    })
}

/// Releases a hold (its sealed identifier is wiped); audited with the reason.
pub fn release_hold(conn: &mut AnyConnection, by: &AuditActor, id: i64, reason: &str) -> Result<(), RetentionError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ErasureError::Invalid("Say why the hold is released.".into()));
    }
    let now = now();
    dialect::write_transaction(conn, |conn| {
        if !repo::release_hold(conn, id, &by.actor, now)? {
            return Err(ErasureError::Conflict(format!("Hold {id} does not exist or is already released.")));
        }
        audit::append(conn, &by.event("hold.release", "legal_hold").entity_id(id).reason(reason), now)?;
        Ok(())
    })
}

/// A hold as pages and the CLI show it.
#[derive(Debug, Clone, Serialize)]
pub struct HoldView {
    pub id: i64,
    pub scope: String,
    /// What it covers, for people (a subject hold shows its identifier type only).
    pub target: String,
    /// Where the target lives in the app, when it has a page.
    pub link: Option<String>,
    pub basis: String,
    pub basis_label: String,
    pub reason: String,
    pub ends_on: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub active: bool,
    pub released_by: Option<String>,
}

pub fn holds(conn: &mut AnyConnection) -> Result<Vec<HoldView>, RetentionError> {
    let rows = repo::list_holds(conn)?;
    let inheritance = Inheritance::load(conn, Some(&[]))?; // names only
    let today = now().date();
    let mut out = Vec::with_capacity(rows.len());
    for h in rows {
        let id = h.scope_id.unwrap_or_default();
        let (target, link) = match h.scope.as_str() {
            "source" => (format!("source {}", inheritance.source_name(id)), Some(format!("/sources/{id}"))),
            "dataset" => match catalog::find_dataset(conn, id)? {
                Some((d, s)) => {
                    (format!("dataset {}.{}.{}", s.name, d.schema_name, d.name), Some(format!("/datasets/{id}")))
                }
                None => (format!("dataset {id}"), None),
            },
            "column" => match catalog::columns_by_id(conn, &[id])?.into_iter().next() {
                Some(c) => match catalog::find_dataset(conn, c.dataset_id)? {
                    Some((d, s)) => (
                        format!("column {}.{}.{}.{}", s.name, d.schema_name, d.name, c.name),
                        Some(format!("/datasets/{}", d.id)),
                    ),
                    None => (format!("column {id}"), None),
                },
                None => (format!("column {id}"), None),
            },
            "category" => (format!("category {}", inheritance.category_label(id)), None),
            _ => (
                format!(
                    "a data subject ({} {}…)",
                    h.identifier_type.clone().unwrap_or_default(),
                    h.subject_hmac.as_deref().unwrap_or("").chars().take(10).collect::<String>()
                ),
                None,
            ),
        };
        out.push(HoldView {
            id: h.id,
            scope: h.scope.clone(),
            target,
            link,
            basis_label: crate::governance::erasure::hold_basis_label(&h.basis).unwrap_or("").to_owned(),
            basis: h.basis,
            reason: h.reason,
            ends_on: h.ends_on.map(|d| d.to_string()),
            created_by: h.created_by,
            created_at: utc(h.created_at),
            active: h.released_at.is_none() && h.ends_on.is_none_or(|d| d >= today),
            released_by: h.released_by,
        });
    }
    Ok(out)
}
