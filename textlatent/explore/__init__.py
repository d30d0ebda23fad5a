"""Reading what training stored: topics, words, documents, inference on new text.

Each module reads arrays saved beside a model (memory-mapped) and rows of the store;
views that cost more than a request may spend are computed once, at training time or in a
job, and only read here.
"""
