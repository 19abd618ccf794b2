"""Line breaking for the PDFs: fpdf2's own rules, without fpdf2's cost.

fpdf2 breaks a text (`multi_cell`) one character at a time and, at every character, measures the whole
line so far again: most of the time a playbook PDF took. `break_text` applies the same rules in one
scan of the text with the widths added as it goes, for what the PDFs set: one font and size, no
Markdown, no soft hyphens, form feeds or page-number aliases, no text shaping, no letter spacing (any
of these: None, and the caller asks fpdf2). It gives the lines fpdf2's `MultiLineBreak` gives, with
the same widths, counts of spaces, alignments and heights (`tests/test_pdf.py` compares both on
random texts and widths), so `Document` can cache them per text and width and set a block with
fpdf2's own line renderer, byte for byte what `multi_cell` writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from fpdf.enums import Align, CharVPos, WrapMode
from fpdf.errors import FPDFException
from fpdf.line_break import (
    BREAKING_SPACE_SYMBOLS_STR,
    FORM_FEED,
    NBSP,
    NEWLINE,
    SOFT_HYPHEN,
    SPACE,
    Fragment,
    TextLine,
)
from fpdf.util import FloatTolerance

TOO_NARROW = "Not enough horizontal space to render a single character"


@dataclass(frozen=True)
class Line:
    """One line as fpdf2 breaks it, before it is bound to a document's type: its characters, their
    width in font units (1/1000 em), its spaces (fpdf2's count, for justifying), how it ended."""

    text: str
    units: int
    spaces: int
    fragment: bool  # fpdf2 opened a text fragment for it (a character was added, even if trimmed away)
    justified: bool  # ends inside a paragraph (a justified block justifies it); else left aligned
    newline: bool  # ended by "\n"
    height: bool  # fpdf2 gave it the type's height (it read a character), else 0


def plain(doc, text: str) -> bool:
    """Whether `break_text` applies to `text` in `doc`'s current type (else fpdf2 breaks it)."""
    return (doc.is_ttf_font and not doc.text_shaping and not doc._fallback_font_ids and doc.char_spacing == 0
            and doc.font_stretching == 100 and doc.char_vpos == CharVPos.LINE
            and not getattr(doc.current_font, "is_symbol", False)
            and SOFT_HYPHEN not in text and FORM_FEED not in text
            and not (doc.str_alias_nb_pages and doc.str_alias_nb_pages in text))


def break_text(text: str, max_width: float, widths, size_pt: float, k: float, char_wrap: bool) -> list[Line]:
    """The lines of `text` in `max_width` (document units), as fpdf2's `MultiLineBreak` makes them for one
    fragment: `widths` maps code points to font units (fpdf2's `cw`), `size_pt` the type size, `k` the
    document's points per unit. Raises fpdf2's FPDFException when a character is wider than the line
    (fpdf2 does when wrapping words; wrapping characters it would return empty lines forever)."""
    def width(units: int) -> float:  # fpdf2: Fragment.get_width
        return units * size_pt * 0.001 / k

    greater = FloatTolerance.greater_than
    lines: list[Line] = []
    index, count = 0, len(text)
    last_forced: int | None = None
    while index < count:
        forced_before, last_forced = last_forced, None
        chars: list[str] = []
        units = spaces = 0
        opened = False
        hint: tuple[int, int, int] | None = None  # (index in text, characters kept, spaces before it)
        line: Line | None = None
        while index < count:
            char = text[index]
            char_width = width(widths[ord(char)])
            if char == NEWLINE:
                index += 1
                line = Line("".join(chars), units, spaces, opened, False, True, True)
                break
            if greater(width(units) + char_width, max_width):
                if char in BREAKING_SPACE_SYMBOLS_STR:
                    index += 1
                    line = Line("".join(chars), units, spaces, opened, True, False, opened)
                elif char_wrap:
                    if not opened:  # fpdf2 would return this empty line forever
                        raise FPDFException(TOO_NARROW)
                    while chars and chars[-1] == SPACE:
                        units -= widths[ord(chars.pop())]
                    line = Line("".join(chars), units, spaces, opened and bool(chars), True, False, opened)
                elif hint is not None:
                    at, kept, spaces = hint
                    del chars[kept:]
                    units = sum(widths[ord(c)] for c in chars)
                    index = at + 1
                    line = Line("".join(chars), units, spaces, True, True, False, True)
                else:
                    if forced_before == index:
                        raise FPDFException(TOO_NARROW)
                    last_forced = index
                    line = Line("".join(chars), units, spaces, opened, False, False, opened)
                break
            opened = True
            if char in BREAKING_SPACE_SYMBOLS_STR:
                hint = (index, len(chars), spaces)
                spaces += 1
            elif char == NBSP:
                char = SPACE  # fpdf2 sets a no-break space as a space (counted for justifying)
                spaces += 1
            chars.append(char)
            units += widths[ord(char)]
            index += 1
        if line is None:  # the end of the text: a last line if it has any width
            if not width(units):
                break
            line = Line("".join(chars), units, spaces, opened, False, False, opened)
        lines.append(line)
    return lines


def text_lines(doc, lines: list[Line], max_width: float, align: Align, height: float) -> list[TextLine]:
    """`lines` bound to `doc`'s current type, as the TextLines `multi_cell` renders (one shared graphics
    state, as fpdf2's fragments share their original's). No lines: the empty line fpdf2 renders."""
    if not lines:
        return [TextLine([], text_width=0, number_of_spaces=0, align=align, height=height, max_width=max_width,
                         trailing_nl=False)]
    state = doc._get_current_graphics_state()
    size_pt, k, font_height = doc.font_size_pt, doc.k, doc.font_size
    bound = []
    for line in lines:
        fragments = [Fragment(list(line.text), state, k)] if line.fragment else []
        text_width = line.units * size_pt * 0.001 / k if fragments else 0
        line_align = align if line.justified or align != Align.J else Align.L
        bound.append(TextLine(fragments, text_width=text_width, number_of_spaces=line.spaces, align=line_align,
                              height=font_height * 1.0 if line.height else 0, max_width=max_width,
                              trailing_nl=line.newline))
    return bound


def wrap_mode(mode) -> bool:
    """True for character wrapping (Chinese), False for word wrapping."""
    return WrapMode.coerce(mode) == WrapMode.CHAR
