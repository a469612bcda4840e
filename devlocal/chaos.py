"""`make chaos`: people use the app while its parts are killed, then the history is
checked against the database.

N simulated people (threads, 127.0.0.1 only) sign up through the pages, get an API
token, and for T seconds add, toggle, rename, delete and read their items, half
through the HTML forms and half through the public API, always with an idempotency
key (the add form's hidden key, the API's Idempotency-Key). Meanwhile, one at a time,
the replica, the reader, the writer, a frontend worker and the frontend itself are
killed with SIGKILL and started again (through ``devlocal.Stack``), and the primary is
restarted. Every request and its answer is recorded. A person repeats a change whose
outcome is unknown (502/504, a dropped connection) with the same key until it is
answered, as the API documents.

Afterwards the history is checked against the primary:
- lost: a change answered as done that is not in the database;
- duplicated: a create that made more than one row;
- misreported: a change answered as failed (every attempt) that is in the database;
- read-your-writes: a person's read that did not show their own confirmed changes;
- 5xx outside a fault window (a fault's window ends 5 s after the service is back);
- recovery: each service answers again within 5 s after its fault ends.

It prints the figures, writes the history (JSON lines) and a timeline plot, and exits
non-zero when a check fails. ``python -m devlocal.chaos --help`` lists the knobs.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter, defaultdict
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path

import requests

from .stack import REPO, Stack, free_ports

RECOVERY_BOUND = 5.0  # seconds a service may take to answer again after its fault ends
# How long a change's acknowledgement may precede its showing in a read the API does not
# promise it to: the replica catching up after a fault (its reconnect alone takes up to 5 s).
CATCH_UP_GRACE = 10.0
TIMEOUT = 10  # per request, seconds
MAX_ITEMS = 30  # per person, so one page (PAGE_SIZE 100) shows them all
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_FORM_KEY = re.compile(r'name="form_key" value="([^"]+)"')
_LIST = re.compile(r'action="/lists/(\d+)/todos"')
_ITEM = re.compile(r'<li class="todo( completed)?" id="todo-(\d+)">.*?<span class="name">(.*?)</span>', re.S)


# -- the history --------------------------------------------------------------------------


@dataclass
class Attempt:
    """One HTTP request a person made, and what it was told."""

    t0: float
    t1: float
    person: int
    channel: str  # page | api
    op: str  # add | toggle | rename | delete | read | signup | token
    op_id: str  # one logical change; its attempts share it (and its idempotency key)
    status: int  # 0: no answer (the connection dropped or timed out)
    outcome: str  # ok | failed | unknown
    item: str = ""  # the item's create name (stable across renames)
    detail: str = ""
    unconfirmed: bool = False


class History:
    def __init__(self, started: float):
        self.started = started
        self.attempts: list[Attempt] = []
        self.faults: list[dict] = []
        self._lock = threading.Lock()

    def add(self, attempt: Attempt) -> None:
        with self._lock:
            self.attempts.append(attempt)

    def now(self) -> float:
        return time.monotonic() - self.started


def classify(method: str, status: int) -> str:
    """ok | failed (certainly not applied) | unknown, as the API documents."""
    if status == 0:
        return "unknown" if method != "GET" else "failed"
    if status < 400:
        return "ok"
    if method != "GET" and status in (500, 502, 504):
        return "unknown"
    return "failed"


# -- one person -------------------------------------------------------------------------------


@dataclass
class Item:
    """What a person knows of one of their items, from the answers they got."""

    key: str  # the create's name, e.g. "p3-17."; renames append to it, so rows trace back
    name: str
    completed: bool = False
    id: int | None = None
    exists: str = "yes"  # yes | no (deleted, or never made) | maybe (an outcome stayed unknown)
    never_made: bool = False  # every attempt of its create was refused
    unsure: set[str] = field(default_factory=set)  # fields a later unknown change may have set
    # Until when (monotonic seconds) a read through a channel may not show the last change
    # yet: what the API promises (see acknowledged()).
    excused_until: dict[str, float] = field(default_factory=dict)
    renames: int = 0


@dataclass
class Violation:
    kind: str
    person: int
    detail: str
    at: float


class Person(threading.Thread):
    def __init__(self, index: int, base_url: str, history: History, until: float, seed: int):
        super().__init__(name=f"person-{index}", daemon=True)
        self.index = index
        self.base = base_url
        self.history = history
        self.until = until
        self.rng = random.Random(seed)  # noqa: S311 - a reproducible mix of actions, not a secret
        self.http = requests.Session()
        self.api = requests.Session()  # no cookies go with API calls
        self.username = f"chaos-{index}-{uuid.uuid4().hex[:6]}"
        self.password = "a long enough password"
        self.items: dict[str, Item] = {}
        self.serial = 0
        self.csrf = ""
        self.form_key = ""
        self.list_id = 0
        self.api_root = ""
        self.violations: list[Violation] = []
        self.ops: list[dict] = []  # one per logical change: its kind, item and final outcome

    # -- HTTP with a record of every attempt ---------------------------------------------
    def _send(self, method: str, url: str, channel: str, op: str, op_id: str, item: str = "", **kwargs):
        session = self.api if channel == "api" else self.http
        t0 = self.history.now()
        try:
            response = session.request(method, url, timeout=TIMEOUT, allow_redirects=False, **kwargs)
            status, detail = response.status_code, ""
        except requests.RequestException as exc:
            response, status, detail = None, 0, type(exc).__name__
        outcome = classify(method, status)
        if outcome == "ok" and status == 303 and "/login" in response.headers.get("Location", ""):
            outcome, detail = "failed", "sent to log in"
        unconfirmed = response is not None and response.headers.get("X-Read-Your-Writes") == "unconfirmed"
        if response is not None and outcome != "ok":
            detail = response.text[:160] if channel == "api" else _page_error(response.text)
        self.history.add(
            Attempt(t0, self.history.now(), self.index, channel, op, op_id, status, outcome, item, detail, unconfirmed)
        )
        return response, outcome

    def _change(self, method: str, url: str, channel: str, op: str, item: str = "", **kwargs):
        """Send a change until it is answered (bounded): a 503 (nothing applied) or an
        unknown outcome is sent again with the same key. Returns (response, final
        outcome, attempts' outcomes)."""
        op_id = uuid.uuid4().hex
        outcomes = []
        deadline = time.monotonic() + 20
        while True:
            response, outcome = self._send(method, url, channel, op, op_id, item, **kwargs)
            outcomes.append(outcome)
            self._take_form_key(response)
            retry = outcome == "unknown" or (response is not None and response.status_code == 503)
            if not retry or time.monotonic() > deadline or time.monotonic() > self.until + 15:
                break
            time.sleep(0.2)
        final = "ok" if outcome == "ok" else ("unknown" if "unknown" in outcomes else "failed")
        deleted_before = response is not None and response.status_code == 404 and "unknown" in outcomes
        if op == "delete" and final != "ok" and deleted_before:  # the unanswered attempt deleted it
            final = "ok"
        self.ops.append({"op": op, "item": item, "final": final, "outcomes": outcomes, "channel": channel})
        return response, final

    # -- sign-up and the first page ------------------------------------------------------------
    def sign_up(self) -> bool:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            page, _ = self._send("GET", self.base + "/signup", "page", "read", "signup-page")
            if page is not None and page.status_code == 200:
                self.csrf = _CSRF.search(page.text).group(1)
                form = {"username": self.username, "password": self.password, "csrf_token": self.csrf}
                answer, outcome = self._send("POST", self.base + "/signup", "page", "signup", "signup", data=form)
                if outcome == "ok" or (answer is not None and answer.status_code == 409):  # taken: by our first try
                    if answer.status_code == 409:
                        self._send("POST", self.base + "/login", "page", "signup", "login", data=form)
                    if self._read_page():
                        token, _ = self._send(
                            "POST",
                            self.base + "/api/tokens",
                            "api",
                            "token",
                            "token",
                            auth=(self.username, self.password),
                        )
                        if token is not None and token.status_code == 201:
                            self.api_root = token.json()["api_root"]
                            return True
            time.sleep(0.3)
        return False

    def _take_form_key(self, page) -> None:
        """A person adds with the form of the page in front of them, error pages too."""
        match = _FORM_KEY.search(page.text) if page is not None and channel_is_page(page) else None
        if match:
            self.form_key = match.group(1)

    def _read_page(self) -> bool:
        path = f"/lists/{self.list_id}" if self.list_id else "/"
        page, _ = self._send("GET", self.base + path, "page", "read", "read")
        self._take_form_key(page)
        if page is None or page.status_code != 200:
            return False
        match = _CSRF.search(page.text)
        if match is None:  # a log-in page: the session is gone
            return False
        self.csrf = match.group(1)
        self.list_id = int(_LIST.search(page.text).group(1))
        shown = {int(i): (html.unescape(name), bool(done)) for done, i, name in _ITEM.findall(page.text)}
        self._check_read(shown, "page")
        return True

    def _read_api(self) -> bool:
        answer, _ = self._send("GET", self.api_root, "api", "read", "read")
        if answer is None or answer.status_code != 200:
            return False
        shown = {todo["id"]: (todo["title"], todo["completed"]) for todo in answer.json()}
        self._check_read(shown, "api")
        return True

    def _check_read(self, shown: dict[int, tuple[str, bool]], channel: str) -> None:
        """Every change of ours that was answered done (and not marked unconfirmed) must
        be in this read: read-your-writes."""
        by_name = {name: todo_id for todo_id, (name, _) in shown.items()}
        for item in self.items.values():
            if item.id is None and item.name in by_name and not item.never_made:
                item.id = by_name[item.name]
                if item.exists == "maybe" and not item.renames:  # an unknown create did happen
                    item.exists = "yes"
            if item.exists == "maybe":
                continue
            if item.exists == "no":
                shows = (item.id is not None and item.id in shown) or (item.never_made and item.name in by_name)
                if shows and time.monotonic() >= item.excused_until.get(channel, 0.0):
                    self._violate("read-your-writes", f"{channel} read shows {item.key}, which is gone or never made")
                continue
            expected = (item.name, item.completed)
            if item.id is not None and item.id in shown and shown[item.id] == expected:
                continue
            if item.unsure or time.monotonic() < item.excused_until.get(channel, 0.0):
                continue  # a later change's outcome is unknown, or the read is not promised it yet
            if item.id is None or item.id not in shown:
                self._violate("read-your-writes", f"{channel} read lacks {item.key} ({item.name!r})")
            else:
                self._violate(
                    "read-your-writes", f"{channel} read shows {shown[item.id]} for {item.key}, not {expected}"
                )

    def _violate(self, kind: str, detail: str) -> None:
        self.violations.append(Violation(kind, self.index, detail, self.history.now()))

    # -- the changes ---------------------------------------------------------------------------
    def _live(self) -> list[Item]:
        return [i for i in self.items.values() if i.exists == "yes" and i.id is not None]

    def add(self, channel: str) -> None:
        self.serial += 1
        key = f"p{self.index}-{self.serial}."
        item = Item(key=key, name=key)
        self.items[key] = item
        if channel == "page":
            form = {"name": key, "csrf_token": self.csrf, "form_key": self.form_key}
            answer, final = self._change(
                "POST", f"{self.base}/lists/{self.list_id}/todos", "page", "add", key, data=form
            )
            if final == "ok":
                self._read_page()  # the browser follows the redirect; it must show the item
        else:
            headers = {"Idempotency-Key": uuid.uuid4().hex}
            answer, final = self._change("POST", self.api_root, "api", "add", key, json={"title": key}, headers=headers)
            if final == "ok":
                item.id = answer.json()["id"]
        if final == "ok":
            acknowledged(item, channel, answer)
        if final == "failed":
            item.exists, item.never_made = "no", True  # in no read and not in the database
        elif final == "unknown":
            item.exists = "maybe"

    def change(self, channel: str, op: str) -> None:
        live = self._live()
        if not live:
            return
        item = self.rng.choice(live)
        if op == "toggle":
            completed = not item.completed
            if channel == "page":
                body = {"completed": "true" if completed else "false", "csrf_token": self.csrf}
                url = f"{self.base}/todos/{item.id}/toggle"
                answer, final = self._change("POST", url, "page", op, item.key, data=body)
            else:
                url = f"{self.api_root}/{item.id}"
                answer, final = self._change("PATCH", url, "api", op, item.key, json={"completed": completed})
            new = {"completed": completed}
        elif op == "rename":
            name = f"{item.key}r{item.renames + 1}"
            if channel == "page":
                body = {"name": name, "csrf_token": self.csrf}
                answer, final = self._change(
                    "POST", f"{self.base}/todos/{item.id}/rename", "page", op, item.key, data=body
                )
            else:
                answer, final = self._change(
                    "PATCH", f"{self.api_root}/{item.id}", "api", op, item.key, json={"title": name}
                )
            new = {"name": name}
            item.renames += 1
        else:  # delete
            if channel == "page":
                body = {"csrf_token": self.csrf}
                url = f"{self.base}/todos/{item.id}/delete"
                answer, final = self._change("POST", url, "page", op, item.key, data=body)
            else:
                answer, final = self._change("DELETE", f"{self.api_root}/{item.id}", "api", op, item.key)
            item.exists = {"ok": "no", "unknown": "maybe"}.get(final, item.exists)
            if final == "ok":
                acknowledged(item, channel, answer)
            self._after_change(channel, final)
            return
        self.ops[-1]["value"] = new
        if final == "ok":
            # A change sets a value outright: once done, that field is certain again.
            for name, value in new.items():
                setattr(item, name, value)
                item.unsure.discard(name)
            acknowledged(item, channel, answer)
        elif final == "unknown":
            item.unsure.update(new)  # the database may hold this or the value before
        self._after_change(channel, final)

    def _after_change(self, channel: str, final: str) -> None:
        if channel == "page" and final == "ok":
            self._read_page()  # the redirect's page

    def run(self) -> None:
        if not self.sign_up():
            self._violate("setup", "could not sign up within 30 s")
            return
        while time.monotonic() < self.until:
            channel = self.rng.choice(("page", "api"))
            live = len(self._live())
            roll = self.rng.random()
            if live < 3 or (roll < 0.3 and live < MAX_ITEMS):
                self.add(channel)
            elif roll < 0.5:
                self.change(channel, "toggle")
            elif roll < 0.65:
                self.change(channel, "rename")
            elif roll < 0.8 or live >= MAX_ITEMS:
                self.change(channel, "delete")
            elif channel == "page":
                self._read_page()
            else:
                self._read_api()
            time.sleep(self.rng.uniform(0.01, 0.05))


def acknowledged(item: Item, channel: str, answer) -> None:
    """Which reads the API promises a done change to, at once (read-your-writes):
    - through the pages: the next page (the session carries the write's LSN); an API
      read carries no LSN of it, so it may lag behind for a moment;
    - through the API, confirmed (the replica had it when it was answered): every read;
    - through the API, X-Read-Your-Writes: unconfirmed: no read at once.
    """
    until = time.monotonic() + CATCH_UP_GRACE
    unconfirmed = answer is not None and answer.headers.get("X-Read-Your-Writes") == "unconfirmed"
    item.excused_until = {}
    if channel == "page":
        item.excused_until["api"] = until
    elif unconfirmed:
        item.excused_until = {"api": until, "page": until}


def channel_is_page(response) -> bool:
    return response.headers.get("Content-Type", "").startswith("text/html")


def _page_error(text: str) -> str:
    match = re.search(r'role="alert"[^>]*>(.*?)</p>', text, re.S) or re.search(r"<p[^>]*>(.*?)</p>", text, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()[:160] if match else ""


# -- the faults -----------------------------------------------------------------------------------


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own http URL
            body = response.read()
            return response.status == 200 and b'"degraded"' not in body
    except OSError:
        return False


class Faults(threading.Thread):
    """One fault at a time: break a part, keep it down a moment, start it again, and
    time how long until it answers again."""

    def __init__(self, stack: Stack, history: History, start_at: float, until: float, down_for: float):
        super().__init__(name="faults", daemon=True)
        self.stack = stack
        self.history = history
        self.start_at = start_at
        self.until = until
        self.down_for = down_for
        self.error: BaseException | None = None

    def plan(self):
        stack = self.stack
        reader_ready = stack.url("reader") + "/readyz"
        return [
            ("replica kill -9", stack.cluster.replica.kill, stack.cluster.replica.start, reader_ready),
            (
                "reader kill -9",
                lambda: stack.kill_service("reader"),
                lambda: stack.start_service("reader"),
                reader_ready,
            ),
            (
                "writer kill -9",
                lambda: stack.kill_service("writer"),
                lambda: stack.start_service("writer"),
                stack.url("writer") + "/readyz",
            ),
            (
                "frontend worker kill -9",
                lambda: stack.kill_worker("frontend"),
                lambda: None,
                stack.frontend_url + "/readyz",
            ),
            (
                "frontend kill -9",
                lambda: stack.kill_service("frontend"),
                lambda: stack.start_service("frontend"),
                stack.frontend_url + "/readyz",
            ),
            (
                "primary restart",
                lambda: stack.cluster.primary.stop(mode="fast"),
                stack.cluster.primary.start,
                stack.url("writer") + "/readyz",
            ),
        ]

    def run(self) -> None:
        try:
            plan = self.plan()
            slot = (self.until - self.start_at) / len(plan)
            for number, (name, breaks, restarts, probe) in enumerate(plan):
                begin = self.start_at + number * slot
                time.sleep(max(0.0, begin - time.monotonic()))
                started = self.history.now()
                breaks()
                time.sleep(self.down_for)
                restarts()
                ended = self.history.now()
                while not _answers(probe) and self.history.now() - ended < 30:
                    time.sleep(0.05)
                back = self.history.now()
                self.history.faults.append(
                    {"name": name, "start": started, "end": ended, "back": back, "recovery": back - ended}
                )
        except BaseException as exc:  # reported by the main thread
            self.error = exc


# -- the checks -------------------------------------------------------------------------------------


def check(stack: Stack, people: list[Person], history: History) -> dict:
    violations: list[Violation] = [v for person in people for v in person.violations]
    with closing(stack.cluster.superuser_connection()) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT a.username, t.id, t.name, t.completed FROM todo_list t"
            " JOIN todo_lists l ON l.id = t.list_id JOIN accounts a ON a.id = l.account_id"
            " WHERE a.username LIKE 'chaos-%%'"
        )
        rows = cur.fetchall()
    by_person: dict[str, list[tuple[int, str, bool]]] = defaultdict(list)
    for username, todo_id, name, completed in rows:
        by_person[username].append((todo_id, name, completed))
    lost = duplicated = misreported = 0
    for person in people:
        stored = by_person.get(person.username, [])
        per_key = Counter(name.split(".", 1)[0] + "." for _, name, _ in stored)
        duplicated += sum(count - 1 for count in per_key.values() if count > 1)
        for key, count in per_key.items():
            if count > 1:
                violations.append(Violation("duplicate", person.index, f"{key} has {count} rows", history.now()))
        rows_by_key = {name.split(".", 1)[0] + ".": (todo_id, name, completed) for todo_id, name, completed in stored}
        stored_names = {name for _, name, _ in stored}

        def violate(kind: str, detail: str, person=person) -> None:
            violations.append(Violation(kind, person.index, detail, history.now()))

        for item in person.items.values():
            row = rows_by_key.get(item.key)
            if item.never_made:
                if row is not None:
                    misreported += 1
                    violate("misreported", f"create of {item.key} answered refused every time, but stored")
            elif item.exists == "no":
                if row is not None:
                    lost += 1
                    violate("lost", f"delete of {item.key} answered done, but the row is there")
            elif item.exists == "yes":
                if row is None:
                    lost += 1
                    violate("lost", f"{item.key} answered done, not stored")
                    continue
                for field_name, stored_value in (("name", row[1]), ("completed", row[2])):
                    if field_name not in item.unsure and stored_value != getattr(item, field_name):
                        lost += 1
                        violate(
                            "lost",
                            f"{item.key}: {field_name} stored {stored_value!r}, answered {getattr(item, field_name)!r}",
                        )
        # A rename refused on every attempt: its (unique) name must not be stored.
        for op in person.ops:
            if op["op"] == "rename" and op["final"] == "failed" and op["value"]["name"] in stored_names:
                misreported += 1
                violate("misreported", f"rename to {op['value']['name']} answered refused, but stored")
    # 5xx outside the fault windows, and recovery times.
    windows = [(f["start"], f["back"] + RECOVERY_BOUND) for f in history.faults]
    outside = [
        a
        for a in history.attempts
        if (a.status >= 500 or a.status == 0) and not any(lo <= a.t1 and a.t0 <= hi for lo, hi in windows)
    ]
    for attempt in outside:
        violations.append(
            Violation(
                "5xx or no answer outside a fault",
                attempt.person,
                f"{attempt.channel} {attempt.op} {attempt.status} at {attempt.t0:.1f}s: {attempt.detail}",
                attempt.t0,
            )
        )
    slow = [f for f in history.faults if f["recovery"] >= RECOVERY_BOUND]
    for fault in slow:
        violations.append(Violation("slow recovery", -1, f"{fault['name']}: {fault['recovery']:.1f} s", fault["back"]))
    changes = [op for person in people for op in person.ops]
    outcomes = Counter(a.outcome for a in history.attempts)
    figures = {
        "people": len(people),
        "requests": len(history.attempts),
        "changes": len(changes),
        "changes_done": sum(op["final"] == "ok" for op in changes),
        "changes_failed": sum(op["final"] == "failed" for op in changes),
        "changes_unknown_at_the_end": sum(op["final"] == "unknown" for op in changes),
        "answers_unknown_then_retried": outcomes["unknown"],
        "reads": sum(a.op == "read" and a.outcome == "ok" for a in history.attempts),
        "answers_5xx": sum(a.status >= 500 for a in history.attempts),
        "answers_5xx_outside_faults": len(outside),
        "no_answer": sum(a.status == 0 for a in history.attempts),
        "lost": lost,
        "duplicated": duplicated,
        "misreported": misreported,
        "read_your_writes_violations": sum(v.kind == "read-your-writes" for v in violations),
        "faults": history.faults,
        "max_recovery_seconds": round(max((f["recovery"] for f in history.faults), default=0.0), 2),
    }
    return {"figures": figures, "violations": [asdict(v) for v in violations]}


# -- the plot -----------------------------------------------------------------------------------------


def plot(history: History, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    end = max((a.t1 for a in history.attempts), default=1.0)
    seconds = int(end) + 1
    ok, errors, unknown = [0] * seconds, [0] * seconds, [0] * seconds
    for a in history.attempts:
        second = min(int(a.t1), seconds - 1)
        if a.outcome == "ok":
            ok[second] += 1
        elif a.status >= 500 or a.status == 0:
            (unknown if a.outcome == "unknown" else errors)[second] += 1
    fig, ax = plt.subplots(figsize=(11, 4.2))
    ax.plot(range(seconds), ok, label="answered ok /s", color="tab:green")
    ax.plot(range(seconds), errors, label="5xx or no answer, nothing applied /s", color="tab:red")
    ax.plot(range(seconds), unknown, label="outcome unknown (retried with its key) /s", color="tab:orange")
    top = max([*ok, 1])
    for fault in history.faults:
        ax.axvspan(fault["start"], fault["back"], color="tab:gray", alpha=0.25)
        ax.text(fault["start"], top * 1.02, fault["name"], fontsize=7, rotation=20, va="bottom")
    ax.set_xlabel("seconds")
    ax.set_ylabel("requests per second")
    ax.set_ylim(0, top * 1.3)
    ax.set_title("make chaos: requests per second while parts are killed (grey: down until answering again)")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -- the run --------------------------------------------------------------------------------------------


def run(people: int, seconds: float, *, out: Path, down_for: float = 1.5, seed: int = 1) -> dict:
    root = Path(tempfile.mkdtemp(prefix="todo-chaos-"))
    root.chmod(0o755)  # the PostgreSQL user (when we are root) must reach its data
    stack = Stack(
        root=root,
        ports=free_ports(),
        workers=2,
        threads=4,
        extra_env={
            "reader": {"LSN_WAIT_TIMEOUT_MS": "500"},
            "writer": {"SIGNUPS_PER_ADDRESS_PER_HOUR": "100000"},
        },
    )
    out.mkdir(parents=True, exist_ok=True)
    try:
        stack.start()
        started = time.monotonic()
        history = History(started)
        until = started + seconds
        crowd = [Person(i, stack.frontend_url, history, until, seed * 1000 + i) for i in range(people)]
        for person in crowd:
            person.start()
        faults = Faults(stack, history, started + min(5.0, seconds / 8), until - 4, down_for)
        faults.start()
        faults.join()
        for person in crowd:
            person.join(timeout=60)
        if faults.error is not None:
            raise faults.error
        result = check(stack, crowd, history)
        result["figures"]["seconds"] = seconds
        with open(out / "history.jsonl", "w") as file:
            for attempt in history.attempts:
                file.write(json.dumps(asdict(attempt)) + "\n")
        (out / "result.json").write_text(json.dumps(result, indent=2))
        plot(history, out / "chaos.png")
        return result
    finally:
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)


def report(result: dict) -> str:
    f = result["figures"]
    lines = [
        f"people {f['people']}, {f['seconds']:.0f} s: {f['requests']} requests, {f['changes']} changes "
        f"({f['changes_done']} done, {f['changes_failed']} refused, "
        f"{f['changes_unknown_at_the_end']} unknown at the end), {f['reads']} reads",
        f"answers: {f['answers_5xx']} 5xx (all inside fault windows: {f['answers_5xx_outside_faults'] == 0}), "
        f"{f['no_answer']} without an answer, "
        f"{f['answers_unknown_then_retried']} unknown outcomes retried with their key",
        f"lost {f['lost']}, duplicated {f['duplicated']}, misreported {f['misreported']}, "
        f"read-your-writes violations {f['read_your_writes_violations']}",
        "faults (down -> answering again after the restart):",
    ]
    for fault in f["faults"]:
        lines.append(
            f"  {fault['name']:<24} at {fault['start']:6.1f} s, restarted at {fault['end']:6.1f} s, "
            f"answering {fault['recovery']:.2f} s later"
        )
    lines.append(f"violations: {len(result['violations'])}")
    for violation in result["violations"][:20]:
        lines.append(f"  {violation['kind']}: person {violation['person']}: {violation['detail']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devlocal.chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=8, help="simulated people (1-32)")
    parser.add_argument("--seconds", type=float, default=120, help="how long they use the app (20-900)")
    parser.add_argument("--out", type=Path, default=REPO / ".devlocal" / "chaos", help="history, result and plot")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    people = max(1, min(args.people, 32))
    seconds = max(20.0, min(args.seconds, 900.0))
    result = run(people, seconds, out=args.out, seed=args.seed)
    print(report(result))
    print(f"history, result and timeline plot in {args.out}")
    return 1 if result["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
