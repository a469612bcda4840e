"""The pages of a person's lists. Every change is a form POST (CSRF-checked) answered
with a redirect; the page it lands on reads with the user's own LSN, so it shows the
change, and puts the focus back where the person was (``?focus=``, honoured with
``autofocus``, which needs no script). The page's script sends the same forms with
``X-Requested-With: fetch`` and gets the list's new HTML instead of a redirect, read
the same way. A form that could not be saved comes back with what the user typed
and why. Only signed-in people get here; the reader and writer answer 404 for
anything that is not theirs."""

from __future__ import annotations

import hashlib
import re
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_wtf.csrf import CSRFError

from todo_common.validation import MAX_ID, STATUSES, InvalidField, parse_whole

from . import forms, identity, list_html, session_lsn
from .upstream import OutcomeUnknown, SessionEnded, UpstreamRejected, UpstreamUnavailable, reader, writer

bp = Blueprint("web", __name__)


def _view_args(args) -> tuple[str, int]:
    """(status, after) from query args; anything odd falls back to the first page of all."""
    status = args.get("status", "all")
    if status not in STATUSES:
        status = "all"
    try:
        after = parse_whole("after", args.get("after", "0"), 0, MAX_ID)
    except InvalidField:
        after = 0
    return status, after


def _referrer_view() -> tuple[str, int]:
    """The list view (status, page) a form was sent from: the form's own query
    (the rename page passes it on) or else the Referer's."""
    if "status" in request.args or "after" in request.args:
        return _view_args(request.args)
    query = {k: v[0] for k, v in parse_qs(urlsplit(request.referrer or "").query).items()}
    return _view_args(query)


def _view_query(status: str, after: int) -> dict:
    """Query arguments for url_for that bring back a list view (empty for the default)."""
    return {"status": None if status == "all" else status, "after": after or None}


def _not_found(message: str):
    return render_template("error.html", code=404, title="Not Found", message=message), 404


def _list_url(list_id: int | None, status: str = "all", after: int = 0, focus: str | None = None) -> str:
    if list_id is None:
        return url_for("web.index", **_view_query(status, after), focus=focus)
    return url_for("web.show_list", list_id=list_id, **_view_query(status, after), focus=focus)


_LIST_PATH = re.compile(r"/lists/([1-9][0-9]{0,18})")


def _back(list_id: int | None, focus: str | None = None):
    """Answer a change: for a form, a redirect to the list view it was sent from
    (status and page kept; built from our own parameters only, never the raw
    Referer: no open redirect); for the page's script, that view's new HTML.
    Without a list id (a change whose answer did not name it) it is the list the
    form was on, as its Referer says, else the first."""
    if list_id is None:
        sent_from = _LIST_PATH.fullmatch(urlsplit(request.referrer or "").path)
        list_id = int(sent_from.group(1)) if sent_from else None
    status, after = _referrer_view()
    if _wants_json():
        return _fragment(list_id, status, after, focus)
    return redirect(_list_url(list_id, status, after, focus), 303)


def _fragment(list_id: int | None, status: str, after: int, focus: str | None):
    """The list's items and controls after a change, as the page's script puts them
    in place: read through the reader with the session's LSN, like the page itself.
    The change is saved even if this read fails: then the answer says so (200,
    html null) and the script reloads the page rather than send the form again."""
    try:
        page, region = _read_page(list_id, status, after, list_html.focus_hint(focus))
    except SessionEnded:
        raise
    except (UpstreamRejected, UpstreamUnavailable):
        return jsonify(html=None, saved=True)
    html = render_template(
        "_list.html", list_path=url_for("web.show_list", list_id=page["list"]["id"]), list_region=region
    )
    counts = page["counts"]
    title = f"({counts['active']}) {page['list']['name']} · Todo"
    return jsonify(html=html, counts=counts, title=title, saved=True)


def _read_page(list_id: int | None, status: str, after: int, focus_hint: str | None) -> tuple[dict, str]:
    """The page's data (shared: read it, never change it) and its list region's HTML."""
    answer = reader().page_json(
        list_id,
        status=status,
        after=after,
        limit=current_app.extensions["todo_settings"].page_size,
        min_lsn=session_lsn.current(),
        with_lists=True,
    )
    return list_html.render(answer, status, after, _view_query_string(status, after), focus_hint)


def _view_query_string(status: str, after: int) -> str:
    query = urlencode({k: v for k, v in _view_query(status, after).items() if v is not None})
    return f"?{query}" if query else ""


def render_list(
    list_id: int | None = None,
    status: str = "all",
    after: int = 0,
    *,
    error: str | None = None,
    http_status: int = 200,
    draft_name: str = "",
    form_key: str | None = None,
    focus: str | None = None,
):
    """A list's page (the first list when ``list_id`` is None). If the reader is down
    the page still renders (with the add form and any draft), says why, and answers 503.
    ``form_key`` is the add form's idempotency key: a new one for a new form, the
    same one when a form whose outcome is unknown comes back."""
    page, region, list_error = None, None, None
    # A refused form keeps the focus in the add field, where the reason is.
    hint = None if error else list_html.focus_hint(focus)
    try:
        page, region = _read_page(list_id, status, after, hint)
    except SessionEnded:
        raise
    except UpstreamRejected as exc:
        if exc.status == 404:
            return _not_found("There is no such list: it may have been deleted.")
        list_error = f"The list can't be loaded right now ({exc.message}). Nothing you saved is lost."
        http_status = max(http_status, 503)
    except UpstreamUnavailable as exc:
        list_error = (
            f"The list can't be loaded right now ({exc.message}). Nothing you saved is lost; try again shortly."
        )
        http_status = max(http_status, exc.status)
    shown_list = page["list"]["id"] if page else list_id
    html = render_template(
        "index.html",
        page=page,
        list_id=shown_list,
        list_path=url_for("web.show_list", list_id=shown_list) if shown_list else "",
        list_region=region,
        error=error,
        list_error=list_error,
        draft_name=draft_name,
        form_key=form_key or uuid.uuid4().hex,
        focus=list_html.focus_targets(page, hint),
    )
    return html, http_status


def render_edit(todo_id: int, *, draft: str | None = None, error: str | None = None, http_status: int = 200):
    """The rename page: its own small form, so the list carries one link per item
    instead of a whole form, and renaming works the same with or without JavaScript."""
    todo = reader().get(todo_id, min_lsn=session_lsn.current())
    status, after = _referrer_view() if request.method == "POST" else _view_args(request.args)
    html = render_template(
        "edit.html",
        todo=todo,
        name=todo["name"] if draft is None else draft,
        error=error,
        back=_list_url(todo["list"], status, after, focus=f"rename-{todo_id}"),
        view=_view_query(status, after),
    )
    return html, http_status


def _reshow(message: str, http_status: int):
    """Show the form that failed again, with the user's text and the reason."""
    text = request.form.get("name", "") if request.mimetype == "application/x-www-form-urlencoded" else ""
    if request.endpoint == "web.rename":
        try:
            return render_edit(request.view_args["todo_id"], draft=text, error=message, http_status=http_status)
        except (UpstreamRejected, UpstreamUnavailable):
            pass  # no such item, or it can't be read: fall back to the list
    status, after = _referrer_view()
    draft_name = text if request.endpoint == "web.add" else ""
    # After an unknown outcome the same key goes back, so submitting again cannot add twice.
    form_key = _form_key() if request.endpoint == "web.add" and g.get("outcome_unknown") else None
    list_id = (request.view_args or {}).get("list_id")
    return render_list(
        list_id, status, after, error=message, http_status=http_status, draft_name=draft_name, form_key=form_key
    )


_FORM_KEY = re.compile(r"^[0-9a-f]{32}$")


def _form_key() -> str | None:
    """The add form's idempotency key, if it sent a well-formed one."""
    key = request.form.get("form_key", "") if request.mimetype == "application/x-www-form-urlencoded" else ""
    return key if _FORM_KEY.match(key) else None


def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


class _FormProblem(Exception):
    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.message = message
        self.status = status


def _strict_forms():
    if request.method == "POST" and request.blueprint in ("web", "auth", "lists"):
        try:
            forms.check_utf8(request)
        except InvalidField as exc:
            if request.blueprint != "web":
                abort(400, description=str(exc))
            raise _FormProblem(str(exc), 400) from None


@bp.before_request
def _signed_in_only():
    if identity.account_id() is None:
        if _wants_json():
            return jsonify(error="log in first"), 401
        return identity.to_login()
    return None


def init_app(app, csrf) -> None:
    # Before CSRF's check, which reads (and leniently decodes) the form first.
    app.before_request(_strict_forms)
    csrf.init_app(app)
    app.register_blueprint(bp)
    # Browsers and tools ask for /favicon.ico whoever is signed in (the pages name
    # favicon.svg; this is the same picture for those that ask the old way).
    app.add_url_rule("/favicon.ico", "favicon", _favicon)


def _favicon():
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon")


@bp.errorhandler(_FormProblem)
def _form_problem(exc: _FormProblem):
    if _wants_json():
        return jsonify(error=exc.message), exc.status
    try:
        return _reshow(exc.message, exc.status)
    except SessionEnded:
        # The form came from a session that has ended (logged out elsewhere, or the
        # cookie was lost, so its CSRF check failed too): the list can't be shown
        # again. Raised inside an error handler it would not reach the app's handler.
        return identity.session_ended()


@bp.errorhandler(InvalidField)
def _invalid_field(exc: InvalidField):
    return _form_problem(_FormProblem(str(exc), 422))


@bp.errorhandler(UpstreamRejected)
def _rejected(exc: UpstreamRejected):
    if isinstance(exc, SessionEnded):
        return identity.session_ended()
    return _form_problem(_FormProblem(exc.message, exc.status))


@bp.errorhandler(UpstreamUnavailable)
def _unavailable(exc: UpstreamUnavailable):
    if isinstance(exc, OutcomeUnknown):
        g.outcome_unknown = True
        message = (
            f"We could not confirm your change: the {exc.service} service {exc.message}. It may or may not have"
            " been saved; submitting again is safe (it will not be added twice)."
            if request.endpoint == "web.add"
            else f"We could not confirm your change: the {exc.service} service {exc.message}. It may or may not"
            " have been saved; reload the list to see."
        )
        return _form_problem(_FormProblem(message, exc.status))
    what = "saved" if request.method == "POST" else "loaded"
    message = (
        f"Your change could not be {what}: the {exc.service} service is unavailable ({exc.message}). Please try again."
    )
    return _form_problem(_FormProblem(message, exc.status))


@bp.errorhandler(CSRFError)
def _csrf_failed(exc: CSRFError):
    message = "This form has expired or did not come from this site. Reload the page and try again."
    return _form_problem(_FormProblem(message, 400))


@bp.get("/")
def index():
    return render_list(None, *_view_args(request.args), focus=request.args.get("focus"))


@bp.get("/lists/<id:list_id>")
def show_list(list_id: int):
    return render_list(list_id, *_view_args(request.args), focus=request.args.get("focus"))


@bp.post("/lists/<id:list_id>/todos")
@bp.post("/todos", defaults={"list_id": None})
def add(list_id: int | None):
    """Add to a list (``/todos``: the first one, when the page could not say which).

    The form's key and the name make the writer's Idempotency-Key: the same form sent
    twice with the same text (a retry after an error, a double click) adds one item;
    an old form sent again with other text (the back button) adds that as a new item."""
    name = forms.name_field(request)
    form_key = _form_key()
    key = hashlib.sha256(f"{form_key}\n{name}".encode()).hexdigest() if form_key else None
    _, lsn = writer().create(list_id, {"name": name}, idempotency_key=key)
    session_lsn.remember(lsn)
    return _back(list_id)


@bp.post("/todos/<todo_id:todo_id>/toggle")
def toggle(todo_id: int):
    body, lsn = writer().update(todo_id, {"completed": forms.bool_field(request, "completed")})
    session_lsn.remember(lsn)
    return _back(body["todo"]["list"], f"item-{todo_id}")


@bp.get("/todos/<todo_id:todo_id>/edit")
def edit(todo_id: int):
    try:
        return render_edit(todo_id)
    except UpstreamRejected as exc:
        if exc.status == 404:
            abort(404, description="There is no such item: it may have been deleted.")
        raise


@bp.post("/todos/<todo_id:todo_id>/rename")
def rename(todo_id: int):
    if not request.form.get("name", "").strip():
        # As in TodoMVC: emptying the name deletes the item.
        body, lsn = writer().delete(todo_id)
        list_id = body["list"]
    else:
        body, lsn = writer().update(todo_id, {"name": forms.name_field(request)})
        list_id = body["todo"]["list"]
    session_lsn.remember(lsn)
    return _back(list_id, f"rename-{todo_id}")


@bp.post("/todos/<todo_id:todo_id>/delete")
def delete(todo_id: int):
    try:
        body, lsn = writer().delete(todo_id)
    except UpstreamRejected as exc:
        if exc.status == 404 and exc.after_unknown:  # the first, unanswered attempt deleted it
            return _back(None, f"item-{todo_id}")
        raise
    session_lsn.remember(lsn)
    return _back(body["list"], f"item-{todo_id}")


@bp.post("/lists/<id:list_id>/mark-all")
def mark_all(list_id: int):
    _, lsn = writer().mark_all(list_id, forms.bool_field(request, "completed"))
    session_lsn.remember(lsn)
    return _back(list_id, "mark-all")


@bp.post("/lists/<id:list_id>/clear-completed")
def clear_completed(list_id: int):
    _, lsn = writer().delete_all(list_id, completed_only=True)
    session_lsn.remember(lsn)
    return _back(list_id, "clear-completed")
