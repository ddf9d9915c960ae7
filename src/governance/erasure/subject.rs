//! E8: a subject's identifier is normalised before it is matched, hashed or stored, so that
//! `Alice@Example.COM ` and `alice@example.com` are one subject, and `+44 (20) 7946-0958` and
//! `+442079460958` one phone number. The same rules say how a target's column is compared
//! (`Form`), so that the database side of a match is normalised too.

use unicode_normalization::UnicodeNormalization;

/// How values of an identifier type are compared on a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    /// Exactly (keys, ids).
    Exact,
    /// Case-insensitively (e-mail addresses): `lower(column)`.
    Lowercase,
    /// Ignoring spaces, dashes, dots and brackets (phone numbers).
    Digits,
}

impl Form {
    pub fn of(identifier_type: &str) -> Self {
        match identifier_type {
            "email" => Self::Lowercase,
            "phone" => Self::Digits,
            _ => Self::Exact,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    #[error("the identifier is empty")]
    Empty,
    #[error("that is not an e-mail address (one @ with text on both sides)")]
    Email,
    #[error("that is not an international phone number: give + and the country code, 8 to 15 digits")]
    Phone,
    #[error("the identifier contains a control character")]
    Control,
}

/// The normal form of `raw` as an identifier of `identifier_type`.
pub fn normalise(identifier_type: &str, raw: &str) -> Result<String, IdentifierError> {
    let value: String = raw.trim().nfc().collect();
    if value.is_empty() {
        return Err(IdentifierError::Empty);
    }
    match Form::of(identifier_type) {
        Form::Lowercase => {
            let value = value.to_lowercase();
            let mut parts = value.split('@');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(local), Some(domain), None) if !local.is_empty() && !domain.is_empty() => {}
                _ => return Err(IdentifierError::Email),
            }
            if value.chars().any(char::is_control) {
                return Err(IdentifierError::Control);
            }
            Ok(value)
        }
        Form::Digits => {
            let stripped: String = value.chars().filter(|c| !is_phone_separator(*c)).collect();
            let international = match stripped.strip_prefix("00") {
                Some(rest) => format!("+{rest}"),
                None => stripped,
            };
            let digits = international.strip_prefix('+').ok_or(IdentifierError::Phone)?;
            if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(IdentifierError::Phone);
            }
            Ok(international)
        }
        // Keys are matched as given (minus surrounding space); a NUL or quote is just a character.
        Form::Exact => Ok(value),
    }
}

/// The characters a stored phone number may carry between its digits.
pub const PHONE_SEPARATORS: [char; 6] = [' ', '-', '.', '(', ')', '/'];

fn is_phone_separator(c: char) -> bool {
    PHONE_SEPARATORS.contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_composed_and_lower_cased() {
        assert_eq!(normalise("email", "  Alice@Example.COM ").unwrap(), "alice@example.com");
        // "é" as e + combining acute becomes the single code point.
        assert_eq!(normalise("email", "Jose\u{301}@example.com").unwrap(), "jos\u{e9}@example.com");
        assert_eq!(normalise("email", "ÉLODIE@exemple.fr").unwrap(), "élodie@exemple.fr");
        assert_eq!(normalise("email", "no-at-sign"), Err(IdentifierError::Email));
        assert_eq!(normalise("email", "a@b@c"), Err(IdentifierError::Email));
        assert_eq!(normalise("email", "@b"), Err(IdentifierError::Email));
        assert_eq!(normalise("email", "   "), Err(IdentifierError::Empty));
    }

    #[test]
    fn phones_become_e164() {
        assert_eq!(normalise("phone", "+44 (20) 7946-0958").unwrap(), "+442079460958");
        assert_eq!(normalise("phone", "0049 30 901820").unwrap(), "+4930901820");
        assert_eq!(normalise("phone", "030 901820"), Err(IdentifierError::Phone), "no country code");
        assert_eq!(normalise("phone", "+12"), Err(IdentifierError::Phone));
        assert_eq!(normalise("phone", "+1234567890123456"), Err(IdentifierError::Phone));
    }

    #[test]
    fn keys_keep_every_character_but_surrounding_space() {
        assert_eq!(normalise("customer_id", " 42 ").unwrap(), "42");
        assert_eq!(normalise("customer_id", "a'b;c\0d").unwrap(), "a'b;c\0d");
        assert_eq!(Form::of("customer_id"), Form::Exact);
    }
}
