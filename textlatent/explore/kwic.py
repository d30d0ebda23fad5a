"""Words in context: every occurrence of a corpus term in the original texts, with the
text around it.

A term is what the corpus's tokenizer makes of a word: the lemma, or a phrase (``new_york``
for "New York"), so the occurrences of "taxes" and "Tax" are those of ``tax`` (see
:mod:`.spans`). Documents holding the term are found in their stored token streams, in
corpus order from the first document holding it, a batch at a time, and only until the
page is full or every document holding it is found; the total is the term's stored count.
"""

import re

import numpy as np

from ..errors import InvalidInput, WordNotFound
from ..params import Param, validate
from ..store import queries as db
from ..store import search as fts
from .inference import corpus_terms
from .spans import occurrences

PAGE = [Param("limit", "int", 20, 1, 500, help="lines per page"),
        Param("offset", "int", 0, 0, 10**9, help="lines to skip")]
WIDTH = 60          # characters of context on each side
BATCH = (256, 8192)     # token streams read at a time: the first batch, the largest
MAX_WORD = 200
_SPACE = re.compile(r"\s+")


def resolve_term(store, conn, corpus, word):
    """The corpus term a query word or phrase stands for, and its row ``{id, df, cf}``."""
    if not isinstance(word, str) or not word.strip():
        raise InvalidInput("give a word")
    if len(word) > MAX_WORD:
        raise InvalidInput(f"a word or phrase is at most {MAX_WORD} characters")
    terms = corpus_terms(store, corpus, word)
    candidates = ([terms[0]] if len(terms) == 1 else []) + ["_".join(terms), word.strip().lower().replace(" ", "_")]
    for term in candidates:
        row = fts.term_row(conn, corpus["id"], term) if term else None
        if row:
            return term, row
    what = f" (the corpus's tokenizer makes {' '.join(terms)!r} of it)" if terms else \
        " (the corpus's tokenizer drops it: a stop word, a number or punctuation)"
    raise WordNotFound(f"{word.strip()[:MAX_WORD]!r} is not in corpus {corpus['name']!r}{what}", word=word)


def kwic(store, corpus_name, word, limit=20, offset=0, width=WIDTH):
    """Keyword-in-context lines of ``word``: ``{"term", "lines": [{position, doc_id, left,
    match, right}], "total", "documents"}``; ``total`` is the term's occurrences in the
    token streams and ``documents`` how many documents hold it."""
    page = validate(PAGE, {"limit": limit, "offset": offset})
    with store.read() as conn:
        corpus = db.get_corpus(conn, corpus_name)
        term, row = resolve_term(store, conn, corpus, word)
    lines, skipped = [], 0
    for chunk in _holding(store, corpus["id"], row):
        wanted = [(p, n) for p, n in chunk]
        if skipped + sum(n for _, n in wanted) <= page["offset"]:
            skipped += sum(n for _, n in wanted)
            continue
        with store.read() as conn:
            docs = fts.documents_at(conn, corpus["id"], [p for p, _ in wanted])
        for position, n in wanted:
            d = docs[position]
            for start, end in occurrences(store, corpus, d["text"], term, expected=n):
                if skipped < page["offset"]:
                    skipped += 1
                    continue
                lines.append({"position": position, "doc_id": d["doc_key"],
                              "left": _flat(d["text"][max(0, start - width):start])[-width:],
                              "match": _flat(d["text"][start:end]),
                              "right": _flat(d["text"][end:end + width])[:width]})
                if len(lines) >= page["limit"]:
                    return {"term": term, "lines": lines, "total": row["cf"], "documents": row["df"]}
    return {"term": term, "lines": lines, "total": row["cf"], "documents": row["df"]}


def _holding(store, corpus_id, term, per_chunk=20):
    """Yield lists of ``(position, occurrences)`` of the documents holding ``term`` (its row
    ``{id, df, first_position}``), in order. The token streams are read from the term's
    first document (a word of the last book of a corpus was looked for through all the
    others first) until its ``df`` documents are found (a rare word's last was looked for
    after, to the end), in batches that start small (a frequent word's first page is in
    the first few hundred documents) and grow, each searched in one array."""
    chunk, left, term_id = [], term["df"], term["id"]
    batches = db.iter_token_batches(store, corpus_id, *BATCH, start=term.get("first_position") or 0)
    for rows in batches:
        lengths = np.fromiter((len(blob) // 4 for _, blob in rows), dtype=np.int64, count=len(rows))
        hits = np.flatnonzero(np.frombuffer(b"".join(blob for _, blob in rows), dtype="<u4") == term_id)
        if not hits.size:
            continue
        counts = np.bincount(np.searchsorted(np.cumsum(lengths), hits, side="right"), minlength=len(rows))
        for i in np.flatnonzero(counts):
            chunk.append((rows[i][0], int(counts[i])))
            left -= 1
            if len(chunk) >= per_chunk:
                yield chunk
                chunk = []
        if left <= 0:
            break
    if chunk:
        yield chunk


def _flat(s):
    """Context on one line: every run of white space as one space."""
    return _SPACE.sub(" ", s)
