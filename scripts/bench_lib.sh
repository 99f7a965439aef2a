# Shared by the bench scripts (sourced): build the release binaries and start the whole
# system against $DATABASE_URL on the 18080-18083 ports, stopped when the script exits.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/leadstream-target}
export NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}
bin=$CARGO_TARGET_DIR/release
logs=.data/bench
mkdir -p "$logs"
export EDGE_LISTEN=127.0.0.1:18080 COMMAND_LISTEN=127.0.0.1:18081
export PROJECTOR_LISTEN=127.0.0.1:18082 DISPATCHER_LISTEN=127.0.0.1:18083
export COMMAND_URL=http://$COMMAND_LISTEN RUST_LOG=${RUST_LOG:-warn}
declare -A svc_pid=()

build_release() {
  cargo build --release -q -p command-service -p query-service -p projector -p webhook-dispatcher
  cargo build --release -q -p leadstream-tests --bins
}

stop_system() {
  for pid in "${svc_pid[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_system EXIT

wait_healthy() { # addr
  for _ in $(seq 1 100); do
    curl -fs "http://$1/healthz" >/dev/null && return 0
    sleep 0.1
  done
  echo "bench: $1 did not come up; see $logs" >&2
  return 1
}

start_service() { # name
  "$bin/$1" >>"$logs/$1.log" 2>&1 &
  svc_pid[$1]=$!
}

start_system() {
  "$bin/command-service" migrate >/dev/null
  for svc in command-service query-service projector webhook-dispatcher; do start_service "$svc"; done
  for addr in $EDGE_LISTEN $COMMAND_LISTEN $PROJECTOR_LISTEN $DISPATCHER_LISTEN; do
    wait_healthy "$addr"
  done
}

# True when the follower $1 has passed every event committed so far (the follower order:
# transaction id, then position; see shared/src/store/tail.rs).
has_passed() {
  [ "$(psql "$DATABASE_URL" -Atc "SELECT NOT EXISTS (SELECT 1 FROM events e, checkpoints c
      WHERE c.name = '$1' AND (c.legacy_position IS NOT NULL OR (e.tx_id, e.position) > (c.tx_id, c.position)))
      AND EXISTS (SELECT 1 FROM checkpoints WHERE name = '$1')")" = t ]
}

# Waits until the lead projection has applied every stored event.
wait_projected() {
  for _ in $(seq 1 3000); do
    has_passed lead-view && return 0
    sleep 0.2
  done
  echo "bench: the projector did not catch up" >&2
  return 1
}
