//! `custodian lineage`: prints the lineage of SQL files (single mode) or answers JSON Lines
//! requests (batch mode), as specified in `LINEAGE.md`.

use crate::lineage::{self, Lineage, Options, SchemaKnowledge, View};
use anyhow::Context;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

/// Arguments of `custodian lineage`.
#[derive(Debug, Clone, clap::Args)]
pub struct LineageArgs {
    /// SQL dialect (ansi, postgres, snowflake, bigquery, tsql, sparksql, ...).
    #[arg(long, default_value = "generic")]
    pub dialect: String,
    /// Which lineage to report: `flow` (where written data comes from) or `effects`
    /// (what is read and what is changed).
    #[arg(long, default_value = "flow")]
    pub view: View,
    /// Schema that unqualified table names live in.
    #[arg(long)]
    pub default_schema: Option<String>,
    /// Database (catalog) that table names without one live in.
    #[arg(long)]
    pub default_db: Option<String>,
    /// JSON object `{"schema.table": ["col", ...]}` for star expansion and column attribution.
    #[arg(long)]
    pub schema_file: Option<std::path::PathBuf>,
    /// Analyzer switch KEY=VALUE (lateral_column_alias_reference, tsql_no_semicolon).
    #[arg(long = "option", value_name = "KEY=VALUE")]
    pub options: Vec<String>,
    /// Read JSON Lines requests on stdin and answer one line each, in request order.
    #[arg(long)]
    pub batch: bool,
    /// Requests analysed at once in batch mode (default: the machine's cores).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// SQL file to analyse, or `-` for standard input.
    pub sqlfile: Option<String>,
}

/// Runs the command. Parse errors in the SQL are part of the output, not failures.
pub fn run(args: LineageArgs) -> anyhow::Result<ExitCode> {
    // Deeply nested SQL makes deep syntax trees: analyse on a thread with a large stack.
    let handle = std::thread::Builder::new()
        .name("lineage".into())
        .stack_size(lineage::ANALYSIS_STACK)
        .spawn(move || if args.batch { run_batch(&args) } else { run_single(&args) })
        .context("cannot start the analysis thread")?;
    match handle.join() {
        Ok(result) => result,
        Err(_) => anyhow::bail!("lineage analysis crashed"),
    }
}

fn run_single(args: &LineageArgs) -> anyhow::Result<ExitCode> {
    let sql = match args.sqlfile.as_deref() {
        None | Some("-") => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).context("cannot read SQL from standard input")?;
            s
        }
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("cannot read {path}"))?;
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    let mut options = Options::new(&args.dialect);
    options.view = args.view;
    options.default_schema = args.default_schema.clone();
    options.default_db = args.default_db.clone();
    if let Some(path) = &args.schema_file {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("cannot read schema file {}", path.display()))?;
        let value: Value =
            serde_json::from_str(&text).with_context(|| format!("schema file {} is not JSON", path.display()))?;
        options.schema = schema_from_json(&value);
    }
    for kv in &args.options {
        let (k, v) = kv.split_once('=').unwrap_or((kv.as_str(), "true"));
        if !options.set_option(k, v) {
            eprintln!("warning: unknown option `{k}` ignored");
        }
    }
    let lineage = lineage::analyze(&sql, &options);
    for w in &lineage.warnings {
        eprintln!("warning: {w}");
    }
    let out = full_json(&lineage);
    let mut stdout = std::io::stdout().lock();
    serde_json::to_writer(&mut stdout, &out).context("cannot write the result")?;
    writeln!(stdout).context("cannot write the result")?;
    Ok(ExitCode::SUCCESS)
}

/// `{"schema.table": ["col", ...]}`; anything else in the object is ignored.
pub fn schema_from_json(value: &Value) -> SchemaKnowledge {
    let mut schema = SchemaKnowledge::new();
    if let Some(obj) = value.as_object() {
        for (table, cols) in obj {
            let cols: Vec<String> = cols
                .as_array()
                .map(|a| a.iter().filter_map(|c| c.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            schema.insert(table.clone(), cols);
        }
    }
    schema
}

fn column_pairs(lineage: &Lineage) -> Value {
    Value::Array(lineage.column_edges.iter().map(|e| json!([e.source, e.target])).collect())
}

fn full_json(lineage: &Lineage) -> Value {
    json!({
        "sources": lineage.sources,
        "targets": lineage.targets,
        "column_lineage": column_pairs(lineage),
        "statements": lineage.statements,
        "errors": lineage.errors,
        "degraded": lineage.degraded,
    })
}

fn run_batch(args: &LineageArgs) -> anyhow::Result<ExitCode> {
    // Written by whichever worker completes the next answer in order.
    let mut stdout = std::io::BufWriter::new(std::io::stdout());
    let mut written = Ok(());
    let read_error = Arc::new(Mutex::new(None));
    let requests = StdinLines { stdin: std::io::stdin(), failed: Arc::clone(&read_error) };
    let threads = args.jobs.unwrap_or_else(crate::parallel::threads);
    crate::parallel::ordered_map(
        requests,
        threads,
        lineage::ANALYSIS_STACK,
        |line| answer_request(&line, args),
        |answer| {
            if written.is_ok() {
                written = serde_json::to_writer(&mut stdout, &answer)
                    .map_err(std::io::Error::from)
                    .and_then(|_| stdout.write_all(b"\n"))
                    .and_then(|_| stdout.flush());
            }
        },
    )
    .context("cannot start the analysis threads")?;
    if let Some(e) = read_error.lock().ok().and_then(|mut e| e.take()) {
        return Err(e).context("cannot read requests from standard input");
    }
    written.context("cannot write an answer")?;
    Ok(ExitCode::SUCCESS)
}

/// Non-blank lines of standard input, read as they come.
struct StdinLines {
    stdin: std::io::Stdin,
    /// The read error that ended the requests, if one did.
    failed: Arc<Mutex<Option<std::io::Error>>>,
}

impl Iterator for StdinLines {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        loop {
            let mut line = String::new();
            match self.stdin.read_line(&mut line) {
                Ok(0) => return None,
                Ok(_) if line.trim().is_empty() => continue,
                Ok(_) => return Some(line),
                Err(e) => {
                    if let Ok(mut failed) = self.failed.lock() {
                        *failed = Some(e);
                    }
                    return None;
                }
            }
        }
    }
}

/// Answers one batch request; a bad request gets `{"id", "error"}`.
fn answer_request(line: &str, args: &LineageArgs) -> Value {
    let req: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return json!({"id": Value::Null, "error": format!("invalid JSON: {e}")}),
    };
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let Some(sql) = req.get("sql").and_then(Value::as_str) else {
        return json!({"id": id, "error": "request has no `sql` string"});
    };
    let dialect = req.get("dialect").and_then(Value::as_str).unwrap_or(&args.dialect);
    let mut options = Options::new(dialect);
    options.view = match req.get("view").and_then(Value::as_str) {
        Some(v) => v.parse().unwrap_or(args.view),
        None => args.view,
    };
    options.default_schema =
        req.get("default_schema").and_then(Value::as_str).map(str::to_string).or_else(|| args.default_schema.clone());
    options.default_db =
        req.get("default_db").and_then(Value::as_str).map(str::to_string).or_else(|| args.default_db.clone());
    if let Some(schema) = req.get("schema") {
        options.schema = schema_from_json(schema);
    }
    let mut unknown_options = Vec::new();
    if let Some(opts) = req.get("options").and_then(Value::as_object) {
        for (k, v) in opts {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if !options.set_option(k, &v) {
                unknown_options.push(format!("unknown option `{k}` ignored"));
            }
        }
    }
    let result = std::panic::catch_unwind(|| lineage::analyze(sql, &options));
    match result {
        Ok(lineage) => {
            let mut answer = json!({
                "id": id,
                "sources": lineage.sources,
                "targets": lineage.targets,
                "column_lineage": column_pairs(&lineage),
                "errors": lineage.errors,
                "degraded": lineage.degraded,
            });
            let mut warnings = lineage.warnings;
            warnings.extend(unknown_options);
            if !warnings.is_empty() {
                answer["warnings"] = json!(warnings);
            }
            answer
        }
        Err(_) => json!({"id": id, "error": "internal error while analysing this request"}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: LineageArgs,
    }

    fn args(extra: &[&str]) -> LineageArgs {
        let mut argv = vec!["lineage"];
        argv.extend_from_slice(extra);
        Cli::parse_from(argv).args
    }

    #[test]
    fn parses_the_documented_flags() {
        let a = args(&[
            "--dialect",
            "snowflake",
            "--view",
            "effects",
            "--default-schema",
            "s",
            "--default-db",
            "d",
            "--option",
            "tsql_no_semicolon=true",
            "--option",
            "lateral_column_alias_reference=true",
            "file.sql",
        ]);
        assert_eq!(a.dialect, "snowflake");
        assert_eq!(a.view, View::Effects);
        assert_eq!(a.default_schema.as_deref(), Some("s"));
        assert_eq!(a.default_db.as_deref(), Some("d"));
        assert_eq!(a.options.len(), 2);
        assert_eq!(a.sqlfile.as_deref(), Some("file.sql"));
        assert!(!a.batch);
        assert!(args(&["--batch"]).batch);
    }

    #[test]
    fn batch_answers_every_line_in_kind() {
        let a = args(&["--batch", "--view", "flow"]);
        let ok = answer_request(
            r#"{"id": 7, "sql": "insert into t select a from s", "dialect": "postgres",
                "schema": {"s": ["a"]}, "options": {"lateral_column_alias_reference": true, "bogus": 1}}"#,
            &a,
        );
        assert_eq!(ok["id"], 7);
        assert_eq!(ok["sources"], json!(["s"]));
        assert_eq!(ok["targets"], json!(["t"]));
        assert_eq!(ok["column_lineage"], json!([["s.a", "t.a"]]));
        assert_eq!(ok["warnings"], json!(["unknown option `bogus` ignored"]));

        let bad_json = answer_request("{not json", &a);
        assert!(bad_json["error"].as_str().is_some_and(|e| e.contains("invalid JSON")));
        let no_sql = answer_request(r#"{"id": "x"}"#, &a);
        assert_eq!(no_sql["id"], "x");
        assert!(no_sql["error"].is_string());

        let parse_error =
            answer_request(r#"{"id": 1, "sql": "select a from b;\nselect from from where", "dialect": "generic"}"#, &a);
        assert_eq!(parse_error["errors"][0]["statement"], 2);
        assert_eq!(parse_error["errors"][0]["line"], 2);
    }

    #[test]
    fn schema_file_shape() {
        let v: Value = serde_json::from_str(r#"{"db.t": ["a", "b"], "u": [], "junk": 3}"#).unwrap_or(Value::Null);
        let schema = schema_from_json(&v);
        assert_eq!(schema.get("db.t").map(Vec::len), Some(2));
        assert_eq!(schema.get("junk").map(Vec::len), Some(0));
    }
}
