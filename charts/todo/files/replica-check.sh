#!/usr/bin/env bash
# Probes of a streaming replica, run in its container (local socket, as postgres):
#   ready  - streaming from the primary (pg_stat_wal_receiver.status = 'streaming') and
#            within MAX_LAG_BYTES of replay behind what it received. pg_isready alone would
#            keep a replica whose slot was invalidated ready with data frozen in the past.
#   live   - the server answers, and unless it streams, the primary (when it answers) does
#            not say this data can never resume (a different database cluster, or this
#            replica's slot gone or invalidated). Failing restarts the container, and
#            replica-start.sh then clones the primary again.
#
# Environment: PGHOST/PGPORT (the local server), MAX_LAG_BYTES (default 16 MiB); for
# live also what replica-lib.sh needs, and SLOT_NAME or HOSTNAME.
set -euo pipefail
# shellcheck source=replica-lib.sh
. "$(dirname "$0")/replica-lib.sh"

local_query() {
    psql --no-psqlrc --no-password --tuples-only --no-align --quiet \
        --username="${POSTGRES_USER:-postgres}" --dbname=postgres --set=ON_ERROR_STOP=1 "$@"
}

streaming() {
    local answer
    answer="$(local_query --set=max_lag="${MAX_LAG_BYTES:-16777216}" <<'SQL'
SELECT coalesce((SELECT status = 'streaming' FROM pg_stat_wal_receiver), false)
   AND coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0) <= :max_lag
SQL
)" || return 1
    [ "$answer" = t ]
}

case "${1:-}" in
    ready)
        if ! streaming; then
            log "not ready: not streaming from the primary, or replay more than ${MAX_LAG_BYTES:-16777216} bytes behind"
            exit 1
        fi
        ;;
    live)
        pg_isready --quiet --timeout=5 || exit 1
        streaming && exit 0
        require PRIMARY_HOST REPLICATION_USER PGPASSFILE
        hostname="${HOSTNAME:-$(hostname)}"
        SLOT="${SLOT_NAME:-replica_${hostname##*-}}"
        # Unknown (the primary is away, or the question failed) is not a reason to restart.
        primary_ready || exit 0
        reason="$(cannot_resume_reason)" || exit 0
        if [ -n "$reason" ]; then
            log "cannot resume streaming: $reason"
            exit 1
        fi
        ;;
    *)
        log "usage: replica-check.sh ready|live"
        exit 2
        ;;
esac
