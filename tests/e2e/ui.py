"""The app under test as the browser tests see it: setup through the writer and
reader APIs, and the page's controls found the way a person finds them."""

from __future__ import annotations

import time

import requests
from playwright.sync_api import expect

TIMEOUT = 10
ADD_LABEL = "What needs to be done?"


class App:
    """The app under test: its address, the writer and reader for setup, and the
    page's controls found the way a person finds them (labels, roles, text)."""

    def __init__(self, stack):
        self.base_url = stack.frontend_url
        self.writer = stack.url("writer")
        self.reader = stack.url("reader")
        self.page_size = int(stack.service_env("frontend").get("PAGE_SIZE", "100"))

    # -- setup through the APIs -------------------------------------------------------
    def wait_replayed(self, lsn: str) -> None:
        """Until the replica itself has the write, so a page without a session LSN shows it."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            answer = requests.get(self.reader + "/v1/counts", headers={"X-Min-LSN": lsn}, timeout=TIMEOUT)
            if answer.ok and answer.headers.get("X-Served-By") == "replica":
                return
        raise AssertionError(f"the replica did not replay {lsn}")

    def clear(self) -> None:
        answer = requests.delete(self.writer + "/v1/todos", timeout=TIMEOUT)
        answer.raise_for_status()
        self.wait_replayed(answer.headers["X-Commit-LSN"])

    def create(self, names: list[str], completed: bool = False) -> list[int]:
        ids, lsn = [], None
        with requests.Session() as http:
            for name in names:
                answer = http.post(
                    self.writer + "/v1/todos", json={"name": name, "completed": completed}, timeout=TIMEOUT
                )
                answer.raise_for_status()
                ids.append(answer.json()["todo"]["id"])
                lsn = answer.headers["X-Commit-LSN"]
        if lsn:
            self.wait_replayed(lsn)
        return ids

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
    def counter(page):
        return page.locator(".todo-count")

    @staticmethod
    def filter_link(page, label: str):
        return page.get_by_role("navigation", name="Filter").get_by_role("link", name=label, exact=True)
