#!/usr/bin/env bash
# `make run`: Postgres and NATS (started if needed), migrations, then all four services in
# release mode behind one base URL. Ctrl-C stops everything. Logs: .data/logs/<service>.log
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/leadstream}
export NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}
export EDGE_LISTEN=${EDGE_LISTEN:-127.0.0.1:8080}
export COMMAND_LISTEN=${COMMAND_LISTEN:-127.0.0.1:8081}
export PROJECTOR_LISTEN=${PROJECTOR_LISTEN:-127.0.0.1:8082}
export DISPATCHER_LISTEN=${DISPATCHER_LISTEN:-127.0.0.1:8083}
export COMMAND_URL=${COMMAND_URL:-http://$COMMAND_LISTEN}
# Local receivers (n8n on this machine, a test endpoint): webhooks may reach loopback here.
# Production deployments leave this empty (see docs/webhooks.md, SSRF guard).
export WEBHOOK_ALLOWED_NETWORKS=${WEBHOOK_ALLOWED_NETWORKS-127.0.0.0/8,::1/128}
target=${CARGO_TARGET_DIR:-target}
logs=.data/logs
services=(command-service query-service projector webhook-dispatcher)

bash scripts/services.sh
echo "run: building the services (release)"
cargo build --release -q -p command-service -p query-service -p projector -p webhook-dispatcher
"$target/release/command-service" migrate

mkdir -p "$logs"
pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "run: stopping"
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT
for svc in "${services[@]}"; do
  "$target/release/$svc" >"$logs/$svc.log" 2>&1 &
  pids+=($!)
done

addrs=("$COMMAND_LISTEN" "$EDGE_LISTEN" "$PROJECTOR_LISTEN" "$DISPATCHER_LISTEN")
for i in "${!services[@]}"; do
  up=""
  for _ in $(seq 1 120); do
    if curl -fs "http://${addrs[$i]}/healthz" >/dev/null; then up=1; break; fi
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then break; fi
    sleep 0.5
  done
  if [ -z "$up" ]; then
    echo "run: ${services[$i]} did not come up; the end of its log:" >&2
    tail -20 "$logs/${services[$i]}.log" >&2
    exit 1
  fi
done

base="http://$EDGE_LISTEN/api/v1"
cat <<MSG

Leadstream is up at $base   (health: http://$EDGE_LISTEN/healthz)
Logs: $logs/{$(IFS=,; echo "${services[*]}")}.log

Get an API key (shown once; POST /login issues another):
  curl -s -X POST $base/register -H 'Content-Type: application/json' \\
    -d '{"email":"you@example.com","password":"a long password"}'

Then push a lead:
  curl -s -X POST $base/leads -H "X-API-Key: sk_live_..." \\
    -d '{"name":"Acme","source":"website","email":"hello@acme.com"}'

Events are published on NATS: nats sub 'leadstream.events.>'
Webhooks may reach WEBHOOK_ALLOWED_NETWORKS=${WEBHOOK_ALLOWED_NETWORKS:-(none)} (local
receivers; production leaves it empty). See docs/webhooks.md.
Ctrl-C stops all four services.
MSG
wait -n "${pids[@]}" || true
echo "run: a service stopped; see $logs" >&2
