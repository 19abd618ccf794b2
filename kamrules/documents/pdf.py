"""PDF copies of the HTML documents (`evaluate --pdf`): no browser, Chinese set with real glyphs.

`html_to_pdf(html, title=..., lang=..., as_of=...)` reads the HTML a playbook or report template
rendered (the team's templates included) and sets it with fpdf2, a pure-Python PDF library, in one
embedded font (WenQuanYi Micro Hei: Latin and 20,932 CJK ideographs, `fonts/README.md`); each PDF
embeds only the glyphs it uses. What is kept: headings, paragraphs, lists, tables (header rows repeat
on a new page), card grids as one table row, the page break before the appendix (an element with
class `page-break`, as in print CSS). What is left out: the stylesheet (colours, badges), `<svg>`
charts (the report's Pareto curve stays in the HTML) and links. Same HTML and as-of date, same bytes:
the creation date is the as-of date and the file id is a hash of the content.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

from kamrules.errors import UsageError

FONT = "wqy-microhei.ttf"
SKIPPED = {"head", "style", "script", "svg", "title", "template"}
BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "div", "section", "header", "footer", "main",
          "ul", "ol", "table", "figure", "figcaption", "blockquote", "pre", "article", "aside", "nav", "dl",
          "dt", "dd", "details", "summary", "caption"}
SPACE = re.compile(r"\s+")
BREAK = "\x00"  # a <br>: kept through the collapsing of white space


@dataclass
class Block:
    """One piece of the page: a heading (`h1`…`h6`), paragraph (`p`), list item (`li`), `table` or `break`."""

    kind: str
    text: str = ""
    muted: bool = False
    rows: list = field(default_factory=list)  # tables: (is_header, [cell texts])


class _Reader(HTMLParser):
    """HTML → a flat list of `Block`s; everything unknown is read as its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.text: list[str] = []
        self.skip = 0
        self.stack: list[tuple[str, set]] = []
        self.table: Block | None = None
        self.row: list | None = None
        self.cell: list[str] | None = None
        self.header_row = False
        self.after_span: int | None = None  # position in `text` right after a closing </span>
        self.grid_depth = 0  # inside a card grid: cards become the cells of one table row

    # ---- text
    def _flush(self, kind: str = "p") -> None:
        text = "\n".join(SPACE.sub(" ", part).strip() for part in "".join(self.text).split(BREAK)).strip()
        self.text, self.after_span = [], None
        if not text:
            return
        if self.cell is not None:
            self.cell.append(text)
            return
        muted = any({"muted", "small", "note", "meta"} & classes for _, classes in self.stack[-2:])
        self.blocks.append(Block(kind, text, muted=muted))

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.text.append(data)

    # ---- tags
    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in SKIPPED:
            self.skip += 1
            return
        if self.skip:
            return
        if tag == "br":
            self.text.append(BREAK)
            return
        if tag == "span" and self.after_span is not None and not "".join(self.text[self.after_span:]).strip():
            self.text.append(" · ")  # side-by-side spans (badges, the meta line) read as a list
        if tag in ("img", "hr", "input", "meta", "link"):
            return
        classes = set((dict(attrs).get("class") or "").split())
        if "page-break" in classes and self.table is None:
            self._flush()
            self.blocks.append(Block("break"))
        if tag in BLOCKS or tag in ("tr", "td", "th"):
            self._flush(self._kind())
        self.stack.append((tag, classes))
        if tag == "table" and self.table is None:
            self.table = Block("table")
        elif tag == "tr" and self.table is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif "grid" in classes and self.table is None:
            self.grid_depth = len(self.stack)
            self.table, self.row = Block("table"), []
        elif "card" in classes and self.grid_depth and self.row is not None:
            self.cell = []
        if tag == "thead":
            self.header_row = True

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "img", "hr", "input", "meta", "link") and tag not in SKIPPED:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip or not any(open_tag == tag for open_tag, _ in self.stack):
            return
        self.after_span = len(self.text) if tag == "span" else None
        while self.stack:
            open_tag, classes = self.stack.pop()
            self._close(open_tag, classes)
            if open_tag == tag:
                break

    def _kind(self) -> str:
        tag = self.stack[-1][0] if self.stack else "p"
        return tag if tag in ("h1", "h2", "h3", "h4", "h5", "h6", "li") else "p"

    def _close(self, tag: str, classes: set) -> None:
        if tag in BLOCKS or tag in ("tr", "td", "th"):
            self._flush(tag if tag in ("h1", "h2", "h3", "h4", "h5", "h6", "li") else "p")
        if self.grid_depth and len(self.stack) + 1 == self.grid_depth:  # the grid itself closes
            self._end_cell()
            self._end_row()
            self._end_table()
            self.grid_depth = 0
        elif "card" in classes and self.grid_depth:
            self._end_cell()
        elif tag in ("td", "th"):
            self._end_cell()
        elif tag == "tr":
            self._end_row()
        elif tag == "thead":
            self.header_row = False
        elif tag == "table":
            self._end_table()

    def _end_cell(self) -> None:
        if self.cell is not None and self.row is not None:
            self.row.append("\n".join(self.cell))
        self.cell = None

    def _end_row(self) -> None:
        if self.row and self.table is not None:
            self.table.rows.append((self.header_row, self.row))
        self.row = None

    def _end_table(self) -> None:
        if self.table is not None and self.table.rows:
            self.blocks.append(self.table)
        self.table, self.row, self.cell = None, None, None

    def close(self) -> None:
        super().close()
        while self.stack:
            self._close(*self.stack.pop())
        self._flush()


def read_blocks(html: str) -> list[Block]:
    """The blocks of an HTML page, in order (the `<head>`, styles and SVG left out)."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.blocks


@lru_cache(maxsize=1)
def font_path() -> str:
    return str(resources.files("kamrules.documents") / "fonts" / FONT)


def require_fpdf():
    """The fpdf2 module, or a `UsageError` saying how to install it."""
    try:
        import fpdf
    except ImportError:  # installed with kamrules; only a hand-made environment lacks it
        raise UsageError("--pdf needs the fpdf2 package, which is installed with kamrules: "
                         "run `pip install fpdf2` (or reinstall kamrules with `pip install .`)") from None
    return fpdf


SIZES = {"h1": 15.0, "h2": 12.0, "h3": 10.0, "h4": 9.5, "h5": 9.0, "h6": 9.0}
BODY = 8.5
INK, MUTED, ACCENT, RULE = (20, 24, 31), (95, 104, 117), (23, 74, 140), (200, 206, 214)


def html_to_pdf(html: str, *, title: str = "", lang: str = "en", as_of: dt.date | None = None) -> bytes:
    """One HTML document as PDF bytes (A4 portrait). Same inputs, same bytes."""
    fpdf = require_fpdf()
    pdf = fpdf.FPDF(orientation="portrait", unit="mm", format="A4")
    stamp = dt.datetime.combine(as_of or dt.date(2000, 1, 1), dt.time(), tzinfo=dt.timezone.utc)
    pdf.set_creation_date(stamp)
    pdf.set_producer("kamrules")
    pdf.set_creator("kamrules")
    pdf.set_title(title)
    pdf.set_lang("zh-CN" if lang == "zh" else lang)
    pdf.add_font("body", "", font_path())  # one weight: headings stand out by size and colour
    pdf.set_margins(14, 12, 14)
    pdf.set_auto_page_break(True, margin=12)
    pdf.alias_nb_pages()
    pdf.add_page()
    wrap = fpdf.enums.WrapMode.CHAR if lang == "zh" else fpdf.enums.WrapMode.WORD  # Chinese has no spaces
    for block in read_blocks(html):
        _draw(pdf, fpdf, block, wrap)
    return bytes(pdf.output())


def _draw(pdf, fpdf, block: Block, wrap) -> None:
    width = pdf.epw
    if block.kind == "break":
        if pdf.get_y() > pdf.t_margin + 1:
            pdf.add_page()
    elif block.kind in SIZES:
        size = SIZES[block.kind]
        if pdf.get_y() > pdf.h - pdf.b_margin - 25:  # a heading never ends a page alone
            pdf.add_page()
        pdf.ln(2.5 if block.kind in ("h1", "h2") else 1.2)
        pdf.set_font("body", "", size)
        pdf.set_text_color(*(INK if block.kind == "h1" else ACCENT))
        pdf.multi_cell(width, size * 0.45, block.text, new_x="LMARGIN", new_y="NEXT", align="L", wrapmode=wrap)
        if block.kind == "h2":
            pdf.set_draw_color(*RULE)
            pdf.line(pdf.l_margin, pdf.get_y() + 0.6, pdf.l_margin + width, pdf.get_y() + 0.6)
        pdf.ln(1.5)
    elif block.kind == "table":
        _table(pdf, fpdf, block.rows, wrap)
    else:
        pdf.set_font("body", "", BODY - (1 if block.muted else 0))
        pdf.set_text_color(*(MUTED if block.muted else INK))
        if block.kind == "li":
            pdf.set_x(pdf.l_margin + 2)
            pdf.multi_cell(width - 2, BODY * 0.5, "• " + block.text, new_x="LMARGIN", new_y="NEXT", align="L", wrapmode=wrap)
        else:
            pdf.multi_cell(width, BODY * 0.5, block.text, new_x="LMARGIN", new_y="NEXT", align="L", wrapmode=wrap)
        pdf.ln(0.8)


def _widths(pdf, rows: list, columns: int) -> tuple:
    """Column widths in mm: a column whose longest line fits its fair share keeps that width, the
    others share the rest in proportion to what they want (long texts wrap)."""
    padding = 3.0
    wants = [padding + max(max((pdf.get_string_width(line) for line in cells[i].split("\n")), default=0)
                           for _, cells in rows) for i in range(columns)]
    total = pdf.epw
    if sum(wants) <= total:
        return tuple(w * total / sum(wants) for w in wants)
    fair = total / columns
    narrow = {i: w for i, w in enumerate(wants) if w <= fair}
    rest = total - sum(narrow.values())
    wide = sum(w for i, w in enumerate(wants) if i not in narrow) or 1
    return tuple(narrow.get(i, w * rest / wide) for i, w in enumerate(wants))


def _table(pdf, fpdf, rows: list, wrap) -> None:
    columns = max(len(cells) for _, cells in rows)
    rows = [(header, list(cells) + [""] * (columns - len(cells))) for header, cells in rows]
    headed = rows[0][0]
    pdf.set_font("body", "", BODY - 0.5)
    weights = _widths(pdf, rows, columns)
    pdf.set_text_color(*INK)
    pdf.set_draw_color(*RULE)
    style = fpdf.FontFace(emphasis=None, color=INK, fill_color=(234, 238, 244))
    with pdf.table(col_widths=tuple(weights), text_align="LEFT", line_height=BODY * 0.48,
                   first_row_as_headings=headed, headings_style=style, repeat_headings=1 if headed else 0,
                   padding=(0.8, 1.2), borders_layout="HORIZONTAL_LINES", width=pdf.epw,
                   wrapmode=wrap) as table:
        for _, cells in rows:
            row = table.row()
            for text in cells:
                row.cell(text)
    pdf.ln(2)


def write_pdf(path: Path, html: str, **options) -> None:
    """Write `html_to_pdf(html, **options)` to `path` (a convenience for scripts and tests)."""
    Path(path).write_bytes(html_to_pdf(html, **options))


TITLE = re.compile(r"<title>(.*?)</title>", re.S | re.I)


def pdf_copies(files: dict, *, lang: str = "en", as_of: dt.date | None = None) -> dict[str, bytes]:
    """`evaluate --pdf`: a PDF beside each HTML playbook (`playbooks/<stem>.pdf`) and the report
    (`report.pdf`), from the HTML just rendered, so the PDF says what the HTML says."""
    import html as html_lib

    copies = {}
    for name, data in files.items():
        if not name.endswith(".html") or not (name.startswith("playbooks/") or name == "report.html"):
            continue
        text = data.decode("utf-8") if isinstance(data, bytes) else str(data)
        found = TITLE.search(text)
        title = html_lib.unescape(SPACE.sub(" ", found.group(1)).strip()) if found else name
        copies[name[: -len(".html")] + ".pdf"] = html_to_pdf(text, title=title, lang=lang, as_of=as_of)
    return copies
