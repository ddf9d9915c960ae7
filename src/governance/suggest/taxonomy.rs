//! The built-in vocabulary of classification: the four default levels, the personal-data categories
//! (GDPR Art. 9 special categories flagged) and the subject-identifier types that erasure starts
//! from. Plain data: the catalog copies it into its tables and adds user-defined entries beside it.

use std::fmt;

/// A classification level. The catalog stores levels with ranks and lets compliance rename or add
/// levels; these are the four defaults the suggestion engine proposes, ordered from least to most
/// sensitive so that `max` gives the effective level (C1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Public,
    Internal,
    Confidential,
    Restricted,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Public, Level::Internal, Level::Confidential, Level::Restricted];

    /// Position in the default order, 0 (Public) to 3 (Restricted); higher is more sensitive.
    pub fn rank(self) -> u8 {
        match self {
            Self::Public => 0,
            Self::Internal => 1,
            Self::Confidential => 2,
            Self::Restricted => 3,
        }
    }

    /// The inverse of [`Level::rank`].
    pub fn from_rank(rank: u8) -> Option<Level> {
        Self::ALL.into_iter().find(|level| level.rank() == rank)
    }

    /// Stable lower-case key, as stored and as typed on the CLI.
    pub fn key(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Internal => "internal",
            Self::Confidential => "confidential",
            Self::Restricted => "restricted",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Public => "Public",
            Self::Internal => "Internal",
            Self::Confidential => "Confidential",
            Self::Restricted => "Restricted",
        }
    }

    /// Parses a key or label, ignoring ASCII case.
    pub fn parse(text: &str) -> Option<Level> {
        Self::ALL.into_iter().find(|level| level.key().eq_ignore_ascii_case(text.trim()))
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A built-in personal-data category (C2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Category {
    /// Dotted key, e.g. `contact.email`; the same string in tables, URLs and the API.
    pub key: &'static str,
    pub label: &'static str,
    /// A special category of personal data under GDPR Art. 9.
    pub special: bool,
    /// The level a column carrying only this category should get by default.
    pub level: Level,
}

const fn cat(key: &'static str, label: &'static str, level: Level) -> Category {
    Category { key, label, special: false, level }
}

const fn special(key: &'static str, label: &'static str) -> Category {
    Category { key, label, special: true, level: Level::Restricted }
}

/// Every built-in category, grouped by prefix.
pub const CATEGORIES: &[Category] = &[
    cat("contact.email", "E-mail address", Level::Confidential),
    cat("contact.phone", "Phone number", Level::Confidential),
    cat("contact.address", "Postal address", Level::Confidential),
    cat("contact.postal_code", "Postal code", Level::Internal),
    cat("identity.name", "Person's name", Level::Confidential),
    cat("identity.first_name", "First name", Level::Confidential),
    cat("identity.last_name", "Last name", Level::Confidential),
    cat("identity.username", "Username or login", Level::Internal),
    // Not Art. 9, but national numbers (Art. 87) and passports open the door to identity theft.
    cat("identity.national_id", "National identification number", Level::Restricted),
    cat("identity.passport", "Passport number", Level::Restricted),
    cat("identity.date_of_birth", "Date of birth", Level::Confidential),
    cat("identity.gender", "Gender", Level::Confidential),
    cat("identity.customer_id", "Internal subject key (customer, user, member id)", Level::Internal),
    cat("financial.iban", "IBAN", Level::Confidential),
    // Card numbers fall under PCI DSS on top of the GDPR.
    cat("financial.card", "Payment card number", Level::Restricted),
    cat("financial.account", "Bank account number", Level::Confidential),
    cat("online.ip_address", "IP address", Level::Confidential),
    cat("online.device_id", "Device identifier", Level::Internal),
    cat("online.cookie_id", "Cookie or session identifier", Level::Internal),
    cat("online.user_agent", "Browser user agent", Level::Internal),
    cat("location.geo", "Geolocation", Level::Confidential),
    special("special.health", "Health data"),
    special("special.biometric", "Biometric data"),
    special("special.religion", "Religious or philosophical beliefs"),
    special("special.ethnicity", "Racial or ethnic origin"),
    special("special.political", "Political opinions"),
    special("special.sexual_orientation", "Sex life or sexual orientation"),
    special("special.trade_union", "Trade union membership"),
    special("special.genetic", "Genetic data"),
    cat("free_text", "Free text (may contain personal data)", Level::Confidential),
];

/// Looks a built-in category up by key.
pub fn category(key: &str) -> Option<&'static Category> {
    CATEGORIES.iter().find(|c| c.key == key)
}

/// A type of subject identifier (C3): a column marked with one is where erasure starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdentifierType {
    pub key: &'static str,
    pub label: &'static str,
    /// The category a column holding this identifier carries.
    pub category: &'static str,
}

/// Every built-in identifier type.
pub const IDENTIFIER_TYPES: &[IdentifierType] = &[
    IdentifierType { key: "email", label: "E-mail address", category: "contact.email" },
    IdentifierType { key: "customer_id", label: "Customer id", category: "identity.customer_id" },
    IdentifierType { key: "phone", label: "Phone number", category: "contact.phone" },
    IdentifierType { key: "national_id", label: "National id", category: "identity.national_id" },
    IdentifierType { key: "iban", label: "IBAN", category: "financial.iban" },
    IdentifierType { key: "ip_address", label: "IP address", category: "online.ip_address" },
    IdentifierType { key: "device_id", label: "Device id", category: "online.device_id" },
    IdentifierType { key: "username", label: "Username", category: "identity.username" },
];

/// Looks an identifier type up by key.
pub fn identifier_type(key: &str) -> Option<&'static IdentifierType> {
    IDENTIFIER_TYPES.iter().find(|t| t.key == key)
}

/// The identifier type whose values a column of this category holds, if any.
pub fn identifier_for_category(category: &str) -> Option<&'static IdentifierType> {
    IDENTIFIER_TYPES.iter().find(|t| t.category == category)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn levels_are_ordered_and_round_trip() {
        assert!(Level::Public < Level::Internal);
        assert!(Level::Internal < Level::Confidential);
        assert!(Level::Confidential < Level::Restricted);
        for level in Level::ALL {
            assert_eq!(Level::from_rank(level.rank()), Some(level));
            assert_eq!(Level::parse(level.key()), Some(level));
            assert_eq!(Level::parse(level.label()), Some(level));
            assert_eq!(level.to_string(), level.label());
        }
        assert_eq!(Level::from_rank(4), None);
        assert_eq!(Level::parse("secret"), None);
        assert_eq!(Level::parse(" RESTRICTED "), Some(Level::Restricted));
        assert_eq!([Level::Internal, Level::Restricted, Level::Public].into_iter().max(), Some(Level::Restricted));
    }

    #[test]
    fn required_categories_exist_with_unique_keys() {
        let required = [
            "contact.email",
            "contact.phone",
            "contact.address",
            "contact.postal_code",
            "identity.name",
            "identity.first_name",
            "identity.last_name",
            "identity.username",
            "identity.national_id",
            "identity.passport",
            "identity.date_of_birth",
            "identity.gender",
            "identity.customer_id",
            "financial.iban",
            "financial.card",
            "financial.account",
            "online.ip_address",
            "online.device_id",
            "online.cookie_id",
            "online.user_agent",
            "location.geo",
            "special.health",
            "special.biometric",
            "special.religion",
            "special.ethnicity",
            "special.political",
            "special.sexual_orientation",
            "special.trade_union",
            "special.genetic",
            "free_text",
        ];
        for key in required {
            assert!(category(key).is_some(), "missing category {key}");
        }
        let keys: HashSet<_> = CATEGORIES.iter().map(|c| c.key).collect();
        assert_eq!(keys.len(), CATEGORIES.len(), "duplicate category key");
        assert_eq!(category("contact.fax"), None);
    }

    #[test]
    fn special_categories_are_exactly_the_art_9_ones_and_restricted() {
        for c in CATEGORIES {
            assert_eq!(c.special, c.key.starts_with("special."), "{}", c.key);
            if c.special {
                assert_eq!(c.level, Level::Restricted, "{}", c.key);
            }
            assert!(!c.label.is_empty());
        }
        assert_eq!(CATEGORIES.iter().filter(|c| c.special).count(), 8);
    }

    #[test]
    fn identifier_types_imply_existing_categories() {
        let keys = ["email", "customer_id", "phone", "national_id", "iban", "ip_address", "device_id", "username"];
        for key in keys {
            let t = identifier_type(key);
            assert!(t.is_some(), "missing identifier type {key}");
            if let Some(t) = t {
                assert!(category(t.category).is_some(), "{key} implies unknown {}", t.category);
                assert_eq!(identifier_for_category(t.category).map(|i| i.key), Some(key));
            }
        }
        assert_eq!(IDENTIFIER_TYPES.len(), keys.len());
        assert_eq!(identifier_for_category("special.health"), None);
    }
}
