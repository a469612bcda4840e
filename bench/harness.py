"""The system under test, started for one benchmark run: the stack (same launcher as
`make run`, on free ports in a throw-away folder, as the tests do) and the two
reference apps; the bench person (signed up through the frontend) whose list every
scenario reads and writes, and a neighbour whose rows share the table; plus the
measuring of one scenario: CPU per request of every process group, connections per
worker, and PostgreSQL connections opened."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import threading
from contextlib import closing
from dataclasses import dataclass, fields
from pathlib import Path

from devlocal import Ports, Stack
from devlocal.postgres import APP_DATABASE, APP_USER

from . import account, data, procs
from .reference import server as reference_server

REFERENCES = ("lean", "orm")


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Config:
    workers: int = 2
    threads: int = 8
    page_size: int = 250
    # The 1,000,000-row check keeps its rows in the one list, and the write scenarios
    # add tens of thousands of rows a round to it: far past the product's 10,000.
    max_items_per_list: int = 10_000_000


class Harness:
    def __init__(self, config: Config, log_dir: Path):
        self.config = config
        self.log_dir = Path(log_dir)
        self.root = Path(tempfile.mkdtemp(prefix="todo-bench-"))
        self.root.chmod(0o755)  # the PostgreSQL user (when we are root) must reach its data
        ports = Ports(*(free_port() for _ in fields(Ports)))
        self.stack = Stack(
            root=self.root,
            ports=ports,
            workers=config.workers,
            threads=config.threads,
            extra_env={
                "frontend": {"PAGE_SIZE": str(config.page_size)},
                "writer": {"MAX_ITEMS_PER_LIST": str(config.max_items_per_list)},
            },
        )
        self.ref_ports = {kind: free_port() for kind in REFERENCES}
        self.ref_processes: dict[str, subprocess.Popen] = {}
        self.primary = self.replica = None
        self.person: account.Person | None = None  # whose list the scenarios use
        self.neighbour: account.Person | None = None  # someone else's rows in the same table

    # -- addresses ---------------------------------------------------------------
    def url(self, name: str) -> str:
        if name in self.ref_ports:
            return f"http://127.0.0.1:{self.ref_ports[name]}"
        return self.stack.url(name)

    @property
    def list_path(self) -> str:
        """The bench person's list page (where the add form posts and redirects to)."""
        return f"/lists/{self.person.list_id}"

    @property
    def ports(self) -> dict[str, int]:
        p = self.stack.ports
        named = {"frontend": p.frontend, "reader": p.reader, "writer": p.writer}
        named.update({"primary": p.primary, "replica": p.replica})
        named.update(self.ref_ports)
        return named

    def groups(self) -> dict[str, procs.Group]:
        groups = {name: procs.Group(name, proc.pid) for name, proc in self.stack.processes.items()}
        groups.update({name: procs.Group(name, proc.pid) for name, proc in self.ref_processes.items()})
        cluster = self.stack.cluster
        groups["primary"] = procs.Group("primary", procs.postmaster_pid(cluster.primary.data))
        groups["replica"] = procs.Group("replica", procs.postmaster_pid(cluster.replica.data))
        return groups

    # -- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        self.stack.start()
        self.primary = self.stack.cluster.superuser_connection()
        self.replica = self.stack.cluster.superuser_connection(self.stack.cluster.replica)
        self.person = account.sign_up(self.stack.frontend_url, self.primary, "bench")
        self.neighbour = account.sign_up(self.stack.frontend_url, self.primary, "neighbour")
        password = self.stack.passwords[APP_USER]

        def dsn(port: int) -> str:
            return (
                f"host=127.0.0.1 port={port} dbname={APP_DATABASE} user={APP_USER} password={password} sslmode=disable"
            )

        env = {
            "REF_REPLICA_DSN": dsn(self.stack.ports.replica),
            "REF_PRIMARY_DSN": dsn(self.stack.ports.primary),
            "SECRET_KEY": self.stack.passwords["secret_key"],
            "PAGE_SIZE": str(self.config.page_size),
        }
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for kind in REFERENCES:
            self.ref_processes[kind] = reference_server.start(
                kind,
                self.ref_ports[kind],
                workers=self.config.workers,
                threads=self.config.threads,
                env=env,
                log=self.log_dir / f"reference-{kind}.log",
            )

    def stop(self) -> None:
        for process in self.ref_processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.ref_processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        for conn in (self.primary, self.replica):
            if conn is not None:
                conn.close()
        try:
            self.stack.stop()
        finally:
            # Keep the services' logs with the results, then drop the databases.
            for log in (self.root / "logs").glob("*.log"):
                shutil.copy(log, self.log_dir / log.name)
            shutil.rmtree(self.root, ignore_errors=True)

    # -- the bench person's browser and service tokens ---------------------------------
    def session(self, name: str, path: str | None = None) -> tuple[str, str]:
        """(session cookie, CSRF token) of the bench person's logged-in browser after it
        loaded ``path`` (their list page) from ``name``: the cookie the stack set at
        sign-up, with the CSRF token the page put in it. The references are given the
        same cookie (they share the frontend's secret key and session layout)."""
        path = path or self.list_path
        cookie = self.person.cookie
        page = account.request(self.url(name), "GET", path, cookie=cookie)
        if page.status != 200 or page.csrf_token is None or not page.item_ids:
            raise RuntimeError(f"{name} GET {path} as the bench person answered {page.status}: {page.html[:300]}")
        return page.cookie or cookie, page.csrf_token

    def service_headers(self) -> dict[str, str]:
        """A service token for the bench person, as the frontend signs one (60 s)."""
        return self.person.service_headers(self.stack.passwords["service_token_key"])

    def check_same_page(self, paths: tuple[str, ...], names: tuple[str, ...] = ("frontend", *REFERENCES)) -> dict:
        """The stack and the references must show the bench person the same items and
        counts at ``paths`` (relative to the list page): a fair comparison."""
        shown = {}
        for path in paths:
            pages = {
                name: account.request(self.url(name), "GET", self.list_path + path, cookie=self.person.cookie)
                for name in names
            }
            views = {name: (p.status, p.item_ids, p.items_left) for name, p in pages.items()}
            if len(set(map(repr, views.values()))) != 1 or views["frontend"][0] != 200:
                summary = {name: (v[0], len(v[1]), v[1][:3], v[2]) for name, v in views.items()}
                raise RuntimeError(f"the stack and the references show different pages at {path!r}: {summary}")
            _, ids, left = views["frontend"]
            shown[path or "/"] = {"items": len(ids), "first_id": ids[0] if ids else None, "items_left": left}
        return shown

    # -- one measurement -------------------------------------------------------------
    def measure(self, run, *, duration: float, watch: tuple[str, ...]) -> tuple[object, dict]:
        """Run ``run()`` (blocking, about ``duration`` s) and return (its result, usage):
        CPU seconds per watched group and per worker, connections per worker sampled
        half-way, and PostgreSQL connections opened meanwhile."""
        groups = {name: group for name, group in self.groups().items() if name in watch}
        cpu_before = {name: group.cpu() for name, group in groups.items()}
        workers_before = {name: group.worker_cpu() for name, group in groups.items()}
        sessions_before = {"primary": data.sessions_opened(self.primary), "replica": data.sessions_opened(self.replica)}
        box = {}

        def target():
            try:
                box["result"] = run()
            except BaseException as exc:  # re-raised below, in the caller's thread
                box["error"] = exc

        thread = threading.Thread(target=target)
        thread.start()
        thread.join(duration / 2)
        conns = {}
        for name, group in groups.items():
            if name not in ("primary", "replica"):
                conns[name] = {str(pid): c for pid, c in procs.connections(group.workers(), self.ports).items()}
        thread.join()
        if "error" in box:
            raise box["error"]
        usage = {
            "cpu_s": {name: round(group.cpu() - cpu_before[name], 3) for name, group in groups.items()},
            "worker_cpu_s": {
                name: {
                    str(pid): round(seconds - workers_before[name].get(pid, 0.0), 3)
                    for pid, seconds in group.worker_cpu().items()
                }
                for name, group in groups.items()
                if name not in ("primary", "replica")
            },
            "connections": conns,
            "pg_sessions_opened": {
                "primary": data.sessions_opened(self.primary) - sessions_before["primary"],
                "replica": data.sessions_opened(self.replica) - sessions_before["replica"],
            },
        }
        return box["result"], usage

    def rss(self) -> dict[str, dict[str, float]]:
        return {name: group.rss() for name, group in self.groups().items() if name not in ("primary", "replica")}
