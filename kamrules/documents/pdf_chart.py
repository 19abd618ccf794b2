"""The Pareto (ABC) curve of the report, drawn in the PDF with vector primitives (lines, polylines,
circles, filled rectangles) from the same `Chart` the HTML report's SVG is made of: cumulative share of
sales against share of accounts, largest first; the class A / B / C bands, the target line (80% of
sales) and the share of accounts that reaches it, every account a point, key accounts filled.

Nothing is computed anew: positions are the model's SVG coordinates scaled to millimetres. The B band
ends where the drawn curve reaches the pack's `abc_b_cut` (no band B without that param).
"""

from __future__ import annotations

from kamrules.documents.pdf_layout import ACCENT, INK, MUTED, RULE, SMALL, Document, line_height
from kamrules.documents.report_model import Chart
from kamrules.i18n import fmt_pct

STRIP = 4.5  # mm above the plot for the band labels
BAND_FILL = {"A": (214, 228, 245), "B": (232, 239, 248), "C": (246, 247, 249)}
CURVE, EVEN, TARGET, OTHER = (23, 74, 140), (160, 168, 178), (192, 57, 43), (150, 160, 172)
WORDS = {
    "en": {"class": "Class %s", "b": "up to %s of sales", "c": "the rest"},
    "zh": {"class": "%s 类", "b": "累计至 %s 销售额", "c": "其余客户"},
}


def _curve_points(chart: Chart) -> list[tuple[float, float]]:
    points = []
    for pair in chart.curve.split():
        x, _, y = pair.partition(",")
        try:
            points.append((float(x), float(y)))
        except ValueError:  # a hand-made model: leave the pair out
            continue
    return points


def _b_edge(chart: Chart, b_cut: float | None) -> float | None:
    """x (SVG units) where the drawn curve reaches `b_cut` of sales, or None."""
    if b_cut is None or chart.split_x is None or not 0 < b_cut <= 1:
        return None
    b_y = chart.top + (1 - b_cut) * (chart.bottom - chart.top)
    for point in chart.points:  # largest first: the first at or above the B cut
        if point.y <= b_y + 1e-9:
            return max(point.x, chart.split_x)
    return chart.right


def draw_pareto(doc: Document, chart: Chart, t, *, height: float = 88.0, b_cut: float | None = None) -> None:
    """The chart at the current position, the page's full width, `height` mm tall (legend and caption
    below it)."""
    if doc.room() < height + STRIP + 14:
        doc.add_page()
    x0, y0, width = doc.l_margin, doc.get_y() + STRIP, doc.epw  # the band labels above the plot
    sx, sy = width / chart.width, height / chart.height
    X = lambda x: x0 + x * sx  # noqa: E731 - SVG units to mm
    Y = lambda y: y0 + y * sy  # noqa: E731
    words = WORDS.get(doc.lang_code, WORDS["en"])
    _bands(doc, chart, X, Y, words, b_cut)
    doc.set_line_width(0.15)
    doc.set_draw_color(*RULE)
    doc.set_font("body", "", 6.6)
    doc.set_text_color(*MUTED)
    for tick in chart.y_ticks:
        doc.line(X(chart.left), Y(tick.pos), X(chart.right), Y(tick.pos))
        doc.set_xy(X(chart.left) - 13, Y(tick.pos) - 1.6)
        doc.cell(11.5, 3.2, tick.label, align="R")
    for tick in chart.x_ticks:
        doc.line(X(tick.pos), Y(chart.top), X(tick.pos), Y(chart.bottom))
        doc.set_xy(X(tick.pos) - 8, Y(chart.bottom) + 1)
        doc.cell(16, 3.2, tick.label, align="C")
    doc.set_draw_color(*INK)
    doc.set_line_width(0.3)
    doc.line(X(chart.left), Y(chart.bottom), X(chart.right), Y(chart.bottom))
    doc.line(X(chart.left), Y(chart.top), X(chart.left), Y(chart.bottom))
    _lines(doc, chart, X, Y)
    _points(doc, chart, X, Y)
    doc.set_font("body", "", 7.2)
    doc.set_text_color(*INK)
    doc.set_xy(X(chart.left), Y(chart.bottom) + 5)
    doc.cell(X(chart.right) - X(chart.left), 3.4, doc.clean(t["chart_x"], 120), align="C")
    middle = (Y(chart.top) + Y(chart.bottom)) / 2
    label = doc.clean(t["chart_y"], 120)
    with doc.rotation(90, x0 + 2.5, middle):  # text(), not cell(): a negative x is not "from the right"
        doc.text(x0 + 2.5 - doc.get_string_width(label) / 2, middle + 1.0, label)
    doc.set_xy(x0, y0 + height + 1)
    _legend(doc, chart, t)


def _bands(doc: Document, chart: Chart, X, Y, words: dict, b_cut: float | None) -> None:
    """The class A / B / C bands (vertical: the accounts of each class), each labelled at the top."""
    if chart.split_x is None:
        return
    b_edge = _b_edge(chart, b_cut)
    edges = [("A", chart.left, chart.split_x, "")]  # A's band is labelled by the target line
    if b_edge is not None:
        edges.append(("B", chart.split_x, b_edge, words["b"] % fmt_pct(b_cut, 0)))
        edges.append(("C", b_edge, chart.right, words["c"]))
    else:
        edges.append(("B+C" if b_cut is None else "C", chart.split_x, chart.right, words["c"]))
    doc.set_font("body", "", 6.8)
    for name, start, end, note in edges:
        if end <= start:
            continue
        doc.set_fill_color(*BAND_FILL.get(name, BAND_FILL["C"]))
        doc.rect(X(start), Y(chart.top), X(end) - X(start), Y(chart.bottom) - Y(chart.top), style="F")
        width = X(end) - X(start)
        for label in (f"{words['class'] % name} · {note}" if note else "", words["class"] % name, name):
            if label and doc.get_string_width(label) <= width - 1:
                break
        else:
            continue
        doc.set_text_color(*ACCENT)
        doc.set_draw_color(*ACCENT)
        doc.strong()
        doc.set_xy(X(start), Y(chart.top) - STRIP)
        doc.cell(width, 3.4, label, align="C")
        doc.strong(False)


def _lines(doc: Document, chart: Chart, X, Y) -> None:
    """The even-spread diagonal, the target line, the split, and the curve itself."""
    even = [(X(x), Y(y)) for x, y in (map(float, pair.split(",")) for pair in chart.even.split())]
    doc.set_draw_color(*EVEN)
    doc.set_line_width(0.25)
    doc.set_dash_pattern(dash=0.8, gap=0.8)
    if len(even) >= 2:
        doc.polyline(even)
    doc.set_draw_color(*TARGET)
    doc.set_line_width(0.35)
    doc.set_dash_pattern(dash=2, gap=1.2)
    doc.line(X(chart.left), Y(chart.target_y), X(chart.right), Y(chart.target_y))
    doc.set_font("body", "", 7)
    doc.set_text_color(*TARGET)
    label = doc.clean(chart.target_label, 80)
    doc.set_xy(X(chart.right) - doc.get_string_width(label) - 2, Y(chart.target_y) + 0.6)
    doc.cell(doc.get_string_width(label) + 1, 3.2, label)
    if chart.split_x is not None:
        doc.line(X(chart.split_x), Y(chart.target_y), X(chart.split_x), Y(chart.bottom))
        doc.set_xy(X(chart.split_x) + 0.8, Y(chart.bottom) - 4)
        doc.cell(doc.get_string_width(chart.split_label) + 1, 3.2, doc.clean(chart.split_label, 20))
    doc.set_dash_pattern()
    curve = [(X(x), Y(y)) for x, y in _curve_points(chart)]
    doc.set_draw_color(*CURVE)
    doc.set_line_width(0.5)
    if len(curve) >= 2:
        doc.polyline(curve)


def _points(doc: Document, chart: Chart, X, Y) -> None:
    """Every account a dot, key accounts filled and larger (the other accounts left out above 600
    points: the curve shows them)."""
    radius = max(0.35, min(0.85, chart.radius * 0.22))
    doc.set_line_width(0.15)
    if len(chart.points) <= 600:
        doc.set_fill_color(255, 255, 255)
        doc.set_draw_color(*OTHER)
        for point in chart.points:
            if not point.key:
                doc.circle(X(point.x), Y(point.y), radius * 0.8, style="DF")
    doc.set_fill_color(*CURVE)
    doc.set_draw_color(*CURVE)
    for point in chart.points:
        if point.key:
            doc.circle(X(point.x), Y(point.y), radius, style="F")


def _legend(doc: Document, chart: Chart, t) -> None:
    doc.set_font("body", "", SMALL)
    doc.set_text_color(*INK)
    y = doc.get_y() + 1.6
    x = doc.l_margin + 1
    for filled, text in ((True, t["legend_key"]), (False, t["legend_other"]), (None, t["chart_even"])):
        if filled is None:
            doc.set_draw_color(*EVEN)
            doc.set_dash_pattern(dash=0.8, gap=0.8)
            doc.line(x - 1, y, x + 3, y)
            doc.set_dash_pattern()
            x += 4
        else:
            doc.set_fill_color(*(CURVE if filled else (255, 255, 255)))
            doc.set_draw_color(*(CURVE if filled else OTHER))
            doc.circle(x, y, 0.9, style="DF")
            x += 2
        text = doc.clean(text, 60)
        doc.set_xy(x, y - 1.7)
        doc.cell(doc.get_string_width(text) + 1, 3.4, text)
        x += doc.get_string_width(text) + 6
    if len(chart.points) < chart.accounts:
        caption = t["chart_sampled"] % (chart.accounts, len(chart.points), chart.target_label)
    else:
        caption = t["chart_caption"] % (len(chart.points), chart.target_label)
    doc.set_xy(doc.l_margin, y + 2.4)
    doc.set_text_color(*MUTED)
    doc.block(doc.epw, line_height(SMALL), doc.clean(caption))
    doc.ln(1.5)
