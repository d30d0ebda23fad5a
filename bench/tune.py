"""``python -m bench.tune [--seeds 1,2,3] [NAME...]``: textlatent's LDA on 20 Newsgroups
under several settings, to choose the defaults from figures (train seconds, NMI with the
labels, c_npmi on the model's own tokens). Results accumulate in
bench/results/lda_tuning.json, one entry per candidate and seed, with the date."""

import argparse
import datetime as dt
import json

from .__main__ import Run
from .common import RESULTS, child, median, save

BASE = {"no_above": 0.2, "keep_n": 20000}   # the defaults of 2026-11-23

# Each candidate's parameters in full, as they were run (the defaults changed between runs).
CANDIDATES = {
    "defaults": {},
    # Vocabulary filters, random start (2026-11-23; chose no_above 0.2 and keep_n 20k then).
    "no_above 0.5, keep_n 100k": {"no_above": 0.5, "keep_n": 100000, "init": "random", "shuffle": False},
    "no_above 0.2, keep_n 20k": {**BASE, "init": "random", "shuffle": False},
    "chunks 500": {**BASE, "chunksize": 500, "init": "random", "shuffle": False},
    "6 passes": {**BASE, "passes": 6, "init": "random", "shuffle": False},
    "alpha asymmetric": {**BASE, "alpha": "asymmetric", "init": "random", "shuffle": False},
    # Starting point (2026-11-24): k-means against gensim's random start, shuffled passes.
    "random start": {**BASE, "init": "random"},
    "k-means start": {**BASE},
    "k-means start, corpus order": {**BASE, "shuffle": False},
    # Then, from the k-means start: vocabulary, passes, eta.
    "15 passes": {**BASE, "passes": 15},
    "no_above 0.1": {"no_above": 0.1, "keep_n": 20000},
    "no_above 0.1, eta 0.01": {"no_above": 0.1, "keep_n": 20000, "eta": 0.01},
    "no_above 0.1, keep_n 10k": {"no_above": 0.1, "keep_n": 10000},
    "no_above 0.1, keep_n 10k, 15 passes": {"no_above": 0.1, "keep_n": 10000, "passes": 15},
    "no_above 0.1, keep_n 10k, eta 0.01": {"no_above": 0.1, "keep_n": 10000, "eta": 0.01},
    "no_above 0.1, keep_n 5k": {"no_above": 0.1, "keep_n": 5000},
    # The defaults chosen (k-means start, no_above 2/K, keep_n 10k) against a random start,
    # after the lemma fix and with greedy k-means++ seeding.
    "defaults, random start": {"init": "random"},
    "alpha auto (LdaModel, one process)": {"alpha": "auto"},
    # Then the SMART stop list, sign-offs stripped at ingest, four k-means restarts; and
    # no_above chosen again (auto: 1.4/K, at least 0.07).
    "no_above 0.1, SMART stop list": {"no_above": 0.1},
    "no_above 0.05, SMART stop list": {"no_above": 0.05},
    "defaults, no stop list": {"stoplist": "none"},
}


def main():
    ap = argparse.ArgumentParser(prog="python -m bench.tune")
    ap.add_argument("--seeds", default="1", help="comma-separated seeds (default 1)")
    ap.add_argument("names", nargs="*", help=f"candidates (default all): {', '.join(CANDIDATES)}")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    path = RESULTS / "lda_tuning.json"
    out = json.loads(path.read_text()).get("candidates", {}) if path.exists() else {}
    bench_run = Run(quick=False, reps=1)
    home = bench_run.news_home()
    names = args.names or list(CANDIDATES)
    fresh = {}
    for name in names:
        params = CANDIDATES[name]
        for seed in seeds:
            r = child("lda_textlatent", home=home, name="news", seed=seed, params=params)
            fresh[name, seed] = {"seed": seed, "date": dt.date.today().isoformat(), "seconds": r["seconds"],
                                 "nmi": r["nmi"], "c_npmi_own_tokens": r["own_c_npmi"], "topics": r["topics"]}
            print(json.dumps({name: {k: v for k, v in fresh[name, seed].items() if k != "topics"}}), flush=True)
    # One coherence run for all: building the common reference takes minutes.
    keys = list(fresh)
    coh = child("coherence", src=bench_run.news, home=home, name="news",
                systems={"all": [fresh[k]["topics"] for k in keys]})["all"]
    for k, c in zip(keys, coh):
        fresh[k]["c_npmi"] = c["c_npmi"]
        print(json.dumps({k[0]: {"seed": k[1], "c_npmi": c["c_npmi"]}}), flush=True)
    for name in names:
        entry = out.setdefault(name, {"runs": []})
        entry["params"] = CANDIDATES[name]
        runs = [x for x in entry.get("runs", []) if x.get("seed") not in seeds] + \
            [fresh[name, seed] for seed in seeds]
        entry["runs"] = runs
        entry["median"] = {k: median([x[k] for x in runs if k in x])
                           for k in ("seconds", "nmi", "c_npmi_own_tokens", "c_npmi")}
    save("lda_tuning", {"conditions": "20 Newsgroups, K=20, 2 workers; c_npmi_own_tokens on textlatent's "
                                      "own tokens (the model's vocabulary), c_npmi on the reference of "
                                      "`python -m bench lda`; defaults as of each run's date",
                        "candidates": out})

if __name__ == "__main__":
    main()
