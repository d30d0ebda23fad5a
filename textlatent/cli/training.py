"""Commands about models: train, models, topics, infer, similar, export."""

import sys
import time

import click

from ..jobs.kinds import KINDS, MODEL_KINDS
from .base import Bar, cli, emit, store_of


def _param_options(spec):
    def decorate(f):
        for p in reversed(spec):
            f = click.option("--" + p.name.replace("_", "-"), p.name, default=None,
                             help=f"{p.help} ({p.describe()}"
                                  f"{'' if p.default is None else f'; default {p.default}'}).")(f)
        return f
    return decorate


@cli.group()
def train():
    """Train a model: lda (topics) or word2vec (word vectors)."""


def _train(ctx, fn, corpus, params, quiet, as_json, unit, no_map, name):
    from ..explore.maps import after_training
    from ..jobs.kinds import map_choice
    store = store_of(ctx)
    method = map_choice(store, False if no_map else None)      # a bad map_method setting fails first
    bar = Bar(quiet, unit, f"train {name} {corpus}")
    t = time.perf_counter()
    try:
        model_id = fn(store, corpus, {k: v for k, v in params.items() if v is not None}, progress=bar)
        trained = time.perf_counter() - t
        # A K sweep makes no maps, as its job does not: open the recommended model's map on request.
        made = [] if isinstance(model_id, dict) else after_training(store, model_id, method, progress=bar)
    finally:
        bar.close()
    if isinstance(model_id, dict):         # a sweep over several numbers of topics
        emit(model_id, as_json, _sweep_text)
        return
    from ..store import registry
    _, model = registry.find_model(store, corpus, model_id)
    emit(_model_json(model) | {"maps": made}, as_json, lambda m: click.echo(
        f"model {m['id']} ({m['kind']}) trained in {trained:.1f} s\n" + _metrics_line(m)
        + "".join(f"\n{map_line(x)}" for x in made)))


def map_line(m):
    """One line about a map made (or not): what, method, seconds, faithfulness."""
    if "error" in m:
        return f"{m['what']} map ({m['method']}) not made: {m['error']}"
    f = m["faithfulness"]
    return (f"{m['what']} map ({m['method']}, {m['n']:,} points) in {m['seconds']:.1f} s: "
            f"{f['neighbours_kept']} of each point's {f['k']} nearest neighbours kept, "
            f"trustworthiness {f['trustworthiness']}")


def _train_command(kind):
    """``textlatent train KIND CORPUS``, its options from the kind's parameter table."""
    @click.argument("corpus")
    @_param_options(kind.params)
    @click.option("--no-map", is_flag=True, help="Make no map after training (default: the map_method setting).")
    @click.option("--quiet", "-q", is_flag=True)
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def command(ctx, corpus, no_map, quiet, as_json, **params):
        _train(ctx, kind.train, corpus, params, quiet, as_json, "epochs" if kind.name == "word2vec" else "docs",
               no_map, kind.name)
    command.__doc__ = f"{kind.summary}\n\n    \b\n    Example:\n        {kind.example}\n    "
    return train.command(kind.name)(command)


for _kind in MODEL_KINDS:
    _train_command(KINDS[_kind])


def _sweep_text(s):
    click.echo(f"{'K':>4} {'model':>6} {'c_npmi':>8} {'u_mass':>8} {'bound':>8} {'diversity':>9} {'quality':>8}"
               + ("  NMI" if any(r["nmi_labels"] is not None for r in s["models"]) else ""))
    for r in s["models"]:
        star = " *" if s["recommended"] and r["model_id"] == s["recommended"]["model_id"] else ""
        click.echo(f"{r['num_topics']:>4} {r['model_id']:>6} {r['c_npmi']!s:>8} {r['u_mass']!s:>8} "
                   f"{r['log_perplexity']!s:>8} {r['topic_diversity']!s:>9} {r['topic_quality']!s:>8}"
                   + (f"  {r['nmi_labels']}" if r["nmi_labels"] is not None else "") + star)
    click.echo(f"* recommended: {s['rule']}")


def _model_json(m):
    return {k: m[k] for k in ("id", "kind", "params", "seed", "fingerprint", "versions", "train_seconds",
                              "metrics", "created")}


def _metrics_line(m):
    x = m["metrics"]
    if m["kind"] == "lda":
        parts = [f"{m['params']['num_topics']} topics", f"c_npmi {x.get('coherence_c_npmi')}",
                 f"u_mass {x.get('coherence_u_mass')}", f"perplexity {x.get('perplexity')}"]
        if "nmi_labels" in x:
            parts.append(f"NMI with labels {x['nmi_labels']}")
        auto = m["params"].get("auto")
        if auto:
            parts.append("chosen from the corpus: " + " ".join(f"{k}={m['params'][k]}" for k in auto))
    else:
        parts = [f"{x.get('vocabulary'):,} words", f"{m['params']['vector_size']} dimensions"]
        if "analogy_accuracy" in x:
            parts += [f"analogies {x['analogy_accuracy']}", f"WordSim353 {x.get('wordsim353_spearman')}"]
    parts += [f"WARNING: {w}" for w in x.get("warnings") or []]
    parts += [f"WARNING: {view} not computed: {why}" for view, why in (x.get("view_errors") or {}).items()]
    return ", ".join(parts)


@cli.command()
@click.argument("corpus")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def models(ctx, corpus, as_json):
    """List a corpus's models, newest first (the newest of each kind is the default)."""
    from ..store import registry
    rows = [_model_json(m) for m in registry.list_models(store_of(ctx), corpus)]

    def text(rows):
        if not rows:
            click.echo(f"{corpus} has no models yet: textlatent train lda {corpus}")
        for m in rows:
            click.echo(f"{m['id']}\t{m['kind']}\t{m['created']:%Y-%m-%d %H:%M}\t{m['train_seconds']:.1f} s\t"
                       + _metrics_line(m))
    emit(rows, as_json, text)


@cli.command()
@click.argument("corpus")
@click.option("--model", "model_id", help="Model id (default: the newest LDA model).")
@click.option("--topn", default="10", show_default=True, help="Terms per topic.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def topics(ctx, corpus, model_id, topn, as_json):
    """Print the topics of an LDA model with their coherence."""
    from ..explore.topics import corpus_topics
    found = corpus_topics(store_of(ctx), corpus, model_id, topn)
    model, rows = found["model"], found["topics"]

    def text(rows):
        click.echo(f"model {model['id']}: {_metrics_line(model)}")
        for t in rows:
            label = f" [{t['label']}]" if t["label"] else ""
            coh = t["coherence_c_npmi"]
            click.echo(f"{t['topic']:>3}{label} ({'c_npmi ' + format(coh, '.3f') if coh is not None else ''}): "
                       + " ".join(term for term, _ in t["terms"]))
    emit({"model_id": model["id"], "topics": rows}, as_json, lambda d: text(d["topics"]))


@cli.command()
@click.argument("corpus")
@click.argument("text")
@click.option("--model", "model_id", help="Model id (default: the newest LDA model).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def infer(ctx, corpus, text, model_id, as_json):
    """Print the topic mixture of a new text (TEXT, or - to read standard input).

    \b
    Example:
        echo "The budget deficit and taxes" | textlatent infer speeches -
    """
    from ..explore.inference import infer as run
    from ..explore.topics import topics_of
    from ..store import registry
    if text == "-":
        text = sys.stdin.read()
    result = run(store_of(ctx), corpus, text, model_id)

    def show(r):
        _, model = registry.find_model(store_of(ctx), corpus, r["model_id"])
        tops = {t["topic"]: t for t in topics_of(store_of(ctx), model, 6)}
        click.echo(f"{r['terms_used']} of {r['terms_total']} terms known to model {r['model_id']}")
        for k, w in r["topics"]:
            if w >= 0.01:
                click.echo(f"{w:6.1%}  topic {k}: " + " ".join(t for t, _ in tops[k]["terms"]))
    emit(result, as_json, show)


@cli.command()
@click.argument("corpus")
@click.argument("words", nargs=-1, required=True)
@click.option("--negative", "-n", multiple=True, help="Words to subtract (analogies).")
@click.option("--topn", default="10", show_default=True)
@click.option("--model", "model_id", help="Model id (default: the newest Word2Vec model).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def similar(ctx, corpus, words, negative, topn, model_id, as_json):
    """Nearest words by cosine similarity; with --negative, analogies.

    \b
    Example:
        textlatent similar news space
        textlatent similar speeches king woman --negative man
    """
    from ..explore.words import similar as run
    result = run(store_of(ctx), corpus, list(words), list(negative), topn, model_id)

    def show(r):
        if r["terms"]["positive"] != r["positive"] or r["terms"]["negative"] != r["negative"]:
            click.echo("query: " + " + ".join(r["terms"]["positive"])
                       + "".join(" - " + t for t in r["terms"]["negative"]), err=True)
        click.echo("\n".join(f"{s:.3f}  {w}" for w, s in r["results"]))
    emit(result, as_json, show)


@cli.command()
@click.argument("corpus")
@click.argument("what", type=click.Choice(["doc-topics", "topic-terms", "vectors", "word-map", "doc-map",
                                           "topics-by-label", "topics-over-time"]))
@click.option("--format", "fmt", required=True,
              help="doc-topics: csv, jsonl, npy, parquet; topic-terms: csv; "
                   "vectors: word2vec, word2vec-binary, projector (a folder); "
                   "word-map, doc-map, topics-by-label, topics-over-time: csv, parquet.")
@click.option("--output", "-o", required=True, type=click.Path(), help="File (or folder) to write.")
@click.option("--model", "model_id", help="Model id (default: the newest of the fitting kind).")
@click.option("--period", type=click.Choice(["year", "month", "week", "day"]),
              help="topics-over-time: the period (default: chosen from the dates' span).")
@click.pass_context
def export(ctx, corpus, what, fmt, output, model_id, period):
    """Export document-topic vectors, the topic-term table, word vectors, map coordinates,
    or topic shares by label or over time.

    \b
    Example:
        textlatent export news doc-topics --format parquet --output news-topics.parquet
        textlatent export news vectors --format word2vec --output news.vec
        textlatent export wires topics-over-time --period month --format csv --output t.csv
    """
    from ..export import export as run
    for path in run(store_of(ctx), corpus, what, fmt, output, model_id, period):
        click.echo(f"wrote {path}")
