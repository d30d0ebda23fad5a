"""Uploaded files: stage them in the data directory and check that they read.

The check reads every document once (decoding, CSV columns, JSONL lines, archive
safety) without tokenizing, so a broken file is refused while the uploader waits,
with the file and line that failed, and only files that will ingest reach a job.
A :class:`StagedUpload` is the ingest job's parameters; this module owns its folder.
"""

import os
import re
import shutil
import uuid
from dataclasses import dataclass

from ..errors import EmptyCorpus, InvalidInput, UnsupportedSource
from .pipeline import valid_corpus_name
from .sources import SUPPORTED, SUPPORTED_HELP, ReadOptions, file_suffix, iter_sources

READ_FIELDS = ("text_field", "id_field", "title_field", "label_field", "date_field", "split")
MAX_FILES = 1000
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(filename):
    """The last path part, reduced to harmless characters (the suffix kept)."""
    base = re.split(r"[\\/]", filename or "")[-1].strip().lstrip(".")
    base = _UNSAFE.sub("_", base)[-120:]
    return base or "upload"


def read_options(form):
    """ReadOptions from the upload form's fields (the CLI's names); blank means unset."""
    values = {}
    for key in READ_FIELDS:
        value = form.get(key)
        if value is None or not str(value).strip():
            continue
        value = str(value).strip()
        if len(value) > 200:
            raise InvalidInput(f"{key} is too long")
        values[key] = value
    flag = str(form.get("first_line_title") or "").strip().lower()
    if flag:
        if flag not in ("yes", "no", "true", "false", "on", "off", "1", "0"):
            raise InvalidInput(f"first_line_title is yes or no, not {flag[:50]!r}")
        values["first_line_title"] = flag in ("yes", "true", "on", "1")
    ReadOptions(**values)       # validates split
    return values


@dataclass(frozen=True)
class StagedUpload:
    """Files saved in the data directory, checked, waiting for their ingest job.

    ``files``: paths of the saved files; ``folder``: the upload's own folder (removed with
    :meth:`discard`); ``read``: the :class:`ReadOptions` fields; ``tokenizer``: the
    tokenizer settings of a new corpus, or None for the defaults.
    """

    files: tuple
    folder: str
    read: dict
    tokenizer: dict | None = None

    def to_params(self):
        params = {"files": list(self.files), "upload_dir": self.folder, "read": dict(self.read)}
        if self.tokenizer:
            params["tokenizer"] = self.tokenizer
        return params

    @classmethod
    def from_params(cls, params):
        return cls(tuple(params.get("files", ())), params.get("upload_dir", ""), dict(params.get("read", {})),
                   params.get("tokenizer"))

    def exists(self):
        return all(os.path.exists(f) for f in self.files)

    def discard(self):
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)


def uploads_dir(store):
    return store.path("uploads")


def stage(store, corpus_name, files, options=None):
    """Save ``files`` (pairs of a file name and a binary stream) under the data directory and
    check that they read; returns the :class:`StagedUpload` (queue it as an ingest job)."""
    name = valid_corpus_name(corpus_name)
    options = options or {}
    files = list(files)
    if not files:
        raise InvalidInput("send one or more files in the 'file' field")
    if len(files) > MAX_FILES:
        raise InvalidInput(f"at most {MAX_FILES} files in one upload; put more in a .zip")
    folder = os.path.join(uploads_dir(store), uuid.uuid4().hex)
    os.makedirs(folder)
    try:
        paths = []
        for i, (filename, stream) in enumerate(files):
            safe = safe_filename(filename)
            if file_suffix(safe) not in SUPPORTED:
                raise UnsupportedSource(f"{safe}: unsupported file type; upload {SUPPORTED_HELP}")
            os.makedirs(os.path.join(folder, f"{i:04d}"))
            path = os.path.join(folder, f"{i:04d}", safe)    # the file keeps its own name
            with open(path, "wb") as out:
                shutil.copyfileobj(stream, out, 1024 * 1024)
            if os.path.getsize(path) == 0:
                raise InvalidInput(f"{safe}: the file is empty")
            paths.append(path)
        count_documents(paths, ReadOptions(**options), name)
        return StagedUpload(tuple(paths), folder, dict(options))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def count_documents(paths, options, name):
    """Read every document once and count those with text; raise the library's error for
    the first problem, or EmptyCorpus when none has text."""
    n = 0
    for record in iter_sources(paths, options):
        if record["text"].strip():
            n += 1
    if n == 0:
        raise EmptyCorpus(f"{name}: the upload holds no text")
    return n
