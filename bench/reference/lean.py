"""The lean reference: plain Flask + psycopg2, one connection per thread, reading the
replica and writing the primary. What one would write by hand for this page."""

from __future__ import annotations

import threading

import psycopg2

from .app import make_app, settings

_FILTER = {"all": "", "active": "AND NOT completed", "completed": "AND completed"}
COUNTS = (
    "SELECT coalesce(sum(total), 0), coalesce(sum(total - completed), 0), coalesce(sum(completed), 0) FROM todo_counts"
)


def create_app():
    config = settings()
    local = threading.local()

    def connection(role: str):
        conn = getattr(local, role, None)
        if conn is None or conn.closed:
            conn = psycopg2.connect(config[role])
            conn.autocommit = True
            setattr(local, role, conn)
        return conn

    def page(status: str, after: int, limit: int) -> dict:
        with connection("replica").cursor() as cur:
            cur.execute(
                f"SELECT id, name, completed, position FROM todo_list WHERE id > %s {_FILTER[status]}"
                " ORDER BY id LIMIT %s",
                (after, limit + 1),
            )
            rows = cur.fetchall()
            cur.execute(COUNTS)
            total, active, completed = cur.fetchone()
        items = [{"id": r[0], "name": r[1], "completed": r[2], "order": r[3]} for r in rows[:limit]]
        return {
            "items": items,
            "next_after": items[-1]["id"] if len(rows) > limit else None,
            "counts": {"all": total, "active": active, "completed": completed},
        }

    def add(name: str) -> None:
        with connection("primary").cursor() as cur:
            cur.execute("INSERT INTO todo_list (name) VALUES (%s)", (name,))

    return make_app(__name__, page, add, config)
