"""The OpenAPI documents in docs/openapi are valid OpenAPI 3.1 and describe exactly the
routes the Flask apps serve: a route added without documenting it (or documented but
gone) fails here. Building an app does no I/O, so no database is needed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.versions import consts as spec_versions
from openapi_spec_validator.versions.shortcuts import get_spec_version

from todo_common.settings import Env

DOCS = Path(__file__).resolve().parents[2] / "docs" / "openapi"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
DUMMY_DB = {"DATABASE_HOST": "db.invalid", "DATABASE_NAME": "todo", "DATABASE_USER": "todo"}
SERVICE_KEY = {"SERVICE_TOKEN_KEY": "k" * 32}


def load(name: str) -> dict:
    return yaml.safe_load((DOCS / name).read_text(encoding="utf-8"))


def writer_app():
    from todo_writer import create_app
    from todo_writer.settings import WriterSettings

    return create_app(WriterSettings.from_env(Env({**DUMMY_DB, **SERVICE_KEY})))


def reader_app():
    from todo_reader import create_app
    from todo_reader.settings import ReaderSettings

    env = {**DUMMY_DB, **{f"FALLBACK_{k}": v for k, v in DUMMY_DB.items()}, **SERVICE_KEY}
    return create_app(ReaderSettings.from_env(Env(env)))


def frontend_app():
    from todo_frontend import create_app
    from todo_frontend.settings import FrontendSettings

    env = {
        "READER_URL": "http://reader.invalid:8080",
        "WRITER_URL": "http://writer.invalid:8080",
        "SECRET_KEY": "x" * 32,
        **SERVICE_KEY,
    }
    return create_app(FrontendSettings.from_env(Env(env)))


def app_operations(app, prefix: str = "/") -> set[tuple[str, str]]:
    """(OpenAPI path, method) for every route under ``prefix``, without what Flask and
    Werkzeug add by themselves (HEAD beside GET, automatic OPTIONS, /static)."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not rule.rule.startswith(prefix):
            continue
        path = re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods:
            if method == "HEAD":
                continue
            if method == "OPTIONS" and getattr(rule, "provide_automatic_options", False):
                continue
            found.add((path, method.lower()))
    return found


def documented_operations(doc: dict) -> set[tuple[str, str]]:
    return {(path, method) for path, item in doc["paths"].items() for method in item if method in HTTP_METHODS}


DOCUMENTS = {
    "writer.yaml": (writer_app, "/"),
    "reader.yaml": (reader_app, "/"),
    # The pages (/, /todos/...) are HTML forms, not the JSON API; probes are the frontend's own.
    "public-api.yaml": (frontend_app, "/api/"),
}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_is_valid_openapi_3_1(name):
    doc = load(name)
    assert get_spec_version(doc) == spec_versions.OPENAPIV31
    validate(doc)  # raises with the first problem found


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_documented_operations_match_the_flask_routes(name):
    make_app, prefix = DOCUMENTS[name]
    served = app_operations(make_app(), prefix)
    documented = documented_operations(load(name))
    assert served, "the app serves no routes under the prefix: the test is looking in the wrong place"
    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_operation_documents_success_and_json_errors(name):
    """Each operation has a 2xx answer and an operationId; every 4xx/5xx with a body
    uses the `{"error": ...}` shape the services share."""
    doc = load(name)
    error_schema = doc["components"]["schemas"]["Error"]
    assert error_schema["required"] == ["error"]
    responses = doc["components"].get("responses", {})
    operation_ids = []
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            operation_ids.append(operation["operationId"])
            codes = operation["responses"]
            assert any(code.startswith("2") for code in codes), f"{method} {path}: no success answer"
            for code, answer in codes.items():
                if "$ref" in answer:
                    answer = responses[answer["$ref"].rsplit("/", 1)[1]]
                if code[0] in "45" and "content" in answer and path not in ("/readyz",):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, f"{method} {path} {code}"
    assert len(operation_ids) == len(set(operation_ids)), "operationIds must be unique"


def test_lsn_headers_are_documented():
    writer, reader = load("writer.yaml"), load("reader.yaml")
    for path, item in writer["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS and path.startswith("/v1/"):
                success = next(a for c, a in operation["responses"].items() if c.startswith("2"))
                assert "X-Commit-LSN" in success["headers"], f"{method} {path}"
    for path, item in reader["paths"].items():
        if path.startswith("/v1/"):
            names = {p["$ref"].rsplit("/", 1)[1] for p in item["get"]["parameters"] if "$ref" in p}
            assert {"XMinLsn", "MinLsnQuery"} <= names, path
            assert "X-Served-By" in item["get"]["responses"]["200"]["headers"], path


def operations(doc: dict):
    """(path, method, operation) for every documented operation."""
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def resolved(doc: dict, answer: dict) -> dict:
    if "$ref" in answer:
        return doc["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    return answer


@pytest.mark.parametrize("name", ["reader.yaml", "writer.yaml"])
def test_service_token_guards_every_api_operation(name):
    """Reader and writer: a bearer JWT on everything but the probes that service_auth
    leaves open, and each guarded operation documents its 401."""
    from todo_common.service_auth import OPEN_PATHS

    doc = load(name)
    scheme = doc["components"]["securitySchemes"]["serviceToken"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    assert doc["security"] == [{"serviceToken": []}]
    for path, method, operation in operations(doc):
        if path in OPEN_PATHS:
            assert operation.get("security") == [], f"{method} {path} is open: security: []"
            continue
        assert "security" not in operation, f"{method} {path}: the service token applies here"
        assert "401" in operation["responses"], f"{method} {path}: no 401 documented"
    assert set(doc["paths"]) >= OPEN_PATHS, "every open path is documented"


@pytest.mark.parametrize("name", ["reader.yaml", "writer.yaml"])
def test_error_codes_are_the_ones_service_auth_sends(name):
    from todo_common.errors import OUTCOME_UNKNOWN
    from todo_common.service_auth import NOT_SIGNED_IN, SESSION_ENDED

    error = load(name)["components"]["schemas"]["Error"]
    # Only the writer changes anything, so only it can lose track of a change's outcome.
    codes = {SESSION_ENDED, NOT_SIGNED_IN} | ({OUTCOME_UNKNOWN} if name == "writer.yaml" else set())
    assert set(error["properties"]["code"]["enum"]) == codes
    assert error["additionalProperties"] is False


@pytest.mark.parametrize("name", ["reader.yaml", "writer.yaml"])
def test_ids_in_paths_document_404(name):
    """Another account's id answers as a missing one: every operation on an id says 404."""
    doc = load(name)
    for path, method, operation in operations(doc):
        if re.search(r"\{[a-z_]+_id\}", path):
            assert "404" in operation["responses"], f"{method} {path}"


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_throttled_answers_say_when_to_retry(name):
    doc = load(name)
    for path, method, operation in operations(doc):
        for code in ("429", "503"):
            # /readyz's 503 is for the kubelet, which retries on its own schedule.
            if code in operation["responses"] and path != "/readyz":
                headers = resolved(doc, operation["responses"][code])["headers"]
                retry_after = headers["Retry-After"]
                if "$ref" in retry_after:
                    retry_after = doc["components"]["headers"][retry_after["$ref"].rsplit("/", 1)[1]]
                assert retry_after["required"] is True, f"{method} {path} {code}"


def test_public_api_token_paths():
    """Each /api/todos operation has its capability-URL twin under /api/t/{token}/;
    the Bearer ones answer 401 without a token, the capability ones cannot (the token
    is in the path), and a revoked token is a 404 on both."""
    doc = load("public-api.yaml")
    assert doc["security"] == [{"apiToken": []}]
    schemes = doc["components"]["securitySchemes"]
    assert (schemes["apiToken"]["type"], schemes["apiToken"]["scheme"]) == ("http", "bearer")
    assert (schemes["basicAuth"]["type"], schemes["basicAuth"]["scheme"]) == ("http", "basic")
    assert doc["paths"]["/api/tokens"]["post"]["security"] == [{"basicAuth": []}]
    for path, method, operation in operations(doc):
        if not path.startswith("/api/todos"):
            continue
        twin = doc["paths"][path.replace("/api/todos", "/api/t/{token}/todos", 1)][method]
        assert twin.get("security") == [], f"{method} {path}: the capability twin needs no header"
        if method == "options":
            assert operation.get("security") == [], f"{method} {path}: a preflight carries no token"
            continue
        assert "security" not in operation, f"{method} {path}"
        assert "401" in operation["responses"], f"{method} {path}: 401 without a token"
        assert "401" not in twin["responses"], f"{method} {path}: a capability URL is never a 401"
        for answer in (operation, twin):
            assert "404" in answer["responses"], f"{method} {path}: 404 for a revoked token"
        assert set(twin["responses"]) == set(operation["responses"]) - {"401"}, f"{method} {path}"


def test_public_api_preflight_headers_are_the_ones_sent():
    from todo_frontend.public_api import CORS_HEADERS

    headers = load("public-api.yaml")["components"]["responses"]["Preflight"]["headers"]
    for name, value in CORS_HEADERS.items():
        if name == "Access-Control-Allow-Origin":
            continue  # a $ref to the shared header
        assert headers[name]["schema"]["const"] == value, name
