"""PDF copies of the HTML documents (`evaluate --pdf`): no browser, Chinese set with real glyphs.

`pdf_copies(files, lang=..., as_of=..., report=...)` makes `playbooks/<stem>.pdf` beside each HTML
playbook and `report.pdf`, set with fpdf2 (pure Python) in one embedded font (WenQuanYi Micro Hei:
Latin and 20,932 CJK ideographs, `fonts/README.md`; each PDF embeds only the glyphs it uses).

- A playbook PDF is read from the HTML the (team's) template rendered (`pdf_html.read_blocks`) and
  styled after the default template's classes: the header's badges, the at-a-glance box, tables with a
  shaded header row repeated across pages, borders and right-aligned numbers, the actions with owner
  and due date, the fill-in tables (contact map, SWOT, approval) with room to write, the appendix
  (facts, rule trace) on a page of its own, last.
- The report PDF opens with two pages that stand alone as the portfolio summary (`pdf_report`, from the
  report's `ReportContext`, the Pareto curve drawn as a vector chart by `pdf_chart`); the HTML report's
  other sections follow as the details.
- Every page has a footer: the document, the rule pack and version, the as-of date, "page 2 of 3".

Same inputs and as-of date, same bytes: the creation date is the as-of date and the file id a hash of
the content. Any text prints: control characters are dropped, characters the font lacks show as □.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from kamrules.documents.pdf_html import SPACE, Block, read_blocks
from kamrules.errors import UsageError
from kamrules.i18n import fmt_date

__all__ = ["Block", "read_blocks", "require_fpdf", "html_to_pdf", "report_to_pdf", "pdf_copies", "write_pdf",
           "font_path"]

TITLE = re.compile(r"<title>(.*?)</title>", re.S | re.I)
# Column shares (of the page width) for the default templates' tables, as in their print CSS.
WIDTHS = {"actions": [46, 17, 12, 25], "swot": [13, 57, 30], "next": [14, 68, 18], "approval": [1, 1, 1],
          "contacts": [22, 22, 20, 16, 20], "trace": [18, 22, 16, 44]}
FILL_HEIGHT = {"contacts": 5.5, "swot": 9.0, "approval": 9.0}  # mm: room to write in by hand
FILL_ROWS = {"contacts": 4}  # at least this many rows, blank ones added
INLINE_SECTIONS = ("unknown", "service")  # their fact tables run as one paragraph, as in print


def font_path() -> str:
    from kamrules.documents.pdf_fonts import font_path as path

    return path()


def require_fpdf():
    """The fpdf2 module, or a `UsageError` saying how to install it."""
    try:
        import fpdf
    except ImportError:  # installed with kamrules; only a hand-made environment lacks it
        raise UsageError("--pdf needs the fpdf2 package, which is installed with kamrules: "
                         "run `pip install fpdf2` (or reinstall kamrules with `pip install .`)") from None
    return fpdf


def _document(title: str, lang: str, as_of: dt.date | None, footer: str):
    require_fpdf()
    from kamrules.documents.pdf_layout import Document

    return Document(title=title, lang=lang, as_of=as_of, footer=footer or title)


def html_to_pdf(html: str, *, title: str = "", lang: str = "en", as_of: dt.date | None = None,
                footer: str = "") -> bytes:
    """One HTML document as PDF bytes (A4 portrait). Same inputs, same bytes."""
    doc = _document(title, lang, as_of, footer)
    draw_blocks(doc, read_blocks(html))
    return bytes(doc.output())


def report_to_pdf(html: str, report, *, title: str = "", as_of: dt.date | None = None, footer: str = "",
                  b_cut: float | None = None) -> bytes:
    """The report PDF: the two summary pages from `report` (a `ReportContext`), then the HTML report's
    other sections. `b_cut`: the pack's `abc_b_cut` (the chart's class B band)."""
    from kamrules.documents.pdf_report import SUMMARY_SECTIONS, draw_summary

    doc = _document(title, report.run.lang, as_of, footer)
    draw_summary(doc, report, b_cut=b_cut)
    draw_blocks(doc, read_blocks(html, skip=SUMMARY_SECTIONS))
    return bytes(doc.output())


def write_pdf(path: Path, html: str, **options) -> None:
    """Write `html_to_pdf(html, **options)` to `path` (a convenience for scripts and tests)."""
    Path(path).write_bytes(html_to_pdf(html, **options))


def footer_text(title: str, lang: str, as_of: dt.date | None, run=None) -> str:
    """The footer line: the document, the rule pack and its version, the as-of date."""
    from kamrules.i18n import UI

    t = UI.get(lang, UI["en"])
    parts = [title]
    if run is not None:
        parts.append(f"{t['rule_pack']}{t['colon']}{run.pack_title}" + (f" {run.pack_version}" if run.pack_version else ""))
    if as_of is not None:
        parts.append(f"{t['as_of']} {fmt_date(as_of, lang)}")
    return " · ".join(part for part in parts if part)


@dataclass(frozen=True)
class _Copy:
    """One PDF to make: where it goes, the HTML it is set from, its title and footer."""

    target: str
    html: str
    title: str
    footer: str
    report: bool  # the report: its summary pages come from the report's model


def pdf_copies(files: dict, *, lang: str = "en", as_of: dt.date | None = None, report=None,
               b_cut: float | None = None, jobs: int = 1) -> dict[str, bytes]:
    """`evaluate --pdf`: a PDF beside each HTML playbook (`playbooks/<stem>.pdf`) and the report
    (`report.pdf`), from the HTML just rendered, so the PDF says what the HTML says. `report`: the
    report's `ReportContext` (without it, report.pdf is read from the HTML alone, with no chart).

    The font is read once and subset once to every character of these documents (`pdf_fonts`);
    with `jobs` > 1 the documents are set in that many forked worker processes (the report first,
    the longest). Same bytes, in the same order, whatever `jobs`."""
    from kamrules.documents import pdf_fonts

    copies = _copies(files, lang, as_of, report)
    if not copies:
        return {}
    require_fpdf()
    pdf_fonts.prepare([*(copy.html for copy in copies), *(copy.footer for copy in copies), *pdf_words(lang)])
    try:
        options = {"lang": lang, "as_of": as_of, "report": report, "b_cut": b_cut}
        workers = pdf_workers(jobs, len(copies))
        if workers == 1:
            return {copy.target: _make(copy, options) for copy in copies}
        made = _in_workers(copies, options, workers)
        return {copy.target: made[copy.target] for copy in copies}
    finally:
        pdf_fonts.release()


def _copies(files: dict, lang: str, as_of: dt.date | None, report) -> list[_Copy]:
    import html as html_lib

    run = report.run if report is not None else None
    copies = []
    for name, data in files.items():
        if not name.endswith(".html") or not (name.startswith("playbooks/") or name == "report.html"):
            continue
        text = data.decode("utf-8") if isinstance(data, bytes) else str(data)
        found = TITLE.search(text)
        title = html_lib.unescape(SPACE.sub(" ", found.group(1)).strip()) if found else name
        footer = footer_text(title.split(" — ")[0] if name == "report.html" else title, lang, as_of, run)
        copies.append(_Copy(name[: -len(".html")] + ".pdf", text, title, footer,
                            name == "report.html" and report is not None))
    return copies


def _make(copy: _Copy, options: dict) -> bytes:
    if copy.report:
        return report_to_pdf(copy.html, options["report"], title=copy.title, as_of=options["as_of"],
                             footer=copy.footer, b_cut=options["b_cut"])
    return html_to_pdf(copy.html, title=copy.title, lang=options["lang"], as_of=options["as_of"], footer=copy.footer)


# ------------------------------------------------------------------------------ worker processes

PER_TASK = 2  # documents a task at most: a PDF takes 30-150 ms, so small tasks keep the workers even

_WORK: tuple[list[_Copy], dict] | None = None  # what a forked worker inherits


def pdf_workers(jobs: int, documents: int) -> int:
    """Worker processes for setting `documents` PDFs: 1 (here) when forking is unavailable or there is
    one document (a fork and a pool start-up cost ~20 ms; a PDF 30 ms or more)."""
    import multiprocessing

    from kamrules.processes import can_fork

    if jobs <= 1 or documents < 2 or not can_fork() or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return min(jobs, documents)


def _make_task(indexes: list[int]) -> list[tuple[str, bytes]]:
    assert _WORK is not None
    copies, options = _WORK
    return [(copies[i].target, _make(copies[i], options)) for i in indexes]


def _in_workers(copies: list[_Copy], options: dict, workers: int) -> dict[str, bytes]:
    """The PDFs of `copies`, set in `workers` forked processes (which inherit the documents and the
    font read and subset here, and die with this process)."""
    from kamrules.processes import worker_pool

    global _WORK
    reports = [i for i, copy in enumerate(copies) if copy.report]
    others = [i for i, copy in enumerate(copies) if not copy.report]
    size = max(1, min(PER_TASK, len(others) // (workers * 4)))
    tasks = [[i] for i in reports] + [others[i:i + size] for i in range(0, len(others), size)]
    _WORK = (copies, options)
    made: dict[str, bytes] = {}
    pool = worker_pool(workers)
    try:
        for future in [pool.submit(_make_task, task) for task in tasks]:
            made.update(future.result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _WORK = None
    return made


def pdf_words(lang: str) -> list[str]:
    """The texts a PDF may set that are not in its HTML (labels, page numbers, marks), for the working
    font (`pdf_fonts.prepare`). One it lacks costs time, never a glyph: that PDF is subset from the full
    font."""
    from kamrules.documents import pdf_chart, pdf_layout, pdf_report
    from kamrules.i18n import UI

    words = ["\x00 0123456789", pdf_layout.MISSING_GLYPH, "•…·", *pdf_layout.PAGE_WORDS.values()]
    for table in (UI, pdf_report.WORDS, pdf_chart.WORDS):
        words += [str(text) for text in table.get(lang, table["en"]).values()]
    return words


# ------------------------------------------------------------------------------------ the blocks


def draw_blocks(doc, blocks: list[Block]) -> None:
    """Set `blocks` on `doc` in order, styled after the default templates' classes."""
    from kamrules.documents.pdf_layout import ACCENT, MUTED, SMALL

    glance: list[str] = []
    for block in blocks:
        if glance and not (block.kind == "li" and block.section == "glance"):
            doc.box(glance, size=7.8)
            glance = []
        if block.kind == "break":
            if doc.get_y() > doc.t_margin + 1:
                doc.add_page()
        elif block.kind in ("h1", "h2", "h3", "h4", "h5", "h6"):
            doc.heading(block.kind, block.text)
        elif block.kind == "li" and block.section == "glance":
            glance.append(block.text)
        elif block.kind == "li":
            doc.paragraph(block.text, bullet=True, size=SMALL + 0.4 if block.muted else 7.6, gap=0.3)
        elif block.kind == "badges":
            doc.strong()
            doc.set_draw_color(*ACCENT)
            doc.paragraph(block.text, size=9.0, color=ACCENT)
            doc.strong(False)
        elif block.kind == "callout":
            doc.box(block.text.split("\n"), warn="warn" in block.classes, size=7.6)
        elif block.kind == "cards":
            doc.cards([_card(text) for _, cells in block.rows for text in cells], value_size=10.0)
        elif block.kind == "table":
            _table(doc, block)
        else:
            doc.paragraph(block.text, size=SMALL if block.muted else 7.8, color=MUTED if block.muted else (20, 24, 31))
    if glance:
        doc.box(glance, size=7.8)


def _card(text: str) -> tuple[str, str, str]:
    lines = text.split("\n")
    return lines[0], lines[1] if len(lines) > 1 else "", " ".join(lines[2:])


def _table(doc, block: Block) -> None:
    from kamrules.documents.pdf_layout import Cell, Row

    kind = next((name for name in WIDTHS if name in block.classes), "")
    flags = block.flags if len(block.flags) == len(block.rows) else [[""] * len(cells) for _, cells in block.rows]
    if "kv" in block.classes and block.section in INLINE_SECTIONS and all(len(cells) == 2 for _, cells in block.rows):
        doc.paragraph(" · ".join(f"{label} {value}" for _, (label, value) in block.rows), size=7.6)
        return
    rows = [Row(tuple(Cell(text, "R" if flag == "num" else "L", flag == "th") for text, flag in
                      zip(cells, list(row_flags) + [""] * len(cells))), header)
            for (header, cells), row_flags in zip(block.rows, flags)]
    if "kv" in block.classes and len(rows) > 10 and all(len(row.cells) == 2 and not row.header for row in rows):
        half = (len(rows) + 1) // 2  # a long fact list in two pairs of columns
        rows = [Row(rows[i].cells + (rows[i + half].cells if i + half < len(rows) else (Cell(""), Cell(""))))
                for i in range(half)]
    if "fill" in block.classes:
        columns = max(len(row.cells) for row in rows)
        body = sum(not row.header for row in rows)
        rows += [Row(tuple(Cell("") for _ in range(columns)))] * max(0, FILL_ROWS.get(kind, 1) - body)
    doc.table(rows, widths=WIDTHS.get(kind), min_height=FILL_HEIGHT.get(kind, 0.0) if "fill" in block.classes else 0.0)
