"""The lean reference: plain Flask + psycopg2, one connection per thread, reading the
replica and writing the primary. What one would write by hand for this page: check
the session's account and find its list (one query, counts from the list's row),
the page of items, the account's lists for the switcher."""

from __future__ import annotations

import threading

import psycopg2

from todo_common.service_token import Actor

from .app import make_app, settings

_FILTER = {"all": "", "active": "AND NOT completed", "completed": "AND completed"}
# The session's account (still at this session generation) and its list: the one
# named, else its first.
OWNED_LIST = """
SELECT l.id, l.name, l.total, l.completed FROM todo_lists l JOIN accounts a ON a.id = l.account_id
WHERE a.id = %(account)s AND a.session_generation = %(generation)s
  AND l.id = coalesce(%(list)s, (SELECT min(id) FROM todo_lists WHERE account_id = %(account)s))
"""
ITEMS = "SELECT id, name, completed, position FROM todo_list WHERE list_id = %s AND id > %s {} ORDER BY id LIMIT %s"
BACK = "SELECT id FROM todo_list WHERE list_id = %s AND id <= %s {} ORDER BY id DESC LIMIT %s"
LISTS = "SELECT id, name FROM todo_lists WHERE account_id = %s ORDER BY id"
INSERT = """
INSERT INTO todo_list (list_id, name)
SELECT l.id, %(name)s FROM todo_lists l JOIN accounts a ON a.id = l.account_id
WHERE a.id = %(account)s AND a.session_generation = %(generation)s
  AND l.id = coalesce(%(list)s, (SELECT min(id) FROM todo_lists WHERE account_id = %(account)s))
RETURNING list_id
"""


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

    def page(actor: Actor, list_id: int | None, status: str, after: int, limit: int) -> dict | None:
        who = {"account": actor.account_id, "generation": actor.generation, "list": list_id}
        with connection("replica").cursor() as cur:
            cur.execute(OWNED_LIST, who)
            owned = cur.fetchone()
            if owned is None:
                return None
            shown, name, total, completed = owned
            cur.execute(ITEMS.format(_FILTER[status]), (shown, after, limit + 1))
            rows = cur.fetchall()
            prev_after = None
            if after:
                cur.execute(BACK.format(_FILTER[status]), (shown, after, limit + 1))
                back = cur.fetchall()
                prev_after = back[-1][0] if len(back) > limit else 0
            cur.execute(LISTS, (actor.account_id,))
            lists = [{"id": r[0], "name": r[1]} for r in cur.fetchall()]
        items = [{"id": r[0], "name": r[1], "completed": r[2], "order": r[3]} for r in rows[:limit]]
        return {
            "list": {"id": shown, "name": name},
            "items": items,
            "next_after": items[-1]["id"] if len(rows) > limit else None,
            "prev_after": prev_after,
            "counts": {"all": total, "active": total - completed, "completed": completed},
            "lists": lists,
        }

    def add(actor: Actor, list_id: int | None, name: str) -> int | None:
        with connection("primary").cursor() as cur:
            cur.execute(
                INSERT, {"account": actor.account_id, "generation": actor.generation, "list": list_id, "name": name}
            )
            row = cur.fetchone()
        return row[0] if row else None

    return make_app(__name__, page, add, config)
