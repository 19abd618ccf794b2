"""`evaluate --pdf` and the printed review document.

The PDFs come from fpdf2 with the shipped font (no browser): text extraction finds the Chinese account
name and the headings, each PDF embeds its font, page counts are bounded, bytes are the same for the
same inputs. The report PDF's first two pages are the portfolio summary, read from the report's model,
with the Pareto curve drawn in vector operators; tables have a shaded header row repeated on each page
and numbers right aligned; no account name (10,000 characters, control characters, emoji the font
lacks) stops a PDF. The HTML playbook of the largest key account of the example data prints
(Chromium's own print to PDF, the template's print CSS) on at most 3 A4 pages before the appendix.
"""

from __future__ import annotations

import contextlib
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
from kamrules.documents.report import build_report_context, render_report
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
    links = playbook_links(files, evaluation)
    summary = summarise(evaluation, lang=lang)
    files["report.html"] = render_report(evaluation, summary, lang=lang, playbook_links=links)
    view = build_report_context(evaluation, summary, lang=lang, playbook_links=links)
    options = {"lang": lang, "report": view, "b_cut": evaluation.pack.param_values.get("abc_b_cut")}
    return lang, files, pdf_copies(files, as_of=AS_OF, **options), options


def test_each_html_document_gets_a_pdf_and_nothing_else(documents):
    _, files, pdfs, _ = documents
    htmls = sorted(name for name in files if name.endswith(".html"))
    assert sorted(name[: -len(".pdf")] + ".html" for name in pdfs) == htmls
    assert all(data.startswith(b"%PDF-") for data in pdfs.values())


def test_the_playbook_pdf_has_the_chinese_name_and_the_headings_in_real_glyphs(documents):
    lang, _, pdfs, _ = documents
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
    lang, _, pdfs, _ = documents
    pages, text = pages_and_text(pdfs["report.pdf"])
    assert 3 <= pages <= 12
    assert "华东机械有限公司" in text
    assert {"en": "Key accounts", "zh": "重点客户"}[lang] in text


SUMMARY_WORDS = {
    "en": ["Key account portfolio report", "Summary", "Pareto curve", "Tier", "Defection risks",
           "Regional concentration", "Cumulative share of sales", "Share of accounts, largest first", "Class A",
           "80% of sales", "Key account"],
    "zh": ["重点客户组合报告", "概要", "帕累托曲线", "客户级别", "客户流失风险", "区域集中度", "累计销售额占比",
           "客户占比（按销售额从高到低）", "A 类", "80% 销售额", "重点客户"],
}


def page_texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def test_the_report_opens_with_two_pages_of_summary_and_a_drawn_chart(documents):
    lang, _, pdfs, _ = documents
    reader = pypdf.PdfReader(io.BytesIO(pdfs["report.pdf"]))
    texts = [page.extract_text() for page in reader.pages]
    summary = texts[0] + texts[1]
    for word in SUMMARY_WORDS[lang]:
        assert word in summary, word
    # the details start on page 3: the full key-account list is not part of the summary
    key_list = {"en": "Key accounts and their playbooks", "zh": "重点客户及其行动手册"}[lang]
    assert key_list not in summary and key_list in "".join(texts[2:])
    # the chart is drawn, not pasted: lines and curves (polyline "l", circles "c", bands "re") on page 1
    ops = reader.pages[0].get_contents().get_data()
    assert ops.count(b" l\n") >= 12 and ops.count(b" c\n") >= 8 and ops.count(b" re f") >= 2
    assert b"/Subtype /Image" not in pdfs["report.pdf"]


def test_summary_risks_come_largest_sales_at_stake_first(documents):
    lang, _, pdfs, options = documents
    texts = page_texts(pdfs["report.pdf"])
    risks = options["report"].risks
    assert len(risks) >= 2
    summary = texts[0] + texts[1]
    risk_part = summary[summary.index({"en": "Defection risks", "zh": "客户流失风险"}[lang]):]
    places = [risk_part.find(line.name) for line in risks]
    assert -1 not in places and places == sorted(places)  # listed as the model orders them
    sales = [float(line.sales.replace(",", "")) for line in risks]
    assert sales == sorted(sales, reverse=True)  # largest sales at stake first


def test_every_page_has_the_footer_with_pack_date_and_page_number(documents):
    lang, _, pdfs, _ = documents
    for name in ("report.pdf", "playbooks/00042-华东机械有限公司.pdf"):
        texts = page_texts(pdfs[name])
        for number, text in enumerate(texts, 1):
            page = {"en": f"Page {number} of {len(texts)}", "zh": f"第 {number} 页，共 {len(texts)} 页"}[lang]
            assert page in text, (name, number)
            assert {"en": "27 Nov 2026", "zh": "2026年11月27日"}[lang] in text
            assert {"en": "Playbook test pack 0.1", "zh": "行动手册测试规则包 0.1"}[lang] in text


def test_same_inputs_same_pdf_bytes(documents):
    lang, files, pdfs, options = documents
    again = pdf_copies(files, as_of=AS_OF, **options)
    assert again == pdfs
    later = pdf_copies({"report.html": files["report.html"]}, as_of=AS_OF + dt.timedelta(days=1), **options)
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
    assert [b.rows for b in blocks if b.kind == "cards"] == [[(False, ["Score\n72", "B"])]]
    assert kinds[-2:] == [("break", ""), ("h2", "Appendix")]


def test_blocks_keep_what_the_styling_reads():
    blocks = read_blocks(
        '<header class="page"><h1>Name</h1><div class="badges"><span class="badge">Key</span>'
        '<span class="badge">Risk: Watch</span></div></header>'
        '<section id="glance"><ul class="glance-lines"><li>Who</li></ul></section>'
        '<section id="plan"><table class="actions"><thead><tr><th>Action</th><th class="num">Sales</th></tr></thead>'
        '<tbody><tr><th scope="row">Visit</th><td class="num">1,000</td></tr></tbody></table>'
        '<div class="callout warn"><p>Balance <b>the</b> region</p><p>now</p></div></section>'
        '<section id="summary"><h2>Left out</h2><table><tr><td>x</td></tr></table></section><p>after</p>',
        skip={"summary"})
    kinds = [(b.kind, b.text, b.section) for b in blocks if b.kind != "table"]
    assert kinds == [("h1", "Name", ""), ("badges", "Key · Risk: Watch", ""), ("li", "Who", "glance"),
                     ("callout", "Balance the region\nnow", "plan"), ("p", "after", "")]
    table = next(b for b in blocks if b.kind == "table")
    assert "actions" in table.classes and table.section == "plan"
    assert table.flags == [["", "num"], ["th", "num"]]  # numbers right aligned, row heads shaded


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


# ------------------------------------------------------------- the styling and the bounds


def text_positions(data: bytes, page: int = 0) -> dict[str, float]:
    """x (points) where each text chunk of a page starts."""
    found: dict[str, float] = {}

    def visit(text, cm, tm, font, size):
        if text.strip():
            found.setdefault(text.strip(), tm[4] + cm[4])

    pypdf.PdfReader(io.BytesIO(data)).pages[page].extract_text(visitor_text=visit)
    return found


def test_tables_repeat_their_header_row_and_right_align_numbers():
    rows = "".join(f'<tr><td>Account {i:03d}</td><td class="num">{"1" if i % 2 else "1,000,000"}</td></tr>'
                   for i in range(160))
    data = html_to_pdf('<table class="accounts"><thead><tr><th>Customer</th><th class="num">Amount</th></tr>'
                       f"</thead><tbody>{rows}</tbody></table>", lang="en")
    texts = page_texts(data)
    assert len(texts) >= 2
    assert all("Customer" in text and "Amount" in text for text in texts)  # the header on every page
    assert "Account 159" in texts[-1] and "Account 000" in texts[0]
    positions = text_positions(data)
    assert positions["1"] > positions["1,000,000"] + 10  # right aligned: the short number starts further right
    assert positions["Account 000"] == positions["Account 001"]  # text left aligned
    content = pypdf.PdfReader(io.BytesIO(data)).pages[0].get_contents().get_data()
    assert b" re B" in content and b" re S" in content  # shaded header cells, bordered body cells


def test_fill_in_tables_get_blank_rows_and_room_to_write(monkeypatch):
    from kamrules.documents import pdf_layout

    drawn = []
    real = pdf_layout.Document.table
    monkeypatch.setattr(pdf_layout.Document, "table",
                        lambda self, rows, **kw: (drawn.append((rows, kw)), real(self, rows, **kw))[1])
    html_to_pdf('<section id="contacts"><table class="contacts fill"><thead><tr><th>Name</th><th>Role</th></tr>'
                "</thead><tbody><tr><td>Zhang Wei</td><td>Buyer</td></tr></tbody></table></section>"
                '<table class="approval fill"><thead><tr><th>Prepared by</th><th>Reviewed by</th></tr></thead>'
                "<tbody><tr><td></td><td></td></tr></tbody></table>")
    (contacts, contact_options), (approval, approval_options) = drawn
    assert [row.header for row in contacts] == [True, False, False, False, False]  # 1 known + 3 blank rows
    assert all(cell.text == "" for row in contacts[2:] for cell in row.cells)
    assert contact_options["min_height"] >= 5 and approval_options["min_height"] >= 8


@pytest.fixture(scope="module", params=["en", "zh"])
def example_plans(request):
    """Every fourth key account of the example data (9 of 34), as PDF, with the default pack."""
    lang = request.param
    frame = pd.read_csv(example_data(), dtype={"account_id": str})
    evaluation = evaluate(load_pack(default_dir("rules")), frame, as_of=dt.date(2026, 11, 30),
                          input_name="customers.csv", jobs=1)
    files = render_playbooks(evaluation, selection="key", lang=lang)
    htmls = sorted(name for name in files if name.endswith(".html"))[::4]
    return lang, pdf_copies({name: files[name] for name in htmls}, lang=lang, as_of=dt.date(2026, 11, 30))


def test_a_typical_key_account_plan_is_at_most_three_pages(example_plans):
    lang, pdfs = example_plans
    pages = sorted(len(pypdf.PdfReader(io.BytesIO(data)).pages) for data in pdfs.values())
    assert len(pages) >= 8
    assert pages[len(pages) // 2] <= 3, pages  # the typical (median) key account: 3 A4 pages, appendix included
    assert pages[-1] <= 4, pages
    first = page_texts(next(iter(pdfs.values())))[0]
    for heading in {"en": ["At a glance", "Next actions", "Owner", "Due"], "zh": ["概览", "近期行动", "负责人"]}[lang]:
        assert heading in first, heading  # the first page is the glance: the actions due soonest, with owner


def test_chinese_pdfs_speak_chinese(documents):
    lang, _, pdfs, _ = documents
    if lang != "zh":
        pytest.skip("the Chinese documents only")
    texts = page_texts(pdfs["report.pdf"])
    summary = texts[0] + texts[1]
    for english in ("Page ", "Class ", "Share of", "Pareto", "Summary", "Defection", "Key account", "As of",
                    "Rule pack", "Largest", "Regional"):
        assert english not in summary, english
    plan = "".join(page_texts(pdfs["playbooks/00042-华东机械有限公司.pdf"]))
    for english in ("At a glance", "Action plan", "Owner", "Approval", "Page ", "Appendix"):
        assert english not in plan, english


HOSTILE = {
    "H0": "X" * 10_000,
    "H1": "华" * 10_000,
    "H2": "bad\x01\x07\x1b[31mname\x7f\u200b\u202etxet",
    "H3": "emoji 😀🚀🏭 account 𪚥",
    "H4": "long " * 2_000,
}


def test_hostile_account_names_never_stop_the_pdf():
    frame = pd.read_csv(PROJECT / "accounts.csv", dtype={"account_id": str})
    extra = pd.DataFrame([dict(frame.iloc[0], account_id=key, account_name=name, sales=900_000 + i)
                          for i, (key, name) in enumerate(HOSTILE.items())])
    frame = pd.concat([frame, extra], ignore_index=True)
    evaluation = evaluate(load_pack(PROJECT / "rules"), frame, as_of=AS_OF, input_name="accounts.csv", jobs=1)
    files = render_playbooks(evaluation, selection="key+potential", lang="en")
    links = playbook_links(files, evaluation)
    summary = summarise(evaluation, lang="en")
    files["report.html"] = render_report(evaluation, summary, lang="en", playbook_links=links)
    view = build_report_context(evaluation, summary, lang="en", playbook_links=links)
    pdfs = pdf_copies(files, lang="en", as_of=AS_OF, report=view)
    for key in HOSTILE:
        name = next(name for name in pdfs if name.startswith(f"playbooks/{key.lower()}-"))
        pages, text = pages_and_text(pdfs[name])
        assert pages <= 6, (key, pages)  # a 10,000-character name is cut ("…"), not set over pages
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    emoji = pages_and_text(pdfs[next(name for name in pdfs if name.startswith("playbooks/h3-"))])[1]
    assert "emoji □ account □" in emoji  # glyphs the font lacks print as □
    assert "…" in pages_and_text(pdfs[next(name for name in pdfs if name.startswith("playbooks/h0-"))])[1]
    assert pages_and_text(pdfs["report.pdf"])[0] >= 3


# ------------------------------------------------------------- speed without changing a byte (issue #28 item 5)


def test_the_shared_font_and_layout_give_the_bytes_fpdf2_alone_gives(documents):
    from kamrules.documents.pdf_fonts import plain_fpdf2

    lang, files, pdfs, options = documents
    with plain_fpdf2():  # every document reads and subsets the whole font, every text measured afresh
        plain = pdf_copies(files, as_of=AS_OF, **options)
    assert list(plain) == list(pdfs)
    assert plain == pdfs


ODD_TEXTS = ["Café Müller Ångström Øresund — ½ ¼ ﬁ", "emoji 😀 and 𪚥", "华东机械 · 重点客户 “引号” 《书名》",
             "tab\there\nline two", "X" * 300]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_document_outside_the_working_font_is_subset_from_the_whole_font(lang):
    from kamrules.documents import pdf_fonts
    from kamrules.documents.pdf import pdf_words

    html = "".join(f"<h2>{text}</h2><p>{text}</p><table><tr><td>{text}</td><td>1</td></tr></table>"
                   for text in ODD_TEXTS)
    with pdf_fonts.plain_fpdf2():
        plain = html_to_pdf(html, lang=lang, as_of=AS_OF, title="T")
    pdf_fonts.prepare(["only ascii here"])  # a working font without the characters above
    misses = pdf_fonts.misses
    try:
        assert html_to_pdf(html, lang=lang, as_of=AS_OF, title="T") == plain
        assert pdf_fonts.misses == misses + 1
        pdf_fonts.prepare([html, *pdf_words(lang)])  # now it has them: the same bytes from the small font
        assert html_to_pdf(html, lang=lang, as_of=AS_OF, title="T") == plain
        assert pdf_fonts.misses == misses + 1
    finally:
        pdf_fonts.release()


def test_the_font_is_read_once_and_subset_once_for_a_run(documents, monkeypatch):
    from fpdf.fonts import TTFFont

    from kamrules.documents import pdf_fonts

    _, files, pdfs, options = documents
    reads, subsets = [], []
    real_init, real_subset = TTFFont.__init__, pdf_fonts._subset_full_font
    monkeypatch.setattr(TTFFont, "__init__", lambda self, *a, **k: (reads.append(1), real_init(self, *a, **k))[1])
    monkeypatch.setattr(pdf_fonts, "_subset_full_font", lambda *a: (subsets.append(1), real_subset(*a))[1])
    pdf_fonts._master.cache_clear()
    pdf_fonts.characters.cache_clear()
    pdf_fonts.release()
    misses = pdf_fonts.misses
    assert pdf_copies(files, as_of=AS_OF, **options) == pdfs
    assert len(pdfs) >= 4 and len(reads) == 1 and len(subsets) == 1
    assert pdf_fonts.misses == misses  # every document was subset from the run's working font


def test_the_working_font_metrics_and_character_map_are_decompiled_once_for_a_run(documents, monkeypatch):
    from fontTools.ttLib import getTableClass

    _, files, pdfs, options = documents
    decompiled = []
    for tag in ("hmtx", "cmap"):
        table = getTableClass(tag)
        real = table.decompile
        monkeypatch.setattr(table, "decompile", lambda self, *a, _real=real, _tag=tag: (decompiled.append(_tag),
                                                                                        _real(self, *a))[1])
    assert pdf_copies(files, as_of=AS_OF, **options) == pdfs
    # the full font when the working font is cut from it, then the working font: not once a PDF (hmtx's
    # class also reads vmtx)
    assert len(pdfs) >= 4 and decompiled.count("cmap") <= 2 and decompiled.count("hmtx") <= 4


def test_pdfs_set_in_worker_processes_are_the_same_bytes(documents, monkeypatch):
    from kamrules.documents import pdf

    _, files, pdfs, options = documents
    assert pdf_copies(files, as_of=AS_OF, jobs=2, **options) == pdfs
    assert list(pdf_copies(files, as_of=AS_OF, jobs=2, **options)) == list(pdfs)  # in the same order
    real_make = pdf._make
    monkeypatch.setattr(pdf, "_make", lambda copy, options: str(os.getpid()).encode() + b" " + real_make(copy, options))
    made = pdf_copies(files, as_of=AS_OF, jobs=2, **options)
    pids = {data.split(b" ", 1)[0] for data in made.values()}
    assert str(os.getpid()).encode() not in pids  # set in the workers, not here
    assert {name: data.split(b" ", 1)[1] for name, data in made.items()} == pdfs


def test_a_worker_error_reaches_the_caller(documents, monkeypatch):
    from kamrules.documents import pdf
    from kamrules.errors import TemplateError

    _, files, _, options = documents

    def fails(copy, options):
        raise TemplateError(f"cannot set {copy.target}")

    monkeypatch.setattr(pdf, "_make", fails)
    with pytest.raises(TemplateError, match=r"cannot set .*\.pdf"):
        pdf_copies(files, as_of=AS_OF, jobs=2, **options)


# ------------------------------------------------------------- line breaking as fpdf2 breaks lines

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

LINE_CHARS = list("aaaa bbb cc d WWW iii 1,234.5 — ·") + list("华东机械有限公司重点客户，。（）") + [
    " ", " ", "\n", "\u00a0", "\u3000", "\u2009", "\u200b", "…"]
line_texts = st.text(alphabet=st.sampled_from(LINE_CHARS), max_size=90)


def fpdf2_lines(doc, text: str, width: float, wrap: str):
    """fpdf2's own MultiLineBreak of `text` as multi_cell sets it up: its lines, or the error it raises."""
    from fpdf.enums import Align, WrapMode
    from fpdf.errors import FPDFException
    from fpdf.line_break import MultiLineBreak

    breaker = MultiLineBreak(doc._preload_font_styles(text, False), width, [doc.c_margin, doc.c_margin],
                             align=Align.J, wrapmode=WrapMode.coerce(wrap))
    lines = []
    try:
        while (line := breaker.get_line()) is not None:
            lines.append(line)
    except FPDFException as exc:
        return str(exc)
    return lines


def described(lines) -> list:
    if isinstance(lines, str):
        return [lines]
    return [("".join(c for fragment in line.fragments for c in fragment.characters), len(line.fragments),
             line.text_width, line.number_of_spaces, line.align, line.height, line.max_width, line.trailing_nl,
             line.trailing_form_feed, line.indent) for line in lines]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=line_texts, width=st.floats(0.5, 70), size=st.sampled_from([6.8, 7.0, 8.0, 10.5, 14.0]),
       wrap=st.sampled_from(["WORD", "CHAR"]))
def test_lines_break_as_fpdf2_breaks_them(text, width, size, wrap):
    if wrap == "CHAR":  # fpdf2 loops forever on a character wider than the line in CHAR mode
        width = max(width, 5.0)
    from fpdf.enums import Align
    from fpdf.errors import FPDFException

    from kamrules.documents.pdf_layout import Document
    from kamrules.documents.pdf_lines import break_text, plain, text_lines

    doc = Document(lang="zh" if wrap == "CHAR" else "en")
    doc.set_font("body", "", size)
    assert plain(doc, text)
    expected = described(fpdf2_lines(doc, text, width, wrap))
    try:
        ours = break_text(text, width, doc.current_font.cw, doc.font_size_pt, doc.k, wrap == "CHAR")
    except FPDFException as exc:
        assert expected == [str(exc)]
        return
    assert described(text_lines(doc, ours, width, Align.J, 4.0) if ours else []) == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(line_texts, min_size=1, max_size=8), width=st.floats(6, 120),
       lang=st.sampled_from(["en", "zh"]))
def test_blocks_and_measured_lines_give_the_bytes_fpdf2_alone_gives(texts, width, lang):
    """Paragraphs set with remembered breaks (`Document.block`), and lines measured for tables
    (`Document.lines`), against fpdf2's multi_cell: the same PDF, glyph order in the font included."""
    from kamrules.documents.pdf_fonts import plain_fpdf2
    from kamrules.documents.pdf_layout import Document

    def made() -> bytes:
        doc = Document(lang=lang, as_of=AS_OF, footer="footer")
        for round_ in range(2):  # the second round finds every break remembered
            for text in texts:
                doc.set_font("body", "", 8.0)
                measured = doc.lines(width, doc.clean(text))
                doc.block(width, 4.0, doc.clean(text))
                doc.paragraph(" | ".join(measured), size=7.0)
        return bytes(doc.output())

    with plain_fpdf2():
        expected = made()
    assert made() == expected


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_column_narrower_than_a_character_keeps_its_first_character(lang):
    """fpdf2 raises on a character wider than the line when wrapping words, and returns empty lines
    forever when wrapping characters (the PDF never finished): such a text keeps its first character,
    as a column under 3 mm does."""
    from fpdf.errors import FPDFException

    from kamrules.documents.pdf_fonts import plain_fpdf2
    from kamrules.documents.pdf_layout import Document
    from kamrules.documents.pdf_lines import break_text

    for reference in (True, False):
        doc = Document(lang=lang)
        doc.set_font("body", "", 14.0)
        with plain_fpdf2() if reference else contextlib.nullcontext():
            assert doc.lines(3.5, "华东 WW") == ["华"]
    with pytest.raises(FPDFException):
        break_text("华东", 3.5, doc.current_font.cw, 14.0, doc.k, True)
