"""Monitoring in the chart: every service's metrics port is a named container port and
the only port of a metrics Service of its own (never on the public frontend Service),
open to networkPolicy.metricsFrom only; monitoring.enabled alone turns on the
ServiceMonitors, the PrometheusRule (the rules file promtool tests) and the Grafana
dashboard ConfigMap; the PostgreSQL exporters are optional sidecars."""

from __future__ import annotations

import json

import pytest
import yaml
from chart_helpers import CHART, RELEASE, SERVICES, containers, env_of, find, of_kind, render, service_container

MONITORING = CHART / "files" / "monitoring"


@pytest.fixture(scope="module")
def on() -> list[dict]:
    return render("--set", "monitoring.enabled=true")


def test_metrics_port_is_named_and_set_on_every_service(default_docs):
    for service in SERVICES:
        container = service_container(default_docs, service)
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        assert ports["metrics"] == 9102
        assert env_of(container)["METRICS_PORT"]["value"] == "9102"
    moved = render("--set", "monitoring.port=9300")
    container = service_container(moved, "reader")
    assert {p["name"]: p["containerPort"] for p in container["ports"]}["metrics"] == 9300
    assert env_of(container)["METRICS_PORT"]["value"] == "9300"


def test_metrics_services_carry_only_the_metrics_port(default_docs):
    for service in SERVICES:
        metrics = find(default_docs, "Service", f"{RELEASE}-{service}-metrics")
        assert metrics["spec"]["type"] == "ClusterIP"
        assert metrics["spec"]["ports"] == [
            {"name": "metrics", "port": 9102, "targetPort": "metrics", "protocol": "TCP"}
        ]
        api = find(default_docs, "Service", f"{RELEASE}-{service}")
        assert metrics["spec"]["selector"] == api["spec"]["selector"]
        assert [port["targetPort"] for port in api["spec"]["ports"]] == ["http"], "the API Service exposes no metrics"
    public = find(default_docs, "Service", f"{RELEASE}-frontend")
    assert public["spec"]["type"] == "LoadBalancer" and len(public["spec"]["ports"]) == 1


def test_only_metrics_from_peers_reach_the_metrics_port(default_docs):
    peers = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    for service in SERVICES:
        policy = find(default_docs, "NetworkPolicy", f"{RELEASE}-{service}-metrics")
        assert policy["spec"]["ingress"] == [{"from": peers, "ports": [{"port": "metrics", "protocol": "TCP"}]}]
        for rule in find(default_docs, "NetworkPolicy", f"{RELEASE}-{service}")["spec"]["ingress"]:
            assert rule.get("from") != peers and {p["port"] for p in rule["ports"]} == {"http"}
    custom = render("--set-json", 'networkPolicy.metricsFrom=[{"podSelector":{"matchLabels":{"app":"prom"}}}]')
    policy = find(custom, "NetworkPolicy", f"{RELEASE}-reader-metrics")
    assert policy["spec"]["ingress"][0]["from"] == [{"podSelector": {"matchLabels": {"app": "prom"}}}]


def test_monitoring_is_off_by_default(default_docs):
    kinds = {doc["kind"] for doc in default_docs}
    assert not kinds & {"ServiceMonitor", "PodMonitor", "PrometheusRule"}
    assert not [doc for doc in of_kind(default_docs, "ConfigMap") if doc["metadata"]["name"].endswith("-dashboard")]


def test_one_value_turns_on_scraping_alerts_and_the_dashboard(on):
    monitors = of_kind(on, "ServiceMonitor")
    assert sorted(m["metadata"]["name"] for m in monitors) == [f"{RELEASE}-{s}" for s in sorted(SERVICES)]
    for monitor in monitors:
        service = monitor["metadata"]["name"].removeprefix(f"{RELEASE}-")
        target = find(on, "Service", f"{RELEASE}-{service}-metrics")
        api = find(on, "Service", f"{RELEASE}-{service}")
        selector = monitor["spec"]["selector"]["matchLabels"]
        assert selector.items() <= target["metadata"]["labels"].items(), "selects its metrics Service"
        assert not selector.items() <= api["metadata"]["labels"].items(), "and not the API Service"
        (endpoint,) = monitor["spec"]["endpoints"]
        assert endpoint["port"] == "metrics" and endpoint["path"] == "/metrics"
        assert {r["targetLabel"] for r in endpoint["relabelings"]} == {"component", "ready"}
    (rule,) = of_kind(on, "PrometheusRule")
    assert rule["spec"] == yaml.safe_load((MONITORING / "alerts.yaml").read_text())
    dashboard = find(on, "ConfigMap", f"{RELEASE}-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["todo.json"]) == json.loads((MONITORING / "dashboard.json").read_text())


def test_each_part_can_be_turned_off_and_labelled():
    docs = render(
        "--set",
        "monitoring.enabled=true",
        "--set",
        "monitoring.prometheusRule.enabled=false",
        "--set",
        "monitoring.dashboard.enabled=false",
        "--set",
        "monitoring.serviceMonitor.labels.release=prometheus",
        "--set",
        "monitoring.dashboard.namespace=grafana",
    )
    assert not of_kind(docs, "PrometheusRule")
    assert not [d for d in of_kind(docs, "ConfigMap") if d["metadata"]["name"].endswith("-dashboard")]
    assert all(m["metadata"]["labels"]["release"] == "prometheus" for m in of_kind(docs, "ServiceMonitor"))
    moved = render("--set", "monitoring.enabled=true", "--set", "monitoring.dashboard.namespace=grafana")
    assert find(moved, "ConfigMap", f"{RELEASE}-dashboard")["metadata"]["namespace"] == "grafana"


def test_postgres_exporter_sidecars_and_their_pod_monitor():
    docs = render("--set", "monitoring.enabled=true", "--set", "monitoring.postgresExporter.enabled=true")
    for name in ("postgresql-primary", "postgresql-read"):
        statefulset = find(docs, "StatefulSet", f"{RELEASE}-{name}")
        (exporter,) = [c for c in containers(statefulset) if c["name"] == "postgres-exporter"]
        assert exporter["ports"] == [{"name": "pg-metrics", "containerPort": 9187, "protocol": "TCP"}]
        assert "host=/var/run/postgresql" in env_of(exporter)["DATA_SOURCE_NAME"]["value"]
        assert "PASS" not in json.dumps(exporter["env"]), "the socket needs no password"
        assert exporter["securityContext"]["readOnlyRootFilesystem"] is True
        assert {m["name"] for m in exporter["volumeMounts"]} == {"run"}
    (monitor,) = of_kind(docs, "PodMonitor")
    assert monitor["spec"]["podMetricsEndpoints"][0]["port"] == "pg-metrics"
    policy = find(docs, "NetworkPolicy", f"{RELEASE}-postgresql-metrics")
    assert policy["spec"]["ingress"][0]["ports"] == [{"port": "pg-metrics", "protocol": "TCP"}]
    plain = render("--set", "monitoring.enabled=true")
    for name in ("postgresql-primary", "postgresql-read"):
        names = [c["name"] for c in containers(find(plain, "StatefulSet", f"{RELEASE}-{name}"))]
        assert "postgres-exporter" not in names, "off by default: the database pods do not change"


def test_cloudnativepg_mode_gets_the_operators_pod_monitor():
    docs = render(
        "--values", str(CHART / "ci" / "cloudnativepg-values.yaml"), "--set", "cloudnativepg.podMonitor.enabled=false"
    )
    assert not of_kind(docs, "PodMonitor")
    docs = render(
        "--values",
        str(CHART / "ci" / "cloudnativepg-values.yaml"),
        "--set",
        "cloudnativepg.podMonitor.enabled=false",
        "--set",
        "monitoring.enabled=true",
    )
    assert [m["metadata"]["name"] for m in of_kind(docs, "PodMonitor")] == [f"{RELEASE}-db"]
