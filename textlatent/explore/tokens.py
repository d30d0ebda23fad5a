"""What a corpus's frozen pipeline makes of a text: its tokenizer settings and phrases.

The same terms a document of the corpus would have, so that a person can see why a word
is missing from a view.
"""

from ..errors import InvalidInput
from ..store import queries as db
from .inference import corpus_terms

MAX_TEXT = 1_000_000


def tokenize_text(store, corpus_name, text):
    """``{"tokens": [term, ...]}``: ``text`` tokenized as corpus ``corpus_name``'s documents
    were (same settings, same phrases)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("give some text to tokenize")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"text longer than {MAX_TEXT:,} characters")
    with store.read() as conn:
        corpus = db.get_corpus(conn, corpus_name)
    return {"tokens": corpus_terms(store, corpus, text)}
