"""Security headers on every response: pages, JSON, files, redirects and errors.

The Content-Security-Policy allows scripts and styles from our own origin only: no inline
``<script>``, event-handler attribute, ``javascript:`` link or ``style`` attribute works, so
text that slips through as HTML cannot run. Pages keep their data in ``data-`` attributes or
``<script type="application/json">`` blocks that static scripts read. ``blob:`` images are the
request form's photo previews; ``data:`` images are the diagram viewer's icons.
"""
from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
# One year, the value browsers' preload lists ask for; subdomains are not ours to promise.
HSTS = "max-age=31536000"

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # frame-ancestors for browsers that predate it.
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Tracking numbers and case refs are in our URLs: other sites see only our origin.
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def register_security_headers(app: Flask) -> None:
    """Add the headers to every response; HSTS only when cookies are sent over HTTPS only
    (SESSION_COOKIE_SECURE), as a site served over plain HTTP would lock its users out."""
    headers = dict(SECURITY_HEADERS)
    if app.config.get("SESSION_COOKIE_SECURE"):
        headers["Strict-Transport-Security"] = HSTS

    @app.after_request
    def _add_security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
