"""``python -m bench.loco [--seeds 1,2,3] [--corpora A,B] [--candidates X,Y] [--select]``:
choose the constants of textlatent's LDA defaults rule by leave-one-corpus-out.

Each candidate is a set of constants for :func:`textlatent.models.lda_defaults.choose_defaults`;
on every labelled corpus (bench/labelled.py) it gives explicit parameters, which are
trained with 3 seeds (runs whose parameters coincide are trained once), beside the
notebook and tomotopy. Then for each source collection held out, the candidate with the
best mean rank (NMI and c_npmi, medians over seeds) on the corpora of the *other*
sources is chosen, among those that trained within 2x tomotopy's time on them, and its
figures on the held-out corpora are the held-out figures. Corpora of one source share
documents (20 Newsgroups at K=20 and K=6, its samples), so they are held out together.

Every run is kept in bench/results/quality_loco.json as it finishes.
"""

import argparse
import datetime as dt
import json
import statistics

from . import labelled
from .common import RESULTS, child, keep_runs, load_runs, median
from .quality_tasks import stats_of

PATH = RESULTS / "quality_loco.json"

VOCAB = {"drop-all": {"drop_share": 1.0}, "drop-25": {"drop_share": 0.25}, "drop-10": {"drop_share": 0.10}}
SCHEDULE = {"10-passes": {"updates": 0, "passes_min": 10, "passes_max": 10},
            "100-updates": {"updates": 100, "passes_min": 2, "passes_max": 100},
            "100-updates-30": {"updates": 100, "passes_min": 2, "passes_max": 30}}
START = {"documents": {"start_weight": "documents"}, "tokens": {"start_weight": "tokens"}}
# The first is the rule chosen on 20 Newsgroups alone (with chunks of equal size).
CANDIDATES = {f"{v}/{s}/{w}": {**VOCAB[v], **SCHEDULE[s], **START[w]} for w in START for s in SCHEDULE
              for v in VOCAB}
BASELINES = ("tomotopy", "notebook")


def load():
    return load_runs(PATH, {"runs": {}, "stats": {}})


def store(results):
    keep_runs(PATH, results)


def params_of(stats, num_topics, rule):
    """The explicit parameters candidate ``rule`` gives a corpus."""
    from textlatent.models.lda_defaults import choose_defaults
    return choose_defaults(stats, num_topics, workers=2, rule=rule)


def key_of(params):
    # Runs kept from before the start could weigh documents by their tokens counted each
    # document once, by a code path that has not changed: they keep their keys.
    if params.get("start_weight") == "documents":
        params = {k: v for k, v in params.items() if k != "start_weight"}
    return "textlatent " + json.dumps(params, sort_keys=True)


def run_corpus(results, name, candidates, seeds):
    child("q_ingest", name=name)
    k = labelled.num_labels(name)
    stats = stats_of(name)
    plans = {c: params_of(stats, k, CANDIDATES[c]) for c in candidates}
    results["stats"][name] = stats.summary() | {"num_topics": k, "source": labelled.source(name)}
    runs = results["runs"].setdefault(name, {})
    results.setdefault("plans", {}).setdefault(name, {}).update({c: key_of(p) for c, p in plans.items()})
    for seed in seeds:
        todo = [(b, None) for b in BASELINES] + [(key_of(p), p) for p in {key_of(p): p for p in plans.values()}.values()]
        for key, p in todo:
            if str(seed) in runs.get(key, {}):
                continue
            if p is None:
                r = child(f"q_{key}", name=name, num_topics=k, seed=seed)
            else:
                r = child("q_textlatent_light", name=name, num_topics=k, seed=seed, params=p)
            r["date"] = dt.date.today().isoformat()
            runs.setdefault(key, {})[str(seed)] = r
            store(results)
            print(json.dumps({"corpus": name, "run": key, "seed": seed, "seconds": round(r["seconds"], 2),
                              "nmi": r["nmi"]}), flush=True)
    missing = [(key, s) for key, by_seed in runs.items() for s, r in by_seed.items() if "c_npmi" not in r]
    if missing:
        scores = child("q_coherence", name=name, topic_sets=[runs[key][s]["topics"] for key, s in missing])
        for (key, s), c in zip(missing, scores):
            runs[key][s].update(c)
        store(results)


def figures(results, name, key):
    """Medians over seeds of a corpus's runs under ``key``: nmi, c_npmi, seconds, nmi_range."""
    by_seed = results["runs"].get(name, {}).get(key, {})
    if not by_seed:
        return None
    rs = list(by_seed.values())
    nmis = [r["nmi"] for r in rs]
    return {"seeds": sorted(int(s) for s in by_seed), "nmi": median(nmis),
            "c_npmi": median([r["c_npmi"] for r in rs if "c_npmi" in r]),
            "seconds": median([r["seconds"] for r in rs]), "nmi_range": round(max(nmis) - min(nmis), 4)}


def _ranks(values):
    """Rank 1 for the highest; ties share their mean rank."""
    return [sum(1 for x in values if x > v) + (sum(1 for x in values if x == v) + 1) / 2 for v in values]


def choose(results, corpora, candidates):
    """The candidate of best mean rank over ``corpora`` (NMI and c_npmi), among those that
    trained in at most 2x tomotopy's median time on each; ``(name, scores)``."""
    table = {c: [figures(results, n, results["plans"][n][c]) for n in corpora] for c in candidates}
    tomo = [figures(results, n, "tomotopy") for n in corpora]
    eligible = [c for c in candidates
                if all(t is None or f["seconds"] <= 2 * t["seconds"] for f, t in zip(table[c], tomo))]
    eligible = eligible or list(candidates)
    scores = {c: [] for c in eligible}
    for i in range(len(corpora)):
        for metric in ("nmi", "c_npmi"):
            ranks = _ranks([table[c][i][metric] for c in eligible])
            for c, r in zip(eligible, ranks):
                scores[c].append(r)
    mean = {c: round(statistics.mean(v), 3) for c, v in scores.items()}
    best = min(eligible, key=lambda c: (mean[c], list(candidates).index(c)))
    return best, mean


def select(results):
    corpora = [n for n in labelled.CORPORA if n in results["runs"]]
    candidates = [c for c in CANDIDATES if all(c in results["plans"].get(n, {}) for n in corpora)]
    folds = {}
    for src in dict.fromkeys(labelled.source(n) for n in corpora):
        held = [n for n in corpora if labelled.source(n) == src]
        train = [n for n in corpora if n not in held]
        best, scores = choose(results, train, candidates)
        folds[src] = {"held_out": held, "chosen": best, "scores": scores,
                      "figures": {n: figures(results, n, results["plans"][n][best]) for n in held}}
    best, scores = choose(results, corpora, candidates)
    results["selection"] = {"date": dt.date.today().isoformat(), "candidates": {c: CANDIDATES[c] for c in candidates},
                            "folds": folds, "all_corpora": {"chosen": best, "scores": scores}}
    store(results)
    return results["selection"]


def main():
    ap = argparse.ArgumentParser(prog="python -m bench.loco", description=__doc__)
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--corpora", default=",".join(labelled.CORPORA))
    ap.add_argument("--candidates", default=",".join(CANDIDATES))
    ap.add_argument("--select", action="store_true", help="only choose, from the runs kept")
    args = ap.parse_args()
    results = load()
    if not args.select:
        seeds = [int(s) for s in args.seeds.split(",")]
        for name in args.corpora.split(","):
            run_corpus(results, name, args.candidates.split(","), seeds)
    sel = select(results)
    print(json.dumps({src: {"chosen": f["chosen"], "figures": f["figures"]} for src, f in sel["folds"].items()},
                     indent=1))
    print("all corpora:", sel["all_corpora"]["chosen"])


if __name__ == "__main__":
    main()


def render(results):
    """The BENCHMARKS.md section of the leave-one-out runs and choices."""
    sel = results.get("selection")
    if not sel:
        return "## lda_defaults_loco\n\nnot run yet.\n"
    cands = list(sel["candidates"])
    corpora = [n for n in labelled.CORPORA if n in results["runs"]]
    lines = ["## lda_defaults_loco", "",
             f"`python -m bench.loco` ({sel['date']}): the constants of the LDA defaults rule "
             "(textlatent/models/lda_defaults.py) chosen by leave-one-source-out. For each source held out, "
             "the candidate of best mean rank (NMI and c_npmi, medians of seeds 1-3) on the other sources' "
             "corpora, among those that trained within 2x tomotopy's time there; its figures on the held-out "
             "corpora are the held-out figures. Tuning runs skip the stored views (same training). "
             + (sel["note"] + " " if sel.get("note") else "") +
             "Candidates: " + ", ".join(f"`{c}` {json.dumps(sel['candidates'][c])}" for c in cands) + ".", "",
             "| held out | chosen without it | corpus | NMI | c_npmi | train s | NMI tomotopy | c_npmi tomotopy "
             "| NMI notebook |", "|---|---|---|---|---|---|---|---|---|"]
    for src, fold in sel["folds"].items():
        for name, f in fold["figures"].items():
            tomo, nb = figures(results, name, "tomotopy") or {}, figures(results, name, "notebook") or {}
            lines.append(f"| {src} | `{fold['chosen']}` | {name} | {f['nmi']} | {f['c_npmi']} | {f['seconds']} "
                         f"| {tomo.get('nmi')} | {tomo.get('c_npmi')} | {nb.get('nmi')} |")
    lines += ["", f"Chosen on all corpora: `{sel['all_corpora']['chosen']}`. Every candidate's medians "
              "(NMI / c_npmi / train s):", "",
              "| candidate | " + " | ".join(corpora) + " |", "|---|" + "---|" * len(corpora)]
    for c in cands + ["tomotopy", "notebook"]:
        cells = []
        for n in corpora:
            key = results["plans"][n][c] if c in sel["candidates"] else c
            f = figures(results, n, key)
            cells.append(f"{f['nmi']} / {f['c_npmi']} / {f['seconds']}" if f else "")
        lines.append(f"| `{c}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
