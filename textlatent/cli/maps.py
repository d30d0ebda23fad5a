"""Commands about the latent space: map (2-D maps of words or documents)."""

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
