"""Texts -> token lists with spaCy: lemmas, stop words, junk filtered, both cores used.

The default pipeline needs no download: ``spacy.blank(language)``'s tokenizer with the
lookup lemma table of ``spacy-lookups-data``. A trained pipeline (``pipeline=``) adds
part-of-speech filtering. The settings are stored with the corpus, so the same
tokenization is applied to any text later (inference).
"""

import collections
import gc
import logging
import multiprocessing
import re
from dataclasses import asdict, dataclass, field

from ..errors import InvalidInput
from .lemmas import lemma_table, lookup

log = logging.getLogger(__name__)

# spaCy's tokenizer is quadratic on long runs without spaces and refuses texts over
# 1,000,000 characters; uuencoded and base64 blocks are such runs and are junk anyway.
# Every pattern here is linear in its input (tests/test_hostile.py times each at 10^5 and
# 10^6 characters): Python's re has no time limit, and one text must not hold the GIL.
_LONG_RUN = re.compile(r"\S{50,}")
_URL = re.compile(r"(?:https?://|ftp://|www\.)\S+", re.I)
# A whole word with an "@" after its first character and a "." later (what "\S+@\S+\.\S+"
# removed). That pattern backtracked cubically on runs like "a@a@a@" (2,000 characters 6.7 s,
# 8,000 399 s); this one starts only at a word's start and never gives back what its
# possessive parts took.
_EMAIL = re.compile(r"(?<!\S)\S[^\s@]*+@\S\S*?\.\S\S*+")
_HEADER_LINE = re.compile(r"^[A-Za-z][A-Za-z0-9.-]{0,40}:[ \t]")   # "Article-I.D.: ..." too
# The end of "In article <id>, bob@x writes:", "In a previous article, bob@x (Bob) says:"
_QUOTE_INTRO = re.compile(r"\b(writes|wrote|said|says)( in .*)?:$", re.I)
CHUNK_CHARS = 100_000


@dataclass
class TokenizerSettings:
    """How a corpus is tokenized; stored with the corpus and reused for new text."""

    language: str = "en"
    pipeline: str | None = None             # an installed trained spaCy pipeline, e.g. en_core_web_sm
    pos: list | None = None                 # with a pipeline: keep only these parts of speech
    stop_words: list = field(default_factory=list)   # extra stop words
    lemmas: bool = True
    min_length: int = 2
    max_length: int = 30
    email: str = "auto"                     # strip e-mail headers, quotes, signatures: auto|yes|no
    phrases: bool = True
    phrase_min_count: int = 5
    phrase_threshold: float = 10.0

    def __post_init__(self):
        if self.email not in ("auto", "yes", "no"):
            raise InvalidInput(f"email must be auto, yes or no, not {self.email!r}")
        if not (1 <= self.min_length <= self.max_length <= 200):
            raise InvalidInput("need 1 <= min_length <= max_length <= 200")
        if self.pos and not self.pipeline:
            raise InvalidInput("pos filtering needs a trained pipeline (--pipeline NAME), "
                               "since spacy.blank assigns no parts of speech")
        self.stop_words = sorted({w.strip().lower() for w in self.stop_words if w.strip()})
        if self.pos:
            self.pos = [p.upper() for p in self.pos]

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        known = {k: v for k, v in (d or {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)


def strip_email(text):
    """Remove an e-mail's header block, quoted replies and signature (as scikit-learn's
    20 Newsgroups loader does) and its sign-off: they name people and servers, not topics."""
    head, sep, body = text.partition("\n\n")
    if sep and all(_HEADER_LINE.match(line) or line[:1] in " \t" for line in head.split("\n") if line):
        text = body
    text = "\n".join(line for line in text.split("\n") if not _quoted(line))
    sig = text.rfind("\n-- \n")
    if sig == -1:
        sig = text.rfind("\n--\n")
    if sig != -1 and len(text) - sig < 1000:
        text = text[:sig]
    return _strip_signoff(text)


def _quoted(line):
    """A quoted line, or the line that introduces a quote (only lines ending in ':' go
    through the regex: one pattern over the whole text cost 2.8 s on 20 Newsgroups)."""
    line = line.strip()
    return line.startswith((">", "|")) or (line.endswith(":") and _QUOTE_INTRO.search(line) is not None)


def _strip_signoff(text, lines_max=4):
    """Drop a closing block of short lines ("Thanks,", "Steve", "-andy", "CU Boulder"):
    more than half of 20 Newsgroups' posts end so, without a "-- " signature line, and
    their first names made a topic of their own."""
    lines = text.rstrip().split("\n")
    dropped = 0
    while lines and dropped < lines_max:
        line = lines[-1].strip()
        if line and (len(line) > 40 or len(line.split()) > 3):
            break
        lines.pop()
        dropped += bool(line)
    if not any(line.strip() for line in lines):
        return text             # a post of short lines only: all of it is the message
    return "\n".join(lines)


def _no_final_period(term):
    """spaCy keeps the period of abbreviations and initials ("mr.", "inc.", "j."): drop it,
    so that "Mr." and "Mr" are one term and an initial falls under ``min_length``.
    Periods inside ("u.s.", "e.g.") stay."""
    if term.endswith(".") and "." not in term[:-1]:
        return term[:-1]
    return term


def _looks_like_email(text):
    first = text.lstrip()[:200].split("\n", 1)[0]
    return bool(_HEADER_LINE.match(first))


def preclean(text, settings):
    if settings.email == "yes" or (settings.email == "auto" and _looks_like_email(text)):
        text = strip_email(text)
    text = _LONG_RUN.sub(" ", text)     # first: the other patterns then see words of < 50 characters
    text = _URL.sub(" ", text)
    return _EMAIL.sub(" ", text)


def _chunks(text):
    """Cut at whitespace into pieces spaCy accepts and tokenizes in linear time (by index:
    re-slicing the rest after each piece copied 180 GB for a 190 MB text)."""
    start, n = 0, len(text)
    while n - start > CHUNK_CHARS:
        end = start + CHUNK_CHARS
        cut = text.rfind("\n", start, end)
        if cut < start + CHUNK_CHARS // 2:
            cut = text.rfind(" ", start, end)
        if cut <= start:
            cut = end
        yield text[start:cut]
        start = cut
    yield text[start:]


class Tokenizer:
    """One process's spaCy pipeline and filters; ``__call__`` maps texts to token lists."""

    def __init__(self, settings):
        self.settings = settings
        self.nlp = self._pipeline()
        self.stops = {w.lower() for w in self.nlp.Defaults.stop_words} | set(settings.stop_words)
        self.lemma_table = None
        if settings.lemmas and not settings.pipeline:
            self.lemma_table = lemma_table(settings.language)
        self._cache = {}            # term of a token text inside a sentence
        self._start_cache = {}      # ... and at the start of one

    def _pipeline(self):
        import spacy

        settings = self.settings
        if settings.pipeline:
            try:
                return spacy.load(settings.pipeline, exclude=["ner", "parser", "textcat"])
            except OSError as e:
                raise InvalidInput(
                    f"spaCy pipeline {settings.pipeline!r} is not installed; install it with pip, "
                    "or leave --pipeline out to use the built-in blank pipeline") from e
        try:
            return spacy.blank(settings.language)
        except ImportError as e:      # spaCy's E048: no such language module
            raise InvalidInput(f"spaCy has no language {settings.language!r}; use an ISO code "
                               "such as en, de, fr, es, it, nl, pt") from e

    def refresh(self):
        """A new spaCy pipeline and empty caches: spaCy's vocabulary and string store keep
        every string they have seen, so a worker's memory otherwise grows with the distinct
        words it has tokenized. Tokens are the same before and after (0.1 s for a blank
        pipeline; the lemma table is kept)."""
        self.nlp = self._pipeline()
        self._cache.clear()
        self._start_cache.clear()

    def _surface(self, tok):
        """The token's lower-case text without a final period, or None when it is dropped
        whatever its lemma: punctuation, numbers, URLs, e-mail addresses, out of length."""
        if tok.is_punct or tok.like_num or tok.like_url or tok.like_email or tok.is_space:
            return None
        text = _no_final_period(tok.text.lower())
        return text if self.settings.min_length <= len(text) <= self.settings.max_length else None

    def _term(self, tok, sentence_start=False):
        """The term a blank-pipeline token becomes, or None when it is dropped. Its lemma
        is looked up on its original case (see :mod:`textlatent.ingest.lemmas`)."""
        lower = self._surface(tok)
        if lower is None or lower in self.stops or not any(c.isalpha() for c in lower):
            return None
        if self.lemma_table is not None:
            lower = lookup(self.lemma_table, _no_final_period(tok.text), lower, sentence_start)
            if lower in self.stops or len(lower) < self.settings.min_length:
                return None
        return lower.replace(" ", "_")

    def _trained_term(self, tok):
        s = self.settings
        if s.pos and tok.pos_ not in s.pos:
            return None
        text = self._surface(tok)
        if text is None:
            return None
        term = _no_final_period(tok.lemma_.lower()) if s.lemmas else text
        if term in self.stops or text in self.stops or not any(c.isalpha() for c in term):
            return None
        return term.replace(" ", "_")

    def __call__(self, texts):
        pieces, owner = [], []
        for i, text in enumerate(texts):
            for chunk in _chunks(preclean(text, self.settings)):
                pieces.append(chunk)
                owner.append(i)
        out = [[] for _ in texts]
        if self.settings.pipeline:
            for i, doc in zip(owner, self.nlp.pipe(pieces, batch_size=64)):
                out[i].extend(t for t in map(self._trained_term, doc) if t)
            return out
        inside, first = self._cache, self._start_cache
        for i, doc in zip(owner, self.nlp.tokenizer.pipe(pieces, batch_size=256)):
            toks = out[i]
            start = True
            for tok in doc:     # the hot loop of an ingest: _cached_term inlined
                text = tok.text
                cache = first if start else inside
                term = cache.get(text, 0)
                if term == 0:
                    term = cache[text] = self._term(tok, start)
                if term:
                    toks.append(term)
                start = _starts_sentence(text, start)
        self._bound_caches()
        return out

    def _cached_term(self, tok, text, start):
        """:meth:`_term` of a token written ``text``, remembered per text and sentence start."""
        cache = self._start_cache if start else self._cache
        term = cache.get(text, 0)
        if term == 0:
            term = cache[text] = self._term(tok, start)
        return term

    def _bound_caches(self):
        if len(self._cache) + len(self._start_cache) > 500_000:
            self._cache.clear()
            self._start_cache.clear()

    def spans(self, text):
        """``[(start, end, term)]``: where each term of ``text`` stands in it, in order, before
        phrases. The terms are those ``self([text])`` makes (sentence starts included), except
        that an e-mail's headers, quotes and signature are read too (offsets must stay those
        of ``text``)."""
        out, offset, start = [], 0, True
        for piece in _chunks(blanked(text)):
            found, start = self.piece_spans(piece, offset, start)
            out.extend((a, b, t) for a, b, t, _ in found)
            offset += len(piece)
        return out

    def piece_spans(self, piece, offset=0, start=None):
        """``([(start, end, term, known)], start)`` of a ``piece`` of a blanked text (see
        :func:`blanked`) beginning at a word of it, ``offset`` characters in. ``start``:
        whether the piece begins a sentence, None when unknown; ``known`` is False for the
        terms read before a token that settles it (a lemma depends on it). The second value
        says whether the text after the piece begins a sentence."""
        out, known = [], start is not None
        start = True if start is None else start
        if self.settings.pipeline:
            for tok in self.nlp(piece):
                term = self._trained_term(tok)
                if term:
                    out.append((offset + tok.idx, offset + tok.idx + len(tok.text), term, True))
            return out, True
        term_of = self._cached_term
        for tok in self.nlp.tokenizer(piece):
            text = tok.text
            term = term_of(tok, text, start)
            if term:
                out.append((offset + tok.idx, offset + tok.idx + len(text), term, known))
            start = _starts_sentence(text, start)
            known = known or _settles_sentence(text)
        self._bound_caches()
        return out, start


def blanked(text):
    """``text`` with what ``preclean`` removes inside it (long runs, URLs, e-mail addresses)
    turned into as many spaces, long runs first (the e-mail pattern is slow on them)."""
    def spaces(m):
        return " " * len(m.group())
    return _EMAIL.sub(spaces, _URL.sub(spaces, _LONG_RUN.sub(spaces, text)))


_SENTENCE_END = frozenset((".", "!", "?", "...", "…", "?!", "!?", "!!", "??"))
_OPENING = frozenset(('"', "'", "(", "[", "“", "‘", "-", "–", "—", "*", "•"))


def _starts_sentence(text, start):
    """Whether the token after one written ``text`` starts a sentence (``start``: this
    one did): after a full stop, ! or ?, or a blank line (a headline has no full stop);
    opening quotes, brackets and bullets pass the start on."""
    if text in _SENTENCE_END:
        return True
    if text in _OPENING:
        return start
    if text.isspace():
        return start or text.count("\n") > 1
    return False


def _settles_sentence(text):
    """Whether :func:`_starts_sentence` after a token written ``text`` is the same
    whatever came before it."""
    return not (text in _OPENING or (text.isspace() and text.count("\n") <= 1))


# -- both cores --------------------------------------------------------------------------

_worker_tokenizer = None


def warm_up(settings=None):
    """Build this process's tokenizer for ``settings`` (the defaults) now: a worker does it
    once at start, so that each job it forks (an ingest, each shard of one) finds spaCy
    imported and its pipeline built (1.3 s a job otherwise)."""
    _init_worker((settings or TokenizerSettings()).to_dict())


def _init_worker(settings_dict):
    global _worker_tokenizer
    if _worker_tokenizer is None or _worker_tokenizer.settings.to_dict() != settings_dict:
        _worker_tokenizer = Tokenizer(TokenizerSettings.from_dict(settings_dict))


# A worker renews its spaCy pipeline every so many chunks (5,000 texts) rather than being
# replaced: a new worker is forked from the ingest's process as it is then, and holds on to
# every page that process changes afterwards (its phrase counts, its heap), about 75 MB a
# worker at 20 Newsgroups x10 on top of its own growth.
REFRESH_CHUNKS = 25
_worker_chunks = 0


def _work(texts):
    global _worker_chunks
    _worker_chunks += 1
    if _worker_chunks % REFRESH_CHUNKS == 0:
        _worker_tokenizer.refresh()
    return _worker_tokenizer(texts)


def tokenize_stream(texts, settings, workers=2, chunk_size=200):
    """Yield one token list per text, in order, streaming.

    With ``workers`` > 1 a process pool tokenizes chunks of texts; at most a few chunks
    are in flight, so memory does not grow with the corpus. (spaCy's own
    ``n_process`` was slower than one process on these machines.)
    """
    settings_dict = settings.to_dict()
    _init_worker(settings_dict)     # also validates the settings before any work starts
    chunks = _chunked(texts, chunk_size)
    if workers <= 1:
        for chunk in chunks:
            yield from _worker_tokenizer(chunk)
        return
    first = next(chunks, None)
    if first is None:
        return
    second = next(chunks, None)
    if second is None:             # a small corpus: a pool costs more than it saves
        yield from _worker_tokenizer(first)
        return
    ctx = multiprocessing.get_context("fork")
    # The workers last the whole stream (forked while this process is still small); each
    # renews its spaCy pipeline now and then so that its string store stays small (_work).
    # The objects there are at the fork (spaCy, the lemma table, ...) are frozen out of the
    # garbage collector's sweeps meanwhile: a full collection writes to every object it
    # visits, which copies its memory page, so the workers' shared memory became theirs
    # alone as the ingest went on (90 MB at 20 Newsgroups x10).
    gc.freeze()
    try:
        with ctx.Pool(workers, initializer=_init_worker, initargs=(settings_dict,)) as pool:
            pending = collections.deque()
            for chunk in _prepend([first, second], chunks):
                pending.append(pool.apply_async(_work, (chunk,)))
                if len(pending) >= workers * 3:
                    yield from pending.popleft().get()
            while pending:
                yield from pending.popleft().get()
    finally:
        gc.unfreeze()


def _prepend(items, rest):
    yield from items
    yield from rest


def _chunked(iterable, size):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
