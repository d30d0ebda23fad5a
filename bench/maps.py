"""Maps: textlatent's word and document maps against umap-learn run plainly (as a notebook
would) and PCA, on the same vectors; a fresh worker's first map; the map page in headless
Chromium. ``bench_maps`` runs in ``python -m bench``; the other functions are child tasks
(``python -m bench.child maps.NAME``), each in a fresh process.
"""

import json
import os
import shutil
import time

import numpy as np

from .common import WORK, child, median


# -- child tasks ---------------------------------------------------------------------------------

def _store(home):
    from .child import config
    return config(home)


def _points(home, model_id, what):
    """The unit rows a map places, and their metric, as textlatent reads them."""
    from textlatent.explore.maps import _points as points
    from textlatent.store import registry
    store = _store(home)
    corpus, model = registry.get_model(store, model_id)
    x, metric, _ = points(store, corpus, model, what)
    return x, metric


def map_textlatent(home, model_id, what, method="umap", cache=None, repeat=1):
    """``make_map`` in this fresh process, ``repeat`` times (numba's on-disk cache in ``cache``)."""
    from .child import rss_mb
    if cache:
        os.environ["NUMBA_CACHE_DIR"] = cache
    from textlatent.explore.maps import make_map
    seconds = []
    for _ in range(repeat):
        t = time.perf_counter()
        meta = make_map(_store(home), model_id, what, {"method": method, "seed": 1})
        seconds.append(round(time.perf_counter() - t, 2))
    cpu = os.times()
    return {"seconds": seconds, "cpu_seconds": round(cpu.user + cpu.system, 1), "n": meta["n"],
            "faithfulness": meta["faithfulness"], "files": meta["files"], "rss_mb": rss_mb()}


def map_plain(home, model_id, what, out, method="umap", cache=None, repeat=2):
    """The notebook's way: ``umap.UMAP(metric=...).fit_transform(vectors)`` with umap-learn's
    defaults (no seed, so its parallel layout and pynndescent's neighbours), or scikit-learn's
    PCA, on the vectors textlatent maps; coordinates of the last run saved to ``out``."""
    from .child import rss_mb
    if cache:
        os.environ["NUMBA_CACHE_DIR"] = cache
    x, metric = _points(home, model_id, what)
    t = time.perf_counter()
    if method == "umap":
        import umap
        make = lambda: umap.UMAP(metric=metric).fit_transform(x)  # noqa: E731
    else:
        from sklearn.decomposition import PCA
        make = lambda: PCA(n_components=2).fit_transform(x)  # noqa: E731
    imported = time.perf_counter() - t
    seconds = []
    for _ in range(repeat):
        t = time.perf_counter()
        coords = make()
        seconds.append(round(time.perf_counter() - t, 2))
    np.save(out, np.asarray(coords, dtype=np.float32))
    cpu = os.times()
    return {"import_seconds": round(imported, 2), "seconds": seconds, "cpu_seconds": round(cpu.user + cpu.system, 1),
            "rss_mb": rss_mb()}


def faithfulness_exact(home, model_id, what, coords):
    """Each map's share of exact 10 nearest neighbours kept (brute force on all points) and
    trustworthiness on one 2,000-point sample: ``coords`` names -> .npy paths."""
    from scipy.spatial import cKDTree
    from sklearn.manifold import trustworthiness

    from textlatent.explore.knn import _self_first, neighbours_kept
    x, metric = _points(home, model_id, what)
    n, k = len(x), 10
    hi = np.empty((n, k + 1), dtype=np.int64)
    for start in range(0, n, 1024):
        s = x[start:start + 1024] @ x.T
        p = np.argpartition(-s, k, axis=1)[:, :k + 1]
        hi[start:start + 1024] = np.take_along_axis(p, np.argsort(-np.take_along_axis(s, p, 1), axis=1), 1)
    hi, _ = _self_first(hi, np.zeros(hi.shape, dtype=np.float32))
    sample = np.sort(np.random.default_rng(1).choice(n, min(n, 2000), replace=False))
    out = {}
    for name, path in coords.items():
        y = np.load(path)
        lo, _ = _self_first(cKDTree(y).query(y, k=k + 1)[1].astype(np.int64), np.zeros((n, k + 1), dtype=np.float32))
        out[name] = {"neighbours_kept": round(neighbours_kept(hi, lo, k), 4),
                     "trustworthiness": round(float(trustworthiness(x[sample], y[sample], n_neighbors=k,
                                                                    metric=metric)), 4)}
    return out


def page_timing(base, paths, loads=3, redraws=40):
    """Each page in headless Chromium: first frame (ms since navigation, until a pixel is read
    back) and when the words or titles had come; pan redraws (ms around one draw with its
    labels: the layer of points moved), full redraws (every point drawn again, as after a
    change of colours or a zoom past a third), and, beside them, Canvas 2D drawing the same
    points with fillRect, as a page without WebGL would."""
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
    redraw_js = """(k) => { const m = document.getElementById('map-canvas').mapView, out = [];
      m.fit(); m.drawNow(); const before = m.renderer.layerDraws;
      for (let i = 0; i < k; i++) { m.view.cx += 3 / m.view.s; const t = performance.now(); m.drawNow();
        out.push(performance.now() - t); } return {ms: out, layer_draws: m.renderer.layerDraws - before}; }"""
    full_js = """(k) => { const m = document.getElementById('map-canvas').mapView, out = [];
      m.fit(); for (let i = 0; i < k; i++) { m.renderer.invalidate(); const t = performance.now(); m.drawNow();
        out.push(performance.now() - t); } return out; }"""
    canvas2d_js = """() => { const m = document.getElementById('map-canvas').mapView, c = document.createElement('canvas');
      c.width = m.width; c.height = m.height; const ctx = c.getContext('2d'), out = [];
      for (let r = 0; r < 3; r++) { const t = performance.now();
        ctx.clearRect(0, 0, c.width, c.height);
        for (let i = 0; i < m.n; i++) { const [x, y] = m.screenOf(i); ctx.fillStyle = i % 2 ? '#1f77b4' : '#ff7f0e';
          ctx.fillRect(x, y, 3, 3); }
        ctx.getImageData(0, 0, 1, 1); out.push(performance.now() - t); } return out; }"""
    result = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for path in paths:
            first, texts, points = [], [], None
            for _ in range(loads):
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(base + path + ("&" if "?" in path else "?") + "timing=1")
                page.wait_for_selector("#map-canvas[data-points][data-texts]", timeout=120_000)
                first.append(float(page.get_attribute("#map-canvas", "data-first-frame-ms")))
                texts.append(float(page.get_attribute("#map-canvas", "data-texts-ms")))
                points = int(page.get_attribute("#map-canvas", "data-points"))
                if len(first) < loads:
                    page.close()
            pans = page.evaluate(redraw_js, redraws)
            draws = pans["ms"]
            full = page.evaluate(full_js, 10)
            flat = page.evaluate(canvas2d_js)
            page.close()
            result[path] = {"points": points, "first_frame_ms": [round(x) for x in first],
                            "first_frame_ms_median": median(first), "texts_ms_median": median(texts),
                            "redraw_ms_median": median(draws),
                            "redraw_ms_p90": round(sorted(draws)[int(0.9 * len(draws))], 2),
                            "redraw_layer_draws": pans["layer_draws"],
                            "full_redraw_ms_median": median(full), "canvas2d_ms_median": median(flat)}
        browser.close()
    return result


# -- the benchmark -------------------------------------------------------------------------------

class _Steps:
    """Results of the benchmark's steps kept as they come (a run cut short resumes after
    its last finished step; remove the file, or the maps folder of bench/.work, to start over)."""

    def __init__(self, path):
        self.path = path
        self.done = json.loads(path.read_text()) if path.exists() else {}

    def __call__(self, name, fn):
        if name not in self.done:
            self.done[name] = fn()
            self.path.write_text(json.dumps(self.done, indent=1))
        return self.done[name]


def _worker_first_map(home, model_id, what, empty_cache):
    """Seconds from starting `textlatent serve` (and its worker, which warms UMAP up before
    its first job) to the end of a map job submitted at once."""
    from .http import Server
    if empty_cache:
        shutil.rmtree(os.path.join(home, "cache", "numba"), ignore_errors=True)
    t = time.perf_counter()
    server = Server(home, worker=True)
    try:
        _, job = server.post_json(f"/api/v1/models/{model_id}/maps", {"what": what, "params": {"method": "umap"}})
        job = server.wait_job(job)
        assert job["status"] == "finished", job
        return {"seconds": round(time.perf_counter() - t, 1), "map_seconds": job["result"]["seconds"]}
    finally:
        server.stop()


def _wire_bytes(home, paths):
    from .http import Server
    server = Server(home, worker=False)
    out = {}
    try:
        for path in paths:
            c = server.conn()
            c.request("GET", path, headers={"Accept-Encoding": "gzip"})
            r = c.getresponse()
            gz = len(r.read())
            c.close()
            _, raw = server.get(path)
            out[path] = {"gzip_bytes": gz, "raw_bytes": len(raw)}
    finally:
        server.stop()
    return out


def bench_maps(run):
    """Word map of 20 Newsgroups' Word2Vec and its document map (topics): textlatent fresh
    (empty numba cache, and the cache a worker fills) and warm, against plain umap-learn
    (fresh and warm) and PCA; exact faithfulness of each; a worker's first map; page timing."""
    home, ids = run.news_models()
    work = WORK / f"{run.tag}-maps"
    work.mkdir(parents=True, exist_ok=True)
    step = _Steps(work / "steps.json")
    out = {"words": {}, "documents": {}}
    for what, model_id in (("words", ids["w2v"]), ("documents", ids["lda"])):
        r = out[what]
        cache, plain_cache = str(work / f"numba-{what}"), str(work / f"numba-plain-{what}")

        def fresh(folder):
            shutil.rmtree(folder, ignore_errors=True)
            return folder
        r["textlatent_fresh_empty_cache"] = step(f"{what}-empty", lambda: child(
            "maps.map_textlatent", home=home, model_id=model_id, what=what, cache=fresh(cache)))
        r["textlatent_fresh_with_cache"] = step(f"{what}-cached", lambda: child(
            "maps.map_textlatent", home=home, model_id=model_id, what=what, cache=cache, repeat=2))
        ours = r["textlatent_fresh_with_cache"]
        r["textlatent_warm_s"] = ours["seconds"][-1]
        r["umap_plain"] = step(f"{what}-plain", lambda: child(
            "maps.map_plain", home=home, model_id=model_id, what=what, cache=fresh(plain_cache),
            out=str(work / f"plain-{what}.npy")))
        r["pca_plain"] = step(f"{what}-pca-plain", lambda: child(
            "maps.map_plain", home=home, model_id=model_id, what=what, method="pca", repeat=3,
            out=str(work / f"pca-{what}.npy")))
        r["textlatent_pca"] = step(f"{what}-pca", lambda: child(
            "maps.map_textlatent", home=home, model_id=model_id, what=what, method="pca"))
        maps_dir = os.path.join(home, child("maps.model_path", home=home, model_id=model_id), "maps")
        r["faithfulness_exact"] = step(f"{what}-faithfulness", lambda: child(
            "maps.faithfulness_exact", home=home, model_id=model_id, what=what, coords={
                "textlatent_umap": os.path.join(maps_dir, ours["files"]["coords"]),
                "textlatent_pca": os.path.join(maps_dir, r["textlatent_pca"]["files"]["coords"]),
                "umap_plain": str(work / f"plain-{what}.npy"), "pca_plain": str(work / f"pca-{what}.npy")}))
        r["n"] = ours["n"]
    w = out["words"]
    w["worker_first_map_empty_cache"] = step("worker-empty", lambda: _worker_first_map(home, ids["w2v"], "words", True))
    w["worker_first_map_with_cache"] = step("worker-cached", lambda: _worker_first_map(home, ids["w2v"], "words", False))
    paths = [f"/corpora/news/map/words?model={ids['w2v']}", f"/corpora/news/map/documents?model={ids['lda']}"]
    from .http import Server
    server = Server(home, worker=False)
    try:
        out["page"] = child("maps.page_timing", base=f"http://127.0.0.1:{server.port}", paths=paths)
    finally:
        server.stop()
    out["wire"] = _wire_bytes(home, [f"/api/v1/models/{ids['w2v']}/maps/words/{part}"
                                     for part in ("points", "texts")] +
                              [f"/api/v1/models/{ids['lda']}/maps/documents/{part}" for part in ("points", "texts")])
    sizes = {"words": w["n"], "documents": out["documents"]["n"]}
    if not run.quick:
        out["large"] = _large(run, str(work / "numba-words"), step)
        sizes["gutenberg"] = out["large"]["map"]["n"]
        out["wire"].update(out["large"].pop("wire"))
    for key, v in out["wire"].items():
        n = next(count for name, count in sizes.items() if f"/{name}/" in key or f"maps/{name}" in key)
        v["gzip_mb_per_100k_points"] = round(v["gzip_bytes"] / n * 1e5 / 1e6, 3)
    return _summarise(out, run)


def _large(run, cache, step):
    """gutenberg8 as 1,000-word documents, ingested without lemmas, and its Word2Vec at
    min_count 1: every written form, about the 124,000 words of issue 17's target (gutenberg8
    has 122,973 distinct words; lemmas would fold them to 110,091). Its word map by UMAP
    (numba's cache filled by the 20 Newsgroups runs), and its page."""
    from .http import Server
    run.gutenberg_home()                   # writes the 1,000-word documents
    home = run.home("maps-large")
    if not os.path.exists(os.path.join(home, "bench-ingested")):
        shutil.rmtree(home, ignore_errors=True)
        child("ingest_textlatent", src=str(WORK / f"gutenberg8-{run.tag}.jsonl"), home=home, name="gutenberg",
              label_field=None, lemmas=False)
        open(os.path.join(home, "bench-ingested"), "w").close()
    state = os.path.join(home, "bench-big-model.json")
    if not os.path.exists(state):
        made = child("w2v_textlatent", home=home, name="gutenberg", params={"min_count": 1, "epochs": 1})
        with open(state, "w") as fh:
            json.dump(made, fh)
    with open(state) as fh:
        model_id = json.load(fh)["model_id"]
    out = {"map": step("large-map", lambda: child("maps.map_textlatent", home=home, model_id=model_id,
                                                    what="words", cache=cache))}
    server = Server(home, worker=False)
    try:
        out["page"] = step("large-page", lambda: child("maps.page_timing", base=f"http://127.0.0.1:{server.port}",
                                                        paths=[f"/corpora/gutenberg/map/words?model={model_id}"]))
    finally:
        server.stop()
    out["wire"] = _wire_bytes(home, [f"/api/v1/models/{model_id}/maps/words/{part}" for part in ("points", "texts")])
    out["wire"] = {k.replace("/maps/words/", "/maps/gutenberg/"): v for k, v in out["wire"].items()}
    return out


def model_path(home, model_id):
    from textlatent.store import registry
    return registry.get_model(_store(home), model_id)[1]["path"]


def _summarise(out, run):
    w, d = out["words"], out["documents"]
    fw = w["faithfulness_exact"]
    plain_first = w["umap_plain"]["import_seconds"] + w["umap_plain"]["seconds"][0]
    out["conditions"] = (
        f"20 Newsgroups ({run.news}); Word2Vec defaults of the bench (epochs 5): {w['n']:,} words x 100; LDA K=20: "
        f"{d['n']:,} documents. textlatent: make_map, UMAP n_neighbors 15, min_dist 0.1, seed 1 (single-threaded "
        "layout), neighbours from its numpy forest; each run a fresh process, numba's cache empty or filled by the "
        "run before; warm = a second map in the same process. Plain umap-learn: UMAP(metric=cosine or euclidean), "
        "its defaults, no seed, fresh process and empty numba cache, then a second call in that process; PCA: "
        "scikit-learn. Faithfulness against exact neighbours (brute force) over all points; trustworthiness on one "
        "2,000-point sample. Worker: textlatent serve started, map job posted at once, seconds to its end (the "
        "worker fills numba's cache in a process of its own before its first job). Page: headless Chromium "
        "(SwiftShader WebGL2), first frame since navigation until a pixel is read back (median of 3 loads, the first "
        "building the server's cached points) and when the words or titles, fetched beside the points, had come; 40 "
        "pan redraws of 3 px with their labels (the layer of drawn points moves; none drew every point again), full "
        "redraws (every point drawn again into the layer), and Canvas 2D fillRect of the same points beside it. Wire: "
        "gzip bytes of the points and, apart, of the texts. Large: gutenberg8 as 1,000-word documents ingested without "
        "lemmas, Word2Vec min_count 1, epochs 1, its word map as above. 2 cores shared with other work: compare "
        "within the run")
    out["ratios"] = {
        "words_neighbours_kept_vs_plain_umap": round(fw["textlatent_umap"]["neighbours_kept"]
                                                     / fw["umap_plain"]["neighbours_kept"], 3),
        "words_neighbours_kept_vs_pca": round(fw["textlatent_umap"]["neighbours_kept"]
                                              / fw["pca_plain"]["neighbours_kept"], 2),
        "words_fresh_vs_plain_first_call": round(w["textlatent_fresh_with_cache"]["seconds"][0] / plain_first, 3),
    }
    pages = list(out["page"].values()) + (list(out["large"]["page"].values()) if out.get("large") else [])
    large = out.get("large")
    if large:
        big_page = next(iter(large["page"].values()))
        out["targets"] = {f"{large['map']['n']:,} words <= 90 s": large["map"]["seconds"][0] <= 90,
                          f"{large['map']['n']:,}-word map job <= 1.5 GB": max(large["map"]["rss_mb"]) <= 1536,
                          f"page first frame <= 1.5 s at {big_page['points']:,} points":
                              big_page["first_frame_ms_median"] <= 1500}
    out["targets"] = {**out.get("targets", {}),
        "words warm <= 15 s": w["textlatent_warm_s"] <= 15,
        "words fresh worker <= 30 s": w["worker_first_map_with_cache"]["seconds"] <= 30,
        "documents <= 15 s": d["textlatent_fresh_with_cache"]["seconds"][-1] <= 15,
        "neighbours kept >= 0.9 x plain UMAP": out["ratios"]["words_neighbours_kept_vs_plain_umap"] >= 0.9,
        "page redraw <= 50 ms": all(p["redraw_ms_median"] <= 50 for p in pages),
        "points <= 1.5 MB per 100k": all(v["gzip_mb_per_100k_points"] <= 1.5 for k, v in out["wire"].items()
                                         if k.endswith("/points")),
    }
    return out
