//! Prometheus metrics for operators: HTTP requests by route pattern (counts by status, latency
//! histograms), catalog pool use, job queue depth and job durations, and counters of crawls,
//! ingests, erasures and purges (with rows erased and purged). One registry per process;
//! `/metrics` renders it in the Prometheus text format. Labels are route patterns and outcomes,
//! never values from requests, so no personal data reaches a metric.

use std::sync::OnceLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    kind: String,
    outcome: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily<RouteLabels>,
    pool: Family<PoolLabels, Gauge>,
    queue: Family<KindLabels, Gauge>,
    jobs: HistogramFamily<OutcomeLabels>,
    events: Family<OutcomeLabels, Counter>,
    rows: Family<KindLabels, Counter>,
}

fn latency_histogram() -> Histogram {
    // 1 ms … about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

fn job_histogram() -> Histogram {
    // 10 ms … about 45 min.
    Histogram::new(exponential_buckets(0.01, 2.5, 15))
}

fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let mut registry = Registry::with_prefix("custodian");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route pattern and status",
            requests.clone(),
        );
        let latency: HistogramFamily<RouteLabels> = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests, by route pattern",
            latency.clone(),
        );
        let pool = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Catalog connections by pool (reader, writer) and state (idle, in_use)",
            pool.clone(),
        );
        let queue = Family::<KindLabels, Gauge>::default();
        registry.register(
            "job_queue_depth",
            "Jobs waiting for a worker, by kind (crawl, erasure, retention)",
            queue.clone(),
        );
        let jobs: HistogramFamily<OutcomeLabels> = Family::new_with_constructor(job_histogram);
        registry.register("job_duration_seconds", "Time a worker spent on a job, by kind and outcome", jobs.clone());
        let events = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "operations",
            "Crawls, ingests, erasures and purges finished, by kind and outcome",
            events.clone(),
        );
        let rows = Family::<KindLabels, Counter>::default();
        registry.register("rows_changed", "Rows erased or purged on targets, by kind", rows.clone());
        Metrics { registry, requests, latency, pool, queue, jobs, events, rows }
    })
}

/// Records one answered request under its route pattern (`/datasets/:id`), never its path.
pub fn request(method: &str, route: &str, status: u16, seconds: f64) {
    let m = metrics();
    m.requests
        .get_or_create(&RequestLabels {
            method: method.to_owned(),
            route: route.to_owned(),
            status: status.to_string(),
        })
        .inc();
    m.latency.get_or_create(&RouteLabels { method: method.to_owned(), route: route.to_owned() }).observe(seconds);
}

/// Records a job a worker ran: its kind (crawl, erasure, retention), outcome and duration.
pub fn job(kind: &str, outcome: &str, seconds: f64) {
    metrics()
        .jobs
        .get_or_create(&OutcomeLabels { kind: kind.to_owned(), outcome: outcome.to_owned() })
        .observe(seconds);
}

/// Counts a finished operation: `kind` crawl, ingest, erasure or retention; `outcome` as its
/// status says (done, failed, blocked, completed …).
pub fn operation(kind: &str, outcome: &str) {
    metrics().events.get_or_create(&OutcomeLabels { kind: kind.to_owned(), outcome: outcome.to_owned() }).inc();
}

/// Counts rows changed on targets: `kind` erased or purged.
pub fn rows(kind: &str, n: u64) {
    metrics().rows.get_or_create(&KindLabels { kind: kind.to_owned() }).inc_by(n);
}

/// The text exposition, with the pool and queue gauges set from what is true now.
pub fn render(pools: [(u32, u32); 2], queues: &[(&str, i64)]) -> String {
    let m = metrics();
    for (name, (connections, idle)) in ["reader", "writer"].into_iter().zip(pools) {
        let gauge =
            |state: &str| m.pool.get_or_create(&PoolLabels { pool: name.to_owned(), state: state.to_owned() }).clone();
        gauge("idle").set(i64::from(idle));
        gauge("in_use").set(i64::from(connections.saturating_sub(idle)));
    }
    for (kind, depth) in queues {
        m.queue.get_or_create(&KindLabels { kind: (*kind).to_owned() }).set(*depth);
    }
    let mut out = String::new();
    if prometheus_client::encoding::text::encode(&mut out, &m.registry).is_err() {
        out.clear();
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_exposition_holds_each_family_with_its_labels() {
        super::request("GET", "/datasets/:id", 200, 0.004);
        super::job("crawl", "ok", 1.5);
        super::operation("retention", "done");
        super::rows("purged", 42);
        let text = super::render([(4, 3), (1, 1)], &[("crawl", 2)]);
        for line in [
            "custodian_http_requests_total{method=\"GET\",route=\"/datasets/:id\",status=\"200\"}",
            "custodian_http_request_duration_seconds_bucket{le=\"0.004\",method=\"GET\",route=\"/datasets/:id\"}",
            "custodian_db_pool_connections{pool=\"reader\",state=\"in_use\"} 1",
            "custodian_job_queue_depth{kind=\"crawl\"} 2",
            "custodian_operations_total{kind=\"retention\",outcome=\"done\"}",
            "custodian_rows_changed_total{kind=\"purged\"}",
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }
}
