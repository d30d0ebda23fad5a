"""``python -m bench.tune``: textlatent's LDA on 20 Newsgroups under several settings,
to choose the defaults from figures (train seconds, NMI with the labels, c_npmi).
Results: bench/results/lda_tuning.json."""

import json
import sys

from .__main__ import Run
from .common import child, save

CANDIDATES = {
    "defaults": {},
    "no_above 0.2, keep_n 20k": {"no_above": 0.2, "keep_n": 20000},
    "no_above 0.2, keep_n 20k, chunks 500": {"no_above": 0.2, "keep_n": 20000, "chunksize": 500},
    "no_above 0.2, keep_n 20k, 6 passes": {"no_above": 0.2, "keep_n": 20000, "passes": 6},
    "no_above 0.2, keep_n 20k, alpha asymmetric": {"no_above": 0.2, "keep_n": 20000, "alpha": "asymmetric"},
    "no_above 0.1, keep_n 10k": {"no_above": 0.1, "keep_n": 10000},
}


def main():
    names = sys.argv[1:] or list(CANDIDATES)
    run = Run(quick=False, reps=1)
    home = run.news_home()
    out = {}
    for name in names:
        r = child("lda_textlatent", home=home, name="news", seed=1, params=CANDIDATES[name])
        out[name] = {"params": CANDIDATES[name], "seconds": r["seconds"], "nmi": r["nmi"],
                     "c_npmi_own_tokens": r["own_c_npmi"], "topics": r["topics"]}
        print(json.dumps({name: {k: v for k, v in out[name].items() if k != "topics"}}), flush=True)
    save("lda_tuning", {"conditions": "20 Newsgroups, K=20, seed 1, 2 workers; c_npmi on textlatent's own "
                                      "tokens (the model's vocabulary)", "candidates": out})


if __name__ == "__main__":
    main()
