"""Start and stop the whole local stack: PostgreSQL primary + replica, migrations,
then writer, reader and frontend under gunicorn with the environment variables the
Helm chart sets. One class, so `make run`, the tests and the benchmark share it."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .postgres import APP_DATABASE, APP_USER, REPLICATION_USER, SUPERUSER, Cluster

REPO = Path(__file__).resolve().parent.parent
SERVICES = ("writer", "reader", "frontend")


@dataclass(frozen=True)
class Ports:
    frontend: int = 8000
    reader: int = 8001
    writer: int = 8002
    primary: int = 54320
    replica: int = 54321
    # Each service's /metrics, served by its gunicorn master (0: none), and Prometheus.
    frontend_metrics: int = 8010
    reader_metrics: int = 8011
    writer_metrics: int = 8012
    prometheus: int = 9090

    @classmethod
    def from_env(cls) -> Ports:
        """TODO_PORT, TODO_READER_PORT, TODO_WRITER_PORT, TODO_PG_PRIMARY_PORT, TODO_PG_REPLICA_PORT,
        TODO_METRICS_PORT, TODO_READER_METRICS_PORT, TODO_WRITER_METRICS_PORT, TODO_PROMETHEUS_PORT."""
        defaults = cls()
        names = {
            "frontend": "TODO_PORT",
            "reader": "TODO_READER_PORT",
            "writer": "TODO_WRITER_PORT",
            "primary": "TODO_PG_PRIMARY_PORT",
            "replica": "TODO_PG_REPLICA_PORT",
            "frontend_metrics": "TODO_METRICS_PORT",
            "reader_metrics": "TODO_READER_METRICS_PORT",
            "writer_metrics": "TODO_WRITER_METRICS_PORT",
            "prometheus": "TODO_PROMETHEUS_PORT",
        }
        values = {}
        for attr, env_name in names.items():
            text = os.environ.get(env_name, str(getattr(defaults, attr)))
            if not text.isdigit() or not 0 < int(text) < 65536:
                raise SystemExit(f"{env_name} must be a port number, got {text!r}")
            values[attr] = int(text)
        return cls(**values)


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                kids.append(int(entry))
    return sorted(kids)


def free_ports() -> Ports:
    """Five ports nobody listens on now (tests and the chaos run use their own)."""
    ports = []
    for _ in range(5):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
    return Ports(*ports)


SECRET_NAMES = (SUPERUSER, APP_USER, REPLICATION_USER, "secret_key", "service_token_key")


def _load_or_make_secrets(path: Path) -> dict[str, str]:
    """Passwords and keys, generated once and kept with the data (like the chart's
    Secret), so a restart keeps everyone logged in. A value added by a newer version
    is generated on its first run; the others are kept."""
    values = json.loads(path.read_text()) if path.exists() else {}
    missing = [name for name in SECRET_NAMES if name not in values]
    if missing:
        values.update({name: secrets.token_urlsafe(32) for name in missing})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps(values, indent=2))
    return values


@dataclass
class Stack:
    root: Path = REPO / ".devlocal"
    ports: Ports = field(default_factory=Ports)
    # Reader falls back to the primary when the replica is behind (the chart's default).
    fallback: bool = True
    # Extra environment per service, e.g. {"reader": {"LSN_WAIT_TIMEOUT_MS": "200"}}.
    extra_env: dict[str, dict[str, str]] = field(default_factory=dict)
    workers: int = 2
    threads: int = 8

    def __post_init__(self):
        self.root = Path(self.root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.passwords = _load_or_make_secrets(self.root / "secrets.json")
        self.cluster = Cluster(self.root, self.ports.primary, self.ports.replica, self.passwords)
        self.logs = self.root / "logs"
        self.processes: dict[str, subprocess.Popen] = {}

    # -- addresses ---------------------------------------------------------------
    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{getattr(self.ports, service)}"

    @property
    def frontend_url(self) -> str:
        return self.url("frontend")

    def metrics_url(self, service: str) -> str:
        """Where the service's gunicorn master serves /metrics (never its API port)."""
        return f"http://127.0.0.1:{getattr(self.ports, service + '_metrics')}/metrics"

    # -- environment, as the chart sets it ----------------------------------------
    def _database_env(self, prefix: str, port: int) -> dict[str, str]:
        return {
            f"{prefix}_HOST": "127.0.0.1",
            f"{prefix}_PORT": str(port),
            f"{prefix}_NAME": APP_DATABASE,
            f"{prefix}_USER": APP_USER,
            f"{prefix}_PASSWORD": self.passwords[APP_USER],
            f"{prefix}_SSLMODE": "disable",
        }

    def service_env(self, service: str) -> dict[str, str]:
        env = {
            "HOST": "127.0.0.1",
            "PORT": str(getattr(self.ports, service)),
            "METRICS_PORT": str(getattr(self.ports, service + "_metrics")),
            "GUNICORN_WORKERS": str(self.workers),
            "GUNICORN_THREADS": str(self.threads),
            "PROMETHEUS_MULTIPROC_DIR": str(self.root / "metrics" / service),
            "SERVICE_TOKEN_KEY": self.passwords["service_token_key"],
            # As the image sets it: big blocks (argon2's 19 MiB per password hash) go back
            # to the system when freed instead of staying in each thread's malloc arena,
            # while a page's strings (a few hundred KB) are served from the heap.
            "MALLOC_MMAP_THRESHOLD_": "1048576",
        }
        if service == "writer":
            env.update(self._database_env("DATABASE", self.ports.primary))
        elif service == "reader":
            env.update(self._database_env("DATABASE", self.ports.replica))
            if self.fallback:
                env.update(self._database_env("FALLBACK_DATABASE", self.ports.primary))
        else:
            env.update(
                {
                    "READER_URL": self.url("reader"),
                    "WRITER_URL": self.url("writer"),
                    "SECRET_KEY": self.passwords["secret_key"],
                }
            )
        env.update(self.extra_env.get(service, {}))
        return env

    def _process_env(self, service: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "FALLBACK_DATABASE_"))}
        return {**base, **self.service_env(service)}

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        try:
            self.cluster.start()
            self.cluster.wait_until_streaming()
            self.migrate()
            for service in SERVICES:
                self.start_service(service)
            for service in SERVICES:
                self.wait_ready(service)
        except BaseException:
            self.stop()
            raise

    def migrate(self) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "todo_writer", "migrate"],
            # A command, not a server: its metrics go nowhere (and the folder is gunicorn's to make).
            env={k: v for k, v in self._process_env("writer").items() if k != "PROMETHEUS_MULTIPROC_DIR"},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"migrations failed:\n{result.stdout}{result.stderr}")
        # Say what the operator must do (e.g. items from before accounts without an owner).
        for line in result.stderr.splitlines():
            if line.startswith("warning:"):
                print(line, file=sys.stderr, flush=True)
        return result.stdout.strip()

    def start_service(self, service: str) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = open(self.logs / f"{service}.log", "ab")  # noqa: SIM115 - kept open for the process's life
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:todo_common.gunicorn_conf",
            f"todo_{service}:create_app()",
        ]
        self.processes[service] = subprocess.Popen(
            command,
            env=self._process_env(service),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,  # Ctrl-C in the terminal reaches us, and we stop them in order
        )
        log.close()

    def wait_ready(self, service: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        url = self.url(service) + "/readyz"
        last_error = ""
        while time.monotonic() < deadline:
            process = self.processes.get(service)
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{service} exited with {process.returncode}; see {self.logs / (service + '.log')}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own http URL
                    if response.status == 200:
                        return
            except OSError as exc:
                last_error = str(exc)
            time.sleep(0.1)
        raise RuntimeError(f"{service} was not ready within {timeout}s ({last_error}); see {self.logs}")

    def stop_service(self, service: str, timeout: float = 15) -> None:
        process = self.processes.pop(service, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def kill_service(self, service: str) -> None:
        """kill -9 the service's gunicorn master and workers at once (a pod killed)."""
        process = self.processes.pop(service, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def kill_worker(self, service: str) -> int | None:
        """kill -9 one gunicorn worker of the service (its master starts another)."""
        process = self.processes.get(service)
        workers = _children(process.pid) if process is not None else []
        if not workers:
            return None
        os.kill(workers[0], signal.SIGKILL)
        return workers[0]

    def stop(self) -> None:
        for service in reversed(SERVICES):
            self.stop_service(service)
        self.cluster.stop()

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
