"""PostgreSQL's own limit: pgbench running the services' own SQL.

The reader's page query is imported from todo_reader.queries; the writer's INSERT is
captured by calling todo_writer.store.create with a recording stand-in for the pool,
so both scripts are exactly what the services send (psycopg2 interpolates parameters
client-side, so each script is the literal text psycopg2 would send)."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from devlocal.postgres import APP_DATABASE, APP_USER, POSTGRES_BIN_PATH


class _RecordingCursor:
    def __init__(self):
        self.statements: list[tuple[str, object]] = []

    def execute(self, sql, params=None):
        self.statements.append((sql, params))

    def fetchone(self):
        return (1, "x", False, None) if len(self.statements) == 1 else ("0/0",)


class _RecordingDb:
    def __init__(self):
        self.cursor = _RecordingCursor()

    def run(self, work, **_):
        return work(self.cursor)


def writer_insert_sql(conn, name: str = "pgbench item") -> str:
    """The writer's own INSERT for a create, with its parameters bound by psycopg2."""
    from todo_writer import store

    db = _RecordingDb()
    store.create(db, name, False, None)
    sql, params = db.cursor.statements[0]
    assert sql.lstrip().upper().startswith("INSERT"), sql
    with conn.cursor() as cur:
        return cur.mogrify(sql, params).decode()


def reader_page_sql(conn, *, limit: int, after: int = 0, status: str = "all") -> str:
    """The reader's own list query (the one GET /v1/todos runs), parameters bound."""
    from todo_reader.queries import PAGE_SQL

    with conn.cursor() as cur:
        return cur.mogrify(PAGE_SQL[status], {"after": after, "limit": limit}).decode()


# For scale only (not a target): the page as a plain SELECT, as the figure was taken.
PLAIN_PAGE_SQL = "SELECT id, name, completed, position FROM todo_list WHERE id > 0 ORDER BY id LIMIT 250"


@dataclass
class PgbenchResult:
    tps: float
    latency_ms: float
    transactions: int


def run_pgbench(
    script_sql: str,
    *,
    port: int,
    password: str,
    duration: float,
    workdir: Path,
    name: str,
    clients: int = 16,
    threads: int = 2,
) -> PgbenchResult:
    script = Path(workdir) / f"{name}.sql"
    # One statement per script, on one line: pgbench ends a command at the newline.
    script.write_text(" ".join(script_sql.split()) + ";\n")
    command = [
        str(POSTGRES_BIN_PATH / "pgbench"),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-U",
        APP_USER,
        "-n",  # no vacuum of pgbench's own tables: we have none
        f"-c{clients}",
        f"-j{threads}",
        f"-T{max(1, round(duration))}",
        "-f",
        str(script),
        APP_DATABASE,
    ]
    env = {**os.environ, "PGPASSWORD": password}
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=duration + 60, check=False)
    out = proc.stdout
    tps = re.search(r"^tps = ([\d.]+)", out, re.M)
    latency = re.search(r"^latency average = ([\d.]+) ms", out, re.M)
    done = re.search(r"^number of transactions actually processed: (\d+)", out, re.M)
    if proc.returncode != 0 or tps is None:
        raise RuntimeError(f"pgbench failed ({proc.returncode}): {out}{proc.stderr}")
    return PgbenchResult(float(tps.group(1)), float(latency.group(1)) if latency else 0.0, int(done.group(1)))
