"""The GitHub workflows: actionlint and yamllint pass, and each workflow does its job,
read from its structure (jobs, their order, the commands their steps run) rather than
from its wording: CI runs `make test` on the images' Python, builds every service from
the one Dockerfile, and installs, tests and upgrades the chart on kind; the release
pushes the images and the OCI chart from a tag."""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest
import yaml
from chart_helpers import CHART, REPO, SERVICES, tool

WORKFLOWS = REPO / ".github" / "workflows"


def load(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def triggers(workflow: dict) -> dict:
    return workflow.get("on") or workflow.get(True)  # YAML 1.1 reads a bare `on` as true


def commands(step: dict) -> list[list[str]]:
    """The simple commands a step's `run` script runs, as argument lists: pipes, `&&`,
    `||`, `;` and `&` (outside quotes) end a command; `VAR=value` prefixes are dropped."""
    script = re.sub(r"\\\n\s*", " ", step.get("run", ""))
    found = []
    for line in script.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        words: list[str] = []
        for token in [*lexer, ";"]:
            if set(token) <= set(";&|()<>"):
                while words and re.fullmatch(r"[A-Za-z_]+=.*", words[0]):
                    words = words[1:]
                if words:
                    found.append(words)
                words = []
            else:
                words.append(token)
    return found


def job_commands(workflow: dict, job: str) -> list[list[str]]:
    return [command for step in workflow["jobs"][job]["steps"] for command in commands(step)]


def index_of(found: list[list[str]], *prefix: str) -> int:
    for number, command in enumerate(found):
        if command[: len(prefix)] == list(prefix):
            return number
    raise AssertionError(f"no step runs `{' '.join(prefix)}`")


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def uses(workflow: dict, job: str, action: str) -> list[dict]:
    return [step for step in workflow["jobs"][job]["steps"] if step.get("uses", "").split("@")[0] == action]


def dockerfile_python() -> str:
    match = re.search(r"^ARG PYTHON_VERSION=(\S+)$", (REPO / "services" / "Dockerfile").read_text(), re.MULTILINE)
    assert match, "services/Dockerfile declares no default PYTHON_VERSION"
    return match.group(1)


def test_actionlint():
    files = sorted(map(str, WORKFLOWS.glob("*.yml")))
    assert files
    result = subprocess.run([tool("actionlint"), *files], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_on_pull_requests_and_main():
    on = triggers(load("ci.yml"))
    assert "pull_request" in on and on["push"]["branches"] == ["main"]


def test_ci_tests_with_make_test_on_the_python_the_images_ship():
    ci = load("ci.yml")
    assert ci["env"]["PYTHON_VERSION"] == dockerfile_python()
    for job in ("test", "kind"):
        (setup,) = uses(ci, job, "actions/setup-python")
        assert setup["with"]["python-version"] == "${{ env.PYTHON_VERSION }}", job
    test = next(step for step in ci["jobs"]["test"]["steps"] if ["make", "test"] in commands(step))
    assert test["env"]["CI"] == "true"  # no skip for a missing tool


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_every_service_image_is_built_from_the_one_dockerfile(name):
    workflow = load(name)
    assert workflow["env"]["PYTHON_VERSION"] == dockerfile_python()
    images = workflow["jobs"]["images"]
    assert sorted(images["strategy"]["matrix"]["service"]) == sorted(SERVICES)
    (build,) = uses(workflow, "images", "docker/build-push-action")
    assert build["with"]["file"] == "services/Dockerfile"
    args = dict(line.strip().split("=", 1) for line in build["with"]["build-args"].splitlines() if line.strip())
    assert args == {"SERVICE": "${{ matrix.service }}", "PYTHON_VERSION": "${{ env.PYTHON_VERSION }}"}
    assert build["with"]["cache-from"].startswith("type=gha")


def release_commands(found: list[list[str]], verb: str) -> list[int]:
    """Indexes of `helm <verb> "$RELEASE" ...` (the chart's release, not the operator's)."""
    return [n for n, c in enumerate(found) if c[:3] == ["helm", verb, "$RELEASE"]]


def step_condition(workflow: dict, job: str, *prefix: str) -> set[str]:
    """The `if:` of every step that runs a command starting with `prefix`."""
    return {
        step.get("if", "always")
        for step in workflow["jobs"][job]["steps"]
        for command in commands(step)
        if command[: len(prefix)] == list(prefix)
    }


def test_ci_installs_tests_and_upgrades_the_chart_on_kind_in_both_database_modes():
    ci = load("ci.yml")
    kind = ci["jobs"]["kind"]
    assert "images" in kind["needs"]
    assert kind["strategy"]["matrix"]["database"] == ["bundled", "cloudnativepg"]
    assert kind["env"]["DATABASE_MODE"] == "${{ matrix.database }}"  # the cluster tests read it
    assert uses(ci, "kind", "helm/kind-action")
    found = job_commands(ci, "kind")
    load_images = index_of(found, "kind", "load", "docker-image")
    installs, upgrades = release_commands(found, "install"), release_commands(found, "upgrade")
    cluster_tests = next(n for n, c in enumerate(found) if c[0].endswith("pytest") and "--kubeconfig" in c)
    helm_test = index_of(found, "helm", "test")
    assert load_images < min(installs) and max(installs) < cluster_tests < min(upgrades) <= max(upgrades) < helm_test
    assert option(found[cluster_tests], "-m") == "cluster"
    for number in installs + upgrades:
        command = found[number]
        assert "--wait" in command
        values = [command[n + 1] for n, word in enumerate(command) if word == "--values"]
        assert values and all(v.startswith("charts/todo/ci/") and (REPO / v).is_file() for v in values)
    # One install and one upgrade per mode; the CloudNativePG one layers its values on kind's.
    modes = {"matrix.database == 'bundled'", "matrix.database == 'cloudnativepg'"}
    assert step_condition(ci, "kind", "helm", "install", "$RELEASE") == modes
    assert step_condition(ci, "kind", "helm", "upgrade", "$RELEASE") == modes
    assert step_condition(ci, "kind", "helm", "upgrade", "--install", "cnpg") == {"matrix.database == 'cloudnativepg'"}
    cnpg_install = found[next(n for n in installs if "charts/todo/ci/kind-cloudnativepg-values.yaml" in found[n])]
    assert cnpg_install.index("charts/todo/ci/kind-values.yaml") < cnpg_install.index(
        "charts/todo/ci/kind-cloudnativepg-values.yaml"
    )


def test_ci_upgrade_is_a_new_chart_version_that_keeps_the_primary_and_the_passwords():
    ci = load("ci.yml")
    found = job_commands(ci, "kind")
    package = found[index_of(found, "helm", "package")]
    upgrades = release_commands(found, "upgrade")
    assert package[2] == "charts/todo" and "--version" in package
    assert index_of(found, "helm", "package") < min(upgrades)
    for number in upgrades:
        command = found[number]
        assert command[3].startswith(option(package, "--destination"))  # the packaged next version
        assert any(
            word.startswith(("postgresql.readReplicas.replicaCount=", "cloudnativepg.instances=")) for word in command
        )
    # The primary's identity, restarts and the passwords are recorded before and compared after.
    states = [n for n, c in enumerate(found) if c[:2] == ["bash", "tools/kind-state.sh"]]
    assert states and min(states) < min(upgrades) < max(states)
    assert (REPO / "tools" / "kind-state.sh").is_file()
    assert any(c[0] == "diff" and "/tmp/state-before" in c for c in found[min(upgrades) :])


def test_ci_upgrade_gives_the_items_from_before_accounts_to_their_owner():
    # Items written before the upgrade (tools/kind-items.py: a person's through the API
    # with a token, two in no list as the shared-list version left them); both upgrades
    # name the owner; set-password in the writer, as the README says; then each owner
    # finds their items through the API, before helm test.
    ci = load("ci.yml")
    found = job_commands(ci, "kind")
    owner = ci["jobs"]["kind"]["env"]["LEGACY_OWNER"]
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{2,39}", owner)  # what migrations.owner accepts
    before = index_of(found, "python3", "tools/kind-items.py", "before")
    upgrades = release_commands(found, "upgrade")
    owned = [n for n in upgrades if "migrations.owner=$LEGACY_OWNER" in found[n]]
    assert step_condition(ci, "kind", "helm", "upgrade", "$RELEASE") == {
        "matrix.database == 'bundled'",
        "matrix.database == 'cloudnativepg'",
    }
    assert len(owned) == 2 and before < min(owned)  # the first upgrade of each mode
    password = next(n for n, c in enumerate(found) if "set-password" in c)
    exec_ = found[password]
    assert exec_[:4] == ["kubectl", "--namespace", "$NAMESPACE", "exec"] and "deploy/$RELEASE-writer" in exec_
    assert exec_[exec_.index("--") + 1 :][:5] == ["flask", "--app", "todo_writer", "set-password", "$LEGACY_OWNER"]
    after = index_of(found, "python3", "tools/kind-items.py", "after")
    assert max(owned) < password < after < index_of(found, "helm", "test")
    assert option(found[after], "--owner") == "$LEGACY_OWNER"
    assert option(found[after], "--state") == option(found[before], "--state")
    # Nothing calls the public API without a token any more.
    assert not [c for c in found if c[0] == "curl"]


def test_release_pushes_images_and_chart_from_a_version_tag():
    release = load("release.yml")
    assert triggers(release)["push"]["tags"] == ["v*.*.*"]
    assert release["permissions"]["packages"] == "write"
    (build,) = uses(release, "images", "docker/build-push-action")
    assert build["with"]["push"] is True
    assert build["with"]["tags"].startswith("ghcr.io/${{ steps.meta.outputs.owner }}/todo-${{ matrix.service }}:")
    found = job_commands(release, "chart")
    package = found[index_of(found, "helm", "package")]
    assert "--app-version" in package and "--version" in package
    push = found[index_of(found, "helm", "push")]
    assert push[-1].startswith("oci://ghcr.io/")
    # The sed that points the chart at the repository owner's images matches values.yaml's default.
    sed = found[index_of(found, "sed", "-i")]
    pattern = sed[2].split("|")[1]
    assert sed[-1] == "charts/todo/values.yaml"
    lines = (CHART / "values.yaml").read_text().splitlines()
    assert sum(bool(re.search(pattern, line)) for line in lines) == 1
