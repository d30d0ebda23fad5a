"""Every kind of background job, in one table.

A kind says how its parameters are checked before the job is queued, how it runs in a
worker, what it produces (a corpus or a model) and what is left to clean once it ended.
The API, the OpenAPI document, the CLI and the worker all read this table: a new kind
of job is one entry here.
"""

import os
from dataclasses import dataclass, field
from typing import Callable

from ..errors import Conflict, EmptyCorpus, InvalidInput
from ..explore import aggregates, maps, similarity
from ..ingest import ReadOptions, TokenizerSettings, ingest, valid_corpus_name
from ..ingest.uploads import StagedUpload
from ..models import LDA_PARAMS, W2V_PARAMS, sweep, train_lda, train_word2vec, validate_w2v
from ..params import Param, validate
from ..store import queries as db
from ..store import registry
from . import sharding


@dataclass(frozen=True)
class JobKind:
    """One kind of job.

    ``validate(store, corpus_name, params) -> (corpus_name, params)`` raises the library's
    error for bad input; ``run(store, job, progress) -> (model_id or None, result or None)``;
    ``produces``: "corpus", "model", "map", "views" (of the model ``model_id``) or "shard"
    (files its ingest job reads); ``params``:
    the parameter table that forms, CLI options and the OpenAPI document describe;
    ``ended(store, params, status)`` cleans what the parameters hold once the job ended
    (files of an upload, say). A kind that trains a
    model also names its ``train(store, corpus_name, params, progress, workdir_prefix)``,
    which the CLI calls in its own process, and an ``example`` of its command line.
    """

    name: str
    summary: str
    validate: Callable
    run: Callable
    produces: str
    params: tuple = ()
    ended: Callable = field(default=lambda store, params, status: None)
    train: Callable | None = None
    example: str = ""


def workdir_prefix(job):
    """The prefix of a job's temporary model folders: what a killed worker left is found by it."""
    return f".tmp-job{job['id']}-"


# -- ingest ----------------------------------------------------------------------------------

def _validate_ingest(store, corpus_name, params):
    staged = StagedUpload.from_params(params)
    if not staged.files:
        raise InvalidInput("an ingest job needs the files of an upload")
    if not staged.exists(store):
        raise Conflict("the uploaded files of this job are gone; upload them again")
    ReadOptions(**staged.read)                 # validates split
    if staged.tokenizer:
        TokenizerSettings.from_dict(staged.tokenizer)
    return valid_corpus_name(corpus_name), staged.to_params()


def _run_ingest(store, job, progress):
    staged = StagedUpload.from_params(job["params"])
    settings = TokenizerSettings.from_dict(staged.tokenizer) if staged.tokenizer else None
    if staged.folder and not os.path.isabs(staged.folder):
        summary = sharding.run_ingest(store, job, staged, ReadOptions(**staged.read), settings, progress)
        return None, summary.to_dict()
    # A job queued before uploads were storage keys: its files are on its host.
    with staged.local_paths(store) as paths:
        summary = ingest(store, job["corpus_name"], paths, ReadOptions(**staged.read), settings, progress=progress,
                         expected=staged.documents)
    return None, summary.to_dict()


def _ingest_ended(store, params, status):
    # A failed or cancelled ingest keeps its files, so that it can be retried.
    if status == "finished":
        StagedUpload.from_params(params).discard(store)


# -- training --------------------------------------------------------------------------------

def _trainable(store, corpus_name):
    with store.read() as conn:
        corpus = db.get_corpus(conn, corpus_name)      # CorpusNotFound for an unknown corpus
    if not corpus["n_tokens"]:
        raise EmptyCorpus(f"corpus {corpus['name']!r} has no tokens to train on")
    return corpus


def map_choice(store, value):
    """The maps a training job makes afterwards, from its ``map`` parameter: true or
    absent, the ``map_method`` setting; false or "none", none; or a method's name."""
    if value is None or value is True:
        value = store.config.map_method
    elif value is False:
        value = "none"
    if value not in (*maps.METHODS, "none"):
        raise InvalidInput(f"map must be true, false, none or one of {', '.join(maps.METHODS)}, "
                           f"not {str(value)[:50]!r}")
    return value


def _validate_lda(store, corpus_name, params):
    from ..corpus import StoredCorpus
    from ..models.lda import plan_lda
    corpus = _trainable(store, corpus_name)
    params = dict(params)
    method = map_choice(store, params.pop("map", None))
    if sweep.is_sweep(params):
        return corpus["name"], {**sweep.validate_sweep(params, corpus["n_docs"]), "map": method}
    return corpus["name"], {**plan_lda(StoredCorpus(store, corpus["name"]), params)[0], "map": method}


def train_topics(store, corpus_name, params, progress=None, workdir_prefix=".tmp-"):
    """``train_lda``, or with a list of ``num_topics`` a sweep (its summary, a dict)."""
    if sweep.is_sweep(params):
        return sweep.train_sweep(store, corpus_name, params, progress, workdir_prefix)
    return train_lda(store, corpus_name, params, progress, workdir_prefix)


def _validate_w2v(store, corpus_name, params):
    corpus = _trainable(store, corpus_name)
    params = dict(params)
    method = map_choice(store, params.pop("map", None))
    return corpus["name"], {**validate_w2v(params), "map": method}


def _training(train):
    """The ``run`` of a kind that trains a model with ``train``, then makes its maps in the
    same job: the model's commit leaves the job running, and the job finishes once its
    maps are made (a map that fails or is cancelled leaves the model, and says so)."""
    def run(store, job, progress):
        params = dict(job["params"])
        method = params.pop("map", store.config.map_method)
        done = train(store, job["corpus_name"], params, progress, workdir_prefix=workdir_prefix(job))
        if isinstance(done, dict):      # a K sweep: the job links to the recommended model
            return (done["recommended"] or {}).get("model_id", done["models"][-1]["model_id"]), done
        made = maps.after_training(store, done, method, progress)
        return done, {"maps": made} if made else None
    return run


# -- maps --------------------------------------------------------------------------------------

def _validate_map(store, corpus_name, params):
    """A map job's parameters: ``model_id``, ``what`` (words or documents) and MAP_PARAMS."""
    from ..store import registry
    params = dict(params)
    corpus, model = registry.get_model(store, params.pop("model_id", None))
    if corpus_name is not None and corpus["name"] != corpus_name:
        raise InvalidInput(f"model {model['id']} belongs to corpus {corpus['name']!r}, not {corpus_name!r}")
    what = maps.check_what(model, params.pop("what", None))
    return corpus["name"], {"model_id": model["id"], "what": what, **maps.validate_map(params)}


def _run_map(store, job, progress):
    params = dict(job["params"])
    model_id, what = params.pop("model_id"), params.pop("what")
    meta = maps.make_map(store, model_id, what, params, progress)
    result = maps.summary(meta)
    with store.write() as conn:            # the job finishes with what it made, if still its worker's
        store.committing(conn, model_id=model_id, result=result)
    return model_id, result


# -- stored views of older models -------------------------------------------------------------

def _validate_views(store, corpus_name, params):
    p = validate([Param("model_id", "int", None, 1, 2**31 - 1)], params)
    with store.read() as conn:
        corpus = db.get_corpus(conn, corpus_name)
        db.get_model(conn, p["model_id"], corpus_id=corpus["id"])
    return corpus["name"], p


def _run_views(store, job, progress):
    _, model = registry.get_model(store, job["params"]["model_id"])
    if model["kind"] == "lda":
        progress(0, 0, f"topics by label and over time of model {model['id']}")
        aggregates.prepare_model(store, model)
        return model["id"], {"prepared": ["aggregates"]}
    progress(0, 0, f"document vectors of model {model['id']}")
    similarity.prepare_model_vectors(store, model)
    return model["id"], {"prepared": ["doc_vectors"]}


KINDS = {k.name: k for k in (
    JobKind("ingest", "Read uploaded files into a corpus.", _validate_ingest, _run_ingest, "corpus",
            ended=_ingest_ended),
    JobKind(sharding.KIND, "Tokenize one shard of an uploaded ingest (queued by its ingest job).",
            sharding.validate_tokenize, sharding.run_tokenize, "shard"),
    JobKind("lda", "Train LDA topics on a corpus (several numbers of topics: one model each).", _validate_lda,
            _training(train_topics), "model", tuple(LDA_PARAMS), train=train_topics,
            example="textlatent train lda news --num-topics 20 --seed 7\n        "
                    "textlatent train lda news --num-topics 5,10,20,40"),
    JobKind("word2vec", "Train Word2Vec vectors on a corpus.", _validate_w2v, _training(train_word2vec), "model",
            tuple(W2V_PARAMS), train=train_word2vec,
            example="textlatent train word2vec news --vector-size 100 --epochs 10"),
    JobKind("map", "Place a model's words or documents on a 2-D map.", _validate_map, _run_map, "map",
            tuple(maps.MAP_PARAMS), example="textlatent map news words --method umap --seed 1"),
    JobKind("views", "Prepare the stored views of a model trained before they existed.", _validate_views,
            _run_views, "views"),
)}

MODEL_KINDS = tuple(name for name, k in KINDS.items() if k.produces == "model")


def job_kind(name):
    """The :class:`JobKind` called ``name``, or InvalidInput naming the kinds there are."""
    kind = KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, not {str(name)[:50]!r}")
    return kind
