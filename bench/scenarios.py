"""The scenarios: what is loaded, through which door, and which processes to watch.
Everything is done as the bench person: pages with their logged-in browser's cookie,
reader and writer calls with a service token for them, all on their list (but the
big middle page, which is the neighbour's 1,000,000-row list, with the neighbour's
cookie). The original app has no accounts: it shows the bench person's list to
anyone, with no cookie.

Every HTTP scenario is wrk -t2 -c16 (-c64 for the ``_c64`` page scenarios) from outside
the Python processes; pgbench runs -c16 -j2. A round runs each group of compared
scenarios back to back, in the opposite order in every other round, so drift on this
shared machine hits both sides of a ratio alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import pgbench, ryw
from .harness import REFERENCES, Harness
from .load import run_wrk

STACK = ("frontend", "reader", "writer", "primary", "replica")
READ_PATH = ("frontend", "reader", "replica")


@dataclass
class Context:
    """Facts about the loaded data that paths depend on."""

    rows: int  # the bench person's list
    mid_after: int  # a keyset page from the middle of the bench person's list
    big_rows: int  # the neighbour's list
    big_mid_after: int  # ... and the middle of that one
    workdir: str


@dataclass
class Scenario:
    name: str
    describe: str
    watch: tuple[str, ...]
    run: Callable[[Harness, Context, float], dict]

    @property
    def references(self) -> tuple[str, ...]:
        return tuple(name for name in REFERENCES if name in self.watch)


def _path(template: str, h: Harness, ctx: Context, who: str) -> str:
    """``{page}``: the list page of ``who``; ``{list}``: the bench person's list id;
    ``{mid}`` / ``{big_mid}``: the keyset ``after`` of the page half-way down the bench
    person's / the neighbour's list."""
    return template.format(page=h.path_of(who), list=h.person.list_id, mid=ctx.mid_after, big_mid=ctx.big_mid_after)


def _wrk(
    target: str,
    mode: str = "get",
    path: str = "{page}",
    *,
    session: bool = True,
    service: bool = False,
    first_visit: bool = False,
    who: str = "person",
    connections: int = 16,
    get_path: str = "{page}",
):
    """wrk against ``target``. With ``session`` every request carries the session cookie of
    ``who``'s logged-in browser after it loaded their list page once (a returning
    browser's), and form posts its CSRF token. With ``first_visit`` it carries instead the
    cookie a log-in has just set (a new session: no CSRF token yet), so every request is
    that session's first page. With ``service`` every request carries a service token
    for the bench person, minted for this run (the reader and the writer accept nothing
    else). With none, an anonymous request (the original app's only kind)."""

    def run(h: Harness, ctx: Context, duration: float) -> dict:
        cookie, token = h.session(target, who=who) if session else ("", "")
        if first_visit:
            cookie, token = h.first_visit_cookie(), ""
        authorization = h.service_headers()["Authorization"] if service else ""
        result = run_wrk(
            h.url(target),
            mode=mode,
            path=_path(path, h, ctx, who),
            duration=duration,
            connections=connections,
            cookie=cookie,
            token=token,
            authorization=authorization,
            get_path=_path(get_path, h, ctx, who),
        )
        record = {
            "requests": result.requests,
            "rps": round(result.rps, 1),
            "latency_ms": {k: round(v, 3) for k, v in result.latency_ms.items()},
            "errors": result.error_count,
            "bytes_per_request": round(result.bytes / max(result.requests, 1)),
            "connections_wrk": connections,
        }
        if result.errors.get("unexpected"):
            record["unexpected_status"] = result.unexpected_status
        return record

    return run


def _pgbench(server: str, sql: Callable[[object, Harness], str]):
    def run(h: Harness, ctx: Context, duration: float) -> dict:
        conn = h.replica if server == "replica" else h.primary
        result = pgbench.run_pgbench(
            sql(conn, h),
            port=getattr(h.stack.ports, server),
            password=h.stack.passwords["todo"],
            duration=duration,
            workdir=ctx.workdir,
            name=f"pgbench-{server}",
        )
        return {
            "requests": result.transactions,
            "rps": round(result.tps, 1),
            "latency_ms": {"mean": result.latency_ms},
            "errors": 0,
        }

    return run


def _pg(name: str, describe: str, server: str, sql: Callable[[object, Harness], str]) -> Scenario:
    """pgbench of one statement on ``server`` (-c16 -j2), watching that server alone."""
    return Scenario(name, f"pgbench: {describe}, {server}", (server,), _pgbench(server, sql))


def _ryw(h: Harness, ctx: Context, duration: float) -> dict:
    result = ryw.run(
        h.url("writer"),
        h.url("reader"),
        headers=h.service_headers(),
        list_id=h.person.list_id,
        duration=duration,
        reader_metrics_url=h.stack.metrics_url("reader"),
    )
    return {
        "requests": result["pairs"],
        "rps": None,
        "latency_ms": result["with_lsn"],
        "errors": result["errors"],
        "ryw": result,
    }


def _page_sql(conn, h: Harness, known_version: str | None = None) -> str:
    person = h.person
    return pgbench.reader_page_sql(
        conn,
        account=person.account_id,
        generation=person.generation,
        list_id=person.list_id,
        limit=250,
        known_version=known_version,
    )


def _kept_page_sql(conn, h: Harness) -> str:
    """What the reader runs for a page it keeps (``KEPT_PAGE_SQL``), handed the items
    version the page query itself reports (its header row, the first)."""
    with conn.cursor() as cur:
        cur.execute(_page_sql(conn, h))
        header = dict(zip((column.name for column in cur.description), cur.fetchone(), strict=True))
    return _page_sql(conn, h, known_version=header["items_version"])


def _plain_sql(conn, h: Harness) -> str:
    return pgbench.plain_page_sql(conn, list_id=h.person.list_id)


def _plain_json_sql(conn, h: Harness) -> str:
    return pgbench.plain_json_sql(conn, list_id=h.person.list_id)


def _insert_sql(conn, h: Harness) -> str:
    return pgbench.writer_insert_sql(
        conn, account=h.person.account_id, list_id=h.person.list_id, max_items=h.config.max_items_per_list
    )


ORIGINAL = ("original", "primary")

# -- the list page: the stack (returning browser, first visit) and the original ------
PAGE250 = Scenario(
    "page250",
    "list page, 250 items, returning browser (its cookie with a CSRF token): frontend -> reader -> replica",
    READ_PATH,
    _wrk("frontend"),
)
FIRST_VISIT = Scenario(
    "first_visit",
    "list page, 250 items, first page of a new session right after log-in (no CSRF token yet)",
    READ_PATH,
    _wrk("frontend", session=False, first_visit=True),
)
ORIGINAL_PAGE250 = Scenario(
    "original_page250",
    "the original app as shipped: 250 items in its markup, Flask-SQLAlchemy, the primary",
    ORIGINAL,
    _wrk("original", path="/", session=False),
)
PAGE250_C64 = Scenario("page250_c64", "page250 with wrk -c64", READ_PATH, _wrk("frontend", connections=64))
FIRST_VISIT_C64 = Scenario(
    "first_visit_c64",
    "first_visit with wrk -c64",
    READ_PATH,
    _wrk("frontend", session=False, first_visit=True, connections=64),
)
ORIGINAL_PAGE250_C64 = Scenario(
    "original_page250_c64",
    "original_page250 with wrk -c64",
    ORIGINAL,
    _wrk("original", path="/", session=False, connections=64),
)
# -- the keyset check: two lists in the same database, interleaved ----------------------
PAGE_MID = Scenario(
    "page250_mid",
    "list page, 250 items from the middle of the bench person's 1,000-row list (keyset)",
    READ_PATH,
    _wrk("frontend", path="{page}?after={mid}"),
)
PAGE_MID_BIG = Scenario(
    "page250_mid_big",
    "list page, 250 items from the middle of the neighbour's 1,000,000-row list (their cookie)",
    READ_PATH,
    _wrk("frontend", path="{page}?after={big_mid}", who="neighbour"),
)
# -- the APIs against PostgreSQL's own limit ----------------------------------------------
READER_API = Scenario(
    "reader_api",
    "reader GET /v1/todos?list=&limit=250&with_lists=true (JSON, service token): what the page asks",
    ("reader", "replica"),
    _wrk("reader", path="/v1/todos?list={list}&limit=250&with_lists=true", session=False, service=True),
)
PG_PLAIN_READ = _pg(
    "pgbench_plain", "plain SELECT id, name, completed, position of the list's first 250 rows", "replica", _plain_sql
)
PG_PLAIN_JSON = _pg(
    "pgbench_plain_json", "the same 250 rows as one json_agg text (what JSON costs)", "replica", _plain_json_sql
)
PG_READ = _pg(
    "pgbench_read",
    "the reader's own page query (PAGE_SQL: list, 250 rows, counts, lists), for a page the reader does not keep",
    "replica",
    _page_sql,
)
PG_READ_KEPT = _pg(
    "pgbench_read_kept",
    "the reader's check of a page it keeps (KEPT_PAGE_SQL: the header row, the items version unchanged)",
    "replica",
    _kept_page_sql,
)
WRITER_API = Scenario(
    "writer_api",
    "writer POST /v1/todos (JSON, service token), into the bench person's list",
    ("writer", "primary"),
    _wrk("writer", "post_json", "/v1/todos", session=False, service=True),
)
PG_INSERT = _pg(
    "pgbench_insert", "the writer's INSERT (INSERT_SQL) into the bench person's list", "primary", _insert_sql
)
# -- add, then land on the page -------------------------------------------------------------
ADD_FLOW = Scenario(
    "add_flow",
    "add form POST (303) + the page it lands on, with the cookie the POST set (its LSN)",
    STACK,
    _wrk("frontend", "add_flow", "{page}/todos"),
)
ORIGINAL_ADD_FLOW = Scenario(
    "original_add_flow",
    "the original: add form POST /add (302) + the page it redirects to",
    ORIGINAL,
    _wrk("original", "add_flow", "/add", session=False, get_path="/"),
)
RYW = Scenario("ryw", "write, then read at once with / without X-Min-LSN (service token)", STACK, _ryw)

# -- information only, run with --only --------------------------------------------------------
LEAN_PAGE250 = Scenario(
    "lean_page250",
    "lean reference (Flask + psycopg2, the frontend's template), 250 items, same session",
    ("lean", "replica"),
    _wrk("lean"),
)
ORM_PAGE250 = Scenario(
    "orm_page250",
    "ORM reference (Flask-SQLAlchemy, the frontend's template), 250 items, same session",
    ("orm", "replica"),
    _wrk("orm"),
)
PAGE10 = Scenario(
    "page10", "list page, 10 items (completed view)", READ_PATH, _wrk("frontend", path="{page}?status=completed")
)
LEAN_PAGE10 = Scenario(
    "lean_page10", "lean reference, 10 items", ("lean", "replica"), _wrk("lean", path="{page}?status=completed")
)
ORM_PAGE10 = Scenario(
    "orm_page10", "ORM reference, 10 items", ("orm", "replica"), _wrk("orm", path="{page}?status=completed")
)
ADD = Scenario(
    "add_post",
    "add form POST (303): frontend -> writer -> primary",
    ("frontend", "writer", "primary"),
    _wrk("frontend", "post_form", "{page}/todos"),
)
ORIGINAL_ADD = Scenario(
    "original_add_post",
    "the original: add form POST (302)",
    ORIGINAL,
    _wrk("original", "post_form", "/add", session=False),
)
LEAN_ADD = Scenario(
    "lean_add_post", "lean reference, add form POST", ("lean", "primary"), _wrk("lean", "post_form", "{page}/todos")
)
ORM_ADD = Scenario(
    "orm_add_post", "ORM reference, add form POST", ("orm", "primary"), _wrk("orm", "post_form", "{page}/todos")
)
HELLO = Scenario(
    "hello",
    "Flask hello route on the original (calibration)",
    ("original",),
    _wrk("original", path="/hello", session=False),
)
# What one request costs a service before any work (no database, no token): its
# server, Flask and the per-request hooks (request log, metrics, headers).
HEALTHZ = [
    Scenario(
        f"healthz_{service}",
        f"{service} GET /healthz (calibration)",
        (service,),
        _wrk(service, path="/healthz", session=False),
    )
    for service in ("frontend", "reader", "writer")
]

# One round: groups of compared scenarios (reads first, then writes); the rows written
# in a round are deleted after it. Every other round runs each group backwards.
ROUND = [
    [PAGE250, FIRST_VISIT, ORIGINAL_PAGE250],
    [PAGE250_C64, FIRST_VISIT_C64, ORIGINAL_PAGE250_C64],
    [PAGE_MID, PAGE_MID_BIG],
    [READER_API, PG_PLAIN_READ, PG_PLAIN_JSON, PG_READ, PG_READ_KEPT],
    [WRITER_API, PG_INSERT],
    [ADD_FLOW, ORIGINAL_ADD_FLOW],
    [RYW],
]
# Not run unless named with --only (information; the lean and ORM references start
# only for these).
EXTRA = [
    [LEAN_PAGE250, ORM_PAGE250],
    [PAGE10, LEAN_PAGE10, ORM_PAGE10],
    [ADD, ORIGINAL_ADD, LEAN_ADD, ORM_ADD],
    [HELLO, *HEALTHZ],
]
ALL = [sc for group in ROUND + EXTRA for sc in group]
# Warm every server up (imports, template compile, connections, the big list's pages
# in the cache) before anything counts.
WARMUP = [PAGE250, ORIGINAL_PAGE250, READER_API, PAGE_MID_BIG, LEAN_PAGE250, ORM_PAGE250]


def plan(only: set[str] | None) -> list[list[Scenario]]:
    """The groups to run: the default round, or every group's scenarios named in ``only``."""
    if only is None:
        return ROUND
    unknown = only - {sc.name for sc in ALL}
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}")
    groups = [[sc for sc in group if sc.name in only] for group in ROUND + EXTRA]
    return [group for group in groups if group]
