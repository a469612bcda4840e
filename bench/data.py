"""The data the scenarios read: N rows bulk-loaded as the superuser on the primary in
one INSERT ... SELECT (the statement triggers keep todo_counts right), every 100th
row completed so the "completed" view is a page of ~N/100 items; rows the write
scenarios add are deleted again after each round so every round reads the same data."""

from __future__ import annotations

import time


def one(conn, sql: str, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def load(primary, rows: int) -> None:
    with primary.cursor() as cur:
        cur.execute(
            "INSERT INTO todo_list (name, completed)"
            " SELECT 'Item ' || g || ': water the plants, call the bank', g %% 100 = 0"
            " FROM generate_series(1, %s) g",
            (rows,),
        )


def id_range(conn) -> tuple[int, int, int]:
    """(min id, max id, rows)."""
    low, high, count = one(conn, "SELECT coalesce(min(id), 0), coalesce(max(id), 0), count(*) FROM todo_list")
    return low, high, count


def delete_after(primary, last_id: int) -> int:
    with primary.cursor() as cur:
        cur.execute("DELETE FROM todo_list WHERE id > %s", (last_id,))
        return cur.rowcount


def vacuum(primary) -> None:
    with primary.cursor() as cur:
        cur.execute("VACUUM (ANALYZE) todo_list")
        cur.execute("VACUUM (ANALYZE) todo_counts")


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
