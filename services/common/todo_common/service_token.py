"""Service identity: the frontend signs a short-lived token (a JWT, HS256) on every
call to the reader and the writer, naming who acts; they accept nothing else.

A token says one of three things:
- ``sub`` + ``gen``: a person's browser session (account id and the account's
  session generation, which the services check against the database, so logout
  and password change end every session at once);
- ``tok``: a script with an API token (the SHA-256 of it, hex), resolved by the
  services to its account and list;
- neither: an anonymous visitor, allowed only to sign up or log in.
``addr`` carries the client address the frontend saw, for per-address limits.

Keys: ``SERVICE_TOKEN_KEY`` signs and verifies; ``SERVICE_TOKEN_PREVIOUS_KEY``, when
set, is still accepted, so a key is rotated without a failed request (see the
chart README).

Signing and verifying cost an HMAC and some JSON each: a token is reused for the same
actor for ``REUSE_SECONDS`` (still valid at least 40 s after), and what a service
verified is kept until it expires, so a person's requests in the meantime cost a
dictionary look-up on each side. Only tokens whose signature matched are kept.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import jwt

ALGORITHM = "HS256"
AUDIENCE = "todo-services"
ISSUER = "todo-frontend"
# Long enough for one request with its retries, short enough to be useless if logged.
LIFETIME_SECONDS = 60
# Clocks of different nodes drift a little.
LEEWAY_SECONDS = 10
MIN_KEY_LENGTH = 32
REUSE_SECONDS = 20
# Tokens kept per process, on each side: a few hundred bytes each.
KEPT_TOKENS = 4096


class InvalidServiceToken(Exception):
    """Missing, malformed, expired or forged; the message says which, for the caller."""


@dataclass(frozen=True)
class Actor:
    """Who a request acts for, as the frontend vouched for it."""

    account_id: int | None = None
    generation: int | None = None
    api_token_hash: str | None = None
    address: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.account_id is None and self.api_token_hash is None


def sign(key: str, actor: Actor, *, now: float | None = None) -> str:
    """A token for ``actor``: the same one for ``REUSE_SECONDS``, issued when that
    window began (``now``: a fresh one issued then)."""
    if now is not None:
        return _signed(key, actor, int(now))
    return _signed_in_window(key, actor, int(time.time()) // REUSE_SECONDS)


@lru_cache(maxsize=KEPT_TOKENS)
def _signed_in_window(key: str, actor: Actor, window: int) -> str:
    return _signed(key, actor, window * REUSE_SECONDS)


def _signed(key: str, actor: Actor, issued: int) -> str:
    claims: dict = {"iss": ISSUER, "aud": AUDIENCE, "iat": issued, "exp": issued + LIFETIME_SECONDS}
    if actor.account_id is not None:
        claims["sub"] = str(actor.account_id)
        claims["gen"] = actor.generation
    if actor.api_token_hash is not None:
        claims["tok"] = actor.api_token_hash
    if actor.address is not None:
        claims["addr"] = actor.address
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def verify(token: str, keys: tuple[str, ...]) -> Actor:
    """The actor a valid token names, else InvalidServiceToken."""
    actor, expires = _verified(token, keys)
    if time.time() > expires + LEEWAY_SECONDS:  # kept while valid, then expired like any other
        raise InvalidServiceToken("the service token has expired")
    return actor


@lru_cache(maxsize=KEPT_TOKENS)  # an exception is not kept: invalid tokens are checked every time
def _verified(token: str, keys: tuple[str, ...]) -> tuple[Actor, int]:
    last_error: Exception | None = None
    for key in keys:
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "aud", "iss"]},
            )
        except jwt.InvalidSignatureError as exc:
            last_error = exc
            continue  # maybe signed with the other key
        except jwt.ExpiredSignatureError:
            raise InvalidServiceToken("the service token has expired") from None
        except jwt.PyJWTError as exc:
            raise InvalidServiceToken(f"the service token is invalid ({exc})") from None
        return _actor(claims), int(claims["exp"])
    raise InvalidServiceToken("the service token's signature does not match") from last_error


def _actor(claims: dict) -> Actor:
    try:
        account = int(claims["sub"]) if "sub" in claims else None
        generation = int(claims["gen"]) if account is not None else None
    except (KeyError, TypeError, ValueError):
        raise InvalidServiceToken("the service token names no valid account") from None
    token_hash = claims.get("tok")
    address = claims.get("addr")
    if token_hash is not None and not (isinstance(token_hash, str) and len(token_hash) == 64):
        raise InvalidServiceToken("the service token's API token hash is malformed")
    if account is not None and token_hash is not None:
        raise InvalidServiceToken("the service token names both a session and an API token")
    return Actor(account, generation, token_hash, address if isinstance(address, str) else None)


def keys_from_env(env, *, required: bool = True) -> tuple[str, ...]:
    """(current, previous?) from SERVICE_TOKEN_KEY and SERVICE_TOKEN_PREVIOUS_KEY; empty
    when not ``required`` and unset."""
    from .settings import SettingsError

    keys = []
    for name, must in (("SERVICE_TOKEN_KEY", required), ("SERVICE_TOKEN_PREVIOUS_KEY", False)):
        key = env.str(name, required=must)
        if key is None:
            continue
        if len(key) < MIN_KEY_LENGTH:
            raise SettingsError(f"{name} must be at least {MIN_KEY_LENGTH} characters (use a random value)")
        keys.append(key)
    return tuple(keys)
