#!/usr/bin/env bash
# Makes sure Postgres and NATS (with JetStream) answer, starting them when they do not:
# the installed system services first, else project-local instances under .data/, else it
# says what to install. Creates the database of DATABASE_URL and any extra names given:
#   scripts/services.sh [extra_db ...]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/leadstream}
NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}

# --- Postgres ---------------------------------------------------------------------------
# postgres://user[:pass]@host[:port]/db
rest=${DATABASE_URL#*://}
creds=${rest%%@*}
[ "$creds" = "$rest" ] && creds=""
hostpart=${rest#*@}
hostport=${hostpart%%/*}
db=${hostpart#*/}
db=${db%%\?*}
pg_user=${creds%%:*}
pg_user=${pg_user:-postgres}
pg_host=${hostport%%:*}
pg_port=${hostport##*:}
[ "$pg_port" = "$hostport" ] && pg_port=5432

pg_up() { pg_isready -q -h "$pg_host" -p "$pg_port" >/dev/null 2>&1; }
find_pg_bin() {
  command -v "$1" 2>/dev/null && return
  ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -1
}
wait_for() { # what, test-command...
  local what=$1; shift
  for _ in $(seq 1 60); do "$@" && return 0; sleep 0.5; done
  echo "services: $what did not come up within 30 s" >&2
  return 1
}

if pg_up; then
  echo "services: Postgres answers at $pg_host:$pg_port"
elif cluster=$(pg_lsclusters -h 2>/dev/null | awk -v p="$pg_port" '$3 == p {print $1, $2; exit}') \
    && [ -n "$cluster" ]; then
  echo "services: starting the installed Postgres cluster $cluster"
  # shellcheck disable=SC2086
  pg_ctlcluster --skip-systemctl-redirect $cluster start
  wait_for Postgres pg_up
elif initdb=$(find_pg_bin initdb) && [ -n "$initdb" ]; then
  pg_ctl=$(dirname "$initdb")/pg_ctl
  data=$root/.data/postgres
  as_owner=()
  mkdir -p "$data"
  if [ "$(id -u)" = 0 ]; then # Postgres refuses to run as root: use the postgres user
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$root/.data" "$data"
    chmod 700 "$data"
    as_owner=(runuser -u postgres --)
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    echo "services: creating a local Postgres cluster in .data/postgres"
    "${as_owner[@]}" "$initdb" -D "$data" -U "$pg_user" --auth=trust >/dev/null
  fi
  echo "services: starting local Postgres on $pg_host:$pg_port"
  "${as_owner[@]}" "$pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-p $pg_port -k $data -c listen_addresses=$pg_host" start >/dev/null
  wait_for Postgres pg_up
else
  echo "services: no Postgres at $pg_host:$pg_port and none installed." >&2
  echo "          Install it (Debian/Ubuntu: apt-get install postgresql) or set DATABASE_URL." >&2
  exit 1
fi

create_db() {
  local name=$1
  if ! psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -Atc \
      "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
    psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -qc "CREATE DATABASE \"$name\""
    echo "services: created database $name"
  fi
}
create_db "$db"
for extra in "$@"; do create_db "$extra"; done

# --- NATS -------------------------------------------------------------------------------
nats_hostport=${NATS_URL#*://}
nats_hostport=${nats_hostport##*@}
nats_hostport=${nats_hostport%%/*}
nats_host=${nats_hostport%%:*}
nats_port=${nats_hostport##*:}
[ "$nats_port" = "$nats_hostport" ] && nats_port=4222
nats_up() { (exec 3<>"/dev/tcp/$nats_host/$nats_port") 2>/dev/null; }

if nats_up; then
  echo "services: NATS answers at $nats_host:$nats_port"
elif [ "$(id -u)" = 0 ] && [ -x /usr/sbin/nats-server ] && [ "$nats_port" = 4222 ]; then
  echo "services: starting the installed nats-server with JetStream"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server
  wait_for NATS nats_up
elif nats=$(command -v nats-server || ls /usr/sbin/nats-server 2>/dev/null) && [ -n "$nats" ]; then
  echo "services: starting a local nats-server with JetStream on $nats_host:$nats_port"
  mkdir -p "$root/.data/nats"
  nohup "$nats" -a "$nats_host" -p "$nats_port" -js -sd "$root/.data/nats" \
    -P "$root/.data/nats.pid" >"$root/.data/nats.log" 2>&1 &
  wait_for NATS nats_up
else
  echo "services: no NATS at $nats_host:$nats_port and no nats-server installed." >&2
  echo "          Install it (Debian/Ubuntu: apt-get install nats-server, or a release from" >&2
  echo "          https://github.com/nats-io/nats-server/releases) or set NATS_URL." >&2
  exit 1
fi
