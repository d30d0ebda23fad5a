"""Where uploads and model files live: the data directory, or storage every host shares.

Everything a job reads or writes beyond the database goes through one :class:`Files`
object, named by *keys*: relative paths such as ``uploads/<id>/0000/news.jsonl`` or
``models/<id>/lambda.npy``, never one host's absolute path. Two backends:

- :class:`LocalFiles` (``TEXTLATENT_STORAGE_URL`` unset): the keys are paths under the
  data directory, read in place; one machine, or hosts that mount one folder.
- :class:`SharedFiles` (``s3://bucket/prefix``, or any other fsspec URL): an S3-compatible
  object store through s3fs. Readers fetch a model once into their host's cache
  (``<home>/cache/<key>``), check every file against the model's manifest of sha256
  checksums, and memory-map the arrays from there.

A model folder is written whole, then its ``manifest.json`` (sizes and sha256 of every
file), last: a folder without a manifest is not a model yet.
"""

import hashlib
import json
import os
import shutil
import threading
import uuid
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from ..errors import InvalidInput, StorageError

MANIFEST = "manifest.json"


def sha256_file(path, block=1 << 20):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()


def folder_files(folder):
    """The files below ``folder`` as sorted relative paths with ``/`` (stored views keep
    their arrays in subfolders, e.g. ``aggregates/``)."""
    out = []
    for root, _, names in os.walk(folder):
        rel = os.path.relpath(root, folder)
        out += [name if rel == "." else f"{rel.replace(os.sep, '/')}/{name}" for name in names]
    return sorted(out)


def write_manifest(folder):
    """Write ``folder/manifest.json``: ``{"files": {name: {"size", "sha256"}}}`` for every file
    below it (``name`` relative, with ``/``)."""
    files = {}
    for name in folder_files(folder):
        path = os.path.join(folder, *name.split("/"))
        if name != MANIFEST:
            files[name] = {"size": os.path.getsize(path), "sha256": sha256_file(path)}
    with open(os.path.join(folder, MANIFEST), "w", encoding="utf-8") as fh:
        json.dump({"files": files}, fh)
    return files


def check_folder(folder, manifest):
    """The names of files in ``folder`` that are missing or differ from ``manifest``."""
    bad = []
    for name, want in manifest["files"].items():
        path = os.path.join(folder, *name.split("/"))
        if not os.path.isfile(path) or os.path.getsize(path) != want["size"] or sha256_file(path) != want["sha256"]:
            bad.append(name)
    return bad


class Files:
    """The storage interface; see the module's docstring for what a key is."""

    shared = False

    def put_file(self, local_path, key):
        """Store the file at ``local_path`` under ``key`` (it may move: the caller's copy is gone)."""
        raise NotImplementedError

    def put_model(self, workdir, key):
        """Store the finished model folder ``workdir`` (its subfolders too) as ``key``, manifest last."""
        raise NotImplementedError

    def local_file(self, key, scratch):
        """A path on this host holding ``key``'s bytes (copied into ``scratch`` when shared)."""
        raise NotImplementedError

    def model_folder(self, key):
        """A folder on this host with the model ``key``'s files, ready to memory-map."""
        raise NotImplementedError

    def exists(self, key):
        raise NotImplementedError

    def remove(self, key):
        """Remove ``key``, or everything under it (a folder or a prefix); no error if absent."""
        raise NotImplementedError


def _check_key(key):
    parts = key.replace("\\", "/").split("/")
    if not key or key.startswith("/") or ".." in parts or ":" in parts[0]:
        raise InvalidInput(f"not a storage key: {key[:100]!r}")
    return key


class LocalFiles(Files):
    """Keys are paths under the data directory ``home``."""

    def __init__(self, home):
        self.home = home

    def path(self, key):
        return os.path.join(self.home, _check_key(key))

    def put_file(self, local_path, key):
        target = self.path(key)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.move(local_path, target)

    def put_model(self, workdir, key):
        write_manifest(workdir)
        for name in folder_files(workdir):
            with open(os.path.join(workdir, *name.split("/")), "rb") as fh:
                os.fsync(fh.fileno())
        os.rename(workdir, self.path(key))      # a folder appears whole, or not at all

    def local_file(self, key, scratch):
        return self.path(key)

    def model_folder(self, key):
        return self.path(key)

    def exists(self, key):
        return os.path.exists(self.path(key))

    def remove(self, key):
        path = self.path(key)
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.exists(path):
            os.remove(path)


class SharedFiles(Files):
    """Keys under ``url`` in an fsspec file system (S3 through s3fs); a cache in ``home``."""

    shared = True

    def __init__(self, url, home):
        import fsspec
        parts = urlsplit(url)
        options = dict(parse_qsl(parts.query))
        if parts.scheme in ("s3", "s3a"):
            endpoint = options.pop("endpoint_url", None) or os.environ.get("AWS_ENDPOINT_URL")
            if endpoint:
                options["endpoint_url"] = endpoint
            options.setdefault("use_listings_cache", False)   # another host's writes show at once
            # A store that does not answer fails a request in seconds rather than half a minute.
            options.setdefault("config_kwargs", {"retries": {"max_attempts": 2}, "connect_timeout": 5})
        elif parts.scheme == "file":
            options.setdefault("auto_mkdir", True)
        self.root = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
        try:
            self.fs, self.base = fsspec.core.url_to_fs(self.root, **options)
        except (ImportError, ValueError) as e:
            raise InvalidInput(f"TEXTLATENT_STORAGE_URL {self.root!r} cannot be opened: {e} "
                               "(s3:// needs the s3 extra: pip install 'textlatent[s3]')") from e
        self.cache = os.path.join(home, "cache")
        self._checked = set()
        self._lock = threading.Lock()

    def remote(self, key):
        return f"{self.base}/{_check_key(key)}" if self.base else _check_key(key)

    def _call(self, what, fn, *args):
        try:
            return fn(*args)
        except FileNotFoundError:
            raise
        except Exception as e:       # OSError, and botocore's own (an endpoint that does not answer)
            raise StorageError(f"the shared storage {self.root} could not {what}: {str(e)[:300]}") from e

    def put_file(self, local_path, key):
        self._call("store a file", self.fs.put_file, local_path, self.remote(key))
        os.remove(local_path)

    def put_model(self, workdir, key):
        write_manifest(workdir)
        names = [n for n in folder_files(workdir) if n != MANIFEST] + [MANIFEST]
        try:
            for name in names:
                self._call("store a model file", self.fs.put_file, os.path.join(workdir, *name.split("/")),
                           self.remote(f"{key}/{name}"))
        except BaseException:
            self.remove(key)
            raise
        # This host has the files already: they become its cache.
        target = os.path.join(self.cache, key)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.move(workdir, target)
        with self._lock:
            self._checked.add(key)

    def local_file(self, key, scratch):
        target = os.path.join(scratch, *key.split("/")[-2:])
        os.makedirs(os.path.dirname(target), exist_ok=True)
        self._call("read a file", self.fs.get_file, self.remote(key), target)
        return target

    def model_folder(self, key):
        """Fetch on first use; check every file's sha256 once per process."""
        folder = os.path.join(self.cache, _check_key(key))
        with self._lock:
            if key in self._checked:
                return folder
            manifest = self._manifest(key)
            if not os.path.isdir(folder) or check_folder(folder, manifest):
                self._fetch(key, folder, manifest)
            self._checked.add(key)
        return folder

    def _manifest(self, key):
        try:
            data = self._call("read a model's manifest", self.fs.cat_file, self.remote(f"{key}/{MANIFEST}"))
        except FileNotFoundError:
            raise StorageError(f"model files {key} are not in the shared storage {self.root}") from None
        try:
            return json.loads(data)
        except ValueError as e:
            raise StorageError(f"model files {key}: a damaged manifest ({e})") from e

    def _fetch(self, key, folder, manifest):
        tmp = f"{folder}.tmp-{uuid.uuid4().hex}"
        os.makedirs(tmp)
        try:
            for name in manifest["files"]:
                target = os.path.join(tmp, *name.split("/"))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                self._call("read a model file", self.fs.get_file, self.remote(f"{key}/{name}"), target)
            bad = check_folder(tmp, manifest)
            if bad:
                raise StorageError(f"model files {key}: {', '.join(bad)} fail their checksum")
            with open(os.path.join(tmp, MANIFEST), "w", encoding="utf-8") as fh:
                json.dump(manifest, fh)
            if os.path.isdir(folder):
                shutil.rmtree(folder)         # a damaged copy; this process holds the lock
            os.rename(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def exists(self, key):
        return self._call("look for a file", self.fs.exists, self.remote(key))

    def remove(self, key):
        try:
            self._call("remove files", self.fs.rm, self.remote(key), True)
        except FileNotFoundError:
            pass
        shutil.rmtree(os.path.join(self.cache, key), ignore_errors=True)
        with self._lock:
            self._checked.discard(key)


def open_files(config):
    """The :class:`Files` of ``config``: shared when ``storage_url`` is set, else the data directory."""
    url = (config.storage_url or "").strip()
    if not url:
        return LocalFiles(config.home)
    if "://" not in url:
        raise InvalidInput(f"TEXTLATENT_STORAGE_URL must be a URL such as s3://bucket/prefix, not {url[:100]!r}")
    return SharedFiles(url, config.home)
