//! dbt artifacts into the catalog: a `manifest.json` (models, seeds, snapshots and sources, with
//! their descriptions, column descriptions, `meta`, tags and compiled SQL) and optionally a
//! `catalog.json` (column types). Models, seeds, snapshots and sources become datasets of one
//! source (matched by schema and name to the crawled ones, referenced datasets otherwise); dbt's
//! descriptions fill the dictionary without overwriting what people wrote in Custodian; tags and
//! `meta` become classification suggestions through a mapping; each model's compiled SQL goes
//! through the lineage engine as the pipeline `dbt:UNIQUE_ID`. Ingesting a newer manifest
//! updates all of it in place.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::db::audit::{self, AuditActor};
use crate::db::classification::{self as class_repo, NewSuggestion};
use crate::db::lineage as lineage_repo;
use crate::db::models::Source;
use crate::db::{AnyConnection, catalog, dialect, now};
use crate::ingest::{self, IngestError, IngestTarget, Outcome, SqlInput};

#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    #[serde(default)]
    pub metadata: Metadata,
    #[serde(default)]
    pub nodes: BTreeMap<String, Node>,
    #[serde(default)]
    pub sources: BTreeMap<String, Node>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub dbt_schema_version: String,
    #[serde(default)]
    pub dbt_version: String,
}

/// A model, seed, snapshot, test … or a source: what Custodian reads of each.
#[derive(Debug, Clone, Deserialize)]
pub struct Node {
    pub unique_id: String,
    pub resource_type: String,
    #[serde(default)]
    pub schema: String,
    pub name: String,
    #[serde(default)]
    pub alias: Option<String>,
    /// A source's table name, when it differs from its name.
    #[serde(default)]
    pub identifier: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnDoc>,
    #[serde(default)]
    pub meta: Map<String, Value>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// The compiled SQL (`compiled_code` since manifest v7, `compiled_sql` before).
    #[serde(default)]
    pub compiled_code: Option<String>,
    #[serde(default)]
    pub compiled_sql: Option<String>,
    #[serde(default)]
    pub config: NodeConfig,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NodeConfig {
    #[serde(default)]
    pub materialized: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ColumnDoc {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub meta: Map<String, Value>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub data_type: Option<String>,
}

/// `catalog.json`: the columns dbt found in the warehouse.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Catalog {
    #[serde(default)]
    pub nodes: BTreeMap<String, CatalogTable>,
    #[serde(default)]
    pub sources: BTreeMap<String, CatalogTable>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CatalogTable {
    #[serde(default)]
    pub columns: BTreeMap<String, CatalogColumn>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CatalogColumn {
    pub name: String,
    #[serde(default)]
    pub index: i64,
}

/// How dbt tags and `meta` become classification suggestions. From the JSON file
/// `CUSTODIAN_DBT_MAPPING`, or the default: a column's `meta: {pii: CATEGORY_KEY}` suggests that
/// category; `meta: {classification: LEVEL}` adds the level; a `pii` tag alone suggests nothing
/// until the mapping says which category it means.
#[derive(Debug, Clone, Deserialize)]
pub struct Mapping {
    /// Tag → what it suggests.
    #[serde(default)]
    pub tags: BTreeMap<String, Suggests>,
    /// The `meta` key whose value is a category key.
    #[serde(default = "default_category_key")]
    pub meta_category_key: String,
    /// The `meta` key whose value is a level name.
    #[serde(default = "default_level_key")]
    pub meta_level_key: String,
}

fn default_category_key() -> String {
    "pii".into()
}

fn default_level_key() -> String {
    "classification".into()
}

impl Default for Mapping {
    fn default() -> Self {
        Self { tags: BTreeMap::new(), meta_category_key: default_category_key(), meta_level_key: default_level_key() }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Suggests {
    pub category: String,
    #[serde(default)]
    pub level: Option<String>,
}

impl Mapping {
    /// What a column's tags and `meta` suggest: `(category key, level name, why)`.
    pub fn suggestions(&self, column: &ColumnDoc) -> Vec<(String, Option<String>, String)> {
        let level = column.meta.get(&self.meta_level_key).and_then(Value::as_str).map(str::to_owned);
        let mut out = Vec::new();
        if let Some(category) = column.meta.get(&self.meta_category_key).and_then(Value::as_str) {
            out.push((category.to_owned(), level.clone(), format!("dbt meta {}: {category}", self.meta_category_key)));
        }
        for tag in &column.tags {
            if let Some(s) = self.tags.get(tag) {
                out.push((s.category.clone(), s.level.clone().or(level.clone()), format!("dbt tag {tag}")));
            }
        }
        out
    }
}

/// What reading a manifest did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DbtReport {
    pub models: usize,
    pub seeds: usize,
    pub snapshots: usize,
    pub sources: usize,
    /// Datasets matched to crawled ones, and those dbt named that no crawl has found.
    pub matched: usize,
    pub referenced: usize,
    pub pipelines_created: usize,
    pub pipelines_replaced: usize,
    pub pipelines_unchanged: usize,
    pub descriptions_written: usize,
    /// Descriptions someone wrote in Custodian, which dbt's did not replace.
    pub descriptions_kept: usize,
    pub columns_created: usize,
    pub suggestions: usize,
}

/// The relation a node stands for: `(schema, table)`.
fn relation(n: &Node) -> (String, String) {
    let table = if n.resource_type == "source" {
        n.identifier.clone().unwrap_or_else(|| n.name.clone())
    } else {
        n.alias.clone().unwrap_or_else(|| n.name.clone())
    };
    (n.schema.clone(), table)
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The statement a model runs: its compiled SELECT materialised into its relation.
fn model_sql(n: &Node) -> Option<String> {
    let compiled = n.compiled_code.as_ref().or(n.compiled_sql.as_ref())?.trim().trim_end_matches(';');
    if compiled.is_empty() || n.config.materialized.as_deref() == Some("ephemeral") {
        return None;
    }
    let (schema, table) = relation(n);
    let kind = if n.config.materialized.as_deref() == Some("view") { "VIEW" } else { "TABLE" };
    Some(format!("-- dbt {}\nCREATE {kind} {}.{} AS\n{compiled};\n", n.unique_id, quote(&schema), quote(&table)))
}

/// Reads a manifest (and catalog) into `source`'s part of the catalog.
pub fn ingest(
    conn: &mut AnyConnection,
    by: &AuditActor,
    source: Source,
    manifest: &Manifest,
    dbt_catalog: Option<&Catalog>,
    mapping: &Mapping,
) -> Result<DbtReport, IngestError> {
    let mut report = DbtReport::default();
    let wanted: Vec<&Node> = manifest
        .nodes
        .values()
        .chain(manifest.sources.values())
        .filter(|n| matches!(n.resource_type.as_str(), "model" | "seed" | "snapshot" | "source"))
        .collect();
    for n in &wanted {
        match n.resource_type.as_str() {
            "model" => report.models += 1,
            "seed" => report.seeds += 1,
            "snapshot" => report.snapshots += 1,
            _ => report.sources += 1,
        }
    }
    // Lineage first: each model's SQL, which also creates the datasets no crawl has found.
    let target = IngestTarget::new(source.clone(), None, None)?;
    for n in wanted.iter().filter(|n| n.resource_type != "source") {
        let Some(sql) = model_sql(n) else { continue };
        let input = SqlInput { name: n.unique_id.clone(), path: format!("dbt:{}", n.unique_id), sql };
        let r = ingest::ingest(conn, by, &target, &input, false, Some("dbt manifest"))?;
        match r.outcome {
            Outcome::Created => report.pipelines_created += 1,
            Outcome::Replaced => report.pipelines_replaced += 1,
            Outcome::Unchanged => report.pipelines_unchanged += 1,
        }
    }
    let categories: HashMap<String, i64> =
        class_repo::list_categories(conn)?.into_iter().map(|c| (c.key, c.id)).collect();
    let levels: HashMap<String, i32> =
        class_repo::list_levels(conn)?.into_iter().map(|l| (l.name.to_lowercase(), l.rank)).collect();

    dialect::write_transaction(conn, |conn| {
        let now = now();
        let mut suggestions: Vec<NewSuggestion> = Vec::new();
        for n in &wanted {
            let (schema, table) = relation(n);
            let dataset = match catalog::find_dataset_by_name(conn, source.id, &schema, &table)? {
                Some(d) => d,
                None => {
                    lineage_repo::create_referenced_datasets(conn, source.id, &[(schema.clone(), table.clone())], now)?;
                    lineage_repo::bump_source_counts(conn, source.id, 1, 0)?;
                    catalog::find_dataset_by_name(conn, source.id, &schema, &table)?
                        .ok_or(IngestError::Invalid(format!("cannot create the dataset {schema}.{table}")))?
                }
            };
            if dataset.kind == lineage_repo::REFERENCED {
                report.referenced += 1;
            } else {
                report.matched += 1;
            }
            // Columns dbt knows, on datasets no crawl has found.
            let mut existing = catalog::list_columns(conn, dataset.id)?;
            if dataset.kind == lineage_repo::REFERENCED {
                let mut names: Vec<(i64, String)> = n.columns.values().map(|c| (i64::MAX, c.name.clone())).collect();
                let from_catalog = dbt_catalog.and_then(|c| c.nodes.get(&n.unique_id).or(c.sources.get(&n.unique_id)));
                if let Some(t) = from_catalog {
                    names.extend(t.columns.values().map(|c| (c.index, c.name.clone())));
                }
                names.sort();
                let mut next = existing.iter().map(|c| c.ordinal).max().unwrap_or(0);
                let mut new: Vec<(i64, String, i32)> = Vec::new();
                for (_, name) in names {
                    let known = existing.iter().any(|c| c.name.eq_ignore_ascii_case(&name))
                        || new.iter().any(|(_, n, _)| n.eq_ignore_ascii_case(&name));
                    if !known && !name.trim().is_empty() {
                        next += 1;
                        new.push((dataset.id, name, next));
                    }
                }
                if !new.is_empty() {
                    let created = lineage_repo::create_referenced_columns(conn, &new, now)?;
                    lineage_repo::bump_source_counts(conn, source.id, 0, created as i64)?;
                    report.columns_created += created;
                    existing = catalog::list_columns(conn, dataset.id)?;
                }
            }
            // Descriptions: dbt's fill what is empty or was dbt's before; what people wrote stays.
            if !n.description.trim().is_empty() {
                let written = lineage_repo::dbt_documentation(conn, "dataset", dataset.id)?;
                let current = dataset.description.clone().unwrap_or_default();
                if current.trim().is_empty() || written.as_deref() == Some(current.as_str()) {
                    if current != n.description {
                        catalog::update_dataset_details(
                            conn,
                            dataset.id,
                            Some(n.description.as_str()),
                            dataset.owner.as_deref(),
                            now,
                        )?;
                        report.descriptions_written += 1;
                    }
                    lineage_repo::set_dbt_documentation(conn, "dataset", dataset.id, &n.description)?;
                } else {
                    report.descriptions_kept += 1;
                }
            }
            for doc in n.columns.values() {
                let Some(column) = existing.iter().find(|c| c.name.eq_ignore_ascii_case(&doc.name)) else { continue };
                if !doc.description.trim().is_empty() {
                    let written = lineage_repo::dbt_documentation(conn, "column", column.id)?;
                    let current = column.description.clone().unwrap_or_default();
                    if current.trim().is_empty() || written.as_deref() == Some(current.as_str()) {
                        if current != doc.description {
                            catalog::update_column_description(conn, column.id, Some(doc.description.as_str()), now)?;
                            report.descriptions_written += 1;
                        }
                        lineage_repo::set_dbt_documentation(conn, "column", column.id, &doc.description)?;
                    } else {
                        report.descriptions_kept += 1;
                    }
                }
                for (category, level, why) in mapping.suggestions(doc) {
                    let Some(&category_id) = categories.get(&category) else { continue };
                    suggestions.push(NewSuggestion {
                        column_id: column.id,
                        category_id,
                        identifier_type_id: None,
                        level_rank: level.and_then(|l| levels.get(&l.to_lowercase()).copied()),
                        confidence: 1.0,
                        evidence: format!("{why} ({})", n.unique_id),
                        proposed_by: Some(by.actor.clone()),
                    });
                }
            }
        }
        report.suggestions = class_repo::insert_suggestions(conn, &suggestions, now)?;
        audit::append(
            conn,
            &by.event("dbt.ingest", "source").entity_id(source.id).after(json!({
                "dbt_version": manifest.metadata.dbt_version,
                "models": report.models,
                "sources": report.sources,
                "descriptions_written": report.descriptions_written,
                "descriptions_kept": report.descriptions_kept,
                "suggestions": report.suggestions,
            })),
            now,
        )?;
        Ok::<_, IngestError>(())
    })?;
    crate::metrics::operation("ingest", "dbt");
    Ok(report)
}

/// The classification mapping: the JSON file `CUSTODIAN_DBT_MAPPING` names, or the default.
pub fn mapping_from(path: Option<&std::path::Path>) -> Result<Mapping, String> {
    match path {
        None => Ok(Mapping::default()),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            serde_json::from_str(&text).map_err(|e| format!("{} is not a dbt mapping: {e}", p.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_become_create_statements_and_mappings_suggest_categories() {
        let n: Node = serde_json::from_value(serde_json::json!({
            "unique_id": "model.shop.customer_emails", "resource_type": "model", "schema": "marts",
            "name": "customer_emails", "alias": "emails", "config": { "materialized": "view" },
            "compiled_code": "select id, email from \"db\".\"staging\".\"stg_customers\";"
        }))
        .unwrap();
        assert_eq!(
            model_sql(&n).unwrap(),
            "-- dbt model.shop.customer_emails\nCREATE VIEW \"marts\".\"emails\" AS\nselect id, email from \"db\".\"staging\".\"stg_customers\";\n"
        );
        let column: ColumnDoc = serde_json::from_value(serde_json::json!({
            "name": "email", "meta": { "pii": "contact.email", "classification": "Confidential" }, "tags": ["gdpr"]
        }))
        .unwrap();
        let mut mapping = Mapping::default();
        mapping.tags.insert("gdpr".into(), Suggests { category: "identity.name".into(), level: None });
        let s = mapping.suggestions(&column);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].0, "contact.email");
        assert_eq!(s[0].1.as_deref(), Some("Confidential"));
        assert_eq!(s[1].0, "identity.name");
    }
}
