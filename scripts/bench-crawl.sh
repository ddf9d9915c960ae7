#!/usr/bin/env bash
# Crawl speed (issue 2's target: a PostgreSQL target with 2,000 tables and 40,000 columns in under
# 10 s). Builds the target in a PostgreSQL database, registers it in a fresh SQLite catalog (or
# the catalog URL given as $2) and crawls it twice (the second crawl finds no changes).
#   scripts/bench-crawl.sh [postgres://postgres@127.0.0.1:5432] [catalog URL]
set -euo pipefail
cd "$(dirname "$0")/.."
server="${1:-postgres://postgres@127.0.0.1:5432}"
target_db=custodian_wide_target
cargo build --release --quiet
psql "$server/postgres" -qc "DROP DATABASE IF EXISTS $target_db WITH (FORCE)" -c "CREATE DATABASE $target_db"
# One statement per table (psql autocommits each), so no transaction holds 2,000 locks.
python3 - <<'PY' | psql "$server/$target_db" -q -v ON_ERROR_STOP=1
types = ["text", "bigint", "timestamptz", "numeric(12,2)"]
for s in range(1, 5):
    print(f"CREATE SCHEMA app_{s};")
for t in range(1, 2001):
    schema = 1 + t % 4
    parent = f"REFERENCES app_{1 + (t - 1) % 4}.table_{t - 1} (id)" if t > 1 else ""
    cols = ", ".join(f"c{c}_{t} {types[c % 4]}" for c in range(2, 20))
    print(f"CREATE TABLE app_{schema}.table_{t} (id bigserial PRIMARY KEY, parent_id bigint {parent}, {cols});")
    print(f"COMMENT ON TABLE app_{schema}.table_{t} IS 'Synthetic table {t}';")
print("ANALYZE;")
PY
echo "target: $(psql "$server/$target_db" -tAc "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname LIKE 'app_%' AND c.relkind = 'r'") tables, $(psql "$server/$target_db" -tAc "SELECT count(*) FROM information_schema.columns WHERE table_schema LIKE 'app_%'") columns"
dir=$(mktemp -d)
export CUSTODIAN_DATABASE_URL="${2:-sqlite://$dir/catalog.db}"
bin=target/release/custodian
export BENCH_PASSWORD="benchmark password, not secret"
if "$bin" user list | grep -q '^No users'; then
    "$bin" user add bench-admin --role admin --password-env BENCH_PASSWORD >/dev/null
fi
"$bin" user list | grep -q '^bench-steward ' || "$bin" --as bench-admin user add bench-steward --role steward --password-env BENCH_PASSWORD >/dev/null
export CUSTODIAN_ACTOR=bench-steward
"$bin" source add wide --url "$server/$target_db" >/dev/null
/usr/bin/time -f "first crawl: %e s wall, %M KiB peak" "$bin" crawl wide
/usr/bin/time -f "second crawl: %e s wall" "$bin" crawl wide
rm -rf "$dir"
