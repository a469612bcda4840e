"""Versioned SQL migrations, applied in order under a PostgreSQL advisory lock.

Files are ``migrations/NNNN_description.sql``; each runs in its own transaction and
is recorded in ``schema_migrations`` with a checksum, so running ``migrate`` twice
does nothing the second time, two pods running it at once take turns, and an
applied file that was edited afterwards stops the run instead of drifting silently.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources

import click
import psycopg2
from flask import Flask, current_app

from todo_common.db import Database, DatabaseUnavailable, transaction

log = logging.getLogger(__name__)

# Any constant shared by all migrators; "todo" in ASCII.
LOCK_ID = 0x746F646F

_FILENAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

LOCK_TIMEOUT_SQL = "SET lock_timeout = '60s'"
LOCK_SQL = "SELECT pg_advisory_lock(%(id)s)"
UNLOCK_SQL = "SELECT pg_advisory_unlock(%(id)s)"
CREATE_TABLE_SQL = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version text PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now())"""
TABLE_EXISTS_SQL = "SELECT to_regclass('schema_migrations') IS NOT NULL"
APPLIED_SQL = "SELECT version, name, checksum FROM schema_migrations"
RECORD_SQL = "INSERT INTO schema_migrations (version, name, checksum) VALUES (%(version)s, %(name)s, %(checksum)s)"


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationError(RuntimeError):
    pass


def available() -> list[Migration]:
    found = []
    for entry in resources.files("todo_writer.migrations").iterdir():
        match = _FILENAME.match(entry.name)
        if match:
            found.append(Migration(match.group(1), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def migrate(db: Database) -> list[str]:
    """Apply pending migrations; return the names applied (empty if up to date)."""

    def work(cur) -> list[str]:
        cur.execute(LOCK_TIMEOUT_SQL)
        cur.execute(LOCK_SQL, {"id": LOCK_ID})
        try:
            cur.execute(CREATE_TABLE_SQL)
            cur.execute(APPLIED_SQL)
            applied = {version: (name, checksum) for version, name, checksum in cur.fetchall()}
            done = []
            for migration in available():
                if migration.version in applied:
                    name, checksum = applied[migration.version]
                    if checksum != migration.checksum:
                        raise MigrationError(
                            f"migration {name} was changed after it was applied; add a new migration instead"
                        )
                    continue
                log.info("applying migration %s", migration.name)
                with transaction(cur):
                    cur.execute(migration.sql)
                    cur.execute(
                        RECORD_SQL,
                        {"version": migration.version, "name": migration.name, "checksum": migration.checksum},
                    )
                done.append(migration.name)
            return done
        finally:
            if not cur.connection.closed:
                cur.execute(UNLOCK_SQL, {"id": LOCK_ID})

    return db.run(work, retry=False)


def pending(db: Database) -> list[str]:
    """Names of migrations not yet applied (all of them on an empty database)."""

    def work(cur) -> list[str]:
        cur.execute(TABLE_EXISTS_SQL)
        if not cur.fetchone()[0]:
            return [m.name for m in available()]
        cur.execute(APPLIED_SQL)
        applied = {row[0] for row in cur.fetchall()}
        return [m.name for m in available() if m.version not in applied]

    return db.run(work)


@click.command("migrate")
def migrate_command() -> None:
    """Apply pending database migrations (safe to run twice, or concurrently)."""
    try:
        done = migrate(current_app.extensions["todo_db"])
    except (MigrationError, DatabaseUnavailable) as exc:
        raise click.ClickException(str(exc)) from exc
    except psycopg2.Error as exc:
        raise click.ClickException(f"migration failed: {str(exc).strip()}") from exc
    click.echo(f"applied {len(done)} migration(s): {', '.join(done)}" if done else "database is up to date")


def init_app(app: Flask) -> None:
    app.cli.add_command(migrate_command)
