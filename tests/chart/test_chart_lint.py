"""helm lint --strict for every values variant; yamllint and shellcheck over what the chart ships."""

from __future__ import annotations

import subprocess

import pytest
from chart_helpers import CHART, CI_VALUES, REPO, run_helm, tool

YAMLLINT_CONFIG = (
    "{extends: default, rules: {line-length: {max: 140}, document-start: disable, truthy: {check-keys: false}}}"
)


def test_ci_values_cover_the_chart_testing_cases():
    names = {path.name for path in CI_VALUES}
    assert {"default-values.yaml", "external-database-values.yaml", "ingress-hpa-values.yaml"} <= names
    assert "read-replicas-values.yaml" in names


@pytest.mark.parametrize("values", [None, *CI_VALUES], ids=lambda v: v.name if v else "defaults")
def test_helm_lint_strict(values):
    args = ["lint", "--strict", str(CHART)] + (["--values", str(values)] if values else [])
    result = run_helm(*args, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_yaml_files_pass_yamllint():
    files = [CHART / "values.yaml", CHART / "Chart.yaml", *CI_VALUES, *(REPO / ".github" / "workflows").glob("*.yml")]
    result = subprocess.run(
        [tool("yamllint"), "--strict", "-d", YAMLLINT_CONFIG, *map(str, files)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_shell_scripts_pass_shellcheck():
    scripts = [*(CHART / "files").glob("*.sh"), *(REPO / "tools").glob("*.sh")]
    result = subprocess.run(
        [tool("shellcheck"), "--external-sources", "--source-path=SCRIPTDIR", "--severity=style", *map(str, scripts)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
