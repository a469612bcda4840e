"""Against a live cluster with the chart installed (the CI workflow's kind cluster):
run with `pytest -m cluster --kubeconfig ~/.kube/config`; skipped otherwise."""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.cluster

NAMESPACE = os.environ.get("NAMESPACE", "todo")
RELEASE = os.environ.get("RELEASE", "todo")


@pytest.fixture(scope="module")
def kube(kube_cluster):
    return kube_cluster.kube_client


def test_services_and_databases_are_ready(kube):
    from pytest_helm_charts.k8s.deployment import wait_for_deployments_to_run
    from pytest_helm_charts.k8s.stateful_set import wait_for_stateful_sets_to_run

    wait_for_stateful_sets_to_run(
        kube, [f"{RELEASE}-postgresql-primary", f"{RELEASE}-postgresql-read"], NAMESPACE, timeout_sec=300
    )
    wait_for_deployments_to_run(kube, [f"{RELEASE}-{s}" for s in ("frontend", "reader", "writer")], NAMESPACE, 300)


def test_database_services_have_endpoints(kube):
    import pykube

    for name in (f"{RELEASE}-postgresql-rw", f"{RELEASE}-postgresql-ro", f"{RELEASE}-reader", f"{RELEASE}-writer"):
        endpoints = pykube.Endpoint.objects(kube).filter(namespace=NAMESPACE).get(name=name)
        addresses = [a for subset in endpoints.obj.get("subsets", []) for a in subset.get("addresses", [])]
        assert addresses, f"{name} has no ready endpoint"


def test_generated_secrets_exist_with_every_key(kube):
    import pykube

    secret = pykube.Secret.objects(kube).filter(namespace=NAMESPACE).get(name=f"{RELEASE}-postgresql")
    assert set(secret.obj["data"]) == {"postgres-password", "password", "replication-password"}
    assert secret.annotations.get("helm.sh/resource-policy") == "keep"


def test_migrations_ran(kube):
    import pykube

    # The hook Job is deleted when it succeeds; a leftover one means it failed.
    jobs = pykube.Job.objects(kube).filter(namespace=NAMESPACE, selector={"app.kubernetes.io/component": "migrations"})
    assert not list(jobs), "the migration Job is still there: it failed or is still running"
