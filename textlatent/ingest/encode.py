"""Unigram streams to stored term ids, a batch of documents at a time, in numpy.

The writer's work per token: join the corpus's phrases (an adjacent pair of words that
was learned becomes the one term ``a_b``, left to right, as :func:`.phrases.apply_phrases`
does), map each term to the corpus's id (a new term gets the next id, in the order of its
first occurrence), count each term's documents and occurrences, and note the position of
the first document holding each new term (where KWIC starts looking for it). Done per token in
Python it was a fifth of a sharded ingest's serial end; here Python only runs once per
distinct word, the rest is array arithmetic over the batch.
"""

import numpy as np

_SHIFT = np.int64(1 << 32)      # a pair of word ids as one int64: a * 2**32 + b
NO_POSITION = np.iinfo(np.int64).max


class Encoder:
    """Maps batches of documents, each an array of word ids (see :meth:`word_ids`), to term
    id arrays of ``vocab`` (a :class:`textlatent.ingest.writer._Vocabulary`), counting them."""

    def __init__(self, vocab, pairs):
        self.vocab = vocab
        self.words = {}                      # word -> word id
        self.word_names = []                 # word id -> word
        self.word_term = np.empty(0, dtype=np.int64)      # word id -> term id, -1 while it has none
        for a, b in pairs:
            self._add_word(a)
            self._add_word(b)
        coded = sorted((self.words[a] * (1 << 32) + self.words[b], f"{a}_{b}") for a, b in pairs)
        self.pair_codes = np.array([c for c, _ in coded], dtype=np.int64)
        self.pair_names = [name for _, name in coded]
        self.pair_term = np.array([vocab.index.get(name, -1) for name in self.pair_names], dtype=np.int64)
        self.df = np.array(vocab.df, dtype=np.int64)
        self.cf = np.array(vocab.cf, dtype=np.int64)
        self.first = np.full(len(vocab.terms), NO_POSITION, dtype=np.int64)   # this ingest's, per term

    def _add_word(self, word):
        wid = self.words.get(word)
        if wid is None:
            wid = self.words[word] = len(self.word_names)
            self.word_names.append(word)
            if wid >= len(self.word_term):
                grown = np.full(max(1024, 2 * len(self.word_term)), -1, dtype=np.int64)
                grown[:len(self.word_term)] = self.word_term
                self.word_term = grown
            self.word_term[wid] = self.vocab.index.get(word, -1)
        return wid

    def word_ids(self, words):
        """Word ids of ``words`` (a list of strings: a document's unigrams, or a shard's
        vocabulary to index with the shard's local ids), as an int64 array."""
        get, add = self.words.get, self._add_word
        return np.fromiter((get(w) if w in self.words else add(w) for w in words), dtype=np.int64,
                           count=len(words))

    def encode(self, docs, positions):
        """``docs``: a list of int64 word-id arrays, none empty, of the documents at
        ``positions`` (ints, any order). Returns a list of ``<u4`` term-id arrays, one per
        document, and adds their counts to the vocabulary."""
        lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
        flat = np.concatenate(docs) if docs else np.empty(0, dtype=np.int64)
        n = len(flat)
        keys = flat.copy()                   # >= 0: a word id; < 0: -(1 + a pair's index)
        keep = np.ones(n, dtype=bool)
        if len(self.pair_codes) and n > 1:
            codes = flat[:-1] * _SHIFT + flat[1:]
            at = np.minimum(np.searchsorted(self.pair_codes, codes), len(self.pair_codes) - 1)
            hit = self.pair_codes[at] == codes
            ends = np.cumsum(lengths) - 1            # a document's last token pairs with nothing
            hit[ends[ends < n - 1]] = False
            # Left to right: in a run of pairs starting at s, the pairs at s, s+2, ... join
            # (the one at s takes the word the one at s+1 would start with).
            index = np.arange(n - 1)
            run_start = np.maximum.accumulate(np.where(hit & ~np.r_[False, hit[:-1]], index, 0))
            take = np.flatnonzero(hit & ((index - run_start) % 2 == 0))
            keys[take] = -1 - at[take]
            keep[take + 1] = False
        keys = keys[keep]
        doc_of = np.repeat(np.arange(len(docs)), lengths)[keep]
        terms = self._terms(keys)
        new = np.flatnonzero(terms < 0)
        if len(new):
            self._new_terms(keys[new])
            terms = self._terms(keys)
        n_terms = len(self.vocab.terms)
        self.cf += np.bincount(terms, minlength=n_terms)
        pairs = np.unique(doc_of * n_terms + terms)           # (document, term), each once
        self.df += np.bincount(pairs % n_terms, minlength=n_terms)
        if len(pairs):
            np.minimum.at(self.first, pairs % n_terms, np.asarray(positions, dtype=np.int64)[pairs // n_terms])
        counts = np.bincount(doc_of, minlength=len(docs))
        return np.split(terms.astype("<u4"), np.cumsum(counts)[:-1])

    def _terms(self, keys):
        """The term id of each key (-1: none yet)."""
        terms = self.word_term[np.maximum(keys, 0)]
        pairs = np.flatnonzero(keys < 0)
        terms[pairs] = self.pair_term[-1 - keys[pairs]]
        return terms

    def _new_terms(self, keys):
        """Give the terms of ``keys`` that have none the next ids, in order of first occurrence."""
        uniq, first = np.unique(keys, return_index=True)
        vocab = self.vocab
        for key in uniq[np.argsort(first, kind="stable")].tolist():
            name = self.pair_names[-1 - key] if key < 0 else self.word_names[key]
            tid = vocab.index.get(name)       # a word spelled a_b and the phrase a_b are one term
            if tid is None:
                tid = vocab.index[name] = len(vocab.terms)
                vocab.terms.append(name)
            if key < 0:
                self.pair_term[-1 - key] = tid
            else:
                self.word_term[key] = tid
        grown = len(vocab.terms) - len(self.df)
        self.df = np.concatenate([self.df, np.zeros(grown, dtype=np.int64)])
        self.cf = np.concatenate([self.cf, np.zeros(grown, dtype=np.int64)])
        self.first = np.concatenate([self.first, np.full(grown, NO_POSITION, dtype=np.int64)])

    def first_positions(self):
        """The position of the first document holding each of this ingest's new terms (a
        list, from the first new id on); an older term's first document is an older one."""
        return self.first[self.vocab.old_n:].tolist()

    def counts(self):
        """``(df, cf, changed)``: the counts as lists, and the ids older than this ingest's
        terms whose counts changed."""
        old = self.vocab.old_n
        before_df = np.array(self.vocab.df[:old], dtype=np.int64)
        before_cf = np.array(self.vocab.cf[:old], dtype=np.int64)
        changed = np.flatnonzero((self.df[:old] != before_df) | (self.cf[:old] != before_cf)).tolist()
        return self.df.tolist(), self.cf.tolist(), changed
