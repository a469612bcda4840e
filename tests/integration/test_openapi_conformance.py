"""The running stack answers as docs/openapi says: every status code is documented for
its operation, and every body and documented header validates against its schema."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import requests
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from todo_common.settings import Env
from todo_reader import create_app as create_reader
from todo_reader.settings import ReaderSettings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "openapi"
TIMEOUT = 10


class Contract:
    """One OpenAPI document, able to check a real response against it."""

    def __init__(self, name: str):
        self.uri = f"urn:todo:openapi:{name}"
        self.doc = yaml.safe_load((DOCS / name).read_text(encoding="utf-8"))
        resource = Resource.from_contents(self.doc, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(self.uri, resource)

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


@pytest.fixture(scope="module")
def writer_doc():
    return Contract("writer.yaml")


@pytest.fixture(scope="module")
def reader_doc():
    return Contract("reader.yaml")


@pytest.fixture(scope="module")
def public_doc():
    return Contract("public-api.yaml")


def _name(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:10]}"


# -- writer ------------------------------------------------------------------------------


def test_writer_create_update_delete(stack, writer_doc):
    base = stack.url("writer")
    created = writer_doc.check(
        "/v1/todos", "post", requests.post(f"{base}/v1/todos", json={"name": _name("oas writer")}, timeout=TIMEOUT)
    )
    assert created.status_code == 201
    todo_id = created.json()["todo"]["id"]
    path = "/v1/todos/{todo_id}"
    changed = writer_doc.check(
        path,
        "patch",
        requests.patch(f"{base}/v1/todos/{todo_id}", json={"completed": True, "order": 3}, timeout=TIMEOUT),
    )
    assert changed.status_code == 200
    assert changed.headers["X-Commit-LSN"] == changed.json()["lsn"]
    deleted = writer_doc.check(path, "delete", requests.delete(f"{base}/v1/todos/{todo_id}", timeout=TIMEOUT))
    assert deleted.json()["deleted"] == 1
    for method in ("patch", "delete"):
        gone = requests.request(method, f"{base}/v1/todos/{todo_id}", json={"completed": False}, timeout=TIMEOUT)
        assert writer_doc.check(path, method, gone).status_code == 404
        bad = requests.request(method, f"{base}/v1/todos/abc", json={"completed": False}, timeout=TIMEOUT)
        assert writer_doc.check(path, method, bad).status_code == 404


def test_writer_idempotent_create(stack, writer_doc):
    url = stack.url("writer") + "/v1/todos"
    key = f"oas-{uuid.uuid4()}"
    body = {"name": _name("oas idempotent")}
    first = writer_doc.check("/v1/todos", "post", requests.post(url, json=body, headers={"Idempotency-Key": key}))
    again = writer_doc.check("/v1/todos", "post", requests.post(url, json=body, headers={"Idempotency-Key": key}))
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["todo"] == first.json()["todo"]
    reused = requests.post(url, json={"name": "something else"}, headers={"Idempotency-Key": key}, timeout=TIMEOUT)
    assert writer_doc.check("/v1/todos", "post", reused).status_code == 422
    too_long_key = requests.post(url, json=body, headers={"Idempotency-Key": "k" * 256}, timeout=TIMEOUT)
    assert writer_doc.check("/v1/todos", "post", too_long_key).status_code == 400
    requests.delete(f"{url}/{first.json()['todo']['id']}", timeout=TIMEOUT)


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        pytest.param({"json": {"name": "x" * 101}}, 422, id="name too long"),
        pytest.param({"json": {"name": "ok", "colour": "red"}}, 422, id="unknown field"),
        pytest.param({"json": {}}, 422, id="name missing"),
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
def test_writer_create_errors(stack, writer_doc, kwargs, status):
    response = requests.post(stack.url("writer") + "/v1/todos", timeout=TIMEOUT, **kwargs)
    assert writer_doc.check("/v1/todos", "post", response).status_code == status


def test_writer_bulk_operations(stack, writer_doc):
    base = stack.url("writer")
    # Marking all active again leaves every other test's items active, as they were made.
    marked = requests.post(f"{base}/v1/todos/mark-all", json={"completed": False}, timeout=TIMEOUT)
    assert writer_doc.check("/v1/todos/mark-all", "post", marked).status_code == 200
    missing = requests.post(f"{base}/v1/todos/mark-all", json={}, timeout=TIMEOUT)
    assert writer_doc.check("/v1/todos/mark-all", "post", missing).status_code == 422
    # Clear completed touches only completed items: there are none after the above.
    cleared = requests.delete(f"{base}/v1/todos", params={"completed": "true"}, timeout=TIMEOUT)
    assert writer_doc.check("/v1/todos", "delete", cleared).json()["deleted"] == 0
    odd = requests.delete(f"{base}/v1/todos", params={"completed": "false"}, timeout=TIMEOUT)
    assert writer_doc.check("/v1/todos", "delete", odd).status_code == 400


@pytest.mark.parametrize("service", ["writer", "reader"])
def test_operations_endpoints(stack, writer_doc, reader_doc, service):
    doc = writer_doc if service == "writer" else reader_doc
    for path in ("/healthz", "/readyz", "/metrics"):
        response = requests.get(stack.url(service) + path, timeout=TIMEOUT)
        assert doc.check(path, "get", response).status_code == 200, path


# -- reader ------------------------------------------------------------------------------


def test_reader_reads_with_min_lsn(stack, reader_doc):
    writer, reader = stack.url("writer"), stack.url("reader")
    made = [requests.post(f"{writer}/v1/todos", json={"name": _name("oas reader")}, timeout=TIMEOUT) for _ in range(2)]
    lsn = made[-1].headers["X-Commit-LSN"]
    first_id = made[0].json()["todo"]["id"]
    page = requests.get(
        f"{reader}/v1/todos",
        params={"after": first_id - 1, "limit": 1},
        headers={"X-Min-LSN": lsn},
        timeout=TIMEOUT,
    )
    body = reader_doc.check("/v1/todos", "get", page).json()
    assert [t["id"] for t in body["items"]] == [first_id]
    assert body["next_after"] == first_id
    active = requests.get(f"{reader}/v1/todos", params={"status": "active", "min_lsn": lsn}, timeout=TIMEOUT)
    assert reader_doc.check("/v1/todos", "get", active).status_code == 200
    one = requests.get(f"{reader}/v1/todos/{first_id}", headers={"X-Min-LSN": lsn}, timeout=TIMEOUT)
    assert reader_doc.check("/v1/todos/{todo_id}", "get", one).json()["id"] == first_id
    counts = requests.get(f"{reader}/v1/counts", params={"min_lsn": lsn}, timeout=TIMEOUT)
    assert reader_doc.check("/v1/counts", "get", counts).json()["all"] >= 2
    for response in made:
        requests.delete(f"{writer}/v1/todos/{response.json()['todo']['id']}", timeout=TIMEOUT)


def test_reader_falls_back_to_primary_for_an_lsn_far_ahead(stack, reader_doc):
    response = requests.get(stack.url("reader") + "/v1/counts", headers={"X-Min-LSN": "FFFFFFFF/0"}, timeout=TIMEOUT)
    assert reader_doc.check("/v1/counts", "get", response).headers["X-Served-By"] == "primary"


@pytest.mark.parametrize(
    ("path", "doc_path", "params", "headers"),
    [
        pytest.param("/v1/todos", "/v1/todos", {"status": "done"}, {}, id="bad status"),
        pytest.param("/v1/todos", "/v1/todos", {"limit": "0"}, {}, id="limit 0"),
        pytest.param("/v1/todos", "/v1/todos", {"after": "-1"}, {}, id="negative after"),
        pytest.param("/v1/todos", "/v1/todos", {}, {"X-Min-LSN": "banana"}, id="bad min lsn header"),
        pytest.param("/v1/counts", "/v1/counts", {"min_lsn": "1/2/3"}, {}, id="bad min lsn query"),
        pytest.param("/v1/todos/1", "/v1/todos/{todo_id}", {}, {"X-Min-LSN": "0/Z"}, id="bad min lsn on an item"),
    ],
)
def test_reader_bad_requests(stack, reader_doc, path, doc_path, params, headers):
    response = requests.get(stack.url("reader") + path, params=params, headers=headers, timeout=TIMEOUT)
    assert reader_doc.check(doc_path, "get", response).status_code == 400


@pytest.mark.parametrize("todo_id", ["9223372036854775807", "abc", "0", "9223372036854775808"])
def test_reader_not_found(stack, reader_doc, todo_id):
    response = requests.get(f"{stack.url('reader')}/v1/todos/{todo_id}", timeout=TIMEOUT)
    assert reader_doc.check("/v1/todos/{todo_id}", "get", response).status_code == 404


def test_reader_without_fallback_answers_503_when_the_replica_is_behind(stack, reader_doc):
    """Run in-process against the real replica, configured as the chart does without a fallback."""
    env = {k: v for k, v in stack.service_env("reader").items() if not k.startswith("FALLBACK_")}
    env.update(LSN_WAIT_TIMEOUT_MS="50", PROMETHEUS_MULTIPROC_DIR="")
    app = create_reader(ReaderSettings.from_env(Env(env)))
    with app.test_client() as client:
        answer = client.get("/v1/todos", headers={"X-Min-LSN": "FFFFFFFF/0"})
    response = requests.Response()
    response.status_code = answer.status_code
    response.headers.update(answer.headers)
    response._content = answer.get_data()
    assert reader_doc.check("/v1/todos", "get", response).status_code == 503


# -- public Todo-Backend API -------------------------------------------------------------


def test_public_api_item_lifecycle(stack, public_doc):
    api = stack.frontend_url + "/api/todos"
    item = "/api/todos/{todo_id}"
    for path, url in (("/api/todos", api), (item, f"{api}/1")):
        assert public_doc.check(path, "options", requests.options(url, timeout=TIMEOUT)).status_code == 204
    created = requests.post(api, json={"title": _name("oas public"), "order": 5}, timeout=TIMEOUT)
    assert public_doc.check("/api/todos", "post", created).status_code == 201
    url = created.json()["url"]
    assert created.headers["Location"] == url
    listed = public_doc.check("/api/todos", "get", requests.get(api, timeout=TIMEOUT)).json()
    if "X-Truncated" not in requests.head(api, timeout=TIMEOUT).headers:
        assert created.json() in listed
    assert public_doc.check(item, "get", requests.get(url, timeout=TIMEOUT)).json() == created.json()
    patched = requests.patch(url, json={"completed": True, "title": "renamed"}, timeout=TIMEOUT)
    assert public_doc.check(item, "patch", patched).json()["completed"] is True
    unchanged = requests.patch(url, json={}, timeout=TIMEOUT)
    assert public_doc.check(item, "patch", unchanged).json() == patched.json()
    bad = requests.patch(url, json={"completed": "yes"}, timeout=TIMEOUT)
    assert public_doc.check(item, "patch", bad).status_code == 422
    assert public_doc.check(item, "delete", requests.delete(url, timeout=TIMEOUT)).status_code == 204
    for method in ("get", "patch", "delete"):
        gone = requests.request(method, url, json={"completed": False}, timeout=TIMEOUT)
        assert public_doc.check(item, method, gone).status_code == 404
        odd = requests.request(method, f"{api}/not-a-number", json={"completed": False}, timeout=TIMEOUT)
        assert public_doc.check(item, method, odd).status_code == 404
    odd_preflight = requests.options(f"{api}/not-a-number", timeout=TIMEOUT)
    assert public_doc.check(item, "options", odd_preflight).status_code == 404


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
def test_public_api_create_errors(stack, public_doc, kwargs, status):
    response = requests.post(stack.frontend_url + "/api/todos", timeout=TIMEOUT, **kwargs)
    assert public_doc.check("/api/todos", "post", response).status_code == status


def test_public_api_delete_all(stack, public_doc):
    """Last of this module: it empties the shared list (as the Todo-Backend spec runner does)."""
    api = stack.frontend_url + "/api/todos"
    requests.post(api, json={"title": _name("oas delete all")}, timeout=TIMEOUT)
    assert public_doc.check("/api/todos", "delete", requests.delete(api, timeout=TIMEOUT)).status_code == 204
    assert public_doc.check("/api/todos", "get", requests.get(api, timeout=TIMEOUT)).json() == []
