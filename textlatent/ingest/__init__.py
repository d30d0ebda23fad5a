"""Files to stored documents: reading sources, tokenizing, phrases, staging uploads.

``sources`` turns files into records, ``tokenize`` records into token lists (spaCy),
``phrases`` learns and applies bigrams, ``stoplists`` holds the topic models' stop
words, ``uploads`` stages files sent to the web service, and ``pipeline`` writes a
corpus from all of them in one transaction.
"""

from .pipeline import IngestSummary, delete_corpus, ingest, valid_corpus_name
from .sources import ReadOptions
from .tokenize import TokenizerSettings

__all__ = ["IngestSummary", "ReadOptions", "TokenizerSettings", "delete_corpus", "ingest", "valid_corpus_name"]
