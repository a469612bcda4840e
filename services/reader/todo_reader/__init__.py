"""The reader: answers every read from the PostgreSQL replica, with read-your-writes."""

from __future__ import annotations

from flask import Flask
from prometheus_client import Gauge

from todo_common import errors, health, logs, metrics, routing, service_auth
from todo_common.db import Database, DatabaseUnavailable
from todo_common.settings import load as load_settings

from . import api, store
from .lsn_wait import ConsistentReader
from .settings import ReaderSettings

REPLAY_LAG_BYTES = Gauge(
    "todo_reader_replica_replay_lag_bytes",
    "WAL received by the replica but not yet replayed, as of the last readiness check.",
    multiprocess_mode="max",
)


def create_app(settings: ReaderSettings | None = None) -> Flask:
    logs.configure("reader")
    settings = settings or load_settings(ReaderSettings, "reader")
    app = Flask(__name__)
    replica = Database(settings.database)
    fallback = Database(settings.fallback_database) if settings.fallback_database else None
    app.extensions["todo_settings"] = settings
    reader = ConsistentReader(replica, fallback, settings.lsn_wait_timeout, settings.lsn_max_concurrent_waits)
    app.extensions["todo_reader"] = reader

    def readiness() -> dict:
        # A missing schema is reported, not a reason to be unready (see the writer's readiness).
        try:
            status = store.replication_status(replica)
        except DatabaseUnavailable as exc:
            if fallback is None:
                raise
            # Reads go to the primary meanwhile: still ready, and saying so.
            fallback.run(store.current_wal_lsn)  # raises (not ready) when the primary is down too
            return {
                "status": "degraded",
                "detail": "replica unreachable, serving from the primary",
                "replica_error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                "database": settings.database.describe(),
                "fallback": settings.fallback_database.describe(),
            }
        if status["replay_lag_bytes"] is not None:
            REPLAY_LAG_BYTES.set(float(status["replay_lag_bytes"]))
        return {
            "database": settings.database.describe(),
            **status,
            "fallback": settings.fallback_database.describe() if settings.fallback_database else None,
        }

    routing.init_app(app)
    errors.init_app(app)
    errors.init_database_errors(app)
    health.init_app(app, readiness)
    metrics.init_app(app, "reader")
    service_auth.init_app(app, settings.service_token_keys)
    app.register_blueprint(api.bp)
    return app
