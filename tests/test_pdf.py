"""`evaluate --pdf` and the printed review document.

The PDFs come from fpdf2 with the shipped font (no browser): text extraction finds the Chinese account
name and the headings, each PDF embeds its font, page counts are bounded, bytes are the same for the
same inputs. The HTML playbook of the largest key account of the example data prints (Chromium's own
print to PDF, the template's print CSS) on at most 3 A4 pages before the appendix.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from kamrules.cli import app
from kamrules.documents import playbook_links, render_playbooks
from kamrules.documents.pdf import html_to_pdf, pdf_copies, read_blocks
from kamrules.documents.report import render_report
from kamrules.engine.evaluate import evaluate
from kamrules.errors import UsageError
from kamrules.pack import load_pack
from kamrules.resources import default_dir, example_data
from kamrules.results.portfolio import summarise

from conftest import ROOT
from test_browser import find_chromium, without_browser

pypdf = pytest.importorskip("pypdf", reason="pypdf comes with the test extra: pip install '.[test]'")

PROJECT = ROOT / "tests" / "projects" / "playbook"
AS_OF = dt.date(2026, 11, 27)


def pages_and_text(data: bytes) -> tuple[int, str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture(scope="module", params=["en", "zh"])
def documents(request):
    lang = request.param
    frame = pd.read_csv(PROJECT / "accounts.csv", dtype={"account_id": str})
    evaluation = evaluate(load_pack(PROJECT / "rules"), frame, as_of=AS_OF, input_name="accounts.csv", jobs=1)
    files = render_playbooks(evaluation, selection="key+potential", lang=lang)
    files["report.html"] = render_report(evaluation, summarise(evaluation, lang=lang), lang=lang,
                                         playbook_links=playbook_links(files, evaluation))
    return lang, files, pdf_copies(files, lang=lang, as_of=AS_OF)


def test_each_html_document_gets_a_pdf_and_nothing_else(documents):
    _, files, pdfs = documents
    htmls = sorted(name for name in files if name.endswith(".html"))
    assert sorted(name[: -len(".pdf")] + ".html" for name in pdfs) == htmls
    assert all(data.startswith(b"%PDF-") for data in pdfs.values())


def test_the_playbook_pdf_has_the_chinese_name_and_the_headings_in_real_glyphs(documents):
    lang, _, pdfs = documents
    data = pdfs["playbooks/00042-华东机械有限公司.pdf"]
    pages, text = pages_and_text(data)
    assert "华东机械有限公司" in text
    words = {"en": {"glance": "At a glance", "plan": "Action plan", "swot": "SWOT", "approval": "Approval",
                    "appendix": "Appendix", "facts": "Account facts"},
             "zh": {"glance": "概览", "plan": "行动计划", "swot": "SWOT 分析", "approval": "审批",
                    "appendix": "附录", "facts": "客户概况"}}[lang]
    for heading in words.values():
        assert heading in text, heading
    assert b"/FontFile2" in data  # the glyphs are embedded (a subset), not left to the reader's fonts
    assert 2 <= pages <= 5
    # the appendix starts a page of its own, as in print: the approval block is on an earlier page
    texts = [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]
    appendix = next(i for i, page in enumerate(texts) if words["appendix"] in page)
    approval = next(i for i, page in enumerate(texts) if words["approval"] in page)
    assert approval < appendix


def test_the_report_pdf_keeps_the_tables(documents):
    lang, _, pdfs = documents
    pages, text = pages_and_text(pdfs["report.pdf"])
    assert 1 <= pages <= 12
    assert "华东机械有限公司" in text
    assert {"en": "Key accounts", "zh": "重点客户"}[lang] in text


def test_same_inputs_same_pdf_bytes(documents):
    lang, files, pdfs = documents
    again = pdf_copies(files, lang=lang, as_of=AS_OF)
    assert again == pdfs
    later = pdf_copies({"report.html": files["report.html"]}, lang=lang, as_of=AS_OF + dt.timedelta(days=1))
    assert later["report.pdf"] != pdfs["report.pdf"]  # the creation date is the as-of date, not the clock


def test_blocks_read_from_html():
    blocks = read_blocks(
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        '<header><p class="meta"><span>As of 1 Dec</span><span>Pack 1.0</span></p></header>'
        "<h2>Plan</h2><ul><li><strong>Who</strong>: A &amp; B</li></ul>"
        "<svg><text>chart label</text></svg>"
        "<table><thead><tr><th>Action</th><th>Due</th></tr></thead>"
        "<tbody><tr><td><strong>Visit</strong><br>see them</td><td>1 Dec</td></tr></tbody></table>"
        '<div class="grid"><div class="card"><div>Score</div><div>72</div></div><div class="card">B</div></div>'
        '<section class="page-break"><h2>Appendix</h2></section></body></html>')
    kinds = [(b.kind, b.text) for b in blocks]
    assert kinds[0] == ("p", "As of 1 Dec · Pack 1.0")
    assert ("h2", "Plan") in kinds and ("li", "Who: A & B") in kinds
    assert not any("chart label" in text or "color" in text for _, text in kinds)
    tables = [b.rows for b in blocks if b.kind == "table"]
    assert tables[0] == [(True, ["Action", "Due"]), (False, ["Visit\nsee them", "1 Dec"])]
    assert tables[1] == [(False, ["Score\n72", "B"])]
    assert kinds[-2:] == [("break", ""), ("h2", "Appendix")]


def test_odd_html_never_breaks_the_pdf():
    for html in ["", "<p>unclosed <b>bold", "<table><tr><td>a</td></tr><tr><td>b<td>c</table>", "</div></p>x",
                 "<table></table><ul><li></ul>", "<td>cell outside a table</td>"]:
        pages, _ = pages_and_text(html_to_pdf(html))
        assert pages >= 1


def test_without_fpdf2_a_clear_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "fpdf", None)  # import fpdf now raises ImportError
    with pytest.raises(UsageError, match=r"--pdf needs the fpdf2 package.*pip install"):
        html_to_pdf("<p>x</p>")


def test_evaluate_pdf_writes_and_lists_the_pdfs(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["evaluate", str(PROJECT / "accounts.csv"), "--rules", str(PROJECT / "rules"),
                                      "--out", str(out), "--as-of", "2026-11-27", "--lang", "zh", "--pdf", "-q",
                                      "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF-")
    htmls = sorted(p.stem for p in (out / "playbooks").glob("*.html"))
    assert sorted(p.stem for p in (out / "playbooks").glob("*.pdf")) == htmls
    listed = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "report.pdf" in json.dumps(listed)
    without = tmp_path / "without"
    CliRunner().invoke(app, ["evaluate", str(PROJECT / "accounts.csv"), "--rules", str(PROJECT / "rules"),
                             "--out", str(without), "--as-of", "2026-11-27", "-q", "--jobs", "1"])
    assert not list(without.rglob("*.pdf"))  # PDFs only when asked for


# ------------------------------------------------------------- the printed review document (Chromium)


@pytest.fixture(scope="module")
def chromium():
    binary = find_chromium()
    if binary is None:
        outcome, message = without_browser(os.environ.get("CI"))
        (pytest.fail if outcome == "fail" else pytest.skip)(message)
    return binary


def chromium_pages(binary: str, html: str, folder) -> int:
    page = folder / "page.html"
    page.write_text(html, encoding="utf-8")
    target = folder / "page.pdf"
    subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--print-to-pdf={target}", page.as_uri()], capture_output=True, timeout=180, check=False)
    return len(pypdf.PdfReader(target).pages)


def test_the_largest_key_account_plan_prints_on_three_pages(chromium, tmp_path):
    frame = pd.read_csv(example_data(), dtype={"account_id": str})
    evaluation = evaluate(load_pack(default_dir("rules")), frame, as_of=dt.date(2026, 11, 30),
                          input_name="customers.csv", jobs=1)
    files = render_playbooks(evaluation, selection="key", lang="en")
    htmls = {name: data.decode("utf-8") for name, data in files.items() if name.endswith(".html")}
    name, html = max(htmls.items(), key=lambda item: (item[1].count('class="action"'), item[0]))
    assert html.count('class="action"') >= 12  # the example's longest plan: 14 actions
    plan = re.sub(r'<section id="(facts|trace)" class="appendix.*?</section>|<footer class="page">.*?</footer>', "",
                  html, flags=re.S)  # the plan before the appendix (the footer follows the appendix)
    plan_pages = chromium_pages(chromium, plan, tmp_path)
    whole = chromium_pages(chromium, html, tmp_path)
    assert plan_pages <= 3 < whole, (name, plan_pages, whole)


def test_without_fpdf2_evaluate_pdf_stops_before_the_work(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "fpdf", None)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["evaluate", str(PROJECT / "accounts.csv"), "--rules", str(PROJECT / "rules"),
                                      "--out", str(out), "--as-of", "2026-11-27", "--pdf", "--jobs", "1"])
    assert result.exit_code == 2
    assert "--pdf needs the fpdf2 package" in result.output and "Traceback" not in result.output
    assert "columns:" not in result.output  # said before the data was read
    assert not out.exists()
