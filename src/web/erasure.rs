//! Erasure request pages: the list (open requests first, overdue highlighted), the submission
//! form, and one request with its stage, deadline, plan, recipients, runs and receipt, with the
//! actions its state and the viewer's role allow. The work is done by `crate::erasure`; its
//! audit events are written there. The JSON API for requests is in `web::api`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;

use super::auth::{Authorized, CurrentUser, Requirement};
use super::forms::{self, FieldErrors};
use super::{AppState, Layout, Section, read, render_status, see_other, view, write};
use crate::db::erasure::{self as repo, Request};
use crate::db::{AnyConnection, classification, now};
use crate::erasure::{self as service, CHANNELS, ErasureError, RecipientView, Submission};
use crate::error::AppError;
use crate::governance::access::{Permission, Role};
use crate::governance::erasure::{self as rules, Status, subject};

/// Longest identifier value accepted, in characters.
pub const VALUE_MAX: usize = 500;
/// Longest requester reference accepted, in characters.
pub const REFERENCE_MAX: usize = 200;
/// Longest notes (and reasons) accepted, in characters.
pub const NOTES_MAX: usize = 10_000;
/// Longest idempotency key accepted, in characters.
pub const KEY_MAX: usize = 100;
/// Most open (and, again, ended) requests the list shows.
pub const LIST_LIMIT: i64 = 500;

impl From<ErasureError> for AppError {
    fn from(e: ErasureError) -> Self {
        match e {
            ErasureError::NotFound(what) => Self::not_found(what),
            ErasureError::Invalid(message) => Self::Unprocessable(message),
            ErasureError::Conflict(message) => Self::Conflict(message),
            ErasureError::Forbidden(message) => Self::Forbidden(message),
            ErasureError::Db(e) => e.into(),
            ErasureError::Pool(e) => e.into(),
            other @ (ErasureError::Target(_) | ErasureError::Sealed(_)) => Self::internal(other),
        }
    }
}

/// Requires [`Permission::SubmitErasure`].
pub struct SubmitErasure;
impl Requirement for SubmitErasure {
    const PERMISSION: Permission = Permission::SubmitErasure;
}

/// Requires [`Permission::ApproveErasure`].
pub struct ApproveErasure;
impl Requirement for ApproveErasure {
    const PERMISSION: Permission = Permission::ApproveErasure;
}

/// Who may see erasure requests, plan, extend and run them: the privacy desk and compliance.
const FOLLOW: [Permission; 2] = [Permission::SubmitErasure, Permission::ApproveErasure];

pub fn can_follow(user: &CurrentUser) -> bool {
    FOLLOW.iter().any(|p| user.can(*p))
}

/// A 403 unless the user may follow erasure requests; it names the roles that may.
pub fn require_follow(user: &CurrentUser, what: &str) -> Result<(), AppError> {
    if can_follow(user) {
        return Ok(());
    }
    let holders: Vec<&str> =
        Role::ALL.into_iter().filter(|r| FOLLOW.iter().any(|p| r.allows(*p))).map(Role::label).collect();
    Err(AppError::Forbidden(format!(
        "You are signed in as {} ({}), and to {what} you need the role of {}.",
        user.actor,
        user.role.label(),
        holders.join(" or ")
    )))
}

/// The CSS classes of a request's status badge (the label goes beside the colour).
pub fn status_badge(status: &str) -> &'static str {
    match Status::parse(status) {
        Some(Status::Running) => "state state-running",
        Some(Status::AwaitingRecipients | Status::CompletedWithExceptions) => "state state-warning",
        Some(Status::Blocked) => "state state-failed",
        Some(Status::Completed) => "state state-completed",
        Some(Status::Refused) => "state state-removed",
        _ => "state",
    }
}

fn status_label(status: &str) -> String {
    Status::parse(status).map_or_else(|| status.to_owned(), |s| s.label().to_owned())
}

fn step_badge(status: &str) -> &'static str {
    match status {
        "running" => "state state-running",
        "done" => "state state-succeeded",
        "failed" => "state state-failed",
        "held" => "state state-warning",
        _ => "state",
    }
}

fn run_badge(status: &str) -> &'static str {
    match status {
        "queued" => "state state-queued",
        "running" => "state state-running",
        "done" => "state state-succeeded",
        "failed" => "state state-failed",
        _ => "state",
    }
}

/// "in 12 days", "due today", "3 days overdue".
pub fn deadline(days_left: i64) -> String {
    match days_left {
        0 => "due today".to_owned(),
        1 => "in 1 day".to_owned(),
        -1 => "1 day overdue".to_owned(),
        n if n > 1 => format!("in {n} days"),
        n => format!("{} days overdue", -n),
    }
}

pub fn channel_label(channel: &str) -> &'static str {
    match channel {
        "web_form" => "Web form",
        "email" => "E-mail",
        "letter" => "Letter",
        "phone" => "Phone",
        "in_person" => "In person",
        "api" => "API",
        _ => "Other",
    }
}

fn identifier_labels(conn: &mut AnyConnection) -> Result<Vec<(String, String)>, AppError> {
    Ok(classification::list_identifier_types(conn)?.into_iter().map(|t| (t.key, t.label)).collect())
}

fn label_of(labels: &[(String, String)], key: &str) -> String {
    labels.iter().find(|(k, _)| k == key).map_or_else(|| key.to_owned(), |(_, l)| l.clone())
}

fn today() -> NaiveDate {
    now().date()
}

// ---------------------------------------------------------------------------------------------
// The list

pub struct RequestRow {
    pub id: i64,
    pub identifier_type: String,
    pub identifier_label: String,
    pub status_label: String,
    pub badge: &'static str,
    pub received: String,
    pub due: String,
    /// "in 12 days", "3 days overdue", or "ended".
    pub deadline: String,
    pub overdue: bool,
    pub ended: bool,
    pub submitted_by: String,
}

#[derive(Template)]
#[template(path = "erasure/list.html")]
pub struct ListPage {
    pub layout: Layout,
    pub requests: Vec<RequestRow>,
    pub open: usize,
    pub overdue: usize,
    pub can_submit: bool,
}

/// `GET /erasure`.
pub async fn list(state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, AppError> {
    require_follow(&user, "see erasure requests")?;
    let (requests, labels) =
        read(&state, |conn| Ok((repo::list_requests(conn, LIST_LIMIT)?, identifier_labels(conn)?))).await?;
    let today = today();
    let requests: Vec<RequestRow> = requests
        .into_iter()
        .map(|r| {
            let days = rules::days_left(r.due_on, today);
            let ended = r.ended_at.is_some();
            RequestRow {
                id: r.id,
                identifier_label: label_of(&labels, &r.identifier_type),
                identifier_type: r.identifier_type,
                status_label: status_label(&r.status),
                badge: status_badge(&r.status),
                received: r.received_on.to_string(),
                due: r.due_on.to_string(),
                deadline: if ended { "ended".to_owned() } else { deadline(days) },
                overdue: !ended && days < 0,
                ended,
                submitted_by: r.submitted_by,
            }
        })
        .collect();
    let open = requests.iter().filter(|r| !r.ended).count();
    let overdue = requests.iter().filter(|r| r.overdue).count();
    render_status(
        StatusCode::OK,
        &ListPage {
            layout: Layout::new(&state, &user, "Erasure requests", Section::Erasure),
            requests,
            open,
            overdue,
            can_submit: user.can(Permission::SubmitErasure),
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Submission

#[derive(Deserialize, Default, Clone)]
pub struct SubmissionForm {
    pub identifier_type: Option<String>,
    pub value: Option<String>,
    pub received_on: Option<String>,
    pub channel: Option<String>,
    pub requester_ref: Option<String>,
    pub idempotency_key: Option<String>,
    pub notes: Option<String>,
}

#[derive(Template)]
#[template(path = "erasure/new.html")]
pub struct NewPage {
    pub layout: Layout,
    pub form: SubmissionForm,
    pub errors: FieldErrors,
    /// A message about the whole submission (the service refused it).
    pub message: Option<String>,
    pub identifier_types: Vec<(String, String)>,
    pub channels: Vec<(&'static str, &'static str)>,
    pub today: String,
}

impl NewPage {
    fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }

    fn is_type(&self, key: &str) -> bool {
        self.form.identifier_type.as_deref() == Some(key)
    }

    fn is_channel(&self, key: &str) -> bool {
        self.form.channel.as_deref().unwrap_or("web_form") == key
    }
}

fn new_idempotency_key() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn new_page(
    state: &AppState,
    user: &CurrentUser,
    form: SubmissionForm,
    errors: FieldErrors,
    message: Option<String>,
    identifier_types: Vec<(String, String)>,
) -> NewPage {
    NewPage {
        layout: Layout::new(state, user, "New erasure request", Section::Erasure),
        form,
        errors,
        message,
        identifier_types,
        channels: CHANNELS.iter().map(|c| (*c, channel_label(c))).collect(),
        today: today().to_string(),
    }
}

/// `GET /erasure/new`.
pub async fn new_form(state: web::Data<AppState>, auth: Authorized<SubmitErasure>) -> Result<HttpResponse, AppError> {
    let types = read(&state, identifier_labels).await?;
    let form = SubmissionForm {
        received_on: Some(today().to_string()),
        channel: Some("web_form".to_owned()),
        idempotency_key: Some(new_idempotency_key()),
        identifier_type: types.iter().find(|(k, _)| k == "email").or(types.first()).map(|(k, _)| k.clone()),
        ..Default::default()
    };
    render_status(StatusCode::OK, &new_page(&state, &auth.user, form, FieldErrors::default(), None, types))
}

/// Checks the form field by field; the service checks again.
fn validate(form: &SubmissionForm, types: &[(String, String)], today: NaiveDate) -> (Submission, FieldErrors) {
    let mut errors = FieldErrors::default();
    let identifier_type = forms::required_text(&mut errors, "identifier_type", form.identifier_type.as_deref(), 100);
    if !identifier_type.is_empty() && !types.iter().any(|(k, _)| *k == identifier_type) {
        errors.add("identifier_type", "Choose one of the identifier types listed.");
    }
    let value = forms::required_text(&mut errors, "value", form.value.as_deref(), VALUE_MAX);
    if !value.is_empty()
        && errors.get("value").is_none()
        && errors.get("identifier_type").is_none()
        && let Err(e) = subject::normalise(&identifier_type, &value)
    {
        let message = e.to_string();
        let mut chars = message.chars();
        let message = chars.next().map(|c| c.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default();
        errors.add("value", format!("{message}."));
    }
    let received_on = match form.received_on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) if date > today => {
                errors.add("received_on", "The received date is in the future.");
                None
            }
            Ok(date) => Some(date),
            Err(_) => {
                errors.add("received_on", "Give the date as YYYY-MM-DD.");
                None
            }
        },
    };
    let channel = form.channel.as_deref().map(str::trim).filter(|c| !c.is_empty()).unwrap_or("web_form").to_owned();
    if !CHANNELS.contains(&channel.as_str()) {
        errors.add("channel", "Choose one of the channels listed.");
    }
    let requester_ref =
        forms::optional_text(&mut errors, "requester_ref", form.requester_ref.as_deref(), REFERENCE_MAX);
    let notes = forms::optional_text(&mut errors, "notes", form.notes.as_deref(), NOTES_MAX);
    let idempotency_key =
        forms::optional_text(&mut errors, "idempotency_key", form.idempotency_key.as_deref(), KEY_MAX);
    let submission = Submission {
        identifier_type,
        value,
        received_on,
        channel: Some(channel),
        requester_ref,
        idempotency_key,
        notes,
    };
    (submission, errors)
}

/// `POST /erasure`: stores the request (or finds the one this form already stored) and shows it.
pub async fn create(
    state: web::Data<AppState>,
    auth: Authorized<SubmitErasure>,
    form: web::Form<SubmissionForm>,
) -> Result<HttpResponse, AppError> {
    let user = auth.user;
    let mut form = form.into_inner();
    if form.idempotency_key.as_deref().is_none_or(|k| k.trim().is_empty()) {
        form.idempotency_key = Some(new_idempotency_key());
    }
    let types = read(&state, identifier_labels).await?;
    let (submission, errors) = validate(&form, &types, today());
    if !errors.is_empty() {
        let page = new_page(&state, &user, form, errors, None, types);
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }
    let keys = state.keys.clone();
    let by = user.audit();
    let result = write(&state, move |conn| Ok(service::submit(conn, &keys, &by, &submission, now()))).await?;
    match result {
        Ok((request, _)) => Ok(see_other(&format!("/erasure/{}", request.id))),
        Err(e) => {
            let (status, message) = refusal(e)?;
            let page = new_page(&state, &user, form, FieldErrors::default(), Some(message), types);
            render_status(status, &page)
        }
    }
}

/// What the service refused, as a status and a message for the page that was acted on; other
/// errors stay errors.
fn refusal(e: ErasureError) -> Result<(StatusCode, String), AppError> {
    match e {
        ErasureError::Invalid(m) => Ok((StatusCode::UNPROCESSABLE_ENTITY, m)),
        ErasureError::Conflict(m) => Ok((StatusCode::CONFLICT, m)),
        ErasureError::Forbidden(m) => Ok((StatusCode::FORBIDDEN, m)),
        other => Err(other.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// One request

pub struct StepLine {
    pub number: i32,
    pub dataset_id: i64,
    pub table: String,
    pub action: String,
    pub reached_via: String,
    pub hold: Option<String>,
    pub expected: String,
    pub status: String,
    pub badge: &'static str,
    pub changed: String,
    pub remaining: Option<String>,
    pub remaining_zero: bool,
    pub attempts: i32,
    pub error: Option<String>,
}

pub struct RecipientLine {
    pub id: i64,
    pub dataset_id: i64,
    pub recipient: String,
    pub status: String,
    pub badge: &'static str,
}

impl From<RecipientView> for RecipientLine {
    fn from(r: RecipientView) -> Self {
        let badge = match r.status.as_str() {
            "acknowledged" => "state state-succeeded",
            "sent" => "state state-running",
            _ => "state state-warning",
        };
        Self { id: r.id, dataset_id: r.dataset_id, recipient: r.recipient, status: r.status, badge }
    }
}

pub struct RunLine {
    pub id: i64,
    pub mode: &'static str,
    pub status: String,
    pub badge: &'static str,
    pub attempts: i32,
    pub queued: String,
    pub queued_iso: String,
    pub finished: Option<String>,
    pub error: Option<String>,
}

pub struct ReceiptView {
    pub file: String,
    pub public_key: String,
    pub command: String,
}

/// Who did something, and when.
pub struct ByAt {
    pub by: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "erasure/show.html")]
pub struct ShowPage {
    pub layout: Layout,
    pub id: i64,
    pub message: Option<String>,
    pub identifier_type: String,
    pub identifier_label: String,
    pub status: String,
    pub status_label: String,
    pub badge: &'static str,
    /// What the status reason is, and its lines.
    pub reason_heading: Option<&'static str>,
    pub reason_lines: Vec<String>,
    pub reason_is_error: bool,
    pub received: String,
    pub due: String,
    pub deadline: String,
    pub overdue: bool,
    pub ended: Option<String>,
    pub original_due: String,
    pub extension: Option<ByAt>,
    pub extension_reason: Option<String>,
    pub channel: &'static str,
    pub requester_ref: Option<String>,
    pub notes: Option<String>,
    pub submitted: ByAt,
    pub approved: Option<ByAt>,
    pub steps: Vec<StepLine>,
    /// "3 steps, 12 rows in the dry run".
    pub plan_summary: String,
    pub recipients: Vec<RecipientLine>,
    pub runs: Vec<RunLine>,
    pub active_run: Option<String>,
    pub receipt: Option<ReceiptView>,
    pub can_plan: bool,
    pub can_approve: bool,
    /// The viewer submitted the request, so another officer must approve it.
    pub own_request: bool,
    pub can_refuse: bool,
    pub can_extend: bool,
    pub can_run: bool,
    pub run_label: &'static str,
    pub can_notify: bool,
}

impl ShowPage {
    fn planned(&self) -> bool {
        !self.steps.is_empty()
    }
}

fn by_at(by: Option<&str>, at: Option<&NaiveDateTime>) -> Option<ByAt> {
    Some(ByAt { by: by?.to_owned(), at: at.map(view::time).unwrap_or_default() })
}

/// Renders the request page, with `message` (what an action was refused for) in a notice.
pub async fn show_page(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    status: StatusCode,
    message: Option<String>,
) -> Result<HttpResponse, AppError> {
    let today = today();
    let (mut details, request, labels, sources) = read(state, move |conn| {
        let details = service::details(conn, id, today)?;
        let request: Request =
            repo::find_request(conn, id)?.ok_or_else(|| AppError::not_found(format!("Erasure request {id}")))?;
        Ok((details, request, identifier_labels(conn)?, repo::source_names(conn)?))
    })
    .await?;
    let steps = std::mem::take(&mut details.steps);
    let recipients = std::mem::take(&mut details.recipients);
    let runs = std::mem::take(&mut details.runs);
    let state_now = Status::parse(&details.status).unwrap_or(Status::Blocked);
    let active = runs.iter().find(|r| matches!(r.status.as_str(), "queued" | "running"));
    let active_run = active.map(|run| {
        let progress = state.progress.get(crate::jobs::erasure::board_id(run.id));
        match progress {
            Some(p) if p.total > 0 => format!(
                "Run #{} {}: {}, {} of {} steps",
                run.id,
                run.status,
                p.stage,
                view::count(p.done as i64),
                view::count(p.total as i64)
            ),
            _ if run.status == "queued" => format!("Run #{} is queued and waits for a worker", run.id),
            _ => format!("Run #{} is running", run.id),
        }
    });
    let busy = active.is_some();
    let follow = can_follow(user);
    let ended = details.ended_at.is_some();
    let (reason_heading, reason_is_error) = match state_now {
        _ if details.status_reason.is_none() => (None, false),
        Status::Refused => (Some("Refused because"), false),
        Status::Blocked => (Some("Blocked"), true),
        _ => (Some("The last plan was refused; not covered"), true),
    };
    let reason_lines = details
        .status_reason
        .as_deref()
        .map(|r| r.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    let retry = state_now == Status::Blocked && details.approved_by.is_some();
    let can_run = follow && !busy && (state_now.can_run() || retry);
    let run_label = match state_now {
        Status::Completed | Status::CompletedWithExceptions => "Verify again (changes nothing)",
        Status::Blocked => "Run again",
        _ => "Run the erasure",
    };
    let receipt = details.has_receipt.then(|| {
        let file = format!("erasure-receipt-{id}.json");
        let public_key = state.keys.receipt_public_key().to_base64();
        ReceiptView { command: format!("custodian receipt verify {file} --public-key {public_key}"), file, public_key }
    });
    let source_name = |id: i64| sources.get(&id).map_or_else(|| format!("source {id}"), |s| s.0.clone());
    let mut layout = Layout::new(state, user, format!("Erasure request #{id}"), Section::Erasure);
    if busy {
        layout.refresh = Some(2);
    }
    let page = ShowPage {
        layout,
        id,
        message,
        identifier_label: label_of(&labels, &details.identifier_type),
        identifier_type: details.identifier_type.clone(),
        status_label: details.status_label.clone(),
        badge: status_badge(&details.status),
        status: details.status.clone(),
        reason_heading,
        reason_lines,
        reason_is_error,
        received: details.received_on.to_string(),
        due: details.due_on.to_string(),
        deadline: deadline(details.days_left),
        overdue: !ended && details.days_left < 0,
        ended: details.ended_at.as_ref().map(view::time),
        original_due: request.original_due_on.to_string(),
        extension: details
            .extended
            .then(|| by_at(request.extended_by.as_deref(), request.extended_at.as_ref()))
            .flatten(),
        extension_reason: details.extension_reason.clone(),
        channel: channel_label(&details.channel),
        requester_ref: details.requester_ref.clone(),
        notes: request.notes.clone(),
        submitted: ByAt { by: details.submitted_by.clone(), at: view::time(&details.created_at) },
        approved: by_at(request.approved_by.as_deref(), request.approved_at.as_ref()),
        plan_summary: format!(
            "{}, {} in the dry run",
            view::plural(steps.len() as i64, "step", "steps"),
            view::plural(steps.iter().map(|s| s.expected_rows).sum(), "row", "rows")
        ),
        steps: steps
            .into_iter()
            .map(|s| StepLine {
                number: s.position + 1,
                dataset_id: s.dataset_id,
                table: format!("{}.{}", source_name(s.source_id), s.table),
                action: s.action,
                reached_via: s.reached_via,
                hold: s.hold_basis.map(|b| rules::hold_basis_label(&b).map_or(b, str::to_owned)),
                expected: view::count(s.expected_rows),
                badge: step_badge(&s.status),
                status: s.status,
                changed: view::count(s.affected_rows),
                remaining: s.remaining_rows.map(view::count),
                remaining_zero: s.remaining_rows == Some(0),
                attempts: s.attempts,
                error: s.error,
            })
            .collect(),
        recipients: recipients.into_iter().map(RecipientLine::from).collect(),
        runs: runs
            .into_iter()
            .rev()
            .map(|r| RunLine {
                id: r.id,
                mode: if r.mode == "verify" { "verification only" } else { "erasure" },
                badge: run_badge(&r.status),
                status: r.status,
                attempts: r.attempts,
                queued: view::time(&r.created_at),
                queued_iso: view::iso(&r.created_at),
                finished: r.finished_at.as_ref().map(view::time),
                error: r.error,
            })
            .collect(),
        active_run,
        receipt,
        can_plan: follow && state_now.can_plan() && !busy,
        can_approve: user.can(Permission::ApproveErasure) && state_now.can_decide(),
        own_request: details.submitted_by == user.actor,
        can_refuse: user.can(Permission::ApproveErasure) && !state_now.is_final() && state_now != Status::Running,
        can_extend: follow && !details.extended && !state_now.is_final() && today <= request.original_due_on,
        can_run,
        run_label,
        can_notify: user.can(Permission::SubmitErasure) && !ended,
    };
    render_status(status, &page)
}

/// `GET /erasure/{id}`.
pub async fn show(state: web::Data<AppState>, user: CurrentUser, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    require_follow(&user, "see erasure requests")?;
    show_page(&state, &user, id.into_inner(), StatusCode::OK, None).await
}

/// After an action on request `id`: back to its page, or the page again with why not.
async fn after<T>(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    result: Result<T, ErasureError>,
    anchor: &str,
) -> Result<HttpResponse, AppError> {
    match result {
        Ok(_) => Ok(see_other(&format!("/erasure/{id}{anchor}"))),
        Err(e) => {
            let (status, message) = refusal(e)?;
            show_page(state, user, id, status, Some(message)).await
        }
    }
}

/// `POST /erasure/{id}/plan`: plans the request against the catalog and the live targets, with
/// dry-run counts; a refused plan's reasons show on the page.
pub async fn plan(state: web::Data<AppState>, user: CurrentUser, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    require_follow(&user, "plan erasure requests")?;
    let id = id.into_inner();
    let (db, keys, settings, by) = (state.db.clone(), state.keys.clone(), state.config.erasure, user.audit());
    let result = web::block(move || service::plan(&db, &keys, settings, &by, id)).await?;
    after(&state, &user, id, result, "#plan").await
}

/// `POST /erasure/{id}/approve`: four eyes, so never by the submitter.
pub async fn approve(
    state: web::Data<AppState>,
    auth: Authorized<ApproveErasure>,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let by = auth.user.audit();
    let result = write(&state, move |conn| Ok(service::approve(conn, &by, id, now()))).await?;
    after(&state, &auth.user, id, result, "").await
}

#[derive(Deserialize)]
pub struct ReasonForm {
    pub reason: Option<String>,
    pub months: Option<String>,
}

fn reason_of(form: &ReasonForm) -> Result<String, AppError> {
    let reason = form.reason.as_deref().map(str::trim).unwrap_or_default().to_owned();
    if reason.chars().count() > NOTES_MAX {
        return Err(AppError::Unprocessable(format!("The reason is longer than {NOTES_MAX} characters.")));
    }
    Ok(reason)
}

/// `POST /erasure/{id}/refuse`: with a reason; the request ends.
pub async fn refuse(
    state: web::Data<AppState>,
    auth: Authorized<ApproveErasure>,
    id: web::Path<i64>,
    form: web::Form<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let reason = reason_of(&form)?;
    let by = auth.user.audit();
    let result = write(&state, move |conn| Ok(service::refuse(conn, &by, id, &reason, now()))).await?;
    after(&state, &auth.user, id, result, "").await
}

/// `POST /erasure/{id}/extend`: once, by one or two months, with a reason.
pub async fn extend(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    form: web::Form<ReasonForm>,
) -> Result<HttpResponse, AppError> {
    require_follow(&user, "extend erasure requests")?;
    let id = id.into_inner();
    let reason = reason_of(&form)?;
    let months = match form.months.as_deref().map(str::trim) {
        Some("1") => 1,
        Some("2") => 2,
        _ => {
            let message = "An extension is 1 or 2 months.".to_owned();
            return show_page(&state, &user, id, StatusCode::UNPROCESSABLE_ENTITY, Some(message)).await;
        }
    };
    let by = user.audit();
    let result = write(&state, move |conn| Ok(service::extend(conn, &by, id, months, &reason, now()))).await?;
    after(&state, &user, id, result, "").await
}

/// `POST /erasure/{id}/run`: queues the approved plan's execution (or a verification of an
/// ended request) for the worker.
pub async fn run(state: web::Data<AppState>, user: CurrentUser, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    require_follow(&user, "run erasure requests")?;
    let id = id.into_inner();
    let by = user.audit();
    let result = write(&state, move |conn| Ok(service::request_run(conn, &by, id, now()))).await?;
    if result.is_ok() {
        state.jobs.notify();
    }
    // No fragment: the page refreshes itself while the run goes on, and a refresh to a URL with
    // a fragment is only a jump within the page.
    after(&state, &user, id, result, "").await
}

#[derive(Deserialize)]
pub struct RecipientForm {
    pub status: Option<String>,
}

/// `POST /erasure/{id}/recipients/{notification}`: a recipient was told, or answered.
pub async fn recipient(
    state: web::Data<AppState>,
    auth: Authorized<SubmitErasure>,
    path: web::Path<(i64, i64)>,
    form: web::Form<RecipientForm>,
) -> Result<HttpResponse, AppError> {
    let (id, notification) = path.into_inner();
    let status = form.into_inner().status.unwrap_or_default().trim().to_owned();
    let (db, keys, by) = (state.db.clone(), state.keys.clone(), auth.user.audit());
    let result = web::block(move || service::set_recipient(&db, &keys, &by, id, notification, &status)).await?;
    after(&state, &auth.user, id, result, "").await
}

/// `GET /erasure/{id}/receipt`: the signed receipt file, as stored.
pub async fn receipt(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    require_follow(&user, "download erasure receipts")?;
    let id = id.into_inner();
    let stored = read(&state, move |conn| {
        repo::find_request(conn, id)?.ok_or_else(|| AppError::not_found(format!("Erasure request {id}")))?;
        repo::receipt_of(conn, id)?
            .ok_or_else(|| AppError::NotFound(format!("Erasure request {id} has no receipt yet: it has not ended.")))
    })
    .await?;
    Ok(super::attachment("application/json", &format!("erasure-receipt-{id}.json"), stored.body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_read_as_days_left_or_overdue() {
        assert_eq!(deadline(12), "in 12 days");
        assert_eq!(deadline(1), "in 1 day");
        assert_eq!(deadline(0), "due today");
        assert_eq!(deadline(-1), "1 day overdue");
        assert_eq!(deadline(-9), "9 days overdue");
    }

    #[test]
    fn every_status_has_a_badge_and_every_channel_a_label() {
        for s in Status::ALL {
            assert!(status_badge(s.as_str()).starts_with("state"));
        }
        assert!(CHANNELS.iter().all(|c| channel_label(c) != "Other"));
    }

    #[test]
    fn the_form_is_checked_field_by_field() {
        let types = vec![("email".to_owned(), "E-mail address".to_owned())];
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let form = SubmissionForm {
            identifier_type: Some("email".into()),
            value: Some("not-an-address".into()),
            received_on: Some("2026-03-02".into()),
            channel: Some("pigeon".into()),
            ..Default::default()
        };
        let (_, errors) = validate(&form, &types, today);
        assert!(errors.get("value").is_some_and(|m| m.starts_with("That is not an e-mail address")));
        assert_eq!(errors.get("received_on"), Some("The received date is in the future."));
        assert!(errors.get("channel").is_some());
        let form = SubmissionForm {
            identifier_type: Some("email".into()),
            value: Some(" Alice@Example.com ".into()),
            received_on: Some("2026-02-01".into()),
            ..Default::default()
        };
        let (submission, errors) = validate(&form, &types, today);
        assert!(errors.is_empty(), "{}", errors.summary());
        assert_eq!(submission.channel.as_deref(), Some("web_form"));
        assert_eq!(submission.received_on, NaiveDate::from_ymd_opt(2026, 2, 1));
    }
}

#[derive(Deserialize)]
pub struct ActionForm {
    pub action: String,
}

/// `POST /datasets/{id}/erasure-action`: how erasure treats this dataset's rows of a subject
/// (delete rows, or mask its personal-data columns).
pub async fn dataset_action(
    state: web::Data<AppState>,
    auth: Authorized<ApproveErasure>,
    id: web::Path<i64>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let action = form.action.trim().to_owned();
    let by = auth.user.audit();
    write(&state, move |conn| service::set_dataset_action(conn, &by, id, &action, now()).map_err(AppError::from))
        .await?;
    Ok(see_other(&format!("/datasets/{id}#erasure")))
}
