#!/bin/bash
# Releases the lock mysql-pre.sh holds, by ending the session that holds it.
# QUIESCE_PRE_RESULT and QUIESCE_SNAPSHOT_RESULT say why we run; the lock is released either way.
set -uo pipefail

state=/run/quiesce/mysql
echo "pre-script ${QUIESCE_PRE_RESULT:-unknown}, snapshot ${QUIESCE_SNAPSHOT_RESULT:-unknown}"
if [[ ! -f $state/holder.pid ]]; then
    echo "no lock holder recorded; nothing to release"
    exit 0
fi
pid=$(cat "$state/holder.pid")
if kill "$pid" 2>/dev/null; then
    # Closing the client's connection ends its session, and with it the read lock.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "released the read lock held by pid $pid"
else
    echo "lock holder pid $pid had already exited"
fi
rm -f "$state/holder.pid" "$state/holder.out"
