#!/usr/bin/env bash
# Scores `custodian lineage` on the peer corpora in ../shared (see LINEAGE.md) and fails when
# either corpus scores below 0.95 table or 0.90 column exact match, or when the corpus is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${CUSTODIAN_SHARED_DIR:-../shared}"
grader="$shared/tools/grade_lineage.py"
corpus="$shared/corpus/lineage/dev"
for f in "$grader" "$corpus/sqllineage_cases.jsonl" "$corpus/openlineage_cases.jsonl"; do
    [ -f "$f" ] || { echo "score-lineage: $f is missing (set CUSTODIAN_SHARED_DIR)" >&2; exit 1; }
done
cargo build --release --quiet
status=0
score() { # corpus view
    local out
    out=$(python3 "$grader" "$corpus/$1" --mode batch -- target/release/custodian lineage --view "$2")
    local all
    all=$(echo "$out" | grep -m1 '^ALL')
    echo "$1 (--view $2): $all"
    python3 - "$all" <<'PY' || status=1
import re, sys
line = sys.argv[1]
table = re.search(r"table P=\S+ R=\S+ EM=([0-9.]+)", line)
column = re.search(r"column P=\S+ R=\S+ EM=([0-9.]+)", line)
if not table or not column:
    sys.exit(f"could not read the scores from: {line!r}")
t, c = float(table.group(1)), float(column.group(1))
if t < 0.95 or c < 0.90:
    sys.exit(f"below target: table EM {t} (needs 0.95), column EM {c} (needs 0.90)")
PY
}
score sqllineage_cases.jsonl flow
score openlineage_cases.jsonl effects
exit $status
