"""The labelled corpora of the quality suite, built from ../shared/corpora as JSONL files
(``id``, ``text``, ``label``) that a user would ingest with ``--label-field label``.

Labels are the collections' own (newsgroup, BBC section, Reuters topic) or plain
metadata cut by fixed rules chosen before any model was trained: the six top-level
groups of 20 Newsgroups as its home page lists them, Reuters documents with exactly one
topic among the topics that have at least 100 such documents, and speeches by the
equal-width period of their year. Samples are 3,000 documents drawn with a fixed seed.
"""

import json
import os
import random

from .common import SHARED, WORK

SAMPLE = 3000

# 20 Newsgroups' six groups (http://qwone.com/~jason/20Newsgroups/).
HIERARCHY = {"comp": "computers", "rec": "recreation", "sci": "science", "misc": "forsale",
             "talk.politics": "politics", "talk.religion": "religion", "alt.atheism": "religion",
             "soc.religion": "religion"}


def _news(six=False):
    for line in open(SHARED / "20newsgroups" / "20news-bydate.jsonl", encoding="utf-8"):
        r = json.loads(line)
        label = r["label"]
        if six:
            label = next(v for k, v in HIERARCHY.items() if label.startswith(k))
        yield {"id": str(r["id"]), "text": r["text"], "label": label}


def _reuters():
    rows = [json.loads(line) for line in open(SHARED / "reuters21578" / "reuters21578.jsonl", encoding="utf-8")]
    single = [r for r in rows if len(r["topics"]) == 1 and r["text"].strip()]
    counts = {}
    for r in single:
        counts[r["topics"][0]] = counts.get(r["topics"][0], 0) + 1
    for r in single:
        if counts[r["topics"][0]] >= 100:
            yield {"id": str(r["id"]), "text": r["text"], "label": r["topics"][0]}


def _bbc():
    root = SHARED / "bbc_news"
    for label in sorted(os.listdir(root)):
        if not (root / label).is_dir():
            continue
        for f in sorted(os.listdir(root / label)):
            text = (root / label / f).read_bytes().decode("utf-8", errors="replace")
            yield {"id": f"{label}/{f}", "text": text, "label": label}


def _speeches(folder, first, last, periods=4):
    """Speech files ``YYYY-Name.txt`` labelled by which of ``periods`` equal spans of
    years ``first..last`` holds their year."""
    width = (last - first + 1) / periods
    starts = [first + round(k * width) for k in range(periods)] + [last + 1]
    root = SHARED / folder
    for f in sorted(os.listdir(root)):
        year = int(f[:4])
        k = max(i for i in range(periods) if starts[i] <= year)
        label = f"{starts[k]}-{starts[k + 1] - 1}"
        yield {"id": f, "text": (root / f).read_text(encoding="utf-8", errors="replace"), "label": label}


def _sample(rows, n=SAMPLE, seed=0):
    rows = list(rows)
    keep = sorted(random.Random(seed).sample(range(len(rows)), n)) if len(rows) > n else range(len(rows))
    return [rows[i] for i in keep]


# name -> (source collection, builder). K is the number of labels. Corpora of one source
# share documents, so leave-one-out holds a whole source out at once.
CORPORA = {
    "news20": ("20newsgroups", lambda: _news()),
    "news6": ("20newsgroups", lambda: _news(six=True)),
    "news20-3k": ("20newsgroups", lambda: _sample(_news())),
    "news6-3k": ("20newsgroups", lambda: _sample(_news(six=True))),
    "bbc": ("bbc", _bbc),
    "reuters10": ("reuters", _reuters),
    "reuters10-3k": ("reuters", lambda: _sample(_reuters())),
    "sotu-period": ("state_of_the_union", lambda: _speeches("state_of_the_union", 1945, 2006)),
    "inaugural-period": ("inaugural", lambda: _speeches("inaugural", 1789, 2021)),
}


def source(name):
    return CORPORA[name][0]


def path(name):
    """The corpus's JSONL file, written once."""
    out = WORK / "labelled" / f"{name}.jsonl"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            for r in CORPORA[name][1]():
                fh.write(json.dumps(r) + "\n")
        os.replace(tmp, out)
    return out


def num_labels(name):
    return len({json.loads(line)["label"] for line in open(path(name), encoding="utf-8")})
