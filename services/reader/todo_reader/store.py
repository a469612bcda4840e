"""The reader's SQL, one constant per statement, and the functions the API calls.

Each read is one round trip (two for a kept page that no longer holds). PostgreSQL
builds the JSON of the small answers itself (one string handed on, no per-row Python
work); a page's items come as rows and the reader writes their JSON (see ``_PAGE``).
``page``, ``one`` and ``counts`` run through a ``ConsistentReader`` (``lsn_wait.py``),
which waits for the caller's minimum LSN first; each returns ``(json_text, Served)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import orjson

from todo_common.db import Database
from todo_common.ownership import (
    SESSION_LIVE,
    Owner,
    SessionEnded,
    TokenScope,
    resolve,
    session_checked,
    session_owner,
)
from todo_common.service_token import Actor
from todo_common.validation import STATUSES

from .page_cache import PAGES, KeptPage, PageCache, PageKey

if TYPE_CHECKING:
    from .lsn_wait import ConsistentReader, Served

# The list a read is about: the one named, else the account's first. Another
# account's list is simply not found.
_OWNED_LIST = """
SELECT id, name, total, completed, items_prefix_version, items_tail FROM todo_lists
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

# Whether the page the reader keeps no longer holds: the version of the list's items up
# to its tail (named with the table's oid) differs, or the kept page was the list's
# last and its tail moved.
_ITEMS_VERSION = "'todo_list'::regclass::oid || '/' || owned.items_prefix_version"
_READ_ITEMS = (
    f"({_ITEMS_VERSION} IS DISTINCT FROM %(known_version)s"
    " OR (%(known_open)s AND owned.items_tail IS DISTINCT FROM %(known_tail)s::bigint))"
)

# Keyset pagination: "id > after" walks the (list_id, id) index (or (list_id,
# completed, id)), so page 4,000 costs what page 1 costs. One row past the page says
# whether there is a next one; the page before is found by walking back from
# "after" (its own "after" is the id just below it, or 0 for the first page).
#
# The items come as plain rows and the reader writes their JSON (``_kept_page``):
# aggregating 250 rows into JSON cost the replica about four times the plain SELECT
# (``make bench``, "who pays for JSON"), and the replica is the one part that does not
# scale by adding pods. The reader keeps pages of items (``page_cache.py``); for a page
# it keeps it runs ``KEPT_PAGE_SQL``, the header row alone and whether the kept items
# still hold, and reads the page with ``PAGE_SQL`` only when they do not: the list's
# items prefix version differs from ``known_version`` (any change but an append,
# migration 0008), or the kept page was the list's last (``known_open``) and items
# were appended since (``known_tail``). The version names the table too (its oid): a
# restore with ``pg_restore --clean`` recreates it, and the restored versions may have
# been seen before, with other items appended after them.
#
# The header: whether the session is live (sessions only; an API token was checked on
# the primary), and - when the list is the account's - its items version and tail, the
# list and counts as JSON, the page before and, when asked, the account's lists for the
# page's list switcher as JSON. In ``PAGE_SQL`` it is the first row, sorted first by its
# NULL id.
_HEADER = """{session_live},
       {items_version} AS items_version,
       owned.items_tail,
       json_build_object('id', owned.id, 'name', owned.name)::text,
       {counts}::text,
       CASE WHEN %(after)s > 0 THEN
           (SELECT CASE WHEN count(*) > %(limit)s THEN min(id) ELSE 0 END
            FROM (SELECT id FROM todo_list WHERE list_id = owned.id AND id <= %(after)s {filter}
                  ORDER BY id DESC LIMIT %(limit)s + 1) back) END,
       CASE WHEN %(with_lists)s THEN
           (SELECT json_agg(json_build_object('id', id, 'name', name) ORDER BY id)::text
            FROM todo_lists WHERE account_id = %(account)s) END
FROM (SELECT) header LEFT JOIN owned ON true"""

_PAGE = """
WITH owned AS ({owned}),
page AS (
    SELECT id, name, completed, position FROM todo_list
    WHERE list_id = %(list)s AND id > %(after)s {filter} AND EXISTS (SELECT FROM owned)
    ORDER BY id LIMIT %(limit)s + 1
)
SELECT NULL::bigint, NULL::text, NULL::boolean, NULL::integer,
       {header}
UNION ALL
SELECT id, name, completed, position, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM page
ORDER BY 1 NULLS FIRST
"""

_KEPT_PAGE = """
WITH owned AS ({owned})
SELECT {read_items}, {header}
"""


def _per_status(template: str) -> dict[str, str]:
    """One statement per status filter, built once from ``template``."""
    statements = {}
    for status in STATUSES:
        parts = {"owned": _OWNED_LIST, "filter": _STATUS_FILTER[status], "read_items": _READ_ITEMS}
        header = _HEADER.format(session_live=SESSION_LIVE, items_version=_ITEMS_VERSION, counts=_COUNTS_JSON, **parts)
        statements[status] = template.format(header=header, **parts)
    return statements


PAGE_SQL = _per_status(_PAGE)
KEPT_PAGE_SQL = _per_status(_KEPT_PAGE)

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


def _token_owner(reader: ConsistentReader, actor: Actor) -> Owner | None:
    """An API token's owner, looked up on the primary, so a revoked token stops
    working at once rather than when the replica has replayed the revocation (a script
    carries no LSN of its owner's changes). None for a session: that is checked in the
    read's own statement."""
    return reader.on_primary(lambda cur: resolve(cur, actor)) if actor.api_token_hash else None


def _scoped(cur, owner: Owner, list_id: int | None, one_list: bool) -> dict:
    """``_scope``, with the account's first list when ``one_list`` names none."""
    scope = _scope(owner, list_id)
    if one_list and scope["list"] is None:
        cur.execute(FIRST_LIST_SQL, scope)
        scope["list"] = cur.fetchone()[0] or 0
    return scope


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
    text value (None if no row: nothing of theirs matched)."""
    token_owner = _token_owner(reader, actor)

    def work(cur) -> str | None:
        owner = token_owner or session_owner(actor)
        if owner.list_id is not None and sessions_only:
            raise TokenScope()
        scope = _scoped(cur, owner, list_id, one_list)
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


class Header(NamedTuple):
    """The page query's header row (``_HEADER``)."""

    live: bool
    items_version: str | None  # None: not a list of the account's
    items_tail: int | None
    list_json: str | None
    counts_json: str | None
    prev_after: int | None
    lists_json: str | None


def _header(columns) -> Header | None:
    """The header, or None when the list is not the account's; SessionEnded when the
    session is not live."""
    header = Header(*columns)
    if not header.live:
        raise SessionEnded()
    return None if header.items_version is None else header


def _page_json(header: Header, items: KeptPage) -> bytes:
    """The page as the API sends it: the header's JSON as PostgreSQL wrote it, the items' as kept."""
    return orjson.dumps(
        {
            "list": orjson.Fragment(header.list_json),
            "counts": orjson.Fragment(header.counts_json),
            "prev_after": header.prev_after,
            "lists": None if header.lists_json is None else orjson.Fragment(header.lists_json),
            "items": orjson.Fragment(items.items_json),
            "next_after": items.next_after,
        }
    )


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
    kept: PageCache,
) -> tuple[bytes | None, Served]:
    """One keyset page of a list's ``status`` items after id ``after``, with next/prev,
    counts and (``with_lists``) the account's lists, as JSON; None when the list is not
    theirs. The items come from ``kept`` while that page still holds (``KEPT_PAGE_SQL``)."""
    token_owner = _token_owner(reader, actor)

    def work(cur) -> bytes | None:
        owner = token_owner or session_owner(actor)
        scope = _scoped(cur, owner, list_id, one_list=True)
        key = PageKey(scope["list"], status, after, limit)
        params = {
            "after": after,
            "limit": limit,
            # A token knows its own list, not the account's others.
            "with_lists": with_lists and owner.list_id is None,
            "session": token_owner is None,
            "generation": actor.generation,
            **scope,
        }
        known = kept.get(key)
        if known is not None:
            cur.execute(
                KEPT_PAGE_SQL[status],
                {
                    **params,
                    "known_version": known.items_version,
                    "known_open": known.next_after is None,
                    "known_tail": known.items_tail,
                },
            )
            read_items, *columns = cur.fetchone()
            header = _header(columns)
            if header is None:
                return None
            if not read_items:
                PAGES.labels("kept").inc()
                return _page_json(header, known)
        cur.execute(PAGE_SQL[status], params)
        first, *rows = cur.fetchall()
        header = _header(first[4:])
        if header is None:
            return None
        known = _kept_page(header.items_version, header.items_tail, rows, limit)
        kept.put(key, known)
        PAGES.labels("read").inc()
        return _page_json(header, known)

    return reader.read(work, min_lsn)


def _kept_page(items_version: str, items_tail: int | None, rows: list[tuple], limit: int) -> KeptPage:
    """The page's items as JSON, with ``next_after`` (the last shown id) when the
    statement found a row past the page."""
    items = [
        {"id": todo_id, "name": name, "completed": completed, "order": order}
        for todo_id, name, completed, order, *_ in rows[:limit]
    ]
    next_after = rows[limit - 1][0] if len(rows) > limit else None
    return KeptPage(items_version, items_tail, orjson.dumps(items), next_after)


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
