//! Validating a new source (from the CLI, the form or the API): its name, and a connection given
//! as a URL or as the name of an environment variable. A URL that carries a password is refused:
//! secrets belong in the environment, never in the catalog.

use std::path::Path;

use super::{ConnectionRef, SourceKind, classify_url, sqlite_path};

/// A source ready to be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub name: String,
    pub kind: SourceKind,
    pub connection: ConnectionRef,
}

/// The longest source name.
pub const NAME_MAX: usize = 64;

/// Field-level problems: (field, message).
pub type Problems = Vec<(&'static str, String)>;

pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("Required.".into());
    }
    if name.chars().count() > NAME_MAX {
        return Err(format!("At most {NAME_MAX} characters."));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        || !name.starts_with(|c: char| c.is_ascii_alphabetic())
    {
        return Err(
            "Use letters, digits, '-' and '_', starting with a letter (it becomes part of qualified names).".into()
        );
    }
    Ok(())
}

fn validate_env_name(var: &str) -> Result<(), String> {
    let ok = !var.is_empty()
        && var.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && !var.starts_with(|c: char| c.is_ascii_digit());
    if ok { Ok(()) } else { Err("An environment variable name: upper-case letters, digits and '_'.".into()) }
}

/// Checks a registration request. `url` and `url_env` are exclusive; with `url_env` the
/// variable must be set (it tells the kind of database) unless `kind` is given.
pub fn validate(
    name: &str,
    url: Option<&str>,
    url_env: Option<&str>,
    kind: Option<SourceKind>,
) -> Result<Registration, Problems> {
    let mut problems = Problems::new();
    let name = name.trim();
    if let Err(m) = validate_name(name) {
        problems.push(("name", m));
    }
    let url = url.map(str::trim).filter(|s| !s.is_empty());
    let url_env = url_env.map(str::trim).filter(|s| !s.is_empty());
    let connection = match (url, url_env) {
        (Some(_), Some(_)) => {
            problems.push(("connection", "Give either a URL or an environment variable, not both.".into()));
            None
        }
        (None, None) => {
            problems.push((
                "connection",
                "Give the database's URL or path, or the environment variable that holds it.".into(),
            ));
            None
        }
        (Some(url), None) => match classify_url(url) {
            Err(m) => {
                problems.push(("url", m));
                None
            }
            Ok((_, true)) => {
                problems.push((
                    "url",
                    "This URL contains a password. Put the URL in an environment variable on the Custodian host and register the variable's name instead."
                        .into(),
                ));
                None
            }
            Ok((SourceKind::Sqlite, false)) => {
                let path = Path::new(sqlite_path(url));
                match path.canonicalize() {
                    Ok(abs) if abs.is_file() => {
                        Some((SourceKind::Sqlite, ConnectionRef::Url(abs.to_string_lossy().into_owned())))
                    }
                    _ => {
                        problems.push(("url", format!("There is no SQLite database file at {}.", path.display())));
                        None
                    }
                }
            }
            Ok((kind, false)) => Some((kind, ConnectionRef::Url(url.to_owned()))),
        },
        (None, Some(var)) => match validate_env_name(var) {
            Err(m) => {
                problems.push(("url_env", m));
                None
            }
            Ok(()) => match (std::env::var(var).ok(), kind) {
                (_, Some(kind)) => Some((kind, ConnectionRef::Env(var.to_owned()))),
                (Some(value), None) => match classify_url(&value) {
                    Ok((kind, _)) => Some((kind, ConnectionRef::Env(var.to_owned()))),
                    Err(m) => {
                        problems.push(("url_env", format!("The variable {var} does not hold a usable URL: {m}")));
                        None
                    }
                },
                (None, None) => {
                    problems.push(("url_env", format!("The environment variable {var} is not set on this host.")));
                    None
                }
            },
        },
    };
    match connection {
        Some((kind, connection)) if problems.is_empty() => Ok(Registration { name: name.to_owned(), kind, connection }),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(validate_name("shop").is_ok());
        assert!(validate_name("shop_eu-1").is_ok());
        assert!(validate_name("").is_err());
        assert!(validate_name("1shop").is_err());
        assert!(validate_name("shop db").is_err());
        assert!(validate_name(&"a".repeat(65)).is_err());
    }

    #[test]
    fn passwords_in_urls_are_refused() {
        let err = validate("shop", Some("postgres://app:secret@db/shop"), None, None).unwrap_err();
        assert_eq!(err[0].0, "url");
        assert!(err[0].1.contains("environment variable"));
        assert!(!err[0].1.contains("secret"));
    }

    #[test]
    fn postgres_urls_without_password_are_kept() {
        let r = validate("shop", Some("postgres://app@db/shop"), None, None).unwrap();
        assert_eq!(r.kind, SourceKind::Postgres);
        assert_eq!(r.connection, ConnectionRef::Url("postgres://app@db/shop".into()));
    }

    #[test]
    fn sqlite_paths_must_exist_and_become_absolute() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t.db");
        std::fs::write(&file, b"").unwrap();
        let r = validate("t", Some(file.to_str().unwrap()), None, None).unwrap();
        assert_eq!(r.kind, SourceKind::Sqlite);
        assert!(Path::new(r.connection.reference()).is_absolute());
        let missing = dir.path().join("missing.db");
        assert_eq!(validate("t", Some(missing.to_str().unwrap()), None, None).unwrap_err()[0].0, "url");
    }

    #[test]
    fn exactly_one_connection_is_required() {
        assert_eq!(validate("t", None, None, None).unwrap_err()[0].0, "connection");
        assert_eq!(validate("t", Some("postgres://h/d"), Some("X"), None).unwrap_err()[0].0, "connection");
        assert_eq!(validate("t", None, Some("lower"), None).unwrap_err()[0].0, "url_env");
        assert_eq!(validate("t", None, Some("CUSTODIAN_SURELY_UNSET_1"), None).unwrap_err()[0].0, "url_env");
        let r = validate("t", None, Some("CUSTODIAN_SURELY_UNSET_1"), Some(SourceKind::Postgres)).unwrap();
        assert_eq!(r.connection, ConnectionRef::Env("CUSTODIAN_SURELY_UNSET_1".into()));
    }
}
