#!/usr/bin/env bash
# The test command: installs what the tests need, checks the style (scripts/lint.sh), builds
# with warnings as errors (set in Package.swift), runs every test, as root the bounded fault
# matrix (scripts/chaos.sh bounded), then fuzzes every parser for QUIESCE_FUZZ_SECONDS (default
# 20) each (scripts/fuzz.sh; 0 skips it). Root-only tests
# (loop-mounted images, FIFREEZE, chown) run as root and are skipped with the reason printed
# otherwise; with CI=true they never skip.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/lint.sh
swift build --build-tests
swift test --skip-build
if [[ $(id -u) -eq 0 || ${CI:-} == true ]]; then
    scripts/chaos.sh bounded
fi
if [[ ${QUIESCE_FUZZ_SECONDS:-20} != 0 ]]; then
    scripts/fuzz.sh "${QUIESCE_FUZZ_SECONDS:-20}"
fi
