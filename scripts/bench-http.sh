#!/usr/bin/env bash
# Throughput of the dataset page under load (issue 2's target: at least 10,000 requests/s with
# `wrk -t2 -c32` on a 2-core machine), on a synthetic catalog of 100,000 datasets and 1,000,000
# columns. Usage:
#   scripts/bench-http.sh                 # SQLite catalog in target/bench/
#   scripts/bench-http.sh postgres://postgres@127.0.0.1/custodian_bench
# Seeds the catalog once if it is empty (about 40 s) and needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
cargo build --release --quiet
mkdir -p target/bench
export CUSTODIAN_DATABASE_URL="${1:-sqlite://$PWD/target/bench/catalog-100000.db}"
export CUSTODIAN_LOG=warn
bin=target/release/custodian
if ! "$bin" source list | grep -q synthetic_1; then
    "$bin" dev seed --datasets 100000 --columns-per-dataset 10 --sources 10
fi
# Pages are read signed in, as people read them: a user for the benchmark, and its session.
export BENCH_PASSWORD="benchmark password, not secret"
if ! "$bin" user list | grep -q '^bench-admin '; then
    if "$bin" user list | grep -q '^No users'; then
        "$bin" user add bench-admin --role admin --password-env BENCH_PASSWORD
    else
        echo "the catalog has users but no bench-admin; add one: custodian --as ADMIN user add bench-admin --role admin" >&2
        exit 1
    fi
fi
port=18080
"$bin" serve --bind "127.0.0.1:$port" &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
jar=$(mktemp)
csrf=$(curl -sf -c "$jar" "http://127.0.0.1:$port/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
curl -sf -o /dev/null -b "$jar" -c "$jar" --data-urlencode "csrf_token=$csrf" --data-urlencode "username=bench-admin" \
    --data-urlencode "password=$BENCH_PASSWORD" "http://127.0.0.1:$port/login"
session=$(awk '$6 == "custodian_session" {print $7}' "$jar")
rm -f "$jar"
[ -n "$session" ] || { echo "could not sign in" >&2; exit 1; }
url="http://127.0.0.1:$port/datasets/54321"
curl -sf -o /dev/null -H "Cookie: custodian_session=$session" "$url"
echo "== dataset page: $url"
wrk -t2 -c32 -d15s --latency -H "Cookie: custodian_session=$session" "$url"
echo "== search first page"
wrk -t2 -c32 -d10s --latency -H "Cookie: custodian_session=$session" "http://127.0.0.1:$port/search?q=email"
