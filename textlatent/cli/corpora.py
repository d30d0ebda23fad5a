"""Commands about corpora: ingest, corpora, delete, tokenize."""

import os
import sys

import click

from .base import Bar, cli, emit, store_of


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
@click.option("--first-line-title/--no-first-line-title", default=None,
              help="Title a text file by its first line when that looks like a headline "
                   "(default: yes for the files of a folder or zip, no for a single file).")
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
           first_line_title, language, stop_words, pipeline, pos, no_phrases, no_lemmas, email, workers, quiet, as_json):
    """Add documents from folders, .zip, .txt, .csv/.tsv or .jsonl files (or .gz of them).

    \b
    Example:
        textlatent ingest ../shared/corpora/20newsgroups/20news-bydate.jsonl \\
            --corpus news --label-field label
    """
    from ..ingest import ReadOptions, TokenizerSettings
    from ..ingest import ingest as run

    options = ReadOptions(text_field=text_field, id_field=id_field, title_field=title_field,
                          label_field=label_field, date_field=date_field, split=split,
                          first_line_title=first_line_title)
    settings = TokenizerSettings(language=language, pipeline=pipeline,
                                 pos=[p.strip() for p in pos.split(",")] if pos else None,
                                 stop_words=_stop_words(stop_words), lemmas=not no_lemmas,
                                 phrases=not no_phrases, email=email)
    bar = Bar(quiet, name=f"ingest {name}")
    try:
        summary = run(store_of(ctx), name, list(sources), options, settings, workers=workers, progress=bar)
    finally:
        bar.close()
    if quiet and not as_json:
        return
    emit(summary.to_dict(), as_json, lambda s: click.echo(
        "\n".join(s["report"] + [
            f"{s['corpus']}: {s['added']:,} documents added, {s['duplicates']:,} duplicates skipped, "
            f"{s['empty']:,} empty skipped; {s['tokens']:,} tokens; now {s['documents']:,} documents, "
            f"vocabulary {s['vocabulary']:,}, {s['phrases']:,} phrases; {s['dated']:,} dated"
            + (f", {s['dates_unparsed']:,} dates unreadable" if s["dates_unparsed"] else "")
            + f"; {s['seconds']:.1f} s"])))


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def corpora(ctx, as_json):
    """List the corpora with their document and vocabulary counts."""
    from ..views import corpora as run
    rows = [{k: c[k] for k in ("name", "n_docs", "n_tokens", "n_terms", "created")} for c in run(store_of(ctx))]

    def text(rows):
        if not rows:
            click.echo("no corpora yet: textlatent ingest SOURCE --corpus NAME")
        for r in rows:
            click.echo(f"{r['name']}\t{r['n_docs']:,} documents\t{r['n_tokens']:,} tokens\t"
                       f"{r['n_terms']:,} terms")
    emit(rows, as_json, text)


@cli.command()
@click.argument("corpus")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force", is_flag=True, help="Cancel the corpus's pending and running jobs first.")
@click.pass_context
def delete(ctx, corpus, yes, force):
    """Delete a corpus with its documents and models; refused while jobs of it are pending
    or running, unless --force cancels them first.

    \b
    Example:
        textlatent delete news --yes --force
    """
    from ..jobs import delete_corpus
    if not yes:
        click.confirm(f"Delete corpus {corpus!r} and all its models?", abort=True)
    delete_corpus(store_of(ctx), corpus, force=force)
    click.echo(f"deleted {corpus}")


@cli.command()
@click.argument("corpus")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help='Print {"tokens": [...]}.')
@click.pass_context
def tokenize(ctx, corpus, text, as_json):
    """Print the terms the corpus's frozen pipeline makes of TEXT (- reads standard input).

    \b
    Example:
        textlatent tokenize bbc "Taxes rose in Wales. The data show better politics."
    """
    from ..explore.tokens import tokenize_text
    result = tokenize_text(store_of(ctx), corpus, sys.stdin.read() if text == "-" else text)
    emit(result, as_json, lambda r: click.echo(" ".join(r["tokens"])))
