"""Where the terms of a corpus stand in a text: character spans, as its tokenizer finds them.

A term is what the corpus's tokenizer makes of a word: the lemma, or a phrase
(``new_york`` for "New York"), so the occurrences of "taxes" and "Tax" are those of ``tax``.
:func:`term_spans` tokenizes the whole text; :func:`occurrences` finds one term's spans by
tokenizing only the stretches around the places where one of its word forms is written
(KWIC tokenized whole posts and took 222 ms for a frequent word's first page of 20
Newsgroups; spaCy's tokenizer was four fifths of it).

Why a stretch gives the same terms as the whole text: spaCy splits a text at white space
first and tokenizes each piece on its own, so a stretch that begins and ends at white space
holds the same tokens. What a token's term depends on beyond itself is settled inside the
stretch or the term is not used: a lemma depends on whether a sentence starts there (known
after the first token that settles it), and a phrase on whether the term before was taken
by a phrase of its own (known after the first two terms that make no phrase). Where a
written form is not settled so, or fewer occurrences are found than the stored tokens
count, the whole text is tokenized.
"""

import re
import threading
import weakref

from ..ingest.tokenize import blanked
from .inference import phrase_pairs, tokenizer_of

PAD = 200            # characters tokenized on each side of a written form
MAX_STRETCH = 50_000  # a longer run of stretches: the whole text, in the pieces spaCy takes
_LETTER = r"[^\W\d_]"

_forms_lock = threading.Lock()
_inverse = weakref.WeakKeyDictionary()      # tokenizer -> {lemma: {forms}}


def term_spans(store, corpus, text):
    """``[(start, end, term)]`` of ``text`` as the corpus tokenizes it, phrases joined (a
    phrase spans both of its words), offsets into ``text``."""
    return _join(tokenizer_of(corpus).spans(text), phrase_pairs(store, corpus))


def _join(spans, pairs):
    """Phrases joined left to right, as :func:`textlatent.ingest.phrases.apply_phrases` does."""
    if not pairs:
        return spans
    out, i = [], 0
    while i < len(spans):
        if i + 1 < len(spans) and (spans[i][2], spans[i + 1][2]) in pairs:
            out.append((spans[i][0], spans[i + 1][1], spans[i][2] + "_" + spans[i + 1][2]))
            i += 2
        else:
            out.append(spans[i])
            i += 1
    return out


def occurrences(store, corpus, text, term, expected=0):
    """``[(start, end)]`` of ``term`` in ``text``, in order: the spans of :func:`term_spans`
    whose term is ``term``. ``expected``: how many the stored tokens count (at least as many
    are found, or the whole text is tokenized)."""
    tokenizer = tokenizer_of(corpus)
    pairs = phrase_pairs(store, corpus)
    found = None if tokenizer.settings.pipeline else _around_forms(tokenizer, pairs, text, term)
    if found is None or len(found) < expected:
        found = [(a, b) for a, b, t in _join(tokenizer.spans(text), pairs) if t == term]
    return found


def _around_forms(tokenizer, pairs, text, term):
    """The spans of ``term`` from the stretches around its written forms, or None when one
    form's place is not settled inside its stretch."""
    forms = _forms_pattern(tokenizer, pairs, term)
    flat = blanked(text)
    hits = [m.start() for m in forms.finditer(flat)]
    if not hits:
        return []
    out, n = [], len(flat)
    for a, b, inside in _stretches(hits, n):
        at_start = a == 0        # only white space before: a sentence starts, no phrase is open
        a, b = _word_start(flat, a), _word_end(flat, b)
        if b - a > MAX_STRETCH:
            return None
        spans, _ = tokenizer.piece_spans(flat[a:b], a, True if at_start else None)
        first = next((i for i, s in enumerate(spans) if s[3]), len(spans))
        if not at_start and pairs:
            # The first term whose phrase cannot depend on what stands before the stretch.
            first = next((i + 1 for i in range(first, len(spans) - 1)
                          if (spans[i][2], spans[i + 1][2]) not in pairs), len(spans))
        joined = _join([s[:3] for s in spans[first:]], pairs)
        if b < n and pairs and joined and joined[-1][0] == spans[-1][0]:
            joined.pop()        # a last term alone: its phrase with the next one, outside, is unknown
        lo = joined[0][0] if joined else b
        hi = joined[-1][1] if joined else a
        if any(not lo <= h < hi for h in inside):
            return None
        out.extend((s, e) for s, e, t in joined if t == term)
    return out


def _stretches(hits, n):
    """``(start, end, hits)``: the hits' neighbourhoods of PAD characters, overlapping ones merged."""
    out = []
    for h in hits:
        a, b = max(0, h - PAD), min(n, h + PAD)
        if out and a <= out[-1][1]:
            out[-1][1] = b
            out[-1][2].append(h)
        else:
            out.append([a, b, [h]])
    return out


def _word_start(text, i):
    """The start of the word at or after ``i``'s run: a stretch begins where a word follows white space."""
    while i > 0 and not text[i - 1].isspace():
        i -= 1
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _word_end(text, i):
    while i < len(text) and not text[i].isspace():
        i += 1
    return i


def _forms_pattern(tokenizer, pairs, term):
    """A pattern of every written form (any case, not inside a run of letters) that the
    tokenizer may turn into ``term`` or into the first word of the phrase ``term``."""
    lemmas = {term}
    for i, c in enumerate(term):
        if c == "_" and (term[:i], term[i + 1:]) in pairs:
            lemmas.add(term[:i])
    inverse = _inverse_table(tokenizer)
    forms = set()
    for lemma in lemmas:
        forms.add(lemma)
        forms.update(inverse.get(lemma, ()))
    alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.compile(f"(?<!{_LETTER})(?:{alternatives})(?!{_LETTER})", re.IGNORECASE)


def _inverse_table(tokenizer):
    """``{term: {lower-case forms}}`` of the tokenizer's lemma table (empty without one)."""
    with _forms_lock:
        inverse = _inverse.get(tokenizer)
        if inverse is None:
            inverse = {}
            for form, lemma in (tokenizer.lemma_table or {}).items():
                inverse.setdefault(lemma.lower().replace(" ", "_"), set()).add(form.lower())
            _inverse[tokenizer] = inverse
        return inverse
