"""Uploaded files: stage them in the data directory, check them, queue their ingest.

The check reads every document once (decoding, CSV columns, JSONL lines, archive
safety) without tokenizing, so a broken file is refused while the uploader waits,
with the file and line that failed, and only files that will ingest reach a job.
"""

import os
import re
import shutil
import uuid

from . import jobs
from .errors import EmptyCorpus, InvalidInput, UnsupportedSource
from .ingest import check_name
from .sources import SUPPORTED, SUPPORTED_HELP, ReadOptions, _suffix, iter_sources

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
    ReadOptions(**values)       # validates split
    return values


def stage(config, corpus_name, files, options=None, queue=None):
    """Save ``files`` (pairs of a file name and a binary stream), check that they read,
    and queue their ingest into ``corpus_name``; returns the job."""
    name = check_name(corpus_name)
    options = options or {}
    files = list(files)
    if not files:
        raise InvalidInput("send one or more files in the 'file' field")
    if len(files) > MAX_FILES:
        raise InvalidInput(f"at most {MAX_FILES} files in one upload; put more in a .zip")
    folder = os.path.join(jobs.uploads_dir(config), uuid.uuid4().hex)
    os.makedirs(folder)
    try:
        paths = []
        for i, (filename, stream) in enumerate(files):
            safe = safe_filename(filename)
            if _suffix(safe) not in SUPPORTED:
                raise UnsupportedSource(f"{safe}: unsupported file type; upload {SUPPORTED_HELP}")
            os.makedirs(os.path.join(folder, f"{i:04d}"))
            path = os.path.join(folder, f"{i:04d}", safe)    # the file keeps its own name
            with open(path, "wb") as out:
                shutil.copyfileobj(stream, out, 1024 * 1024)
            if os.path.getsize(path) == 0:
                raise InvalidInput(f"{safe}: the file is empty")
            paths.append(path)
        check(paths, ReadOptions(**options), name)
        return jobs.submit_ingest(config, name, paths, folder, options, queue=queue)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def check(paths, options, name):
    """Read every document once; raise the library's error for the first problem."""
    n = 0
    for record in iter_sources(paths, options):
        if record["text"].strip():
            n += 1
    if n == 0:
        raise EmptyCorpus(f"{name}: the upload holds no text")
    return n
