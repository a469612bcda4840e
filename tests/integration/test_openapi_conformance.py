"""The running stack answers as docs/openapi says: every status code is documented for
its operation, and every body and documented header validates against its schema.

Every documented operation is called at least once (the last test checks), with its
errors: no or a forged service token, another account's ids, a revoked API token,
limits and throttling. People sign up through the writer, and calls to the reader
and the writer carry a service token signed as the frontend signs it."""

from __future__ import annotations

import base64
import hashlib
import re
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from todo_common import service_token
from todo_common.service_auth import NOT_SIGNED_IN, SESSION_ENDED
from todo_common.service_token import Actor
from todo_common.settings import Env
from todo_reader import create_app as create_reader
from todo_reader.settings import ReaderSettings
from todo_writer import create_app as create_writer
from todo_writer.settings import WriterSettings

from ..helpers import wait_replayed

DOCS = Path(__file__).resolve().parents[2] / "docs" / "openapi"
TIMEOUT = 10
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
PASSWORD = "a long enough password"
NEW_PASSWORD = "another long enough password"
# The two ways a script reaches its list through the public API.
MODES = ["bearer", "capability"]


class Contract:
    """One OpenAPI document, able to check a real response against it; remembers which
    operations were checked."""

    def __init__(self, name: str):
        self.uri = f"urn:todo:openapi:{name}"
        self.doc = yaml.safe_load((DOCS / name).read_text(encoding="utf-8"))
        resource = Resource.from_contents(self.doc, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(self.uri, resource)
        self.exercised: set[tuple[str, str]] = set()

    def operations(self) -> set[tuple[str, str]]:
        return {(path, method) for path, item in self.doc["paths"].items() for method in item if method in HTTP_METHODS}

    def path_of(self, path: str) -> str:
        """The documented path a concrete one falls under (literal segments win:
        /v1/todos/mark-all is not /v1/todos/{todo_id})."""
        matches = [
            template
            for template in self.doc["paths"]
            if re.fullmatch(re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template)), path)
        ]
        assert matches, f"{path} is under no documented path"
        return min(matches, key=lambda template: template.count("{"))

    def _deref(self, node: dict) -> dict:
        while "$ref" in node:
            node = self.registry.resolver(self.uri).lookup(self._absolute_ref(node["$ref"])).contents
        return node

    def _absolute_ref(self, ref: str) -> str:
        return self.uri + ref if ref.startswith("#") else ref

    def _absolute(self, node):
        """A schema taken out of the document, its local $refs pointed back into it."""
        if isinstance(node, dict):
            return {k: self._absolute_ref(v) if k == "$ref" else self._absolute(v) for k, v in node.items()}
        if isinstance(node, list):
            return [self._absolute(v) for v in node]
        return node

    def validate(self, schema: dict, value, what: str) -> None:
        validator = Draft202012Validator(
            self._absolute(schema), registry=self.registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
        assert not errors, f"{what}: {errors[0].message} at {list(errors[0].path)} in {value!r:.300}"

    def check(self, path: str, method: str, response: requests.Response) -> requests.Response:
        """Assert ``response`` is one the document allows for ``method path``; return it."""
        self.exercised.add((path, method))
        what = f"{method.upper()} {path} -> {response.status_code}"
        operation = self.doc["paths"][path][method]
        code = str(response.status_code)
        assert code in operation["responses"], f"{what} is not documented: {response.text[:300]}"
        answer = self._deref(operation["responses"][code])
        for name, header in answer.get("headers", {}).items():
            header = self._deref(header)
            if name not in response.headers:
                assert not header.get("required"), f"{what}: required header {name} missing"
                continue
            self.validate(header["schema"], response.headers[name], f"{what} header {name}")
        content = answer.get("content")
        if not content:
            assert response.content == b"", f"{what}: documented without a body, got {response.text[:200]}"
            return response
        mimetype = response.headers.get("Content-Type", "").split(";")[0].strip()
        assert mimetype in content, f"{what}: Content-Type {mimetype!r} not documented ({sorted(content)})"
        if mimetype == "application/json":
            self.validate(content[mimetype]["schema"], response.json(), f"{what} body")
        return response


class Api:
    """One service at its address: each call's answer is checked against its document,
    and ``as_`` (an actor) sends a service token signed as the frontend signs it."""

    def __init__(self, contract: Contract, base_url: str, key: str | None = None):
        self.contract = contract
        self.base_url = base_url
        self.key = key

    def bearer(self, actor: Actor) -> dict:
        return {"Authorization": "Bearer " + service_token.sign(self.key, actor)}

    def __call__(
        self,
        method: str,
        path: str,
        *,
        as_: Actor | None = None,
        status: int | None = None,
        headers: dict | None = None,
        **kwargs,
    ) -> requests.Response:
        headers = {**(self.bearer(as_) if as_ is not None else {}), **(headers or {})}
        url = path if path.startswith("http") else self.base_url + path
        response = requests.request(method, url, headers=headers, timeout=TIMEOUT, **kwargs)
        self.contract.check(self.contract.path_of(urlsplit(url).path), method.lower(), response)
        if status is not None:
            assert response.status_code == status, f"{method} {path} -> {response.status_code}: {response.text[:300]}"
        return response


class Member:
    """An account signed up through the writer (its answer checked against the document)."""

    def __init__(self, writer: Api):
        self.username = f"oas-{uuid.uuid4().hex[:12]}"
        self.password = PASSWORD
        answer = writer(
            "POST", "/v1/accounts", as_=Actor(), json={"username": self.username, "password": PASSWORD}, status=201
        )
        body = answer.json()
        assert body["account"]["username"] == self.username
        assert answer.headers["X-Commit-LSN"] == body["lsn"]
        self.id = body["account"]["id"]
        self.generation = body["generation"]
        self.list = body["list"]
        self.lsn = body["lsn"]

    @property
    def actor(self) -> Actor:
        return Actor(account_id=self.id, generation=self.generation)

    @property
    def basic(self) -> tuple[str, str]:
        return self.username, self.password


def token_actor(token: str) -> Actor:
    """What the frontend signs for a script using ``token``."""
    return Actor(api_token_hash=hashlib.sha256(token.encode()).hexdigest())


def in_process(app, method: str, path: str, **kwargs) -> requests.Response:
    """Call a Flask app built here, and hand its answer over as a requests.Response."""
    with app.test_client() as client:
        answer = client.open(path, method=method, **kwargs)
    response = requests.Response()
    response.status_code = answer.status_code
    response.headers.update(answer.headers)
    response._content = answer.get_data()
    return response


def writer_limit(stack, name: str, default: int) -> int:
    return int(stack.service_env("writer").get(name, default))


def _name(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def writer_doc():
    return Contract("writer.yaml")


@pytest.fixture(scope="module")
def reader_doc():
    return Contract("reader.yaml")


@pytest.fixture(scope="module")
def public_doc():
    return Contract("public-api.yaml")


@pytest.fixture(scope="module")
def writer(stack, writer_doc):
    return Api(writer_doc, stack.url("writer"), stack.passwords["service_token_key"])


@pytest.fixture(scope="module")
def reader(stack, reader_doc):
    return Api(reader_doc, stack.url("reader"), stack.passwords["service_token_key"])


@pytest.fixture(scope="module")
def public(stack, public_doc):
    return Api(public_doc, stack.frontend_url)


@pytest.fixture(scope="module")
def ada(writer):
    return Member(writer)


@pytest.fixture(scope="module")
def bob(writer):
    """Another account: its ids are ada's 404s, and ada's are its."""
    return Member(writer)


@pytest.fixture
def member(writer):
    """A fresh account, for tests that end its sessions, fill its limits or delete it."""
    return Member(writer)


@pytest.fixture(scope="module")
def scripts(public, ada):
    """Where a script reaches ada's first list, by mode: (collection URL, headers)."""
    made = {}

    def collection(mode: str) -> tuple[str, dict]:
        if mode not in made:
            body = public("POST", "/api/tokens", auth=ada.basic, status=201).json()
            if mode == "capability":
                made[mode] = body["api_root"], {}
            else:
                made[mode] = public.base_url + "/api/todos", {"Authorization": f"Bearer {body['token']}"}
        return made[mode]

    return collection


@pytest.fixture(scope="module")
def throttled(stack, writer):
    """A person whose username has had too many failed log-ins: every password check
    now answers 429 until the window ends."""
    person = Member(writer)
    wrong = {"username": person.username, "password": "wrong password"}
    for _ in range(writer_limit(stack, "LOGIN_FAILURES_PER_ACCOUNT", 10)):
        writer("POST", "/v1/sessions", as_=Actor(), json=wrong, status=401)
    return person


# -- service tokens (reader and writer) ----------------------------------------------------


def _guarded_operations():
    for name in ("writer.yaml", "reader.yaml"):
        doc = yaml.safe_load((DOCS / name).read_text(encoding="utf-8"))
        for path, item in doc["paths"].items():
            for method, operation in item.items():
                if method in HTTP_METHODS and operation.get("security") != []:
                    yield pytest.param(name, path, method, id=f"{name.split('.')[0]} {method.upper()} {path}")


@pytest.mark.parametrize(("name", "path", "method"), list(_guarded_operations()))
def test_calls_without_a_valid_service_token_are_401(stack, writer, reader, name, path, method):
    api = writer if name == "writer.yaml" else reader
    key = stack.passwords["service_token_key"]
    someone = Actor(account_id=1, generation=1)
    refused = {
        "missing": None,
        "not bearer": "Basic " + base64.b64encode(b"ada:password").decode(),
        "not a JWT": "Bearer not-a-jwt",
        "forged": "Bearer " + service_token.sign("another key, not the frontend's one", someone),
        "expired": "Bearer " + service_token.sign(key, someone, now=time.time() - 3600),
    }
    concrete = re.sub(r"\{[a-z_]+\}", "1", path)
    for what, authorization in refused.items():
        headers = {} if authorization is None else {"Authorization": authorization}
        answer = api(method.upper(), concrete, headers=headers, json={}, status=401)
        assert answer.headers["WWW-Authenticate"].startswith("Bearer"), what
        assert "code" not in answer.json(), what


@pytest.mark.parametrize("service", ["writer", "reader"])
def test_operations_endpoints(stack, writer_doc, reader_doc, service):
    doc = writer_doc if service == "writer" else reader_doc
    for path in ("/healthz", "/readyz"):
        response = requests.get(stack.url(service) + path, timeout=TIMEOUT)
        assert doc.check(path, "get", response).status_code == 200, path
    # Metrics are not on the API port (the gunicorn master serves them on METRICS_PORT).
    on_api_port = requests.get(stack.url(service) + "/metrics", timeout=TIMEOUT)
    assert on_api_port.status_code in (401, 404) and "todo_http_requests_total" not in on_api_port.text


# -- writer: accounts and sessions ---------------------------------------------------------


def test_writer_sign_up_and_log_in(writer, ada):
    accounts = "/v1/accounts"
    taken = {"username": ada.username.upper(), "password": PASSWORD}
    writer("POST", accounts, as_=Actor(), json=taken, status=409)
    for bad in (
        {"username": "ab", "password": PASSWORD},
        {"username": "-starts-with-a-dash", "password": PASSWORD},
        {"username": f"oas-{uuid.uuid4().hex[:8]}", "password": "short"},
        {"password": PASSWORD},
    ):
        writer("POST", accounts, as_=Actor(), json=bad, status=422)
    json_type = {"Content-Type": "application/json"}
    writer("POST", accounts, as_=Actor(), data=b"{", headers=json_type, status=400)
    writer("POST", accounts, as_=Actor(), data=b"username=x", headers={"Content-Type": "text/plain"}, status=415)
    huge = b'{"username": "' + b"a" * 70_000 + b'"}'
    writer("POST", accounts, as_=Actor(), data=huge, headers=json_type, status=413)

    sessions = "/v1/sessions"
    logged = writer("POST", sessions, as_=Actor(), json={"username": ada.username, "password": PASSWORD}, status=200)
    assert logged.json()["account"] == {"id": ada.id, "username": ada.username}
    assert logged.json()["generation"] == ada.generation
    for wrong in ({"username": ada.username, "password": "wrong password"}, {"username": "x", "password": ""}, {}):
        answer = writer("POST", sessions, as_=Actor(), json=wrong, status=401)
        assert "code" not in answer.json()
    writer("POST", sessions, as_=Actor(), data=b"[1]", headers=json_type, status=400)
    writer("POST", sessions, as_=Actor(), data=b"x", headers={"Content-Type": "text/plain"}, status=415)
    writer("POST", sessions, as_=Actor(), data=huge, headers=json_type, status=413)


def test_writer_sign_ups_past_the_hourly_limit_are_429(stack, writer_doc):
    """An in-process writer on the real primary, allowing one sign-up per address an hour."""
    env = {**stack.service_env("writer"), "SIGNUPS_PER_ADDRESS_PER_HOUR": "1", "PROMETHEUS_MULTIPROC_DIR": ""}
    app = create_writer(WriterSettings.from_env(Env(env)))
    headers = {"Authorization": "Bearer " + service_token.sign(env["SERVICE_TOKEN_KEY"], Actor(address=_name("oas")))}
    bodies = [{"username": f"oas-{uuid.uuid4().hex[:12]}", "password": PASSWORD} for _ in range(2)]
    answers = [in_process(app, "POST", "/v1/accounts", headers=headers, json=body) for body in bodies]
    assert [writer_doc.check("/v1/accounts", "post", a).status_code for a in answers] == [201, 429]
    assert int(answers[1].headers["Retry-After"]) > 0


def test_writer_password_checks_past_the_limit_are_429(writer, throttled):
    """Past the failed log-ins allowed, even the right password waits."""
    right = {"username": throttled.username, "password": throttled.password}
    answer = writer("POST", "/v1/sessions", as_=Actor(), json=right, status=429)
    assert int(answer.headers["Retry-After"]) > 0
    writer("POST", "/v1/tokens", as_=Actor(), json=right, status=429)
    change = {"current_password": throttled.password, "new_password": NEW_PASSWORD}
    writer("PUT", "/v1/account/password", as_=throttled.actor, json=change, status=429)
    writer("DELETE", "/v1/account", as_=throttled.actor, json={"password": throttled.password}, status=429)


def test_writer_log_out_ends_every_session(writer, reader, member):
    ended = writer("DELETE", "/v1/sessions", as_=member.actor, status=200).json()
    gone = writer("POST", "/v1/lists", as_=member.actor, json={"name": "x"}, status=401).json()
    assert gone["code"] == SESSION_ENDED
    gone = reader("GET", "/v1/lists", as_=member.actor, headers={"X-Min-LSN": ended["lsn"]}, status=401).json()
    assert gone["code"] == SESSION_ENDED
    assert writer("DELETE", "/v1/sessions", as_=Actor(), status=401).json()["code"] == NOT_SIGNED_IN
    upper = {"username": member.username.upper(), "password": PASSWORD}
    again = writer("POST", "/v1/sessions", as_=Actor(), json=upper, status=200)
    assert again.json()["generation"] == member.generation + 1
    fresh = Actor(account_id=member.id, generation=again.json()["generation"])
    reader("GET", "/v1/lists", as_=fresh, headers={"X-Min-LSN": again.json()["lsn"]}, status=200)


def test_writer_password_change(writer, member):
    path = "/v1/account/password"
    wrong = {"current_password": "wrong password", "new_password": NEW_PASSWORD}
    writer("PUT", path, as_=member.actor, json=wrong, status=403)
    writer("PUT", path, as_=member.actor, json={"current_password": PASSWORD, "new_password": "short"}, status=422)
    writer("PUT", path, as_=member.actor, json={"new_password": NEW_PASSWORD}, status=422)
    writer("PUT", path, as_=member.actor, data=b"{", headers={"Content-Type": "application/json"}, status=400)
    writer("PUT", path, as_=member.actor, data=b"x", headers={"Content-Type": "text/plain"}, status=415)
    right = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    changed = writer("PUT", path, as_=member.actor, json=right, status=200).json()
    assert changed["generation"] == member.generation + 1
    assert writer("PUT", path, as_=member.actor, json=right, status=401).json()["code"] == SESSION_ENDED
    for password, status in ((PASSWORD, 401), (NEW_PASSWORD, 200)):
        log_in = {"username": member.username, "password": password}
        writer("POST", "/v1/sessions", as_=Actor(), json=log_in, status=status)


def test_writer_delete_account(writer, reader, member):
    path = "/v1/account"
    writer("DELETE", path, as_=member.actor, json={}, status=422)
    writer("DELETE", path, as_=member.actor, json={"password": "wrong password"}, status=403)
    writer("DELETE", path, as_=member.actor, data=b"[]", headers={"Content-Type": "application/json"}, status=400)
    writer("DELETE", path, as_=member.actor, data=b"x", headers={"Content-Type": "text/plain"}, status=415)
    writer("DELETE", path, as_=Actor(), json={"password": PASSWORD}, status=401)
    deleted = writer("DELETE", path, as_=member.actor, json={"password": PASSWORD}, status=200).json()
    assert writer("DELETE", "/v1/sessions", as_=member.actor, status=401).json()["code"] == SESSION_ENDED
    gone = reader("GET", "/v1/todos", as_=member.actor, headers={"X-Min-LSN": deleted["lsn"]}, status=401).json()
    assert gone["code"] == SESSION_ENDED
    writer("POST", "/v1/sessions", as_=Actor(), json={"username": member.username, "password": PASSWORD}, status=401)


# -- writer: API tokens --------------------------------------------------------------------


def test_writer_tokens(writer, member, bob):
    own = writer("POST", "/v1/tokens", as_=member.actor, json={}, status=201).json()["token"]
    assert own["list"] == member.list
    second = writer("POST", "/v1/lists", as_=member.actor, json={"name": _name("oas")}, status=201).json()["list"]
    chosen = writer("POST", "/v1/tokens", as_=member.actor, json={"list": second["id"]}, status=201).json()["token"]
    assert chosen["list"] == second["id"]
    writer("POST", "/v1/tokens", as_=member.actor, json={"list": bob.list}, status=404)
    writer("POST", "/v1/tokens", as_=member.actor, json={"list": "seven"}, status=422)
    writer("POST", "/v1/tokens", as_=member.actor, data=b"{", headers={"Content-Type": "application/json"}, status=400)
    writer("POST", "/v1/tokens", as_=member.actor, data=b"x", headers={"Content-Type": "text/plain"}, status=415)
    by_password = {"username": member.username, "password": PASSWORD}
    made = writer("POST", "/v1/tokens", as_=Actor(), json=by_password, status=201).json()["token"]
    assert made["list"] == member.list
    writer("POST", "/v1/tokens", as_=Actor(), json={**by_password, "password": "wrong password"}, status=401)
    writer("POST", "/v1/tokens", as_=Actor(), json={}, status=401)

    writer("DELETE", f"/v1/tokens/{own['id']}", as_=bob.actor, status=404)
    assert writer("DELETE", f"/v1/tokens/{own['id']}", as_=member.actor, status=200).json()["revoked"] == own["id"]
    writer("DELETE", f"/v1/tokens/{own['id']}", as_=member.actor, status=404)
    writer("DELETE", "/v1/tokens/abc", as_=member.actor, status=404)
    anonymous = writer("DELETE", f"/v1/tokens/{chosen['id']}", as_=Actor(), status=401).json()
    assert anonymous["code"] == NOT_SIGNED_IN


def test_writer_token_limit_is_409(stack, writer, public, member):
    for _ in range(writer_limit(stack, "MAX_API_TOKENS_PER_ACCOUNT", 20)):
        writer("POST", "/v1/tokens", as_=member.actor, json={}, status=201)
    writer("POST", "/v1/tokens", as_=member.actor, json={}, status=409)
    public("POST", "/api/tokens", auth=member.basic, status=409)


def test_writer_api_tokens_reach_items_of_their_list_only(writer, ada):
    other = writer("POST", "/v1/lists", as_=ada.actor, json={"name": _name("oas other")}, status=201).json()["list"]
    token = writer("POST", "/v1/tokens", as_=ada.actor, json={}, status=201).json()["token"]
    script = token_actor(token["token"])
    todo = writer("POST", "/v1/todos", as_=script, json={"name": _name("by token")}, status=201).json()["todo"]
    assert todo["list"] == token["list"] == ada.list
    writer("POST", "/v1/todos", as_=script, json={"name": "elsewhere", "list": other["id"]}, status=404)
    writer("DELETE", "/v1/todos", as_=script, params={"list": other["id"]}, status=404)
    elsewhere = writer("POST", "/v1/todos", as_=ada.actor, json={"name": "x", "list": other["id"]}, status=201)
    writer("PATCH", f"/v1/todos/{elsewhere.json()['todo']['id']}", as_=script, json={"completed": True}, status=404)

    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    not_for_scripts = [
        ("POST", "/v1/lists", {"name": "x"}),
        ("PATCH", f"/v1/lists/{ada.list}", {"name": "x"}),
        ("DELETE", f"/v1/lists/{other['id']}", None),
        ("DELETE", "/v1/sessions", None),
        ("PUT", "/v1/account/password", change),
        ("DELETE", "/v1/account", {"password": PASSWORD}),
        ("POST", "/v1/tokens", {}),
        ("DELETE", f"/v1/tokens/{token['id']}", None),
    ]
    for method, path, body in not_for_scripts:
        writer(method, path, as_=script, json=body, status=403)

    writer("DELETE", f"/v1/tokens/{token['id']}", as_=ada.actor, status=200)
    revoked = [
        ("POST", "/v1/todos", {"name": "x"}),
        ("PATCH", f"/v1/todos/{todo['id']}", {"completed": True}),
        ("DELETE", f"/v1/todos/{todo['id']}", None),
        ("DELETE", "/v1/todos", None),
        ("POST", "/v1/todos/mark-all", {"completed": True}),
        *not_for_scripts,
    ]
    for method, path, body in revoked:
        writer(method, path, as_=script, json=body, status=404)
    writer("DELETE", f"/v1/todos/{todo['id']}", as_=ada.actor, status=200)


# -- writer: items and lists ---------------------------------------------------------------


def test_writer_create_update_delete(writer, ada, bob):
    body = {"name": _name("oas writer"), "list": ada.list}
    todo = writer("POST", "/v1/todos", as_=ada.actor, json=body, status=201).json()["todo"]
    assert todo["list"] == ada.list
    path = f"/v1/todos/{todo['id']}"
    # Another account's item is not found, and stays as it was.
    writer("PATCH", path, as_=bob.actor, json={"name": "bob was here"}, status=404)
    writer("DELETE", path, as_=bob.actor, status=404)
    changed = writer("PATCH", path, as_=ada.actor, json={"completed": True, "order": 3}, status=200)
    assert changed.headers["X-Commit-LSN"] == changed.json()["lsn"]
    assert changed.json()["todo"] == {**todo, "completed": True, "order": 3}
    writer("PATCH", path, as_=ada.actor, json={}, status=422)
    deleted = writer("DELETE", path, as_=ada.actor, status=200).json()
    assert (deleted["deleted"], deleted["list"]) == (1, ada.list)
    for method in ("PATCH", "DELETE"):
        writer(method, path, as_=ada.actor, json={"completed": False}, status=404)
        writer(method, "/v1/todos/abc", as_=ada.actor, json={"completed": False}, status=404)


def test_writer_idempotent_create(writer, ada, bob):
    key = f"oas-{uuid.uuid4()}"
    body = {"name": _name("oas idempotent")}
    first = writer("POST", "/v1/todos", as_=ada.actor, json=body, headers={"Idempotency-Key": key}, status=201)
    again = writer("POST", "/v1/todos", as_=ada.actor, json=body, headers={"Idempotency-Key": key}, status=201)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["todo"] == first.json()["todo"]
    # Keys are per account: the same key is another request for someone else.
    bobs = writer("POST", "/v1/todos", as_=bob.actor, json=body, headers={"Idempotency-Key": key}, status=201)
    assert "Idempotent-Replayed" not in bobs.headers
    assert bobs.json()["todo"]["id"] != first.json()["todo"]["id"]
    reused = {"name": "something else"}
    writer("POST", "/v1/todos", as_=ada.actor, json=reused, headers={"Idempotency-Key": key}, status=422)
    writer("POST", "/v1/todos", as_=ada.actor, json=body, headers={"Idempotency-Key": "k" * 256}, status=400)
    writer("DELETE", f"/v1/todos/{first.json()['todo']['id']}", as_=ada.actor, status=200)
    writer("DELETE", f"/v1/todos/{bobs.json()['todo']['id']}", as_=bob.actor, status=200)


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        pytest.param({"json": {"name": "x" * 101}}, 422, id="name too long"),
        pytest.param({"json": {"name": "ok", "colour": "red"}}, 422, id="unknown field"),
        pytest.param({"json": {}}, 422, id="name missing"),
        pytest.param({"json": {"name": "ok", "list": "seven"}}, 422, id="list not an id"),
        pytest.param({"json": {"name": "ok", "list": 0}}, 422, id="list 0"),
        pytest.param({"data": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, id="malformed"),
        pytest.param({"json": ["a list"]}, 400, id="not an object"),
        pytest.param({"data": b"name=x", "headers": {"Content-Type": "text/plain"}}, 415, id="not JSON"),
        pytest.param(
            {"data": b'{"name": "' + b"a" * 70_000 + b'"}', "headers": {"Content-Type": "application/json"}},
            413,
            id="too large",
        ),
    ],
)
def test_writer_create_errors(writer, ada, kwargs, status):
    writer("POST", "/v1/todos", as_=ada.actor, status=status, **kwargs)


def test_writer_another_accounts_list_is_404(writer, ada, bob):
    writer("POST", "/v1/todos", as_=bob.actor, json={"name": "in ada's list", "list": ada.list}, status=404)
    writer("POST", "/v1/todos/mark-all", as_=bob.actor, json={"completed": True, "list": ada.list}, status=404)
    writer("DELETE", "/v1/todos", as_=bob.actor, params={"list": ada.list, "completed": "true"}, status=404)
    writer("PATCH", f"/v1/lists/{ada.list}", as_=bob.actor, json={"name": "mine now"}, status=404)
    writer("DELETE", f"/v1/lists/{ada.list}", as_=bob.actor, status=404)


def test_writer_bulk_operations(writer, ada):
    made = writer("POST", "/v1/lists", as_=ada.actor, json={"name": _name("oas bulk")}, status=201).json()["list"]
    for n in range(3):
        item = {"name": f"bulk {n}", "list": made["id"], "completed": n == 0}
        writer("POST", "/v1/todos", as_=ada.actor, json=item, status=201)
    mark_all = "/v1/todos/mark-all"
    marked = writer("POST", mark_all, as_=ada.actor, json={"completed": True, "list": made["id"]}, status=200).json()
    assert (marked["updated"], marked["list"]) == (2, made["id"])
    writer("POST", mark_all, as_=ada.actor, json={}, status=422)
    writer("POST", mark_all, as_=ada.actor, json={"completed": True, "list": "x"}, status=422)
    writer("POST", mark_all, as_=ada.actor, data=b"{", headers={"Content-Type": "application/json"}, status=400)
    writer("POST", mark_all, as_=ada.actor, data=b"x", headers={"Content-Type": "text/plain"}, status=415)
    params = {"list": made["id"], "completed": "true"}
    cleared = writer("DELETE", "/v1/todos", as_=ada.actor, params=params, status=200).json()
    assert (cleared["deleted"], cleared["list"]) == (3, made["id"])
    writer("DELETE", "/v1/todos", as_=ada.actor, params={"completed": "false"}, status=400)
    writer("DELETE", "/v1/todos", as_=ada.actor, params={"list": "abc"}, status=400)
    emptied = writer("DELETE", "/v1/todos", as_=ada.actor, params={"list": made["id"]}, status=200).json()
    assert emptied["deleted"] == 0


def test_writer_lists(writer, ada, bob):
    made = writer("POST", "/v1/lists", as_=ada.actor, json={"name": "  Groceries  "}, status=201).json()["list"]
    assert made["name"] == "Groceries"
    for bad in ({"name": " "}, {"name": "x" * 101}, {}, {"name": "x", "colour": "red"}):
        writer("POST", "/v1/lists", as_=ada.actor, json=bad, status=422)
    writer("POST", "/v1/lists", as_=ada.actor, data=b"[", headers={"Content-Type": "application/json"}, status=400)
    writer("POST", "/v1/lists", as_=ada.actor, data=b"x", headers={"Content-Type": "text/plain"}, status=415)
    assert writer("POST", "/v1/lists", as_=Actor(), json={"name": "x"}, status=401).json()["code"] == NOT_SIGNED_IN

    path = f"/v1/lists/{made['id']}"
    renamed = writer("PATCH", path, as_=ada.actor, json={"name": "Shopping"}, status=200).json()["list"]
    assert renamed == {"id": made["id"], "name": "Shopping"}
    writer("PATCH", path, as_=ada.actor, json={"name": ""}, status=422)
    writer("PATCH", path, as_=ada.actor, data=b"{", headers={"Content-Type": "application/json"}, status=400)
    writer("PATCH", path, as_=ada.actor, data=b"x", headers={"Content-Type": "text/plain"}, status=415)
    writer("PATCH", path, as_=bob.actor, json={"name": "mine now"}, status=404)
    writer("DELETE", path, as_=bob.actor, status=404)
    writer("PATCH", "/v1/lists/abc", as_=ada.actor, json={"name": "x"}, status=404)
    assert writer("DELETE", path, as_=ada.actor, status=200).json()["deleted"] == made["id"]
    writer("DELETE", path, as_=ada.actor, status=404)


def test_writer_last_list_and_list_limit_are_409(stack, writer, member):
    writer("DELETE", f"/v1/lists/{member.list}", as_=member.actor, status=409)
    for n in range(writer_limit(stack, "MAX_LISTS_PER_ACCOUNT", 50) - 1):
        writer("POST", "/v1/lists", as_=member.actor, json={"name": f"list {n}"}, status=201)
    writer("POST", "/v1/lists", as_=member.actor, json={"name": "one too many"}, status=409)


def test_a_full_list_is_409(stack, writer, public, primary, member):
    """Filled straight in the database (statement-level triggers keep its counts)."""
    with primary.cursor() as cur:
        cur.execute(
            "INSERT INTO todo_list (list_id, name, completed) SELECT %s, 'filler ' || n, false"
            " FROM generate_series(1, %s) n",
            (member.list, writer_limit(stack, "MAX_ITEMS_PER_LIST", 10_000)),
        )
    writer("POST", "/v1/todos", as_=member.actor, json={"name": "one too many"}, status=409)
    token = public("POST", "/api/tokens", auth=member.basic, status=201).json()
    public("POST", token["api_root"], json={"title": "one too many"}, status=409)
    bearer = {"Authorization": f"Bearer {token['token']}"}
    public("POST", "/api/todos", headers=bearer, json={"title": "one too many"}, status=409)


# -- reader --------------------------------------------------------------------------------


def test_reader_reads_with_min_lsn(writer, reader, ada):
    made = writer("POST", "/v1/lists", as_=ada.actor, json={"name": _name("oas reader")}, status=201).json()["list"]
    written = [
        writer("POST", "/v1/todos", as_=ada.actor, json={"name": _name("oas reader"), "list": made["id"]}, status=201)
        for _ in range(2)
    ]
    first_id = written[0].json()["todo"]["id"]
    done = writer("PATCH", f"/v1/todos/{first_id}", as_=ada.actor, json={"completed": True}, status=200)
    lsn = done.headers["X-Commit-LSN"]
    page = reader(
        "GET",
        "/v1/todos",
        as_=ada.actor,
        params={"list": made["id"], "after": first_id - 1, "limit": 1, "with_lists": "true"},
        headers={"X-Min-LSN": lsn},
        status=200,
    ).json()
    assert page["list"] == made
    assert [t["id"] for t in page["items"]] == [first_id]
    assert page["next_after"] == first_id
    assert page["counts"] == {"all": 2, "active": 1, "completed": 1}
    assert {ada.list, made["id"]} <= {entry["id"] for entry in page["lists"]}
    first = reader("GET", "/v1/todos", as_=ada.actor, params={"status": "active", "min_lsn": lsn}, status=200).json()
    assert (first["list"]["id"], first["lists"]) == (ada.list, None)
    one = reader("GET", f"/v1/todos/{first_id}", as_=ada.actor, headers={"X-Min-LSN": lsn}, status=200).json()
    assert (one["id"], one["list"], one["completed"]) == (first_id, made["id"], True)
    counts = reader("GET", "/v1/counts", as_=ada.actor, params={"list": made["id"], "min_lsn": lsn}, status=200)
    assert counts.json() == {"all": 2, "active": 1, "completed": 1}
    lists = reader("GET", "/v1/lists", as_=ada.actor, headers={"X-Min-LSN": lsn}, status=200).json()["lists"]
    assert {**made, "total": 2, "completed": 1} in lists

    token = writer("POST", "/v1/tokens", as_=ada.actor, json={"list": made["id"]}, status=201).json()
    account = reader("GET", "/v1/account", as_=ada.actor, headers={"X-Min-LSN": token["lsn"]}, status=200).json()
    assert (account["id"], account["username"]) == (ada.id, ada.username)
    assert {**made, "total": 2} in account["lists"]
    shown = next(t for t in account["tokens"] if t["id"] == token["token"]["id"])
    assert (shown["list"], shown["list_name"]) == (made["id"], made["name"])
    assert "token" not in shown
    writer("DELETE", f"/v1/tokens/{token['token']['id']}", as_=ada.actor, status=200)


def test_reader_another_accounts_ids_are_404(writer, reader, ada, bob):
    written = writer("POST", "/v1/todos", as_=ada.actor, json={"name": _name("oas private")}, status=201)
    todo_id, lsn = written.json()["todo"]["id"], written.headers["X-Commit-LSN"]
    reader("GET", "/v1/todos", as_=bob.actor, params={"list": ada.list, "min_lsn": lsn}, status=404)
    reader("GET", "/v1/counts", as_=bob.actor, params={"list": ada.list, "min_lsn": lsn}, status=404)
    reader("GET", f"/v1/todos/{todo_id}", as_=bob.actor, headers={"X-Min-LSN": lsn}, status=404)
    writer("DELETE", f"/v1/todos/{todo_id}", as_=ada.actor, status=200)


def test_reader_api_tokens_see_their_list_only(writer, reader, ada):
    other = writer("POST", "/v1/lists", as_=ada.actor, json={"name": _name("oas other")}, status=201).json()["list"]
    made = writer("POST", "/v1/tokens", as_=ada.actor, json={}, status=201).json()
    script, lsn = token_actor(made["token"]["token"]), {"X-Min-LSN": made["lsn"]}
    page = reader("GET", "/v1/todos", as_=script, headers=lsn, status=200).json()
    assert page["list"]["id"] == ada.list
    reader("GET", "/v1/counts", as_=script, headers=lsn, status=200)
    reader("GET", "/v1/todos", as_=script, params={"list": other["id"]}, headers=lsn, status=404)
    reader("GET", "/v1/counts", as_=script, params={"list": other["id"]}, headers=lsn, status=404)
    reader("GET", "/v1/lists", as_=script, headers=lsn, status=403)
    reader("GET", "/v1/account", as_=script, headers=lsn, status=403)
    # The page names the token's own list only, even when the account's lists are asked for.
    assert reader("GET", "/v1/todos", as_=script, params={"with_lists": "true"}, status=200).json()["lists"] is None

    revoked = writer("DELETE", f"/v1/tokens/{made['token']['id']}", as_=ada.actor, status=200).json()["lsn"]
    for path in ("/v1/todos", "/v1/todos/1", "/v1/counts", "/v1/lists", "/v1/account"):
        reader("GET", path, as_=script, headers={"X-Min-LSN": revoked}, status=404)


def test_reader_needs_someone_signed_in(reader):
    for path in ("/v1/todos", "/v1/todos/1", "/v1/counts", "/v1/lists", "/v1/account"):
        assert reader("GET", path, as_=Actor(), status=401).json()["code"] == NOT_SIGNED_IN


def test_reader_answers_at_once_for_an_lsn_far_ahead(reader, ada):
    """Ahead of the primary: not a write of this database; current data, and "stale"."""
    response = reader("GET", "/v1/counts", as_=ada.actor, headers={"X-Min-LSN": "FFFFFFFF/0"}, status=200)
    assert response.headers["X-Min-LSN-Status"] == "stale"


@pytest.mark.parametrize(
    ("path", "params", "headers"),
    [
        pytest.param("/v1/todos", {"status": "done"}, {}, id="bad status"),
        pytest.param("/v1/todos", {"limit": "0"}, {}, id="limit 0"),
        pytest.param("/v1/todos", {"after": "-1"}, {}, id="negative after"),
        pytest.param("/v1/todos", {"list": "abc"}, {}, id="list not an id"),
        pytest.param("/v1/counts", {"list": "0"}, {}, id="list 0"),
        pytest.param("/v1/todos", {}, {"X-Min-LSN": "banana"}, id="bad min lsn header"),
        pytest.param("/v1/counts", {"min_lsn": "1/2/3"}, {}, id="bad min lsn query"),
        pytest.param("/v1/todos/1", {}, {"X-Min-LSN": "0/Z"}, id="bad min lsn on an item"),
        pytest.param("/v1/lists", {"min_lsn": "x"}, {}, id="bad min lsn on lists"),
        pytest.param("/v1/account", {}, {"X-Min-LSN": "1"}, id="bad min lsn on the account"),
    ],
)
def test_reader_bad_requests(reader, ada, path, params, headers):
    reader("GET", path, as_=ada.actor, params=params, headers=headers, status=400)


@pytest.mark.parametrize("todo_id", ["9223372036854775807", "abc", "0", "9223372036854775808"])
def test_reader_not_found(reader, ada, todo_id):
    reader("GET", f"/v1/todos/{todo_id}", as_=ada.actor, status=404)


def test_reader_without_fallback_answers_503_when_the_replica_is_behind(stack, reader_doc, ada):
    """Run in-process against the real replica, configured as the chart does without a fallback."""
    env = {k: v for k, v in stack.service_env("reader").items() if not k.startswith("FALLBACK_")}
    env.update(LSN_WAIT_TIMEOUT_MS="50", PROMETHEUS_MULTIPROC_DIR="")
    app = create_reader(ReaderSettings.from_env(Env(env)))
    headers = {"Authorization": "Bearer " + service_token.sign(env["SERVICE_TOKEN_KEY"], ada.actor)}
    response = in_process(app, "GET", "/v1/todos", headers={**headers, "X-Min-LSN": "FFFFFFFF/0"})
    assert reader_doc.check("/v1/todos", "get", response).status_code == 503


# -- public Todo-Backend API ---------------------------------------------------------------


def test_public_api_tokens(writer, public, ada, bob):
    assert public("OPTIONS", "/api/tokens", status=204).headers["Access-Control-Allow-Origin"] == "*"
    made = public("POST", "/api/tokens", auth=ada.basic, status=201)
    body = made.json()
    assert body["list"] == ada.list
    assert body["api_root"] == f"{public.base_url}/api/t/{body['token']}/todos"
    public("GET", body["api_root"], status=200)  # at once: the answer waited for the reader

    other = writer("POST", "/v1/lists", as_=ada.actor, json={"name": _name("oas token")}, status=201).json()["list"]
    chosen = public("POST", "/api/tokens", auth=ada.basic, json={"list": other["id"]}, status=201).json()
    assert chosen["list"] == other["id"]
    public("POST", "/api/tokens", auth=ada.basic, json={"list": bob.list}, status=404)
    public("POST", "/api/tokens", auth=ada.basic, json={"list": "seven"}, status=422)
    public("POST", "/api/tokens", auth=ada.basic, json={"list": ada.list, "colour": "red"}, status=422)
    json_type = {"Content-Type": "application/json"}
    public("POST", "/api/tokens", auth=ada.basic, data=b"{", headers=json_type, status=400)
    public("POST", "/api/tokens", auth=ada.basic, data=b"list=1", headers={"Content-Type": "text/plain"}, status=415)
    huge = b'{"list": ' + b" " * 70_000 + b"1}"
    public("POST", "/api/tokens", auth=ada.basic, data=huge, headers=json_type, status=413)

    public("POST", "/api/tokens", status=401)
    public("POST", "/api/tokens", auth=(ada.username, "wrong password"), status=401)
    # A token is not a password: it cannot make more tokens.
    public("POST", "/api/tokens", headers={"Authorization": f"Bearer {body['token']}"}, status=401)


def test_public_api_throttled_token_requests_say_when_to_retry(public, throttled):
    answer = public("POST", "/api/tokens", auth=throttled.basic, status=429)
    assert int(answer.headers["Retry-After"]) > 0


@pytest.mark.parametrize("mode", MODES)
def test_public_api_item_lifecycle(public, scripts, mode):
    api, headers = scripts(mode)
    for url in (api, f"{api}/1"):
        assert public("OPTIONS", url, status=204).headers["Access-Control-Allow-Origin"] == "*"
    created = public("POST", api, headers=headers, json={"title": _name("oas public"), "order": 5}, status=201)
    url = created.json()["url"]
    assert created.headers["Location"] == url
    assert url == f"{api}/{created.json()['id']}"  # a capability URL's items carry its token
    listed = public("GET", api, headers=headers, status=200).json()
    if "X-Truncated" not in requests.head(api, headers=headers, timeout=TIMEOUT).headers:
        assert created.json() in listed
    assert public("GET", url, headers=headers, status=200).json() == created.json()
    patched = public("PATCH", url, headers=headers, json={"completed": True, "title": "renamed"}, status=200)
    assert patched.json()["completed"] is True
    assert public("PATCH", url, headers=headers, json={}, status=200).json() == patched.json()
    sent_back = {"id": patched.json()["id"], "url": url}
    assert public("PATCH", url, headers=headers, json=sent_back, status=200).json() == patched.json()
    public("PATCH", url, headers=headers, json={"completed": "yes"}, status=422)
    json_type = {**headers, "Content-Type": "application/json"}
    public("PATCH", url, headers=json_type, data=b"{", status=400)
    public("PATCH", url, headers={**headers, "Content-Type": "text/plain"}, data=b"x", status=415)
    public("PATCH", url, headers=json_type, data=b'{"title": "' + b"a" * 70_000 + b'"}', status=413)
    public("GET", api, headers=headers, params={"after": "x"}, status=400)
    public("DELETE", url, headers=headers, status=204)
    for method in ("GET", "PATCH", "DELETE"):
        public(method, url, headers=headers, json={"completed": False}, status=404)
        public(method, f"{api}/not-a-number", headers=headers, json={"completed": False}, status=404)
    public("OPTIONS", f"{api}/not-a-number", status=404)


@pytest.mark.parametrize("mode", MODES)
def test_public_api_token_reaches_its_list_only(writer, public, scripts, ada, bob, mode):
    api, headers = scripts(mode)
    other = writer("POST", "/v1/lists", as_=ada.actor, json={"name": _name("oas other")}, status=201).json()["list"]
    elsewhere = writer("POST", "/v1/todos", as_=ada.actor, json={"name": "x", "list": other["id"]}, status=201)
    bobs = writer("POST", "/v1/todos", as_=bob.actor, json={"name": "bob's"}, status=201)
    for written in (elsewhere, bobs):
        for method in ("GET", "PATCH", "DELETE"):
            url = f"{api}/{written.json()['todo']['id']}"
            public(method, url, headers=headers, json={"completed": True}, status=404)
    writer("DELETE", f"/v1/todos/{bobs.json()['todo']['id']}", as_=bob.actor, status=200)


def test_public_api_without_a_token_is_401_and_with_a_revoked_one_404(stack, writer, public, primary, replica, ada):
    api = public.base_url + "/api/todos"
    basic = "Basic " + base64.b64encode(f"{ada.username}:{PASSWORD}".encode()).decode()
    operations = [("GET", api), ("POST", api), ("DELETE", api), ("GET", f"{api}/1"), ("PATCH", f"{api}/1")]
    operations.append(("DELETE", f"{api}/1"))
    for method, url in operations:
        refused = public(method, url, json={"title": "x"}, status=401)
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        # Credentials are for POST /api/tokens only.
        public(method, url, headers={"Authorization": basic}, json={"title": "x"}, status=401)
        public(method, url, headers={"Authorization": "Bearer not a token"}, json={"title": "x"}, status=404)

    token = writer("POST", "/v1/tokens", as_=ada.actor, json={}, status=201).json()["token"]
    writer("DELETE", f"/v1/tokens/{token['id']}", as_=ada.actor, status=200)
    wait_replayed(primary, replica)  # the public API's reads wait only for writes made through it
    bearer = {"Authorization": f"Bearer {token['token']}"}
    for method, url in operations:
        public(method, url, headers=bearer, json={"title": "x"}, status=404)
        capability = url.replace("/api/todos", f"/api/t/{token['token']}/todos")
        public(method, capability, json={"title": "x"}, status=404)
    public("GET", f"{public.base_url}/api/t/too-short/todos", status=404)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        pytest.param({"json": {"completed": False}}, 422, id="title missing"),
        pytest.param({"json": {"title": "x" * 101}}, 422, id="title too long"),
        pytest.param({"json": {"title": "ok", "name": "ok"}}, 422, id="unknown field"),
        pytest.param({"data": b"{", "headers": {"Content-Type": "application/json"}}, 400, id="malformed"),
        pytest.param({"data": b"title=x", "headers": {"Content-Type": "text/plain"}}, 415, id="not JSON"),
        pytest.param(
            {"json": {"title": "ok"}, "headers": {"Idempotency-Key": "k" * 256}}, 400, id="bad idempotency key"
        ),
        pytest.param(
            {"data": b'{"title": "' + b"a" * 70_000 + b'"}', "headers": {"Content-Type": "application/json"}},
            413,
            id="too large",
        ),
    ],
)
def test_public_api_create_errors(public, scripts, mode, kwargs, status):
    api, headers = scripts(mode)
    kwargs = {**kwargs, "headers": {**headers, **kwargs.get("headers", {})}}
    public("POST", api, status=status, **kwargs)


@pytest.mark.parametrize("mode", MODES)
def test_public_api_delete_all(public, scripts, mode):
    """It empties the token's list (as the Todo-Backend spec runner does)."""
    api, headers = scripts(mode)
    public("POST", api, headers=headers, json={"title": _name("oas delete all")}, status=201)
    public("DELETE", api, headers=headers, status=204)
    assert public("GET", api, headers=headers, status=200).json() == []


# -- last ----------------------------------------------------------------------------------


def test_every_documented_operation_was_exercised(request, writer_doc, reader_doc, public_doc):
    """Each documented operation was called above at least once (when the whole module ran)."""
    module = request.module
    ran = {item.originalname for item in request.session.items if item.module is module}
    if {name for name in dir(module) if name.startswith("test_")} - ran:
        pytest.skip("only some of this module's tests ran")
    for contract in (writer_doc, reader_doc, public_doc):
        missing = contract.operations() - contract.exercised
        assert not missing, f"{contract.uri}: never called {sorted(missing)}"
