#!/usr/bin/env bash
# Browser journeys through the dashboard (STYLE §10). By hand, from anywhere:
#
#   e2e/run.sh
#
# Installs what is missing (Debian's chromium with apt-get, playwright-core
# from package-lock.json with npm ci), builds and starts the dashboard-demo
# server over a freshly seeded SQLite file on a free port, runs the journeys,
# and leaves a screenshot of each page in target/e2e-screenshots/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
chromium="${CHROMIUM:-/usr/bin/chromium}"
target="${CARGO_TARGET_DIR:-$root/target}"
work="$target/e2e"
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

echo "e2e: building the dashboard-demo server"
(cd "$root" && cargo build --quiet -p amzsync-web --example dashboard-demo)

mkdir -p "$work"
# A fresh database each run: the server seeds it.
rm -f "$work"/demo.db*
rm -rf "$shots"
mkdir -p "$shots"
out="$work/server.out"
"$target/debug/examples/dashboard-demo" --db "$work/demo.db" >"$out" 2>"$work/server.err" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT

# Wait for the one JSON line the server prints once it listens (bounded).
for _ in $(seq 1 600); do
  if [[ -s "$out" ]]; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then
    echo "e2e: the server exited:" >&2
    cat "$work/server.err" >&2
    exit 1
  fi
  sleep 0.1
done
line="$(head -n 1 "$out")"
[[ -n "$line" ]] || { echo "e2e: the server did not start" >&2; exit 1; }
url="$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).url)' "$line")"
token="$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).token)' "$line")"
echo "e2e: server at $url"

status=0
(cd "$here" && AMZSYNC_URL="$url" AMZSYNC_TOKEN="$token" SCREENSHOTS="$shots" CHROMIUM="$chromium" \
  node --test --test-concurrency=1 journeys.test.mjs) || status=$?

echo "e2e: screenshots in $shots ($(ls "$shots" | wc -l) files); $((SECONDS - started)) s"
exit "$status"
