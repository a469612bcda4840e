"""Prometheus metrics at ``/metrics``, correct under gunicorn's several workers.

Under gunicorn each worker is its own process, so counters live in files in
``PROMETHEUS_MULTIPROC_DIR`` (the gunicorn config sets it) and ``/metrics`` adds
them up; run without gunicorn (tests, ``flask run``) the default registry is used.
"""

from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

REQUESTS = Counter(
    "todo_http_requests_total",
    "HTTP requests answered, by service, route and status.",
    ["service", "route", "method", "status"],
)
LATENCY = Histogram(
    "todo_http_request_duration_seconds",
    "Time to answer an HTTP request, by service and route.",
    ["service", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


def _registry() -> CollectorRegistry | None:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return None
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def init_app(app: Flask, service: str) -> None:
    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def _record(response):
        started = g.pop("request_started", None)
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        if started is not None and route != "/metrics":
            LATENCY.labels(service, route).observe(time.perf_counter() - started)
            REQUESTS.labels(service, route, request.method, str(response.status_code)).inc()
        return response

    @app.get("/metrics")
    def metrics():
        registry = _registry()
        body = generate_latest(registry) if registry is not None else generate_latest()
        return Response(body, mimetype=CONTENT_TYPE_LATEST)
