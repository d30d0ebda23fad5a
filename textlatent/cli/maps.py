"""Commands about the latent space: map (2-D maps of words or documents), axis, interpolate."""

import click

from ..explore.maps import MAP_PARAMS
from .base import Bar, cli, emit, store_of
from .training import _param_options, map_line


def find_mapped_model(store, corpus, what, model_id, by):
    """The model a map command means: ``--model``, else the newest Word2Vec model for
    words or documents by vectors, the newest LDA model for documents by topics."""
    from ..errors import InvalidInput
    from ..store import registry
    _, model = registry.find_model(store, corpus, model_id,
                                   None if model_id else ("lda" if what == "documents" and by != "vectors"
                                                          else "word2vec"))
    wanted = {"topics": "lda", "vectors": "word2vec"}.get(by)
    if wanted and model["kind"] != wanted:
        raise InvalidInput(f"documents by {by} are mapped from a {wanted} model; model {model['id']} "
                           f"is a {model['kind']} model")
    return model


@cli.command("map")
@click.argument("corpus")
@click.argument("what", type=click.Choice(["words", "documents"]))
@click.option("--model", "model_id", help="Model id (default: the newest Word2Vec model for words, "
                                          "the newest LDA model for documents).")
@click.option("--by", type=click.Choice(["topics", "vectors"]),
              help="Documents by their topic mixtures (an LDA model; the default) or by document vectors "
                   "(a Word2Vec model).")
@_param_options(MAP_PARAMS)
@click.option("--quiet", "-q", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def map_command(ctx, corpus, what, model_id, by, quiet, as_json, **params):
    """Place every word or document of a model on a 2-D map, stored beside the model.

    \b
    Example:
        textlatent map news words --method umap --seed 1
        textlatent map news documents --by vectors
    """
    from ..explore.maps import make_map
    store = store_of(ctx)
    model = find_mapped_model(store, corpus, what, model_id, by)
    bar = Bar(quiet, "epochs")
    try:
        meta = make_map(store, model["id"], what, {k: v for k, v in params.items() if v is not None}, bar)
    finally:
        bar.close()
    emit(meta, as_json, lambda m: click.echo(f"model {m['model_id']}: {map_line(m)}"))


@cli.command()
@click.argument("corpus")
@click.option("--from", "from_words", multiple=True, required=True,
              help="A word of the pole the axis starts from (repeat it, or separate words by commas).")
@click.option("--to", "to_words", multiple=True, required=True, help="A word of the pole the axis goes to.")
@click.option("--topn", default="10", show_default=True, help="Words listed at each end.")
@click.option("--model", "model_id", help="Model id (default: the newest Word2Vec model).")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"words": [{"word", "score"}, ...]}, from the --to end to the --from end.')
@click.pass_context
def axis(ctx, corpus, from_words, to_words, topn, model_id, as_json):
    """Rank words along a semantic axis between two poles of one or more words each.

    \b
    Example:
        textlatent axis news --from man,he --to woman,she
        textlatent axis news --from poor --to rich --topn 20
    """
    from ..explore.axes import axis as run
    result = run(store_of(ctx), corpus, list(from_words), list(to_words), topn, model_id)

    def text(r):
        click.echo(f"{' '.join(r['from'])}  ->  {' '.join(r['to'])}  (model {r['model_id']}; score: cosine "
                   "with the direction from the first pole's centre to the second's)")
        click.echo("\n".join(f"{w['score']:+.3f}  {w['word']}" for w in r["words"]))
    emit(result, as_json, text)


@cli.command()
@click.argument("corpus")
@click.argument("start")
@click.argument("end")
@click.option("--steps", default="7", show_default=True, help="Points from START to END, both included (2..100).")
@click.option("--topn", default="5", show_default=True, help="Nearest words (or documents) at each step.")
@click.option("--documents", is_flag=True,
              help="START and END are document positions: walk between their topic mixtures.")
@click.option("--model", "model_id", help="Model id (default: the newest Word2Vec model, or LDA with --documents).")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"steps": [{"t", "words": [{"word", "similarity"}, ...]}, ...]}.')
@click.pass_context
def interpolate(ctx, corpus, start, end, steps, topn, documents, model_id, as_json):
    """Walk from one word to another in the latent space, with the nearest words at each step.

    \b
    Example:
        textlatent interpolate news hockey space --steps 7
        textlatent interpolate news 12 480 --documents
    """
    from ..explore import axes
    run = axes.interpolate_documents if documents else axes.interpolate
    result = run(store_of(ctx), corpus, start, end, steps, topn, model_id)

    def text(r):
        for step in r["steps"]:
            if documents:
                shown = "; ".join(f"{d['position']} {d['title']}" for d in step["documents"])
            else:
                shown = " ".join(w["word"] for w in step["words"])
            click.echo(f"{step['t']:.2f}  {shown}")
    emit(result, as_json, text)
