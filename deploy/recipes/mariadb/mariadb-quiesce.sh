#!/bin/bash
# Quiesces MariaDB (or MySQL) for a snapshot: `mariadb-quiesce.sh pre` takes the read lock and
# keeps it, `mariadb-quiesce.sh post` releases it. One file for both, so that it is installed and
# guarded (0700, owned by root) as one script; the plugin config passes the phase as the first
# param.
#
# FLUSH TABLES WITH READ LOCK lasts only as long as the session that took it, so a one-shot
# `mariadb -e "FLUSH TABLES WITH READ LOCK"` releases it the moment the client exits. Here a
# background client (the holder) takes the lock and then sleeps inside the same session; `post`
# ends that session on the server, which releases the lock at once (killing only the client would
# leave it until the server notices, seconds later). If `post` never comes, the holder's sleep
# ends after --max-hold seconds, and with it the session and the lock. If the agent dies, its
# sentinel ends the holder's process group, and the server drops the lock when it notices.
#
# Before taking its own lock, `pre` ends any holder an earlier run left (a crash between pre and
# post), found on the server by the holder's marker, so writes are never blocked by a forgotten
# session. Then, where the account may (SUPER), it has InnoDB flush its dirty pages so that a copy
# starts with little redo to replay.
#
# Usage: mariadb-quiesce.sh pre  [--defaults-file FILE] [--state-dir DIR] [--max-hold SECONDS]
#                                [--lock-timeout SECONDS] [--flush-timeout SECONDS | --no-flush]
#        mariadb-quiesce.sh post [--defaults-file FILE] [--state-dir DIR]
#   --defaults-file  client options with the credentials, mode 0600, owned by root
#                    (default /etc/quiesce/mariadb.cnf); read alone, nothing else
#   --state-dir      where the holder's pid and output are kept (default /run/quiesce/mariadb)
#   --max-hold       longest the lock may last without `post` (default 300)
#   --lock-timeout   how long to wait for the lock behind running statements (default 20)
#   --flush-timeout  how long to let InnoDB flush (down to 64 dirty pages) before locking (default 10)
# Empty params (the framework's placeholders) are ignored. QUIESCE_PRE_RESULT and
# QUIESCE_SNAPSHOT_RESULT tell `post` why it runs; it releases the lock whatever they say.
set -euo pipefail

# Names the holder's sleeping statement on the server, so that it can be found from any session.
marker=quiesce-read-lock-holder
defaults_file=/etc/quiesce/mariadb.cnf
state_dir=/run/quiesce/mariadb
client=$(command -v mariadb || command -v mysql || true)

fail() {
    echo "$*" >&2
    exit 1
}

positive_integer() { # positive_integer OPTION VALUE
    [[ $2 =~ ^[1-9][0-9]*$ ]] || fail "$1 needs a whole number of seconds, not '${2}'"
    echo "$2"
}

# Sets defaults_file and state_dir from the options; the others are left in `remaining`.
parse_common_options() {
    remaining=()
    while (($#)); do
        case $1 in
        --defaults-file) defaults_file=${2:?--defaults-file needs a file}; shift 2 ;;
        --state-dir) state_dir=${2:?--state-dir needs a directory}; shift 2 ;;
        *) remaining+=("$1"); shift ;;
        esac
    done
}

# The credentials file is guarded like the framework's own files.
check_defaults_file() {
    [[ -n $client ]] || fail "neither mariadb nor mysql (the client) is installed"
    [[ -f $defaults_file ]] || fail "$defaults_file does not exist: write the client options there" \
        "([client] user=..., password=..., socket=...) with mode 0600, owned by root"
    local mode owner
    read -r mode owner < <(stat -c '%a %u' "$defaults_file")
    [[ $mode == 600 && $owner == "$(id -u)" ]] || fail "$defaults_file has mode $mode and owner uid $owner;" \
        "it holds credentials: chown $(id -un) $defaults_file && chmod 600 $defaults_file"
}

sql() {
    "$client" --defaults-file="$defaults_file" --batch --skip-column-names -e "$1"
}

dirty_pages() {
    sql "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'" | awk '{ print $2 }'
}

# Ends, on the server, every session holding our read lock; prints one line per session ended,
# starting with WORDS. Fails with the server's own words if the server cannot be asked.
end_orphaned_holders() { # end_orphaned_holders WORDS
    local holders id seconds
    holders=$(sql "SELECT ID, TIME FROM information_schema.PROCESSLIST
                   WHERE INFO LIKE '%${marker}%' AND ID <> CONNECTION_ID()") || exit 1
    while read -r id seconds; do
        [[ -n $id ]] || continue
        sql "KILL CONNECTION $id" 2>/dev/null || true # it may have ended on its own meanwhile
        echo "$1: ended read-lock holder connection $id (held for $seconds s)"
    done <<<"$holders"
}

quiesce() {
    max_hold=300
    lock_timeout=20
    flush_timeout=10
    parse_common_options "$@"
    set -- "${remaining[@]+"${remaining[@]}"}"
    while (($#)); do
        case $1 in
        --max-hold) max_hold=$(positive_integer "$1" "${2-}"); shift 2 ;;
        --lock-timeout) lock_timeout=$(positive_integer "$1" "${2-}"); shift 2 ;;
        --flush-timeout) flush_timeout=$(positive_integer "$1" "${2-}"); shift 2 ;;
        --no-flush) flush_timeout=0; shift ;;
        "") shift ;; # the framework's empty params
        *) fail "unknown option $1 (see the usage at the top of $0)" ;;
        esac
    done
    check_defaults_file
    mkdir -p -m 0700 "$state_dir"

    end_orphaned_holders "left by an earlier run that never released it"

    restore_flush_setting=
    if ((flush_timeout > 0)); then
        if previous=$(sql "SELECT @@GLOBAL.innodb_max_dirty_pages_pct; SET GLOBAL innodb_max_dirty_pages_pct = 0;" 2>&1); then
            restore_flush_setting=$previous
            trap 'sql "SET GLOBAL innodb_max_dirty_pages_pct = $restore_flush_setting" >/dev/null 2>&1 || true' EXIT
            started=$SECONDS
            dirty=$(dirty_pages)
            # A steady writer keeps a few pages dirty: waiting for none would always take the whole
            # timeout. 64 pages (1 MiB at the default page size) replay in no time.
            while ((dirty > 64 && SECONDS - started < flush_timeout)); do
                sleep 0.2
                dirty=$(dirty_pages)
            done
            echo "InnoDB flushed for $((SECONDS - started)) s: $dirty dirty pages left"
        else
            echo "warning: InnoDB not flushed ahead (${previous##*$'\n'}); a copy will replay more redo" \
                "when it starts. Grant SUPER to the account, or pass --no-flush to skip this step" >&2
        fi
    fi

    # The holder: the marker names its sleeping statement on the server. Its output goes to a file,
    # unbuffered, not to our stdout, and it keeps no other descriptor we were given: whoever runs
    # this script may wait for the end of our output, and the holder must outlive us.
    rm -f "$state_dir/holder.pid" "$state_dir/holder.out"
    (
        for fd in $(ls "/proc/$BASHPID/fd"); do ((fd > 2)) && eval "exec $fd>&-"; done
        exec "$client" --defaults-file="$defaults_file" --unbuffered --batch --skip-column-names -e \
            "SET SESSION lock_wait_timeout = $lock_timeout; FLUSH TABLES WITH READ LOCK;
             SELECT 'LOCKED', CONNECTION_ID(); SELECT '$marker', SLEEP($max_hold);"
    ) >"$state_dir/holder.out" 2>&1 </dev/null &
    holder=$!
    echo "$holder" >"$state_dir/holder.pid"

    deadline=$((SECONDS + lock_timeout + 5))
    while ((SECONDS < deadline)); do
        if connection=$(awk -F'\t' '$1 == "LOCKED" { print $2; exit }' "$state_dir/holder.out") && [[ -n $connection ]]; then
            echo "read-locked by connection $connection (client pid $holder); \`post\` releases it," \
                "or it ends by itself after $max_hold s"
            exit 0
        fi
        if ! kill -0 "$holder" 2>/dev/null; then
            echo "the server refused the read lock:" >&2
            cat "$state_dir/holder.out" >&2
            exit 1
        fi
        sleep 0.05
    done
    kill "$holder" 2>/dev/null || true
    fail "no read lock after $lock_timeout s: long-running statements are holding tables open" \
        "(raise --lock-timeout, or find them with SHOW PROCESSLIST)"
}

release() {
    parse_common_options "$@"
    for option in "${remaining[@]+"${remaining[@]}"}"; do
        [[ -z $option ]] || fail "unknown option $option (see the usage at the top of $0)"
    done
    check_defaults_file
    echo "pre-script ${QUIESCE_PRE_RESULT:-unknown}, snapshot ${QUIESCE_SNAPSHOT_RESULT:-unknown}"

    status=0
    if ended=$(end_orphaned_holders "released"); then
        echo "${ended:-no read-lock holder on the server: nothing to release}"
    else
        status=1 # the server's own words are on stderr already
    fi
    # The client too, its session gone or not: without it the server drops the lock once it
    # notices. Only if it is still our holder (the pid may have been reused).
    if [[ -f $state_dir/holder.pid ]]; then
        pid=$(<"$state_dir/holder.pid")
        if grep -qs "$marker" "/proc/$pid/cmdline"; then kill "$pid" 2>/dev/null || true; fi
        rm -f "$state_dir/holder.pid" "$state_dir/holder.out"
    fi
    exit "$status"
}

phase=${1-}
(($#)) && shift
case $phase in
pre) quiesce "$@" ;;
post) release "$@" ;;
*) fail "the first param must be pre or post, not '$phase' (preScriptParams [\"pre\", ...], postScriptParams [\"post\", ...])" ;;
esac
