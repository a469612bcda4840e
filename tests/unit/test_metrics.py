"""Metric labels come from fixed sets, whatever a client sends; no API port serves
/metrics; log lines are JSON with secrets masked. Building an app does no I/O."""

from __future__ import annotations

import json
import logging

from prometheus_client import REGISTRY

from todo_common import logs, metrics, request_log

from .test_openapi import frontend_app, reader_app, writer_app


def _series(name: str) -> list[dict]:
    return [sample.labels for family in REGISTRY.collect() if family.name == name for sample in family.samples]


def test_invented_methods_paths_and_statuses_fold_into_one_value():
    """22,000 random methods once made the frontend's /metrics 2.4 MB: each became a label."""
    app = frontend_app()
    client = app.test_client()
    for n in range(300):
        client.open(f"/made-up/{n}", method=f"X{n:04d}")
        client.open(f"/lists/{n}/not-a-route", method="GET")
    series = [labels for labels in _series("todo_http_requests_total") if labels.get("method")]
    routes = {rule.rule for rule in app.url_map.iter_rules()} | {metrics.UNMATCHED}
    assert {labels["method"] for labels in series} <= metrics.METHODS | {metrics.OTHER}
    assert {labels["route"] for labels in series} <= routes
    assert len(series) < 40, f"{len(series)} series after 600 odd requests"


def test_status_outside_the_registry_folds():
    assert metrics.status_label(200) == "200"
    assert metrics.status_label(503) == "503"
    assert metrics.status_label(299) == metrics.OTHER
    assert metrics.status_label(999) == metrics.OTHER
    assert metrics.method_label("get") == metrics.OTHER  # methods are case-sensitive
    assert metrics.method_label("PATCH") == "PATCH"


def test_no_api_port_serves_metrics():
    for app in (frontend_app(), reader_app(), writer_app()):
        assert "/metrics" not in {rule.rule for rule in app.url_map.iter_rules()}


def test_request_ids_are_kept_when_plain_and_short_else_replaced():
    app = frontend_app()
    client = app.test_client()
    for given in ("abc-123", "0f8fad5b-d9cb-469f-a165-70867728950e", "trace:span.1_2"):
        assert client.get("/healthz", headers={"X-Request-ID": given}).headers["X-Request-ID"] == given
    for bad in ("", "a" * 65, "two words", "x\ty", "-leading-dash", "é"):
        answer = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert answer != bad and len(answer) == 32, bad


def test_account_ids_in_logs_are_opaque_and_stable():
    ids = request_log.AccountIds("k" * 32)
    assert ids(42) == ids(42) != ids(43)
    assert len(ids(42)) == 12 and "42" not in ids(42)
    assert request_log.AccountIds("another key" * 4)(42) != ids(42)


def test_json_lines_mask_capability_urls_and_credentials():
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "GET %s %s", None, None)
    record.args = ("/api/t/SECRETTOKEN123/todos/4", "Authorization: Bearer eyJabc.def")
    record.todo = {"request_id": "r1", "status": 200}
    line = logs.JsonFormatter().format(record)
    entry = json.loads(line)
    assert "SECRETTOKEN123" not in line and "eyJabc" not in line
    assert entry["message"] == "GET /api/t/[redacted]/todos/4 Authorization: Bearer [redacted]"
    assert entry["level"] == "warning" and entry["request_id"] == "r1" and entry["status"] == 200
    assert {"time", "service", "logger"} <= set(entry)
