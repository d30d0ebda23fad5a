"""Files the pages load that do not come from web/static: pyLDAvis's own, from its package."""

import os

from flask import Blueprint, abort, send_from_directory

bp = Blueprint("assets", __name__)

# Only these files of the installed pyLDAvis package are served (no CDN anywhere).
LDAVIS_FILES = {"d3.v5.min.js", "ldavis.v3.0.0.js", "ldavis.v1.0.0.css"}


def ldavis_static_dir():
    import pyLDAvis
    return os.path.join(os.path.dirname(pyLDAvis.__file__), "js")


@bp.get("/favicon.ico")
def favicon():
    return "", 204


@bp.get("/vendor/ldavis/<filename>")
def ldavis_asset(filename):
    if filename not in LDAVIS_FILES:
        abort(404)
    return send_from_directory(ldavis_static_dir(), filename, max_age=86400)
