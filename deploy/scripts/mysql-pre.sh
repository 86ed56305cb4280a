#!/bin/bash
# Quiesces MySQL for a snapshot and KEEPS it quiesced until mysql-post.sh runs.
#
# FLUSH TABLES WITH READ LOCK only lasts as long as the session that took it, so a one-shot
# `mysql -e "FLUSH TABLES WITH READ LOCK"` releases the lock the moment it returns. Here a
# background client takes the lock and then sleeps inside the same session; the post-script
# ends that session. If the post-script never comes, the lock still ends after MAX_HOLD seconds.
#
# Credentials come from /etc/quiesce/mysql.cnf ([client] user=..., password=...), mode 0600.
set -euo pipefail

MAX_HOLD=${MAX_HOLD:-600}
state=/run/quiesce/mysql
mkdir -p -m 0700 "$state"
rm -f "$state/holder.pid" "$state/holder.out"

# The holder's output goes to a file, not to our stdout: the agent stops reading our output when
# this script exits, and the holder must outlive it.
mysql --defaults-extra-file=/etc/quiesce/mysql.cnf --batch --skip-column-names \
    -e "FLUSH TABLES WITH READ LOCK; SELECT 'LOCKED'; SELECT SLEEP($MAX_HOLD);" \
    > "$state/holder.out" 2>&1 &
echo $! > "$state/holder.pid"

# Wait until the lock is really held (or the client died).
for _ in $(seq 200); do
    if grep -q '^LOCKED$' "$state/holder.out"; then
        echo "MySQL is read-locked by session pid $(cat "$state/holder.pid") for at most ${MAX_HOLD}s"
        exit 0
    fi
    if ! kill -0 "$(cat "$state/holder.pid")" 2>/dev/null; then
        echo "mysql exited before taking the lock:" >&2
        cat "$state/holder.out" >&2
        exit 1
    fi
    sleep 0.1
done
echo "timed out waiting for FLUSH TABLES WITH READ LOCK; long-running queries may be blocking it" >&2
kill "$(cat "$state/holder.pid")" 2>/dev/null || true
exit 1
