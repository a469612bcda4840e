#!/usr/bin/env bash
# Functions the replica scripts share (sourced by replica-start.sh, replica-check.sh,
# password-sync.sh and drop-stale-slots.sh). They talk to the primary as the replication
# role, whose password comes from the mounted Secret through a private passfile: it is
# never written into the data directory.
#
# Environment: PRIMARY_HOST, PRIMARY_PORT (5432), REPLICATION_USER,
# REPLICATION_PASSWORD_FILE, PGPASSFILE (the passfile to write, on a private volume).

log() { echo "${0##*/}: $*" >&2; }

require() {
    local name
    for name in "$@"; do
        if [ -z "${!name:-}" ]; then
            log "$name is required"
            exit 1
        fi
    done
}

# A .pgpass line matches any host and database; ":" and "\" in the password are escaped.
write_passfile() {
    local password escaped tmp
    if [ ! -r "$REPLICATION_PASSWORD_FILE" ]; then
        log "cannot read the password file $REPLICATION_PASSWORD_FILE"
        return 1
    fi
    password="$(cat "$REPLICATION_PASSWORD_FILE")"
    escaped="${password//\\/\\\\}"
    escaped="${escaped//:/\\:}"
    tmp="$PGPASSFILE.tmp"
    (umask 077 && printf '*:*:*:%s:%s\n' "$REPLICATION_USER" "$escaped" >"$tmp")
    mv -f "$tmp" "$PGPASSFILE"
}

primary_conninfo() {
    printf 'host=%s port=%s user=%s passfile=%s application_name=%s' \
        "$PRIMARY_HOST" "${PRIMARY_PORT:-5432}" "$REPLICATION_USER" "$PGPASSFILE" "${1:-replica}"
}

primary_ready() {
    pg_isready --quiet --host="$PRIMARY_HOST" --port="${PRIMARY_PORT:-5432}" --timeout=3
}

# A replication command on the primary (IDENTIFY_SYSTEM, READ_REPLICATION_SLOT ...);
# prints its row as a|b|c.
replication_command() {
    psql --no-psqlrc --no-password --tuples-only --no-align --quiet \
        --dbname="$(primary_conninfo "${SLOT:-replica}") replication=true connect_timeout=5" --command="$1"
}

primary_system_id() {
    replication_command "IDENTIFY_SYSTEM" | cut -d'|' -f1
}

# SQL on the primary's postgres database as the replication role (which may read
# pg_replication_slots and drop slots; primary-init.sh lets it connect there).
primary_sql() {
    psql --no-psqlrc --no-password --tuples-only --no-align --quiet --set=ON_ERROR_STOP=1 \
        --dbname="$(primary_conninfo "${SLOT:-replica}") dbname=postgres connect_timeout=5" "$@"
}

# "ok" when the primary holds the slot with WAL reserved; "missing" when there is no such
# slot; "lost" when it exists but was invalidated (away past max_slot_wal_keep_size, or
# idle past idle_replication_slot_timeout) or never reserved WAL.
slot_state() {
    local state
    state="$(primary_sql --set=slot="$1" <<'SQL'
SELECT CASE WHEN invalidation_reason IS NOT NULL OR wal_status = 'lost' OR restart_lsn IS NULL
            THEN 'lost' ELSE 'ok' END
  FROM pg_replication_slots WHERE slot_name = :'slot'
SQL
)" || return 1
    echo "${state:-missing}"
}

local_system_id() {
    pg_controldata "$PGDATA" | sed -n 's/^Database system identifier: *//p'
}

# Why this data directory cannot resume streaming from the primary, or nothing when it
# can. Call only while the primary answers.
cannot_resume_reason() {
    local expected found state
    expected="$(primary_system_id)" || return 1
    found="$(local_system_id)"
    if [ -n "$expected" ] && [ "$expected" != "$found" ]; then
        echo "the primary is a different database cluster ($expected, the data has $found)"
        return 0
    fi
    state="$(slot_state "$SLOT")" || return 1
    case "$state" in
        missing) echo "the primary has no slot $SLOT (dropped after a scale-down?), so the WAL this data needs may be gone" ;;
        lost) echo "the primary's slot $SLOT was invalidated (away past max_slot_wal_keep_size or idle_replication_slot_timeout)" ;;
    esac
}
