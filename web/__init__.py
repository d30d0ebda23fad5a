"""The Flask app: a thin layer of pages and a JSON API over the textlatent library.

``create_app(config=None)`` builds it; every setting comes from the library's settings.
"""

import os

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from textlatent.errors import TextlatentError
from textlatent.settings import load_settings


def create_app(config=None):
    """``config``: a textlatent ``Config``, a dict of setting overrides, or None (environment)."""
    app = Flask(__name__)
    if not hasattr(config, "database_url"):
        config = load_settings(**(config or {}))
    app.config["TEXTLATENT"] = config
    app.config["MAX_CONTENT_LENGTH"] = config.max_upload_mb * 1024 * 1024
    app.config["DEBUG"] = False
    app.config["PROPAGATE_EXCEPTIONS"] = False

    from . import api, pages
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    app.register_blueprint(pages.bp)

    @app.errorhandler(TextlatentError)
    def _library_error(e):
        return _error(e.status, e.code, e.message, e.details)

    @app.errorhandler(HTTPException)
    def _http_error(e):
        return _error(e.code, e.name.lower().replace(" ", "_"), e.description)

    @app.errorhandler(Exception)
    def _unexpected(e):
        app.logger.exception("unexpected error")
        return _error(500, "internal_error", "the server failed to answer this request; see its log")

    @app.after_request
    def _headers(resp):
        resp.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "no-referrer"
        return resp

    return app


def _error(status, code, message, details=None):
    body = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify(body), status
    from flask import render_template
    return render_template("error.html", status=status, message=message), status


def ldavis_static_dir():
    import pyLDAvis
    return os.path.join(os.path.dirname(pyLDAvis.__file__), "js")
