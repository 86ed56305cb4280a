#!/usr/bin/env bash
# Refreshes the dashboard's screenshots in docs/screenshots/ by running the dashboard's test in
# headless Chromium with QUIESCE_SCREENSHOTS pointing there (scripts/setup.sh installs chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p docs/screenshots
swift build --build-tests
QUIESCE_SCREENSHOTS="$PWD/docs/screenshots" swift test --skip-build --filter DashboardTests
ls -l docs/screenshots
