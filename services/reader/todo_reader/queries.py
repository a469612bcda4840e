"""The reader's SQL. PostgreSQL builds the JSON itself, so a page of 250 items is one
round trip and one string handed to the caller, with no per-row Python work."""

from __future__ import annotations

from todo_common.validation import STATUSES

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
