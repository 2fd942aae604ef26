#!/bin/sh
# Fuzzes every target in turn, one process at a time at the lowest priority: SECONDS each
# (default 480), then the next. Usage: fuzz/run-all.sh [SECONDS] [TARGET...]
# Findings land in fuzz/artifacts/TARGET/; each target's log in fuzz/logs/TARGET.log.
set -u
cd "$(dirname "$0")"
seconds=${1:-480}
[ $# -gt 0 ] && shift
targets=${*:-"definition jsonpath intrinsics jsonata payload_template api_request sigv4"}
mkdir -p logs
for t in $targets; do
    mkdir -p "corpus/$t" "artifacts/$t"
    RUSTC_BOOTSTRAP=1 nice -n 19 cargo fuzz run ${FUZZ_FLAGS:-} "$t" "corpus/$t" -- \
        -max_total_time="$seconds" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="artifacts/$t/" >"logs/$t.log" 2>&1
    echo "$t: exit $?"
done
