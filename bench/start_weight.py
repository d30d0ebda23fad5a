"""``python -m bench.start_weight [--seeds 1,2,3] [--corpora A,B] [--variants V,W]``: how
LDA's k-means start should count each document, everything else textlatent's defaults.

Variants: ``documents`` (each once, the start before 2026-12-08) and token weights capped
at a quantile of the documents' lengths (``0.75``, ``0.9``, ``1`` = uncapped;
``kmeans.LENGTH_CAP``). LDA explains tokens, so the start should weigh documents as LDA
does; the cap keeps a few very long documents from drawing centres of their own. Light
runs (``q_textlatent_light``: the topics and NMI, no stored views), NMI of each
document's dominant topic with its label. Results go to bench/results/start_weight.json.
"""

import argparse
import datetime as dt

from . import labelled
from .common import RESULTS, child, keep_runs, load_runs, machine, median

PATH = RESULTS / "start_weight.json"
VARIANTS = ("documents", "0.75", "0.9", "1")


def load():
    return load_runs(PATH, {"runs": {}})


def keep(results):
    keep_runs(PATH, results)


def run(corpora, seeds, variants):
    results = load()
    results["machine"] = machine()
    for name in corpora:
        child("q_ingest", name=name)
        k = labelled.num_labels(name)
        for seed in seeds:
            for v in variants:                      # alternating within each seed
                key = f"{name}/{v}/{seed}"
                if key in results["runs"]:
                    continue
                args = ({"params": {"start_weight": "documents"}} if v == "documents" else
                        {"params": {"start_weight": "tokens"}, "length_cap": float(v)})
                r = child("q_textlatent_light", name=name, num_topics=k, seed=seed, **args)
                results["runs"][key] = {"nmi": r["nmi"], "seconds": r["seconds"],
                                        "date": dt.date.today().isoformat()}
                keep(results)
                print(key, round(r["nmi"], 3), flush=True)
    return results


def render(results=None):
    """The BENCHMARKS.md section: per corpus and variant, the median NMI over seeds and its range."""
    results = results or load()
    if not results.get("runs"):
        return "## start_weight\n\nnot run yet.\n"
    by = {}
    for key, r in results["runs"].items():
        name, v, _ = key.split("/")
        by.setdefault(name, {}).setdefault(v, []).append(r["nmi"])
    variants = [v for v in VARIANTS if any(v in d for d in by.values())]
    lines = ["## start_weight", "", "`python -m bench.start_weight`: " + __doc__.split("\n\n")[1].replace("\n", " ")
             + f" {results['machine']['date']}, {results['machine']['cores']} cores. Median NMI over the seeds "
             "(its range over them in brackets).", "",
             "| corpus | " + " | ".join(f"`{v}`" for v in variants) + " |", "|---|" + "---|" * len(variants)]
    for name, d in by.items():
        cells = [f"{median(d[v])} (range {round(max(d[v]) - min(d[v]), 3)}, {len(d[v])} seeds)" if v in d else ""
                 for v in variants]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(prog="python -m bench.start_weight", description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--corpora", default="news6,reuters10")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    a = ap.parse_args()
    run(a.corpora.split(","), [int(s) for s in a.seeds.split(",")], a.variants.split(","))
    print(render())


if __name__ == "__main__":
    main()
