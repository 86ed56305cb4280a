#!/usr/bin/env bash
# The main job on one machine: `quiesce demo`, a consistent snapshot of an application spread over
# two VMs, restored and checked.
#
# Installs the system packages (PostgreSQL 15 among them), builds both programs, and runs the demo:
# two quiesce-agent processes on loopback, files and db, each with its own disk (as root a
# loop-mounted ext4 image that is really frozen); an application that stores uploads as files on
# files and commits a row per upload with its SHA-256 to PostgreSQL on db; a push (db gets the
# PostgreSQL recipe), a sweep, one group snapshot whose restore verification starts PostgreSQL on
# the copy and finds every row's file, and, for contrast, the two VMs snapshotted one after the
# other, whose copies name files they lack. The demo removes everything it started, also on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
swift build --product quiesce-agent
swift build --product quiesce
exec "$(swift build --show-bin-path)/quiesce" demo "$@"
