"""Reading a corpus in Chromium: the label x topic heatmap, the time chart, the documents
page with a search, and a document with its topic bars, coloured words and similar
documents, against `textlatent serve` on 127.0.0.1. Screenshots go to the artifacts folder."""

import json
import urllib.request

import pytest

from textlatent.ingest import ingest
from textlatent.models import train_lda
from textlatent.settings import load_settings
from textlatent.store import Store

from .conftest import SAMPLE
from .test_browser import CHROMIUM, CHROMIUM_ARGS, _need_browser

pytestmark = pytest.mark.slow


@pytest.fixture
def site(tmp_path, request):
    """The sample speeches with a 4-topic model in tmp_path/home, served."""
    _need_browser()
    store = Store(load_settings(home=str(tmp_path / "home"), workers=2))
    ingest(store, "speeches", [str(SAMPLE)])
    model = train_lda(store, "speeches", {"num_topics": 4, "passes": 2, "workers": 1})
    return request.getfixturevalue("server"), model


def _json(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


def test_heatmap_time_chart_search_and_a_document_in_chromium(site, artifacts):
    from playwright.sync_api import sync_playwright
    base, model = site
    by_label = _json(f"{base}/api/v1/models/{model}/topics-by-label")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        problems = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: problems.append("outside: " + r.url) if not r.url.startswith(base) else None)

        page.goto(f"{base}/models/{model}/topics")
        page.wait_for_selector("svg.heatmap rect.cell")
        assert page.locator("svg.heatmap rect.cell").count() == 2 * 4
        page.hover("svg.heatmap rect.cell >> nth=0")
        assert "mean share" in page.locator("svg.heatmap rect.cell >> nth=0 >> title").text_content()
        # Sorting the labels by topic 1 puts the label with the larger share of it first.
        page.click('svg.heatmap text.col-head[data-topic="1"]')
        first = page.locator("svg.heatmap rect.cell >> nth=0").get_attribute("data-label")
        shares = {name: row[1] for name, row in zip(by_label["labels"], by_label["shares"])}
        assert first == max(shares, key=shares.get)

        page.wait_for_selector("svg.timechart path.series")
        assert page.locator("svg.timechart path.series").count() == 4
        over_time = _json(f"{base}/api/v1/models/{model}/topics-over-time")
        assert page.locator("svg.timechart rect.docs-bar").count() == len(over_time["periods"])
        page.select_option("#over-time select.highlight", "2")
        assert page.locator("svg.timechart path.series.highlighted").get_attribute("data-topic") == "2"
        page.locator("svg.timechart").hover()
        assert "documents" in page.locator("#over-time .chart-caption").text_content()
        page.check("#over-time input.stacked")
        assert page.locator("svg.timechart path.series").count() == 4
        page.screenshot(path=str(artifacts / "topics-heatmap-time.png"), full_page=True)

        page.goto(f"{base}/corpora/speeches/documents")
        page.fill("form.doc-search input[name=q]", "liberty")
        page.click("form.doc-search button.btn-primary")
        page.wait_for_selector("#documents tbody tr[data-position]")
        found = _json(f"{base}/api/v1/corpora/speeches/documents?q=liberty")
        assert page.locator("#documents tbody tr").count() == len(found["documents"]) == min(50, found["total"])
        assert page.locator("#documents mark").first.text_content().lower() == "liberty"
        # Every filter control lies inside the search card (each once ran to the page's edge,
        # past the card, at 1,280 px), and the four fields share rows rather than one each.
        boxes = page.evaluate("""() => {
            const card = document.querySelector('form.doc-search').closest('section').getBoundingClientRect();
            return [...document.querySelectorAll('form.doc-search .filters :is(select, input)')].map(e => {
                const r = e.getBoundingClientRect();
                return {name: e.name, left: r.left, right: r.right, top: r.top, card: [card.left, card.right]}; }); }""")
        assert [b["name"] for b in boxes] == ["label", "topic", "date_from", "date_to", "sort"]
        assert all(b["card"][0] < b["left"] and b["right"] < b["card"][1] for b in boxes), boxes
        assert len({round(b["top"]) for b in boxes}) <= 3, boxes
        page.screenshot(path=str(artifacts / "documents-search.png"), full_page=True)

        page.click("#documents tbody tr >> nth=0 >> a")
        page.wait_for_selector("table.mixture-bars")
        position = found["documents"][0]["position"]
        assert page.url.endswith(f"/documents/{position}")
        similar = _json(f"{base}/api/v1/corpora/speeches/documents/{position}/similar?limit=8")
        shown = page.locator('.similar-list[data-by="topics"] li')
        assert shown.count() == 8
        assert [int(shown.nth(i).get_attribute("data-position")) for i in range(8)] == \
            [d["position"] for d in similar["documents"]]
        assert page.locator("pre.doc-text span[data-topic]").count() > 50
        page.screenshot(path=str(artifacts / "document-similar.png"), full_page=True)
        browser.close()
    assert problems == []
