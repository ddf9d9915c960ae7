//! `custodian dev seed`: fills the catalog with a synthetic data dictionary for benchmarks
//! (for example 100,000 datasets and 1,000,000 columns), through the same code a crawl uses.

use std::time::Instant;

use anyhow::bail;

use crate::db::now;
use crate::db::{Db, catalog, dialect};
use crate::targets::registration::Registration;
use crate::targets::{
    ConnectionRef, DatasetKind, Snapshot, SnapshotColumn, SnapshotDataset, SnapshotForeignKey, SourceKind,
};

const SCHEMAS: &[&str] =
    &["sales", "marketing", "finance", "support", "web", "ops", "hr", "logistics", "billing", "analytics"];
const NOUNS: &[&str] = &[
    "customer",
    "order",
    "invoice",
    "payment",
    "shipment",
    "product",
    "campaign",
    "session",
    "event",
    "ticket",
    "account",
    "subscription",
    "refund",
    "address",
    "contract",
    "employee",
    "vendor",
    "warehouse",
    "cart",
    "review",
];
const QUALIFIERS: &[&str] =
    &["daily", "history", "snapshot", "staging", "summary", "archive", "latest", "raw", "clean", "agg"];
const COLUMNS: &[(&str, &str)] = &[
    ("created_at", "timestamp"),
    ("updated_at", "timestamp"),
    ("email", "text"),
    ("phone", "text"),
    ("first_name", "text"),
    ("last_name", "text"),
    ("country", "char(2)"),
    ("amount_cents", "bigint"),
    ("currency", "char(3)"),
    ("status", "text"),
    ("ip_address", "inet"),
    ("user_agent", "text"),
    ("postal_code", "text"),
    ("birth_date", "date"),
    ("iban", "text"),
    ("notes", "text"),
    ("quantity", "integer"),
    ("score", "numeric(8,2)"),
    ("is_active", "boolean"),
    ("external_ref", "uuid"),
];

pub struct SeedArgs {
    pub datasets: usize,
    pub columns_per_dataset: usize,
    pub sources: usize,
}

/// Adds sources `synthetic_1..n` with the requested datasets; refuses if they exist.
pub fn run(db: &Db, args: &SeedArgs) -> anyhow::Result<()> {
    if args.sources == 0 || args.datasets == 0 || args.columns_per_dataset == 0 {
        bail!("sources, datasets and columns per dataset must each be at least 1");
    }
    let started = Instant::now();
    let per_source = args.datasets.div_ceil(args.sources);
    let mut made = 0;
    for s in 0..args.sources {
        let name = format!("synthetic_{}", s + 1);
        let registration = Registration {
            name: name.clone(),
            kind: SourceKind::Postgres,
            connection: ConnectionRef::Env(format!("SYNTHETIC_{}_URL", s + 1)),
        };
        let (_, source_id) = super::source::store(
            db,
            &super::actor::Actor::system(),
            &registration,
            Some("Synthetic catalog for benchmarks".into()),
            None,
        )?;
        let count = per_source.min(args.datasets - made);
        let snapshot = synthetic_snapshot(s, made, count, args.columns_per_dataset);
        made += count;
        let mut conn = db.writer()?;
        let changes = dialect::write_transaction(&mut conn, |conn| {
            catalog::apply_snapshot(conn, source_id, &snapshot, now(), &mut |_, _| {})
        })?;
        dialect::refresh_statistics(&mut conn, changes.rows_changed())?;
        println!("{name}: {count} datasets ({:.1} s so far)", started.elapsed().as_secs_f64());
    }
    println!(
        "Seeded {} datasets and {} columns in {:.1} s.",
        made,
        made * args.columns_per_dataset,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A deterministic synthetic schema: `count` datasets numbered from `first`.
pub fn synthetic_snapshot(source: usize, first: usize, count: usize, columns: usize) -> Snapshot {
    let mut datasets = Vec::with_capacity(count);
    let mut foreign_keys = Vec::new();
    for i in first..first + count {
        let schema = SCHEMAS[i % SCHEMAS.len()];
        let noun = NOUNS[(i / SCHEMAS.len()) % NOUNS.len()];
        let qualifier = QUALIFIERS[(i / (SCHEMAS.len() * NOUNS.len())) % QUALIFIERS.len()];
        let name = format!("{noun}_{qualifier}_{i}");
        let mut cols = vec![SnapshotColumn {
            name: "id".into(),
            data_type: "bigint".into(),
            nullable: false,
            is_primary_key: true,
            default_value: None,
            comment: None,
        }];
        for c in 1..columns {
            let (base, data_type) = COLUMNS[(i + c * 7) % COLUMNS.len()];
            let name = if c < COLUMNS.len() { base.to_owned() } else { format!("{base}_{c}") };
            if cols.iter().any(|x: &SnapshotColumn| x.name == name) {
                cols.push(SnapshotColumn {
                    name: format!("{base}_{c}"),
                    data_type: data_type.into(),
                    nullable: true,
                    is_primary_key: false,
                    default_value: None,
                    comment: None,
                });
            } else {
                cols.push(SnapshotColumn {
                    name,
                    data_type: data_type.into(),
                    nullable: true,
                    is_primary_key: false,
                    default_value: None,
                    comment: (c == 2).then(|| format!("The {noun}'s {base} as recorded by source {}", source + 1)),
                });
            }
        }
        if i > first && i % 3 == 0 {
            let parent = i - 1;
            foreign_keys.push(SnapshotForeignKey {
                name: format!("{name}_parent_fk"),
                from_schema: schema.into(),
                from_table: name.clone(),
                from_columns: vec!["id".into()],
                to_schema: SCHEMAS[parent % SCHEMAS.len()].into(),
                to_table: format!(
                    "{}_{}_{parent}",
                    NOUNS[(parent / SCHEMAS.len()) % NOUNS.len()],
                    QUALIFIERS[(parent / (SCHEMAS.len() * NOUNS.len())) % QUALIFIERS.len()]
                ),
                to_columns: vec!["id".into()],
            });
        }
        datasets.push(SnapshotDataset {
            schema: schema.into(),
            name,
            kind: if i % 10 == 9 { DatasetKind::View } else { DatasetKind::Table },
            comment: (i % 4 == 0).then(|| format!("{noun} records, {qualifier} ({schema})")),
            definition: None,
            row_estimate: Some((i as i64 * 7919) % 1_000_000),
            columns: cols,
        });
    }
    Snapshot { datasets, foreign_keys }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_schemas_are_unique_and_sized() {
        let s = synthetic_snapshot(0, 0, 500, 10);
        assert_eq!(s.datasets.len(), 500);
        let mut names: Vec<_> = s.datasets.iter().map(|d| (&d.schema, &d.name)).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 500);
        for d in &s.datasets {
            assert_eq!(d.columns.len(), 10);
            let mut cols: Vec<_> = d.columns.iter().map(|c| &c.name).collect();
            cols.sort();
            cols.dedup();
            assert_eq!(cols.len(), 10, "duplicate column in {}", d.name);
        }
        assert!(s.foreign_keys.iter().all(|fk| s.datasets.iter().any(|d| d.name == fk.to_table)));
    }
}
