"""The page kit the PDFs are set with: an A4 fpdf2 document in the shipped font, with a footer on every
page (what the document is, the as-of date, "page 2 of 3"), headings, paragraphs, boxed call-outs,
figure cards and styled tables (shaded header row repeated after a page break, borders, numbers right
aligned, rows taller than a page continued on the next).

Imported only once fpdf2 is known to be installed (`pdf.require_fpdf`). Every text goes through
`Document.clean`: control and format characters are dropped and a character the font lacks (an emoji)
becomes "□", so no data can stop a PDF.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

import fpdf
from fpdf.enums import Align, TextMode, WrapMode, XPos, YPos
from fpdf.util import Padding

from kamrules.documents.pdf_fonts import add_body_font, characters, shared, subset_source
from kamrules.documents.pdf_lines import break_text, plain, text_lines, wrap_mode

PT = 0.3528  # mm per point
BODY, SMALL, TABLE = 8.0, 6.8, 7.0
INK, MUTED, ACCENT, RULE = (20, 24, 31), (95, 104, 117), (23, 74, 140), (196, 203, 212)
HEAD_FILL, SOFT_FILL, WARN_FILL, WARN = (228, 234, 242), (244, 246, 249), (253, 243, 228), (176, 96, 0)
HEADINGS = {"h1": 14.0, "h2": 10.5, "h3": 8.8, "h4": 8.5, "h5": 8.0, "h6": 8.0}
LIMIT = 1500  # characters of one text kept in the PDF (a 10,000-character name would fill pages)
MISSING_GLYPH = "\u25a1"  # □, in the font
PAD, PAD_X = 0.7, 1.1  # cell padding, mm: top and bottom, left and right
MAX_WORD = 26.0  # mm: a column gets at least its longest word, up to this
PAGE_WORDS = {"en": "Page %s of %s", "zh": "第 %s 页，共 %s 页"}
# Layout reused: text widths and line breaks measured once per process, for every document (the same
# headings, labels, action titles and reasons recur in every playbook). Pure functions of the text and
# the type, so the cache changes no byte; cleared when it reaches LAYOUT_CACHE_SIZE entries.
LAYOUT_CACHE_SIZE = 50_000
_measured: dict = {}


def _glyphs() -> frozenset:
    """The characters (code points) the font can draw."""
    return characters()


@dataclass(frozen=True)
class Cell:
    """One table cell: its text ("\\n" between lines), alignment ("L" or "R"), and whether it reads as a
    heading (a shaded row head, in strong type)."""

    text: str
    align: str = "L"
    head: bool = False


@dataclass(frozen=True)
class Row:
    cells: tuple[Cell, ...]
    header: bool = False  # a header row: shaded, repeated on each page the table runs onto


def _remember(key: tuple, value) -> None:
    if len(_measured) >= LAYOUT_CACHE_SIZE:
        _measured.clear()
    _measured[key] = value


def line_height(size: float) -> float:
    return size * PT * 1.22


class Document(fpdf.FPDF):
    """An A4 page in the shipped font with the kamrules footer. Same inputs, same bytes."""

    def __init__(self, *, title: str = "", lang: str = "en", as_of: dt.date | None = None, footer: str = ""):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        stamp = dt.datetime.combine(as_of or dt.date(2000, 1, 1), dt.time(), tzinfo=dt.timezone.utc)
        self.set_creation_date(stamp)  # the as-of date, never the clock: same inputs, same bytes
        self.set_producer("kamrules")
        self.set_creator("kamrules")
        self.lang_code = lang
        self.set_title(self.clean(title))
        self.set_lang("zh-CN" if lang == "zh" else lang)
        add_body_font(self)  # one weight (FAMILY): strong text is stroked as well as filled
        self.set_margins(12, 10, 12)
        self.set_auto_page_break(True, margin=13)
        self.c_margin = 0  # text is placed exactly: cells pad themselves (PAD)
        self.footer_text = self.clean(footer, 240)
        self.wrap = WrapMode.CHAR if lang == "zh" else WrapMode.WORD  # Chinese has no spaces to wrap at
        self.alias_nb_pages()
        self.add_page()

    def output(self, *args, **kwargs):
        """The PDF (fpdf2's `output`), its font subset from the run's working font when there is one
        (`pdf_fonts`: the same bytes, a fraction of the time)."""
        subset_source(self)
        return super().output(*args, **kwargs)

    # ------------------------------------------------------------------------------ text
    def clean(self, text, limit: int = LIMIT) -> str:
        """`text` as the font can set it: no control or format characters, missing glyphs as □,
        at most `limit` characters (then "…")."""
        text = "" if text is None else str(text)
        if len(text) > limit:
            text = text[: limit - 1].rstrip() + "…"
        if text.isascii() and text.replace("\n", "").isprintable():
            return text
        out, glyphs = [], _glyphs()
        for char in text:
            if char == "\n" or char == " ":
                out.append(char)
            elif char in "\t\r\x0b\x0c\u2028\u2029":
                out.append(" ")
            elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
                continue
            elif ord(char) in glyphs:
                out.append(char)
            elif not out or out[-1] != MISSING_GLYPH:
                out.append(MISSING_GLYPH)
        return "".join(out)

    def strong(self, on: bool = True) -> None:
        """Strong type from the one weight: the glyphs are stroked too."""
        if not on and self.text_mode != TextMode.FILL and self.page:
            self._out("0 Tr")  # fpdf2 sets the render mode for stroked text but never sets it back
        self.text_mode = TextMode.FILL_STROKE if on else TextMode.FILL
        self.set_line_width(0.16 if on else 0.2)

    def _type_key(self) -> tuple:
        return (self.font_family, self.font_style, self.font_size_pt, self.char_spacing, self.font_stretching)

    def get_string_width(self, s: str, normalized: bool = False, markdown: bool = False) -> float:
        """fpdf2's width of `s`, remembered for the process (`LAYOUT_CACHE_SIZE`)."""
        if markdown or not self.font_family or not shared():
            return super().get_string_width(s, normalized, markdown)
        key = ("width", normalized, s, *self._type_key())
        found = _measured.get(key)
        if found is None:
            found = super().get_string_width(s, normalized, markdown)
            _remember(key, found)
        return found

    def lines(self, width: float, text: str) -> list[str]:
        """`text` broken into the lines it takes in `width` mm at the current size, as fpdf2 breaks them
        (remembered for the process)."""
        if not shared():
            return self._break_lines(width, text)
        key = ("lines", width, self.wrap, text, *self._type_key())
        found = _measured.get(key)
        if found is None:
            found = self._fast_lines(width, text) or self._recorded_lines(width, text)
            _remember(key, found)
        subset = getattr(self.current_font, "subset", None)
        if subset is not None:
            # fpdf2's measuring adds the lines' glyphs to the font's subset, and the order they were added
            # in is in the PDF: add them here too, so a remembered break gives the bytes a fresh one gives
            for code in found[1]:
                subset.pick(code)
        return list(found[0])

    def _fast_lines(self, width: float, text: str) -> tuple[tuple[str, ...], tuple[int, ...]] | None:
        """(lines, glyphs fpdf2's measuring adds, in order) by `pdf_lines`; None where it does not apply."""
        if "\n" not in text and self.get_string_width(text) <= width:
            return (text,), ()
        if width < 3 or self._narrower_than_a_character(width, text):
            return None
        text = self.normalize_text(text).replace("\r", "")
        if not plain(self, text):
            return None
        try:
            found = self._line_specs(width, text, self.wrap)
        except fpdf.errors.FPDFException:  # as in _break_lines
            found = self._line_specs(width, text, WrapMode.CHAR)
        lines = tuple(line.text for line in found) or ("",)
        return lines, tuple(dict.fromkeys(ord(char) for line in found if line.fragment for char in line.text))

    def _recorded_lines(self, width: float, text: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """(lines, glyphs added) by fpdf2 itself, the glyphs recorded as it adds them."""
        picked: list[int] = []
        subset = getattr(self.current_font, "subset", None)
        if subset is not None:
            subset.pick = lambda code, pick=subset.pick: (picked.append(code), pick(code))[1]
        try:
            lines = self._break_lines(width, text)
        finally:
            if subset is not None:
                del subset.pick
        return tuple(lines), tuple(dict.fromkeys(picked))

    def _line_specs(self, width: float, text: str, wrap) -> list:
        """`pdf_lines.break_text` of `text` in a `multi_cell` `width` wide, remembered for the process."""
        limit = width
        for margin in (self.c_margin, self.c_margin):  # as fpdf2's multi_cell leaves them
            limit -= float(margin)
        char_wrap = wrap_mode(wrap)
        key = ("break", limit, char_wrap, text, self.k, *self._type_key())
        found = _measured.get(key)
        if found is None:
            found = tuple(break_text(text, limit, self.current_font.cw, self.font_size_pt, self.k, char_wrap))
            _remember(key, found)
        return list(found)

    def _break_lines(self, width: float, text: str) -> list[str]:
        if "\n" not in text and self.get_string_width(text) <= width:
            return [text]
        if width < 3 or self._narrower_than_a_character(width, text):
            return [text[:1]] if text else []
        automatic, self.auto_page_break = self.auto_page_break, False  # measuring never turns a page
        try:
            try:
                return self.multi_cell(width, 4, text, dry_run=True, output="LINES", wrapmode=self.wrap)
            except fpdf.errors.FPDFException:  # a character wider than the column: break anywhere
                return self.multi_cell(width, 4, text, dry_run=True, output="LINES", wrapmode=WrapMode.CHAR)
        finally:
            self.auto_page_break = automatic

    def _narrower_than_a_character(self, width: float, text: str) -> bool:
        """fpdf2 cannot break `text` in `width`: it raises wrapping words and never ends wrapping
        characters."""
        return any(self.get_string_width(char) > width for char in set(text) if char != "\n")

    def block(self, width: float, height: float, text: str) -> None:
        """`multi_cell(width, height, text, new_x="LMARGIN", new_y="NEXT")` in the document's wrap mode,
        justified: fpdf2's own rendering of each line, the lines broken by `pdf_lines` (remembered
        for the process) where it applies."""
        plain_text = self.normalize_text(text).replace("\r", "")
        if not shared() or not plain(self, plain_text):
            self.multi_cell(width, height, text, new_x="LMARGIN", new_y="NEXT", wrapmode=self.wrap)
            return
        padding = Padding.new(0)
        lines = text_lines(self, self._line_specs(width - padding.right - padding.left, plain_text, self.wrap),
                           width - padding.right - padding.left, Align.J, height)
        for index, line in enumerate(lines):  # the rest is multi_cell's, without border, fill or padding
            self._perform_page_break_if_need_be(height + padding.bottom)
            last = index == len(lines) - 1
            self._render_styled_text_line(line, h=height, new_x=XPos.LMARGIN if last else XPos.LEFT, new_y=YPos.NEXT,
                                          border=0, fill=False, link=None,
                                          padding=Padding(0, padding.right, 0, padding.left), prevent_font_change=False)
        if lines[-1].trailing_nl:
            self.ln()

    def fit(self, text: str, width: float) -> str:
        """`text` cut (with "…") to one line of `width` mm at the current size."""
        if self.get_string_width(text) <= width:
            return text
        low, high = 0, len(text)
        while low < high:
            middle = (low + high + 1) // 2
            if self.get_string_width(text[:middle] + "…") <= width:
                low = middle
            else:
                high = middle - 1
        return text[:low] + "…"

    def room(self) -> float:
        """mm left on this page above the bottom margin."""
        return self.h - self.b_margin - self.get_y()

    def text_height(self, text: str, size: float = BODY, width: float | None = None) -> float:
        self.set_font("body", "", size)
        return len(self.lines(width or self.epw, self.clean(text))) * line_height(size)

    # ------------------------------------------------------------------------------ blocks
    def heading(self, level: str, text: str) -> None:
        size = HEADINGS.get(level, BODY)
        if self.room() < 28 and self.get_y() > self.t_margin + 1:  # a heading never ends a page alone
            self.add_page()
        self.ln(2.0 if level in ("h1", "h2") else 1.0)
        self.set_font("body", "", size)
        self.set_text_color(*(INK if level == "h1" else ACCENT))
        self.set_draw_color(*(INK if level == "h1" else ACCENT))
        self.strong(level in ("h1", "h2", "h3"))
        self.block(self.epw, line_height(size), self.clean(text, 300))
        self.strong(False)
        if level == "h2":
            self.set_draw_color(*RULE)
            self.set_line_width(0.3)
            self.line(self.l_margin, self.get_y() + 0.5, self.l_margin + self.epw, self.get_y() + 0.5)
            self.ln(1.2)
        else:
            self.ln(0.6)

    def paragraph(self, text: str, *, size: float = BODY, color=INK, bullet: bool = False, gap: float = 0.9) -> None:
        self.set_font("body", "", size)
        self.set_text_color(*color)
        indent = 3.2 if bullet else 0
        text = self.clean(text)
        if bullet:
            self.set_x(self.l_margin + 0.6)
            self.cell(indent - 0.6, line_height(size), "•")
        self.set_x(self.l_margin + indent)
        self.block(self.epw - indent, line_height(size), text)
        self.ln(gap)

    def box(self, texts: list[str], *, warn: bool = False, size: float = BODY) -> None:
        """Lines in a shaded box with a coloured bar on the left (call-outs, the at-a-glance lines)."""
        self.set_font("body", "", size)
        width = self.epw - 6
        lines = [line for text in texts for line in self.lines(width, self.clean(text))]
        step = line_height(size)
        while lines:
            if self.room() < step * 2 + 3 and self.get_y() > self.t_margin + 1:
                self.add_page()
            fit = max(1, int((self.room() - 3) / step))
            part, lines = lines[:fit], lines[fit:]
            top, height = self.get_y(), len(part) * step + 2.4
            self.set_fill_color(*(WARN_FILL if warn else SOFT_FILL))
            self.rect(self.l_margin, top, self.epw, height, style="F")
            self.set_fill_color(*(WARN if warn else ACCENT))
            self.rect(self.l_margin, top, 1.1, height, style="F")
            self.set_text_color(*INK)
            for i, line in enumerate(part):
                self.set_xy(self.l_margin + 3.5, top + 1.2 + i * step)
                self.cell(width, step, line)
            self.set_xy(self.l_margin, top + height)
            if lines:
                self.add_page()
        self.ln(1.6)

    def cards(self, cards: list[tuple[str, str, str]], *, value_size: float = 12.0) -> None:
        """Headline figures side by side: (label, value, note) in outlined boxes."""
        if not cards:
            return
        gap = 2.5
        count = min(len(cards), 6)
        width = (self.epw - gap * (count - 1)) / count
        rows = [cards[i:i + count] for i in range(0, len(cards), count)]
        for row in rows:
            parts = []
            for label, value, note in row:
                self.set_font("body", "", SMALL)
                label_lines = self.lines(width - 4, self.clean(label, 200))
                note_lines = self.lines(width - 4, self.clean(note, 300)) if note else []
                self.set_font("body", "", value_size)
                value_lines = self.lines(width - 4, self.clean(value, 200))
                parts.append((label_lines, value_lines, note_lines))
            height = max(len(a) * line_height(SMALL) + len(b) * line_height(value_size) + len(c) * line_height(SMALL)
                         for a, b, c in parts) + 3
            if self.room() < height:
                self.add_page()
            top = self.get_y()
            for i, (label_lines, value_lines, note_lines) in enumerate(parts):
                x = self.l_margin + i * (width + gap)
                self.set_draw_color(*RULE)
                self.set_line_width(0.25)
                self.set_fill_color(*SOFT_FILL)
                self.rect(x, top, width, height, style="DF")
                y = top + 1.5
                for lines, size, color, strong in ((label_lines, SMALL, MUTED, False), (value_lines, value_size, INK, True),
                                                    (note_lines, SMALL, MUTED, False)):
                    self.set_font("body", "", size)
                    self.set_text_color(*color)
                    self.set_draw_color(*color)
                    self.strong(strong)
                    for line in lines:
                        self.set_xy(x + 2, y)
                        self.cell(width - 4, line_height(size), line)
                        y += line_height(size)
                    self.strong(False)
            self.set_xy(self.l_margin, top + height + 2.5)

    # ------------------------------------------------------------------------------ tables
    def column_widths(self, rows: list[Row], columns: int, total: float) -> list[float]:
        """Column widths in mm, as a browser lays out an automatic table: every column gets at least
        its longest word (numbers never break; capped at MAX_WORD), what is left goes to the columns
        that want more, in proportion to the square root of what they lack (a long text column does not
        starve the others), none wider than its longest line."""
        pad = 2 * PAD_X + 0.6
        low, high = [pad + 2] * columns, [pad + 2] * columns
        for row in rows:
            for i, cell in enumerate(row.cells[:columns]):
                for line in cell.text.split("\n"):
                    high[i] = max(high[i], pad + self.get_string_width(line))
                    longest = max(line.split(), key=len, default="")
                    low[i] = max(low[i], pad + min(self.get_string_width(longest), MAX_WORD))
        low = [min(a, b) for a, b in zip(low, high)]
        if sum(high) <= total:
            return [w * total / sum(high) for w in high]
        if sum(low) >= total:
            return [w * total / sum(low) for w in low]
        widths, free = list(low), total - sum(low)
        active = [i for i in range(columns) if high[i] > widths[i]]
        while free > 1e-6 and active:
            weights = {i: (high[i] - widths[i]) ** 0.5 for i in active}
            scale = free / sum(weights.values())
            full = [i for i in active if widths[i] + weights[i] * scale >= high[i]]
            if not full:
                for i in active:
                    widths[i] += weights[i] * scale
                break
            for i in full:  # these reach their longest line: fix them, share the rest again
                free -= high[i] - widths[i]
                widths[i] = high[i]
                active.remove(i)
        return widths

    def table(self, rows: list[Row], *, widths: list[float] | None = None, size: float = TABLE,
              min_height: float = 0.0, width: float | None = None, left: float | None = None) -> None:
        """A table with a shaded, repeated header row and borders; rows never split unless taller
        than a page, then they continue on the next. `left`, `width`: a narrower table (mm)."""
        rows = [row for row in rows if row.cells]
        if not rows:
            return
        self.table_left = self.l_margin if left is None else left
        columns = max(len(row.cells) for row in rows)
        rows = [Row(tuple(Cell(self.clean(c.text), c.align, c.head) for c in row.cells)
                    + (Cell(""),) * (columns - len(row.cells)), row.header) for row in rows]
        self.set_font("body", "", size)
        total = width or self.epw
        if widths is None or len(widths) != columns:
            widths = self.column_widths(rows, columns, total)
        else:
            widths = [w * total / sum(widths) for w in widths]
        head = []
        for row in rows:
            if not row.header:
                break
            head.append(row)
        body = rows[len(head):]
        laid = [(row, [self.lines(w - 2 * PAD_X, cell.text) for w, cell in zip(widths, row.cells)]) for row in rows]
        step = line_height(size)
        heads = laid[: len(head)]
        head_height = sum(max(len(lines) for lines in cells) * step + 2 * PAD for _, cells in heads)
        first = max((len(lines) for lines in laid[len(head)][1]), default=1) if body else 0
        if self.room() < head_height + min(first, 3) * step + 2 * PAD + 1 and self.get_y() > self.t_margin + 1:
            self.add_page()
        for row, cells in heads:
            self._row(row, cells, widths, step, 0)
        for row, cells in laid[len(head):]:
            self._body_row(row, cells, widths, step, min_height, heads)
        self.set_x(self.l_margin)
        self.ln(2)

    def tables_side_by_side(self, tables: list[list[Row]], *, size: float = TABLE, gap: float = 3.0) -> None:
        """Small tables next to each other, top aligned (a new page first if the tallest does not fit)."""
        tables = [rows for rows in tables if rows]
        if not tables:
            return
        width = (self.epw - gap * (len(tables) - 1)) / len(tables)
        tallest = max(self.table_height(rows, size=size, width=width) for rows in tables)
        if tallest > self.room() and self.get_y() > self.t_margin + 1:
            self.add_page()
        top, bottom = self.get_y(), self.get_y()
        for i, rows in enumerate(tables):
            self.set_y(top)
            self.table(rows, size=size, width=width, left=self.l_margin + i * (width + gap))
            bottom = max(bottom, self.get_y())
        self.set_y(bottom)

    def _body_row(self, row: Row, cells: list, widths: list, step: float, min_height: float, heads: list) -> None:
        while True:
            height = max(max(len(lines) for lines in cells) * step + 2 * PAD, min_height)
            if height <= self.room():
                self._row(row, cells, widths, step, min_height)
                return
            top_of_page = self.get_y() <= self.t_margin + 1 + sum(
                max(len(c) for c in h_cells) * step + 2 * PAD for _, h_cells in heads)
            if not top_of_page and height <= self.h - self.t_margin - self.b_margin - 20:
                self._new_table_page(heads, widths, step)
                continue
            fit = max(1, int((self.room() - 2 * PAD) / step))  # taller than a page: what fits, then the rest
            self._row(row, [lines[:fit] for lines in cells], widths, step, 0)
            cells = [lines[fit:] for lines in cells]
            self._new_table_page(heads, widths, step)

    def _new_table_page(self, heads: list, widths: list, step: float) -> None:
        self.add_page()
        for row, cells in heads:
            self._row(row, cells, widths, step, 0)

    def _row(self, row: Row, cells: list, widths: list, step: float, min_height: float) -> None:
        height = max(max((len(lines) for lines in cells), default=1) * step + 2 * PAD, min_height)
        top, x = self.get_y(), getattr(self, "table_left", self.l_margin)
        self.set_line_width(0.2)
        self.set_draw_color(*RULE)
        for width, cell, lines in zip(widths, row.cells, cells):
            shade = HEAD_FILL if row.header else SOFT_FILL if cell.head else None
            if shade:
                self.set_fill_color(*shade)
            self.rect(x, top, width, height, style="DF" if shade else "D")
            self.set_text_color(*INK)
            self.set_draw_color(*INK)
            self.strong(row.header or cell.head)
            for i, line in enumerate(lines):
                self.set_xy(x + PAD_X, top + PAD + i * step)
                self.cell(width - 2 * PAD_X, step, line, align=cell.align)
            self.strong(False)
            self.set_line_width(0.2)
            self.set_draw_color(*RULE)
            x += width
        self.set_xy(self.l_margin, top + height)

    def table_height(self, rows: list[Row], *, size: float = TABLE, widths: list[float] | None = None,
                     width: float | None = None) -> float:
        """The height `table(rows)` takes (no page break), to decide whether it fits."""
        self.set_font("body", "", size)
        rows = [Row(tuple(Cell(self.clean(c.text), c.align, c.head) for c in row.cells), row.header) for row in rows]
        columns = max((len(row.cells) for row in rows), default=0)
        if not columns:
            return 0.0
        total = width or self.epw
        widths = ([w * total / sum(widths) for w in widths] if widths and len(widths) == columns
                  else self.column_widths(rows, columns, total))
        step = line_height(size)
        return sum(max(len(self.lines(w - 2 * PAD_X, cell.text)) for w, cell in zip(widths, row.cells)) * step
                   + 2 * PAD for row in rows) + 2

    # ------------------------------------------------------------------------------ page
    def footer(self) -> None:
        self.set_y(-10)
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, self.get_y() - 0.8, self.l_margin + self.epw, self.get_y() - 0.8)
        self.set_font("body", "", 6.8)
        self.set_text_color(*MUTED)
        page = PAGE_WORDS.get(self.lang_code, PAGE_WORDS["en"]) % (self.page_no(), "{nb}")
        self.set_x(self.l_margin)
        self.cell(self.epw - 30, 4, self.fit(self.footer_text, self.epw - 32))
        self.set_x(self.l_margin + self.epw - 30)
        self.cell(30, 4, page, align="R")
