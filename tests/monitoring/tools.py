"""Finding Prometheus's binaries (Debian's `prometheus` package), installing them on
demand with the repository's own script; in CI a missing one fails, never skips."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MONITORING = REPO / "charts" / "todo" / "files" / "monitoring"
RULES = MONITORING / "alerts.yaml"
DASHBOARD = MONITORING / "dashboard.json"
IN_CI = os.environ.get("CI", "").lower() == "true"


@functools.cache
def binary(name: str) -> str:
    """``prometheus`` or ``promtool`` from PATH, after tools/install-prometheus.sh if needed."""
    found = shutil.which(name)
    if not found:
        subprocess.run(["bash", str(REPO / "tools" / "install-prometheus.sh")], check=False, capture_output=True)
        found = shutil.which(name)
    if not found:
        message = f"{name} is not installed: bash tools/install-prometheus.sh (Debian's prometheus package)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return found
