#!/usr/bin/env bash
# `make bench`: builds the release binaries, starts the whole system on its own ports against a
# fresh database, runs the write-side load generator through the public edge, stops everything.
# Extra arguments go to push_bench (e.g. `make bench ARGS="--clients 16 --requests 10000"`).
# BENCH_KEEP_DB=1 keeps the previous run's database (steady state instead of from empty).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/leadstream-target}
export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/leadstream_bench}
export NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}
db=${DATABASE_URL##*/}
admin=${DATABASE_URL%/*}/postgres

bash scripts/services.sh
if [ -n "${BENCH_KEEP_DB:-}" ]; then
  echo "bench: reusing database $db ($(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM streams WHERE stream_type = 'lead'" 2>/dev/null || echo 0) leads)"
else
  echo "bench: fresh database $db"
  psql "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
fi

cargo build --release -q -p command-service -p query-service -p projector -p webhook-dispatcher
cargo build --release -q -p leadstream-tests --bin push_bench
bin=$CARGO_TARGET_DIR/release
logs=.data/bench
mkdir -p "$logs"
"$bin/command-service" migrate >/dev/null

export EDGE_LISTEN=127.0.0.1:18080 COMMAND_LISTEN=127.0.0.1:18081
export PROJECTOR_LISTEN=127.0.0.1:18082 DISPATCHER_LISTEN=127.0.0.1:18083
export COMMAND_URL=http://$COMMAND_LISTEN RUST_LOG=${RUST_LOG:-warn}
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
for svc in command-service query-service projector webhook-dispatcher; do
  "$bin/$svc" >"$logs/$svc.log" 2>&1 &
  pids+=($!)
done
for addr in $EDGE_LISTEN $COMMAND_LISTEN $PROJECTOR_LISTEN $DISPATCHER_LISTEN; do
  for _ in $(seq 1 100); do
    curl -fs "http://$addr/healthz" >/dev/null && break
    sleep 0.1
  done
  curl -fs "http://$addr/healthz" >/dev/null || { echo "bench: $addr did not come up; see $logs"; exit 1; }
done

echo "bench: $(nproc) cores, $(psql "$admin" -Atc 'show server_version'), release build"
"$bin/push_bench" --base "http://$EDGE_LISTEN/api/v1" "$@"
# The relay publishes behind the writes; report how far behind it is when the load stops.
last=$(psql "$DATABASE_URL" -Atc "SELECT coalesce(max(position), 0) FROM events")
start=$(date +%s.%N)
for _ in $(seq 1 600); do
  published=$(psql "$DATABASE_URL" -Atc "SELECT coalesce(max(position), 0) FROM checkpoints WHERE name = 'nats-relay'")
  [ "${published:-0}" -ge "$last" ] && break
  sleep 0.1
done
lag=$(echo "$(date +%s.%N) - $start" | bc)
echo "events stored: $last; relay caught up with all of them ${lag}s after the load ended"
