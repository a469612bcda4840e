"""The reader's SQL, one constant per statement, and the functions the API calls.

PostgreSQL builds the JSON itself, so a page of 250 items is one round trip and one
string handed to the caller, with no per-row Python work. ``page``, ``one`` and
``counts`` run through a ``ConsistentReader`` (``lsn_wait.py``), which waits for the
caller's minimum LSN first; each returns ``(json_text, served_by)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from todo_common.db import Database
from todo_common.validation import STATUSES

if TYPE_CHECKING:
    from .lsn_wait import ConsistentReader

# A todo as the API shows it; the page aggregates whole rows of this shape, which
# PostgreSQL serialises faster than a json_build_object call per row.
_TODO_COLUMNS = 'id, name, completed, position AS "order"'

# Summed over the trigger-maintained slots: constant time whatever the table size.
_COUNTS_JSON = """(SELECT json_build_object(
        'all', coalesce(sum(total), 0),
        'active', coalesce(sum(total - completed), 0),
        'completed', coalesce(sum(completed), 0))
    FROM todo_counts)"""

_STATUS_FILTER = {
    "all": "",
    "active": "AND NOT completed",
    "completed": "AND completed",
}

# Keyset pagination: "id > after" walks the primary key (or the (completed, id)
# index), so page 4,000 costs what page 1 costs. One row past the page says whether
# there is a next one; the page before is found by walking back from "after" (its
# own "after" is the id just below it, or 0 for the first page).
_PAGE = """
WITH page AS (
    SELECT {columns} FROM todo_list
    WHERE id > %(after)s {filter}
    ORDER BY id LIMIT %(limit)s + 1
)
SELECT json_build_object(
    'items', coalesce((SELECT json_agg(shown ORDER BY id)
                       FROM (SELECT * FROM page ORDER BY id LIMIT %(limit)s) shown), '[]'::json),
    'next_after', (SELECT CASE WHEN count(*) > %(limit)s
                               THEN max(id) FILTER (WHERE id <> (SELECT max(id) FROM page)) END
                   FROM page),
    'prev_after', CASE WHEN %(after)s > 0 THEN
                      (SELECT CASE WHEN count(*) > %(limit)s THEN min(id) ELSE 0 END
                       FROM (SELECT id FROM todo_list WHERE id <= %(after)s {filter}
                             ORDER BY id DESC LIMIT %(limit)s + 1) back) END,
    'counts', {counts}
)::text
"""

# One statement per status filter, built once from the template above.
PAGE_SQL = {
    status: _PAGE.format(filter=_STATUS_FILTER[status], columns=_TODO_COLUMNS, counts=_COUNTS_JSON)
    for status in STATUSES
}

ONE_SQL = f"SELECT row_to_json(todo)::text FROM (SELECT {_TODO_COLUMNS} FROM todo_list WHERE id = %(id)s) todo"

COUNTS_SQL = f"SELECT {_COUNTS_JSON}::text"

# True once this server shows everything up to the LSN. A server that is not in
# recovery (a primary, or an external database without replicas) has nothing to wait for.
CAUGHT_UP_SQL = """
SELECT NOT pg_is_in_recovery() OR coalesce(pg_last_wal_replay_lsn() >= %(lsn)s::pg_lsn, false)
"""

REPLICATION_STATUS_SQL = """
SELECT pg_is_in_recovery(),
       pg_last_wal_replay_lsn()::text,
       CASE WHEN pg_is_in_recovery()
            THEN pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()) END,
       CASE WHEN pg_is_in_recovery()
            THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END,
       to_regclass('todo_counts') IS NOT NULL
"""


def _json_text(sql: str, params: dict):
    """Work for the pool: run one statement, return its single text value (None if no row)."""

    def work(cur) -> str | None:
        cur.execute(sql, params)
        row = cur.fetchone()
        return None if row is None else row[0]

    return work


def page(reader: ConsistentReader, status: str, *, after: int, limit: int, min_lsn: str | None) -> tuple[str, str]:
    """One keyset page of ``status`` items after id ``after``, with next/prev and counts."""
    return reader.read(_json_text(PAGE_SQL[status], {"after": after, "limit": limit}), min_lsn)


def one(reader: ConsistentReader, todo_id: int, *, min_lsn: str | None) -> tuple[str | None, str]:
    """One item, or None as the text when no item has this id."""
    return reader.read(_json_text(ONE_SQL, {"id": todo_id}), min_lsn)


def counts(reader: ConsistentReader, *, min_lsn: str | None) -> tuple[str, str]:
    return reader.read(_json_text(COUNTS_SQL, {}), min_lsn)


def caught_up(cur, lsn: str) -> bool:
    """Whether the server behind ``cur`` has replayed ``lsn`` (run outside a transaction)."""
    cur.execute(CAUGHT_UP_SQL, {"lsn": lsn})
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
