#!/usr/bin/env bash
# The scoring bench (part of `make bench`, after bench_read.sh; alone: `bash scripts/bench_score.sh`):
# on a throw-away copy of the read bench's 1M-lead database (so the data set stays as
# generated), rule evaluation speed and a full rescore with five rules through the API.
set -euo pipefail
cd "$(dirname "$0")/.."
source_url=${BENCH_READ_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/leadstream_bench_read}
export DATABASE_URL=${source_url%/*}/leadstream_bench_score
admin=${source_url%/*}/postgres

bash scripts/services.sh >/dev/null
source scripts/bench_lib.sh
build_release
key=$(psql "$source_url" -Atc "SELECT v FROM bench_meta WHERE k = 'key'" 2>/dev/null || true)
[ -n "$key" ] || { echo "score bench: run scripts/bench_read.sh first (it loads the data set)"; exit 1; }
echo "score bench: copying the data set ..."
psql "$admin" -qc "DROP DATABASE IF EXISTS leadstream_bench_score WITH (FORCE)" \
  -c "CREATE DATABASE leadstream_bench_score TEMPLATE ${source_url##*/}"
trap 'stop_system; psql "$admin" -qc "DROP DATABASE IF EXISTS leadstream_bench_score WITH (FORCE)"' EXIT
start_system
wait_projected
"$bin/score_bench" --base "http://$EDGE_LISTEN/api/v1" --key "$key"
