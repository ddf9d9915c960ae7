//! Pure rules of GDPR erasure (GOVERNANCE.md E1–E20): deadlines and the single extension (E1,
//! E2), the request's lifecycle (E3), identifier normalisation (`subject`, E8), planning over
//! the catalog's graph (`plan`, E5, E7), the statements each step runs (`sql`, E10–E12, E17) and
//! receipts (`receipt`, E18). The service in `crate::erasure` reads the catalog and the targets
//! and calls in here.

pub mod plan;
pub mod receipt;
pub mod sql;
pub mod subject;

use chrono::{Months, NaiveDate};

/// E1: a request is due one calendar month after receipt: the same day next month, or that
/// month's last day when it has no such day (31 January → 28 or 29 February).
pub fn due_date(received: NaiveDate) -> NaiveDate {
    add_months(received, 1)
}

fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
    // `checked_add_months` clamps to the end of a shorter month; it fails only past year 262143.
    date.checked_add_months(Months::new(months)).unwrap_or(NaiveDate::MAX)
}

/// The longest extension Art. 12(3) allows.
pub const MAX_EXTENSION_MONTHS: u32 = 2;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtensionError {
    #[error("this request has already been extended once; a second extension is not allowed")]
    AlreadyExtended,
    #[error("an extension must be asked for before the original due date ({0})")]
    TooLate(NaiveDate),
    #[error("an extension is 1 or 2 months")]
    BadLength,
    #[error("an extension needs a reason")]
    NoReason,
    #[error("a request that has ended cannot be extended")]
    Ended,
}

/// E2: the new due date of a request extended by `months` on `today`: at most once, by at
/// most two months, on or before the original due date, with a reason.
pub fn extend(
    original_due: NaiveDate,
    already_extended: bool,
    status: Status,
    months: u32,
    reason: &str,
    today: NaiveDate,
) -> Result<NaiveDate, ExtensionError> {
    if status.is_final() {
        return Err(ExtensionError::Ended);
    }
    if already_extended {
        return Err(ExtensionError::AlreadyExtended);
    }
    if !(1..=MAX_EXTENSION_MONTHS).contains(&months) {
        return Err(ExtensionError::BadLength);
    }
    if reason.trim().is_empty() {
        return Err(ExtensionError::NoReason);
    }
    if today > original_due {
        return Err(ExtensionError::TooLate(original_due));
    }
    Ok(add_months(original_due, months))
}

/// Days until `due` (negative when overdue).
pub fn days_left(due: NaiveDate, today: NaiveDate) -> i64 {
    (due - today).num_days()
}

/// Where a request is in its life (E3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Submitted; no plan yet.
    Received,
    /// A plan with dry-run counts waits for approval.
    Planned,
    /// Approved by a compliance officer other than the submitter; waits to be run.
    Approved,
    /// A worker is executing the plan.
    Running,
    /// Every target is erased and verified; recipients still to be told (E20).
    AwaitingRecipients,
    /// A target was skipped, unreachable or failed, or the plan drifted: not complete.
    Blocked,
    Completed,
    CompletedWithExceptions,
    Refused,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Received,
        Status::Planned,
        Status::Approved,
        Status::Running,
        Status::AwaitingRecipients,
        Status::Blocked,
        Status::Completed,
        Status::CompletedWithExceptions,
        Status::Refused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Planned => "planned",
            Self::Approved => "approved",
            Self::Running => "running",
            Self::AwaitingRecipients => "awaiting_recipients",
            Self::Blocked => "blocked",
            Self::Completed => "completed",
            Self::CompletedWithExceptions => "completed_with_exceptions",
            Self::Refused => "refused",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Received => "Received",
            Self::Planned => "Planned, awaiting approval",
            Self::Approved => "Approved",
            Self::Running => "Running",
            Self::AwaitingRecipients => "Erased; recipients to notify",
            Self::Blocked => "Blocked",
            Self::Completed => "Completed",
            Self::CompletedWithExceptions => "Completed with exceptions",
            Self::Refused => "Refused",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The request has ended: nothing more happens to it but verification-only runs.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::CompletedWithExceptions | Self::Refused)
    }

    /// A plan may be (re)made: before approval, or after a blocked run.
    pub fn can_plan(self) -> bool {
        matches!(self, Self::Received | Self::Planned | Self::Approved | Self::Blocked)
    }

    /// A compliance officer may approve or refuse.
    pub fn can_decide(self) -> bool {
        self == Self::Planned
    }

    /// A run may be queued: approved, or blocked after approval and re-planned then approved
    /// again; a completed request gets a verification-only run (E4).
    pub fn can_run(self) -> bool {
        matches!(self, Self::Approved | Self::Completed | Self::CompletedWithExceptions)
    }
}

/// Art. 17(3) grounds that keep data despite an erasure request.
pub const HOLD_BASES: [(&str, &str); 5] = [
    ("art17_3_a", "Art. 17(3)(a): freedom of expression and information"),
    ("art17_3_b", "Art. 17(3)(b): a legal obligation, or a task in the public interest"),
    ("art17_3_c", "Art. 17(3)(c): public health"),
    ("art17_3_d", "Art. 17(3)(d): archiving, research or statistics"),
    ("art17_3_e", "Art. 17(3)(e): legal claims"),
];

pub fn hold_basis_label(key: &str) -> Option<&'static str> {
    HOLD_BASES.iter().find(|(k, _)| *k == key).map(|(_, l)| *l)
}

/// E12: how many rows a step may touch beyond its dry-run count before it is rolled back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlastMargin {
    pub rows: i64,
    pub percent: i64,
}

impl Default for BlastMargin {
    fn default() -> Self {
        Self { rows: 10, percent: 10 }
    }
}

impl BlastMargin {
    /// The most rows a step previewed at `expected` may affect.
    pub fn limit(self, expected: i64) -> i64 {
        expected + self.rows.max(expected * self.percent / 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn due_dates_are_one_calendar_month_later_clamped_to_the_month_end() {
        assert_eq!(due_date(d(2026, 1, 31)), d(2026, 2, 28));
        assert_eq!(due_date(d(2028, 1, 31)), d(2028, 2, 29), "leap year");
        assert_eq!(due_date(d(2028, 2, 29)), d(2028, 3, 29));
        assert_eq!(due_date(d(2027, 2, 28)), d(2027, 3, 28));
        assert_eq!(due_date(d(2026, 12, 31)), d(2027, 1, 31));
        assert_eq!(due_date(d(2026, 3, 31)), d(2026, 4, 30));
        assert_eq!(due_date(d(2026, 11, 27)), d(2026, 12, 27));
    }

    #[test]
    fn one_extension_of_at_most_two_months_before_the_due_date() {
        let due = d(2026, 2, 28);
        assert_eq!(extend(due, false, Status::Planned, 2, "complex", d(2026, 2, 1)), Ok(d(2026, 4, 28)));
        assert_eq!(extend(due, false, Status::Planned, 1, "complex", d(2026, 2, 28)), Ok(d(2026, 3, 28)));
        assert_eq!(extend(due, false, Status::Planned, 1, "late", d(2026, 3, 1)), Err(ExtensionError::TooLate(due)));
        assert_eq!(extend(due, true, Status::Planned, 1, "again", d(2026, 2, 1)), Err(ExtensionError::AlreadyExtended));
        assert_eq!(extend(due, false, Status::Planned, 3, "long", d(2026, 2, 1)), Err(ExtensionError::BadLength));
        assert_eq!(extend(due, false, Status::Planned, 0, "none", d(2026, 2, 1)), Err(ExtensionError::BadLength));
        assert_eq!(extend(due, false, Status::Planned, 1, "  ", d(2026, 2, 1)), Err(ExtensionError::NoReason));
        assert_eq!(extend(due, false, Status::Completed, 1, "done", d(2026, 2, 1)), Err(ExtensionError::Ended));
    }

    #[test]
    fn days_left_go_negative_when_overdue() {
        assert_eq!(days_left(d(2026, 12, 27), d(2026, 11, 27)), 30);
        assert_eq!(days_left(d(2026, 11, 20), d(2026, 11, 27)), -7);
    }

    #[test]
    fn statuses_round_trip_and_know_what_may_happen_next() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert!(Status::Planned.can_decide() && !Status::Received.can_decide());
        assert!(Status::Completed.is_final() && !Status::Blocked.is_final());
        assert!(Status::Blocked.can_plan() && !Status::Running.can_plan());
    }

    #[test]
    fn the_blast_margin_is_rows_or_a_percentage_whichever_is_larger() {
        let m = BlastMargin::default();
        assert_eq!(m.limit(0), 10);
        assert_eq!(m.limit(50), 60);
        assert_eq!(m.limit(1000), 1100);
    }
}
