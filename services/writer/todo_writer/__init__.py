"""The writer: the only service that changes data (accounts, lists, items), bound to
the PostgreSQL primary."""

from __future__ import annotations

from flask import Flask, g

from todo_common import errors, health, logs, metrics, request_log, routing, service_auth
from todo_common.db import Database
from todo_common.settings import load as load_settings

from . import account_api, api, migrate, usage
from .settings import WriterSettings


def create_app(settings: WriterSettings | None = None) -> Flask:
    logs.configure("writer")
    settings = settings or load_settings(WriterSettings, "writer")
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    db = Database(settings.database)
    app.extensions["todo_settings"] = settings
    app.extensions["todo_db"] = db

    def readiness() -> dict:
        # Pending migrations are reported, not a reason to be unready: on a first
        # install the migration Job runs after the pods (post-install), and
        # `helm install --wait` would otherwise wait forever. Until then, requests
        # get a clear 503 (SchemaNotReady).
        return {"pending_migrations": migrate.pending(db)}

    routing.init_app(app)
    errors.init_app(app)
    errors.init_database_errors(app, writes=True)
    health.init_app(app, readiness)
    metrics.init_app(app)
    # Account ids in the logs are hashes keyed with the service-token key.
    request_log.init_app(app, key=next(iter(settings.service_token_keys), ""), actor=lambda: g.get("actor"))
    service_auth.init_app(app, settings.service_token_keys, "writer")
    migrate.init_app(app)
    usage.init_app(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(account_api.bp)
    return app


def metrics_collectors() -> list:
    """What the gunicorn master adds to the workers' metrics: active accounts and the
    primary's replication slots, read at scrape time."""
    return usage.collectors(load_settings(WriterSettings, "writer").database)
