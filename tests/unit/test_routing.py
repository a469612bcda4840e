"""The to-do id converter: every service's routes take ids through it, so an id that
can't exist (not a whole number from 1 to 2^63-1) is a 404, and a view gets an int."""

import pytest
from flask import Flask, url_for

from todo_common import routing


@pytest.fixture
def client():
    app = Flask(__name__)
    routing.init_app(app)

    @app.get("/todos/<todo_id:todo_id>")
    def one(todo_id):
        return {"id": todo_id, "type": type(todo_id).__name__}

    @app.delete("/todos/<todo_id:todo_id>")
    def delete(todo_id):
        return {"deleted": todo_id}

    @app.post("/todos/mark-all")
    def mark_all():
        return {"marked": True}

    return app.test_client()


@pytest.mark.parametrize("text", ["1", "42", "007", str(2**63 - 1)])
def test_an_id_in_bigint_range_reaches_the_view_as_an_int(client, text):
    assert client.get(f"/todos/{text}").get_json() == {"id": int(text), "type": "int"}


@pytest.mark.parametrize("text", ["0", "-1", "abc", "1.0", "\uff11", "1e3", str(2**63), "9" * 30, "%20"])
def test_an_id_that_cannot_exist_is_a_404(client, text):
    for method in ("GET", "DELETE"):  # each of the rules that share the path
        assert client.open(f"/todos/{text}", method=method).status_code == 404, method


def test_a_static_route_beside_it_still_wins(client):
    assert client.post("/todos/mark-all").get_json() == {"marked": True}
    assert client.get("/todos/mark-all").status_code == 405  # the path exists, not for GET


def test_urls_are_built_from_ints():
    app = Flask(__name__)
    routing.init_app(app)
    app.add_url_rule("/todos/<todo_id:todo_id>", "one", lambda todo_id: "")
    with app.test_request_context():
        assert url_for("one", todo_id=12) == "/todos/12"
