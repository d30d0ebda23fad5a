"""Bigram phrases: learned with gensim ``Phrases`` per corpus, stored as plain pairs.

Stored as ``[[a, b], ...]`` rather than a pickled gensim object, so a corpus's phrases
can be read back without unpickling anything.
"""

import numpy as np
from gensim.models.phrases import Phrases, original_scorer

# Words and word pairs the learner counts at most (gensim's docs: about 90 bytes each): past
# it, gensim drops the rarest, which a phrase (at least phrase_min_count times) outlives, so
# the learner's memory stops growing with the corpus (20 Newsgroups whole needs 1.08 M).
MAX_VOCABULARY = 2_000_000


class PhraseLearner:
    def __init__(self, settings):
        # Stop words are already gone, so no connector words; a space delimiter cannot
        # occur inside a token, so exported phrases split back into their two words.
        self.model = Phrases(min_count=settings.phrase_min_count, threshold=settings.phrase_threshold,
                             delimiter=" ", connector_words=frozenset(), max_vocab_size=MAX_VOCABULARY,
                             scoring=original_scorer)       # the formula export() computes
        self.batch = []

    def add(self, tokens):
        self.batch.append(tokens)
        if len(self.batch) >= 2000:
            self._flush()

    def _flush(self):
        if self.batch:
            self.model.add_vocab(self.batch)
            self.batch = []

    def counts(self):
        """What was learned so far, as plain data for :meth:`merge` in another process:
        ``{"vocab": {word or "a b": count}, "min_reduce", "words"}``."""
        self._flush()
        return {"vocab": dict(self.model.vocab), "min_reduce": self.model.min_reduce,
                "words": self.model.corpus_word_count}

    def merge(self, counts):
        """Add another learner's :meth:`counts`, as gensim's ``add_vocab`` merges a batch:
        counts summed, and pruned past MAX_VOCABULARY."""
        from gensim import utils
        self._flush()
        model = self.model
        model.corpus_word_count += counts["words"]
        model.min_reduce = max(model.min_reduce, counts["min_reduce"])
        vocab = model.vocab
        for word, count in counts["vocab"].items():
            vocab[word] = vocab.get(word, 0) + count
        if len(vocab) > model.max_vocab_size:
            utils.prune_vocab(vocab, model.min_reduce)
            model.min_reduce += 1

    def export(self):
        """The learned phrases as sorted ``[a, b]`` pairs: gensim's ``export_phrases`` with
        its default scorer, ``(n_ab - min_count) / (n_a * n_b) * len(vocab) > threshold``,
        scored as one numpy array (gensim scores each pair in Python: 1.2 s of the commit of
        20 Newsgroups' million pairs). The same float64 operations in the same order, so
        the same pairs pass."""
        self._flush()
        model, vocab = self.model, self.model.vocab
        pairs, n_ab, n_a, n_b = [], [], [], []
        get = vocab.get
        for key, count in vocab.items():
            a, sep, b = key.partition(" ")
            if not sep:
                continue
            ca, cb = get(a, 0), get(b, 0)
            if ca > 0 and cb > 0 and count > 0:
                pairs.append(key)
                n_ab.append(count)
                n_a.append(ca)
                n_b.append(cb)
        if not pairs:
            return []
        n_ab = np.array(n_ab, dtype=np.int64)
        denom = (np.array(n_a, dtype=np.int64) * np.array(n_b, dtype=np.int64)).astype(np.float64)
        score = (n_ab - model.min_count) / denom * len(vocab)
        return sorted(pairs[i].split(" ", 1) for i in np.flatnonzero(score > model.threshold).tolist())

    def export_with_gensim(self):
        """:meth:`export` by gensim's own ``export_phrases``, for the test that they agree."""
        self._flush()
        return sorted(k.split(" ", 1) for k in self.model.export_phrases())


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
