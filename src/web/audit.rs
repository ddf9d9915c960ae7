//! The audit log in the web app: the filtered, paged list for compliance officers and
//! administrators, verification of the whole chain on demand (recorded as an event itself), the
//! latest signed checkpoint, export as JSON Lines or CSV, and the change summaries that dataset
//! pages show as their history.

use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::{Authorized, ReadAudit};
use super::datasets::encode;
use super::{AppState, Layout, Section, read, render, see_other, view, write};
use crate::db::audit::{self, AuditEvent, AuditFilter, CSV_HEADER, Cursor};
use crate::db::now;
use crate::error::AppError;

pub const PER_PAGE: i64 = 50;

#[derive(Deserialize, Default, Clone)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// A date (YYYY-MM-DD, UTC), inclusive.
    pub from: Option<String>,
    /// A date (YYYY-MM-DD, UTC), inclusive.
    pub to: Option<String>,
    /// Keyset paging: events older than this sequence number.
    pub before: Option<i64>,
    /// Keyset paging: events newer than this sequence number.
    pub after: Option<i64>,
    /// Export format: `jsonl` or `csv`.
    pub format: Option<String>,
}

fn date(field: &str, value: Option<&str>) -> Result<Option<NaiveDate>, AppError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| AppError::BadRequest(format!("{field}: give a date as YYYY-MM-DD, not {v:?}."))),
    }
}

fn text(value: &Option<String>) -> Option<String> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(|v| v.chars().take(200).collect())
}

impl AuditQuery {
    pub fn filter(&self) -> Result<AuditFilter, AppError> {
        let from = date("from", self.from.as_deref())?.and_then(|d| d.and_hms_opt(0, 0, 0));
        let to = date("to", self.to.as_deref())?.and_then(|d| d.succ_opt()).and_then(|d| d.and_hms_opt(0, 0, 0));
        Ok(AuditFilter {
            actor: text(&self.actor),
            action: text(&self.action),
            entity_type: text(&self.entity_type),
            entity_id: text(&self.entity_id),
            from,
            to,
        })
    }

    fn cursor(&self) -> Cursor {
        match (self.before, self.after) {
            (Some(seq), _) => Cursor::Before(seq),
            (None, Some(seq)) => Cursor::After(seq),
            _ => Cursor::Newest,
        }
    }

    /// The filters as a query string (no paging), for links.
    fn encoded(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("actor", &self.actor),
            ("action", &self.action),
            ("entity_type", &self.entity_type),
            ("entity_id", &self.entity_id),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", encode(v)));
            }
        }
        parts.join("&")
    }
}

/// One event, ready to show.
pub struct EventRow {
    pub seq: i64,
    pub when: String,
    pub when_iso: String,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub entity: String,
    pub entity_link: Option<String>,
    pub summary: String,
    pub reason: String,
    pub request_id: String,
    pub hash: String,
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => "none".to_owned(),
        other => other.to_string(),
    };
    let mut out: String = s.chars().take(80).collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}

/// What changed, in words: `key: before → after` for the fields that differ, or the fields set.
pub fn summary(before: Option<&str>, after: Option<&str>) -> String {
    let parse = |t: Option<&str>| t.and_then(|t| serde_json::from_str::<Value>(t).ok());
    let (before, after) = (parse(before), parse(after));
    let empty = serde_json::Map::new();
    let b = before.as_ref().and_then(Value::as_object).unwrap_or(&empty);
    let a = after.as_ref().and_then(Value::as_object).unwrap_or(&empty);
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut parts = Vec::new();
    for key in keys {
        match (b.get(key), a.get(key)) {
            (Some(old), Some(new)) if old == new => {}
            (Some(old), Some(new)) => parts.push(format!("{key}: {} → {}", short(old), short(new))),
            (None, Some(new)) => parts.push(format!("{key}: {}", short(new))),
            (Some(old), None) => parts.push(format!("{key} was {}", short(old))),
            (None, None) => {}
        }
    }
    parts.join("; ")
}

fn entity_link(e: &AuditEvent) -> Option<String> {
    let id = e.entity_id.as_deref()?;
    match e.entity_type.as_str() {
        "dataset" => Some(format!("/datasets/{id}")),
        "source" => Some(format!("/sources/{id}")),
        "user" => Some(format!("/admin/users/{id}")),
        _ => None,
    }
}

pub fn event_row(e: &AuditEvent) -> EventRow {
    EventRow {
        seq: e.seq,
        when: view::time(&e.occurred_at),
        when_iso: view::iso(&e.occurred_at),
        actor: e.actor.clone(),
        role: e.actor_role.clone().unwrap_or_default(),
        action: e.action.clone(),
        entity: match &e.entity_id {
            Some(id) => format!("{} {id}", e.entity_type),
            None => e.entity_type.clone(),
        },
        entity_link: entity_link(e),
        summary: summary(e.before_json.as_deref(), e.after_json.as_deref()),
        reason: e.reason.clone().unwrap_or_default(),
        request_id: e.request_id.clone().unwrap_or_default(),
        hash: e.hash.chars().take(12).collect(),
    }
}

#[derive(Template)]
#[template(path = "audit/list.html")]
pub struct ListPage {
    pub layout: Layout,
    pub q: AuditQuery,
    pub events: Vec<EventRow>,
    pub total: String,
    pub older: Option<String>,
    pub newer: Option<String>,
    pub head_seq: i64,
    pub head_hash: String,
    pub verification: Option<EventRow>,
    pub verification_ok: bool,
    pub checkpoint: Option<EventRow>,
    pub export_query: String,
}

impl ListPage {
    fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }
}

pub async fn list(
    state: web::Data<AppState>,
    auth: Authorized<ReadAudit>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let filter = q.filter()?;
    let cursor = q.cursor();
    let f = filter.clone();
    let (page, total, head, verification, checkpoint) = read(&state, move |conn| {
        let page = audit::list_events(conn, &f, cursor, PER_PAGE)?;
        let total = audit::count_events(conn, &f)?;
        let head = audit::head(conn)?;
        let latest = |conn: &mut crate::db::AnyConnection, action: &str| -> Result<Option<AuditEvent>, AppError> {
            let filter = AuditFilter { action: Some(action.to_owned()), ..AuditFilter::default() };
            Ok(audit::list_events(conn, &filter, Cursor::Newest, 1)?.events.into_iter().next())
        };
        let verification = latest(conn, "audit.verify")?;
        let checkpoint = latest(conn, "audit.checkpoint")?;
        Ok((page, total, head, verification, checkpoint))
    })
    .await?;
    let base = q.encoded();
    let link = |key: &str, seq: i64| {
        if base.is_empty() { format!("/audit?{key}={seq}") } else { format!("/audit?{base}&{key}={seq}") }
    };
    let verification_ok = verification
        .as_ref()
        .and_then(|e| e.after_json.as_deref())
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .and_then(|v| v.get("intact").and_then(Value::as_bool))
        .unwrap_or(false);
    render(&ListPage {
        layout: Layout::new(&state, &auth.user, "Audit log", Section::Audit),
        events: page.events.iter().map(event_row).collect(),
        total: view::count(total),
        older: page.older.map(|s| link("before", s)),
        newer: page.newer.map(|s| link("after", s)),
        head_seq: head.seq,
        head_hash: head.hash.chars().take(16).collect(),
        verification: verification.as_ref().map(event_row),
        verification_ok,
        checkpoint: checkpoint.as_ref().map(event_row),
        export_query: base,
        q,
    })
}

/// Verifies the whole chain now and records the outcome as an event.
pub async fn verify(state: web::Data<AppState>, auth: Authorized<ReadAudit>) -> Result<HttpResponse, AppError> {
    let db = state.db.clone();
    let started = std::time::Instant::now();
    let result = web::block(move || -> Result<_, AppError> {
        let mut conn = db.reader()?;
        Ok(audit::verify_chain(&mut conn, None, |_, _| {})?)
    })
    .await??;
    let millis = started.elapsed().as_millis() as u64;
    let after = match &result {
        Ok(head) => json!({ "intact": true, "events": head.seq, "head_hash": head.hash, "millis": millis }),
        Err(e) => {
            json!({ "intact": false, "first_bad_seq": e.seq, "problem": e.kind.to_string(), "detail": e.detail, "millis": millis })
        }
    };
    if let Err(e) = &result {
        tracing::error!(first_bad_seq = e.seq, problem = %e.kind, "the audit log fails verification");
    }
    let by = auth.user.audit();
    write(&state, move |conn| {
        audit::append(conn, &by.event("audit.verify", "audit_log").after(after), now())?;
        Ok(())
    })
    .await?;
    Ok(see_other("/audit"))
}

/// Bytes produced on a blocking thread, streamed to the client as they come.
struct ChannelStream(tokio::sync::mpsc::Receiver<Result<Bytes, AppError>>);

impl futures_core::Stream for ChannelStream {
    type Item = Result<Bytes, AppError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// The events matching the filters, in sequence order, as JSON Lines or CSV.
pub async fn export(
    state: web::Data<AppState>,
    _auth: Authorized<ReadAudit>,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let filter = q.filter()?;
    let csv = match q.format.as_deref().unwrap_or("jsonl") {
        "jsonl" => false,
        "csv" => true,
        other => return Err(AppError::BadRequest(format!("Unknown format {other:?}: use jsonl or csv."))),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, AppError>>(4);
    let db = state.db.clone();
    std::thread::Builder::new()
        .name("custodian-audit-export".into())
        .spawn(move || {
            let result = (|| -> Result<(), AppError> {
                let mut conn = db.reader()?;
                if csv && tx.blocking_send(Ok(Bytes::from(format!("{CSV_HEADER}\r\n")))).is_err() {
                    return Ok(());
                }
                audit::for_each_batch(&mut conn, &filter, 0, 2_000, |rows| {
                    let mut chunk = String::with_capacity(rows.len() * 400);
                    for row in rows {
                        if csv {
                            row.write_csv_record(&mut chunk);
                        } else {
                            chunk.push_str(&row.to_json().to_string());
                            chunk.push('\n');
                        }
                    }
                    if tx.blocking_send(Ok(Bytes::from(chunk))).is_err() {
                        return ControlFlow::Break(());
                    }
                    ControlFlow::Continue(())
                })?;
                Ok(())
            })();
            if let Err(e) = result {
                let _ = tx.blocking_send(Err(e));
            }
        })
        .map_err(AppError::internal)?;
    let (content_type, name) =
        if csv { ("text/csv; charset=utf-8", "audit-log.csv") } else { ("application/x-ndjson", "audit-log.jsonl") };
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, content_type))
        .insert_header((CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .streaming(ChannelStream(rx)))
}

/// A dataset's recent history, newest first, for its page.
pub fn dataset_history(
    conn: &mut crate::db::AnyConnection,
    dataset_id: i64,
    limit: i64,
) -> Result<Vec<EventRow>, AppError> {
    Ok(audit::entity_history(conn, "dataset", &dataset_id.to_string(), limit)?.iter().map(event_row).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_name_what_changed() {
        assert_eq!(
            summary(Some(r#"{"description":"old","owner":"a"}"#), Some(r#"{"description":"new","owner":"a"}"#)),
            "description: old → new"
        );
        assert_eq!(summary(None, Some(r#"{"role":"viewer","username":"x"}"#)), "role: viewer; username: x");
        assert_eq!(summary(Some(r#"{"owner":"a"}"#), Some(r#"{"owner":null}"#)), "owner: a → none");
        assert_eq!(summary(None, None), "");
    }
}
