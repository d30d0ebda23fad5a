"""Reads of a corpus's documents: the corpus page's overview, one document whole."""

from ..errors import InvalidInput, NotFound
from ..store import queries as db


def overview(store, name, top_terms=30, sample=5):
    """What a corpus page shows: its row, the most frequent terms, a few documents."""
    with store.read() as conn:
        return overview_in(conn, db.get_corpus(conn, name), top_terms, sample)


def overview_in(conn, corpus, top_terms=30, sample=5):
    """:func:`overview` of a corpus row, inside an open transaction."""
    terms = db.top_terms(conn, corpus["id"], top_terms)
    docs = db.get_documents(conn, corpus["id"], limit=sample,
                            columns=("position", "doc_key", "title", "label", "date", "n_tokens", "text"))
    for d in docs:
        d["text"] = d["text"][:300]
    return {"name": corpus["name"], "documents": corpus["n_docs"], "tokens": corpus["n_tokens"],
            "vocabulary": corpus["n_terms"], "phrases": corpus["n_phrases"], "settings": corpus["settings"],
            "created": corpus["created"].isoformat(timespec="seconds") + "Z",
            "updated": corpus["updated"].isoformat(timespec="seconds") + "Z",
            "top_terms": [{"term": t, "documents": df, "count": cf} for t, df, cf in terms],
            "sample_documents": docs}


def document(store, name, position):
    """One document, whole, by its position in the corpus."""
    if not (isinstance(position, int) or str(position).strip().lstrip("-").isdigit()):
        raise InvalidInput(f"document positions are whole numbers, not {str(position)[:50]!r}")
    position = db.as_id(position, NotFound, "document", low=0)
    with store.read() as conn:
        corpus = db.get_corpus(conn, name)
        rows = db.get_documents(conn, corpus["id"], positions=[position],
                                   columns=("position", "doc_key", "source", "title", "label", "date", "meta",
                                            "n_tokens", "text"))
    if not rows:
        raise NotFound(f"corpus {corpus['name']!r} has no document {position}")
    return rows[0]

