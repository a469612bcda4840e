"""Metrics read from PostgreSQL when Prometheus scrapes: replication state, slots,
active accounts. The gunicorn master serves them (see ``metrics.serve``), so each pod
asks once per scrape whatever its worker count, and a short cache keeps several
Prometheus servers (or a fast scrape interval) from asking more often.

Each scrape that needs fresh values opens one short connection and closes it: the
master forks workers, and a connection it kept would be inherited by each of them.
A query that fails (server down, schema not there yet) drops its metrics from that
scrape and sets ``todo_db_scrape_success{query}`` to 0; the others still report.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import closing

import psycopg2
from prometheus_client.core import GaugeMetricFamily, Metric

from .settings import DatabaseSettings

log = logging.getLogger(__name__)

# A query returns the metric families it read; it gets an autocommit cursor.
Query = Callable[[object], Iterable[Metric]]

DEFAULT_CACHE_SECONDS = 10.0


class DatabaseCollector:
    """A prometheus_client collector running ``queries`` (name -> function) on one server."""

    def __init__(
        self,
        settings: DatabaseSettings,
        queries: dict[str, Query],
        *,
        application_name: str,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
    ):
        self._settings = settings
        self._queries = queries
        self._application_name = application_name
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._families: list[Metric] = []

    def describe(self) -> list:
        return []  # nothing to check for clashes at registration; names are fixed in the queries

    def _connect(self):
        kwargs = {
            **self._settings.connect_kwargs(),
            "application_name": self._application_name,
            "connect_timeout": min(self._settings.connect_timeout, 3),
            "options": "-c statement_timeout=2000",
        }
        conn = psycopg2.connect(**kwargs)
        conn.autocommit = True
        return conn

    def _read(self) -> list[Metric]:
        success = GaugeMetricFamily(
            "todo_db_scrape_success",
            "Whether the scrape-time database query worked (1) or failed (0).",
            labels=["query"],
        )
        families: list[Metric] = []
        try:
            conn = self._connect()
        except psycopg2.Error as exc:
            log.warning("metrics: cannot connect to %s: %s", self._settings.describe(), str(exc).strip())
            for name in self._queries:
                success.add_metric([name], 0)
            return [success]
        with closing(conn):
            for name, query in self._queries.items():
                try:
                    with conn.cursor() as cur:
                        families.extend(query(cur))
                    success.add_metric([name], 1)
                except psycopg2.Error as exc:
                    log.warning("metrics: query %s failed: %s", name, str(exc).strip().splitlines()[0])
                    success.add_metric([name], 0)
        return [*families, success]

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            now = time.monotonic()
            if now - self._read_at >= self._cache_seconds:
                self._families = self._read()
                self._read_at = now
            return list(self._families)


def cache_seconds(env=None) -> float:
    """METRICS_DATABASE_CACHE_SECONDS: how long a read is reused (default 10)."""
    from .settings import Env

    return (env or Env()).float("METRICS_DATABASE_CACHE_SECONDS", DEFAULT_CACHE_SECONDS)
