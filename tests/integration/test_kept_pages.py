"""The reader keeps pages of items per worker by their list's items version: every
kind of change to a list's items shows on the next read, an append leaves the list's
full pages kept, a kept page is served only to its owner, and an ended session is
still refused; a restore never brings back a page kept from before."""

from __future__ import annotations

import os
import subprocess

import pytest
import requests

from devlocal.postgres import APP_DATABASE, APP_USER, POSTGRES_BIN_PATH, SUPERUSER

from ..chart.chart_helpers import CHART
from ..conftest import running_stack
from ..helpers import Person, metric, unique_name


def _page(person: Person, lsn: str | None = None, **params) -> dict:
    headers = {"X-Min-LSN": lsn} if lsn else {}
    answer = person.reader("/v1/todos", params={"list": person.list_id, **params}, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _kept(person: Person, **params) -> dict:
    """Read the page twice (each of the reader's workers may keep it) and return it."""
    for _ in range(4):
        page = _page(person, **params)
    return page


def _add(person: Person, name: str, **fields) -> tuple[int, str]:
    answer = person.writer("POST", "/v1/todos", json={"name": name, "list": person.list_id, **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()["todo"]["id"], answer.headers["X-Commit-LSN"]


def _lsn(answer: requests.Response) -> str:
    assert answer.status_code == 200, answer.text
    return answer.headers["X-Commit-LSN"]


@pytest.fixture
def person(stack):
    person = Person(stack)
    for n in range(3):
        _add(person, f"item {n}")
    return person


def _names(page: dict) -> list[str]:
    return [item["name"] for item in page["items"]]


def test_a_rename_shows_on_a_kept_page(person):
    first = _kept(person)["items"][0]
    new_name = unique_name("renamed")
    lsn = _lsn(person.writer("PATCH", f"/v1/todos/{first['id']}", json={"name": new_name}))
    assert _page(person, lsn)["items"][0]["name"] == new_name
    assert _page(person)["items"][0]["name"] == new_name  # and without the LSN once replayed


def test_a_reorder_shows_on_a_kept_page(person):
    first = _kept(person)["items"][0]
    lsn = _lsn(person.writer("PATCH", f"/v1/todos/{first['id']}", json={"order": 42}))
    assert _page(person, lsn)["items"][0]["order"] == 42


def test_a_toggle_shows_on_kept_pages_of_every_filter(person):
    first = _kept(person)["items"][0]
    assert first["name"] in _names(_kept(person, status="active"))
    assert _kept(person, status="completed")["items"] == []
    lsn = _lsn(person.writer("PATCH", f"/v1/todos/{first['id']}", json={"completed": True}))
    assert _page(person, lsn)["items"][0]["completed"] is True
    assert first["name"] not in _names(_page(person, lsn, status="active"))
    assert _names(_page(person, lsn, status="completed")) == [first["name"]]


def test_adds_and_deletes_show_on_kept_pages(person):
    before = _names(_kept(person))
    name = unique_name("added")
    todo_id, lsn = _add(person, name)
    assert _names(_page(person, lsn)) == [*before, name]
    lsn = person.writer("DELETE", f"/v1/todos/{todo_id}").headers["X-Commit-LSN"]
    assert _names(_page(person, lsn)) == before


def _pages_read(stack) -> float:
    return metric(stack, "reader", "todo_reader_list_pages_total", 'items="read"')


def test_an_append_leaves_the_lists_full_pages_kept(stack, person):
    first = _kept(person, limit=2)  # items 0 and 1; item 2 is past it
    assert first["next_after"] is not None
    read_before = _pages_read(stack)
    name = unique_name("appended")
    _, lsn = _add(person, name)
    after_add = _page(person, lsn, limit=2)
    assert after_add["items"] == first["items"]
    assert after_add["next_after"] == first["next_after"]
    assert after_add["counts"] == {"all": 4, "active": 4, "completed": 0}
    assert _pages_read(stack) == read_before, "the full page is served from what the reader kept"
    # The list's last page does show the new item.
    last = _page(person, lsn, after=first["next_after"], limit=2)
    assert _names(last) == ["item 2", name]


def test_every_change_still_renews_the_items_version_readers_of_the_last_release_compare(person, primary):
    """During an upgrade the previous release's readers keep pages by ``items_version``
    alone, so an append must still change it (only ``items_prefix_version`` stays)."""

    def versions() -> tuple[str, str]:
        with primary.cursor() as cur:
            cur.execute(
                "SELECT items_version::text, items_prefix_version::text FROM todo_lists WHERE id = %s",
                (person.list_id,),
            )
            return cur.fetchone()

    before = versions()
    _add(person, unique_name("appended"))
    after = versions()
    assert after[0] != before[0]
    assert after[1] == before[1]


def test_an_item_committed_late_inside_a_kept_page_shows(person, primary):
    """Ids are drawn when an insert runs but committed in any order: an item with an id
    below the list's newest lands inside pages that are already full."""
    a, b, c = (item["id"] for item in _page(person)["items"])
    _add(person, "item 3")
    lsn = person.writer("DELETE", f"/v1/todos/{b}").headers["X-Commit-LSN"]
    kept = _kept(person, limit=2)
    assert [item["id"] for item in _page(person, lsn, limit=2)["items"]] == [a, c]
    assert kept["next_after"] == c
    with primary.cursor() as cur:
        cur.execute(
            "INSERT INTO todo_list (id, list_id, name, completed) OVERRIDING SYSTEM VALUE"
            " VALUES (%s, %s, 'late', false)",
            (b, person.list_id),
        )
        cur.execute("SELECT pg_current_wal_lsn()::text")
        (lsn,) = cur.fetchone()
    assert _names(_page(person, lsn, limit=2)) == ["item 0", "late"]


def test_mark_all_and_clear_completed_show_on_kept_pages(person):
    _kept(person)
    _kept(person, status="active")
    answer = person.writer("POST", "/v1/todos/mark-all", json={"list": person.list_id, "completed": True})
    lsn = _lsn(answer)
    assert all(item["completed"] for item in _page(person, lsn)["items"])
    assert _page(person, lsn, status="active")["items"] == []
    answer = person.writer("DELETE", "/v1/todos", params={"list": person.list_id, "completed": "true"})
    assert _page(person, _lsn(answer))["items"] == []


def test_a_later_page_and_its_neighbours_follow_changes(person):
    ids = [item["id"] for item in _page(person)["items"]]
    second = _kept(person, after=ids[0], limit=1)
    assert [item["id"] for item in second["items"]] == [ids[1]]
    assert (second["prev_after"], second["next_after"]) == (0, ids[1])
    lsn = person.writer("DELETE", f"/v1/todos/{ids[1]}").headers["X-Commit-LSN"]
    moved = _page(person, lsn, after=ids[0], limit=1)
    assert [item["id"] for item in moved["items"]] == [ids[2]]
    assert moved["next_after"] is None


def test_the_list_name_and_counts_are_never_kept(person):
    page = _kept(person, with_lists="true")
    new_name = unique_name("list")
    lsn = _lsn(person.writer("PATCH", f"/v1/lists/{person.list_id}", json={"name": new_name}))
    renamed = _page(person, lsn, with_lists="true")
    assert renamed["list"]["name"] == new_name
    assert [entry["name"] for entry in renamed["lists"]] == [new_name]
    assert renamed["items"] == page["items"]
    assert renamed["counts"] == page["counts"] == {"all": 3, "active": 3, "completed": 0}


def test_a_kept_page_is_only_its_owners(stack, person):
    _kept(person)
    other = Person(stack)
    answer = other.reader("/v1/todos", params={"list": person.list_id})
    assert answer.status_code == 404
    assert "item 0" not in answer.text


def test_a_kept_page_is_refused_once_the_session_ended(stack, person):
    _kept(person)
    ended = person.writer("DELETE", "/v1/sessions")  # log-out: ends every session of the account
    answer = person.reader("/v1/todos", params={"list": person.list_id}, headers={"X-Min-LSN": _lsn(ended)})
    assert answer.status_code == 401


def test_the_reader_counts_pages_answered_from_kept_items(stack, person):
    kept_before = metric(stack, "reader", "todo_reader_list_pages_total", 'items="kept"')
    read_before = _pages_read(stack)
    _kept(person, limit=2)
    # The first read of this view reads its items; of the others, all but one per worker are kept.
    assert _pages_read(stack) > read_before
    assert metric(stack, "reader", "todo_reader_list_pages_total", 'items="kept"') > kept_before


@pytest.fixture(scope="module")
def stack_to_restore():
    """A stack of its own: the restore below replaces every table."""
    with running_stack("todo-test-restore-") as stack:
        yield stack


def _chart_script(stack, name: str, directory, *args: str) -> None:
    """The chart's backup.sh / restore.sh against the primary as the superuser, with
    the embedded PostgreSQL's client tools."""
    cluster = stack.cluster
    password = directory / "superuser-password"
    password.write_text(cluster.passwords[SUPERUSER])
    password.chmod(0o600)
    env = {
        "PATH": f"{POSTGRES_BIN_PATH}:{os.environ['PATH']}",
        "PGHOST": "127.0.0.1",
        "PGPORT": str(cluster.primary.port),
        "PGDATABASE": APP_DATABASE,
        "PGUSER": SUPERUSER,
        "PASSWORD_FILE": str(password),
        "BACKUP_DIR": str(directory),
        "OWNER": APP_USER,
    }
    command = ["bash", str(CHART / "files" / name), *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_a_restore_never_brings_back_a_page_kept_from_before(stack_to_restore, tmp_path):
    """The restored list has an items version the reader has seen, with other items
    appended after it; appends after the restore reuse those ids."""
    person = Person(stack_to_restore)
    for n in range(3):
        _add(person, f"item {n}")
    _chart_script(stack_to_restore, "backup.sh", tmp_path, "dump")
    (dump,) = tmp_path.glob("*.dump")
    second = _page(person)["items"][1]["id"]
    _add(person, "gone 1")
    _, lsn = _add(person, "gone 2")
    assert _names(_page(person, lsn, after=second, limit=2)) == ["item 2", "gone 1"]
    _kept(person, after=second, limit=2)

    _chart_script(stack_to_restore, "restore.sh", tmp_path, str(dump))
    _add(person, "new 1")
    _, lsn = _add(person, "new 2")
    assert _names(_page(person, lsn, after=second, limit=2)) == ["item 2", "new 1"]
