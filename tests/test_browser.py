"""The whole service in a real browser: Debian's Chromium, driven by Playwright, against
`textlatent serve` (waitress and its job worker) on 127.0.0.1.

A person uploads a corpus through the form, trains LDA and Word2Vec from the corpus
page while the progress shows, opens pyLDAvis (one circle per topic; the λ slider
re-ranks the bars), and searches similar words. The topic page's screenshot is kept
under the session's temporary folder (or $TEXTLATENT_TEST_ARTIFACTS), never in the repository.
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


@pytest.mark.slow
def test_upload_train_browse_topics_and_search_words_in_chromium(server, tmp_path, artifacts):
    _need_browser()
    from playwright.sync_api import Error as PlaywrightError
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

        # Upload through the form; the page follows the ingest job to the corpus page.
        page.goto(server + "/")
        page.fill("#upload input[name=name]", "news")
        page.set_input_files("#upload input[name=file]", str(corpus_file))
        page.click("#upload summary")
        page.fill("#upload input[name=label_field]", "label")
        page.click("#upload button")
        page.wait_for_url(server + "/corpora/news", timeout=120_000)
        # The page shows what the ingest job added: 4 groups x 100 posts, less empty ones.
        import json
        import urllib.request
        with urllib.request.urlopen(server + "/api/v1/corpora/news") as r:
            shown = json.load(r)
        ingest_job = next(j for j in shown["jobs"] if j["kind"] == "ingest")
        added = ingest_job["result"]["added"]
        assert 380 <= added <= 400 and shown["documents"] == added
        assert f"{added:,} documents" in page.inner_text("main")

        # Train LDA from the form and watch its progress.
        page.fill("#train-lda input[name=num_topics]", "4")
        page.fill("#train-lda input[name=passes]", "8")
        page.click("#train-lda button")
        page.wait_for_selector("#jobs tr[data-job]")
        seen = set()
        deadline = time.monotonic() + 240
        while True:
            assert time.monotonic() < deadline, f"LDA did not finish; progress seen: {seen}"
            try:      # the page reloads itself when the job finishes
                if page.query_selector('#models a:text-is("topics")'):
                    break
                row = page.query_selector("#jobs tr[data-job]")
                if row:
                    seen.add((row.get_attribute("data-status"), row.query_selector(".message").inner_text()))
            except PlaywrightError:
                pass
            page.wait_for_timeout(150)
        assert any(status in ("pending", "running") for status, _ in seen), seen

        # Word2Vec too, so that the words page has something to search.
        page.fill("#train-word2vec input[name=epochs]", "5")
        page.fill("#train-word2vec input[name=min_count]", "2")
        page.click("#train-word2vec button")
        page.wait_for_selector('#models a:text-is("word2vec")', timeout=240_000)

        # pyLDAvis, served by the app: one circle per topic; λ re-ranks the bars.
        page.click('#models a:text-is("topics")')
        page.wait_for_selector("#ldavis svg circle.dot", state="attached", timeout=30_000)
        assert page.locator("#ldavis svg circle.dot").count() == 4
        page.click("#ldavis-topic-up")            # select topic 1 (λ re-ranks a selected topic)
        page.wait_for_timeout(1200)
        terms = page.locator("#ldavis text.terms")
        before = terms.evaluate_all("els => els.map(e => e.textContent)")
        slider = page.locator("#ldavis-lambda").bounding_box()
        page.mouse.click(slider["x"] + 2, slider["y"] + slider["height"] / 2)      # λ near 0
        page.wait_for_timeout(2000)
        after = terms.evaluate_all("els => els.map(e => e.textContent)")
        assert page.input_value("#ldavis-lambda") in ("0", "0.01") or float(page.input_value("#ldavis-lambda")) < 0.2
        assert before and after and before != after
        page.screenshot(path=str(artifacts / "topics-page.png"), full_page=True)

        # Top documents of a topic open to their text.
        page.click('tr[data-topic="1"] details.top-docs summary')
        link = page.wait_for_selector('tr[data-topic="1"] details.top-docs li a')
        link.click()
        page.wait_for_selector("pre.doc-text")
        assert len(page.inner_text("pre.doc-text")) > 20

        # Similar words, and a misspelt word answered with suggestions.
        page.goto(server + "/corpora/news/words")
        page.fill("#similar input[name=word]", "hockey")
        page.click("#similar button")
        page.wait_for_selector("table.neighbours tr")
        assert page.locator("table.neighbours tr").count() == 10
        page.fill("#similar input[name=word]", "hockei")
        page.click("#similar button")
        page.wait_for_selector("#results .error")
        assert "not in the vocabulary" in page.inner_text("#results")
        browser.close()
    assert outside == [], outside           # nothing loaded from outside the app
    assert problems == [], problems
