"""What the lean and ORM references share: the frontend's own templates and static files
(loaded from the todo_frontend package folder, not copied), the frontend's own session
(same secret key, and ``todo_frontend.identity`` reads who is signed in from it, so the
bench person's cookie works here unchanged), CSRF, and the routes the template links
to, rendered as the frontend renders them (the list region, then the page around it,
but without keeping regions between requests). A reference supplies
``page(actor, list_id, status, after, limit)`` returning the context the frontend
passes (list, items, counts, next/prev, the account's lists), or None when the list is
not the actor's, and ``add(actor, list_id, name)`` returning the list it added to, or
None."""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, Flask, abort, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFProtect

from todo_common.service_token import Actor
from todo_frontend import identity, list_html

FRONTEND_DIR = Path(importlib.util.find_spec("todo_frontend").submodule_search_locations[0])
STATUSES = ("all", "active", "completed")


def settings() -> dict:
    """REF_REPLICA_DSN, REF_PRIMARY_DSN (libpq strings), SECRET_KEY, PAGE_SIZE, POOL_SIZE."""
    return {
        "replica": os.environ["REF_REPLICA_DSN"],
        "primary": os.environ["REF_PRIMARY_DSN"],
        "secret_key": os.environ["SECRET_KEY"],
        "page_size": int(os.environ.get("PAGE_SIZE", "100")),
        "pool_size": int(os.environ.get("POOL_SIZE", "8")),
    }


def _signed_in() -> Actor:
    """The person the session cookie names (account id + session generation)."""
    actor = identity.current_actor()
    if actor.account_id is None:
        abort(401)
    return actor


def make_app(
    name: str,
    page: Callable[[Actor, int | None, str, int, int], dict | None],
    add: Callable[[Actor, int | None, str], int | None],
    config: dict,
) -> Flask:
    app = Flask(
        name,
        template_folder=str(FRONTEND_DIR / "templates"),
        static_folder=str(FRONTEND_DIR / "static"),
    )
    app.config.update(SECRET_KEY=config["secret_key"], WTF_CSRF_TIME_LIMIT=None)
    CSRFProtect(app)
    app.context_processor(lambda: {"signed_in_as": identity.username()})
    list_html.init_app(app)  # the templates' list_items (each item's HTML, kept as in the frontend)
    web = Blueprint("web", name)

    @web.get("/", defaults={"list_id": None})
    @web.get("/lists/<int:list_id>", endpoint="show_list")
    def index(list_id: int | None):
        actor = _signed_in()
        status = request.args.get("status", "all")
        status = status if status in STATUSES else "all"
        after = request.args.get("after", "")
        after = int(after) if after.isdigit() else 0
        shown = page(actor, list_id, status, after, config["page_size"])
        if shown is None:
            abort(404)
        view = urlencode(
            {
                k: v
                for k, v in (("status", None if status == "all" else status), ("after", after or None))
                if v is not None
            }
        )
        shown_list = shown["list"]["id"]
        list_path = url_for("web.show_list", list_id=shown_list)
        # The list region rendered on every request (no kept regions): what a plain app does.
        region = render_template(
            "_list_region.html",
            page=shown,
            list_id=shown_list,
            list_path=list_path,
            status=status,
            after=after,
            view_query=f"?{view}" if view else "",
            focus={},
        )
        return render_template(
            "index.html",
            page=shown,
            list_path=list_path,
            list_region=region,
            error=None,
            list_error=None,
            draft_name="",
            form_key=uuid.uuid4().hex,
            focus={"control": "add"},
        )

    @web.post("/lists/<int:list_id>/todos", endpoint="add")
    @web.post("/todos", defaults={"list_id": None})
    def add_todo(list_id: int | None):
        actor = _signed_in()
        name = request.form.get("name", "").strip()
        if not name or len(name) > 100:
            abort(422)
        added_to = add(actor, list_id, name)
        if added_to is None:
            abort(404)
        return redirect(url_for("web.show_list", list_id=added_to), 303)

    @web.get("/hello")
    def hello():
        return "Hello, World!"

    # Pages the template links to by name; the benchmark never visits them.
    lists = Blueprint("lists", name)
    lists.add_url_rule("/lists", "manage", lambda: abort(501))
    auth = Blueprint("auth", name)
    auth.add_url_rule("/account", "account", lambda: abort(501))
    auth.add_url_rule("/logout", "logout", lambda: abort(501), methods=["POST"])

    for blueprint in (web, lists, auth):
        app.register_blueprint(blueprint)
    return app
