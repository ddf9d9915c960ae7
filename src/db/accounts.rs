//! Repository for people and credentials: users, sessions, failed sign-ins and API tokens.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::AnyConnection;
use super::models::{ApiToken, NewApiToken, NewSession, NewUser, Session, User};
use super::schema::{api_tokens, login_failures, sessions, users};

pub fn count_users(conn: &mut AnyConnection) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

pub fn insert_user(conn: &mut AnyConnection, new: &NewUser) -> QueryResult<User> {
    diesel::insert_into(users::table).values(new).execute(conn)?;
    users::table.filter(users::username.eq(&new.username)).select(User::as_select()).first(conn)
}

pub fn find_user(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<User>> {
    users::table.find(id).select(User::as_select()).first(conn).optional()
}

pub fn find_user_by_name(conn: &mut AnyConnection, username: &str) -> QueryResult<Option<User>> {
    users::table.filter(users::username.eq(username)).select(User::as_select()).first(conn).optional()
}

pub fn list_users(conn: &mut AnyConnection) -> QueryResult<Vec<User>> {
    users::table.order(users::username).select(User::as_select()).load(conn)
}

pub fn update_user_role(conn: &mut AnyConnection, id: i64, role: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(users::table.find(id)).set((users::role.eq(role), users::updated_at.eq(now))).execute(conn)
}

pub fn set_user_disabled(conn: &mut AnyConnection, id: i64, disabled: bool, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(users::table.find(id)).set((users::disabled.eq(disabled), users::updated_at.eq(now))).execute(conn)
}

pub fn set_password_hash(conn: &mut AnyConnection, id: i64, hash: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((users::password_hash.eq(hash), users::password_changed_at.eq(now), users::updated_at.eq(now)))
        .execute(conn)
}

pub fn record_login(conn: &mut AnyConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(users::table.find(id)).set(users::last_login_at.eq(now)).execute(conn)
}

// ---------------------------------------------------------------------------------------------
// Sessions

pub fn insert_session(conn: &mut AnyConnection, new: &NewSession) -> QueryResult<Session> {
    diesel::insert_into(sessions::table).values(new).execute(conn)?;
    sessions::table.filter(sessions::token_hash.eq(&new.token_hash)).select(Session::as_select()).first(conn)
}

/// A live (not revoked) session and its user, by the hash of the cookie's token.
pub fn find_session(conn: &mut AnyConnection, token_hash: &str) -> QueryResult<Option<(Session, User)>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::revoked_at.is_null())
        .select((Session::as_select(), User::as_select()))
        .first(conn)
        .optional()
}

pub fn touch_session(conn: &mut AnyConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(sessions::table.find(id)).set(sessions::last_seen_at.eq(now)).execute(conn)
}

pub fn revoke_session(conn: &mut AnyConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(sessions::table.find(id).filter(sessions::revoked_at.is_null()))
        .set(sessions::revoked_at.eq(now))
        .execute(conn)
}

/// Ends every session of a user (disabled, password reset).
pub fn revoke_user_sessions(conn: &mut AnyConnection, user_id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(sessions::table.filter(sessions::user_id.eq(user_id)).filter(sessions::revoked_at.is_null()))
        .set(sessions::revoked_at.eq(now))
        .execute(conn)
}

// ---------------------------------------------------------------------------------------------
// Failed sign-ins

pub fn record_login_failure(
    conn: &mut AnyConnection,
    username: &str,
    address: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::username.eq(username),
            login_failures::address.eq(address),
            login_failures::failed_at.eq(now),
        ))
        .execute(conn)
}

/// How many failures, and the oldest of them.
pub type FailureCount = (i64, Option<NaiveDateTime>);

/// Failures since `since` for the account and for the address: (count, oldest) each.
pub fn recent_login_failures(
    conn: &mut AnyConnection,
    username: &str,
    address: &str,
    since: NaiveDateTime,
) -> QueryResult<(FailureCount, FailureCount)> {
    let by_user: (i64, Option<NaiveDateTime>) = login_failures::table
        .filter(login_failures::username.eq(username))
        .filter(login_failures::failed_at.gt(since))
        .select((diesel::dsl::count_star(), diesel::dsl::min(login_failures::failed_at)))
        .first(conn)?;
    let by_address: (i64, Option<NaiveDateTime>) = login_failures::table
        .filter(login_failures::address.eq(address))
        .filter(login_failures::failed_at.gt(since))
        .select((diesel::dsl::count_star(), diesel::dsl::min(login_failures::failed_at)))
        .first(conn)?;
    Ok((by_user, by_address))
}

/// Forgets failures older than `before`, and an account's failures after it signs in.
pub fn clear_login_failures(
    conn: &mut AnyConnection,
    username: Option<&str>,
    before: NaiveDateTime,
) -> QueryResult<usize> {
    match username {
        Some(u) => diesel::delete(login_failures::table.filter(login_failures::username.eq(u))).execute(conn),
        None => diesel::delete(login_failures::table.filter(login_failures::failed_at.lt(before))).execute(conn),
    }
}

// ---------------------------------------------------------------------------------------------
// API tokens

pub fn insert_api_token(conn: &mut AnyConnection, new: &NewApiToken) -> QueryResult<ApiToken> {
    diesel::insert_into(api_tokens::table).values(new).execute(conn)?;
    api_tokens::table.filter(api_tokens::token_hash.eq(&new.token_hash)).select(ApiToken::as_select()).first(conn)
}

pub fn find_api_token(conn: &mut AnyConnection, token_hash: &str) -> QueryResult<Option<ApiToken>> {
    api_tokens::table
        .filter(api_tokens::token_hash.eq(token_hash))
        .filter(api_tokens::revoked_at.is_null())
        .select(ApiToken::as_select())
        .first(conn)
        .optional()
}

pub fn find_api_token_by_id(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<ApiToken>> {
    api_tokens::table.find(id).select(ApiToken::as_select()).first(conn).optional()
}

pub fn list_api_tokens(conn: &mut AnyConnection) -> QueryResult<Vec<ApiToken>> {
    api_tokens::table.order(api_tokens::id.desc()).select(ApiToken::as_select()).load(conn)
}

pub fn touch_api_token(conn: &mut AnyConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(api_tokens::table.find(id)).set(api_tokens::last_used_at.eq(now)).execute(conn)
}

pub fn revoke_api_token(conn: &mut AnyConnection, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(api_tokens::table.find(id).filter(api_tokens::revoked_at.is_null()))
        .set(api_tokens::revoked_at.eq(now))
        .execute(conn)
}
