"""A held-out check of the LDA defaults: labelled documents that no choice of the rule saw."""

import json
import random

import pytest

from textlatent.ingest import ReadOptions, ingest
from textlatent.models import train_lda
from textlatent.store import registry

from .conftest import shared


def reuters_minor_topics(path, n=1000, seed=15):
    """``n`` Reuters-21578 documents with exactly one topic, of the topics that have 20 to
    99 such documents (the rule was chosen on those of 100 or more; bench/labelled.py)."""
    rows = [json.loads(line) for line in open(shared("reuters21578", "reuters21578.jsonl"), encoding="utf-8")]
    single = [r for r in rows if len(r["topics"]) == 1 and r["text"].strip()]
    counts = {}
    for r in single:
        counts[r["topics"][0]] = counts.get(r["topics"][0], 0) + 1
    minor = [r for r in single if 20 <= counts[r["topics"][0]] < 100]
    sample = random.Random(seed).sample(minor, min(n, len(minor)))
    with open(path, "w", encoding="utf-8") as fh:
        for r in sample:
            fh.write(json.dumps({"id": str(r["id"]), "text": r["text"], "label": r["topics"][0]}) + "\n")
    return sample


@pytest.mark.slow
def test_defaults_beat_the_notebook_on_a_held_out_labelled_sample(config, tmp_path):
    from bench.quality_tasks import notebook_lda, notebook_tokenize

    sample = reuters_minor_topics(tmp_path / "minor.jsonl")
    assert len(sample) == 1000
    ingest(config, "minor", [str(tmp_path / "minor.jsonl")], ReadOptions(label_field="label"))
    k = len({r["topics"][0] for r in sample})
    _, model = registry.get_model(config, train_lda(config, "minor", {"num_topics": k}))
    ours = model["metrics"]["nmi_labels"]
    notebook = notebook_lda(notebook_tokenize([r["text"] for r in sample]), [r["topics"][0] for r in sample],
                            k, seed=1)["nmi"]
    assert ours > notebook, (ours, notebook)
