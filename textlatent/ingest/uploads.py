"""Uploaded files: stage them in the store's files and check that they read.

The check reads every document once (decoding, CSV columns, JSONL lines, archive
safety) without tokenizing, so a broken file is refused while the uploader waits,
with the file and line that failed, and only files that will ingest reach a job.
A :class:`StagedUpload` is the ingest job's parameters: storage keys
(``uploads/<id>/0000/news.jsonl``), which any worker host can read (see
:mod:`textlatent.store.files`); this module owns their folder.
"""

import codecs

import contextlib
import os
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass

from ..errors import EmptyCorpus, IngestError, InvalidInput, UnsupportedSource
from ..store import queries as db
from .pipeline import valid_corpus_name
from .sources import (SUPPORTED, SUPPORTED_HELP, TEXT_SUFFIXES, ReadOptions, clean_text, file_suffix,
                      iter_sources, looks_binary, open_file, read_chunks)

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
    """Files saved in the store, checked, waiting for their ingest job.

    ``files``: storage keys of the saved files; ``folder``: the upload's own key prefix
    (removed with :meth:`discard`); ``read``: the :class:`ReadOptions` fields;
    ``tokenizer``: the tokenizer settings of a new corpus, or None for the defaults;
    ``documents``: how many documents with text the files hold (counted when staged). (Jobs
    queued before storage keys named absolute paths; those still work on their host.)
    """

    files: tuple
    folder: str
    read: dict
    tokenizer: dict | None = None
    documents: int | None = None

    def to_params(self):
        params = {"files": list(self.files), "upload_dir": self.folder, "read": dict(self.read),
                  "documents": self.documents}
        if self.tokenizer:
            params["tokenizer"] = self.tokenizer
        return params

    @classmethod
    def from_params(cls, params):
        return cls(tuple(params.get("files", ())), params.get("upload_dir", ""), dict(params.get("read", {})),
                   params.get("tokenizer"), params.get("documents"))

    def exists(self, store):
        return all(os.path.exists(f) if os.path.isabs(f) else store.files.exists(f) for f in self.files)

    def discard(self, store):
        if os.path.isabs(self.folder):
            shutil.rmtree(self.folder, ignore_errors=True)
        elif self.folder:
            store.files.remove(self.folder)

    @contextlib.contextmanager
    def local_paths(self, store):
        """Paths on this host holding the files (copies in a temporary folder, removed at
        the end, when the files are in shared storage)."""
        os.makedirs(store.path("tmp"), exist_ok=True)
        scratch = tempfile.mkdtemp(prefix="upload-", dir=store.path("tmp"))
        try:
            yield [f if os.path.isabs(f) else store.files.local_file(f, scratch) for f in self.files]
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def uploads_dir(store):
    return store.path("uploads")


def clean_orphans(store, min_age=60):
    """Remove upload folders that no job names, older than ``min_age`` seconds (a server
    killed while staging an upload leaves one; a younger one may be staging right now).
    Returns how many were removed."""
    import time
    root = uploads_dir(store)
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return 0
    with store.read() as conn:
        # Jobs name storage keys ("uploads/<id>", under the data directory here) or, queued
        # before keys, absolute paths.
        named = {os.path.abspath(p if os.path.isabs(p) else store.path(p)) for p in db.upload_dirs(conn)}
    removed = 0
    for name in names:
        folder = os.path.abspath(os.path.join(root, name))
        try:
            old = time.time() - os.stat(folder).st_mtime > min_age
        except FileNotFoundError:
            continue
        if old and folder not in named:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


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
    upload_id = uuid.uuid4().hex
    folder = os.path.join(uploads_dir(store), upload_id)
    os.makedirs(folder)
    try:
        paths, keys = [], []
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
            keys.append(f"uploads/{upload_id}/{i:04d}/{safe}")
        n = count_documents(paths, ReadOptions(**options), name)
        if store.files.shared:
            for path, key in zip(paths, keys):
                store.files.put_file(path, key)
            shutil.rmtree(folder, ignore_errors=True)
        return StagedUpload(tuple(keys), f"uploads/{upload_id}", dict(options), documents=n)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        if store.files.shared:
            store.files.remove(f"uploads/{upload_id}")
        raise


def count_documents(paths, options, name):
    """Read every document once and count those with text (a .txt or .md file counts as
    one, read a MiB at a time); raise the library's error for the first problem, or
    EmptyCorpus when none has text."""
    n = 0
    for path in paths:
        if file_suffix(path) in TEXT_SUFFIXES:
            n += _text_file_has_text(path)
            continue
        for record in iter_sources([path], options):
            if record["text"].strip():
                n += 1
    if n == 0:
        raise EmptyCorpus(f"{name}: the upload holds no text")
    return n


def _text_file_has_text(path):
    """Whether a .txt or .md file (or its .gz) holds text, checked as :func:`decode_bytes`
    would read it (binary data and damaged UTF-16 refused) but keeping a MiB at a time:
    a 190 MB upload read whole took the web process from 159 MB to 937 MB."""
    name = os.path.basename(path)
    first, decoder, found = None, None, False
    with open_file(path) as fh:
        for chunk in read_chunks(fh, name):
            if first is None:
                first = chunk
                utf16 = chunk.startswith((b"\xff\xfe", b"\xfe\xff"))
                decoder = codecs.getincrementaldecoder("utf-16" if utf16 else "utf-8")(
                    "replace" if chunk.startswith(b"\xef\xbb\xbf") else "strict")
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as e:
                if utf16:
                    raise IngestError(f"{name}: UTF-16 text is damaged") from e
                if looks_binary(first):
                    raise IngestError(f"{name}: this is binary data, not text") from e
                decoder = codecs.getincrementaldecoder("latin-1")()   # ingest reads it in a guessed encoding
                text = decoder.decode(chunk)
            found = found or bool(clean_text(text).strip())
    return found
