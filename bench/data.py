"""The data the scenarios read: N rows of the bench person's list, bulk-loaded as the
superuser on the primary in one INSERT ... SELECT with the list's ``list_id`` (the
statement triggers keep ``todo_lists.total/completed``; ``check_counts`` proves it
after every load and every clean-up), every 100th row completed so the "completed"
view is a page of ~N/100 items. Rows the write scenarios add are deleted again after
each round so every round reads the same data."""

from __future__ import annotations

import time


def one(conn, sql: str, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def load(primary, list_id: int, rows: int) -> None:
    with primary.cursor() as cur:
        cur.execute(
            "INSERT INTO todo_list (list_id, name, completed)"
            " SELECT %s, 'Item ' || g || ': water the plants, call the bank', g %% 100 = 0"
            " FROM generate_series(1, %s) g",
            (list_id, rows),
        )


def id_range(conn, list_id: int) -> tuple[int, int, int]:
    """(min id, max id, rows) of one list."""
    low, high, count = one(
        conn,
        "SELECT coalesce(min(id), 0), coalesce(max(id), 0), count(*) FROM todo_list WHERE list_id = %s",
        (list_id,),
    )
    return low, high, count


def middle_after(conn, list_id: int, rows: int) -> int:
    """The ``after`` of the keyset page that starts half-way down the list."""
    row = one(
        conn, "SELECT id FROM todo_list WHERE list_id = %s ORDER BY id OFFSET %s LIMIT 1", (list_id, rows // 2 - 1)
    )
    return row[0] if row else 0


def check_counts(conn, list_id: int) -> dict:
    """The list's trigger-kept counts must equal its rows; a mismatch stops the run."""
    total, completed, rows, rows_completed = one(
        conn,
        "SELECT l.total, l.completed, count(t.id), count(t.id) FILTER (WHERE t.completed)"
        " FROM todo_lists l LEFT JOIN todo_list t ON t.list_id = l.id WHERE l.id = %s GROUP BY l.id",
        (list_id,),
    )
    if (total, completed) != (rows, rows_completed):
        raise RuntimeError(
            f"todo_lists {list_id} says total={total} completed={completed}"
            f" but the list has {rows} rows, {rows_completed} completed"
        )
    return {"total": total, "completed": completed}


def delete_after(primary, list_id: int, last_id: int) -> int:
    with primary.cursor() as cur:
        cur.execute("DELETE FROM todo_list WHERE list_id = %s AND id > %s", (list_id, last_id))
        return cur.rowcount


def vacuum(primary) -> None:
    with primary.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) todo_list")
        cur.execute("VACUUM (ANALYZE) todo_lists")


def wait_for_replica(primary, replica, timeout: float = 120) -> float:
    """Seconds until the replica has replayed everything the primary has written."""
    started = time.monotonic()
    target = one(primary, "SELECT pg_current_wal_lsn()")[0]
    while True:
        if one(replica, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,))[0]:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"the replica did not replay up to {target} within {timeout} s")
        time.sleep(0.05)


def sessions_opened(conn) -> int:
    """Connections this server has accepted since its statistics were reset."""
    return int(one(conn, "SELECT coalesce(sum(sessions), 0) FROM pg_stat_database")[0])
