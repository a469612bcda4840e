"""Writes charts/todo/files/monitoring/dashboard.json, the Grafana dashboard the chart
ships (a ConfigMap for Grafana's dashboard sidecar). Edit the panels here and run
`python tools/make_dashboard.py`; tests/monitoring checks the file is this output, that
every expression returns data from a real Prometheus and names only exported metrics."""

from __future__ import annotations

import json
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "charts" / "todo" / "files" / "monitoring" / "dashboard.json"
NS = 'namespace=~"$namespace"'
RI = "$__rate_interval"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def q(expr: str, legend: str) -> dict:
    return {"expr": expr, "legendFormat": legend}


# (row title, [(panel title, unit, description, [queries])])
ROWS = [
    (
        "Traffic",
        [
            (
                "Requests per second by service",
                "reqps",
                "Every answer of each service, probes included.",
                [q(f"sum by (component) (rate(todo_http_requests_total{{{NS}}}[{RI}]))", "{{component}}")],
            ),
            (
                "Requests per second by route",
                "reqps",
                "Route templates (never paths); unmatched paths fold into one value.",
                [
                    q(
                        f'sum by (component, route) (rate(todo_http_requests_total{{{NS}, route!~"/healthz|/readyz"}}[{RI}]))',
                        "{{component}} {{route}}",
                    )
                ],
            ),
        ],
    ),
    (
        "Errors",
        [
            (
                "Server error ratio (5xx / all)",
                "percentunit",
                "Alert TodoHighErrorRatio fires above 5% for 5 minutes.",
                [
                    q(
                        f'(sum by (component) (rate(todo_http_requests_total{{{NS}, status=~"5.."}}[{RI}]))'
                        f" or sum by (component) (rate(todo_http_requests_total{{{NS}}}[{RI}])) * 0)"
                        f" / sum by (component) (rate(todo_http_requests_total{{{NS}}}[{RI}]))",
                        "{{component}}",
                    )
                ],
            ),
            (
                "Answers other than 2xx/3xx by route",
                "reqps",
                "4xx are mostly the callers' (wrong password, unknown page); 5xx are ours.",
                [
                    q(
                        f'sum by (component, route, status) (rate(todo_http_requests_total{{{NS}, status!~"2..|3.."}}[{RI}]))',
                        "{{component}} {{route}} {{status}}",
                    )
                ],
            ),
            (
                "Frontend calls to reader and writer by outcome",
                "reqps",
                "ok, rejected (4xx), error (5xx or unreachable), timeout; and reads retried on a fresh connection.",
                [
                    q(
                        f"sum by (upstream, outcome) (rate(todo_frontend_upstream_requests_total{{{NS}}}[{RI}]))",
                        "{{upstream}} {{outcome}}",
                    ),
                    q(
                        f"sum by (upstream) (rate(todo_frontend_upstream_retries_total{{{NS}}}[{RI}]))",
                        "{{upstream}} retries",
                    ),
                ],
            ),
        ],
    ),
    (
        "Latency",
        [
            (
                "Latency by service (p50, p99)",
                "s",
                "Alert TodoHighLatencyP99 fires above 1 s for 10 minutes.",
                [
                    q(
                        f"histogram_quantile(0.5, sum by (component, le) (rate(todo_http_request_duration_seconds_bucket{{{NS}}}[{RI}])))",
                        "{{component}} p50",
                    ),
                    q(
                        f"histogram_quantile(0.99, sum by (component, le) (rate(todo_http_request_duration_seconds_bucket{{{NS}}}[{RI}])))",
                        "{{component}} p99",
                    ),
                ],
            ),
            (
                "p99 latency by route",
                "s",
                "",
                [
                    q(
                        "histogram_quantile(0.99, sum by (component, route, le)"
                        f' (rate(todo_http_request_duration_seconds_bucket{{{NS}, route!~"/healthz|/readyz"}}[{RI}])))',
                        "{{component}} {{route}}",
                    )
                ],
            ),
            (
                "Frontend calls to reader and writer (p99)",
                "s",
                "",
                [
                    q(
                        "histogram_quantile(0.99, sum by (upstream, le)"
                        f" (rate(todo_frontend_upstream_request_duration_seconds_bucket{{{NS}}}[{RI}])))",
                        "{{upstream}}",
                    )
                ],
            ),
        ],
    ),
    (
        "Database",
        [
            (
                "Connection pools",
                "short",
                "Waiting above 0 means requests queue for a connection.",
                [
                    q(f"sum by (pool) (todo_db_pool_connections_in_use{{{NS}}})", "{{pool}} in use"),
                    q(f"sum by (pool) (todo_db_pool_waiting{{{NS}}})", "{{pool}} waiting"),
                    q(f"sum by (pool) (todo_db_pool_size{{{NS}}})", "{{pool}} size"),
                ],
            ),
            (
                "Database work and checkout time (p99)",
                "s",
                "Time a unit of work holds its connection (on the reader, with the read-your-writes wait).",
                [
                    q(
                        f"histogram_quantile(0.99, sum by (pool, le) (rate(todo_db_query_duration_seconds_bucket{{{NS}}}[{RI}])))",
                        "{{pool}} work",
                    ),
                    q(
                        f"histogram_quantile(0.99, sum by (pool, le) (rate(todo_db_pool_checkout_seconds_bucket{{{NS}}}[{RI}])))",
                        "{{pool}} checkout",
                    ),
                ],
            ),
        ],
    ),
    (
        "Replication",
        [
            (
                "Replica replay lag (seconds)",
                "s",
                "Alert TodoReplicaLagHigh fires above 30 s (or 16 MiB) for 5 minutes.",
                [q(f"max by (job) (todo_reader_replica_replay_lag_seconds{{{NS}}})", "lag")],
            ),
            (
                "Replica lag and slot WAL (bytes)",
                "bytes",
                "Received but not replayed; WAL each slot holds on the primary, and its bound.",
                [
                    q(f"max by (job) (todo_reader_replica_replay_lag_bytes{{{NS}}})", "replay lag"),
                    q(f"max by (slot) (todo_db_replication_slot_retained_wal_bytes{{{NS}}})", "slot {{slot}} retained"),
                    q(f"max by (job) (todo_db_max_slot_wal_keep_size_bytes{{{NS}}})", "max_slot_wal_keep_size"),
                ],
            ),
            (
                "Streaming",
                "short",
                "1 while the replica streams and each slot has its standby.",
                [
                    q(f"min by (job) (todo_reader_replica_streaming{{{NS}}})", "replica streaming"),
                    q(f"min by (slot) (todo_db_replication_slot_active{{{NS}}})", "slot {{slot}} active"),
                ],
            ),
        ],
    ),
    (
        "Read-your-writes",
        [
            (
                "Reads after a write",
                "reqps",
                "caught_up: no wait; waited; timed_out, then a fallback to the primary or a 503.",
                [
                    q(f"sum by (outcome) (rate(todo_reader_lsn_waits_total{{{NS}}}[{RI}]))", "{{outcome}}"),
                    q(f"sum(rate(todo_reader_fallback_reads_total{{{NS}}}[{RI}]))", "fallback to primary"),
                    q(f"sum(rate(todo_reader_stale_refusals_total{{{NS}}}[{RI}]))", "refused (503)"),
                ],
            ),
            (
                "List pages: kept items or read",
                "reqps",
                "kept: the reader worker's kept items still held (the list unchanged); read: read again.",
                [q(f"sum by (items) (rate(todo_reader_list_pages_total{{{NS}}}[{RI}]))", "{{items}}")],
            ),
            (
                "Wait for the replica (p99)",
                "s",
                "Bounded by LSN_WAIT_TIMEOUT_MS.",
                [
                    q(
                        f"histogram_quantile(0.99, sum by (le) (rate(todo_reader_lsn_wait_seconds_bucket{{{NS}}}[{RI}])))",
                        "p99",
                    )
                ],
            ),
        ],
    ),
    (
        "Usage",
        [
            (
                "Items per hour",
                "short",
                "",
                [
                    q(f"sum(rate(todo_items_created_total{{{NS}}}[{RI}])) * 3600", "created"),
                    q(f"sum(rate(todo_items_completed_total{{{NS}}}[{RI}])) * 3600", "completed"),
                    q(f"sum(rate(todo_items_deleted_total{{{NS}}}[{RI}])) * 3600", "deleted"),
                ],
            ),
            (
                "Sign-ups and log-ins per hour",
                "short",
                "Alert TodoLoginFailuresSpiking fires above one failure every 2 s for 5 minutes.",
                [
                    q(f"sum(rate(todo_signups_total{{{NS}}}[{RI}])) * 3600", "sign-ups"),
                    q(f"sum by (outcome) (rate(todo_logins_total{{{NS}}}[{RI}])) * 3600", "log-ins {{outcome}}"),
                ],
            ),
            (
                "Active accounts",
                "short",
                "Signed up, logged in or changed something within the window (every writer pod reports the same count).",
                [q(f"max by (window) (todo_accounts_active{{{NS}}})", "{{window}}")],
            ),
        ],
    ),
]


def dashboard() -> dict:
    panels, y, panel_id = [], 0, 1
    for title, row in ROWS:
        panels.append(
            {
                "type": "row",
                "title": title,
                "id": panel_id,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
            }
        )
        panel_id += 1
        y += 1
        width = 24 // len(row)
        for index, (panel_title, unit, description, queries) in enumerate(row):
            panels.append(
                {
                    "type": "timeseries",
                    "id": panel_id,
                    "title": panel_title,
                    "description": description,
                    "datasource": DATASOURCE,
                    "gridPos": {"h": 8, "w": width, "x": index * width, "y": y},
                    "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                    "options": {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}},
                    "targets": [
                        {**query, "refId": chr(ord("A") + n), "datasource": DATASOURCE}
                        for n, query in enumerate(queries)
                    ],
                }
            )
            panel_id += 1
        y += 8
    return {
        "uid": "todo-overview",
        "title": "Todo",
        "description": "Traffic, errors, latency, database, replication, read-your-writes and usage of the todo services.",
        "tags": ["todo"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {"type": "datasource", "name": "datasource", "label": "Data source", "query": "prometheus"},
                {
                    "type": "query",
                    "name": "namespace",
                    "label": "Namespace",
                    "datasource": DATASOURCE,
                    "query": {"query": "label_values(todo_http_requests_total, namespace)", "refId": "namespace"},
                    "definition": "label_values(todo_http_requests_total, namespace)",
                    "includeAll": True,
                    "allValue": ".*",
                    "multi": True,
                    "refresh": 2,
                    "current": {"text": "All", "value": "$__all"},
                },
            ]
        },
        "annotations": {"list": []},
        "panels": panels,
    }


def render() -> str:
    return json.dumps(dashboard(), indent=2) + "\n"


if __name__ == "__main__":
    TARGET.write_text(render())
    print(f"wrote {TARGET}")
