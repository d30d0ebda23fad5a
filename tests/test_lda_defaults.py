"""The rule that chooses LDA defaults from corpus statistics (a pure function)."""

import numpy as np
import pytest

from textlatent.models.lda_defaults import CHOSEN, RULE, CorpusStats, choose_defaults, measure


def zipf_corpus(num_docs, mean_length, vocabulary=20_000, seed=0):
    """Document and corpus frequencies of a corpus of content words (a stop list applied)
    whose frequencies follow the Zipf-Mandelbrot law: a term's expected count in a
    document of ``mean_length`` tokens decides in how many documents it is (Poisson), so
    that long documents make every word widespread."""
    rng = np.random.default_rng(seed)
    p = 1.0 / (np.arange(1, vocabulary + 1) + 100)
    p /= p.sum()
    cf = rng.poisson(p * num_docs * mean_length)
    df = np.minimum(cf, np.round(num_docs * (1 - np.exp(-p * mean_length))).astype(int))
    keep = cf > 0
    return df[keep], cf[keep]


def stats_of(num_docs, mean_length, **kw):
    df, cf = zipf_corpus(num_docs, mean_length, **kw)
    return measure(df, cf, num_docs)


def test_measure_counts_and_orders_the_widest_terms_first():
    df, cf = np.array([3, 10, 1, 10, 6]), np.array([4, 30, 1, 20, 45])
    s = measure(df, cf, 12)
    assert (s.documents, s.tokens, s.vocabulary) == (12, 100, 4)
    assert s.mean_length == pytest.approx(100 / 12)
    # Widest first, ties by term id; token shares accumulate in that order.
    assert s.doc_share == pytest.approx((10 / 12, 10 / 12, 6 / 12, 3 / 12, 1 / 12))
    assert s.token_share == pytest.approx((0.30, 0.50, 0.95, 0.99, 1.0))
    assert s.summary() == {"documents": 12, "tokens": 100, "mean_length": 8.3, "vocabulary": 4,
                           "concentration": 1.0}


def test_every_parameter_is_chosen_and_valid():
    for docs, length, k in ((60, 900, 4), (3000, 75, 20), (20_000, 70, 6), (1_000_000, 60, 50)):
        p = choose_defaults(stats_of(docs, length), k)
        assert set(p) == set(CHOSEN)
        assert 0 < p["no_above"] <= 1 and 1 <= p["no_below"] <= 5
        assert 1 <= p["passes"] <= 100 and 1 <= p["chunksize"] <= docs
        assert p["alpha"] in ("symmetric", "asymmetric", "auto") and p["eta"] in ("symmetric", "auto")
        assert p["init"] in ("kmeans", "random") and p["workers"] in (1, 2)


def test_the_per_topic_share_without_the_cap_on_the_text_dropped():
    # The cap (drop_share) decides for long documents; 20 Newsgroups' posts are below it
    # (no_above 0.07 at K=20 with the defaults: BENCHMARKS.md, lda_defaults_loco).
    s = stats_of(20_000, 70)
    for k, expected in ((20, 0.07), (6, 1.4 / 6), (100, 0.07), (1, 1.0)):
        assert choose_defaults(s, k, rule={"drop_share": 1.0})["no_above"] == pytest.approx(expected, abs=1e-4)


def dropped_share(stats, df, cf, no_above):
    return cf[df > no_above * stats.documents].sum() / stats.tokens


def test_the_vocabulary_filter_never_drops_more_than_its_share_of_the_text():
    rule = {"drop_share": 0.25}
    for length in (70, 300, 900, 2000):
        df, cf = zipf_corpus(60, length)
        s = measure(df, cf, 60)
        na = choose_defaults(s, 4, rule=rule)["no_above"]
        assert dropped_share(s, df, cf, na) <= 0.25 + 1e-9
        assert na >= 1.4 / 4 - 1e-9
    # The longer the documents, the more widespread the words, the higher the threshold.
    shares = [choose_defaults(stats_of(60, n), 4, rule=rule)["no_above"] for n in (70, 300, 900, 2000)]
    assert shares == sorted(shares) and shares[-1] > shares[0]
    # Without the cap (the rule chosen on 20 Newsgroups alone) long documents lose most words.
    df, cf = zipf_corpus(60, 2000)
    s = measure(df, cf, 60)
    assert dropped_share(s, df, cf, choose_defaults(s, 4, rule={"drop_share": 1.0})["no_above"]) > 0.25


def test_small_corpora_get_more_passes_and_large_ones_fewer():
    rule = {"updates": 100, "passes_min": 2, "passes_max": 100}
    passes = [choose_defaults(stats_of(n, 80), 10, rule=rule)["passes"] for n in (60, 600, 6_000, 60_000, 600_000)]
    assert passes == sorted(passes, reverse=True)
    assert passes[0] == 100 and passes[-1] == 2
    # Training sees about `updates` chunks, unless a bound stops it.
    for n in (600, 6_000, 60_000):
        p = choose_defaults(stats_of(n, 80), 10, rule=rule)
        chunks = -(-n // p["chunksize"])
        assert 100 <= p["passes"] * chunks < 100 + chunks


def test_chunks_are_of_equal_size_and_small_corpora_train_in_one_process():
    for n in (65, 130, 2990, 18_766, 100_000):
        p = choose_defaults(stats_of(n, 80), 10)
        chunks = -(-n // p["chunksize"])
        sizes = [min(p["chunksize"], n - i * p["chunksize"]) for i in range(chunks)]
        assert max(sizes) - min(sizes) <= chunks, (n, p["chunksize"])
        assert p["workers"] == (2 if chunks >= 4 else 1)
    assert choose_defaults(stats_of(65, 80), 10)["chunksize"] == 65
    assert choose_defaults(stats_of(65, 80), 10, workers=8)["workers"] == 1


def test_tiny_corpora_lower_no_below_and_overrides_apply():
    assert choose_defaults(stats_of(20, 50, vocabulary=500), 2)["no_below"] == 2
    assert choose_defaults(stats_of(5000, 50), 2)["no_below"] == RULE["no_below"]
    assert choose_defaults(stats_of(5000, 50), 2, rule={"no_below": 3, "alpha": "auto"})["no_below"] == 3
    empty = CorpusStats(documents=1, tokens=0, vocabulary=0, doc_share=(), token_share=())
    assert choose_defaults(empty, 1)["passes"] >= 1


def test_train_lda_records_what_the_rule_chose(trained):
    """The session's model was trained with num_topics, passes, workers and seed given:
    everything else the rule chose, and the model says so wherever it is listed."""
    from click.testing import CliRunner

    from textlatent.cli import cli
    from textlatent.corpus import StoredCorpus
    from textlatent.explore.topics import model_arrays
    from textlatent.ingest.stoplists import SMART_EN
    from textlatent.models.lda_defaults import corpus_stats
    from textlatent.store import registry
    from web import create_app

    config = trained["config"]
    _, model = registry.get_model(config, trained["lda"])
    p = model["params"]
    assert p["auto"] == [k for k in CHOSEN if k not in ("passes", "workers")]
    assert p["passes"] == 10 and p["workers"] == 1
    stats = corpus_stats(StoredCorpus(config, "news"), SMART_EN)
    chosen = choose_defaults(stats, 4, workers=config.workers)
    assert {k: p[k] for k in p["auto"]} == {k: chosen[k] for k in p["auto"]}
    assert model["metrics"]["corpus_stats"] == stats.summary()
    assert model["metrics"]["num_terms"] == len(model_arrays(config, model)["vocab"])

    out = CliRunner().invoke(cli, ["--home", config.home, "models", "news"]).output
    line = next(x for x in out.splitlines() if x.startswith(f"{trained['lda']}\t"))
    assert f"no_above={p['no_above']}" in line and "passes=" not in line.split("chosen from the corpus:")[1]
    page = create_app(config).test_client().get("/corpora/news").get_data(as_text=True)
    assert page.count('<abbr title="chosen from the corpus">') == len(p["auto"])
    assert '<abbr title="chosen from the corpus">no_above ' in page
    assert '<abbr title="chosen from the corpus">passes ' not in page

