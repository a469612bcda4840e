"""Issue 11, findings 3 and 8: bad JSON is a 4xx everywhere (never a 500, a traceback
or "writer unavailable"), and the frontend's HTTP edges: Allow on 405, an honest
Connection on unread bodies, raw UTF-8 forms, API links that ignore a forged Host."""

from __future__ import annotations

import socket
import uuid
from contextlib import closing

import pytest
import requests

from todo_common.service_token import Actor

from ..helpers import (
    Person,
    frontend_client,
    name_for,
    row_count,
    service_headers,
    signed_in,
)

# -- 3. bad JSON is a 400 with a message, never a 500 ------------------------------------

BAD_JSON = [
    pytest.param(b'{"title": "a\\ud800"}', "surrogate", id="lone surrogate"),
    pytest.param(b'{"title": ' + b"9" * 5000 + b"}", "digits", id="5000-digit integer"),
    pytest.param(b'{"title": ' + b"[" * 30000 + b"]" * 30000 + b"}", "nested", id="30000 nested arrays"),
]


def _writer_log_size(stack) -> int:
    return (stack.logs / "writer.log").stat().st_size


def _writer_log_since(stack, offset: int) -> str:
    with open(stack.logs / "writer.log", "rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


@pytest.mark.parametrize(("body", "says"), BAD_JSON)
def test_bad_json_is_a_400_everywhere(stack, primary, body, says):
    person = Person(stack)
    api = person.api_root()
    offset = _writer_log_size(stack)
    writer_body = body.replace(b'"title"', b'"name"')
    answers = {
        "writer": requests.post(
            stack.url("writer") + "/v1/todos",
            data=writer_body,
            headers=person.headers(**{"Content-Type": "application/json"}),
            timeout=10,
        ),
        "public api": requests.post(api, data=body, headers={"Content-Type": "application/json"}, timeout=10),
        "public api patch": requests.patch(
            api + "/1", data=body, headers={"Content-Type": "application/json"}, timeout=10
        ),
        "tokens": requests.post(
            stack.frontend_url + "/api/tokens",
            data=body.replace(b'"title"', b'"list"'),
            auth=(person.username, person.password),
            headers={"Content-Type": "application/json"},
            timeout=10,
        ),
        "sign-up": requests.post(
            stack.url("writer") + "/v1/accounts",
            data=body.replace(b'"title"', b'"username"'),
            headers={**service_headers(stack, Actor()), "Content-Type": "application/json"},
            timeout=10,
        ),
    }
    for where, answer in answers.items():
        assert answer.status_code in (400, 422), (where, answer.status_code, answer.text[:300])
        error = answer.json()["error"]
        assert says in error, (where, error)
        assert "unavailable" not in error
    assert "Traceback" not in _writer_log_since(stack, offset)


def test_a_fetch_toggle_with_a_json_body_is_a_4xx(stack):
    browser = signed_in(stack)
    path = browser.list_path()
    browser.post(path + "/todos", {"name": name_for("toggle target")})
    todo_id = browser.get("/").text.split('id="todo-', 1)[1].split('"', 1)[0]
    answer = browser.http.post(
        f"{stack.frontend_url}/todos/{todo_id}/toggle",
        data=b'{"completed": "a\\ud800"}',
        headers={"Content-Type": "application/json", "X-Requested-With": "fetch", "X-CSRFToken": browser.token},
        timeout=10,
    )
    assert 400 <= answer.status_code < 500, answer.text[:300]
    assert "unavailable" not in answer.text


# -- 8. the frontend's answers ------------------------------------------------------------


def test_405_answers_carry_allow(stack):
    page = requests.get(stack.frontend_url + "/todos", timeout=10)
    assert page.status_code == 405
    assert "POST" in page.headers["Allow"]
    api = requests.put(stack.frontend_url + "/api/todos", timeout=10)
    assert api.status_code == 405
    assert "GET" in api.headers["Allow"]


@pytest.mark.parametrize(
    ("service", "path", "status"),
    [("frontend", "/login", 413), ("frontend", "/api/todos", 401), ("writer", "/v1/todos", 401)],
)
def test_an_unread_oversized_body_closes_the_connection_and_says_so(stack, service, path, status):
    """A 10 MB body is answered unread (413, or 401 first); the answer must not
    announce a keep-alive the server then breaks."""
    with closing(socket.create_connection(("127.0.0.1", getattr(stack.ports, service)), timeout=10)) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: 10000000\r\n\r\n".encode()
            + b"x" * 1000
        )
        head = sock.recv(65536).split(b"\r\n\r\n", 1)[0].decode().lower()
    assert head.startswith(f"http/1.1 {status}"), head
    assert "connection: close" in head


def test_a_raw_utf8_form_body_is_accepted(stack, primary):
    browser = signed_in(stack)
    path = browser.list_path()
    name = f"café {uuid.uuid4().hex[:6]}"
    body = f"csrf_token={browser.token}&name={name}".encode()
    answer = browser.http.post(
        stack.frontend_url + path + "/todos",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text[:300]
    assert row_count(primary, "name = %s", (name,)) == 1


def test_api_links_do_not_follow_a_forged_host(stack):
    api = Person(stack).api_root()
    forged = requests.post(api, json={"title": "forged host"}, headers={"Host": "evil.example"}, timeout=10)
    assert "//evil.example" not in forged.text
    assert "evil.example" not in forged.headers.get("Location", "")
    assert forged.status_code == 400
    assert "PUBLIC_URL" in forged.json()["error"]


def _tokens_of(primary, username: str) -> int:
    with primary.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM api_tokens t JOIN accounts a ON a.id = t.account_id WHERE a.username = %s",
            (username,),
        )
        return cur.fetchone()[0]


def test_no_api_token_is_made_for_a_host_its_link_cannot_name(stack, primary):
    """An API token is shown once, with its api_root: under a host the site does not
    serve, neither the account page nor POST /api/tokens makes one (a link to the
    forged host, or a token nobody is shown)."""
    browser = signed_in(stack)
    list_id = browser.list_path().rsplit("/", 1)[1]
    page = browser.http.post(
        stack.frontend_url + "/account/tokens",
        data={"csrf_token": browser.token, "list": list_id},
        # The cookie by hand: requests' jar would match it against the forged Host.
        headers={"Host": "evil.example", "Cookie": f"session={browser.http.cookies['session']}"},
        timeout=10,
    )
    assert page.status_code == 400
    assert "evil.example/api" not in page.text and "PUBLIC_URL" in page.text
    assert _tokens_of(primary, browser.username) == 0

    person = Person(stack)
    answer = requests.post(
        stack.frontend_url + "/api/tokens",
        auth=(person.username, person.password),
        json={},
        headers={"Host": "evil.example"},
        timeout=10,
    )
    assert answer.status_code == 400 and "PUBLIC_URL" in answer.json()["error"]
    assert _tokens_of(primary, person.username) == 0


def test_api_links_come_from_public_url_whatever_the_host(stack):
    _, client = frontend_client(stack, PUBLIC_URL="https://todo.example.com")
    token = Person(stack).api_root().rsplit("/", 2)[-2]
    answer = client.post(f"/api/t/{token}/todos", json={"title": "public"}, headers={"Host": "evil.example"})
    assert answer.status_code == 201
    assert answer.get_json()["url"].startswith("https://todo.example.com/api/t/")
