"""The system under test, started for one benchmark run: the stack (same launcher as
`make run`, on free ports in a throw-away folder, as the tests do) and the reference
apps; the bench person (signed up through the frontend) whose list every scenario
reads and writes, and a neighbour whose big list shares the table; plus the measuring
of one scenario: CPU per request of every process group, requests and connections per
worker, and PostgreSQL connections opened."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import threading
import time
from contextlib import closing
from dataclasses import dataclass, fields
from pathlib import Path

from devlocal import Ports, Stack
from devlocal.postgres import APP_DATABASE, APP_USER
from todo_frontend.settings import DEFAULT_LSN_KEEP_SECONDS

from . import account, data, procs, spread
from .reference import server as reference_server

REFERENCES = ("original", "lean", "orm")
# The HTTP servers (gunicorn masters) whose workers' requests are counted.
HTTP_SERVERS = ("frontend", "reader", "writer", *REFERENCES)
# The original's page for 250 items weighed 89 KB (issue 12); its reference must too.
ORIGINAL_PAGE_BYTES = 89_000
ORIGINAL_PAGE_TOLERANCE = 0.10


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
        self.ref_ports: dict[str, int] = {}
        self.ref_processes: dict[str, subprocess.Popen] = {}
        self.primary = self.replica = None
        self.person: account.Person | None = None  # whose list the scenarios use
        self.neighbour: account.Person | None = None  # someone else's (big) list in the same table

    # -- addresses ---------------------------------------------------------------
    def url(self, name: str) -> str:
        if name in self.ref_ports:
            return f"http://127.0.0.1:{self.ref_ports[name]}"
        return self.stack.url(name)

    @property
    def list_path(self) -> str:
        """The bench person's list page (where the add form posts and redirects to)."""
        return f"/lists/{self.person.list_id}"

    def person_named(self, who: str) -> account.Person:
        return {"person": self.person, "neighbour": self.neighbour}[who]

    def path_of(self, who: str) -> str:
        return f"/lists/{self.person_named(who).list_id}"

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
    def start(self, references: tuple[str, ...] = REFERENCES) -> None:
        """Start the stack, sign the two people up, and start ``references``."""
        self.stack.start()
        self.primary = self.stack.cluster.superuser_connection()
        self.replica = self.stack.cluster.superuser_connection(self.stack.cluster.replica)
        self.person = account.sign_up(self.stack.frontend_url, self.primary, "bench")
        self.neighbour = account.sign_up(self.stack.frontend_url, self.primary, "neighbour")
        self.signed_up_at = time.monotonic()
        password = self.stack.passwords[APP_USER]

        def dsn(port: int) -> str:
            return (
                f"host=127.0.0.1 port={port} dbname={APP_DATABASE} user={APP_USER} password={password} sslmode=disable"
            )

        env = {
            "REF_REPLICA_DSN": dsn(self.stack.ports.replica),
            "REF_PRIMARY_DSN": dsn(self.stack.ports.primary),
            "REF_LIST_ID": str(self.person.list_id),  # the original shows the bench person's list
            "SECRET_KEY": self.stack.passwords["secret_key"],
            "PAGE_SIZE": str(self.config.page_size),
        }
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for kind in references:
            self.ref_ports[kind] = free_port()
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
    def session(self, name: str, path: str | None = None, who: str = "person") -> tuple[str, str]:
        """(session cookie, CSRF token) of the bench person's (or the neighbour's)
        logged-in browser after it loaded ``path`` (their list page) from ``name``: the
        cookie the stack set at sign-up, with the CSRF token the page put in it. The lean
        and ORM references are given the same cookie (they share the frontend's secret
        key and session layout). The original has no sessions: no cookie, no token."""
        if name == "original":
            return "", ""
        person = self.person_named(who)
        path = path or self.path_of(who)
        page = account.request(self.url(name), "GET", path, cookie=person.cookie)
        if page.status != 200 or page.csrf_token is None or not page.item_ids:
            raise RuntimeError(f"{name} GET {path} as {person.username} answered {page.status}: {page.html[:300]}")
        return page.cookie or person.cookie, page.csrf_token

    def let_sign_ups_settle(self) -> float:
        """Wait until the sign-ups' writes are older than LSN_KEEP_SECONDS, so a returning
        browser is one with no write of its own pending: the page the harness loads to
        get its CSRF token answers with a cookie that no longer carries the sign-up's
        LSN, as a browser coming back to its list has. Returns the seconds waited."""
        wait = max(0.0, self.signed_up_at + DEFAULT_LSN_KEEP_SECONDS + 1 - time.monotonic())
        time.sleep(wait)
        cookie, _ = self.session("frontend")
        if "lsn" in account.session_data(cookie):
            raise RuntimeError("the returning browser's cookie still carries the sign-up's LSN")
        return wait

    def first_visit_cookie(self) -> str:
        """The session cookie of a browser that has just logged the bench person in: a new
        session (the log-in's WAL position in it, no CSRF token yet). Every page loaded
        with it is that session's first: the frontend makes a CSRF token and sets the
        cookie again, which a browser would keep but wrk does not send back."""
        cookie = account.log_in(self.stack.frontend_url, self.person.username)
        page = account.request(self.stack.frontend_url, "GET", self.list_path, cookie=cookie)
        if page.status != 200 or page.cookie is None or len(page.item_ids) != self.config.page_size:
            raise RuntimeError(
                f"a first visit answered {page.status} with {len(page.item_ids)} items,"
                f" cookie set: {page.cookie is not None}: {page.html[:300]}"
            )
        return cookie

    def check_original(self) -> dict:
        """The original reference shows the bench person's first page (the same items as
        the stack) in markup of the original's weight: 89 KB +- 10 % for 250 items."""
        mine = account.request(self.stack.frontend_url, "GET", self.list_path, cookie=self.person.cookie)
        original = account.request(self.url("original"), "GET", "/")
        ids = original.original_item_ids
        if original.status != 200 or ids != mine.item_ids or len(ids) != self.config.page_size:
            raise RuntimeError(
                f"the original shows {original.status}, {len(ids)} items {ids[:3]}; the stack"
                f" {mine.status}, {len(mine.item_ids)} items {mine.item_ids[:3]}"
            )
        low = ORIGINAL_PAGE_BYTES * (1 - ORIGINAL_PAGE_TOLERANCE) * len(ids) / 250
        high = ORIGINAL_PAGE_BYTES * (1 + ORIGINAL_PAGE_TOLERANCE) * len(ids) / 250
        if not low <= original.size <= high:
            raise RuntimeError(f"the original's page weighs {original.size} bytes, not {low:.0f}..{high:.0f}")
        return {"items": len(ids), "first_id": ids[0], "bytes": original.size, "stack_page_bytes": mine.size}

    def service_headers(self) -> dict[str, str]:
        """A service token for the bench person, as the frontend signs one (60 s)."""
        return self.person.service_headers(self.stack.passwords["service_token_key"])

    def check_same_page(self, paths: tuple[str, ...]) -> dict:
        """The stack and the lean and ORM references (those started) must show the bench
        person the same items and counts at ``paths`` (relative to the list page)."""
        names = ("frontend", *(name for name in ("lean", "orm") if name in self.ref_ports))
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

    def check_page(self, who: str, query: str, first_id: int) -> dict:
        """The frontend shows ``who`` a full page of their list at ``query``, from ``first_id``."""
        person = self.person_named(who)
        page = account.request(self.stack.frontend_url, "GET", self.path_of(who) + query, cookie=person.cookie)
        ids = page.item_ids
        if page.status != 200 or len(ids) != self.config.page_size or ids[0] != first_id:
            raise RuntimeError(f"{person.username}'s page {query!r} answered {page.status}: {len(ids)} items {ids[:3]}")
        return {"items": len(ids), "first_id": ids[0], "items_left": page.items_left}

    # -- one measurement -------------------------------------------------------------
    def measure(self, run, *, duration: float, watch: tuple[str, ...]) -> tuple[object, dict]:
        """Run ``run()`` (blocking, about ``duration`` s) and return (its result, usage):
        CPU seconds per watched group and per worker, connections per worker sampled
        half-way, and PostgreSQL connections opened meanwhile."""
        groups = {name: group for name, group in self.groups().items() if name in watch}
        cpu_before = {name: group.cpu() for name, group in groups.items()}
        workers_before = {name: group.worker_cpu() for name, group in groups.items()}
        sessions_before = {"primary": data.sessions_opened(self.primary), "replica": data.sessions_opened(self.replica)}
        ports = self.ports
        sampler = spread.Sampler({name: (groups[name], ports[name]) for name in groups if name in HTTP_SERVERS})
        sampler.start()
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
        served = sampler.stop()
        if "error" in box:
            raise box["error"]
        usage = {
            "served": served,
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
