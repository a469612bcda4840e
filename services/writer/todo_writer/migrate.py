"""Versioned SQL migrations, applied in order under a PostgreSQL advisory lock.

Files are ``migrations/NNNN_description.sql``; each runs in its own transaction and
is recorded in ``schema_migrations`` with a checksum, so running ``migrate`` twice
does nothing the second time, two pods running it at once take turns, and an
applied file that was edited afterwards stops the run instead of drifting silently.

Items from before accounts existed (this project's shared list, or the original
app's ``todo_list``) belong to no list; ``migrate --owner NAME`` gives them to the
account NAME (created without a password if needed: ``set-password`` sets one).
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

from todo_common.credentials import clean_password, clean_username
from todo_common.db import Database, DatabaseUnavailable, transaction
from todo_common.validation import InvalidField

from . import accounts

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
UNOWNED_SQL = "SELECT count(*) FROM todo_list WHERE list_id IS NULL"
OWNER_SQL = "SELECT id FROM accounts WHERE lower(username) = lower(%(name)s)"
CREATE_OWNER_SQL = "INSERT INTO accounts (username) VALUES (%(name)s) RETURNING id"
OWNER_LIST_SQL = "SELECT min(id) FROM todo_lists WHERE account_id = %(account)s"
CREATE_OWNER_LIST_SQL = "INSERT INTO todo_lists (account_id, name) VALUES (%(account)s, %(name)s) RETURNING id"
ADOPT_SQL = "UPDATE todo_list SET list_id = %(list)s WHERE list_id IS NULL"
ADOPTED_LIST_NAME = "Todo"
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


@dataclass(frozen=True)
class Outcome:
    applied: list[str]
    adopted: int  # items given to the owner
    unowned: int  # items still without an owner (no --owner given)


def _adopt(cur, owner: str | None) -> tuple[int, int]:
    """Give items without a list to ``owner``'s first list; (adopted, left unowned)."""
    cur.execute(UNOWNED_SQL)
    unowned = cur.fetchone()[0]
    if not unowned or owner is None:
        return 0, unowned
    with transaction(cur):
        cur.execute(OWNER_SQL, {"name": owner})
        row = cur.fetchone()
        if row is None:
            cur.execute(CREATE_OWNER_SQL, {"name": owner})
            row = cur.fetchone()
        cur.execute(OWNER_LIST_SQL, {"account": row[0]})
        list_id = cur.fetchone()[0]
        if list_id is None:
            cur.execute(CREATE_OWNER_LIST_SQL, {"account": row[0], "name": ADOPTED_LIST_NAME})
            list_id = cur.fetchone()[0]
        cur.execute(ADOPT_SQL, {"list": list_id})
        adopted = cur.rowcount
    return adopted, 0


def migrate(db: Database, owner: str | None = None) -> Outcome:
    """Apply pending migrations, then give unowned items to ``owner`` if named."""

    def work(cur) -> Outcome:
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
            adopted, unowned = _adopt(cur, owner)
            return Outcome(done, adopted, unowned)
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


def _username(ctx, param, value):
    if value is None:
        return None
    try:
        return clean_username(value)
    except InvalidField as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("migrate")
@click.option(
    "--owner",
    callback=_username,
    envvar="MIGRATE_OWNER",
    help="Account that receives the items from before accounts (created if missing).",
)
def migrate_command(owner: str | None) -> None:
    """Apply pending database migrations (safe to run twice, or concurrently)."""
    try:
        outcome = migrate(current_app.extensions["todo_db"], owner)
    except (MigrationError, DatabaseUnavailable) as exc:
        raise click.ClickException(str(exc)) from exc
    except psycopg2.Error as exc:
        raise click.ClickException(f"migration failed: {str(exc).strip()}") from exc
    done = outcome.applied
    click.echo(f"applied {len(done)} migration(s): {', '.join(done)}" if done else "database is up to date")
    if outcome.adopted:
        click.echo(
            f"gave {outcome.adopted} existing item(s) to the account {owner!r};"
            f" set its password with: flask --app todo_writer set-password {owner}"
        )
    if outcome.unowned:
        click.echo(
            f"warning: {outcome.unowned} item(s) from before accounts belong to nobody and nobody sees them;"
            " run migrate --owner NAME to give them to an account",
            err=True,
        )


@click.command("set-password")
@click.argument("username", callback=_username)
@click.password_option(help="The new password (asked for, twice, when not given).")
def set_password_command(username: str, password: str) -> None:
    """Set an account's password (e.g. the owner of adopted items); ends its sessions."""
    try:
        password = clean_password(password)
    except InvalidField as exc:
        raise click.BadParameter(str(exc), param_hint="password") from None
    if not accounts.set_password(current_app.extensions["todo_db"], username, password):
        raise click.ClickException(f"there is no account named {username!r}")
    click.echo(f"the password of {username!r} is set")


def init_app(app: Flask) -> None:
    app.cli.add_command(migrate_command)
    app.cli.add_command(set_password_command)
