"""The whole service in a real browser: Debian's Chromium, driven by Playwright, against
`textlatent serve` (waitress and its job worker) on 127.0.0.1.

A person uploads a corpus through the form, trains LDA and Word2Vec from the corpus
page while the progress shows, moves between the corpus's tabs, opens pyLDAvis (one
circle per topic, none cut off; topic 0 can be chosen; the λ slider re-ranks the bars),
names a topic and sees the name on the map and in the export, asks for a new text's
topics, and searches similar words with either of two Word2Vec models. A screenshot of
every page is kept under the session's temporary folder (or $TEXTLATENT_TEST_ARTIFACTS),
never in the repository.
"""

import os
import shutil
import time

import pytest

from .conftest import write_news

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As the machine's notes say: without these, Chromium tries to reach Google's hosts.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HOCKEY = "The goalie stopped the puck and the Rangers won the hockey game against Boston in overtime"


def _need_browser():
    missing = None
    if not os.path.exists(CHROMIUM):
        missing = "Debian's chromium is not installed (tests/setup-browser.sh installs it)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "the playwright package is not installed (pip install '.[test]')"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)


def _shot(page, folder, name):
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _current_tab(page):
    return page.get_attribute('#corpus-tabs a[aria-current="page"]', "data-tab")


def _wait_for_model_link(page, text, timeout=240):
    """Wait until the corpus page (which reloads itself when a job ends) lists a model link."""
    from playwright.sync_api import Error as PlaywrightError
    seen = set()
    deadline = time.monotonic() + timeout
    while True:
        assert time.monotonic() < deadline, f"no {text!r} link; progress seen: {seen}"
        try:
            if page.query_selector(f'#models a:text-is("{text}")'):
                return seen
            row = page.query_selector('#jobs tr[data-status="running"], #jobs tr[data-status="pending"]')
            if row:
                seen.add((row.get_attribute("data-status"), row.query_selector(".message").inner_text()))
        except PlaywrightError:      # the page reloaded under us
            pass
        page.wait_for_timeout(150)


@pytest.mark.slow
def test_upload_train_browse_topics_and_search_words_in_chromium(server, tmp_path, artifacts):
    _need_browser()
    from playwright.sync_api import sync_playwright

    corpus_file = write_news(tmp_path / "news.jsonl", per_group=100)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        problems = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("requestfailed", lambda r: problems.append("failed: " + r.url))
        outside = []
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(server) else None)

        # Upload through the form: a missing name is marked on its field; then the page
        # follows the ingest job to the corpus page, which says what the ingest did.
        page.goto(server + "/")
        page.set_input_files("#upload input[name=file]", str(corpus_file))
        page.click("#upload button")
        assert page.get_attribute("#upload input[name=name]", "aria-invalid") == "true"
        assert page.inner_text('#upload .field-error[data-for="name"]')
        page.fill("#upload input[name=name]", "news")
        page.click("#upload summary")
        page.fill("#upload input[name=label_field]", "label")
        page.click("#upload button")
        page.wait_for_url(server + "/corpora/news", timeout=120_000)
        assert _current_tab(page) == "overview"
        # The page shows what the ingest job added: 4 groups x 100 posts, less empty ones.
        shown = page.request.get(server + "/api/v1/corpora/news").json()
        added = next(j for j in shown["jobs"] if j["kind"] == "ingest")["result"]["added"]
        assert 380 <= added <= 400 and shown["documents"] == added
        assert page.inner_text("#corpus-facts").startswith(f"{added:,} documents")
        summary = page.inner_text("#ingest-summary")
        assert f"{added:,} added" in summary and "empty skipped" in summary, summary
        _shot(page, artifacts, "corpus-page")

        # A bad value is refused on its field, in the form's words, and nothing is queued.
        assert not page.is_visible("#train-lda input[name=chunksize]")        # under "Advanced"
        page.fill("#train-lda input[name=num_topics]", "0")
        page.click("#train-lda button")
        error = page.wait_for_selector('#train-lda .field-error[data-for="num_topics"]:not(:empty)')
        assert error.inner_text().startswith("Topics must be a whole number")
        assert [j["kind"] for j in page.request.get(server + "/api/v1/corpora/news/jobs").json()] == ["ingest"]

        # Train LDA from the form and watch its progress; the finished job links to its model.
        page.fill("#train-lda input[name=num_topics]", "4")
        page.fill("#train-lda input[name=passes]", "8")
        page.click("#train-lda button")
        page.wait_for_selector('#jobs tr[data-status="pending"], #jobs tr[data-status="running"]')
        seen = _wait_for_model_link(page, "topics")
        assert any(status in ("pending", "running") for status, _ in seen), seen
        lda_row = page.locator("#jobs tr[data-job]").first
        assert lda_row.get_attribute("data-status") == "finished"
        assert lda_row.locator("progress").evaluate("p => p.position") == 1     # full, not animated (-1)
        assert "topics" in lda_row.locator(".result a").inner_text()
        assert lda_row.locator(".elapsed").inner_text().endswith("s")
        tips = page.locator("#models .figure[data-figure]")
        assert {tips.nth(i).get_attribute("data-figure") for i in range(tips.count())} >= {
            "coherence_c_npmi", "coherence_u_mass", "perplexity", "nmi_labels"}
        assert "4 classes" in page.get_attribute('#models [data-figure="nmi_labels"]', "data-tip")
        page.hover('#models [data-figure="coherence_c_npmi"]')
        assert "Above 0.1 is good" in page.inner_text("#tooltip")

        # Two Word2Vec models, so that the words page has a model to choose.
        for size in ("40", "60"):
            page.fill("#train-word2vec input[name=epochs]", "5")
            page.fill("#train-word2vec input[name=min_count]", "2")
            page.fill("#train-word2vec input[name=vector_size]", size)
            page.click("#train-word2vec button")
            page.wait_for_selector(f'#models tr:has-text("vector_size {size}") a:text-is("words")', timeout=240_000)

        # The tabs: Topics opens the newest LDA model, and each page says where it is.
        page.click('#corpus-tabs a[data-tab="topics"]')
        page.wait_for_selector("#ldavis[data-ready]", state="attached", timeout=30_000)
        assert _current_tab(page) == "topics" and "/topics" in page.url
        assert page.locator("#ldavis svg circle.dot").count() == 4
        area = page.locator("#ldavis").bounding_box()
        for box in page.locator("#ldavis circle.dot").evaluate_all(
                "cs => cs.map(c => { const r = c.getBoundingClientRect();"
                " return [r.left, r.top, r.right, r.bottom]; })"):
            left, top, right, bottom = box
            assert left >= area["x"] and top >= area["y"] and right <= area["x"] + area["width"], (box, area)

        # Topic 0 can be chosen in the topic box (pyLDAvis alone takes 0 for "none").
        page.fill("#topic-box", "0")
        page.wait_for_function("() => document.querySelector('#ldavis text.bubble-tool').textContent.includes('topic 0')")
        assert page.evaluate("location.hash").startswith("#topic=0&")
        page.click("#topic-next")
        assert page.input_value("#topic-box") == "1"
        assert "for topic 1 " in page.text_content("#ldavis text.bubble-tool")
        terms = page.locator("#ldavis text.terms")
        before = terms.evaluate_all("els => els.map(e => e.textContent)")
        slider = page.locator("#ldavis-lambda").bounding_box()
        page.mouse.click(slider["x"] + 2, slider["y"] + slider["height"] / 2)      # λ near 0
        page.wait_for_function("before => JSON.stringify([...document.querySelectorAll('#ldavis text.terms')]"
                               ".map(e => e.textContent)) !== JSON.stringify(before)", arg=before)
        assert float(page.input_value("#ldavis-lambda")) < 0.2

        # A new text's topics, as bars; the first is the topic of hockey.
        page.fill("#infer-text", HOCKEY)
        page.click("#infer button")
        hockey = page.wait_for_selector("#infer-result .bar-label").inner_text()
        assert hockey.isdigit() and page.locator("#infer-result .bar-label").count() >= 3

        # Name that topic: the name shows on the map at once, in the bars and in the export.
        page.fill(f'#labels input[name="{hockey}"]', "ice hockey")
        page.click("#labels button")
        page.wait_for_selector('#labels .form-result:text-is("saved")')
        titles = page.locator("#ldavis circle.dot title").all_text_contents()
        assert f"Topic {hockey} · ice hockey: " in " ".join(titles), titles
        page.fill("#topic-box", hockey)
        page.wait_for_function("() => document.querySelector('#ldavis text.bubble-tool').textContent.includes('ice hockey')")
        assert page.inner_text("#topic-box-label") == "ice hockey"
        page.click("#infer button")
        page.wait_for_selector(f'#infer-result .bar-label:text-is("{hockey} · ice hockey")')
        # (fetched, not clicked: a download aborts its page request, which would count as a failure)
        csv_url = page.get_attribute('.topics-grid a:text-is("csv")', "href")
        header = page.request.get(server + csv_url).text().splitlines()[0]
        assert f"topic_{hockey}: ice hockey" in header.split(","), header
        _shot(page, artifacts, "topics-page")

        # Top documents of a topic open to their text; the Documents tab is current there.
        page.click(f'tr[data-topic="{hockey}"] details.top-docs summary')
        page.wait_for_selector(f'tr[data-topic="{hockey}"] details.top-docs li a').click()
        page.wait_for_selector("pre.doc-text")
        assert len(page.inner_text("pre.doc-text")) > 20 and _current_tab(page) == "documents"
        _shot(page, artifacts, "document-page")
        page.click('#corpus-tabs a[data-tab="documents"]')
        assert page.locator("#documents tbody tr").count() == 50
        _shot(page, artifacts, "documents-page")

        # The models table names the topic too.
        page.click('#corpus-tabs a[data-tab="overview"]')
        assert f"{hockey} · ice hockey" in page.inner_text("#models")

        # Similar words with the newest model, then the other one chosen in the selector.
        page.click('#corpus-tabs a[data-tab="words"]')
        assert _current_tab(page) == "words"
        options = page.locator("#model-select option")
        assert options.count() == 2
        newest, older = options.nth(0).get_attribute("value"), options.nth(1).get_attribute("value")
        page.fill("#similar input[name=word]", "hockey")
        page.click("#similar button")
        page.wait_for_selector("table.neighbours tr")
        assert page.locator("table.neighbours tr").count() == 10
        assert f"(model {newest})" in page.inner_text("#results")
        page.select_option("#model-select", older)
        page.wait_for_url(f"**/corpora/news/words?model={older}")
        page.fill("#similar input[name=word]", "hockey")
        page.click("#similar button")
        page.wait_for_selector(f'#results p:has-text("(model {older})")')
        # Words typed in one box go through the corpus's tokenizer (no split at the space).
        page.fill("#similar input[name=word]", "Hockey players")
        page.click("#similar button")
        page.wait_for_function("() => (document.querySelector('#results p') || {}).textContent"
                               " && document.querySelector('#results p').textContent.startsWith('hockey + player (model ')")
        page.fill("#similar input[name=word]", "hockei")
        page.click("#similar button")
        page.wait_for_selector("#results .error")
        assert "not in the vocabulary" in page.inner_text("#results")
        _shot(page, artifacts, "words-page")

        # From 1,000 px wide nothing needs a sideways scroll, pyLDAvis included.
        page.set_viewport_size({"width": 1000, "height": 900})
        for path in ("/", "/corpora/news", "/corpora/news/topics", "/corpora/news/words"):
            page.goto(server + path)
            page.wait_for_load_state("networkidle")
            assert page.evaluate("document.documentElement.scrollWidth") <= 1000, path
        _shot(page, artifacts, "words-page-1000")
        page.goto(server + "/")
        _shot(page, artifacts, "index-page")
        browser.close()
    assert outside == [], outside           # nothing loaded from outside the app
    assert problems == [], problems
