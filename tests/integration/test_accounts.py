"""Accounts: nobody sees or changes another person's lists and items (404, with no
hint they exist) through the pages, the public API, or the reader and writer
directly; the services accept only the frontend's signed calls; sessions end
everywhere on logout and password change; limits and throttling hold."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import jwt
import pytest
import requests

from todo_common import service_token
from todo_common.service_token import Actor

from ..conftest import free_port
from ..helpers import Browser, Person, row_count, service_headers, signed_in, wait_replayed


def _snapshot(primary) -> str:
    with primary.cursor() as cur:
        cur.execute(
            "SELECT md5(coalesce(string_agg(t.id || ':' || t.name || ':' || t.completed || ':' || t.list_id, ','"
            " ORDER BY t.id), '') || (SELECT coalesce(string_agg(id || name, ',' ORDER BY id), '') FROM todo_lists))"
            " FROM todo_list t"
        )
        return cur.fetchone()[0]


@pytest.fixture(scope="module")
def alice_and_bob(stack):
    """Two people; Bob has an item and a second list."""
    alice, bob = Person(stack), Person(stack)
    bob.item = bob.writer("POST", "/v1/todos", json={"name": "bob's secret"}).json()["todo"]
    bob.other_list = bob.writer("POST", "/v1/lists", json={"name": "bob's other"}).json()["list"]
    bob.token_id = bob.writer("POST", "/v1/tokens", json={}).json()["token"]["id"]
    return alice, bob


# Every reader and writer endpoint that names a thing, aimed by Alice at Bob's.
def _foreign_calls(bob) -> list[tuple[str, str, str, dict]]:
    item, other, token = bob.item["id"], bob.other_list["id"], bob.token_id
    return [
        ("reader", "GET", f"/v1/todos/{item}", {}),
        ("reader", "GET", f"/v1/todos?list={bob.list_id}", {}),
        ("reader", "GET", f"/v1/counts?list={bob.list_id}", {}),
        ("writer", "PATCH", f"/v1/todos/{item}", {"json": {"completed": True}}),
        ("writer", "DELETE", f"/v1/todos/{item}", {}),
        ("writer", "POST", "/v1/todos", {"json": {"name": "planted", "list": bob.list_id}}),
        ("writer", "POST", "/v1/todos/mark-all", {"json": {"completed": True, "list": bob.list_id}}),
        ("writer", "DELETE", f"/v1/todos?list={bob.list_id}", {}),
        ("writer", "DELETE", f"/v1/todos?list={bob.list_id}&completed=true", {}),
        ("writer", "PATCH", f"/v1/lists/{other}", {"json": {"name": "renamed by alice"}}),
        ("writer", "DELETE", f"/v1/lists/{other}", {}),
        ("writer", "POST", "/v1/tokens", {"json": {"list": bob.list_id}}),
        ("writer", "DELETE", f"/v1/tokens/{token}", {}),
    ]


def test_services_answer_404_for_another_persons_ids(stack, primary, replica, alice_and_bob):
    alice, bob = alice_and_bob
    wait_replayed(primary, replica)
    before = _snapshot(primary)
    for service, method, path, kwargs in _foreign_calls(bob):
        response = alice.reader(path, **kwargs) if service == "reader" else alice.writer(method, path, **kwargs)
        assert response.status_code == 404, (method, path, response.status_code, response.text)
        assert "bob" not in response.text
    assert _snapshot(primary) == before
    # Bob still has all of it.
    assert bob.reader(f"/v1/todos/{bob.item['id']}").status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="missing"),
        pytest.param("Bearer ", id="empty"),
        pytest.param("Basic dXNlcjpwYXNz", id="not a bearer token"),
        pytest.param("Bearer not.a.jwt", id="garbage"),
        pytest.param("forged", id="signed with another key"),
        pytest.param("expired", id="expired"),
        pytest.param("none-alg", id="unsigned (alg none)"),
        pytest.param("wrong-audience", id="another audience"),
    ],
)
def test_services_refuse_calls_without_a_valid_service_token(stack, primary, alice_and_bob, authorization):
    _, bob = alice_and_bob
    actor = Actor(account_id=bob.id, generation=bob.generation)
    now = time.time()
    key = stack.passwords["service_token_key"]
    made = {
        "forged": lambda: service_token.sign("x" * 40, actor),
        "expired": lambda: service_token.sign(key, actor, now=now - 600),
        "none-alg": lambda: jwt.encode(
            {
                "sub": str(bob.id),
                "gen": bob.generation,
                "aud": service_token.AUDIENCE,
                "iss": service_token.ISSUER,
                "iat": int(now),
                "exp": int(now) + 60,
            },
            None,
            algorithm="none",
        ),
        "wrong-audience": lambda: jwt.encode(
            {
                "sub": str(bob.id),
                "gen": bob.generation,
                "aud": "someone-else",
                "iss": service_token.ISSUER,
                "iat": int(now),
                "exp": int(now) + 60,
            },
            key,
            algorithm="HS256",
        ),
    }
    headers = {}
    if authorization in made:
        headers["Authorization"] = "Bearer " + made[authorization]()
    elif authorization is not None:
        headers["Authorization"] = authorization
    before = _snapshot(primary)
    for service, method, path, kwargs in _foreign_calls(bob):
        response = requests.request(method, stack.url(service) + path, headers=headers, timeout=10, **kwargs)
        assert response.status_code == 401, (authorization, method, path, response.text)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert _snapshot(primary) == before
    # A bare account-id header is not an identity either.
    bare = requests.get(stack.url("reader") + "/v1/todos", headers={"X-Account-Id": str(bob.id)}, timeout=10)
    assert bare.status_code == 401


def test_health_stays_open_to_probes_and_metrics_to_the_scraper(stack):
    for service in ("reader", "writer"):
        for path in ("/healthz", "/readyz"):
            assert requests.get(stack.url(service) + path, timeout=10).status_code == 200, (service, path)
        assert requests.get(stack.metrics_url(service), timeout=10).status_code == 200, service


def test_two_people_see_only_their_own_pages(stack):
    alice, bob = signed_in(stack), signed_in(stack)
    alice_list, bob_list = alice.list_path(), bob.list_path()
    tag = uuid.uuid4().hex[:8]
    alice.post(alice_list + "/todos", {"name": f"alice only {tag}"})
    page = bob.post(bob_list + "/todos", {"name": f"bob only {tag}"})
    assert f"bob only {tag}" in page.text
    assert f"alice only {tag}" not in page.text
    assert f"bob only {tag}" not in alice.get("/").text
    # Bob's list and his item's edit page, opened by Alice: 404, no name shown.
    foreign = alice.get(bob_list)
    assert foreign.status_code == 404
    assert "bob only" not in foreign.text
    item_id = page.text.split(f"bob only {tag}")[0].rsplit('id="todo-', 1)[1].split('"')[0]
    for path in (f"/todos/{item_id}/edit",):
        answer = alice.get(path)
        assert answer.status_code == 404 and "bob only" not in answer.text
    for action in ("toggle", "rename", "delete"):
        answer = alice.post(f"/todos/{item_id}/{action}", {"completed": "true", "name": "taken"}, allow_redirects=False)
        assert answer.status_code == 404, action
    assert alice.post(bob_list + "/todos", {"name": "planted"}, allow_redirects=False).status_code == 404
    assert alice.post(bob_list + "/clear-completed", {}, allow_redirects=False).status_code == 404
    assert f"bob only {tag}" in bob.get("/").text


def test_a_visitor_sees_the_login_page_never_a_list(stack):
    for path in ("/", "/lists", "/account", "/lists/1", "/todos/1/edit"):
        response = requests.get(stack.frontend_url + path, timeout=10)
        assert response.status_code == 200 and "/login" in response.url, path
        assert 'action="/login' in response.text and "/signup" in response.text
        assert "todo-list" not in response.text
    for path in ("/todos", "/lists/1/todos", "/todos/1/delete", "/logout"):
        response = requests.post(stack.frontend_url + path, data={"name": "x"}, allow_redirects=False, timeout=10)
        assert response.status_code in (303, 400), path  # to the login page, or refused without a CSRF token


def test_unauthenticated_public_api_answers_401_and_changes_nothing(stack, primary):
    person = Person(stack)
    person.writer("POST", "/v1/todos", json={"name": "must survive"})
    browser = signed_in(stack)
    before = _snapshot(primary)
    api = stack.frontend_url + "/api/todos"
    for method, url in [
        ("GET", api),
        ("POST", api),
        ("DELETE", api),
        ("GET", api + "/1"),
        ("PATCH", api + "/1"),
        ("DELETE", api + "/1"),
    ]:
        response = requests.request(method, url, json={"title": "x"}, timeout=10)
        assert response.status_code == 401, (method, url)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    # A browser's session cookie is no API credential either.
    assert browser.http.delete(api, timeout=10).status_code == 401
    assert _snapshot(primary) == before


def test_api_tokens_from_basic_credentials(stack):
    person = Person(stack)
    tokens = stack.frontend_url + "/api/tokens"
    assert requests.post(tokens, timeout=10).status_code == 401
    wrong = requests.post(tokens, auth=(person.username, "wrong password"), timeout=10)
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")
    answer = requests.post(tokens, auth=(person.username, person.password), timeout=10)
    assert answer.status_code == 201
    body = answer.json()
    assert body["api_root"].startswith(stack.frontend_url + "/api/t/")
    assert body["list"] == person.list_id
    # The same token as a Bearer header on /api/todos sees the same list.
    created = requests.post(body["api_root"], json={"title": "via url"}, timeout=10).json()
    bearer = {"Authorization": f"Bearer {body['token']}"}
    listed = requests.get(stack.frontend_url + "/api/todos", headers=bearer, timeout=10).json()
    assert [todo["title"] for todo in listed] == ["via url"]
    assert listed[0]["url"].startswith(stack.frontend_url + "/api/todos/")
    assert requests.get(created["url"], timeout=10).json()["title"] == "via url"
    # A token for another of the person's lists, and none for a list of someone else's.
    second = person.writer("POST", "/v1/lists", json={"name": "second"}).json()["list"]["id"]
    other_root = person.api_root(second)
    assert requests.get(other_root, timeout=10).json() == []
    foreign = requests.post(tokens, auth=(person.username, person.password), json={"list": Person(stack).list_id})
    assert foreign.status_code == 404


def test_a_revoked_token_answers_404_at_once(stack, primary):
    person = Person(stack)
    root = person.api_root()
    todo = requests.post(root, json={"title": "before revocation"}, timeout=10).json()
    token_id = person.reader("/v1/account").json()["tokens"][0]["id"]
    before = _snapshot(primary)
    assert person.writer("DELETE", f"/v1/tokens/{token_id}").status_code == 200
    for method, url in [("GET", root), ("POST", root), ("DELETE", root), ("GET", todo["url"]), ("DELETE", todo["url"])]:
        response = requests.request(method, url, json={"title": "after"}, timeout=10)
        assert response.status_code == 404, (method, url, response.text)
    assert _snapshot(primary) == before


def test_tokens_never_appear_in_logs(stack):
    person = Person(stack)
    root = person.api_root()
    requests.get(root, timeout=10)
    token = root.split("/api/t/")[1].split("/")[0]
    for service in ("frontend", "reader", "writer"):
        log = (stack.logs / f"{service}.log").read_text(errors="replace")
        assert token not in log, service
        assert person.password not in log, service


def test_logout_ends_every_session_of_the_account(stack, primary, replica):
    first = signed_in(stack)
    second = Browser(stack.frontend_url)
    assert second.log_in(first.username, first.password).url.endswith("/")
    assert "Signed in as" in second.get("/").text
    first.post("/logout", {})
    # The other session reads the replica with no LSN of this logout (it has replayed
    # its own writes, so it sends none): it ends as soon as the replica has the logout.
    wait_replayed(primary, replica)
    ended = second.get("/")
    assert "/login" in ended.url
    assert "session has ended" in ended.text


def test_password_change_ends_the_other_sessions(stack):
    here = signed_in(stack)
    elsewhere = Browser(stack.frontend_url)
    elsewhere.log_in(here.username, here.password)
    here.get("/account")
    changed = here.post("/account/password", {"current_password": here.password, "new_password": "a brand new one"})
    assert changed.status_code == 200 and "password was changed" in changed.text
    assert "Signed in as" in here.get("/").text  # this session goes on
    assert "/login" in elsewhere.get("/").url  # the other one has ended
    fresh = Browser(stack.frontend_url)
    assert "/login" in fresh.log_in(here.username, here.password).url  # the old password fails
    assert fresh.log_in(here.username, "a brand new one").url.endswith("/")


def test_wrong_current_password_changes_nothing(stack):
    person = signed_in(stack)
    person.get("/account")
    refused = person.post("/account/password", {"current_password": "not it at all", "new_password": "whatever else"})
    assert refused.status_code == 403
    assert "current password is wrong" in refused.text
    assert Browser(stack.frontend_url).log_in(person.username, person.password).url.endswith("/")


def test_deleting_an_account_removes_its_data_and_nobody_elses(stack, primary):
    leaving, staying = signed_in(stack), Person(stack)
    staying.writer("POST", "/v1/todos", json={"name": "staying's item"})
    path = leaving.list_path()
    leaving.post(path + "/todos", {"name": "leaving's item"})
    leaving.post("/lists", {"name": "second list"})
    leaving.get("/account")
    leaving.post("/account/tokens", {"list": path.rsplit("/", 1)[1]})
    with primary.cursor() as cur:
        cur.execute("SELECT id FROM accounts WHERE username = %s", (leaving.username,))
        (account_id,) = cur.fetchone()
    refused = leaving.post("/account/delete", {"password": "not the password"})
    assert refused.status_code == 403
    gone = leaving.post("/account/delete", {"password": leaving.password})
    assert gone.status_code == 200 and "deleted" in gone.text
    with primary.cursor() as cur:
        for table, column in (("accounts", "id"), ("todo_lists", "account_id"), ("api_tokens", "account_id")):
            cur.execute(f"SELECT count(*) FROM {table} WHERE {column} = %s", (account_id,))
            assert cur.fetchone()[0] == 0, table
    assert row_count(primary, "name = %s", ("leaving's item",)) == 0
    assert row_count(primary, "name = %s", ("staying's item",)) == 1
    assert "/login" in Browser(stack.frontend_url).log_in(leaving.username, leaving.password).url


def test_sign_up_refuses_clearly_and_keeps_the_username(stack):
    browser = Browser(stack.frontend_url)
    browser.get("/signup")
    short = browser.post("/signup", {"username": "shorty", "password": "short"})
    assert short.status_code == 422
    assert "at least 8 characters" in short.text
    assert 'value="shorty"' in short.text
    assert 'short"' not in short.text.split('name="password"')[1][:200]  # the password is never echoed
    taken = Person(stack)
    again = browser.post("/signup", {"username": taken.username.upper(), "password": "long enough password"})
    assert again.status_code == 409
    assert "taken" in again.text
    bad = browser.post("/signup", {"username": "no spaces allowed", "password": "long enough password"})
    assert bad.status_code == 422


def test_a_long_passphrase_works(stack):
    passphrase = "correct horse battery staple " * 30  # 870 characters
    browser = Browser(stack.frontend_url)
    browser.sign_up(password=passphrase)
    assert Browser(stack.frontend_url).log_in(browser.username, passphrase).url.endswith("/")


def test_lists_and_their_limits(stack):
    from todo_common.settings import Env
    from todo_writer import create_app as create_writer
    from todo_writer.settings import WriterSettings

    env = {**stack.service_env("writer"), "MAX_LISTS_PER_ACCOUNT": "2", "MAX_ITEMS_PER_LIST": "3"}
    writer = create_writer(WriterSettings.from_env(Env(env))).test_client()
    person = Person(stack)
    headers = person.headers()
    assert writer.post("/v1/lists", json={"name": "second"}, headers=headers).status_code == 201
    third = writer.post("/v1/lists", json={"name": "third"}, headers=headers)
    assert third.status_code == 409 and "most lists" in third.get_json()["error"]
    for n in range(3):
        assert writer.post("/v1/todos", json={"name": f"item {n}"}, headers=headers).status_code == 201
    full = writer.post("/v1/todos", json={"name": "one too many"}, headers=headers)
    assert full.status_code == 409 and "at most 3 items" in full.get_json()["error"]
    # The last list stays.
    lists = person.reader("/v1/lists").json()["lists"]
    assert person.writer("DELETE", f"/v1/lists/{lists[1]['id']}").status_code == 200
    last = person.writer("DELETE", f"/v1/lists/{lists[0]['id']}")
    assert last.status_code == 409 and "only list" in last.json()["error"]


def _start_frontend(stack, port: int) -> subprocess.Popen:
    env = {**stack._process_env("frontend"), "PORT": str(port), "METRICS_PORT": "0"}
    env["PROMETHEUS_MULTIPROC_DIR"] = str(stack.root / "metrics" / f"frontend-{port}")
    return subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:todo_common.gunicorn_conf", "todo_frontend:create_app()"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass  # not listening yet
        time.sleep(0.1)
    raise AssertionError(f"{url} did not start")


def test_failed_logins_are_throttled_across_frontend_processes(stack):
    """The N+1th failure answers 429 from another frontend process than the first N:
    the count lives in PostgreSQL, not in a process."""
    person = Person(stack)
    port = free_port()
    other = _start_frontend(stack, port)
    try:
        second_url = f"http://127.0.0.1:{port}"
        _wait_up(second_url)
        first = Browser(stack.frontend_url)
        for _ in range(10):  # LOGIN_FAILURES_PER_ACCOUNT's default
            assert first.log_in(person.username, "wrong guess").status_code == 401
        second = Browser(second_url)
        throttled = second.log_in(person.username, "wrong guess")
        assert throttled.status_code == 429
        assert int(throttled.headers["Retry-After"]) > 0
        assert "too many failed log-ins" in throttled.text.lower()
        # Even the right password waits now; another account is not affected.
        assert second.log_in(person.username, person.password).status_code == 429
        assert Browser(second_url).log_in(Person(stack).username, "a long enough password").url.endswith("/")
        api = requests.post(second_url + "/api/tokens", auth=(person.username, person.password), timeout=10)
        assert api.status_code == 429 and "Retry-After" in api.headers
    finally:
        os.killpg(other.pid, signal.SIGTERM)
        other.wait(timeout=30)


def test_sign_ups_per_address_are_limited(stack):
    from todo_common.settings import Env
    from todo_writer import create_app as create_writer
    from todo_writer.settings import WriterSettings

    env = {**stack.service_env("writer"), "SIGNUPS_PER_ADDRESS_PER_HOUR": "2"}
    writer = create_writer(WriterSettings.from_env(Env(env))).test_client()
    address = f"192.0.2.{uuid.uuid4().int % 250 + 1}"
    headers = service_headers(stack, Actor(address=address))
    for n in range(2):
        body = {"username": f"limit-{uuid.uuid4().hex[:8]}", "password": "a long enough password"}
        assert writer.post("/v1/accounts", json=body, headers=headers).status_code == 201, n
    refused = writer.post(
        "/v1/accounts",
        json={"username": f"limit-{uuid.uuid4().hex[:8]}", "password": "a long enough password"},
        headers=headers,
    )
    assert refused.status_code == 429
    assert "too many sign-ups" in refused.get_json()["error"]
    assert int(refused.headers["Retry-After"]) > 0
    other_address = service_headers(stack, Actor(address="198.51.100.7"))
    body = {"username": f"limit-{uuid.uuid4().hex[:8]}", "password": "a long enough password"}
    assert writer.post("/v1/accounts", json=body, headers=other_address).status_code == 201


def test_client_address_comes_from_forwarded_headers_only_through_trusted_proxies(stack):
    """Without a trusted proxy, X-Forwarded-For cannot dodge the per-address limit."""
    from todo_common.settings import Env
    from todo_frontend import create_app
    from todo_frontend.settings import FrontendSettings

    seen = []
    for trusted, forwarded in ((0, "203.0.113.9"), (1, "203.0.113.9")):
        settings = FrontendSettings.from_env(Env({**stack.service_env("frontend"), "TRUSTED_PROXIES": str(trusted)}))
        app = create_app(settings)

        @app.get("/_address")
        def _address():
            from todo_frontend import identity

            return identity.client_address() or ""

        seen.append(app.test_client().get("/_address", headers={"X-Forwarded-For": forwarded}).text)
    assert seen == ["127.0.0.1", "203.0.113.9"]


def test_session_cookie_is_secure_behind_https(stack):
    from todo_common.settings import Env
    from todo_frontend.settings import FrontendSettings

    https = FrontendSettings.from_env(Env({**stack.service_env("frontend"), "PUBLIC_URL": "https://todo.example"}))
    plain = FrontendSettings.from_env(Env(stack.service_env("frontend")))
    assert https.session_cookie_secure is True
    assert plain.session_cookie_secure is False
    cookie = signed_in(stack).http.cookies
    assert any(c.has_nonstandard_attr("HttpOnly") or c.name == "session" for c in cookie)
