//! `custodian source add|list`: registering and listing sources.

use anyhow::bail;

use super::actor::Actor;
use crate::db::now;
use crate::db::{Db, catalog, dialect};
use crate::targets::registration::{self, Registration};
use crate::targets::{ConnectionRef, SourceKind};

pub struct AddArgs {
    pub name: String,
    pub url: Option<String>,
    pub url_env: Option<String>,
    pub kind: Option<SourceKind>,
    pub description: Option<String>,
    pub owner: Option<String>,
}

/// Registers a source; fails when the name is taken or the input is invalid.
pub fn add(db: &Db, actor: &Actor, args: &AddArgs) -> anyhow::Result<i64> {
    let registration = match registration::validate(&args.name, args.url.as_deref(), args.url_env.as_deref(), args.kind)
    {
        Ok(r) => r,
        Err(problems) => {
            let lines: Vec<String> = problems.iter().map(|(field, m)| format!("  {}: {m}", flag(field))).collect();
            bail!("the source was not added:\n{}", lines.join("\n"));
        }
    };
    let source = store(db, actor, &registration, args.description.clone(), args.owner.clone())?;
    println!(
        "Added source {} ({}, {}) as #{}. Crawl it with: custodian crawl {}",
        source.0,
        registration.kind.label(),
        registration.connection.display(),
        source.1,
        source.0
    );
    Ok(source.1)
}

fn flag(field: &str) -> &str {
    match field {
        "url" => "--url",
        "url_env" => "--url-env",
        "connection" => "--url / --url-env",
        other => other,
    }
}

/// Stores a validated registration; returns (name, id).
pub fn store(
    db: &Db,
    actor: &Actor,
    r: &Registration,
    description: Option<String>,
    owner: Option<String>,
) -> anyhow::Result<(String, i64)> {
    let mut conn = db.writer()?;
    let by = actor.audit();
    let source = dialect::write_transaction(&mut conn, |conn| {
        crate::catalog::register_source(conn, &by, r, description, owner, now())
    })?;
    Ok((source.name, source.id))
}

pub fn list(db: &Db) -> anyhow::Result<()> {
    let mut conn = db.reader()?;
    let sources = catalog::list_sources(&mut conn)?;
    if sources.is_empty() {
        println!("No sources yet. Add one with: custodian source add NAME --url URL");
        return Ok(());
    }
    println!("{:<24} {:<10} {:>9} {:>9}  connection", "name", "kind", "datasets", "columns");
    for s in sources {
        let (d, c) = (s.dataset_count, s.column_count);
        let connection =
            ConnectionRef::from_parts(&s.connection_kind, &s.connection_ref).map(|c| c.display()).unwrap_or_default();
        println!("{:<24} {:<10} {:>9} {:>9}  {connection}", s.name, s.kind, d, c);
    }
    Ok(())
}
