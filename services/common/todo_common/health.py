"""``/healthz`` (the process answers) and ``/readyz`` (its dependencies answer).

Liveness never touches a dependency, so a database outage makes pods unready (taken
out of the Service) rather than restarted in a loop. Neither says where a dependency
is (no host, port, URL or user): the details of a failure go to the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, Flask, jsonify

log = logging.getLogger(__name__)

# A readiness check returns details to report, or raises to say "not ready". Details
# may carry their own "status" (e.g. "degraded": ready, serving in a reduced way).
ReadinessCheck = Callable[[], dict]


def init_app(app: Flask, readiness: ReadinessCheck) -> None:
    bp = Blueprint("health", __name__)

    @bp.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @bp.get("/readyz")
    def readyz():
        try:
            details = readiness()
        except Exception as exc:  # any failure means "not ready"; say what kind, not where
            log.warning("not ready: %s", exc)
            return jsonify(status="unavailable", error=type(exc).__name__), 503
        # The details may say "status" themselves (e.g. a reader serving from the primary).
        return jsonify({"status": "ok", **details})

    app.register_blueprint(bp)
