#!/usr/bin/env bash
# The test command: installs what the tests need, checks the style (scripts/lint.sh), builds
# with warnings as errors (set in Package.swift), runs every test, as root the bounded fault
# matrix (scripts/chaos.sh bounded), then fuzzes every parser for QUIESCE_FUZZ_SECONDS (default
# 20) each (scripts/fuzz.sh; 0 skips it), and as root builds the agent's Debian package in debug
# (scripts/package.sh --debug --agent-only, lintian included) and installs it into a debootstrapped
# Debian 12 root (scripts/package-check.sh; QUIESCE_PACKAGE_CHECK=0 skips both). Root-only tests
# (loop-mounted images, FIFREEZE, chown) run as root and are skipped with the reason printed
# otherwise; with CI=true they never skip.
set -euo pipefail
cd "$(dirname "$0")/.."
stage() { echo "== test.sh: $* ($(date -u +%H:%M:%S))"; }
packaging=false
if [[ ${QUIESCE_PACKAGE_CHECK:-1} != 0 && ($(id -u) -eq 0 || ${CI:-} == true) ]]; then packaging=true; fi

stage setup
scripts/setup.sh
scripts/lint.sh
stage build
swift build --build-tests
stage tests
swift test --skip-build
if [[ $(id -u) -eq 0 || ${CI:-} == true ]]; then
    stage "fault matrix"
    scripts/chaos.sh bounded
fi
if $packaging; then
    # The packages build and the Debian root downloads while the fuzzer runs on one core; the
    # tests and the fault matrix, which measure time, are over by then.
    stage "packages and a Debian root, in the background"
    root=$(mktemp -d /tmp/quiesce-debootstrap.XXXXXX)
    scripts/package.sh --debug --agent-only > "$root.package.log" 2>&1 &
    package_build=$!
    scripts/package-check.sh --prepare "$root" > "$root.prepare.log" 2>&1 &
    root_build=$!
    trap 'kill $package_build $root_build 2>/dev/null || true
        findmnt -rn -o TARGET | grep -F "$root/" | sort -r | xargs -r umount -l || true
        rm -rf --one-file-system "$root" "$root".*.log' EXIT
fi
if [[ ${QUIESCE_FUZZ_SECONDS:-20} != 0 ]]; then
    stage fuzzing
    scripts/fuzz.sh "${QUIESCE_FUZZ_SECONDS:-20}"
fi
if $packaging; then
    stage "waiting for the packages and the root"
    wait "$package_build" || { cat "$root.package.log"; echo "scripts/package.sh failed" >&2; exit 1; }
    grep -E "^(built|lintian|W:|E:)" "$root.package.log" || true
    wait "$root_build" || { cat "$root.prepare.log"; echo "debootstrap failed" >&2; exit 1; }
    stage "package check"
    scripts/package-check.sh --root "$root"
fi
stage done
