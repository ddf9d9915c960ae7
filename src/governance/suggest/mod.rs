//! Classification suggestions (C4): from a column's name, type and dataset, and optionally a
//! sample of its values, propose personal-data categories, the subject-identifier type they
//! imply and a default level, each with its evidence. Pure: no database, web or I/O; the caller
//! samples the target and stores what comes back for a compliance officer to accept or reject.
//!
//! - [`taxonomy`]: levels, categories, identifier types (the vocabulary);
//! - [`names`]: multilingual column-name patterns and their false-positive guards;
//! - [`validators`]: exact checks of single values (e-mail, phone, IBAN, Luhn, IP, dates, ids);
//! - [`values`]: hit ratios and masked examples over a sample.
//!
//! Sampled values never outlive [`suggest`]: a [`Suggestion`] holds counts, a ratio and a masked
//! example only (C5).

pub mod names;
pub mod taxonomy;
pub mod validators;
pub mod values;

use std::fmt;

pub use taxonomy::Level;
pub use values::{SampleOptions, Validator};

use values::{SampleAnalysis, ValueFinding};

/// The column being classified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnContext<'a> {
    /// The dataset (table) name, optionally qualified (`shop.public.customers`); only the last
    /// part is read, as context for generic column names.
    pub dataset: &'a str,
    pub column: &'a str,
    /// The declared type as crawled (`character varying(255)`, `boolean`, ...); may be empty.
    pub data_type: &'a str,
}

/// A proposed category for one column. Never applied by itself: a compliance officer accepts
/// or rejects it.
#[derive(Clone, Debug, PartialEq)]
pub struct Suggestion {
    /// Taxonomy key, e.g. `contact.email`.
    pub category: &'static str,
    /// The subject-identifier type this category implies (`email`, `iban`, ...), if any.
    pub identifier: Option<&'static str>,
    /// The category's default level.
    pub level: Level,
    /// 0..1: how likely the column holds this category.
    pub confidence: f32,
    pub evidence: Evidence,
}

impl Suggestion {
    /// Whether the category is a GDPR Art. 9 special category.
    pub fn special(&self) -> bool {
        taxonomy::category(self.category).is_some_and(|c| c.special)
    }
}

/// Which name pattern matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameEvidence {
    /// The pattern as written in the rule table, e.g. `geb_datum`.
    pub rule: &'static str,
    /// Its language(s), e.g. `de` or `en/nl`.
    pub lang: &'static str,
}

/// What a validator found in the sample.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueEvidence {
    pub validator: Validator,
    /// Values that passed.
    pub hits: u32,
    /// Non-empty values examined.
    pub sampled: u32,
    /// A passing value, masked; `None` when nothing passed.
    pub example: Option<String>,
}

impl ValueEvidence {
    /// `hits / sampled`, 0 when nothing was sampled.
    pub fn ratio(&self) -> f32 {
        if self.sampled == 0 { 0.0 } else { self.hits as f32 / self.sampled as f32 }
    }

    fn from_finding(finding: ValueFinding) -> ValueEvidence {
        ValueEvidence {
            validator: finding.validator,
            hits: finding.hits,
            sampled: finding.sampled,
            example: finding.example,
        }
    }
}

/// Why a category was suggested.
#[derive(Clone, Debug, PartialEq)]
pub enum Evidence {
    /// The column's name matched; no sample was given, or no validator checks this category.
    Name(NameEvidence),
    /// The sample's values passed a validator; the name said nothing.
    Values(ValueEvidence),
    /// The name matched and the sample was checked: the ratio says whether the values agree
    /// (a low ratio lowers the confidence of the name match).
    Both { name: NameEvidence, values: ValueEvidence },
}

impl Evidence {
    pub fn name(&self) -> Option<&NameEvidence> {
        match self {
            Evidence::Name(name) | Evidence::Both { name, .. } => Some(name),
            Evidence::Values(_) => None,
        }
    }

    pub fn values(&self) -> Option<&ValueEvidence> {
        match self {
            Evidence::Values(values) | Evidence::Both { values, .. } => Some(values),
            Evidence::Name(_) => None,
        }
    }
}

impl fmt::Display for NameEvidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column name matches \"{}\" ({})", self.rule, self.lang)
    }
}

impl fmt::Display for ValueEvidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let percent = (self.ratio() * 100.0).round();
        write!(f, "{} of {} sampled values ({percent}%) are {}", self.hits, self.sampled, self.validator.label())?;
        if let Some(example) = &self.example {
            write!(f, ", e.g. {example}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::Name(name) => name.fmt(f),
            Evidence::Values(values) => values.fmt(f),
            Evidence::Both { name, values } => write!(f, "{name}; {values}"),
        }
    }
}

/// Thresholds for [`suggest_with`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    /// Suggestions below this confidence are dropped.
    pub min_confidence: f32,
    pub samples: SampleOptions,
}

impl Options {
    /// Defaults (confidence 0.3, ratio 0.6, 1000 values) judged as of `today`.
    pub fn at(today: chrono::NaiveDate) -> Options {
        Options { min_confidence: 0.3, samples: SampleOptions::at(today) }
    }
}

impl Default for Options {
    /// Defaults as of today's date (UTC).
    fn default() -> Self {
        Options { min_confidence: 0.3, samples: SampleOptions::default() }
    }
}

/// Below this many non-empty values a sample that disagrees with the name is not trusted to
/// lower it.
const MIN_VALUES_TO_DISAGREE: u32 = 5;

/// Suggestions for a column with the default [`Options`], best first, one per category.
/// `samples` are the column's sampled non-NULL values, if it was sampled.
pub fn suggest(ctx: &ColumnContext<'_>, samples: Option<&[&str]>) -> Vec<Suggestion> {
    suggest_with(ctx, samples, &Options::default())
}

/// Suggestions for a column, best first, one per category: name matches (confirmed, weakened or
/// left alone by the sample), then categories only the values point to.
pub fn suggest_with(ctx: &ColumnContext<'_>, samples: Option<&[&str]>, options: &Options) -> Vec<Suggestion> {
    let analysis = samples.map(|s| values::analyze(s, &options.samples)).filter(|a| a.sampled > 0);
    let min_ratio = options.samples.min_ratio;
    let mut suggestions: Vec<Suggestion> = Vec::new();

    for name_match in names::match_column(ctx) {
        let name = NameEvidence { rule: name_match.rule, lang: name_match.lang };
        let checked = analysis.as_ref().and_then(|a| best_finding(a, name_match.category));
        let (confidence, evidence) = match checked {
            None => (name_match.confidence, Evidence::Name(name)),
            Some(finding) => {
                let ratio = finding.ratio();
                let confidence = if ratio >= min_ratio {
                    noisy_or(name_match.confidence, value_confidence(&finding))
                } else if finding.sampled >= MIN_VALUES_TO_DISAGREE {
                    name_match.confidence * (0.5 + 0.5 * ratio / min_ratio.max(f32::EPSILON))
                } else {
                    name_match.confidence
                };
                (confidence, Evidence::Both { name, values: ValueEvidence::from_finding(finding) })
            }
        };
        push(&mut suggestions, name_match.category, confidence, evidence);
    }

    if let Some(analysis) = &analysis {
        for finding in analysis.proposals(min_ratio) {
            let category = finding.validator.category();
            let taken = suggestions.iter().any(|s| s.category == category);
            // Any date is a date of birth to the validator; `created_at` is not one.
            let event_date = category == "identity.date_of_birth" && names::names_an_event(ctx.column);
            if taken || event_date {
                continue;
            }
            let confidence = value_confidence(finding);
            push(
                &mut suggestions,
                category,
                confidence,
                Evidence::Values(ValueEvidence::from_finding(finding.clone())),
            );
        }
    }

    suggestions.retain(|s| s.confidence >= options.min_confidence);
    suggestions.sort_by(|a, b| {
        b.confidence.total_cmp(&a.confidence).then(b.level.cmp(&a.level)).then(a.category.cmp(b.category))
    });
    suggestions
}

/// The highest default level among suggestions: what the column's level would be if all were
/// accepted.
pub fn effective_level(suggestions: &[Suggestion]) -> Option<Level> {
    suggestions.iter().map(|s| s.level).max()
}

fn push(suggestions: &mut Vec<Suggestion>, category: &'static str, confidence: f32, evidence: Evidence) {
    let level = taxonomy::category(category).map_or(Level::Confidential, |c| c.level);
    let identifier = taxonomy::identifier_for_category(category).map(|t| t.key);
    let suggestion = Suggestion { category, identifier, level, confidence: confidence.clamp(0.0, 0.99), evidence };
    match suggestions.iter_mut().find(|s| s.category == category) {
        Some(existing) if existing.confidence < suggestion.confidence => *existing = suggestion,
        Some(_) => {}
        None => suggestions.push(suggestion),
    }
}

/// Of the validators for a category, the one that found the most (none if no validator checks
/// the category).
fn best_finding(analysis: &SampleAnalysis, category: &str) -> Option<ValueFinding> {
    Validator::ALL
        .into_iter()
        .filter(|v| v.category() == category)
        .map(|v| analysis.finding(v))
        .max_by(|a, b| a.hits.cmp(&b.hits).then(a.validator.strength().total_cmp(&b.validator.strength())))
}

/// What a finding alone says: the validator's strength, scaled by the ratio and by how many
/// values there were (two matching values are not fifty).
fn value_confidence(finding: &ValueFinding) -> f32 {
    let size = (0.5 + finding.sampled as f32 / 20.0).min(1.0);
    finding.validator.strength() * finding.ratio() * size
}

/// Two independent pieces of evidence for the same thing.
fn noisy_or(a: f32, b: f32) -> f32 {
    1.0 - (1.0 - a) * (1.0 - b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn options() -> Options {
        Options::at(NaiveDate::from_ymd_opt(2026, 5, 10).unwrap())
    }

    fn run(dataset: &str, column: &str, data_type: &str, samples: Option<&[&str]>) -> Vec<Suggestion> {
        suggest_with(&ColumnContext { dataset, column, data_type }, samples, &options())
    }

    fn categories(suggestions: &[Suggestion]) -> Vec<&'static str> {
        suggestions.iter().map(|s| s.category).collect()
    }

    const EMAILS: &[&str] = &[
        "anna@example.com",
        "bob.smith@example.org",
        "c.dupont@example.fr",
        "dora@example.es",
        "eva@example.nl",
        "frank@example.de",
        "",
        "gina@example.it",
        "hans@example.at",
        "ines@example.pt",
        "jan@example.be",
    ];

    #[test]
    fn name_and_values_agree_and_reinforce_each_other() {
        let name_only = run("customers", "email", "varchar(255)", None);
        let both = run("customers", "email", "varchar(255)", Some(EMAILS));
        assert_eq!(categories(&both), ["contact.email"]);
        let s = &both[0];
        assert_eq!(s.identifier, Some("email"));
        assert_eq!(s.level, Level::Confidential);
        assert!(s.confidence > name_only[0].confidence, "{} vs {}", s.confidence, name_only[0].confidence);
        let Evidence::Both { name, values } = &s.evidence else { panic!("expected both: {:?}", s.evidence) };
        assert_eq!(name.rule, "email");
        assert_eq!((values.validator, values.hits, values.sampled), (Validator::Email, 10, 10));
        assert_eq!(values.example.as_deref(), Some("a***@e***.com"));
        assert_eq!(
            s.evidence.to_string(),
            "column name matches \"email\" (en); 10 of 10 sampled values (100%) are e-mail addresses, e.g. a***@e***.com"
        );
    }

    #[test]
    fn values_that_contradict_the_name_lower_it() {
        let hashed: Vec<String> = (0..20).map(|i| format!("{:064x}", i * 7919)).collect();
        let hashed: Vec<&str> = hashed.iter().map(String::as_str).collect();
        let name_only = run("customers", "email", "text", None)[0].confidence;
        let checked = run("customers", "email", "text", Some(&hashed));
        assert_eq!(categories(&checked), ["contact.email"]);
        assert!(checked[0].confidence < name_only * 0.6, "{} vs {name_only}", checked[0].confidence);
        assert_eq!(checked[0].evidence.values().map(|v| (v.hits, v.sampled, v.example.clone())), Some((0, 20, None)));
        // Too few values to disagree: the name stands.
        let few = run("customers", "email", "text", Some(&hashed[..3]));
        assert!((few[0].confidence - name_only).abs() < 1e-6);
    }

    #[test]
    fn values_alone_propose_categories_the_name_does_not_show() {
        let ibans = [
            "DE89 3704 0044 0532 0130 00",
            "GB82 WEST 1234 5698 7654 32",
            "FR14 2004 1010 0505 0001 3M02 606",
            "NL91 ABNA 0417 1643 00",
            "ES91 2100 0418 4502 0005 1332",
            "not an iban",
        ];
        let found = run("payments", "col_17", "text", Some(&ibans));
        assert_eq!(categories(&found), ["financial.iban"]);
        assert_eq!(found[0].identifier, Some("iban"));
        let Evidence::Values(values) = &found[0].evidence else { panic!("{:?}", found[0].evidence) };
        assert_eq!((values.hits, values.sampled), (5, 6));
        assert_eq!(values.example.as_deref(), Some("DE** **** **** **** **30 00"));

        // Free text that is mostly e-mails: both.
        let notes = run("tickets", "notes", "text", Some(EMAILS));
        let cats = categories(&notes);
        assert!(cats.contains(&"contact.email") && cats.contains(&"free_text"), "{cats:?}");
    }

    #[test]
    fn national_ids_and_cards_from_values() {
        let dni = ["12345678Z", "00000000T", "X1234567L", "Y1234567X", "Z1234567R"];
        let found = run("clientes", "documento", "varchar", Some(&dni));
        assert_eq!(categories(&found), ["identity.national_id"]);
        assert_eq!((found[0].identifier, found[0].level), (Some("national_id"), Level::Restricted));
        assert_eq!(found[0].evidence.values().map(|v| v.validator), Some(Validator::DniNie));

        let masked = ["**** **** **** 4242", "**** **** **** 1881", "**** **** **** 0005", "**** **** **** 4444"];
        let cards = run("payments", "card_number", "varchar", Some(&masked));
        assert_eq!(categories(&cards), ["financial.card"]);
        let values = cards[0].evidence.values().cloned();
        assert_eq!(values.map(|v| (v.validator, v.hits)), Some((Validator::MaskedCard, 4)));
    }

    #[test]
    fn dates_are_births_only_when_the_name_does_not_say_otherwise() {
        let dates = ["1985-03-14", "1990-11-02", "1962-07-30", "2001-01-15", "1977-05-05", "1958-12-24"];
        assert!(run("orders", "created_at", "text", Some(&dates)).is_empty());
        assert!(run("orders", "order_date", "text", Some(&dates)).is_empty());
        let unnamed = run("people", "d1", "text", Some(&dates));
        assert_eq!(categories(&unnamed), ["identity.date_of_birth"]);
        let named = run("people", "geburtsdatum", "date", Some(&dates));
        assert_eq!(categories(&named), ["identity.date_of_birth"]);
        assert!(named[0].confidence > unnamed[0].confidence + 0.3);
        assert!(matches!(named[0].evidence, Evidence::Both { .. }));
    }

    #[test]
    fn false_positive_guards_hold_end_to_end() {
        assert!(run("customers", "email_verified", "boolean", Some(&["true", "false", "true"])).is_empty());
        assert!(run("products", "name", "varchar", Some(&["Blue mug", "Red mug", "Teapot"])).is_empty());
        assert!(run("orders", "shipping_method", "varchar", Some(&["DHL", "UPS", "pickup"])).is_empty());
        assert_eq!(categories(&run("customers", "name", "varchar", None)), ["identity.name"]);
        assert_eq!(categories(&run("customers", "zip_code", "varchar", None)), ["contact.postal_code"]);
        assert_eq!(categories(&run("logins", "ip_address", "inet", None)), ["online.ip_address"]);
    }

    #[test]
    fn results_are_sorted_deduplicated_and_levelled() {
        let found = run("patients", "diagnosis_notes", "text", None);
        let cats = categories(&found);
        assert_eq!(cats.len(), cats.iter().collect::<std::collections::HashSet<_>>().len());
        assert!(found.windows(2).all(|w| w[0].confidence >= w[1].confidence));
        assert_eq!(found[0].category, "special.health");
        assert!(found[0].special());
        assert_eq!(effective_level(&found), Some(Level::Restricted));
        assert_eq!(effective_level(&[]), None);
        for s in &found {
            assert!((0.0..=0.99).contains(&s.confidence));
            assert!(s.confidence >= options().min_confidence);
        }
    }

    #[test]
    fn no_sample_and_an_empty_sample_are_the_same() {
        for column in ["email", "telefon", "col_3"] {
            let none = run("customers", column, "text", None);
            assert_eq!(run("customers", column, "text", Some(&[])), none);
            assert_eq!(run("customers", column, "text", Some(&["", "  "])), none);
        }
    }

    #[test]
    fn the_ratio_threshold_is_configurable() {
        let half = ["anna@example.com", "bob@example.org", "carol@example.net", "x", "y", "z"];
        let ctx = ColumnContext { dataset: "imports", column: "field_a", data_type: "text" };
        assert!(suggest_with(&ctx, Some(&half), &options()).is_empty());
        let lenient = Options { samples: SampleOptions { min_ratio: 0.5, ..options().samples }, ..options() };
        assert_eq!(categories(&suggest_with(&ctx, Some(&half), &lenient)), ["contact.email"]);
    }

    #[test]
    fn suggestions_never_hold_sampled_values() {
        let samples = [
            "anna.berg@example.com",
            "+49 30 1234567",
            "DE89 3704 0044 0532 0130 00",
            "4242 4242 4242 4242",
            "192.0.2.17",
            "1985-03-14",
            "12345678Z",
            "RCCMNL83S18D969H",
        ];
        for column in ["contact", "value", "email", "iban", "card_number", "ip", "dob", "dni"] {
            // One value of each kind: repeat so every kind could reach the ratio on its own column.
            for value in samples {
                let repeated = [value; 10];
                let found = run("customers", column, "text", Some(&repeated));
                let debug = format!("{found:?}");
                let shown: String = found.iter().map(|s| s.evidence.to_string()).collect();
                assert!(!debug.contains(value) && !shown.contains(value), "{column}: {value} leaked in {debug}");
            }
        }
    }

    #[test]
    fn the_default_options_read_the_clock_and_work() {
        let found = suggest(&ColumnContext { dataset: "users", column: "e_mail", data_type: "" }, Some(EMAILS));
        assert_eq!(categories(&found), ["contact.email"]);
    }
}
