"""End to end in a real browser: Debian's chromium driven by Playwright.

Skips where Playwright or chromium is missing, unless SEQRNN_REQUIRE_BROWSER=1 (CI sets it,
after .ci/install-browser), where a missing browser is a failure instead.
"""

import os
import shutil

import pytest

REQUIRED = os.environ.get("SEQRNN_REQUIRE_BROWSER") == "1"
CHROMIUM = os.environ.get("SEQRNN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no chromium at {CHROMIUM} (run .ci/install-browser)"
    return None


if _missing():
    if REQUIRED:
        raise RuntimeError(f"SEQRNN_REQUIRE_BROWSER=1 but {_missing()}")
    pytest.skip(_missing(), allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.test_cli_serve import running_server  # noqa: E402
from tests.test_serve import tiny_runs  # noqa: E402


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return tiny_runs(tmp_path_factory)


@pytest.fixture(scope="module")
def server_url(runs):
    with running_server(runs) as url:
        yield url


@pytest.fixture(scope="module")
def page(server_url):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(15_000)
        page.goto(server_url)
        yield page
        browser.close()


def test_typing_a_review_shows_label_probability_and_its_course(page):
    expect(page.locator("#status")).to_contain_text("loaded: charlm, wordlm, sentiment")
    page.fill("#review", "a wonderful film, great acting and a superb cast")
    page.click("#classify")
    expect(page.locator("#label")).to_have_text("pos")
    probability = float(page.locator("#probability").inner_text())
    assert 0.5 < probability <= 1
    expect(page.locator("#words span")).to_have_count(10)  # one per token, "," included
    expect(page.locator("#words span.mover")).to_have_count(5)
    assert page.locator("#chart polyline").count() == 1


def test_generated_text_appears_after_the_prime_as_it_streams(page):
    page.fill("#prime", "  Ham")
    page.fill("#length", "400")
    page.fill("#seed", "3")
    page.click("#generate-button")
    page.wait_for_function("document.querySelector('#generated .text').textContent.length"
                           " === 400")
    expect(page.locator("#generate-button")).to_be_enabled()  # the stream has ended
    # The compiled sampler writes 400 characters in milliseconds, so the pieces may arrive in
    # one read; test_serve checks that the server sends them in several chunks.
    assert page.locator("#generated .prime").inner_text() == "  Ham"
    assert page.locator("#generate-error").inner_text() == ""


def test_a_bad_prime_shows_the_servers_error(page):
    page.fill("#prime", "@@")
    page.click("#generate-button")
    expect(page.locator("#generate-error")).to_contain_text("never saw")


def test_inspection_colours_the_text_once_per_cell(page):
    page.fill("#inspect-text", "  Ham. the cat (sat) on the mat.\n  Hor. the cat sat.\n")
    page.fill("#cells", "2")
    page.click("#inspect-button")
    expect(page.locator("#inspection h3")).to_have_count(2)
    expect(page.locator("#inspection .mono").first).to_contain_text("the cat (sat)")


def test_words_are_transduced_with_their_attention_shown(page):
    expect(page.locator("#status")).to_contain_text("seq2seq")
    page.fill("#s2s-sources", "abc  dda")
    page.fill("#s2s-beam", "2")
    page.click("#s2s-button")
    expect(page.locator("#s2s-result table")).to_have_count(2)
    assert page.locator("#s2s-result b").all_inner_texts() == ["abc", "dda"]
    first = page.locator("#s2s-result table").first
    assert first.locator("tr").first.locator("td").all_inner_texts()[1:] == ["a", "b", "c"]
    page.fill("#s2s-sources", "abz")
    page.click("#s2s-button")
    expect(page.locator("#s2s-error")).to_contain_text("never saw")


def test_the_word_model_writes_after_its_prime(page, runs):
    from seqrnn.api.wordlm import WordLanguageModel

    expected = WordLanguageModel.load(runs["wordlm"]).sample("the cat", 6, seed=1)
    page.fill("#wordlm-prime", "the cat")
    page.fill("#wordlm-length", "6")
    page.fill("#wordlm-seed", "1")
    page.click("#wordlm-button")
    expect(page.locator("#wordlm-output")).to_have_text(expected)
    assert page.locator("#wordlm-error").inner_text() == ""


def test_a_series_is_forecast_and_drawn_with_its_intervals(page):
    expect(page.locator("#fc-frequency option")).to_have_count(1)  # the run's: monthly
    page.fill("#fc-horizon", "4")
    page.click("#fc-button")
    expect(page.locator("#fc-chart polygon")).to_have_count(2)  # the 95% and 80% bands
    expect(page.locator("#fc-chart polyline")).to_have_count(2)  # history and median
    page.fill("#fc-horizon", "99")
    page.click("#fc-button")
    expect(page.locator("#fc-error")).to_contain_text("horizon must be between 1 and 6")


def test_sentences_are_tagged_and_their_spans_highlighted(page):
    page.fill("#tag-sentences", "John saw New York .\nMary and Ada Lovelace .")
    page.click("#tag-button")
    spans = page.locator("#tag-result span.span")
    expect(spans).to_have_count(4)
    expect(spans.nth(1)).to_have_text("New York LOC")
    expect(page.locator("#tag-result sub").nth(3)).to_have_text("PER")
    assert page.locator("#tag-error").inner_text() == ""
