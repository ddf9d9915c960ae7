//! Display helpers shared by pages: numbers, times, pagination and highlighted matches. Pages
//! receive display-ready values from here so templates stay simple.

use chrono::{NaiveDateTime, Utc};

/// `12431` → `12,431`.
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// "1 dataset", "12,431 datasets".
pub fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

/// A UTC time with its offset, as pages show times.
pub fn time(t: &NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    format!("{:04}-{:02}-{:02} {:02}:{:02} UTC+00:00", t.year(), t.month(), t.day(), t.hour(), t.minute())
}

/// A time in machine form for `<time datetime>`.
pub fn iso(t: &NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second())
}

/// "3 minutes ago", "in 2 days".
pub fn relative(t: &NaiveDateTime) -> String {
    relative_to(t, &Utc::now().naive_utc())
}

pub fn relative_to(t: &NaiveDateTime, now: &NaiveDateTime) -> String {
    let secs = (*now - *t).num_seconds();
    let (n, unit) = match secs.abs() {
        s if s < 45 => return "just now".to_owned(),
        s if s < 45 * 60 => ((s + 30) / 60, "minute"),
        s if s < 36 * 3600 => ((s + 1800) / 3600, "hour"),
        s if s < 45 * 86400 => ((s + 43200) / 86400, "day"),
        s if s < 550 * 86400 => ((s + 15 * 86400) / (30 * 86400), "month"),
        s => ((s + 182 * 86400) / (365 * 86400), "year"),
    };
    let plural = if n == 1 { "" } else { "s" };
    if secs >= 0 { format!("{n} {unit}{plural} ago") } else { format!("in {n} {unit}{plural}") }
}

/// Optional text for display: `None` and blank strings read as absent.
pub fn present(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Paging over a list: "1–50 of 12,431" and the links around it.
#[derive(Clone, Debug)]
pub struct Pager {
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
    /// The total is a lower bound ("more than").
    pub capped: bool,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `base_query` is the list's query string without `page` (already URL-encoded).
    pub fn new(path: &str, base_query: &str, page: i64, per_page: i64, total: i64, capped: bool) -> Self {
        let link = |p: i64| {
            if base_query.is_empty() { format!("{path}?page={p}") } else { format!("{path}?{base_query}&page={p}") }
        };
        let last_page = ((total + per_page - 1) / per_page).max(1);
        Self {
            page,
            per_page,
            total,
            capped,
            prev: (page > 1).then(|| link(page - 1)),
            next: (page < last_page).then(|| link(page + 1)),
        }
    }

    /// The rows to skip for `page`; a page far past the end skips everything (no overflow).
    pub fn offset(page: i64, per_page: i64) -> i64 {
        (page.max(1) - 1).saturating_mul(per_page)
    }

    /// "1–50 of 12,431", "No results".
    pub fn summary(&self) -> String {
        if self.total == 0 {
            return "none".to_owned();
        }
        let from = (self.page - 1).saturating_mul(self.per_page).saturating_add(1);
        let to = self.page.saturating_mul(self.per_page).min(self.total);
        if from > self.total {
            return format!("page {} is past the end ({} in all)", self.page, count(self.total));
        }
        let of = if self.capped { format!("more than {}", count(self.total)) } else { count(self.total) };
        format!("{}–{} of {}", count(from), count(to), of)
    }

    pub fn has_links(&self) -> bool {
        self.prev.is_some() || self.next.is_some()
    }
}

/// A piece of text split into plain and matching parts, for `<mark>` highlighting with escaping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    pub hit: bool,
}

/// Splits `text` around case-insensitive occurrences of any term.
pub fn highlight(text: &str, terms: &[String]) -> Vec<Segment> {
    let lower: Vec<(usize, char)> = text.char_indices().collect();
    let folded: String = text.chars().flat_map(char::to_lowercase).collect();
    // Only when lower-casing keeps lengths (nearly always) can offsets be mapped back.
    if folded.chars().count() != lower.len() || terms.is_empty() {
        return vec![Segment { text: text.to_owned(), hit: false }];
    }
    let folded_chars: Vec<char> = folded.chars().collect();
    let mut marks = vec![false; folded_chars.len()];
    for term in terms {
        let t: Vec<char> = term.chars().collect();
        if t.is_empty() || t.len() > folded_chars.len() {
            continue;
        }
        for start in 0..=folded_chars.len() - t.len() {
            if folded_chars[start..start + t.len()] == t[..] {
                marks[start..start + t.len()].iter_mut().for_each(|m| *m = true);
            }
        }
    }
    let mut segments: Vec<Segment> = Vec::new();
    for (i, (_, ch)) in lower.iter().enumerate() {
        match segments.last_mut() {
            Some(last) if last.hit == marks[i] => last.text.push(*ch),
            _ => segments.push(Segment { text: ch.to_string(), hit: marks[i] }),
        }
    }
    segments
}

/// A short excerpt of `text` around the first match of any term.
pub fn excerpt(text: &str, terms: &[String], width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= width {
        return text.to_owned();
    }
    let folded = text.to_lowercase();
    let first = terms
        .iter()
        .filter_map(|t| folded.find(t.as_str()))
        .min()
        .map(|byte| folded[..byte].chars().count())
        .unwrap_or(0);
    let start = first.saturating_sub(width / 3);
    let end = (start + width).min(chars.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(&chars[start..end]);
    if end < chars.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn counts_have_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(12431), "12,431");
        assert_eq!(count(-1234567), "-1,234,567");
    }

    #[test]
    fn times_show_their_offset() {
        let t = NaiveDate::from_ymd_opt(2026, 3, 7).unwrap().and_hms_opt(9, 5, 2).unwrap();
        assert_eq!(time(&t), "2026-03-07 09:05 UTC+00:00");
        assert_eq!(iso(&t), "2026-03-07T09:05:02Z");
    }

    #[test]
    fn relative_times_read_naturally() {
        let now = NaiveDate::from_ymd_opt(2026, 1, 10).unwrap().and_hms_opt(12, 0, 0).unwrap();
        assert_eq!(relative_to(&now, &now), "just now");
        assert_eq!(relative_to(&(now - chrono::TimeDelta::minutes(3)), &now), "3 minutes ago");
        assert_eq!(relative_to(&(now - chrono::TimeDelta::hours(1)), &now), "1 hour ago");
        assert_eq!(relative_to(&(now + chrono::TimeDelta::days(2)), &now), "in 2 days");
    }

    #[test]
    fn pager_summarises_and_links() {
        let p = Pager::new("/datasets", "kind=table", 1, 50, 12431, false);
        assert_eq!(p.summary(), "1–50 of 12,431");
        assert_eq!(p.prev, None);
        assert_eq!(p.next.as_deref(), Some("/datasets?kind=table&page=2"));
        let p = Pager::new("/datasets", "", 249, 50, 12431, false);
        assert_eq!(p.summary(), "12,401–12,431 of 12,431");
        assert_eq!(p.next, None);
        assert_eq!(p.prev.as_deref(), Some("/datasets?page=248"));
        assert_eq!(Pager::new("/x", "", 1, 50, 0, false).summary(), "none");
        assert_eq!(Pager::new("/x", "", 1, 50, 10000, true).summary(), "1–50 of more than 10,000");
    }

    #[test]
    fn matches_are_highlighted_case_insensitively() {
        let segs = highlight("Customer_Email", &["email".into()]);
        assert_eq!(
            segs,
            vec![Segment { text: "Customer_".into(), hit: false }, Segment { text: "Email".into(), hit: true }]
        );
        assert_eq!(highlight("abc", &[]).len(), 1);
        let segs = highlight("Zoë zoë", &["zoë".into()]);
        assert!(segs.iter().all(|s| s.hit || s.text == " "));
    }

    #[test]
    fn excerpts_centre_on_the_match() {
        let text = "a".repeat(100) + "needle" + &"b".repeat(100);
        let e = excerpt(&text, &["needle".into()], 40);
        assert!(e.contains("needle") && e.starts_with('…') && e.ends_with('…'));
    }
}
