"""``python -m bench.same_text [--seeds 1,2,3] [--corpora A,B]``: textlatent's LDA defaults
against the notebook and tomotopy, each reading the *same text*.

The quality suite gives the baselines the corpus's raw rows, as the issue's protocol
says. On 20 Newsgroups those hold each post's e-mail headers (the newsgroup's own name in
Newsgroups:, the thread's Subject:, the sender's address and Organization:), quoted
replies from the same thread and signatures, which textlatent's tokenizer removes by
default (``--email auto``): words that name the label without saying what a post is
about. Here the notebook and tomotopy tokenize the text textlatent reads
(``quality_tasks.same_text``), everything else as in the suite: same seeds, c_npmi of
every side's topics on the suite's reference. Results go to bench/results/same_text.json.
"""

import argparse
import datetime as dt

from . import labelled
from .common import RESULTS, child, keep_runs, load_runs, machine, median

PATH = RESULTS / "same_text.json"
CORPORA = ("news20", "news6", "news20-3k", "news6-3k")


def load():
    return load_runs(PATH, {"runs": {}})


def keep(results):
    keep_runs(PATH, results)


def run(corpora, seeds):
    results = load()
    results["machine"] = machine()
    for name in corpora:
        child("q_ingest", name=name)
        k = labelled.num_labels(name)
        for seed in seeds:
            key = f"{name}/{seed}"
            if key in results["runs"]:
                continue
            r = {"textlatent": child("q_textlatent_light", name=name,
                                     num_topics=k, seed=seed),
                 "notebook (same text)": child("q_notebook", name=name,
                                               num_topics=k, seed=seed, stripped=True),
                 "tomotopy (same text)": child("q_tomotopy", name=name,
                                               num_topics=k, seed=seed, stripped=True),
                 "tomotopy (raw rows)": child("q_tomotopy", name=name,
                                              num_topics=k, seed=seed)}
            npmi = child("q_coherence", name=name,
                         topic_sets=[v["topics"] for v in r.values()])
            for v, c in zip(r.values(), npmi):
                v["c_npmi"] = c["c_npmi"] if isinstance(c, dict) else c
                v.pop("topics", None)
            r["date"] = dt.date.today().isoformat()
            results["runs"][key] = r
            keep(results)
            print(key, {s: round(v["nmi"], 3) for s, v in r.items() if isinstance(v, dict)}, flush=True)
    return results


SYSTEMS = ("textlatent", "notebook (same text)", "tomotopy (same text)", "tomotopy (raw rows)")


def render(results=None):
    """The BENCHMARKS.md section: medians over seeds per corpus and system."""
    results = results or load()
    if not results.get("runs"):
        return "## same_text\n\nnot run yet.\n"
    by = {}
    for key, r in results["runs"].items():
        by.setdefault(key.split("/")[0], []).append(r)
    lines = ["## same_text", "", "`python -m bench.same_text`: " + __doc__.split("\n\n")[1].replace("\n", " ")
             + f" {results['machine']['date']}, {results['machine']['cores']} cores; medians over the seeds run "
             "(NMI / c_npmi / train s); tomotopy on the raw rows is the suite's baseline, run again beside. "
             + results.get("note", ""), "",
             "| corpus | seeds | " + " | ".join(SYSTEMS) + " |", "|---|---|" + "---|" * len(SYSTEMS)]
    for name, runs in by.items():
        cells = []
        for s in SYSTEMS:
            vals = [r[s] for r in runs if s in r]
            cells.append(f"{median([v['nmi'] for v in vals])} / {median([v['c_npmi'] for v in vals])} / "
                         f"{median([v['seconds'] for v in vals])}")
        lines.append(f"| {name} | {len(runs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(prog="python -m bench.same_text", description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--corpora", default=",".join(CORPORA))
    a = ap.parse_args()
    run(a.corpora.split(","), [int(s) for s in a.seeds.split(",")])
    print(render())


if __name__ == "__main__":
    main()
