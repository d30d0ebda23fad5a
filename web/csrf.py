"""Cross-site request forgery protection for every state-changing request.

Two checks, both needed by a browser request that changes anything:
- the browser's own word on where the request comes from (``Sec-Fetch-Site``, or
  ``Origin`` against the Host) must be this site;
- a token tied to the session, sent by the page's script as ``X-CSRF-Token`` (or by
  a plain form as ``csrf_token``).
A request with none of the browser's marks (no ``Origin``, ``Sec-Fetch-Site`` or
cookie), such as ``curl`` on the same machine, carries no ambient credentials that a
forger could borrow, so it passes without a token.
"""

import hmac
import secrets
from urllib.parse import urlsplit

from flask import abort, request, session

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
HEADER = "X-CSRF-Token"
FIELD = "csrf_token"


def token():
    """The session's token (made on first use); pages put it in a meta tag."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _from_browser():
    return bool(request.headers.get("Origin") or request.headers.get("Sec-Fetch-Site")
                or request.headers.get("Cookie"))


def _same_site():
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin is not None:
        if origin == "null":
            return False
        parts = urlsplit(origin)
        return parts.netloc == request.host and parts.scheme == request.scheme
    return True


def check():
    if request.method in SAFE_METHODS or not _from_browser() or request.routing_exception is not None:
        return          # no view runs for a 404 or 405, so nothing can change: let it answer
    if not _same_site():
        abort(403, description="cross-site request refused")
    sent = request.headers.get(HEADER) or request.form.get(FIELD) or ""
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(403, description="missing or wrong CSRF token: reload the page and try again")


def init_app(app):
    app.before_request(check)
    app.jinja_env.globals["csrf_token"] = token
