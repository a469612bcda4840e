"""CloudNativePG mode: the chart renders a Cluster (and with backups a ScheduledBackup,
with monitoring a PodMonitor) that validates against the operator's CRD schema, and
points the writer and migrations at <cluster>-rw, the reader at <cluster>-ro (or -rw
with one instance), with the credentials of the Secret the operator generates."""

from __future__ import annotations

import pytest
from chart_helpers import CHART, RELEASE, env_of, find, of_kind, pod_spec, render, render_values_file, service_container
from cnpg_schema import cnpg_schema
from test_chart_values import render_error

CLUSTER = f"{RELEASE}-db"


@pytest.fixture(scope="module")
def docs() -> list[dict]:
    return render_values_file(CHART / "ci" / "cloudnativepg-values.yaml")


def custom_resources(variants) -> list[tuple[str, dict]]:
    return [
        (variant, doc)
        for variant, rendered in variants.items()
        for doc in rendered
        if doc["apiVersion"] == "postgresql.cnpg.io/v1"
    ]


def test_every_rendered_cluster_and_scheduled_backup_validates_against_the_crd_schema(variants):
    found = custom_resources(variants)
    assert {doc["kind"] for _, doc in found} == {"Cluster", "ScheduledBackup"}
    errors = [f"{variant}: {error}" for variant, doc in found for error in cnpg_schema().validate_document(doc)]
    assert not errors, "\n".join(errors)


def test_the_schema_check_catches_what_the_operator_would_refuse():
    bad = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster"}
    bad["spec"] = {"instance": 2, "storage": {"size": 5}, "primaryUpdateStrategy": "sometimes"}
    errors = cnpg_schema().validate_document(bad)
    assert "Cluster.instance: unknown field of ClusterSpec" in errors
    assert "Cluster.instances: required" in errors
    assert any("storage.size: want string" in error for error in errors)
    assert any("primaryUpdateStrategy" in error for error in errors)


def test_cluster_has_what_the_values_ask(docs):
    spec = find(docs, "Cluster", CLUSTER)["spec"]
    assert spec["instances"] == 3
    assert spec["storage"] == {"size": "20Gi"}
    assert spec["bootstrap"] == {"initdb": {"database": "todo", "owner": "todo"}}
    assert spec["postgresql"]["parameters"] == {"max_slot_wal_keep_size": "4GB", "shared_buffers": "256MB"}
    assert spec["resources"]["limits"]["memory"] == "1Gi"
    assert spec["imageName"] == "ghcr.io/cloudnative-pg/postgresql:18.3"
    assert spec["affinity"]["enablePodAntiAffinity"] is True
    store = spec["backup"]["barmanObjectStore"]
    assert store["destinationPath"] == "s3://todo-backups/cluster"
    assert store["endpointURL"] == "https://minio.example.com"
    assert store["s3Credentials"]["accessKeyId"]["name"] == "todo-backup-s3"
    assert spec["backup"]["retentionPolicy"] == "14d"


def test_scheduled_backup_and_pod_monitor(docs):
    scheduled = find(docs, "ScheduledBackup", CLUSTER)["spec"]
    assert scheduled["cluster"] == {"name": CLUSTER}
    assert scheduled["schedule"] == "0 15 3 * * *"  # the operator's cron has seconds first
    assert scheduled["method"] == "barmanObjectStore"
    monitor = find(docs, "PodMonitor", CLUSTER)
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["spec"]["selector"]["matchLabels"] == {"cnpg.io/cluster": CLUSTER}
    assert monitor["spec"]["podMetricsEndpoints"] == [{"port": "metrics"}]


def test_no_bundled_database_and_no_pg_dump_cronjob(docs):
    assert not of_kind(docs, "StatefulSet") and not of_kind(docs, "CronJob")
    assert {secret["metadata"]["name"] for secret in of_kind(docs, "Secret")} == {f"{RELEASE}-frontend"}
    assert not [job for job in of_kind(docs, "Job") if job["metadata"]["name"].endswith("-slots")]


def mounted_secret(doc: dict) -> list[dict]:
    volumes = pod_spec(doc)["volumes"]
    return [source["secret"] for source in next(v for v in volumes if v["name"] == "secrets")["projected"]["sources"]]


def test_services_use_rw_and_ro_with_the_operator_generated_secret(docs):
    writer = env_of(service_container(docs, "writer"))
    reader = env_of(service_container(docs, "reader"))
    assert writer["DATABASE_HOST"]["value"] == f"{CLUSTER}-rw"
    assert reader["DATABASE_HOST"]["value"] == f"{CLUSTER}-ro"
    assert reader["FALLBACK_DATABASE_HOST"]["value"] == f"{CLUSTER}-rw"
    assert writer["DATABASE_SSLMODE"]["value"] == "require"
    app_secret = {"name": f"{CLUSTER}-app", "items": [{"key": "password", "path": "database-password"}]}
    token_key = {"name": f"{RELEASE}-frontend", "items": [{"key": "service-token-key", "path": "service-token-key"}]}
    assert mounted_secret(find(docs, "Deployment", f"{RELEASE}-writer")) == [app_secret, token_key]
    migrations = find(docs, "Job", f"{RELEASE}-migrations")
    assert env_of(pod_spec(migrations)["containers"][0])["DATABASE_HOST"]["value"] == f"{CLUSTER}-rw"
    assert mounted_secret(migrations) == [app_secret]


def test_one_instance_reads_from_rw():
    docs = render(
        "--set", "postgresql.enabled=false", "--set", "cloudnativepg.enabled=true", "--set", "cloudnativepg.instances=1"
    )
    assert env_of(service_container(docs, "reader"))["DATABASE_HOST"]["value"] == f"{CLUSTER}-rw"
    assert not of_kind(docs, "ScheduledBackup") and not of_kind(docs, "PodMonitor")
    assert "backup" not in find(docs, "Cluster", CLUSTER)["spec"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "cloudnativepg.enabled=true"], "postgresql.enabled and cloudnativepg.enabled are both true"),
        (
            [
                "--set",
                "postgresql.enabled=false",
                "--set",
                "cloudnativepg.enabled=true",
                "--set",
                "backup.enabled=true",
            ],
            "need backup.s3.url",
        ),
        (
            [
                "--set",
                "postgresql.enabled=false",
                "--set",
                "cloudnativepg.enabled=true",
                "--set",
                "cloudnativepg.maxSlotWalKeepSize=8GB",
            ],
            "cloudnativepg.maxSlotWalKeepSize (8GB) must be at most half of cloudnativepg.storage.size (8Gi)",
        ),
    ],
)
def test_cloudnativepg_values_that_cannot_work_fail(args, message):
    assert message in render_error(*args)
