//! Classifying columns, as compliance officers (and administrators) do it from the dataset page,
//! the workbench or the command line: set levels, add and remove personal-data categories, mark
//! subject identifiers, accept or reject suggestions; stewards propose. Every change is an audit
//! event with its reason, in the caller's transaction, and lowering a level needs a reason.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use serde_json::json;

use crate::db::audit::{self, AuditActor};
use crate::db::classification::{self as repo, Confirmed, NewSuggestion};
use crate::db::models::{Category, ClassificationLevel, IdentifierType};
use crate::db::{AnyConnection, catalog};
use crate::governance::classification::lowers;

#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    #[error("{0} does not exist")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("Lowering the level of {0} needs a reason.")]
    ReasonRequired(String),
    #[error("catalog: {0}")]
    Db(#[from] diesel::result::Error),
}

/// A change to apply to one or more columns. `None` leaves a part as it is.
#[derive(Clone, Debug, Default)]
pub struct ColumnChange {
    /// `Some(None)` clears the confirmed level.
    pub level: Option<Option<i64>>,
    pub add_categories: Vec<i64>,
    pub remove_categories: Vec<i64>,
    /// `Some(None)` clears the identifier mark.
    pub identifier: Option<Option<i64>>,
}

impl ColumnChange {
    pub fn is_empty(&self) -> bool {
        self.level.is_none()
            && self.add_categories.is_empty()
            && self.remove_categories.is_empty()
            && self.identifier.is_none()
    }
}

/// The vocabularies, loaded once per change.
pub struct Vocabulary {
    pub levels: Vec<ClassificationLevel>,
    pub categories: Vec<Category>,
    pub identifiers: Vec<IdentifierType>,
}

impl Vocabulary {
    pub fn load(conn: &mut AnyConnection) -> diesel::QueryResult<Self> {
        Ok(Self {
            levels: repo::list_levels(conn)?,
            categories: repo::list_categories(conn)?,
            identifiers: repo::list_identifier_types(conn)?,
        })
    }

    fn level_rank(&self, id: Option<i64>) -> Option<i32> {
        id.and_then(|id| self.levels.iter().find(|l| l.id == id)).map(|l| l.rank)
    }

    fn level_name(&self, id: Option<i64>) -> Option<String> {
        id.and_then(|id| self.levels.iter().find(|l| l.id == id)).map(|l| l.name.clone())
    }

    fn category_keys(&self, ids: &BTreeSet<i64>) -> Vec<String> {
        self.categories.iter().filter(|c| ids.contains(&c.id)).map(|c| c.key.clone()).collect()
    }

    fn identifier_key(&self, id: Option<i64>) -> Option<String> {
        id.and_then(|id| self.identifiers.iter().find(|i| i.id == id)).map(|i| i.key.clone())
    }

    pub fn level_by_name(&self, name: &str) -> Option<&ClassificationLevel> {
        self.levels.iter().find(|l| l.name.eq_ignore_ascii_case(name) || l.rank.to_string() == name)
    }

    pub fn category_by_key(&self, key: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.key == key)
    }

    pub fn identifier_by_key(&self, key: &str) -> Option<&IdentifierType> {
        self.identifiers.iter().find(|i| i.key == key)
    }

    fn check(&self, change: &ColumnChange) -> Result<(), ClassifyError> {
        if let Some(Some(id)) = change.level
            && !self.levels.iter().any(|l| l.id == id)
        {
            return Err(ClassifyError::Invalid(format!("There is no level {id}.")));
        }
        for id in change.add_categories.iter().chain(&change.remove_categories) {
            if !self.categories.iter().any(|c| c.id == *id) {
                return Err(ClassifyError::Invalid(format!("There is no category {id}.")));
            }
        }
        if let Some(Some(id)) = change.identifier
            && !self.identifiers.iter().any(|i| i.id == id)
        {
            return Err(ClassifyError::Invalid(format!("There is no identifier type {id}.")));
        }
        Ok(())
    }

    fn describe(&self, c: &Confirmed) -> serde_json::Value {
        json!({
            "level": self.level_name(c.level_id),
            "categories": self.category_keys(&c.category_ids),
            "identifier": self.identifier_key(c.identifier_type_id),
        })
    }
}

/// Applies `change` to every column in `column_ids`; returns how many changed. Refused as a whole
/// (nothing is written) when a level would be lowered without a reason.
pub fn classify(
    conn: &mut AnyConnection,
    by: &AuditActor,
    column_ids: &[i64],
    change: &ColumnChange,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> Result<usize, ClassifyError> {
    if change.is_empty() || column_ids.is_empty() {
        return Ok(0);
    }
    let vocabulary = Vocabulary::load(conn)?;
    vocabulary.check(change)?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let before = repo::confirmed(conn, column_ids)?;
    let columns = catalog::columns_by_id(conn, column_ids)?;
    if columns.len() != column_ids.iter().collect::<BTreeSet<_>>().len() {
        return Err(ClassifyError::NotFound("One of the columns".into()));
    }
    // Check every column before writing anything.
    if let Some(level) = change.level
        && reason.is_none()
    {
        for column in &columns {
            let old = before.get(&column.id).and_then(|c| vocabulary.level_rank(c.level_id));
            if lowers(old, vocabulary.level_rank(level)) {
                return Err(ClassifyError::ReasonRequired(column.name.clone()));
            }
        }
    }
    let mut changed = Vec::new();
    for column in &columns {
        let old = before.get(&column.id).cloned().unwrap_or_default();
        let mut new = old.clone();
        if let Some(level) = change.level {
            new.level_id = level;
        }
        if let Some(identifier) = change.identifier {
            new.identifier_type_id = identifier;
        }
        for id in &change.add_categories {
            new.category_ids.insert(*id);
        }
        for id in &change.remove_categories {
            new.category_ids.remove(id);
        }
        if new == old {
            continue;
        }
        if new.level_id != old.level_id || new.identifier_type_id != old.identifier_type_id {
            repo::set_confirmed(conn, column.id, new.level_id, new.identifier_type_id, &by.actor, now)?;
        }
        for id in new.category_ids.difference(&old.category_ids) {
            repo::add_category(conn, column.id, *id, &by.actor, now)?;
        }
        for id in old.category_ids.difference(&new.category_ids) {
            repo::remove_category(conn, column.id, *id)?;
        }
        let mut before_json = vocabulary.describe(&old);
        let mut after_json = vocabulary.describe(&new);
        for v in [&mut before_json, &mut after_json] {
            v["column"] = json!(column.name);
            v["column_id"] = json!(column.id);
        }
        let mut event =
            by.event("column.classify", "dataset").entity_id(column.dataset_id).before(before_json).after(after_json);
        if let Some(r) = reason {
            event = event.reason(r);
        }
        audit::append(conn, &event, now)?;
        changed.push(column.id);
    }
    repo::refresh_summaries(conn, &changed)?;
    crate::propagation::refresh(conn, crate::propagation::Scope::From(&changed))?;
    Ok(changed.len())
}

/// Accepts open suggestions: each adds its category (and identifier mark) to its column.
pub fn accept_suggestions(
    conn: &mut AnyConnection,
    by: &AuditActor,
    ids: &[i64],
    now: NaiveDateTime,
) -> Result<usize, ClassifyError> {
    decide(conn, by, ids, true, now)
}

pub fn reject_suggestions(
    conn: &mut AnyConnection,
    by: &AuditActor,
    ids: &[i64],
    now: NaiveDateTime,
) -> Result<usize, ClassifyError> {
    decide(conn, by, ids, false, now)
}

fn decide(
    conn: &mut AnyConnection,
    by: &AuditActor,
    ids: &[i64],
    accept: bool,
    now: NaiveDateTime,
) -> Result<usize, ClassifyError> {
    let vocabulary = Vocabulary::load(conn)?;
    let suggestions = repo::find_suggestions(conn, ids)?;
    let columns: HashMap<i64, crate::db::models::ColumnSummary> =
        catalog::columns_by_id(conn, &suggestions.iter().map(|s| s.column_id).collect::<Vec<_>>())?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
    let mut decided = Vec::new();
    for s in suggestions.iter().filter(|s| s.status == "open") {
        let Some(column) = columns.get(&s.column_id) else { continue };
        if repo::decide_suggestion(conn, s.id, if accept { "accepted" } else { "rejected" }, &by.actor, now)? == 0 {
            continue;
        }
        if accept {
            repo::add_category(conn, s.column_id, s.category_id, &by.actor, now)?;
            if let Some(identifier) = s.identifier_type_id {
                let current = repo::confirmed(conn, &[s.column_id])?.remove(&s.column_id).unwrap_or_default();
                if current.identifier_type_id.is_none() {
                    repo::set_confirmed(conn, s.column_id, current.level_id, Some(identifier), &by.actor, now)?;
                }
            }
        }
        let category = vocabulary.categories.iter().find(|c| c.id == s.category_id).map(|c| c.key.clone());
        audit::append(
            conn,
            &by.event(if accept { "suggestion.accept" } else { "suggestion.reject" }, "dataset")
                .entity_id(column.dataset_id)
                .after(json!({
                    "suggestion": s.id,
                    "column": column.name,
                    "column_id": column.id,
                    "category": category,
                    "identifier": vocabulary.identifier_key(s.identifier_type_id),
                })),
            now,
        )?;
        decided.push(s.column_id);
    }
    repo::refresh_summaries(conn, &decided)?;
    crate::propagation::refresh(conn, crate::propagation::Scope::From(&decided))?;
    Ok(decided.len())
}

/// A steward's (or anyone's) proposal, queued for a compliance officer.
pub fn propose(
    conn: &mut AnyConnection,
    by: &AuditActor,
    column_id: i64,
    category_id: i64,
    identifier_type_id: Option<i64>,
    note: Option<&str>,
    now: NaiveDateTime,
) -> Result<bool, ClassifyError> {
    let column = catalog::columns_by_id(conn, &[column_id])?
        .pop()
        .ok_or_else(|| ClassifyError::NotFound(format!("Column {column_id}")))?;
    let vocabulary = Vocabulary::load(conn)?;
    let category = vocabulary
        .categories
        .iter()
        .find(|c| c.id == category_id)
        .ok_or_else(|| ClassifyError::Invalid(format!("There is no category {category_id}.")))?;
    let evidence = json!({ "kind": "person", "note": note }).to_string();
    let endorsed =
        repo::endorse_suggestion(conn, column_id, category_id, identifier_type_id, &evidence, &by.actor, now)?;
    let added = if endorsed {
        1
    } else {
        repo::insert_suggestions(
            conn,
            &[NewSuggestion {
                column_id,
                category_id,
                identifier_type_id,
                level_rank: category.default_level_rank,
                confidence: 1.0,
                evidence,
                proposed_by: Some(by.actor.clone()),
            }],
            now,
        )?
    };
    if added > 0 {
        audit::append(
            conn,
            &by.event("suggestion.propose", "dataset").entity_id(column.dataset_id).after(json!({
                "column": column.name,
                "column_id": column.id,
                "category": category.key,
                "identifier": vocabulary.identifier_key(identifier_type_id),
            })),
            now,
        )?;
        repo::refresh_summaries(conn, &[column_id])?;
    }
    Ok(added > 0)
}
