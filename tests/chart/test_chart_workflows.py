"""The GitHub workflows: actionlint and yamllint pass, CI does what the issue asks (ruff
and tests via make test, image builds with cache, kind + helm install + cluster tests +
upgrade + helm test) and the release pushes images and the OCI chart from a tag."""

from __future__ import annotations

import subprocess

import yaml
from chart_helpers import CHART, REPO, tool

WORKFLOWS = REPO / ".github" / "workflows"


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def steps_text(workflow: dict, job: str) -> str:
    return "\n".join(str(step.get("run", "")) + str(step.get("uses", "")) for step in workflow["jobs"][job]["steps"])


def test_actionlint():
    files = sorted(map(str, WORKFLOWS.glob("*.yml")))
    assert files
    result = subprocess.run([tool("actionlint"), *files], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_tests_builds_images_and_exercises_kind():
    ci = load("ci.yml")
    triggers = ci.get("on") or ci.get(True)
    assert "pull_request" in triggers and triggers["push"]["branches"] == ["main"]
    assert "make test" in steps_text(ci, "test")
    images = ci["jobs"]["images"]
    assert images["strategy"]["matrix"]["service"] == ["frontend", "reader", "writer"]
    assert "type=gha" in str(images["steps"])
    kind = steps_text(ci, "kind")
    for needed in (
        "helm/kind-action",
        "kind load docker-image",
        "helm install",
        "rollout status",
        "-m cluster --kubeconfig",
        "helm upgrade",
        "survives the upgrade",
        "helm test",
    ):
        assert needed in kind, needed
    assert "ci/kind-values.yaml" in kind and (CHART / "ci" / "kind-values.yaml").exists()


def test_release_pushes_images_and_chart_from_the_tag():
    release = load("release.yml")
    triggers = release.get("on") or release.get(True)
    assert triggers["push"]["tags"] == ["v*.*.*"]
    assert release["permissions"]["packages"] == "write"
    assert "ghcr.io" in str(release["jobs"]["images"]["steps"])
    chart = steps_text(release, "chart")
    assert "helm package" in chart and '--app-version "$version"' in chart and "oci://ghcr.io/" in chart
    # The sed that points the chart at this repository's images must match values.yaml.
    assert "\n  namespace: todo-app\n" in (CHART / "values.yaml").read_text()
