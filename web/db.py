"""The store a request works with, on ``g`` as Flask's tutorial keeps its database handle.

The app opens one :class:`textlatent.store.Store` (its engine pools connections and its
caches serve every request); each request takes it from ``g``, and every view hands it to
one library call.
"""

from flask import current_app, g

KEY = "textlatent.store"


def init_app(app, store):
    """Keep ``store`` (a :class:`Store`) as the one every request of ``app`` works with."""
    app.extensions[KEY] = store


def get_store():
    if "store" not in g:
        g.store = current_app.extensions[KEY]
    return g.store
