"""Benchmarks: textlatent against the notebook it replaces, side by side.

Run ``python -m bench all`` (or one name; ``--quick`` for a smoke run). Every timed run
happens in a child process of its own (clean peak RSS, no warm caches shared between
systems); systems alternate within each repetition, and the figures are medians.
Results go to bench/results/<name>.json and the table in BENCHMARKS.md.
"""
