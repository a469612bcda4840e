#!/usr/bin/env bash
# The replica container's command; PostgreSQL's own command line follows as arguments.
# 1. Writes the replication password from the mounted Secret to a private passfile that
#    primary_conninfo names (password-sync.sh keeps it current when the Secret changes).
# 2. Keeps the data directory when it can resume streaming: a standby of the same
#    database cluster as the primary, whose slot the primary still holds with WAL
#    reserved. Otherwise (empty volume, interrupted clone, primary re-created, slot
#    dropped after a scale-down or invalidated) it clones the primary again through the
#    slot, into a scratch directory moved into place only when complete. If the primary
#    does not answer, existing data is started anyway and streams once it is back; the
#    liveness check (replica-check.sh live) restarts the container should it then turn
#    out that the data cannot resume, and this script clones it again.
# 3. Starts PostgreSQL with primary_conninfo (no password in it) and primary_slot_name
#    for this pod's ordinal, given on the command line, so nothing stale in the data
#    directory decides where it streams from.
#
# Environment: PGDATA, PRIMARY_HOST, PRIMARY_PORT, REPLICATION_USER,
# REPLICATION_PASSWORD_FILE, PGPASSFILE, SLOT_NAME (default replica_<ordinal of
# HOSTNAME>), WAIT_SECONDS (default 300): how long to wait for the primary to clone it.
set -euo pipefail
# shellcheck source=replica-lib.sh
. "$(dirname "$0")/replica-lib.sh"

require PGDATA PRIMARY_HOST REPLICATION_USER REPLICATION_PASSWORD_FILE PGPASSFILE
hostname="${HOSTNAME:-$(hostname)}"
SLOT="${SLOT_NAME:-replica_${hostname##*-}}"
if ! [[ "$SLOT" =~ ^[a-z0-9_]{1,63}$ ]]; then
    log "slot name '$SLOT' is invalid (lowercase letters, digits and _ only); set SLOT_NAME"
    exit 1
fi
wait_seconds="${WAIT_SECONDS:-300}"
write_passfile

wait_for_primary() {
    local deadline=$((SECONDS + wait_seconds))
    until primary_ready; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "the primary $PRIMARY_HOST:${PRIMARY_PORT:-5432} did not answer within ${wait_seconds}s"
            return 1
        fi
        sleep 2
    done
}

clone() {
    local partial="$PGDATA.partial" state
    wait_for_primary
    state="$(slot_state "$SLOT")"
    if [ "$state" = lost ]; then
        log "dropping the invalidated slot $SLOT"
        primary_sql --set=slot="$SLOT" <<<"SELECT pg_drop_replication_slot(:'slot')" >/dev/null
    fi
    # Reserves WAL from now on; a slot kept from an earlier life of this replica is reused.
    pg_receivewal --create-slot --if-not-exists --slot="$SLOT" --no-password \
        --dbname="$(primary_conninfo "$SLOT")"
    rm -rf "$partial" "$PGDATA"
    log "cloning $PRIMARY_HOST:${PRIMARY_PORT:-5432} into $PGDATA through slot $SLOT"
    pg_basebackup --pgdata="$partial" --dbname="$(primary_conninfo "$SLOT")" --slot="$SLOT" \
        --wal-method=stream --checkpoint=fast --no-password
    touch "$partial/standby.signal"
    chmod 0700 "$partial"
    mv "$partial" "$PGDATA"
    log "clone complete"
}

if [ -s "$PGDATA/PG_VERSION" ]; then
    if [ ! -f "$PGDATA/standby.signal" ]; then
        log "$PGDATA holds a database that is not a standby (was it promoted?); refusing to start it as a replica."
        log "Delete this pod's PersistentVolumeClaim to clone the primary again."
        exit 1
    fi
    if primary_ready; then
        reason="$(cannot_resume_reason)" || {
            log "could not ask the primary about slot $SLOT; starting the standby data as it is"
            reason=""
        }
        if [ -n "$reason" ]; then
            log "$reason; cloning it again"
            clone
        else
            log "standby data found in $PGDATA; PostgreSQL resumes streaming through slot $SLOT"
        fi
    else
        log "the primary does not answer; starting the standby data in $PGDATA, it streams once the primary is back"
    fi
else
    clone
fi
# Data cloned by earlier versions (pg_basebackup -R) kept primary_conninfo, password
# included, in postgresql.auto.conf: remove it, the command line says where to stream from.
if [ -f "$PGDATA/postgresql.auto.conf" ]; then
    sed -i '/^[[:space:]]*primary_conninfo[[:space:]]*=/d;/^[[:space:]]*primary_slot_name[[:space:]]*=/d' \
        "$PGDATA/postgresql.auto.conf"
fi

if [ "$#" -gt 0 ]; then
    exec "$@" -c "primary_conninfo=$(primary_conninfo "$SLOT")" -c "primary_slot_name=$SLOT"
fi
