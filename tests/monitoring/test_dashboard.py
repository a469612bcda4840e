"""The Grafana dashboard the chart ships: valid JSON, the output of its generator
(tools/make_dashboard.py), every panel on the Prometheus data source variable with at
least one expression. That each expression returns data from a real Prometheus, and
names only exported metrics, is checked in test_prometheus.py."""

from __future__ import annotations

import importlib.util
import json

from .tools import DASHBOARD, REPO


def _generator():
    spec = importlib.util.spec_from_file_location("make_dashboard", REPO / "tools" / "make_dashboard.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dashboard_is_the_generators_output():
    assert DASHBOARD.read_text() == _generator().render(), "run: python tools/make_dashboard.py"


def test_dashboard_is_well_formed():
    board = json.loads(DASHBOARD.read_text())
    assert board["uid"] and board["title"] and board["schemaVersion"] >= 36
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert variables["namespace"]["allValue"] == ".*"
    panels = [p for p in board["panels"] if p["type"] != "row"]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    rows = {p["title"] for p in board["panels"] if p["type"] == "row"}
    assert {"Traffic", "Errors", "Latency", "Replication", "Read-your-writes", "Usage"} <= rows
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["targets"] and all(t["expr"] and t["refId"] for t in panel["targets"])
        assert all('namespace=~"$namespace"' in t["expr"] for t in panel["targets"]), panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
