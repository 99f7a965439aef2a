#!/usr/bin/env bash
# The read-side bench (part of `make bench`; alone: `bash scripts/bench_read.sh`):
#  1. a data set of BENCH_LEADS (default 1,000,000) generated leads, loaded through the public
#     batch API into its own database; kept between runs (BENCH_REGEN=1 loads it afresh);
#  2. the fixed list queries, p50/p95 through HTTP and of the same SQL run directly; then MCP
#     `tools/call list_leads` next to the same REST query, and the statistics endpoints;
#  3. a full CSV export (leads/s, first byte, peak RSS of a freshly started query-service);
#  4. a full `projector rebuild` (events/s).
set -euo pipefail
cd "$(dirname "$0")/.."
leads=${BENCH_LEADS:-1000000}
export DATABASE_URL=${BENCH_READ_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/leadstream_bench_read}
db=${DATABASE_URL##*/}
admin=${DATABASE_URL%/*}/postgres

bash scripts/services.sh >/dev/null
source scripts/bench_lib.sh
build_release

have=$(psql "$DATABASE_URL" -Atc "SELECT v FROM bench_meta WHERE k = 'leads'" 2>/dev/null || true)
if [ -n "${BENCH_REGEN:-}" ] || [ "${have:-0}" != "$leads" ]; then
  echo "read bench: loading $leads generated leads into $db (kept for later runs)"
  psql "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  start_system
  # Progress goes to stdout as it comes, and to a file of its own for the key. Never `tee
  # /dev/stderr` (reopening a redirected log truncates it: `make bench > log 2>&1` lost the
  # lines before) nor `tee >(cat >&2)` (asynchronous: its lines could land after later ones).
  "$bin/gen_leads" --base "http://$EDGE_LISTEN/api/v1" --count "$leads" | tee "$logs/gen_leads.txt"
  key=$(sed -n 's/.*key \(sk_live_[0-9a-f]*\).*/\1/p' "$logs/gen_leads.txt" | head -1)
  wait_projected
  psql "$DATABASE_URL" -qc "CREATE TABLE bench_meta (k text PRIMARY KEY, v text NOT NULL)" \
    -c "INSERT INTO bench_meta VALUES ('key', '$key'), ('leads', '$leads')" \
    -c "VACUUM ANALYZE"
else
  echo "read bench: reusing $db ($leads leads)"
  start_system
  wait_projected
fi
key=$(psql "$DATABASE_URL" -Atc "SELECT v FROM bench_meta WHERE k = 'key'")
events=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM events")
echo "read bench: $(nproc) cores, $events events, $(psql "$DATABASE_URL" -Atc "SELECT pg_size_pretty(pg_total_relation_size('lead_view'))") lead_view"

echo
echo "== list queries (sequential, one client) =="
"$bin/read_bench" --base "http://$EDGE_LISTEN/api/v1" --key "$key"

echo
echo "== MCP list_leads next to REST, and the statistics (sequential, one client) =="
"$bin/mcp_bench" --base "http://$EDGE_LISTEN/api/v1" --key "$key"

echo
echo "== export (CSV, all $leads leads) =="
# A freshly started query-service, so its peak RSS is the export's.
kill "${svc_pid[query-service]}"; wait "${svc_pid[query-service]}" 2>/dev/null || true
start_service query-service
wait_healthy "$EDGE_LISTEN"
pid=${svc_pid[query-service]}
curl -s -o /dev/null -H "X-API-Key: $key" -w '%{http_code} %{size_download} %{time_starttransfer} %{time_total}\n' \
  "http://$EDGE_LISTEN/api/v1/leads/export?format=csv" > "$logs/export.txt"
read -r code bytes first total < "$logs/export.txt"
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
rate=$(echo "$leads / $total" | bc)
echo "status $code, $((bytes / 1048576)) MiB in ${total}s = $rate leads/s, first byte after ${first}s, query-service peak RSS $((hwm / 1024)) MiB"

echo
echo "== projector rebuild (all $events events into fresh tables, then the switch) =="
"$bin/projector" rebuild 2>&1 | tail -1
