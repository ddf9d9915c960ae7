//! GDPR erasure end to end (GOVERNANCE.md E1–E20): submitting a request, planning it against the
//! catalog and the live targets with exact dry-run counts, four-eyes approval, executing the plan
//! step by step on the targets (resumable after a crash), verification, recipients to notify,
//! and the signed receipt. The rules live in `governance::erasure`; the rows in `db::erasure`;
//! the statements run through `targets::erasure`. Pages, the API, the CLI and the worker call in.

use std::collections::{BTreeSet, HashMap};

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::ErasureSettings;
use crate::db::audit::{self, AuditActor};
use crate::db::erasure::{self as repo, NewRequest, NewStep, Request, Run, Step};
use crate::db::propagation::IDENTIFIER;
use crate::db::{AnyConnection, Db, catalog, dialect, now};
use crate::governance::erasure::plan::{
    self as planner, Action, Column, ForeignKey, Graph, Plan, PlannedStep, Resolver, StepAction, Table, TableKind,
};
use crate::governance::erasure::receipt::{Exception, Receipt, RecipientResult, TargetResult};
use crate::governance::erasure::sql::{Mask, Predicate, StepSql, Values};
use crate::governance::erasure::{self as rules, Status, subject};
use crate::jobs::ProgressSink;
use crate::keys::Keys;
use crate::targets::erasure::Writer;
use crate::targets::{ResolvedTarget, TargetError};

#[derive(Debug, thiserror::Error)]
pub enum ErasureError {
    #[error("{0} does not exist")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("catalog: {0}")]
    Db(#[from] diesel::result::Error),
    #[error("catalog connection: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("{0}")]
    Target(#[from] TargetError),
    #[error("{0}")]
    Sealed(#[from] crate::keys::SealError),
}

/// What the privacy desk submits.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Submission {
    pub identifier_type: String,
    pub value: String,
    pub received_on: Option<NaiveDate>,
    pub channel: Option<String>,
    pub requester_ref: Option<String>,
    pub idempotency_key: Option<String>,
    pub notes: Option<String>,
}

/// The plaintext working copy: the subject's identifier and the related keys a plan resolved.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct WorkingCopy {
    values: Values,
}

fn seal(keys: &Keys, values: &Values) -> String {
    let copy = WorkingCopy { values: values.clone() };
    keys.seal(serde_json::to_string(&copy).unwrap_or_default().as_bytes())
}

fn unseal(keys: &Keys, request: &Request) -> Result<Values, ErasureError> {
    let sealed = request.sealed_subject.as_deref().ok_or_else(|| {
        ErasureError::Conflict("this request has ended: its working copy of the identifier is erased".into())
    })?;
    unseal_values(keys, sealed)
}

fn unseal_values(keys: &Keys, sealed: &str) -> Result<Values, ErasureError> {
    let bytes = keys.unseal(sealed)?;
    let copy: WorkingCopy = serde_json::from_slice(&bytes).map_err(|_| crate::keys::SealError)?;
    Ok(copy.values)
}

/// Seals a subject hold's normalised identifier, for purges to spare the subject's rows.
pub(crate) fn seal_hold_subject(keys: &Keys, identifier_type: &str, normalised: &str) -> String {
    let mut values = Values::new();
    values.insert(identifier_type.to_owned(), vec![normalised.to_owned()]);
    seal(keys, &values)
}

/// The rows of a subject under a legal hold, per dataset: the predicates an erasure plan for
/// the subject would use (related keys, foreign keys and lineage copies included), with their
/// value sets renamed under `hold:ID:` so several holds' values live in one map. Purges spare
/// these rows (E16).
pub(crate) fn held_subject_rows(
    conn: &mut AnyConnection,
    keys: &Keys,
    settings: ErasureSettings,
    hold: &crate::db::retention::SubjectHold,
    today: NaiveDate,
) -> Result<(HashMap<i64, Predicate>, Values), ErasureError> {
    let hold_id = hold.id;
    let mut values = unseal_values(keys, &hold.sealed)?;
    let mut problems = Vec::new();
    let subject = (hold.identifier_type.as_str(), hold.subject_hmac.as_str());
    let (graph, mut sessions) = build_graph(conn, subject, today, settings, &mut problems)?;
    let plan = planner::plan(&graph, &mut values, &mut sessions);
    sessions.end();
    if let Some(problem) = problems.first() {
        return Err(ErasureError::Conflict(format!(
            "the rows of the subject under hold {hold_id} cannot be found: {problem}"
        )));
    }
    let prefix = format!("hold:{hold_id}:");
    let mut out = HashMap::new();
    for step in plan.steps.into_iter().filter(|s| s.action != StepAction::Refresh) {
        let mut predicate = step.predicate;
        predicate.prefix_values(&prefix);
        out.insert(step.dataset_id, predicate);
    }
    let values = values.into_iter().map(|(k, v)| (format!("{prefix}{k}"), v)).collect();
    Ok((out, values))
}

/// The first active hold that covers a table: one on its source, on it, on one of its columns
/// or on a category one of its columns holds (subject holds are matched by their rows).
pub(crate) fn hold_covering<'h>(
    holds: &'h [repo::Hold],
    source_id: i64,
    dataset_id: i64,
    columns: &[i64],
    categories: &[i64],
) -> Option<&'h repo::Hold> {
    holds.iter().find(|h| match h.scope.as_str() {
        "source" => h.scope_id == Some(source_id),
        "dataset" => h.scope_id == Some(dataset_id),
        "column" => h.scope_id.is_some_and(|id| columns.contains(&id)),
        "category" => h.scope_id.is_some_and(|id| categories.contains(&id)),
        _ => false,
    })
}

fn status_of(request: &Request) -> Status {
    Status::parse(&request.status).unwrap_or(Status::Blocked)
}

fn load(conn: &mut AnyConnection, id: i64) -> Result<Request, ErasureError> {
    repo::find_request(conn, id)?.ok_or_else(|| ErasureError::NotFound(format!("Erasure request {id}")))
}

fn event(by: &AuditActor, action: &str, id: i64) -> audit::NewAuditEvent {
    by.event(action, "erasure_request").entity_id(id)
}

/// The channels a request can arrive through.
pub const CHANNELS: [&str; 6] = ["web_form", "email", "letter", "phone", "in_person", "api"];

/// E4, E1, E19: stores a request under the keyed HMAC of its normalised identifier, with the
/// plaintext only sealed. The same idempotency key returns the first request (`false`).
pub fn submit(
    conn: &mut AnyConnection,
    keys: &Keys,
    by: &AuditActor,
    submission: &Submission,
    now: NaiveDateTime,
) -> Result<(Request, bool), ErasureError> {
    let identifier_type = submission.identifier_type.trim();
    let known = repo::identifier_keys(conn)?;
    if !known.values().any(|k| k == identifier_type) {
        return Err(ErasureError::Invalid(format!(
            "{identifier_type:?} is not an identifier type; use one of: {}",
            known.values().cloned().collect::<BTreeSet<_>>().into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    let value = subject::normalise(identifier_type, &submission.value)
        .map_err(|e| ErasureError::Invalid(format!("The identifier: {e}.")))?;
    let hmac = keys.subject_hmac(identifier_type, &value);
    let key = submission.idempotency_key.as_deref().map(str::trim).filter(|k| !k.is_empty());
    let today = now.date();
    let received = submission.received_on.unwrap_or(today);
    if received > today {
        return Err(ErasureError::Invalid("The received date is in the future.".into()));
    }
    let channel = submission.channel.as_deref().map(str::trim).filter(|c| !c.is_empty()).unwrap_or("web_form");
    if !CHANNELS.contains(&channel) {
        return Err(ErasureError::Invalid(format!("The channel is one of: {}.", CHANNELS.join(", "))));
    }
    let text = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    dialect::write_transaction(conn, |conn| {
        if let Some(key) = key
            && let Some(existing) = repo::find_by_idempotency_key(conn, key)?
        {
            if existing.subject_hmac == hmac && existing.identifier_type == identifier_type {
                return Ok((existing, false));
            }
            return Err(ErasureError::Conflict(
                "That idempotency key was already used for a different request.".into(),
            ));
        }
        let mut values = Values::new();
        values.insert(identifier_type.to_owned(), vec![value.clone()]);
        let due = rules::due_date(received);
        let request = repo::insert_request(
            conn,
            &NewRequest {
                identifier_type: identifier_type.to_owned(),
                subject_hmac: hmac.clone(),
                sealed_subject: Some(seal(keys, &values)),
                received_on: received,
                due_on: due,
                original_due_on: due,
                channel: channel.to_owned(),
                requester_ref: text(&submission.requester_ref),
                idempotency_key: key.map(str::to_owned),
                notes: text(&submission.notes),
                status: Status::Received.as_str().to_owned(),
                submitted_by: by.actor.clone(),
                created_at: now,
                updated_at: now,
            },
        )?;
        audit::append(
            conn,
            &event(by, "erasure.submit", request.id).after(json!({
                "identifier_type": identifier_type,
                "received_on": received.to_string(),
                "due_on": due.to_string(),
                "channel": channel,
            })),
            now,
        )?;
        Ok((request, true))
    })
}

/// E2: extends the due date once, by one or two months, before the original due date.
pub fn extend(
    conn: &mut AnyConnection,
    by: &AuditActor,
    id: i64,
    months: u32,
    reason: &str,
    now: NaiveDateTime,
) -> Result<Request, ErasureError> {
    dialect::write_transaction(conn, |conn| {
        let request = load(conn, id)?;
        let due = rules::extend(
            request.original_due_on,
            request.extension_reason.is_some(),
            status_of(&request),
            months,
            reason,
            now.date(),
        )
        .map_err(|e| match e {
            rules::ExtensionError::BadLength | rules::ExtensionError::NoReason => ErasureError::Invalid(e.to_string()),
            _ => ErasureError::Conflict(e.to_string()),
        })?;
        repo::set_extension(conn, id, due, reason.trim(), &by.actor, now)?;
        audit::append(
            conn,
            &event(by, "erasure.extend", id)
                .before(json!({ "due_on": request.due_on.to_string() }))
                .after(json!({ "due_on": due.to_string(), "months": months }))
                .reason(reason.trim()),
            now,
        )?;
        load(conn, id)
    })
}

// ---------------------------------------------------------------------------------------------
// Planning

/// A plan as made and measured: each step with its dry-run count.
#[derive(Debug, Clone, Default)]
pub struct PlanReport {
    pub steps: Vec<(PlannedStep, i64)>,
    pub plan: Plan,
}

impl PlanReport {
    pub fn is_executable(&self) -> bool {
        self.plan.is_executable()
    }

    /// What blocks the plan, one line each.
    pub fn refusals(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .plan
            .uncovered
            .iter()
            .map(|u| match &u.column {
                Some(c) => format!("{}.{c} {}", u.table, u.reason),
                None => format!("{} {}", u.table, u.reason),
            })
            .collect();
        out.extend(self.plan.problems.iter().cloned());
        out
    }
}

/// Live sessions on the sources a plan touches, each in one read snapshot (E9).
struct Sessions {
    writers: HashMap<i64, Writer>,
}

impl Sessions {
    fn get(&mut self, source_id: i64) -> Option<&mut Writer> {
        self.writers.get_mut(&source_id)
    }

    fn end(&mut self) {
        for w in self.writers.values_mut() {
            w.rollback();
        }
    }
}

impl Resolver for Sessions {
    fn resolve(
        &mut self,
        table: &Table,
        predicate: &Predicate,
        column: &str,
        values: &Values,
    ) -> Result<Vec<String>, String> {
        let writer = self.writers.get_mut(&table.source_id).ok_or("the source is not reachable")?;
        let step =
            StepSql { backend: writer.backend(), schema: &table.schema, table: &table.name, predicate, masks: &[] };
        let statement = step.values_of(column, values).map_err(|e| e.to_string())?;
        writer.strings(&statement).map_err(|e| e.to_string())
    }
}

fn resolve_target(conn: &mut AnyConnection, source_id: i64) -> Result<ResolvedTarget, ErasureError> {
    let source =
        catalog::find_source(conn, source_id)?.ok_or_else(|| ErasureError::NotFound(format!("Source {source_id}")))?;
    Ok(ResolvedTarget::stored(&source.kind, &source.connection_kind, &source.connection_ref)?)
}

/// Builds the graph a plan reads: the datasets of every source holding personal data, their
/// columns with live types, identifier marks (own, or propagated through copies), where their
/// personal data came from, actions, holds, and the live foreign keys.
fn build_graph(
    conn: &mut AnyConnection,
    subject: (&str, &str),
    today: NaiveDate,
    settings: ErasureSettings,
    problems: &mut Vec<String>,
) -> Result<(Graph, Sessions), ErasureError> {
    let (identifier_type, subject_hmac) = subject;
    let source_ids = repo::sources_with_personal_data(conn)?;
    let names = repo::source_names(conn)?;
    let mut sessions = Sessions { writers: HashMap::new() };
    let mut live: HashMap<i64, crate::targets::Snapshot> = HashMap::new();
    for &id in &source_ids {
        let name = names.get(&id).map(|n| n.0.clone()).unwrap_or_default();
        let opened = resolve_target(conn, id).and_then(|t| {
            let snapshot = t.introspect()?;
            let mut w = Writer::open(&t, settings.statement_timeout_secs, settings.lock_timeout_secs)?;
            w.begin_snapshot()?;
            Ok((snapshot, w))
        });
        match opened {
            Ok((snapshot, writer)) => {
                live.insert(id, snapshot);
                sessions.writers.insert(id, writer);
            }
            Err(e) => problems.push(format!("source {name} cannot be reached: {e}")),
        }
    }
    let datasets = repo::datasets_of_sources(conn, &source_ids)?;
    let dataset_ids: Vec<i64> = datasets.iter().map(|d| d.id).collect();
    let columns = repo::columns_of_datasets(conn, &dataset_ids)?;
    let tagged: Vec<i64> =
        columns.iter().filter(|c| c.personal_data || c.identifier_type.is_some()).map(|c| c.id).collect();
    let own = repo::own_identifier_columns(conn, &tagged)?;
    let identifier_keys = repo::identifier_keys(conn)?;
    let tags = repo::propagated_tags_of(conn, &tagged)?;
    let mut path_columns: BTreeSet<i64> = BTreeSet::new();
    for t in tags.iter().filter(|t| t.tag_kind == IDENTIFIER) {
        path_columns.extend(t.path_ids());
    }
    let copies = repo::copy_pairs(conn, &path_columns)?;
    // Per column, the identifier marks that reached it by lineage, and whether one came through
    // copies only (then the subject's value can be matched there as it is).
    let mut propagated_marks: HashMap<i64, Vec<(String, bool)>> = HashMap::new();
    let mut origins: HashMap<i64, Vec<i64>> = HashMap::new();
    for t in &tags {
        origins.entry(t.column_id).or_default().push(t.source_column_id);
        if t.tag_kind == IDENTIFIER
            && let Some(key) = identifier_keys.get(&t.tag_value)
        {
            let ids = t.path_ids();
            let copy = ids.windows(2).all(|w| copies.contains(&(w[0], w[1])));
            let marks = propagated_marks.entry(t.column_id).or_default();
            match marks.iter_mut().find(|(k, _)| k == key) {
                Some((_, by_copy)) => *by_copy |= copy,
                None => marks.push((key.clone(), copy)),
            }
        }
    }
    let mut derivations: HashMap<i64, Vec<planner::Derivation>> = HashMap::new();
    for (to, from, expression, json_key) in repo::derivations_into(conn, &tagged)? {
        let d = match (expression, json_key) {
            (Some(template), _) => planner::Derivation::Expression { source: from, template },
            (None, Some(key)) => planner::Derivation::JsonField { source: from, key },
            (None, None) => continue,
        };
        let list = derivations.entry(to).or_default();
        if !list.contains(&d) {
            list.push(d);
        }
    }
    let actions = repo::dataset_actions(conn)?;
    let holds = repo::active_holds(conn, today)?;
    let subject_hold = holds.iter().find(|h| {
        h.scope == "subject"
            && h.identifier_type.as_deref() == Some(identifier_type)
            && h.subject_hmac.as_deref() == Some(subject_hmac)
    });
    let category_of = crate::db::classification::category_ids_of(conn, &tagged)?;

    let mut by_dataset: HashMap<i64, Vec<&repo::ColumnRow>> = HashMap::new();
    for c in &columns {
        by_dataset.entry(c.dataset_id).or_default().push(c);
    }
    let mut tables = Vec::with_capacity(datasets.len());
    let mut key_of: HashMap<(i64, String, String), i64> = HashMap::new();
    for d in &datasets {
        let snapshot = live.get(&d.source_id);
        let live_table =
            snapshot.and_then(|s| s.datasets.iter().find(|t| t.schema == d.schema_name && t.name == d.name));
        let kind = match (d.kind.as_str(), snapshot.is_some()) {
            ("external", _) => TableKind::External,
            (_, false) => TableKind::Unreachable,
            ("view", _) => TableKind::View,
            ("materialized_view", _) => TableKind::MaterializedView,
            ("table", _) if live_table.is_some() => TableKind::Table,
            _ => TableKind::Unreachable,
        };
        key_of.insert((d.source_id, d.schema_name.clone(), d.name.clone()), d.id);
        let cols: Vec<Column> = by_dataset
            .get(&d.id)
            .map(|cs| {
                cs.iter()
                    .map(|c| {
                        let live_col = live_table.and_then(|t| t.columns.iter().find(|lc| lc.name == c.name));
                        let marks = propagated_marks.get(&c.id).map_or(&[][..], Vec::as_slice);
                        // A copy of an identifier is one; prefer a mark that came by copies.
                        let identifier = own
                            .get(&c.id)
                            .cloned()
                            .or_else(|| marks.iter().find(|(_, copy)| *copy).map(|(k, _)| k.clone()))
                            .or_else(|| marks.first().map(|(k, _)| k.clone()))
                            .or_else(|| c.identifier_type.clone());
                        let identifier_matchable = own.contains_key(&c.id)
                            || marks.iter().any(|(k, copy)| *copy && Some(k) == identifier.as_ref());
                        Column {
                            id: c.id,
                            name: c.name.clone(),
                            data_type: live_col.map_or(c.data_type.clone(), |l| l.data_type.clone()),
                            nullable: live_col.map_or(c.nullable, |l| l.nullable),
                            personal: c.personal_data,
                            identifier,
                            identifier_matchable,
                            origins: origins.get(&c.id).cloned().unwrap_or_default(),
                            derivations: derivations.get(&c.id).cloned().unwrap_or_default(),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let column_ids: Vec<i64> = cols.iter().map(|c| c.id).collect();
        let categories: Vec<i64> =
            column_ids.iter().flat_map(|id| category_of.get(id).into_iter().flatten().copied()).collect();
        let hold = subject_hold
            .or_else(|| hold_covering(&holds, d.source_id, d.id, &column_ids, &categories))
            .map(|h| h.basis.clone());
        tables.push(Table {
            dataset_id: d.id,
            source_id: d.source_id,
            source: names.get(&d.source_id).map(|n| n.0.clone()).unwrap_or_default(),
            schema: d.schema_name.clone(),
            name: d.name.clone(),
            kind,
            action: actions.get(&d.id).and_then(|a| Action::parse(a)).unwrap_or(Action::Delete),
            hold,
            columns: cols,
        });
    }
    let mut view_sources = Vec::new();
    for (source_id, writer) in sessions.writers.iter_mut() {
        match writer.materialized_view_sources() {
            Ok(deps) => {
                for (vs, vn, ts, tn) in deps {
                    if let (Some(&view), Some(&table)) =
                        (key_of.get(&(*source_id, vs, vn)), key_of.get(&(*source_id, ts, tn)))
                    {
                        view_sources.push((view, table));
                    }
                }
            }
            Err(e) => problems.push(format!("reading materialized views: {e}")),
        }
    }
    let mut foreign_keys = Vec::new();
    for (source_id, snapshot) in &live {
        for fk in &snapshot.foreign_keys {
            let child = key_of.get(&(*source_id, fk.from_schema.clone(), fk.from_table.clone()));
            let parent = key_of.get(&(*source_id, fk.to_schema.clone(), fk.to_table.clone()));
            if let (Some(&child), Some(&parent)) = (child, parent) {
                foreign_keys.push(ForeignKey {
                    child,
                    child_columns: fk.from_columns.clone(),
                    parent,
                    parent_columns: fk.to_columns.clone(),
                    nullable: false,
                });
            }
        }
    }
    let exports = repo::exports(conn)?;
    Ok((Graph { tables, foreign_keys, view_sources, exports }, sessions))
}

/// E5–E9: plans the request and counts each step's rows in one snapshot per source; stores the
/// plan (and the related keys, sealed) when nothing is uncovered, else records why not.
pub fn plan(
    db: &Db,
    keys: &Keys,
    settings: ErasureSettings,
    by: &AuditActor,
    id: i64,
) -> Result<PlanReport, ErasureError> {
    let mut conn = db.writer()?;
    let request = load(&mut conn, id)?;
    if !status_of(&request).can_plan() {
        return Err(ErasureError::Conflict(format!(
            "A request that is {} cannot be planned again.",
            status_of(&request).label().to_lowercase()
        )));
    }
    let mut values = unseal(keys, &request)?;
    // Only the subject's own identifier seeds a plan; related keys are found again.
    values.retain(|k, _| *k == request.identifier_type);
    let mut problems = Vec::new();
    let today = request.received_on.max(now().date());
    let subject = (request.identifier_type.as_str(), request.subject_hmac.as_str());
    let (graph, mut sessions) = build_graph(&mut conn, subject, today, settings, &mut problems)?;
    let mut plan = planner::plan(&graph, &mut values, &mut sessions);
    plan.problems.extend(problems);
    let mut steps = Vec::with_capacity(plan.steps.len());
    for s in &plan.steps {
        // E6 at planning time: the catalog's columns as the target has them now.
        if s.action != StepAction::Refresh
            && let Some(writer) = sessions.get(s.source_id)
            && let Some(what) = drift(writer, &s.schema, &s.table, &s.fingerprint)
        {
            plan.problems.push(format!("schema drift since the last crawl: {what}; crawl the source again"));
        }
        let count = match (s.action, sessions.get(s.source_id)) {
            (_, None) => 0,
            (action, Some(writer)) => {
                let sql = StepSql {
                    backend: writer.backend(),
                    schema: &s.schema,
                    table: &s.table,
                    predicate: &s.predicate,
                    masks: if action == StepAction::Mask { &s.masks } else { &[] },
                };
                match sql
                    .count(&values)
                    .map_err(|e| e.to_string())
                    .and_then(|st| writer.count(&st).map_err(|e| e.to_string()))
                {
                    Ok(n) => n,
                    Err(e) => {
                        plan.problems.push(format!("counting rows in {}.{}: {e}", s.schema, s.table));
                        0
                    }
                }
            }
        };
        steps.push((s.clone(), count));
    }
    sessions.end();
    let report = PlanReport { steps, plan };
    let now = now();
    dialect::write_transaction(&mut conn, |conn| {
        let current = load(conn, id)?;
        if !status_of(&current).can_plan() {
            return Err(ErasureError::Conflict("The request changed while it was being planned.".into()));
        }
        if report.is_executable() {
            let rows: Vec<NewStep> = report
                .steps
                .iter()
                .enumerate()
                .map(|(i, (s, count))| NewStep {
                    request_id: id,
                    position: i32::try_from(i).unwrap_or(i32::MAX),
                    source_id: s.source_id,
                    dataset_id: s.dataset_id,
                    schema_name: s.schema.clone(),
                    table_name: s.table.clone(),
                    action: s.action.as_str().to_owned(),
                    predicate: serde_json::to_string(&s.predicate).unwrap_or_default(),
                    masks: serde_json::to_string(&s.masks).unwrap_or_default(),
                    reached_via: s.reached_via.clone(),
                    hold_basis: s.hold_basis.clone(),
                    fingerprint: s.fingerprint.clone(),
                    expected_rows: *count,
                    status: "pending".to_owned(),
                })
                .collect();
            repo::replace_steps(conn, id, &rows)?;
            let recipients: Vec<(i64, String)> =
                report.plan.recipients.iter().map(|r| (r.dataset_id, r.name.clone())).collect();
            repo::replace_notifications(conn, id, &recipients, now)?;
            repo::set_sealed_subject(conn, id, Some(&seal(keys, &values)))?;
            repo::set_approval(conn, id, None, None)?;
            repo::transition(conn, id, &[current.status.as_str()], Status::Planned.as_str(), None, now)?;
            audit::append(
                conn,
                &event(by, "erasure.plan", id).after(json!({
                    "steps": rows.len(),
                    "rows": rows.iter().map(|r| r.expected_rows).sum::<i64>(),
                    "tables": rows.iter().map(|r| format!("{}.{} ({})", r.schema_name, r.table_name, r.action)).collect::<Vec<_>>(),
                    "recipients": recipients.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
                })),
                now,
            )?;
        } else {
            // A refused plan replaces the previous one: nothing stays approvable or runnable.
            let refusals = report.refusals();
            repo::replace_steps(conn, id, &[])?;
            repo::replace_notifications(conn, id, &[], now)?;
            repo::set_approval(conn, id, None, None)?;
            repo::transition(
                conn,
                id,
                &[current.status.as_str()],
                Status::Received.as_str(),
                Some(&refusals.join("\n")),
                now,
            )?;
            audit::append(conn, &event(by, "erasure.plan_refused", id).after(json!({ "uncovered": refusals })), now)?;
        }
        Ok(())
    })?;
    Ok(report)
}

/// How a dataset's rows of a subject are erased: `delete` rows (the default) or `mask` its
/// personal-data columns. Audited.
pub fn set_dataset_action(
    conn: &mut AnyConnection,
    by: &AuditActor,
    dataset_id: i64,
    action: &str,
    now: NaiveDateTime,
) -> Result<(), ErasureError> {
    if Action::parse(action).is_none() {
        return Err(ErasureError::Invalid("The erasure action is delete or mask.".into()));
    }
    dialect::write_transaction(conn, |conn| {
        if catalog::find_dataset(conn, dataset_id)?.is_none() {
            return Err(ErasureError::NotFound(format!("Dataset {dataset_id}")));
        }
        let before = repo::dataset_actions(conn)?.remove(&dataset_id).unwrap_or_else(|| "delete".into());
        repo::set_dataset_action(conn, dataset_id, action, &by.actor, now)?;
        audit::append(
            conn,
            &by.event("erasure.dataset_action", "dataset")
                .entity_id(dataset_id)
                .before(json!({ "action": before }))
                .after(json!({ "action": action })),
            now,
        )?;
        Ok(())
    })
}

/// Four eyes: a compliance officer other than the submitter approves a planned request.
pub fn approve(
    conn: &mut AnyConnection,
    by: &AuditActor,
    id: i64,
    now: NaiveDateTime,
) -> Result<Request, ErasureError> {
    dialect::write_transaction(conn, |conn| {
        let request = load(conn, id)?;
        if request.submitted_by == by.actor {
            return Err(ErasureError::Forbidden(
                "Four eyes: the person who submitted a request cannot approve it.".into(),
            ));
        }
        if !status_of(&request).can_decide() {
            return Err(ErasureError::Conflict(format!(
                "Only a planned request can be approved; this one is {}.",
                status_of(&request).label().to_lowercase()
            )));
        }
        repo::transition(conn, id, &[Status::Planned.as_str()], Status::Approved.as_str(), None, now)?;
        repo::set_approval(conn, id, Some(&by.actor), Some(now))?;
        audit::append(conn, &event(by, "erasure.approve", id), now)?;
        load(conn, id)
    })
}

/// E3: refuses a request with a reason; its working copy is erased.
pub fn refuse(
    conn: &mut AnyConnection,
    by: &AuditActor,
    id: i64,
    reason: &str,
    now: NaiveDateTime,
) -> Result<Request, ErasureError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ErasureError::Invalid("Refusing a request needs a reason.".into()));
    }
    dialect::write_transaction(conn, |conn| {
        let request = load(conn, id)?;
        let status = status_of(&request);
        if status.is_final() || status == Status::Running {
            return Err(ErasureError::Conflict(format!(
                "A request that is {} cannot be refused.",
                status.label().to_lowercase()
            )));
        }
        repo::transition(conn, id, &[request.status.as_str()], Status::Refused.as_str(), Some(reason), now)?;
        repo::end_request(conn, id, now)?;
        audit::append(conn, &event(by, "erasure.refuse", id).reason(reason), now)?;
        load(conn, id)
    })
}

/// Queues a run: the plan's execution, or for an ended request a verification-only run (E4).
pub fn request_run(
    conn: &mut AnyConnection,
    by: &AuditActor,
    id: i64,
    now: NaiveDateTime,
) -> Result<Run, ErasureError> {
    dialect::write_transaction(conn, |conn| {
        let request = load(conn, id)?;
        let status = status_of(&request);
        let mode = match status {
            Status::Approved | Status::Blocked if request.approved_by.is_some() => "execute",
            Status::Completed | Status::CompletedWithExceptions => "verify",
            _ => {
                return Err(ErasureError::Conflict(format!(
                    "A request that is {} cannot be run; it needs an approved plan.",
                    status.label().to_lowercase()
                )));
            }
        };
        if repo::active_run(conn, id)?.is_some() {
            return Err(ErasureError::Conflict("This request is already queued or running.".into()));
        }
        // E15: one erasure per subject at a time.
        for other in repo::open_requests_of_subject(conn, &request.identifier_type, &request.subject_hmac)? {
            if other.id != id && repo::active_run(conn, other.id)?.is_some() {
                return Err(ErasureError::Conflict(format!(
                    "Request {} for the same subject is running; wait for it to finish.",
                    other.id
                )));
            }
        }
        if mode == "execute" {
            repo::reset_unfinished_steps(conn, id)?;
        }
        let run = repo::enqueue_run(conn, id, mode, &by.actor, now)?;
        audit::append(
            conn,
            &event(by, "erasure.run_requested", id).after(json!({ "run": run.id, "mode": mode })),
            now,
        )?;
        Ok(run)
    })
}

/// Marks a recipient told (`sent`) or answered (`acknowledged`); completes the request when it
/// was waiting only for its recipients.
pub fn set_recipient(
    db: &Db,
    keys: &Keys,
    by: &AuditActor,
    id: i64,
    notification: i64,
    status: &str,
) -> Result<(), ErasureError> {
    if !matches!(status, "open" | "sent" | "acknowledged") {
        return Err(ErasureError::Invalid("A recipient is open, sent or acknowledged.".into()));
    }
    let mut conn = db.writer()?;
    let now = now();
    dialect::write_transaction(&mut conn, |conn| {
        let request = load(conn, id)?;
        if repo::set_notification(conn, id, notification, status, &by.actor, now)? == 0 {
            return Err(ErasureError::NotFound(format!("Recipient {notification} of request {id}")));
        }
        audit::append(
            conn,
            &event(by, "erasure.recipient", id).after(json!({ "notification": notification, "status": status })),
            now,
        )?;
        if status_of(&request) == Status::AwaitingRecipients {
            complete(conn, keys, id, now)?;
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Execution

/// A test hook for crash safety (E14): with `CUSTODIAN_FAULT_PAUSE_AT=N`, the N-th pause point
/// a process reaches prints `custodian: paused at N (label)` on stderr and waits forever, so a
/// test can kill the process there with SIGKILL.
pub(crate) fn pause_point(label: &str) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static REACHED: AtomicUsize = AtomicUsize::new(0);
    static TARGET: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();
    let target = *TARGET.get_or_init(|| std::env::var("CUSTODIAN_FAULT_PAUSE_AT").ok().and_then(|v| v.parse().ok()));
    let Some(target) = target else { return };
    let n = REACHED.fetch_add(1, Ordering::SeqCst) + 1;
    if n == target {
        eprintln!("custodian: paused at {n} ({label})");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}

/// Why a run (an erasure or a purge) stopped early.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The request cannot go on until someone acts (drift, blast radius, failed verification).
    Blocked(String),
    /// Another worker took the run over.
    LostLease,
}

impl Stop {
    /// What renewing a run's lease said: go on, the lease is lost, or the catalog failed.
    pub(crate) fn after_heartbeat(renewed: diesel::QueryResult<bool>) -> Result<(), Stop> {
        match renewed {
            Ok(true) => Ok(()),
            Ok(false) => Err(Stop::LostLease),
            Err(e) => Err(Stop::Blocked(e.to_string())),
        }
    }
}

/// Runs a claimed run to its end: executes each pending step (or, for an ended request,
/// records a verification-only run), then completes or blocks the request.
pub fn execute(
    db: &Db,
    keys: &Keys,
    settings: ErasureSettings,
    run: &Run,
    progress: &mut dyn ProgressSink,
) -> Result<(), ErasureError> {
    let mut conn = db.writer()?;
    let request = load(&mut conn, run.request_id)?;
    let worker = AuditActor::system();
    if run.mode == "verify" || status_of(&request).is_final() {
        dialect::write_transaction(&mut conn, |conn| {
            audit::append(
                conn,
                &event(&worker, "erasure.verify_only", request.id)
                    .after(json!({ "run": run.id, "rows_changed": 0, "outcome": request.status })),
                now(),
            )?;
            repo::finish_run(conn, run.id, run.lease, "done", None, now())?;
            Ok::<_, ErasureError>(())
        })?;
        return Ok(());
    }
    let first_claim = run.attempts <= 1;
    dialect::write_transaction(&mut conn, |conn| {
        repo::transition(
            conn,
            request.id,
            &[Status::Approved.as_str(), Status::Blocked.as_str(), Status::Running.as_str()],
            Status::Running.as_str(),
            None,
            now(),
        )?;
        if first_claim {
            audit::append(
                conn,
                &event(&worker, "erasure.run_start", request.id).after(json!({ "run": run.id })),
                now(),
            )?;
        }
        Ok::<_, ErasureError>(())
    })?;
    drop(conn);
    pause_point("run started");
    let outcome = execute_steps(db, keys, settings, run, &request, progress);
    let mut conn = db.writer()?;
    let now = now();
    match outcome {
        Ok(()) => {
            let completed = dialect::write_transaction(&mut conn, |conn| {
                let completed = complete(conn, keys, request.id, now)?;
                repo::finish_run(conn, run.id, run.lease, "done", None, now)?;
                Ok::<_, ErasureError>(completed)
            })?;
            let steps = repo::steps_of(&mut conn, request.id)?;
            crate::metrics::rows("erased", steps.iter().map(|s| s.affected_rows.max(0) as u64).sum());
            if completed {
                crate::metrics::operation("erasure", &load(&mut conn, request.id)?.status);
            }
            Ok(())
        }
        Err(Stop::LostLease) => Ok(()),
        Err(Stop::Blocked(reason)) => dialect::write_transaction(&mut conn, |conn| {
            crate::metrics::operation("erasure", "blocked");
            repo::transition(
                conn,
                request.id,
                &[Status::Running.as_str()],
                Status::Blocked.as_str(),
                Some(&reason),
                now,
            )?;
            audit::append(conn, &event(&worker, "erasure.blocked", request.id).reason(reason.as_str()), now)?;
            repo::finish_run(conn, run.id, run.lease, "failed", Some(&reason), now)?;
            Ok::<_, ErasureError>(())
        }),
    }
}

fn execute_steps(
    db: &Db,
    keys: &Keys,
    settings: ErasureSettings,
    run: &Run,
    request: &Request,
    progress: &mut dyn ProgressSink,
) -> Result<(), Stop> {
    let blocked = |e: ErasureError| Stop::Blocked(e.to_string());
    let values = unseal(keys, request).map_err(blocked)?;
    let (steps, targets) = {
        let mut conn = db.writer().map_err(|e| blocked(e.into()))?;
        let steps = repo::steps_of(&mut conn, request.id).map_err(|e| blocked(e.into()))?;
        let mut targets = HashMap::new();
        for s in &steps {
            if let std::collections::hash_map::Entry::Vacant(slot) = targets.entry(s.source_id) {
                slot.insert(resolve_target(&mut conn, s.source_id).map_err(blocked)?);
            }
        }
        (steps, targets)
    };
    let mut writers: HashMap<i64, Writer> = HashMap::new();
    for (source_id, target) in &targets {
        let writer = Writer::open(target, settings.statement_timeout_secs, settings.lock_timeout_secs)
            .map_err(|e| Stop::Blocked(format!("a target cannot be reached: {e}")))?;
        writers.insert(*source_id, writer);
    }
    // E6: every step's columns as planned, before anything is written.
    for s in steps.iter().filter(|s| s.status != "done") {
        let writer = writers.get_mut(&s.source_id).expect("opened above");
        check_drift(writer, s)?;
    }
    progress.stage("erasing");
    let total = steps.len() as u64;
    for (i, step) in steps.iter().enumerate() {
        progress.advance(i as u64, total);
        if matches!(step.status.as_str(), "done" | "held") {
            continue;
        }
        heartbeat(db, run)?;
        let writer = writers.get_mut(&step.source_id).expect("opened above");
        run_step(db, settings, writer, step, &values)?;
    }
    progress.advance(total, total);
    Ok(())
}

fn heartbeat(db: &Db, run: &Run) -> Result<(), Stop> {
    let mut conn = db.writer().map_err(|e| Stop::Blocked(e.to_string()))?;
    Stop::after_heartbeat(repo::heartbeat(&mut conn, run.id, run.lease, now()))
}

fn check_drift(writer: &mut Writer, step: &Step) -> Result<(), Stop> {
    if step.action == "refresh" {
        return Ok(());
    }
    match drift(writer, &step.schema_name, &step.table_name, &step.fingerprint) {
        None => Ok(()),
        Some(what) => Err(Stop::Blocked(format!("schema drift: {what}; plan the request again"))),
    }
}

/// E6: how the live table differs from the columns and types a step relies on, if it does.
fn drift(writer: &mut Writer, schema: &str, table: &str, fingerprint: &str) -> Option<String> {
    let live = match writer.live_columns(schema, table) {
        Ok(Some(live)) => live,
        Ok(None) => return Some(format!("{schema}.{table} no longer exists")),
        Err(e) => return Some(format!("reading the live schema of {schema}.{table}: {e}")),
    };
    for line in fingerprint.lines() {
        let (name, ty) = line.split_once('\t').unwrap_or((line, ""));
        let found = live.iter().find(|c| c.name == name);
        if found.is_none_or(|c| c.data_type.to_ascii_lowercase() != ty) {
            return Some(format!("{schema}.{table}.{name} is not the {ty} the plan relies on"));
        }
    }
    None
}

fn step_sql<'a>(writer: &Writer, step: &'a Step, predicate: &'a Predicate, masks: &'a [Mask]) -> StepSql<'a> {
    StepSql { backend: writer.backend(), schema: &step.schema_name, table: &step.table_name, predicate, masks }
}

/// One step in one target transaction (E10–E13, E16, E17).
fn run_step(db: &Db, settings: ErasureSettings, writer: &mut Writer, step: &Step, values: &Values) -> Result<(), Stop> {
    let fail = |e: String| Stop::Blocked(format!("{}.{}: {e}", step.schema_name, step.table_name));
    let predicate: Predicate = serde_json::from_str(&step.predicate).map_err(|e| fail(e.to_string()))?;
    let masks: Vec<Mask> = serde_json::from_str(&step.masks).map_err(|e| fail(e.to_string()))?;
    let action = StepAction::parse(&step.action).ok_or_else(|| fail(format!("unknown action {}", step.action)))?;
    let record =
        |status: &str, affected: i64, remaining: Option<i64>, verification: Option<&str>, error: Option<&str>| {
            let mut conn = db.writer().map_err(|e| Stop::Blocked(e.to_string()))?;
            let now = now();
            dialect::write_transaction(&mut conn, |conn| {
                repo::finish_step(conn, step.id, status, affected, remaining, verification, error, now)?;
                audit::append(
                    conn,
                    &event(&AuditActor::system(), &format!("erasure.step_{status}"), step.request_id).after(json!({
                        "step": step.position,
                        "table": format!("{}.{}", step.schema_name, step.table_name),
                        "action": step.action,
                        "rows": affected,
                        "remaining": remaining,
                        "error": error,
                    })),
                    now,
                )
                .map(drop)
            })
            .map_err(|e: diesel::result::Error| Stop::Blocked(e.to_string()))
        };
    {
        let mut conn = db.writer().map_err(|e| Stop::Blocked(e.to_string()))?;
        repo::start_step(&mut conn, step.id, now()).map_err(|e| Stop::Blocked(e.to_string()))?;
    }
    pause_point("step started");
    let sql = step_sql(writer, step, &predicate, if action == StepAction::Mask { &masks } else { &[] });
    let count = sql.count(values).map_err(|e| fail(e.to_string()))?;
    match action {
        StepAction::Hold => {
            let held = writer.count(&count).map_err(|e| fail(e.to_string()))?;
            return record("held", 0, Some(held), None, None);
        }
        StepAction::Refresh => {
            writer.refresh_materialized_view(&step.schema_name, &step.table_name).map_err(|e| fail(e.to_string()))?;
            let remaining = writer.count(&count).map_err(|e| fail(e.to_string()))?;
            record(if remaining == 0 { "done" } else { "failed" }, 0, Some(remaining), Some(&count.sql), None)?;
            return if remaining == 0 {
                Ok(())
            } else {
                Err(fail(format!("{remaining} rows remain after the refresh")))
            };
        }
        StepAction::Delete | StepAction::Mask => {}
    }
    writer.begin_write().map_err(|e| fail(e.to_string()))?;
    let result = (|| -> Result<i64, Stop> {
        let matching = writer.count(&count).map_err(|e| fail(e.to_string()))?;
        let limit = settings.margin.limit(step.expected_rows);
        if matching > limit {
            return Err(fail(format!(
                "blast-radius guard: {matching} rows match, the plan previewed {} (limit {limit}); nothing was changed",
                step.expected_rows
            )));
        }
        // E16: holds, re-checked inside the transaction.
        if let Some(basis) = hold_now(db, step).map_err(fail)? {
            return Err(Stop::Blocked(format!("held:{basis}")));
        }
        let batch = (matching > settings.batch).then_some(settings.batch);
        let mut affected = 0i64;
        loop {
            let statement = match action {
                StepAction::Mask => sql.mask(values, batch),
                _ => sql.delete(values, batch),
            }
            .map_err(|e| fail(e.to_string()))?;
            let n = writer.execute(&statement).map_err(|e| fail(e.to_string()))? as i64;
            affected += n;
            if batch.is_none_or(|b| n < b) {
                break;
            }
        }
        if affected > limit {
            return Err(fail(format!("blast-radius guard: {affected} rows changed, limit {limit}; rolled back")));
        }
        pause_point("before commit");
        Ok(affected)
    })();
    let affected = match result {
        Ok(n) => n,
        Err(Stop::Blocked(reason)) if reason.starts_with("held:") => {
            writer.rollback();
            let held = writer.count(&count).map_err(|e| fail(e.to_string()))?;
            return record("held", 0, Some(held), None, Some(reason.trim_start_matches("held:")));
        }
        Err(stop) => {
            writer.rollback();
            if let Stop::Blocked(reason) = &stop {
                record("failed", 0, None, None, Some(reason))?;
            }
            return Err(stop);
        }
    };
    writer.commit().map_err(|e| fail(e.to_string()))?;
    pause_point("after commit");
    // E17: a read-only check with the same predicate.
    let remaining = writer.count(&count).map_err(|e| fail(e.to_string()))?;
    if remaining > 0 {
        record("failed", affected, Some(remaining), Some(&count.sql), Some("verification found rows left"))?;
        return Err(fail(format!("verification found {remaining} rows left")));
    }
    record("done", affected, Some(0), Some(&count.sql), None)?;
    pause_point("step recorded");
    Ok(())
}

/// The basis of a hold that now covers the step's dataset or source, if any.
fn hold_now(db: &Db, step: &Step) -> Result<Option<String>, String> {
    let mut conn = db.reader().map_err(|e| e.to_string())?;
    let hold = hold_on_table(&mut conn, step.source_id, step.dataset_id, now().date(), &mut None)
        .map_err(|e| e.to_string())?;
    Ok(hold.map(|h| h.basis))
}

/// What of a table a column or category hold can name: its column ids and their categories.
/// Read once per table (the first time a hold other than a subject's is in force).
pub(crate) type HoldScope = Option<(Vec<i64>, Vec<i64>)>;

/// The active hold that now covers a table through its source, itself, a column or a category.
/// `scope` caches the table's columns and categories across calls for the same table.
pub(crate) fn hold_on_table(
    conn: &mut AnyConnection,
    source_id: i64,
    dataset_id: i64,
    today: NaiveDate,
    scope: &mut HoldScope,
) -> diesel::QueryResult<Option<repo::Hold>> {
    let holds = repo::active_holds(conn, today)?;
    if holds.iter().all(|h| h.scope == "subject") {
        return Ok(None);
    }
    if scope.is_none() {
        let columns = repo::column_ids_of(conn, dataset_id)?;
        let categories: Vec<i64> =
            crate::db::classification::category_ids_of(conn, &columns)?.into_values().flatten().collect();
        *scope = Some((columns, categories));
    }
    let (columns, categories) = scope.as_ref().expect("read above");
    Ok(hold_covering(&holds, source_id, dataset_id, columns, categories).cloned())
}

/// Completes a request whose steps are all done or held (E3, E17–E20): waits for recipients
/// while one is open; otherwise moves it to its outcome exactly once, signs the receipt and
/// erases the working copy. Returns whether this call completed it.
fn complete(conn: &mut AnyConnection, keys: &Keys, id: i64, now: NaiveDateTime) -> Result<bool, ErasureError> {
    let request = load(conn, id)?;
    let steps = repo::steps_of(conn, id)?;
    if steps.iter().any(|s| !matches!(s.status.as_str(), "done" | "held")) {
        return Ok(false);
    }
    let recipients = repo::notifications_of(conn, id)?;
    let system = AuditActor::system();
    if recipients.iter().any(|r| r.status == "open") {
        if repo::transition(conn, id, &[Status::Running.as_str()], Status::AwaitingRecipients.as_str(), None, now)? {
            audit::append(conn, &event(&system, "erasure.awaiting_recipients", id), now)?;
        }
        return Ok(false);
    }
    let held = steps.iter().any(|s| s.status == "held");
    let outcome = if held { Status::CompletedWithExceptions } else { Status::Completed };
    if !repo::transition(
        conn,
        id,
        &[Status::Running.as_str(), Status::AwaitingRecipients.as_str()],
        outcome.as_str(),
        None,
        now,
    )? {
        return Ok(false);
    }
    let names = repo::source_names(conn)?;
    let completion = audit::append(
        conn,
        &event(&system, "erasure.complete", id).after(json!({
            "outcome": outcome.as_str(),
            "rows": steps.iter().map(|s| s.affected_rows).sum::<i64>(),
            "tables": steps.len(),
        })),
        now,
    )?;
    let audit_from =
        crate::db::audit::first_seq_of(conn, "erasure_request", &id.to_string())?.unwrap_or(completion.seq);
    let receipt = Receipt {
        request_id: id,
        identifier_type: request.identifier_type.clone(),
        subject_hmac: request.subject_hmac.clone(),
        received_on: request.received_on.to_string(),
        due_on: request.due_on.to_string(),
        outcome: outcome.as_str().to_owned(),
        finished_at: now.and_utc().to_rfc3339(),
        targets: steps
            .iter()
            .map(|s| TargetResult {
                source: names.get(&s.source_id).map(|n| n.0.clone()).unwrap_or_default(),
                table: format!("{}.{}", s.schema_name, s.table_name),
                action: s.action.clone(),
                rows: s.affected_rows,
                remaining: s.remaining_rows,
                status: s.status.clone(),
            })
            .collect(),
        exceptions: steps
            .iter()
            .filter(|s| s.status == "held")
            .map(|s| Exception {
                table: format!("{}.{}", s.schema_name, s.table_name),
                basis: s.hold_basis.clone().or_else(|| s.error.clone()).unwrap_or_default(),
                rows: s.remaining_rows.unwrap_or(0),
            })
            .collect(),
        recipients: recipients
            .iter()
            .map(|r| RecipientResult { recipient: r.recipient.clone(), status: r.status.clone() })
            .collect(),
        audit_from,
        audit_to: completion.seq,
    };
    let file = receipt.sign(keys.receipt_key());
    repo::insert_receipt(conn, id, &file, &keys.receipt_public_key().to_base64(), now)?;
    repo::end_request(conn, id, now)?;
    Ok(true)
}

/// The lease a run is held under before another worker may take it over.
pub fn lease(settings: ErasureSettings) -> TimeDelta {
    TimeDelta::seconds(i64::try_from(settings.lease_secs).unwrap_or(300))
}

// ---------------------------------------------------------------------------------------------
// Reading

/// A request with everything about it, for the request page, the API and `erasure show`.
#[derive(Debug, Clone, Serialize)]
pub struct Details {
    pub id: i64,
    pub identifier_type: String,
    pub status: String,
    pub status_label: String,
    pub status_reason: Option<String>,
    pub received_on: NaiveDate,
    pub due_on: NaiveDate,
    pub days_left: i64,
    pub extended: bool,
    pub extension_reason: Option<String>,
    pub channel: String,
    pub requester_ref: Option<String>,
    pub submitted_by: String,
    pub approved_by: Option<String>,
    #[serde(serialize_with = "utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    pub ended_at: Option<NaiveDateTime>,
    pub steps: Vec<StepView>,
    pub recipients: Vec<RecipientView>,
    pub runs: Vec<RunView>,
    pub has_receipt: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepView {
    pub position: i32,
    pub source_id: i64,
    pub dataset_id: i64,
    pub table: String,
    pub action: String,
    pub reached_via: String,
    pub hold_basis: Option<String>,
    pub expected_rows: i64,
    pub status: String,
    pub affected_rows: i64,
    pub remaining_rows: Option<i64>,
    pub attempts: i32,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecipientView {
    pub id: i64,
    pub dataset_id: i64,
    pub recipient: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunView {
    pub id: i64,
    pub mode: String,
    pub status: String,
    pub attempts: i32,
    pub error: Option<String>,
    #[serde(serialize_with = "utc")]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    pub finished_at: Option<NaiveDateTime>,
}

/// Catalog times are UTC: written as RFC 3339 with `Z`, like the rest of the API.
fn utc<S: serde::Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn utc_opt<S: serde::Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => utc(t, s),
        None => s.serialize_none(),
    }
}

pub fn details(conn: &mut AnyConnection, id: i64, today: NaiveDate) -> Result<Details, ErasureError> {
    let r = load(conn, id)?;
    let status = status_of(&r);
    let steps = repo::steps_of(conn, id)?;
    Ok(Details {
        id: r.id,
        identifier_type: r.identifier_type.clone(),
        status: r.status.clone(),
        status_label: status.label().to_owned(),
        status_reason: r.status_reason.clone(),
        received_on: r.received_on,
        due_on: r.due_on,
        days_left: rules::days_left(r.due_on, today),
        extended: r.extension_reason.is_some(),
        extension_reason: r.extension_reason.clone(),
        channel: r.channel.clone(),
        requester_ref: r.requester_ref.clone(),
        submitted_by: r.submitted_by.clone(),
        approved_by: r.approved_by.clone(),
        created_at: r.created_at,
        ended_at: r.ended_at,
        steps: steps
            .into_iter()
            .map(|s| StepView {
                position: s.position,
                source_id: s.source_id,
                dataset_id: s.dataset_id,
                table: format!("{}.{}", s.schema_name, s.table_name),
                action: s.action,
                reached_via: s.reached_via,
                hold_basis: s.hold_basis,
                expected_rows: s.expected_rows,
                status: s.status,
                affected_rows: s.affected_rows,
                remaining_rows: s.remaining_rows,
                attempts: s.attempts,
                error: s.error,
            })
            .collect(),
        recipients: repo::notifications_of(conn, id)?
            .into_iter()
            .map(|n| RecipientView { id: n.id, dataset_id: n.dataset_id, recipient: n.recipient, status: n.status })
            .collect(),
        runs: repo::runs_of(conn, id)?
            .into_iter()
            .map(|r| RunView {
                id: r.id,
                mode: r.mode,
                status: r.status,
                attempts: r.attempts,
                error: r.error,
                created_at: r.created_at,
                finished_at: r.finished_at,
            })
            .collect(),
        has_receipt: repo::receipt_of(conn, id)?.is_some(),
    })
}
