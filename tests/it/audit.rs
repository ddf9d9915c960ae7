//! The audit log on real catalogs (SQLite, and PostgreSQL when configured): appends chain, the
//! database refuses changes (A2), tampering as a database superuser is caught and the first bad
//! event named (A3), a signed checkpoint catches a consistent rewrite (A4), and an event commits
//! or rolls back with its change (A1). The CLI is driven as a user would, through the binary.

use std::path::Path;
use std::process::Command;

use custodian::db::audit::{self, AuditEvent, AuditFilter, Cursor, NewAuditEvent};
use custodian::db::models::NewSource;
use custodian::db::{CatalogUrl, Db, catalog, dialect, now};
use custodian::governance::audit::{ChainHead, Checkpoint, EventFields, SigningKey, TamperKind, event_hash};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::json;

use crate::support::TestCatalog;

fn sample(i: i64) -> NewAuditEvent {
    let (action, entity_type) = if i % 3 == 0 { ("source.create", "source") } else { ("dataset.update", "dataset") };
    NewAuditEvent::new(if i % 2 == 0 { "alice" } else { "bob" }, action, entity_type)
        .role("steward")
        .entity_id(i % 4)
        .before(json!({"description": format!("d{}", i - 1), "owner": null}))
        .after(json!({"owner": null, "description": format!("d{i}, \"quoted\"\nsecond line")}))
        .request_id(format!("req-{i}"))
}

fn write<T>(
    conn: &mut custodian::db::AnyConnection,
    f: impl FnOnce(&mut custodian::db::AnyConnection) -> QueryResult<T>,
) -> QueryResult<T> {
    dialect::write_transaction(conn, f)
}

/// Appends events 1..=n, one transaction each, as mutations do.
fn append_events(db: &Db, n: i64) -> Vec<AuditEvent> {
    let mut conn = db.writer().expect("writer");
    (1..=n).map(|i| write(&mut conn, |c| audit::append(c, &sample(i), now())).expect("append")).collect()
}

fn verify(db: &Db, checkpoint: Option<&Checkpoint>) -> Result<ChainHead, custodian::governance::audit::ChainError> {
    audit::verify_chain(&mut db.reader().expect("reader"), checkpoint, |_, _| {}).expect("read the log")
}

#[track_caller]
fn assert_fails(db: &Db, label: &str, seq: i64, kind: TamperKind) {
    match verify(db, None) {
        Err(e) => assert_eq!((e.seq, e.kind), (seq, kind), "{label}: {e}"),
        Ok(head) => panic!("{label}: the tampered log verified up to {}", head.seq),
    }
}

/// Runs SQL on the catalog as its superuser would, around the append-only triggers: SQLite's are
/// dropped and recreated in the same transaction, PostgreSQL's disabled and enabled again.
fn as_superuser(catalog: &TestCatalog, sql: &str) {
    match catalog {
        TestCatalog::Sqlite { .. } => {
            #[derive(QueryableByName)]
            struct Trigger {
                #[diesel(sql_type = Text)]
                name: String,
                #[diesel(sql_type = Text)]
                sql: String,
            }
            let mut conn = sqlite(catalog);
            let triggers: Vec<Trigger> = diesel::sql_query(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('audit_events', 'audit_head')",
            )
            .load(&mut conn)
            .expect("list triggers");
            assert!(triggers.len() >= 4, "the audit triggers exist: {}", triggers.len());
            let mut script = String::from("BEGIN;");
            for t in &triggers {
                script.push_str(&format!("DROP TRIGGER {};", t.name));
            }
            script.push_str(sql);
            script.push(';');
            for t in &triggers {
                script.push_str(&t.sql);
                script.push(';');
            }
            script.push_str("COMMIT;");
            conn.batch_execute(&script).expect("tamper");
        }
        TestCatalog::Postgres(db) => db
            .connect()
            .batch_execute(&format!(
                "BEGIN; ALTER TABLE audit_events DISABLE TRIGGER ALL; ALTER TABLE audit_head DISABLE TRIGGER ALL; \
                 {sql}; ALTER TABLE audit_events ENABLE TRIGGER ALL; ALTER TABLE audit_head ENABLE TRIGGER ALL; COMMIT;"
            ))
            .expect("tamper"),
    }
}

fn sqlite(catalog: &TestCatalog) -> SqliteConnection {
    let CatalogUrl::Sqlite(path) = catalog.url() else { panic!("not SQLite") };
    SqliteConnection::establish(path.to_str().expect("utf-8 path")).expect("open the SQLite catalog")
}

/// Runs SQL on the catalog with an ordinary connection (no trigger bypassed).
fn execute(db: &Db, sql: &str) -> QueryResult<()> {
    db.writer().expect("writer").batch_execute(sql)
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn time_literal(t: &chrono::NaiveDateTime) -> String {
    quote(&t.format("%Y-%m-%d %H:%M:%S%.6f").to_string())
}

#[test]
fn appends_form_a_gapless_valid_chain() {
    for catalog in TestCatalog::all() {
        let label = catalog.label();
        let db = catalog.open();
        assert_eq!(verify(&db, None), Ok(ChainHead::genesis()), "{label}: an empty log verifies");
        let events = append_events(&db, 12);
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=12).collect::<Vec<_>>(), "{label}");
        assert_eq!(events[0].prev_hash, custodian::governance::audit::GENESIS_HASH, "{label}");
        for pair in events.windows(2) {
            assert_eq!(pair[1].prev_hash, pair[0].hash, "{label}: event {} links to {}", pair[1].seq, pair[0].seq);
        }
        let head = audit::head(&mut db.reader().expect("reader")).expect("head");
        assert_eq!(head, ChainHead { seq: 12, hash: events[11].hash.clone() }, "{label}");
        assert_eq!(verify(&db, None), Ok(head), "{label}");

        // What was stored is what was hashed: times to the microsecond, JSON with sorted keys.
        let stored = audit::find_event(&mut db.reader().expect("reader"), 2).expect("find").expect("event 2");
        assert_eq!(stored, events[1], "{label}: the event reads back as appended");
        assert_eq!(
            stored.after_json.as_deref(),
            Some(r#"{"description":"d2, \"quoted\"\nsecond line","owner":null}"#),
            "{label}"
        );
        assert_eq!(event_hash(&stored.fields()), stored.hash, "{label}");
    }
}

#[test]
fn concurrent_appends_get_consecutive_numbers() {
    for catalog in TestCatalog::all() {
        let label = catalog.label();
        let db = catalog.open();
        std::thread::scope(|s| {
            for t in 0..4 {
                let db = db.clone();
                s.spawn(move || {
                    for i in 0..25 {
                        let mut conn = db.writer().expect("writer");
                        write(&mut conn, |c| audit::append(c, &sample(t * 100 + i + 1), now())).expect("append");
                    }
                });
            }
        });
        let head = verify(&db, None).unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(head.seq, 100, "{label}");
    }
}

#[test]
fn appends_outside_a_transaction_or_with_a_bad_action_are_refused() {
    for catalog in TestCatalog::all() {
        let label = catalog.label();
        let db = catalog.open();
        let mut conn = db.writer().expect("writer");
        let outside = audit::append(&mut conn, &sample(1), now());
        assert!(matches!(outside, Err(diesel::result::Error::NotInTransaction)), "{label}: {outside:?}");
        for action in ["update", "Dataset.Update", "dataset..update", "dataset.update "] {
            let bad = NewAuditEvent::new("alice", action, "dataset");
            let result = write(&mut conn, |c| audit::append(c, &bad, now()));
            assert!(result.is_err(), "{label}: action {action:?} was accepted");
        }
        let empty_actor = NewAuditEvent::new(" ", "dataset.update", "dataset");
        assert!(write(&mut conn, |c| audit::append(c, &empty_actor, now())).is_err(), "{label}");
        assert_eq!(audit::head(&mut conn).expect("head").seq, 0, "{label}: nothing was appended");
    }
}

#[test]
fn the_database_refuses_to_change_or_remove_events() {
    for catalog in TestCatalog::all() {
        let label = catalog.label();
        let db = catalog.open();
        append_events(&db, 3);
        let mut refused = vec![
            "UPDATE audit_events SET reason = 'x' WHERE seq = 2",
            "DELETE FROM audit_events WHERE seq = 3",
            "UPDATE audit_head SET seq = 1 WHERE id = 1",
            "UPDATE audit_head SET hash = 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff' WHERE id = 1",
            "DELETE FROM audit_head",
        ];
        if matches!(catalog, TestCatalog::Postgres(_)) {
            // Statement-level triggers: even a statement that matches nothing is refused.
            refused.extend([
                "DELETE FROM audit_events WHERE seq = 99",
                "TRUNCATE audit_events",
                "TRUNCATE audit_head",
                "TRUNCATE audit_events CASCADE",
            ]);
        }
        for sql in refused {
            let result = execute(&db, sql);
            let message = result.as_ref().err().map(ToString::to_string).unwrap_or_default();
            assert!(result.is_err(), "{label}: {sql:?} was allowed");
            assert!(
                message.contains("append-only") || message.contains("audit_head"),
                "{label}: {sql:?} failed for another reason: {message}"
            );
        }
        assert_eq!(verify(&db, None).map(|h| h.seq), Ok(3), "{label}: the log is untouched");
    }
}

#[test]
fn an_altered_event_is_named() {
    for catalog in TestCatalog::all() {
        let db = catalog.open();
        append_events(&db, 10);
        as_superuser(&catalog, "UPDATE audit_events SET reason = 'nothing happened' WHERE seq = 5");
        assert_fails(&db, catalog.label(), 5, TamperKind::Altered);
    }
}

#[test]
fn an_altered_time_or_actor_is_named() {
    for catalog in TestCatalog::all() {
        let db = catalog.open();
        let events = append_events(&db, 6);
        let earlier = events[3].occurred_at - chrono::TimeDelta::hours(1);
        as_superuser(
            &catalog,
            &format!("UPDATE audit_events SET occurred_at = {} WHERE seq = 4", time_literal(&earlier)),
        );
        assert_fails(&db, catalog.label(), 4, TamperKind::Altered);
        as_superuser(&catalog, "UPDATE audit_events SET actor = 'system' WHERE seq = 2");
        assert_fails(&db, catalog.label(), 2, TamperKind::Altered);
    }
}

#[test]
fn a_deleted_event_is_named() {
    for catalog in TestCatalog::all() {
        let label = catalog.label();
        let db = catalog.open();
        append_events(&db, 10);
        as_superuser(&catalog, "DELETE FROM audit_events WHERE seq = 5");
        assert_fails(&db, label, 5, TamperKind::Missing);
    }
    // The last events, with the head record wound back to match, are caught by a checkpoint only;
    // left as it was, the head record catches it.
    for catalog in TestCatalog::all() {
        let db = catalog.open();
        append_events(&db, 10);
        as_superuser(&catalog, "DELETE FROM audit_events WHERE seq >= 9");
        assert_fails(&db, catalog.label(), 9, TamperKind::Missing);
    }
}

#[test]
fn swapped_events_are_named() {
    for catalog in TestCatalog::all() {
        let db = catalog.open();
        append_events(&db, 10);
        as_superuser(
            &catalog,
            "UPDATE audit_events SET seq = 1000003 WHERE seq = 3; \
             UPDATE audit_events SET seq = 3 WHERE seq = 7; \
             UPDATE audit_events SET seq = 7 WHERE seq = 1000003",
        );
        assert_fails(&db, catalog.label(), 3, TamperKind::Reordered);
    }
}

#[test]
fn an_event_inserted_in_the_middle_is_named() {
    for catalog in TestCatalog::all() {
        let label = catalog.label();
        let db = catalog.open();
        let events = append_events(&db, 10);
        // A forged event 5, properly chained to event 4, with the later events renumbered to
        // make room and the head record moved on: the strongest forgery short of re-chaining all.
        let prev = &events[3];
        let forged = EventFields {
            seq: 5,
            occurred_at: prev.occurred_at,
            actor: "mallory",
            actor_role: Some("admin"),
            action: "dataset.update",
            entity_type: "dataset",
            entity_id: Some("1"),
            before_json: None,
            after_json: Some(r#"{"owner":"mallory"}"#),
            reason: None,
            request_id: None,
            prev_hash: &prev.hash,
        };
        let hash = event_hash(&forged);
        as_superuser(
            &catalog,
            &format!(
                "UPDATE audit_events SET seq = seq + 1000000 WHERE seq >= 5; \
                 UPDATE audit_events SET seq = seq - 999999 WHERE seq >= 1000000; \
                 INSERT INTO audit_events (seq, occurred_at, actor, actor_role, action, entity_type, entity_id, \
                   after_json, prev_hash, hash) \
                 VALUES (5, {}, 'mallory', 'admin', 'dataset.update', 'dataset', '1', '{{\"owner\":\"mallory\"}}', {}, {}); \
                 UPDATE audit_head SET seq = 11 WHERE id = 1",
                time_literal(&forged.occurred_at),
                quote(&prev.hash),
                quote(&hash)
            ),
        );
        assert_fails(&db, label, 5, TamperKind::Inserted);
    }
}

#[test]
fn a_checkpoint_catches_a_rewrite_of_history() {
    for catalog in TestCatalog::all() {
        let label = catalog.label();
        let db = catalog.open();
        append_events(&db, 10);
        let key = SigningKey::generate();
        let checkpoint = Checkpoint::sign(&verify(&db, None).expect("intact"), now(), &key);
        assert!(verify(&db, Some(&checkpoint)).is_ok(), "{label}");
        append_events(&db, 2);
        assert_eq!(verify(&db, Some(&checkpoint)).map(|h| h.seq), Ok(12), "{label}: the log extends the checkpoint");

        // Rewrite from event 4 on: change it, recompute every later hash and the head record.
        let mut events: Vec<AuditEvent> = Vec::new();
        audit::for_each_batch(&mut db.reader().expect("reader"), &AuditFilter::default(), 0, 5, |rows| {
            events.extend(rows);
            std::ops::ControlFlow::Continue(())
        })
        .expect("read");
        events[3].reason = Some("history, improved".into());
        let mut sql = String::new();
        for i in 3..events.len() {
            events[i].prev_hash = events[i - 1].hash.clone();
            events[i].hash = event_hash(&events[i].fields());
            sql.push_str(&format!(
                "UPDATE audit_events SET reason = {}, prev_hash = {}, hash = {} WHERE seq = {};",
                events[i].reason.as_deref().map_or("NULL".into(), quote),
                quote(&events[i].prev_hash),
                quote(&events[i].hash),
                events[i].seq
            ));
        }
        sql.push_str(&format!("UPDATE audit_head SET hash = {} WHERE id = 1", quote(&events[11].hash)));
        as_superuser(&catalog, &sql);

        assert_eq!(verify(&db, None).map(|h| h.seq), Ok(12), "{label}: a consistent rewrite fools the chain alone");
        let e = verify(&db, Some(&checkpoint)).expect_err("the checkpoint catches the rewrite");
        assert_eq!((e.seq, e.kind), (10, TamperKind::CheckpointMismatch), "{label}: {e}");
    }
}

#[test]
fn an_event_goes_with_its_transaction() {
    for catalog in TestCatalog::all() {
        let label = catalog.label();
        let db = catalog.open();
        append_events(&db, 2);
        let mut conn = db.writer().expect("writer");
        let result: QueryResult<()> = write(&mut conn, |c| {
            audit::append(c, &sample(3), now())?;
            Err(diesel::result::Error::RollbackTransaction)
        });
        assert!(result.is_err(), "{label}");
        assert_eq!(audit::head(&mut conn).expect("head").seq, 2, "{label}: the head did not move");
        assert!(audit::find_event(&mut conn, 3).expect("find").is_none(), "{label}: no event 3");
        let next = write(&mut conn, |c| audit::append(c, &sample(3), now())).expect("append");
        assert_eq!(next.seq, 3, "{label}: the number was not used up");
        drop(conn);
        assert_eq!(verify(&db, None).map(|h| h.seq), Ok(3), "{label}");
    }
}

fn new_source(name: &str) -> NewSource {
    NewSource {
        name: name.into(),
        kind: "sqlite".into(),
        connection_kind: "url".into(),
        connection_ref: "/tmp/nowhere.db".into(),
        default_schema: "main".into(),
        description: None,
        owner: None,
        created_at: now(),
        updated_at: now(),
    }
}

#[test]
fn a_failing_audit_insert_rolls_the_change_back() {
    for catalog in TestCatalog::all() {
        let label = catalog.label();
        let db = catalog.open();
        append_events(&db, 1);
        // Make every audit insert fail, as a full disk or a broken constraint would.
        let break_audit = match catalog {
            TestCatalog::Sqlite { .. } => {
                "CREATE TRIGGER audit_events_broken BEFORE INSERT ON audit_events \
                 BEGIN SELECT RAISE(ABORT, 'the audit store is broken'); END"
            }
            TestCatalog::Postgres(_) => {
                "CREATE FUNCTION audit_events_broken() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN RAISE EXCEPTION 'the audit store is broken'; END $$; \
                 CREATE TRIGGER audit_events_broken BEFORE INSERT ON audit_events \
                 FOR EACH ROW EXECUTE FUNCTION audit_events_broken()"
            }
        };
        execute(&db, break_audit).expect("break the audit insert");
        let mut conn = db.writer().expect("writer");
        let result = write(&mut conn, |c| {
            let source = catalog::insert_source(c, &new_source("orders"))?;
            audit::append(c, &NewAuditEvent::new("alice", "source.create", "source").entity_id(source.id), now())
        });
        let message = result.as_ref().err().map(ToString::to_string).unwrap_or_default();
        assert!(message.contains("the audit store is broken"), "{label}: {result:?}");
        assert!(
            catalog::find_source_by_name(&mut conn, "orders").expect("find").is_none(),
            "{label}: the change was kept without its event"
        );
        assert_eq!(audit::head(&mut conn).expect("head").seq, 1, "{label}");

        let repair = match catalog {
            TestCatalog::Sqlite { .. } => "DROP TRIGGER audit_events_broken",
            TestCatalog::Postgres(_) => "DROP TRIGGER audit_events_broken ON audit_events",
        };
        conn.batch_execute(repair).expect("repair");
        let event = write(&mut conn, |c| {
            let source = catalog::insert_source(c, &new_source("orders"))?;
            audit::append(c, &NewAuditEvent::new("alice", "source.create", "source").entity_id(source.id), now())
        })
        .expect("append once repaired");
        assert_eq!(event.seq, 2, "{label}");
        assert!(catalog::find_source_by_name(&mut conn, "orders").expect("find").is_some(), "{label}");
    }
}

#[test]
fn bulk_appends_chain_like_single_ones() {
    for catalog in TestCatalog::all() {
        let label = catalog.label();
        let db = catalog.open();
        append_events(&db, 3);
        let batch: Vec<NewAuditEvent> = (4..=2_503).map(sample).collect();
        let mut conn = db.writer().expect("writer");
        let head = write(&mut conn, |c| audit::append_all(c, &batch, now())).expect("bulk append");
        assert_eq!(head.seq, 2_503, "{label}");
        drop(conn);
        assert_eq!(verify(&db, None), Ok(head), "{label}");
        append_events(&db, 1);
        assert_eq!(verify(&db, None).map(|h| h.seq), Ok(2_504), "{label}");
    }
}

#[test]
fn events_are_listed_with_filters_and_pages() {
    for catalog in TestCatalog::all() {
        let label = catalog.label();
        let db = catalog.open();
        let events = append_events(&db, 30);
        let mut conn = db.reader().expect("reader");
        let seqs = |page: &audit::EventPage| page.events.iter().map(|e| e.seq).collect::<Vec<_>>();

        let all = AuditFilter::default();
        let first = audit::list_events(&mut conn, &all, Cursor::Newest, 10).expect("list");
        assert_eq!(seqs(&first), (21..=30).rev().collect::<Vec<_>>(), "{label}");
        assert_eq!((first.older, first.newer), (Some(21), None), "{label}");
        let second = audit::list_events(&mut conn, &all, Cursor::Before(21), 10).expect("list");
        assert_eq!(seqs(&second), (11..=20).rev().collect::<Vec<_>>(), "{label}");
        assert_eq!((second.older, second.newer), (Some(11), Some(20)), "{label}");
        let last = audit::list_events(&mut conn, &all, Cursor::Before(11), 10).expect("list");
        assert_eq!((last.events.len(), last.older), (10, None), "{label}");
        let back = audit::list_events(&mut conn, &all, Cursor::After(20), 10).expect("list");
        assert_eq!(seqs(&back), (21..=30).rev().collect::<Vec<_>>(), "{label}");
        assert_eq!((back.older, back.newer), (Some(21), None), "{label}");
        assert_eq!(audit::count_events(&mut conn, &all).expect("count"), 30, "{label}");

        let by = |f: AuditFilter| {
            let page = audit::list_events(&mut conn_for(&db), &f, Cursor::Newest, 100).expect("list");
            let n = audit::count_events(&mut conn_for(&db), &f).expect("count");
            assert_eq!(page.events.len() as i64, n, "count agrees with the list");
            page.events.iter().map(|e| e.seq).collect::<Vec<_>>()
        };
        let alice = by(AuditFilter { actor: Some("alice".into()), ..AuditFilter::default() });
        assert_eq!(alice, (2..=30).rev().step_by(2).collect::<Vec<_>>(), "{label}");
        let family = by(AuditFilter { action: Some("source".into()), ..AuditFilter::default() });
        assert_eq!(family, (3..=30).rev().step_by(3).collect::<Vec<_>>(), "{label}");
        assert_eq!(by(AuditFilter { action: Some("source.create".into()), ..AuditFilter::default() }), family);
        assert!(by(AuditFilter { action: Some("sourc".into()), ..AuditFilter::default() }).is_empty(), "{label}");
        let entity = by(AuditFilter {
            entity_type: Some("dataset".into()),
            entity_id: Some("1".into()),
            ..AuditFilter::default()
        });
        assert_eq!(entity, vec![29, 25, 17, 13, 5, 1], "{label}");
        let history = audit::entity_history(&mut conn, "dataset", "1", 3).expect("history");
        assert_eq!(history.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![29, 25, 17], "{label}");
        let window = by(AuditFilter {
            from: Some(events[9].occurred_at),
            to: Some(events[14].occurred_at),
            ..AuditFilter::default()
        });
        assert_eq!(window, (10..=14).rev().collect::<Vec<_>>(), "{label}: from inclusive, to exclusive");
    }
}

fn conn_for(db: &Db) -> custodian::db::DbConn {
    db.reader().expect("reader")
}

// ---------------------------------------------------------------------------------------------
// The CLI, through the binary

struct Cli {
    code: i32,
    stdout: String,
    stderr: String,
}

fn cli(catalog: &TestCatalog, dir: &Path, args: &[&str]) -> Cli {
    let url = match catalog.url() {
        CatalogUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        CatalogUrl::Postgres(url) => url,
    };
    let out = Command::new(env!("CARGO_BIN_EXE_custodian"))
        .args(args)
        .current_dir(dir)
        .env("CUSTODIAN_DATABASE_URL", url)
        .env_remove("DATABASE_URL")
        .env_remove("CUSTODIAN_AUDIT_KEY_FILE")
        .env_remove("CUSTODIAN_LOG")
        .output()
        .expect("run custodian");
    #[cfg(unix)]
    let signal = std::os::unix::process::ExitStatusExt::signal(&out.status);
    #[cfg(not(unix))]
    let signal: Option<i32> = None;
    Cli {
        // Killed by a signal: 128 + its number, as a shell reports it.
        code: out.status.code().or(signal.map(|s| 128 + s)).unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn the_cli_keygen_checkpoint_verify_and_export() {
    for catalog in TestCatalog::all() {
        let label = catalog.label();
        let db = catalog.open();
        let dir = tempfile::tempdir().expect("tempdir");
        let key = dir.path().join("audit.key");
        let key_arg = key.to_str().expect("utf-8");

        let keygen = cli(&catalog, dir.path(), &["audit", "keygen", "--out", key_arg]);
        assert_eq!(keygen.code, 0, "{label}: {}", keygen.stderr);
        let public = std::fs::read_to_string(dir.path().join("audit.key.pub")).expect("public key file");
        assert!(keygen.stdout.contains(public.trim()), "{label}: {}", keygen.stdout);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).expect("key").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{label}: the key file is private");
        }
        let again = cli(&catalog, dir.path(), &["audit", "keygen", "--out", key_arg]);
        assert_ne!(again.code, 0, "{label}: an existing key was overwritten");

        let empty = cli(&catalog, dir.path(), &["audit", "checkpoint", "--out", "cp.json", "--key-file", key_arg]);
        assert_ne!(empty.code, 0, "{label}: an empty log was checkpointed");

        append_events(&db, 8);
        let ok = cli(&catalog, dir.path(), &["audit", "verify"]);
        assert_eq!(ok.code, 0, "{label}: {}", ok.stderr);
        assert!(ok.stdout.contains("intact: 8 events"), "{label}: {}", ok.stdout);

        let cp = cli(&catalog, dir.path(), &["audit", "checkpoint", "--out", "cp.json", "--key-file", key_arg]);
        assert_eq!(cp.code, 0, "{label}: {}", cp.stderr);
        let extends =
            cli(&catalog, dir.path(), &["audit", "verify", "--checkpoint", "cp.json", "--public-key", public.trim()]);
        assert_eq!(extends.code, 0, "{label}: {}", extends.stderr);
        assert!(extends.stdout.contains("extends the checkpoint of event 8"), "{label}: {}", extends.stdout);
        // The key file's public half is used when no public key is given.
        let with_key =
            cli(&catalog, dir.path(), &["audit", "verify", "--checkpoint", "cp.json", "--key-file", key_arg]);
        assert_eq!(with_key.code, 0, "{label}: {}", with_key.stderr);

        // Another key did not sign it.
        let other = dir.path().join("other.key");
        assert_eq!(cli(&catalog, dir.path(), &["audit", "keygen", "--out", other.to_str().expect("utf-8")]).code, 0);
        let other_pub = dir.path().join("other.key.pub");
        let wrong = cli(
            &catalog,
            dir.path(),
            &["audit", "verify", "--checkpoint", "cp.json", "--public-key", other_pub.to_str().expect("utf-8")],
        );
        assert_eq!(wrong.code, 3, "{label}: {}", wrong.stderr);
        assert!(wrong.stderr.contains("cannot be trusted"), "{label}: {}", wrong.stderr);
        // An edited checkpoint.
        let text = std::fs::read_to_string(dir.path().join("cp.json")).expect("checkpoint");
        std::fs::write(dir.path().join("edited.json"), text.replace("\"seq\": 8", "\"seq\": 7")).expect("write");
        let edited =
            cli(&catalog, dir.path(), &["audit", "verify", "--checkpoint", "edited.json", "--key-file", key_arg]);
        assert_eq!(edited.code, 3, "{label}: {}", edited.stderr);

        // Export both ways.
        let jsonl = cli(&catalog, dir.path(), &["audit", "export", "--format", "jsonl"]);
        assert_eq!(jsonl.code, 0, "{label}: {}", jsonl.stderr);
        let lines: Vec<serde_json::Value> =
            jsonl.stdout.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
        // Eight events, and the one that records the checkpoint.
        assert_eq!(lines.len(), 9, "{label}");
        assert_eq!(lines[8]["action"], "audit.checkpoint", "{label}");
        assert_eq!(lines[8]["after"]["seq"], 8, "{label}");
        assert_eq!(lines[1]["seq"], 2, "{label}");
        assert_eq!(lines[1]["actor"], "alice", "{label}");
        assert_eq!(lines[1]["before"]["description"], "d1", "{label}");
        let csv =
            cli(&catalog, dir.path(), &["audit", "export", "--format", "csv", "--out", "log.csv", "--actor", "bob"]);
        assert_eq!(csv.code, 0, "{label}: {}", csv.stderr);
        let csv = std::fs::read_to_string(dir.path().join("log.csv")).expect("csv");
        assert!(csv.starts_with("seq,occurred_at,actor,"), "{label}: {csv}");
        assert_eq!(csv.matches("\r\n").count(), 1 + 4, "{label}: header and bob's 4 events:\n{csv}");
        assert!(
            csv.contains(r#""{""description"":""d1, \""quoted\""\nsecond line"",""owner"":null}""#),
            "{label}: {csv}"
        );

        // Tampering: verify fails naming the event, and no checkpoint vouches for it.
        as_superuser(&catalog, "UPDATE audit_events SET entity_id = '99' WHERE seq = 6");
        let bad = cli(&catalog, dir.path(), &["audit", "verify"]);
        assert_eq!(bad.code, 3, "{label}: {}", bad.stdout);
        assert!(bad.stderr.contains("fails verification at event 6 (altered)"), "{label}: {}", bad.stderr);
        let refused = cli(&catalog, dir.path(), &["audit", "checkpoint", "--out", "cp2.json", "--key-file", key_arg]);
        assert_eq!(refused.code, 3, "{label}: {}", refused.stderr);
        assert!(!dir.path().join("cp2.json").exists(), "{label}");
    }
}
