#!/usr/bin/env bash
# The main job on one machine: `quiesce demo`, a consistent snapshot of a group of three VMs.
#
# Installs the system packages, builds both programs, and runs the demo: three quiesce-agent
# processes on loopback, each with its own disk (as root a loop-mounted ext4 image that is really
# frozen), an application writing to all three, a push, a sweep, one group snapshot, and the proof
# that the three copies are one consistent cut. The demo removes everything it started, also on
# Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
swift build --product quiesce-agent
swift build --product quiesce
exec "$(swift build --show-bin-path)/quiesce" demo "$@"
