"""PostgreSQL's own limit: pgbench running the services' own SQL.

The statements are the services' own constants (``todo_reader.store.PAGE_SQL``,
``todo_writer.store.INSERT_SQL``), with their parameters bound by psycopg2 (which
interpolates client-side), so each script is the literal text the services send."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from devlocal.postgres import APP_DATABASE, APP_USER, POSTGRES_BIN_PATH
from todo_reader.store import PAGE_SQL
from todo_writer.store import INSERT_SQL


def writer_insert_sql(conn, name: str = "pgbench item") -> str:
    """The writer's INSERT for a create (POST /v1/todos), parameters bound."""
    with conn.cursor() as cur:
        return cur.mogrify(INSERT_SQL, {"name": name, "completed": False, "order": None}).decode()


def reader_page_sql(conn, *, limit: int, after: int = 0, status: str = "all") -> str:
    """The reader's list query (the one GET /v1/todos runs), parameters bound."""
    with conn.cursor() as cur:
        return cur.mogrify(PAGE_SQL[status], {"after": after, "limit": limit}).decode()


# For scale only (not a target): the page as a plain SELECT, the form the quoted
# reference figure (22,700 TPS, another machine) was measured in.
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
