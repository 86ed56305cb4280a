#!/usr/bin/env bash
# The fault matrix on separate hosts (docs/reliability.md), as root: five agents in network
# namespaces of their own behind TLS, each with a loop-mounted disk; every phase of a group
# snapshot and of a push under every fault, and the invariants checked after each.
# Usage: scripts/chaos.sh [full|bounded] [TABLE.md]
#   full (the default) runs every cell, about 20 minutes; bounded runs the six that CI runs.
#   The table of outcomes goes to TABLE.md (default /tmp/quiesce-chaos-matrix.md).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-full}
table=${2:-/tmp/quiesce-chaos-matrix.md}
if [[ $(id -u) -ne 0 ]]; then
    echo "chaos: the fault matrix makes network namespaces and freezes disks; run it as root" >&2
    exit 1
fi
scripts/setup.sh
swift build --build-tests
QUIESCE_CHAOS=$mode QUIESCE_CHAOS_REPORT=$table swift test --skip-build --filter QuiesceChaosTests
cat "$table"
