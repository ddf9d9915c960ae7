//! Who a command acts as: `--as USER` (or `CUSTODIAN_ACTOR`), checked against that user's role
//! like any web request, and recorded as the actor of what the command changes.

use anyhow::{Context, bail};

use crate::db::audit::AuditActor;
use crate::db::{Db, accounts};
use crate::governance::access::{Permission, Role};

/// The person (or the system itself, for the demo and benchmarks) a command acts as.
#[derive(Clone, Debug)]
pub struct Actor {
    pub name: String,
    pub role: Option<Role>,
    pub user_id: Option<i64>,
}

impl Actor {
    /// This actor, for audit events (commands have no request id).
    pub fn audit(&self) -> AuditActor {
        AuditActor { actor: self.name.clone(), role: self.role.map(|r| r.as_str().to_owned()), request_id: None }
    }

    /// Custodian itself: the demo and benchmark set-up, which no person runs through the CLI's
    /// permission checks.
    pub fn system() -> Self {
        Self { name: "system".into(), role: None, user_id: None }
    }

    /// The named user, who must exist, be enabled and hold `permission`.
    pub fn require(db: &Db, name: Option<&str>, permission: Permission) -> anyhow::Result<Self> {
        let Some(name) = name else {
            bail!(
                "this command changes the catalog, so it acts as a named user: pass --as USER (or set CUSTODIAN_ACTOR); \
                 it needs a user who may {}",
                permission.describe()
            );
        };
        let user = accounts::find_user_by_name(&mut *db.reader()?, name)?
            .with_context(|| format!("there is no user named {name:?} (see: custodian user list)"))?;
        if user.disabled {
            bail!("the user {name:?} is disabled");
        }
        let role = Role::parse(&user.role).with_context(|| format!("the user {name:?} has an unknown role"))?;
        if !role.allows(permission) {
            let holders: Vec<&str> = permission.holders().iter().map(|r| r.as_str()).collect();
            bail!("{name} is a {role}, and to {} one must be: {}", permission.describe(), holders.join(" or "));
        }
        Ok(Self { name: user.username, role: Some(role), user_id: Some(user.id) })
    }

    /// The named user, who must hold at least one of `permissions`.
    pub fn require_any(db: &Db, name: Option<&str>, permissions: &[Permission]) -> anyhow::Result<Self> {
        let mut last = None;
        for p in permissions {
            match Self::require(db, name, *p) {
                Ok(actor) => return Ok(actor),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("no permission given")))
    }
}
