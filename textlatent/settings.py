"""Every setting in one table: name, default, help. Read from ``TEXTLATENT_*`` variables.

The table is the documentation: ``textlatent settings`` prints it and a test checks
that the README names every entry.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InvalidInput


def _default_home():
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return os.path.join(base, "textlatent")


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str
    type: type = str


SETTINGS = [
    Setting("home", None, "Data directory: the SQLite database, model files and the job queue. "
            "Default: $XDG_DATA_HOME/textlatent or ~/.local/share/textlatent."),
    Setting("database_url", None, "SQLAlchemy URL of the database, e.g. postgresql+psycopg://host/db. "
            "Default: sqlite:///<home>/textlatent.db."),
    Setting("queue_url", None, "Job queue: unset for an SQLite queue in <home>/queue.db, "
            "or redis://host:port/db for a Redis queue shared by several workers."),
    Setting("storage_url", None, "Where uploads and model files live: unset for the data directory "
            "(one machine); s3://bucket/prefix for an S3-compatible object store that every serve and "
            "worker host shares (endpoint: ?endpoint_url=http://host:port or AWS_ENDPOINT_URL; "
            "credentials: the AWS_* variables). Each host caches model files in <home>/cache."),
    Setting("workers", 2, "Processes used for tokenization and threads used for training.", int),
    Setting("shard_documents", 10_000, "Documents per shard of an uploaded ingest: each shard is a "
            "tokenize job that any worker may take, so more workers ingest a large upload sooner.", int),
    Setting("max_upload_mb", 200, "Largest upload the web service accepts, in MiB (larger: HTTP 413).", int),
    Setting("job_timeout", 3600, "Wall-clock limit of one background job, in seconds.", int),
    Setting("map_method", "umap", "Maps made after each training, in the same job: umap, pca, tsne, "
            "or none to make none (a map can be made later with textlatent map)."),
    Setting("secret_key", None, "Flask secret key for sessions and CSRF tokens. Default: a random key "
            "kept in <home>/secret_key."),
]


@dataclass
class Config:
    """Resolved settings; build with :func:`load_settings`."""

    home: str
    database_url: str
    queue_url: str | None = None
    storage_url: str | None = None
    workers: int = 2
    shard_documents: int = 10_000
    max_upload_mb: int = 200
    job_timeout: int = 3600
    map_method: str = "umap"
    secret_key: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def models_dir(self):
        return os.path.join(self.home, "models")


def load_settings(**overrides):
    """Settings from ``overrides``, then ``TEXTLATENT_<NAME>`` variables, then defaults."""
    values = {}
    for s in SETTINGS:
        if overrides.get(s.name) is not None:
            raw = overrides[s.name]
        else:
            raw = os.environ.get("TEXTLATENT_" + s.name.upper()) or s.default
        if raw is not None and s.type is int:
            try:
                raw = int(raw)
            except (TypeError, ValueError):
                raise InvalidInput(f"TEXTLATENT_{s.name.upper()} must be a whole number, not {raw!r}") from None
        values[s.name] = raw
    home = os.path.abspath(os.path.expanduser(values["home"] or _default_home()))
    values["home"] = home
    if not values["database_url"]:
        values["database_url"] = "sqlite:///" + os.path.join(home, "textlatent.db")
    return Config(**values)
