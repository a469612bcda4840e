"""The reader: answers every read from the PostgreSQL replica, with read-your-writes."""

from __future__ import annotations

from flask import Flask, g

from todo_common import errors, health, logs, metrics, request_log, routing, service_auth
from todo_common.db import Database, DatabaseUnavailable
from todo_common.settings import load as load_settings

from . import api, replication_metrics, store
from .lsn_wait import ConsistentReader
from .page_cache import PageCache
from .settings import ReaderSettings


def create_app(settings: ReaderSettings | None = None) -> Flask:
    logs.configure("reader")
    settings = settings or load_settings(ReaderSettings, "reader")
    app = Flask(__name__)
    replica = Database(settings.database)
    fallback = Database(settings.fallback_database) if settings.fallback_database else None
    app.extensions["todo_settings"] = settings
    reader = ConsistentReader(replica, fallback, settings.lsn_wait_timeout, settings.lsn_max_concurrent_waits)
    app.extensions["todo_reader"] = reader
    app.extensions["todo_page_cache"] = PageCache()

    def readiness() -> dict:
        # A missing schema is reported, not a reason to be unready (see the writer's readiness).
        try:
            status = store.replication_status(replica)
        except DatabaseUnavailable:
            if fallback is None:
                raise
            # Reads go to the primary meanwhile: still ready, and saying so.
            fallback.run(store.current_wal_lsn)  # raises (not ready) when the primary is down too
            return {"status": "degraded", "detail": "replica unreachable, serving from the primary", "fallback": True}
        return {**status, "fallback": settings.fallback_database is not None}

    routing.init_app(app)
    errors.init_app(app)
    errors.init_database_errors(app)
    health.init_app(app, readiness)
    metrics.init_app(app)
    # Account ids in the logs are hashes keyed with the service-token key.
    request_log.init_app(app, key=next(iter(settings.service_token_keys), ""), actor=lambda: g.get("actor"))
    service_auth.init_app(app, settings.service_token_keys, "reader")
    app.register_blueprint(api.bp)
    return app


def metrics_collectors() -> list:
    """What the gunicorn master adds to the workers' metrics: the replica's replication state."""
    return replication_metrics.collectors(load_settings(ReaderSettings, "reader").database)
