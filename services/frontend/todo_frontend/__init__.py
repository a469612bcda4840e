"""The frontend: renders the pages and the public API, and holds the person's
session; no database access of its own."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from todo_common import health, logs, metrics, request_log, routing
from todo_common.errors import error_response
from todo_common.settings import load as load_settings

from . import auth, identity, list_html, lists, public_api, upstream, web
from .settings import FrontendSettings
from .upstream import SessionEnded

log = logging.getLogger(__name__)


def create_app(settings: FrontendSettings | None = None) -> Flask:
    logs.configure("frontend")
    settings = settings or load_settings(FrontendSettings, "frontend")
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        # Sign the cookie again only when the session changed, not on every page.
        SESSION_REFRESH_EACH_REQUEST=False,
        # "Remember me" for a month; logout and password change end it sooner.
        PERMANENT_SESSION_LIFETIME=timedelta(days=30),
        # A token lives as long as the session: a tab left open overnight still works.
        WTF_CSRF_TIME_LIMIT=None,
        # Static files change only with a new image; let browsers keep them a day.
        SEND_FILE_MAX_AGE_DEFAULT=86400,
    )
    app.extensions["todo_settings"] = settings
    upstream.init_app(app, settings)

    def readiness() -> dict:
        # Ready when both services answer their own liveness: their readiness is
        # theirs to report, and chaining it would take every frontend out at once.
        for client in (upstream.reader(), upstream.writer()):
            client.upstream.request("GET", "/healthz")
        return {}

    if settings.trusted_proxies:
        # The client's address and the public scheme/host come from X-Forwarded-*
        # only as far as our own proxies vouch for them.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)

    csrf = CSRFProtect()
    routing.init_app(app)
    health.init_app(app, readiness)
    metrics.init_app(app)
    request_log.init_app(app, key=settings.service_token_key, actor=identity.current_actor)
    web.init_app(app, csrf)
    list_html.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(lists.bp)
    public_api.init_app(app, csrf)
    app.register_error_handler(SessionEnded, lambda exc: identity.session_ended())
    app.context_processor(lambda: {"signed_in_as": identity.username()})
    _html_errors(app)

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            )
        return response

    return app


def _html_errors(app: Flask) -> None:
    """Error pages that look like the rest of the app; never a trace."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        # The error's own headers go along (405's Allow, 401's WWW-Authenticate).
        headers = [(name, value) for name, value in exc.get_headers() if name.lower() != "content-type"]
        if request.path.startswith(public_api.bp.url_prefix + "/"):
            # No API route matched (unknown path, wrong method): still JSON, still CORS.
            response = error_response(exc.code, exc.description)
            response.headers.update(public_api.CORS_HEADERS)
            response.headers.extend(headers)
            return response
        html = render_template("error.html", code=exc.code, title=exc.name, message=exc.description)
        return html, exc.code, headers

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        message = "Something went wrong on our side. Nothing you saved is lost; please try again."
        return render_template("error.html", code=500, title="Internal error", message=message), 500
