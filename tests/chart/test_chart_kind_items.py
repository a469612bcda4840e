"""The CI workflow's upgrade check on kind, rehearsed against the local stack: what
tools/kind-items.py writes before the upgrade (a person's item through the API, items
from before accounts straight into the table), the migration Job's own command with
the MIGRATE_OWNER the chart renders for migrations.owner, the workflow's set-password,
and the check after. `kubectl exec` into the writer is stood in for by running the
command here with the writer's environment."""

from __future__ import annotations

import json
import secrets
import stat
import subprocess
import sys
import uuid
from pathlib import Path

from chart_helpers import RELEASE, REPO, env_of, find, pod_spec, render

SCRIPT = REPO / "tools" / "kind-items.py"

FAKE_KUBECTL = """#!/usr/bin/env bash
# kubectl --namespace NS exec -i deploy/NAME -- COMMAND...: runs COMMAND here.
while [ "$1" != "--" ]; do shift; done
shift
exec "$@"
"""


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_items_survive_the_upgrade_for_their_owners(stack, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(FAKE_KUBECTL)
    kubectl.chmod(kubectl.stat().st_mode | stat.S_IEXEC)
    writer_env = {
        "PATH": f"{bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        **stack.service_env("writer"),
    }
    env = {**writer_env, "RELEASE": RELEASE, "NAMESPACE": "todo"}
    state, password_file = tmp_path / "state.json", tmp_path / "owner-password"
    owner = f"shared-{uuid.uuid4().hex[:8]}"
    password_file.write_text(secrets.token_hex(16) + "\n")
    url = ["--url", stack.frontend_url, "--state", str(state)]
    after = [sys.executable, str(SCRIPT), "after", *url, "--owner", owner, "--owner-password-file", str(password_file)]
    try:
        result = run([sys.executable, str(SCRIPT), "before", *url], env)
        assert result.returncode == 0, result.stdout + result.stderr
        # Before the upgrade nobody owns them: the check fails.
        result = run(after, env)
        assert result.returncode != 0 and "POST /api/tokens answered 401" in result.stderr

        # The upgrade's migration Job: its command, with the owner the chart renders.
        job = pod_spec(find(render("--set", f"migrations.owner={owner}"), "Job", f"{RELEASE}-migrations"))
        container = job["containers"][0]
        # As the Job runs it: no service-token key.
        job_env = {k: v for k, v in writer_env.items() if k != "SERVICE_TOKEN_KEY"}
        job_env["MIGRATE_OWNER"] = env_of(container)["MIGRATE_OWNER"]["value"]
        result = run(container["command"], job_env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"to the account {owner!r}" in result.stdout

        # The workflow's set-password, as `kubectl exec` runs it in the writer.
        password = password_file.read_text().strip()
        result = run(["flask", "--app", "todo_writer", "set-password", owner, "--password", password], writer_env)
        assert result.returncode == 0, result.stdout + result.stderr

        result = run(after, env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "ids kept" in result.stdout
    finally:
        conn = stack.cluster.superuser_connection()
        with conn.cursor() as cur:
            person = json.loads(state.read_text())["person"]["username"] if state.exists() else ""
            cur.execute("DELETE FROM accounts WHERE username IN (%s, %s)", (owner, person))
        conn.close()
