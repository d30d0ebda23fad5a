"""The Flask app: a thin layer of pages and a JSON API over the textlatent library.

``create_app(config=None)`` builds it; every setting comes from the library's settings.
One blueprint per area (corpora, models, jobs, words, maps, documents, the OpenAPI document,
assets);
each view reads its input, calls one library function with the request's store (see
:mod:`.db`), and answers HTML or JSON (under ``/api/v1``) from what it returns.
"""

import os

from flask import Flask, abort, jsonify, request
from werkzeug.exceptions import HTTPException

from textlatent.errors import TextlatentError
from textlatent.settings import Config, load_settings
from textlatent.store import Store


def create_app(config=None, trusted_hosts=None):
    """``config``: a textlatent ``Config`` or ``Store``, a dict of setting overrides, or None (environment).
    ``trusted_hosts``: the Host names to answer (``textlatent serve`` on loopback passes
    the loopback names, which stops DNS-rebinding pages from reaching the API)."""
    app = Flask(__name__)
    # A Store passed in is the one the app works with (its engine, its caches): a caller
    # that reads or writes through it sees what the app sees.
    store = config if isinstance(config, Store) else None
    if store is not None:
        config = store.config
    elif not isinstance(config, Config):
        config = load_settings(**(config or {}))
    app.config["TEXTLATENT"] = config
    app.config["MAX_CONTENT_LENGTH"] = config.max_upload_mb * 1024 * 1024
    app.config["MAX_FORM_MEMORY_SIZE"] = 1024 * 1024
    app.config["DEBUG"] = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.config["SECRET_KEY"] = config.secret_key or _secret_key(config.home)
    app.config["SESSION_COOKIE_SAMESITE"] = "Strict"
    if trusted_hosts:
        # Checked here rather than by Flask's TRUSTED_HOSTS: that one cannot match "[::1]", and
        # its error, raised again while the error page is drawn, became a bare 500.
        app.before_request(lambda: _check_host(trusted_hosts))

    from . import assets, corpora, csrf, db, documents, jobs, maps, models, openapi, ui, words
    db.init_app(app, store or Store(config))
    csrf.init_app(app)
    ui.init_app(app)
    for area in (corpora, models, jobs, words, maps, documents, openapi, assets):
        app.register_blueprint(area.bp)

    @app.errorhandler(TextlatentError)
    def _library_error(e):
        return _error(e.status, e.code, e.message, e.details)

    @app.errorhandler(HTTPException)
    def _http_error(e):
        message = e.description
        if e.code == 413:     # werkzeug's words ("the data value transmitted exceeds ...") say less
            message = (f"the upload is larger than the limit of {config.max_upload_mb} MB (the max_upload_mb "
                       "setting); split it, or ingest it with the textlatent ingest command")
        resp = _error(e.code, e.name.lower().replace(" ", "_"), message)
        for name, value in e.get_headers():          # Allow on a 405, Retry-After...
            if name.lower() != "content-type":
                resp.headers[name] = value
        return resp

    @app.errorhandler(Exception)
    def _unexpected(e):
        app.logger.exception("unexpected error")
        return _error(500, "internal_error", "the server failed to answer this request; see its log")

    @app.after_request
    def _headers(resp):
        # Scripts only from this app. pyLDAvis (d3) sets style attributes on SVG
        # elements, which a strict style-src would block; inline styles run no code.
        resp.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "no-referrer"
        # Pages and answers show live state (jobs, labels): never kept, unless a view said otherwise
        # (pyLDAvis's stored data, the vendored scripts).
        resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    return app


def host_name(header):
    """The name of a ``Host`` header (``[::1]`` for ``[::1]:5000``), lower-case, or None
    when the header is malformed."""
    header = (header or "").strip().lower()
    if header.startswith("["):
        name, _, rest = header.partition("]")
        name += "]"
    else:
        name, _, rest = header.partition(":")
        rest = ":" + rest if rest else ""
    if rest and not (rest.startswith(":") and rest[1:].isdigit() and 0 < int(rest[1:]) < 65536):
        return None
    return name or None


def _check_host(trusted):
    if host_name(request.headers.get("Host")) not in trusted:
        abort(400, description="this server answers only to the names " + ", ".join(trusted)
              + " (a page on another name reached it: DNS rebinding?)")


def _error(status, code, message, details=None):
    body = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    from flask import make_response, render_template
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return make_response(jsonify(body), status)
    return make_response(render_template("error.html", status=status, message=message), status)


def _secret_key(home):
    """A random key made once and kept in the data directory (readable by its owner only)."""
    import secrets
    path = os.path.join(home, "secret_key")
    try:
        with open(path) as fh:
            key = fh.read().strip()
            if key:
                return key
    except FileNotFoundError:
        pass
    os.makedirs(home, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    os.replace(path + ".tmp", path)
    return key
