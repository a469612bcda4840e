"""What both references share: the frontend's own templates and static files (loaded
from the todo_frontend package folder, not copied), session + CSRF, and the routes the
template links to. A reference supplies ``page(status, after, limit)`` returning the
context the frontend passes (items, counts, next_after) and ``add(name)``."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, Flask, abort, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFProtect

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


def make_app(name: str, page: Callable[[str, int, int], dict], add: Callable[[str], None], config: dict) -> Flask:
    app = Flask(
        name,
        template_folder=str(FRONTEND_DIR / "templates"),
        static_folder=str(FRONTEND_DIR / "static"),
    )
    app.config.update(SECRET_KEY=config["secret_key"], WTF_CSRF_TIME_LIMIT=None)
    CSRFProtect(app)
    bp = Blueprint("web", name)

    def back():
        return redirect(url_for("web.index"), 303)

    @bp.get("/")
    def index():
        status = request.args.get("status", "all")
        status = status if status in STATUSES else "all"
        after = request.args.get("after", "")
        after = int(after) if after.isdigit() else 0
        view = urlencode(
            {
                k: v
                for k, v in (("status", None if status == "all" else status), ("after", after or None))
                if v is not None
            }
        )
        html = render_template(
            "index.html",
            page=page(status, after, config["page_size"]),
            status=status,
            after=after,
            view_query=f"?{view}" if view else "",
            error=None,
            list_error=None,
            draft_name="",
            rename=None,
        )
        return html

    @bp.post("/todos", endpoint="add")
    def add_todo():
        name = request.form.get("name", "").strip()
        if not name or len(name) > 100:
            abort(422)
        add(name)
        return back()

    # Links the template renders; the benchmark never posts to them.
    for rule, endpoint in (
        ("/todos/<int:todo_id>/toggle", "toggle"),
        ("/todos/<int:todo_id>/rename", "rename"),
        ("/todos/<int:todo_id>/delete", "delete"),
        ("/todos/mark-all", "mark_all"),
        ("/todos/clear-completed", "clear_completed"),
    ):
        bp.add_url_rule(rule, endpoint, lambda **_: abort(501), methods=["POST"])
    bp.add_url_rule("/todos/<int:todo_id>/edit", "edit", lambda **_: abort(501))

    @bp.get("/hello")
    def hello():
        return "Hello, World!"

    app.register_blueprint(bp)
    return app
