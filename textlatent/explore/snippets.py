"""Short passages of a document's text for lists of documents: its start, or the
neighbourhood of a searched word with the matches marked by offsets (never by markup,
so that a page inserts them as text)."""

import re

LENGTH = 200


def lead(text, title=None, length=LENGTH):
    """The start of ``text`` on one line, without a first line that repeats the title."""
    head, _, rest = text.lstrip().partition("\n")
    if title and head.strip() == title.strip() and rest.strip():
        text = rest
    flat = " ".join(text[:length * 4].split())
    return flat if len(flat) <= length else flat[:length].rsplit(" ", 1)[0] + " …"


def around(text, words, length=LENGTH):
    """``(snippet, highlights)``: about ``length`` characters of ``text`` around the first
    occurrence of any of ``words`` (whole words, any case), on one line, and the
    ``[start, end]`` character ranges of every occurrence inside it. Without an
    occurrence, the start of the text and no highlights."""
    if not words:
        return lead(text, length=length), []
    pattern = re.compile(r"(?<![^\W_])(?:" + "|".join(re.escape(w) for w in words) + r")(?![^\W_])",
                         re.IGNORECASE)
    m = pattern.search(text)
    if m is None:
        return lead(text, length=length), []
    start = max(0, m.start() - length // 3)
    piece = text[start:start + length * 2]
    prefix = "… " if start > 0 else ""
    flat = prefix + " ".join(piece.split())
    if len(flat) > length:
        flat = flat[:length].rsplit(" ", 1)[0] + " …"
    return flat, [[h.start(), h.end()] for h in pattern.finditer(flat)]
