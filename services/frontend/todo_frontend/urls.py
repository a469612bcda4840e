"""Absolute URLs for answers that hand out links (the public API's ``url``,
``Location``, ``Link`` and ``api_root``): built from PUBLIC_URL when it is set, so a
forged Host header cannot point a client elsewhere."""

from __future__ import annotations

from flask import current_app, url_for


def external_url(endpoint: str, **values) -> str:
    public_url = current_app.extensions["todo_settings"].public_url
    if public_url:
        return public_url + url_for(endpoint, **values)
    # Host and scheme from the request, or from X-Forwarded-* of trusted proxies.
    return url_for(endpoint, _external=True, **values)
