"""Absolute URLs for answers that hand out links (the public API's ``url``,
``Location``, ``Link`` and ``api_root``), never from a forged Host header: from
PUBLIC_URL when it is set (the Host is then ignored), otherwise from the request's
host only when it is one of ALLOWED_HOSTS (after TRUSTED_PROXIES' X-Forwarded-Host,
if any); another host gets a 400 naming the settings. Pages use relative links and
need neither."""

from __future__ import annotations

from flask import current_app, request, url_for

from todo_common.errors import ApiError


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """``host`` (``name[:port]``) against patterns: ``*`` (any), ``name`` (any port),
    ``name:port``, ``.example.com`` (the domain and its subdomains)."""
    host = host.lower()
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    for pattern in allowed:
        if pattern == "*" or pattern in (host, name):
            return True
        if pattern.startswith(".") and (name.endswith(pattern) or name == pattern[1:]):
            return True
    return False


def unserved_host() -> str | None:
    """Why links cannot be built for this request's host, or None when they can."""
    settings = current_app.extensions["todo_settings"]
    if settings.public_url or host_allowed(request.host, settings.allowed_hosts):
        return None
    return (
        f"links cannot be built for the host {request.host[:100]!r}: it is not one this site serves"
        " (the operator sets PUBLIC_URL, or lists the host in ALLOWED_HOSTS)"
    )


def external_url(endpoint: str, **values) -> str:
    settings = current_app.extensions["todo_settings"]
    if settings.public_url:
        return settings.public_url + url_for(endpoint, **values)
    problem = unserved_host()
    if problem is not None:
        raise ApiError(400, problem)
    # Host and scheme from the request, or from X-Forwarded-* of trusted proxies.
    return url_for(endpoint, _external=True, **values)
