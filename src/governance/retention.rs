//! Pure rules of retention (GOVERNANCE.md R1–R3): ISO 8601 periods and the cutoff they give,
//! which policy is in force for a dataset and where it comes from, and which column dates a
//! dataset's rows. The service in `crate::retention` reads the catalog and the targets, plans
//! purges as erasure steps (`erasure::sql`) and signs their receipts (`erasure::receipt`).

use std::fmt;
use std::str::FromStr;

use chrono::{Months, NaiveDate, NaiveDateTime, TimeDelta};
use serde::{Deserialize, Serialize};

use super::audit::{PublicKey, SigningKey};
use super::erasure::receipt::{ReceiptError, sign_document, verify_document};

/// A retention period: an ISO 8601 duration such as `P90D`, `P13M`, `P7Y`, `P1Y6M`, `P2W` or
/// `PT36H`. Years and months are calendar months (P1M before 31 March is 28 or 29 February).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Period {
    pub years: u32,
    pub months: u32,
    pub weeks: u32,
    pub days: u32,
    pub hours: u32,
    pub minutes: u32,
    pub seconds: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an ISO 8601 period: write P followed by amounts, such as P90D, P13M, P7Y, P1Y6M or PT36H")]
pub struct PeriodError(pub String);

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || PeriodError(text.to_owned());
        let upper = text.trim().to_ascii_uppercase();
        let rest = upper.strip_prefix('P').ok_or_else(bad)?;
        let mut period = Period::default();
        let mut in_time = false;
        let mut time_units = 0;
        let mut number = String::new();
        // Units in the order ISO 8601 writes them, each at most once: the next one must come later.
        let mut next_unit = 0u8;
        for c in rest.chars() {
            match c {
                '0'..='9' => number.push(c),
                'T' if !in_time && number.is_empty() => {
                    in_time = true;
                    next_unit = 4;
                }
                _ => {
                    let n: u32 = number.parse().map_err(|_| bad())?;
                    number.clear();
                    let (slot, order) = match (c, in_time) {
                        ('Y', false) => (&mut period.years, 0),
                        ('M', false) => (&mut period.months, 1),
                        ('W', false) => (&mut period.weeks, 2),
                        ('D', false) => (&mut period.days, 3),
                        ('H', true) => (&mut period.hours, 4),
                        ('M', true) => (&mut period.minutes, 5),
                        ('S', true) => (&mut period.seconds, 6),
                        _ => return Err(bad()),
                    };
                    if order < next_unit {
                        return Err(bad());
                    }
                    next_unit = order + 1;
                    if in_time {
                        time_units += 1;
                    }
                    *slot = n;
                }
            }
        }
        if !number.is_empty() || (in_time && time_units == 0) || period.is_zero() {
            return Err(bad());
        }
        // Absurd lengths would overflow date arithmetic.
        if period.years > 1000 || period.months > 12_000 || period.weeks > 52_000 || period.days > 365_000 {
            return Err(bad());
        }
        Ok(period)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("P")?;
        for (n, unit) in [(self.years, 'Y'), (self.months, 'M'), (self.weeks, 'W'), (self.days, 'D')] {
            if n > 0 {
                write!(f, "{n}{unit}")?;
            }
        }
        if self.hours + self.minutes + self.seconds > 0 {
            f.write_str("T")?;
            for (n, unit) in [(self.hours, 'H'), (self.minutes, 'M'), (self.seconds, 'S')] {
                if n > 0 {
                    write!(f, "{n}{unit}")?;
                }
            }
        }
        Ok(())
    }
}

impl Period {
    fn is_zero(&self) -> bool {
        *self == Period::default()
    }

    /// The oldest moment a row may be dated and still be kept on `as_of`: rows dated before it
    /// are past the period.
    pub fn cutoff(&self, as_of: NaiveDateTime) -> NaiveDateTime {
        let months = self.years * 12 + self.months;
        let date = as_of.checked_sub_months(Months::new(months)).unwrap_or(NaiveDateTime::MIN);
        let span = TimeDelta::days(i64::from(self.weeks) * 7 + i64::from(self.days))
            + TimeDelta::hours(i64::from(self.hours))
            + TimeDelta::minutes(i64::from(self.minutes))
            + TimeDelta::seconds(i64::from(self.seconds));
        date.checked_sub_signed(span).unwrap_or(NaiveDateTime::MIN)
    }

    /// The period in words: "90 days", "1 year 6 months".
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            (self.years, "year"),
            (self.months, "month"),
            (self.weeks, "week"),
            (self.days, "day"),
            (self.hours, "hour"),
            (self.minutes, "minute"),
            (self.seconds, "second"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") })
        .collect();
        parts.join(" ")
    }

    /// Orders periods by length (on a fixed reference date, as months differ in length).
    pub fn length_key(&self) -> i64 {
        let reference = NaiveDate::from_ymd_opt(2000, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
        (reference - self.cutoff(reference)).num_seconds()
    }
}

/// What a retention policy does to rows past its period: delete them, or keep them and mask
/// personal-data columns (the policy's, or all of the dataset's) — the same two actions an
/// erasure takes.
pub use super::erasure::plan::Action;

/// Where a policy is attached, from the most specific level to the least.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Dataset,
    Category,
    Schema,
    Source,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dataset => "dataset",
            Self::Category => "category",
            Self::Schema => "schema",
            Self::Source => "source",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "dataset" => Some(Self::Dataset),
            "category" => Some(Self::Category),
            "schema" => Some(Self::Schema),
            "source" => Some(Self::Source),
            _ => None,
        }
    }
}

/// A policy attached somewhere: to the dataset, category or source `scope_id`, or to the schema
/// `schema` of the source `scope_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub policy_id: i64,
    pub level: Level,
    pub scope_id: i64,
    pub schema: String,
}

/// Where a dataset sits: what inheritance looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place<'a> {
    pub dataset_id: i64,
    pub source_id: i64,
    pub schema: &'a str,
    /// The personal-data categories of the dataset's columns.
    pub categories: &'a [i64],
}

/// The policy in force for a dataset and the assignment it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    pub policy_id: i64,
    pub level: Level,
    /// The assignment's scope: the dataset, category or source id.
    pub scope_id: i64,
}

/// R1: the most specific assignment wins — the dataset's own, then its categories' (the
/// shortest period when several categories have one: storage limitation favours the
/// stricter), then its schema's, then its source's.
pub fn effective(place: &Place<'_>, assignments: &[Assignment], length_of: impl Fn(i64) -> i64) -> Option<Effective> {
    let found = |level: Level, scope_id: i64| Effective { policy_id: 0, level, scope_id };
    let mut best: Option<(Effective, i64)> = None;
    for a in assignments {
        let candidate = match a.level {
            Level::Dataset if a.scope_id == place.dataset_id => found(Level::Dataset, a.scope_id),
            Level::Category if place.categories.contains(&a.scope_id) => found(Level::Category, a.scope_id),
            Level::Schema if a.scope_id == place.source_id && a.schema == place.schema => {
                found(Level::Schema, a.scope_id)
            }
            Level::Source if a.scope_id == place.source_id => found(Level::Source, a.scope_id),
            _ => continue,
        };
        let candidate = Effective { policy_id: a.policy_id, ..candidate };
        let length = length_of(a.policy_id);
        let better = match &best {
            None => true,
            Some((b, b_length)) => candidate.level < b.level || (candidate.level == b.level && length < *b_length),
        };
        if better {
            best = Some((candidate, length));
        }
    }
    best.map(|(e, _)| e)
}

/// Names that date a row, best first.
const TIMESTAMP_NAMES: &[&str] = &[
    "created_at",
    "occurred_at",
    "event_time",
    "event_timestamp",
    "inserted_at",
    "recorded_at",
    "logged_at",
    "received_at",
    "opened_at",
    "ordered_at",
    "subscribed_at",
    "paid_at",
    "sent_at",
    "timestamp",
    "ts",
    "created",
    "created_on",
    "creation_date",
    "date",
    "updated_at",
    "modified_at",
];

/// Whether a column type holds a date or a time.
pub fn is_temporal(data_type: &str) -> bool {
    let t = data_type.to_ascii_lowercase();
    t.contains("timestamp") || t.contains("date") || t.starts_with("time")
}

/// The column that most likely dates a dataset's rows: a date or time column with a telling
/// name (created_at, occurred_at, event_time …, updated_at last), else the first column of a
/// temporal type whose name ends in `_at`, `_time`, `_date` or `_on`.
pub fn suggest_timestamp<'a>(columns: &[(&'a str, &'a str)]) -> Option<&'a str> {
    let temporal: Vec<&(&str, &str)> = columns.iter().filter(|(_, ty)| is_temporal(ty)).collect();
    for wanted in TIMESTAMP_NAMES {
        if let Some((name, _)) = temporal.iter().find(|(name, _)| name.eq_ignore_ascii_case(wanted)) {
            return Some(name);
        }
    }
    temporal
        .iter()
        .find(|(name, _)| {
            let n = name.to_ascii_lowercase();
            ["_at", "_time", "_date", "_on"].iter().any(|s| n.ends_with(s))
        })
        .map(|(name, _)| *name)
}

/// The cutoff as the statements bind it: `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn cutoff_text(cutoff: NaiveDateTime) -> String {
    cutoff.format("%Y-%m-%d %H:%M:%S").to_string()
}

pub const RECEIPT_FORMAT: &str = "custodian.retention_receipt.v1";

/// The signed receipt of a purge (R2): what each dataset's policy removed or masked, what a hold
/// kept, what verification found, and the run's audit events. It holds no row values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeReceipt {
    pub run_id: i64,
    pub as_of: String,
    pub finished_at: String,
    pub outcome: String,
    pub datasets: Vec<PurgedDataset>,
    pub audit_from: i64,
    pub audit_to: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgedDataset {
    pub source: String,
    pub table: String,
    pub policy: String,
    pub period: String,
    pub cutoff: String,
    pub action: String,
    pub rows: i64,
    /// Rows past the period that a legal hold kept.
    pub held_rows: i64,
    pub hold_basis: Option<String>,
    /// What the verification query still found past the period (0 when done).
    pub remaining: Option<i64>,
    pub status: String,
}

impl PurgeReceipt {
    pub fn sign(&self, key: &SigningKey) -> String {
        sign_document(RECEIPT_FORMAT, self, key)
    }

    pub fn verify(text: &str, trusted: &PublicKey) -> Result<Self, ReceiptError> {
        verify_document(RECEIPT_FORMAT, text, trusted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(12, 0, 0).unwrap()
    }

    #[test]
    fn periods_parse_print_and_reject_what_is_not_iso_8601() {
        for (text, canonical) in
            [("P90D", "P90D"), ("p13m", "P13M"), ("P7Y", "P7Y"), ("P1Y6M", "P1Y6M"), ("P2W", "P2W"), ("PT36H", "PT36H")]
        {
            assert_eq!(text.parse::<Period>().unwrap().to_string(), canonical, "{text}");
        }
        assert_eq!("P1Y6M".parse::<Period>().unwrap().describe(), "1 year 6 months");
        assert_eq!("P90D".parse::<Period>().unwrap().describe(), "90 days");
        for bad in ["", "P", "90D", "P0D", "PD", "P1D1Y", "P1Y1Y", "P1.5D", "PT", "P1H", "P-1D", "P99999Y", "P1DT"] {
            assert!(bad.parse::<Period>().is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn cutoffs_use_calendar_months_and_years() {
        let p = |s: &str| s.parse::<Period>().unwrap();
        assert_eq!(p("P1M").cutoff(at(2027, 3, 31)), at(2027, 2, 28));
        assert_eq!(p("P1M").cutoff(at(2028, 3, 31)), at(2028, 2, 29));
        assert_eq!(p("P1Y").cutoff(at(2028, 2, 29)), at(2027, 2, 28));
        assert_eq!(p("P90D").cutoff(at(2026, 11, 28)), at(2026, 8, 30));
        assert_eq!(p("P2W").cutoff(at(2026, 11, 28)), at(2026, 11, 14));
        assert_eq!(p("PT36H").cutoff(at(2026, 11, 28)), at(2026, 11, 27) - TimeDelta::hours(12));
        assert!(p("P7Y").length_key() > p("P13M").length_key());
        assert!(p("P13M").length_key() > p("P1Y").length_key());
        assert!(p("P1Y").length_key() > p("P90D").length_key());
    }

    #[test]
    fn the_most_specific_assignment_wins_and_the_shortest_category() {
        let a =
            |policy_id, level, scope_id, schema: &str| Assignment { policy_id, level, scope_id, schema: schema.into() };
        let assignments = vec![
            a(1, Level::Source, 10, ""),
            a(2, Level::Schema, 10, "sales"),
            a(3, Level::Category, 500, ""),
            a(4, Level::Category, 501, ""),
            a(5, Level::Dataset, 99, ""),
            a(6, Level::Source, 11, ""),
        ];
        // Policy ids double as lengths: 3 is shorter than 4.
        let length = |id: i64| id;
        let place = |dataset_id, schema, categories| Place { dataset_id, source_id: 10, schema, categories };
        let none: &[i64] = &[];
        assert_eq!(effective(&place(1, "public", none), &assignments, length).unwrap().policy_id, 1);
        let e = effective(&place(1, "sales", none), &assignments, length).unwrap();
        assert_eq!((e.policy_id, e.level), (2, Level::Schema));
        let e = effective(&place(1, "sales", &[501, 500]), &assignments, length).unwrap();
        assert_eq!((e.policy_id, e.level, e.scope_id), (3, Level::Category, 500));
        let e = effective(&place(99, "sales", &[500]), &assignments, length).unwrap();
        assert_eq!((e.policy_id, e.level), (5, Level::Dataset));
        let elsewhere = Place { dataset_id: 7, source_id: 12, schema: "sales", categories: none };
        assert_eq!(effective(&elsewhere, &assignments, length), None);
    }

    #[test]
    fn purge_receipts_verify_and_detect_changes() {
        let key = SigningKey::generate();
        let receipt = PurgeReceipt {
            run_id: 3,
            as_of: "2026-11-28T00:00:00Z".into(),
            finished_at: "2026-11-28T00:01:00Z".into(),
            outcome: "done".into(),
            datasets: vec![PurgedDataset {
                source: "shop".into(),
                table: "main.web_events".into(),
                policy: "Web events".into(),
                period: "P90D".into(),
                cutoff: "2026-08-30 00:00:00".into(),
                action: "delete".into(),
                rows: 120,
                held_rows: 0,
                hold_basis: None,
                remaining: Some(0),
                status: "done".into(),
            }],
            audit_from: 1,
            audit_to: 9,
        };
        let text = receipt.sign(&key);
        assert_eq!(PurgeReceipt::verify(&text, &key.public_key()).unwrap(), receipt);
        let tampered = text.replace("\\\"rows\\\":120", "\\\"rows\\\":12");
        assert_ne!(tampered, text);
        assert!(PurgeReceipt::verify(&tampered, &key.public_key()).is_err());
    }

    #[test]
    fn timestamps_are_suggested_from_names_and_types() {
        let cols = [("id", "integer"), ("updated_at", "timestamp"), ("created_at", "timestamp"), ("note", "text")];
        assert_eq!(suggest_timestamp(&cols), Some("created_at"));
        let cols = [("id", "integer"), ("occurred_at", "TIMESTAMP"), ("customer_id", "integer")];
        assert_eq!(suggest_timestamp(&cols), Some("occurred_at"));
        let cols = [("id", "integer"), ("shipped_on", "date")];
        assert_eq!(suggest_timestamp(&cols), Some("shipped_on"));
        // A text column named created_at is not proof of a date.
        let cols = [("id", "integer"), ("created_at", "text")];
        assert_eq!(suggest_timestamp(&cols), None);
    }
}
