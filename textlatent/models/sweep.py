"""Choosing K: one job trains an LDA model per number of topics on one vocabulary and one
bag-of-words matrix (built once), keeps every model, and records the figures to compare
them by: c_npmi, u_mass, the perplexity bound, topic diversity and NMI with the labels.

The recommended K maximises topic quality as Dieng, Ruiz and Blei (2020) define it: mean
c_npmi times topic diversity (the share of unique words among every topic's top 25), the
smaller K on a tie. Coherence alone rewards many near-duplicate topics; diversity alone
rewards noise.
"""

import math
import os
import shutil
import time
import uuid

from ..corpus import StoredCorpus
from ..errors import InvalidInput
from ..store import registry
from .coherence import OrderedTokens
from .lda import lda_vocabulary, resolve_lda, train_on, validate_lda

MAX_VALUES = 12
RULE = ("the K with the largest topic quality, mean c_npmi x topic diversity (Dieng, Ruiz & Blei 2020); "
        "the smaller K on a tie")


def num_topics_values(value):
    """The K values of a sweep from ``[5, 10, 20]``, ``"5,10,20"`` or ``"5:40:5"`` (start,
    stop and step, stop included), sorted, each once; None for a single number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, str) and ("," in value or ":" in value):
        text = value.replace(" ", "")
        if ":" in text:
            parts = text.split(":")
            try:
                start, stop, step = (int(x) for x in (parts + ["1"])[:3]) if len(parts) in (2, 3) else (0, 0, 0)
            except ValueError:
                raise InvalidInput(f"num_topics range {value[:50]!r}: write START:STOP:STEP, whole numbers, "
                                   "such as 5:40:5") from None
            if step < 1 or stop < start or len(parts) not in (2, 3):
                raise InvalidInput(f"num_topics range {value[:50]!r}: STOP at least START and STEP at least 1, "
                                   "such as 5:40:5")
            if (stop - start) // step + 1 > MAX_VALUES:
                raise InvalidInput(f"num_topics range {value[:50]!r} has {(stop - start) // step + 1} values; "
                                   f"a sweep has at most {MAX_VALUES}")
            items = list(range(start, stop + 1, step))
        else:
            items = [x for x in text.split(",")]
    else:
        return None
    if not items or any(x in ("", None) for x in items):
        raise InvalidInput("num_topics lists need at least one value, with no empty ones: 5,10,20,40")
    if len(items) > MAX_VALUES:
        raise InvalidInput(f"num_topics lists have at most {MAX_VALUES} values, not {len(items)}")
    out = []
    for x in items:
        try:
            k = int(x) if not isinstance(x, float) or x.is_integer() else None
        except (TypeError, ValueError):
            k = None
        if k is None or isinstance(x, bool):
            raise InvalidInput(f"num_topics values are whole numbers, not {str(x)[:50]!r}")
        out.append(k)
    return sorted(set(out))


def validate_sweep(params, num_docs=None):
    """Validated parameters of a sweep: those of ``validate_lda`` with ``num_topics`` a list;
    every K is checked (range, the number of documents) and all problems reported at once."""
    params = dict(params or {})
    values = num_topics_values(params.get("num_topics"))
    if values is None:
        raise InvalidInput("a sweep needs several numbers of topics: 5,10,20 or 5:40:5")
    problems, p = [], None
    for k in values:
        try:
            p = validate_lda(params | {"num_topics": k}, num_docs)
        except InvalidInput as e:
            problems.extend(x for x in e.details.get("problems", [e.message]) if x not in problems)
    if problems:
        raise InvalidInput("; ".join(problems), problems=problems)
    return p | {"num_topics": values}


def is_sweep(params):
    return num_topics_values((params or {}).get("num_topics")) is not None


def train_sweep(store, corpus_name, params, progress=None, workdir_prefix=".tmp-"):
    """Train one model per K of ``params["num_topics"]`` (see :func:`validate_sweep`) on one
    vocabulary and matrix; returns :func:`summary` of the sweep. Parameters left to the defaults
    rule are chosen once, for the median K, so that every model has the same vocabulary and
    their figures compare."""
    progress = progress or (lambda done, total, message: None)
    stored = StoredCorpus(store, corpus_name)
    p = validate_sweep(params, stored.num_docs)
    values = p["num_topics"]
    median = values[len(values) // 2]
    base = p | {"num_topics": median}
    resolve_lda(stored, base, store.workers)       # the defaults rule's choices, once, for the median K
    p = {**p, **{k: base[k] for k in base["auto"]}, "auto": base["auto"]}
    dictionary, remap = lda_vocabulary(stored, base)
    sweep_id = uuid.uuid4().hex[:12]
    shared = registry.new_workdir(store, workdir_prefix)
    try:
        progress(0, 0, "counting words (once for every K)")
        matrix = stored.bow_matrix(remap, os.path.join(shared, "bow"))
        tokens = OrderedTokens.build(stored, remap, os.path.join(shared, "ordered"))
        per_model = p["passes"] * stored.num_docs
        total = per_model * len(values)
        for i, k in enumerate(values):
            def step(done, _total, message, i=i, k=k):
                progress(i * per_model + min(done, per_model), total,
                         f"model {i + 1} of {len(values)} (K={k}): {message}")
            started = time.perf_counter()
            workdir = registry.new_workdir(store, workdir_prefix)
            try:
                one = p | {"num_topics": k}
                train_on(store, stored, one, dictionary, remap, matrix, step, workdir, started,
                         {"sweep": {"id": sweep_id, "num_topics": values}}, tokens)
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
        del matrix, tokens
    finally:
        shutil.rmtree(shared, ignore_errors=True)
    return summary(store, corpus_name, sweep_id)


def summary(store, corpus_name, sweep_id=None):
    """The corpus's sweeps (or the one ``sweep_id``), newest first: ``[{"sweep", "rule",
    "recommended": {num_topics, model_id}, "models": [{num_topics, model_id, c_npmi, u_mass,
    log_perplexity, topic_diversity, topic_quality, nmi_labels}]}]``, from the models' rows."""
    sweeps = {}
    for m in registry.list_models(store, corpus_name):
        s = (m["metrics"] or {}).get("sweep")
        if m["kind"] != "lda" or not s or (sweep_id and s["id"] != sweep_id):
            continue
        x = m["metrics"]
        npmi, diversity = x.get("coherence_c_npmi"), x.get("topic_diversity")
        quality = None if npmi is None or diversity is None else round(npmi * diversity, 5)
        sweeps.setdefault(s["id"], {"sweep": s["id"], "num_topics": s["num_topics"], "rule": RULE, "models": []})
        sweeps[s["id"]]["models"].append({
            "num_topics": m["params"]["num_topics"], "model_id": m["id"], "c_npmi": npmi,
            "u_mass": x.get("coherence_u_mass"), "log_perplexity": x.get("log_perplexity"),
            "topic_diversity": diversity, "topic_quality": quality, "nmi_labels": x.get("nmi_labels")})
    out = []
    for s in sweeps.values():
        s["models"].sort(key=lambda r: r["num_topics"])
        rated = [r for r in s["models"] if r["topic_quality"] is not None and not math.isnan(r["topic_quality"])]
        best = max(rated, key=lambda r: (r["topic_quality"], -r["num_topics"])) if rated else None
        s["recommended"] = {"num_topics": best["num_topics"], "model_id": best["model_id"]} if best else None
        out.append(s)
    out.sort(key=lambda s: -max(r["model_id"] for r in s["models"]))
    if sweep_id and not out:
        raise InvalidInput(f"no sweep {sweep_id!r} in corpus {corpus_name!r}")
    return out[0] if sweep_id else out
