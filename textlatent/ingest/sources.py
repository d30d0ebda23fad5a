"""Files -> document records: folders, zips, text, CSV/TSV, JSONL, any of them gzipped.

Each reader yields plain dicts (``doc_key, source, title, label, date, meta, text``) and
never holds a whole corpus in memory. Problems raise :class:`IngestError` naming the
file and line; recoverable oddities (an unusual encoding) go to ``report``.
"""

import csv
import gzip
import io
import json
import os
import re
import sys
import unicodedata
import zipfile
from dataclasses import dataclass, field

from ..errors import IngestError, InvalidInput, UnsupportedSource
from .texts import split_paragraphs, text_documents

TEXT_SUFFIXES = (".txt", ".md")
TABLE_SUFFIXES = (".csv", ".tsv")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
ARCHIVE_SUFFIXES = (".zip",)
SUPPORTED = TEXT_SUFFIXES + TABLE_SUFFIXES + JSONL_SUFFIXES + ARCHIVE_SUFFIXES
SUPPORTED_HELP = ("a folder, .zip, .txt, .md, .csv, .tsv, .jsonl or .ndjson "
                  "(each may also be gzip-compressed, .gz)")

MAX_ZIP_ENTRIES = 100_000
MAX_UNCOMPRESSED = 4 * 1024**3      # a zip or gzip that inflates past this is refused
# Real text deflates 3-10 times; bombs 1,000 times. Past this ratio (and past a floor that
# small files never reach) inflating stops at once, with the memory read so far.
MAX_RATIO, RATIO_FLOOR = 100, 64 * 1024**2
MAX_FIELD = 50 * 1024**2
MAX_LINE = MAX_FIELD                # one JSONL line
MAX_TEXT_FILE = 512 * 1024**2       # one .txt/.md/.csv read whole

# Files at the top of a folder or zip that describe the corpus rather than belong to it.
_NOT_A_DOCUMENT = re.compile(r"^(readme|licen[cs]e|copying|copyright|notice|authors|contributors|"
                             r"changelog|changes|citation)([._ -].*)?$", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


@dataclass
class ReadOptions:
    text_field: str = "text"
    id_field: str | None = None
    title_field: str | None = None
    label_field: str | None = None
    date_field: str | None = None
    split: str | None = None          # None or "paragraphs"
    # A text file's title from its first line when that looks like a headline; None: yes
    # for the files of a folder or zip (BBC, Reuters and many press corpora put it there).
    first_line_title: bool | None = None
    report: list = field(default_factory=list)
    skipped: list = field(default_factory=list)     # files not read as documents (README, LICENSE)

    def __post_init__(self):
        if self.split not in (None, "none", "paragraphs"):
            raise InvalidInput(f"split must be 'paragraphs' or 'none', not {self.split!r}")
        if self.split == "none":
            self.split = None


def clean_text(text):
    """Drop NUL and other control characters and lone surrogates; unify newlines; NFC."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    return unicodedata.normalize("NFC", text)


def decode_bytes(data, name, report):
    """Bytes -> str. UTF-8 (BOM stripped) or UTF-16 with BOM; otherwise a detected
    encoding, reported; binary data is refused."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise IngestError(f"{name}: UTF-16 text is damaged at byte {e.start}") from e
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        first_bad = e.start
    if looks_binary(data):
        raise IngestError(f"{name}: this is binary data, not text (byte {first_bad} is not UTF-8)")
    encoding = _guess_encoding(data[:1_000_000])
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        encoding, text = "latin-1", data.decode("latin-1")
    report.append(f"{name}: not UTF-8 (first bad byte at offset {first_bad}); read as {encoding}")
    return text


_WESTERN = ("cp1252", "latin_1", "iso8859_15")


def _guess_encoding(sample):
    """charset-normalizer's guess; among equally plausible guesses the Western encodings
    first, since single-byte encodings often tie and Windows-1252 text is the most common."""
    from charset_normalizer import from_bytes
    matches = list(from_bytes(sample))
    if not matches:
        return "latin-1"
    least = min(m.chaos for m in matches)
    tied = [m.encoding for m in matches if m.chaos <= least + 1e-9]
    for enc in _WESTERN:
        if enc in tied:
            return enc
    return tied[0]


def looks_binary(data):
    sample = data[:8192]
    if not sample:
        return False
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls / len(sample) > 0.1


def iter_sources(paths, options):
    """Yield document records from every path, in a stable order."""
    for path in paths:
        if not os.path.exists(path):
            raise IngestError(f"{path}: no such file or folder")
        if os.path.isdir(path):
            yield from _iter_folder(path, options)
        else:
            name = os.path.basename(path)
            yield from _iter_file(name, path, lambda p=path: open(p, "rb"), options, label=None)


def _iter_folder(root, options):
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for f in sorted(filenames):
            if f.startswith("."):
                continue
            full = os.path.join(dirpath, f)
            rel = os.path.relpath(full, root)
            if file_suffix(f) in TEXT_SUFFIXES:
                entries.append((rel, full))
    if not entries:
        raise IngestError(f"{root}: no .txt or .md files in this folder")
    keep = _top_level(os.path.basename(os.path.normpath(root)), [rel.split(os.sep) for rel, _ in entries],
                      options)
    for (rel, full), label in zip(entries, keep):
        if label is not False:
            yield from _iter_file(rel.replace(os.sep, "/"), full, lambda p=full: open(p, "rb"), options, label,
                                  collection=True)


def _top_level(source, rels, options):
    """The label of each file (path parts below the corpus root): its first folder, None for
    a file at the top, False for a README/licence-like file at the top (skipped, and named
    in ``options.skipped``). Files at the top beside class folders are named in
    ``options.report``: they have no class."""
    report = options.report
    out = [parts[0] if len(parts) > 1 else (False if _NOT_A_DOCUMENT.match(parts[0]) else None)
           for parts in rels]
    skipped = [parts[0] for parts, label in zip(rels, out) if label is False]
    loose = [parts[0] for parts, label in zip(rels, out) if label is None]
    if skipped and len(skipped) == len(rels):
        raise IngestError(f"{source}: holds only {', '.join(skipped)}, which describe a corpus "
                          "rather than belong to it; give the documents themselves")
    options.skipped += [f"{source}/{name}" for name in skipped]
    if skipped:
        report.append(f"{source}: skipped {_names(skipped)} at the top level (README and licence "
                      "files describe the corpus; they are not documents)")
    if loose and len(loose) < len(rels):
        report.append(f"{source}: {len(loose)} file{'s' if len(loose) > 1 else ''} at the top level, "
                      f"beside the class folders, kept without a label: {_names(loose)}")
    return out


def _names(names, shown=10):
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def file_suffix(name):
    lower = name.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    return os.path.splitext(lower)[1]


def _iter_file(name, path, opener, options, label, collection=False):
    suffix = file_suffix(name)
    gz = name.lower().endswith(".gz")
    if suffix not in SUPPORTED:
        raise UnsupportedSource(f"{name}: unsupported file type {suffix or '(none)'}; use {SUPPORTED_HELP}")
    if suffix in ARCHIVE_SUFFIXES:
        if gz:
            raise UnsupportedSource(f"{name}: a gzipped zip is not supported; use the .zip itself")
        yield from _iter_zip(name, path, options)
        return

    def open_binary():
        raw = opener()
        if not gz:
            return raw
        return _LimitedReader(gzip.GzipFile(fileobj=raw), name, compressed=_size(raw))

    if suffix in TEXT_SUFFIXES:
        with open_binary() as fh:
            data = _read_all(fh, name)
        first_line = options.first_line_title if options.first_line_title is not None else collection
        text = clean_text(decode_bytes(data, name, options.report))
        yield from text_documents(name, text, options.split, label, first_line=first_line)
    elif suffix in TABLE_SUFFIXES:
        yield from _iter_table(name, open_binary, options, "\t" if suffix == ".tsv" else ",")
    else:
        yield from _iter_jsonl(name, open_binary, options)


def _size(fh):
    try:
        return os.fstat(fh.fileno()).st_size
    except (OSError, AttributeError, io.UnsupportedOperation):
        return None


def read_chunks(fh, name, limit=MAX_TEXT_FILE):
    """The stream a MiB at a time, refused past ``limit`` (a bomb stops at its limit, not after)."""
    n = 0
    try:
        while chunk := fh.read(1024 * 1024):
            n += len(chunk)
            if n > limit:
                raise IngestError(f"{name}: larger than {limit // 1024**2} MiB; split it into several "
                                  "files or use JSONL (one document a line)")
            yield chunk
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise IngestError(f"{name}: cannot read: {e}") from e


def _read_all(fh, name, limit=MAX_TEXT_FILE):
    return b"".join(read_chunks(fh, name, limit))


def open_file(path):
    """A file's bytes, inflated when it is gzipped (a bomb is refused as it inflates)."""
    raw = open(path, "rb")
    if not path.lower().endswith(".gz"):
        return raw
    return _LimitedReader(gzip.GzipFile(fileobj=raw), os.path.basename(path), compressed=_size(raw))


class _LimitedReader(io.RawIOBase):
    """A stream that refuses to inflate past MAX_UNCOMPRESSED (bombs), counting as it reads."""

    def __init__(self, inner, name, limit=MAX_UNCOMPRESSED, compressed=None):
        if compressed is not None:
            limit = min(limit, max(RATIO_FLOOR, MAX_RATIO * compressed))
        self.inner, self.name, self.limit, self.count = inner, name, limit, 0

    def readable(self):
        return True

    def readinto(self, b):
        try:
            n = self.inner.readinto(b)
        except (OSError, EOFError, zipfile.BadZipFile) as e:
            raise IngestError(f"{self.name}: damaged compressed data: {e}") from e
        self.count += n or 0
        if self.count > self.limit:
            raise IngestError(f"{self.name}: inflates past {self.limit // 1024**2} MiB "
                              "(a compression bomb?); refused")
        return n

    def close(self):
        self.inner.close()
        super().close()


def _iter_zip(name, path, options):
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise IngestError(f"{name}: not a readable zip archive: {e}") from e
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_ZIP_ENTRIES:
            raise IngestError(f"{name}: {len(infos)} entries; at most {MAX_ZIP_ENTRIES} are accepted")
        names = []
        for info in infos:
            member = info.filename
            parts = member.replace("\\", "/").split("/")
            if member.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
                raise IngestError(f"{name}: entry {member!r} points outside the archive; refused")
            if parts[-1].startswith(".") or "__MACOSX" in parts:
                continue
            suffix = file_suffix(parts[-1])
            if suffix in ARCHIVE_SUFFIXES:
                raise UnsupportedSource(f"{name}: nested archive {member!r}; unpack it first")
            if suffix not in SUPPORTED:
                continue
            names.append((info, parts))
        if not names:
            raise IngestError(f"{name}: no supported files inside; use {SUPPORTED_HELP}")
        # A zip of one folder (the usual "compress folder") is read as that folder: its
        # subfolders are the labels, files beside them (a README) are at the top level.
        first = names[0][1][0]
        common = all(len(p) > 1 and p[0] == first for _, p in names)
        rels = [parts[1:] if common else parts for _, parts in names]
        labels = _top_level(name, rels, options)
        total = 0
        for (info, parts), rel, label in zip(names, rels, labels):
            if label is False:
                continue
            entry = f"{name}/{info.filename}"

            def opener(info=info, entry=entry):
                # The header's sizes may lie: the compressed size is capped by the archive's own.
                return _LimitedReader(zf.open(info), entry, MAX_UNCOMPRESSED - total,
                                      compressed=min(info.compress_size, os.path.getsize(path)))

            for rec in _iter_file("/".join(rel), None, opener, options, label, collection=True):
                rec["source"] = entry
                total += len(rec["text"])
                yield rec


def _field(row, name, where):
    if name is None:
        return None
    if name not in row:
        raise IngestError(f"{where}: no field {name!r}; fields present: {', '.join(map(str, row))}")
    value = row[name]
    return None if value is None else _string(value)


def _string(value):
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float) and value != value:
        return None
    return str(value)


def _record(row, options, where, name, default_key):
    text_value = row.get(options.text_field)
    if options.text_field not in row:
        raise IngestError(f"{where}: no text field {options.text_field!r}; fields present: "
                          f"{', '.join(map(str, row))}. Say which field holds the text (text_field).",
                          field="text_field")
    if text_value is None:
        text_value = ""
    if not isinstance(text_value, str):
        raise IngestError(f"{where}: field {options.text_field!r} is {type(text_value).__name__}, not text")
    key = _field(row, options.id_field, where) if options.id_field else None
    if key is None and "id" in row and options.id_field is None and row["id"] is not None:
        key = _string(row["id"])
    used = {options.text_field, options.id_field, options.title_field, options.label_field,
            options.date_field}
    if options.id_field is None:
        used.add("id")
    meta = {k: _clean_meta(v) for k, v in row.items() if k not in used}
    rec = {
        "doc_key": (key or default_key)[:500], "source": name,
        "title": _field(row, options.title_field, where),
        "label": (_field(row, options.label_field, where) or None),
        "date": _field(row, options.date_field, where),
        "meta": meta or None, "line": where,
    }
    if rec["label"]:
        rec["label"] = rec["label"][:500]
    text = clean_text(text_value)
    if options.split == "paragraphs":
        for i, para in enumerate(split_paragraphs(text)):
            yield rec | {"doc_key": f"{rec['doc_key']}#p{i + 1}", "text": para}
    else:
        yield rec | {"text": text}


def _clean_meta(value, depth=0):
    if depth > 20:
        raise IngestError("metadata nested deeper than 20 levels")
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {str(k): _clean_meta(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_meta(v, depth + 1) for v in value]
    return value


def _iter_table(name, open_binary, options, delimiter):
    csv.field_size_limit(min(sys.maxsize, MAX_FIELD))
    with open_binary() as fh:
        data = _read_all(fh, name)
    text = decode_bytes(data, name, options.report)
    del data
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = reader.fieldnames
    except csv.Error as e:
        raise IngestError(f"{name}: not a readable table: {e}") from e
    if not header:
        raise IngestError(f"{name}: the file is empty")
    if options.text_field not in header:
        raise IngestError(f"{name}: no column {options.text_field!r}; columns: {', '.join(header)}. "
                          "Say which column holds the text (text_field).", field="text_field")
    for key in ("id_field", "title_field", "label_field", "date_field"):
        col = getattr(options, key)
        if col and col not in header:
            raise IngestError(f"{name}: no column {col!r}; columns: {', '.join(header)}", field=key)
    n = 1
    try:
        for n, row in enumerate(reader, start=2):
            row.pop(None, None)   # cells past the header
            yield from _record(row, options, f"{name} line {n}", name, f"{name}:{n}")
    except csv.Error as e:
        raise IngestError(f"{name} line {n + 1}: {e}") from e


def _iter_jsonl(name, open_binary, options):
    with open_binary() as fh:
        stream = io.BufferedReader(fh) if not isinstance(fh, io.BufferedIOBase) else fh
        for n, raw in enumerate(iter(lambda: stream.readline(MAX_LINE + 1), b""), start=1):
            if len(raw) > MAX_LINE:
                raise IngestError(f"{name} line {n}: longer than {MAX_LINE // 1024**2} MiB; refused")
            if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue
            where = f"{name} line {n}"
            try:
                row = json.loads(raw)
            except UnicodeDecodeError as e:
                raise IngestError(f"{where}: not UTF-8 (byte {e.start} of the line)") from e
            except RecursionError:
                raise IngestError(f"{where}: JSON nested too deeply") from None
            except ValueError as e:
                raise IngestError(f"{where}: not valid JSON: {e}") from e
            if not isinstance(row, dict):
                raise IngestError(f"{where}: expected a JSON object, got {type(row).__name__}")
            yield from _record(row, options, where, name, f"{name}:{n}")
