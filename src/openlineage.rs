//! OpenLineage run events (https://openlineage.io/spec): the part of the spec Custodian reads —
//! the run and its state, the job (namespace, name, `sql` facet), and the input and output
//! datasets with their `schema` and `columnLineage` facets — checked, and turned into the same
//! lineage model SQL analysis produces, so it is stored like an ingested pipeline. Pure: the
//! handler in `web::openlineage` stores what this returns.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::lineage::model::{ColumnEdge, EdgeKind, Lineage, StatementLineage, StatementStatus, View};

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunEvent {
    pub event_type: Option<String>,
    pub event_time: String,
    pub run: Run,
    pub job: Job,
    #[serde(default)]
    pub inputs: Vec<Dataset>,
    #[serde(default)]
    pub outputs: Vec<Dataset>,
    #[serde(default)]
    pub producer: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub run_id: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Job {
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub facets: JobFacets,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct JobFacets {
    pub sql: Option<SqlFacet>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SqlFacet {
    pub query: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Dataset {
    pub namespace: String,
    pub name: String,
    #[serde(default)]
    pub facets: DatasetFacets,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetFacets {
    pub schema: Option<SchemaFacet>,
    pub column_lineage: Option<ColumnLineageFacet>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SchemaFacet {
    #[serde(default)]
    pub fields: Vec<SchemaField>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SchemaField {
    pub name: String,
    #[serde(default, rename = "type")]
    pub data_type: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ColumnLineageFacet {
    #[serde(default)]
    pub fields: BTreeMap<String, ColumnLineageField>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ColumnLineageField {
    #[serde(default)]
    pub input_fields: Vec<InputField>,
    /// The older form of the facet: one description for the whole field.
    pub transformation_type: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InputField {
    pub namespace: String,
    pub name: String,
    pub field: String,
    #[serde(default)]
    pub transformations: Vec<Transformation>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Transformation {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub subtype: Option<String>,
}

/// The states of a run, as OpenLineage names them.
pub const EVENT_TYPES: [&str; 6] = ["START", "RUNNING", "COMPLETE", "FAIL", "ABORT", "OTHER"];

/// A checked event: what to store.
#[derive(Debug, Clone)]
pub struct Checked {
    pub state: String,
    pub time: DateTime<Utc>,
    pub run_id: String,
    /// `namespace/name`.
    pub job: String,
    /// The namespace of the event's datasets (the outputs', else the inputs').
    pub dataset_namespace: Option<String>,
    pub sql: Option<String>,
    /// Lineage from the facets (no column edges when none was sent).
    pub lineage: Lineage,
    pub has_column_lineage: bool,
    /// Columns from `schema` facets, by table.
    pub columns: Vec<(String, Vec<String>)>,
}

/// Checks an event and reads its lineage; the error says what is wrong, for a 400.
pub fn check(event: &RunEvent) -> Result<Checked, String> {
    let state = event.event_type.clone().unwrap_or_else(|| "OTHER".into()).to_ascii_uppercase();
    if !EVENT_TYPES.contains(&state.as_str()) {
        return Err(format!("eventType {state:?} is not one of {}", EVENT_TYPES.join(", ")));
    }
    let time = DateTime::parse_from_rfc3339(&event.event_time)
        .map_err(|e| format!("eventTime {:?} is not an RFC 3339 time: {e}", event.event_time))?
        .with_timezone(&Utc);
    if uuid::Uuid::parse_str(&event.run.run_id).is_err() {
        return Err(format!("run.runId {:?} is not a UUID", event.run.run_id));
    }
    if event.job.namespace.trim().is_empty() || event.job.name.trim().is_empty() {
        return Err("job.namespace and job.name are required".into());
    }
    for d in event.inputs.iter().chain(&event.outputs) {
        if d.name.trim().is_empty() || d.namespace.trim().is_empty() {
            return Err("every input and output needs a namespace and a name".into());
        }
    }
    let table = |name: &str| table_name(name);
    let mut edges = Vec::new();
    let mut has_column_lineage = false;
    for out in &event.outputs {
        let Some(facet) = &out.facets.column_lineage else { continue };
        has_column_lineage = true;
        for (field, lineage) in &facet.fields {
            if field.trim().is_empty() {
                return Err(format!("columnLineage of {} has a field with no name", out.name));
            }
            for input in &lineage.input_fields {
                let kind = edge_kind(
                    input
                        .transformations
                        .iter()
                        .filter_map(|t| t.subtype.as_deref().or(t.kind.as_deref()))
                        .chain(lineage.transformation_type.as_deref()),
                );
                edges.push(ColumnEdge {
                    source: format!("{}.{}", table(&input.name), input.field),
                    target: format!("{}.{}", table(&out.name), field),
                    kind,
                });
            }
        }
    }
    edges.sort();
    edges.dedup();
    let sources: Vec<String> = dedup(event.inputs.iter().map(|d| table(&d.name)).collect());
    let targets: Vec<String> = dedup(event.outputs.iter().map(|d| table(&d.name)).collect());
    let columns = event
        .inputs
        .iter()
        .chain(&event.outputs)
        .filter_map(|d| {
            let fields = &d.facets.schema.as_ref()?.fields;
            Some((table(&d.name), fields.iter().map(|f| f.name.clone()).filter(|n| !n.is_empty()).collect()))
        })
        .collect();
    let statement = StatementLineage {
        index: 0,
        start_line: 1,
        end_line: 1,
        kind: "openlineage".into(),
        status: StatementStatus::Parsed,
        dialect: "openlineage".into(),
        sources: sources.clone(),
        targets: targets.clone(),
        column_edges: edges.clone(),
    };
    let lineage = Lineage {
        view: View::Flow,
        sources,
        targets,
        column_edges: edges,
        statements: if event.inputs.is_empty() && event.outputs.is_empty() { Vec::new() } else { vec![statement] },
        errors: Vec::new(),
        degraded: false,
        warnings: Vec::new(),
    };
    Ok(Checked {
        state,
        time,
        run_id: event.run.run_id.to_ascii_lowercase(),
        job: format!("{}/{}", event.job.namespace, event.job.name),
        dataset_namespace: event.outputs.first().or(event.inputs.first()).map(|d| d.namespace.clone()),
        sql: event.job.facets.sql.as_ref().map(|s| s.query.clone()).filter(|q| !q.trim().is_empty()),
        lineage,
        has_column_lineage,
        columns,
    })
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(x.clone()));
    v
}

/// An OpenLineage dataset name as a table name: `db.schema.table` → `schema.table` (the
/// namespace names the database), anything shorter as it is.
pub fn table_name(name: &str) -> String {
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() >= 3 { parts[parts.len() - 2..].join(".") } else { name.to_owned() }
}

/// The kind of a column edge from the transformations the facet names: an aggregation is an
/// aggregate, an identity (or "DIRECT" with no subtype) a copy, anything else a transform.
fn edge_kind<'a>(names: impl Iterator<Item = &'a str>) -> EdgeKind {
    let mut kind: Option<EdgeKind> = None;
    for n in names {
        let n = n.to_ascii_uppercase();
        let k = if n.contains("AGGREGAT") {
            EdgeKind::Aggregate
        } else if n == "IDENTITY" || n == "DIRECT" {
            EdgeKind::Identity
        } else {
            EdgeKind::Transform
        };
        kind = Some(kind.map_or(k, |old| old.then(k)));
    }
    kind.unwrap_or(EdgeKind::Transform)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: serde_json::Value) -> RunEvent {
        serde_json::from_value(json).unwrap()
    }

    fn base() -> serde_json::Value {
        serde_json::json!({
            "eventType": "COMPLETE",
            "eventTime": "2026-11-28T10:00:00.000Z",
            "run": { "runId": "0176a8c2-fe01-7439-87e6-56a1a1b4029f" },
            "job": { "namespace": "airflow", "name": "daily.load_orders" },
            "inputs": [{ "namespace": "postgres://db:5432", "name": "shop.public.orders",
                "facets": { "schema": { "fields": [{ "name": "id", "type": "integer" }, { "name": "email" }] } } }],
            "outputs": [{ "namespace": "postgres://db:5432", "name": "shop.mart.order_emails",
                "facets": { "columnLineage": { "fields": {
                    "contact": { "inputFields": [{ "namespace": "postgres://db:5432", "name": "shop.public.orders",
                        "field": "email", "transformations": [{ "type": "DIRECT", "subtype": "IDENTITY" }] }] },
                    "n": { "inputFields": [{ "namespace": "postgres://db:5432", "name": "shop.public.orders",
                        "field": "id", "transformations": [{ "type": "DIRECT", "subtype": "AGGREGATION" }] }] }
                } } } }],
            "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.0.0/client/python"
        })
    }

    #[test]
    fn an_event_becomes_lineage_with_columns_and_kinds() {
        let c = check(&event(base())).unwrap();
        assert_eq!(c.state, "COMPLETE");
        assert_eq!(c.job, "airflow/daily.load_orders");
        assert_eq!(c.lineage.sources, vec!["public.orders"]);
        assert_eq!(c.lineage.targets, vec!["mart.order_emails"]);
        assert!(c.has_column_lineage);
        let edges: Vec<(&str, &str, EdgeKind)> =
            c.lineage.column_edges.iter().map(|e| (e.source.as_str(), e.target.as_str(), e.kind)).collect();
        assert_eq!(
            edges,
            vec![
                ("public.orders.email", "mart.order_emails.contact", EdgeKind::Identity),
                ("public.orders.id", "mart.order_emails.n", EdgeKind::Aggregate),
            ]
        );
        assert_eq!(c.columns, vec![("public.orders".to_string(), vec!["id".to_string(), "email".to_string()])]);
    }

    #[test]
    fn bad_events_say_what_is_wrong() {
        let mut e = base();
        e["eventType"] = "DONE".into();
        assert!(check(&event(e)).unwrap_err().contains("eventType"));
        let mut e = base();
        e["eventTime"] = "yesterday".into();
        assert!(check(&event(e)).unwrap_err().contains("eventTime"));
        let mut e = base();
        e["run"]["runId"] = "42".into();
        assert!(check(&event(e)).unwrap_err().contains("runId"));
        let mut e = base();
        e["job"]["name"] = "".into();
        assert!(check(&event(e)).unwrap_err().contains("job.name"));
        assert_eq!(table_name("db.schema.t"), "schema.t");
        assert_eq!(table_name("schema.t"), "schema.t");
    }
}
