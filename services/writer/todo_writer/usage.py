"""Usage trends: items created, completed and deleted, sign-ups and log-ins (counters
the API bumps after a commit), and accounts active over 1 and 7 days (counted from
``accounts.last_seen_at`` when Prometheus scrapes, by the gunicorn master).

"Active" means signed up, logged in or changed something: reads go to the replica,
which cannot record them. Recording costs one indexed UPDATE per account at most every
``TOUCH_EVERY_SECONDS`` per process, after the answer is ready.

Also the primary's replication slots (WAL each one holds back, and the bound that
``max_slot_wal_keep_size`` puts on it), read in the same scrape.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask, current_app, g, request
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

from todo_common.db import DatabaseUnavailable
from todo_common.db_collector import DatabaseCollector, cache_seconds
from todo_common.settings import DatabaseSettings

log = logging.getLogger(__name__)

ITEMS_CREATED = Counter("todo_items_created_total", "Items created (an idempotent replay is not counted again).")
ITEMS_COMPLETED = Counter("todo_items_completed_total", "Items marked completed (one by one or by mark-all).")
ITEMS_DELETED = Counter("todo_items_deleted_total", "Items deleted (one by one, clear completed, emptied lists).")
SIGNUPS = Counter("todo_signups_total", "Accounts created through sign-up.")
LOGINS = Counter(
    "todo_logins_total", "Log-in attempts by outcome: success, failure (wrong credentials), throttled.", ["outcome"]
)
for _outcome in ("success", "failure", "throttled"):
    LOGINS.labels(_outcome)

TOUCH_EVERY_SECONDS = 300
_MAX_REMEMBERED = 10_000
TOUCH_ACCOUNT_SQL = (
    "UPDATE accounts SET last_seen_at = now() WHERE id = %(account)s"
    " AND (last_seen_at IS NULL OR last_seen_at < now() - interval '1 minute')"
)
TOUCH_TOKEN_OWNER_SQL = (
    "UPDATE accounts a SET last_seen_at = now() FROM api_tokens t"
    " WHERE t.token_hash = decode(%(token_hash)s, 'hex') AND a.id = t.account_id"
    " AND (a.last_seen_at IS NULL OR a.last_seen_at < now() - interval '1 minute')"
)
ACTIVE_SQL = (
    "SELECT (SELECT count(*) FROM accounts WHERE last_seen_at > now() - interval '1 day'),"
    " (SELECT count(*) FROM accounts WHERE last_seen_at > now() - interval '7 days')"
)
SLOTS_SQL = """
SELECT slot_name, active,
       coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0),
       safe_wal_size
FROM pg_replication_slots
"""
KEEP_SIZE_SQL = "SELECT pg_size_bytes(current_setting('max_slot_wal_keep_size'))"

_touched: dict[tuple[str, object], float] = {}
_touched_lock = threading.Lock()


def _due(key: tuple[str, object]) -> bool:
    now = time.monotonic()
    with _touched_lock:
        if now - _touched.get(key, float("-inf")) < TOUCH_EVERY_SECONDS:
            return False
        if len(_touched) >= _MAX_REMEMBERED:
            _touched.clear()
        _touched[key] = now
        return True


def init_app(app: Flask) -> None:
    @app.after_request
    def _record_activity(response):
        actor = g.get("actor")
        if actor is None or request.method == "GET" or not 200 <= response.status_code < 300:
            return response
        if actor.account_id is not None:
            key, sql, params = ("account", actor.account_id), TOUCH_ACCOUNT_SQL, {"account": actor.account_id}
        elif actor.api_token_hash is not None:
            key, sql, params = (
                ("token", actor.api_token_hash),
                TOUCH_TOKEN_OWNER_SQL,
                {"token_hash": actor.api_token_hash},
            )
        else:
            return response
        if _due(key):
            try:
                current_app.extensions["todo_db"].run(lambda cur: cur.execute(sql, params))
            except DatabaseUnavailable as exc:  # the change itself is done; this is bookkeeping
                log.warning("could not record account activity: %s", exc)
        return response


def active_accounts(cur):
    cur.execute(ACTIVE_SQL)
    day, week = cur.fetchone()
    family = GaugeMetricFamily(
        "todo_accounts_active",
        "Accounts that signed up, logged in or changed something within the window.",
        labels=["window"],
    )
    family.add_metric(["1d"], day)
    family.add_metric(["7d"], week)
    yield family


def replication_slots(cur):
    cur.execute(SLOTS_SQL)
    rows = cur.fetchall()
    retained = GaugeMetricFamily(
        "todo_db_replication_slot_retained_wal_bytes", "WAL the primary keeps for a replication slot.", labels=["slot"]
    )
    active = GaugeMetricFamily(
        "todo_db_replication_slot_active", "1 while a standby is connected to the slot.", labels=["slot"]
    )
    safe = GaugeMetricFamily(
        "todo_db_replication_slot_safe_wal_bytes",
        "WAL that can still be written before the slot is invalidated (max_slot_wal_keep_size).",
        labels=["slot"],
    )
    for name, is_active, retained_bytes, safe_bytes in rows:
        retained.add_metric([name], float(retained_bytes))
        active.add_metric([name], 1 if is_active else 0)
        if safe_bytes is not None:
            safe.add_metric([name], float(safe_bytes))
    cur.execute(KEEP_SIZE_SQL)
    keep = GaugeMetricFamily(
        "todo_db_max_slot_wal_keep_size_bytes",
        "The primary's max_slot_wal_keep_size (-1: slots may hold back WAL without bound).",
        value=float(cur.fetchone()[0]),
    )
    yield from (retained, active, safe, keep)


def collectors(database: DatabaseSettings) -> list[DatabaseCollector]:
    queries = {"accounts": active_accounts, "slots": replication_slots}
    return [DatabaseCollector(database, queries, application_name="todo-writer-metrics", cache_seconds=cache_seconds())]
