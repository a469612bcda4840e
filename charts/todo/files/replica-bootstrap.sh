#!/usr/bin/env bash
# Prepares a streaming replica's data directory before PostgreSQL starts (an init
# container of the replica StatefulSet):
# - empty volume: clone the primary with pg_basebackup -R into a scratch directory and
#   move it into place only when complete, so an interrupted clone is simply redone;
# - existing standby data: keep it and let PostgreSQL resume streaming, unless the
#   primary is a different database cluster (it was re-created), then clone again.
# Each replica streams through its own physical replication slot, named after the pod's
# ordinal, so the primary keeps the WAL it still needs (bounded by max_slot_wal_keep_size).
#
# Environment: PGDATA, PRIMARY_HOST, PRIMARY_PORT (5432), REPLICATION_USER,
# REPLICATION_PASSWORD_FILE, SLOT_NAME (default replica_<ordinal of HOSTNAME>),
# WAIT_SECONDS (default 300): how long to wait for the primary.
set -euo pipefail

log() { echo "replica-bootstrap: $*" >&2; }

: "${PGDATA:?PGDATA is required}"
: "${PRIMARY_HOST:?PRIMARY_HOST is required}"
: "${REPLICATION_USER:?REPLICATION_USER is required}"
port="${PRIMARY_PORT:-5432}"
wait_seconds="${WAIT_SECONDS:-300}"
hostname="${HOSTNAME:-$(hostname)}"
slot="${SLOT_NAME:-replica_${hostname##*-}}"
if ! [[ "$slot" =~ ^[a-z0-9_]{1,63}$ ]]; then
    log "slot name '$slot' is invalid (lowercase letters, digits and _ only); set SLOT_NAME"
    exit 1
fi
if [ ! -r "${REPLICATION_PASSWORD_FILE:?REPLICATION_PASSWORD_FILE is required}" ]; then
    log "cannot read the password file $REPLICATION_PASSWORD_FILE"
    exit 1
fi
PGPASSWORD="$(cat "$REPLICATION_PASSWORD_FILE")"
export PGPASSWORD
conninfo="host=$PRIMARY_HOST port=$port user=$REPLICATION_USER application_name=$slot"

primary_ready() {
    pg_isready --quiet --host="$PRIMARY_HOST" --port="$port" --username="$REPLICATION_USER" --timeout=3
}

wait_for_primary() {
    local deadline=$((SECONDS + wait_seconds))
    until primary_ready; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "the primary $PRIMARY_HOST:$port did not answer within ${wait_seconds}s"
            return 1
        fi
        sleep 2
    done
}

primary_system_id() {
    psql --no-psqlrc --no-password --tuples-only --no-align \
        --dbname="$conninfo replication=true" --command="IDENTIFY_SYSTEM" | cut -d'|' -f1
}

local_system_id() {
    pg_controldata "$PGDATA" | sed -n 's/^Database system identifier: *//p'
}

if [ -s "$PGDATA/PG_VERSION" ]; then
    if [ ! -f "$PGDATA/standby.signal" ]; then
        log "$PGDATA holds a database that is not a standby (was it promoted?); refusing to start it as a replica."
        log "Delete this pod's PersistentVolumeClaim to clone the primary again."
        exit 1
    fi
    if primary_ready; then
        expected="$(primary_system_id)"
        found="$(local_system_id)"
        if [ -n "$expected" ] && [ "$expected" != "$found" ]; then
            log "the primary is a different database cluster ($expected, data has $found); cloning it again"
            rm -rf "$PGDATA"
        fi
    fi
    if [ -s "$PGDATA/PG_VERSION" ]; then
        log "standby data found in $PGDATA; PostgreSQL resumes streaming through slot $slot"
        exit 0
    fi
fi

wait_for_primary
# A slot left from an earlier life of this replica is reused; WAL it held is still useful.
pg_receivewal --create-slot --if-not-exists --slot="$slot" --dbname="$conninfo" --no-password

partial="$PGDATA.partial"
rm -rf "$partial" "$PGDATA"
log "cloning $PRIMARY_HOST:$port into $PGDATA through slot $slot"
pg_basebackup --pgdata="$partial" --dbname="$conninfo" --slot="$slot" \
    --wal-method=stream --write-recovery-conf --checkpoint=fast --no-password
chmod 0700 "$partial"
mv "$partial" "$PGDATA"
log "clone complete"
