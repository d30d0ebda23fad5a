"""Word2Vec epochs and min_count against corpus size: the runs behind the "auto" defaults.

    nice -n 10 python -m bench.w2v_defaults [--corpora sample,bbc,news,gutenberg] [--seeds 1,2,3]

Each corpus is ingested once by textlatent (its default tokenizer) under the bench's work
folder; then textlatent's Word2Vec is trained with each (epochs, min_count) of its grid
and with the defaults left unset ("auto"), every other parameter at its default and
2 workers, seeds as given. Each run records WordSim353 (Spearman) and the analogy accuracy
on the test files gensim ships, the mean cosine of the 10 nearest neighbours of the 200
most frequent words (near 1: degenerate vectors), the vocabulary and the training time.
Medians over the seeds go to bench/results/w2v_defaults.json (every run kept beside them).
"""

import argparse
import json
import statistics
import time

from bench.common import GUTENBERG, NEWS, ROOT, SHARED, WORK, save

# (epochs, min_count) per corpus: the old defaults (5, 5), the demo's (20, 3), and what
# the rule picks; gutenberg8 (19 M words) runs minutes per epoch on 2 cores, once.
GRIDS = {
    "sample": [(5, 5), (20, 3), (40, 3), (40, 5)],
    "bbc": [(5, 5), (10, 5), (20, 3), (20, 5), (40, 5)],
    "news": [(5, 5), (10, 5)],
    "gutenberg": [(5, 5)],
}
ONE_SEED = ("news", "gutenberg")
FIGURES = ("wordsim353_spearman", "analogy_accuracy", "mean_top10_cosine", "vocabulary", "train_seconds")


def _home(name):
    from textlatent.settings import load_settings
    from textlatent.store import Store
    return Store(load_settings(home=str(WORK / f"w2v-{name}"), workers=2))


def _gutenberg_jsonl():
    path = WORK / "gutenberg8-1000.jsonl"
    if not path.exists():
        words = open(GUTENBERG, encoding="utf-8").read().split()
        with open(path, "w", encoding="utf-8") as out:
            for i in range(0, len(words), 1000):
                out.write(json.dumps({"id": str(i // 1000), "text": " ".join(words[i:i + 1000])}) + "\n")
    return path


def corpus(name):
    """The config of an ingested corpus ``name`` (ingested on first use) and its token count."""
    from textlatent.ingest import ReadOptions, ingest
    from textlatent.store import queries as db
    config = _home(name)
    with config.read() as conn:
        row = db.find_corpus(conn, name)
    if row is None:
        source, options = {
            "sample": (ROOT / "corpora" / "sample", ReadOptions(split="paragraphs")),   # as the demo
            "bbc": (SHARED / "bbc_news", ReadOptions()),
            "news": (NEWS, ReadOptions(label_field="label")),
            "gutenberg": (None, ReadOptions()),
        }[name]
        source = source or _gutenberg_jsonl()
        t = time.perf_counter()
        s = ingest(config, name, [str(source)], options)
        print(f"{name}: ingested {s.documents:,} documents, {s.tokens:,} tokens in {time.perf_counter() - t:.0f} s",
              flush=True)
        with config.read() as conn:
            row = db.find_corpus(conn, name)
    return config, row["n_tokens"], row["n_docs"]


def run(config, name, params):
    from textlatent.models import train_word2vec
    from textlatent.store import registry
    model_id = train_word2vec(config, name, dict(params, workers=2))
    _, model = registry.get_model(config, model_id)
    m = model["metrics"]
    return {**{k: m.get(k) for k in FIGURES}, "epochs": model["params"]["epochs"],
            "min_count": model["params"]["min_count"], "seed": model["params"]["seed"],
            "warnings": len(m.get("warnings") or [])}


def medians(runs):
    out = {}
    for k in FIGURES:
        values = [r[k] for r in runs if r.get(k) is not None]
        out[k] = round(statistics.median(values), 4) if values else None
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpora", default="sample,bbc,news,gutenberg")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--only", help="run only this cell of each grid, e.g. auto (the others are kept)")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    path = ROOT / "bench" / "results" / "w2v_defaults.json"
    result = json.loads(path.read_text()) if path.exists() else {}
    corpora = result.get("corpora", {})
    for name in args.corpora.split(","):
        config, n_tokens, n_docs = corpus(name)
        entry = corpora.setdefault(name, {"grid": {}})
        entry.update(tokens=n_tokens, documents=n_docs)
        cells = [(f"epochs={e} min_count={m}", {"epochs": e, "min_count": m}) for e, m in GRIDS[name]]
        cells.append(("auto", {}))
        for label, params in cells:
            if args.only and label != args.only:
                continue
            # the two large corpora's runs take minutes each: one seed
            runs = [run(config, name, dict(params, seed=s)) for s in (seeds[:1] if name in ONE_SEED else seeds)]
            entry["grid"][label] = {"median": medians(runs), "runs": runs}
            print(name, label, entry["grid"][label]["median"], flush=True)
            save("w2v_defaults", {"conditions": __doc__.split("\n\n")[2].replace("\n", " ").strip(),
                                  "corpora": corpora})


if __name__ == "__main__":
    main()
