#!/usr/bin/env bash
# Fuzzes every parser that reads outside input (Sources/QuiesceFuzzTargets) with libFuzzer and
# AddressSanitizer. Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   SECONDS_PER_TARGET defaults to 300; CI runs 20. Targets default to all of them.
# New inputs that reach new code go to a scratch corpus (printed), never into the repository; a
# crash stops the run with the input that caused it: copy it to Fuzz/regressions/TARGET/, where
# the tests replay it from then on, and fix the parser.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-300}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
    targets=(plugin-config host-file agent-settings fleet-inventory request-bodies mountinfo)
fi

# A build of its own, instrumented for coverage and checked by ASan; -DQUIESCE_FUZZ makes
# quiesce-fuzz a libFuzzer target instead of a replayer. swiftc keeps only its last -sanitize
# flag, so both go in one (`--sanitize fuzzer --sanitize address` would lose the coverage).
swift build --product quiesce-fuzz --scratch-path .build/fuzz --sanitize fuzzer \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DQUIESCE_FUZZ
binary=.build/fuzz/debug/quiesce-fuzz

work=$(mktemp -d /tmp/quiesce-fuzz.XXXXXX)
echo "scratch corpus and crash inputs: $work (removed when nothing crashes)"
# libFuzzer reports the crash itself; Swift's backtracer would hold the process up meanwhile.
export SWIFT_BACKTRACE=enable=no
for target in "${targets[@]}"; do
    mkdir -p "$work/$target"
    echo "== $target: ${seconds} s"
    if ! "$binary" "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$work/$target-" "$work/$target" "Fuzz/corpus/$target" \
        2> "$work/$target.log"; then
        tail -n 40 "$work/$target.log" >&2
        echo "fuzz: $target crashed; the input is $work/$target-*. Copy it to Fuzz/regressions/$target/" >&2
        exit 1
    fi
    grep -E "stat::number_of_executed_units|stat::new_units_added|stat::peak_rss_mb" "$work/$target.log" | sed "s/^/   /"
done
echo "fuzz: no crash in ${#targets[@]} target(s), ${seconds} s each"
rm -rf "$work"
