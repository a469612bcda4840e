#!/usr/bin/env bash
# Drops the replication slots of replicas that no longer exist (a Job after every
# install and upgrade): slots named replica_<n> with n >= REPLICA_COUNT. A leftover
# slot holds back WAL (up to max_slot_wal_keep_size) and, with hot_standby_feedback,
# vacuum. A slot still in use (a removed replica shutting down) is retried until
# WAIT_SECONDS have passed. A replica that comes back later finds its slot gone and
# clones the primary again (replica-start.sh). Best effort: a primary that does not
# answer, or a slot still busy at the end, is logged and left to
# idle_replication_slot_timeout; only a misconfiguration fails the Job.
#
# Environment: REPLICA_COUNT, WAIT_SECONDS (default 120), and what replica-lib.sh needs.
set -euo pipefail
# shellcheck source=replica-lib.sh
. "$(dirname "$0")/replica-lib.sh"

require REPLICA_COUNT PRIMARY_HOST REPLICATION_USER REPLICATION_PASSWORD_FILE PGPASSFILE
write_passfile
deadline=$((SECONDS + ${WAIT_SECONDS:-120}))
SLOT=slot_cleanup  # application_name of its connections

until primary_ready; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        log "the primary $PRIMARY_HOST did not answer; no slot dropped this time"
        exit 0
    fi
    sleep 2
done

stale() {
    primary_sql --set=count="$REPLICA_COUNT" <<'SQL'
SELECT slot_name, active FROM pg_replication_slots
 WHERE slot_type = 'physical' AND slot_name ~ '^replica_[0-9]+$'
   AND substr(slot_name, 9)::bigint >= :count
 ORDER BY 1
SQL
}

while true; do
    busy=0
    if ! rows="$(stale)"; then
        busy=1
        rows=""
        log "could not list the slots; retrying"
    fi
    while IFS='|' read -r slot active; do
        [ -n "$slot" ] || continue
        if [ "$active" = t ]; then
            busy=1
            log "slot $slot is still in use; retrying"
        elif primary_sql --set=slot="$slot" <<<"SELECT pg_drop_replication_slot(:'slot')" >/dev/null; then
            log "dropped slot $slot"
        else
            busy=1
        fi
    done <<<"$rows"
    [ "$busy" -eq 0 ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
        log "gave up: slots still in use after ${WAIT_SECONDS:-120}s (idle_replication_slot_timeout invalidates them later)"
        exit 0
    fi
    sleep 3
done
log "no slot of a removed replica is left"
