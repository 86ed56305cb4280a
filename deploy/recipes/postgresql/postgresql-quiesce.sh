#!/bin/bash
# Prepares PostgreSQL for a snapshot: `postgresql-quiesce.sh pre` runs a CHECKPOINT, so that a copy
# starts with little WAL to replay; `postgresql-quiesce.sh post` has nothing to release. One file for
# both, installed and guarded (0700, owned by root) as one script; the plugin config passes the
# phase as the first param.
#
# Nothing is held. A copy of every file system of the cluster (the data directory, pg_wal when it
# has its own, tablespaces) frozen at one instant is exactly what a crash at that instant leaves,
# and PostgreSQL recovers from that by design. The agent freezes them together (one VM's mounts
# at once, a group's VMs at one cut), which is what PostgreSQL's manual says file-system snapshots
# need. A held pg_backup_start session adds nothing here: its backup_label comes back from
# pg_backup_stop after the snapshot, too late to be in it, and without it recovery from the copy is
# crash recovery anyway (see README.md).
#
# Usage: postgresql-quiesce.sh pre  [--conninfo CONNINFO] [--os-user USER] [--checkpoint-timeout SECONDS]
#        postgresql-quiesce.sh post [--conninfo CONNINFO] [--os-user USER]
#   --conninfo            libpq connection string (default "dbname=postgres"); no password in it:
#                         use peer authentication, or a PGPASSFILE-style file given as
#                         passfile=/etc/quiesce/pgpass (mode 0600, owned by root) with --os-user ""
#   --os-user             the system user psql runs as, for peer authentication over the local
#                         socket (default postgres); "" runs it as root
#   --checkpoint-timeout  longest the CHECKPOINT may take (default 60)
# Empty params (the framework's placeholders) are ignored.
set -euo pipefail

conninfo="dbname=postgres"
os_user=postgres
checkpoint_timeout=60

fail() {
    echo "$*" >&2
    exit 1
}

phase=${1-}
(($#)) && shift
while (($#)); do
    case $1 in
    --conninfo) conninfo=${2:?--conninfo needs a connection string}; shift 2 ;;
    --os-user) os_user=${2-}; shift 2 ;;
    --checkpoint-timeout)
        [[ ${2-} =~ ^[1-9][0-9]*$ ]] || fail "--checkpoint-timeout needs a whole number of seconds, not '${2-}'"
        checkpoint_timeout=$2
        shift 2
        ;;
    "") shift ;;
    *) fail "unknown option $1 (see the usage at the top of $0)" ;;
    esac
done
[[ $conninfo != *password=* ]] || fail "--conninfo must not carry a password (the agent reports params):" \
    "use peer authentication or a passfile= of mode 0600"
command -v psql >/dev/null || fail "psql (the PostgreSQL client) is not installed"

psql_as() {
    if [[ -n $os_user ]]; then
        # From / : psql must not try to read root's working directory as the other user.
        (cd / && runuser -u "$os_user" -- psql "$conninfo" "$@")
    else
        psql "$conninfo" "$@"
    fi
}

case $phase in
pre)
    started=$SECONDS
    # psql says what went wrong on stderr ("connection to server ... failed: ...", "permission
    # denied ..."); the agent quotes it. The account needs superuser or pg_checkpoint.
    psql_as --no-psqlrc --quiet -v ON_ERROR_STOP=1 \
        -c "SET statement_timeout = '${checkpoint_timeout}s'" -c "CHECKPOINT"
    lsn=$(psql_as --no-psqlrc -At -c "SELECT checkpoint_lsn FROM pg_control_checkpoint()" 2>/dev/null) ||
        lsn="unknown: pg_control_checkpoint() needs pg_monitor"
    echo "checkpoint done in $((SECONDS - started)) s (checkpoint at $lsn); nothing is held:" \
        "the agent's freeze of every file system of the cluster at once makes the copy"
    ;;
post)
    echo "pre-script ${QUIESCE_PRE_RESULT:-unknown}, snapshot ${QUIESCE_SNAPSHOT_RESULT:-unknown};" \
        "nothing to release"
    ;;
*) fail "the first param must be pre or post, not '$phase' (preScriptParams [\"pre\", ...], postScriptParams [\"post\", ...])" ;;
esac
