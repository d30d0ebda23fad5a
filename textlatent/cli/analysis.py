"""Commands that read a corpus through its documents: documents (search and filters), kwic."""

import click

from .base import cli, emit, store_of


@cli.command()
@click.argument("corpus")
@click.option("--search", "-s", "q", help="Documents holding every one of these words (any case, whole words).")
@click.option("--label", help="Only documents with this label.")
@click.option("--topic", help="Only documents whose dominant topic is this one (of --model).")
@click.option("--date-from", help="Only documents dated on or after this ISO date (1987, 1987-03, 1987-03-26).")
@click.option("--date-to", help="Only documents dated on or before this ISO date (1987-06: all of June).")
@click.option("--sort", help="position (default), date, -date, or share:K (topic K's share, largest first).")
@click.option("--limit", default="20", show_default=True, help="Documents to show (1..100; the API's default is 50).")
@click.option("--offset", default="0", show_default=True, help="Documents to skip.")
@click.option("--model", "model_id", help="The LDA model for --topic and share:K (default: the newest).")
@click.option("--json", "as_json", is_flag=True, help='Print {"documents": [...], "total": N, "total_exact": true}.')
@click.pass_context
def documents(ctx, corpus, q, label, topic, date_from, date_to, sort, limit, offset, model_id, as_json):
    """List, search and filter a corpus's documents.

    \b
    Example:
        textlatent documents wires --search "cocoa brazil" --date-from 1987-03 --sort -date
        textlatent documents news --topic 3 --sort share:3 --limit 5 --json
    """
    from ..explore.search import list_documents
    result = list_documents(store_of(ctx), corpus, q=q, label=label, topic=topic, date_from=date_from,
                            date_to=date_to, sort=sort, limit=limit, offset=offset, model_id=model_id,
                            prepare_missing=True)

    def text(r):
        for d in r["documents"]:
            facts = " · ".join(x for x in (d["label"], d["date"]) if x)
            click.echo(f"{d['position']:>7}  {d['title'] or d['doc_id']}" + (f"  [{facts}]" if facts else ""))
            click.echo(f"         {d['snippet']}")
        shown = len(r["documents"])
        about = "" if r["total_exact"] else "about "
        click.echo(f"{about}{r['total']:,} documents" + (f", {shown} shown" if shown < r["total"] else ""))
    emit(result, as_json, text)


@cli.command()
@click.argument("corpus")
@click.argument("word")
@click.option("--limit", default="20", show_default=True, help="Lines to show (1..500).")
@click.option("--offset", default="0", show_default=True, help="Lines to skip.")
@click.option("--json", "as_json", is_flag=True, help='Print {"lines": [...], "total": N}.')
@click.pass_context
def kwic(ctx, corpus, word, limit, offset, as_json):
    """Words in context: each occurrence of WORD (every form the corpus's tokenizer maps
    to its term, phrases too) with the text around it.

    \\b
    Example:
        textlatent kwic speeches taxes
        textlatent kwic wires "New York" --limit 5 --json
    """
    from ..explore.kwic import kwic as run
    result = run(store_of(ctx), corpus, word, limit, offset)

    def text(r):
        for line in r["lines"]:
            click.echo(f"{line['left']:>60} [{line['match']}] {line['right']:<60}  {line['doc_id']}")
        click.echo(f"{r['total']:,} occurrences of {r['term']} in {r['documents']:,} documents")
    emit(result, as_json, text)
