#!/usr/bin/env bash
# Browser journeys through the dashboard (STYLE §10). By hand, from anywhere:
#
#   e2e/run.sh
#
# Installs what is missing (Debian's chromium with apt-get, playwright-core
# from package-lock.json with npm ci), builds the `amzsync` binary and the
# dashboard-demo example, and starts three servers on free ports:
#
# - `amzsync sim`: the Amazon simulator, live, with one seller;
# - `amzsync serve` over a fresh data dir (SQLite, embedded queue), with the
#   simulator as Amazon: the journeys that need a running engine (add a store,
#   sync, a revoked grant, retry) use it;
# - the dashboard-demo example over a freshly seeded SQLite file: the journeys
#   that need history no engine could make in seconds (30 days of charts,
#   several stores, filters).
#
# Then runs the journeys and leaves a screenshot of each page in
# $CARGO_TARGET_DIR (or target)/e2e-screenshots/. Every process started here
# is stopped on exit, whatever the outcome.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
chromium="${CHROMIUM:-/usr/bin/chromium}"
target="${CARGO_TARGET_DIR:-$root/target}"
# This run's own directory (data dirs, logs): another run sharing the target
# dir, say from a second worktree, neither sees nor removes it.
work="$target/e2e/run-$$"
shots="$target/e2e-screenshots"
started=$SECONDS

# Debian packages: the browser, and a Chinese font so the zh-CN screenshots
# show characters rather than boxes.
packages=()
[[ -x "$chromium" ]] || packages+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || packages+=(fonts-wqy-microhei)
if (( ${#packages[@]} )); then
  echo "e2e: installing ${packages[*]} (apt-get)"
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${packages[@]}" >/dev/null
fi

if [[ ! -d "$here/node_modules/playwright-core" ]]; then
  echo "e2e: installing playwright-core (npm ci)"
  # The browser is Debian's: never let a package download one.
  (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
fi

echo "e2e: building amzsync and the dashboard-demo server"
(cd "$root" && cargo build --quiet -p amzsync && cargo build --quiet -p amzsync-web --example dashboard-demo)
amzsync="$target/debug/amzsync"

log_prefix=e2e
# shellcheck source=../scripts/lib.sh
source "$root/scripts/lib.sh"
# The run is hermetic: no configuration from the caller's environment (a
# database URL or a Redis queue meant for something else) reaches the servers.
unset_amzsync_environment

rm -rf "$shots"
mkdir -p "$work" "$shots"

pids=()
status=
journeys=
cleanup() {
  # The journeys' process group first (it may hold pages open on the servers).
  if [[ -n "$journeys" ]]; then
    kill -INT -- "-$journeys" 2>/dev/null || true
    for _ in $(seq 1 30); do running "$journeys" || break; sleep 0.1; done
    kill -KILL -- "-$journeys" 2>/dev/null || true
  fi
  stop_all 30
  # The logs are kept for a failed run only.
  [[ "${status:-1}" == 0 ]] && rm -rf "$work"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. The seeded dashboard-demo server (a fresh database each run: it seeds it).
"$target/debug/examples/dashboard-demo" --db "$work/demo.db" >"$work/demo.out" 2>"$work/demo.err" &
pids+=($!)
demo_pid=$!

# 2. The Amazon simulator: one seller with ten SKUs per marketplace, a real
#    second being a simulated minute.
start_simulator "$amzsync" --speed 60 --sellers 1 --skus 10
seller_line="$(grep -m1 '^seller ' "$work/sim.out")"
seller_id="$(sed -n 's/^seller \([A-Z0-9]*\):.*/\1/p' <<<"$seller_line")"
sp_token="$(field sp_api_refresh_token "$seller_line")"
ads_token="$(field advertising_api_refresh_token "$seller_line")"
lwa_id="$(field id "$client_line")"
lwa_secret="$(field secret "$client_line")"
for v in sim_url seller_id sp_token ads_token lwa_id lwa_secret; do
  [[ -n "${!v}" ]] || { echo "e2e: could not read $v from the simulator's output:" >&2; cat "$work/sim.out" >&2; exit 1; }
done
# `amzsync sim` starts its clock at a pinned date (reproducible ground truth),
# while the engine in `serve` plans its report windows from the real date:
# move the simulated now to the real now, so yesterday is yesterday for both.
clock="$(curl -fsS "$sim_url/_sim/clock")"
behind="$(node -e 'const n = Date.parse(JSON.parse(process.argv[1]).now);
  process.stdout.write(String(Math.max(0, Math.floor((Date.now() - n) / 1000))))' "$clock")"
curl -fsS -X POST "$sim_url/_sim/clock/advance" -H 'content-type: application/json' \
  -d "{\"seconds\": $behind}" >/dev/null
echo "e2e: simulator at $sim_url (seller $seller_id)"

# 3. `amzsync serve` over a fresh data dir, with the simulator as Amazon,
#    polls and retries a second apart and short report windows (the client
#    paces createReport at Amazon's real rate, so a month would take minutes).
export AMZSYNC_DATA_DIR="$work/data"
export AMZSYNC_AMAZON__ENDPOINT="$sim_url"
export AMZSYNC_AMAZON__LWA_CLIENT_ID="$lwa_id"
export AMZSYNC_AMAZON__LWA_CLIENT_SECRET="$lwa_secret"
export AMZSYNC_SYNC__POLL_DELAY_SECONDS=1
export AMZSYNC_SYNC__RETRY_DELAY_SECONDS=1
export AMZSYNC_SYNC__FIRST_RUN_BACKFILL_DAYS=3
export AMZSYNC_SYNC__BUSINESS_LOOKBACK_DAYS=3
export AMZSYNC_SYNC__ADS_LOOKBACK_DAYS=3
export AMZSYNC_LOG_FORMAT=json
# The journeys count the tasks they trigger; the real clock's default
# schedules (02:00, 02:30, 03:00 UTC) would add scheduled ones to a run at
# that hour. Every kind ticks instead at noon on a day of the month ten days
# from today's: nothing to catch up on start, nothing due during the run.
day="$(date -u +%-d)"
if (( day <= 14 )); then day=$((day + 10)); else day=$((day - 10)); fi
export AMZSYNC_SYNC__TIME_ZONE=UTC
for kind in INVENTORY BUSINESS ADVERTISING; do
  export "AMZSYNC_SYNC__${kind}_CRON=0 12 $day * *"
done
"$amzsync" users add e2e >/dev/null
live_token="$("$amzsync" tokens create --user e2e --name e2e | tail -n 1)"
[[ "$live_token" == amzs_* ]] || { echo "e2e: tokens create printed no token" >&2; exit 1; }
"$amzsync" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
pids+=($!)
serve_pid=$!
serve_line="$(wait_for_line "$work/serve.err" 'API and dashboard at http://' "$serve_pid" "amzsync serve")"
live_url="$(grep -o 'http://[^ ]*' <<<"$serve_line" | head -n 1)"
live_url="${live_url%/}"
echo "e2e: amzsync serve at $live_url"

# The seeded server prints one JSON line once it listens.
line="$(wait_for_line "$work/demo.out" '^\{' "$demo_pid" "the dashboard-demo server")"
url="$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).url)' "$line")"
token="$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).token)' "$line")"
echo "e2e: dashboard-demo at $url"

# The journeys run in a process group of their own (node, the test file's
# process, chromium), waited for in the background so that a signal to this
# script stops them at once, the whole group.
cd "$here"
AMZSYNC_URL="$url" AMZSYNC_TOKEN="$token" \
  LIVE_URL="$live_url" LIVE_TOKEN="$live_token" SIM_URL="$sim_url" SIM_SELLER_ID="$seller_id" \
  SIM_SP_TOKEN="$sp_token" SIM_ADS_TOKEN="$ads_token" \
  SCREENSHOTS="$shots" CHROMIUM="$chromium" \
  setsid node --test --test-concurrency=1 journeys.test.mjs &
journeys=$!
run_status=0
wait "$journeys" || run_status=$?
journeys=
status=$run_status

if (( status )); then
  echo "e2e: failed; server logs kept in $work (serve.err, sim.out, demo.err)" >&2
fi
echo "e2e: screenshots in $shots ($(ls "$shots" | wc -l) files); $((SECONDS - started)) s"
exit "$status"
