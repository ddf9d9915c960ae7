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
