//! Form input handling shared by pages: trimming, limits and per-field error messages that the
//! form re-renders beside its fields.

/// Messages for the fields of one submitted form.
#[derive(Clone, Debug, Default)]
pub struct FieldErrors {
    errors: Vec<(&'static str, String)>,
}

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.errors.push((field, message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The message for `field`, if it has one.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    pub fn all(&self) -> impl Iterator<Item = &(&'static str, String)> {
        self.errors.iter()
    }

    /// One line with every message, for the API and the CLI.
    pub fn summary(&self) -> String {
        self.errors.iter().map(|(f, m)| format!("{f}: {m}")).collect::<Vec<_>>().join("; ")
    }
}

/// Trims optional text; blank becomes `None`. Records an error when it is longer than `max`
/// characters.
pub fn optional_text(errors: &mut FieldErrors, field: &'static str, value: Option<&str>, max: usize) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    if value.chars().count() > max {
        errors.add(field, format!("At most {max} characters (this has {}).", value.chars().count()));
    }
    Some(value.to_owned())
}

/// Trims required text; records an error when it is blank or longer than `max` characters.
pub fn required_text(errors: &mut FieldErrors, field: &'static str, value: Option<&str>, max: usize) -> String {
    match optional_text(errors, field, value, max) {
        Some(v) => v,
        None => {
            errors.add(field, "Required.");
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_limited() {
        let mut e = FieldErrors::default();
        assert_eq!(optional_text(&mut e, "a", Some("  x "), 5), Some("x".into()));
        assert_eq!(optional_text(&mut e, "a", Some("   "), 5), None);
        assert!(e.is_empty());
        optional_text(&mut e, "b", Some("toolong"), 3);
        assert!(e.get("b").unwrap().contains("At most 3"));
        required_text(&mut e, "c", None, 3);
        assert_eq!(e.get("c"), Some("Required."));
    }
}

/// A url-encoded form read as name–value pairs, for forms with repeated fields (checkboxes).
#[derive(Clone, Debug, Default)]
pub struct FormPairs(Vec<(String, String)>);

impl FormPairs {
    pub fn parse(body: &[u8]) -> Result<Self, crate::error::AppError> {
        serde_urlencoded::from_bytes(body)
            .map(Self)
            .map_err(|e| crate::error::AppError::BadRequest(format!("The form could not be read: {e}.")))
    }

    /// The first value of `name`, trimmed; blank reads as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.0.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value of `name` as an id; a value that is not a number is a 400.
    pub fn ids(&self, name: &str) -> Result<Vec<i64>, crate::error::AppError> {
        self.all(name)
            .map(|v| {
                v.trim()
                    .parse::<i64>()
                    .map_err(|_| crate::error::AppError::BadRequest(format!("{name}: {v:?} is not an id.")))
            })
            .collect()
    }

    /// The value of `name` as an id, if given.
    pub fn id(&self, name: &str) -> Result<Option<i64>, crate::error::AppError> {
        self.get(name)
            .map(|v| {
                v.parse::<i64>().map_err(|_| crate::error::AppError::BadRequest(format!("{name}: {v:?} is not an id.")))
            })
            .transpose()
    }
}
