"""``python -m bench quality``: topic quality on every labelled corpus (bench/labelled.py),
textlatent's defaults against the notebook and tomotopy, 3 seeds, in one run.

textlatent is run as a user runs it: ingest with the label field, ``train_lda`` with
nothing but K (the number of labels) and the seed. The systems alternate within each
seed. NMI is between each document's dominant topic and its label; c_npmi is scored on
one reference per corpus (see ``bench.quality_tasks.q_coherence``). The held-out column
comes from ``python -m bench.loco``: the figures, on each corpus, of the rule chosen
without that corpus's source.
"""

import datetime as dt
import json

from . import labelled
from .common import RESULTS, child, median, save

SYSTEMS = ("textlatent", "notebook", "tomotopy")
NEWS_TODAY = {"nmi": 0.472, "c_npmi": 0.135}      # bench lda of 2026-11-24 (issue 15)


def run_quality(run):
    seeds = [1] if run.quick else [1, 2, 3]
    names = ["news20-3k", "bbc", "inaugural-period"] if run.quick else list(labelled.CORPORA)
    out = {"conditions": _conditions(seeds), "corpora": _resumed(seeds)}
    for name in names:
        if name in out["corpora"]:
            continue
        child("q_ingest", name=name)
        k = labelled.num_labels(name)
        runs = {s: [] for s in SYSTEMS}
        for i, seed in enumerate(seeds):
            for system in SYSTEMS[i % 3:] + SYSTEMS[:i % 3]:
                task = "q_textlatent" if system == "textlatent" else f"q_{system}"
                runs[system].append(child(task, name=name, num_topics=k, seed=seed) | {"seed": seed})
        sets = [r["topics"] for s in SYSTEMS for r in runs[s]]
        scores = iter(child("q_coherence", name=name, topic_sets=sets))
        for s in SYSTEMS:
            for r in runs[s]:
                r.update(next(scores))
        out["corpora"][name] = _summarise(name, k, runs)
        save("quality", {**out, "partial": True, "seeds": seeds})     # kept as each corpus finishes
        print(json.dumps({name: {s: {m: out["corpora"][name][s][m] for m in ("nmi", "c_npmi", "seconds")}
                                 for s in SYSTEMS}}), flush=True)
    out["held_out"] = held_out()
    out["targets"] = targets(out)
    return out


def _resumed(seeds):
    """The corpora of today's interrupted run with the same seeds, to carry on from."""
    path = RESULTS / "quality.json"
    if not path.exists():
        return {}
    r = json.loads(path.read_text())
    same = r.get("partial") and r.get("seeds") == seeds and r["machine"]["date"] == dt.date.today().isoformat()
    return r["corpora"] if same else {}


def _conditions(seeds):
    return (f"seeds {seeds}, K = the number of labels; textlatent: ingest with the label field, train_lda "
            "with its defaults (chosen from the corpus; the values are in the runs), 2 workers; notebook: "
            "simple_preprocess, gensim stop words, Phrases bigrams, filter_extremes(5, 0.5), "
            "LdaModel(alpha='auto', passes=10); tomotopy: LDAModel(min_df=5) on the notebook's tokens, "
            "1,000 iterations, 2 workers. Seconds: the training call. c_npmi: gensim CoherenceModel, top 10 "
            "words, on each document's textlatent tokens followed by the notebook's")


def _summarise(name, k, runs):
    stats = child("q_corpus_stats", name=name)
    out = {"source": labelled.source(name), "num_topics": k, "stats": stats}
    for s, rs in runs.items():
        nmis = [r["nmi"] for r in rs]
        out[s] = {"nmi": median(nmis), "c_npmi": median([r["c_npmi"] for r in rs]),
                  "seconds": median([r["seconds"] for r in rs]), "nmi_range": round(max(nmis) - min(nmis), 4),
                  "runs": [{k_: v for k_, v in r.items() if k_ != "topics"} for r in rs],
                  "topics_seed1": rs[0]["topics"]}
    return out


def held_out():
    """Per corpus, the figures of the rule chosen with its source left out (bench.loco)."""
    path = RESULTS / "quality_loco.json"
    if not path.exists():
        return {}
    sel = json.loads(path.read_text()).get("selection", {})
    out = {}
    for src, fold in sel.get("folds", {}).items():
        for name, f in fold["figures"].items():
            out[name] = {"chosen": fold["chosen"], **(f or {})}
    return out


def targets(out):
    met = {}
    for name, c in out["corpora"].items():
        t, nb, tomo = c["textlatent"], c["notebook"], c["tomotopy"]
        met[f"{name}: NMI >= tomotopy"] = t["nmi"] >= tomo["nmi"]
        met[f"{name}: NMI >= 1.15 x notebook"] = t["nmi"] >= 1.15 * nb["nmi"]
        met[f"{name}: c_npmi >= tomotopy"] = t["c_npmi"] >= tomo["c_npmi"]
        met[f"{name}: train <= 2 x tomotopy"] = t["seconds"] <= 2 * tomo["seconds"]
        met[f"{name}: NMI range over seeds <= 0.04"] = t["nmi_range"] <= 0.04
    if "news20" in out["corpora"]:
        t = out["corpora"]["news20"]["textlatent"]
        met["news20: NMI >= 0.472 (bench lda, 2026-11-24)"] = t["nmi"] >= NEWS_TODAY["nmi"]
        met["news20: c_npmi >= 0.135 (bench lda's reference)"] = t["c_npmi"] >= NEWS_TODAY["c_npmi"]
    return met


def render(r):
    """The BENCHMARKS.md section of a quality result."""
    m = r["machine"]
    lines = ["## quality", "",
             f"{m['date']}, {m['cores']} cores, Python {m['python']}, gensim {m['gensim']}"
             f"{' (quick run)' if r.get('quick') else ''}. `python -m bench quality`; every run in "
             "bench/results/quality.json. Medians of the seeds; held out: the rule chosen by "
             "`python -m bench.loco` without the corpus's source (its light runs, same seeds).", "",
             f"Conditions: {r['conditions']}", "",
             "| corpus | docs | K | mean length | NMI textlatent | **NMI held out** | NMI notebook | NMI tomotopy "
             "| c_npmi textlatent | **c_npmi held out** | c_npmi notebook | c_npmi tomotopy | train s textlatent "
             "| train s tomotopy | NMI range |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    held = r.get("held_out", {})
    for name, c in r["corpora"].items():
        t, nb, tomo, h = c["textlatent"], c["notebook"], c["tomotopy"], held.get(name, {})
        lines.append(f"| {name} | {c['stats']['documents']:,} | {c['num_topics']} | {c['stats']['mean_length']} "
                     f"| {t['nmi']} | **{h.get('nmi', '')}** | {nb['nmi']} | {tomo['nmi']} "
                     f"| {round(t['c_npmi'], 4)} | **{h.get('c_npmi', '')}** | {round(nb['c_npmi'], 4)} "
                     f"| {round(tomo['c_npmi'], 4)} | {t['seconds']} | {tomo['seconds']} | {t['nmi_range']} |")
    lines += ["", "| target | met |", "|---|---|"]
    lines += [f"| {k} | {'yes' if ok else '**no**'} |" for k, ok in r.get("targets", {}).items()]
    return "\n".join(lines) + "\n"
