#!/usr/bin/env bash
# Applies the passwords of the mounted Secret while PostgreSQL runs (a sidecar of the
# primary and of each replica). Kubernetes updates a mounted Secret's files in place
# when the Secret changes (by hand, by an operator, or by switching existingSecret), so
# the passwords are checked every INTERVAL seconds and, when they differ from the last
# ones applied (and at start):
#   ROLE=primary  - runs primary-init.sh over the local socket: ALTER ROLE ... PASSWORD
#                   for the superuser, the application role and the replication role;
#   ROLE=replica  - rewrites the passfile primary_conninfo names: the next connection to
#                   the primary uses the new password (the running one stays up).
# ONCE=1 applies once and exits (non-zero when it could not). Environment: as
# primary-init.sh (primary) or replica-lib.sh (replica).
set -euo pipefail
here="$(dirname "$0")"
# shellcheck source=replica-lib.sh
. "$here/replica-lib.sh"

interval="${INTERVAL:-10}"
role="${ROLE:?ROLE is primary or replica}"

fingerprint() {
    local file
    for file in "${POSTGRES_PASSWORD_FILE:-}" "${APP_PASSWORD_FILE:-}" "${REPLICATION_PASSWORD_FILE:-}"; do
        if [ -n "$file" ] && [ -r "$file" ]; then
            sha256sum "$file"
        fi
    done | sha256sum
}

apply() {
    case "$role" in
        primary)
            # Over TCP: the image's first-start server listens only on the socket, and its
            # own run of primary-init.sh is not to be raced.
            pg_isready --quiet --host=127.0.0.1 --timeout=5 || return 1
            bash "$here/primary-init.sh"
            ;;
        replica)
            write_passfile
            log "passfile updated"
            ;;
        *)
            log "ROLE must be primary or replica, not $role"
            exit 2
            ;;
    esac
}

applied=""
while true; do
    current="$(fingerprint)"
    if [ "$current" != "$applied" ]; then
        if apply; then
            applied="$current"
        elif [ -n "${ONCE:-}" ]; then
            exit 1
        fi
    fi
    [ -n "${ONCE:-}" ] && exit 0
    sleep "$interval"
done
