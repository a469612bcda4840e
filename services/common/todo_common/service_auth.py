"""The reader's and the writer's door: every API request must carry a service token
signed by the frontend (``Authorization: Bearer <jwt>``); health stays open to the
probes (metrics are on a port of their own, see ``metrics``). Also maps what the database said about the
actor (see ``ownership``) to answers the frontend understands."""

from __future__ import annotations

import click
from flask import Flask, g, jsonify, request

from .errors import ApiError
from .ownership import NotSignedIn, SessionEnded, TokenScope, UnknownApiToken
from .service_token import Actor, InvalidServiceToken, verify
from .settings import configuration_error

OPEN_PATHS = frozenset({"/healthz", "/readyz"})

# The frontend tells a session that ended (log in again) from a refused password.
SESSION_ENDED = "session_ended"
NOT_SIGNED_IN = "not_signed_in"


def init_app(app: Flask, keys: tuple[str, ...], service: str) -> None:
    """Guard every route but the open ones. Without a key the app may still run its
    commands (``flask migrate`` signs and checks nothing), but it cannot serve."""
    if not keys and click.get_current_context(silent=True) is None:
        raise configuration_error(service, "SERVICE_TOKEN_KEY is required but not set")

    @app.before_request
    def _authenticate():
        if request.path in OPEN_PATHS:
            return
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "a service token is required", headers={"WWW-Authenticate": "Bearer"})
        try:
            g.actor = verify(token.strip(), keys)
        except InvalidServiceToken as exc:
            raise ApiError(401, str(exc), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None

    @app.errorhandler(NotSignedIn)
    def _not_signed_in(exc: NotSignedIn):
        if isinstance(exc, SessionEnded):
            return jsonify(error="your session has ended; log in again", code=SESSION_ENDED), 401
        return jsonify(error="log in first", code=NOT_SIGNED_IN), 401

    @app.errorhandler(TokenScope)
    def _token_scope(exc: TokenScope):
        return jsonify(error="an API token can change the items of its list, not the lists or the account"), 403

    @app.errorhandler(UnknownApiToken)
    def _unknown_token(exc: UnknownApiToken):
        return jsonify(error="no such API token: it may have been revoked"), 404


def actor() -> Actor:
    return g.actor
