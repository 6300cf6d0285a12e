# Shared by the scripts that start amzsync servers and the simulator
# (scripts/api-fuzz.sh, scripts/api-load.sh, e2e/run.sh): sourced, not run.
# The caller sets `log_prefix` (its name in messages), `work` (its scratch
# directory, whose *.err files are shown when a process dies) and keeps the
# pids of what it starts in the array `pids`.

# No configuration from the caller's environment (a database URL or a Redis
# queue meant for something else) reaches the servers.
unset_amzsync_environment() {
  local name
  while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep '^AMZSYNC_' || true)
}

# Whether process `pid` still runs (an exited child stays a zombie until
# reaped, and `kill -0` would call it alive).
running() {
  local state
  state="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z* ]]
}

# SIGINT to every process in `pids` (what `amzsync sim` stops on; `serve`
# stops on it too but waits for its running jobs), SIGKILL to whatever is
# still up after `tenths` tenths of a second, then reaps them.
stop_all() {
  local tenths="${1:-50}" pid alive
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 "$tenths"); do
    alive=0
    for pid in "${pids[@]}"; do running "$pid" && alive=1; done
    (( alive )) || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}

# Waits (bounded, 60 s) for a line matching `pattern` in `file` and prints
# it; fails if process `pid` (`what`, for the message) exits first.
wait_for_line() {
  local file="$1" pattern="$2" pid="$3" what="$4"
  for _ in $(seq 1 600); do
    if grep -q -m1 -E "$pattern" "$file" 2>/dev/null; then
      grep -m1 -E "$pattern" "$file"
      return 0
    fi
    if ! running "$pid"; then
      echo "$log_prefix: $what exited:" >&2
      cat "$work"/*.err >&2 || true
      return 1
    fi
    sleep 0.1
  done
  echo "$log_prefix: $what did not start within 60 s" >&2
  return 1
}

# The value of `name=` in a line the simulator printed.
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }

# Starts `amzsync sim` (binary `$1`, then its arguments) into
# $work/sim.out, waits for it, and sets `sim_pid`, `sim_url` (no trailing
# slash) and `client_line` (the LWA client's id and secret).
start_simulator() {
  local amzsync="$1"
  shift
  "$amzsync" sim --listen 127.0.0.1:0 "$@" >"$work/sim.out" 2>"$work/sim.err" &
  sim_pid=$!
  pids+=("$sim_pid")
  wait_for_line "$work/sim.out" '^control API: ' "$sim_pid" "the simulator" >/dev/null
  sim_url="$(sed -n 's/^Amazon simulator at \(http[^ ]*\).*/\1/p' "$work/sim.out" | head -n 1)"
  sim_url="${sim_url%/}"
  client_line="$(grep -m1 '^LWA client: ' "$work/sim.out")"
}
