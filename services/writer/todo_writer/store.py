"""The writer's SQL, one constant per statement, and the functions the API calls.

Every function returns the primary's WAL position after its change committed, which
the reader waits for to give read-your-writes.
"""

from __future__ import annotations

import hashlib
import json

from todo_common.db import Database, transaction

# A todo as the API shows it: the column is ``position``, the field ``order``.
_RETURNING = "RETURNING id, name, completed, position"

INSERT_SQL = (
    f"INSERT INTO todo_list (name, completed, position) VALUES (%(name)s, %(completed)s, %(order)s) {_RETURNING}"
)

# One statement for any subset of the fields: each set_* flag says whether its field
# changes. (A row update writes the whole row whichever columns are named.)
UPDATE_SQL = f"""
UPDATE todo_list SET
    name = CASE WHEN %(set_name)s THEN %(name)s ELSE name END,
    completed = CASE WHEN %(set_completed)s THEN %(completed)s ELSE completed END,
    position = CASE WHEN %(set_order)s THEN %(order)s ELSE position END
WHERE id = %(id)s {_RETURNING}
"""

DELETE_SQL = "DELETE FROM todo_list WHERE id = %(id)s"
DELETE_ALL_SQL = "DELETE FROM todo_list"
DELETE_COMPLETED_SQL = "DELETE FROM todo_list WHERE completed"
SET_ALL_COMPLETED_SQL = "UPDATE todo_list SET completed = %(completed)s WHERE completed <> %(completed)s"

# After an autocommit statement returns, its commit record is in the WAL below this.
CURRENT_LSN_SQL = "SELECT pg_current_wal_lsn()::text"

# Idempotency keys: an expired key is forgotten before it is claimed again; the
# claim's row lock makes a concurrent request with the same key wait for the first.
EXPIRE_KEY_SQL = (
    "DELETE FROM idempotency_keys WHERE key = %(key)s AND created_at < now() - make_interval(hours => %(ttl)s)"
)
CLAIM_KEY_SQL = (
    "INSERT INTO idempotency_keys (key, request_hash, response) VALUES (%(key)s, %(hash)s, '{}')"
    " ON CONFLICT (key) DO NOTHING RETURNING key"
)
CLAIMED_KEY_SQL = "SELECT request_hash, response FROM idempotency_keys WHERE key = %(key)s"
SAVE_RESPONSE_SQL = "UPDATE idempotency_keys SET response = %(response)s WHERE key = %(key)s"
PURGE_KEYS_SQL = "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => %(ttl)s)"

# The fields a change may name (the API's names), each with its set_* flag in UPDATE_SQL.
FIELDS = ("name", "completed", "order")


class NotFound(LookupError):
    pass


class KeyReused(ValueError):
    """An Idempotency-Key came back with a different request body."""


def _todo(row) -> dict:
    id_, name, completed, position = row
    return {"id": id_, "name": name, "completed": completed, "order": position}


def _lsn(cur) -> str:
    cur.execute(CURRENT_LSN_SQL)
    return cur.fetchone()[0]


def _insert(cur, name: str, completed: bool, order: int | None) -> dict:
    cur.execute(INSERT_SQL, {"name": name, "completed": completed, "order": order})
    return _todo(cur.fetchone())


def create(db: Database, name: str, completed: bool, order: int | None) -> tuple[dict, str]:
    def work(cur):
        todo = _insert(cur, name, completed, order)
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
            cur.execute(EXPIRE_KEY_SQL, {"key": key, "ttl": ttl_hours})
            cur.execute(CLAIM_KEY_SQL, {"key": key, "hash": request_hash})
            if cur.fetchone() is None:
                cur.execute(CLAIMED_KEY_SQL, {"key": key})
                stored_hash, response = cur.fetchone()
                if stored_hash != request_hash:
                    raise KeyReused(key)
                replay = (response, True)
            else:
                todo = _insert(cur, name, completed, order)
                cur.execute(SAVE_RESPONSE_SQL, {"response": json.dumps(todo), "key": key})
                replay = (todo, False)
        todo, replayed = replay
        return todo, _lsn(cur), replayed

    # Safe to retry: the key makes a second run a replay.
    return db.run(work)


def update(db: Database, todo_id: int, changes: dict) -> tuple[dict, str]:
    """Apply ``changes`` (keys among name, completed, order; at least one) to one item."""
    unknown = set(changes) - set(FIELDS)
    if not changes or unknown:
        raise ValueError(f"changes must name some of {', '.join(FIELDS)}, got {sorted(changes)}")
    params = {"id": todo_id}
    for field in FIELDS:
        params[f"set_{field}"] = field in changes
        params[field] = changes.get(field)

    def work(cur):
        cur.execute(UPDATE_SQL, params)
        row = cur.fetchone()
        if row is None:
            raise NotFound(todo_id)
        return _todo(row), _lsn(cur)

    return db.run(work)


def delete(db: Database, todo_id: int) -> str:
    def work(cur):
        cur.execute(DELETE_SQL, {"id": todo_id})
        if cur.rowcount == 0:
            raise NotFound(todo_id)
        return _lsn(cur)

    return db.run(work, retry=False)


def delete_all(db: Database, *, completed_only: bool) -> tuple[int, str]:
    def work(cur):
        cur.execute(DELETE_COMPLETED_SQL if completed_only else DELETE_ALL_SQL)
        return cur.rowcount, _lsn(cur)

    return db.run(work)


def set_all_completed(db: Database, completed: bool) -> tuple[int, str]:
    def work(cur):
        cur.execute(SET_ALL_COMPLETED_SQL, {"completed": completed})
        return cur.rowcount, _lsn(cur)

    return db.run(work)


def purge_idempotency_keys(db: Database, ttl_hours: int) -> int:
    def work(cur):
        cur.execute(PURGE_KEYS_SQL, {"ttl": ttl_hours})
        return cur.rowcount

    return db.run(work)
