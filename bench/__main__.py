"""``python -m bench [all | NAME...] [--quick] [--reps N]``: run benchmarks, write
bench/results/<name>.json and regenerate BENCHMARKS.md."""

import argparse
import json
import os
import shutil
import time
from urllib.parse import quote

from .common import GUTENBERG, NEWS, RESULTS, ROOT, WORK, child, median, percentile, save
from .http import Server, latencies, throughput, wrk
from .maps import bench_maps  # noqa: F401  (run by name, as bench_<name>)

from .loco import load as load_loco, render as render_loco
from . import same_text, start_weight
from .quality import render as render_quality, run_quality
from .scale import bench_scale  # noqa: F401  (found by name, as the others)
from .scale import render as render_scale
from .shards import bench_shards  # noqa: F401

NAMES = ("ingest", "lda", "word2vec", "similar", "topic_page", "e2e", "memory", "maps", "scale", "shards", "quality", "sweep")


class Run:
    def __init__(self, quick, reps, sizes=None, keep=False, reads=False):
        self.quick = quick
        self.sizes = sizes
        self.keep, self.reads = keep, reads
        self.reps = reps or (1 if quick else 3)
        WORK.mkdir(parents=True, exist_ok=True)
        self.news = str(NEWS)
        if quick:
            self.news = str(WORK / "news-quick.jsonl")
            if not os.path.exists(self.news):
                with open(NEWS, encoding="utf-8") as fh, open(self.news, "w", encoding="utf-8") as out:
                    for i, line in enumerate(fh):
                        if i % 6 == 0:
                            out.write(line)
        self.tag = "quick" if quick else "full"

    def home(self, name, fresh=False):
        path = WORK / f"{self.tag}-{name}"
        if fresh and path.exists():
            shutil.rmtree(path)
        return str(path)

    # -- shared state ---------------------------------------------------------------------
    def news_home(self):
        home = self.home("news")
        done = os.path.join(home, "bench-ingested")
        if not os.path.exists(done):
            if os.path.exists(home):
                shutil.rmtree(home)
            child("ingest_textlatent", src=self.news, home=home)
            open(done, "w").close()
        return home

    def news_models(self):
        home = self.news_home()
        state = os.path.join(home, "bench-models.json")
        if os.path.exists(state):
            return home, json.load(open(state))
        lda = child("lda_textlatent", home=home, name="news", seed=1)
        w2v = child("w2v_textlatent", home=home, name="news", params={"epochs": 5})
        ids = {"lda": lda["model_id"], "w2v": w2v["model_id"]}
        json.dump(ids, open(state, "w"))
        return home, ids

    def gutenberg_home(self):
        """gutenberg8 as documents of 1,000 words, ingested by textlatent."""
        home = self.home("gutenberg")
        done = os.path.join(home, "bench-ingested")          # written only after a complete ingest
        if os.path.exists(done):
            return home, self._gutenberg_lines()
        if os.path.exists(home):
            shutil.rmtree(home)
        src = str(WORK / f"gutenberg8-{self.tag}.jsonl")
        words = open(GUTENBERG).read().split()
        if self.quick:
            words = words[:2_000_000]
        with open(src, "w") as out:
            for i in range(0, len(words), 1000):
                out.write(json.dumps({"id": str(i // 1000), "text": " ".join(words[i:i + 1000])}) + "\n")
        with open(self._gutenberg_lines(), "w") as out:
            for i in range(0, len(words), 1000):
                out.write(" ".join(words[i:i + 1000]) + "\n")
        del words
        child("ingest_textlatent", src=src, home=home, name="gutenberg", label_field=None)
        open(done, "w").close()
        return home, self._gutenberg_lines()

    def _gutenberg_lines(self):
        return str(WORK / f"gutenberg8-{self.tag}.txt")


# -- the benchmarks ------------------------------------------------------------------------------

def bench_ingest(run):
    words = child("raw_words", src=run.news)["words"]
    tl, script = [], []
    for rep in range(run.reps):
        order = [("textlatent", tl), ("script", script)]
        for system, out in order if rep % 2 == 0 else order[::-1]:
            if system == "textlatent":
                out.append(child("ingest_textlatent", src=run.news, home=run.home("ingest", fresh=True)))
            else:
                out.append(child("ingest_script", src=run.news))
    t, s = median([r["seconds"] for r in tl]), median([r["seconds"] for r in script])
    return {"conditions": f"{run.news}: {words:,} raw words; {run.reps} repetitions, alternating; "
                          "textlatent with 2 tokenizer processes; the script one process",
            "raw_words": words,
            "textlatent": {"seconds": t, "words_per_second": round(words / t), "runs": tl,
                           "peak_rss_mb": max(max(r["rss_mb"]) for r in tl)},
            "script": {"seconds": s, "words_per_second": round(words / s), "runs": script,
                       "peak_rss_mb": max(max(r["rss_mb"]) for r in script)},
            "ratio": round(s / t, 2),
            "targets": {"ratio >= 1.5": s / t >= 1.5, "words/s >= 150k": words / t >= 150_000}}


def bench_lda(run):
    home = run.news_home()
    seeds = [1] if run.quick else [1, 2, 3]
    try:
        import tomotopy  # noqa: F401
        systems = ("textlatent", "notebook", "tomotopy")
    except ImportError:
        systems = ("textlatent", "notebook")
    runs = {s: [] for s in systems}
    for i, seed in enumerate(seeds):
        for system in systems[i % len(systems):] + systems[:i % len(systems)]:
            if system == "textlatent":
                runs[system].append(child("lda_textlatent", home=home, name="news", seed=seed))
            elif system == "notebook":
                runs[system].append(child("lda_notebook", src=run.news, seed=seed))
            else:
                runs[system].append(child("lda_tomotopy", home=home, name="news", seed=seed))
    coh = child("coherence", src=run.news, home=home, name="news",
                systems={s: [r["topics"] for r in runs[s]] for s in systems})
    out = {"conditions": f"{run.news}, K=20, seeds {seeds}; textlatent: its defaults "
                         "(lemmas, e-mail headers/quotes/signatures/sign-offs removed, phrases, SMART stop list, "
                         "keep_n 10,000, shuffled passes, 2 workers; the rest chosen from the corpus, the values in "
                         "each run's params); "
                         "notebook: simple_preprocess + stop words, filter_extremes(5, 0.5), "
                         "LdaMulticore(passes=10, workers=2); tomotopy: LDAModel on textlatent's tokens "
                         "(the same vocabulary filters), "
                         "200 iterations, 2 workers. c_npmi on one reference: each post's textlatent tokens "
                         "followed by its simple_preprocess tokens (gensim CoherenceModel, top 10 words)"}
    for s in systems:
        out[s] = {"seconds": median([r["seconds"] for r in runs[s]]),
                  "nmi": median([r["nmi"] for r in runs[s]]),
                  "c_npmi": median([c["c_npmi"] for c in coh[s]]),
                  "runs": [{k: v for k, v in r.items() if k != "topics"} | c for r, c in zip(runs[s], coh[s])],
                  "topics_seed1": runs[s][0]["topics"]}
    t, nb = out["textlatent"], out["notebook"]
    out["targets"] = {"beats notebook NMI": t["nmi"] > nb["nmi"], "beats notebook c_npmi": t["c_npmi"] > nb["c_npmi"],
                      "NMI >= 0.40": t["nmi"] >= 0.40, "c_npmi >= 0.118": t["c_npmi"] >= 0.118,
                      "train <= 60 s": t["seconds"] <= 60}
    return out


def bench_word2vec(run):
    """The same token file on both sides (textlatent's stored tokens), so that the ratio is
    the service's overhead; plain gensim on the raw words is run too, for its quality."""
    home, lines = run.gutenberg_home()
    tokens = str(WORK / f"gutenberg8-{run.tag}-tokens.txt")
    if not os.path.exists(tokens):
        child("token_file", home=home, name="gutenberg", path=tokens)
    reps = 1 if run.quick else 2
    tl, gs = [], []
    for rep in range(reps):
        order = [("textlatent", tl), ("gensim", gs)]
        for system, out in order if rep % 2 == 0 else order[::-1]:
            if system == "textlatent":
                out.append(child("w2v_textlatent", home=home, name="gutenberg"))
            else:
                out.append(child("w2v_gensim", path=tokens))
    raw = child("w2v_gensim", path=lines)
    t, g = median([r["words_per_second"] for r in tl]), median([r["words_per_second"] for r in gs])
    return {"conditions": "gutenberg8 cut into 1,000-word documents and ingested (lemmas, stop words removed); "
                          "vector_size 100, window 5, min_count 5, epochs 5, CBOW, negative 5, 2 workers, "
                          "corpus_file mode. textlatent's train_word2vec against plain gensim Word2Vec on the "
                          f"same token file, {reps} repetitions, alternating; and plain gensim once on the raw "
                          "words (stop words kept, no lemmas) for its quality",
            "textlatent": {"words_per_second": round(t), "analogy": median([r["analogy"] for r in tl]),
                           "wordsim353": median([r["wordsim353"] for r in tl]), "runs": tl},
            "gensim_same_tokens": {"words_per_second": round(g), "analogy": median([r["analogy"] for r in gs]),
                                   "wordsim353": median([r["wordsim353"] for r in gs]), "runs": gs},
            "gensim_raw_words": {k: raw[k] for k in ("words_per_second", "analogy", "wordsim353", "vocabulary",
                                                     "corpus_words")},
            "ratio": round(t / g, 3), "targets": {"words/s ratio >= 0.95": t / g >= 0.95}}


def bench_similar(run):
    home, ids = run.news_models()
    lib = child("similar_library", home=home, name="news", model_id=ids["w2v"])
    out = {"news": lib}
    server = Server(home, worker=False)
    try:
        # Words are URL-encoded: the vocabulary holds terms such as "n+" and "c++".
        paths = [f"/api/v1/corpora/news/similar?word={quote(w)}&topn=10" for w in lib["words"]] * 5
        latencies(server, paths[:50])                   # warm-up
        lat = latencies(server, paths)
        out["news"]["http_p50_ms"] = round(1000 * percentile(lat, 50), 3)
        out["news"]["http_p99_ms"] = round(1000 * percentile(lat, 99), 3)
        out["news"]["http_requests_per_s_8_clients"] = round(throughput(server, paths, 8, 3 if run.quick else 10))
        out["news"]["wrk_1_connection"] = wrk(server, paths, 1, 3 if run.quick else 10)
        out["news"]["wrk_8_connections"] = wrk(server, paths, 8, 3 if run.quick else 10)
    finally:
        server.stop()
    ghome, _ = run.gutenberg_home()
    big = os.path.join(ghome, "bench-big-model.json")
    if not os.path.exists(big):
        r = child("w2v_textlatent", home=ghome, name="gutenberg", params={"min_count": 1, "epochs": 1})
        json.dump(r, open(big, "w"))
    big_model = json.load(open(big))
    out["large"] = child("similar_library", home=ghome, name="gutenberg", model_id=big_model["model_id"])
    for k in ("news", "large"):
        out[k].pop("words", None)
        out[k]["library_vs_bound"] = round(out[k]["library_p50_ms"] / out[k]["scan_bound_ms"], 2)
    n = out["news"]
    out["conditions"] = ("similar(word, topn=10) in one process after warm-up, 2,000 random words of the 20,000 "
                         "most frequent; gensim most_similar on the same vectors; scan bound = unit-vector matrix "
                         "bytes / read bandwidth measured in the same process; HTTP: one keep-alive client on "
                         "127.0.0.1 against textlatent serve (waitress, 4 threads), and 8 client threads for "
                         "requests/s (a Python client; it shares the 2 cores with the server); wrk (one thread, "
                         "1 and 8 keep-alive connections, the same paths in turn) likewise on the same 2 cores")
    out["targets"] = {"library p50 <= 1.5x bound (news)": n["library_vs_bound"] <= 1.5,
                      "library p50 <= 1.5x bound (large)": out["large"]["library_vs_bound"] <= 1.5,
                      "HTTP adds <= 1 ms": n["http_p50_ms"] - n["library_p50_ms"] <= 1.0}
    return out


def bench_topic_page(run):
    home, ids = run.news_models()
    r = child("topic_page", home=home, model_id=ids["lda"])
    server = Server(home, worker=False)
    try:
        for path, key in ((f"/models/{ids['lda']}/topics", "http_page"),
                          (f"/api/v1/models/{ids['lda']}/ldavis.json", "http_data")):
            lat = latencies(server, [path] * 200)
            r[key + "_p50_ms"] = round(1000 * percentile(lat, 50), 3)
    finally:
        server.stop()
    r["conditions"] = ("20 Newsgroups LDA K=20: Flask test client in process (server time), and HTTP on "
                       "127.0.0.1 (one keep-alive client); 200 requests each after warm-up. Baseline: "
                       "pyLDAvis.prepare + prepared_data_to_html on the trained arrays, once")
    r["targets"] = {"page <= 20 ms": r["page_p50_ms"] <= 20, "data <= 20 ms": r["data_p50_ms"] <= 20}
    return r


def bench_e2e(run):
    home = run.home("e2e", fresh=True)
    server = Server(home, worker=True)
    try:
        t0 = time.perf_counter()
        status, job = server.upload(run.news, {"name": "news", "label_field": "label"})
        assert status == 202, job
        t_upload = time.perf_counter() - t0
        job = server.wait_job(job)
        assert job["status"] == "finished", job
        t_ingest = time.perf_counter() - t0
        status, job = server.post_json("/api/v1/corpora/news/models", {"kind": "lda", "params": {"num_topics": 20}})
        job = server.wait_job(job)
        assert job["status"] == "finished", job
        t_train = time.perf_counter() - t0
        status, _ = server.get(f"/models/{job['model_id']}/topics")
        status2, _ = server.get(f"/api/v1/models/{job['model_id']}/ldavis.json")
        assert status == status2 == 200
        wall = time.perf_counter() - t0
    finally:
        server.stop()
    return {"conditions": f"textlatent serve with its worker on 127.0.0.1, fresh data directory; upload "
                         f"{run.news} as multipart, ingest job, LDA K=20 job (defaults), then the topic page and "
                         "its data", "upload_s": round(t_upload, 2), "ingest_done_s": round(t_ingest, 2),
            "lda_done_s": round(t_train, 2), "wall_s": round(wall, 2), "targets": {"<= 120 s": wall <= 120}}


def bench_sweep(run):
    """A K sweep (one job: one vocabulary and bag-of-words matrix for every K) against the
    same Ks trained one by one, each with textlatent's defaults, each side in a fresh process;
    ``run.reps`` repetitions, the two sides alternating, the ratio taken in each."""
    home = run.news_home()
    values = [5, 10, 20] if run.quick else [5, 10, 20, 40]
    reps = []
    for rep in range(run.reps):
        # Alternate which side goes first, so that a drift of the machine's speed falls on both.
        order = ("singles", "sweep") if rep % 2 == 0 else ("sweep", "singles")
        got = {}
        for side in order:
            if side == "singles":
                got[side] = [child("lda_textlatent", home=home, name="news", seed=1, params={"num_topics": k})
                             for k in values]
            else:
                got[side] = child("sweep_textlatent", home=home, name="news", values=values)
        total = round(sum(r["wall_seconds"] for r in got["singles"]), 1)
        reps.append({"single_seconds": {str(k): r["wall_seconds"] for k, r in zip(values, got["singles"])},
                     "single_total_seconds": total, "sweep_seconds": got["sweep"]["seconds"],
                     "sweep_model_seconds": got["sweep"]["train_seconds"],
                     "ratio_sweep_to_singles": round(got["sweep"]["seconds"] / total, 3)})
    ratio = median([r["ratio_sweep_to_singles"] for r in reps])
    out = {"conditions": f"{run.news}, K = {values}, seed 1, textlatent's defaults (views included: pyLDAvis data, "
                         "coherence, document mixtures; no maps); wall seconds of each train_lda call and of the "
                         f"one train_sweep call; {run.reps} repetitions, the sides alternating which goes first",
           "repetitions": reps,
           "single_total_seconds_median": median([r["single_total_seconds"] for r in reps]),
           "sweep_seconds_median": median([r["sweep_seconds"] for r in reps]),
           "ratio_sweep_to_singles_median": ratio}
    out["targets"] = {f"sweep over {len(values)} K <= the sum of the single trainings (median ratio)": ratio <= 1}
    return out


def bench_quality(run):
    return run_quality(run)


def bench_memory(run):
    copies = (1, 2) if run.quick else (1, 4)
    out = {}
    for c in copies:
        out[f"x{c}"] = child("memory", src=run.news, home=run.home(f"memory-x{c}", fresh=True), copies=c)
    a, b = out[f"x{copies[0]}"], out[f"x{copies[1]}"]
    peak = lambda r: max(r["rss_mb"])  # noqa: E731
    out["ratio"] = round(peak(b) / peak(a), 2)
    out["conditions"] = (f"ingest + LDA (K=20, 2 passes) in one process, on {run.news} and on {copies[1]} copies "
                         "of it (new ids, distinct texts); peak RSS of the process and of its largest child")
    out["targets"] = {f"x{copies[1]} peak <= 1.5x the x1 peak": out["ratio"] <= 1.5}
    return out


# -- BENCHMARKS.md --------------------------------------------------------------------------------

def render():
    rows = []
    for name in NAMES:
        path = RESULTS / f"{name}.json"
        if not path.exists():
            rows.append(f"## {name}\n\nnot run yet.\n")
            continue
        r = json.loads(path.read_text())
        if name == "quality":
            rows.append(render_quality(r))
            continue
        m = r["machine"]
        header = (f"## {name}\n\n{m['date']}, {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}, "
                  f"gensim {m['gensim']}, spaCy {m['spacy']}, numpy {m['numpy']}{' (quick run)' if r.get('quick') else ''}.")
        if name == "scale":
            rows.append(render_scale(r, header))
            continue
        figures = {k: v for k, v in r.items() if k not in ("name", "machine", "conditions", "targets")}
        lines = [header, "", f"Conditions: {r.get('conditions', '')}", "", "| figure | value |", "|---|---|"]
        for k, v in _flatten(figures):
            lines.append(f"| {k} | {v} |")
        lines += ["", "| target | met |", "|---|---|"]
        lines += [f"| {k} | {'yes' if ok else '**no**'} |" for k, ok in r.get("targets", {}).items()]
        rows.append("\n".join(lines) + "\n")
    rows.append(_render_tuning())
    rows.append(render_loco(load_loco()))
    rows.append(same_text.render())
    rows.append(start_weight.render())
    text = ("# Benchmarks\n\nMade by `python -m bench all` (see the README); each section is regenerated from "
            "bench/results/<name>.json. Medians; the systems alternate within each repetition, every timed run "
            "in a fresh process. Figures from a shared 2-core machine are noisy: compare within a section.\n\n"
            + "\n".join(rows))
    (ROOT / "BENCHMARKS.md").write_text(text)


def _render_tuning():
    path = RESULTS / "lda_tuning.json"
    if not path.exists():
        return "## lda_tuning\n\nnot run yet.\n"
    r = json.loads(path.read_text())
    lines = ["## lda_tuning", "", "`python -m bench.tune`: textlatent's LDA under other settings, to choose the "
             "defaults. " + r["conditions"] + ". Medians over the seeds run; train seconds of different dates "
             "do not compare (until 2026-11-24 training read the database every pass); every run in "
             "bench/results/lda_tuning.json.", "",
             "| candidate | parameters | seeds | dates | train s | NMI | c_npmi (own tokens) | c_npmi (reference) |",
             "|---|---|---|---|---|---|---|---|"]
    for name, c in r["candidates"].items():
        m, runs = c.get("median", {}), c.get("runs", [])
        lines.append(f"| {name} | `{json.dumps(c['params'])}` | {', '.join(str(x['seed']) for x in runs)} | "
                     f"{', '.join(sorted({x['date'] for x in runs}))} | {m.get('seconds')} | {m.get('nmi')} | "
                     f"{m.get('c_npmi_own_tokens')} | {m.get('c_npmi', '')} |")
    return "\n".join(lines) + "\n"


def _flatten(d, prefix=""):
    for k, v in d.items():
        if k in ("runs", "topics_seed1", "words"):
            continue
        if isinstance(v, dict):
            yield from _flatten(v, f"{prefix}{k}.")
        elif isinstance(v, list):
            yield f"{prefix}{k}", ", ".join(map(str, v))
        else:
            yield f"{prefix}{k}", f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else v


def main():
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("names", nargs="*", default=["all"], help=f"all, or some of: {', '.join(NAMES)}")
    ap.add_argument("--quick", action="store_true", help="a smoke run on a sixth of the data, one repetition")
    ap.add_argument("--reps", type=int, help="repetitions (default 3; quick 1)")
    ap.add_argument("--sizes", help="scale: the sizes to run, of x1, x4, x10 and 1m (default x1,x4,x10)")
    ap.add_argument("--keep", action="store_true",
                    help="scale: keep each build (data directory, PostgreSQL schema) for --reads")
    ap.add_argument("--reads", action="store_true",
                    help="scale: time the reads again on the kept builds, with the code as it is now")
    args = ap.parse_args()
    names = NAMES if args.names == ["all"] else args.names
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        ap.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    if not NEWS.exists():
        ap.error(f"needs the shared corpora at {NEWS.parent.parent} (set TEXTLATENT_SHARED_CORPORA)")
    run = Run(args.quick, args.reps, args.sizes.split(",") if args.sizes else None, args.keep, args.reads)
    for name in names:
        t = time.perf_counter()
        print(f"== {name} ...", flush=True)
        result = globals()[f"bench_{name}"](run)
        result["quick"] = args.quick
        result["bench_seconds"] = round(time.perf_counter() - t, 1)
        result = save(name, result)
        print(json.dumps({k: v for k, v in result.items() if k in ("targets", "ratio", "bench_seconds")}), flush=True)
    render()
    print(f"wrote {RESULTS} and BENCHMARKS.md")


if __name__ == "__main__":
    main()
