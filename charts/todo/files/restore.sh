#!/usr/bin/env bash
# Restores a dump made by backup.sh into the application database:
#   restore.sh /backups/todo-20260101T000000Z.dump
# The objects in the dump replace those of the same name (--clean --if-exists) in one
# transaction, so a failed restore changes nothing; they end up owned by OWNER (default
# PGUSER), the application role. Run it as the superuser against the primary.
#
# Environment: PGHOST, PGPORT, PGDATABASE, PGUSER, PASSWORD_FILE (optional), OWNER.
set -euo pipefail

dump="${1:?usage: restore.sh DUMP_FILE}"
: "${PGDATABASE:?PGDATABASE is required}" "${PGUSER:?PGUSER is required}"
if [ ! -r "$dump" ]; then
    echo "restore: cannot read $dump" >&2
    exit 1
fi
if [ -n "${PASSWORD_FILE:-}" ]; then
    PGPASSWORD="$(cat "$PASSWORD_FILE")"
    export PGPASSWORD
fi
echo "restore: restoring $dump into $PGDATABASE on ${PGHOST:-localhost}" >&2
pg_restore --no-password --clean --if-exists --no-owner --no-privileges --role="${OWNER:-$PGUSER}" \
    --single-transaction --exit-on-error --dbname="$PGDATABASE" "$dump"
echo "restore: done" >&2
