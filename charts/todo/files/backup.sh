#!/usr/bin/env bash
# Logical backups of the application database (the backup CronJob):
#   backup.sh dump     - pg_dump --format=custom into BACKUP_DIR as <prefix>-<UTC time>.dump,
#                        written under a temporary name and renamed when complete; then
#                        keeps the newest KEEP dumps there and deletes older ones.
#   backup.sh upload   - copies the dumps of BACKUP_DIR to S3_URL (s3://bucket/path) with
#                        the aws CLI (S3_ENDPOINT for S3-compatible stores), then keeps the
#                        newest KEEP there too.
# pg_dump reads one snapshot, so a dump is consistent while the application writes.
#
# Environment: PGHOST, PGPORT, PGDATABASE, PGUSER, PASSWORD_FILE (the password of
# PGUSER), BACKUP_DIR, KEEP (default 7), BACKUP_PREFIX (default the database name);
# for upload S3_URL, S3_ENDPOINT (optional), ACCESS_KEY_ID_FILE and SECRET_ACCESS_KEY_FILE
# (or the aws CLI's own AWS_* variables).
set -euo pipefail

log() { echo "backup: $*" >&2; }

keep="${KEEP:-7}"
dir="${BACKUP_DIR:?BACKUP_DIR is required}"
prefix="${BACKUP_PREFIX:-${PGDATABASE:-backup}}"
if ! [[ "$keep" =~ ^[1-9][0-9]*$ ]]; then
    log "KEEP must be a whole number >= 1, got '$keep'"
    exit 1
fi

# Names sort by time: everything past the newest $keep goes.
expired() {
    sort -r | tail -n +"$((keep + 1))"
}

# The dumps in BACKUP_DIR, oldest first (a glob sorts by name, and names by time).
local_dumps() {
    local path
    for path in "$dir/$prefix"-*.dump; do
        [ -e "$path" ] && echo "${path##*/}"
    done
    return 0
}

dump() {
    : "${PGDATABASE:?PGDATABASE is required}" "${PGUSER:?PGUSER is required}"
    if [ -n "${PASSWORD_FILE:-}" ]; then
        PGPASSWORD="$(cat "$PASSWORD_FILE")"
        export PGPASSWORD
    fi
    local name partial
    name="$prefix-$(date -u +%Y%m%dT%H%M%SZ).dump"
    partial="$dir/.partial-$name"
    mkdir -p "$dir"
    log "dumping $PGDATABASE from ${PGHOST:-localhost} into $dir/$name"
    pg_dump --format=custom --no-password --file="$partial" "$PGDATABASE"
    mv "$partial" "$dir/$name"
    local_dumps | expired | while read -r old; do
        log "deleting $old (keeping the newest $keep)"
        rm -f "${dir:?}/$old"
    done
    rm -f "$dir"/.partial-*
    log "done: $(du -h "$dir/$name" | cut -f1) in $dir/$name"
}

upload() {
    local url="${S3_URL:?S3_URL is required}" endpoint=()
    url="${url%/}"
    [ -n "${S3_ENDPOINT:-}" ] && endpoint=(--endpoint-url "$S3_ENDPOINT")
    # The keys come as files from the mounted Secret, never as plain environment values.
    if [ -n "${ACCESS_KEY_ID_FILE:-}" ]; then
        AWS_ACCESS_KEY_ID="$(cat "$ACCESS_KEY_ID_FILE")"
        AWS_SECRET_ACCESS_KEY="$(cat "${SECRET_ACCESS_KEY_FILE:?SECRET_ACCESS_KEY_FILE is required}")"
        export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
    fi
    local_dumps | while read -r name; do
        log "uploading $name to $url/"
        aws "${endpoint[@]}" s3 cp --only-show-errors "$dir/$name" "$url/$name"
    done
    aws "${endpoint[@]}" s3 ls "$url/" | awk '{print $4}' | grep -E "^$prefix-.*\.dump$" | expired |
        while read -r old; do
            log "deleting $url/$old (keeping the newest $keep)"
            aws "${endpoint[@]}" s3 rm --only-show-errors "$url/$old"
        done
}

case "${1:-}" in
    dump) dump ;;
    upload) upload ;;
    *)
        log "usage: backup.sh dump|upload"
        exit 2
        ;;
esac
