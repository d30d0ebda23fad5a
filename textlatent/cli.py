"""The ``textlatent`` command: one short function per command over the library.

Each command reads its options, calls one library function, and turns the library's
errors into a one-line message and exit status 1 (never a traceback).
"""

import json
import os
import sys
import time

import click

from . import __version__
from .errors import TextlatentError
from .settings import SETTINGS, load_settings


class _Group(click.Group):
    """Turns library and file-system errors into clean messages."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except TextlatentError as e:
            raise click.ClickException(e.message)
        except OSError as e:
            raise click.ClickException(f"{e.filename or ''}: {e.strerror or e}".lstrip(": "))
        except KeyboardInterrupt:
            raise click.Abort()


def _config(ctx):
    return ctx.obj


def _emit(data, as_json, text_fn):
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        text_fn(data)


class _Bar:
    """A tqdm bar fed by the library's ``progress(done, total, message)`` calls."""

    def __init__(self, quiet, unit="docs"):
        self.quiet, self.unit, self.bar = quiet, unit, None

    def __call__(self, done, total, message):
        if self.quiet:
            return
        from tqdm import tqdm
        if self.bar is None:
            self.bar = tqdm(total=total or None, unit=self.unit, file=sys.stderr, dynamic_ncols=True, disable=None,
                            leave=False)
        if total and self.bar.total != total:
            self.bar.total = total
        self.bar.n = done
        self.bar.set_description(message[:60], refresh=False)
        self.bar.refresh()

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@click.group(cls=_Group)
@click.version_option(__version__)
@click.option("--home", type=click.Path(file_okay=False), default=None,
              help="Data directory (default: $TEXTLATENT_HOME or ~/.local/share/textlatent).")
@click.pass_context
def cli(ctx, home):
    """Topic models and word vectors for a corpus of text.

    \b
    Example:
        textlatent ingest corpora/sample --corpus speeches --split paragraphs
        textlatent train lda speeches --num-topics 12
        textlatent topics speeches
    """
    ctx.obj = load_settings(home=home)


# -- ingest ----------------------------------------------------------------------------------

def _stop_words(values):
    words = []
    for v in values:
        if os.path.isfile(v):
            with open(v, encoding="utf-8") as fh:
                words += [w for line in fh for w in line.replace(",", " ").split()]
        else:
            words += [w for w in v.replace(",", " ").split()]
    return words


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--corpus", "-c", "name", required=True, help="Corpus to create or add to.")
@click.option("--text-field", default="text", show_default=True, help="CSV/JSONL field holding the text.")
@click.option("--id-field", help="CSV/JSONL field with a document id (default: 'id' when present).")
@click.option("--title-field", help="CSV/JSONL field with a title.")
@click.option("--label-field", help="CSV/JSONL field with a label (folders: the first subfolder).")
@click.option("--date-field", help="CSV/JSONL field with a date.")
@click.option("--split", type=click.Choice(["none", "paragraphs"]), default="none", show_default=True,
              help="One document per file/row, or per paragraph.")
@click.option("--language", default="en", show_default=True, help="spaCy language code (new corpus).")
@click.option("--stop-words", multiple=True, help="Extra stop words: a file, or words separated by commas.")
@click.option("--pipeline", help="An installed trained spaCy pipeline to use instead of the blank one.")
@click.option("--pos", help="With --pipeline: parts of speech to keep, e.g. NOUN,ADJ,PROPN.")
@click.option("--no-phrases", is_flag=True, help="Do not join bigram phrases (new corpus).")
@click.option("--no-lemmas", is_flag=True, help="Keep word forms instead of lemmas (new corpus).")
@click.option("--email", type=click.Choice(["auto", "yes", "no"]), default="auto", show_default=True,
              help="Strip e-mail headers, quotes and signatures (auto: texts that start with headers).")
@click.option("--workers", type=click.IntRange(1, 64), help="Tokenizer processes (default: setting).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def ingest(ctx, sources, name, text_field, id_field, title_field, label_field, date_field, split,
           language, stop_words, pipeline, pos, no_phrases, no_lemmas, email, workers, quiet, as_json):
    """Add documents from folders, .zip, .txt, .csv/.tsv or .jsonl files (or .gz of them).

    \b
    Example:
        textlatent ingest ../shared/corpora/20newsgroups/20news-bydate.jsonl \\
            --corpus news --label-field label
    """
    from .ingest import ingest as run
    from .sources import ReadOptions
    from .tokenize import TokenizerSettings

    options = ReadOptions(text_field=text_field, id_field=id_field, title_field=title_field,
                          label_field=label_field, date_field=date_field, split=split)
    settings = TokenizerSettings(language=language, pipeline=pipeline,
                                 pos=[p.strip() for p in pos.split(",")] if pos else None,
                                 stop_words=_stop_words(stop_words), lemmas=not no_lemmas,
                                 phrases=not no_phrases, email=email)
    bar = _Bar(quiet)
    try:
        summary = run(_config(ctx), name, list(sources), options, settings, workers=workers, progress=bar)
    finally:
        bar.close()
    if quiet and not as_json:
        return
    _emit(summary.to_dict(), as_json, lambda s: click.echo(
        "\n".join(s["report"] + [
            f"{s['corpus']}: {s['added']:,} documents added, {s['duplicates']:,} duplicates skipped, "
            f"{s['empty']:,} empty skipped; {s['tokens']:,} tokens; now {s['documents']:,} documents, "
            f"vocabulary {s['vocabulary']:,}, {s['phrases']:,} phrases; {s['seconds']:.1f} s"])))


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def corpora(ctx, as_json):
    """List the corpora with their document and vocabulary counts."""
    from . import store
    engine = store.get_engine(_config(ctx).database_url)
    with store.read(engine) as conn:
        rows = [{k: c[k] for k in ("name", "n_docs", "n_tokens", "n_terms", "created")}
                for c in store.list_corpora(conn)]

    def text(rows):
        if not rows:
            click.echo("no corpora yet: textlatent ingest SOURCE --corpus NAME")
        for r in rows:
            click.echo(f"{r['name']}\t{r['n_docs']:,} documents\t{r['n_tokens']:,} tokens\t"
                       f"{r['n_terms']:,} terms")
    _emit(rows, as_json, text)


@cli.command()
@click.argument("corpus")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def delete(ctx, corpus, yes):
    """Delete a corpus with its documents and models."""
    from .ingest import delete_corpus
    if not yes:
        click.confirm(f"Delete corpus {corpus!r} and all its models?", abort=True)
    delete_corpus(_config(ctx), corpus)
    click.echo(f"deleted {corpus}")


# -- training --------------------------------------------------------------------------------

def _param_options(spec):
    def decorate(f):
        for p in reversed(spec):
            f = click.option("--" + p.name.replace("_", "-"), p.name, default=None,
                             help=f"{p.help} ({p.describe()}; default {p.default}).")(f)
        return f
    return decorate


@cli.group()
def train():
    """Train a model: lda (topics) or word2vec (word vectors)."""


def _train(ctx, fn, corpus, params, quiet, as_json, unit):
    bar = _Bar(quiet, unit)
    t = time.perf_counter()
    try:
        model_id = fn(_config(ctx), corpus, {k: v for k, v in params.items() if v is not None}, progress=bar)
    finally:
        bar.close()
    from . import registry
    _, model = registry.find_model(_config(ctx), corpus, model_id)
    _emit(_model_json(model), as_json, lambda m: click.echo(
        f"model {m['id']} ({m['kind']}) trained in {time.perf_counter() - t:.1f} s\n" + _metrics_line(m)))


from .embeddings import W2V_PARAMS  # noqa: E402  (after the helpers the decorators use)
from .topics import LDA_PARAMS  # noqa: E402


@train.command("lda")
@click.argument("corpus")
@_param_options(LDA_PARAMS)
@click.option("--quiet", "-q", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def train_lda(ctx, corpus, quiet, as_json, **params):
    """Train LDA topics on a corpus.

    \b
    Example:
        textlatent train lda news --num-topics 20 --seed 7
    """
    from .topics import train_lda as run
    _train(ctx, run, corpus, params, quiet, as_json, "docs")


@train.command("word2vec")
@click.argument("corpus")
@_param_options(W2V_PARAMS)
@click.option("--quiet", "-q", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def train_word2vec(ctx, corpus, quiet, as_json, **params):
    """Train Word2Vec vectors on a corpus.

    \b
    Example:
        textlatent train word2vec news --vector-size 100 --epochs 10
    """
    from .embeddings import train_word2vec as run
    _train(ctx, run, corpus, params, quiet, as_json, "epochs")


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
    else:
        parts = [f"{x.get('vocabulary'):,} words", f"{m['params']['vector_size']} dimensions"]
        if "analogy_accuracy" in x:
            parts += [f"analogies {x['analogy_accuracy']}", f"WordSim353 {x.get('wordsim353_spearman')}"]
    return ", ".join(parts)


@cli.command()
@click.argument("corpus")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def models(ctx, corpus, as_json):
    """List a corpus's models, newest first (the newest of each kind is the default)."""
    from . import registry
    rows = [_model_json(m) for m in registry.list_models(_config(ctx), corpus)]

    def text(rows):
        if not rows:
            click.echo(f"{corpus} has no models yet: textlatent train lda {corpus}")
        for m in rows:
            click.echo(f"{m['id']}\t{m['kind']}\t{m['created']:%Y-%m-%d %H:%M}\t{m['train_seconds']:.1f} s\t"
                       + _metrics_line(m))
    _emit(rows, as_json, text)


@cli.command()
@click.argument("corpus")
@click.option("--model", "model_id", help="Model id (default: the newest LDA model).")
@click.option("--topn", default="10", show_default=True, help="Terms per topic.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def topics(ctx, corpus, model_id, topn, as_json):
    """Print the topics of an LDA model with their coherence."""
    from .topics import topics as run
    model, rows = run(_config(ctx), corpus, model_id, topn)

    def text(rows):
        click.echo(f"model {model['id']}: {_metrics_line(model)}")
        for t in rows:
            label = f" [{t['label']}]" if t["label"] else ""
            coh = t["coherence_c_npmi"]
            click.echo(f"{t['topic']:>3}{label} ({'c_npmi ' + format(coh, '.3f') if coh is not None else ''}): "
                       + " ".join(term for term, _ in t["terms"]))
    _emit({"model_id": model["id"], "topics": rows}, as_json, lambda d: text(d["topics"]))


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
    from .topics import infer as run, topics_of
    from . import registry
    if text == "-":
        text = sys.stdin.read()
    result = run(_config(ctx), corpus, text, model_id)

    def show(r):
        _, model = registry.find_model(_config(ctx), corpus, r["model_id"])
        tops = {t["topic"]: t for t in topics_of(_config(ctx), model, 6)}
        click.echo(f"{r['terms_used']} of {r['terms_total']} terms known to model {r['model_id']}")
        for k, w in r["topics"]:
            if w >= 0.01:
                click.echo(f"{w:6.1%}  topic {k}: " + " ".join(t for t, _ in tops[k]["terms"]))
    _emit(result, as_json, show)


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
    from .embeddings import similar as run
    result = run(_config(ctx), corpus, list(words), list(negative), topn, model_id)
    _emit(result, as_json, lambda r: click.echo("\n".join(f"{s:.3f}  {w}" for w, s in r["results"])))


@cli.command()
@click.argument("corpus")
@click.argument("what", type=click.Choice(["doc-topics", "topic-terms", "vectors"]))
@click.option("--format", "fmt", required=True,
              help="doc-topics: csv, jsonl, npy, parquet; topic-terms: csv; "
                   "vectors: word2vec, word2vec-binary, projector (a folder).")
@click.option("--output", "-o", required=True, type=click.Path(), help="File (or folder) to write.")
@click.option("--model", "model_id", help="Model id (default: the newest of the fitting kind).")
@click.pass_context
def export(ctx, corpus, what, fmt, output, model_id):
    """Export document-topic vectors, the topic-term table, or word vectors.

    \b
    Example:
        textlatent export news doc-topics --format parquet --output news-topics.parquet
        textlatent export news vectors --format word2vec --output news.vec
    """
    from .export import export as run
    for path in run(_config(ctx), corpus, what, fmt, output, model_id):
        click.echo(f"wrote {path}")


def _serve(config, host, port, threads, worker):
    """Run waitress in this process and, unless ``worker`` is False, a job worker
    process beside it (its own process: training never slows the pages down)."""
    import subprocess

    import waitress

    from web import create_app
    app = create_app(config, trusted_hosts=_trusted_hosts(host))
    import signal

    # SIGTERM (a service manager, a test) stops like Ctrl-C, so the worker is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    proc = None
    if worker:
        env = dict(os.environ, TEXTLATENT_HOME=config.home, TEXTLATENT_DATABASE_URL=config.database_url)
        if config.queue_url:
            env["TEXTLATENT_QUEUE_URL"] = config.queue_url
        proc = subprocess.Popen([sys.executable, "-m", "textlatent.cli", "worker"], env=env)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"textlatent serving on http://{shown}:{port}/  (Ctrl-C to stop)")
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="textlatent")
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _trusted_hosts(host):
    """Bound to loopback, answer only to loopback names (no DNS rebinding)."""
    if host in ("127.0.0.1", "localhost", "::1"):
        return ["127.0.0.1", "localhost", "[::1]", "::1"]
    return None


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--no-worker", is_flag=True, help="Do not start a job worker beside the server.")
@click.pass_context
def serve(ctx, host, port, threads, no_worker):
    """Serve the web pages and JSON API with waitress (a production WSGI server),
    with a job worker process beside it.

    \b
    Example:
        textlatent serve --port 5000
    """
    _serve(_config(ctx), host, port, threads, not no_worker)


@cli.command()
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 16),
              help="Jobs run at the same time (each uses the workers setting's cores).")
@click.pass_context
def worker(ctx, concurrency):
    """Run queued jobs (ingest, training) until stopped; first marks the jobs of
    workers that died as failed.

    \b
    Example:
        TEXTLATENT_QUEUE_URL=redis://127.0.0.1:6379/0 textlatent worker
    """
    from .queue import run_worker
    run_worker(_config(ctx), concurrency)


@cli.command()
@click.option("--corpus", "-c", "name", help="Only this corpus's jobs.")
@click.option("--cancel", "cancel_id", type=int, help="Cancel this job.")
@click.option("--retry", "retry_id", type=int, help="Queue this failed or cancelled job again.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def jobs(ctx, name, cancel_id, retry_id, as_json):
    """List background jobs with their status and progress; cancel or retry one.

    \b
    Example:
        textlatent jobs --corpus news
    """
    from . import jobs as lib
    from .jobs import job_json
    config = _config(ctx)
    if cancel_id is not None:
        rows = [lib.cancel(config, cancel_id)]
    elif retry_id is not None:
        rows = [lib.retry(config, retry_id)]
    else:
        rows = lib.list_jobs(config, name)
    data = [job_json(j) for j in rows]
    _emit(data, as_json, lambda d: click.echo("\n".join(
        f"{j['id']:>5}  {j['kind']:<9} {j['corpus']:<20} {j['status']:<10} {j['progress']['message']}"
        + (f"  model {j['model_id']}" if j["model_id"] else "") + (f"  error: {j['error']}" if j["error"] else "")
        for j in d) or "no jobs"))


@cli.command("settings")
def settings_cmd():
    """Print every setting with its environment variable, default and meaning."""
    for s in SETTINGS:
        click.echo(f"TEXTLATENT_{s.name.upper()}  (default: {s.default if s.default is not None else 'see below'})\n"
                   f"    {s.help}")


@cli.command()
@click.argument("source", required=False)
@click.option("--corpus", "name", default="sample", show_default=True)
@click.option("--serve/--no-serve", "serve_after", default=True, show_default=True,
              help="Serve the web app (with a job worker) when done.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--quiet", "-q", is_flag=True)
@click.pass_context
def demo(ctx, source, name, serve_after, port, quiet):
    """Ingest the bundled sample corpus (default corpora/sample), train LDA and Word2Vec,
    show topics and similar words, then serve the web app on 127.0.0.1."""
    from .demo import run_demo
    run_demo(_config(ctx), name, source, echo=click.echo, progress=_Bar(quiet))
    if serve_after:
        click.echo(f"\nBrowse the topics at http://127.0.0.1:{port}/corpora/{name}")
        _serve(_config(ctx), "127.0.0.1", port, 4, True)


def main():
    cli(prog_name="textlatent")


if __name__ == "__main__":
    main()
