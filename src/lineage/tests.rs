//! Table-driven tests of the lineage extractor, on SQL written for these tests.

use super::*;

fn opts(dialect: &str, view: View) -> Options {
    let mut o = Options::new(dialect);
    o.view = view;
    o
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn tables(l: &Lineage) -> (Vec<String>, Vec<String>) {
    (sorted(l.sources.clone()), sorted(l.targets.clone()))
}

fn pairs(l: &Lineage) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = l.column_edges.iter().map(|e| (e.source.clone(), e.target.clone())).collect();
    v.sort();
    v
}

fn strs(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

fn cols(v: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    v.sort();
    v
}

struct Case {
    name: &'static str,
    dialect: &'static str,
    view: View,
    sql: &'static str,
    sources: &'static [&'static str],
    targets: &'static [&'static str],
    /// `None`: columns not checked.
    columns: Option<&'static [(&'static str, &'static str)]>,
}

const FLOW: View = View::Flow;
const EFFECTS: View = View::Effects;

fn check(cases: &[Case]) {
    let mut failures = Vec::new();
    for c in cases {
        let l = analyze(c.sql, &opts(c.dialect, c.view));
        let (src, tgt) = tables(&l);
        let mut ok = src == strs(c.sources) && tgt == strs(c.targets);
        if let Some(expected) = c.columns {
            ok &= pairs(&l) == cols(expected);
        }
        if !ok {
            failures.push(format!(
                "{}: sources {:?} targets {:?} columns {:?} errors {:?}",
                c.name,
                src,
                tgt,
                pairs(&l),
                l.errors
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn single_statements_flow() {
    check(&[
        Case {
            name: "insert select with alias and rename",
            dialect: "ansi",
            view: FLOW,
            sql: "INSERT INTO mart.orders_by_day SELECT o.day AS order_day, o.total FROM raw.orders AS o",
            sources: &["raw.orders"],
            targets: &["mart.orders_by_day"],
            columns: Some(&[
                ("raw.orders.day", "mart.orders_by_day.order_day"),
                ("raw.orders.total", "mart.orders_by_day.total"),
            ]),
        },
        Case {
            name: "insert column list maps by position",
            dialect: "postgres",
            view: FLOW,
            sql: "insert into audit (who, amount) select user_name, price * qty from sales",
            sources: &["sales"],
            targets: &["audit"],
            columns: Some(&[
                ("sales.price", "audit.amount"),
                ("sales.qty", "audit.amount"),
                ("sales.user_name", "audit.who"),
            ]),
        },
        Case {
            name: "ctas with aggregate, case and window",
            dialect: "snowflake",
            view: FLOW,
            sql: "create table stats as select region, sum(amount) as total, \
                  case when flag then a else b end as pick, \
                  rank() over (partition by region order by ts) as rnk from facts group by region",
            sources: &["facts"],
            targets: &["stats"],
            columns: Some(&[
                ("facts.a", "stats.pick"),
                ("facts.amount", "stats.total"),
                ("facts.b", "stats.pick"),
                ("facts.flag", "stats.pick"),
                ("facts.region", "stats.region"),
                ("facts.region", "stats.rnk"),
                ("facts.ts", "stats.rnk"),
            ]),
        },
        Case {
            name: "cte chain and nested subquery",
            dialect: "generic",
            view: FLOW,
            sql: "insert into out_t with a as (select id, v from src1), b as (select id, v * 2 as w from a) \
                  select b.id, x.w2 from b join (select id, w as w2 from b) x on b.id = x.id",
            sources: &["src1"],
            targets: &["out_t"],
            columns: Some(&[("src1.id", "out_t.id"), ("src1.v", "out_t.w2")]),
        },
        Case {
            name: "recursive cte",
            dialect: "postgres",
            view: FLOW,
            sql: "insert into tree_paths with recursive t(id, parent) as (\
                  select id, parent_id from nodes union all \
                  select n.id, t.parent from nodes n join t on n.parent_id = t.id) select id, parent from t",
            sources: &["nodes"],
            targets: &["tree_paths"],
            columns: Some(&[("nodes.id", "tree_paths.id"), ("nodes.parent_id", "tree_paths.parent")]),
        },
        Case {
            name: "union branches merge by position",
            dialect: "generic",
            view: FLOW,
            sql: "insert into all_people select name from staff union all select full_name from guests",
            sources: &["guests", "staff"],
            targets: &["all_people"],
            columns: Some(&[("guests.full_name", "all_people.name"), ("staff.name", "all_people.name")]),
        },
        Case {
            name: "star without schema knowledge",
            dialect: "generic",
            view: FLOW,
            sql: "insert into copy_t select * from orig_t",
            sources: &["orig_t"],
            targets: &["copy_t"],
            columns: Some(&[("orig_t.*", "copy_t.*")]),
        },
        Case {
            name: "unqualified column in a join stays unresolved without schema",
            dialect: "generic",
            view: FLOW,
            sql: "insert into tgt select k from left_t join right_t on left_t.id = right_t.id",
            sources: &["left_t", "right_t"],
            targets: &["tgt"],
            columns: Some(&[("k", "tgt.k")]),
        },
        Case {
            name: "update from",
            dialect: "postgres",
            view: FLOW,
            sql: "update inv i set qty = i.qty + n.qty, note = 'x' from arrivals n where i.sku = n.sku",
            sources: &["arrivals"],
            targets: &["inv"],
            columns: Some(&[("arrivals.qty", "inv.qty"), ("inv.qty", "inv.qty")]),
        },
        Case {
            name: "merge update and insert",
            dialect: "snowflake",
            view: FLOW,
            sql: "merge into dim d using (select id, max(name) as nm from stage group by id) s on d.id = s.id \
                  when matched then update set d.name = s.nm \
                  when not matched then insert (id, name) values (s.id, s.nm)",
            sources: &["stage"],
            targets: &["dim"],
            columns: Some(&[("stage.id", "dim.id"), ("stage.name", "dim.name")]),
        },
        Case {
            name: "select into",
            dialect: "mssql",
            view: FLOW,
            sql: "SELECT a, b INTO new_t FROM old_t",
            sources: &["old_t"],
            targets: &["new_t"],
            columns: Some(&[("old_t.a", "new_t.a"), ("old_t.b", "new_t.b")]),
        },
        Case {
            name: "view with column list",
            dialect: "postgres",
            view: FLOW,
            sql: "create materialized view mv (c1, c2) as select x, y from base",
            sources: &["base"],
            targets: &["mv"],
            columns: Some(&[("base.x", "mv.c1"), ("base.y", "mv.c2")]),
        },
        Case {
            name: "copy from a path",
            dialect: "redshift",
            view: FLOW,
            sql: "copy events from 's3://bucket/events/' iam_role 'arn:aws:iam::1:role/r'",
            sources: &["s3://bucket/events/"],
            targets: &["events"],
            columns: None,
        },
        Case {
            name: "unload a query to a path",
            dialect: "redshift",
            view: FLOW,
            sql: "unload ('select * from sales_history') to 's3://bucket/out_' iam_role 'arn:x'",
            sources: &["sales_history"],
            targets: &["s3://bucket/out_"],
            columns: None,
        },
        Case {
            name: "snowflake identifier() with literal and with parameter",
            dialect: "snowflake",
            view: FLOW,
            sql: "insert into identifier('db.s.target') select c from identifier($src)",
            sources: &[],
            targets: &["db.s.target"],
            columns: None,
        },
        Case {
            name: "plain select has sources, no targets, no columns in flow",
            dialect: "bigquery",
            view: FLOW,
            sql: "select x.a from `proj.ds.tbl` x, unnest(x.items) as item",
            sources: &["proj.ds.tbl"],
            targets: &[],
            columns: Some(&[]),
        },
        Case {
            name: "delete moves no data in flow",
            dialect: "postgres",
            view: FLOW,
            sql: "delete from t where id in (select id from s)",
            sources: &[],
            targets: &[],
            columns: Some(&[]),
        },
        Case {
            name: "hive lateral view",
            dialect: "hive",
            view: FLOW,
            sql: "insert overwrite table flat select b.id, e.item from base b lateral view explode(b.items) e as item",
            sources: &["base"],
            targets: &["flat"],
            columns: Some(&[("base.id", "flat.id"), ("base.items", "flat.item")]),
        },
    ]);
}

#[test]
fn scripts_flow_resolve_intermediate_tables() {
    check(&[
        Case {
            name: "a -> tmp -> b composes columns",
            dialect: "generic",
            view: FLOW,
            sql: "create table tmp as select id, upper(name) as nm from a;\n\
                  insert into b select id, nm from tmp;",
            sources: &["a"],
            targets: &["b"],
            columns: Some(&[("a.id", "b.id"), ("a.name", "b.nm")]),
        },
        Case {
            name: "drop ends a temporary table",
            dialect: "generic",
            view: FLOW,
            sql: "create table t1 as select * from src; insert into dst select * from t1; drop table t1",
            sources: &["src"],
            targets: &["dst"],
            columns: Some(&[("src.*", "dst.*")]),
        },
        Case {
            name: "created then dropped leaves nothing",
            dialect: "generic",
            view: FLOW,
            sql: "create table scratch as select 1 as one; drop table scratch",
            sources: &[],
            targets: &[],
            columns: None,
        },
        Case {
            name: "rename moves the written table",
            dialect: "postgres",
            view: FLOW,
            sql: "insert into staging select * from feed; alter table staging rename to live",
            sources: &["feed"],
            targets: &["live"],
            columns: None,
        },
        Case {
            name: "reading a table renamed from an external one reads the original",
            dialect: "mysql",
            view: FLOW,
            sql: "rename table old_name to new_name; insert into report select * from new_name",
            sources: &["old_name"],
            targets: &["report"],
            columns: None,
        },
        Case {
            name: "swap brings the staged data into the live name",
            dialect: "snowflake",
            view: FLOW,
            sql: "create table t_next as select * from src; alter table t_live swap with t_next",
            sources: &["src"],
            targets: &["t_live"],
            columns: None,
        },
        Case {
            name: "self insert is a source and a target",
            dialect: "hive",
            view: FLOW,
            sql: "insert overwrite table acc select k, v from acc where v is not null",
            sources: &["acc"],
            targets: &["acc"],
            columns: Some(&[("acc.k", "acc.k"), ("acc.v", "acc.v")]),
        },
        Case {
            name: "update then read keeps the original table as source",
            dialect: "generic",
            view: FLOW,
            sql: "update t set flag = 1; insert into u select id, flag from t",
            sources: &["t"],
            targets: &["u"],
            columns: Some(&[("t.id", "u.id")]),
        },
        Case {
            name: "procedure body is one statement (bigquery BEGIN ... END)",
            dialect: "bigquery",
            view: FLOW,
            sql: "CREATE PROCEDURE p()\nBEGIN\nINSERT INTO t2 (c) SELECT c FROM t1;\nINSERT INTO t3 (d) SELECT d FROM t2;\nEND",
            sources: &["t1", "t2"],
            targets: &["t2", "t3"],
            columns: Some(&[("t1.c", "t2.c"), ("t2.d", "t3.d")]),
        },
    ]);
}

#[test]
fn effects_view() {
    check(&[
        Case {
            name: "plain select gives bare output names and positions",
            dialect: "postgres",
            view: EFFECTS,
            sql: "SELECT t.a, b AS bee, a + b FROM tt t",
            sources: &["tt"],
            targets: &[],
            columns: Some(&[("tt.a", "_2"), ("tt.a", "a"), ("tt.b", "_2"), ("tt.b", "bee")]),
        },
        Case {
            name: "delete with join and subquery",
            dialect: "mysql",
            view: EFFECTS,
            sql: "DELETE x FROM items AS x JOIN blocked AS b ON x.id = b.id WHERE x.k IN (SELECT k FROM keys_t)",
            sources: &["blocked", "keys_t"],
            targets: &["items"],
            columns: None,
        },
        Case {
            name: "intermediate tables are listed",
            dialect: "generic",
            view: EFFECTS,
            sql: "create table tmp as select * from a; insert into b select * from tmp; drop table tmp; truncate table c",
            sources: &["a", "tmp"],
            targets: &["b", "c", "tmp"],
            columns: None,
        },
        Case {
            name: "swap lists both tables on both sides",
            dialect: "snowflake",
            view: EFFECTS,
            sql: "ALTER TABLE a SWAP WITH b",
            sources: &["a", "b"],
            targets: &["a", "b"],
            columns: None,
        },
        Case {
            name: "merge reads its source and ON subqueries",
            dialect: "postgres",
            view: EFFECTS,
            sql: "MERGE INTO tgt USING src ON tgt.id IN (SELECT id FROM allow_list) WHEN MATCHED THEN UPDATE SET v = src.v",
            sources: &["allow_list", "src"],
            targets: &["tgt"],
            columns: None,
        },
    ]);
}

#[test]
fn names_are_completed_from_defaults_and_use() {
    let mut o = opts("generic", FLOW);
    o.default_schema = Some("ods".into());
    o.default_db = Some("wh".into());
    let l = analyze("insert into t select * from s.x join y on 1 = 1", &o);
    assert_eq!(tables(&l), (strs(&["wh.ods.y", "wh.s.x"]), strs(&["wh.ods.t"])));

    let l = analyze("use sales; insert into t select * from x; use db2.fin; select * from y", &opts("snowflake", FLOW));
    assert_eq!(tables(&l), (strs(&["db2.fin.y", "sales.x"]), strs(&["sales.t"])));

    let l = analyze("set search_path = reporting, public; select * from kpis", &opts("postgres", FLOW));
    assert_eq!(l.sources, vec!["reporting.kpis".to_string()]);
}

#[test]
fn schema_knowledge_expands_stars_and_attributes_columns() {
    let mut o = opts("generic", FLOW);
    o.schema.insert("crm.people".into(), vec!["pid".into(), "email".into()]);
    o.schema.insert("crm.orders".into(), vec!["oid".into(), "pid".into(), "amount".into()]);
    o.schema.insert("mk.audience".into(), vec!["person".into(), "contact".into()]);
    let l = analyze(
        "insert into mk.audience select p.pid, email from crm.people p join crm.orders o on o.pid = p.pid;\
         insert into mk.copy select o.* from crm.orders o",
        &o,
    );
    assert_eq!(
        pairs(&l),
        cols(&[
            ("crm.orders.amount", "mk.copy.amount"),
            ("crm.orders.oid", "mk.copy.oid"),
            ("crm.orders.pid", "mk.copy.pid"),
            ("crm.people.email", "mk.audience.contact"),
            ("crm.people.pid", "mk.audience.person"),
        ])
    );
    let kinds: Vec<EdgeKind> = l.column_edges.iter().map(|e| e.kind).collect();
    assert!(kinds.iter().all(|k| *k == EdgeKind::Identity));
}

#[test]
fn edge_kinds() {
    let l = analyze("insert into r select a, a + 1 as b, count(c) as n from s group by a", &opts("generic", FLOW));
    let kind_of = |t: &str| l.column_edges.iter().find(|e| e.target == t).map(|e| e.kind);
    assert_eq!(kind_of("r.a"), Some(EdgeKind::Identity));
    assert_eq!(kind_of("r.b"), Some(EdgeKind::Transform));
    assert_eq!(kind_of("r.n"), Some(EdgeKind::Aggregate));
}

#[test]
fn analyzer_options() {
    let mut o = opts("generic", FLOW);
    o.lateral_column_alias_reference = true;
    let l = analyze("insert into t select a as x, x || b as y from s", &o);
    assert_eq!(pairs(&l), cols(&[("s.a", "t.x"), ("s.a", "t.y"), ("s.b", "t.y")]));

    let mut o = opts("tsql", FLOW);
    o.tsql_no_semicolon = true;
    let l = analyze("insert into a select * from b\ninsert into c select * from d", &o);
    assert_eq!(tables(&l), (strs(&["b", "d"]), strs(&["a", "c"])));
    assert!(l.errors.is_empty());
}

#[test]
fn parse_errors_are_positioned_and_do_not_stop_the_script() {
    let sql = "insert into a select x from b;\n\nselect a, from where;\ninsert into c select y from d;";
    let l = analyze(sql, &opts("postgres", FLOW));
    assert_eq!(tables(&l), (strs(&["b", "d"]), strs(&["a", "c"])));
    assert_eq!(l.errors.len(), 1);
    let e = &l.errors[0];
    assert_eq!(e.statement, 2);
    // Line and column are where the parser stopped, inside the bad statement.
    assert_eq!(e.line, 3);
    assert!(e.column >= 8 && e.column <= 21, "{e:?}");
    assert!(!e.message.is_empty());
    assert_eq!(l.statements.len(), 3);
    assert_eq!(l.statements[1].start_line, 3);
    assert_eq!(l.statements[2].start_line, 4);
    assert_eq!(l.statements[0].status, StatementStatus::Parsed);
}

#[test]
fn unparsable_statement_falls_back_to_flagged_token_scan() {
    let sql = "insert into target_t select a ++ b ++ from source_t join other_t on ???";
    let l = analyze(sql, &opts("postgres", FLOW));
    assert!(l.degraded);
    assert_eq!(l.statements[0].status, StatementStatus::Degraded);
    assert_eq!(l.errors.len(), 1);
    assert_eq!(tables(&l), (strs(&["other_t", "source_t"]), strs(&["target_t"])));
}

#[test]
fn neighbour_dialect_and_repairs_recover() {
    // T-SQL compound assignment is repaired; the update's alias resolves to its table.
    let l = analyze(
        "UPDATE r SET r.Name += 'x' FROM Prod.Reason AS r JOIN Prod.Orders AS o ON r.id = o.rid",
        &opts("tsql", FLOW),
    );
    assert_eq!(tables(&l), (strs(&["prod.orders"]), strs(&["prod.reason"])));
    assert_eq!(l.statements[0].status, StatementStatus::Recovered);
    // Spark's CREATE TABLE ... SELECT without AS.
    let l = analyze("CREATE TABLE t2 SELECT * FROM t1", &opts("sparksql", FLOW));
    assert_eq!(tables(&l), (strs(&["t1"]), strs(&["t2"])));
}

#[test]
fn constructs_sqlparser_rejects_are_fixed_before_parsing() {
    // BigQuery's typed array literal of structs, and Hive's `date + 30 days`: parsed at
    // once, no error reported, lineage complete.
    let l = analyze(
        "INSERT INTO t SELECT ARRAY<STRUCT<k STRING, v INT64>>[('a', s.x), ('b', s.y)] AS kv FROM s",
        &opts("bigquery", FLOW),
    );
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    assert_eq!(l.statements[0].status, StatementStatus::Parsed);
    assert_eq!(pairs(&l), cols(&[("s.x", "t.kv"), ("s.y", "t.kv")]));
    let l = analyze(
        "insert into t select a from s where d between cast('2000-01-01' as date) and (cast('2000-01-01' as date) + 30 days)",
        &opts("hive", FLOW),
    );
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    assert_eq!(tables(&l), (strs(&["s"]), strs(&["t"])));
}

#[test]
fn unknown_dialect_warns_and_uses_generic() {
    let l = analyze("select a from b", &opts("no-such-sql", FLOW));
    assert_eq!(l.sources, vec!["b".to_string()]);
    assert_eq!(l.warnings.len(), 1);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let depth = 5000;
    let sql = format!("select {}1{} from t", "(".repeat(depth), ")".repeat(depth));
    let l = analyze(&sql, &opts("generic", FLOW));
    assert_eq!(l.errors.len(), 1);
    let long_chain = format!("insert into t select {} from s", vec!["a"; 20000].join(" + "));
    let l = analyze(&long_chain, &opts("generic", FLOW));
    assert_eq!(l.targets, vec!["t".to_string()]);
}

/// Deterministic pseudo-random generator (no external crates in tests).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn random_and_truncated_inputs_never_panic() {
    let script = "WITH a AS (SELECT x, 'q;''s' AS s FROM t1 /* c; */) -- note\n\
                  INSERT INTO t2 (x, s) SELECT x, s FROM a;\n\
                  CREATE PROCEDURE p() BEGIN SELECT $$a;b$$; END;\n\
                  MERGE INTO t3 USING t2 ON t3.x = t2.x WHEN MATCHED THEN UPDATE SET s = t2.s;\n\
                  COPY INTO t4 FROM @stage/path; ALTER TABLE t4 SWAP WITH t5; DROP TABLE t2;";
    let dialects = ["generic", "postgres", "tsql", "bigquery", "snowflake", "hive", "mysql"];
    let mut checked = 0;
    for (i, end) in script.char_indices().map(|(i, _)| i).enumerate() {
        let d = dialects[i % dialects.len()];
        for view in [FLOW, EFFECTS] {
            let l = analyze(&script[..end], &opts(d, view));
            let lines = script[..end].lines().count().max(1);
            for e in &l.errors {
                assert!(e.statement >= 1 && e.statement <= l.statements.len());
                assert!(e.line >= 1 && e.line <= lines, "{e:?}");
            }
            checked += 1;
        }
    }
    let alphabet: Vec<char> = "selct frominsrtwhj(),.;'\"`[]$-/*\n\t@:=<>0123456789abcdXYZ".chars().collect();
    let mut rng = Lcg(42);
    for i in 0..400 {
        let len = (rng.next() % 200) as usize;
        let s: String = (0..len).map(|_| alphabet[(rng.next() as usize) % alphabet.len()]).collect();
        let l = analyze(&s, &opts(dialects[i % dialects.len()], FLOW));
        assert!(l.errors.len() <= l.statements.len());
        checked += 1;
    }
    assert!(checked > 400);
}

#[test]
fn views_differ_on_unreferenced_ctes_and_renames() {
    let sql = "with unused as (select * from audit_log) select id from orders";
    let flow = analyze(sql, &opts("generic", FLOW));
    assert_eq!(tables(&flow).0, strs(&["audit_log", "orders"]));
    let effects = analyze(sql, &opts("generic", EFFECTS));
    assert_eq!(tables(&effects).0, strs(&["orders"]));

    let rename = "alter table old_t rename to new_t";
    assert_eq!(tables(&analyze(rename, &opts("postgres", EFFECTS))), (strs(&["old_t"]), strs(&["new_t"])));
    assert_eq!(tables(&analyze(rename, &opts("postgres", FLOW))), (strs(&[]), strs(&[])));
}

#[test]
fn statement_heads_sqlparser_rejects_are_recovered() {
    check(&[
        Case {
            name: "hive exchange partition moves data",
            dialect: "hive",
            view: FLOW,
            sql: "ALTER TABLE live_t EXCHANGE PARTITION (ds='2024-01-01') WITH TABLE staged_t",
            sources: &["staged_t"],
            targets: &["live_t"],
            columns: None,
        },
        Case {
            name: "parenthesised WITH query after INSERT INTO",
            dialect: "generic",
            view: FLOW,
            sql: "INSERT INTO dst (WITH c AS (SELECT k FROM src) SELECT k FROM c)",
            sources: &["src"],
            targets: &["dst"],
            columns: Some(&[("src.k", "dst.k")]),
        },
        Case {
            name: "spark CREATE TABLE ... USING ... AS SELECT",
            dialect: "sparksql",
            view: FLOW,
            sql: "CREATE TABLE out_t USING delta AS SELECT a FROM in_t",
            sources: &["in_t"],
            targets: &["out_t"],
            columns: Some(&[("in_t.a", "out_t.a")]),
        },
        Case {
            name: "hive multi-insert keeps both targets and the shared source",
            dialect: "hive",
            view: FLOW,
            sql: "FROM events INSERT OVERWRITE TABLE clicks SELECT id INSERT OVERWRITE TABLE views SELECT id",
            sources: &["events"],
            targets: &["clicks", "views"],
            columns: None,
        },
        Case {
            name: "bigquery typed array literal",
            dialect: "bigquery",
            view: FLOW,
            sql: "CREATE TABLE ds.t AS SELECT ARRAY<STRUCT<k STRING, v INT64>>[('a', 1)] AS kv, id FROM ds.s",
            sources: &["ds.s"],
            targets: &["ds.t"],
            columns: Some(&[("ds.s.id", "ds.t.id")]),
        },
    ]);
}

#[test]
fn wildcard_modifiers() {
    let mut o = opts("snowflake", FLOW);
    o.schema.insert("s.src".into(), vec!["id".into(), "pii".into(), "x".into()]);
    let l = analyze("create table s.dst as select * exclude (pii) rename (x as y) from s.src", &o);
    assert_eq!(pairs(&l), cols(&[("s.src.id", "s.dst.id"), ("s.src.x", "s.dst.y")]));
}

#[test]
fn exports_and_multi_table_inserts() {
    check(&[
        Case {
            name: "bigquery export data to a uri",
            dialect: "bigquery",
            view: FLOW,
            sql: "EXPORT DATA OPTIONS(uri='gs://bkt/out/*.csv', format='CSV') AS SELECT a FROM ds.t",
            sources: &["ds.t"],
            targets: &["gs://bkt/out/*.csv"],
            columns: None,
        },
        Case {
            name: "snowflake insert all",
            dialect: "snowflake",
            view: FLOW,
            sql: "INSERT ALL INTO t1 (a) VALUES (x) INTO t2 (b) VALUES (y) SELECT x, y FROM src",
            sources: &["src"],
            targets: &["t1", "t2"],
            columns: None,
        },
    ]);
}
