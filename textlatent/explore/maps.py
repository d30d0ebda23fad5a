"""2-D maps of a model's words and documents: made once in a job, stored beside the model.

- words of a Word2Vec model, by cosine between their vectors;
- documents of an LDA model, by Hellinger distance between their topic mixtures (the
  square roots of a mixture have length 1, and Euclidean distance between them is
  Hellinger's, up to a factor: UMAP and t-SNE run on them with the Euclidean metric);
- documents of a Word2Vec model, by cosine between document vectors.

Methods: ``umap`` (umap-learn), ``pca`` and ``tsne`` (openTSNE). The nearest neighbours
come from :mod:`.knn`, the same for every method, and give each map its faithfulness
figure. Files: ``<model>/maps/<what>-<method>.json`` (what was done, how long, how
faithful) naming its arrays ``<what>-<method>-<token>.<name>.npy``; the JSON is replaced
last, so a reader sees the old map or the new one, never half of one.

numba (under umap-learn) compiles on first use; it is imported only here, in the
worker's jobs and the ``map`` command, never by the web app, with its on-disk cache in
the data directory (see :func:`load_umap`).
"""

import datetime as dt
import json
import logging
import os
import re
import sys
import threading
import time
import uuid
import warnings

import numpy as np

from ..errors import Cancelled, InvalidInput, MapNotFound, TextlatentError
from ..params import Param, validate
from ..store import registry
from .knn import _self_first, knn, neighbours_kept

log = logging.getLogger(__name__)

METHODS = ("umap", "pca", "tsne")
WHAT = ("words", "documents")
MAP_PARAMS = [
    Param("method", "choice", "umap", choices=METHODS,
          help="umap (umap-learn), pca (instant), or tsne (openTSNE: slower, often more faithful locally)"),
    Param("seed", "int", 1, 0, 2**31 - 1, help="random seed: the same seed gives the same map"),
    Param("n_neighbors", "int", 15, 2, 200, help="UMAP: neighbours each point is tied to (more: broader structure)"),
    Param("min_dist", "float", 0.1, 0.0, 1.0, help="UMAP: how closely points may pack"),
    Param("perplexity", "float", 30.0, 2.0, 100.0, help="t-SNE: about how many neighbours each point weighs"),
]
K = 10                 # neighbours compared for the faithfulness figure
TRUST_SAMPLE = 2000
SIF_A = 1e-3           # document vectors: a word weighs a / (a + its share of the corpus)


def validate_map(params):
    return validate(MAP_PARAMS, params or {})


def kinds_of(model):
    """The maps a model can have: an LDA model its documents, Word2Vec its words and documents."""
    return ("documents",) if model["kind"] == "lda" else ("words", "documents")


def check_what(model, what):
    if what not in WHAT:
        raise InvalidInput(f"a map is of words or documents, not {str(what)[:50]!r}")
    if what not in kinds_of(model):
        raise InvalidInput(f"model {model['id']} is an LDA model: it has a documents map, not a words map; "
                           "words are mapped from a Word2Vec model")
    return what


# -- making a map ------------------------------------------------------------------------------

def make_map(store, model_id, what, params=None, progress=None):
    """Compute and store the ``what`` map of model ``model_id``; returns its metadata."""
    progress = progress or (lambda done, total, message: None)
    p = validate_map(params)
    corpus, model = registry.get_model(store, model_id)
    check_what(model, what)
    started = time.perf_counter()
    progress(0, 0, f"{what} map: reading the vectors")
    points, metric, extra = _points(store, corpus, model, what)
    n = len(points)
    progress(0, 0, f"{what} map: nearest neighbours of {n:,} points")
    idx, sims = knn(points, max(p["n_neighbors"], K) + 1, p["seed"])
    progress(0, 0, f"{what} map: {p['method']}")
    coords = _embed(store, points, idx, sims, metric, p, progress)
    progress(0, 0, f"{what} map: faithfulness")
    meta = {"what": what, "by": "words" if what == "words" else ("topics" if model["kind"] == "lda" else "vectors"),
            "model_id": model["id"], "method": p["method"], "params": p, "seed": p["seed"], "n": n,
            "dimensions": int(points.shape[1]), "metric": metric,
            "faithfulness": faithfulness(points, coords, idx, metric, p["seed"]),
            "versions": _versions(p["method"]), "seconds": round(time.perf_counter() - started, 3),
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    _store(registry.model_path(store, model, "maps"), meta, {"coords": coords, **extra})
    log.info("%s map of model %s: %s, %d points, %.1f s", what, model["id"], p["method"], n, meta["seconds"])
    return meta


def after_training(store, model_id, method, progress=None):
    """The maps a newly trained model gets (``method`` "none": none); a failed or
    cancelled map is reported, and the model stays."""
    if method in (None, "none"):
        return []
    _, model = registry.get_model(store, model_id)
    out = []
    for what in kinds_of(model):
        try:
            out.append(summary(make_map(store, model_id, what, {"method": method}, progress)))
        except Cancelled:
            out.append({"what": what, "method": method, "error": "cancelled"})
            break
        except TextlatentError as e:
            out.append({"what": what, "method": method, "error": e.message})
        except (OSError, MemoryError) as e:        # no space, no memory: the model stays
            out.append({"what": what, "method": method, "error": f"{type(e).__name__}: {e}"[:300]})
    return out


def summary(meta):
    """What a job reports of a map it made."""
    return {k: meta[k] for k in ("what", "by", "method", "n", "seconds", "faithfulness")}


def _points(store, corpus, model, what):
    """``(unit rows n x d float32, metric, arrays to store beside the map)``."""
    folder = registry.model_path(store, model)
    if model["kind"] == "lda":
        theta = np.load(os.path.join(folder, "doc_topics.npy"), mmap_mode="r", allow_pickle=False)
        root = np.sqrt(np.maximum(np.asarray(theta, dtype=np.float32), 0))
        return root / np.maximum(np.linalg.norm(root, axis=1, keepdims=True), 1e-12), "euclidean", {}
    unit = np.load(os.path.join(folder, "unit.npy"), mmap_mode="r", allow_pickle=False)
    if what == "words":
        return np.ascontiguousarray(unit, dtype=np.float32), "cosine", {}
    vectors = document_vectors(store, corpus, model)
    return vectors, "cosine", {"vectors": vectors}


def document_vectors(store, corpus, model):
    """Each document's vector (documents x dimensions float32, length 1): the mean of its
    words' unit vectors, each occurrence weighted by a / (a + p(word)), a = 0.001 (smooth
    inverse frequency: frequent words say little about a document). A document with none
    of the model's words gets the mean direction of all of them."""
    from ..corpus import StoredCorpus
    folder = registry.model_path(store, model)
    unit = np.load(os.path.join(folder, "unit.npy"), allow_pickle=False)
    counts = np.load(os.path.join(folder, "counts.npy"), allow_pickle=False).astype(np.float64)
    weight = (SIF_A / (SIF_A + counts / max(counts.sum(), 1))).astype(np.float32)
    index = {w: i for i, w in enumerate(registry.read_json(os.path.join(folder, "words.json")))}
    stored = StoredCorpus(store, corpus["name"])
    to_word = np.array([index.get(t, -1) for t in stored.terms], dtype=np.int64)
    out = np.zeros((stored.num_docs, unit.shape[1]), dtype=np.float32)
    for position, ids in stored.token_ids():
        w = to_word[ids]
        w = w[w >= 0]
        if len(w):
            out[position] = weight[w] @ unit[w]
    norms = np.linalg.norm(out, axis=1)
    empty = norms == 0
    if empty.all():
        raise InvalidInput(f"no document of {corpus['name']!r} has a word of Word2Vec model {model['id']}")
    out[~empty] /= norms[~empty, None]
    mean = out[~empty].mean(0)
    out[empty] = mean / max(np.linalg.norm(mean), 1e-12)
    return out


def _embed(store, points, idx, sims, metric, p, progress):
    """2-D coordinates (n x 2 float32) of the unit rows ``points``."""
    n = len(points)
    if p["method"] == "pca" or n < 8:          # UMAP and t-SNE need some neighbours to place
        return pca(points)
    if p["method"] == "umap":
        dists = 1 - sims if metric == "cosine" else np.sqrt(np.maximum(2 - 2 * sims, 0))
        dists = np.maximum(dists, 0).astype(np.float32)
        dists[:, 0] = 0
        return umap_layout(store.home, points, idx, dists, metric, p, progress)
    return _tsne(points, metric, p, progress, store.workers)


def pca(points):
    """The first two principal components (n x 2 float32), signs fixed so that each
    component's largest loading is positive (the same map every time)."""
    centred = points - points.mean(0)
    w, v = np.linalg.eigh(centred.T.astype(np.float64) @ centred)
    v = v[:, ::-1][:, :2]
    if v.shape[1] < 2:
        v = np.pad(v, ((0, 0), (0, 2 - v.shape[1])))
    v *= np.where(v[np.abs(v).argmax(0), [0, 1]] < 0, -1, 1)
    return (centred @ v).astype(np.float32)


_umap_lock = threading.Lock()


def load_umap(home):
    """umap-learn, imported so that a fresh process compiles as little as possible.

    numba keeps compiled code on disk only for functions marked ``cache=True``, which
    umap-learn's are not; caching is switched on for each of them here, before their
    first call, with the cache in ``<home>/cache/numba`` (``NUMBA_CACHE_DIR``, unless
    already set). A worker's second process then loads instead of compiling.
    """
    with _umap_lock:
        if "umap" in sys.modules and getattr(sys.modules["umap"], "_textlatent_cached", False):
            return sys.modules["umap"]
        os.environ.setdefault("NUMBA_CACHE_DIR", os.path.join(home, "cache", "numba"))
        if "numba" in sys.modules:
            sys.modules["numba"].core.config.reload_config()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import umap
            import umap.layouts  # noqa: F401
            import umap.umap_  # noqa: F401
        from numba.core.caching import NullCache
        from numba.core.dispatcher import Dispatcher
        for name, module in list(sys.modules.items()):
            if module is not None and (name == "umap" or name.startswith("umap.")):
                for obj in list(vars(module).values()):
                    if isinstance(obj, Dispatcher) and isinstance(obj._cache, NullCache):
                        obj.enable_caching()
        umap._textlatent_cached = True
        return umap


def umap_layout(home, points, idx, dists, metric, p, progress, n_epochs=None):
    """UMAP on a precomputed neighbour graph (indices and distances n x k, self first);
    single-threaded, as umap-learn is for a fixed seed (its parallel layout is not
    reproducible)."""
    umap = load_umap(home)
    k = min(p["n_neighbors"], len(points) - 1, idx.shape[1])
    model = umap.UMAP(n_neighbors=k, min_dist=p["min_dist"], metric=metric, random_state=p["seed"],
                      n_epochs=n_epochs, precomputed_knn=(idx[:, :k], dists[:, :k], None), verbose=False,
                      n_jobs=1, tqdm_kwds={"disable": False, "file": _Epochs(progress), "mininterval": 0.5,
                                           "bar_format": "{n}/{total}"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # "n_jobs overridden by random_state", "no search index"
        return np.asarray(model.fit_transform(points), dtype=np.float32)


class _Epochs:
    """A file for umap-learn's tqdm bar (its only progress report): turns "90/200" into
    ``progress`` calls, and lets a cancel raised there stop the epochs."""

    def __init__(self, progress):
        self.progress, self.stopped = progress, False

    def write(self, text):
        m = re.search(r"(\d+)/(\d+)", text)
        if m and not self.stopped:
            try:
                self.progress(int(m.group(1)), int(m.group(2)), f"UMAP epoch {m.group(1)} of {m.group(2)}")
            except Cancelled:
                self.stopped = True        # tqdm writes again while closing; raise once
                raise

    def flush(self):
        pass


def _tsne(points, metric, p, progress, workers):
    from openTSNE import TSNE
    calls = {"n": 0}
    total = 750                               # 250 early-exaggeration + 500 iterations

    def callback(iteration, error, embedding):
        calls["n"] += 25
        progress(min(calls["n"], total), total, f"t-SNE iteration {min(calls['n'], total)} of {total}")

    perplexity = min(p["perplexity"], (len(points) - 1) / 3)
    tsne = TSNE(perplexity=perplexity, metric=metric, n_jobs=max(1, workers), random_state=p["seed"],
                callbacks=callback, callbacks_every_iters=25, verbose=False)
    return np.asarray(tsne.fit(points), dtype=np.float32)


def faithfulness(points, coords, idx, metric, seed):
    """How well the map keeps neighbourhoods: ``neighbours_kept``, the mean share of each
    point's 10 nearest neighbours (``idx``, n x >10, self first) that are among its 10
    nearest on the map, over all points; and scikit-learn's trustworthiness (0..1, higher
    is better) on a sample of 2,000 points."""
    from scipy.spatial import cKDTree
    n = len(points)
    k = min(K, n - 1)
    if k < 1:
        return {"k": 0, "neighbours_kept": None, "trustworthiness": None, "trustworthiness_sample": 0}
    lo = cKDTree(coords.astype(np.float64)).query(coords, k=k + 1)[1]
    lo = np.atleast_2d(lo)
    lo, _ = _self_first(lo.astype(np.int64), np.zeros(lo.shape, dtype=np.float32))
    out = {"k": k, "neighbours_kept": round(neighbours_kept(idx, lo, k), 4)}
    sample = np.sort(np.random.default_rng(seed).choice(n, min(n, TRUST_SAMPLE), replace=False))
    trust = None
    if len(sample) > 2 * k + 1:
        from sklearn.manifold import trustworthiness
        trust = round(float(trustworthiness(points[sample], coords[sample], n_neighbors=k, metric=metric)), 4)
    out.update(trustworthiness=trust, trustworthiness_sample=int(len(sample)))
    return out


def _versions(method):
    from importlib.metadata import PackageNotFoundError, version
    name = {"umap": "umap-learn", "tsne": "openTSNE", "pca": "numpy"}[method]
    try:
        return {name: version(name)}
    except PackageNotFoundError:
        return {}


def warm_up(home):
    """Compile, or load from numba's on-disk cache, what a UMAP map runs (500 random
    points): a worker calls this as it starts, so that its first map does not wait."""
    t = time.perf_counter()
    rng = np.random.default_rng(0)
    points = rng.standard_normal((500, 8)).astype(np.float32)
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    idx, sims = knn(points, 16)
    p = validate_map({"method": "umap"})
    umap_layout(home, points, idx, np.maximum(1 - sims, 0).astype(np.float32), "cosine", p,
                lambda *a: None, n_epochs=20)
    log.info("UMAP warmed up in %.1f s", time.perf_counter() - t)


# -- storing and reading -----------------------------------------------------------------------

def _store(folder, meta, arrays):
    os.makedirs(folder, exist_ok=True)
    base = f"{meta['what']}-{meta['method']}"
    token = uuid.uuid4().hex[:12]
    meta["files"] = {}
    for name, array in arrays.items():
        fname = f"{base}-{token}.{name}.npy"
        _write_atomic(os.path.join(folder, fname), lambda fh, a=array: np.save(fh, np.ascontiguousarray(a)))
        meta["files"][name] = fname
    path = os.path.join(folder, base + ".json")
    old = registry.read_json(path) if os.path.exists(path) else None
    _write_atomic(path, lambda fh: fh.write(json.dumps(meta, ensure_ascii=False).encode()))
    for fname in (old or {}).get("files", {}).values():
        if fname not in meta["files"].values():
            try:
                os.remove(os.path.join(folder, fname))
            except FileNotFoundError:
                pass


def _write_atomic(path, write):
    tmp = f"{path}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        with open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def list_maps(store, model):
    """The model's maps' metadata, newest first."""
    folder = registry.model_path(store, model, "maps")
    if not os.path.isdir(folder):
        return []
    metas = [registry.read_json(os.path.join(folder, f)) for f in os.listdir(folder) if f.endswith(".json")]
    return sorted(metas, key=lambda m: m["created"], reverse=True)


def read_map(store, model, what, method=None):
    """``(metadata, {name: array})`` of the model's ``what`` map by ``method`` (default:
    the newest made); arrays are memory-mapped (``coords``: n x 2 float32)."""
    check_what(model, what)
    if method is not None and method not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)}, not {str(method)[:50]!r}")
    found = [m for m in list_maps(store, model) if m["what"] == what and method in (None, m["method"])]
    if not found:
        how = f" by {method}" if method else ""
        raise MapNotFound(f"model {model['id']} has no {what} map{how} yet: make one with "
                          f"`textlatent map CORPUS {what} --model {model['id']}` or "
                          f"POST /api/v1/models/{model['id']}/maps", model_id=model["id"], what=what)
    meta = found[0]
    folder = registry.model_path(store, model, "maps")
    arrays = {name: np.load(os.path.join(folder, f), mmap_mode="r", allow_pickle=False)
              for name, f in meta["files"].items()}
    return meta, arrays
