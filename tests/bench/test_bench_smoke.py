"""`python -m bench --smoke` runs the whole harness once, briefly: the stack, both
references, the bench person's sign-up, wrk, pgbench, the read-your-writes client,
the report and the plot. It proves the benchmark works and measures what a logged-in
person gets (every answer had the status the scenario expects, not a redirect to log
in); it asserts nothing about speed."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NEEDED_MODULES = ("matplotlib", "flask_sqlalchemy")


def _tools_missing() -> list[str]:
    missing = [] if shutil.which("wrk") else ["wrk"]
    return missing + [name for name in NEEDED_MODULES if importlib.util.find_spec(name) is None]


@pytest.fixture(scope="module")
def bench_tools():
    """wrk and the plot/ORM packages; installed when missing. In CI a failed install fails."""
    if _tools_missing():
        env = {**os.environ, "VENV": str(Path(sys.executable).parent.parent)}
        result = subprocess.run(
            ["bash", str(REPO / "tools" / "install-bench-tools.sh")], env=env, capture_output=True, text=True
        )
        importlib.invalidate_caches()
        missing = _tools_missing()
        if missing:
            message = f"benchmark tools missing after install-bench-tools.sh: {missing}\n{result.stderr[-2000:]}"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)


@pytest.mark.timeout(150)
def test_smoke_run_writes_a_complete_result(bench_tools, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=140,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data = json.loads((tmp_path / "result.json").read_text())
    assert (tmp_path / "plot.png").stat().st_size > 10_000

    scenarios = {record["scenario"] for record in data["records"]}
    for name in (
        "page250",
        "lean_page250",
        "orm_page250",
        "page10",
        "reader_api",
        "pgbench_read",
        "writer_api",
        "pgbench_insert",
        "add_post",
        "add_flow",
        "page250_mid",
        "ryw",
    ):
        assert name in scenarios, name
    for record in data["records"]:
        assert record["requests"] > 0, record["scenario"]
        assert record["errors"] == 0, record  # includes answers with an unexpected status
    # Stack and references showed the bench person the same page of their own list, not
    # the neighbour's rows loaded before it.
    first_page = data["same_page"]["small"]["/"]
    assert first_page["items"] == 250 and first_page["items_left"] == 990, data["same_page"]
    assert data["same_page"]["small"]["?status=completed"]["items"] == 10, data["same_page"]
    assert data["same_page"]["big"]["/"]["items_left"] == 19_800, data["same_page"]
    # Every target got a figure (pass or fail is for `make bench` to report, not the tests).
    assert all(row["values"] is not None for row in data["targets"]), data["targets"]
    assert {"frontend", "reader", "writer"} <= set(data["rss_mb_at_rest"])
    assert "list page 250 / lean reference" in result.stdout
