"""What every page shares: the corpus navigation, the meaning of each figure, and the
formatting of numbers, durations, parameters and jobs.

Adding a page to a corpus's navigation is one call where its blueprint is registered::

    from web import ui
    ui.add_corpus_tab("maps", "Maps", "maps.maps_page", after="words")

the endpoint takes the corpus name as ``name``; the page template sets
``{% set nav_corpus = corpus.name %}{% set active_tab = "maps" %}``.
"""

from dataclasses import dataclass

from markupsafe import Markup, escape

from textlatent.models import LDA_PARAMS, W2V_PARAMS


@dataclass(frozen=True)
class Tab:
    key: str
    title: str
    endpoint: str


CORPUS_TABS = [
    Tab("overview", "Overview", "corpora.corpus_page"),
    Tab("topics", "Topics", "models.corpus_topics"),
    Tab("words", "Words", "words.words_page"),
    Tab("documents", "Documents", "documents.documents_page"),
]


def add_corpus_tab(key, title, endpoint, after=None):
    """Add (or replace) a tab of the corpus navigation; ``after`` is a tab key (default: last)."""
    global CORPUS_TABS
    tabs = [t for t in CORPUS_TABS if t.key != key]
    keys = [t.key for t in tabs]
    at = keys.index(after) + 1 if after in keys else len(tabs)
    tabs.insert(at, Tab(key, title, endpoint))
    CORPUS_TABS = tabs


# -- what each figure means ------------------------------------------------------------------
# name shown, what it measures, what is good or bad. Thresholds are rules of thumb for
# comparing models of one corpus, not absolute grades.
FIGURES = {
    "coherence_c_npmi": (
        "c_npmi",
        "Topic coherence: how often each topic's 10 top words occur near each other in the "
        "corpus (normalised pointwise mutual information, mean over topics).",
        "Range −1 to 1. Above 0.1 is good, around 0.05 fair; below 0 the top words seldom "
        "occur together and the topic is hard to read."),
    "coherence_u_mass": (
        "u_mass",
        "Topic coherence from how often the 10 top words share documents (Mimno et al.), "
        "mean over topics.",
        "Always 0 or below; closer to 0 is better. Below about −3 a topic mixes unrelated words. "
        "Compare models of the same corpus only."),
    "perplexity": (
        "perplexity",
        "Per-word perplexity bound on up to 5,000 training documents (2 to the power of minus "
        "gensim's log_perplexity): how surprised the model is by the words.",
        "Lower is better, but only between models with the same vocabulary; it often gets "
        "worse as topics get more readable, so prefer coherence for choosing num_topics."),
    "nmi_labels": (
        "NMI vs label",
        "Normalised mutual information between each document's dominant topic and its {field} "
        "(the label field, or the folder, given at ingest; {classes}).",
        "0 to 1, higher is better: 0 means the topics ignore the classes, 1 that they reproduce "
        "them. 0.3 to 0.5 is good when the classes are broad subjects."),
    "analogy_accuracy": (
        "analogies",
        "Share of gensim's word-analogy questions (king − man + woman = queen) answered "
        "right, among the {questions} whose words are all in the vocabulary.",
        "0 to 1. Above 0.3 is good for a corpus of a few million words; near 0 is usual "
        "below a million words, where most questions cannot be asked."),
    "wordsim353_spearman": (
        "WordSim353",
        "Spearman correlation between the vectors' cosine similarities and people's ratings "
        "of 353 word pairs ({oov}% of the pairs not in the vocabulary).",
        "−1 to 1. Above 0.5 is good, 0.35 to 0.5 usable; below 0.2 the vectors are close "
        "to noise: train more epochs or lower min_count."),
}


def figure_tip(key, metrics):
    """The tooltip of figure ``key`` of a model's ``metrics`` (a dict); a figure that could
    not be computed (``metrics["view_errors"][key]``) says why."""
    name, what, good = FIGURES[key]
    classes = metrics.get("nmi_classes")
    facts = {"field": metrics.get("nmi_field") or "label",
             "classes": f"{classes} classes" if classes else "one class a value",
             "questions": "{:,}".format(metrics.get("analogy_questions") or 0),
             "oov": fmt_num(metrics.get("wordsim353_oov_percent", 0))}
    failed = (metrics.get("view_errors") or {}).get(key)
    if failed or metrics.get(key) is None:
        good = "Not computed for this model" + (f": {failed}" if failed else ".")
    return f"{name}: {what.format(**facts)}\n{good}"


def shown_figures(model):
    """``[(key, name, value, tip)]``: the quality figures worth showing for a model."""
    m = model["metrics"] or {}
    if model["kind"] == "lda":
        keys = ["coherence_c_npmi", "coherence_u_mass", "perplexity"]
        if m.get("nmi_labels") is not None:    # measured only where labels look like classes
            keys.append("nmi_labels")
    else:
        keys = [k for k in ("analogy_accuracy", "wordsim353_spearman") if m.get(k) is not None]
    return [(k, FIGURES[k][0], "n/a" if m.get(k) is None else m.get(k), figure_tip(k, m)) for k in keys]


# -- numbers, durations, parameters ---------------------------------------------------------

def fmt_num(value, digits=4):
    """A number as a person reads it: ints with thousands separators, floats to ``digits``
    significant digits (0.27999999999999997 -> 0.28); anything else unchanged."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:
            return "n/a"
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:.{digits}g}"
    return str(value)


def fmt_duration(seconds):
    """``42 s``, ``3 min 20 s``, ``1 h 05 min``; '' for None."""
    if seconds is None:
        return ""
    s = max(0, int(round(float(seconds))))
    if s < 60:
        return f"{float(seconds):.1f} s" if float(seconds) < 10 else f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


SPECS = {"lda": LDA_PARAMS, "word2vec": W2V_PARAMS}
# The three parameters people change, in front on the training forms and in the models
# table; every other parameter sits under "advanced" and in the table's tooltip.
FRONT = {"lda": ("num_topics", "passes", "iterations"), "word2vec": ("vector_size", "epochs", "min_count")}
LABELS = {
    "num_topics": "Topics", "passes": "Passes", "iterations": "Iterations", "chunksize": "Chunk size",
    "alpha": "Alpha", "eta": "Eta", "decay": "Decay", "offset": "Offset", "seed": "Seed",
    "init": "Start", "start_weight": "Start weighting", "shuffle": "Shuffle", "workers": "Workers", "no_below": "Min. documents",
    "no_above": "Max. document share", "keep_n": "Max. vocabulary", "stoplist": "Stop words",
    "vector_size": "Dimensions", "window": "Window", "min_count": "Min. count", "epochs": "Epochs",
    "sg": "Architecture", "negative": "Negative samples", "sample": "Down-sampling",
}


def form_fields(kind):
    """``(front, advanced)``: the parameter specs of a training form, in table order."""
    spec = SPECS[kind]
    front = [next(p for p in spec if p.name == n) for n in FRONT[kind]]
    return front, [p for p in spec if p.name not in FRONT[kind]]


def params_summary(kind, params):
    """``(front text, full text)`` of a model's parameters, numbers rounded."""
    front = " · ".join(f"{n} {fmt_num(params[n])}" for n in FRONT.get(kind, ()) if n in params)
    auto = set(params.get("auto") or ())       # the values the defaults rule chose
    full = "\n".join(f"{k} = {fmt_num(v)}" + (" (chosen from the corpus)" if k in auto else "")
                     for k, v in params.items() if k != "auto")
    return front, full


# -- jobs ------------------------------------------------------------------------------------

def job_bar(job):
    """The progress bar's value: a fraction, or None for an animated (unknown) one.
    An ended job shows a full (finished) or empty (failed, cancelled) bar."""
    status = job["status"]
    if status == "finished":
        return 1.0
    if status in ("failed", "cancelled", "pending"):
        return 0.0
    return job["progress"]["fraction"]


def ingest_facts(result):
    """What an ingest did, as short phrases: ``["396 added", "48 duplicates", ...]``."""
    if not result:
        return []
    out = [f"{fmt_num(result.get('added', 0))} added"]
    for key, word in (("duplicates", "duplicates"), ("empty", "empty")):
        if result.get(key):
            out.append(f"{fmt_num(result[key])} {word} skipped")
    skipped = result.get("skipped_files")
    if skipped:
        n = len(skipped)
        out.append(f"{fmt_num(n)} file{'s' if n != 1 else ''} skipped")
    return out


def topic_name(k, labels):
    """``3 · hockey``, or ``3`` for a topic without a label."""
    label = (labels or {}).get(str(k))
    return f"{k} · {label}" if label else str(k)


def tip_attr(text):
    """``data-tip`` and ``aria-label`` attributes for an element that explains itself."""
    t = escape(text)
    return Markup(f'data-tip="{t}" aria-label="{t}" tabindex="0"')


def init_app(app):
    app.jinja_env.filters.update(num=fmt_num, duration=fmt_duration)
    app.jinja_env.globals.update(
        shown_figures=shown_figures, params_summary=params_summary, job_bar=job_bar,
        ingest_facts=ingest_facts, topic_name=topic_name, tip=tip_attr,
        param_label=lambda name: LABELS.get(name, name.replace("_", " ").capitalize()))

    @app.context_processor
    def _tabs():
        return {"corpus_tabs": CORPUS_TABS}
