//! Roles and what each may do. Every mutation and every sensitive page asks [`Role::allows`] for a
//! [`Permission`]; the table here is the single place that answers.

use std::fmt;

/// A person's (or an API token's) role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Reads the catalog.
    Viewer,
    /// Edits descriptions, owners, sources and pipelines; runs crawls.
    Steward,
    /// Classification, retention, holds, erasure approval, the audit log.
    Compliance,
    /// Submits and follows erasure requests.
    PrivacyDesk,
    /// Users, tokens, configuration, the audit log; may classify.
    Admin,
}

/// Something a role may or may not do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read the catalog: sources, datasets, columns, search, lineage.
    ReadCatalog,
    /// Edit descriptions and owners, register and edit sources, crawl, ingest pipelines.
    EditCatalog,
    /// Set classification levels, categories and identifiers; accept suggestions.
    Classify,
    /// Propose a classification for review (a suggestion).
    ProposeClassification,
    /// Manage retention policies and legal holds.
    ManageRetention,
    /// Submit erasure requests and follow them.
    SubmitErasure,
    /// Approve or refuse erasure requests.
    ApproveErasure,
    /// Read, verify and export the audit log.
    ReadAudit,
    /// Manage users and roles.
    ManageUsers,
    /// Create and revoke API tokens.
    ManageTokens,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Viewer, Role::Steward, Role::Compliance, Role::PrivacyDesk, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Steward => "steward",
            Self::Compliance => "compliance",
            Self::PrivacyDesk => "privacy_desk",
            Self::Admin => "admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Viewer => "Viewer",
            Self::Steward => "Steward",
            Self::Compliance => "Compliance officer",
            Self::PrivacyDesk => "Privacy desk",
            Self::Admin => "Administrator",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The permission table. Separation of duties is deliberate: an administrator manages people
    /// and tokens but does not edit the catalog or approve erasures.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match permission {
            ReadCatalog => true,
            EditCatalog => matches!(self, Self::Steward),
            Classify => matches!(self, Self::Compliance | Self::Admin),
            ProposeClassification => matches!(self, Self::Steward | Self::Compliance | Self::Admin),
            ManageRetention | ApproveErasure => matches!(self, Self::Compliance),
            SubmitErasure => matches!(self, Self::PrivacyDesk | Self::Compliance),
            ReadAudit => matches!(self, Self::Compliance | Self::Admin),
            ManageUsers | ManageTokens => matches!(self, Self::Admin),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Permission {
    /// What the permission lets one do, for "not allowed" messages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::ReadCatalog => "read the catalog",
            Self::EditCatalog => "edit the catalog",
            Self::Classify => "classify columns",
            Self::ProposeClassification => "propose classifications",
            Self::ManageRetention => "manage retention and holds",
            Self::SubmitErasure => "submit erasure requests",
            Self::ApproveErasure => "approve erasure requests",
            Self::ReadAudit => "read the audit log",
            Self::ManageUsers => "manage users",
            Self::ManageTokens => "manage API tokens",
        }
    }

    /// The roles that hold this permission, for messages ("ask a steward").
    pub fn holders(self) -> Vec<Role> {
        Role::ALL.into_iter().filter(|r| r.allows(self)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn the_permission_table_separates_duties() {
        assert!(Role::ALL.iter().all(|r| r.allows(Permission::ReadCatalog)));
        assert_eq!(Permission::EditCatalog.holders(), [Role::Steward]);
        assert_eq!(Permission::Classify.holders(), [Role::Compliance, Role::Admin]);
        assert_eq!(Permission::ProposeClassification.holders(), [Role::Steward, Role::Compliance, Role::Admin]);
        assert_eq!(Permission::ApproveErasure.holders(), [Role::Compliance]);
        assert_eq!(Permission::SubmitErasure.holders(), [Role::Compliance, Role::PrivacyDesk]);
        assert_eq!(Permission::ReadAudit.holders(), [Role::Compliance, Role::Admin]);
        assert_eq!(Permission::ManageUsers.holders(), [Role::Admin]);
        assert!(!Role::Admin.allows(Permission::EditCatalog));
        assert!(!Role::Viewer.allows(Permission::EditCatalog));
    }
}
