"""The scenarios: what is loaded, through which door, and which processes to watch.
Everything is done as the bench person: pages with their logged-in browser's cookie,
reader and writer calls with a service token for them, all on their list.

Every HTTP scenario is wrk -t2 -c16 (as the quoted reference figures were taken) from outside
the Python processes. A round runs each scenario once, the stack and the references
interleaved, so drift on this shared machine hits them alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import pgbench, ryw
from .harness import Harness
from .load import run_wrk

STACK = ("frontend", "reader", "writer", "primary", "replica")
READ_PATH = ("frontend", "reader", "replica")


@dataclass
class Context:
    """Facts about the loaded data that paths depend on."""

    rows: int
    mid_after: int  # a keyset page from the middle of the bench person's list
    workdir: str


@dataclass
class Scenario:
    name: str
    describe: str
    watch: tuple[str, ...]
    run: Callable[[Harness, Context, float], dict]


def _path(template: str, h: Harness, ctx: Context) -> str:
    """``{page}``: the bench person's list page; ``{list}``: its id; ``{mid}``: the keyset
    ``after`` of the page half-way down the list."""
    return template.format(page=h.list_path, list=h.person.list_id, mid=ctx.mid_after)


def _wrk(target: str, mode: str = "get", path: str = "{page}", *, session: bool = True, service: bool = False):
    """wrk against ``target``. With ``session`` every request carries the session cookie of
    the bench person's logged-in browser after it loaded their list page once (as a
    returning user's would), and form posts its CSRF token. With ``service`` every
    request carries a service token for the bench person, minted for this run (the
    reader and the writer accept nothing else). With neither, an anonymous request."""

    def run(h: Harness, ctx: Context, duration: float) -> dict:
        cookie, token = h.session(target) if session else ("", "")
        authorization = h.service_headers()["Authorization"] if service else ""
        result = run_wrk(
            h.url(target),
            mode=mode,
            path=_path(path, h, ctx),
            duration=duration,
            cookie=cookie,
            token=token,
            authorization=authorization,
            get_path=h.list_path,
        )
        record = {
            "requests": result.requests,
            "rps": round(result.rps, 1),
            "latency_ms": {k: round(v, 3) for k, v in result.latency_ms.items()},
            "errors": result.error_count,
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


def _page_sql(conn, h: Harness) -> str:
    return pgbench.reader_page_sql(conn, account=h.person.account_id, list_id=h.person.list_id, limit=250)


def _plain_sql(conn, h: Harness) -> str:
    return pgbench.plain_page_sql(conn, list_id=h.person.list_id)


def _insert_sql(conn, h: Harness) -> str:
    return pgbench.writer_insert_sql(
        conn, account=h.person.account_id, list_id=h.person.list_id, max_items=h.config.max_items_per_list
    )


PAGE250 = Scenario(
    "page250", "list page, 250 items: frontend -> reader -> replica, logged in", READ_PATH, _wrk("frontend")
)
LEAN_PAGE250 = Scenario(
    "lean_page250", "lean reference (Flask + psycopg2), 250 items, same session", ("lean", "replica"), _wrk("lean")
)
ORM_PAGE250 = Scenario(
    "orm_page250", "ORM reference (Flask-SQLAlchemy), 250 items, same session", ("orm", "replica"), _wrk("orm")
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
LEAN_ADD = Scenario(
    "lean_add_post",
    "lean reference, add form POST",
    ("lean", "primary"),
    _wrk("lean", "post_form", "{page}/todos"),
)
ORM_ADD = Scenario(
    "orm_add_post", "ORM reference, add form POST", ("orm", "primary"), _wrk("orm", "post_form", "{page}/todos")
)
ADD_FLOW = Scenario(
    "add_flow",
    "add POST + the page it lands on (session LSN -> reader waits)",
    STACK,
    _wrk("frontend", "add_flow", "{page}/todos"),
)
READER_API = Scenario(
    "reader_api",
    "reader GET /v1/todos?list=&limit=250&with_lists=true (JSON, service token): what the page asks",
    ("reader", "replica"),
    _wrk("reader", path="/v1/todos?list={list}&limit=250&with_lists=true", session=False, service=True),
)
PG_READ = Scenario(
    "pgbench_read",
    "pgbench: the reader's page query (PAGE_SQL), 250 rows of the list + its lists, replica",
    ("replica",),
    _pgbench("replica", _page_sql),
)
WRITER_API = Scenario(
    "writer_api",
    "writer POST /v1/todos (JSON, service token), into the bench person's list",
    ("writer", "primary"),
    _wrk("writer", "post_json", "/v1/todos", session=False, service=True),
)
PG_PLAIN_READ = Scenario(
    "pgbench_plain",
    "pgbench: plain SELECT of the same 250 rows (no JSON), replica - the form of the quoted 22,700 TPS",
    ("replica",),
    _pgbench("replica", _plain_sql),
)
PG_INSERT = Scenario(
    "pgbench_insert",
    "pgbench: the writer's INSERT (INSERT_SQL) into the bench person's list, primary",
    ("primary",),
    _pgbench("primary", _insert_sql),
)
PAGE_MID = Scenario(
    "page250_mid",
    "list page, 250 items from the middle of the list (keyset)",
    READ_PATH,
    _wrk("frontend", path="{page}?after={mid}"),
)
HELLO = Scenario(
    "hello", "Flask hello route (lean reference, calibration)", ("lean",), _wrk("lean", path="/hello", session=False)
)
RYW = Scenario("ryw", "write, then read at once with / without X-Min-LSN (service token)", STACK, _ryw)

# One round at the small data size; writes are undone after each round.
ROUND = [
    PAGE250, LEAN_PAGE250, ORM_PAGE250,
    PAGE10, LEAN_PAGE10, ORM_PAGE10,
    READER_API, PG_READ, PG_PLAIN_READ,
    WRITER_API, PG_INSERT,
    ADD, LEAN_ADD, ORM_ADD, ADD_FLOW,
    PAGE_MID, HELLO, RYW,
]  # fmt: skip
# One round at the big data size (the keyset check), with the first page and the lean
# reference alongside: the reference's change from small to big shows the machine's drift.
BIG_ROUND = [PAGE_MID, PAGE250, LEAN_PAGE250]
# Warm every server up (imports, template compile, connections) before anything counts.
WARMUP = [PAGE250, LEAN_PAGE250, ORM_PAGE250, READER_API, HELLO]
