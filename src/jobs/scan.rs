//! Scanning a source's values for suggestions: sample each column of each dataset from the target
//! (read-only), run the suggestion engine on the sample, store the proposals. Samples live in
//! memory for one dataset at a time and are never written anywhere.

use std::collections::HashMap;

use diesel::prelude::*;
use serde_json::json;

use super::ProgressSink;
use super::crawl::{CrawlError, resolve};
use crate::db::audit::{self, AuditActor};
use crate::db::models::{ACTIVE, CrawlRun};
use crate::db::schema::datasets;
use crate::db::{Db, catalog, dialect, now};
use crate::suggestions::{self, Keys};

/// Values read per column.
pub const SAMPLE_SIZE: i64 = 200;

/// Column types whose values say nothing a validator can read.
fn unreadable(data_type: &str) -> bool {
    let t = data_type.to_ascii_lowercase();
    ["bytea", "blob", "binary", "bool", "json", "xml", "tsvector"].iter().any(|b| t.contains(b))
}

/// What a scan did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanOutcome {
    pub datasets: i64,
    pub columns: i64,
    pub unreadable_datasets: i64,
    pub suggestions: i64,
}

impl ScanOutcome {
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} new suggestion{} from {} columns of {} datasets",
            self.suggestions,
            if self.suggestions == 1 { "" } else { "s" },
            self.columns,
            self.datasets
        );
        if self.unreadable_datasets > 0 {
            s.push_str(&format!("; {} datasets could not be read", self.unreadable_datasets));
        }
        s
    }
}

/// Runs a claimed scan to its end and records the outcome on the run.
pub fn execute(db: &Db, run: &CrawlRun, progress: &mut dyn ProgressSink) -> Result<ScanOutcome, CrawlError> {
    let outcome = scan(db, run, progress);
    let mut conn = db.writer()?;
    let (message, after) = match &outcome {
        Ok(o) => (
            Ok((o.describe(), o.datasets)),
            json!({ "run": run.id, "requested_by": run.triggered_by, "suggestions": o.suggestions, "columns": o.columns }),
        ),
        Err(e) => {
            (Err(e.to_string()), json!({ "run": run.id, "requested_by": run.triggered_by, "error": e.to_string() }))
        }
    };
    dialect::write_transaction(&mut conn, |conn| {
        let now = now();
        match &message {
            Ok((summary, datasets)) => catalog::finish_run_with_summary(conn, run.id, Ok((summary, *datasets)), now)?,
            Err(error) => catalog::finish_run_with_summary(conn, run.id, Err(error), now)?,
        };
        let action = if message.is_ok() { "scan.finish" } else { "scan.fail" };
        audit::append(conn, &AuditActor::system().event(action, "source").entity_id(run.source_id).after(after), now)
    })?;
    outcome
}

fn scan(db: &Db, run: &CrawlRun, progress: &mut dyn ProgressSink) -> Result<ScanOutcome, CrawlError> {
    progress.stage("connecting");
    let (source, targets, keys) = {
        let mut conn = db.reader()?;
        let source = catalog::find_source(&mut conn, run.source_id)?.ok_or(diesel::result::Error::NotFound)?;
        let targets: Vec<(i64, String, String)> = datasets::table
            .filter(datasets::source_id.eq(source.id))
            .filter(datasets::status.eq(ACTIVE))
            .filter(datasets::kind.eq_any(["table", "view", "materialized_view"]))
            .order(datasets::id)
            .select((datasets::id, datasets::schema_name, datasets::name))
            .load(&mut *conn)?;
        let keys = Keys::load(&mut conn)?;
        (source, targets, keys)
    };
    let mut session = resolve(&source)?.session()?;
    progress.stage("sampling values");
    let total = targets.len() as u64;
    let mut outcome = ScanOutcome::default();
    for (done, (dataset_id, schema, name)) in targets.into_iter().enumerate() {
        progress.advance(done as u64, total);
        let columns: Vec<(i64, String, String)> = {
            let mut conn = db.reader()?;
            catalog::list_columns(&mut conn, dataset_id)?
                .into_iter()
                .filter(|c| c.status == ACTIVE && !unreadable(&c.data_type))
                .map(|c| (c.id, c.name, c.data_type))
                .collect()
        };
        let mut samples: HashMap<i64, Vec<String>> = HashMap::new();
        let mut failed = false;
        for (id, column, _) in &columns {
            match session.sample(&schema, &name, column, SAMPLE_SIZE) {
                Ok(values) => {
                    samples.insert(*id, values);
                }
                Err(e) => {
                    // No value reaches the log; the error names the table at most.
                    tracing::warn!(dataset = dataset_id, error = %e, "could not sample a column");
                    failed = true;
                }
            }
        }
        outcome.datasets += 1;
        outcome.columns += samples.len() as i64;
        if failed {
            outcome.unreadable_datasets += 1;
        }
        let mut conn = db.writer()?;
        let added = dialect::write_transaction(&mut conn, |conn| {
            suggestions::from_values(conn, &keys, &name, &columns, &samples, now())
        })?;
        outcome.suggestions += added as i64;
    }
    progress.advance(total, total);
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_boolean_columns_are_not_sampled() {
        assert!(unreadable("bytea"));
        assert!(unreadable("BLOB"));
        assert!(unreadable("boolean"));
        assert!(!unreadable("text"));
        assert!(!unreadable("character varying(200)"));
    }
}
