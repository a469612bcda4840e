"""A real Prometheus (Debian's package) scrapes the local stack every second while a
short load runs: people sign up, log in (once with a wrong password), add, complete and
delete items, read their lists, use an API token, and write while the replica's replay
is paused (so the replica lags and a read falls back to the primary); the reader
is down for a moment, so the frontend retries a read and answers 503. Its HTTP API must then show every metric
with the expected labels and sensible values, and every expression of the alerting
rules and of the Grafana dashboard must return data.

Counters are compared with their values before the load (the stack is shared with other
tests). Set TODO_OBSERVABILITY_PICTURE=docs/observability.png to also draw the README's
picture of the key panels from this run.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from pathlib import Path

import pytest
import requests
import yaml

from devlocal.prometheus import Prometheus

from ..helpers import replay_paused, signed_in, wait_replayed
from .tools import DASHBOARD, RULES, binary

SCRAPE = "1s"


@pytest.fixture(scope="module")
def prometheus(stack):
    binary("prometheus")
    server = Prometheus(stack, scrape_interval=SCRAPE)
    server.start()
    try:
        _eventually(lambda: len([r for r in server.query("up == 1")]) == 3, "all three targets up")
        yield server
    finally:
        server.stop()


def _eventually(check, what: str, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"not within {timeout}s: {what}")


def _value(prometheus: Prometheus, expr: str) -> float:
    result = prometheus.query(f"sum({expr})")
    return float(result[0]["value"][1]) if result else 0.0


def _labels(prometheus: Prometheus, expr: str) -> list[dict]:
    return [sample["metric"] for sample in prometheus.query(expr)]


# Counters the load must move: (PromQL selector, what it shows).
COUNTERS = {
    'todo_http_requests_total{component="frontend", route="/lists/<id:list_id>/todos", method="POST", status="303"}': (
        "an item added through the form"
    ),
    'todo_http_requests_total{component="frontend", route="unmatched", method="other", status="404"}': (
        "an invented method on an unknown path, folded"
    ),
    'todo_http_requests_total{component="reader", route="/v1/todos", method="GET", status="200"}': "list reads",
    'todo_http_requests_total{component="writer", route="/v1/sessions", method="POST", status="401"}': (
        "the wrong password"
    ),
    'todo_http_request_duration_seconds_count{component="reader", route="/v1/todos"}': "read latency",
    'todo_frontend_upstream_requests_total{upstream="reader", method="GET", outcome="ok"}': "calls to the reader",
    'todo_frontend_upstream_requests_total{upstream="writer", method="POST", outcome="ok"}': "calls to the writer",
    'todo_frontend_upstream_requests_total{upstream="writer", method="POST", outcome="rejected"}': "a refused log-in",
    'todo_frontend_upstream_request_duration_seconds_count{upstream="writer", method="POST"}': "writer call latency",
    'todo_frontend_upstream_retries_total{upstream="reader"}': "a read's connect retried while the reader was down",
    'todo_frontend_upstream_requests_total{upstream="reader", method="GET", outcome="error"}': "the reader down",
    'todo_http_requests_total{component="frontend", route="/", status="503"}': "the 503 page",
    'todo_db_query_duration_seconds_count{pool="todo-reader"}': "replica work",
    'todo_db_query_duration_seconds_count{pool="todo-writer"}': "primary work",
    'todo_db_pool_checkout_seconds_count{pool="todo-writer"}': "pool checkouts",
    "todo_reader_lsn_waits_total": "reads that carried a write's LSN",
    "todo_reader_lsn_wait_seconds_count": "their waits",
    'todo_reader_lsn_waits_total{outcome="timed_out"}': "a wait past the bound while replay was paused",
    "todo_reader_fallback_reads_total": "the read that fell back to the primary",
    "todo_items_created_total": "items created",
    "todo_items_completed_total": "items completed",
    "todo_items_deleted_total": "items deleted",
    "todo_signups_total": "sign-ups",
    'todo_logins_total{outcome="success"}': "log-ins",
    'todo_logins_total{outcome="failure"}': "failed log-ins",
}


def _load(stack, primary, replica) -> dict:
    """The short load; returns what the checks need to know about it."""
    browser = signed_in(stack)
    list_path = browser.list_path()
    for n in range(4):
        browser.post(list_path + "/todos", {"name": f"load {n}"})
    page = browser.get(list_path)
    ids = re.findall(r'id="todo-(\d+)"', page.text)
    browser.post(f"/todos/{ids[0]}/toggle", {"completed": "true"})
    browser.post(f"/todos/{ids[1]}/delete")
    requests.request("PURGE", stack.frontend_url + "/no-such-page-" + uuid.uuid4().hex, timeout=10)
    # Log out, a wrong password, then the right one.
    browser.post("/logout")
    assert browser.log_in(browser.username, "not the password").status_code == 401
    assert browser.log_in(browser.username, browser.password).status_code == 200
    # A script with an API token.
    token = requests.post(stack.frontend_url + "/api/tokens", auth=(browser.username, browser.password), timeout=10)
    api_root = token.json()["api_root"]
    requests.post(api_root, json={"title": "from a script"}, timeout=10)
    requests.get(api_root, timeout=10)
    # The replica stops applying WAL: writes pile up on it unreplayed, and the page after
    # a write waits past the bound and falls back to the primary.
    with replay_paused(replica):
        for n in range(3):
            browser.post(list_path + "/todos", {"name": f"while paused {n}"})
            time.sleep(0.5)
        lagging = {"seconds": 0.0, "bytes": 0.0}

        def lag_seen() -> bool:
            lagging["seconds"] = _value(stack.prometheus, "todo_reader_replica_replay_lag_seconds")
            lagging["bytes"] = _value(stack.prometheus, "todo_reader_replica_replay_lag_bytes")
            return lagging["seconds"] > 1 and lagging["bytes"] > 0

        _eventually(lag_seen, "replay lag in seconds and bytes while replay is paused", timeout=20)
    wait_replayed(primary, replica)
    return {"lag": lagging}


def _reader_outage(stack, prometheus) -> None:
    """The reader is down for a moment: the frontend retries a read's connect once, then
    answers 503; once the reader is back, pages work again. (Its counters restart at 0.)"""
    browser = signed_in(stack)
    stack.stop_service("reader")
    try:
        assert browser.get("/").status_code == 503
    finally:
        stack.start_service("reader")
        stack.wait_ready("reader")
    assert browser.get("/").status_code == 200
    time.sleep(1.5)
    _eventually(lambda: _value(prometheus, 'up{job="reader"}') == 1, "the reader scraped again")


@pytest.fixture(scope="module")
def loaded(stack, prometheus, primary_module, replica_module):
    stack.prometheus = prometheus
    # The outage first, as restarting the reader resets its counters: each counter is
    # compared with the lower of its values before and after the outage.
    first = {selector: _value(prometheus, selector) for selector in COUNTERS}
    _reader_outage(stack, prometheus)
    before = {selector: min(first[selector], _value(prometheus, selector)) for selector in COUNTERS}
    info = _load(stack, primary_module, replica_module)
    # Lag back to 0 after the replica caught up; and one more scrape of everything.
    _eventually(lambda: _value(prometheus, "todo_reader_replica_replay_lag_bytes") == 0, "lag gone after resume")
    time.sleep(2.5)
    return {"before": before, **info}


@pytest.fixture(scope="module")
def primary_module(stack):
    conn = stack.cluster.superuser_connection()
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def replica_module(stack):
    conn = stack.cluster.superuser_connection(stack.cluster.replica)
    yield conn
    conn.close()


@pytest.mark.parametrize("selector", list(COUNTERS))
def test_load_moves_each_counter(prometheus, loaded, selector):
    after = _value(prometheus, selector)
    assert after > loaded["before"][selector], f"{COUNTERS[selector]}: {selector} stayed at {after}"


def test_labels_come_from_fixed_sets(prometheus, loaded):
    methods = {m["method"] for m in _labels(prometheus, "todo_http_requests_total")}
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    assert "PURGE" not in methods
    routes = {m["route"] for m in _labels(prometheus, "todo_http_requests_total")}
    assert not [route for route in routes if "no-such-page" in route or re.search(r"/\d+", route)], routes
    components = {m["component"] for m in _labels(prometheus, "todo_http_requests_total")}
    assert components == {"frontend", "reader", "writer"}
    outcomes = {m["outcome"] for m in _labels(prometheus, "todo_frontend_upstream_requests_total")}
    assert outcomes <= {"ok", "rejected", "error", "timeout"}


def test_latency_histograms_by_route(prometheus, loaded):
    series = _labels(prometheus, 'todo_http_request_duration_seconds_bucket{component="frontend", le="+Inf"}')
    assert {"/", "/lists/<id:list_id>", "/login"} <= {m["route"] for m in series}
    p99 = prometheus.query(
        "histogram_quantile(0.99, sum by (le) (rate(todo_http_request_duration_seconds_bucket"
        '{component="reader", route="/v1/todos"}[1m])))'
    )
    assert p99 and 0 < float(p99[0]["value"][1]) < 5


def test_pool_gauges(prometheus, loaded):
    for pool in ("todo-writer", "todo-reader", "todo-reader-fallback"):
        assert _value(prometheus, f'todo_db_pool_size{{pool="{pool}"}}') >= 4, pool
        for gauge in ("todo_db_pool_connections_in_use", "todo_db_pool_waiting"):
            assert prometheus.query(f'{gauge}{{pool="{pool}"}}'), (gauge, pool)
            assert 0 <= _value(prometheus, f'{gauge}{{pool="{pool}"}}') <= 8


def test_replication_metrics(prometheus, loaded):
    assert loaded["lag"]["seconds"] > 1 and loaded["lag"]["bytes"] > 0
    assert _value(prometheus, "max_over_time(todo_reader_replica_replay_lag_seconds[2m])") > 1
    assert _value(prometheus, "todo_reader_replica_in_recovery") == 1
    assert _value(prometheus, "todo_reader_replica_streaming") == 1
    slot = 'slot="todo_replica_0"'
    assert _value(prometheus, f"todo_db_replication_slot_active{{{slot}}}") == 1
    assert prometheus.query(f"todo_db_replication_slot_retained_wal_bytes{{{slot}}}")
    assert _value(prometheus, f"todo_db_replication_slot_safe_wal_bytes{{{slot}}}") > 0
    assert _value(prometheus, "todo_db_max_slot_wal_keep_size_bytes") == 1024**3  # devlocal's 1GB
    assert _value(prometheus, "min(todo_db_scrape_success)") == 1


def test_active_accounts(prometheus, loaded):
    day, week = (_value(prometheus, f'todo_accounts_active{{window="{w}"}}') for w in ("1d", "7d"))
    assert 1 <= day <= week


def test_rules_are_loaded_and_evaluate_cleanly(prometheus, loaded):
    groups = prometheus.api("rules")["groups"]
    loaded_rules = [rule for group in groups for rule in group["rules"]]
    expected = [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]
    assert {rule["name"] for rule in loaded_rules} == {rule["alert"] for rule in expected}
    assert all(rule["health"] == "ok" for rule in loaded_rules), [r for r in loaded_rules if r["health"] != "ok"]


# A comparison with a number: an alert's threshold (not a label matcher, which compares with a string).
_THRESHOLD = re.compile(r"\s*(==|!=|>=|<=|>|<)\s*-?\d+(\.\d+)?([eE][+-]?\d+)?")


def relaxed(expr: str) -> str:
    """The expression without its thresholds: what the alert compares, on any system."""
    return _THRESHOLD.sub("", expr)


def rule_expressions() -> list[tuple[str, str]]:
    return [
        (rule["alert"], rule["expr"])
        for group in yaml.safe_load(RULES.read_text())["groups"]
        for rule in group["rules"]
    ]


def dashboard_expressions() -> list[tuple[str, str]]:
    board = json.loads(DASHBOARD.read_text())
    return [(p["title"], t["expr"]) for p in board["panels"] if p["type"] != "row" for t in p["targets"]]


def as_query(expr: str) -> str:
    """A dashboard expression with Grafana's variables as Grafana would fill them."""
    return expr.replace("$namespace", ".*").replace("$__rate_interval", "1m")


def test_every_rule_expression_returns_data(prometheus, loaded):
    empty = []
    for name, expr in rule_expressions():
        prometheus.query(expr)  # the full expression is valid (it may rightly be empty)
        if not prometheus.query(relaxed(expr)):
            empty.append(name)
    assert not empty, f"no data for {empty}"


def test_every_dashboard_expression_returns_data(prometheus, loaded):
    empty = [(title, expr) for title, expr in dashboard_expressions() if not prometheus.query(as_query(expr))]
    assert not empty, f"no data for {empty}"


def test_every_metric_the_dashboard_and_rules_name_is_exported(prometheus, loaded):
    exported = set(prometheus.api("label/__name__/values"))
    named = set()
    for _, expr in [*dashboard_expressions(), *rule_expressions()]:
        named |= set(re.findall(r"\b(todo_[a-z0-9_]+|up)\b", expr))
    assert named - exported == set()


def test_picture_of_the_key_panels(prometheus, loaded):
    """Draws the README's picture from this run, when asked (TODO_OBSERVABILITY_PICTURE)."""
    target = os.environ.get("TODO_OBSERVABILITY_PICTURE")
    if not target:
        pytest.skip("set TODO_OBSERVABILITY_PICTURE=docs/observability.png to draw it")
    from .picture import draw

    draw(prometheus, Path(target))
    assert Path(target).stat().st_size > 10_000
