"""The app under test as the browser tests see it: people signed up through the
frontend, setup through the writer and reader APIs (as that person), and the page's
controls found the way a person finds them."""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from playwright.sync_api import expect

from todo_common import service_token
from todo_common.service_token import Actor

TIMEOUT = 10
ADD_LABEL = "What needs to be done?"
REPO = Path(__file__).resolve().parents[2]
# Screenshots the tests take, kept as artefacts to look at (git-ignored); with
# UPDATE_DOCS_SCREENSHOTS=1 the ones the README shows are copied to docs/screenshots.
SCREENSHOTS = REPO / "build" / "screenshots"
DOCS_SCREENSHOTS = REPO / "docs" / "screenshots"
PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def new_username(tag: str = "") -> str:
    """Unique per call; ``tag`` (a test's own word) makes a failure easier to place."""
    return f"e2e{tag}-{uuid.uuid4().hex[:12]}"[:40]


def screenshot(page, name: str, *, docs: bool = False) -> Path:
    """A full-page PNG under build/screenshots (and docs/screenshots when asked to)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if docs and os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOTS / path.name)
    return path


@dataclass
class Person:
    """A signed-up account and the frontend session cookie it got at sign-up."""

    username: str
    password: str
    account_id: int
    generation: int
    cookies: dict[str, str] = field(repr=False)
    lists: dict[str, int] = field(default_factory=dict)  # name -> id, as this test made them

    @property
    def first_list(self) -> int:
        return next(iter(self.lists.values()))


class App:
    """The app under test: its address, the writer and reader for setup, and the
    page's controls found the way a person finds them (labels, roles, text)."""

    def __init__(self, stack):
        self.base_url = stack.frontend_url
        self.writer = stack.url("writer")
        self.reader = stack.url("reader")
        self.page_size = int(stack.service_env("frontend").get("PAGE_SIZE", "100"))
        self._key = stack.passwords["service_token_key"]
        # Only to read who a session belongs to (account id and generation), so the
        # setup below can act as that person at the writer.
        cookie_app = Flask("e2e-session-reader")
        cookie_app.secret_key = stack.passwords["secret_key"]
        self._sessions = SecureCookieSessionInterface().get_signing_serializer(cookie_app)

    # -- people ---------------------------------------------------------------------------
    def sign_up(self, tag: str = "", password: str = PASSWORD, username: str | None = None) -> Person:
        """Sign up through the frontend's real /signup form (with requests, no browser):
        the session cookie it sets is what a browser would have got."""
        username = username or new_username(tag)
        with requests.Session() as http:
            form = http.get(self.base_url + "/signup", timeout=TIMEOUT)
            form.raise_for_status()
            token = _CSRF.search(form.text).group(1)
            answer = http.post(
                self.base_url + "/signup",
                data={"username": username, "password": password, "csrf_token": token},
                allow_redirects=False,
                timeout=TIMEOUT,
            )
            assert answer.status_code == 303, (answer.status_code, answer.text[:500])
            cookies = http.cookies.get_dict()
        session = self._sessions.loads(cookies["session"])
        person = Person(username, password, session["account"], session["gen"], cookies)
        # The replica may not have the new account yet: wait for the sign-up's own LSN.
        lists = self._read(person, "/v1/lists", lsn=session.get("lsn"))["lists"]
        person.lists = {item["name"]: item["id"] for item in lists}
        return person

    def sign_in(self, context, person: Person) -> None:
        """Give a browser context the person's session (as if they had just signed up in it)."""
        context.add_cookies([{"name": k, "value": v, "url": self.base_url} for k, v in person.cookies.items()])

    # -- setup through the APIs, as that person ---------------------------------------------
    def _auth(self, person: Person | None) -> dict:
        actor = Actor() if person is None else Actor(account_id=person.account_id, generation=person.generation)
        return {"Authorization": "Bearer " + service_token.sign(self._key, actor)}

    def _read(self, person: Person, path: str, lsn: str | None = None) -> dict:
        headers = self._auth(person) | ({"X-Min-LSN": lsn} if lsn else {})
        answer = requests.get(self.reader + path, headers=headers, timeout=TIMEOUT)
        answer.raise_for_status()
        return answer.json()

    def wait_replayed(self, person: Person, lsn: str) -> None:
        """Until the replica itself has the write, so a page without that LSN in its session shows it."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            answer = requests.get(
                self.reader + "/v1/counts", headers=self._auth(person) | {"X-Min-LSN": lsn}, timeout=TIMEOUT
            )
            if answer.ok and answer.headers.get("X-Served-By") == "replica":
                return
        raise AssertionError(f"the replica did not replay {lsn}")

    def create(
        self, person: Person, names: list[str], completed: bool = False, list_id: int | None = None
    ) -> list[int]:
        """Items in one of the person's lists (their first by default)."""
        ids, lsn = [], None
        with requests.Session() as http:
            for name in names:
                body = {"name": name, "completed": completed}
                if list_id is not None:
                    body["list"] = list_id
                answer = http.post(self.writer + "/v1/todos", json=body, headers=self._auth(person), timeout=TIMEOUT)
                answer.raise_for_status()
                ids.append(answer.json()["todo"]["id"])
                lsn = answer.headers["X-Commit-LSN"]
        if lsn:
            self.wait_replayed(person, lsn)
        return ids

    def create_list(self, person: Person, name: str) -> int:
        answer = requests.post(
            self.writer + "/v1/lists", json={"name": name}, headers=self._auth(person), timeout=TIMEOUT
        )
        answer.raise_for_status()
        list_id = answer.json()["list"]["id"]
        person.lists[name] = list_id
        self.wait_replayed(person, answer.headers["X-Commit-LSN"])
        return list_id

    # -- the page -----------------------------------------------------------------------
    def open(self, page, path: str = "/"):
        response = page.goto(self.base_url + path)
        assert response is not None and response.ok, f"GET {path} answered {response and response.status}"
        return response

    def add(self, page, name: str) -> None:
        field = page.get_by_label(ADD_LABEL)
        field.fill(name)
        field.press("Enter")
        expect(self.item(page, name)).to_be_visible()

    @staticmethod
    def item(page, name: str):
        return page.locator("li.todo").filter(has=page.locator(".name").get_by_text(name, exact=True))

    @staticmethod
    def toggle(page, name: str):
        return App.item(page, name).locator("button.toggle")

    @staticmethod
    def rename_control(page, name: str):
        """The item's Rename link (with JavaScript it opens the editor in place, as a button)."""
        return App.item(page, name).locator("a.rename-link")

    @staticmethod
    def delete_button(page, name: str):
        return App.item(page, name).get_by_role("button", name=f"Delete {name}", exact=True)

    @staticmethod
    def counter(page):
        return page.locator(".todo-count")

    @staticmethod
    def filter_link(page, label: str):
        return page.get_by_role("navigation", name="Filter").get_by_role("link", name=label, exact=True)

    @staticmethod
    def switcher(page):
        return page.get_by_role("navigation", name="Your lists")

    @staticmethod
    def log_in(page, username: str, password: str) -> None:
        """Fill the log-in form as a person does and send it."""
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
