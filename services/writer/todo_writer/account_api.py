"""The writer's account API: sign-up, log-in (a password check; the session itself
is the frontend's signed cookie), ending sessions, password change, deletion, and
API tokens. Every answer that changed something carries the commit's LSN."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from todo_common import credentials
from todo_common.errors import ApiError
from todo_common.json_body import read_object
from todo_common.lsn import COMMIT_LSN_HEADER
from todo_common.ownership import TokenScope, resolve
from todo_common.service_auth import SESSION_ENDED, actor
from todo_common.validation import InvalidField

from . import accounts, usage

bp = Blueprint("account_api", __name__, url_prefix="/v1")


def _db():
    return current_app.extensions["todo_db"]


def _limits() -> accounts.Limits:
    return current_app.extensions["todo_settings"].limits


def _answer(body: dict, lsn: str, status: int = 200):
    response = jsonify({**body, "lsn": lsn})
    response.status_code = status
    response.headers[COMMIT_LSN_HEADER] = lsn
    return response


def _signed_in_account() -> int:
    """The account of a signed-in person; API tokens cannot manage accounts."""
    owner = _db().run(lambda cur: resolve(cur, actor()))
    if owner.list_id is not None:
        raise TokenScope()
    return owner.account_id


def _body(*allowed: str) -> dict:
    """The JSON body, with no field but ``allowed``."""
    data = read_object(request)
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ApiError(422, f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    return data


@bp.errorhandler(accounts.NotFound)
def _account_gone(exc: accounts.NotFound):
    # Deleted between the session check and the change: the session has ended.
    return jsonify(error="your session has ended; log in again", code=SESSION_ENDED), 401


def _session_body(session: accounts.Session) -> dict:
    body = {"account": {"id": session.account_id, "username": session.username}, "generation": session.generation}
    if session.list_id is not None:
        body["list"] = session.list_id
    return body


def _checked(rule, value, status: int = 422):
    try:
        return rule(value)
    except InvalidField as exc:
        raise ApiError(status, str(exc)) from None


def _credentials(data: dict) -> tuple[str, str]:
    """A log-in's username and password; any malformed one is just a wrong one."""
    try:
        return credentials.clean_username(data.get("username")), credentials.given_password(data.get("password"))
    except InvalidField:
        raise ApiError(401, "the username or password is wrong") from None


def _password_check(call):
    """Run ``call`` (which checks a password); past the throttle's limit, a 429."""
    try:
        return call()
    except accounts.Throttled as exc:
        if request.path.endswith("/sessions"):
            usage.LOGINS.labels("throttled").inc()
        raise ApiError(429, exc.message, headers={"Retry-After": str(exc.retry_after)}) from None


@bp.post("/accounts")
def sign_up():
    data = _body("username", "password")
    username = _checked(credentials.clean_username, data.get("username"))
    password = _checked(credentials.clean_password, data.get("password"))
    try:
        session = _password_check(
            lambda: accounts.sign_up(_db(), username, password, address=actor().address, limits=_limits())
        )
    except accounts.UsernameTaken:
        raise ApiError(409, f"the username {username!r} is taken; choose another") from None
    usage.SIGNUPS.inc()
    return _answer(_session_body(session), session.lsn, 201)


@bp.post("/sessions")
def log_in():
    data = _body("username", "password")
    try:
        username, password = _credentials(data)
    except ApiError:
        usage.LOGINS.labels("failure").inc()
        raise
    try:
        session = _password_check(
            lambda: accounts.check_password(_db(), username, password, address=actor().address, limits=_limits())
        )
    except accounts.WrongCredentials:
        usage.LOGINS.labels("failure").inc()
        raise ApiError(401, "the username or password is wrong") from None
    usage.LOGINS.labels("success").inc()
    return _answer(_session_body(session), session.lsn)


@bp.delete("/sessions")
def log_out():
    """Ends every session of the account."""
    return _answer({}, accounts.end_sessions(_db(), _signed_in_account()))


@bp.put("/account/password")
def change_password():
    account_id = _signed_in_account()
    data = _body("current_password", "new_password")
    new = _checked(credentials.clean_password, data.get("new_password"))
    current = data.get("current_password")
    if not isinstance(current, str):
        raise ApiError(422, "current_password is required")
    try:
        session = _password_check(
            lambda: accounts.change_password(_db(), account_id, current, new, address=actor().address, limits=_limits())
        )
    except accounts.WrongCredentials:
        raise ApiError(403, "the current password is wrong") from None
    return _answer({"generation": session.generation}, session.lsn)


@bp.delete("/account")
def delete_account():
    account_id = _signed_in_account()
    password = _body("password").get("password")
    if not isinstance(password, str):
        raise ApiError(422, "password is required to delete the account")
    try:
        lsn = _password_check(
            lambda: accounts.delete_account(_db(), account_id, password, address=actor().address, limits=_limits())
        )
    except accounts.WrongCredentials:
        raise ApiError(403, "the password is wrong; the account was not deleted") from None
    return _answer({"deleted": True}, lsn)


@bp.post("/tokens")
def create_token():
    """For a signed-in person, or (with ``username`` and ``password`` in the body) for
    a script that has only its owner's credentials."""
    data = _body("list", "username", "password")
    list_id = data.get("list")
    if list_id is not None and (isinstance(list_id, bool) or not isinstance(list_id, int) or list_id < 1):
        raise ApiError(422, "list must be the id of one of your lists")
    if actor().is_anonymous:
        username, password = _credentials(data)
        try:
            account_id = _password_check(
                lambda: accounts.check_password(_db(), username, password, address=actor().address, limits=_limits())
            ).account_id
        except accounts.WrongCredentials:
            raise ApiError(401, "the username or password is wrong") from None
    else:
        account_id = _signed_in_account()
    try:
        token, lsn = accounts.create_api_token(_db(), account_id, list_id, limits=_limits())
    except accounts.NotFound:
        raise ApiError(404, f"list {list_id} not found") from None
    except accounts.LimitReached as exc:
        raise ApiError(409, str(exc)) from None
    return _answer({"token": token}, lsn, 201)


@bp.delete("/tokens/<id:token_id>")
def revoke_token(token_id: int):
    try:
        lsn = accounts.revoke_api_token(_db(), _signed_in_account(), token_id)
    except accounts.NotFound:
        raise ApiError(404, f"token {token_id} not found") from None
    return _answer({"revoked": token_id}, lsn)
