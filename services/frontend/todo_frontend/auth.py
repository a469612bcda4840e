"""Sign-up, log-in, log-out and the account page (password, API tokens, deletion).

Passwords go to the writer, which hashes and checks them; this service never sees
a hash. A refused form comes back with what was typed (never the password) and why.
"""

from __future__ import annotations

from contextlib import suppress

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from todo_common import credentials
from todo_common.validation import InvalidField

from . import identity, session_lsn, urls
from .upstream import SessionEnded, UpstreamRejected, UpstreamUnavailable, reader, writer

bp = Blueprint("auth", __name__)

RULES = {
    "username_min": credentials.USERNAME_MIN_LENGTH,
    "username_max": credentials.USERNAME_MAX_LENGTH,
    "password_min": credentials.PASSWORD_MIN_LENGTH,
    "password_max": credentials.PASSWORD_MAX_LENGTH,
}


def _form_page(template: str, *, status: int = 200, retry_after: str | None = None, **context):
    context.setdefault("username", request.form.get("username", "")[: credentials.USERNAME_MAX_LENGTH])
    response = current_app.make_response((render_template(template, rules=RULES, **context), status))
    if retry_after:
        response.headers["Retry-After"] = retry_after
    return response


def _problem(template: str, exc: Exception, **context):
    """Show ``template`` again with the reason ``exc`` gives."""
    if isinstance(exc, SessionEnded):
        return identity.session_ended()
    if isinstance(exc, InvalidField):
        return _form_page(template, status=422, error=str(exc), **context)
    if isinstance(exc, UpstreamUnavailable):
        message = exc.for_a_person()
        return _form_page(template, status=exc.status, error=message, **context)
    assert isinstance(exc, UpstreamRejected)
    return _form_page(template, status=exc.status, error=exc.message, retry_after=exc.retry_after, **context)


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    if request.method == "GET":
        if identity.account_id() is not None:
            return redirect(url_for("web.index"), 303)
        return _form_page("signup.html")
    try:
        username = credentials.clean_username(request.form.get("username", ""))
        password = credentials.clean_password(request.form.get("password", ""))
        answer = writer().sign_up(username, password)
    except (InvalidField, UpstreamRejected, UpstreamUnavailable) as exc:
        return _problem("signup.html", exc)
    account = answer["account"]
    identity.sign_in(account["id"], account["username"], answer["generation"])
    session_lsn.remember(answer["lsn"])
    return redirect(url_for("web.index"), 303)


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_page = identity.safe_next(request.args.get("next"))
    if request.method == "GET":
        if identity.account_id() is not None:
            return redirect(next_page, 303)
        message = None
        if request.args.get("ended"):
            message = "Your session has ended; please log in again."
        elif request.args.get("deleted"):
            message = "Your account and all its data were deleted."
        return _form_page("login.html", message=message)
    try:
        answer = writer().log_in(request.form.get("username", ""), request.form.get("password", ""))
    except (InvalidField, UpstreamRejected, UpstreamUnavailable) as exc:
        return _problem("login.html", exc)
    account = answer["account"]
    identity.sign_in(account["id"], account["username"], answer["generation"])
    session_lsn.remember(answer["lsn"])
    return redirect(next_page, 303)


@bp.post("/logout")
def logout():
    """Ends every session of the account (all devices), then this one."""
    if identity.account_id() is not None:
        with suppress(UpstreamRejected):  # the session had already ended
            writer().log_out()
    identity.sign_out()
    return redirect(url_for("auth.login"), 303)


def _account_page(*, status: int = 200, **context):
    account = reader().account(min_lsn=session_lsn.current())
    return _form_page("account.html", status=status, account=account, **context)


@bp.get("/account")
@identity.login_required
def account():
    return _account_page()


@bp.post("/account/password")
@identity.login_required
def change_password():
    try:
        new = credentials.clean_password(request.form.get("new_password", ""))
        answer = writer().change_password(request.form.get("current_password", ""), new)
    except (InvalidField, UpstreamRejected, UpstreamUnavailable) as exc:
        return _account_problem(exc)
    identity.update_generation(answer["generation"])
    session_lsn.remember(answer["lsn"])
    return _account_page(message="Your password was changed. You were logged out everywhere else.")


@bp.post("/account/tokens")
@identity.login_required
def create_token():
    try:
        list_id = int(request.form.get("list", ""))
    except ValueError:
        list_id = None
    # Checked before the token exists: it is shown once, with its link.
    unserved = urls.unserved_host()
    if unserved is not None:
        account = reader().account(min_lsn=session_lsn.current())
        return _form_page("account.html", status=400, error=unserved, account=account)
    try:
        answer = writer().create_token(list_id)
    except (UpstreamRejected, UpstreamUnavailable) as exc:
        return _account_problem(exc)
    session_lsn.remember(answer["lsn"])
    token = answer["token"]
    account = reader().account(min_lsn=session_lsn.current())
    list_name = next((item["name"] for item in account["lists"] if item["id"] == token["list"]), "")
    new_token = {
        "token": token["token"],
        "list_name": list_name,
        "api_root": urls.external_url("public_api.collection", token=token["token"]),
    }
    response = _form_page("account.html", status=201, account=account, new_token=new_token)
    response.headers["Cache-Control"] = "no-store"  # the page shows a secret
    return response


@bp.post("/account/tokens/<id:token_id>/revoke")
@identity.login_required
def revoke_token(token_id: int):
    try:
        answer = writer().revoke_token(token_id)
    except (UpstreamRejected, UpstreamUnavailable) as exc:
        return _account_problem(exc)
    session_lsn.remember(answer["lsn"])
    return redirect(url_for("auth.account", _anchor="api"), 303)


@bp.post("/account/delete")
@identity.login_required
def delete_account():
    try:
        writer().delete_account(request.form.get("password", ""))
    except (UpstreamRejected, UpstreamUnavailable) as exc:
        return _account_problem(exc)
    identity.sign_out()
    return redirect(url_for("auth.login", deleted=1), 303)


def _account_problem(exc: Exception):
    """The account page again, saying why the form was refused."""
    if isinstance(exc, SessionEnded):
        return identity.session_ended()
    return _problem("account.html", exc, account=reader().account(min_lsn=session_lsn.current()))
