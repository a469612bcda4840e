"""PostgreSQL's own limit: pgbench running the services' own SQL.

The statements are the services' own constants (``todo_reader.store.PAGE_SQL`` and
``KEPT_PAGE_SQL``, ``todo_writer.store.INSERT_SQL``), with their parameters (the bench person's account
and list, the page, ``with_lists``, ``max_items``) bound by psycopg2 (which
interpolates client-side), so each script is the literal text the services send.
The reader's page statement checks the session itself; the writer's INSERT runs here
without the writer's session check before it (one more short query)."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from devlocal.postgres import APP_DATABASE, APP_USER, POSTGRES_BIN_PATH
from todo_reader.store import KEPT_PAGE_SQL, PAGE_SQL
from todo_writer.store import INSERT_SQL


def writer_insert_sql(conn, *, account: int, list_id: int, max_items: int, name: str = "pgbench item") -> str:
    """The writer's INSERT for a create (POST /v1/todos) into the bench person's list,
    parameters bound (the list row's lock and the limit check included)."""
    params = {"account": account, "list": list_id, "max_items": max_items}
    with conn.cursor() as cur:
        return cur.mogrify(INSERT_SQL, {**params, "name": name, "completed": False, "order": None}).decode()


def reader_page_sql(
    conn,
    *,
    account: int,
    generation: int,
    list_id: int,
    limit: int,
    after: int = 0,
    status: str = "all",
    with_lists: bool = True,
    known_version: str | None = None,
) -> str:
    """The reader's list query (the one GET /v1/todos runs for the list page, with the
    session check and the account's lists for the switcher), parameters bound. Without
    ``known_version`` it reads the items (``PAGE_SQL``), as for a page the reader does
    not keep; with it, the check of a kept page that is not the list's last
    (``KEPT_PAGE_SQL``)."""
    params = {
        "account": account,
        "generation": generation,
        "session": True,
        "list": list_id,
        "after": after,
        "limit": limit,
        "with_lists": with_lists,
        "known_version": known_version,
        "known_open": False,
        "known_tail": None,
    }
    with conn.cursor() as cur:
        return cur.mogrify((PAGE_SQL if known_version is None else KEPT_PAGE_SQL)[status], params).decode()


PLAIN_SQL = "SELECT id, name, completed, position FROM todo_list WHERE list_id = %s ORDER BY id LIMIT %s"


def plain_page_sql(conn, *, list_id: int, limit: int = 250) -> str:
    """The page's rows as a plain SELECT, no JSON: what PostgreSQL does at the least
    for a page (the reader list API's target is measured against it)."""
    with conn.cursor() as cur:
        return cur.mogrify(PLAIN_SQL, (list_id, limit)).decode()


def plain_json_sql(conn, *, list_id: int, limit: int = 250) -> str:
    """The same rows as one JSON text (``json_agg``, as the reader's page query builds
    its items): the difference from ``plain_page_sql`` is what JSON costs PostgreSQL."""
    with conn.cursor() as cur:
        return cur.mogrify(
            f"SELECT coalesce(json_agg(t ORDER BY id), '[]')::text FROM ({PLAIN_SQL}) t", (list_id, limit)
        ).decode()


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
