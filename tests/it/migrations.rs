//! Migrations go up, down and up again on both backends, and every table the code knows loads.

use custodian::db::models::*;
use custodian::db::now;
use custodian::db::schema::*;
use custodian::db::{ConnectionManager, catalog, dialect};
use custodian::targets::{DatasetKind, Snapshot, SnapshotColumn, SnapshotDataset, SnapshotForeignKey};
use diesel::prelude::*;

use crate::support::TestCatalog;

fn snapshot() -> Snapshot {
    let col = |name: &str, pk: bool| SnapshotColumn {
        name: name.into(),
        data_type: "integer".into(),
        nullable: !pk,
        is_primary_key: pk,
        default_value: None,
        comment: Some(format!("the {name}")),
    };
    let table = |name: &str, cols: Vec<SnapshotColumn>| SnapshotDataset {
        schema: "main".into(),
        name: name.into(),
        kind: DatasetKind::Table,
        comment: Some("a table".into()),
        definition: None,
        row_estimate: Some(3),
        columns: cols,
    };
    Snapshot {
        datasets: vec![
            table("parent", vec![col("id", true)]),
            table("child", vec![col("id", true), col("parent_id", false)]),
        ],
        foreign_keys: vec![SnapshotForeignKey {
            name: "child_parent".into(),
            from_schema: "main".into(),
            from_table: "child".into(),
            from_columns: vec!["parent_id".into()],
            to_schema: "main".into(),
            to_table: "parent".into(),
            to_columns: vec!["id".into()],
        }],
    }
}

#[test]
fn migrations_go_up_down_and_up_again_and_every_table_loads() {
    for catalog in TestCatalog::all() {
        let label = catalog.label();
        let mut conn = ConnectionManager::new(catalog.url(), false).establish().expect("connect");
        let applied = dialect::run_migrations(&mut conn).expect("up");
        assert!(!applied.is_empty(), "{label}: nothing applied on an empty catalog");
        assert!(dialect::run_migrations(&mut conn).expect("up again").is_empty(), "{label}: up is not idempotent");
        let status = dialect::migration_status(&mut conn).expect("status");
        assert!(status.iter().all(|(_, applied)| *applied), "{label}: {status:?}");

        let reverted = dialect::revert_all_migrations(&mut conn).expect("down");
        assert_eq!(reverted.len(), applied.len(), "{label}");
        assert!(sources::table.count().get_result::<i64>(&mut conn).is_err(), "{label}: tables remain after down");
        let status = dialect::migration_status(&mut conn).expect("status");
        assert!(status.iter().all(|(_, applied)| !*applied), "{label}: {status:?}");

        assert_eq!(dialect::run_migrations(&mut conn).expect("up after down").len(), applied.len(), "{label}");

        // Parity: rows written through the repository load back through every table definition.
        let now = now();
        let source = catalog::insert_source(
            &mut conn,
            &NewSource {
                name: "parity".into(),
                kind: "sqlite".into(),
                connection_kind: "url".into(),
                connection_ref: "/nowhere.db".into(),
                default_schema: "main".into(),
                description: Some("d".into()),
                owner: None,
                created_at: now,
                updated_at: now,
            },
        )
        .expect("insert source");
        let run = catalog::enqueue_crawl_run(&mut conn, source.id, "crawl", "test", now).expect("enqueue");
        let changes = catalog::apply_snapshot(&mut conn, source.id, &snapshot(), now, &mut |_, _| {}).expect("apply");
        catalog::finish_crawl_run(&mut conn, run.id, Ok(&changes), now).expect("finish");
        assert_eq!(sources::table.select(Source::as_select()).load(&mut conn).expect("sources").len(), 1, "{label}");
        assert_eq!(crawl_runs::table.select(CrawlRun::as_select()).load(&mut conn).expect("runs").len(), 1, "{label}");
        assert_eq!(datasets::table.select(Dataset::as_select()).load(&mut conn).expect("datasets").len(), 2, "{label}");
        let columns = dataset_columns::table.select(DatasetColumn::as_select()).load(&mut conn).expect("columns");
        assert_eq!(columns.len(), 3, "{label}");
        assert!(columns.iter().any(|c| c.is_primary_key && !c.nullable), "{label}: booleans did not round-trip");
        let fks = foreign_keys::table.select(ForeignKey::as_select()).load(&mut conn).expect("foreign keys");
        assert_eq!(fks.len(), 1, "{label}");
        assert_eq!(catalog::parse_json_list(&fks[0].from_columns), vec!["parent_id".to_owned()], "{label}");
        let stored = datasets::table.select(Dataset::as_select()).first(&mut conn).expect("dataset");
        assert_eq!(stored.created_at, now, "{label}: timestamps did not round-trip");
    }
}
