"""Every rendered manifest validates against the Kubernetes JSON schemas, offline
(kubernetes-validate's bundled schemas), for the oldest and the newest supported versions.
Custom resources (CloudNativePG, Prometheus Operator) are checked in test_chart_cloudnativepg.py."""

from __future__ import annotations

import pytest

kubernetes_validate = pytest.importorskip("kubernetes_validate")

# Chart.yaml says kubeVersion >=1.25; check both ends and one in between.
KUBERNETES_VERSIONS = ("1.25.0", "1.31.0", "1.37.0")
CUSTOM_GROUPS = ("postgresql.cnpg.io/", "monitoring.coreos.com/")


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_manifests_validate_strictly(variants, version):
    errors = []
    for variant, docs in variants.items():
        for doc in docs:
            if doc["apiVersion"].startswith(CUSTOM_GROUPS):
                continue
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                errors.append(f"{variant}: {doc['kind']} {doc['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert not errors, "\n".join(errors)


def test_every_kind_is_known_to_the_schemas(variants):
    kinds = {doc["kind"] for docs in variants.values() for doc in docs}
    assert {"Deployment", "StatefulSet", "Service", "Secret", "NetworkPolicy", "Job", "Ingress"} <= kinds
    assert {"HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap", "ServiceAccount", "Pod"} <= kinds
