"""Training: LDA (with its k-means start, the defaults it chooses from the corpus, stored
views and quality figures) and Word2Vec.

Each ``train_*`` function reads a stored corpus, trains, saves the model's arrays and
views into a temporary folder and commits it through :mod:`textlatent.store.registry`.
"""

from .lda import LDA_PARAMS, train_lda, validate_lda
from .word2vec import W2V_PARAMS, train_word2vec, validate_w2v

__all__ = ["LDA_PARAMS", "W2V_PARAMS", "train_lda", "train_word2vec", "validate_lda", "validate_w2v"]
