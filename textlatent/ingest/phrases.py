"""Bigram phrases: learned per corpus as gensim ``Phrases`` learns them, stored as plain pairs.

Stored as ``[[a, b], ...]`` rather than a pickled gensim object, so a corpus's phrases
can be read back without unpickling anything.
"""

import numpy as np

# Words and word pairs the learner counts at most: past it, the rarest are dropped (as
# gensim's ``Phrases(max_vocab_size=...)`` drops them), which a phrase (at least
# phrase_min_count times) outlives, so the learner's memory stops growing with the corpus
# (20 Newsgroups whole needs 1.22 M; 16 bytes each, 26 MB with the word list).
MAX_VOCABULARY = 2_000_000
# Counted a batch at a time, as gensim's add_vocab was called; fewer documents when they
# are long, so that a batch holds fewer than MAX_VOCABULARY words and pairs (gensim pruned
# inside such a batch; here only a document that long alone is over, and pruned whole).
BATCH_DOCUMENTS = 2000
_SHIFT = 32                     # a pair of word ids as one int64: a * 2**32 + b
_LOW = (1 << _SHIFT) - 1


class PhraseLearner:
    """Counts words and adjacent word pairs exactly as gensim's ``Phrases`` (no connector
    words, ``max_vocab_size=MAX_VOCABULARY``) did for this module, batch by batch: the same
    counts, the same pruning past the cap (every entry counted fewer than ``min_reduce``
    times dropped, ``min_reduce`` then raised by one), the same ``len(vocab)`` in the score.
    In numpy arrays rather than a dict of "a b" strings: a pair is an int64 of two word ids
    and a count, 16 bytes where gensim's dict took about 80 (20 Newsgroups: 26 MB, not 100)."""

    def __init__(self, settings):
        self.min_count = settings.phrase_min_count
        self.threshold = settings.phrase_threshold
        self.max_vocab_size = MAX_VOCABULARY
        self.min_reduce = 1
        self.corpus_word_count = 0
        # Every word seen keeps its id, pruned or not (its count goes to 0): ids must stay
        # stable for the pair codes, and a language's words level off (136,887 distinct
        # terms in the million gutenberg8 windows) where its pairs do not.
        self.words, self.word_names = {}, []                  # word -> id, id -> word
        self.word_counts = np.zeros(0, dtype=np.int64)        # id -> count (0: not counted)
        self.pair_codes = np.zeros(0, dtype=np.int64)         # sorted a << 32 | b
        self.pair_counts = np.zeros(0, dtype=np.int64)
        self.batch, self.batch_tokens = [], 0

    def _word_id(self, word):
        wid = self.words.get(word)
        if wid is None:
            wid = self.words[word] = len(self.word_names)
            self.word_names.append(word)
        return wid

    def add(self, tokens):
        if self.batch and 2 * (self.batch_tokens + len(tokens)) > self.max_vocab_size:
            self._flush()
        get = self._word_id
        self.batch.append(np.fromiter((get(w) for w in tokens), dtype=np.int64, count=len(tokens)))
        self.batch_tokens += len(tokens)
        if len(self.batch) >= BATCH_DOCUMENTS:
            self._flush()

    def _flush(self):
        if not self.batch:
            return
        docs, self.batch, self.batch_tokens = self.batch, [], 0
        flat = np.concatenate(docs)
        words = np.bincount(flat, minlength=len(self.word_names))
        codes = (flat[:-1] << _SHIFT) | flat[1:]
        within = np.ones(len(codes), dtype=bool)
        last = np.cumsum([len(d) for d in docs])[:-1] - 1     # a document's last word pairs with nothing
        within[last[(last >= 0) & (last < len(codes))]] = False
        codes, counts = np.unique(codes[within], return_counts=True)
        self._merge(words, codes, counts, len(flat), 1, first_as_is=True)

    def _size(self):
        """gensim's ``len(vocab)``: the words and pairs counted."""
        return int(np.count_nonzero(self.word_counts)) + len(self.pair_codes)

    def _merge(self, words, codes, counts, n_words, min_reduce, first_as_is=False):
        """Add word counts (by id), pair counts (sorted unique codes) and a corpus word count,
        then prune past the cap, as gensim's add_vocab (``first_as_is``: a first batch is
        taken as it is) and :meth:`merge` did."""
        self.corpus_word_count += n_words
        if len(self.word_counts) < len(self.word_names):
            grown = np.zeros(len(self.word_names), dtype=np.int64)
            grown[:len(self.word_counts)] = self.word_counts
            self.word_counts = grown
        if first_as_is and not len(self.pair_codes) and not self.word_counts.any():
            self.word_counts[:len(words)] = words
            self.pair_codes, self.pair_counts = codes, counts.astype(np.int64)
            return
        self.min_reduce = max(self.min_reduce, min_reduce)
        self.word_counts[:len(words)] += words
        at = np.searchsorted(self.pair_codes, codes)
        known = at < len(self.pair_codes)
        known[known] = self.pair_codes[at[known]] == codes[known]
        self.pair_counts[at[known]] += counts[known]
        if not known.all():
            new = ~known
            self.pair_codes = np.insert(self.pair_codes, at[new], codes[new])
            self.pair_counts = np.insert(self.pair_counts, at[new], counts[new])
        if self._size() > self.max_vocab_size:
            kept = self.pair_counts >= self.min_reduce
            self.pair_codes, self.pair_counts = self.pair_codes[kept], self.pair_counts[kept]
            self.word_counts[self.word_counts < self.min_reduce] = 0
            self.min_reduce += 1

    def _vocab(self):
        """The counts as gensim's vocab: ``{word or "a b": count}``."""
        names, counts = self.word_names, self.word_counts
        vocab = {names[i]: int(counts[i]) for i in np.flatnonzero(counts).tolist()}
        for code, count in zip(self.pair_codes.tolist(), self.pair_counts.tolist()):
            vocab[names[code >> _SHIFT] + " " + names[code & _LOW]] = count
        return vocab

    def counts(self):
        """What was learned so far, as plain data for :meth:`merge` in another process:
        ``{"vocab": {word or "a b": count}, "min_reduce", "words"}``."""
        self._flush()
        return {"vocab": self._vocab(), "min_reduce": self.min_reduce, "words": self.corpus_word_count}

    def merge(self, counts):
        """Add another learner's :meth:`counts`, as gensim's ``add_vocab`` merges a batch:
        counts summed, and pruned past MAX_VOCABULARY."""
        self._flush()
        word_id = self._word_id
        words, pairs = {}, {}
        for key, count in counts["vocab"].items():
            a, sep, b = key.partition(" ")
            if sep:
                pairs[(word_id(a) << _SHIFT) | word_id(b)] = count
            else:
                words[word_id(a)] = count
        word_counts = np.zeros(len(self.word_names), dtype=np.int64)
        word_counts[list(words)] = list(words.values())
        codes = np.array(sorted(pairs), dtype=np.int64)
        self._merge(word_counts, codes, np.array([pairs[c] for c in codes.tolist()], dtype=np.int64),
                    counts["words"], counts["min_reduce"])

    def export(self):
        """The learned phrases as sorted ``[a, b]`` pairs: those gensim's ``export_phrases``
        gives with its default scorer, ``(n_ab - min_count) / (n_a * n_b) * len(vocab) >
        threshold``, scored as one numpy array in the same float64 operations in the same
        order, so that the same pairs pass."""
        self._flush()
        a, b = self.pair_codes >> _SHIFT, self.pair_codes & _LOW
        n_a, n_b, n_ab = self.word_counts[a], self.word_counts[b], self.pair_counts
        counted = np.flatnonzero((n_a > 0) & (n_b > 0) & (n_ab > 0))
        if not len(counted):
            return []
        denom = (n_a[counted] * n_b[counted]).astype(np.float64)
        score = (n_ab[counted] - self.min_count) / denom * self._size()
        passed = counted[score > self.threshold]
        names = self.word_names
        return sorted([names[i], names[j]] for i, j in zip(a[passed].tolist(), b[passed].tolist()))

    def export_with_gensim(self):
        """:meth:`export` by gensim's own ``export_phrases`` over the same counts, for the
        test that they agree."""
        from gensim.models.phrases import Phrases, original_scorer
        self._flush()
        model = Phrases(min_count=self.min_count, threshold=self.threshold, delimiter=" ",
                        connector_words=frozenset(), max_vocab_size=self.max_vocab_size, scoring=original_scorer)
        model.vocab, model.min_reduce, model.corpus_word_count = self._vocab(), self.min_reduce, self.corpus_word_count
        return sorted(k.split(" ", 1) for k in model.export_phrases())


def learn_phrases(settings):
    return PhraseLearner(settings)


def apply_phrases(tokens, pairs):
    """Join adjacent tokens that form a learned pair into ``a_b``, left to right."""
    out = []
    i, n = 0, len(tokens)
    while i < n:
        if i + 1 < n and (tokens[i], tokens[i + 1]) in pairs:
            out.append(tokens[i] + "_" + tokens[i + 1])
            i += 2
        else:
            out.append(tokens[i])
            i += 1
    return out
