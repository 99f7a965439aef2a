#!/usr/bin/env bash
# The webhook bench (issue 13), on its own fresh database with the whole system running and
# the dispatcher allowed to reach this machine's loopback receiver:
#  - drain: the dispatcher stopped, 20,000 single-lead events for 1 endpoint, then for 10
#    endpoints (10 accounts), then 100,000 deliveries (20,000 events x 5 endpoints) for its
#    RSS; each time the dispatcher is started and deliveries/s measured first to last receipt;
#  - live: the single-push write load with 3 endpoints subscribed, lag from commit to receipt;
#    then the same paced at 200 pushes/s.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL=${WEBHOOK_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/leadstream_bench_webhooks}
db=${DATABASE_URL##*/}
admin=${DATABASE_URL%/*}/postgres
export WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8
# The drains register several accounts from this one address.
export REGISTRATION_LIMIT=1000

bash scripts/services.sh >/dev/null
psql "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
source scripts/bench_lib.sh
build_release
start_system
base="http://$EDGE_LISTEN/api/v1"

echo "webhooks, live: 3 endpoints while 4,000 single pushes run (8 clients)"
"$bin/webhook_bench" live --base "$base" --endpoints 3 --requests 4000 --clients 8
echo "webhooks, live: 3 endpoints, 200 pushes/s paced (600 deliveries/s)"
"$bin/webhook_bench" live --base "$base" --endpoints 3 --requests 3000 --clients 8 --rate 200

# The drains start their own dispatcher once the backlog is written.
kill "${svc_pid[webhook-dispatcher]}"; wait "${svc_pid[webhook-dispatcher]}" 2>/dev/null || true
unset 'svc_pid[webhook-dispatcher]'
for run in "1 1 20000" "10 10 20000" "1 5 20000"; do
  read -r tenants endpoints events <<<"$run"
  echo "webhooks, drain: $events events, $endpoints endpoint(s), $tenants account(s)"
  "$bin/webhook_bench" drain --base "$base" --dispatcher "$bin/webhook-dispatcher" \
    --tenants "$tenants" --endpoints "$endpoints" --events "$events"
done
stop_system
