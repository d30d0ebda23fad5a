"""What a corpus's frozen pipeline makes of a text: its tokenizer settings and phrases.

The same terms a document of the corpus would have, so that a person can see why a word
is missing from a view.
"""

from ..errors import InvalidInput, TooLarge
from ..store import queries as db
from .inference import MAX_INFER_CHARS as MAX_TEXT
from .inference import corpus_terms


def tokenize_text(store, corpus_name, text):
    """``{"tokens": [term, ...]}``: ``text`` tokenized as corpus ``corpus_name``'s documents
    were (same settings, same phrases)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("give some text to tokenize")
    if len(text) > MAX_TEXT:
        # as for infer: a request's tokenizing stays near 0.3 s of CPU
        raise TooLarge(f"the text has {len(text):,} characters; at most {MAX_TEXT:,} are tokenized in a request")
    with store.read() as conn:
        corpus = db.get_corpus(conn, corpus_name)
    return {"tokens": corpus_terms(store, corpus, text)}
