"""The writer's SQL. Every function returns the primary's WAL position after its
change committed, which the reader waits for to give read-your-writes."""

from __future__ import annotations

import hashlib
import json

from todo_common.db import Database, transaction

COLUMNS = "id, name, completed, position"

# After an autocommit statement returns, its commit record is in the WAL below this.
CURRENT_LSN = "SELECT pg_current_wal_lsn()::text"


class NotFound(LookupError):
    pass


class KeyReused(ValueError):
    """An Idempotency-Key came back with a different request body."""


def _todo(row) -> dict:
    id_, name, completed, position = row
    return {"id": id_, "name": name, "completed": completed, "order": position}


def _lsn(cur) -> str:
    cur.execute(CURRENT_LSN)
    return cur.fetchone()[0]


def create(db: Database, name: str, completed: bool, order: int | None) -> tuple[dict, str]:
    def work(cur):
        cur.execute(
            f"INSERT INTO todo_list (name, completed, position) VALUES (%s, %s, %s) RETURNING {COLUMNS}",
            (name, completed, order),
        )
        todo = _todo(cur.fetchone())
        return todo, _lsn(cur)

    # A lost reply may hide a committed INSERT: never repeat it blindly.
    return db.run(work, retry=False)


def create_idempotent(
    db: Database, key: str, name: str, completed: bool, order: int | None, ttl_hours: int
) -> tuple[dict, str, bool]:
    """Create once per key. Returns (todo, lsn, replayed). A concurrent request with
    the same key waits on the key's row lock and then replays the first answer."""
    request_hash = hashlib.sha256(json.dumps([name, completed, order]).encode()).hexdigest()

    def work(cur):
        with transaction(cur):
            cur.execute(
                "DELETE FROM idempotency_keys WHERE key = %s AND created_at < now() - make_interval(hours => %s)",
                (key, ttl_hours),
            )
            cur.execute(
                "INSERT INTO idempotency_keys (key, request_hash, response) VALUES (%s, %s, '{}')"
                " ON CONFLICT (key) DO NOTHING RETURNING key",
                (key, request_hash),
            )
            if cur.fetchone() is None:
                cur.execute("SELECT request_hash, response FROM idempotency_keys WHERE key = %s", (key,))
                stored_hash, response = cur.fetchone()
                if stored_hash != request_hash:
                    raise KeyReused(key)
                replay = (response, True)
            else:
                cur.execute(
                    f"INSERT INTO todo_list (name, completed, position) VALUES (%s, %s, %s) RETURNING {COLUMNS}",
                    (name, completed, order),
                )
                todo = _todo(cur.fetchone())
                cur.execute("UPDATE idempotency_keys SET response = %s WHERE key = %s", (json.dumps(todo), key))
                replay = (todo, False)
        todo, replayed = replay
        return todo, _lsn(cur), replayed

    # Safe to retry: the key makes a second run a replay.
    return db.run(work)


def update(db: Database, todo_id: int, changes: dict) -> tuple[dict, str]:
    """Apply ``changes`` (keys among name, completed, order) to one item."""
    column_of = {"name": "name", "completed": "completed", "order": "position"}
    assignments = ", ".join(f"{column_of[field]} = %s" for field in changes)
    values = [changes[field] for field in changes]

    def work(cur):
        if assignments:
            cur.execute(f"UPDATE todo_list SET {assignments} WHERE id = %s RETURNING {COLUMNS}", (*values, todo_id))
        else:
            cur.execute(f"SELECT {COLUMNS} FROM todo_list WHERE id = %s", (todo_id,))
        row = cur.fetchone()
        if row is None:
            raise NotFound(todo_id)
        return _todo(row), _lsn(cur)

    return db.run(work)


def delete(db: Database, todo_id: int) -> str:
    def work(cur):
        cur.execute("DELETE FROM todo_list WHERE id = %s", (todo_id,))
        if cur.rowcount == 0:
            raise NotFound(todo_id)
        return _lsn(cur)

    return db.run(work, retry=False)


def delete_all(db: Database, *, completed_only: bool) -> tuple[int, str]:
    def work(cur):
        cur.execute("DELETE FROM todo_list WHERE completed" if completed_only else "DELETE FROM todo_list")
        return cur.rowcount, _lsn(cur)

    return db.run(work)


def set_all_completed(db: Database, completed: bool) -> tuple[int, str]:
    def work(cur):
        cur.execute("UPDATE todo_list SET completed = %s WHERE completed <> %s", (completed, completed))
        return cur.rowcount, _lsn(cur)

    return db.run(work)


def purge_idempotency_keys(db: Database, ttl_hours: int) -> int:
    def work(cur):
        cur.execute("DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => %s)", (ttl_hours,))
        return cur.rowcount

    return db.run(work)
