#!/usr/bin/env bash
# Creates the application role, the replication role and the application database on
# the primary, and sets every role's password to the one in the mounted Secret. The
# postgres image runs /docker-entrypoint-initdb.d/*.sh once, on an empty data directory;
# password-sync.sh runs it again at every start and whenever the Secret changes (it is
# idempotent), which is how a rotated password reaches the roles.
#
# Environment: APP_DATABASE, APP_USER, APP_PASSWORD_FILE, REPLICATION_USER,
# REPLICATION_PASSWORD_FILE; POSTGRES_USER (superuser, default postgres) and
# POSTGRES_PASSWORD_FILE (optional: its password); libpq's PGHOST/PGPORT when not on the
# default socket.
set -euo pipefail

read_secret() {
    if [ ! -r "$1" ]; then
        echo "primary-init: cannot read the password file $1" >&2
        exit 1
    fi
    cat "$1"
}

: "${APP_DATABASE:?APP_DATABASE is required}"
: "${APP_USER:?APP_USER is required}"
: "${REPLICATION_USER:?REPLICATION_USER is required}"
app_password="$(read_secret "${APP_PASSWORD_FILE:?APP_PASSWORD_FILE is required}")"
replication_password="$(read_secret "${REPLICATION_PASSWORD_FILE:?REPLICATION_PASSWORD_FILE is required}")"
superuser_password=""
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
    superuser_password="$(read_secret "$POSTGRES_PASSWORD_FILE")"
fi

# Values travel as psql variables (:'x' quotes a literal, :"x" an identifier), so any
# character in a name or password is safe.
psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --quiet \
    --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    --set app_user="$APP_USER" --set app_password="$app_password" \
    --set app_database="$APP_DATABASE" \
    --set replication_user="$REPLICATION_USER" --set replication_password="$replication_password" \
    --set superuser="${POSTGRES_USER:-postgres}" --set superuser_password="$superuser_password" <<'SQL'
SELECT format('CREATE ROLE %I', :'app_user')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user') \gexec
ALTER ROLE :"app_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'app_password';

SELECT format('CREATE ROLE %I', :'replication_user')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'replication_user') \gexec
ALTER ROLE :"replication_user" WITH LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'replication_password';

SELECT format('CREATE DATABASE %I OWNER %I', :'app_database', :'app_user')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'app_database') \gexec
ALTER DATABASE :"app_database" OWNER TO :"app_user";

SELECT format('ALTER ROLE %I PASSWORD %L', :'superuser', :'superuser_password')
WHERE :'superuser_password' <> '' \gexec

-- The application role reaches its own database only. The replication role may connect
-- to "postgres" to read pg_replication_slots: the replicas and the slot clean-up Job ask
-- whether a slot is still usable, and drop slots that are not.
REVOKE ALL ON DATABASE :"app_database" FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE template1 FROM PUBLIC;
GRANT CONNECT ON DATABASE postgres TO :"replication_user";
SQL
echo "primary-init: roles $APP_USER and $REPLICATION_USER and database $APP_DATABASE are ready, passwords set"
