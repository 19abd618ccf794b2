"""The report PDF's first two pages: the portfolio summary a sales director reads on its own.

Drawn from the `ReportContext` the HTML report is rendered from (no figure is computed again): the
headline figures, the Pareto (ABC) curve as a vector chart, the accounts by tier, the defection risks
with the largest sales at stake, regional concentration, the portfolio advice and the other
breakdowns. Page 1 and 2 hold what fits; what does not fit on page 2 opens the details (page 3 on),
which are the HTML report's own sections, so nothing is lost and the summary never runs onto page 3.
"""

from __future__ import annotations

from typing import Callable

from kamrules.documents.pdf_chart import draw_pareto
from kamrules.documents.pdf_layout import BODY, MUTED, SMALL, Cell, Document, Row
from kamrules.documents.report_model import ReportContext
from kamrules.i18n import fmt_date

# The HTML report's sections the summary replaces (the details leave them out).
SUMMARY_SECTIONS = frozenset({"summary", "pareto", "counts", "advice", "header.page"})
RISKS_SHOWN, REGIONS_SHOWN = 12, 8
WORDS = {
    "en": {"risk_top": "Largest sales at stake first", "risk_shown": "%s of %s accounts at risk or critical; all of "
           "them are listed in the details (from page 3).", "regions_shown": "The %s most concentrated of %s regions; "
           "all of them are in the details.", "other_counts": "Other decisions", "version": "version"},
    "zh": {"risk_top": "按涉及销售额从高到低", "risk_shown": "列出 %s 个（共 %s 个有风险或高风险的客户）；完整名单见第 3 页起的明细。",
           "regions_shown": "列出集中度最高的 %s 个区域（共 %s 个）；全部区域见明细。", "other_counts": "其他决策",
           "version": "版本"},
}


def draw_summary(doc: Document, report: ReportContext, *, b_cut: float | None = None) -> None:
    """Pages 1–2: the summary; then a new page for the details (with what did not fit on page 2)."""
    t, words = report.t, WORDS.get(report.run.lang, WORDS["en"])
    _header(doc, report)
    doc.heading("h2", t["summary"])
    doc.cards([(stat.label, stat.value, stat.note) for stat in report.stats])
    doc.heading("h2", t["pareto_chart"])
    if report.pareto_text:
        doc.paragraph(report.pareto_text, size=BODY)
    draw_pareto(doc, report.chart, t, b_cut=b_cut)
    tiers = next((table for table in report.counts if table.name == "tier"), None)
    if tiers is not None:
        rows = _count_rows(report, tiers)
        if doc.room() < doc.table_height(rows) + 12:
            doc.add_page()
        doc.heading("h3", tiers.title)
        doc.table(rows, widths=[40, 12, 14, 20, 14])
    parts: list[tuple[Callable[[], float], Callable[[], None]]] = [
        _other_counts_part(doc, report, words), _risks_part(doc, report, words), _regions_part(doc, report, words),
        _advice_part(doc, report)]
    left = []
    for height, draw in parts:  # in order, each where it fits: page 1, else page 2, else the details
        if not left and doc.page_no() == 1 and height() > doc.room():
            doc.add_page()
        if left or doc.page_no() > 2 or height() > doc.room():
            left.append(draw)  # once one part moves on, the rest follow it
        else:
            draw()
    doc.add_page()
    for draw in left:
        draw()


def _header(doc: Document, report: ReportContext) -> None:
    run, t = report.run, report.t
    doc.paragraph(run.pack_title, size=SMALL, color=MUTED, gap=0)
    doc.heading("h1", t["report_title"])
    meta = [f"{t['as_of']} {fmt_date(run.as_of, run.lang)}"]
    if run.input_name:
        meta.append(f"{t['input']}{t['colon']}{run.input_name}")
    meta.append(f"{t['rule_pack']}{t['colon']}{run.pack_title}" + (f" {run.pack_version}" if run.pack_version else ""))
    meta.append(f"{t['pack_hash']} {run.pack_hash}")
    doc.paragraph(" · ".join(meta), size=SMALL, color=MUTED)


def _count_rows(report: ReportContext, table) -> list[Row]:
    t = report.t
    rows = [Row((Cell(""), Cell(t["count"], "R"), Cell(t["share_of_accounts"], "R"), Cell(t["sales"], "R"),
                 Cell(t["share_of_sales"], "R")), header=True)]
    for row in table.rows:
        rows.append(Row((Cell(row.label, head=True), Cell(str(row.accounts), "R"), Cell(row.account_share, "R"),
                         Cell(row.sales, "R"), Cell(row.sales_share, "R"))))
    return rows


def _measured(doc: Document, draw_on: Callable[[Document], None]) -> float:
    """The height `draw_on(doc)` takes from here (inf if it would start a page), found by drawing it
    and rewinding (fpdf2's offset rendering)."""
    with doc.offset_rendering() as trial:
        start_page, start = doc.page, doc.get_y()
        draw_on(doc)
        height = doc.get_y() - start if doc.page == start_page else float("inf")
    del trial
    return height


def _part(doc: Document, draw_on: Callable[[Document], None]) -> tuple[Callable[[], float], Callable[[], None]]:
    """(its height here, draw it here) for a part of page 2."""
    return (lambda: _measured(doc, draw_on)), (lambda: draw_on(doc))


def _risks_part(doc: Document, report: ReportContext, words: dict):
    t = report.t

    def draw(target: Document) -> None:
        target.heading("h2", t["risks"])
        if not report.risks:
            text = (report.portfolio.text(report.portfolio.risk_not_assessed, report.run.lang)
                    if report.portfolio.risk_assessed is False else t["no_risks"])
            target.paragraph(text, color=MUTED)
            return
        target.paragraph(words["risk_top"], size=SMALL, color=MUTED, gap=0.5)
        rows = [Row((Cell(t["account"]), Cell(t["tier"]), Cell(t["risk"]), Cell(t["sales"], "R"),
                     Cell(t["share_of_sales"], "R"), Cell(t["signals"])), header=True)]
        for line in report.risks[:RISKS_SHOWN]:
            rows.append(Row((Cell(f"{line.name}\n{line.account_id}" if line.name != line.account_id else line.name),
                             Cell(line.tier_text), Cell(line.risk_text), Cell(line.sales, "R"), Cell(line.sales_share, "R"),
                             Cell(t["comma"].join(signal.text for signal in line.signals)))))
        target.table(rows, widths=[30, 12, 11, 13, 9, 34])
        total = max(report.portfolio.risks_total, len(report.risks))
        if total > RISKS_SHOWN:
            target.paragraph(words["risk_shown"] % (RISKS_SHOWN, total), size=SMALL, color=MUTED)

    return _part(doc, draw)


def _regions_part(doc: Document, report: ReportContext, words: dict):
    t = report.t
    raw = report.portfolio.regions
    order = sorted(range(len(report.regions)), key=lambda i: (
        not report.regions[i].balance,
        -(raw[i].hhi if i < len(raw) and raw[i].hhi is not None else -1.0), i))

    def draw(target: Document) -> None:
        target.heading("h2", t["regions"])
        if not (report.has_region and report.regions):
            target.paragraph(t["no_regions"], color=MUTED)
            return
        rows = [Row((Cell(t["region"]), Cell(t["accounts"], "R"), Cell(t["share_of_sales"], "R"), Cell(t["largest"]),
                     Cell(t["largest_share"], "R"), Cell(t["hhi"], "R"), Cell(t["concentration"])), header=True)]
        for i in order[:REGIONS_SHOWN]:
            region = report.regions[i]
            rows.append(Row((Cell(region.region, head=True), Cell(str(region.accounts), "R"), Cell(region.sales_share, "R"),
                             Cell(region.largest), Cell(region.largest_share, "R"), Cell(region.hhi, "R"),
                             Cell(region.concentration_text))))
        target.table(rows, widths=[14, 9, 11, 30, 9, 8, 19])
        if len(report.regions) > REGIONS_SHOWN:
            target.paragraph(words["regions_shown"] % (REGIONS_SHOWN, len(report.regions)), size=SMALL, color=MUTED)

    return _part(doc, draw)


def _advice_part(doc: Document, report: ReportContext):
    def draw(target: Document) -> None:
        if report.advice:
            target.heading("h2", report.t["advice_title"])
            target.box(list(report.advice), size=BODY - 0.5)

    return _part(doc, draw)


def _other_counts_part(doc: Document, report: ReportContext, words: dict):
    t = report.t
    tables = [table for table in report.counts if table.name != "tier"]

    def draw(target: Document) -> None:
        if not tables:
            return
        target.heading("h2", words["other_counts"])
        target.tables_side_by_side([
            [Row((Cell(table.title), Cell(t["count"], "R"), Cell(t["share_of_sales"], "R")), header=True)]
            + [Row((Cell(row.label), Cell(str(row.accounts), "R"), Cell(row.sales_share, "R"))) for row in table.rows]
            for table in tables], size=SMALL)

    return _part(doc, draw)
