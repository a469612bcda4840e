"""Against a live cluster with the chart installed (the CI workflow's kind cluster, in
both database modes): run with `pytest -m cluster --kubeconfig ~/.kube/config`, with
DATABASE_MODE=bundled (default) or cloudnativepg; skipped without --kubeconfig."""

from __future__ import annotations

import os
import time

import pytest

pytestmark = pytest.mark.cluster

NAMESPACE = os.environ.get("NAMESPACE", "todo")
RELEASE = os.environ.get("RELEASE", "todo")
MODE = os.environ.get("DATABASE_MODE", "bundled")
CNPG = MODE == "cloudnativepg"


@pytest.fixture(scope="module")
def kube(kube_cluster):
    return kube_cluster.kube_client


def test_services_and_databases_are_ready(kube):
    from pytest_helm_charts.k8s.deployment import wait_for_deployments_to_run
    from pytest_helm_charts.k8s.stateful_set import wait_for_stateful_sets_to_run

    if CNPG:
        import pykube

        cluster_kind = pykube.object_factory(kube, "postgresql.cnpg.io/v1", "Cluster")
        deadline = time.monotonic() + 600
        while True:
            cluster = cluster_kind.objects(kube).filter(namespace=NAMESPACE).get(name=f"{RELEASE}-db")
            conditions = {c["type"]: c["status"] for c in cluster.obj.get("status", {}).get("conditions", [])}
            if conditions.get("Ready") == "True":
                break
            assert time.monotonic() < deadline, f"the Cluster is not ready: {cluster.obj.get('status')}"
            time.sleep(5)
    else:
        wait_for_stateful_sets_to_run(
            kube, [f"{RELEASE}-postgresql-primary", f"{RELEASE}-postgresql-read"], NAMESPACE, timeout_sec=300
        )
    wait_for_deployments_to_run(kube, [f"{RELEASE}-{s}" for s in ("frontend", "reader", "writer")], NAMESPACE, 300)


def test_database_services_have_endpoints(kube):
    import pykube

    database = (
        [f"{RELEASE}-db-rw", f"{RELEASE}-db-ro"] if CNPG else [f"{RELEASE}-postgresql-rw", f"{RELEASE}-postgresql-ro"]
    )
    # A replica's endpoint is ready only while it streams from the primary (bundled: replica-check.sh).
    for name in (*database, f"{RELEASE}-reader", f"{RELEASE}-writer"):
        endpoints = pykube.Endpoint.objects(kube).filter(namespace=NAMESPACE).get(name=name)
        addresses = [a for subset in endpoints.obj.get("subsets", []) for a in subset.get("addresses", [])]
        assert addresses, f"{name} has no ready endpoint"


def test_database_secrets_exist_with_every_key(kube):
    import pykube

    if CNPG:
        secret = pykube.Secret.objects(kube).filter(namespace=NAMESPACE).get(name=f"{RELEASE}-db-app")
        assert {"username", "password"} <= set(secret.obj["data"])
    else:
        secret = pykube.Secret.objects(kube).filter(namespace=NAMESPACE).get(name=f"{RELEASE}-postgresql")
        assert set(secret.obj["data"]) == {"postgres-password", "password", "replication-password"}
        assert secret.annotations.get("helm.sh/resource-policy") == "keep"


def test_frontend_secret_holds_both_keys(kube):
    # The session key and the service-token key that all three services mount.
    import pykube

    secret = pykube.Secret.objects(kube).filter(namespace=NAMESPACE).get(name=f"{RELEASE}-frontend")
    assert set(secret.obj["data"]) == {"secret-key", "service-token-key"}
    assert secret.annotations.get("helm.sh/resource-policy") == "keep"


def test_hooks_ran_and_left_nothing(kube):
    import pykube

    # Hook Jobs are deleted when they succeed; a leftover one failed or still runs.
    for component in ("migrations", "postgresql-slots"):
        jobs = pykube.Job.objects(kube).filter(namespace=NAMESPACE, selector={"app.kubernetes.io/component": component})
        assert not list(jobs), f"the {component} Job is still there: it failed or is still running"
    leftovers = pykube.ConfigMap.objects(kube).filter(
        namespace=NAMESPACE, selector={"app.kubernetes.io/instance": RELEASE}
    )
    assert all("helm.sh/hook" not in cm.annotations for cm in leftovers)
