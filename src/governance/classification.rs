//! Classification rules: the default ordered levels, the colours a level may take, how a column's
//! effective level follows from what people confirmed, its categories and what lineage carried
//! to it, and when a change needs a reason.

/// A level as configured: its rank orders levels (higher is more sensitive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LevelSpec {
    pub rank: i32,
    pub name: &'static str,
    pub colour: &'static str,
    pub handling: &'static str,
}

/// The levels a new catalog starts with (C1): Public < Internal < Confidential < Restricted.
pub const DEFAULT_LEVELS: [LevelSpec; 4] = [
    LevelSpec { rank: 0, name: "Public", colour: "grey", handling: "May be shared with anyone." },
    LevelSpec { rank: 1, name: "Internal", colour: "blue", handling: "For people who work here; not for the public." },
    LevelSpec {
        rank: 2,
        name: "Confidential",
        colour: "amber",
        handling: "Only for people who need it for their work; personal data by default.",
    },
    LevelSpec {
        rank: 3,
        name: "Restricted",
        colour: "red",
        handling: "Named people only; special categories of personal data (GDPR Art. 9).",
    },
];

/// The colours a level badge may have (each is a class in the stylesheet).
pub const PALETTE: [&str; 6] = ["grey", "blue", "amber", "red", "green", "purple"];

/// A column's effective level: the level a person confirmed on it, or else the highest default
/// level of its categories; never below what lineage carried to it from upstream (a copy is as
/// sensitive as its source unless propagation was blocked on that edge).
pub fn effective_level(confirmed: Option<i32>, category_defaults: &[i32], propagated: &[i32]) -> Option<i32> {
    let own = confirmed.or_else(|| category_defaults.iter().copied().max());
    match (own, propagated.iter().copied().max()) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Whether a change of a column's confirmed level lowers it (and so needs a reason).
pub fn lowers(before: Option<i32>, after: Option<i32>) -> bool {
    match (before, after) {
        (Some(b), Some(a)) => a < b,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_confirmed_level_wins_over_category_defaults_but_not_over_lineage() {
        assert_eq!(effective_level(None, &[], &[]), None);
        assert_eq!(effective_level(None, &[2, 3], &[]), Some(3));
        assert_eq!(effective_level(Some(1), &[2], &[]), Some(1), "a person may set a lower level than the category's");
        assert_eq!(effective_level(Some(1), &[], &[3]), Some(3), "a copy is as sensitive as its source");
        assert_eq!(effective_level(None, &[], &[2]), Some(2));
    }

    #[test]
    fn lowering_is_detected() {
        assert!(lowers(Some(3), Some(1)));
        assert!(lowers(Some(1), None));
        assert!(!lowers(Some(1), Some(1)));
        assert!(!lowers(None, Some(0)));
        assert!(!lowers(Some(1), Some(2)));
    }

    #[test]
    fn default_levels_are_ordered_and_use_the_palette() {
        assert!(DEFAULT_LEVELS.windows(2).all(|w| w[0].rank < w[1].rank));
        assert!(DEFAULT_LEVELS.iter().all(|l| PALETTE.contains(&l.colour)));
    }
}
