#!/usr/bin/env bash
# Ingest speed (issue 4's target: the whole throughput corpus, 757 files, into the catalog in
# under 10 s on SQLite and on PostgreSQL; a re-ingest is a no-op). Ingests every file of
# ../shared/corpus/lineage/throughput/ with the dialect its manifest gives, into a fresh catalog,
# twice, and prints the wall time of each run. Usage:
#   scripts/bench-ingest.sh                          # a fresh SQLite catalog in a temporary directory
#   scripts/bench-ingest.sh postgres://postgres@127.0.0.1:5432   # a fresh PostgreSQL database there
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="${CUSTODIAN_CORPUS:-../shared/corpus/lineage/throughput}"
manifest="$corpus/manifest.jsonl"
if [ ! -f "$manifest" ]; then
    echo "error: the throughput corpus is missing: $manifest not found (set CUSTODIAN_CORPUS to its directory)" >&2
    exit 1
fi
files=$(grep -c . "$manifest")
if [ "$files" -lt 700 ]; then
    echo "error: $manifest lists $files files; the corpus looks incomplete" >&2
    exit 1
fi
cargo build --release --quiet
bin=$PWD/target/release/custodian
dir=$(mktemp -d)
server="${1:-}"
cleanup() {
    if [ -n "$server" ]; then
        psql "$server/postgres" -qc "DROP DATABASE IF EXISTS custodian_bench_ingest WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
if [ -n "$server" ]; then
    psql "$server/postgres" -qc "DROP DATABASE IF EXISTS custodian_bench_ingest WITH (FORCE)" -c "CREATE DATABASE custodian_bench_ingest"
    export CUSTODIAN_DATABASE_URL="$server/custodian_bench_ingest"
else
    export CUSTODIAN_DATABASE_URL="sqlite://$dir/catalog.db"
fi
export CUSTODIAN_LOG=warn
export BENCH_PASSWORD="benchmark password, not secret"
"$bin" migrate >/dev/null
"$bin" user add bench-admin --role admin --password-env BENCH_PASSWORD >/dev/null
"$bin" --as bench-admin user add bench-ingest --role steward --password-env BENCH_PASSWORD >/dev/null
# The SQL runs against a source; an empty SQLite database stands for the warehouse, so every table
# the corpus names becomes a referenced dataset.
sqlite3 "$dir/warehouse.db" "CREATE TABLE placeholder (id INTEGER);" 2>/dev/null \
    || python3 -c "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute('CREATE TABLE placeholder (id INTEGER)')" "$dir/warehouse.db"
"$bin" --as bench-ingest source add warehouse --url "$dir/warehouse.db" >/dev/null
# The manifest's files, grouped by dialect: one `ingest sql` per dialect, paths relative to the corpus.
python3 - "$manifest" "$dir" <<'PY'
import collections, json, sys
groups = collections.defaultdict(list)
for line in open(sys.argv[1]):
    if line.strip():
        entry = json.loads(line)
        groups[entry["dialect"]].append(entry["path"])
for dialect, paths in groups.items():
    with open(f"{sys.argv[2]}/files-{dialect}.txt", "w") as out:
        out.write("\n".join(paths) + "\n")
PY
run() {
    local label=$1 start end
    start=$(date +%s.%N)
    for list in "$dir"/files-*.txt; do
        dialect=$(basename "$list" .txt)
        dialect=${dialect#files-}
        (cd "$corpus" && xargs -a "$list" -d '\n' "$bin" --as bench-ingest ingest sql --source warehouse --dialect "$dialect") \
            | sed "s/^/  [$dialect] /"
    done
    end=$(date +%s.%N)
    printf '%s: %.2f s wall for %s files\n' "$label" "$(echo "$end - $start" | bc -l)" "$files"
}
echo "catalog: ${CUSTODIAN_DATABASE_URL%%://*}"
run "first ingest"
run "re-ingest (unchanged)"
