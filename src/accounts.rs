//! People and credentials, above the repository: password hashing (argon2id), sign-in with
//! throttling, sessions with idle and absolute timeouts, and API tokens. The CLI and the web app
//! both go through here.

use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDateTime, TimeDelta};
use sha2::{Digest, Sha256};

use crate::db::models::{ApiToken, NewApiToken, NewSession, NewUser, Session, User};
use crate::db::{AnyConnection, accounts};
use crate::governance::access::Role;

/// Failed sign-ins counted per account and per address within this window.
pub const THROTTLE_WINDOW_MINUTES: i64 = 15;
/// Failures on one account within the window before it is locked for the rest of the window.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failures from one address within the window before it is refused for the rest of the window.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;

pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 256;
pub const USERNAME_MAX: usize = 64;

/// Session lifetimes, from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    /// A session unused for this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, used or not.
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self { idle: Duration::from_secs(30 * 60), absolute: Duration::from_secs(12 * 3600) }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Invalid(String),
    #[error("catalog: {0}")]
    Db(#[from] diesel::result::Error),
    #[error("password hashing failed")]
    Hash,
    #[error("no randomness available from the operating system")]
    Random,
}

/// `n` random bytes as URL-safe base64.
pub fn random_token(n: usize) -> Result<String, AccountError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|_| AccountError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// SHA-256 of a token, hex: what the catalog stores instead of the token.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn validate_username(username: &str) -> Result<(), String> {
    if username.is_empty() || username.chars().count() > USERNAME_MAX {
        return Err(format!("Between 1 and {USERNAME_MAX} characters."));
    }
    if !username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')) {
        return Err("Letters, digits and . _ - @ only.".into());
    }
    Ok(())
}

pub fn validate_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < PASSWORD_MIN {
        return Err(format!("At least {PASSWORD_MIN} characters."));
    }
    if n > PASSWORD_MAX {
        return Err(format!("At most {PASSWORD_MAX} characters."));
    }
    Ok(())
}

/// An argon2id hash (PHC string) with a random salt.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|_| AccountError::Hash)
}

/// Whether `password` matches the stored hash (constant time within argon2).
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash of no one's password, checked when the account does not exist so that a wrong
/// username takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password that matches nothing").unwrap_or_default())
}

/// Creates a user after checking the name, role and password.
pub fn create_user(
    conn: &mut AnyConnection,
    username: &str,
    display_name: Option<String>,
    role: Role,
    password: &str,
    now: NaiveDateTime,
) -> Result<User, AccountError> {
    validate_username(username).map_err(|m| AccountError::Invalid(format!("username: {m}")))?;
    validate_password(password).map_err(|m| AccountError::Invalid(format!("password: {m}")))?;
    if accounts::find_user_by_name(conn, username)?.is_some() {
        return Err(AccountError::Invalid(format!("a user named {username:?} exists already")));
    }
    let password_hash = hash_password(password)?;
    Ok(accounts::insert_user(
        conn,
        &NewUser {
            username: username.to_owned(),
            display_name,
            role: role.as_str().to_owned(),
            password_hash,
            disabled: false,
            created_at: now,
            updated_at: now,
            password_changed_at: now,
        },
    )?)
}

/// Whether sign-in is refused for now; `Some(seconds)` to wait.
pub fn throttled(
    conn: &mut AnyConnection,
    username: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<Option<i64>, AccountError> {
    let window = TimeDelta::minutes(THROTTLE_WINDOW_MINUTES);
    let ((user_n, user_oldest), (addr_n, addr_oldest)) =
        accounts::recent_login_failures(conn, username, address, now - window)?;
    let wait = |oldest: Option<NaiveDateTime>| oldest.map_or(60, |t| (t + window - now).num_seconds().max(1));
    if user_n >= MAX_FAILURES_PER_ACCOUNT {
        return Ok(Some(wait(user_oldest)));
    }
    if addr_n >= MAX_FAILURES_PER_ADDRESS {
        return Ok(Some(wait(addr_oldest)));
    }
    Ok(None)
}

/// The outcome of checking a username and password (the password check runs outside any
/// transaction: it takes tens of milliseconds on purpose).
pub enum PasswordCheck {
    Valid(User),
    /// Wrong username or password, or a disabled account: the same answer for all three.
    Invalid,
}

pub fn check_password(conn: &mut AnyConnection, username: &str, password: &str) -> Result<PasswordCheck, AccountError> {
    let user = accounts::find_user_by_name(conn, username)?;
    let Some(user) = user else {
        verify_password(decoy_hash(), password);
        return Ok(PasswordCheck::Invalid);
    };
    if !verify_password(&user.password_hash, password) || user.disabled {
        return Ok(PasswordCheck::Invalid);
    }
    Ok(PasswordCheck::Valid(user))
}

/// A new session: the cookie's token (shown to no one else, stored only as a hash) and the row.
pub struct NewSessionToken {
    pub token: String,
    pub session: Session,
}

pub fn start_session(
    conn: &mut AnyConnection,
    user: &User,
    policy: &SessionPolicy,
    now: NaiveDateTime,
) -> Result<NewSessionToken, AccountError> {
    let token = random_token(32)?;
    let absolute = TimeDelta::from_std(policy.absolute).unwrap_or(TimeDelta::hours(12));
    let session = accounts::insert_session(
        conn,
        &NewSession {
            token_hash: token_hash(&token),
            user_id: user.id,
            csrf_token: random_token(32)?,
            created_at: now,
            last_seen_at: now,
            expires_at: now + absolute,
        },
    )?;
    accounts::record_login(conn, user.id, now)?;
    accounts::clear_login_failures(conn, Some(&user.username), now)?;
    Ok(NewSessionToken { token, session })
}

/// The session a cookie's token belongs to, if it is live: not revoked, not past its absolute
/// or idle limit, and its user not disabled.
pub fn live_session(
    conn: &mut AnyConnection,
    token: &str,
    policy: &SessionPolicy,
    now: NaiveDateTime,
) -> Result<Option<(Session, User)>, AccountError> {
    let Some((session, user)) = accounts::find_session(conn, &token_hash(token))? else {
        return Ok(None);
    };
    let idle = TimeDelta::from_std(policy.idle).unwrap_or(TimeDelta::minutes(30));
    if now >= session.expires_at || now - session.last_seen_at >= idle || user.disabled {
        return Ok(None);
    }
    Ok(Some((session, user)))
}

/// How stale `last_seen_at` may get before a request refreshes it (saves a write per request).
pub const TOUCH_AFTER: TimeDelta = TimeDelta::seconds(60);

/// A newly created API token: the secret (shown once) and the row.
pub struct CreatedToken {
    pub secret: String,
    pub token: ApiToken,
}

pub const TOKEN_PREFIX: &str = "cus_";

pub fn create_api_token(
    conn: &mut AnyConnection,
    name: &str,
    role: Role,
    created_by: Option<i64>,
    now: NaiveDateTime,
) -> Result<CreatedToken, AccountError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AccountError::Invalid("name: between 1 and 100 characters".into()));
    }
    let secret = format!("{TOKEN_PREFIX}{}", random_token(32)?);
    let token = accounts::insert_api_token(
        conn,
        &NewApiToken {
            name: name.to_owned(),
            role: role.as_str().to_owned(),
            token_hash: token_hash(&secret),
            prefix: secret.chars().take(TOKEN_PREFIX.len() + 6).collect(),
            created_by,
            created_at: now,
        },
    )?;
    Ok(CreatedToken { secret, token })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse battery!"));
        assert!(!verify_password("not a hash", "x"));
        assert_ne!(hash, hash_password("correct horse battery").unwrap(), "salts differ");
    }

    #[test]
    fn tokens_are_random_and_stored_as_hashes() {
        let a = random_token(32).unwrap();
        let b = random_token(32).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_eq!(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn names_and_passwords_are_checked() {
        assert!(validate_username("anna.schmidt").is_ok());
        assert!(validate_username("anna schmidt").is_err());
        assert!(validate_username("").is_err());
        assert!(validate_password("short").is_err());
        assert!(validate_password("long enough password").is_ok());
    }
}
