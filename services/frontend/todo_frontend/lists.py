"""The page that manages a person's lists: create, rename, delete."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from todo_common.validation import InvalidField, clean_name

from . import identity, session_lsn
from .upstream import SessionEnded, UpstreamRejected, UpstreamUnavailable, reader, writer

bp = Blueprint("lists", __name__, url_prefix="/lists")


def _page(*, status: int = 200, error: str | None = None, new_name: str = "", drafts: dict | None = None):
    lists = reader().lists(min_lsn=session_lsn.current())["lists"]
    html = render_template("lists.html", lists=lists, error=error, new_name=new_name, drafts=drafts or {})
    return html, status


def _problem(exc: Exception, **context):
    """The lists page again, saying why the form was refused."""
    if isinstance(exc, SessionEnded):
        return identity.session_ended()
    if isinstance(exc, InvalidField):
        return _page(status=422, error=str(exc), **context)
    if isinstance(exc, UpstreamUnavailable):
        message = exc.for_a_person()
        return _page(status=exc.status, error=message, **context)
    return _page(status=exc.status, error=exc.message, **context)


@bp.get("")
@identity.login_required
def manage():
    return _page()


@bp.post("")
@identity.login_required
def create():
    typed = request.form.get("name", "")
    try:
        answer = writer().create_list(clean_name(typed))
    except (InvalidField, UpstreamRejected, UpstreamUnavailable) as exc:
        return _problem(exc, new_name=typed)
    session_lsn.remember(answer["lsn"])
    return redirect(url_for("web.show_list", list_id=answer["list"]["id"]), 303)


@bp.post("/<id:list_id>/rename")
@identity.login_required
def rename(list_id: int):
    typed = request.form.get("name", "")
    try:
        answer = writer().rename_list(list_id, clean_name(typed))
    except (InvalidField, UpstreamRejected, UpstreamUnavailable) as exc:
        return _problem(exc, drafts={list_id: typed})
    session_lsn.remember(answer["lsn"])
    return redirect(url_for("lists.manage", _anchor=f"list-{list_id}"), 303)


@bp.post("/<id:list_id>/delete")
@identity.login_required
def delete(list_id: int):
    try:
        answer = writer().delete_list(list_id)
    except (UpstreamRejected, UpstreamUnavailable) as exc:
        return _problem(exc)
    session_lsn.remember(answer["lsn"])
    return redirect(url_for("lists.manage"), 303)
