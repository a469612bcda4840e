"""The one Dockerfile of the three service images, checked without a Docker engine:
hadolint, what it copies (services/common and the one service SERVICE names), the
runtime stage's shape, the dockerignore, and that the command the image runs starts
each service here (the shared gunicorn configuration module, only /tmp written)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from chart_helpers import REPO, SERVICES, tool

from todo_common import gunicorn_conf

DOCKERFILE = REPO / "services" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in (raw.strip() for raw in text.splitlines())
        if line and not line.startswith("#")
    ]


def stages() -> list[list[tuple[str, str]]]:
    result = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def build_args() -> dict[str, str | None]:
    """ARGs declared before the first FROM, with their defaults."""
    found = {}
    for name, argument in instructions():
        if name == "FROM":
            break
        if name == "ARG":
            key, _, default = argument.partition("=")
            found[key] = default or None
    return found


def test_one_recipe_for_every_service():
    assert not list((REPO / "services").glob("*/Dockerfile*")), "a per-service Dockerfile came back"
    assert not list((REPO / "services").glob("*/gunicorn.conf.py")), "use -c python:todo_common.gunicorn_conf"


def test_hadolint():
    result = subprocess.run(
        [tool("hadolint"), "--failure-threshold", "info", str(DOCKERFILE)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_copies_only_common_and_the_chosen_service():
    sources = []
    for name, argument in instructions():
        if name == "COPY" and "--from=" not in argument:
            sources += argument.split()[:-1]
    allowed = ("services/common/", "services/${SERVICE}/")
    assert sources and all((src.rstrip("/") + "/").startswith(allowed) for src in sources), sources
    # Both stages know which service they build; the build fails without one.
    assert all(("ARG", "SERVICE") in stage for stage in stages())
    assert any(name == "RUN" and "SERVICE=frontend|reader|writer is required" in arg for name, arg in instructions())
    ignore = (REPO / "services" / "Dockerfile.dockerignore").read_text().split()
    allowed_dirs = ignore[ignore.index("*") + 1 :][:4]
    assert allowed_dirs == ["!services/common/", *(f"!services/{s}/" for s in sorted(SERVICES))]


def test_runtime_stage_is_slim_non_root_and_pinned():
    assert build_args()["PYTHON_VERSION"], "the Python version needs a default"
    build, runtime = stages()
    for stage in (build, runtime):
        assert re.fullmatch(r"python:\$\{PYTHON_VERSION\}-slim-\w+( AS \w+)?", stage[0][1]), stage[0]
    runtime_text = " ".join(f"{name} {arg}" for name, arg in runtime)
    assert "USER 10001:10001" in runtime_text  # the chart's runAsUser
    assert f"EXPOSE {gunicorn_conf.DEFAULT_PORT}" in runtime_text  # documents the config's port
    assert "PORT=" not in runtime_text, "the port's default belongs to todo_common.gunicorn_conf"
    assert "TODO_SERVICE=${SERVICE}" in runtime_text
    assert not re.search(r"apt-get|gcc|build-essential", runtime_text)
    assert "--no-index" in runtime_text  # runtime installs only the wheels built from pinned requirements
    for service in SERVICES:
        requirements = (REPO / "services" / service / "requirements.txt").read_text().splitlines()
        pins = [line for line in requirements if line and not line.startswith(("#", "-r"))]
        assert pins and all("==" in line for line in pins), pins


def test_freed_password_hash_memory_goes_back_to_the_system():
    # argon2 hashes in 19 MiB blocks; glibc keeps freed ones in each thread's arena unless
    # the mmap threshold is fixed. The local stack sets the same value as the image.
    runtime = stages()[-1]
    (threshold,) = [arg.split("=", 1)[1] for name, arg in runtime if name == "ENV" and "MALLOC_MMAP_THRESHOLD_" in arg]
    source = (REPO / "devlocal" / "stack.py").read_text()
    assert f'"MALLOC_MMAP_THRESHOLD_": "{threshold}"' in source
    # Below argon2's blocks, above a list page's strings (allocating those from fresh
    # mmaps costs page faults on every page).
    assert 512 * 1024 <= int(threshold) < 19 * 1024 * 1024


def entry_command() -> list[str]:
    entry = cmd = []
    for name, argument in instructions():
        if name == "ENTRYPOINT":
            entry = json.loads(argument)
        elif name == "CMD":
            cmd = json.loads(argument)
    return entry + cmd


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


DATABASE_ENV = {"DATABASE_HOST": "127.0.0.1", "DATABASE_PORT": "9", "DATABASE_NAME": "todo", "DATABASE_USER": "todo"}
SERVICE_ENV = {
    "frontend": {"READER_URL": "http://127.0.0.1:9", "WRITER_URL": "http://127.0.0.1:9", "SECRET_KEY": "x" * 32},
    "reader": DATABASE_ENV,
    "writer": DATABASE_ENV,
}


@pytest.mark.parametrize("service", SERVICES)
def test_image_command_starts_the_service(service):
    command = entry_command()
    assert command == ["gunicorn", "--config", "python:todo_common.gunicorn_conf"]
    # The same command with this checkout's gunicorn; the image's TODO_SERVICE picks the app.
    local = [str(Path(sys.executable).parent / "gunicorn"), *command[1:]]
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            "PATH": os.environ["PATH"],
            "TODO_SERVICE": service,
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "GUNICORN_WORKERS": "1",
            "TMPDIR": scratch,
            "PYTHONDONTWRITEBYTECODE": "1",
            "SERVICE_TOKEN_KEY": "k" * 32,
            **SERVICE_ENV[service],
        }
        process = subprocess.Popen(local, env=env, cwd=scratch, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                        assert response.status == 200
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError(process.stdout.read().decode()) from None
                    time.sleep(0.3)
        finally:
            process.terminate()
            process.wait(timeout=30)
