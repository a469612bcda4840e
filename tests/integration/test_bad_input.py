"""Every kind of bad input gets a clear 4xx with a message, and changes nothing."""

from __future__ import annotations

import uuid

import pytest
import requests

from ..helpers import Person, signed_in

TOO_LONG = "x" * 101
TEN_MB = b"a" * (10 * 1024 * 1024)


@pytest.fixture
def unchanged(primary):
    """Asserts the table is exactly as before the test body ran."""

    def snapshot():
        with primary.cursor() as cur:
            cur.execute(
                "SELECT coalesce(md5(string_agg(id || ':' || name || ':' || completed, ',' ORDER BY id)), '')"
                " FROM todo_list"
            )
            return cur.fetchone()[0]

    before = snapshot()
    yield
    assert snapshot() == before, "bad input changed the data"


def _json(response: requests.Response) -> dict:
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:200]
    body = response.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    assert "Traceback" not in response.text
    return body


@pytest.fixture(scope="module")
def person(stack) -> Person:
    return Person(stack)


@pytest.fixture(scope="module")
def browser(stack):
    """A signed-in browser; its list holds ``existing``."""
    return signed_in(stack)


@pytest.fixture(scope="module")
def list_path(browser) -> str:
    return browser.list_path()


@pytest.fixture(scope="module")
def existing(browser, list_path, primary_module):
    name = f"bad-input target {uuid.uuid4()}"
    browser.post(list_path + "/todos", {"name": name})
    with primary_module.cursor() as cur:
        cur.execute("SELECT id, name FROM todo_list WHERE name = %s", (name,))
        todo_id, todo_name = cur.fetchone()
    return {"id": todo_id, "name": todo_name}


@pytest.fixture(scope="module")
def primary_module(stack):
    conn = stack.cluster.superuser_connection()
    yield conn
    conn.close()


# -- the writer's JSON API --------------------------------------------------------------

WRITER_BODIES = [
    pytest.param({"name": ""}, 422, "empty", id="empty name"),
    pytest.param({"name": "   \t "}, 422, "empty", id="whitespace-only name"),
    pytest.param({"name": TOO_LONG}, 422, "101 characters", id="101 characters"),
    pytest.param({"name": "nul\x00byte"}, 422, "NUL", id="NUL byte"),
    pytest.param({"name": 42}, 422, "string", id="name not a string"),
    pytest.param({"name": "ok", "completed": "yes"}, 422, "true or false", id="completed not a bool"),
    pytest.param({"name": "ok", "order": 2**40}, 422, "order", id="order out of range"),
    pytest.param({"name": "ok", "colour": "red"}, 422, "unknown field", id="unknown field"),
    pytest.param({}, 422, "required", id="missing name"),
]


@pytest.mark.parametrize(("body", "status", "words"), WRITER_BODIES)
def test_writer_rejects_bad_fields(person, unchanged, body, status, words):
    response = person.writer("POST", "/v1/todos", json=body)
    assert response.status_code == status
    assert words in _json(response)["error"]


@pytest.mark.parametrize(
    ("data", "content_type", "status", "words"),
    [
        pytest.param(b'{"name": "x"', "application/json", 400, "malformed JSON", id="malformed JSON"),
        pytest.param(b'["a list"]', "application/json", 400, "JSON object", id="not an object"),
        pytest.param(b'{"name": "\xff\xfe"}', "application/json", 400, "UTF-8", id="invalid UTF-8"),
        pytest.param(b"name=x", "application/x-www-form-urlencoded", 415, "Content-Type", id="not JSON"),
        pytest.param(TEN_MB, "application/json", 413, "", id="10 MB body"),
    ],
)
def test_writer_rejects_bad_bodies(person, unchanged, data, content_type, status, words):
    response = person.writer("POST", "/v1/todos", data=data, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert words in _json(response)["error"]


# An id that can't exist names no resource: 404, like an id that could but doesn't.
@pytest.mark.parametrize("todo_id", ["abc", "-1", "0", "1.5", str(2**63), "99999999999"])
def test_writer_rejects_bad_ids(person, unchanged, todo_id):
    for method in ("PATCH", "DELETE"):
        response = person.writer(method, f"/v1/todos/{todo_id}", json={"completed": True})
        assert response.status_code == 404, (method, todo_id, response.text)
        _json(response)


@pytest.fixture(scope="module")
def persons_item(person) -> dict:
    return person.writer("POST", "/v1/todos", json={"name": f"bad-input target {uuid.uuid4()}"}).json()["todo"]


def test_writer_rename_to_bad_name_keeps_the_old_one(person, persons_item, unchanged):
    response = person.writer("PATCH", f"/v1/todos/{persons_item['id']}", json={"name": TOO_LONG})
    assert response.status_code == 422


# -- the reader's JSON API --------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/todos?status=done",
        "/v1/todos?limit=0",
        "/v1/todos?limit=100000",
        "/v1/todos?after=-5",
        "/v1/todos?after=abc",
    ],
)
def test_reader_rejects_bad_queries(person, path):
    response = person.reader(path)
    assert response.status_code == 400
    _json(response)


@pytest.mark.parametrize("todo_id", ["abc", "-1", "0", str(2**63)])
def test_reader_id_that_cannot_exist_is_404(person, todo_id):
    response = person.reader(f"/v1/todos/{todo_id}")
    assert response.status_code == 404
    _json(response)


def test_reader_rejects_a_malformed_lsn(person):
    response = person.reader("/v1/todos", headers={"X-Min-LSN": "16/zz"})
    assert response.status_code == 400
    assert "LSN" in _json(response)["error"]


def test_reader_unknown_id_is_404(person):
    response = person.reader("/v1/todos/99999999999")
    assert response.status_code == 404
    _json(response)


# -- the frontend's forms -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (TOO_LONG, "101 characters"),
        ("nul\x00byte", "NUL"),
    ],
)
def test_add_form_shows_the_typed_text_again(browser, list_path, unchanged, name, words):
    response = browser.post(list_path + "/todos", {"name": name}, allow_redirects=False)
    assert response.status_code == 422
    assert words in response.text
    if name.strip() and "\x00" not in name:
        assert f'value="{name}"' in response.text
    assert "Traceback" not in response.text


def test_add_form_rejects_invalid_utf8(stack, browser, list_path, unchanged):
    browser.get("/")
    body = f"csrf_token={browser.token}&name=%FF%FEbad".encode()
    response = browser.http.post(
        stack.frontend_url + list_path + "/todos",
        data=body,
        timeout=5,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False,
    )
    assert response.status_code == 400
    assert "UTF-8" in response.text


def test_add_form_rejects_a_10_mb_body(browser, list_path, unchanged):
    response = browser.post(list_path + "/todos", {"name": "a" * len(TEN_MB)}, allow_redirects=False)
    assert response.status_code == 413
    assert "todos" in response.text  # the app's own error page


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_add_form_without_a_valid_csrf_token_is_refused(browser, list_path, unchanged, token):
    browser.get("/")
    form = {"name": "forged"} if token is None else {"name": "forged", "csrf_token": token}
    response = browser.post(list_path + "/todos", form, token=False, allow_redirects=False)
    assert response.status_code == 400
    assert "expired or did not come from this site" in response.text
    assert 'value="forged"' in response.text  # the text is kept for a retry


def test_csrf_token_from_another_session_is_refused(stack, unchanged):
    victim, attacker = signed_in(stack), signed_in(stack)
    attacker.get("/")
    path = victim.list_path()
    response = victim.post(
        path + "/todos", {"name": "forged", "csrf_token": attacker.token}, token=False, allow_redirects=False
    )
    assert response.status_code == 400


@pytest.mark.parametrize("todo_id", ["abc", "-3", str(2**64), "99999999999"])
def test_forms_with_bad_ids(browser, unchanged, todo_id):
    for action in ("toggle", "rename", "delete"):
        response = browser.post(f"/todos/{todo_id}/{action}", {"completed": "true", "name": "x"}, allow_redirects=False)
        assert response.status_code == 404, (action, todo_id)
        assert 'class="brand"' in response.text  # the app's own page
        assert "Traceback" not in response.text


def test_toggle_with_a_bad_value(browser, unchanged, existing):
    response = browser.post(f"/todos/{existing['id']}/toggle", {"completed": "maybe"}, allow_redirects=False)
    assert response.status_code == 422


def test_rename_too_long_keeps_the_typed_text_on_the_rename_page(browser, unchanged, existing):
    response = browser.post(f"/todos/{existing['id']}/rename", {"name": TOO_LONG}, allow_redirects=False)
    assert response.status_code == 422
    assert f'value="{TOO_LONG}"' in response.text
    assert 'class="edit-form"' in response.text


def test_rename_page_of_an_unknown_item_is_404(browser):
    response = browser.get("/todos/99999999999/edit")
    assert response.status_code == 404
    assert "no such item" in response.text


def test_markup_in_a_name_is_rendered_escaped(browser, list_path):
    name = f"<script>alert('{uuid.uuid4().hex[:6]}')</script><b>bold</b>"
    page = browser.post(list_path + "/todos", {"name": name})
    assert page.status_code == 200
    assert name not in page.text
    assert "&lt;script&gt;alert(" in page.text


def test_unknown_page_is_a_404_in_the_app_layout(stack):
    response = requests.get(stack.frontend_url + "/no/such/page", timeout=5)
    assert response.status_code == 404
    assert 'class="brand"' in response.text


def test_odd_list_parameters_fall_back_to_the_first_page(browser):
    response = browser.get("/?status=%00&after=-1")
    assert response.status_code == 200


# -- the public API ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/api/todos", {"title": ""}, 422),
        ("POST", "/api/todos", {"title": TOO_LONG}, 422),
        ("POST", "/api/todos", {}, 422),
        ("POST", "/api/todos", {"title": "x", "completed": "no"}, 422),
        ("PATCH", "/api/todos/99999999999", {"completed": True}, 404),
        ("GET", "/api/todos/abc", None, 404),
        ("DELETE", "/api/todos/-1", None, 404),
    ],
)
def test_public_api_rejects_bad_requests(person, unchanged, method, path, body, status):
    root = person.api_root()
    response = requests.request(method, root + path.removeprefix("/api/todos"), json=body, timeout=10)
    assert response.status_code == status
    _json(response)
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_public_api_rejects_malformed_json(person, unchanged):
    response = requests.post(person.api_root(), data=b"{", timeout=5, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    _json(response)
