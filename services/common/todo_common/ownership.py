"""Whose data a request may touch: the actor the frontend vouched for (see
``service_token``), checked against the database on the connection that runs the
request, so a session ended elsewhere or a revoked API token stops working at once."""

from __future__ import annotations

from dataclasses import dataclass

from .service_token import Actor

SESSION_OWNER = "SELECT id, NULL::bigint FROM accounts WHERE id = %(account)s AND session_generation = %(generation)s"
API_TOKEN_OWNER = "SELECT account_id, list_id FROM api_tokens WHERE token_hash = decode(%(token_hash)s, 'hex')"


class NotSignedIn(Exception):
    """The request acts for nobody (an anonymous actor) where an account is needed."""


class SessionEnded(NotSignedIn):
    """The session's generation is gone (logout, password change) or the account is."""


class TokenScope(Exception):
    """An API token acts on the items of its one list, not on lists or the account."""


class UnknownApiToken(LookupError):
    """The API token was revoked or never existed: the URL names nothing."""


@dataclass(frozen=True)
class Owner:
    """The account a request acts for; ``list_id`` when it may only touch one list."""

    account_id: int
    list_id: int | None = None


def resolve(cur, actor: Actor) -> Owner:
    """The owner behind ``actor``, or one of the exceptions above."""
    if actor.api_token_hash is not None:
        cur.execute(API_TOKEN_OWNER, {"token_hash": actor.api_token_hash})
        row = cur.fetchone()
        if row is None:
            raise UnknownApiToken()
        return Owner(row[0], row[1])
    if actor.account_id is None:
        raise NotSignedIn()
    cur.execute(SESSION_OWNER, {"account": actor.account_id, "generation": actor.generation})
    if cur.fetchone() is None:
        raise SessionEnded()
    return Owner(actor.account_id)


# True when the actor is not a session (``session`` false: an API token, looked up on
# the primary before) or its session is live; for statements that check it in passing.
SESSION_LIVE = f"(NOT %(session)s OR EXISTS ({SESSION_OWNER}))"


def session_checked(sql: str) -> str:
    """``sql`` (one text value, at most one row) read together with the session check,
    in one statement and one round trip: its rows are ``(session is live, value)``,
    the value NULL when ``sql`` finds no row. Parameters: ``sql``'s, plus ``account``
    and ``generation``."""
    return f"SELECT EXISTS ({SESSION_OWNER}), ({sql})"


def session_owner(actor: Actor) -> Owner:
    """The owner a session actor claims to be, to be confirmed by ``session_checked``."""
    if actor.account_id is None:
        raise NotSignedIn()
    return Owner(actor.account_id)
