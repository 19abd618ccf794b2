"""A real browser opens diff.html from disk: no console errors, no network requests, the migration
matrix is drawn, the page fits a phone, and screenshots are taken (the Chromium driver of
tests/test_browser.py; without Chromium the tests skip locally and fail on CI)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kamrules.data.reader import ReadOptions, read_table
from kamrules.documents.diff_report import render_diff
from kamrules.engine.evaluate import evaluate
from kamrules.pack import load_pack
from kamrules.pack.whatif import with_params
from kamrules.results import diff
from test_browser import Browser, assert_quiet, chromium_binary  # noqa: F401 - the fixture is used by name

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def browser(chromium_binary, tmp_path_factory):  # noqa: F811
    instance = Browser(chromium_binary, tmp_path_factory.mktemp("chromium-profile"))
    yield instance
    instance.close()


@pytest.fixture(scope="module", params=["en", "zh"])
def page(request, tmp_path_factory):
    """diff.html of the default pack with and without --set pareto_target=0.75 on the example data."""
    lang = request.param
    pack = load_pack(ROOT / "rules")
    data = ROOT / "examples" / "customers.csv"
    sides = []
    for label, variant in (("rules", pack), ("rules with --set pareto_target=0.75", with_params(pack, ["pareto_target=0.75"]))):
        read = read_table(data, list(variant.fields.values()), ReadOptions())
        evaluation = evaluate(variant, read.frame, as_of=dt.date(2026, 11, 27), input_name=data.name)
        sides.append(diff.side_from_evaluation(evaluation, label, lang))
    result = diff.compare(*sides)
    folder = tmp_path_factory.mktemp(f"diff-{lang}")
    (folder / "diff.html").write_bytes(render_diff(result, lang=lang))
    return folder / "diff.html", lang, result


def test_diff_in_a_browser(browser, page, tmp_path):
    path, lang, result = page
    url = path.as_uri()
    browser.open(url)
    changed = [d for d in result.decisions if d.changed]
    with_matrix = [d for d in changed if d.matrix]
    assert browser.js("document.querySelectorAll('svg.matrix').length") == len(with_matrix)
    assert browser.js("document.querySelectorAll('svg.matrix circle.cell').length") == sum(len(d.matrix) for d in with_matrix)
    moved = sum(1 for d in with_matrix for m in d.matrix if m.before != m.after)
    assert browser.js("document.querySelectorAll('svg.matrix circle.moved').length") == moved
    assert browser.js("document.querySelector('svg.matrix').getBoundingClientRect().width") > 150
    assert browser.js("document.querySelectorAll('#review-before-demotion tr.change').length") == 3
    browser.screenshot(tmp_path / f"diff-{lang}-desktop.png")
    browser.screenshot(tmp_path / f"diff-{lang}-print.png", media="print")
    assert_quiet(browser, url)

    browser.open(url, width=390, height=844, mobile=True)
    assert browser.js("document.documentElement.scrollWidth <= window.innerWidth + 1"), "wider than a phone"
    browser.screenshot(tmp_path / f"diff-{lang}-phone.png")
    assert_quiet(browser, url)
