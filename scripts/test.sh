#!/usr/bin/env bash
# The test command: installs what the tests need, checks the style (scripts/lint.sh), builds
# with warnings as errors (set in Package.swift), runs every test, as root the bounded fault
# matrix (scripts/chaos.sh bounded), then fuzzes every parser for QUIESCE_FUZZ_SECONDS (default
# 20) each (scripts/fuzz.sh; 0 skips it), and as root builds the Debian packages in debug
# (scripts/package.sh --debug, lintian included) and installs the agent's into a debootstrapped
# Debian 12 root (scripts/package-check.sh; QUIESCE_PACKAGE_CHECK=0 skips both). Root-only tests
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
if [[ ${QUIESCE_PACKAGE_CHECK:-1} != 0 && ($(id -u) -eq 0 || ${CI:-} == true) ]]; then
    scripts/package.sh --debug
    scripts/package-check.sh
fi
