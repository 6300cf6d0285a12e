#!/usr/bin/env bash
# The accuracy suite's long form (issue 8): 60 simulated days of scheduled
# syncs of every kind with restatement on, for each seed and store size, on
# SQLite and PostgreSQL; every stored field is compared with the simulator's
# ground truth and the rows compared and mismatches (must be 0) are printed.
# Needs PostgreSQL and Redis (scripts/services.sh). Not part of CI, which runs
# the short form (one seed per engine, 12 SKUs).
# Usage: scripts/accuracy.sh [SEEDS] [SKUS]   e.g. scripts/accuracy.sh 1,2,3,4 12,200
set -euo pipefail
seeds="${1:-1,2,3,4}"
skus="${2:-12,100}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# The `accuracy` nextest profile never ends a slow test (see .config/nextest.toml).
AMZSYNC_ACCURACY_SEEDS="$seeds" AMZSYNC_ACCURACY_SKUS="$skus" \
    cargo nextest run -p amzsync-sync --locked --profile accuracy --no-capture \
    -E 'test(sixty_days_of_scheduled_syncs)'
