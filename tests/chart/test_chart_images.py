"""The Dockerfiles, checked without a Docker engine: hadolint, what each copies (only
services/common and its own service), the runtime stage's shape, the dockerignore, and
that the command the image runs starts the service here (same gunicorn config, same
read-only expectations: only /tmp written)."""

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


def dockerfile(service: str) -> str:
    return (REPO / "services" / service / "Dockerfile").read_text()


def instructions(service: str) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", dockerfile(service))
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in (raw.strip() for raw in text.splitlines())
        if line and not line.startswith("#")
    ]


def stages(service: str) -> list[list[tuple[str, str]]]:
    result = []
    for instruction in instructions(service):
        if instruction[0] == "FROM":
            result.append([])
        result[-1].append(instruction)
    return result


@pytest.mark.parametrize("service", SERVICES)
def test_hadolint(service):
    result = subprocess.run(
        [tool("hadolint"), "--failure-threshold", "info", str(REPO / "services" / service / "Dockerfile")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_copies_only_what_the_service_needs(service):
    sources = []
    for name, argument in instructions(service):
        if name == "COPY" and "--from=" not in argument:
            sources += argument.split()[:-1]
    allowed = ("services/common", f"services/{service}")
    assert sources and all(src.rstrip("/").startswith(allowed) for src in sources), sources
    others = [other for other in SERVICES if other != service]
    assert not any(src.startswith(f"services/{other}") for src in sources for other in others), sources
    ignore = (REPO / "services" / service / "Dockerfile.dockerignore").read_text().split()
    assert ignore[ignore.index("*") + 1 :][:2] == ["!services/common/", f"!services/{service}/"]


@pytest.mark.parametrize("service", SERVICES)
def test_runtime_stage_is_slim_non_root_and_pinned(service):
    build, runtime = stages(service)
    for stage in (build, runtime):
        assert re.fullmatch(r"python:\d+\.\d+-slim-\w+( AS \w+)?", stage[0][1]), stage[0]
    runtime_text = " ".join(f"{name} {arg}" for name, arg in runtime)
    assert "USER 10001:10001" in runtime_text  # the chart's runAsUser
    assert "EXPOSE 8080" in runtime_text
    assert not re.search(r"apt-get|gcc|build-essential", runtime_text)
    assert "--no-index" in runtime_text  # runtime installs only the wheels built from pinned requirements
    requirements = (REPO / "services" / service / "requirements.txt").read_text().splitlines()
    pins = [line for line in requirements if line and not line.startswith(("#", "-r"))]
    assert pins and all("==" in line for line in pins), pins


def entry_command(service: str) -> list[str]:
    entry = cmd = []
    for name, argument in instructions(service):
        if name == "ENTRYPOINT":
            entry = json.loads(argument)
        elif name == "CMD":
            cmd = json.loads(argument)
    return entry + cmd


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SERVICE_ENV = {
    "frontend": {"READER_URL": "http://127.0.0.1:9", "WRITER_URL": "http://127.0.0.1:9", "SECRET_KEY": "x" * 32},
    "reader": {"DATABASE_HOST": "127.0.0.1", "DATABASE_PORT": "9", "DATABASE_NAME": "todo", "DATABASE_USER": "todo"},
    "writer": {"DATABASE_HOST": "127.0.0.1", "DATABASE_PORT": "9", "DATABASE_NAME": "todo", "DATABASE_USER": "todo"},
}


@pytest.mark.parametrize("service", SERVICES)
def test_image_command_starts_the_service(service):
    command = entry_command(service)
    assert command[:3] == ["gunicorn", "--config", "/app/gunicorn.conf.py"]
    # The same command, with this checkout's gunicorn and the service's own config file.
    local = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--config",
        str(REPO / "services" / service / "gunicorn.conf.py"),
        *command[3:],
    ]
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            "PATH": os.environ["PATH"],
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "GUNICORN_WORKERS": "1",
            "TMPDIR": scratch,
            "PYTHONDONTWRITEBYTECODE": "1",
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
