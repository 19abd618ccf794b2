"""HTML → the blocks a PDF is set from (`read_blocks`): headings, paragraphs, list items, tables, card
grids, call-outs, badge lines and page breaks, each with the `<section>` it sits in and its classes, so
the PDF can style what the default templates mark (`num` cells right aligned, `fill` tables with room
to write, `kv` fact tables) and still read any team template as plain structure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

SKIPPED = {"head", "style", "script", "svg", "title", "template"}
VOID = {"br", "img", "hr", "input", "meta", "link", "wbr", "col", "source"}
BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "div", "section", "header", "footer", "main",
          "ul", "ol", "table", "figure", "figcaption", "blockquote", "pre", "article", "aside", "nav", "dl",
          "dt", "dd", "details", "summary", "caption"}
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6", "li")
SPACE = re.compile(r"\s+")
BREAK = "\x00"  # a <br>: kept through the collapsing of white space


@dataclass
class Block:
    """One piece of the page: a heading (`h1`…`h6`), paragraph (`p`), list item (`li`), `table`, `cards`
    (a card grid: one row, a card per cell), `callout`, `badges` or `break`."""

    kind: str
    text: str = ""
    muted: bool = False
    rows: list = field(default_factory=list)  # tables and cards: (is_header, [cell texts])
    section: str = ""  # the id of the <section> it is in
    classes: frozenset = frozenset()  # of the table, call-out or enclosing element
    flags: list = field(default_factory=list)  # tables: per row, per cell: "num", "th" (a row head) or ""


class _Reader(HTMLParser):
    """HTML → a flat list of `Block`s; everything unknown is read as its text."""

    def __init__(self, skip: frozenset = frozenset()) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.text: list[str] = []
        self.skip = 0
        self.skip_ids = skip  # element ids, or "tag.class", left out with everything inside
        self.skipping: tuple[str, int] | None = None  # (tag, depth) of the element being left out
        self.stack: list[tuple[str, set, str]] = []  # (tag, classes, id)
        self.table: Block | None = None
        self.row: list | None = None
        self.row_flags: list | None = None
        self.cell: list[str] | None = None
        self.cell_flag = ""
        self.header_row = False
        self.after_span: int | None = None  # position in `text` right after a closing </span>
        self.grid_depth = 0  # inside a card grid: cards become the cells of one table row
        self.callout: list[str] | None = None
        self.callout_depth = 0

    # ---- text
    def _section(self) -> str:
        return next((ident for tag, _, ident in reversed(self.stack) if tag == "section" and ident), "")

    def _flush(self, kind: str = "p") -> None:
        text = "\n".join(SPACE.sub(" ", part).strip() for part in "".join(self.text).split(BREAK)).strip()
        self.text, self.after_span = [], None
        if not text:
            return
        if self.cell is not None:
            self.cell.append(text)
            return
        if self.callout is not None:
            self.callout.append(text)
            return
        near = [classes for _, classes, _ in self.stack[-2:]]
        muted = any({"muted", "small", "note", "meta", "kicker", "empty"} & classes for classes in near)
        classes = frozenset(self.stack[-1][1]) if self.stack else frozenset()
        self.blocks.append(Block(kind, text, muted=muted, section=self._section(), classes=classes))

    def handle_data(self, data: str) -> None:
        if not self.skip and self.skipping is None:
            self.text.append(data)

    # ---- tags
    def _left_out(self, tag: str, attrs: list) -> bool:
        """True while inside an element `skip` names (and for its start tag)."""
        if self.skipping is not None:
            if tag == self.skipping[0] and tag not in VOID:
                self.skipping = (tag, self.skipping[1] + 1)
            return True
        if not self.skip_ids or tag in VOID:
            return False
        found = dict(attrs)
        names = {found.get("id") or ""} | {f"{tag}.{c}" for c in (found.get("class") or "").split()}
        if names & self.skip_ids:
            self._flush(self._kind())
            self.skipping = (tag, 1)
            return True
        return False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in SKIPPED:
            self.skip += 1
            return
        if self.skip or self._left_out(tag, attrs):
            return
        if tag == "br":
            self.text.append(BREAK)
            return
        found = dict(attrs)
        classes = set((found.get("class") or "").split())
        if tag == "span" and self.after_span is not None and not "".join(self.text[self.after_span:]).strip():
            self.text.append(" · ")  # side-by-side spans (badges, the meta line) read as a list
        if tag in VOID:
            return
        if "page-break" in classes and self.table is None:
            self._flush()
            self.blocks.append(Block("break", section=self._section()))
        if tag in BLOCKS or tag in ("tr", "td", "th"):
            self._flush(self._kind())
        self.stack.append((tag, classes, found.get("id") or ""))
        self._open(tag, classes)

    def _open(self, tag: str, classes: set) -> None:
        if tag == "table" and self.table is None:
            self.table = Block("table", section=self._section(), classes=frozenset(classes))
        elif tag == "tr" and self.table is not None:
            self.row, self.row_flags = [], []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
            self.cell_flag = "num" if "num" in classes else "th" if tag == "th" and not self.header_row else ""
        elif "grid" in classes and self.table is None:
            self.grid_depth = len(self.stack)
            self.table, self.row, self.row_flags = Block("cards", section=self._section(), classes=frozenset(classes)), [], []
        elif "card" in classes and self.grid_depth and self.row is not None:
            self.cell, self.cell_flag = [], ""
        elif "callout" in classes and self.table is None and self.callout is None:
            self.callout, self.callout_depth = [], len(self.stack)
        if tag == "thead":
            self.header_row = True

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and tag not in SKIPPED and self.skipping is None:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self.skip = max(0, self.skip - 1)
            return
        if self.skipping is not None:
            if tag == self.skipping[0]:
                depth = self.skipping[1] - 1
                self.skipping = (tag, depth) if depth else None
            return
        if self.skip or not any(open_tag == tag for open_tag, _, _ in self.stack):
            return
        self.after_span = len(self.text) if tag == "span" else None
        while self.stack:
            open_tag, classes, _ = self.stack.pop()
            self._close(open_tag, classes)
            if open_tag == tag:
                break

    def _kind(self) -> str:
        tag = self.stack[-1][0] if self.stack else "p"
        return tag if tag in HEADINGS else "p"

    def _close(self, tag: str, classes: set) -> None:
        if tag in BLOCKS or tag in ("tr", "td", "th"):
            if "badges" in classes and self.table is None and self.callout is None:
                self._flush("badges")
            self._flush(tag if tag in HEADINGS else "p")
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
        elif self.callout is not None and len(self.stack) + 1 == self.callout_depth:
            text = "\n".join(self.callout)
            self.callout = None
            if text:
                self.blocks.append(Block("callout", text, section=self._section(), classes=frozenset(classes)))

    def _end_cell(self) -> None:
        if self.cell is not None and self.row is not None:
            self.row.append("\n".join(self.cell))
            self.row_flags.append(self.cell_flag)
        self.cell = None

    def _end_row(self) -> None:
        if self.row and self.table is not None:
            self.table.rows.append((self.header_row, self.row))
            self.table.flags.append(self.row_flags)
        self.row, self.row_flags = None, None

    def _end_table(self) -> None:
        if self.table is not None and self.table.rows:
            self.blocks.append(self.table)
        self.table, self.row, self.cell = None, None, None

    def close(self) -> None:
        super().close()
        while self.stack:
            self._close(*self.stack.pop()[:2])
        self._flush()


def read_blocks(html: str, *, skip: frozenset | set = frozenset()) -> list[Block]:
    """The blocks of an HTML page, in order (the `<head>`, styles and SVG left out, and any element whose
    id, or `tag.class`, is in `skip`)."""
    reader = _Reader(frozenset(skip))
    reader.feed(html)
    reader.close()
    return reader.blocks
