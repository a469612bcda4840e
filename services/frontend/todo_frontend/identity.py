"""Who is asking: a person signed in through the session cookie, or a script with
an API token; and from which address. The reader and the writer learn it from the
service token the frontend signs for each call (see todo_common.service_token)."""

from __future__ import annotations

import hashlib
from functools import wraps

from flask import current_app, g, jsonify, redirect, request, session, url_for

from todo_common import service_token
from todo_common.service_token import Actor

_ACCOUNT = "account"
_GENERATION = "gen"
_USERNAME = "user"


def sign_in(account_id: int, username: str, generation: int) -> None:
    """A fresh session: nothing from before login survives (no session fixation),
    including the CSRF token."""
    session.clear()
    session[_ACCOUNT] = account_id
    session[_GENERATION] = generation
    session[_USERNAME] = username
    session.permanent = True


def sign_out() -> None:
    session.clear()


def update_generation(generation: int) -> None:
    """After a password change this session continues; the others have ended."""
    session[_GENERATION] = generation


def account_id() -> int | None:
    value = session.get(_ACCOUNT)
    return value if isinstance(value, int) and isinstance(session.get(_GENERATION), int) else None


def username() -> str | None:
    return session.get(_USERNAME) if account_id() is not None else None


def use_api_token(token: str) -> None:
    """This request acts with an API token (from the URL or a Bearer header)."""
    g.api_token_hash = hashlib.sha256(token.encode()).hexdigest()


def client_address() -> str | None:
    # request.remote_addr already went through ProxyFix with the configured number
    # of trusted proxies, so a client cannot pick its own address.
    return request.remote_addr


def current_actor() -> Actor:
    token_hash = g.get("api_token_hash")
    if token_hash is not None:
        return Actor(api_token_hash=token_hash, address=client_address())
    account = None if g.get("api_request") else account_id()  # the API never reads cookies
    if account is None:
        return Actor(address=client_address())
    return Actor(account_id=account, generation=session[_GENERATION], address=client_address())


def authorization_header() -> dict[str, str]:
    key = current_app.extensions["todo_settings"].service_token_key
    return {"Authorization": "Bearer " + service_token.sign(key, current_actor())}


def to_login(*, ended: bool = False):
    """Send the visitor to log in, and back here after (a page they were on, not a form)."""
    back = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.login", next=back, ended=1 if ended else None), 303)


def session_ended():
    """The account's sessions were ended elsewhere: forget this one and log in again."""
    sign_out()
    if request.headers.get("X-Requested-With") == "fetch":
        return jsonify(error="your session has ended; log in again"), 401
    return to_login(ended=True)


def login_required(view):
    """Pages for signed-in people; anyone else is sent to log in (and back after)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if account_id() is None:
            return to_login()
        return view(*args, **kwargs)

    return wrapper


def safe_next(target: str | None) -> str:
    """Where to go after login: a path on this site only, never another host."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("web.index")
