"""Bigram phrases: learned with gensim ``Phrases`` per corpus, stored as plain pairs.

Stored as ``[[a, b], ...]`` rather than a pickled gensim object, so a corpus's phrases
can be read back without unpickling anything.
"""

from gensim.models.phrases import Phrases

# Words and word pairs the learner counts at most (gensim's docs: about 90 bytes each): past
# it, gensim drops the rarest, which a phrase (at least phrase_min_count times) outlives, so
# the learner's memory stops growing with the corpus (20 Newsgroups whole needs 1.08 M).
MAX_VOCABULARY = 2_000_000


class PhraseLearner:
    def __init__(self, settings):
        # Stop words are already gone, so no connector words; a space delimiter cannot
        # occur inside a token, so exported phrases split back into their two words.
        self.model = Phrases(min_count=settings.phrase_min_count, threshold=settings.phrase_threshold,
                             delimiter=" ", connector_words=frozenset(), max_vocab_size=MAX_VOCABULARY)
        self.batch = []

    def add(self, tokens):
        self.batch.append(tokens)
        if len(self.batch) >= 2000:
            self._flush()

    def _flush(self):
        if self.batch:
            self.model.add_vocab(self.batch)
            self.batch = []

    def export(self):
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
