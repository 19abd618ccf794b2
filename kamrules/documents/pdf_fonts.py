"""The shipped font, read once per process and subset once per run, so a PDF costs its layout and not
the font's 49,531 glyphs (`evaluate --pdf`).

fpdf2 reads the whole font for every document (`add_font`: the character map, widths and glyph table,
~0.17 s for WenQuanYi Micro Hei) and, when the document is saved, subsets that parsed copy in place
(~0.1 s more, most of it decompiling the tables of every glyph). Here:

- `add_body_font(doc)` gives each document its own copy of a font object read once per process: the
  read-only parts (character map, widths, glyph ids, descriptor) are shared; what a document changes
  (the glyphs it used, their codes) is its own.
- `prepare(texts)` subsets the font once to every character the run's documents can use (the
  *working font*: a few thousand glyphs for a Chinese portfolio, glyph names kept), and
  `subset_source(doc)` hands each document, just before it is saved, a fresh parse of that small font
  to subset instead of the full one; without a working font, or for a document using a character
  outside it, the full font, as fpdf2 would.

The bytes are the same either way: subsetting keeps the glyphs' order, names, outlines and the character
map of every kept glyph, so a subset of the working font is the subset of the full font
(`tests/test_pdf.py` compares both paths byte for byte). Work forked from a process that prepared the
working font (`pdf.pdf_copies` with `--jobs`) inherits it.
"""

from __future__ import annotations

import io
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Iterable, Iterator

FAMILY = "body"
FONT = "wqy-microhei.ttf"
# The options fpdf2 subsets an embedded TrueType font with (fpdf/output.py `_add_fonts`); the working
# font must keep everything those keep, so it drops the same tables and nothing else.
DROPPED_TABLES = ["FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta", "sbix", "CBDT", "CBLC", "EBDT",
                  "EBLC", "EBSC", "SVG ", "CPAL", "COLR"]

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def font_path() -> str:
    return str(resources.files("kamrules.documents") / "fonts" / FONT)


@lru_cache(maxsize=1)
def _font_bytes() -> bytes:
    with open(font_path(), "rb") as file:
        return file.read()


@lru_cache(maxsize=1)
def _master():
    """fpdf2's font object for the shipped font, read once per process; None when this fpdf2 keeps its
    fonts otherwise (then every document reads the font itself, as `add_font` does)."""
    import fpdf
    from fpdf.fonts import TTFFont

    host = fpdf.FPDF()
    host.add_font(FAMILY, "", font_path())
    font = host.fonts.get(FAMILY)
    expected = ("ttfont", "cw", "cmap", "glyph_ids", "subset", "missing_glyphs", "biggest_size_pt", "i")
    if not isinstance(font, TTFFont) or not all(hasattr(font, name) for name in expected):
        return None
    if getattr(font, "color_font", None) is not None:
        return None
    return font


@lru_cache(maxsize=1)
def characters() -> frozenset:
    """The code points the font has a glyph for."""
    master = _master()
    if master is not None:
        return frozenset(master.cmap)
    from fontTools import ttLib

    return frozenset(ttLib.TTFont(font_path(), lazy=True).getBestCmap())


_plain = False  # True inside `plain_fpdf2()`


@contextmanager
def plain_fpdf2() -> Iterator[None]:
    """Within this block every document reads and subsets the full font itself and measures every text
    afresh, as fpdf2 alone does: the reference the shared font and layout are checked against, byte
    for byte (tests, `benchmarks/bench_pdf.py --stages`)."""
    global _plain
    before, _plain = _plain, True
    try:
        yield
    finally:
        _plain = before


def shared() -> bool:
    """Whether documents share the font read once and the layout measured once (not `plain_fpdf2()`)."""
    return not _plain


def add_body_font(doc) -> None:
    """`doc.add_font(FAMILY, "", font_path())`, without reading the font again."""
    master = _master() if shared() else None
    if master is None or FAMILY in doc.fonts:
        doc.add_font(FAMILY, "", font_path())
        return
    import copy

    from fpdf.fonts import SubsetMap

    font = copy.copy(master)  # shares the character map, widths and glyph ids (only read)
    font.__class__ = _fast_font_class()
    font.i = len(doc.fonts) + 1
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font.subset = SubsetMap(font)  # the glyphs this document uses, in the order it used them
    doc.fonts[FAMILY] = font


@lru_cache(maxsize=1)
def _fast_font_class():
    from fpdf.fonts import TTFFont

    class FastWidths(TTFFont):
        """fpdf2's font with text widths summed in C: its line breaking asks for the width of the line so
        far at every character (most of the time a PDF took). The same integer sum, so the same
        widths."""

        __slots__ = ()

        def __deepcopy__(self, memo):
            """fpdf2 deep-copies a document to measure a part before drawing it (`offset_rendering`,
            the report's summary pages): share the read-only tables (34,600 widths and glyph ids,
            copied each time before), copy what a document changes."""
            import copy

            twin = type(self).__new__(type(self))
            memo[id(self)] = twin
            for name in TTFFont.__slots__:
                if hasattr(self, name):
                    setattr(twin, name, getattr(self, name))
            twin.missing_glyphs = list(self.missing_glyphs)
            twin.subset = copy.deepcopy(self.subset, memo)
            return twin

        def get_text_width(self, text, font_size_pt, text_shaping_params):
            if text_shaping_params or self.is_symbol:
                return super().get_text_width(text, font_size_pt, text_shaping_params)
            if font_size_pt > self.biggest_size_pt:
                self.biggest_size_pt = font_size_pt
            return len(text), sum(map(self.cw.__getitem__, map(ord, text))) * font_size_pt * 0.001

    return FastWidths


# ------------------------------------------------------------------------------------ the working font


@dataclass(frozen=True)
class WorkingFont:
    """The shipped font subset to `glyphs` (glyph names), as TrueType bytes, and its simple glyphs
    (outlines, not built from other glyphs) parsed and compiled once, for every document to share."""

    data: bytes
    glyphs: frozenset
    outlines: dict
    tables: dict  # tag -> the working font's table, decompiled once (`_shared_tables`)

    def covers(self, names: Iterable[str]) -> bool:
        return all(name in self.glyphs for name in names)


_working: WorkingFont | None = None
misses = 0  # documents that needed the full font although a working font was prepared (see `subset_source`)


def prepare(texts: Iterable[str]) -> WorkingFont | None:
    """Make the working font for documents whose text comes from `texts` (their HTML, the words the
    PDF adds): the glyphs of every character in them that the font has. Kept for this process (and
    the workers it forks) until `release()`."""
    global _working
    master = _master() if shared() else None
    if master is None:
        return None
    chars: set[str] = set()
    for text in texts:
        chars.update(text)
    cmap = master.cmap
    names = {cmap[code] for code in map(ord, chars) if code in cmap}
    if _working is not None and _working.covers(names):
        return _working
    if _working is not None:
        names |= _working.glyphs
    data = _subset_full_font(sorted(names), _take_parsed_font(master))
    _working = WorkingFont(data, frozenset(names), _shared_outlines(data), _shared_tables(data))
    return _working


def release() -> None:
    """Forget the working font (the next run prepares its own)."""
    global _working
    _working = None


def _take_parsed_font(master):
    """The whole font as `_master()` parsed it (its tables mostly read already: subsetting it takes a
    third of the time a fresh parse takes), once; None after. The master keeps a fresh, unread parse
    (documents never use it: `subset_source` hands each its own)."""
    from fontTools import ttLib

    global _parsed_taken_from
    if _parsed_taken_from is master:
        return None
    _parsed_taken_from = master
    parsed = master.ttfont
    master.ttfont = ttLib.TTFont(io.BytesIO(_font_bytes()), recalcTimestamp=False, lazy=True)
    return parsed


_parsed_taken_from = None  # the master whose own parse was subset


def _subset_full_font(names: list[str], font=None) -> bytes:
    """The whole font subset to the glyphs `names` (`font`: a parse of it to subset in place)."""
    from fontTools import subset as ftsubset
    from fontTools import ttLib

    if font is None:
        font = ttLib.TTFont(io.BytesIO(_font_bytes()), recalcTimestamp=False, lazy=True)
    options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True)
    options.drop_tables += DROPPED_TABLES
    options.glyph_names = True  # fpdf2 finds each used glyph by its name in the font it subsets
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(glyphs=names)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _shared_outlines(data: bytes) -> dict:
    """The simple glyphs of the font in `data`, each parsed, bounded and compiled once: saving a subset
    otherwise does that again for every glyph of every document (most of the time a Chinese PDF took
    to save). Composite glyphs (most CJK ideographs here: a few components placed) stay per document:
    their bytes name their components by position in that document's subset."""
    from fontTools import ttLib

    font = ttLib.TTFont(io.BytesIO(data), recalcTimestamp=False, lazy=True)
    table = font["glyf"]
    optimize_size = not font.cfg[ttLib.OPTIMIZE_FONT_SPEED]  # what glyf.compile passes
    shared = _shared_outline_class()
    outlines = {}
    for name in font.getGlyphOrder():
        glyph = table[name]
        if glyph.isComposite():
            continue
        compiled = glyph.compile(table, True, boundsDone=set(), optimizeSize=optimize_size)
        glyph.__class__ = shared
        glyph.compiled = (optimize_size, compiled)
        outlines[name] = glyph
    return outlines


SHARED_TABLES = ("cmap", "hmtx", "vmtx")  # decompiled once per run, not once per document


def _shared_tables(data: bytes) -> dict:
    """The working font's character map and metrics, decompiled once: every document's subset reads
    them (a third of the time a Chinese PDF took to save). Subsetting never changes them in place (it
    gives the document's copy new dicts, `_table_copy`), so one decompiled table serves every document."""
    from fontTools import ttLib

    font = ttLib.TTFont(io.BytesIO(data), recalcTimestamp=False, lazy=True)
    tables = {}
    for tag in SHARED_TABLES:
        if tag in font:
            table = font[tag]
            if hasattr(table, "ensureDecompiled"):  # cmap subtables decompile when first read
                table.ensureDecompiled()
            tables[tag] = table
    return tables


def _table_copy(table):
    """A document's own copy of a shared table: its own objects, sharing the decompiled dicts that
    subsetting replaces rather than changes (a metrics table's `metrics`, a cmap subtable's `cmap`)."""
    import copy

    twin = copy.copy(table)
    if hasattr(table, "tables"):  # cmap: its subtables, each copied (subsetting sets their dicts)
        twin.tables = [copy.copy(subtable) for subtable in table.tables]
    return twin


@lru_cache(maxsize=1)
def _shared_outline_class():
    from fontTools.ttLib.tables._g_l_y_f import Glyph

    class SharedOutline(Glyph):
        """A simple glyph of the working font, shared by every document's subset: its bounds and its
        compiled bytes depend on its own points only, so they are computed once."""

        def recalcBounds(self, glyfTable, *, boundsDone=None):
            return  # computed when the working font was parsed (compile below did it)

        def compile(self, glyfTable, recalcBBoxes=True, *, boundsDone=None, optimizeSize=True):
            optimized, data = self.compiled
            if recalcBBoxes and optimizeSize == optimized:
                return data
            return super().compile(glyfTable, recalcBBoxes, boundsDone=boundsDone, optimizeSize=optimizeSize)

    return SharedOutline


def subset_source(doc) -> None:
    """Just before `doc.output()`: give the document's font a fresh parse to subset (fpdf2 subsets it in
    place) — the working font when it has every glyph the document used, else the full font."""
    from fontTools import ttLib

    font = doc.fonts.get(FAMILY)
    master = _master() if shared() else None
    if master is None or font is None or font is master or not hasattr(font, "subset"):
        return
    global misses
    working = _working
    if working is not None and working.covers(font.subset.get_all_glyph_names()):
        font.ttfont = ttLib.TTFont(io.BytesIO(working.data), recalcTimestamp=False, lazy=True)
        table = font.ttfont["glyf"]
        table.glyphs = {name: working.outlines.get(name, glyph) for name, glyph in table.glyphs.items()}
        for tag, shared_table in working.tables.items():
            font.ttfont.tables[tag] = _table_copy(shared_table)
        return
    if working is not None:
        misses += 1
        log.debug("a PDF uses a character outside the working font: subset from the full font")
    font.ttfont = ttLib.TTFont(io.BytesIO(_font_bytes()), recalcTimestamp=False, lazy=True)
