"""Shared by the chart tests: paths, the real helm binary, rendering with a cache,
and finding the test tools (installed from tests/chart/requirements.txt)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "todo"
CI_VALUES = sorted((CHART / "ci").glob("*-values.yaml"))
RELEASE = "todo"
NAMESPACE = "todo"
SERVICES = ("frontend", "reader", "writer")
IN_CI = os.environ.get("CI", "").lower() == "true"


def missing_tool(name: str, hint: str) -> None:
    """In CI a missing tool is a failure, never a skip; locally it is a skip with the fix."""
    message = f"{name} is not installed: {hint}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def tool(name: str, hint: str = "pip install -r tests/chart/requirements.txt") -> str:
    """A command from this virtualenv's bin directory or from PATH."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        missing_tool(name, hint)
    return found


@functools.cache
def helm() -> str:
    """The real helm binary: from PATH, else tools/bin/helm (installed on demand)."""
    found = shutil.which("helm") or (REPO / "tools" / "bin" / "helm")
    if not Path(found).exists():
        subprocess.run(["bash", str(REPO / "tools" / "install-helm.sh")], check=True, capture_output=True)
    if not Path(found).exists():
        pytest.fail("helm is missing and tools/install-helm.sh did not install it")
    return str(found)


def run_helm(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([helm(), *args], capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stderr}")
    return result


@functools.cache
def render_text(*args: str) -> str:
    """`helm template` output for the chart with extra arguments (cached per argument list)."""
    return run_helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE, *args).stdout


def render(*args: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(render_text(*args)) if doc]


def render_values_file(path: Path) -> list[dict]:
    return render("--values", str(path))


def find(docs: list[dict], kind: str, name: str) -> dict:
    for doc in docs:
        if doc["kind"] == kind and doc["metadata"]["name"] == name:
            return doc
    raise AssertionError(f"no {kind} {name} among {[(d['kind'], d['metadata']['name']) for d in docs]}")


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [doc for doc in docs if doc["kind"] == kind]


def pod_spec(doc: dict) -> dict:
    if doc["kind"] == "Pod":
        return doc["spec"]
    return doc["spec"]["template"]["spec"]


def workloads(docs: list[dict]) -> list[dict]:
    return [doc for doc in docs if doc["kind"] in {"Deployment", "StatefulSet", "Job", "Pod"}]


def containers(doc: dict) -> list[dict]:
    spec = pod_spec(doc)
    return spec.get("initContainers", []) + spec["containers"]


def env_of(container: dict) -> dict[str, dict]:
    """Name -> the EnvVar entry (with "value" or "valueFrom")."""
    return {entry["name"]: entry for entry in container.get("env", [])}


def service_container(docs: list[dict], service: str) -> dict:
    deployment = find(docs, "Deployment", f"{RELEASE}-{service}")
    return deployment["spec"]["template"]["spec"]["containers"][0]
