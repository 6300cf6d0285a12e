#!/usr/bin/env bash
# Runs every `cargo fuzz` target of fuzz/ (the document decoder and the report
# parsers of amzsync-amazon) for SECONDS each (default 60), one after another,
# and prints what each did. Not part of CI. Usage: scripts/fuzz.sh [SECONDS]
#
# cargo-fuzz passes nightly-only flags to rustc (-Zsanitizer=address, coverage
# instrumentation); on a stable toolchain RUSTC_BOOTSTRAP=1 lets rustc accept
# them, which is how this runs without nightly. Findings land in
# fuzz/artifacts/<target>/; reproduce one with
# `RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/<file>`.
set -euo pipefail
seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/fuzz"

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
if ! rustc --version | grep -q nightly; then
    export RUSTC_BOOTSTRAP=1
fi

# Seeds: the example documents, behind the selector byte some targets read first.
seed() {
    local target=$1 prefix=$2 file=$3
    mkdir -p "corpus/$target"
    { printf "$prefix"; cat "$root/testdata/amazon-api/$file"; } >"corpus/$target/seed-$file"
}
seed document_decode '\x00' sales_and_traffic_sku_day.json.gz
seed document_decode '\x0a' fba_myi_unsuppressed_inventory_de_cp1252.tsv
seed document_decode '\x00' ads_sp_advertised_product_daily.json.gz
seed fba_inventory '\x00' fba_myi_unsuppressed_inventory.tsv
seed fba_inventory '\x00' fba_myi_unsuppressed_inventory_de_cp1252.tsv
seed ledger '' ledger_summary_daily.tsv
seed sales_traffic '' sales_and_traffic_sku_day.json
seed ads_report_rows '\x00' ads_sp_advertised_product_daily.json
seed ads_report_rows '\x03' ads_sp_targeting_summary.json

cargo fuzz build
mkdir -p logs
failed=()
for target in $(cargo fuzz list); do
    echo "== $target: ${seconds}s"
    log="logs/$target.log"
    if cargo fuzz run "$target" -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 >"$log" 2>&1; then
        grep -E '^Done [0-9]+ runs' "$log" || tail -n 3 "$log"
    else
        failed+=("$target")
        tail -n 30 "$log"
    fi
done

if ((${#failed[@]})); then
    echo "Findings in: ${failed[*]} (see fuzz/logs/ and fuzz/artifacts/)" >&2
    exit 1
fi
echo "No findings."
