#!/usr/bin/env bash
# Load benchmark of the task history and status endpoints (issue 6): a fresh
# PostgreSQL database seeded with API_LOAD_TASKS finished sync tasks (10,000 by
# default), `amzsync serve` on it with the simulator as Amazon, syncs
# triggered in the background the whole time, and wrk (a second process)
# loading each endpoint in turn. Prints requests per second and latency
# percentiles per endpoint, then the PostgreSQL plans of the queries behind
# them (EXPLAIN ANALYZE of the statements the server prepares, run with the
# same parameters).
#
#   scripts/api-load.sh                       # 10,000 tasks, 20 s per endpoint
#   API_LOAD_PROFILE=debug API_LOAD_SECONDS=3 scripts/api-load.sh   # a quick check
#
# Needs PostgreSQL (scripts/services.sh) and psql; installs wrk (Debian) if
# missing. Everything it starts is stopped and its database dropped on exit.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
tasks="${API_LOAD_TASKS:-10000}"
seconds="${API_LOAD_SECONDS:-20}"
connections="${API_LOAD_CONNECTIONS:-8}"
pg="${API_LOAD_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
database="amzsync_load_$$"
work="$target/api-load/run-$$"

command -v psql >/dev/null || { echo "api-load: psql is missing (postgresql-client)" >&2; exit 1; }
if ! command -v wrk >/dev/null; then
  echo "api-load: installing wrk (apt-get)"
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get install -y -qq wrk >/dev/null
fi

# Figures worth comparing come from a release build; API_LOAD_PROFILE=debug
# reuses the test build for a quick check that the harness works.
profile="${API_LOAD_PROFILE:-release}"
echo "api-load: building amzsync ($profile)"
if [[ "$profile" == release ]]; then
  (cd "$root" && cargo build --quiet --locked --release -p amzsync)
else
  (cd "$root" && cargo build --quiet --locked -p amzsync)
fi
amzsync="$target/$([[ "$profile" == release ]] && echo release || echo debug)/amzsync"

log_prefix=api-load
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
unset_amzsync_environment
mkdir -p "$work"
pids=()
status=
cleanup() {
  stop_all 50
  psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  if [[ "${status:-1}" == 0 ]]; then rm -rf "$work"; else echo "api-load: logs kept in $work" >&2; fi
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

psql -q "$pg/postgres" -c "CREATE DATABASE $database" >/dev/null
db="$pg/$database"

start_simulator "$amzsync" --sellers 3 --skus 20

export AMZSYNC_DATABASE_URL="$db"
export AMZSYNC_ENCRYPTION_KEY="$(head -c 32 /dev/urandom | base64)"
export AMZSYNC_AMAZON__ENDPOINT="$sim_url"
export AMZSYNC_AMAZON__LWA_CLIENT_ID="$(field id "$client_line")"
export AMZSYNC_AMAZON__LWA_CLIENT_SECRET="$(field secret "$client_line")"
export AMZSYNC_SYNC__POLL_DELAY_SECONDS=1
export AMZSYNC_SYNC__FIRST_RUN_BACKFILL_DAYS=2
export AMZSYNC_LOG=warn
export AMZSYNC_LOG_FORMAT=json
"$amzsync" migrate >/dev/null
"$amzsync" users add load >/dev/null
token="$("$amzsync" tokens create --user load --name load | tail -n 1)"
while IFS= read -r seller_line; do
  seller_id="$(sed -n 's/^seller \([A-Z0-9]*\):.*/\1/p' <<<"$seller_line")"
  AMZSYNC_STORE_SP_API_REFRESH_TOKEN="$(field sp_api_refresh_token "$seller_line")" \
    AMZSYNC_STORE_ADVERTISING_API_REFRESH_TOKEN="$(field advertising_api_refresh_token "$seller_line")" \
    "$amzsync" stores add --user load --name "Load $seller_id" --region na --marketplace US \
    --seller-id "$seller_id" >/dev/null
done < <(grep '^seller ' "$work/sim.out")
stores="$(psql -qAt "$db" -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM amazon_stores")"

# The history: finished tasks over the last 90 days, one every few minutes,
# round-robin over stores and kinds, one in ten failed. Ids are ULIDs of their
# creation time, as the engine makes them.
echo "api-load: seeding $tasks tasks over stores $stores"
python3 - "$tasks" "$stores" <<'PY' | psql -q "$db" -c "\copy sync_tasks (id, store_id, sync_type, status, trigger, created_at, updated_at, start_time, end_time, records_synced, records_failed, error_class, error_message, attempt) FROM STDIN WITH (FORMAT csv)"
import csv, datetime, random, sys
count, stores = int(sys.argv[1]), [int(s) for s in sys.argv[2].split(",")]
alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
def ulid(ms):
    n = (ms << 80) | random.getrandbits(80)
    return "".join(alphabet[(n >> (5 * i)) & 31] for i in reversed(range(26)))
random.seed(7)
now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
step = datetime.timedelta(days=90) / count
out = csv.writer(sys.stdout)
for i in range(count):
    created = now - step * (count - i)
    started = created + datetime.timedelta(seconds=random.randint(0, 30))
    ended = started + datetime.timedelta(seconds=random.randint(5, 900))
    failed = i % 10 == 7
    out.writerow([
        ulid(int(created.timestamp() * 1000)), stores[i % len(stores)],
        ("inventory", "business", "advertising")[i // len(stores) % 3],
        "failed" if failed else "success", ("scheduled", "manual")[i % 5 == 0],
        created.isoformat(), ended.isoformat(), started.isoformat(), ended.isoformat(),
        0 if failed else random.randint(10, 5000), random.randint(0, 3),
        "transient" if failed else "", "timeout" if failed else "", 1,
    ])
PY
psql -q "$db" -c "ANALYZE" >/dev/null

AMZSYNC_WORKER_CONCURRENCY=2 "$amzsync" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
pids+=($!)
serve_line="$(wait_for_line "$work/serve.err" 'API and dashboard at http://' "${pids[-1]}" "amzsync serve")"
url="$(grep -o 'http://[^ "]*' <<<"$serve_line" | head -n 1)"
url="${url%/}"

# Syncs in the background: every store's three kinds triggered again and
# again (a 409 while one runs is expected), so workers write while wrk reads.
(
  while :; do
    for store in ${stores//,/ }; do
      for kind in inventory business-reports advertising; do
        curl -s -o /dev/null -X POST -H "Authorization: Bearer $token" \
          "$url/api/v1/amazon/stores/$store/sync/$kind" || true
      done
    done
    sleep 1
  done
) &
pids+=($!)

first_store="${stores%%,*}"
today="$(date -u +%F)"
month_ago="$(date -u -d '30 days ago' +%F)"
endpoints=(
  "history, newest first|/api/v1/amazon/sync-tasks?page_size=20"
  "history, store + failed + 30 days|/api/v1/amazon/sync-tasks?store_id=$first_store&status=failed&from=$month_ago&to=$today"
  "history, sorted by duration, page 10|/api/v1/amazon/sync-tasks?sort=duration&page=10&page_size=20"
  "sync status (business)|/api/v1/amazon/stores/$first_store/sync/business-reports/status"
)
echo
echo "api-load: $tasks tasks, syncs running, wrk -t2 -c$connections -d${seconds}s per endpoint"
printf '%-40s %10s %10s %10s %10s\n' endpoint req/s p50 p90 p99
for entry in "${endpoints[@]}"; do
  name="${entry%%|*}"
  path="${entry#*|}"
  code="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$url$path")"
  [[ "$code" == 200 ]] || { echo "api-load: $path answered $code" >&2; exit 1; }
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Authorization: Bearer $token" "$url$path" >"$work/wrk.out"
  rps="$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.out")"
  pct() { awk -v p="$1" '$1 == p {print $2}' "$work/wrk.out"; }
  printf '%-40s %10s %10s %10s %10s\n' "$name" "$rps" "$(pct 50%)" "$(pct 90%)" "$(pct 99%)"
  if grep -q 'Non-2xx' "$work/wrk.out"; then
    echo "api-load: $(grep 'Non-2xx' "$work/wrk.out")" >&2
    exit 1
  fi
done
tasks_now="$(psql -qAt "$db" -c "SELECT count(*) FILTER (WHERE created_at > now() - interval '1 hour') FROM sync_tasks")"
echo "api-load: tasks created by the background syncs during the run: $tasks_now"

# The plans of the statements behind those endpoints, prepared exactly as the
# server prepares them (sync_tasks.rs), executed with the same parameters.
columns="t.id, t.store_id, t.sync_type, t.status, t.start_time, t.end_time, t.records_synced,
  t.records_failed, t.error_message, t.retry_count, t.created_at, t.error_class, t.window_start,
  t.window_end, t.trigger, t.attempt, t.next_attempt_at, t.lease_owner, t.lease_expires_at,
  t.checkpoint, t.progress_done, t.progress_total, t.progress_message, t.updated_at"
condition="(\$1::bigint IS NULL OR s.user_id = \$1) AND (\$2::bigint IS NULL OR t.store_id = \$2)
  AND (\$3::text IS NULL OR t.status = \$3) AND (\$4::text IS NULL OR t.sync_type = \$4)
  AND (\$5::timestamptz IS NULL OR t.created_at >= \$5) AND (\$6::timestamptz IS NULL OR t.created_at < \$6)"
user="$(psql -qAt "$db" -c "SELECT id FROM users WHERE name = 'load'")"
echo
echo "api-load: plans (EXPLAIN ANALYZE)"
psql -q "$db" <<SQL
PREPARE list_newest AS SELECT $columns FROM sync_tasks t JOIN amazon_stores s ON s.id = t.store_id
  WHERE $condition ORDER BY t.created_at DESC, t.id DESC LIMIT \$7 OFFSET \$8;
PREPARE list_duration AS SELECT $columns FROM sync_tasks t JOIN amazon_stores s ON s.id = t.store_id
  WHERE $condition ORDER BY (COALESCE(t.end_time, \$9) - t.start_time) DESC NULLS LAST, t.id DESC
  LIMIT \$7 OFFSET \$8;
PREPARE count_tasks AS SELECT COUNT(*) FROM sync_tasks t JOIN amazon_stores s ON s.id = t.store_id WHERE $condition;
PREPARE latest AS SELECT $columns FROM sync_tasks t JOIN amazon_stores s ON s.id = t.store_id
  WHERE t.store_id = \$1 AND t.sync_type = \$2 AND (\$3::text IS NULL OR t.status = \$3)
    AND (\$4::bigint IS NULL OR s.user_id = \$4)
  ORDER BY t.created_at DESC, t.id DESC LIMIT 1;
PREPARE latest_success AS SELECT $columns FROM sync_tasks t JOIN amazon_stores s ON s.id = t.store_id
  WHERE t.store_id = \$1 AND t.sync_type = \$2 AND (\$3::text IS NULL OR t.status = \$3)
    AND (\$4::bigint IS NULL OR s.user_id = \$4)
  ORDER BY t.end_time DESC, t.id DESC LIMIT 1;
\echo '--- GET /sync-tasks (newest first, page 1)'
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE list_newest($user, NULL, NULL, NULL, NULL, NULL, 20, 0);
\echo '--- its count'
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE count_tasks($user, NULL, NULL, NULL, NULL, NULL);
\echo '--- GET /sync-tasks?store_id&status=failed&from&to'
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE list_newest($user, $first_store, 'failed', NULL,
  '$month_ago', '$today'::date + 1, 20, 0);
\echo '--- GET /sync-tasks?sort=duration&page=10'
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE list_duration($user, NULL, NULL, NULL, NULL, NULL, 20, 180, now());
\echo '--- GET /stores/{id}/sync/business-reports/status: latest task, latest success'
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE latest($first_store, 'business', NULL, $user);
EXPLAIN (ANALYZE, COSTS OFF, SUMMARY ON) EXECUTE latest_success($first_store, 'business', 'success', $user);
SQL
status=0
