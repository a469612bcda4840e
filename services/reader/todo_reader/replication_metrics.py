"""The replica's replication state, read when Prometheus scrapes the reader (by the
gunicorn master; see todo_common.db_collector).

Lag in bytes is WAL the replica has received but not replayed; in seconds, the age of
the last replayed commit while something is waiting to be replayed (0 when the replica
has replayed all it received, so an idle primary does not look like lag). WAL not yet
received shows on the primary's side, as the slot's retained WAL (the writer's metrics).
Only functions and views every role may read are used: the reader's role needs no
monitoring privilege. Behind a load-balanced read-only Service each scrape may reach
another replica; a postgres_exporter beside each replica (the chart's option) reports
every one.
"""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily

from todo_common.db_collector import DatabaseCollector, cache_seconds
from todo_common.settings import DatabaseSettings

REPLICA_SQL = """
SELECT pg_is_in_recovery(),
       pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()),
       CASE WHEN NOT pg_is_in_recovery() THEN 0
            WHEN pg_last_wal_receive_lsn() IS NOT NULL
             AND pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
            ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END,
       EXISTS (SELECT 1 FROM pg_stat_wal_receiver)
"""


def replica_metrics(cur):
    cur.execute(REPLICA_SQL)
    in_recovery, lag_bytes, lag_seconds, receiving = cur.fetchone()
    yield GaugeMetricFamily(
        "todo_reader_replica_in_recovery",
        "1 when the reader's database is a standby (0: it reads a primary, nothing to lag behind).",
        value=1 if in_recovery else 0,
    )
    yield GaugeMetricFamily(
        "todo_reader_replica_streaming",
        "1 while the standby runs a WAL receiver (streams from the primary).",
        value=1 if in_recovery and receiving else 0,
    )
    yield GaugeMetricFamily(
        "todo_reader_replica_replay_lag_bytes",
        "WAL received by the replica but not yet replayed.",
        value=float(lag_bytes or 0),
    )
    yield GaugeMetricFamily(
        "todo_reader_replica_replay_lag_seconds",
        "Age of the last replayed commit while WAL waits to be replayed (0 when caught up).",
        value=max(float(lag_seconds or 0), 0.0),
    )


def collectors(database: DatabaseSettings) -> list[DatabaseCollector]:
    return [
        DatabaseCollector(
            database,
            {"replica": replica_metrics},
            application_name="todo-reader-metrics",
            cache_seconds=cache_seconds(),
        )
    ]
