"""The writer's SQL, one constant per statement, and the functions the API calls.

Every function returns the primary's WAL position after its change committed, which
the reader waits for to give read-your-writes.
"""

from __future__ import annotations

import hashlib
import json

from todo_common.db import Database, rollback, transaction
from todo_common.ownership import SESSION_LIVE, Owner, SessionEnded, TokenScope, resolve, session_owner
from todo_common.service_token import Actor

# A todo as the API shows it: the column is ``position``, the field ``order``.
_RETURNING = "RETURNING t.id, t.name, t.completed, t.position, t.list_id"

# Every statement names the owner: a row of another account is never touched, and
# looks exactly like a row that does not exist.

# The list a change goes to: the one named, else the account's first. Locked, so
# two concurrent inserts cannot both take the list's last free place.
_TARGET_LIST = """
SELECT id FROM todo_lists
WHERE account_id = %(account)s
  AND id = coalesce(%(list)s, (SELECT min(id) FROM todo_lists WHERE account_id = %(account)s))
"""
INSERT_SQL = f"""
INSERT INTO todo_list AS t (list_id, name, completed, position)
SELECT l.id, %(name)s, %(completed)s, %(order)s FROM todo_lists l
WHERE l.id = ({_TARGET_LIST}) AND l.total < %(max_items)s
FOR UPDATE OF l
{_RETURNING}
"""
LIST_FULLNESS_SQL = f"SELECT total FROM todo_lists WHERE id = ({_TARGET_LIST})"

# One statement for any subset of the fields: each set_* flag says whether its field
# changes. (A row update writes the whole row whichever columns are named.)
UPDATE_SQL = f"""
UPDATE todo_list t SET
    name = CASE WHEN %(set_name)s THEN %(name)s ELSE t.name END,
    completed = CASE WHEN %(set_completed)s THEN %(completed)s ELSE t.completed END,
    position = CASE WHEN %(set_order)s THEN %(order)s ELSE t.position END
FROM todo_lists l
WHERE t.id = %(id)s AND l.id = t.list_id AND l.account_id = %(account)s
  AND (%(list)s::bigint IS NULL OR t.list_id = %(list)s)
{_RETURNING}
"""
DELETE_SQL = """
DELETE FROM todo_list t USING todo_lists l
WHERE t.id = %(id)s AND l.id = t.list_id AND l.account_id = %(account)s
  AND (%(list)s::bigint IS NULL OR t.list_id = %(list)s)
RETURNING t.list_id
"""
OWN_LIST_SQL = f"SELECT id FROM todo_lists WHERE id = ({_TARGET_LIST})"
DELETE_ALL_SQL = "DELETE FROM todo_list WHERE list_id = %(list)s"
DELETE_COMPLETED_SQL = "DELETE FROM todo_list WHERE list_id = %(list)s AND completed"
SET_ALL_COMPLETED_SQL = (
    "UPDATE todo_list SET completed = %(completed)s WHERE list_id = %(list)s AND completed <> %(completed)s"
)

# Lists. The account's row is locked while its lists are counted, so concurrent
# requests cannot pass the limit or delete the last list together.
LOCK_ACCOUNT_SQL = "SELECT 1 FROM accounts WHERE id = %(account)s FOR UPDATE"
COUNT_LISTS_SQL = "SELECT count(*) FROM todo_lists WHERE account_id = %(account)s"
INSERT_LIST_SQL = "INSERT INTO todo_lists (account_id, name) VALUES (%(account)s, %(name)s) RETURNING id, name"
RENAME_LIST_SQL = (
    "UPDATE todo_lists SET name = %(name)s WHERE id = %(list)s AND account_id = %(account)s RETURNING id, name"
)
DELETE_LIST_SQL = "DELETE FROM todo_lists WHERE id = %(list)s AND account_id = %(account)s"

# After an autocommit statement returns, its commit record is in the WAL below this.
CURRENT_LSN_SQL = "SELECT pg_current_wal_lsn()::text"

# Idempotency keys, per account: an expired key is forgotten before it is claimed
# again; the claim's row lock makes a concurrent request with the same key wait.
EXPIRE_KEY_SQL = (
    "DELETE FROM idempotency_keys WHERE account_id = %(account)s AND key = %(key)s"
    " AND created_at < now() - make_interval(hours => %(ttl)s)"
)
CLAIM_KEY_SQL = (
    "INSERT INTO idempotency_keys (account_id, key, request_hash, response)"
    " VALUES (%(account)s, %(key)s, %(hash)s, '{}')"
    " ON CONFLICT (account_id, key) DO NOTHING RETURNING key"
)
CLAIMED_KEY_SQL = "SELECT request_hash, response FROM idempotency_keys WHERE account_id = %(account)s AND key = %(key)s"
SAVE_RESPONSE_SQL = (
    "UPDATE idempotency_keys SET response = %(response)s WHERE account_id = %(account)s AND key = %(key)s"
)
# The idempotent create in four round trips: BEGIN, an expired key's removal
# and the session check go together; so do the saved answer, COMMIT and the commit's
# LSN (read after the COMMIT in the same string, so it covers the commit record).
BEGIN_CLAIMING_SQL = f"BEGIN; {EXPIRE_KEY_SQL}; SELECT {SESSION_LIVE}"
SAVE_AND_COMMIT_SQL = f"{SAVE_RESPONSE_SQL}; COMMIT; {CURRENT_LSN_SQL}"
COMMIT_SQL = f"COMMIT; {CURRENT_LSN_SQL}"
PURGE_KEYS_SQL = "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => %(ttl)s)"

# The fields a change may name (the API's names), each with its set_* flag in UPDATE_SQL.
FIELDS = ("name", "completed", "order")


class NotFound(LookupError):
    """No such item or list for this owner (it may exist for someone else)."""


class ListFull(Exception):
    pass


class LastList(Exception):
    """An account keeps at least one list."""


class TooManyLists(Exception):
    pass


class KeyReused(ValueError):
    """An Idempotency-Key came back with a different request body."""


def _todo(row) -> dict:
    id_, name, completed, position, list_id = row
    return {"id": id_, "name": name, "completed": completed, "order": position, "list": list_id}


def current_lsn(cur) -> str:
    cur.execute(CURRENT_LSN_SQL)
    return cur.fetchone()[0]


def _scope(owner: Owner, list_id: int | None) -> dict:
    """Parameters naming whose data, and which list, a statement may touch."""
    if owner.list_id is not None:  # an API token: its own list, nothing else
        if list_id is not None and list_id != owner.list_id:
            raise NotFound(list_id)
        list_id = owner.list_id
    return {"account": owner.account_id, "list": list_id}


def _sessions_only(owner: Owner) -> None:
    if owner.list_id is not None:
        raise TokenScope()


def _insert(cur, scope: dict, name: str, completed: bool, order: int | None, max_items: int) -> dict:
    cur.execute(INSERT_SQL, {**scope, "name": name, "completed": completed, "order": order, "max_items": max_items})
    row = cur.fetchone()
    if row is None:
        cur.execute(LIST_FULLNESS_SQL, scope)
        if cur.fetchone() is None:
            raise NotFound(scope["list"])
        raise ListFull(max_items)
    return _todo(row)


def create(
    db: Database, actor: Actor, list_id: int | None, name: str, completed: bool, order: int | None, *, max_items: int
) -> tuple[dict, str]:
    def work(cur):
        scope = _scope(resolve(cur, actor), list_id)
        todo = _insert(cur, scope, name, completed, order, max_items)
        return todo, current_lsn(cur)

    # A lost reply may hide a committed INSERT: never repeat it blindly.
    return db.run(work, retry=False)


def create_idempotent(
    db: Database,
    actor: Actor,
    list_id: int | None,
    key: str,
    name: str,
    completed: bool,
    order: int | None,
    *,
    max_items: int,
    ttl_hours: int,
) -> tuple[dict, str, bool]:
    """Create once per key and account. Returns (todo, lsn, replayed). A concurrent
    request with the same key waits on the key's row lock, then replays the first answer."""
    request_hash = hashlib.sha256(json.dumps([list_id, name, completed, order]).encode()).hexdigest()

    def work(cur):
        owner = resolve(cur, actor) if actor.api_token_hash else session_owner(actor)
        scope = _scope(owner, list_id)
        keyed = {"account": owner.account_id, "key": key}
        session = {"session": actor.api_token_hash is None, "generation": actor.generation}
        cur.execute(BEGIN_CLAIMING_SQL, {**keyed, **session, "ttl": ttl_hours})
        try:
            if not cur.fetchone()[0]:
                raise SessionEnded()
            cur.execute(CLAIM_KEY_SQL, {**keyed, "hash": request_hash})
            if cur.fetchone() is None:
                cur.execute(CLAIMED_KEY_SQL, keyed)
                stored_hash, response = cur.fetchone()
                if stored_hash != request_hash:
                    raise KeyReused(key)
                cur.execute(COMMIT_SQL)
                return response, cur.fetchone()[0], True
            todo = _insert(cur, scope, name, completed, order, max_items)
            cur.execute(SAVE_AND_COMMIT_SQL, {**keyed, "response": json.dumps(todo)})
            return todo, cur.fetchone()[0], False
        except BaseException:
            rollback(cur)
            raise

    # Safe to retry: the key makes a second run a replay.
    return db.run(work)


def update(db: Database, actor: Actor, todo_id: int, changes: dict) -> tuple[dict, str]:
    """Apply ``changes`` (keys among name, completed, order; at least one) to one item."""
    unknown = set(changes) - set(FIELDS)
    if not changes or unknown:
        raise ValueError(f"changes must name some of {', '.join(FIELDS)}, got {sorted(changes)}")
    params = {"id": todo_id}
    for field in FIELDS:
        params[f"set_{field}"] = field in changes
        params[field] = changes.get(field)

    def work(cur):
        cur.execute(UPDATE_SQL, {**params, **_scope(resolve(cur, actor), None)})
        row = cur.fetchone()
        if row is None:
            raise NotFound(todo_id)
        return _todo(row), current_lsn(cur)

    return db.run(work)


def delete(db: Database, actor: Actor, todo_id: int) -> tuple[int, str]:
    """Delete one item; returns (the list it was in, lsn)."""

    def work(cur):
        cur.execute(DELETE_SQL, {"id": todo_id, **_scope(resolve(cur, actor), None)})
        row = cur.fetchone()
        if row is None:
            raise NotFound(todo_id)
        return row[0], current_lsn(cur)

    return db.run(work, retry=False)


def _own_list(cur, scope: dict) -> int:
    cur.execute(OWN_LIST_SQL, scope)
    row = cur.fetchone()
    if row is None:
        raise NotFound(scope["list"])
    return row[0]


def delete_all(db: Database, actor: Actor, list_id: int | None, *, completed_only: bool) -> tuple[int, int, str]:
    """Empty a list (or clear its completed items); returns (list, deleted, lsn)."""

    def work(cur):
        target = _own_list(cur, _scope(resolve(cur, actor), list_id))
        cur.execute(DELETE_COMPLETED_SQL if completed_only else DELETE_ALL_SQL, {"list": target})
        return target, cur.rowcount, current_lsn(cur)

    return db.run(work)


def set_all_completed(db: Database, actor: Actor, list_id: int | None, completed: bool) -> tuple[int, int, str]:
    """Mark every item of a list; returns (list, updated, lsn)."""

    def work(cur):
        target = _own_list(cur, _scope(resolve(cur, actor), list_id))
        cur.execute(SET_ALL_COMPLETED_SQL, {"list": target, "completed": completed})
        return target, cur.rowcount, current_lsn(cur)

    return db.run(work)


def create_list(db: Database, actor: Actor, name: str, *, max_lists: int) -> tuple[dict, str]:
    def work(cur):
        owner = resolve(cur, actor)
        _sessions_only(owner)
        account = {"account": owner.account_id}
        with transaction(cur):
            cur.execute(LOCK_ACCOUNT_SQL, account)
            cur.execute(COUNT_LISTS_SQL, account)
            if cur.fetchone()[0] >= max_lists:
                raise TooManyLists(max_lists)
            cur.execute(INSERT_LIST_SQL, {**account, "name": name})
            list_id, list_name = cur.fetchone()
        return {"id": list_id, "name": list_name}, current_lsn(cur)

    return db.run(work, retry=False)


def rename_list(db: Database, actor: Actor, list_id: int, name: str) -> tuple[dict, str]:
    def work(cur):
        owner = resolve(cur, actor)
        _sessions_only(owner)
        cur.execute(RENAME_LIST_SQL, {"account": owner.account_id, "list": list_id, "name": name})
        row = cur.fetchone()
        if row is None:
            raise NotFound(list_id)
        return {"id": row[0], "name": row[1]}, current_lsn(cur)

    return db.run(work)


def delete_list(db: Database, actor: Actor, list_id: int) -> str:
    """Delete a list with its items and tokens; an account's last list stays."""

    def work(cur):
        owner = resolve(cur, actor)
        _sessions_only(owner)
        scope = {"account": owner.account_id, "list": list_id}
        with transaction(cur):
            cur.execute(LOCK_ACCOUNT_SQL, scope)
            _own_list(cur, scope)
            cur.execute(COUNT_LISTS_SQL, scope)
            if cur.fetchone()[0] <= 1:
                raise LastList(list_id)
            cur.execute(DELETE_LIST_SQL, scope)
        return current_lsn(cur)

    return db.run(work)


def purge_idempotency_keys(db: Database, ttl_hours: int) -> int:
    def work(cur):
        cur.execute(PURGE_KEYS_SQL, {"ttl": ttl_hours})
        return cur.rowcount

    return db.run(work)
