"""Fixtures of the chart tests; helpers live in chart_helpers.py."""

from __future__ import annotations

import pytest
from chart_helpers import CI_VALUES, render, render_values_file


def pytest_collection_modifyitems(config, items):
    # Cluster tests run only when pytest-helm-charts is given a cluster on the command line.
    if config.getoption("kubeconfig", default=None):
        return
    skip = pytest.mark.skip(reason="needs a live cluster: pass --kubeconfig (the CI workflow does, on kind)")
    for item in items:
        if "cluster" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def variants() -> dict[str, list[dict]]:
    """Rendered manifests of the default values and of every ci/*-values.yaml file."""
    rendered = {"chart defaults": render()}
    for path in CI_VALUES:
        rendered[path.name] = render_values_file(path)
    return rendered


@pytest.fixture(scope="session")
def default_docs(variants) -> list[dict]:
    return variants["chart defaults"]
