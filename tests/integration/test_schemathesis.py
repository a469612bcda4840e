"""schemathesis over the three OpenAPI documents, against the running stack: generated
requests (valid and not) to every documented operation, signed as a real person (a
service token for the reader and the writer, an API token for the public API). Each
answer must not be a server error (500; a 502/503/504 is documented and is the stack
telling the truth about a dependency), must have a documented status, and its body,
content type and documented headers must match the document.

Bounded (MAX_EXAMPLES per operation, derandomized) so `make test` stays quick; set
SCHEMATHESIS_MAX_EXAMPLES for a longer hunt."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from todo_common.service_token import Actor

from ..helpers import Person, service_headers

DOCS = Path(__file__).resolve().parents[2] / "docs" / "openapi"
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "15"))
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@pytest.fixture
def someone(stack):
    """The person a test's generated requests act for (a new one each: the writer's
    generated requests may revoke a token or log a session out); a password no example
    guesses."""
    person = Person(stack, password="not in any example 7f3a9c")
    person.token = person.api_root().rsplit("/", 2)[-2]
    return person


def _as(stack, primary, person: Person) -> dict:
    """A service token for the person's session as it is now (a generated log-out
    ends the session: sign with the current generation)."""
    with primary.cursor() as cur:
        cur.execute("SELECT session_generation FROM accounts WHERE id = %s", (person.id,))
        row = cur.fetchone()
    generation = row[0] if row else person.generation
    return service_headers(stack, Actor(account_id=person.id, generation=generation))


def _operations(name: str) -> list:
    schema = schemathesis.openapi.from_path(DOCS / name)
    return [pytest.param(result.ok(), id=result.ok().label) for result in schema.get_all_operations()]


def _call(case, base_url: str, headers: dict):
    with requests.Session() as session:
        case.call_and_validate(base_url=base_url, session=session, headers=headers, checks=CHECKS, timeout=15)


def _explore(operation, call) -> None:
    """Hypothesis drives the operation's generated cases through ``call``."""

    @given(case=operation.as_strategy())
    @SETTINGS
    def explore(case):
        call(case)

    explore()


@pytest.mark.parametrize("operation", _operations("reader.yaml"))
def test_reader_follows_its_document(operation, stack, primary, someone):
    _explore(operation, lambda case: _call(case, stack.url("reader"), _as(stack, primary, someone)))


@pytest.mark.parametrize("operation", _operations("writer.yaml"))
def test_writer_follows_its_document(operation, stack, primary, someone):
    _explore(operation, lambda case: _call(case, stack.url("writer"), _as(stack, primary, someone)))


@pytest.mark.parametrize("operation", _operations("public-api.yaml"))
def test_public_api_follows_its_document(operation, stack, someone):
    def call(case):
        headers = {}
        if case.path_parameters and "token" in case.path_parameters:
            case.path_parameters["token"] = someone.token
        elif case.path == "/api/tokens":
            headers["Authorization"] = requests.auth._basic_auth_str(someone.username, someone.password)
        elif case.method != "OPTIONS":
            headers["Authorization"] = f"Bearer {someone.token}"
        _call(case, stack.frontend_url, headers)

    _explore(operation, call)


def test_public_api_sequences_follow_its_document(stack, someone):
    """Stateful: the document's links (create -> get, update, delete the item it made)
    drive sequences of calls on the same items, each answer checked as above."""
    machine = schemathesis.openapi.from_path(DOCS / "public-api.yaml").as_state_machine()
    calls: Counter = Counter()

    class Sequences(machine):
        def before_call(self, case):
            if case.path_parameters and "token" in case.path_parameters:
                case.path_parameters["token"] = someone.token

        def get_call_kwargs(self, case):
            headers = {}
            if case.path == "/api/tokens":
                headers["Authorization"] = requests.auth._basic_auth_str(someone.username, someone.password)
            elif case.method != "OPTIONS" and "{token}" not in case.path:
                headers["Authorization"] = f"Bearer {someone.token}"
            return {"base_url": stack.frontend_url, "headers": headers, "timeout": 15}

        def validate_response(self, response, case, **kwargs):
            calls[(case.method, case.path, response.status_code)] += 1
            case.validate_response(response, checks=CHECKS)

    Sequences.run(
        settings=settings(
            max_examples=MAX_EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
    )
    linked = sum(n for (method, path, status), n in calls.items() if "{todo_id}" in path and status < 300)
    assert linked > 0, f"no call reached an item a create made: {calls}"
