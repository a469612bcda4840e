"""The reader's SQL, one constant per statement, and the functions the API calls.

PostgreSQL builds the JSON itself, so a page of 250 items is one round trip and one
string handed to the caller, with no per-row Python work. ``page``, ``one`` and
``counts`` run through a ``ConsistentReader`` (``lsn_wait.py``), which waits for the
caller's minimum LSN first; each returns ``(json_text, Served)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from todo_common.db import Database
from todo_common.ownership import Owner, SessionEnded, TokenScope, resolve, session_checked, session_owner
from todo_common.service_token import Actor
from todo_common.validation import STATUSES

if TYPE_CHECKING:
    from .lsn_wait import ConsistentReader, Served

# A todo as the API shows it; the page aggregates whole rows of this shape, which
# PostgreSQL serialises faster than a json_build_object call per row.
_TODO_COLUMNS = 'id, name, completed, position AS "order"'

# The list a read is about: the one named, else the account's first. Another
# account's list is simply not found.
_OWNED_LIST = """
SELECT id, name, total, completed FROM todo_lists
WHERE account_id = %(account)s
  AND id = coalesce(%(list)s, (SELECT min(id) FROM todo_lists WHERE account_id = %(account)s))
"""

# Kept by triggers on the list's own row: constant time whatever the list's size.
_COUNTS_JSON = "json_build_object('all', total, 'active', total - completed, 'completed', completed)"

_STATUS_FILTER = {
    "all": "",
    "active": "AND NOT completed",
    "completed": "AND completed",
}

# The list id is a bound value, never a subquery's result: with a value the planner
# knows from its statistics how big that list is and walks its index, instead of
# guessing an average list size and scanning the whole table's primary key.
FIRST_LIST_SQL = "SELECT min(id) FROM todo_lists WHERE account_id = %(account)s"

# Keyset pagination: "id > after" walks the (list_id, id) index (or (list_id,
# completed, id)), so page 4,000 costs what page 1 costs. One row past the page says
# whether there is a next one; the page before is found by walking back from
# "after" (its own "after" is the id just below it, or 0 for the first page). The
# account's lists come along when asked, for the page's list switcher.
_PAGE = """
WITH owned AS ({owned}),
page AS (
    SELECT {columns} FROM todo_list
    WHERE list_id = %(list)s AND EXISTS (SELECT FROM owned) AND id > %(after)s {filter}
    ORDER BY id LIMIT %(limit)s + 1
)
SELECT json_build_object(
    'list', json_build_object('id', owned.id, 'name', owned.name),
    'items', coalesce((SELECT json_agg(shown ORDER BY id)
                       FROM (SELECT * FROM page ORDER BY id LIMIT %(limit)s) shown), '[]'::json),
    'next_after', (SELECT CASE WHEN count(*) > %(limit)s
                               THEN max(id) FILTER (WHERE id <> (SELECT max(id) FROM page)) END
                   FROM page),
    'prev_after', CASE WHEN %(after)s > 0 THEN
                      (SELECT CASE WHEN count(*) > %(limit)s THEN min(id) ELSE 0 END
                       FROM (SELECT id FROM todo_list WHERE list_id = owned.id AND id <= %(after)s {filter}
                             ORDER BY id DESC LIMIT %(limit)s + 1) back) END,
    'counts', {counts},
    'lists', CASE WHEN %(with_lists)s THEN
                 (SELECT json_agg(json_build_object('id', id, 'name', name) ORDER BY id)
                  FROM todo_lists WHERE account_id = %(account)s) END
)::text
FROM owned
"""

# One statement per status filter, built once from the template above.
PAGE_SQL = {
    status: _PAGE.format(owned=_OWNED_LIST, filter=_STATUS_FILTER[status], columns=_TODO_COLUMNS, counts=_COUNTS_JSON)
    for status in STATUSES
}

ONE_SQL = """
SELECT row_to_json(todo)::text FROM (
    SELECT t.id, t.name, t.completed, t.position AS "order", t.list_id AS list
    FROM todo_list t JOIN todo_lists l ON l.id = t.list_id
    WHERE t.id = %(id)s AND l.account_id = %(account)s AND (%(list)s::bigint IS NULL OR t.list_id = %(list)s)
) todo
"""

COUNTS_SQL = f"SELECT {_COUNTS_JSON}::text FROM ({_OWNED_LIST}) owned"

LISTS_SQL = """
SELECT json_build_object('lists', coalesce(json_agg(json_build_object(
    'id', id, 'name', name, 'total', total, 'completed', completed) ORDER BY id), '[]'::json))::text
FROM todo_lists WHERE account_id = %(account)s
"""

ACCOUNT_SQL = """
SELECT json_build_object(
    'id', a.id,
    'username', a.username,
    'created_at', a.created_at,
    'lists', (SELECT coalesce(json_agg(json_build_object('id', id, 'name', name, 'total', total) ORDER BY id),
                              '[]'::json)
              FROM todo_lists WHERE account_id = a.id),
    'tokens', (SELECT coalesce(json_agg(json_build_object('id', t.id, 'list', t.list_id, 'list_name', l.name,
                                                          'created_at', t.created_at) ORDER BY t.id),
                               '[]'::json)
               FROM api_tokens t JOIN todo_lists l ON l.id = t.list_id WHERE t.account_id = a.id)
)::text
FROM accounts a WHERE a.id = %(account)s
"""

# True once this server shows everything up to the LSN. A server that is not in
# recovery (a primary, or an external database without replicas) has nothing to wait for.
# With it: how far this server has replayed (a primary: its current position), and
# how far it has received from the primary (NULL when not streaming).
CAUGHT_UP_SQL = """
SELECT NOT pg_is_in_recovery() OR coalesce(pg_last_wal_replay_lsn() >= %(lsn)s::pg_lsn, false),
       (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text,
       pg_last_wal_receive_lsn()::text
"""
CURRENT_WAL_LSN_SQL = "SELECT pg_current_wal_lsn()::text"

REPLICATION_STATUS_SQL = """
SELECT pg_is_in_recovery(),
       pg_last_wal_replay_lsn()::text,
       CASE WHEN pg_is_in_recovery()
            THEN pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) END,
       CASE WHEN pg_is_in_recovery()
            THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END,
       to_regclass('todo_lists') IS NOT NULL
"""


def _scope(owner: Owner, list_id: int | None) -> dict:
    """Parameters naming whose data, and which list, a statement may read."""
    if owner.list_id is not None:  # an API token: its own list, nothing else
        # Another list names nothing the token may read: not found, like another account's.
        list_id = 0 if list_id is not None and list_id != owner.list_id else owner.list_id
    return {"account": owner.account_id, "list": list_id}


def _json_text(
    reader: ConsistentReader,
    actor: Actor,
    sql: str,
    params: dict,
    *,
    list_id: int | None = None,
    one_list: bool = False,
    sessions_only: bool = False,
):
    """Work for the pool: find who acts, run one statement for them, return its single
    text value (None if no row: nothing of theirs matched).

    An API token is looked up on the primary, so a revoked one stops working at once
    rather than when the replica has replayed the revocation (a script carries no LSN
    of its owner's changes); a session is checked in the read's own statement.
    """
    token_owner = reader.on_primary(lambda cur: resolve(cur, actor)) if actor.api_token_hash else None

    def work(cur) -> str | None:
        owner = token_owner or session_owner(actor)
        if owner.list_id is not None:
            if sessions_only:
                raise TokenScope()
            params["with_lists"] = False  # a token knows its own list, not the account's others
        scope = _scope(owner, list_id)
        if one_list and scope["list"] is None:  # the account's first list
            cur.execute(FIRST_LIST_SQL, scope)
            scope["list"] = cur.fetchone()[0] or 0
        if token_owner is not None:
            cur.execute(sql, {**params, **scope})
            row = cur.fetchone()
            return None if row is None else row[0]
        cur.execute(session_checked(sql), {**params, **scope, "generation": actor.generation})
        live, text = cur.fetchone()
        if not live:
            raise SessionEnded()
        return text

    return work


def page(
    reader: ConsistentReader,
    actor: Actor,
    list_id: int | None,
    status: str,
    *,
    after: int,
    limit: int,
    with_lists: bool,
    min_lsn: str | None,
) -> tuple[str | None, Served]:
    """One keyset page of a list's ``status`` items after id ``after``, with next/prev,
    counts and (``with_lists``) the account's lists; None when the list is not theirs."""
    params = {"after": after, "limit": limit, "with_lists": with_lists}
    return reader.read(_json_text(reader, actor, PAGE_SQL[status], params, list_id=list_id, one_list=True), min_lsn)


def one(
    reader: ConsistentReader, actor: Actor, todo_id: int, *, min_lsn: str | None, replica_only: bool = False
) -> tuple[str | None, Served]:
    """One item, or None as the text when the actor has no item with this id."""
    return reader.read(_json_text(reader, actor, ONE_SQL, {"id": todo_id}), min_lsn, replica_only=replica_only)


def counts(
    reader: ConsistentReader, actor: Actor, list_id: int | None, *, min_lsn: str | None, replica_only: bool = False
):
    work = _json_text(reader, actor, COUNTS_SQL, {}, list_id=list_id, one_list=True)
    return reader.read(work, min_lsn, replica_only=replica_only)


def lists(reader: ConsistentReader, actor: Actor, *, min_lsn: str | None) -> tuple[str | None, Served]:
    return reader.read(_json_text(reader, actor, LISTS_SQL, {}, sessions_only=True), min_lsn)


def account(reader: ConsistentReader, actor: Actor, *, min_lsn: str | None) -> tuple[str | None, Served]:
    return reader.read(_json_text(reader, actor, ACCOUNT_SQL, {}, sessions_only=True), min_lsn)


class Position(NamedTuple):
    caught_up: bool
    replay_lsn: str | None
    receive_lsn: str | None


def caught_up(cur, lsn: str) -> Position:
    """Whether the server behind ``cur`` has replayed ``lsn`` (run outside a
    transaction), with its replay and receive positions."""
    cur.execute(CAUGHT_UP_SQL, {"lsn": lsn})
    return Position(*cur.fetchone())


def current_wal_lsn(cur) -> str:
    """The primary's current WAL position (run on the fallback connection)."""
    cur.execute(CURRENT_WAL_LSN_SQL)
    return cur.fetchone()[0]


def replication_status(db: Database) -> dict:
    """Where the replica's replay stands, and whether the schema is there yet."""

    def work(cur):
        cur.execute(REPLICATION_STATUS_SQL)
        return cur.fetchone()

    in_recovery, replay_lsn, lag_bytes, lag_seconds, schema_ready = db.run(work)
    return {
        "in_recovery": in_recovery,
        "replay_lsn": replay_lsn,
        "replay_lag_bytes": None if lag_bytes is None else int(lag_bytes),
        # Time since the last replayed commit: grows while the primary is idle too.
        "seconds_since_last_replayed_commit": None if lag_seconds is None else round(float(lag_seconds), 3),
        "schema_ready": schema_ready,
    }
