"""textlatent: topic models and word vectors for a corpus, from files to views.

Data flows one way: files -> documents -> token streams -> bag-of-words -> models
-> precomputed views (topic tables, pyLDAvis data, nearest neighbours) -> exports.
"""

__version__ = "0.1.0"
