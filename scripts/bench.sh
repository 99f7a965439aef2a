#!/usr/bin/env bash
# `make bench`: builds the release binaries, starts the whole system on its own ports against a
# fresh database, runs the write-side load generator through the public edge, stops everything;
# then the read-side bench (scripts/bench_read.sh) on its 1M-lead data set, then the scoring
# bench (scripts/bench_score.sh) on a copy of it.
# Extra arguments go to push_bench (e.g. `make bench ARGS="--clients 16 --requests 10000"`).
# BENCH_KEEP_DB=1 keeps the previous run's database (steady state instead of from empty).
# BENCH_PARTS=write runs the write side only (default: write read score webhooks).
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/leadstream_bench}
db=${DATABASE_URL##*/}
admin=${DATABASE_URL%/*}/postgres

bash scripts/services.sh
if [ -n "${BENCH_KEEP_DB:-}" ]; then
  echo "bench: reusing database $db ($(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM streams WHERE stream_type = 'lead'" 2>/dev/null || echo 0) leads)"
else
  echo "bench: fresh database $db"
  psql "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
fi

source scripts/bench_lib.sh
build_release
start_system

echo "bench: $(nproc) cores, $(psql "$admin" -Atc 'show server_version'), release build"
"$bin/push_bench" --base "http://$EDGE_LISTEN/api/v1" "$@"
# The relay publishes behind the writes; report how far behind it is when the load stops.
last=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM events")
start=$(date +%s.%N)
for _ in $(seq 1 600); do
  has_passed nats-relay && break
  sleep 0.1
done
lag=$(echo "$(date +%s.%N) - $start" | bc)
echo "events stored: $last; relay caught up with all of them ${lag}s after the load ended"

stop_system
parts=${BENCH_PARTS:-write read score webhooks}
# The read side at 1M leads: list queries (HTTP vs direct SQL), export, rebuild.
if [[ " $parts " == *" read "* ]]; then bash scripts/bench_read.sh; fi
# Scoring: rule evaluation speed, a full rescore of the 1M leads (on a copy of the data set).
if [[ " $parts " == *" score "* ]]; then bash scripts/bench_score.sh; fi
# Webhooks: draining a backlog (1 and 10 endpoints, RSS at 100,000 deliveries), live lag.
if [[ " $parts " == *" webhooks "* ]]; then bash scripts/bench_webhooks.sh; fi
