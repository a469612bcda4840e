"""Prometheus metrics: what each request costs, with labels from fixed sets only, served
on a port of their own (``METRICS_PORT``), never on the service's public port.

Labels come from what the code knows, never from what a client sends: a method outside
``METHODS``, a path that matched no route and a status outside HTTP's registry each
fold into one value, so a client inventing methods or paths cannot grow every scrape.

Under gunicorn each worker is its own process, so counters live in files in
``PROMETHEUS_MULTIPROC_DIR`` (the gunicorn config sets it). The gunicorn master serves
them, summed, from ``when_ready`` (prometheus_client's documented multiprocess set-up);
workers never answer a scrape. The master can add collectors that ask the database at
scrape time (replication, usage); see ``serve``.
"""

from __future__ import annotations

import http
import logging
import os
import time
from collections.abc import Iterable

from flask import Flask, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

log = logging.getLogger(__name__)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER = "other"
UNMATCHED = "unmatched"
_STATUSES = frozenset(status.value for status in http.HTTPStatus)

REQUESTS = Counter(
    "todo_http_requests_total",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "todo_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


def method_label(method: str) -> str:
    return method if method in METHODS else OTHER


def status_label(status: int) -> str:
    return str(status) if status in _STATUSES else OTHER


def route_label() -> str:
    """The matched route's template (``/v1/todos/<todo_id:todo_id>``), never the path."""
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


def init_app(app: Flask) -> None:
    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def _record(response):
        started = g.get("request_started")
        if started is not None:
            route = route_label()
            LATENCY.labels(route).observe(time.perf_counter() - started)
            REQUESTS.labels(route, method_label(request.method), status_label(response.status_code)).inc()
        return response


def registry(collectors: Iterable = ()) -> CollectorRegistry:
    """Every worker's metrics added up (or this process's without gunicorn), plus
    ``collectors`` that are asked at scrape time."""
    result = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(result)
    else:
        from prometheus_client import REGISTRY

        result.register(REGISTRY)
    for collector in collectors:
        result.register(collector)
    return result


def serve(port: int, host: str, collectors: Iterable = ()):
    """Start the metrics HTTP server (a daemon thread); returns the server, whose
    socket forked workers close (see todo_common.gunicorn_conf)."""
    server, _thread = start_http_server(port, addr=host, registry=registry(collectors))
    log.info("metrics on http://%s:%d/metrics", host, port)
    return server
