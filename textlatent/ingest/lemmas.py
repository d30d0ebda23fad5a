"""Lookup lemmas: spaCy's tables looked up on the original case, with reviewed exceptions.

spaCy's English lookup table (``spacy-lookups-data``) maps word forms to lemmas without
knowing the part of speech, so some entries turn a common word into another one
(``taxes`` -> ``taxis``, ``politics`` -> ``politic``, ``data`` -> ``datum``) and, looked up
after lower-casing, names into common nouns (``Wales`` -> ``wale``, ``States`` -> ``state``).
So a capitalised word inside a sentence is looked up as written (the table knows a few,
``Americans`` -> ``American``) and otherwise keeps its form; a word at the start of a
sentence is looked up as written, then lower-cased; and ``EXCEPTIONS`` overrides the
entries found wrong on the most frequent words of 20 Newsgroups and BBC news
(``bench/lemma_changes.py`` lists them; the README has the counts and the review).
"""

import gzip
import json
import logging
import os

log = logging.getLogger(__name__)

# Each word here is its own lemma: the table's entry for it names another word. Found by
# bench/lemma_changes.py on the 10,000 most frequent words of 20 Newsgroups and BBC news
# (flagged where the table's lemma is none of the candidates of spaCy's rule lemmatizer,
# or the word is a noun in its own right), then read one by one; the README has the counts.
_OWN_LEMMA = {
    "en": (
        # a noun (or name) of its own, not a form of the table's word ("matter" -> "matt")
        "ground", "number", "bit", "data", "media", "born", "bound", "rebound", "matter", "crew",
        "broker", "buffer", "liver", "rent", "wound", "ceiling", "span", "agenda", "opera", "atlas",
        "memorabilia", "trivia", "stove", "archer", "maria", "wales", "mars", "ai",
        # plural nouns with a sense of their own ("goods" -> "good", "politics" -> "politic")
        "politics", "physics", "graphics", "electronics", "genetics", "athletics", "statistics",
        "dynamics", "ethics", "mechanics", "goods", "means", "headquarters", "proceedings",
        "savings", "arms", "odds", "clothes",
        # ordinals ("first" -> "1")
        "first", "second", "third", "fourth", "fifth",
    ),
}
# A word form and its lemma where the table has another word ("taxes" -> "taxis").
_OTHER_LEMMA = {
    "en": {"taxes": "tax", "lives": "life", "bases": "base", "masses": "mass", "criteria": "criterion",
           "calories": "calorie", "developed": "develop", "developing": "develop", "dying": "die",
           "worse": "bad", "worst": "bad", "grounds": "ground", "numbers": "number", "bits": "bit",
           "seconds": "second", "rebounds": "rebound"},
}


def exceptions(language):
    """The reviewed exceptions of ``language``: ``{word form: lemma}``, lower case."""
    out = {w: w for w in _OWN_LEMMA.get(language, ())}
    out.update(_OTHER_LEMMA.get(language, {}))
    return out


def lemma_table(language):
    """The lookup table of ``spacy-lookups-data`` as a plain dict (a spaCy ``Table`` hashes
    every key on lookup, which costs as much as tokenizing), its keys both as written and
    lower-cased, the exceptions laid over it; None when the language has no table."""
    import spacy_lookups_data

    path = os.path.join(os.path.dirname(spacy_lookups_data.__file__), "data", f"{language}_lemma_lookup.json.gz")
    if not os.path.exists(path):
        log.warning("no lookup lemma table for %r; terms are lower-cased words", language)
        return None
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        raw = json.load(fh)
    # Lower-case keys for lower-case words, the table's capitalised entries among them (a
    # post's "christians" is "christian" as "Christians" is); the keys as written for
    # capitalised words ("Americans"; there is no "Wales", so it stays).
    table = {k.lower(): v for k, v in raw.items()}
    table.update(raw)
    table.update(exceptions(language))
    return table


def lookup(table, text, lower, sentence_start):
    """The lower-case lemma of a word written ``text`` (``lower`` its lower case):
    lower-case words by the table; capitalised ones by the table as written, else, at the
    start of a sentence only, as lower case; else unchanged."""
    if text == lower:
        return table.get(lower, lower).lower()
    found = table.get(text)
    if found is not None:
        return found.lower()
    return table.get(lower, lower).lower() if sentence_start else lower
